#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/crypto/issuer.hpp"
#include "bulwark/crypto/trust_store.hpp"
#include "support/pki.hpp"
#include "support/temp_dir.hpp"

using bulwark::Errc;
using bulwark::crypto::Certificate;
using bulwark::crypto::CertificateSpec;
using bulwark::crypto::KeyType;
using bulwark::crypto::Purpose;
using bulwark::crypto::TrustStore;
using bulwark::crypto::VerifyOptions;
namespace test = bulwark::test;
using namespace std::chrono_literals;

namespace {

std::chrono::system_clock::time_point now() {
  return std::chrono::system_clock::now();
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

using bulwark::test::TempDir;

TEST(TrustStoreTest, SystemStoreHasManyAnchors) {
  auto store = TrustStore::system();
  ASSERT_TRUE(store) << store.error().message();
  EXPECT_GT(store->size(), 50u);
  // Loaded once: a second call shares the same store.
  auto again = TrustStore::system();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->native(), store->native());
  // Our own test root is not a system anchor.
  const auto pki = test::make_pki();
  EXPECT_EQ(store->verify(pki.leaf.cert, {}).error(), Errc::cert_unknown_ca);
}

TEST(TrustStoreTest, SystemStoreTrustsItsOwnRoots) {
  auto bundle = bulwark::crypto::load_certificates_file("/etc/ssl/certs/ca-certificates.crt");
  ASSERT_TRUE(bundle) << bundle.error().message();
  ASSERT_FALSE(bundle->empty());
  auto store = TrustStore::system();
  ASSERT_TRUE(store);
  const Certificate& anchor = bundle->front();
  // Checked at a moment inside the anchor's own validity period.
  const auto inside = anchor.not_before() + (anchor.not_after() - anchor.not_before()) / 2;
  auto status = store->verify(anchor, {}, {.purpose = Purpose::any, .at = inside});
  EXPECT_TRUE(status) << anchor.subject() << ": " << status.error().message();
}

TEST(TrustStoreTest, RootToLeaf) {
  const auto pki = test::make_pki();
  const auto store = pki.trust_store();
  EXPECT_EQ(store.size(), 1u);
  auto status = store.verify(pki.leaf.cert, {});
  EXPECT_TRUE(status) << status.error().message();
  status = store.verify(pki.leaf.cert, {}, {.host = "leaf.example.com"});
  EXPECT_TRUE(status) << status.error().message();
}

TEST(TrustStoreTest, RootToIntermediateToLeaf) {
  const auto pki = test::make_pki({.with_intermediate = true});
  const auto store = pki.trust_store();
  auto status = store.verify(pki.leaf.cert, pki.intermediates(), {.host = "leaf.example.com"});
  EXPECT_TRUE(status) << status.error().message();

  // Without the intermediate there is no path.
  status = store.verify(pki.leaf.cert, {});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errc::cert_unknown_ca);
  EXPECT_TRUE(contains(status.error().detail(), "depth 0")) << status.error().detail();
  EXPECT_TRUE(contains(status.error().detail(), "issuer CN=Bulwark Test Intermediate"))
      << status.error().detail();

  // Extra, unrelated certificates and the root itself among the intermediates do no harm.
  const auto other = test::make_pki({.with_intermediate = true});
  const std::vector<Certificate> extra = {other.intermediate->cert, pki.root.cert,
                                          pki.intermediate->cert};
  status = store.verify(pki.leaf.cert, extra);
  EXPECT_TRUE(status) << status.error().message();
}

TEST(TrustStoreTest, ExpiredLeaf) {
  // Expired ten minutes ago; the test root is valid from an hour ago.
  const auto expired_at = now() - 10min;
  const auto pki = test::make_pki({.leaf = {.not_before = now() - 48h, .not_after = expired_at}});
  const auto store = pki.trust_store();
  auto status = store.verify(pki.leaf.cert, {});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errc::cert_expired);
  const std::string& detail = status.error().detail();
  EXPECT_TRUE(contains(detail, "certificate has expired")) << detail;
  EXPECT_TRUE(contains(detail, "depth 0")) << detail;
  EXPECT_TRUE(contains(detail, "CN=leaf.example.com")) << detail;
  EXPECT_TRUE(contains(detail, "notAfter 20")) << detail;

  // The `at` option moves the clock: the same chain verifies at an earlier instant.
  status = store.verify(pki.leaf.cert, {}, {.at = expired_at - 20min});
  EXPECT_TRUE(status) << status.error().message();
}

