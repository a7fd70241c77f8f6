// Secret: bytes that are wiped when they go away; constant-time comparison.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

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

// Overwrites memory in a way the optimiser may not elide (OPENSSL_cleanse).
void wipe(std::span<std::uint8_t> bytes) noexcept;

// True when a and b have equal length and contents; the time taken depends only on the length.
bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept;

// An owned byte string for keys and secrets, wiped on destruction, on reassignment and on
// resize. Copying is explicit (copy()), so secrets are not duplicated by accident. Up to
// kInline bytes (every TLS secret, key and IV) live in the object itself: a handshake derives
// a few dozen of them, and none costs an allocation.
class Secret {
 public:
  static constexpr std::size_t kInline = 48;

  Secret() noexcept = default;
  // n zero bytes.
  explicit Secret(std::size_t n) { allocate(n); }
  explicit Secret(std::span<const std::uint8_t> b) {
    allocate(b.size());
    if (!b.empty()) std::memcpy(data(), b.data(), b.size());
  }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& o) noexcept { take(o); }
  Secret& operator=(Secret&& o) noexcept {
    if (this != &o) {
      release();
      take(o);
    }
    return *this;
  }
  ~Secret() { release(); }

  Secret copy() const { return Secret(span()); }
  void clear() noexcept { release(); }
  // Wipes the old contents; then n zero bytes.
  void resize(std::size_t n) {
    release();
    allocate(n);
  }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::uint8_t* data() noexcept { return heap_ != nullptr ? heap_ : inline_; }
  const std::uint8_t* data() const noexcept { return heap_ != nullptr ? heap_ : inline_; }
  std::span<std::uint8_t> span() noexcept { return {data(), size_}; }
  std::span<const std::uint8_t> span() const noexcept { return {data(), size_}; }
  operator std::span<const std::uint8_t>() const noexcept { return span(); }  // NOLINT

  friend bool operator==(const Secret& a, const Secret& b) noexcept {
    return constant_time_equal(a.span(), b.span());
  }

 private:
  void allocate(std::size_t n) {
    if (n > kInline) {
      heap_ = new std::uint8_t[n]();
    } else {
      std::memset(inline_, 0, n);
    }
    size_ = n;
  }
  // Moves o's bytes here (o is empty afterwards; inline bytes left behind are wiped).
  void take(Secret& o) noexcept {
    size_ = o.size_;
    heap_ = o.heap_;
    if (heap_ == nullptr && size_ > 0) {
      std::memcpy(inline_, o.inline_, size_);
      wipe(std::span<std::uint8_t>(o.inline_, size_));
    }
    o.heap_ = nullptr;
    o.size_ = 0;
  }
  // Wipes the bytes and tells the test observer, if any, then frees a heap buffer.
  void release() noexcept {
    if (size_ == 0 && heap_ == nullptr) return;
    wipe(span());
    if (auto observer = testing::detail::secret_release_observer.load(std::memory_order_relaxed)) {
      if (size_ > 0) observer(data(), size_);
    }
    delete[] heap_;
    heap_ = nullptr;
    size_ = 0;
  }

  std::uint8_t* heap_ = nullptr;  // more than kInline bytes
  std::size_t size_ = 0;
  std::uint8_t inline_[kInline];  // the first size_ bytes hold the secret (no heap_)
};

}  // namespace bulwark::crypto
