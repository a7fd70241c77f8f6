#include "bulwark/proxy/flow.hpp"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace bulwark::proxy {

namespace {

// The length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629 §4), or 0.
std::size_t utf8_sequence_length(std::string_view s) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto continuation = [&](std::size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return continuation(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    // No overlong forms (E0 80..9F) and no surrogates (ED A0..BF).
    if (b0 == 0xE0 && byte(1) < 0xA0) return 0;
    if (b0 == 0xED && byte(1) > 0x9F) return 0;
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    // No overlong forms (F0 80..8F) and nothing above U+10FFFF (F4 90..BF).
    if (b0 == 0xF0 && byte(1) < 0x90) return 0;
    if (b0 == 0xF4 && byte(1) > 0x8F) return 0;
    return 4;
  }
  return 0;
}

void append_ms(std::string& out, std::string_view name, const std::optional<double>& value) {
  out += ",\"";
  out += name;
  out += "\":";
  if (!value) {
    out += "null";
    return;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", *value);
  out += text;
}

void append_text(std::string& out, std::string_view name, std::string_view value,
                 bool empty_is_null) {
  out += ",\"";
  out += name;
  out += "\":";
  out += empty_is_null && value.empty() ? std::string("null") : json_string(value);
}

}  // namespace

std::string json_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  while (!text.empty()) {
    const char c = text.front();
    const std::size_t n = utf8_sequence_length(text);
    if (n == 0) {
      out += "\\ufffd";
      text.remove_prefix(1);
      continue;
    }
    if (n > 1) {
      out.append(text.substr(0, n));
      text.remove_prefix(n);
      continue;
    }
    text.remove_prefix(1);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        // RFC 8259 §7: U+0000 through U+001F must be escaped; DEL is escaped for terminals.
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string rfc3339_utc(std::int64_t unix_ms) {
  std::int64_t seconds = unix_ms / 1000;
  std::int64_t millis = unix_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[80];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return text;
}

std::string flow_json(const FlowRecord& r) {
  std::string out = "{\"time\":\"" + rfc3339_utc(r.unix_ms) + "\"";
  append_text(out, "client", r.client, false);
  append_text(out, "method", r.method, false);
  append_text(out, "url", r.url, false);
  out += ",\"status\":";
  out += r.status == 0 ? std::string("null") : std::to_string(r.status);
  out += ",\"request_bytes\":" + std::to_string(r.request_body_bytes);
  out += ",\"response_bytes\":" + std::to_string(r.response_body_bytes);
  append_text(out, "tls_version", r.tls_version, true);
  append_text(out, "tls_suite", r.tls_suite, true);
  append_ms(out, "upstream_connect_ms", r.upstream_connect_ms);
  append_ms(out, "first_byte_ms", r.first_byte_ms);
  append_ms(out, "total_ms", r.total_ms);
  out += ",\"replacements\":" + std::to_string(r.replacements);
  out += ",\"notes\":[";
  for (std::size_t i = 0; i < r.notes.size(); ++i) {
    if (i) out.push_back(',');
    out += json_string(r.notes[i]);
  }
  out += "]}";
  return out;
}

Result<std::shared_ptr<FlowLog>> FlowLog::open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "a");
  if (!file)
    return Error(Errc::io_error, "cannot open " + path + ": " + std::string(std::strerror(errno)));
  return std::shared_ptr<FlowLog>(new FlowLog(file));
}

FlowLog::~FlowLog() {
  std::fclose(file_);
}

void FlowLog::write(const FlowRecord& record) {
  std::string line = flow_json(record);
  line.push_back('\n');
  const std::lock_guard lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

Result<ReplaceRule> parse_replace_rule(std::string_view text) {
  ReplaceRule rule;
  std::string_view rest;
  if (text.starts_with("request")) {
    rule.scope = ReplaceScope::request;
    rest = text.substr(7);
  } else if (text.starts_with("response")) {
    rule.scope = ReplaceScope::response;
    rest = text.substr(8);
  } else {
    return Error(Errc::invalid_argument,
                 "a replace rule starts with 'request' or 'response': '" + std::string(text) + "'");
  }
  const char separator = rest.empty() ? '\0' : rest.front();
  const auto u = static_cast<unsigned char>(separator);
  // Letters and digits would make "requestsFROMsTO" ambiguous to a reader; spaces and
  // control characters do not survive shells and logs.
  const bool punctuation = u > 0x20 && u < 0x7f && !std::isalnum(u);
  if (!punctuation)
    return Error(Errc::invalid_argument,
                 "a replace rule is SCOPE:FROM:TO (any punctuation "
                 "character in place of ':'), not '" +
                     std::string(text) + "'");
  rest.remove_prefix(1);
  const std::size_t middle = rest.find(separator);
  if (middle == std::string_view::npos ||
      rest.find(separator, middle + 1) != std::string_view::npos)
    return Error(Errc::invalid_argument,
                 std::string("a replace rule has exactly three parts separated by '") + separator +
                     "': '" + std::string(text) + "' (choose another separator, e.g. " +
                     (rule.scope == ReplaceScope::request ? "request" : "response") + "|FROM|TO)");
  rule.from = rest.substr(0, middle);
  rule.to = rest.substr(middle + 1);
  if (rule.from.empty())
    return Error(Errc::invalid_argument,
                 "a replace rule's FROM is empty: '" + std::string(text) + "'");
  return rule;
}

std::size_t apply_replacements(std::span<const ReplaceRule> rules, ReplaceScope scope,
                               std::string& text) {
  std::size_t count = 0;
  for (const ReplaceRule& rule : rules) {
    if (rule.scope != scope) continue;
    std::size_t at = text.find(rule.from);
    if (at == std::string::npos) continue;
    // One pass into a new string: linear in the text whatever the number of matches.
    std::string out;
    out.reserve(text.size());
    std::size_t copied = 0;
    while (at != std::string::npos) {
      out.append(text, copied, at - copied);
      out += rule.to;
      copied = at + rule.from.size();
      ++count;
      at = text.find(rule.from, copied);
    }
    out.append(text, copied, std::string::npos);
    text = std::move(out);
  }
  return count;
}

bool has_rules(std::span<const ReplaceRule> rules, ReplaceScope scope) noexcept {
  for (const ReplaceRule& rule : rules)
    if (rule.scope == scope) return true;
  return false;
}

}  // namespace bulwark::proxy
