// The probe reply parser: complete flights, any fragmentation, alerts, HelloRetryRequest,
// SSL 2.0 replies, garbage and bounds; ServerKeyExchange parameters.
#include <gtest/gtest.h>

#include "bulwark/scan/hello.hpp"
#include "bulwark/scan/reply.hpp"

namespace bulwark::scan {
namespace {

std::vector<std::uint8_t> server_hello(
    std::uint16_t version, std::uint16_t suite,
    std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>> exts,
    const std::array<std::uint8_t, 32>* random = nullptr) {
  wire::Writer w;
  w.u8(2);
  {
    auto body = w.prefixed<3>();
    w.u16(version);
    for (int i = 0; i < 32; ++i)
      w.u8(random ? (*random)[i] : static_cast<std::uint8_t>(i));
    w.prefixed_bytes<1>(std::vector<std::uint8_t>(32, 7));
    w.u16(suite);
    w.u8(0);
    if (!exts.empty()) {
      auto block = w.prefixed<2>();
      for (auto& [t, d] : exts) {
        w.u16(t);
        w.prefixed_bytes<2>(d);
      }
    }
  }
  return w.take();
}

std::vector<std::uint8_t> certificate_msg(const std::vector<std::vector<std::uint8_t>>& certs) {
  wire::Writer w;
  w.u8(11);
  auto body = w.prefixed<3>();
  {
    auto list = w.prefixed<3>();
    for (const auto& c : certs)
      w.prefixed_bytes<3>(c);
  }
  (void)body.close();
  return w.take();
}

std::vector<std::uint8_t> concat(std::initializer_list<std::vector<std::uint8_t>> parts) {
  std::vector<std::uint8_t> out;
  for (const auto& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

const std::vector<std::uint8_t> server_hello_done = {14, 0, 0, 0};

std::vector<std::uint8_t> tls12_flight() {
  const auto hs = concat({server_hello(0x0303, 0xc02f, {{0xff01, {0}}, {23, {}}, {15, {1}}}),
                          certificate_msg({{1, 2, 3}, {4, 5}}), server_hello_done});
  return plaintext_record(22, 0x0303, hs);
}

TEST(ScanReply, CompleteTls12FlightInOneRead) {
  ReplyParser p;
  ASSERT_TRUE(p.feed(tls12_flight()));
  ASSERT_TRUE(p.done());
  const ServerReply& r = p.reply();
  ASSERT_TRUE(r.hello);
  EXPECT_EQ(r.hello->version, 0x0303);
  EXPECT_EQ(r.hello->cipher_suite, 0xc02f);
  EXPECT_TRUE(r.hello->has(0xff01));
  EXPECT_TRUE(r.hello->has(23));
  EXPECT_TRUE(r.hello->has(15));
  EXPECT_FALSE(r.hello->hello_retry);
  ASSERT_EQ(r.certificates.size(), 2u);
  EXPECT_EQ(r.certificates[1], (std::vector<std::uint8_t>{4, 5}));
  EXPECT_TRUE(r.server_hello_done);
  EXPECT_FALSE(r.alert);
}

TEST(ScanReply, ByteByByteGivesTheSameResult) {
  // Messages split across records and records split across reads.
  const auto sh = server_hello(0x0301, 0x002f, {});
  const auto cert = certificate_msg({{9, 9, 9}});
  const auto hs = concat({sh, cert, server_hello_done});
  const auto stream = concat({plaintext_record(22, 0x0301, wire::Bytes(hs).first(10)),
                              plaintext_record(22, 0x0301, wire::Bytes(hs).subspan(10))});
  ReplyParser p;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    EXPECT_FALSE(p.done()) << i;
    ASSERT_TRUE(p.feed(wire::Bytes(stream).subspan(i, 1))) << i;
  }
  ASSERT_TRUE(p.done());
  EXPECT_EQ(p.reply().hello->version, 0x0301);
  ASSERT_EQ(p.reply().certificates.size(), 1u);
  EXPECT_TRUE(p.reply().server_hello_done);
}

TEST(ScanReply, FatalAlertEndsTheReply) {
  const std::uint8_t alert[] = {2, 70};  // protocol_version
  ReplyParser p;
  ASSERT_TRUE(p.feed(plaintext_record(21, 0x0303, alert)));
  ASSERT_TRUE(p.done());
  ASSERT_TRUE(p.reply().alert);
  EXPECT_EQ(p.reply().alert->second, 70);
  EXPECT_FALSE(p.reply().hello);
}

TEST(ScanReply, WarningAlertBeforeServerHelloIsNotTheEnd) {
  const std::uint8_t warning[] = {1, 112};  // unrecognized_name
  ReplyParser p;
  ASSERT_TRUE(p.feed(plaintext_record(21, 0x0303, warning)));
  EXPECT_FALSE(p.done());
  ASSERT_TRUE(p.feed(tls12_flight()));
  EXPECT_TRUE(p.done());
  EXPECT_TRUE(p.reply().hello);
}

TEST(ScanReply, Tls13ServerHelloIsEnough) {
  const auto sh = server_hello(0x0303, 0x1301, {{43, {0x03, 0x04}}, {51, {0x00, 0x1d, 0, 1, 5}}});
  ReplyParser p;
  ASSERT_TRUE(p.feed(plaintext_record(22, 0x0303, sh)));
  ASSERT_TRUE(p.done());
  EXPECT_EQ(p.reply().hello->legacy_version, 0x0303);
  EXPECT_EQ(p.reply().hello->version, 0x0304);
}

TEST(ScanReply, HelloRetryRequestIsRecognised) {
  // RFC 8446 §4.1.3: the HelloRetryRequest's fixed random.
  const std::array<std::uint8_t, 32> hrr = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
                                            0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
                                            0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
                                            0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
  const auto sh = server_hello(0x0303, 0x1301, {{43, {0x03, 0x04}}, {51, {0x00, 0x17}}}, &hrr);
  ReplyParser p;
  ASSERT_TRUE(p.feed(plaintext_record(22, 0x0303, sh)));
  ASSERT_TRUE(p.done());
  EXPECT_TRUE(p.reply().hello->hello_retry);
  EXPECT_EQ(p.reply().hello->version, 0x0304);
}

TEST(ScanReply, ChangeCipherSpecAfterServerHelloEndsTheFlight) {
  // A resumed TLS 1.2 session: ServerHello then ChangeCipherSpec.
  const std::uint8_t ccs[] = {1};
  const auto stream = concat({plaintext_record(22, 0x0303, server_hello(0x0303, 0xc02f, {})),
                              plaintext_record(20, 0x0303, ccs)});
  ReplyParser p;
  ASSERT_TRUE(p.feed(stream));
  EXPECT_TRUE(p.done());
  EXPECT_FALSE(p.reply().server_hello_done);
}

TEST(ScanReply, NotTlsIsRefused) {
  ReplyParser p;
  auto s = p.feed(wire::as_bytes("HTTP/1.1 400 Bad Request\r\n\r\n"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::decode_failed);
  // Sticky.
  EXPECT_FALSE(p.feed(tls12_flight()));
}

TEST(ScanReply, BoundsAreEnforced) {
  {
    // RFC 5246 §7.4.1.3: session_id<0..32>.
    wire::Writer w;
    w.u8(2);
    auto body = w.prefixed<3>();
    w.u16(0x0303);
    w.bytes(std::vector<std::uint8_t>(32, 0));
    w.prefixed_bytes<1>(std::vector<std::uint8_t>(33, 1));
    w.u16(0x002f);
    w.u8(0);
    (void)body.close();
    ReplyParser p;
    auto s = p.feed(plaintext_record(22, 0x0303, w.data()));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), Errc::length_overflow);
  }
  {
    // A record longer than RFC 5246 §6.2.3 allows.
    const std::uint8_t header[] = {22, 3, 3, 0x48, 0x01};
    ReplyParser p;
    auto s = p.feed(header);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), Errc::record_overflow);
  }
  {
    // The total byte limit.
    ReplyParser p(16);
    auto s = p.feed(tls12_flight());
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), Errc::limit_exceeded);
  }
  {
    // Duplicate extension (RFC 5246 §7.4.1.4).
    ReplyParser p;
    auto s =
        p.feed(plaintext_record(22, 0x0303, server_hello(0x0303, 0xc02f, {{23, {}}, {23, {}}})));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), Errc::illegal_parameter);
  }
  {
    // A Certificate before the ServerHello.
    ReplyParser p;
    auto s = p.feed(plaintext_record(22, 0x0303, certificate_msg({{1}})));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), Errc::unexpected_message);
  }
}

