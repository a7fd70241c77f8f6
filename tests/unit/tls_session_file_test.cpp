// The --session file: a round trip keeps every field; a damaged, short, trailing or unknown-version
// file is refused; an expired session (or one from the future) is ignored, not an error.
#include "bulwark/tls/session_file.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "bulwark/crypto/hash.hpp"

namespace bulwark::tls {
namespace {

using namespace std::chrono_literals;

const TimePoint kReceived = TimePoint(
    std::chrono::sys_days(std::chrono::year(2030) / std::chrono::month(1) / std::chrono::day(2)) +
    3h + 4min + 5s + 678ms);

StoredSession tls13_session() {
  StoredSession s;
  s.version = ProtocolVersion::tls13;
  s.cipher_suite = CipherSuite::tls_aes_256_gcm_sha384;
  s.ticket = std::vector<std::uint8_t>(300, 0xab);
  s.psk = crypto::Secret(std::vector<std::uint8_t>(48, 0x5c));
  s.age_add = 0x01020304;
  s.lifetime = 7200;
  s.received = kReceived;
  s.alpn = "http/1.1";
  s.max_early_data = 16384;
  return s;
}

StoredSession tls12_session() {
  StoredSession s;
  s.version = ProtocolVersion::tls12;
  s.cipher_suite = CipherSuite::tls_ecdhe_ecdsa_with_aes_128_gcm_sha256;
  s.session_id = std::vector<std::uint8_t>(32, 0x11);
  s.psk = crypto::Secret(std::vector<std::uint8_t>(48, 0x22));
  s.lifetime = 3600;
  s.received = kReceived;
  return s;
}

std::vector<std::uint8_t> encode(std::string_view name, const StoredSession& s) {
  auto file = encode_session_file(name, s);
  EXPECT_TRUE(file) << file.error().message();
  if (!file) return {};
  return {file->span().begin(), file->span().end()};
}

// Recomputes the trailing SHA-256 so that a test can change the body and still pass the checksum.
void reseal(std::vector<std::uint8_t>& file) {
  const std::size_t covered = file.size() - 32;
  auto sum = crypto::hash(crypto::HashAlg::sha256, std::span(file).first(covered));
  ASSERT_TRUE(sum);
  std::copy(sum->span().begin(), sum->span().end(), file.begin() + covered);
}

TEST(TlsSessionFile, Tls13RoundTripKeepsEveryField) {
  const StoredSession s = tls13_session();
  const auto file = encode("www.example.org", s);
  ASSERT_FALSE(file.empty());
  auto decoded = decode_session_file(file, kReceived + 10min);
  ASSERT_TRUE(decoded) << decoded.error().message();
  ASSERT_TRUE(decoded->has_value());
  const SavedSession& saved = **decoded;
  EXPECT_EQ(saved.server_name, "www.example.org");
  EXPECT_EQ(saved.session.version, s.version);
  EXPECT_EQ(saved.session.cipher_suite, s.cipher_suite);
  EXPECT_EQ(saved.session.ticket, s.ticket);
  EXPECT_TRUE(saved.session.session_id.empty());
  EXPECT_TRUE(saved.session.psk == s.psk);
  EXPECT_EQ(saved.session.age_add, s.age_add);
  EXPECT_EQ(saved.session.lifetime, s.lifetime);
  EXPECT_EQ(saved.session.received, s.received);  // to the millisecond
  EXPECT_EQ(saved.session.alpn, s.alpn);
  EXPECT_EQ(saved.session.max_early_data, s.max_early_data);
}

TEST(TlsSessionFile, Tls12SessionIdRoundTrip) {
  const StoredSession s = tls12_session();
  auto decoded = decode_session_file(encode("127.0.0.1", s), kReceived);
  ASSERT_TRUE(decoded) << decoded.error().message();
  ASSERT_TRUE(decoded->has_value());
  EXPECT_EQ((*decoded)->server_name, "127.0.0.1");
  EXPECT_EQ((*decoded)->session.session_id, s.session_id);
  EXPECT_TRUE((*decoded)->session.ticket.empty());
  EXPECT_TRUE((*decoded)->session.psk == s.psk);
}

TEST(TlsSessionFile, StartsWithMagicAndVersion) {
  const auto file = encode("a.example", tls13_session());
  ASSERT_GE(file.size(), 10u);
  EXPECT_EQ(std::string(file.begin(), file.begin() + 8), "BWSESS\r\n");
  EXPECT_EQ(file[8], 0);
  EXPECT_EQ(file[9], session_file_version);
}

TEST(TlsSessionFile, EveryFlippedByteIsRefused) {
  const auto file = encode("www.example.org", tls13_session());
  for (std::size_t i = 0; i < file.size(); ++i) {
    auto tampered = file;
    tampered[i] ^= 0x01;
    auto decoded = decode_session_file(tampered, kReceived);
    EXPECT_FALSE(decoded) << "byte " << i << " flipped was accepted";
  }
}

TEST(TlsSessionFile, ChecksumMismatchIsNamed) {
  auto file = encode("www.example.org", tls13_session());
  file[20] ^= 0x80;  // inside the body
  auto decoded = decode_session_file(file, kReceived);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code(), Errc::decode_failed);
  EXPECT_NE(decoded.error().detail().find("checksum mismatch"), std::string::npos);
}

TEST(TlsSessionFile, EveryShortFileIsRefused) {
  const auto file = encode("www.example.org", tls12_session());
  for (std::size_t n = 0; n < file.size(); ++n) {
    auto decoded = decode_session_file(std::span(file).first(n), kReceived);
    EXPECT_FALSE(decoded) << "a file cut to " << n << " bytes was accepted";
  }
}

TEST(TlsSessionFile, TrailingBytesAreRefused) {
  auto file = encode("www.example.org", tls12_session());
  file.push_back(0);
  auto decoded = decode_session_file(file, kReceived);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code(), Errc::decode_failed);
}

