#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

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

V filled(std::size_t n, std::uint8_t start = 1) {
  V v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::uint8_t>(start + i);
  return v;
}

RecordCipher make13(const CipherSuiteInfo& s) {
  const V key = filled(s.key_length, 7);
  const V iv = filled(12, 99);
  return std::move(RecordCipher::tls13(s, key, iv)).value();
}

RecordCipher make12(const CipherSuiteInfo& s) {
  const V key = filled(s.key_length, 7);
  const V iv = filled(s.iv_length, 99);
  return std::move(RecordCipher::tls12(s, key, iv)).value();
}

// Reads every complete record out of `r`, failing the test on an error.
std::vector<std::pair<ContentType, V>> drain(RecordReader& r) {
  std::vector<std::pair<ContentType, V>> out;
  for (;;) {
    auto rec = r.next();
    EXPECT_TRUE(rec) << rec.error().message();
    if (!rec || !rec->has_value()) break;
    out.emplace_back((*rec)->type, V((*rec)->fragment.begin(), (*rec)->fragment.end()));
  }
  return out;
}

// The first error reading `r`; invalid_argument when it simply needs more bytes and closed
// when it returned a record (which the negative tests must never see).
Errc read_error(RecordReader& r) {
  auto rec = r.next();
  if (!rec) return rec.error().code();
  return rec->has_value() ? Errc::closed : Errc::invalid_argument;
}

}  // namespace

TEST(TlsRecord, PlaintextRoundTripAndFragmentation) {
  RecordWriter w;
  V out;
  const V data = filled(max_plaintext * 2 + 10);
  ASSERT_TRUE(w.write(ContentType::handshake, data, out));
  // Three records: 2^14, 2^14, 10 bytes (RFC 8446 §5.1).
  EXPECT_EQ(out.size(), 3 * record_header_size + data.size());
  EXPECT_EQ(out[0], 22);
  EXPECT_EQ(out[1], 0x03);
  EXPECT_EQ(out[2], 0x03);
  EXPECT_EQ((out[3] << 8) | out[4], 1 << 14);

  RecordReader r;
  ASSERT_TRUE(r.feed(out));
  auto recs = drain(r);
  ASSERT_EQ(recs.size(), 3u);
  V joined;
  for (auto& [t, f] : recs) {
    EXPECT_EQ(t, ContentType::handshake);
    joined.insert(joined.end(), f.begin(), f.end());
  }
  EXPECT_EQ(joined, data);
}

TEST(TlsRecord, PartialRecordsWaitForMoreBytes) {
  RecordWriter w;
  V out;
  ASSERT_TRUE(w.write(ContentType::alert, V{2, 40}, out));
  ASSERT_TRUE(w.write(ContentType::handshake, filled(300), out));
  RecordReader r;
  // Feed one byte at a time: a record appears only once complete.
  std::size_t seen = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    ASSERT_TRUE(r.feed(wire::Bytes(&out[i], 1)));
    auto rec = r.next();
    ASSERT_TRUE(rec);
    if (rec->has_value()) {
      ++seen;
      if (seen == 1) {
        EXPECT_EQ(i, record_header_size + 2 - 1);
      }
    }
  }
  EXPECT_EQ(seen, 2u);
}

TEST(TlsRecord, RecordSizeLimitFragmentsSmaller) {
  RecordWriter w;
  w.set_max_plaintext(100);  // RFC 8449
  V out;
  ASSERT_TRUE(w.write(ContentType::application_data, filled(250), out));
  RecordReader r;
  ASSERT_TRUE(r.feed(out));
  auto recs = drain(r);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].second.size(), 100u);
  EXPECT_EQ(recs[2].second.size(), 50u);
}

// RFC 8446 §5.1: plaintext records longer than 2^14 are record_overflow.
TEST(TlsRecord, OverlongPlaintextRecordIsRecordOverflow) {
  V rec = {22, 3, 3, 0x40, 0x01};  // length 2^14 + 1
  rec.resize(rec.size() + (1 << 14) + 1);
  RecordReader r;
  ASSERT_TRUE(r.feed(rec));
  EXPECT_EQ(read_error(r), Errc::record_overflow);
  // Detected from the header alone, before the body arrives.
  RecordReader r2;
  ASSERT_TRUE(r2.feed(wire::Bytes(rec).first(5)));
  EXPECT_EQ(read_error(r2), Errc::record_overflow);
}

