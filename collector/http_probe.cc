// The HTTP(S) probe: blackbox_exporter's http prober on Asio/Beast. One connection per request
// (a probe measures connect and TLS every time, as blackbox does with keep-alive off per probe);
// redirects are followed by hand so that every hop's phases are measured and summed.
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "collector/probe.h"
#include "collector/probe_net.h"
#include "net/http_client.h"
#include "net/net.h"

namespace nines::collector {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using probe_net::error_code;
using probe_net::ErrorText;
using tcp = asio::ip::tcp;

// Beast's string_view is Boost's.
std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }

constexpr size_t kHeaderLimit = 64 * 1024;
constexpr int kMaxJsonDepth = 512;

// --- A minimal JSON locator (RFC 8259 syntax, RFC 6901 pointers) ------------------------------
// Only what a check needs: walk to one value and return its text. It validates what it walks
// over, not the whole document, which is enough to say "missing" or "not JSON" honestly.
class JsonWalker {
 public:
  explicit JsonWalker(std::string_view s) : s_(s) {}

  enum class Outcome { kFound, kMissing, kInvalid };
  struct Located {
    Outcome outcome = Outcome::kMissing;
    std::string text;  // strings unquoted and unescaped; other values as written
    size_t error_at = 0;
  };

  Located Locate(const std::vector<std::string>& tokens) {
    Located out;
    Ws();
    for (const std::string& token : tokens) {
      if (!Descend(token, &out)) return out;
    }
    Ws();
    const size_t begin = pos_;
    if (Peek() == '"') {
      if (!String(&out.text)) return Invalid(&out);
    } else {
      if (!SkipValue(0)) return Invalid(&out);
      out.text = std::string(s_.substr(begin, pos_ - begin));
    }
    out.outcome = Outcome::kFound;
    return out;
  }

