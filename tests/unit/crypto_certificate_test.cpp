#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/crypto/issuer.hpp"
#include "support/pki.hpp"
#include "support/temp_dir.hpp"

using bulwark::Errc;
using bulwark::crypto::Certificate;
using bulwark::crypto::KeyType;
namespace test = bulwark::test;
using namespace std::chrono_literals;

namespace {

using Bytes = std::vector<std::uint8_t>;

// ISRG Root X1, as shipped in Debian ca-certificates (/etc/ssl/certs/ISRG_Root_X1.pem); its
// published SHA-256 fingerprint is 96:BC:EC:06:...:DF:08:C6 (see kIsrgRootX1Sha256 below).
constexpr const char* kIsrgRootX1Pem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIFazCCA1OgAwIBAgIRAIIQz7DSQONZRGPgu2OCiwAwDQYJKoZIhvcNAQELBQAw\n"
    "TzELMAkGA1UEBhMCVVMxKTAnBgNVBAoTIEludGVybmV0IFNlY3VyaXR5IFJlc2Vh\n"
    "cmNoIEdyb3VwMRUwEwYDVQQDEwxJU1JHIFJvb3QgWDEwHhcNMTUwNjA0MTEwNDM4\n"
    "WhcNMzUwNjA0MTEwNDM4WjBPMQswCQYDVQQGEwJVUzEpMCcGA1UEChMgSW50ZXJu\n"
    "ZXQgU2VjdXJpdHkgUmVzZWFyY2ggR3JvdXAxFTATBgNVBAMTDElTUkcgUm9vdCBY\n"
    "MTCCAiIwDQYJKoZIhvcNAQEBBQADggIPADCCAgoCggIBAK3oJHP0FDfzm54rVygc\n"
    "h77ct984kIxuPOZXoHj3dcKi/vVqbvYATyjb3miGbESTtrFj/RQSa78f0uoxmyF+\n"
    "0TM8ukj13Xnfs7j/EvEhmkvBioZxaUpmZmyPfjxwv60pIgbz5MDmgK7iS4+3mX6U\n"
    "A5/TR5d8mUgjU+g4rk8Kb4Mu0UlXjIB0ttov0DiNewNwIRt18jA8+o+u3dpjq+sW\n"
    "T8KOEUt+zwvo/7V3LvSye0rgTBIlDHCNAymg4VMk7BPZ7hm/ELNKjD+Jo2FR3qyH\n"
    "B5T0Y3HsLuJvW5iB4YlcNHlsdu87kGJ55tukmi8mxdAQ4Q7e2RCOFvu396j3x+UC\n"
    "B5iPNgiV5+I3lg02dZ77DnKxHZu8A/lJBdiB3QW0KtZB6awBdpUKD9jf1b0SHzUv\n"
    "KBds0pjBqAlkd25HN7rOrFleaJ1/ctaJxQZBKT5ZPt0m9STJEadao0xAH0ahmbWn\n"
    "OlFuhjuefXKnEgV4We0+UXgVCwOPjdAvBbI+e0ocS3MFEvzG6uBQE3xDk3SzynTn\n"
    "jh8BCNAw1FtxNrQHusEwMFxIt4I7mKZ9YIqioymCzLq9gwQbooMDQaHWBfEbwrbw\n"
    "qHyGO0aoSCqI3Haadr8faqU9GY/rOPNk3sgrDQoo//fb4hVC1CLQJ13hef4Y53CI\n"
    "rU7m2Ys6xt0nUW7/vGT1M0NPAgMBAAGjQjBAMA4GA1UdDwEB/wQEAwIBBjAPBgNV\n"
    "HRMBAf8EBTADAQH/MB0GA1UdDgQWBBR5tFnme7bl5AFzgAiIyBpY9umbbjANBgkq\n"
    "hkiG9w0BAQsFAAOCAgEAVR9YqbyyqFDQDLHYGmkgJykIrGF1XIpu+ILlaS/V9lZL\n"
    "ubhzEFnTIZd+50xx+7LSYK05qAvqFyFWhfFQDlnrzuBZ6brJFe+GnY+EgPbk6ZGQ\n"
    "3BebYhtF8GaV0nxvwuo77x/Py9auJ/GpsMiu/X1+mvoiBOv/2X/qkSsisRcOj/KK\n"
    "NFtY2PwByVS5uCbMiogziUwthDyC3+6WVwW6LLv3xLfHTjuCvjHIInNzktHCgKQ5\n"
    "ORAzI4JMPJ+GslWYHb4phowim57iaztXOoJwTdwJx4nLCgdNbOhdjsnvzqvHu7Ur\n"
    "TkXWStAmzOVyyghqpZXjFaH3pO3JLF+l+/+sKAIuvtd7u+Nxe5AW0wdeRlN8NwdC\n"
    "jNPElpzVmbUq4JUagEiuTDkHzsxHpFKVK7q4+63SM1N95R1NbdWhscdCb+ZAJzVc\n"
    "oyi3B43njTOQ5yOf+1CceWxG1bQVs5ZufpsMljq4Ui0/1lvh+wjChP4kqKOJ2qxq\n"
    "4RgqsahDYVvTH9w7jXbyLeiNdd8XM2w9U/t7y0Ff/9yi0GE44Za4rF2LN9d11TPA\n"
    "mRGunUHBcnWEvgJBQl9nJEiU0Zsnvgc/ubhPgXRR4Xq37Z0j4r7g1SgEEzwxA57d\n"
    "emyPxgcYxn/eR44/KJ4EBs+lVDR3veyJm+kXQ99b21/+jh5Xos1AnX5iItreGCc=\n"
    "-----END CERTIFICATE-----\n";

// The same certificate's SHA-256 fingerprint, as published by ISRG and printed by
// `openssl x509 -fingerprint -sha256`.
constexpr std::uint8_t kIsrgRootX1Sha256[32] = {
    0x96, 0xbc, 0xec, 0x06, 0x26, 0x49, 0x76, 0xf3, 0x74, 0x60, 0x77, 0x9a, 0xcf, 0x28, 0xc5, 0xa7,
    0xcf, 0xe8, 0xa3, 0xc0, 0xaa, 0xe1, 0x1a, 0x8f, 0xfc, 0xee, 0x05, 0xc0, 0xbd, 0xdf, 0x08, 0xc6};

std::chrono::system_clock::time_point utc(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
  using namespace std::chrono;
  return sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss};
}

