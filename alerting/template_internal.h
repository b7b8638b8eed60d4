// alerting/template_internal.h: private to template.cc (parser) and template_exec.cc (values
// and execution): the parsed tree and the values templates compute with. Not a public API.
//
// Thread-safety: nodes are immutable after parsing; Values are immutable and share their lists
// and maps, so copies are cheap and may cross threads.
#ifndef NINES_ALERTING_TEMPLATE_INTERNAL_H_
#define NINES_ALERTING_TEMPLATE_INTERNAL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "alerting/template.h"
#include "core/time.h"

namespace nines::alerting::template_internal {

struct Pos {
  int line = 1;
  int col = 1;
};

// ---- Values --------------------------------------------------------------------------------

class Value;
using List = std::vector<Value>;
using Fields = std::vector<std::pair<std::string, Value>>;  // a struct's, in declared order

// A value as Go's template engine would hold it. `type` names the Go type for lists, maps and
// structs ("Alerts", "Strings", "Pairs", "KV", "Alert", "Pair", "Data"): it selects the methods
// Alertmanager defines on them and names them in errors.
class Value {
 public:
  enum class Kind { kNil, kBool, kInt, kFloat, kString, kTime, kList, kMap, kStruct };

  Value() = default;
  static Value Bool(bool b) {
    Value v(Kind::kBool);
    v.b_ = b;
    return v;
  }
  static Value Int(int64_t i) {
    Value v(Kind::kInt);
    v.i_ = i;
    return v;
  }
  static Value Float(double f) {
    Value v(Kind::kFloat);
    v.f_ = f;
    return v;
  }
  static Value String(std::string s) {
    Value v(Kind::kString);
    v.s_ = std::move(s);
    return v;
  }
  // A string marked safe for HTML (Go's template.HTML, from safeHtml): HTML execution writes it
  // unescaped.
  static Value SafeHtml(std::string s) {
    Value v = String(std::move(s));
    v.safe_html_ = true;
    return v;
  }
  static Value Time(core::Timestamp t) {
    Value v(Kind::kTime);
    v.t_ = t;
    return v;
  }
  static Value MakeList(List l, std::string type) {
    Value v(Kind::kList);
    v.list_ = std::make_shared<const List>(std::move(l));
    v.s_ = std::move(type);
    return v;
  }
  // A KV: map of strings.
  static Value MakeMap(std::map<std::string, std::string> m) {
    Value v(Kind::kMap);
    v.map_ = std::make_shared<const std::map<std::string, std::string>>(std::move(m));
    v.s_ = "KV";
    return v;
  }
  static Value MakeStruct(Fields f, std::string type) {
    Value v(Kind::kStruct);
    v.fields_ = std::make_shared<const Fields>(std::move(f));
    v.s_ = std::move(type);
    return v;
  }

  Kind kind() const { return kind_; }
  bool b() const { return b_; }
  int64_t i() const { return i_; }
  double f() const { return f_; }
  const std::string& s() const { return s_; }  // a string's value
  bool safe_html() const { return safe_html_; }
  core::Timestamp t() const { return t_; }
  const List& list() const { return *list_; }
  const std::map<std::string, std::string>& map() const { return *map_; }
  const Fields& fields() const { return *fields_; }
  // Go's type name: "string", "int", "float64", "bool", "time.Time", "<nil>", or `type`.
  std::string TypeName() const;

