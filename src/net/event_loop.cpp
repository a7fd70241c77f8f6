#include "bulwark/net/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>

namespace bulwark::net {

// A suspended coroutine's completion handler, type-erased.
struct EventLoop::Completion {
  virtual ~Completion() = default;
  // Queues the handler on its executor (the loop's io_context), to be called with `status`.
  virtual void post(Status status) = 0;
};

template <class Handler>
struct EventLoop::CompletionFor final : EventLoop::Completion {
  explicit CompletionFor(Handler h) : handler(std::move(h)) {}
  void post(Status status) override {
    auto executor = asio::get_associated_executor(handler);
    asio::post(executor, [h = std::move(handler), s = std::move(status)]() mutable {
      std::move(h)(std::move(s));
    });
  }
  Handler handler;
};

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return Error(Errc::io_error, std::string("epoll_create1: ") + std::strerror(errno));
  const int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    const int e = errno;
    ::close(ep);
    return Error(Errc::io_error, std::string("eventfd: ") + std::strerror(e));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the wake-up descriptor
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, wake, &ev) != 0) {
    const int e = errno;
    ::close(wake);
    ::close(ep);
    return Error(Errc::io_error, std::string("epoll_ctl: ") + std::strerror(e));
  }
  return std::unique_ptr<EventLoop>(new EventLoop(ep, wake));
}

EventLoop::EventLoop(int epoll_fd, int wake_fd)
    : io_(std::make_unique<asio::io_context>(1)),
      work_(asio::make_work_guard(*io_)),
      epoll_fd_(epoll_fd),
      wake_fd_(wake_fd) {}

EventLoop::~EventLoop() {
  // Coroutines still suspended here (a server abandoned with connections open) are destroyed
  // while everything their destructors use is alive: the handlers of the parked waits go
  // first (asio then queues the destruction of their frames), then the io_context with
  // everything it queues.
  for (Watch* w = watches_; w != nullptr; w = w->next_) {
    w->drop(0);
    w->drop(1);
  }
  auto parked = std::move(parked_);
  parked_.clear();
  parked.clear();
  work_.reset();
  io_.reset();
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

std::uint64_t EventLoop::park(std::unique_ptr<Completion> c) {
  const std::uint64_t id = next_id_++;
  parked_.emplace(id, std::move(c));
  return id;
}

bool EventLoop::complete(std::uint64_t id, Status status) {
  const auto it = parked_.find(id);
  if (it == parked_.end()) return false;
  std::unique_ptr<Completion> c = std::move(it->second);
  parked_.erase(it);
  c->post(std::move(status));
  return true;
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(posted_mu_);
    posted_.push_back(std::move(fn));
  }
  const std::uint64_t one = 1;
  // A full counter (2^64 - 2 wake-ups unread) cannot happen; the loop reads it every round.
  (void)!::write(wake_fd_, &one, sizeof one);
}

void EventLoop::drain_posted() {
  std::uint64_t count = 0;
  (void)!::read(wake_fd_, &count, sizeof count);
  std::vector<std::function<void()>> fns;
  {
    std::lock_guard lock(posted_mu_);
    fns.swap(posted_);
  }
  for (auto& fn : fns)
    fn();
}

EventLoop::TimerId EventLoop::start_timer(Clock::time_point when, std::function<void()> fn) {
  const TimerId id = next_id_++;
  timers_.emplace(std::make_pair(when, id), std::move(fn));
  timer_when_.emplace(id, when);
  return id;
}

void EventLoop::cancel_timer(TimerId id) noexcept {
  if (id == 0) return;
  const auto it = timer_when_.find(id);
  if (it == timer_when_.end()) return;
  timers_.erase(std::make_pair(it->second, id));
  timer_when_.erase(it);
}

int EventLoop::next_timeout_ms() const {
  if (timers_.empty() && deadlines_.empty()) return -1;
  Clock::time_point first = Clock::time_point::max();
  if (!timers_.empty()) first = timers_.begin()->first.first;
  if (!deadlines_.empty()) first = std::min(first, deadlines_.front().when);
  const auto left = first - now_;
  if (left <= Clock::duration::zero()) return 0;
  // Rounded up: waking before the deadline would only wait again.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 60'000 ? 60'000 : static_cast<int>(ms);
}

