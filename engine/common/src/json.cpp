#include "tramite/json.h"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace tramite::json {

Value::Value(Array a) : type_(Type::kArray), array_(std::make_unique<Array>(std::move(a))) {}
Value::Value(Object o) : type_(Type::kObject), object_(std::make_unique<Object>(std::move(o))) {}

Value::Value(const Value& other)
    : type_(other.type_), int_(other.int_), double_(other.double_), string_(other.string_) {
  if (other.array_) array_ = std::make_unique<Array>(*other.array_);
  if (other.object_) object_ = std::make_unique<Object>(*other.object_);
}

Value& Value::operator=(const Value& other) {
  if (this != &other) {
    Value copy(other);
    *this = std::move(copy);
  }
  return *this;
}

bool Value::asBool() const {
  assert(type_ == Type::kBool);
  return int_ != 0;
}
std::int64_t Value::asInt() const {
  assert(type_ == Type::kInt);
  return int_;
}
double Value::asDouble() const {
  assert(isNumber());
  return type_ == Type::kInt ? static_cast<double>(int_) : double_;
}
const std::string& Value::asString() const {
  assert(type_ == Type::kString);
  return string_;
}
const Array& Value::asArray() const {
  assert(type_ == Type::kArray);
  return *array_;
}
Array& Value::asArray() {
  assert(type_ == Type::kArray);
  return *array_;
}
const Object& Value::asObject() const {
  assert(type_ == Type::kObject);
  return *object_;
}
Object& Value::asObject() {
  assert(type_ == Type::kObject);
  return *object_;
}

const Value* Value::find(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const auto& [k, v] : *object_) {
    if (k == key) return &v;
  }
  return nullptr;
}

Value* Value::find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value*>(this)->find(key));
}

void Value::set(std::string key, Value v) {
  if (type_ == Type::kNull) *this = Value(Object{});
  assert(type_ == Type::kObject);
  if (Value* existing = find(key)) {
    *existing = std::move(v);
    return;
  }
  object_->emplace_back(std::move(key), std::move(v));
}

bool operator==(const Value& a, const Value& b) {
  if (a.isNumber() && b.isNumber()) {
    if (a.isInt() && b.isInt()) return a.int_ == b.int_;
    return a.asDouble() == b.asDouble();
  }
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case Type::kNull: return true;
    case Type::kBool: return a.int_ == b.int_;
    case Type::kString: return a.string_ == b.string_;
    case Type::kArray: return *a.array_ == *b.array_;
    case Type::kObject: return *a.object_ == *b.object_;
    default: return false;
  }
}

// ---------------------------------------------------------------------------------------
// UTF-8

namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length or 0 when malformed.
std::size_t utf8SequenceLength(std::string_view s, std::size_t i, std::uint32_t* cp_out) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  std::uint32_t cp;
  std::size_t len;
  if (c < 0x80) {
    *cp_out = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    cp = c & 0x1F;
    len = 2;
  } else if ((c & 0xF0) == 0xE0) {
    cp = c & 0x0F;
    len = 3;
  } else if ((c & 0xF8) == 0xF0) {
    cp = c & 0x07;
    len = 4;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    unsigned char cc = byte(i + k);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  *cp_out = cp;
  return len;
}

