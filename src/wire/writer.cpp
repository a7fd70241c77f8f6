#include <algorithm>
#include <cstring>

#include "bulwark/wire.hpp"

namespace bulwark::wire {

void Writer::fail(Errc e) noexcept {
  if (!failed_) {
    failed_ = true;
    error_ = e;
  }
}

// Called by grow() when its fast paths do not apply: a failed writer, a full fixed buffer,
// or a vector without the capacity.
std::uint8_t* Writer::grow_slow(std::size_t n) noexcept {
  if (failed_) return nullptr;
  if (vec_ == nullptr) {
    fail(Errc::capacity_exceeded);
    return nullptr;
  }
  const std::size_t old = vec_->size();
  try {
    // Geometric growth from a first block that holds a typical handshake message or record
    // header whole: a vector grown from empty by single fields reallocates about ten times
    // on the way to 1 KiB.
    if (vec_->capacity() - old < n) {
      constexpr std::size_t first_block = 256;
      vec_->reserve(std::max({old + n, 2 * vec_->capacity(), first_block}));
    }
    vec_->resize(old + n);
  } catch (...) {
    fail(Errc::capacity_exceeded);
    return nullptr;
  }
  return vec_->data() + old;
}

void Writer::u24(std::uint32_t v) noexcept {
  if (v > 0xffffffu) return fail(Errc::length_overflow);
  put_be(v, 3);
}

MutableBytes Writer::reserve(std::size_t n) noexcept {
  std::uint8_t* p = grow(n);
  if (p == nullptr) return {};
  return {p, n};
}

Bytes Writer::data() const noexcept {
  if (vec_ != nullptr) return Bytes(*vec_).subspan(start_);
  return Bytes(fixed_.data(), fixed_len_);
}

Status Writer::status() const noexcept {
  if (failed_) return error_;
  return {};
}

std::vector<std::uint8_t> Writer::take() noexcept {
  std::vector<std::uint8_t> out;
  if (vec_ == &own_) out.swap(own_);
  return out;
}

Writer::Prefix::Prefix(Prefix&& other) noexcept
    : w_(other.w_), width_(other.width_), at_(other.at_), min_(other.min_), max_(other.max_) {
  other.w_ = nullptr;
}

}  // namespace bulwark::wire
