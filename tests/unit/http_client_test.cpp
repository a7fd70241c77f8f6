// The HTTP client's sans-I/O parts: URLs (IPv6, ports, credentials refused, encoding), Location
// resolution (RFC 3986 §5.4's examples), -H options, request heads, and the response parser fed
// in odd splits (Content-Length, chunked with extensions and trailers, close-delimited, HEAD,
// 1xx, 204/304, limits, malformed input, truncation); then http::Client over loopback TLS
// against an in-process server: truncation versus a clean end, redirects (credentials, the
// https->http downgrade, limits), certificate failures and time limits.
#include <gtest/gtest.h>

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bulwark/http/client.hpp"
#include "bulwark/http/client_message.hpp"
#include "bulwark/net/tls_stream.hpp"
#include "support/tls_pair.hpp"

namespace bulwark::http {
namespace {

// ---- URLs ----------------------------------------------------------------------------------

TEST(HttpClientUrl, ParsesHttpsWithDefaults) {
  auto u = parse_url("HTTPS://WWW.Example.ORG");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "www.example.org");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/");
  EXPECT_TRUE(u->tls());
  EXPECT_EQ(u->authority(), "www.example.org");
  EXPECT_EQ(u->text(), "https://www.example.org/");
}

TEST(HttpClientUrl, PortPathQueryAndFragment) {
  auto u = parse_url("https://example.org:8443/a/b.txt?x=1&y=%20#frag");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/a/b.txt?x=1&y=%20");  // the fragment is never sent
  EXPECT_EQ(u->authority(), "example.org:8443");
  auto empty_port = parse_url("https://example.org:/x");
  ASSERT_TRUE(empty_port);
  EXPECT_EQ(empty_port->port, 443);
  auto query_only = parse_url("https://example.org?q");
  ASSERT_TRUE(query_only);
  EXPECT_EQ(query_only->target, "/?q");
}

TEST(HttpClientUrl, Ipv6Literals) {
  auto u = parse_url("https://[::1]:8443/index.html");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->host, "::1");
  EXPECT_TRUE(u->ipv6_literal());
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->authority(), "[::1]:8443");
  EXPECT_EQ(u->text(), "https://[::1]:8443/index.html");
  auto v = parse_url("https://[2001:DB8:0:0::1]/");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->host, "2001:db8::1");  // canonical form
  EXPECT_EQ(v->authority(), "[2001:db8::1]");
  EXPECT_FALSE(parse_url("https://[::1/"));
  EXPECT_FALSE(parse_url("https://[fe80::1%25eth0]/"));
  EXPECT_FALSE(parse_url("https://[not-v6]/"));
  EXPECT_FALSE(parse_url("https://[::1]x/"));
}

TEST(HttpClientUrl, PlainHttp) {
  auto u = parse_url("http://localhost/x");
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->tls());
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->authority(), "localhost");
  auto p = parse_url("http://localhost:443/");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->authority(), "localhost:443");
}

TEST(HttpClientUrl, CredentialsAreRefused) {
  for (const char* text : {"https://user:secret@example.org/", "https://user@example.org/",
                           "https://www.bank.example@evil.example/"}) {
    auto u = parse_url(text);
    ASSERT_FALSE(u) << text;
    EXPECT_NE(u.error().detail().find("credentials in a URL are not supported"), std::string::npos);
  }
}

TEST(HttpClientUrl, RefusesBadPortsSchemesAndHosts) {
  for (const char* text :
       {"https://example.org:0/", "https://example.org:65536/", "https://example.org:x/",
        "https://example.org:123456/", "https://:443/", "https:///path", "https:example.org",
        "example.org/path", "https://exa mple.org/", "https://bücher.example/",
        "https://a\r\nInjected: 1/"}) {
    EXPECT_FALSE(parse_url(text)) << text;
  }
  auto ftp = parse_url("ftp://example.org/");
  ASSERT_FALSE(ftp);
  EXPECT_EQ(ftp.error().code(), Errc::unsupported);
  EXPECT_NE(ftp.error().detail().find("'ftp'"), std::string::npos);
}

TEST(HttpClientUrl, ControlCharactersCannotInjectHeaderLines) {
  auto u = parse_url("https://example.org/a\r\nX-Injected: 1");
  ASSERT_FALSE(u);
  EXPECT_NE(u.error().detail().find("control character"), std::string::npos);
  EXPECT_FALSE(parse_url("https://example.org/?q=\n"));
  EXPECT_FALSE(parse_url(std::string_view("https://example.org/\0", 21)));
}

TEST(HttpClientUrl, EncodesSpacesAndNonAsciiInTheTarget) {
  auto u = parse_url("https://example.org/a b/\xc3\xa9?q=<x>");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->target, "/a%20b/%C3%A9?q=%3Cx%3E");
}

