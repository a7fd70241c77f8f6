// In-memory TLS 1.3 client <-> server: every suite x group x signature scheme, HRR,
// resumption, client authentication, ALPN, KeyUpdate, closure, and the failures.
#include <gtest/gtest.h>

#include <malloc.h>

#include <array>
#include <map>
#include <numeric>

#include "bulwark/crypto/hkdf.hpp"
#include "bulwark/tls/cipher_suites.hpp"
#include "bulwark/tls/connection.hpp"
#include "bulwark/tls/record.hpp"
#include "bulwark/tls/session.hpp"
#include "support/pki.hpp"
#include "support/tls_pair.hpp"

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

const test::Pki& ecdsa_pki() {
  static const test::Pki pki = test::make_pki({.with_intermediate = true});
  return pki;
}

}  // namespace

TEST(TlsConnection, DefaultHandshakeAndData) {
  auto p = connect(test::client_config(ecdsa_pki()), test::server_config(ecdsa_pki()));
  ASSERT_TRUE(pump(p.client, p.server))
      << (p.client.failure() ? p.client.failure()->error.message()
                             : p.server.failure()->error.message());
  ASSERT_TRUE(p.client.handshake_done());
  ASSERT_TRUE(p.server.handshake_done());
  EXPECT_EQ(p.client.info().version, ProtocolVersion::tls13);
  EXPECT_EQ(p.client.info().cipher_suite, CipherSuite::tls_aes_128_gcm_sha256);
  EXPECT_EQ(p.client.info().group, NamedGroup::x25519);
  EXPECT_TRUE(p.client.info().peer_verified);
  EXPECT_EQ(p.client.info().peer_certificates.size(), 2u);
  EXPECT_EQ(p.server.info().server_name, "leaf.example.com");
  EXPECT_EQ(transfer(p.client, p.server, pattern(100)), pattern(100));
  EXPECT_EQ(transfer(p.server, p.client, pattern(70000)), pattern(70000));
}

namespace {

struct KeyCase {
  crypto::KeyType type;
  SignatureScheme expect;
};

const test::Pki& pki_for(crypto::KeyType t) {
  static std::map<crypto::KeyType, test::Pki> cache;
  auto it = cache.find(t);
  if (it == cache.end()) {
    test::PkiOptions o;
    o.leaf.key_type = t;
    it = cache.emplace(t, test::make_pki(o)).first;
  }
  return it->second;
}

}  // namespace

// Every suite x group x signature scheme completes and carries data both ways.
class TlsMatrix : public ::testing::TestWithParam<std::tuple<CipherSuite, NamedGroup, KeyCase>> {};

TEST_P(TlsMatrix, HandshakeAndData) {
  const auto [suite, group, key] = GetParam();
  const auto& pki = pki_for(key.type);
  auto c = test::client_config(pki);
  auto s = test::server_config(pki);
  c->cipher_suites = {suite};
  c->groups = {group};
  auto p = connect(c, s);
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  ASSERT_TRUE(p.client.handshake_done()) << why(p);
  EXPECT_EQ(p.client.info().cipher_suite, suite);
  EXPECT_EQ(p.server.info().cipher_suite, suite);
  EXPECT_EQ(p.client.info().group, group);
  EXPECT_EQ(p.client.info().peer_signature_scheme, key.expect);
  EXPECT_FALSE(p.client.info().hello_retry);
  EXPECT_EQ(transfer(p.client, p.server, pattern(20000)), pattern(20000));
  EXPECT_EQ(transfer(p.server, p.client, pattern(3)), pattern(3));
}

INSTANTIATE_TEST_SUITE_P(
    All, TlsMatrix,
    ::testing::Combine(
        ::testing::Values(CipherSuite::tls_aes_128_gcm_sha256, CipherSuite::tls_aes_256_gcm_sha384,
                          CipherSuite::tls_chacha20_poly1305_sha256),
        ::testing::Values(NamedGroup::x25519, NamedGroup::secp256r1, NamedGroup::secp384r1),
        ::testing::Values(
            KeyCase{crypto::KeyType::ec_p256, SignatureScheme::ecdsa_secp256r1_sha256},
            KeyCase{crypto::KeyType::ec_p384, SignatureScheme::ecdsa_secp384r1_sha384},
            KeyCase{crypto::KeyType::rsa, SignatureScheme::rsa_pss_rsae_sha256},
            KeyCase{crypto::KeyType::ed25519, SignatureScheme::ed25519})));

