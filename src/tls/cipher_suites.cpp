#include "bulwark/tls/cipher_suites.hpp"

namespace bulwark::tls {

namespace {

using crypto::AeadAlg;
using crypto::HashAlg;

// RFC 8446 §5.5: AES-GCM keys protect at most 2^24.5 full-size records (about 24 million);
// ChaCha20-Poly1305's limit is beyond the 64-bit sequence number, which must never wrap.
constexpr std::uint64_t gcm_limit = 23726566;  // floor(2^24.5)
constexpr std::uint64_t chacha_limit = ~std::uint64_t{0};

constexpr CipherSuiteInfo suites[] = {
    {CipherSuite::tls_aes_128_gcm_sha256, "TLS_AES_128_GCM_SHA256", ProtocolVersion::tls13,
     KeyExchange::any, AeadAlg::aes_128_gcm, HashAlg::sha256, 16, 12, gcm_limit},
    {CipherSuite::tls_aes_256_gcm_sha384, "TLS_AES_256_GCM_SHA384", ProtocolVersion::tls13,
     KeyExchange::any, AeadAlg::aes_256_gcm, HashAlg::sha384, 32, 12, gcm_limit},
    {CipherSuite::tls_chacha20_poly1305_sha256, "TLS_CHACHA20_POLY1305_SHA256",
     ProtocolVersion::tls13, KeyExchange::any, AeadAlg::chacha20_poly1305, HashAlg::sha256, 32, 12,
     chacha_limit},
    {CipherSuite::tls_ecdhe_ecdsa_with_aes_128_gcm_sha256,
     "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", ProtocolVersion::tls12, KeyExchange::ecdhe_ecdsa,
     AeadAlg::aes_128_gcm, HashAlg::sha256, 16, 4, gcm_limit},
    {CipherSuite::tls_ecdhe_rsa_with_aes_128_gcm_sha256, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
     ProtocolVersion::tls12, KeyExchange::ecdhe_rsa, AeadAlg::aes_128_gcm, HashAlg::sha256, 16, 4,
     gcm_limit},
    {CipherSuite::tls_ecdhe_ecdsa_with_aes_256_gcm_sha384,
     "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", ProtocolVersion::tls12, KeyExchange::ecdhe_ecdsa,
     AeadAlg::aes_256_gcm, HashAlg::sha384, 32, 4, gcm_limit},
    {CipherSuite::tls_ecdhe_rsa_with_aes_256_gcm_sha384, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
     ProtocolVersion::tls12, KeyExchange::ecdhe_rsa, AeadAlg::aes_256_gcm, HashAlg::sha384, 32, 4,
     gcm_limit},
    {CipherSuite::tls_ecdhe_ecdsa_with_chacha20_poly1305_sha256,
     "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", ProtocolVersion::tls12,
     KeyExchange::ecdhe_ecdsa, AeadAlg::chacha20_poly1305, HashAlg::sha256, 32, 12, chacha_limit},
    {CipherSuite::tls_ecdhe_rsa_with_chacha20_poly1305_sha256,
     "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", ProtocolVersion::tls12, KeyExchange::ecdhe_rsa,
     AeadAlg::chacha20_poly1305, HashAlg::sha256, 32, 12, chacha_limit},
};

}  // namespace

std::span<const CipherSuiteInfo> supported_cipher_suites() noexcept {
  return suites;
}

const CipherSuiteInfo* find_cipher_suite(CipherSuite id) noexcept {
  for (const auto& s : suites) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

}  // namespace bulwark::tls