TEST(HttpClientUrl, RemovesDotSegments) {
  auto u = parse_url("https://example.org/a/./b/../../c/..%2f/d?x=../y");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->target, "/c/..%2f/d?x=../y");
  auto above_root = parse_url("https://example.org/../../etc/passwd");
  ASSERT_TRUE(above_root);
  EXPECT_EQ(above_root->target, "/etc/passwd");
}

TEST(HttpClientUrl, SameOrigin) {
  const Url a = parse_url("https://example.org/a").value();
  EXPECT_TRUE(a.same_origin(parse_url("https://EXAMPLE.org:443/b").value()));
  EXPECT_FALSE(a.same_origin(parse_url("http://example.org/a").value()));
  EXPECT_FALSE(a.same_origin(parse_url("https://example.org:8443/a").value()));
  EXPECT_FALSE(a.same_origin(parse_url("https://www.example.org/a").value()));
}

// RFC 3986 §5.4.1 and §5.4.2, base "http://a/b/c/d;p?q" (the "g:h" example names another
// scheme, which the client refuses).
TEST(HttpClientUrl, ResolvesReferencesAsRfc3986Section5_4) {
  const Url base = parse_url("http://a/b/c/d;p?q").value();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"g", "http://a/b/c/g"},
      {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},
      {"//g", "http://g/"},
      {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q"},
      {"g#s", "http://a/b/c/g"},
      {"g?y#s", "http://a/b/c/g?y"},
      {";x", "http://a/b/c/;x"},
      {"g;x", "http://a/b/c/g;x"},
      {"g;x?y#s", "http://a/b/c/g;x?y"},
      {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"},
      {"./", "http://a/b/c/"},
      {"..", "http://a/b/"},
      {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},
      {"../..", "http://a/"},
      {"../../", "http://a/"},
      {"../../g", "http://a/g"},
      // §5.4.2 abnormal examples
      {"../../../g", "http://a/g"},
      {"../../../../g", "http://a/g"},
      {"/./g", "http://a/g"},
      {"/../g", "http://a/g"},
      {"g.", "http://a/b/c/g."},
      {".g", "http://a/b/c/.g"},
      {"g..", "http://a/b/c/g.."},
      {"..g", "http://a/b/c/..g"},
      {"./../g", "http://a/b/g"},
      {"./g/.", "http://a/b/c/g/"},
      {"g/./h", "http://a/b/c/g/h"},
      {"g/../h", "http://a/b/c/h"},
      {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
      {"g;x=1/../y", "http://a/b/c/y"},
      {"g?y/./x", "http://a/b/c/g?y/./x"},
      {"g?y/../x", "http://a/b/c/g?y/../x"},
      {"g#s/./x", "http://a/b/c/g"},
      {"g#s/../x", "http://a/b/c/g"},
  };
  for (const auto& [reference, expected] : cases) {
    auto r = resolve_reference(base, reference);
    ASSERT_TRUE(r) << "'" << reference << "': " << r.error().message();
    EXPECT_EQ(r->text(), expected) << "reference '" << reference << "'";
  }
  // RFC 3986 §5.4.2: a strict parser reads "http:g" as an absolute URL, which has no host.
  EXPECT_FALSE(resolve_reference(base, "http:g"));
  auto other_scheme = resolve_reference(base, "g:h");
  ASSERT_FALSE(other_scheme);
  EXPECT_EQ(other_scheme.error().code(), Errc::unsupported);
}

TEST(HttpClientUrl, ResolvesAbsoluteAndSchemeRelativeLocations) {
  const Url base = parse_url("https://example.org:8443/dir/page").value();
  EXPECT_EQ(resolve_reference(base, "https://other.example/x").value().text(),
            "https://other.example/x");
  EXPECT_EQ(resolve_reference(base, "//cdn.example/y").value().text(), "https://cdn.example/y");
  EXPECT_EQ(resolve_reference(base, "  /moved  ").value().text(), "https://example.org:8443/moved");
  EXPECT_EQ(resolve_reference(base, "http://example.org/").value().text(), "http://example.org/");
  EXPECT_FALSE(resolve_reference(base, "/a\r\nSet-Cookie: x"));
  EXPECT_FALSE(resolve_reference(base, "https://user@evil.example/"));
}

// ---- -H and the request head ---------------------------------------------------------------

TEST(HttpClientRequest, ParsesHeaderOptionsAsCurlDoes) {
  auto set = parse_header_option("X-Test:   some value\t");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->name, "X-Test");
  EXPECT_EQ(set->value, "some value");
  auto remove = parse_header_option("Accept:");
  ASSERT_TRUE(remove);
  EXPECT_FALSE(remove->value.has_value());
  auto empty = parse_header_option("X-Empty;");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->value, "");
  for (const char* bad :
       {"no colon", ": value", "Bad Name: x", "X: a\r\nInjected: 1", "X: a\nb", "X: nul\x01",
        "X;junk", "Content-Length: 5", "transfer-encoding: chunked"}) {
    EXPECT_FALSE(parse_header_option(bad)) << bad;
  }
}

