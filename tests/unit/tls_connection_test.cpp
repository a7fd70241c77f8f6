// In-memory TLS 1.3 client <-> server: every suite x group x signature scheme, HRR,
// resumption, client authentication, ALPN, KeyUpdate, closure, and the failures.
#include <gtest/gtest.h>

#include <array>
#include <numeric>

#include "bulwark/tls/connection.hpp"
#include "bulwark/tls/session.hpp"
#include "support/pki.hpp"
#include "support/tls_pair.hpp"

using namespace bulwark;
using namespace bulwark::tls;
using test::pump;
using V = std::vector<std::uint8_t>;

namespace {

const test::Pki& ecdsa_pki() {
  static const test::Pki pki = test::make_pki({.with_intermediate = true});
  return pki;
}

struct Pair {
  Connection client;
  Connection server;
};

Pair connect(std::shared_ptr<ClientConfig> ccfg, std::shared_ptr<ServerConfig> scfg,
             const std::string& name = "leaf.example.com") {
  auto c = Connection::client(ccfg, name);
  EXPECT_TRUE(c) << c.error().message();
  auto s = Connection::server(scfg);
  EXPECT_TRUE(s) << s.error().message();
  return Pair{std::move(c).value(), std::move(s).value()};
}

// Sends `data` from a to b and returns what b reads.
V transfer(Connection& a, Connection& b, const V& data) {
  EXPECT_TRUE(a.send(data));
  EXPECT_TRUE(pump(a, b));
  V got(data.size() + 16);
  got.resize(b.read(got));
  return got;
}

V pattern(std::size_t n) {
  V v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return v;
}

}  // namespace

TEST(TlsConnection, DefaultHandshakeAndData) {
  auto p = connect(test::client_config(ecdsa_pki()), test::server_config(ecdsa_pki()));
  ASSERT_TRUE(pump(p.client, p.server))
      << (p.client.failure() ? p.client.failure()->error.message()
                             : p.server.failure()->error.message());
  ASSERT_TRUE(p.client.handshake_done());
  ASSERT_TRUE(p.server.handshake_done());
  EXPECT_EQ(p.client.info().version, ProtocolVersion::tls13);
  EXPECT_EQ(p.client.info().cipher_suite, CipherSuite::tls_aes_128_gcm_sha256);
  EXPECT_EQ(p.client.info().group, NamedGroup::x25519);
  EXPECT_TRUE(p.client.info().peer_verified);
  EXPECT_EQ(p.client.info().peer_certificates.size(), 2u);
  EXPECT_EQ(p.server.info().server_name, "leaf.example.com");
  EXPECT_EQ(transfer(p.client, p.server, pattern(100)), pattern(100));
  EXPECT_EQ(transfer(p.server, p.client, pattern(70000)), pattern(70000));
}