using bulwark::test::TempDir;

std::string as_string(std::span<const std::uint8_t> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

TEST(CertificateTest, ParsesAPublishedRootCertificate) {
  auto cert = Certificate::from_pem(kIsrgRootX1Pem);
  ASSERT_TRUE(cert) << cert.error().message();
  EXPECT_EQ(cert->subject(), "CN=ISRG Root X1,O=Internet Security Research Group,C=US");
  EXPECT_EQ(cert->issuer(), cert->subject());
  EXPECT_EQ(cert->common_name(), "ISRG Root X1");
  EXPECT_EQ(cert->serial_hex(), "8210cfb0d240e3594463e0bb63828b00");
  EXPECT_EQ(cert->not_before(), utc(2015, 6, 4, 11, 4, 38));
  EXPECT_EQ(cert->not_after(), utc(2035, 6, 4, 11, 4, 38));
  EXPECT_EQ(cert->signature_algorithm_name(), "sha256WithRSAEncryption");
  EXPECT_TRUE(cert->is_ca());
  EXPECT_TRUE(cert->self_signed());
  EXPECT_TRUE(cert->dns_names().empty());
  EXPECT_TRUE(cert->ip_addresses().empty());
  auto fingerprint = cert->sha256_fingerprint();
  ASSERT_TRUE(fingerprint);
  EXPECT_TRUE(std::equal(fingerprint->begin(), fingerprint->end(), std::begin(kIsrgRootX1Sha256)));
  auto key = cert->public_key();
  ASSERT_TRUE(key) << key.error().message();
  EXPECT_EQ(key->type(), KeyType::rsa);
  EXPECT_EQ(key->bits(), 4096);
}

TEST(CertificateTest, DerAndPemRoundTrip) {
  const auto pki = test::make_pki();
  const Certificate& leaf = pki.leaf.cert;
  ASSERT_FALSE(leaf.der().empty());

  auto from_der = Certificate::from_der(leaf.der());
  ASSERT_TRUE(from_der) << from_der.error().message();
  EXPECT_EQ(*from_der, leaf);
  EXPECT_TRUE(std::equal(from_der->der().begin(), from_der->der().end(), leaf.der().begin(),
                         leaf.der().end()));

  auto pem = leaf.to_pem();
  ASSERT_TRUE(pem) << pem.error().message();
  EXPECT_EQ(pem->rfind("-----BEGIN CERTIFICATE-----\n", 0), 0u);
  auto from_pem = Certificate::from_pem(*pem);
  ASSERT_TRUE(from_pem) << from_pem.error().message();
  EXPECT_EQ(*from_pem, leaf);
  EXPECT_EQ(from_pem->subject(), leaf.subject());

  // Copies share the libcrypto object.
  const Certificate copy = leaf;
  EXPECT_EQ(copy.native(), leaf.native());
  EXPECT_NE(from_der->native(), leaf.native());
  EXPECT_NE(*from_der, pki.root.cert);
}

TEST(CertificateTest, FieldsOfAnIssuedLeaf) {
  const auto not_before = utc(2030, 1, 2, 3, 4, 5);
  const auto not_after = utc(2031, 1, 2, 3, 4, 5);
  auto root = test::make_root();
  auto leaf = test::make_leaf(root, {.common_name = "www.example.org",
                                     .dns_names = {"www.example.org", "*.cdn.example.org"},
                                     .ip_addresses = {"192.0.2.7", "2001:db8::1"},
                                     .not_before = not_before,
                                     .not_after = not_after});
  const Certificate& cert = leaf.cert;
  EXPECT_EQ(cert.subject(), "CN=www.example.org");
  EXPECT_EQ(cert.issuer(), "CN=Bulwark Test Root");
  EXPECT_EQ(cert.common_name(), "www.example.org");
  EXPECT_EQ(cert.not_before(), not_before);
  EXPECT_EQ(cert.not_after(), not_after);
  EXPECT_EQ(cert.dns_names(), (std::vector<std::string>{"www.example.org", "*.cdn.example.org"}));
  EXPECT_EQ(cert.ip_addresses(),
            (std::vector<Bytes>{{192, 0, 2, 7},
                                {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}));
  EXPECT_EQ(cert.ip_address_texts(), (std::vector<std::string>{"192.0.2.7", "2001:db8::1"}));
  EXPECT_FALSE(cert.is_ca());
  EXPECT_FALSE(cert.self_signed());
  EXPECT_TRUE(root.cert.is_ca());
  EXPECT_TRUE(root.cert.self_signed());
  EXPECT_EQ(cert.signature_algorithm_name(), "ecdsa-with-SHA256");
  // 16 octets with the top bit clear and the next set: 32 hex digits starting 4..7.
  const std::string serial = cert.serial_hex();
  ASSERT_EQ(serial.size(), 32u);
  EXPECT_TRUE(serial[0] >= '4' && serial[0] <= '7') << serial;

  auto cert_key = cert.public_key();
  ASSERT_TRUE(cert_key);
  EXPECT_EQ(cert_key->spki_der().value(), leaf.key.public_key().spki_der().value());
}

TEST(CertificateTest, FingerprintIsSha256OfTheDer) {
  const auto root = test::make_root();
  auto fingerprint = root.cert.sha256_fingerprint();
  ASSERT_TRUE(fingerprint);
  unsigned char expected[EVP_MAX_MD_SIZE];
  unsigned int expected_len = 0;
  ASSERT_EQ(X509_digest(root.cert.native(), EVP_sha256(), expected, &expected_len), 1);
  ASSERT_EQ(expected_len, 32u);
  EXPECT_TRUE(std::equal(fingerprint->begin(), fingerprint->end(), expected));
}

TEST(CertificateTest, UnicodeCommonNameStaysUtf8) {
  const auto root = test::make_root("Bulwark Test Root \xc3\xa9t\xc3\xa9");
  EXPECT_EQ(root.cert.common_name(), "Bulwark Test Root \xc3\xa9t\xc3\xa9");
  EXPECT_EQ(root.cert.subject(), "CN=Bulwark Test Root \xc3\xa9t\xc3\xa9");
}

TEST(CertificateTest, ValidityBeyondYear2050UsesGeneralizedTime) {
  const auto root = test::make_root();
  auto leaf = test::make_leaf(
      root, {.not_before = utc(2049, 12, 31, 23, 59, 59), .not_after = utc(2150, 6, 1, 0, 0, 0)});
  EXPECT_EQ(leaf.cert.not_before(), utc(2049, 12, 31, 23, 59, 59));
  EXPECT_EQ(leaf.cert.not_after(), utc(2150, 6, 1, 0, 0, 0));
  EXPECT_EQ(ASN1_STRING_type(X509_get0_notBefore(leaf.cert.native())), V_ASN1_UTCTIME);
  EXPECT_EQ(ASN1_STRING_type(X509_get0_notAfter(leaf.cert.native())), V_ASN1_GENERALIZEDTIME);
}

TEST(CertificateTest, LoadsEveryCertificateOfABundleInOrder) {
  const auto pki = test::make_pki({.with_intermediate = true});
  const std::string bundle = "# leaf\n" + pki.leaf.cert.to_pem().value() + "junk between blocks\n" +
                             pki.intermediate->cert.to_pem().value() +
                             pki.root.cert.to_pem().value();
  auto certs = bulwark::crypto::load_certificates_pem(bundle);
  ASSERT_TRUE(certs) << certs.error().message();
  ASSERT_EQ(certs->size(), 3u);
  EXPECT_EQ((*certs)[0], pki.leaf.cert);
  EXPECT_EQ((*certs)[1], pki.intermediate->cert);
  EXPECT_EQ((*certs)[2], pki.root.cert);

  // from_pem wants exactly one.
  auto one = Certificate::from_pem(bundle);
  ASSERT_FALSE(one);
  EXPECT_EQ(one.error(), Errc::decode_failed);
}

TEST(CertificateTest, SkipsOtherPemBlocks) {
  const auto root = test::make_root();
  const std::string pem = root.key.to_pem().value() + root.cert.to_pem().value();
  auto cert = Certificate::from_pem(pem);
  ASSERT_TRUE(cert) << cert.error().message();
  EXPECT_EQ(*cert, root.cert);
}

TEST(CertificateTest, RejectsGarbage) {
  const auto root = test::make_root();
  const auto der = root.cert.der();

  EXPECT_EQ(Certificate::from_der({}).error(), Errc::decode_failed);
  const Bytes junk = {0x30, 0x03, 0x02, 0x01, 0x01};
  EXPECT_EQ(Certificate::from_der(junk).error(), Errc::decode_failed);
  // Truncated by one byte.
  EXPECT_EQ(Certificate::from_der(der.first(der.size() - 1)).error(), Errc::decode_failed);
  // One byte too many.
  Bytes longer(der.begin(), der.end());
  longer.push_back(0);
  EXPECT_EQ(Certificate::from_der(longer).error(), Errc::decode_failed);

  EXPECT_EQ(Certificate::from_pem("").error(), Errc::decode_failed);
  EXPECT_EQ(Certificate::from_pem("hello world").error(), Errc::decode_failed);
  EXPECT_EQ(bulwark::crypto::load_certificates_pem("").error(), Errc::decode_failed);
  // A key alone is not a certificate.
  EXPECT_EQ(Certificate::from_pem(root.key.to_pem().value()).error(), Errc::decode_failed);
  // A damaged base64 body, and a body that is base64 but not a certificate.
  std::string pem = root.cert.to_pem().value();
  pem[40] = '!';
  EXPECT_EQ(Certificate::from_pem(pem).error(), Errc::decode_failed);
  EXPECT_EQ(Certificate::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .error(),
            Errc::decode_failed);
  // A good certificate followed by a bad one fails as a whole.
  const std::string bad_second = root.cert.to_pem().value() + pem;
  EXPECT_EQ(bulwark::crypto::load_certificates_pem(bad_second).error(), Errc::decode_failed);
}

TEST(CertificateTest, LoadsFiles) {
  const auto pki = test::make_pki({.with_intermediate = true});
  const TempDir dir;
  const auto bundle = dir.write(
      "chain.pem", pki.leaf.cert.to_pem().value() + pki.intermediate->cert.to_pem().value());
  const auto der = dir.write("root.der", as_string(pki.root.cert.der()));
  const auto single = dir.write("root.pem", pki.root.cert.to_pem().value());
  const auto garbage = dir.write("garbage.bin", "\x01\x02\x03 not a certificate");
  const auto empty = dir.write("empty.pem", "");

  auto chain = bulwark::crypto::load_certificates_file(bundle);
  ASSERT_TRUE(chain) << chain.error().message();
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[0], pki.leaf.cert);
  EXPECT_EQ((*chain)[1], pki.intermediate->cert);

  auto from_der = bulwark::crypto::load_certificate_file(der);
  ASSERT_TRUE(from_der) << from_der.error().message();
  EXPECT_EQ(*from_der, pki.root.cert);
  auto from_pem = bulwark::crypto::load_certificate_file(single);
  ASSERT_TRUE(from_pem) << from_pem.error().message();
  EXPECT_EQ(*from_pem, pki.root.cert);
  auto der_as_list = bulwark::crypto::load_certificates_file(der);
  ASSERT_TRUE(der_as_list);
  EXPECT_EQ(der_as_list->size(), 1u);

  // Two certificates where one is required.
  EXPECT_EQ(bulwark::crypto::load_certificate_file(bundle).error(), Errc::decode_failed);
  EXPECT_EQ(bulwark::crypto::load_certificates_file(garbage).error(), Errc::decode_failed);
  EXPECT_EQ(bulwark::crypto::load_certificates_file(empty).error(), Errc::decode_failed);
  auto missing = bulwark::crypto::load_certificates_file(dir.path() / "missing.pem");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), Errc::io_error);
  EXPECT_NE(missing.error().detail().find("missing.pem"), std::string::npos);
  EXPECT_EQ(bulwark::crypto::load_certificate_file(dir.path()).error(), Errc::io_error);
}

