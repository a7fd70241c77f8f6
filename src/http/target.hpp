// Internal: request-target to a safe, normalised path. Not a public header.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::http::detail {

struct LocalTarget {
  // The decoded path: starts with '/', no empty, "." or ".." segments, a trailing '/' kept.
  std::string path;
  std::vector<std::string> segments;  // the path's segments, decoded
  std::string_view query;             // raw, without the '?' (points into the target given)
  bool trailing_slash = false;        // the client named a directory ("/a/", "/a/.", "/")
};

// Origin-form or absolute-form (RFC 9112 §3.2) to a LocalTarget. nullopt (answer 400) for:
// another form, an invalid or NUL/control percent-escape or byte, or ".." above the root.
// Percent-decoding happens once, before normalising, so "%2e%2e" is "..", "%2f" is '/', and
// "%252e" is the literal name "%2e".
std::optional<LocalTarget> parse_local_target(std::string_view target);

// Percent-encodes every byte outside RFC 3986's unreserved set, keeping '/' when `keep_slash`.
void append_percent_encoded(std::string& out, std::string_view text, bool keep_slash);

}  // namespace bulwark::http::detail
