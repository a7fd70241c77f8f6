#include "bulwark/crypto/aead.hpp"
#include "support/hex.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/crypto/random.hpp"

using bulwark::Errc;
using bulwark::crypto::Aead;
using bulwark::crypto::AeadAlg;
using bulwark::crypto::DeterministicRandom;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes hex(std::string_view text) {
  return bulwark::test::hex(text);
}

Bytes ascii(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

bool all_zero(const Bytes& b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

Bytes random_bytes(DeterministicRandom& rng, std::size_t n) {
  Bytes b(n);
  EXPECT_TRUE(rng.fill(b));
  return b;
}

constexpr AeadAlg all_algs[] = {AeadAlg::aes_128_gcm, AeadAlg::aes_256_gcm,
                                AeadAlg::chacha20_poly1305};

struct Kat {
  const char* name;
  AeadAlg alg;
  Bytes key, nonce, aad, plaintext, ciphertext, tag;
};

std::vector<Kat> known_answers() {
  const Bytes gcm_plaintext =
      hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
          "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  const Bytes gcm_aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  return {
      // McGrew & Viega, "The Galois/Counter Mode of Operation", test case 1 (empty input).
      {"GCM test case 1",
       AeadAlg::aes_128_gcm,
       Bytes(16, 0),
       Bytes(12, 0),
       {},
       {},
       {},
       hex("58e2fccefa7e3061367f1d57a4e7455a")},
      // ... test case 2 (one block, no AAD).
      {"GCM test case 2",
       AeadAlg::aes_128_gcm,
       Bytes(16, 0),
       Bytes(12, 0),
       {},
       Bytes(16, 0),
       hex("0388dace60b6a392f328c2b971b2fe78"),
       hex("ab6e47d42cec13bdf53a67b21257bddf")},
      // ... test case 4 (AES-128, with AAD, 60-byte plaintext).
      {"GCM test case 4", AeadAlg::aes_128_gcm, hex("feffe9928665731c6d6a8f9467308308"),
       hex("cafebabefacedbaddecaf888"), gcm_aad, gcm_plaintext,
       hex("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
           "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"),
       hex("5bc94fbc3221a5db94fae95ae7121a47")},
      // ... test case 16 (AES-256, with AAD, 60-byte plaintext).
      {"GCM test case 16", AeadAlg::aes_256_gcm,
       hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"),
       hex("cafebabefacedbaddecaf888"), gcm_aad, gcm_plaintext,
       hex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
           "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"),
       hex("76fc6ece0f4e1768cddf8853bb2d551b")},
      // RFC 8439 §2.8.2, the AEAD_CHACHA20_POLY1305 example.
      {"RFC 8439 2.8.2", AeadAlg::chacha20_poly1305,
       hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"),
       hex("070000004041424344454647"), hex("50515253c0c1c2c3c4c5c6c7"),
       ascii("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
             "the future, sunscreen would be it."),
       hex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
           "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
           "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
           "3ff4def08e4b7a9de576d26586cec64b6116"),
       hex("1ae10b594f09e26a7e902ecbd0600691")},
  };
}

}  // namespace

static_assert(bulwark::crypto::aead_key_length(AeadAlg::aes_128_gcm) == 16);
static_assert(bulwark::crypto::aead_key_length(AeadAlg::aes_256_gcm) == 32);
static_assert(bulwark::crypto::aead_key_length(AeadAlg::chacha20_poly1305) == 32);
static_assert(bulwark::crypto::aead_nonce_length(AeadAlg::aes_128_gcm) == 12);
static_assert(bulwark::crypto::aead_nonce_length(AeadAlg::chacha20_poly1305) == 12);
static_assert(bulwark::crypto::aead_tag_length(AeadAlg::aes_256_gcm) == 16);

TEST(CryptoAead, KnownAnswersSeal) {
  for (const Kat& k : known_answers()) {
    SCOPED_TRACE(k.name);
    auto aead = Aead::create(k.alg, k.key);
    ASSERT_TRUE(aead) << aead.error().message();
    Bytes buf = k.plaintext;
    Bytes tag(16);
    ASSERT_TRUE(aead->seal(k.nonce, k.aad, buf, tag));
    EXPECT_EQ(buf, k.ciphertext);
    EXPECT_EQ(tag, k.tag);
  }
}

