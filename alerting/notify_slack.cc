// alerting/notify_slack.cc: a Slack message as Alertmanager's notify/slack posts it (channel,
// username, icons, link_names, text, one attachment with its fields and actions) to an incoming
// webhook (api_url) or chat.postMessage with an app token, plus nines' Block Kit `blocks`: per
// alert its region, SLO, budget left, burn rates, firing window pair, exhaustion ETA and links
// to nines. Incoming webhooks: https://api.slack.com/messaging/webhooks; blocks:
// https://api.slack.com/reference/block-kit/blocks (header text <= 150 characters, section
// fields <= 10, at most 50 blocks).
#include <fmt/format.h>

#include <charconv>
#include <string>
#include <utility>
#include <vector>

#include "alerting/notify_internal.h"
#include "core/json.h"

namespace nines::alerting::notify_internal {

namespace {

constexpr std::string_view kDefaultAppUrl = "https://slack.com/api/chat.postMessage";
constexpr size_t kMaxTitleRunes = 1024;
constexpr size_t kMaxHeaderRunes = 150;
constexpr size_t kMaxFieldRunes = 2000;
constexpr size_t kMaxSectionRunes = 3000;
constexpr size_t kMaxAlertsShown = 10;  // 3 blocks each: within Slack's 50

void AppendOptional(std::string* out, std::string_view name, const std::string& value) {
  if (value.empty()) return;
  *out += ",\"";
  *out += name;
  *out += "\":";
  core::AppendJsonString(out, value);
}

// Slack's mrkdwn escaping of &, < and >.
std::string Mrkdwn(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

// The attachment's `fields` (SlackField: title, value, short always written).
core::Result<std::string> AttachmentFields(const Fields& f, const Renderer& r) {
  std::string out;
  const bool short_default = f.Bool("short_fields", false);
  for (size_t i = 0; i < f.ListSize("fields"); ++i) {
    std::string p = "fields." + std::to_string(i);
    ASSIGN_OR_RETURN(std::string title, r.Text(p + ".title", f.Get(p + ".title")));
    ASSIGN_OR_RETURN(std::string value, r.Text(p + ".value", f.Get(p + ".value")));
    const bool is_short = f.Bool(p + ".short", short_default);
    std::string item;
    AppendOptional(&item, "title", title);
    AppendOptional(&item, "value", value);
    item += is_short ? ",\"short\":true" : ",\"short\":false";
    out += out.empty() ? "[" : ",";
    out += "{" + item.substr(1) + "}";
  }
  return out.empty() ? out : out + "]";
}

// The attachment's `actions` (SlackAction; a url action drops name, value and confirm, as
// Alertmanager's config does).
core::Result<std::string> AttachmentActions(const Fields& f, const Renderer& r) {
  std::string out;
  for (size_t i = 0; i < f.ListSize("actions"); ++i) {
    std::string p = "actions." + std::to_string(i);
    const bool has_url = f.Has(p + ".url");
    std::string item;
    for (std::string_view name : {"type", "text", "url", "style", "name", "value"}) {
      if (has_url && (name == "name" || name == "value")) continue;
      std::string key = p + "." + std::string(name);
      ASSIGN_OR_RETURN(std::string v, r.Text(key, f.Get(key)));
      AppendOptional(&item, name, v);
    }
    if (!has_url && f.HasPrefix(p + ".confirm")) {
      std::string confirm;
      for (std::string_view name : {"text", "title", "ok_text", "dismiss_text"}) {
        std::string key = p + ".confirm." + std::string(name);
        ASSIGN_OR_RETURN(std::string v, r.Text(key, f.Get(key)));
        AppendOptional(&confirm, name, v);
      }
      item += ",\"confirm\":{" + (confirm.empty() ? confirm : confirm.substr(1)) + "}";
    }
    out += out.empty() ? "[" : ",";
    out += "{" + (item.empty() ? item : item.substr(1)) + "}";
  }
  return out.empty() ? out : out + "]";
}

// The one attachment, as Alertmanager's `attachment` struct is written.
core::Result<std::string> Attachment(const Fields& f, const Renderer& r, std::string* title) {
  auto text = [&](std::string_view name, std::string_view fallback) {
    return r.Text(name, f.Get(name, fallback));
  };
  ASSIGN_OR_RETURN(std::string t, text("title", DefaultTemplate("slack.default.title")));
  *title = TruncateRunes(t, kMaxTitleRunes);
  ASSIGN_OR_RETURN(std::string title_link,
                   text("title_link", DefaultTemplate("slack.default.titlelink")));
  ASSIGN_OR_RETURN(std::string pretext, text("pretext", DefaultTemplate("slack.default.pretext")));
  ASSIGN_OR_RETURN(std::string body, text("text", DefaultTemplate("slack.default.text")));
  ASSIGN_OR_RETURN(std::string fallback,
                   text("fallback", DefaultTemplate("slack.default.fallback")));
  ASSIGN_OR_RETURN(std::string callback_id,
                   text("callback_id", DefaultTemplate("slack.default.callbackid")));
  ASSIGN_OR_RETURN(std::string image_url, text("image_url", ""));
  ASSIGN_OR_RETURN(std::string thumb_url, text("thumb_url", ""));
  ASSIGN_OR_RETURN(std::string footer, text("footer", DefaultTemplate("slack.default.footer")));
  ASSIGN_OR_RETURN(std::string color, text("color", DefaultTemplate("slack.default.color")));
  ASSIGN_OR_RETURN(std::string fields, AttachmentFields(f, r));
  ASSIGN_OR_RETURN(std::string actions, AttachmentActions(f, r));
  std::vector<std::string> mrkdwn_in;
  for (size_t i = 0; i < f.ListSize("mrkdwn_in"); ++i) {
    mrkdwn_in.push_back(f.Get("mrkdwn_in." + std::to_string(i)));
  }
  if (mrkdwn_in.empty()) mrkdwn_in = {"fallback", "pretext", "text"};

  std::string out;
  AppendOptional(&out, "title", *title);
  AppendOptional(&out, "title_link", title_link);
  AppendOptional(&out, "pretext", pretext);
  out += ",\"text\":";
  core::AppendJsonString(&out, body);
  out += ",\"fallback\":";
  core::AppendJsonString(&out, fallback);
  out += ",\"callback_id\":";
  core::AppendJsonString(&out, callback_id);
  if (!fields.empty()) out += ",\"fields\":" + fields;
  if (!actions.empty()) out += ",\"actions\":" + actions;
  AppendOptional(&out, "image_url", image_url);
  AppendOptional(&out, "thumb_url", thumb_url);
  out += ",\"footer\":";
  core::AppendJsonString(&out, footer);
  AppendOptional(&out, "color", color);
  out += ",\"mrkdwn_in\":[";
  for (size_t i = 0; i < mrkdwn_in.size(); ++i) {
    if (i > 0) out += ',';
    core::AppendJsonString(&out, mrkdwn_in[i]);
  }
  out += "]";
  return "{" + out.substr(1) + "}";
}

// "12.5 of 43.2 minutes (28.94%)" from the budget annotations; "" when none.
std::string BudgetText(const SloFacts& s) {
  if (s.budget_remaining.empty()) return "";
  std::string out = s.budget_remaining;
  if (!s.budget_total.empty()) out += " of " + s.budget_total;
  if (!s.budget_unit.empty()) out += " " + s.budget_unit;
  double ratio = 0;
  const std::string& r = s.budget_remaining_ratio;
  auto [p, ec] = std::from_chars(r.data(), r.data() + r.size(), ratio);
  if (!r.empty() && ec == std::errc() && p == r.data() + r.size()) {
    out += fmt::format(" ({:.2f}%)", ratio * 100);
  }
  return out;
}

void AppendTextObject(std::string* out, std::string_view type, std::string_view text) {
  *out += "{\"type\":";
  core::AppendJsonString(out, type);
  *out += ",\"text\":";
  core::AppendJsonString(out, text);
  *out += '}';
}

void AppendButton(std::string* out, std::string_view text, std::string_view url) {
  *out += "{\"type\":\"button\",\"text\":";
  AppendTextObject(out, "plain_text", text);
  *out += ",\"url\":";
  core::AppendJsonString(out, url);
  *out += '}';
}

// One alert's section (its summary and facts) and actions (links) blocks.
void AppendAlertBlocks(std::string* out, const TemplateAlert& a, std::string_view external_url) {
  SloFacts s = SloFactsOf(a);
  std::string heading = s.summary.empty() ? s.alertname : s.summary;
  if (heading.empty()) heading = "alert";
  heading = (a.status == "firing" ? "*Firing*: " : "*Resolved*: ") + Mrkdwn(heading);
  std::vector<std::pair<std::string, std::string>> facts;
  if (!s.region.empty()) facts.emplace_back("Region", s.region);
  if (!s.slo.empty()) facts.emplace_back("SLO", s.slo);
  if (std::string b = BudgetText(s); !b.empty()) facts.emplace_back("Budget left", b);
  if (!s.long_burn_rate.empty() || !s.short_burn_rate.empty()) {
    facts.emplace_back("Burn rate (long / short window)",
                       fmt::format("{}x / {}x", s.long_burn_rate.empty() ? "?" : s.long_burn_rate,
                                   s.short_burn_rate.empty() ? "?" : s.short_burn_rate));
  }
  if (!s.window_pair.empty()) facts.emplace_back("Firing window pair", s.window_pair);
  if (!s.exhaustion_at_1h_burn.empty()) {
    facts.emplace_back("Budget exhausted (at the 1h burn rate)", s.exhaustion_at_1h_burn);
  }
  if (!s.severity.empty()) facts.emplace_back("Severity", s.severity);
  *out += ",{\"type\":\"section\",\"text\":";
  AppendTextObject(out, "mrkdwn", TruncateRunes(heading, kMaxSectionRunes));
  if (!facts.empty()) {
    *out += ",\"fields\":[";
    for (size_t i = 0; i < facts.size() && i < 10; ++i) {
      if (i > 0) *out += ',';
      AppendTextObject(
          out, "mrkdwn",
          TruncateRunes("*" + facts[i].first + "*\n" + Mrkdwn(facts[i].second), kMaxFieldRunes));
    }
    *out += ']';
  }
  *out += '}';
  std::string buttons;
  const std::string slo_url = SloUrl(external_url, s.slo);
  if (!slo_url.empty() && CheckHttpUrl(slo_url).ok()) {
    AppendButton(&buttons, "SLO in nines", slo_url);
  }
  if (!s.generator_url.empty() && s.generator_url != slo_url &&
      CheckHttpUrl(s.generator_url).ok()) {
    if (!buttons.empty()) buttons += ',';
    AppendButton(&buttons, "Source", s.generator_url);
  }
  if (!buttons.empty()) *out += ",{\"type\":\"actions\",\"elements\":[" + buttons + "]}";
}

// nines' blocks: a header (the title), then per alert (firing first, at most 10) a section and
// the links, and a context line for alerts left out.
std::string Blocks(const TemplateData& data, std::string_view title) {
  std::string out = "[{\"type\":\"header\",\"text\":";
  std::string header = TruncateRunes(title.empty() ? data.status : title, kMaxHeaderRunes);
  AppendTextObject(&out, "plain_text", header);
  out += '}';
  size_t shown = 0;
  for (std::string_view status : {"firing", "resolved"}) {
    for (const TemplateAlert* a : AlertsWithStatus(data, status)) {
      if (shown == kMaxAlertsShown) break;
      AppendAlertBlocks(&out, *a, data.external_url);
      ++shown;
    }
  }
  if (shown < data.alerts.size()) {
    out += ",{\"type\":\"context\",\"elements\":[";
    AppendTextObject(&out, "mrkdwn", fmt::format("and {} more alerts", data.alerts.size() - shown));
    out += "]}";
  }
  return out + "]";
}

}  // namespace

core::Result<std::vector<OutgoingRequest>> BuildSlack(const BuildInput& in) {
  Fields f(in.integration.fields);
  Fields g(in.global.fields);
  Renderer r(in);
  // Where to post, as Alertmanager's config resolves it: an app token (here, or global when
  // nothing local says otherwise) posts to app_url with a bearer token; else the webhook URL.
  std::string url, token;
  const bool local_auth = f.HasPrefix("http_config.authorization");
  if (f.Has("app_token")) {
    token = f.Get("app_token");
  } else if (!f.Has("api_url") && !f.Has("api_url_file") && !local_auth) {
    token = g.Get("slack_app_token");
  }
  if (!token.empty()) {
    url = f.Get("app_url", g.Get("slack_app_url", kDefaultAppUrl));
    if (url.empty()) url = kDefaultAppUrl;
  } else {
    url = f.Has("api_url") ? f.Get("api_url") : g.Get("slack_api_url");
  }
  if (url.empty()) {
    return r.Error("api_url",
                   "no Slack API URL (an api_url_file or app_token_file is read when "
                   "the configuration is loaded)");
  }
  if (core::Status s = CheckHttpUrl(url); !s.ok()) return r.Error("api_url", s.message());

  std::string title;
  ASSIGN_OR_RETURN(std::string attachment, Attachment(f, r, &title));
  auto text = [&](std::string_view field, std::string_view name, std::string_view fallback) {
    return r.Text(field, f.Get(name, fallback));
  };
  ASSIGN_OR_RETURN(std::string channel, text("channel", "channel", ""));
  ASSIGN_OR_RETURN(std::string username,
                   text("username", "username", DefaultTemplate("slack.default.username")));
  ASSIGN_OR_RETURN(std::string icon_emoji,
                   text("icon_emoji", "icon_emoji", DefaultTemplate("slack.default.iconemoji")));
  ASSIGN_OR_RETURN(std::string icon_url,
                   text("icon_url", "icon_url", DefaultTemplate("slack.default.iconurl")));
  ASSIGN_OR_RETURN(std::string message_text, text("message_text", "message_text", ""));

  std::string body;
  AppendOptional(&body, "channel", channel);
  AppendOptional(&body, "username", username);
  AppendOptional(&body, "icon_emoji", icon_emoji);
  AppendOptional(&body, "icon_url", icon_url);
  if (f.Bool("link_names", false)) body += ",\"link_names\":true";
  AppendOptional(&body, "text", message_text);
  body += ",\"attachments\":[" + attachment + "]";
  body += ",\"blocks\":" + Blocks(in.data, title);
  body = "{" + body.substr(1) + "}\n";

  std::string target = MaskUrl(url, /*keep_path=*/!token.empty());
  ASSIGN_OR_RETURN(OutgoingRequest req,
                   JsonPost(in, r, std::move(url), std::move(body), std::move(target)));
  // The token is http_config's bearer credentials in Alertmanager: not a template.
  if (!token.empty()) {
    req.http.headers.Set("Authorization", "Bearer " + token);
    req.secrets.push_back(token);
    // chat.postMessage answers its errors with 200 and {"ok":false,...}.
    req.response_check = OutgoingRequest::ResponseCheck::kSlackApiOk;
  }
  std::vector<OutgoingRequest> out;
  out.push_back(std::move(req));
  return out;
}

}  // namespace nines::alerting::notify_internal
