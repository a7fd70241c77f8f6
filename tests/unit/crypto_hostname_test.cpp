#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/crypto/hostname.hpp"
#include "support/pki.hpp"

using bulwark::Errc;
using bulwark::crypto::dns_name_matches;
using bulwark::crypto::parse_ip_literal;
using bulwark::crypto::verify_host;
namespace test = bulwark::test;
using namespace std::string_view_literals;

namespace {

struct MatchCase {
  std::string_view pattern;
  std::string_view host;
  bool matches;
};

// Presented identifier (from the certificate) versus reference identifier (what we dialled).
const MatchCase kMatchCases[] = {
    // Exact names, ASCII case-insensitive, one trailing dot ignored on either side.
    {"example.com", "example.com", true},
    {"Example.COM", "example.com", true},
    {"example.com", "EXAMPLE.com", true},
    {"example.com.", "example.com", true},
    {"example.com", "example.com.", true},
    {"localhost", "localhost", true},
    {"a_b.example.com", "A_B.example.com", true},
    {"xn--bcher-kva.example", "XN--BCHER-KVA.example", true},
    {"example.com", "www.example.com", false},
    {"www.example.com", "example.com", false},
    {"example.com", "example.org", false},
    {"example.com", "example.co", false},
    {"example.com", "xexample.com", false},
    {"example.com", "example.com..", false},
    {"example.com..", "example.com..", false},
    // Wildcard: the whole left-most label, exactly one non-empty host label.
    {"*.example.com", "a.example.com", true},
    {"*.example.com", "WWW.EXAMPLE.COM", true},
    {"*.example.com", "a.example.com.", true},
    {"*.example.com.", "a.example.com", true},
    {"*.a.b.example.com", "x.a.b.example.com", true},
    {"*.example.com", "example.com", false},
    {"*.example.com", "a.b.example.com", false},
    {"*.example.com", ".example.com", false},
    {"*.example.com", "a.example.org", false},
    {"*.example.com", "a.xexample.com", false},
    // A whole-label wildcard matches an A-label too (documented decision).
    {"*.example.com", "xn--caf-dma.example.com", true},
    // Partial, repeated and non-left-most wildcards never match.
    {"f*.example.com", "foo.example.com", false},
    {"*o.example.com", "foo.example.com", false},
    {"f*o.example.com", "foo.example.com", false},
    {"xn--*.example.com", "xn--caf-dma.example.com", false},
    {"**.example.com", "a.example.com", false},
    {"*.*.example.com", "a.b.example.com", false},
    {"a.*.example.com", "a.b.example.com", false},
    {"example.*", "example.com", false},
    {"*", "localhost", false},
    {"*.", "a.", false},
    // At least two labels after the wildcard.
    {"*.com", "example.com", false},
    {"*.com.", "example.com", false},
    // A host is never itself a pattern.
    {"*.example.com", "*.example.com", false},
    {"a.example.com", "*.example.com", false},
    // Empty names and empty labels.
    {"", "example.com", false},
    {"example.com", "", false},
    {"", "", false},
    {".", ".", false},
    {"example..com", "example..com", false},
    {".example.com", ".example.com", false},
    {".example.com", "a.example.com", false},
    // Characters outside LDH (and '_'): spaces, NUL (the null-prefix attack), non-ASCII.
    {"example com", "example com", false},
    {"example.com\0.evil.net"sv, "example.com", false},
    {"example.com", "example.com\0"sv, false},
    {"ex\xc3\xa4mple.com", "ex\xc3\xa4mple.com", false},
    {"example.com/", "example.com/", false},
    // IP literals and other all-numeric top labels are not DNS names.
    {"192.0.2.1", "192.0.2.1", false},
    {"*.0.2.1", "192.0.2.1", false},
    {"*.example.123", "a.example.123", false},
};

TEST(HostnameTest, DnsNameMatchesTable) {
  for (const auto& c : kMatchCases) {
    EXPECT_EQ(dns_name_matches(c.pattern, c.host), c.matches)
        << "pattern \"" << c.pattern << "\" host \"" << c.host << "\"";
  }
}

TEST(HostnameTest, LabelAndNameLengthLimits) {
  const std::string label63(63, 'a');
  const std::string label64(64, 'a');
  EXPECT_TRUE(dns_name_matches(label63 + ".example", label63 + ".example"));
  EXPECT_FALSE(dns_name_matches(label64 + ".example", label64 + ".example"));
  EXPECT_TRUE(dns_name_matches("*.example.com", label63 + ".example.com"));
  EXPECT_FALSE(dns_name_matches("*.example.com", label64 + ".example.com"));

  // 253 octets in text form is the most a name can have (RFC 1035 2.3.4).
  std::string name253;
  while (name253.size() + 64 <= 253 - 8)
    name253 += label63 + ".";
  name253 += std::string(253 - 8 - name253.size(), 'b') + ".example";
  ASSERT_EQ(name253.size(), 253u);
  EXPECT_TRUE(dns_name_matches(name253, name253));
  EXPECT_TRUE(dns_name_matches(name253, name253 + "."));
  const std::string name254 = "c" + name253;
  EXPECT_FALSE(dns_name_matches(name254, name254));
}

TEST(HostnameTest, ParsesIpLiterals) {
  using Bytes = std::vector<std::uint8_t>;
  EXPECT_EQ(parse_ip_literal("192.0.2.1"), (Bytes{192, 0, 2, 1}));
  EXPECT_EQ(parse_ip_literal("0.0.0.0"), (Bytes{0, 0, 0, 0}));
  const Bytes loopback6 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(parse_ip_literal("::1"), loopback6);
  EXPECT_EQ(parse_ip_literal("[::1]"), loopback6);
  EXPECT_EQ(parse_ip_literal("0:0:0:0:0:0:0:1"), loopback6);
  EXPECT_EQ(parse_ip_literal("2001:DB8::A"),
            (Bytes{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a}));
  EXPECT_EQ(parse_ip_literal("::ffff:192.0.2.1"),
            (Bytes{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1}));

  for (const std::string_view bad :
       {""sv, "example.com"sv, "1.2.3"sv, "1.2.3.4.5"sv, "256.1.1.1"sv, "01.2.3.4"sv,
        "0x7f.0.0.1"sv, "127.1"sv, " 1.2.3.4"sv, "1.2.3.4 "sv, "[192.0.2.1]"sv, "[::1"sv, "::1]"sv,
        "[]"sv, "fe80::1%eth0"sv, "1::2::3"sv, "::1\0"sv, "12345::1"sv}) {
    EXPECT_FALSE(parse_ip_literal(bad).has_value()) << "\"" << bad << "\"";
  }
}

class HostnameCertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::make_root();
    leaf_ = test::make_leaf(root_, {.common_name = "www.example.org",
                                    .dns_names = {"www.example.org", "*.api.example.org"},
                                    .ip_addresses = {"192.0.2.7", "2001:db8::1"}});
  }
  test::Issued root_;
  test::Issued leaf_;
};

