// Rendering of scan reports: the table and the JSON document.
#include "bulwark/scan/report.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace bulwark::scan {

namespace {

constexpr std::string_view section_order[] = {"protocols",       "ciphers",     "key exchange",
                                              "vulnerabilities", "certificate", "features"};

std::string_view colour_of(Severity s) {
  switch (s) {
    case Severity::ok:
      return "\x1b[32m";
    case Severity::info:
      return "\x1b[36m";
    case Severity::low:
      return "\x1b[33m";
    case Severity::medium:
      return "\x1b[33;1m";
    case Severity::high:
      return "\x1b[31m";
    case Severity::critical:
      return "\x1b[41;37;1m";
  }
  return "";
}

void append_json_number(std::string& out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  out += buf;
}

// Text from the server (certificate names, alert details) may hold terminal escape sequences:
// control bytes are shown as '?' so a hostile certificate cannot rewrite the operator's screen.
std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

std::string pad(std::string_view s, std::size_t width) {
  std::string out(s);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

}  // namespace

std::string_view severity_name(Severity s) noexcept {
  switch (s) {
    case Severity::ok:
      return "OK";
    case Severity::info:
      return "INFO";
    case Severity::low:
      return "LOW";
    case Severity::medium:
      return "MEDIUM";
    case Severity::high:
      return "HIGH";
    case Severity::critical:
      return "CRITICAL";
  }
  return "?";
}

std::string version_name(std::uint16_t v) {
  switch (v) {
    case 0x0002:
      return "SSL 2.0";
    case 0x0300:
      return "SSL 3.0";
    case 0x0301:
      return "TLS 1.0";
    case 0x0302:
      return "TLS 1.1";
    case 0x0303:
      return "TLS 1.2";
    case 0x0304:
      return "TLS 1.3";
  }
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", static_cast<unsigned>(v));
  return buf;
}

Severity Report::worst() const noexcept {
  Severity w = Severity::ok;
  for (const Finding& f : findings)
    w = std::max(w, f.severity);
  return w;
}

std::string Report::grade() const {
  switch (worst()) {
    case Severity::critical:
      return "F";
    case Severity::high:
      return "C";
    case Severity::medium:
      return "B";
    default:
      return "A";
  }
}

int Report::exit_status() const noexcept {
  const Severity w = worst();
  if (w == Severity::critical) return 4;
  if (w == Severity::high) return 3;
  return 0;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      // Keep a well-formed UTF-8 sequence; escape a stray byte as U+FFFD.
      std::size_t len = (c & 0xe0) == 0xc0   ? 2
                        : (c & 0xf0) == 0xe0 ? 3
                        : (c & 0xf8) == 0xf0 ? 4
                                             : 0;
      bool valid = len != 0 && i + len <= s.size();
      for (std::size_t k = 1; valid && k < len; ++k)
        valid = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
      if (valid) {
        out.append(s.substr(i, len));
        i += len - 1;
      } else {
        out += "\\ufffd";
      }
    }
  }
  out += '"';
  return out;
}

