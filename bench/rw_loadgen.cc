// nines_rw_loadgen: a Prometheus remote-write 1.0 load generator, and a trivial sink to measure
// its own ceiling. Used by bench/remote_write_compare.sh to compare receivers whole-process.
//
// Sender mode (default): builds a realistic set of probe series (probe_success,
// probe_duration_seconds, ... with region, location, probe, target, instance labels), encodes
// every request body (protobuf + snappy, remote::EncodeWriteRequest) BEFORE timing, then sends
// them over K keep-alive HTTP/1.1 connections on raw blocking sockets and counts 2xx answers. It
// prints one machine-readable line on stdout:
//   samples_sent=... samples_accepted=... seconds=... samples_per_sec=... requests=... errors=...
//   client_cpu_seconds=... next_start_ms=...
//
// Timestamps: round r of series i is at start_ms + r*15000 + offset_i (offset_i a fixed
// per-series phase in [0, 15 s), like a prober's schedule). A request carries one group of
// --batch-series consecutive series and --samples-per-series consecutive rounds. Every group
// always travels over the same connection (group g -> connection g % K), and each connection is
// sequential, so each series' samples reach the receiver in timestamp order: receivers that reject
// out-of-order samples (Prometheus) accept everything. next_start_ms is where a following run
// should start to continue in order.
//
// Sink mode (--sink HOST:PORT): answers every request 204 without decoding, one thread per
// connection, until killed or --duration-limit passes.
//
// Thread-safety: single process tool; each sender thread owns its socket and its slice of the
// pre-encoded bodies, which are immutable while sending.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/labels.h"
#include "remote/remote.h"

namespace nines::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kUsage[] = R"(Usage:
  nines_rw_loadgen --url http://127.0.0.1:PORT/api/v1/write [options]
  nines_rw_loadgen --sink 127.0.0.1:PORT [--duration-limit S]

Options (defaults in brackets):
  --series N              series in total [3000]
  --regions N             regions; each has 2 locations [3]
  --batch-series N        series per request [500]
  --samples-per-series N  samples of each series per request (consecutive rounds) [1]
  --total-samples N       samples to send, rounded down to whole requests [3000000]
  --connections K         keep-alive connections, one thread each [2]
  --start-ms T            timestamp of round 0 in ms since the epoch [now - span - 60 s]
  --interval-ms T         time between rounds of a series [15000]
  --duration-limit S      hard stop for sending (and for the sink's lifetime) [120]
  --max-error-log N       error answers echoed to stderr [5]
)";

constexpr std::string_view kMetrics[] = {"probe_success", "probe_duration_seconds",
                                         "probe_http_status_code", "probe_dns_lookup_time_seconds",
                                         "probe_ssl_earliest_cert_expiry"};
constexpr std::string_view kRegions[] = {"us-east-1",    "eu-west-1",  "ap-southeast-2",
                                         "us-west-2",    "eu-central-1", "ap-northeast-1",
                                         "sa-east-1",    "ca-central-1", "af-south-1"};
constexpr std::string_view kProbes[] = {"http_2xx", "http_2xx", "http_post_2xx", "tcp_connect",
                                        "tls_handshake"};

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// splitmix64: a cheap, deterministic stream for sample values.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
double Unit(uint64_t x) { return static_cast<double>(Mix(x) >> 11) * 0x1.0p-53; }

struct SeriesDef {
  core::Labels labels;
  int metric = 0;
  int64_t offset_ms = 0;
  double base = 0;  // per-target baseline (latency, expiry)
};

