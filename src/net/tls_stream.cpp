#include "bulwark/net/tls_stream.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <optional>
#include <utility>
#include <vector>

namespace bulwark::net {

namespace {

using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

bool would_block(const error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

// recv() / send() with MSG_DONTWAIT are non-blocking call by call, so the socket itself is
// never switched to non-blocking mode (no FIONBIO ioctl per connection: a system call costs
// about a microsecond on the machines we measure). The socket stays usable by async_wait.
error_code last_error() {
  return error_code(errno, asio::error::get_system_category());
}

std::size_t receive_now(int fd, std::span<std::uint8_t> into, error_code& ec) {
  for (;;) {
    const ssize_t n = ::recv(fd, into.data(), into.size(), MSG_DONTWAIT);
    if (n > 0) {
      ec = {};
      return static_cast<std::size_t>(n);
    }
    if (n == 0) {
      ec = asio::error::eof;
      return 0;
    }
    if (errno != EINTR) {
      ec = last_error();
      return 0;
    }
  }
}

std::size_t send_now(int fd, wire::Bytes data, error_code& ec) {
  for (;;) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) {
      ec = {};
      return static_cast<std::size_t>(n);
    }
    if (errno != EINTR) {
      ec = last_error();
      return 0;
    }
  }
}

// A peer that leaves resets or breaks the connection all the time: those take their text from
// here, not from a strerror (a message catalogue look-up) per connection.
Error socket_error(const error_code& ec) {
  if (ec == asio::error::connection_reset) return Error(Errc::io_error, "Connection reset by peer");
  if (ec == asio::error::broken_pipe) return Error(Errc::io_error, "Broken pipe");
  return Error(Errc::io_error, ec.message());
}

// One receive buffer per thread: bytes are fed to the engine before the next read, so the
// buffer is never shared by two connections at once (one event loop per thread).
constexpr std::size_t kReadBuffer = 64 * 1024;
std::span<std::uint8_t> read_buffer() {
  thread_local std::array<std::uint8_t, kReadBuffer> buffer;
  return buffer;
}

}  // namespace

// The transport and its time-limit state. Over asio: the socket and a timer, reachable from
// the timer's handler (by weak_ptr) after the stream moved or died. Over an EventLoop: the
// descriptor and its Watch, whose waits carry their own deadline (a loop timer costs no
// system call, so it is armed per wait).
struct TlsStream::Shared {
  explicit Shared(tcp::socket s) : socket(std::move(s)) { timer.emplace(socket->get_executor()); }
  Shared(EventLoop& loop, int fd)
      : descriptor(std::make_unique<EventLoop::Descriptor>(loop, fd)),
        watch(&descriptor->watch()) {}
  int native() noexcept { return descriptor ? descriptor->fd() : socket->native_handle(); }
  // Over an EventLoop, its time of the round (EventLoop::now()); over asio, the clock.
  SteadyClock::time_point now() const noexcept {
    return watch ? watch->loop().now() : SteadyClock::now();
  }

  std::optional<tcp::socket> socket;
  std::optional<asio::steady_timer> timer;
  std::unique_ptr<EventLoop::Descriptor> descriptor;
  EventLoop::Watch* watch = nullptr;  // the descriptor's
  SteadyClock::time_point deadline = SteadyClock::time_point::max();
  // Over asio, the deadline the timer is armed for: it is armed at the operation's first wait
  // and kept until the operation ends, not re-armed for every wait (each arming may be a
  // timerfd_settime system call).
  SteadyClock::time_point armed = SteadyClock::time_point::max();
  bool waiting = false;  // a socket wait is pending (the only thing the timer cancels)
  bool timed_out = false;
  // Over asio: we sent something since the last bytes received, or nothing was received yet:
  // the next read waits for readiness first instead of trying a recv() that would say EAGAIN
  // (one system call less per handshake flight and per keep-alive response). The wait itself
  // reports data that is already there (asio re-arms the descriptor). On a socket just
  // accepted, the readiness of its ClientHello is already queued in asio, so the first wait
  // costs no sleep, and the stale event it would otherwise deliver to the wait after the
  // server's flight (a recv that says EAGAIN, a second re-arm) is used up. Over an EventLoop
  // the Watch knows this itself (a short read drained the socket).
  bool sent_since_received = true;
  // The socket failed (a reset, a broken pipe): nothing more can be sent on it, not even the
  // close_notify of shutdown().
  bool broken = false;
};

// TCP_NODELAY is the caller's: accepted sockets inherit it from the listener, net::connect sets
// it on the sockets it connects.
TlsStream::TlsStream(tcp::socket socket, tls::Connection connection)
    : shared_(std::make_shared<Shared>(std::move(socket))), connection_(std::move(connection)) {}

