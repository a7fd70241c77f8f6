#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "bulwark/tls/extensions.hpp"
#include "bulwark/tls/messages.hpp"
#include "bulwark/tls/types.hpp"
#include "bulwark/wire.hpp"
#include "support/hex.hpp"
#include "vectors/rfc8448.hpp"

using namespace bulwark;
using namespace bulwark::tls;
using Buf = std::vector<std::uint8_t>;

namespace {

namespace rfc8448 = bulwark::test::rfc8448;

// RFC 8448 §3 (Simple 1-RTT Handshake): the handshake messages exactly as the RFC prints them,
// and the SHA-256 transcript hashes the trace prints (ClientHello..ServerHello, and
// ClientHello..server Finished), which pin every byte of them.
constexpr const char* kRfc8448ClientHello = rfc8448::s3::client_hello;
constexpr const char* kRfc8448ServerHello = rfc8448::s3::server_hello;
constexpr const char* kRfc8448EncryptedExtensions = rfc8448::s3::encrypted_extensions;
constexpr const char* kRfc8448Certificate = rfc8448::s3::certificate;
constexpr const char* kRfc8448CertificateVerify = rfc8448::s3::certificate_verify;
constexpr const char* kRfc8448ServerFinished = rfc8448::s3::server_finished;
constexpr const char* kRfc8448NewSessionTicket = rfc8448::s3::new_session_ticket;
constexpr const char* kRfc8448HashHellos = rfc8448::s3::hello_hash;
constexpr const char* kRfc8448HashToServerFinished = rfc8448::s3::server_finished_hash;
// RFC 8448 §4 (Resumed 0-RTT Handshake): the ClientHello with a pre_shared_key extension, the
// binder's finished key and the binder it computes over the truncated hello.
constexpr const char* kRfc8448ResumedClientHello = rfc8448::s4::client_hello;
constexpr const char* kRfc8448BinderFinishedKey = rfc8448::s4::binder_finished_key;
constexpr const char* kRfc8448Binder = rfc8448::s4::binder;

Buf hex(std::string_view text) {
  return bulwark::test::hex(text);
}

Buf concat(std::initializer_list<Buf> parts) {
  Buf out;
  for (const Buf& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

Buf sha256(const Buf& data) {
  Buf out(32);
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr), 1);
  return out;
}

Buf as_buf(wire::Bytes b) {
  return Buf(b.begin(), b.end());
}

// The body of one whole handshake message of type `type`.
wire::Bytes body_of(const Buf& message, HandshakeType type) {
  wire::Reader r(message);
  auto m = read_handshake(r);
  EXPECT_TRUE(m) << m.error().message();
  if (!m) return {};
  EXPECT_EQ(m->type, type);
  EXPECT_TRUE(r.empty());
  return m->body;
}

template <class M>
Buf encode_message(const M& m) {
  wire::Writer w;
  write_handshake(w, m);
  EXPECT_TRUE(w.ok()) << w.status().error().message();
  return w.take();
}

template <class M>
Buf encode_body(const M& m) {
  wire::Writer w;
  m.encode(w);
  EXPECT_TRUE(w.ok()) << w.status().error().message();
  return w.take();
}

template <class M, class... Args>
Errc decode_error(const Buf& body, Args... args) {
  auto r = decode_body<M>(body, args...);
  if (r) return Errc{};
  return r.error().code();
}

// encode -> decode -> same value -> encode -> same bytes; every strict prefix except those in
// `valid_prefixes` is refused; a trailing byte is refused.
template <class M, class... Args>
void expect_round_trip(const M& value, std::vector<std::size_t> valid_prefixes, Args... args) {
  const Buf body = encode_body(value);
  auto decoded = decode_body<M>(body, args...);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_TRUE(*decoded == value);
  EXPECT_EQ(encode_body(*decoded), body);
  for (std::size_t n = 0; n < body.size(); ++n) {
    const Buf prefix(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(n));
    const bool allowed =
        std::find(valid_prefixes.begin(), valid_prefixes.end(), n) != valid_prefixes.end();
    EXPECT_EQ(static_cast<bool>(decode_body<M>(prefix, args...)), allowed) << "prefix " << n;
  }
  Buf longer = body;
  longer.push_back(0);
  EXPECT_FALSE(decode_body<M>(longer, args...)) << "trailing byte accepted";
}

template <class M, class... Args>
void expect_round_trip(const M& value, Args... args) {
  expect_round_trip(value, std::vector<std::size_t>{}, args...);
}

HelloRandom random_of(std::uint8_t fill) {
  HelloRandom r;
  r.fill(fill);
  return r;
}

}  // namespace

// ---- framing -------------------------------------------------------------------------------

TEST(TlsMessages, ReadHandshakeWaitsForWholeMessagesAndConsumesNothingMeanwhile) {
  const Buf two = concat({hex("0e 00 00 00"), hex("14 00 00 03 aa bb cc")});
  for (std::size_t n = 0; n < 4; ++n) {
    const Buf part(two.begin(), two.begin() + static_cast<std::ptrdiff_t>(n));
    wire::Reader r(part);
    auto m = read_handshake(r);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code(), Errc::truncated);
    EXPECT_EQ(r.consumed(), 0u);
  }
  wire::Reader r(two);
  auto first = read_handshake(r);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->type, HandshakeType::server_hello_done);
  EXPECT_TRUE(first->body.empty());
  EXPECT_EQ(first->message.size(), 4u);
  auto second = read_handshake(r);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->type, HandshakeType::finished);
  EXPECT_EQ(as_buf(second->body), hex("aa bb cc"));
  EXPECT_EQ(as_buf(second->message), hex("14 00 00 03 aa bb cc"));
  EXPECT_TRUE(r.empty());

  const Buf partial_body = hex("14 00 00 03 aa bb");
  wire::Reader r2(partial_body);
  auto m = read_handshake(r2);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), Errc::truncated);
  EXPECT_EQ(r2.consumed(), 0u);
}

