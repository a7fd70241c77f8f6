#include "bulwark/tls/cipher_suites.hpp"

namespace bulwark::tls {

namespace {

using crypto::AeadAlg;
using crypto::CbcAlg;
using crypto::HashAlg;

// RFC 8446 §5.5: AES-GCM keys protect at most 2^24.5 full-size records (about 24 million);
// ChaCha20-Poly1305's limit is beyond the 64-bit sequence number, which must never wrap.
constexpr std::uint64_t gcm_limit = 23726566;  // floor(2^24.5)
constexpr std::uint64_t chacha_limit = ~std::uint64_t{0};
// CBC with HMAC has no per-key record limit short of the sequence number, which must not wrap.
constexpr std::uint64_t sequence_limit = ~std::uint64_t{0};

// A legacy TLS 1.2 AES-GCM suite with finite-field DHE or RSA key transport (RFC 5288).
constexpr CipherSuiteInfo legacy_gcm(CipherSuite id, std::string_view name, KeyExchange kx,
                                     AeadAlg aead, HashAlg prf) {
  return {id,
          name,
          ProtocolVersion::tls12,
          kx,
          aead,
          prf,
          crypto::aead_key_length(aead),
          4,
          gcm_limit,
          RecordProtection::aead,
          CbcAlg::aes_128_cbc,
          HashAlg::sha256,
          true};
}

// A legacy TLS 1.2 AES-CBC + HMAC suite (RFC 5246, RFC 8422, RFC 5289). Its PRF is SHA-256
// unless the suite names SHA-384 (RFC 5289 §3.2); the MAC is the suite's last hash. The
// `aead` field is unused.
constexpr CipherSuiteInfo legacy_cbc(CipherSuite id, std::string_view name, KeyExchange kx,
                                     CbcAlg cbc, HashAlg mac) {
  const HashAlg prf = mac == HashAlg::sha384 ? HashAlg::sha384 : HashAlg::sha256;
  return {id,
          name,
          ProtocolVersion::tls12,
          kx,
          AeadAlg::aes_128_gcm,
          prf,
          crypto::cbc_key_length(cbc),
          0,
          sequence_limit,
          RecordProtection::cbc_hmac,
          cbc,
          mac,
          true};
}

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
    // Legacy (Config::legacy), after every default suite: forward-secret AEAD first, then
    // forward-secret CBC (SHA-2 MACs before SHA-1), then RSA key transport.
    legacy_gcm(CipherSuite::tls_dhe_rsa_with_aes_128_gcm_sha256,
               "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", KeyExchange::dhe_rsa, AeadAlg::aes_128_gcm,
               HashAlg::sha256),
    legacy_gcm(CipherSuite::tls_dhe_rsa_with_aes_256_gcm_sha384,
               "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", KeyExchange::dhe_rsa, AeadAlg::aes_256_gcm,
               HashAlg::sha384),
    legacy_cbc(CipherSuite::tls_ecdhe_ecdsa_with_aes_128_cbc_sha256,
               "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", KeyExchange::ecdhe_ecdsa,
               CbcAlg::aes_128_cbc, HashAlg::sha256),
    legacy_cbc(CipherSuite::tls_ecdhe_rsa_with_aes_128_cbc_sha256,
               "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", KeyExchange::ecdhe_rsa, CbcAlg::aes_128_cbc,
               HashAlg::sha256),
    legacy_cbc(CipherSuite::tls_ecdhe_ecdsa_with_aes_256_cbc_sha384,
               "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", KeyExchange::ecdhe_ecdsa,
               CbcAlg::aes_256_cbc, HashAlg::sha384),
    legacy_cbc(CipherSuite::tls_ecdhe_rsa_with_aes_256_cbc_sha384,
               "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", KeyExchange::ecdhe_rsa, CbcAlg::aes_256_cbc,
               HashAlg::sha384),
    legacy_cbc(CipherSuite::tls_ecdhe_ecdsa_with_aes_128_cbc_sha,
               "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", KeyExchange::ecdhe_ecdsa,
               CbcAlg::aes_128_cbc, HashAlg::sha1),
    legacy_cbc(CipherSuite::tls_ecdhe_rsa_with_aes_128_cbc_sha,
               "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", KeyExchange::ecdhe_rsa, CbcAlg::aes_128_cbc,
               HashAlg::sha1),
    legacy_cbc(CipherSuite::tls_ecdhe_ecdsa_with_aes_256_cbc_sha,
               "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", KeyExchange::ecdhe_ecdsa,
               CbcAlg::aes_256_cbc, HashAlg::sha1),
    legacy_cbc(CipherSuite::tls_ecdhe_rsa_with_aes_256_cbc_sha,
               "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", KeyExchange::ecdhe_rsa, CbcAlg::aes_256_cbc,
               HashAlg::sha1),
    legacy_gcm(CipherSuite::tls_rsa_with_aes_128_gcm_sha256, "TLS_RSA_WITH_AES_128_GCM_SHA256",
               KeyExchange::rsa, AeadAlg::aes_128_gcm, HashAlg::sha256),
    legacy_gcm(CipherSuite::tls_rsa_with_aes_256_gcm_sha384, "TLS_RSA_WITH_AES_256_GCM_SHA384",
               KeyExchange::rsa, AeadAlg::aes_256_gcm, HashAlg::sha384),
    legacy_cbc(CipherSuite::tls_rsa_with_aes_128_cbc_sha256, "TLS_RSA_WITH_AES_128_CBC_SHA256",
               KeyExchange::rsa, CbcAlg::aes_128_cbc, HashAlg::sha256),
    legacy_cbc(CipherSuite::tls_rsa_with_aes_256_cbc_sha256, "TLS_RSA_WITH_AES_256_CBC_SHA256",
               KeyExchange::rsa, CbcAlg::aes_256_cbc, HashAlg::sha256),
    legacy_cbc(CipherSuite::tls_rsa_with_aes_128_cbc_sha, "TLS_RSA_WITH_AES_128_CBC_SHA",
               KeyExchange::rsa, CbcAlg::aes_128_cbc, HashAlg::sha1),
    legacy_cbc(CipherSuite::tls_rsa_with_aes_256_cbc_sha, "TLS_RSA_WITH_AES_256_CBC_SHA",
               KeyExchange::rsa, CbcAlg::aes_256_cbc, HashAlg::sha1),
};

// The legacy suites are the table's tail.
constexpr std::size_t first_legacy = [] {
  std::size_t i = 0;
  while (i < std::size(suites) && !suites[i].legacy)
    ++i;
  return i;
}();
static_assert(
    [] {
      for (std::size_t i = first_legacy; i < std::size(suites); ++i) {
        if (!suites[i].legacy) return false;
      }
      return true;
    }(),
    "legacy suites come after every default suite");

}  // namespace

std::span<const CipherSuiteInfo> supported_cipher_suites() noexcept {
  return suites;
}

std::span<const CipherSuiteInfo> legacy_cipher_suites() noexcept {
  return std::span<const CipherSuiteInfo>(suites).subspan(first_legacy);
}

bool is_legacy_suite(CipherSuite id) noexcept {
  const CipherSuiteInfo* s = find_cipher_suite(id);
  return s != nullptr && s->legacy;
}

const CipherSuiteInfo* find_cipher_suite(CipherSuite id) noexcept {
  for (const auto& s : suites) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

}  // namespace bulwark::tls
