// Label matchers (store/matcher.cc), the regex cost every selector pays:
//   BM_MatcherMatches: one Matcher::Matches call on probe-like label values, per pattern kind
//     (a literal alternation, a prefix, a "contains", a character class).
//   BM_ParseSelector: parsing and compiling a selector with two regex matchers.
//   BM_ResolveRegexSelector: Reader::ResolveSeries for a regex selector over 30,000 series in a
//     real store (postings narrow by __name__, the regex runs on each remaining value).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/labels.h"
#include "store/store.h"

namespace nines::store {
namespace {

std::vector<std::string> TargetValues(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(fmt::format("https://api-{}.example.com/healthz", i));
  return out;
}

const char* const kPatterns[] = {
    "us-east-1|eu-west-1|ap-southeast-2",   // 0: literal alternation
    "https://api-1.*",                      // 1: prefix
    ".*example\\.com/health.*",             // 2: contains
    "https://api-[0-9]+\\.example\\.com/.+", // 3: classes and repeats
};

void BM_MatcherMatches(benchmark::State& state) {
  auto m = Matcher::Create(Matcher::Op::kRegexMatch, "target", kPatterns[state.range(0)]);
  if (!m.ok()) {
    state.SkipWithError(m.status().ToString().c_str());
    return;
  }
  const std::vector<std::string> values = TargetValues(1000);
  size_t i = 0;
  int64_t hits = 0;
  for (auto _ : state) {
    hits += m->Matches(values[i]) ? 1 : 0;
    if (++i == values.size()) i = 0;
  }
  benchmark::DoNotOptimize(hits);
  state.SetLabel(kPatterns[state.range(0)]);
}
BENCHMARK(BM_MatcherMatches)->DenseRange(0, 3);

void BM_ParseSelector(benchmark::State& state) {
  for (auto _ : state) {
    auto m = ParseSelector(
        R"(probe_success{target=~"https://api-[0-9]+\\.example\\.com/.+",region=~"us-.*|eu-.*"})");
    if (!m.ok()) state.SkipWithError(m.status().ToString().c_str());
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_ParseSelector);

class ResolveFixture {
 public:
  static ResolveFixture& Get() {
    static ResolveFixture* f = new ResolveFixture();
    return *f;
  }
  Store& store() { return *store_; }

 private:
  ResolveFixture()
      : dir_((std::filesystem::temp_directory_path() /
              fmt::format("nines-bench-resolve-{}", getpid()))
                 .string()) {
    std::filesystem::remove_all(dir_);
    StoreOptions options;
    options.dir = dir_;
    store_ = std::move(*OpenStore(options, clock_));
    static const char* kRegions[] = {"us-east-1", "eu-west-1", "ap-southeast-2"};
    auto app = store_->NewAppender();
    for (int i = 0; i < 30000; ++i) {
      auto l = core::Labels::From(
          {{"__name__", "probe_success"},
           {"probe", fmt::format("check-{}", i / 3)},
           {"target", fmt::format("https://api-{}.example.com/healthz", i / 3)},
           {"region", kRegions[i % 3]}});
      app->Append(*l, 1'700'000'000'000, 1).IgnoreError();
    }
    app->Commit().status().IgnoreError();
  }
  core::FakeClock clock_;
  std::string dir_;
  std::unique_ptr<Store> store_;
};

void BM_ResolveRegexSelector(benchmark::State& state) {
  ResolveFixture& f = ResolveFixture::Get();
  auto selector = ParseSelector(
      R"(probe_success{target=~"https://api-1[0-9]*\\.example\\.com/.*",region=~"us-.*|eu-.*"})");
  if (!selector.ok()) {
    state.SkipWithError(selector.status().ToString().c_str());
    return;
  }
  size_t found = 0;
  for (auto _ : state) {
    auto ids = f.store().ResolveSeries(*selector);
    if (!ids.ok()) state.SkipWithError(ids.status().ToString().c_str());
    found = ids->size();
  }
  state.counters["series_found"] = static_cast<double>(found);
}
BENCHMARK(BM_ResolveRegexSelector)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace nines::store
