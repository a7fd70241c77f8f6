// Malformed and out-of-order messages, one by one, each answered with the alert RFC 8446
// names. ClientHellos and ServerHellos are built by hand so that each can break one rule.
#include <gtest/gtest.h>

#include <functional>
#include <optional>

#include "bulwark/crypto/key_share.hpp"
#include "bulwark/tls/connection.hpp"
#include "bulwark/tls/messages.hpp"
#include "support/pki.hpp"
#include "support/tls_pair.hpp"

using namespace bulwark;
using namespace bulwark::tls;
using V = std::vector<std::uint8_t>;

namespace {

const test::Pki& pki() {
  static const test::Pki p = test::make_pki();
  return p;
}

// What a hand-built ClientHello contains; each test breaks one thing.
struct HelloSpec {
  std::vector<CipherSuite> suites = {CipherSuite::tls_aes_128_gcm_sha256};
  std::vector<std::uint8_t> compression = {0};
  std::vector<std::uint8_t> session_id = std::vector<std::uint8_t>(32, 0x11);
  std::optional<std::vector<ProtocolVersion>> versions =
      std::vector<ProtocolVersion>{ProtocolVersion::tls13};
  std::optional<std::vector<NamedGroup>> groups = std::vector<NamedGroup>{NamedGroup::x25519};
  std::optional<NamedGroup> share_group = NamedGroup::x25519;
  std::optional<V> share_value;  // default: a real X25519 public value
  bool signature_algorithms = true;
  bool duplicate_extension = false;
  bool psk_not_last = false;
  bool psk_without_modes = false;
  bool ems = false;  // TLS 1.2 extensions, for ClientHellos that negotiate TLS 1.2
  bool renegotiation_info = false;
  std::string server_name = "leaf.example.com";
};

V build_client_hello(const HelloSpec& h) {
  static const V x25519_public = [] {
    crypto::DeterministicRandom rng(V{1, 2, 3});
    auto ks = crypto::KeyShare::generate(crypto::Group::x25519, rng).value();
    return V(ks.public_value().begin(), ks.public_value().end());
  }();
  const V share = h.share_value.value_or(x25519_public);
  std::vector<KeyShareEntry> shares;
  if (h.share_group) shares.push_back(KeyShareEntry{*h.share_group, share});
  const SignatureScheme schemes[] = {SignatureScheme::ecdsa_secp256r1_sha256};
  const PskKeyExchangeMode modes[] = {PskKeyExchangeMode::psk_dhe_ke};
  const V ticket(40, 0x42);
  const V binder(32, 0x43);
  const PskIdentity ids[] = {PskIdentity{ticket, 0}};
  const PskBinderEntry binders[] = {PskBinderEntry{binder}};

  ClientHello ch;
  ch.random.fill(0x5a);
  ch.legacy_session_id = h.session_id;
  ch.cipher_suites = ValueList<CipherSuite>(h.suites);
  ch.legacy_compression_methods = ValueList<std::uint8_t>(h.compression);
  wire::Writer w;
  write_handshake(w, HandshakeType::client_hello, [&](wire::Writer& body) {
    ch.encode(body, [&](ExtensionsWriter& ext) {
      ext.add(ServerName{h.server_name});
      if (h.versions)
        ext.add(SupportedVersionsClientHello{ValueList<ProtocolVersion>(*h.versions)});
      if (h.groups) ext.add(SupportedGroups{ValueList<NamedGroup>(*h.groups)});
      if (h.share_group) ext.add(KeyShareClientHello{EntryList<KeyShareEntry>(shares)});
      if (h.signature_algorithms) ext.add(SignatureAlgorithms{ValueList<SignatureScheme>(schemes)});
      if (h.duplicate_extension) ext.add(SignatureAlgorithms{ValueList<SignatureScheme>(schemes)});
      if (!h.psk_without_modes && (h.psk_not_last)) {
        ext.add(PskKeyExchangeModes{ValueList<PskKeyExchangeMode>(modes)});
      }
      if (h.psk_not_last || h.psk_without_modes) {
        ext.add(OfferedPsks{EntryList<PskIdentity>(ids), EntryList<PskBinderEntry>(binders)});
      }
      if (h.ems) ext.add(ExtendedMasterSecret{});
      if (h.renegotiation_info) ext.add(RenegotiationInfo{});
      if (h.psk_not_last) ext.add(Cookie{ticket});
    });
  });
  EXPECT_TRUE(w.status());
  return w.take();
}

V record(ContentType type, const V& body) {
  V r = {static_cast<std::uint8_t>(type), 3, 3, static_cast<std::uint8_t>(body.size() >> 8),
         static_cast<std::uint8_t>(body.size())};
  r.insert(r.end(), body.begin(), body.end());
  return r;
}

// Feeds `bytes` to a fresh server; returns the alert it sent (nullopt if it did not fail).
std::optional<AlertDescription> server_alert(
    const V& bytes, std::shared_ptr<ServerConfig> cfg = test::server_config(pki())) {
  auto s = Connection::server(cfg).value();
  if (s.feed(bytes)) return std::nullopt;
  EXPECT_EQ(s.failure()->kind, Failure::Kind::sent_alert) << s.failure()->error.message();
  // The alert really is on the wire: a cleartext fatal alert record at the end.
  auto out = s.pending_output();
  EXPECT_GE(out.size(), 7u);
  if (out.size() >= 7) {
    EXPECT_EQ(out[out.size() - 7], 21);
    EXPECT_EQ(out[out.size() - 2], 2);
    EXPECT_EQ(out[out.size() - 1], static_cast<std::uint8_t>(s.failure()->alert));
  }
  // Errors are sticky.
  EXPECT_FALSE(s.feed(bytes));
  return s.failure()->alert;
}

std::optional<AlertDescription> hello_alert(
    const HelloSpec& h, std::shared_ptr<ServerConfig> cfg = test::server_config(pki())) {
  return server_alert(record(ContentType::handshake, build_client_hello(h)), cfg);
}

}  // namespace

