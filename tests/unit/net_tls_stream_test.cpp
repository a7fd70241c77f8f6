// net::TlsStream over real loopback sockets: handshake, data both ways, vectored writes, clean
// close vs truncation, time limits, and the alert a non-TLS peer gets.
#include "bulwark/net/tls_stream.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <optional>
#include <string>
#include <vector>

#include "support/tls_pair.hpp"

namespace bulwark::net {
namespace {

using namespace std::chrono_literals;

// A loopback listener and the configurations of both ends.
struct Loopback {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  test::Pki pki = test::make_pki();
  std::shared_ptr<tls::ServerConfig> server_config = test::server_config(pki);
  std::shared_ptr<tls::ClientConfig> client_config = test::client_config(pki);

  Task<TlsStream> accept() {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    co_return TlsStream(std::move(socket), tls::Connection::server(server_config).value());
  }
  Task<tcp::socket> connect_raw() {
    tcp::socket socket(io);
    co_await socket.async_connect(acceptor.local_endpoint(), asio::use_awaitable);
    co_return socket;
  }
  Task<TlsStream> connect() {
    tcp::socket socket = co_await connect_raw();
    co_return TlsStream(std::move(socket),
                        tls::Connection::client(client_config, "leaf.example.com").value());
  }
  // Runs both coroutines to completion, bounded in time.
  template <class A, class B>
  void run(A server, B client) {
    int finished = 0;
    asio::co_spawn(io, std::move(server), [&](std::exception_ptr e) {
      ++finished;
      if (e) std::rethrow_exception(e);
    });
    asio::co_spawn(io, std::move(client), [&](std::exception_ptr e) {
      ++finished;
      if (e) std::rethrow_exception(e);
    });
    io.run_for(20s);
    ASSERT_EQ(finished, 2) << "a coroutine did not finish in time";
  }
};

std::string as_string(wire::Bytes b) {
  return std::string(b.begin(), b.end());
}

// Reads until a clean end of stream; nullopt (and the error in `error`) otherwise.
Task<std::optional<std::string>> read_all(TlsStream& s, std::optional<Error>& error) {
  std::string all;
  for (;;) {
    auto view = co_await s.read_view();
    if (!view) {
      error = view.error();
      co_return std::nullopt;
    }
    if (view->empty()) co_return all;
    all += as_string(*view);
    s.consume(view->size());
  }
}

TEST(NetTlsStream, EchoAndCleanClose) {
  Loopback lo;
  std::string server_got, client_got;
  bool server_saw_clean_end = false;
  auto server = [&]() -> Task<void> {
    TlsStream s = co_await lo.accept();
    s.set_timeout(5s);
    EXPECT_TRUE(co_await s.handshake());
    std::uint8_t buf[64];
    auto n = co_await s.read_some(buf);
    EXPECT_TRUE(n);
    server_got.assign(buf, buf + *n);
    const std::string reply = "echo: " + server_got;
    EXPECT_TRUE(co_await s.write(wire::as_bytes(reply)));
    auto end = co_await s.read_some(buf);
    server_saw_clean_end = end && *end == 0;
    EXPECT_TRUE(co_await s.shutdown());
  };
  auto client = [&]() -> Task<void> {
    TlsStream c = co_await lo.connect();
    c.set_timeout(5s);
    auto hs = co_await c.handshake();
    EXPECT_TRUE(hs) << hs.error().message();
    EXPECT_TRUE(c.connection().info().peer_verified);
    EXPECT_TRUE(co_await c.write(wire::as_bytes("hello")));
    auto view = co_await c.read_view();
    EXPECT_TRUE(view);
    client_got = as_string(*view);
    c.consume(view->size());
    EXPECT_TRUE(co_await c.shutdown());
    std::optional<Error> error;
    auto rest = co_await read_all(c, error);
    EXPECT_TRUE(rest.has_value()) << (error ? error->message() : "");
  };
  // Named lambdas: the coroutines refer to their captures until they finish.
  lo.run(server(), client());
  EXPECT_EQ(server_got, "hello");
  EXPECT_EQ(client_got, "echo: hello");
  EXPECT_TRUE(server_saw_clean_end);
}

TEST(NetTlsStream, LargeVectoredTransfer) {
  Loopback lo;
  // 8 MiB in pieces of awkward sizes, some coalesced, some spanning several records.
  std::vector<std::string> pieces;
  std::string expected;
  for (std::size_t i = 0; expected.size() < 8u << 20; ++i) {
    std::string piece((i * 7919) % 40000 + 1, static_cast<char>('a' + i % 26));
    expected += piece;
    pieces.push_back(std::move(piece));
  }
  std::optional<std::string> received;
  std::optional<Error> error;
  auto server = [&]() -> Task<void> {
    TlsStream s = co_await lo.accept();
    s.set_timeout(10s);
    EXPECT_TRUE(co_await s.handshake());
    for (std::size_t i = 0; i < pieces.size(); i += 3) {
      std::vector<wire::Bytes> batch;
      for (std::size_t j = i; j < std::min(i + 3, pieces.size()); ++j)
        batch.push_back(wire::as_bytes(pieces[j]));
      auto st = co_await s.write(batch);
      EXPECT_TRUE(st) << st.error().message();
      if (!st) break;
    }
    EXPECT_TRUE(co_await s.shutdown());
  };
  auto client = [&]() -> Task<void> {
    TlsStream c = co_await lo.connect();
    c.set_timeout(10s);
    EXPECT_TRUE(co_await c.handshake());
    received = co_await read_all(c, error);
  };
  // Named lambdas: the coroutines refer to their captures until they finish.
  lo.run(server(), client());
  ASSERT_TRUE(received.has_value()) << (error ? error->message() : "");
  EXPECT_EQ(received->size(), expected.size());
  EXPECT_TRUE(*received == expected);
}

TEST(NetTlsStream, TcpCloseWithoutCloseNotifyIsTruncation) {
  Loopback lo;
  std::optional<Error> error;
  auto server = [&]() -> Task<void> {
    TlsStream s = co_await lo.accept();
    s.set_timeout(5s);
    EXPECT_TRUE(co_await s.handshake());
    auto got = co_await read_all(s, error);
    EXPECT_FALSE(got.has_value());
  };
  auto client = [&]() -> Task<void> {
    TlsStream c = co_await lo.connect();
    EXPECT_TRUE(co_await c.handshake());
    EXPECT_TRUE(co_await c.write(wire::as_bytes("partial")));
    c.close();  // no close_notify
  };
  // Named lambdas: the coroutines refer to their captures until they finish.
  lo.run(server(), client());
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), Errc::truncated_connection) << error->message();
}