TEST(CertificateTest, SignatureAlgorithmFollowsTheIssuerKey) {
  const auto p384 = test::make_root("P-384 Root", KeyType::ec_p384);
  EXPECT_EQ(p384.cert.signature_algorithm_name(), "ecdsa-with-SHA384");
  const auto ed25519 = test::make_root("Ed25519 Root", KeyType::ed25519);
  EXPECT_EQ(ed25519.cert.signature_algorithm_name(), "ED25519");
  const auto rsa = test::make_root("RSA Root", KeyType::rsa);
  EXPECT_EQ(rsa.cert.signature_algorithm_name(), "sha256WithRSAEncryption");
  EXPECT_EQ(rsa.cert.public_key()->type(), KeyType::rsa);
  EXPECT_TRUE(rsa.cert.self_signed());
}

TEST(CertificateTest, EmptyCertificate) {
  const Certificate empty;
  EXPECT_FALSE(empty.valid());
  EXPECT_TRUE(empty.der().empty());
  EXPECT_EQ(empty.native(), nullptr);
  EXPECT_EQ(empty.to_pem().error(), Errc::invalid_argument);
  EXPECT_EQ(empty.public_key().error(), Errc::invalid_argument);
  EXPECT_TRUE(empty.subject().empty());
  EXPECT_FALSE(empty.is_ca());
  EXPECT_EQ(Certificate::from_native(nullptr).error(), Errc::invalid_argument);
}
