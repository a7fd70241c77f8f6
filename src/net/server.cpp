#include "bulwark/net/server.hpp"
#include "bulwark/net/connect.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <malloc.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>

namespace bulwark::net {

namespace {

using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// After at least this many connections were open at once, the last one to close trims the heap.
constexpr std::uint64_t kTrimAfterPeak = 256;

Result<std::uint16_t> parse_port(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 65535) {
    return Error(Errc::invalid_argument, "'" + std::string(whole) + "': the port is not 0..65535");
  }
  return static_cast<std::uint16_t>(value);
}

void log_to_stderr(std::string_view line) {
  std::fprintf(stderr, "bulwark serve: %.*s\n", static_cast<int>(line.size()), line.data());
  std::fflush(stderr);
}

// SIGINT / SIGTERM become a count on an eventfd that the first worker's loop watches (write()
// is async-signal-safe; any thread may take the signal).
std::atomic<int> signal_fd{-1};

void on_stop_signal(int) {
  const int saved = errno;
  const int fd = signal_fd.load();
  const std::uint64_t one = 1;
  if (fd >= 0) (void)!::write(fd, &one, sizeof one);
  errno = saved;
}

std::string errno_text() {
  return std::strerror(errno);
}

// A non-blocking listening socket for `where` (SO_REUSEADDR, SO_REUSEPORT, TCP_NODELAY for the
// accepted sockets to inherit, IPv6 only on [::]); the bound address in `bound`.
Result<int> listen_on(const tcp::endpoint& where, int backlog, tcp::endpoint& bound) {
  const int family = where.address().is_v6() ? AF_INET6 : AF_INET;
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error(Errc::io_error, errno_text());
  const int one = 1;
  bool ok = ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0 &&
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
  if (ok && family == AF_INET6) {
    ok = ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0;
  }
  ok = ok && ::bind(fd, where.data(), static_cast<socklen_t>(where.size())) == 0 &&
       ::listen(fd, backlog) == 0;
  socklen_t len = static_cast<socklen_t>(bound.capacity());
  ok = ok && ::getsockname(fd, bound.data(), &len) == 0;
  if (!ok) {
    Error e(Errc::io_error, errno_text());
    ::close(fd);
    return e;
  }
  bound.resize(len);
  return fd;
}

}  // namespace

// ---- addresses -------------------------------------------------------------------------------

Result<tcp::endpoint> parse_listen_address(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Error(Errc::invalid_argument,
                   "'" + std::string(text) + "': write an IPv6 address as [ADDR]:PORT");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Error(Errc::invalid_argument, "'" + std::string(text) + "' has no :PORT");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return Error(Errc::invalid_argument,
                   "'" + std::string(text) + "': write an IPv6 address in brackets, [::1]:PORT");
    }
  }
  BW_ASSIGN(const std::uint16_t port_number, parse_port(port, text));
  if (host == "localhost") host = "127.0.0.1";
  if (host == "*") host = "0.0.0.0";
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(std::string(host), ec);
  if (ec) {
    return Error(Errc::invalid_argument,
                 "'" + std::string(text) + "': the host is not an IP address (or localhost, *)");
  }
  return tcp::endpoint(address, port_number);
}

std::string format_endpoint(const tcp::endpoint& endpoint) {
  const std::string address = endpoint.address().to_string();
  const std::string port = std::to_string(endpoint.port());
  return endpoint.address().is_v6() ? "[" + address + "]:" + port : address + ":" + port;
}

// ---- per-source rate -------------------------------------------------------------------------

std::size_t SourceRateLimiter::KeyHash::operator()(const Key& k) const noexcept {
  // FNV-1a: the keys are addresses, not attacker-chosen to collide in a 64-bit hash of this
  // table's size... but a /64 is, so mix in a per-process seed.
  static const std::uint64_t seed =
      static_cast<std::uint64_t>(SteadyClock::now().time_since_epoch().count()) |
      0x9e3779b97f4a7c15ull;
  std::uint64_t h = 1469598103934665603ull ^ seed;
  for (std::uint8_t b : k.bytes) {
    h ^= b;
    h *= 1099511628211ull;
  }
  return static_cast<std::size_t>(h ^ (h >> 29));
}

