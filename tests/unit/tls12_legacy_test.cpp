// The TLS 1.2 `legacy` policy in memory, client <-> server: every legacy suite (ECDHE with
// AES-CBC, RSA key transport with GCM and CBC, DHE_RSA with GCM), the policy's lists and
// preference (a modern suite wins whenever both sides have one; a server without the policy
// refuses legacy-only clients), RFC 7919 group selection, resumption with a CBC suite, and the
// attacks the policy must withstand: a tampered EncryptedPreMasterSecret (Bleichenbacher /
// ROBOT) fails at Finished with one alert, and a client refuses a DHE prime under 2048 bits.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "bulwark/crypto/key_transport.hpp"
#include "bulwark/crypto/signature.hpp"
#include "bulwark/tls/cipher_suites.hpp"
#include "bulwark/tls/connection.hpp"
#include "bulwark/tls/extensions.hpp"
#include "bulwark/tls/messages.hpp"
#include "bulwark/tls/session.hpp"
#include "support/pki.hpp"
#include "support/tls_pair.hpp"
#include "tls/handshake.hpp"

using namespace bulwark;
using namespace bulwark::tls;
using test::connect;
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

const test::Pki& rsa() {
  return pki_for(crypto::KeyType::rsa);
}

const test::Pki& ecdsa() {
  return pki_for(crypto::KeyType::ec_p256);
}

// A TLS 1.2 client under the legacy policy offering exactly `suites`.
std::shared_ptr<ClientConfig> legacy_client(const test::Pki& pki, std::vector<CipherSuite> suites) {
  auto c = test::client_config(pki);
  c->max_version = ProtocolVersion::tls12;
  c->legacy = true;
  c->cipher_suites = std::move(suites);
  return c;
}

std::shared_ptr<ServerConfig> legacy_server(const test::Pki& pki) {
  auto s = test::server_config(pki);
  s->legacy = true;
  return s;
}

bool modern(CipherSuite id) {
  const CipherSuiteInfo* s = find_cipher_suite(id);
  return s != nullptr && !s->legacy && s->protection == RecordProtection::aead;
}

// ---- taking a handshake apart, for the attack tests ----------------------------------------

// Moves everything `from` has to say to `to`; returns the bytes moved.
V step(Connection& from, Connection& to) {
  auto out = from.pending_output();
  V bytes(out.begin(), out.end());
  from.consume_output(bytes.size());
  EXPECT_TRUE(to.feed(bytes)) << (to.failure() ? to.failure()->error.message() : "");
  return bytes;
}

// The offset of the n-th record in `bytes`.
std::size_t record_offset(const V& bytes, int n) {
  std::size_t at = 0;
  for (int i = 0; i < n; ++i)
    at += 5 + ((bytes[at + 3] << 8) | bytes[at + 4]);
  return at;
}

struct Message {
  HandshakeType type;
  V body;
};

// The handshake messages in a run of cleartext handshake records.
std::vector<Message> handshake_messages(const V& records) {
  V stream;
  for (std::size_t at = 0; at < records.size();) {
    const std::size_t len = (records[at + 3] << 8) | records[at + 4];
    EXPECT_EQ(records[at], static_cast<std::uint8_t>(ContentType::handshake));
    stream.insert(stream.end(), records.begin() + static_cast<long>(at + 5),
                  records.begin() + static_cast<long>(at + 5 + len));
    at += 5 + len;
  }
  std::vector<Message> out;
  for (std::size_t at = 0; at + 4 <= stream.size();) {
    const std::size_t len = (stream[at + 1] << 16) | (stream[at + 2] << 8) | stream[at + 3];
    out.push_back({static_cast<HandshakeType>(stream[at]),
                   V(stream.begin() + static_cast<long>(at + 4),
                     stream.begin() + static_cast<long>(at + 4 + len))});
    at += 4 + len;
  }
  return out;
}

// The messages again, each in a record of its own.
V handshake_records(const std::vector<Message>& messages) {
  V out;
  for (const auto& m : messages) {
    const std::size_t len = m.body.size() + 4;
    out.insert(out.end(),
               {22, 3, 3, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len),
                static_cast<std::uint8_t>(m.type), 0, static_cast<std::uint8_t>(m.body.size() >> 8),
                static_cast<std::uint8_t>(m.body.size())});
    out.insert(out.end(), m.body.begin(), m.body.end());
  }
  return out;
}

}  // namespace