// RFC 8446 §4.1.4: the server asks for another group with a HelloRetryRequest.
TEST(TlsConnection, HelloRetryRequestForAnotherGroup) {
  auto c = test::client_config(ecdsa_pki());
  auto s = test::server_config(ecdsa_pki());
  c->groups = {NamedGroup::x25519, NamedGroup::secp384r1};  // share only for x25519
  s->groups = {NamedGroup::secp384r1};
  auto p = connect(c, s);
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  ASSERT_TRUE(p.client.handshake_done());
  EXPECT_TRUE(p.client.info().hello_retry);
  EXPECT_TRUE(p.server.info().hello_retry);
  EXPECT_EQ(p.client.info().group, NamedGroup::secp384r1);
  EXPECT_EQ(transfer(p.client, p.server, pattern(10)), pattern(10));
}

TEST(TlsConnection, HelloRetryRequestWithCookie) {
  auto c = test::client_config(ecdsa_pki());
  auto s = test::server_config(ecdsa_pki());
  s->require_cookie = true;
  auto p = connect(c, s);
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  ASSERT_TRUE(p.client.handshake_done());
  EXPECT_TRUE(p.client.info().hello_retry);
  EXPECT_EQ(p.client.info().group, NamedGroup::x25519);
}

TEST(TlsConnection, NoCommonGroupIsHandshakeFailure) {
  auto c = test::client_config(ecdsa_pki());
  auto s = test::server_config(ecdsa_pki());
  c->groups = {NamedGroup::x25519};
  s->groups = {NamedGroup::secp256r1};
  auto p = connect(c, s);
  EXPECT_FALSE(pump(p.client, p.server));
  ASSERT_NE(p.server.failure(), nullptr);
  EXPECT_EQ(p.server.failure()->alert, AlertDescription::handshake_failure);
  ASSERT_NE(p.client.failure(), nullptr);
  EXPECT_EQ(p.client.failure()->kind, Failure::Kind::received_alert);
  EXPECT_EQ(p.client.failure()->alert, AlertDescription::handshake_failure);
}

TEST(TlsConnection, ResumptionWithTickets) {
  auto c = test::client_config(ecdsa_pki());
  auto s = test::server_config(ecdsa_pki());
  c->sessions = std::make_shared<SessionCache>();
  s->tickets = TicketKeys::create().value();
  {
    auto p = connect(c, s);
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    EXPECT_FALSE(p.client.info().resumed);
    // Tickets arrive after the handshake, with data.
    EXPECT_EQ(transfer(p.server, p.client, pattern(5)), pattern(5));
    EXPECT_EQ(c->sessions->size(), 2u);
  }
  auto p = connect(c, s);
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  ASSERT_TRUE(p.client.handshake_done());
  EXPECT_TRUE(p.client.info().resumed);
  EXPECT_TRUE(p.server.info().resumed);
  EXPECT_TRUE(p.client.info().peer_certificates.empty());
  EXPECT_EQ(transfer(p.client, p.server, pattern(1000)), pattern(1000));
  EXPECT_EQ(transfer(p.server, p.client, pattern(1000)), pattern(1000));
}

namespace {

// Moves one side's pending output to the other; false if the receiver failed.
bool deliver(Connection& from, Connection& to) {
  auto out = from.pending_output();
  std::vector<std::uint8_t> bytes(out.begin(), out.end());
  from.consume_output(bytes.size());
  return static_cast<bool>(to.feed(bytes));
}

}  // namespace