SourceRateLimiter::SourceRateLimiter(double rate, double burst, std::size_t max_sources)
    : rate_(rate),
      burst_(std::max(burst, 1.0)),
      max_sources_(std::max<std::size_t>(max_sources, 1)) {}

SourceRateLimiter::Key SourceRateLimiter::key_of(const asio::ip::address& source) {
  Key key;
  if (source.is_v4() || (source.is_v6() && source.to_v6().is_v4_mapped())) {
    const auto v4 = source.is_v4() ? source.to_v4()
                                   : asio::ip::make_address_v4(asio::ip::v4_mapped, source.to_v6());
    const auto bytes = v4.to_bytes();
    key.bytes[0] = 4;
    std::copy(bytes.begin(), bytes.end(), key.bytes.begin() + 1);
  } else {
    const auto bytes = source.to_v6().to_bytes();
    key.bytes[0] = 6;
    std::copy(bytes.begin(), bytes.begin() + 8, key.bytes.begin() + 1);  // the /64
  }
  return key;
}

bool SourceRateLimiter::admit(const asio::ip::address& source, SteadyClock::time_point now) {
  if (rate_ <= 0) return true;
  const Key key = key_of(source);
  std::lock_guard lock(mu_);
  auto found = index_.find(key);
  if (found == index_.end()) {
    if (index_.size() >= max_sources_) {
      index_.erase(lru_.back().key);
      lru_.pop_back();
    }
    lru_.push_front(Bucket{key, burst_ - 1, now});
    index_.emplace(key, lru_.begin());
    return true;
  }
  Bucket& bucket = *found->second;
  lru_.splice(lru_.begin(), lru_, found->second);
  const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  bucket.tokens = std::min(burst_, bucket.tokens + std::max(elapsed, 0.0) * rate_);
  bucket.updated = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

std::size_t SourceRateLimiter::tracked() const {
  std::lock_guard lock(mu_);
  return index_.size();
}

// ---- the server ------------------------------------------------------------------------------

// One event loop and its listening sockets. Everything in here is touched by its own thread
// only (stop() posts to it). Members are destroyed in reverse order: the listeners before the
// loop they are registered with, the loop (and with it any coroutine frame it still holds)
// before the connection list those frames unlink themselves from.
struct Server::Worker {
  Worker(unsigned i, std::unique_ptr<EventLoop> l) : index(i), loop(std::move(l)) {}
  unsigned index;
  std::list<ConnectionContext*> connections;
  std::unique_ptr<EventLoop> loop;
  // Watched level-triggered: one accept per report.
  std::vector<std::unique_ptr<EventLoop::Descriptor>> listeners;
  EventLoop::TimerId grace = 0;
  // The first worker, with handle_signals: the eventfd the signal handler writes to.
  std::unique_ptr<EventLoop::Descriptor> signals;
  bool signalled = false;  // a signal started the shutdown
  bool shutting_down = false;
  bool abandoned = false;  // the event loop was stopped with connections still open
  bool finished = false;   // shut down: no connection left (or abandoned)
};

Task<void> ConnectionContext::sleep_for(std::chrono::milliseconds duration) {
  co_await loop_->sleep_until(EventLoop::Clock::now() + duration);
}

Server::Server(ServerOptions options, std::shared_ptr<const tls::ServerConfig> config,
               Handler handler)
    : options_(std::move(options)),
      config_(std::move(config)),
      handler_(std::move(handler)),
      rate_limiter_(options_.limits.handshake_rate, options_.limits.handshake_burst,
                    options_.limits.rate_sources) {}

Server::~Server() {
  // Coroutine frames still held by a stopped event loop are destroyed with it; they must not
  // post to other loops then.
  for (auto& worker : workers_)
    worker->abandoned = true;
}

unsigned Server::workers() const noexcept {
  return static_cast<unsigned>(workers_.size());
}

Result<std::unique_ptr<Server>> Server::create(ServerOptions options,
                                               std::shared_ptr<const tls::ServerConfig> config,
                                               Handler handler) {
  if (!config || config->certificates.empty()) {
    return Error(Errc::invalid_argument, "the server configuration has no certificate");
  }
  if (!handler) return Error(Errc::invalid_argument, "no connection handler");
  if (options.listen.empty()) return Error(Errc::invalid_argument, "no address to listen on");
  std::vector<tcp::endpoint> wanted;
  for (const std::string& text : options.listen) {
    BW_ASSIGN(tcp::endpoint e, parse_listen_address(text));
    wanted.push_back(e);
  }
  unsigned n = options.workers;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  std::unique_ptr<Server> server(
      new Server(std::move(options), std::move(config), std::move(handler)));
  for (unsigned i = 0; i < n; ++i) {
    BW_ASSIGN(auto loop, EventLoop::create());
    server->workers_.push_back(std::make_unique<Worker>(i, std::move(loop)));
  }

  for (const tcp::endpoint& want : wanted) {
    // The first worker binds what was asked (port 0: a free port); the others bind the same
    // address and port, which SO_REUSEPORT allows.
    tcp::endpoint bound = want;
    for (auto& worker : server->workers_) {
      tcp::endpoint got;
      auto fd = listen_on(bound, server->options_.backlog, got);
      if (!fd) {
        return Error(Errc::io_error,
                     "cannot listen on " + format_endpoint(bound) + ": " + fd.error().message());
      }
      if (worker->index == 0) bound = got;
      worker->listeners.push_back(
          std::make_unique<EventLoop::Descriptor>(*worker->loop, *fd, true));
    }
    server->endpoints_.push_back(bound);
  }
  return server;
}

void Server::log(std::string_view line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    log_to_stderr(line);
  }
}

