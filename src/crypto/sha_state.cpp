// detail::ShaState on libcrypto's SHA functions (SHA256_Init/Update/Final), which OpenSSL 3.0
// deprecates in favour of EVP but keeps in every 3.x. Through EVP each call goes through the
// provider's dispatch and every context copy allocates: that was a third of an HMAC's time,
// and a TLS 1.3 handshake computes about 25 (DECISIONS.md). The compression functions are the
// same. This is the only file built with the deprecated interface visible (CMakeLists.txt),
// and it uses nothing else of it. The functions cannot fail on a valid state.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "bulwark/crypto/hash.hpp"

namespace bulwark::crypto {

namespace {

template <class Ctx>
constexpr bool fits = sizeof(Ctx) <= detail::ShaState::storage_size && alignof(Ctx) <= 8;
static_assert(fits<SHA_CTX> && fits<SHA256_CTX> && fits<SHA512_CTX>,
              "detail::ShaState's storage is too small for libcrypto's SHA contexts");

// The context kept in a ShaState's storage (only ever one type for its algorithm).
template <class Ctx>
Ctx* as(std::array<unsigned char, detail::ShaState::storage_size>& storage) noexcept {
  return reinterpret_cast<Ctx*>(storage.data());
}

}  // namespace

void detail::ShaState::init(HashAlg alg) noexcept {
  alg_ = alg;
  switch (alg) {
    case HashAlg::sha256:
      SHA256_Init(as<SHA256_CTX>(s_));
      return;
    case HashAlg::sha384:
      SHA384_Init(as<SHA512_CTX>(s_));
      return;
    case HashAlg::sha512:
      SHA512_Init(as<SHA512_CTX>(s_));
      return;
    case HashAlg::sha1:
      SHA1_Init(as<SHA_CTX>(s_));
      return;
  }
}

void detail::ShaState::update(std::span<const std::uint8_t> data) noexcept {
  if (data.empty()) return;
  switch (alg_) {
    case HashAlg::sha256:
      SHA256_Update(as<SHA256_CTX>(s_), data.data(), data.size());
      return;
    case HashAlg::sha384:
      SHA384_Update(as<SHA512_CTX>(s_), data.data(), data.size());
      return;
    case HashAlg::sha512:
      SHA512_Update(as<SHA512_CTX>(s_), data.data(), data.size());
      return;
    case HashAlg::sha1:
      SHA1_Update(as<SHA_CTX>(s_), data.data(), data.size());
      return;
  }
}

void detail::ShaState::final(std::uint8_t* out) noexcept {
  switch (alg_) {
    case HashAlg::sha256:
      SHA256_Final(out, as<SHA256_CTX>(s_));
      break;
    case HashAlg::sha384:
      SHA384_Final(out, as<SHA512_CTX>(s_));
      break;
    case HashAlg::sha512:
      SHA512_Final(out, as<SHA512_CTX>(s_));
      break;
    case HashAlg::sha1:
      SHA1_Final(out, as<SHA_CTX>(s_));
      break;
  }
  wipe();
}

void detail::ShaState::wipe() noexcept {
  const std::size_t used = alg_ == HashAlg::sha1     ? sizeof(SHA_CTX)
                           : alg_ == HashAlg::sha256 ? sizeof(SHA256_CTX)
                                                     : sizeof(SHA512_CTX);
  crypto::wipe(std::span<std::uint8_t>(s_.data(), used));
}

}  // namespace bulwark::crypto