// RFC 8446 §4.6.1: a server that does not ask for a client certificate may send its tickets
// right after its Finished, computing the client's Finished ahead. Ours does: the client holds
// them once it has read the server's flight, before the server has seen its Finished. With a
// client certificate requested the tickets wait for the client's Finished.
TEST(TlsConnection, TicketsLeaveWithTheServerFlight) {
  auto c = test::client_config(ecdsa_pki());
  auto s = test::server_config(ecdsa_pki());
  c->sessions = std::make_shared<SessionCache>();
  s->tickets = TicketKeys::create().value();
  auto p = connect(c, s);
  ASSERT_TRUE(deliver(p.client, p.server));  // ClientHello
  ASSERT_TRUE(deliver(p.server, p.client));  // ServerHello .. Finished, NewSessionTicket x2
  EXPECT_TRUE(p.client.handshake_done());
  EXPECT_FALSE(p.server.handshake_done());
  EXPECT_EQ(c->sessions->size(), 2u);
  ASSERT_TRUE(deliver(p.client, p.server));  // client Finished
  EXPECT_TRUE(p.server.handshake_done());
  EXPECT_TRUE(p.server.pending_output().empty()) << "no tickets after the client Finished";
  // The tickets were derived from the Finished the client then sent: they resume.
  auto resumed = connect(c, s);
  ASSERT_TRUE(pump(resumed.client, resumed.server)) << why(resumed);
  EXPECT_TRUE(resumed.client.info().resumed);
  EXPECT_TRUE(resumed.server.info().resumed);
  EXPECT_EQ(transfer(resumed.client, resumed.server, pattern(100)), pattern(100));

  // A requested client certificate: its messages are not known ahead, so no early tickets.
  const auto& pki = ecdsa_pki();
  s->client_auth = ClientAuth::optional;
  s->client_trust = pki.trust_store();
  auto c2 = test::client_config(pki);
  c2->sessions = std::make_shared<SessionCache>();
  auto q = connect(c2, s);
  ASSERT_TRUE(deliver(q.client, q.server));
  ASSERT_TRUE(deliver(q.server, q.client));
  EXPECT_TRUE(q.client.handshake_done());
  EXPECT_EQ(c2->sessions->size(), 0u);
  ASSERT_TRUE(deliver(q.client, q.server));
  EXPECT_TRUE(q.server.handshake_done());
  ASSERT_TRUE(deliver(q.server, q.client));  // now the tickets
  EXPECT_EQ(c2->sessions->size(), 2u);
}

TEST(TlsConnection, TicketFromAnotherServerIsIgnored) {
  auto c = test::client_config(ecdsa_pki());
  c->sessions = std::make_shared<SessionCache>();
  auto s1 = test::server_config(ecdsa_pki());
  s1->tickets = TicketKeys::create().value();
  auto s2 = test::server_config(ecdsa_pki());
  s2->tickets = TicketKeys::create().value();
  {
    auto p = connect(c, s1);
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    EXPECT_EQ(transfer(p.server, p.client, pattern(5)), pattern(5));
  }
  auto p = connect(c, s2);
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  ASSERT_TRUE(p.client.handshake_done());
  EXPECT_FALSE(p.client.info().resumed) << "a foreign ticket must fall back to a full handshake";
}

TEST(TlsConnection, ResumptionAfterHelloRetryRequest) {
  auto c = test::client_config(ecdsa_pki());
  auto s = test::server_config(ecdsa_pki());
  c->sessions = std::make_shared<SessionCache>();
  s->tickets = TicketKeys::create().value();
  {
    auto p = connect(c, s);
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    EXPECT_EQ(transfer(p.server, p.client, pattern(5)), pattern(5));
  }
  s->require_cookie = true;  // the second ClientHello needs a recomputed binder
  auto p = connect(c, s);
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  EXPECT_TRUE(p.client.info().hello_retry);
  EXPECT_TRUE(p.client.info().resumed);
}

TEST(TlsConnection, ClientAuthentication) {
  const auto& pki = ecdsa_pki();
  test::LeafOptions lo;
  lo.common_name = "alice";
  lo.dns_names = {};
  lo.usage = crypto::CertificateSpec::Usage::client;
  const auto alice = test::make_leaf(pki.root, lo);
  auto s = test::server_config(pki);
  s->client_auth = ClientAuth::required;
  s->client_trust = pki.trust_store();
  {
    auto c = test::client_config(pki);
    c->certificate = CertifiedKey{{alice.cert}, alice.key};
    auto p = connect(c, s);
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    ASSERT_TRUE(p.server.handshake_done());
    EXPECT_TRUE(p.server.info().peer_verified);
    ASSERT_EQ(p.server.info().peer_certificates.size(), 1u);
    EXPECT_EQ(p.server.info().peer_certificates[0].common_name(), "alice");
    EXPECT_EQ(transfer(p.client, p.server, pattern(10)), pattern(10));
  }
  {
    // RFC 8446 §4.4.2.4: no certificate where one is required is certificate_required.
    auto p = connect(test::client_config(pki), s);
    EXPECT_FALSE(pump(p.client, p.server));
    ASSERT_NE(p.server.failure(), nullptr);
    EXPECT_EQ(p.server.failure()->alert, AlertDescription::certificate_required);
    ASSERT_NE(p.client.failure(), nullptr);
    EXPECT_EQ(p.client.failure()->alert, AlertDescription::certificate_required);
  }
  {
    s->client_auth = ClientAuth::optional;
    auto p = connect(test::client_config(pki), s);
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    EXPECT_TRUE(p.server.handshake_done());
    EXPECT_FALSE(p.server.info().peer_verified);
  }
  {
    // A client certificate from an unknown CA.
    const auto other = test::make_pki();
    auto c = test::client_config(pki);
    c->certificate = CertifiedKey{{other.leaf.cert}, other.leaf.key};
    s->client_auth = ClientAuth::required;
    auto p = connect(c, s);
    EXPECT_FALSE(pump(p.client, p.server));
    ASSERT_NE(p.server.failure(), nullptr);
    EXPECT_EQ(p.server.failure()->alert, AlertDescription::unknown_ca);
  }
}

