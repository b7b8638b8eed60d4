// Helpers for net's tests: raw POSIX sockets (for clients that misbehave on purpose), bounded
// condition waits, metric lookups and a self-signed certificate made with the openssl CLI.
// Not thread-safe unless noted.
#ifndef NINES_TESTS_NET_TEST_UTIL_H_
#define NINES_TESTS_NET_TEST_UTIL_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/time.h"
#include "tests/testutil/testutil.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace nines::net::testing {

// A connected TCP socket to 127.0.0.1:port with a receive timeout (so no read blocks forever).
// Closed on destruction.
class RawConnection {
 public:
  // Check ok() afterwards; a refused connection gives !ok() and error() == ECONNREFUSED.
  explicit RawConnection(int port, core::Duration read_timeout = core::Duration::Seconds(5));
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  int error() const { return error_; }

  // Writes all of `data`; false on error.
  bool Send(std::string_view data);
  // Reads one HTTP response (header plus Content-Length body); "" on EOF/timeout before a full
  // header. Bytes after the response stay buffered for the next call.
  std::string ReadResponse();
  // Reads until the peer closes (true) or the read timeout passes (false). What was read is
  // appended to `*out` when given.
  bool ReadUntilClosed(std::string* out = nullptr);
  // True when the peer has closed or reset the connection; never blocks. Data waiting to be
  // read does not count as closed.
  bool PeerClosed();
  void Close();

 private:
  int fd_ = -1;
  int error_ = 0;
  std::string pending_;
};

using ::nines::testutil::MetricValue;
using ::nines::testutil::WaitFor;

// A port on 127.0.0.1 nothing listens on (bound, then closed).
int UnusedPort();

struct SelfSignedCert {
  std::string cert_file;
  std::string key_file;
};
// Makes a self-signed RSA certificate for `subject_alt_name` (e.g.
// "DNS:localhost,IP:127.0.0.1") in `dir` with the openssl CLI; aborts the test on failure.
SelfSignedCert MakeSelfSignedCert(const std::string& dir, const std::string& name,
                                  const std::string& subject_alt_name);

}  // namespace nines::net::testing

#endif  // NINES_TESTS_NET_TEST_UTIL_H_