void EventLoop::fire_timers() {
  const Clock::time_point now = now_;
  while (!deadlines_.empty() && deadlines_.front().when <= now) {
    const Deadline d = deadlines_.front();
    heap_remove(0);
    d.watch->finish(static_cast<Watch::Dir>(d.dir),
                    Error(Errc::timed_out, "no progress within the time limit"));
  }
  std::vector<std::function<void()>> due;
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto node = timers_.extract(timers_.begin());
    timer_when_.erase(node.key().second);
    due.push_back(std::move(node.mapped()));
  }
  for (auto& fn : due)
    fn();
}

void EventLoop::heap_set(std::size_t index, const Deadline& d) noexcept {
  deadlines_[index] = d;
  d.watch->heap_index_[d.dir] = index;
}

void EventLoop::heap_place(std::size_t index) noexcept {
  const Deadline d = deadlines_[index];
  while (index > 0) {  // up
    const std::size_t parent = (index - 1) / 2;
    if (!(d.when < deadlines_[parent].when)) break;
    heap_set(index, deadlines_[parent]);
    index = parent;
  }
  for (;;) {  // down
    std::size_t child = 2 * index + 1;
    if (child >= deadlines_.size()) break;
    if (child + 1 < deadlines_.size() && deadlines_[child + 1].when < deadlines_[child].when) {
      ++child;
    }
    if (!(deadlines_[child].when < d.when)) break;
    heap_set(index, deadlines_[child]);
    index = child;
  }
  heap_set(index, d);
}

void EventLoop::heap_push(Watch& w, int dir, Clock::time_point when) {
  deadlines_.push_back(Deadline{when, &w, dir});
  heap_place(deadlines_.size() - 1);
}

void EventLoop::heap_remove(std::size_t index) noexcept {
  deadlines_[index].watch->heap_index_[deadlines_[index].dir] = Watch::npos;
  const Deadline last = deadlines_.back();
  deadlines_.pop_back();
  if (index == deadlines_.size()) return;
  heap_set(index, last);
  heap_place(index);
}

void EventLoop::run() {
  std::array<epoll_event, 64> events;
  stopping_ = false;
  now_ = Clock::now();
  for (;;) {
    io_->poll();
    if (stopping_) return;
    const int n =
        ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), next_timeout_ms());
    now_ = Clock::now();
    bool woken = false;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        woken = true;
      } else {
        static_cast<Watch*>(events[i].data.ptr)->on_event(events[i].events);
      }
    }
    // Functions from other threads run after the batch: they may close descriptors whose
    // events the batch still holds.
    if (woken) drain_posted();
    fire_timers();
  }
}

asio::awaitable<void> EventLoop::sleep_until(Clock::time_point when) {
  (void)co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(Status)>(
      [this, when](auto handler) {
        using H = decltype(handler);
        const std::uint64_t id = park(std::make_unique<CompletionFor<H>>(std::move(handler)));
        start_timer(when, [this, id] { complete(id, Status{}); });
      },
      asio::use_awaitable);
}

// ---- Watch -----------------------------------------------------------------------------------