TEST(TlsMessages, ReadHandshakeRefusesOversizedBodiesFromTheHeaderAlone) {
  // A 16 MiB certificate announced in 4 bytes: refused before any body arrives.
  const Buf header = hex("0b ff ff ff");
  wire::Reader r(header);
  auto m = read_handshake(r);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), Errc::limit_exceeded);
  EXPECT_EQ(r.consumed(), 0u);
  // Exactly at the limit is fine (once it has arrived).
  Buf at_limit = hex("0b 00 00 10");
  at_limit.resize(4 + 16, 0);
  wire::Reader r2(at_limit);
  EXPECT_TRUE(read_handshake(r2, 16));
  wire::Reader r3(at_limit);
  auto over = read_handshake(r3, 15);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), Errc::limit_exceeded);
}

TEST(TlsMessages, WriteHandshakeFillsInTheLength) {
  wire::Writer w;
  write_handshake(w, HandshakeType::finished, [](wire::Writer& out) { out.bytes(hex("01 02")); });
  EXPECT_EQ(w.take(), hex("14 00 00 02 01 02"));
  EXPECT_EQ(encode_message(ServerHelloDone{}), hex("0e 00 00 00"));
  wire::Writer h;
  HandshakeHeader{HandshakeType::key_update, 1}.encode(h);
  EXPECT_EQ(h.take(), hex("18 00 00 01"));
}

// ---- RFC 8448 golden messages --------------------------------------------------------------

TEST(TlsMessages, Rfc8448VectorsAreTheRfcBytes) {
  // The transcript hashes RFC 8448 §3 prints pin every byte we transcribed.
  EXPECT_EQ(sha256(concat({hex(kRfc8448ClientHello), hex(kRfc8448ServerHello)})),
            hex(kRfc8448HashHellos));
  EXPECT_EQ(sha256(concat({hex(kRfc8448ClientHello), hex(kRfc8448ServerHello),
                           hex(kRfc8448EncryptedExtensions), hex(kRfc8448Certificate),
                           hex(kRfc8448CertificateVerify), hex(kRfc8448ServerFinished)})),
            hex(kRfc8448HashToServerFinished));
}

TEST(TlsMessages, Rfc8448ClientHello) {
  const Buf message = hex(kRfc8448ClientHello);
  auto ch = decode_body<ClientHello>(body_of(message, HandshakeType::client_hello));
  ASSERT_TRUE(ch) << ch.error().message();
  EXPECT_EQ(ch->legacy_version, ProtocolVersion::tls12);
  EXPECT_EQ(ch->random[0], 0xcb);
  EXPECT_EQ(ch->random[31], 0xe7);
  EXPECT_TRUE(ch->legacy_session_id.empty());
  const std::array<CipherSuite, 3> suites = {CipherSuite::tls_aes_128_gcm_sha256,
                                             CipherSuite::tls_chacha20_poly1305_sha256,
                                             CipherSuite::tls_aes_256_gcm_sha384};
  EXPECT_TRUE(ch->cipher_suites == ValueList<CipherSuite>(suites));
  EXPECT_EQ(ch->legacy_compression_methods.size(), 1u);
  EXPECT_EQ(ch->legacy_compression_methods[0], 0);
  ASSERT_TRUE(ch->has_extensions);

  std::vector<ExtensionType> order;
  for (const Extension& e : ch->extensions)
    order.push_back(e.type);
  EXPECT_EQ(order, (std::vector<ExtensionType>{
                       ExtensionType::server_name, ExtensionType::renegotiation_info,
                       ExtensionType::supported_groups, ExtensionType::session_ticket,
                       ExtensionType::key_share, ExtensionType::supported_versions,
                       ExtensionType::signature_algorithms, ExtensionType::psk_key_exchange_modes,
                       ExtensionType::record_size_limit}));

  auto sni = ch->extensions.get<ServerName>();
  ASSERT_TRUE(sni && *sni);
  EXPECT_EQ((*sni)->host_name, "server");
  auto reneg = ch->extensions.get<RenegotiationInfo>();
  ASSERT_TRUE(reneg && *reneg);
  EXPECT_TRUE((*reneg)->renegotiated_connection.empty());
  auto groups = ch->extensions.get<SupportedGroups>();
  ASSERT_TRUE(groups && *groups);
  const std::array<NamedGroup, 9> want_groups = {
      NamedGroup::x25519,    NamedGroup::secp256r1, NamedGroup::secp384r1,
      NamedGroup::secp521r1, NamedGroup::ffdhe2048, NamedGroup::ffdhe3072,
      NamedGroup::ffdhe4096, NamedGroup::ffdhe6144, NamedGroup::ffdhe8192};
  EXPECT_TRUE((*groups)->groups == ValueList<NamedGroup>(want_groups));
  auto ticket = ch->extensions.get<SessionTicketExtension>();
  ASSERT_TRUE(ticket && *ticket);
  EXPECT_TRUE((*ticket)->ticket.empty());
  auto shares = ch->extensions.get<KeyShareClientHello>();
  ASSERT_TRUE(shares && *shares);
  ASSERT_EQ((*shares)->client_shares.size(), 1u);
  auto x25519 = (*shares)->find(NamedGroup::x25519);
  ASSERT_TRUE(x25519);
  // RFC 8448 §3: the client's ephemeral x25519 public key.
  EXPECT_EQ(as_buf(x25519->key_exchange),
            hex("99 38 1d e5 60 e4 bd 43 d2 3d 8e 43 5a 7d ba fe b3 c0 6e 51 c1 3c ae 4d 54 13 69 "
                "1e 52 9a af 2c"));
  auto versions = ch->extensions.get<SupportedVersionsClientHello>();
  ASSERT_TRUE(versions && *versions);
  ASSERT_EQ((*versions)->versions.size(), 1u);
  EXPECT_EQ((*versions)->versions[0], ProtocolVersion::tls13);
  auto sigalgs = ch->extensions.get<SignatureAlgorithms>();
  ASSERT_TRUE(sigalgs && *sigalgs);
  EXPECT_EQ((*sigalgs)->schemes.size(), 15u);
  EXPECT_EQ((*sigalgs)->schemes[0], SignatureScheme::ecdsa_secp256r1_sha256);
  EXPECT_TRUE((*sigalgs)->schemes.contains(SignatureScheme::rsa_pss_rsae_sha256));
  EXPECT_FALSE((*sigalgs)->schemes.contains(SignatureScheme::ed25519));
  auto modes = ch->extensions.get<PskKeyExchangeModes>();
  ASSERT_TRUE(modes && *modes);
  EXPECT_TRUE((*modes)->modes.contains(PskKeyExchangeMode::psk_dhe_ke));
  auto rsl = ch->extensions.get<RecordSizeLimit>();
  ASSERT_TRUE(rsl && *rsl);
  EXPECT_EQ((*rsl)->limit, 0x4001);

  EXPECT_EQ(encode_message(*ch), message);
}