TEST_F(HostnameCertificateTest, MatchesDnsNamesAndWildcards) {
  EXPECT_TRUE(verify_host(leaf_.cert, "www.example.org"));
  EXPECT_TRUE(verify_host(leaf_.cert, "WWW.Example.ORG."));
  EXPECT_TRUE(verify_host(leaf_.cert, "v2.api.example.org"));
  EXPECT_FALSE(verify_host(leaf_.cert, "api.example.org"));
  EXPECT_FALSE(verify_host(leaf_.cert, "a.v2.api.example.org"));
}

TEST_F(HostnameCertificateTest, MatchesIpv4AndIpv6Addresses) {
  EXPECT_TRUE(verify_host(leaf_.cert, "192.0.2.7"));
  EXPECT_TRUE(verify_host(leaf_.cert, "2001:db8::1"));
  EXPECT_TRUE(verify_host(leaf_.cert, "2001:DB8:0:0:0:0:0:1"));
  EXPECT_TRUE(verify_host(leaf_.cert, "[2001:db8::1]"));
  EXPECT_EQ(verify_host(leaf_.cert, "192.0.2.8").error(), Errc::cert_hostname_mismatch);
  EXPECT_EQ(verify_host(leaf_.cert, "2001:db8::2").error(), Errc::cert_hostname_mismatch);
  // An IPv4-mapped IPv6 address is a different 16-byte value, not the 4-byte one.
  EXPECT_EQ(verify_host(leaf_.cert, "::ffff:192.0.2.7").error(), Errc::cert_hostname_mismatch);
}