void Server::log_once(Limit which, std::string_view line) {
  if (!logged_[static_cast<std::size_t>(which)].exchange(true)) {
    log(std::string(line) + " (said once)");
  }
}

ServerStats Server::stats() const noexcept {
  ServerStats s;
  s.accepted = accepted_.load();
  s.open = open_.load();
  s.handshaking = handshaking_.load();
  s.handshakes_completed = handshakes_completed_.load();
  s.handshakes_failed = handshakes_failed_.load();
  s.refused_connections = refused_connections_.load();
  s.refused_handshakes = refused_handshakes_.load();
  s.refused_rate = refused_rate_.load();
  return s;
}

void Server::run() {
  for (auto& worker : workers_) {
    for (auto& listener : worker->listeners) {
      asio::co_spawn(worker->loop->context(), accept_loop(*worker, *listener), asio::detached);
    }
  }
  Worker& first = *workers_.front();
  struct sigaction previous_int {};
  struct sigaction previous_term {};
  if (options_.handle_signals) {
    const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd >= 0) {
      first.signals = std::make_unique<EventLoop::Descriptor>(*first.loop, fd, true);
      signal_fd.store(fd);
      struct sigaction sa {};
      sa.sa_handler = on_stop_signal;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = SA_RESTART;
      ::sigaction(SIGINT, &sa, &previous_int);
      ::sigaction(SIGTERM, &sa, &previous_term);
      asio::co_spawn(first.loop->context(), signal_loop(first), asio::detached);
    } else {
      log("cannot watch for signals: " + errno_text());
    }
  }
  // Already stopped before run(): every worker shuts down as soon as it starts.
  if (stopping_.load()) {
    for (auto& worker : workers_)
      worker->loop->post([this, w = worker.get()] { begin_shutdown(*w); });
  }
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < workers_.size(); ++i) {
    threads.emplace_back([w = workers_[i].get()] { w->loop->run(); });
  }
  first.loop->run();
  for (std::thread& t : threads)
    t.join();
  if (first.signals) {
    signal_fd.store(-1);
    // Stopped by a signal: the process is on its way out. A repeated SIGTERM (coreutils
    // `timeout` sends one to its child and one to its process group) must not kill it now
    // that the handler is gone.
    if (first.signalled) {
      std::signal(SIGINT, SIG_IGN);
      std::signal(SIGTERM, SIG_IGN);
    } else {
      ::sigaction(SIGINT, &previous_int, nullptr);
      ::sigaction(SIGTERM, &previous_term, nullptr);
    }
  }
}

