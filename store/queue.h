// DurableQueue: a FIFO of byte records on disk (RocksDB), for the regional agent's "measure now,
// send when the engine is reachable" path. A record pushed is durable once Push returns (RocksDB's
// WAL: it survives kill -9; with sync on, power loss too), and leaves the queue only when the
// consumer acknowledges it, so a crash between send and ack re-sends it (at least once; the
// store's idempotent duplicates make that exactly once in the data).
//
// Records get consecutive sequence numbers from 1; the queue keeps them in order. When the bytes
// held exceed max_bytes, the oldest records are dropped, counted and logged (a bounded disk budget
// beats a full disk).
//
// Thread-safety: thread-safe. Typically one or more producers Push and one consumer calls
// Peek/Ack. WaitForRecords lets the consumer sleep until something arrives.
#ifndef NINES_STORE_QUEUE_H_
#define NINES_STORE_QUEUE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace nines::store {

struct DurableQueueOptions {
  std::string dir;  // REQUIRED: created if missing; one queue per directory (locked)
  // Disk budget for queued record bytes (keys and RocksDB overhead not counted). Past it, the
  // oldest records are dropped.
  int64_t max_bytes = int64_t{1} << 30;
  // fsync every Push (survives power loss); otherwise Push survives kill -9.
  bool sync = false;
  // Metrics (nines_queue_*) are registered here when not null, with the constant label
  // queue=<name>.
  prometheus::Registry* registry = nullptr;
  std::string name = "agent";
};

struct QueueRecord {
  uint64_t seq = 0;
  std::string data;
};

struct QueueStats {
  uint64_t records = 0;         // queued now
  int64_t bytes = 0;            // record bytes queued now
  uint64_t first_seq = 0;       // oldest queued (0 when empty)
  uint64_t last_seq = 0;        // newest ever pushed (0 before the first push)
  uint64_t dropped_records = 0; // dropped for the disk budget since open
  int64_t dropped_bytes = 0;
};

class DurableQueue {
 public:
  virtual ~DurableQueue() = default;

  // Appends one record; returns its sequence number once durable.
  // Errors: INVALID_ARGUMENT for an empty record or one larger than max_bytes; UNAVAILABLE or
  // INTERNAL when RocksDB fails.
  virtual core::Result<uint64_t> Push(std::string_view data) = 0;

  // Up to `max_records` of the oldest records, in order, whose total size stays within
  // `max_bytes` (but at least one record when any is queued). Does not remove them.
  virtual core::Result<std::vector<QueueRecord>> Peek(size_t max_records, int64_t max_bytes) = 0;

  // Removes every record with seq <= `seq` (records already dropped are ignored).
  virtual core::Status Ack(uint64_t seq) = 0;

  // Blocks until a record is queued, `timeout` passes (measured by a real steady clock: this is a
  // wait, not a time the logic depends on) or Close() is called. Returns true when records are
  // queued.
  virtual bool WaitForRecords(core::Duration timeout) = 0;

  virtual QueueStats Stats() const = 0;

  // Wakes waiters; later Push calls fail with FAILED_PRECONDITION. Idempotent.
  virtual void Close() = 0;
};

// Opens (creating if needed) the queue in options.dir, recovering what a previous process left.
// Errors: FAILED_PRECONDITION when another process holds the directory; DATA_LOSS on corruption.
core::Result<std::unique_ptr<DurableQueue>> OpenDurableQueue(DurableQueueOptions options);

}  // namespace nines::store

#endif  // NINES_STORE_QUEUE_H_
