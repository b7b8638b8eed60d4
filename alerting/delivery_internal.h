// alerting/delivery_internal.h: the pure pieces of delivery (delivery.cc, delivery_transport.cc,
// delivery_mime.cc), declared here so that tests can check them directly. Not a public API.
//
// Thread-safety: stateless functions; safe from any thread.
#ifndef NINES_ALERTING_DELIVERY_INTERNAL_H_
#define NINES_ALERTING_DELIVERY_INTERNAL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "alerting/delivery.h"
#include "alerting/notifiers.h"
#include "core/status.h"
#include "core/time.h"

namespace nines::alerting::delivery_internal {

// The wait a Retry-After value asks for at `now`: delta-seconds ("120") or an HTTP date
// (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT", or
// asctime "Sun Nov  6 08:49:37 1994"). A date in the past gives zero. nullopt when the value is
// none of these (or absurdly large: more than a year).
std::optional<core::Duration> ParseRetryAfter(std::string_view value, core::Timestamp now);

// Parses an HTTP date (the three forms above). nullopt when it is not one.
std::optional<core::Timestamp> ParseHttpDate(std::string_view text);

// RFC 5322 date-time in UTC: "Mon, 07 Dec 2026 18:21:59 +0000".
std::string FormatEmailDate(core::Timestamp t);

// A header value fit for the wire: CR and LF become spaces (no header injection); a value with
// bytes outside printable ASCII becomes RFC 2047 "=?UTF-8?q?...?=" words of at most 75 characters
// each, never splitting a UTF-8 sequence, joined by folding whitespace.
std::string EncodeHeaderValue(std::string_view value);

// Quoted-printable (RFC 2045) of UTF-8 text: line breaks (LF or CRLF) become CRLF, lines are
// soft-broken at 76 characters, '=', control and non-ASCII bytes and trailing spaces are escaped.
std::string QuotedPrintable(std::string_view text);

// The addr-spec of a mailbox: "Ops <ops@example.com>" -> "ops@example.com"; "a@b" -> "a@b".
std::string AddressOf(std::string_view mailbox);

// The whole RFC 5322 message for `m` (see MakeDefaultTransport), CRLF line endings. `random` makes
// the MIME boundary and the Message-Id unique. Errors: INVALID_ARGUMENT for a header name that is
// not a token.
core::Result<std::string> BuildEmail(const EmailMessage& m, core::Timestamp now, uint64_t random);

// The backoff cap after `failures` (>= 1) consecutive failures: min(max, initial * 2^(n-1)).
core::Duration BackoffCap(core::Duration initial, core::Duration max, int failures);

// `text` with the secrets of `request` replaced by "<secret>": its URL, the URL's path and query
// and each of their parts that looks like a token (16+ characters, or 8+ with a digit), values of
// credential headers (Authorization, *key*, *token*, *secret*), the SMTP password, and each of
// request.secrets (as it is and as a JSON string escapes it; those under 4 bytes are left, as
// masking them would mask ordinary words); control characters become spaces; cut to `max_bytes`
// (with "..." appended when cut).
std::string Scrub(std::string_view text, const OutgoingRequest& request, size_t max_bytes = 512);

// Judges a 2xx `response` to `request` by request.response_check: OK when delivered; UNAVAILABLE
// to retry (Slack's "ratelimited", a body that is not Slack's JSON); FAILED_PRECONDITION when
// the service refused it for good (Slack's {"ok":false,"error":"channel_not_found"}). The
// message names the service's error.
core::Status CheckResponse(const OutgoingRequest& request, const TransportResponse& response);

}  // namespace nines::alerting::delivery_internal

#endif  // NINES_ALERTING_DELIVERY_INTERNAL_H_