TEST(TlsConnection, Alpn) {
  auto c = test::client_config(ecdsa_pki());
  auto s = test::server_config(ecdsa_pki());
  c->alpn = {"h2", "http/1.1"};
  s->alpn = {"http/1.1", "h2"};
  {
    auto p = connect(c, s);
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    EXPECT_EQ(p.client.info().alpn, "http/1.1");  // the server's preference
    EXPECT_EQ(p.server.info().alpn, "http/1.1");
  }
  s->alpn = {"imap"};
  auto p = connect(c, s);
  EXPECT_FALSE(pump(p.client, p.server));
  ASSERT_NE(p.server.failure(), nullptr);
  EXPECT_EQ(p.server.failure()->alert, AlertDescription::no_application_protocol);
}

TEST(TlsConnection, KeyUpdateBothWays) {
  auto p = connect(test::client_config(ecdsa_pki()), test::server_config(ecdsa_pki()));
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(p.client.update_keys(i % 2 == 0));
    EXPECT_EQ(transfer(p.client, p.server, pattern(100 + i)), pattern(100 + i));
    EXPECT_EQ(transfer(p.server, p.client, pattern(50 + i)), pattern(50 + i));
    ASSERT_TRUE(p.server.update_keys(true));
    EXPECT_EQ(transfer(p.server, p.client, pattern(60)), pattern(60));
    EXPECT_EQ(transfer(p.client, p.server, pattern(70)), pattern(70));
  }
}

TEST(TlsConnection, KeyUpdateFloodIsLimited) {
  auto p = connect(test::client_config(ecdsa_pki()), test::server_config(ecdsa_pki()));
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  for (int i = 0; i < 40; ++i)
    ASSERT_TRUE(p.client.update_keys(false));
  EXPECT_FALSE(pump(p.client, p.server));
  ASSERT_NE(p.server.failure(), nullptr);
  EXPECT_EQ(p.server.failure()->error.code(), Errc::limit_exceeded);
}

// RFC 8446 §4.6: after the handshake a server expects only KeyUpdate (no post-handshake
// authentication here); any other handshake message is unexpected_message. The server's
// handshaker is gone by then (an idle connection keeps no handshake state): the connection
// itself must still answer so.
TEST(TlsConnection, ServerRefusesPostHandshakeMessages) {
  auto c = test::client_config(ecdsa_pki());
  crypto::Secret client_secret;
  c->key_log = [&](std::string_view label, wire::Bytes, wire::Bytes secret) {
    if (label == "CLIENT_TRAFFIC_SECRET_0") client_secret = crypto::Secret(secret);
  };
  auto p = connect(c, test::server_config(ecdsa_pki()));
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  ASSERT_TRUE(p.server.update_keys(false)) << "KeyUpdate still works";
  ASSERT_TRUE(pump(p.server, p.client)) << why(p);
  ASSERT_EQ(client_secret.size(), 32u);
  // A ClientHello under the client's first application key, as the client would seal it.
  const CipherSuiteInfo* suite = find_cipher_suite(CipherSuite::tls_aes_128_gcm_sha256);
  ASSERT_NE(suite, nullptr);
  auto key = crypto::hkdf_expand_label(crypto::HashAlg::sha256, client_secret, "key", {}, 16);
  auto iv = crypto::hkdf_expand_label(crypto::HashAlg::sha256, client_secret, "iv", {}, 12);
  ASSERT_TRUE(key && iv);
  RecordWriter w;
  w.set_tls13(true);
  ASSERT_TRUE(w.set_cipher13(*suite, key->span(), iv->span()));
  const V client_hello = {1, 0, 0, 4, 3, 3, 0, 0};
  V record;
  ASSERT_TRUE(w.write(ContentType::handshake, client_hello, record));
  EXPECT_FALSE(p.server.feed(record));
  ASSERT_NE(p.server.failure(), nullptr);
  EXPECT_EQ(p.server.failure()->alert, AlertDescription::unexpected_message);
  EXPECT_NE(p.server.failure()->error.detail().find("unexpected post-handshake message"),
            std::string::npos)
      << p.server.failure()->error.message();
}

