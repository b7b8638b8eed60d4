// Parsing of Go text/template's subset (template.h). Two passes: Lex cuts the text into text and
// action items (trim markers and comments handled there) and each action into tokens; Parser
// builds the tree from the items, checking variables and functions as Go does at parse time.
#include "alerting/template.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "alerting/template_internal.h"

namespace nines::alerting {

using core::InvalidArgumentError;
using core::Result;
using core::Status;
using namespace template_internal;  // NOLINT: private to this module

namespace {

constexpr int kMaxDepth = 100;  // blocks and parentheses: bounds the parser's recursion

enum class Tok {
  kField,
  kDot,
  kVariable,
  kIdent,
  kString,
  kNumber,
  kChar,
  kLParen,
  kRParen,
  kPipe,
  kDeclare,
  kAssign,
  kComma,
  kEnd
};

struct Token {
  Tok kind = Tok::kEnd;
  Pos pos;
  std::string text;   // source form
  std::string value;  // a string literal's value, a field's or variable's name
  bool space_before = false;
};

struct Item {
  bool is_text = true;
  Pos pos;
  std::string text;
  std::vector<Token> tokens;  // an action's, ending with kEnd
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {
    for (size_t k = 0; k < text_.size(); ++k)
      if (text_[k] == '\n') line_starts_.push_back(k + 1);
  }

  Result<std::vector<Item>> Run() {
    std::vector<Item> items;
    bool trim_next = false;
    while (i_ < text_.size()) {
      size_t open = text_.find("{{", i_);
      std::string_view chunk = text_.substr(i_, open == std::string_view::npos ? open : open - i_);
      Pos chunk_pos = PosAt(i_);
      bool trim_left = false;
      if (open != std::string_view::npos && open + 3 < text_.size() + 1 &&
          text_.substr(open + 2, 1) == "-" && open + 3 < text_.size() && IsSpace(text_[open + 3]))
        trim_left = true;
      if (trim_next)
        while (!chunk.empty() && IsSpace(chunk.front())) chunk.remove_prefix(1), ++chunk_pos.col;
      if (trim_left)
        while (!chunk.empty() && IsSpace(chunk.back())) chunk.remove_suffix(1);
      if (!chunk.empty()) items.push_back(Item{true, chunk_pos, std::string(chunk), {}});
      if (open == std::string_view::npos) break;
      i_ = open + 2 + (trim_left ? 2 : 0);
      Item action{false, PosAt(open), "", {}};
      auto r = LexAction(open, action.tokens, trim_next);
      if (!r.ok()) return r;
      if (!action.tokens.empty()) items.push_back(std::move(action));
    }
    return items;
  }

 private:
  Pos PosAt(size_t offset) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    return Pos{static_cast<int>(it - line_starts_.begin()),
               static_cast<int>(offset - *(it - 1) + 1)};
  }
  Status ErrorAt(size_t offset, std::string_view what) const {
    Pos p = PosAt(offset);
    return InvalidArgumentError("{}:{}: {}", p.line, p.col, what);
  }

  // Whether a right delimiter starts at i_ (with its trim marker); consumes it.
  bool AtClose(bool& trim) {
    if (text_.substr(i_, 4) == " -}}" ||
        (i_ < text_.size() && IsSpace(text_[i_]) && text_.substr(i_ + 1, 3) == "-}}")) {
      i_ += 4, trim = true;
      return true;
    }
    if (text_.substr(i_, 2) == "}}") {
      i_ += 2, trim = false;
      return true;
    }
    return false;
  }

