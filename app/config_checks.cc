// A check of the services section and its kind: http, tcp, dns, tls or icmp, with options named
// after blackbox_exporter's modules where they exist (see config_collector.cc).
#include <algorithm>
#include <charconv>

#include "app/config_collector_internal.h"
#include "core/regex.h"

namespace nines::app::internal {

using collector::CheckKind;
using collector::CheckSpec;
using collector::IpPreference;

void CollectorParser::ParseCheck(const YAML::Node& node, const YAML::Mark& at,
                                 const std::string& path, ServiceConfig* service) {
  CheckConfig c;
  c.line = at.line + 1;
  PendingCheck pending{
      cfg_->services.size(), false, service->checks.size(), path, at, at, at, false};
  bool has_name = false;
  int kinds = 0;
  auto kind = [&](CheckKind k, auto parse) {
    return [&, k, parse](auto& v, auto& a, auto& p) {
      if (++kinds > 1) {
        r_.Error(a, fmt::format("{}: a check has exactly one of http, tcp, dns, tls or icmp", p));
        return;
      }
      c.spec.kind = k;
      (this->*parse)(v, a, p, &c.spec);
    };
  };
  std::vector<YamlReader::Field> fields = {
      {"name",
       [&](auto& v, auto& a, auto& p) {
         has_name = true;
         auto s = LowerName(v, a, p, "check");
         if (!s || !r_.CheckUnique(&check_names_, *s, a, p, "check")) return;
         c.spec.name = *s;
       }},
  };
  AppendPlacementFields(&c.spec.region, &c.locations, &c.spec.interval, &c.spec.timeout, &pending,
                        nullptr, &fields);
  fields.insert(fields.end(),
                {
                    {"labels", [&](auto& v, auto& a,
                                   auto& p) { ParseLabels(v, a, p, &c.spec.extra_labels); }},
                    {"http", kind(CheckKind::kHttp, &CollectorParser::ParseHttp)},
                    {"tcp", kind(CheckKind::kTcp, &CollectorParser::ParseTcp)},
                    {"dns", kind(CheckKind::kDns, &CollectorParser::ParseDns)},
                    {"tls", kind(CheckKind::kTls, &CollectorParser::ParseTlsCheck)},
                    {"icmp", kind(CheckKind::kIcmp, &CollectorParser::ParseIcmp)},
                });
  if (!r_.WalkItemMap(node, at, path, fields)) return;
  if (!has_name) r_.Required(at, path, "name", "");
  if (c.spec.region.empty()) r_.Required(at, path, "region", "the deployment it measures");
  if (kinds == 0) {
    r_.Error(at, fmt::format("{}: missing the check itself: add one of http, tcp, dns, tls or "
                             "icmp",
                             path));
  }
  if (c.spec.timeout >= c.spec.interval) {
    r_.Error(at, fmt::format("{}: timeout {} must be less than interval {}", path,
                             c.spec.timeout.ToString(), c.spec.interval.ToString()));
  }
  service->checks.push_back(std::move(c));
  pending_.push_back(pending);
}

std::optional<std::string> CollectorParser::Regex(const YAML::Node& v, const YAML::Mark& a,
                                                  const std::string& p) {
  auto s = r_.String(v, a, p);
  if (!s) return std::nullopt;
  if (core::Result<core::Regex> re = core::Regex::Compile(*s); !re.ok()) {
    r_.Error(a, fmt::format("{}: invalid regular expression {}: {}", p, Quote(*s),
                            re.status().message()));
    return std::nullopt;
  }
  return s;
}

void CollectorParser::RegexList(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                                std::vector<std::string>* out) {
  r_.WalkList(
      v, a, p,
      [&](const YAML::Node& item, const YAML::Mark& item_at, const std::string& item_path, size_t) {
        if (auto re = Regex(item, item_at, item_path)) out->push_back(*re);
      });
}

void CollectorParser::IpPref(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                             collector::IpPreference* out) {
  auto s = r_.String(v, a, p);
  if (!s) return;
  if (*s == "ip4") {
    *out = IpPreference::kIp4;
  } else if (*s == "ip6") {
    *out = IpPreference::kIp6;
  } else {
    r_.Error(a, fmt::format("{}: invalid value {} (want ip4 or ip6)", p, Quote(*s)));
  }
}

std::optional<std::string> CollectorParser::HostPort(const YAML::Node& v, const YAML::Mark& a,
                                                     const std::string& p, bool port_required) {
  auto s = r_.String(v, a, p);
  if (!s) return std::nullopt;
  size_t colon = s->rfind(':');
  bool bracketed = s->front() == '[';
  bool has_port = colon != std::string::npos && (!bracketed || colon > s->find(']'));
  if (!has_port && !port_required &&
      (bracketed ? s->back() == ']' : s->find(':') == std::string::npos)) {
    return s;
  }
  if (!has_port || colon == 0 || (bracketed && s->at(colon - 1) != ']')) {
    r_.Error(a, fmt::format("{}: invalid address {}: expected host:port, as in "
                            "\"example.com:443\" or \"[::1]:53\"",
                            p, Quote(*s)));
    return std::nullopt;
  }
  int port = 0;
  std::string_view ps = std::string_view(*s).substr(colon + 1);
  auto [ptr, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), port);
  if (ps.empty() || ec != std::errc() || ptr != ps.data() + ps.size() || port < 1 || port > 65535) {
    r_.Error(a, fmt::format("{}: invalid address {}: port must be a number from 1 to 65535", p,
                            Quote(*s)));
    return std::nullopt;
  }
  return s;
}

