// ChangeLog, the store's memory of its commits for Reader::ChangesSince: the oldest minute
// committed after a cursor, and kUnknown for cursors it cannot answer for.
#include "store/changes.h"

#include <gtest/gtest.h>

#include "store/store.h"

namespace nines::store::internal {
namespace {

constexpr int64_t kMin = 60'000;
constexpr int64_t kT0 = 1'700'000'040'000;  // a whole minute

TEST(ChangeLogTest, AnswersTheOldestMinuteCommittedAfterTheCursor) {
  ChangeLog log;
  EXPECT_EQ(log.last_commit(), 0u);
  EXPECT_EQ(log.OldestSince(0), StoreChanges::kNothingAppended);
  log.NoteCommit(kT0 + 10 * kMin + 5);  // commit 1
  log.NoteCommit(kT0 + 3 * kMin);       // commit 2: older
  log.NoteCommit(kT0 + 7 * kMin + 59'999);  // commit 3
  EXPECT_EQ(log.last_commit(), 3u);
  EXPECT_EQ(log.OldestSince(0), kT0 + 3 * kMin);  // the minute, not the sample's time
  EXPECT_EQ(log.OldestSince(1), kT0 + 3 * kMin);
  EXPECT_EQ(log.OldestSince(2), kT0 + 7 * kMin);
  EXPECT_EQ(log.OldestSince(3), StoreChanges::kNothingAppended);
  EXPECT_EQ(log.OldestSince(4), StoreChanges::kUnknown);  // not a commit of this log
}

TEST(ChangeLogTest, NegativeTimesRoundDownToTheirMinute) {
  ChangeLog log;
  log.NoteCommit(-1);
  EXPECT_EQ(log.OldestSince(0), -kMin);
}

TEST(ChangeLogTest, ForgetsTheOldestCommitsBeyondItsBound) {
  ChangeLog log;
  // In-order data: one entry per minute, so the bound is reached.
  for (size_t i = 0; i <= ChangeLog::kMaxEntries; ++i) {
    log.NoteCommit(kT0 + static_cast<int64_t>(i) * kMin);
  }
  EXPECT_EQ(log.OldestSince(0), StoreChanges::kUnknown);  // forgotten
  EXPECT_EQ(log.OldestSince(1), kT0 + kMin);              // the first one still remembered
  EXPECT_EQ(log.OldestSince(log.last_commit()), StoreChanges::kNothingAppended);
}

}  // namespace
}  // namespace nines::store::internal
