#include "bulwark/crypto/hkdf.hpp"
#include "support/hex.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/crypto/hash.hpp"
#include "vectors/rfc8448.hpp"

using bulwark::Errc;
using bulwark::crypto::HashAlg;
using bulwark::crypto::Secret;

namespace {

namespace rfc8448 = bulwark::test::rfc8448;
using Bytes = std::vector<std::uint8_t>;

Bytes hex(std::string_view text) {
  return bulwark::test::hex(text);
}

Bytes to_bytes(const Secret& s) {
  return Bytes(s.span().begin(), s.span().end());
}

Bytes range(int from, int to_inclusive) {
  Bytes b;
  for (int i = from; i <= to_inclusive; ++i)
    b.push_back(static_cast<std::uint8_t>(i));
  return b;
}

Bytes expand_label(const Bytes& secret, std::string_view label, const Bytes& context,
                   std::size_t length) {
  auto r = bulwark::crypto::hkdf_expand_label(HashAlg::sha256, secret, label, context, length);
  EXPECT_TRUE(r) << label;
  return r ? to_bytes(*r) : Bytes{};
}

Bytes derive(const Bytes& secret, std::string_view label, const Bytes& transcript_hash) {
  auto r = bulwark::crypto::derive_secret(HashAlg::sha256, secret, label, transcript_hash);
  EXPECT_TRUE(r) << label;
  return r ? to_bytes(*r) : Bytes{};
}

Bytes extract(const Bytes& salt, const Bytes& ikm) {
  auto r = bulwark::crypto::hkdf_extract(HashAlg::sha256, salt, ikm);
  EXPECT_TRUE(r);
  return r ? to_bytes(*r) : Bytes{};
}

// libcrypto's TLS13-KDF in EXPAND_ONLY mode, as an independent reference for SHA-384.
Bytes reference_expand_label(const char* digest, const Bytes& secret, const std::string& label,
                             const Bytes& context, std::size_t length) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "TLS13-KDF", nullptr);
  EVP_KDF_CTX* ctx = kdf ? EVP_KDF_CTX_new(kdf) : nullptr;
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  std::string prefix = "tls13 ";
  std::string label_copy = label;
  Bytes secret_copy = secret;
  Bytes context_copy = context;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, secret_copy.data(), secret_copy.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, prefix.data(), prefix.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, label_copy.data(), label_copy.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, context_copy.data(),
                                        context_copy.size()),
      OSSL_PARAM_construct_end()};
  Bytes out(length);
  const bool ok = ctx != nullptr && EVP_KDF_derive(ctx, out.data(), out.size(), params) == 1;
  EVP_KDF_CTX_free(ctx);
  EVP_KDF_free(kdf);
  if (!ok) {
    ADD_FAILURE() << "TLS13-KDF failed";
    return {};
  }
  return out;
}

}  // namespace

// RFC 5869 Appendix A.1: basic test case with SHA-256.
TEST(CryptoHkdf, Rfc5869A1) {
  const Bytes ikm(22, 0x0b);
  const Bytes salt = range(0x00, 0x0c);
  const Bytes info = range(0xf0, 0xf9);
  auto prk = bulwark::crypto::hkdf_extract(HashAlg::sha256, salt, ikm);
  ASSERT_TRUE(prk);
  EXPECT_EQ(to_bytes(*prk),
            hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"));
  auto okm = bulwark::crypto::hkdf_expand(HashAlg::sha256, *prk, info, 42);
  ASSERT_TRUE(okm);
  EXPECT_EQ(to_bytes(*okm), hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                                "34007208d5b887185865"));
}

// RFC 5869 Appendix A.2: longer inputs and outputs.
TEST(CryptoHkdf, Rfc5869A2) {
  auto prk = bulwark::crypto::hkdf_extract(HashAlg::sha256, range(0x60, 0xaf), range(0x00, 0x4f));
  ASSERT_TRUE(prk);
  EXPECT_EQ(to_bytes(*prk),
            hex("06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244"));
  auto okm = bulwark::crypto::hkdf_expand(HashAlg::sha256, *prk, range(0xb0, 0xff), 82);
  ASSERT_TRUE(okm);
  EXPECT_EQ(to_bytes(*okm), hex("b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
                                "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
                                "cc30c58179ec3e87c14c01d5c1f3434f1d87"));
}