TEST(TlsAlerts, WellFormedHandBuiltHelloIsAccepted) {
  // The baseline the other cases break: the server answers it with its flight.
  auto s = Connection::server(test::server_config(pki())).value();
  ASSERT_TRUE(s.feed(record(ContentType::handshake, build_client_hello({}))));
  EXPECT_FALSE(s.pending_output().empty());
}

// RFC 6066 §3 forbids address literals in server_name, but clients send them (wrk, older Java
// and Python): like OpenSSL and nginx, the server ignores such a name instead of failing.
TEST(TlsAlerts, AddressLiteralServerNameIsIgnored) {
  for (const char* literal : {"127.0.0.1", "::1"}) {
    HelloSpec spec;
    spec.server_name = literal;
    auto s = Connection::server(test::server_config(pki())).value();
    ASSERT_TRUE(s.feed(record(ContentType::handshake, build_client_hello(spec)))) << literal;
    EXPECT_FALSE(s.pending_output().empty());
    EXPECT_EQ(s.info().server_name, "") << literal;
  }
  HelloSpec dotted;
  dotted.server_name = "leaf.example.com.";
  EXPECT_EQ(server_alert(record(ContentType::handshake, build_client_hello(dotted))),
            AlertDescription::illegal_parameter);
}

// RFC 8446 §4.2.1: no version in common is protocol_version.
TEST(TlsAlerts, NoCommonVersionIsProtocolVersion) {
  auto only13 = test::server_config(pki());
  only13->min_version = ProtocolVersion::tls13;
  HelloSpec h;
  h.versions.reset();  // a TLS 1.2 ClientHello, to a TLS 1.3-only server
  EXPECT_EQ(hello_alert(h, only13), AlertDescription::protocol_version);
  h.versions = std::vector<ProtocolVersion>{ProtocolVersion::tls12};
  EXPECT_EQ(hello_alert(h, only13), AlertDescription::protocol_version);
  // TLS 1.1 and older are never spoken (BEAST, POODLE, Slapper's SSLv2 lineage).
  h.versions = std::vector<ProtocolVersion>{ProtocolVersion::tls11, ProtocolVersion::tls10};
  EXPECT_EQ(hello_alert(h), AlertDescription::protocol_version);
}

// RFC 8446 §4.1.2: legacy_compression_methods other than exactly [null] is illegal_parameter.
TEST(TlsAlerts, CompressionIsIllegalParameter) {
  HelloSpec h;
  h.compression = {0, 1};
  EXPECT_EQ(hello_alert(h), AlertDescription::illegal_parameter);
  h.compression = {1};
  EXPECT_EQ(hello_alert(h), AlertDescription::illegal_parameter);
}