TEST(TlsMessages, Rfc8448ServerHello) {
  const Buf message = hex(kRfc8448ServerHello);
  auto sh = decode_body<ServerHello>(body_of(message, HandshakeType::server_hello));
  ASSERT_TRUE(sh) << sh.error().message();
  EXPECT_EQ(sh->legacy_version, ProtocolVersion::tls12);
  EXPECT_EQ(sh->random[0], 0xa6);
  EXPECT_TRUE(sh->legacy_session_id_echo.empty());
  EXPECT_EQ(sh->cipher_suite, CipherSuite::tls_aes_128_gcm_sha256);
  EXPECT_EQ(sh->legacy_compression_method, 0);
  EXPECT_FALSE(sh->is_hello_retry_request());
  EXPECT_FALSE(sh->has_tls12_downgrade_sentinel());
  EXPECT_EQ(sh->extensions.size(), 2u);
  auto share = sh->extensions.get<KeyShareServerHello>();
  ASSERT_TRUE(share && *share);
  EXPECT_EQ((*share)->server_share.group, NamedGroup::x25519);
  EXPECT_EQ(as_buf((*share)->server_share.key_exchange),
            hex("c9 82 88 76 11 20 95 fe 66 76 2b db f7 c6 72 e1 56 d6 cc 25 3b 83 3d f1 dd 69 b1 "
                "b0 4e 75 1f 0f"));
  auto version = sh->extensions.get<SupportedVersionsServerHello>();
  ASSERT_TRUE(version && *version);
  EXPECT_EQ((*version)->selected_version, ProtocolVersion::tls13);
  EXPECT_EQ(encode_message(*sh), message);
}

TEST(TlsMessages, Rfc8448ServerFlight) {
  const Buf ee_message = hex(kRfc8448EncryptedExtensions);
  auto ee =
      decode_body<EncryptedExtensions>(body_of(ee_message, HandshakeType::encrypted_extensions));
  ASSERT_TRUE(ee) << ee.error().message();
  EXPECT_EQ(ee->extensions.size(), 3u);
  auto groups = ee->extensions.get<SupportedGroups>();
  ASSERT_TRUE(groups && *groups);
  EXPECT_EQ((*groups)->groups.size(), 9u);
  auto rsl = ee->extensions.get<RecordSizeLimit>();
  ASSERT_TRUE(rsl && *rsl);
  EXPECT_EQ((*rsl)->limit, 0x4001);
  // RFC 6066 §3: the server acknowledges SNI with an empty extension.
  auto sni = ee->extensions.get<ServerNameAck>();
  ASSERT_TRUE(sni && *sni);
  EXPECT_EQ(encode_message(*ee), ee_message);

  const Buf cert_message = hex(kRfc8448Certificate);
  auto cert = decode_body<Certificate13>(body_of(cert_message, HandshakeType::certificate));
  ASSERT_TRUE(cert) << cert.error().message();
  EXPECT_TRUE(cert->certificate_request_context.empty());
  ASSERT_EQ(cert->certificate_list.size(), 1u);
  EXPECT_EQ(cert->certificate_list.begin()->cert_data.size(), 432u);
  EXPECT_EQ(cert->certificate_list.begin()->cert_data[0], 0x30);
  EXPECT_TRUE(cert->certificate_list.begin()->extensions.empty());
  EXPECT_EQ(encode_message(*cert), cert_message);

  const Buf cv_message = hex(kRfc8448CertificateVerify);
  auto cv = decode_body<CertificateVerify>(body_of(cv_message, HandshakeType::certificate_verify));
  ASSERT_TRUE(cv) << cv.error().message();
  EXPECT_EQ(cv->scheme, SignatureScheme::rsa_pss_rsae_sha256);
  EXPECT_EQ(cv->signature.size(), 128u);
  EXPECT_EQ(encode_message(*cv), cv_message);

  const Buf fin_message = hex(kRfc8448ServerFinished);
  auto fin = decode_body<Finished>(body_of(fin_message, HandshakeType::finished), 32);
  ASSERT_TRUE(fin) << fin.error().message();
  EXPECT_EQ(fin->verify_data[0], 0x9b);
  EXPECT_EQ(encode_message(*fin), fin_message);
  // The wrong verify_data length for the suite is malformed either way.
  EXPECT_EQ(decode_error<Finished>(as_buf(body_of(fin_message, HandshakeType::finished)), 48),
            Errc::truncated);
  EXPECT_EQ(decode_error<Finished>(as_buf(body_of(fin_message, HandshakeType::finished)), 12),
            Errc::trailing_data);
}

