// HTTP/1.1 responses: status, header fields, and a body that is either bytes in memory or a
// range of an open file (sent by the I/O layer with pread/sendfile, never read whole).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/http/request.hpp"

namespace bulwark::http {

// "bulwark/VERSION", the Server field of every response.
std::string_view server_name() noexcept;

// The reason phrase of a status code ("Not Found"); "Unknown" for codes we never send.
std::string_view reason_phrase(int status) noexcept;

// An owned file descriptor, closed on destruction.
class FileHandle {
 public:
  FileHandle() noexcept = default;
  explicit FileHandle(int fd) noexcept : fd_(fd) {}
  FileHandle(FileHandle&& o) noexcept : fd_(o.release()) {}
  FileHandle& operator=(FileHandle&& o) noexcept;
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  ~FileHandle();

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// `length` bytes of an open regular file starting at `offset` (already checked against the
// size seen by fstat on this very descriptor).
struct FileBody {
  FileHandle file;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

struct Header {
  std::string name;
  std::string value;
};

struct Response {
  int status = 200;
  std::vector<Header> headers;   // in the order they are sent
  std::string body;              // the in-memory body (empty for HEAD, 304 and file bodies)
  std::optional<FileBody> file;  // the file body, when there is one (never for HEAD)
  // The connection must be closed after this response (the head says "Connection: close").
  bool close = false;

  std::string_view reason() const noexcept { return reason_phrase(status); }
  // The first field with this name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const noexcept;
  // How many body bytes follow the head on the wire (what the access log counts).
  std::uint64_t body_bytes() const noexcept {
    return file ? file->length : static_cast<std::uint64_t>(body.size());
  }
};

// Appends the status line, the header fields and the empty line to `out`.
void serialize_head(const Response& response, std::string& out);
std::string serialize_head(const Response& response);

// A complete error response: short HTML body naming the status, Date, Server, Content-Type,
// Content-Length, Allow on 405, "Connection: close" when `close`. No body for HEAD requests
// (same header fields). Used for parser failures (then close = true) and by StaticSite.
Response error_response(int status, const Request& request,
                        std::chrono::system_clock::time_point now, bool close);

}  // namespace bulwark::http