TlsStream::TlsStream(EventLoop& loop, int fd, tls::Connection connection)
    : shared_(std::make_shared<Shared>(loop, fd)), connection_(std::move(connection)) {}

TlsStream::TlsStream(TlsStream&&) noexcept = default;
TlsStream& TlsStream::operator=(TlsStream&&) noexcept = default;
TlsStream::~TlsStream() = default;

int TlsStream::native_handle() const noexcept {
  return shared_->native();
}

bool TlsStream::is_open() const noexcept {
  return shared_->descriptor ? shared_->descriptor->is_open() : shared_->socket->is_open();
}

void TlsStream::cancel() noexcept {
  if (shared_->watch) {
    shared_->watch->cancel();
  } else {
    error_code ignored;
    shared_->socket->cancel(ignored);
  }
}

void TlsStream::close() noexcept {
  Shared& s = *shared_;
  if (s.descriptor) {
    s.descriptor->close();
  } else {
    error_code ignored;
    s.socket->close(ignored);
  }
}

Status TlsStream::shutdown_send() noexcept {
  if (::shutdown(shared_->native(), SHUT_WR) != 0) return socket_error(last_error());
  return {};
}

Task<Status> TlsStream::wait_readable(SteadyClock::time_point deadline) {
  Shared& s = *shared_;
  if (s.watch) {
    s.watch->would_block(EventLoop::Watch::Dir::read);
    co_return co_await s.watch->wait(EventLoop::Watch::Dir::read, deadline);
  }
  // The timer handler holds the state by shared_ptr and touches the socket only while the wait
  // is still pending, so it may run after the socket is gone.
  struct State {
    tcp::socket* socket;
    bool done = false;
    bool timed_out = false;
  };
  auto state = std::make_shared<State>(State{&*s.socket});
  asio::steady_timer timer(s.socket->get_executor());
  timer.expires_at(deadline);
  timer.async_wait([state](const error_code& ec) {
    if (ec || state->done) return;
    state->timed_out = true;
    error_code ignored;
    state->socket->cancel(ignored);
  });
  error_code ec;
  co_await s.socket->async_wait(tcp::socket::wait_read,
                                asio::redirect_error(asio::use_awaitable, ec));
  state->done = true;
  timer.cancel();
  if (state->timed_out) co_return Error(Errc::timed_out, "no progress within the time limit");
  if (ec) co_return socket_error(ec);
  co_return Status{};
}

TlsStream::OperationScope TlsStream::start_operation() noexcept {
  shared_->deadline =
      timeout_.count() > 0 ? shared_->now() + timeout_ : SteadyClock::time_point::max();
  return OperationScope(*shared_);
}

TlsStream::OperationScope::~OperationScope() {
  if (shared_.armed == SteadyClock::time_point::max()) return;
  shared_.armed = SteadyClock::time_point::max();
  shared_.timer->cancel();
}

Task<Status> TlsStream::wait(bool for_write) {
  Shared& s = *shared_;
  if (s.timed_out || s.now() >= s.deadline) {
    s.timed_out = true;
    co_return Error(Errc::timed_out, "no progress within the time limit");
  }
  if (s.watch) {
    if (!for_write) connection_.release_idle_buffers();
    Status st = co_await s.watch->wait(
        for_write ? EventLoop::Watch::Dir::write : EventLoop::Watch::Dir::read, s.deadline);
    if (!st && st.error().code() == Errc::timed_out) s.timed_out = true;
    co_return st;
  }
  if (s.deadline != SteadyClock::time_point::max() && s.armed != s.deadline) {
    s.armed = s.deadline;
    // Re-arming cancels the previous operation's timer (its handler sees an error).
    s.timer->expires_at(s.deadline);
    s.timer->async_wait(
        [weak = std::weak_ptr<Shared>(shared_), deadline = s.deadline](const error_code& e) {
          if (e) return;
          auto state = weak.lock();
          // Only the operation it was armed for, and only while it waits: past the deadline
          // outside a wait, the next wait() refuses by itself.
          if (!state || state->deadline != deadline || !state->waiting) return;
          state->timed_out = true;
          error_code ignored;
          state->socket->cancel(ignored);
        });
  }
  // Waiting for the peer to send: buffers that hold nothing go back (an idle connection
  // keeps only its TLS state).
  if (!for_write) connection_.release_idle_buffers();
  error_code ec;
  s.waiting = true;
  co_await s.socket->async_wait(for_write ? tcp::socket::wait_write : tcp::socket::wait_read,
                                asio::redirect_error(asio::use_awaitable, ec));
  s.waiting = false;
  if (s.timed_out) co_return Error(Errc::timed_out, "no progress within the time limit");
  if (ec) co_return socket_error(ec);
  co_return Status{};
}

Error TlsStream::failure_error() const {
  if (const tls::Failure* f = connection_.failure()) return f->error;
  return Error(Errc::closed);
}

