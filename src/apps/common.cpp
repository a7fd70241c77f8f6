#include "apps/common.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace bulwark::apps {

int fail(std::string_view cmd, std::string_view cause, std::string_view remedy) {
  if (remedy.empty()) {
    fmt::print(stderr, "bulwark {}: {}\n", cmd, cause);
  } else {
    fmt::print(stderr, "bulwark {}: {} — {}\n", cmd, cause, remedy);
  }
  return exit_failure;
}

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(Errc::io_error,
                 fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

Status write_file(const std::filesystem::path& path, std::string_view contents,
                  std::filesystem::perms perms) {
  const std::string tmp = path.string() + ".tmp";
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(perms));
  auto os_error = [&](const char* what) {
    return Error(Errc::io_error,
                 fmt::format("cannot {} {}: {}", what, path.string(), std::strerror(errno)));
  };
  if (fd < 0) return os_error("create");
  // The umask may have cleared bits we asked for, or the file may have existed: set them.
  bool good = ::fchmod(fd, static_cast<mode_t>(perms)) == 0;
  std::string_view left = contents;
  while (good && !left.empty()) {
    const ssize_t n = ::write(fd, left.data(), left.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      good = false;
      break;
    }
    left.remove_prefix(static_cast<std::size_t>(n));
  }
  good = good && ::fsync(fd) == 0;
  if (::close(fd) != 0) good = false;
  if (!good || std::rename(tmp.c_str(), path.c_str()) != 0) {
    auto e = os_error("write");
    ::unlink(tmp.c_str());
    return e;
  }
  return {};
}

}  // namespace bulwark::apps
