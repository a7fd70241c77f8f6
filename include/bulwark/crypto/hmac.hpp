// HMAC (RFC 2104) over the SHA-2 family (and SHA-1 for legacy protocols).
#pragma once

#include <cstdint>
#include <span>

#include "bulwark/crypto/hash.hpp"
#include "bulwark/result.hpp"

namespace bulwark::crypto {

// A keyed HMAC. The key is absorbed once at create(): the inner and outer padded-key states
// are kept (inline, no allocation), so reset() starts a new message without re-keying, and a
// const Hmac computes one-shot MACs with mac() (HKDF-Expand and the TLS 1.2 PRF compute many
// MACs under one key). Move-only; the states are wiped when it goes away.
class Hmac {
 public:
  // Any key length is allowed; keys longer than the block size are hashed first (RFC 2104 §2).
  static Result<Hmac> create(HashAlg alg, std::span<const std::uint8_t> key);
  // The same, built in place (keying cannot fail): for an unknown `alg` the Hmac is unkeyed and
  // every call returns `invalid_argument`.
  Hmac(HashAlg alg, std::span<const std::uint8_t> key) noexcept;

  Hmac(Hmac&& other) noexcept;
  Hmac& operator=(Hmac&& other) noexcept;
  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;
  ~Hmac();

  HashAlg alg() const noexcept { return alg_; }
  std::size_t size() const noexcept { return digest_length(alg_); }

  Status update(std::span<const std::uint8_t> data) noexcept;
  // The MAC of everything since create() or the last reset(). Afterwards only reset() is
  // accepted.
  Result<Digest> final() noexcept;
  // Ready for a new message under the same key.
  Status reset() noexcept;

  // HMAC(key, data) in one call, leaving the incremental message alone.
  Result<Digest> mac(std::span<const std::uint8_t> data) const noexcept;

 private:
  explicit Hmac(HashAlg alg) noexcept : alg_(alg) {}
  void wipe() noexcept;

  HashAlg alg_;
  detail::ShaState inner_;  // state after absorbing key ^ ipad
  detail::ShaState outer_;  // state after absorbing key ^ opad
  detail::ShaState work_;   // the message being MACed
  bool keyed_ = false;      // false once moved from
  bool finished_ = false;
};

// One-shot HMAC(key, data).
Result<Digest> hmac(HashAlg alg, std::span<const std::uint8_t> key,
                    std::span<const std::uint8_t> data);

}  // namespace bulwark::crypto
