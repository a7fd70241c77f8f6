// proxy::Proxy over loopback: an upstream net::Server (echo), the proxy, and in-process
// clients that send CONNECT and then run TLS with the proxy's minted certificate. Covers the
// intercepted round trip (keep-alive), the minted certificate's issuer and names, each refused
// upstream (wrong name, unknown CA, expired, refused connection) as a 502 naming the reason,
// passthrough (the upstream's own certificate), a non-TLS tunnel, a bad request, concurrent
// tunnels, the absolute-form plain-HTTP request, and the HTTP relay in a tunnel (keep-alive
// on both sides, rewriting, flow lines, an upstream that closes without a response). Every
// wait is bounded.
#include "bulwark/proxy/proxy.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include <unistd.h>

#include "bulwark/net/server.hpp"
#include "bulwark/net/tls_stream.hpp"
#include "support/pki.hpp"
#include "support/tls_pair.hpp"

namespace bulwark::proxy {
namespace {

using namespace std::chrono_literals;
using boost::system::error_code;
using net::Task;

std::string as_string(wire::Bytes b) {
  return std::string(b.begin(), b.end());
}

// Echoes each piece of data as "echo:DATA".
net::Handler echo_handler() {
  return [](net::TlsStream& s, net::ConnectionContext& ctx) -> Task<void> {
    for (;;) {
      ctx.set_idle(true);
      s.set_timeout(10s);
      auto view = co_await s.read_view();
      ctx.set_idle(false);
      if (!view || view->empty()) co_return;
      const std::string data = as_string(*view);
      s.consume(view->size());
      if (!co_await s.write(wire::as_bytes("echo:" + data))) co_return;
    }
  };
}

// A server of any kind (net::Server or Proxy) on its own thread.
template <class S>
struct Background {
  std::unique_ptr<S> server;
  std::thread thread;
  void start(std::unique_ptr<S> s) {
    server = std::move(s);
    thread = std::thread([this] { server->run(); });
  }
  ~Background() {
    if (server) server->stop();
    if (thread.joinable()) thread.join();
  }
};

struct ProxyFixture : ::testing::Test {
  test::Pki pki = test::make_pki({.leaf = {.common_name = "leaf.example.com",
                                           .dns_names = {"leaf.example.com", "alt.example.com"}}});
  test::Issued proxy_ca = test::make_root("Proxy Test CA");
  Background<net::Server> upstream;
  Background<Proxy> proxy;
  std::uint16_t upstream_port = 0;
  tcp::endpoint proxy_endpoint;
  std::mutex log_mu;
  std::vector<std::string> log_lines;
  ProxyTimeouts timeouts{.request_head = 3s, .connect = 3s, .handshake = 3s, .idle = 5s};
  std::vector<ReplaceRule> replace;
  std::shared_ptr<FlowLog> flow_log;

  void start_upstream(std::shared_ptr<tls::ServerConfig> config = nullptr,
                      net::Handler handler = echo_handler()) {
    net::ServerOptions o;
    o.listen = {"127.0.0.1:0"};
    o.workers = 1;
    o.log = [](std::string_view) {};
    auto s = net::Server::create(o, config ? config : test::server_config(pki), std::move(handler));
    ASSERT_TRUE(s) << s.error().message();
    upstream_port = (*s)->endpoints().front().port();
    upstream.start(std::move(s).value());
  }

  // The proxy trusts `upstream_anchor` (default: the test PKI's root) and resolves every
  // *.example.com name used here to loopback.
  void start_proxy(std::vector<std::string> passthrough = {},
                   const crypto::Certificate* upstream_anchor = nullptr, unsigned workers = 1) {
    MinterOptions m;
    m.ca_cert = proxy_ca.cert;
    m.ca_key = proxy_ca.key;
    ProxyOptions o;
    o.listen = {"127.0.0.1:0"};
    o.workers = workers;
    o.minter = test::must(CertificateMinter::create(std::move(m)), "minter");
    auto upstream_config = std::make_shared<tls::ClientConfig>();
    const std::vector<crypto::Certificate> anchors{upstream_anchor ? *upstream_anchor
                                                                   : pki.root.cert};
    upstream_config->trust = test::must(crypto::TrustStore::from_certificates(anchors), "store");
    o.upstream = upstream_config;
    o.passthrough = std::move(passthrough);
    for (const char* name : {"leaf.example.com", "alt.example.com", "wrong.example.com"})
      o.resolve.push_back(
          test::must(net::parse_resolve_override(std::string(name) + ":" +
                                                 std::to_string(upstream_port) + ":127.0.0.1"),
                     "resolve"));
    o.timeouts = timeouts;
    o.replace = replace;
    o.flow_log = flow_log;
    o.log = [this](std::string_view line) {
      std::lock_guard lock(log_mu);
      log_lines.emplace_back(line);
    };
    auto p = Proxy::create(std::move(o));
    ASSERT_TRUE(p) << p.error().message();
    proxy_endpoint = (*p)->endpoints().front();
    proxy.start(std::move(p).value());
  }

