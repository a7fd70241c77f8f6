// Message digests (SHA-2, and SHA-1 for legacy uses only) and the TLS handshake transcript.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "bulwark/crypto/secret.hpp"
#include "bulwark/result.hpp"

namespace bulwark::crypto {

enum class HashAlg : std::uint8_t {
  sha256,
  sha384,
  sha512,
  // Legacy only (HMAC-SHA1 in old SSH/IPsec suites, certificate fingerprints). Never for new
  // signatures, TLS 1.2 PRF or TLS 1.3.
  sha1,
};

inline constexpr std::size_t max_digest_length = 64;

constexpr std::size_t digest_length(HashAlg alg) noexcept {
  switch (alg) {
    case HashAlg::sha256:
      return 32;
    case HashAlg::sha384:
      return 48;
    case HashAlg::sha512:
      return 64;
    case HashAlg::sha1:
      return 20;
  }
  return 0;
}

// The compression function's input block size (HMAC pads its key to this length).
constexpr std::size_t block_length(HashAlg alg) noexcept {
  switch (alg) {
    case HashAlg::sha256:
      return 64;
    case HashAlg::sha384:
      return 128;
    case HashAlg::sha512:
      return 128;
    case HashAlg::sha1:
      return 64;
  }
  return 0;
}

std::string_view hash_name(HashAlg alg) noexcept;  // "SHA-256", "SHA-384", ...

// A digest or MAC value held inline (no heap allocation), wiped when it goes away because
// HMAC outputs are often keys.
struct Digest {
  std::array<std::uint8_t, max_digest_length> bytes{};
  std::size_t size = 0;

  Digest() noexcept = default;
  Digest(const Digest&) noexcept = default;
  Digest& operator=(const Digest&) noexcept = default;
  Digest(Digest&&) noexcept = default;
  Digest& operator=(Digest&&) noexcept = default;
  ~Digest() { wipe(bytes); }

  std::span<const std::uint8_t> span() const noexcept { return {bytes.data(), size}; }
  operator std::span<const std::uint8_t>() const noexcept { return span(); }  // NOLINT

  // Constant time: digests are compared against values received from a peer.
  friend bool operator==(const Digest& a, const Digest& b) noexcept {
    return constant_time_equal(a.span(), b.span());
  }
};

namespace detail {
// A SHA-1 or SHA-2 state held inline, run by libcrypto's SHA functions without EVP: no
// provider dispatch per call and no allocation, and a copy is a plain copy (HMAC keeps its
// keyed inner and outer states this way; EVP_MD_CTX_copy_ex allocates). The block functions
// are the ones EVP's default provider runs (SHA-NI or AVX2 assembly). sha_state.cpp is the
// one file that calls libcrypto's deprecated SHA interface (DECISIONS.md).
class ShaState {
 public:
  // Bytes for a SHA_CTX, SHA256_CTX or SHA512_CTX (SHA-384 too); sha_state.cpp checks each.
  static constexpr std::size_t storage_size = 216;

  void init(HashAlg alg) noexcept;
  void update(std::span<const std::uint8_t> data) noexcept;
  // Writes digest_length(alg()) bytes to `out`; the state is then wiped (init() starts again).
  void final(std::uint8_t* out) noexcept;
  void wipe() noexcept;
  HashAlg alg() const noexcept { return alg_; }

 private:
  HashAlg alg_ = HashAlg::sha256;
  alignas(8) std::array<unsigned char, storage_size> s_{};
};
}  // namespace detail

// An incremental hash, held inline (no allocation). Move-only; copy() takes an independent
// snapshot.
class Hash {
 public:
  static Result<Hash> create(HashAlg alg);

  Hash(Hash&&) noexcept = default;
  Hash& operator=(Hash&&) noexcept = default;
  Hash(const Hash&) = delete;
  Hash& operator=(const Hash&) = delete;
  ~Hash() { state_.wipe(); }  // a Hash may have absorbed a secret (a long HMAC key)

  HashAlg alg() const noexcept { return alg_; }
  std::size_t size() const noexcept { return digest_length(alg_); }

  Status update(std::span<const std::uint8_t> data) noexcept;
  // Writes the digest into the first size() bytes of `out` (which must be at least that
  // long). Afterwards the Hash accepts nothing but reset().
  Status final(std::span<std::uint8_t> out) noexcept;
  Result<Digest> final() noexcept;
  // Starts over, as if just created.
  Status reset() noexcept;

  // An independent copy of the current state.
  Result<Hash> copy() const;
  // The digest of everything hashed so far; this Hash carries on unchanged.
  Result<Digest> peek() const;

 private:
  explicit Hash(HashAlg alg) noexcept : alg_(alg) { state_.init(alg); }

  HashAlg alg_;
  detail::ShaState state_;
  bool finished_ = false;
};

// One-shot digest.
Result<Digest> hash(HashAlg alg, std::span<const std::uint8_t> data);

// The TLS handshake transcript (RFC 8446 §4.4.1, RFC 5246 §7.4.9). A client does not know the
// hash until the ServerHello, so a Transcript may start unbound and buffer the messages; bind()
// hashes what was buffered and from then on messages are hashed as they come.
class Transcript {
 public:
  Transcript() noexcept = default;                // unbound
  static Result<Transcript> create(HashAlg alg);  // bound from the start

  Transcript(Transcript&&) noexcept = default;
  Transcript& operator=(Transcript&&) noexcept = default;
  Transcript(const Transcript&) = delete;
  Transcript& operator=(const Transcript&) = delete;

  bool bound() const noexcept { return hash_ != nullptr; }
  std::optional<HashAlg> alg() const noexcept;

  // Fixes the hash. `invalid_argument` if already bound.
  Status bind(HashAlg alg);
  // Appends a complete handshake message (header included).
  Status update(std::span<const std::uint8_t> message);
  // Transcript-Hash of the messages so far, without finalising. `invalid_argument` if unbound.
  Result<Digest> current() const;
  // Transcript-Hash of the messages so far and `next`, which is not added.
  Result<Digest> current_with(std::span<const std::uint8_t> next) const;
  // RFC 8446 §4.4.1 HelloRetryRequest rule: the transcript so far (ClientHello1) is replaced by
  // the synthetic message_hash message: 254 || 00 00 Hash.length || Hash(ClientHello1).
  // `invalid_argument` if unbound.
  Status replace_with_message_hash();

 private:
  // On the heap: a handshake object keeps its (released) Transcript for the connection's life.
  std::unique_ptr<Hash> hash_;
  std::vector<std::uint8_t> pending_;  // messages received while unbound
};

}  // namespace bulwark::crypto
