// Execution of a parsed template (template_internal.h): Go's text/template semantics for the
// subset template.h lists, with Alertmanager's functions and KV methods, under a step and
// output budget.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "alerting/template_internal.h"
#include "core/regex.h"

namespace nines::alerting::template_internal {

using core::Result;
using core::Status;
using K = Value::Kind;

namespace {

const std::set<std::string, std::less<>>& Functions() {
  static const auto* s = new std::set<std::string, std::less<>>{"and",          "or",
                                                                "not",          "len",
                                                                "index",        "printf",
                                                                "print",        "eq",
                                                                "ne",           "lt",
                                                                "le",           "gt",
                                                                "ge",           "toUpper",
                                                                "toLower",      "title",
                                                                "trimSpace",    "join",
                                                                "match",        "safeHtml",
                                                                "reReplaceAll", "stringSlice",
                                                                "urlquery",     "html",
                                                                "date",         "humanizeDuration"};
  return *s;
}

bool Truth(const Value& v) {
  switch (v.kind()) {
    case K::kNil:
      return false;
    case K::kBool:
      return v.b();
    case K::kInt:
      return v.i() != 0;
    case K::kFloat:
      return v.f() != 0;
    case K::kString:
      return !v.s().empty();
    case K::kList:
      return !v.list().empty();
    case K::kMap:
      return !v.map().empty();
    case K::kTime:
    case K::kStruct:
      return true;
  }
  return false;
}

bool IsBasic(const Value& v) {
  return v.kind() == K::kBool || v.kind() == K::kInt || v.kind() == K::kFloat ||
         v.kind() == K::kString;
}

Value Strings(std::vector<std::string> s) {
  List l;
  for (auto& e : s) l.push_back(Value::String(std::move(e)));
  return Value::MakeList(std::move(l), "Strings");
}

// How deep execution may nest: blocks within a template plus {{template}} calls, all counted
// together (each is C++ recursion). Go stops template calls at 100000; nines far sooner.
constexpr int kMaxExecDepth = 200;

class Executor {
 public:
  Executor(const TemplateOptions& options, const ExecContext& context)
      : options_(options), context_(context) {}

  Result<std::string> Run(const ListNode& root, const Value& dot) {
    vars_.emplace_back("$", dot);
    RETURN_IF_ERROR(Walk(root, dot));
    return std::move(out_);
  }

 private:
  Status Step(uint64_t n = 1) {
    steps_ += n;
    if (steps_ > options_.max_steps)
      return core::ResourceExhaustedError("template ran more than {} steps", options_.max_steps);
    return Status::Ok();
  }
  Status CheckSize(size_t n) const {
    if (n > options_.max_output_bytes)
      return core::ResourceExhaustedError("template output exceeds {} bytes",
                                          options_.max_output_bytes);
    return Status::Ok();
  }
  Status Write(const std::string& s) {
    RETURN_IF_ERROR(CheckSize(out_.size() + s.size()));
    out_ += s;
    return Status::Ok();
  }
  // An error at `pos` of the template being executed (its origin first when it came from a
  // template file).
  Status Error(Pos pos, std::string_view form, std::string_view what) const {
    if (!origin_.empty())
      return core::InvalidArgumentError("{}:{}:{}: executing <{}>: {}", origin_, pos.line, pos.col,
                                        form, what);
    return core::InvalidArgumentError("{}:{}: executing <{}>: {}", pos.line, pos.col, form, what);
  }

  Status Walk(const ListNode& list, const Value& dot) {
    if (depth_ >= kMaxExecDepth)
      return core::ResourceExhaustedError("exceeded maximum template depth ({})", kMaxExecDepth);
    ++depth_;
    Status s = WalkNodes(list, dot);
    --depth_;
    return s;
  }