// The first signal starts the graceful shutdown, a second one cuts it short.
Task<void> Server::signal_loop(Worker& first) {
  using Dir = EventLoop::Watch::Dir;
  for (;;) {
    std::uint64_t count = 0;
    EventLoop::Watch& watch = first.signals->watch();
    if (::read(first.signals->fd(), &count, sizeof count) != sizeof count) {
      watch.would_block(Dir::read);
      if (!co_await watch.wait(Dir::read, EventLoop::Clock::time_point::max())) {
        co_return;  // the server is done
      }
      continue;
    }
    first.signalled = true;
    if (!stopping_.load()) {
      log("stopping: no new connections; responses in flight may finish");
      stop();
      if (count < 2) continue;
    }
    log("stopping now");
    force_stop();
    co_return;
  }
}

void Server::stop() {
  if (stopping_.exchange(true)) return;
  for (auto& worker : workers_) {
    worker->loop->post([this, w = worker.get()] { begin_shutdown(*w); });
  }
}

void Server::force_stop() {
  stop();
  forced_.store(true);
  for (auto& worker : workers_) {
    worker->loop->post([this, w = worker.get()] { cut_connections(*w); });
  }
}

void Server::begin_shutdown(Worker& w) {
  if (w.shutting_down) return;
  w.shutting_down = true;
  for (auto& listener : w.listeners)
    listener->close();
  for (ConnectionContext* ctx : w.connections) {
    ctx->stopping_ = true;
    // A handshake or a wait for the next request is interrupted: close_notify follows (after
    // a completed handshake). A response in flight finishes first.
    if (ctx->handshaking_ || ctx->idle_) ctx->stream_->cancel();
  }
  if (w.connections.empty()) {
    connection_ended(w);
    return;
  }
  w.grace =
      w.loop->start_timer(EventLoop::Clock::now() + options_.limits.shutdown_grace, [this, &w] {
        w.grace = 0;
        if (!w.connections.empty()) {
          log("grace period over: closing " + std::to_string(w.connections.size()) +
              " connection(s) still busy");
        }
        cut_connections(w);
      });
}

void Server::cut_connections(Worker& w) {
  for (ConnectionContext* ctx : w.connections) {
    ctx->stopping_ = true;
    ctx->stream_->close();
  }
  if (w.connections.empty()) return;
  // A handler waiting on something other than its socket does not notice the close: after
  // one more second the event loop stops regardless (the frames go with the Server).
  w.loop->cancel_timer(w.grace);
  w.grace = w.loop->start_timer(EventLoop::Clock::now() + 1s, [this, &w] {
    w.grace = 0;
    if (w.connections.empty()) return;
    log("abandoning " + std::to_string(w.connections.size()) + " connection(s)");
    w.abandoned = true;
    worker_finished(w);
  });
}

// Called when a connection of `w` ended (and once when shutting down with none): the last
// connection of a stopping server lets the event loops run out.
void Server::connection_ended(Worker& w) {
  if (w.abandoned || !w.shutting_down || !w.connections.empty()) return;
  w.loop->cancel_timer(w.grace);
  w.grace = 0;
  worker_finished(w);
}

