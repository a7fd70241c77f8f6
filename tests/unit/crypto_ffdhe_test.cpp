// Finite-field DHE (legacy TLS 1.2 DHE_RSA): agreement in every RFC 7919 group and in a server's
// own prime, the RFC 7919 parameters themselves, the client's checks on a server's group
// (Logjam: under 2048 bits is insufficient_security), and the peer value checks of RFC 7919
// §5.1.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <memory>
#include <vector>

#include "bulwark/crypto/ffdhe.hpp"
#include "bulwark/crypto/random.hpp"
#include "support/hex.hpp"

using namespace bulwark;
using namespace bulwark::crypto;
using V = std::vector<std::uint8_t>;

namespace {

// p of one of libcrypto's other built-in DH groups (RFC 3526 MODP), to play a server that
// sends its own prime.
V libcrypto_group_prime(const char* name) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr), EVP_PKEY_CTX_free);
  OSSL_PARAM params[2] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(name), 0),
      OSSL_PARAM_construct_end()};
  EVP_PKEY* pkey = nullptr;
  EXPECT_EQ(EVP_PKEY_fromdata_init(ctx.get()), 1);
  EXPECT_EQ(EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_KEY_PARAMETERS, params), 1);
  BIGNUM* p = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_FFC_P, &p), 1);
  V out(static_cast<std::size_t>(BN_num_bytes(p)));
  BN_bn2bin(p, out.data());
  BN_free(p);
  EVP_PKEY_free(pkey);
  return out;
}

// p - k for small k, big-endian, same length (p ends in 64 one bits, so no borrow).
V minus(V p, std::uint8_t k) {
  p.back() = static_cast<std::uint8_t>(p.back() - k);
  return p;
}

const V g2 = {2};

}  // namespace

// Both sides of every RFC 7919 group agree; the client recognises the named group from p and g.
TEST(CryptoFfdhe, AgreementInEveryNamedGroup) {
  DeterministicRandom rng(V{1, 2});
  for (FfdheGroup group : {FfdheGroup::ffdhe2048, FfdheGroup::ffdhe3072, FfdheGroup::ffdhe4096}) {
    auto server = DhKeyShare::generate(group, rng);
    ASSERT_TRUE(server) << server.error().message();
    const std::size_t bytes = static_cast<std::size_t>(server->prime_bits()) / 8;
    EXPECT_EQ(server->prime().size(), bytes);
    EXPECT_EQ(server->public_value().size(), bytes) << "padded to the length of p";
    EXPECT_EQ(V(server->generator().begin(), server->generator().end()), g2);
    auto client = DhKeyShare::generate_for(server->prime(), server->generator(), rng);
    ASSERT_TRUE(client) << client.error().message();
    EXPECT_EQ(client->group(), group);
    auto a = server->derive(client->public_value());
    auto b = client->derive(server->public_value());
    ASSERT_TRUE(a) << a.error().message();
    ASSERT_TRUE(b) << b.error().message();
    EXPECT_EQ(*a, *b);
    ASSERT_FALSE(a->empty());
    EXPECT_LE(a->size(), bytes);
    EXPECT_NE(a->span()[0], 0) << "RFC 5246 §8.1.2: leading zero bytes are stripped";
  }
  EXPECT_EQ(ffdhe_group_name(FfdheGroup::ffdhe3072), "ffdhe3072");
  EXPECT_EQ(ffdhe_group_name(static_cast<FfdheGroup>(0x0104)), "unknown");
  EXPECT_EQ(DhKeyShare::generate(static_cast<FfdheGroup>(0x0104), rng).error().code(),
            Errc::unsupported);
}

// RFC 7919 Appendix A.1: ffdhe2048 is 2048 bits, g = 2, and p begins and ends as printed there.
TEST(CryptoFfdhe, Ffdhe2048IsTheRfc7919Group) {
  DeterministicRandom rng(V{3});
  auto share = DhKeyShare::generate(FfdheGroup::ffdhe2048, rng).value();
  EXPECT_EQ(share.prime_bits(), 2048);
  const V p(share.prime().begin(), share.prime().end());
  ASSERT_EQ(p.size(), 256u);
  EXPECT_EQ(V(p.begin(), p.begin() + 16), test::hex("FFFFFFFF FFFFFFFF ADF85458 A2BB4A9A"));
  EXPECT_EQ(V(p.end() - 16, p.end()), test::hex("886B4238 61285C97 FFFFFFFF FFFFFFFF"));
}

