// Cipher suites as constant descriptors: AEAD, hash, key and IV sizes, usage limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "bulwark/crypto/aead.hpp"
#include "bulwark/crypto/hash.hpp"
#include "bulwark/tls/types.hpp"

namespace bulwark::tls {

// How a TLS 1.2 suite exchanges keys and authenticates (TLS 1.3 suites say `any`).
enum class KeyExchange : std::uint8_t { any, ecdhe_ecdsa, ecdhe_rsa };

struct CipherSuiteInfo {
  CipherSuite id;
  std::string_view name;    // IANA name
  ProtocolVersion version;  // tls13, or tls12 for the suites that only TLS 1.2 uses
  KeyExchange kx;
  crypto::AeadAlg aead;
  crypto::HashAlg hash;
  std::size_t key_length;
  std::size_t iv_length;       // static IV: 12 in TLS 1.3; 4 (GCM) or 12 (ChaCha) in TLS 1.2
  std::uint64_t record_limit;  // records one key may protect (RFC 8446 §5.5)
};

// The suites bulwark implements, in our default preference order.
std::span<const CipherSuiteInfo> supported_cipher_suites() noexcept;
// nullptr when we do not implement `id`.
const CipherSuiteInfo* find_cipher_suite(CipherSuite id) noexcept;

}  // namespace bulwark::tls
