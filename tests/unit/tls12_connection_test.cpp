// In-memory TLS 1.2 client <-> server: every default suite x group x certificate type,
// resumption by session id and by ticket, client authentication, EMS, heartbeat, version
// negotiation with TLS 1.3 peers, and the Heartbleed / Slapper / CRIME / fallback cases.
#include <gtest/gtest.h>

#include <map>

#include "bulwark/tls/connection.hpp"
#include "bulwark/tls/messages.hpp"
#include "bulwark/tls/session.hpp"
#include "support/pki.hpp"
#include "support/tls_pair.hpp"
#include "tls/handshake.hpp"
#include "tls/tls12.hpp"

using namespace bulwark;
using namespace bulwark::tls;
using test::connect;
using test::Pair;
using test::pattern;
using test::pump;
using test::transfer;
using test::why;
using V = std::vector<std::uint8_t>;

namespace {

const test::Pki& pki_for(crypto::KeyType t) {
  static std::map<crypto::KeyType, test::Pki> cache;
  auto it = cache.find(t);
  if (it == cache.end()) {
    test::PkiOptions o;
    o.leaf.key_type = t;
    o.with_intermediate = true;
    it = cache.emplace(t, test::make_pki(o)).first;
  }
  return it->second;
}

const test::Pki& ecdsa() {
  return pki_for(crypto::KeyType::ec_p256);
}

std::shared_ptr<ClientConfig> client12(const test::Pki& pki) {
  auto c = test::client_config(pki);
  c->max_version = ProtocolVersion::tls12;
  return c;
}

}  // namespace

class Tls12Matrix
    : public ::testing::TestWithParam<std::tuple<CipherSuite, NamedGroup, crypto::KeyType>> {};

TEST_P(Tls12Matrix, HandshakeAndData) {
  const auto [suite, group, key] = GetParam();
  const auto& pki = pki_for(key);
  auto c = client12(pki);
  c->cipher_suites = {suite};
  // RFC 8422 §4: an ECDSA certificate's curve must be among the client's groups too; the
  // server's list forces the key exchange group.
  c->groups = {group};
  if (key == crypto::KeyType::ec_p256 && group != NamedGroup::secp256r1) {
    c->groups.push_back(NamedGroup::secp256r1);
  }
  if (key == crypto::KeyType::ec_p384 && group != NamedGroup::secp384r1) {
    c->groups.push_back(NamedGroup::secp384r1);
  }
  auto s = test::server_config(pki);
  s->groups = {group};
  auto p = connect(c, s);
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  ASSERT_TRUE(p.client.handshake_done()) << why(p);
  ASSERT_TRUE(p.server.handshake_done()) << why(p);
  for (const Connection* side : {&p.client, &p.server}) {
    EXPECT_EQ(side->info().version, ProtocolVersion::tls12);
    EXPECT_EQ(side->info().cipher_suite, suite);
    EXPECT_TRUE(side->info().extended_master_secret);
    EXPECT_TRUE(side->info().secure_renegotiation);
  }
  EXPECT_EQ(p.client.info().group, group);
  EXPECT_TRUE(p.client.info().peer_verified);
  EXPECT_EQ(p.client.info().peer_certificates.size(), 2u);
  EXPECT_EQ(transfer(p.client, p.server, pattern(40000)), pattern(40000));
  EXPECT_EQ(transfer(p.server, p.client, pattern(7)), pattern(7));
  // TLS 1.2 has no KeyUpdate.
  EXPECT_FALSE(p.client.update_keys(false));
  ASSERT_TRUE(p.client.close());
  ASSERT_TRUE(pump(p.client, p.server));
  EXPECT_EQ(p.server.state(), State::peer_closed);
}

