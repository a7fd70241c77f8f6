// The scanner's findings and how they are shown: a table for people (coloured on a terminal)
// and one JSON document for programs (schema: docs/scan-schema.json).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::scan {

// Ordered: a finding's severity decides the summary grade and the exit status.
enum class Severity : std::uint8_t { ok, info, low, medium, high, critical };
std::string_view severity_name(Severity s) noexcept;  // "OK", "INFO", "LOW", ...

struct Finding {
  std::string id;       // stable, e.g. "protocol.sslv2", "heartbleed", "cipher.rc4"
  std::string section;  // "protocols", "ciphers", "vulnerabilities", "certificate", ...
  std::string title;    // short, e.g. "SSL 2.0 offered"
  Severity severity = Severity::ok;
  std::string evidence;  // what was observed
  std::string remedy;    // in an administrator's terms; empty when nothing is to be done
};

struct VersionResult {
  std::uint16_t version = 0;  // 0x0002 SSL 2.0, 0x0300 SSL 3.0, ... 0x0304 TLS 1.3
  bool offered = false;
  std::string detail;  // how the server answered ("ServerHello", "alert protocol_version", ...)
};

struct AcceptedSuite {
  std::uint16_t version = 0;
  std::uint32_t id = 0;  // 2-byte TLS suite, or 3-byte SSL 2.0 cipher kind
  std::string name;
  std::string key_exchange;  // "ECDHE x25519", "DHE 2048 bits", "RSA", ...
};

struct Report {
  std::string host;
  std::uint16_t port = 0;
  std::string address;
  std::string server_name;  // SNI sent (empty: none)
  std::string started;      // UTC, RFC 3339
  double seconds = 0;       // wall time of the whole scan
  std::vector<std::string> checks;
  std::vector<VersionResult> versions;
  std::vector<AcceptedSuite> suites;  // per version, in the order the server chose them
  std::vector<Finding> findings;

  Severity worst() const noexcept;
  // "A" nothing above LOW, "B" MEDIUM, "C" HIGH, "F" CRITICAL.
  std::string grade() const;
  // 0 nothing HIGH or above, 3 HIGH, 4 CRITICAL (1 and 2 are the command's: cannot scan, usage).
  int exit_status() const noexcept;
};

// "SSL 2.0", "SSL 3.0", "TLS 1.0" ... "TLS 1.3", or the hex code point.
std::string version_name(std::uint16_t version);
// The human report; ANSI colours when `colour`.
std::string render_text(const Report& report, bool colour);
// One JSON document (see docs/scan-schema.json).
std::string render_json(const Report& report);
// JSON string literal for `s` (quotes included); bytes that are not printable ASCII or valid
// UTF-8 are escaped so that the document is always valid.
std::string json_string(std::string_view s);

}  // namespace bulwark::scan
