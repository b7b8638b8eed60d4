// The SMTP transport against a real SMTP server on 127.0.0.1: aiosmtpd (python3-aiosmtpd) with
// STARTTLS and AUTH required, run from tests/alerting/testdata/smtp_server.py, which writes each
// message it accepts, decoded by Python's email package, to files the test reads back. Plus the
// wire-format helpers (dates, RFC 2047 words, quoted-printable).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "alerting/delivery.h"
#include "alerting/delivery_internal.h"
#include "core/clock.h"
#include "tests/testutil/testutil.h"

namespace nines::alerting {
namespace {

using core::Duration;
using core::Timestamp;
using Outcome = DeliveryResult::Outcome;
using ::testing::HasSubstr;
using ::testing::Not;
using testutil::ChildProcess;
using testutil::TempDir;

constexpr char kPython[] = "/usr/bin/python3";
constexpr char kUser[] = "nines-alerts";
constexpr char kPassword[] = "s3cret-SMTP-pa55word";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Lf(std::string s) {
  for (size_t p = s.find("\r\n"); p != std::string::npos; p = s.find("\r\n", p)) s.erase(p, 1);
  return s;
}

bool HaveAiosmtpd() {
  ChildProcess probe({kPython, "-c", "import aiosmtpd"});
  return probe.Wait(std::chrono::seconds(20)) == 0;
}

// A self-signed certificate for 127.0.0.1, made with the openssl CLI.
void MakeCert(const TempDir& dir) {
  ChildProcess openssl({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", dir.File("key.pem"), "-out", dir.File("cert.pem"), "-days", "2",
                        "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:localhost"});
  ASSERT_EQ(openssl.Wait(std::chrono::seconds(30)), 0) << openssl.output();
}

std::unique_ptr<ChildProcess> StartServer(const TempDir& dir, int port) {
  std::filesystem::create_directories(dir.File("out"));
  auto server = std::make_unique<ChildProcess>(std::vector<std::string>{
      kPython, testutil::SourceDir() + "/tests/alerting/testdata/smtp_server.py", "--port",
      std::to_string(port), "--cert", dir.File("cert.pem"), "--key", dir.File("key.pem"), "--user",
      kUser, "--password", kPassword, "--out", dir.File("out")});
  EXPECT_TRUE(server->WaitForOutput("smtp server listening", std::chrono::seconds(20)))
      << server->output();
  return server;
}

OutgoingRequest Email(int port, std::string password = kPassword) {
  OutgoingRequest r;
  r.kind = OutgoingRequest::Kind::kEmail;
  r.target = "smtp://127.0.0.1:" + std::to_string(port);
  EmailMessage& m = r.email;
  m.smarthost = "127.0.0.1:" + std::to_string(port);
  m.require_tls = true;
  m.hello = "nines.example.com";
  m.auth_username = kUser;
  m.auth_password = std::move(password);
  m.from = "Nines Alerts <alerts@nines.example.com>";
  m.to = {"oncall@example.com", "SRE <sre@example.com>"};
  m.headers = {{"Subject", "[FIRING:1] Budget burn in eu-west-1 — 14.4× over 1h ✓"},
               {"To", "oncall@example.com, SRE <sre@example.com>"},
               {"From", "Nines Alerts <alerts@nines.example.com>"},
               {"X-Nines-Region", "eu-west-1"}};
  m.text =
      "Region: eu-west-1\nBudget left: 12.5% — burning fast\n.\n. a "
      "dotted line\n" +
      std::string(120, 'x') + "\nend =3D not decoded twice\n";
  m.html =
      "<html><body><h1>Budget burn — eu-west-1</h1><p>Burn rate "
      "<b>14.4×</b></p>\n"
      "<p>" +
      std::string(100, 'y') + "</p></body></html>\n";
  return r;
}

class Results {
 public:
  std::function<void(const DeliveryResult&)> Callback() {
    return [this](const DeliveryResult& r) {
      std::lock_guard<std::mutex> lock(mu_);
      result_ = r;
      cv_.notify_all();
    };
  }
  std::optional<DeliveryResult> Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(60), [&] { return result_.has_value(); });
    return result_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<DeliveryResult> result_;
};

class SmtpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // scripts/install-deps.sh installs it: a missing one fails rather than hiding the checks.
    ASSERT_TRUE(HaveAiosmtpd())
        << "python3-aiosmtpd is not installed: run scripts/install-deps.sh (apt-get install "
           "python3-aiosmtpd)";
    MakeCert(dir_);
    transport_ = MakeDefaultTransport(TransportOptions{.timeout = Duration::Seconds(20),
                                                       .ca_file = dir_.File("cert.pem"),
                                                       .verify_tls = true,
                                                       .clock = &clock_});
  }
  DeliveryOptions Options(std::function<void(Timestamp)> on_wait = nullptr) {
    DeliveryOptions o;
    o.clock = &clock_;
    o.registry = &registry_;
    o.give_up_after = Duration::Minutes(10);
    o.wait = [this, on_wait](Timestamp deadline) {
      ++waits_;
      if (deadline > clock_.Now()) clock_.Advance(deadline - clock_.Now());
      if (on_wait) on_wait(deadline);
    };
    return o;
  }
  double Count(const std::string& outcome) {
    return testutil::MetricValue(
        registry_, "nines_notifications_total",
        {{"receiver", "oncall"}, {"integration", "email[0]"}, {"outcome", outcome}});
  }

  TempDir dir_;
  core::FakeClock clock_;
  prometheus::Registry registry_;
  std::unique_ptr<Transport> transport_;
  std::atomic<int> waits_{0};
};