void CollectorParser::ParseHttp(const YAML::Node& node, const YAML::Mark& at,
                                const std::string& path, CheckSpec* spec) {
  collector::HttpCheckOptions& h = spec->http;
  bool has_url = false;
  r_.WalkMap(
      node, at, path,
      {
          {"url",
           [&](auto& v, auto& a, auto& p) {
             has_url = true;
             r_.Set(r_.HttpUrl(v, a, p), &spec->target);
           }},
          {"method",
           [&](auto& v, auto& a, auto& p) {
             auto s = r_.String(v, a, p);
             if (!s) return;
             if (!std::all_of(s->begin(), s->end(),
                              [](char ch) { return ch >= 'A' && ch <= 'Z'; })) {
               r_.Error(a, fmt::format("{}: invalid method {} (upper-case letters, as in GET)", p,
                                       Quote(*s)));
               return;
             }
             h.method = *s;
           }},
          {"headers", [&](auto& v, auto& a, auto& p) { HttpHeaders(v, a, p, &h.headers); }},
          {"body",
           [&](auto& v, auto& a, auto& p) { r_.Set(r_.Scalar(v, a, p, "a string"), &h.body); }},
          {"valid_status_codes",
           [&](auto& v, auto& a, auto& p) { StatusCodes(v, a, p, &h.valid_status_codes); }},
          {"fail_if_body_matches_regexp",
           [&](auto& v, auto& a, auto& p) { RegexList(v, a, p, &h.fail_if_body_matches); }},
          {"fail_if_body_not_matches_regexp",
           [&](auto& v, auto& a, auto& p) { RegexList(v, a, p, &h.fail_if_body_not_matches); }},
          {"fail_if_header_matches",
           [&](auto& v, auto& a, auto& p) { HeaderRegexes(v, a, p, &h.fail_if_header_matches); }},
          {"fail_if_header_not_matches",
           [&](auto& v, auto& a, auto& p) {
             HeaderRegexes(v, a, p, &h.fail_if_header_not_matches);
           }},
          {"json", [&](auto& v, auto& a, auto& p) { JsonChecks(v, a, p, &h.json_checks); }},
          {"max_redirects",
           [&](auto& v, auto& a, auto& p) { r_.Set(r_.Int(v, a, p, 0, 100), &h.max_redirects); }},
          {"tls_config",
           [&](auto& v, auto& a, auto& p) {
             ParseTlsOptions(v, a, p, &h.tls_verify, &h.ca_file, &h.server_name, &h.cert_file,
                             &h.key_file);
           }},
          {"preferred_ip_protocol",
           [&](auto& v, auto& a, auto& p) { IpPref(v, a, p, &h.ip_preference); }},
          {"degraded_above",
           [&](auto& v, auto& a, auto& p) {
             r_.Set(r_.PositiveDuration(v, a, p), &h.degraded_above);
           }},
          {"max_body_bytes",
           [&](auto& v, auto& a, auto& p) {
             r_.Set(r_.Size(v, a, p, 1, kGiB), &h.max_body_bytes);
           }},
      });
  if (!has_url) r_.Required(at, path, "url", "");
}

