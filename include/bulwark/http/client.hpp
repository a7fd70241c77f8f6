// http::Client: one HTTP/1.1 GET or HEAD over TLS (https) or plain TCP (http), following
// redirects when asked, with the body streamed to a sink (what `bulwark get` runs).
//
// Security rules (docs/DECISIONS.md):
// - The server's certificate is verified by the TLS engine unless its config says otherwise.
// - A redirect from https to http is refused: it would silently drop TLS.
// - Fields that carry credentials (-H Authorization, Cookie, Proxy-Authorization) go to the
//   first URL's origin only, never to another one a redirect names.
// - A response is complete only when its framing says so (Content-Length reached, the last
//   chunk read) or, when it is delimited by the connection's end, when that end is a TLS
//   close_notify. A TCP close before that is Errc::truncated_connection (a possible truncation
//   attack); a clean close of an incomplete response is Errc::truncated.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "bulwark/http/client_message.hpp"
#include "bulwark/net/connect.hpp"
#include "bulwark/result.hpp"
#include "bulwark/tls/config.hpp"
#include "bulwark/tls/connection.hpp"

namespace bulwark::http {

template <class T>
using Task = boost::asio::awaitable<T>;

// Where a transfer is, or where it stopped (bulwark get picks its exit status from this).
enum class Stage : std::uint8_t {
  resolve,           // looking up the host
  connect,           // TCP connection
  tls_handshake,     // TLS handshake (certificate verification included), ALPN check
  send_request,      // writing the request head
  receive_response,  // reading and parsing the response
  deliver,           // the caller's head observer or body sink failed
  redirect,          // deciding on a redirect: too many, a downgrade, a bad Location
};

struct ClientOptions {
  RequestSpec request;
  // For https URLs (required for them). Its `sessions` cache, if any, resumes sessions.
  std::shared_ptr<const tls::ClientConfig> tls;
  std::vector<net::ResolveOverride> resolve;
  // Resolution, TCP connection and TLS handshake of each connection (zero: no limit).
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  // The whole fetch, redirects included (zero: no limit).
  std::chrono::milliseconds max_time{0};
  bool follow_redirects = false;
  int max_redirects = 10;  // with follow_redirects; negative: no limit
  ResponseLimits limits;

  // Observers, all optional. They run on the fetching coroutine's thread.
  std::function<void(const Url&, const net::tcp::endpoint&)> on_connected;
  std::function<void(const Url&, const tls::Connection&)> on_handshake;
  std::function<void(const Url&, std::string_view request_head)> on_request;
  std::function<void(const ResponseHead&)> on_interim;
  // Each response's head, `final` false for a redirect about to be followed. An error stops
  // the transfer (Stage::deliver) before any of that response's body is read.
  std::function<Status(const Url&, const ResponseHead&, bool final)> on_head;
  // The final response's body, in order. An error stops the transfer (Stage::deliver).
  std::function<Status(wire::Bytes)> body;
  std::function<void(const Url& from, const Url& to, int status)> on_redirect;
};

struct Transfer {
  Url url;  // the URL of the final response
  ResponseHead head;
  std::uint64_t body_bytes = 0;
  int redirects = 0;
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  // GETs (or HEADs) `url`, following redirects if asked. The Client must outlive the returned
  // coroutine, and runs one fetch at a time.
  Task<Result<Transfer>> fetch(Url url);

  // Where the last fetch is or stopped.
  Stage stage() const noexcept;
  // The TLS connection of the last attempt, kept after a failure so that the caller can say
  // what failed (which check, which alert went which way). Null before any TLS connection.
  const tls::Connection* connection() const noexcept;
  // Whether that connection's handshake completed.
  bool handshake_completed() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bulwark::http
