// TLS wire types: code-point enums, size limits and the list views that decoded messages hold.
//
// Every enum has a fixed underlying type so that a value we do not know (a new cipher suite, a
// GREASE extension) survives decoding and can be ignored or echoed, never rejected by accident.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string_view>
#include <type_traits>

#include "bulwark/result.hpp"
#include "bulwark/wire.hpp"

namespace bulwark::tls {

// ---- limits --------------------------------------------------------------------------------

// RFC 8446 §5.1 / RFC 5246 §6.2.1: a record carries at most 2^14 bytes of plaintext.
inline constexpr std::size_t max_plaintext = std::size_t{1} << 14;

// The largest handshake message body we accept. The u24 length allows 2^24-1, but nothing but
// a certificate chain comes close to 64 KiB: 128 KiB leaves room for long chains (OpenSSL's
// default certificate list limit is 100 KiB) while bounding what a peer can make us buffer.
inline constexpr std::size_t max_handshake_message = 128 * 1024;

// Bytes of a handshake message header: HandshakeType (1) and a u24 body length (3).
inline constexpr std::size_t handshake_header_size = 4;

// RFC 6520 §4: a HeartbeatMessage carries at least 16 bytes of random padding.
inline constexpr std::size_t heartbeat_min_padding = 16;

// ---- code points ---------------------------------------------------------------------------

enum class ContentType : std::uint8_t {
  change_cipher_spec = 20,
  alert = 21,
  handshake = 22,
  application_data = 23,
  heartbeat = 24,
};

enum class HandshakeType : std::uint8_t {
  hello_request = 0,
  client_hello = 1,
  server_hello = 2,
  new_session_ticket = 4,
  end_of_early_data = 5,
  encrypted_extensions = 8,
  certificate = 11,
  server_key_exchange = 12,
  certificate_request = 13,
  server_hello_done = 14,
  certificate_verify = 15,
  client_key_exchange = 16,
  finished = 20,
  certificate_status = 22,
  key_update = 24,
  message_hash = 254,
};

enum class ExtensionType : std::uint16_t {
  server_name = 0,
  max_fragment_length = 1,
  status_request = 5,
  supported_groups = 10,
  ec_point_formats = 11,
  signature_algorithms = 13,
  use_srtp = 14,
  heartbeat = 15,
  application_layer_protocol_negotiation = 16,
  signed_certificate_timestamp = 18,
  client_certificate_type = 19,
  server_certificate_type = 20,
  padding = 21,
  encrypt_then_mac = 22,
  extended_master_secret = 23,
  compress_certificate = 27,
  record_size_limit = 28,
  session_ticket = 35,
  pre_shared_key = 41,
  early_data = 42,
  supported_versions = 43,
  cookie = 44,
  psk_key_exchange_modes = 45,
  certificate_authorities = 47,
  oid_filters = 48,
  post_handshake_auth = 49,
  signature_algorithms_cert = 50,
  key_share = 51,
  renegotiation_info = 0xff01,
};

enum class ProtocolVersion : std::uint16_t {
  ssl3 = 0x0300,
  tls10 = 0x0301,
  tls11 = 0x0302,
  tls12 = 0x0303,
  tls13 = 0x0304,
};

enum class CipherSuite : std::uint16_t {
  // TLS 1.3 (RFC 8446 §B.4)
  tls_aes_128_gcm_sha256 = 0x1301,
  tls_aes_256_gcm_sha384 = 0x1302,
  tls_chacha20_poly1305_sha256 = 0x1303,
  tls_aes_128_ccm_sha256 = 0x1304,
  tls_aes_128_ccm_8_sha256 = 0x1305,
  // TLS 1.2 ECDHE AEAD (RFC 5289, RFC 7905)
  tls_ecdhe_ecdsa_with_aes_128_gcm_sha256 = 0xc02b,
  tls_ecdhe_ecdsa_with_aes_256_gcm_sha384 = 0xc02c,
  tls_ecdhe_rsa_with_aes_128_gcm_sha256 = 0xc02f,
  tls_ecdhe_rsa_with_aes_256_gcm_sha384 = 0xc030,
  tls_ecdhe_rsa_with_chacha20_poly1305_sha256 = 0xcca8,
  tls_ecdhe_ecdsa_with_chacha20_poly1305_sha256 = 0xcca9,
  tls_dhe_rsa_with_chacha20_poly1305_sha256 = 0xccaa,
  // TLS 1.2 ECDHE CBC (RFC 8422, RFC 5289): legacy policy only
  tls_ecdhe_ecdsa_with_aes_128_cbc_sha = 0xc009,
  tls_ecdhe_ecdsa_with_aes_256_cbc_sha = 0xc00a,
  tls_ecdhe_rsa_with_aes_128_cbc_sha = 0xc013,
  tls_ecdhe_rsa_with_aes_256_cbc_sha = 0xc014,
  tls_ecdhe_ecdsa_with_aes_128_cbc_sha256 = 0xc023,
  tls_ecdhe_ecdsa_with_aes_256_cbc_sha384 = 0xc024,
  tls_ecdhe_rsa_with_aes_128_cbc_sha256 = 0xc027,
  tls_ecdhe_rsa_with_aes_256_cbc_sha384 = 0xc028,
  // TLS 1.2 RSA key transport (RFC 5246, RFC 5288): legacy policy only
  tls_rsa_with_aes_128_cbc_sha = 0x002f,
  tls_rsa_with_aes_256_cbc_sha = 0x0035,
  tls_rsa_with_aes_128_cbc_sha256 = 0x003c,
  tls_rsa_with_aes_256_cbc_sha256 = 0x003d,
  tls_rsa_with_aes_128_gcm_sha256 = 0x009c,
  tls_rsa_with_aes_256_gcm_sha384 = 0x009d,
  // TLS 1.2 finite-field DHE (RFC 5288)
  tls_dhe_rsa_with_aes_128_gcm_sha256 = 0x009e,
  tls_dhe_rsa_with_aes_256_gcm_sha384 = 0x009f,
  // signalling values
  tls_empty_renegotiation_info_scsv = 0x00ff,  // RFC 5746 §3.3
  tls_fallback_scsv = 0x5600,                  // RFC 7507
};

enum class NamedGroup : std::uint16_t {
  secp256r1 = 0x0017,
  secp384r1 = 0x0018,
  secp521r1 = 0x0019,
  x25519 = 0x001d,
  x448 = 0x001e,
  ffdhe2048 = 0x0100,
  ffdhe3072 = 0x0101,
  ffdhe4096 = 0x0102,
  ffdhe6144 = 0x0103,
  ffdhe8192 = 0x0104,
  x25519_mlkem768 = 0x11ec,  // hybrid group that current browsers offer first
};

// RFC 7919 §4: the code points 256..511 are finite-field DHE groups, known to us or not.
constexpr bool is_ffdhe_group(NamedGroup g) noexcept {
  return static_cast<std::uint16_t>(g) >= 0x0100 && static_cast<std::uint16_t>(g) <= 0x01ff;
}

enum class SignatureScheme : std::uint16_t {
  rsa_pkcs1_sha1 = 0x0201,
  ecdsa_sha1 = 0x0203,
  rsa_pkcs1_sha256 = 0x0401,
  rsa_pkcs1_sha384 = 0x0501,
  rsa_pkcs1_sha512 = 0x0601,
  ecdsa_secp256r1_sha256 = 0x0403,
  ecdsa_secp384r1_sha384 = 0x0503,
  ecdsa_secp521r1_sha512 = 0x0603,
  rsa_pss_rsae_sha256 = 0x0804,
  rsa_pss_rsae_sha384 = 0x0805,
  rsa_pss_rsae_sha512 = 0x0806,
  ed25519 = 0x0807,
  ed448 = 0x0808,
  rsa_pss_pss_sha256 = 0x0809,
  rsa_pss_pss_sha384 = 0x080a,
  rsa_pss_pss_sha512 = 0x080b,
};

enum class AlertLevel : std::uint8_t {
  warning = 1,
  fatal = 2,
};

// RFC 8446 §6, plus no_renegotiation (RFC 5246 §7.2.2), reserved in TLS 1.3.
enum class AlertDescription : std::uint8_t {
  close_notify = 0,
  unexpected_message = 10,
  bad_record_mac = 20,
  decryption_failed_reserved = 21,
  record_overflow = 22,
  decompression_failure_reserved = 30,
  handshake_failure = 40,
  no_certificate_reserved = 41,
  bad_certificate = 42,
  unsupported_certificate = 43,
  certificate_revoked = 44,
  certificate_expired = 45,
  certificate_unknown = 46,
  illegal_parameter = 47,
  unknown_ca = 48,
  access_denied = 49,
  decode_error = 50,
  decrypt_error = 51,
  export_restriction_reserved = 60,
  protocol_version = 70,
  insufficient_security = 71,
  internal_error = 80,
  inappropriate_fallback = 86,
  user_canceled = 90,
  no_renegotiation = 100,
  missing_extension = 109,
  unsupported_extension = 110,
  certificate_unobtainable_reserved = 111,
  unrecognized_name = 112,
  bad_certificate_status_response = 113,
  bad_certificate_hash_value_reserved = 114,
  unknown_psk_identity = 115,
  certificate_required = 116,
  no_application_protocol = 120,
};

enum class PskKeyExchangeMode : std::uint8_t {
  psk_ke = 0,
  psk_dhe_ke = 1,
};

enum class KeyUpdateRequest : std::uint8_t {
  update_not_requested = 0,
  update_requested = 1,
};

enum class HeartbeatMessageType : std::uint8_t {
  heartbeat_request = 1,
  heartbeat_response = 2,
};

enum class HeartbeatMode : std::uint8_t {
  peer_allowed_to_send = 1,
  peer_not_allowed_to_send = 2,
};

// RFC 8422 §5.1.2.
enum class EcPointFormat : std::uint8_t {
  uncompressed = 0,
  ansix962_compressed_prime = 1,
  ansix962_compressed_char2 = 2,
};

// RFC 8422 §5.4: only named_curve is still allowed.
enum class EcCurveType : std::uint8_t {
  explicit_prime = 1,
  explicit_char2 = 2,
  named_curve = 3,
};

// RFC 6066 §8.
enum class CertificateStatusType : std::uint8_t {
  ocsp = 1,
};

// RFC 6066 §3.
enum class NameType : std::uint8_t {
  host_name = 0,
};

// RFC 5246 §7.4.4 / RFC 8422 §5.5.
enum class ClientCertificateType : std::uint8_t {
  rsa_sign = 1,
  dss_sign = 2,
  rsa_fixed_dh = 3,
  dss_fixed_dh = 4,
  ecdsa_sign = 64,
};

// RFC 8701: the reserved GREASE values 0x0a0a, 0x1a1a, ..., 0xfafa that clients sprinkle into
// cipher suites, extensions, groups, versions and schemes so servers keep ignoring unknowns.
constexpr bool is_grease(std::uint16_t v) noexcept {
  return (v & 0x0f0f) == 0x0a0a && (v >> 12) == ((v >> 4) & 0x0f);
}

// ---- names ---------------------------------------------------------------------------------
// A stable name for logs and `--json` output; "unknown" for values we do not know.

constexpr std::string_view name(ContentType v) noexcept {
  switch (v) {
    case ContentType::change_cipher_spec:
      return "change_cipher_spec";
    case ContentType::alert:
      return "alert";
    case ContentType::handshake:
      return "handshake";
    case ContentType::application_data:
      return "application_data";
    case ContentType::heartbeat:
      return "heartbeat";
  }
  return "unknown";
}

constexpr std::string_view name(HandshakeType v) noexcept {
  switch (v) {
    case HandshakeType::hello_request:
      return "hello_request";
    case HandshakeType::client_hello:
      return "client_hello";
    case HandshakeType::server_hello:
      return "server_hello";
    case HandshakeType::new_session_ticket:
      return "new_session_ticket";
    case HandshakeType::end_of_early_data:
      return "end_of_early_data";
    case HandshakeType::encrypted_extensions:
      return "encrypted_extensions";
    case HandshakeType::certificate:
      return "certificate";
    case HandshakeType::server_key_exchange:
      return "server_key_exchange";
    case HandshakeType::certificate_request:
      return "certificate_request";
    case HandshakeType::server_hello_done:
      return "server_hello_done";
    case HandshakeType::certificate_verify:
      return "certificate_verify";
    case HandshakeType::client_key_exchange:
      return "client_key_exchange";
    case HandshakeType::finished:
      return "finished";
    case HandshakeType::certificate_status:
      return "certificate_status";
    case HandshakeType::key_update:
      return "key_update";
    case HandshakeType::message_hash:
      return "message_hash";
  }
  return "unknown";
}

constexpr std::string_view name(ExtensionType v) noexcept {
  switch (v) {
    case ExtensionType::server_name:
      return "server_name";
    case ExtensionType::max_fragment_length:
      return "max_fragment_length";
    case ExtensionType::status_request:
      return "status_request";
    case ExtensionType::supported_groups:
      return "supported_groups";
    case ExtensionType::ec_point_formats:
      return "ec_point_formats";
    case ExtensionType::signature_algorithms:
      return "signature_algorithms";
    case ExtensionType::use_srtp:
      return "use_srtp";
    case ExtensionType::heartbeat:
      return "heartbeat";
    case ExtensionType::application_layer_protocol_negotiation:
      return "application_layer_protocol_negotiation";
    case ExtensionType::signed_certificate_timestamp:
      return "signed_certificate_timestamp";
    case ExtensionType::client_certificate_type:
      return "client_certificate_type";
    case ExtensionType::server_certificate_type:
      return "server_certificate_type";
    case ExtensionType::padding:
      return "padding";
    case ExtensionType::encrypt_then_mac:
      return "encrypt_then_mac";
    case ExtensionType::extended_master_secret:
      return "extended_master_secret";
    case ExtensionType::compress_certificate:
      return "compress_certificate";
    case ExtensionType::record_size_limit:
      return "record_size_limit";
    case ExtensionType::session_ticket:
      return "session_ticket";
    case ExtensionType::pre_shared_key:
      return "pre_shared_key";
    case ExtensionType::early_data:
      return "early_data";
    case ExtensionType::supported_versions:
      return "supported_versions";
    case ExtensionType::cookie:
      return "cookie";
    case ExtensionType::psk_key_exchange_modes:
      return "psk_key_exchange_modes";
    case ExtensionType::certificate_authorities:
      return "certificate_authorities";
    case ExtensionType::oid_filters:
      return "oid_filters";
    case ExtensionType::post_handshake_auth:
      return "post_handshake_auth";
    case ExtensionType::signature_algorithms_cert:
      return "signature_algorithms_cert";
    case ExtensionType::key_share:
      return "key_share";
    case ExtensionType::renegotiation_info:
      return "renegotiation_info";
  }
  return is_grease(static_cast<std::uint16_t>(v)) ? "GREASE" : "unknown";
}

constexpr std::string_view name(ProtocolVersion v) noexcept {
  switch (v) {
    case ProtocolVersion::ssl3:
      return "SSL 3.0";
    case ProtocolVersion::tls10:
      return "TLS 1.0";
    case ProtocolVersion::tls11:
      return "TLS 1.1";
    case ProtocolVersion::tls12:
      return "TLS 1.2";
    case ProtocolVersion::tls13:
      return "TLS 1.3";
  }
  return is_grease(static_cast<std::uint16_t>(v)) ? "GREASE" : "unknown";
}

// IANA names ("TLS_AES_128_GCM_SHA256").
constexpr std::string_view name(CipherSuite v) noexcept {
  using C = CipherSuite;
  switch (v) {
    case C::tls_aes_128_gcm_sha256:
      return "TLS_AES_128_GCM_SHA256";
    case C::tls_aes_256_gcm_sha384:
      return "TLS_AES_256_GCM_SHA384";
    case C::tls_chacha20_poly1305_sha256:
      return "TLS_CHACHA20_POLY1305_SHA256";
    case C::tls_aes_128_ccm_sha256:
      return "TLS_AES_128_CCM_SHA256";
    case C::tls_aes_128_ccm_8_sha256:
      return "TLS_AES_128_CCM_8_SHA256";
    case C::tls_ecdhe_ecdsa_with_aes_128_gcm_sha256:
      return "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
    case C::tls_ecdhe_ecdsa_with_aes_256_gcm_sha384:
      return "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";
    case C::tls_ecdhe_rsa_with_aes_128_gcm_sha256:
      return "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
    case C::tls_ecdhe_rsa_with_aes_256_gcm_sha384:
      return "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384";
    case C::tls_ecdhe_rsa_with_chacha20_poly1305_sha256:
      return "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256";
    case C::tls_ecdhe_ecdsa_with_chacha20_poly1305_sha256:
      return "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256";
    case C::tls_dhe_rsa_with_chacha20_poly1305_sha256:
      return "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256";
    case C::tls_ecdhe_ecdsa_with_aes_128_cbc_sha:
      return "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA";
    case C::tls_ecdhe_ecdsa_with_aes_256_cbc_sha:
      return "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA";
    case C::tls_ecdhe_rsa_with_aes_128_cbc_sha:
      return "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA";
    case C::tls_ecdhe_rsa_with_aes_256_cbc_sha:
      return "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA";
    case C::tls_ecdhe_ecdsa_with_aes_128_cbc_sha256:
      return "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256";
    case C::tls_ecdhe_ecdsa_with_aes_256_cbc_sha384:
      return "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384";
    case C::tls_ecdhe_rsa_with_aes_128_cbc_sha256:
      return "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256";
    case C::tls_ecdhe_rsa_with_aes_256_cbc_sha384:
      return "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384";
    case C::tls_rsa_with_aes_128_cbc_sha:
      return "TLS_RSA_WITH_AES_128_CBC_SHA";
    case C::tls_rsa_with_aes_256_cbc_sha:
      return "TLS_RSA_WITH_AES_256_CBC_SHA";
    case C::tls_rsa_with_aes_128_cbc_sha256:
      return "TLS_RSA_WITH_AES_128_CBC_SHA256";
    case C::tls_rsa_with_aes_256_cbc_sha256:
      return "TLS_RSA_WITH_AES_256_CBC_SHA256";
    case C::tls_rsa_with_aes_128_gcm_sha256:
      return "TLS_RSA_WITH_AES_128_GCM_SHA256";
    case C::tls_rsa_with_aes_256_gcm_sha384:
      return "TLS_RSA_WITH_AES_256_GCM_SHA384";
    case C::tls_dhe_rsa_with_aes_128_gcm_sha256:
      return "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256";
    case C::tls_dhe_rsa_with_aes_256_gcm_sha384:
      return "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384";
    case C::tls_empty_renegotiation_info_scsv:
      return "TLS_EMPTY_RENEGOTIATION_INFO_SCSV";
    case C::tls_fallback_scsv:
      return "TLS_FALLBACK_SCSV";
  }
  return is_grease(static_cast<std::uint16_t>(v)) ? "GREASE" : "unknown";
}

constexpr std::string_view name(NamedGroup v) noexcept {
  switch (v) {
    case NamedGroup::secp256r1:
      return "secp256r1";
    case NamedGroup::secp384r1:
      return "secp384r1";
    case NamedGroup::secp521r1:
      return "secp521r1";
    case NamedGroup::x25519:
      return "x25519";
    case NamedGroup::x448:
      return "x448";
    case NamedGroup::ffdhe2048:
      return "ffdhe2048";
    case NamedGroup::ffdhe3072:
      return "ffdhe3072";
    case NamedGroup::ffdhe4096:
      return "ffdhe4096";
    case NamedGroup::ffdhe6144:
      return "ffdhe6144";
    case NamedGroup::ffdhe8192:
      return "ffdhe8192";
    case NamedGroup::x25519_mlkem768:
      return "X25519MLKEM768";
  }
  return is_grease(static_cast<std::uint16_t>(v)) ? "GREASE" : "unknown";
}

constexpr std::string_view name(SignatureScheme v) noexcept {
  using S = SignatureScheme;
  switch (v) {
    case S::rsa_pkcs1_sha1:
      return "rsa_pkcs1_sha1";
    case S::ecdsa_sha1:
      return "ecdsa_sha1";
    case S::rsa_pkcs1_sha256:
      return "rsa_pkcs1_sha256";
    case S::rsa_pkcs1_sha384:
      return "rsa_pkcs1_sha384";
    case S::rsa_pkcs1_sha512:
      return "rsa_pkcs1_sha512";
    case S::ecdsa_secp256r1_sha256:
      return "ecdsa_secp256r1_sha256";
    case S::ecdsa_secp384r1_sha384:
      return "ecdsa_secp384r1_sha384";
    case S::ecdsa_secp521r1_sha512:
      return "ecdsa_secp521r1_sha512";
    case S::rsa_pss_rsae_sha256:
      return "rsa_pss_rsae_sha256";
    case S::rsa_pss_rsae_sha384:
      return "rsa_pss_rsae_sha384";
    case S::rsa_pss_rsae_sha512:
      return "rsa_pss_rsae_sha512";
    case S::ed25519:
      return "ed25519";
    case S::ed448:
      return "ed448";
    case S::rsa_pss_pss_sha256:
      return "rsa_pss_pss_sha256";
    case S::rsa_pss_pss_sha384:
      return "rsa_pss_pss_sha384";
    case S::rsa_pss_pss_sha512:
      return "rsa_pss_pss_sha512";
  }
  return is_grease(static_cast<std::uint16_t>(v)) ? "GREASE" : "unknown";
}

constexpr std::string_view name(AlertLevel v) noexcept {
  switch (v) {
    case AlertLevel::warning:
      return "warning";
    case AlertLevel::fatal:
      return "fatal";
  }
  return "unknown";
}

constexpr std::string_view name(AlertDescription v) noexcept {
  using A = AlertDescription;
  switch (v) {
    case A::close_notify:
      return "close_notify";
    case A::unexpected_message:
      return "unexpected_message";
    case A::bad_record_mac:
      return "bad_record_mac";
    case A::decryption_failed_reserved:
      return "decryption_failed_RESERVED";
    case A::record_overflow:
      return "record_overflow";
    case A::decompression_failure_reserved:
      return "decompression_failure_RESERVED";
    case A::handshake_failure:
      return "handshake_failure";
    case A::no_certificate_reserved:
      return "no_certificate_RESERVED";
    case A::bad_certificate:
      return "bad_certificate";
    case A::unsupported_certificate:
      return "unsupported_certificate";
    case A::certificate_revoked:
      return "certificate_revoked";
    case A::certificate_expired:
      return "certificate_expired";
    case A::certificate_unknown:
      return "certificate_unknown";
    case A::illegal_parameter:
      return "illegal_parameter";
    case A::unknown_ca:
      return "unknown_ca";
    case A::access_denied:
      return "access_denied";
    case A::decode_error:
      return "decode_error";
    case A::decrypt_error:
      return "decrypt_error";
    case A::export_restriction_reserved:
      return "export_restriction_RESERVED";
    case A::protocol_version:
      return "protocol_version";
    case A::insufficient_security:
      return "insufficient_security";
    case A::internal_error:
      return "internal_error";
    case A::inappropriate_fallback:
      return "inappropriate_fallback";
    case A::user_canceled:
      return "user_canceled";
    case A::no_renegotiation:
      return "no_renegotiation";
    case A::missing_extension:
      return "missing_extension";
    case A::unsupported_extension:
      return "unsupported_extension";
    case A::certificate_unobtainable_reserved:
      return "certificate_unobtainable_RESERVED";
    case A::unrecognized_name:
      return "unrecognized_name";
    case A::bad_certificate_status_response:
      return "bad_certificate_status_response";
    case A::bad_certificate_hash_value_reserved:
      return "bad_certificate_hash_value_RESERVED";
    case A::unknown_psk_identity:
      return "unknown_psk_identity";
    case A::certificate_required:
      return "certificate_required";
    case A::no_application_protocol:
      return "no_application_protocol";
  }
  return "unknown";
}

constexpr std::string_view name(PskKeyExchangeMode v) noexcept {
  switch (v) {
    case PskKeyExchangeMode::psk_ke:
      return "psk_ke";
    case PskKeyExchangeMode::psk_dhe_ke:
      return "psk_dhe_ke";
  }
  return "unknown";
}

constexpr std::string_view name(KeyUpdateRequest v) noexcept {
  switch (v) {
    case KeyUpdateRequest::update_not_requested:
      return "update_not_requested";
    case KeyUpdateRequest::update_requested:
      return "update_requested";
  }
  return "unknown";
}

constexpr std::string_view name(HeartbeatMessageType v) noexcept {
  switch (v) {
    case HeartbeatMessageType::heartbeat_request:
      return "heartbeat_request";
    case HeartbeatMessageType::heartbeat_response:
      return "heartbeat_response";
  }
  return "unknown";
}

constexpr std::string_view name(HeartbeatMode v) noexcept {
  switch (v) {
    case HeartbeatMode::peer_allowed_to_send:
      return "peer_allowed_to_send";
    case HeartbeatMode::peer_not_allowed_to_send:
      return "peer_not_allowed_to_send";
  }
  return "unknown";
}

constexpr std::string_view name(EcPointFormat v) noexcept {
  switch (v) {
    case EcPointFormat::uncompressed:
      return "uncompressed";
    case EcPointFormat::ansix962_compressed_prime:
      return "ansiX962_compressed_prime";
    case EcPointFormat::ansix962_compressed_char2:
      return "ansiX962_compressed_char2";
  }
  return "unknown";
}

// ---- list views ----------------------------------------------------------------------------

// Byte-wise equality of two views (spans have no operator==).
inline bool same_bytes(wire::Bytes a, wire::Bytes b) noexcept {
  return std::ranges::equal(a, b);
}

// The bytes of a string, for opaque fields that hold text (host names, ALPN protocol names).
inline wire::Bytes as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_string(wire::Bytes b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// A list of 8- or 16-bit values (cipher suites, groups, schemes, versions, ...). Either a view
// of validated big-endian wire bytes (after decoding) or a view of caller-owned values (for
// encoding); it never owns or allocates. Iteration yields values.
template <class T>
class ValueList {
  static_assert(sizeof(T) == 1 || sizeof(T) == 2, "wire value lists hold 8- or 16-bit values");

 public:
  static constexpr std::size_t width = sizeof(T);

  class iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::input_iterator_tag;  // yields values, not references
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using reference = T;
    using pointer = void;

    iterator() noexcept = default;
    T operator*() const noexcept { return at(wire_, values_, i_); }
    iterator& operator++() noexcept {
      ++i_;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++i_;
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.i_ == b.i_; }

   private:
    friend class ValueList;
    iterator(const std::uint8_t* wire, const T* values, std::size_t i) noexcept
        : wire_(wire), values_(values), i_(i) {}
    const std::uint8_t* wire_ = nullptr;
    const T* values_ = nullptr;
    std::size_t i_ = 0;
  };

  constexpr ValueList() noexcept = default;
  // A view of caller-owned values (which must outlive the list).
  constexpr ValueList(std::span<const T> values) noexcept  // NOLINT(google-explicit-constructor)
      : values_(values.data()), count_(values.size()) {}
  // From an array or vector lvalue (never a temporary, which would dangle).
  template <class R>
  requires(
      std::is_convertible_v<R&, std::span<const T>> &&
      !std::is_same_v<std::remove_cv_t<R>, ValueList> &&
      !std::is_same_v<
          std::remove_cv_t<R>,
          std::span<
              const T>>) constexpr ValueList(R& values) noexcept  // NOLINT(google-explicit-constructor)
      : ValueList(std::span<const T>(values)) {}

  // A view of wire bytes; `truncated` unless their length is a multiple of the value width
  // (the last value would be cut short).
  static Result<ValueList> from_wire(wire::Bytes b) noexcept {
    if (b.size() % width != 0) return Errc::truncated;
    ValueList l;
    l.wire_ = b.data();
    l.count_ = b.size() / width;
    return l;
  }
  // Reads a Width-byte length prefix whose value (in bytes) lies in [min_bytes, max_bytes],
  // then the values.
  template <int Width>
  static Result<ValueList> read(wire::Reader& r, std::size_t min_bytes,
                                std::size_t max_bytes) noexcept {
    BW_ASSIGN(wire::Bytes b, r.prefixed_bytes<Width>(min_bytes, max_bytes));
    return from_wire(b);
  }

  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  T operator[](std::size_t i) const noexcept { return at(wire_, values_, i); }
  iterator begin() const noexcept { return iterator(wire_, values_, 0); }
  iterator end() const noexcept { return iterator(wire_, values_, count_); }
  bool contains(T v) const noexcept {
    for (std::size_t i = 0; i < count_; ++i)
      if ((*this)[i] == v) return true;
    return false;
  }

  // Writes the values (no length prefix).
  void write_values(wire::Writer& w) const noexcept {
    if (wire_ != nullptr) {
      w.bytes(wire::Bytes(wire_, count_ * width));
      return;
    }
    for (std::size_t i = 0; i < count_; ++i) {
      if constexpr (width == 1)
        w.u8(static_cast<std::uint8_t>(values_[i]));
      else
        w.u16(static_cast<std::uint16_t>(values_[i]));
    }
  }
  // Writes a Width-byte length prefix (enforcing [min_bytes, max_bytes]) and the values.
  template <int Width>
  void write(wire::Writer& w, std::size_t min_bytes, std::size_t max_bytes) const noexcept {
    auto prefix = w.prefixed<Width>(min_bytes, max_bytes);
    write_values(w);
  }

  friend bool operator==(const ValueList& a, const ValueList& b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a[i] != b[i]) return false;
    return true;
  }

