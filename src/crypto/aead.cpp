#include "bulwark/crypto/aead.hpp"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>

#include "bulwark/crypto/secret.hpp"
#include "crypto/ossl.hpp"

namespace bulwark::crypto {

namespace detail {
void CipherCtxFree::operator()(EVP_CIPHER_CTX* ctx) const noexcept {
  EVP_CIPHER_CTX_free(ctx);
}
}  // namespace detail

namespace {

// Fetched once per process (thread-safe static initialisation), never per record.
const EVP_CIPHER* fetched_cipher(AeadAlg alg) noexcept {
  switch (alg) {
    case AeadAlg::aes_128_gcm: {
      static const ossl::CipherPtr c(EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr));
      return c.get();
    }
    case AeadAlg::aes_256_gcm: {
      static const ossl::CipherPtr c(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
      return c.get();
    }
    case AeadAlg::chacha20_poly1305: {
      static const ossl::CipherPtr c(EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr));
      return c.get();
    }
  }
  return nullptr;
}

constexpr int encrypt = 1;
constexpr int decrypt = 0;

// EVP_CipherUpdate counts in int; feed larger inputs in pieces (out == in, or no overlap).
bool cipher_update(EVP_CIPHER_CTX* ctx, std::uint8_t* out,
                   std::span<const std::uint8_t> in) noexcept {
  constexpr std::size_t chunk = std::size_t{1} << 30;
  int written = 0;
  if (in.size() <= chunk) {  // every record: one call
    return in.empty() ||
           EVP_CipherUpdate(ctx, out, &written, in.data(), static_cast<int>(in.size())) == 1;
  }
  while (!in.empty()) {
    const std::size_t n = std::min(in.size(), chunk);
    if (EVP_CipherUpdate(ctx, out, &written, in.data(), static_cast<int>(n)) != 1) return false;
    if (out != nullptr) out += n;
    in = in.subspan(n);
  }
  return true;
}

// The tag parameter, built in place (no OSSL_PARAM_construct_* calls per record).
bool set_tag(EVP_CIPHER_CTX* ctx, std::span<const std::uint8_t> tag) noexcept {
  OSSL_PARAM params[2] = {
      {OSSL_CIPHER_PARAM_AEAD_TAG, OSSL_PARAM_OCTET_STRING, const_cast<std::uint8_t*>(tag.data()),
       tag.size(), OSSL_PARAM_UNMODIFIED},
      OSSL_PARAM_END};
  return EVP_CIPHER_CTX_set_params(ctx, params) == 1;
}

bool get_tag(EVP_CIPHER_CTX* ctx, std::span<std::uint8_t> tag) noexcept {
  OSSL_PARAM params[2] = {{OSSL_CIPHER_PARAM_AEAD_TAG, OSSL_PARAM_OCTET_STRING, tag.data(),
                           tag.size(), OSSL_PARAM_UNMODIFIED},
                          OSSL_PARAM_END};
  return EVP_CIPHER_CTX_get_params(ctx, params) == 1;
}

}  // namespace

std::string_view aead_name(AeadAlg alg) noexcept {
  switch (alg) {
    case AeadAlg::aes_128_gcm:
      return "AES-128-GCM";
    case AeadAlg::aes_256_gcm:
      return "AES-256-GCM";
    case AeadAlg::chacha20_poly1305:
      return "ChaCha20-Poly1305";
  }
  return "unknown";
}

Result<Aead> Aead::create(AeadAlg alg, std::span<const std::uint8_t> key) {
  const std::size_t key_len = aead_key_length(alg);
  if (key_len == 0) return Error(Errc::invalid_argument, "unknown AEAD algorithm");
  if (key.size() != key_len) return Error(Errc::invalid_argument, "wrong AEAD key length");
  const EVP_CIPHER* cipher = fetched_cipher(alg);
  if (cipher == nullptr) return ossl::failure(Errc::unsupported, "AEAD not available");
  Aead aead(alg, EVP_CIPHER_CTX_new());
  // The key schedule is computed here, once; the direction is chosen per operation.
  if (!aead.ctx_ ||
      EVP_CipherInit_ex2(aead.ctx_.get(), cipher, key.data(), nullptr, encrypt, nullptr) != 1) {
    return ossl::failure(Errc::crypto_failure, "AEAD key setup failed");
  }
  return aead;
}

