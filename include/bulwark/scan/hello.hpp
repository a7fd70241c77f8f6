// Raw ClientHello messages for the scanner's probes. Unlike tls::Connection, these can claim
// any version (SSL 3.0 .. TLS 1.3), offer any suite or compression method and any extension,
// because an auditor must detect what bulwark itself would never speak. SSL 2.0's
// CLIENT-HELLO (the Slapper worm's way in) is built here too.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bulwark/result.hpp"
#include "bulwark/wire.hpp"

namespace bulwark::scan {

// Everything a probe's ClientHello says. Defaults: a TLS 1.2 hello with SNI-less, extension-
// bearing, null-compression settings; callers set what each probe needs.
struct HelloBuilder {
  std::uint16_t record_version = 0x0301;  // TLSPlaintext.legacy_record_version
  std::uint16_t legacy_version = 0x0303;  // ClientHello.legacy_version (the maximum pre-1.3)
  std::vector<std::uint16_t> suites;
  std::vector<std::uint8_t> compression_methods = {0};
  bool extensions = true;   // false: no extensions block at all (an SSL 3.0 hello)
  std::string server_name;  // SNI; empty: none
  std::vector<std::uint16_t> supported_versions;  // empty: no extension
  std::vector<std::uint16_t> groups;              // supported_groups; empty: none
  bool ec_point_formats = false;
  std::vector<std::uint16_t> signature_schemes;  // empty: none
  bool heartbeat = false;                        // RFC 6520, peer_allowed_to_send
  bool renegotiation_info = false;               // RFC 5746 renegotiation_info
  // Its renegotiated_connection: empty on a first handshake, client_verify_data when
  // renegotiating (RFC 5746 §3.5).
  std::vector<std::uint8_t> renegotiated_connection;
  bool extended_master_secret = false;  // RFC 7627
  bool session_ticket = false;          // RFC 5077, empty
  bool status_request = false;          // RFC 6066 OCSP
  std::vector<std::string> alpn;        // RFC 7301
  // TLS 1.3 key shares: (group, key_exchange bytes). When supported_versions offers TLS 1.3
  // the extension is sent even with none.
  std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>> key_shares;
  bool psk_key_exchange_modes = false;  // psk_dhe_ke, so that a TLS 1.3 server sends tickets

  // The handshake message (type, u24 length, body) with `random` as ClientHello.random.
  Result<std::vector<std::uint8_t>> message(const std::array<std::uint8_t, 32>& random) const;
  // The message in one handshake record (a hello never reaches 2^14 bytes: enforced).
  Result<std::vector<std::uint8_t>> record(const std::array<std::uint8_t, 32>& random) const;
};

// An SSL 2.0 CLIENT-HELLO record (2-byte header), version 0x0002, no session id, offering the
// 3-byte cipher kinds `ciphers` with `challenge` (16..32 bytes).
Result<std::vector<std::uint8_t>> sslv2_client_hello(const std::vector<std::uint32_t>& ciphers,
                                                     wire::Bytes challenge);

// A plaintext TLS record of `content_type` carrying `fragment`.
std::vector<std::uint8_t> plaintext_record(std::uint8_t content_type, std::uint16_t version,
                                           wire::Bytes fragment);

// A heartbeat request (RFC 6520 §4) that claims `claimed_length` payload bytes but carries
// only `payload` and the minimum padding: the Heartbleed probe. In a plaintext record.
std::vector<std::uint8_t> heartbeat_request_record(std::uint16_t version,
                                                   std::uint16_t claimed_length,
                                                   wire::Bytes payload);

}  // namespace bulwark::scan
