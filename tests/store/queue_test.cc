// DurableQueue: order, acknowledgement, the disk budget, recovery after reopen, and pushed records
// surviving kill -9.
#include "store/queue.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <string>
#include <thread>

#include "tests/testutil/testutil.h"

namespace nines::store {
namespace {

std::unique_ptr<DurableQueue> Open(const std::string& dir, int64_t max_bytes = 1 << 20) {
  DurableQueueOptions options;
  options.dir = dir;
  options.max_bytes = max_bytes;
  auto q = OpenDurableQueue(options);
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  return q.ok() ? std::move(*q) : nullptr;
}

std::vector<std::string> Data(const std::vector<QueueRecord>& records) {
  std::vector<std::string> out;
  for (const QueueRecord& r : records) out.push_back(r.data);
  return out;
}

TEST(DurableQueueTest, PeeksInOrderAndAckRemovesThePrefix) {
  testutil::TempDir dir;
  auto q = Open(dir.File("q"));
  for (const char* s : {"a", "bb", "ccc", "dddd"}) ASSERT_TRUE(q->Push(s).ok());
  auto peek = q->Peek(3, 1 << 20);
  ASSERT_TRUE(peek.ok());
  EXPECT_EQ(Data(*peek), (std::vector<std::string>{"a", "bb", "ccc"}));
  EXPECT_EQ((*peek)[0].seq, 1u);
  EXPECT_EQ((*peek)[2].seq, 3u);
  // Peek does not remove.
  EXPECT_EQ(Data(*q->Peek(1, 1 << 20)), (std::vector<std::string>{"a"}));
  ASSERT_TRUE(q->Ack(2).ok());
  EXPECT_EQ(Data(*q->Peek(10, 1 << 20)), (std::vector<std::string>{"ccc", "dddd"}));
  QueueStats s = q->Stats();
  EXPECT_EQ(s.records, 2u);
  EXPECT_EQ(s.bytes, 7);
  EXPECT_EQ(s.first_seq, 3u);
  EXPECT_EQ(s.last_seq, 4u);
}

TEST(DurableQueueTest, PeekStopsAtTheByteLimitButReturnsAtLeastOne) {
  testutil::TempDir dir;
  auto q = Open(dir.File("q"));
  ASSERT_TRUE(q->Push(std::string(100, 'x')).ok());
  ASSERT_TRUE(q->Push(std::string(100, 'y')).ok());
  EXPECT_EQ(q->Peek(10, 150)->size(), 1u);
  EXPECT_EQ(q->Peek(10, 10)->size(), 1u);
  EXPECT_EQ(q->Peek(10, 200)->size(), 2u);
}

TEST(DurableQueueTest, RecordsAndSequenceSurviveReopen) {
  testutil::TempDir dir;
  {
    auto q = Open(dir.File("q"));
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(q->Push("r" + std::to_string(i)).ok());
    ASSERT_TRUE(q->Ack(5).ok());  // empty now, but the sequence must keep growing
    ASSERT_TRUE(q->Push("after").ok());
  }
  auto q = Open(dir.File("q"));
  auto peek = q->Peek(10, 1 << 20);
  ASSERT_EQ(peek->size(), 1u);
  EXPECT_EQ((*peek)[0].seq, 6u);
  EXPECT_EQ((*peek)[0].data, "after");
  EXPECT_EQ(*q->Push("next"), 7u);
}

TEST(DurableQueueTest, OverBudgetDropsTheOldestAndCountsThem) {
  testutil::TempDir dir;
  prometheus::Registry registry;
  DurableQueueOptions options;
  options.dir = dir.File("q");
  options.max_bytes = 1000;
  options.registry = &registry;
  auto q = std::move(*OpenDurableQueue(options));
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(q->Push(std::string(100, static_cast<char>('a' + i))).ok());
  QueueStats s = q->Stats();
  EXPECT_EQ(s.records, 10u);
  EXPECT_EQ(s.bytes, 1000);
  EXPECT_EQ(s.dropped_records, 15u);
  EXPECT_EQ(s.dropped_bytes, 1500);
  auto peek = q->Peek(100, 1 << 20);
  EXPECT_EQ(peek->front().seq, 16u);
  EXPECT_EQ(peek->front().data, std::string(100, 'p'));
  EXPECT_EQ(peek->back().seq, 25u);
  // Acknowledging something already dropped is harmless.
  EXPECT_TRUE(q->Ack(3).ok());
  EXPECT_EQ(q->Stats().records, 10u);
  EXPECT_EQ(testutil::MetricValue(registry, "nines_queue_dropped_records_total"), 15);
  EXPECT_EQ(testutil::MetricValue(registry, "nines_queue_records"), 10);
  // A single record larger than the whole budget is refused, not a reason to drop everything.
  EXPECT_EQ(q->Push(std::string(1001, 'z')).status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(q->Stats().records, 10u);
}

TEST(DurableQueueTest, RejectsEmptyRecordsAndASecondOpener) {
  testutil::TempDir dir;
  auto q = Open(dir.File("q"));
  EXPECT_EQ(q->Push("").status().code(), core::StatusCode::kInvalidArgument);
  DurableQueueOptions options;
  options.dir = dir.File("q");
  EXPECT_EQ(OpenDurableQueue(options).status().code(), core::StatusCode::kFailedPrecondition);
}

TEST(DurableQueueTest, WaitWakesOnPushAndOnClose) {
  testutil::TempDir dir;
  auto q = Open(dir.File("q"));
  EXPECT_FALSE(q->WaitForRecords(core::Duration::Milliseconds(1)));
  std::thread producer([&] { ASSERT_TRUE(q->Push("x").ok()); });
  EXPECT_TRUE(q->WaitForRecords(core::Duration::Seconds(30)));
  producer.join();
  ASSERT_TRUE(q->Ack(1).ok());
  std::thread closer([&] { q->Close(); });
  EXPECT_FALSE(q->WaitForRecords(core::Duration::Seconds(30)));
  closer.join();
  EXPECT_EQ(q->Push("late").status().code(), core::StatusCode::kFailedPrecondition);
}

// A child pushes numbered records and reports each durable Push on a pipe; the parent kills it
// with SIGKILL at a random point. After reopening, every reported record is there, in order, and
// at most the one in flight beyond it.
TEST(DurableQueueTest, PushedRecordsSurviveKill9) {
  testutil::TempDir dir;
  const std::string path = dir.File("q");
  std::mt19937_64 rng(7);
  uint64_t acked = 0;
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      DurableQueueOptions options;
      options.dir = path;
      auto q = OpenDurableQueue(options);
      if (!q.ok()) _exit(3);
      for (;;) {
        uint64_t next = (*q)->Stats().last_seq + 1;
        auto seq = (*q)->Push("record-" + std::to_string(next));
        if (!seq.ok() || *seq != next) _exit(4);
        if (write(fds[1], &next, sizeof(next)) != sizeof(next)) _exit(5);
      }
    }
    close(fds[1]);
    int want = 10 + static_cast<int>(rng() % 300);
    for (int i = 0; i < want; ++i) {
      ASSERT_EQ(read(fds[0], &acked, sizeof(acked)), static_cast<ssize_t>(sizeof(acked)));
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    uint64_t b;
    while (read(fds[0], &b, sizeof(b)) == static_cast<ssize_t>(sizeof(b))) acked = b;
    close(fds[0]);

    auto q = Open(path);
    auto all = q->Peek(1'000'000, int64_t{1} << 40);
    ASSERT_TRUE(all.ok());
    ASSERT_GE(all->size(), acked) << "round " << round;
    ASSERT_LE(all->size(), acked + 1) << "round " << round;
    for (size_t i = 0; i < all->size(); ++i) {
      ASSERT_EQ((*all)[i].seq, i + 1);
      ASSERT_EQ((*all)[i].data, "record-" + std::to_string(i + 1));
    }
    acked = all->size();
  }
}

}  // namespace
}  // namespace nines::store