TEST(HttpClientRequest, DefaultHead) {
  const Url url = parse_url("https://example.org:8443/a?b").value();
  RequestSpec spec;
  spec.user_agent = "bulwark/test";
  EXPECT_EQ(serialize_request(url, spec),
            "GET /a?b HTTP/1.1\r\n"
            "Host: example.org:8443\r\n"
            "User-Agent: bulwark/test\r\n"
            "Accept: */*\r\n"
            "Connection: close\r\n"
            "\r\n");
  RequestSpec versioned;
  EXPECT_NE(serialize_request(url, versioned)
                .find(std::string("User-Agent: bulwark/") + BULWARK_VERSION + "\r\n"),
            std::string::npos);
}

TEST(HttpClientRequest, OptionsReplaceRemoveAndAdd) {
  const Url url = parse_url("https://[::1]/").value();
  RequestSpec spec;
  spec.head = true;
  spec.user_agent = "ignored/1";
  for (const char* h : {"user-agent: mine/2", "Accept:", "X-One: 1", "X-Empty;", "Host: other"}) {
    spec.headers.push_back(parse_header_option(h).value());
  }
  EXPECT_EQ(serialize_request(url, spec),
            "HEAD / HTTP/1.1\r\n"
            "Connection: close\r\n"
            "user-agent: mine/2\r\n"
            "X-One: 1\r\n"
            "X-Empty: \r\n"
            "Host: other\r\n"
            "\r\n");
  RequestSpec v6;
  EXPECT_NE(serialize_request(url, v6).find("Host: [::1]\r\n"), std::string::npos);
}

// ---- responses -----------------------------------------------------------------------------

struct Parsed {
  bool ok = false;
  std::string error;
  Errc code = Errc::invalid_argument;
  std::string body;
  std::size_t unconsumed = 0;  // bytes left over after the response completed
};

// Feeds `pieces` in order, resuming after each stop (head complete) as a client does.
Parsed feed_pieces(ResponseParser& parser, const std::vector<std::string>& pieces,
                   bool finish = false) {
  Parsed out;
  parser.set_body_sink([&](wire::Bytes b) {
    out.body.append(b.begin(), b.end());
    return Status{};
  });
  for (const std::string& piece : pieces) {
    std::string_view rest = piece;
    while (!rest.empty()) {
      const auto before = parser.state();
      if (before == ResponseParser::State::complete) {
        out.unconsumed += rest.size();
        break;
      }
      auto n = parser.feed(rest);
      if (!n) {
        out.error = n.error().message();
        out.code = n.error().code();
        return out;
      }
      // Progress, or a stop at the head / the end: never an idle loop.
      if (*n == 0 && parser.state() == before) {
        out.error = "no progress";
        return out;
      }
      rest.remove_prefix(*n);
    }
  }
  if (finish) {
    auto st = parser.finish();
    if (!st) {
      out.error = st.error().message();
      out.code = st.error().code();
      return out;
    }
  }
  out.ok = parser.state() == ResponseParser::State::complete;
  if (!out.ok) out.error = "incomplete";
  return out;
}

// Every way to cut `wire` in two, and byte by byte.
std::vector<std::vector<std::string>> splits(const std::string& wire) {
  std::vector<std::vector<std::string>> all;
  for (std::size_t i = 0; i <= wire.size(); ++i)
    all.push_back({wire.substr(0, i), wire.substr(i)});
  std::vector<std::string> bytes;
  for (const char c : wire)
    bytes.emplace_back(1, c);
  all.push_back(bytes);
  return all;
}

TEST(HttpClientResponse, ContentLengthInEverySplit) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world";
  for (const auto& pieces : splits(wire)) {
    ResponseParser p;
    const Parsed r = feed_pieces(p, pieces);
    ASSERT_TRUE(r.ok) << r.error << " (first piece " << pieces[0].size() << " bytes)";
    EXPECT_EQ(r.body, "hello world");
    EXPECT_EQ(p.head().status, 200);
    EXPECT_EQ(p.head().reason, "OK");
    EXPECT_EQ(p.head().version, 11);
    EXPECT_EQ(p.head().find("content-type"), "text/plain");
    EXPECT_EQ(p.framing(), BodyFraming::content_length);
    EXPECT_EQ(p.content_length(), 11u);
    EXPECT_EQ(p.body_received(), 11u);
  }
}

