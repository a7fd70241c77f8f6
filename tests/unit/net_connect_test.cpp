// Client-side resolution and connection: curl-style --resolve overrides, IP literals, clear
// errors naming host and port, and time limits (a listener whose accept queue is full never
// answers a SYN, which makes a silent server on loopback).
#include "bulwark/net/connect.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <optional>

namespace bulwark::net {
namespace {

using namespace std::chrono_literals;

// Runs one coroutine to completion on a fresh io_context, bounded in time.
template <class T>
std::optional<T> run(asio::io_context& io, Task<T> task) {
  std::optional<T> out;
  // Named: the coroutine refers to the lambda's captures until it finishes.
  auto body = [&]() -> Task<void> { out.emplace(co_await std::move(task)); };
  asio::co_spawn(io, body(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run_for(20s);
  return out;
}

asio::ip::address ip(const char* text) {
  return asio::ip::make_address(text);
}

TEST(NetConnect, ParsesResolveOverrides) {
  auto o = parse_resolve_override("WWW.Example.org:8443:127.0.0.1");
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->host, "www.example.org");
  EXPECT_EQ(o->port, 8443);
  ASSERT_EQ(o->addresses.size(), 1u);
  EXPECT_EQ(o->addresses[0], ip("127.0.0.1"));

  auto several = parse_resolve_override("a.test:443:[::1],192.0.2.7,2001:db8::5");
  ASSERT_TRUE(several) << several.error().message();
  ASSERT_EQ(several->addresses.size(), 3u);
  EXPECT_EQ(several->addresses[0], ip("::1"));
  EXPECT_EQ(several->addresses[1], ip("192.0.2.7"));
  EXPECT_EQ(several->addresses[2], ip("2001:db8::5"));

  auto v6_host = parse_resolve_override("[2001:db8::1]:443:127.0.0.1");
  ASSERT_TRUE(v6_host) << v6_host.error().message();
  EXPECT_EQ(v6_host->host, "2001:db8::1");
}

TEST(NetConnect, RefusesMalformedOverrides) {
  for (const char* bad : {"", "host", "host:443", "host:443:", ":443:127.0.0.1", "host::127.0.0.1",
                          "host:x:127.0.0.1", "host:0:127.0.0.1", "host:65536:127.0.0.1",
                          "host:443:not-an-address", "host:443:127.0.0.1,", "[::1:443:127.0.0.1"}) {
    auto o = parse_resolve_override(bad);
    EXPECT_FALSE(o) << "accepted '" << bad << "'";
    if (!o) {
      EXPECT_EQ(o.error().code(), Errc::invalid_argument);
    }
  }
  auto o = parse_resolve_override("host:443:nope");
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().detail().find("'nope' is not an IP address"), std::string::npos);
}

TEST(NetConnect, FormatsDestinations) {
  EXPECT_EQ(format_destination("example.org", 443), "example.org:443");
  EXPECT_EQ(format_destination("::1", 8443), "[::1]:8443");
  EXPECT_EQ(format_destination("[::1]", 8443), "[::1]:8443");
}

TEST(NetConnect, OverrideWinsOverTheResolverForItsHostAndPortOnly) {
  asio::io_context io;
  std::vector<ResolveOverride> overrides = {
      parse_resolve_override("www.facebook.com:8443:127.0.0.2").value()};
  auto hit = run(io, resolve("WWW.FACEBOOK.COM", 8443, overrides, 5s));
  ASSERT_TRUE(hit && *hit) << (hit ? hit->error().message() : "did not finish");
  ASSERT_EQ((*hit)->size(), 1u);
  EXPECT_EQ((**hit)[0], tcp::endpoint(ip("127.0.0.2"), 8443));

  // Another port of the same name is not overridden: the literal below resolves as itself.
  io.restart();
  overrides.push_back(parse_resolve_override("127.0.0.9:443:127.0.0.3").value());
  auto miss = run(io, resolve("127.0.0.9", 444, overrides, 5s));
  ASSERT_TRUE(miss && *miss);
  ASSERT_EQ((*miss)->size(), 1u);
  EXPECT_EQ((**miss)[0], tcp::endpoint(ip("127.0.0.9"), 444));
}

TEST(NetConnect, IpLiteralsNeedNoLookup) {
  asio::io_context io;
  auto v6 = run(io, resolve("[::1]", 8443, {}, 1s));
  ASSERT_TRUE(v6 && *v6);
  ASSERT_EQ((*v6)->size(), 1u);
  EXPECT_EQ((**v6)[0], tcp::endpoint(ip("::1"), 8443));
}

TEST(NetConnect, UnknownNameIsAnErrorNamingTheHost) {
  asio::io_context io;
  // RFC 6761 §6.4: names under .invalid never resolve.
  auto r = run(io, resolve("no-such-host.invalid", 443, {}, 10s));
  ASSERT_TRUE(r) << "did not finish";
  ASSERT_FALSE(*r);
  EXPECT_NE(r->error().detail().find("cannot resolve host 'no-such-host.invalid'"),
            std::string::npos)
      << r->error().message();
}

TEST(NetConnect, RefusedConnectionNamesHostAndPort) {
  asio::io_context io;
  std::uint16_t port = 0;
  {
    tcp::acceptor probe(io, tcp::endpoint(ip("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }  // closed: nobody listens there now
  const std::string destination = "127.0.0.1:" + std::to_string(port);
  auto r = run(io, connect({tcp::endpoint(ip("127.0.0.1"), port)}, destination, 5s));
  ASSERT_TRUE(r) << "did not finish";
  ASSERT_FALSE(*r);
  EXPECT_EQ(r->error().code(), Errc::io_error);
  EXPECT_EQ(r->error().detail(), "cannot connect to " + destination + ": Connection refused");

  io.restart();
  auto named = run(io, connect({tcp::endpoint(ip("127.0.0.1"), port)}, "localhost:1", 5s));
  ASSERT_TRUE(named && !*named);
  EXPECT_EQ(named->error().detail(),
            "cannot connect to localhost:1 (" + destination + "): Connection refused");
}

TEST(NetConnect, TriesEachAddressInTurn) {
  asio::io_context io;
  std::uint16_t closed_port = 0;
  {
    tcp::acceptor probe(io, tcp::endpoint(ip("127.0.0.1"), 0));
    closed_port = probe.local_endpoint().port();
  }
  tcp::acceptor listener(io, tcp::endpoint(ip("127.0.0.1"), 0));
  const std::uint16_t open_port = listener.local_endpoint().port();
  // The same destination is reached on two "addresses": the first refuses, the second accepts.
  auto r = run(io, connect({tcp::endpoint(ip("127.0.0.1"), closed_port),
                            tcp::endpoint(ip("127.0.0.1"), open_port)},
                           "two.test:443", 5s));
  ASSERT_TRUE(r && *r) << (r ? r->error().message() : "did not finish");
  EXPECT_EQ((*r)->remote_endpoint().port(), open_port);

  io.restart();
  auto none = run(io, connect({tcp::endpoint(ip("127.0.0.1"), closed_port),
                               tcp::endpoint(ip("127.0.0.1"), closed_port)},
                              "two.test:443", 5s));
  ASSERT_TRUE(none && !*none);
  EXPECT_NE(none->error().detail().find("Connection refused (2 addresses tried"), std::string::npos)
      << none->error().message();
}

TEST(NetConnect, SilentServerTimesOut) {
  asio::io_context io;
  // Backlog 0 leaves room for one pending connection; once it is taken, SYNs are dropped and a
  // connect() waits for an answer that never comes.
  tcp::acceptor listener(io);
  const tcp::endpoint where(ip("127.0.0.1"), 0);
  listener.open(where.protocol());
  listener.bind(where);
  listener.listen(0);
  const tcp::endpoint full = listener.local_endpoint();
  tcp::socket filler(io);
  filler.connect(full);

  const auto start = std::chrono::steady_clock::now();
  auto r = run(io, connect({full}, "silent.test:1", 400ms));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r) << "did not finish";
  ASSERT_FALSE(*r);
  EXPECT_EQ(r->error().code(), Errc::timed_out);
  EXPECT_NE(r->error().detail().find("cannot connect to silent.test:1"), std::string::npos);
  EXPECT_NE(r->error().detail().find("no answer within 0.4 s"), std::string::npos)
      << r->error().detail();
  EXPECT_GE(took, 350ms);
  EXPECT_LT(took, 5s);
}

TEST(NetConnect, EmptyAddressListIsMisuse) {
  asio::io_context io;
  auto r = run(io, connect({}, "x.test:1", 1s));
  ASSERT_TRUE(r && !*r);
  EXPECT_EQ(r->error().code(), Errc::invalid_argument);
}

}  // namespace
}  // namespace bulwark::net
