#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bulwark/crypto/key_share.hpp"
#include "bulwark/crypto/random.hpp"
#include "support/hex.hpp"

using bulwark::Errc;
using bulwark::crypto::DeterministicRandom;
using bulwark::crypto::FixedRandom;
using bulwark::crypto::Group;
using bulwark::crypto::KeyShare;
using bulwark::crypto::Secret;
using bulwark::crypto::SystemRandom;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes unhex(std::string_view text) {
  return bulwark::test::hex(text);
}

Bytes to_bytes(std::span<const std::uint8_t> s) {
  return Bytes(s.begin(), s.end());
}

Bytes derive_ok(const KeyShare& share, const Bytes& peer) {
  auto r = share.derive(peer);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? to_bytes(r->span()) : Bytes{};
}

KeyShare share_from(Group g, const Bytes& priv) {
  auto r = KeyShare::from_private(g, priv);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return std::move(r).value();
}

void expect_rejected(const KeyShare& share, const Bytes& peer, const std::string& what) {
  auto r = share.derive(peer);
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.error().code(), Errc::invalid_public_value) << what << ": " << r.error().message();
}

// --- X25519 known answers ---------------------------------------------------------------

TEST(KeyShareX25519, Rfc7748Section5_2ScalarMultiplication) {
  struct Vector {
    const char* scalar;
    const char* u;
    const char* out;
  };
  // RFC 7748 §5.2, the two single-shot test vectors (the second u has its top bit set, which
  // X25519 must mask).
  const Vector vectors[] = {
      {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
       "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
       "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
      {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
       "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
       "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
  };
  for (const auto& v : vectors) {
    KeyShare share = share_from(Group::x25519, unhex(v.scalar));
    EXPECT_EQ(derive_ok(share, unhex(v.u)), unhex(v.out)) << v.scalar;
  }
}

TEST(KeyShareX25519, Rfc7748Section5_2Iterated) {
  // RFC 7748 §5.2: k = u = 9; repeat k, u = X25519(k, u), k.
  Bytes k(32, 0);
  k[0] = 9;
  Bytes u = k;
  for (int i = 1; i <= 1000; ++i) {
    KeyShare share = share_from(Group::x25519, k);
    Bytes next = derive_ok(share, u);
    ASSERT_EQ(next.size(), 32u);
    u = k;
    k = next;
    if (i == 1) {
      EXPECT_EQ(k, unhex("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"));
    }
  }
  EXPECT_EQ(k, unhex("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"));
}

TEST(KeyShareX25519, Rfc7748Section6_1AliceAndBob) {
  // RFC 7748 §6.1.
  const Bytes alice_priv =
      unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const Bytes alice_pub = unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  const Bytes bob_priv = unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const Bytes bob_pub = unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const Bytes k = unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

  KeyShare alice = share_from(Group::x25519, alice_priv);
  KeyShare bob = share_from(Group::x25519, bob_priv);
  EXPECT_EQ(alice.group(), Group::x25519);
  EXPECT_EQ(to_bytes(alice.public_value()), alice_pub);
  EXPECT_EQ(to_bytes(bob.public_value()), bob_pub);
  EXPECT_EQ(derive_ok(alice, bob_pub), k);
  EXPECT_EQ(derive_ok(bob, alice_pub), k);
}

TEST(KeyShareX25519, LowOrderPointsAreRejected) {
  // u-coordinates of the points of small order (and their non-canonical encodings): with a
  // clamped scalar every one gives the all-zero output that RFC 7748 §6.1 and RFC 8446 §7.4.2
  // require us to refuse.
  const char* low_order[] = {
      "0000000000000000000000000000000000000000000000000000000000000000",
      "0100000000000000000000000000000000000000000000000000000000000000",
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
      "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      // The same points with the (ignored) top bit set.
      "0000000000000000000000000000000000000000000000000000000000000080",
      "0100000000000000000000000000000000000000000000000000000000000080",
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
      "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  };
  auto share = KeyShare::generate(Group::x25519, SystemRandom::instance());
  ASSERT_TRUE(share.ok()) << share.error().message();
  for (const char* u : low_order)
    expect_rejected(*share, unhex(u), u);
}

// X25519 through libcrypto's own raw-key EVP path, the reference for KeyShare, which calls the
// provider's functions directly.
Bytes reference_x25519(const Bytes& priv, const Bytes& peer) {
  EVP_PKEY* mine = EVP_PKEY_new_raw_private_key_ex(nullptr, "X25519", nullptr, priv.data(), 32);
  EVP_PKEY* other = EVP_PKEY_new_raw_public_key_ex(nullptr, "X25519", nullptr, peer.data(), 32);
  EVP_PKEY_CTX* ctx = mine ? EVP_PKEY_CTX_new_from_pkey(nullptr, mine, nullptr) : nullptr;
  Bytes out(32);
  std::size_t len = out.size();
  const bool good = ctx && other && EVP_PKEY_derive_init(ctx) == 1 &&
                    EVP_PKEY_derive_set_peer_ex(ctx, other, 0) == 1 &&
                    EVP_PKEY_derive(ctx, out.data(), &len) == 1 && len == 32;
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(other);
  EVP_PKEY_free(mine);
  EXPECT_TRUE(good);
  return good ? out : Bytes{};
}

// The public value comes from the ladder (X25519(k, 9)), not from libcrypto's computation on
// import: RFC 7748 §6.1 defines it as that product, and EVP's fixed-base computation must agree
// for every private key, clamped bits set or not.
TEST(KeyShareX25519, PublicValueIsWhatEvpComputes) {
  const Bytes seed{11};
  DeterministicRandom rng(seed);
  for (int i = 0; i < 32; ++i) {
    Bytes priv(32);
    ASSERT_TRUE(rng.fill(priv));
    if (i == 0) std::fill(priv.begin(), priv.end(), 0xff);  // every bit that clamping clears
    if (i == 1) std::fill(priv.begin(), priv.end(), 0x00);  // and every bit it sets
    EVP_PKEY* pkey = EVP_PKEY_new_raw_private_key_ex(nullptr, "X25519", nullptr, priv.data(), 32);
    ASSERT_NE(pkey, nullptr);
    Bytes evp_pub(32);
    std::size_t len = evp_pub.size();
    const bool got = EVP_PKEY_get_raw_public_key(pkey, evp_pub.data(), &len) == 1 && len == 32;
    EVP_PKEY_free(pkey);
    ASSERT_TRUE(got);
    EXPECT_EQ(to_bytes(share_from(Group::x25519, priv).public_value()), evp_pub) << i;
  }
}

// The provider-direct key pair and derivation give what EVP gives, peer after peer, with a
// rejected low-order value in between.
TEST(KeyShareX25519, EveryPeerGivesWhatEvpGives) {
  const Bytes seed{7};
  DeterministicRandom rng(seed);
  Bytes mine_priv(32);
  ASSERT_TRUE(rng.fill(mine_priv));
  KeyShare mine = share_from(Group::x25519, mine_priv);
  const Bytes low_order = unhex("0100000000000000000000000000000000000000000000000000000000000000");
  Bytes previous;
  for (int i = 0; i < 8; ++i) {
    Bytes peer_priv(32);
    ASSERT_TRUE(rng.fill(peer_priv));
    const KeyShare peer = share_from(Group::x25519, peer_priv);
    const Bytes peer_pub = to_bytes(peer.public_value());
    const Bytes shared = derive_ok(mine, peer_pub);
    EXPECT_EQ(shared, reference_x25519(mine_priv, peer_pub)) << i;
    EXPECT_EQ(shared, derive_ok(peer, to_bytes(mine.public_value()))) << i;
    EXPECT_NE(shared, previous) << i;
    previous = shared;
    if (i % 3 == 1) expect_rejected(mine, low_order, "low order between good values");
  }
}

TEST(KeyShareX25519, ThreadsDeriveWhatEvpDerives) {
  constexpr int threads = 4;
  constexpr int rounds = 50;
  std::vector<std::thread> workers;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const Bytes seed{static_cast<std::uint8_t>(100 + t)};
      DeterministicRandom rng(seed);
      for (int i = 0; i < rounds; ++i) {
        Bytes a(32), b(32);
        if (!rng.fill(a) || !rng.fill(b)) {
          ++mismatches;
          continue;
        }
        auto x = KeyShare::from_private(Group::x25519, a);
        auto y = KeyShare::from_private(Group::x25519, b);
        if (!x || !y) {
          ++mismatches;
          continue;
        }
        const Bytes y_pub = to_bytes(y->public_value());
        auto s = x->derive(y_pub);
        if (!s || to_bytes(s->span()) != reference_x25519(a, y_pub)) ++mismatches;
      }
    });
  }
  for (auto& w : workers)
    w.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(KeyShareX25519, WrongLengthsAreRejected) {
  auto share = KeyShare::generate(Group::x25519, SystemRandom::instance());
  ASSERT_TRUE(share.ok());
  const Bytes good = to_bytes(share->public_value());
  expect_rejected(*share, {}, "empty");
  expect_rejected(*share, Bytes(good.begin(), good.end() - 1), "31 bytes");
  Bytes longer = good;
  longer.push_back(0);
  expect_rejected(*share, longer, "33 bytes");
  // A P-256 point is not an X25519 value.
  auto p256 = KeyShare::generate(Group::secp256r1, SystemRandom::instance());
  ASSERT_TRUE(p256.ok());
  expect_rejected(*share, to_bytes(p256->public_value()), "P-256 point");
}

// --- NIST curves known answers ----------------------------------------------------------

struct EcVector {
  Group group;
  const char* i;
  const char* gix;
  const char* giy;
  const char* r;
  const char* grx;
  const char* gry;
  const char* girx;
};

// RFC 5903 §8.1 (256-bit random ECP group) and §8.2 (384-bit random ECP group).
const EcVector kRfc5903[] = {
    {Group::secp256r1, "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
     "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180",
     "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
     "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
     "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63",
     "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
     "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"},
    {Group::secp384r1,
     "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655e35b538041e649ee3faef896783ab"
     "194",
     "667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6de3ac808acb4bdb4c88732aee95f4"
     "1aa",
     "9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38eeb9fcff3c2c947dae69b4c634573a"
     "81c",
     "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942e0308312916b8ed2960e4bd55a744"
     "8fc",
     "e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d0d1ac43a0336def96fda41d0774a3"
     "571",
     "dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1fff83fa40142209dff5eaad96db9e63"
     "86c",
     "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4d603135569b9e9d09cf5d4a270f59"
     "746"},
};

Bytes uncompressed(const char* x, const char* y) {
  Bytes p{0x04};
  for (const auto& part : {unhex(x), unhex(y)})
    p.insert(p.end(), part.begin(), part.end());
  return p;
}

TEST(KeyShareEc, Rfc5903KnownAnswers) {
  for (const auto& v : kRfc5903) {
    SCOPED_TRACE(std::string(bulwark::crypto::group_name(v.group)));
    KeyShare initiator = share_from(v.group, unhex(v.i));
    KeyShare responder = share_from(v.group, unhex(v.r));
    const Bytes gi = uncompressed(v.gix, v.giy);
    const Bytes gr = uncompressed(v.grx, v.gry);
    EXPECT_EQ(to_bytes(initiator.public_value()), gi);
    EXPECT_EQ(to_bytes(responder.public_value()), gr);
    EXPECT_EQ(derive_ok(initiator, gr), unhex(v.girx));
    EXPECT_EQ(derive_ok(responder, gi), unhex(v.girx));
  }
}

TEST(KeyShareEc, InvalidPeerPointsAreRejected) {
  for (const auto& v : kRfc5903) {
    SCOPED_TRACE(std::string(bulwark::crypto::group_name(v.group)));
    KeyShare share = share_from(v.group, unhex(v.i));
    const Bytes good = uncompressed(v.grx, v.gry);
    const std::size_t field = (good.size() - 1) / 2;

    expect_rejected(share, {}, "empty");
    expect_rejected(share, {0x00}, "the point at infinity (SEC 1 encoding)");
    expect_rejected(share, Bytes(good.begin(), good.end() - 1), "one byte short");
    Bytes longer = good;
    longer.push_back(0x00);
    expect_rejected(share, longer, "one byte long");

    // Compressed form: right X, 0x02/0x03 prefix, 1 + field bytes.
    Bytes compressed(good.begin(), good.begin() + 1 + static_cast<std::ptrdiff_t>(field));
    compressed[0] = static_cast<std::uint8_t>(0x02 | (good.back() & 1));
    expect_rejected(share, compressed, "compressed point");
    // Right length, but a compressed or hybrid prefix.
    for (std::uint8_t prefix : {0x00, 0x02, 0x03, 0x06, 0x07}) {
      Bytes wrong_form = good;
      wrong_form[0] = prefix;
      expect_rejected(share, wrong_form, "prefix " + std::to_string(prefix));
    }
    // Off the curve: Y changed.
    Bytes off_curve = good;
    off_curve.back() ^= 0x01;
    expect_rejected(share, off_curve, "off-curve point");
    // (0, 0) is not on either curve (b != 0).
    Bytes zeros(good.size(), 0x00);
    zeros[0] = 0x04;
    expect_rejected(share, zeros, "(0, 0)");
    // Coordinates that are not field elements.
    Bytes too_big(good.size(), 0xff);
    too_big[0] = 0x04;
    expect_rejected(share, too_big, "coordinates >= p");
  }
  // A point of the other curve has the other length.
  KeyShare p256 = share_from(kRfc5903[0].group, unhex(kRfc5903[0].i));
  KeyShare p384 = share_from(kRfc5903[1].group, unhex(kRfc5903[1].i));
  expect_rejected(p256, to_bytes(p384.public_value()), "P-384 point to P-256");
  expect_rejected(p384, to_bytes(p256.public_value()), "P-256 point to P-384");
}

TEST(KeyShareEc, PrivateScalarMustBeInRange) {
  const Bytes zero(32, 0x00);
  // The order n of P-256 (FIPS 186-4 D.1.2.3), and n - 1.
  const Bytes n = unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
  Bytes n_minus_1 = n;
  n_minus_1.back() -= 1;
  const Bytes all_ff(32, 0xff);
  for (const Bytes& bad : {zero, n, all_ff}) {
    auto r = KeyShare::from_private(Group::secp256r1, bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::invalid_key);
  }
  Bytes one(32, 0x00);
  one.back() = 1;
  for (const Bytes& good : {one, n_minus_1}) {
    auto r = KeyShare::from_private(Group::secp256r1, good);
    ASSERT_TRUE(r.ok()) << r.error().message();
  }
  // scalar 1: the public value is the generator (FIPS 186-4 D.1.2.3).
  EXPECT_EQ(to_bytes(share_from(Group::secp256r1, one).public_value()),
            uncompressed("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
                         "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"));
}

TEST(KeyShareEc, GenerateRejectsOutOfRangeDraws) {
  // The source first offers 0, then n, then all-ones (all out of range), then a valid scalar:
  // generate() must skip the first three and use the fourth.
  const Bytes n = unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
  const Bytes valid = unhex(kRfc5903[0].i);
  Bytes stream(32, 0x00);
  stream.insert(stream.end(), n.begin(), n.end());
  stream.insert(stream.end(), 32, 0xff);
  stream.insert(stream.end(), valid.begin(), valid.end());
  FixedRandom rng(stream);
  auto share = KeyShare::generate(Group::secp256r1, rng);
  ASSERT_TRUE(share.ok()) << share.error().message();
  EXPECT_EQ(to_bytes(share->public_value()), uncompressed(kRfc5903[0].gix, kRfc5903[0].giy));

  // A source that only ever produces out-of-range values fails instead of looping.
  const Bytes zeros(32 * 100, 0x00);
  FixedRandom stuck(zeros);
  auto never = KeyShare::generate(Group::secp256r1, stuck);
  ASSERT_FALSE(never.ok());
  EXPECT_EQ(never.error().code(), Errc::crypto_failure);
  // An exhausted source's error comes through.
  FixedRandom empty(std::span<const std::uint8_t>{});
  auto exhausted = KeyShare::generate(Group::x25519, empty);
  ASSERT_FALSE(exhausted.ok());
  EXPECT_EQ(exhausted.error().code(), Errc::invalid_argument);
}

// --- every group ------------------------------------------------------------------------

class KeyShareAllGroups : public ::testing::TestWithParam<Group> {};

TEST_P(KeyShareAllGroups, GenerateAndDeriveAgree) {
  const Group g = GetParam();
  for (int round = 0; round < 4; ++round) {
    auto a = KeyShare::generate(g, SystemRandom::instance());
    auto b = KeyShare::generate(g, SystemRandom::instance());
    ASSERT_TRUE(a.ok()) << a.error().message();
    ASSERT_TRUE(b.ok()) << b.error().message();
    EXPECT_EQ(a->group(), g);
    EXPECT_EQ(a->public_value().size(), bulwark::crypto::public_value_size(g));
    if (g != Group::x25519) {
      EXPECT_EQ(a->public_value()[0], 0x04);
    }
    EXPECT_NE(to_bytes(a->public_value()), to_bytes(b->public_value()));
    auto ab = a->derive(b->public_value());
    auto ba = b->derive(a->public_value());
    ASSERT_TRUE(ab.ok()) << ab.error().message();
    ASSERT_TRUE(ba.ok()) << ba.error().message();
    EXPECT_EQ(ab->size(), bulwark::crypto::private_value_size(g));
    EXPECT_TRUE(*ab == *ba);
  }
}

TEST_P(KeyShareAllGroups, DeterministicWithInjectedRandom) {
  const Group g = GetParam();
  const Bytes seed1 = {1, 2, 3, 4};
  const Bytes seed2 = {1, 2, 3, 5};
  DeterministicRandom r1(seed1), r1_again(seed1), r2(seed2);
  auto a = KeyShare::generate(g, r1);
  auto a_again = KeyShare::generate(g, r1_again);
  auto b = KeyShare::generate(g, r2);
  ASSERT_TRUE(a.ok() && a_again.ok() && b.ok());
  EXPECT_EQ(to_bytes(a->public_value()), to_bytes(a_again->public_value()));
  EXPECT_NE(to_bytes(a->public_value()), to_bytes(b->public_value()));
  // The next draw from the same generator gives a different key.
  auto a_next = KeyShare::generate(g, r1);
  ASSERT_TRUE(a_next.ok());
  EXPECT_NE(to_bytes(a->public_value()), to_bytes(a_next->public_value()));
}

TEST_P(KeyShareAllGroups, MovedShareKeepsWorking) {
  const Group g = GetParam();
  auto a = KeyShare::generate(g, SystemRandom::instance());
  auto b = KeyShare::generate(g, SystemRandom::instance());
  ASSERT_TRUE(a.ok() && b.ok());
  const Bytes a_pub = to_bytes(a->public_value());
  KeyShare moved = std::move(a).value();
  EXPECT_EQ(to_bytes(moved.public_value()), a_pub);
  KeyShare assigned = std::move(b).value();
  assigned = std::move(moved);
  EXPECT_EQ(to_bytes(assigned.public_value()), a_pub);
  auto self = assigned.derive(a_pub);  // DH with one's own public value is still a valid DH
  ASSERT_TRUE(self.ok()) << self.error().message();
  EXPECT_EQ(self->size(), bulwark::crypto::private_value_size(g));
}

TEST_P(KeyShareAllGroups, FromPrivateRejectsWrongSize) {
  const Group g = GetParam();
  const std::size_t n = bulwark::crypto::private_value_size(g);
  for (std::size_t size : {std::size_t{0}, n - 1, n + 1}) {
    auto r = KeyShare::from_private(g, Bytes(size, 0x42));
    ASSERT_FALSE(r.ok()) << size;
    EXPECT_EQ(r.error().code(), Errc::invalid_argument);
  }
}

INSTANTIATE_TEST_SUITE_P(Groups, KeyShareAllGroups,
                         ::testing::Values(Group::x25519, Group::secp256r1, Group::secp384r1),
                         [](const auto& info) {
                           return std::string(bulwark::crypto::group_name(info.param));
                         });

TEST(KeyShare, UnsupportedGroupsAndSizes) {
  const Group secp521r1 = static_cast<Group>(0x0019);
  const Group ffdhe2048 = static_cast<Group>(0x0100);
  for (Group g : {secp521r1, ffdhe2048}) {
    EXPECT_FALSE(bulwark::crypto::group_supported(g));
    EXPECT_EQ(bulwark::crypto::group_name(g), "unknown");
    EXPECT_EQ(bulwark::crypto::public_value_size(g), 0u);
    auto gen = KeyShare::generate(g, SystemRandom::instance());
    ASSERT_FALSE(gen.ok());
    EXPECT_EQ(gen.error().code(), Errc::unsupported);
    auto imp = KeyShare::from_private(g, Bytes(32, 1));
    ASSERT_FALSE(imp.ok());
    EXPECT_EQ(imp.error().code(), Errc::unsupported);
  }
  EXPECT_EQ(static_cast<std::uint16_t>(Group::secp256r1), 0x0017);
  EXPECT_EQ(static_cast<std::uint16_t>(Group::secp384r1), 0x0018);
  EXPECT_EQ(static_cast<std::uint16_t>(Group::x25519), 0x001d);
  EXPECT_EQ(bulwark::crypto::public_value_size(Group::x25519), 32u);
  EXPECT_EQ(bulwark::crypto::public_value_size(Group::secp256r1), 65u);
  EXPECT_EQ(bulwark::crypto::public_value_size(Group::secp384r1), 97u);
  EXPECT_EQ(bulwark::crypto::private_value_size(Group::secp384r1), 48u);
}

}  // namespace
