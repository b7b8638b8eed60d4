// Peers for the DNS probe tests, all on loopback: dnsmasq with a fixed test zone, an in-test DNS
// responder whose answers a test decides, and prometheus-blackbox-exporter for agreement tests.
// A missing peer binary is an error the test reports (tests fail, never skip).
// Header-only so that it needs no build change; used by dns_probe_test.cc only.
#ifndef NINES_TESTS_COLLECTOR_DNS_PEERS_H_
#define NINES_TESTS_COLLECTOR_DNS_PEERS_H_

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "collector/dns.h"
#include "tests/testutil/testutil.h"

namespace nines::collector::testpeers {

inline std::string BinaryPath(const char* env, const char* fallback) {
  const char* e = std::getenv(env);
  return e != nullptr && *e != '\0' ? e : fallback;
}

// Whether something accepts TCP connections on 127.0.0.1:port right now.
inline bool TcpAccepts(int port) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)}, ec);
  return !ec;
}

// dnsmasq serving the zone nines.test (authoritative, so NS and SOA work) on 127.0.0.1, UDP and
// TCP, with no upstream: names outside the zone are REFUSED, unknown names inside it NXDOMAIN.
//   host.nines.test   A 127.0.0.1, AAAA ::1        multi.nines.test  A 127.0.0.2, 127.0.0.3
//   alias.nines.test  CNAME host.nines.test        nines.test  MX 10 mail.nines.test.
//   nines.test  TXT "v=spf1 -all", NS ns1.nines.test., SOA serial 2024061101
//   _sip._tcp.nines.test  SRV 5 7 5060 sip.nines.test.
class Dnsmasq {
 public:
  Dnsmasq() {
    const std::string binary = BinaryPath("NINES_DNSMASQ", "/usr/sbin/dnsmasq");
    if (!std::filesystem::exists(binary)) {
      error_ = binary + " is not installed: apt-get install dnsmasq-base (or set NINES_DNSMASQ)";
      return;
    }
    // The port is free for TCP when picked; another process could take it (or its UDP twin)
    // before dnsmasq binds, so a failed start tries another port.
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = testutil::UnusedPort();
      std::vector<std::string> argv = {
          binary, "--no-daemon", "--port=" + std::to_string(port_), "--listen-address=127.0.0.1",
          "--bind-interfaces", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
          "--log-facility=-", "--local=/nines.test/",
          "--host-record=host.nines.test,127.0.0.1,::1",
          "--host-record=multi.nines.test,127.0.0.2", "--host-record=multi.nines.test,127.0.0.3",
          "--cname=alias.nines.test,host.nines.test", "--mx-host=nines.test,mail.nines.test,10",
          "--txt-record=nines.test,v=spf1 -all",
          "--srv-host=_sip._tcp.nines.test,sip.nines.test,5060,5,7",
          "--auth-zone=nines.test", "--auth-server=ns1.nines.test,127.0.0.1",
          "--auth-soa=2024061101,hostmaster.nines.test"};
      // dnsmasq drops privileges to "nobody" by default; as root, stay root (nothing to drop
      // to in a container), otherwise it runs as the caller anyway.
      if (geteuid() == 0) argv.push_back("--user=root");
      child_ = std::make_unique<testutil::ChildProcess>(argv);
      if (child_->WaitForOutput("started, version", std::chrono::seconds(20)) &&
          testutil::WaitFor([&] { return TcpAccepts(port_); }, core::Duration::Seconds(10))) {
        error_.clear();
        return;
      }
      error_ = "dnsmasq did not start: " + child_->output();
      Stop();
    }
  }
  ~Dnsmasq() { Stop(); }
  Dnsmasq(const Dnsmasq&) = delete;
  Dnsmasq& operator=(const Dnsmasq&) = delete;

  bool ok() const { return error_.empty() && child_ != nullptr; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  void Stop() {
    if (child_ == nullptr) return;
    child_->Signal(SIGTERM);
    (void)child_->Wait(std::chrono::seconds(10));
    child_.reset();
  }

  std::string error_;
  int port_ = 0;
  std::unique_ptr<testutil::ChildProcess> child_;
};

// A DNS server on loopback (UDP and TCP on one port) that answers each query with what
// `handler` returns for it (nullopt: no answer). The handler runs on the responder's thread.
class DnsResponder {
 public:
  using Handler = std::function<std::optional<std::string>(const dns::Message& query, bool tcp)>;

