// Reading a request: Beast's parsed request as a Request, the answer to one that could not be
// read, and ParseRequest, which runs the same steps on bytes for the fuzzer and the tests.
#include <algorithm>
#include <limits>

#include "net/server_impl.h"

namespace nines::net::internal {
namespace {

bool IsHttpError(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

}  // namespace

std::string ErrorBody(std::string_view reason) { return Response::Error(0, reason).body; }

std::optional<ReadErrorAnswer> AnswerReadError(const error_code& ec, size_t max_header_bytes,
                                               size_t max_body_bytes) {
  if (ec == http::error::body_limit) {
    return ReadErrorAnswer{
        Response::Error(413, fmt::format("request body exceeds {} bytes", max_body_bytes)),
        "body_too_large"};
  }
  if (ec == http::error::header_limit) {
    return ReadErrorAnswer{
        Response::Error(431, fmt::format("request header exceeds {} bytes", max_header_bytes)),
        "header_too_large"};
  }
  if (IsHttpError(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return ReadErrorAnswer{Response::Error(400, "bad request: " + ec.message()), "bad_request"};
  }
  return std::nullopt;
}

void LimitParser(http::request_parser<http::string_body>* parser, size_t max_header_bytes,
                 size_t max_body_bytes) {
  parser->header_limit(static_cast<uint32_t>(
      std::min<size_t>(max_header_bytes, std::numeric_limits<uint32_t>::max())));
  parser->body_limit(max_body_bytes);
}

Request MakeRequest(std::string method, std::string target, const std::string& raw_path,
                    http::request<http::string_body>* parsed) {
  Request req;
  req.method = std::move(method);
  req.target = std::move(target);
  core::Result<std::string> path = PercentDecode(raw_path, /*plus_is_space=*/false);
  req.path = path.ok() ? std::move(path).value() : raw_path;
  if (size_t q = req.target.find('?'); q != std::string::npos) {
    req.query = req.target.substr(q + 1);
    req.query = req.query.substr(0, req.query.find('#'));
  }
  for (const auto& field : *parsed) {
    req.headers.Add(Sv(field.name_string()), Sv(field.value()));
  }
  req.body = std::move(parsed->body());
  return req;
}

// Extracts the token from "Bearer <token>" (scheme case-insensitive). False when absent.
bool ParseBearer(std::string_view authorization, std::string_view* token) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme) ||
      authorization[kScheme.size()] != ' ') {
    return false;
  }
  std::string_view t = authorization.substr(kScheme.size());
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  *token = t;
  return !t.empty();
}

std::string RawPathOf(std::string_view target) {
  std::string_view raw_path = target;
  if (size_t scheme = raw_path.find("://");
      scheme != std::string_view::npos && !raw_path.empty() && raw_path.front() != '/') {
    // absolute-form (RFC 9112 3.2.2): drop "scheme://authority".
    size_t slash = raw_path.find('/', scheme + 3);
    raw_path = slash == std::string_view::npos ? std::string_view("/") : raw_path.substr(slash);
  }
  return std::string(raw_path.substr(0, raw_path.find_first_of("?#")));
}

ParsedRequest ParseRequest(std::string_view wire, size_t max_header_bytes, size_t max_body_bytes) {
  ParsedRequest out;
  http::request_parser<http::string_body> parser;
  LimitParser(&parser, max_header_bytes, max_body_bytes);
  parser.eager(true);
  error_code ec;
  size_t used = 0;
  // All of `wire` is there at once: when the parser makes no progress on what is left, the
  // client has stopped sending (EOF).
  while (!parser.is_done()) {
    size_t n = parser.put(asio::buffer(wire.data() + used, wire.size() - used), ec);
    used += n;
    if (ec == http::error::need_more) ec = {};
    if (ec) break;
    if (n == 0) {
      // As Beast's read does: EOF before any byte is the end of the stream, not a request.
      if (!parser.got_some()) {
        ec = http::error::end_of_stream;
        break;
      }
      parser.put_eof(ec);
      if (!ec && !parser.is_done()) ec = http::error::partial_message;
      break;
    }
  }
  out.consumed = used;
  if (ec) {
    if (std::optional<ReadErrorAnswer> answer =
            AnswerReadError(ec, max_header_bytes, max_body_bytes)) {
      out.error_status = answer->response.status;
      out.error = std::string(answer->reason);
    } else {
      out.error = "closed: " + ec.message();
    }
    return out;
  }
  http::request<http::string_body> parsed = parser.release();
  out.keep_alive = parsed.keep_alive();
  std::string target(Sv(parsed.target()));
  out.raw_path = RawPathOf(target);
  out.request = MakeRequest(std::string(Sv(parsed.method_string())), std::move(target),
                            out.raw_path, &parsed);
  out.ok = true;
  return out;
}

}  // namespace nines::net::internal
