// alerting/template_set.h: the named templates a notification's text fields may call, as
// Alertmanager's `templates:` files and its built-in default.tmpl provide them.
//
// A TemplateSet holds nines' built-in definitions of Alertmanager's default template names and
// whatever `{{ define }}`/`{{ block }}` templates the user's template files add (a user
// definition replaces a built-in one of the same name; as in Go, an empty one does not replace
// a non-empty one). A config field is a template text executed with the set's definitions
// available (`{{ template "slack.default.title" . }}`); `{{ define }}`s in the field itself are
// available to it too.
//
// Built-in names (nines' own text, SLO-aware: SLO, region, budget left with its total, unit and
// ratio, burn rates with their window pair, the exhaustion time at the 1h burn rate, summary and
// description, a link to nines at .ExternalURL):
//   __alertmanager ("nines"), __alertmanagerURL, __subject, __description, __text_alert_list
//   and __text_alert_list_markdown (dot: a list of alerts), slack.default.{title, username,
//   fallback, callbackid, pretext, titlelink, iconemoji, iconurl, text, footer, color},
//   pagerduty.default.{description, client, clientURL, instances (dot: a list of alerts)},
//   opsgenie.default.{message, description, source}, email.default.subject,
//   email.default.html (for ExecuteHtml), and helpers named __nines_*.
// The names of the kinds nines does not send to (wechat, victorops, pushover, sns, telegram,
// discord, webex, msteams, jira, rocketchat, mattermost) are not defined.
//
// Thread-safety: Execute, ExecuteHtml, Check and Defined may run on any number of threads at
// once; AddFile is for building the set, before it is shared.
#ifndef NINES_ALERTING_TEMPLATE_SET_H_
#define NINES_ALERTING_TEMPLATE_SET_H_

#include <memory>
#include <string>
#include <string_view>

#include "alerting/routing.h"
#include "alerting/template.h"
#include "core/status.h"

namespace nines::alerting {

class TemplateSet {
 public:
  // The built-in definitions only; texts execute within `options`' budget.
  TemplateSet() : TemplateSet(TemplateOptions{}) {}
  explicit TemplateSet(TemplateOptions options);

  // Adds the `{{ define }}`s and `{{ block }}`s of a template file's `text` (top-level text
  // outside them is ignored, as in Alertmanager); a later file's definition replaces an earlier
  // one. Errors: INVALID_ARGUMENT "FILE:LINE:COL: ..." naming `file_name` (a syntax error, an
  // unsupported form, a name defined twice in the file); the set is unchanged on error.
  core::Status AddFile(std::string_view text, const std::string& file_name);

  // Whether the set defines the template `name`.
  bool Defined(std::string_view name) const;

  // Parses `text` (a config field) against the set: errors INVALID_ARGUMENT "LINE:COL: ..." as
  // Template::Parse, including a `{{ template "x" }}` of a name the set (or the text) does not
  // define, directly or in a template it calls ("template \"a\" calls template \"x\", which is
  // not defined", at the text's call of "a"), which Alertmanager only finds when sending.
  core::Status Check(std::string_view text) const;

  // Parses and executes `text` for `data`; an empty text is "" (as Alertmanager). Errors: as
  // Check (an undefined template when executed) and Template::Execute; an error inside a
  // template file's definition is "FILE:LINE:COL: executing ...".
  core::Result<std::string> Execute(std::string_view text, const TemplateData& data) const;

  // The same for an HTML field (email `html`, as Alertmanager renders it with Go's
  // html/template): every value an action writes is escaped for where it lands, read from the
  // output so far: HTML-escaped as html/template does (& < > " ' + and NUL), and in a URL
  // attribute (href, src, ... and names holding src/uri/url) first URL-normalized (bytes outside
  // RFC 3986's sets as %xx), a value that starts the attribute with a scheme other than http,
  // https or mailto becoming "#ZgotmplZ". safeHtml values are written as they are; the
  // template's own text too. Not done as html/template does: JS and CSS contexts (<script>,
  // <style>, on* and style attributes: HTML-escaped only), the query part of a URL (normalized,
  // not query-escaped), unquoted attribute values (escaped as quoted ones), a tag longer than
  // 8 KiB (read as text), the removal of HTML comments. (An addition to the issue-14 seam.)
  core::Result<std::string> ExecuteHtml(std::string_view text, const TemplateData& data) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// Whether the field at `path` (an Integration::fields dotted path, as app/alerting_config
// stores it) of an integration of `kind` is a template in Alertmanager (notify/<kind>/*.go at
// Alertmanager's HEAD):
//   slack: channel username color title title_link pretext text message_text footer fallback
//     callback_id icon_emoji icon_url image_url thumb_url, fields.N.{title,value},
//     actions.N.{type,text,url,style,name,value,confirm.title,confirm.text,confirm.ok_text,
//     confirm.dismiss_text}
//   pagerduty: service_key routing_key client client_url description source severity class
//     component group, details.*, images.N.{src,alt,href}, links.N.{href,text}
//   opsgenie: api_key message description source entity tags note priority actions, details.*,
//     responders.N.{id,name,username,type}
//   email: to from html text, headers.* (Subject among them); html is for ExecuteHtml
//   webhook: url, payload.*
// (An addition to the issue-14 seam.)
bool IsTemplatedField(IntegrationKind kind, std::string_view path);

}  // namespace nines::alerting

#endif  // NINES_ALERTING_TEMPLATE_SET_H_
