// net::Server: a TLS server framework in the nginx model, shared by `bulwark serve` and (later)
// `bulwark proxy`.
//
// N workers, each an EventLoop (epoll, see event_loop.hpp) on its own thread with its own
// listening socket per listen address (SO_REUSEPORT: the kernel spreads new connections over
// the workers, so the data path takes no lock). Each accepted connection passes the limits (open
// connections, handshakes in progress, a per-source rate of new handshakes), runs its handshake
// under a time limit, and is then handed to the handler coroutine. stop() (or SIGINT / SIGTERM with
// handle_signals) stops accepting, interrupts connections that wait for a request, lets the others
// finish their response within a grace period, sends close_notify to every peer, and run() returns.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bulwark/net/tls_stream.hpp"
#include "bulwark/result.hpp"
#include "bulwark/tls/config.hpp"

namespace bulwark::net {

// "127.0.0.1:8443", "[::1]:8443", "[::]:443", "0.0.0.0:443", "localhost:8443" (127.0.0.1),
// "*:443" (every IPv4 address). Port 0: a free port (every worker shares the one bound).
Result<tcp::endpoint> parse_listen_address(std::string_view text);
// "127.0.0.1:8443" / "[::1]:8443".
std::string format_endpoint(const tcp::endpoint& endpoint);

// Token buckets of new handshakes per source network (an IPv4 /32, an IPv6 /64: one host
// usually owns a whole /64), in a bounded table that forgets the least recently seen source.
// Thread-safe (one short lock per accepted connection, never on the data path).
class SourceRateLimiter {
 public:
  // `rate` handshakes per second on average, bursts up to `burst`; rate 0 admits everything.
  SourceRateLimiter(double rate, double burst, std::size_t max_sources);
  // Takes one token from the source's bucket: false when it is empty.
  bool admit(const asio::ip::address& source, std::chrono::steady_clock::time_point now);
  std::size_t tracked() const;

 private:
  struct Key {
    std::array<std::uint8_t, 9> bytes{};  // family tag + 4 or 8 address bytes
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  struct Bucket {
    Key key;
    double tokens;
    std::chrono::steady_clock::time_point updated;
  };
  static Key key_of(const asio::ip::address& source);

  double rate_;
  double burst_;
  std::size_t max_sources_;
  mutable std::mutex mu_;
  std::list<Bucket> lru_;  // most recently seen first
  std::unordered_map<Key, std::list<Bucket>::iterator, KeyHash> index_;
};

struct ServerLimits {
  // Connections open at once, all workers together; more are accepted and closed at once.
  std::size_t max_connections = 10000;
  // Handshakes in progress at once (each costs a signature and a key exchange); more are
  // closed at once, before reading anything (the THC handshake flood).
  std::size_t max_handshakes = 1000;
  // New handshakes per second per source (IPv4 /32, IPv6 /64), bursts up to handshake_burst;
  // 0: no per-source limit.
  double handshake_rate = 100;
  double handshake_burst = 200;
  std::size_t rate_sources = 16384;  // sources the rate limiter remembers
  std::chrono::milliseconds handshake_timeout{10000};
  // After stop(): how long responses in flight may take before their connections are cut.
  std::chrono::milliseconds shutdown_grace{10000};
  // After our close_notify: how long we keep reading (and discarding) what the peer still
  // sends, so that closing does not answer it with a TCP reset that could destroy our last
  // response in the peer's receive buffer (the "lingering close" of web servers).
  std::chrono::milliseconds linger{2000};
};

struct ServerOptions {
  std::vector<std::string> listen = {"127.0.0.1:8443"};
  unsigned workers = 0;  // 0: one per hardware thread
  int backlog = 4096;
  ServerLimits limits;
  // SIGINT / SIGTERM call stop() (a second one cuts the grace period short).
  bool handle_signals = false;
  // One line per event worth a human's attention (each limit once, when first hit); no
  // newline. Default: "bulwark serve: LINE" on stderr.
  std::function<void(std::string_view)> log;
};

class Server;

// What a handler knows about its connection, and how it cooperates with a shutdown.
class ConnectionContext {
 public:
  const tcp::endpoint& peer() const noexcept { return peer_; }
  // The peer's address without the port ("192.0.2.1", "2001:db8::1"), for logs: formatted
  // when first asked for, so connections that log nothing do not pay for it.
  const std::string& peer_address() const {
    if (peer_address_.empty()) peer_address_ = peer_.address().to_string();
    return peer_address_;
  }
  unsigned worker() const noexcept { return worker_; }
  std::uint64_t id() const noexcept { return id_; }
  // The server is stopping: finish the response in flight, then return.
  bool stopping() const noexcept { return stopping_; }
  // Set while waiting for the peer's next request with nothing in flight: a shutdown then
  // interrupts the wait (the read fails) instead of waiting for the grace period.
  void set_idle(bool idle) noexcept { idle_ = idle; }
  // The handler's pause: handlers run on the worker's EventLoop, where asio timers and
  // sockets are never waited for; they await their stream and this only.
  Task<void> sleep_for(std::chrono::milliseconds duration);

