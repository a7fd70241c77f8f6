// RSA key transport (RFC 5246 §7.4.7.1): PKCS#1 v1.5 encryption that libcrypto's own decryption
// accepts and vice versa, and the server side's implicit rejection: bad padding, a wrong length,
// an out-of-range ciphertext and a wrong version all give 48 bytes and no error, the random
// ones drawn before decryption (Bleichenbacher / ROBOT).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>
#include <vector>

#include "bulwark/crypto/key_transport.hpp"
#include "bulwark/crypto/keys.hpp"
#include "bulwark/crypto/random.hpp"

using namespace bulwark;
using namespace bulwark::crypto;
using V = std::vector<std::uint8_t>;

namespace {

const PrivateKey& rsa_key() {
  static const PrivateKey key = PrivateKey::generate(KeyType::rsa, 2048).value();
  return key;
}

V premaster(std::uint16_t version, std::uint8_t fill) {
  V v(48, fill);
  v[0] = static_cast<std::uint8_t>(version >> 8);
  v[1] = static_cast<std::uint8_t>(version);
  return v;
}

using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;

// libcrypto's standard PKCS#1 v1.5 operations, as an independent reference.
V openssl_encrypt(const V& message) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, rsa_key().native(), nullptr), EVP_PKEY_CTX_free);
  EXPECT_EQ(EVP_PKEY_encrypt_init(ctx.get()), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING), 1);
  V out(256);
  std::size_t len = out.size();
  EXPECT_EQ(EVP_PKEY_encrypt(ctx.get(), out.data(), &len, message.data(), message.size()), 1);
  out.resize(len);
  return out;
}

V openssl_decrypt(const V& ciphertext) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, rsa_key().native(), nullptr), EVP_PKEY_CTX_free);
  EXPECT_EQ(EVP_PKEY_decrypt_init(ctx.get()), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING), 1);
  V out(256);
  std::size_t len = out.size();
  EXPECT_EQ(EVP_PKEY_decrypt(ctx.get(), out.data(), &len, ciphertext.data(), ciphertext.size()), 1);
  out.resize(len);
  return out;
}

// Raw RSA over a chosen encoded block, to build ciphertexts with a chosen (bad) padding.
V raw_encrypt(const V& block) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, rsa_key().native(), nullptr), EVP_PKEY_CTX_free);
  EXPECT_EQ(EVP_PKEY_encrypt_init(ctx.get()), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_NO_PADDING), 1);
  V out(256);
  std::size_t len = out.size();
  EXPECT_EQ(EVP_PKEY_encrypt(ctx.get(), out.data(), &len, block.data(), block.size()), 1);
  out.resize(len);
  return out;
}

// 0x00 0x02 PS(nonzero) 0x00 M, for a 2048-bit modulus.
V pkcs1_block(const V& message) {
  V block(256, 0x5a);
  block[0] = 0x00;
  block[1] = 0x02;
  block[256 - message.size() - 1] = 0x00;
  std::copy(message.begin(), message.end(), block.end() - static_cast<long>(message.size()));
  return block;
}

// What the server gets with an `rng` whose first 46 bytes we know.
struct Outcome {
  V pms;
  V random46;
};
Outcome server_side(const V& encrypted, std::uint16_t version = 0x0303) {
  const V seed = {9, 9, 9};
  DeterministicRandom peek(seed);
  V random46(46);
  EXPECT_TRUE(peek.fill(random46));
  DeterministicRandom rng(seed);
  auto pms = rsa_decrypt_premaster_secret(rsa_key(), encrypted, version, rng);
  EXPECT_TRUE(pms) << pms.error().message();
  if (!pms) return {};
  return {V(pms->span().begin(), pms->span().end()), random46};
}

V with_version(std::uint16_t version, const V& random46) {
  V v = {static_cast<std::uint8_t>(version >> 8), static_cast<std::uint8_t>(version)};
  v.insert(v.end(), random46.begin(), random46.end());
  return v;
}

}  // namespace

// Our encryption is standard PKCS#1 v1.5: libcrypto decrypts it, and we decrypt libcrypto's.
TEST(CryptoKeyTransport, InteroperatesWithPkcs1) {
  const V pms = premaster(0x0303, 0x42);
  DeterministicRandom rng(V{1});
  auto ct = rsa_pkcs1_encrypt(rsa_key().public_key(), pms, rng);
  ASSERT_TRUE(ct) << ct.error().message();
  EXPECT_EQ(ct->size(), 256u);
  EXPECT_EQ(openssl_decrypt(*ct), pms);
  EXPECT_EQ(server_side(*ct).pms, pms);
  EXPECT_EQ(server_side(openssl_encrypt(pms)).pms, pms);
}

