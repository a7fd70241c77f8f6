// StaticSite: files under one root, looked up beneath the root's descriptor, answered with
// validators, conditional requests and single byte ranges (RFC 9110 §13, §14).
#include "bulwark/http/static_site.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bulwark/http/date.hpp"
#include "common.hpp"
#include "target.hpp"

namespace bulwark::http {
namespace {

using std::chrono::sys_seconds;
using time_point = std::chrono::system_clock::time_point;

struct MimeType {
  std::string_view extension;
  std::string_view type;
};

constexpr std::array<MimeType, 44> kMimeTypes = {{
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "text/xml; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/vnd.microsoft.icon"},
    {"bmp", "image/bmp"},
    {"pdf", "application/pdf"},
    {"wasm", "application/wasm"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"wav", "audio/wav"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"xz", "application/x-xz"},
    {"zst", "application/zstd"},
    {"pem", "application/x-pem-file"},
    {"crt", "application/x-x509-ca-cert"},
    {"der", "application/x-x509-ca-cert"},
    {"rss", "application/rss+xml"},
    {"atom", "application/atom+xml"},
    {"webmanifest", "application/manifest+json"},
    {"ics", "text/calendar; charset=utf-8"},
    {"bin", "application/octet-stream"},
}};

// Last-Modified must be a valid HTTP-date: years 1970..9999.
sys_seconds last_modified_of(const struct stat& st) {
  constexpr std::int64_t kLatest = 253402300799;  // 9999-12-31T23:59:59Z
  const std::int64_t sec = std::clamp<std::int64_t>(st.st_mtim.tv_sec, 0, kLatest);
  return sys_seconds{std::chrono::seconds{sec}};
}

std::string entity_tag_of(const struct stat& st) {
  // Strong: the modification time to the nanosecond and the size of the file opened. Wraps
  // (unsigned) for absurd times, which only makes the tag opaque, as it is meant to be.
  const std::uint64_t mtime_ns = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000u +
                                 static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
  char buf[48];
  const int n =
      std::snprintf(buf, sizeof buf, "\"%llx-%llx\"", static_cast<unsigned long long>(mtime_ns),
                    static_cast<unsigned long long>(st.st_size));
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// An entity-tag at the start of `s` (RFC 9110 §8.8.3): W/"opaque" or "opaque". Advances `s`.
struct EntityTag {
  bool weak;
  std::string_view opaque;  // with its quotes
};
std::optional<EntityTag> take_entity_tag(std::string_view& s) {
  EntityTag tag{false, {}};
  if (s.substr(0, 2) == "W/") {
    tag.weak = true;
    s.remove_prefix(2);
  }
  if (s.empty() || s.front() != '"') return std::nullopt;
  const std::size_t close = s.find('"', 1);
  if (close == std::string_view::npos) return std::nullopt;
  tag.opaque = s.substr(0, close + 1);
  s.remove_prefix(close + 1);
  return tag;
}

// If-None-Match (RFC 9110 §13.1.2): "*" or a list of entity-tags, compared weakly.
bool none_match_fails(std::string_view field, std::string_view our_tag) {
  std::string_view s = trim_ows(field);
  if (s == "*") return true;
  while (!s.empty()) {
    s = trim_ows(s);
    if (!s.empty() && s.front() == ',') {
      s.remove_prefix(1);
      continue;
    }
    const auto tag = take_entity_tag(s);
    if (!tag) return false;  // malformed: no match, the full response is always safe
    if (tag->opaque == our_tag) return true;
  }
  return false;
}

// If-Range (RFC 9110 §13.1.5): the Range applies only if the validator still matches,
// strongly for an entity-tag, exactly for a date.
bool if_range_matches(std::string_view field, std::string_view our_tag, sys_seconds modified,
                      sys_seconds now) {
  std::string_view s = trim_ows(field);
  if (s.substr(0, 2) == "W/" || (!s.empty() && s.front() == '"')) {
    const auto tag = take_entity_tag(s);
    return tag && s.empty() && !tag->weak && tag->opaque == our_tag;
  }
  const auto date = parse_http_date(s, now);
  return date && *date == modified;
}

struct ByteRange {
  enum class Kind { ignore, unsatisfiable, satisfiable } kind = Kind::ignore;
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

bool parse_u64(std::string_view digits, std::uint64_t& value) {
  if (digits.empty() || digits.size() > 19) return false;  // 19 digits always fit
  std::uint64_t v = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  value = v;
  return true;
}

// Range (RFC 9110 §14.2) for a representation of `size` bytes. One range-spec is served
// as 206; several, an invalid set or another unit are ignored (a 200 is always allowed).
ByteRange evaluate_range(std::string_view field, std::uint64_t size) {
  ByteRange r;
  std::string_view s = trim_ows(field);
  const std::size_t eq = s.find('=');
  if (eq == std::string_view::npos || !detail::iequals(trim_ows(s.substr(0, eq)), "bytes"))
    return r;
  const std::string_view spec = trim_ows(s.substr(eq + 1));
  if (spec.find(',') != std::string_view::npos) return r;
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return r;
  const std::string_view first_text = trim_ows(spec.substr(0, dash));
  const std::string_view last_text = trim_ows(spec.substr(dash + 1));
  if (first_text.empty()) {
    // suffix-range: the last N bytes.
    std::uint64_t suffix = 0;
    if (!parse_u64(last_text, suffix)) return r;
    // RFC 9110 §14.1.2: a suffix-range with a zero suffix-length is unsatisfiable.
    if (suffix == 0) {
      r.kind = ByteRange::Kind::unsatisfiable;
      return r;
    }
    if (size == 0) return r;  // nothing to cut a range from: the (empty) 200
    r.kind = ByteRange::Kind::satisfiable;
    r.length = std::min(suffix, size);
    r.first = size - r.length;
    return r;
  }
  std::uint64_t first = 0;
  if (!parse_u64(first_text, first)) return r;
  std::uint64_t last = UINT64_MAX;
  if (!last_text.empty()) {
    if (!parse_u64(last_text, last)) return r;
    if (last < first) return r;  // RFC 9110 §14.1.1: invalid range-spec
  }
  // RFC 9110 §14.1.2: an int-range is satisfiable only if first-pos < length.
  if (first >= size) {
    r.kind = ByteRange::Kind::unsatisfiable;
    return r;
  }
  r.kind = ByteRange::Kind::satisfiable;
  r.first = first;
  r.length = std::min(last, size - 1) - first + 1;
  return r;
}

struct CloseDir {
  void operator()(DIR* d) const noexcept { ::closedir(d); }
};

// Whether a path names a hidden file: a segment starting with '.', except /.well-known/
// (RFC 8615, where ACME challenges and security.txt live).
bool is_hidden(const std::vector<std::string>& segments) {
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (segments[i].empty() || segments[i].front() != '.') continue;
    if (i == 0 && segments[i] == ".well-known") continue;
    return true;
  }
  return false;
}

constexpr std::string_view kBuiltinPage =
    "<!DOCTYPE html>\n"
    "<html><head><meta charset=\"utf-8\"><title>bulwark serve</title></head>\n"
    "<body><h1>bulwark serve works</h1>\n"
    "<p>This page is built into bulwark/" BULWARK_VERSION
    ". Give <code>bulwark serve</code> a directory to serve files from it.</p>\n"
    "</body></html>\n";

}  // namespace

std::string_view content_type_for(std::string_view file_name) noexcept {
  const std::size_t dot = file_name.rfind('.');
  const std::size_t slash = file_name.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
    return "application/octet-stream";
  const std::string_view extension = file_name.substr(dot + 1);
  for (const auto& m : kMimeTypes)
    if (detail::iequals(m.extension, extension)) return m.type;
  return "application/octet-stream";
}

namespace {

// A small file kept in memory, with the stat it was read under.
struct CachedFile {
  struct stat st {};
  std::string content;
};

bool same_file(const struct stat& a, const struct stat& b) noexcept {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mode == b.st_mode && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec && a.st_ctim.tv_sec == b.st_ctim.tv_sec &&
         a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

// Small files by their path under the root, revalidated by a stat of that path on every use:
// the cached bytes are served only while the path names the same inode with the same size,
// mode, modification and change times (a chmod or a rename changes the change time). A path
// that now leads elsewhere (say, a symlink out of the root) names another inode and takes the
// normal way, through openat2. Bounded: when full, it starts over.
class FileCache {
 public:
  FileCache(std::size_t budget, std::size_t max_file) : budget_(budget), max_file_(max_file) {}

  bool enabled() const noexcept { return budget_ > 0 && max_file_ > 0; }

  // The cached file at `relative` if `root_fd`/`relative` is still the file it was read from.
  std::shared_ptr<const CachedFile> find(int root_fd, const std::string& relative,
                                         struct stat& now_st) const {
    std::shared_ptr<const CachedFile> entry;
    {
      std::shared_lock lock(mutex_);
      const auto it = entries_.find(relative);
      if (it == entries_.end()) return nullptr;
      entry = it->second;
    }
    if (::fstatat(root_fd, relative.c_str(), &now_st, 0) != 0 || !same_file(now_st, entry->st)) {
      std::unique_lock lock(mutex_);
      const auto it = entries_.find(relative);
      if (it != entries_.end() && it->second == entry) {
        used_ -= entry->content.size();
        entries_.erase(it);
      }
      return nullptr;
    }
    return entry;
  }

  // Reads a regular file opened at `relative` into the cache when it is small and has not
  // changed in the last two seconds (a change within the same timestamp tick as the read
  // would go unseen). Null when it is not cached.
  std::shared_ptr<const CachedFile> fill(const std::string& relative, int fd, const struct stat& st,
                                         time_point now) const {
    const auto size = static_cast<std::size_t>(st.st_size);
    if (!enabled() || size > max_file_ || size > budget_) return nullptr;
    const auto settled = std::chrono::system_clock::to_time_t(now) - 2;
    if (st.st_mtim.tv_sec >= settled || st.st_ctim.tv_sec >= settled) return nullptr;
    auto entry = std::make_shared<CachedFile>();
    entry->st = st;
    entry->content.resize(size);
    std::size_t done = 0;
    while (done < size) {
      const ssize_t n =
          ::pread(fd, entry->content.data() + done, size - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return nullptr;  // an error, or the file shrank: not cached
      done += static_cast<std::size_t>(n);
    }
    std::unique_lock lock(mutex_);
    if (used_ + size > budget_) {
      entries_.clear();
      used_ = 0;
    }
    auto& slot = entries_[relative];
    if (slot) used_ -= slot->content.size();
    slot = entry;
    used_ += size;
    return entry;
  }

 private:
  const std::size_t budget_;
  const std::size_t max_file_;
  mutable std::shared_mutex mutex_;
  mutable std::unordered_map<std::string, std::shared_ptr<const CachedFile>> entries_;
  mutable std::size_t used_ = 0;
};

}  // namespace

struct StaticSite::Impl {
  explicit Impl(SiteOptions o)
      : options(std::move(o)), cache(options.cache_bytes, options.cache_file_bytes) {}

  SiteOptions options;
  FileCache cache;
  FileHandle root;                       // O_PATH descriptor of the root directory
  std::filesystem::path root_canonical;  // for the fallback without openat2
  bool beneath = false;                  // openat2(RESOLVE_BENEATH) works here

  // Opens `relative` (no leading '/', "." for the root) beneath the root. A descriptor, or
  // -errno. With openat2 the kernel refuses any step out of the root, by "..", by an
  // absolute symlink or by a relative one (EXDEV), and magic links (/proc/self/fd/N).
  int open_beneath(const std::string& relative, int flags) const {
    if (beneath) {
      struct open_how how {};
      how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
      how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
      for (int attempt = 0; attempt < 4; ++attempt) {
        const long fd = ::syscall(SYS_openat2, root.get(), relative.c_str(), &how, sizeof how);
        if (fd >= 0) return static_cast<int>(fd);
        // EAGAIN: a concurrent rename made the kernel unsure; it asks us to retry.
        if (errno != EAGAIN && errno != EINTR) return -errno;
      }
      return -EAGAIN;
    }
    // Fallback: resolve every symlink, then require the result to lie under the root,
    // component by component. O_NOFOLLOW refuses a last component swapped for a symlink
    // after the check; a directory swapped higher up in that instant is the residual race
    // that only openat2 closes.
    std::error_code ec;
    const auto resolved = std::filesystem::canonical(root_canonical / relative, ec);
    if (ec) return ec.value() ? -ec.value() : -ENOENT;
    auto r = resolved.begin();
    for (auto p = root_canonical.begin(); p != root_canonical.end(); ++p, ++r)
      if (r == resolved.end() || *r != *p) return -EXDEV;
    const int fd = ::open(resolved.c_str(), flags | O_CLOEXEC | O_NOFOLLOW);
    return fd >= 0 ? fd : -errno;
  }

  Response respond(const Request& request, time_point now) const;
  Response builtin(const Request& request, const detail::LocalTarget& target, time_point now) const;
  Response not_openable(int error, const Request& request, time_point now) const;
  Response redirect_to_directory(const Request& request, const detail::LocalTarget& target,
                                 time_point now) const;
  Response directory(const Request& request, const detail::LocalTarget& target, FileHandle dir,
                     time_point now) const;
  Response listing(const Request& request, const detail::LocalTarget& target, FileHandle dir,
                   time_point now) const;
  // The file's response, its body from `file` or, when given, from `cached` (same stat).
  Response file(const Request& request, std::string_view name, FileHandle file,
                const struct stat& st, const CachedFile* cached, time_point now) const;
};

Result<StaticSite> StaticSite::open(SiteOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (impl->options.root) {
    const auto& root = *impl->options.root;
    std::error_code ec;
    impl->root_canonical = std::filesystem::canonical(root, ec);
    if (ec)
      return Error(Errc::io_error,
                   "cannot open the site root " + root.string() + ": " + ec.message());
    const int fd = ::open(impl->root_canonical.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      return Error(Errc::io_error,
                   "cannot open the site root " + root.string() + ": " + std::strerror(errno));
    impl->root = FileHandle(fd);
    if (impl->options.use_openat2) {
      // Probe once: kernels before 5.6 (and some seccomp filters) lack openat2.
      impl->beneath = true;
      const int probe = impl->open_beneath(".", O_PATH);
      if (probe >= 0)
        ::close(probe);
      else
        impl->beneath = false;
    }
  }
  return StaticSite(std::move(impl));
}

StaticSite::StaticSite(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StaticSite::StaticSite(StaticSite&&) noexcept = default;
StaticSite& StaticSite::operator=(StaticSite&&) noexcept = default;
StaticSite::~StaticSite() = default;

const SiteOptions& StaticSite::options() const noexcept {
  return impl_->options;
}
bool StaticSite::resolves_beneath() const noexcept {
  return impl_->beneath;
}

Response StaticSite::respond(const Request& request, time_point now) const {
  return impl_->respond(request, now);
}

Response StaticSite::Impl::respond(const Request& request, time_point now) const {
  // RFC 9110 §9.1: the parser lets only GET and HEAD through; any other caller gets 405.
  if (request.method != "GET" && request.method != "HEAD")
    return error_response(405, request, now, false);
  const auto target = detail::parse_local_target(request.target);
  if (!target) return error_response(400, request, now, false);
  if (!options.root) return builtin(request, *target, now);
  if (!options.serve_hidden && is_hidden(target->segments))
    return error_response(404, request, now, false);

  std::string relative = target->path.substr(1);
  if (!relative.empty() && relative.back() == '/') relative.pop_back();
  if (relative.empty()) relative = ".";
  if (!target->trailing_slash && cache.enabled()) {
    struct stat st {};
    if (auto cached = cache.find(root.get(), relative, st))
      return file(request, target->segments.back(), FileHandle(), st, cached.get(), now);
  }
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below anyway).
  const int fd = open_beneath(relative, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return not_openable(-fd, request, now);
  FileHandle handle(fd);
  struct stat st {};
  if (::fstat(handle.get(), &st) != 0) return error_response(500, request, now, false);
  if (S_ISDIR(st.st_mode)) {
    if (!target->trailing_slash) return redirect_to_directory(request, *target, now);
    return directory(request, *target, std::move(handle), now);
  }
  // A FIFO, socket or device is not a file we serve.
  if (!S_ISREG(st.st_mode)) return error_response(403, request, now, false);
  // "/file.txt/" names a directory that does not exist.
  if (target->trailing_slash) return error_response(404, request, now, false);
  const auto cached = cache.fill(relative, handle.get(), st, now);
  return file(request, target->segments.back(), std::move(handle), st, cached.get(), now);
}

Response StaticSite::Impl::not_openable(int error, const Request& request, time_point now) const {
  switch (error) {
    case EACCES:
    case EPERM:
      return error_response(403, request, now, false);
    case ENOENT:
    case ENOTDIR:
    case EXDEV:  // a symlink leads out of the root: as if it were not there
    case ELOOP:  // a symlink where the fallback refuses one, or a loop
    case ENAMETOOLONG:
      return error_response(404, request, now, false);
    default:
      return error_response(500, request, now, false);
  }
}

Response StaticSite::Impl::builtin(const Request& request, const detail::LocalTarget& target,
                                   time_point now) const {
  if (target.path != "/" && target.path != "/index.html")
    return error_response(404, request, now, false);
  Response response;
  detail::add_standard_headers(response, now);
  detail::set_memory_body(response, request, "text/html; charset=utf-8", std::string(kBuiltinPage));
  detail::add_connection_header(response, request);
  return response;
}

Response StaticSite::Impl::redirect_to_directory(const Request& request,
                                                 const detail::LocalTarget& target,
                                                 time_point now) const {
  Response response = error_response(301, request, now, false);
  std::string location;
  detail::append_percent_encoded(location, target.path, true);
  location += '/';
  if (!target.query.empty()) {
    location += '?';
    location += target.query;  // checked free of control bytes and spaces by the parser
  }
  response.headers.push_back({"Location", std::move(location)});
  return response;
}

Response StaticSite::Impl::directory(const Request& request, const detail::LocalTarget& target,
                                     FileHandle dir, time_point now) const {
  if (!options.index_file.empty()) {
    std::string index_path = target.path.substr(1) + options.index_file;
    const int fd = open_beneath(index_path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (fd >= 0) {
      FileHandle index(fd);
      struct stat st {};
      if (::fstat(index.get(), &st) == 0 && S_ISREG(st.st_mode))
        return file(request, options.index_file, std::move(index), st, nullptr, now);
    }
  }
  if (!options.directory_listing) return error_response(403, request, now, false);
  return listing(request, target, std::move(dir), now);
}

Response StaticSite::Impl::listing(const Request& request, const detail::LocalTarget& target,
                                   FileHandle dir, time_point now) const {
  struct Entry {
    std::string name;
    bool is_directory;
    bool has_size;
    std::uint64_t size;
  };
  std::vector<Entry> entries;
  const int dir_fd = dir.get();
  std::unique_ptr<DIR, CloseDir> stream(::fdopendir(dir_fd));
  if (!stream) return error_response(500, request, now, false);
  dir.release();  // the DIR stream owns the descriptor now
  while (const dirent* e = ::readdir(stream.get())) {
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    if (!options.serve_hidden && name.front() == '.') continue;
    struct stat st {};
    // Not following symlinks: the listing must not reveal anything outside the root.
    if (::fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    const bool is_directory = S_ISDIR(st.st_mode);
    const bool has_size = S_ISREG(st.st_mode);
    entries.push_back({std::string(name), is_directory, has_size,
                       has_size ? static_cast<std::uint64_t>(st.st_size) : 0});
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });

  std::string page;
  page.reserve(256 + entries.size() * 96);
  page += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ";
  detail::append_html_escaped(page, target.path);
  page += "</title></head>\n<body><h1>Index of ";
  detail::append_html_escaped(page, target.path);
  page += "</h1><hr><pre>\n";
  if (!target.segments.empty()) page += "<a href=\"../\">../</a>\n";
  for (const auto& e : entries) {
    page += "<a href=\"";
    std::string href;
    detail::append_percent_encoded(href, e.name, false);
    if (e.is_directory) href += '/';
    detail::append_html_escaped(page, href);
    page += "\">";
    detail::append_html_escaped(page, e.name);
    if (e.is_directory) page += '/';
    page += "</a> ";
    if (e.has_size)
      detail::append_decimal(page, e.size);
    else
      page += '-';
    page += '\n';
  }
  page += "</pre><hr></body></html>\n";

  Response response;
  detail::add_standard_headers(response, now);
  detail::set_memory_body(response, request, "text/html; charset=utf-8", std::move(page));
  detail::add_connection_header(response, request);
  return response;
}

Response StaticSite::Impl::file(const Request& request, std::string_view name, FileHandle file,
                                const struct stat& st, const CachedFile* cached,
                                time_point now) const {
  const auto now_seconds = std::chrono::floor<std::chrono::seconds>(now);
  const sys_seconds modified = last_modified_of(st);
  const std::string tag = entity_tag_of(st);
  const auto size = static_cast<std::uint64_t>(st.st_size);

  Response response;
  detail::add_standard_headers(response, now);

  // RFC 9110 §13.2.2 order: If-None-Match, else If-Modified-Since (GET/HEAD only), then Range.
  bool not_modified = false;
  if (!request.if_none_match.empty()) {
    not_modified = none_match_fails(request.if_none_match, tag);
  } else if (!request.if_modified_since.empty()) {
    // RFC 9110 §13.1.3: an invalid date (or several) is ignored.
    const auto since = parse_http_date(request.if_modified_since, now_seconds);
    not_modified = since && modified <= *since;
  }
  if (not_modified) {
    // RFC 9110 §15.4.5: a 304 carries the ETag a 200 would; no content, no Content-Length.
    response.status = 304;
    response.headers.push_back({"Last-Modified", format_http_date(modified)});
    response.headers.push_back({"ETag", tag});
    detail::add_connection_header(response, request);
    return response;
  }

  ByteRange range;
  // RFC 9110 §14.2: Range is defined for GET only; a server MUST ignore it otherwise.
  if (request.method == "GET" && !request.range.empty() &&
      (request.if_range.empty() || if_range_matches(request.if_range, tag, modified, now_seconds)))
    range = evaluate_range(request.range, size);

  if (range.kind == ByteRange::Kind::unsatisfiable) {
    Response refused = error_response(416, request, now, false);
    // RFC 9110 §15.5.17: a 416 to a byte-range request should say the current length.
    refused.headers.push_back({"Content-Range", "bytes */" + detail::decimal(size)});
    return refused;
  }

  std::uint64_t offset = 0;
  std::uint64_t length = size;
  response.headers.push_back({"Content-Type", std::string(content_type_for(name))});
  if (range.kind == ByteRange::Kind::satisfiable) {
    response.status = 206;
    offset = range.first;
    length = range.length;
  }
  response.headers.push_back({"Content-Length", detail::decimal(length)});
  response.headers.push_back({"Last-Modified", format_http_date(modified)});
  response.headers.push_back({"ETag", tag});
  response.headers.push_back({"Accept-Ranges", "bytes"});
  if (response.status == 206) {
    std::string content_range = "bytes ";
    detail::append_decimal(content_range, offset);
    content_range += '-';
    detail::append_decimal(content_range, offset + length - 1);
    content_range += '/';
    detail::append_decimal(content_range, size);
    response.headers.push_back({"Content-Range", std::move(content_range)});
  }
  detail::add_connection_header(response, request);
  // RFC 9110 §9.3.2: HEAD gets the fields of GET and no content.
  if (!request.is_head() && length > 0) {
    if (cached != nullptr)
      response.body.assign(cached->content, static_cast<std::size_t>(offset),
                           static_cast<std::size_t>(length));
    else
      response.file = FileBody{std::move(file), offset, length};
  }
  return response;
}

}  // namespace bulwark::http
