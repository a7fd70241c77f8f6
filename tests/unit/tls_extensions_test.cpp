#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/tls/extensions.hpp"
#include "bulwark/tls/types.hpp"
#include "bulwark/wire.hpp"
#include "support/hex.hpp"

using namespace bulwark;
using namespace bulwark::tls;
using Buf = std::vector<std::uint8_t>;

namespace {

Buf hex(std::string_view text) {
  return bulwark::test::hex(text);
}

template <class Ext>
Buf encode_body(const Ext& e) {
  wire::Writer w;
  e.encode(w);
  EXPECT_TRUE(w.ok()) << w.status().error().message();
  return w.take();
}

template <class Ext>
Errc decode_error(const Buf& body) {
  auto r = Ext::decode(body);
  if (r) return Errc{};
  return r.error().code();
}

// encode -> decode -> same value -> encode -> same bytes; every strict prefix and a trailing
// byte are refused (where the body has a length that says where it ends).
template <class Ext>
void expect_round_trip(const Ext& value, bool framed = true) {
  const Buf bytes = encode_body(value);
  auto decoded = Ext::decode(bytes);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_TRUE(*decoded == value);
  EXPECT_EQ(encode_body(*decoded), bytes);
  if (!framed) return;
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const Buf prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(Ext::decode(prefix)) << "prefix of " << n << " bytes accepted";
  }
  Buf longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(Ext::decode(longer)) << "trailing byte accepted";
}

}  // namespace

// ---- list views ----------------------------------------------------------------------------

TEST(TlsExtensions, ValueListViewsWireBytesAndCallerValues) {
  const Buf wire_bytes = hex("13 01 13 03 fa fa");
  auto from_wire = ValueList<CipherSuite>::from_wire(wire_bytes);
  ASSERT_TRUE(from_wire);
  EXPECT_EQ(from_wire->size(), 3u);
  EXPECT_EQ((*from_wire)[1], CipherSuite::tls_chacha20_poly1305_sha256);
  EXPECT_TRUE(from_wire->contains(CipherSuite::tls_aes_128_gcm_sha256));
  EXPECT_FALSE(from_wire->contains(CipherSuite::tls_aes_256_gcm_sha384));
  // An unknown (GREASE) value survives decoding.
  EXPECT_EQ(static_cast<std::uint16_t>((*from_wire)[2]), 0xfafa);

  const std::array<CipherSuite, 3> values = {CipherSuite::tls_aes_128_gcm_sha256,
                                             CipherSuite::tls_chacha20_poly1305_sha256,
                                             static_cast<CipherSuite>(0xfafa)};
  const ValueList<CipherSuite> from_values(values);
  EXPECT_TRUE(*from_wire == from_values);
  std::vector<CipherSuite> iterated;
  for (CipherSuite s : *from_wire)
    iterated.push_back(s);
  EXPECT_TRUE(std::equal(iterated.begin(), iterated.end(), values.begin(), values.end()));

  wire::Writer w;
  from_values.write<2>(w, 2, 0xfffe);
  EXPECT_EQ(w.take(), hex("00 06 13 01 13 03 fa fa"));
}

TEST(TlsExtensions, ValueListRejectsAHalfValue) {
  const Buf odd = hex("13 01 13");
  auto l = ValueList<CipherSuite>::from_wire(odd);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code(), Errc::truncated);
}

TEST(TlsExtensions, ListWritersEnforceTheirLimits) {
  // RFC 8446 §4.2.1: versions<2..254> — one version would be an empty list.
  const std::array<ProtocolVersion, 0> none{};
  wire::Writer w;
  SupportedVersionsClientHello{ValueList<ProtocolVersion>(none)}.encode(w);
  EXPECT_EQ(w.status().error().code(), Errc::length_overflow);
}

TEST(TlsExtensions, GreaseAndNames) {
  EXPECT_TRUE(is_grease(0x0a0a));
  EXPECT_TRUE(is_grease(0xfafa));
  EXPECT_FALSE(is_grease(0x0a1a));
  EXPECT_FALSE(is_grease(0x1301));
  EXPECT_EQ(name(ExtensionType::key_share), "key_share");
  EXPECT_EQ(name(ExtensionType::renegotiation_info), "renegotiation_info");
  EXPECT_EQ(name(static_cast<ExtensionType>(0x1a1a)), "GREASE");
  EXPECT_EQ(name(static_cast<ExtensionType>(0x1234)), "unknown");
  EXPECT_EQ(name(NamedGroup::x25519), "x25519");
  EXPECT_EQ(name(SignatureScheme::rsa_pss_rsae_sha256), "rsa_pss_rsae_sha256");
}

