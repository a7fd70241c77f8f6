#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "bulwark/wire.hpp"

using bulwark::Errc;
using bulwark::wire::Bytes;
using bulwark::wire::Reader;
using bulwark::wire::Writer;

using V = std::vector<std::uint8_t>;

TEST(WireWriter, WritesBigEndianIntegers) {
  Writer w;
  w.u8(0x01);
  w.u16(0x0203);
  w.u24(0x040506);
  w.u32(0x0708090a);
  w.u64(0x0b0c0d0e0f101112ull);
  ASSERT_TRUE(w.status());
  const V expect = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                    0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12};
  EXPECT_EQ(V(w.data().begin(), w.data().end()), expect);
  EXPECT_EQ(w.take(), expect);
}

TEST(WireWriter, U24RejectsValuesThatDoNotFit) {
  Writer w;
  w.u24(0x1000000);
  EXPECT_EQ(w.status().error(), Errc::length_overflow);
}

TEST(WireWriter, PrefixFillsItselfIn) {
  Writer w;
  {
    auto outer = w.prefixed<2>();
    w.u8(0xaa);
    {
      auto inner = w.prefixed<1>();
      w.bytes(V{0x01, 0x02, 0x03});
    }
    auto empty = w.prefixed<3>();
    ASSERT_TRUE(empty.close());
  }
  ASSERT_TRUE(w.status());
  const V expect = {0x00, 0x08, 0xaa, 0x03, 0x01, 0x02, 0x03, 0x00, 0x00, 0x00};
  EXPECT_EQ(w.take(), expect);
}

TEST(WireWriter, EveryPrefixWidthAtItsMaximum) {
  // width 1: 255 bytes fit, 256 do not; width 2: 65535 fit, 65536 do not.
  for (int width : {1, 2}) {
    const std::size_t max = bulwark::wire::max_for_width(width);
    for (std::size_t n : {max, max + 1}) {
      Writer w;
      V content(n, 0x5a);
      if (width == 1) {
        w.prefixed_bytes<1>(content);
      } else {
        w.prefixed_bytes<2>(content);
      }
      EXPECT_EQ(w.ok(), n == max) << "width " << width << " n " << n;
      if (n > max) {
        EXPECT_EQ(w.status().error(), Errc::length_overflow);
      }
    }
  }
  EXPECT_EQ(bulwark::wire::max_for_width(3), 0xffffffu);
  EXPECT_EQ(bulwark::wire::max_for_width(4), 0xffffffffu);
}

TEST(WireWriter, PrefixMinAndMaxAreEnforced) {
  {
    Writer w;
    auto p = w.prefixed<2>(1, 10);  // e.g. an extension list that must not be empty
    EXPECT_EQ(p.close().error(), Errc::length_overflow);
    EXPECT_FALSE(w.ok());
  }
  {
    Writer w;
    w.prefixed_bytes<1>(V(33, 0), 0, 32);  // session_id<0..32>
    EXPECT_EQ(w.status().error(), Errc::length_overflow);
  }
}

TEST(WireWriter, FailureIsSticky) {
  std::array<std::uint8_t, 3> buf{};
  Writer w{bulwark::wire::MutableBytes(buf)};
  w.u16(0x1234);
  w.u16(0x5678);  // does not fit
  EXPECT_EQ(w.status().error(), Errc::capacity_exceeded);
  w.u8(0x9a);  // ignored after the failure
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(buf[0], 0x12);
  EXPECT_EQ(buf[2], 0x00);
}

TEST(WireWriter, FixedCapacityExactFit) {
  std::array<std::uint8_t, 4> buf{};
  Writer w{bulwark::wire::MutableBytes(buf)};
  {
    auto p = w.prefixed<1>();
    w.u16(0xbeef);
    w.u8(0x01);
  }
  ASSERT_TRUE(w.status());
  EXPECT_EQ(buf, (std::array<std::uint8_t, 4>{0x03, 0xbe, 0xef, 0x01}));
  EXPECT_TRUE(w.take().empty()) << "a fixed writer owns nothing to take";
}

TEST(WireWriter, AppendsToAnExternalVector) {
  V out = {0xff};
  {
    Writer w(out);
    w.u8(0x01);
    auto p = w.prefixed<1>();
    w.u8(0x02);
    ASSERT_TRUE(p.close());
    EXPECT_EQ(w.size(), 3u);
    EXPECT_EQ(w.data()[0], 0x01);
  }
  EXPECT_EQ(out, (V{0xff, 0x01, 0x01, 0x02}));
}

TEST(WireWriter, ReserveReturnsWritableSpace) {
  Writer w;
  w.u8(0x17);
  auto space = w.reserve(4);
  ASSERT_EQ(space.size(), 4u);
  space[0] = 0xde;
  space[3] = 0xad;
  EXPECT_EQ(w.take(), (V{0x17, 0xde, 0x00, 0x00, 0xad}));

  std::array<std::uint8_t, 2> buf{};
  Writer f{bulwark::wire::MutableBytes(buf)};
  EXPECT_TRUE(f.reserve(3).empty());
  EXPECT_FALSE(f.ok());
}

TEST(WireWriter, MovedPrefixClosesOnce) {
  Writer w;
  {
    auto p = w.prefixed<1>();
    auto q = std::move(p);
    w.u8(0x42);
  }
  EXPECT_EQ(w.take(), (V{0x01, 0x42}));
}

// Round trip: what the writer builds, the reader takes apart exactly.
TEST(WireRoundTrip, NestedStructure) {
  Writer w;
  {
    auto list = w.prefixed<2>();
    for (std::uint16_t i = 0; i < 50; ++i) {
      w.u16(i);
      auto body = w.prefixed<3>();
      for (std::uint16_t j = 0; j < i; ++j)
        w.u8(static_cast<std::uint8_t>(j));
    }
  }
  w.u64(0x0102030405060708ull);
  ASSERT_TRUE(w.status());
  const V bytes = w.take();

  Reader r(bytes);
  auto list = r.prefixed<2>();
  ASSERT_TRUE(list);
  for (std::uint16_t i = 0; i < 50; ++i) {
    ASSERT_EQ(*list->u16(), i);
    auto body = list->prefixed<3>();
    ASSERT_TRUE(body);
    ASSERT_EQ(body->remaining(), i);
    for (std::uint16_t j = 0; j < i; ++j)
      ASSERT_EQ(*body->u8(), j);
    ASSERT_TRUE(body->expect_end());
  }
  EXPECT_TRUE(list->expect_end());
  EXPECT_EQ(*r.u64(), 0x0102030405060708ull);
  EXPECT_TRUE(r.expect_end());
}