 private:
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void Ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' ||
                                s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Eat(char c) {
    Ws();
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  Located& Invalid(Located* out) {
    out->outcome = Outcome::kInvalid;
    out->error_at = pos_;
    return *out;
  }

  // Moves to the member `token` of the object (or element of the array) at pos_. False when the
  // walk ends (out says whether missing or invalid).
  bool Descend(const std::string& token, Located* out) {
    Ws();
    if (Peek() == '{') {
      ++pos_;
      if (Eat('}')) return Missing(out);
      while (true) {
        Ws();
        std::string key;
        if (Peek() != '"' || !String(&key) || !Eat(':')) return Fail(out);
        Ws();
        if (key == token) return true;
        if (!SkipValue(0)) return Fail(out);
        if (Eat(',')) continue;
        if (Eat('}')) return Missing(out);
        return Fail(out);
      }
    }
    if (Peek() == '[') {
      ++pos_;
      size_t index = 0;
      const bool numeric = !token.empty() && token.find_first_not_of("0123456789") == std::string::npos &&
                           (token == "0" || token[0] != '0');
      if (!numeric) return Missing(out);
      auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
      if (ec != std::errc()) return Missing(out);
      if (Eat(']')) return Missing(out);
      for (size_t i = 0;; ++i) {
        Ws();
        if (i == index) return true;
        if (!SkipValue(0)) return Fail(out);
        if (Eat(',')) continue;
        if (Eat(']')) return Missing(out);
        return Fail(out);
      }
    }
    // A scalar has no members; anything else is not JSON.
    if (!SkipValue(0)) return Fail(out);
    return Missing(out);
  }
  bool Fail(Located* out) {
    Invalid(out);
    return false;
  }
  static bool Missing(Located* out) {
    out->outcome = Outcome::kMissing;
    return false;
  }

  bool SkipValue(int depth) {
    if (depth > kMaxJsonDepth) return false;
    Ws();
    switch (Peek()) {
      case '"':
        return String(nullptr);
      case '{':
        ++pos_;
        if (Eat('}')) return true;
        while (true) {
          Ws();
          if (Peek() != '"' || !String(nullptr) || !Eat(':') || !SkipValue(depth + 1)) return false;
          if (Eat(',')) continue;
          return Eat('}');
        }
      case '[':
        ++pos_;
        if (Eat(']')) return true;
        while (true) {
          if (!SkipValue(depth + 1)) return false;
          if (Eat(',')) continue;
          return Eat(']');
        }
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        return Number();
    }
  }
  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool Number() {
    const size_t begin = pos_;
    if (Peek() == '-') ++pos_;
    size_t digits = 0;
    while (pos_ < s_.size() && std::string_view("0123456789.eE+-").find(s_[pos_]) != std::string_view::npos) {
      if (std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++digits;
      ++pos_;
    }
    return digits > 0 && pos_ > begin;
  }
  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool Hex4(uint32_t* v) {
    if (pos_ + 4 > s_.size()) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = Hex(s_[pos_++]);
      if (h < 0) return false;
      *v = *v * 16 + static_cast<uint32_t>(h);
    }
    return true;
  }
  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  // At '"': reads a string literal, unescaped into *out when out is not null.
  bool String(std::string* out) {
    ++pos_;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        if (out != nullptr) out->push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) return false;
      char e = s_[pos_++];
      char plain = 0;
      switch (e) {
        case '"': plain = '"'; break;
        case '\\': plain = '\\'; break;
        case '/': plain = '/'; break;
        case 'b': plain = '\b'; break;
        case 'f': plain = '\f'; break;
        case 'n': plain = '\n'; break;
        case 'r': plain = '\r'; break;
        case 't': plain = '\t'; break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF && s_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            uint32_t low = 0;
            if (!Hex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          if (out != nullptr) AppendUtf8(cp, out);
          continue;
        }
        default:
          return false;
      }
      if (out != nullptr) out->push_back(plain);
    }
    return false;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// "/a/b~1c" -> {"a", "b/c"}; nullopt for a pointer that is not "" and does not start with '/'.
std::optional<std::vector<std::string>> PointerTokens(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer[0] != '/') return std::nullopt;
  size_t i = 1;
  while (true) {
    size_t end = pointer.find('/', i);
    std::string_view raw = pointer.substr(i, end == std::string_view::npos ? end : end - i);
    std::string token;
    for (size_t k = 0; k < raw.size(); ++k) {
      if (raw[k] == '~' && k + 1 < raw.size() && (raw[k + 1] == '0' || raw[k + 1] == '1')) {
        token.push_back(raw[k + 1] == '0' ? '~' : '/');
        ++k;
      } else {
        token.push_back(raw[k]);
      }
    }
    tokens.push_back(std::move(token));
    if (end == std::string_view::npos) break;
    i = end + 1;
  }
  return tokens;
}

// Resolves a Location header against the URL it came from (RFC 3986 §5.2, without dot-segment
// removal: servers normalise "../" themselves).
std::string ResolveLocation(const net::Url& base, std::string_view location) {
  auto starts = [&](std::string_view prefix) {
    return location.size() >= prefix.size() &&
           net::EqualsIgnoreCase(location.substr(0, prefix.size()), prefix);
  };
  if (starts("http://") || starts("https://")) return std::string(location);
  const std::string host = base.host.find(':') != std::string::npos ? "[" + base.host + "]" : base.host;
  const std::string origin = fmt::format("{}://{}:{}", base.scheme, host, base.port);
  if (starts("//")) return fmt::format("{}:{}", base.scheme, location);
  if (starts("/")) return origin + std::string(location);
  const std::string_view path = std::string_view(base.target).substr(0, base.target.find('?'));
  if (starts("?")) return origin + std::string(path) + std::string(location);
  if (location.empty()) return origin + base.target;
  return origin + std::string(path.substr(0, path.rfind('/') + 1)) + std::string(location);
}

class HttpRun final : public probe_net::ProbeRun {
 public:
  using ProbeRun::ProbeRun;

