#include "tests/net/test_util.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <prometheus/registry.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "core/clock.h"

namespace nines::net::testing {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

}  // namespace

RawConnection::RawConnection(int port, core::Duration read_timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error_ = errno;
    return;
  }
  timeval tv{};
  tv.tv_sec = read_timeout.seconds();
  tv.tv_usec = (read_timeout.nanos() % 1'000'000'000) / 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr = Loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    error_ = errno;
    ::close(fd);
    return;
  }
  fd_ = fd;
}

RawConnection::~RawConnection() { Close(); }

void RawConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawConnection::Send(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string RawConnection::ReadResponse() {
  char buf[4096];
  size_t header_end;
  while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return "";
    pending_.append(buf, static_cast<size_t>(n));
  }
  header_end += 4;
  size_t length = 0;
  std::string lower = pending_.substr(0, header_end);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool no_body = lower.rfind("http/1.1 100", 0) == 0 || lower.rfind("http/1.1 204", 0) == 0;
  if (size_t p = lower.find("\r\ncontent-length:"); p != std::string::npos && !no_body) {
    length = std::strtoul(lower.c_str() + p + 17, nullptr, 10);
  }
  while (pending_.size() < header_end + length) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) break;
    pending_.append(buf, static_cast<size_t>(n));
  }
  size_t take = std::min(pending_.size(), header_end + length);
  std::string response = pending_.substr(0, take);
  pending_.erase(0, take);
  return response;
}

bool RawConnection::ReadUntilClosed(std::string* out) {
  if (out != nullptr) out->append(pending_);
  pending_.clear();
  char buf[4096];
  while (true) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;  // A reset is a close too; a timeout is not.
    if (out != nullptr) out->append(buf, static_cast<size_t>(n));
  }
}

bool RawConnection::PeerClosed() {
  char c;
  ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}


int UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(0);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

SelfSignedCert MakeSelfSignedCert(const std::string& dir, const std::string& name,
                                  const std::string& subject_alt_name) {
  SelfSignedCert cert{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=" + name +
                        " -addext subjectAltName=" + subject_alt_name + " -days 1 -keyout " +
                        cert.key_file + " -out " + cert.cert_file + " >/dev/null 2>&1";
  int rc = std::system(command.c_str());
  if (rc != 0) {
    ADD_FAILURE() << "openssl failed (" << rc << "): " << command;
  }
  return cert;
}

}  // namespace nines::net::testing