// RFC 8446 §9.2: key_share and supported_groups come together, and are needed for (EC)DHE.
TEST(TlsAlerts, MissingGroupsOrSharesIsMissingExtension) {
  HelloSpec h;
  h.groups.reset();
  EXPECT_EQ(hello_alert(h), AlertDescription::missing_extension);
  HelloSpec k;
  k.share_group.reset();
  EXPECT_EQ(hello_alert(k), AlertDescription::missing_extension);
}

// RFC 8446 §4.2.8: a share for a group not in supported_groups is illegal_parameter.
TEST(TlsAlerts, ShareOutsideSupportedGroupsIsIllegalParameter) {
  HelloSpec h;
  h.groups = std::vector<NamedGroup>{NamedGroup::secp256r1};
  EXPECT_EQ(hello_alert(h), AlertDescription::illegal_parameter);
}

// RFC 8446 §7.4.2 / RFC 7748 §6.1: an X25519 share giving the all-zero secret.
TEST(TlsAlerts, LowOrderShareIsIllegalParameter) {
  HelloSpec h;
  h.share_value = V(32, 0);
  EXPECT_EQ(hello_alert(h), AlertDescription::illegal_parameter);
  h.share_value = V(31, 9);  // wrong length
  EXPECT_EQ(hello_alert(h), AlertDescription::illegal_parameter);
}

// RFC 8446 §9.2: certificate authentication needs signature_algorithms.
TEST(TlsAlerts, MissingSignatureAlgorithmsIsMissingExtension) {
  HelloSpec h;
  h.signature_algorithms = false;
  EXPECT_EQ(hello_alert(h), AlertDescription::missing_extension);
}

// RFC 8446 §4.2: the same extension twice is illegal_parameter.
TEST(TlsAlerts, DuplicateExtensionIsIllegalParameter) {
  HelloSpec h;
  h.duplicate_extension = true;
  EXPECT_EQ(hello_alert(h), AlertDescription::illegal_parameter);
}

// RFC 8446 §4.2.11: pre_shared_key must be the last extension.
TEST(TlsAlerts, PskNotLastIsIllegalParameter) {
  HelloSpec h;
  h.psk_not_last = true;
  EXPECT_EQ(hello_alert(h), AlertDescription::illegal_parameter);
}

// RFC 8446 §4.2.9: pre_shared_key without psk_key_exchange_modes.
TEST(TlsAlerts, PskWithoutModesIsMissingExtension) {
  HelloSpec h;
  h.psk_without_modes = true;
  EXPECT_EQ(hello_alert(h), AlertDescription::missing_extension);
}

// No suite in common.
TEST(TlsAlerts, NoCommonSuiteIsHandshakeFailure) {
  HelloSpec h;
  h.suites = {CipherSuite::tls_aes_128_ccm_sha256};
  EXPECT_EQ(hello_alert(h), AlertDescription::handshake_failure);
}

// The Slapper worm's overlong session id: a length check, never an overflow.
TEST(TlsAlerts, OverlongSessionIdIsDecodeError) {
  V ch = build_client_hello({});
  // session id length byte: header(4) + version(2) + random(32).
  ASSERT_EQ(ch[38], 32);
  ch[38] = 33;
  EXPECT_EQ(server_alert(record(ContentType::handshake, ch)), AlertDescription::decode_error);
}

// A message cut short or with bytes after its end is decode_error, at every cut point.
TEST(TlsAlerts, TruncatedOrTrailingHelloIsDecodeError) {
  const V ch = build_client_hello({});
  for (std::size_t cut = 5; cut < ch.size(); cut += 7) {
    V bad(ch.begin(), ch.begin() + static_cast<std::ptrdiff_t>(cut));
    // Fix the handshake length so the message is "complete" but its body short.
    const std::size_t body = cut - 4;
    bad[1] = static_cast<std::uint8_t>(body >> 16);
    bad[2] = static_cast<std::uint8_t>(body >> 8);
    bad[3] = static_cast<std::uint8_t>(body);
    EXPECT_EQ(server_alert(record(ContentType::handshake, bad)), AlertDescription::decode_error)
        << cut;
  }
  V trailing = ch;
  trailing.push_back(0);
  const std::size_t body = trailing.size() - 4;
  trailing[1] = static_cast<std::uint8_t>(body >> 16);
  trailing[2] = static_cast<std::uint8_t>(body >> 8);
  trailing[3] = static_cast<std::uint8_t>(body);
  EXPECT_EQ(server_alert(record(ContentType::handshake, trailing)), AlertDescription::decode_error);
}

