// HTTP-date, response heads, error pages and access-log lines.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "bulwark/http/access_log.hpp"
#include "bulwark/http/date.hpp"
#include "bulwark/http/response.hpp"

namespace bulwark::http {
namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;

const sys_seconds kRfcExample{seconds{784111777}};  // RFC 9110 §5.6.7's example instant
const sys_seconds kNow{seconds{1700000000}};        // Tue, 14 Nov 2023 22:13:20 GMT

TEST(HttpDate, Formats) {
  EXPECT_EQ(format_http_date(kRfcExample), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(sys_seconds{seconds{0}}), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(kNow), "Tue, 14 Nov 2023 22:13:20 GMT");
  EXPECT_EQ(format_http_date(sys_seconds{seconds{951782400}}), "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST(HttpDate, ParsesTheThreeFormats) {
  // RFC 9110 §5.6.7: the same instant in IMF-fixdate, RFC 850 and asctime formats.
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", kNow), kRfcExample);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", kNow), kRfcExample);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994", kNow), kRfcExample);
  EXPECT_EQ(parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT", kNow), kNow);
}

TEST(HttpDate, Rfc850TwoDigitYears) {
  // RFC 9110 §5.6.7: more than 50 years ahead of now means the previous century.
  const auto y2050 = parse_http_date("Saturday, 01-Jan-50 00:00:00 GMT", kNow);
  ASSERT_TRUE(y2050);
  EXPECT_EQ(format_http_date(*y2050), "Sat, 01 Jan 2050 00:00:00 GMT");
  const auto y1980 = parse_http_date("Tuesday, 01-Jan-80 00:00:00 GMT", kNow);
  ASSERT_TRUE(y1980);
  EXPECT_EQ(format_http_date(*y1980), "Tue, 01 Jan 1980 00:00:00 GMT");
}

TEST(HttpDate, RejectsInvalid) {
  for (const char* text :
       {"", "Sun", "Sun, 06 Nov 1994 08:49:37 GMT ", " Sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nox 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT", "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94", "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT", "-1"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(parse_http_date(text, kNow).has_value());
  }
}

TEST(HttpDate, RoundTrip) {
  for (std::int64_t t = 0; t < 4102444800; t += 86399 * 37) {
    const sys_seconds when{seconds{t}};
    EXPECT_EQ(parse_http_date(format_http_date(when), kNow), when);
  }
}

TEST(HttpResponse, ReasonPhrases) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(206), "Partial Content");
  EXPECT_EQ(reason_phrase(304), "Not Modified");
  EXPECT_EQ(reason_phrase(416), "Range Not Satisfiable");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reason_phrase(599), "Unknown");
}

TEST(HttpResponse, SerializeHead) {
  Response r;
  r.status = 206;
  r.headers = {{"Content-Length", "3"}, {"X-A", "b"}};
  EXPECT_EQ(serialize_head(r),
            "HTTP/1.1 206 Partial Content\r\nContent-Length: 3\r\nX-A: b\r\n\r\n");
  std::string out = "prefix";
  serialize_head(r, out);
  EXPECT_EQ(out.substr(0, 6 + 8), "prefixHTTP/1.1");
  EXPECT_EQ(r.header("content-length") ? *r.header("content-length") : "", "3");
  EXPECT_EQ(r.header("Missing"), nullptr);
}

Request request(std::string method = "GET") {
  Request r;
  r.method = std::move(method);
  r.target = "/x";
  r.version = 11;
  r.keep_alive = true;
  return r;
}

TEST(HttpResponse, ErrorPages) {
  for (const int status : {400, 403, 404, 405, 413, 414, 416, 431, 501, 505}) {
    SCOPED_TRACE(status);
    const Response r = error_response(status, request(), kNow, false);
    EXPECT_EQ(r.status, status);
    EXPECT_NE(r.body.find(std::to_string(status) + " " + std::string(reason_phrase(status))),
              std::string::npos);
    ASSERT_NE(r.header("Content-Length"), nullptr);
    EXPECT_EQ(*r.header("Content-Length"), std::to_string(r.body.size()));
    EXPECT_EQ(*r.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(*r.header("Date"), "Tue, 14 Nov 2023 22:13:20 GMT");
    EXPECT_EQ(*r.header("Server"), server_name());
    // RFC 9110 §15.5.6: 405 names the allowed methods.
    EXPECT_EQ(r.header("Allow") != nullptr, status == 405);
    EXPECT_FALSE(r.close);
  }
  EXPECT_EQ(*error_response(405, request(), kNow, false).header("Allow"), "GET, HEAD");
}

TEST(HttpResponse, ErrorPageClosingAndHead) {
  const Response closing = error_response(400, request(), kNow, true);
  EXPECT_TRUE(closing.close);
  ASSERT_NE(closing.header("Connection"), nullptr);
  EXPECT_EQ(*closing.header("Connection"), "close");
  const Response head = error_response(404, request("HEAD"), kNow, false);
  EXPECT_TRUE(head.body.empty());
  EXPECT_NE(*head.header("Content-Length"), "0");
  const std::string wire = serialize_head(head);
  EXPECT_EQ(wire.substr(0, 24), "HTTP/1.1 404 Not Found\r\n");
  EXPECT_EQ(wire.substr(wire.size() - 4), "\r\n\r\n");
}

TEST(HttpResponse, FileHandleClosesOnce) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  {
    FileHandle a(fds[0]);
    FileHandle b(std::move(a));
    EXPECT_FALSE(a);
    EXPECT_EQ(b.get(), fds[0]);
  }
  // The descriptor was closed exactly when the last owner went away.
  EXPECT_EQ(::fcntl(fds[0], F_GETFD), -1);
  ::close(fds[1]);
}

TEST(HttpAccessLog, CombinedFormat) {
  Request r = request();
  r.target = "/index.html?q=1";
  r.referer = "https://ref.example/";
  r.user_agent = "curl/7.88.1";
  EXPECT_EQ(
      format_access_log("127.0.0.1", r, 200, 2326, std::chrono::system_clock::time_point{kNow}),
      "127.0.0.1 - - [14/Nov/2023:22:13:20 +0000] \"GET /index.html?q=1 HTTP/1.1\" 200 2326 "
      "\"https://ref.example/\" \"curl/7.88.1\"\n");
}

TEST(HttpAccessLog, MissingFieldsAndEscaping) {
  Request r = request("HEAD");
  r.version = 10;
  r.target = "/a\"b\\c\x01\xff";
  r.user_agent = "evil\"\n127.0.0.1 - - fake";
  EXPECT_EQ(format_access_log("::1", r, 404, 0, std::chrono::system_clock::time_point{kNow}),
            "::1 - - [14/Nov/2023:22:13:20 +0000] \"HEAD /a\\x22b\\x5cc\\x01\\xff HTTP/1.0\" 404 0 "
            "\"-\" \"evil\\x22\\x0a127.0.0.1 - - fake\"\n");
  // Nothing parsed at all (garbage before the request line).
  EXPECT_EQ(format_access_log("10.0.0.1", Request{}, 400, 150,
                              std::chrono::system_clock::time_point{kNow}),
            "10.0.0.1 - - [14/Nov/2023:22:13:20 +0000] \"-\" 400 150 \"-\" \"-\"\n");
}

}  // namespace
}  // namespace bulwark::http