 private:
  const HttpCheckOptions& opts() const { return check_->http; }

  void Begin() override {
    core::Result<net::Url> url = net::ParseUrl(check_->target);
    if (!url.ok()) {
      Finish(false, fmt::format("url: {}", url.status().message()));
      return;
    }
    url_ = std::move(url).value();
    method_ = opts().method.empty() ? "GET" : opts().method;
    body_ = opts().body;
    StartHop();
  }

  void CloseAll() override {
    error_code ec;
    if (tls_) tls_->next_layer().close(ec);
    if (sock_) sock_->close(ec);
  }

  // Blackbox reports its http gauges on every probe, a failed one too (status 0, the
  // redirects so far); dashboards and the agreement test rely on them being there. When the
  // status line and headers arrived but the body did not (a timeout, a closed connection, a body
  // over the limit), Go's client had already returned the response, so blackbox reports its
  // status and headers' values with probe_success 0; so does nines.
  void BeforeDone() override {
    if (judged_) return;
    if (header_done_) {
      transfer_ += (clock_.Monotonic() - mark_).SecondsDouble();
      AppendResponseMetrics();
    } else {
      Metric("probe_http_status_code", 0);
      Metric("probe_http_redirects", redirects_);
      Metric("probe_http_ssl", 0);
      AppendPhases();
    }
    Metric("probe_failed_due_to_regex", 0);
  }

  void AppendPhases() {
    for (const auto& [phase, seconds] : {std::pair<const char*, double>{"resolve", resolve_},
                                         {"connect", connect_},
                                         {"tls", tls_time_},
                                         {"processing", processing_},
                                         {"transfer", transfer_}}) {
      result_.metrics.push_back({"probe_http_duration_seconds", {{"phase", phase}}, seconds});
    }
    if (dns_lookup_) Metric("probe_dns_lookup_time_seconds", *dns_lookup_);
    if (ip_protocol_ != 0) Metric("probe_ip_protocol", ip_protocol_);
  }

  tcp::socket& Lowest() { return tls_ ? tls_->next_layer() : *sock_; }