  // Lexes the action that opened at `open` (i_ is past "{{" and a trim marker). A comment
  // leaves `tokens` empty. One loop over the token kinds, a case each: it reads best whole.
  Status LexAction(size_t open, std::vector<Token>& tokens, bool& trim_next) {
    if (text_.substr(i_, 2) == "/*") {
      size_t end = text_.find("*/", i_ + 2);
      if (end == std::string_view::npos) return ErrorAt(open, "unclosed comment");
      i_ = end + 2;
      if (!AtClose(trim_next)) return ErrorAt(i_, "comment ends before closing delimiter");
      return Status::Ok();
    }
    bool space = true;
    while (true) {
      if (i_ >= text_.size()) return ErrorAt(open, "unclosed action: expected \"}}\"");
      if (AtClose(trim_next)) break;
      char c = text_[i_];
      if (IsSpace(c)) {
        ++i_, space = true;
        continue;
      }
      Token t;
      t.pos = PosAt(i_);
      t.space_before = space;
      space = false;
      size_t start = i_;
      if (c == '.' &&
          (i_ + 1 >= text_.size() || !std::isdigit(static_cast<unsigned char>(text_[i_ + 1])))) {
        ++i_;
        while (i_ < text_.size() && IsAlnum(text_[i_])) ++i_;
        t.kind = i_ - start == 1 ? Tok::kDot : Tok::kField;
        t.value = std::string(text_.substr(start + 1, i_ - start - 1));
      } else if (c == '$') {
        ++i_;
        while (i_ < text_.size() && IsAlnum(text_[i_])) ++i_;
        t.kind = Tok::kVariable;
        t.value = std::string(text_.substr(start, i_ - start));
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        while (i_ < text_.size() && IsAlnum(text_[i_])) ++i_;
        t.kind = Tok::kIdent;
      } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '.' ||
                 ((c == '-' || c == '+') && i_ + 1 < text_.size() &&
                  (std::isdigit(static_cast<unsigned char>(text_[i_ + 1])) ||
                   text_[i_ + 1] == '.'))) {
        LexNumber();
        t.kind = Tok::kNumber;
      } else if (c == '"' || c == '`') {
        RETURN_IF_ERROR(LexString(t));
      } else if (c == '\'') {
        size_t end = text_.find('\'', i_ + 1);
        i_ = end == std::string_view::npos ? text_.size() : end + 1;
        t.kind = Tok::kChar;
      } else if (text_.substr(i_, 2) == ":=") {
        i_ += 2, t.kind = Tok::kDeclare;
      } else {
        switch (c) {
          case '(':
            t.kind = Tok::kLParen;
            break;
          case ')':
            t.kind = Tok::kRParen;
            break;
          case '|':
            t.kind = Tok::kPipe;
            break;
          case '=':
            t.kind = Tok::kAssign;
            break;
          case ',':
            t.kind = Tok::kComma;
            break;
          default:
            return ErrorAt(i_, fmt::format("unexpected {:?} in action", std::string(1, c)));
        }
        ++i_;
      }
      t.text = std::string(text_.substr(start, i_ - start));
      tokens.push_back(std::move(t));
    }
    Token end;
    end.kind = Tok::kEnd;
    end.pos = PosAt(i_ - 2);
    end.text = "}}";
    tokens.push_back(std::move(end));
    return Status::Ok();
  }

  // A number's extent (digits, letters for hex and bad syntax, '.', a signed exponent); the
  // parser checks its syntax.
  void LexNumber() {
    ++i_;
    while (i_ < text_.size() && (IsAlnum(text_[i_]) || text_[i_] == '.' ||
                                 ((text_[i_] == '+' || text_[i_] == '-') &&
                                  (text_[i_ - 1] == 'e' || text_[i_ - 1] == 'E'))))
      ++i_;
  }

