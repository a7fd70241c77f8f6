// What a server answers to a probe's hello, parsed from plaintext records through wire::Reader.
//
// The parser is sans-I/O: feed() it the bytes as they arrive; done() says when enough has been
// seen (a fatal alert, an SSL 2.0 SERVER-HELLO, or a ServerHello and the rest of the server's
// plaintext flight: Certificate, ServerKeyExchange, ServerHelloDone for TLS <= 1.2; for
// TLS 1.3 everything after the ServerHello is encrypted, so the ServerHello alone). Everything
// is bounded: total bytes, record and handshake message lengths.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "bulwark/result.hpp"
#include "bulwark/wire.hpp"

namespace bulwark::scan {

struct RawExtension {
  std::uint16_t type = 0;
  std::vector<std::uint8_t> data;
};

struct ServerHelloInfo {
  std::uint16_t legacy_version = 0;
  // The version the server chose: supported_versions' when present (TLS 1.3), else
  // legacy_version.
  std::uint16_t version = 0;
  std::array<std::uint8_t, 32> random{};
  std::vector<std::uint8_t> session_id;
  std::uint16_t cipher_suite = 0;
  std::uint8_t compression_method = 0;
  std::vector<RawExtension> extensions;
  bool hello_retry = false;  // RFC 8446 §4.1.3: the HelloRetryRequest random

  const RawExtension* find(std::uint16_t type) const noexcept;
  bool has(std::uint16_t type) const noexcept { return find(type) != nullptr; }
};

// SSL 2.0 SERVER-HELLO: the server speaks SSLv2 (DROWN; the Slapper worm's entry).
struct Sslv2ServerHello {
  std::uint16_t version = 0;
  std::vector<std::uint32_t> ciphers;     // 3-byte cipher kinds the server offers
  std::vector<std::uint8_t> certificate;  // DER, as sent
};

struct ServerReply {
  std::uint16_t record_version = 0;  // of the first record
  std::optional<ServerHelloInfo> hello;
  // A fatal (or any) alert: (level, description).
  std::optional<std::pair<std::uint8_t, std::uint8_t>> alert;
  std::vector<std::vector<std::uint8_t>> certificates;  // DER, leaf first (TLS <= 1.2)
  std::vector<std::uint8_t> server_key_exchange;        // body, when sent
  bool certificate_status = false;  // a stapled OCSP response (CertificateStatus) was sent
  bool certificate_request = false;
  bool server_hello_done = false;
  std::optional<Sslv2ServerHello> sslv2;
};

class ReplyParser {
 public:
  // At most `max_bytes` are accepted in total (a reply longer than that is `limit_exceeded`).
  // With `sslv2`, a reply in SSL 2.0 framing is parsed as such (the answer to an SSLv2 hello).
  explicit ReplyParser(std::size_t max_bytes = 256 * 1024, bool sslv2 = false) noexcept
      : max_bytes_(max_bytes), sslv2_(sslv2) {}

  // Takes the next bytes. An error means the reply is not TLS (or not SSL 2.0) or is malformed;
  // errors are sticky.
  Status feed(wire::Bytes data);
  bool done() const noexcept { return done_; }
  const ServerReply& reply() const noexcept { return reply_; }
  std::size_t bytes_seen() const noexcept { return total_; }

 private:
  Status parse_records();
  Status parse_sslv2();
  Status on_handshake_bytes(wire::Bytes fragment);
  Status on_message(std::uint8_t type, wire::Bytes body);

  std::size_t max_bytes_;
  bool sslv2_;
  std::size_t total_ = 0;
  bool done_ = false;
  std::optional<Error> error_;
  std::vector<std::uint8_t> pending_;    // bytes of an incomplete record
  std::vector<std::uint8_t> handshake_;  // bytes of incomplete handshake messages
  ServerReply reply_;
};

// Fields of a TLS <= 1.2 ServerKeyExchange, as far as the audit needs them.
struct KeyExchangeParams {
  enum class Kind : std::uint8_t { none, dhe, ecdhe, rsa } kind = Kind::none;
  std::vector<std::uint8_t> dh_prime;  // DHE: p, big-endian
  std::size_t dh_prime_bits = 0;
  std::uint16_t group = 0;           // ECDHE: the named curve
  std::size_t rsa_modulus_bits = 0;  // RSA_EXPORT: the temporary RSA key
};
// Parses the leading parameters of a ServerKeyExchange body for a suite whose key exchange is
// finite-field DHE (`dhe`), ECDHE (`ecdhe`) or RSA_EXPORT (`rsa`). The signature after them is
// not checked (the scanner does not authenticate its probes).
Result<KeyExchangeParams> parse_key_exchange(wire::Bytes body, KeyExchangeParams::Kind kind);

// The name of a well-known finite-field group whose prime is `prime` (big-endian): RFC 7919
// "ffdhe2048".., RFC 3526 "modp_2048".., RFC 5114 "dh_1024_160".. (primes as libcrypto has
// them); empty when the prime is the server's own. Common primes matter for LOGJAM: one
// precomputation breaks every server sharing a 1024-bit one.
std::string_view known_dh_group(wire::Bytes prime);

// Bits in a big-endian unsigned integer (leading zero bytes and bits ignored).
std::size_t bit_length(wire::Bytes big_endian) noexcept;

}  // namespace bulwark::scan