TEST(TlsMessages, Rfc8448NewSessionTicket) {
  const Buf message = hex(kRfc8448NewSessionTicket);
  auto nst = decode_body<NewSessionTicket13>(body_of(message, HandshakeType::new_session_ticket));
  ASSERT_TRUE(nst) << nst.error().message();
  EXPECT_EQ(nst->ticket_lifetime, 30u);
  EXPECT_EQ(nst->ticket_age_add, 0xfad6aac5u);
  EXPECT_EQ(as_buf(nst->ticket_nonce), hex("00 00"));
  EXPECT_EQ(nst->ticket.size(), 178u);
  auto early = nst->extensions.get<EarlyDataTicket>();
  ASSERT_TRUE(early && *early);
  EXPECT_EQ((*early)->max_early_data_size, 1024u);
  EXPECT_EQ(encode_message(*nst), message);
}

TEST(TlsMessages, Rfc8448ResumedClientHelloBinderPrefix) {
  const Buf message = hex(kRfc8448ResumedClientHello);
  auto ch = decode_body<ClientHello>(body_of(message, HandshakeType::client_hello));
  ASSERT_TRUE(ch) << ch.error().message();
  EXPECT_EQ(ch->extensions.last_type(), ExtensionType::pre_shared_key);
  auto psks = ch->extensions.get<OfferedPsks>();
  ASSERT_TRUE(psks && *psks);
  ASSERT_EQ((*psks)->identities.size(), 1u);
  EXPECT_EQ((*psks)->identities.begin()->identity.size(), 178u);
  EXPECT_EQ((*psks)->identities.begin()->obfuscated_ticket_age, 0xfad6aacbu);
  ASSERT_EQ((*psks)->binders.size(), 1u);
  EXPECT_EQ(as_buf((*psks)->binders.begin()->data), hex(kRfc8448Binder));
  auto padding = ch->extensions.get<Padding>();
  ASSERT_TRUE(padding && *padding);
  EXPECT_EQ((*padding)->length, 87u);

  // RFC 8448 §4: the binder is computed over the first 477 bytes.
  auto prefix = truncated_client_hello_length(message);
  ASSERT_TRUE(prefix) << prefix.error().message();
  EXPECT_EQ(*prefix, 477u);
  // RFC 8446 §4.2.11.2: binder = HMAC(finished_key, Transcript-Hash(Truncate(ClientHello1))).
  const Buf key = hex(kRfc8448BinderFinishedKey);
  const Buf digest = sha256(Buf(message.begin(), message.begin() + 477));
  Buf mac(32);
  std::size_t mac_len = 0;
  ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                      digest.data(), digest.size(), mac.data(), mac.size(), &mac_len),
            nullptr);
  EXPECT_EQ(mac, hex(kRfc8448Binder));

  EXPECT_EQ(encode_message(*ch), message);
  // Without a pre_shared_key there is nothing to truncate.
  auto none = truncated_client_hello_length(hex(kRfc8448ClientHello));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), Errc::missing_extension);
  auto not_ch = truncated_client_hello_length(hex(kRfc8448ServerHello));
  ASSERT_FALSE(not_ch);
}

TEST(TlsMessages, GoldenMessagesRefuseEveryTruncation) {
  const std::array<const char*, 5> vectors = {kRfc8448ClientHello, kRfc8448ServerHello,
                                              kRfc8448EncryptedExtensions, kRfc8448Certificate,
                                              kRfc8448NewSessionTicket};
  for (const char* v : vectors) {
    const Buf message = hex(v);
    const Buf body(message.begin() + 4, message.end());
    for (std::size_t n = 0; n < body.size(); ++n) {
      const Buf prefix(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(n));
      bool ok = false;
      switch (static_cast<HandshakeType>(message[0])) {
        case HandshakeType::client_hello: {
          auto m = decode_body<ClientHello>(prefix);
          // A TLS 1.2 ClientHello may end right after its compression methods.
          ok = m.ok();
          if (ok) {
            EXPECT_FALSE(m->has_extensions);
            EXPECT_EQ(n, 2u + 32u + 1u + 2u + 6u + 2u);
          }
          break;
        }
        case HandshakeType::server_hello: {
          auto m = decode_body<ServerHello>(prefix);
          ok = m.ok();
          if (ok) {
            EXPECT_EQ(n, 2u + 32u + 1u + 2u + 1u);
          }
          break;
        }
        case HandshakeType::encrypted_extensions:
          ok = decode_body<EncryptedExtensions>(prefix).ok();
          EXPECT_FALSE(ok) << n;
          break;
        case HandshakeType::certificate:
          ok = decode_body<Certificate13>(prefix).ok();
          EXPECT_FALSE(ok) << n;
          break;
        default:
          ok = decode_body<NewSessionTicket13>(prefix).ok();
          EXPECT_FALSE(ok) << n;
          break;
      }
    }
    // And a trailing byte.
    Buf longer = body;
    longer.push_back(0);
    switch (static_cast<HandshakeType>(message[0])) {
      case HandshakeType::client_hello:
        EXPECT_EQ(decode_error<ClientHello>(longer), Errc::trailing_data);
        break;
      case HandshakeType::server_hello:
        EXPECT_EQ(decode_error<ServerHello>(longer), Errc::trailing_data);
        break;
      case HandshakeType::encrypted_extensions:
        EXPECT_EQ(decode_error<EncryptedExtensions>(longer), Errc::trailing_data);
        break;
      case HandshakeType::certificate:
        EXPECT_EQ(decode_error<Certificate13>(longer), Errc::trailing_data);
        break;
      default:
        EXPECT_EQ(decode_error<NewSessionTicket13>(longer), Errc::trailing_data);
        break;
    }
  }
}

// ---- ClientHello ---------------------------------------------------------------------------

namespace {

// A ClientHello body built field by field: version, random, session id, suites, compression,
// then `extensions` verbatim (nothing when empty).
Buf client_hello_body(const Buf& session_id, const Buf& suites, const Buf& compression,
                      const Buf& extensions) {
  return concat({hex("03 03"), Buf(32, 0x42), session_id, suites, compression, extensions});
}

}  // namespace