// RFC 5869 Appendix A.3: zero-length salt and info.
TEST(CryptoHkdf, Rfc5869A3) {
  auto prk = bulwark::crypto::hkdf_extract(HashAlg::sha256, {}, Bytes(22, 0x0b));
  ASSERT_TRUE(prk);
  EXPECT_EQ(to_bytes(*prk),
            hex("19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04"));
  // RFC 5869 §2.2: an absent salt is HashLen zeros.
  EXPECT_EQ(to_bytes(*prk), extract(Bytes(32, 0), Bytes(22, 0x0b)));
  auto okm = bulwark::crypto::hkdf_expand(HashAlg::sha256, *prk, {}, 42);
  ASSERT_TRUE(okm);
  EXPECT_EQ(to_bytes(*okm), hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
                                "9d201395faa4b61a96c8"));
}

TEST(CryptoHkdf, ExpandLengthLimits) {
  const Bytes prk32(32, 1);
  const Bytes prk48(48, 1);
  // RFC 5869 §2.3: L <= 255 * HashLen.
  auto longest = bulwark::crypto::hkdf_expand(HashAlg::sha256, prk32, {}, 255 * 32);
  ASSERT_TRUE(longest);
  EXPECT_EQ(longest->size(), 255u * 32);
  EXPECT_EQ(bulwark::crypto::hkdf_expand(HashAlg::sha256, prk32, {}, 255 * 32 + 1).error(),
            Errc::invalid_argument);
  EXPECT_TRUE(bulwark::crypto::hkdf_expand(HashAlg::sha384, prk48, {}, 255 * 48));
  EXPECT_EQ(bulwark::crypto::hkdf_expand(HashAlg::sha384, prk48, {}, 255 * 48 + 1).error(),
            Errc::invalid_argument);
  // RFC 5869 §2.3: the PRK is at least HashLen octets.
  EXPECT_EQ(bulwark::crypto::hkdf_expand(HashAlg::sha256, Bytes(31, 1), {}, 16).error(),
            Errc::invalid_argument);
  auto empty = bulwark::crypto::hkdf_expand(HashAlg::sha256, prk32, {}, 0);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  // Shorter outputs are prefixes of longer ones.
  auto a = bulwark::crypto::hkdf_expand(HashAlg::sha256, prk32, Bytes{1, 2}, 40);
  auto b = bulwark::crypto::hkdf_expand(HashAlg::sha256, prk32, Bytes{1, 2}, 100);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(to_bytes(*a), Bytes(b->span().begin(), b->span().begin() + 40));
}

