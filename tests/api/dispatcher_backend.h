// A test AlertmanagerBackend built from the real pieces: an alerting::Dispatcher reading an
// alerting::SilenceStore; its AlertViews give each alert's receivers, silences and inhibitions,
// as the running alerting service does. Thread-safe (one mutex).
#ifndef NINES_TESTS_API_DISPATCHER_BACKEND_H_
#define NINES_TESTS_API_DISPATCHER_BACKEND_H_

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "alerting/dispatcher.h"
#include "alerting/routing.h"
#include "alerting/silence.h"
#include "api/alertmanager_api.h"
#include "core/clock.h"

namespace nines::api::testing {

class DispatcherBackend final : public AlertmanagerBackend {
 public:
  DispatcherBackend(alerting::AlertmanagerConfig config, core::Clock& clock,
                    std::function<std::string()> new_id = nullptr)
      : config_(std::move(config)),
        clock_(clock),
        silences_(std::move(new_id)),
        dispatcher_(config_, &silences_) {}

  std::vector<alerting::AlertView> Alerts() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return dispatcher_.AlertViews(clock_.Now());
  }
  std::vector<alerting::Dispatcher::GroupView> Groups() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return dispatcher_.Groups();
  }
  std::vector<alerting::Silence> Silences() const override { return silences_.List(); }
  core::Result<std::string> AddSilence(alerting::Silence silence) override {
    return silences_.Add(std::move(silence), clock_.Now());
  }
  core::Status ExpireSilence(const std::string& id) override {
    return silences_.Expire(id, clock_.Now());
  }
  std::vector<std::string> ReceiverNames() const override {
    std::vector<std::string> out;
    for (const auto& r : config_.receivers) out.push_back(r.name);
    return out;
  }
  AlertmanagerStatusInfo StatusInfo() const override { return status_; }
  core::Status Receive(std::vector<alerting::Alert> alerts) override {
    if (!ready_.ok()) return ready_;
    std::lock_guard<std::mutex> lock(mu_);
    dispatcher_.Receive(alerts, clock_.Now());
    return core::Status::Ok();
  }
  core::Status Ready() const override { return ready_; }
  // What Ready() (and Receive) answer: OK, or e.g. UNAVAILABLE as before a start.
  void set_ready(core::Status s) { ready_ = std::move(s); }

  void set_status(AlertmanagerStatusInfo s) { status_ = std::move(s); }
  alerting::SilenceStore& silences() { return silences_; }

 private:
  const alerting::AlertmanagerConfig config_;
  core::Clock& clock_;
  alerting::SilenceStore silences_;
  mutable std::mutex mu_;
  alerting::Dispatcher dispatcher_;  // guarded by mu_
  AlertmanagerStatusInfo status_;
  core::Status ready_ = core::Status::Ok();  // not guarded: set before requests
};

}  // namespace nines::api::testing

#endif  // NINES_TESTS_API_DISPATCHER_BACKEND_H_
