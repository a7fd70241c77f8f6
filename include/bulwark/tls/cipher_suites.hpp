// Cipher suites as constant descriptors: key exchange, AEAD (or legacy CBC + HMAC), hash, key
// and IV sizes, usage limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "bulwark/crypto/aead.hpp"
#include "bulwark/crypto/cbc.hpp"
#include "bulwark/crypto/hash.hpp"
#include "bulwark/tls/types.hpp"

namespace bulwark::tls {

// How a TLS 1.2 suite exchanges keys and authenticates (TLS 1.3 suites say `any`). The last
// two are legacy: finite-field DHE signed with RSA (RFC 5246, RFC 7919 groups), and RSA key
// transport (RFC 5246 §7.4.7.1), which has no forward secrecy.
enum class KeyExchange : std::uint8_t { any, ecdhe_ecdsa, ecdhe_rsa, dhe_rsa, rsa };

// How records are protected: an AEAD, or (legacy) AES-CBC with HMAC, MAC-then-encrypt.
enum class RecordProtection : std::uint8_t { aead, cbc_hmac };

struct CipherSuiteInfo {
  CipherSuite id;
  std::string_view name;    // IANA name
  ProtocolVersion version;  // tls13, or tls12 for the suites that only TLS 1.2 uses
  KeyExchange kx;
  crypto::AeadAlg aead;  // AEAD suites
  crypto::HashAlg hash;  // transcript, HKDF / TLS 1.2 PRF
  std::size_t key_length;
  // Static IV: 12 in TLS 1.3; 4 (GCM) or 12 (ChaCha) in TLS 1.2; 0 for CBC, whose IV is
  // explicit in every record.
  std::size_t iv_length;
  std::uint64_t record_limit;  // records one key may protect (RFC 8446 §5.5)
  RecordProtection protection = RecordProtection::aead;
  crypto::CbcAlg cbc = crypto::CbcAlg::aes_128_cbc;  // CBC suites
  crypto::HashAlg mac = crypto::HashAlg::sha256;     // CBC suites: the record HMAC's hash
  // Only under the legacy policy (Config::legacy): CBC, RSA key transport, finite-field DHE.
  bool legacy = false;
};

// The suites bulwark implements, in our default preference order: the legacy suites last.
std::span<const CipherSuiteInfo> supported_cipher_suites() noexcept;
// nullptr when we do not implement `id`.
const CipherSuiteInfo* find_cipher_suite(CipherSuite id) noexcept;
// The legacy suites (a tail of supported_cipher_suites()), in their preference order.
std::span<const CipherSuiteInfo> legacy_cipher_suites() noexcept;
// Whether `id` is a suite we implement only under the legacy policy.
bool is_legacy_suite(CipherSuite id) noexcept;

}  // namespace bulwark::tls
