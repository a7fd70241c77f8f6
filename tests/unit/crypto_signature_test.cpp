#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bulwark/crypto/keys.hpp"
#include "bulwark/crypto/signature.hpp"
#include "crypto/ossl.hpp"
#include "support/hex.hpp"

using bulwark::Errc;
using bulwark::crypto::KeyType;
using bulwark::crypto::PrivateKey;
using bulwark::crypto::PublicKey;
using bulwark::crypto::SignatureScheme;
namespace ossl = bulwark::crypto::ossl;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes unhex(std::string_view text) {
  return bulwark::test::hex(text);
}

Bytes bytes_of(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

enum class PssRestriction { none, sha256, sha256_default_mgf1 };

// An id-RSASSA-PSS key, optionally with parameter restrictions: SHA-256 with MGF1-SHA-256 and
// a 32-byte minimum salt, or SHA-256 with the default MGF1 hash (SHA-1).
PrivateKey make_rsa_pss_key(PssRestriction restriction) {
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA-PSS", nullptr));
  EVP_PKEY* pkey = nullptr;
  bool ok = ctx && EVP_PKEY_keygen_init(ctx.get()) == 1 &&
            EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 2048) == 1;
  if (ok && restriction != PssRestriction::none) {
    ok = EVP_PKEY_CTX_set_rsa_pss_keygen_md_name(ctx.get(), "SHA256", nullptr) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_keygen_saltlen(ctx.get(), 32) == 1;
  }
  if (ok && restriction == PssRestriction::sha256) {
    ok = EVP_PKEY_CTX_set_rsa_pss_keygen_mgf1_md_name(ctx.get(), "SHA256") == 1;
  }
  if (ok) EVP_PKEY_keygen(ctx.get(), &pkey);
  EXPECT_NE(pkey, nullptr);
  return PrivateKey(pkey);
}

// Keys are generated once per type (RSA generation is slow); index 1 is a second key of the
// same type, for the wrong-key checks.
const PrivateKey& key_for(KeyType type, int index = 0) {
  static const PrivateKey rsa[2] = {PrivateKey::generate(KeyType::rsa).value(),
                                    PrivateKey::generate(KeyType::rsa).value()};
  static const PrivateKey p256[2] = {PrivateKey::generate(KeyType::ec_p256).value(),
                                     PrivateKey::generate(KeyType::ec_p256).value()};
  static const PrivateKey p384[2] = {PrivateKey::generate(KeyType::ec_p384).value(),
                                     PrivateKey::generate(KeyType::ec_p384).value()};
  static const PrivateKey ed[2] = {PrivateKey::generate(KeyType::ed25519).value(),
                                   PrivateKey::generate(KeyType::ed25519).value()};
  static const PrivateKey pss[2] = {make_rsa_pss_key(PssRestriction::none),
                                    make_rsa_pss_key(PssRestriction::none)};
  switch (type) {
    case KeyType::rsa:
      return rsa[index];
    case KeyType::ec_p256:
      return p256[index];
    case KeyType::ec_p384:
      return p384[index];
    case KeyType::rsa_pss:
      return pss[index];
    default:
      return ed[index];
  }
}

struct SchemeCase {
  SignatureScheme scheme;
  KeyType key;
  const char* name;
};

