// HKDF (RFC 5869) and the TLS 1.3 key-schedule functions built on it (RFC 8446 §7.1).
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

// HKDF-Extract(salt, IKM) -> PRK of digest_length(alg) bytes. An empty salt means HashLen zero
// bytes (RFC 5869 §2.2).
Result<Secret> hkdf_extract(HashAlg alg, std::span<const std::uint8_t> salt,
                            std::span<const std::uint8_t> ikm);

// HKDF-Expand(PRK, info, L). `invalid_argument` when L > 255 * HashLen (RFC 5869 §2.3) or when
// the PRK is shorter than HashLen.
Result<Secret> hkdf_expand(HashAlg alg, std::span<const std::uint8_t> prk,
                           std::span<const std::uint8_t> info, std::size_t length);

// HKDF-Expand-Label(Secret, Label, Context, Length) of RFC 8446 §7.1. `label` is given without
// the "tls13 " prefix (e.g. "key", "c hs traffic"); it must be 1..249 bytes, the context at
// most 255 bytes and the length at most 65535, else `invalid_argument`.
Result<Secret> hkdf_expand_label(HashAlg alg, std::span<const std::uint8_t> secret,
                                 std::string_view label, std::span<const std::uint8_t> context,
                                 std::size_t length);

// Derive-Secret(Secret, Label, Messages) = HKDF-Expand-Label(Secret, Label,
// Transcript-Hash(Messages), Hash.length). Takes the transcript hash already computed (for
// "derived" that is hash(alg, {})); it must be HashLen bytes, else `invalid_argument`.
Result<Secret> derive_secret(HashAlg alg, std::span<const std::uint8_t> secret,
                             std::string_view label, std::span<const std::uint8_t> transcript_hash);

// The same three from a secret already keyed as an HMAC key (Hmac::create(alg, secret)), for a
// secret that several labels are expanded from: keying costs as much as one MAC, so each
// further expansion is twice as fast. The secret must be HashLen bytes or longer (the span
// forms check it).
Result<Secret> hkdf_expand(const Hmac& prk, std::span<const std::uint8_t> info, std::size_t length);
Result<Secret> hkdf_expand_label(const Hmac& secret, std::string_view label,
                                 std::span<const std::uint8_t> context, std::size_t length);
Result<Secret> derive_secret(const Hmac& secret, std::string_view label,
                             std::span<const std::uint8_t> transcript_hash);

}  // namespace bulwark::crypto
