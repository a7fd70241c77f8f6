// TLS handshake messages (RFC 8446 §4, RFC 5246 §7.4, RFC 8422 §5), alerts and heartbeats.
//
// Every message is a struct with `static Result<M> decode(wire::Reader& body)`, which reads the
// body (the 4-byte handshake header already removed) and rejects trailing bytes, and
// `void encode(wire::Writer&) const`, which writes the body; write_handshake() adds the header.
// Decoded fields are views into the input bytes, valid while those bytes live; for encoding the
// same fields point at caller-owned data. Nothing here allocates.
//
// Errors: `truncated`, `trailing_data` and `length_overflow` mean a malformed message (the
// engine sends decode_error); `illegal_parameter` / `missing_extension` name the alert the RFC
// prescribes for a well-formed message with a forbidden value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "bulwark/result.hpp"
#include "bulwark/tls/extensions.hpp"
#include "bulwark/tls/types.hpp"
#include "bulwark/wire.hpp"

namespace bulwark::tls {

using HelloRandom = std::array<std::uint8_t, 32>;

// RFC 8446 §4.1.3: the ServerHello.random of a HelloRetryRequest, SHA-256("HelloRetryRequest").
inline constexpr HelloRandom hello_retry_request_random = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

// RFC 8446 §4.1.3: the last 8 bytes of the random of a TLS 1.3-capable server that negotiates
// TLS 1.2 ("DOWNGRD" 01) or TLS 1.1 and below ("DOWNGRD" 00). A 1.3 client MUST check them.
inline constexpr std::array<std::uint8_t, 8> downgrade_tls12_sentinel = {0x44, 0x4f, 0x57, 0x4e,
                                                                         0x47, 0x52, 0x44, 0x01};
inline constexpr std::array<std::uint8_t, 8> downgrade_tls11_sentinel = {0x44, 0x4f, 0x57, 0x4e,
                                                                         0x47, 0x52, 0x44, 0x00};

// RFC 8446 §4.6.1: a ticket lifetime above 7 days is forbidden.
inline constexpr std::uint32_t max_ticket_lifetime = 604800;

// ---- framing -------------------------------------------------------------------------------

struct HandshakeHeader {
  HandshakeType type{};
  std::uint32_t length = 0;  // of the body, u24

  static Result<HandshakeHeader> decode(wire::Reader& r) noexcept;
  void encode(wire::Writer& w) const noexcept;
};

// One whole handshake message as received.
struct HandshakeMessage {
  HandshakeType type{};
  wire::Bytes body;
  wire::Bytes message;  // header and body: what the transcript hash covers
};

// Reads one complete handshake message from `r`. While it is incomplete: `truncated`, and
// nothing is consumed (feed more bytes and retry). A body announced longer than `max_body` is
// `limit_exceeded`, decided from the header alone, before waiting for (or buffering) the body.
Result<HandshakeMessage> read_handshake(wire::Reader& r,
                                        std::size_t max_body = max_handshake_message) noexcept;

// Writes a handshake header and the body that `write_body(wire::Writer&)` writes; the u24
// length is filled in when the body is done.
template <class F>
void write_handshake(wire::Writer& w, HandshakeType type, F&& write_body) {
  w.u8(static_cast<std::uint8_t>(type));
  auto length = w.prefixed<3>();
  write_body(w);
}
// Writes message `m` (anything with `M::type` and `encode(Writer&)`) with its header.
template <class M>
void write_handshake(wire::Writer& w, const M& m) {
  write_handshake(w, M::type, [&](wire::Writer& out) { m.encode(out); });
}

// Decodes a message body held in `body` (extra arguments go to M::decode).
template <class M, class... Args>
Result<M> decode_body(wire::Bytes body, Args&&... args) noexcept {
  wire::Reader r(body);
  return M::decode(r, std::forward<Args>(args)...);
}

// ---- hellos --------------------------------------------------------------------------------

struct ClientHello {
  static constexpr HandshakeType type = HandshakeType::client_hello;
  ProtocolVersion legacy_version = ProtocolVersion::tls12;
  HelloRandom random{};
  wire::Bytes legacy_session_id;                       // <0..32>
  ValueList<CipherSuite> cipher_suites;                // <2..2^16-2> bytes
  ValueList<std::uint8_t> legacy_compression_methods;  // <1..2^8-1>
  // A TLS 1.2 ClientHello may end after the compression methods (RFC 5246 §7.4.1.2); a
  // TLS 1.3 one may not (the engine checks, knowing the version).
  bool has_extensions = true;
  ExtensionBlock extensions;  // no type twice; pre_shared_key, if present, last