TEST_F(HostnameCertificateTest, MismatchNamesTheHostAndTheCertificateNames) {
  auto status = verify_host(leaf_.cert, "example.org");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errc::cert_hostname_mismatch);
  const std::string& detail = status.error().detail();
  EXPECT_NE(detail.find("\"example.org\""), std::string::npos) << detail;
  EXPECT_NE(detail.find("DNS:www.example.org"), std::string::npos) << detail;
  EXPECT_NE(detail.find("DNS:*.api.example.org"), std::string::npos) << detail;
  EXPECT_NE(detail.find("IP:192.0.2.7"), std::string::npos) << detail;
  EXPECT_NE(detail.find("IP:2001:db8::1"), std::string::npos) << detail;

  EXPECT_EQ(verify_host(leaf_.cert, "").error(), Errc::cert_hostname_mismatch);
  EXPECT_EQ(verify_host(bulwark::crypto::Certificate(), "www.example.org").error(),
            Errc::invalid_argument);
}

TEST_F(HostnameCertificateTest, IpAddressesAndDnsNamesNeverCross) {
  // A dNSName that spells an IP address does not vouch for that address...
  auto dns_ip =
      test::make_leaf(root_, {.common_name = "looks-like-ip", .dns_names = {"198.51.100.1"}});
  EXPECT_EQ(verify_host(dns_ip.cert, "198.51.100.1").error(), Errc::cert_hostname_mismatch);
  // ...and an iPAddress does not vouch for a DNS name spelled like it.
  auto ip_only = test::make_leaf(
      root_, {.common_name = "ip-only", .dns_names = {}, .ip_addresses = {"198.51.100.1"}});
  EXPECT_TRUE(verify_host(ip_only.cert, "198.51.100.1"));
  EXPECT_EQ(verify_host(ip_only.cert, "198.51.100.1.example.com").error(),
            Errc::cert_hostname_mismatch);
}

TEST_F(HostnameCertificateTest, SubjectCommonNameIsNeverUsed) {
  // RFC 9525 1.2 / RFC 9110 4.3.4: no CN-ID fallback, even without any subjectAltName.
  auto cn_only = test::make_leaf(root_, {.common_name = "cn-only.example.com", .dns_names = {}});
  auto status = verify_host(cn_only.cert, "cn-only.example.com");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), Errc::cert_hostname_mismatch);
  EXPECT_NE(status.error().detail().find("no DNS or IP subjectAltName"), std::string::npos)
      << status.error().detail();
  // Nor when the SAN names something else.
  auto other =
      test::make_leaf(root_, {.common_name = "cn.example.com", .dns_names = {"san.example.com"}});
  EXPECT_EQ(verify_host(other.cert, "cn.example.com").error(), Errc::cert_hostname_mismatch);
  EXPECT_TRUE(verify_host(other.cert, "san.example.com"));
}

TEST_F(HostnameCertificateTest, LongNameListsAreShortened) {
  std::vector<std::string> names;
  for (int i = 0; i < 25; ++i)
    names.push_back("host" + std::to_string(i) + ".example.com");
  auto many = test::make_leaf(root_, {.common_name = "many", .dns_names = names});
  auto status = verify_host(many.cert, "other.example.com");
  ASSERT_FALSE(status);
  const std::string& detail = status.error().detail();
  EXPECT_NE(detail.find("DNS:host9.example.com"), std::string::npos) << detail;
  EXPECT_EQ(detail.find("DNS:host10.example.com"), std::string::npos) << detail;
  EXPECT_NE(detail.find("and 15 more"), std::string::npos) << detail;
  EXPECT_TRUE(verify_host(many.cert, "host24.example.com"));
}

}  // namespace