// RFC 8446 §5: unknown record types are unexpected_message.
TEST(TlsRecord, UnknownContentTypeIsUnexpectedMessage) {
  for (std::uint8_t t : {0, 19, 25, 0x80, 0xff}) {
    RecordReader r;
    const V rec = {t, 3, 3, 0, 1, 0};
    ASSERT_TRUE(r.feed(rec));
    EXPECT_EQ(read_error(r), Errc::unexpected_message) << int(t);
  }
}

TEST(TlsRecord, NonTlsVersionIsRejected) {
  RecordReader r;
  const V rec = {22, 2, 0, 0, 1, 0};
  ASSERT_TRUE(r.feed(rec));
  EXPECT_EQ(read_error(r), Errc::protocol_version);
}

// RFC 8446 §5.1 / RFC 5246 §6.2.1: no zero-length handshake, alert or CCS fragments.
TEST(TlsRecord, EmptyHandshakeRecordIsUnexpectedMessage) {
  for (std::uint8_t t : {20, 21, 22}) {
    RecordReader r;
    const V rec = {t, 3, 3, 0, 0};
    ASSERT_TRUE(r.feed(rec));
    EXPECT_EQ(read_error(r), Errc::unexpected_message) << int(t);
  }
  RecordReader ok;
  const V empty_app = {23, 3, 3, 0, 0};
  ASSERT_TRUE(ok.feed(empty_app));
  EXPECT_EQ(drain(ok).size(), 1u);
}

class TlsRecordProtected13 : public ::testing::TestWithParam<CipherSuite> {};

TEST_P(TlsRecordProtected13, RoundTripHidesTheContentType) {
  const auto& s = suite(GetParam());
  RecordWriter w;
  w.set_cipher(make13(s));
  RecordReader r;
  r.set_cipher(make13(s));
  V out;
  const V hs = filled(1000);
  const V app = filled(max_plaintext + 5);
  ASSERT_TRUE(w.write(ContentType::handshake, hs, out));
  ASSERT_TRUE(w.write(ContentType::application_data, app, out));
  ASSERT_TRUE(w.write(ContentType::alert, V{1, 0}, out));
  // RFC 8446 §5.2: every protected record goes out as application_data, version 0x0303.
  EXPECT_EQ(out[0], 23);
  EXPECT_EQ(out[1], 3);
  EXPECT_EQ(out[2], 3);
  ASSERT_TRUE(r.feed(out));
  auto recs = drain(r);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].first, ContentType::handshake);
  EXPECT_EQ(recs[0].second, hs);
  EXPECT_EQ(recs[1].first, ContentType::application_data);
  EXPECT_EQ(recs[1].second.size(), max_plaintext);
  EXPECT_EQ(recs[2].second.size(), 5u);
  EXPECT_EQ(recs[3].first, ContentType::alert);
  EXPECT_EQ(w.cipher()->sequence(), 4u);
  EXPECT_EQ(r.cipher()->sequence(), 4u);
}

// The connection's RecordBuffer grows without zero-filling: records written into one (over
// bytes left by earlier, longer records) are the bytes a plain vector gets.
TEST_P(TlsRecordProtected13, RecordBufferHoldsTheSameRecordsAsAVector) {
  const auto& s = suite(GetParam());
  RecordWriter to_vector;
  to_vector.set_cipher(make13(s));
  RecordWriter to_buffer;
  to_buffer.set_cipher(make13(s));
  V expected;
  RecordBuffer buffer;
  for (const std::size_t n : {std::size_t{3000}, std::size_t{0}, std::size_t{17}, max_plaintext}) {
    const V data = filled(n, static_cast<std::uint8_t>(n));
    expected.clear();
    buffer.assign(buffer.capacity(), 0xee);  // stale bytes where the next records go
    buffer.clear();
    ASSERT_TRUE(to_vector.write(ContentType::application_data, data, expected));
    ASSERT_TRUE(to_buffer.write(ContentType::application_data, data, buffer));
    EXPECT_EQ(V(buffer.begin(), buffer.end()), expected) << n << " bytes";
  }
  ASSERT_TRUE(to_buffer.write_unprotected(ContentType::change_cipher_spec, V{1}, buffer));
  EXPECT_EQ(V(buffer.end() - 6, buffer.end()), (V{20, 3, 3, 0, 1, 1}));
}

