// Ephemeral (EC)DHE key shares for TLS 1.3 / 1.2: X25519, P-256, P-384.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "bulwark/crypto/random.hpp"
#include "bulwark/crypto/secret.hpp"
#include "bulwark/result.hpp"

namespace bulwark::crypto {

// IANA TLS NamedGroup code points, so the TLS layer can cast the wire value. Values received
// from the wire may be anything: every function here answers `unsupported` for the others.
enum class Group : std::uint16_t {
  secp256r1 = 0x0017,
  secp384r1 = 0x0018,
  x25519 = 0x001d,
};

// "x25519", "secp256r1", "secp384r1"; "unknown" for anything else.
std::string_view group_name(Group group) noexcept;
bool group_supported(Group group) noexcept;
// Size of a key_exchange value on the wire: 32 for X25519, 65 / 97 for the uncompressed
// P-256 / P-384 point; 0 for unsupported groups.
std::size_t public_value_size(Group group) noexcept;
// Size of the private key / scalar: 32 for X25519 and P-256, 48 for P-384; 0 if unsupported.
std::size_t private_value_size(Group group) noexcept;

// One side's ephemeral key pair. Move-only: the private half is never copied.
class KeyShare {
 public:
  static constexpr std::size_t kMaxPublicValueSize = 97;

  // A fresh key pair whose private key is drawn from `rng` (X25519: 32 bytes; P-256/P-384:
  // a scalar in [1, n-1] by rejection sampling), so transcripts replay and fuzzers are
  // deterministic with a DeterministicRandom.
  static Result<KeyShare> generate(Group group, Random& rng);
  // A key pair from a known private value (test vectors, transcript replay). X25519: 32 bytes
  // (clamped by X25519 itself); EC: the big-endian scalar, exactly private_value_size bytes,
  // in [1, n-1] (`invalid_key` otherwise). A wrong size is `invalid_argument`.
  static Result<KeyShare> from_private(Group group, std::span<const std::uint8_t> private_bytes);

  KeyShare(KeyShare&&) noexcept;
  KeyShare& operator=(KeyShare&&) noexcept;
  KeyShare(const KeyShare&) = delete;
  KeyShare& operator=(const KeyShare&) = delete;
  ~KeyShare();

  Group group() const noexcept { return group_; }
  // What goes into KeyShareEntry.key_exchange: X25519 u-coordinate (32 bytes) or the
  // uncompressed point 0x04 || X || Y (RFC 8446 §4.2.8.2).
  std::span<const std::uint8_t> public_value() const noexcept {
    return std::span<const std::uint8_t>(public_.data(), public_len_);
  }
  // The shared secret with the peer's key_exchange value: X25519 output (32 bytes) or the
  // ECDH X coordinate (32 / 48 bytes, RFC 8446 §7.4.2). `invalid_public_value` when the peer
  // value has the wrong length or form, is not on the curve, or (X25519) yields all zeros.
  Result<Secret> derive(std::span<const std::uint8_t> peer_public) const;

 private:
  struct X25519KeyFree {
    void operator()(void* key) const noexcept;
  };

  explicit KeyShare(Group group) noexcept : group_(group) {}
  Result<Secret> derive_x25519(std::span<const std::uint8_t> peer_public) const;
  Result<Secret> derive_ec(std::span<const std::uint8_t> peer_public) const;

  Group group_;
  std::uint8_t public_len_ = 0;
  std::array<std::uint8_t, kMaxPublicValueSize> public_{};
  Secret ec_scalar_;  // P-256 / P-384: big-endian private scalar
  // X25519: the private key, as its provider's key data (the public value is in public_).
  std::unique_ptr<void, X25519KeyFree> x25519_;
};

}  // namespace bulwark::crypto