TEST(TlsSessionFile, UnknownVersionIsRefusedByName) {
  auto file = encode("www.example.org", tls13_session());
  file[9] = 2;
  reseal(file);
  auto decoded = decode_session_file(file, kReceived);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code(), Errc::unsupported);
  EXPECT_NE(decoded.error().detail().find("format version 2"), std::string::npos);
}

TEST(TlsSessionFile, OtherFilesAreNotSessionFiles) {
  const std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  auto decoded = decode_session_file(wire::as_bytes(pem), kReceived);
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.error().detail().find("not a bulwark session file"), std::string::npos);
}

TEST(TlsSessionFile, InconsistentBodyIsRefusedEvenWithAGoodChecksum) {
  // A file whose checksum is right but whose fields contradict each other (as a buggy encoder
  // would write it): a TLS 1.3 session relabelled TLS 1.2.
  auto file = encode("www.example.org", tls13_session());
  // Protocol version field: name<1> "www.example.org" (1 + 15) after magic, version, body len.
  const std::size_t protocol_at = 8 + 2 + 4 + 1 + 15;
  ASSERT_EQ(file[protocol_at], 0x03);
  ASSERT_EQ(file[protocol_at + 1], 0x04);
  file[protocol_at + 1] = 0x03;  // now claims TLS 1.2 with a TLS 1.3 suite
  reseal(file);
  auto decoded = decode_session_file(file, kReceived);
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.error().detail().find("TLS 1.3 suite in a TLS 1.2 session"), std::string::npos)
      << decoded.error().message();
}

TEST(TlsSessionFile, ExpiredSessionIsIgnored) {
  const StoredSession s = tls13_session();  // lifetime 2 h
  const auto file = encode("www.example.org", s);
  auto just_before = decode_session_file(file, kReceived + 2h - 1s);
  ASSERT_TRUE(just_before);
  EXPECT_TRUE(just_before->has_value());
  auto at_expiry = decode_session_file(file, kReceived + 2h);
  ASSERT_TRUE(at_expiry) << at_expiry.error().message();
  EXPECT_FALSE(at_expiry->has_value());
  auto long_after = decode_session_file(file, kReceived + 24h * 365);
  ASSERT_TRUE(long_after);
  EXPECT_FALSE(long_after->has_value());
}

TEST(TlsSessionFile, SessionFromTheFutureIsIgnored) {
  const auto file = encode("www.example.org", tls13_session());
  auto decoded = decode_session_file(file, kReceived - 1h);
  ASSERT_TRUE(decoded);
  EXPECT_FALSE(decoded->has_value());
}

TEST(TlsSessionFile, EncodeRefusesWhatCouldNotBeOffered) {
  StoredSession no_ticket = tls13_session();
  no_ticket.ticket.clear();
  EXPECT_FALSE(encode_session_file("a.example", no_ticket));
  StoredSession short_psk = tls13_session();
  short_psk.psk = crypto::Secret(std::vector<std::uint8_t>(32, 1));  // SHA-384 suite needs 48
  EXPECT_FALSE(encode_session_file("a.example", short_psk));
  // RFC 8446 §4.6.1: at most seven days.
  StoredSession long_life = tls13_session();
  long_life.lifetime = 604801;
  EXPECT_FALSE(encode_session_file("a.example", long_life));
  EXPECT_FALSE(encode_session_file("", tls13_session()));
  EXPECT_FALSE(encode_session_file("bad name", tls13_session()));
  StoredSession nothing = tls12_session();
  nothing.session_id.clear();
  EXPECT_FALSE(encode_session_file("a.example", nothing));
}

}  // namespace
}  // namespace bulwark::tls
