#include "app/demo_pager.h"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <mutex>
#include <vector>

#include "core/json.h"
#include "core/log.h"
#include "net/net.h"

namespace nines::app {
namespace {

struct ReceivedAlert {
  std::string status;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string starts_at;
  std::string ends_at;
};

struct Notification {
  core::Timestamp received_at;
  std::string status;
  std::string receiver;
  std::string group_key;
  std::vector<ReceivedAlert> alerts;
};

std::string StringField(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::map<std::string, std::string> StringMap(const rapidjson::Value& object, const char* name) {
  std::map<std::string, std::string> out;
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsObject()) return out;
  for (const auto& m : it->value.GetObject()) {
    if (m.value.IsString()) {
      out[std::string(m.name.GetString(), m.name.GetStringLength())] =
          std::string(m.value.GetString(), m.value.GetStringLength());
    }
  }
  return out;
}

// A webhook notification (Alertmanager's version 4 payload), or an error naming what is wrong.
core::Result<Notification> ParseWebhook(std::string_view body) {
  rapidjson::Document doc;
  // Iterative, so that no nesting depth can exhaust the stack.
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(body.data(),
                                                                                    body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return core::InvalidArgumentError("the body is not a JSON object");
  }
  Notification n;
  n.status = StringField(doc, "status");
  n.receiver = StringField(doc, "receiver");
  n.group_key = StringField(doc, "groupKey");
  auto alerts = doc.FindMember("alerts");
  if (alerts == doc.MemberEnd() || !alerts->value.IsArray()) {
    return core::InvalidArgumentError("\"alerts\" is missing or not an array");
  }
  for (const auto& a : alerts->value.GetArray()) {
    if (!a.IsObject()) return core::InvalidArgumentError("an alert is not an object");
    n.alerts.push_back({StringField(a, "status"), StringMap(a, "labels"),
                        StringMap(a, "annotations"), StringField(a, "startsAt"),
                        StringField(a, "endsAt")});
  }
  return n;
}

std::string Get(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

}  // namespace

std::string DemoPageLine(std::string_view status, const std::map<std::string, std::string>& labels,
                         const std::map<std::string, std::string>& annotations) {
  const std::string severity = Get(labels, "severity");
  const std::string kind = severity == "page" ? "PAGE" : severity.empty() ? "ALERT" : "TICKET";
  const std::string slo = Get(labels, "slo");
  const std::string region = Get(labels, "region");
  const std::string alertname = Get(labels, "alertname");
  std::string line = fmt::format("{}{} {} {}", status == "resolved" ? "RESOLVED " : "", kind,
                                 region.empty() ? "-" : region,
                                 slo.empty() ? alertname : slo + " (" + alertname + ")");
  const std::string ratio = Get(annotations, "budget_remaining_ratio");
  char* end = nullptr;
  const double left = std::strtod(ratio.c_str(), &end);
  if (!ratio.empty() && end != nullptr && *end == '\0') {
    line += fmt::format(": {:.2f}% of the error budget left", left * 100);
    const std::string burn = Get(annotations, "long_burn_rate");
    const std::string pair = Get(annotations, "window_pair");
    if (status != "resolved" && !burn.empty() && !pair.empty()) {
      line += fmt::format(", burning {:.3g}x over {}", std::strtod(burn.c_str(), nullptr),
                          pair.substr(0, pair.find('/')));
    }
  } else if (std::string summary = Get(annotations, "summary"); !summary.empty()) {
    line += ": " + summary;
  }
  if (status == "resolved") line += " - resolved";
  return line;
}

class DemoPager::Impl {
 public:
  Impl(core::Clock& clock, std::function<void(const std::string&)> print)
      : clock_(clock), print_(std::move(print)) {}

  core::Status Start() {
    net::Router router;
    router.Handle("POST", "/hook", net::Access::kPublic,
                  [this](const net::Request& r) { return Receive(r); });
    net::ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = 1;
    o.access_log = false;
    ASSIGN_OR_RETURN(server_, net::Server::Start(o, std::move(router), clock_, nullptr));
    server_->SetReady(true);
    return core::Status::Ok();
  }

  std::string webhook_url() const {
    return fmt::format("http://127.0.0.1:{}/hook", server_->port());
  }

  net::Response Pages() const {
    std::string body = R"({"status":"success","data":[)";
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < received_.size(); ++i) {
      const Notification& n = received_[i];
      if (i > 0) body += ',';
      body += R"({"received_at":)";
      core::AppendJsonString(&body, n.received_at.ToRfc3339());
      body += R"(,"status":)";
      core::AppendJsonString(&body, n.status);
      body += R"(,"receiver":)";
      core::AppendJsonString(&body, n.receiver);
      body += R"(,"groupKey":)";
      core::AppendJsonString(&body, n.group_key);
      body += R"(,"alerts":[)";
      for (size_t j = 0; j < n.alerts.size(); ++j) {
        const ReceivedAlert& a = n.alerts[j];
        if (j > 0) body += ',';
        body += R"({"status":)";
        core::AppendJsonString(&body, a.status);
        body += R"(,"labels":)";
        core::AppendJsonStringMap(&body, a.labels);
        body += R"(,"annotations":)";
        core::AppendJsonStringMap(&body, a.annotations);
        body += R"(,"startsAt":)";
        core::AppendJsonString(&body, a.starts_at);
        body += R"(,"endsAt":)";
        core::AppendJsonString(&body, a.ends_at);
        body += '}';
      }
      body += "]}";
    }
    body += "]}";
    return net::Response::Json(200, std::move(body));
  }

  size_t received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_.size();
  }

  void Shutdown() {
    if (server_) server_->Shutdown();
  }

 private:
  net::Response Receive(const net::Request& request) {
    core::Result<Notification> n = ParseWebhook(request.body);
    if (!n.ok()) return net::Response::Error(400, n.status().message());
    n->received_at = clock_.Now();
    std::lock_guard<std::mutex> lock(mu_);
    for (const ReceivedAlert& a : n->alerts) {
      print_(DemoPageLine(a.status, a.labels, a.annotations));
    }
    received_.push_back(*std::move(n));
    return net::Response::Json(200, "{}");
  }

  core::Clock& clock_;
  const std::function<void(const std::string&)> print_;
  std::unique_ptr<net::Server> server_;
  mutable std::mutex mu_;
  std::vector<Notification> received_;  // guarded by mu_
};

core::Result<std::unique_ptr<DemoPager>> DemoPager::Start(
    core::Clock& clock, std::function<void(const std::string& line)> print) {
  auto impl = std::make_unique<Impl>(clock, std::move(print));
  RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<DemoPager>(new DemoPager(std::move(impl)));
}

DemoPager::DemoPager(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DemoPager::~DemoPager() { Shutdown(); }
std::string DemoPager::webhook_url() const { return impl_->webhook_url(); }
net::Response DemoPager::PagesResponse() const { return impl_->Pages(); }
size_t DemoPager::received() const { return impl_->received(); }
void DemoPager::Shutdown() {
  if (impl_) impl_->Shutdown();
}

}  // namespace nines::app
