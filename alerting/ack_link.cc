// Signed acknowledgement links (ack_link.h). OpenSSL's HMAC and constant-time compare.
#include "alerting/ack_link.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cctype>
#include <charconv>
#include <optional>

#include "net/net.h"

namespace nines::alerting {
namespace {

// The message signed: a version tag and every claim, each on its own line (no claim may hold a
// newline, so no two claim sets share a message).
std::string Message(std::string_view action, std::string_view incident, std::string_view person,
                    int64_t expires) {
  return fmt::format("nines-ack-link-v1\n{}\n{}\n{}\n{}", action, incident, person, expires);
}

std::string HexHmac(std::string_view key, const std::string& message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &len);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", mac[i]);
  return hex;
}

std::string PercentEncode(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

core::Status CheckClaim(std::string_view name, std::string_view value) {
  if (value.empty()) return core::InvalidArgumentError("ack link: empty {}", name);
  if (value.find('\n') != std::string_view::npos) {
    return core::InvalidArgumentError("ack link: {} contains a newline", name);
  }
  return core::Status::Ok();
}

}  // namespace

core::Result<std::string> SignAckLinkQuery(std::string_view key, const AckLinkClaims& claims) {
  if (key.size() < kMinAckLinkKeyBytes) {
    return core::InvalidArgumentError("ack link key is shorter than {} bytes", kMinAckLinkKeyBytes);
  }
  RETURN_IF_ERROR(CheckClaim("action", claims.action));
  RETURN_IF_ERROR(CheckClaim("incident", claims.incident));
  RETURN_IF_ERROR(CheckClaim("person", claims.person));
  const int64_t expires = claims.expires.UnixSeconds();
  return fmt::format("person={}&expires={}&sig={}", PercentEncode(claims.person), expires,
                     HexHmac(key, Message(claims.action, claims.incident, claims.person, expires)));
}

core::Result<AckLinkClaims> VerifyAckLinkQuery(std::string_view key, std::string_view action,
                                               std::string_view incident, std::string_view query,
                                               core::Timestamp now) {
  if (key.size() < kMinAckLinkKeyBytes) {
    return core::InvalidArgumentError("ack link key is shorter than {} bytes", kMinAckLinkKeyBytes);
  }
  std::optional<std::string> person, expires_text, sig;
  for (auto& [name, value] : net::ParseQueryString(query)) {
    std::optional<std::string>* field = name == "person"    ? &person
                                        : name == "expires" ? &expires_text
                                        : name == "sig"     ? &sig
                                                            : nullptr;
    if (field == nullptr) continue;  // other parameters are not signed and not used
    if (field->has_value()) return core::InvalidArgumentError("ack link: {} given twice", name);
    *field = std::move(value);
  }
  if (!person || !expires_text || !sig) {
    return core::InvalidArgumentError("ack link: want person, expires and sig");
  }
  int64_t expires = 0;
  auto [end, ec] =
      std::from_chars(expires_text->data(), expires_text->data() + expires_text->size(), expires);
  if (ec != std::errc() || end != expires_text->data() + expires_text->size()) {
    return core::InvalidArgumentError("ack link: expires is not a number of seconds");
  }
  RETURN_IF_ERROR(CheckClaim("action", action));
  RETURN_IF_ERROR(CheckClaim("incident", incident));
  RETURN_IF_ERROR(CheckClaim("person", *person));
  const std::string want = HexHmac(key, Message(action, incident, *person, expires));
  if (sig->size() != want.size() || CRYPTO_memcmp(sig->data(), want.data(), want.size()) != 0) {
    return core::PermissionDeniedError("ack link: invalid signature");
  }
  const core::Timestamp expiry = core::Timestamp::FromUnixSeconds(expires);
  if (now >= expiry) {
    return core::PermissionDeniedError("ack link: expired at {}", expiry.ToRfc3339());
  }
  return AckLinkClaims{std::string(action), std::string(incident), *person, expiry};
}

}  // namespace nines::alerting
