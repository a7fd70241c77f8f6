// The static-file site of `bulwark serve`: maps a complete GET/HEAD Request to a Response,
// with no sockets (sans-I/O), so that it is unit-testable and fuzzable.
//
// Decisions:
// - a path that climbs above the root with ".." answers 400 (as nginx does);
// - a symlink leading outside the root, or a missing file, answers 404; a FIFO, device or
//   socket answers 403; resolution is done by the kernel (openat2 RESOLVE_BENEATH) when
//   available, else by canonical paths and a component-wise prefix check;
// - hidden files (a path segment starting with '.') answer 404 and are not listed, except
//   /.well-known/ (RFC 8615); SiteOptions::serve_hidden serves them all;
// - ETags are strong: "<mtime ns hex>-<size hex>" of the file actually opened;
// - small files are served from memory after a stat shows them unchanged (SiteOptions).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bulwark/http/request.hpp"
#include "bulwark/http/response.hpp"
#include "bulwark/result.hpp"

namespace bulwark::http {

struct SiteOptions {
  // The directory served; none: a built-in page at "/" (and 404 elsewhere).
  std::optional<std::filesystem::path> root;
  std::string index_file = "index.html";
  bool directory_listing = true;  // when a directory has no index file
  bool serve_hidden = false;      // dotfiles (other than /.well-known/)
  // Use openat2(RESOLVE_BENEATH) when the kernel has it. Off: the portable fallback (tests).
  bool use_openat2 = true;
  // Small files are kept in memory: a request for one costs a stat of its path (to revalidate:
  // the same inode, size, modification and change times) instead of open, fstat, read and
  // close. Files up to `cache_file_bytes`, at most `cache_bytes` in all (0: no cache); a file
  // changed in the last two seconds is not cached (a change within one timestamp tick would
  // not show), so an edit is seen at once.
  std::size_t cache_bytes = 32u << 20;
  std::size_t cache_file_bytes = 64u << 10;
};

// The Content-Type for a file name, by extension (case-insensitive); text types carry
// "; charset=utf-8". application/octet-stream when unknown.
std::string_view content_type_for(std::string_view file_name) noexcept;

class StaticSite {
 public:
  // Opens the root directory once (its descriptor anchors every lookup).
  static Result<StaticSite> open(SiteOptions options);

  StaticSite(StaticSite&&) noexcept;
  StaticSite& operator=(StaticSite&&) noexcept;
  ~StaticSite();

  // The response to a complete GET or HEAD request. Thread-safe (const; the file cache is
  // shared under a lock).
  Response respond(const Request& request, std::chrono::system_clock::time_point now) const;

  const SiteOptions& options() const noexcept;
  // True when lookups go through openat2(RESOLVE_BENEATH).
  bool resolves_beneath() const noexcept;

 private:
  struct Impl;
  explicit StaticSite(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bulwark::http