TEST(TlsConnection, CloseNotifyAndTruncation) {
  {
    auto p = connect(test::client_config(ecdsa_pki()), test::server_config(ecdsa_pki()));
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    ASSERT_TRUE(p.client.send(pattern(10)));
    ASSERT_TRUE(p.client.close());
    EXPECT_FALSE(p.client.send(pattern(1)));
    ASSERT_TRUE(pump(p.client, p.server));
    V got(32);
    EXPECT_EQ(p.server.read(got), 10u) << "data before close_notify is delivered";
    EXPECT_EQ(p.server.state(), State::peer_closed);
    EXPECT_TRUE(p.server.transport_eof()) << "EOF after close_notify is a clean close";
    ASSERT_TRUE(p.server.close());
    EXPECT_EQ(p.server.state(), State::closed);
  }
  {
    auto p = connect(test::client_config(ecdsa_pki()), test::server_config(ecdsa_pki()));
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    // The transport ends without close_notify: truncation, not a clean end of stream.
    auto s = p.client.transport_eof();
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error(), Errc::truncated_connection);
    EXPECT_EQ(p.client.failure()->kind, Failure::Kind::transport);
    EXPECT_TRUE(p.client.pending_output().empty()) << "no alert on a dead transport";
  }
}

TEST(TlsConnection, VerificationFailuresHaveTheirAlerts) {
  const auto& pki = ecdsa_pki();
  struct Case {
    std::string host;
    std::shared_ptr<ClientConfig> cfg;
    Errc error;
    AlertDescription alert;
  };
  auto other_root = test::client_config(test::make_pki());
  auto expired_cfg = test::client_config(pki);
  expired_cfg->clock = [] {
    return std::chrono::system_clock::now() + std::chrono::hours(24 * 400);
  };
  std::vector<Case> cases = {
      {"www.example.org", test::client_config(pki), Errc::cert_hostname_mismatch,
       AlertDescription::bad_certificate},
      {"leaf.example.com", other_root, Errc::cert_unknown_ca, AlertDescription::unknown_ca},
      {"leaf.example.com", expired_cfg, Errc::cert_expired, AlertDescription::certificate_expired},
  };
  for (const auto& c : cases) {
    auto p = connect(c.cfg, test::server_config(pki), c.host);
    EXPECT_FALSE(pump(p.client, p.server));
    ASSERT_NE(p.client.failure(), nullptr) << c.host;
    EXPECT_EQ(p.client.failure()->error.code(), c.error) << p.client.failure()->error.message();
    EXPECT_EQ(p.client.failure()->alert, c.alert);
    ASSERT_NE(p.server.failure(), nullptr);
    EXPECT_EQ(p.server.failure()->kind, Failure::Kind::received_alert);
    EXPECT_EQ(p.server.failure()->alert, c.alert);
  }
  // Turning verification off is explicit, and then the wrong name passes.
  auto insecure = test::client_config(test::make_pki());
  insecure->insecure_skip_verification = true;
  auto p = connect(insecure, test::server_config(pki), "www.example.org");
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  EXPECT_TRUE(p.client.handshake_done());
  EXPECT_FALSE(p.client.info().peer_verified);
}

TEST(TlsConnection, ClientNeedsANameToVerify) {
  auto c = Connection::client(test::client_config(ecdsa_pki()), "");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), Errc::invalid_argument);
}

// Any flipped byte in the server's encrypted flight is caught (bad_record_mac).
TEST(TlsConnection, TamperedServerFlightIsBadRecordMac) {
  for (std::size_t offset : {std::size_t{10}, std::size_t{200}, std::size_t{400}}) {
    auto p = connect(test::client_config(ecdsa_pki()), test::server_config(ecdsa_pki()));
    auto ch = p.client.pending_output();
    V chv(ch.begin(), ch.end());
    p.client.consume_output(chv.size());
    ASSERT_TRUE(p.server.feed(chv));
    auto flight = p.server.pending_output();
    V f(flight.begin(), flight.end());
    // Skip the cleartext ServerHello and CCS records: tamper inside the encrypted part.
    const std::size_t sh_len = 5 + ((f[3] << 8) | f[4]);
    const std::size_t enc = sh_len + 6;
    ASSERT_LT(enc + offset, f.size());
    f[enc + offset] ^= 0x40;
    auto s = p.client.feed(f);
    ASSERT_FALSE(s);
    EXPECT_EQ(p.client.failure()->alert, AlertDescription::bad_record_mac) << offset;
  }
}

