#include "bulwark/tls/messages.hpp"

#include <algorithm>

namespace bulwark::tls {

namespace {

bool ends_with(const HelloRandom& random, const std::array<std::uint8_t, 8>& tail) noexcept {
  return std::equal(tail.begin(), tail.end(), random.end() - tail.size());
}

Status read_random(wire::Reader& r, HelloRandom& out) noexcept {
  BW_ASSIGN(wire::Bytes b, r.bytes(out.size()));
  std::copy(b.begin(), b.end(), out.begin());
  return {};
}

// Both hellos may end without an extension block in TLS 1.2 (RFC 5246 §7.4.1.2-3).
Status read_optional_extensions(wire::Reader& r, bool& has_extensions,
                                ExtensionBlock& extensions) noexcept {
  has_extensions = !r.empty();
  if (has_extensions) {
    BW_ASSIGN(extensions, ExtensionBlock::decode(r));
  }
  return r.expect_end();
}

}  // namespace

// ---- framing -------------------------------------------------------------------------------

Result<HandshakeHeader> HandshakeHeader::decode(wire::Reader& r) noexcept {
  if (r.remaining() < handshake_header_size) return Errc::truncated;
  BW_ASSIGN(const std::uint8_t type, r.u8());
  BW_ASSIGN(const std::uint32_t length, r.u24());
  return HandshakeHeader{static_cast<HandshakeType>(type), length};
}

void HandshakeHeader::encode(wire::Writer& w) const noexcept {
  w.u8(static_cast<std::uint8_t>(type));
  w.u24(length);
}

Result<HandshakeMessage> read_handshake(wire::Reader& r, std::size_t max_body) noexcept {
  // Work on a copy so that an incomplete message consumes nothing.
  wire::Reader probe = r;
  const wire::Bytes start = probe.rest();
  BW_ASSIGN(const HandshakeHeader header, HandshakeHeader::decode(probe));
  if (header.length > max_body)
    return Error(Errc::limit_exceeded, "handshake message longer than our limit");
  BW_ASSIGN(wire::Bytes body, probe.bytes(header.length));
  r = probe;
  return HandshakeMessage{header.type, body, start.first(handshake_header_size + body.size())};
}

// ---- ClientHello ---------------------------------------------------------------------------

Result<ClientHello> ClientHello::decode(wire::Reader& r) noexcept {
  ClientHello ch;
  BW_ASSIGN(const std::uint16_t version, r.u16());
  ch.legacy_version = static_cast<ProtocolVersion>(version);
  BW_TRY(read_random(r, ch.random));
  // RFC 8446 §4.1.2: legacy_session_id<0..32>. A longer one (the Slapper worm's overflow) is
  // refused by the length check before a byte of it is read.
  BW_ASSIGN(ch.legacy_session_id, r.prefixed_bytes<1>(0, 32));
  // RFC 8446 §4.1.2: cipher_suites<2..2^16-2>, two bytes each.
  BW_ASSIGN(ch.cipher_suites, ValueList<CipherSuite>::read<2>(r, 2, 0xfffe));
  // RFC 8446 §4.1.2: legacy_compression_methods<1..2^8-1>.
  BW_ASSIGN(ch.legacy_compression_methods, ValueList<std::uint8_t>::read<1>(r, 1, 255));
  BW_TRY(read_optional_extensions(r, ch.has_extensions, ch.extensions));
  // RFC 8446 §4.2.11: pre_shared_key MUST be the last extension of the ClientHello; servers
  // MUST check and fail with illegal_parameter.
  if (ch.extensions.contains(ExtensionType::pre_shared_key) &&
      ch.extensions.last_type() != ExtensionType::pre_shared_key)
    return Error(Errc::illegal_parameter, "pre_shared_key is not the last extension");
  return ch;
}

void ClientHello::encode_fixed_fields(wire::Writer& w) const noexcept {
  w.u16(static_cast<std::uint16_t>(legacy_version));
  w.bytes(random);
  w.prefixed_bytes<1>(legacy_session_id, 0, 32);
  cipher_suites.write<2>(w, 2, 0xfffe);
  legacy_compression_methods.write<1>(w, 1, 255);
}

void ClientHello::encode(wire::Writer& w) const noexcept {
  encode_fixed_fields(w);
  if (has_extensions) extensions.encode(w);
}

bool operator==(const ClientHello& a, const ClientHello& b) noexcept {
  return a.legacy_version == b.legacy_version && a.random == b.random &&
         same_bytes(a.legacy_session_id, b.legacy_session_id) &&
         a.cipher_suites == b.cipher_suites &&
         a.legacy_compression_methods == b.legacy_compression_methods &&
         a.has_extensions == b.has_extensions && a.extensions == b.extensions;
}

Result<std::size_t> truncated_client_hello_length(wire::Bytes message) noexcept {
  wire::Reader r(message);
  BW_ASSIGN(const HandshakeMessage m, read_handshake(r, 0xffffff));
  BW_TRY(r.expect_end());
  if (m.type != HandshakeType::client_hello)
    return Error(Errc::invalid_argument, "not a ClientHello");
  BW_ASSIGN(const ClientHello ch, decode_body<ClientHello>(m.body));
  BW_ASSIGN(const auto psks, ch.extensions.get<OfferedPsks>());
  if (!psks) return Error(Errc::missing_extension, "no pre_shared_key extension");
  // pre_shared_key is the last extension (decode checked) and binders its last field, so the
  // binders list ends the message.
  return m.message.size() - psks->binders_wire_size();
}

// ---- ServerHello ---------------------------------------------------------------------------

Result<ServerHello> ServerHello::decode(wire::Reader& r) noexcept {
  ServerHello sh;
  BW_ASSIGN(const std::uint16_t version, r.u16());
  sh.legacy_version = static_cast<ProtocolVersion>(version);
  BW_TRY(read_random(r, sh.random));
  // RFC 8446 §4.1.3: legacy_session_id_echo<0..32>.
  BW_ASSIGN(sh.legacy_session_id_echo, r.prefixed_bytes<1>(0, 32));
  BW_ASSIGN(const std::uint16_t suite, r.u16());
  sh.cipher_suite = static_cast<CipherSuite>(suite);
  BW_ASSIGN(sh.legacy_compression_method, r.u8());
  BW_TRY(read_optional_extensions(r, sh.has_extensions, sh.extensions));
  return sh;
}

void ServerHello::encode_fixed_fields(wire::Writer& w) const noexcept {
  w.u16(static_cast<std::uint16_t>(legacy_version));
  w.bytes(random);
  w.prefixed_bytes<1>(legacy_session_id_echo, 0, 32);
  w.u16(static_cast<std::uint16_t>(cipher_suite));
  w.u8(legacy_compression_method);
}

void ServerHello::encode(wire::Writer& w) const noexcept {
  encode_fixed_fields(w);
  if (has_extensions) extensions.encode(w);
}

bool ServerHello::has_tls12_downgrade_sentinel() const noexcept {
  return ends_with(random, downgrade_tls12_sentinel);
}

bool ServerHello::has_tls11_downgrade_sentinel() const noexcept {
  return ends_with(random, downgrade_tls11_sentinel);
}

bool operator==(const ServerHello& a, const ServerHello& b) noexcept {
  return a.legacy_version == b.legacy_version && a.random == b.random &&
         same_bytes(a.legacy_session_id_echo, b.legacy_session_id_echo) &&
         a.cipher_suite == b.cipher_suite &&
         a.legacy_compression_method == b.legacy_compression_method &&
         a.has_extensions == b.has_extensions && a.extensions == b.extensions;
}

// ---- EncryptedExtensions -------------------------------------------------------------------

Result<EncryptedExtensions> EncryptedExtensions::decode(wire::Reader& r) noexcept {
  BW_ASSIGN(ExtensionBlock extensions, ExtensionBlock::decode(r));
  BW_TRY(r.expect_end());
  return EncryptedExtensions{extensions};
}

void EncryptedExtensions::encode(wire::Writer& w) const noexcept {
  extensions.encode(w);
}

// ---- Certificate (TLS 1.3) -----------------------------------------------------------------

Result<CertificateEntry> CertificateEntry::read(wire::Reader& r) noexcept {
  BW_ASSIGN(wire::Bytes cert_data, r.prefixed_bytes<3>(1, 0xffffff));
  BW_ASSIGN(ExtensionBlock extensions, ExtensionBlock::decode(r));
  return CertificateEntry{cert_data, extensions};
}

void CertificateEntry::write(wire::Writer& w) const noexcept {
  w.prefixed_bytes<3>(cert_data, 1, 0xffffff);
  extensions.encode(w);
}

Result<Certificate13> Certificate13::decode(wire::Reader& r) noexcept {
  BW_ASSIGN(wire::Bytes context, r.prefixed_bytes<1>(0, 255));
  BW_ASSIGN(auto list, EntryList<CertificateEntry>::read<3>(r, 0, 0xffffff));
  BW_TRY(r.expect_end());
  return Certificate13{context, list};
}

void Certificate13::encode(wire::Writer& w) const noexcept {
  w.prefixed_bytes<1>(certificate_request_context, 0, 255);
  certificate_list.write<3>(w, 0, 0xffffff);
}

// ---- CertificateRequest (TLS 1.3) ----------------------------------------------------------

Result<CertificateRequest13> CertificateRequest13::decode(wire::Reader& r) noexcept {
  BW_ASSIGN(wire::Bytes context, r.prefixed_bytes<1>(0, 255));
  BW_ASSIGN(ExtensionBlock extensions, ExtensionBlock::decode(r, 2, 0xffff));
  BW_TRY(r.expect_end());
  // RFC 8446 §4.3.2: the signature_algorithms extension MUST be specified.
  if (!extensions.contains(ExtensionType::signature_algorithms))
    return Error(Errc::missing_extension, "CertificateRequest without signature_algorithms");
  return CertificateRequest13{context, extensions};
}

void CertificateRequest13::encode(wire::Writer& w) const noexcept {
  w.prefixed_bytes<1>(certificate_request_context, 0, 255);
  extensions.encode(w, 2, 0xffff);
}

// ---- CertificateVerify ---------------------------------------------------------------------

Result<CertificateVerify> CertificateVerify::decode(wire::Reader& r) noexcept {
  BW_ASSIGN(const std::uint16_t scheme, r.u16());
  BW_ASSIGN(wire::Bytes signature, r.prefixed_bytes<2>(0, 0xffff));
  BW_TRY(r.expect_end());
  return CertificateVerify{static_cast<SignatureScheme>(scheme), signature};
}

void CertificateVerify::encode(wire::Writer& w) const noexcept {
  w.u16(static_cast<std::uint16_t>(scheme));
  w.prefixed_bytes<2>(signature, 0, 0xffff);
}

// ---- Finished ------------------------------------------------------------------------------

Result<Finished> Finished::decode(wire::Reader& r, std::size_t verify_data_length) noexcept {
  BW_ASSIGN(wire::Bytes verify_data, r.bytes(verify_data_length));
  BW_TRY(r.expect_end());
  return Finished{verify_data};
}

void Finished::encode(wire::Writer& w) const noexcept {
  w.bytes(verify_data);
}

// ---- NewSessionTicket (TLS 1.3) ------------------------------------------------------------

Result<NewSessionTicket13> NewSessionTicket13::decode(wire::Reader& r) noexcept {
  NewSessionTicket13 t;
  BW_ASSIGN(t.ticket_lifetime, r.u32());
  BW_ASSIGN(t.ticket_age_add, r.u32());
  BW_ASSIGN(t.ticket_nonce, r.prefixed_bytes<1>(0, 255));
  BW_ASSIGN(t.ticket, r.prefixed_bytes<2>(1, 0xffff));
  BW_ASSIGN(t.extensions, ExtensionBlock::decode(r, 0, 0xfffe));
  BW_TRY(r.expect_end());
  // RFC 8446 §4.6.1: servers MUST NOT use a lifetime greater than 604800 seconds.
  if (t.ticket_lifetime > max_ticket_lifetime)
    return Error(Errc::illegal_parameter, "ticket lifetime over 7 days");
  return t;
}

void NewSessionTicket13::encode(wire::Writer& w) const noexcept {
  w.u32(ticket_lifetime);
  w.u32(ticket_age_add);
  w.prefixed_bytes<1>(ticket_nonce, 0, 255);
  w.prefixed_bytes<2>(ticket, 1, 0xffff);
  extensions.encode(w, 0, 0xfffe);
}

// ---- KeyUpdate -----------------------------------------------------------------------------

Result<KeyUpdate> KeyUpdate::decode(wire::Reader& r) noexcept {
  BW_ASSIGN(const std::uint8_t value, r.u8());
  BW_TRY(r.expect_end());
  const auto request = static_cast<KeyUpdateRequest>(value);
  // RFC 8446 §4.6.3: any value but 0 or 1 MUST be answered with illegal_parameter.
  if (request != KeyUpdateRequest::update_not_requested &&
      request != KeyUpdateRequest::update_requested)
    return Error(Errc::illegal_parameter, "KeyUpdate: request_update is neither 0 nor 1");
  return KeyUpdate{request};
}

void KeyUpdate::encode(wire::Writer& w) const noexcept {
  w.u8(static_cast<std::uint8_t>(request_update));
}

// ---- TLS 1.2 Certificate, CertificateRequest, NewSessionTicket -----------------------------

Result<Certificate12> Certificate12::decode(wire::Reader& r) noexcept {
  BW_ASSIGN(auto list, EntryList<Asn1Cert>::read<3>(r, 0, 0xffffff));
  BW_TRY(r.expect_end());
  return Certificate12{list};
}

void Certificate12::encode(wire::Writer& w) const noexcept {
  certificate_list.write<3>(w, 0, 0xffffff);
}

Result<CertificateRequest12> CertificateRequest12::decode(wire::Reader& r) noexcept {
  CertificateRequest12 cr;
  BW_ASSIGN(cr.certificate_types, ValueList<ClientCertificateType>::read<1>(r, 1, 255));
  BW_ASSIGN(cr.supported_signature_algorithms, ValueList<SignatureScheme>::read<2>(r, 2, 0xfffe));
  BW_ASSIGN(cr.certificate_authorities, EntryList<DistinguishedName>::read<2>(r, 0, 0xffff));
  BW_TRY(r.expect_end());
  return cr;
}

void CertificateRequest12::encode(wire::Writer& w) const noexcept {
  certificate_types.write<1>(w, 1, 255);
  supported_signature_algorithms.write<2>(w, 2, 0xfffe);
  certificate_authorities.write<2>(w, 0, 0xffff);
}

Result<NewSessionTicket12> NewSessionTicket12::decode(wire::Reader& r) noexcept {
  BW_ASSIGN(const std::uint32_t hint, r.u32());
  BW_ASSIGN(wire::Bytes ticket, r.prefixed_bytes<2>(0, 0xffff));
  BW_TRY(r.expect_end());
  return NewSessionTicket12{hint, ticket};
}

void NewSessionTicket12::encode(wire::Writer& w) const noexcept {
  w.u32(ticket_lifetime_hint);
  w.prefixed_bytes<2>(ticket, 0, 0xffff);
}

// ---- ServerKeyExchange ---------------------------------------------------------------------

Result<ServerKeyExchangeEcdhe> ServerKeyExchangeEcdhe::decode(wire::Reader& r) noexcept {
  ServerKeyExchangeEcdhe ske;
  const wire::Bytes start = r.rest();
  BW_ASSIGN(const std::uint8_t curve_type, r.u8());
  // RFC 8422 §5.4: explicit_prime and explicit_char2 curves are deprecated; only named_curve
  // remains.
  if (static_cast<EcCurveType>(curve_type) != EcCurveType::named_curve)
    return Error(Errc::illegal_parameter, "ServerKeyExchange: not a named curve");
  BW_ASSIGN(const std::uint16_t group, r.u16());
  ske.group = static_cast<NamedGroup>(group);
  BW_ASSIGN(ske.public_point, r.prefixed_bytes<1>(1, 255));
  ske.params = start.first(start.size() - r.remaining());
  BW_ASSIGN(const std::uint16_t scheme, r.u16());
  ske.scheme = static_cast<SignatureScheme>(scheme);
  BW_ASSIGN(ske.signature, r.prefixed_bytes<2>(0, 0xffff));
  BW_TRY(r.expect_end());
  return ske;
}

void ServerKeyExchangeEcdhe::write_params(wire::Writer& w, NamedGroup group,
                                          wire::Bytes public_point) noexcept {
  w.u8(static_cast<std::uint8_t>(EcCurveType::named_curve));
  w.u16(static_cast<std::uint16_t>(group));
  w.prefixed_bytes<1>(public_point, 1, 255);
}

void ServerKeyExchangeEcdhe::encode(wire::Writer& w) const noexcept {
  write_params(w, group, public_point);
  w.u16(static_cast<std::uint16_t>(scheme));
  w.prefixed_bytes<2>(signature, 0, 0xffff);
}

Result<ServerKeyExchangeDhe> ServerKeyExchangeDhe::decode(wire::Reader& r) noexcept {
  ServerKeyExchangeDhe ske;
  const wire::Bytes start = r.rest();
  BW_ASSIGN(ske.dh_p, r.prefixed_bytes<2>(1, 0xffff));
  BW_ASSIGN(ske.dh_g, r.prefixed_bytes<2>(1, 0xffff));
  BW_ASSIGN(ske.dh_ys, r.prefixed_bytes<2>(1, 0xffff));
  ske.params = start.first(start.size() - r.remaining());
  BW_ASSIGN(const std::uint16_t scheme, r.u16());
  ske.scheme = static_cast<SignatureScheme>(scheme);
  BW_ASSIGN(ske.signature, r.prefixed_bytes<2>(0, 0xffff));
  BW_TRY(r.expect_end());
  return ske;
}

void ServerKeyExchangeDhe::write_params(wire::Writer& w, wire::Bytes p, wire::Bytes g,
                                        wire::Bytes ys) noexcept {
  w.prefixed_bytes<2>(p, 1, 0xffff);
  w.prefixed_bytes<2>(g, 1, 0xffff);
  w.prefixed_bytes<2>(ys, 1, 0xffff);
}

void ServerKeyExchangeDhe::encode(wire::Writer& w) const noexcept {
  write_params(w, dh_p, dh_g, dh_ys);
  w.u16(static_cast<std::uint16_t>(scheme));
  w.prefixed_bytes<2>(signature, 0, 0xffff);
}

// ---- ClientKeyExchange ---------------------------------------------------------------------

Result<ClientKeyExchange> ClientKeyExchange::decode(wire::Reader& r, Form form) noexcept {
  wire::Bytes keys;
  switch (form) {
    case Form::ecdhe: {
      BW_ASSIGN(keys, r.prefixed_bytes<1>(1, 255));
      break;
    }
    case Form::dhe: {
      BW_ASSIGN(keys, r.prefixed_bytes<2>(1, 0xffff));
      break;
    }
    case Form::rsa: {
      BW_ASSIGN(keys, r.prefixed_bytes<2>(0, 0xffff));
      break;
    }
    default:
      return Errc::invalid_argument;
  }
  BW_TRY(r.expect_end());
  return ClientKeyExchange{form, keys};
}

void ClientKeyExchange::encode(wire::Writer& w) const noexcept {
  switch (form) {
    case Form::ecdhe:
      w.prefixed_bytes<1>(exchange_keys, 1, 255);
      break;
    case Form::dhe:
      w.prefixed_bytes<2>(exchange_keys, 1, 0xffff);
      break;
    case Form::rsa:
      w.prefixed_bytes<2>(exchange_keys, 0, 0xffff);
      break;
  }
}

// ---- Alert ---------------------------------------------------------------------------------

Result<Alert> Alert::decode(wire::Reader& r) noexcept {
  BW_ASSIGN(const std::uint8_t level, r.u8());
  BW_ASSIGN(const std::uint8_t description, r.u8());
  // RFC 8446 §5.1: an alert record holds exactly one alert; alerts are never coalesced.
  BW_TRY(r.expect_end());
  return Alert{static_cast<AlertLevel>(level), static_cast<AlertDescription>(description)};
}

void Alert::encode(wire::Writer& w) const noexcept {
  w.u8(static_cast<std::uint8_t>(level));
  w.u8(static_cast<std::uint8_t>(description));
}

// ---- Heartbeat -----------------------------------------------------------------------------

Result<HeartbeatMessage> HeartbeatMessage::decode(wire::Bytes fragment) noexcept {
  // RFC 6520 §4: a HeartbeatMessage MUST NOT exceed 2^14 bytes.
  if (fragment.size() > max_plaintext)
    return Error(Errc::record_overflow, "heartbeat message over 2^14 bytes");
  wire::Reader r(fragment);
  BW_ASSIGN(const std::uint8_t type, r.u8());
  BW_ASSIGN(const std::uint16_t payload_length, r.u16());
  // RFC 6520 §4: a payload_length too large for the message (type, length, payload and at
  // least 16 bytes of padding) MUST be discarded silently. This is the Heartbleed check: the
  // length is compared with what arrived before a byte of payload is touched.
  if (std::size_t{payload_length} + 3 + heartbeat_min_padding > fragment.size())
    return Error(Errc::length_overflow, "heartbeat payload_length exceeds the message");
  BW_ASSIGN(wire::Bytes payload, r.bytes(payload_length));
  return HeartbeatMessage{static_cast<HeartbeatMessageType>(type), payload, r.rest()};
}

void HeartbeatMessage::encode(wire::Writer& w) const noexcept {
  w.u8(static_cast<std::uint8_t>(type));
  auto length = w.prefixed<2>();
  w.bytes(payload);
  (void)length.close();
  w.bytes(padding);
}

}  // namespace bulwark::tls
