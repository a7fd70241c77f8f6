// Feeds arbitrary bytes to RequestParser, in chunks of a size the input chooses, and answers
// every request it completes with StaticSite::respond over a small scratch tree; parser
// failures get their error page. Checks that consumption is bounded, that every in-memory
// body matches its Content-Length, that file bodies stay inside the file, and that nothing
// is ever served from outside the root.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "bulwark/http/access_log.hpp"
#include "bulwark/http/request.hpp"
#include "bulwark/http/response.hpp"
#include "bulwark/http/static_site.hpp"

namespace fs = std::filesystem;
using namespace bulwark::http;

namespace {

void check(bool cond) {
  if (!cond) std::abort();
}

// A scratch root with a file, a directory with an index, and a symlink out of the root,
// created once per process and removed at exit.
struct Scratch {
  fs::path top;
  std::optional<StaticSite> site;

  Scratch() {
    char name[] = "/tmp/bulwark-fuzz-http-XXXXXX";
    check(::mkdtemp(name) != nullptr);
    top = name;
    fs::create_directories(top / "root" / "d");
    std::ofstream(top / "root" / "a.txt") << "0123456789";
    std::ofstream(top / "root" / "d" / "index.html") << "<p>i</p>";
    std::ofstream(top / "secret") << "SECRET";
    fs::create_symlink(top / "secret", top / "root" / "out");
    SiteOptions options;
    options.root = top / "root";
    auto opened = StaticSite::open(options);
    check(opened.ok());
    site.emplace(std::move(opened).value());
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(top, ec);
  }
};

Scratch& scratch() {
  static Scratch s;
  return s;
}

std::uint64_t content_length_of(const Response& r) {
  const std::string* v = r.header("Content-Length");
  check(v != nullptr);
  return std::strtoull(v->c_str(), nullptr, 10);
}

void check_response(const Response& r, const Request& request) {
  const std::string head = serialize_head(r);
  check(head.size() >= 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0);
  if (r.status == 304) {
    check(r.body.empty() && !r.file);
    return;
  }
  const std::uint64_t length = content_length_of(r);
  if (request.is_head()) {
    check(r.body.empty() && !r.file);
  } else if (r.file) {
    struct stat st {};
    check(::fstat(r.file->file.get(), &st) == 0 && S_ISREG(st.st_mode));
    check(r.file->length == length && r.file->length > 0);
    check(r.file->offset + r.file->length <= static_cast<std::uint64_t>(st.st_size));
    // Only the two files inside the root exist with these sizes; the secret has 6 bytes.
    check(st.st_size == 10 || st.st_size == 8);
  } else {
    check(r.body.size() == length);
    check(r.body.find("SECRET") == std::string::npos);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = 1 + data[0] % 64;  // how the bytes arrive
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto now = std::chrono::system_clock::time_point{std::chrono::seconds{1700000000}};
  RequestLimits limits;
  limits.max_head_bytes = 1024;  // small enough for the fuzzer to reach every limit
  limits.max_header_count = 8;
  limits.max_target_bytes = 256;
  RequestParser parser(limits);
  std::string queued;
  std::size_t offered = 0;
  int requests = 0;
  while (offered < input.size() || !queued.empty()) {
    if (offered < input.size()) {
      const std::size_t n = std::min(chunk, input.size() - offered);
      queued.append(input.substr(offered, n));
      offered += n;
    }
    const auto progress = parser.feed(queued);
    check(progress.consumed <= queued.size());
    queued.erase(0, progress.consumed);
    if (progress.state == RequestParser::State::complete) {
      const Request& request = parser.request();
      check(request.method == "GET" || request.method == "HEAD");
      check(request.version == 10 || request.version == 11);
      const Response r = scratch().site->respond(request, now);
      check_response(r, request);
      (void)format_access_log("127.0.0.1", request, r.status, r.body_bytes(), now);
      ++requests;
      continue;
    }
    if (progress.state == RequestParser::State::failed) {
      const int status = parser.error_status();
      check(status >= 400 && status <= 505);
      const Response r = error_response(status, parser.request(), now, true);
      check(r.close);
      check_response(r, parser.request());
      (void)format_access_log("127.0.0.1", parser.request(), status, r.body_bytes(), now);
      break;
    }
    // need_more: everything offered was taken.
    check(queued.empty());
    if (offered == input.size()) break;
  }
  check(requests <= static_cast<int>(input.size() / 16) + 1);
  return 0;
}
