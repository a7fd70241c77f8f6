// net::Server over loopback with in-process TLS clients: serving on several workers and on
// IPv4 and IPv6, each limit (connections, handshakes, per-source rate, handshake time) and
// its log line, and the graceful shutdown (close_notify to idle and busy connections, the
// grace period cut). Every wait is bounded.
#include "bulwark/net/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/tls_pair.hpp"

namespace bulwark::net {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

std::string as_string(wire::Bytes b) {
  return std::string(b.begin(), b.end());
}

// Polls `condition` until it holds, at most `limit`.
template <class F>
bool eventually(F condition, std::chrono::milliseconds limit = 5000ms) {
  const auto end = SteadyClock::now() + limit;
  while (SteadyClock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

// Echoes each piece of data as "echo:DATA". "slow" is answered after 300 ms (a response in
// flight); "stuck" makes the handler wait on its socket without saying it is idle.
struct EchoState {
  std::atomic<int> busy{0};
  std::atomic<int> handled{0};
};

Handler echo_handler(EchoState& state) {
  return [&state](TlsStream& s, ConnectionContext& ctx) -> Task<void> {
    ++state.handled;
    for (;;) {
      if (ctx.stopping()) co_return;  // the contract: no new request once stopping
      ctx.set_idle(true);
      s.set_timeout(10s);
      auto view = co_await s.read_view();
      ctx.set_idle(false);
      if (!view || view->empty()) co_return;
      const std::string data = as_string(*view);
      s.consume(view->size());
      if (data == "slow") {
        ++state.busy;
        co_await ctx.sleep_for(300ms);
      } else if (data == "stuck") {
        ++state.busy;
        s.set_timeout(10s);
        (void)co_await s.read_view();
        co_return;
      }
      if (!co_await s.write(wire::as_bytes("echo:" + data))) co_return;
    }
  };
}

// A server running on its own thread, stopped and joined (bounded) at the end of the test.
struct Running {
  test::Pki pki = test::make_pki();
  std::shared_ptr<tls::ServerConfig> server_config = test::server_config(pki);
  std::shared_ptr<tls::ClientConfig> client_config = test::client_config(pki);
  std::unique_ptr<Server> server;
  std::thread thread;
  std::future<void> finished;
  std::mutex log_mu;
  std::vector<std::string> log_lines;

  void start(ServerOptions options, Handler handler) {
    if (options.listen == std::vector<std::string>{"127.0.0.1:8443"})
      options.listen = {"127.0.0.1:0"};
    options.log = [this](std::string_view line) {
      std::lock_guard lock(log_mu);
      log_lines.emplace_back(line);
    };
    auto created = Server::create(std::move(options), server_config, std::move(handler));
    ASSERT_TRUE(created) << created.error().message();
    server = std::move(created).value();
    std::promise<void> done;
    finished = done.get_future();
    thread = std::thread([this, done = std::move(done)]() mutable {
      server->run();
      done.set_value();
    });
  }
  // Stops the server; true when run() returned within `limit`.
  bool stop_and_wait(std::chrono::milliseconds limit = 5000ms) {
    if (!server) return true;
    server->stop();
    const bool in_time = finished.wait_for(limit) == std::future_status::ready;
    if (!in_time) server->force_stop();
    thread.join();
    return in_time;
  }
  ~Running() {
    if (thread.joinable()) stop_and_wait();
  }
  std::size_t log_count(std::string_view needle) {
    std::lock_guard lock(log_mu);
    std::size_t n = 0;
    for (const auto& l : log_lines)
      n += l.find(needle) != std::string::npos;
    return n;
  }
  tcp::endpoint endpoint(std::size_t i = 0) const { return server->endpoints().at(i); }
};

// Runs a client coroutine on its own event loop; false if it did not finish within `limit`.
template <class Make>
bool run_client(Make make, std::chrono::seconds limit = 15s) {
  asio::io_context io;
  bool done = false;
  asio::co_spawn(io, make(io), [&](std::exception_ptr e) {
    done = true;
    if (e) std::rethrow_exception(e);
  });
  io.run_for(limit);
  return done;
}

Task<Result<TlsStream>> connect_tls(asio::io_context& io, tcp::endpoint where,
                                    std::shared_ptr<const tls::ClientConfig> config) {
  tcp::socket socket(io);
  boost::system::error_code ec;
  co_await socket.async_connect(where, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return Error(Errc::io_error, ec.message());
  TlsStream stream(std::move(socket), tls::Connection::client(config, "leaf.example.com").value());
  stream.set_timeout(5s);
  BW_CO_TRY(co_await stream.handshake());
  co_return stream;
}

// Sends `text` and returns the answer (one read).
Task<Result<std::string>> ask(TlsStream& s, std::string_view text) {
  s.set_timeout(5s);
  BW_CO_TRY(co_await s.write(wire::as_bytes(text)));
  BW_CO_ASSIGN(const wire::Bytes view, co_await s.read_view());
  std::string answer = as_string(view);
  s.consume(view.size());
  co_return answer;
}

// Reads until the end of the stream: true for a clean end (close_notify).
Task<Result<bool>> clean_end(TlsStream& s, std::chrono::milliseconds limit = 5000ms) {
  s.set_timeout(limit);
  for (;;) {
    BW_CO_ASSIGN(const wire::Bytes view, co_await s.read_view());
    if (view.empty()) co_return true;
    s.consume(view.size());
  }
}

TEST(NetServer, ParsesListenAddresses) {
  auto v4 = parse_listen_address("127.0.0.1:8443");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->port(), 8443);
  EXPECT_EQ(format_endpoint(*v4), "127.0.0.1:8443");
  auto v6 = parse_listen_address("[::1]:443");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->address().is_v6());
  EXPECT_EQ(format_endpoint(*v6), "[::1]:443");
  EXPECT_EQ(format_endpoint(parse_listen_address("localhost:0").value()), "127.0.0.1:0");
  EXPECT_EQ(format_endpoint(parse_listen_address("*:80").value()), "0.0.0.0:80");
  for (const char* bad : {"127.0.0.1", "::1:443", "[::1]443", "[::1", "127.0.0.1:65536",
                          "127.0.0.1:-1", "127.0.0.1:", "example.org:443", "1.2.3.4:8x"}) {
    auto r = parse_listen_address(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code(), Errc::invalid_argument) << bad;
    }
  }
}

TEST(NetServer, RateLimiterBucketsPerSourceNetwork) {
  SourceRateLimiter limiter(/*rate=*/2, /*burst=*/3, /*max_sources=*/4);
  const auto t0 = SteadyClock::now();
  const auto a = asio::ip::make_address("192.0.2.1");
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(limiter.admit(a, t0)) << i;
  EXPECT_FALSE(limiter.admit(a, t0));
  // Another IPv4 host has its own bucket; the IPv4-mapped form is the same host.
  EXPECT_TRUE(limiter.admit(asio::ip::make_address("192.0.2.2"), t0));
  EXPECT_FALSE(limiter.admit(asio::ip::make_address("::ffff:192.0.2.1"), t0));
  // 2 tokens per second: one after half a second, not two.
  EXPECT_TRUE(limiter.admit(a, t0 + 500ms));
  EXPECT_FALSE(limiter.admit(a, t0 + 500ms));
  // Refill never exceeds the burst.
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(limiter.admit(a, t0 + 100s)) << i;
  EXPECT_FALSE(limiter.admit(a, t0 + 100s));
  // One IPv6 /64 is one source.
  const auto b1 = asio::ip::make_address("2001:db8:1:2::1");
  const auto b2 = asio::ip::make_address("2001:db8:1:2:ffff::9");
  const auto other = asio::ip::make_address("2001:db8:1:3::1");
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(limiter.admit(i % 2 == 0 ? b1 : b2, t0));
  EXPECT_FALSE(limiter.admit(b2, t0));
  EXPECT_TRUE(limiter.admit(other, t0));
  // The table stays bounded.
  for (int i = 0; i < 100; ++i)
    (void)limiter.admit(asio::ip::make_address_v4(0x0a000000u + static_cast<unsigned>(i)), t0);
  EXPECT_LE(limiter.tracked(), 4u);
  // Rate 0: no limit at all.
  SourceRateLimiter off(0, 1, 1);
  for (int i = 0; i < 50; ++i)
    EXPECT_TRUE(off.admit(a, t0));
}

TEST(NetServer, EchoesOnSeveralWorkersOverIPv4AndIPv6) {
  EchoState state;
  Running r;
  ServerOptions options;
  options.listen = {"127.0.0.1:0", "[::1]:0"};
  options.workers = 2;
  r.start(options, echo_handler(state));
  ASSERT_EQ(r.server->endpoints().size(), 2u);
  EXPECT_NE(r.endpoint(0).port(), 0);
  EXPECT_TRUE(r.endpoint(1).address().is_v6());
  EXPECT_EQ(r.server->workers(), 2u);
  int answered = 0;
  auto client = [&](asio::io_context& io) -> Task<void> {
    for (int i = 0; i < 8; ++i) {
      auto s = co_await connect_tls(io, r.endpoint(i % 2), r.client_config);
      EXPECT_TRUE(s) << s.error().message();
      if (!s) co_return;
      auto answer = co_await ask(*s, "ping" + std::to_string(i));
      EXPECT_TRUE(answer);
      if (answer && *answer == "echo:ping" + std::to_string(i)) ++answered;
      EXPECT_TRUE(co_await s->shutdown());
      auto end = co_await clean_end(*s);
      EXPECT_TRUE(end && *end);
    }
  };
  ASSERT_TRUE(run_client(client));
  EXPECT_EQ(answered, 8);
  EXPECT_TRUE(eventually([&] { return r.server->stats().open == 0; }));
  const ServerStats stats = r.server->stats();
  EXPECT_EQ(stats.handshakes_completed, 8u);
  EXPECT_EQ(stats.handshakes_failed, 0u);
  EXPECT_TRUE(r.stop_and_wait());
}

TEST(NetServer, ConnectionLimitClosesExtraConnectionsAndSaysSoOnce) {
  EchoState state;
  Running r;
  ServerOptions options;
  options.workers = 2;
  options.limits.max_connections = 2;
  r.start(options, echo_handler(state));
  int refused = 0;
  bool served_after = false;
  auto client = [&](asio::io_context& io) -> Task<void> {
    auto a = co_await connect_tls(io, r.endpoint(), r.client_config);
    auto b = co_await connect_tls(io, r.endpoint(), r.client_config);
    EXPECT_TRUE(a && b);
    if (!a || !b) co_return;
    for (int i = 0; i < 3; ++i) {
      auto extra = co_await connect_tls(io, r.endpoint(), r.client_config);
      if (!extra) ++refused;
    }
    // Once one closes, a new connection is served again.
    EXPECT_TRUE(co_await a->shutdown());
    (void)co_await clean_end(*a);
    a->close();
    EXPECT_TRUE(eventually([&] { return r.server->stats().open == 1; }));
    auto c = co_await connect_tls(io, r.endpoint(), r.client_config);
    if (c) {
      auto answer = co_await ask(*c, "again");
      served_after = answer && *answer == "echo:again";
    }
  };
  ASSERT_TRUE(run_client(client));
  EXPECT_EQ(refused, 3);
  EXPECT_TRUE(served_after);
  EXPECT_EQ(r.server->stats().refused_connections, 3u);
  EXPECT_EQ(r.log_count("connection limit reached (2)"), 1u);
  EXPECT_TRUE(r.stop_and_wait());
}

TEST(NetServer, HandshakeLimitClosesConnectionsBeyondIt) {
  EchoState state;
  Running r;
  ServerOptions options;
  options.workers = 2;
  options.limits.max_handshakes = 1;
  r.start(options, echo_handler(state));
  bool second_refused = false;
  bool third_served = false;
  auto client = [&](asio::io_context& io) -> Task<void> {
    // A peer that connects and says nothing holds the only handshake slot.
    tcp::socket silent(io);
    co_await silent.async_connect(r.endpoint(), asio::use_awaitable);
    EXPECT_TRUE(eventually([&] { return r.server->stats().handshaking == 1; }));
    auto second = co_await connect_tls(io, r.endpoint(), r.client_config);
    second_refused = !second;
    silent.close();
    EXPECT_TRUE(eventually([&] { return r.server->stats().handshaking == 0; }));
    auto third = co_await connect_tls(io, r.endpoint(), r.client_config);
    if (third) {
      auto answer = co_await ask(*third, "hi");
      third_served = answer && *answer == "echo:hi";
    }
  };
  ASSERT_TRUE(run_client(client));
  EXPECT_TRUE(second_refused);
  EXPECT_TRUE(third_served);
  EXPECT_EQ(r.server->stats().refused_handshakes, 1u);
  EXPECT_EQ(r.log_count("handshake limit reached (1 at once)"), 1u);
  EXPECT_TRUE(r.stop_and_wait());
}

TEST(NetServer, PerSourceRateLimitRefusesAFlood) {
  EchoState state;
  Running r;
  ServerOptions options;
  options.workers = 2;
  options.limits.handshake_rate = 0.01;
  options.limits.handshake_burst = 3;
  r.start(options, echo_handler(state));
  int served = 0;
  int refused = 0;
  auto client = [&](asio::io_context& io) -> Task<void> {
    for (int i = 0; i < 6; ++i) {
      auto s = co_await connect_tls(io, r.endpoint(), r.client_config);
      if (s) {
        ++served;
      } else {
        ++refused;
      }
    }
  };
  ASSERT_TRUE(run_client(client));
  EXPECT_EQ(served, 3);
  EXPECT_EQ(refused, 3);
  EXPECT_EQ(r.server->stats().refused_rate, 3u);
  EXPECT_EQ(r.log_count("handshake rate limit reached by 127.0.0.1"), 1u);
  EXPECT_TRUE(r.stop_and_wait());
}

TEST(NetServer, SilentPeerIsClosedAfterTheHandshakeTimeout) {
  EchoState state;
  Running r;
  ServerOptions options;
  options.workers = 1;
  options.limits.handshake_timeout = 300ms;
  r.start(options, echo_handler(state));
  std::chrono::steady_clock::duration took{};
  bool closed = false;
  auto client = [&](asio::io_context& io) -> Task<void> {
    tcp::socket silent(io);
    co_await silent.async_connect(r.endpoint(), asio::use_awaitable);
    const auto started = SteadyClock::now();
    std::uint8_t byte;
    boost::system::error_code ec;
    (void)co_await silent.async_read_some(asio::buffer(&byte, 1),
                                          asio::redirect_error(asio::use_awaitable, ec));
    closed = ec == asio::error::eof || ec == asio::error::connection_reset;
    took = SteadyClock::now() - started;
  };
  ASSERT_TRUE(run_client(client));
  EXPECT_TRUE(closed);
  EXPECT_LT(took, 3s);
  EXPECT_GE(took, 250ms);
  EXPECT_TRUE(eventually([&] { return r.server->stats().handshakes_failed == 1; }));
  EXPECT_EQ(state.handled.load(), 0);
  EXPECT_TRUE(r.stop_and_wait());
}

TEST(NetServer, ShutdownSendsCloseNotifyToIdleAndBusyConnections) {
  EchoState state;
  Running r;
  ServerOptions options;
  options.workers = 2;
  r.start(options, echo_handler(state));
  std::atomic<int> ready{0};
  std::optional<bool> idle_clean;
  std::optional<bool> busy_clean;
  std::string busy_answer;
  std::thread stopper([&] {
    // Both connections are up, and the busy one's request is being worked on.
    EXPECT_TRUE(eventually([&] { return ready.load() == 1 && state.busy.load() == 1; }));
    r.server->stop();
  });
  auto client = [&](asio::io_context& io) -> Task<void> {
    auto idle = co_await connect_tls(io, r.endpoint(), r.client_config);
    auto busy = co_await connect_tls(io, r.endpoint(), r.client_config);
    EXPECT_TRUE(idle && busy);
    if (!idle || !busy) co_return;
    auto first = co_await ask(*idle, "hello");
    EXPECT_TRUE(first && *first == "echo:hello");
    ++ready;
    busy->set_timeout(5s);
    EXPECT_TRUE(co_await busy->write(wire::as_bytes("slow")));
    // The response in flight arrives, then close_notify.
    auto view = co_await busy->read_view();
    if (view) {
      busy_answer = as_string(*view);
      busy->consume(view->size());
    }
    auto busy_end = co_await clean_end(*busy);
    busy_clean = busy_end && *busy_end;
    auto idle_end = co_await clean_end(*idle);
    idle_clean = idle_end && *idle_end;
  };
  const bool client_done = run_client(client);
  stopper.join();
  ASSERT_TRUE(client_done);
  EXPECT_EQ(busy_answer, "echo:slow");
  EXPECT_EQ(busy_clean, std::optional<bool>(true));
  EXPECT_EQ(idle_clean, std::optional<bool>(true));
  const auto stop_started = SteadyClock::now();
  EXPECT_TRUE(r.stop_and_wait(3000ms));
  EXPECT_LT(SteadyClock::now() - stop_started, 3s);
}

TEST(NetServer, GracePeriodCutsConnectionsThatDoNotFinish) {
  EchoState state;
  Running r;
  ServerOptions options;
  options.workers = 1;
  options.limits.shutdown_grace = 300ms;
  r.start(options, echo_handler(state));
  std::optional<Error> end_error;
  auto client = [&](asio::io_context& io) -> Task<void> {
    auto s = co_await connect_tls(io, r.endpoint(), r.client_config);
    EXPECT_TRUE(s);
    if (!s) co_return;
    EXPECT_TRUE(co_await s->write(wire::as_bytes("stuck")));
    EXPECT_TRUE(eventually([&] { return state.busy.load() == 1; }));
    r.server->stop();
    auto end = co_await clean_end(*s, 5000ms);
    if (!end) end_error = end.error();
  };
  const auto started = SteadyClock::now();
  ASSERT_TRUE(run_client(client));
  // Cut without close_notify: the client sees the TCP end as a truncation.
  ASSERT_TRUE(end_error.has_value());
  EXPECT_EQ(end_error->code(), Errc::truncated_connection) << end_error->message();
  EXPECT_TRUE(r.stop_and_wait(3000ms));
  EXPECT_LT(SteadyClock::now() - started, 4s);
  EXPECT_EQ(r.log_count("grace period over"), 1u);
}

TEST(NetServer, RefusesToStartWithoutCertificateOrOnABadAddress) {
  EchoState state;
  auto empty = std::make_shared<tls::ServerConfig>();
  EXPECT_FALSE(Server::create(ServerOptions{}, empty, echo_handler(state)));
  const test::Pki pki = test::make_pki();
  ServerOptions bad;
  bad.listen = {"256.1.1.1:0"};
  auto r = Server::create(bad, test::server_config(pki), echo_handler(state));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::invalid_argument);
  // A port another socket holds without SO_REUSEPORT cannot be shared.
  asio::io_context io;
  tcp::acceptor holder(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  ServerOptions taken;
  taken.listen = {format_endpoint(holder.local_endpoint())};
  auto t = Server::create(taken, test::server_config(pki), echo_handler(state));
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code(), Errc::io_error);
}

}  // namespace
}  // namespace bulwark::net
