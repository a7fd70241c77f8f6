// The scanner's cipher suite table: order, uniqueness and the properties derived from names.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "bulwark/scan/suites.hpp"
#include "bulwark/tls/cipher_suites.hpp"

namespace bulwark::scan {
namespace {

TEST(ScanSuites, TableIsSortedUniqueAndFindable) {
  const auto all = all_suites();
  ASSERT_GT(all.size(), 200u);
  for (std::size_t i = 1; i < all.size(); ++i)
    EXPECT_LT(all[i - 1].id, all[i].id);
  for (const auto& s : all) {
    const SuiteInfo* found = find_suite(s.id);
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(found->name, s.name);
    EXPECT_EQ(s.name.substr(0, 4), "TLS_");
  }
  EXPECT_EQ(find_suite(0x0000), nullptr);
  EXPECT_EQ(find_suite(0xfefe), nullptr);
}

TEST(ScanSuites, AgreesWithTheEngineOnEverySuiteItImplements) {
  for (const auto& info : tls::supported_cipher_suites()) {
    const SuiteInfo* s = find_suite(static_cast<std::uint16_t>(info.id));
    ASSERT_NE(s, nullptr) << info.name;
    EXPECT_EQ(s->name, info.name);
    EXPECT_EQ(s->tls13, info.version == tls::ProtocolVersion::tls13) << info.name;
    EXPECT_EQ(s->aead, info.protection == tls::RecordProtection::aead) << info.name;
    EXPECT_EQ(s->forward_secret, info.kx != tls::KeyExchange::rsa) << info.name;
  }
}

TEST(ScanSuites, DerivedPropertiesOfWeakSuites) {
  const SuiteInfo* rc4 = find_suite(0x0004);  // TLS_RSA_WITH_RC4_128_MD5
  ASSERT_NE(rc4, nullptr);
  EXPECT_TRUE(rc4->rc4);
  EXPECT_EQ(rc4->mac, "MD5");
  EXPECT_FALSE(rc4->forward_secret);
  EXPECT_EQ(rc4->bits, 128);

  const SuiteInfo* exp = find_suite(0x0003);  // TLS_RSA_EXPORT_WITH_RC4_40_MD5
  ASSERT_NE(exp, nullptr);
  EXPECT_TRUE(exp->export_grade);
  EXPECT_TRUE(exp->rsa_export);
  EXPECT_EQ(exp->bits, 40);

  const SuiteInfo* des3 = find_suite(0x000a);  // TLS_RSA_WITH_3DES_EDE_CBC_SHA
  ASSERT_NE(des3, nullptr);
  EXPECT_TRUE(des3->block64);
  EXPECT_TRUE(des3->cbc);
  EXPECT_EQ(des3->bits, 112);

  const SuiteInfo* des = find_suite(0x0009);  // TLS_RSA_WITH_DES_CBC_SHA
  ASSERT_NE(des, nullptr);
  EXPECT_EQ(des->bits, 56);

  const SuiteInfo* anon = find_suite(0x0034);  // TLS_DH_anon_WITH_AES_128_CBC_SHA
  ASSERT_NE(anon, nullptr);
  EXPECT_TRUE(anon->anonymous);
  EXPECT_TRUE(anon->dhe);

  const SuiteInfo* null = find_suite(0x0002);  // TLS_RSA_WITH_NULL_SHA
  ASSERT_NE(null, nullptr);
  EXPECT_TRUE(null->null_cipher);
  EXPECT_EQ(null->bits, 0);

  const SuiteInfo* ccm = find_suite(0xc0ac);  // TLS_ECDHE_ECDSA_WITH_AES_128_CCM
  ASSERT_NE(ccm, nullptr);
  EXPECT_TRUE(ccm->aead);
  EXPECT_TRUE(ccm->ecdhe);
  EXPECT_EQ(ccm->mac, "AEAD");

  const SuiteInfo* psk = find_suite(0x00a8);  // TLS_PSK_WITH_AES_128_GCM_SHA256
  ASSERT_NE(psk, nullptr);
  EXPECT_TRUE(psk->psk);
}

TEST(ScanSuites, ProbeListsFollowTheVersion) {
  const auto v13 = probe_suites(0x0304);
  EXPECT_EQ(v13.size(), 5u);
  for (auto id : v13)
    EXPECT_TRUE(find_suite(id)->tls13);

  const auto v12 = probe_suites(0x0303);
  const auto v10 = probe_suites(0x0301);
  EXPECT_GT(v12.size(), v10.size());
  // RFC 5246 §1.2: SHA-256 suites and AEAD came with TLS 1.2; never offered in older hellos.
  for (auto id : v10) {
    const SuiteInfo* s = find_suite(id);
    EXPECT_FALSE(s->aead) << s->name;
    EXPECT_NE(s->mac, "SHA256") << s->name;
    EXPECT_FALSE(s->psk) << s->name;
  }
  EXPECT_NE(std::find(v10.begin(), v10.end(), 0x0004), v10.end());  // RC4 is still offered
  EXPECT_NE(std::find(v12.begin(), v12.end(), 0xc02f), v12.end());
  EXPECT_EQ(std::find(v12.begin(), v12.end(), 0x1301), v12.end());
}

TEST(ScanSuites, NamesForUnknownCodePoints) {
  EXPECT_EQ(suite_name(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
  EXPECT_EQ(suite_name(0xabcd), "0xabcd");
  ASSERT_NE(find_sslv2_cipher(0x0700c0), nullptr);
  EXPECT_EQ(find_sslv2_cipher(0x0700c0)->name, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5");
  EXPECT_TRUE(find_sslv2_cipher(0x020080)->export_grade);
  EXPECT_EQ(find_sslv2_cipher(0x123456), nullptr);
}

}  // namespace
}  // namespace bulwark::scan