 private:
  static T at(const std::uint8_t* wire, const T* values, std::size_t i) noexcept {
    if (values != nullptr) return values[i];
    if constexpr (width == 1) {
      return static_cast<T>(wire[i]);
    } else {
      return static_cast<T>(static_cast<std::uint16_t>((wire[2 * i] << 8) | wire[2 * i + 1]));
    }
  }

  const std::uint8_t* wire_ = nullptr;
  const T* values_ = nullptr;
  std::size_t count_ = 0;
};

using U8List = ValueList<std::uint8_t>;
using U16List = ValueList<std::uint16_t>;

// A list of variable-length entries (key shares, PSK identities, ALPN names, certificates,
// extensions, ...). Like ValueList, either a view of wire bytes in which every entry has been
// validated, or a view of caller-owned entries for encoding. `Entry` provides
// `static Result<Entry> read(wire::Reader&)`, `void write(wire::Writer&) const` and `==`.
template <class Entry>
class EntryList {
 public:
  class iterator {
   public:
    using iterator_concept = std::input_iterator_tag;
    using iterator_category = std::input_iterator_tag;
    using value_type = Entry;
    using difference_type = std::ptrdiff_t;
    using reference = const Entry&;
    using pointer = const Entry*;

    iterator() noexcept = default;
    const Entry& operator*() const noexcept { return current_; }
    const Entry* operator->() const noexcept { return &current_; }
    iterator& operator++() noexcept {
      ++i_;
      load();
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.i_ == b.i_; }