// Handshake states accept only their legal next messages.
TEST(TlsAlerts, WrongFirstMessageIsUnexpectedMessage) {
  const V finished = {20, 0, 0, 32};
  V fin = finished;
  fin.resize(4 + 32, 0);
  EXPECT_EQ(server_alert(record(ContentType::handshake, fin)),
            AlertDescription::unexpected_message);
  const V key_update = {24, 0, 0, 1, 0};
  EXPECT_EQ(server_alert(record(ContentType::handshake, key_update)),
            AlertDescription::unexpected_message);
}

TEST(TlsAlerts, RecordLevelViolations) {
  // RFC 8446 §5: CCS before the first ClientHello; application data before the handshake.
  EXPECT_EQ(server_alert(record(ContentType::change_cipher_spec, {1})),
            AlertDescription::unexpected_message);
  EXPECT_EQ(server_alert(record(ContentType::application_data, {1, 2, 3})),
            AlertDescription::unexpected_message);
  // TLS 1.3 has no heartbeat protocol.
  EXPECT_EQ(server_alert(record(ContentType::heartbeat, {1, 0, 0})),
            AlertDescription::unexpected_message);
  // RFC 8446 §5.1: an alert record is exactly two bytes.
  EXPECT_EQ(server_alert(record(ContentType::alert, {2, 40, 0})), AlertDescription::decode_error);
  // RFC 8446 §5.1: a plaintext record longer than 2^14 is record_overflow.
  EXPECT_EQ(server_alert(record(ContentType::handshake, V((1 << 14) + 1, 0))),
            AlertDescription::record_overflow);
  // An unknown content type.
  EXPECT_EQ(server_alert(record(static_cast<ContentType>(99), {1})),
            AlertDescription::unexpected_message);
}

// A handshake message bigger than our limit is refused from its header alone.
TEST(TlsAlerts, OversizedHandshakeMessageIsRefusedEarly) {
  const V header = {1, 0x10, 0x00, 0x00};  // a 1 MiB ClientHello
  EXPECT_EQ(server_alert(record(ContentType::handshake, header)),
            AlertDescription::illegal_parameter);
}

// A fatal alert from the peer ends the connection, and is reported as received.
TEST(TlsAlerts, ReceivedAlertIsReported) {
  auto s = Connection::server(test::server_config(pki())).value();
  auto st = s.feed(record(ContentType::alert, {2, 40}));
  ASSERT_FALSE(st);
  EXPECT_EQ(s.failure()->kind, Failure::Kind::received_alert);
  EXPECT_EQ(s.failure()->alert, AlertDescription::handshake_failure);
  EXPECT_TRUE(s.pending_output().empty()) << "no alert is sent in answer to an alert";
}

// --- the client's checks on the ServerHello --------------------------------------------

