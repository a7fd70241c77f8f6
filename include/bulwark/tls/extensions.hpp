// TLS extensions: the extension block of hello and other handshake messages, and a typed codec
// for each extension body we understand.
//
// Decoded values are views into the input bytes, valid while those bytes live. Every decoder
// consumes the whole body: trailing bytes are `trailing_data`, short ones `truncated`, a length
// outside its RFC range `length_overflow` (the engine sends decode_error for all three); a
// well-formed field with a forbidden value is `illegal_parameter`.
//
// Each typed extension has `static constexpr ExtensionType type`, `static Result<X>
// decode(wire::Bytes body)` and `void encode(wire::Writer&) const` (the body only). Where one
// extension has different bodies in different messages there is one type per form
// (SupportedVersionsClientHello / SupportedVersionsServerHello, ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "bulwark/result.hpp"
#include "bulwark/tls/types.hpp"
#include "bulwark/wire.hpp"

namespace bulwark::tls {

// ---- the extension block -------------------------------------------------------------------

// One entry of an extension block: `struct { ExtensionType extension_type; opaque
// extension_data<0..2^16-1>; } Extension` (RFC 8446 §4.2).
struct Extension {
  ExtensionType type{};
  wire::Bytes body;

  static Result<Extension> read(wire::Reader& r) noexcept;
  void write(wire::Writer& w) const noexcept;
  friend bool operator==(const Extension& a, const Extension& b) noexcept {
    return a.type == b.type && same_bytes(a.body, b.body);
  }
};

// `Extension extensions<min..max>`: a view over a validated block, or over caller-owned entries
// for encoding (the encoder does not look for duplicates: it writes what it is given).
class ExtensionBlock {
 public:
  using iterator = EntryList<Extension>::iterator;

  ExtensionBlock() noexcept = default;
  ExtensionBlock(EntryList<Extension> entries) noexcept  // NOLINT(google-explicit-constructor)
      : entries_(entries) {}
  // From an array or vector of caller-owned extensions (an lvalue, which must outlive this).
  template <class R>
  requires(std::is_convertible_v<R&, std::span<const Extension>>) ExtensionBlock(R& entries)
  noexcept  // NOLINT(google-explicit-constructor)
      : entries_(std::span<const Extension>(entries)) {}

  // Reads the u16 length prefix (in [min, max]) and the entries. Every entry must be framed;
  // the same type twice is `illegal_parameter` (RFC 8446 §4.2).
  static Result<ExtensionBlock> decode(wire::Reader& r, std::size_t min = 0,
                                       std::size_t max = 0xffff) noexcept;
  // Writes the u16 length prefix (enforcing [min, max]) and the entries.
  void encode(wire::Writer& w, std::size_t min = 0, std::size_t max = 0xffff) const noexcept;

  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  iterator begin() const noexcept { return entries_.begin(); }
  iterator end() const noexcept { return entries_.end(); }
  const EntryList<Extension>& entries() const noexcept { return entries_; }

  // The body of the extension of type `t`, if present.
  std::optional<wire::Bytes> find(ExtensionType t) const noexcept;
  bool contains(ExtensionType t) const noexcept { return find(t).has_value(); }
  // The type of the last extension (pre_shared_key must be last in a ClientHello).
  std::optional<ExtensionType> last_type() const noexcept;

  // The typed body of extension `Ext::type`: nullopt if absent, an error if malformed.
  template <class Ext>
  Result<std::optional<Ext>> get() const noexcept {
    auto body = find(Ext::type);
    if (!body) return std::optional<Ext>{};
    BW_ASSIGN(Ext ext, Ext::decode(*body));
    return std::optional<Ext>(std::move(ext));
  }

  friend bool operator==(const ExtensionBlock& a, const ExtensionBlock& b) noexcept {
    return a.entries_ == b.entries_;
  }

 private:
  EntryList<Extension> entries_;
};

// Builds an extension block straight into a writer, with no intermediate buffers: the
// constructor opens the u16 length prefix, each add() appends one extension, close() (or the
// destructor) fills the prefix in. Failures stick to the writer.
class ExtensionsWriter {
 public:
  explicit ExtensionsWriter(wire::Writer& w, std::size_t min = 0, std::size_t max = 0xffff) noexcept
      : w_(w), prefix_(w.prefixed<2>(min, max)) {}
  ExtensionsWriter(const ExtensionsWriter&) = delete;
  ExtensionsWriter& operator=(const ExtensionsWriter&) = delete;

