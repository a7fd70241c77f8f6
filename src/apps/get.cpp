// `bulwark get URL`: a curl-like HTTPS (and HTTP) client. The body goes to stdout or a file;
// the server is verified by default; every way a transfer can fail has its own exit status.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <utility>

#include "apps/common.hpp"
#include "apps/tls_io.hpp"
#include "bulwark/crypto/secret.hpp"
#include "bulwark/http/client.hpp"
#include "bulwark/net/connect.hpp"
#include "bulwark/tls/session.hpp"
#include "bulwark/tls/session_file.hpp"

namespace bulwark::apps {

namespace {

constexpr const char* cmd = "get";
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// Exit statuses: curl's numbers where curl has one for the same failure.
enum GetExit : int {
  get_ok = 0,
  get_refused = 1,        // a redirect from https to http, or to a scheme we do not speak
  get_usage = 2,          // bad options or URL
  get_resolve = 6,        // the host name did not resolve
  get_connect = 7,        // no TCP connection
  get_bad_response = 8,   // a malformed, oversized or unsupported HTTP response
  get_partial = 18,       // the server closed cleanly before the response was complete
  get_http_error = 22,    // HTTP status >= 400 with --fail
  get_write = 23,         // the output could not be written
  get_timeout = 28,       // --connect-timeout or --max-time
  get_tls = 35,           // TLS handshake failure (other than certificate verification)
  get_redirects = 47,     // more redirects than --max-redirs
  get_send = 55,          // the request could not be sent
  get_receive = 56,       // truncation (no close_notify) or a TLS failure after the handshake
  get_client_cert = 58,   // --cert / --key unusable
  get_certificate = 60,   // the server's certificate did not verify (chain, dates, name)
  get_cacert = 77,        // --cacert unusable
  get_interrupted = 130,  // SIGINT / SIGTERM
};

constexpr const char* kExitStatuses =
    "Exit status:\n"
    "   0  success\n"
    "   1  refused: a redirect from https to http, or to an unsupported scheme\n"
    "   2  usage: bad option or URL\n"
    "   6  the host name did not resolve\n"
    "   7  could not connect\n"
    "   8  malformed, oversized or unsupported HTTP response\n"
    "  18  partial response: the server closed cleanly before the end of the body\n"
    "  22  HTTP status 400 or more, with --fail\n"
    "  23  the output could not be written\n"
    "  28  timed out (--connect-timeout, --max-time)\n"
    "  35  TLS handshake failed\n"
    "  47  too many redirects (--max-redirs)\n"
    "  55  the request could not be sent\n"
    "  56  truncation (closed without close_notify: possible truncation attack) or a TLS\n"
    "      failure after the handshake\n"
    "  58  --cert / --key unusable\n"
    "  60  the server's certificate did not verify (chain, validity, host name)\n"
    "  77  --cacert unusable\n"
    " 130  interrupted";

struct GetOptions {
  std::string url;
  std::string output;
  bool remote_name = false;
  bool head = false;
  std::vector<std::string> headers;
  bool location = false;
  int max_redirs = 10;
  double max_time = 0;
  double connect_timeout = 30;
  std::string cacert;
  std::vector<std::string> resolve;
  bool insecure = false;
  PolicyOptions policy;
  std::string cert;
  std::string key;
  std::string session;
  bool verbose = false;
  bool trace = false;
  bool fail_on_error = false;
  bool silent = false;
};

// Server-supplied text on our terminal: control bytes (escape sequences) become '?'.
std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) c = '?';
  }
  return out;
}