void CollectorParser::HttpHeaders(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                                  std::vector<std::pair<std::string, std::string>>* out) {
  if (v.IsNull()) return;
  if (!v.IsMap()) {
    r_.Error(
        a, fmt::format("{}: expected a mapping of header names to values, got {}", p, Describe(v)));
    return;
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    YAML::Node key = it->first;
    YAML::Node value = it->second;
    auto name = r_.String(key, key.Mark(), p);
    auto val = r_.Scalar(value, value.Mark(), p, "a string");
    if (name && val) out->emplace_back(*name, *val);
  }
}

void CollectorParser::StatusCodes(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                                  std::vector<std::pair<int, int>>* out) {
  r_.WalkList(
      v, a, p,
      [&](const YAML::Node& item, const YAML::Mark& item_at, const std::string& item_path, size_t) {
        auto s = r_.Scalar(item, item_at, item_path, "a status code or range");
        if (!s) return;
        int lo = 0, hi = 0;
        std::string_view t = *s;
        size_t dash = t.find('-');
        auto num = [](std::string_view x, int* n) {
          auto [ptr, ec] = std::from_chars(x.data(), x.data() + x.size(), *n);
          return !x.empty() && ec == std::errc() && ptr == x.data() + x.size();
        };
        bool ok = dash == std::string_view::npos
                      ? num(t, &lo) && (hi = lo, true)
                      : num(t.substr(0, dash), &lo) && num(t.substr(dash + 1), &hi);
        if (!ok || lo < 100 || hi > 599 || lo > hi) {
          r_.Error(item_at, fmt::format("{}: invalid status {} (want a code from 100 to 599, or a "
                                        "range as in \"200-299\")",
                                        item_path, Quote(*s)));
          return;
        }
        out->emplace_back(lo, hi);
      });
}

void CollectorParser::HeaderRegexes(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                                    std::vector<collector::HeaderRegex>* out) {
  r_.WalkList(
      v, a, p,
      [&](const YAML::Node& item, const YAML::Mark& item_at, const std::string& item_path, size_t) {
        collector::HeaderRegex hr;
        bool ok = r_.WalkMap(
            item, item_at, item_path,
            {
                {"header",
                 [&](auto& v2, auto& a2, auto& p2) { r_.Set(r_.String(v2, a2, p2), &hr.header); }},
                {"regexp",
                 [&](auto& v2, auto& a2, auto& p2) { r_.Set(Regex(v2, a2, p2), &hr.regex); }},
                {"allow_missing",
                 [&](auto& v2, auto& a2, auto& p2) {
                   r_.Set(r_.Bool(v2, a2, p2), &hr.allow_missing);
                 }},
            });
        if (!ok) return;
        if (hr.header.empty() || hr.regex.empty()) {
          r_.Error(item_at, fmt::format("{}: needs both header and regexp", item_path));
          return;
        }
        out->push_back(std::move(hr));
      });
}

void CollectorParser::JsonChecks(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                                 std::vector<collector::JsonFieldCheck>* out) {
  r_.WalkList(
      v, a, p,
      [&](const YAML::Node& item, const YAML::Mark& item_at, const std::string& item_path, size_t) {
        collector::JsonFieldCheck jc;
        bool ok = r_.WalkMap(
            item, item_at, item_path,
            {
                {"pointer",
                 [&](auto& v2, auto& a2, auto& p2) {
                   auto s = r_.Scalar(v2, a2, p2, "a JSON pointer");
                   if (!s) return;
                   if (!s->empty() && s->front() != '/') {
                     r_.Error(a2, fmt::format("{}: {} is not a JSON pointer (it "
                                              "starts with '/', as in \"/status\")",
                                              p2, Quote(*s)));
                     return;
                   }
                   jc.pointer = *s;
                 }},
                {"equals", [&](auto& v2, auto& a2,
                               auto& p2) { r_.Set(r_.Scalar(v2, a2, p2, "a value"), &jc.equals); }},
            });
        if (ok) out->push_back(std::move(jc));
      });
}

