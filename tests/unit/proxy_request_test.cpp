// http::parse_proxy_request_head / find_head_end / parse_authority: what the proxy reads first;
// and the pieces of its HTTP relay: the tunnel sniff, response heads, hop-by-hop fields,
// Content-Length and the chunked decoder.
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

TEST(ProxyRelayHttp, ClassifiesTheFirstBytesOfATunnel) {
  EXPECT_EQ(classify_request_start("GET / HTTP/1.1\r\n"), RequestStart::http);
  EXPECT_EQ(classify_request_start("OPTIONS * HTTP/1.1"), RequestStart::http);
  EXPECT_EQ(classify_request_start("GET http://a/ HTTP/1.1"), RequestStart::http);
  EXPECT_EQ(classify_request_start(""), RequestStart::need_more);
  EXPECT_EQ(classify_request_start("GE"), RequestStart::need_more);
  EXPECT_EQ(classify_request_start("POST "), RequestStart::need_more);
  // Other protocols are told apart at once: lower case, binary, a line without a target.
  EXPECT_EQ(classify_request_start("message 0"), RequestStart::not_http);
  EXPECT_EQ(classify_request_start("\x16\x03\x01"), RequestStart::not_http);
  EXPECT_EQ(classify_request_start(" GET /"), RequestStart::not_http);
  EXPECT_EQ(classify_request_start("GET  /"), RequestStart::not_http);
  EXPECT_EQ(classify_request_start("EHLO\r\n"), RequestStart::not_http);
  EXPECT_EQ(classify_request_start(std::string(40, 'A')), RequestStart::not_http);
}

TEST(ProxyRelayHttp, ParsesResponseHeads) {
  auto head = parse_proxy_response_head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b \r\n\r\n");
  ASSERT_TRUE(head) << head.error().message();
  EXPECT_EQ(head->version, 11);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->reason, "OK");
  EXPECT_EQ(head->find("x-a").value_or(""), "b");
  auto no_reason = parse_proxy_response_head("HTTP/1.0 204\r\n\r\n");
  ASSERT_TRUE(no_reason) << no_reason.error().message();
  EXPECT_EQ(no_reason->version, 10);
  EXPECT_EQ(no_reason->status, 204);
  EXPECT_EQ(no_reason->reason, "");
  for (const char* bad :
       {"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 099 X\r\n\r\n", "HTTP/1.1 600 X\r\n\r\n", "HTTP/1.1 200 OK\r\n folded\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "HTTP/1.1 200 OK\r\nA: b\x01\r\n\r\n",
        "HTTP/1.1 200 O\x01K\r\n\r\n", "HTTP/1.1 200 OK\r\n"}) {
    auto r = parse_proxy_response_head(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code(), Errc::decode_failed) << bad;
    }
  }
}

TEST(ProxyRelayHttp, KnowsHopByHopFieldsAndConnectionOptions) {
  for (const char* name : {"Connection", "keep-alive", "Proxy-Connection", "TE",
                           "Transfer-Encoding", "upgrade", "Proxy-Authorization"})
    EXPECT_TRUE(is_hop_by_hop_field(name)) << name;
  EXPECT_FALSE(is_hop_by_hop_field("Content-Length"));
  EXPECT_FALSE(is_hop_by_hop_field("Host"));
  const std::vector<HeaderField> fields{{"Connection", "keep-alive, X-Secret"},
                                        {"connection", " Close "}};
  EXPECT_TRUE(connection_has_option(fields, "close"));
  EXPECT_TRUE(connection_has_option(fields, "x-secret"));
  EXPECT_FALSE(connection_has_option(fields, "upgrade"));
}

TEST(ProxyRelayHttp, ReadsContentLength) {
  auto none = content_length({{"Host", "a"}});
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto one = content_length({{"Content-Length", "42"}});
  ASSERT_TRUE(one);
  EXPECT_EQ(one->value_or(0), 42u);
  // RFC 9112 §6.3: repeated identical values are one value; different ones are an error.
  auto same = content_length({{"Content-Length", "7, 7"}, {"content-length", "7"}});
  ASSERT_TRUE(same);
  EXPECT_EQ(same->value_or(0), 7u);
  for (const std::vector<HeaderField>& bad :
       {std::vector<HeaderField>{{"Content-Length", "7, 8"}},
        std::vector<HeaderField>{{"Content-Length", "1"}, {"Content-Length", "2"}},
        std::vector<HeaderField>{{"Content-Length", "-1"}},
        std::vector<HeaderField>{{"Content-Length", "+1"}},
        std::vector<HeaderField>{{"Content-Length", "0x10"}},
        std::vector<HeaderField>{{"Content-Length", ""}},
        std::vector<HeaderField>{{"Content-Length", "99999999999999999999"}}}) {
    auto r = content_length(bad);
    EXPECT_FALSE(r) << bad.front().value;
  }
}

TEST(ProxyChunkedDecoder, DecodesChunksExtensionsAndTrailers) {
  const std::string body =
      "4;name=value\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n"
      "0\r\nExpires: never\r\n\r\nNEXT";
  ChunkedDecoder decoder;
  std::string data;
  auto used = decoder.feed(body, &data);
  ASSERT_TRUE(used) << used.error().message();
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(*used, body.size() - 4);  // "NEXT" belongs to the next message
  EXPECT_EQ(data, "Wikipedia in \r\n\r\nchunks.");
  EXPECT_EQ(decoder.body_bytes(), data.size());
}

TEST(ProxyChunkedDecoder, TakesTheBodyByteByByte) {
  const std::string body = "3\r\nabc\r\n1A\r\n" + std::string(26, 'z') + "\r\n0\r\n\r\n";
  ChunkedDecoder decoder;
  std::string data;
  for (std::size_t i = 0; i < body.size(); ++i) {
    ASSERT_FALSE(decoder.done()) << i;
    auto used = decoder.feed(std::string_view(body).substr(i, 1), &data);
    ASSERT_TRUE(used) << used.error().message();
    EXPECT_EQ(*used, 1u);
  }
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(data, "abc" + std::string(26, 'z'));
  // Without a sink the data is only counted.
  ChunkedDecoder counting;
  ASSERT_TRUE(counting.feed(body, nullptr));
  EXPECT_EQ(counting.body_bytes(), 29u);
}

TEST(ProxyChunkedDecoder, RefusesMalformedFraming) {
  for (const char* bad : {"x\r\n", "\r\n", "3\r\nabcd\r\n", "3\nabc\r\n", "-1\r\n",
                          "3 garbage\r\nabc\r\nZ\r\n", "3\r\nabc\r\n0\r\nBad\nline\r\n"}) {
    ChunkedDecoder decoder;
    std::string data;
    Result<std::size_t> r = decoder.feed(bad, &data);
    // "3 garbage" passes as a size with an extension-like tail; the next size line fails.
    EXPECT_FALSE(r) << bad;
  }
  ChunkedDecoder huge;
  auto r = huge.feed("10000000000000000\r\n", nullptr);  // 17 hex digits: over 2^64
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::limit_exceeded);
  ChunkedDecoder long_line;
  auto l = long_line.feed("1;" + std::string(5000, 'x'), nullptr);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code(), Errc::limit_exceeded);
}

}  // namespace
}  // namespace bulwark::http