  void add(ExtensionType type, wire::Bytes body) noexcept {
    w_.u16(static_cast<std::uint16_t>(type));
    w_.prefixed_bytes<2>(body);
  }
  // `write_body(wire::Writer&)` writes the extension_data.
  template <class F>
  void add_with(ExtensionType type, F&& write_body) noexcept {
    w_.u16(static_cast<std::uint16_t>(type));
    auto body = w_.prefixed<2>();
    write_body(w_);
  }
  // A typed extension (anything with `type` and `encode(Writer&)`).
  template <class Ext>
  void add(const Ext& ext) noexcept {
    add_with(Ext::type, [&](wire::Writer& w) { ext.encode(w); });
  }
  Status close() noexcept { return prefix_.close(); }

 private:
  wire::Writer& w_;
  wire::Writer::Prefix prefix_;
};

// Where an extension may appear in TLS 1.3 (RFC 8446 §4.2).
enum class ExtensionContext : std::uint8_t {
  client_hello,
  server_hello,
  hello_retry_request,
  encrypted_extensions,
  certificate,
  certificate_request,
  new_session_ticket,
};

// RFC 8446 §4.2: whether a recognised extension may appear in `context` in TLS 1.3 (false means
// illegal_parameter). Extensions we do not recognise return true: the receiver ignores them (or
// rejects them as unsolicited, which is the engine's business). Every extension is allowed in a
// ClientHello, which may be negotiating TLS 1.2.
bool allowed_in_tls13(ExtensionType type, ExtensionContext context) noexcept;

// ---- bodies that are empty -----------------------------------------------------------------

template <ExtensionType T>
struct EmptyExtension {
  static constexpr ExtensionType type = T;
  static Result<EmptyExtension> decode(wire::Bytes body) noexcept {
    if (!body.empty()) return Errc::trailing_data;
    return EmptyExtension{};
  }
  void encode(wire::Writer&) const noexcept {}
  friend bool operator==(const EmptyExtension&, const EmptyExtension&) noexcept { return true; }
};

// RFC 6066 §3: the server's server_name acknowledgement (ServerHello in 1.2, EE in 1.3).
using ServerNameAck = EmptyExtension<ExtensionType::server_name>;
// RFC 7627 §5.1.
using ExtendedMasterSecret = EmptyExtension<ExtensionType::extended_master_secret>;
// RFC 8446 §4.2.10: early_data in ClientHello and EncryptedExtensions.
using EarlyDataIndication = EmptyExtension<ExtensionType::early_data>;
// RFC 8446 §4.2.6.
using PostHandshakeAuth = EmptyExtension<ExtensionType::post_handshake_auth>;
// RFC 7366.
using EncryptThenMac = EmptyExtension<ExtensionType::encrypt_then_mac>;
// RFC 6066 §8: the TLS 1.2 ServerHello's status_request acknowledgement.
using StatusRequestAck = EmptyExtension<ExtensionType::status_request>;

// ---- server_name (RFC 6066 §3) -------------------------------------------------------------

// Whether `host` may be sent in server_name: a non-empty DNS name in ASCII letters, digits,
// '-', '_' and '.', no empty label, no trailing dot, and not an IPv4 or IPv6 literal.
bool is_valid_sni_host_name(std::string_view host) noexcept;

// The ClientHello form: a ServerNameList with exactly one host_name.
struct ServerName {
  static constexpr ExtensionType type = ExtensionType::server_name;
  std::string_view host_name;
  // RFC 6066 §3 forbids IP literals here, yet clients such as wrk and older Java and Python
  // send them for https://ADDRESS/ URLs. They decode (a server ignores them, as OpenSSL and
  // nginx do) with this flag set; any other malformed name is illegal_parameter.
  bool address_literal = false;

  static Result<ServerName> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const ServerName&, const ServerName&) noexcept = default;
};

