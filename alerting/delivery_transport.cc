// The default Transport: HTTP through net::HttpClient, email through libcurl's SMTP.
#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <random>
#include <string>

#include "alerting/delivery.h"
#include "alerting/delivery_internal.h"
#include "net/http_client.h"

namespace nines::alerting {
namespace {

using core::Duration;

class HttpTransport {
 public:
  explicit HttpTransport(const TransportOptions& options)
      : client_(net::ClientOptions{
            .connect_timeout = std::min(options.timeout, Duration::Seconds(10)),
            .request_timeout = options.timeout,
            .max_idle_per_host = 2,
            .verify_tls = options.verify_tls,
            .ca_file = options.ca_file,
            .max_response_bytes = 1 << 20,
        }) {}

  core::Result<TransportResponse> Send(const OutgoingRequest& request) {
    core::Result<net::ClientResponse> res = client_.Do(request.http);
    if (!res.ok()) {
      // HttpClient's messages name the URL, whose path may be the secret (Slack, webhooks).
      std::string message = delivery_internal::Scrub(res.status().message(), request, 1024);
      return core::Status(res.status().code(), request.target + ": " + message);
    }
    return TransportResponse{.status = res->status,
                             .retry_after = std::string(res->headers.Get("Retry-After")),
                             .body = std::move(res->body)};
  }

 private:
  net::HttpClient client_;
};

// Feeds the message to curl's upload.
struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* up = static_cast<Upload*>(userdata);
  size_t n = std::min(size * nitems, up->data->size() - up->offset);
  std::memcpy(buffer, up->data->data() + up->offset, n);
  up->offset += n;
  return n;
}

// The server's replies worth reporting.
struct Replies {
  std::string last;        // the last line
  std::string last_error;  // the last 4xx or 5xx line (QUIT's "221 Bye" comes after it)
};

// Keeps the server's reply lines. Only what the server sent (CURLINFO_HEADER_IN): what we send
// includes AUTH's base64 credentials and is never looked at.
int Debug(CURL* /*handle*/, curl_infotype type, char* data, size_t size, void* userdata) {
  if (type != CURLINFO_HEADER_IN) return 0;
  std::string line(data, size);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.empty()) return 0;
  auto* replies = static_cast<Replies*>(userdata);
  replies->last = line.substr(0, 512);
  if (line[0] == '4' || line[0] == '5') replies->last_error = replies->last;
  return 0;
}

struct CurlHandle {
  CURL* curl = curl_easy_init();
  curl_slist* rcpts = nullptr;
  ~CurlHandle() {
    curl_slist_free_all(rcpts);
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

class SmtpTransport {
 public:
  explicit SmtpTransport(const TransportOptions& options)
      : options_(options),
        clock_(options.clock != nullptr ? *options.clock : core::RealClock()),
        rng_(std::random_device{}()) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  core::Result<TransportResponse> Send(const OutgoingRequest& request);

 private:
  uint64_t Random() {
    std::lock_guard<std::mutex> lock(mu_);
    return rng_();
  }
  core::Result<TransportResponse> Outcome(const OutgoingRequest& request, CURL* curl, CURLcode code,
                                          const Replies& replies, const char* errbuf);

  const TransportOptions options_;
  core::Clock& clock_;
  std::mutex mu_;
  std::mt19937_64 rng_;  // guarded by mu_
};

core::Result<TransportResponse> SmtpTransport::Send(const OutgoingRequest& request) {
  const EmailMessage& m = request.email;
  core::Result<std::string> message = delivery_internal::BuildEmail(m, clock_.Now(), Random());
  if (!message.ok()) return message.status();
  if (m.to.empty()) return core::InvalidArgumentError("{}: no recipients", request.target);
  size_t colon = m.smarthost.rfind(':');
  bool implicit_tls = colon != std::string::npos && m.smarthost.substr(colon + 1) == "465";
  std::string hello = m.hello.empty() ? "localhost" : m.hello;
  std::string url = (implicit_tls ? "smtps://" : "smtp://") + m.smarthost + "/" + hello;

  CurlHandle h;
  if (h.curl == nullptr) return core::InternalError("{}: curl_easy_init failed", request.target);
  CURL* c = h.curl;
  char errbuf[CURL_ERROR_SIZE] = {0};
  Replies replies;
  Upload upload{.data = &message.value()};
  std::string from = "<" + delivery_internal::AddressOf(m.from) + ">";
  for (const std::string& to : m.to) {
    h.rcpts = curl_slist_append(h.rcpts, ("<" + delivery_internal::AddressOf(to) + ">").c_str());
  }
  long timeout_ms = static_cast<long>(options_.timeout.nanos() / 1'000'000);  // NOLINT(runtime/int)
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
  curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, Debug);
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, &replies);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 10'000L));
  curl_easy_setopt(c, CURLOPT_USE_SSL, m.require_tls ? CURLUSESSL_ALL : CURLUSESSL_NONE);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!m.auth_username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, m.auth_username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, m.auth_password.c_str());
    if (!m.auth_identity.empty()) {
      curl_easy_setopt(c, CURLOPT_SASL_AUTHZID, m.auth_identity.c_str());
    }
  }
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, h.rcpts);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message->size()));
  CURLcode code = curl_easy_perform(c);
  return Outcome(request, c, code, replies, errbuf);
}

core::Result<TransportResponse> SmtpTransport::Outcome(const OutgoingRequest& request, CURL* curl,
                                                       CURLcode code, const Replies& replies,
                                                       const char* errbuf) {
  long smtp_code = 0;  // NOLINT(runtime/int)
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &smtp_code);
  if (code == CURLE_OK) {
    return TransportResponse{
        .status = 200, .retry_after = "", .body = delivery_internal::Scrub(replies.last, request)};
  }
  std::string body = delivery_internal::Scrub(
      replies.last_error.empty() ? replies.last : replies.last_error, request);
  // The server said no: 5xx is permanent, 4xx transient (RFC 5321 4.2.1).
  if (smtp_code >= 500) return TransportResponse{.status = 400, .retry_after = "", .body = body};
  if (smtp_code >= 400) return TransportResponse{.status = 503, .retry_after = "", .body = body};
  std::string detail = delivery_internal::Scrub(
      std::string(curl_easy_strerror(code)) + (errbuf[0] != 0 ? std::string(": ") + errbuf : ""),
      request);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return core::DeadlineExceededError("{}: {}", request.target, detail);
    case CURLE_USE_SSL_FAILED:
      return core::UnavailableError("{}: the server does not offer STARTTLS (require_tls): {}",
                                    request.target, detail);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return core::InvalidArgumentError("{}: bad smarthost: {}", request.target, detail);
    default:
      return core::UnavailableError("{}: {}", request.target, detail);
  }
}

class DefaultTransport final : public Transport {
 public:
  explicit DefaultTransport(const TransportOptions& options) : http_(options), smtp_(options) {}

  core::Result<TransportResponse> Send(const OutgoingRequest& request) override {
    return request.kind == OutgoingRequest::Kind::kEmail ? smtp_.Send(request)
                                                         : http_.Send(request);
  }

 private:
  HttpTransport http_;
  SmtpTransport smtp_;
};

}  // namespace

std::unique_ptr<Transport> MakeDefaultTransport(TransportOptions options) {
  return std::make_unique<DefaultTransport>(options);
}

std::unique_ptr<Transport> MakeDefaultTransport(Duration timeout) {
  return MakeDefaultTransport(TransportOptions{.timeout = timeout});
}

}  // namespace nines::alerting