  Status LexString(Token& t) {
    char quote = text_[i_];
    size_t start = i_++;
    std::string value;
    while (true) {
      if (i_ >= text_.size() || (quote == '"' && text_[i_] == '\n'))
        return ErrorAt(
            start, quote == '"' ? "unterminated quoted string" : "unterminated raw quoted string");
      char c = text_[i_++];
      if (c == quote) break;
      if (c != '\\' || quote == '`') {
        value += c;
        continue;
      }
      if (i_ >= text_.size()) continue;
      char e = text_[i_++];
      switch (e) {
        case 'n':
          value += '\n';
          break;
        case 't':
          value += '\t';
          break;
        case 'r':
          value += '\r';
          break;
        case '\\':
          value += '\\';
          break;
        case '"':
          value += '"';
          break;
        case '\'':
          value += '\'';
          break;
        case 'a':
          value += '\a';
          break;
        case 'b':
          value += '\b';
          break;
        case 'f':
          value += '\f';
          break;
        case 'v':
          value += '\v';
          break;
        case 'x': {
          std::string hex(text_.substr(i_, 2));
          if (hex.size() != 2 || !std::isxdigit(static_cast<unsigned char>(hex[0])) ||
              !std::isxdigit(static_cast<unsigned char>(hex[1])))
            return ErrorAt(i_ - 2, "invalid \\x escape in string");
          value += static_cast<char>(std::strtol(hex.c_str(), nullptr, 16));
          i_ += 2;
          break;
        }
        default:
          return ErrorAt(i_ - 2, fmt::format("escape \\{} in a string is not supported by nines",
                                             std::string(1, e)));
      }
    }
    t.kind = Tok::kString;
    t.value = std::move(value);
    return Status::Ok();
  }

  std::string_view text_;
  size_t i_ = 0;
  std::vector<size_t> line_starts_{0};  // offsets where lines begin, for PosAt
};

const std::set<std::string, std::less<>>& UnsupportedFunctions() {
  static const auto* s = new std::set<std::string, std::less<>>{
      "call",  "js",     "println",    "slice",   "tz",           "now",
      "since", "toDate", "mustToDate", "toJson",  "base64encode", "base64decode",
      "list",  "append", "dict",       "safeUrl", "urlUnescape",  "routeLabels"};
  return *s;
}

class Parser {
 public:
  Parser(std::vector<Item> items, std::string origin)
      : items_(std::move(items)), origin_(std::move(origin)) {
    scopes_.push_back("$");
  }

  Result<ParsedText> ParseAll() {
    auto list = std::make_shared<ListNode>();
    std::string stop;
    RETURN_IF_ERROR(ParseList(*list, stop, 0));
    if (!stop.empty()) return ErrorAt(stop_pos_, fmt::format("unexpected {{{{{}}}}}", stop));
    return ParsedText{std::move(list), std::move(defines_)};
  }

 private:
  static Status ErrorAt(Pos p, std::string_view what) {
    return InvalidArgumentError("{}:{}: {}", p.line, p.col, what);
  }

  const Token& Peek() const { return (*toks_)[t_]; }
  const Token& Next() { return (*toks_)[t_ == toks_->size() - 1 ? t_ : t_++]; }
  Status Unexpected(const Token& t, std::string_view where, std::string_view expected) const {
    std::string got = t.kind == Tok::kEnd ? "\"}}\"" : fmt::format("{:?}", t.text);
    return ErrorAt(t.pos, fmt::format("unexpected {} in {}; expected {}", got, where, expected));
  }

  // Parses nodes into `list` until an {{end}} or {{else}} action (its keyword goes to `stop`,
  // the tokens after it stay current) or the end of the text (`stop` empty).
  Status ParseList(ListNode& list, std::string& stop, int depth) {
    if (depth > kMaxDepth) return ErrorAt(Pos{}, "template nested too deeply");
    while (item_ < items_.size()) {
      Item& item = items_[item_++];
      if (item.is_text) {
        list.nodes.push_back(Node{Node::Kind::kText, item.pos, std::move(item.text), {}, {}, {}});
        continue;
      }
      toks_ = &item.tokens;
      t_ = 0;
      const Token& first = Peek();
      if (first.kind == Tok::kIdent) {
        const std::string& w = first.text;
        if (w == "end" || w == "else") {
          stop = w;
          stop_pos_ = first.pos;
          Next();
          return Status::Ok();
        }
        if (w == "if" || w == "range" || w == "with") {
          Next();
          Node node;
          RETURN_IF_ERROR(ParseControl(node, w, first.pos, depth));
          list.nodes.push_back(std::move(node));
          continue;
        }
        if (w == "define" || w == "template" || w == "block") {
          Next();
          Node node;
          RETURN_IF_ERROR(ParseNamed(w, first.pos, depth, node));
          if (w != "define") list.nodes.push_back(std::move(node));
          continue;
        }
        if (w == "break" || w == "continue")
          return ErrorAt(first.pos, fmt::format("{{{{{}}}}} is not supported by nines", w));
      }
      Node node{Node::Kind::kAction, first.pos, "", {}, {}, {}};
      ASSIGN_OR_RETURN(node.pipe, ParsePipe("command", true, false, depth));
      RETURN_IF_ERROR(ExpectEnd("command"));
      list.nodes.push_back(std::move(node));
    }
    return Status::Ok();
  }