   private:
    friend class EntryList;
    iterator(const Entry* entries, wire::Bytes wire, std::size_t i, std::size_t count) noexcept
        : entries_(entries), rest_(wire), i_(i), count_(count) {
      load();
    }
    void load() noexcept {
      if (i_ >= count_) return;
      if (entries_ != nullptr) {
        current_ = entries_[i_];
        return;
      }
      if (auto e = Entry::read(rest_))
        current_ = *e;
      else
        i_ = count_;  // unreachable: from_wire validated every entry
    }

    const Entry* entries_ = nullptr;
    wire::Reader rest_;
    Entry current_{};
    std::size_t i_ = 0;
    std::size_t count_ = 0;
  };

  constexpr EntryList() noexcept = default;
  constexpr EntryList(std::span<const Entry> entries) noexcept  // NOLINT
      : entries_(entries.data()), count_(entries.size()) {}
  template <class R>
  requires(
      std::is_convertible_v<R&, std::span<const Entry>> &&
      !std::is_same_v<std::remove_cv_t<R>, EntryList> &&
      !std::is_same_v<
          std::remove_cv_t<R>,
          std::span<
              const Entry>>) constexpr EntryList(R& entries) noexcept  // NOLINT(google-explicit-constructor)
      : EntryList(std::span<const Entry>(entries)) {}

