// Typed errors and Result<T>: every fallible operation in bulwark returns one of these.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace bulwark {

// Error codes shared by every layer. Protocol engines map these to alerts in one place.
enum class Errc : std::uint16_t {
  // wire
  truncated = 1,      // a read past the end of the input was refused
  trailing_data,      // bytes left where the message should have ended
  length_overflow,    // a length exceeds what its prefix or limit allows
  capacity_exceeded,  // a fixed-capacity writer is full
  // generic
  invalid_argument,  // API misuse: wrong size, unknown algorithm, ...
  unsupported,       // a known-but-unsupported algorithm, group or scheme
  io_error,          // a file could not be read or written
  // crypto
  crypto_failure,        // libcrypto reported an internal failure
  bad_record_mac,        // AEAD authentication failed
  invalid_public_value,  // a peer key share / point is malformed or not on the curve
  invalid_key,           // a key could not be parsed or does not fit its use
  bad_passphrase,        // an encrypted private key could not be decrypted
  bad_signature,         // a signature did not verify
  decode_failed,         // PEM / DER / other encoding could not be parsed
  // certificates
  cert_expired,
  cert_not_yet_valid,
  cert_unknown_ca,  // no path to a trust anchor
  cert_bad_signature,
  cert_hostname_mismatch,
  cert_wrong_purpose,
  cert_invalid,  // anything else wrong in a chain (basic constraints, extensions, ...)
  // protocol (TLS, later SSH): the engines map each to the alert / disconnect reason it names
  illegal_parameter,        // a well-formed field holds a forbidden value (or a duplicate)
  unexpected_message,       // a message not allowed in this state
  missing_extension,        // a required extension is absent
  unsupported_extension,    // an extension where it is not allowed
  handshake_failure,        // no acceptable set of parameters
  protocol_version,         // no acceptable protocol version
  insufficient_security,    // the peer offers only what policy forbids
  decrypt_error,            // a Finished or signature check in the handshake failed
  record_overflow,          // a record longer than allowed
  limit_exceeded,           // a resource limit of ours (counts, sizes, rates) was reached
  peer_alert,               // the peer sent a fatal alert (detail names it)
  closed,                   // the connection is closed (close_notify seen or sent)
  truncated_connection,     // the transport ended without close_notify
  certificate_required,     // the peer sent no certificate where one is required
  no_application_protocol,  // no ALPN protocol in common
  inappropriate_fallback,   // RFC 7507: a fallback retry from a client that can do better
  // transport
  timed_out,  // an operation did not finish within its time limit
};

// A short, stable, lower-case name for each code ("truncated", "cert_expired", ...).
std::string_view errc_name(Errc code) noexcept;

class Error {
 public:
  Error(Errc code) noexcept : code_(code) {}  // NOLINT(google-explicit-constructor)
  Error(Errc code, std::string detail) : code_(code), detail_(std::move(detail)) {}

  Errc code() const noexcept { return code_; }
  const std::string& detail() const noexcept { return detail_; }
  // "name: detail", or just the name when there is no detail.
  std::string message() const;

  friend bool operator==(const Error& e, Errc c) noexcept { return e.code_ == c; }

 private:
  Errc code_;
  std::string detail_;
};

// Result<T>: a value or an Error. Accessing the value of a failed result aborts: callers check.
template <class T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(const T& v) : v_(std::in_place_index<0>, v) {}          // NOLINT
  Result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}    // NOLINT
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT
  Result(Errc c) : v_(std::in_place_index<1>, Error(c)) {}       // NOLINT
  template <class U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, T> &&
           !std::is_same_v<std::remove_cvref_t<U>, Error> &&
           !std::is_same_v<std::remove_cvref_t<U>, Errc> &&
           !std::is_same_v<std::remove_cvref_t<U>, Result>) Result(U&& u)
      : v_(std::in_place_index<0>, T(std::forward<U>(u))) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return check(), *std::get_if<0>(&v_); }
  const T& value() const& { return check(), *std::get_if<0>(&v_); }
  T&& value() && { return check(), std::move(*std::get_if<0>(&v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    if (ok()) std::abort();
    return *std::get_if<1>(&v_);
  }
  Error&& error() && {
    if (ok()) std::abort();
    return std::move(*std::get_if<1>(&v_));
  }

 private:
  void check() const {
    if (!ok()) std::abort();
  }
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() noexcept = default;
  Result(Error e) : err_(std::move(e)), failed_(true) {}  // NOLINT
  Result(Errc c) : err_(c), failed_(true) {}              // NOLINT

  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const& {
    if (!failed_) std::abort();
    return err_;
  }
  Error&& error() && {
    if (!failed_) std::abort();
    return std::move(err_);
  }

 private:
  Error err_{Errc::invalid_argument};
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace bulwark

#define BW_CAT_INNER(a, b) a##b
#define BW_CAT(a, b) BW_CAT_INNER(a, b)

// BW_TRY(expr): evaluate a Result<...>; on failure return its error from the enclosing function.
#define BW_TRY(expr)                                                              \
  do {                                                                            \
    if (auto bw_try_r_ = (expr); !bw_try_r_) return std::move(bw_try_r_).error(); \
  } while (0)

// BW_ASSIGN(decl, expr): `decl = value of expr`, or return its error.
#define BW_ASSIGN(decl, expr) BW_ASSIGN_IMPL(BW_CAT(bw_assign_r_, __LINE__), decl, expr)
#define BW_ASSIGN_IMPL(tmp, decl, expr)    \
  auto tmp = (expr);                       \
  if (!tmp) return std::move(tmp).error(); \
  decl = std::move(tmp).value()

// The same for coroutines (co_return instead of return).
#define BW_CO_TRY(expr)                                                              \
  do {                                                                               \
    if (auto bw_try_r_ = (expr); !bw_try_r_) co_return std::move(bw_try_r_).error(); \
  } while (0)
#define BW_CO_ASSIGN(decl, expr) BW_CO_ASSIGN_IMPL(BW_CAT(bw_assign_r_, __LINE__), decl, expr)
#define BW_CO_ASSIGN_IMPL(tmp, decl, expr)    \
  auto tmp = (expr);                          \
  if (!tmp) co_return std::move(tmp).error(); \
  decl = std::move(tmp).value()
