// Test helper: a TLS client and server wired together in memory.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "bulwark/tls/connection.hpp"
#include "bulwark/tls/session.hpp"
#include "support/pki.hpp"

namespace bulwark::test {

// Moves pending output from one side to the other until neither has anything to say, at most
// `rounds` times. Returns false if a feed failed (the failing side's failure() says why).
inline bool pump(tls::Connection& a, tls::Connection& b, int rounds = 32) {
  for (int i = 0; i < rounds; ++i) {
    bool moved = false;
    for (auto [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
      auto out = from->pending_output();
      if (out.empty()) continue;
      std::vector<std::uint8_t> bytes(out.begin(), out.end());
      from->consume_output(bytes.size());
      moved = true;
      if (to->failed()) continue;
      if (!to->feed(bytes)) {
        // Deliver the alert the failing side queued, then stop.
        auto alert = to->pending_output();
        std::vector<std::uint8_t> ab(alert.begin(), alert.end());
        to->consume_output(ab.size());
        if (!from->failed()) (void)from->feed(ab);
        return false;
      }
    }
    if (!moved) return true;
  }
  return true;
}

// A server configuration with one certificate from `pki`.
inline std::shared_ptr<tls::ServerConfig> server_config(const Pki& pki) {
  auto cfg = std::make_shared<tls::ServerConfig>();
  cfg->certificates.push_back(tls::CertifiedKey{pki.chain(), pki.leaf.key});
  return cfg;
}

// A client configuration trusting `pki`'s root.
inline std::shared_ptr<tls::ClientConfig> client_config(const Pki& pki) {
  auto cfg = std::make_shared<tls::ClientConfig>();
  cfg->trust = pki.trust_store();
  return cfg;
}

// A client and a server, not yet connected.
struct Pair {
  tls::Connection client;
  tls::Connection server;
};

inline Pair connect(std::shared_ptr<tls::ClientConfig> ccfg,
                    std::shared_ptr<tls::ServerConfig> scfg,
                    const std::string& name = "leaf.example.com") {
  auto c = tls::Connection::client(ccfg, name);
  EXPECT_TRUE(c) << c.error().message();
  auto s = tls::Connection::server(scfg);
  EXPECT_TRUE(s) << s.error().message();
  return Pair{std::move(c).value(), std::move(s).value()};
}

// Why a pair failed, for test messages.
inline std::string why(const Pair& p) {
  std::string s;
  if (auto* f = p.client.failure()) s += "client: " + f->error.message() + " ";
  if (auto* f = p.server.failure()) s += "server: " + f->error.message();
  return s;
}

// Sends `data` from a to b and returns what b reads.
inline std::vector<std::uint8_t> transfer(tls::Connection& a, tls::Connection& b,
                                          const std::vector<std::uint8_t>& data) {
  EXPECT_TRUE(a.send(data));
  EXPECT_TRUE(pump(a, b));
  std::vector<std::uint8_t> got(data.size() + 16);
  got.resize(b.read(got));
  return got;
}

// n bytes of a recognisable pattern.
inline std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return v;
}

}  // namespace bulwark::test