std::string utc(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

// Prints each line of an HTTP head with a prefix ("> " sent, "< " received), as curl -v does.
void print_head(std::string_view prefix, std::string_view head) {
  while (!head.empty()) {
    const std::size_t eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    fmt::print(stderr, "{}{}\n", prefix, printable(line));
    if (eol == std::string_view::npos) break;
    head.remove_prefix(eol + 2);
  }
}

void print_tls(const tls::Connection& conn, bool insecure) {
  const tls::SessionInfo& info = conn.info();
  fmt::print(stderr, "* TLS: {}\n", describe_parameters(info));
  fmt::print(stderr, "* ALPN: {}\n", info.alpn.empty() ? "none" : printable(info.alpn));
  fmt::print(stderr, "* resumed: {}\n", info.resumed ? "yes" : "no");
  if (info.peer_certificates.empty()) {
    fmt::print(stderr, "* server certificate chain: none sent (resumed session)\n");
  } else {
    fmt::print(stderr, "* server certificate chain:\n");
    for (std::size_t i = 0; i < info.peer_certificates.size(); ++i) {
      const crypto::Certificate& c = info.peer_certificates[i];
      std::string names;
      for (const std::string& dns : c.dns_names())
        names += (names.empty() ? "" : ", ") + ("DNS:" + printable(dns));
      for (const std::string& ip : c.ip_address_texts())
        names += (names.empty() ? "" : ", ") + ("IP:" + ip);
      fmt::print(stderr, "*  {} subject: {}\n", i, printable(c.subject()));
      if (!names.empty()) fmt::print(stderr, "*    names: {}\n", names);
      fmt::print(stderr, "*    valid: {} to {}\n", utc(c.not_before()), utc(c.not_after()));
      fmt::print(stderr, "*    issuer: {}\n", printable(c.issuer()));
    }
  }
  if (insecure) {
    fmt::print(stderr, "* verification: DISABLED (--insecure)\n");
  } else if (info.peer_verified) {
    fmt::print(stderr, "* verification: OK ({})\n",
               info.resumed ? "by the resumed session" : "chain and host name");
  } else {
    fmt::print(stderr, "* verification: NOT VERIFIED\n");
  }
}

// The handshake as a message flow with timings (relative to the first message).
void install_timed_trace(tls::Config& config) {
  auto start = std::make_shared<std::optional<std::chrono::system_clock::time_point>>();
  config.trace = [start](const tls::TraceEvent& e) {
    if (!*start) *start = e.time;
    const double ms = std::chrono::duration<double, std::milli>(e.time - **start).count();
    const bool sent = e.direction == tls::TraceEvent::Direction::sent;
    fmt::print(stderr, "trace: {:9.3f} ms  {}  {:<22} {:>6} bytes{}{}\n", ms,
               sent ? "client -> server" : "client <- server", tls::name(e.type), e.size,
               e.detail.empty() ? "" : "  ", e.detail);
  };
}

// Where the body goes: stdout, or a temporary file in the destination's directory that is
// renamed over the destination only when the transfer succeeded (so that a truncated or failed
// download never takes the place of a complete file).
class Output {
 public:
  static Result<Output> open(const std::string& path) {
    Output out;
    if (path.empty() || path == "-") return out;
    out.final_ = path;
    out.temp_ = path + ".bulwark-XXXXXX";
    out.fd_ = ::mkstemp(out.temp_.data());
    if (out.fd_ < 0) {
      return Error(Errc::io_error,
                   fmt::format("cannot create a file next to {}: {}", path, std::strerror(errno)));
    }
    // mkstemp creates mode 0600; a download gets the usual permissions.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(out.fd_, 0666 & ~mask);
    return out;
  }
  Output() = default;
  Output(Output&& o) noexcept
      : fd_(std::exchange(o.fd_, STDOUT_FILENO)),
        final_(std::move(o.final_)),
        temp_(std::exchange(o.temp_, std::string())) {}
  Output& operator=(Output&&) = delete;
  ~Output() { discard(); }

  bool to_file() const noexcept { return !final_.empty(); }
  Status write(wire::Bytes data) {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return Error(Errc::io_error,
                     fmt::format("cannot write {}: {}", to_file() ? final_ : "to stdout",
                                 std::strerror(errno)));
      }
      data = data.subspan(static_cast<std::size_t>(n));
    }
    return {};
  }
  // Puts the file in place (a no-op for stdout).
  Status commit() {
    if (!to_file()) return {};
    const int fd = std::exchange(fd_, STDOUT_FILENO);
    if (::close(fd) != 0 || std::rename(temp_.c_str(), final_.c_str()) != 0) {
      const Error e(Errc::io_error,
                    fmt::format("cannot write {}: {}", final_, std::strerror(errno)));
      ::unlink(temp_.c_str());
      temp_.clear();
      return e;
    }
    temp_.clear();
    return {};
  }
  void discard() noexcept {
    if (temp_.empty()) return;
    if (fd_ != STDOUT_FILENO) ::close(fd_);
    fd_ = STDOUT_FILENO;
    ::unlink(temp_.c_str());
    temp_.clear();
  }

 private:
  int fd_ = STDOUT_FILENO;
  std::string final_;
  std::string temp_;
};

