// Whole scans against the test-only fixtures (tests/support/scan_fixtures.hpp): a
// Heartbleed-vulnerable server and an SSLv2-speaking OpenSSL 0.9.6d look-alike are CRITICAL;
// the patched server is not reported for Heartbleed; a server that takes an early
// ChangeCipherSpec is HIGH; nothing a server lacks is reported.
#include <gtest/gtest.h>

#include "bulwark/scan/scanner.hpp"
#include "support/pki.hpp"
#include "support/scan_fixtures.hpp"
#include "support/temp_dir.hpp"

namespace bulwark::scan {
namespace {

struct Fixture {
  test::Pki pki = test::make_pki(
      {.leaf = {
           .common_name = "localhost", .dns_names = {"localhost"}, .ip_addresses = {"127.0.0.1"}}});
  test::TempDir dir;
  std::string ca_file = dir.write("ca.pem", pki.root.cert.to_pem().value()).string();

  std::vector<std::uint8_t> leaf_der() const {
    auto d = pki.leaf.cert.der();
    return {d.begin(), d.end()};
  }
  ScanOptions options(std::uint16_t port, std::vector<std::string> checks = {}) const {
    ScanOptions o;
    o.host = "127.0.0.1";
    o.port = port;
    o.cacert = ca_file;
    o.checks = std::move(checks);
    o.timeout = std::chrono::milliseconds(3000);
    return o;
  }
};

const Finding* find(const Report& r, std::string_view id) {
  for (const auto& f : r.findings)
    if (f.id == id) return &f;
  return nullptr;
}

Severity severity_of(const Report& r, std::string_view id) {
  const Finding* f = find(r, id);
  EXPECT_NE(f, nullptr) << "no finding " << id;
  return f ? f->severity : Severity::ok;
}

bool offered(const Report& r, std::uint16_t version) {
  for (const auto& v : r.versions)
    if (v.version == version) return v.offered;
  return false;
}

TEST(ScanScanner, HeartbleedServerIsCritical) {
  Fixture fx;
  test::LegacyServer server({.heartbleed = true, .certificate_der = fx.leaf_der()});
  auto r = scan(fx.options(server.port()));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(severity_of(*r, "heartbleed"), Severity::critical);
  EXPECT_NE(find(*r, "heartbleed")->evidence.find("16403 bytes back"), std::string::npos);
  EXPECT_GE(server.heartbeats_answered(), 1);
  EXPECT_EQ(r->exit_status(), 4);
  EXPECT_EQ(r->grade(), "F");
  // What this server has, and only that.
  EXPECT_FALSE(offered(*r, 0x0002));
  EXPECT_FALSE(offered(*r, 0x0300));
  EXPECT_TRUE(offered(*r, 0x0301));
  EXPECT_TRUE(offered(*r, 0x0303));
  EXPECT_FALSE(offered(*r, 0x0304));
  EXPECT_EQ(severity_of(*r, "protocol.sslv2"), Severity::ok);
  EXPECT_EQ(severity_of(*r, "protocol.tls10"), Severity::medium);
  EXPECT_EQ(severity_of(*r, "protocol.tls13"), Severity::low);
  EXPECT_EQ(severity_of(*r, "sweet32"), Severity::medium);  // it takes 3DES
  EXPECT_EQ(severity_of(*r, "cipher.rc4"), Severity::ok);
  EXPECT_EQ(severity_of(*r, "cipher.export"), Severity::ok);
  EXPECT_EQ(severity_of(*r, "crime"), Severity::ok);
  EXPECT_EQ(severity_of(*r, "ems"), Severity::low);
  EXPECT_EQ(severity_of(*r, "renegotiation.secure"), Severity::ok);
  EXPECT_EQ(severity_of(*r, "fallback_scsv"), Severity::medium);
  // TLS 1.2 without an ECDHE AEAD suite: the renegotiation probe cannot run, and says so.
  EXPECT_EQ(severity_of(*r, "renegotiation.client"), Severity::info);
  EXPECT_NE(find(*r, "renegotiation.client")->title.find("not tested"), std::string::npos);
  EXPECT_EQ(severity_of(*r, "certificate.trust"), Severity::ok);
  EXPECT_EQ(severity_of(*r, "certificate.hostname"), Severity::ok);
  // The server's preference order, per version: TLS 1.2 starts with the GCM suite.
  std::vector<std::uint32_t> tls12;
  for (const auto& s : r->suites)
    if (s.version == 0x0303) tls12.push_back(s.id);
  EXPECT_EQ(tls12, (std::vector<std::uint32_t>{0x009c, 0x002f, 0x0035, 0x000a}));
  ASSERT_NE(find(*r, "cipher_order.tls12"), nullptr);
  EXPECT_NE(find(*r, "cipher_order.tls12")->evidence.find("keeps its own"), std::string::npos);
}

TEST(ScanScanner, PatchedHeartbeatServerIsNotReported) {
  Fixture fx;
  test::LegacyServer server({.heartbleed = false, .certificate_der = fx.leaf_der()});
  ScanOptions o = fx.options(server.port(), {"heartbleed"});
  o.timeout = std::chrono::milliseconds(1000);  // how long the scanner waits for a leak
  auto r = scan(o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(severity_of(*r, "heartbleed"), Severity::ok);
  EXPECT_EQ(server.heartbeats_answered(), 0);
  EXPECT_EQ(r->exit_status(), 0);
  // Only the checks asked for.
  EXPECT_EQ(find(*r, "protocol.sslv2"), nullptr);
  EXPECT_EQ(find(*r, "crime"), nullptr);
  EXPECT_TRUE(r->suites.empty());
}

TEST(ScanScanner, Sslv2ServerIsCritical) {
  Fixture fx;
  test::LegacyServer server({.sslv2 = true, .certificate_der = fx.leaf_der()});
  auto r = scan(fx.options(server.port()));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(offered(*r, 0x0002));
  EXPECT_TRUE(offered(*r, 0x0300));
  EXPECT_TRUE(offered(*r, 0x0301));
  EXPECT_FALSE(offered(*r, 0x0303));
  EXPECT_EQ(severity_of(*r, "protocol.sslv2"), Severity::critical);
  EXPECT_EQ(severity_of(*r, "drown"), Severity::critical);
  EXPECT_EQ(severity_of(*r, "protocol.sslv3"), Severity::high);
  EXPECT_EQ(severity_of(*r, "poodle"), Severity::high);
  EXPECT_EQ(severity_of(*r, "cipher.rc4"), Severity::high);
  EXPECT_EQ(severity_of(*r, "cipher.export"), Severity::critical);
  EXPECT_EQ(severity_of(*r, "cipher.des"), Severity::high);
  EXPECT_EQ(severity_of(*r, "protocol.modern"), Severity::high);
  EXPECT_EQ(severity_of(*r, "renegotiation.secure"), Severity::medium);
  // Nothing after TLS 1.0: not tested, which is not OK.
  EXPECT_EQ(severity_of(*r, "renegotiation.client"), Severity::info);
  EXPECT_EQ(severity_of(*r, "heartbleed"), Severity::ok);
  EXPECT_EQ(r->exit_status(), 4);
  // The SSLv2 cipher kinds are listed among the suites.
  bool rc4_md5 = false;
  for (const auto& s : r->suites)
    rc4_md5 |= s.version == 0x0002 && s.id == 0x010080;
  EXPECT_TRUE(rc4_md5);
}

TEST(ScanScanner, CcsInjection) {
  Fixture fx;
  {
    test::LegacyServer server({.ccs_injection = true, .certificate_der = fx.leaf_der()});
    auto r = scan(fx.options(server.port(), {"ccs"}));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(severity_of(*r, "ccs_injection"), Severity::high);
    EXPECT_EQ(r->exit_status(), 3);
  }
  {
    test::LegacyServer server({.certificate_der = fx.leaf_der()});
    auto r = scan(fx.options(server.port(), {"ccs"}));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(severity_of(*r, "ccs_injection"), Severity::ok);
    EXPECT_NE(find(*r, "ccs_injection")->evidence.find("unexpected_message"), std::string::npos);
  }
}

TEST(ScanScanner, UnreachableTargetIsAnError) {
  // Bind a port and close it again: nothing listens there now.
  std::uint16_t port = 0;
  {
    Fixture fx;
    test::LegacyServer server({.certificate_der = fx.leaf_der()});
    port = server.port();
  }
  ScanOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.timeout = std::chrono::milliseconds(1000);
  auto r = scan(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::io_error);
}

TEST(ScanScanner, UnknownCheckIsRefused) {
  Fixture fx;
  test::LegacyServer server({.certificate_der = fx.leaf_der()});
  auto r = scan(fx.options(server.port(), {"no-such-check"}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::invalid_argument);
}

}  // namespace
}  // namespace bulwark::scan
