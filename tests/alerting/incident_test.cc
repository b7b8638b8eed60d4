// Incidents (alerting/incident.h): a page opens one or joins the open one of its SLO and region;
// the timeline drives the status; the store survives a reopen and kill -9 of the process that
// wrote it, and refuses a corrupt file; MTTA and MTTR per service, region and week.
#include "alerting/incident.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/testutil/testutil.h"

namespace nines::alerting {
namespace {

using core::Duration;
using core::StatusCode;
using core::Timestamp;
using Kind = IncidentEvent::Kind;
using testutil::TempDir;

const Timestamp kT0 = *core::ParseTimestamp("2026-03-04T10:00:00Z");  // a Wednesday

IncidentPage Page(std::string region) {
  return {"checkout-availability", std::move(region), "checkout", "Checkout availability burn",
          "page"};
}

std::unique_ptr<IncidentStore> Open(const std::string& path) {
  auto store = IncidentStore::Open(path, false);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

TEST(IncidentTest, APageOpensAnIncidentOrJoinsTheOpenOneOfItsSloAndRegion) {
  auto store = Open("");
  auto a = store->Trigger(Page("eu-west-1"), kT0);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->id, "INC-1");
  EXPECT_TRUE(a->opened);
  auto joined = store->Trigger(Page("eu-west-1"), kT0 + Duration::Minutes(5));
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ(joined->id, "INC-1");
  EXPECT_FALSE(joined->opened);
  auto other = store->Trigger(Page("us-east-1"), kT0 + Duration::Minutes(6));
  EXPECT_EQ(other->id, "INC-2");
  ASSERT_TRUE(
      store->Record("INC-1", {kT0 + Duration::Minutes(30), Kind::kResolved, "", "", ""}).ok());
  auto again = store->Trigger(Page("eu-west-1"), kT0 + Duration::Hours(2));
  EXPECT_EQ(again->id, "INC-3");  // the old one is closed
  EXPECT_TRUE(again->opened);
  Incident inc = *store->Get("INC-1");
  EXPECT_EQ(inc.timeline.size(), 4u);  // triggered, severity, triggered again, resolved
  EXPECT_EQ(inc.severity(), "page");
  EXPECT_EQ(inc.service, "checkout");
  EXPECT_EQ(store->Trigger({"", "eu-west-1", "", "", ""}, kT0).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(IncidentTest, TheTimelineDrivesStatusAcknowledgementAndResolution) {
  auto store = Open("");
  std::string id = store->Trigger(Page("eu-west-1"), kT0)->id;
  auto at = [](int minutes) { return kT0 + Duration::Minutes(minutes); };
  ASSERT_TRUE(store->Record(id, {at(0), Kind::kNotified, "alice", "alice-phone", ""}).ok());
  ASSERT_TRUE(store->Record(id, {at(5), Kind::kEscalated, "", "step 2 of sre", ""}).ok());
  ASSERT_TRUE(store->Record(id, {at(7), Kind::kAcknowledged, "bob", "", ""}).ok());
  EXPECT_EQ(store->Record(id, {at(8), Kind::kAcknowledged, "alice", "", ""}).code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->Record(id, {at(9), Kind::kUnacknowledged, "bob", "", ""}).ok());
  EXPECT_EQ(store->Get(id)->status(), IncidentStatus::kTriggered);
  ASSERT_TRUE(store->Record(id, {at(10), Kind::kAcknowledged, "alice", "", ""}).ok());
  ASSERT_TRUE(store->Record(id, {at(11), Kind::kCommander, "alice", "carol", ""}).ok());
  ASSERT_TRUE(store
                  ->Record(id, {at(12), Kind::kStatusUpdate, "carol", "Checkout errors in EU",
                                "investigating"})
                  .ok());
  EXPECT_EQ(store->Record(id, {at(12), Kind::kStatusUpdate, "carol", "x", "panicking"}).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(store->Record(id, {at(13), Kind::kNote, "carol", "rolled back 1.42", ""}).ok());
  ASSERT_TRUE(store->SetBudgetConsumed(id, 0.125).ok());
  Incident inc = *store->Get(id);
  EXPECT_EQ(inc.status(), IncidentStatus::kAcknowledged);
  EXPECT_EQ(inc.acknowledged_at(), at(7));  // the first acknowledgement counts for MTTA
  EXPECT_EQ(inc.commander(), "carol");
  ASSERT_EQ(inc.status_updates().size(), 1u);
  EXPECT_EQ(inc.status_updates()[0].state, "investigating");
  EXPECT_EQ(inc.budget_consumed, 0.125);
  ASSERT_TRUE(store->Record(id, {at(40), Kind::kResolved, "", "", ""}).ok());
  EXPECT_EQ(store->Get(id)->status(), IncidentStatus::kResolved);
  EXPECT_EQ(store->Get(id)->resolved_at(), at(40));
  EXPECT_EQ(store->Record(id, {at(41), Kind::kNote, "bob", "late", ""}).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->Record("INC-9", {at(41), Kind::kNote, "bob", "x", ""}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store->Record(id, {at(41), Kind::kTriggered, "", "", ""}).code(),
            StatusCode::kInvalidArgument);
}

TEST(IncidentTest, IncidentsSurviveAReopenWithEveryFieldAndNumberingGoesOn) {
  TempDir dir;
  const std::string path = dir.File("incidents");
  std::vector<Incident> before;
  {
    auto store = Open(path);
    std::string id = store->Trigger(Page("eu-west-1"), kT0)->id;
    ASSERT_TRUE(store
                    ->Record(id, {kT0 + Duration::Minutes(3), Kind::kNote, "al\tice",
                                  "line 1\nline 2 \\ done", ""})
                    .ok());
    ASSERT_TRUE(store->SetBudgetConsumed(id, 0.0375).ok());
    ASSERT_TRUE(store->Trigger(Page("us-east-1"), kT0)->opened);
    before = store->List();
  }
  auto reopened = Open(path);
  EXPECT_EQ(reopened->List(), before);
  EXPECT_EQ(reopened->Trigger(Page("ap-southeast-2"), kT0)->id, "INC-3");
  // A corrupt file is refused, not half-read.
  {
    std::ofstream out(path, std::ios::app);
    out << "garbage\n";
  }
  auto corrupt = IncidentStore::Open(path, false);
  EXPECT_EQ(corrupt.status().code(), StatusCode::kDataLoss);
}

TEST(IncidentTest, AnAcknowledgementSurvivesKill9OfTheWriter) {
  TempDir dir;
  const std::string path = dir.File("incidents");
  int ready[2], hold[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(hold), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // the writer: stores, says so, then waits to be killed
    auto store = IncidentStore::Open(path, false);
    bool ok = store.ok();
    if (ok) {
      auto t = (*store)->Trigger(Page("eu-west-1"), kT0);
      ok = t.ok() &&
           (*store)
               ->Record(t->id, {kT0 + Duration::Minutes(4), Kind::kAcknowledged, "alice", "", ""})
               .ok();
    }
    char c = ok ? 'y' : 'n';
    if (write(ready[1], &c, 1) != 1) _exit(2);
    if (read(hold[0], &c, 1) < 0) _exit(3);  // blocks until killed
    _exit(0);
  }
  close(ready[1]);
  close(hold[0]);
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  close(ready[0]);
  close(hold[1]);
  auto store = Open(path);
  std::optional<Incident> inc = store->Get("INC-1");
  ASSERT_TRUE(inc);
  EXPECT_EQ(inc->status(), IncidentStatus::kAcknowledged);
  EXPECT_EQ(inc->acknowledged_at(), kT0 + Duration::Minutes(4));
}

TEST(IncidentTest, MttaAndMttrPerServiceRegionAndWeek) {
  auto store = Open("");
  auto run = [&](IncidentPage page, Timestamp opened, std::optional<int> ack_min,
                 std::optional<int> resolve_min) {
    std::string id = store->Trigger(page, opened)->id;
    if (ack_min) {
      ASSERT_TRUE(store
                      ->Record(id, {opened + Duration::Minutes(*ack_min), Kind::kAcknowledged,
                                    "alice", "", ""})
                      .ok());
    }
    if (resolve_min) {
      ASSERT_TRUE(
          store->Record(id, {opened + Duration::Minutes(*resolve_min), Kind::kResolved, "", "", ""})
              .ok());
    }
  };
  run(Page("eu-west-1"), kT0, 4, 30);
  run(Page("eu-west-1"), kT0 + Duration::Days(1), 8, 60);  // Thursday, same week
  IncidentPage latency = Page("eu-west-1");
  latency.slo = "checkout-latency";  // another SLO: its own incident, still open
  run(latency, kT0 + Duration::Days(2), std::nullopt, std::nullopt);
  run(Page("us-east-1"), kT0, 2, 10);
  run(Page("eu-west-1"), kT0 + Duration::Days(7), 1, 5);  // the next week
  std::vector<ResponseStats> stats = ComputeResponseStats(store->List());
  const Timestamp monday = *core::ParseTimestamp("2026-03-02T00:00:00Z");
  EXPECT_EQ(
      stats,
      (std::vector<ResponseStats>{
          {"checkout", "eu-west-1", monday, 3, 2, 2, Duration::Minutes(6), Duration::Minutes(45)},
          {"checkout", "us-east-1", monday, 1, 1, 1, Duration::Minutes(2), Duration::Minutes(10)},
          {"checkout", "eu-west-1", monday + Duration::Weeks(1), 1, 1, 1, Duration::Minutes(1),
           Duration::Minutes(5)},
      }));
}

}  // namespace
}  // namespace nines::alerting
