// StaticSite: files, validators, ranges, directories, and every way out of the root.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "bulwark/http/date.hpp"
#include "bulwark/http/static_site.hpp"
#include "support/temp_dir.hpp"

namespace bulwark::http {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::chrono::system_clock::time_point kNow{std::chrono::seconds{1700000000}};

Request get(std::string target, std::string method = "GET") {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.version = 11;
  r.host = "localhost";
  r.keep_alive = true;
  return r;
}

// The bytes a response would put on the wire after its head.
std::string body_of(const Response& response) {
  if (!response.file) return response.body;
  std::string out(response.file->length, '\0');
  const ssize_t n = ::pread(response.file->file.get(), out.data(), out.size(),
                            static_cast<off_t>(response.file->offset));
  EXPECT_EQ(n, static_cast<ssize_t>(out.size()));
  return out;
}

std::string field(const Response& response, std::string_view name) {
  const std::string* value = response.header(name);
  return value ? *value : std::string("<absent>");
}

// Sets a file's modification time (seconds since the epoch).
void set_mtime(const fs::path& path, std::int64_t seconds) {
  const struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

class HttpStaticSite : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "www";
    fs::create_directories(root_ / "sub" / "deeper");
    fs::create_directories(root_ / "withindex");
    fs::create_directories(root_ / ".git");
    fs::create_directories(root_ / ".well-known");
    write("hello.txt", "hello, world\n");
    write("page.HTML", "<p>hi</p>");
    write("data.bin", std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10));
    write("empty.txt", "");
    write("sub/a.css", "a{}");
    write("withindex/index.html", "<h1>index</h1>");
    write(".git/config", "secret");
    write(".env", "PASSWORD=1");
    write(".well-known/security.txt", "Contact: mailto:x@example.org\n");
    std::ofstream(dir_.path() / "outside.txt") << "outside the root";
    set_mtime(root_ / "hello.txt", 1600000000);
    SiteOptions options;
    options.root = root_;
    options.use_openat2 = GetParam();
    auto site = StaticSite::open(options);
    ASSERT_TRUE(site.ok()) << site.error().message();
    site_.emplace(std::move(site).value());
  }

  void write(const std::string& name, const std::string& contents) {
    std::ofstream(root_ / name, std::ios::binary) << contents;
  }

  Response respond(const Request& request) { return site_->respond(request, kNow); }
  Response respond(const std::string& target) { return respond(get(target)); }

  test::TempDir dir_;
  fs::path root_;
  std::optional<StaticSite> site_;
};

INSTANTIATE_TEST_SUITE_P(Resolution, HttpStaticSite, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "openat2" : "canonical"; });

