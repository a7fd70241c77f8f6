// The client's verified-chain cache: a repeated handshake to the same server reuses the
// parsed, verified chain; anything that could change the verification's outcome (name,
// trust store, chain bytes, time) misses; failures are never cached; the size is bounded.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bulwark/tls/chain_cache.hpp"
#include "bulwark/tls/connection.hpp"
#include "support/pki.hpp"
#include "support/tls_pair.hpp"

using namespace bulwark;
using namespace bulwark::tls;
using namespace std::chrono_literals;
using test::pump;
using TimePoint = std::chrono::system_clock::time_point;

namespace {

const test::Pki& shared_pki() {
  static const test::Pki pki =
      test::make_pki({.with_intermediate = true,
                      .leaf = {.dns_names = {"leaf.example.com", "other.example.com"}}});
  return pki;
}

// A client config whose clock reads `*now` and whose cache is its own.
std::shared_ptr<ClientConfig> client_at(const test::Pki& pki, std::shared_ptr<TimePoint> now,
                                        ProtocolVersion version = ProtocolVersion::tls13) {
  auto cfg = test::client_config(pki);
  cfg->max_version = version;
  cfg->clock = [now] { return *now; };
  return cfg;
}

struct Outcome {
  bool ok = false;
  std::string why;
  std::vector<crypto::Certificate> peer_certificates;
  bool peer_verified = false;
  std::optional<Errc> client_error;
};

Outcome handshake(std::shared_ptr<ClientConfig> ccfg, std::shared_ptr<ServerConfig> scfg,
                  const std::string& name = "leaf.example.com") {
  auto c = Connection::client(ccfg, name);
  auto s = Connection::server(scfg);
  Outcome o;
  if (!c || !s) {
    o.why = "connection setup failed";
    return o;
  }
  o.ok = pump(*c, *s) && c->handshake_done() && s->handshake_done();
  if (auto* f = c->failure()) {
    o.why = "client: " + f->error.message();
    o.client_error = f->error.code();
  }
  if (auto* f = s->failure()) o.why += " server: " + f->error.message();
  o.peer_certificates = c->info().peer_certificates;
  o.peer_verified = c->info().peer_verified;
  return o;
}

std::shared_ptr<TimePoint> clock_now() {
  return std::make_shared<TimePoint>(std::chrono::system_clock::now());
}

}  // namespace

class TlsChainCacheVersions : public ::testing::TestWithParam<ProtocolVersion> {};

TEST_P(TlsChainCacheVersions, SecondHandshakeReusesTheVerifiedChain) {
  const auto& pki = shared_pki();
  auto now = clock_now();
  auto ccfg = client_at(pki, now, GetParam());
  auto scfg = test::server_config(pki);
  ASSERT_NE(ccfg->chain_cache, nullptr);  // on by default

  const Outcome first = handshake(ccfg, scfg);
  ASSERT_TRUE(first.ok) << first.why;
  EXPECT_EQ(ccfg->chain_cache->hits(), 0u);
  EXPECT_EQ(ccfg->chain_cache->misses(), 1u);
  EXPECT_EQ(ccfg->chain_cache->size(), 1u);

  *now += 5min;
  const Outcome second = handshake(ccfg, scfg);
  ASSERT_TRUE(second.ok) << second.why;
  // A hit returns before the parser and the path validation run.
  EXPECT_EQ(ccfg->chain_cache->hits(), 1u);
  EXPECT_EQ(ccfg->chain_cache->misses(), 1u);
  EXPECT_TRUE(second.peer_verified);
  ASSERT_EQ(second.peer_certificates.size(), 2u);
  EXPECT_EQ(second.peer_certificates, pki.chain());
  EXPECT_EQ(second.peer_certificates, first.peer_certificates);
}

INSTANTIATE_TEST_SUITE_P(TlsChainCache, TlsChainCacheVersions,
                         ::testing::Values(ProtocolVersion::tls13, ProtocolVersion::tls12),
                         [](const auto& info) {
                           return info.param == ProtocolVersion::tls13 ? std::string("Tls13")
                                                                       : std::string("Tls12");
                         });

TEST(TlsChainCache, AnotherServerNameMisses) {
  const auto& pki = shared_pki();
  auto now = clock_now();
  auto ccfg = client_at(pki, now);
  auto scfg = test::server_config(pki);
  ASSERT_TRUE(handshake(ccfg, scfg, "leaf.example.com").ok);
  const Outcome other = handshake(ccfg, scfg, "other.example.com");
  ASSERT_TRUE(other.ok) << other.why;
  EXPECT_EQ(ccfg->chain_cache->hits(), 0u);
  EXPECT_EQ(ccfg->chain_cache->size(), 2u);
  // A name the leaf does not carry still fails after both were cached.
  const Outcome wrong = handshake(ccfg, scfg, "www.example.org");
  EXPECT_FALSE(wrong.ok);
  EXPECT_EQ(wrong.client_error, Errc::cert_hostname_mismatch);
  EXPECT_EQ(ccfg->chain_cache->hits(), 0u);
}

