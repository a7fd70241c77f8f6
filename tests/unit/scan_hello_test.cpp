// Probe hellos: what HelloBuilder writes decodes with the engine's own ClientHello codec, and
// the SSL 2.0 CLIENT-HELLO and heartbeat probe have their exact layouts.
#include <gtest/gtest.h>

#include "bulwark/scan/hello.hpp"
#include "bulwark/tls/messages.hpp"

namespace bulwark::scan {
namespace {

std::array<std::uint8_t, 32> test_random() {
  std::array<std::uint8_t, 32> r{};
  for (std::size_t i = 0; i < r.size(); ++i)
    r[i] = static_cast<std::uint8_t>(i);
  return r;
}

TEST(ScanHello, Tls12HelloDecodesWithTheEngineCodec) {
  HelloBuilder h;
  h.legacy_version = 0x0303;
  h.suites = {0xc02f, 0x0004, 0x000a};
  h.compression_methods = {1, 0};
  h.server_name = "example.org";
  h.groups = {0x001d, 0x0017};
  h.ec_point_formats = true;
  h.signature_schemes = {0x0401, 0x0201};
  h.heartbeat = true;
  h.renegotiation_info = true;
  h.extended_master_secret = true;
  h.session_ticket = true;
  h.status_request = true;
  h.alpn = {"h2", "http/1.1"};
  auto rec = h.record(test_random());
  ASSERT_TRUE(rec) << rec.error().message();
  // Record header: handshake, TLS 1.0 record version, the message length.
  ASSERT_GT(rec->size(), 9u);
  EXPECT_EQ((*rec)[0], 22);
  EXPECT_EQ((*rec)[1], 0x03);
  EXPECT_EQ((*rec)[2], 0x01);
  EXPECT_EQ(static_cast<std::size_t>((*rec)[3] << 8 | (*rec)[4]), rec->size() - 5);

  wire::Reader r(wire::Bytes(*rec).subspan(5 + 4));
  auto ch = tls::ClientHello::decode(r);
  ASSERT_TRUE(ch) << ch.error().message();
  EXPECT_EQ(ch->legacy_version, tls::ProtocolVersion::tls12);
  ASSERT_EQ(ch->cipher_suites.size(), 3u);
  EXPECT_EQ(static_cast<std::uint16_t>(ch->cipher_suites[1]), 0x0004);
  ASSERT_EQ(ch->legacy_compression_methods.size(), 2u);
  EXPECT_EQ(ch->legacy_compression_methods[0], 1);
  using E = tls::ExtensionType;
  for (E e : {E::server_name, E::supported_groups, E::ec_point_formats, E::signature_algorithms,
              E::heartbeat, E::renegotiation_info, E::extended_master_secret, E::session_ticket,
              E::status_request, E::application_layer_protocol_negotiation})
    EXPECT_TRUE(ch->extensions.contains(e)) << tls::name(e);
  EXPECT_FALSE(ch->extensions.contains(E::supported_versions));
}

// `h`'s message for test_random(), kept in `msg`, decoded with the engine's codec (the result
// points into `msg`).
Result<tls::ClientHello> build_and_decode(const HelloBuilder& h, std::vector<std::uint8_t>& msg) {
  BW_ASSIGN(msg, h.message(test_random()));
  wire::Reader r(wire::Bytes(msg).subspan(4));
  return tls::ClientHello::decode(r);
}

TEST(ScanHello, RenegotiationHelloCarriesClientVerifyData) {
  // RFC 5746 §3.5: renegotiated_connection is the client_verify_data of the last handshake.
  HelloBuilder h;
  h.suites = {0xc02f};
  h.renegotiation_info = true;
  h.renegotiated_connection = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  std::vector<std::uint8_t> msg;
  auto ch = build_and_decode(h, msg);
  ASSERT_TRUE(ch) << ch.error().message();
  auto ri = ch->extensions.get<tls::RenegotiationInfo>();
  ASSERT_TRUE(ri && *ri);
  EXPECT_EQ(std::vector<std::uint8_t>((*ri)->renegotiated_connection.begin(),
                                      (*ri)->renegotiated_connection.end()),
            h.renegotiated_connection);
  // A first hello's extension is empty.
  h.renegotiated_connection.clear();
  ch = build_and_decode(h, msg);
  ASSERT_TRUE(ch);
  ri = ch->extensions.get<tls::RenegotiationInfo>();
  ASSERT_TRUE(ri && *ri);
  EXPECT_TRUE((*ri)->renegotiated_connection.empty());
}

TEST(ScanHello, Tls13HelloWithoutSharesSendsAnEmptyKeyShare) {
  // RFC 8446 §9.2: supported_groups comes with key_share; an empty one asks for a
  // HelloRetryRequest naming the server's group (the group enumeration relies on it).
  HelloBuilder h;
  h.suites = {0x1301};
  h.supported_versions = {0x0304};
  h.groups = {0x0017};
  std::vector<std::uint8_t> msg;
  auto ch = build_and_decode(h, msg);
  ASSERT_TRUE(ch) << ch.error().message();
  auto ks = ch->extensions.get<tls::KeyShareClientHello>();
  ASSERT_TRUE(ks && *ks) << "no key_share";
  EXPECT_EQ((*ks)->client_shares.size(), 0u);
  // Before TLS 1.3 no key_share is sent.
  h.supported_versions.clear();
  ch = build_and_decode(h, msg);
  ASSERT_TRUE(ch);
  EXPECT_FALSE(ch->extensions.contains(tls::ExtensionType::key_share));
}

TEST(ScanHello, Tls13HelloCarriesVersionsAndKeyShare) {
  HelloBuilder h;
  h.suites = {0x1301, 0x1302};
  h.supported_versions = {0x0304};
  h.groups = {0x001d};
  h.signature_schemes = {0x0804};
  h.key_shares.emplace_back(0x001d, std::vector<std::uint8_t>(32, 9));
  h.psk_key_exchange_modes = true;
  auto msg = h.message(test_random());
  ASSERT_TRUE(msg);
  wire::Reader r(wire::Bytes(*msg).subspan(4));
  auto ch = tls::ClientHello::decode(r);
  ASSERT_TRUE(ch) << ch.error().message();
  auto sv = ch->extensions.find(tls::ExtensionType::supported_versions);
  ASSERT_TRUE(sv);
  ASSERT_EQ(sv->size(), 3u);
  EXPECT_EQ((*sv)[0], 2);
  EXPECT_EQ((*sv)[1], 0x03);
  EXPECT_EQ((*sv)[2], 0x04);
  EXPECT_TRUE(ch->extensions.contains(tls::ExtensionType::key_share));
}

TEST(ScanHello, Ssl3HelloHasNoExtensionsBlock) {
  HelloBuilder h;
  h.record_version = 0x0300;
  h.legacy_version = 0x0300;
  h.suites = {0x0004, 0x00ff};
  h.extensions = false;
  h.server_name = "ignored.example";  // no block, so no SNI either
  auto msg = h.message(test_random());
  ASSERT_TRUE(msg);
  // type(1) len(3) version(2) random(32) sid(1) suites(2+4) compression(1+1): nothing after.
  EXPECT_EQ(msg->size(), 4u + 2 + 32 + 1 + 2 + 4 + 1 + 1);
}

TEST(ScanHello, EmptySuiteListIsRefused) {
  HelloBuilder h;
  h.suites = {};
  // RFC 5246 §7.4.1.2: cipher_suites<2..2^16-2>.
  auto msg = h.message(test_random());
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().code(), Errc::length_overflow);
}

TEST(ScanHello, Sslv2ClientHelloLayout) {
  const std::vector<std::uint32_t> ciphers = {0x010080, 0x0700c0};
  std::vector<std::uint8_t> challenge(16, 0xaa);
  auto rec = sslv2_client_hello(ciphers, challenge);
  ASSERT_TRUE(rec);
  const std::vector<std::uint8_t> expected_head = {0x80, 0x1f,  // 2-byte header: 31 bytes follow
                                                   0x01,        // MSG-CLIENT-HELLO
                                                   0x00, 0x02,  // SSL 2.0
                                                   0x00, 0x06,  // cipher specs length
                                                   0x00, 0x00,  // session id length
                                                   0x00, 0x10,  // challenge length
                                                   0x01, 0x00, 0x80, 0x07, 0x00, 0xc0};
  ASSERT_EQ(rec->size(), expected_head.size() + 16);
  EXPECT_TRUE(std::equal(expected_head.begin(), expected_head.end(), rec->begin()));
  EXPECT_FALSE(sslv2_client_hello(ciphers, wire::Bytes(challenge).first(8)));
  EXPECT_FALSE(sslv2_client_hello({}, challenge));
}

TEST(ScanHello, HeartbeatProbeClaimsMoreThanItCarries) {
  const std::uint8_t payload[] = {0x42};
  const auto rec = heartbeat_request_record(0x0303, 0x4000, payload);
  // header(5) + type(1) + payload_length(2) + payload(1) + padding(16)
  ASSERT_EQ(rec.size(), 5u + 1 + 2 + 1 + 16);
  EXPECT_EQ(rec[0], 24);
  EXPECT_EQ(rec[5], 1);  // heartbeat_request
  EXPECT_EQ(rec[6], 0x40);
  EXPECT_EQ(rec[7], 0x00);
  EXPECT_EQ(static_cast<std::size_t>(rec[3] << 8 | rec[4]), rec.size() - 5);
}

}  // namespace
}  // namespace bulwark::scan
