// Tests for random.hpp (SystemRandom, DeterministicRandom, FixedRandom) and secret.hpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include "bulwark/crypto/hash.hpp"
#include "bulwark/crypto/random.hpp"
#include "bulwark/crypto/secret.hpp"

using bulwark::Errc;
using bulwark::crypto::DeterministicRandom;
using bulwark::crypto::FixedRandom;
using bulwark::crypto::Secret;
using bulwark::crypto::SystemRandom;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes ascii(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

Bytes draw(bulwark::crypto::Random& rng, std::size_t n) {
  Bytes b(n);
  EXPECT_TRUE(rng.fill(b));
  return b;
}

bool all_zero(std::span<const std::uint8_t> b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

}  // namespace

TEST(CryptoRandom, SystemRandomFillsAndDiffers) {
  auto& rng = SystemRandom::instance();
  EXPECT_EQ(&rng, &SystemRandom::instance());
  const Bytes a = draw(rng, 32);
  const Bytes b = draw(rng, 32);
  EXPECT_NE(a, b);
  EXPECT_FALSE(all_zero(a));
  Bytes nothing;
  EXPECT_TRUE(rng.fill(nothing));
}

TEST(CryptoRandom, DeterministicIsReproducible) {
  DeterministicRandom a(ascii("seed"));
  DeterministicRandom b(ascii("seed"));
  // The same seed and the same sequence of requests give the same bytes.
  for (std::size_t n : {1u, 31u, 32u, 33u, 100u}) {
    EXPECT_EQ(draw(a, n), draw(b, n)) << n;
  }
  DeterministicRandom c(ascii("seed"));
  DeterministicRandom other(ascii("other seed"));
  EXPECT_NE(draw(c, 32), draw(other, 32));
}

TEST(CryptoRandom, DeterministicIsSha256OfSeedAndCounter) {
  // As documented: block i is SHA-256(seed || counter i as a big-endian uint64).
  const Bytes seed = ascii("seed");
  DeterministicRandom rng(seed);
  const Bytes first = draw(rng, 64);
  for (std::uint8_t counter : {0, 1}) {
    Bytes input = seed;
    for (int i = 0; i < 7; ++i)
      input.push_back(0);
    input.push_back(counter);
    auto block = bulwark::crypto::hash(bulwark::crypto::HashAlg::sha256, input);
    ASSERT_TRUE(block);
    EXPECT_EQ(Bytes(first.begin() + counter * 32, first.begin() + counter * 32 + 32),
              Bytes(block->span().begin(), block->span().end()));
  }
}

TEST(CryptoRandom, FixedPlaysBackThenRunsOut) {
  const Bytes script = {1, 2, 3, 4, 5, 6, 7};
  FixedRandom rng(script);
  EXPECT_EQ(draw(rng, 3), (Bytes{1, 2, 3}));
  Bytes none;
  EXPECT_TRUE(rng.fill(none));
  EXPECT_EQ(draw(rng, 4), (Bytes{4, 5, 6, 7}));
  Bytes one(1);
  auto st = rng.fill(one);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error(), Errc::invalid_argument);
}

TEST(CryptoRandom, FixedRefusesAnOverlongRequestWithoutConsuming) {
  const Bytes script = {9, 8, 7};
  FixedRandom rng(script);
  Bytes four(4);
  EXPECT_EQ(rng.fill(four).error(), Errc::invalid_argument);
  EXPECT_EQ(draw(rng, 3), (Bytes{9, 8, 7}));
}

TEST(CryptoSecret, ConstantTimeEqual) {
  using bulwark::crypto::constant_time_equal;
  const Bytes a = {1, 2, 3, 4};
  EXPECT_TRUE(constant_time_equal(a, Bytes{1, 2, 3, 4}));
  EXPECT_FALSE(constant_time_equal(a, Bytes{0, 2, 3, 4}));
  EXPECT_FALSE(constant_time_equal(a, Bytes{1, 2, 3, 5}));
  EXPECT_FALSE(constant_time_equal(a, Bytes{1, 2, 3}));
  EXPECT_FALSE(constant_time_equal(a, Bytes{1, 2, 3, 4, 5}));
  EXPECT_TRUE(constant_time_equal(Bytes{}, Bytes{}));
  EXPECT_FALSE(constant_time_equal(Bytes{}, Bytes{0}));
}

TEST(CryptoSecret, WipeZeroes) {
  Bytes b = {0xde, 0xad, 0xbe, 0xef};
  bulwark::crypto::wipe(b);
  EXPECT_TRUE(all_zero(b));
  bulwark::crypto::wipe({});  // an empty span is fine
}

TEST(CryptoSecret, ClearWipesTheStorage) {
  Secret s(Bytes(64, 0xa5));
  // std::vector::clear() keeps its capacity, so the bytes that held the secret remain owned by
  // the Secret after clear(); they must have been overwritten.
  const volatile std::uint8_t* storage = s.data();
  s.clear();
  EXPECT_TRUE(s.empty());
  ASSERT_EQ(static_cast<const volatile std::uint8_t*>(s.data()), storage);
  for (std::size_t i = 0; i < 64; ++i)
    EXPECT_EQ(storage[i], 0) << i;
}

TEST(CryptoSecret, ResizeWipesTheOldContents) {
  Secret s(Bytes(16, 0x77));
  s.resize(8);
  EXPECT_EQ(s.size(), 8u);
  EXPECT_TRUE(all_zero(s.span()));
}

TEST(CryptoSecret, MoveLeavesNothingBehind) {
  Secret a(Bytes(32, 0x11));
  const std::uint8_t* storage = a.data();
  Secret b(std::move(a));
  // The storage itself moved: no copy of the secret stays in the source.
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.data(), storage);
  EXPECT_EQ(b.size(), 32u);

  Secret c(Bytes(8, 0x22));
  c = std::move(b);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(c.data(), storage);
  EXPECT_EQ(c.span()[0], 0x11);

  Secret& alias = c;
  c = std::move(alias);  // self-move keeps the value
  EXPECT_EQ(c.size(), 32u);
  EXPECT_EQ(c.span()[31], 0x11);
}

TEST(CryptoSecret, CopyIsExplicitAndIndependent) {
  Secret a(Bytes{1, 2, 3});
  Secret b = a.copy();
  EXPECT_TRUE(a == b);
  EXPECT_NE(a.data(), b.data());
  b.span()[0] = 9;
  EXPECT_FALSE(a == b);
  EXPECT_EQ(a.span()[0], 1);
  EXPECT_FALSE(a == Secret(Bytes{1, 2}));
}
