#include "bulwark/crypto/hash.hpp"
#include "support/hex.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "vectors/rfc8448.hpp"

using bulwark::Errc;
using bulwark::crypto::Digest;
using bulwark::crypto::Hash;
using bulwark::crypto::HashAlg;
using bulwark::crypto::Transcript;

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

Bytes digest_of(HashAlg alg, const Bytes& data) {
  auto d = bulwark::crypto::hash(alg, data);
  EXPECT_TRUE(d);
  return d ? to_bytes(*d) : Bytes{};
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A handshake message: type, 24-bit length, body.
Bytes handshake_message(std::uint8_t type, std::string_view body) {
  Bytes m = {type, 0, 0, static_cast<std::uint8_t>(body.size())};
  m.insert(m.end(), body.begin(), body.end());
  return m;
}

// RFC 8448 §3 (Simple 1-RTT Handshake): the ClientHello and ServerHello messages, and the
// transcript hash over ClientHello..ServerHello ("c hs traffic" input).
const Bytes rfc8448_client_hello = hex(bulwark::test::rfc8448::s3::client_hello);
const Bytes rfc8448_server_hello = hex(bulwark::test::rfc8448::s3::server_hello);
const Bytes rfc8448_hello_hash = hex(bulwark::test::rfc8448::s3::hello_hash);

constexpr HashAlg all_algs[] = {HashAlg::sha256, HashAlg::sha384, HashAlg::sha512, HashAlg::sha1};

}  // namespace

static_assert(bulwark::crypto::digest_length(HashAlg::sha256) == 32);
static_assert(bulwark::crypto::digest_length(HashAlg::sha384) == 48);
static_assert(bulwark::crypto::digest_length(HashAlg::sha512) == 64);
static_assert(bulwark::crypto::digest_length(HashAlg::sha1) == 20);
static_assert(bulwark::crypto::block_length(HashAlg::sha256) == 64);
static_assert(bulwark::crypto::block_length(HashAlg::sha384) == 128);

