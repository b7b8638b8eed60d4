// The demo's pager: a webhook receiver on loopback, inside the demo process, standing in for
// the phone that rings. nines' alerting sends it Alertmanager webhook notifications (version 4);
// it prints each alert of each notification as it arrives (a page or a ticket: region, SLO,
// budget left; then its resolution) and keeps them, served as JSON for the UI.
//
// Thread-safety: thread-safe; notifications arrive on the receiver's server threads.
#ifndef NINES_APP_DEMO_PAGER_H_
#define NINES_APP_DEMO_PAGER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace nines::net {
struct Response;
}  // namespace nines::net

namespace nines::app {

class DemoPager {
 public:
  // Starts the receiver on 127.0.0.1 with a free port. Each line it prints goes to `print`
  // (called from the receiver's threads, one line at a time, without the newline).
  // Errors: net::Server::Start's.
  static core::Result<std::unique_ptr<DemoPager>> Start(
      core::Clock& clock, std::function<void(const std::string& line)> print);
  ~DemoPager();

  // Where nines' webhook_configs send to: "http://127.0.0.1:PORT/hook".
  std::string webhook_url() const;

  // GET /api/v1/demo/pages (served by the engine): {"status":"success","data":[...]}, every
  // notification received, oldest first: received_at, status, receiver, groupKey, and its alerts
  // (status, labels, annotations, startsAt, endsAt).
  net::Response PagesResponse() const;

  // How many notifications arrived so far.
  size_t received() const;

  void Shutdown();

 private:
  class Impl;
  explicit DemoPager(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The line the pager prints for one alert of a webhook notification: its status, its kind
// ("PAGE" for severity="page", else "TICKET"), its SLO (or alertname) and region, the budget
// left and burn rate from its annotations, or its summary when it has no budget. Exposed for
// tests.
std::string DemoPageLine(std::string_view status, const std::map<std::string, std::string>& labels,
                         const std::map<std::string, std::string>& annotations);

}  // namespace nines::app

#endif  // NINES_APP_DEMO_PAGER_H_