// "  12.5 MiB / 64.0 MiB  19%  48.2 MiB/s" on stderr, redrawn at most ten times a second.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled) {}
  void set_total(std::optional<std::uint64_t> total) { total_ = total; }
  void add(std::size_t n) {
    received_ += n;
    if (!enabled_) return;
    const auto now = SteadyClock::now();
    if (now - drawn_ < milliseconds(100)) return;
    drawn_ = now;
    draw(now);
  }
  void finish() {
    if (!enabled_ || received_ == 0) return;
    draw(SteadyClock::now());
    fmt::print(stderr, "\n");
  }

 private:
  static std::string size(double bytes) {
    if (bytes >= 1 << 30) return fmt::format("{:.1f} GiB", bytes / (1 << 30));
    if (bytes >= 1 << 20) return fmt::format("{:.1f} MiB", bytes / (1 << 20));
    if (bytes >= 1 << 10) return fmt::format("{:.1f} KiB", bytes / (1 << 10));
    return fmt::format("{:.0f} B", bytes);
  }
  void draw(SteadyClock::time_point now) {
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = seconds > 0 ? static_cast<double>(received_) / seconds : 0;
    std::string line = "  " + size(static_cast<double>(received_));
    if (total_ && *total_ > 0) {
      line += " / " + size(static_cast<double>(*total_));
      line += fmt::format("  {:3.0f}%",
                          100.0 * static_cast<double>(received_) / static_cast<double>(*total_));
    }
    line += "  " + size(rate) + "/s";
    fmt::print(stderr, "\r{:<50}", line);
  }

  bool enabled_;
  std::optional<std::uint64_t> total_;
  std::uint64_t received_ = 0;
  SteadyClock::time_point start_ = SteadyClock::now();
  SteadyClock::time_point drawn_{};
};

bool is_certificate_error(Errc code) {
  switch (code) {
    case Errc::cert_expired:
    case Errc::cert_not_yet_valid:
    case Errc::cert_unknown_ca:
    case Errc::cert_bad_signature:
    case Errc::cert_hostname_mismatch:
    case Errc::cert_wrong_purpose:
    case Errc::cert_invalid:
      return true;
    default:
      return false;
  }
}