// The padding's randomness is the injected source's: the same source gives the same bytes.
TEST(CryptoKeyTransport, EncryptionIsReproducibleWithADeterministicSource) {
  const V pms = premaster(0x0303, 7);
  DeterministicRandom a(V{5});
  DeterministicRandom b(V{5});
  DeterministicRandom c(V{6});
  const V x = rsa_pkcs1_encrypt(rsa_key().public_key(), pms, a).value();
  EXPECT_EQ(x, rsa_pkcs1_encrypt(rsa_key().public_key(), pms, b).value());
  EXPECT_NE(x, rsa_pkcs1_encrypt(rsa_key().public_key(), pms, c).value());
}

// RFC 5246 §7.4.7.1: every malformed EncryptedPreMasterSecret yields client_version || R, R
// drawn before decryption; none is an error.
TEST(CryptoKeyTransport, ImplicitRejection) {
  const V pms = premaster(0x0303, 0x33);
  struct Case {
    const char* what;
    V ciphertext;
  };
  V bad_type = pkcs1_block(pms);
  bad_type[1] = 0x01;  // block type 1 (signature padding)
  V bad_leading = pkcs1_block(pms);
  bad_leading[0] = 0x01;
  V no_separator = pkcs1_block(pms);
  no_separator[256 - 49] = 0x11;  // the zero before M is missing
  V zero_in_padding = pkcs1_block(pms);
  zero_in_padding[40] = 0x00;  // M would be longer than 48 bytes
  const V short_message = pkcs1_block(V(47, 0x33));
  const V long_message = pkcs1_block(V(49, 0x33));
  V truncated = raw_encrypt(pkcs1_block(pms));
  truncated.pop_back();
  const Case cases[] = {
      {"block type 1", raw_encrypt(bad_type)},
      {"nonzero first octet", raw_encrypt(bad_leading)},
      {"no zero separator", raw_encrypt(no_separator)},
      {"zero inside the padding", raw_encrypt(zero_in_padding)},
      {"47-byte message", raw_encrypt(short_message)},
      {"49-byte message", raw_encrypt(long_message)},
      {"ciphertext one byte short", truncated},
      {"ciphertext not below the modulus", V(256, 0xff)},
      {"empty ciphertext", V()},
  };
  for (const auto& c : cases) {
    const Outcome o = server_side(c.ciphertext);
    EXPECT_EQ(o.pms, with_version(0x0303, o.random46)) << c.what;
  }
  // The well-formed block through the same raw path decrypts, so the cases above fail only
  // for the defect each names.
  EXPECT_EQ(server_side(raw_encrypt(pkcs1_block(pms))).pms, pms);
}

// A valid block whose version bytes differ from ClientHello.client_version: the server keeps
// M[2..47] behind the version it expected, so the handshake fails at Finished, not here.
TEST(CryptoKeyTransport, WrongVersionKeepsTheSecretBehindTheExpectedVersion) {
  const V sent = premaster(0x0302, 0x77);
  DeterministicRandom rng(V{3});
  const V ct = rsa_pkcs1_encrypt(rsa_key().public_key(), sent, rng).value();
  const Outcome o = server_side(ct, 0x0303);
  V expected = sent;
  expected[1] = 0x03;
  EXPECT_EQ(o.pms, expected);
  EXPECT_NE(o.pms, sent);
}

TEST(CryptoKeyTransport, OnlyRsaEncryptionKeys) {
  const PrivateKey ec = PrivateKey::generate(KeyType::ec_p256).value();
  DeterministicRandom rng(V{1});
  EXPECT_EQ(rsa_pkcs1_encrypt(ec.public_key(), premaster(0x0303, 1), rng).error().code(),
            Errc::invalid_key);
  EXPECT_EQ(rsa_decrypt_premaster_secret(ec, V(256, 1), 0x0303, rng).error().code(),
            Errc::invalid_key);
  // RFC 8017 §7.2.1: at most k - 11 bytes.
  EXPECT_EQ(rsa_pkcs1_encrypt(rsa_key().public_key(), V(246, 1), rng).error().code(),
            Errc::invalid_argument);
  EXPECT_TRUE(rsa_pkcs1_encrypt(rsa_key().public_key(), V(245, 1), rng));
}
