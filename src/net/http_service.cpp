#include "bulwark/net/http_service.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "bulwark/http/access_log.hpp"
#include "bulwark/http/response.hpp"

namespace bulwark::net {

namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A file body goes out four full records (2^14 bytes of plaintext each, RFC 8446 §5.1) per
// pread() and per send(): a quarter of the system calls of a record at a time (each costs
// about a microsecond on the machines we measure), for 64 KiB taken while a body is sent.
constexpr std::size_t kChunk = 64 * 1024;

// Chunk buffers are taken only while a file body is being sent and returned to a free list of
// the worker's thread (at most 8 kept: 512 KiB): no allocation per response after warm-up,
// none held by idle connections.
class ChunkBuffer {
 public:
  using Storage = std::array<std::uint8_t, kChunk>;
  ChunkBuffer() {
    auto& pool = free_list();
    if (pool.empty()) {
      storage_ = std::make_unique<Storage>();
    } else {
      storage_ = std::move(pool.back());
      pool.pop_back();
    }
  }
  ~ChunkBuffer() {
    auto& pool = free_list();
    if (pool.size() < 8) pool.push_back(std::move(storage_));
  }
  ChunkBuffer(const ChunkBuffer&) = delete;
  ChunkBuffer& operator=(const ChunkBuffer&) = delete;
  std::uint8_t* data() noexcept { return storage_->data(); }

 private:
  static std::vector<std::unique_ptr<Storage>>& free_list() {
    thread_local std::vector<std::unique_ptr<Storage>> pool;
    return pool;
  }
  std::unique_ptr<Storage> storage_;
};

// Reads exactly `length` bytes at `offset`; false on an error or a file that shrank.
bool pread_exact(int fd, std::uint8_t* out, std::size_t length, std::uint64_t offset) {
  while (length > 0) {
    const ssize_t n = ::pread(fd, out, length, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    length -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

// The server is stopping: this response is the connection's last, and says so.
void make_last(http::Response& response) {
  response.close = true;
  for (http::Header& h : response.headers) {
    if (h.name.size() == 10 && ::strncasecmp(h.name.c_str(), "connection", 10) == 0) {
      h.value = "close";
      return;
    }
  }
  response.headers.push_back({"Connection", "close"});
}

// Sends the head and the body. A file body that cannot be read in full (it shrank) aborts
// the connection: the peer then sees a truncation, not a short body with a clean close.
Task<Status> send_response(TlsStream& stream, const http::Response& response, std::string& head,
                           const HttpServiceOptions& options) {
  head.clear();
  http::serialize_head(response, head);
  stream.set_timeout(options.send_timeout);
  if (!response.file || response.file->length == 0) {
    if (response.body.empty()) co_return co_await stream.write(wire::as_bytes(head));
    const wire::Bytes pieces[] = {wire::as_bytes(head), wire::as_bytes(response.body)};
    co_return co_await stream.write(std::span<const wire::Bytes>(pieces));
  }
  const http::FileBody& file = *response.file;
  ChunkBuffer buffer;
  std::uint64_t offset = file.offset;
  std::uint64_t left = file.length;
  // The head shares the first record with the start of the body.
  std::size_t used = 0;
  if (head.size() < kChunk / 2) {
    std::memcpy(buffer.data(), head.data(), head.size());
    used = head.size();
  } else {
    BW_CO_TRY(co_await stream.write(wire::as_bytes(head)));
  }
  while (left > 0) {
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk - used, left));
    if (!pread_exact(file.file.get(), buffer.data() + used, take, offset)) {
      stream.close();
      co_return Error(Errc::io_error, "the file shrank while it was being sent");
    }
    stream.set_timeout(options.send_timeout);
    BW_CO_TRY(co_await stream.write(wire::Bytes(buffer.data(), used + take)));
    offset += take;
    left -= take;
    used = 0;
  }
  co_return Status{};
}

}  // namespace

// ---- access log ------------------------------------------------------------------------------

Result<std::shared_ptr<AccessLog>> AccessLog::open(const std::string& path) {
  if (path == "-") return std::shared_ptr<AccessLog>(new AccessLog(STDOUT_FILENO, false));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Error(Errc::io_error,
                 "cannot open the access log " + path + ": " + std::strerror(errno));
  }
  return std::shared_ptr<AccessLog>(new AccessLog(fd, true));
}

AccessLog::~AccessLog() {
  if (owned_) ::close(fd_);
}

void AccessLog::write(std::string_view line) const noexcept {
  while (!line.empty()) {
    const ssize_t n = ::write(fd_, line.data(), line.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk must not stop the server
    line.remove_prefix(static_cast<std::size_t>(n));
  }
}

// ---- the connection loop ---------------------------------------------------------------------

Task<void> serve_http(TlsStream& stream, ConnectionContext& ctx, const http::StaticSite& site,
                      const HttpServiceOptions& options) {
  // Made at the first byte of the first request: an idle connection holds no parser.
  std::optional<http::RequestParser> parser;
  std::optional<SteadyClock::time_point> header_deadline;
  std::string head;
  std::string log_line;
  for (;;) {
    if (!header_deadline) {
      // Between requests: nothing in flight, so a shutdown may interrupt this wait.
      if (ctx.stopping()) co_return;
      stream.set_timeout(options.idle_timeout);
      ctx.set_idle(true);
    } else {
      const auto left =
          std::chrono::duration_cast<milliseconds>(*header_deadline - SteadyClock::now());
      if (left.count() <= 0) co_return;  // slow-loris: the head did not arrive in time
      stream.set_timeout(left);
    }
    auto view = co_await stream.read_view();
    ctx.set_idle(false);
    // A time limit, an error, or the peer's close_notify: the server closes.
    if (!view || view->empty()) co_return;
    if (!parser) parser.emplace(options.limits);
    const http::RequestParser::Progress progress = parser->feed(*view);
    stream.consume(progress.consumed);
    if (progress.state == http::RequestParser::State::need_more) {
      if (!header_deadline && parser->started()) {
        header_deadline = SteadyClock::now() + options.header_timeout;
      }
      continue;
    }
    header_deadline.reset();
    const auto now = std::chrono::system_clock::now();
    const bool failed = progress.state == http::RequestParser::State::failed;
    http::Response response =
        failed ? http::error_response(parser->error_status(), parser->request(), now, true)
               : site.respond(parser->request(), now);
    if (ctx.stopping() && !response.close) make_last(response);
    const Status sent = co_await send_response(stream, response, head, options);
    if (options.access_log) {
      log_line.clear();
      http::append_access_log(log_line, ctx.peer_address(), parser->request(), response.status,
                              sent ? response.body_bytes() : 0, now);
      options.access_log->write(log_line);
    }
    if (!sent || response.close || failed) co_return;
  }
}

}  // namespace bulwark::net