// Any change to any byte of a protected record is bad_record_mac (header bytes included:
// they are the additional data), never accepted.
TEST_P(TlsRecordProtected13, EveryFlippedByteIsDetected) {
  const auto& s = suite(GetParam());
  RecordWriter w;
  w.set_cipher(make13(s));
  V out;
  ASSERT_TRUE(w.write(ContentType::application_data, filled(64), out));
  for (std::size_t i = 0; i < out.size(); ++i) {
    V bad = out;
    bad[i] ^= 0x01;
    RecordReader r;
    r.set_cipher(make13(s));
    ASSERT_TRUE(r.feed(bad));
    const Errc e = read_error(r);
    // Flipping the type or version byte trips the cleartext checks first.
    if (i == 0) {
      EXPECT_EQ(e, Errc::unexpected_message) << i;
    } else if (i == 1) {
      EXPECT_EQ(e, Errc::protocol_version) << i;
    } else if (i == 3 || i == 4) {
      // A longer length waits for bytes that never come; a shorter one fails to open.
      // Either way no record is accepted (read_error's invalid_argument means "none").
      EXPECT_TRUE(e == Errc::invalid_argument || e == Errc::bad_record_mac) << i;
    } else {
      EXPECT_EQ(e, Errc::bad_record_mac) << i;
    }
  }
}

TEST_P(TlsRecordProtected13, WrongKeyOrSequenceFails) {
  const auto& s = suite(GetParam());
  RecordWriter w;
  w.set_cipher(make13(s));
  V first, second;
  ASSERT_TRUE(w.write(ContentType::application_data, filled(10), first));
  ASSERT_TRUE(w.write(ContentType::application_data, filled(10), second));
  // Replaying the second record as the first: the nonce differs, so it cannot open.
  RecordReader r;
  r.set_cipher(make13(s));
  ASSERT_TRUE(r.feed(second));
  EXPECT_EQ(read_error(r), Errc::bad_record_mac);
}

INSTANTIATE_TEST_SUITE_P(Suites, TlsRecordProtected13,
                         ::testing::Values(CipherSuite::tls_aes_128_gcm_sha256,
                                           CipherSuite::tls_aes_256_gcm_sha384,
                                           CipherSuite::tls_chacha20_poly1305_sha256));

// RFC 8446 §5.4: a protected record whose plaintext is all zeros has no content type.
TEST(TlsRecord, AllPaddingRecordIsUnexpectedMessage) {
  const auto& s = suite(CipherSuite::tls_aes_128_gcm_sha256);
  RecordCipher c = make13(s);
  V rec = {23, 3, 3, 0, 4 + 16};
  rec.resize(5 + 4 + 16, 0);
  ASSERT_TRUE(c.seal(rec, 4));
  RecordReader r;
  r.set_cipher(make13(s));
  ASSERT_TRUE(r.feed(rec));
  EXPECT_EQ(read_error(r), Errc::unexpected_message);
}

// RFC 8446 §5.4: padding is stripped; the type is the last non-zero byte.
TEST(TlsRecord, PaddedRecordOpens) {
  const auto& s = suite(CipherSuite::tls_aes_128_gcm_sha256);
  RecordCipher c = make13(s);
  const std::size_t text = 3 + 1 + 100;  // "abc", type, 100 zeros
  V rec = {23, 3, 3, 0, static_cast<std::uint8_t>(text + 16)};
  rec.resize(5 + text + 16, 0);
  rec[5] = 'a';
  rec[6] = 'b';
  rec[7] = 'c';
  rec[8] = 23;
  ASSERT_TRUE(c.seal(rec, text));
  RecordReader r;
  r.set_cipher(make13(s));
  ASSERT_TRUE(r.feed(rec));
  auto recs = drain(r);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].second, (V{'a', 'b', 'c'}));
}