TEST(HttpClientResponse, ChunkedWithExtensionsAndTrailersInEverySplit) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1;name=\"quoted; value\"\r\nhello\r\n"
      "6\r\n world\r\n"
      "A\r\n, chunked!\r\n"
      "0;last=yes\r\nX-Checksum: abc\r\nX-Other: 2\r\n\r\n";
  for (const auto& pieces : splits(wire)) {
    ResponseParser p;
    const Parsed r = feed_pieces(p, pieces);
    ASSERT_TRUE(r.ok) << r.error << " (first piece " << pieces[0].size() << " bytes)";
    EXPECT_EQ(r.body, "hello world, chunked!");
    EXPECT_EQ(p.framing(), BodyFraming::chunked);
    ASSERT_EQ(p.trailers().size(), 2u);
    EXPECT_EQ(p.trailers()[0].name, "X-Checksum");
    EXPECT_EQ(p.trailers()[0].value, "abc");
    EXPECT_EQ(p.head().fields.size(), 1u);  // trailers stay out of the head
  }
}

TEST(HttpClientResponse, ManyChunksInOneBufferStreamWithoutLoss) {
  std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string expected;
  for (int i = 0; i < 500; ++i) {
    const std::string chunk(static_cast<std::size_t>(i % 97 + 1), static_cast<char>('a' + i % 26));
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
    wire += size + chunk + "\r\n";
    expected += chunk;
  }
  wire += "0\r\n\r\n";
  // Pieces of a prime size, so chunk-size lines straddle pieces everywhere.
  std::vector<std::string> pieces;
  for (std::size_t at = 0; at < wire.size(); at += 1021)
    pieces.push_back(wire.substr(at, 1021));
  ResponseParser p;
  const Parsed r = feed_pieces(p, pieces);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.body, expected);
}

TEST(HttpClientResponse, CloseDelimitedBodyEndsAtFinish) {
  const std::string wire = "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<p>until close</p>";
  for (const auto& pieces : splits(wire)) {
    ResponseParser p;
    const Parsed before = feed_pieces(p, pieces);
    EXPECT_FALSE(before.ok);  // no end in sight until the transport ends
    EXPECT_EQ(p.framing(), BodyFraming::until_close);
    EXPECT_EQ(p.head().version, 10);
    ASSERT_TRUE(p.finish());
    EXPECT_EQ(p.state(), ResponseParser::State::complete);
    EXPECT_EQ(before.body, "<p>until close</p>");
  }
}

TEST(HttpClientResponse, StopsAfterTheHeadSoTheCallerCanChooseTheSink) {
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody";
  ResponseParser p;
  auto n = p.feed(wire);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, wire.size() - 4);
  EXPECT_EQ(p.state(), ResponseParser::State::body);
  std::string got;
  p.set_body_sink([&](wire::Bytes b) {
    got.append(b.begin(), b.end());
    return Status{};
  });
  auto rest = p.feed(std::string_view(wire).substr(*n));
  ASSERT_TRUE(rest);
  EXPECT_EQ(*rest, 4u);
  EXPECT_EQ(got, "body");
  EXPECT_EQ(p.state(), ResponseParser::State::complete);
}

TEST(HttpClientResponse, BytesAfterTheResponseAreNotConsumed) {
  ResponseParser p;
  const Parsed r = feed_pieces(p, {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(r.unconsumed, 5u);
}

TEST(HttpClientResponse, HeadResponseHasNoBody) {
  // RFC 9110 §9.3.2: Content-Length describes the body a GET would have had.
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
  for (const auto& pieces : splits(wire)) {
    ResponseParser p(/*head_request=*/true);
    const Parsed r = feed_pieces(p, pieces);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(p.framing(), BodyFraming::none);
    EXPECT_EQ(p.head().find("Content-Length"), "1000");
  }
}

TEST(HttpClientResponse, NoBodyFor204And304) {
  for (const char* wire : {"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
                           "HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n"}) {
    ResponseParser p;
    const Parsed r = feed_pieces(p, {wire, "garbage"});
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(r.unconsumed, 7u);
    EXPECT_EQ(p.framing(), BodyFraming::none);
  }
}

TEST(HttpClientResponse, InterimResponsesAreSkipped) {
  const std::string wire =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  for (const auto& pieces : splits(wire)) {
    ResponseParser p;
    std::vector<int> seen;
    p.set_interim_observer([&](const ResponseHead& h) { seen.push_back(h.status); });
    const Parsed r = feed_pieces(p, pieces);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.body, "ok");
    EXPECT_EQ(p.head().status, 200);
    EXPECT_EQ(p.head().fields.size(), 1u);  // the 103's Link field is not the final head's
    EXPECT_EQ(p.interim_responses(), 2u);
    EXPECT_EQ(seen, (std::vector<int>{100, 103}));
  }
}

TEST(HttpClientResponse, TooManyInterimResponses) {
  std::string wire;
  for (int i = 0; i < 5; ++i)
    wire += "HTTP/1.1 100 Continue\r\n\r\n";
  ResponseParser p(false, ResponseLimits{.max_interim = 4});
  const Parsed r = feed_pieces(p, {wire});
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.code, Errc::limit_exceeded);
}