TEST_P(HttpStaticSite, ServesAFile) {
  const Response r = respond("/hello.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(field(r, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(field(r, "Content-Length"), "13");
  EXPECT_EQ(field(r, "Accept-Ranges"), "bytes");
  EXPECT_EQ(field(r, "Last-Modified"), "Sun, 13 Sep 2020 12:26:40 GMT");
  EXPECT_EQ(field(r, "Date"), "Tue, 14 Nov 2023 22:13:20 GMT");
  EXPECT_EQ(field(r, "Server").substr(0, 8), "bulwark/");
  EXPECT_EQ(field(r, "ETag").front(), '"');
  EXPECT_EQ(field(r, "Connection"), "<absent>");
  EXPECT_FALSE(r.close);
  ASSERT_TRUE(r.file.has_value());
  EXPECT_EQ(body_of(r), "hello, world\n");
  EXPECT_EQ(r.body_bytes(), 13u);
}

TEST_P(HttpStaticSite, ContentTypes) {
  EXPECT_EQ(field(respond("/page.HTML"), "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(field(respond("/data.bin"), "Content-Type"), "application/octet-stream");
  EXPECT_EQ(field(respond("/sub/a.css"), "Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("x.PNG"), "image/png");
  EXPECT_EQ(content_type_for("x.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("noext"), "application/octet-stream");
  EXPECT_EQ(content_type_for("dir.d/noext"), "application/octet-stream");
}

TEST_P(HttpStaticSite, BinaryAndEmptyFiles) {
  const Response bin = respond("/data.bin");
  EXPECT_EQ(body_of(bin), std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10));
  const Response empty = respond("/empty.txt");
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(field(empty, "Content-Length"), "0");
  EXPECT_EQ(empty.body_bytes(), 0u);
}

TEST_P(HttpStaticSite, HeadHasTheSameFieldsAndNoBody) {
  const Response g = respond("/hello.txt");
  const Response h = respond(get("/hello.txt", "HEAD"));
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(field(h, "Content-Length"), "13");
  EXPECT_EQ(field(h, "ETag"), field(g, "ETag"));
  EXPECT_FALSE(h.file.has_value());
  EXPECT_TRUE(h.body.empty());
  EXPECT_EQ(h.body_bytes(), 0u);
  const Response missing = respond(get("/nope", "HEAD"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(field(missing, "Content-Length"), "0");
  EXPECT_TRUE(missing.body.empty());
}

TEST_P(HttpStaticSite, EntityTagAndIfNoneMatch) {
  const std::string tag = field(respond("/hello.txt"), "ETag");
  Request r = get("/hello.txt");
  r.if_none_match = tag;
  Response not_modified = respond(r);
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(field(not_modified, "ETag"), tag);
  EXPECT_EQ(field(not_modified, "Content-Length"), "<absent>");
  EXPECT_FALSE(not_modified.file.has_value());
  EXPECT_TRUE(not_modified.body.empty());
  // Weak comparison (RFC 9110 §13.1.2), lists, and "*".
  r.if_none_match = "\"other\", W/" + tag;
  EXPECT_EQ(respond(r).status, 304);
  r.if_none_match = "*";
  EXPECT_EQ(respond(r).status, 304);
  r.if_none_match = "\"other\"";
  EXPECT_EQ(respond(r).status, 200);
  // If-None-Match takes precedence over If-Modified-Since.
  r.if_modified_since = "Tue, 14 Nov 2023 22:13:20 GMT";
  EXPECT_EQ(respond(r).status, 200);
  // A changed file gets a different tag.
  write("hello.txt", "hello, world!\n");
  EXPECT_NE(field(respond("/hello.txt"), "ETag"), tag);
}

TEST_P(HttpStaticSite, IfModifiedSince) {
  Request r = get("/hello.txt");
  r.if_modified_since = "Sun, 13 Sep 2020 12:26:40 GMT";  // exactly Last-Modified
  EXPECT_EQ(respond(r).status, 304);
  r.if_modified_since = "Sunday, 13-Sep-20 12:26:41 GMT";
  EXPECT_EQ(respond(r).status, 304);
  r.if_modified_since = "Sun Sep 13 12:26:39 2020";  // one second before
  EXPECT_EQ(respond(r).status, 200);
  r.if_modified_since = "yesterday";  // RFC 9110 §13.1.3: ignored
  EXPECT_EQ(respond(r).status, 200);
  r.if_modified_since = "Sun, 13 Sep 2020 12:26:40 GMT, Sun, 13 Sep 2020 12:26:40 GMT";
  EXPECT_EQ(respond(r).status, 200);
}

TEST_P(HttpStaticSite, Ranges) {
  auto ranged = [&](const std::string& range) {
    Request r = get("/data.bin");
    r.range = range;
    return respond(r);
  };
  Response r = ranged("bytes=2-4");
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(field(r, "Content-Range"), "bytes 2-4/10");
  EXPECT_EQ(field(r, "Content-Length"), "3");
  EXPECT_EQ(body_of(r), std::string("\x02\x03\x04", 3));
  r = ranged("bytes=7-");
  EXPECT_EQ(field(r, "Content-Range"), "bytes 7-9/10");
  EXPECT_EQ(body_of(r), std::string("\x07\x08\x09", 3));
  r = ranged("bytes=-3");  // suffix
  EXPECT_EQ(field(r, "Content-Range"), "bytes 7-9/10");
  r = ranged("bytes=-30");  // suffix longer than the file: all of it
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(field(r, "Content-Range"), "bytes 0-9/10");
  r = ranged("bytes=5-1000");  // last-pos past the end is clamped
  EXPECT_EQ(field(r, "Content-Range"), "bytes 5-9/10");
  EXPECT_EQ(field(r, "Content-Length"), "5");
  r = ranged("Bytes = 9-9");
  EXPECT_EQ(field(r, "Content-Range"), "bytes 9-9/10");
}

TEST_P(HttpStaticSite, UnsatisfiableRanges) {
  for (const char* range : {"bytes=10-", "bytes=10-20", "bytes=99999999999-", "bytes=-0"}) {
    SCOPED_TRACE(range);
    Request r = get("/data.bin");
    r.range = range;
    const Response response = respond(r);
    EXPECT_EQ(response.status, 416);
    EXPECT_EQ(field(response, "Content-Range"), "bytes */10");
    EXPECT_EQ(field(response, "Content-Length"), std::to_string(response.body.size()));
  }
}

TEST_P(HttpStaticSite, IgnoredRanges) {
  // Several ranges, invalid syntax, another unit, HEAD: the full 200 (RFC 9110 §14.2).
  for (const char* range : {"bytes=0-1,3-4", "bytes=5-2", "items=0-1", "bytes=a-b", "bytes=1",
                            "bytes=0-1, bytes=2-3", "bytes=18446744073709551616-"}) {
    SCOPED_TRACE(range);
    Request r = get("/data.bin");
    r.range = range;
    const Response response = respond(r);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(field(response, "Content-Length"), "10");
  }
  Request head = get("/data.bin", "HEAD");
  head.range = "bytes=0-1";
  EXPECT_EQ(respond(head).status, 200);
  Request empty = get("/empty.txt");
  empty.range = "bytes=-5";
  EXPECT_EQ(respond(empty).status, 200);
}

TEST_P(HttpStaticSite, IfRange) {
  const Response full = respond("/hello.txt");
  Request r = get("/hello.txt");
  r.range = "bytes=0-4";
  r.if_range = field(full, "ETag");
  EXPECT_EQ(respond(r).status, 206);
  r.if_range = "W/" + field(full, "ETag");  // weak tags never match If-Range
  EXPECT_EQ(respond(r).status, 200);
  r.if_range = "\"stale\"";
  EXPECT_EQ(respond(r).status, 200);
  r.if_range = field(full, "Last-Modified");
  EXPECT_EQ(respond(r).status, 206);
  r.if_range = "Sun, 13 Sep 2020 12:26:41 GMT";
  EXPECT_EQ(respond(r).status, 200);
}

TEST_P(HttpStaticSite, MissingFiles) {
  EXPECT_EQ(respond("/nope.txt").status, 404);
  EXPECT_EQ(respond("/sub/nope/x").status, 404);
  EXPECT_EQ(respond("/hello.txt/").status, 404);
  EXPECT_EQ(respond("/hello.txt/x").status, 404);
}

TEST_P(HttpStaticSite, TraversalIsRefused) {
  // ".." above the root is a 400 (as nginx answers), whatever its spelling.
  for (const char* target :
       {"/../outside.txt", "/sub/../../outside.txt", "/%2e%2e/outside.txt", "/%2E%2E/outside.txt",
        "/sub/%2e%2e/%2e%2e/outside.txt", "/..%2foutside.txt", "/sub%2f..%2f..%2foutside.txt",
        "/..", "/./../outside.txt"}) {
    SCOPED_TRACE(target);
    const Response r = respond(target);
    EXPECT_EQ(r.status, 400);
    EXPECT_FALSE(r.file.has_value());
  }
  // ".." that stays inside is resolved.
  EXPECT_EQ(body_of(respond("/sub/../hello.txt")), "hello, world\n");
  EXPECT_EQ(body_of(respond("/sub/%2e%2e/hello.txt")), "hello, world\n");
  EXPECT_EQ(body_of(respond("/./sub/./../hello.txt")), "hello, world\n");
  EXPECT_EQ(body_of(respond("//hello.txt")), "hello, world\n");
  // Double encoding decodes once: "%252e%252e" is the literal name "%2e%2e".
  EXPECT_EQ(respond("/%252e%252e/outside.txt").status, 404);
  write("%2e%2e", "a file with a strange name");
  EXPECT_EQ(body_of(respond("/%252e%252e")), "a file with a strange name");
}

TEST_P(HttpStaticSite, BadEscapesAndNul) {
  for (const char* target : {"/hello.txt%00", "/%00", "/hello%zz.txt", "/hello%2", "/hello%",
                             "/a%0d%0aX: y", "hello.txt", "*", "ftp://h/hello.txt"}) {
    SCOPED_TRACE(target);
    EXPECT_EQ(respond(target).status, 400);
  }
}

TEST_P(HttpStaticSite, PercentDecodingAndQuery) {
  write("a b.txt", "spaced");
  EXPECT_EQ(body_of(respond("/a%20b.txt")), "spaced");
  EXPECT_EQ(body_of(respond("/hello.txt?download=1#frag")), "hello, world\n");
  EXPECT_EQ(body_of(respond("/%68ello.txt")), "hello, world\n");
  EXPECT_EQ(body_of(respond("http://localhost:8443/hello.txt")), "hello, world\n");
  EXPECT_EQ(body_of(respond("HTTPS://localhost/hello.txt")), "hello, world\n");
}

TEST_P(HttpStaticSite, SymlinkOutOfTheRootIsRefused) {
  fs::create_symlink(dir_.path() / "outside.txt", root_ / "absolute-out");
  fs::create_symlink("../outside.txt", root_ / "relative-out");
  fs::create_symlink(dir_.path(), root_ / "dir-out");
  fs::create_symlink("/etc/passwd", root_ / "passwd");
  for (const char* target : {"/absolute-out", "/relative-out", "/dir-out/outside.txt", "/passwd"}) {
    SCOPED_TRACE(target);
    const Response r = respond(target);
    EXPECT_EQ(r.status, 404);
    EXPECT_FALSE(r.file.has_value());
  }
}

TEST_P(HttpStaticSite, SymlinkInsideTheRootIsFollowed) {
  fs::create_symlink("hello.txt", root_ / "link.txt");
  fs::create_symlink("../hello.txt", root_ / "sub" / "up.txt");
  fs::create_symlink("sub", root_ / "sublink");
  EXPECT_EQ(body_of(respond("/link.txt")), "hello, world\n");
  EXPECT_EQ(body_of(respond("/sub/up.txt")), "hello, world\n");
  EXPECT_EQ(body_of(respond("/sublink/a.css")), "a{}");
}

// Small files settled for two seconds are served from memory after a stat shows them
// unchanged; any change (content and time, a symlink out of the root, a bigger file) takes the
// normal way again. The cached response is the one the file gives.
TEST_P(HttpStaticSite, SmallFilesAreServedFromMemoryWhileUnchanged) {
  const auto later = std::chrono::system_clock::now() + 1h;  // every file has settled
  const auto at_later = [&](const Request& r) { return site_->respond(r, later); };
  const Response first = at_later(get("/hello.txt"));
  const Response second = at_later(get("/hello.txt"));
  for (const Response* r : {&first, &second}) {
    EXPECT_EQ(r->status, 200);
    EXPECT_FALSE(r->file.has_value()) << "served from memory";
    EXPECT_EQ(r->body, "hello, world\n");
    EXPECT_EQ(field(*r, "Content-Length"), "13");
    EXPECT_EQ(field(*r, "ETag"), field(respond("/hello.txt"), "ETag"));
    EXPECT_EQ(field(*r, "Last-Modified"), "Sun, 13 Sep 2020 12:26:40 GMT");
  }
  Request head = get("/hello.txt", "HEAD");
  const Response h = at_later(head);
  EXPECT_TRUE(h.body.empty());
  EXPECT_EQ(field(h, "Content-Length"), "13");
  Request range = get("/hello.txt");
  range.range = "bytes=7-11";
  const Response part = at_later(range);
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "world");
  Request conditional = get("/hello.txt");
  conditional.if_none_match = field(first, "ETag");
  EXPECT_EQ(at_later(conditional).status, 304);

  // Changed: same size, new bytes and time.
  write("hello.txt", "HELLO, WORLD\n");
  set_mtime(root_ / "hello.txt", 1600000001);
  EXPECT_EQ(at_later(get("/hello.txt")).body, "HELLO, WORLD\n");
  // Replaced by a symlink out of the root: refused as before.
  fs::remove(root_ / "hello.txt");
  fs::create_symlink(dir_.path() / "outside.txt", root_ / "hello.txt");
  EXPECT_EQ(at_later(get("/hello.txt")).status, 404);
  // Bigger than a cached file may be: from the file.
  write("big.bin", std::string((64u << 10) + 1, 'b'));
  EXPECT_TRUE(at_later(get("/big.bin")).file.has_value());
  // Changed a moment ago: not cached yet (a change within one timestamp tick would not show).
  EXPECT_TRUE(site_->respond(get("/sub/a.css"), std::chrono::system_clock::now()).file);
  EXPECT_TRUE(site_->respond(get("/sub/a.css"), std::chrono::system_clock::now()).file);
}

TEST_P(HttpStaticSite, FileCacheCanBeTurnedOff) {
  SiteOptions options;
  options.root = root_;
  options.use_openat2 = GetParam();
  options.cache_bytes = 0;
  auto site = StaticSite::open(options);
  ASSERT_TRUE(site.ok());
  const auto later = std::chrono::system_clock::now() + 1h;
  for (int i = 0; i < 2; ++i)
    EXPECT_TRUE(site->respond(get("/hello.txt"), later).file.has_value());
}

TEST_P(HttpStaticSite, NonRegularFilesAreRefused) {
  ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
  // Opening it must not block (no writer will ever come).
  EXPECT_EQ(respond("/fifo").status, 403);
  fs::create_symlink("/dev/null", root_ / "devnull");
  EXPECT_EQ(respond("/devnull").status, 404);  // outside the root in the first place
}

TEST_P(HttpStaticSite, HiddenFiles) {
  EXPECT_EQ(respond("/.git/config").status, 404);
  EXPECT_EQ(respond("/.env").status, 404);
  EXPECT_EQ(respond("/%2egit/config").status, 404);
  EXPECT_EQ(respond("/sub/../.env").status, 404);
  EXPECT_EQ(respond("/.well-known/security.txt").status, 200);
  const Response listing = respond("/");
  EXPECT_EQ(listing.body.find(".git"), std::string::npos);
  EXPECT_EQ(listing.body.find(".env"), std::string::npos);

  SiteOptions options;
  options.root = root_;
  options.serve_hidden = true;
  options.use_openat2 = GetParam();
  auto open = StaticSite::open(options);
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(body_of(open->respond(get("/.env"), kNow)), "PASSWORD=1");
}

TEST_P(HttpStaticSite, DirectoryRedirectKeepsTheQuery) {
  Response r = respond("/sub");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(field(r, "Location"), "/sub/");
  r = respond("/sub/deeper?x=1&y=2");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(field(r, "Location"), "/sub/deeper/?x=1&y=2");
  fs::create_directories(root_ / "a b");
  EXPECT_EQ(field(respond("/a%20b"), "Location"), "/a%20b/");
  EXPECT_EQ(field(r, "Content-Length"), std::to_string(r.body.size()));
}

TEST_P(HttpStaticSite, DirectoryIndex) {
  const Response r = respond("/withindex/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(field(r, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(body_of(r), "<h1>index</h1>");
}

TEST_P(HttpStaticSite, DirectoryListing) {
  write("sub/<script>alert(\"x\")&.txt", "x");
  write("sub/b&c.txt", "12345");
  const Response r = respond("/sub/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(field(r, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(field(r, "Content-Length"), std::to_string(r.body.size()));
  const std::string& page = r.body;
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_NE(page.find(">&lt;script&gt;alert(&quot;x&quot;)&amp;.txt</a> 1\n"), std::string::npos);
  EXPECT_NE(page.find("href=\"%3Cscript%3Ealert%28%22x%22%29%26.txt\""), std::string::npos);
  EXPECT_NE(page.find(">b&amp;c.txt</a> 5\n"), std::string::npos);
  EXPECT_NE(page.find("href=\"deeper/\">deeper/</a> -"), std::string::npos);
  EXPECT_NE(page.find("href=\"../\""), std::string::npos);
  // Sorted by name.
  const auto a = page.find(">a.css<");
  const auto b = page.find(">b&amp;c.txt<");
  const auto d = page.find(">deeper/<");
  ASSERT_NE(a, std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_LT(b, d);
  // The root's listing has no parent link.
  EXPECT_EQ(respond("/").body.find("href=\"../\""), std::string::npos);
}

TEST_P(HttpStaticSite, ListingCanBeTurnedOff) {
  SiteOptions options;
  options.root = root_;
  options.directory_listing = false;
  options.use_openat2 = GetParam();
  auto site = StaticSite::open(options);
  ASSERT_TRUE(site.ok());
  EXPECT_EQ(site->respond(get("/sub/"), kNow).status, 403);
  EXPECT_EQ(site->respond(get("/withindex/"), kNow).status, 200);
}

TEST_P(HttpStaticSite, ConnectionHandling) {
  Request close = get("/hello.txt");
  close.keep_alive = false;
  Response r = respond(close);
  EXPECT_TRUE(r.close);
  EXPECT_EQ(field(r, "Connection"), "close");
  Request http10 = get("/hello.txt");
  http10.version = 10;
  r = respond(http10);
  EXPECT_FALSE(r.close);
  EXPECT_EQ(field(r, "Connection"), "keep-alive");
  http10.keep_alive = false;
  EXPECT_EQ(field(respond(http10), "Connection"), "close");
}

TEST_P(HttpStaticSite, OtherMethodsGet405) {
  const Response r = respond(get("/hello.txt", "POST"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(field(r, "Allow"), "GET, HEAD");
}

TEST(HttpStaticSiteOpen, MissingRootIsAnError) {
  SiteOptions options;
  options.root = "/nonexistent/bulwark/root";
  const auto site = StaticSite::open(options);
  ASSERT_FALSE(site.ok());
  EXPECT_EQ(site.error().code(), Errc::io_error);
  EXPECT_NE(site.error().detail().find("/nonexistent/bulwark/root"), std::string::npos);
}

TEST(HttpStaticSiteOpen, RootMustBeADirectory) {
  test::TempDir dir;
  SiteOptions options;
  options.root = dir.write("file", "x");
  EXPECT_FALSE(StaticSite::open(options).ok());
}

TEST(HttpStaticSiteBuiltin, PageWithoutRoot) {
  auto site = StaticSite::open({});
  ASSERT_TRUE(site.ok());
  const Response r = site->respond(get("/"), kNow);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(field(r, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("bulwark serve works"), std::string::npos);
  EXPECT_NE(r.body.find(BULWARK_VERSION), std::string::npos);
  EXPECT_EQ(field(r, "Content-Length"), std::to_string(r.body.size()));
  EXPECT_EQ(site->respond(get("/other"), kNow).status, 404);
  EXPECT_EQ(site->respond(get("/../etc/passwd"), kNow).status, 400);
  const Response head = site->respond(get("/", "HEAD"), kNow);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(field(head, "Content-Length"), std::to_string(r.body.size()));
}

}  // namespace
}  // namespace bulwark::http