// RFC 8446 §5.2: TLSCiphertext longer than 2^14 + 256 is record_overflow; §5.4: so is an
// inner plaintext over 2^14 even when the record itself fits.
TEST(TlsRecord, ProtectedOverflow) {
  const auto& s = suite(CipherSuite::tls_aes_128_gcm_sha256);
  {
    const V hdr = {23, 3, 3, 0x41, 0x01};  // 2^14 + 257
    RecordReader r;
    r.set_cipher(make13(s));
    ASSERT_TRUE(r.feed(hdr));
    EXPECT_EQ(read_error(r), Errc::record_overflow);
  }
  {
    RecordCipher c = make13(s);
    const std::size_t text = max_plaintext + 2;  // 2^14 + 1 bytes of content, then the type
    V rec(5 + text + 16, 0x41);
    rec[0] = 23;
    rec[1] = 3;
    rec[2] = 3;
    rec[3] = static_cast<std::uint8_t>((text + 16) >> 8);
    rec[4] = static_cast<std::uint8_t>(text + 16);
    rec[5 + text - 1] = 23;
    ASSERT_TRUE(c.seal(rec, text));
    RecordReader r;
    r.set_cipher(make13(s));
    ASSERT_TRUE(r.feed(rec));
    EXPECT_EQ(read_error(r), Errc::record_overflow);
  }
}

TEST(TlsRecord, ProtectedCleartextTypeIsUnexpected) {
  const auto& s = suite(CipherSuite::tls_aes_128_gcm_sha256);
  RecordReader r;
  r.set_cipher(make13(s));
  const V hs = {22, 3, 3, 0, 1, 1};
  ASSERT_TRUE(r.feed(hs));
  EXPECT_EQ(read_error(r), Errc::unexpected_message);
  // A cleartext change_cipher_spec passes through for the handshake layer to judge.
  RecordReader r2;
  r2.set_cipher(make13(s));
  const V ccs = {20, 3, 3, 0, 1, 1};
  ASSERT_TRUE(r2.feed(ccs));
  auto recs = drain(r2);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].first, ContentType::change_cipher_spec);
}

TEST(TlsRecord, ShortProtectedRecordIsBadRecordMac) {
  const auto& s = suite(CipherSuite::tls_aes_128_gcm_sha256);
  RecordReader r;
  r.set_cipher(make13(s));
  const V rec = {23, 3, 3, 0, 3, 1, 2, 3};
  ASSERT_TRUE(r.feed(rec));
  EXPECT_EQ(read_error(r), Errc::bad_record_mac);
}

// RFC 8446 §5.5: a key is never used past its limit.
TEST(TlsRecord, UsageLimitStopsSealing) {
  CipherSuiteInfo tiny = suite(CipherSuite::tls_aes_128_gcm_sha256);
  tiny.record_limit = 8;
  RecordWriter w;
  w.set_cipher(make13(tiny));
  V out;
  for (int i = 0; i < 8; ++i)
    ASSERT_TRUE(w.write(ContentType::application_data, V{1}, out));
  EXPECT_TRUE(w.cipher()->near_usage_limit());
  const std::size_t before = out.size();
  auto s = w.write(ContentType::application_data, V{1}, out);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::limit_exceeded);
  EXPECT_EQ(out.size(), before) << "a refused record must leave nothing behind";
}

// The writer seals from the caller's data straight into the output (seal_from); the record is
// the same, byte for byte, as the one sealed in place from a copy.
TEST_P(TlsRecordProtected13, OutOfPlaceSealMatchesInPlaceSeal) {
  const auto& s = suite(GetParam());
  for (std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{1024}, max_plaintext}) {
    SCOPED_TRACE(len);
    const V data = filled(len);
    RecordWriter w;
    w.set_cipher(make13(s));
    V written;
    ASSERT_TRUE(w.write(ContentType::application_data, data, written));
    RecordCipher c = make13(s);
    const std::size_t text = len + 1;
    V in_place = {23, 3, 3, static_cast<std::uint8_t>((text + 16) >> 8),
                  static_cast<std::uint8_t>(text + 16)};
    in_place.insert(in_place.end(), data.begin(), data.end());
    in_place.push_back(23);  // RFC 8446 §5.2: the inner content type follows the content
    in_place.resize(5 + text + 16);
    ASSERT_TRUE(c.seal(in_place, text));
    EXPECT_EQ(written, in_place);
    // seal_from refuses a record buffer of the wrong size and leaves the sequence alone.
    V wrong(5 + text + 15);
    EXPECT_EQ(c.seal_from(wrong, data, V{23}).error(), Errc::invalid_argument);
    EXPECT_EQ(c.sequence(), 1u);
  }
}