// A finished worker's loop stops, except the first one's while it watches for signals: that
// one stops when the last worker finished (a second signal may still cut the others short).
void Server::worker_finished(Worker& w) {
  if (w.finished) return;
  w.finished = true;
  const bool last = workers_finished_.fetch_add(1) + 1 == workers_.size();
  Worker& first = *workers_.front();
  if (&w != &first || !first.signals || last) w.loop->stop();
  if (last && &w != &first && first.signals) {
    first.loop->post([&first] { first.loop->stop(); });
  }
}

Task<void> Server::accept_loop(Worker& w, EventLoop::Descriptor& listener) {
  using Dir = EventLoop::Watch::Dir;
  for (;;) {
    if (!co_await listener.watch().wait(Dir::read, EventLoop::Clock::time_point::max())) {
      co_return;  // closed: the server is stopping
    }
    // One connection per report of the (level-triggered) listener: no accept that says EAGAIN
    // after the last one; with more queued, epoll reports it again at once.
    listener.watch().would_block(Dir::read);
    // The peer's address comes with accept() itself: no getpeername() per connection.
    tcp::endpoint peer;
    socklen_t len = static_cast<socklen_t>(peer.capacity());
    const int fd = ::accept4(listener.fd(), peer.data(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      peer.resize(len);
      admit(w, fd, peer);
      continue;
    }
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      // Out of descriptors or memory: say so once and give the system a moment.
      log_once(Limit::accept_error, "cannot accept connections: " + errno_text());
      listener.watch().pause(true);
      co_await w.loop->sleep_until(EventLoop::Clock::now() + 50ms);
      listener.watch().pause(false);
    }
    // EAGAIN (another report of one connection), ECONNABORTED (the client gave up), EINTR:
    // wait for the next report.
  }
}

void Server::admit(Worker& w, int fd, const tcp::endpoint& peer) {
  accepted_.fetch_add(1, std::memory_order_relaxed);
  // Refused: the socket closes at once.
  struct CloseUnlessKept {
    int fd;
    ~CloseUnlessKept() {
      if (fd >= 0) ::close(fd);
    }
  } guard{fd};
  if (stopping_.load()) return;
  const ServerLimits& limits = options_.limits;
  const std::uint64_t was_open = open_.fetch_add(1);
  if (was_open + 1 > peak_open_.load(std::memory_order_relaxed))
    peak_open_.store(was_open + 1, std::memory_order_relaxed);
  if (was_open >= limits.max_connections) {
    open_.fetch_sub(1);
    refused_connections_.fetch_add(1, std::memory_order_relaxed);
    log_once(Limit::connections, "connection limit reached (" +
                                     std::to_string(limits.max_connections) +
                                     "): new connections are closed at once");
    return;
  }
  if (!rate_limiter_.admit(peer.address(), SteadyClock::now())) {
    open_.fetch_sub(1);
    refused_rate_.fetch_add(1, std::memory_order_relaxed);
    log_once(Limit::rate, "handshake rate limit reached by " + peer.address().to_string() + " (" +
                              format_number(limits.handshake_rate) +
                              "/s per source): its new connections are closed at once");
    return;
  }
  if (handshaking_.fetch_add(1) >= limits.max_handshakes) {
    handshaking_.fetch_sub(1);
    open_.fetch_sub(1);
    refused_handshakes_.fetch_add(1, std::memory_order_relaxed);
    log_once(Limit::handshakes, "handshake limit reached (" +
                                    std::to_string(limits.max_handshakes) +
                                    " at once): new connections are closed at once");
    return;
  }
  guard.fd = -1;
  asio::co_spawn(w.loop->context(), serve_connection(w, fd, peer), asio::detached);
}