// ---- supported_versions (RFC 8446 §4.2.1) --------------------------------------------------

struct SupportedVersionsClientHello {
  static constexpr ExtensionType type = ExtensionType::supported_versions;
  ValueList<ProtocolVersion> versions;  // <2..254> bytes

  static Result<SupportedVersionsClientHello> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const SupportedVersionsClientHello&,
                         const SupportedVersionsClientHello&) noexcept = default;
};

// ServerHello and HelloRetryRequest.
struct SupportedVersionsServerHello {
  static constexpr ExtensionType type = ExtensionType::supported_versions;
  ProtocolVersion selected_version{};

  static Result<SupportedVersionsServerHello> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const SupportedVersionsServerHello&,
                         const SupportedVersionsServerHello&) noexcept = default;
};

// ---- supported_groups (RFC 8446 §4.2.7, RFC 8422 §5.1.1) -----------------------------------

struct SupportedGroups {
  static constexpr ExtensionType type = ExtensionType::supported_groups;
  ValueList<NamedGroup> groups;  // <2..2^16-1> bytes

  static Result<SupportedGroups> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const SupportedGroups&, const SupportedGroups&) noexcept = default;
};

// ---- signature_algorithms, signature_algorithms_cert (RFC 8446 §4.2.3) ---------------------

template <ExtensionType T>
struct SignatureSchemeListExtension {
  static constexpr ExtensionType type = T;
  ValueList<SignatureScheme> schemes;  // <2..2^16-2> bytes

  static Result<SignatureSchemeListExtension> decode(wire::Bytes body) noexcept {
    wire::Reader r(body);
    BW_ASSIGN(auto schemes, ValueList<SignatureScheme>::read<2>(r, 2, 0xfffe));
    BW_TRY(r.expect_end());
    return SignatureSchemeListExtension{schemes};
  }
  void encode(wire::Writer& w) const noexcept { schemes.write<2>(w, 2, 0xfffe); }
  friend bool operator==(const SignatureSchemeListExtension&,
                         const SignatureSchemeListExtension&) noexcept = default;
};
using SignatureAlgorithms = SignatureSchemeListExtension<ExtensionType::signature_algorithms>;
using SignatureAlgorithmsCert =
    SignatureSchemeListExtension<ExtensionType::signature_algorithms_cert>;

// ---- key_share (RFC 8446 §4.2.8) -----------------------------------------------------------

struct KeyShareEntry {
  NamedGroup group{};
  wire::Bytes key_exchange;  // <1..2^16-1>

  static Result<KeyShareEntry> read(wire::Reader& r) noexcept;
  void write(wire::Writer& w) const noexcept;
  friend bool operator==(const KeyShareEntry& a, const KeyShareEntry& b) noexcept {
    return a.group == b.group && same_bytes(a.key_exchange, b.key_exchange);
  }
};

struct KeyShareClientHello {
  static constexpr ExtensionType type = ExtensionType::key_share;
  EntryList<KeyShareEntry> client_shares;  // <0..2^16-1> bytes; no group twice

  static Result<KeyShareClientHello> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  // The share for `group`, if offered.
  std::optional<KeyShareEntry> find(NamedGroup group) const noexcept;
  friend bool operator==(const KeyShareClientHello&, const KeyShareClientHello&) noexcept = default;
};

struct KeyShareServerHello {
  static constexpr ExtensionType type = ExtensionType::key_share;
  KeyShareEntry server_share;

  static Result<KeyShareServerHello> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const KeyShareServerHello&, const KeyShareServerHello&) noexcept = default;
};

struct KeyShareHelloRetryRequest {
  static constexpr ExtensionType type = ExtensionType::key_share;
  NamedGroup selected_group{};

  static Result<KeyShareHelloRetryRequest> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const KeyShareHelloRetryRequest&,
                         const KeyShareHelloRetryRequest&) noexcept = default;
};

// ---- psk_key_exchange_modes (RFC 8446 §4.2.9) ----------------------------------------------

struct PskKeyExchangeModes {
  static constexpr ExtensionType type = ExtensionType::psk_key_exchange_modes;
  ValueList<PskKeyExchangeMode> modes;  // <1..255> bytes