TEST(NetTlsStream, HandshakeTimesOutOnASilentPeer) {
  Loopback lo;
  std::optional<Error> error;
  auto started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration took{};
  auto server = [&]() -> Task<void> {
    TlsStream s = co_await lo.accept();
    s.set_timeout(300ms);
    auto st = co_await s.handshake();
    took = std::chrono::steady_clock::now() - started;
    if (!st) error = st.error();
  };
  auto client = [&]() -> Task<void> {
    tcp::socket silent = co_await lo.connect_raw();
    asio::steady_timer t(lo.io, 2s);
    co_await t.async_wait(asio::use_awaitable);  // holds the connection open, says nothing
  };
  // Named lambdas: the coroutines refer to their captures until they finish.
  lo.run(server(), client());
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), Errc::timed_out);
  EXPECT_LT(took, 1500ms);
}

TEST(NetTlsStream, ReadTimeLimitCoversTheWholeOperation) {
  // A peer that trickles one byte at a time must not extend the limit forever.
  Loopback lo;
  std::optional<Error> error;
  auto server = [&]() -> Task<void> {
    TlsStream s = co_await lo.accept();
    s.set_timeout(400ms);
    auto st = co_await s.handshake();
    if (!st) error = st.error();
  };
  auto client = [&]() -> Task<void> {
    tcp::socket trickle = co_await lo.connect_raw();
    // A plausible record header, then one byte every 100 ms.
    const std::uint8_t header[] = {0x16, 0x03, 0x01, 0x02, 0x00};
    for (std::uint8_t b : header) {
      boost::system::error_code ec;
      co_await asio::async_write(trickle, asio::buffer(&b, 1),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      asio::steady_timer t(lo.io, 100ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    for (int i = 0; i < 20; ++i) {
      std::uint8_t zero = 0;
      boost::system::error_code ec;
      co_await asio::async_write(trickle, asio::buffer(&zero, 1),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      asio::steady_timer t(lo.io, 100ms);
      co_await t.async_wait(asio::use_awaitable);
    }
  };
  // Named lambdas: the coroutines refer to their captures until they finish.
  lo.run(server(), client());
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), Errc::timed_out);
}

TEST(NetTlsStream, NonTlsPeerGetsAnAlert) {
  Loopback lo;
  std::optional<Error> error;
  std::vector<std::uint8_t> answer;
  auto server = [&]() -> Task<void> {
    TlsStream s = co_await lo.accept();
    s.set_timeout(5s);
    auto st = co_await s.handshake();
    if (!st) error = st.error();
    s.close();
  };
  auto client = [&]() -> Task<void> {
    tcp::socket plain = co_await lo.connect_raw();
    const std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    co_await asio::async_write(plain, asio::buffer(request), asio::use_awaitable);
    std::uint8_t buf[64];
    boost::system::error_code ec;
    std::size_t n = co_await plain.async_read_some(asio::buffer(buf),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    answer.assign(buf, buf + n);
  };
  // Named lambdas: the coroutines refer to their captures until they finish.
  lo.run(server(), client());
  ASSERT_TRUE(error.has_value());
  ASSERT_GE(answer.size(), 7u);
  EXPECT_EQ(answer[0], 0x15);  // an alert record
  EXPECT_EQ(answer[5], 0x02);  // fatal
}

}  // namespace
}  // namespace bulwark::net
