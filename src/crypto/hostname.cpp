#include "bulwark/crypto/hostname.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace bulwark::crypto {

namespace {

// RFC 1035 2.3.4: 63 octets per label, 255 per name in wire form (253 in text without the root).
constexpr std::size_t kMaxLabelLength = 63;
constexpr std::size_t kMaxNameLength = 253;

bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ascii_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Letters, digits and hyphen (RFC 1123 2.1), plus the underscore that real host names carry.
bool is_label_char(char c) {
  return is_ascii_alpha(c) || is_ascii_digit(c) || c == '-' || c == '_';
}

bool equal_ignoring_ascii_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

std::string_view strip_one_trailing_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

// A well-formed DNS name in text form without a trailing dot: non-empty labels of label
// characters. Counts its labels into `labels`.
bool is_dns_name(std::string_view name, std::size_t& labels) {
  labels = 0;
  if (name.empty() || name.size() > kMaxNameLength) return false;
  std::size_t label_length = 0;
  for (const char c : name) {
    if (c == '.') {
      if (label_length == 0) return false;
      ++labels;
      label_length = 0;
      continue;
    }
    if (!is_label_char(c) || ++label_length > kMaxLabelLength) return false;
  }
  if (label_length == 0) return false;
  ++labels;
  return true;
}

// A reference identifier: a DNS name whose top-level label is not all digits (RFC 3696 2), so
// that an IPv4 literal can never be taken for a DNS name and matched by a wildcard.
bool is_reference_dns_name(std::string_view host) {
  std::size_t labels = 0;
  if (!is_dns_name(host, labels)) return false;
  const std::size_t last_dot = host.rfind('.');
  const std::string_view top =
      last_dot == std::string_view::npos ? host : host.substr(last_dot + 1);
  return !std::all_of(top.begin(), top.end(), is_ascii_digit);
}

// A name for an error message: printable ASCII kept, anything else as \xNN.
std::string printable(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0x0f];
    }
  }
  return out;
}

}  // namespace

std::optional<std::vector<std::uint8_t>> parse_ip_literal(std::string_view host) {
  bool bracketed = false;
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 2 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
    bracketed = true;
  }
  char text[INET6_ADDRSTRLEN + 1] = {};
  if (host.empty() || host.size() >= sizeof text) return std::nullopt;
  if (host.find('\0') != std::string_view::npos) return std::nullopt;
  std::memcpy(text, host.data(), host.size());
  // glibc's inet_pton accepts IPv4 only as four decimal octets without leading zeros, which
  // is the one form a certificate's reference identity may take.
  if (!bracketed) {
    std::vector<std::uint8_t> v4(4);
    if (inet_pton(AF_INET, text, v4.data()) == 1) return v4;
  }
  std::vector<std::uint8_t> v6(16);
  if (inet_pton(AF_INET6, text, v6.data()) == 1) return v6;
  return std::nullopt;
}

bool dns_name_matches(std::string_view pattern, std::string_view host) {
  host = strip_one_trailing_dot(host);
  pattern = strip_one_trailing_dot(pattern);
  if (!is_reference_dns_name(host)) return false;

  if (pattern.find('*') == std::string_view::npos) {
    std::size_t labels = 0;
    return is_dns_name(pattern, labels) && equal_ignoring_ascii_case(pattern, host);
  }

  // RFC 6125 6.4.3 / RFC 9525 6.3: only a wildcard that is the whole left-most label.
  if (pattern.size() < 2 || pattern[0] != '*' || pattern[1] != '.') return false;
  const std::string_view pattern_rest = pattern.substr(2);
  std::size_t rest_labels = 0;
  if (!is_dns_name(pattern_rest, rest_labels)) return false;  // also rejects a second '*'
  // A wildcard directly under a top-level domain ("*.com") would cover a whole registry.
  if (rest_labels < 2) return false;

  // The wildcard stands for exactly one non-empty label of the host.
  const std::size_t first_dot = host.find('.');
  if (first_dot == std::string_view::npos || first_dot == 0) return false;
  return equal_ignoring_ascii_case(host.substr(first_dot + 1), pattern_rest);
}

Status verify_host(const Certificate& cert, std::string_view host) {
  if (!cert.valid()) return Error(Errc::invalid_argument, "empty certificate");
  if (host.empty()) return Error(Errc::cert_hostname_mismatch, "empty host name");

  const std::vector<std::string> dns_names = cert.dns_names();
  const std::vector<std::vector<std::uint8_t>> ips = cert.ip_addresses();

  if (const auto ip = parse_ip_literal(host)) {
    // RFC 6125 6.2.1 / RFC 9525 6.2: an IP reference identity is compared octet for octet
    // with iPAddress entries only.
    for (const auto& presented : ips) {
      if (presented == *ip) return {};
    }
  } else {
    // RFC 9525 6.1: a DNS reference identity is matched against dNSName entries only.
    for (const auto& presented : dns_names) {
      if (dns_name_matches(presented, host)) return {};
    }
  }

  std::string detail = "host \"" + printable(host) + "\" does not match the certificate";
  if (dns_names.empty() && ips.empty()) {
    detail += ", which has no DNS or IP subjectAltName (the subject CN is not used)";
    return Error(Errc::cert_hostname_mismatch, std::move(detail));
  }
  // Name the certificate's identities, but not all of a thousand-name certificate.
  constexpr std::size_t kMaxNamesShown = 10;
  std::vector<std::string> shown;
  for (const auto& name : dns_names)
    shown.push_back("DNS:" + printable(name));
  for (const auto& text : cert.ip_address_texts())
    shown.push_back("IP:" + text);
  detail += " (";
  for (std::size_t i = 0; i < shown.size() && i < kMaxNamesShown; ++i) {
    if (i > 0) detail += ", ";
    detail += shown[i];
  }
  if (shown.size() > kMaxNamesShown) {
    detail += ", and " + std::to_string(shown.size() - kMaxNamesShown) + " more";
  }
  detail += ")";
  return Error(Errc::cert_hostname_mismatch, std::move(detail));
}

}  // namespace bulwark::crypto