void appendUtf8(std::uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

bool isValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    std::uint32_t cp;
    std::size_t len = utf8SequenceLength(s, i, &cp);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Parser

namespace {

class Parser {
 public:
  Parser(std::string_view text, const ParseLimits& limits) : text_(text), limits_(limits) {}

  Result<Value> parseDocument() {
    if (text_.size() > limits_.max_bytes) {
      return Status(ErrorCode::kResourceExhausted,
                    "JSON text larger than " + std::to_string(limits_.max_bytes) + " bytes");
    }
    skipWhitespace();
    Value v;
    if (!parseValue(v, 0)) return error_;
    skipWhitespace();
    if (pos_ != text_.size()) {
      fail("unexpected data after the JSON value");
      return error_;
    }
    return v;
  }

 private:
  // Records the error (the parse functions then return false).
  void fail(const std::string& what) {
    error_ = Status(ErrorCode::kInvalidArgument,
                    "invalid JSON at byte " + std::to_string(pos_) + ": " + what);
  }

  void skipWhitespace() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  bool consumeLiteral(std::string_view lit) {
    if (text_.substr(pos_, lit.size()) != lit) return false;
    pos_ += lit.size();
    return true;
  }

  bool parseValue(Value& out, std::size_t depth) {
    if (depth > limits_.max_depth) {
      error_ = Status(ErrorCode::kResourceExhausted,
                      "JSON nested deeper than " + std::to_string(limits_.max_depth));
      return false;
    }
    if (pos_ >= text_.size()) {
      fail("unexpected end of input");
      return false;
    }
    char c = text_[pos_];
    switch (c) {
      case '{': return parseObject(out, depth);
      case '[': return parseArray(out, depth);
      case '"': {
        std::string s;
        if (!parseString(s)) return false;
        out = Value(std::move(s));
        return true;
      }
      case 't':
        if (consumeLiteral("true")) {
          out = Value(true);
          return true;
        }
        break;
      case 'f':
        if (consumeLiteral("false")) {
          out = Value(false);
          return true;
        }
        break;
      case 'n':
        if (consumeLiteral("null")) {
          out = Value();
          return true;
        }
        break;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return parseNumber(out);
    }
    fail("unexpected character");
    return false;
  }

  bool parseNumber(Value& out) {
    std::size_t start = pos_;
    bool is_integer = true;
    if (text_[pos_] == '-') ++pos_;
    auto digits = [&] {
      std::size_t s = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ - s;
    };
    if (pos_ < text_.size() && text_[pos_] == '0') {
      ++pos_;
    } else if (digits() == 0) {
      fail("invalid number");
      return false;
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      is_integer = false;
      ++pos_;
      if (digits() == 0) {
        fail("invalid number: digits expected after '.'");
        return false;
      }
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      is_integer = false;
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (digits() == 0) {
        fail("invalid number: digits expected in exponent");
        return false;
      }
    }
    std::string token(text_.substr(start, pos_ - start));
    if (is_integer) {
      errno = 0;
      long long v = std::strtoll(token.c_str(), nullptr, 10);
      if (errno == 0) {
        out = Value(static_cast<std::int64_t>(v));
        return true;
      }
    }
    errno = 0;
    double d = std::strtod(token.c_str(), nullptr);
    if (!std::isfinite(d)) {
      pos_ = start;
      fail("number out of range");
      return false;
    }
    out = Value(d);
    return true;
  }

  bool parseHex4(std::uint32_t& out) {
    if (pos_ + 4 > text_.size()) {
      fail("truncated \\u escape");
      return false;
    }
    out = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9')
        out |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        out |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        out |= static_cast<std::uint32_t>(c - 'A' + 10);
      else {
        fail("invalid \\u escape");
        return false;
      }
    }
    return true;
  }

  bool parseString(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= text_.size()) {
        fail("unterminated string");
        return false;
      }
      unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) {
        fail("control character in string");
        return false;
      }
      if (c == '\\') {
        ++pos_;
        if (pos_ >= text_.size()) {
          fail("unterminated escape");
          return false;
        }
        char e = text_[pos_++];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            std::uint32_t cp;
            if (!parseHex4(cp)) return false;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              std::uint32_t low;
              if (text_.substr(pos_, 2) != "\\u") {
                fail("lone high surrogate");
                return false;
              }
              pos_ += 2;
              if (!parseHex4(low)) return false;
              if (low < 0xDC00 || low > 0xDFFF) {
                fail("invalid low surrogate");
                return false;
              }
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              fail("lone low surrogate");
              return false;
            }
            appendUtf8(cp, out);
            break;
          }
          default: fail("invalid escape"); return false;
        }
        continue;
      }
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      std::uint32_t cp;
      std::size_t len = utf8SequenceLength(text_, pos_, &cp);
      if (len == 0) {
        fail("invalid UTF-8");
        return false;
      }
      out.append(text_.substr(pos_, len));
      pos_ += len;
    }
  }

  bool parseArray(Value& out, std::size_t depth) {
    ++pos_;
    Array items;
    skipWhitespace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      out = Value(std::move(items));
      return true;
    }
    while (true) {
      skipWhitespace();
      Value item;
      if (!parseValue(item, depth + 1)) return false;
      items.push_back(std::move(item));
      skipWhitespace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        out = Value(std::move(items));
        return true;
      }
      fail("expected ',' or ']'");
      return false;
    }
  }

  bool parseObject(Value& out, std::size_t depth) {
    ++pos_;
    Object members;
    skipWhitespace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      out = Value(std::move(members));
      return true;
    }
    while (true) {
      skipWhitespace();
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        fail("expected a member name");
        return false;
      }
      std::string key;
      if (!parseString(key)) return false;
      if (limits_.reject_duplicates &&
          std::any_of(members.begin(), members.end(),
                      [&](const std::pair<std::string, Value>& m) { return m.first == key; })) {
        fail("member '" + key + "' appears twice");
        return false;
      }
      skipWhitespace();
      if (pos_ >= text_.size() || text_[pos_] != ':') {
        fail("expected ':'");
        return false;
      }
      ++pos_;
      skipWhitespace();
      Value v;
      if (!parseValue(v, depth + 1)) return false;
      members.emplace_back(std::move(key), std::move(v));
      skipWhitespace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        out = Value(std::move(members));
        return true;
      }
      fail("expected ',' or '}'");
      return false;
    }
  }

  std::string_view text_;
  ParseLimits limits_;
  std::size_t pos_ = 0;
  Status error_;
};

}  // namespace

