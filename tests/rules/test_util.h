// Helpers shared by the rules tests: a real RocksDB store in a temp dir, writing samples through
// the Appender, and SLO rules with their sources.
#ifndef NINES_TESTS_RULES_TEST_UTIL_H_
#define NINES_TESTS_RULES_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/labels.h"
#include "rules/rules.h"
#include "store/store.h"
#include "tests/testutil/testutil.h"

namespace nines::rules::testing {

// A whole minute well after the epoch: 2023-11-14T21:20:00Z.
inline constexpr int64_t kBaseMinute = 28'333'280;
inline int64_t MinuteMs(int64_t minute) { return minute * 60'000; }
inline core::Timestamp AtMinute(int64_t minute, int64_t plus_seconds = 0) {
  return core::Timestamp::FromUnixSeconds(minute * 60 + plus_seconds);
}

inline core::Labels L(std::initializer_list<core::Label> pairs) {
  return core::Labels::From(pairs).value();
}

inline std::vector<store::Matcher> Sel(std::string_view text) {
  auto r = store::ParseSelector(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<store::Matcher>{};
}

// A store in its own temp dir.
class TestStore {
 public:
  explicit TestStore(core::Clock& clock) {
    store::StoreOptions o;
    o.dir = dir_.File("tsdb");
    auto s = store::OpenStore(o, clock);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) store_ = std::move(*s);
  }
  store::Store& operator*() { return *store_; }
  store::Store* operator->() { return store_.get(); }
  store::Store* get() { return store_.get(); }

  // Writes samples (one batch) and expects them all stored.
  void Write(const std::vector<std::pair<core::Labels, core::Sample>>& samples) {
    auto app = store_->NewAppender();
    for (const auto& [labels, s] : samples) {
      ASSERT_TRUE(app->Append(labels, s.timestamp_ms, s.value).ok());
    }
    auto r = app->Commit();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->appended, static_cast<int64_t>(samples.size()));
  }

 private:
  testutil::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

inline SloRule ProbeRule(std::string name, std::string selector, int quorum = 0) {
  SloRule r;
  r.spec.name = std::move(name);
  r.spec.service = "api";
  r.spec.sli = slo::SliKind::kProbeAvailability;
  r.spec.quorum = quorum;
  r.source.selector = Sel(selector);
  return r;
}

}  // namespace nines::rules::testing

#endif  // NINES_TESTS_RULES_TEST_UTIL_H_