const SchemeCase kAllSchemes[] = {
    {SignatureScheme::rsa_pkcs1_sha256, KeyType::rsa, "rsa_pkcs1_sha256"},
    {SignatureScheme::rsa_pkcs1_sha384, KeyType::rsa, "rsa_pkcs1_sha384"},
    {SignatureScheme::rsa_pkcs1_sha512, KeyType::rsa, "rsa_pkcs1_sha512"},
    {SignatureScheme::ecdsa_secp256r1_sha256, KeyType::ec_p256, "ecdsa_secp256r1_sha256"},
    {SignatureScheme::ecdsa_secp384r1_sha384, KeyType::ec_p384, "ecdsa_secp384r1_sha384"},
    {SignatureScheme::rsa_pss_rsae_sha256, KeyType::rsa, "rsa_pss_rsae_sha256"},
    {SignatureScheme::rsa_pss_rsae_sha384, KeyType::rsa, "rsa_pss_rsae_sha384"},
    {SignatureScheme::rsa_pss_rsae_sha512, KeyType::rsa, "rsa_pss_rsae_sha512"},
    {SignatureScheme::ed25519, KeyType::ed25519, "ed25519"},
    {SignatureScheme::rsa_pss_pss_sha256, KeyType::rsa_pss, "rsa_pss_pss_sha256"},
    {SignatureScheme::rsa_pss_pss_sha384, KeyType::rsa_pss, "rsa_pss_pss_sha384"},
    {SignatureScheme::rsa_pss_pss_sha512, KeyType::rsa_pss, "rsa_pss_pss_sha512"},
};

void expect_bad(const PublicKey& key, SignatureScheme scheme, const Bytes& msg, const Bytes& sig,
                const std::string& what) {
  auto r = bulwark::crypto::verify(key, scheme, msg, sig);
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.error().code(), Errc::bad_signature) << what << ": " << r.error().message();
}

class SignatureAllSchemes : public ::testing::TestWithParam<SchemeCase> {};

TEST_P(SignatureAllSchemes, SignVerifyRoundTrip) {
  const SchemeCase c = GetParam();
  const PrivateKey& key = key_for(c.key);
  const PublicKey pub = key.public_key();
  EXPECT_EQ(bulwark::crypto::scheme_name(c.scheme), c.name);
  EXPECT_TRUE(bulwark::crypto::scheme_fits_key(c.scheme, key));
  EXPECT_TRUE(bulwark::crypto::scheme_fits_key(c.scheme, pub));
  EXPECT_TRUE(bulwark::crypto::scheme_fits_key(c.scheme, c.key, key.bits()));

  for (const Bytes& msg :
       {Bytes{}, bytes_of("TLS 1.3, server CertificateVerify"), Bytes(100000, 0x5a)}) {
    auto sig = bulwark::crypto::sign(key, c.scheme, msg);
    ASSERT_TRUE(sig.ok()) << sig.error().message();
    auto ok = bulwark::crypto::verify(pub, c.scheme, msg, *sig);
    EXPECT_TRUE(ok.ok()) << ok.error().message();
    // A key re-read from its SubjectPublicKeyInfo verifies too.
    auto reparsed = PublicKey::from_spki_der(pub.spki_der().value());
    ASSERT_TRUE(reparsed.ok());
    EXPECT_TRUE(bulwark::crypto::verify(*reparsed, c.scheme, msg, *sig).ok());

    if (c.key == KeyType::rsa || c.key == KeyType::rsa_pss) {
      EXPECT_EQ(sig->size(), 256u);  // a 2048-bit modulus
    } else if (c.key == KeyType::ed25519) {
      EXPECT_EQ(sig->size(), 64u);
    } else {
      // ECDSA: DER ECDSA-Sig-Value, canonical (re-encoding gives the same bytes).
      const unsigned char* p = sig->data();
      ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig->size()));
      ASSERT_NE(parsed, nullptr);
      EXPECT_EQ(p, sig->data() + sig->size());
      unsigned char* der = nullptr;
      const int der_len = i2d_ECDSA_SIG(parsed, &der);
      EXPECT_EQ(Bytes(der, der + der_len), *sig);
      OPENSSL_free(der);
      ECDSA_SIG_free(parsed);
    }
  }
}

