#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "bulwark/wire.hpp"

using bulwark::Errc;
using bulwark::wire::Bytes;
using bulwark::wire::Reader;

namespace {

std::vector<std::uint8_t> seq(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::uint8_t>(i + 1);
  return v;
}

}  // namespace

TEST(WireReader, ReadsBigEndianIntegers) {
  const std::vector<std::uint8_t> in = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                        0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
                                        0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};
  Reader r(in);
  EXPECT_EQ(*r.u8(), 0x01);
  EXPECT_EQ(*r.u16(), 0x0203);
  EXPECT_EQ(*r.u24(), 0x040506u);
  EXPECT_EQ(*r.u32(), 0x0708090au);
  EXPECT_EQ(*r.u64(), 0x0b0c0d0e0f101112ull);
  EXPECT_EQ(r.remaining(), 6u);
  EXPECT_EQ(r.consumed(), 18u);
  auto rest = r.bytes(6);
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->size(), 6u);
  EXPECT_EQ((*rest)[0], 0x13);
  EXPECT_TRUE(r.expect_end());
}

// Every integer width, at every length from 0 up to one byte short, must fail with
// `truncated` and consume nothing; exactly enough bytes succeeds and consumes them all.
TEST(WireReader, EveryWidthAtEveryBoundary) {
  struct Case {
    int width;
    std::uint64_t (*read)(Reader&, bool&);
  };
  const Case cases[] = {
      {1,
       [](Reader& r, bool& ok) -> std::uint64_t {
         auto v = r.u8();
         ok = v.ok();
         return ok ? *v : 0;
       }},
      {2,
       [](Reader& r, bool& ok) -> std::uint64_t {
         auto v = r.u16();
         ok = v.ok();
         return ok ? *v : 0;
       }},
      {3,
       [](Reader& r, bool& ok) -> std::uint64_t {
         auto v = r.u24();
         ok = v.ok();
         return ok ? *v : 0;
       }},
      {4,
       [](Reader& r, bool& ok) -> std::uint64_t {
         auto v = r.u32();
         ok = v.ok();
         return ok ? *v : 0;
       }},
      {8,
       [](Reader& r, bool& ok) -> std::uint64_t {
         auto v = r.u64();
         ok = v.ok();
         return ok ? *v : 0;
       }},
  };
  const auto buf = seq(8);
  for (const auto& c : cases) {
    for (int len = 0; len < c.width; ++len) {
      Reader r(Bytes(buf).first(static_cast<std::size_t>(len)));
      bool ok = true;
      (void)c.read(r, ok);
      EXPECT_FALSE(ok) << "width " << c.width << " len " << len;
      EXPECT_EQ(r.remaining(), static_cast<std::size_t>(len)) << "a failed read consumed input";
    }
    Reader r(Bytes(buf).first(static_cast<std::size_t>(c.width)));
    bool ok = false;
    const std::uint64_t v = c.read(r, ok);
    EXPECT_TRUE(ok);
    std::uint64_t expect = 0;
    for (int i = 0; i < c.width; ++i)
      expect = (expect << 8) | buf[static_cast<std::size_t>(i)];
    EXPECT_EQ(v, expect);
    EXPECT_TRUE(r.empty());
  }
}

TEST(WireReader, FailedReadReportsTruncated) {
  const std::array<std::uint8_t, 1> one = {0xff};
  Reader r(one);
  auto v = r.u16();
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error(), Errc::truncated);
}

TEST(WireReader, BytesAndSkipBoundaries) {
  const auto buf = seq(10);
  for (std::size_t n = 0; n <= 11; ++n) {
    Reader r(buf);
    auto b = r.bytes(n);
    if (n <= 10) {
      ASSERT_TRUE(b) << n;
      EXPECT_EQ(b->size(), n);
      EXPECT_EQ(r.remaining(), 10 - n);
    } else {
      ASSERT_FALSE(b);
      EXPECT_EQ(b.error(), Errc::truncated);
      EXPECT_EQ(r.remaining(), 10u);
    }
    Reader s(buf);
    EXPECT_EQ(s.skip(n).ok(), n <= 10);
  }
  Reader r(buf);
  EXPECT_FALSE(r.bytes(SIZE_MAX));  // no overflow in the bounds check
  EXPECT_FALSE(r.skip(SIZE_MAX));
}

TEST(WireReader, PrefixedSubReaderIsBounded) {
  // 2-byte length 3, then 3 bytes, then one trailing byte that the sub-reader must not see.
  const std::vector<std::uint8_t> in = {0x00, 0x03, 0xaa, 0xbb, 0xcc, 0xdd};
  Reader r(in);
  auto sub = r.prefixed<2>();
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->remaining(), 3u);
  EXPECT_EQ(*sub->u16(), 0xaabb);
  EXPECT_FALSE(sub->u16()) << "read past the prefix bound";
  EXPECT_EQ(*sub->u8(), 0xcc);
  EXPECT_TRUE(sub->expect_end());
  EXPECT_EQ(r.remaining(), 1u);
  EXPECT_EQ(*r.u8(), 0xdd);
}