  template <class F>
  void WithStream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*sock_);
    }
  }

  void StartHop() {
    tls_.reset();
    sock_.reset();
    buffer_.clear();
    header_done_ = false;
    https_ = url_.scheme == "https";
    if (https_ && !ctx_) {
      core::Result<std::shared_ptr<ssl::context>> ctx = probe_net::ClientTlsContext(
          {.verify = opts().tls_verify, .ca_file = opts().ca_file, .cert_file = opts().cert_file,
           .key_file = opts().key_file});
      if (!ctx.ok()) {
        Finish(false, fmt::format("tls: {}", ctx.status().message()));
        return;
      }
      ctx_ = std::move(ctx).value();
    }
    Resolve(url_.host, url_.port, opts().ip_preference,
            [this](std::vector<tcp::endpoint> endpoints, int ip_protocol) {
              resolve_ += last_resolve_.SecondsDouble();
              if (!dns_lookup_) dns_lookup_ = last_resolve_.SecondsDouble();
              ip_protocol_ = ip_protocol;
              Connect(endpoints.front());
            });
  }

  void Connect(const tcp::endpoint& endpoint) {
    SetPhase("connecting");
    if (https_) {
      tls_.emplace(strand_, *ctx_);
    } else {
      sock_.emplace(strand_);
    }
    const core::Duration began = clock_.Monotonic();
    Lowest().async_connect(endpoint, Guard([this, began](const error_code& ec) {
      connect_ += (clock_.Monotonic() - began).SecondsDouble();
      if (ec) {
        Finish(false, fmt::format("connect: {}", ErrorText(ec)));
        return;
      }
      error_code ignored;
      Lowest().set_option(tcp::no_delay(true), ignored);
      if (https_) {
        Handshake();
      } else {
        SendRequest();
      }
    }));
  }

  void Handshake() {
    SetPhase("handshaking");
    SSL* ssl = tls_->native_handle();
    probe_net::PrepareTlsClient(ssl, opts().server_name.empty() ? url_.host : opts().server_name,
                                opts().tls_verify);
    const core::Duration began = clock_.Monotonic();
    tls_->async_handshake(ssl::stream_base::client, Guard([this, began](const error_code& ec) {
      tls_time_ += (clock_.Monotonic() - began).SecondsDouble();
      if (ec) {
        Finish(false, fmt::format("tls: {}", probe_net::TlsFailure(ec, tls_->native_handle())));
        return;
      }
      SendRequest();
    }));
  }

  void SendRequest() {
    SetPhase("sending the request");
    request_ = {};
    const http::verb verb = http::string_to_verb(method_);
    if (verb == http::verb::unknown) {
      request_.method_string(method_);
    } else {
      request_.method(verb);
    }
    request_.target(url_.target);
    request_.version(11);
    request_.set(http::field::host, url_.HostHeader());
    request_.set(http::field::user_agent, "nines-probe");
    request_.set(http::field::connection, "close");
    for (const auto& [name, value] : opts().headers) request_.set(name, value);
    if (!body_.empty()) {
      request_.body() = body_;
      request_.prepare_payload();
    }
    mark_ = clock_.Monotonic();
    WithStream([this](auto& stream) {
      http::async_write(stream, request_, Guard([this](const error_code& ec, size_t) {
        if (ec) {
          Finish(false, fmt::format("send request: {}", ErrorText(ec)));
          return;
        }
        ReadHeader();
      }));
    });
  }

  void ReadHeader() {
    SetPhase("waiting for the response");
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(static_cast<uint64_t>(std::max<int64_t>(0, opts().max_body_bytes)));
    if (request_.method() == http::verb::head) parser_->skip(true);
    WithStream([this](auto& stream) {
      http::async_read_header(stream, buffer_, *parser_, Guard([this](const error_code& ec, size_t) {
        const core::Duration now = clock_.Monotonic();
        processing_ += (now - mark_).SecondsDouble();
        mark_ = now;
        if (ec) {
          ReadFailed(ec);
          return;
        }
        header_done_ = true;
        ReadBody();
      }));
    });
  }

  void ReadBody() {
    SetPhase("reading the body");
    WithStream([this](auto& stream) {
      http::async_read(stream, buffer_, *parser_, Guard([this](const error_code& ec, size_t) {
        const core::Duration now = clock_.Monotonic();
        transfer_ += (now - mark_).SecondsDouble();
        mark_ = now;  // a failure below must not count the transfer twice (BeforeDone)
        // Servers often close a TLS connection without close_notify once the body is complete;
        // the message is whole, so that is not a failure.
        if (ec && !(parser_->is_done() && (ec == ssl::error::stream_truncated ||
                                           ec == asio::error::eof))) {
          ReadFailed(ec);
          return;
        }
        OnResponse();
      }));
    });
  }

  void ReadFailed(const error_code& ec) {
    if (ec == http::error::body_limit) {
      Finish(false, fmt::format("body larger than {} bytes", opts().max_body_bytes));
    } else if (ec == http::error::end_of_stream || ec == asio::error::eof ||
               ec == ssl::error::stream_truncated) {
      Finish(false, "read response: connection closed before a complete response");
    } else {
      Finish(false, fmt::format("read response: {}", ErrorText(ec)));
    }
  }

  void OnResponse() {
    const auto& res = parser_->get();
    const int status = res.result_int();
    const bool is_redirect = status >= 300 && status <= 399 && res.count(http::field::location) > 0;
    if (is_redirect) {
      // Blackbox counts a redirect response it got even when it does not follow it, so that
      // probe_http_redirects agrees with it.
      // Blackbox counts every redirect response, the one it refuses to follow too (Go's client
      // asks CheckRedirect before following, with the requests made so far: a loop reports 11
      // with its limit of 10). A refused redirect is the final response; with max_redirects 0
      // it is judged by its status, as blackbox's follow_redirects: false does.
      ++redirects_;
      if (opts().max_redirects <= 0) {
        // Not following: the 3xx is the response.
      } else if (redirects_ > opts().max_redirects) {
        Judge(fmt::format("too many redirects ({})", opts().max_redirects));
        return;
      } else {
        const std::string next =
            ResolveLocation(url_, Sv(res[http::field::location]));
        core::Result<net::Url> url = net::ParseUrl(next);
        if (!url.ok()) {
          Judge(fmt::format("redirect to \"{}\": {}", next, url.status().message()));
          return;
        }
        // As Go's client (and so blackbox) does: 301/302/303 turn a non-HEAD request into a
        // bodyless GET; 307/308 repeat it.
        if ((status == 301 || status == 302 || status == 303) && method_ != "HEAD" &&
            method_ != "GET") {
          method_ = "GET";
          body_.clear();
        }
        url_ = std::move(url).value();
        CloseAll();
        StartHop();
        return;
      }
    }
    Judge("");
  }

  bool StatusValid(int status) const {
    if (opts().valid_status_codes.empty()) return status >= 200 && status <= 299;
    for (const auto& [lo, hi] : opts().valid_status_codes) {
      if (status >= lo && status <= hi) return true;
    }
    return false;
  }

  // The header regexes: false (and *reason) at the first failure.
  bool CheckHeaders(const http::response<http::string_body>& res, std::string* reason) {
    auto check = [&](const HeaderRegex& h, bool fail_if_match) {
      auto range = res.equal_range(h.header);
      if (range.first == range.second) {
        if (h.allow_missing) return true;
        *reason = fmt::format("header {} missing", h.header);
        return false;
      }
      core::Result<core::Regex> re = probe_net::CachedRegex(h.regex);
      if (!re.ok()) {
        *reason = fmt::format("header {}: {}", h.header, re.status().message());
        return false;
      }
      bool any = false;
      for (auto it = range.first; it != range.second && !any; ++it) {
        any = re->PartialMatch(Sv(it->value()));
      }
      if (fail_if_match && any) {
        *reason = fmt::format("header {} regex \"{}\" matched", h.header, h.regex);
        return false;
      }
      if (!fail_if_match && !any) {
        *reason = fmt::format("header {} regex \"{}\" did not match", h.header, h.regex);
        return false;
      }
      return true;
    };
    for (const HeaderRegex& h : opts().fail_if_header_matches) {
      if (!check(h, true)) return false;
    }
    for (const HeaderRegex& h : opts().fail_if_header_not_matches) {
      if (!check(h, false)) return false;
    }
    return true;
  }

  bool CheckBody(std::string_view body, std::string* reason) const {
    auto check = [&](const std::string& pattern, bool fail_if_match) {
      core::Result<core::Regex> re = probe_net::CachedRegex(pattern);
      if (!re.ok()) {
        *reason = fmt::format("body {}", re.status().message());
        return false;
      }
      const bool matched = re->PartialMatch(body);
      if (matched == fail_if_match) {
        *reason = fmt::format("body regex \"{}\" {}", pattern, matched ? "matched" : "did not match");
        return false;
      }
      return true;
    };
    for (const std::string& p : opts().fail_if_body_matches) {
      if (!check(p, true)) return false;
    }
    for (const std::string& p : opts().fail_if_body_not_matches) {
      if (!check(p, false)) return false;
    }
    return true;
  }

  bool CheckJson(std::string_view body, std::string* reason) {
    for (const JsonFieldCheck& c : opts().json_checks) {
      std::optional<std::vector<std::string>> tokens = PointerTokens(c.pointer);
      if (!tokens) {
        *reason = fmt::format("json {}: not a JSON pointer", c.pointer);
        return false;
      }
      JsonWalker::Located v = JsonWalker(body).Locate(*tokens);
      switch (v.outcome) {
        case JsonWalker::Outcome::kMissing:
          *reason = fmt::format("json {}: missing", c.pointer);
          return false;
        case JsonWalker::Outcome::kInvalid:
          *reason = fmt::format("json {}: body is not valid JSON (at byte {})", c.pointer, v.error_at);
          return false;
        case JsonWalker::Outcome::kFound:
          if (c.equals && v.text != *c.equals) {
            *reason = fmt::format("json {}: \"{}\" != \"{}\"", c.pointer, v.text, *c.equals);
            return false;
          }
      }
    }
    return true;
  }

  // The metrics of the final response (whose header has arrived; its body may be partial).
  void AppendResponseMetrics() {
    const auto& res = parser_->get();
    Metric("probe_http_status_code", res.result_int());
    double content_length = -1;
    if (auto it = res.find(http::field::content_length); it != res.end()) {
      int64_t n = 0;
      std::string_view v = Sv(it->value());
      if (std::from_chars(v.data(), v.data() + v.size(), n).ec == std::errc()) {
        content_length = static_cast<double>(n);
      }
    }
    Metric("probe_http_content_length", content_length);
    Metric("probe_http_uncompressed_body_length", static_cast<double>(res.body().size()));
    Metric("probe_http_version", res.version() / 10.0);
    Metric("probe_http_redirects", redirects_);
    Metric("probe_http_ssl", https_ ? 1 : 0);
    AppendPhases();
    if (https_) probe_net::AppendTlsMetrics(tls_->native_handle(), &result_.metrics);
  }

  // Emits the metrics of the final response and decides. `failure` is a reason already known
  // (too many redirects); the metrics are emitted either way.
  void Judge(std::string failure) {
    const auto& res = parser_->get();
    const int status = res.result_int();
    AppendResponseMetrics();
    judged_ = true;

    std::string reason = std::move(failure);
    if (reason.empty() && !StatusValid(status)) reason = fmt::format("status {}", status);
    if (reason.empty() && !CheckHeaders(res, &reason)) regex_failed_ = true;
    const bool body_regexes =
        !opts().fail_if_body_matches.empty() || !opts().fail_if_body_not_matches.empty();
    // A body of any size (up to max_body_bytes) is matched here: RE2 runs in linear time.
    if (reason.empty() && body_regexes && !CheckBody(res.body(), &reason)) regex_failed_ = true;
    Conclude(std::move(reason));
  }

  // The checks after the body regexes, then the verdict.
  void Conclude(std::string reason) {
    if (reason.empty()) CheckJson(parser_->get().body(), &reason);
    Metric("probe_failed_due_to_regex", regex_failed_ ? 1 : 0);
    const bool success = reason.empty();
    if (opts().degraded_above > core::Duration::Zero()) {
      const bool slow = clock_.Monotonic() - start_ > opts().degraded_above;
      Metric("probe_degraded", success && slow ? 1 : 0);
    }
    Finish(success, std::move(reason));
  }

  net::Url url_;
  std::string method_;
  std::string body_;
  bool https_ = false;
  bool judged_ = false;  // the final response's metrics are in result_
  bool header_done_ = false;  // this hop's status line and headers have arrived
  bool regex_failed_ = false;
  int redirects_ = 0;
  int ip_protocol_ = 0;
  std::optional<double> dns_lookup_;
  double resolve_ = 0, connect_ = 0, tls_time_ = 0, processing_ = 0, transfer_ = 0;
  core::Duration mark_;
  std::shared_ptr<ssl::context> ctx_;
  std::optional<tcp::socket> sock_;
  std::optional<ssl::stream<tcp::socket>> tls_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
};

}  // namespace

void StartHttpProbe(boost::asio::io_context& io, core::Clock& clock,
                    std::shared_ptr<const CheckSpec> check, ProbeDone done) {
  std::make_shared<HttpRun>(io, clock, std::move(check), std::move(done))->Start();
}

}  // namespace nines::collector