// The one-line report of a failed transfer, and its exit status.
int report_failure(const http::Client& client, const Error& e, bool insecure) {
  const tls::Connection* conn = client.connection();
  const bool tls_failed = conn != nullptr && conn->failed();
  if (e == Errc::timed_out) {
    const bool transfer_limit = e.detail().find("transfer time limit") != std::string::npos;
    fail(cmd, e.message(), transfer_limit ? "raise --max-time" : "raise --connect-timeout");
    return get_timeout;
  }
  switch (client.stage()) {
    case http::Stage::resolve:
      fail(cmd, e.detail(), "check the host name, or map it with --resolve HOST:PORT:ADDR");
      return get_resolve;
    case http::Stage::connect:
      fail(cmd, e.detail(), "is the server running on that port?");
      return get_connect;
    case http::Stage::tls_handshake: {
      if (!tls_failed) {
        fail(cmd, "handshake failed: " + e.message());
        return get_tls;
      }
      FailureText t = describe_failure(*conn, client.handshake_completed());
      const tls::Failure* f = conn->failure();
      if (f->kind == tls::Failure::Kind::sent_alert && is_certificate_error(f->error.code())) {
        if (f->error.code() == Errc::cert_hostname_mismatch) {
          // The certificate is valid, for other names: the server is not who the URL names
          // (a man in the middle, or a misconfigured server). Never a reason for --insecure.
          t.remedy = "the server is not the host in the URL (or is misconfigured): do not trust it";
        }
        fail(cmd, t.cause, insecure ? "" : t.remedy);
        return get_certificate;
      }
      fail(cmd, t.cause, t.remedy);
      return get_tls;
    }
    case http::Stage::send_request:
      fail(cmd, "cannot send the request: " + e.message());
      return get_send;
    case http::Stage::receive_response:
      if (e == Errc::truncated_connection) {
        fail(cmd, "truncated: " + e.detail(), "do not use what was received; retry");
        return get_receive;
      }
      if (e == Errc::truncated) {
        fail(cmd, "partial response: " + e.detail(), "retry");
        return get_partial;
      }
      if (e == Errc::decode_failed || e == Errc::limit_exceeded || e == Errc::unsupported) {
        fail(cmd, "bad response from the server: " + e.detail());
        return get_bad_response;
      }
      if (tls_failed) {
        const FailureText t = describe_failure(*conn, true);
        fail(cmd, t.cause, t.remedy);
      } else {
        fail(cmd, "receiving the response failed: " + e.message());
      }
      return get_receive;
    case http::Stage::deliver:
      fail(cmd, e.detail());
      return get_write;
    case http::Stage::redirect:
      fail(cmd, e.detail());
      if (e == Errc::limit_exceeded) return get_redirects;
      if (e == Errc::insufficient_security || e == Errc::unsupported) return get_refused;
      return get_bad_response;
  }
  fail(cmd, e.message());
  return exit_failure;
}

// --session FILE: what the file held, and whether it may be overwritten.
struct SessionFile {
  std::string path;
  bool writable = true;  // false: it exists and is not a session file (never clobber it)
};

SessionFile load_session(const std::string& path, tls::SessionCache& cache, bool verbose) {
  SessionFile sf{path, true};
  std::error_code ec;
  if (!fs::exists(path, ec)) return sf;
  auto bytes = read_file(path);
  if (!bytes) {
    fmt::print(stderr, "bulwark get: warning: --session: {}\n", bytes.error().detail());
    sf.writable = false;
    return sf;
  }
  auto saved = tls::decode_session_file(wire::as_bytes(*bytes), std::chrono::system_clock::now());
  crypto::wipe({reinterpret_cast<std::uint8_t*>(bytes->data()), bytes->size()});
  if (!saved) {
    const bool ours =
        saved.error().detail().find("not a bulwark session file") == std::string::npos;
    fmt::print(stderr, "bulwark get: warning: --session {}: {}{}\n", path, saved.error().detail(),
               ours ? " (starting a new session)" : " (left untouched)");
    sf.writable = ours;
    return sf;
  }
  if (!saved->has_value()) {
    if (verbose) fmt::print(stderr, "* session: {} has expired\n", path);
    return sf;
  }
  if (verbose) {
    fmt::print(stderr, "* session: offering the one saved in {} (for {})\n", path,
               (*saved)->server_name);
  }
  cache.put((*saved)->server_name, std::move((*saved)->session));
  return sf;
}