TEST_P(SignatureAllSchemes, TamperingIsBadSignature) {
  const SchemeCase c = GetParam();
  const PrivateKey& key = key_for(c.key);
  const PublicKey pub = key.public_key();
  const Bytes msg = bytes_of("transcript hash goes here");
  const Bytes sig = bulwark::crypto::sign(key, c.scheme, msg).value();

  Bytes flipped_msg = msg;
  flipped_msg[3] ^= 0x01;
  expect_bad(pub, c.scheme, flipped_msg, sig, "flipped message bit");
  expect_bad(pub, c.scheme, Bytes{}, sig, "empty message");

  for (std::size_t pos : {std::size_t{0}, sig.size() / 2, sig.size() - 1}) {
    Bytes flipped = sig;
    flipped[pos] ^= 0x01;
    expect_bad(pub, c.scheme, msg, flipped, "flipped signature bit at " + std::to_string(pos));
  }
  expect_bad(pub, c.scheme, msg, Bytes(sig.begin(), sig.end() - 1), "truncated signature");
  expect_bad(pub, c.scheme, msg, Bytes{}, "empty signature");
  Bytes extended = sig;
  extended.push_back(0x00);
  expect_bad(pub, c.scheme, msg, extended, "trailing byte");

  // Another key of the same type.
  expect_bad(key_for(c.key, 1).public_key(), c.scheme, msg, sig, "wrong key");
}

TEST_P(SignatureAllSchemes, SchemeMustFitTheKey) {
  const SchemeCase c = GetParam();
  const Bytes msg = bytes_of("m");
  const Bytes sig = bulwark::crypto::sign(key_for(c.key), c.scheme, msg).value();
  for (KeyType other :
       {KeyType::rsa, KeyType::rsa_pss, KeyType::ec_p256, KeyType::ec_p384, KeyType::ed25519}) {
    if (other == c.key) continue;
    SCOPED_TRACE(std::string(bulwark::crypto::key_type_name(other)));
    const PrivateKey& wrong = key_for(other);
    EXPECT_FALSE(bulwark::crypto::scheme_fits_key(c.scheme, wrong));
    EXPECT_FALSE(bulwark::crypto::scheme_fits_key(c.scheme, other, wrong.bits()));
    auto s = bulwark::crypto::sign(wrong, c.scheme, msg);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code(), Errc::invalid_key);
    auto v = bulwark::crypto::verify(wrong.public_key(), c.scheme, msg, sig);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().code(), Errc::invalid_key);
  }
  // An empty key fits nothing.
  EXPECT_FALSE(bulwark::crypto::scheme_fits_key(c.scheme, PublicKey()));
  auto empty = bulwark::crypto::verify(PublicKey(), c.scheme, msg, sig);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), Errc::invalid_key);
}

INSTANTIATE_TEST_SUITE_P(Schemes, SignatureAllSchemes, ::testing::ValuesIn(kAllSchemes),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Signature, EcdsaCurveMustMatchScheme) {
  // TLS 1.3 (RFC 8446 §4.2.3) binds the curve to the scheme.
  const Bytes msg = bytes_of("m");
  auto s = bulwark::crypto::sign(key_for(KeyType::ec_p256), SignatureScheme::ecdsa_secp384r1_sha384,
                                 msg);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::invalid_key);
  const Bytes p384_sig =
      bulwark::crypto::sign(key_for(KeyType::ec_p384), SignatureScheme::ecdsa_secp384r1_sha384, msg)
          .value();
  auto v = bulwark::crypto::verify(key_for(KeyType::ec_p256).public_key(),
                                   SignatureScheme::ecdsa_secp384r1_sha384, msg, p384_sig);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), Errc::invalid_key);
}

