// Scan reports: grade and exit status from the worst finding; JSON escaping; plain text has no
// colour codes unless asked.
#include <gtest/gtest.h>

#include "bulwark/scan/report.hpp"

namespace bulwark::scan {
namespace {

Report with(std::initializer_list<Severity> severities) {
  Report r;
  r.host = "example.org";
  r.port = 443;
  int i = 0;
  for (Severity s : severities)
    r.findings.push_back({"f" + std::to_string(i++), "ciphers", "title", s, "evidence", "remedy"});
  return r;
}

TEST(ScanReport, GradeAndExitStatusFollowTheWorstFinding) {
  EXPECT_EQ(with({}).grade(), "A");
  EXPECT_EQ(with({}).exit_status(), 0);
  EXPECT_EQ(with({Severity::ok, Severity::low}).grade(), "A");
  EXPECT_EQ(with({Severity::ok, Severity::low}).exit_status(), 0);
  EXPECT_EQ(with({Severity::medium, Severity::low}).grade(), "B");
  EXPECT_EQ(with({Severity::medium}).exit_status(), 0);
  EXPECT_EQ(with({Severity::high, Severity::medium}).grade(), "C");
  EXPECT_EQ(with({Severity::high}).exit_status(), 3);
  EXPECT_EQ(with({Severity::high, Severity::critical, Severity::ok}).grade(), "F");
  EXPECT_EQ(with({Severity::critical}).exit_status(), 4);
  EXPECT_EQ(with({Severity::info, Severity::critical}).worst(), Severity::critical);
}

TEST(ScanReport, JsonStringsAreAlwaysValid) {
  EXPECT_EQ(json_string("plain"), "\"plain\"");
  EXPECT_EQ(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
  EXPECT_EQ(json_string(std::string("\x01", 1)), "\"\\u0001\"");
  EXPECT_EQ(json_string("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // valid UTF-8 kept
  EXPECT_EQ(json_string("bad\xff"
                        "end"),
            "\"bad\\ufffdend\"");  // a stray byte replaced
  EXPECT_EQ(json_string("cut\xc3"), "\"cut\\ufffd\"");
}

TEST(ScanReport, JsonHasEveryFindingField) {
  Report r = with({Severity::critical});
  r.findings[0].evidence = "quote \" inside";
  r.versions.push_back({0x0002, true, "SSLv2 SERVER-HELLO"});
  r.suites.push_back({0x0002, 0x0700c0, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5", "RSA"});
  const std::string j = render_json(r);
  EXPECT_NE(j.find("\"schema\": \"bulwark-scan/1\""), std::string::npos);
  EXPECT_NE(j.find("\"severity\": \"CRITICAL\""), std::string::npos);
  EXPECT_NE(j.find("\"evidence\": \"quote \\\" inside\""), std::string::npos);
  EXPECT_NE(j.find("\"remedy\": \"remedy\""), std::string::npos);
  EXPECT_NE(j.find("\"version\": \"SSL 2.0\""), std::string::npos);
  EXPECT_NE(j.find("\"id\": \"0x0700c0\""), std::string::npos);
  EXPECT_NE(j.find("\"grade\": \"F\""), std::string::npos);
}

TEST(ScanReport, ColourOnlyWhenAsked) {
  Report r = with({Severity::high});
  const std::string plain = render_text(r, false);
  const std::string coloured = render_text(r, true);
  EXPECT_EQ(plain.find('\x1b'), std::string::npos);
  EXPECT_NE(coloured.find("\x1b[31m"), std::string::npos);
  EXPECT_NE(plain.find("HIGH"), std::string::npos);
  EXPECT_NE(plain.find("fix: remedy"), std::string::npos);
  EXPECT_NE(plain.find("Grade C"), std::string::npos);
}

TEST(ScanReport, ServerTextCannotEscapeTheTerminal) {
  Report r = with({Severity::info});
  r.findings[0].evidence = "CN=evil\x1b]0;owned\x07\nname";
  const std::string plain = render_text(r, false);
  EXPECT_EQ(plain.find('\x1b'), std::string::npos);
  EXPECT_EQ(plain.find('\x07'), std::string::npos);
  EXPECT_NE(plain.find("CN=evil?]0;owned??name"), std::string::npos);
}

TEST(ScanReport, VersionNames) {
  EXPECT_EQ(version_name(0x0002), "SSL 2.0");
  EXPECT_EQ(version_name(0x0300), "SSL 3.0");
  EXPECT_EQ(version_name(0x0304), "TLS 1.3");
  EXPECT_EQ(version_name(0x7f1c), "0x7f1c");
}

}  // namespace
}  // namespace bulwark::scan