TEST(ScanReply, Sslv2ServerHello) {
  wire::Writer m;
  m.u8(4);  // SERVER-HELLO
  m.u8(0);
  m.u8(1);
  m.u16(0x0002);
  m.u16(3);  // certificate length
  m.u16(6);  // cipher specs length
  m.u16(16);
  m.bytes(std::vector<std::uint8_t>{0x30, 0x01, 0x00});
  m.u24(0x010080);
  m.u24(0x0700c0);
  m.bytes(std::vector<std::uint8_t>(16, 3));
  wire::Writer rec;
  rec.u16(static_cast<std::uint16_t>(0x8000 | m.size()));
  rec.bytes(m.data());
  ReplyParser p(256 * 1024, /*sslv2=*/true);
  ASSERT_TRUE(p.feed(wire::Bytes(rec.data()).first(7)));
  EXPECT_FALSE(p.done());
  ASSERT_TRUE(p.feed(wire::Bytes(rec.data()).subspan(7)));
  ASSERT_TRUE(p.done());
  ASSERT_TRUE(p.reply().sslv2);
  EXPECT_EQ(p.reply().sslv2->ciphers, (std::vector<std::uint32_t>{0x010080, 0x0700c0}));
  EXPECT_EQ(p.reply().sslv2->certificate.size(), 3u);
}