// The private exponent comes from the injected source: the same seed gives the same share.
TEST(CryptoFfdhe, DeterministicWithADeterministicSource) {
  DeterministicRandom a(V{9});
  DeterministicRandom b(V{9});
  auto x = DhKeyShare::generate(FfdheGroup::ffdhe2048, a).value();
  auto y = DhKeyShare::generate(FfdheGroup::ffdhe2048, b).value();
  EXPECT_TRUE(std::equal(x.public_value().begin(), x.public_value().end(), y.public_value().begin(),
                         y.public_value().end()));
}

// A server's own prime of 2048 bits or more is accepted (here RFC 3526's 2048-bit MODP group).
TEST(CryptoFfdhe, ServerChosenPrime) {
  const V p = libcrypto_group_prime("modp_2048");
  ASSERT_EQ(p.size(), 256u);
  DeterministicRandom rng(V{4});
  auto server = DhKeyShare::generate_for(p, g2, rng);
  auto client = DhKeyShare::generate_for(p, g2, rng);
  ASSERT_TRUE(server) << server.error().message();
  ASSERT_TRUE(client) << client.error().message();
  EXPECT_FALSE(client->group().has_value());
  auto a = server->derive(client->public_value());
  auto b = client->derive(server->public_value());
  ASSERT_TRUE(a) << a.error().message();
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(*a, *b);
}

// A client's checks on the server's group.
TEST(CryptoFfdhe, ServerGroupChecks) {
  DeterministicRandom rng(V{5});
  // Logjam: 1536 bits (RFC 3526 group 5) and 1024 bits are too small.
  const V p1536 = libcrypto_group_prime("modp_1536");
  ASSERT_EQ(p1536.size(), 192u);
  EXPECT_EQ(DhKeyShare::generate_for(p1536, g2, rng).error().code(), Errc::insufficient_security);
  EXPECT_EQ(DhKeyShare::generate_for(V(128, 0xff), g2, rng).error().code(),
            Errc::insufficient_security);
  // Leading zero bytes do not make a prime larger.
  V padded(64, 0);
  padded.insert(padded.end(), p1536.begin(), p1536.end());
  EXPECT_EQ(DhKeyShare::generate_for(padded, g2, rng).error().code(), Errc::insufficient_security);
  // More than 8192 bits: refused as work we do not do.
  EXPECT_EQ(DhKeyShare::generate_for(V(1025, 0xff), g2, rng).error().code(), Errc::unsupported);
  const V p = libcrypto_group_prime("modp_2048");
  V even = p;
  even.back() &= 0xfe;
  EXPECT_EQ(DhKeyShare::generate_for(even, g2, rng).error().code(), Errc::illegal_parameter);
  for (const V& g : {V{0}, V{1}, minus(p, 1), p}) {
    EXPECT_EQ(DhKeyShare::generate_for(p, g, rng).error().code(), Errc::illegal_parameter);
  }
}

// RFC 7919 §5.1: 1 < Y < p-1, and for a named group Y in the prime-order subgroup.
TEST(CryptoFfdhe, PeerValueChecks) {
  DeterministicRandom rng(V{6});
  auto share = DhKeyShare::generate(FfdheGroup::ffdhe2048, rng).value();
  const V p(share.prime().begin(), share.prime().end());
  V too_long(257, 0);
  too_long.back() = 5;
  const V bad[] = {V{}, V{0}, V{1}, V(256, 0), minus(p, 1), p, too_long,
                   // p - 2 = -2 mod p is a quadratic non-residue (p = 7 mod 8): order 2q,
                   // outside the subgroup of order q that g = 2 generates.
                   minus(p, 2)};
  for (const V& y : bad) {
    auto r = share.derive(y);
    ASSERT_FALSE(r) << "peer value of " << y.size() << " bytes";
    EXPECT_EQ(r.error().code(), Errc::invalid_public_value);
  }
  // 2 = g itself is a fine public value (x = 1 on the other side).
  EXPECT_TRUE(share.derive(V{2}));
}
