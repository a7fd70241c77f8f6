// X.509 certificates: parsing (DER / PEM / files), the fields protocol code needs, encoding.
// Parsing is libcrypto's; a Certificate is immutable once built, and copies share it.
#pragma once

#include <openssl/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/crypto/keys.hpp"
#include "bulwark/result.hpp"

namespace bulwark::crypto {

class Certificate {
 public:
  // An empty certificate (valid() is false); every accessor below requires valid().
  Certificate() noexcept = default;

  // One DER-encoded certificate and nothing after it (trailing bytes are `decode_failed`).
  static Result<Certificate> from_der(std::span<const std::uint8_t> der);
  // Exactly one "CERTIFICATE" PEM block (other block types are skipped); zero or several
  // certificates are `decode_failed`.
  static Result<Certificate> from_pem(std::string_view pem);
  // Shares `x509` (takes a new reference; the caller keeps its own).
  static Result<Certificate> from_native(X509* x509);

  bool valid() const noexcept { return impl_ != nullptr; }

  // The DER encoding, exactly as parsed (or as issued).
  std::span<const std::uint8_t> der() const noexcept;
  // PEM "CERTIFICATE" block, for writing files.
  Result<std::string> to_pem() const;

  // One-line RFC 2253 distinguished names ("CN=example.com,O=Example"), UTF-8 kept as is.
  std::string subject() const;
  std::string issuer() const;
  // The last (most specific) commonName of the subject, UTF-8; empty when there is none.
  std::string common_name() const;
  // Lower-case hex of the serial number's big-endian magnitude, "-" prefixed if negative.
  std::string serial_hex() const;
  std::chrono::system_clock::time_point not_before() const;
  std::chrono::system_clock::time_point not_after() const;

  Result<PublicKey> public_key() const;

  // subjectAltName entries. dNSName values are returned byte for byte (they may hold anything
  // a CA put there, so matching code validates them); iPAddress values as 4 or 16 raw bytes,
  // or as text ("192.0.2.1", "2001:db8::1"); entries of the wrong length are skipped.
  std::vector<std::string> dns_names() const;
  std::vector<std::vector<std::uint8_t>> ip_addresses() const;
  std::vector<std::string> ip_address_texts() const;

  // basicConstraints cA = TRUE (a v1 certificate is never a CA here).
  bool is_ca() const;
  // keyUsage permits keyEncipherment, or there is no keyUsage extension (RFC 5280 §4.2.1.3).
  // TLS 1.2 RSA key transport encrypts to such a key only (RFC 5246 §7.4.2).
  bool allows_key_encipherment() const;
  // SHA-256 of der().
  Result<std::array<std::uint8_t, 32>> sha256_fingerprint() const;
  // "ecdsa-with-SHA256", "sha256WithRSAEncryption", "ED25519", "rsassaPss", ... (or the OID).
  std::string signature_algorithm_name() const;
  // Subject equals issuer and the certificate's own key verifies its signature.
  bool self_signed() const;

  // The libcrypto handle, for the crypto layer (still owned by this object; do not modify).
  X509* native() const noexcept;

  // Same DER encoding.
  friend bool operator==(const Certificate& a, const Certificate& b) noexcept;

 private:
  struct Impl;
  explicit Certificate(std::shared_ptr<const Impl> impl) noexcept : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Every "CERTIFICATE" block of a PEM bundle, in order; none, or one that does not parse, is
// `decode_failed`.
Result<std::vector<Certificate>> load_certificates_pem(std::string_view pem);
// A file holding a PEM bundle or one DER certificate: all of its certificates, or the one it
// must hold exactly. A file that cannot be read is `io_error`; bad contents `decode_failed`.
Result<std::vector<Certificate>> load_certificates_file(const std::filesystem::path& path);
Result<Certificate> load_certificate_file(const std::filesystem::path& path);

}  // namespace bulwark::crypto
