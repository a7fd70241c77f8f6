// net::EventLoop over socket pairs: a wait ends when data comes, at its deadline or when
// cancelled; what epoll reported is remembered until EAGAIN (and a short read); a closed peer
// stays readable; timers fire in order unless cancelled; functions posted from another thread
// run on the loop; a loop destroyed with a suspended coroutine destroys it. Every wait is
// bounded.
#include "bulwark/net/event_loop.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace bulwark::net {
namespace {

using namespace std::chrono_literals;
using Clock = EventLoop::Clock;
using Dir = EventLoop::Watch::Dir;

struct SocketPair {
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    a = fds[0];
    b = fds[1];
  }
  ~SocketPair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
  int a = -1;
  int b = -1;
};

std::unique_ptr<EventLoop> make_loop() {
  auto loop = EventLoop::create();
  EXPECT_TRUE(loop) << loop.error().message();
  return std::move(loop).value();
}

// Reads what is there; marks the Watch as the stream transport does.
std::string read_now(EventLoop::Watch& w) {
  char buf[64];
  const ssize_t n = ::recv(w.fd(), buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0) {
    w.would_block(Dir::read);
    return "<eagain>";
  }
  if (static_cast<std::size_t>(n) < sizeof buf) w.drained();
  return n == 0 ? "<eof>" : std::string(buf, static_cast<std::size_t>(n));
}

// Runs `body` as a coroutine on the loop; the loop stops when it returns (or after `limit`).
template <class Body>
void run_on(EventLoop& loop, Body body, std::chrono::milliseconds limit = 3000ms) {
  bool done = false;
  asio::co_spawn(
      loop.context(),
      [&]() -> asio::awaitable<void> {
        co_await body();
        done = true;
        loop.stop();
      },
      asio::detached);
  const EventLoop::TimerId guard = loop.start_timer(Clock::now() + limit, [&] { loop.stop(); });
  loop.run();
  loop.cancel_timer(guard);
  EXPECT_TRUE(done) << "the coroutine did not finish within the limit";
}

TEST(NetEventLoop, AWaitEndsWhenDataArrives) {
  auto loop = make_loop();
  SocketPair p;
  EventLoop::Watch watch(*loop, p.a);
  ASSERT_TRUE(watch.registered());
  std::vector<std::string> seen;
  // The peer writes 50 ms after the reader found nothing.
  loop->start_timer(Clock::now() + 50ms, [&] { (void)!::write(p.b, "hello", 5); });
  run_on(*loop, [&]() -> asio::awaitable<void> {
    seen.push_back(read_now(watch));  // nothing yet: EAGAIN, not ready any more
    EXPECT_FALSE(watch.ready(Dir::read));
    const auto start = Clock::now();
    const Status st = co_await watch.wait(Dir::read, Clock::now() + 2s);
    EXPECT_TRUE(st) << st.error().message();
    EXPECT_GE(Clock::now() - start, 40ms);
    seen.push_back(read_now(watch));  // a short read drains it
    EXPECT_FALSE(watch.ready(Dir::read));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"<eagain>", "hello"}));
}

TEST(NetEventLoop, AWaitTimesOutAtItsDeadlineAndCancelEndsIt) {
  auto loop = make_loop();
  SocketPair p;
  EventLoop::Watch watch(*loop, p.a);
  watch.would_block(Dir::read);
  run_on(*loop, [&]() -> asio::awaitable<void> {
    const auto start = Clock::now();
    const Status late = co_await watch.wait(Dir::read, Clock::now() + 100ms);
    EXPECT_FALSE(late);
    if (!late) {
      EXPECT_EQ(late.error().code(), Errc::timed_out);
    }
    EXPECT_GE(Clock::now() - start, 90ms);
    EXPECT_LT(Clock::now() - start, 1500ms);
    // cancel() from a timer: the wait ends with `closed`, long before its deadline.
    loop->start_timer(Clock::now() + 20ms, [&] { watch.cancel(); });
    const Status cancelled = co_await watch.wait(Dir::read, Clock::now() + 2s);
    EXPECT_FALSE(cancelled);
    if (!cancelled) {
      EXPECT_EQ(cancelled.error().code(), Errc::closed);
    }
    EXPECT_LT(Clock::now() - start, 1500ms);
  });
}

TEST(NetEventLoop, APeerThatClosedStaysReadable) {
  auto loop = make_loop();
  SocketPair p;
  EventLoop::Watch watch(*loop, p.a);
  watch.would_block(Dir::read);
  (void)!::write(p.b, "last", 4);
  ::close(p.b);
  p.b = -1;
  std::vector<std::string> seen;
  run_on(*loop, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await watch.wait(Dir::read, Clock::now() + 2s));
    seen.push_back(read_now(watch));  // short, but the end is reported: still readable
    EXPECT_TRUE(co_await watch.wait(Dir::read, Clock::now() + 2s));
    seen.push_back(read_now(watch));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"last", "<eof>"}));
}

TEST(NetEventLoop, TimersFireInOrderUnlessCancelled) {
  auto loop = make_loop();
  std::vector<int> fired;
  const auto now = Clock::now();
  loop->start_timer(now + 60ms, [&] { fired.push_back(3); });
  loop->start_timer(now + 20ms, [&] { fired.push_back(1); });
  const EventLoop::TimerId cancelled = loop->start_timer(now + 30ms, [&] { fired.push_back(9); });
  loop->start_timer(now + 40ms, [&] { fired.push_back(2); });
  loop->cancel_timer(cancelled);
  run_on(*loop,
         [&]() -> asio::awaitable<void> { co_await loop->sleep_until(Clock::now() + 100ms); });
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
}

TEST(NetEventLoop, FunctionsPostedFromAnotherThreadRunOnTheLoop) {
  auto loop = make_loop();
  std::atomic<int> ran{0};
  std::thread::id loop_thread;
  std::thread::id ran_on;
  std::thread poster;
  run_on(*loop, [&]() -> asio::awaitable<void> {
    loop_thread = std::this_thread::get_id();
    poster = std::thread([&] {
      std::this_thread::sleep_for(20ms);
      loop->post([&] {
        ran_on = std::this_thread::get_id();
        ++ran;
      });
    });
    while (ran.load() == 0)
      co_await loop->sleep_until(Clock::now() + 5ms);
  });
  poster.join();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(ran_on, loop_thread);
}

TEST(NetEventLoop, ALoopDestroyedWithASuspendedCoroutineDestroysIt) {
  SocketPair p;
  bool destroyed = false;
  {
    auto loop = make_loop();
    struct Flag {
      bool& set;
      ~Flag() { set = true; }
    };
    // The coroutine owns its Watch, as a connection's owns its stream.
    asio::co_spawn(
        loop->context(),
        [&, l = loop.get()]() -> asio::awaitable<void> {
          Flag flag{destroyed};
          EventLoop::Watch watch(*l, p.a);
          watch.would_block(Dir::read);
          (void)co_await watch.wait(Dir::read, Clock::time_point::max());
          ADD_FAILURE() << "resumed without data";
        },
        asio::detached);
    loop->start_timer(Clock::now() + 30ms, [&] { loop->stop(); });
    loop->run();
    EXPECT_FALSE(destroyed);
  }
  EXPECT_TRUE(destroyed);
}

}  // namespace
}  // namespace bulwark::net