TEST(Signature, Ed25519Rfc8032KnownAnswers) {
  struct Vector {
    const char* secret;
    const char* public_key;
    const char* message;
    const char* signature;
  };
  // RFC 8032 §7.1, TEST 1 and TEST 2.
  const Vector vectors[] = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
       "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
       "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
  };
  for (const auto& v : vectors) {
    const Bytes secret = unhex(v.secret);
    PrivateKey key(
        EVP_PKEY_new_raw_private_key_ex(nullptr, "ED25519", nullptr, secret.data(), secret.size()));
    ASSERT_TRUE(key.valid());
    EXPECT_EQ(key.type(), KeyType::ed25519);
    Bytes raw_pub(32);
    std::size_t len = raw_pub.size();
    ASSERT_EQ(EVP_PKEY_get_raw_public_key(key.public_key().native(), raw_pub.data(), &len), 1);
    EXPECT_EQ(raw_pub, unhex(v.public_key));

    const Bytes msg = unhex(v.message);
    auto sig = bulwark::crypto::sign(key, SignatureScheme::ed25519, msg);
    ASSERT_TRUE(sig.ok()) << sig.error().message();
    EXPECT_EQ(*sig, unhex(v.signature));  // Ed25519 is deterministic

    const Bytes pub_bytes = unhex(v.public_key);
    PublicKey pub(EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, pub_bytes.data(),
                                                 pub_bytes.size()));
    ASSERT_TRUE(pub.valid());
    EXPECT_TRUE(
        bulwark::crypto::verify(pub, SignatureScheme::ed25519, msg, unhex(v.signature)).ok());
    Bytes other = msg;
    other.push_back(0x00);
    expect_bad(pub, SignatureScheme::ed25519, other, unhex(v.signature), "longer message");
  }
}

TEST(Signature, EcdsaP256Rfc6979VerifyKnownAnswer) {
  // RFC 6979 A.2.5: P-256 key, SHA-256, message "sample". The SubjectPublicKeyInfo is the
  // fixed id-ecPublicKey / prime256v1 header followed by 04 || Ux || Uy.
  const Bytes spki = unhex(
      "3059301306072a8648ce3d020106082a8648ce3d030107034200"
      "04"
      "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
      "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299");
  auto pub = PublicKey::from_spki_der(spki);
  ASSERT_TRUE(pub.ok()) << pub.error().message();
  EXPECT_EQ(pub->type(), KeyType::ec_p256);
  // DER ECDSA-Sig-Value: both r and s have the top bit set, so each gets a 0x00 pad byte.
  const Bytes sig = unhex(
      "3046"
      "022100efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
      "022100f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");
  auto ok = bulwark::crypto::verify(*pub, SignatureScheme::ecdsa_secp256r1_sha256,
                                    bytes_of("sample"), sig);
  EXPECT_TRUE(ok.ok()) << ok.error().message();
  expect_bad(*pub, SignatureScheme::ecdsa_secp256r1_sha256, bytes_of("test"), sig, "other message");

  // The same (r, s) in non-canonical encodings must not verify: BER long-form length, and
  // an unnecessary extra leading zero on r.
  const Bytes long_form = unhex(
      "308146"
      "022100efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
      "022100f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");
  expect_bad(*pub, SignatureScheme::ecdsa_secp256r1_sha256, bytes_of("sample"), long_form,
             "long-form length");
  const Bytes padded_r = unhex(
      "3047"
      "02220000efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
      "022100f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");
  expect_bad(*pub, SignatureScheme::ecdsa_secp256r1_sha256, bytes_of("sample"), padded_r,
             "over-padded r");
  // Raw r || s (IEEE P1363 form) is not what TLS carries.
  const Bytes raw = unhex(
      "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
      "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");
  expect_bad(*pub, SignatureScheme::ecdsa_secp256r1_sha256, bytes_of("sample"), raw, "raw r||s");
}