  static Result<ClientHello> decode(wire::Reader& body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  // As encode(), but the extensions come from `write_extensions(ExtensionsWriter&)`, written
  // straight into `w` (the `extensions` member is ignored).
  template <class F>
  void encode(wire::Writer& w, F&& write_extensions) const noexcept {
    encode_fixed_fields(w);
    ExtensionsWriter ext(w);
    write_extensions(ext);
  }
  void encode_fixed_fields(wire::Writer& w) const noexcept;
  friend bool operator==(const ClientHello& a, const ClientHello& b) noexcept;
};

// The length of the prefix of a ClientHello message (header included) that the PSK binders
// cover: everything up to, not including, the binders list (RFC 8446 §4.2.11.2). `message` is
// one whole ClientHello handshake message whose last extension is pre_shared_key (else
// missing_extension). Works on a received message and on one just encoded with placeholder
// binders of the right lengths, which the client then overwrites in place.
Result<std::size_t> truncated_client_hello_length(wire::Bytes message) noexcept;

// ServerHello and HelloRetryRequest (RFC 8446 §4.1.3; RFC 5246 §7.4.1.3 has the same layout).
struct ServerHello {
  static constexpr HandshakeType type = HandshakeType::server_hello;
  ProtocolVersion legacy_version = ProtocolVersion::tls12;
  HelloRandom random{};
  wire::Bytes legacy_session_id_echo;  // <0..32>
  CipherSuite cipher_suite{};
  std::uint8_t legacy_compression_method = 0;
  bool has_extensions = true;  // a TLS 1.2 ServerHello may omit the block
  ExtensionBlock extensions;

  static Result<ServerHello> decode(wire::Reader& body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  template <class F>
  void encode(wire::Writer& w, F&& write_extensions) const noexcept {
    encode_fixed_fields(w);
    ExtensionsWriter ext(w);
    write_extensions(ext);
  }
  void encode_fixed_fields(wire::Writer& w) const noexcept;

  // RFC 8446 §4.1.3: a ServerHello whose random is the special value is a HelloRetryRequest.
  bool is_hello_retry_request() const noexcept { return random == hello_retry_request_random; }
  // RFC 8446 §4.1.3: the server signals that it negotiated below its maximum.
  bool has_tls12_downgrade_sentinel() const noexcept;
  bool has_tls11_downgrade_sentinel() const noexcept;
  friend bool operator==(const ServerHello& a, const ServerHello& b) noexcept;
};

// ---- TLS 1.3 server and client flights -----------------------------------------------------

struct EncryptedExtensions {
  static constexpr HandshakeType type = HandshakeType::encrypted_extensions;
  ExtensionBlock extensions;

  static Result<EncryptedExtensions> decode(wire::Reader& body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  template <class F>
  void encode(wire::Writer& w, F&& write_extensions) const noexcept {
    ExtensionsWriter ext(w);
    write_extensions(ext);
  }
  friend bool operator==(const EncryptedExtensions&, const EncryptedExtensions&) noexcept = default;
};

// RFC 8446 §4.4.2 (X.509 certificates; raw public keys are not negotiated).
struct CertificateEntry {
  wire::Bytes cert_data;  // <1..2^24-1>, DER
  ExtensionBlock extensions;

  static Result<CertificateEntry> read(wire::Reader& r) noexcept;
  void write(wire::Writer& w) const noexcept;
  friend bool operator==(const CertificateEntry& a, const CertificateEntry& b) noexcept {
    return same_bytes(a.cert_data, b.cert_data) && a.extensions == b.extensions;
  }
};

struct Certificate13 {
  static constexpr HandshakeType type = HandshakeType::certificate;
  wire::Bytes certificate_request_context;       // <0..255>
  EntryList<CertificateEntry> certificate_list;  // <0..2^24-1> bytes, end-entity first

  static Result<Certificate13> decode(wire::Reader& body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const Certificate13& a, const Certificate13& b) noexcept {
    return same_bytes(a.certificate_request_context, b.certificate_request_context) &&
           a.certificate_list == b.certificate_list;
  }
};

struct CertificateRequest13 {
  static constexpr HandshakeType type = HandshakeType::certificate_request;
  wire::Bytes certificate_request_context;  // <0..255>
  ExtensionBlock extensions;                // <2..2^16-1> bytes; signature_algorithms required

  static Result<CertificateRequest13> decode(wire::Reader& body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const CertificateRequest13& a, const CertificateRequest13& b) noexcept {
    return same_bytes(a.certificate_request_context, b.certificate_request_context) &&
           a.extensions == b.extensions;
  }
};

// RFC 8446 §4.4.3 (and RFC 5246 §7.4.8, whose digitally-signed struct has the same layout).
struct CertificateVerify {
  static constexpr HandshakeType type = HandshakeType::certificate_verify;
  SignatureScheme scheme{};
  wire::Bytes signature;  // <0..2^16-1>