TEST(ScanReply, Sslv2ProbeAnsweredWithTlsAlert) {
  const std::uint8_t alert[] = {2, 40};
  ReplyParser p(256 * 1024, /*sslv2=*/true);
  ASSERT_TRUE(p.feed(plaintext_record(21, 0x0301, alert)));
  ASSERT_TRUE(p.done());
  EXPECT_FALSE(p.reply().sslv2);
  EXPECT_TRUE(p.reply().alert);
}

TEST(ScanReply, KeyExchangeParameters) {
  {
    wire::Writer w;
    std::vector<std::uint8_t> prime(128, 0xff);  // 1024 bits
    w.prefixed_bytes<2>(prime);
    w.prefixed_bytes<2>(std::vector<std::uint8_t>{2});
    w.prefixed_bytes<2>(std::vector<std::uint8_t>(128, 5));
    w.u16(0x0401);
    w.prefixed_bytes<2>(std::vector<std::uint8_t>(8, 0));
    auto p = parse_key_exchange(w.data(), KeyExchangeParams::Kind::dhe);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->dh_prime_bits, 1024u);
  }
  {
    const std::uint8_t ecdhe[] = {3, 0x00, 0x1d, 2, 9, 9};
    auto p = parse_key_exchange(ecdhe, KeyExchangeParams::Kind::ecdhe);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->group, 0x001d);
    const std::uint8_t explicit_curve[] = {1, 0, 0};
    EXPECT_FALSE(parse_key_exchange(explicit_curve, KeyExchangeParams::Kind::ecdhe));
  }
  {
    wire::Writer w;
    std::vector<std::uint8_t> modulus(64, 0);
    modulus[0] = 0x80;  // 512 bits
    w.prefixed_bytes<2>(modulus);
    w.prefixed_bytes<2>(std::vector<std::uint8_t>{1, 0, 1});
    auto p = parse_key_exchange(w.data(), KeyExchangeParams::Kind::rsa);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->rsa_modulus_bits, 512u);
  }
  const std::uint8_t truncated[] = {0x01, 0x00, 0xff};
  EXPECT_FALSE(parse_key_exchange(truncated, KeyExchangeParams::Kind::dhe));
  const std::uint8_t n[] = {0, 0, 0x01, 0xff};
  EXPECT_EQ(bit_length(n), 9u);
  EXPECT_EQ(bit_length({}), 0u);
}

}  // namespace
}  // namespace bulwark::scan
