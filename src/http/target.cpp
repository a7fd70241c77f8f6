// Request-target parsing: absolute-form reduction, percent-decoding, dot-segment removal.
#include "target.hpp"

#include "common.hpp"

namespace bulwark::http::detail {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

// The path and query of a target: itself in origin-form; in absolute-form what follows the
// authority ("http://host/p?q" -> "/p?q", "http://host?q" -> "?q": an empty path is "/").
std::optional<std::string_view> origin_part(std::string_view target) {
  if (!target.empty() && target.front() == '/') return target;
  const std::size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const std::string_view scheme = target.substr(0, scheme_end);
  if (!iequals(scheme, "http") && !iequals(scheme, "https")) return std::nullopt;
  const std::string_view rest = target.substr(scheme_end + 3);
  const std::size_t path_start = rest.find_first_of("/?#");
  return path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
}

}  // namespace

std::optional<LocalTarget> parse_local_target(std::string_view target) {
  const auto origin = origin_part(target);
  if (!origin) return std::nullopt;
  std::string_view raw_path = *origin;
  LocalTarget out;
  if (const std::size_t hash = raw_path.find('#'); hash != std::string_view::npos)
    raw_path = raw_path.substr(0, hash);
  if (const std::size_t q = raw_path.find('?'); q != std::string_view::npos) {
    out.query = raw_path.substr(q + 1);
    raw_path = raw_path.substr(0, q);
  }
  for (const char c : out.query)
    if (is_control(static_cast<unsigned char>(c)) || c == ' ') return std::nullopt;

  std::string decoded;
  decoded.reserve(raw_path.size());
  for (std::size_t i = 0; i < raw_path.size(); ++i) {
    char c = raw_path[i];
    if (c == '%') {
      if (i + 2 >= raw_path.size()) return std::nullopt;
      const int hi = hex_value(raw_path[i + 1]);
      const int lo = hex_value(raw_path[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    // A NUL would cut the path short at the system call; control bytes have no business in
    // a file name we serve.
    if (is_control(static_cast<unsigned char>(c))) return std::nullopt;
    decoded += c;
  }

  // RFC 3986 §5.2.4 dot-segment removal, except that ".." above the root is refused rather
  // than clamped: no honest client sends it. Empty segments ("a//b") are merged.
  std::string_view rest = decoded;
  bool last_names_directory = true;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty() && slash != std::string_view::npos) {
      last_names_directory = true;
      continue;
    }
    if (segment == ".") {
      last_names_directory = true;
    } else if (segment == "..") {
      if (out.segments.empty()) return std::nullopt;
      out.segments.pop_back();
      last_names_directory = true;
    } else if (!segment.empty()) {
      out.segments.emplace_back(segment);
      last_names_directory = slash != std::string_view::npos;
    }
  }
  out.trailing_slash = last_names_directory;
  out.path = "/";
  for (std::size_t i = 0; i < out.segments.size(); ++i) {
    if (i != 0) out.path += '/';
    out.path += out.segments[i];
  }
  if (out.trailing_slash && !out.segments.empty()) out.path += '/';
  return out;
}

void append_percent_encoded(std::string& out, std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : text) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~' || (keep_slash && c == '/');
    if (unreserved) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
}

}  // namespace bulwark::http::detail