TEST(TlsChainCache, AnotherTrustStoreMisses) {
  const auto& pki = shared_pki();
  auto now = clock_now();
  auto ccfg = client_at(pki, now);
  auto scfg = test::server_config(pki);
  ASSERT_TRUE(handshake(ccfg, scfg).ok);

  // Same anchors, but another store: the cache cannot know that, so it verifies again.
  auto same_anchors = client_at(pki, now);
  same_anchors->chain_cache = ccfg->chain_cache;
  ASSERT_TRUE(handshake(same_anchors, scfg).ok);
  EXPECT_EQ(ccfg->chain_cache->hits(), 0u);
  EXPECT_EQ(ccfg->chain_cache->size(), 2u);

  // A store without the root, sharing the cache, must not inherit the other's success.
  auto strangers = client_at(test::make_pki(), now);
  strangers->chain_cache = ccfg->chain_cache;
  const Outcome refused = handshake(strangers, scfg);
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.client_error, Errc::cert_unknown_ca);
  EXPECT_EQ(ccfg->chain_cache->hits(), 0u);
  EXPECT_EQ(ccfg->chain_cache->size(), 2u);
}

TEST(TlsChainCache, ChangedChainBytesMiss) {
  const auto& pki = shared_pki();
  auto now = clock_now();
  auto ccfg = client_at(pki, now);
  ASSERT_TRUE(handshake(ccfg, test::server_config(pki)).ok);

  // Another leaf from the same intermediate, same name: new bytes, verified afresh.
  auto other_leaf = pki;
  other_leaf.leaf = test::make_leaf(*pki.intermediate);
  const Outcome o = handshake(ccfg, test::server_config(other_leaf));
  ASSERT_TRUE(o.ok) << o.why;
  EXPECT_EQ(ccfg->chain_cache->hits(), 0u);
  EXPECT_EQ(ccfg->chain_cache->size(), 2u);
  EXPECT_EQ(o.peer_certificates, other_leaf.chain());

  // The keys themselves: one flipped byte, one certificate more, changes the key.
  const auto store = pki.trust_store();
  std::vector<std::uint8_t> leaf(pki.leaf.cert.der().begin(), pki.leaf.cert.der().end());
  const std::vector<wire::Bytes> original{leaf};
  const auto k1 =
      VerifiedChainCache::key(original, "leaf.example.com", store, crypto::Purpose::server);
  ASSERT_TRUE(k1);
  leaf.back() ^= 1;
  const auto k2 =
      VerifiedChainCache::key(original, "leaf.example.com", store, crypto::Purpose::server);
  ASSERT_TRUE(k2);
  EXPECT_NE(*k1, *k2);
  const std::vector<wire::Bytes> longer{leaf, pki.intermediate->cert.der()};
  const auto k3 =
      VerifiedChainCache::key(longer, "leaf.example.com", store, crypto::Purpose::server);
  ASSERT_TRUE(k3);
  EXPECT_NE(*k2, *k3);
  const auto k4 =
      VerifiedChainCache::key(original, "leaf.example.com", store, crypto::Purpose::client);
  ASSERT_TRUE(k4);
  EXPECT_NE(*k2, *k4);
}

TEST(TlsChainCache, EntriesExpireAfterMaxAge) {
  const auto& pki = shared_pki();
  auto now = clock_now();
  auto ccfg = client_at(pki, now);
  auto scfg = test::server_config(pki);
  ASSERT_TRUE(handshake(ccfg, scfg).ok);

  *now += VerifiedChainCache::default_max_age + 1s;
  const Outcome late = handshake(ccfg, scfg);
  ASSERT_TRUE(late.ok) << late.why;
  EXPECT_EQ(ccfg->chain_cache->hits(), 0u);
  EXPECT_EQ(ccfg->chain_cache->misses(), 2u);
  // Verified again, so reusable again.
  ASSERT_TRUE(handshake(ccfg, scfg).ok);
  EXPECT_EQ(ccfg->chain_cache->hits(), 1u);
}

