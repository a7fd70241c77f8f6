// Randomness comes through one injectable source, so transcripts can be replayed byte for
// byte and fuzzers run deterministically.
#pragma once

#include <cstdint>
#include <span>

#include "bulwark/crypto/secret.hpp"
#include "bulwark/result.hpp"

namespace bulwark::crypto {

class Random {
 public:
  virtual ~Random() = default;
  // Fills `out` with random bytes; fails only if the underlying generator does.
  virtual Status fill(std::span<std::uint8_t> out) noexcept = 0;
};

// The operating system's CSPRNG through OpenSSL's RAND_bytes. The default everywhere.
class SystemRandom final : public Random {
 public:
  Status fill(std::span<std::uint8_t> out) noexcept override;
  // A process-wide instance.
  static SystemRandom& instance() noexcept;
};

// Deterministic bytes: SHA-256(seed || counter) blocks. For tests, transcript replay and
// fuzzing only: it is predictable by construction.
class DeterministicRandom final : public Random {
 public:
  explicit DeterministicRandom(std::span<const std::uint8_t> seed);
  Status fill(std::span<std::uint8_t> out) noexcept override;

 private:
  Secret seed_;
  std::uint64_t counter_ = 0;
};

// Plays back fixed bytes in order (e.g. the random values of an RFC 8448 transcript), then
// fails with `invalid_argument` when exhausted.
class FixedRandom final : public Random {
 public:
  explicit FixedRandom(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  Status fill(std::span<std::uint8_t> out) noexcept override;

 private:
  std::span<const std::uint8_t> bytes_;
};

}  // namespace bulwark::crypto
