#include "bulwark/crypto/random.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace bulwark::crypto {

void wipe(std::span<std::uint8_t> bytes) noexcept {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

bool constant_time_equal(std::span<const std::uint8_t> a,
                         std::span<const std::uint8_t> b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status SystemRandom::fill(std::span<std::uint8_t> out) noexcept {
  while (!out.empty()) {
    const std::size_t n = std::min<std::size_t>(out.size(), INT_MAX);
    if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
      return Error(Errc::crypto_failure, "RAND_bytes failed");
    }
    out = out.subspan(n);
  }
  return {};
}

SystemRandom& SystemRandom::instance() noexcept {
  static SystemRandom r;
  return r;
}

DeterministicRandom::DeterministicRandom(std::span<const std::uint8_t> seed) : seed_(seed) {}

Status DeterministicRandom::fill(std::span<std::uint8_t> out) noexcept {
  std::uint8_t block[32];
  while (!out.empty()) {
    std::uint8_t ctr[8];
    for (int i = 0; i < 8; ++i)
      ctr[i] = static_cast<std::uint8_t>(counter_ >> (56 - 8 * i));
    ++counter_;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool good = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                EVP_DigestUpdate(ctx, seed_.data(), seed_.size()) == 1 &&
                EVP_DigestUpdate(ctx, ctr, sizeof ctr) == 1 &&
                EVP_DigestFinal_ex(ctx, block, nullptr) == 1;
    EVP_MD_CTX_free(ctx);
    if (!good) return Error(Errc::crypto_failure, "SHA-256 failed");
    const std::size_t n = std::min(out.size(), sizeof block);
    std::memcpy(out.data(), block, n);
    out = out.subspan(n);
  }
  wipe(block);
  return {};
}

Status FixedRandom::fill(std::span<std::uint8_t> out) noexcept {
  if (out.size() > bytes_.size()) {
    return Error(Errc::invalid_argument, "FixedRandom exhausted");
  }
  if (!out.empty()) std::memcpy(out.data(), bytes_.data(), out.size());
  bytes_ = bytes_.subspan(out.size());
  return {};
}

}  // namespace bulwark::crypto
