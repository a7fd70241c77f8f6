// RequestParser: request heads, pipelining, limits and every refusal's status.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bulwark/http/request.hpp"

namespace bulwark::http {
namespace {

using State = RequestParser::State;

// What a connection would see: feeds chunks as they arrive, keeping unconsumed bytes (the
// next pipelined request) in front of the next chunk, as the I/O layer does.
struct Outcome {
  std::vector<Request> requests;
  int error_status = 0;
};

Outcome drive(RequestParser& parser, const std::vector<std::string>& chunks) {
  Outcome out;
  std::string queued;
  for (const auto& chunk : chunks) {
    queued += chunk;
    while (!queued.empty()) {
      const auto progress = parser.feed(queued);
      EXPECT_LE(progress.consumed, queued.size());
      queued.erase(0, progress.consumed);
      if (progress.state == State::complete) {
        out.requests.push_back(parser.request());
        continue;
      }
      if (progress.state == State::failed) {
        out.error_status = parser.error_status();
        return out;
      }
      // need_more: everything given was taken (kept inside the parser).
      EXPECT_TRUE(queued.empty());
      break;
    }
  }
  return out;
}

Outcome parse_one(const std::string& text, RequestLimits limits = {}) {
  RequestParser parser(limits);
  return drive(parser, {text});
}

int status_of(const std::string& text, RequestLimits limits = {}) {
  return parse_one(text, limits).error_status;
}

TEST(HttpRequestParser, SimpleGet) {
  RequestParser parser;
  const std::string text =
      "GET /a/b.txt?x=1 HTTP/1.1\r\nHost: example.org\r\nUser-Agent: t/1\r\n"
      "Referer: http://r/\r\nRange: bytes=0-9\r\nIf-None-Match: \"x\"\r\n"
      "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nIf-Range: \"x\"\r\n\r\n";
  const auto p = parser.feed(text);
  ASSERT_EQ(p.state, State::complete);
  EXPECT_EQ(p.consumed, text.size());
  const Request& r = parser.request();
  EXPECT_EQ(r.method, "GET");
  EXPECT_FALSE(r.is_head());
  EXPECT_EQ(r.target, "/a/b.txt?x=1");
  EXPECT_EQ(r.version, 11);
  EXPECT_EQ(r.host, "example.org");
  EXPECT_EQ(r.user_agent, "t/1");
  EXPECT_EQ(r.referer, "http://r/");
  EXPECT_EQ(r.range, "bytes=0-9");
  EXPECT_EQ(r.if_none_match, "\"x\"");
  EXPECT_EQ(r.if_modified_since, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(r.if_range, "\"x\"");
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(parser.error_status(), 0);
}

TEST(HttpRequestParser, Head) {
  const auto out = parse_one("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_TRUE(out.requests[0].is_head());
}

const std::string kThree =
    "GET /one HTTP/1.1\r\nHost: h\r\n\r\n"
    "HEAD /two HTTP/1.1\r\nHost: h\r\nRange: bytes=1-2\r\n\r\n"
    "GET /three HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";

void expect_three(const Outcome& out) {
  ASSERT_EQ(out.error_status, 0);
  ASSERT_EQ(out.requests.size(), 3u);
  EXPECT_EQ(out.requests[0].target, "/one");
  EXPECT_EQ(out.requests[0].range, "");
  EXPECT_TRUE(out.requests[0].keep_alive);
  EXPECT_EQ(out.requests[1].target, "/two");
  EXPECT_TRUE(out.requests[1].is_head());
  EXPECT_EQ(out.requests[1].range, "bytes=1-2");
  EXPECT_EQ(out.requests[2].target, "/three");
  EXPECT_FALSE(out.requests[2].keep_alive);
}

TEST(HttpRequestParser, PipelinedInOneBuffer) {
  RequestParser parser;
  std::string_view rest = kThree;
  const auto first = parser.feed(rest);
  ASSERT_EQ(first.state, State::complete);
  // The bytes of the next requests are not consumed.
  EXPECT_EQ(first.consumed, std::string_view("GET /one HTTP/1.1\r\nHost: h\r\n\r\n").size());
  rest.remove_prefix(first.consumed);
  RequestParser again;
  expect_three(drive(again, {kThree}));
}

TEST(HttpRequestParser, PipelinedSplitAtEveryByte) {
  for (std::size_t split = 0; split <= kThree.size(); ++split) {
    SCOPED_TRACE(split);
    RequestParser parser;
    expect_three(drive(parser, {kThree.substr(0, split), kThree.substr(split)}));
  }
}

TEST(HttpRequestParser, OneByteAtATime) {
  std::vector<std::string> chunks;
  for (const char c : kThree)
    chunks.emplace_back(1, c);
  RequestParser parser;
  expect_three(drive(parser, chunks));
}

TEST(HttpRequestParser, PartialHeadIsKeptByTheParser) {
  RequestParser parser;
  EXPECT_FALSE(parser.started());
  const auto a = parser.feed(std::string_view("GET /x HTTP/1.1\r\nHo"));
  EXPECT_EQ(a.state, State::need_more);
  EXPECT_EQ(a.consumed, 19u);
  EXPECT_TRUE(parser.started());
  // The caller discarded those bytes; only the rest follows.
  const auto b = parser.feed(std::string_view("st: h\r\n\r\nGET"));
  ASSERT_EQ(b.state, State::complete);
  EXPECT_EQ(b.consumed, 9u);
  EXPECT_EQ(parser.request().host, "h");
  parser.reset();
  EXPECT_FALSE(parser.started());
}

// A kept-alive connection holds its parser between requests: the parser holds no head buffer
// then, neither before the first head nor after one that arrived in pieces.
TEST(HttpRequestParser, NoHeadBufferIsHeldBetweenRequests) {
  RequestParser parser;
  EXPECT_LE(parser.buffer_capacity(), 256u);
  const std::string field = "User-Agent: " + std::string(3000, 'a') + "\r\n";
  const auto a = parser.feed("GET /x HTTP/1.1\r\nHost: h\r\n" + field.substr(0, 2000));
  EXPECT_EQ(a.state, State::need_more);
  EXPECT_GE(parser.buffer_capacity(), 1000u);  // the partial head is buffered
  const auto b = parser.feed(field.substr(2000) + "\r\n");
  ASSERT_EQ(b.state, State::complete);
  EXPECT_EQ(parser.request().user_agent.size(), 3000u);
  EXPECT_LE(parser.buffer_capacity(), 256u);
  // The next request starts with no buffer either.
  const auto c = parser.feed(std::string_view("GET /y HTTP/1.1\r\nHost: h\r\n\r\n"));
  ASSERT_EQ(c.state, State::complete);
  EXPECT_EQ(parser.request().target, "/y");
  EXPECT_LE(parser.buffer_capacity(), 256u);
}

TEST(HttpRequestParser, LeadingEmptyLinesAreIgnored) {
  // RFC 9112 §2.2
  const auto out = parse_one("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].target, "/");
}

TEST(HttpRequestParser, KeepAliveRules) {
  auto keep = [](const std::string& text) {
    const auto out = parse_one(text);
    EXPECT_EQ(out.requests.size(), 1u);
    return !out.requests.empty() && out.requests[0].keep_alive;
  };
  EXPECT_TRUE(keep("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, Close\r\n\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(keep("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_TRUE(keep("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"));
}

TEST(HttpRequestParser, Http10NeedsNoHost) {
  const auto out = parse_one("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].version, 10);
}

TEST(HttpRequestParser, HostRules) {
  // RFC 9112 §3.2
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n"), 0);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0);
}

TEST(HttpRequestParser, Methods) {
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\n\r\n"), 405);
  EXPECT_EQ(status_of("PUT / HTTP/1.1\r\nHost: h\r\n\r\n"), 405);
  EXPECT_EQ(status_of("DELETE / HTTP/1.1\r\nHost: h\r\n\r\n"), 405);
  EXPECT_EQ(status_of("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), 405);
  EXPECT_EQ(status_of("BREW / HTTP/1.1\r\nHost: h\r\n\r\n"), 501);
  EXPECT_EQ(status_of("get / HTTP/1.1\r\nHost: h\r\n\r\n"), 501);  // methods are case-sensitive
}

TEST(HttpRequestParser, RefusedRequestKeepsWhatWasParsedForTheLog) {
  RequestParser parser;
  const auto p = parser.feed(std::string_view("POST /form HTTP/1.1\r\nHost: h\r\n\r\n"));
  ASSERT_EQ(p.state, State::failed);
  EXPECT_EQ(parser.error_status(), 405);
  EXPECT_EQ(parser.request().method, "POST");
  EXPECT_EQ(parser.request().target, "/form");
  EXPECT_EQ(parser.request().version, 11);
  EXPECT_FALSE(parser.request().keep_alive);
  EXPECT_FALSE(parser.error_detail().empty());
  // Sticky: nothing more is taken.
  const auto again = parser.feed(std::string_view("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  EXPECT_EQ(again.state, State::failed);
  EXPECT_EQ(again.consumed, 0u);
}

TEST(HttpRequestParser, Versions) {
  // RFC 9110 §15.6.6: a well-formed version we do not implement gets 505.
  EXPECT_EQ(status_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(status_of("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(status_of("GET / HTTP/3.0\r\n\r\n"), 505);
  EXPECT_EQ(status_of("GET /\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1x\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / FTP/1.1\r\nHost: h\r\n\r\n"), 400);
}

TEST(HttpRequestParser, Malformed) {
  EXPECT_EQ(status_of("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost h\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\n: h\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), 400);
  EXPECT_EQ(status_of("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"), 400);
  using namespace std::string_literals;
  EXPECT_EQ(status_of("GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n"s), 400);
}

TEST(HttpRequestParser, BodiesAreRefused) {
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"), 413);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"), 0);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            413);
  // RFC 9112 §6.3: a final coding other than chunked gets 400.
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"), 400);
  // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing.
  EXPECT_EQ(status_of("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  // Both framings at once: the request-smuggling shape, refused.
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"),
            400);
  EXPECT_EQ(
      status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
      400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"), 400);
}

TEST(HttpRequestParser, HeaderCountLimit) {
  RequestLimits limits;
  limits.max_header_count = 10;
  auto with_fields = [](int n) {
    std::string text = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (int i = 1; i < n; ++i)
      text += "X-F" + std::to_string(i) + ": v\r\n";
    return text + "\r\n";
  };
  EXPECT_EQ(status_of(with_fields(10), limits), 0);
  EXPECT_EQ(status_of(with_fields(11), limits), 431);
  EXPECT_EQ(status_of(with_fields(100)), 0);
  EXPECT_EQ(status_of(with_fields(101)), 431);
}

TEST(HttpRequestParser, HeadSizeLimit) {
  auto with_field_of = [](std::size_t n) {
    return "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(n, 'a') + "\r\n\r\n";
  };
  const std::size_t overhead = with_field_of(0).size();
  EXPECT_EQ(status_of(with_field_of(8192 - overhead)), 0);
  EXPECT_EQ(status_of(with_field_of(8192 - overhead + 1)), 431);
  // The same head arriving in small pieces hits the same limit.
  for (const std::size_t extra : {0u, 1u}) {
    const std::string text = with_field_of(8192 - overhead + extra);
    std::vector<std::string> chunks;
    for (std::size_t i = 0; i < text.size(); i += 7)
      chunks.push_back(text.substr(i, 7));
    RequestParser parser;
    const auto out = drive(parser, chunks);
    EXPECT_EQ(out.error_status, extra == 0 ? 0 : 431);
    EXPECT_EQ(out.requests.size(), extra == 0 ? 1u : 0u);
  }
  // A head that never ends is cut off at the limit, not buffered without end.
  RequestParser parser;
  std::vector<std::string> endless(2000, "X-Slow: loris\r\n");
  endless.insert(endless.begin(), "GET / HTTP/1.1\r\n");
  EXPECT_EQ(drive(parser, endless).error_status, 431);
}

TEST(HttpRequestParser, TargetLengthLimit) {
  RequestLimits limits;
  limits.max_target_bytes = 100;
  auto get = [](std::size_t n) {
    return "GET /" + std::string(n - 1, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
  };
  EXPECT_EQ(status_of(get(100), limits), 0);
  EXPECT_EQ(status_of(get(101), limits), 414);
  // A request line longer than the whole head budget, never finished: 414 as well.
  RequestParser parser;
  std::vector<std::string> chunks{"GET /"};
  for (int i = 0; i < 100; ++i)
    chunks.push_back(std::string(100, 'b'));
  EXPECT_EQ(drive(parser, chunks).error_status, 414);
  EXPECT_EQ(status_of("GET /" + std::string(9000, 'c')), 414);
  EXPECT_EQ(status_of(std::string(9000, 'c')), 400);
}

TEST(HttpRequestParser, RepeatedFieldsAreCombined) {
  // RFC 9110 §5.3
  const auto out = parse_one(
      "GET / HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\nRange: bytes=2-3\r\n"
      "If-None-Match: \"a\"\r\nIf-None-Match: \"b\"\r\n\r\n");
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].range, "bytes=0-1, bytes=2-3");
  EXPECT_EQ(out.requests[0].if_none_match, "\"a\", \"b\"");
}

TEST(HttpRequestParser, AbsoluteFormTargetIsKept) {
  const auto out = parse_one("GET http://example.org/x HTTP/1.1\r\nHost: example.org\r\n\r\n");
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].target, "http://example.org/x");
}

}  // namespace
}  // namespace bulwark::http
