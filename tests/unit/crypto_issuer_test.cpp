#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/crypto/issuer.hpp"
#include "bulwark/crypto/random.hpp"
#include "bulwark/crypto/trust_store.hpp"
#include "support/pki.hpp"

using bulwark::Errc;
using bulwark::crypto::Certificate;
using bulwark::crypto::CertificateSpec;
using bulwark::crypto::issue_certificate;
using bulwark::crypto::KeyType;
using bulwark::crypto::PrivateKey;
namespace test = bulwark::test;
using namespace std::chrono_literals;

namespace {

// Critical flag of extension `nid`: 1 or 0, or -1 when the extension is absent.
int critical_flag(const Certificate& cert, int nid) {
  const int index = X509_get_ext_by_NID(cert.native(), nid, -1);
  if (index < 0) return -1;
  return X509_EXTENSION_get_critical(X509_get_ext(cert.native(), index));
}

// Was `child` signed by `parent`'s key? (libcrypto checks, independently of our verifier.)
bool signed_by(const Certificate& child, const Certificate& parent) {
  EVP_PKEY* key = X509_get0_pubkey(parent.native());
  return key != nullptr && X509_verify(child.native(), key) == 1;
}

CertificateSpec valid_leaf_spec() {
  CertificateSpec spec = bulwark::crypto::server_spec("leaf.example.com");
  return spec;
}

TEST(IssuerTest, RootCertificateExtensions) {
  const auto root = test::make_root();
  X509* x = root.cert.native();
  EXPECT_EQ(X509_get_version(x), X509_VERSION_3);
  EXPECT_EQ(root.cert.subject(), "CN=Bulwark Test Root");
  EXPECT_EQ(root.cert.issuer(), "CN=Bulwark Test Root");
  EXPECT_TRUE(root.cert.self_signed());
  EXPECT_TRUE(signed_by(root.cert, root.cert));

  // RFC 5280 4.2.1.9: basicConstraints critical with cA; no pathLenConstraint asked for.
  EXPECT_EQ(critical_flag(root.cert, NID_basic_constraints), 1);
  EXPECT_TRUE(root.cert.is_ca());
  EXPECT_EQ(X509_get_pathlen(x), -1);
  // RFC 5280 4.2.1.3: keyCertSign | cRLSign, critical.
  EXPECT_EQ(critical_flag(root.cert, NID_key_usage), 1);
  EXPECT_EQ(X509_get_key_usage(x), static_cast<std::uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_EQ(critical_flag(root.cert, NID_ext_key_usage), -1);
  EXPECT_EQ(critical_flag(root.cert, NID_subject_alt_name), -1);

  // RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits.
  const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(x);
  ASSERT_NE(skid, nullptr);
  unsigned char expected[EVP_MAX_MD_SIZE];
  unsigned int expected_len = 0;
  ASSERT_EQ(X509_pubkey_digest(x, EVP_sha1(), expected, &expected_len), 1);
  ASSERT_EQ(ASN1_STRING_length(skid), static_cast<int>(expected_len));
  EXPECT_EQ(std::memcmp(ASN1_STRING_get0_data(skid), expected, expected_len), 0);
  // Self-signed: the AKID is the certificate's own SKID.
  const ASN1_OCTET_STRING* akid = X509_get0_authority_key_id(x);
  ASSERT_NE(akid, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(akid, skid), 0);
}

TEST(IssuerTest, IntermediateAndLeafExtensions) {
  const auto pki = test::make_pki({.with_intermediate = true,
                                   .leaf = {.dns_names = {"leaf.example.com", "*.leaf.example.com"},
                                            .ip_addresses = {"192.0.2.1"}}});
  const Certificate& intermediate = pki.intermediate->cert;
  const Certificate& leaf = pki.leaf.cert;

  EXPECT_TRUE(intermediate.is_ca());
  EXPECT_EQ(X509_get_pathlen(intermediate.native()), 0);
  EXPECT_EQ(intermediate.issuer(), "CN=Bulwark Test Root");
  EXPECT_TRUE(signed_by(intermediate, pki.root.cert));
  EXPECT_FALSE(signed_by(intermediate, intermediate));
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(intermediate.native()),
                                  X509_get0_subject_key_id(pki.root.cert.native())),
            0);