  // {{define "name"}}body{{end}} (top level only), {{template "name" [pipeline]}} and
  // {{block "name" pipeline}}body{{end}}, after the keyword. A template or block becomes `node`.
  Status ParseNamed(const std::string& keyword, Pos pos, int depth, Node& node) {
    std::string where = keyword + " clause";
    if (keyword == "define" && depth != 0)
      return ErrorAt(pos, "{{define}} is allowed only at the top level, outside other actions");
    if (Peek().kind != Tok::kString) return Unexpected(Peek(), where, "a template name (string)");
    std::string name = Next().value;
    node = Node{Node::Kind::kTemplate, pos, name, {}, {}, {}};
    if (keyword == "block" && Peek().kind == Tok::kEnd)
      return ErrorAt(Peek().pos, "missing value for block clause");
    if (keyword != "define" && Peek().kind != Tok::kEnd) {
      ASSIGN_OR_RETURN(node.pipe, ParsePipe(where, keyword == "template", false, depth));
    }
    RETURN_IF_ERROR(ExpectEnd(where));
    if (keyword == "template") return Status::Ok();
    // The body is a template of its own: only $ is in scope.
    auto body = std::make_shared<ListNode>();
    body->origin = origin_;
    std::vector<std::string> outer{"$"};
    outer.swap(scopes_);
    std::string stop;
    Status s = ParseList(*body, stop, depth + 1);
    outer.swap(scopes_);
    RETURN_IF_ERROR(s);
    if (stop != "end")
      return ErrorAt(stop.empty() ? pos : stop_pos_,
                     stop.empty()
                         ? fmt::format("unexpected EOF: {{{{{}}}}} has no {{{{end}}}}", keyword)
                         : fmt::format("unexpected {{{{else}}}} in {}", where));
    RETURN_IF_ERROR(ExpectEnd("end"));
    return AddDefine(name, std::move(body), pos);
  }

  // Go's rule: a second non-empty definition of a name in one text is an error; an empty one
  // does not replace a non-empty one.
  Status AddDefine(const std::string& name, std::shared_ptr<const ListNode> body, Pos pos) {
    auto it = defines_.find(name);
    if (it == defines_.end() || IsEmptyList(*it->second)) {
      defines_[name] = std::move(body);
    } else if (!IsEmptyList(*body)) {
      return ErrorAt(pos, fmt::format("template: multiple definition of template {:?}", name));
    }
    return Status::Ok();
  }

  Status ExpectEnd(std::string_view where) {
    if (Peek().kind != Tok::kEnd) return Unexpected(Peek(), where, "\"}}\"");
    return Status::Ok();
  }

