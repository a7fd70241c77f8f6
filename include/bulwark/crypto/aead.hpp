// AEAD ciphers for record protection: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "bulwark/result.hpp"

namespace bulwark::crypto {

enum class AeadAlg : std::uint8_t { aes_128_gcm, aes_256_gcm, chacha20_poly1305 };

constexpr std::size_t aead_key_length(AeadAlg alg) noexcept {
  switch (alg) {
    case AeadAlg::aes_128_gcm:
      return 16;
    case AeadAlg::aes_256_gcm:
      return 32;
    case AeadAlg::chacha20_poly1305:
      return 32;
  }
  return 0;
}
// All three take a 96-bit nonce (RFC 5116 §5.1, RFC 8439 §2.8) and give a 128-bit tag.
constexpr std::size_t aead_nonce_length(AeadAlg) noexcept {
  return 12;
}
constexpr std::size_t aead_tag_length(AeadAlg) noexcept {
  return 16;
}

std::string_view aead_name(AeadAlg alg) noexcept;  // "AES-128-GCM", ...

namespace detail {
// The provider's cipher functions for one algorithm, looked up once per process (aead.cpp).
struct AeadProvider;
}  // namespace detail

// One key, ready to seal and open. The key schedule is set up once in create(); each
// operation only installs the nonce, so the per-record path neither fetches nor allocates.
// It calls the functions of the provider that EVP_CIPHER_fetch chose (provider-cipher(7)),
// as EVP does, without the parameter queries EVP makes on every call (DECISIONS.md).
// seal/open work in place; seal_to/open_to read one buffer and write another (one copy less
// for a record layer that seals from the caller's data or opens into its own buffer). The
// same object may both seal and open. Move-only; a
// moved-from Aead refuses every operation with `invalid_argument`. Not for concurrent use.
class Aead {
 public:
  // `invalid_argument` unless key.size() == aead_key_length(alg).
  static Result<Aead> create(AeadAlg alg, std::span<const std::uint8_t> key);

  Aead(Aead&& other) noexcept;
  Aead& operator=(Aead&& other) noexcept;
  Aead(const Aead&) = delete;
  Aead& operator=(const Aead&) = delete;
  ~Aead();

  // Installs a new key of the same algorithm in this context (no allocation, no provider
  // set-up: a TLS 1.3 key change). `invalid_argument` unless key.size() == key_length().
  Status rekey(std::span<const std::uint8_t> key) noexcept;

  AeadAlg alg() const noexcept { return alg_; }
  std::size_t key_length() const noexcept { return aead_key_length(alg_); }
  std::size_t nonce_length() const noexcept { return aead_nonce_length(alg_); }
  std::size_t tag_length() const noexcept { return aead_tag_length(alg_); }

  // Encrypts `inout` in place and writes the tag. Wrong nonce or tag_out size:
  // `invalid_argument`.
  Status seal(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
              std::span<std::uint8_t> inout, std::span<std::uint8_t> tag_out) noexcept;
  // Decrypts `inout` in place and checks the tag. On authentication failure returns
  // `bad_record_mac` and wipes `inout`, so no unauthenticated plaintext is left behind.
  // Wrong nonce or tag size: `invalid_argument`.
  Status open(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
              std::span<std::uint8_t> inout, std::span<const std::uint8_t> tag) noexcept;

  // Out of place: encrypts `head` then `tail` (tail may be empty; TLS 1.3 puts the inner
  // content type there) into `out`, which must be head.size() + tail.size() bytes and must not
  // overlap the input except exactly (out.data() == head.data() is in place). Wrong nonce, tag
  // or out size: `invalid_argument`.
  Status seal_to(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                 std::span<const std::uint8_t> head, std::span<const std::uint8_t> tail,
                 std::span<std::uint8_t> out, std::span<std::uint8_t> tag_out) noexcept;
  // Out of place: decrypts `ciphertext` into `out` then `out_tail` (together the same size
  // as the ciphertext, not overlapping it unless out is identical to it; out_tail may be
  // empty) and checks the tag. On authentication failure returns `bad_record_mac` and wipes
  // both. Wrong nonce, tag or out sizes: `invalid_argument`.
  Status open_to(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                 std::span<const std::uint8_t> ciphertext, std::span<std::uint8_t> out,
                 std::span<std::uint8_t> out_tail, std::span<const std::uint8_t> tag) noexcept;

  // For records whose tag follows the text: the last tag_length() bytes of `buf` receive the
  // tag, the bytes before them are encrypted. `invalid_argument` if buf is shorter than a tag.
  Status seal_appended(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                       std::span<std::uint8_t> buf) noexcept;
  // Opens ciphertext || tag in place and returns the plaintext length (the plaintext is the
  // start of the buffer). Input shorter than a tag cannot be authentic: `bad_record_mac`. On
  // `bad_record_mac` the whole buffer is wiped.
  Result<std::size_t> open_appended(std::span<const std::uint8_t> nonce,
                                    std::span<const std::uint8_t> aad,
                                    std::span<std::uint8_t> ciphertext_and_tag) noexcept;

 private:
  Aead(AeadAlg alg, const detail::AeadProvider* provider, void* ctx) noexcept
      : alg_(alg), provider_(provider), ctx_(ctx) {}
  bool begin(std::span<const std::uint8_t> nonce, bool encrypt) noexcept;
  bool update(std::uint8_t* out, std::span<const std::uint8_t> in) noexcept;
  bool finish() noexcept;
  bool get_tag(std::span<std::uint8_t> tag) noexcept;
  bool set_tag(std::span<const std::uint8_t> tag) noexcept;

  AeadAlg alg_;
  const detail::AeadProvider* provider_ = nullptr;
  void* ctx_ = nullptr;  // the provider's cipher context (its key schedule), freed with it
};

}  // namespace bulwark::crypto