  Status WalkNodes(const ListNode& list, const Value& dot) {
    for (const Node& node : list.nodes) {
      RETURN_IF_ERROR(Step());
      if (node.kind == Node::Kind::kText) {
        RETURN_IF_ERROR(Write(node.text));
        continue;
      }
      if (node.kind == Node::Kind::kTemplate) {
        RETURN_IF_ERROR(CallTemplate(node, dot));  // its pipeline's variables persist
        continue;
      }
      size_t mark = vars_.size();
      if (node.kind == Node::Kind::kRange) {
        RETURN_IF_ERROR(Range(node, dot));
      } else {
        ASSIGN_OR_RETURN(Value v, EvalPipe(*node.pipe, dot, true));
        if (node.kind == Node::Kind::kAction) {
          if (node.pipe->vars.empty())
            RETURN_IF_ERROR(Write(context_.html && !v.safe_html() ? EscapeHtmlValue(out_, Print(v))
                                                                  : Print(v)));
          continue;  // a declaration in an action lives to the end of the enclosing block
        }
        const ListNode* body = Truth(v) ? node.list.get() : node.else_list.get();
        if (body)
          RETURN_IF_ERROR(Walk(*body, node.kind == Node::Kind::kWith && Truth(v) ? v : dot));
      }
      vars_.resize(mark);
    }
    return Status::Ok();
  }

  // {{template "name" pipeline}}: the named template with the pipeline's value (nil without
  // one) as dot and as $, and no other variables, as in Go.
  Status CallTemplate(const Node& node, const Value& dot) {
    const ListNode* body = nullptr;
    for (const Defines* d : context_.defines) {
      if (d == nullptr) continue;
      auto it = d->find(node.text);
      if (it != d->end()) {
        body = it->second.get();
        break;
      }
    }
    std::string form = fmt::format("template {:?}", node.text);
    if (body == nullptr)
      return Error(node.pos, form, fmt::format("template {:?} not defined", node.text));
    Value v;
    if (node.pipe) {
      ASSIGN_OR_RETURN(v, EvalPipe(*node.pipe, dot, true));
    }
    std::vector<std::pair<std::string, Value>> outer{{"$", v}};
    outer.swap(vars_);
    std::string outer_origin = body->origin;
    outer_origin.swap(origin_);
    Status s = Walk(*body, v);
    outer.swap(vars_);
    outer_origin.swap(origin_);
    return s;
  }

  Status Range(const Node& node, const Value& dot) {
    ASSIGN_OR_RETURN(Value v, EvalPipe(*node.pipe, dot, false));
    const auto& names = node.pipe->vars;
    size_t mark = vars_.size();
    auto iteration = [&](Value key, const Value& elem) -> Status {
      RETURN_IF_ERROR(Step());
      vars_.resize(mark);
      if (names.size() == 1) vars_.emplace_back(names[0], elem);
      if (names.size() == 2)
        vars_.emplace_back(names[0], std::move(key)), vars_.emplace_back(names[1], elem);
      return Walk(*node.list, elem);
    };
    bool empty = true;
    if (v.kind() == K::kList) {
      empty = v.list().empty();
      for (size_t i = 0; i < v.list().size(); ++i)
        RETURN_IF_ERROR(iteration(Value::Int(static_cast<int64_t>(i)), v.list()[i]));
    } else if (v.kind() == K::kMap) {
      empty = v.map().empty();
      for (const auto& [k, val] : v.map())
        RETURN_IF_ERROR(iteration(Value::String(k), Value::String(val)));
    } else if (v.kind() != K::kNil) {  // Go ranges over nothing for nil
      return Error(node.pos, "range", fmt::format("range can't iterate over {}", Print(v)));
    }
    vars_.resize(mark);
    if (empty && node.else_list) RETURN_IF_ERROR(Walk(*node.else_list, dot));
    return Status::Ok();
  }

