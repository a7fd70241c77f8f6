#include "bulwark/crypto/hmac.hpp"
#include "support/hex.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdint>
#include <string_view>
#include <vector>

using bulwark::Errc;
using bulwark::crypto::Digest;
using bulwark::crypto::HashAlg;
using bulwark::crypto::Hmac;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes hex(std::string_view text) {
  return bulwark::test::hex(text);
}

Bytes ascii(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

Bytes to_bytes(const Digest& d) {
  return Bytes(d.span().begin(), d.span().end());
}

Bytes mac_of(HashAlg alg, const Bytes& key, const Bytes& data) {
  auto d = bulwark::crypto::hmac(alg, key, data);
  EXPECT_TRUE(d);
  return d ? to_bytes(*d) : Bytes{};
}

// libcrypto's own HMAC, as an independent reference.
Bytes reference_hmac(HashAlg alg, const Bytes& key, const Bytes& data) {
  const char* name = alg == HashAlg::sha256   ? "SHA2-256"
                     : alg == HashAlg::sha384 ? "SHA2-384"
                     : alg == HashAlg::sha512 ? "SHA2-512"
                                              : "SHA1";
  Bytes out(64);
  std::size_t out_len = 0;
  const std::uint8_t dummy = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, name, nullptr, key.empty() ? &dummy : key.data(),
                key.size(), data.data(), data.size(), out.data(), out.size(),
                &out_len) == nullptr) {
    ADD_FAILURE() << "EVP_Q_mac failed";
    return {};
  }
  out.resize(out_len);
  return out;
}

struct Rfc4231Case {
  int number;
  Bytes key;
  Bytes data;
  Bytes sha256;
  Bytes sha384;
};

// RFC 4231 §4.2-4.8 (test case 5, truncated output, is not used here).
std::vector<Rfc4231Case> rfc4231_cases() {
  return {
      {1, Bytes(20, 0x0b), ascii("Hi There"),
       hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
       hex("afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
           "faea9ea9076ede7f4af152e8b2fa9cb6")},
      {2, ascii("Jefe"), ascii("what do ya want for nothing?"),
       hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
       hex("af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
           "8e2240ca5e69e2c78b3239ecfab21649")},
      {3, Bytes(20, 0xaa), Bytes(50, 0xdd),
       hex("773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
       hex("88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
           "2a5ab39dc13814b94e3ab6e101a34f27")},
      {4, hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), Bytes(50, 0xcd),
       hex("82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
       hex("3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
           "6801dd23c4a7d679ccf8a386c674cffb")},
      {6, Bytes(131, 0xaa), ascii("Test Using Larger Than Block-Size Key - Hash Key First"),
       hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
       hex("4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
           "0c2ef6ab4030fe8296248df163f44952")},
      {7, Bytes(131, 0xaa),
       ascii("This is a test using a larger than block-size key and a larger than block-size "
             "data. The key needs to be hashed before being used by the HMAC algorithm."),
       hex("9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
       hex("6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
           "a678cc31e799176d3860e6110c46523e")},
  };
}

}  // namespace

TEST(CryptoHmac, Rfc4231OneShot) {
  for (const auto& c : rfc4231_cases()) {
    SCOPED_TRACE(c.number);
    EXPECT_EQ(mac_of(HashAlg::sha256, c.key, c.data), c.sha256);
    EXPECT_EQ(mac_of(HashAlg::sha384, c.key, c.data), c.sha384);
  }
}

TEST(CryptoHmac, Rfc4231Incremental) {
  for (const auto& c : rfc4231_cases()) {
    SCOPED_TRACE(c.number);
    for (HashAlg alg : {HashAlg::sha256, HashAlg::sha384}) {
      auto mac = Hmac::create(alg, c.key);
      ASSERT_TRUE(mac);
      EXPECT_EQ(mac->size(), bulwark::crypto::digest_length(alg));
      for (std::uint8_t b : c.data)
        ASSERT_TRUE(mac->update(std::span(&b, 1)));
      auto d = mac->final();
      ASSERT_TRUE(d);
      EXPECT_EQ(to_bytes(*d), alg == HashAlg::sha256 ? c.sha256 : c.sha384);
    }
  }
}

// reset() reuses the keyed state: the same key gives the same answers message after message.
TEST(CryptoHmac, ResetReusesTheKey) {
  const auto cases = rfc4231_cases();
  const auto& c2 = cases[1];
  auto mac = Hmac::create(HashAlg::sha256, c2.key);
  ASSERT_TRUE(mac);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(mac->update(c2.data));
    auto d = mac->final();
    ASSERT_TRUE(d);
    EXPECT_EQ(to_bytes(*d), c2.sha256);
    // A different message under the same key.
    ASSERT_TRUE(mac->reset());
    ASSERT_TRUE(mac->update(ascii("another message")));
    auto other = mac->final();
    ASSERT_TRUE(other);
    EXPECT_EQ(to_bytes(*other), mac_of(HashAlg::sha256, c2.key, ascii("another message")));
    ASSERT_TRUE(mac->reset());
  }
}

TEST(CryptoHmac, FinalOnlyOnceUntilReset) {
  auto mac = Hmac::create(HashAlg::sha384, ascii("key"));
  ASSERT_TRUE(mac);
  ASSERT_TRUE(mac->final());
  EXPECT_EQ(mac->final().error(), Errc::invalid_argument);
  EXPECT_EQ(mac->update(ascii("x")).error(), Errc::invalid_argument);
  ASSERT_TRUE(mac->reset());
  auto d = mac->final();
  ASSERT_TRUE(d);
  EXPECT_EQ(to_bytes(*d), mac_of(HashAlg::sha384, ascii("key"), {}));
}

