// TLS 1.2 CBC record protection (legacy policy, RFC 5246 §6.2.3.2): round trips for every CBC
// suite (HMAC-SHA1/SHA256/SHA384, AES-128/256), agreement with a plain reference construction
// of MAC-then-encrypt, every padding length a peer may choose, and the Lucky13 / tampering
// cases: bad padding, bad MAC, altered IV, truncated or impossible lengths all give the same
// bad_record_mac.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bulwark/crypto/cbc.hpp"
#include "bulwark/crypto/hmac.hpp"
#include "bulwark/crypto/random.hpp"
#include "bulwark/tls/cipher_suites.hpp"
#include "bulwark/tls/record.hpp"

using namespace bulwark;
using namespace bulwark::tls;
using V = std::vector<std::uint8_t>;

namespace {

const CipherSuiteInfo& suite(CipherSuite id) {
  const CipherSuiteInfo* s = find_cipher_suite(id);
  if (s == nullptr) std::abort();
  return *s;
}

V filled(std::size_t n, std::uint8_t start) {
  V v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::uint8_t>(start + 3 * i);
  return v;
}

struct Keys {
  V mac;
  V enc;
};

Keys keys_for(const CipherSuiteInfo& s) {
  return {filled(crypto::digest_length(s.mac), 11), filled(s.key_length, 77)};
}

const V seed = {1, 2, 3, 4};

RecordCipher make_cbc(const CipherSuiteInfo& s, crypto::Random& rng) {
  const Keys k = keys_for(s);
  return std::move(RecordCipher::tls12_cbc(s, k.mac, k.enc, rng)).value();
}

// The plain, variable-time construction the RFC describes, written independently of the code
// under test: MAC(seq || header || fragment), then `padding_length` + 1 padding bytes, then
// AES-CBC under `iv`. Optionally corrupts the plaintext before encryption.
struct Corruption {
  std::size_t at = 0;  // offset into data || MAC || padding
  std::uint8_t flip = 0;
};
V reference_record(const CipherSuiteInfo& s, std::uint64_t seq, ContentType type, const V& data,
                   std::size_t padding_length, const V& iv, Corruption corrupt = {}) {
  const Keys k = keys_for(s);
  V mac_input;
  for (int i = 7; i >= 0; --i)
    mac_input.push_back(static_cast<std::uint8_t>(seq >> (8 * i)));
  mac_input.push_back(static_cast<std::uint8_t>(type));
  mac_input.push_back(3);
  mac_input.push_back(3);
  mac_input.push_back(static_cast<std::uint8_t>(data.size() >> 8));
  mac_input.push_back(static_cast<std::uint8_t>(data.size()));
  mac_input.insert(mac_input.end(), data.begin(), data.end());
  auto mac = crypto::hmac(s.mac, k.mac, mac_input).value();
  V plain = data;
  plain.insert(plain.end(), mac.span().begin(), mac.span().end());
  plain.insert(plain.end(), padding_length + 1, static_cast<std::uint8_t>(padding_length));
  EXPECT_EQ(plain.size() % 16, 0u) << "the test chose a padding that does not fill a block";
  plain[corrupt.at] ^= corrupt.flip;

  const EVP_CIPHER* cipher =
      s.cbc == crypto::CbcAlg::aes_128_cbc ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  V body(plain.size());
  int len = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, k.enc.data(), iv.data()), 1);
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  EXPECT_EQ(
      EVP_EncryptUpdate(ctx.get(), body.data(), &len, plain.data(), static_cast<int>(plain.size())),
      1);
  EXPECT_EQ(static_cast<std::size_t>(len), plain.size());

  const std::size_t fragment = iv.size() + body.size();
  V rec = {static_cast<std::uint8_t>(type), 3, 3, static_cast<std::uint8_t>(fragment >> 8),
           static_cast<std::uint8_t>(fragment)};
  rec.insert(rec.end(), iv.begin(), iv.end());
  rec.insert(rec.end(), body.begin(), body.end());
  return rec;
}

// The smallest padding_length that makes data || MAC || padding a whole number of blocks.
std::size_t min_padding(const CipherSuiteInfo& s, std::size_t data_len) {
  const std::size_t used = data_len + crypto::digest_length(s.mac) + 1;
  return (16 - used % 16) % 16;
}

