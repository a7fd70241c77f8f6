// net::EventLoop: one thread's event loop for net::Server, on epoll directly.
//
// Asio's reactor re-arms a descriptor (EPOLL_CTL_MOD) for every wait, switches each socket to
// non-blocking mode with an ioctl and arms a timerfd for timeouts: about a third of the system
// calls of a short TLS connection. This loop keeps each socket registered once, edge-triggered,
// remembers what epoll said (readable, writable, the peer closed) until a recv or send says
// EAGAIN, keeps its timers in a map (no system call to arm one), and takes functions posted
// from other threads through an eventfd.
//
// Coroutines (asio::awaitable) run on the loop's io_context, which serves as an executor
// only: asio's own reactor is never started, so code running on the loop must not use asio
// sockets or timers (they would never be waited for); it awaits Watch::wait and sleep_until.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "bulwark/result.hpp"

namespace bulwark::net {

namespace asio = boost::asio;

class EventLoop {
  struct Completion;  // a parked coroutine's completion handler, type-erased
  template <class Handler>
  struct CompletionFor;

 public:
  using Clock = std::chrono::steady_clock;
  using TimerId = std::uint64_t;  // 0: none

  // epoll and eventfd descriptors: fails only when the process is out of descriptors.
  static Result<std::unique_ptr<EventLoop>> create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  asio::io_context& context() noexcept { return *io_; }

  // One registered descriptor (not owned: close it after the Watch is gone, or let the Watch
  // go first). At most one wait per direction at a time.
  class Watch {
   public:
    enum class Dir : std::uint8_t { read = 0, write = 1 };
    // Registers `fd` edge-triggered for reading and writing. `level`: level-triggered and for
    // reading only (listeners: one accept per report, no accept that says EAGAIN).
    Watch(EventLoop& loop, int fd, bool level = false);
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

    int fd() const noexcept { return fd_; }
    EventLoop& loop() const noexcept { return loop_; }
    bool registered() const noexcept { return registered_; }
    // What epoll said since the last would_block(): a recv / send is worth trying.
    bool ready(Dir d) const noexcept { return ready_[static_cast<int>(d)]; }
    // A recv / send said EAGAIN: wait for epoll's next report.
    void would_block(Dir d) noexcept;
    // A recv returned less than it asked for: the socket is drained, unless epoll already
    // reported the peer's end or an error (those stay readable with no report to come).
    void drained() noexcept {
      if (!hangup_) ready_[0] = false;
    }
    // Suspends until the direction is ready (at once if it is), `deadline` passes (timed_out)
    // or cancel() is called (closed). Clock::time_point::max(): no deadline.
    asio::awaitable<Status> wait(Dir d, Clock::time_point deadline);
    // Ends the pending waits with Errc::closed.
    void cancel() noexcept;
    // A level-triggered Watch nobody waits on is reported again by every round of the loop:
    // leave epoll while not accepting (paused), come back after.
    void pause(bool paused) noexcept;
    // The descriptor is about to be closed (which takes it out of epoll): the pending waits
    // end with Errc::closed and later ones fail at once. The destructor does not touch epoll
    // either: close the descriptor when the Watch goes.
    void closing() noexcept;

   private:
    friend class EventLoop;
    static constexpr std::size_t kInline = 96;  // an awaitable's completion handler fits
    void on_event(std::uint32_t events) noexcept;
    void finish(Dir d, Status status) noexcept;
    // Destroys the parked handler without resuming it (asio then destroys its frames).
    void drop(int i) noexcept;

    EventLoop& loop_;
    int fd_;
    bool registered_ = false;
    bool hangup_ = false;           // the peer's end or an error was reported
    bool watching_writes_ = false;  // EPOLLOUT asked for (after the first blocked send)
    bool level_ = false;
    bool ready_[2] = {true, true};  // try first: a socket just accepted usually has data
    // The parked waits: their handlers live here (no allocation per wait) unless too big.
    Completion* waiter_[2] = {nullptr, nullptr};
    bool waiter_inline_[2] = {false, false};
    alignas(std::max_align_t) unsigned char storage_[2][kInline];
    // Their deadlines, in the loop's deadline heap (npos: none).
    std::size_t heap_index_[2] = {npos, npos};
    // The loop's list of Watches (to drop their waits when the loop goes).
    Watch* prev_ = nullptr;
    Watch* next_ = nullptr;
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  };

  // A descriptor owned together with its Watch: close() ends the pending waits and closes
  // it; otherwise it is closed when it goes, after its Watch.
  class Descriptor {
   public:
    Descriptor(EventLoop& loop, int fd, bool level = false);
    ~Descriptor();
    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
    int fd() const noexcept { return fd_; }
    bool is_open() const noexcept { return fd_ >= 0; }
    Watch& watch() noexcept { return *watch_; }
    void close() noexcept;

   private:
    int fd_;
    std::unique_ptr<Watch> watch_;
  };

  // Runs until stop(): the ready coroutines, then epoll, then the expired timers.
  void run();
  // The time the loop last woke up: late by at most one round's work, which deadlines of
  // seconds do not notice, and read once per round instead of at every wait (about ten clock
  // reads per TLS handshake otherwise). From the loop's thread.
  Clock::time_point now() const noexcept { return now_; }
  // From the loop's thread: run() returns after the current round.
  void stop() noexcept { stopping_ = true; }
  bool stopping() const noexcept { return stopping_; }
  // From any thread: `fn` runs on the loop's thread.
  void post(std::function<void()> fn);

  // `fn` runs on the loop's thread at `when` (or a little after), unless cancelled first.
  TimerId start_timer(Clock::time_point when, std::function<void()> fn);
  void cancel_timer(TimerId id) noexcept;
  // Suspends the calling coroutine until `when`.
  asio::awaitable<void> sleep_until(Clock::time_point when);

 private:
  EventLoop(int epoll_fd, int wake_fd);
  friend class Watch;
  // Deadlines of parked waits: a binary min-heap whose entries know their place (each Watch
  // keeps its index), so arming and disarming allocate nothing and take O(log n).
  struct Deadline {
    Clock::time_point when;
    Watch* watch;
    int dir;
  };
  void heap_push(Watch& w, int dir, Clock::time_point when);
  void heap_remove(std::size_t index) noexcept;
  void heap_place(std::size_t index) noexcept;  // sifts the entry at `index` into place
  void heap_set(std::size_t index, const Deadline& d) noexcept;
  // Keeps a suspended coroutine's completion handler until complete() or the loop's end.
  std::uint64_t park(std::unique_ptr<Completion> c);
  // Resumes it (through the io_context) with `status`; false if it is no longer parked.
  bool complete(std::uint64_t id, Status status);
  void drain_posted();
  int next_timeout_ms() const;
  void fire_timers();

  // Reset by the destructor after the parked handlers are gone and before the rest: the
  // completions it still queues own coroutine frames whose destructors use the loop.
  std::unique_ptr<asio::io_context> io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  int epoll_fd_;
  int wake_fd_;
  bool stopping_ = false;
  Clock::time_point now_ = Clock::now();
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::unique_ptr<Completion>> parked_;
  Watch* watches_ = nullptr;  // every live Watch
  std::vector<Deadline> deadlines_;
  std::map<std::pair<Clock::time_point, TimerId>, std::function<void()>> timers_;
  std::unordered_map<TimerId, Clock::time_point> timer_when_;
  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_;
};

}  // namespace bulwark::net