// ---- the extension block -------------------------------------------------------------------

TEST(TlsExtensions, BlockDecodesFindsAndReencodes) {
  // server_name "a", then an unknown type 0x1234 with body 01 02, then an empty EMS.
  const Buf block = hex("00 14 00 00 00 06 00 04 00 00 01 61 12 34 00 02 01 02 00 17 00 00");
  wire::Reader r(block);
  auto b = ExtensionBlock::decode(r);
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(b->size(), 3u);
  ASSERT_TRUE(b->find(static_cast<ExtensionType>(0x1234)));
  EXPECT_EQ(Buf(b->find(static_cast<ExtensionType>(0x1234))->begin(),
                b->find(static_cast<ExtensionType>(0x1234))->end()),
            hex("01 02"));
  EXPECT_FALSE(b->find(ExtensionType::key_share));
  EXPECT_EQ(b->last_type(), ExtensionType::extended_master_secret);
  std::vector<ExtensionType> order;
  for (const Extension& e : *b)
    order.push_back(e.type);
  EXPECT_EQ(order, (std::vector<ExtensionType>{ExtensionType::server_name,
                                               static_cast<ExtensionType>(0x1234),
                                               ExtensionType::extended_master_secret}));

  auto sni = b->get<ServerName>();
  ASSERT_TRUE(sni);
  ASSERT_TRUE(sni->has_value());
  EXPECT_EQ((*sni)->host_name, "a");
  auto absent = b->get<SupportedGroups>();
  ASSERT_TRUE(absent);
  EXPECT_FALSE(absent->has_value());

  wire::Writer w;
  b->encode(w);
  EXPECT_EQ(w.take(), block);
}

TEST(TlsExtensions, BlockGetReportsAMalformedBody) {
  // record_size_limit with a 3-byte body.
  const Buf block = hex("00 07 00 1c 00 03 40 00 00");
  wire::Reader r(block);
  auto b = ExtensionBlock::decode(r);
  ASSERT_TRUE(b);
  auto rsl = b->get<RecordSizeLimit>();
  ASSERT_FALSE(rsl);
  EXPECT_EQ(rsl.error().code(), Errc::trailing_data);
}

TEST(TlsExtensions, BlockRejectsDuplicateTypes) {
  // RFC 8446 §4.2: no two extensions of one type in a block.
  const Buf block = hex("00 08 00 17 00 00 00 17 00 00");
  wire::Reader r(block);
  auto b = ExtensionBlock::decode(r);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), Errc::illegal_parameter);
}

TEST(TlsExtensions, LongBlocksAreCheckedForDuplicatesToo) {
  // 1000 distinct empty extensions pass; repeating the first one at the end fails.
  Buf block;
  wire::Writer w(block);
  {
    ExtensionsWriter ext(w);
    for (std::uint16_t t = 0; t < 1000; ++t)
      ext.add(static_cast<ExtensionType>(t + 0x2000), {});
  }
  ASSERT_TRUE(w.ok());
  {
    wire::Reader r(block);
    auto b = ExtensionBlock::decode(r);
    ASSERT_TRUE(b) << b.error().message();
    EXPECT_EQ(b->size(), 1000u);
  }
  Buf dup;
  wire::Writer w2(dup);
  {
    ExtensionsWriter ext(w2);
    for (std::uint16_t t = 0; t < 1000; ++t)
      ext.add(static_cast<ExtensionType>(t + 0x2000), {});
    ext.add(static_cast<ExtensionType>(0x2000), {});
  }
  wire::Reader r(dup);
  auto b = ExtensionBlock::decode(r);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), Errc::illegal_parameter);
}

