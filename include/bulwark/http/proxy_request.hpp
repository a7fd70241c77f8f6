// What an explicit HTTP proxy reads first from its client: a request head whose target is the
// authority form ("CONNECT example.org:443 HTTP/1.1", RFC 9110 §9.3.6) or the absolute form
// ("GET http://example.org/a HTTP/1.1", RFC 9112 §3.2.2). Sans-I/O: the caller collects bytes
// until find_head_end() says the head is complete, then parses it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/http/client_message.hpp"
#include "bulwark/result.hpp"

namespace bulwark::http {

struct ProxyRequestHead {
  std::string method;               // a token, as received (methods are case-sensitive)
  std::string target;               // the request target, as received
  int version = 11;                 // 10 or 11
  std::vector<HeaderField> fields;  // in the order received

  // The value of the first field named `name` (case-insensitive).
  std::optional<std::string_view> find(std::string_view name) const noexcept;
  bool is_connect() const noexcept { return method == "CONNECT"; }
};

// The length of the head at the start of `buffer` (through the empty line), or nullopt while
// it is incomplete. More than `max_head_bytes` without the empty line is limit_exceeded.
Result<std::optional<std::size_t>> find_head_end(std::string_view buffer,
                                                 std::size_t max_head_bytes = 64 * 1024);

// Parses one request head (as delimited by find_head_end). Malformed lines, obsolete line
// folding, a field name that is not a token, a control character in a value, and any version
// other than HTTP/1.0 and HTTP/1.1 are decode_failed; more than `max_fields` fields is
// limit_exceeded.
Result<ProxyRequestHead> parse_proxy_request_head(std::string_view head,
                                                  std::size_t max_fields = 256);

// A CONNECT target: "host:port" or "[v6]:port"; the port is required and not 0 (RFC 9110
// §9.3.6). The host is lower-cased (a v6 literal without its brackets).
struct Authority {
  std::string host;
  std::uint16_t port = 0;
};
Result<Authority> parse_authority(std::string_view text);

// ---- relaying HTTP/1.1 through the proxy ---------------------------------------------------

// Whether the first bytes of a tunnel can be an HTTP/1.1 request: a method of upper-case
// letters (every registered method is) followed by a space and the start of a target. Decided
// from the first bytes so that other protocols ("message 0", binary) go raw without waiting.
enum class RequestStart : std::uint8_t { http, not_http, need_more };
RequestStart classify_request_start(std::string_view prefix) noexcept;

struct ProxyResponseHead {
  int version = 11;  // 10 or 11
  int status = 0;    // 100..599
  std::string reason;
  std::vector<HeaderField> fields;  // in the order received

  std::optional<std::string_view> find(std::string_view name) const noexcept;
};

// Parses one response head (as delimited by find_head_end), with the field rules of
// parse_proxy_request_head.
Result<ProxyResponseHead> parse_proxy_response_head(std::string_view head,
                                                    std::size_t max_fields = 256);

// RFC 9110 §7.6.1: the fields that describe one connection and are never forwarded (the
// framing fields Content-Length and Transfer-Encoding are rewritten by the relay itself).
bool is_hop_by_hop_field(std::string_view name) noexcept;
// Whether a Connection field lists `option` (case-insensitive), e.g. "close", or a field name
// (which makes that field hop-by-hop too).
bool connection_has_option(const std::vector<HeaderField>& fields,
                           std::string_view option) noexcept;

// The Content-Length of `fields`: nullopt when absent; decode_failed when malformed or when
// several values differ (RFC 9112 §6.3 item 5).
Result<std::optional<std::uint64_t>> content_length(const std::vector<HeaderField>& fields);

// Reads a chunked body (RFC 9112 §7.1) incrementally: it says where the body ends and hands
// out the data without the coding. Chunk extensions are ignored, trailer fields skipped.
class ChunkedDecoder {
 public:
  // Consumes a prefix of `input` and returns its length (all of it unless the body ends
  // inside); the chunk data found is appended to `data` when it is not null. decode_failed
  // on a malformed size or missing CRLF; limit_exceeded on an overlong size line or trailer.
  Result<std::size_t> feed(std::string_view input, std::string* data);
  bool done() const noexcept { return state_ == State::done; }
  std::uint64_t body_bytes() const noexcept { return body_bytes_; }

 private:
  enum class State : std::uint8_t { size, data, data_end, trailer, done };
  State state_ = State::size;
  std::string line_;             // a size or trailer line in progress
  std::uint64_t remaining_ = 0;  // of the current chunk
  std::uint64_t body_bytes_ = 0;
  std::size_t trailer_bytes_ = 0;
};

}  // namespace bulwark::http
