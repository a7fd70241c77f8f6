// The IANA TLS cipher suite registry as the scanner sees it: every suite a server might still
// accept (including those bulwark never speaks), each with the properties an audit rates.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::scan {

// The properties of one suite, derived from its IANA name (TLS_<kx>_WITH_<cipher>_<mac>, or
// TLS_<cipher>_<hash> for TLS 1.3).
struct SuiteInfo {
  std::uint16_t id = 0;
  std::string_view name;    // IANA name
  std::string_view kx;      // "RSA", "ECDHE_RSA", "DHE_RSA", "DH_anon", "PSK", ... ("any": TLS 1.3)
  std::string_view cipher;  // "AES_128_GCM", "3DES_EDE_CBC", "RC4_128", "NULL", ...
  std::string_view mac;     // "SHA", "SHA256", "MD5", ... ("AEAD" for AEAD suites)
  int bits = 0;             // symmetric key strength (0 for NULL; 40 for EXPORT)
  bool tls13 = false;
  bool export_grade = false;
  bool anonymous = false;  // no server authentication (DH_anon, ECDH_anon, plain PSK/SRP)
  bool null_cipher = false;
  bool rc4 = false;
  bool block64 = false;  // a 64-bit block cipher: 3DES, DES, IDEA, RC2 (SWEET32)
  bool cbc = false;
  bool aead = false;
  bool forward_secret = false;  // ephemeral (EC)DH key exchange, or TLS 1.3
  bool psk = false;             // needs a pre-shared key or SRP password: not offered by probes
  bool rsa_export = false;      // RSA_EXPORT: a server that accepts it may be FREAK-able
  bool dhe = false;             // finite-field ephemeral DH (DHE_*, DH_anon)
  bool ecdhe = false;           // elliptic-curve ephemeral DH (ECDHE_*, ECDH_anon)
};

// Every suite we know, in code-point order.
std::span<const SuiteInfo> all_suites() noexcept;
// nullptr for a code point that is not in our table.
const SuiteInfo* find_suite(std::uint16_t id) noexcept;
// "0xc02f" style text for a code point (used when the name is unknown).
std::string suite_id_text(std::uint16_t id);
// The name, or suite_id_text() when the code point is unknown.
std::string suite_name(std::uint16_t id);

// The suites a ClientHello of `version` (0x0300..0x0304) may offer in a probe: TLS 1.3 suites
// only for TLS 1.3; for older versions every non-TLS-1.3 suite that needs no PSK/SRP secret,
// and for SSL 3.0 / TLS 1.0 / 1.1 only those defined before TLS 1.2 (no SHA-256/384 MACs, no
// AEAD), since servers reject a later suite in an older version.
std::vector<std::uint16_t> probe_suites(std::uint16_t version);

// SSLv2 cipher kinds (RFC-less: the SSL 2.0 draft, appendix A), 3-byte code points.
struct Sslv2CipherInfo {
  std::uint32_t id;
  std::string_view name;
  bool export_grade;
};
std::span<const Sslv2CipherInfo> sslv2_ciphers() noexcept;
const Sslv2CipherInfo* find_sslv2_cipher(std::uint32_t id) noexcept;

}  // namespace bulwark::scan