  // The pipeline's value; with `declare`, its variables are declared or assigned.
  Result<Value> EvalPipe(const PipeNode& pipe, const Value& dot, bool declare) {
    Value v;
    for (size_t i = 0; i < pipe.cmds.size(); ++i) {
      Value prev = v;
      ASSIGN_OR_RETURN(v, EvalCommand(pipe.cmds[i], dot, i > 0 ? &prev : nullptr));
    }
    if (declare && !pipe.vars.empty()) {
      if (!pipe.assign) {
        vars_.emplace_back(pipe.vars[0], v);
      } else {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
          if (it->first == pipe.vars[0]) {
            it->second = v;
            break;
          }
      }
    }
    return v;
  }

  const Value& Variable(const std::string& name) const {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
      if (it->first == name) return it->second;
    return vars_.front().second;  // the parser rejects undefined variables
  }

  Result<Value> EvalCommand(const CommandNode& cmd, const Value& dot, const Value* final) {
    RETURN_IF_ERROR(Step());
    const ArgNode& first = cmd.args[0];
    std::span<const ArgNode> rest(cmd.args.begin() + 1, cmd.args.end());
    if (first.kind == ArgNode::Kind::kFunction) return Call(first, rest, final, dot);
    Value recv;
    switch (first.kind) {
      case ArgNode::Kind::kField:
        recv = dot;
        break;
      case ArgNode::Kind::kVariable:
        recv = Variable(first.name);
        break;
      case ArgNode::Kind::kPipe: {
        ASSIGN_OR_RETURN(recv, EvalPipe(*first.pipe, dot, false));
        break;
      }
      case ArgNode::Kind::kDot:
        recv = dot;
        break;
      default:
        recv = first.literal;
        break;
    }
    if (first.fields.empty()) {
      if (!rest.empty() || final)
        return Error(first.pos, first.text,
                     fmt::format("can't give argument to non-function {}", first.text));
      return recv;
    }
    return Chain(recv, first, rest, final, dot);
  }

  // An operand in argument position.
  Result<Value> EvalArg(const ArgNode& arg, const Value& dot) {
    switch (arg.kind) {
      case ArgNode::Kind::kDot:
        return dot;
      case ArgNode::Kind::kLiteral:
        return arg.literal;
      case ArgNode::Kind::kFunction:
        return Call(arg, {}, nullptr, dot);
      default: {
        CommandNode cmd{arg.pos, {arg}};
        return EvalCommand(cmd, dot, nullptr);
      }
    }
  }

  // recv.F1.F2...Fn, the last with the command's other operands (and the piped value) as a
  // method's arguments.
  Result<Value> Chain(Value recv, const ArgNode& node, std::span<const ArgNode> rest,
                      const Value* final, const Value& dot) {
    for (size_t k = 0; k < node.fields.size(); ++k) {
      List args;
      bool last = k + 1 == node.fields.size();
      if (last) {
        for (const ArgNode& a : rest) {
          ASSIGN_OR_RETURN(Value v, EvalArg(a, dot));
          args.push_back(std::move(v));
        }
        if (final) args.push_back(*final);
      }
      ASSIGN_OR_RETURN(recv, Field(recv, node.fields[k], args, node));
    }
    return recv;
  }

  Result<Value> Method(const std::string& name, const List& args, size_t want, const ArgNode& node,
                       auto&& body) {
    if (args.size() != want)
      return Error(
          node.pos, node.text,
          fmt::format("wrong number of args for {}: want {} got {}", name, want, args.size()));
    return body();
  }

