#include "bulwark/tls/extensions.hpp"

#include "bulwark/crypto/hostname.hpp"

#include <array>

namespace bulwark::tls {

namespace {

// Whether some 16-bit key occurs twice in `list`. Short lists (every real one) compare
// pairwise; a long one, which only a hostile peer sends (a block may hold 16383 empty
// extensions), is checked with a 65536-bit set so the cost stays linear.
template <class List, class Key>
bool has_duplicate(const List& list, Key key) noexcept {
  constexpr std::size_t small = 16;
  if (list.size() <= small) {
    std::array<std::uint16_t, small> seen{};
    std::size_t n = 0;
    for (const auto& entry : list) {
      const auto v = static_cast<std::uint16_t>(key(entry));
      for (std::size_t i = 0; i < n; ++i)
        if (seen[i] == v) return true;
      seen[n++] = v;
    }
    return false;
  }
  std::array<std::uint64_t, 65536 / 64> bits{};
  for (const auto& entry : list) {
    const auto v = static_cast<std::uint16_t>(key(entry));
    const std::uint64_t mask = std::uint64_t{1} << (v % 64);
    std::uint64_t& word = bits[v / 64];
    if ((word & mask) != 0) return true;
    word |= mask;
  }
  return false;
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_hex_digit(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_host_char(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

// A last label that is all decimal digits, or 0x followed by hex digits, makes the whole name
// an IPv4 literal to URL parsers and resolvers ("10.1", "127.0.0.1", "0x7f.1"); no top-level
// domain looks like that.
bool looks_like_ipv4(std::string_view last_label) noexcept {
  if (last_label.empty()) return false;
  if (last_label.size() > 2 && last_label[0] == '0' &&
      (last_label[1] == 'x' || last_label[1] == 'X')) {
    for (char c : last_label.substr(2))
      if (!is_hex_digit(c)) return false;
    return true;
  }
  for (char c : last_label)
    if (!is_digit(c)) return false;
  return true;
}

}  // namespace

// ---- extension block -----------------------------------------------------------------------

Result<Extension> Extension::read(wire::Reader& r) noexcept {
  BW_ASSIGN(const std::uint16_t type, r.u16());
  BW_ASSIGN(wire::Bytes body, r.prefixed_bytes<2>());
  return Extension{static_cast<ExtensionType>(type), body};
}

void Extension::write(wire::Writer& w) const noexcept {
  w.u16(static_cast<std::uint16_t>(type));
  w.prefixed_bytes<2>(body);
}

Result<ExtensionBlock> ExtensionBlock::decode(wire::Reader& r, std::size_t min,
                                              std::size_t max) noexcept {
  BW_ASSIGN(auto entries, EntryList<Extension>::read<2>(r, min, max));
  // RFC 8446 §4.2: there MUST NOT be more than one extension of the same type in a block.
  if (has_duplicate(entries, [](const Extension& e) { return e.type; }))
    return Error(Errc::illegal_parameter, "duplicate extension");
  return ExtensionBlock(entries);
}

void ExtensionBlock::encode(wire::Writer& w, std::size_t min, std::size_t max) const noexcept {
  entries_.write<2>(w, min, max);
}

std::optional<wire::Bytes> ExtensionBlock::find(ExtensionType t) const noexcept {
  const wire::Bytes raw = entries_.wire_bytes();
  if (raw.empty()) {  // caller-owned entries (or none)
    for (const Extension& e : entries_)
      if (e.type == t) return e.body;
    return std::nullopt;
  }
  // A decoded block, whose every entry decode() has validated: a server looks up about fifteen
  // types per ClientHello, so the walk reads only each entry's type and length.
  wire::Reader r(raw);
  while (r.remaining() >= 4) {
    const auto type = r.u16();
    const auto length = r.u16();
    if (!type || !length) break;
    const auto body = r.bytes(*length);
    if (!body) break;
    if (*type == static_cast<std::uint16_t>(t)) return *body;
  }
  return std::nullopt;
}

std::optional<ExtensionType> ExtensionBlock::last_type() const noexcept {
  std::optional<ExtensionType> last;
  for (const Extension& e : entries_)
    last = e.type;
  return last;
}

bool allowed_in_tls13(ExtensionType type, ExtensionContext context) noexcept {
  using C = ExtensionContext;
  using E = ExtensionType;
  const bool ch = context == C::client_hello;
  const bool sh = context == C::server_hello;
  const bool hrr = context == C::hello_retry_request;
  const bool ee = context == C::encrypted_extensions;
  const bool ct = context == C::certificate;
  const bool cr = context == C::certificate_request;
  const bool nst = context == C::new_session_ticket;
  switch (type) {
    case E::server_name:
    case E::max_fragment_length:
    case E::supported_groups:
    case E::use_srtp:
    case E::heartbeat:
    case E::application_layer_protocol_negotiation:
    case E::client_certificate_type:
    case E::server_certificate_type:
    case E::record_size_limit:  // RFC 8449 §5: the server's goes in EncryptedExtensions
      return ch || ee;
    case E::status_request:
    case E::signed_certificate_timestamp:
      return ch || cr || ct;
    case E::signature_algorithms:
    case E::signature_algorithms_cert:
    case E::certificate_authorities:
    case E::compress_certificate:  // RFC 8879 §3
      return ch || cr;
    case E::padding:
    case E::psk_key_exchange_modes:
    case E::post_handshake_auth:
      return ch;
    case E::key_share:
    case E::supported_versions:
      return ch || sh || hrr;
    case E::pre_shared_key:
      return ch || sh;
    case E::early_data:
      return ch || ee || nst;
    case E::cookie:
      return ch || hrr;
    case E::oid_filters:
      return cr;
    // TLS 1.2 only: meaningful in a ClientHello that may negotiate 1.2, nowhere else in 1.3.
    case E::ec_point_formats:
    case E::encrypt_then_mac:
    case E::extended_master_secret:
    case E::session_ticket:
    case E::renegotiation_info:
      return ch;
  }
  return true;
}

// ---- server_name ---------------------------------------------------------------------------

bool is_valid_sni_host_name(std::string_view host) noexcept {
  // A DNS name is at most 253 characters without its root dot.
  if (host.empty() || host.size() > 253) return false;
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      const std::size_t label_len = i - label_start;
      // No empty label (this also rejects a leading dot, ".." and the trailing dot that
      // RFC 6066 §3 excludes) and no label over 63 characters (RFC 1035 §2.3.4).
      if (label_len == 0 || label_len > 63) return false;
      label_start = i + 1;
      continue;
    }
    // ':' and '[' are outside this set, so no IPv6 literal gets through.
    if (!is_host_char(host[i])) return false;
  }
  const std::size_t last_dot = host.rfind('.');
  const std::string_view last_label =
      last_dot == std::string_view::npos ? host : host.substr(last_dot + 1);
  return !looks_like_ipv4(last_label);
}

Result<ServerName> ServerName::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(wire::Reader list, r.prefixed<2>(1, 0xffff));
  BW_TRY(r.expect_end());
  BW_ASSIGN(const std::uint8_t name_type, list.u8());
  // RFC 6066 §3: host_name is the only name type; a list may not hold two names of one type,
  // and a name of an unknown type cannot even be framed, so we accept exactly one host_name.
  if (name_type != static_cast<std::uint8_t>(NameType::host_name))
    return Error(Errc::illegal_parameter, "server_name: not a host_name");
  BW_ASSIGN(wire::Bytes host, list.prefixed_bytes<2>(1, 0xffff));
  if (!list.empty()) return Error(Errc::illegal_parameter, "server_name: more than one name");
  // RFC 6066 §3: HostName is ASCII without a trailing dot; IPv4 and IPv6 literals are not
  // permitted (but tolerated, flagged, see the header).
  const std::string_view name = as_string(host);
  if (crypto::parse_ip_literal(name)) return ServerName{name, true};
  if (!is_valid_sni_host_name(name))
    return Error(Errc::illegal_parameter, "server_name: not a DNS host name");
  return ServerName{name};
}

void ServerName::encode(wire::Writer& w) const noexcept {
  auto list = w.prefixed<2>(1, 0xffff);
  w.u8(static_cast<std::uint8_t>(NameType::host_name));
  w.prefixed_bytes<2>(as_bytes(host_name), 1, 0xffff);
}

// ---- supported_versions --------------------------------------------------------------------

Result<SupportedVersionsClientHello> SupportedVersionsClientHello::decode(
    wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(auto versions, ValueList<ProtocolVersion>::read<1>(r, 2, 254));
  BW_TRY(r.expect_end());
  return SupportedVersionsClientHello{versions};
}

void SupportedVersionsClientHello::encode(wire::Writer& w) const noexcept {
  versions.write<1>(w, 2, 254);
}

Result<SupportedVersionsServerHello> SupportedVersionsServerHello::decode(
    wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(const std::uint16_t v, r.u16());
  BW_TRY(r.expect_end());
  return SupportedVersionsServerHello{static_cast<ProtocolVersion>(v)};
}

void SupportedVersionsServerHello::encode(wire::Writer& w) const noexcept {
  w.u16(static_cast<std::uint16_t>(selected_version));
}

// ---- supported_groups ----------------------------------------------------------------------

Result<SupportedGroups> SupportedGroups::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(auto groups, ValueList<NamedGroup>::read<2>(r, 2, 0xffff));
  BW_TRY(r.expect_end());
  return SupportedGroups{groups};
}

