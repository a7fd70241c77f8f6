// http::parse_proxy_request_head / find_head_end / parse_authority: what the proxy reads first.
#include "bulwark/http/proxy_request.hpp"

#include <gtest/gtest.h>

namespace bulwark::http {
namespace {

TEST(ProxyRequestHead, FindsTheEndOfTheHead) {
  auto incomplete = find_head_end("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n");
  ASSERT_TRUE(incomplete);
  EXPECT_FALSE(incomplete->has_value());
  auto complete = find_head_end("CONNECT a:443 HTTP/1.1\r\n\r\nTLS...");
  ASSERT_TRUE(complete);
  ASSERT_TRUE(complete->has_value());
  EXPECT_EQ(**complete, 26u);
}

TEST(ProxyRequestHead, RefusesAnOverlongHead) {
  const std::string big(100, 'a');
  auto r = find_head_end(big, 64);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::limit_exceeded);
  auto late_end = find_head_end(std::string(70, 'a') + "\r\n\r\n", 64);
  ASSERT_FALSE(late_end);
  EXPECT_EQ(late_end.error().code(), Errc::limit_exceeded);
}

TEST(ProxyRequestHead, ParsesConnect) {
  auto head = parse_proxy_request_head(
      "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\nUser-Agent:  curl/7.88 "
      "\r\n\r\n");
  ASSERT_TRUE(head) << head.error().message();
  EXPECT_TRUE(head->is_connect());
  EXPECT_EQ(head->target, "example.org:443");
  EXPECT_EQ(head->version, 11);
  ASSERT_EQ(head->fields.size(), 2u);
  EXPECT_EQ(head->find("user-agent").value_or(""), "curl/7.88");
  EXPECT_FALSE(head->find("accept"));
}

TEST(ProxyRequestHead, ParsesAbsoluteForm) {
  auto head = parse_proxy_request_head("GET http://example.org/a?b=1 HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(head) << head.error().message();
  EXPECT_FALSE(head->is_connect());
  EXPECT_EQ(head->method, "GET");
  EXPECT_EQ(head->target, "http://example.org/a?b=1");
  EXPECT_EQ(head->version, 10);
}

TEST(ProxyRequestHead, RefusesMalformedHeads) {
  const char* bad[] = {
      "CONNECT example.org:443\r\n\r\n",                       // no version
      "CONNECT  example.org:443 HTTP/1.1\r\n\r\n",             // two spaces
      "CONNECT example.org:443 HTTP/2.0\r\n\r\n",              // version
      "GET http://a/ HTTP/1.1\r\nHost : a\r\n\r\n",            // RFC 9112 §5.1
      "GET http://a/ HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",  // RFC 9112 §5.2
      "GET http://a/ HTTP/1.1\r\nNoColon\r\n\r\n",
      "GE(T http://a/ HTTP/1.1\r\n\r\n",     // method not a token
      "GET http://a/\x01 HTTP/1.1\r\n\r\n",  // control in the target
  };
  for (const char* text : bad) {
    auto head = parse_proxy_request_head(text);
    ASSERT_FALSE(head) << text;
    EXPECT_EQ(head.error().code(), Errc::decode_failed) << text;
  }
  // RFC 9110 §5.5: no NUL in a field value.
  const std::string nul = std::string("GET http://a/ HTTP/1.1\r\nX: a") + '\0' + "b\r\n\r\n";
  EXPECT_FALSE(parse_proxy_request_head(nul));
}

TEST(ProxyRequestHead, BoundsTheFieldCount) {
  std::string text = "GET http://a/ HTTP/1.1\r\n";
  for (int i = 0; i < 5; ++i)
    text += "X-" + std::to_string(i) + ": v\r\n";
  text += "\r\n";
  EXPECT_TRUE(parse_proxy_request_head(text, 5));
  auto r = parse_proxy_request_head(text, 4);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::limit_exceeded);
}

TEST(ProxyAuthority, ParsesHostAndPort) {
  auto a = parse_authority("Example.ORG:8443");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "example.org");
  EXPECT_EQ(a->port, 8443);
  auto v6 = parse_authority("[::1]:443");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 443);
}

TEST(ProxyAuthority, RefusesBadTargets) {
  // RFC 9110 §9.3.6: CONNECT needs host and port.
  for (const char* text :
       {"example.org", "example.org:", ":443", "example.org:0", "example.org:65536",
        "example.org:44a", "[::1]443", "[]:443", "a b:443", "a/b:443", "a:b:443"}) {
    EXPECT_FALSE(parse_authority(text)) << text;
  }
}

}  // namespace
}  // namespace bulwark::http