TEST(TlsMessages, ClientHelloRoundTripAndLambdaEncoding) {
  const std::array<CipherSuite, 2> suites = {CipherSuite::tls_aes_128_gcm_sha256,
                                             CipherSuite::tls_empty_renegotiation_info_scsv};
  const std::array<std::uint8_t, 1> null_compression = {0};
  const Buf session_id(32, 0x77);
  const std::array<NamedGroup, 1> groups = {NamedGroup::x25519};
  const Buf groups_body = [&] {
    wire::Writer w;
    SupportedGroups{ValueList<NamedGroup>(groups)}.encode(w);
    return w.take();
  }();
  const std::array<Extension, 2> extensions = {
      Extension{ExtensionType::supported_groups, groups_body},
      Extension{ExtensionType::extended_master_secret, {}}};

  ClientHello ch;
  ch.random = random_of(0x5a);
  ch.legacy_session_id = session_id;
  ch.cipher_suites = suites;
  ch.legacy_compression_methods = null_compression;
  ch.extensions = extensions;
  // The TLS 1.2 no-extension form is the one valid strict prefix.
  expect_round_trip(ch, std::vector<std::size_t>{2 + 32 + 33 + 6 + 2});

  wire::Writer w;
  ch.encode(w, [&](ExtensionsWriter& ext) {
    ext.add(SupportedGroups{ValueList<NamedGroup>(groups)});
    ext.add(ExtendedMasterSecret{});
  });
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.take(), encode_body(ch));

  // TLS 1.2 without extensions.
  ClientHello old = ch;
  old.has_extensions = false;
  old.extensions = {};
  expect_round_trip(old);
  const Buf old_body = encode_body(old);
  auto decoded = decode_body<ClientHello>(old_body);
  ASSERT_TRUE(decoded);
  EXPECT_FALSE(decoded->has_extensions);
  EXPECT_TRUE(decoded->extensions.empty());
}

TEST(TlsMessages, ClientHelloLengthLimits) {
  const Buf suites = hex("00 02 13 01");
  const Buf compression = hex("01 00");
  const Buf no_ext = hex("00 00");
  EXPECT_TRUE(decode_body<ClientHello>(client_hello_body(hex("00"), suites, compression, no_ext)));
  // RFC 8446 §4.1.2: legacy_session_id<0..32>; 32 is the most, 33 (Slapper) is refused.
  EXPECT_TRUE(decode_body<ClientHello>(
      client_hello_body(concat({hex("20"), Buf(32, 1)}), suites, compression, no_ext)));
  EXPECT_EQ(decode_error<ClientHello>(
                client_hello_body(concat({hex("21"), Buf(33, 1)}), suites, compression, no_ext)),
            Errc::length_overflow);
  // A session id length that runs past the message.
  EXPECT_EQ(decode_error<ClientHello>(concat({hex("03 03"), Buf(32, 0x42), hex("20 01 02")})),
            Errc::truncated);
  // cipher_suites<2..2^16-2>: empty, and an odd length.
  EXPECT_EQ(
      decode_error<ClientHello>(client_hello_body(hex("00"), hex("00 00"), compression, no_ext)),
      Errc::length_overflow);
  EXPECT_EQ(decode_error<ClientHello>(
                client_hello_body(hex("00"), hex("00 03 13 01 13"), compression, no_ext)),
            Errc::truncated);
  // legacy_compression_methods<1..2^8-1>: empty.
  EXPECT_EQ(decode_error<ClientHello>(client_hello_body(hex("00"), suites, hex("00"), no_ext)),
            Errc::length_overflow);
  // An extension block longer than what follows.
  EXPECT_EQ(decode_error<ClientHello>(
                client_hello_body(hex("00"), suites, compression, hex("00 08 00 17 00 00"))),
            Errc::truncated);
  // A lone byte where the extension block would start.
  EXPECT_EQ(decode_error<ClientHello>(client_hello_body(hex("00"), suites, compression, hex("00"))),
            Errc::truncated);
}

TEST(TlsMessages, ClientHelloExtensionRules) {
  const Buf suites = hex("00 02 13 01");
  const Buf compression = hex("01 00");
  // RFC 8446 §4.2: a duplicate extension.
  EXPECT_EQ(decode_error<ClientHello>(client_hello_body(hex("00"), suites, compression,
                                                        hex("00 08 00 17 00 00 00 17 00 00"))),
            Errc::illegal_parameter);
  // RFC 8446 §4.2.11: pre_shared_key must come last.
  Buf psk_body = hex("00 07 00 01 61 00 00 00 00 00 21 20");
  psk_body.resize(psk_body.size() + 32, 0xcc);
  Buf psk_ext =
      concat({hex("00 29"), hex("00"), Buf{static_cast<std::uint8_t>(psk_body.size())}, psk_body});
  const Buf ems = hex("00 17 00 00");
  auto block = [](const Buf& content) {
    return concat({Buf{static_cast<std::uint8_t>(content.size() >> 8),
                       static_cast<std::uint8_t>(content.size())},
                   content});
  };
  const Buf psk_last =
      client_hello_body(hex("00"), suites, compression, block(concat({ems, psk_ext})));
  EXPECT_TRUE(decode_body<ClientHello>(psk_last));
  const Buf psk_first =
      client_hello_body(hex("00"), suites, compression, block(concat({psk_ext, ems})));
  EXPECT_EQ(decode_error<ClientHello>(psk_first), Errc::illegal_parameter);

  // truncated_client_hello_length on a hello we built: binders list is 2 + 33 bytes.
  wire::Writer w;
  write_handshake(w, HandshakeType::client_hello, [&](wire::Writer& out) { out.bytes(psk_last); });
  const Buf message = w.take();
  auto prefix = truncated_client_hello_length(message);
  ASSERT_TRUE(prefix) << prefix.error().message();
  EXPECT_EQ(*prefix, message.size() - 35);
}