Result<Value> parse(std::string_view text, const ParseLimits& limits) {
  return Parser(text, limits).parseDocument();
}

// ---------------------------------------------------------------------------------------
// Writer

void appendQuoted(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      std::uint32_t cp;
      std::size_t len = utf8SequenceLength(s, i, &cp);
      if (len == 0) {
        out += "\\ufffd";  // never emit invalid UTF-8
        ++i;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void dumpTo(const Value& v, std::string& out) {
  switch (v.type()) {
    case Type::kNull: out += "null"; break;
    case Type::kBool: out += v.asBool() ? "true" : "false"; break;
    case Type::kInt: out += std::to_string(v.asInt()); break;
    case Type::kDouble: {
      double d = v.asDouble();
      if (!std::isfinite(d)) {
        out += "null";
        break;
      }
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", d);
      // Prefer the shortest representation that round-trips.
      for (int precision = 1; precision <= 17; ++precision) {
        char shorter[32];
        std::snprintf(shorter, sizeof shorter, "%.*g", precision, d);
        if (std::strtod(shorter, nullptr) == d) {
          std::snprintf(buf, sizeof buf, "%s", shorter);
          break;
        }
      }
      out += buf;
      break;
    }
    case Type::kString: appendQuoted(v.asString(), out); break;
    case Type::kArray: {
      out += '[';
      bool first = true;
      for (const Value& item : v.asArray()) {
        if (!first) out += ',';
        first = false;
        dumpTo(item, out);
      }
      out += ']';
      break;
    }
    case Type::kObject: {
      out += '{';
      bool first = true;
      for (const auto& [k, item] : v.asObject()) {
        if (!first) out += ',';
        first = false;
        appendQuoted(k, out);
        out += ':';
        dumpTo(item, out);
      }
      out += '}';
      break;
    }
  }
}

std::string dump(const Value& v) {
  std::string out;
  dumpTo(v, out);
  return out;
}

}  // namespace tramite::json