  explicit DnsResponder(Handler handler, const std::string& address = "127.0.0.1")
      : handler_(std::move(handler)), udp_(io_), acceptor_(io_) {
    namespace asio = boost::asio;
    boost::system::error_code ec;
    const asio::ip::address addr = asio::ip::make_address(address, ec);
    if (ec) {
      error_ = ec.message();
      return;
    }
    // Bind UDP to an ephemeral port, then TCP to the same one; retry when TCP's is taken.
    for (int attempt = 0; attempt < 20; ++attempt) {
      boost::system::error_code e1, e2;
      udp_ = asio::ip::udp::socket(io_);
      acceptor_ = asio::ip::tcp::acceptor(io_);
      udp_.open(addr.is_v6() ? asio::ip::udp::v6() : asio::ip::udp::v4(), e1);
      if (!e1) udp_.bind({addr, 0}, e1);
      if (e1) {
        error_ = "udp: " + e1.message();
        return;
      }
      port_ = udp_.local_endpoint().port();
      acceptor_.open(addr.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), e2);
      if (!e2) acceptor_.bind({addr, port_}, e2);
      if (!e2) acceptor_.listen(16, e2);
      if (!e2) break;
      error_ = "tcp: " + e2.message();
      port_ = 0;
    }
    if (port_ == 0) return;
    error_.clear();
    host_ = addr.is_v6() ? "[" + address + "]" : address;
    ReceiveUdp();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~DnsResponder() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
  DnsResponder(const DnsResponder&) = delete;
  DnsResponder& operator=(const DnsResponder&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string target() const { return host_ + ":" + std::to_string(port_); }
  int udp_queries() const { return udp_queries_.load(); }
  int tcp_queries() const { return tcp_queries_.load(); }

 private:
  struct Session {
    explicit Session(boost::asio::io_context& io) : socket(io) {}
    boost::asio::ip::tcp::socket socket;
    std::array<uint8_t, 2> length{};
    std::string body;
    std::string reply;
  };

  void ReceiveUdp() {
    udp_buffer_.resize(65535);
    udp_.async_receive_from(boost::asio::buffer(udp_buffer_), peer_,
                            [this](const boost::system::error_code& ec, size_t n) {
                              if (ec) return;
                              ++udp_queries_;
                              auto q = dns::ParseMessage(std::string_view(udp_buffer_).substr(0, n));
                              if (q.ok()) {
                                if (std::optional<std::string> r = handler_(*q, false)) {
                                  boost::system::error_code ignored;
                                  udp_.send_to(boost::asio::buffer(*r), peer_, 0, ignored);
                                }
                              }
                              ReceiveUdp();
                            });
  }

  void Accept() {
    auto session = std::make_shared<Session>(io_);
    acceptor_.async_accept(session->socket, [this, session](const boost::system::error_code& ec) {
      if (ec) return;
      ReadLength(session);
      Accept();
    });
  }

  void ReadLength(std::shared_ptr<Session> s) {
    boost::asio::async_read(
        s->socket, boost::asio::buffer(s->length),
        [this, s](const boost::system::error_code& ec, size_t) {
          if (ec) return;
          s->body.assign((static_cast<size_t>(s->length[0]) << 8) | s->length[1], '\0');
          boost::asio::async_read(
              s->socket, boost::asio::buffer(s->body),
              [this, s](const boost::system::error_code& ec2, size_t) {
                if (ec2) return;
                ++tcp_queries_;
                auto q = dns::ParseMessage(s->body);
                if (!q.ok()) return;
                std::optional<std::string> r = handler_(*q, true);
                if (!r) {
                  // Keep the connection open and silent: the probe must time out.
                  ReadLength(s);
                  return;
                }
                s->reply.clear();
                s->reply.push_back(static_cast<char>(r->size() >> 8));
                s->reply.push_back(static_cast<char>(r->size() & 0xff));
                s->reply += *r;
                boost::asio::async_write(s->socket, boost::asio::buffer(s->reply),
                                         [this, s](const boost::system::error_code& ec3, size_t) {
                                           if (!ec3) ReadLength(s);
                                         });
              });
        });
  }

  Handler handler_;
  boost::asio::io_context io_;
  boost::asio::ip::udp::socket udp_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::udp::endpoint peer_;
  std::string udp_buffer_;
  std::string host_;
  uint16_t port_ = 0;
  std::string error_;
  std::atomic<int> udp_queries_{0};
  std::atomic<int> tcp_queries_{0};
  std::thread thread_;
};

// prometheus-blackbox-exporter (Debian's, 0.23) on 127.0.0.1 with `config_yaml` as its
// blackbox.yml, in its own temporary directory; stopped (SIGTERM) when destroyed.
class BlackboxExporter {
 public:
  explicit BlackboxExporter(const std::string& config_yaml) {
    const std::string binary =
        BinaryPath("NINES_BLACKBOX_EXPORTER", "/usr/bin/prometheus-blackbox-exporter");
    if (!std::filesystem::exists(binary)) {
      error_ = binary +
               " is not installed: apt-get install prometheus-blackbox-exporter (or set "
               "NINES_BLACKBOX_EXPORTER)";
      return;
    }
    const std::string config = dir_.Write("blackbox.yml", config_yaml);
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = testutil::UnusedPort();
      child_ = std::make_unique<testutil::ChildProcess>(std::vector<std::string>{
          binary, "--config.file=" + config,
          "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=debug"});
      if (child_->WaitForOutput("Listening on", std::chrono::seconds(30)) &&
          testutil::WaitFor([&] { return TcpAccepts(port_); }, core::Duration::Seconds(10))) {
        error_.clear();
        return;
      }
      error_ = "blackbox_exporter did not start: " + child_->output();
      Stop();
    }
  }
  ~BlackboxExporter() { Stop(); }
  BlackboxExporter(const BlackboxExporter&) = delete;
  BlackboxExporter& operator=(const BlackboxExporter&) = delete;

  bool ok() const { return error_.empty() && child_ != nullptr; }
  const std::string& error() const { return error_; }
  std::string output() const { return child_ ? child_->output() : ""; }
  // The /probe URL for `module` against `target` (host:port, no escaping needed).
  std::string ProbeUrl(const std::string& module, const std::string& target) const {
    return fmt::format("http://127.0.0.1:{}/probe?module={}&target={}", port_, module, target);
  }

 private:
  void Stop() {
    if (child_ == nullptr) return;
    child_->Signal(SIGTERM);
    (void)child_->Wait(std::chrono::seconds(10));
    child_.reset();
  }

  testutil::TempDir dir_;
  std::string error_;
  int port_ = 0;
  std::unique_ptr<testutil::ChildProcess> child_;
};

}  // namespace nines::collector::testpeers

#endif  // NINES_TESTS_COLLECTOR_DNS_PEERS_H_