INSTANTIATE_TEST_SUITE_P(
    Ecdsa, Tls12Matrix,
    ::testing::Combine(
        ::testing::Values(CipherSuite::tls_ecdhe_ecdsa_with_aes_128_gcm_sha256,
                          CipherSuite::tls_ecdhe_ecdsa_with_aes_256_gcm_sha384,
                          CipherSuite::tls_ecdhe_ecdsa_with_chacha20_poly1305_sha256),
        ::testing::Values(NamedGroup::x25519, NamedGroup::secp256r1, NamedGroup::secp384r1),
        ::testing::Values(crypto::KeyType::ec_p256, crypto::KeyType::ec_p384)));
INSTANTIATE_TEST_SUITE_P(
    Rsa, Tls12Matrix,
    ::testing::Combine(::testing::Values(CipherSuite::tls_ecdhe_rsa_with_aes_128_gcm_sha256,
                                         CipherSuite::tls_ecdhe_rsa_with_aes_256_gcm_sha384,
                                         CipherSuite::tls_ecdhe_rsa_with_chacha20_poly1305_sha256),
                       ::testing::Values(NamedGroup::x25519, NamedGroup::secp256r1,
                                         NamedGroup::secp384r1),
                       ::testing::Values(crypto::KeyType::rsa)));

// A TLS 1.3 client and a TLS 1.2-only server agree on TLS 1.2, and vice versa.
TEST(Tls12Connection, VersionNegotiation) {
  {
    auto s = test::server_config(ecdsa());
    s->max_version = ProtocolVersion::tls12;
    auto p = connect(test::client_config(ecdsa()), s);
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    EXPECT_EQ(p.client.info().version, ProtocolVersion::tls12);
  }
  {
    auto p = connect(client12(ecdsa()), test::server_config(ecdsa()));
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    EXPECT_EQ(p.server.info().version, ProtocolVersion::tls12);
  }
  {
    auto p = connect(test::client_config(ecdsa()), test::server_config(ecdsa()));
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    EXPECT_EQ(p.server.info().version, ProtocolVersion::tls13) << "the best common version";
  }
}

// RFC 8446 §4.1.3: a TLS 1.3 server that answers with TLS 1.2 marks its random.
TEST(Tls12Connection, DowngradeSentinelIsWritten) {
  auto p = connect(client12(ecdsa()), test::server_config(ecdsa()));
  auto ch = p.client.pending_output();
  ASSERT_TRUE(p.server.feed(V(ch.begin(), ch.end())));
  auto out = p.server.pending_output();
  // ServerHello: record header 5, handshake header 4, version 2, then the random.
  ASSERT_GT(out.size(), 5u + 4 + 2 + 32);
  const V tail(out.begin() + 5 + 4 + 2 + 24, out.begin() + 5 + 4 + 2 + 32);
  EXPECT_EQ(tail, V(downgrade_tls12_sentinel.begin(), downgrade_tls12_sentinel.end()));
  // A TLS 1.2-only server does not.
  auto s12 = test::server_config(ecdsa());
  s12->max_version = ProtocolVersion::tls12;
  auto q = connect(client12(ecdsa()), s12);
  auto ch2 = q.client.pending_output();
  ASSERT_TRUE(q.server.feed(V(ch2.begin(), ch2.end())));
  auto out2 = q.server.pending_output();
  const V tail2(out2.begin() + 5 + 4 + 2 + 24, out2.begin() + 5 + 4 + 2 + 32);
  EXPECT_NE(tail2, V(downgrade_tls12_sentinel.begin(), downgrade_tls12_sentinel.end()));
}

TEST(Tls12Connection, ResumptionBySessionId) {
  auto c = client12(ecdsa());
  c->sessions = std::make_shared<SessionCache>();
  auto s = test::server_config(ecdsa());
  s->session_cache = std::make_shared<ServerSessionCache>();
  {
    auto p = connect(c, s);
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    EXPECT_FALSE(p.client.info().resumed);
  }
  EXPECT_EQ(s->session_cache->size(), 1u);
  auto p = connect(c, s);
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  ASSERT_TRUE(p.client.handshake_done());
  EXPECT_TRUE(p.client.info().resumed);
  EXPECT_TRUE(p.server.info().resumed);
  EXPECT_EQ(transfer(p.client, p.server, pattern(3000)), pattern(3000));
  EXPECT_EQ(transfer(p.server, p.client, pattern(3000)), pattern(3000));
}