TEST(TlsExtensions, BlockRejectsEveryTruncationAndOverlongEntries) {
  const Buf block = hex("00 0e 00 00 00 06 00 04 00 00 01 61 00 17 00 00");
  for (std::size_t n = 0; n < block.size(); ++n) {
    const Buf prefix(block.begin(), block.begin() + static_cast<std::ptrdiff_t>(n));
    wire::Reader r(prefix);
    EXPECT_FALSE(ExtensionBlock::decode(r)) << n;
  }
  // An entry whose length runs past the block.
  const Buf overlong = hex("00 06 00 17 00 05 00 00");
  wire::Reader r(overlong);
  auto b = ExtensionBlock::decode(r);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), Errc::truncated);
  // A block shorter than its minimum.
  const Buf empty = hex("00 00");
  wire::Reader r2(empty);
  auto b2 = ExtensionBlock::decode(r2, 2, 0xffff);
  ASSERT_FALSE(b2);
  EXPECT_EQ(b2.error().code(), Errc::length_overflow);
}

TEST(TlsExtensions, WriterAndBlockEncodeTheSameBytes) {
  const std::array<NamedGroup, 2> groups = {NamedGroup::x25519, NamedGroup::secp256r1};
  const Buf groups_body = encode_body(SupportedGroups{ValueList<NamedGroup>(groups)});
  const std::array<Extension, 2> entries = {Extension{ExtensionType::supported_groups, groups_body},
                                            Extension{ExtensionType::extended_master_secret, {}}};
  const ExtensionBlock block(entries);
  wire::Writer a;
  block.encode(a);

  wire::Writer b;
  {
    ExtensionsWriter ext(b);
    ext.add(SupportedGroups{ValueList<NamedGroup>(groups)});
    ext.add(ExtendedMasterSecret{});
    EXPECT_TRUE(ext.close());
  }
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a.take(), b.take());
}

TEST(TlsExtensions, AllowedInTls13FollowsTheRfcTable) {
  using C = ExtensionContext;
  // RFC 8446 §4.2 table.
  EXPECT_TRUE(allowed_in_tls13(ExtensionType::server_name, C::encrypted_extensions));
  EXPECT_FALSE(allowed_in_tls13(ExtensionType::server_name, C::server_hello));
  EXPECT_TRUE(allowed_in_tls13(ExtensionType::key_share, C::hello_retry_request));
  EXPECT_FALSE(allowed_in_tls13(ExtensionType::key_share, C::encrypted_extensions));
  EXPECT_TRUE(allowed_in_tls13(ExtensionType::cookie, C::hello_retry_request));
  EXPECT_FALSE(allowed_in_tls13(ExtensionType::cookie, C::server_hello));
  EXPECT_TRUE(allowed_in_tls13(ExtensionType::early_data, C::new_session_ticket));
  EXPECT_TRUE(allowed_in_tls13(ExtensionType::status_request, C::certificate));
  EXPECT_FALSE(allowed_in_tls13(ExtensionType::signature_algorithms, C::encrypted_extensions));
  EXPECT_TRUE(allowed_in_tls13(ExtensionType::signature_algorithms, C::certificate_request));
  EXPECT_TRUE(allowed_in_tls13(ExtensionType::oid_filters, C::certificate_request));
  EXPECT_FALSE(allowed_in_tls13(ExtensionType::oid_filters, C::client_hello));
  EXPECT_TRUE(allowed_in_tls13(ExtensionType::record_size_limit, C::encrypted_extensions));
  // TLS 1.2-only extensions: fine in a ClientHello, illegal in a 1.3 server message.
  EXPECT_TRUE(allowed_in_tls13(ExtensionType::extended_master_secret, C::client_hello));
  EXPECT_FALSE(allowed_in_tls13(ExtensionType::extended_master_secret, C::server_hello));
  EXPECT_FALSE(allowed_in_tls13(ExtensionType::renegotiation_info, C::encrypted_extensions));
  // Unknown extensions are for the engine to judge.
  EXPECT_TRUE(allowed_in_tls13(static_cast<ExtensionType>(0x7777), C::encrypted_extensions));
}

// ---- server_name ---------------------------------------------------------------------------

TEST(TlsExtensions, ServerNameRoundTrip) {
  expect_round_trip(ServerName{"www.example.com"});
  const Buf body = hex("00 09 00 00 06 73 65 72 76 65 72");  // RFC 8448 §3: "server"
  auto sni = ServerName::decode(body);
  ASSERT_TRUE(sni);
  EXPECT_EQ(sni->host_name, "server");
}