  Result<Value> Field(const Value& recv, const std::string& name, const List& args,
                      const ArgNode& node) {
    auto no_method = [&]() -> Result<Value> {
      return Error(node.pos, node.text,
                   fmt::format("can't evaluate field {} in type {}", name, recv.TypeName()));
    };
    switch (recv.kind()) {
      case K::kMap: {
        const auto& m = recv.map();
        if (name == "SortedPairs")
          return Method(name, args, 0, node, [&]() -> Result<Value> {
            List pairs;
            for (auto& [k, v] : SortedPairs(m))
              pairs.push_back(Value::MakeStruct(
                  {{"Name", Value::String(k)}, {"Value", Value::String(v)}}, "Pair"));
            return Value::MakeList(std::move(pairs), "Pairs");
          });
        if (name == "Names" || name == "Values")
          return Method(name, args, 0, node, [&]() -> Result<Value> {
            std::vector<std::string> out;
            for (auto& [k, v] : SortedPairs(m)) out.push_back(name == "Names" ? k : v);
            return Strings(std::move(out));
          });
        if (name == "Remove")
          return Method(name, args, 1, node, [&]() -> Result<Value> {
            if (args[0].kind() != K::kList || args[0].s() != "Strings")
              return Error(node.pos, node.text,
                           fmt::format("wrong type for value; expected []string; got {}",
                                       args[0].TypeName()));
            auto copy = m;
            for (const Value& k : args[0].list()) copy.erase(k.s());
            return Value::MakeMap(std::move(copy));
          });
        if (!args.empty())
          return Error(node.pos, node.text,
                       fmt::format("{} is not a method but has arguments", name));
        auto it = m.find(name);
        return Value::String(it == m.end() ? "" : it->second);  // missingkey=zero
      }
      case K::kList: {
        const std::string& type = recv.s();
        if (type == "Alerts" && (name == "Firing" || name == "Resolved"))
          return Method(name, args, 0, node, [&]() -> Result<Value> {
            List out;
            std::string want = name == "Firing" ? "firing" : "resolved";
            for (const Value& a : recv.list())
              if (a.fields()[0].second.s() == want) out.push_back(a);
            return Value::MakeList(std::move(out), "[]Alert");
          });
        if (type == "Pairs" && (name == "Names" || name == "Values"))
          return Method(name, args, 0, node, [&]() -> Result<Value> {
            std::vector<std::string> out;
            for (const Value& p : recv.list())
              out.push_back(p.fields()[name == "Names" ? 0 : 1].second.s());
            return Strings(std::move(out));
          });
        if (type == "Strings" && name == "Join")
          return Method(name, args, 1, node, [&]() -> Result<Value> {
            if (args[0].kind() != K::kString)
              return Error(
                  node.pos, node.text,
                  fmt::format("wrong type for value; expected string; got {}", args[0].TypeName()));
            return JoinStrings(recv, args[0].s(), node);
          });
        return no_method();
      }
      case K::kStruct:
        for (const auto& [field, v] : recv.fields())
          if (field == name) {
            if (!args.empty())
              return Error(node.pos, node.text,
                           fmt::format("{} is not a method but has arguments", name));
            return v;
          }
        return no_method();
      case K::kTime:
        return TimeMethod(recv.t(), name, args, node);
      case K::kNil:
        return Error(node.pos, node.text, fmt::format("nil pointer evaluating <nil>.{}", name));
      default:
        return no_method();
    }
  }

  // time.Time's methods templates use: Format LAYOUT, Unix, UnixMilli, UTC, IsZero.
  Result<Value> TimeMethod(core::Timestamp t, const std::string& name, const List& args,
                           const ArgNode& node) {
    if (name == "Format")
      return Method(name, args, 1, node, [&]() -> Result<Value> {
        if (args[0].kind() != K::kString)
          return Error(
              node.pos, node.text,
              fmt::format("wrong type for value; expected string; got {}", args[0].TypeName()));
        return FormatTime(t, args[0].s());
      });
    if (name == "Unix" || name == "UnixMilli")
      return Method(name, args, 0, node, [&]() -> Result<Value> {
        int64_t secs = 0, nanos = 0;
        GoUnix(t, &secs, &nanos);
        if (name == "Unix") return Value::Int(secs);
        return Value::Int(secs * 1000 + nanos / 1'000'000);
      });
    if (name == "UTC")
      return Method(name, args, 0, node, [&]() -> Result<Value> { return Value::Time(t); });
    if (name == "IsZero")
      return Method(name, args, 0, node,
                    [&]() -> Result<Value> { return Value::Bool(t == core::Timestamp()); });
    return Error(node.pos, node.text,
                 fmt::format("can't evaluate field {} in type time.Time", name));
  }

