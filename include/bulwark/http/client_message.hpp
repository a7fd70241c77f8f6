// The client side of HTTP/1.1, sans-I/O: URLs (and resolving a Location against them), request
// heads, and an incremental response parser that streams the body to a sink.
//
// Only http and https URLs are understood. Credentials in a URL ("https://user:pw@host/") are
// refused rather than sent: they leak into logs and shells' histories, and
// "https://www.bank.example@evil.example/" is a classic way to disguise where a link goes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/result.hpp"
#include "bulwark/wire.hpp"

namespace bulwark::http {

// ---- URLs ----------------------------------------------------------------------------------

struct Url {
  std::string scheme;  // "https" or "http"
  // A lower-case registered name, an IPv4 literal, or an IPv6 literal (without its brackets).
  std::string host;
  std::uint16_t port = 0;  // as given, or the scheme's default (443 / 80)
  // The origin-form request target: the path (at least "/") and "?query" when there is one.
  // The fragment is never part of it (RFC 9110 §4.2.4: it is not sent).
  std::string target;

  bool tls() const noexcept { return scheme == "https"; }
  bool ipv6_literal() const noexcept { return host.find(':') != std::string::npos; }
  // "example.org", "example.org:8443", "[::1]:8443": the Host field (RFC 9110 §7.2), which
  // leaves out the scheme's default port.
  std::string authority() const;
  // "https://example.org:8443/a?b".
  std::string text() const;
  // RFC 6454 §4: same scheme, host and port.
  bool same_origin(const Url& other) const noexcept;
};

// An absolute http(s) URL. The host is lower-cased; a path or query byte that may not appear in
// a request target (space, non-ASCII) is percent-encoded; control characters are refused (a raw
// CR or LF would let a URL inject header lines).
Result<Url> parse_url(std::string_view text);

// RFC 3986 §5.2: the URL that `reference` (a Location field value: absolute, scheme-relative
// "//host/p", absolute-path "/p", or relative "p", "../p", "?q") names relative to `base`.
Result<Url> resolve_reference(const Url& base, std::string_view reference);

// ---- requests ------------------------------------------------------------------------------

struct HeaderField {
  std::string name;
  std::string value;
};

// One -H option, as curl reads them: "Name: value" sets a field (replacing a default one of the
// same name), "Name:" removes a default field, "Name;" sends the field with an empty value.
struct HeaderOption {
  std::string name;
  std::optional<std::string> value;  // nullopt: remove the field
};
// The name must be a token and the value free of CR, LF and NUL (RFC 9110 §5.5).
Result<HeaderOption> parse_header_option(std::string_view text);

struct RequestSpec {
  bool head = false;  // HEAD instead of GET
  std::vector<HeaderOption> headers;
  std::string user_agent;  // empty: "bulwark/VERSION"
};

// The request head: request line, then Host, User-Agent, Accept: */* and Connection: close unless
// `spec` replaces or removes them, then the other fields of `spec` in order, then the empty line.
std::string serialize_request(const Url& url, const RequestSpec& spec);

// ---- responses -----------------------------------------------------------------------------

struct ResponseHead {
  int version = 0;  // 10 or 11 (any other version is refused)
  int status = 0;   // 100..599
  std::string reason;
  std::vector<HeaderField> fields;  // in the order received

  // The value of the first field named `name` (case-insensitive).
  std::optional<std::string_view> find(std::string_view name) const noexcept;
  // "HTTP/1.1 200 OK\r\nName: value\r\n...\r\n" (for -I and -v).
  std::string text() const;
};

// Bounds on what one response may make us hold (DESIGN.md habit 8).
struct ResponseLimits {
  // A head (status line and fields), a chunk-size line, or the trailer section: -> limit_exceeded.
  std::size_t max_head_bytes = 64 * 1024;
  std::size_t max_fields = 256;  // per head, trailers included
  std::size_t max_interim = 16;  // 1xx responses before the final one
};

// How the end of the body is known (RFC 9112 §6.3).
enum class BodyFraming : std::uint8_t {
  none,            // HEAD, 1xx, 204, 304, or Content-Length: 0
  content_length,  // exactly Content-Length bytes
  chunked,         // until the last chunk and the trailer section
  until_close,     // until the connection ends: only a clean end (close_notify) completes it
};

// Parses one response (after any 1xx interim responses) incrementally; Boost.Beast's parser is
// underneath, kept out of this header.
class ResponseParser {
 public:
  enum class State : std::uint8_t {
    head,      // waiting for the (final) head
    body,      // the head is complete; body bytes go to the sink
    complete,  // the whole response was received
    failed,
  };
  using BodySink = std::function<Status(wire::Bytes)>;
  using InterimObserver = std::function<void(const ResponseHead&)>;

  // `head_request`: the request was HEAD, so the response has no body whatever its fields say
  // (RFC 9110 §9.3.2).
  explicit ResponseParser(bool head_request = false, ResponseLimits limits = {});
  ~ResponseParser();
  ResponseParser(ResponseParser&&) noexcept;
  ResponseParser& operator=(ResponseParser&&) noexcept;

  // Where body bytes go (without a sink they are counted and dropped). A sink's error stops the
  // parser and is returned by feed().
  void set_body_sink(BodySink sink);
  // Told about each 1xx response skipped.
  void set_interim_observer(InterimObserver observer);

  // Takes bytes received; returns how many it consumed. It stops early twice: right after the
  // final head (so the caller sees it before any body byte reaches the sink: feed the rest
  // again), and when the response is complete (what follows belongs to no response we asked
  // for). Errors are sticky: decode_failed (malformed), limit_exceeded, unsupported (a transfer
  // coding other than chunked, 101 Switching Protocols), or the sink's error.
  Result<std::size_t> feed(wire::Bytes input);
  Result<std::size_t> feed(std::string_view input) { return feed(wire::as_bytes(input)); }
  // The transport ended. Completes an until_close body; for a response still incomplete, returns
  // `truncated` with a detail saying how far it got.
  Status finish();

  State state() const noexcept;
  // The final head (from State::body on).
  const ResponseHead& head() const noexcept;
  BodyFraming framing() const noexcept;
  std::optional<std::uint64_t> content_length() const noexcept;
  std::uint64_t body_received() const noexcept;  // after removing the chunked coding
  std::size_t interim_responses() const noexcept;
  const std::vector<HeaderField>& trailers() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bulwark::http
