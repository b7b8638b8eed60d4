// The remote-write receiver (POST /api/v1/write): header checks, decode, append, the answer and
// its metrics.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <charconv>
#include <map>
#include <optional>
#include <utility>

#include "core/json.h"
#include "core/log.h"
#include "net/net.h"
#include "remote/codec_impl.h"
#include "remote/remote.h"
#include "store/series_appender.h"

namespace nines::remote {
namespace {

using core::Result;
using core::Status;
using internal::DecodeBuffer;
using internal::Quote;
using store::Appender;
using store::CommitResult;
using store::FormatTimestampMs;

// A refused series for an answer: its labels, cut (at a character boundary) when long.
std::string Example(const core::Labels& labels) {
  constexpr size_t kMaxShown = 200;
  std::string text = labels.ToString();
  if (text.size() <= kMaxShown) return text;
  size_t cut = kMaxShown;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
  text.resize(cut);
  return text + "...";
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Content-Type: "application/x-protobuf", optionally with proto=prometheus.WriteRequest (the
// remote write 2.0 spec's name for 1.0 messages). Other parameters are ignored.
bool IsWriteRequestContentType(std::string_view value) {
  size_t semi = value.find(';');
  if (!net::EqualsIgnoreCase(Trim(value.substr(0, semi)), "application/x-protobuf")) return false;
  while (semi != std::string_view::npos) {
    value.remove_prefix(semi + 1);
    semi = value.find(';');
    std::string_view param = Trim(value.substr(0, semi));
    size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    if (!net::EqualsIgnoreCase(Trim(param.substr(0, eq)), "proto")) continue;
    std::string_view proto = Trim(param.substr(eq + 1));
    if (proto.size() >= 2 && proto.front() == '"' && proto.back() == '"') {
      proto = proto.substr(1, proto.size() - 2);
    }
    if (proto != "prometheus.WriteRequest") return false;
  }
  return true;
}

// "0.1.0" and any other 0.x or 1.x; remote write 2.0 ("2.0.0") is not spoken here.
bool IsSupportedVersion(std::string_view version) {
  version = Trim(version);
  return version == "0" || version == "1" || version.starts_with("0.") ||
         version.starts_with("1.");
}

struct HandlerState {
  std::function<std::unique_ptr<Appender>()> new_appender;
  size_t max_decoded_bytes = 0;
  prometheus::Counter* appended = nullptr;
  prometheus::Counter* duplicate = nullptr;
  prometheus::Counter* too_old = nullptr;
  prometheus::Counter* too_far_in_future = nullptr;
  prometheus::Counter* invalid = nullptr;
  prometheus::Counter* ignored_histograms = nullptr;
  prometheus::Counter* ignored_exemplars = nullptr;
  prometheus::Counter* ignored_metadata = nullptr;
  std::map<int, prometheus::Counter*> requests;  // by status code; fixed after construction

  net::Response Respond(net::Response response) const {
    requests.at(response.status)->Increment();
    return response;
  }
  net::Response Fail(int status, std::string_view reason) const {
    return Respond(net::Response::Error(status, reason));
  }

  // Remote write answers by its protocol's retry rules, not by api::HttpStatusFor (remote/ is
  // below api/): a sender retries a 5xx and drops a 4xx, so a body that can never be stored is
  // 400 (or 413 when too large), a store that may recover is 503, anything else 500.
  net::Response DecodeFailure(const Status& s) const {
    const int status = s.code() == core::StatusCode::kResourceExhausted ? 413
                       : s.code() == core::StatusCode::kInvalidArgument  ? 400
                                                                          : 500;
    return Fail(status, s.message());
  }
  net::Response AppendFailed(Appender& appender, const Status& st) const {
    appender.Rollback();
    LOG_WARNING("remote write: append failed, nothing stored: {}", st.ToString());
    return Fail(st.code() == core::StatusCode::kUnavailable ? 503 : 500,
                "append failed: " + st.message());
  }

  // The 415 for a request whose headers say it is not remote write 1.0; nullopt when they are
  // acceptable (absent headers are).
  std::optional<net::Response> UnsupportedHeaders(const net::Request& req) const {
    if (req.headers.Has("Content-Type") &&
        !IsWriteRequestContentType(req.headers.Get("Content-Type"))) {
      return Fail(415, fmt::format("unsupported Content-Type {}: remote write needs "
                                   "application/x-protobuf",
                                   Quote(req.headers.Get("Content-Type"))));
    }
    if (req.headers.Has("Content-Encoding") &&
        !net::EqualsIgnoreCase(Trim(req.headers.Get("Content-Encoding")), "snappy")) {
      return Fail(415, fmt::format("unsupported Content-Encoding {}: remote write needs snappy",
                                   Quote(req.headers.Get("Content-Encoding"))));
    }
    if (req.headers.Has("X-Prometheus-Remote-Write-Version") &&
        !IsSupportedVersion(req.headers.Get("X-Prometheus-Remote-Write-Version"))) {
      return Fail(415, fmt::format("unsupported remote write version {}: this receiver speaks "
                                   "0.1.0",
                                   Quote(req.headers.Get("X-Prometheus-Remote-Write-Version"))));
    }
    return std::nullopt;
  }

  net::Response Handle(const net::Request& req) const {
    if (std::optional<net::Response> refused = UnsupportedHeaders(req)) return *std::move(refused);

    thread_local DecodeBuffer buffer;
    struct TrimAfter {
      DecodeBuffer& b;
      ~TrimAfter() { b.Trim(); }
    } trim{buffer};
    Result<std::string_view> decompressed =
        internal::Decompress(req.body, max_decoded_bytes, &buffer);
    if (!decompressed.ok()) return DecodeFailure(decompressed.status());
    const std::string_view body = *decompressed;

    std::unique_ptr<Appender> appender = new_appender();
    int64_t invalid_samples = 0;
    WriteRequest counts;  // the ignored_* counts
    bool staged = false;
    if (auto* series_appender = dynamic_cast<store::SeriesAppender*>(appender.get())) {
      Status error;
      staged = internal::AppendDecoded(body, *series_appender, &counts, &invalid_samples, &error);
      if (staged && !error.ok()) return AppendFailed(*appender, error);
      if (!staged) {
        appender->Rollback();
        counts = WriteRequest();
        invalid_samples = 0;
      }
    }
    if (!staged) {
      Result<WriteRequest> decoded = internal::DecodeDecompressed(body);
      if (!decoded.ok()) return DecodeFailure(decoded.status());
      if (appender == nullptr) return Fail(503, "the store is not accepting writes");
      const WriteRequest& request = *decoded;
      counts.ignored_histograms = request.ignored_histograms;
      counts.ignored_exemplars = request.ignored_exemplars;
      counts.ignored_metadata = request.ignored_metadata;
      for (const TimeSeries& ts : request.series) {
        for (const core::Sample& s : ts.samples) {
          Status st = appender->Append(ts.labels, s.timestamp_ms, s.value);
          if (st.ok()) continue;
          if (st.code() == core::StatusCode::kInvalidArgument) {
            ++invalid_samples;
            continue;
          }
          return AppendFailed(*appender, st);
        }
      }
    }
    ignored_histograms->Increment(static_cast<double>(counts.ignored_histograms));
    ignored_exemplars->Increment(static_cast<double>(counts.ignored_exemplars));
    ignored_metadata->Increment(static_cast<double>(counts.ignored_metadata));
    Result<CommitResult> committed = appender->Commit();
    if (!committed.ok()) {
      const Status& s = committed.status();
      LOG_WARNING("remote write: commit failed, nothing stored: {}", s.ToString());
      return Fail(s.code() == core::StatusCode::kUnavailable ? 503 : 500,
                  "commit failed: " + s.message());
    }
    appended->Increment(static_cast<double>(committed->appended));
    duplicate->Increment(static_cast<double>(committed->duplicates));
    too_old->Increment(static_cast<double>(committed->too_old));
    too_far_in_future->Increment(static_cast<double>(committed->too_far_in_future));
    invalid->Increment(static_cast<double>(invalid_samples));
    if (committed->refused() == 0 && invalid_samples == 0) {
      return Respond(net::Response{.status = 204, .headers = {}, .body = {}});
    }
    return Respond(RefusedResponse(*committed, invalid_samples));
  }

  // 400 for a request some samples of which were refused. What could be stored is stored; the
  // rest can never be (a retry is refused again), so a 4xx is right: Prometheus' sender drops
  // the batch and logs the body's first line, nines' agent counts the refusal by reason from the
  // headers. A 2xx would tell the sender that everything arrived.
  static net::Response RefusedResponse(const CommitResult& r, int64_t invalid) {
    const int64_t refused = r.refused() + invalid;
    const int64_t total = refused + r.appended + r.duplicates;
    std::string message =
        refused == total
            ? fmt::format("refused all {} samples:", total)
            : fmt::format("refused {} of {} samples ({} stored, {} already stored):", refused,
                          total, r.appended, r.duplicates);
    const char* sep = " ";
    if (r.too_far_in_future > 0) {
      message += fmt::format(
          "{}{} too_far_in_future (after {}, the receiver's clock plus its future tolerance; "
          "e.g. {} at {})",
          sep, r.too_far_in_future, FormatTimestampMs(r.max_time_ms),
          Example(r.first_too_far_in_future.series),
          FormatTimestampMs(r.first_too_far_in_future.timestamp_ms));
      sep = "; ";
    }
    if (r.too_old > 0) {
      message += fmt::format(
          "{}{} too_old (before {}, the receiver's clock minus its out-of-order window, or not "
          "after what the series already settled; e.g. {} at {})",
          sep, r.too_old, FormatTimestampMs(r.min_time_ms), Example(r.first_too_old.series),
          FormatTimestampMs(r.first_too_old.timestamp_ms));
      sep = "; ";
    }
    if (invalid > 0) message += fmt::format("{}{} invalid (series without a metric name)", sep,
                                            invalid);
    const std::pair<std::string_view, int64_t> reasons[] = {
        {"too_far_in_future", r.too_far_in_future}, {"too_old", r.too_old}, {"invalid", invalid}};
    std::string body = R"({"status":"error","errorType":"bad_data","error":)";
    core::AppendJsonString(&body, message);
    body += fmt::format(R"(,"stored":{},"duplicates":{},"refused":{{)", r.appended,
                        r.duplicates);
    std::string header;
    for (size_t i = 0; i < std::size(reasons); ++i) {
      body += fmt::format(R"({}"{}":{})", i > 0 ? "," : "", reasons[i].first, reasons[i].second);
      if (reasons[i].second == 0) continue;
      if (!header.empty()) header += ", ";
      header += fmt::format("{}={}", reasons[i].first, reasons[i].second);
    }
    body += "}}";
    net::Response response = net::Response::Json(400, std::move(body));
    response.headers.Set(std::string(kRefusedSamplesHeader), header);
    response.headers.Set(std::string(kStoredSamplesHeader), std::to_string(r.appended));
    return response;
  }
};

}  // namespace

std::vector<std::pair<std::string, int64_t>> ParseRefusedSamples(std::string_view value) {
  std::vector<std::pair<std::string, int64_t>> out;
  while (!value.empty()) {
    const size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    const size_t eq = item.find('=');
    if (eq == 0 || eq == std::string_view::npos) continue;
    int64_t n = 0;
    const std::string_view digits = item.substr(eq + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size() || n < 0) continue;
    out.emplace_back(std::string(item.substr(0, eq)), n);
  }
  return out;
}

net::Handler RemoteWriteHandler(std::function<std::unique_ptr<Appender>()> new_appender,
                                std::shared_ptr<prometheus::Registry> registry,
                                size_t max_decoded_bytes) {
  auto state = std::make_shared<HandlerState>();
  state->new_appender = std::move(new_appender);
  state->max_decoded_bytes = max_decoded_bytes;
  auto& samples = prometheus::BuildCounter()
                      .Name("nines_remote_write_received_samples_total")
                      .Help("Samples received by remote write, by what the store did with them.")
                      .Register(*registry);
  state->appended = &samples.Add({{"outcome", "appended"}});
  state->duplicate = &samples.Add({{"outcome", "duplicate"}});
  state->too_old = &samples.Add({{"outcome", "too_old"}});
  state->too_far_in_future = &samples.Add({{"outcome", "too_far_in_future"}});
  state->invalid = &samples.Add({{"outcome", "invalid"}});
  auto& requests = prometheus::BuildCounter()
                       .Name("nines_remote_write_requests_total")
                       .Help("Remote-write requests received, by response status code.")
                       .Register(*registry);
  for (int code : {204, 400, 413, 415, 500, 503}) {
    state->requests[code] = &requests.Add({{"code", std::to_string(code)}});
  }
  auto& ignored = prometheus::BuildCounter()
                      .Name("nines_remote_write_ignored_total")
                      .Help("Native histogram samples, exemplars and metadata entries received "
                            "by remote write and skipped.")
                      .Register(*registry);
  state->ignored_histograms = &ignored.Add({{"kind", "histogram"}});
  state->ignored_exemplars = &ignored.Add({{"kind", "exemplar"}});
  state->ignored_metadata = &ignored.Add({{"kind", "metadata"}});
  return [state](const net::Request& req) { return state->Handle(req); };
}

}  // namespace nines::store