Result<V> open_once(const CipherSuiteInfo& s, V rec, std::uint64_t skip = 0) {
  crypto::DeterministicRandom rng(seed);
  RecordCipher c = make_cbc(s, rng);
  // Opening needs the matching sequence number: advance a fresh cipher by opening nothing.
  for (std::uint64_t i = 0; i < skip; ++i) {
    const V filler = {1};
    V r = reference_record(s, i, ContentType::application_data, filler, min_padding(s, 1),
                           filled(16, 5));
    if (!c.open(r)) return Error(Errc::invalid_argument, "could not advance the sequence");
  }
  auto text = c.open(rec);
  if (!text) return std::move(text).error();
  return V(text->begin(), text->end());
}

class RecordCbc : public ::testing::TestWithParam<CipherSuite> {};

}  // namespace

// Every CBC suite: records of many lengths round-trip through the writer and reader, with the
// fragment a whole number of blocks and each IV fresh.
TEST_P(RecordCbc, RoundTrip) {
  const CipherSuiteInfo& s = suite(GetParam());
  ASSERT_EQ(s.protection, RecordProtection::cbc_hmac);
  crypto::DeterministicRandom wrng(seed);
  crypto::DeterministicRandom rrng(seed);
  RecordWriter w;
  w.set_tls13(false);
  w.set_cipher(make_cbc(s, wrng));
  RecordReader r;
  r.set_tls13(false);
  r.set_cipher(make_cbc(s, rrng));
  const std::size_t sizes[] = {0, 1, 15, 16, 17, 31, 32, 33, 100, 1000, 4096, max_plaintext};
  for (std::size_t n : sizes) {
    V out;
    const V data = filled(n, static_cast<std::uint8_t>(n));
    ASSERT_TRUE(w.write(ContentType::application_data, data, out));
    ASSERT_EQ(out.size(), record_header_size + w.cipher()->sealed_length(n));
    EXPECT_EQ((out.size() - record_header_size) % 16, 0u);
    // RFC 5246 §6.2.3.2: the least padding, so at most one block beyond data, MAC and length.
    EXPECT_LE(out.size() - record_header_size, 16 + n + crypto::digest_length(s.mac) + 1 + 15);
    ASSERT_TRUE(r.feed(out));
    auto rec = r.next();
    ASSERT_TRUE(rec) << n << ": " << rec.error().message();
    ASSERT_TRUE(rec->has_value());
    EXPECT_EQ(V((*rec)->fragment.begin(), (*rec)->fragment.end()), data) << n;
    EXPECT_TRUE((*rec)->protected_record);
  }
  EXPECT_EQ(w.cipher()->sequence(), std::size(sizes));
  EXPECT_EQ(r.cipher()->sequence(), std::size(sizes));
}

// Two records with the same contents differ: every record starts with a fresh IV.
TEST_P(RecordCbc, EachRecordHasItsOwnIv) {
  const CipherSuiteInfo& s = suite(GetParam());
  crypto::DeterministicRandom rng(seed);
  RecordWriter w;
  w.set_tls13(false);
  w.set_cipher(make_cbc(s, rng));
  V a;
  V b;
  ASSERT_TRUE(w.write(ContentType::application_data, filled(40, 1), a));
  ASSERT_TRUE(w.write(ContentType::application_data, filled(40, 1), b));
  ASSERT_EQ(a.size(), b.size());
  EXPECT_NE(V(a.begin() + 5, a.begin() + 21), V(b.begin() + 5, b.begin() + 21));
}

// Sealing agrees byte for byte with the reference construction (same keys, sequence number
// and IV), and the reference's records open: together a known-answer check of the MAC input,
// the padding and the key use.
TEST_P(RecordCbc, MatchesTheReferenceConstruction) {
  const CipherSuiteInfo& s = suite(GetParam());
  const V iv = filled(16, 200);
  for (std::size_t n : {0u, 5u, 64u, 300u}) {
    crypto::FixedRandom fixed(iv);
    RecordCipher c = make_cbc(s, fixed);
    const V data = filled(n, 9);
    V rec(record_header_size + c.sealed_length(n));
    rec[0] = static_cast<std::uint8_t>(ContentType::application_data);
    rec[1] = 3;
    rec[2] = 3;
    rec[3] = static_cast<std::uint8_t>((rec.size() - 5) >> 8);
    rec[4] = static_cast<std::uint8_t>(rec.size() - 5);
    std::copy(data.begin(), data.end(), rec.begin() + 5 + 16);
    ASSERT_TRUE(c.seal(rec, n));
    EXPECT_EQ(rec,
              reference_record(s, 0, ContentType::application_data, data, min_padding(s, n), iv))
        << n;
    auto opened = open_once(s, rec);
    ASSERT_TRUE(opened) << opened.error().message();
    EXPECT_EQ(*opened, data);
  }
}