TEST(CryptoAead, KnownAnswersOpen) {
  for (const Kat& k : known_answers()) {
    SCOPED_TRACE(k.name);
    auto aead = Aead::create(k.alg, k.key);
    ASSERT_TRUE(aead);
    Bytes buf = k.ciphertext;
    ASSERT_TRUE(aead->open(k.nonce, k.aad, buf, k.tag));
    EXPECT_EQ(buf, k.plaintext);
  }
}

TEST(CryptoAead, KnownAnswersAppendedTag) {
  for (const Kat& k : known_answers()) {
    SCOPED_TRACE(k.name);
    auto aead = Aead::create(k.alg, k.key);
    ASSERT_TRUE(aead);
    Bytes record = k.plaintext;
    record.resize(k.plaintext.size() + 16, 0xee);
    ASSERT_TRUE(aead->seal_appended(k.nonce, k.aad, record));
    Bytes expected = k.ciphertext;
    expected.insert(expected.end(), k.tag.begin(), k.tag.end());
    EXPECT_EQ(record, expected);

    auto n = aead->open_appended(k.nonce, k.aad, record);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, k.plaintext.size());
    EXPECT_EQ(Bytes(record.begin(), record.begin() + static_cast<std::ptrdiff_t>(*n)), k.plaintext);
  }
}

// One object serves both directions, and switching between them keeps the key schedule and
// the known answers intact.
TEST(CryptoAead, OneObjectSealsAndOpensInterleaved) {
  for (const Kat& k : known_answers()) {
    SCOPED_TRACE(k.name);
    auto aead = Aead::create(k.alg, k.key);
    ASSERT_TRUE(aead);
    for (int round = 0; round < 3; ++round) {
      Bytes buf = k.plaintext;
      Bytes tag(16);
      ASSERT_TRUE(aead->seal(k.nonce, k.aad, buf, tag));
      EXPECT_EQ(buf, k.ciphertext);
      EXPECT_EQ(tag, k.tag);
      ASSERT_TRUE(aead->open(k.nonce, k.aad, buf, tag));
      EXPECT_EQ(buf, k.plaintext);
      Bytes other = k.ciphertext;
      ASSERT_TRUE(aead->open(k.nonce, k.aad, other, k.tag));
      EXPECT_EQ(other, k.plaintext);
    }
  }
}

TEST(CryptoAead, RoundTripsEmptySmallAndLarge) {
  DeterministicRandom rng(ascii("aead round trips"));
  for (AeadAlg alg : all_algs) {
    SCOPED_TRACE(bulwark::crypto::aead_name(alg));
    const Bytes key = random_bytes(rng, bulwark::crypto::aead_key_length(alg));
    auto aead = Aead::create(alg, key);
    ASSERT_TRUE(aead);
    for (std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{17}, std::size_t{16384},
                            std::size_t{65536}}) {
      SCOPED_TRACE(len);
      const Bytes nonce = random_bytes(rng, 12);
      const Bytes aad = random_bytes(rng, 13);
      const Bytes plaintext = random_bytes(rng, len);
      Bytes buf = plaintext;
      Bytes tag(16);
      ASSERT_TRUE(aead->seal(nonce, aad, buf, tag));
      if (len >= 16) {
        EXPECT_NE(buf, plaintext);
      }
      ASSERT_TRUE(aead->open(nonce, aad, buf, tag));
      EXPECT_EQ(buf, plaintext);
    }
  }
}

TEST(CryptoAead, EmptyAadAndEmptyTextStillAuthenticates) {
  for (AeadAlg alg : all_algs) {
    SCOPED_TRACE(bulwark::crypto::aead_name(alg));
    const Bytes key(bulwark::crypto::aead_key_length(alg), 0x42);
    const Bytes nonce(12, 0x24);
    auto aead = Aead::create(alg, key);
    ASSERT_TRUE(aead);
    Bytes tag(16);
    Bytes empty;
    ASSERT_TRUE(aead->seal(nonce, {}, empty, tag));
    EXPECT_FALSE(all_zero(tag));
    ASSERT_TRUE(aead->open(nonce, {}, empty, tag));
    tag[15] ^= 0x80;
    EXPECT_EQ(aead->open(nonce, {}, empty, tag).error(), Errc::bad_record_mac);
  }
}