// ---- ServerHello ---------------------------------------------------------------------------

TEST(TlsMessages, HelloRetryRequestAndDowngradeSentinels) {
  // RFC 8446 §4.1.3: the special random is SHA-256("HelloRetryRequest").
  const std::string_view label = "HelloRetryRequest";
  EXPECT_EQ(sha256(Buf(label.begin(), label.end())),
            Buf(hello_retry_request_random.begin(), hello_retry_request_random.end()));

  ServerHello hrr;
  hrr.random = hello_retry_request_random;
  hrr.cipher_suite = CipherSuite::tls_aes_256_gcm_sha384;
  const Buf cookie = hex("01 02 03");
  wire::Writer w;
  hrr.encode(w, [&](ExtensionsWriter& ext) {
    ext.add(SupportedVersionsServerHello{ProtocolVersion::tls13});
    ext.add(KeyShareHelloRetryRequest{NamedGroup::secp256r1});
    ext.add(Cookie{cookie});
  });
  ASSERT_TRUE(w.ok());
  const Buf body = w.take();
  auto decoded = decode_body<ServerHello>(body);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_TRUE(decoded->is_hello_retry_request());
  auto ks = decoded->extensions.get<KeyShareHelloRetryRequest>();
  ASSERT_TRUE(ks && *ks);
  EXPECT_EQ((*ks)->selected_group, NamedGroup::secp256r1);
  auto c = decoded->extensions.get<Cookie>();
  ASSERT_TRUE(c && *c);
  EXPECT_EQ(as_buf((*c)->cookie), cookie);
  EXPECT_EQ(encode_body(*decoded), body);

  // One bit off is an ordinary ServerHello.
  ServerHello sh = hrr;
  sh.random[31] ^= 1;
  EXPECT_FALSE(sh.is_hello_retry_request());

  // "DOWNGRD" 01 / 00 at the end of the random.
  ServerHello down;
  down.random = random_of(0x33);
  std::copy(downgrade_tls12_sentinel.begin(), downgrade_tls12_sentinel.end(),
            down.random.end() - 8);
  EXPECT_TRUE(down.has_tls12_downgrade_sentinel());
  EXPECT_FALSE(down.has_tls11_downgrade_sentinel());
  down.random[31] = 0;
  EXPECT_TRUE(down.has_tls11_downgrade_sentinel());
  EXPECT_FALSE(down.has_tls12_downgrade_sentinel());
}

TEST(TlsMessages, ServerHelloRoundTripAndLimits) {
  ServerHello sh;
  sh.random = random_of(0x10);
  const Buf echo(32, 0x99);
  sh.legacy_session_id_echo = echo;
  sh.cipher_suite = CipherSuite::tls_ecdhe_rsa_with_aes_128_gcm_sha256;
  const std::array<Extension, 1> ext = {Extension{ExtensionType::extended_master_secret, {}}};
  sh.extensions = ext;
  expect_round_trip(sh, std::vector<std::size_t>{2 + 32 + 33 + 2 + 1});
  ServerHello bare = sh;
  bare.has_extensions = false;
  bare.extensions = {};
  expect_round_trip(bare);
  // legacy_session_id_echo<0..32>
  EXPECT_EQ(decode_error<ServerHello>(
                concat({hex("03 03"), Buf(32, 0), hex("21"), Buf(33, 0), hex("13 01 00")})),
            Errc::length_overflow);
}

// ---- TLS 1.3 messages ----------------------------------------------------------------------

TEST(TlsMessages, Certificate13) {
  const Buf der1(300, 0x30), der2(5, 0x31);
  const Buf status_body = hex("01 00 00 02 aa bb");
  const std::array<Extension, 1> leaf_ext = {Extension{ExtensionType::status_request, status_body}};
  const std::array<CertificateEntry, 2> entries = {CertificateEntry{der1, ExtensionBlock(leaf_ext)},
                                                   CertificateEntry{der2, {}}};
  const Buf context = hex("c0 ff ee");
  const Certificate13 cert{context, EntryList<CertificateEntry>(entries)};
  expect_round_trip(cert);
  const Buf body = encode_body(cert);  // decoded values are views: keep the bytes alive
  auto decoded = decode_body<Certificate13>(body);
  ASSERT_TRUE(decoded);
  auto it = decoded->certificate_list.begin();
  auto status = it->extensions.get<CertificateStatus>();
  ASSERT_TRUE(status && *status);
  EXPECT_EQ(as_buf((*status)->ocsp_response), hex("aa bb"));
  ++it;
  EXPECT_EQ(it->cert_data.size(), 5u);
  // An empty chain is well formed (the client's "no certificate").
  expect_round_trip(Certificate13{});
  // cert_data<1..2^24-1>
  EXPECT_EQ(decode_error<Certificate13>(hex("00 00 00 05 00 00 00 00 00")), Errc::length_overflow);
  // RFC 8446 §4.2: duplicate extension inside a CertificateEntry.
  EXPECT_EQ(
      decode_error<Certificate13>(hex("00 00 00 0e 00 00 01 30 00 08 00 05 00 00 00 05 00 00")),
      Errc::illegal_parameter);
}

TEST(TlsMessages, CertificateRequest13) {
  const std::array<SignatureScheme, 1> schemes = {SignatureScheme::ecdsa_secp256r1_sha256};
  wire::Writer w;
  SignatureAlgorithms{ValueList<SignatureScheme>(schemes)}.encode(w);
  const Buf sigalgs = w.take();
  const std::array<Extension, 1> ext = {Extension{ExtensionType::signature_algorithms, sigalgs}};
  expect_round_trip(CertificateRequest13{{}, ExtensionBlock(ext)});
  // RFC 8446 §4.3.2: signature_algorithms is required.
  EXPECT_EQ(decode_error<CertificateRequest13>(hex("00 00 04 00 17 00 00")),
            Errc::missing_extension);
  // extensions<2..2^16-1>
  EXPECT_EQ(decode_error<CertificateRequest13>(hex("00 00 00")), Errc::length_overflow);
}

