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

#include <algorithm>
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
#include "http/common.hpp"

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
  // Received (and decrypted) bytes not yet relayed: the HTTP relay parses heads from here.
  std::string pending;
  // When bytes last came from this side (the HTTP relay's reuse check).
  std::chrono::steady_clock::time_point last_read{};
};

// Where the upstream connection of an HTTP relay goes.
struct Origin {
  bool tls = false;
  std::string host;  // to connect to
  std::uint16_t port = 0;
  std::string server_name;  // TLS: SNI and the name verified
  bool operator==(const Origin&) const = default;
};

// What happens after one HTTP exchange.
enum class After : std::uint8_t {
  next_request,  // both sides keep the connection
  close,         // end the client connection in order (close_notify)
  abort,         // end it abruptly: a response was cut short, and the client must see that
  raw,           // relay the rest of the connection raw both ways
};

// Everything a forwarded message's body transfer learnt.
struct Transfer {
  std::string head;          // the head to send, without the framing fields and the empty line
  bool head_sent = false;    // queued or sent: too late for an error response
  bool head_queued = false;  // not written yet: goes out with the first body bytes
  bool to_failed = false;    // the receiving side failed (else the sending side, or the framing)
  std::uint64_t in = 0;      // body bytes read (without the chunked coding)
  std::uint64_t out = 0;     // body bytes sent (without the chunked coding)
};