// RFC 8448 §3 ("Simple 1-RTT Handshake", TLS_AES_128_GCM_SHA256): the whole key schedule.
TEST(CryptoHkdf, Rfc8448KeySchedule) {
  const Bytes zeros(32, 0);
  const Bytes empty_hash = hex(
      "e3 b0 c4 42 98 fc 1c 14 9a fb f4 c8 99 6f b9 24 27 ae 41 e4 64 9b 93 4c a4 95 99 1b 78 52 "
      "b8 55");
  // {client} extract secret "early" (no PSK: IKM is 32 zero bytes, salt 0).
  const Bytes early = extract({}, zeros);
  EXPECT_EQ(early, hex(rfc8448::s3::early_secret));
  // {server} derive secret for handshake "tls13 derived"
  const Bytes derived_hs = derive(early, "derived", empty_hash);
  EXPECT_EQ(derived_hs, hex(rfc8448::s3::derived_for_handshake));
  // {server} extract secret "handshake" with the x25519 shared secret as IKM.
  const Bytes ecdhe = hex(rfc8448::s3::shared_secret);
  const Bytes handshake = extract(derived_hs, ecdhe);
  EXPECT_EQ(handshake, hex(rfc8448::s3::handshake_secret));
  // Transcript-Hash(ClientHello, ServerHello)
  const Bytes hello_hash = hex(rfc8448::s3::hello_hash);
  const Bytes c_hs = derive(handshake, "c hs traffic", hello_hash);
  EXPECT_EQ(c_hs, hex(rfc8448::s3::client_handshake_traffic));
  const Bytes s_hs = derive(handshake, "s hs traffic", hello_hash);
  EXPECT_EQ(s_hs, hex(rfc8448::s3::server_handshake_traffic));
  // {server} derive write traffic keys for handshake data
  EXPECT_EQ(expand_label(s_hs, "key", {}, 16), hex(rfc8448::s3::server_handshake_key));
  EXPECT_EQ(expand_label(s_hs, "iv", {}, 12), hex(rfc8448::s3::server_handshake_iv));
  // {server} derive read traffic keys for handshake data (the client's write keys)
  EXPECT_EQ(expand_label(c_hs, "key", {}, 16), hex(rfc8448::s3::client_handshake_key));
  EXPECT_EQ(expand_label(c_hs, "iv", {}, 12), hex(rfc8448::s3::client_handshake_iv));
  // {client} calculate finished "tls13 finished": the client's finished_key.
  EXPECT_EQ(expand_label(c_hs, "finished", {}, 32), hex(rfc8448::s3::client_finished_key));
  // {server} derive secret for master "tls13 derived"
  const Bytes derived_ms = derive(handshake, "derived", empty_hash);
  EXPECT_EQ(derived_ms, hex(rfc8448::s3::derived_for_master));
  // {server} extract secret "master"
  const Bytes master = extract(derived_ms, zeros);
  EXPECT_EQ(master, hex(rfc8448::s3::master_secret));
  // Transcript-Hash(ClientHello .. server Finished)
  const Bytes server_finished_hash = hex(rfc8448::s3::server_finished_hash);
  const Bytes c_ap = derive(master, "c ap traffic", server_finished_hash);
  EXPECT_EQ(c_ap, hex(rfc8448::s3::client_application_traffic));
  const Bytes s_ap = derive(master, "s ap traffic", server_finished_hash);
  EXPECT_EQ(s_ap, hex(rfc8448::s3::server_application_traffic));
  EXPECT_EQ(derive(master, "exp master", server_finished_hash), hex(rfc8448::s3::exporter_master));
  // {server} derive write traffic keys for application data
  EXPECT_EQ(expand_label(s_ap, "key", {}, 16), hex(rfc8448::s3::server_application_key));
  EXPECT_EQ(expand_label(s_ap, "iv", {}, 12), hex(rfc8448::s3::server_application_iv));
  // {client} derive write traffic keys for application data
  EXPECT_EQ(expand_label(c_ap, "key", {}, 16), hex(rfc8448::s3::client_application_key));
  EXPECT_EQ(expand_label(c_ap, "iv", {}, 12), hex(rfc8448::s3::client_application_iv));
  // {client} derive secret "tls13 res master", over the transcript through client Finished
  const Bytes res_master = derive(master, "res master", hex(rfc8448::s3::client_finished_hash));
  EXPECT_EQ(res_master, hex(rfc8448::s3::resumption_master));
  // {server} generate resumption secret "tls13 resumption" with ticket nonce 00 00 (§4.6.1).
  EXPECT_EQ(expand_label(res_master, "resumption", Bytes{0, 0}, 32),
            hex(rfc8448::s3::resumption_psk));
}

TEST(CryptoHkdf, ExpandLabelMatchesLibcryptoForSha384) {
  const Bytes secret(48, 0x5c);
  const Bytes context = hex("0102030405060708090a0b0c0d0e0f10111213141516171819");
  for (std::string label : {"key", "iv", "c hs traffic", "derived", "finished"}) {
    for (std::size_t length :
         {std::size_t{12}, std::size_t{32}, std::size_t{48}, std::size_t{100}}) {
      auto ours =
          bulwark::crypto::hkdf_expand_label(HashAlg::sha384, secret, label, context, length);
      ASSERT_TRUE(ours);
      EXPECT_EQ(to_bytes(*ours), reference_expand_label("SHA2-384", secret, label, context, length))
          << label << " " << length;
    }
  }
}