  Result<Value> FormatTime(core::Timestamp t, const std::string& layout) {
    RETURN_IF_ERROR(Step(1 + layout.size() / 64));
    std::string out = FormatGoTime(t, layout);
    RETURN_IF_ERROR(CheckSize(out.size()));
    return Value::String(std::move(out));
  }

  Result<Value> JoinStrings(const Value& list, const std::string& sep, const ArgNode& node) {
    std::string out;
    for (const Value& e : list.list()) {
      if (e.kind() != K::kString)
        return Error(
            node.pos, node.text,
            fmt::format("wrong type for value; expected []string; got {}", list.TypeName()));
      if (&e != &list.list().front()) out += sep;
      out += e.s();
      RETURN_IF_ERROR(CheckSize(out.size()));
    }
    return Value::String(std::move(out));
  }

  Result<Value> Call(const ArgNode& fn, std::span<const ArgNode> rest, const Value* final,
                     const Value& dot);
  Result<Value> Apply(const ArgNode& fn, const List& args);
  Result<Value> StringFunction(const ArgNode& fn, const List& args);
  Result<Value> TimeFunction(const ArgNode& fn, const List& args);
  // The errors Go's text/template gives a function called with the wrong number of arguments,
  // or a non-string where it wants a string.
  Status WantArgs(const ArgNode& fn, const List& args, size_t n) const {
    if (args.size() == n) return Status::Ok();
    return Error(
        fn.pos, fn.name,
        fmt::format("wrong number of args for {}: want {} got {}", fn.name, n, args.size()));
  }
  Status StringArg(const ArgNode& fn, const List& args, size_t i) const {
    if (args[i].kind() == K::kString) return Status::Ok();
    return Error(fn.pos, fn.name,
                 fmt::format("wrong type for value; expected string; got {}", args[i].TypeName()));
  }
  Result<Value> Index(const ArgNode& fn, const List& args);
  Result<Value> Compare(const ArgNode& fn, const List& args);
  Result<Value> ReReplaceAll(const ArgNode& fn, const List& args);

