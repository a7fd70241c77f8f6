// wire::Reader and wire::Writer: the only code in bulwark that does byte-index arithmetic.
//
// Every length read from the wire bounds a sub-reader; a short read is a returned error,
// never a read past the end (Heartbleed and the Slapper worm both trusted a length).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "bulwark/result.hpp"

namespace bulwark::wire {

using Bytes = std::span<const std::uint8_t>;
using MutableBytes = std::span<std::uint8_t>;

// The bytes of a string, without copying.
inline Bytes as_bytes(std::string_view text) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// Largest value a big-endian length prefix of `width` bytes can carry (width 1..4).
constexpr std::size_t max_for_width(int width) noexcept {
  return width >= 4 ? 0xffffffffu : (std::size_t{1} << (8 * width)) - 1;
}

class Reader {
 public:
  Reader() noexcept = default;
  explicit Reader(Bytes data) noexcept : data_(data) {}

  Result<std::uint8_t> u8() noexcept;
  Result<std::uint16_t> u16() noexcept;
  Result<std::uint32_t> u24() noexcept;
  Result<std::uint32_t> u32() noexcept;
  Result<std::uint64_t> u64() noexcept;

  // The next n bytes (a view into the input), consumed.
  Result<Bytes> bytes(std::size_t n) noexcept;
  // Skips n bytes.
  Status skip(std::size_t n) noexcept;

  // Reads a WIDTH-byte big-endian length L and returns a reader over the next L bytes, which
  // are consumed from this reader. Fails with `truncated` if fewer than L bytes remain.
  template <int Width>
  Result<Reader> prefixed() noexcept {
    static_assert(Width >= 1 && Width <= 4, "length prefixes are 1 to 4 bytes wide");
    return prefixed_impl(Width, 0, max_for_width(Width));
  }
  // As prefixed(), and the length must lie in [min, max] (e.g. TLS `opaque x<1..2^16-1>`),
  // else `length_overflow`.
  template <int Width>
  Result<Reader> prefixed(std::size_t min, std::size_t max) noexcept {
    static_assert(Width >= 1 && Width <= 4, "length prefixes are 1 to 4 bytes wide");
    return prefixed_impl(Width, min, max);
  }
  // The bytes of a length-prefixed opaque vector.
  template <int Width>
  Result<Bytes> prefixed_bytes(std::size_t min = 0,
                               std::size_t max = max_for_width(Width)) noexcept {
    auto r = prefixed<Width>(min, max);
    if (!r) return std::move(r).error();
    return r->rest();
  }

  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  bool empty() const noexcept { return remaining() == 0; }
  // How many bytes have been consumed so far.
  std::size_t consumed() const noexcept { return pos_; }
  // The unread bytes, not consumed.
  Bytes rest() const noexcept { return data_.subspan(pos_); }
  // `trailing_data` unless everything has been read.
  Status expect_end() const noexcept;

 private:
  Result<std::uint64_t> be(int width) noexcept;
  Result<Reader> prefixed_impl(int width, std::size_t min, std::size_t max) noexcept;

  Bytes data_;
  std::size_t pos_ = 0;
};

// Writer: appends big-endian values to a growable buffer (its own, or a vector it was given)
// or to a fixed-capacity span. Failures are sticky: after the first one, writes are ignored
// and status() reports it.
class Writer {
 public:
  Writer() noexcept : vec_(&own_) {}
  // Appends to `out` (existing contents are kept).
  explicit Writer(std::vector<std::uint8_t>& out) noexcept : vec_(&out), start_(out.size()) {}
  // Writes into `buf`; exceeding its size is `capacity_exceeded`.
  explicit Writer(MutableBytes buf) noexcept : fixed_(buf) {}

  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void u8(std::uint8_t v) noexcept { put_be(v, 1); }
  void u16(std::uint16_t v) noexcept { put_be(v, 2); }
  void u24(std::uint32_t v) noexcept;
  void u32(std::uint32_t v) noexcept { put_be(v, 4); }
  void u64(std::uint64_t v) noexcept { put_be(v, 8); }
  void bytes(Bytes b) noexcept;
  // Reserves n bytes to be filled by the caller (e.g. sealed in place); empty on failure.
  MutableBytes reserve(std::size_t n) noexcept;

  // A length prefix whose value is filled in when the scope closes (explicitly or on
  // destruction). Content beyond `max` (or below `min`) fails the writer with
  // `length_overflow`. Scopes must close in LIFO order, as nested blocks do.
  class Prefix {
   public:
    Prefix(Prefix&& other) noexcept;
    Prefix(const Prefix&) = delete;
    Prefix& operator=(const Prefix&) = delete;
    Prefix& operator=(Prefix&&) = delete;
    ~Prefix() { (void)close(); }
    Status close() noexcept;

