// Signatures as TLS names them (RFC 8446 §4.2.3): RSA PKCS#1 v1.5, RSA-PSS, ECDSA, Ed25519.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "bulwark/crypto/keys.hpp"
#include "bulwark/result.hpp"

namespace bulwark::crypto {

// IANA TLS SignatureScheme code points, so the TLS layer can cast the wire value. Values
// received from the wire may be anything: the functions below answer `unsupported` (or false)
// for the others.
enum class SignatureScheme : std::uint16_t {
  rsa_pkcs1_sha256 = 0x0401,
  rsa_pkcs1_sha384 = 0x0501,
  rsa_pkcs1_sha512 = 0x0601,
  ecdsa_secp256r1_sha256 = 0x0403,
  ecdsa_secp384r1_sha384 = 0x0503,
  rsa_pss_rsae_sha256 = 0x0804,
  rsa_pss_rsae_sha384 = 0x0805,
  rsa_pss_rsae_sha512 = 0x0806,
  ed25519 = 0x0807,
  rsa_pss_pss_sha256 = 0x0809,
  rsa_pss_pss_sha384 = 0x080a,
  rsa_pss_pss_sha512 = 0x080b,
};

// The IANA name ("rsa_pss_rsae_sha256", ...); "unknown" for other values.
std::string_view scheme_name(SignatureScheme scheme) noexcept;
bool scheme_supported(SignatureScheme scheme) noexcept;

// Whether `scheme` can be used with a key of this type and size:
//  - rsa_pkcs1_* and rsa_pss_rsae_* need an rsaEncryption key, rsa_pss_pss_* an RSASSA-PSS
//    key (RFC 8446 §4.2.3), and the modulus must be large enough for the encoding;
//  - ecdsa_secp256r1_sha256 needs a P-256 key and ecdsa_secp384r1_sha384 a P-384 key
//    (TLS 1.3 binds the curve to the scheme);
//  - ed25519 needs an Ed25519 key.
// `bits` is the RSA modulus size (ignored for other types).
bool scheme_fits_key(SignatureScheme scheme, KeyType type, int bits) noexcept;
// As above, and for an RSASSA-PSS key also its parameter restrictions (hash, MGF1 hash,
// minimum salt length) must allow the scheme's hash with salt length = hash length.
bool scheme_fits_key(SignatureScheme scheme, const PublicKey& key) noexcept;
bool scheme_fits_key(SignatureScheme scheme, const PrivateKey& key) noexcept;

// Signs `message` (hashed here as the scheme says; Ed25519 signs it whole). RSA-PSS uses MGF1
// with the scheme's hash and a salt as long as the hash; ECDSA signatures are DER-encoded
// (ECDSA-Sig-Value), as TLS carries them. `invalid_key` when the scheme does not fit the key,
// `unsupported` for an unknown scheme.
Result<std::vector<std::uint8_t>> sign(const PrivateKey& key, SignatureScheme scheme,
                                       std::span<const std::uint8_t> message);

// Checks `signature` over `message`. `bad_signature` when it does not verify or is malformed
// (wrong length, non-DER ECDSA encoding, PSS salt of another length, ...); `invalid_key` when
// the scheme does not fit the key; `unsupported` for an unknown scheme.
Status verify(const PublicKey& key, SignatureScheme scheme, std::span<const std::uint8_t> message,
              std::span<const std::uint8_t> signature);

}  // namespace bulwark::crypto
