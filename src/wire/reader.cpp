#include "bulwark/wire.hpp"

namespace bulwark::wire {

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

Status Reader::skip(std::size_t n) noexcept {
  if (remaining() < n) return Errc::truncated;
  pos_ += n;
  return {};
}

Status Reader::expect_end() const noexcept {
  if (!empty()) return Errc::trailing_data;
  return {};
}

}  // namespace bulwark::wire
