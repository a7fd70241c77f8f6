// The HTTP client's sans-I/O parts: URLs (IPv6, ports, credentials refused, encoding), Location
// resolution (RFC 3986 §5.4's examples), -H options, request heads, and the response parser fed
// in odd splits (Content-Length, chunked with extensions and trailers, close-delimited, HEAD,
// 1xx, 204/304, limits, malformed input, truncation).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bulwark/http/client_message.hpp"

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

}  // namespace
}  // namespace bulwark::http