TEST(Signature, PssSaltMustEqualHashLength) {
  // RFC 8446 §4.2.3: the salt length MUST equal the digest length. A PSS signature with a
  // 20-byte salt over SHA-256 is valid PSS, but not a valid rsa_pss_rsae_sha256 signature.
  const PrivateKey& key = key_for(KeyType::rsa);
  const Bytes msg = bytes_of("salted");
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  ASSERT_EQ(
      EVP_DigestSignInit_ex(ctx.get(), &pctx, "SHA256", nullptr, nullptr, key.native(), nullptr),
      1);
  ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 20), 1);
  Bytes sig(256);
  std::size_t len = sig.size();
  ASSERT_EQ(EVP_DigestSign(ctx.get(), sig.data(), &len, msg.data(), msg.size()), 1);
  sig.resize(len);
  expect_bad(key.public_key(), SignatureScheme::rsa_pss_rsae_sha256, msg, sig, "20-byte salt");
  // And a PKCS#1 v1.5 signature is not a PSS signature (nor the other way round).
  const Bytes pkcs1 = bulwark::crypto::sign(key, SignatureScheme::rsa_pkcs1_sha256, msg).value();
  expect_bad(key.public_key(), SignatureScheme::rsa_pss_rsae_sha256, msg, pkcs1, "PKCS#1 as PSS");
  const Bytes pss = bulwark::crypto::sign(key, SignatureScheme::rsa_pss_rsae_sha256, msg).value();
  expect_bad(key.public_key(), SignatureScheme::rsa_pkcs1_sha256, msg, pss, "PSS as PKCS#1");
  // Same padding, other hash.
  expect_bad(key.public_key(), SignatureScheme::rsa_pss_rsae_sha384, msg, pss, "SHA-256 as 384");
}

TEST(Signature, RestrictedPssKeyOnlyFitsItsHash) {
  const PrivateKey key = make_rsa_pss_key(PssRestriction::sha256);
  ASSERT_TRUE(key.valid());
  EXPECT_EQ(key.type(), KeyType::rsa_pss);
  EXPECT_TRUE(bulwark::crypto::scheme_fits_key(SignatureScheme::rsa_pss_pss_sha256, key));
  EXPECT_FALSE(bulwark::crypto::scheme_fits_key(SignatureScheme::rsa_pss_pss_sha384, key));
  EXPECT_FALSE(bulwark::crypto::scheme_fits_key(SignatureScheme::rsa_pss_pss_sha512, key));
  // By type and size alone it would fit: the restriction is what says no.
  EXPECT_TRUE(bulwark::crypto::scheme_fits_key(SignatureScheme::rsa_pss_pss_sha384,
                                               KeyType::rsa_pss, 2048));
  const Bytes msg = bytes_of("restricted");
  auto sig = bulwark::crypto::sign(key, SignatureScheme::rsa_pss_pss_sha256, msg);
  ASSERT_TRUE(sig.ok()) << sig.error().message();
  EXPECT_TRUE(
      bulwark::crypto::verify(key.public_key(), SignatureScheme::rsa_pss_pss_sha256, msg, *sig)
          .ok());
  auto wrong = bulwark::crypto::sign(key, SignatureScheme::rsa_pss_pss_sha384, msg);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), Errc::invalid_key);
}

TEST(Signature, PssKeyWithSha1MaskFitsNoScheme) {
  // Restricted to SHA-256 but with MGF1 left at its SHA-1 default: no TLS scheme matches.
  const PrivateKey key = make_rsa_pss_key(PssRestriction::sha256_default_mgf1);
  ASSERT_TRUE(key.valid());
  for (SignatureScheme s :
       {SignatureScheme::rsa_pss_pss_sha256, SignatureScheme::rsa_pss_pss_sha384,
        SignatureScheme::rsa_pss_pss_sha512}) {
    EXPECT_FALSE(bulwark::crypto::scheme_fits_key(s, key));
    auto sig = bulwark::crypto::sign(key, s, bytes_of("m"));
    ASSERT_FALSE(sig.ok());
    EXPECT_EQ(sig.error().code(), Errc::invalid_key);
  }
}