  // {{if p}} / {{range p}} / {{with p}}, after the keyword: the pipeline, the body, an optional
  // else (an `else if` becomes an if inside the else list, as Go does), the end.
  Status ParseControl(Node& node, const std::string& keyword, Pos pos, int depth) {
    node.kind = keyword == "if"      ? Node::Kind::kIf
                : keyword == "range" ? Node::Kind::kRange
                                     : Node::Kind::kWith;
    node.pos = pos;
    size_t scope = scopes_.size();
    if (Peek().kind == Tok::kEnd)
      return ErrorAt(Peek().pos, fmt::format("missing value for {}", keyword));
    ASSIGN_OR_RETURN(node.pipe, ParsePipe(keyword, true, keyword == "range", depth));
    RETURN_IF_ERROR(ExpectEnd(keyword));
    size_t pipe_scope = scopes_.size();  // the pipeline's variables reach the else branch too
    auto body = std::make_shared<ListNode>();
    std::string stop;
    RETURN_IF_ERROR(ParseList(*body, stop, depth + 1));
    node.list = std::move(body);
    if (stop.empty())
      return ErrorAt(pos, fmt::format("unexpected EOF: {{{{{}}}}} has no {{{{end}}}}", keyword));
    scopes_.resize(pipe_scope);
    if (stop == "else") {
      auto else_list = std::make_shared<ListNode>();
      if (Peek().kind == Tok::kIdent && Peek().text == "if" && keyword == "if") {
        Pos if_pos = Next().pos;
        Node inner;
        RETURN_IF_ERROR(ParseControl(inner, "if", if_pos, depth + 1));  // consumes the {{end}}
        else_list->nodes.push_back(std::move(inner));
      } else {
        if (Peek().kind != Tok::kEnd) {
          if (Peek().kind == Tok::kIdent && (Peek().text == "with" || Peek().text == "if"))
            return ErrorAt(Peek().pos,
                           fmt::format("{{{{else {}}}}} in {{{{{}}}}} is not supported by nines",
                                       Peek().text, keyword));
          return Unexpected(Peek(), "else", "\"}}\"");
        }
        std::string stop2;
        RETURN_IF_ERROR(ParseList(*else_list, stop2, depth + 1));
        if (stop2 != "end")
          return ErrorAt(stop2.empty() ? pos : stop_pos_,
                         stop2.empty()
                             ? fmt::format("unexpected EOF: {{{{{}}}}} has no {{{{end}}}}", keyword)
                             : "unexpected {{else}} after {{else}}");
        RETURN_IF_ERROR(ExpectEnd("end"));
      }
      node.else_list = std::move(else_list);
    } else {
      RETURN_IF_ERROR(ExpectEnd("end"));
    }
    scopes_.resize(scope);
    return Status::Ok();
  }

  // A pipeline: optional declaration ($x := / $x = / in range $i, $v :=), then commands joined
  // by "|", up to "}}" (or ")" when `in_parens`).
  Result<std::shared_ptr<const PipeNode>> ParsePipe(std::string_view where, bool allow_decl,
                                                    bool range, int depth) {
    auto pipe = std::make_shared<PipeNode>();
    pipe->pos = Peek().pos;
    std::vector<std::string> declared;
    if (allow_decl && Peek().kind == Tok::kVariable) {
      size_t save = t_;
      std::vector<Token> vars{Next()};
      if (range && Peek().kind == Tok::kComma) {
        Next();
        if (Peek().kind != Tok::kVariable) return Unexpected(Peek(), "range", "a variable");
        vars.push_back(Next());
      }
      if (Peek().kind == Tok::kDeclare || Peek().kind == Tok::kAssign) {
        pipe->assign = Next().kind == Tok::kAssign;
        for (const Token& v : vars) {
          if (pipe->assign && !Defined(v.value))
            return ErrorAt(v.pos, fmt::format("undefined variable {:?}", v.value));
          pipe->vars.push_back(v.value);
        }
        if (!pipe->assign) declared = pipe->vars;
      } else {
        t_ = save;
      }
    }
    while (true) {
      CommandNode cmd;
      cmd.pos = Peek().pos;
      while (true) {
        Tok k = Peek().kind;
        if (k == Tok::kEnd || k == Tok::kPipe || k == Tok::kRParen) break;
        ASSIGN_OR_RETURN(auto arg, ParseOperand(where, depth));
        cmd.args.push_back(std::move(arg));
      }
      if (cmd.args.empty()) return Unexpected(Peek(), where, "an operand");
      const ArgNode& head = cmd.args[0];
      if (head.kind == ArgNode::Kind::kLiteral && head.literal.kind() == Value::Kind::kNil)
        return ErrorAt(head.pos, "nil is not a command");
      pipe->cmds.push_back(std::move(cmd));
      if (Peek().kind != Tok::kPipe) break;
      Next();
    }
    for (auto& v : declared) scopes_.push_back(v);  // visible after the pipeline, as in Go
    return std::shared_ptr<const PipeNode>(std::move(pipe));
  }