namespace {

struct ServerHelloSpec {
  CipherSuite suite = CipherSuite::tls_aes_128_gcm_sha256;
  std::optional<ProtocolVersion> version = ProtocolVersion::tls13;
  std::optional<NamedGroup> share_group = NamedGroup::x25519;
  bool echo_session_id = true;
  std::uint8_t compression = 0;
  bool extra_alpn = false;
  bool hrr = false;
  bool downgrade_sentinel = false;
};

// Builds a ServerHello answering the ClientHello the client just sent.
std::optional<AlertDescription> client_alert(
    const ServerHelloSpec& h, int repeat = 1,
    std::shared_ptr<ClientConfig> cfg = test::client_config(pki())) {
  auto c = Connection::client(cfg, "leaf.example.com").value();
  auto out = c.pending_output();
  V chv(out.begin(), out.end());
  c.consume_output(chv.size());
  wire::Reader r(wire::Bytes(chv).subspan(5 + 4));
  auto ch = ClientHello::decode(r).value();

  static const V server_share = [] {
    crypto::DeterministicRandom rng(V{9});
    auto ks = crypto::KeyShare::generate(crypto::Group::x25519, rng).value();
    return V(ks.public_value().begin(), ks.public_value().end());
  }();
  const V random(32, 0x77);
  const ProtocolName alpn[] = {ProtocolName{as_bytes("h2")}};
  ServerHello sh;
  if (h.hrr) {
    sh.random = hello_retry_request_random;
  } else {
    std::copy(random.begin(), random.end(), sh.random.begin());
  }
  if (h.downgrade_sentinel) {
    std::copy(downgrade_tls12_sentinel.begin(), downgrade_tls12_sentinel.end(),
              sh.random.end() - 8);
  }
  sh.legacy_session_id_echo = h.echo_session_id ? ch.legacy_session_id : wire::Bytes();
  sh.cipher_suite = h.suite;
  sh.legacy_compression_method = h.compression;
  wire::Writer w;
  write_handshake(w, HandshakeType::server_hello, [&](wire::Writer& body) {
    sh.encode(body, [&](ExtensionsWriter& ext) {
      if (h.version) ext.add(SupportedVersionsServerHello{*h.version});
      if (h.share_group && h.hrr) ext.add(KeyShareHelloRetryRequest{*h.share_group});
      if (h.share_group && !h.hrr) {
        ext.add(KeyShareServerHello{KeyShareEntry{*h.share_group, server_share}});
      }
      if (h.extra_alpn) ext.add(AlpnProtocols{EntryList<ProtocolName>(alpn)});
    });
  });
  const V rec = record(ContentType::handshake, w.take());
  for (int i = 0; i < repeat; ++i) {
    if (!c.feed(rec)) return c.failure()->alert;
  }
  return std::nullopt;
}

}  // namespace

// RFC 8446 §4.1.3 / §4.2: the client's ServerHello checks, one by one.
TEST(TlsAlerts, ClientChecksTheServerHello) {
  {
    ServerHelloSpec h;
    h.suite = CipherSuite::tls_aes_128_ccm_sha256;  // not offered
    EXPECT_EQ(client_alert(h), AlertDescription::illegal_parameter);
  }
  {
    ServerHelloSpec h;
    h.version.reset();  // a TLS 1.2 ServerHello, to a TLS 1.3-only client
    auto only13 = test::client_config(pki());
    only13->min_version = ProtocolVersion::tls13;
    EXPECT_EQ(client_alert(h, 1, only13), AlertDescription::protocol_version);
    // To a client that also offers TLS 1.2: a TLS 1.3 suite in a TLS 1.2 ServerHello.
    EXPECT_EQ(client_alert(h), AlertDescription::illegal_parameter);
  }
  {
    ServerHelloSpec h;
    h.version = static_cast<ProtocolVersion>(0x0305);
    EXPECT_EQ(client_alert(h), AlertDescription::illegal_parameter);
  }
  {
    ServerHelloSpec h;
    h.echo_session_id = false;
    EXPECT_EQ(client_alert(h), AlertDescription::illegal_parameter);
  }
  {
    ServerHelloSpec h;
    h.compression = 1;
    EXPECT_EQ(client_alert(h), AlertDescription::illegal_parameter);
  }
  {
    ServerHelloSpec h;
    h.share_group = NamedGroup::secp256r1;  // not the group of our share
    EXPECT_EQ(client_alert(h), AlertDescription::illegal_parameter);
  }
  {
    ServerHelloSpec h;
    h.share_group.reset();
    EXPECT_EQ(client_alert(h), AlertDescription::missing_extension);
  }
  {
    ServerHelloSpec h;
    h.extra_alpn = true;  // never offered (no ALPN configured)
    EXPECT_EQ(client_alert(h), AlertDescription::unsupported_extension);
  }
}

// RFC 8446 §4.1.4: HelloRetryRequest rules.
TEST(TlsAlerts, ClientChecksTheHelloRetryRequest) {
  {
    ServerHelloSpec h;
    h.hrr = true;
    h.share_group = NamedGroup::x25519;  // the group we already sent
    EXPECT_EQ(client_alert(h), AlertDescription::illegal_parameter);
  }
  {
    ServerHelloSpec h;
    h.hrr = true;
    h.share_group.reset();  // asks for nothing
    EXPECT_EQ(client_alert(h), AlertDescription::illegal_parameter);
  }
  {
    ServerHelloSpec h;
    h.hrr = true;
    h.share_group = NamedGroup::secp256r1;
    EXPECT_EQ(client_alert(h, 1), std::nullopt) << "a valid HRR is answered";
    EXPECT_EQ(client_alert(h, 2), AlertDescription::unexpected_message) << "a second HRR";
  }
}