void SupportedGroups::encode(wire::Writer& w) const noexcept {
  groups.write<2>(w, 2, 0xffff);
}

// ---- key_share -----------------------------------------------------------------------------

Result<KeyShareEntry> KeyShareEntry::read(wire::Reader& r) noexcept {
  BW_ASSIGN(const std::uint16_t group, r.u16());
  BW_ASSIGN(wire::Bytes key_exchange, r.prefixed_bytes<2>(1, 0xffff));
  return KeyShareEntry{static_cast<NamedGroup>(group), key_exchange};
}

void KeyShareEntry::write(wire::Writer& w) const noexcept {
  w.u16(static_cast<std::uint16_t>(group));
  w.prefixed_bytes<2>(key_exchange, 1, 0xffff);
}

Result<KeyShareClientHello> KeyShareClientHello::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(auto shares, EntryList<KeyShareEntry>::read<2>(r, 0, 0xffff));
  BW_TRY(r.expect_end());
  // RFC 8446 §4.2.8: clients MUST NOT offer two KeyShareEntry values for one group; servers
  // MAY check and abort with illegal_parameter, and we do, so find() is unambiguous.
  if (has_duplicate(shares, [](const KeyShareEntry& e) { return e.group; }))
    return Error(Errc::illegal_parameter, "key_share: two shares for one group");
  return KeyShareClientHello{shares};
}

