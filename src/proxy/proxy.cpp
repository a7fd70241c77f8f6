#include "bulwark/proxy/proxy.hpp"

#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <csignal>
#include <cstdio>
#include <optional>
#include <span>
#include <thread>

#include "bulwark/crypto/hostname.hpp"
#include "bulwark/http/proxy_request.hpp"
#include "bulwark/net/server.hpp"
#include "bulwark/proxy/client_hello.hpp"
#include "bulwark/tls/connection.hpp"

namespace bulwark::proxy {

namespace {

using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
template <class T>
using Task = asio::awaitable<T>;
// Asio has no name for SO_REUSEPORT.
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

constexpr std::size_t read_chunk = 16 * 1024 + 256;  // one TLS record and its overhead

bool would_block(const error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

// Received bytes go straight into a TLS engine, with no suspension in between, so one buffer
// per thread serves every connection of a worker.
std::span<std::uint8_t> thread_buffer() {
  thread_local std::array<std::uint8_t, 64 * 1024> buffer;
  return buffer;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

// One side of a proxied connection: a socket, and its TLS engine once there is one.
struct Endpoint {
  explicit Endpoint(tcp::socket s) : socket(std::move(s)) {
    error_code ignored;
    socket.non_blocking(true, ignored);
    socket.set_option(tcp::no_delay(true), ignored);
  }
  tcp::socket socket;
  std::optional<tls::Connection> tls;
};

std::string error_response(int status, std::string_view reason, std::string_view body) {
  const std::string text = "bulwark proxy: " + std::string(body) + "\n";
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
         std::to_string(text.size()) + "\r\nConnection: close\r\n\r\n" + text;
}

}  // namespace

struct Proxy::Counters {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> open{0};
  std::atomic<std::uint64_t> intercepted{0};
  std::atomic<std::uint64_t> tunnelled{0};
  std::atomic<std::uint64_t> plain_http{0};
  std::atomic<std::uint64_t> bad_gateway{0};
  std::atomic<std::uint64_t> gateway_timeout{0};
  std::atomic<std::uint64_t> refused{0};
};

struct Proxy::Worker {
  asio::io_context io{1};
  std::vector<tcp::acceptor> acceptors;
  std::thread thread;
};

namespace {

// The state of one client connection. Every coroutine of a session runs on its worker's
// single thread; a watchdog cancels the sockets when the current deadline passes.
struct Session : std::enable_shared_from_this<Session> {
  Session(const ProxyOptions& o, Proxy::Counters& c, tcp::socket s, std::string peer_text)
      : options(o),
        counters(c),
        client(std::move(s)),
        watchdog(client.socket.get_executor()),
        pump_done(client.socket.get_executor()),
        peer(std::move(peer_text)) {}

  const ProxyOptions& options;
  Proxy::Counters& counters;
  Endpoint client;
  std::optional<Endpoint> upstream;
  asio::steady_timer watchdog;
  asio::steady_timer pump_done;  // cancelled when the second relay direction ends
  SteadyClock::time_point deadline = SteadyClock::time_point::max();
  bool timed_out = false;
  bool aborted = false;
  bool finished = false;
  bool second_pump_running = false;
  std::string peer;
  std::string what;  // "CONNECT example.org:443", for log lines

  void log(std::string_view line) const {
    const std::string text = peer + " " + what + ": " + std::string(line);
    if (options.log) {
      options.log(text);
    } else {
      std::fprintf(stderr, "bulwark proxy: %s\n", text.c_str());
    }
  }

  // The current phase may take `limit` from now (each relayed byte re-arms the idle limit).
  void arm(std::chrono::milliseconds limit) {
    timed_out = false;
    deadline = SteadyClock::now() + limit;
    // A later deadline is picked up when the watchdog wakes; an earlier one must wake it now.
    if (deadline < watchdog.expiry()) watchdog.cancel();
  }

  void cancel_sockets() {
    error_code ignored;
    client.socket.cancel(ignored);
    if (upstream) upstream->socket.cancel(ignored);
  }

  void abort() {
    aborted = true;
    cancel_sockets();
  }

  static Task<void> watch(std::shared_ptr<Session> self) {
    while (!self->finished) {
      self->watchdog.expires_at(self->deadline);
      error_code ec;
      co_await self->watchdog.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (self->finished) break;
      if (SteadyClock::now() >= self->deadline) {
        self->timed_out = true;
        self->cancel_sockets();
        // Wait for the session to move to a new deadline (or to finish).
        self->deadline = SteadyClock::time_point::max();
      }
    }
  }

  Status check_running() const {
    if (timed_out) return Error(Errc::timed_out, "no progress within the time limit");
    if (aborted) return Error(Errc::closed, "the other side of the relay failed");
    return Status{};
  }

  Task<Status> wait(Endpoint& e, bool for_write) {
    BW_CO_TRY(check_running());
    error_code ec;
    co_await e.socket.async_wait(for_write ? tcp::socket::wait_write : tcp::socket::wait_read,
                                 asio::redirect_error(asio::use_awaitable, ec));
    BW_CO_TRY(check_running());
    if (ec) co_return Error(Errc::io_error, ec.message());
    co_return Status{};
  }

  Task<Status> write_raw(Endpoint& e, wire::Bytes data) {
    while (!data.empty()) {
      error_code ec;
      const std::size_t n = e.socket.write_some(asio::buffer(data.data(), data.size()), ec);
      if (would_block(ec)) {
        BW_CO_TRY(co_await wait(e, true));
        continue;
      }
      if (ec) co_return Error(Errc::io_error, ec.message());
      data = data.subspan(n);
    }
    co_return Status{};
  }

  // Writes the engine's pending output. Both relay directions may flush one endpoint; each
  // write takes the current view and consumes it with no suspension in between.
  Task<Status> flush(Endpoint& e) {
    while (e.tls && e.tls->wants_write()) {
      const wire::Bytes out = e.tls->pending_output();
      error_code ec;
      const std::size_t n = e.socket.write_some(asio::buffer(out.data(), out.size()), ec);
      if (would_block(ec)) {
        BW_CO_TRY(co_await wait(e, true));
        continue;
      }
      if (ec) co_return Error(Errc::io_error, ec.message());
      e.tls->consume_output(n);
    }
    co_return Status{};
  }

  // Up to out.size() bytes; 0 at the end of the stream.
  Task<Result<std::size_t>> read_raw(Endpoint& e, std::span<std::uint8_t> out) {
    for (;;) {
      error_code ec;
      const std::size_t n = e.socket.read_some(asio::buffer(out.data(), out.size()), ec);
      if (would_block(ec)) {
        BW_CO_TRY(co_await wait(e, false));
        continue;
      }
      if (ec == asio::error::eof) co_return std::size_t{0};
      if (ec) co_return Error(Errc::io_error, ec.message());
      co_return n;
    }
  }

  // Reads once from the socket into the engine (end of stream: the engine decides between a
  // clean close and truncation). The bytes go from the thread's buffer into the engine with no
  // suspension in between, so no other connection of this thread can overwrite them.
  Task<Status> fill(Endpoint& e) {
    BW_CO_TRY(co_await flush(e));
    const std::span<std::uint8_t> buffer = thread_buffer();
    for (;;) {
      error_code ec;
      const std::size_t n = e.socket.read_some(asio::buffer(buffer.data(), buffer.size()), ec);
      if (would_block(ec)) {
        BW_CO_TRY(co_await wait(e, false));
        continue;
      }
      if (ec && ec != asio::error::eof) co_return Error(Errc::io_error, ec.message());
      Status fed = ec ? e.tls->transport_eof() : e.tls->feed(wire::Bytes(buffer.data(), n));
      if (!fed) (void)co_await flush(e);  // best effort: the alert that explains the failure
      co_return fed;
    }
  }

  Task<Status> handshake(Endpoint& e) {
    while (!e.tls->handshake_done()) {
      if (const tls::Failure* f = e.tls->failure()) co_return f->error;
      BW_CO_TRY(co_await fill(e));
    }
    co_return co_await flush(e);
  }

  // Application data from `e`; empty at a clean end (close_notify).
  Task<Result<wire::Bytes>> read_tls(Endpoint& e) {
    for (;;) {
      const wire::Bytes available = e.tls->peek();
      if (!available.empty()) co_return available;
      const tls::State state = e.tls->state();
      if (state == tls::State::peer_closed || state == tls::State::closed) co_return wire::Bytes{};
      if (const tls::Failure* f = e.tls->failure()) co_return f->error;
      BW_CO_TRY(co_await fill(e));
    }
  }

  // Moves bytes from `from` to `to` until `from` ends; passes the end on (close_notify, or a
  // TCP half-close for a plain side).
  Task<Status> pump(Endpoint& from, Endpoint& to) {
    std::array<std::uint8_t, read_chunk> plain{};
    for (;;) {
      wire::Bytes data;
      if (from.tls) {
        BW_CO_ASSIGN(data, co_await read_tls(from));
      } else {
        BW_CO_ASSIGN(const std::size_t n, co_await read_raw(from, plain));
        data = wire::Bytes(plain.data(), n);
      }
      arm(options.timeouts.idle);
      if (data.empty()) break;
      if (to.tls) {
        // send() seals into the engine's own buffer at once, so `from`'s view may go.
        const Status sent = to.tls->send(data);
        if (from.tls) from.tls->consume(data.size());
        BW_CO_TRY(sent);
        BW_CO_TRY(co_await flush(to));
      } else {
        BW_CO_TRY(co_await write_raw(to, data));
        if (from.tls) from.tls->consume(data.size());
      }
    }
    if (to.tls) {
      if (to.tls->state() == tls::State::established || to.tls->state() == tls::State::peer_closed)
        BW_CO_TRY(to.tls->close());
      BW_CO_TRY(co_await flush(to));
    } else {
      error_code ignored;
      to.socket.shutdown(tcp::socket::shutdown_send, ignored);
    }
    co_return Status{};
  }

  // Both directions at once until both have ended (or one failed: then both stop).
  Task<void> relay(wire::Bytes client_early) {
    arm(options.timeouts.idle);
    if (!client_early.empty()) {
      // Bytes the client sent right behind its request head belong to the tunnel.
      if (!(co_await write_raw(*upstream, client_early))) co_return;
    }
    second_pump_running = true;
    pump_done.expires_at(SteadyClock::time_point::max());
    asio::co_spawn(
        client.socket.get_executor(),
        [self = shared_from_this()]() -> Task<void> {
          Status s = co_await self->pump(*self->upstream, self->client);
          if (!s) self->abort();
          self->second_pump_running = false;
          self->pump_done.cancel();
        },
        asio::detached);
    Status s = co_await pump(client, *upstream);
    if (!s) abort();
    while (second_pump_running) {
      error_code ec;
      co_await pump_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  Task<void> respond_error(int status, std::string_view reason, std::string_view body) {
    if (status == 504) {
      counters.gateway_timeout.fetch_add(1, std::memory_order_relaxed);
    } else if (status == 502) {
      counters.bad_gateway.fetch_add(1, std::memory_order_relaxed);
    }
    log(std::to_string(status) + " " + std::string(body));
    aborted = false;
    arm(std::chrono::seconds(5));
    const std::string response = error_response(status, reason, body);
    (void)co_await write_raw(client, wire::as_bytes(response));
    error_code ignored;
    client.socket.shutdown(tcp::socket::shutdown_send, ignored);
  }

  Task<void> respond_upstream_failure(const Error& e, std::string_view stage) {
    const std::string body = std::string(stage) + ": " + e.message();
    if (e == Errc::timed_out) {
      co_await respond_error(504, "Gateway Timeout", body);
    } else {
      co_await respond_error(502, "Bad Gateway", body);
    }
  }

  // A TCP connection to host:port as `upstream`, within the connect time limit.
  Task<Status> connect_upstream(const std::string& host, std::uint16_t port) {
    const std::string destination = net::format_destination(host, port);
    BW_CO_ASSIGN(std::vector<tcp::endpoint> endpoints,
                 co_await net::resolve(host, port, options.resolve, options.timeouts.connect));
    BW_CO_ASSIGN(tcp::socket socket, co_await net::connect(std::move(endpoints), destination,
                                                           options.timeouts.connect));
    upstream.emplace(std::move(socket));
    co_return Status{};
  }

  // A verified TLS connection to host:port for `server_name`.
  Task<Status> open_upstream_tls(const std::string& host, std::uint16_t port,
                                 const std::string& server_name, std::string& stage) {
    stage = "cannot connect to " + net::format_destination(host, port);
    BW_CO_TRY(co_await connect_upstream(host, port));
    stage = "upstream TLS handshake with " + net::format_destination(server_name, port);
    BW_CO_ASSIGN(tls::Connection conn, tls::Connection::client(options.upstream, server_name));
    upstream->tls.emplace(std::move(conn));
    arm(options.timeouts.handshake);
    co_return co_await handshake(*upstream);
  }

  // Reads until the client's ClientHello is complete (or the stream is seen not to be TLS).
  Task<Result<ClientHelloPeek>> read_client_hello(std::vector<std::uint8_t>& received) {
    std::array<std::uint8_t, 4096> chunk{};
    for (;;) {
      BW_CO_ASSIGN(ClientHelloPeek peek, peek_client_hello(received));
      if (peek.outcome != ClientHelloPeek::Outcome::need_more) co_return peek;
      BW_CO_ASSIGN(const std::size_t n, co_await read_raw(client, chunk));
      if (n == 0) co_return Error(Errc::truncated, "the client closed before its ClientHello");
      received.insert(received.end(), chunk.begin(), chunk.begin() + n);
    }
  }

  Task<void> tunnel(const http::Authority& target, wire::Bytes early) {
    std::string stage = "cannot connect to " + net::format_destination(target.host, target.port);
    if (Status s = co_await connect_upstream(target.host, target.port); !s) {
      co_await respond_upstream_failure(s.error(), stage);
      co_return;
    }
    counters.tunnelled.fetch_add(1, std::memory_order_relaxed);
    static constexpr std::string_view established = "HTTP/1.1 200 Connection established\r\n\r\n";
    if (!(co_await write_raw(client, wire::as_bytes(established)))) co_return;
    co_await relay(early);
  }

  Task<void> intercept(const http::Authority& target, wire::Bytes early) {
    // The CONNECT host is the first guess at the server name; an IP literal is verified
    // against the certificate's iPAddress entries and not sent as SNI.
    std::string server_name = target.host;
    std::string stage;
    if (Status s = co_await open_upstream_tls(target.host, target.port, server_name, stage); !s) {
      co_await respond_upstream_failure(s.error(), stage);
      co_return;
    }
    static constexpr std::string_view established = "HTTP/1.1 200 Connection established\r\n\r\n";
    arm(options.timeouts.request_head);
    if (!(co_await write_raw(client, wire::as_bytes(established)))) co_return;

    std::vector<std::uint8_t> hello_bytes(early.begin(), early.end());
    Result<ClientHelloPeek> peek = co_await read_client_hello(hello_bytes);
    if (!peek) {
      log("no usable ClientHello: " + peek.error().message());
      co_return;
    }
    if (peek->outcome == ClientHelloPeek::Outcome::not_tls) {
      // Not TLS after all: the upstream TLS connection is dropped and the bytes tunnelled.
      upstream.reset();
      arm(options.timeouts.connect);
      if (Status s = co_await connect_upstream(target.host, target.port); !s) {
        log("cannot connect to " + net::format_destination(target.host, target.port) + ": " +
            s.error().message());
        co_return;
      }
      counters.tunnelled.fetch_add(1, std::memory_order_relaxed);
      co_await relay(wire::Bytes(hello_bytes.data(), hello_bytes.size()));
      co_return;
    }
    if (!peek->server_name.empty() && peek->server_name != lower(server_name)) {
      // The client asks for another name than the CONNECT host: verify the upstream for it.
      server_name = peek->server_name;
      upstream.reset();
      if (Status s = co_await open_upstream_tls(target.host, target.port, server_name, stage); !s) {
        // The 200 is sent: all that is left is to refuse the client's handshake.
        log(stage + ": " + s.error().message() + " (client handshake refused)");
        co_return;
      }
    }

    const tls::SessionInfo& upstream_info = upstream->tls->info();
    NameSet names =
        upstream_info.peer_certificates.empty()
            ? NameSet::for_host(server_name)
            : NameSet::from_upstream(upstream_info.peer_certificates.front(), server_name);
    Result<std::shared_ptr<const tls::ServerConfig>> config = options.minter->config_for(names);
    if (!config) {
      log("cannot mint a certificate: " + config.error().message());
      co_return;
    }
    Result<tls::Connection> conn = tls::Connection::server(*config);
    if (!conn) {
      log("cannot start the client handshake: " + conn.error().message());
      co_return;
    }
    client.tls.emplace(std::move(*conn));
    arm(options.timeouts.handshake);
    Status fed = client.tls->feed(wire::Bytes(hello_bytes.data(), hello_bytes.size()));
    if (fed) fed = co_await handshake(client);
    if (!fed) {
      (void)co_await flush(client);
      log("client TLS handshake failed: " + fed.error().message());
      co_return;
    }
    counters.intercepted.fetch_add(1, std::memory_order_relaxed);
    co_await relay({});
  }

  // A request in absolute form: forwarded in origin form with "Connection: close", then the
  // bytes relayed both ways until both sides close.
  Task<void> forward_plain(const http::ProxyRequestHead& head, wire::Bytes early) {
    Result<http::Url> url = http::parse_url(head.target);
    if (!url || url->tls()) {
      co_await respond_error(
          400, "Bad Request",
          "a proxy request needs CONNECT or an absolute http:// URL, not '" + head.target + "'");
      co_return;
    }
    const std::string stage = "cannot connect to " + net::format_destination(url->host, url->port);
    if (Status s = co_await connect_upstream(url->host, url->port); !s) {
      co_await respond_upstream_failure(s.error(), stage);
      co_return;
    }
    counters.plain_http.fetch_add(1, std::memory_order_relaxed);
    std::string out =
        head.method + " " + url->target + " HTTP/1." + (head.version == 11 ? "1" : "0") + "\r\n";
    bool has_host = false;
    for (const http::HeaderField& f : head.fields) {
      const std::string name = lower(f.name);
      // RFC 9110 §7.6.1: hop-by-hop fields are not forwarded; neither is Proxy-Authorization,
      // meant for us alone.
      if (name == "connection" || name == "proxy-connection" || name == "keep-alive" ||
          name == "proxy-authorization" || name == "te" || name == "upgrade")
        continue;
      if (name == "host") has_host = true;
      out += f.name + ": " + f.value + "\r\n";
    }
    if (!has_host) out += "Host: " + url->authority() + "\r\n";
    out += "Connection: close\r\n\r\n";
    arm(options.timeouts.idle);
    if (!(co_await write_raw(*upstream, wire::as_bytes(out)))) {
      co_await respond_error(502, "Bad Gateway", "the upstream closed before taking the request");
      co_return;
    }
    co_await relay(early);
  }

  static Task<void> run(std::shared_ptr<Session> self) {
    asio::co_spawn(self->client.socket.get_executor(), watch(self), asio::detached);
    co_await self->serve();
    self->finished = true;
    self->watchdog.cancel();
    self->counters.open.fetch_sub(1, std::memory_order_relaxed);
  }

  Task<void> serve() {
    arm(options.timeouts.request_head);
    std::string buffer;
    std::array<std::uint8_t, 4096> chunk{};
    std::size_t head_size = 0;
    for (;;) {
      Result<std::optional<std::size_t>> end =
          http::find_head_end(buffer, options.max_request_head);
      if (!end) {
        co_await respond_error(431, "Request Header Fields Too Large", end.error().message());
        co_return;
      }
      if (*end) {
        head_size = **end;
        break;
      }
      Result<std::size_t> n = co_await read_raw(client, chunk);
      if (!n) {
        if (n.error() == Errc::timed_out && !buffer.empty())
          co_await respond_error(408, "Request Timeout", "no complete request head in time");
        co_return;
      }
      if (*n == 0) co_return;
      buffer.append(reinterpret_cast<const char*>(chunk.data()), *n);
    }
    Result<http::ProxyRequestHead> head =
        http::parse_proxy_request_head(std::string_view(buffer).substr(0, head_size));
    if (!head) {
      co_await respond_error(400, "Bad Request", head.error().message());
      co_return;
    }
    what = head->method + " " + head->target;
    const wire::Bytes early = wire::as_bytes(std::string_view(buffer).substr(head_size));
    if (!head->is_connect()) {
      co_await forward_plain(*head, early);
      co_return;
    }
    Result<http::Authority> target = http::parse_authority(head->target);
    if (!target) {
      co_await respond_error(400, "Bad Request", target.error().message());
      co_return;
    }
    if (matches_host_pattern(options.passthrough, target->host)) {
      co_await tunnel(*target, early);
    } else {
      co_await intercept(*target, early);
    }
  }
};

Task<void> accept_loop(tcp::acceptor& acceptor, const ProxyOptions& options,
                       Proxy::Counters& counters, const std::atomic<bool>& stopping) {
  for (;;) {
    error_code ec;
    tcp::socket socket =
        co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping.load()) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
      continue;  // EMFILE and friends: the next accept may succeed
    }
    counters.accepted.fetch_add(1, std::memory_order_relaxed);
    if (counters.open.load(std::memory_order_relaxed) >= options.max_connections) {
      counters.refused.fetch_add(1, std::memory_order_relaxed);
      continue;  // the socket closes here
    }
    counters.open.fetch_add(1, std::memory_order_relaxed);
    error_code peer_ec;
    const tcp::endpoint peer = socket.remote_endpoint(peer_ec);
    auto session =
        std::make_shared<Session>(options, counters, std::move(socket),
                                  peer_ec ? std::string("?") : net::format_endpoint(peer));
    asio::co_spawn(acceptor.get_executor(), Session::run(std::move(session)), asio::detached);
  }
}

}  // namespace

bool matches_host_pattern(const std::vector<std::string>& patterns, std::string_view host) {
  const std::string h = lower(host);
  for (const std::string& p : patterns) {
    const std::string pattern = lower(p);
    if (pattern == h) return true;
    if (pattern.starts_with("*.")) {
      const std::string_view domain = std::string_view(pattern).substr(1);  // ".example.org"
      if (h.size() > domain.size() && std::string_view(h).ends_with(domain)) return true;
    }
  }
  return false;
}

Proxy::Proxy(ProxyOptions options)
    : options_(std::move(options)), counters_(std::make_unique<Counters>()) {}

Proxy::~Proxy() {
  stop();
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
}

Result<std::unique_ptr<Proxy>> Proxy::create(ProxyOptions options) {
  if (!options.minter) return Error(Errc::invalid_argument, "the proxy needs a certificate minter");
  if (!options.upstream)
    return Error(Errc::invalid_argument, "the proxy needs an upstream TLS config");
  if (options.listen.empty()) return Error(Errc::invalid_argument, "no listen address");
  std::vector<tcp::endpoint> wanted;
  for (const std::string& text : options.listen) {
    BW_ASSIGN(tcp::endpoint e, net::parse_listen_address(text));
    wanted.push_back(e);
  }
  const unsigned n = std::max(1u, options.workers);
  std::unique_ptr<Proxy> proxy(new Proxy(std::move(options)));
  for (unsigned i = 0; i < n; ++i) {
    auto worker = std::make_unique<Worker>();
    for (std::size_t a = 0; a < wanted.size(); ++a) {
      // Every worker after the first binds the port the first one got (port 0 included).
      const tcp::endpoint at = i == 0 ? wanted[a] : proxy->endpoints_[a];
      tcp::acceptor acceptor(worker->io);
      error_code ec;
      acceptor.open(at.protocol(), ec);
      if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) acceptor.set_option(reuse_port(true), ec);
      if (!ec) acceptor.bind(at, ec);
      if (!ec) acceptor.listen(1024, ec);
      if (ec)
        return Error(Errc::io_error,
                     "cannot listen on " + net::format_endpoint(at) + ": " + ec.message());
      if (i == 0) proxy->endpoints_.push_back(acceptor.local_endpoint());
      worker->acceptors.push_back(std::move(acceptor));
    }
    proxy->workers_.push_back(std::move(worker));
  }
  return proxy;
}

void Proxy::run() {
  for (auto& w : workers_)
    for (tcp::acceptor& a : w->acceptors)
      asio::co_spawn(w->io, accept_loop(a, options_, *counters_, stopping_), asio::detached);
  std::optional<asio::signal_set> signals;
  if (options_.handle_signals) {
    signals.emplace(workers_[0]->io, SIGINT, SIGTERM);
    signals->async_wait([this](const error_code& ec, int) {
      if (!ec) stop();
    });
  }
  for (std::size_t i = 1; i < workers_.size(); ++i)
    workers_[i]->thread = std::thread([w = workers_[i].get()] { w->io.run(); });
  workers_[0]->io.run();
  for (std::size_t i = 1; i < workers_.size(); ++i)
    if (workers_[i]->thread.joinable()) workers_[i]->thread.join();
}

void Proxy::stop() {
  if (stopping_.exchange(true)) return;
  for (auto& w : workers_)
    w->io.stop();
}

ProxyStats Proxy::stats() const noexcept {
  const Counters& c = *counters_;
  return ProxyStats{c.accepted.load(),        c.open.load(),       c.intercepted.load(),
                    c.tunnelled.load(),       c.plain_http.load(), c.bad_gateway.load(),
                    c.gateway_timeout.load(), c.refused.load()};
}

}  // namespace bulwark::proxy