// After a successful transfer: the newest session for the final host (or the first), or no file
// at all when none is left (a TLS 1.3 ticket is used once: RFC 8446 §C.4).
void save_session(const SessionFile& sf, tls::SessionCache& cache, const http::Url& first,
                  const http::Url& last, bool verbose) {
  if (!sf.writable) return;
  const auto now = std::chrono::system_clock::now();
  std::string host = last.host;
  auto session = cache.take(host, now);
  if (!session && first.host != last.host) {
    host = first.host;
    session = cache.take(host, now);
  }
  if (!session) {
    std::error_code ec;
    fs::remove(sf.path, ec);
    if (verbose) fmt::print(stderr, "* session: none to save\n");
    return;
  }
  auto encoded = tls::encode_session_file(host, *session);
  if (!encoded) {
    fmt::print(stderr, "bulwark get: warning: --session: {}\n", encoded.error().detail());
    return;
  }
  const std::string_view contents(reinterpret_cast<const char*>(encoded->data()), encoded->size());
  // Mode 0600: the file holds a resumption secret.
  if (auto st = write_file(sf.path, contents, fs::perms::owner_read | fs::perms::owner_write);
      !st) {
    fmt::print(stderr, "bulwark get: warning: --session: {}\n", st.error().detail());
    return;
  }
  if (verbose) fmt::print(stderr, "* session: saved to {} (for {})\n", sf.path, host);
}

// -O: the last segment of the URL's path.
Result<std::string> remote_name(const http::Url& url) {
  std::string_view path = url.target;
  path = path.substr(0, path.find('?'));
  const std::string_view name = path.substr(path.rfind('/') + 1);
  if (name.empty() || name == "." || name == "..") {
    return Error(Errc::invalid_argument,
                 "-O: the URL's path names no file (" + url.target + "); use -o FILE");
  }
  return std::string(name);
}