void KeyShareClientHello::encode(wire::Writer& w) const noexcept {
  client_shares.write<2>(w, 0, 0xffff);
}

std::optional<KeyShareEntry> KeyShareClientHello::find(NamedGroup group) const noexcept {
  for (const KeyShareEntry& e : client_shares)
    if (e.group == group) return e;
  return std::nullopt;
}

Result<KeyShareServerHello> KeyShareServerHello::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(KeyShareEntry share, KeyShareEntry::read(r));
  BW_TRY(r.expect_end());
  return KeyShareServerHello{share};
}

void KeyShareServerHello::encode(wire::Writer& w) const noexcept {
  server_share.write(w);
}

Result<KeyShareHelloRetryRequest> KeyShareHelloRetryRequest::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(const std::uint16_t group, r.u16());
  BW_TRY(r.expect_end());
  return KeyShareHelloRetryRequest{static_cast<NamedGroup>(group)};
}

void KeyShareHelloRetryRequest::encode(wire::Writer& w) const noexcept {
  w.u16(static_cast<std::uint16_t>(selected_group));
}

// ---- psk_key_exchange_modes ----------------------------------------------------------------

Result<PskKeyExchangeModes> PskKeyExchangeModes::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(auto modes, ValueList<PskKeyExchangeMode>::read<1>(r, 1, 255));
  BW_TRY(r.expect_end());
  return PskKeyExchangeModes{modes};
}

void PskKeyExchangeModes::encode(wire::Writer& w) const noexcept {
  modes.write<1>(w, 1, 255);
}

// ---- pre_shared_key ------------------------------------------------------------------------

Result<PskIdentity> PskIdentity::read(wire::Reader& r) noexcept {
  BW_ASSIGN(wire::Bytes identity, r.prefixed_bytes<2>(1, 0xffff));
  BW_ASSIGN(const std::uint32_t age, r.u32());
  return PskIdentity{identity, age};
}

void PskIdentity::write(wire::Writer& w) const noexcept {
  w.prefixed_bytes<2>(identity, 1, 0xffff);
  w.u32(obfuscated_ticket_age);
}