  static Result<CertificateVerify> decode(wire::Reader& body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const CertificateVerify& a, const CertificateVerify& b) noexcept {
    return a.scheme == b.scheme && same_bytes(a.signature, b.signature);
  }
};

// RFC 8446 §4.4.4 / RFC 5246 §7.4.9: verify_data is the hash length in TLS 1.3 and 12 bytes in
// TLS 1.2; the caller, who knows the suite, says which.
struct Finished {
  static constexpr HandshakeType type = HandshakeType::finished;
  wire::Bytes verify_data;

  static Result<Finished> decode(wire::Reader& body, std::size_t verify_data_length) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const Finished& a, const Finished& b) noexcept {
    return same_bytes(a.verify_data, b.verify_data);
  }
};

// RFC 8446 §4.6.1.
struct NewSessionTicket13 {
  static constexpr HandshakeType type = HandshakeType::new_session_ticket;
  std::uint32_t ticket_lifetime = 0;  // seconds, at most max_ticket_lifetime
  std::uint32_t ticket_age_add = 0;
  wire::Bytes ticket_nonce;   // <0..255>
  wire::Bytes ticket;         // <1..2^16-1>
  ExtensionBlock extensions;  // <0..2^16-2> bytes

  static Result<NewSessionTicket13> decode(wire::Reader& body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const NewSessionTicket13& a, const NewSessionTicket13& b) noexcept {
    return a.ticket_lifetime == b.ticket_lifetime && a.ticket_age_add == b.ticket_age_add &&
           same_bytes(a.ticket_nonce, b.ticket_nonce) && same_bytes(a.ticket, b.ticket) &&
           a.extensions == b.extensions;
  }
};

// RFC 8446 §4.6.3.
struct KeyUpdate {
  static constexpr HandshakeType type = HandshakeType::key_update;
  KeyUpdateRequest request_update = KeyUpdateRequest::update_not_requested;

  static Result<KeyUpdate> decode(wire::Reader& body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const KeyUpdate&, const KeyUpdate&) noexcept = default;
};

// Messages with an empty body.
template <HandshakeType T>
struct EmptyMessage {
  static constexpr HandshakeType type = T;
  static Result<EmptyMessage> decode(wire::Reader& body) noexcept {
    BW_TRY(body.expect_end());
    return EmptyMessage{};
  }
  void encode(wire::Writer&) const noexcept {}
  friend bool operator==(const EmptyMessage&, const EmptyMessage&) noexcept { return true; }
};
using EndOfEarlyData = EmptyMessage<HandshakeType::end_of_early_data>;   // RFC 8446 §4.5
using ServerHelloDone = EmptyMessage<HandshakeType::server_hello_done>;  // RFC 5246 §7.4.5
using HelloRequest = EmptyMessage<HandshakeType::hello_request>;         // RFC 5246 §7.4.1.1

// ---- TLS 1.2 -------------------------------------------------------------------------------

// opaque ASN.1Cert<1..2^24-1> (DER)
using Asn1Cert = Opaque<3, 1, 0xffffff>;

// RFC 5246 §7.4.2.
struct Certificate12 {
  static constexpr HandshakeType type = HandshakeType::certificate;
  EntryList<Asn1Cert> certificate_list;  // <0..2^24-1> bytes, end-entity first

  static Result<Certificate12> decode(wire::Reader& body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const Certificate12&, const Certificate12&) noexcept = default;
};

// RFC 5246 §7.4.4.
struct CertificateRequest12 {
  static constexpr HandshakeType type = HandshakeType::certificate_request;
  ValueList<ClientCertificateType> certificate_types;         // <1..2^8-1>
  ValueList<SignatureScheme> supported_signature_algorithms;  // <2..2^16-2> bytes
  EntryList<DistinguishedName> certificate_authorities;       // <0..2^16-1> bytes

  static Result<CertificateRequest12> decode(wire::Reader& body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const CertificateRequest12&,
                         const CertificateRequest12&) noexcept = default;
};

// RFC 5077 §3.3.
struct NewSessionTicket12 {
  static constexpr HandshakeType type = HandshakeType::new_session_ticket;
  std::uint32_t ticket_lifetime_hint = 0;
  wire::Bytes ticket;  // <0..2^16-1>

  static Result<NewSessionTicket12> decode(wire::Reader& body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const NewSessionTicket12& a, const NewSessionTicket12& b) noexcept {
    return a.ticket_lifetime_hint == b.ticket_lifetime_hint && same_bytes(a.ticket, b.ticket);
  }
};

// RFC 8422 §5.4: ServerKeyExchange for ECDHE_ECDSA / ECDHE_RSA, named curves only.
struct ServerKeyExchangeEcdhe {
  static constexpr HandshakeType type = HandshakeType::server_key_exchange;
  NamedGroup group{};
  wire::Bytes public_point;  // <1..2^8-1>
  SignatureScheme scheme{};
  wire::Bytes signature;  // <0..2^16-1>
  // The ServerECDHParams bytes as received (curve type, group, point): the signature covers
  // client_random + server_random + these. Not used by encode(); write_params() builds them.
  wire::Bytes params;

