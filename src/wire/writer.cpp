#include <cstring>

#include "bulwark/wire.hpp"

namespace bulwark::wire {

void Writer::fail(Errc e) noexcept {
  if (!failed_) {
    failed_ = true;
    error_ = e;
  }
}

std::uint8_t* Writer::grow(std::size_t n) noexcept {
  if (failed_) return nullptr;
  if (vec_ == nullptr) {
    if (fixed_.size() - fixed_len_ < n) {
      fail(Errc::capacity_exceeded);
      return nullptr;
    }
    std::uint8_t* p = fixed_.data() + fixed_len_;
    fixed_len_ += n;
    return p;
  }
  const std::size_t old = vec_->size();
  try {
    vec_->resize(old + n);
  } catch (...) {
    fail(Errc::capacity_exceeded);
    return nullptr;
  }
  return vec_->data() + old;
}

void Writer::put_be(std::uint64_t v, int width) noexcept {
  std::uint8_t* p = grow(static_cast<std::size_t>(width));
  if (p == nullptr) return;
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

void Writer::u24(std::uint32_t v) noexcept {
  if (v > 0xffffffu) return fail(Errc::length_overflow);
  put_be(v, 3);
}

void Writer::bytes(Bytes b) noexcept {
  if (b.empty()) return;
  std::uint8_t* p = grow(b.size());
  if (p != nullptr) std::memcpy(p, b.data(), b.size());
}

MutableBytes Writer::reserve(std::size_t n) noexcept {
  std::uint8_t* p = grow(n);
  if (p == nullptr) return {};
  return {p, n};
}

std::size_t Writer::size() const noexcept {
  return vec_ != nullptr ? vec_->size() - start_ : fixed_len_;
}

Bytes Writer::data() const noexcept {
  if (vec_ != nullptr) return Bytes(*vec_).subspan(start_);
  return Bytes(fixed_.data(), fixed_len_);
}

MutableBytes Writer::mutable_data() noexcept {
  if (vec_ != nullptr) return MutableBytes(*vec_).subspan(start_);
  return fixed_.first(fixed_len_);
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

Writer::Prefix Writer::open_prefix(int width, std::size_t min, std::size_t max) noexcept {
  const std::size_t at = size();
  put_be(0, width);  // placeholder, filled in on close
  return Prefix(this, width, at, min, std::min(max, max_for_width(width)));
}

Writer::Prefix::Prefix(Prefix&& other) noexcept
    : w_(other.w_), width_(other.width_), at_(other.at_), min_(other.min_), max_(other.max_) {
  other.w_ = nullptr;
}

Status Writer::Prefix::close() noexcept {
  Writer* w = w_;
  if (w == nullptr) return {};
  w_ = nullptr;
  if (w->failed_) return w->error_;
  const std::size_t len = w->size() - at_ - static_cast<std::size_t>(width_);
  if (len < min_ || len > max_) {
    w->fail(Errc::length_overflow);
    return Errc::length_overflow;
  }
  std::uint8_t* p = w->mutable_data().data() + at_;
  std::size_t v = len;
  for (int i = width_ - 1; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
  return {};
}

}  // namespace bulwark::wire