// FIPS 180-4 examples (NIST CSRC "Examples with intermediate values").
TEST(CryptoHash, KnownAnswers) {
  const Bytes abc = ascii("abc");
  const Bytes two_block_256 = ascii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  const Bytes two_block_512 = ascii(
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlm"
      "nopqrsmnopqrstnopqrstu");

  EXPECT_EQ(digest_of(HashAlg::sha256, abc),
            hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  EXPECT_EQ(digest_of(HashAlg::sha256, {}),
            hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  EXPECT_EQ(digest_of(HashAlg::sha256, two_block_256),
            hex("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));

  EXPECT_EQ(digest_of(HashAlg::sha384, abc),
            hex("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                "8086072ba1e7cc2358baeca134c825a7"));
  EXPECT_EQ(digest_of(HashAlg::sha384, {}),
            hex("38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
                "274edebfe76f65fbd51ad2f14898b95b"));
  EXPECT_EQ(digest_of(HashAlg::sha384, two_block_512),
            hex("09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712"
                "fcc7c71a557e2db966c3e9fa91746039"));

  EXPECT_EQ(digest_of(HashAlg::sha512, abc),
            hex("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"));
  EXPECT_EQ(digest_of(HashAlg::sha1, abc), hex("a9993e364706816aba3e25717850c26c9cd0d89d"));
}

TEST(CryptoHash, OneMillionAs) {
  // FIPS 180-4 long message: one million repetitions of 'a', fed in uneven pieces.
  const Bytes chunk(999, 'a');
  auto h = Hash::create(HashAlg::sha256);
  ASSERT_TRUE(h);
  std::size_t left = 1000000;
  while (left > 0) {
    const std::size_t n = std::min(left, chunk.size());
    ASSERT_TRUE(h->update(std::span(chunk).first(n)));
    left -= n;
  }
  auto d = h->final();
  ASSERT_TRUE(d);
  EXPECT_EQ(to_bytes(*d), hex("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
}

TEST(CryptoHash, IncrementalEqualsOneShot) {
  Bytes data(1000);
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<std::uint8_t>(i * 7 + 3);
  for (HashAlg alg : all_algs) {
    SCOPED_TRACE(bulwark::crypto::hash_name(alg));
    const Bytes expected = digest_of(alg, data);
    ASSERT_EQ(expected.size(), bulwark::crypto::digest_length(alg));
    for (std::size_t step : {1u, 3u, 64u, 127u, 1000u}) {
      auto h = Hash::create(alg);
      ASSERT_TRUE(h);
      for (std::size_t off = 0; off < data.size(); off += step) {
        ASSERT_TRUE(h->update(std::span(data).subspan(off, std::min(step, data.size() - off))));
      }
      Bytes out(h->size());
      ASSERT_TRUE(h->final(out));
      EXPECT_EQ(out, expected) << "step " << step;
    }
  }
}

TEST(CryptoHash, SnapshotsAreIndependent) {
  const Bytes first = ascii("first part, ");
  const Bytes second = ascii("second part");
  auto h = Hash::create(HashAlg::sha384);
  ASSERT_TRUE(h);
  ASSERT_TRUE(h->update(first));

  auto peeked = h->peek();
  ASSERT_TRUE(peeked);
  auto snapshot = h->copy();
  ASSERT_TRUE(snapshot);
  ASSERT_TRUE(h->update(second));
  // Hashing more into the original does not reach the snapshot, and the reverse.
  ASSERT_TRUE(snapshot->update(ascii("something else")));

  auto whole = h->final();
  ASSERT_TRUE(whole);
  EXPECT_EQ(to_bytes(*whole), digest_of(HashAlg::sha384, concat({first, second})));
  EXPECT_EQ(to_bytes(*peeked), digest_of(HashAlg::sha384, first));
  auto forked = snapshot->final();
  ASSERT_TRUE(forked);
  EXPECT_EQ(to_bytes(*forked),
            digest_of(HashAlg::sha384, concat({first, ascii("something else")})));
}

TEST(CryptoHash, FinalOnlyOnceUntilReset) {
  auto h = Hash::create(HashAlg::sha256);
  ASSERT_TRUE(h);
  ASSERT_TRUE(h->update(ascii("abc")));
  ASSERT_TRUE(h->final());
  EXPECT_EQ(h->final().error(), Errc::invalid_argument);
  EXPECT_EQ(h->update(ascii("x")).error(), Errc::invalid_argument);
  EXPECT_EQ(h->copy().error(), Errc::invalid_argument);
  ASSERT_TRUE(h->reset());
  ASSERT_TRUE(h->update(ascii("abc")));
  auto d = h->final();
  ASSERT_TRUE(d);
  EXPECT_EQ(to_bytes(*d), digest_of(HashAlg::sha256, ascii("abc")));

  Bytes too_short(31);
  ASSERT_TRUE(h->reset());
  EXPECT_EQ(h->final(too_short).error(), Errc::invalid_argument);
}

TEST(CryptoHash, DigestComparesByValue) {
  auto a = bulwark::crypto::hash(HashAlg::sha256, ascii("a"));
  auto a2 = bulwark::crypto::hash(HashAlg::sha256, ascii("a"));
  auto b = bulwark::crypto::hash(HashAlg::sha256, ascii("b"));
  ASSERT_TRUE(a && a2 && b);
  EXPECT_TRUE(*a == *a2);
  EXPECT_FALSE(*a == *b);
  Digest copy = *a;
  EXPECT_TRUE(copy == *a);
  EXPECT_EQ(copy.size, 32u);
}

TEST(CryptoTranscript, RFC8448HelloHash) {
  auto t = Transcript::create(HashAlg::sha256);
  ASSERT_TRUE(t);
  ASSERT_TRUE(t->update(rfc8448_client_hello));
  ASSERT_TRUE(t->update(rfc8448_server_hello));
  auto d = t->current();
  ASSERT_TRUE(d);
  EXPECT_EQ(to_bytes(*d), rfc8448_hello_hash);
}

TEST(CryptoTranscript, UnboundBuffersUntilBind) {
  Transcript t;
  EXPECT_FALSE(t.bound());
  EXPECT_FALSE(t.alg().has_value());
  EXPECT_EQ(t.current().error(), Errc::invalid_argument);
  ASSERT_TRUE(t.update(rfc8448_client_hello));
  ASSERT_TRUE(t.bind(HashAlg::sha256));
  EXPECT_TRUE(t.bound());
  EXPECT_EQ(t.alg(), HashAlg::sha256);
  ASSERT_TRUE(t.update(rfc8448_server_hello));
  auto d = t.current();
  ASSERT_TRUE(d);
  EXPECT_EQ(to_bytes(*d), rfc8448_hello_hash);
  // The hash cannot be changed once chosen.
  EXPECT_EQ(t.bind(HashAlg::sha384).error(), Errc::invalid_argument);
  EXPECT_EQ(t.bind(HashAlg::sha256).error(), Errc::invalid_argument);
}

TEST(CryptoTranscript, CurrentDoesNotFinalise) {
  auto t = Transcript::create(HashAlg::sha384);
  ASSERT_TRUE(t);
  const Bytes m1 = ascii("message one");
  const Bytes m2 = ascii("message two");
  ASSERT_TRUE(t->update(m1));
  auto a = t->current();
  auto a_again = t->current();
  ASSERT_TRUE(a && a_again);
  EXPECT_EQ(to_bytes(*a), digest_of(HashAlg::sha384, m1));
  EXPECT_EQ(to_bytes(*a_again), to_bytes(*a));
  ASSERT_TRUE(t->update(m2));
  auto b = t->current();
  ASSERT_TRUE(b);
  EXPECT_EQ(to_bytes(*b), digest_of(HashAlg::sha384, concat({m1, m2})));
}

// RFC 8446 §4.4.1: after a HelloRetryRequest the transcript starts with
// message_hash(254) || 00 00 Hash.length || Hash(ClientHello1). Computed here by hand.
TEST(CryptoTranscript, HelloRetryRequestMessageHash) {
  const Bytes client_hello1 = handshake_message(1, "first hello");
  const Bytes hello_retry_request = handshake_message(2, "retry, please");
  const Bytes client_hello2 = handshake_message(1, "second hello");
  for (HashAlg alg : {HashAlg::sha256, HashAlg::sha384}) {
    SCOPED_TRACE(bulwark::crypto::hash_name(alg));
    const Bytes ch1_hash = digest_of(alg, client_hello1);
    const Bytes synthetic =
        concat({Bytes{254, 0, 0, static_cast<std::uint8_t>(ch1_hash.size())}, ch1_hash});
    const Bytes expected = digest_of(alg, concat({synthetic, hello_retry_request, client_hello2}));

    // A client learns the hash from the HelloRetryRequest: ClientHello1 was buffered.
    Transcript client;
    ASSERT_TRUE(client.update(client_hello1));
    ASSERT_TRUE(client.bind(alg));
    ASSERT_TRUE(client.replace_with_message_hash());
    ASSERT_TRUE(client.update(hello_retry_request));
    ASSERT_TRUE(client.update(client_hello2));
    auto c = client.current();
    ASSERT_TRUE(c);
    EXPECT_EQ(to_bytes(*c), expected);

    // A server knows the hash before it hashes ClientHello1.
    auto server = Transcript::create(alg);
    ASSERT_TRUE(server);
    ASSERT_TRUE(server->update(client_hello1));
    ASSERT_TRUE(server->replace_with_message_hash());
    auto after_replace = server->current();
    ASSERT_TRUE(after_replace);
    EXPECT_EQ(to_bytes(*after_replace), digest_of(alg, synthetic));
    ASSERT_TRUE(server->update(hello_retry_request));
    ASSERT_TRUE(server->update(client_hello2));
    auto s = server->current();
    ASSERT_TRUE(s);
    EXPECT_EQ(to_bytes(*s), expected);
  }
  Transcript unbound;
  EXPECT_EQ(unbound.replace_with_message_hash().error(), Errc::invalid_argument);
}

TEST(CryptoHash, Names) {
  EXPECT_EQ(bulwark::crypto::hash_name(HashAlg::sha256), "SHA-256");
  EXPECT_EQ(bulwark::crypto::hash_name(HashAlg::sha384), "SHA-384");
  EXPECT_EQ(bulwark::crypto::hash_name(HashAlg::sha512), "SHA-512");
  EXPECT_EQ(bulwark::crypto::hash_name(HashAlg::sha1), "SHA-1");
}