TEST(Tls12Connection, ResumptionByTicket) {
  auto c = client12(ecdsa());
  c->sessions = std::make_shared<SessionCache>();
  auto s = test::server_config(ecdsa());
  s->tickets = TicketKeys::create().value();
  for (int i = 0; i < 3; ++i) {
    auto p = connect(c, s);
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    ASSERT_TRUE(p.client.handshake_done());
    EXPECT_EQ(p.client.info().resumed, i > 0) << i;
    EXPECT_EQ(p.server.info().resumed, i > 0) << i;
    EXPECT_EQ(transfer(p.client, p.server, pattern(100)), pattern(100));
  }
}

TEST(Tls12Connection, ForeignTicketFallsBackToFullHandshake) {
  auto c = client12(ecdsa());
  c->sessions = std::make_shared<SessionCache>();
  auto s1 = test::server_config(ecdsa());
  s1->tickets = TicketKeys::create().value();
  auto s2 = test::server_config(ecdsa());
  s2->tickets = TicketKeys::create().value();
  {
    auto p = connect(c, s1);
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  }
  auto p = connect(c, s2);
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  ASSERT_TRUE(p.client.handshake_done());
  EXPECT_FALSE(p.client.info().resumed);
}

TEST(Tls12Connection, ClientAuthentication) {
  const auto& pki = ecdsa();
  test::LeafOptions lo;
  lo.common_name = "bob";
  lo.dns_names = {};
  lo.usage = crypto::CertificateSpec::Usage::client;
  const auto bob = test::make_leaf(pki.root, lo);
  auto s = test::server_config(pki);
  s->client_auth = ClientAuth::required;
  s->client_trust = pki.trust_store();
  {
    auto c = client12(pki);
    c->certificate = CertifiedKey{{bob.cert}, bob.key};
    auto p = connect(c, s);
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    ASSERT_TRUE(p.server.handshake_done());
    EXPECT_TRUE(p.server.info().peer_verified);
    EXPECT_EQ(p.server.info().peer_certificates.at(0).common_name(), "bob");
  }
  {
    // RFC 5246 §7.4.6: a required certificate not sent is handshake_failure.
    auto p = connect(client12(pki), s);
    EXPECT_FALSE(pump(p.client, p.server));
    ASSERT_NE(p.server.failure(), nullptr);
    EXPECT_EQ(p.server.failure()->alert, AlertDescription::handshake_failure);
    ASSERT_NE(p.client.failure(), nullptr);
    EXPECT_EQ(p.client.failure()->kind, Failure::Kind::received_alert);
  }
}

TEST(Tls12Connection, VerificationFailures) {
  auto other = test::client_config(test::make_pki());
  other->max_version = ProtocolVersion::tls12;
  auto p = connect(other, test::server_config(ecdsa()));
  EXPECT_FALSE(pump(p.client, p.server));
  ASSERT_NE(p.client.failure(), nullptr);
  EXPECT_EQ(p.client.failure()->alert, AlertDescription::unknown_ca);
  EXPECT_EQ(p.server.failure()->alert, AlertDescription::unknown_ca);
}

TEST(Tls12Connection, Heartbeat) {
  auto c = client12(ecdsa());
  auto s = test::server_config(ecdsa());
  c->heartbeat = true;
  s->heartbeat = true;
  auto p = connect(c, s);
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  ASSERT_TRUE(p.client.info().heartbeat);
  const V payload = pattern(100);
  ASSERT_TRUE(p.client.send_heartbeat(payload));
  ASSERT_TRUE(pump(p.client, p.server));
  auto reply = p.client.take_heartbeat_response();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(*reply, payload) << "RFC 6520 §4: the response carries the request's payload";
  EXPECT_FALSE(p.client.take_heartbeat_response());
  // Off unless enabled: without it, nothing is negotiated and nothing can be sent.
  auto q = connect(client12(ecdsa()), test::server_config(ecdsa()));
  ASSERT_TRUE(pump(q.client, q.server));
  EXPECT_FALSE(q.client.info().heartbeat);
  EXPECT_FALSE(q.client.send_heartbeat(payload));
}