TEST(TlsMessages, CertificateVerifyFinishedKeyUpdateEndOfEarlyData) {
  const Buf sig(72, 0x30);
  expect_round_trip(CertificateVerify{SignatureScheme::ecdsa_secp256r1_sha256, sig});
  const Buf verify(48, 0x77);
  expect_round_trip(Finished{verify}, std::vector<std::size_t>{}, std::size_t{48});

  expect_round_trip(KeyUpdate{KeyUpdateRequest::update_requested});
  expect_round_trip(KeyUpdate{KeyUpdateRequest::update_not_requested});
  // RFC 8446 §4.6.3: any other value is illegal_parameter.
  EXPECT_EQ(decode_error<KeyUpdate>(hex("02")), Errc::illegal_parameter);
  EXPECT_EQ(decode_error<KeyUpdate>(hex("ff")), Errc::illegal_parameter);

  expect_round_trip(EndOfEarlyData{});
  expect_round_trip(ServerHelloDone{});
  expect_round_trip(HelloRequest{});
  EXPECT_EQ(decode_error<EndOfEarlyData>(hex("00")), Errc::trailing_data);
}

TEST(TlsMessages, NewSessionTicket13) {
  const Buf nonce = hex("00 01"), ticket(64, 0xee);
  const Buf early = hex("00 00 40 00");
  const std::array<Extension, 1> ext = {Extension{ExtensionType::early_data, early}};
  expect_round_trip(
      NewSessionTicket13{max_ticket_lifetime, 0x12345678, nonce, ticket, ExtensionBlock(ext)});
  // RFC 8446 §4.6.1: more than 7 days.
  NewSessionTicket13 too_long{max_ticket_lifetime + 1, 0, nonce, ticket, {}};
  EXPECT_EQ(decode_error<NewSessionTicket13>(encode_body(too_long)), Errc::illegal_parameter);
  // ticket<1..2^16-1>
  EXPECT_EQ(decode_error<NewSessionTicket13>(hex("00 00 00 01 00 00 00 00 00 00 00 00 00")),
            Errc::length_overflow);
}

// ---- TLS 1.2 messages ----------------------------------------------------------------------

TEST(TlsMessages, Certificate12AndCertificateRequest12) {
  const Buf der1(40, 0x30), der2(3, 0x31);
  const std::array<Asn1Cert, 2> chain = {Asn1Cert{der1}, Asn1Cert{der2}};
  expect_round_trip(Certificate12{EntryList<Asn1Cert>(chain)});
  expect_round_trip(Certificate12{});
  EXPECT_EQ(decode_error<Certificate12>(hex("00 00 03 00 00 00")), Errc::length_overflow);

  const std::array<ClientCertificateType, 2> types = {ClientCertificateType::ecdsa_sign,
                                                      ClientCertificateType::rsa_sign};
  const std::array<SignatureScheme, 2> schemes = {SignatureScheme::rsa_pss_rsae_sha256,
                                                  SignatureScheme::ecdsa_secp256r1_sha256};
  const Buf dn = hex("30 02 31 00");
  const std::array<DistinguishedName, 1> cas = {DistinguishedName{dn}};
  expect_round_trip(CertificateRequest12{ValueList<ClientCertificateType>(types),
                                         ValueList<SignatureScheme>(schemes),
                                         EntryList<DistinguishedName>(cas)});
  // certificate_types<1..2^8-1>
  EXPECT_EQ(decode_error<CertificateRequest12>(hex("00 00 02 04 03 00 00")), Errc::length_overflow);
}

TEST(TlsMessages, NewSessionTicket12) {
  const Buf ticket(200, 0xab);
  expect_round_trip(NewSessionTicket12{7200, ticket});
  // RFC 5077 §3.3: an empty ticket is allowed (the server will not issue one after all).
  expect_round_trip(NewSessionTicket12{0, {}});
}

TEST(TlsMessages, ServerKeyExchangeEcdhe) {
  const Buf point = concat({hex("04"), Buf(64, 0x21)});
  const Buf sig(71, 0x30);
  const ServerKeyExchangeEcdhe ske{
      NamedGroup::secp256r1, point, SignatureScheme::ecdsa_secp256r1_sha256, sig, {}};
  expect_round_trip(ske);
  const Buf body = encode_body(ske);
  auto decoded = decode_body<ServerKeyExchangeEcdhe>(body);
  ASSERT_TRUE(decoded);
  // The signed params are exactly what write_params produces: 03 0017 41 04...
  wire::Writer params;
  ServerKeyExchangeEcdhe::write_params(params, NamedGroup::secp256r1, point);
  EXPECT_EQ(as_buf(decoded->params), params.take());
  EXPECT_EQ(decoded->params.size(), 1u + 2u + 1u + 65u);
  // RFC 8422 §5.4: explicit curves are not accepted.
  EXPECT_EQ(decode_error<ServerKeyExchangeEcdhe>(hex("01 00 17 01 04 04 03 00 00")),
            Errc::illegal_parameter);
  // ECPoint<1..2^8-1>
  EXPECT_EQ(decode_error<ServerKeyExchangeEcdhe>(hex("03 00 17 00 04 03 00 00")),
            Errc::length_overflow);
}

TEST(TlsMessages, ServerKeyExchangeDhe) {
  const Buf p(256, 0xff), g = hex("02"), ys(256, 0x5c), sig(256, 0x01);
  const ServerKeyExchangeDhe ske{p, g, ys, SignatureScheme::rsa_pss_rsae_sha256, sig, {}};
  expect_round_trip(ske);
  const Buf body = encode_body(ske);
  auto decoded = decode_body<ServerKeyExchangeDhe>(body);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->params.size(), 2u + 256u + 2u + 1u + 2u + 256u);
  EXPECT_EQ(decode_error<ServerKeyExchangeDhe>(hex("00 00 00 01 02 00 01 05 04 01 00 00")),
            Errc::length_overflow);
}