// RFC 5246 §6.2.3.2: a sender may use any padding up to 255 bytes that fills the block. Every
// padding length and every MAC position (data lengths across a block) opens: the constant-time
// MAC extraction is exercised at each rotation.
TEST_P(RecordCbc, EveryPaddingLengthOpens) {
  const CipherSuiteInfo& s = suite(GetParam());
  const V iv = filled(16, 31);
  for (std::size_t n = 0; n < 48; n += 5) {
    for (std::size_t pad = min_padding(s, n); pad < 256; pad += 16) {
      const V data = filled(n, static_cast<std::uint8_t>(pad));
      const V rec = reference_record(s, 0, ContentType::handshake, data, pad, iv);
      auto opened = open_once(s, rec);
      ASSERT_TRUE(opened) << "n=" << n << " pad=" << pad << ": " << opened.error().message();
      EXPECT_EQ(*opened, data) << "n=" << n << " pad=" << pad;
    }
  }
}

// Lucky13's probes and plain tampering: each is bad_record_mac with the same detail, so
// neither the alert nor the message tells padding failures from MAC failures.
TEST_P(RecordCbc, TamperingIsBadRecordMac) {
  const CipherSuiteInfo& s = suite(GetParam());
  const std::size_t mac_len = crypto::digest_length(s.mac);
  const V iv = filled(16, 66);
  const V data = filled(70, 4);
  const std::size_t pad = min_padding(s, data.size()) + 32;  // several padding bytes
  const auto good = reference_record(s, 0, ContentType::application_data, data, pad, iv);
  ASSERT_TRUE(open_once(s, good));

  std::vector<std::pair<std::string, V>> bad;
  // A padding byte that differs from padding_length, under a valid MAC.
  bad.emplace_back("padding byte", reference_record(s, 0, ContentType::application_data, data, pad,
                                                    iv, {data.size() + mac_len + 3, 0x01}));
  // padding_length itself wrong (claims one byte less), under a valid MAC.
  bad.emplace_back("padding length", reference_record(s, 0, ContentType::application_data, data,
                                                      pad, iv, {data.size() + mac_len + pad, 1}));
  // padding_length beyond the record: the MAC would start before the fragment.
  {
    const V tiny = {7};
    bad.emplace_back("overlong padding length",
                     reference_record(s, 0, ContentType::application_data, tiny, min_padding(s, 1),
                                      iv, {1 + mac_len + min_padding(s, 1), 0xf0}));
  }
  bad.emplace_back("MAC byte", reference_record(s, 0, ContentType::application_data, data, pad, iv,
                                                {data.size() + 2, 0x80}));
  bad.emplace_back("data byte",
                   reference_record(s, 0, ContentType::application_data, data, pad, iv, {0, 0x01}));
  {
    V r = good;
    r[5 + 3] ^= 0x04;  // the IV: the first plaintext block changes
    bad.emplace_back("IV byte", r);
  }
  {
    V r = good;
    r[r.size() - 20] ^= 0x01;  // the last ciphertext block but one
    bad.emplace_back("ciphertext byte", r);
  }
  {
    V r = good;
    r[0] = static_cast<std::uint8_t>(ContentType::handshake);  // the MACed type
    bad.emplace_back("record type", r);
  }
  {
    V r(good.begin(), good.end() - 16);  // one block less
    r[3] = static_cast<std::uint8_t>((r.size() - 5) >> 8);
    r[4] = static_cast<std::uint8_t>(r.size() - 5);
    bad.emplace_back("truncated by a block", r);
  }
  {
    V r(good.begin(), good.end() - 1);  // not a whole number of blocks
    r[3] = static_cast<std::uint8_t>((r.size() - 5) >> 8);
    r[4] = static_cast<std::uint8_t>(r.size() - 5);
    bad.emplace_back("not whole blocks", r);
  }
  {
    // IV and one block: too short for any MAC of these suites and a length byte.
    V r(good.begin(), good.begin() + 5 + 32);
    r[3] = 0;
    r[4] = 32;
    bad.emplace_back("shorter than a MAC", r);
  }
  {
    V r(good.begin(), good.begin() + 5);
    r[3] = 0;
    r[4] = 0;
    bad.emplace_back("empty", r);
  }

  std::string detail;
  for (const auto& [what, rec] : bad) {
    auto opened = open_once(s, rec);
    ASSERT_FALSE(opened) << what;
    EXPECT_EQ(opened.error().code(), Errc::bad_record_mac) << what;
    if (what == "padding byte") detail = opened.error().detail();
    if (what == "MAC byte") {
      EXPECT_EQ(opened.error().detail(), detail) << "padding and MAC failures read the same";
    }
  }
}