// The Heartbleed request (payload_length larger than the message) is discarded silently:
// no answer, no error, no over-read (RFC 6520 §4). Driven on the connection core directly,
// since our own API cannot produce a malformed request.
TEST(Tls12Connection, HeartbleedRequestIsDiscarded) {
  auto cfg = std::make_shared<Config>();
  Connection::Impl impl(Role::server, cfg);
  impl.state = State::established;
  impl.tls12 = true;
  impl.heartbeat_peer_may_send = true;
  // type request, payload_length 0x4000 (16 KiB), one byte of payload, 16 of padding.
  V bleed = {1, 0x40, 0x00, 'x'};
  bleed.resize(bleed.size() + 16, 0);
  ASSERT_TRUE(impl.on_heartbeat(bleed));
  EXPECT_TRUE(impl.out.empty()) << "nothing may be sent back";
  // A well-formed request is answered with exactly its payload.
  V ok = {1, 0x00, 0x03, 'a', 'b', 'c'};
  ok.resize(ok.size() + 16, 0);
  ASSERT_TRUE(impl.on_heartbeat(ok));
  ASSERT_EQ(impl.out.size(), 5u + 3 + 3 + 16);
  EXPECT_EQ(impl.out[0], 24);  // heartbeat record
  EXPECT_EQ(impl.out[5], 2);   // heartbeat_response
  EXPECT_EQ(V(impl.out.begin() + 8, impl.out.begin() + 11), (V{'a', 'b', 'c'}));
  // Not negotiated: a request is unexpected_message (RFC 6520 §2).
  impl.heartbeat_peer_may_send = false;
  auto s = impl.on_heartbeat(ok);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::unexpected_message);
}

TEST(Tls12Connection, HeartbeatRequestsAreRateLimited) {
  auto cfg = std::make_shared<Config>();
  cfg->limits.max_heartbeats_per_minute = 3;
  Connection::Impl impl(Role::server, cfg);
  impl.state = State::established;
  impl.tls12 = true;
  impl.heartbeat_peer_may_send = true;
  V req = {1, 0x00, 0x01, 'z'};
  req.resize(req.size() + 16, 0);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(impl.on_heartbeat(req));
  EXPECT_EQ(impl.out.size(), 3u * (5 + 3 + 1 + 16));
}

// --- the seeds' attacks and malformed TLS 1.2 input ----------------------------------------

namespace {

std::optional<AlertDescription> server_alert_for(const V& bytes) {
  auto s = Connection::server(test::server_config(ecdsa())).value();
  if (s.feed(bytes)) return std::nullopt;
  return s.failure()->alert;
}

}  // namespace

// SSLv2-format hellos (what the Slapper worm spoke) are not TLS records: refused cleanly.
TEST(Tls12Attacks, Sslv2HelloIsRefused) {
  // SSLv2 CLIENT-HELLO: 2-byte header with the high bit set, msg type 1, version 0x0002.
  const V sslv2_hello = {0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10, 0x07,
                         0x00, 0xc0, 0x05, 0x00, 0x80, 0x03, 0x00, 0x80, 0x01, 0x00, 0x80, 0x06,
                         0x00, 0x40, 0x04, 0x00, 0x80, 0x02, 0x00, 0x80, 0x01, 0x02, 0x03, 0x04,
                         0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};
  EXPECT_EQ(server_alert_for(sslv2_hello), AlertDescription::unexpected_message);
  // SSLv2 CLIENT-MASTER-KEY with the overlong key_arg of the Slapper exploit (key_arg_length
  // 0x40 instead of at most 8): never parsed, no overflow, an alert.
  V cmk = {0x81, 0x50, 0x02, 0x07, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x80, 0x00, 0x40};
  cmk.resize(0x150 + 2, 0x41);
  EXPECT_EQ(server_alert_for(cmk), AlertDescription::unexpected_message);
}