// lend(): whole records are opened from the caller's bytes without copying them; a partial
// record is kept (keep_rest) and completed by the next bytes; the result is what feed() gives.
TEST_P(TlsRecordProtected13, LentBytesGiveWhatFeedGives) {
  const auto& s = suite(GetParam());
  RecordWriter w;
  w.set_cipher(make13(s));
  V out;
  ASSERT_TRUE(w.write(ContentType::handshake, filled(300), out));
  ASSERT_TRUE(w.write(ContentType::application_data, filled(max_plaintext + 700, 3), out));
  ASSERT_TRUE(w.write(ContentType::alert, V{1, 0}, out));
  RecordReader fed;
  fed.set_cipher(make13(s));
  ASSERT_TRUE(fed.feed(out));
  const auto expected = drain(fed);
  ASSERT_EQ(expected.size(), 4u);
  for (std::size_t cut : {out.size(), std::size_t{3}, std::size_t{400}, out.size() - 10}) {
    SCOPED_TRACE(cut);
    RecordReader r;
    r.set_cipher(make13(s));
    const std::span<const std::uint8_t> all(out);
    r.lend(all.first(cut));
    auto got = drain(r);
    r.keep_rest();
    EXPECT_LE(r.buffered(), cut);
    ASSERT_TRUE(r.feed(all.subspan(cut)));
    auto rest = drain(r);
    got.insert(got.end(), rest.begin(), rest.end());
    EXPECT_EQ(got, expected);
    EXPECT_EQ(r.buffered(), 0u);
  }
  // A flipped byte in lent bytes is bad_record_mac, as in the buffer.
  for (std::size_t i : {std::size_t{5}, std::size_t{100}, std::size_t{300 + 5 + 16}}) {
    V bad = out;
    bad[i] ^= 0x01;
    RecordReader r;
    r.set_cipher(make13(s));
    r.lend(bad);
    EXPECT_EQ(read_error(r), Errc::bad_record_mac) << i;
    r.keep_rest();
  }
}

// next(dest): a record whose plaintext fits in `dest` is opened into it (its content type may
// take one byte beyond, kept aside); one that does not fit is opened in the reader's buffer.
TEST_P(TlsRecordProtected13, OpensIntoTheCallersBuffer) {
  const auto& s = suite(GetParam());
  RecordWriter w;
  w.set_cipher(make13(s));
  V out;
  const V data = filled(max_plaintext, 5);
  ASSERT_TRUE(w.write(ContentType::application_data, data, out));
  ASSERT_TRUE(w.write(ContentType::application_data, filled(10), out));
  ASSERT_TRUE(w.write(ContentType::alert, V{1, 0}, out));
  RecordReader r;
  r.set_cipher(make13(s));
  r.lend(out);
  V dest(max_plaintext, 0xee);  // the data exactly: the type byte does not fit
  auto rec = r.next(dest);
  ASSERT_TRUE(rec && rec->has_value());
  EXPECT_EQ((*rec)->type, ContentType::application_data);
  EXPECT_EQ((*rec)->fragment.data(), dest.data());
  EXPECT_EQ(r.opened_into_dest(), max_plaintext);
  EXPECT_EQ(dest, data);
  V small(10, 0xee);  // 10 bytes of data need 11: opened in the reader's own buffer
  rec = r.next(wire::MutableBytes(small).first(9));
  ASSERT_TRUE(rec && rec->has_value());
  EXPECT_EQ(r.opened_into_dest(), 0u);
  EXPECT_NE((*rec)->fragment.data(), small.data());
  EXPECT_EQ(V((*rec)->fragment.begin(), (*rec)->fragment.end()), filled(10));
  EXPECT_EQ(small, V(10, 0xee));
  V alert_dest(100, 0xee);
  rec = r.next(alert_dest);
  ASSERT_TRUE(rec && rec->has_value());
  EXPECT_EQ((*rec)->type, ContentType::alert);
  EXPECT_EQ(r.opened_into_dest(), 3u);
  r.keep_rest();
  EXPECT_EQ(r.buffered(), 0u);
  // hold() of a fragment opened into dest counts it as delivered instead of holding it.
  r.hold((*rec)->fragment);
  EXPECT_EQ(r.take_delivered(), 2u);
  EXPECT_EQ(r.take_delivered(), 0u);
  EXPECT_TRUE(r.held().empty());
}