TEST(TrustStoreTest, NotYetValidLeaf) {
  const auto starts = now() + 24h;
  const auto pki = test::make_pki({.leaf = {.not_before = starts, .not_after = starts + 48h}});
  const auto store = pki.trust_store();
  auto status = store.verify(pki.leaf.cert, {});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errc::cert_not_yet_valid);
  EXPECT_TRUE(contains(status.error().detail(), "notBefore")) << status.error().detail();
  status = store.verify(pki.leaf.cert, {}, {.at = starts + 1h});
  EXPECT_TRUE(status) << status.error().message();
}

TEST(TrustStoreTest, ExpiredIntermediateIsReportedAtItsDepth) {
  auto root = test::make_root();
  auto spec = test::ca_spec_named("Expired Intermediate", 0);
  spec.not_before = now() - 72h;
  spec.not_after = now() - 24h;
  auto intermediate = test::issue(spec, KeyType::ec_p256, &root);
  auto leaf = test::make_leaf(intermediate);
  const std::vector<Certificate> anchors = {root.cert};
  const auto store = TrustStore::from_certificates(anchors).value();
  const std::vector<Certificate> intermediates = {intermediate.cert};
  auto status = store.verify(leaf.cert, intermediates);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errc::cert_expired);
  EXPECT_TRUE(contains(status.error().detail(), "depth 1, CN=Expired Intermediate"))
      << status.error().detail();
}

TEST(TrustStoreTest, LeafFromAnotherRootIsUnknownCa) {
  const auto ours = test::make_pki();
  const auto theirs = test::make_pki();
  auto status = ours.trust_store().verify(theirs.leaf.cert, {});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errc::cert_unknown_ca);

  // A self-signed certificate that is not an anchor.
  status = ours.trust_store().verify(theirs.root.cert, {}, {.purpose = Purpose::any});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errc::cert_unknown_ca);

  // An empty store trusts nothing.
  EXPECT_EQ(TrustStore().verify(ours.leaf.cert, {}).error(), Errc::cert_unknown_ca);
}

TEST(TrustStoreTest, TamperedSignatureIsBadSignature) {
  const auto pki = test::make_pki();
  std::vector<std::uint8_t> der(pki.leaf.cert.der().begin(), pki.leaf.cert.der().end());
  der.back() ^= 0x01;  // the last byte of the signature value
  auto tampered = Certificate::from_der(der);
  ASSERT_TRUE(tampered) << tampered.error().message();
  auto status = pki.trust_store().verify(*tampered, {});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errc::cert_bad_signature);
  EXPECT_TRUE(contains(status.error().detail(), "depth 0")) << status.error().detail();
}

TEST(TrustStoreTest, ClientOnlyLeafForServerPurposeIsWrongPurpose) {
  const auto pki = test::make_pki(
      {.leaf = {
           .common_name = "client", .dns_names = {}, .usage = CertificateSpec::Usage::client}});
  const auto store = pki.trust_store();
  auto status = store.verify(pki.leaf.cert, {}, {.purpose = Purpose::server});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errc::cert_wrong_purpose);
  status = store.verify(pki.leaf.cert, {}, {.purpose = Purpose::client});
  EXPECT_TRUE(status) << status.error().message();

  // And the other way round.
  const auto server = test::make_pki();
  EXPECT_EQ(server.trust_store().verify(server.leaf.cert, {}, {.purpose = Purpose::client}).error(),
            Errc::cert_wrong_purpose);
  const auto both = test::make_pki({.leaf = {.usage = CertificateSpec::Usage::server_and_client}});
  EXPECT_TRUE(both.trust_store().verify(both.leaf.cert, {}, {.purpose = Purpose::client}));
  EXPECT_TRUE(both.trust_store().verify(both.leaf.cert, {}, {.purpose = Purpose::server}));
}