TEST(Signature, RsaModulusMustHoldTheEncoding) {
  using bulwark::crypto::scheme_fits_key;
  // PSS with SHA-512 needs emLen >= 2 * 64 + 2 = 130 bytes, i.e. a modulus of >= 1033 bits.
  EXPECT_FALSE(scheme_fits_key(SignatureScheme::rsa_pss_rsae_sha512, KeyType::rsa, 1024));
  EXPECT_TRUE(scheme_fits_key(SignatureScheme::rsa_pss_rsae_sha512, KeyType::rsa, 1040));
  EXPECT_TRUE(scheme_fits_key(SignatureScheme::rsa_pss_rsae_sha256, KeyType::rsa, 1024));
  // PKCS#1 v1.5 with SHA-512 needs k >= 19 + 64 + 11 = 94 bytes.
  EXPECT_TRUE(scheme_fits_key(SignatureScheme::rsa_pkcs1_sha512, KeyType::rsa, 752));
  EXPECT_FALSE(scheme_fits_key(SignatureScheme::rsa_pkcs1_sha512, KeyType::rsa, 744));
  EXPECT_FALSE(scheme_fits_key(SignatureScheme::rsa_pkcs1_sha256, KeyType::rsa, 0));
  // Non-RSA types ignore `bits`.
  EXPECT_TRUE(scheme_fits_key(SignatureScheme::ed25519, KeyType::ed25519, 0));
  EXPECT_FALSE(scheme_fits_key(SignatureScheme::ed25519, KeyType::other, 256));
}

TEST(Signature, UnknownSchemesAreUnsupported) {
  const SignatureScheme ecdsa_sha1 = static_cast<SignatureScheme>(0x0203);
  const SignatureScheme ed448 = static_cast<SignatureScheme>(0x0808);
  for (SignatureScheme s : {ecdsa_sha1, ed448}) {
    EXPECT_FALSE(bulwark::crypto::scheme_supported(s));
    EXPECT_EQ(bulwark::crypto::scheme_name(s), "unknown");
    EXPECT_FALSE(bulwark::crypto::scheme_fits_key(s, key_for(KeyType::ed25519)));
    auto sig = bulwark::crypto::sign(key_for(KeyType::ed25519), s, Bytes{1});
    ASSERT_FALSE(sig.ok());
    EXPECT_EQ(sig.error().code(), Errc::unsupported);
    auto v =
        bulwark::crypto::verify(key_for(KeyType::ed25519).public_key(), s, Bytes{1}, Bytes(64, 0));
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().code(), Errc::unsupported);
  }
  EXPECT_TRUE(bulwark::crypto::scheme_supported(SignatureScheme::rsa_pss_rsae_sha256));
  // Code points are IANA's (RFC 8446 §4.2.3).
  EXPECT_EQ(static_cast<std::uint16_t>(SignatureScheme::rsa_pkcs1_sha256), 0x0401);
  EXPECT_EQ(static_cast<std::uint16_t>(SignatureScheme::ecdsa_secp384r1_sha384), 0x0503);
  EXPECT_EQ(static_cast<std::uint16_t>(SignatureScheme::ed25519), 0x0807);
  EXPECT_EQ(static_cast<std::uint16_t>(SignatureScheme::rsa_pss_pss_sha512), 0x080b);
}

}  // namespace

namespace {

// libcrypto's own one-shot verification, independent of crypto::verify.
bool reference_verify(const PublicKey& key, SignatureScheme scheme, const Bytes& msg,
                      const Bytes& sig) {
  const bool pss = scheme == SignatureScheme::rsa_pss_rsae_sha256 ||
                   scheme == SignatureScheme::rsa_pss_rsae_sha384;
  const char* md = scheme == SignatureScheme::rsa_pss_rsae_sha384 ||
                           scheme == SignatureScheme::rsa_pkcs1_sha384 ||
                           scheme == SignatureScheme::ecdsa_secp384r1_sha384
                       ? "SHA384"
                       : "SHA256";
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx ||
      EVP_DigestVerifyInit_ex(ctx.get(), &pctx, md, nullptr, nullptr, key.native(), nullptr) != 1) {
    return false;
  }
  if (pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
              EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), msg.data(), msg.size()) == 1;
}

}  // namespace