TEST(WireReader, PrefixedEveryWidth) {
  for (int width : {1, 2, 3, 4}) {
    const auto w = static_cast<std::size_t>(width);
    std::vector<std::uint8_t> in(w + 2, 0);
    in[w - 1] = 2;  // length 2
    in[w] = 0x11;
    in[w + 1] = 0x22;
    Reader r(in);
    bulwark::Result<Reader> sub = Errc::invalid_argument;
    switch (width) {
      case 1:
        sub = r.prefixed<1>();
        break;
      case 2:
        sub = r.prefixed<2>();
        break;
      case 3:
        sub = r.prefixed<3>();
        break;
      case 4:
        sub = r.prefixed<4>();
        break;
    }
    ASSERT_TRUE(sub) << width;
    EXPECT_EQ(*sub->u16(), 0x1122);
    EXPECT_TRUE(r.empty());
  }
}

// The Heartbleed shape: a length that claims more than the message holds.
TEST(WireReader, OverlongPrefixIsTruncatedAndConsumesNothing) {
  const std::vector<std::uint8_t> in = {0xff, 0xff, 0x01, 0x02};
  Reader r(in);
  auto sub = r.prefixed<2>();
  ASSERT_FALSE(sub);
  EXPECT_EQ(sub.error(), Errc::truncated);
  EXPECT_EQ(r.remaining(), 4u);
  const std::vector<std::uint8_t> big = {0xff, 0xff, 0xff, 0xff};
  Reader r4(big);
  EXPECT_EQ(r4.prefixed<4>().error(), Errc::truncated);
}

TEST(WireReader, ShortPrefixItself) {
  const std::vector<std::uint8_t> in = {0x00, 0x00};
  Reader r(in);
  EXPECT_EQ(r.prefixed<3>().error(), Errc::truncated);
  EXPECT_EQ(r.remaining(), 2u);
}

TEST(WireReader, PrefixedMinMax) {
  // RFC 8446 style vector <1..2^8-1>: empty is a length error, not truncation.
  const std::vector<std::uint8_t> empty = {0x00};
  Reader r(empty);
  auto e = r.prefixed<1>(1, 255);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), Errc::length_overflow);
  EXPECT_EQ(r.remaining(), 1u);

  // session_id<0..32>: 33 bytes is rejected (the Slapper worm's overlong session id).
  std::vector<std::uint8_t> sid(34, 0x41);
  sid[0] = 33;
  Reader s(sid);
  EXPECT_EQ(s.prefixed_bytes<1>(0, 32).error(), Errc::length_overflow);
  sid.pop_back();
  sid[0] = 32;
  Reader ok(sid);
  auto b = ok.prefixed_bytes<1>(0, 32);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size(), 32u);
}

TEST(WireReader, NestedPrefixes) {
  // outer<2> { inner<1> { 0x01 0x02 } inner<1> { } } trailing 0x09
  const std::vector<std::uint8_t> in = {0x00, 0x04, 0x02, 0x01, 0x02, 0x00, 0x09};
  Reader r(in);
  auto outer = r.prefixed<2>();
  ASSERT_TRUE(outer);
  auto a = outer->prefixed<1>();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->remaining(), 2u);
  auto b = outer->prefixed<1>();
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->empty());
  EXPECT_TRUE(outer->expect_end());
  EXPECT_EQ(*r.u8(), 0x09);

  // An inner length that fits the whole input but not the outer bound is truncated.
  const std::vector<std::uint8_t> bad = {0x00, 0x02, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05};
  Reader rb(bad);
  auto ob = rb.prefixed<2>();
  ASSERT_TRUE(ob);
  EXPECT_EQ(ob->prefixed<1>().error(), Errc::truncated);
}

TEST(WireReader, ExpectEndReportsTrailingData) {
  const std::vector<std::uint8_t> in = {0x01, 0x02};
  Reader r(in);
  (void)r.u8();
  auto s = r.expect_end();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::trailing_data);
  EXPECT_EQ(r.rest().size(), 1u);
  EXPECT_EQ(r.remaining(), 1u) << "rest() must not consume";
}

TEST(WireReader, EmptyInput) {
  Reader r;
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.expect_end());
  EXPECT_FALSE(r.u8());
  EXPECT_TRUE(r.bytes(0));
  EXPECT_FALSE(r.prefixed<1>());
}
