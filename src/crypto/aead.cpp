#include "bulwark/crypto/aead.hpp"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "bulwark/crypto/secret.hpp"
#include "crypto/ossl.hpp"
#include "crypto/provider_table.hpp"

namespace bulwark::crypto {

namespace detail {

// What EVP_CIPHER_fetch would call through an EVP_CIPHER_CTX: the provider's own functions
// (provider-cipher(7)). EVP_CipherInit_ex2 asks the provider for the IV length on every call
// (an OSSL_PARAM query of eight name look-ups in 3.0), which was 11 % of sealing and opening
// a 1 KiB record; calling the provider directly skips that and EVP's other per-call checks.
struct AeadProvider {
  void* provctx = nullptr;
  OSSL_FUNC_cipher_newctx_fn* newctx = nullptr;
  OSSL_FUNC_cipher_freectx_fn* freectx = nullptr;
  OSSL_FUNC_cipher_encrypt_init_fn* einit = nullptr;
  OSSL_FUNC_cipher_decrypt_init_fn* dinit = nullptr;
  OSSL_FUNC_cipher_update_fn* update = nullptr;
  OSSL_FUNC_cipher_final_fn* final = nullptr;
  OSSL_FUNC_cipher_get_ctx_params_fn* get_ctx_params = nullptr;
  OSSL_FUNC_cipher_set_ctx_params_fn* set_ctx_params = nullptr;

  bool complete() const noexcept {
    return provctx != nullptr && newctx != nullptr && freectx != nullptr && einit != nullptr &&
           dinit != nullptr && update != nullptr && final != nullptr && get_ctx_params != nullptr &&
           set_ctx_params != nullptr;
  }
};

}  // namespace detail

namespace {

// The functions of the implementation EVP_CIPHER_fetch chose, from its provider's table of
// cipher algorithms: the provider's first entry for that algorithm (the default and FIPS
// providers have one each).
detail::AeadProvider provider_functions(const EVP_CIPHER* cipher) {
  detail::AeadProvider p;
  const OSSL_PROVIDER* prov = EVP_CIPHER_get0_provider(cipher);
  if (prov == nullptr) return p;
  p.provctx = OSSL_PROVIDER_get0_provider_ctx(prov);
  ossl::take_functions(
      prov, OSSL_OP_CIPHER, [&](const char* name) { return EVP_CIPHER_is_a(cipher, name) == 1; },
      [&](const OSSL_DISPATCH& f) {
        switch (f.function_id) {
          case OSSL_FUNC_CIPHER_NEWCTX:
            p.newctx = OSSL_FUNC_cipher_newctx(&f);
            break;
          case OSSL_FUNC_CIPHER_FREECTX:
            p.freectx = OSSL_FUNC_cipher_freectx(&f);
            break;
          case OSSL_FUNC_CIPHER_ENCRYPT_INIT:
            p.einit = OSSL_FUNC_cipher_encrypt_init(&f);
            break;
          case OSSL_FUNC_CIPHER_DECRYPT_INIT:
            p.dinit = OSSL_FUNC_cipher_decrypt_init(&f);
            break;
          case OSSL_FUNC_CIPHER_UPDATE:
            p.update = OSSL_FUNC_cipher_update(&f);
            break;
          case OSSL_FUNC_CIPHER_FINAL:
            p.final = OSSL_FUNC_cipher_final(&f);
            break;
          case OSSL_FUNC_CIPHER_GET_CTX_PARAMS:
            p.get_ctx_params = OSSL_FUNC_cipher_get_ctx_params(&f);
            break;
          case OSSL_FUNC_CIPHER_SET_CTX_PARAMS:
            p.set_ctx_params = OSSL_FUNC_cipher_set_ctx_params(&f);
            break;
          default:
            break;
        }
      });
  return p;
}

// Looked up once per process (thread-safe static initialisation), never per record. The
// fetched EVP_CIPHER is kept for the life of the process: it holds its provider loaded, so
// the function pointers stay valid.
struct Fetched {
  ossl::CipherPtr cipher;
  detail::AeadProvider functions;

