#include "collector/scrape_manager.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "collector/probe_engine.h"
#include "collector/scraper.h"
#include "core/log.h"
#include "net/net.h"
#include "store/store.h"

namespace nines::collector {
namespace {

// The schedule's name of a target: stable for a (job, url), distinct from every check name
// (check names have no spaces).
std::string TargetKey(const ScrapeSpec& s) { return fmt::format("scrape {} {}", s.job, s.url); }

bool SameSpec(const ScrapeSpec& a, const ScrapeSpec& b) {
  return a.job == b.job && a.url == b.url && a.interval == b.interval && a.timeout == b.timeout &&
         a.region == b.region && a.location == b.location && a.extra_labels == b.extra_labels &&
         a.sample_limit == b.sample_limit && a.body_size_limit == b.body_size_limit &&
         a.honor_labels == b.honor_labels && a.bearer_token == b.bearer_token;
}

}  // namespace

class ScrapeManager::Impl {
 public:
  Impl(ScrapeManagerOptions options, core::Clock& clock, AppenderFactory appenders)
      : options_(std::move(options)), clock_(clock), appenders_(std::move(appenders)),
        pool_(static_cast<size_t>(std::max(1, options_.threads))) {
    RegisterMetrics();
    ProbeEngineOptions po;
    // A scrape occupies a worker, not the engine; the cap only bounds what is queued for them.
    po.max_concurrency = 10000;
    po.threads = 1;
    po.probe_function = [this](std::shared_ptr<const CheckSpec> check,
                               std::function<void(ProbeResult)> done) {
      RunScrape(check->name, std::move(done));
    };
    engine_ = std::make_unique<ProbeEngine>(
        std::move(po), clock_,
        [this](const CheckSpec& check, const ProbeResult& result, core::Timestamp due) {
          Record(check.name, result, due);
        });
  }

  ~Impl() { Stop(); }

  // The running targets, shared by a prepared set (ScrapeManager::PrepareTargets).
  struct Target {
    // One Scrape() at a time: the engine never starts a target while its last run is going.
    std::unique_ptr<Scraper> scraper;
    ScrapeTargetStatus status;  // guarded by Impl::mu_
  };
  using TargetMap = std::map<std::string, std::shared_ptr<Target>>;

  // Validates and builds `specs` into `next` (unchanged targets shared with the running ones,
  // the keys of new or changed ones in `fresh`) and their schedule, changing nothing.
  core::Status Prepare(std::vector<ScrapeSpec> specs, TargetMap* next,
                       std::set<std::string>* fresh, std::vector<CheckSpec>* schedule) const {
    for (ScrapeSpec& spec : specs) {
      std::string key = TargetKey(spec);
      if (next->count(key)) {
        return core::AlreadyExistsError("scrape job {}: target {} is listed twice", spec.job,
                                        spec.url);
      }
      std::shared_ptr<Target> t;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = targets_.find(key);
        if (it != targets_.end() && SameSpec(it->second->scraper->spec(), spec)) t = it->second;
      }
      if (!t) {
        ASSIGN_OR_RETURN(std::unique_ptr<Scraper> scraper, Scraper::Create(spec, clock_));
        t = std::make_shared<Target>();
        t->scraper = std::move(scraper);
        fresh->insert(key);
      }
      CheckSpec c;
      c.name = key;
      c.target = spec.url;
      c.interval = spec.interval;
      c.timeout = spec.timeout;
      schedule->push_back(std::move(c));
      next->emplace(std::move(key), std::move(t));
    }
    return core::Status::Ok();
  }