// An SSLv3 ClientHello (record and hello version 0x0300) gets protocol_version.
TEST(Tls12Attacks, Sslv3HelloIsProtocolVersion) {
  ClientHello ch;
  ch.legacy_version = ProtocolVersion::ssl3;
  ch.random.fill(7);
  const CipherSuite suites[] = {CipherSuite::tls_rsa_with_aes_128_cbc_sha};
  const std::uint8_t null_compression[] = {0};
  ch.cipher_suites = ValueList<CipherSuite>(suites);
  ch.legacy_compression_methods = ValueList<std::uint8_t>(null_compression);
  ch.has_extensions = false;
  wire::Writer w;
  write_handshake(w, ch);
  const V msg = w.take();
  V rec = {22, 3, 0, static_cast<std::uint8_t>(msg.size() >> 8),
           static_cast<std::uint8_t>(msg.size())};
  rec.insert(rec.end(), msg.begin(), msg.end());
  EXPECT_EQ(server_alert_for(rec), AlertDescription::protocol_version);
}

namespace {

// Runs a TLS 1.2 client up to the point where its second flight (ClientKeyExchange, CCS,
// Finished) is in its output; the server has not seen it yet.
struct SecondFlight {
  Connection client;
  Connection server;
  V flight;
  V client_random;
  V master;
  V server_random;
};

SecondFlight second_flight() {
  auto c = client12(ecdsa());
  std::vector<std::pair<V, V>> keys;  // client_random, master
  c->key_log = [&keys](std::string_view label, wire::Bytes random, wire::Bytes secret) {
    if (label == "CLIENT_RANDOM")
      keys.emplace_back(V(random.begin(), random.end()), V(secret.begin(), secret.end()));
  };
  auto p = connect(c, test::server_config(ecdsa()));
  auto ch = p.client.pending_output();
  const V chv(ch.begin(), ch.end());
  p.client.consume_output(chv.size());
  EXPECT_TRUE(p.server.feed(chv));
  auto sf = p.server.pending_output();
  const V sfv(sf.begin(), sf.end());
  p.server.consume_output(sfv.size());
  EXPECT_TRUE(p.client.feed(sfv));
  auto out = p.client.pending_output();
  SecondFlight r{std::move(p.client), std::move(p.server), V(out.begin(), out.end()), {}, {}, {}};
  EXPECT_EQ(keys.size(), 1u);
  if (!keys.empty()) {
    r.client_random = keys[0].first;
    r.master = keys[0].second;
  }
  // ServerHello: record header 5, handshake header 4, version 2, random 32.
  r.server_random.assign(sfv.begin() + 11, sfv.begin() + 43);
  return r;
}

// The offset of the n-th record in `bytes`.
std::size_t record_offset(const V& bytes, int n) {
  std::size_t at = 0;
  for (int i = 0; i < n; ++i)
    at += 5 + ((bytes[at + 3] << 8) | bytes[at + 4]);
  return at;
}

}  // namespace

// A flipped bit in a protected record: bad_record_mac (RFC 5246 §6.2.3.3).
TEST(Tls12Attacks, TamperedRecordIsBadRecordMac) {
  auto f = second_flight();
  V bad = f.flight;
  const std::size_t fin = record_offset(bad, 2);  // CKE, CCS, then the Finished record
  bad[fin + 5 + 10] ^= 0x20;
  ASSERT_FALSE(f.server.feed(bad));
  EXPECT_EQ(f.server.failure()->alert, AlertDescription::bad_record_mac);
}

