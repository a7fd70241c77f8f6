#include "bulwark/crypto/random.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>

namespace bulwark::crypto {

bool constant_time_equal(std::span<const std::uint8_t> a,
                         std::span<const std::uint8_t> b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {

// Small requests (a ClientHello random, an X25519 key, a ticket nonce: about six a handshake)
// are served from a per-thread pool refilled by one RAND_bytes call: each RAND_bytes call
// makes a getpid() system call (libcrypto's fork check), about a microsecond here. The pool
// lives in its own page marked MADV_WIPEONFORK, so a forked child finds it zeroed (nothing
// left, hence a refill from the child's own reseeded DRBG) and never repeats its parent's
// bytes; bytes handed out are wiped from the pool at once. Where the kernel lacks
// MADV_WIPEONFORK (before Linux 4.14) there is no pool and every request calls RAND_bytes.
// Unread pool bytes in memory expose no more than libcrypto's DRBG state next to them.
class RandomPool {
 public:
  static constexpr std::size_t kLargestPooled = 64;  // larger requests bypass the pool

  RandomPool() noexcept {
    void* page =
        ::mmap(nullptr, sizeof(Page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return;
    if (::madvise(page, sizeof(Page), MADV_WIPEONFORK) != 0) {
      ::munmap(page, sizeof(Page));
      return;
    }
    page_ = static_cast<Page*>(page);
  }
  ~RandomPool() {
    if (page_ == nullptr) return;
    OPENSSL_cleanse(page_, sizeof(Page));
    ::munmap(page_, sizeof(Page));
  }
  RandomPool(const RandomPool&) = delete;
  RandomPool& operator=(const RandomPool&) = delete;

  enum class Outcome { unpooled, filled, failed };

  // `unpooled`: no pool, or too large a request; the caller draws directly.
  Outcome take(std::span<std::uint8_t> out) noexcept {
    if (page_ == nullptr || out.size() > kLargestPooled) return Outcome::unpooled;
    Page& p = *page_;
    if (p.remaining < out.size()) {  // also right after fork(): the page reads all zeros
      if (RAND_bytes(p.bytes.data(), static_cast<int>(p.bytes.size())) != 1) {
        return Outcome::failed;
      }
      p.remaining = p.bytes.size();
    }
    std::uint8_t* from = p.bytes.data() + (p.bytes.size() - p.remaining);
    std::memcpy(out.data(), from, out.size());
    OPENSSL_cleanse(from, out.size());
    p.remaining -= out.size();
    return Outcome::filled;
  }

 private:
  struct Page {
    std::size_t remaining;
    std::array<std::uint8_t, 4096 - sizeof(std::size_t)> bytes;
  };
  static_assert(sizeof(Page) == 4096);
  Page* page_ = nullptr;
};

}  // namespace

Status SystemRandom::fill(std::span<std::uint8_t> out) noexcept {
  if (out.empty()) return {};
  thread_local RandomPool pool;
  switch (pool.take(out)) {
    case RandomPool::Outcome::filled:
      return {};
    case RandomPool::Outcome::failed:
      return Error(Errc::crypto_failure, "RAND_bytes failed");
    case RandomPool::Outcome::unpooled:
      break;
  }
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