  bool Defined(const std::string& var) const {
    for (const auto& s : scopes_)
      if (s == var) return true;
    return false;
  }

  Result<ArgNode> ParseOperand(std::string_view where, int depth) {
    const Token& t = Next();
    ArgNode arg;
    arg.pos = t.pos;
    arg.text = t.text;
    switch (t.kind) {
      case Tok::kDot:
        arg.kind = ArgNode::Kind::kDot;
        break;
      case Tok::kField:
        arg.kind = ArgNode::Kind::kField;
        arg.fields.push_back(t.value);
        break;
      case Tok::kVariable:
        if (!Defined(t.value))
          return ErrorAt(t.pos, fmt::format("undefined variable {:?}", t.value));
        arg.kind = ArgNode::Kind::kVariable;
        arg.name = t.value;
        break;
      case Tok::kString:
        arg.kind = ArgNode::Kind::kLiteral;
        arg.literal = Value::String(t.value);
        break;
      case Tok::kNumber: {
        ASSIGN_OR_RETURN(arg.literal, ParseNumber(t));
        arg.kind = ArgNode::Kind::kLiteral;
        break;
      }
      case Tok::kChar:
        return ErrorAt(t.pos,
                       fmt::format("character constant {} is not supported by nines", t.text));
      case Tok::kLParen: {
        if (depth > kMaxDepth) return ErrorAt(t.pos, "template nested too deeply");
        arg.kind = ArgNode::Kind::kPipe;
        size_t from = t_;
        ASSIGN_OR_RETURN(arg.pipe, ParsePipe("parenthesized pipeline", false, false, depth + 1));
        if (Peek().kind != Tok::kRParen)
          return Unexpected(Peek(), "parenthesized pipeline", "\")\"");
        for (size_t k = from; k < t_; ++k)
          arg.text += ((*toks_)[k].space_before && k > from ? " " : "") + (*toks_)[k].text;
        arg.text += Next().text;
        break;
      }
      case Tok::kIdent:
        RETURN_IF_ERROR(ParseIdent(t, arg));
        break;
      default:
        return Unexpected(t, where, "an operand");
    }
    // A field chain sticks to its operand: `.A.B`, `$x.A`, `(pipe).A`.
    while (Peek().kind == Tok::kField && !Peek().space_before) {
      if (arg.kind == ArgNode::Kind::kLiteral || arg.kind == ArgNode::Kind::kFunction)
        return ErrorAt(Peek().pos, fmt::format("unexpected {} after {}", Peek().text, arg.text));
      if (arg.kind == ArgNode::Kind::kDot)
        return ErrorAt(Peek().pos, fmt::format("unexpected {:?} after \".\"", Peek().text));
      arg.fields.push_back(Peek().value);
      arg.text += Next().text;
    }
    return arg;
  }

  Status ParseIdent(const Token& t, ArgNode& arg) {
    const std::string& w = t.text;
    if (w == "true" || w == "false") {
      arg.kind = ArgNode::Kind::kLiteral;
      arg.literal = Value::Bool(w == "true");
    } else if (w == "nil") {
      arg.kind = ArgNode::Kind::kLiteral;
    } else if (IsSupportedFunction(w)) {
      arg.kind = ArgNode::Kind::kFunction;
      arg.name = w;
    } else if (w == "if" || w == "range" || w == "with" || w == "else" || w == "end" ||
               w == "define" || w == "template" || w == "block" || w == "break" ||
               w == "continue") {
      return ErrorAt(t.pos, fmt::format("unexpected keyword {:?} in operand", w));
    } else if (UnsupportedFunctions().count(w)) {
      return ErrorAt(t.pos, fmt::format("function {:?} is not supported by nines", w));
    } else {
      return ErrorAt(t.pos, fmt::format("function {:?} not defined", w));
    }
    return Status::Ok();
  }