void CollectorParser::ParseTcp(const YAML::Node& node, const YAML::Mark& at,
                               const std::string& path, collector::CheckSpec* spec) {
  collector::TcpCheckOptions& t = spec->tcp;
  bool has_address = false;
  r_.WalkMap(
      node, at, path,
      {
          {"address",
           [&](auto& v, auto& a, auto& p) {
             has_address = true;
             if (auto s = HostPort(v, a, p, true)) spec->target = *s;
           }},
          {"tls",
           [&](auto& v, auto& a, auto& p) {
             if (auto b = r_.Bool(v, a, p)) t.tls = *b;
           }},
          {"tls_config",
           [&](auto& v, auto& a, auto& p) {
             ParseTlsOptions(v, a, p, &t.tls_verify, &t.ca_file, &t.server_name, nullptr, nullptr);
           }},
          {"query_response",
           [&](auto& v, auto& a, auto& p) {
             r_.WalkList(v, a, p,
                         [&](const YAML::Node& item, const YAML::Mark& item_at,
                             const std::string& item_path, size_t) {
                           collector::TcpStep step;
                           bool ok =
                               r_.WalkMap(item, item_at, item_path,
                                          {
                                              {"send",
                                               [&](auto& v2, auto& a2, auto& p2) {
                                                 if (auto s = r_.Scalar(v2, a2, p2, "a string")) {
                                                   step.send = *s;
                                                 }
                                               }},
                                              {"expect",
                                               [&](auto& v2, auto& a2, auto& p2) {
                                                 if (auto s = Regex(v2, a2, p2)) step.expect = *s;
                                               }},
                                          });
                           if (ok) t.steps.push_back(std::move(step));
                         });
           }},
          {"preferred_ip_protocol",
           [&](auto& v, auto& a, auto& p) { IpPref(v, a, p, &t.ip_preference); }},
      });
  if (!has_address) r_.Required(at, path, "address", "");
}

void CollectorParser::Validation(const YAML::Node& node, const YAML::Mark& at,
                                 const std::string& path, collector::DnsRecordValidation* out) {
  r_.WalkMap(
      node, at, path,
      {
          {"fail_if_matches_regexp",
           [&](auto& v, auto& a, auto& p) { RegexList(v, a, p, &out->fail_if_matches); }},
          {"fail_if_not_matches_regexp",
           [&](auto& v, auto& a, auto& p) { RegexList(v, a, p, &out->fail_if_not_matches); }},
          {"fail_if_all_match_regexp",
           [&](auto& v, auto& a, auto& p) { RegexList(v, a, p, &out->fail_if_all_match); }},
          {"fail_if_none_matches_regexp",
           [&](auto& v, auto& a, auto& p) { RegexList(v, a, p, &out->fail_if_none_matches); }},
      });
}

