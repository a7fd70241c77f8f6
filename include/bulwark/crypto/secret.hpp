// Secret: bytes that are wiped when they go away; constant-time comparison.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace bulwark::crypto {

namespace testing {
// Called with every Secret's buffer as it is released (destruction, or replacement by a move
// assignment): after the wipe, before the memory goes back to the allocator, so a test can
// check that what is freed is all zeros. Only Secrets holding bytes are reported. Null (the
// default) turns it off; the cost then is one relaxed atomic load per release. For tests only:
// set it while no other thread releases Secrets.
using SecretReleaseObserver = void (*)(const std::uint8_t* data, std::size_t size);
void set_secret_release_observer(SecretReleaseObserver observer) noexcept;

namespace detail {
extern std::atomic<SecretReleaseObserver> secret_release_observer;
}  // namespace detail
}  // namespace testing

// Overwrites memory in a way the optimiser may not elide: a memset followed by an empty asm
// statement that takes the buffer's address and clobbers memory, so the stores must happen
// (how BoringSSL's OPENSSL_cleanse and Linux's memzero_explicit do it). Inline, because a
// handshake wipes some 275 short buffers (digests, hash states, key blocks): with their
// sizes known here they become a few stores instead of calls into libc.
inline void wipe(std::span<std::uint8_t> bytes) noexcept {
  if (bytes.empty()) return;
  std::memset(bytes.data(), 0, bytes.size());
  asm volatile("" : : "r"(bytes.data()) : "memory");
}

// True when a and b have equal length and contents; the time taken depends only on the length.
bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept;

// An owned byte string for keys and secrets, wiped on destruction, on reassignment and on
// resize. Copying is explicit (copy()), so secrets are not duplicated by accident.
class Secret {
 public:
  Secret() noexcept = default;
  explicit Secret(std::size_t n) : bytes_(n) {}
  explicit Secret(std::span<const std::uint8_t> b) : bytes_(b.begin(), b.end()) {}
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& o) noexcept : bytes_(std::move(o.bytes_)) {}
  Secret& operator=(Secret&& o) noexcept {
    if (this != &o) {
      wipe_for_release();
      bytes_ = std::move(o.bytes_);  // frees the wiped buffer
    }
    return *this;
  }
  ~Secret() { wipe_for_release(); }

  Secret copy() const { return Secret(span()); }
  void clear() noexcept {
    wipe(bytes_);
    bytes_.clear();
  }
  // Wipes the old contents before resizing.
  void resize(std::size_t n) {
    clear();
    bytes_.resize(n);
  }

  std::size_t size() const noexcept { return bytes_.size(); }
  bool empty() const noexcept { return bytes_.empty(); }
  std::uint8_t* data() noexcept { return bytes_.data(); }
  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  std::span<std::uint8_t> span() noexcept { return bytes_; }
  std::span<const std::uint8_t> span() const noexcept { return bytes_; }
  operator std::span<const std::uint8_t>() const noexcept { return bytes_; }  // NOLINT

  friend bool operator==(const Secret& a, const Secret& b) noexcept {
    return constant_time_equal(a.span(), b.span());
  }

 private:
  // Wipes the bytes and tells the test observer, if any; the caller then frees the buffer.
  void wipe_for_release() noexcept {
    wipe(bytes_);
    if (auto observer = testing::detail::secret_release_observer.load(std::memory_order_relaxed)) {
      if (!bytes_.empty()) observer(bytes_.data(), bytes_.size());
    }
  }

  std::vector<std::uint8_t> bytes_;
};

}  // namespace bulwark::crypto