TEST(TlsExtensions, ServerNameRejectsIpLiteralsAndTrailingDots) {
  auto encode_raw = [](std::string_view host) {
    Buf b;
    wire::Writer w(b);
    {
      auto list = w.prefixed<2>();
      w.u8(0);
      w.prefixed_bytes<2>(as_bytes(host));
    }
    return b;
  };
  // RFC 6066 §3: no IPv4 / IPv6 literals, no trailing dot. Real address literals decode,
  // flagged, so that a server can ignore them; anything else that is not a DNS name is refused.
  const std::array<std::string_view, 7> bad_names = {
      "10.1", "0x7f.1", "example.com.", ".example.com", "a..b", "a b", std::string_view("a\0b", 3)};
  for (std::string_view bad : bad_names)
    EXPECT_EQ(decode_error<ServerName>(encode_raw(bad)), Errc::illegal_parameter) << bad;
  for (std::string_view literal : {"192.0.2.1", "::1", "2001:db8::1", "[2001:db8::1]"}) {
    auto sn = ServerName::decode(encode_raw(literal));
    ASSERT_TRUE(sn) << literal;
    EXPECT_TRUE(sn->address_literal) << literal;
  }
  EXPECT_FALSE(ServerName::decode(encode_raw("localhost"))->address_literal);
  EXPECT_TRUE(ServerName::decode(encode_raw("xn--bcher-kva.example")));
  EXPECT_TRUE(ServerName::decode(encode_raw("1.example.com")));
  EXPECT_TRUE(ServerName::decode(encode_raw("localhost")));
  EXPECT_FALSE(is_valid_sni_host_name(std::string(64, 'a') + ".com"));
  EXPECT_TRUE(is_valid_sni_host_name(std::string(63, 'a') + ".com"));
}

TEST(TlsExtensions, ServerNameNeedsExactlyOneHostName) {
  // Empty list and empty name are below their minimum lengths.
  EXPECT_EQ(decode_error<ServerName>(hex("00 00")), Errc::length_overflow);
  EXPECT_EQ(decode_error<ServerName>(hex("00 03 00 00 00")), Errc::length_overflow);
  // A name type other than host_name(0).
  EXPECT_EQ(decode_error<ServerName>(hex("00 04 01 00 01 61")), Errc::illegal_parameter);
  // Two host names.
  EXPECT_EQ(decode_error<ServerName>(hex("00 08 00 00 01 61 00 00 01 62")),
            Errc::illegal_parameter);
  // RFC 6066 §3: the server's acknowledgement is empty.
  EXPECT_TRUE(ServerNameAck::decode({}));
  EXPECT_EQ(decode_error<ServerNameAck>(hex("00")), Errc::trailing_data);
}

// ---- versions, groups, schemes -------------------------------------------------------------

TEST(TlsExtensions, SupportedVersions) {
  const std::array<ProtocolVersion, 2> v = {ProtocolVersion::tls13, ProtocolVersion::tls12};
  expect_round_trip(SupportedVersionsClientHello{ValueList<ProtocolVersion>(v)});
  expect_round_trip(SupportedVersionsServerHello{ProtocolVersion::tls13});
  // versions<2..254>: empty, and an odd length.
  EXPECT_EQ(decode_error<SupportedVersionsClientHello>(hex("00")), Errc::length_overflow);
  EXPECT_EQ(decode_error<SupportedVersionsClientHello>(hex("03 03 04 03")), Errc::truncated);
  const Buf one_version = hex("02 03 04");
  auto sv = SupportedVersionsClientHello::decode(one_version);
  ASSERT_TRUE(sv);
  EXPECT_TRUE(sv->versions.contains(ProtocolVersion::tls13));
}

TEST(TlsExtensions, SupportedGroups) {
  const std::array<NamedGroup, 3> g = {NamedGroup::x25519, NamedGroup::secp256r1,
                                       NamedGroup::ffdhe2048};
  expect_round_trip(SupportedGroups{ValueList<NamedGroup>(g)});
  EXPECT_EQ(decode_error<SupportedGroups>(hex("00 00")), Errc::length_overflow);
  EXPECT_EQ(decode_error<SupportedGroups>(hex("00 03 00 1d 00")), Errc::truncated);
}

