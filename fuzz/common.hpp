// Shared by the fuzz targets and the seed generator (fuzz/seeds/make_seeds.cpp): replayable
// randomness, a fixed instant, a deterministic PKI, the TLS configurations the whole-connection
// targets use, and an in-memory handshake that records what each side sent.
//
// Everything here is deterministic (Ed25519 keys derived from fixed labels, certificates issued
// with replayable randomness at fixed dates) so that a seed recorded once replays to the same
// handshake in every fuzzing process. The one exception is the RSA leaf used by the legacy
// policy's RSA key transport and DHE_RSA suites: RSA keys cannot be derived from a label with
// the public API, so it is generated per process; inputs using it still reach every message
// parser, only the Finished check after an RSA ClientKeyExchange replays differently.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/crypto/hash.hpp"
#include "bulwark/crypto/issuer.hpp"
#include "bulwark/crypto/keys.hpp"
#include "bulwark/crypto/random.hpp"
#include "bulwark/crypto/trust_store.hpp"
#include "bulwark/tls/cipher_suites.hpp"
#include "bulwark/tls/config.hpp"
#include "bulwark/tls/connection.hpp"
#include "bulwark/tls/record.hpp"
#include "bulwark/tls/session.hpp"

namespace bulwark::fuzz {

// A violated invariant: abort (libFuzzer reports a crash and keeps the input), saying where.
inline void check(bool cond, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  if (cond) return;
  std::fprintf(stderr, "fuzz: check failed at %s:%d\n", file, line);
  std::abort();
}

// The value of a result that must succeed (set-up steps).
template <class T>
T must(Result<T> r, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  if (!r) {
    std::fprintf(stderr, "fuzz: %s:%d: %s\n", file, line, r.error().message().c_str());
    std::abort();
  }
  return std::move(r).value();
}

inline std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// DeterministicRandom that starts over from its seed on reset(), so that every input sees the
// same random bytes (a Config keeps a pointer to it: it never moves).
class ReplayRandom final : public crypto::Random {
 public:
  explicit ReplayRandom(std::string seed) : seed_(std::move(seed)) { reset(); }
  void reset() { rng_.emplace(bytes_of(seed_)); }
  Status fill(std::span<std::uint8_t> out) noexcept override { return rng_->fill(out); }

 private:
  std::string seed_;
  std::optional<crypto::DeterministicRandom> rng_;
};

// 2027-01-01T00:00:00Z: inside every fixed certificate's validity.
inline std::chrono::system_clock::time_point fixed_now() {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1798761600));
}
inline constexpr std::string_view fuzz_host = "fuzz.example";

// An Ed25519 key whose private half is SHA-256(label) (PKCS#8, RFC 8410 §7).
inline crypto::PrivateKey ed25519_key(std::string_view label) {
  static constexpr std::array<std::uint8_t, 16> pkcs8_prefix = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30,
                                                                0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
                                                                0x04, 0x22, 0x04, 0x20};
  const crypto::Digest d = must(crypto::hash(crypto::HashAlg::sha256, bytes_of(label)));
  std::array<std::uint8_t, 48> der{};
  std::copy(pkcs8_prefix.begin(), pkcs8_prefix.end(), der.begin());
  std::copy(d.span().begin(), d.span().end(), der.begin() + 16);
  return must(crypto::PrivateKey::from_der(der));
}

// root -> intermediate -> leaf ("fuzz.example", Ed25519), plus an RSA leaf under the same
// intermediate for the legacy policy; valid 2026-01-01 .. 2036-01-01.
struct FixedPki {
  crypto::PrivateKey root_key, intermediate_key, leaf_key, rsa_leaf_key;
  crypto::Certificate root, intermediate, leaf, rsa_leaf;
  crypto::TrustStore trust;
};

inline const FixedPki& fixed_pki() {
  static const FixedPki pki = [] {
    using namespace std::chrono;
    const auto from = system_clock::time_point(seconds(1767225600));  // 2026-01-01
    const auto until = from + hours(24 * 3653);
    ReplayRandom serials("bulwark fuzz pki");
    FixedPki p;
    p.root_key = ed25519_key("bulwark fuzz root");
    p.intermediate_key = ed25519_key("bulwark fuzz intermediate");
    p.leaf_key = ed25519_key("bulwark fuzz leaf");
    p.rsa_leaf_key = must(crypto::PrivateKey::generate(crypto::KeyType::rsa, 2048));
    auto ca = crypto::ca_spec("bulwark fuzz root");
    ca.not_before = from;
    ca.not_after = until;
    p.root =
        must(crypto::issue_certificate(ca, p.root_key.public_key(), p.root_key, nullptr, serials));
    ca.common_name = "bulwark fuzz intermediate";
    p.intermediate = must(crypto::issue_certificate(ca, p.intermediate_key.public_key(), p.root_key,
                                                    &p.root, serials));
    auto leaf = crypto::server_spec(std::string(fuzz_host));
    leaf.not_before = from;
    leaf.not_after = until;
    leaf.usage = crypto::CertificateSpec::Usage::server_and_client;
    p.leaf = must(crypto::issue_certificate(leaf, p.leaf_key.public_key(), p.intermediate_key,
                                            &p.intermediate, serials));
    p.rsa_leaf = must(crypto::issue_certificate(leaf, p.rsa_leaf_key.public_key(),
                                                p.intermediate_key, &p.intermediate, serials));
    p.trust = must(crypto::TrustStore::from_certificates(std::vector{p.root}));
    return p;
  }();
  return pki;
}