TEST(TlsConnection, RecordSizeLimitIsHonoured) {
  auto c = test::client_config(ecdsa_pki());
  c->record_size_limit = 1000;
  auto p = connect(c, test::server_config(ecdsa_pki()));
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  ASSERT_TRUE(p.server.send(pattern(5000)));
  // Every record the server sends now is at most 999 bytes of content + type + tag.
  auto out = p.server.pending_output();
  std::size_t i = 0, records = 0;
  while (i + 5 <= out.size()) {
    const std::size_t len = (out[i + 3] << 8) | out[i + 4];
    EXPECT_LE(len, 1000u + 16u);
    i += 5 + len;
    ++records;
  }
  EXPECT_GE(records, 6u);
  ASSERT_TRUE(pump(p.server, p.client));
  V got(6000);
  got.resize(p.client.read(got));
  EXPECT_EQ(got, pattern(5000));
}

TEST(TlsConnection, TraceAndKeyLog) {
  auto c = test::client_config(ecdsa_pki());
  std::vector<TraceEvent> events;
  std::vector<std::string> labels;
  c->trace = [&](const TraceEvent& e) { events.push_back(e); };
  // A clock that moves on at every reading: the trace's times must follow its order.
  c->clock = [t = std::chrono::system_clock::now()]() mutable {
    return t += std::chrono::milliseconds(1);
  };
  c->key_log = [&](std::string_view label, wire::Bytes random, wire::Bytes secret) {
    EXPECT_EQ(random.size(), 32u);
    EXPECT_EQ(secret.size(), 32u);
    labels.emplace_back(label);
  };
  auto p = connect(c, test::server_config(ecdsa_pki()));
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  const std::vector<std::string> expect_labels = {
      "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
      "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"};
  EXPECT_EQ(labels, expect_labels);
  std::vector<HandshakeType> types;
  for (const auto& e : events)
    types.push_back(e.type);
  const std::vector<HandshakeType> expect_types = {HandshakeType::client_hello,
                                                   HandshakeType::server_hello,
                                                   HandshakeType::encrypted_extensions,
                                                   HandshakeType::certificate,
                                                   HandshakeType::certificate_verify,
                                                   HandshakeType::finished,
                                                   HandshakeType::finished};
  EXPECT_EQ(types, expect_types);
  EXPECT_NE(events[1].detail.find("TLS_AES_128_GCM_SHA256"), std::string::npos);
  // A received message is stamped when it arrived, before what its handling sent.
  for (std::size_t i = 1; i < events.size(); ++i)
    EXPECT_LE(events[i - 1].time, events[i].time) << "event " << i;
}

// --- 0-RTT (RFC 8446 §2.3, §4.2.10, §8) ---------------------------------------------------

namespace {

struct EarlySetup {
  std::shared_ptr<ClientConfig> client;
  std::shared_ptr<ServerConfig> server;
};

// A client holding a ticket that allows 0-RTT, from one full handshake.
EarlySetup early_setup(std::uint32_t server_max = 4096) {
  EarlySetup e{test::client_config(ecdsa_pki()), test::server_config(ecdsa_pki())};
  e.client->sessions = std::make_shared<SessionCache>();
  e.client->early_data = true;
  e.server->tickets = TicketKeys::create().value();
  e.server->max_early_data = server_max;
  auto p = connect(e.client, e.server);
  EXPECT_TRUE(pump(p.client, p.server)) << why(p);
  EXPECT_EQ(transfer(p.server, p.client, pattern(5)), pattern(5));  // tickets delivered
  return e;
}

}  // namespace