// Writability is asked for only once a send said EAGAIN (a short response never needs it): a
// socket registered writable would be reported so at once, one more round of the loop per
// connection.
EventLoop::Watch::Watch(EventLoop& loop, int fd, bool level) : loop_(loop), fd_(fd), level_(level) {
  epoll_event ev{};
  ev.events = level ? EPOLLIN : (EPOLLIN | EPOLLRDHUP | EPOLLET);
  ev.data.ptr = this;
  registered_ = fd >= 0 && ::epoll_ctl(loop_.epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
  next_ = loop_.watches_;
  if (next_ != nullptr) next_->prev_ = this;
  loop_.watches_ = this;
}

EventLoop::Watch::~Watch() {
  // A wait still parked (the Watch goes while a coroutine waits on it, as a listener's does
  // when its server is destroyed) is never resumed: its handler goes, and asio destroys the
  // coroutine's frames later (through the io_context).
  drop(0);
  drop(1);
  if (prev_ != nullptr) {
    prev_->next_ = next_;
  } else {
    loop_.watches_ = next_;
  }
  if (next_ != nullptr) next_->prev_ = prev_;
}

void EventLoop::Watch::drop(int i) noexcept {
  if (heap_index_[i] != npos) loop_.heap_remove(heap_index_[i]);
  Completion* c = waiter_[i];
  if (c == nullptr) return;
  waiter_[i] = nullptr;
  if (waiter_inline_[i]) {
    c->~Completion();
  } else {
    delete c;
  }
}

void EventLoop::Watch::pause(bool paused) noexcept {
  if (!registered_ || !level_) return;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = this;
  (void)::epoll_ctl(loop_.epoll_fd_, paused ? EPOLL_CTL_DEL : EPOLL_CTL_ADD, fd_, &ev);
}

void EventLoop::Watch::would_block(Dir d) noexcept {
  ready_[static_cast<int>(d)] = false;
  if (d != Dir::write || watching_writes_ || !registered_) return;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = this;
  watching_writes_ = ::epoll_ctl(loop_.epoll_fd_, EPOLL_CTL_MOD, fd_, &ev) == 0;
}

void EventLoop::Watch::on_event(std::uint32_t events) noexcept {
  if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) hangup_ = true;
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    ready_[0] = true;
    finish(Dir::read, Status{});
  }
  if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) {
    ready_[1] = true;
    finish(Dir::write, Status{});
  }
}

void EventLoop::Watch::finish(Dir d, Status status) noexcept {
  const int i = static_cast<int>(d);
  Completion* c = waiter_[i];
  if (c == nullptr) return;
  if (heap_index_[i] != npos) loop_.heap_remove(heap_index_[i]);
  waiter_[i] = nullptr;
  c->post(std::move(status));  // the handler moves out into the io_context's queue
  if (waiter_inline_[i]) {
    c->~Completion();
  } else {
    delete c;
  }
}

void EventLoop::Watch::cancel() noexcept {
  finish(Dir::read, Error(Errc::closed, "the wait was cancelled"));
  finish(Dir::write, Error(Errc::closed, "the wait was cancelled"));
}

void EventLoop::Watch::closing() noexcept {
  registered_ = false;
  cancel();
}

EventLoop::Descriptor::Descriptor(EventLoop& loop, int fd, bool level)
    : fd_(fd), watch_(std::make_unique<Watch>(loop, fd, level)) {}

EventLoop::Descriptor::~Descriptor() {
  watch_.reset();
  if (fd_ >= 0) ::close(fd_);
}

void EventLoop::Descriptor::close() noexcept {
  if (fd_ < 0) return;
  watch_->closing();
  ::close(fd_);
  fd_ = -1;
}

asio::awaitable<Status> EventLoop::Watch::wait(Dir d, Clock::time_point deadline) {
  const int i = static_cast<int>(d);
  if (ready_[i]) co_return Status{};
  if (!registered_) co_return Error(Errc::closed, "the socket is closed");
  if (loop_.now() >= deadline) {
    co_return Error(Errc::timed_out, "no progress within the time limit");
  }
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(Status)>(
      [this, i, deadline](auto handler) {
        using C = CompletionFor<decltype(handler)>;
        if constexpr (sizeof(C) <= kInline && alignof(C) <= alignof(std::max_align_t)) {
          waiter_[i] = new (storage_[i]) C(std::move(handler));
          waiter_inline_[i] = true;
        } else {
          waiter_[i] = new C(std::move(handler));
          waiter_inline_[i] = false;
        }
        if (deadline != Clock::time_point::max()) loop_.heap_push(*this, i, deadline);
      },
      asio::use_awaitable);
}

}  // namespace bulwark::net