// The server of fuzz_tls_server (and the peer of the recorded handshakes): both fixed leaves,
// optional client authentication, tickets, heartbeat; `legacy` adds the legacy policy.
inline std::shared_ptr<tls::ServerConfig> server_config(ReplayRandom& rng, bool legacy) {
  const FixedPki& pki = fixed_pki();
  auto cfg = std::make_shared<tls::ServerConfig>();
  cfg->certificates.push_back(tls::CertifiedKey{{pki.leaf, pki.intermediate}, pki.leaf_key});
  cfg->certificates.push_back(
      tls::CertifiedKey{{pki.rsa_leaf, pki.intermediate}, pki.rsa_leaf_key});
  cfg->random = &rng;
  cfg->clock = fixed_now;
  cfg->tickets = must(tls::TicketKeys::create(rng));
  cfg->client_auth = tls::ClientAuth::optional;
  cfg->client_trust = pki.trust;
  cfg->heartbeat = true;
  cfg->legacy = legacy;
  return cfg;
}

// The client of fuzz_tls_client: trusts the fixed root, offers ALPN, keeps tickets.
inline std::shared_ptr<tls::ClientConfig> client_config(ReplayRandom& rng, bool legacy) {
  auto cfg = std::make_shared<tls::ClientConfig>();
  cfg->random = &rng;
  cfg->clock = fixed_now;
  cfg->trust = fixed_pki().trust;
  cfg->chain_cache = nullptr;  // a cache would carry state from one input to the next
  cfg->alpn = {"h2", "http/1.1"};
  cfg->heartbeat = true;
  cfg->legacy = legacy;
  return cfg;
}

// What each side sent during an in-memory handshake, flight by flight.
struct Exchange {
  std::vector<std::vector<std::uint8_t>> to_server;
  std::vector<std::vector<std::uint8_t>> to_client;
  bool done = false;
};

inline std::vector<std::uint8_t> take_output(tls::Connection& c) {
  auto out = c.pending_output();
  std::vector<std::uint8_t> bytes(out.begin(), out.end());
  c.consume_output(bytes.size());
  return bytes;
}

// Runs client and server against each other until both are quiet (bounded rounds).
inline Exchange run_handshake(tls::Connection& client, tls::Connection& server) {
  Exchange ex;
  for (int round = 0; round < 16; ++round) {
    auto c = take_output(client);
    const bool client_quiet = c.empty();
    if (!c.empty()) {
      if (!server.feed(c)) return ex;
      ex.to_server.push_back(std::move(c));
    }
    auto s = take_output(server);
    const bool server_quiet = s.empty();
    if (!s.empty()) {
      if (!client.feed(s)) return ex;
      ex.to_client.push_back(std::move(s));
    }
    if (client_quiet && server_quiet) break;
  }
  ex.done = client.handshake_done() && server.handshake_done();
  return ex;
}

// fuzz_tls_server / fuzz_tls_client: feeds data[1..] in chunks of 1 + data[0] % 64 bytes,
// discarding what the connection sends; errors must be sticky. Then reads and ends the
// transport.
inline void feed_in_chunks(tls::Connection& conn, const std::uint8_t* data, std::size_t size) {
  conn.consume_output(conn.pending_output().size());
  const std::size_t chunk = size == 0 ? 1 : 1 + data[0] % 64;
  bool failed = false;
  for (std::size_t i = size == 0 ? 0 : 1; i < size; i += chunk) {
    const auto s = conn.feed(wire::Bytes(data + i, std::min(chunk, size - i)));
    check(!(failed && s.ok()));  // a failed connection stays failed
    failed = failed || !s.ok();
    conn.consume_output(conn.pending_output().size());
  }
  std::uint8_t buf[256];
  (void)conn.read(buf);
  (void)conn.transport_eof();
}

inline std::vector<std::uint8_t> concat(const std::vector<std::vector<std::uint8_t>>& parts) {
  std::vector<std::uint8_t> all;
  for (const auto& p : parts)
    all.insert(all.end(), p.begin(), p.end());
  return all;
}

// fuzz_tls_record's fixed keys: one direction's cipher for `suite`.
inline tls::RecordCipher record_cipher(const tls::CipherSuiteInfo& suite,
                                       crypto::Random& iv_source) {
  static constexpr std::array<std::uint8_t, 64> key_bytes = [] {
    std::array<std::uint8_t, 64> k{};
    for (std::size_t i = 0; i < k.size(); ++i)
      k[i] = static_cast<std::uint8_t>(0x5a ^ (i * 13));
    return k;
  }();
  const wire::Bytes key(key_bytes.data(), suite.key_length);
  const wire::Bytes iv(key_bytes.data() + 32, suite.iv_length);
  if (suite.version == tls::ProtocolVersion::tls13)
    return must(tls::RecordCipher::tls13(suite, key, iv));
  if (suite.protection == tls::RecordProtection::cbc_hmac) {
    const wire::Bytes mac_key(key_bytes.data() + 16, crypto::digest_length(suite.mac));
    return must(tls::RecordCipher::tls12_cbc(suite, mac_key, key, iv_source));
  }
  return must(tls::RecordCipher::tls12(suite, key, iv));
}

}  // namespace bulwark::fuzz