std::string render_json(const Report& r) {
  std::string o = "{\n";
  o += "  \"schema\": \"bulwark-scan/1\",\n";
  o += "  \"target\": {\"host\": " + json_string(r.host) + ", \"port\": " + std::to_string(r.port) +
       ", \"address\": " + json_string(r.address) +
       ", \"server_name\": " + json_string(r.server_name) + "},\n";
  o += "  \"started\": " + json_string(r.started) + ",\n";
  o += "  \"seconds\": ";
  append_json_number(o, r.seconds);
  o += ",\n  \"checks\": [";
  for (std::size_t i = 0; i < r.checks.size(); ++i)
    o += (i ? ", " : "") + json_string(r.checks[i]);
  o += "],\n  \"grade\": " + json_string(r.grade()) + ",\n";
  o += "  \"worst\": " + json_string(severity_name(r.worst())) + ",\n";
  o += "  \"protocols\": [";
  for (std::size_t i = 0; i < r.versions.size(); ++i) {
    const auto& v = r.versions[i];
    o += i ? ",\n    " : "\n    ";
    o += "{\"version\": " + json_string(version_name(v.version)) +
         ", \"offered\": " + (v.offered ? "true" : "false") +
         ", \"detail\": " + json_string(v.detail) + "}";
  }
  o += r.versions.empty() ? "],\n" : "\n  ],\n";
  o += "  \"cipher_suites\": [";
  for (std::size_t i = 0; i < r.suites.size(); ++i) {
    const auto& s = r.suites[i];
    char id[12];
    std::snprintf(id, sizeof id, s.version == 0x0002 ? "0x%06x" : "0x%04x",
                  static_cast<unsigned>(s.id));
    o += i ? ",\n    " : "\n    ";
    o += "{\"version\": " + json_string(version_name(s.version)) + ", \"id\": " + json_string(id) +
         ", \"name\": " + json_string(s.name) +
         ", \"key_exchange\": " + json_string(s.key_exchange) + "}";
  }
  o += r.suites.empty() ? "],\n" : "\n  ],\n";
  o += "  \"findings\": [";
  for (std::size_t i = 0; i < r.findings.size(); ++i) {
    const auto& f = r.findings[i];
    o += i ? ",\n    " : "\n    ";
    o += "{\"id\": " + json_string(f.id) + ", \"section\": " + json_string(f.section) +
         ", \"title\": " + json_string(f.title) +
         ", \"severity\": " + json_string(severity_name(f.severity)) +
         ", \"evidence\": " + json_string(f.evidence) + ", \"remedy\": " + json_string(f.remedy) +
         "}";
  }
  o += r.findings.empty() ? "]\n" : "\n  ]\n";
  o += "}\n";
  return o;
}

std::string render_text(const Report& r, bool colour) {
  const std::string_view reset = colour ? "\x1b[0m" : "";
  const std::string_view bold = colour ? "\x1b[1m" : "";
  std::string o;
  o += std::string(bold) + "bulwark scan " + r.host + ":" + std::to_string(r.port) +
       std::string(reset) + " (" + r.address + ")";
  if (!r.server_name.empty()) o += " SNI " + r.server_name;
  o += "\n";

  if (!r.versions.empty()) {
    o += "\n" + std::string(bold) + "Protocols" + std::string(reset) + "\n";
    for (const auto& v : r.versions)
      o += "  " + pad(version_name(v.version), 9) +
           (v.offered ? "offered      " : "not offered  ") + v.detail + "\n";
  }
  if (!r.suites.empty()) {
    o += "\n" + std::string(bold) + "Cipher suites (in the order the server chose them)" +
         std::string(reset) + "\n";
    for (const auto& s : r.suites)
      o += "  " + pad(version_name(s.version), 9) + pad(s.name, 46) + s.key_exchange + "\n";
  }

  // Findings grouped by section, in a fixed section order, then any other section.
  std::vector<std::string> sections(std::begin(section_order), std::end(section_order));
  for (const auto& f : r.findings)
    if (std::find(sections.begin(), sections.end(), f.section) == sections.end())
      sections.push_back(f.section);
  for (const std::string& section : sections) {
    bool header = false;
    for (const auto& f : r.findings) {
      if (f.section != section) continue;
      if (!header) {
        std::string title = section;
        title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
        o += "\n" + std::string(bold) + title + std::string(reset) + "\n";
        header = true;
      }
      const std::string sev = pad(severity_name(f.severity), 8);
      o += "  " + (colour ? std::string(colour_of(f.severity)) + sev + std::string(reset) : sev) +
           " " + pad(printable(f.title), 40) + " " + printable(f.evidence) + "\n";
      if (!f.remedy.empty() && f.severity >= Severity::low)
        o += "           fix: " + f.remedy + "\n";
    }
  }
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2f", r.seconds);
  const std::string grade =
      "Grade " + r.grade() + " (worst finding: " + std::string(severity_name(r.worst())) + ")";
  o += "\n" + std::string(bold) + grade + std::string(reset) + ", scan took " + secs + " s\n";
  return o;
}

}  // namespace bulwark::scan