  X509* x = leaf.native();
  EXPECT_EQ(X509_get_version(x), X509_VERSION_3);
  EXPECT_EQ(leaf.issuer(), "CN=Bulwark Test Intermediate");
  EXPECT_TRUE(signed_by(leaf, intermediate));
  EXPECT_EQ(critical_flag(leaf, NID_basic_constraints), 1);
  EXPECT_FALSE(leaf.is_ca());
  EXPECT_EQ(critical_flag(leaf, NID_key_usage), 1);
  // An ECDSA server key signs; it never decrypts a key transport.
  EXPECT_EQ(X509_get_key_usage(x), static_cast<std::uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(critical_flag(leaf, NID_ext_key_usage), 0);
  EXPECT_EQ(X509_get_extended_key_usage(x), static_cast<std::uint32_t>(XKU_SSL_SERVER));
  EXPECT_EQ(critical_flag(leaf, NID_subject_alt_name), 0);
  EXPECT_EQ(leaf.dns_names(), (std::vector<std::string>{"leaf.example.com", "*.leaf.example.com"}));
  EXPECT_EQ(leaf.ip_address_texts(), (std::vector<std::string>{"192.0.2.1"}));
  ASSERT_NE(X509_get0_subject_key_id(x), nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
                                  X509_get0_subject_key_id(intermediate.native())),
            0);
}

TEST(IssuerTest, KeyUsageFollowsUsageAndKeyType) {
  const auto root = test::make_root();
  auto rsa_server = test::make_leaf(root, {.key_type = KeyType::rsa});
  EXPECT_EQ(X509_get_key_usage(rsa_server.cert.native()),
            static_cast<std::uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  auto rsa_client =
      test::make_leaf(root, {.key_type = KeyType::rsa, .usage = CertificateSpec::Usage::client});
  EXPECT_EQ(X509_get_key_usage(rsa_client.cert.native()),
            static_cast<std::uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_extended_key_usage(rsa_client.cert.native()),
            static_cast<std::uint32_t>(XKU_SSL_CLIENT));
  auto both = test::make_leaf(root, {.usage = CertificateSpec::Usage::server_and_client});
  EXPECT_EQ(X509_get_extended_key_usage(both.cert.native()),
            static_cast<std::uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));
}

TEST(IssuerTest, SignatureAlgorithmPerIssuerKey) {
  struct Case {
    KeyType issuer_key;
    const char* algorithm;
  };
  for (const Case c :
       {Case{KeyType::ec_p256, "ecdsa-with-SHA256"}, Case{KeyType::ec_p384, "ecdsa-with-SHA384"},
        Case{KeyType::rsa, "sha256WithRSAEncryption"}, Case{KeyType::ed25519, "ED25519"}}) {
    const auto root = test::make_root("Root", c.issuer_key);
    const auto leaf = test::make_leaf(root);
    EXPECT_EQ(leaf.cert.signature_algorithm_name(), c.algorithm);
    EXPECT_EQ(root.cert.signature_algorithm_name(), c.algorithm);
    EXPECT_TRUE(signed_by(leaf.cert, root.cert)) << c.algorithm;
  }
}

TEST(IssuerTest, RsaPssIssuerKey) {
  // PrivateKey::generate does not make id-RSASSA-PSS keys: build one with libcrypto.
  EVP_PKEY* raw = nullptr;
  {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA-PSS", nullptr);
    ASSERT_NE(ctx, nullptr);
    const bool generated = EVP_PKEY_keygen_init(ctx) == 1 &&
                           EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) == 1 &&
                           EVP_PKEY_generate(ctx, &raw) == 1;
    EVP_PKEY_CTX_free(ctx);
    ASSERT_TRUE(generated);
  }
  const PrivateKey pss(raw);
  ASSERT_EQ(pss.type(), KeyType::rsa_pss);
  auto root =
      issue_certificate(bulwark::crypto::ca_spec("PSS Root"), pss.public_key(), pss, nullptr);
  ASSERT_TRUE(root) << root.error().message();
  EXPECT_EQ(root->signature_algorithm_name(), "rsassaPss");
  EXPECT_TRUE(root->self_signed());
  const auto leaf_key = test::make_key();
  auto leaf = issue_certificate(valid_leaf_spec(), leaf_key.public_key(), pss, &*root);
  ASSERT_TRUE(leaf) << leaf.error().message();
  const std::vector<Certificate> anchors = {*root};
  auto status = bulwark::crypto::TrustStore::from_certificates(anchors)->verify(
      *leaf, {}, {.host = "leaf.example.com"});
  EXPECT_TRUE(status) << status.error().message();
}

TEST(IssuerTest, SerialNumberIsSixteenPositiveRandomOctets) {
  const auto key = test::make_key();
  const CertificateSpec spec = bulwark::crypto::ca_spec("Serial");
  const std::array<std::uint8_t, 16> ones = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                             0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  bulwark::crypto::FixedRandom all_ones(ones);
  auto high = issue_certificate(spec, key.public_key(), key, nullptr, all_ones);
  ASSERT_TRUE(high) << high.error().message();
  // RFC 5280 4.1.2.2: positive, at most 20 octets.
  EXPECT_EQ(high->serial_hex(), "7fffffffffffffffffffffffffffffff");

  const std::array<std::uint8_t, 16> zeros{};
  bulwark::crypto::FixedRandom all_zeros(zeros);
  auto low = issue_certificate(spec, key.public_key(), key, nullptr, all_zeros);
  ASSERT_TRUE(low) << low.error().message();
  EXPECT_EQ(low->serial_hex(), "40000000000000000000000000000000");

  // The random source is exhausted: its failure is reported.
  auto exhausted = issue_certificate(spec, key.public_key(), key, nullptr, all_zeros);
  ASSERT_FALSE(exhausted);
  EXPECT_EQ(exhausted.error(), Errc::invalid_argument);

  auto a = issue_certificate(spec, key.public_key(), key, nullptr);
  auto b = issue_certificate(spec, key.public_key(), key, nullptr);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->serial_hex(), b->serial_hex());
}