int run_get(const GetOptions& o) {
  ignore_sigpipe();
  auto usage = [](std::string_view cause, std::string_view remedy = {}) {
    fail(cmd, cause, remedy);
    return static_cast<int>(get_usage);
  };

  // A bare "example.org/x" means https: the secure default.
  const std::string url_text = o.url.find("://") == std::string::npos ? "https://" + o.url : o.url;
  auto url = http::parse_url(url_text);
  if (!url) return usage(url.error().detail());

  auto cfg = std::make_shared<tls::ClientConfig>();
  PolicyOptions policy = o.policy;
  if (policy.alpn.empty()) policy.alpn = "http/1.1";
  if (auto s = apply_policy(policy, *cfg); !s) return usage(s.error().detail());
  warn_if_legacy(policy, cmd);
  if (o.insecure && !o.cacert.empty()) {
    return usage("--insecure and --cacert contradict each other", "drop one of them");
  }
  if (o.cert.empty() != o.key.empty()) return usage("--cert and --key go together");
  if (!o.output.empty() && o.remote_name) return usage("-o and -O exclude each other");
  if (o.max_redirs < -1) return usage("--max-redirs takes -1 (no limit) or more");

  http::ClientOptions options;
  options.request.head = o.head;
  for (const std::string& h : o.headers) {
    auto parsed = http::parse_header_option(h);
    if (!parsed) return usage(parsed.error().detail());
    options.request.headers.push_back(std::move(parsed).value());
  }
  for (const std::string& r : o.resolve) {
    auto parsed = net::parse_resolve_override(r);
    if (!parsed) return usage("--resolve " + parsed.error().detail());
    options.resolve.push_back(std::move(parsed).value());
  }
  // curl's rule: an override applies to its HOST:PORT only. Say so when one names the URL's
  // host with another port, which is easy to mistake for a port redirection.
  const bool resolve_matches = std::any_of(
      options.resolve.begin(), options.resolve.end(),
      [&](const net::ResolveOverride& r) { return r.host == url->host && r.port == url->port; });
  for (const net::ResolveOverride& r : options.resolve) {
    if (!resolve_matches && !o.silent && r.host == url->host && r.port != url->port) {
      fmt::print(stderr,
                 "bulwark get: warning: --resolve {}:{}:... applies to port {} only, and the URL "
                 "uses port {} (write {}://{}/...)\n",
                 r.host, r.port, r.port, url->port, url->scheme,
                 net::format_destination(url->host, r.port));
    }
  }
  std::string output_path = o.output;
  if (o.remote_name) {
    auto name = remote_name(*url);
    if (!name) return usage(name.error().detail());
    output_path = *name;
  }

  if (!o.cacert.empty()) {
    auto trust = load_trust(o.cacert);
    if (!trust) {
      fail(cmd, "--cacert " + trust.error().message(), "give a PEM file or a hashed directory");
      return get_cacert;
    }
    cfg->trust = std::move(trust).value();
  }
  if (o.insecure) {
    cfg->insecure_skip_verification = true;
    // Every time, even with --silent: a security warning is not chatter.
    fmt::print(stderr,
               "bulwark get: WARNING: --insecure: the server's certificate is NOT verified; "
               "anyone on the path can impersonate it\n");
  }
  if (!o.cert.empty()) {
    auto ck = tls::CertifiedKey::load(o.cert, o.key);
    if (!ck) {
      fail(cmd, "--cert/--key: " + ck.error().message());
      return get_client_cert;
    }
    cfg->certificate = std::move(ck).value();
  }
  if (auto s = install_key_log_from_environment(*cfg, cmd); !s) {
    fail(cmd, s.error());
    return exit_failure;
  }
  if (o.trace) install_timed_trace(*cfg);
  std::optional<SessionFile> session_file;
  if (!o.session.empty()) {
    cfg->sessions = std::make_shared<tls::SessionCache>();
    session_file = load_session(o.session, *cfg->sessions, o.verbose);
  }
  options.tls = cfg;

  auto out = Output::open(output_path);
  if (!out) {
    fail(cmd, out.error().detail());
    return get_write;
  }
  Progress progress(!o.silent && !o.verbose && out->to_file() && !o.head &&
                    ::isatty(STDERR_FILENO) == 1);

  options.connect_timeout = milliseconds(static_cast<long long>(o.connect_timeout * 1000));
  options.max_time = milliseconds(static_cast<long long>(o.max_time * 1000));
  options.follow_redirects = o.location;
  options.max_redirects = o.max_redirs;
  if (o.verbose) {
    options.on_connected = [](const http::Url& u, const net::tcp::endpoint& e) {
      fmt::print(stderr, "* connected to {} ({}) port {}\n", u.host, e.address().to_string(),
                 e.port());
    };
    options.on_handshake = [&o](const http::Url&, const tls::Connection& c) {
      print_tls(c, o.insecure);
    };
    options.on_request = [](const http::Url&, std::string_view head) { print_head("> ", head); };
    options.on_interim = [](const http::ResponseHead& h) { print_head("< ", h.text()); };
    options.on_redirect = [](const http::Url&, const http::Url& to, int status) {
      fmt::print(stderr, "* following the redirect ({}) to {}\n", status, printable(to.text()));
    };
  }
  std::optional<int> http_failure;
  options.on_head = [&](const http::Url&, const http::ResponseHead& h, bool final) -> Status {
    if (o.verbose) print_head("< ", h.text());
    if (o.head) BW_TRY(out->write(wire::as_bytes(h.text())));
    if (final && o.fail_on_error && h.status >= 400) {
      http_failure = h.status;
      return Error(Errc::closed, "stopped at HTTP status " + std::to_string(h.status));
    }
    if (final) {
      const auto length = h.find("Content-Length");
      if (length) {
        std::uint64_t total = 0;
        const auto [p, ec] =
            std::from_chars(length->data(), length->data() + length->size(), total);
        if (ec == std::errc() && p == length->data() + length->size()) progress.set_total(total);
      }
    }
    return {};
  };
  options.body = [&](wire::Bytes data) -> Status {
    progress.add(data.size());
    return out->write(data);
  };

  namespace asio = boost::asio;
  asio::io_context io;
  http::Client client(std::move(options));
  std::optional<Result<http::Transfer>> result;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    // Leave no partial file behind, then go: the transfer's state is of no further use, and
    // unwinding a suspended transfer is not worth the risk.
    out->discard();
    progress.finish();
    fail(cmd, "interrupted");
    std::fflush(stderr);
    std::_Exit(get_interrupted);
  });
  // Named: the coroutine refers to the lambda's captures until it finishes.
  auto transfer = [&]() -> http::Task<void> {
    result.emplace(co_await client.fetch(*url));
    signals.cancel();
  };
  asio::co_spawn(io, transfer(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  progress.finish();

  if (!result) {
    out->discard();
    fail(cmd, "the transfer did not finish");
    return exit_failure;
  }
  if (!*result) {
    out->discard();
    if (http_failure) {
      fail(cmd, fmt::format("the server answered HTTP {} (--fail)", *http_failure));
      return get_http_error;
    }
    return report_failure(client, result->error(), o.insecure);
  }
  if (Status st = out->commit(); !st) {
    fail(cmd, st.error().detail());
    return get_write;
  }
  if (session_file) save_session(*session_file, *cfg->sessions, *url, (*result)->url, o.verbose);
  if (o.verbose) {
    fmt::print(
        stderr, "* {} body bytes from {}{}\n", (*result)->body_bytes,
        printable((*result)->url.text()),
        (*result)->redirects > 0 ? fmt::format(" after {} redirects", (*result)->redirects) : "");
  }
  return get_ok;
}

}  // namespace

