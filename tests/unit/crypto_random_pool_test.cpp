// SystemRandom's per-thread pool (src/crypto/random.cpp): small requests come from a page
// refilled by one RAND_bytes call and wiped on fork (MADV_WIPEONFORK).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

#include "bulwark/crypto/random.hpp"

namespace {

using bulwark::crypto::SystemRandom;

std::vector<std::uint8_t> draw(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  EXPECT_TRUE(SystemRandom::instance().fill(out));
  return out;
}

TEST(CryptoRandomPool, SmallDrawsAreDistinctAcrossManyRefills) {
  // 4096-byte pages of 32-byte draws: several refills happen within the loop.
  std::set<std::vector<std::uint8_t>> seen;
  for (int i = 0; i < 1000; ++i)
    EXPECT_TRUE(seen.insert(draw(32)).second) << "draw " << i << " repeated an earlier one";
}

TEST(CryptoRandomPool, EverySizeUpToTheLargestPooledAndBeyond) {
  for (std::size_t n : {std::size_t{1}, std::size_t{12}, std::size_t{63}, std::size_t{64},
                        std::size_t{65}, std::size_t{5000}}) {
    const auto bytes = draw(n);
    ASSERT_EQ(bytes.size(), n);
    if (n >= 12) {
      EXPECT_NE(std::count(bytes.begin(), bytes.end(), 0), static_cast<long>(n)) << n;
    }
  }
  std::vector<std::uint8_t> none;
  EXPECT_TRUE(SystemRandom::instance().fill(none));
}

TEST(CryptoRandomPool, ThreadsDrawDifferentBytes) {
  std::vector<std::uint8_t> other;
  std::thread t([&] { other = draw(32); });
  const auto mine = draw(32);
  t.join();
  EXPECT_NE(mine, other);
}

// The child of a fork must not hand out what its parent's pool still held: the parent's next
// bytes and the child's first bytes differ (without MADV_WIPEONFORK they would be equal).
TEST(CryptoRandomPool, ForkedChildDoesNotRepeatTheParent) {
  (void)draw(16);  // the pool is filled now, with bytes left in it
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::array<std::uint8_t, 32> bytes{};
    const bool ok = static_cast<bool>(SystemRandom::instance().fill(bytes));
    const ssize_t written = ok ? ::write(fds[1], bytes.data(), bytes.size()) : -1;
    ::_exit(written == static_cast<ssize_t>(bytes.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  const auto parent = draw(32);
  std::array<std::uint8_t, 32> from_child{};
  std::size_t got = 0;
  pollfd pfd{fds[0], POLLIN, 0};
  while (got < from_child.size() && ::poll(&pfd, 1, 10'000) == 1) {
    const ssize_t n = ::read(fds[0], from_child.data() + got, from_child.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(got, from_child.size());
  EXPECT_FALSE(std::equal(parent.begin(), parent.end(), from_child.begin()));
  EXPECT_NE(std::count(from_child.begin(), from_child.end(), 0), 32);
}

}  // namespace