// Series are enumerated target-major so a batch of consecutive series mixes metrics and
// locations, as one prober's push would.
std::vector<SeriesDef> BuildSeries(int n_series, int n_regions, int64_t interval_ms) {
  std::vector<SeriesDef> out;
  out.reserve(static_cast<size_t>(n_series));
  const int n_metrics = static_cast<int>(std::size(kMetrics));
  for (int target = 0; static_cast<int>(out.size()) < n_series; ++target) {
    for (int region = 0; region < n_regions && static_cast<int>(out.size()) < n_series; ++region) {
      std::string_view region_name = kRegions[static_cast<size_t>(region) % std::size(kRegions)];
      std::string region_str = std::string(region_name);
      if (region >= static_cast<int>(std::size(kRegions))) {
        region_str += "-" + std::to_string(region / static_cast<int>(std::size(kRegions)));
      }
      for (int loc = 0; loc < 2 && static_cast<int>(out.size()) < n_series; ++loc) {
        std::string location = region_str + (loc == 0 ? "a" : "b");
        for (int m = 0; m < n_metrics && static_cast<int>(out.size()) < n_series; ++m) {
          char target_url[96];
          std::snprintf(target_url, sizeof target_url, "https://svc-%04d.shop.example.com/healthz",
                        target);
          auto labels = core::Labels::FromPairs({
              {"__name__", std::string(kMetrics[static_cast<size_t>(m)])},
              {"instance", "prober-" + location + ":9099"},
              {"location", location},
              {"probe", std::string(kProbes[static_cast<size_t>(target) % std::size(kProbes)])},
              {"region", region_str},
              {"target", target_url},
          });
          if (!labels.ok()) {
            std::fprintf(stderr, "bad labels: %s\n", labels.status().ToString().c_str());
            std::exit(1);
          }
          SeriesDef def;
          def.labels = labels.value();
          def.metric = m;
          uint64_t key = static_cast<uint64_t>(target) * 131 + static_cast<uint64_t>(region) * 7 +
                         static_cast<uint64_t>(loc);
          def.offset_ms = static_cast<int64_t>(Mix(key) % static_cast<uint64_t>(interval_ms));
          def.base = Unit(key ^ 0xabcdef);
          out.push_back(std::move(def));
        }
      }
    }
  }
  return out;
}

double SampleValue(const SeriesDef& s, int64_t round, uint64_t series_index) {
  uint64_t r = series_index * 1000003ULL + static_cast<uint64_t>(round);
  switch (s.metric) {
    case 0:  // probe_success: 1 except ~0.5% failures
      return Unit(r) < 0.005 ? 0.0 : 1.0;
    case 1:  // probe_duration_seconds: 40-240 ms plus jitter, microsecond-ish resolution
      return std::round((0.04 + 0.2 * s.base + 0.03 * Unit(r)) * 1e6) / 1e6;
    case 2:  // probe_http_status_code
      return Unit(r) < 0.005 ? 503.0 : 200.0;
    case 3:  // probe_dns_lookup_time_seconds
      return std::round((0.001 + 0.004 * Unit(r)) * 1e6) / 1e6;
    default:  // probe_ssl_earliest_cert_expiry: a fixed epoch second
      return std::floor(1.75e9 + 3e7 * s.base);
  }
}

