// Status and Result<T>: how every fallible nines function reports failure.
//
// A Status is a code plus a human-readable message that says what failed and where (a config
// file's file:line:col, a request body's field, a RocksDB path). Result<T> holds either a T or a
// non-OK Status. Both are [[nodiscard]] values, cheap to move, and thread-compatible (a const
// object may be read from many threads). No exception crosses a module boundary; wrappers of
// throwing libraries convert at the boundary into one of these.
//
// Example:
//   Result<Duration> ParseDuration(std::string_view text);
//   Status Load(std::string_view text) {
//     ASSIGN_OR_RETURN(Duration d, ParseDuration(text));
//     RETURN_IF_ERROR(Validate(d));
//     return Status::Ok();
//   }
#ifndef NINES_CORE_STATUS_H_
#define NINES_CORE_STATUS_H_

#include <fmt/format.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace nines::core {

// The codes follow the canonical gRPC/absl set; pick the most specific one.
enum class StatusCode {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// Returns the upper-case name of `code`, e.g. "INVALID_ARGUMENT".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // An OK status.
  Status() = default;
  // REQUIRES: code != kOk or message is empty.
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // The message alone, without the code; empty for OK.
  const std::string& message() const { return message_; }
  // "OK" or "INVALID_ARGUMENT: message".
  std::string ToString() const;

  // Returns a copy whose message is "context: message"; OK stays OK.
  Status WithContext(std::string_view context) const;

  // Explicitly discards a status whose failure the caller has decided not to handle.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Constructors for each code; the fmt variants format their message.
#define NINES_STATUS_CTOR(Name, Code)                                          \
  inline Status Name(std::string message) {                                    \
    return Status(StatusCode::Code, std::move(message));                       \
  }                                                                            \
  template <typename... Args>                                                  \
    requires(sizeof...(Args) > 0)                                              \
  Status Name(fmt::format_string<Args...> format, Args&&... args) {            \
    return Status(StatusCode::Code, fmt::format(format, std::forward<Args>(args)...)); \
  }
NINES_STATUS_CTOR(CancelledError, kCancelled)
NINES_STATUS_CTOR(InvalidArgumentError, kInvalidArgument)
NINES_STATUS_CTOR(DeadlineExceededError, kDeadlineExceeded)
NINES_STATUS_CTOR(NotFoundError, kNotFound)
NINES_STATUS_CTOR(AlreadyExistsError, kAlreadyExists)
NINES_STATUS_CTOR(PermissionDeniedError, kPermissionDenied)
NINES_STATUS_CTOR(ResourceExhaustedError, kResourceExhausted)
NINES_STATUS_CTOR(FailedPreconditionError, kFailedPrecondition)
NINES_STATUS_CTOR(AbortedError, kAborted)
NINES_STATUS_CTOR(OutOfRangeError, kOutOfRange)
NINES_STATUS_CTOR(UnimplementedError, kUnimplemented)
NINES_STATUS_CTOR(InternalError, kInternal)
NINES_STATUS_CTOR(UnavailableError, kUnavailable)
NINES_STATUS_CTOR(DataLossError, kDataLoss)
NINES_STATUS_CTOR(UnauthenticatedError, kUnauthenticated)
#undef NINES_STATUS_CTOR

// Either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit so that `return value;` and `return SomeError(...);` both work.
  Result(T value) : v_(std::in_place_index<1>, std::move(value)) {}  // NOLINT
  // A Result built from an OK status is a programming error; it becomes an INTERNAL error
  // rather than a Result without a value.
  Result(Status status)  // NOLINT
      : v_(std::in_place_index<0>,
           status.ok() ? Status(StatusCode::kInternal, "Result constructed from OK status")
                       : std::move(status)) {}

  bool ok() const { return v_.index() == 1; }
  // OK when a value is present.
  Status status() const { return ok() ? Status::Ok() : std::get<0>(v_); }

  // REQUIRES: ok(). Aborts with the status printed otherwise.
  T& value() & { return CheckedValue(); }
  const T& value() const& { return const_cast<Result*>(this)->CheckedValue(); }
  T&& value() && { return std::move(CheckedValue()); }

  // The value, or `fallback` when this holds an error.
  T value_or(T fallback) const& { return ok() ? std::get<1>(v_) : std::move(fallback); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  T& CheckedValue() {
    if (!ok()) {
      fmt::print(stderr, "Result::value() on error: {}\n", std::get<0>(v_).ToString());
      std::abort();
    }
    return std::get<1>(v_);
  }

  std::variant<Status, T> v_;
};

namespace internal {
inline const Status& AsStatus(const Status& s) { return s; }
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace nines::core

#define NINES_STATUS_CONCAT_INNER(a, b) a##b
#define NINES_STATUS_CONCAT(a, b) NINES_STATUS_CONCAT_INNER(a, b)

// Returns from the enclosing function with the status of `expr` (a Status or a Result) if it
// is not OK.
#define RETURN_IF_ERROR(expr)                                                         \
  do {                                                                                \
    ::nines::core::Status nines_status_tmp = ::nines::core::internal::AsStatus(expr); \
    if (!nines_status_tmp.ok()) return nines_status_tmp;                              \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, F());` declares x from F()'s value, or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  NINES_ASSIGN_OR_RETURN_IMPL(NINES_STATUS_CONCAT(nines_result_, __LINE__), lhs, expr)
#define NINES_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#endif  // NINES_CORE_STATUS_H_