// A forgery of any kind is rejected with bad_record_mac and leaves no plaintext behind.
TEST(CryptoAead, TamperingIsRejectedAndBufferWiped) {
  DeterministicRandom rng(ascii("aead tampering"));
  for (AeadAlg alg : all_algs) {
    SCOPED_TRACE(bulwark::crypto::aead_name(alg));
    const Bytes key = random_bytes(rng, bulwark::crypto::aead_key_length(alg));
    const Bytes other_key = random_bytes(rng, key.size());
    const Bytes nonce = random_bytes(rng, 12);
    const Bytes aad = random_bytes(rng, 13);
    const Bytes plaintext = random_bytes(rng, 100);
    auto aead = Aead::create(alg, key);
    ASSERT_TRUE(aead);
    Bytes ciphertext = plaintext;
    Bytes tag(16);
    ASSERT_TRUE(aead->seal(nonce, aad, ciphertext, tag));

    auto expect_rejected = [&](Aead& a, const Bytes& n, const Bytes& ad, Bytes ct, const Bytes& t) {
      auto st = a.open(n, ad, ct, t);
      ASSERT_FALSE(st);
      EXPECT_EQ(st.error(), Errc::bad_record_mac);
      EXPECT_TRUE(all_zero(ct)) << "unauthenticated plaintext left in the buffer";
    };
    {
      SCOPED_TRACE("flipped tag bit");
      Bytes t = tag;
      t[0] ^= 0x01;
      expect_rejected(*aead, nonce, aad, ciphertext, t);
    }
    {
      SCOPED_TRACE("flipped ciphertext bit");
      Bytes ct = ciphertext;
      ct[57] ^= 0x10;
      expect_rejected(*aead, nonce, aad, ct, tag);
    }
    {
      SCOPED_TRACE("flipped AAD bit");
      Bytes ad = aad;
      ad[4] ^= 0x02;
      expect_rejected(*aead, nonce, ad, ciphertext, tag);
    }
    {
      SCOPED_TRACE("wrong nonce");
      Bytes n = nonce;
      n[11] ^= 0x01;
      expect_rejected(*aead, n, aad, ciphertext, tag);
    }
    {
      SCOPED_TRACE("wrong key");
      auto wrong = Aead::create(alg, other_key);
      ASSERT_TRUE(wrong);
      expect_rejected(*wrong, nonce, aad, ciphertext, tag);
    }
    {
      SCOPED_TRACE("appended tag, flipped bit");
      Bytes record = ciphertext;
      record.insert(record.end(), tag.begin(), tag.end());
      record.back() ^= 0x40;
      auto n = aead->open_appended(nonce, aad, record);
      ASSERT_FALSE(n);
      EXPECT_EQ(n.error(), Errc::bad_record_mac);
      EXPECT_TRUE(all_zero(record));
    }
    {
      SCOPED_TRACE("appended tag, record shorter than a tag");
      Bytes record(15, 0xab);
      auto n = aead->open_appended(nonce, aad, record);
      ASSERT_FALSE(n);
      EXPECT_EQ(n.error(), Errc::bad_record_mac);
      EXPECT_TRUE(all_zero(record));
    }
    // A failed open does not disturb later operations.
    Bytes again = ciphertext;
    ASSERT_TRUE(aead->open(nonce, aad, again, tag));
    EXPECT_EQ(again, plaintext);
  }
}

