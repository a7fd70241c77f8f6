// What `bulwark proxy` records and rewrites per HTTP exchange: the flow log (one JSON line per
// request, --log-flows) and the literal replacement rules (--replace).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/result.hpp"

namespace bulwark::proxy {

// ---- flow log ------------------------------------------------------------------------------

// One request and its response as the proxy saw them.
struct FlowRecord {
  std::int64_t unix_ms = 0;  // when the request head was complete (wall clock)
  std::string client;        // "127.0.0.1:53422"
  std::string method;
  std::string url;  // absolute: "https://example.org/a?b", "http://example.org:8080/"
  int status = 0;   // 0: no response reached the client
  std::uint64_t request_body_bytes = 0;   // as received from the client
  std::uint64_t response_body_bytes = 0;  // as sent to the client (after any rewriting)
  std::string tls_version;                // upstream's: "TLS 1.3"; empty for plain http
  std::string tls_suite;                  // upstream's IANA suite name; empty for plain http
  // Upstream connection and TLS handshake, on the first request of each upstream connection.
  std::optional<double> upstream_connect_ms;
  std::optional<double> first_byte_ms;  // request head complete -> first response byte
  double total_ms = 0;                  // request head complete -> response fully sent
  std::uint32_t replacements = 0;       // rule matches applied to this exchange
  std::vector<std::string> notes;       // "replace skipped: content-encoding gzip", errors
};

// `text` as a JSON string literal (RFC 8259 §7): quotes, backslash and control characters
// escaped; bytes that are not valid UTF-8 become U+FFFD, so the line always parses.
std::string json_string(std::string_view text);

// "2026-11-22T11:40:00.123Z" (RFC 3339, UTC, milliseconds).
std::string rfc3339_utc(std::int64_t unix_ms);

// The record as one JSON object without a newline. Absent values are null; field names:
// time, client, method, url, status, request_bytes, response_bytes, tls_version, tls_suite,
// upstream_connect_ms, first_byte_ms, total_ms, replacements, notes.
std::string flow_json(const FlowRecord& record);

// The --log-flows file: lines from every worker go through one lock, each written whole and
// flushed, so lines never interleave and a reader (tail -f) sees each request at once.
class FlowLog {
 public:
  // Appends to `path` (created if missing).
  static Result<std::shared_ptr<FlowLog>> open(const std::string& path);
  ~FlowLog();
  FlowLog(const FlowLog&) = delete;
  FlowLog& operator=(const FlowLog&) = delete;

  void write(const FlowRecord& record);

 private:
  explicit FlowLog(std::FILE* file) : file_(file) {}
  std::mutex mutex_;
  std::FILE* file_;
};

// ---- replacement rules ---------------------------------------------------------------------

enum class ReplaceScope : std::uint8_t {
  request,   // the request target and the request body
  response,  // the response body
};

// Every occurrence of `from` becomes `to` (literal bytes, not a pattern).
struct ReplaceRule {
  ReplaceScope scope = ReplaceScope::request;
  std::string from;  // never empty
  std::string to;
};

// "request:FROM:TO" or "response:FROM:TO". The character right after the scope word is the
// separator (as in mitmproxy's "/~q/FROM/TO"), so "request|a:b|c:d" replaces "a:b" with "c:d".
// The separator may be any punctuation character; FROM and TO cannot contain it; FROM is not
// empty; TO may be (the match is deleted).
Result<ReplaceRule> parse_replace_rule(std::string_view text);

// Applies every rule of `scope` in order, each to all non-overlapping occurrences left to
// right; returns the number of replacements made.
std::size_t apply_replacements(std::span<const ReplaceRule> rules, ReplaceScope scope,
                               std::string& text);

bool has_rules(std::span<const ReplaceRule> rules, ReplaceScope scope) noexcept;

}  // namespace bulwark::proxy