TEST(TlsChainCache, EntriesNeverOutliveTheEarliestNotAfter) {
  const auto start = std::chrono::system_clock::now();
  auto pki = test::make_pki(
      {.with_intermediate = true, .leaf = {.not_before = start - 1h, .not_after = start + 3min}});
  auto now = std::make_shared<TimePoint>(start);
  auto ccfg = client_at(pki, now);
  auto scfg = test::server_config(pki);
  ASSERT_TRUE(handshake(ccfg, scfg).ok);

  // Within max_age, but past the leaf's notAfter: verified again, and refused.
  *now = start + 5min;
  const Outcome expired = handshake(ccfg, scfg);
  EXPECT_FALSE(expired.ok);
  EXPECT_EQ(expired.client_error, Errc::cert_expired);
  EXPECT_EQ(ccfg->chain_cache->hits(), 0u);
  EXPECT_EQ(ccfg->chain_cache->size(), 0u);
}

TEST(TlsChainCache, AClockBeforeTheVerificationWindowMisses) {
  const auto& pki = shared_pki();
  auto now = clock_now();
  auto ccfg = client_at(pki, now);
  auto scfg = test::server_config(pki);
  ASSERT_TRUE(handshake(ccfg, scfg).ok);

  // Before the leaf's notBefore (an hour ago): not reused, and path validation refuses it.
  *now -= 2h;
  const Outcome early = handshake(ccfg, scfg);
  EXPECT_FALSE(early.ok);
  EXPECT_EQ(early.client_error, Errc::cert_not_yet_valid);
  EXPECT_EQ(ccfg->chain_cache->hits(), 0u);
}

TEST(TlsChainCache, FailuresAreNeverCached) {
  const auto& pki = shared_pki();
  auto now = clock_now();
  auto strangers = client_at(test::make_pki(), now);
  auto scfg = test::server_config(pki);
  for (int i = 0; i < 3; ++i) {
    const Outcome o = handshake(strangers, scfg);
    EXPECT_FALSE(o.ok);
    EXPECT_EQ(o.client_error, Errc::cert_unknown_ca);
  }
  EXPECT_EQ(strangers->chain_cache->size(), 0u);
  EXPECT_EQ(strangers->chain_cache->hits(), 0u);
  EXPECT_EQ(strangers->chain_cache->misses(), 3u);
}

TEST(TlsChainCache, WithoutACacheEveryChainIsVerified) {
  const auto& pki = shared_pki();
  auto now = clock_now();
  auto ccfg = client_at(pki, now);
  ccfg->chain_cache = nullptr;
  auto scfg = test::server_config(pki);
  ASSERT_TRUE(handshake(ccfg, scfg).ok);
  const Outcome wrong = handshake(ccfg, scfg, "www.example.org");
  EXPECT_FALSE(wrong.ok);
  EXPECT_EQ(wrong.client_error, Errc::cert_hostname_mismatch);
}

TEST(TlsChainCache, SizeIsBoundedLeastRecentlyUsedFirst) {
  const auto& pki = shared_pki();
  const auto store = pki.trust_store();
  const auto now = std::chrono::system_clock::now();
  VerifiedChainCache cache(2);
  const std::vector<wire::Bytes> der{pki.leaf.cert.der()};
  std::vector<ChainCacheKey> keys;
  for (const char* name : {"a.example", "b.example", "c.example"}) {
    auto k = VerifiedChainCache::key(der, name, store, crypto::Purpose::server);
    ASSERT_TRUE(k);
    keys.push_back(*k);
  }
  cache.insert(keys[0], pki.chain(), store, now);
  cache.insert(keys[1], pki.chain(), store, now);
  ASSERT_TRUE(cache.find(keys[0], now));  // keys[0] is now the most recently used
  cache.insert(keys[2], pki.chain(), store, now);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.find(keys[1], now));  // evicted
  EXPECT_TRUE(cache.find(keys[0], now));
  EXPECT_TRUE(cache.find(keys[2], now));

  VerifiedChainCache none(0);
  none.insert(keys[0], pki.chain(), store, now);
  EXPECT_EQ(none.size(), 0u);
  EXPECT_FALSE(none.find(keys[0], now));
}

TEST(TlsChainCache, ConcurrentUseStaysBounded) {
  const auto& pki = shared_pki();
  const auto store = pki.trust_store();
  const auto now = std::chrono::system_clock::now();
  VerifiedChainCache cache(8);
  const std::vector<wire::Bytes> der{pki.leaf.cert.der()};
  constexpr int threads = 4;
  constexpr int rounds = 200;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        const auto name = std::to_string((t * rounds + i) % 16) + ".example";
        const auto k = VerifiedChainCache::key(der, name, store, crypto::Purpose::server);
        if (!k) continue;
        if (!cache.find(*k, now)) cache.insert(*k, pki.chain(), store, now);
      }
    });
  }
  for (auto& w : workers)
    w.join();
  EXPECT_LE(cache.size(), 8u);
  EXPECT_EQ(cache.hits() + cache.misses(), std::uint64_t{threads * rounds});
}

