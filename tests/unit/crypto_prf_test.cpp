#include "bulwark/crypto/prf.hpp"
#include "support/hex.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <cstdint>
#include <string_view>
#include <vector>

using bulwark::Errc;
using bulwark::crypto::HashAlg;
using bulwark::crypto::Secret;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes hex(std::string_view text) {
  return bulwark::test::hex(text);
}

Bytes to_bytes(const Secret& s) {
  return Bytes(s.span().begin(), s.span().end());
}

// libcrypto's TLS1-PRF KDF as an independent reference.
Bytes reference_prf(const char* digest, const Bytes& secret, std::string_view label,
                    const Bytes& seed, std::size_t length) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "TLS1-PRF", nullptr);
  EVP_KDF_CTX* ctx = kdf ? EVP_KDF_CTX_new(kdf) : nullptr;
  Bytes secret_copy = secret;
  Bytes full_seed(label.begin(), label.end());
  full_seed.insert(full_seed.end(), seed.begin(), seed.end());
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, secret_copy.data(),
                                        secret_copy.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, full_seed.data(), full_seed.size()),
      OSSL_PARAM_construct_end()};
  Bytes out(length);
  const bool ok = ctx != nullptr && EVP_KDF_derive(ctx, out.data(), out.size(), params) == 1;
  EVP_KDF_CTX_free(ctx);
  EVP_KDF_free(kdf);
  if (!ok) {
    ADD_FAILURE() << "TLS1-PRF failed";
    return {};
  }
  return out;
}

}  // namespace

// The TLS 1.2 PRF test vectors posted to the IETF TLS list
// (https://www.ietf.org/mail-archive/web/tls/current/msg03416.html), label "test label".
TEST(CryptoPrf, Sha256Vector) {
  auto out = bulwark::crypto::tls12_prf(HashAlg::sha256, hex("9bbe436ba940f017b17652849a71db35"),
                                        "test label", hex("a0ba9f936cda311827a6f796ffd5198c"), 100);
  ASSERT_TRUE(out);
  EXPECT_EQ(to_bytes(*out), hex("e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
                                "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
                                "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
                                "87347b66"));
}

TEST(CryptoPrf, Sha384Vector) {
  auto out = bulwark::crypto::tls12_prf(HashAlg::sha384, hex("b80b733d6ceefcdc71566ea48e5567df"),
                                        "test label", hex("cd665cf6a8447dd6ff8b27555edb7465"), 148);
  ASSERT_TRUE(out);
  EXPECT_EQ(to_bytes(*out), hex("7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
                                "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
                                "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
                                "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
                                "91c8f3a26854308d5eaa3be85e0990703d73e56f"));
}

// RFC 5246 §8.1: master_secret = PRF(pre_master_secret, "master secret",
// ClientHello.random + ServerHello.random)[0..47]. Our output has that shape and agrees with
// libcrypto's TLS1-PRF for both suite hashes.
TEST(CryptoPrf, MasterSecretShape) {
  Bytes pre_master(48);
  Bytes randoms(64);
  for (std::size_t i = 0; i < pre_master.size(); ++i)
    pre_master[i] = static_cast<std::uint8_t>(i);
  for (std::size_t i = 0; i < randoms.size(); ++i)
    randoms[i] = static_cast<std::uint8_t>(0xff - i);
  for (HashAlg alg : {HashAlg::sha256, HashAlg::sha384}) {
    SCOPED_TRACE(bulwark::crypto::hash_name(alg));
    auto master = bulwark::crypto::tls12_prf(alg, pre_master, "master secret", randoms, 48);
    ASSERT_TRUE(master);
    ASSERT_EQ(master->size(), 48u);
    EXPECT_EQ(to_bytes(*master), reference_prf(alg == HashAlg::sha256 ? "SHA2-256" : "SHA2-384",
                                               pre_master, "master secret", randoms, 48));
    // Deterministic, and bound to the label (the key block of §6.3 uses "key expansion").
    auto again = bulwark::crypto::tls12_prf(alg, pre_master, "master secret", randoms, 48);
    ASSERT_TRUE(again);
    EXPECT_TRUE(*again == *master);
    auto other_label = bulwark::crypto::tls12_prf(alg, pre_master, "key expansion", randoms, 48);
    ASSERT_TRUE(other_label);
    EXPECT_FALSE(*other_label == *master);
  }
}

TEST(CryptoPrf, OutputIsAPrefixStream) {
  const Bytes secret(48, 0x33);
  const Bytes seed(64, 0x44);
  auto short_out = bulwark::crypto::tls12_prf(HashAlg::sha256, secret, "key expansion", seed, 12);
  auto long_out = bulwark::crypto::tls12_prf(HashAlg::sha256, secret, "key expansion", seed, 104);
  ASSERT_TRUE(short_out && long_out);
  EXPECT_EQ(to_bytes(*short_out), Bytes(long_out->span().begin(), long_out->span().begin() + 12));
  auto none = bulwark::crypto::tls12_prf(HashAlg::sha256, secret, "key expansion", seed, 0);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(CryptoPrf, RefusesSha1) {
  // RFC 5246 §5: the TLS 1.2 PRF uses SHA-256 or a stronger hash.
  EXPECT_EQ(
      bulwark::crypto::tls12_prf(HashAlg::sha1, Bytes(48, 1), "master secret", {}, 48).error(),
      Errc::invalid_argument);
}

// The keyed form (one Hmac keyed once, reused across derivations, as the TLS 1.2 key block
// and both Finished values use it) gives the same bytes as keying per call: the SHA-256
// vector above, then other labels and lengths through the same Hmac, in any order.
TEST(CryptoPrf, KeyedFormMatchesPerCallKeying) {
  const Bytes secret = hex("9bbe436ba940f017b17652849a71db35");
  const Bytes seed = hex("a0ba9f936cda311827a6f796ffd5198c");
  auto mac = bulwark::crypto::Hmac::create(HashAlg::sha256, secret);
  ASSERT_TRUE(mac);
  auto vector_out = bulwark::crypto::tls12_prf(*mac, "test label", seed, 100);
  ASSERT_TRUE(vector_out);
  EXPECT_EQ(to_bytes(*vector_out),
            hex("e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
                "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
                "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
                "87347b66"));
  for (HashAlg alg : {HashAlg::sha256, HashAlg::sha384}) {
    SCOPED_TRACE(bulwark::crypto::hash_name(alg));
    const Bytes master(48, 0x5a);
    const Bytes hash(bulwark::crypto::digest_length(alg), 0xc3);
    auto keyed = bulwark::crypto::Hmac::create(alg, master);
    ASSERT_TRUE(keyed);
    for (std::string_view label : {"key expansion", "client finished", "server finished"}) {
      for (std::size_t length : {std::size_t{12}, std::size_t{40}, std::size_t{88}}) {
        std::vector<std::uint8_t> out(length);
        ASSERT_TRUE(bulwark::crypto::tls12_prf(*keyed, label, hash, out));
        auto per_call = bulwark::crypto::tls12_prf(alg, master, label, hash, length);
        ASSERT_TRUE(per_call);
        EXPECT_EQ(out, to_bytes(*per_call)) << label << " " << length;
      }
    }
  }
  auto sha1 = bulwark::crypto::Hmac::create(HashAlg::sha1, secret);
  ASSERT_TRUE(sha1);
  // RFC 5246 §5: the TLS 1.2 PRF uses SHA-256 or a stronger hash.
  EXPECT_EQ(bulwark::crypto::tls12_prf(*sha1, "master secret", seed, 48).error(),
            Errc::invalid_argument);
}