TEST(HttpClientResponse, OversizedHeadIsRefusedWholeOrInPieces) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nX-Big: " + std::string(2000, 'x') + "\r\nContent-Length: 0\r\n\r\n";
  for (const std::size_t piece : {wire.size(), std::size_t{7}, std::size_t{1}}) {
    std::vector<std::string> pieces;
    for (std::size_t at = 0; at < wire.size(); at += piece)
      pieces.push_back(wire.substr(at, piece));
    ResponseParser p(false, ResponseLimits{.max_head_bytes = 1024});
    const Parsed r = feed_pieces(p, pieces);
    ASSERT_FALSE(r.ok) << "pieces of " << piece;
    EXPECT_EQ(r.code, Errc::limit_exceeded) << r.error;
  }
  ResponseParser fits(false, ResponseLimits{.max_head_bytes = 4096});
  EXPECT_TRUE(feed_pieces(fits, {wire}).ok);
}

TEST(HttpClientResponse, OversizedChunkLineAndTrailersAreRefused) {
  const std::string long_ext =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;x=" + std::string(3000, 'e') +
      "\r\na\r\n0\r\n\r\n";
  ResponseParser p(false, ResponseLimits{.max_head_bytes = 1024});
  const Parsed r = feed_pieces(p, {long_ext.substr(0, 60), long_ext.substr(60)});
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.code, Errc::limit_exceeded) << r.error;

  std::string trailers = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  for (int i = 0; i < 200; ++i)
    trailers += "X-T" + std::to_string(i) + ": " + std::string(20, 'v') + "\r\n";
  trailers += "\r\n";
  std::vector<std::string> pieces;
  for (std::size_t at = 0; at < trailers.size(); at += 100)
    pieces.push_back(trailers.substr(at, 100));
  ResponseParser q(false, ResponseLimits{.max_head_bytes = 1024});
  const Parsed t = feed_pieces(q, pieces);
  ASSERT_FALSE(t.ok);
  EXPECT_EQ(t.code, Errc::limit_exceeded) << t.error;
}

TEST(HttpClientResponse, TooManyFields) {
  std::string wire = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 11; ++i)
    wire += "X-" + std::to_string(i) + ": v\r\n";
  wire += "\r\n";
  ResponseParser p(false, ResponseLimits{.max_fields = 10});
  const Parsed r = feed_pieces(p, {wire});
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.code, Errc::limit_exceeded);
}