// A server signs with one key on every handshake, on contexts kept with the key: interleaved
// schemes on one RSA key each keep their own padding and hash, and every signature verifies
// with libcrypto's own verification.
TEST(Signature, KeptContextsKeepEachSchemeApart) {
  const PrivateKey& rsa = key_for(KeyType::rsa);
  const PrivateKey& p384 = key_for(KeyType::ec_p384);
  const Bytes msg = bytes_of("64 spaces, a context string, a transcript hash");
  for (int round = 0; round < 3; ++round) {
    for (SignatureScheme s :
         {SignatureScheme::rsa_pss_rsae_sha256, SignatureScheme::rsa_pkcs1_sha256,
          SignatureScheme::rsa_pss_rsae_sha384, SignatureScheme::rsa_pkcs1_sha384}) {
      auto sig = bulwark::crypto::sign(rsa, s, msg);
      ASSERT_TRUE(sig.ok()) << sig.error().message();
      EXPECT_TRUE(reference_verify(rsa.public_key(), s, msg, *sig))
          << bulwark::crypto::scheme_name(s) << " round " << round;
    }
    auto sig = bulwark::crypto::sign(p384, SignatureScheme::ecdsa_secp384r1_sha384, msg);
    ASSERT_TRUE(sig.ok());
    EXPECT_TRUE(
        reference_verify(p384.public_key(), SignatureScheme::ecdsa_secp384r1_sha384, msg, *sig));
  }
  // A scheme that does not fit is still refused on this path.
  auto wrong = bulwark::crypto::sign(rsa, SignatureScheme::ecdsa_secp256r1_sha256, msg);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), Errc::invalid_key);
}

TEST(Signature, KeptContextsAreUsedByOneThreadAtATime) {
  const PrivateKey key = key_for(KeyType::ec_p256);  // a copy shares the kept contexts
  const PublicKey pub = key.public_key();
  constexpr int threads = 4;
  constexpr int rounds = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        const Bytes msg{static_cast<std::uint8_t>(t), static_cast<std::uint8_t>(i)};
        auto sig = bulwark::crypto::sign(key, SignatureScheme::ecdsa_secp256r1_sha256, msg);
        if (!sig || !reference_verify(pub, SignatureScheme::ecdsa_secp256r1_sha256, msg, *sig)) {
          ++failures;
        }
      }
    });
  }
  for (auto& w : workers)
    w.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(Signature, KeptContextsFollowTheKeyTheyBelongTo) {
  const Bytes msg = bytes_of("message");
  const auto scheme = SignatureScheme::ecdsa_secp256r1_sha256;
  PrivateKey first = PrivateKey::generate(KeyType::ec_p256).value();
  PrivateKey copy = first;
  ASSERT_TRUE(bulwark::crypto::sign(first, scheme, msg).ok());  // a context is kept now
  first = PrivateKey();                                         // the original goes
  auto by_copy = bulwark::crypto::sign(copy, scheme, msg);
  ASSERT_TRUE(by_copy.ok());
  EXPECT_TRUE(reference_verify(copy.public_key(), scheme, msg, *by_copy));

  // Assigned another key, a PrivateKey signs with that key, not with the old one's contexts.
  const PublicKey old_pub = copy.public_key();
  copy = key_for(KeyType::ec_p256, 1);
  auto by_new = bulwark::crypto::sign(copy, scheme, msg);
  ASSERT_TRUE(by_new.ok());
  EXPECT_TRUE(reference_verify(key_for(KeyType::ec_p256, 1).public_key(), scheme, msg, *by_new));
  EXPECT_FALSE(reference_verify(old_pub, scheme, msg, *by_new));
  // An empty key signs nothing.
  PrivateKey empty;
  EXPECT_FALSE(bulwark::crypto::sign(empty, scheme, msg).ok());
}