Result<OfferedPsks> OfferedPsks::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(auto identities, EntryList<PskIdentity>::read<2>(r, 7, 0xffff));
  BW_ASSIGN(auto binders, EntryList<PskBinderEntry>::read<2>(r, 33, 0xffff));
  BW_TRY(r.expect_end());
  // RFC 8446 §4.2.11: one binder for each identity, in the same order.
  if (identities.size() != binders.size())
    return Error(Errc::illegal_parameter, "pre_shared_key: binder count differs from identities");
  return OfferedPsks{identities, binders};
}

void OfferedPsks::encode(wire::Writer& w) const noexcept {
  identities.write<2>(w, 7, 0xffff);
  binders.write<2>(w, 33, 0xffff);
}

std::size_t OfferedPsks::binders_wire_size() const noexcept {
  std::size_t n = 2;
  for (const PskBinderEntry& b : binders)
    n += 1 + b.data.size();
  return n;
}

Result<PreSharedKeyServerHello> PreSharedKeyServerHello::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(const std::uint16_t selected, r.u16());
  BW_TRY(r.expect_end());
  return PreSharedKeyServerHello{selected};
}

void PreSharedKeyServerHello::encode(wire::Writer& w) const noexcept {
  w.u16(selected_identity);
}

// ---- early_data (NewSessionTicket) ---------------------------------------------------------

Result<EarlyDataTicket> EarlyDataTicket::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(const std::uint32_t max_size, r.u32());
  BW_TRY(r.expect_end());
  return EarlyDataTicket{max_size};
}

void EarlyDataTicket::encode(wire::Writer& w) const noexcept {
  w.u32(max_early_data_size);
}

// ---- cookie --------------------------------------------------------------------------------

Result<Cookie> Cookie::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(wire::Bytes cookie, r.prefixed_bytes<2>(1, 0xffff));
  BW_TRY(r.expect_end());
  return Cookie{cookie};
}

void Cookie::encode(wire::Writer& w) const noexcept {
  w.prefixed_bytes<2>(cookie, 1, 0xffff);
}

// ---- ALPN ----------------------------------------------------------------------------------

Result<AlpnProtocols> AlpnProtocols::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(auto protocols, EntryList<ProtocolName>::read<2>(r, 2, 0xffff));
  BW_TRY(r.expect_end());
  return AlpnProtocols{protocols};
}

void AlpnProtocols::encode(wire::Writer& w) const noexcept {
  protocols.write<2>(w, 2, 0xffff);
}

bool AlpnProtocols::contains(std::string_view protocol) const noexcept {
  for (const ProtocolName& p : protocols)
    if (p.str() == protocol) return true;
  return false;
}

Result<AlpnSelected> AlpnSelected::decode(wire::Bytes body) noexcept {
  BW_ASSIGN(AlpnProtocols list, AlpnProtocols::decode(body));
  // RFC 7301 §3.1: the server's ProtocolNameList MUST contain exactly one ProtocolName.
  if (list.protocols.size() != 1)
    return Error(Errc::illegal_parameter, "ALPN: the server must select exactly one protocol");
  return AlpnSelected{list.protocols.begin()->str()};
}

void AlpnSelected::encode(wire::Writer& w) const noexcept {
  auto list = w.prefixed<2>(2, 0xffff);
  ProtocolName{as_bytes(protocol)}.write(w);
}

// ---- record_size_limit ---------------------------------------------------------------------

Result<RecordSizeLimit> RecordSizeLimit::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(const std::uint16_t limit, r.u16());
  BW_TRY(r.expect_end());
  // RFC 8449 §4: a value below 64 MUST be treated as a fatal illegal_parameter.
  if (limit < minimum) return Error(Errc::illegal_parameter, "record_size_limit below 64");
  return RecordSizeLimit{limit};
}

void RecordSizeLimit::encode(wire::Writer& w) const noexcept {
  w.u16(limit);
}

// ---- ec_point_formats ----------------------------------------------------------------------

Result<EcPointFormats> EcPointFormats::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(auto formats, ValueList<EcPointFormat>::read<1>(r, 1, 255));
  BW_TRY(r.expect_end());
  // RFC 8422 §5.1.2: a list without the uncompressed format MUST be answered with
  // illegal_parameter.
  if (!formats.contains(EcPointFormat::uncompressed))
    return Error(Errc::illegal_parameter, "ec_point_formats without uncompressed");
  return EcPointFormats{formats};
}