  const TemplateOptions& options_;
  const ExecContext& context_;
  std::string origin_;  // of the template being executed; "" for the text itself
  int depth_ = 0;       // Walks under way
  std::string out_;
  uint64_t steps_ = 0;
  std::vector<std::pair<std::string, Value>> vars_;  // innermost last; [0] is $
  std::map<std::string, core::Regex> regexes_;
};

Result<Value> Executor::Call(const ArgNode& fn, std::span<const ArgNode> rest, const Value* final,
                             const Value& dot) {
  const std::string& name = fn.name;
  size_t argc = rest.size() + (final ? 1 : 0);
  // and / or evaluate their operands lazily and return one of them, as Go (1.18+) does.
  if (name == "and" || name == "or") {
    if (argc == 0)
      return Error(fn.pos, name,
                   fmt::format("wrong number of args for {}: want at least 1 got 0", name));
    Value v;
    for (size_t i = 0; i < argc; ++i) {
      if (i < rest.size()) {
        ASSIGN_OR_RETURN(v, EvalArg(rest[i], dot));
      } else {
        v = *final;
      }
      if (Truth(v) == (name == "or")) return v;
    }
    return v;
  }
  List args;
  for (const ArgNode& a : rest) {
    ASSIGN_OR_RETURN(Value v, EvalArg(a, dot));
    args.push_back(std::move(v));
  }
  if (final) args.push_back(*final);
  return Apply(fn, args);
}

// The functions that take evaluated operands.
Result<Value> Executor::Apply(const ArgNode& fn, const List& args) {
  const std::string& name = fn.name;
  auto want = [&](size_t n) { return WantArgs(fn, args, n); };
  auto string_arg = [&](size_t i) { return StringArg(fn, args, i); };
  if (name == "not") {
    RETURN_IF_ERROR(want(1));
    return Value::Bool(!Truth(args[0]));
  }
  if (name == "len") {
    RETURN_IF_ERROR(want(1));
    const Value& v = args[0];
    if (v.kind() == K::kString) return Value::Int(static_cast<int64_t>(v.s().size()));
    if (v.kind() == K::kList) return Value::Int(static_cast<int64_t>(v.list().size()));
    if (v.kind() == K::kMap) return Value::Int(static_cast<int64_t>(v.map().size()));
    return Error(fn.pos, name, fmt::format("error calling len: len of type {}", v.TypeName()));
  }
  if (name == "index") return Index(fn, args);
  if (name == "printf") {
    if (args.empty())
      return Error(fn.pos, name, "wrong number of args for printf: want at least 1 got 0");
    RETURN_IF_ERROR(string_arg(0));
    List operands(args.begin() + 1, args.end());
    auto s = Sprintf(args[0].s(), operands, options_.max_output_bytes);
    if (!s.ok()) return s.status();
    return Value::String(std::move(*s));
  }
  if (name == "print") {  // fmt.Sprint: a space between operands when neither is a string
    std::string out;
    for (size_t i = 0; i < args.size(); ++i) {
      if (i > 0 && args[i].kind() != K::kString && args[i - 1].kind() != K::kString) out += ' ';
      out += args[i].kind() == K::kNil ? "<nil>" : Print(args[i]);
      RETURN_IF_ERROR(CheckSize(out.size()));
    }
    return Value::String(std::move(out));
  }
  if (name == "eq" || name == "ne" || name == "lt" || name == "le" || name == "gt" || name == "ge")
    return Compare(fn, args);
  if (name == "toUpper" || name == "toLower" || name == "title" || name == "trimSpace" ||
      name == "safeHtml" || name == "join" || name == "stringSlice" || name == "urlquery" ||
      name == "html")
    return StringFunction(fn, args);
  if (name == "match") {
    RETURN_IF_ERROR(want(2));
    RETURN_IF_ERROR(string_arg(0));
    RETURN_IF_ERROR(string_arg(1));
    RETURN_IF_ERROR(Step(1 + args[1].s().size() / 256));
    auto re = core::Regex::Compile(args[0].s());
    if (!re.ok()) return Error(fn.pos, name, "error calling match: " + re.status().message());
    return Value::Bool(re->PartialMatch(args[1].s()));
  }
  if (name == "reReplaceAll") return ReReplaceAll(fn, args);
  if (name == "date" || name == "humanizeDuration") return TimeFunction(fn, args);
  return Error(fn.pos, name, fmt::format("function {:?} not defined", name));
}

// Go's index: a KV by key (a missing key is ""), a list or string by int.
Result<Value> Executor::Index(const ArgNode& fn, const List& args) {
  const std::string& name = fn.name;
  if (args.empty())
    return Error(fn.pos, name, "wrong number of args for index: want at least 1 got 0");
  Value v = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    const Value& key = args[i];
    if (v.kind() == K::kMap && key.kind() == K::kString) {
      auto it = v.map().find(key.s());
      v = Value::String(it == v.map().end() ? "" : it->second);
    } else if ((v.kind() == K::kList || v.kind() == K::kString) && key.kind() == K::kInt) {
      size_t n = v.kind() == K::kList ? v.list().size() : v.s().size();
      if (key.i() < 0 || static_cast<uint64_t>(key.i()) >= n)
        return Error(fn.pos, name,
                     fmt::format("error calling index: index out of range: {}", key.i()));
      v = v.kind() == K::kList ? v.list()[key.i()]
                               : Value::Int(static_cast<unsigned char>(v.s()[key.i()]));
    } else if (v.kind() == K::kNil) {
      return Error(fn.pos, name, "error calling index: index of untyped nil");
    } else {
      return Error(fn.pos, name,
                   fmt::format("error calling index: cannot index {} with {}", v.TypeName(),
                               key.TypeName()));
    }
  }
  return v;
}

// Alertmanager's string functions.
Result<Value> Executor::StringFunction(const ArgNode& fn, const List& args) {
  const std::string& name = fn.name;
  auto want = [&](size_t n) { return WantArgs(fn, args, n); };
  auto string_arg = [&](size_t i) { return StringArg(fn, args, i); };
  if (name == "toUpper" || name == "toLower" || name == "title" || name == "trimSpace" ||
      name == "safeHtml") {
    RETURN_IF_ERROR(want(1));
    RETURN_IF_ERROR(string_arg(0));
    std::string s = args[0].s();
    if (name == "toUpper") {
      for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    } else if (name == "toLower") {
      for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (name == "title") {  // first letter of each word upper, the rest lower
      bool in_word = false;
      for (char& c : s) {
        unsigned char u = static_cast<unsigned char>(c);
        bool word = std::isalnum(u) || c == '_' || c == '\'' || u >= 0x80;
        if (std::isalpha(u)) c = static_cast<char>(in_word ? std::tolower(u) : std::toupper(u));
        in_word = word;
      }
    } else if (name == "trimSpace") {
      size_t b = s.find_first_not_of(" \t\n\r\v\f");
      size_t e = s.find_last_not_of(" \t\n\r\v\f");
      s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
    } else if (name == "safeHtml") {
      return Value::SafeHtml(std::move(s));
    }
    return Value::String(std::move(s));
  }
  if (name == "join") {
    RETURN_IF_ERROR(want(2));
    RETURN_IF_ERROR(string_arg(0));
    if (args[1].kind() != K::kList)
      return Error(
          fn.pos, name,
          fmt::format("wrong type for value; expected []string; got {}", args[1].TypeName()));
    return JoinStrings(args[1], args[0].s(), fn);
  }
  if (name == "stringSlice") {
    std::vector<std::string> out;
    for (size_t i = 0; i < args.size(); ++i) {
      RETURN_IF_ERROR(string_arg(i));
      out.push_back(args[i].s());
    }
    return Strings(std::move(out));
  }
  if (name == "urlquery" || name == "html") {  // Go's: a lone string as is, else fmt.Sprint
    std::string s;
    if (args.size() == 1 && args[0].kind() == K::kString) {
      s = args[0].s();
    } else {
      ArgNode print = fn;
      print.name = "print";
      ASSIGN_OR_RETURN(Value joined, Apply(print, args));
      s = joined.s();
    }
    RETURN_IF_ERROR(Step(1 + s.size() / 256));
    std::string out = name == "html" ? HtmlEscape(s, false) : QueryEscape(s);
    RETURN_IF_ERROR(CheckSize(out.size()));
    return Value::String(std::move(out));
  }
  return Error(fn.pos, name, fmt::format("function {:?} not defined", name));
}

// Alertmanager's date and humanizeDuration.
Result<Value> Executor::TimeFunction(const ArgNode& fn, const List& args) {
  const std::string& name = fn.name;
  auto want = [&](size_t n) { return WantArgs(fn, args, n); };
  auto string_arg = [&](size_t i) { return StringArg(fn, args, i); };
  if (name == "date") {  // Alertmanager's: date LAYOUT TIME
    RETURN_IF_ERROR(want(2));
    RETURN_IF_ERROR(string_arg(0));
    if (args[1].kind() != K::kTime)
      return Error(
          fn.pos, name,
          fmt::format("wrong type for value; expected time.Time; got {}", args[1].TypeName()));
    return FormatTime(args[1].t(), args[0].s());
  }
  if (name == "humanizeDuration") {
    RETURN_IF_ERROR(want(1));
    auto s = HumanizeDuration(args[0]);
    if (!s.ok())
      return Error(fn.pos, name, "error calling humanizeDuration: " + s.status().message());
    return Value::String(*std::move(s));
  }
  return Error(fn.pos, name, fmt::format("function {:?} not defined", name));
}

Result<Value> Executor::Compare(const ArgNode& fn, const List& args) {
  const std::string& name = fn.name;
  if (args.size() < 2 || (name != "eq" && args.size() != 2))
    return Error(fn.pos, name,
                 fmt::format("wrong number of args for {}: want 2 got {}", name, args.size()));
  auto cmp = [&](const Value& a, const Value& b, int& out) -> Status {
    if (!IsBasic(a) || !IsBasic(b))
      return Error(fn.pos, name,
                   fmt::format("error calling {}: invalid type for comparison", name));
    if (a.kind() != b.kind())
      return Error(fn.pos, name,
                   fmt::format("error calling {}: incompatible types for comparison", name));
    if (a.kind() == K::kBool) {
      if (name != "eq" && name != "ne")
        return Error(fn.pos, name,
                     fmt::format("error calling {}: invalid type for comparison", name));
      out = a.b() == b.b() ? 0 : 1;
    } else if (a.kind() == K::kInt) {
      out = a.i() < b.i() ? -1 : a.i() > b.i() ? 1 : 0;
    } else if (a.kind() == K::kFloat) {
      out = a.f() < b.f() ? -1 : a.f() > b.f() ? 1 : a.f() == b.f() ? 0 : 2;  // 2: NaN
    } else {
      int c = a.s().compare(b.s());
      out = c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    return Status::Ok();
  };
  int c = 0;
  if (name == "eq") {  // eq a b c...: whether a equals any of the others
    for (size_t i = 1; i < args.size(); ++i) {
      RETURN_IF_ERROR(cmp(args[0], args[i], c));
      if (c == 0) return Value::Bool(true);
    }
    return Value::Bool(false);
  }
  RETURN_IF_ERROR(cmp(args[0], args[1], c));
  if (name == "ne") return Value::Bool(c != 0);
  if (name == "lt") return Value::Bool(c == -1);
  if (name == "le") return Value::Bool(c == -1 || c == 0);
  if (name == "gt") return Value::Bool(c == 1);
  return Value::Bool(c == 1 || c == 0);  // ge
}

// Alertmanager's reReplaceAll: Go's Regexp.ReplaceAllString (core::Regex::ReplaceAll).
Result<Value> Executor::ReReplaceAll(const ArgNode& fn, const List& args) {
  RETURN_IF_ERROR(WantArgs(fn, args, 3));
  for (size_t i = 0; i < args.size(); ++i) RETURN_IF_ERROR(StringArg(fn, args, i));
  const std::string& pattern = args[0].s();
  const std::string& repl = args[1].s();
  const std::string& text = args[2].s();
  if (regexes_.size() >= 16 && !regexes_.count(pattern)) regexes_.clear();  // bounds memory
  auto it = regexes_.find(pattern);
  if (it == regexes_.end()) {
    RETURN_IF_ERROR(Step(1 + pattern.size() / 16));
    core::Regex::Options opts;
    opts.submatches = true;
    Result<core::Regex> compiled = core::Regex::Compile(pattern, opts);
    if (!compiled.ok())
      return Error(fn.pos, fn.name,
                   fmt::format("error calling reReplaceAll: regexp: Compile({:?}): {}", pattern,
                               compiled.status().message()));
    it = regexes_.emplace(pattern, *std::move(compiled)).first;
  }
  RETURN_IF_ERROR(Step(1 + text.size() / 256));
  Result<std::string> replaced = it->second.ReplaceAll(text, repl, options_.max_output_bytes);
  // Its only error is a result over the budget: reported as every other output over it is.
  if (!replaced.ok()) return CheckSize(options_.max_output_bytes + 1);
  std::string out = *std::move(replaced);
  RETURN_IF_ERROR(CheckSize(out.size()));
  return Value::String(std::move(out));
}

}  // namespace

bool IsSupportedFunction(const std::string& name) { return Functions().count(name) > 0; }

Result<std::string> Execute(const ListNode& root, const Value& dot, const TemplateOptions& options,
                            const ExecContext& context) {
  return Executor(options, context).Run(root, dot);
}

}  // namespace nines::alerting::template_internal