  static Result<ServerKeyExchangeEcdhe> decode(wire::Reader& body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  // Writes ServerECDHParams, for the server to sign and for encode().
  static void write_params(wire::Writer& w, NamedGroup group, wire::Bytes public_point) noexcept;
  friend bool operator==(const ServerKeyExchangeEcdhe& a,
                         const ServerKeyExchangeEcdhe& b) noexcept {
    return a.group == b.group && same_bytes(a.public_point, b.public_point) &&
           a.scheme == b.scheme && same_bytes(a.signature, b.signature);
  }
};

// RFC 5246 §7.4.3: ServerKeyExchange for DHE_RSA.
struct ServerKeyExchangeDhe {
  static constexpr HandshakeType type = HandshakeType::server_key_exchange;
  wire::Bytes dh_p;   // <1..2^16-1>
  wire::Bytes dh_g;   // <1..2^16-1>
  wire::Bytes dh_ys;  // <1..2^16-1>
  SignatureScheme scheme{};
  wire::Bytes signature;  // <0..2^16-1>
  wire::Bytes params;     // ServerDHParams as received, what the signature covers after randoms

  static Result<ServerKeyExchangeDhe> decode(wire::Reader& body) noexcept;
  void encode(wire::Writer& w) const noexcept;
  static void write_params(wire::Writer& w, wire::Bytes p, wire::Bytes g, wire::Bytes ys) noexcept;
  friend bool operator==(const ServerKeyExchangeDhe& a, const ServerKeyExchangeDhe& b) noexcept {
    return same_bytes(a.dh_p, b.dh_p) && same_bytes(a.dh_g, b.dh_g) &&
           same_bytes(a.dh_ys, b.dh_ys) && a.scheme == b.scheme &&
           same_bytes(a.signature, b.signature);
  }
};

// RFC 5246 §7.4.7 / RFC 8422 §5.7. The body alone does not say which key exchange it carries:
// the caller, who negotiated the suite, does.
struct ClientKeyExchange {
  static constexpr HandshakeType type = HandshakeType::client_key_exchange;
  enum class Form : std::uint8_t {
    ecdhe,  // ECPoint ecdh_Yc<1..2^8-1>
    dhe,    // opaque dh_Yc<1..2^16-1>
    rsa,    // EncryptedPreMasterSecret<0..2^16-1>
  };
  Form form = Form::ecdhe;
  wire::Bytes exchange_keys;

  static Result<ClientKeyExchange> decode(wire::Reader& body, Form form) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const ClientKeyExchange& a, const ClientKeyExchange& b) noexcept {
    return a.form == b.form && same_bytes(a.exchange_keys, b.exchange_keys);
  }
};

// ---- alert and heartbeat protocols ---------------------------------------------------------

// RFC 8446 §6 / RFC 5246 §7.2: exactly two bytes per alert record.
struct Alert {
  static constexpr ContentType content_type = ContentType::alert;
  AlertLevel level = AlertLevel::fatal;
  AlertDescription description = AlertDescription::close_notify;

  // Reads the whole record fragment: anything but exactly two bytes is malformed.
  static Result<Alert> decode(wire::Reader& fragment) noexcept;
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const Alert&, const Alert&) noexcept = default;
};

// RFC 6520 §4.
struct HeartbeatMessage {
  static constexpr ContentType content_type = ContentType::heartbeat;
  HeartbeatMessageType type = HeartbeatMessageType::heartbeat_request;
  wire::Bytes payload;  // payload_length bytes
  wire::Bytes padding;  // at least heartbeat_min_padding random bytes; received padding is ignored

  // Decodes a whole record fragment. A payload_length that, with its 3-byte header and the
  // 16-byte minimum padding, does not fit in the fragment (the Heartbleed request) is
  // `length_overflow` and nothing else is: RFC 6520 §4 says to discard such a message silently.
  // A fragment over 2^14 bytes is `record_overflow`; under 3 bytes, `truncated`.
  static Result<HeartbeatMessage> decode(wire::Bytes fragment) noexcept;
  // The caller provides the padding (random, at least 16 bytes: RFC 6520 §4).
  void encode(wire::Writer& w) const noexcept;
  friend bool operator==(const HeartbeatMessage& a, const HeartbeatMessage& b) noexcept {
    return a.type == b.type && same_bytes(a.payload, b.payload) && same_bytes(a.padding, b.padding);
  }
};

}  // namespace bulwark::tls
