// alerting/ack_link.h: signed, expiring acknowledgement links for pages (issue 15: a tested
// library, not yet served by the API nor put into pages).
//
// A link carries what it acknowledges (an action on an incident), who clicks it and until when
// it works, and an HMAC-SHA256 over exactly those, with a key only nines knows:
//
//   https://nines.example.com/api/v1/incidents/INC-42/acknowledge?person=alice&expires=1767225600
//       &sig=<64 hex digits>
//
// The API (a later step) takes the incident and the action from the path and hands the query to
// VerifyAckLinkQuery, which refuses a forged, tampered or expired link. The key is a secret: it
// never appears in a link, a message or a log line.
//
// Pure functions, thread-safe.
#ifndef NINES_ALERTING_ACK_LINK_H_
#define NINES_ALERTING_ACK_LINK_H_

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"

namespace nines::alerting {

// The shortest key accepted, in bytes (HMAC-SHA256's block of security).
constexpr size_t kMinAckLinkKeyBytes = 32;

struct AckLinkClaims {
  std::string action = "acknowledge";  // REQUIRED: what the link does ("acknowledge", "resolve")
  std::string incident;                // REQUIRED: the incident's id
  std::string person;                  // REQUIRED: who the link was sent to
  core::Timestamp expires;             // the link works before this instant (whole seconds)
  friend bool operator==(const AckLinkClaims&, const AckLinkClaims&) = default;
};

// The link's query string: "person=<percent-encoded>&expires=<unix seconds>&sig=<hex>".
// Errors: INVALID_ARGUMENT for a key shorter than kMinAckLinkKeyBytes or an empty field.
core::Result<std::string> SignAckLinkQuery(std::string_view key, const AckLinkClaims& claims);

// Checks a link's query (as received, still percent-encoded) for `action` on `incident` at `now`
// and returns its claims. Errors: INVALID_ARGUMENT when the key is too short or the query lacks
// person, expires or sig or has them malformed or twice; PERMISSION_DENIED "invalid signature"
// for a forged or tampered link (any field changed, another key), PERMISSION_DENIED "expired"
// when now >= expires (checked after the signature, so an expired forgery says invalid).
core::Result<AckLinkClaims> VerifyAckLinkQuery(std::string_view key, std::string_view action,
                                               std::string_view incident, std::string_view query,
                                               core::Timestamp now);

}  // namespace nines::alerting

#endif  // NINES_ALERTING_ACK_LINK_H_