TEST_F(SmtpTest, DeliversOverStartTlsWithAuthAMultipartMessage) {
  int port = testutil::UnusedPort();
  auto server = StartServer(dir_, port);
  Results results;
  DeliveryQueue queue("oncall", "email[0]", *transport_, Options());
  OutgoingRequest request = Email(port);
  queue.Enqueue("group", {request}, results.Callback());
  auto r = results.Wait();
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->outcome, Outcome::kDelivered) << r->last_error << "\n" << server->output();
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(Count("delivered"), 1);
  std::string out = dir_.File("out") + "/0.";
  ASSERT_TRUE(std::filesystem::exists(out + "done")) << server->output();
  EXPECT_EQ(ReadFile(out + "envelope"),
            "alerts@nines.example.com\noncall@example.com\nsre@example.com\n");
  std::string session = ReadFile(out + "session");
  EXPECT_THAT(session, Not(HasSubstr("tls=none")));  // STARTTLS happened
  EXPECT_THAT(session, HasSubstr(std::string("auth=") + kUser + "\n"));
  EXPECT_THAT(session, HasSubstr("helo=nines.example.com\n"));
  // Headers as Python's email package decodes them.
  std::string headers = ReadFile(out + "headers");
  EXPECT_THAT(headers,
              HasSubstr("Subject: [FIRING:1] Budget burn in eu-west-1 — 14.4× over 1h ✓\n"));
  EXPECT_THAT(headers, HasSubstr("To: oncall@example.com, SRE <sre@example.com>\n"));
  EXPECT_THAT(headers, HasSubstr("From: Nines Alerts <alerts@nines.example.com>\n"));
  EXPECT_THAT(headers, HasSubstr("X-Nines-Region: eu-west-1\n"));
  EXPECT_THAT(headers,
              HasSubstr("Date: Tue, 14 Nov 2023 22:13:20 +0000\n"));  // the FakeClock
  EXPECT_THAT(headers, HasSubstr("Message-Id: <1700000000000000000."));
  EXPECT_THAT(headers, HasSubstr("@nines.example.com>\n"));
  EXPECT_THAT(headers, HasSubstr("MIME-Version: 1.0\n"));
  EXPECT_THAT(headers, HasSubstr("Content-Type: multipart/alternative; boundary="));
  // Both bodies, decoded, as given (dot-stuffing and quoted-printable undone; lines end in CRLF in
  // mail, RFC 5322 2.3).
  EXPECT_EQ(Lf(ReadFile(out + "text")), request.email.text);
  EXPECT_EQ(Lf(ReadFile(out + "html")), request.email.html);
  // On the wire: the Subject was RFC 2047-encoded, no raw 8-bit bytes in the header.
  std::string raw = ReadFile(out + "eml");
  EXPECT_THAT(raw, HasSubstr("Subject: =?UTF-8?q?"));
  std::string head = raw.substr(0, raw.find("\r\n\r\n"));
  for (unsigned char c : head) EXPECT_LT(c, 128) << "8-bit byte in the header";
  EXPECT_THAT(raw, Not(HasSubstr(kPassword)));
}

TEST_F(SmtpTest, WrongPasswordIsDroppedAtOnceWithoutLoggingIt) {
  int port = testutil::UnusedPort();
  auto server = StartServer(dir_, port);
  std::mutex mu;
  std::string log;
  testutil::ScopedLogSink sink([&](std::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    log += std::string(line) + "\n";
  });
  Results results;
  DeliveryQueue queue("oncall", "email[0]", *transport_, Options());
  queue.Enqueue("group", {Email(port, "wrong-Pa55word-xyz")}, results.Callback());
  auto r = results.Wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kDropped) << r->last_error;
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(r->last_status, 400);  // 535, permanent
  EXPECT_THAT(r->last_error, HasSubstr("535"));
  EXPECT_EQ(waits_.load(), 0);
  EXPECT_EQ(Count("dropped"), 1);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("out") + "/0.done"));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_THAT(log, HasSubstr("answered 400"));
  EXPECT_THAT(log, Not(HasSubstr("wrong-Pa55word-xyz")));
  EXPECT_THAT(log, Not(HasSubstr(kPassword)));
}