TEST(TlsExtensions, SignatureAlgorithms) {
  const std::array<SignatureScheme, 3> s = {SignatureScheme::ecdsa_secp256r1_sha256,
                                            SignatureScheme::rsa_pss_rsae_sha256,
                                            SignatureScheme::ed25519};
  expect_round_trip(SignatureAlgorithms{ValueList<SignatureScheme>(s)});
  expect_round_trip(SignatureAlgorithmsCert{ValueList<SignatureScheme>(s)});
  EXPECT_EQ(decode_error<SignatureAlgorithms>(hex("00 00")), Errc::length_overflow);
  EXPECT_EQ(decode_error<SignatureAlgorithms>(hex("00 01 04")), Errc::length_overflow);
  EXPECT_EQ(decode_error<SignatureAlgorithms>(hex("00 03 04 03 08")), Errc::truncated);
}

// ---- key_share -----------------------------------------------------------------------------

TEST(TlsExtensions, KeyShareForms) {
  const Buf x25519(32, 0x11);
  const Buf p256(65, 0x04);
  const std::array<KeyShareEntry, 2> shares = {KeyShareEntry{NamedGroup::x25519, x25519},
                                               KeyShareEntry{NamedGroup::secp256r1, p256}};
  const KeyShareClientHello ch{EntryList<KeyShareEntry>(shares)};
  expect_round_trip(ch);
  const Buf body = encode_body(ch);  // decoded values are views: keep the bytes alive
  auto decoded = KeyShareClientHello::decode(body);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->client_shares.size(), 2u);
  auto found = decoded->find(NamedGroup::secp256r1);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->key_exchange.size(), 65u);
  EXPECT_FALSE(decoded->find(NamedGroup::x448));
  // RFC 8446 §4.2.8: an empty client_shares is allowed (the client waits for an HRR).
  expect_round_trip(KeyShareClientHello{});

  expect_round_trip(KeyShareServerHello{KeyShareEntry{NamedGroup::x25519, x25519}});
  expect_round_trip(KeyShareHelloRetryRequest{NamedGroup::secp384r1});
}

TEST(TlsExtensions, KeyShareRejectsDuplicatesAndEmptyKeys) {
  // RFC 8446 §4.2.8: two shares for x25519.
  EXPECT_EQ(decode_error<KeyShareClientHello>(hex("00 0a 00 1d 00 01 aa 00 1d 00 01 bb")),
            Errc::illegal_parameter);
  // key_exchange<1..2^16-1>
  EXPECT_EQ(decode_error<KeyShareClientHello>(hex("00 04 00 1d 00 00")), Errc::length_overflow);
  EXPECT_EQ(decode_error<KeyShareServerHello>(hex("00 1d 00 00")), Errc::length_overflow);
  EXPECT_EQ(decode_error<KeyShareHelloRetryRequest>(hex("00 1d 00")), Errc::trailing_data);
}

// ---- PSK -----------------------------------------------------------------------------------

TEST(TlsExtensions, PskKeyExchangeModes) {
  const std::array<PskKeyExchangeMode, 1> m = {PskKeyExchangeMode::psk_dhe_ke};
  expect_round_trip(PskKeyExchangeModes{ValueList<PskKeyExchangeMode>(m)});
  // ke_modes<1..255>
  EXPECT_EQ(decode_error<PskKeyExchangeModes>(hex("00")), Errc::length_overflow);
}

TEST(TlsExtensions, OfferedPsksRoundTripAndBinderSize) {
  const Buf id1 = hex("01 02 03"), id2 = hex("04");
  const Buf b1(32, 0xaa), b2(48, 0xbb);
  const std::array<PskIdentity, 2> ids = {PskIdentity{id1, 0x01020304},
                                          PskIdentity{id2, 0xfffffffe}};
  const std::array<PskBinderEntry, 2> binders = {PskBinderEntry{b1}, PskBinderEntry{b2}};
  const OfferedPsks psks{EntryList<PskIdentity>(ids), EntryList<PskBinderEntry>(binders)};
  expect_round_trip(psks);
  EXPECT_EQ(psks.binders_wire_size(), 2u + 33u + 49u);
  const Buf body = encode_body(psks);
  auto decoded = OfferedPsks::decode(body);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->binders_wire_size(), 2u + 33u + 49u);
  EXPECT_EQ(decoded->identities.begin()->obfuscated_ticket_age, 0x01020304u);

  expect_round_trip(PreSharedKeyServerHello{1});
}