TEST(TrustStoreTest, IntermediateWithoutCaFlagIsInvalid) {
  auto root = test::make_root();
  // keyCertSign without basicConstraints cA: a leaf posing as a CA (the basicConstraints
  // attack that once fooled browsers).
  auto spec = test::ca_spec_named("Not A CA");
  spec.is_ca = false;
  auto fake_ca = test::issue(spec, KeyType::ec_p256, &root);
  auto leaf = test::make_leaf(fake_ca);
  const std::vector<Certificate> anchors = {root.cert};
  const std::vector<Certificate> intermediates = {fake_ca.cert};
  auto status = TrustStore::from_certificates(anchors)->verify(leaf.cert, intermediates);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errc::cert_invalid);
  EXPECT_TRUE(contains(status.error().detail(), "depth 1")) << status.error().detail();
}

TEST(TrustStoreTest, PathLengthConstraintIsEnforced) {
  auto root = test::issue(test::ca_spec_named("Root pathlen 0", 0));
  auto intermediate = test::make_intermediate(root);
  auto leaf = test::make_leaf(intermediate);
  const std::vector<Certificate> anchors = {root.cert};
  const std::vector<Certificate> intermediates = {intermediate.cert};
  auto status = TrustStore::from_certificates(anchors)->verify(leaf.cert, intermediates);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errc::cert_invalid);
}

TEST(TrustStoreTest, MaxDepthBoundsTheChain) {
  const auto pki = test::make_pki({.with_intermediate = true});
  const auto store = pki.trust_store();
  EXPECT_TRUE(store.verify(pki.leaf.cert, pki.intermediates(), {.max_depth = 1}));
  auto status = store.verify(pki.leaf.cert, pki.intermediates(), {.max_depth = 0});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errc::cert_invalid);
  EXPECT_EQ(store.verify(pki.leaf.cert, pki.intermediates(), {.max_depth = -1}).error(),
            Errc::invalid_argument);
}

TEST(TrustStoreTest, HostNameIsCheckedAfterTheChain) {
  const auto pki = test::make_pki({.leaf = {.common_name = "www.example.net",
                                            .dns_names = {"www.example.net", "*.cdn.example.net"},
                                            .ip_addresses = {"203.0.113.5", "::1"}}});
  const auto store = pki.trust_store();
  EXPECT_TRUE(store.verify(pki.leaf.cert, {}, {.host = "www.example.net"}));
  EXPECT_TRUE(store.verify(pki.leaf.cert, {}, {.host = "img.cdn.example.net"}));
  EXPECT_TRUE(store.verify(pki.leaf.cert, {}, {.host = "203.0.113.5"}));
  EXPECT_TRUE(store.verify(pki.leaf.cert, {}, {.host = "::1"}));

  auto status = store.verify(pki.leaf.cert, {}, {.host = "mail.example.net"});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errc::cert_hostname_mismatch);
  EXPECT_TRUE(contains(status.error().detail(), "mail.example.net")) << status.error().detail();
  EXPECT_TRUE(contains(status.error().detail(), "DNS:www.example.net")) << status.error().detail();
  EXPECT_EQ(store.verify(pki.leaf.cert, {}, {.host = "203.0.113.6"}).error(),
            Errc::cert_hostname_mismatch);

  // A chain failure wins over a name that would also fail.
  const auto other = test::make_pki();
  EXPECT_EQ(store.verify(other.leaf.cert, {}, {.host = "mail.example.net"}).error(),
            Errc::cert_unknown_ca);
}