TEST(CryptoAead, WrongSizesAreInvalidArguments) {
  for (AeadAlg alg : all_algs) {
    SCOPED_TRACE(bulwark::crypto::aead_name(alg));
    const std::size_t key_len = bulwark::crypto::aead_key_length(alg);
    EXPECT_EQ(Aead::create(alg, Bytes(key_len - 1, 1)).error(), Errc::invalid_argument);
    EXPECT_EQ(Aead::create(alg, Bytes(key_len + 1, 1)).error(), Errc::invalid_argument);
    EXPECT_EQ(Aead::create(alg, Bytes{}).error(), Errc::invalid_argument);
    if (alg == AeadAlg::aes_128_gcm) {
      // An AES-256 key is not an AES-128 key.
      EXPECT_EQ(Aead::create(alg, Bytes(32, 1)).error(), Errc::invalid_argument);
    }

    auto aead = Aead::create(alg, Bytes(key_len, 1));
    ASSERT_TRUE(aead);
    Bytes buf(32, 7);
    Bytes tag(16);
    EXPECT_EQ(aead->seal(Bytes(11, 0), {}, buf, tag).error(), Errc::invalid_argument);
    EXPECT_EQ(aead->seal(Bytes(13, 0), {}, buf, tag).error(), Errc::invalid_argument);
    Bytes short_tag(15);
    Bytes long_tag(17);
    EXPECT_EQ(aead->seal(Bytes(12, 0), {}, buf, short_tag).error(), Errc::invalid_argument);
    EXPECT_EQ(aead->seal(Bytes(12, 0), {}, buf, long_tag).error(), Errc::invalid_argument);
    EXPECT_EQ(buf, Bytes(32, 7)) << "a refused seal must not touch the buffer";
    EXPECT_EQ(aead->open(Bytes(8, 0), {}, buf, tag).error(), Errc::invalid_argument);
    EXPECT_EQ(aead->open(Bytes(12, 0), {}, buf, short_tag).error(), Errc::invalid_argument);
    EXPECT_EQ(aead->open(Bytes(12, 0), {}, buf, long_tag).error(), Errc::invalid_argument);
    Bytes too_small(15);
    EXPECT_EQ(aead->seal_appended(Bytes(12, 0), {}, too_small).error(), Errc::invalid_argument);
    EXPECT_EQ(aead->open_appended(Bytes(16, 0), {}, buf).error(), Errc::invalid_argument);
  }
}

TEST(CryptoAead, MoveTransfersTheKey) {
  const Kat k = known_answers()[2];
  auto created = Aead::create(k.alg, k.key);
  ASSERT_TRUE(created);
  Aead moved = std::move(*created);
  EXPECT_EQ(moved.alg(), AeadAlg::aes_128_gcm);
  Bytes buf = k.plaintext;
  Bytes tag(16);
  ASSERT_TRUE(moved.seal(k.nonce, k.aad, buf, tag));
  EXPECT_EQ(buf, k.ciphertext);
  EXPECT_EQ(tag, k.tag);
  // The moved-from object holds no key any more and says so.
  Bytes other = k.plaintext;
  EXPECT_EQ(created->seal(k.nonce, k.aad, other, tag).error(), Errc::invalid_argument);  // NOLINT
}

TEST(CryptoAead, NamesAndLengths) {
  EXPECT_EQ(bulwark::crypto::aead_name(AeadAlg::aes_128_gcm), "AES-128-GCM");
  EXPECT_EQ(bulwark::crypto::aead_name(AeadAlg::aes_256_gcm), "AES-256-GCM");
  EXPECT_EQ(bulwark::crypto::aead_name(AeadAlg::chacha20_poly1305), "ChaCha20-Poly1305");
  auto aead = Aead::create(AeadAlg::aes_256_gcm, Bytes(32, 0));
  ASSERT_TRUE(aead);
  EXPECT_EQ(aead->key_length(), 32u);
  EXPECT_EQ(aead->nonce_length(), 12u);
  EXPECT_EQ(aead->tag_length(), 16u);
}