// A padded record whose last byte (padding) goes aside: the type is found before it.
TEST(TlsRecord, PaddedRecordOpensIntoTheCallersBuffer) {
  const auto& s = suite(CipherSuite::tls_aes_128_gcm_sha256);
  RecordCipher c = make13(s);
  const std::size_t text = 3 + 1 + 1;  // "abc", type, one zero
  V rec = {23, 3, 3, 0, static_cast<std::uint8_t>(text + 16), 'a', 'b', 'c', 23, 0};
  rec.resize(5 + text + 16, 0);
  ASSERT_TRUE(c.seal(rec, text));
  RecordReader r;
  r.set_cipher(make13(s));
  ASSERT_TRUE(r.feed(rec));
  V dest(4, 0xee);
  auto got = r.next(dest);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(V((*got)->fragment.begin(), (*got)->fragment.end()), (V{'a', 'b', 'c'}));
  EXPECT_EQ((*got)->fragment.data(), dest.data());
}

// install13: a key change re-keys the cipher in place when the AEAD stays, with the sequence
// number back at 0 (RFC 8446 §5.3); another AEAD gets a new cipher; records then open.
TEST(TlsRecord, KeyChangeReKeysInPlace) {
  const auto& aes = suite(CipherSuite::tls_aes_128_gcm_sha256);
  const auto& chacha = suite(CipherSuite::tls_chacha20_poly1305_sha256);
  RecordWriter w;
  RecordReader r;
  ASSERT_TRUE(w.set_cipher13(aes, filled(16, 1), filled(12, 2)));  // none yet: built
  ASSERT_TRUE(r.set_cipher13(aes, filled(16, 1), filled(12, 2)));
  V out;
  ASSERT_TRUE(w.write(ContentType::application_data, filled(50), out));
  ASSERT_TRUE(r.feed(out));
  ASSERT_EQ(drain(r).size(), 1u);
  const RecordCipher* before = &*w.cipher();
  ASSERT_TRUE(w.set_cipher13(aes, filled(16, 3), filled(12, 4)));
  ASSERT_TRUE(r.set_cipher13(aes, filled(16, 3), filled(12, 4)));
  EXPECT_EQ(&*w.cipher(), before);
  EXPECT_EQ(w.cipher()->sequence(), 0u);
  out.clear();
  ASSERT_TRUE(w.write(ContentType::application_data, filled(60), out));
  // What a cipher built for the new key writes is the same record.
  RecordWriter fresh;
  fresh.set_cipher(std::move(RecordCipher::tls13(aes, filled(16, 3), filled(12, 4))).value());
  V expected;
  ASSERT_TRUE(fresh.write(ContentType::application_data, filled(60), expected));
  EXPECT_EQ(out, expected);
  ASSERT_TRUE(r.feed(out));
  auto recs = drain(r);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].second, filled(60));
  // Another AEAD: a new cipher of that AEAD.
  ASSERT_TRUE(w.set_cipher13(chacha, filled(32, 5), filled(12, 6)));
  ASSERT_TRUE(r.set_cipher13(chacha, filled(32, 5), filled(12, 6)));
  out.clear();
  ASSERT_TRUE(w.write(ContentType::application_data, filled(70), out));
  ASSERT_TRUE(r.feed(out));
  ASSERT_EQ(drain(r).size(), 1u);
  EXPECT_EQ(w.set_cipher13(chacha, filled(32, 5), filled(8, 6)).error(), Errc::invalid_argument);
}

// open_to: out of place into a buffer of the bound's size; too small is invalid_argument.
TEST(TlsRecord, OpenToNeedsRoomForTheWholeText) {
  const auto& s = suite(CipherSuite::tls_aes_128_gcm_sha256);
  RecordWriter w;
  w.set_cipher(make13(s));
  V out;
  ASSERT_TRUE(w.write(ContentType::application_data, filled(100), out));
  RecordCipher c = make13(s);
  EXPECT_EQ(c.opened_length_bound(out.size()), 101u);
  V small(100);
  EXPECT_EQ(c.open_to(out, small, {}).error(), Errc::invalid_argument);
  EXPECT_EQ(c.sequence(), 0u);
  V text(101);
  auto opened = c.open_to(out, text, {});
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->size(), 101u);
  EXPECT_EQ(V(text.begin(), text.begin() + 100), filled(100));
  EXPECT_EQ(text[100], 23);
  EXPECT_EQ(c.sequence(), 1u);
}

class TlsRecordProtected12 : public ::testing::TestWithParam<CipherSuite> {};