TEST(TlsExtensions, OfferedPsksLimits) {
  const Buf binder_list = [] {
    Buf b = hex("00 21 20");
    b.resize(b.size() + 32, 0xcc);
    return b;
  }();
  // identities<7..2^16-1>: an empty list.
  Buf empty_ids = hex("00 00");
  empty_ids.insert(empty_ids.end(), binder_list.begin(), binder_list.end());
  EXPECT_EQ(decode_error<OfferedPsks>(empty_ids), Errc::length_overflow);
  // identity<1..2^16-1>: an empty identity first in an otherwise long enough list.
  Buf empty_identity = hex("00 0d 00 00 00 00 00 00 00 01 61 00 00 00 00");
  empty_identity.insert(empty_identity.end(), binder_list.begin(), binder_list.end());
  EXPECT_EQ(decode_error<OfferedPsks>(empty_identity), Errc::length_overflow);
  // PskBinderEntry<32..255>: a 31-byte binder.
  Buf short_binder = hex("00 07 00 01 61 00 00 00 00 00 20 1f");
  short_binder.resize(short_binder.size() + 31, 0xcc);
  EXPECT_EQ(decode_error<OfferedPsks>(short_binder), Errc::length_overflow);
  // RFC 8446 §4.2.11: one binder per identity.
  Buf two_ids = hex("00 0e 00 01 61 00 00 00 00 00 01 62 00 00 00 00");
  two_ids.insert(two_ids.end(), binder_list.begin(), binder_list.end());
  EXPECT_EQ(decode_error<OfferedPsks>(two_ids), Errc::illegal_parameter);
}

// ---- small fixed-size extensions -----------------------------------------------------------

TEST(TlsExtensions, EarlyDataAndCookie) {
  expect_round_trip(EarlyDataTicket{16384});
  EXPECT_TRUE(EarlyDataIndication::decode({}));
  EXPECT_EQ(decode_error<EarlyDataIndication>(hex("00")), Errc::trailing_data);
  const Buf c = hex("de ad be ef");
  expect_round_trip(Cookie{c});
  // cookie<1..2^16-1>
  EXPECT_EQ(decode_error<Cookie>(hex("00 00")), Errc::length_overflow);
}

TEST(TlsExtensions, RecordSizeLimit) {
  expect_round_trip(RecordSizeLimit{16385});
  expect_round_trip(RecordSizeLimit{64});
  // RFC 8449 §4: a value below 64 is illegal_parameter.
  EXPECT_EQ(decode_error<RecordSizeLimit>(hex("00 3f")), Errc::illegal_parameter);
  EXPECT_EQ(decode_error<RecordSizeLimit>(hex("00 00")), Errc::illegal_parameter);
}

TEST(TlsExtensions, Alpn) {
  const std::array<ProtocolName, 2> names = {ProtocolName{as_bytes("h2")},
                                             ProtocolName{as_bytes("http/1.1")}};
  const AlpnProtocols offer{EntryList<ProtocolName>(names)};
  expect_round_trip(offer);
  const Buf body = encode_body(offer);
  auto decoded = AlpnProtocols::decode(body);
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(decoded->contains("http/1.1"));
  EXPECT_FALSE(decoded->contains("http/1"));
  expect_round_trip(AlpnSelected{"h2"});
  // protocol_name_list<2..2^16-1> and ProtocolName<1..2^8-1>.
  EXPECT_EQ(decode_error<AlpnProtocols>(hex("00 00")), Errc::length_overflow);
  EXPECT_EQ(decode_error<AlpnProtocols>(hex("00 02 00 00")), Errc::length_overflow);
  // RFC 7301 §3.1: the server selects exactly one protocol.
  EXPECT_EQ(decode_error<AlpnSelected>(encode_body(offer)), Errc::illegal_parameter);
}