void EcPointFormats::encode(wire::Writer& w) const noexcept {
  formats.write<1>(w, 1, 255);
}

// ---- renegotiation_info --------------------------------------------------------------------

Result<RenegotiationInfo> RenegotiationInfo::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(wire::Bytes renegotiated, r.prefixed_bytes<1>(0, 255));
  BW_TRY(r.expect_end());
  return RenegotiationInfo{renegotiated};
}

void RenegotiationInfo::encode(wire::Writer& w) const noexcept {
  w.prefixed_bytes<1>(renegotiated_connection, 0, 255);
}

// ---- session_ticket ------------------------------------------------------------------------

Result<SessionTicketExtension> SessionTicketExtension::decode(wire::Bytes body) noexcept {
  return SessionTicketExtension{body};
}

void SessionTicketExtension::encode(wire::Writer& w) const noexcept {
  w.bytes(ticket);
}

// ---- heartbeat -----------------------------------------------------------------------------

Result<HeartbeatExtension> HeartbeatExtension::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(const std::uint8_t mode, r.u8());
  BW_TRY(r.expect_end());
  // RFC 6520 §2: an unknown mode MUST be answered with illegal_parameter.
  const auto m = static_cast<HeartbeatMode>(mode);
  if (m != HeartbeatMode::peer_allowed_to_send && m != HeartbeatMode::peer_not_allowed_to_send)
    return Error(Errc::illegal_parameter, "heartbeat: unknown mode");
  return HeartbeatExtension{m};
}

void HeartbeatExtension::encode(wire::Writer& w) const noexcept {
  w.u8(static_cast<std::uint8_t>(mode));
}

// ---- status_request ------------------------------------------------------------------------

Result<StatusRequest> StatusRequest::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(const std::uint8_t status_type, r.u8());
  const wire::Bytes request = r.rest();
  if (static_cast<CertificateStatusType>(status_type) == CertificateStatusType::ocsp) {
    // RFC 6066 §8: OCSPStatusRequest { ResponderID responder_id_list<0..2^16-1>;
    // Extensions request_extensions; } with ResponderID<1..2^16-1>.
    wire::Reader q(request);
    BW_TRY(EntryList<DistinguishedName>::read<2>(q, 0, 0xffff));
    BW_TRY(q.prefixed<2>());
    BW_TRY(q.expect_end());
  }
  return StatusRequest{static_cast<CertificateStatusType>(status_type), request};
}

void StatusRequest::encode(wire::Writer& w) const noexcept {
  w.u8(static_cast<std::uint8_t>(status_type));
  w.bytes(request);
}

Result<CertificateStatus> CertificateStatus::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(const std::uint8_t status_type, r.u8());
  // RFC 6066 §8: ocsp is the only status type; any other could not have been negotiated.
  if (static_cast<CertificateStatusType>(status_type) != CertificateStatusType::ocsp)
    return Error(Errc::illegal_parameter, "certificate status: not ocsp");
  BW_ASSIGN(wire::Bytes response, r.prefixed_bytes<3>(1, 0xffffff));
  BW_TRY(r.expect_end());
  return CertificateStatus{CertificateStatusType::ocsp, response};
}

void CertificateStatus::encode(wire::Writer& w) const noexcept {
  w.u8(static_cast<std::uint8_t>(status_type));
  w.prefixed_bytes<3>(ocsp_response, 1, 0xffffff);
}

// ---- certificate_authorities ---------------------------------------------------------------

Result<CertificateAuthorities> CertificateAuthorities::decode(wire::Bytes body) noexcept {
  wire::Reader r(body);
  BW_ASSIGN(auto authorities, EntryList<DistinguishedName>::read<2>(r, 3, 0xffff));
  BW_TRY(r.expect_end());
  return CertificateAuthorities{authorities};
}

void CertificateAuthorities::encode(wire::Writer& w) const noexcept {
  authorities.write<2>(w, 3, 0xffff);
}

// ---- padding -------------------------------------------------------------------------------

Result<Padding> Padding::decode(wire::Bytes body) noexcept {
  return Padding{body.size()};
}

void Padding::encode(wire::Writer& w) const noexcept {
  wire::MutableBytes zeros = w.reserve(length);
  std::fill(zeros.begin(), zeros.end(), std::uint8_t{0});
}

}  // namespace bulwark::tls