  static Result<PskKeyExchangeModes> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const PskKeyExchangeModes&, const PskKeyExchangeModes&) noexcept = default;
};

// ---- pre_shared_key (RFC 8446 §4.2.11) -----------------------------------------------------

struct PskIdentity {
  wire::Bytes identity;  // <1..2^16-1>
  std::uint32_t obfuscated_ticket_age = 0;

  static Result<PskIdentity> read(wire::Reader& r) noexcept;
  void write(wire::Writer& w) const noexcept;
  friend bool operator==(const PskIdentity& a, const PskIdentity& b) noexcept {
    return a.obfuscated_ticket_age == b.obfuscated_ticket_age && same_bytes(a.identity, b.identity);
  }
};

// opaque PskBinderEntry<32..255>
using PskBinderEntry = Opaque<1, 32, 255>;

// The ClientHello form (OfferedPsks). It must be the last extension of the ClientHello, which
// ClientHello::decode checks; the binders cover the ClientHello up to the binders list, whose
// length truncated_client_hello_length() (messages.hpp) returns.
struct OfferedPsks {
  static constexpr ExtensionType type = ExtensionType::pre_shared_key;
  EntryList<PskIdentity> identities;  // <7..2^16-1> bytes
  EntryList<PskBinderEntry> binders;  // <33..2^16-1> bytes, one per identity

  static Result<OfferedPsks> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  // Bytes the binders list occupies on the wire, its u16 length prefix included.
  std::size_t binders_wire_size() const noexcept;
  friend bool operator==(const OfferedPsks&, const OfferedPsks&) noexcept = default;
};

// The ServerHello form.
struct PreSharedKeyServerHello {
  static constexpr ExtensionType type = ExtensionType::pre_shared_key;
  std::uint16_t selected_identity = 0;

  static Result<PreSharedKeyServerHello> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const PreSharedKeyServerHello&,
                         const PreSharedKeyServerHello&) noexcept = default;
};

// ---- early_data in NewSessionTicket (RFC 8446 §4.2.10) -------------------------------------

struct EarlyDataTicket {
  static constexpr ExtensionType type = ExtensionType::early_data;
  std::uint32_t max_early_data_size = 0;

  static Result<EarlyDataTicket> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const EarlyDataTicket&, const EarlyDataTicket&) noexcept = default;
};

// ---- cookie (RFC 8446 §4.2.2) --------------------------------------------------------------

struct Cookie {
  static constexpr ExtensionType type = ExtensionType::cookie;
  wire::Bytes cookie;  // <1..2^16-1>

  static Result<Cookie> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const Cookie& a, const Cookie& b) noexcept {
    return same_bytes(a.cookie, b.cookie);
  }
};

// ---- application_layer_protocol_negotiation (RFC 7301 §3.1) --------------------------------

// opaque ProtocolName<1..2^8-1>
using ProtocolName = Opaque<1, 1, 255>;

// The ClientHello form: the protocols the client offers, in preference order.
struct AlpnProtocols {
  static constexpr ExtensionType type = ExtensionType::application_layer_protocol_negotiation;
  EntryList<ProtocolName> protocols;  // <2..2^16-1> bytes

  static Result<AlpnProtocols> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  bool contains(std::string_view protocol) const noexcept;
  friend bool operator==(const AlpnProtocols&, const AlpnProtocols&) noexcept = default;
};

// The server form: a ProtocolNameList with exactly one name.
struct AlpnSelected {
  static constexpr ExtensionType type = ExtensionType::application_layer_protocol_negotiation;
  std::string_view protocol;

  static Result<AlpnSelected> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const AlpnSelected&, const AlpnSelected&) noexcept = default;
};

// ---- record_size_limit (RFC 8449 §4) -------------------------------------------------------

struct RecordSizeLimit {
  static constexpr ExtensionType type = ExtensionType::record_size_limit;
  // RFC 8449 §4: the smallest value an endpoint may send.
  static constexpr std::uint16_t minimum = 64;
  std::uint16_t limit = 0;

  static Result<RecordSizeLimit> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const RecordSizeLimit&, const RecordSizeLimit&) noexcept = default;
};