 private:
  friend class Server;
  tcp::endpoint peer_;
  mutable std::string peer_address_;
  unsigned worker_ = 0;
  std::uint64_t id_ = 0;
  bool stopping_ = false;
  bool idle_ = false;
  bool handshaking_ = true;
  TlsStream* stream_ = nullptr;
  EventLoop* loop_ = nullptr;
};

// Called for each connection whose handshake completed; the stream's time limit is unset.
// When it returns, the server sends close_notify (if the connection is still open), lingers
// and closes the socket. It runs on the worker's EventLoop: it awaits the stream's operations
// and ConnectionContext::sleep_for, nothing of asio's own (see event_loop.hpp).
using Handler = std::function<Task<void>(TlsStream&, ConnectionContext&)>;

struct ServerStats {
  std::uint64_t accepted = 0;
  std::uint64_t open = 0;
  std::uint64_t handshaking = 0;
  std::uint64_t handshakes_completed = 0;
  std::uint64_t handshakes_failed = 0;    // timed out, refused by the engine, or TCP gone
  std::uint64_t refused_connections = 0;  // over max_connections
  std::uint64_t refused_handshakes = 0;   // over max_handshakes
  std::uint64_t refused_rate = 0;         // over the per-source rate
};

class Server {
 public:
  // Binds every listen address for every worker (errors here: address in use, bad address).
  static Result<std::unique_ptr<Server>> create(ServerOptions options,
                                                std::shared_ptr<const tls::ServerConfig> config,
                                                Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound addresses, with their real ports, in the order of ServerOptions::listen.
  const std::vector<tcp::endpoint>& endpoints() const noexcept { return endpoints_; }
  unsigned workers() const noexcept;

  // Serves until stop(): worker 0 on the calling thread, the others on threads of their own.
  // Returns once every connection has ended.
  void run();
  // Thread-safe, idempotent: begin the graceful shutdown.
  void stop();
  // Cut the grace period short: every remaining connection is closed now.
  void force_stop();
  ServerStats stats() const noexcept;

 private:
  struct Worker;
  enum class Limit : std::uint8_t { connections, handshakes, rate, accept_error, count };

  Server(ServerOptions options, std::shared_ptr<const tls::ServerConfig> config, Handler handler);
  void log(std::string_view line) const;
  void log_once(Limit which, std::string_view line);
  void admit(Worker& worker, int fd, const tcp::endpoint& peer);
  Task<void> accept_loop(Worker& worker, EventLoop::Descriptor& listener);
  Task<void> serve_connection(Worker& worker, int fd, tcp::endpoint peer);
  Task<void> signal_loop(Worker& first);
  Task<void> close_connection(Worker& worker, TlsStream& stream, const ConnectionContext& ctx);
  void begin_shutdown(Worker& worker);
  void cut_connections(Worker& worker);
  void connection_ended(Worker& worker);
  void worker_finished(Worker& worker);

  ServerOptions options_;
  std::shared_ptr<const tls::ServerConfig> config_;
  Handler handler_;
  SourceRateLimiter rate_limiter_;
  std::vector<tcp::endpoint> endpoints_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> forced_{false};
  std::atomic<std::size_t> workers_finished_{0};
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<std::uint64_t> open_{0};
  // The most connections open at once since the memory was last given back (see Counted).
  std::atomic<std::uint64_t> peak_open_{0};
  std::atomic<std::uint64_t> handshaking_{0};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> handshakes_completed_{0};
  std::atomic<std::uint64_t> handshakes_failed_{0};
  std::atomic<std::uint64_t> refused_connections_{0};
  std::atomic<std::uint64_t> refused_handshakes_{0};
  std::atomic<std::uint64_t> refused_rate_{0};
  std::atomic<bool> logged_[static_cast<std::size_t>(Limit::count)] = {};
  // Last: destroyed first, so that coroutine frames a cut-off event loop still holds are
  // destroyed while everything they refer to is alive.
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace bulwark::net