TEST(TlsEarlyData, AcceptedAndDeliveredFirst) {
  auto e = early_setup();
  auto p = connect(e.client, e.server);
  const V request = pattern(300);
  ASSERT_TRUE(p.client.send_early_data(request));
  EXPECT_EQ(p.client.info().early_data, EarlyData::offered);
  EXPECT_FALSE(p.client.handshake_done());
  // The server reads the early data before the handshake is done.
  auto first = p.client.pending_output();
  V flight(first.begin(), first.end());
  p.client.consume_output(flight.size());
  ASSERT_TRUE(p.server.feed(flight)) << why(p);
  EXPECT_EQ(p.server.info().early_data, EarlyData::accepted);
  EXPECT_FALSE(p.server.handshake_done());
  V got(1000);
  got.resize(p.server.read(got));
  EXPECT_EQ(got, request);
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  ASSERT_TRUE(p.client.handshake_done());
  ASSERT_TRUE(p.server.handshake_done());
  EXPECT_EQ(p.client.info().early_data, EarlyData::accepted);
  EXPECT_TRUE(p.client.info().resumed);
  EXPECT_FALSE(p.client.send_early_data(request)) << "0-RTT ends with the handshake";
  EXPECT_EQ(transfer(p.client, p.server, pattern(10)), pattern(10));
  EXPECT_EQ(transfer(p.server, p.client, pattern(10)), pattern(10));
}

// Refused by configuration: the early data is skipped, the handshake completes, and the
// client learns it must send the data again.
TEST(TlsEarlyData, RefusedEarlyDataIsSkipped) {
  auto e = early_setup();
  auto refusing = test::server_config(ecdsa_pki());
  refusing->tickets = e.server->tickets;  // same ticket keys: resumption works, 0-RTT not
  auto p = connect(e.client, refusing);
  ASSERT_TRUE(p.client.send_early_data(pattern(2000)));
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  ASSERT_TRUE(p.server.handshake_done());
  EXPECT_TRUE(p.server.info().resumed);
  EXPECT_EQ(p.client.info().early_data, EarlyData::rejected);
  EXPECT_EQ(p.server.info().early_data, EarlyData::rejected);
  V got(4000);
  EXPECT_EQ(p.server.read(got), 0u) << "rejected early data never reaches the application";
  EXPECT_EQ(transfer(p.client, p.server, pattern(2000)), pattern(2000));
}

// RFC 8446 §8: a replayed first flight does not get its early data accepted twice.
TEST(TlsEarlyData, ReplayedClientHelloGetsNoEarlyData) {
  auto e = early_setup();
  auto p = connect(e.client, e.server);
  ASSERT_TRUE(p.client.send_early_data(pattern(100)));
  auto first = p.client.pending_output();
  const V flight(first.begin(), first.end());
  // The genuine server sees it first.
  auto s1 = Connection::server(e.server).value();
  ASSERT_TRUE(s1.feed(flight));
  EXPECT_EQ(s1.info().early_data, EarlyData::accepted);
  // An attacker replays the same bytes to another connection of the same server.
  auto s2 = Connection::server(e.server).value();
  ASSERT_TRUE(s2.feed(flight));
  EXPECT_EQ(s2.info().early_data, EarlyData::rejected);
  V got(200);
  EXPECT_EQ(s2.read(got), 0u);
}

// RFC 8446 §4.2.10: more early data than allowed is unexpected_message.
TEST(TlsEarlyData, TooMuchEarlyDataIsFatal) {
  auto e = early_setup(1000);
  auto p = connect(e.client, e.server);
  EXPECT_FALSE(p.client.send_early_data(pattern(1001))) << "the client keeps to the limit";
  // The server's current limit is lower than the ticket's (it was reconfigured, sharing its
  // ticket keys): the client's 1000 bytes exceed it.
  auto smaller = test::server_config(ecdsa_pki());
  smaller->tickets = e.server->tickets;
  smaller->max_early_data = 500;
  ASSERT_TRUE(p.client.send_early_data(pattern(1000)));
  auto out = p.client.pending_output();
  auto s = Connection::server(smaller).value();
  auto st = s.feed(V(out.begin(), out.end()));
  EXPECT_EQ(s.info().early_data, EarlyData::accepted);
  ASSERT_FALSE(st);
  EXPECT_EQ(s.failure()->alert, AlertDescription::unexpected_message);
}

