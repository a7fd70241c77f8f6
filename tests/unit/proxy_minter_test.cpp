// proxy::CertificateMinter and NameSet: minted leaves copy the upstream's names, verify under
// the proxy CA, share one key, and are cached (LRU, bounded) by name set.
#include "bulwark/proxy/minter.hpp"

#include <gtest/gtest.h>

#include "support/pki.hpp"

namespace bulwark::proxy {
namespace {

struct MinterFixture : ::testing::Test {
  test::Issued ca = test::make_root("Proxy Test CA");
  std::shared_ptr<CertificateMinter> make(std::size_t capacity = 8) {
    MinterOptions o;
    o.ca_cert = ca.cert;
    o.ca_key = ca.key;
    o.capacity = capacity;
    return test::must(CertificateMinter::create(std::move(o)), "minter");
  }
  crypto::TrustStore trust() {
    const std::vector<crypto::Certificate> anchors{ca.cert};
    return test::must(crypto::TrustStore::from_certificates(anchors), "store");
  }
};

TEST_F(MinterFixture, NameSetCopiesTheUpstreamNames) {
  test::Issued upstream_ca = test::make_root("Upstream CA");
  test::Issued leaf = test::make_leaf(
      upstream_ca, {.common_name = "www.example.org",
                    .dns_names = {"WWW.example.org", "*.cdn.example.org", "bad+name.example.org"},
                    .ip_addresses = {"192.0.2.7"}});
  NameSet names = NameSet::from_upstream(leaf.cert, "www.example.org");
  EXPECT_EQ(names.common_name, "www.example.org");
  EXPECT_EQ(names.dns_names, (std::vector<std::string>{"*.cdn.example.org", "www.example.org"}));
  EXPECT_EQ(names.ip_addresses, (std::vector<std::string>{"192.0.2.7"}));
  // A requested name the upstream does not cover is added (the --upstream-insecure case).
  NameSet other = NameSet::from_upstream(leaf.cert, "other.example.net");
  EXPECT_EQ(other.dns_names.size(), 3u);
  EXPECT_NE(other.key(), names.key());
  // A covered one (through the wildcard) is not.
  EXPECT_EQ(NameSet::from_upstream(leaf.cert, "a.cdn.example.org").key(), names.key());
}

TEST_F(MinterFixture, MintedLeafVerifiesUnderTheCaForTheUpstreamNames) {
  auto minter = make();
  test::Issued upstream_ca = test::make_root("Upstream CA");
  test::Issued leaf = test::make_leaf(
      upstream_ca,
      {.common_name = "shop.example.org", .dns_names = {"shop.example.org", "example.org"}});
  auto config = minter->config_for(NameSet::from_upstream(leaf.cert, "shop.example.org"));
  ASSERT_TRUE(config) << config.error().message();
  ASSERT_EQ((*config)->certificates.size(), 1u);
  const auto& chain = (*config)->certificates[0].chain;
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[1], ca.cert);
  EXPECT_EQ(chain[0].common_name(), "shop.example.org");
  EXPECT_EQ(chain[0].issuer(), ca.cert.subject());
  const std::vector<crypto::Certificate> none;
  EXPECT_TRUE(trust().verify(chain[0], none, {.host = "shop.example.org"}));
  EXPECT_TRUE(trust().verify(chain[0], none, {.host = "example.org"}));
  EXPECT_FALSE(trust().verify(chain[0], none, {.host = "evil.example.org"}));
  // The CA that signed the upstream's leaf does not vouch for ours.
  const std::vector<crypto::Certificate> upstream_anchor{upstream_ca.cert};
  auto upstream_store = test::must(crypto::TrustStore::from_certificates(upstream_anchor), "store");
  EXPECT_FALSE(upstream_store.verify(chain[0], none, {.host = "shop.example.org"}));
  EXPECT_TRUE((*config)->certificates[0].check());
}

TEST_F(MinterFixture, OneLeafKeyForEveryName) {
  auto minter = make();
  auto a = minter->config_for(NameSet::for_host("a.example.org"));
  auto b = minter->config_for(NameSet::for_host("b.example.org"));
  ASSERT_TRUE(a && b);
  auto ka = (*a)->certificates[0].chain[0].public_key();
  auto kb = (*b)->certificates[0].chain[0].public_key();
  ASSERT_TRUE(ka && kb);
  EXPECT_EQ(*ka->spki_der(), *kb->spki_der());
  EXPECT_EQ(*ka->spki_der(), *minter->leaf_key().public_key().spki_der());
}

TEST_F(MinterFixture, CachesByNameSetAndEvictsTheLeastRecentlyUsed) {
  auto minter = make(2);
  auto a1 = minter->config_for(NameSet::for_host("a.example.org"));
  auto a2 = minter->config_for(NameSet::for_host("A.example.org"));
  ASSERT_TRUE(a1 && a2);
  EXPECT_EQ(a1->get(), a2->get());  // the same config: no second signature
  EXPECT_EQ(minter->stats().minted, 1u);
  EXPECT_EQ(minter->stats().hits, 1u);
  ASSERT_TRUE(minter->config_for(NameSet::for_host("b.example.org")));
  ASSERT_TRUE(minter->config_for(NameSet::for_host("a.example.org")));  // a is now the newest
  ASSERT_TRUE(minter->config_for(NameSet::for_host("c.example.org")));  // evicts b
  EXPECT_EQ(minter->stats().cached, 2u);
  EXPECT_EQ(minter->stats().minted, 3u);
  ASSERT_TRUE(minter->config_for(NameSet::for_host("a.example.org")));
  EXPECT_EQ(minter->stats().minted, 3u);
  ASSERT_TRUE(minter->config_for(NameSet::for_host("b.example.org")));
  EXPECT_EQ(minter->stats().minted, 4u);
}

TEST_F(MinterFixture, MintsForAddresses) {
  auto minter = make();
  auto config = minter->config_for(NameSet::for_host("[::1]"));
  ASSERT_TRUE(config) << config.error().message();
  const std::vector<crypto::Certificate> none;
  EXPECT_TRUE(trust().verify((*config)->certificates[0].chain[0], none, {.host = "::1"}));
}

TEST_F(MinterFixture, RefusesAMissingCa) {
  MinterOptions o;
  EXPECT_FALSE(CertificateMinter::create(std::move(o)));
}

}  // namespace
}  // namespace bulwark::proxy
