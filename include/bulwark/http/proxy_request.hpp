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

}  // namespace bulwark::http