TEST(TrustStoreTest, EveryKeyTypeVerifies) {
  for (const KeyType root_key : {KeyType::ec_p256, KeyType::rsa, KeyType::ec_p384}) {
    for (const KeyType leaf_key :
         {KeyType::ec_p256, KeyType::rsa, KeyType::ec_p384, KeyType::ed25519}) {
      const auto pki = test::make_pki({.root_key = root_key,
                                       .with_intermediate = true,
                                       .intermediate_key = KeyType::ed25519,
                                       .leaf = {.key_type = leaf_key}});
      auto status = pki.trust_store().verify(pki.leaf.cert, pki.intermediates(),
                                             {.host = "leaf.example.com"});
      EXPECT_TRUE(status) << bulwark::crypto::key_type_name(root_key) << " -> "
                          << bulwark::crypto::key_type_name(leaf_key) << ": "
                          << status.error().message();
      EXPECT_EQ(pki.leaf.cert.public_key()->type(), leaf_key);
    }
  }
}

TEST(TrustStoreTest, AnyStoredCertificateIsAnAnchor) {
  // An intermediate as the only anchor (RFC 5280 6.1.1 (d)): the chain stops there.
  const auto pki = test::make_pki({.with_intermediate = true});
  const std::vector<Certificate> anchors = {pki.intermediate->cert};
  auto status = TrustStore::from_certificates(anchors)->verify(pki.leaf.cert, {});
  EXPECT_TRUE(status) << status.error().message();

  // A self-signed server certificate trusted directly.
  auto self_signed = test::issue(bulwark::crypto::server_spec("self.example.com"));
  const std::vector<Certificate> pinned = {self_signed.cert};
  status = TrustStore::from_certificates(pinned)->verify(self_signed.cert, {},
                                                         {.host = "self.example.com"});
  EXPECT_TRUE(status) << status.error().message();
}

TEST(TrustStoreTest, AddAndCopiesShareAnchors) {
  const auto pki = test::make_pki();
  TrustStore store;
  const TrustStore copy = store;
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(copy.verify(pki.leaf.cert, {}).error(), Errc::cert_unknown_ca);
  ASSERT_TRUE(store.add(pki.root.cert));
  ASSERT_TRUE(store.add(pki.root.cert));  // a duplicate is accepted once
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(copy.size(), 1u);
  EXPECT_TRUE(copy.verify(pki.leaf.cert, {}));
  EXPECT_EQ(store.add(Certificate()).error(), Errc::invalid_argument);
  EXPECT_EQ(store.verify(Certificate(), {}).error(), Errc::invalid_argument);
}

TEST(TrustStoreTest, FromFileAndDirectory) {
  const auto pki = test::make_pki({.with_intermediate = true});
  const TempDir dir;
  const auto bundle = dir.write("anchors.pem", pki.root.cert.to_pem().value());
  auto from_file = TrustStore::from_file(bundle);
  ASSERT_TRUE(from_file) << from_file.error().message();
  EXPECT_EQ(from_file->size(), 1u);
  EXPECT_TRUE(from_file->verify(pki.leaf.cert, pki.intermediates()));

  EXPECT_EQ(TrustStore::from_file(dir.path() / "missing.pem").error(), Errc::io_error);
  EXPECT_EQ(TrustStore::from_file(dir.write("junk.pem", "junk")).error(), Errc::decode_failed);

  // A c_rehash-style directory: "<subject hash>.0".
  const auto hashed = dir.path() / "hashed";
  std::filesystem::create_directories(hashed);
  char name[16];
  std::snprintf(name, sizeof name, "%08lx.0", X509_subject_name_hash(pki.root.cert.native()));
  std::ofstream(hashed / name) << pki.root.cert.to_pem().value();
  auto from_dir = TrustStore::from_directory(hashed);
  ASSERT_TRUE(from_dir) << from_dir.error().message();
  auto status = from_dir->verify(pki.leaf.cert, pki.intermediates());
  EXPECT_TRUE(status) << status.error().message();
  const auto other = test::make_pki();
  EXPECT_EQ(from_dir->verify(other.leaf.cert, {}).error(), Errc::cert_unknown_ca);

  EXPECT_EQ(TrustStore::from_directory(dir.path() / "nope").error(), Errc::io_error);
  EXPECT_EQ(TrustStore::from_directory(bundle).error(), Errc::io_error);
}

}  // namespace