// seal_to / open_to: out of place, the plaintext in two parts (the record layer seals the
// caller's data and the TLS 1.3 content type byte), the same bytes as sealing in place.
TEST(CryptoAead, OutOfPlaceSealAndOpenMatchInPlace) {
  DeterministicRandom rng(ascii("aead out of place"));
  for (AeadAlg alg : all_algs) {
    SCOPED_TRACE(bulwark::crypto::aead_name(alg));
    auto aead = Aead::create(alg, random_bytes(rng, bulwark::crypto::aead_key_length(alg)));
    ASSERT_TRUE(aead);
    for (std::size_t len :
         {std::size_t{0}, std::size_t{1}, std::size_t{31}, std::size_t{1024}, std::size_t{16385}}) {
      SCOPED_TRACE(len);
      const Bytes nonce = random_bytes(rng, 12);
      const Bytes aad = random_bytes(rng, 13);
      const Bytes plaintext = random_bytes(rng, len);
      Bytes in_place = plaintext;
      Bytes tag(16);
      ASSERT_TRUE(aead->seal(nonce, aad, in_place, tag));
      for (std::size_t split : {std::size_t{0}, len / 2, len}) {
        SCOPED_TRACE(split);
        const std::span<const std::uint8_t> all(plaintext);
        Bytes out(len, 0xee);
        Bytes out_tag(16);
        ASSERT_TRUE(aead->seal_to(nonce, aad, all.first(split), all.subspan(split), out, out_tag));
        EXPECT_EQ(out, in_place);
        EXPECT_EQ(out_tag, tag);
        // Opened into two parts, split elsewhere.
        const std::size_t at = len - split;
        Bytes head(at, 0xee);
        Bytes tail(len - at, 0xee);
        ASSERT_TRUE(aead->open_to(nonce, aad, out, head, tail, tag));
        head.insert(head.end(), tail.begin(), tail.end());
        EXPECT_EQ(head, plaintext);
      }
    }
  }
}

TEST(CryptoAead, OutOfPlaceOpenRejectsForgeriesAndWipesBothParts) {
  for (AeadAlg alg : all_algs) {
    SCOPED_TRACE(bulwark::crypto::aead_name(alg));
    auto aead = Aead::create(alg, Bytes(bulwark::crypto::aead_key_length(alg), 0x42));
    ASSERT_TRUE(aead);
    const Bytes nonce(12, 0x24);
    const Bytes plaintext(100, 0x5a);
    Bytes ciphertext(100);
    Bytes tag(16);
    ASSERT_TRUE(aead->seal_to(nonce, {}, plaintext, {}, ciphertext, tag));
    ciphertext[50] ^= 1;
    Bytes head(99, 0xee);
    Bytes tail(1, 0xee);
    EXPECT_EQ(aead->open_to(nonce, {}, ciphertext, head, tail, tag).error(), Errc::bad_record_mac);
    EXPECT_TRUE(all_zero(head)) << "unauthenticated plaintext left behind";
    EXPECT_TRUE(all_zero(tail));
    // Sizes that do not add up are refused before anything is written.
    Bytes short_out(99, 7);
    EXPECT_EQ(aead->open_to(nonce, {}, ciphertext, short_out, {}, tag).error(),
              Errc::invalid_argument);
    EXPECT_EQ(short_out, Bytes(99, 7));
    EXPECT_EQ(aead->seal_to(nonce, {}, plaintext, {}, short_out, tag).error(),
              Errc::invalid_argument);
    EXPECT_EQ(short_out, Bytes(99, 7));
  }
}

// rekey: the same context with a new key seals what a context created with that key seals.
TEST(CryptoAead, RekeyGivesWhatANewKeyGives) {
  DeterministicRandom rng(ascii("aead rekey"));
  for (AeadAlg alg : all_algs) {
    SCOPED_TRACE(bulwark::crypto::aead_name(alg));
    const std::size_t key_len = bulwark::crypto::aead_key_length(alg);
    auto aead = Aead::create(alg, random_bytes(rng, key_len));
    ASSERT_TRUE(aead);
    const Bytes new_key = random_bytes(rng, key_len);
    auto fresh = Aead::create(alg, new_key);
    ASSERT_TRUE(fresh);
    ASSERT_TRUE(aead->rekey(new_key));
    const Bytes nonce = random_bytes(rng, 12);
    const Bytes plaintext = random_bytes(rng, 100);
    Bytes a = plaintext;
    Bytes b = plaintext;
    Bytes tag_a(16);
    Bytes tag_b(16);
    ASSERT_TRUE(aead->seal(nonce, {}, a, tag_a));
    ASSERT_TRUE(fresh->seal(nonce, {}, b, tag_b));
    EXPECT_EQ(a, b);
    EXPECT_EQ(tag_a, tag_b);
    ASSERT_TRUE(fresh->open(nonce, {}, a, tag_a));
    EXPECT_EQ(a, plaintext);
    EXPECT_EQ(aead->rekey(Bytes(key_len + 1, 1)).error(), Errc::invalid_argument);
  }
}