  bool logged(std::string_view needle) {
    std::lock_guard lock(log_mu);
    for (const std::string& l : log_lines)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }

  std::shared_ptr<tls::ClientConfig> client_trusting(const crypto::Certificate& anchor) {
    auto cfg = std::make_shared<tls::ClientConfig>();
    const std::vector<crypto::Certificate> anchors{anchor};
    cfg->trust = test::must(crypto::TrustStore::from_certificates(anchors), "store");
    return cfg;
  }
};

// Polls until `value()` is 0, at most 5 s.
template <class F>
bool eventually_zero(F value) {
  const auto end = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < end) {
    if (value() == 0) return true;
    std::this_thread::sleep_for(5ms);
  }
  return value() == 0;
}

// Runs `body` as a coroutine on a fresh io_context, at most `limit`; false on timeout.
template <class Body>
bool run_client(Body body, std::chrono::seconds limit = 20s) {
  asio::io_context io;
  std::atomic<bool> done{false};
  asio::co_spawn(io, body(io), [&](std::exception_ptr e) {
    done = true;
    if (e) std::rethrow_exception(e);
  });
  io.run_for(limit);
  return done;
}

struct ConnectReply {
  tcp::socket socket;
  std::string head;  // the proxy's response head (and body, for a refusal: read to the end)
};

// Sends "CONNECT target" and reads the response head (everything, when it is not a 200).
Task<Result<ConnectReply>> send_connect(asio::io_context& io, tcp::endpoint proxy,
                                        std::string request) {
  tcp::socket socket(io);
  error_code ec;
  co_await socket.async_connect(proxy, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return Error(Errc::io_error, ec.message());
  co_await asio::async_write(socket, asio::buffer(request),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return Error(Errc::io_error, ec.message());
  std::string head;
  // Byte by byte, so that nothing after the head is taken from the socket.
  while (head.find("\r\n\r\n") == std::string::npos) {
    char c;
    const std::size_t n = co_await socket.async_read_some(
        asio::buffer(&c, 1), asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) co_return Error(Errc::io_error, "proxy closed: " + head);
    head.push_back(c);
  }
  if (!head.starts_with("HTTP/1.1 200")) {
    std::array<char, 4096> buf;
    for (;;) {
      const std::size_t n = co_await socket.async_read_some(
          asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
      if (ec || n == 0) break;
      head.append(buf.data(), n);
    }
  }
  co_return ConnectReply{std::move(socket), std::move(head)};
}

std::string connect_request(std::string_view authority) {
  return "CONNECT " + std::string(authority) + " HTTP/1.1\r\nHost: " + std::string(authority) +
         "\r\n\r\n";
}

// CONNECT, TLS through the tunnel for `name`, then each message echoed on one connection.
Task<Result<std::vector<crypto::Certificate>>> tunnel_echo(asio::io_context& io,
                                                           tcp::endpoint proxy,
                                                           std::string authority, std::string name,
                                                           std::shared_ptr<tls::ClientConfig> trust,
                                                           int messages, std::string* failure) {
  BW_CO_ASSIGN(ConnectReply reply, co_await send_connect(io, proxy, connect_request(authority)));
  if (!reply.head.starts_with("HTTP/1.1 200")) {
    *failure = reply.head;
    co_return Error(Errc::io_error, "CONNECT refused");
  }
  BW_CO_ASSIGN(tls::Connection conn, tls::Connection::client(trust, name));
  net::TlsStream stream(std::move(reply.socket), std::move(conn));
  stream.set_timeout(10s);
  BW_CO_TRY(co_await stream.handshake());
  for (int i = 0; i < messages; ++i) {
    const std::string msg = "message " + std::to_string(i);
    BW_CO_TRY(co_await stream.write(wire::as_bytes(msg)));
    std::string got;
    while (got.size() < msg.size() + 5) {
      BW_CO_ASSIGN(wire::Bytes view, co_await stream.read_view());
      if (view.empty()) co_return Error(Errc::truncated, "closed after " + got);
      got += as_string(view);
      stream.consume(view.size());
    }
    if (got != "echo:" + msg) co_return Error(Errc::decode_failed, "got " + got);
  }
  (void)co_await stream.shutdown();
  co_return stream.connection().info().peer_certificates;
}

// An HTTP/1.1 upstream: each request answered with "TARGET|BODY" (Content-Length bodies), on
// one connection while the client keeps it. A request for /drop is answered by closing.
net::Handler http_echo_handler() {
  return [](net::TlsStream& s, net::ConnectionContext& ctx) -> Task<void> {
    std::string in;
    for (;;) {
      std::size_t end;
      while ((end = in.find("\r\n\r\n")) == std::string::npos) {
        ctx.set_idle(true);
        s.set_timeout(10s);
        auto view = co_await s.read_view();
        ctx.set_idle(false);
        if (!view || view->empty()) co_return;
        in += as_string(*view);
        s.consume(view->size());
      }
      const std::string head = in.substr(0, end + 4);
      in.erase(0, end + 4);
      const std::size_t sp = head.find(' ');
      const std::string target = head.substr(sp + 1, head.find(' ', sp + 1) - sp - 1);
      if (target == "/drop") co_return;
      if (head.find("\r\nUpgrade: echo\r\n") != std::string::npos) {
        // RFC 9110 §7.8: after the 101 the connection carries the new protocol.
        static constexpr std::string_view switching =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\n";
        if (!co_await s.write(wire::as_bytes(switching))) co_return;
        co_await echo_handler()(s, ctx);
        co_return;
      }
      std::size_t length = 0;
      if (const std::size_t cl = head.find("Content-Length: "); cl != std::string::npos)
        length = std::stoul(head.substr(cl + 16));
      while (in.size() < length) {
        auto view = co_await s.read_view();
        if (!view || view->empty()) co_return;
        in += as_string(*view);
        s.consume(view->size());
      }
      const std::string body = target + "|" + in.substr(0, length);
      in.erase(0, length);
      const std::string response =
          "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
      if (!co_await s.write(wire::as_bytes(response))) co_return;
    }
  };
}

// Through a CONNECT tunnel with TLS: each request in turn, and the response head and body
// (Content-Length framed, or until the end) that came back for it.
Task<Result<std::vector<std::string>>> http_through_tunnel(asio::io_context& io,
                                                           tcp::endpoint proxy,
                                                           std::string authority, std::string name,
                                                           std::shared_ptr<tls::ClientConfig> trust,
                                                           std::vector<std::string> requests) {
  BW_CO_ASSIGN(ConnectReply reply, co_await send_connect(io, proxy, connect_request(authority)));
  if (!reply.head.starts_with("HTTP/1.1 200"))
    co_return Error(Errc::io_error, "CONNECT refused: " + reply.head);
  BW_CO_ASSIGN(tls::Connection conn, tls::Connection::client(trust, name));
  net::TlsStream stream(std::move(reply.socket), std::move(conn));
  stream.set_timeout(10s);
  BW_CO_TRY(co_await stream.handshake());
  std::vector<std::string> responses;
  std::string in;
  for (const std::string& request : requests) {
    BW_CO_TRY(co_await stream.write(wire::as_bytes(request)));
    std::size_t need = std::string::npos;
    for (;;) {
      const std::size_t end = in.find("\r\n\r\n");
      if (end != std::string::npos && need == std::string::npos) {
        const std::size_t cl = in.find("Content-Length: ");
        need = end + 4 + (cl < end ? std::stoul(in.substr(cl + 16)) : 0);
      }
      if (need != std::string::npos && in.size() >= need) break;
      BW_CO_ASSIGN(wire::Bytes view, co_await stream.read_view());
      if (view.empty()) break;
      in += as_string(view);
      stream.consume(view.size());
    }
    const std::size_t take = std::min(need, in.size());
    responses.push_back(in.substr(0, take));
    in.erase(0, take);
  }
  co_return responses;
}

// The responses to `requests` sent through an intercepted tunnel to `authority` (SNI
// leaf.example.com, trusting the proxy CA); empty, with the reason in `failure`, on failure.
std::vector<std::string> through_tunnel(ProxyFixture& f, const std::string& authority,
                                        const std::vector<std::string>& requests,
                                        std::string& failure) {
  std::vector<std::string> responses;
  EXPECT_TRUE(run_client([&](asio::io_context& io) -> Task<void> {
    auto r = co_await http_through_tunnel(io, f.proxy_endpoint, authority, "leaf.example.com",
                                          f.client_trusting(f.proxy_ca.cert), requests);
    if (r) {
      responses = *r;
    } else {
      failure = r.error().message();
    }
  }));
  return responses;
}

TEST_F(ProxyFixture, RelaysHttpKeepAliveRewritesAndLogsFlows) {
  start_upstream(nullptr, http_echo_handler());
  const auto path = std::filesystem::temp_directory_path() /
                    ("bulwark_engine_flows_" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(path);
  flow_log = test::must(FlowLog::open(path.string()), "flow log");
  replace = {test::must(parse_replace_rule("request:cats:dogs"), "rule"),
             test::must(parse_replace_rule("response|dogs|DOGS"), "rule")};
  start_proxy();
  const std::string host = "leaf.example.com:" + std::to_string(upstream_port);
  std::vector<std::string> responses;
  std::string failure;
  const std::vector<std::string> requests{
      "GET /q?cats HTTP/1.1\r\nHost: " + host +
          "\r\nConnection: keep-alive, X-Hop\r\n"
          "X-Hop: 1\r\n\r\n",
      "POST /p HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 9\r\n\r\ncats cats",
      "GET /last HTTP/1.1\r\nHost: " + host + "\r\n\r\n"};
  responses = through_tunnel(*this, host, requests, failure);
  ASSERT_EQ(responses.size(), 3u) << failure;
  EXPECT_TRUE(responses[0].ends_with("\r\n\r\n/q?DOGS|")) << responses[0];
  // The body was rewritten twice (request, then response) and its length recomputed.
  EXPECT_TRUE(responses[1].ends_with("\r\nContent-Length: 12\r\n\r\n/p|DOGS DOGS")) << responses[1];
  EXPECT_TRUE(responses[2].ends_with("/last|")) << responses[2];
  // The proxy counts (and logs) an exchange right after its last byte went to the client.
  EXPECT_TRUE(eventually_zero([&] { return 3 - proxy.server->stats().http_requests; }));
  EXPECT_EQ(proxy.server->stats().upstream_connections, 1u);  // keep-alive upstream too
  proxy.server->stop();
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("\"url\":\"https://leaf.example.com:" + std::to_string(upstream_port) +
                          "/q?dogs\""),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("\"status\":200"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("\"upstream_connect_ms\":null"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("\"request_bytes\":9,\"response_bytes\":12"), std::string::npos)
      << lines[1];
  EXPECT_NE(lines[2].find("\"upstream_connect_ms\":null"), std::string::npos) << lines[2];
  std::filesystem::remove(path);
}

TEST_F(ProxyFixture, UpstreamClosingWithoutAResponseIsA502InTheTunnel) {
  start_upstream(nullptr, http_echo_handler());
  start_proxy();
  const std::string host = "leaf.example.com:" + std::to_string(upstream_port);
  std::vector<std::string> responses;
  std::string failure;
  const auto started = std::chrono::steady_clock::now();
  const std::vector<std::string> requests{"GET /ok HTTP/1.1\r\nHost: " + host + "\r\n\r\n",
                                          "GET /drop HTTP/1.1\r\nHost: " + host + "\r\n\r\n"};
  responses = through_tunnel(*this, host, requests, failure);
  ASSERT_EQ(responses.size(), 2u) << failure;
  EXPECT_TRUE(responses[0].ends_with("/ok|")) << responses[0];
  EXPECT_TRUE(responses[1].starts_with("HTTP/1.1 502 Bad Gateway\r\n")) << responses[1];
  EXPECT_NE(responses[1].find("no response"), std::string::npos) << responses[1];
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
  EXPECT_EQ(proxy.server->stats().bad_gateway, 1u);
}

TEST_F(ProxyFixture, RefusesRequestSmugglingFramingInTheTunnel) {
  start_upstream(nullptr, http_echo_handler());
  start_proxy();
  const std::string host = "leaf.example.com:" + std::to_string(upstream_port);
  for (const auto& [framing, status] : std::vector<std::pair<std::string, std::string>>{
           {"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "HTTP/1.1 400 "},
           {"Transfer-Encoding: gzip, chunked\r\n", "HTTP/1.1 501 "},
           {"Content-Length: 3\r\nContent-Length: 4\r\n", "HTTP/1.1 400 "}}) {
    const std::vector<std::string> requests{"POST /x HTTP/1.1\r\nHost: " + host + "\r\n" + framing +
                                            "\r\n0\r\n\r\n"};
    std::vector<std::string> responses;
    std::string failure;
    responses = through_tunnel(*this, host, requests, failure);
    ASSERT_EQ(responses.size(), 1u) << failure;
    // RFC 9112 §6.1 / §6.3: answered by the proxy, never forwarded, and the connection closed.
    EXPECT_TRUE(responses[0].starts_with(status)) << framing << responses[0];
    EXPECT_NE(responses[0].find("Connection: close"), std::string::npos) << responses[0];
  }
  EXPECT_EQ(proxy.server->stats().upstream_connections, 3u);  // only the CONNECT checks
}

// Sends `request`, reads the response head, then sends `after` raw and reads `expect` back.
Task<Result<std::string>> upgrade_through_tunnel(asio::io_context& io, tcp::endpoint proxy,
                                                 std::string authority,
                                                 std::shared_ptr<tls::ClientConfig> trust,
                                                 std::string request, std::string after,
                                                 std::size_t expect) {
  BW_CO_ASSIGN(ConnectReply reply, co_await send_connect(io, proxy, connect_request(authority)));
  if (!reply.head.starts_with("HTTP/1.1 200"))
    co_return Error(Errc::io_error, "CONNECT refused: " + reply.head);
  BW_CO_ASSIGN(tls::Connection conn, tls::Connection::client(trust, "leaf.example.com"));
  net::TlsStream stream(std::move(reply.socket), std::move(conn));
  stream.set_timeout(10s);
  BW_CO_TRY(co_await stream.handshake());
  BW_CO_TRY(co_await stream.write(wire::as_bytes(request)));
  std::string in;
  while (in.find("\r\n\r\n") == std::string::npos) {
    BW_CO_ASSIGN(wire::Bytes view, co_await stream.read_view());
    if (view.empty()) co_return Error(Errc::truncated, "closed after " + in);
    in += as_string(view);
    stream.consume(view.size());
  }
  BW_CO_TRY(co_await stream.write(wire::as_bytes(after)));
  while (in.size() < expect) {
    BW_CO_ASSIGN(wire::Bytes view, co_await stream.read_view());
    if (view.empty()) co_return Error(Errc::truncated, "closed after " + in);
    in += as_string(view);
    stream.consume(view.size());
  }
  co_return in;
}

TEST_F(ProxyFixture, RelaysRawAfterSwitchingProtocols) {
  start_upstream(nullptr, http_echo_handler());
  start_proxy();
  const std::string host = "leaf.example.com:" + std::to_string(upstream_port);
  const std::string request =
      "GET /ws HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n";
  const std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\n";
  // Not HTTP: after the 101 these bytes must reach the upstream as they are.
  const std::string after = "GARBAGE\r\n\r\n not a request";
  Result<std::string> got = Error(Errc::timed_out, "client did not finish");
  ASSERT_TRUE(run_client([&](asio::io_context& io) -> Task<void> {
    got = co_await upgrade_through_tunnel(io, proxy_endpoint, host, client_trusting(proxy_ca.cert),
                                          request, after, head.size() + 5 + after.size());
  }));
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, head + "echo:" + after);
  EXPECT_TRUE(eventually_zero([&] { return 1 - proxy.server->stats().http_requests; }));
}

TEST_F(ProxyFixture, InterceptsWithAMintedCertificate) {
  start_upstream();
  start_proxy();
  std::string failure;
  Result<std::vector<crypto::Certificate>> chain = Error(Errc::closed);
  ASSERT_TRUE(run_client([&](asio::io_context& io) -> Task<void> {
    chain = co_await tunnel_echo(io, proxy_endpoint,
                                 "leaf.example.com:" + std::to_string(upstream_port),
                                 "leaf.example.com", client_trusting(proxy_ca.cert), 5, &failure);
  }));
  ASSERT_TRUE(chain) << chain.error().message() << " " << failure;
  ASSERT_FALSE(chain->empty());
  const crypto::Certificate& leaf = chain->front();
  // Issued by the proxy CA, with the upstream leaf's names copied.
  EXPECT_EQ(leaf.issuer(), proxy_ca.cert.subject());
  EXPECT_EQ(leaf.common_name(), "leaf.example.com");
  EXPECT_EQ(leaf.dns_names(), (std::vector<std::string>{"alt.example.com", "leaf.example.com"}));
  EXPECT_EQ(proxy.server->stats().intercepted, 1u);
}

TEST_F(ProxyFixture, SniOtherThanTheConnectHostIsVerifiedUpstream) {
  start_upstream();
  start_proxy();
  std::string failure;
  Result<std::vector<crypto::Certificate>> chain = Error(Errc::closed);
  ASSERT_TRUE(run_client([&](asio::io_context& io) -> Task<void> {
    chain = co_await tunnel_echo(io, proxy_endpoint,
                                 "leaf.example.com:" + std::to_string(upstream_port),
                                 "alt.example.com", client_trusting(proxy_ca.cert), 1, &failure);
  }));
  ASSERT_TRUE(chain) << chain.error().message() << " " << failure;
  EXPECT_EQ(chain->front().issuer(), proxy_ca.cert.subject());
}

// The refusal for a CONNECT to `authority`: the response head and body.
std::string refusal(ProxyFixture& f, const std::string& authority) {
  std::string text;
  EXPECT_TRUE(run_client([&](asio::io_context& io) -> Task<void> {
    auto reply = co_await send_connect(io, f.proxy_endpoint, connect_request(authority));
    text = reply ? reply->head : reply.error().message();
  }));
  return text;
}

TEST_F(ProxyFixture, WrongNameIsA502WithTheReason) {
  start_upstream();
  start_proxy();
  const std::string text = refusal(*this, "wrong.example.com:" + std::to_string(upstream_port));
  EXPECT_TRUE(text.starts_with("HTTP/1.1 502 Bad Gateway\r\n")) << text;
  EXPECT_NE(text.find("cert_hostname_mismatch"), std::string::npos) << text;
  EXPECT_TRUE(logged("cert_hostname_mismatch"));
  EXPECT_EQ(proxy.server->stats().bad_gateway, 1u);
}

TEST_F(ProxyFixture, UnknownCaIsA502WithTheReason) {
  start_upstream();
  test::Issued other_root = test::make_root("Some Other Root");
  start_proxy({}, &other_root.cert);
  const std::string text = refusal(*this, "leaf.example.com:" + std::to_string(upstream_port));
  EXPECT_TRUE(text.starts_with("HTTP/1.1 502")) << text;
  EXPECT_NE(text.find("cert_unknown_ca"), std::string::npos) << text;
}

TEST_F(ProxyFixture, ExpiredUpstreamIsA502WithTheReason) {
  test::Pki expired = test::make_pki(
      {.leaf = {.common_name = "leaf.example.com",
                .dns_names = {"leaf.example.com"},
                .not_before = std::chrono::system_clock::now() - std::chrono::hours(48),
                .not_after = std::chrono::system_clock::now() - std::chrono::hours(24)}});
  start_upstream(test::server_config(expired));
  start_proxy({}, &expired.root.cert);
  const std::string text = refusal(*this, "leaf.example.com:" + std::to_string(upstream_port));
  EXPECT_TRUE(text.starts_with("HTTP/1.1 502")) << text;
  EXPECT_NE(text.find("cert_expired"), std::string::npos) << text;
}

TEST_F(ProxyFixture, RefusedConnectionIsA502) {
  start_upstream();
  start_proxy();
  // A port nobody listens on: bind one and close it.
  asio::io_context io;
  tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto closed_port = probe.local_endpoint().port();
  probe.close();
  const std::string text = refusal(*this, "127.0.0.1:" + std::to_string(closed_port));
  EXPECT_TRUE(text.starts_with("HTTP/1.1 502")) << text;
  EXPECT_NE(text.find("cannot connect"), std::string::npos) << text;
}

TEST_F(ProxyFixture, SilentUpstreamIsA504) {
  // A listener that never accepts: TCP connects (the kernel's backlog), TLS never answers.
  asio::io_context io;
  tcp::acceptor silent(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  upstream_port = silent.local_endpoint().port();
  timeouts.handshake = 300ms;
  start_proxy();
  const auto started = std::chrono::steady_clock::now();
  const std::string text = refusal(*this, "leaf.example.com:" + std::to_string(upstream_port));
  EXPECT_TRUE(text.starts_with("HTTP/1.1 504 Gateway Timeout")) << text;
  EXPECT_NE(text.find("timed_out"), std::string::npos) << text;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_EQ(proxy.server->stats().gateway_timeout, 1u);
}

TEST_F(ProxyFixture, SilentClientIsClosed) {
  start_upstream();
  timeouts.request_head = 200ms;
  start_proxy();
  bool closed = false;
  ASSERT_TRUE(run_client(
      [&](asio::io_context& io) -> Task<void> {
        tcp::socket socket(io);
        error_code ec;
        co_await socket.async_connect(proxy_endpoint,
                                      asio::redirect_error(asio::use_awaitable, ec));
        char c;
        (void)co_await socket.async_read_some(asio::buffer(&c, 1),
                                              asio::redirect_error(asio::use_awaitable, ec));
        closed = ec == asio::error::eof || ec == asio::error::connection_reset;
      },
      5s));
  EXPECT_TRUE(closed);
  EXPECT_TRUE(eventually_zero([&] { return proxy.server->stats().open; }));
}

TEST_F(ProxyFixture, MalformedRequestIsA400) {
  start_upstream();
  start_proxy();
  std::string text;
  ASSERT_TRUE(run_client([&](asio::io_context& io) -> Task<void> {
    auto reply = co_await send_connect(io, proxy_endpoint, "CONNECT nohostport HTTP/1.1\r\n\r\n");
    text = reply ? reply->head : reply.error().message();
  }));
  EXPECT_TRUE(text.starts_with("HTTP/1.1 400")) << text;
}

TEST_F(ProxyFixture, PassthroughShowsTheUpstreamCertificate) {
  start_upstream();
  start_proxy({"*.example.com"});
  std::string failure;
  Result<std::vector<crypto::Certificate>> chain = Error(Errc::closed);
  ASSERT_TRUE(run_client([&](asio::io_context& io) -> Task<void> {
    chain = co_await tunnel_echo(io, proxy_endpoint,
                                 "leaf.example.com:" + std::to_string(upstream_port),
                                 "leaf.example.com", client_trusting(pki.root.cert), 3, &failure);
  }));
  ASSERT_TRUE(chain) << chain.error().message() << " " << failure;
  EXPECT_EQ(chain->front(), pki.leaf.cert);
  EXPECT_EQ(proxy.server->stats().tunnelled, 1u);
  EXPECT_EQ(proxy.server->stats().intercepted, 0u);
}

TEST_F(ProxyFixture, ConcurrentTunnels) {
  start_upstream();
  start_proxy({}, nullptr, 2);
  constexpr int tunnels = 40;
  std::atomic<int> ok{0};
  std::string first_failure;
  ASSERT_TRUE(run_client(
      [&](asio::io_context& io) -> Task<void> {
        std::atomic<int> finished{0};
        auto trust = client_trusting(proxy_ca.cert);
        for (int i = 0; i < tunnels; ++i) {
          asio::co_spawn(
              io,
              [&, trust]() -> Task<void> {
                std::string failure;
                auto r = co_await tunnel_echo(io, proxy_endpoint,
                                              "leaf.example.com:" + std::to_string(upstream_port),
                                              "leaf.example.com", trust, 3, &failure);
                if (r) {
                  ++ok;
                } else if (first_failure.empty()) {
                  first_failure = r.error().message() + " " + failure;
                }
                ++finished;
              },
              asio::detached);
        }
        asio::steady_timer t(io);
        while (finished < tunnels) {
          t.expires_after(10ms);
          co_await t.async_wait(asio::use_awaitable);
        }
      },
      30s));
  EXPECT_EQ(ok.load(), tunnels) << first_failure;
  // One name set: one signature, every other tunnel from the cache.
  EXPECT_EQ(proxy.server->stats().intercepted, static_cast<std::uint64_t>(tunnels));
}

TEST(ProxyHostPatterns, MatchExactNamesAndDomains) {
  const std::vector<std::string> patterns{"Bank.example", "*.pinned.example"};
  EXPECT_TRUE(matches_host_pattern(patterns, "bank.example"));
  EXPECT_TRUE(matches_host_pattern(patterns, "api.PINNED.example"));
  EXPECT_FALSE(matches_host_pattern(patterns, "pinned.example"));
  EXPECT_FALSE(matches_host_pattern(patterns, "www.bank.example"));
  EXPECT_FALSE(matches_host_pattern(patterns, "xpinned.example"));
}

}  // namespace
}  // namespace bulwark::proxy
