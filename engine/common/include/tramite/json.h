// A small JSON value with a strict parser and a compact writer.
// Used for event data, datamodel snapshots, session serialisation and API bodies.
// Integers are kept exactly (int64); other numbers as double. Objects keep insertion order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tramite/status.h"

namespace tramite::json {

class Value;
using Array = std::vector<Value>;
using Member = std::pair<std::string, Value>;
using Object = std::vector<Member>;

enum class Type { kNull, kBool, kInt, kDouble, kString, kArray, kObject };

// Value semantics; copying copies the whole tree. Not thread-safe for concurrent mutation.
class Value {
 public:
  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool b) : type_(Type::kBool), int_(b ? 1 : 0) {}
  Value(int i) : type_(Type::kInt), int_(i) {}
  Value(std::int64_t i) : type_(Type::kInt), int_(i) {}
  Value(double d) : type_(Type::kDouble), double_(d) {}
  Value(std::string s) : type_(Type::kString), string_(std::move(s)) {}
  Value(std::string_view s) : type_(Type::kString), string_(s) {}
  Value(const char* s) : type_(Type::kString), string_(s) {}
  Value(Array a);
  Value(Object o);

  Value(const Value& other);
  Value(Value&& other) noexcept = default;
  Value& operator=(const Value& other);
  Value& operator=(Value&& other) noexcept = default;
  ~Value() = default;

  Type type() const { return type_; }
  bool isNull() const { return type_ == Type::kNull; }
  bool isBool() const { return type_ == Type::kBool; }
  bool isInt() const { return type_ == Type::kInt; }
  bool isNumber() const { return type_ == Type::kInt || type_ == Type::kDouble; }
  bool isString() const { return type_ == Type::kString; }
  bool isArray() const { return type_ == Type::kArray; }
  bool isObject() const { return type_ == Type::kObject; }

  // Accessors; calling one on the wrong type is a bug (asserts) except where noted.
  bool asBool() const;
  std::int64_t asInt() const;
  double asDouble() const;  // int or double
  const std::string& asString() const;
  const Array& asArray() const;
  Array& asArray();
  const Object& asObject() const;
  Object& asObject();

  // Object member lookup; nullptr when absent or when this is not an object.
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  // Sets (replacing) an object member; turns a null value into an empty object first.
  void set(std::string key, Value v);

  friend bool operator==(const Value& a, const Value& b);
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

 private:
  Type type_ = Type::kNull;
  std::int64_t int_ = 0;
  double double_ = 0;
  std::string string_;
  std::unique_ptr<Array> array_;
  std::unique_ptr<Object> object_;
};

struct ParseLimits {
  std::size_t max_depth = 256;
  std::size_t max_bytes = 64 * 1024 * 1024;
  // Refuse an object that names a member twice (request bodies: which one counts would be
  // the reader's guess).
  bool reject_duplicates = false;
};

namespace detail {
inline void addMembers(Object&) {}
template <typename V, typename... Rest>
void addMembers(Object& o, std::string key, V&& value, Rest&&... rest) {
  o.emplace_back(std::move(key), Value(std::forward<V>(value)));
  addMembers(o, std::forward<Rest>(rest)...);
}
}  // namespace detail

// An object from key, value, key, value, ... in that order. Values given as rvalues are moved
// in; an Object{{key, value}, ...} initializer list copies every value (whole arrays too).
template <typename... Args>
Value objectOf(Args&&... keys_and_values) {
  static_assert(sizeof...(Args) % 2 == 0, "objectOf takes key, value pairs");
  Object o;
  o.reserve(sizeof...(Args) / 2);
  detail::addMembers(o, std::forward<Args>(keys_and_values)...);
  return Value(std::move(o));
}

// Parses one JSON text (RFC 8259) with surrounding whitespace. Rejects invalid UTF-8, lone
// surrogates, trailing data, non-finite numbers and nesting beyond limits; errors name the
// byte offset. Integers outside int64 become doubles. Duplicate member names are kept as given,
// unless limits.reject_duplicates.
Result<Value> parse(std::string_view text, const ParseLimits& limits = {});

// Compact serialisation; strings are escaped so the output is valid UTF-8 JSON.
std::string dump(const Value& v);
void dumpTo(const Value& v, std::string& out);
// Appends s as a JSON string literal (with quotes).
void appendQuoted(std::string_view s, std::string& out);

// True when s is well-formed UTF-8 (no overlongs, no surrogates).
bool isValidUtf8(std::string_view s);

}  // namespace tramite::json