// TLS 1.2: the writer's out-of-place records equal in-place ones (explicit nonce included),
// and lent bytes and next(dest) open them as the buffer does.
TEST_P(TlsRecordProtected12, OutOfPlaceSealAndOpen) {
  const auto& s = suite(GetParam());
  const bool gcm = s.aead != crypto::AeadAlg::chacha20_poly1305;
  const std::size_t nonce_len = gcm ? 8 : 0;
  const V data = filled(1024);
  RecordWriter w;
  w.set_tls13(false);
  w.set_cipher(make12(s));
  V written;
  ASSERT_TRUE(w.write(ContentType::application_data, data, written));
  ASSERT_TRUE(w.write(ContentType::application_data, data, written));
  RecordCipher c = make12(s);
  V in_place;
  for (int i = 0; i < 2; ++i) {
    const std::size_t body = nonce_len + data.size() + 16;
    V rec = {23, 3, 3, static_cast<std::uint8_t>(body >> 8), static_cast<std::uint8_t>(body)};
    rec.resize(5 + nonce_len);
    rec.insert(rec.end(), data.begin(), data.end());
    rec.resize(5 + body);
    ASSERT_TRUE(c.seal(rec, data.size()));
    in_place.insert(in_place.end(), rec.begin(), rec.end());
  }
  EXPECT_EQ(written, in_place);
  RecordReader r;
  r.set_tls13(false);
  r.set_cipher(make12(s));
  r.lend(written);
  V dest(data.size(), 0xee);
  auto rec = r.next(dest);
  ASSERT_TRUE(rec && rec->has_value());
  EXPECT_EQ(r.opened_into_dest(), data.size());
  EXPECT_EQ(dest, data);
  rec = r.next();  // no dest: opened from the lent bytes into the reader's buffer
  ASSERT_TRUE(rec && rec->has_value());
  EXPECT_EQ(r.opened_into_dest(), 0u);
  EXPECT_EQ(V((*rec)->fragment.begin(), (*rec)->fragment.end()), data);
  r.keep_rest();
  EXPECT_EQ(r.buffered(), 0u);
}

TEST_P(TlsRecordProtected12, RoundTripAndTamper) {
  const auto& s = suite(GetParam());
  RecordWriter w;
  w.set_tls13(false);
  w.set_cipher(make12(s));
  V out;
  const V data = filled(3000);
  ASSERT_TRUE(w.write(ContentType::application_data, data, out));
  ASSERT_TRUE(w.write(ContentType::alert, V{1, 0}, out));
  // TLS 1.2 keeps the real content type outside.
  EXPECT_EQ(out[0], 23);
  const bool gcm = s.aead != crypto::AeadAlg::chacha20_poly1305;
  const std::size_t first_len = (out[3] << 8) | out[4];
  EXPECT_EQ(first_len, data.size() + (gcm ? 8u : 0u) + 16u);
  EXPECT_EQ(out[5 + first_len], 21);
  if (gcm) {
    // RFC 5288 §3: the explicit nonce of the second record is its sequence number, 1.
    const V seq1 = {0, 0, 0, 0, 0, 0, 0, 1};
    EXPECT_EQ(V(out.begin() + 5 + first_len + 5, out.begin() + 5 + first_len + 13), seq1);
  }
  RecordReader r;
  r.set_tls13(false);
  r.set_cipher(make12(s));
  ASSERT_TRUE(r.feed(out));
  auto recs = drain(r);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].second, data);
  EXPECT_EQ(recs[1].first, ContentType::alert);

  for (std::size_t i : {std::size_t{0}, std::size_t{5}, std::size_t{20}, first_len + 4}) {
    V bad = out;
    bad[i] ^= 0x80;
    RecordReader rb;
    rb.set_tls13(false);
    rb.set_cipher(make12(s));
    ASSERT_TRUE(rb.feed(bad));
    const Errc e = read_error(rb);
    if (i == 0) {
      EXPECT_NE(e, Errc::invalid_argument);  // type 0x97: unknown type
    } else {
      EXPECT_EQ(e, Errc::bad_record_mac) << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Suites, TlsRecordProtected12,
    ::testing::Values(CipherSuite::tls_ecdhe_ecdsa_with_aes_128_gcm_sha256,
                      CipherSuite::tls_ecdhe_rsa_with_aes_256_gcm_sha384,
                      CipherSuite::tls_ecdhe_ecdsa_with_chacha20_poly1305_sha256));