TEST(CryptoHkdf, ExpandLabelRefusesMisuse) {
  const Bytes secret(32, 1);
  // RFC 8446 §7.1: opaque label<7..255> holds "tls13 " + Label.
  EXPECT_EQ(bulwark::crypto::hkdf_expand_label(HashAlg::sha256, secret, "", {}, 16).error(),
            Errc::invalid_argument);
  const std::string longest(249, 'x');
  EXPECT_TRUE(bulwark::crypto::hkdf_expand_label(HashAlg::sha256, secret, longest, {}, 16));
  EXPECT_EQ(
      bulwark::crypto::hkdf_expand_label(HashAlg::sha256, secret, longest + "x", {}, 16).error(),
      Errc::invalid_argument);
  // RFC 8446 §7.1: opaque context<0..255>.
  EXPECT_TRUE(bulwark::crypto::hkdf_expand_label(HashAlg::sha256, secret, "k", Bytes(255, 0), 16));
  EXPECT_EQ(
      bulwark::crypto::hkdf_expand_label(HashAlg::sha256, secret, "k", Bytes(256, 0), 16).error(),
      Errc::invalid_argument);
  // uint16 length, and within HKDF-Expand's limit.
  EXPECT_EQ(
      bulwark::crypto::hkdf_expand_label(HashAlg::sha256, secret, "k", {}, 255 * 32 + 1).error(),
      Errc::invalid_argument);
}

TEST(CryptoHkdf, DeriveSecretNeedsAFullTranscriptHash) {
  const Bytes secret(32, 1);
  EXPECT_EQ(
      bulwark::crypto::derive_secret(HashAlg::sha256, secret, "derived", Bytes(31, 0)).error(),
      Errc::invalid_argument);
  EXPECT_EQ(
      bulwark::crypto::derive_secret(HashAlg::sha256, secret, "derived", Bytes(48, 0)).error(),
      Errc::invalid_argument);
  auto d = bulwark::crypto::derive_secret(HashAlg::sha384, Bytes(48, 1), "derived", Bytes(48, 0));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->size(), 48u);
}

// The keyed forms (one Hmac over the secret, several expansions) give what the span forms give.
TEST(CryptoHkdf, KeyedFormsEqualSpanForms) {
  // RFC 5869 Appendix A.2's PRK and info: three blocks of output.
  const Bytes prk = hex("06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244");
  const bulwark::crypto::Hmac keyed(HashAlg::sha256, prk);
  auto okm = bulwark::crypto::hkdf_expand(keyed, range(0xb0, 0xff), 82);
  ASSERT_TRUE(okm);
  EXPECT_EQ(to_bytes(*okm), hex("b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
                                "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
                                "cc30c58179ec3e87c14c01d5c1f3434f1d87"));
  EXPECT_EQ(bulwark::crypto::hkdf_expand(keyed, {}, 255 * 32 + 1).error(), Errc::invalid_argument);
  for (HashAlg alg : {HashAlg::sha256, HashAlg::sha384}) {
    SCOPED_TRACE(bulwark::crypto::hash_name(alg));
    const std::size_t n = bulwark::crypto::digest_length(alg);
    const Bytes secret(n, 0x33);
    const Bytes th(n, 0x44);
    const bulwark::crypto::Hmac key(alg, secret);
    for (std::string_view label : {"c hs traffic", "s hs traffic", "derived"}) {
      auto a = bulwark::crypto::derive_secret(key, label, th);
      auto b = bulwark::crypto::derive_secret(alg, secret, label, th);
      ASSERT_TRUE(a && b);
      EXPECT_EQ(to_bytes(*a), to_bytes(*b)) << label;
    }
    auto k1 = bulwark::crypto::hkdf_expand_label(key, "key", {}, 16);
    auto k2 = bulwark::crypto::hkdf_expand_label(alg, secret, "key", {}, 16);
    ASSERT_TRUE(k1 && k2);
    EXPECT_EQ(to_bytes(*k1), to_bytes(*k2));
    // The same checks as the span forms: a HashLen transcript hash, a label of 1..249 bytes.
    EXPECT_EQ(bulwark::crypto::derive_secret(key, "derived", Bytes(n - 1)).error(),
              Errc::invalid_argument);
    EXPECT_EQ(bulwark::crypto::hkdf_expand_label(key, "", {}, 16).error(), Errc::invalid_argument);
  }
}