// The wrong message in the client's first state.
TEST(TlsAlerts, ClientRejectsOutOfOrderMessages) {
  auto c = Connection::client(test::client_config(pki()), "leaf.example.com").value();
  c.consume_output(c.pending_output().size());
  const V ee = {8, 0, 0, 2, 0, 0};
  EXPECT_FALSE(c.feed(record(ContentType::handshake, ee)));
  EXPECT_EQ(c.failure()->alert, AlertDescription::unexpected_message);
}

// --- TLS 1.2 ClientHellos -----------------------------------------------------------------

namespace {

HelloSpec tls12_hello() {
  HelloSpec h;
  h.versions.reset();  // legacy_version 0x0303, no supported_versions: a TLS 1.2 ClientHello
  h.suites = {CipherSuite::tls_ecdhe_ecdsa_with_aes_128_gcm_sha256};
  h.groups = std::vector<NamedGroup>{NamedGroup::x25519, NamedGroup::secp256r1};
  h.share_group.reset();
  h.ems = true;
  h.renegotiation_info = true;
  return h;
}

}  // namespace

TEST(TlsAlerts, Tls12BaselineIsAccepted) {
  auto s = Connection::server(test::server_config(pki())).value();
  ASSERT_TRUE(s.feed(record(ContentType::handshake, build_client_hello(tls12_hello()))));
  EXPECT_FALSE(s.pending_output().empty());
}

// CRIME: a ClientHello without the null compression method is refused.
TEST(TlsAlerts, Tls12CompressionOnlyHelloIsIllegalParameter) {
  HelloSpec h = tls12_hello();
  h.compression = {1};
  EXPECT_EQ(hello_alert(h), AlertDescription::illegal_parameter);
}

// RFC 7507 §3: TLS_FALLBACK_SCSV from a client we could have served better.
TEST(TlsAlerts, FallbackScsvIsInappropriateFallback) {
  HelloSpec h = tls12_hello();
  h.suites.push_back(CipherSuite::tls_fallback_scsv);
  EXPECT_EQ(hello_alert(h), AlertDescription::inappropriate_fallback);
  // A TLS 1.2-only server has nothing better to offer: it carries on.
  auto s12 = test::server_config(pki());
  s12->max_version = ProtocolVersion::tls12;
  EXPECT_EQ(hello_alert(h, s12), std::nullopt);
}

// RFC 7627: the extended master secret is required by default.
TEST(TlsAlerts, Tls12WithoutEmsIsHandshakeFailure) {
  HelloSpec h = tls12_hello();
  h.ems = false;
  EXPECT_EQ(hello_alert(h), AlertDescription::handshake_failure);
}

// RFC 5746 §3.6 / the Slapper worm's overlong session id on the TLS 1.2 path.
TEST(TlsAlerts, Tls12OverlongSessionIdIsDecodeError) {
  V ch = build_client_hello(tls12_hello());
  ASSERT_EQ(ch[38], 32);
  ch[38] = 33;
  EXPECT_EQ(server_alert(record(ContentType::handshake, ch)), AlertDescription::decode_error);
}

// RFC 8446 §4.1.3: a TLS 1.2 ServerHello carrying the downgrade sentinel, received by a
// client that offered TLS 1.3, is an attack: illegal_parameter.
TEST(TlsAlerts, DowngradeSentinelIsDetected) {
  ServerHelloSpec h;
  h.version.reset();
  h.suite = CipherSuite::tls_ecdhe_ecdsa_with_aes_128_gcm_sha256;
  h.share_group.reset();
  // Without the sentinel the same ServerHello gets further (and fails on the missing
  // renegotiation_info), so the illegal_parameter below is the sentinel's doing.
  EXPECT_EQ(client_alert(h), AlertDescription::handshake_failure);
  h.downgrade_sentinel = true;
  EXPECT_EQ(client_alert(h), AlertDescription::illegal_parameter);
}