// require_tls: false means no TLS at all, as in Alertmanager (no opportunistic STARTTLS): a
// server that insists on STARTTLS refuses the mail with a 5xx, which is permanent.
TEST_F(SmtpTest, WithoutRequireTlsNoStartTlsIsTriedAndAServerInsistingRefuses) {
  int port = testutil::UnusedPort();
  auto server = StartServer(dir_, port);
  Results results;
  DeliveryQueue queue("oncall", "email[0]", *transport_, Options());
  OutgoingRequest request = Email(port);
  request.email.require_tls = false;
  queue.Enqueue("group", {request}, results.Callback());
  auto r = results.Wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kDropped) << r->last_error;
  EXPECT_EQ(r->last_status, 400);
  EXPECT_THAT(r->last_error, HasSubstr("530"));  // "Must issue a STARTTLS command first"
  EXPECT_FALSE(std::filesystem::exists(dir_.File("out") + "/0.done"));
}

// The server is down at the first attempt (refused) and comes up during the backoff: the retry
// delivers.
TEST_F(SmtpTest, ServerDownIsRetriedAndDeliversWhenItComesUp) {
  int port = testutil::UnusedPort();
  std::unique_ptr<ChildProcess> server;
  Results results;
  DeliveryQueue queue("oncall", "email[0]", *transport_, Options([&](Timestamp) {
                        if (!server) server = StartServer(dir_, port);
                      }));
  queue.Enqueue("group", {Email(port)}, results.Callback());
  auto r = results.Wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kDelivered) << r->last_error;
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(waits_.load(), 1);
  EXPECT_EQ(Count("failed_attempt"), 1);
  EXPECT_TRUE(std::filesystem::exists(dir_.File("out") + "/0.done"));
}

TEST_F(SmtpTest, ServerDownUntilGiveUpIsGivenUp) {
  Results results;
  DeliveryQueue queue("oncall", "email[0]", *transport_, Options());
  queue.Enqueue("group", {Email(testutil::UnusedPort())}, results.Callback());
  auto r = results.Wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::kGaveUp);
  EXPECT_GT(r->attempts, 3);
  EXPECT_THAT(r->last_error, HasSubstr("UNAVAILABLE"));
  EXPECT_EQ(Count("gave_up"), 1);
}

// ---- Wire format
// ---------------------------------------------------------------------------

TEST(EmailFormatTest, DateIsRfc5322InUtc) {
  EXPECT_EQ(delivery_internal::FormatEmailDate(Timestamp::FromUnixSeconds(1'700'000'000)),
            "Tue, 14 Nov 2023 22:13:20 +0000");
  EXPECT_EQ(delivery_internal::FormatEmailDate(Timestamp::FromUnixSeconds(0)),
            "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(delivery_internal::FormatEmailDate(Timestamp::FromUnixMillis(951'782'400'500)),
            "Tue, 29 Feb 2000 00:00:00 +0000");
}

TEST(EmailFormatTest, HeaderValuesAreEncodedWordsOnlyWhenNeeded) {
  using delivery_internal::EncodeHeaderValue;
  EXPECT_EQ(EncodeHeaderValue("plain ascii"), "plain ascii");
  EXPECT_EQ(EncodeHeaderValue("a\r\nBcc: evil@example.com"), "a  Bcc: evil@example.com");
  EXPECT_EQ(EncodeHeaderValue("héllo wörld"), "=?UTF-8?q?h=C3=A9llo_w=C3=B6rld?=");
  // Long values split into words of at most 75 characters, never inside a UTF-8 sequence.
  std::string long_value;
  for (int i = 0; i < 40; ++i) long_value += "é";
  std::string enc = EncodeHeaderValue(long_value);
  size_t start = 0;
  int words = 0;
  while (start < enc.size()) {
    size_t end = enc.find("\r\n ", start);
    std::string word = enc.substr(start, end == std::string::npos ? end : end - start);
    EXPECT_LE(word.size(), 75u) << word;
    EXPECT_EQ(word.rfind("=?UTF-8?q?", 0), 0u) << word;
    EXPECT_EQ(word.find("=C3?="), std::string::npos) << "split sequence: " << word;
    ++words;
    start = end == std::string::npos ? enc.size() : end + 3;
  }
  EXPECT_GT(words, 1);
}

TEST(EmailFormatTest, QuotedPrintableKeepsLinesShortAndEscapes) {
  using delivery_internal::QuotedPrintable;
  EXPECT_EQ(QuotedPrintable("a=b\nc \n"), "a=3Db\r\nc=20\r\n");
  EXPECT_EQ(QuotedPrintable("é"), "=C3=A9");
  std::string qp = QuotedPrintable(std::string(200, 'x'));
  size_t start = 0;
  while (start < qp.size()) {
    size_t end = qp.find("\r\n", start);
    if (end == std::string::npos) end = qp.size();
    EXPECT_LE(end - start, 76u);
    start = end + 2;
  }
}

TEST(EmailFormatTest, AddressOfTakesTheAddrSpec) {
  EXPECT_EQ(delivery_internal::AddressOf("Ops Team <ops@example.com>"), "ops@example.com");
  EXPECT_EQ(delivery_internal::AddressOf(" ops@example.com "), "ops@example.com");
}

TEST(EmailFormatTest, BadHeaderNameIsAnError) {
  EmailMessage m;
  m.headers = {{"Bad Name", "x"}};
  EXPECT_FALSE(delivery_internal::BuildEmail(m, Timestamp(), 1).ok());
}

}  // namespace
}  // namespace nines::alerting