// A Finished that decrypts but does not verify: decrypt_error (RFC 5246 §7.4.9).
TEST(Tls12Attacks, WrongFinishedIsDecryptError) {
  auto f = second_flight();
  const CipherSuiteInfo& suite =
      *find_cipher_suite(CipherSuite::tls_ecdhe_ecdsa_with_aes_128_gcm_sha256);
  auto open = key_block12(suite, f.master, f.client_random, f.server_random).value();
  auto seal = key_block12(suite, f.master, f.client_random, f.server_random).value();
  V flight = f.flight;
  const std::size_t fin = record_offset(flight, 2);
  wire::MutableBytes rec(flight.data() + fin, flight.size() - fin);
  auto text = open.client_write.open(rec);
  ASSERT_TRUE(text) << "our keys reproduce the client's";
  ASSERT_EQ(text->size(), 16u);  // Finished header + 12 bytes of verify_data
  (*text)[10] ^= 0x01;           // a wrong verify_data, correctly protected
  ASSERT_TRUE(seal.client_write.seal(rec, 16));
  ASSERT_FALSE(f.server.feed(flight));
  EXPECT_EQ(f.server.failure()->alert, AlertDescription::decrypt_error);
}

// The overlong-key shape in TLS 1.2: a ClientKeyExchange whose point length claims more than
// the message holds is decode_error, never a read past the end.
TEST(Tls12Attacks, OverlongClientKeyExchangeIsDecodeError) {
  auto f = second_flight();
  V bad = f.flight;
  // The first record is the ClientKeyExchange: handshake header, then the point's length byte.
  ASSERT_EQ(bad[5], 16);
  bad[5 + 4] = 0xff;  // the point claims 255 bytes; the message has 32
  ASSERT_FALSE(f.server.feed(bad));
  EXPECT_EQ(f.server.failure()->alert, AlertDescription::decode_error);
}

// The THC renegotiation flood: every attempt is refused with a warning, and a client that
// keeps trying is cut off instead of costing us handshakes.
TEST(Tls12Attacks, RenegotiationFloodIsCutOff) {
  auto cfg = std::make_shared<Config>();
  Connection::Impl impl(Role::server, cfg);
  impl.state = State::established;
  impl.tls12 = true;
  const V body;
  const V message = {1, 0, 0, 0};
  const HandshakeMessage hello{HandshakeType::client_hello, body, message};
  for (std::size_t i = 0; i < cfg->limits.max_renegotiation_attempts; ++i) {
    ASSERT_TRUE(impl.refuse_renegotiation(hello)) << i;
    // A warning alert: level 1, no_renegotiation (100).
    ASSERT_GE(impl.out.size(), 7u);
    EXPECT_EQ(impl.out[impl.out.size() - 2], 1);
    EXPECT_EQ(impl.out[impl.out.size() - 1], 100);
  }
  auto s = impl.refuse_renegotiation(hello);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::limit_exceeded);
  // Anything else after the handshake is unexpected.
  const HandshakeMessage other{HandshakeType::server_hello_done, body, message};
  EXPECT_EQ(impl.refuse_renegotiation(other).error(), Errc::unexpected_message);
}

// RFC 8422 §4: a TLS 1.2 client that lists only x25519 cannot be served with a P-256
// certificate; with P-256 listed too, it can (and x25519 is still the key exchange).
TEST(Tls12Connection, EcdsaCertificateCurveMustBeAmongTheClientsGroups) {
  auto c = client12(ecdsa());
  c->groups = {NamedGroup::x25519};
  auto p = connect(c, test::server_config(ecdsa()));
  EXPECT_FALSE(pump(p.client, p.server));
  ASSERT_NE(p.server.failure(), nullptr);
  EXPECT_EQ(p.server.failure()->alert, AlertDescription::handshake_failure);
  c->groups = {NamedGroup::x25519, NamedGroup::secp256r1};
  auto q = connect(c, test::server_config(ecdsa()));
  ASSERT_TRUE(pump(q.client, q.server)) << why(q);
  EXPECT_EQ(q.client.info().group, NamedGroup::x25519);
}
