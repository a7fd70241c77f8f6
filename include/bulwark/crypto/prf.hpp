// The TLS 1.2 pseudorandom function (RFC 5246 §5).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "bulwark/crypto/hash.hpp"
#include "bulwark/crypto/hmac.hpp"
#include "bulwark/crypto/secret.hpp"
#include "bulwark/result.hpp"

namespace bulwark::crypto {

// PRF(secret, label, seed) = P_<hash>(secret, label + seed), truncated to `length` bytes.
// `alg` is the cipher suite's PRF hash: SHA-256 (the default) or SHA-384/512; SHA-1 is refused
// with `invalid_argument` (RFC 5246 §5 uses SHA-256 or stronger).
Result<Secret> tls12_prf(HashAlg alg, std::span<const std::uint8_t> secret, std::string_view label,
                         std::span<const std::uint8_t> seed, std::size_t length);

// The same PRF with the HMAC already keyed with the secret (Hmac::create(alg, secret)), so
// that several derivations from one secret (the TLS 1.2 key block and both Finished values
// from the master secret) key it once. `keyed` is reset first and may be reused afterwards.
// Fills `out` entirely; SHA-1 is refused as above.
Status tls12_prf(Hmac& keyed, std::string_view label, std::span<const std::uint8_t> seed,
                 std::span<std::uint8_t> out);
Result<Secret> tls12_prf(Hmac& keyed, std::string_view label, std::span<const std::uint8_t> seed,
                         std::size_t length);

}  // namespace bulwark::crypto