double ms_since(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A chunk of the chunked coding (RFC 9112 §7.1) holding `data`.
std::string chunk(std::string_view data) {
  char size[24];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out(size);
  out.append(data);
  out += "\r\n";
  return out;
}

// The fields of a forwarded head: hop-by-hop ones (RFC 9110 §7.6.1), the framing fields and
// those `skip` names left out.
template <class Skip>
void append_end_to_end_fields(std::string& out, const std::vector<http::HeaderField>& fields,
                              Skip skip) {
  for (const http::HeaderField& f : fields) {
    // RFC 9110 §7.6.1: a proxy MUST remove the hop-by-hop fields, including those the
    // Connection field names, before forwarding a message.
    if (http::is_hop_by_hop_field(f.name) || http::connection_has_option(fields, f.name)) continue;
    if (http::detail::iequals(f.name, "content-length") || skip(f.name)) continue;
    out += f.name;
    out += ": ";
    out += f.value;
    out += "\r\n";
  }
}

// Transfer-Encoding values of every field, comma-joined ("" when absent).
std::string transfer_codings(const std::vector<http::HeaderField>& fields) {
  std::string out;
  for (const http::HeaderField& f : fields) {
    if (!http::detail::iequals(f.name, "transfer-encoding")) continue;
    if (!out.empty()) out += ",";
    out += http::detail::trim_ows(f.value);
  }
  return out;
}

std::string error_response(int status, std::string_view body) {
  const std::string text = "bulwark proxy: " + std::string(body) + "\n";
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(http::reason_phrase(status)) +
         "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
         std::to_string(text.size()) + "\r\nConnection: close\r\n\r\n" + text;
}

// An upstream that could not be reached or answered: 504 on a time limit, else 502.
int upstream_failure_status(const Error& e) {
  return e == Errc::timed_out ? 504 : 502;
}

void emit_log(const ProxyOptions& options, const std::string& text) {
  if (options.log) {
    options.log(text);
  } else {
    std::fprintf(stderr, "bulwark proxy: %s\n", text.c_str());
  }
}

void log_once(const ProxyOptions& options, std::atomic<bool>& logged, const std::string& text) {
  if (!logged.exchange(true, std::memory_order_relaxed)) emit_log(options, text);
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
  std::atomic<std::uint64_t> http_requests{0};
  std::atomic<std::uint64_t> upstream_connections{0};
  std::atomic<std::size_t> in_handshake{0};
  std::unique_ptr<net::SourceRateLimiter> rate;  // null: no per-source limit
  // Each limit is logged the first time it is hit, not once per refusal.
  std::atomic<bool> logged_connections{false};
  std::atomic<bool> logged_rate{false};
  std::atomic<bool> logged_handshakes{false};
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
  // The HTTP relay: the intercepted tunnel's origin, what `upstream` is connected to, and the
  // set-up time of that connection until a flow line reports it.
  Origin tunnel_origin;
  std::optional<Origin> origin;
  std::optional<double> upstream_setup_ms;

  void log(std::string_view line) const {
    emit_log(options, peer + " " + what + ": " + std::string(line));
  }

  // A place among the tunnels in their handshake phase (max_handshakes), held until released
  // or destroyed.
  class HandshakeSlot {
   public:
    explicit HandshakeSlot(Proxy::Counters& c, std::size_t max) : counters_(&c) {
      if (c.in_handshake.fetch_add(1, std::memory_order_relaxed) >= max) release();
    }
    HandshakeSlot(const HandshakeSlot&) = delete;
    HandshakeSlot& operator=(const HandshakeSlot&) = delete;
    ~HandshakeSlot() { release(); }
    explicit operator bool() const noexcept { return counters_ != nullptr; }
    void release() noexcept {
      if (counters_) counters_->in_handshake.fetch_sub(1, std::memory_order_relaxed);
      counters_ = nullptr;
    }

   private:
    Proxy::Counters* counters_;
  };

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
    // Waiting for the peer: buffers that hold nothing go back (an idle tunnel keeps only
    // its TLS state).
    if (!for_write && e.tls) e.tls->release_idle_buffers();
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

  // ---- the HTTP/1.1 relay ------------------------------------------------------------------

  // Reads once more from `e` into e.pending; false at a clean end of the stream (a TLS side's
  // close_notify; an end without it is the engine's truncation error).
  Task<Result<bool>> read_more(Endpoint& e) {
    if (e.tls) {
      BW_CO_ASSIGN(const wire::Bytes data, co_await read_tls(e));
      if (data.empty()) co_return false;
      e.pending.append(reinterpret_cast<const char*>(data.data()), data.size());
      e.tls->consume(data.size());
      e.last_read = SteadyClock::now();
      arm(options.timeouts.idle);
      co_return true;
    }
    const std::size_t old = e.pending.size();
    e.pending.resize(old + read_chunk);
    Result<std::size_t> n = co_await read_raw(
        e, std::span(reinterpret_cast<std::uint8_t*>(e.pending.data()) + old, read_chunk));
    e.pending.resize(old + (n ? *n : 0));
    if (!n) co_return n.error();
    if (*n != 0) {
      e.last_read = SteadyClock::now();
      arm(options.timeouts.idle);
    }
    co_return *n != 0;
  }

  Task<Status> send(Endpoint& e, std::string_view data) {
    if (e.tls) {
      BW_CO_TRY(e.tls->send(wire::as_bytes(data)));
      co_return co_await flush(e);
    }
    co_return co_await write_raw(e, wire::as_bytes(data));
  }

  // Ends what we send to `e` in order: close_notify, or a TCP half-close.
  Task<Status> close_output(Endpoint& e) {
    if (e.tls) {
      if (e.tls->state() == tls::State::established || e.tls->state() == tls::State::peer_closed)
        BW_CO_TRY(e.tls->close());
      co_return co_await flush(e);
    }
    error_code ignored;
    e.socket.shutdown(tcp::socket::shutdown_send, ignored);
    co_return Status{};
  }

  // Whether the kept upstream connection can take another request: nothing unasked-for
  // received, and not closed by the server while idle (a non-blocking read tells; skipped when
  // the upstream answered moments ago: a server closes a kept connection after seconds of
  // idleness, and under load that read would cost a syscall per request for nothing).
  bool upstream_reusable() {
    static constexpr auto recently = std::chrono::milliseconds(250);
    Endpoint& e = *upstream;
    if (!e.pending.empty()) return false;
    if (e.tls && (e.tls->state() != tls::State::established || !e.tls->peek().empty()))
      return false;
    if (SteadyClock::now() - e.last_read < recently) return true;
    const std::span<std::uint8_t> buffer = thread_buffer();
    error_code ec;
    const std::size_t n = e.socket.read_some(asio::buffer(buffer.data(), buffer.size()), ec);
    if (would_block(ec)) return true;
    if (ec || n == 0 || !e.tls) return false;
    // TLS 1.3 servers send session tickets after the handshake: records, not data.
    if (!e.tls->feed(wire::Bytes(buffer.data(), n))) return false;
    return e.tls->state() == tls::State::established && e.tls->peek().empty();
  }

  // An upstream connection to `wanted`: the kept one when it can be reused, else a new one
  // (its set-up time goes into the next flow line).
  Task<Status> ensure_upstream(const Origin& wanted, std::string& stage) {
    if (upstream && origin && *origin == wanted && upstream_reusable()) co_return Status{};
    upstream.reset();
    origin.reset();
    const SteadyClock::time_point start = SteadyClock::now();
    if (wanted.tls) {
      BW_CO_TRY(co_await open_upstream_tls(wanted.host, wanted.port, wanted.server_name, stage));
    } else {
      stage = "cannot connect to " + net::format_destination(wanted.host, wanted.port);
      BW_CO_TRY(co_await connect_upstream(wanted.host, wanted.port));
    }
    origin = wanted;
    upstream_setup_ms = ms_since(start);
    co_return Status{};
  }

  // Counted after the line is written: whoever sees the count sees the line.
  void finish_flow(FlowRecord& flow, SteadyClock::time_point started) {
    if (options.flow_log) {
      flow.total_ms = ms_since(started);
      options.flow_log->write(flow);
    }
    counters.http_requests.fetch_add(1, std::memory_order_release);
  }

  // Answers the current request with an error of ours and logs its flow line.
  Task<After> fail_exchange(FlowRecord& flow, SteadyClock::time_point started, int status,
                            std::string body) {
    flow.notes.push_back(body);
    co_await respond_error(status, body);
    flow.status = status;
    finish_flow(flow, started);
    co_return After::close;
  }

  Task<After> fail_upstream(FlowRecord& flow, SteadyClock::time_point started, const Error& e,
                            std::string_view stage) {
    co_return co_await fail_exchange(flow, started, upstream_failure_status(e),
                                     std::string(stage) + ": " + e.message());
  }

  // Sends `data`, behind the head when that is still queued (one write for both).
  Task<Status> emit(Endpoint& to, std::string_view data, Transfer& t) {
    Status s;
    if (to.tls) {
      if (t.head_queued && t.head.size() + data.size() <= tls::max_plaintext) {
        // Head and a small body in one record: one seal here, one open at the peer.
        t.head.append(data);
        s = to.tls->send(wire::as_bytes(t.head));
      } else {
        if (t.head_queued) s = to.tls->send(wire::as_bytes(t.head));
        if (s && !data.empty()) s = to.tls->send(wire::as_bytes(data));
      }
      if (s) s = co_await flush(to);
    } else if (t.head_queued) {
      t.head.append(data);
      s = co_await write_raw(to, wire::as_bytes(t.head));
    } else {
      s = co_await write_raw(to, wire::as_bytes(data));
    }
    t.head_queued = false;
    if (!s) t.to_failed = true;
    co_return s;
  }

  // Completes the head with its framing fields (`framing`: whole lines) and the empty line;
  // it goes out with the first body bytes, or alone by flush_head().
  void queue_head(std::string_view framing, Transfer& t) {
    t.head += framing;
    t.head += "\r\n";
    t.head_sent = true;
    t.head_queued = true;
  }

  // Before waiting for body bytes: the receiver should not wait for the head meanwhile.
  Task<Status> flush_head(Endpoint& to, Transfer& t) {
    if (!t.head_queued) co_return Status{};
    co_return co_await emit(to, {}, t);
  }

  // Sends a rewritten body with its new Content-Length (RFC 9110 §8.6).
  Task<Status> emit_rewritten(Endpoint& to, std::string body, ReplaceScope scope, Transfer& t,
                              FlowRecord& flow) {
    flow.replacements +=
        static_cast<std::uint32_t>(apply_replacements(options.replace, scope, body));
    t.out = body.size();
    queue_head("Content-Length: " + std::to_string(body.size()) + "\r\n", t);
    co_return co_await emit(to, body, t);
  }

  Error truncated_body(const Transfer& t) const {
    return Error(Errc::truncated,
                 "the connection ended after " + std::to_string(t.in) + " body bytes");
  }

  // Sends t.head with its framing and then the body read from `from`, framed as `framing`.
  // With `rewrite`, a body up to max_rewrite_body is held, rewritten and sent with its new
  // Content-Length; a larger one is sent unchanged (and the flow says so).
  Task<Status> forward_message(Endpoint& from, Endpoint& to, http::BodyFraming framing,
                               std::uint64_t length, std::optional<ReplaceScope> rewrite,
                               Transfer& t, FlowRecord& flow) {
    const std::size_t bound = options.max_rewrite_body;
    const auto too_big = [bound] {
      return "replace skipped: body over " + std::to_string(bound) + " bytes";
    };
    switch (framing) {
      case http::BodyFraming::none:
        queue_head("", t);
        co_return co_await flush_head(to, t);

      case http::BodyFraming::content_length: {
        if (rewrite && length <= bound) {
          while (from.pending.size() < length) {
            BW_CO_ASSIGN(const bool more, co_await read_more(from));
            if (!more) co_return truncated_body(t);
          }
          t.in = length;
          std::string body = from.pending.substr(0, length);
          from.pending.erase(0, length);
          co_return co_await emit_rewritten(to, std::move(body), *rewrite, t, flow);
        }
        if (rewrite) flow.notes.push_back(too_big());
        queue_head("Content-Length: " + std::to_string(length) + "\r\n", t);
        while (t.in < length) {
          if (from.pending.empty()) {
            BW_CO_TRY(co_await flush_head(to, t));
            BW_CO_ASSIGN(const bool more, co_await read_more(from));
            if (!more) co_return truncated_body(t);
          }
          const std::size_t take =
              static_cast<std::size_t>(std::min<std::uint64_t>(length - t.in, from.pending.size()));
          BW_CO_TRY(co_await emit(to, std::string_view(from.pending).substr(0, take), t));
          from.pending.erase(0, take);
          t.in += take;
          t.out += take;
        }
        co_return Status{};
      }

      case http::BodyFraming::chunked:
      case http::BodyFraming::until_close: {
        const bool chunked = framing == http::BodyFraming::chunked;
        http::ChunkedDecoder decoder;
        bool holding = rewrite.has_value();  // the whole body, to rewrite it at the end
        bool rechunking = false;  // data taken out of the coding goes out in chunks of ours
        std::string data;
        if (!holding) queue_head(chunked ? "Transfer-Encoding: chunked\r\n" : "", t);
        for (;;) {
          if (chunked && decoder.done()) break;
          if (from.pending.empty()) {
            BW_CO_TRY(co_await flush_head(to, t));
            BW_CO_ASSIGN(const bool more, co_await read_more(from));
            if (!more) {
              if (chunked) co_return truncated_body(t);
              break;  // until_close: a clean end is the end of the body
            }
          }
          std::size_t used = from.pending.size();
          if (chunked) {
            BW_CO_ASSIGN(used, decoder.feed(from.pending, holding || rechunking ? &data : nullptr));
            t.in = decoder.body_bytes();
          } else {
            if (holding) data.append(from.pending);
            t.in += used;
          }
          if (!holding && !rechunking) {
            // Passed through as received, the chunked coding included.
            BW_CO_TRY(co_await emit(to, std::string_view(from.pending).substr(0, used), t));
            t.out = t.in;
          }
          from.pending.erase(0, used);
          if (holding && data.size() > bound) {
            flow.notes.push_back(too_big());
            holding = false;
            rechunking = chunked;
            queue_head(chunked ? "Transfer-Encoding: chunked\r\n" : "", t);
            if (!chunked) {
              BW_CO_TRY(co_await emit(to, data, t));
              t.out = data.size();
              data.clear();
            }
          }
          if (rechunking && !data.empty()) {
            BW_CO_TRY(co_await emit(to, chunk(data), t));
            t.out += data.size();
            data.clear();
          }
        }
        if (holding) co_return co_await emit_rewritten(to, std::move(data), *rewrite, t, flow);
        if (rechunking) co_return co_await emit(to, "0\r\n\r\n", t);
        co_return co_await flush_head(to, t);
      }
    }
    co_return Status{};
  }

  // Reads a head from e.pending (more from `e` as needed): its length, or 0 at a clean end of
  // the stream before any byte of it.
  Task<Result<std::size_t>> read_head(Endpoint& e, std::size_t limit) {
    for (;;) {
      BW_CO_ASSIGN(const std::optional<std::size_t> end, http::find_head_end(e.pending, limit));
      if (end) co_return *end;
      BW_CO_ASSIGN(const bool more, co_await read_more(e));
      if (!more) {
        if (e.pending.empty()) co_return std::size_t{0};
        co_return Error(Errc::truncated, "the connection ended inside a message head");
      }
    }
  }

  // One request and its response. `plain`: absolute-form requests over plain TCP; else
  // inside an intercepted tunnel to `origin`.
  Task<After> exchange(bool plain, bool first) {
    // The request head. The first bytes of a tunnel decide whether it carries HTTP at all.
    const bool sniff = !plain && first;
    arm(sniff   ? options.timeouts.first_request
        : first ? options.timeouts.request_head
                : options.timeouts.idle);
    std::size_t head_size = 0;
    for (;;) {
      if (sniff && http::classify_request_start(client.pending) == http::RequestStart::not_http)
        co_return After::raw;
      Result<std::optional<std::size_t>> end =
          http::find_head_end(client.pending, options.max_request_head);
      if (!end) {
        if (sniff) co_return After::raw;
        co_await respond_error(431, end.error().message());
        co_return After::close;
      }
      if (*end) {
        head_size = **end;
        break;
      }
      Result<bool> more = co_await read_more(client);
      if (!more) {
        // A silent client at the start of a tunnel may be waiting for the server to speak.
        if (sniff && more.error() == Errc::timed_out) co_return After::raw;
        if (more.error() == Errc::timed_out && !client.pending.empty())
          co_await respond_error(408, "no complete request head in time");
        co_return After::close;
      }
      if (!*more) co_return After::close;
      if (sniff) arm(options.timeouts.request_head);
    }
    Result<http::ProxyRequestHead> parsed =
        http::parse_proxy_request_head(std::string_view(client.pending).substr(0, head_size));
    if (!parsed && sniff) co_return After::raw;
    // A CONNECT inside the tunnel: its head and all that follows go upstream as they are.
    if (!plain && parsed && parsed->is_connect()) co_return After::raw;

    const SteadyClock::time_point started = SteadyClock::now();
    FlowRecord flow;
    flow.unix_ms = unix_ms_now();
    flow.client = peer;
    if (!parsed) {
      flow.method = "?";
      co_return co_await fail_exchange(flow, started, 400, parsed.error().message());
    }
    const http::ProxyRequestHead request = std::move(*parsed);
    client.pending.erase(0, head_size);
    what = request.method + " " + request.target;
    flow.method = request.method;

    // Where it goes, and the target in origin form (RFC 9112 §3.2.1).
    Origin wanted = origin.value_or(Origin{});
    if (!plain) wanted = tunnel_origin;
    http::Url url;
    bool absolute = false;
    if (request.target.starts_with("http://") || request.target.starts_with("https://")) {
      Result<http::Url> parsed_url = http::parse_url(request.target);
      if (!parsed_url)
        co_return co_await fail_exchange(flow, started, 400, parsed_url.error().message());
      url = std::move(*parsed_url);
      absolute = true;
    }
    if (plain) {
      if (!absolute || url.tls())
        co_return co_await fail_exchange(
            flow, started, 400,
            "a proxy request needs CONNECT or an absolute http:// URL, not '" + request.target +
                "'");
      wanted = Origin{false, url.host, url.port, url.host};
      if (first) counters.plain_http.fetch_add(1, std::memory_order_relaxed);
    } else {
      const std::string target = absolute ? url.target : request.target;
      url = http::Url{"https", wanted.server_name, wanted.port, target};
    }
    std::string target = url.target;
    if (has_rules(options.replace, ReplaceScope::request)) {
      std::string rewritten = target;
      const std::size_t n = apply_replacements(options.replace, ReplaceScope::request, rewritten);
      // RFC 9112 §3.2: a request target holds no whitespace or control characters.
      const bool valid = std::none_of(rewritten.begin(), rewritten.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
      });
      if (n > 0 && valid) {
        target = std::move(rewritten);
        flow.replacements += static_cast<std::uint32_t>(n);
      } else if (n > 0) {
        flow.notes.push_back(
            "replace skipped: the request target would hold a space or a "
            "control character");
      }
    }
    url.target = target;
    flow.url = url.text();

    // The request's framing (RFC 9112 §6).
    Result<std::optional<std::uint64_t>> declared = http::content_length(request.fields);
    if (!declared) co_return co_await fail_exchange(flow, started, 400, declared.error().message());
    const std::string codings = transfer_codings(request.fields);
    http::BodyFraming framing = http::BodyFraming::none;
    std::uint64_t length = 0;
    if (!codings.empty()) {
      // RFC 9112 §6.1: Transfer-Encoding with Content-Length is how requests are smuggled past
      // proxies; refused, and the connection closed.
      if (*declared)
        co_return co_await fail_exchange(flow, started, 400,
                                         "Transfer-Encoding together with Content-Length");
      // RFC 9112 §6.1: a transfer coding we do not understand is a 501.
      if (!http::detail::iequals(codings, "chunked"))
        co_return co_await fail_exchange(flow, started, 501,
                                         "transfer coding '" + codings + "' (only chunked)");
      framing = http::BodyFraming::chunked;
    } else if (*declared && **declared > 0) {
      framing = http::BodyFraming::content_length;
      length = **declared;
    }
    const bool upgrade = request.find("upgrade").has_value() &&
                         http::connection_has_option(request.fields, "upgrade");
    const bool drop_accept_encoding = has_rules(options.replace, ReplaceScope::response);
    const std::optional<std::string_view> expect = request.find("expect");
    const bool answer_continue =
        expect && http::detail::iequals(http::detail::trim_ows(*expect), "100-continue") &&
        framing != http::BodyFraming::none && request.version == 11;
    const bool client_keeps = request.version == 11
                                  ? !http::connection_has_option(request.fields, "close")
                                  : http::connection_has_option(request.fields, "keep-alive");

    // The forwarded head: our own version (RFC 9110 §6.2), the end-to-end fields.
    Transfer out_request;
    out_request.head = request.method + " " + target + " HTTP/1.1\r\n";
    // RFC 9112 §3.2.2: for an absolute-form target the proxy MUST replace Host with the
    // target's authority.
    const bool replace_host = absolute || !request.find("host");
    append_end_to_end_fields(out_request.head, request.fields, [&](std::string_view name) {
      return (replace_host && http::detail::iequals(name, "host")) ||
             (drop_accept_encoding && http::detail::iequals(name, "accept-encoding")) ||
             (answer_continue && http::detail::iequals(name, "expect"));
    });
    if (replace_host) out_request.head += "Host: " + url.authority() + "\r\n";
    if (upgrade)
      out_request.head +=
          "Upgrade: " + std::string(*request.find("upgrade")) + "\r\nConnection: upgrade\r\n";

    std::string stage;
    if (Status s = co_await ensure_upstream(wanted, stage); !s)
      co_return co_await fail_upstream(flow, started, s.error(), stage);
    flow.upstream_connect_ms = upstream_setup_ms;
    upstream_setup_ms.reset();
    if (upstream->tls) {
      const tls::SessionInfo& info = upstream->tls->info();
      flow.tls_version = tls::name(info.version);
      flow.tls_suite = tls::name(info.cipher_suite);
    }
    arm(options.timeouts.idle);
    if (answer_continue) {
      // We take the body at once (RFC 9110 §10.1.1 lets a proxy answer the expectation).
      static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
      if (!(co_await send(client, go_on))) co_return After::abort;
    }
    const std::optional<ReplaceScope> rewrite_request =
        has_rules(options.replace, ReplaceScope::request) && framing != http::BodyFraming::none
            ? std::optional(ReplaceScope::request)
            : std::nullopt;
    Status sent = co_await forward_message(client, *upstream, framing, length, rewrite_request,
                                           out_request, flow);
    flow.request_body_bytes = out_request.in;
    if (!sent) {
      if (out_request.to_failed)
        co_return co_await fail_upstream(flow, started, sent.error(),
                                         "the upstream did not take the request");
      flow.notes.push_back("request body: " + sent.error().message());
      finish_flow(flow, started);
      co_return After::abort;
    }

    // The response head; 1xx interim responses are passed on (RFC 9110 §15.2).
    http::ProxyResponseHead response;
    for (;;) {
      Result<std::size_t> size = co_await read_head(*upstream, options.max_response_head);
      if (size && *size == 0)
        size = Error(Errc::closed, "the upstream closed the connection without a response");
      if (!size) co_return co_await fail_upstream(flow, started, size.error(), "no response");
      if (!flow.first_byte_ms) flow.first_byte_ms = ms_since(started);
      Result<http::ProxyResponseHead> head =
          http::parse_proxy_response_head(std::string_view(upstream->pending).substr(0, *size));
      if (!head) co_return co_await fail_upstream(flow, started, head.error(), "bad response");
      upstream->pending.erase(0, *size);
      response = std::move(*head);
      if (response.status >= 200 || response.status == 101) break;
      std::string interim =
          "HTTP/1.1 " + std::to_string(response.status) + " " + response.reason + "\r\n";
      append_end_to_end_fields(interim, response.fields, [](std::string_view) { return false; });
      interim += "\r\n";
      if (!(co_await send(client, interim))) co_return After::abort;
    }
    flow.status = response.status;

    std::string status_line =
        "HTTP/1.1 " + std::to_string(response.status) + " " + response.reason + "\r\n";
    if (response.status == 101) {
      // RFC 9110 §7.8: after 101 the connection speaks the new protocol: relayed raw.
      for (const http::HeaderField& f : response.fields)
        status_line += f.name + ": " + f.value + "\r\n";
      status_line += "\r\n";
      finish_flow(flow, started);
      if (!(co_await send(client, status_line))) co_return After::abort;
      co_return After::raw;
    }

    // The response's framing (RFC 9112 §6.3).
    Result<std::optional<std::uint64_t>> response_length = http::content_length(response.fields);
    if (!response_length)
      co_return co_await fail_upstream(flow, started, response_length.error(), "bad response");
    const std::string response_codings = transfer_codings(response.fields);
    http::BodyFraming response_framing = http::BodyFraming::until_close;
    length = 0;
    if (request.method == "HEAD" || response.status == 204 || response.status == 304) {
      response_framing = http::BodyFraming::none;
    } else if (!response_codings.empty()) {
      if (!http::detail::iequals(response_codings, "chunked"))
        co_return co_await fail_upstream(
            flow, started,
            Error(Errc::unsupported, "transfer coding '" + response_codings + "' (only chunked)"),
            "bad response");
      response_framing = http::BodyFraming::chunked;
    } else if (*response_length) {
      response_framing =
          **response_length == 0 ? http::BodyFraming::none : http::BodyFraming::content_length;
      length = **response_length;
    }
    const bool upstream_keeps = response.version == 11 &&
                                !http::connection_has_option(response.fields, "close") &&
                                response_framing != http::BodyFraming::until_close;
    const bool keep_client = client_keeps && response_framing != http::BodyFraming::until_close;

    std::optional<ReplaceScope> rewrite_response;
    if (has_rules(options.replace, ReplaceScope::response) &&
        response_framing != http::BodyFraming::none) {
      const std::string_view coding =
          http::detail::trim_ows(response.find("content-encoding").value_or(""));
      if (!coding.empty() && !http::detail::iequals(coding, "identity")) {
        flow.notes.push_back("replace skipped: content-encoding " + std::string(coding));
      } else {
        rewrite_response = ReplaceScope::response;
      }
    }
    Transfer out_response;
    out_response.head = std::move(status_line);
    append_end_to_end_fields(out_response.head, response.fields,
                             [](std::string_view) { return false; });
    if (response_framing == http::BodyFraming::none && *response_length)
      out_response.head += "Content-Length: " + std::to_string(**response_length) + "\r\n";
    if (!keep_client) out_response.head += "Connection: close\r\n";
    sent = co_await forward_message(*upstream, client, response_framing, length, rewrite_response,
                                    out_response, flow);
    flow.response_body_bytes = out_response.out;
    if (!sent) {
      if (!out_response.head_sent && !out_response.to_failed) {
        flow.status = 0;
        co_return co_await fail_upstream(flow, started, sent.error(), "response body");
      }
      flow.notes.push_back("response body: " + sent.error().message());
      finish_flow(flow, started);
      co_return After::abort;
    }
    finish_flow(flow, started);
    if (!upstream_keeps) {
      upstream.reset();
      origin.reset();
    }
    co_return keep_client ? After::next_request : After::close;
  }

  // The bytes already read go on first, then both directions are relayed raw.
  Task<void> relay_rest_raw() {
    arm(options.timeouts.idle);
    if (!upstream) {
      std::string stage;
      if (Status s = co_await ensure_upstream(tunnel_origin, stage); !s) {
        log(stage + ": " + s.error().message());
        co_return;
      }
    }
    if (!client.pending.empty()) {
      if (!(co_await send(*upstream, client.pending))) co_return;
      client.pending.clear();
    }
    if (!upstream->pending.empty()) {
      if (!(co_await send(client, upstream->pending))) co_return;
      upstream->pending.clear();
    }
    co_await relay({});
  }

  // Exchange after exchange while both sides keep the connection.
  Task<void> relay_http(bool plain) {
    for (bool first = true;; first = false) {
      const After after = co_await exchange(plain, first);
      if (after == After::next_request) continue;
      if (after == After::raw) co_await relay_rest_raw();
      if (after == After::close) {
        arm(std::chrono::seconds(5));
        (void)co_await close_output(client);
      }
      co_return;
    }
  }

  Task<void> respond_error(int status, std::string_view body) {
    if (status == 504) {
      counters.gateway_timeout.fetch_add(1, std::memory_order_relaxed);
    } else if (status == 502) {
      counters.bad_gateway.fetch_add(1, std::memory_order_relaxed);
    }
    log(std::to_string(status) + " " + std::string(body));
    aborted = false;
    arm(std::chrono::seconds(5));
    const std::string response = error_response(status, body);
    if (client.tls) {
      // Inside an intercepted tunnel: the answer goes through the client's TLS connection.
      const tls::State state = client.tls->state();
      if ((state == tls::State::established || state == tls::State::peer_closed) &&
          co_await send(client, response))
        (void)co_await close_output(client);
      co_return;
    }
    (void)co_await write_raw(client, wire::as_bytes(response));
    error_code ignored;
    client.socket.shutdown(tcp::socket::shutdown_send, ignored);
  }

  Task<void> respond_upstream_failure(const Error& e, std::string_view stage) {
    co_await respond_error(upstream_failure_status(e), std::string(stage) + ": " + e.message());
  }

  // A TCP connection to host:port as `upstream`, within the connect time limit.
  Task<Status> connect_upstream(const std::string& host, std::uint16_t port) {
    const std::string destination = net::format_destination(host, port);
    BW_CO_ASSIGN(std::vector<tcp::endpoint> endpoints,
                 co_await net::resolve(host, port, options.resolve, options.timeouts.connect));
    BW_CO_ASSIGN(tcp::socket socket, co_await net::connect(std::move(endpoints), destination,
                                                           options.timeouts.connect));
    counters.upstream_connections.fetch_add(1, std::memory_order_relaxed);
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
    HandshakeSlot slot(counters, options.max_handshakes);
    if (!slot) {
      const std::string limit = std::to_string(options.max_handshakes);
      log_once(options, counters.logged_handshakes,
               "handshake limit reached (" + limit + " tunnels in their handshakes at once)");
      co_await respond_error(503,
                             "the proxy is busy: " + limit + " tunnels are in their handshakes");
      co_return;
    }
    SteadyClock::time_point setup_start = SteadyClock::now();
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
      setup_start = SteadyClock::now();
      if (Status s = co_await open_upstream_tls(target.host, target.port, server_name, stage); !s) {
        // The 200 is sent: all that is left is to refuse the client's handshake.
        log(stage + ": " + s.error().message() + " (client handshake refused)");
        co_return;
      }
    }

    upstream_setup_ms = ms_since(setup_start);
    tunnel_origin = Origin{true, target.host, target.port, server_name};
    origin = tunnel_origin;
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
    slot.release();
    counters.intercepted.fetch_add(1, std::memory_order_relaxed);
    co_await relay_http(false);
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
        co_await respond_error(431, end.error().message());
        co_return;
      }
      if (*end) {
        head_size = **end;
        break;
      }
      Result<std::size_t> n = co_await read_raw(client, chunk);
      if (!n) {
        if (n.error() == Errc::timed_out && !buffer.empty())
          co_await respond_error(408, "no complete request head in time");
        co_return;
      }
      if (*n == 0) co_return;
      buffer.append(reinterpret_cast<const char*>(chunk.data()), *n);
    }
    Result<http::ProxyRequestHead> head =
        http::parse_proxy_request_head(std::string_view(buffer).substr(0, head_size));
    if (!head) {
      co_await respond_error(400, head.error().message());
      co_return;
    }
    what = head->method + " " + head->target;
    if (!head->is_connect()) {
      // Parsed again by the relay, which serves every request of the connection alike.
      client.pending = std::move(buffer);
      co_await relay_http(true);
      co_return;
    }
    const wire::Bytes early = wire::as_bytes(std::string_view(buffer).substr(head_size));
    Result<http::Authority> target = http::parse_authority(head->target);
    if (!target) {
      co_await respond_error(400, target.error().message());
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
      log_once(options, counters.logged_connections,
               "connection limit reached (" + std::to_string(options.max_connections) +
                   " open at once)");
      continue;  // the socket closes here
    }
    error_code peer_ec;
    const tcp::endpoint peer = socket.remote_endpoint(peer_ec);
    if (counters.rate && !peer_ec &&
        !counters.rate->admit(peer.address(), std::chrono::steady_clock::now())) {
      counters.refused.fetch_add(1, std::memory_order_relaxed);
      log_once(options, counters.logged_rate,
               "connection rate limit reached by " + peer.address().to_string() + " (" +
                   net::format_number(options.connection_rate) + " new connections/s per source)");
      continue;
    }
    counters.open.fetch_add(1, std::memory_order_relaxed);
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
    : options_(std::move(options)), counters_(std::make_unique<Counters>()) {
  if (options_.connection_rate > 0) {
    counters_->rate = std::make_unique<net::SourceRateLimiter>(
        options_.connection_rate, std::max(2 * options_.connection_rate, 10.0), 65536);
  }
}

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
  return ProxyStats{c.accepted.load(),        c.open.load(),
                    c.intercepted.load(),     c.tunnelled.load(),
                    c.plain_http.load(),      c.bad_gateway.load(),
                    c.gateway_timeout.load(), c.refused.load(),
                    c.http_requests.load(),   c.upstream_connections.load()};
}

}  // namespace bulwark::proxy