// Early data is only for resumption with a ticket that allows it; HRR rejects it.
TEST(TlsEarlyData, NotOfferedWithoutASuitableTicket) {
  auto c = test::client_config(ecdsa_pki());
  c->early_data = true;
  c->sessions = std::make_shared<SessionCache>();
  auto p = connect(c, test::server_config(ecdsa_pki()));
  EXPECT_FALSE(p.client.send_early_data(pattern(10)));
  EXPECT_EQ(p.client.info().early_data, EarlyData::not_offered);

  auto e = early_setup();
  e.server->require_cookie = true;  // forces a HelloRetryRequest
  auto q = connect(e.client, e.server);
  ASSERT_TRUE(q.client.send_early_data(pattern(10)));
  ASSERT_TRUE(pump(q.client, q.server)) << why(q);
  EXPECT_TRUE(q.client.handshake_done());
  EXPECT_EQ(q.client.info().early_data, EarlyData::rejected);
  V got(20);
  EXPECT_EQ(q.server.read(got), 0u);
}

// Every CertificateVerify scheme TLS 1.3 allows, chosen by the client's offer: RSA-PSS with
// each hash (rsae), ECDSA on both curves, Ed25519.
TEST(TlsConnection, EverySignatureScheme) {
  struct Case {
    crypto::KeyType key;
    SignatureScheme scheme;
  };
  const Case cases[] = {
      {crypto::KeyType::rsa, SignatureScheme::rsa_pss_rsae_sha256},
      {crypto::KeyType::rsa, SignatureScheme::rsa_pss_rsae_sha384},
      {crypto::KeyType::rsa, SignatureScheme::rsa_pss_rsae_sha512},
      {crypto::KeyType::ec_p256, SignatureScheme::ecdsa_secp256r1_sha256},
      {crypto::KeyType::ec_p384, SignatureScheme::ecdsa_secp384r1_sha384},
      {crypto::KeyType::ed25519, SignatureScheme::ed25519},
  };
  for (const auto& c : cases) {
    const auto& pki = pki_for(c.key);
    auto client = test::client_config(pki);
    client->signature_schemes = {c.scheme};
    auto p = connect(client, test::server_config(pki));
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    EXPECT_EQ(p.client.info().peer_signature_scheme, c.scheme) << name(c.scheme);
    EXPECT_TRUE(p.client.info().peer_verified);
  }
  // A client that accepts no scheme the server's key can make: handshake_failure.
  auto client = test::client_config(pki_for(crypto::KeyType::rsa));
  client->signature_schemes = {SignatureScheme::ecdsa_secp256r1_sha256};
  auto p = connect(client, test::server_config(pki_for(crypto::KeyType::rsa)));
  EXPECT_FALSE(pump(p.client, p.server));
  ASSERT_NE(p.server.failure(), nullptr);
  EXPECT_EQ(p.server.failure()->alert, AlertDescription::handshake_failure);
}

// An idle connection gives its buffers back (release_idle_buffers, called by transports before
// they wait): after 64 KiB went each way both sides free about that much, data still flows,
// and application data the user has not read yet survives a release.
TEST(TlsConnection, IdleConnectionsReleaseTheirBuffers) {
  auto p = connect(test::client_config(ecdsa_pki()), test::server_config(ecdsa_pki()));
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  EXPECT_EQ(transfer(p.server, p.client, pattern(65536)), pattern(65536));
  EXPECT_EQ(transfer(p.client, p.server, pattern(65536)), pattern(65536));
  // Each side's send buffer held four records of 2^14 bytes and more.
  EXPECT_GE(p.server.buffer_capacity(), 64u * 1024);
  EXPECT_GE(p.client.buffer_capacity(), 64u * 1024);
  const std::size_t before = ::mallinfo2().uordblks;  // 0 under ASan, which has its own malloc
  p.server.release_idle_buffers();
  p.client.release_idle_buffers();
  EXPECT_EQ(p.server.buffer_capacity(), 0u);
  EXPECT_EQ(p.client.buffer_capacity(), 0u);
  // And the memory really went back to the allocator.
  if (before != 0) {
    EXPECT_GE(before - ::mallinfo2().uordblks, 2u * 64 * 1024);
  }

  // Unread data stays readable across a release.
  ASSERT_TRUE(p.server.send(pattern(1000)));
  ASSERT_TRUE(pump(p.server, p.client));
  p.client.release_idle_buffers();
  p.server.release_idle_buffers();
  EXPECT_GT(p.client.buffer_capacity(), 0u);  // the unread data is still held
  V got(2000);
  got.resize(p.client.read(got));
  EXPECT_EQ(got, pattern(1000));
  EXPECT_EQ(transfer(p.client, p.server, pattern(20000)), pattern(20000));
  EXPECT_EQ(transfer(p.server, p.client, pattern(3)), pattern(3));
}