Task<Status> TlsStream::flush_pending() {
  while (connection_.wants_write()) {
    const wire::Bytes out = connection_.pending_output();
    error_code ec;
    const std::size_t n = send_now(shared_->native(), out, ec);
    if (would_block(ec)) {
      if (shared_->watch) shared_->watch->would_block(EventLoop::Watch::Dir::write);
      BW_CO_TRY(co_await wait(true));
      continue;
    }
    if (ec) {
      shared_->broken = true;
      co_return socket_error(ec);
    }
    connection_.consume_output(n);
    shared_->sent_since_received = true;
  }
  co_return Status{};
}

Task<Status> TlsStream::fill() {
  // Whatever the engine wants to say (a KeyUpdate answer, an alert) goes out before we wait.
  // (Checked here: a coroutine call costs a frame even when it has nothing to do.)
  if (connection_.wants_write()) BW_CO_TRY(co_await flush_pending());
  const std::span<std::uint8_t> buffer = read_buffer();
  Shared& s = *shared_;
  using Dir = EventLoop::Watch::Dir;
  if (s.watch ? !s.watch->ready(Dir::read) : s.sent_since_received) {
    BW_CO_TRY(co_await wait(false));
  }
  for (;;) {
    error_code ec;
    const std::size_t n = receive_now(s.native(), buffer, ec);
    if (would_block(ec)) {
      if (s.watch) s.watch->would_block(Dir::read);
      BW_CO_TRY(co_await wait(false));
      continue;
    }
    if (ec == asio::error::eof) co_return connection_.transport_eof();
    if (ec) {
      s.broken = true;
      co_return socket_error(ec);
    }
    s.sent_since_received = false;
    if (s.watch && n < buffer.size()) s.watch->drained();
    Status fed = connection_.feed(wire::Bytes(buffer.data(), n));
    if (!fed) {
      (void)co_await flush_pending();  // best effort: the alert that explains the failure
      co_return fed;
    }
    co_return Status{};
  }
}

Task<Status> TlsStream::handshake() {
  const OperationScope scope = start_operation();
  while (!connection_.handshake_done()) {
    if (connection_.failed()) co_return failure_error();
    BW_CO_TRY(co_await fill());
  }
  if (!connection_.wants_write()) co_return Status{};
  co_return co_await flush_pending();
}

Task<Result<wire::Bytes>> TlsStream::read_view() {
  const OperationScope scope = start_operation();
  for (;;) {
    const wire::Bytes available = connection_.peek();
    if (!available.empty()) co_return available;
    switch (connection_.state()) {
      case tls::State::peer_closed:
      case tls::State::closed:
        co_return wire::Bytes{};
      case tls::State::failed:
        co_return failure_error();
      case tls::State::handshaking:
      case tls::State::established:
        break;
    }
    BW_CO_TRY(co_await fill());
  }
}

Task<Result<std::size_t>> TlsStream::read_some(std::span<std::uint8_t> out) {
  BW_CO_ASSIGN(const wire::Bytes available, co_await read_view());
  co_return connection_.read(out.first(std::min(out.size(), available.size())));
}

Task<Status> TlsStream::write(wire::Bytes data) {
  const OperationScope scope = start_operation();
  BW_CO_TRY(connection_.send(data));
  co_return co_await flush_pending();
}

Task<Status> TlsStream::write(std::span<const wire::Bytes> pieces) {
  const OperationScope scope = start_operation();
  // Small pieces (an HTTP head and a short body) share one record instead of one each.
  std::size_t total = 0;
  for (const wire::Bytes& piece : pieces)
    total += piece.size();
  constexpr std::size_t kCoalesce = 16 * 1024;
  if (pieces.size() > 1 && total <= kCoalesce) {
    thread_local std::vector<std::uint8_t> joined;
    joined.clear();
    for (const wire::Bytes& piece : pieces)
      joined.insert(joined.end(), piece.begin(), piece.end());
    BW_CO_TRY(connection_.send(joined));
  } else {
    for (const wire::Bytes& piece : pieces)
      BW_CO_TRY(connection_.send(piece));
  }
  co_return co_await flush_pending();
}

Task<Status> TlsStream::flush() {
  const OperationScope scope = start_operation();
  co_return co_await flush_pending();
}

Task<Status> TlsStream::shutdown() {
  // A reset connection takes no close_notify (the send would only fail).
  if (shared_->broken) co_return Error(Errc::io_error, "the connection was reset");
  const OperationScope scope = start_operation();
  if (connection_.state() == tls::State::established ||
      connection_.state() == tls::State::peer_closed) {
    BW_CO_TRY(connection_.close());
  }
  co_return co_await flush_pending();
}

}  // namespace bulwark::net