  // Validates every entry of `b` (which must hold nothing else).
  static Result<EntryList> from_wire(wire::Bytes b) noexcept {
    wire::Reader r(b);
    std::size_t n = 0;
    while (!r.empty()) {
      BW_TRY(Entry::read(r));
      ++n;
    }
    EntryList l;
    l.wire_ = b;
    l.from_wire_ = true;
    l.count_ = n;
    return l;
  }
  template <int Width>
  static Result<EntryList> read(wire::Reader& r, std::size_t min_bytes,
                                std::size_t max_bytes) noexcept {
    BW_ASSIGN(wire::Bytes b, r.prefixed_bytes<Width>(min_bytes, max_bytes));
    return from_wire(b);
  }

  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  iterator begin() const noexcept {
    return iterator(from_wire_ ? nullptr : entries_, wire_, 0, count_);
  }
  iterator end() const noexcept { return iterator(nullptr, {}, count_, count_); }
  // The encoded entries of a decoded list (empty for a list of caller-owned entries).
  wire::Bytes wire_bytes() const noexcept { return wire_; }

  void write_entries(wire::Writer& w) const noexcept {
    if (from_wire_) {
      w.bytes(wire_);
      return;
    }
    for (std::size_t i = 0; i < count_; ++i)
      entries_[i].write(w);
  }
  template <int Width>
  void write(wire::Writer& w, std::size_t min_bytes, std::size_t max_bytes) const noexcept {
    auto prefix = w.prefixed<Width>(min_bytes, max_bytes);
    write_entries(w);
  }

  friend bool operator==(const EntryList& a, const EntryList& b) noexcept {
    if (a.size() != b.size()) return false;
    auto i = a.begin();
    auto j = b.begin();
    for (; i != a.end(); ++i, ++j)
      if (!(*i == *j)) return false;
    return true;
  }

 private:
  wire::Bytes wire_;
  const Entry* entries_ = nullptr;
  std::size_t count_ = 0;
  bool from_wire_ = false;
};

// An opaque vector<Min..Max> with a Width-byte length prefix, as a list entry.
template <int Width, std::size_t Min, std::size_t Max>
struct Opaque {
  wire::Bytes data;

  static Result<Opaque> read(wire::Reader& r) noexcept {
    BW_ASSIGN(wire::Bytes b, r.prefixed_bytes<Width>(Min, Max));
    return Opaque{b};
  }
  void write(wire::Writer& w) const noexcept { w.prefixed_bytes<Width>(data, Min, Max); }
  std::string_view str() const noexcept { return as_string(data); }
  friend bool operator==(const Opaque& a, const Opaque& b) noexcept {
    return same_bytes(a.data, b.data);
  }
};

}  // namespace bulwark::tls