struct Flags {
  std::string url;
  std::string sink;
  int64_t series = 3000;
  int64_t regions = 3;
  int64_t batch_series = 500;
  int64_t samples_per_series = 1;
  int64_t total_samples = 3000000;
  int64_t connections = 2;
  std::optional<int64_t> start_ms;
  int64_t interval_ms = 15000;
  double duration_limit = 120;
  int64_t max_error_log = 5;
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  std::map<std::string, std::string> values;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") return false;
    if (arg.rfind("--", 0) != 0) {
      std::fprintf(stderr, "unexpected argument %s\n", arg.c_str());
      return false;
    }
    std::string name = arg.substr(2), value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      std::fprintf(stderr, "flag --%s needs a value\n", name.c_str());
      return false;
    }
    values[name] = value;
  }
  auto take_int = [&](const char* name, int64_t* out, int64_t min) {
    auto it = values.find(name);
    if (it == values.end()) return true;
    char* end = nullptr;
    long long v = std::strtoll(it->second.c_str(), &end, 10);
    values.erase(it);
    if (end == nullptr || *end != '\0' || v < min) {
      std::fprintf(stderr, "--%s must be an integer >= %lld\n", name, static_cast<long long>(min));
      return false;
    }
    *out = v;
    return true;
  };
  if (auto it = values.find("url"); it != values.end()) f->url = it->second, values.erase(it);
  if (auto it = values.find("sink"); it != values.end()) f->sink = it->second, values.erase(it);
  if (auto it = values.find("duration-limit"); it != values.end()) {
    f->duration_limit = std::atof(it->second.c_str());
    values.erase(it);
    if (!(f->duration_limit > 0)) {
      std::fprintf(stderr, "--duration-limit must be > 0\n");
      return false;
    }
  }
  if (values.count("start-ms")) {
    int64_t v = 0;
    if (!take_int("start-ms", &v, 0)) return false;
    f->start_ms = v;
  }
  if (!take_int("series", &f->series, 1) || !take_int("regions", &f->regions, 1) ||
      !take_int("batch-series", &f->batch_series, 1) ||
      !take_int("samples-per-series", &f->samples_per_series, 1) ||
      !take_int("total-samples", &f->total_samples, 1) ||
      !take_int("connections", &f->connections, 1) ||
      !take_int("interval-ms", &f->interval_ms, 1) ||
      !take_int("max-error-log", &f->max_error_log, 0)) {
    return false;
  }
  if (!values.empty()) {
    std::fprintf(stderr, "unknown flag --%s\n", values.begin()->first.c_str());
    return false;
  }
  if (f->url.empty() == f->sink.empty()) {
    std::fprintf(stderr, "exactly one of --url and --sink is required\n");
    return false;
  }
  return true;
}

// "http://host:port/path" -> parts. Only plain http on a numeric IPv4 address is needed here.
bool ParseHostPort(std::string_view hp, sockaddr_in* addr) {
  size_t colon = hp.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string host(hp.substr(0, colon));
  if (host == "localhost") host = "127.0.0.1";
  int port = std::atoi(std::string(hp.substr(colon + 1)).c_str());
  *addr = sockaddr_in{};
  addr->sin_family = AF_INET;
  addr->sin_port = htons(static_cast<uint16_t>(port));
  return port > 0 && port < 65536 && inet_pton(AF_INET, host.c_str(), &addr->sin_addr) == 1;
}

struct Target {
  sockaddr_in addr{};
  std::string host_header;
  std::string path;
};

bool ParseUrl(const std::string& url, Target* t) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return false;
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view hp = rest.substr(0, slash);
  t->host_header = std::string(hp);
  t->path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  return ParseHostPort(hp, &t->addr);
}

void SetTimeouts(int fd, double seconds) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(seconds);
  tv.tv_usec = static_cast<suseconds_t>((seconds - std::floor(seconds)) * 1e6);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// A buffered reader of HTTP/1.1 responses (or requests, for the sink) on a blocking socket.
