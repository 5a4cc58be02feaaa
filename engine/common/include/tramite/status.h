// Expected failures as values: a closed set of error codes, Status and Result<T>.
// Exceptions are reserved for programming errors (bugs); anything a user, a document or
// a peer can cause is reported through these types.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tramite {

// The closed set of failure kinds. The API layer maps each to exactly one HTTP status.
enum class ErrorCode {
  kInvalidArgument,     // malformed input: bad JSON, bad option, bad expression
  kInvalidDocument,     // a workflow document failed parsing or validation
  kNotFound,            // an addressed object does not exist
  kConflict,            // optimistic-version clash, duplicate, illegal state for the operation
  kFailedPrecondition,  // the operation is not allowed in the object's current state
  kPermissionDenied,    // the actor may not do this
  kUnauthenticated,     // no or invalid credentials
  kResourceExhausted,   // a limit was hit: size, depth, instruction budget, memory cap
  kRateLimited,         // too many attempts (e.g. failed logins); retry later
  kUnsupportedMedia,    // a body in a format the operation does not take
  kUnavailable,         // a dependency (database, peer) cannot be reached right now
  kInternal,            // an invariant broke; always a bug worth reporting
};

// Stable lowercase name of a code, e.g. "invalid_argument"; used in logs and API bodies.
std::string_view errorCodeName(ErrorCode code);

// Success, or an error code with a human-readable message. Cheap to copy when OK.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : error_(Error{code, std::move(message)}) {}

  static Status ok() { return Status(); }

  bool isOk() const { return !error_.has_value(); }
  explicit operator bool() const { return isOk(); }
  // Precondition: !isOk().
  ErrorCode code() const { return error_->code; }
  const std::string& message() const { return error_->message; }
  // "code: message", or "ok".
  std::string toString() const;

 private:
  struct Error {
    ErrorCode code;
    std::string message;
  };
  std::optional<Error> error_;
};

// A value of T or a failed Status. Accessing the value of a failed Result is a bug (asserts).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : data_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(data_).isOk() && "Result built from an OK status");
  }
  Result(ErrorCode code, std::string message) : data_(Status(code, std::move(message))) {}

  bool isOk() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return isOk(); }

  const T& value() const& {
    assert(isOk());
    return std::get<T>(data_);
  }
  T& value() & {
    assert(isOk());
    return std::get<T>(data_);
  }
  T&& value() && {
    assert(isOk());
    return std::get<T>(std::move(data_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  // The failure; OK status when a value is held.
  Status status() const { return isOk() ? Status() : std::get<Status>(data_); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace tramite