  explicit Fetched(std::string_view name)
      : cipher(EVP_CIPHER_fetch(nullptr, std::string(name).c_str(), nullptr)) {
    if (cipher) functions = provider_functions(cipher.get());
  }
  const detail::AeadProvider* get() const noexcept {
    return cipher && functions.complete() ? &functions : nullptr;
  }
};

const detail::AeadProvider* provider_for(AeadAlg alg) {
  switch (alg) {
    case AeadAlg::aes_128_gcm: {
      static const Fetched f(aead_name(alg));
      return f.get();
    }
    case AeadAlg::aes_256_gcm: {
      static const Fetched f(aead_name(alg));
      return f.get();
    }
    case AeadAlg::chacha20_poly1305: {
      static const Fetched f(aead_name(alg));
      return f.get();
    }
  }
  return nullptr;
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
  const detail::AeadProvider* provider = provider_for(alg);
  if (provider == nullptr) return ossl::failure(Errc::unsupported, "AEAD not available");
  Aead aead(alg, provider, provider->newctx(provider->provctx));
  // The key schedule is computed here, once; the direction is chosen per operation.
  if (aead.ctx_ == nullptr ||
      provider->einit(aead.ctx_, key.data(), key.size(), nullptr, 0, nullptr) != 1) {
    return ossl::failure(Errc::crypto_failure, "AEAD key setup failed");
  }
  return aead;
}

Aead::Aead(Aead&& other) noexcept
    : alg_(other.alg_),
      provider_(std::exchange(other.provider_, nullptr)),
      ctx_(std::exchange(other.ctx_, nullptr)) {}

Aead& Aead::operator=(Aead&& other) noexcept {
  if (this != &other) {
    if (ctx_ != nullptr) provider_->freectx(ctx_);
    alg_ = other.alg_;
    provider_ = std::exchange(other.provider_, nullptr);
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

// The provider's freectx wipes the key schedule before freeing it.
Aead::~Aead() {
  if (ctx_ != nullptr) provider_->freectx(ctx_);
}

Status Aead::rekey(std::span<const std::uint8_t> key) noexcept {
  if (ctx_ == nullptr || key.size() != key_length()) return Errc::invalid_argument;
  // Same provider context: only the key schedule is recomputed (over the old one).
  if (provider_->einit(ctx_, key.data(), key.size(), nullptr, 0, nullptr) != 1) {
    return ossl::failure(Errc::crypto_failure, "AEAD re-key failed");
  }
  return {};
}

// A key of nullptr keeps the key schedule; only the nonce is installed, with the direction.
bool Aead::begin(std::span<const std::uint8_t> nonce, bool encrypt) noexcept {
  auto* init = encrypt ? provider_->einit : provider_->dinit;
  return init(ctx_, nullptr, 0, nonce.data(), nonce.size(), nullptr) == 1;
}

// Additional data when out is null (the providers' convention, as through EVP_CipherUpdate).
bool Aead::update(std::uint8_t* out, std::span<const std::uint8_t> in) noexcept {
  std::size_t written = 0;
  return in.empty() || provider_->update(ctx_, out, &written, in.size(), in.data(), in.size()) == 1;
}

// GCM and ChaCha20-Poly1305 finals emit no bytes; opening, the final checks the tag.
bool Aead::finish() noexcept {
  std::array<std::uint8_t, 16> no_output;
  std::size_t written = 0;
  return provider_->final(ctx_, no_output.data(), &written, no_output.size()) == 1;
}

// The tag parameter, built in place (no OSSL_PARAM_construct_* calls per record).
bool Aead::get_tag(std::span<std::uint8_t> tag) noexcept {
  OSSL_PARAM params[2] = {{OSSL_CIPHER_PARAM_AEAD_TAG, OSSL_PARAM_OCTET_STRING, tag.data(),
                           tag.size(), OSSL_PARAM_UNMODIFIED},
                          OSSL_PARAM_END};
  return provider_->get_ctx_params(ctx_, params) == 1;
}

bool Aead::set_tag(std::span<const std::uint8_t> tag) noexcept {
  OSSL_PARAM params[2] = {
      {OSSL_CIPHER_PARAM_AEAD_TAG, OSSL_PARAM_OCTET_STRING, const_cast<std::uint8_t*>(tag.data()),
       tag.size(), OSSL_PARAM_UNMODIFIED},
      OSSL_PARAM_END};
  return provider_->set_ctx_params(ctx_, params) == 1;
}

Status Aead::seal(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                  std::span<std::uint8_t> inout, std::span<std::uint8_t> tag_out) noexcept {
  return seal_to(nonce, aad, inout, {}, inout, tag_out);
}

Status Aead::seal_to(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                     std::span<const std::uint8_t> head, std::span<const std::uint8_t> tail,
                     std::span<std::uint8_t> out, std::span<std::uint8_t> tag_out) noexcept {
  if (ctx_ == nullptr || nonce.size() != nonce_length() || tag_out.size() != tag_length() ||
      out.size() != head.size() + tail.size()) {
    return Errc::invalid_argument;
  }
  if (!begin(nonce, true) || !update(nullptr, aad) || !update(out.data(), head) ||
      !update(out.data() + head.size(), tail) || !finish() || !get_tag(tag_out)) {
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
  if (ctx_ == nullptr || nonce.size() != nonce_length() || tag.size() != tag_length() ||
      out.size() + out_tail.size() != ciphertext.size()) {
    return Errc::invalid_argument;
  }
  if (!begin(nonce, false) || !set_tag(tag) || !update(nullptr, aad) ||
      !update(out.data(), ciphertext.first(out.size())) ||
      !update(out_tail.data(), ciphertext.subspan(out.size()))) {
    wipe(out);
    wipe(out_tail);
    return ossl::failure(Errc::crypto_failure, "AEAD open failed");
  }
  if (!finish()) {
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
  if (ctx_ == nullptr || nonce.size() != nonce_length()) return Errc::invalid_argument;
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
