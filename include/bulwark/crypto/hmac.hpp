// HMAC (RFC 2104) over the SHA-2 family (and SHA-1 for legacy protocols).
#pragma once

#include <cstdint>
#include <span>

#include "bulwark/crypto/hash.hpp"
#include "bulwark/result.hpp"

namespace bulwark::crypto {

// A keyed HMAC. The key is absorbed once at create(): the inner and outer padded-key states
// are kept, so reset() starts a new message without re-keying (HKDF-Expand and the TLS 1.2
// PRF compute many MACs under one key). Move-only.
class Hmac {
 public:
  // Any key length is allowed; keys longer than the block size are hashed first (RFC 2104 §2).
  static Result<Hmac> create(HashAlg alg, std::span<const std::uint8_t> key);

  Hmac(Hmac&&) noexcept = default;
  Hmac& operator=(Hmac&&) noexcept = default;
  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;
  ~Hmac() = default;

  HashAlg alg() const noexcept { return alg_; }
  std::size_t size() const noexcept { return digest_length(alg_); }

  Status update(std::span<const std::uint8_t> data) noexcept;
  // The MAC of everything since create() or the last reset(). Afterwards only reset() is
  // accepted.
  Result<Digest> final() noexcept;
  // Ready for a new message under the same key.
  Status reset() noexcept;

 private:
  Hmac(HashAlg alg, detail::MdCtxHandle inner, detail::MdCtxHandle outer,
       detail::MdCtxHandle work) noexcept
      : alg_(alg), inner_(std::move(inner)), outer_(std::move(outer)), work_(std::move(work)) {}

  HashAlg alg_;
  detail::MdCtxHandle inner_;  // state after absorbing key ^ ipad
  detail::MdCtxHandle outer_;  // state after absorbing key ^ opad
  detail::MdCtxHandle work_;   // the message being MACed
  bool finished_ = false;
};

// One-shot HMAC(key, data).
Result<Digest> hmac(HashAlg alg, std::span<const std::uint8_t> key,
                    std::span<const std::uint8_t> data);

}  // namespace bulwark::crypto
