#include "bulwark/wire.hpp"

namespace bulwark::wire {

Result<std::uint64_t> Reader::be(int width) noexcept {
  const auto w = static_cast<std::size_t>(width);
  if (remaining() < w) return Errc::truncated;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < w; ++i)
    v = (v << 8) | data_[pos_ + i];
  pos_ += w;
  return v;
}

Result<std::uint8_t> Reader::u8() noexcept {
  if (empty()) return Errc::truncated;
  return data_[pos_++];
}

Result<std::uint16_t> Reader::u16() noexcept {
  BW_ASSIGN(auto v, be(2));
  return static_cast<std::uint16_t>(v);
}

Result<std::uint32_t> Reader::u24() noexcept {
  BW_ASSIGN(auto v, be(3));
  return static_cast<std::uint32_t>(v);
}

Result<std::uint32_t> Reader::u32() noexcept {
  BW_ASSIGN(auto v, be(4));
  return static_cast<std::uint32_t>(v);
}

Result<std::uint64_t> Reader::u64() noexcept {
  return be(8);
}

Result<Bytes> Reader::bytes(std::size_t n) noexcept {
  if (remaining() < n) return Errc::truncated;
  Bytes out = data_.subspan(pos_, n);
  pos_ += n;
  return out;
}

Status Reader::skip(std::size_t n) noexcept {
  if (remaining() < n) return Errc::truncated;
  pos_ += n;
  return {};
}

Result<Reader> Reader::prefixed_impl(int width, std::size_t min, std::size_t max) noexcept {
  const std::size_t start = pos_;
  BW_ASSIGN(const std::uint64_t len, be(width));
  if (len > remaining()) {
    pos_ = start;  // a failed read consumes nothing
    return Errc::truncated;
  }
  if (len < min || len > max) {
    pos_ = start;
    return Errc::length_overflow;
  }
  Reader sub(data_.subspan(pos_, static_cast<std::size_t>(len)));
  pos_ += static_cast<std::size_t>(len);
  return sub;
}

Status Reader::expect_end() const noexcept {
  if (!empty()) return Errc::trailing_data;
  return {};
}

}  // namespace bulwark::wire