TEST(TlsExtensions, EcPointFormats) {
  const std::array<EcPointFormat, 2> f = {EcPointFormat::ansix962_compressed_prime,
                                          EcPointFormat::uncompressed};
  expect_round_trip(EcPointFormats{ValueList<EcPointFormat>(f)});
  EXPECT_EQ(decode_error<EcPointFormats>(hex("00")), Errc::length_overflow);
  // RFC 8422 §5.1.2: uncompressed must be offered.
  EXPECT_EQ(decode_error<EcPointFormats>(hex("01 01")), Errc::illegal_parameter);
}

TEST(TlsExtensions, RenegotiationInfoExtendedMasterSecretSessionTicket) {
  expect_round_trip(RenegotiationInfo{});
  const Buf verify(24, 0x5a);
  expect_round_trip(RenegotiationInfo{verify});
  EXPECT_EQ(decode_error<RenegotiationInfo>(hex("")), Errc::truncated);
  EXPECT_EQ(decode_error<RenegotiationInfo>(hex("02 00")), Errc::truncated);

  EXPECT_TRUE(ExtendedMasterSecret::decode({}));
  EXPECT_EQ(decode_error<ExtendedMasterSecret>(hex("00")), Errc::trailing_data);

  const Buf ticket(100, 0x42);
  expect_round_trip(SessionTicketExtension{ticket}, /*framed=*/false);
  expect_round_trip(SessionTicketExtension{}, /*framed=*/false);
  auto t = SessionTicketExtension::decode(ticket);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->ticket.size(), 100u);
}

TEST(TlsExtensions, Heartbeat) {
  expect_round_trip(HeartbeatExtension{HeartbeatMode::peer_allowed_to_send});
  expect_round_trip(HeartbeatExtension{HeartbeatMode::peer_not_allowed_to_send});
  // RFC 6520 §2: unknown modes are illegal_parameter.
  EXPECT_EQ(decode_error<HeartbeatExtension>(hex("00")), Errc::illegal_parameter);
  EXPECT_EQ(decode_error<HeartbeatExtension>(hex("03")), Errc::illegal_parameter);
}

TEST(TlsExtensions, StatusRequestAndCertificateStatus) {
  // ocsp, no responder ids, no request extensions.
  const Buf ocsp = hex("00 00 00 00");
  expect_round_trip(StatusRequest{CertificateStatusType::ocsp, ocsp});
  const Buf with_id = hex("00 05 00 03 aa bb cc 00 00");
  expect_round_trip(StatusRequest{CertificateStatusType::ocsp, with_id});
  // A malformed OCSPStatusRequest (responder id of length 0).
  EXPECT_EQ(decode_error<StatusRequest>(hex("01 00 02 00 00 00 00")), Errc::length_overflow);
  // Another status type is recognised, not interpreted.
  const Buf other_type = hex("07 01 02 03");
  auto other = StatusRequest::decode(other_type);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->request.size(), 3u);

  const Buf response(300, 0x30);
  expect_round_trip(CertificateStatus{CertificateStatusType::ocsp, response});
  EXPECT_EQ(decode_error<CertificateStatus>(hex("01 00 00 00")), Errc::length_overflow);
  EXPECT_EQ(decode_error<CertificateStatus>(hex("02 00 00 01 30")), Errc::illegal_parameter);
}

TEST(TlsExtensions, CertificateAuthorities) {
  const Buf dn1 = hex("30 00"), dn2 = hex("30 03 31 01 00");
  const std::array<DistinguishedName, 2> dns = {DistinguishedName{dn1}, DistinguishedName{dn2}};
  expect_round_trip(CertificateAuthorities{EntryList<DistinguishedName>(dns)});
  // authorities<3..2^16-1>
  EXPECT_EQ(decode_error<CertificateAuthorities>(hex("00 00")), Errc::length_overflow);
}

TEST(TlsExtensions, Padding) {
  expect_round_trip(Padding{0}, /*framed=*/false);
  expect_round_trip(Padding{87}, /*framed=*/false);
  EXPECT_EQ(encode_body(Padding{5}), hex("00 00 00 00 00"));
  auto p = Padding::decode(hex("00 00 00"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->length, 3u);
}
