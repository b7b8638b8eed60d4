// Helpers for the remote-write tests: a snappy block encoder that emits only literals (so tests
// can wrap arbitrary, even malformed, protobuf bytes without linking snappy, and check the
// decoder against the block format itself), bounded waits, and metric lookups.
// Header-only; not thread-safe unless noted.
#ifndef NINES_TESTS_REMOTE_REMOTE_WRITE_TEST_UTIL_H_
#define NINES_TESTS_REMOTE_REMOTE_WRITE_TEST_UTIL_H_

#include <prometheus/registry.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/clock.h"
#include "core/time.h"
#include "tests/testutil/testutil.h"

namespace nines::remote::testing {

inline void AppendVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// `data` in snappy's block format, as literal elements only (valid, just not compressed).
inline std::string SnappyLiteral(std::string_view data) {
  std::string out;
  AppendVarint(&out, data.size());
  while (!data.empty()) {
    const size_t n = std::min<size_t>(data.size(), 65536);
    const size_t m = n - 1;
    if (m < 60) {
      out.push_back(static_cast<char>(m << 2));
    } else if (m < 256) {
      out.push_back(static_cast<char>(60 << 2));
      out.push_back(static_cast<char>(m));
    } else {
      out.push_back(static_cast<char>(61 << 2));
      out.push_back(static_cast<char>(m & 0xff));
      out.push_back(static_cast<char>(m >> 8));
    }
    out.append(data.substr(0, n));
    data.remove_prefix(n);
  }
  return out;
}

using ::nines::testutil::MetricValue;
using ::nines::testutil::WaitFor;

using ::nines::testutil::UnusedPort;

}  // namespace nines::remote::testing

#endif  // NINES_TESTS_REMOTE_REMOTE_WRITE_TEST_UTIL_H_
