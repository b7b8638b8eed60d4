// Signed acknowledgement links (alerting/ack_link.h): a genuine link works until it expires; a
// forged, tampered or expired one is refused, and the key never shows in a link or an error.
#include "alerting/ack_link.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nines::alerting {
namespace {

using core::Duration;
using core::StatusCode;
using core::Timestamp;

const std::string kKey = "0123456789abcdef0123456789abcdef-nines-test-key";
const Timestamp kNow = Timestamp::FromUnixSeconds(1'767'225'600);  // 2026-01-01T00:00:00Z

AckLinkClaims Claims() {
  return AckLinkClaims{"acknowledge", "INC-42", "Zoë O'Brien", kNow + Duration::Minutes(30)};
}

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  size_t p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from << " in " << s;
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

TEST(AckLinkTest, AGenuineLinkWorksUntilItExpires) {
  auto query = SignAckLinkQuery(kKey, Claims());
  ASSERT_TRUE(query.ok()) << query.status().ToString();
  EXPECT_EQ(query->rfind("person=Zo%C3%AB%20O%27Brien&expires=1767227400&sig=", 0), 0u) << *query;
  EXPECT_EQ(query->size(),
            std::string("person=Zo%C3%AB%20O%27Brien&expires=1767227400&sig=").size() + 64);
  EXPECT_EQ(query->find(kKey), std::string::npos);
  auto claims = VerifyAckLinkQuery(kKey, "acknowledge", "INC-42", *query, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(*claims, Claims());
  // Still good a second before it expires; an unsigned extra parameter changes nothing.
  EXPECT_TRUE(VerifyAckLinkQuery(kKey, "acknowledge", "INC-42", *query + "&utm=mail",
                                 kNow + Duration::Minutes(30) - Duration::Seconds(1))
                  .ok());
}

TEST(AckLinkTest, AnExpiredLinkIsRefused) {
  std::string query = *SignAckLinkQuery(kKey, Claims());
  for (Timestamp at : {kNow + Duration::Minutes(30), kNow + Duration::Days(3)}) {
    auto r = VerifyAckLinkQuery(kKey, "acknowledge", "INC-42", query, at);
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(r.status().message().find("expired at 2026-01-01T00:30:00.000Z"), std::string::npos)
        << r.status().message();
  }
}

TEST(AckLinkTest, ForgedAndTamperedLinksAreRefused) {
  const std::string query = *SignAckLinkQuery(kKey, Claims());
  const std::string sig = query.substr(query.size() - 64);
  struct Case {
    std::string name, action, incident, query;
  };
  std::string flipped = sig;
  flipped[10] = flipped[10] == 'a' ? 'b' : 'a';
  const std::string other_key = std::string(kKey).replace(0, 1, "X");
  const std::vector<Case> cases = {
      {"other incident", "acknowledge", "INC-43", query},
      {"other action", "resolve", "INC-42", query},
      {"other person", "acknowledge", "INC-42", Replace(query, "Zo%C3%AB", "Zoe")},
      {"later expiry", "acknowledge", "INC-42", Replace(query, "1767227400", "1767999999")},
      {"flipped signature digit", "acknowledge", "INC-42", Replace(query, sig, flipped)},
      {"upper-case signature", "acknowledge", "INC-42",
       Replace(query, sig, std::string(sig.size(), 'A'))},
      {"truncated signature", "acknowledge", "INC-42", query.substr(0, query.size() - 2)},
      {"signed with another key", "acknowledge", "INC-42", *SignAckLinkQuery(other_key, Claims())},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = VerifyAckLinkQuery(kKey, c.action, c.incident, c.query, kNow);
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(r.status().message(), "ack link: invalid signature");
  }
  // An expired forgery says invalid, not expired.
  auto r = VerifyAckLinkQuery(kKey, "acknowledge", "INC-43", query, kNow + Duration::Days(1));
  EXPECT_EQ(r.status().message(), "ack link: invalid signature");
}

TEST(AckLinkTest, MalformedLinksAndShortKeysAreInvalidArguments) {
  const std::string query = *SignAckLinkQuery(kKey, Claims());
  for (std::string bad :
       {std::string("person=alice&expires=1"), std::string(""),
        Replace(query, "expires=1767227400", "expires=soon"), query + "&person=bob"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(VerifyAckLinkQuery(kKey, "acknowledge", "INC-42", bad, kNow).status().code(),
              StatusCode::kInvalidArgument);
  }
  auto short_key = SignAckLinkQuery("too-short", Claims());
  EXPECT_EQ(short_key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(short_key.status().message().find("too-short"), std::string::npos);
  EXPECT_EQ(VerifyAckLinkQuery("too-short", "acknowledge", "INC-42", query, kNow).status().code(),
            StatusCode::kInvalidArgument);
  AckLinkClaims newline = Claims();
  newline.person = "alice\nbob";
  EXPECT_FALSE(SignAckLinkQuery(kKey, newline).ok());
}

}  // namespace
}  // namespace nines::alerting