TEST(IssuerTest, ConvenienceSpecs) {
  const auto server = bulwark::crypto::server_spec("host.example.com", 24h);
  EXPECT_EQ(server.dns_names, std::vector<std::string>{"host.example.com"});
  EXPECT_TRUE(server.ip_addresses.empty());
  EXPECT_FALSE(server.is_ca);
  EXPECT_EQ(server.usage, CertificateSpec::Usage::server);
  EXPECT_EQ(server.not_after - server.not_before, 25h);

  const auto ip = bulwark::crypto::server_spec("2001:db8::5");
  EXPECT_TRUE(ip.dns_names.empty());
  EXPECT_EQ(ip.ip_addresses, std::vector<std::string>{"2001:db8::5"});

  const auto ca = bulwark::crypto::ca_spec("CA");
  EXPECT_TRUE(ca.is_ca);
  EXPECT_EQ(ca.usage, CertificateSpec::Usage::ca);
  EXPECT_GT(ca.not_after, std::chrono::system_clock::now() + 24h * 365 * 9);
}

TEST(IssuerTest, RejectsInconsistentSpecsAndKeys) {
  const auto root = test::make_root();
  const auto key = test::make_key();
  auto issue = [&](const CertificateSpec& spec) {
    return issue_certificate(spec, key.public_key(), root.key, &root.cert);
  };
  ASSERT_TRUE(issue(valid_leaf_spec()));

  auto spec = valid_leaf_spec();
  spec.common_name.clear();
  EXPECT_EQ(issue(spec).error(), Errc::invalid_argument);
  spec = valid_leaf_spec();
  spec.common_name = std::string(65, 'a');  // ub-common-name is 64
  EXPECT_EQ(issue(spec).error(), Errc::invalid_argument);
  spec = valid_leaf_spec();
  spec.not_after = spec.not_before;
  EXPECT_EQ(issue(spec).error(), Errc::invalid_argument);
  spec = valid_leaf_spec();
  spec.path_length = 0;  // without is_ca
  EXPECT_EQ(issue(spec).error(), Errc::invalid_argument);
  spec = bulwark::crypto::ca_spec("CA");
  spec.path_length = -1;
  EXPECT_EQ(issue(spec).error(), Errc::invalid_argument);
  spec = valid_leaf_spec();
  spec.ip_addresses = {"300.1.1.1"};
  EXPECT_EQ(issue(spec).error(), Errc::invalid_argument);
  for (const std::string& bad : {std::string(""), std::string("a b.example.com"),
                                 std::string("caf\xc3\xa9.example.com"), std::string("a\0b", 3)}) {
    spec = valid_leaf_spec();
    spec.dns_names = {bad};
    EXPECT_EQ(issue(spec).error(), Errc::invalid_argument);
  }

  // The issuer key must be the issuer certificate's key.
  const auto other_root = test::make_root();
  EXPECT_EQ(
      issue_certificate(valid_leaf_spec(), key.public_key(), other_root.key, &root.cert).error(),
      Errc::invalid_argument);
  // Self-signed means signed by the subject's own key.
  EXPECT_EQ(issue_certificate(valid_leaf_spec(), key.public_key(), root.key, nullptr).error(),
            Errc::invalid_argument);
  EXPECT_EQ(issue_certificate(valid_leaf_spec(), bulwark::crypto::PublicKey(), root.key, &root.cert)
                .error(),
            Errc::invalid_argument);
  EXPECT_EQ(
      issue_certificate(valid_leaf_spec(), key.public_key(), PrivateKey(), &root.cert).error(),
      Errc::invalid_argument);
  const Certificate empty;
  EXPECT_EQ(issue_certificate(valid_leaf_spec(), key.public_key(), root.key, &empty).error(),
            Errc::invalid_argument);
}

TEST(IssuerTest, IssuedCertificateSurvivesPemRoundTrip) {
  const auto pki = test::make_pki({.with_intermediate = true});
  auto pem = pki.leaf.cert.to_pem();
  ASSERT_TRUE(pem);
  auto parsed = Certificate::from_pem(*pem);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, pki.leaf.cert);
  auto status =
      pki.trust_store().verify(*parsed, pki.intermediates(), {.host = "leaf.example.com"});
  EXPECT_TRUE(status) << status.error().message();
}

}  // namespace
