// Service identity checks (RFC 6125 / RFC 9525): does a certificate name the host we meant
// to reach? This logic is ours, not libcrypto's X509_check_host.
//
// Rules:
//  - An IP literal (IPv4 dotted quad, IPv6 text such as "::1", optionally in brackets) is
//    compared byte for byte with iPAddress subjectAltNames only, never with DNS names.
//  - Any other host is a DNS name, compared ASCII-case-insensitively with dNSName
//    subjectAltNames only, ignoring one trailing dot. The subject CN is never used (CN-ID is
//    gone from RFC 9525 §1.2 and forbidden by RFC 9110 §4.3.4).
//  - `*` may only be the whole left-most label of a pattern and then matches exactly one
//    non-empty host label; it needs at least two labels after it (`*.com` matches nothing).
//    Partial (`f*.example.com`) and non-left-most wildcards never match.
//  - A whole-label wildcard also matches an A-label ("xn--..."): RFC 6125 §6.4.3 only warns
//    against a `*` inside an A-label, which partial wildcards already exclude.
//  - Names must be LDH labels (letters, digits, '-', and '_' which real hosts use) of 1..63
//    octets, 253 octets at most in total; anything else (NUL, spaces, non-ASCII, empty labels)
//    matches nothing. Internationalised hosts must be given as A-labels.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/result.hpp"

namespace bulwark::crypto {

// The 4 (IPv4) or 16 (IPv6) address bytes when `host` is an IP literal ("192.0.2.1",
// "2001:db8::1", "[::1]"); nullopt for anything else, including IPv6 zone ids ("fe80::1%eth0")
// and the non-canonical IPv4 forms some resolvers accept ("0x7f.1", "127.1").
std::optional<std::vector<std::uint8_t>> parse_ip_literal(std::string_view host);

// True when the presented dNSName `pattern` matches the DNS reference identifier `host`.
bool dns_name_matches(std::string_view pattern, std::string_view host);

// OK when the certificate's subjectAltName names `host` (a DNS name or an IP literal);
// otherwise `cert_hostname_mismatch`, with a detail naming the host and the certificate's names.
Status verify_host(const Certificate& cert, std::string_view host);

}  // namespace bulwark::crypto