// ---- ec_point_formats (RFC 8422 §5.1.2), TLS 1.2 -------------------------------------------

struct EcPointFormats {
  static constexpr ExtensionType type = ExtensionType::ec_point_formats;
  ValueList<EcPointFormat> formats;  // <1..2^8-1> bytes, must include uncompressed

  static Result<EcPointFormats> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const EcPointFormats&, const EcPointFormats&) noexcept = default;
};

// ---- renegotiation_info (RFC 5746 §3.2), TLS 1.2 -------------------------------------------

struct RenegotiationInfo {
  static constexpr ExtensionType type = ExtensionType::renegotiation_info;
  wire::Bytes renegotiated_connection;  // <0..255>; empty on an initial handshake

  static Result<RenegotiationInfo> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const RenegotiationInfo& a, const RenegotiationInfo& b) noexcept {
    return same_bytes(a.renegotiated_connection, b.renegotiated_connection);
  }
};

// ---- session_ticket (RFC 5077 §3.2), TLS 1.2 -----------------------------------------------

struct SessionTicketExtension {
  static constexpr ExtensionType type = ExtensionType::session_ticket;
  wire::Bytes ticket;  // the whole body, any length (empty asks for a new ticket)

  static Result<SessionTicketExtension> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const SessionTicketExtension& a,
                         const SessionTicketExtension& b) noexcept {
    return same_bytes(a.ticket, b.ticket);
  }
};

// ---- heartbeat (RFC 6520 §2) ---------------------------------------------------------------

struct HeartbeatExtension {
  static constexpr ExtensionType type = ExtensionType::heartbeat;
  HeartbeatMode mode{};

  static Result<HeartbeatExtension> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const HeartbeatExtension&, const HeartbeatExtension&) noexcept = default;
};

// ---- status_request (RFC 6066 §8) ----------------------------------------------------------

// The ClientHello (and TLS 1.3 CertificateRequest) form: recognised and framed, not acted on.
struct StatusRequest {
  static constexpr ExtensionType type = ExtensionType::status_request;
  CertificateStatusType status_type{};
  // For ocsp: responder_id_list<0..2^16-1> (entries <1..2^16-1>) then request_extensions
  // <0..2^16-1>, both checked; for other types, whatever follows, unchecked.
  wire::Bytes request;

  static Result<StatusRequest> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const StatusRequest& a, const StatusRequest& b) noexcept {
    return a.status_type == b.status_type && same_bytes(a.request, b.request);
  }
};

// CertificateStatus: the body of status_request in a TLS 1.3 CertificateEntry (RFC 8446
// §4.4.2.1) and of the TLS 1.2 CertificateStatus message (RFC 6066 §8).
struct CertificateStatus {
  static constexpr ExtensionType type = ExtensionType::status_request;
  static constexpr HandshakeType message_type = HandshakeType::certificate_status;
  CertificateStatusType status_type = CertificateStatusType::ocsp;
  wire::Bytes ocsp_response;  // <1..2^24-1>, DER

  static Result<CertificateStatus> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const CertificateStatus& a, const CertificateStatus& b) noexcept {
    return a.status_type == b.status_type && same_bytes(a.ocsp_response, b.ocsp_response);
  }
};

// ---- certificate_authorities (RFC 8446 §4.2.4) ---------------------------------------------

// opaque DistinguishedName<1..2^16-1> (DER), shared with the TLS 1.2 CertificateRequest.
using DistinguishedName = Opaque<2, 1, 0xffff>;

struct CertificateAuthorities {
  static constexpr ExtensionType type = ExtensionType::certificate_authorities;
  EntryList<DistinguishedName> authorities;  // <3..2^16-1> bytes

  static Result<CertificateAuthorities> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const CertificateAuthorities&,
                         const CertificateAuthorities&) noexcept = default;
};

// ---- padding (RFC 7685) --------------------------------------------------------------------

struct Padding {
  static constexpr ExtensionType type = ExtensionType::padding;
  std::size_t length = 0;  // encoded as that many zero bytes; received content is ignored

  static Result<Padding> decode(wire::Bytes body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const Padding&, const Padding&) noexcept = default;
};

}  // namespace bulwark::tls
