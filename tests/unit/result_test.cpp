#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "bulwark/result.hpp"

using bulwark::Errc;
using bulwark::Error;
using bulwark::Result;
using bulwark::Status;

namespace {

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return Error(Errc::invalid_argument, std::string("not a digit: ") + c);
  return c - '0';
}

Result<int> sum_two(const char* s) {
  BW_ASSIGN(int a, parse_digit(s[0]));
  BW_ASSIGN(const int b, parse_digit(s[1]));
  return a + b;
}

Status check_even(int v) {
  if (v % 2 != 0) return Errc::invalid_argument;
  return {};
}

Status sum_is_even(const char* s) {
  BW_ASSIGN(int v, sum_two(s));
  BW_TRY(check_even(v));
  return {};
}

}  // namespace

TEST(Result, ValueAndError) {
  auto ok = sum_two("34");
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 7);
  auto bad = sum_two("3x");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), Errc::invalid_argument);
  EXPECT_EQ(bad.error().message(), "invalid_argument: not a digit: x");
}

TEST(Result, StatusPropagation) {
  EXPECT_TRUE(sum_is_even("35"));
  auto s = sum_is_even("34");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::invalid_argument);
  EXPECT_EQ(s.error().message(), "invalid_argument");
}

TEST(Result, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

TEST(Result, EveryCodeHasAName) {
  for (auto c = static_cast<std::uint16_t>(Errc::truncated);
       c <= static_cast<std::uint16_t>(Errc::timed_out); ++c) {
    EXPECT_NE(bulwark::errc_name(static_cast<Errc>(c)), "unknown_error") << c;
  }
}

TEST(ResultDeathTest, ValueOfAnErrorAborts) {
  Result<int> r = Errc::truncated;
  EXPECT_DEATH((void)r.value(), "");
}