void CollectorParser::ParseDns(const YAML::Node& node, const YAML::Mark& at,
                               const std::string& path, collector::CheckSpec* spec) {
  collector::DnsCheckOptions& d = spec->dns;
  bool has_server = false, has_name = false;
  static const std::vector<std::string_view> kTypes = {"A",   "AAAA", "CNAME", "MX",
                                                       "TXT", "NS",   "SOA"};
  static const std::vector<std::string_view> kRcodes = {
      "NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
      "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE"};
  r_.WalkMap(
      node, at, path,
      {
          {"server",
           [&](auto& v, auto& a, auto& p) {
             has_server = true;
             if (auto s = HostPort(v, a, p, false)) spec->target = *s;
           }},
          {"query_name",
           [&](auto& v, auto& a, auto& p) {
             has_name = true;
             if (auto s = r_.String(v, a, p)) d.query_name = *s;
           }},
          {"query_type",
           [&](auto& v, auto& a, auto& p) {
             auto s = r_.String(v, a, p);
             if (!s) return;
             if (std::find(kTypes.begin(), kTypes.end(), *s) == kTypes.end()) {
               r_.Error(a, fmt::format("{}: unsupported query type {} (want {})", p, Quote(*s),
                                       JoinOr(kTypes)));
               return;
             }
             d.query_type = *s;
           }},
          {"transport",
           [&](auto& v, auto& a, auto& p) {
             auto s = r_.String(v, a, p);
             if (!s) return;
             if (*s != "udp" && *s != "tcp") {
               r_.Error(a, fmt::format("{}: invalid transport {} (want udp or tcp)", p, Quote(*s)));
               return;
             }
             d.use_tcp = *s == "tcp";
           }},
          {"recursion_desired",
           [&](auto& v, auto& a, auto& p) {
             if (auto b = r_.Bool(v, a, p)) d.recursion_desired = *b;
           }},
          {"valid_rcodes",
           [&](auto& v, auto& a, auto& p) {
             std::vector<std::string> rcodes;
             r_.StringList(v, a, p, &rcodes, "rcode");
             for (const std::string& rc : rcodes) {
               if (std::find(kRcodes.begin(), kRcodes.end(), rc) == kRcodes.end()) {
                 r_.Error(a, fmt::format("{}: unknown rcode {} (want {})", p, Quote(rc),
                                         JoinOr(kRcodes)));
                 return;
               }
             }
             d.valid_rcodes = std::move(rcodes);
           }},
          {"validate_answer_rrs",
           [&](auto& v, auto& a, auto& p) { Validation(v, a, p, &d.answer); }},
          {"validate_authority_rrs",
           [&](auto& v, auto& a, auto& p) { Validation(v, a, p, &d.authority); }},
          {"validate_additional_rrs",
           [&](auto& v, auto& a, auto& p) { Validation(v, a, p, &d.additional); }},
          {"preferred_ip_protocol",
           [&](auto& v, auto& a, auto& p) { IpPref(v, a, p, &d.ip_preference); }},
      });
  if (!has_server) r_.Required(at, path, "server", "");
  if (!has_name) r_.Required(at, path, "query_name", "");
}

void CollectorParser::ParseTlsCheck(const YAML::Node& node, const YAML::Mark& at,
                                    const std::string& path, collector::CheckSpec* spec) {
  collector::TlsCheckOptions& t = spec->tls;
  bool has_address = false;
  r_.WalkMap(node, at, path,
             {
                 {"address",
                  [&](auto& v, auto& a, auto& p) {
                    has_address = true;
                    if (auto s = HostPort(v, a, p, true)) spec->target = *s;
                  }},
                 {"warn_before",
                  [&](auto& v, auto& a, auto& p) {
                    if (auto d = r_.PositiveDuration(v, a, p)) t.warn_before = *d;
                  }},
                 {"tls_config",
                  [&](auto& v, auto& a, auto& p) {
                    ParseTlsOptions(v, a, p, &t.tls_verify, &t.ca_file, &t.server_name, nullptr,
                                    nullptr);
                  }},
                 {"preferred_ip_protocol",
                  [&](auto& v, auto& a, auto& p) { IpPref(v, a, p, &t.ip_preference); }},
             });
  if (!has_address) r_.Required(at, path, "address", "");
}

void CollectorParser::ParseIcmp(const YAML::Node& node, const YAML::Mark& at,
                                const std::string& path, collector::CheckSpec* spec) {
  collector::IcmpCheckOptions& i = spec->icmp;
  bool has_host = false;
  r_.WalkMap(node, at, path,
             {
                 {"host",
                  [&](auto& v, auto& a, auto& p) {
                    has_host = true;
                    if (auto s = r_.String(v, a, p)) spec->target = *s;
                  }},
                 {"payload_bytes",
                  [&](auto& v, auto& a, auto& p) {
                    if (auto n = r_.Int(v, a, p, 0, 65000)) i.payload_bytes = static_cast<int>(*n);
                  }},
                 {"preferred_ip_protocol",
                  [&](auto& v, auto& a, auto& p) { IpPref(v, a, p, &i.ip_preference); }},
             });
  if (!has_host) r_.Required(at, path, "host", "");
}

}  // namespace nines::app::internal