// Aead calls the provider's cipher functions itself rather than through EVP: what it seals,
// for every length class (empty, partial block, whole blocks, a record and more) and split
// into head and tail anywhere, is what EVP's own calls give for the same key and nonce.
TEST(CryptoAead, SealsWhatEvpSeals) {
  DeterministicRandom rng(ascii("aead vs evp"));
  for (AeadAlg alg : all_algs) {
    SCOPED_TRACE(bulwark::crypto::aead_name(alg));
    // Owned, so that a failed assertion leaks neither.
    const std::unique_ptr<EVP_CIPHER, decltype(&EVP_CIPHER_free)> owned_cipher(
        EVP_CIPHER_fetch(nullptr, std::string(bulwark::crypto::aead_name(alg)).c_str(), nullptr),
        &EVP_CIPHER_free);
    const std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> owned_ctx(
        EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    EVP_CIPHER* cipher = owned_cipher.get();
    EVP_CIPHER_CTX* ctx = owned_ctx.get();
    ASSERT_NE(cipher, nullptr);
    ASSERT_NE(ctx, nullptr);
    const Bytes key = random_bytes(rng, bulwark::crypto::aead_key_length(alg));
    auto aead = Aead::create(alg, key);
    ASSERT_TRUE(aead);
    for (std::size_t len : {0, 1, 15, 16, 17, 255, 1024, 1025, 16385}) {
      SCOPED_TRACE(len);
      const Bytes nonce = random_bytes(rng, 12);
      const Bytes aad = random_bytes(rng, len % 2 == 0 ? 5 : 13);
      const Bytes plaintext = random_bytes(rng, len);
      Bytes expected(len);
      Bytes expected_tag(16);
      int n = 0;
      ASSERT_EQ(EVP_EncryptInit_ex2(ctx, cipher, key.data(), nonce.data(), nullptr), 1);
      ASSERT_EQ(EVP_EncryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())), 1);
      ASSERT_EQ(
          EVP_EncryptUpdate(ctx, expected.data(), &n, plaintext.data(), static_cast<int>(len)), 1);
      ASSERT_EQ(EVP_EncryptFinal_ex(ctx, expected.data() + n, &n), 1);
      ASSERT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, expected_tag.data()), 1);
      for (std::size_t split : {std::size_t{0}, len / 3, len - std::min<std::size_t>(len, 1)}) {
        SCOPED_TRACE(split);
        const std::span<const std::uint8_t> all(plaintext);
        Bytes out(len);
        Bytes tag(16);
        ASSERT_TRUE(aead->seal_to(nonce, aad, all.first(split), all.subspan(split), out, tag));
        EXPECT_EQ(out, expected);
        EXPECT_EQ(tag, expected_tag);
      }
      // And EVP opens it.
      Bytes opened(len);
      ASSERT_EQ(EVP_DecryptInit_ex2(ctx, cipher, key.data(), nonce.data(), nullptr), 1);
      ASSERT_EQ(EVP_DecryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())), 1);
      ASSERT_EQ(EVP_DecryptUpdate(ctx, opened.data(), &n, expected.data(), static_cast<int>(len)),
                1);
      ASSERT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, expected_tag.data()), 1);
      ASSERT_EQ(EVP_DecryptFinal_ex(ctx, opened.data() + n, &n), 1);
      EXPECT_EQ(opened, plaintext);
    }
  }
}

// Move assignment frees the key held before and takes the other's; the source refuses after.
TEST(CryptoAead, MoveAssignmentReplacesTheKey) {
  const Kat k = known_answers()[3];  // AES-256-GCM
  auto target = Aead::create(AeadAlg::chacha20_poly1305, Bytes(32, 1));
  auto source = Aead::create(k.alg, k.key);
  ASSERT_TRUE(target);
  ASSERT_TRUE(source);
  *target = std::move(*source);
  EXPECT_EQ(target->alg(), AeadAlg::aes_256_gcm);
  Bytes buf = k.plaintext;
  Bytes tag(16);
  ASSERT_TRUE(target->seal(k.nonce, k.aad, buf, tag));
  EXPECT_EQ(buf, k.ciphertext);
  EXPECT_EQ(tag, k.tag);
  Bytes other = k.plaintext;
  EXPECT_EQ(source->seal(k.nonce, k.aad, other, tag).error(), Errc::invalid_argument);  // NOLINT
}
