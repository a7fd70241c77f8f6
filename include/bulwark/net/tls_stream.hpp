// net::TlsStream: drives a sans-I/O tls::Connection over a TCP socket with Boost.Asio C++20
// coroutines, on asio's reactor (a tcp::socket) or on a net::EventLoop (a descriptor).
//
// I/O is readiness-based: the stream waits for the socket to become readable or writable and
// then reads or writes without blocking. Received bytes go through one read buffer per thread
// straight into Connection::feed(), so an idle connection holds no read buffer of its own (the
// engine keeps only what a partial record needs). Writes go straight from the engine's pending
// output. One operation at a time per stream: callers do not overlap reads and writes.
//
// Every operation obeys the stream's time limit (set_timeout); when it expires the operation
// ends with Errc::timed_out and the stream should be closed.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "bulwark/net/event_loop.hpp"
#include "bulwark/result.hpp"
#include "bulwark/tls/connection.hpp"
#include "bulwark/wire.hpp"

namespace bulwark::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
template <class T>
using Task = asio::awaitable<T>;

class TlsStream {
 public:
  // Over an asio socket, on the socket's executor.
  TlsStream(tcp::socket socket, tls::Connection connection);
  // Over a connected socket descriptor (owned: closed with the stream) on an EventLoop; the
  // stream's coroutines run on loop.context().
  TlsStream(EventLoop& loop, int fd, tls::Connection connection);
  TlsStream(TlsStream&&) noexcept;
  TlsStream& operator=(TlsStream&&) noexcept;
  ~TlsStream();

  int native_handle() const noexcept;
  bool is_open() const noexcept;
  // Ends the operation waiting on the socket, if any (it fails); the stream stays usable.
  void cancel() noexcept;
  // Closes the socket (a waiting operation fails); no close_notify.
  void close() noexcept;
  // shutdown(SHUT_WR): no more bytes from us (after close_notify).
  Status shutdown_send() noexcept;
  // Waits until the socket is readable (or the peer closed it), at most until `deadline`:
  // for reading it directly (MSG_DONTWAIT), as a lingering close does.
  Task<Status> wait_readable(std::chrono::steady_clock::time_point deadline);

  tls::Connection& connection() noexcept { return connection_; }
  const tls::Connection& connection() const noexcept { return connection_; }

  // Time limit for each following operation (zero: none).
  void set_timeout(std::chrono::milliseconds limit) noexcept { timeout_ = limit; }

  // Runs the handshake to completion (and sends what the engine queues right after it, such
  // as TLS 1.3 session tickets).
  Task<Status> handshake();

  // Waits until application data is available and returns a view of it, valid until the next
  // call on this stream; consume() what was used. An empty view means a clean end of stream
  // (the peer's close_notify). A TCP end without close_notify is Errc::truncated_connection.
  Task<Result<wire::Bytes>> read_view();
  void consume(std::size_t n) noexcept { connection_.consume(n); }
  // Copies up to out.size() bytes of application data; 0 means a clean end of stream.
  Task<Result<std::size_t>> read_some(std::span<std::uint8_t> out);

  // Sends `data` (or every piece in order, sealed into as few records as their sizes allow)
  // and waits until the socket took all of it.
  Task<Status> write(wire::Bytes data);
  Task<Status> write(std::span<const wire::Bytes> pieces);
  // Writes whatever the engine has queued (alerts, tickets, KeyUpdate answers).
  Task<Status> flush();

  // Sends close_notify and flushes it. The socket stays open (the caller closes it). After a
  // socket error (the peer reset the connection) nothing is sent: `io_error`.
  Task<Status> shutdown();

 private:
  struct Shared;
  // Disarms the timer armed for an operation when the operation ends, however it ends: an
  // idle stream holds no pending timer (an io_context with nothing else to do returns).
  class OperationScope {
   public:
    explicit OperationScope(Shared& shared) noexcept : shared_(shared) {}
    ~OperationScope();
    OperationScope(const OperationScope&) = delete;
    OperationScope& operator=(const OperationScope&) = delete;

   private:
    Shared& shared_;
  };
  // Each public operation starts the clock for its time limit.
  [[nodiscard]] OperationScope start_operation() noexcept;
  // Flushes pending output, then reads once from the socket into the engine (at end of stream,
  // tells the engine, which decides between a clean close and truncation).
  Task<Status> fill();
  Task<Status> flush_pending();
  // Waits for the socket to become writable / readable, within the operation's deadline.
  Task<Status> wait(bool for_write);
  Error failure_error() const;

  std::shared_ptr<Shared> shared_;  // socket + timeout state, reachable from timer handlers
  tls::Connection connection_;
  std::chrono::milliseconds timeout_{0};
};

}  // namespace bulwark::net