// ---- the policy's lists ----------------------------------------------------------------------

TEST(Tls12LegacyPolicy, EnabledLists) {
  Config def;
  EXPECT_FALSE(def.legacy);
  EXPECT_EQ(enabled_cipher_suites(def), def.cipher_suites) << "a default Config is unchanged";
  EXPECT_EQ(enabled_groups(def), def.groups);

  Config legacy;
  legacy.legacy = true;
  const auto suites = enabled_cipher_suites(legacy);
  ASSERT_EQ(suites.size(), legacy.cipher_suites.size() + legacy_cipher_suites().size());
  // Every default suite first, in its order, then the legacy ones.
  EXPECT_TRUE(std::equal(legacy.cipher_suites.begin(), legacy.cipher_suites.end(), suites.begin()));
  for (std::size_t i = legacy.cipher_suites.size(); i < suites.size(); ++i) {
    EXPECT_TRUE(is_legacy_suite(suites[i]));
  }
  // The sixteen suites of issue #4 (IANA ids), each once.
  const std::set<std::uint16_t> expected = {0xc009, 0xc00a, 0xc023, 0xc024, 0xc013, 0xc014,
                                            0xc027, 0xc028, 0x009c, 0x009d, 0x002f, 0x0035,
                                            0x003c, 0x003d, 0x009e, 0x009f};
  std::set<std::uint16_t> got;
  for (const auto& s : legacy_cipher_suites()) {
    got.insert(static_cast<std::uint16_t>(s.id));
    EXPECT_EQ(s.version, ProtocolVersion::tls12) << s.name;
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(enabled_groups(legacy),
            (std::vector<NamedGroup>{NamedGroup::x25519, NamedGroup::secp256r1,
                                     NamedGroup::secp384r1, NamedGroup::ffdhe2048,
                                     NamedGroup::ffdhe3072, NamedGroup::ffdhe4096}));

  // A list that names legacy suites (or ffdhe groups) is taken as given under the policy...
  legacy.cipher_suites = {CipherSuite::tls_rsa_with_aes_128_cbc_sha,
                          CipherSuite::tls_ecdhe_rsa_with_aes_128_gcm_sha256};
  legacy.groups = {NamedGroup::ffdhe3072, NamedGroup::x25519};
  EXPECT_EQ(enabled_cipher_suites(legacy), legacy.cipher_suites);
  EXPECT_EQ(enabled_groups(legacy), legacy.groups);
  // ...and filtered without it.
  legacy.legacy = false;
  EXPECT_EQ(enabled_cipher_suites(legacy),
            std::vector<CipherSuite>{CipherSuite::tls_ecdhe_rsa_with_aes_128_gcm_sha256});
  EXPECT_EQ(enabled_groups(legacy), std::vector<NamedGroup>{NamedGroup::x25519});
}

// ---- every legacy suite, in memory -----------------------------------------------------------

class Tls12Legacy : public ::testing::TestWithParam<CipherSuite> {};

TEST_P(Tls12Legacy, HandshakeAndData) {
  const CipherSuiteInfo& suite = *find_cipher_suite(GetParam());
  const bool ecdsa_cert = suite.kx == KeyExchange::ecdhe_ecdsa;
  const auto& pki = ecdsa_cert ? ecdsa() : rsa();
  auto p = connect(legacy_client(pki, {suite.id}), legacy_server(pki));
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  ASSERT_TRUE(p.client.handshake_done()) << why(p);
  ASSERT_TRUE(p.server.handshake_done()) << why(p);
  for (const Connection* side : {&p.client, &p.server}) {
    EXPECT_EQ(side->info().version, ProtocolVersion::tls12);
    EXPECT_EQ(side->info().cipher_suite, suite.id);
    EXPECT_TRUE(side->info().extended_master_secret) << "EMS stays required";
  }
  switch (suite.kx) {
    case KeyExchange::rsa:
      EXPECT_FALSE(p.client.info().group.has_value());
      break;
    case KeyExchange::dhe_rsa:
      EXPECT_EQ(p.client.info().group, NamedGroup::ffdhe2048);
      EXPECT_EQ(p.server.info().group, NamedGroup::ffdhe2048);
      break;
    default:
      EXPECT_EQ(p.client.info().group, NamedGroup::x25519);
      break;
  }
  EXPECT_TRUE(p.client.info().peer_verified);
  EXPECT_EQ(transfer(p.client, p.server, pattern(40000)), pattern(40000));
  EXPECT_EQ(transfer(p.server, p.client, pattern(1)), pattern(1));
  EXPECT_EQ(transfer(p.server, p.client, pattern(16384)), pattern(16384));
  ASSERT_TRUE(p.client.close());
  ASSERT_TRUE(pump(p.client, p.server));
  EXPECT_EQ(p.server.state(), State::peer_closed);
}

INSTANTIATE_TEST_SUITE_P(Suites, Tls12Legacy, ::testing::ValuesIn([] {
                           std::vector<CipherSuite> ids;
                           for (const auto& s : legacy_cipher_suites())
                             ids.push_back(s.id);
                           return ids;
                         }()),
                         [](const ::testing::TestParamInfo<CipherSuite>& info) {
                           return std::string(find_cipher_suite(info.param)->name);
                         });

// ---- preference and refusal ------------------------------------------------------------------

// With the policy on both sides and the default lists, a modern suite still wins.
TEST(Tls12LegacyPolicy, ModernSuitesStayPreferred) {
  for (const auto* pki : {&rsa(), &ecdsa()}) {
    auto c = test::client_config(*pki);
    c->max_version = ProtocolVersion::tls12;
    c->legacy = true;
    auto p = connect(c, legacy_server(*pki));
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    EXPECT_TRUE(modern(p.client.info().cipher_suite)) << name(p.client.info().cipher_suite);
  }
}

// A legacy client against a default server negotiates an AEAD suite.
TEST(Tls12LegacyPolicy, LegacyClientDefaultServerGetsAead) {
  auto c = test::client_config(rsa());
  c->max_version = ProtocolVersion::tls12;
  c->legacy = true;
  auto p = connect(c, test::server_config(rsa()));
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  EXPECT_TRUE(modern(p.server.info().cipher_suite));
  EXPECT_EQ(p.server.info().version, ProtocolVersion::tls12);
}

// A server without the policy refuses a client that offers only legacy suites: they are not
// selectable, and nothing else matches (RFC 5246 §7.4.1.3: handshake_failure).
TEST(Tls12LegacyPolicy, DefaultServerRefusesLegacyOnlyClient) {
  for (CipherSuite id : {CipherSuite::tls_rsa_with_aes_128_gcm_sha256,
                         CipherSuite::tls_ecdhe_rsa_with_aes_128_cbc_sha,
                         CipherSuite::tls_dhe_rsa_with_aes_128_gcm_sha256}) {
    auto p = connect(legacy_client(rsa(), {id}), test::server_config(rsa()));
    EXPECT_FALSE(pump(p.client, p.server));
    ASSERT_NE(p.server.failure(), nullptr) << name(id);
    EXPECT_EQ(p.server.failure()->alert, AlertDescription::handshake_failure);
    ASSERT_NE(p.client.failure(), nullptr);
    EXPECT_EQ(p.client.failure()->kind, Failure::Kind::received_alert);
    EXPECT_EQ(p.client.failure()->alert, AlertDescription::handshake_failure);
  }
}

// A client without the policy never offers a legacy suite, even one listed in cipher_suites:
// against a server that has both, the AEAD suite is the one negotiated.
TEST(Tls12LegacyPolicy, ClientWithoutPolicyIgnoresListedLegacySuites) {
  auto c = test::client_config(rsa());
  c->max_version = ProtocolVersion::tls12;
  c->cipher_suites = {CipherSuite::tls_rsa_with_aes_128_cbc_sha,
                      CipherSuite::tls_ecdhe_rsa_with_aes_256_gcm_sha384};
  auto s = legacy_server(rsa());
  s->cipher_suites = {CipherSuite::tls_rsa_with_aes_128_cbc_sha,
                      CipherSuite::tls_ecdhe_rsa_with_aes_256_gcm_sha384};
  auto p = connect(c, s);
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  EXPECT_EQ(p.server.info().cipher_suite, CipherSuite::tls_ecdhe_rsa_with_aes_256_gcm_sha384);
}

// RFC 5246 §7.4.2: RSA key transport needs an RSA certificate that allows keyEncipherment; an
// ECDSA certificate, or an RSA one restricted to signatures, cannot serve it.
TEST(Tls12LegacyPolicy, RsaKeyTransportNeedsAnEnciphermentCertificate) {
  test::LeafOptions lo;
  lo.key_type = crypto::KeyType::rsa;
  lo.usage = crypto::CertificateSpec::Usage::client;  // keyUsage: digitalSignature only
  const auto sign_only = test::make_leaf(rsa().root, lo);
  ASSERT_FALSE(sign_only.cert.allows_key_encipherment());
  ASSERT_TRUE(rsa().leaf.cert.allows_key_encipherment());
  auto s = legacy_server(rsa());
  s->certificates = {CertifiedKey{{sign_only.cert}, sign_only.key}};
  const std::vector<CipherSuite> rsa_kx = {CipherSuite::tls_rsa_with_aes_128_gcm_sha256};
  {
    auto p = connect(legacy_client(rsa(), rsa_kx), s);
    EXPECT_FALSE(pump(p.client, p.server));
    ASSERT_NE(p.server.failure(), nullptr);
    EXPECT_EQ(p.server.failure()->alert, AlertDescription::handshake_failure);
  }
  {
    auto p = connect(legacy_client(ecdsa(), rsa_kx), legacy_server(ecdsa()));
    EXPECT_FALSE(pump(p.client, p.server));
    ASSERT_NE(p.server.failure(), nullptr);
    EXPECT_EQ(p.server.failure()->alert, AlertDescription::handshake_failure);
  }
}

namespace {

// A TLS 1.2 ClientHello as old clients send it: no supported_groups, no signature_algorithms
// (only the extended master secret and renegotiation_info, which we still require).
V old_client_hello(const std::vector<CipherSuite>& suites) {
  ClientHello ch;
  ch.random.fill(7);
  ch.cipher_suites = ValueList<CipherSuite>(suites);
  static constexpr std::uint8_t null_compression[] = {0};
  ch.legacy_compression_methods = ValueList<std::uint8_t>(null_compression);
  wire::Writer w;
  write_handshake(w, HandshakeType::client_hello, [&](wire::Writer& body) {
    ch.encode(body, [&](ExtensionsWriter& ext) {
      ext.add(ExtendedMasterSecret{});
      ext.add(RenegotiationInfo{});
    });
  });
  EXPECT_TRUE(w.ok());
  V rec = {22, 3, 3, static_cast<std::uint8_t>(w.size() >> 8), static_cast<std::uint8_t>(w.size())};
  rec.insert(rec.end(), w.data().begin(), w.data().end());
  return rec;
}

}  // namespace

// Old clients omit supported_groups and signature_algorithms. Under the policy the server can
// still do RSA key transport (nothing to sign, no group); never ECDHE, and no DHE without a
// signature scheme (we make no SHA-1 signatures). Without the policy: handshake_failure.
TEST(Tls12LegacyPolicy, ClientHelloWithoutGroupsOrSignatureAlgorithms) {
  {
    auto server = Connection::server(legacy_server(rsa())).value();
    ASSERT_TRUE(server.feed(old_client_hello({CipherSuite::tls_ecdhe_rsa_with_aes_128_gcm_sha256,
                                              CipherSuite::tls_dhe_rsa_with_aes_128_gcm_sha256,
                                              CipherSuite::tls_rsa_with_aes_128_cbc_sha})))
        << server.failure()->error.message();
    auto out = server.pending_output();
    const auto messages = handshake_messages(V(out.begin(), out.end()));
    ASSERT_EQ(messages.size(), 3u);  // ServerHello, Certificate, ServerHelloDone
    auto sh = decode_body<ServerHello>(messages[0].body);
    ASSERT_TRUE(sh);
    EXPECT_EQ(sh->cipher_suite, CipherSuite::tls_rsa_with_aes_128_cbc_sha);
    EXPECT_EQ(messages[2].type, HandshakeType::server_hello_done);
  }
  for (bool legacy : {true, false}) {
    auto cfg = legacy_server(rsa());
    cfg->legacy = legacy;
    auto server = Connection::server(cfg).value();
    EXPECT_FALSE(server.feed(old_client_hello({CipherSuite::tls_ecdhe_rsa_with_aes_128_gcm_sha256,
                                               CipherSuite::tls_dhe_rsa_with_aes_128_gcm_sha256})));
    ASSERT_NE(server.failure(), nullptr);
    EXPECT_EQ(server.failure()->alert, AlertDescription::handshake_failure) << legacy;
  }
}

// ---- RFC 7919 group selection ----------------------------------------------------------------

// The server uses a group the client named, by its own preference among them.
TEST(Tls12LegacyPolicy, DheUsesTheClientsGroup) {
  auto c = legacy_client(rsa(), {CipherSuite::tls_dhe_rsa_with_aes_256_gcm_sha384});
  c->groups = {NamedGroup::x25519, NamedGroup::ffdhe3072};
  auto p = connect(c, legacy_server(rsa()));
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  EXPECT_EQ(p.server.info().group, NamedGroup::ffdhe3072);
  EXPECT_EQ(p.client.info().group, NamedGroup::ffdhe3072);
  EXPECT_EQ(transfer(p.client, p.server, pattern(500)), pattern(500));
}

// RFC 7919 §4: a client that names FFDHE groups, none of them acceptable, gets no FFDHE suite
// (here nothing else either: handshake_failure); with another suite it gets that one.
TEST(Tls12LegacyPolicy, NoAcceptableFfdheGroupMeansNoDhe) {
  {
    auto c = legacy_client(rsa(), {CipherSuite::tls_dhe_rsa_with_aes_128_gcm_sha256});
    c->groups = {NamedGroup::x25519, NamedGroup::ffdhe8192};  // a group we do not implement
    auto p = connect(c, legacy_server(rsa()));
    EXPECT_FALSE(pump(p.client, p.server));
    ASSERT_NE(p.server.failure(), nullptr);
    EXPECT_EQ(p.server.failure()->alert, AlertDescription::handshake_failure);
  }
  {
    auto c = legacy_client(rsa(), {CipherSuite::tls_dhe_rsa_with_aes_128_gcm_sha256,
                                   CipherSuite::tls_rsa_with_aes_128_gcm_sha256});
    c->groups = {NamedGroup::x25519, NamedGroup::ffdhe8192};
    auto p = connect(c, legacy_server(rsa()));
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    EXPECT_EQ(p.server.info().cipher_suite, CipherSuite::tls_rsa_with_aes_128_gcm_sha256);
  }
}

// ---- resumption with a CBC suite -------------------------------------------------------------

TEST(Tls12LegacyPolicy, ResumptionWithCbcSuite) {
  const CipherSuite cbc = CipherSuite::tls_ecdhe_rsa_with_aes_128_cbc_sha;
  for (bool tickets : {false, true}) {
    auto c = legacy_client(rsa(), {cbc});
    c->sessions = std::make_shared<SessionCache>();
    auto s = legacy_server(rsa());
    if (tickets) {
      s->tickets = TicketKeys::create().value();
    } else {
      s->session_cache = std::make_shared<ServerSessionCache>();
    }
    for (int i = 0; i < 3; ++i) {
      auto p = connect(c, s);
      ASSERT_TRUE(pump(p.client, p.server)) << why(p);
      ASSERT_TRUE(p.client.handshake_done());
      EXPECT_EQ(p.client.info().resumed, i > 0) << "tickets=" << tickets << " i=" << i;
      EXPECT_EQ(p.server.info().resumed, i > 0);
      EXPECT_EQ(p.server.info().cipher_suite, cbc);
      EXPECT_EQ(transfer(p.client, p.server, pattern(5000)), pattern(5000));
      EXPECT_EQ(transfer(p.server, p.client, pattern(70)), pattern(70));
    }
  }
  // A server that dropped the policy does not resume the CBC session: a full handshake with
  // what both still share.
  auto c = legacy_client(rsa(), {cbc, CipherSuite::tls_ecdhe_rsa_with_aes_128_gcm_sha256});
  c->sessions = std::make_shared<SessionCache>();
  auto s = legacy_server(rsa());
  s->cipher_suites = {cbc};
  s->session_cache = std::make_shared<ServerSessionCache>();
  {
    auto p = connect(c, s);
    ASSERT_TRUE(pump(p.client, p.server)) << why(p);
    EXPECT_EQ(p.server.info().cipher_suite, cbc);
  }
  s->legacy = false;
  s->cipher_suites = {CipherSuite::tls_ecdhe_rsa_with_aes_128_gcm_sha256};
  auto p = connect(c, s);
  ASSERT_TRUE(pump(p.client, p.server)) << why(p);
  EXPECT_FALSE(p.server.info().resumed);
  EXPECT_EQ(p.server.info().cipher_suite, CipherSuite::tls_ecdhe_rsa_with_aes_128_gcm_sha256);
}

// ---- Bleichenbacher / ROBOT ------------------------------------------------------------------

// A tampered EncryptedPreMasterSecret is never refused at the ClientKeyExchange: the server
// carries on with a secret the client does not share, and the handshake fails at the client's
// Finished (its record does not open: bad_record_mac), the same way whether the padding was bad,
// the version wrong, or the block simply another secret (RFC 5246 §7.4.7.1).
TEST(Tls12LegacyAttacks, TamperedPremasterSecretFailsAtFinished) {
  const crypto::PublicKey server_key = rsa().leaf.key.public_key();
  crypto::DeterministicRandom rng(V{42});
  auto encrypt = [&](std::uint16_t version) {
    V pms(48, 0x5c);
    pms[0] = static_cast<std::uint8_t>(version >> 8);
    pms[1] = static_cast<std::uint8_t>(version);
    return crypto::rsa_pkcs1_encrypt(server_key, pms, rng).value();
  };
  V bad_padding(256, 0x3a);
  bad_padding[0] = 0x00;  // below the modulus, so it decrypts to garbage
  struct Case {
    const char* what;
    std::optional<V> ciphertext;  // nullopt: the client's own
  };
  const Case cases[] = {
      {"untampered", std::nullopt},
      {"bad padding", bad_padding},
      {"good padding, wrong version", encrypt(0x0302)},
      {"good padding, another secret", encrypt(0x0303)},
      {"not below the modulus", V(256, 0xff)},
  };
  for (CipherSuite id :
       {CipherSuite::tls_rsa_with_aes_128_gcm_sha256, CipherSuite::tls_rsa_with_aes_256_cbc_sha}) {
    for (const auto& c : cases) {
      SCOPED_TRACE(std::string(name(id)) + ": " + c.what);
      auto p = connect(legacy_client(rsa(), {id}), legacy_server(rsa()));
      step(p.client, p.server);  // ClientHello
      step(p.server, p.client);  // ServerHello .. ServerHelloDone
      auto out = p.client.pending_output();
      V flight(out.begin(), out.end());
      p.client.consume_output(flight.size());
      // The first record holds the ClientKeyExchange alone: header 4, length 2, then 256 bytes.
      const std::size_t cke_end = record_offset(flight, 1);
      ASSERT_EQ(cke_end, 5u + 4 + 2 + 256);
      ASSERT_EQ(flight[5], static_cast<std::uint8_t>(HandshakeType::client_key_exchange));
      if (c.ciphertext) std::copy(c.ciphertext->begin(), c.ciphertext->end(), flight.begin() + 11);

      ASSERT_TRUE(p.server.feed(V(flight.begin(), flight.begin() + cke_end)))
          << "never refused at the ClientKeyExchange";
      EXPECT_TRUE(p.server.pending_output().empty()) << "no alert after the ClientKeyExchange";
      const bool ok = p.server.feed(V(flight.begin() + cke_end, flight.end())).ok();
      if (!c.ciphertext) {
        EXPECT_TRUE(ok) << why(p);
        continue;
      }
      ASSERT_FALSE(ok);
      ASSERT_NE(p.server.failure(), nullptr);
      EXPECT_EQ(p.server.failure()->alert, AlertDescription::bad_record_mac);
    }
  }
}

// ---- DHE parameters a client must refuse ------------------------------------------------------

namespace {

// Runs a DHE_RSA handshake to the server's first flight, replaces its ServerKeyExchange with
// one for (p, g, ys) correctly signed with the server's key, and gives it to the client.
// Returns the client's feed result.
Status client_sees_dhe_params(Connection& client, Connection& server, const V& p, const V& g,
                              const V& ys) {
  const V ch = step(client, server);
  auto out = server.pending_output();
  const V flight(out.begin(), out.end());
  server.consume_output(flight.size());
  auto messages = handshake_messages(flight);
  EXPECT_EQ(messages.size(), 4u);  // ServerHello, Certificate, ServerKeyExchange, Done
  const V client_random(ch.begin() + 11, ch.begin() + 43);
  const V server_random(messages.at(0).body.begin() + 2, messages.at(0).body.begin() + 34);
  EXPECT_EQ(messages.at(2).type, HandshakeType::server_key_exchange);
  auto original = decode_body<ServerKeyExchangeDhe>(messages.at(2).body).value();

  wire::Writer params;
  ServerKeyExchangeDhe::write_params(params, p, g, ys);
  V signed_data = client_random;
  signed_data.insert(signed_data.end(), server_random.begin(), server_random.end());
  signed_data.insert(signed_data.end(), params.data().begin(), params.data().end());
  const V sig = crypto::sign(rsa().leaf.key, to_crypto(original.scheme), signed_data).value();
  ServerKeyExchangeDhe ske;
  ske.dh_p = p;
  ske.dh_g = g;
  ske.dh_ys = ys;
  ske.scheme = original.scheme;
  ske.signature = sig;
  wire::Writer w;
  ske.encode(w);
  messages[2].body.assign(w.data().begin(), w.data().end());
  return client.feed(handshake_records(messages));
}

V ffdhe2048_prime() {
  crypto::DeterministicRandom rng(V{1});
  auto share = crypto::DhKeyShare::generate(crypto::FfdheGroup::ffdhe2048, rng).value();
  return V(share.prime().begin(), share.prime().end());
}

}  // namespace

// Logjam: a correctly signed prime under 2048 bits is insufficient_security.
TEST(Tls12LegacyAttacks, ClientRefusesSmallDhePrime) {
  for (std::size_t bytes : {64u, 128u, 192u, 255u}) {
    auto p = connect(legacy_client(rsa(), {CipherSuite::tls_dhe_rsa_with_aes_128_gcm_sha256}),
                     legacy_server(rsa()));
    const V prime(bytes, 0xff);  // odd; its size is what is refused
    auto fed = client_sees_dhe_params(p.client, p.server, prime, V{2}, V{4});
    ASSERT_FALSE(fed) << bytes;
    ASSERT_NE(p.client.failure(), nullptr);
    EXPECT_EQ(p.client.failure()->alert, AlertDescription::insufficient_security) << bytes;
  }
}

// A server's own 2048-bit group is accepted (the client answers with its ClientKeyExchange);
// a public value outside 1 < Ys < p-1 is illegal_parameter (RFC 7919 §5.1).
TEST(Tls12LegacyAttacks, ClientChecksServerDheValues) {
  const V p2048 = ffdhe2048_prime();
  V p_minus_1 = p2048;
  p_minus_1.back() -= 1;
  {
    auto p = connect(legacy_client(rsa(), {CipherSuite::tls_dhe_rsa_with_aes_128_gcm_sha256}),
                     legacy_server(rsa()));
    // g = 5 makes it a group of the server's own, not ffdhe2048.
    ASSERT_TRUE(client_sees_dhe_params(p.client, p.server, p2048, V{5}, V{4}))
        << (p.client.failure() ? p.client.failure()->error.message() : "");
    auto out = p.client.pending_output();
    ASSERT_GT(out.size(), 6u);
    EXPECT_EQ(out[5], static_cast<std::uint8_t>(HandshakeType::client_key_exchange));
    EXPECT_FALSE(p.client.info().group.has_value());
  }
  for (const V& ys : {V{1}, V{0}, p_minus_1, p2048}) {
    auto p = connect(legacy_client(rsa(), {CipherSuite::tls_dhe_rsa_with_aes_128_gcm_sha256}),
                     legacy_server(rsa()));
    ASSERT_FALSE(client_sees_dhe_params(p.client, p.server, p2048, V{2}, ys));
    ASSERT_NE(p.client.failure(), nullptr);
    EXPECT_EQ(p.client.failure()->alert, AlertDescription::illegal_parameter);
  }
}

// A ServerKeyExchange whose signature does not cover what was sent is decrypt_error before any
// of its parameters are used.
TEST(Tls12LegacyAttacks, DheParametersMustBeSigned) {
  auto p = connect(legacy_client(rsa(), {CipherSuite::tls_dhe_rsa_with_aes_128_gcm_sha256}),
                   legacy_server(rsa()));
  step(p.client, p.server);
  auto out = p.server.pending_output();
  const V flight(out.begin(), out.end());
  p.server.consume_output(flight.size());
  auto messages = handshake_messages(flight);
  ASSERT_EQ(messages.size(), 4u);
  messages[2].body[10] ^= 0x01;  // inside dh_p
  ASSERT_FALSE(p.client.feed(handshake_records(messages)));
  ASSERT_NE(p.client.failure(), nullptr);
  EXPECT_EQ(p.client.failure()->alert, AlertDescription::decrypt_error);
}