TEST(TlsChainCache, SkippedVerificationReusesTheParsedChain) {
  const auto& pki = shared_pki();
  auto now = clock_now();
  auto ccfg = client_at(pki, now);
  ccfg->insecure_skip_verification = true;
  auto scfg = test::server_config(pki);
  const Outcome first = handshake(ccfg, scfg);
  ASSERT_TRUE(first.ok) << first.why;
  EXPECT_EQ(ccfg->chain_cache->hits(), 0u);
  EXPECT_EQ(ccfg->chain_cache->size(), 1u);

  const Outcome second = handshake(ccfg, scfg);
  ASSERT_TRUE(second.ok) << second.why;
  EXPECT_EQ(ccfg->chain_cache->hits(), 1u);
  EXPECT_FALSE(second.peer_verified);
  EXPECT_EQ(second.peer_certificates, pki.chain());

  // Another server's chain is parsed afresh: the leaf key that checks its CertificateVerify
  // is its own.
  auto other_leaf = pki;
  other_leaf.leaf = test::make_leaf(*pki.intermediate);
  const Outcome other = handshake(ccfg, test::server_config(other_leaf));
  ASSERT_TRUE(other.ok) << other.why;
  EXPECT_EQ(ccfg->chain_cache->hits(), 1u);
  EXPECT_EQ(other.peer_certificates, other_leaf.chain());
}

TEST(TlsChainCache, AParsedOnlyEntryNeverStandsInForAVerification) {
  const auto& pki = shared_pki();
  auto now = clock_now();
  auto skipping = client_at(pki, now);
  skipping->insecure_skip_verification = true;
  auto scfg = test::server_config(pki);
  ASSERT_TRUE(handshake(skipping, scfg).ok);

  // A verifying client sharing the cache, with a store that lacks the root, is refused.
  auto strangers = client_at(test::make_pki(), now);
  strangers->chain_cache = skipping->chain_cache;
  const Outcome refused = handshake(strangers, scfg);
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.client_error, Errc::cert_unknown_ca);
  EXPECT_EQ(skipping->chain_cache->hits(), 0u);

  // The keys live in separate domains, and find() does not return a parsed-only entry even
  // under its own key.
  const auto store = pki.trust_store();
  const std::vector<wire::Bytes> der{pki.leaf.cert.der(), pki.intermediate->cert.der()};
  const auto parsed = VerifiedChainCache::parsed_key(der);
  const auto verified =
      VerifiedChainCache::key(der, "leaf.example.com", store, crypto::Purpose::server);
  ASSERT_TRUE(parsed);
  ASSERT_TRUE(verified);
  EXPECT_NE(*parsed, *verified);
  VerifiedChainCache cache;
  cache.insert_parsed(*parsed, pki.chain(), *now);
  EXPECT_FALSE(cache.find(*parsed, *now));
  EXPECT_TRUE(cache.find_parsed(*parsed, der, *now));
  // Nor does find_parsed() return a verified entry.
  cache.insert(*verified, pki.chain(), store, *now);
  EXPECT_FALSE(cache.find_parsed(*verified, der, *now));
}

TEST(TlsChainCache, AParsedOnlyEntryServesOnlyItsExactBytes) {
  const auto& pki = shared_pki();
  const auto now = std::chrono::system_clock::now();
  const std::vector<wire::Bytes> der{pki.leaf.cert.der(), pki.intermediate->cert.der()};
  const auto key = VerifiedChainCache::parsed_key(der);
  ASSERT_TRUE(key);
  VerifiedChainCache cache;
  cache.insert_parsed(*key, pki.chain(), now);
  // Looked up under the same key with other certificates (as a hash collision would), the
  // entry is not served.
  const auto other = test::make_leaf(*pki.intermediate);
  const std::vector<wire::Bytes> other_der{other.cert.der(), pki.intermediate->cert.der()};
  EXPECT_FALSE(cache.find_parsed(*key, other_der, now));
  const std::vector<wire::Bytes> shorter{pki.leaf.cert.der()};
  EXPECT_FALSE(cache.find_parsed(*key, shorter, now));
  std::vector<std::uint8_t> flipped(pki.leaf.cert.der().begin(), pki.leaf.cert.der().end());
  flipped.back() ^= 1;
  const std::vector<wire::Bytes> flipped_der{flipped, pki.intermediate->cert.der()};
  EXPECT_FALSE(cache.find_parsed(*key, flipped_der, now));
  auto hit = cache.find_parsed(*key, der, now);
  ASSERT_TRUE(hit);
  EXPECT_EQ(*hit, pki.chain());
  // Parsed-only entries are bounded by max_age too.
  EXPECT_FALSE(cache.find_parsed(*key, der, now + VerifiedChainCache::default_max_age + 1s));
}
