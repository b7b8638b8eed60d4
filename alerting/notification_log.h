// alerting/notification_log.h: what each receiver integration was last told about each
// aggregation group (Alertmanager's notification log, "nflog").
//
// The Dispatcher reads it to decide whether a group needs a notification (Alertmanager's
// DedupStage); the delivery side writes it once a notification was delivered (its
// SetNotifiesStage), so the log never claims a send that did not happen. An entry expires
// 2 x repeat_interval after it was written, as in Alertmanager.
//
//  - MemoryNotificationLog: in memory (tests, a stateless setup).
//  - FileNotificationLog: the same, and every Put appended to a file (one line per entry with its
//    own checksum, one write(2) to the page cache) before it returns, so an entry that was
//    acknowledged survives kill -9. With `sync`, a thread of its own fdatasyncs the file after
//    each batch of Puts, holding no lock meanwhile (a Put or Get never waits for an fsync, and
//    many records share one fsync): a power loss may lose the last few milliseconds of
//    records, each costing at most one repeated notification; Sync() waits for it. The file is
//    compacted (rewritten atomically with the live entries) when opened and by Collect when it
//    has grown to several times the live entries, never by Put; the rewrite and its fsyncs run
//    without the locks (Puts meanwhile also go to the new file before it replaces the old).
//    A torn or corrupt line (a crash mid-append, a damaged disk) is skipped; the file
//    is then set aside as "<file>.corrupt" with a logged error and the entries that passed their
//    checksums are kept (a lost entry costs at most one repeated notification).
//
// File format (text; fields tab-separated and escaped as core/state_file.h says):
//   nines-nflog<TAB>1<TAB>CHECKSUM
//   entry<TAB>GROUP_KEY<TAB>RECEIVER<TAB>INDEX<TAB>AT<TAB>EXPIRES_AT<TAB>N<TAB>FP*N<TAB>M<TAB>FP*M
//        <TAB>CHECKSUM
// times in Unix nanoseconds, N firing then M resolved fingerprints (16 hex digits), CHECKSUM the
// Hash64 (16 hex digits) of the line before it. The latest line of a key wins.
//
// Thread-safety: both implementations are thread-safe (delivery threads Put while the
// dispatcher's thread Gets).
#ifndef NINES_ALERTING_NOTIFICATION_LOG_H_
#define NINES_ALERTING_NOTIFICATION_LOG_H_

#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "alerting/alerting.h"
#include "core/status.h"
#include "core/time.h"

namespace nines::alerting {

struct Notification;

// What an integration was told of a group.
struct NotificationLogEntry {
  std::set<Fingerprint> firing;    // the firing alerts it was told of
  std::set<Fingerprint> resolved;  // the resolved alerts of that notification
  core::Timestamp at;              // when it was delivered
  core::Timestamp expires_at;      // at + 2 x repeat_interval

  friend bool operator==(const NotificationLogEntry&, const NotificationLogEntry&) = default;
};

// (group key, receiver, integration index): one integration's record of one group.
struct NotificationLogKey {
  std::string group_key;
  std::string receiver;
  size_t integration = 0;
  friend auto operator<=>(const NotificationLogKey&, const NotificationLogKey&) = default;
};

class NotificationLog {
 public:
  virtual ~NotificationLog() = default;

  // The entry of `key`, or nullopt. An expired entry may still be returned until Collect drops
  // it: callers compare expires_at with their `now`.
  virtual std::optional<NotificationLogEntry> Get(const NotificationLogKey& key) const = 0;

  // Replaces the entry of `key`. Errors: UNAVAILABLE when the durable log cannot write it (the
  // in-memory entry is set anyway, so this process does not re-send; a restart may, once).
  virtual core::Status Put(const NotificationLogKey& key, NotificationLogEntry entry) = 0;

  // Drops the entries expired at `now` (and may compact a file). Errors: as Put.
  virtual core::Status Collect(core::Timestamp now) = 0;

  // The number of entries held (expired ones not yet collected included).
  virtual size_t size() const = 0;

  // Records that `n` was delivered at `delivered_at`: Put of its key with the fingerprints of
  // its firing and resolved alerts, expiring delivered_at + 2 x n.repeat_interval.
  core::Status Record(const Notification& n, core::Timestamp delivered_at);
};

class MemoryNotificationLog : public NotificationLog {
 public:
  std::optional<NotificationLogEntry> Get(const NotificationLogKey& key) const override;
  core::Status Put(const NotificationLogKey& key, NotificationLogEntry entry) override;
  core::Status Collect(core::Timestamp now) override;
  size_t size() const override;

 private:
  mutable std::mutex mu_;
  std::map<NotificationLogKey, NotificationLogEntry> entries_;  // guarded by mu_
};

class FileNotificationLog final : public NotificationLog {
 public:
  // Opens (or creates) the log at `path`, dropping the entries expired at `now`, and compacts
  // it. A torn or corrupt file is handled as the file comment says (not an error).
  // Errors: UNAVAILABLE naming the path when it cannot be read or written; FAILED_PRECONDITION
  // when a newer nines wrote it (the file is left alone).
  static core::Result<std::unique_ptr<FileNotificationLog>> Open(std::string path, bool sync,
                                                                 core::Timestamp now);
  ~FileNotificationLog() override;

  std::optional<NotificationLogEntry> Get(const NotificationLogKey& key) const override;
  core::Status Put(const NotificationLogKey& key, NotificationLogEntry entry) override;
  core::Status Collect(core::Timestamp now) override;
  size_t size() const override;

  const std::string& path() const { return path_; }

  // With `sync`: fdatasyncs what was appended so far, now. Errors: UNAVAILABLE.
  core::Status Sync();

 private:
  FileNotificationLog(std::string path, bool sync);
  void SyncLoop();
  // A dup of fd_ to fdatasync outside file_mu_ (-1 when none); clears unsynced_.
  int DupForSyncLocked();
  // Rewrites the file with the live entries; the disk work runs without the locks.
  core::Status Compact();
  static core::Status WriteAll(int fd, std::string_view line, const std::string& path);

  const std::string path_;
  const bool sync_;
  // Lock order: file_mu_, then mu_. Neither is held across an fsync or a compaction's rewrite.
  mutable std::mutex mu_;
  std::map<NotificationLogKey, NotificationLogEntry> entries_;  // guarded by mu_
  std::mutex file_mu_;
  int fd_ = -1;                      // guarded by file_mu_; append only
  size_t lines_ = 0;                 // entry lines in the file, guarded by file_mu_
  bool compacting_ = false;          // guarded by file_mu_
  std::vector<std::string> pending_;  // lines Put while compacting_; guarded by file_mu_
  bool unsynced_ = false;            // appended since the last fdatasync; guarded by file_mu_
  bool stopping_ = false;            // guarded by file_mu_
  std::condition_variable sync_cv_;  // unsynced_ or stopping_ set
  std::thread syncer_;               // with sync_: runs SyncLoop
};

// One entry as a file line (sealed, newline included) and back; exposed for tests.
std::string EncodeNotificationLogLine(const NotificationLogKey& key,
                                      const NotificationLogEntry& entry);
// Errors: DATA_LOSS saying what is wrong with the (checksummed, newline-less) line.
core::Status DecodeNotificationLogLine(std::string_view line, NotificationLogKey* key,
                                       NotificationLogEntry* entry);

}  // namespace nines::alerting

#endif  // NINES_ALERTING_NOTIFICATION_LOG_H_