  static Result<Value> ParseNumber(const Token& t) {
    const std::string& s = t.text;
    std::string digits;
    for (char c : s)
      if (c != '_') digits += c;
    char* end = nullptr;
    bool is_float = s.find_first_of(".eE") != std::string::npos &&
                    !(s.size() > 2 && (s[1] == 'x' || s[1] == 'X' || s[2] == 'x' || s[2] == 'X'));
    errno = 0;
    if (!is_float) {
      long long v = std::strtoll(digits.c_str(), &end, 0);
      if (end == digits.c_str() + digits.size() && errno == 0 && !digits.empty())
        return Value::Int(v);
    } else {
      double v = std::strtod(digits.c_str(), &end);
      if (end == digits.c_str() + digits.size() && errno == 0 && !digits.empty())
        return Value::Float(v);
    }
    return ErrorAt(t.pos, fmt::format("bad number syntax: {:?}", s));
  }

  std::vector<Item> items_;
  size_t item_ = 0;
  std::vector<Token>* toks_ = nullptr;
  size_t t_ = 0;
  std::vector<std::string> scopes_;  // variables in scope, innermost last
  Pos stop_pos_;
  std::string origin_;
  Defines defines_;
};

}  // namespace

namespace template_internal {

Result<ParsedText> ParseText(std::string_view text, const std::string& origin) {
  ASSIGN_OR_RETURN(auto items, Lexer(text).Run());
  return Parser(std::move(items), origin).ParseAll();
}

bool IsEmptyList(const ListNode& list) {
  for (const Node& n : list.nodes)
    if (n.kind != Node::Kind::kText || n.text.find_first_not_of(" \t\r\n") != std::string::npos)
      return false;
  return true;
}

void TemplateCalls(const ListNode& list, std::vector<std::pair<std::string, Pos>>* out) {
  for (const Node& n : list.nodes) {
    if (n.kind == Node::Kind::kTemplate) out->emplace_back(n.text, n.pos);
    if (n.list) TemplateCalls(*n.list, out);
    if (n.else_list) TemplateCalls(*n.else_list, out);
  }
}

}  // namespace template_internal

Result<Template> Template::Parse(std::string_view text, TemplateOptions options) {
  ASSIGN_OR_RETURN(ParsedText parsed, ParseText(text, ""));
  return Template(std::string(text), std::move(parsed.root),
                  std::make_shared<const Defines>(std::move(parsed.defines)), options);
}

namespace {

Value KV(const std::map<std::string, std::string>& m) { return Value::MakeMap(m); }

Value AlertValue(const TemplateAlert& a) {
  return Value::MakeStruct({{"Status", Value::String(a.status)},
                            {"Labels", KV(a.labels)},
                            {"Annotations", KV(a.annotations)},
                            {"StartsAt", Value::Time(a.starts_at)},
                            {"EndsAt", Value::Time(a.ends_at)},
                            {"GeneratorURL", Value::String(a.generator_url)},
                            {"Fingerprint", Value::String(a.fingerprint)}},
                           "Alert");
}

}  // namespace

namespace template_internal {

Value DataValue(const TemplateData& data) {
  List alerts;
  alerts.reserve(data.alerts.size());
  for (const auto& a : data.alerts) alerts.push_back(AlertValue(a));
  Value dot = Value::MakeStruct({{"Receiver", Value::String(data.receiver)},
                                 {"Status", Value::String(data.status)},
                                 {"Alerts", Value::MakeList(std::move(alerts), "Alerts")},
                                 {"GroupLabels", KV(data.group_labels)},
                                 {"CommonLabels", KV(data.common_labels)},
                                 {"CommonAnnotations", KV(data.common_annotations)},
                                 {"ExternalURL", Value::String(data.external_url)}},
                                "Data");
  return dot;
}

}  // namespace template_internal

Result<std::string> Template::Execute(const TemplateData& data) const {
  return template_internal::Execute(*root_, DataValue(data), options_,
                                    ExecContext{{defines_.get()}, false});
}

}  // namespace nines::alerting
