// The collector's public model: what a check is (CheckSpec), what one run of it yields
// (ProbeResult), and how results become samples (AppendProbeResult). The probe engine, the
// scraper and the agent (collector/agent.h) are built on these.
//
// Metric names and labels follow blackbox_exporter so that existing dashboards and rules work:
// every sample of a check carries probe (the check's name), target, region (the deployment
// measured), location (where the prober ran), plus the check's extra labels.
//
// Thread-safety: the structs are plain values (thread-compatible).
#ifndef NINES_COLLECTOR_COLLECTOR_H_
#define NINES_COLLECTOR_COLLECTOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/labels.h"
#include "core/status.h"
#include "core/time.h"

namespace nines::store {
class Appender;
}  // namespace nines::store

namespace nines::collector {

enum class CheckKind { kHttp, kTcp, kDns, kTls, kIcmp };

// "http", "tcp", "dns", "tls" or "icmp".
std::string_view CheckKindName(CheckKind kind);

// Which address family to use when a name resolves to both (blackbox's preferred_ip_protocol).
// kIp4 and kIp6 fall back to the other family when the preferred one has no address.
enum class IpPreference { kIp4, kIp6 };

// A regular expression on a header's value. Every regex of a check is RE2 syntax (Go's, as
// blackbox_exporter's) and searches, unanchored.
struct HeaderRegex {
  std::string header;         // case-insensitive name
  std::string regex;
  bool allow_missing = false; // a missing header passes instead of failing the check
};

// A check on a JSON response body: the value at `pointer` (RFC 6901) exists, and when `equals` is
// set, its JSON text (strings without quotes) equals it.
struct JsonFieldCheck {
  std::string pointer;
  std::optional<std::string> equals;
};

struct HttpCheckOptions {
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Accepted status codes as inclusive ranges; empty means 200-299.
  std::vector<std::pair<int, int>> valid_status_codes;
  std::vector<std::string> fail_if_body_matches;      // any match fails
  std::vector<std::string> fail_if_body_not_matches;  // each must match
  std::vector<HeaderRegex> fail_if_header_matches;
  std::vector<HeaderRegex> fail_if_header_not_matches;
  std::vector<JsonFieldCheck> json_checks;
  // Redirects followed (3xx with Location); 0 does not follow, so a 3xx is judged as the status.
  int max_redirects = 10;
  bool tls_verify = true;
  std::string ca_file;      // PEM bundle; empty uses the system's
  std::string cert_file;    // client certificate (PEM), with key_file
  std::string key_file;
  std::string server_name;  // SNI and verification name; empty uses the URL's host
  IpPreference ip_preference = IpPreference::kIp4;
  // A successful probe slower than this is "degraded" (probe_degraded 1); zero turns it off.
  core::Duration degraded_above;
  // Bodies larger than this fail the check ("body larger than N bytes").
  int64_t max_body_bytes = 10 * 1024 * 1024;
};

// One step of a TCP exchange: send `send` (if any), then read until `expect` (a regex) matches
// the data received so far (if any).
struct TcpStep {
  std::string send;
  std::string expect;
};

struct TcpCheckOptions {
  bool tls = false;
  bool tls_verify = true;
  std::string ca_file;
  std::string server_name;
  std::vector<TcpStep> steps;
  IpPreference ip_preference = IpPreference::kIp4;
};

// Validation of one section of a DNS response, blackbox's validate_*_rrs (prober/dns.go
// validRRs, checked against blackbox_exporter 0.23 by tests). Each record is matched in its
// zone-file text form, "name.\tTTL\tIN\tTYPE\tRDATA".
struct DnsRecordValidation {
  std::vector<std::string> fail_if_matches;      // any record matching any regex fails
  // Every record must match every regex; no records at all fails too.
  std::vector<std::string> fail_if_not_matches;
  // Despite the name (blackbox's), fails when NOT every record matches every regex; no
  // records pass.
  std::vector<std::string> fail_if_all_match;
  // Fails when no record matches any of the regexes (so also when there are no records).
  std::vector<std::string> fail_if_none_matches;
};

struct DnsCheckOptions {
  std::string query_name;           // REQUIRED
  std::string query_type = "A";     // A, AAAA, CNAME, MX, TXT, NS, SOA
  bool use_tcp = false;
  bool recursion_desired = true;
  std::vector<std::string> valid_rcodes = {"NOERROR"};
  DnsRecordValidation answer;
  DnsRecordValidation authority;
  DnsRecordValidation additional;
  IpPreference ip_preference = IpPreference::kIp4;
};

struct TlsCheckOptions {
  // probe_ssl_earliest_cert_expiry closer than this makes probe_tls_expiry_warning 1 (the check
  // still succeeds; an expired certificate fails it).
  core::Duration warn_before = core::Duration::Days(14);
  bool tls_verify = true;
  std::string ca_file;
  std::string server_name;
  IpPreference ip_preference = IpPreference::kIp4;
};

struct IcmpCheckOptions {
  int payload_bytes = 56;
  IpPreference ip_preference = IpPreference::kIp4;
};

struct CheckSpec {
  std::string name;     // the `probe` label; unique among checks
  std::string service;  // the service it measures (a label: service)
  CheckKind kind = CheckKind::kHttp;
  // http: a URL; tcp and tls: host:port; dns: the resolver, host[:port] (port 53 by default);
  // icmp: a host.
  std::string target;
  std::string region;    // the deployment measured
  std::string location;  // where the prober runs
  core::Duration interval = core::Duration::Seconds(15);
  core::Duration timeout = core::Duration::Seconds(5);  // < interval
  core::Labels extra_labels;
  HttpCheckOptions http;
  TcpCheckOptions tcp;
  DnsCheckOptions dns;
  TlsCheckOptions tls;
  IcmpCheckOptions icmp;
};

// One scrape target: an HTTP(S) endpoint serving the Prometheus text format (/metrics), whose
// samples are stored with target labels as one target of a Prometheus scrape job would be.
// Every sample gets job, instance (the URL's host:port; the scheme's port when the URL has
// none), region and location (when set) and the extra labels.
struct ScrapeSpec {
  std::string job;  // REQUIRED: the job label
  std::string url;  // REQUIRED: http or https, e.g. "http://10.0.0.5:9100/metrics"
  core::Duration interval = core::Duration::Seconds(15);
  core::Duration timeout = core::Duration::Seconds(5);  // > 0 and <= interval
  std::string region;
  std::string location;
  core::Labels extra_labels;
  // A scrape with more samples than this fails as a whole (up 0), as in Prometheus; 0: no limit.
  int64_t sample_limit = 0;
  // A larger response body fails the scrape; 0: no limit.
  int64_t body_size_limit = 10 * 1024 * 1024;
  // When a scraped label has a target label's name: false keeps the target's value and renames
  // the scraped one exported_<name>; true keeps the scraped value (Prometheus' honor_labels).
  bool honor_labels = false;
  std::string bearer_token;  // sent as "Authorization: Bearer <token>" when not empty
};

// One sample of a probe: a blackbox metric name, labels beyond the check's own (e.g. phase), and
// a value.
struct ProbeMetric {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

// What one run of a check found. A failed probe is data, not an error: success is false and
// `reason` says why ("connect: connection refused", "status 503", "body regex did not match").
struct ProbeResult {
  bool success = false;
  core::Duration duration;  // probe_duration_seconds
  std::string reason;       // empty on success
  // Kind-specific metrics (probe_http_status_code, probe_dns_lookup_time_seconds, ...);
  // probe_success and probe_duration_seconds are added by AppendProbeResult.
  std::vector<ProbeMetric> metrics;
};

// The labels every sample of `check` carries: probe, target, region, location, service (when
// set), and the check's extra labels; plus __name__ = `metric` and `extra`.
// Errors: INVALID_ARGUMENT for an invalid label name among the extra labels.
core::Result<core::Labels> ProbeLabels(const CheckSpec& check, std::string_view metric,
                         const std::vector<std::pair<std::string, std::string>>& extra = {});

// Whether this process can open the ICMP socket an icmp check preferring `ip` starts with: an
// unprivileged ping socket (allowed when one of the process's groups is in
// net.ipv4.ping_group_range, which covers IPv6 too) or else a raw socket (needs CAP_NET_RAW).
// It opens and closes the sockets and sends nothing, so it is cheap enough for `nines check`
// and agent start-up. Returns OK when either socket opens.
// Errors: PERMISSION_DENIED when neither may be opened, saying why each was refused and how to
// allow one; UNAVAILABLE when the address family itself is missing (no IPv6 in the kernel) or
// sockets cannot be created for another reason (e.g. out of descriptors).
core::Status IcmpPermitted(IpPreference ip);

// The series that carries a failed probe's reason: nines_probe_failure_reason{...,reason="..."} 1
// at the probe's time (reasons longer than kMaxReasonBytes are cut).
inline constexpr std::string_view kFailureReasonMetric = "nines_probe_failure_reason";
inline constexpr size_t kMaxReasonBytes = 200;

// Appends every sample of `result` at `at` to `appender` (not committed): probe_success,
// probe_duration_seconds, result.metrics, and for a failure its reason series.
core::Status AppendProbeResult(const CheckSpec& check, const ProbeResult& result,
                               core::Timestamp at, store::Appender& appender);

}  // namespace nines::collector

#endif  // NINES_COLLECTOR_COLLECTOR_H_
