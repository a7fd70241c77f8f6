// HTTP/1.1 request heads, sans-I/O: bytes in, a Request (or the status to answer) out.
// Only GET and HEAD without a body are accepted (a static-file server); everything else ends
// in an error status, after which the connection is answered and closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace bulwark::http {

// One request head. The fields are the ones the static-file server and the access log use;
// repeated fields are combined with ", " (RFC 9110 §5.3), which makes a repeated single-valued
// field (Range, If-Modified-Since, If-Range) unparseable and therefore ignored.
struct Request {
  std::string method;  // as received; "GET" or "HEAD" once complete
  std::string target;  // request-target as received (origin-form or absolute-form)
  int version = 0;     // 10 or 11; 0 until the request line was parsed
  std::string host;
  std::string range;
  std::string if_range;
  std::string if_none_match;
  std::string if_modified_since;
  std::string referer;
  std::string user_agent;
  // Whether the connection stays open after the response (RFC 9112 §9.3: HTTP/1.1 unless
  // "Connection: close"; HTTP/1.0 only with "Connection: keep-alive").
  bool keep_alive = false;

  bool is_head() const noexcept { return method == "HEAD"; }
  void clear() noexcept;  // keeps the strings' capacity for the next request
};

// Bounds on what one request head may make us hold (DESIGN.md habit 8).
struct RequestLimits {
  std::size_t max_head_bytes = 8 * 1024;    // request line + fields + empty line -> 431
  std::size_t max_header_count = 100;       // field lines -> 431
  std::size_t max_target_bytes = 4 * 1024;  // request-target -> 414
};

// Incremental request-head parser (Boost.Beast's basic_parser underneath, kept out of this
// header). feed() takes what it needs: bytes it reports as consumed may be discarded by the
// caller, including a partial head (the parser keeps it, up to max_head_bytes). When a head
// completes, the bytes after it are NOT consumed: they are the next pipelined request, fed
// again once the response is queued.
class RequestParser {
 public:
  enum class State : std::uint8_t { need_more, complete, failed };
  struct Progress {
    std::size_t consumed;
    State state;
  };

  explicit RequestParser(RequestLimits limits = {});
  ~RequestParser();
  RequestParser(RequestParser&&) noexcept;
  RequestParser& operator=(RequestParser&&) noexcept;

  // Feeds bytes. After `complete`, the next feed() starts the next request (request() is
  // cleared then). After `failed`, feed() consumes nothing and stays failed: answer
  // error_status() and close the connection.
  Progress feed(std::span<const std::uint8_t> bytes);
  Progress feed(std::string_view bytes) {
    return feed(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  }

  State state() const noexcept;
  // The complete request; after a failure, what was parsed of it (for the access log).
  const Request& request() const noexcept;
  // After a failure: 400, 405, 413, 414, 431, 501 or 505. 0 otherwise.
  int error_status() const noexcept;
  // After a failure: a short reason for logs and tests ("two Host fields", ...).
  std::string_view error_detail() const noexcept;
  // True once some byte of the current request arrived (header timeout vs idle timeout).
  bool started() const noexcept;
  // Forgets the current request (complete, partial or failed) and any buffered bytes.
  void reset() noexcept;
  // Bytes of buffer held for a head that arrived in pieces: up to max_head_bytes while such a
  // head is incomplete, at most a few hundred otherwise (an idle keep-alive connection keeps
  // its parser, so the parser must not keep a head's worth of memory).
  std::size_t buffer_capacity() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bulwark::http