   private:
    friend class Writer;
    Prefix(Writer* w, int width, std::size_t at, std::size_t min, std::size_t max) noexcept
        : w_(w), width_(width), at_(at), min_(min), max_(max) {}
    Writer* w_;
    int width_;
    std::size_t at_;
    std::size_t min_;
    std::size_t max_;
  };

  template <int Width>
  [[nodiscard]] Prefix prefixed(std::size_t min = 0,
                                std::size_t max = max_for_width(Width)) noexcept {
    static_assert(Width >= 1 && Width <= 4, "length prefixes are 1 to 4 bytes wide");
    return open_prefix(Width, min, max);
  }
  // Convenience: a length-prefixed opaque vector.
  template <int Width>
  void prefixed_bytes(Bytes b, std::size_t min = 0,
                      std::size_t max = max_for_width(Width)) noexcept {
    auto p = prefixed<Width>(min, max);
    bytes(b);
  }

  // Bytes written by this writer (for an appending writer, only the appended part).
  std::size_t size() const noexcept;
  Bytes data() const noexcept;
  MutableBytes mutable_data() noexcept;
  bool ok() const noexcept { return !failed_; }
  Status status() const noexcept;
  // Moves the owned buffer out (only for the default, owning writer).
  std::vector<std::uint8_t> take() noexcept;

 private:
  void put_be(std::uint64_t v, int width) noexcept;
  std::uint8_t* grow(std::size_t n) noexcept;       // nullptr on failure
  std::uint8_t* grow_slow(std::size_t n) noexcept;  // the vector must grow, or a failure
  Prefix open_prefix(int width, std::size_t min, std::size_t max) noexcept;
  void fail(Errc e) noexcept;

  std::vector<std::uint8_t> own_;
  std::vector<std::uint8_t>* vec_ = nullptr;  // growable target, or null when fixed
  std::size_t start_ = 0;                     // where this writer began in *vec_
  MutableBytes fixed_;
  std::size_t fixed_len_ = 0;
  bool failed_ = false;
  Errc error_ = Errc::invalid_argument;
};

// ---- the hot paths, inline: a handshake makes a few hundred of these calls ----------------

inline Result<std::uint64_t> Reader::be(int width) noexcept {
  const auto w = static_cast<std::size_t>(width);
  if (remaining() < w) return Errc::truncated;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < w; ++i)
    v = (v << 8) | data_[pos_ + i];
  pos_ += w;
  return v;
}

inline Result<std::uint8_t> Reader::u8() noexcept {
  if (empty()) return Errc::truncated;
  return data_[pos_++];
}

inline Result<std::uint16_t> Reader::u16() noexcept {
  BW_ASSIGN(auto v, be(2));
  return static_cast<std::uint16_t>(v);
}

inline Result<Bytes> Reader::bytes(std::size_t n) noexcept {
  if (remaining() < n) return Errc::truncated;
  Bytes out = data_.subspan(pos_, n);
  pos_ += n;
  return out;
}

inline Result<Reader> Reader::prefixed_impl(int width, std::size_t min, std::size_t max) noexcept {
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

inline std::uint8_t* Writer::grow(std::size_t n) noexcept {
  if (vec_ == nullptr && !failed_ && fixed_.size() - fixed_len_ >= n) {
    std::uint8_t* p = fixed_.data() + fixed_len_;
    fixed_len_ += n;
    return p;
  }
  if (vec_ != nullptr && !failed_ && vec_->capacity() - vec_->size() >= n) {
    const std::size_t old = vec_->size();
    vec_->resize(old + n);  // within capacity: cannot throw
    return vec_->data() + old;
  }
  return grow_slow(n);
}

inline void Writer::put_be(std::uint64_t v, int width) noexcept {
  std::uint8_t* p = grow(static_cast<std::size_t>(width));
  if (p == nullptr) return;
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

inline std::size_t Writer::size() const noexcept {
  return vec_ != nullptr ? vec_->size() - start_ : fixed_len_;
}

inline Writer::Prefix Writer::open_prefix(int width, std::size_t min, std::size_t max) noexcept {
  const std::size_t at = size();
  put_be(0, width);  // placeholder, filled in on close
  return Prefix(this, width, at, min, std::min(max, max_for_width(width)));
}

inline void Writer::bytes(Bytes b) noexcept {
  if (b.empty()) return;
  std::uint8_t* p = grow(b.size());
  if (p != nullptr) std::memcpy(p, b.data(), b.size());
}

inline MutableBytes Writer::mutable_data() noexcept {
  if (vec_ != nullptr) return MutableBytes(*vec_).subspan(start_);
  return fixed_.first(fixed_len_);
}

inline Status Writer::Prefix::close() noexcept {
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