Status Aead::rekey(std::span<const std::uint8_t> key) noexcept {
  if (!ctx_ || key.size() != key_length()) return Errc::invalid_argument;
  // cipher == nullptr keeps the fetched algorithm and its provider context; only the key
  // schedule is recomputed (over the old one).
  if (EVP_CipherInit_ex2(ctx_.get(), nullptr, key.data(), nullptr, encrypt, nullptr) != 1) {
    return ossl::failure(Errc::crypto_failure, "AEAD re-key failed");
  }
  return {};
}

Status Aead::seal(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                  std::span<std::uint8_t> inout, std::span<std::uint8_t> tag_out) noexcept {
  return seal_to(nonce, aad, inout, {}, inout, tag_out);
}

Status Aead::seal_to(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                     std::span<const std::uint8_t> head, std::span<const std::uint8_t> tail,
                     std::span<std::uint8_t> out, std::span<std::uint8_t> tag_out) noexcept {
  if (!ctx_ || nonce.size() != nonce_length() || tag_out.size() != tag_length() ||
      out.size() != head.size() + tail.size()) {
    return Errc::invalid_argument;
  }
  EVP_CIPHER_CTX* ctx = ctx_.get();
  std::array<std::uint8_t, 16> no_output;  // GCM and ChaCha20-Poly1305 finals emit nothing
  int final_len = 0;
  // key == nullptr keeps the key schedule; only the nonce is installed.
  if (EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce.data(), encrypt, nullptr) != 1 ||
      !cipher_update(ctx, nullptr, aad) || !cipher_update(ctx, out.data(), head) ||
      !cipher_update(ctx, out.data() + head.size(), tail) ||
      EVP_CipherFinal_ex(ctx, no_output.data(), &final_len) != 1 || !get_tag(ctx, tag_out)) {
    return ossl::failure(Errc::crypto_failure, "AEAD seal failed");
  }
  return {};
}

Status Aead::open(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                  std::span<std::uint8_t> inout, std::span<const std::uint8_t> tag) noexcept {
  return open_to(nonce, aad, inout, inout, {}, tag);
}

Status Aead::open_to(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                     std::span<const std::uint8_t> ciphertext, std::span<std::uint8_t> out,
                     std::span<std::uint8_t> out_tail, std::span<const std::uint8_t> tag) noexcept {
  if (!ctx_ || nonce.size() != nonce_length() || tag.size() != tag_length() ||
      out.size() + out_tail.size() != ciphertext.size()) {
    return Errc::invalid_argument;
  }
  EVP_CIPHER_CTX* ctx = ctx_.get();
  if (EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce.data(), decrypt, nullptr) != 1 ||
      !set_tag(ctx, tag) || !cipher_update(ctx, nullptr, aad) ||
      !cipher_update(ctx, out.data(), ciphertext.first(out.size())) ||
      !cipher_update(ctx, out_tail.data(), ciphertext.subspan(out.size()))) {
    wipe(out);
    wipe(out_tail);
    return ossl::failure(Errc::crypto_failure, "AEAD open failed");
  }
  std::array<std::uint8_t, 16> no_output;
  int final_len = 0;
  if (EVP_CipherFinal_ex(ctx, no_output.data(), &final_len) != 1) {
    // RFC 5116 §2.2: an inauthentic ciphertext yields FAIL and no plaintext, so the bytes
    // decrypted are wiped rather than left for a careless caller.
    wipe(out);
    wipe(out_tail);
    ERR_clear_error();
    return Errc::bad_record_mac;
  }
  return {};
}

Status Aead::seal_appended(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                           std::span<std::uint8_t> buf) noexcept {
  if (buf.size() < tag_length()) return Errc::invalid_argument;
  const std::size_t text_len = buf.size() - tag_length();
  return seal(nonce, aad, buf.first(text_len), buf.subspan(text_len));
}

Result<std::size_t> Aead::open_appended(std::span<const std::uint8_t> nonce,
                                        std::span<const std::uint8_t> aad,
                                        std::span<std::uint8_t> ciphertext_and_tag) noexcept {
  if (!ctx_ || nonce.size() != nonce_length()) return Errc::invalid_argument;
  if (ciphertext_and_tag.size() < tag_length()) {
    wipe(ciphertext_and_tag);
    return Errc::bad_record_mac;
  }
  const std::size_t text_len = ciphertext_and_tag.size() - tag_length();
  const auto text = ciphertext_and_tag.first(text_len);
  const auto tag = ciphertext_and_tag.subspan(text_len);
  if (auto st = open(nonce, aad, text, tag); !st) {
    if (st.error() == Errc::bad_record_mac) wipe(tag);
    return std::move(st).error();
  }
  return text_len;
}

}  // namespace bulwark::crypto