void register_get(CLI::App& app, Action& run) {
  auto o = std::make_shared<GetOptions>();
  auto* c = app.add_subcommand(
      "get", "HTTPS client: fetch URL to stdout or a file (like curl); verifies the server");
  c->add_option("URL", o->url,
                "https://HOST[:PORT]/PATH ([v6] for IPv6; http:// too; no scheme means https)")
      ->required();
  c->add_option("-o,--output", o->output, "Write the body to FILE (only once it is complete)");
  c->add_flag("-O,--remote-name", o->remote_name, "Write the body to the URL's file name");
  c->add_flag("-I,--head", o->head, "HEAD request: print the response head");
  c->add_option("-H,--header", o->headers,
                "Request field 'Name: value' (repeatable); 'Name:' removes a default field, "
                "'Name;' sends it empty");
  c->add_flag("-L,--location", o->location, "Follow redirects (never from https to http)");
  c->add_option("--max-redirs", o->max_redirs,
                "With -L, follow at most N redirects (default 10; -1: no limit)");
  c->add_option("--max-time", o->max_time, "Give up after S seconds in all (default: no limit)")
      ->check(CLI::Range(0.0, 1e6));
  c->add_option("--connect-timeout", o->connect_timeout,
                "Give up when the connection (resolution, TCP and TLS handshake) takes more "
                "than S seconds (default 30)")
      ->check(CLI::Range(0.0, 1e6));
  c->add_option("--cacert", o->cacert,
                "Trust anchors: PEM file or hashed directory (default: the system store)");
  c->add_option("--resolve", o->resolve,
                "HOST:PORT:ADDR[,ADDR...]: connect to ADDR for HOST:PORT (repeatable); the "
                "certificate is still checked against HOST");
  c->add_flag("-k,--insecure", o->insecure,
              "Do not verify the server's certificate (anyone can impersonate the server)");
  add_policy_options(*c, o->policy, "servers");
  c->add_option("--alpn", o->policy.alpn, "ALPN protocols to offer (default http/1.1)");
  c->add_option("--cert", o->cert, "Client certificate chain (PEM), sent if the server asks");
  c->add_option("--key", o->key, "Private key of --cert (PEM)");
  c->add_option("--session", o->session,
                "Resume the TLS session saved in FILE, and save the new one there (mode 0600)");
  c->add_flag("-v,--verbose", o->verbose,
              "Print the connection, TLS parameters, certificate chain and HTTP heads to stderr");
  c->add_flag("--trace", o->trace,
              "Print the TLS handshake as a message flow with sizes and timings to stderr");
  c->add_flag("-f,--fail", o->fail_on_error,
              "Exit with status 22, writing no body, when the HTTP status is 400 or more");
  c->add_flag("-s,--silent", o->silent, "No progress bar (errors and warnings still print)");
  c->footer(kExitStatuses);
  c->callback([o, &run] { run = [o] { return run_get(*o); }; });
}

}  // namespace bulwark::apps
