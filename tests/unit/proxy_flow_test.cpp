// proxy::flow: the JSON of a flow line (string escaping, RFC 3339 time, nulls), the FlowLog
// file, the --replace rule syntax and the replacement itself.
#include "bulwark/proxy/flow.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

namespace bulwark::proxy {
namespace {

TEST(ProxyFlowJson, EscapesQuotesBackslashesAndControlCharacters) {
  // RFC 8259 §7: '"', '\' and U+0000..U+001F must be escaped.
  EXPECT_EQ(json_string("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_string("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(json_string(std::string("\x01\x1f\x7f", 3)), R"("\u0001\u001f\u007f")");
  EXPECT_EQ(json_string(std::string("nul\0end", 7)), R"("nul\u0000end")");
  EXPECT_EQ(json_string(""), R"("")");
  EXPECT_EQ(json_string("/search?q=cats&x=1"), R"("/search?q=cats&x=1")");
}

TEST(ProxyFlowJson, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(json_string("caf\xc3\xa9 \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
  // A lone continuation byte, a byte never valid, a sequence cut short.
  EXPECT_EQ(json_string("\x80"), R"("\ufffd")");
  EXPECT_EQ(json_string("\xff"), R"("\ufffd")");
  EXPECT_EQ(json_string("a\xe2\x82"), R"("a\ufffd\ufffd")");
  // Overlong encodings and UTF-16 surrogates are not UTF-8 (RFC 3629 §3).
  EXPECT_EQ(json_string("\xc0\xaf"), R"("\ufffd\ufffd")");
  EXPECT_EQ(json_string("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");
  EXPECT_EQ(json_string("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");
}

TEST(ProxyFlowJson, FormatsTimesAsRfc3339Utc) {
  EXPECT_EQ(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rfc3339_utc(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(rfc3339_utc(-1), "1969-12-31T23:59:59.999Z");
}

TEST(ProxyFlowJson, WritesEveryFieldWithNullsForAbsentValues) {
  FlowRecord r;
  r.unix_ms = 1700000000123;
  r.client = "127.0.0.1:5000";
  r.method = "GET";
  r.url = "https://example.org/a?q=\"x\"";
  r.status = 200;
  r.request_body_bytes = 3;
  r.response_body_bytes = 1234;
  r.tls_version = "TLS 1.3";
  r.tls_suite = "TLS_AES_128_GCM_SHA256";
  r.upstream_connect_ms = 1.5;
  r.first_byte_ms = 0.25;
  r.total_ms = 2;
  r.replacements = 1;
  r.notes = {"replace skipped: content-encoding gzip"};
  EXPECT_EQ(flow_json(r),
            R"({"time":"2023-11-14T22:13:20.123Z","client":"127.0.0.1:5000","method":"GET",)"
            R"("url":"https://example.org/a?q=\"x\"","status":200,"request_bytes":3,)"
            R"("response_bytes":1234,"tls_version":"TLS 1.3","tls_suite":"TLS_AES_128_GCM_SHA256",)"
            R"("upstream_connect_ms":1.500,"first_byte_ms":0.250,"total_ms":2.000,)"
            R"("replacements":1,"notes":["replace skipped: content-encoding gzip"]})");

  FlowRecord bare;
  bare.client = "[::1]:1";
  bare.method = "POST";
  bare.url = "http://h/";
  EXPECT_EQ(flow_json(bare),
            R"({"time":"1970-01-01T00:00:00.000Z","client":"[::1]:1","method":"POST",)"
            R"("url":"http://h/","status":null,"request_bytes":0,"response_bytes":0,)"
            R"("tls_version":null,"tls_suite":null,"upstream_connect_ms":null,)"
            R"("first_byte_ms":null,"total_ms":0.000,"replacements":0,"notes":[]})");
}

TEST(ProxyFlowLog, AppendsWholeLinesFromManyThreads) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("bulwark_flow_test_" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(path);
  {
    auto log = FlowLog::open(path.string());
    ASSERT_TRUE(log) << log.error().message();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        FlowRecord r;
        r.method = "GET";
        r.url = "https://example.org/" + std::string(2000, char('a' + t));
        for (int i = 0; i < 50; ++i)
          (*log)->write(r);
      });
    }
    for (auto& th : threads)
      th.join();
  }
  std::ifstream in(path);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    // A whole line: one record, one letter repeated (no other thread's bytes inside).
    ASSERT_TRUE(line.starts_with("{\"time\":")) << line.substr(0, 80);
    ASSERT_TRUE(line.ends_with("]}")) << line.substr(line.size() - 80);
    const std::size_t at = line.find("example.org/") + 12;
    EXPECT_EQ(line.find_first_not_of(line[at], at), at + 2000);
  }
  EXPECT_EQ(lines, 200);
  std::filesystem::remove(path);
  EXPECT_FALSE(FlowLog::open("/nonexistent-dir/flows.jsonl"));
}

TEST(ProxyReplaceRule, ParsesScopeFromAndTo) {
  auto r = parse_replace_rule("request:cats:dogs");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->scope, ReplaceScope::request);
  EXPECT_EQ(r->from, "cats");
  EXPECT_EQ(r->to, "dogs");
  auto deletion = parse_replace_rule("response:secret:");
  ASSERT_TRUE(deletion);
  EXPECT_EQ(deletion->scope, ReplaceScope::response);
  EXPECT_EQ(deletion->to, "");
}

TEST(ProxyReplaceRule, TheCharacterAfterTheScopeIsTheSeparator) {
  auto r = parse_replace_rule("response|http://a:80|https://b:443");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->from, "http://a:80");
  EXPECT_EQ(r->to, "https://b:443");
  auto slash = parse_replace_rule("request/a:b/c:d");
  ASSERT_TRUE(slash);
  EXPECT_EQ(slash->from, "a:b");
  EXPECT_EQ(slash->to, "c:d");
}

TEST(ProxyReplaceRule, RefusesMalformedRules) {
  for (const char* bad :
       {"", "req:a:b", "requests:a:b", "request", "request:a", "request:a:b:c", "request::b",
        "request a b", "requestxaxb", "request\ta\tb", "responseA:b:c"}) {
    auto r = parse_replace_rule(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code(), Errc::invalid_argument);
    }
  }
}

TEST(ProxyReplace, ReplacesEveryOccurrenceOfItsScopeOnly) {
  const std::vector<ReplaceRule> rules{
      {ReplaceScope::request, "cats", "dogs"},
      {ReplaceScope::response, "dogs", "wolves"},
      {ReplaceScope::request, "dogs", "birds"},  // rules apply in order, each on the result
  };
  std::string request = "cats and dogs like cats";
  EXPECT_EQ(apply_replacements(rules, ReplaceScope::request, request), 5u);
  EXPECT_EQ(request, "birds and birds like birds");
  std::string response = "dogs, dogsdogs";
  EXPECT_EQ(apply_replacements(rules, ReplaceScope::response, response), 3u);
  EXPECT_EQ(response, "wolves, wolveswolves");
  EXPECT_TRUE(has_rules(rules, ReplaceScope::response));
  EXPECT_FALSE(has_rules(std::span(rules).first(1), ReplaceScope::response));
}

TEST(ProxyReplace, MatchesDoNotOverlapAndReplacementsAreNotRescanned) {
  const std::vector<ReplaceRule> rules{{ReplaceScope::response, "aa", "a"},
                                       {ReplaceScope::response, "x", "xx"}};
  std::string text = "aaaaa x";
  EXPECT_EQ(apply_replacements(rules, ReplaceScope::response, text), 3u);
  EXPECT_EQ(text, "aaa xx");
  std::string none = "nothing here";
  EXPECT_EQ(apply_replacements(rules, ReplaceScope::response, none), 0u);
  EXPECT_EQ(none, "nothing here");
  // Bodies are bytes: NUL and non-UTF-8 bytes are replaced like any other.
  const std::vector<ReplaceRule> binary{
      {ReplaceScope::request, std::string("\0\xff", 2), std::string("\x01", 1)}};
  std::string body(
      "a\0\xff"
      "b",
      4);
  EXPECT_EQ(apply_replacements(binary, ReplaceScope::request, body), 1u);
  EXPECT_EQ(body, std::string("a\x01"
                              "b",
                              3));
}

}  // namespace
}  // namespace bulwark::proxy