// The sequence number is MACed: a record replayed or reordered does not open.
TEST_P(RecordCbc, WrongSequenceNumberIsBadRecordMac) {
  const CipherSuiteInfo& s = suite(GetParam());
  const V data = filled(20, 1);
  const V rec = reference_record(s, 0, ContentType::application_data, data, min_padding(s, 20),
                                 filled(16, 2));
  auto first = open_once(s, rec, 0);
  ASSERT_TRUE(first) << first.error().message();
  auto later = open_once(s, rec, 1);
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().code(), Errc::bad_record_mac);
}

// RFC 5246 §6.2.3: TLSCiphertext.length above 2^14 + 2048 is record_overflow before any
// decryption; a record whose authentic plaintext exceeds 2^14 is record_overflow too.
TEST_P(RecordCbc, Overflow) {
  const CipherSuiteInfo& s = suite(GetParam());
  {
    crypto::DeterministicRandom rng(seed);
    RecordReader r;
    r.set_tls13(false);
    r.set_cipher(make_cbc(s, rng));
    const V hdr = {23, 3, 3, 0x48, 0x01};  // 2^14 + 2049
    ASSERT_TRUE(r.feed(hdr));
    auto rec = r.next();
    ASSERT_FALSE(rec);
    EXPECT_EQ(rec.error().code(), Errc::record_overflow);
  }
  {
    const V data(max_plaintext + 1, 0x41);
    const V rec = reference_record(s, 0, ContentType::application_data, data,
                                   min_padding(s, data.size()), filled(16, 3));
    crypto::DeterministicRandom rng(seed);
    RecordReader r;
    r.set_tls13(false);
    r.set_cipher(make_cbc(s, rng));
    ASSERT_TRUE(r.feed(rec));
    auto got = r.next();
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code(), Errc::record_overflow);
  }
}

INSTANTIATE_TEST_SUITE_P(Suites, RecordCbc,
                         ::testing::Values(CipherSuite::tls_ecdhe_ecdsa_with_aes_128_cbc_sha,
                                           CipherSuite::tls_ecdhe_rsa_with_aes_256_cbc_sha,
                                           CipherSuite::tls_ecdhe_ecdsa_with_aes_128_cbc_sha256,
                                           CipherSuite::tls_ecdhe_rsa_with_aes_256_cbc_sha384,
                                           CipherSuite::tls_rsa_with_aes_128_cbc_sha256,
                                           CipherSuite::tls_rsa_with_aes_256_cbc_sha256));

// The crypto unit refuses keys of the wrong size and a fragment that does not fit.
TEST(RecordCbcKeys, WrongSizesAreRefused) {
  const V k16(16, 1);
  const V k20(20, 2);
  EXPECT_EQ(crypto::TlsCbcHmac::create(crypto::CbcAlg::aes_256_cbc, k16, crypto::HashAlg::sha1, k20)
                .error()
                .code(),
            Errc::invalid_argument);
  EXPECT_EQ(
      crypto::TlsCbcHmac::create(crypto::CbcAlg::aes_128_cbc, k16, crypto::HashAlg::sha256, k20)
          .error()
          .code(),
      Errc::invalid_argument);
  auto c = crypto::TlsCbcHmac::create(crypto::CbcAlg::aes_128_cbc, k16, crypto::HashAlg::sha1, k20);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->sealed_length(0), 16u + 32u);   // 20-byte MAC + length byte -> two blocks
  EXPECT_EQ(c->sealed_length(11), 16u + 32u);  // 11 + 20 + 1 = 32
  EXPECT_EQ(c->sealed_length(12), 16u + 48u);
  const std::array<std::uint8_t, crypto::tls_mac_prefix_size> prefix{};
  V frag(16 + 32);
  EXPECT_EQ(c->seal(prefix, frag, 12).error().code(), Errc::invalid_argument);
}