 private:
  explicit Value(Kind k) : kind_(k) {}
  Kind kind_ = Kind::kNil;
  bool b_ = false;
  bool safe_html_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;  // a string's value, or a list's / map's / struct's type name
  core::Timestamp t_;
  std::shared_ptr<const List> list_;
  std::shared_ptr<const std::map<std::string, std::string>> map_;
  std::shared_ptr<const Fields> fields_;
};

// ---- Parse tree ----------------------------------------------------------------------------

struct PipeNode;

// One operand of a command.
struct ArgNode {
  enum class Kind {
    kDot,       // .            (then `fields` is empty)
    kField,     // .A.B         (fields from dot)
    kVariable,  // $x.A.B       (name, fields)
    kFunction,  // printf       (name)
    kLiteral,   // "s" 1 1.5 true nil
    kPipe,      // ( pipeline ).A.B
  };
  Kind kind = Kind::kDot;
  Pos pos;
  std::string name;
  std::vector<std::string> fields;
  Value literal;
  std::shared_ptr<const PipeNode> pipe;
  std::string text;  // the source form, for error messages
};

struct CommandNode {
  Pos pos;
  std::vector<ArgNode> args;  // never empty
};

struct PipeNode {
  Pos pos;
  std::vector<std::string> vars;  // declared or assigned: $x, or $i, $v in range
  bool assign = false;            // `=` rather than `:=`
  std::vector<CommandNode> cmds;  // never empty
};

struct Node;
struct ListNode {
  std::vector<Node> nodes;
  // A named template's body: where it was defined ("slack.tmpl"; empty for the text being
  // parsed), which prefixes execution errors inside it.
  std::string origin;
};

struct Node {
  // kTemplate: {{template "name" pipe}} (pipe may be null), also what {{block}} leaves in place.
  enum class Kind { kText, kAction, kIf, kRange, kWith, kTemplate };
  Kind kind = Kind::kText;
  Pos pos;
  std::string text;                           // kText; kTemplate: the name
  std::shared_ptr<const PipeNode> pipe;       // the others
  std::shared_ptr<const ListNode> list;       // if/range/with body
  std::shared_ptr<const ListNode> else_list;  // may be null
};

// Named templates ({{define}} and {{block}}), by name.
using Defines = std::map<std::string, std::shared_ptr<const ListNode>, std::less<>>;

// A parsed text: its body and the templates it defines.
struct ParsedText {
  std::shared_ptr<const ListNode> root;  // never null
  Defines defines;
};

// Parses `text` (template.h's forms). `origin` goes into each defined template's ListNode.
// Errors: as Template::Parse, plus a name defined twice in `text` ("template: multiple
// definition of template \"x\""), unless one of the two bodies is empty (Go's rule).
core::Result<ParsedText> ParseText(std::string_view text, const std::string& origin);

// Whether `list` is what Go calls an empty tree: nothing but whitespace text. An empty
// definition does not replace an existing one of the same name.
bool IsEmptyList(const ListNode& list);

// Every {{template}} name `list` invokes (blocks included, nested bodies included), with where.
void TemplateCalls(const ListNode& list, std::vector<std::pair<std::string, Pos>>* out);

// The value templates see for `data` (Alertmanager's template.Data).
Value DataValue(const TemplateData& data);

// The names of the functions execution knows (template_exec.cc), and whether `name` is one.
bool IsSupportedFunction(const std::string& name);

// How to execute: the named templates {{template}} may call, looked up in `defines` in order
// (the first that has the name wins; entries may be null), and whether output is HTML (every
// action's value HTML-escaped as Go's html/template does in text and quoted-attribute context,
// except safeHtml values).
struct ExecContext {
  std::vector<const Defines*> defines;
  bool html = false;
};

// Executes `root` for `dot`.
core::Result<std::string> Execute(const ListNode& root, const Value& dot,
                                  const TemplateOptions& options, const ExecContext& context);

// `s` escaped as Go's html/template escapes text (& < > " ' + and NUL), or, without
// `escape_plus`, as text/template's html function does (the same but +).
std::string HtmlEscape(std::string_view s, bool escape_plus = true);

// Go's Unix seconds and nanoseconds (0..999999999) of `t`. The zero Timestamp is Go's zero time,
// 0001-01-01T00:00:00Z: nines' alerts hold it for an unset time (a firing alert's EndsAt), as
// Alertmanager's hold Go's.
void GoUnix(core::Timestamp t, int64_t* secs, int64_t* nanos);

// `t` as Go's time.Time.Format(layout) writes it for a UTC time (MST is "UTC", numeric zones
// +0000, Z zones "Z").
std::string FormatGoTime(core::Timestamp t, std::string_view layout);

// Alertmanager's humanizeDuration: seconds (a number, or a string holding one) as "1d 2h 3m 4s",
// "1.5s", "250ms". Errors: INVALID_ARGUMENT (the message Go gives) for another type or a string
// that is not a number.
core::Result<std::string> HumanizeDuration(const Value& v);

// A value an HTML execution writes after `out_so_far`, escaped for where it lands (see
// template_html.cc): HtmlEscape, plus URL normalization and filtering in URL attributes.
std::string EscapeHtmlValue(std::string_view out_so_far, std::string_view value);

// `s` as Go's url.QueryEscape writes it (urlquery): space as +, other bytes outside
// [A-Za-z0-9-_.~] as %XX.
std::string QueryEscape(std::string_view s);

// Formats a printf format string with operands as Go's fmt.Sprintf does (for the verbs the
// header lists). Errors: RESOURCE_EXHAUSTED past `max_bytes`.
core::Result<std::string> Sprintf(const std::string& format, const List& args, size_t max_bytes);

// A KV's pairs in Alertmanager's SortedPairs order: alertname first, then by name.
std::vector<std::pair<std::string, std::string>> SortedPairs(
    const std::map<std::string, std::string>& m);

// `v` as Go's fmt prints it with %v (Stringers by their String()).
std::string Print(const Value& v);

}  // namespace nines::alerting::template_internal

#endif  // NINES_ALERTING_TEMPLATE_INTERNAL_H_