Task<void> Server::serve_connection(Worker& w, int fd, tcp::endpoint peer) {
  // Undoes admit()'s counts however this coroutine ends (even destroyed unfinished).
  struct Counted {
    Server& server;
    Worker& worker;
    ConnectionContext& ctx;
    std::optional<std::list<ConnectionContext*>::iterator> entry;
    ~Counted() {
      if (ctx.handshaking_) server.handshaking_.fetch_sub(1);
      if (entry) worker.connections.erase(*entry);
      // The last of many connections gone: give their freed memory back to the system
      // (glibc keeps it otherwise: 10,000 idle connections left ~100 MiB behind). Only after
      // a crowd, so a quiet server does not trim after every connection.
      if (server.open_.fetch_sub(1) == 1 &&
          server.peak_open_.exchange(0, std::memory_order_relaxed) >= kTrimAfterPeak) {
        ::malloc_trim(0);
      }
      server.connection_ended(worker);
    }
  };
  ConnectionContext ctx;
  Counted counted{*this, w, ctx, std::nullopt};
  auto engine = tls::Connection::server(config_);
  if (w.shutting_down || !engine) {
    ::close(fd);
    if (!engine) {
      log_once(Limit::accept_error, "cannot create a TLS connection: " + engine.error().message());
    }
    co_return;
  }
  ctx.peer_ = peer;
  ctx.worker_ = w.index;
  ctx.id_ = next_id_.fetch_add(1, std::memory_order_relaxed);
  ctx.loop_ = w.loop.get();
  TlsStream stream(*w.loop, fd, std::move(engine).value());
  ctx.stream_ = &stream;
  counted.entry = w.connections.insert(w.connections.end(), &ctx);

  stream.set_timeout(options_.limits.handshake_timeout);
  const Status handshake = co_await stream.handshake();
  ctx.handshaking_ = false;
  handshaking_.fetch_sub(1);
  if (!handshake) {
    handshakes_failed_.fetch_add(1, std::memory_order_relaxed);
    co_return;  // the engine's alert (if any) went out; the socket closes with the stream
  }
  handshakes_completed_.fetch_add(1, std::memory_order_relaxed);
  stream.set_timeout(std::chrono::milliseconds(0));
  if (!ctx.stopping_) {
    try {
      co_await handler_(stream, ctx);
    } catch (const std::exception& e) {
      log(format_endpoint(peer) + ": the connection handler failed: " + e.what());
    }
  }
  co_await close_connection(w, stream, ctx);
}

Task<void> Server::close_connection(Worker&, TlsStream& stream, const ConnectionContext&) {
  if (forced_.load() || !stream.is_open()) co_return;
  const tls::State state = stream.connection().state();
  if (state == tls::State::established || state == tls::State::peer_closed) {
    stream.set_timeout(std::min<std::chrono::milliseconds>(options_.limits.linger, 1000ms));
    if (!co_await stream.shutdown()) co_return;  // RFC 8446 §6.1: close_notify before closing
  } else if (state != tls::State::closed) {
    co_return;  // failed: the alert already went out
  }
  // Lingering close: we will send nothing more; read and drop what the peer still sends until
  // it closes too, so that its unread data does not turn our close into a reset.
  if (!stream.shutdown_send() || options_.limits.linger.count() <= 0) co_return;
  const auto deadline = SteadyClock::now() + options_.limits.linger;
  // What is drained is dropped: one buffer per worker thread serves every lingering connection
  // (kept out of this coroutine's frame, which is then small enough for the allocator's
  // per-thread cache).
  thread_local std::array<std::uint8_t, 4096> sink;
  std::size_t drained = 0;
  while (drained < (1u << 20)) {
    const ssize_t n = ::recv(stream.native_handle(), sink.data(), sink.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!co_await stream.wait_readable(deadline)) co_return;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) co_return;  // end of stream (the peer closed) or an error: done
    drained += static_cast<std::size_t>(n);
  }
}

}  // namespace bulwark::net