TEST(HttpClientResponse, MalformedResponsesAreErrors) {
  const std::vector<std::string> bad = {
      "hello\r\n\r\n",
      "HTTP/1.1 abc OK\r\n\r\n",
      "HTTP/2 200 OK\r\n\r\n",
      "HTTP/2.0 200 OK\r\n\r\n",
      "HTTP/0.9 200 OK\r\n\r\n",
      "HTTP/1.1 600 Nope\r\n\r\n",
      "HTTP/1.1 099 Low\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nBad Field: x\r\n\r\n",
      "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  };
  for (const std::string& wire : bad) {
    ResponseParser p;
    const Parsed r = feed_pieces(p, {wire});
    EXPECT_FALSE(r.ok) << wire;
    EXPECT_EQ(r.code, Errc::decode_failed) << wire << ": " << r.error;
    // Sticky: more bytes change nothing.
    auto again = p.feed("HTTP/1.1 200 OK\r\n\r\n");
    EXPECT_FALSE(again) << wire;
    EXPECT_EQ(p.state(), ResponseParser::State::failed);
  }
}

TEST(HttpClientResponse, UnsupportedCodingsAndProtocolSwitch) {
  for (const char* wire : {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                           "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"}) {
    ResponseParser p;
    const Parsed r = feed_pieces(p, {wire});
    ASSERT_FALSE(r.ok) << wire;
    EXPECT_EQ(r.code, Errc::unsupported) << wire << ": " << r.error;
  }
}

TEST(HttpClientResponse, TruncationSaysHowFarItGot) {
  struct Case {
    std::string wire;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {"", "before any response"},
      {"HTTP/1.1 200 OK\r\nContent-Le", "inside the response head"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n1234", "after 4 body bytes of 10"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n1234\r\n",
       "after 4 body bytes, before the last chunk"},
  };
  for (const Case& c : cases) {
    ResponseParser p;
    const Parsed r = feed_pieces(p, {c.wire}, /*finish=*/true);
    ASSERT_FALSE(r.ok) << c.wire;
    EXPECT_EQ(r.code, Errc::truncated);
    EXPECT_NE(r.error.find(c.detail), std::string::npos) << r.error;
  }
}

TEST(HttpClientResponse, SinkErrorsStopTheParser) {
  ResponseParser p;
  p.set_body_sink([](wire::Bytes) { return Status(Error(Errc::io_error, "disk full")); });
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
  auto head = p.feed(wire);
  ASSERT_TRUE(head);
  auto body = p.feed(std::string_view(wire).substr(*head));
  ASSERT_FALSE(body);
  EXPECT_EQ(body.error().code(), Errc::io_error);
  EXPECT_EQ(body.error().detail(), "disk full");
  EXPECT_FALSE(p.feed("x"));
  EXPECT_FALSE(p.finish());
}

TEST(HttpClientResponse, HeadTextAndLookup) {
  ResponseParser p;
  const Parsed r = feed_pieces(p, {"HTTP/1.1 404 Not Found\r\nServer: t\r\nX-A: 1\r\nx-a: 2\r\n"
                                   "Content-Length: 0\r\n\r\n"});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(p.head().find("X-A"), "1");
  EXPECT_FALSE(p.head().find("Missing"));
  EXPECT_EQ(p.head().text(),
            "HTTP/1.1 404 Not Found\r\nServer: t\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 0\r\n\r\n");
}

// ---- the client over loopback TLS ----------------------------------------------------------

using namespace std::chrono_literals;
namespace asio = boost::asio;
using net::tcp;

// How the in-process server ends a connection after its answer.
enum class Ending { close_notify, tcp_close };

// A TLS server on 127.0.0.1 for the names leaf.example.com and other.example.com (both mapped
// to it with resolve overrides), answering each request with what `respond` returns.
struct LoopbackServer {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  test::Pki pki =
      test::make_pki({.leaf = {.dns_names = {"leaf.example.com", "other.example.com"}}});
  std::shared_ptr<tls::ServerConfig> server_config = test::server_config(pki);
  std::vector<std::string> requests;  // request heads, in order

  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
  std::string url(const std::string& host, const std::string& path) const {
    return "https://" + host + ":" + std::to_string(port()) + path;
  }
  ClientOptions options() {
    ClientOptions o;
    o.tls = test::client_config(pki);
    for (const char* name : {"leaf.example.com", "other.example.com", "wrong.example.com"}) {
      o.resolve.push_back(net::parse_resolve_override(std::string(name) + ":" +
                                                      std::to_string(port()) + ":127.0.0.1")
                              .value());
    }
    o.connect_timeout = 5s;
    o.max_time = 10s;
    return o;
  }

  // Serves `connections` connections one after the other.
  net::Task<void> serve(int connections, std::function<std::string(const std::string&)> respond,
                        Ending ending) {
    for (int i = 0; i < connections; ++i) {
      tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
      net::TlsStream s(std::move(socket), tls::Connection::server(server_config).value());
      s.set_timeout(5s);
      if (!co_await s.handshake()) continue;  // the client gave up (certificate tests)
      std::string head;
      while (head.find("\r\n\r\n") == std::string::npos) {
        auto view = co_await s.read_view();
        if (!view || view->empty()) break;
        head.append(view->begin(), view->end());
        s.consume(view->size());
      }
      requests.push_back(head);
      const std::string answer = respond(head);
      (void)co_await s.write(wire::as_bytes(answer));
      if (ending == Ending::close_notify) (void)co_await s.shutdown();
    }  // the socket closes here: a TCP end, after close_notify or without it
  }

  struct Outcome {
    std::optional<Result<Transfer>> result;
    std::string body;
    Stage stage = Stage::resolve;
    bool tls_failed = false;
    std::optional<Errc> tls_error;
  };
  Outcome fetch(ClientOptions options, const std::string& url_text, int connections,
                std::function<std::string(const std::string&)> respond, Ending ending) {
    Outcome out;
    options.body = [&out, given = std::move(options.body)](wire::Bytes b) -> Status {
      if (given) BW_TRY(given(b));
      out.body.append(b.begin(), b.end());
      return {};
    };
    Client client(std::move(options));
    const Url url = parse_url(url_text).value();
    // Named: the coroutines refer to the lambdas' captures until they finish.
    auto server = [&]() -> net::Task<void> { co_await serve(connections, respond, ending); };
    auto fetcher = [&]() -> net::Task<void> { out.result.emplace(co_await client.fetch(url)); };
    auto rethrow = [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    };
    asio::co_spawn(io, server(), rethrow);
    asio::co_spawn(io, fetcher(), rethrow);
    // The server loop may still wait for a connection that never comes: stop once fetched.
    for (int i = 0; i < 400 && !out.result; ++i)
      io.run_for(50ms);
    io.run_for(50ms);
    out.stage = client.stage();
    if (const tls::Connection* c = client.connection(); c != nullptr && c->failed()) {
      out.tls_failed = true;
      out.tls_error = c->failure()->error.code();
    }
    return out;
  }
};

std::function<std::string(const std::string&)> always(std::string answer) {
  return [answer = std::move(answer)](const std::string&) { return answer; };
}

TEST(HttpClientFetch, CompleteResponseIsSuccessWhateverTheEnding) {
  for (const Ending ending : {Ending::close_notify, Ending::tcp_close}) {
    LoopbackServer lo;
    auto out = lo.fetch(lo.options(), lo.url("leaf.example.com", "/a?b"), 1,
                        always("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), ending);
    ASSERT_TRUE(out.result) << "did not finish";
    ASSERT_TRUE(*out.result) << out.result->error().message();
    EXPECT_EQ(out.body, "hello");
    EXPECT_EQ((*out.result)->head.status, 200);
    EXPECT_EQ((*out.result)->body_bytes, 5u);
    ASSERT_EQ(lo.requests.size(), 1u);
    EXPECT_EQ(lo.requests[0].rfind("GET /a?b HTTP/1.1\r\nHost: leaf.example.com:", 0), 0u)
        << lo.requests[0];
  }
}

TEST(HttpClientFetch, CloseDelimitedBodyNeedsCloseNotify) {
  const std::string answer = "HTTP/1.0 200 OK\r\n\r\nall of it?";
  LoopbackServer clean;
  auto good = clean.fetch(clean.options(), clean.url("leaf.example.com", "/"), 1, always(answer),
                          Ending::close_notify);
  ASSERT_TRUE(good.result && *good.result) << (good.result ? good.result->error().message() : "");
  EXPECT_EQ(good.body, "all of it?");

  LoopbackServer cut;
  auto bad = cut.fetch(cut.options(), cut.url("leaf.example.com", "/"), 1, always(answer),
                       Ending::tcp_close);
  ASSERT_TRUE(bad.result);
  ASSERT_FALSE(*bad.result);
  EXPECT_EQ(bad.result->error().code(), Errc::truncated_connection);
  EXPECT_NE(bad.result->error().detail().find("possible truncation attack"), std::string::npos)
      << bad.result->error().detail();
  EXPECT_EQ(bad.stage, Stage::receive_response);
}

TEST(HttpClientFetch, ShortBodyIsTruncationWithoutCloseNotifyAndPartialWithIt) {
  const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n1234";
  LoopbackServer cut;
  auto attack = cut.fetch(cut.options(), cut.url("leaf.example.com", "/"), 1, always(answer),
                          Ending::tcp_close);
  ASSERT_TRUE(attack.result && !*attack.result);
  EXPECT_EQ(attack.result->error().code(), Errc::truncated_connection);
  EXPECT_NE(attack.result->error().detail().find("after 4 of 10 body bytes"), std::string::npos)
      << attack.result->error().detail();

  LoopbackServer clean;
  auto partial = clean.fetch(clean.options(), clean.url("leaf.example.com", "/"), 1, always(answer),
                             Ending::close_notify);
  ASSERT_TRUE(partial.result && !*partial.result);
  EXPECT_EQ(partial.result->error().code(), Errc::truncated);
  EXPECT_EQ(partial.stage, Stage::receive_response);
}

TEST(HttpClientFetch, RedirectsKeepCredentialsWithinTheOrigin) {
  LoopbackServer lo;
  ClientOptions o = lo.options();
  o.follow_redirects = true;
  o.request.headers.push_back(parse_header_option("Authorization: Bearer token").value());
  const std::string other = lo.url("other.example.com", "/there");
  auto respond = [&](const std::string& request) -> std::string {
    if (request.starts_with("GET /start ")) {
      return "HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 3\r\n\r\nxyz";
    }
    if (request.starts_with("GET /next ")) {
      return "HTTP/1.1 301 Moved\r\nLocation: " + other + "\r\nContent-Length: 0\r\n\r\n";
    }
    return "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone";
  };
  auto out = lo.fetch(std::move(o), lo.url("leaf.example.com", "/start"), 3, respond,
                      Ending::close_notify);
  ASSERT_TRUE(out.result && *out.result) << (out.result ? out.result->error().message() : "");
  EXPECT_EQ(out.body, "done");  // the redirects' bodies are not delivered
  EXPECT_EQ((*out.result)->redirects, 2);
  EXPECT_EQ((*out.result)->url.text(), other);
  ASSERT_EQ(lo.requests.size(), 3u);
  EXPECT_NE(lo.requests[1].find("Authorization: Bearer token"), std::string::npos);
  EXPECT_EQ(lo.requests[2].find("Authorization"), std::string::npos) << lo.requests[2];
  EXPECT_NE(lo.requests[2].find("Host: other.example.com:"), std::string::npos);
}

TEST(HttpClientFetch, RedirectToPlainHttpIsRefused) {
  LoopbackServer lo;
  ClientOptions o = lo.options();
  o.follow_redirects = true;
  auto out = lo.fetch(std::move(o), lo.url("leaf.example.com", "/"), 1,
                      always("HTTP/1.1 302 Found\r\nLocation: http://leaf.example.com/\r\n"
                             "Content-Length: 0\r\n\r\n"),
                      Ending::close_notify);
  ASSERT_TRUE(out.result && !*out.result);
  EXPECT_EQ(out.result->error().code(), Errc::insufficient_security);
  EXPECT_EQ(out.stage, Stage::redirect);
}

TEST(HttpClientFetch, RedirectLimit) {
  LoopbackServer lo;
  ClientOptions o = lo.options();
  o.follow_redirects = true;
  o.max_redirects = 2;
  auto out = lo.fetch(std::move(o), lo.url("leaf.example.com", "/loop"), 3,
                      always("HTTP/1.1 307 Again\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n"),
                      Ending::close_notify);
  ASSERT_TRUE(out.result && !*out.result);
  EXPECT_EQ(out.result->error().code(), Errc::limit_exceeded);
  EXPECT_EQ(out.stage, Stage::redirect);
  EXPECT_EQ(lo.requests.size(), 3u);

  // Without follow_redirects, a redirect is the final response.
  LoopbackServer plain;
  auto shown =
      plain.fetch(plain.options(), plain.url("leaf.example.com", "/loop"), 1,
                  always("HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 2\r\n\r\nhi"),
                  Ending::close_notify);
  ASSERT_TRUE(shown.result && *shown.result);
  EXPECT_EQ((*shown.result)->head.status, 302);
  EXPECT_EQ(shown.body, "hi");
}

TEST(HttpClientFetch, WrongNameStopsAtTheHandshakeWithTheConnectionKept) {
  LoopbackServer lo;
  auto out =
      lo.fetch(lo.options(), lo.url("wrong.example.com", "/"), 1, always(""), Ending::close_notify);
  ASSERT_TRUE(out.result && !*out.result);
  EXPECT_EQ(out.result->error().code(), Errc::cert_hostname_mismatch);
  EXPECT_EQ(out.stage, Stage::tls_handshake);
  EXPECT_TRUE(out.tls_failed);
  EXPECT_EQ(out.tls_error, Errc::cert_hostname_mismatch);
  // The failure names what the certificate is valid for.
  EXPECT_NE(out.result->error().detail().find("DNS:leaf.example.com, DNS:other.example.com"),
            std::string::npos)
      << out.result->error().detail();
}

TEST(HttpClientFetch, ObserverOrSinkFailureIsDelivery) {
  const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  LoopbackServer head;
  ClientOptions refuse_head = head.options();
  refuse_head.on_head = [](const Url&, const ResponseHead& h, bool) -> Status {
    if (h.status == 200) return Error(Errc::io_error, "not this one");
    return {};
  };
  auto stopped = head.fetch(std::move(refuse_head), head.url("leaf.example.com", "/"), 1,
                            always(answer), Ending::close_notify);
  ASSERT_TRUE(stopped.result && !*stopped.result);
  EXPECT_EQ(stopped.stage, Stage::deliver);
  EXPECT_EQ(stopped.body, "");  // no body byte before the head was accepted

  LoopbackServer body;
  ClientOptions refuse_body = body.options();
  refuse_body.body = [](wire::Bytes) { return Status(Error(Errc::io_error, "disk full")); };
  auto full = body.fetch(std::move(refuse_body), body.url("leaf.example.com", "/"), 1,
                         always(answer), Ending::close_notify);
  ASSERT_TRUE(full.result && !*full.result);
  EXPECT_EQ(full.stage, Stage::deliver);
  EXPECT_EQ(full.result->error().detail(), "disk full");
}

TEST(HttpClientFetch, SilentServerRunsIntoTheTimeLimit) {
  LoopbackServer lo;
  ClientOptions o = lo.options();
  o.max_time = 300ms;
  Client client(std::move(o));
  // TCP is accepted by the kernel; nobody ever answers the ClientHello.
  std::optional<Result<Transfer>> result;
  const Url url = parse_url(lo.url("leaf.example.com", "/")).value();
  auto fetcher = [&]() -> net::Task<void> { result.emplace(co_await client.fetch(url)); };
  asio::co_spawn(lo.io, fetcher(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  const auto start = std::chrono::steady_clock::now();
  lo.io.run_for(5s);
  ASSERT_TRUE(result) << "did not finish";
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().code(), Errc::timed_out);
  EXPECT_NE(result->error().detail().find("transfer time limit (0.3 s)"), std::string::npos)
      << result->error().detail();
  EXPECT_EQ(client.stage(), Stage::tls_handshake);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

}  // namespace
}  // namespace bulwark::http