TEST(TlsMessages, ClientKeyExchangeForms) {
  using Form = ClientKeyExchange::Form;
  const Buf x25519(32, 0x09);
  expect_round_trip(ClientKeyExchange{Form::ecdhe, x25519}, std::vector<std::size_t>{},
                    Form::ecdhe);
  const Buf dh(256, 0x02);
  expect_round_trip(ClientKeyExchange{Form::dhe, dh}, std::vector<std::size_t>{}, Form::dhe);
  const Buf rsa(256, 0x03);
  expect_round_trip(ClientKeyExchange{Form::rsa, rsa}, std::vector<std::size_t>{}, Form::rsa);
  // ECPoint<1..2^8-1>: an empty point.
  EXPECT_EQ(decode_error<ClientKeyExchange>(hex("00"), Form::ecdhe), Errc::length_overflow);
  // The same bytes mean different things per form.
  const Buf empty_secret = hex("00 00");
  auto as_rsa = decode_body<ClientKeyExchange>(empty_secret, Form::rsa);
  ASSERT_TRUE(as_rsa);
  EXPECT_TRUE(as_rsa->exchange_keys.empty());
}

// ---- alerts and heartbeats -----------------------------------------------------------------

TEST(TlsMessages, AlertIsExactlyTwoBytes) {
  expect_round_trip(Alert{AlertLevel::fatal, AlertDescription::handshake_failure});
  expect_round_trip(Alert{AlertLevel::warning, AlertDescription::no_renegotiation});
  const Buf fatal_handshake_failure = hex("02 28");
  auto a = decode_body<Alert>(fatal_handshake_failure);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->description, AlertDescription::handshake_failure);
  EXPECT_EQ(name(a->description), "handshake_failure");
  EXPECT_EQ(decode_error<Alert>(hex("01")), Errc::truncated);
  // RFC 8446 §5.1: two alerts coalesced into one record.
  EXPECT_EQ(decode_error<Alert>(hex("01 00 01 00")), Errc::trailing_data);
  // Unknown descriptions survive for the engine to treat as fatal.
  const Buf unknown_description = hex("02 fe");
  auto unknown = decode_body<Alert>(unknown_description);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(name(unknown->description), "unknown");
}

TEST(TlsMessages, HeartbeatExactFitRoundTrip) {
  const Buf payload = hex("de ad be ef");
  const Buf padding(16, 0xa5);
  const HeartbeatMessage hb{HeartbeatMessageType::heartbeat_request, payload, padding};
  wire::Writer w;
  hb.encode(w);
  const Buf fragment = w.take();
  EXPECT_EQ(fragment.size(), 3u + 4u + 16u);
  auto decoded = HeartbeatMessage::decode(fragment);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_TRUE(*decoded == hb);
  EXPECT_EQ(as_buf(decoded->payload), payload);
  EXPECT_EQ(decoded->padding.size(), 16u);
}

TEST(TlsMessages, HeartbleedRequestIsRecognised) {
  // The Heartbleed request: payload_length 0x4000 with a 1-byte payload and no padding.
  const Buf heartbleed = hex("01 40 00 41");
  auto r = HeartbeatMessage::decode(heartbleed);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::length_overflow);
  // Honest about the payload but with 15 bytes of padding: also discarded.
  Buf short_padding = hex("01 00 02 aa bb");
  short_padding.resize(short_padding.size() + 15, 0);
  auto s = HeartbeatMessage::decode(short_padding);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::length_overflow);
  short_padding.push_back(0);  // now exactly 16
  EXPECT_TRUE(HeartbeatMessage::decode(short_padding));
  // payload_length 0xffff against a maximal fragment.
  Buf big = hex("01 ff ff");
  big.resize(max_plaintext, 0);
  auto b = HeartbeatMessage::decode(big);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), Errc::length_overflow);
}

TEST(TlsMessages, HeartbeatSizeLimits) {
  // RFC 6520 §4: at most 2^14 bytes.
  Buf over = hex("01 00 00");
  over.resize(max_plaintext + 1, 0);
  auto o = HeartbeatMessage::decode(over);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code(), Errc::record_overflow);
  Buf at = hex("01 00 00");
  at.resize(max_plaintext, 0);
  EXPECT_TRUE(HeartbeatMessage::decode(at));
  auto tiny = HeartbeatMessage::decode(hex("01 00"));
  ASSERT_FALSE(tiny);
  EXPECT_EQ(tiny.error().code(), Errc::truncated);
}

// ---- names ---------------------------------------------------------------------------------

TEST(TlsMessages, Names) {
  EXPECT_EQ(name(CipherSuite::tls_aes_128_gcm_sha256), "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(name(CipherSuite::tls_ecdhe_ecdsa_with_chacha20_poly1305_sha256),
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
  EXPECT_EQ(name(CipherSuite::tls_fallback_scsv), "TLS_FALLBACK_SCSV");
  EXPECT_EQ(name(static_cast<CipherSuite>(0x0a0a)), "GREASE");
  EXPECT_EQ(name(HandshakeType::certificate_verify), "certificate_verify");
  EXPECT_EQ(name(static_cast<HandshakeType>(3)), "unknown");
  EXPECT_EQ(name(ProtocolVersion::tls13), "TLS 1.3");
  EXPECT_EQ(name(ContentType::heartbeat), "heartbeat");
  EXPECT_EQ(name(AlertDescription::no_application_protocol), "no_application_protocol");
  EXPECT_EQ(name(KeyUpdateRequest::update_requested), "update_requested");
}