// RFC 2202 §3 test case 2: HMAC-SHA-1 (legacy protocols only).
TEST(CryptoHmac, Sha1Rfc2202) {
  EXPECT_EQ(mac_of(HashAlg::sha1, ascii("Jefe"), ascii("what do ya want for nothing?")),
            hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"));
}

// Our HMAC is built on libcrypto's SHA states; check it against libcrypto's HMAC around every key
// length boundary (empty, block - 1, block, block + 1, much longer) and message length.
TEST(CryptoHmac, MatchesLibcryptoAcrossKeyAndMessageLengths) {
  for (HashAlg alg : {HashAlg::sha256, HashAlg::sha384, HashAlg::sha512, HashAlg::sha1}) {
    SCOPED_TRACE(bulwark::crypto::hash_name(alg));
    const std::size_t block = bulwark::crypto::block_length(alg);
    for (std::size_t key_len :
         {std::size_t{0}, std::size_t{1}, block - 1, block, block + 1, 3 * block + 5}) {
      Bytes key(key_len);
      for (std::size_t i = 0; i < key_len; ++i)
        key[i] = static_cast<std::uint8_t>(i * 13 + 1);
      for (std::size_t msg_len : {std::size_t{0}, std::size_t{55}, std::size_t{64},
                                  std::size_t{129}, std::size_t{1000}}) {
        Bytes msg(msg_len);
        for (std::size_t i = 0; i < msg_len; ++i)
          msg[i] = static_cast<std::uint8_t>(i ^ 0x5a);
        EXPECT_EQ(mac_of(alg, key, msg), reference_hmac(alg, key, msg))
            << "key " << key_len << " message " << msg_len;
      }
    }
  }
}

// One-shot HMACs in a row: a long key (hashed first), a short one, another hash in between,
// the same key again: each MAC stands alone.
TEST(CryptoHmac, OneShotCallsDoNotLeakIntoEachOther) {
  const Bytes long_key(200, 0x42);
  const Bytes short_key{1, 2, 3};
  const Bytes msg{'a', 'b', 'c'};
  for (int round = 0; round < 2; ++round) {
    for (const Bytes* key : {&long_key, &short_key, &short_key, &long_key, &long_key}) {
      EXPECT_EQ(mac_of(HashAlg::sha256, *key, msg), reference_hmac(HashAlg::sha256, *key, msg));
      EXPECT_EQ(mac_of(HashAlg::sha384, *key, {}), reference_hmac(HashAlg::sha384, *key, {}));
    }
  }
}

TEST(CryptoHmac, MovedFromIsRefused) {
  auto mac = Hmac::create(HashAlg::sha256, ascii("k"));
  ASSERT_TRUE(mac);
  Hmac moved = std::move(*mac);
  ASSERT_TRUE(moved.update(ascii("data")));
  EXPECT_TRUE(moved.final());
  EXPECT_EQ(mac->update(ascii("data")).error(), Errc::invalid_argument);  // NOLINT
  EXPECT_EQ(mac->reset().error(), Errc::invalid_argument);                // NOLINT
}

// A kept key: mac() is the one-shot MAC under that key, any number of times, and leaves the
// incremental message alone.
TEST(CryptoHmac, KeptKeyMacEqualsOneShot) {
  for (HashAlg alg : {HashAlg::sha256, HashAlg::sha384, HashAlg::sha512, HashAlg::sha1}) {
    SCOPED_TRACE(bulwark::crypto::hash_name(alg));
    const Bytes key(bulwark::crypto::block_length(alg) + 3, 0x17);  // hashed first
    const Hmac keyed(alg, key);
    auto incremental = Hmac::create(alg, key);
    ASSERT_TRUE(incremental);
    ASSERT_TRUE(incremental->update(ascii("half ")));
    for (std::size_t msg_len : {std::size_t{0}, std::size_t{33}, std::size_t{200}}) {
      const Bytes msg(msg_len, static_cast<std::uint8_t>(msg_len));
      auto once = keyed.mac(msg);
      auto twice = keyed.mac(msg);
      ASSERT_TRUE(once && twice);
      EXPECT_EQ(to_bytes(*once), reference_hmac(alg, key, msg)) << "message " << msg_len;
      EXPECT_EQ(to_bytes(*twice), to_bytes(*once));
      EXPECT_TRUE(incremental->mac(msg));
    }
    ASSERT_TRUE(incremental->update(ascii("and half")));
    auto whole = incremental->final();
    ASSERT_TRUE(whole);
    EXPECT_EQ(to_bytes(*whole), reference_hmac(alg, key, ascii("half and half")));
  }
}

TEST(CryptoHmac, UnknownHashOrMovedFromKeyIsRefused) {
  const Hmac unkeyed(static_cast<HashAlg>(99), ascii("key"));
  EXPECT_EQ(unkeyed.mac(ascii("data")).error(), Errc::invalid_argument);
  EXPECT_EQ(Hmac::create(static_cast<HashAlg>(99), ascii("key")).error(), Errc::invalid_argument);
  Hmac keyed(HashAlg::sha256, ascii("key"));
  const Hmac moved = std::move(keyed);
  EXPECT_TRUE(moved.mac(ascii("data")));
  EXPECT_EQ(keyed.mac(ascii("data")).error(), Errc::invalid_argument);  // NOLINT
}
