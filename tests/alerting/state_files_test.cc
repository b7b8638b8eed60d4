#include "alerting/state_files.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "core/state_file.h"
#include "tests/alerting/test_helpers.h"
#include "tests/testutil/testutil.h"

namespace nines::alerting {
namespace {

using core::Duration;
using core::Timestamp;
using testing::Firing;
using testing::L;
using testing::M;
using testing::Resolved;

constexpr Timestamp kT0 = Timestamp::FromUnixSeconds(1'700'000'000);

TEST(StateFilesTest, AlertsRoundTripExactly) {
  Alert a = Firing(R"({alertname="Burn",region="eu-west-1",slo="api"})", kT0, kT0);
  a.annotations["description"] = "tab\there, newline\nthere, backslash \\ and ünïcode";
  a.generator_url = "http://nines:9099/slo/api?x=1\t";
  a.value = 14.400000000000002;
  Alert b = Resolved(R"({alertname="Down",target="t\\1"})", kT0, kT0 + Duration::Minutes(3));
  b.value = std::nan("");
  Alert empty;  // no labels, no annotations
  const std::string data = EncodeAlertsFile({a, b, empty});
  auto back = DecodeAlertsFile(data, "alerts");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 3u);
  const Alert& a2 = (*back)[0];
  EXPECT_EQ(a2.labels, a.labels);
  EXPECT_EQ(a2.annotations, a.annotations);
  EXPECT_EQ(a2.status, AlertStatus::kFiring);
  EXPECT_EQ(a2.starts_at, a.starts_at);
  EXPECT_EQ(a2.ends_at, a.ends_at);
  EXPECT_EQ(a2.generator_url, a.generator_url);
  EXPECT_EQ(a2.value, a.value);
  EXPECT_EQ((*back)[1].status, AlertStatus::kResolved);
  EXPECT_EQ((*back)[1].labels, b.labels);
  EXPECT_TRUE(std::isnan((*back)[1].value));
  EXPECT_TRUE((*back)[2].labels.empty());
}

TEST(StateFilesTest, SilencesRoundTripExactly) {
  Silence s;
  s.id = "0f6c3f9e-8a4b-4d2e-9c1a-5b7d2e3f4a5b";
  s.matchers = M(R"({region=~"eu-.*", alertname!="Watchdog", severity="page", x!~"a|b"})");
  s.starts_at = kT0;
  s.ends_at = kT0 + Duration::Hours(2);
  s.updated_at = kT0 + Duration::Seconds(1);
  s.created_by = "ana";
  s.comment = "maintenance\nof eu-west-1";
  auto back = DecodeSilencesFile(EncodeSilencesFile({s}), "silences");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 1u);
  const Silence& t = (*back)[0];
  EXPECT_EQ(t.id, s.id);
  EXPECT_EQ(MatchersToString(t.matchers), MatchersToString(s.matchers));
  EXPECT_TRUE(t.Mutes(L(R"({region="eu-west-1",alertname="Burn",severity="page"})"), kT0));
  EXPECT_FALSE(t.Mutes(L(R"({region="eu-west-1",alertname="Burn",severity="page",x="a"})"), kT0));
  EXPECT_EQ(t.starts_at, s.starts_at);
  EXPECT_EQ(t.ends_at, s.ends_at);
  EXPECT_EQ(t.updated_at, s.updated_at);
  EXPECT_EQ(t.created_by, s.created_by);
  EXPECT_EQ(t.comment, s.comment);
}

TEST(StateFilesTest, DamagedFilesAreRefusedWithWhereAndWhy) {
  const std::string good =
      EncodeAlertsFile({Firing(R"({alertname="Burn"})", kT0, kT0), Firing(R"({a="b"})", kT0, kT0)});
  struct Case {
    std::string name;
    std::string data;
    core::StatusCode code;
    std::string want;
  };
  std::string flipped = good;
  flipped[flipped.find("Burn")] = 'b';
  std::string newer = good;
  newer.replace(newer.find("\t1\n"), 3, "\t7\n");
  const std::vector<Case> cases = {
      {"empty", "", core::StatusCode::kDataLoss, "empty file"},
      {"truncated", good.substr(0, good.size() - 5), core::StatusCode::kDataLoss, "truncated"},
      {"cut at a line", good.substr(0, good.find('\n') + 1), core::StatusCode::kDataLoss,
       "no end record"},
      {"flipped byte", flipped, core::StatusCode::kDataLoss, "checksum"},
      {"other magic", EncodeSilencesFile({}), core::StatusCode::kDataLoss,
       "not a nines-alerting-alerts file"},
      {"newer version", newer, core::StatusCode::kFailedPrecondition, "newer"},
      {"bad record", core::EncodeSnapshot("nines-alerting-alerts", 1, {"alert\tmaybe"}),
       core::StatusCode::kDataLoss, "f:2: bad status"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = DecodeAlertsFile(c.data, "f");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code);
    EXPECT_NE(r.status().message().find(c.want), std::string::npos) << r.status().ToString();
  }
}

TEST(StateFilesTest, LoadSetsACorruptFileAsideAndStartsEmpty) {
  testutil::TempDir dir;
  const std::string path = dir.File("silences");
  auto missing = LoadStateFile<Silence>(path, DecodeSilencesFile);
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->empty());
  Silence s;
  s.id = "a";
  s.matchers = M(R"(alertname="Burn")");
  s.ends_at = kT0;
  const std::string data = EncodeSilencesFile({s});
  ASSERT_TRUE(core::WriteFileAtomic(path, data.substr(0, data.size() - 3), false).ok());
  auto loaded = LoadStateFile<Silence>(path, DecodeSilencesFile);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->empty());
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::exists(path + ".corrupt"));
  ASSERT_TRUE(core::WriteFileAtomic(path, data, false).ok());
  loaded = LoadStateFile<Silence>(path, DecodeSilencesFile);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->size(), 1u);
}

TEST(SilenceStoreTest, CollectDropsSilencesExpiredForTheRetentionAndRestoreKeepsIds) {
  SilenceStore store;
  Silence s;
  s.matchers = M(R"(alertname="Burn")");
  s.ends_at = kT0 + Duration::Hours(1);
  auto short_id = store.Add(s, kT0);
  s.ends_at = kT0 + Duration::Hours(10);
  auto long_id = store.Add(s, kT0);
  ASSERT_TRUE(short_id.ok() && long_id.ok());
  const uint64_t v = store.version();
  EXPECT_EQ(store.Collect(kT0 + Duration::Hours(3) - Duration::Seconds(1), Duration::Hours(2)), 0u);
  EXPECT_EQ(store.version(), v);
  EXPECT_EQ(store.Collect(kT0 + Duration::Hours(3), Duration::Hours(2)), 1u);
  EXPECT_GT(store.version(), v);
  ASSERT_EQ(store.List().size(), 1u);
  EXPECT_EQ(store.List()[0].id, *long_id);

  SilenceStore restored;
  restored.Restore(store.List());
  ASSERT_TRUE(restored.Get(*long_id).has_value());
  EXPECT_TRUE(restored.Mutes(L(R"({alertname="Burn"})"), kT0 + Duration::Hours(4)));
}

}  // namespace
}  // namespace nines::alerting