  // Puts a prepared set in force. Cannot fail.
  void Apply(TargetMap next, const std::set<std::string>& fresh,
             std::vector<CheckSpec> schedule) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const std::string& key : fresh) {
        // A changed target keeps its counters.
        auto it = targets_.find(key);
        if (it != targets_.end()) next.at(key)->status = it->second->status;
      }
      targets_ = std::move(next);
      if (m_targets_ != nullptr) m_targets_->Set(static_cast<double>(targets_.size()));
    }
    engine_->SetChecks(std::move(schedule));
  }

  core::Timestamp RunDue(core::Timestamp now) { return engine_->RunDue(now); }
  void Start(bool schedule) { engine_->Start(schedule); }

  void Stop() {
    // The engine waits for the scrapes in flight (they report through it), then the workers end.
    engine_->Stop();
    pool_.join();
  }

  bool WaitIdle(core::Duration timeout) { return engine_->WaitIdle(timeout); }

  std::vector<ScrapeTargetStatus> Targets() const {
    std::vector<CheckStatus> engine = engine_->Statuses();
    std::map<std::string, uint64_t> skipped;
    for (const CheckStatus& s : engine) skipped[s.check->name] = s.skipped;
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<ScrapeTargetStatus> out;
    out.reserve(targets_.size());
    for (const auto& [key, t] : targets_) {
      ScrapeTargetStatus s = t->status;
      s.spec = t->scraper->spec();
      s.target_labels = t->scraper->target_labels();
      s.skipped = skipped[key];
      out.push_back(std::move(s));
    }
    std::sort(out.begin(), out.end(), [](const ScrapeTargetStatus& a, const ScrapeTargetStatus& b) {
      return std::tie(a.spec.job, a.spec.url) < std::tie(b.spec.job, b.spec.url);
    });
    return out;
  }

 private:
  void RunScrape(const std::string& key, std::function<void(ProbeResult)> done) {
    std::shared_ptr<Target> t;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = targets_.find(key);
      if (it != targets_.end()) t = it->second;
    }
    if (!t) {  // removed between scheduling and now
      ProbeResult r;
      r.reason = "target removed";
      done(std::move(r));
      return;
    }
    boost::asio::post(pool_, [this, t, done = std::move(done)] {
      ScrapeResult s = t->scraper->Scrape();
      ProbeResult r;
      r.success = s.up;
      r.duration = s.duration;
      r.reason = s.error;
      std::unique_ptr<store::Appender> app = appenders_();
      core::Status st = AppendScrape(s, *app);
      if (st.ok()) st = app->Commit().status();
      if (!st.ok()) {
        app->Rollback();
        NINES_LOG(kWarning, "scrape job {} target {}: storing the scrape failed: {}",
                  t->scraper->spec().job, t->scraper->spec().url, st.ToString());
        if (r.success) r.reason = "storing failed: " + st.ToString();
      }
      if (m_scrapes_ok_ != nullptr) (s.up ? m_scrapes_ok_ : m_scrapes_failed_)->Increment();
      done(std::move(r));
    });
  }

  void Record(const std::string& key, const ProbeResult& result, core::Timestamp due) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = targets_.find(key);
    if (it == targets_.end()) return;
    ScrapeTargetStatus& s = it->second->status;
    ++s.scrapes;
    if (!result.success) ++s.failures;
    if (!s.has_result || due >= s.last_scrape) {
      s.has_result = true;
      s.last_scrape = due;
      s.last_duration = result.duration;
      s.up = result.success;
      s.last_error = result.reason;
    }
  }

  void RegisterMetrics() {
    if (options_.registry == nullptr) return;
    prometheus::Registry& r = *options_.registry;
    auto& scrapes = prometheus::BuildCounter()
                        .Name("nines_scrapes_total")
                        .Help("Scrapes of Prometheus text-format targets, by result.")
                        .Register(r);
    m_scrapes_ok_ = &scrapes.Add({{"result", "up"}});
    m_scrapes_failed_ = &scrapes.Add({{"result", "down"}});
    m_targets_ = &prometheus::BuildGauge()
                      .Name("nines_scrape_targets")
                      .Help("Scrape targets of this process.")
                      .Register(r)
                      .Add({});
  }

  ScrapeManagerOptions options_;
  core::Clock& clock_;
  AppenderFactory appenders_;
  boost::asio::thread_pool pool_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Target>> targets_;
  prometheus::Counter* m_scrapes_ok_ = nullptr;
  prometheus::Counter* m_scrapes_failed_ = nullptr;
  prometheus::Gauge* m_targets_ = nullptr;
  // Last: destroyed first, so no scrape reports into a half-destroyed manager.
  std::unique_ptr<ProbeEngine> engine_;
};

ScrapeManager::ScrapeManager(ScrapeManagerOptions options, core::Clock& clock,
                             AppenderFactory appenders)
    : impl_(std::make_unique<Impl>(std::move(options), clock, std::move(appenders))) {}
ScrapeManager::~ScrapeManager() = default;

struct ScrapeManager::PreparedTargets::Data {
  Impl::TargetMap next;
  std::set<std::string> fresh;
  std::vector<CheckSpec> schedule;
};
ScrapeManager::PreparedTargets::PreparedTargets(std::unique_ptr<Data> data)
    : data_(std::move(data)) {}
ScrapeManager::PreparedTargets::PreparedTargets(PreparedTargets&&) noexcept = default;
ScrapeManager::PreparedTargets& ScrapeManager::PreparedTargets::operator=(
    PreparedTargets&&) noexcept = default;
ScrapeManager::PreparedTargets::~PreparedTargets() = default;

core::Result<ScrapeManager::PreparedTargets> ScrapeManager::PrepareTargets(
    std::vector<ScrapeSpec> targets) const {
  auto data = std::make_unique<PreparedTargets::Data>();
  RETURN_IF_ERROR(
      impl_->Prepare(std::move(targets), &data->next, &data->fresh, &data->schedule));
  return PreparedTargets(std::move(data));
}

void ScrapeManager::ApplyTargets(PreparedTargets prepared) {
  PreparedTargets::Data& d = *prepared.data_;
  impl_->Apply(std::move(d.next), d.fresh, std::move(d.schedule));
}

core::Status ScrapeManager::SetTargets(std::vector<ScrapeSpec> targets) {
  ASSIGN_OR_RETURN(PreparedTargets prepared, PrepareTargets(std::move(targets)));
  ApplyTargets(std::move(prepared));
  return core::Status::Ok();
}
core::Timestamp ScrapeManager::RunDue(core::Timestamp now) { return impl_->RunDue(now); }
void ScrapeManager::Start(bool schedule) { impl_->Start(schedule); }
void ScrapeManager::Stop() { impl_->Stop(); }
bool ScrapeManager::WaitIdle(core::Duration timeout) { return impl_->WaitIdle(timeout); }
std::vector<ScrapeTargetStatus> ScrapeManager::Targets() const { return impl_->Targets(); }

}  // namespace nines::collector