class Conn {
 public:
  explicit Conn(int fd) : fd_(fd) {}
  ~Conn() {
    if (fd_ >= 0) close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  int fd() const { return fd_; }

  // Reads up to and including the blank line; returns false on EOF/error.
  bool ReadHead(std::string* head) {
    while (true) {
      size_t end = buf_.find("\r\n\r\n", pos_);
      if (end != std::string::npos) {
        head->assign(buf_, pos_, end + 4 - pos_);
        pos_ = end + 4;
        return true;
      }
      if (!Fill()) return false;
    }
  }
  // Reads exactly n body bytes into *out (or discards them when out is null).
  bool ReadBody(size_t n, std::string* out) {
    while (buf_.size() - pos_ < n) {
      if (out == nullptr && pos_ == buf_.size()) {  // discard without buffering
        size_t chunk = std::min(n, scratch_.size());
        ssize_t got = recv(fd_, scratch_.data(), chunk, 0);
        if (got <= 0) return false;
        n -= static_cast<size_t>(got);
        if (n == 0) return true;
        continue;
      }
      if (!Fill()) return false;
    }
    if (out != nullptr) out->append(buf_, pos_, n);
    pos_ += n;
    Compact();
    return true;
  }
  bool ReadLine(std::string* line) {
    while (true) {
      size_t end = buf_.find("\r\n", pos_);
      if (end != std::string::npos) {
        line->assign(buf_, pos_, end - pos_);
        pos_ = end + 2;
        return true;
      }
      if (!Fill()) return false;
    }
  }

 private:
  bool Fill() {
    Compact();
    size_t old = buf_.size();
    buf_.resize(old + 65536);
    ssize_t got = recv(fd_, buf_.data() + old, 65536, 0);
    buf_.resize(old + static_cast<size_t>(std::max<ssize_t>(got, 0)));
    return got > 0;
  }
  void Compact() {
    if (pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    } else if (pos_ > 65536) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
  }
  int fd_;
  std::string buf_;
  size_t pos_ = 0;
  std::vector<char> scratch_ = std::vector<char>(256 << 10);
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The value of header `name` (lowercase) in `head`, or "".
std::string HeaderValue(const std::string& head, std::string_view name) {
  std::string lower = Lower(head);
  std::string needle = "\r\n" + std::string(name) + ":";
  size_t p = lower.find(needle);
  if (p == std::string::npos) return "";
  p += needle.size();
  size_t e = head.find("\r\n", p);
  std::string v = head.substr(p, e - p);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(0, 1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
  return v;
}

// Reads one response; returns its status (0 on a broken connection). `body` gets the body, and
// *keep_alive whether the connection may be reused.
int ReadResponse(Conn& c, std::string* body, bool* keep_alive) {
  std::string head;
  body->clear();
  if (!c.ReadHead(&head)) return 0;
  if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) return 0;
  int status = std::atoi(head.c_str() + 9);
  *keep_alive = Lower(HeaderValue(head, "connection")) != "close";
  if (Lower(HeaderValue(head, "transfer-encoding")).find("chunked") != std::string::npos) {
    std::string line;
    while (true) {
      if (!c.ReadLine(&line)) return 0;
      size_t n = std::strtoul(line.c_str(), nullptr, 16);
      if (n == 0) {
        while (c.ReadLine(&line) && !line.empty()) {
        }
        break;
      }
      if (!c.ReadBody(n, body) || !c.ReadLine(&line)) return 0;
    }
  } else if (std::string cl = HeaderValue(head, "content-length"); !cl.empty()) {
    if (!c.ReadBody(std::strtoull(cl.c_str(), nullptr, 10), body)) return 0;
  } else if (status != 204 && status != 304 && status >= 200) {
    *keep_alive = false;  // body until close: not expected from either receiver
  }
  return status;
}

bool WriteAll(int fd, const std::string& a, const std::string& b) {
  iovec iov[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
  int idx = 0;
  while (idx < 2) {
    ssize_t n = writev(fd, iov + idx, 2 - idx);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    size_t left = static_cast<size_t>(n);
    while (idx < 2 && left >= iov[idx].iov_len) {
      left -= iov[idx].iov_len;
      ++idx;
    }
    if (idx < 2) {
      iov[idx].iov_base = static_cast<char*>(iov[idx].iov_base) + left;
      iov[idx].iov_len -= left;
    }
  }
  return true;
}

int Connect(const sockaddr_in& addr, double timeout_s) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  SetTimeouts(fd, timeout_s);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// ---- sink ----

int RunSink(const Flags& f) {
  sockaddr_in addr{};
  if (!ParseHostPort(f.sink, &addr)) {
    std::fprintf(stderr, "--sink wants IPV4:PORT, not %s\n", f.sink.c_str());
    return 2;
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 64) != 0) {
    std::fprintf(stderr, "sink: cannot listen on %s: %s\n", f.sink.c_str(), std::strerror(errno));
    return 1;
  }
  std::printf("sink listening on %s\n", f.sink.c_str());
  std::fflush(stdout);
  // The hard stop: the sink never outlives --duration-limit, even if its parent dies.
  std::thread([limit = f.duration_limit] {
    std::this_thread::sleep_for(std::chrono::duration<double>(limit));
    std::_Exit(0);
  }).detach();
  while (true) {
    int fd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    std::thread([fd] {
      int nodelay = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
      Conn c(fd);
      std::string head;
      static const std::string kAnswer = "HTTP/1.1 204 No Content\r\n\r\n";
      while (c.ReadHead(&head)) {
        std::string cl = HeaderValue(head, "content-length");
        if (!cl.empty() && !c.ReadBody(std::strtoull(cl.c_str(), nullptr, 10), nullptr)) break;
        if (!WriteAll(fd, kAnswer, std::string())) break;
      }
    }).detach();
  }
}

// ---- sender ----

struct Body {
  std::string header;  // request line and headers, Content-Length included
  std::string payload;
  int64_t samples = 0;
};

struct ConnResult {
  int64_t requests = 0, errors = 0, sent = 0, accepted = 0, reconnects = 0;
};

int RunSender(const Flags& f) {
  Target target;
  if (!ParseUrl(f.url, &target)) {
    std::fprintf(stderr, "--url wants http://IPV4:PORT/path, not %s\n", f.url.c_str());
    return 2;
  }
  const int64_t n_series = f.series;
  const int64_t bs = std::min(f.batch_series, n_series);
  const int64_t sps = f.samples_per_series;
  const int64_t groups = (n_series + bs - 1) / bs;
  const int64_t samples_per_block = n_series * sps;  // one block = sps rounds of every series
  const int64_t blocks = std::max<int64_t>(1, f.total_samples / samples_per_block);
  const int64_t rounds = blocks * sps;
  const int64_t start_ms =
      f.start_ms ? *f.start_ms
                 : static_cast<int64_t>(NowSeconds() * 1000) - rounds * f.interval_ms - 60000;

  double t0 = NowSeconds();
  std::vector<SeriesDef> series = BuildSeries(static_cast<int>(n_series),
                                              static_cast<int>(f.regions), f.interval_ms);
  // Requests in send order: block-major, then group; bodies[b*groups + g].
  std::vector<Body> bodies(static_cast<size_t>(blocks * groups));
  std::atomic<int64_t> next{0};
  auto encode = [&] {
    for (int64_t i; (i = next.fetch_add(1)) < static_cast<int64_t>(bodies.size());) {
      int64_t block = i / groups, group = i % groups;
      remote::WriteRequest req;
      int64_t first = group * bs, last = std::min(n_series, first + bs);
      req.series.reserve(static_cast<size_t>(last - first));
      for (int64_t s = first; s < last; ++s) {
        const SeriesDef& def = series[static_cast<size_t>(s)];
        remote::TimeSeries ts;
        ts.labels = def.labels;
        ts.samples.reserve(static_cast<size_t>(sps));
        for (int64_t k = 0; k < sps; ++k) {
          int64_t round = block * sps + k;
          ts.samples.push_back({start_ms + round * f.interval_ms + def.offset_ms,
                                SampleValue(def, round, static_cast<uint64_t>(s))});
        }
        req.series.push_back(std::move(ts));
      }
      Body& b = bodies[static_cast<size_t>(i)];
      b.samples = req.SampleCount();
      b.payload = remote::EncodeWriteRequest(req);
      b.header = "POST " + target.path + " HTTP/1.1\r\nHost: " + target.host_header +
                 "\r\nUser-Agent: nines-rw-loadgen\r\nContent-Type: application/x-protobuf\r\n"
                 "Content-Encoding: snappy\r\nX-Prometheus-Remote-Write-Version: 0.1.0\r\n"
                 "Content-Length: " +
                 std::to_string(b.payload.size()) + "\r\n\r\n";
    }
  };
  {
    unsigned hc = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> encoders;
    for (unsigned i = 0; i < hc; ++i) encoders.emplace_back(encode);
    for (auto& t : encoders) t.join();
  }
  size_t payload_bytes = 0;
  for (const Body& b : bodies) payload_bytes += b.payload.size();
  std::fprintf(stderr,
               "loadgen: %zu requests, %lld series x %lld samples each, %.1f MiB of bodies "
               "(%.0f B/request), encoded in %.2f s; start_ms=%lld rounds=%lld\n",
               bodies.size(), static_cast<long long>(bs), static_cast<long long>(sps),
               static_cast<double>(payload_bytes) / (1 << 20),
               static_cast<double>(payload_bytes) / static_cast<double>(bodies.size()),
               NowSeconds() - t0, static_cast<long long>(start_ms),
               static_cast<long long>(rounds));

  // Connection c sends, in order, the requests of the groups g with g % K == c.
  const int64_t k_conns = std::min<int64_t>(f.connections, groups);
  if (k_conns < f.connections) {
    std::fprintf(stderr, "loadgen: only %lld groups; using %lld connections\n",
                 static_cast<long long>(groups), static_cast<long long>(k_conns));
  }
  std::vector<ConnResult> results(static_cast<size_t>(k_conns));
  std::mutex log_mu;
  std::atomic<int64_t> logged{0};
  std::atomic<bool> ready{false};
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(f.duration_limit));
  const double io_timeout = std::max(1.0, std::min(30.0, f.duration_limit));

  auto sender = [&](int64_t c) {
    ConnResult& r = results[static_cast<size_t>(c)];
    while (!ready.load(std::memory_order_acquire)) std::this_thread::yield();
    std::unique_ptr<Conn> conn;
    std::string resp_body;
    for (int64_t i = 0; i < static_cast<int64_t>(bodies.size()); ++i) {
      if ((i % groups) % k_conns != c) continue;
      if (Clock::now() >= deadline) break;
      const Body& b = bodies[static_cast<size_t>(i)];
      int status = 0;
      for (int attempt = 0; attempt < 2 && status == 0; ++attempt) {  // one reconnect on EOF
        if (!conn) {
          int fd = Connect(target.addr, io_timeout);
          if (fd < 0) break;
          conn = std::make_unique<Conn>(fd);
          if (attempt > 0 || r.requests > 0) ++r.reconnects;
        }
        bool keep_alive = true;
        if (WriteAll(conn->fd(), b.header, b.payload)) {
          status = ReadResponse(*conn, &resp_body, &keep_alive);
        }
        if (status == 0 || !keep_alive) conn.reset();
      }
      ++r.requests;
      r.sent += b.samples;
      if (status >= 200 && status < 300) {
        r.accepted += b.samples;
      } else {
        ++r.errors;
        if (logged.fetch_add(1) < f.max_error_log) {
          std::lock_guard<std::mutex> lock(log_mu);
          std::fprintf(stderr, "loadgen: request %lld: status %d: %.300s\n",
                       static_cast<long long>(i), status, resp_body.c_str());
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int64_t c = 0; c < k_conns; ++c) threads.emplace_back(sender, c);
  double cpu0 = CpuSeconds();
  auto start = Clock::now();
  ready.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  double cpu = CpuSeconds() - cpu0;

  ConnResult total;
  for (const ConnResult& r : results) {
    total.requests += r.requests;
    total.errors += r.errors;
    total.sent += r.sent;
    total.accepted += r.accepted;
    total.reconnects += r.reconnects;
  }
  std::printf(
      "samples_sent=%lld samples_accepted=%lld seconds=%.4f samples_per_sec=%.0f requests=%lld "
      "errors=%lld reconnects=%lld client_cpu_seconds=%.3f next_start_ms=%lld\n",
      static_cast<long long>(total.sent), static_cast<long long>(total.accepted), seconds,
      static_cast<double>(total.accepted) / seconds, static_cast<long long>(total.requests),
      static_cast<long long>(total.errors), static_cast<long long>(total.reconnects), cpu,
      static_cast<long long>(start_ms + rounds * f.interval_ms));
  return total.errors == 0 && total.requests == static_cast<int64_t>(bodies.size()) ? 0 : 1;
}

int Main(int argc, char** argv) {
  Flags f;
  if (!ParseFlags(argc, argv, &f)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  return f.sink.empty() ? RunSender(f) : RunSink(f);
}

}  // namespace
}  // namespace nines::bench

int main(int argc, char** argv) { return nines::bench::Main(argc, argv); }
