// net::serve_http: HTTP/1.1 over an established TlsStream, answering from an http::StaticSite:
// keep-alive and pipelining, a header-read time limit (slow-loris) distinct from the idle
// keep-alive limit, file bodies read with pread() in record-sized chunks into a reused buffer,
// the combined access log. The handler of `bulwark serve` (net::Server calls it).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "bulwark/http/request.hpp"
#include "bulwark/http/static_site.hpp"
#include "bulwark/net/server.hpp"
#include "bulwark/net/tls_stream.hpp"
#include "bulwark/result.hpp"

namespace bulwark::net {

// Access-log lines appended to a file (O_APPEND) or stdout ("-"), one write() per line so that
// workers never interleave. Thread-safe.
class AccessLog {
 public:
  static Result<std::shared_ptr<AccessLog>> open(const std::string& path);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;
  void write(std::string_view line) const noexcept;

 private:
  AccessLog(int fd, bool owned) noexcept : fd_(fd), owned_(owned) {}
  int fd_;
  bool owned_;
};

struct HttpServiceOptions {
  // Waiting for the next request on a kept-alive connection (and for the first one).
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  // From the first byte of a request head to its end, however slowly it trickles in.
  std::chrono::milliseconds header_timeout{std::chrono::seconds(10)};
  // Each write of a response (a record-sized chunk) must be taken by the peer within this.
  std::chrono::milliseconds send_timeout{std::chrono::seconds(60)};
  http::RequestLimits limits;
  std::shared_ptr<const AccessLog> access_log;  // null: no access log
};

// Serves requests until the peer closes, a time limit passes, a response closes the
// connection, or the server stops (after the response in flight). Returns without sending
// close_notify: the server does that.
Task<void> serve_http(TlsStream& stream, ConnectionContext& context, const http::StaticSite& site,
                      const HttpServiceOptions& options);

}  // namespace bulwark::net
