// proxy_load: an HTTPS keep-alive load client for comparing HTTPS proxies with each other and
// with no proxy at all (bench/proxy_vs_mitmdump.sh drives it).
//
//   proxy_load --url https://localhost:8443/1k --cacert CA.pem [--proxy 127.0.0.1:8080]
//              [--connections 32] [--duration 10] [--threads 1] [--expect-bytes 1024]
//
// Each of the C connections goes either straight to the URL's host or through an HTTP proxy
// (`CONNECT host:port`, then TLS inside the tunnel), verifies the server's certificate against
// CA.pem with SNI = the URL's host, sends one unmeasured GET to warm the connection, and waits
// until every connection is ready. Then, for D seconds, every connection sends the GET and
// reads the whole response, one at a time (no pipelining), again and again. A request's latency
// runs from the first byte written to the last byte of the response parsed, on a warm
// connection. A failed request counts as an error and its connection is opened again.
//
// The last line is machine-readable: `result requests=N seconds=S requests_per_second=R
// p50_ms=... p90_ms=... p99_ms=... errors=E reconnects=K client_cpu_percent=P`.
// Exit status: 0 when at least one request completed, 1 otherwise, 2 for bad usage.

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/crypto/trust_store.hpp"
#include "bulwark/http/client_message.hpp"
#include "bulwark/net/connect.hpp"
#include "bulwark/net/server.hpp"
#include "bulwark/net/tls_stream.hpp"
#include "bulwark/result.hpp"
#include "bulwark/tls/config.hpp"
#include "bulwark/tls/connection.hpp"

namespace {

using namespace bulwark;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Options {
  http::Url url;
  std::optional<tcp::endpoint> proxy;
  std::string cacert;
  unsigned connections = 1;
  double duration_seconds = 5;
  unsigned threads = 1;
  std::optional<std::uint64_t> expect_bytes;
  milliseconds timeout{10000};  // each connection setup step and each request
};

// What the whole run shares: read-only after setup, except the first error's text.
struct Shared {
  Options options;
  std::shared_ptr<const tls::ClientConfig> tls;
  std::string request;  // the GET's head, the same bytes every time
  std::mutex error_mutex;
  std::string first_error;
  SteadyClock::time_point start;  // of the measured phase, set at the barrier
  SteadyClock::time_point deadline;

  void note_error(const Error& e) {
    std::lock_guard lock(error_mutex);
    if (first_error.empty()) first_error = e.message();
  }
};

// One worker thread's own counts, merged after the run.
struct Tally {
  std::vector<std::int64_t> latencies_ns;  // measured requests completed before the deadline
  std::uint64_t errors = 0;
  std::uint64_t reconnects = 0;
};

// TCP to the proxy, `CONNECT host:port`, and its 2xx answer; the socket is then the tunnel.
net::Task<Result<tcp::socket>> open_tunnel(const Shared& shared) {
  const Options& o = shared.options;
  const std::string authority = net::format_destination(o.url.host, o.url.port);
  // (GCC 12 refuses a string literal inside a co_await expression: names made beforehand.)
  const std::string proxy_name = "the proxy " + net::format_endpoint(*o.proxy);
  std::vector<tcp::endpoint> proxy_endpoints{*o.proxy};
  BW_CO_ASSIGN(tcp::socket socket,
               co_await net::connect(std::move(proxy_endpoints), proxy_name, o.timeout));
  const std::string connect_request =
      "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n";
  boost::system::error_code ec;
  co_await asio::async_write(socket, asio::buffer(connect_request),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return Error(Errc::io_error, "sending CONNECT: " + ec.message());
  // The answer's head, and nothing after it: the server's TLS bytes come only after our
  // ClientHello, so a byte past the empty line would be a proxy error.
  asio::streambuf head(16 * 1024);
  const std::string_view end_of_head = "\r\n\r\n";
  const std::size_t head_size = co_await asio::async_read_until(
      socket, head, end_of_head, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return Error(Errc::io_error, "reading the CONNECT answer: " + ec.message());
  if (head.size() != head_size)
    co_return Error(Errc::decode_failed, "bytes after the CONNECT answer's head");
  const std::string_view text(static_cast<const char*>(head.data().data()), head_size);
  // "HTTP/1.1 200 ..." (RFC 9110 §9.3.6: any 2xx means the tunnel is open).
  if (text.size() < 12 || text.substr(0, 5) != "HTTP/" || text[9] != '2') {
    co_return Error(Errc::io_error,
                    "the proxy refused CONNECT: " + std::string(text.substr(0, text.find('\r'))));
  }
  co_return socket;
}

// Sends the GET and reads the whole response; checks its status and size.
net::Task<Status> exchange(const Shared& shared, net::TlsStream& stream, bool& server_closes) {
  const Options& o = shared.options;
  stream.set_timeout(o.timeout);
  BW_CO_TRY(co_await stream.write(wire::as_bytes(shared.request)));
  http::ResponseParser parser;
  while (parser.state() != http::ResponseParser::State::complete) {
    BW_CO_ASSIGN(wire::Bytes view, co_await stream.read_view());
    if (view.empty()) {
      BW_CO_TRY(parser.finish());
      break;
    }
    std::size_t used = 0;
    while (used < view.size() && parser.state() != http::ResponseParser::State::complete) {
      BW_CO_ASSIGN(std::size_t n, parser.feed(view.subspan(used)));
      if (n == 0) co_return Error(Errc::decode_failed, "the response parser took no bytes");
      used += n;
    }
    stream.consume(used);
  }
  const http::ResponseHead& head = parser.head();
  if (head.status != 200)
    co_return Error(Errc::io_error, "status " + std::to_string(head.status) + " " + head.reason);
  if (o.expect_bytes && parser.body_received() != *o.expect_bytes) {
    co_return Error(Errc::decode_failed, std::to_string(parser.body_received()) +
                                             " body bytes, expected " +
                                             std::to_string(*o.expect_bytes));
  }
  const auto connection = head.find("Connection");
  server_closes = head.version == 10 || (connection && (*connection == "close"));
  co_return Status{};
}

// A connection ready for measured requests: TCP (and the tunnel), TLS handshake, one GET.
net::Task<Result<std::unique_ptr<net::TlsStream>>> open_connection(const Shared& shared) {
  const Options& o = shared.options;
  std::optional<tcp::socket> socket;
  if (o.proxy) {
    BW_CO_ASSIGN(tcp::socket tunnel, co_await open_tunnel(shared));
    socket.emplace(std::move(tunnel));
  } else {
    BW_CO_ASSIGN(std::vector<tcp::endpoint> endpoints,
                 co_await net::resolve(o.url.host, o.url.port, {}, o.timeout));
    BW_CO_ASSIGN(tcp::socket direct,
                 co_await net::connect(std::move(endpoints),
                                       net::format_destination(o.url.host, o.url.port), o.timeout));
    socket.emplace(std::move(direct));
  }
  socket->set_option(tcp::no_delay(true));
  BW_CO_ASSIGN(tls::Connection engine, tls::Connection::client(shared.tls, o.url.host));
  auto stream = std::make_unique<net::TlsStream>(std::move(*socket), std::move(engine));
  stream->set_timeout(o.timeout);
  BW_CO_TRY(co_await stream->handshake());
  bool server_closes = false;
  BW_CO_TRY(co_await exchange(shared, *stream, server_closes));
  if (server_closes) co_return Error(Errc::io_error, "the server does not keep connections alive");
  co_return stream;
}

net::Task<void> close_connection(std::unique_ptr<net::TlsStream> stream) {
  if (!stream) co_return;
  stream->set_timeout(milliseconds(1000));
  (void)co_await stream->shutdown();
  stream->close();
}

// Measured phase of one connection: requests until the deadline.
net::Task<void> run_connection(Shared& shared, Tally& tally,
                               std::unique_ptr<net::TlsStream>& stream) {
  while (SteadyClock::now() < shared.deadline) {
    if (!stream) {
      ++tally.reconnects;
      auto reopened = co_await open_connection(shared);
      if (!reopened) {
        ++tally.errors;
        shared.note_error(reopened.error());
        // A proxy that refuses must not turn this into a busy loop.
        asio::steady_timer pause(co_await asio::this_coro::executor, milliseconds(10));
        co_await pause.async_wait(asio::use_awaitable);
        continue;
      }
      stream = std::move(reopened).value();
    }
    bool server_closes = false;
    const SteadyClock::time_point begin = SteadyClock::now();
    Status done = co_await exchange(shared, *stream, server_closes);
    const SteadyClock::time_point end = SteadyClock::now();
    if (!done) {
      ++tally.errors;
      shared.note_error(done.error());
      stream->close();
      stream.reset();
      continue;
    }
    if (end <= shared.deadline) {
      tally.latencies_ns.push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(end - begin).count());
    }
    if (server_closes) stream.reset();
  }
  co_await close_connection(std::move(stream));
}

// Setup phase of one connection: `slot` stays empty if it fails.
net::Task<void> setup_connection(Shared& shared, std::unique_ptr<net::TlsStream>& slot) {
  auto opened = co_await open_connection(shared);
  if (!opened) {
    shared.note_error(opened.error());
    co_return;
  }
  slot = std::move(opened).value();
}

// One thread: opens its connections, waits for every thread at the barrier, runs them.
// (The streams are declared after the io_context so that, should a time limit leave a
// coroutine pending, they are destroyed while its services still exist.)
template <class Barrier>
void run_thread(Shared& shared, Tally& tally, unsigned connections, Barrier& ready,
                std::atomic<unsigned>& failed_setups) {
  asio::io_context ioc(1);
  std::vector<std::unique_ptr<net::TlsStream>> streams(connections);
  for (auto& slot : streams)
    asio::co_spawn(ioc, setup_connection(shared, slot), asio::detached);
  // Every setup step has its own time limit; this bounds the whole phase anyway.
  ioc.run_for(shared.options.timeout * 3);
  ioc.stop();
  failed_setups.fetch_add(
      static_cast<unsigned>(std::count(streams.begin(), streams.end(), nullptr)));
  ready.arrive_and_wait();
  if (failed_setups.load() != 0) return;

  ioc.restart();
  for (auto& slot : streams)
    asio::co_spawn(ioc, run_connection(shared, tally, slot), asio::detached);
  const auto budget = (shared.deadline - SteadyClock::now()) + shared.options.timeout * 2;
  ioc.run_for(std::chrono::duration_cast<milliseconds>(budget));
  ioc.stop();
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double percentile_ms(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  // Nearest rank: the smallest value with at least p of the samples at or below it.
  const auto rank = static_cast<std::size_t>(p * static_cast<double>(sorted.size()) + 0.999999);
  const std::size_t index = std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1);
  return static_cast<double>(sorted[index]) / 1e6;
}

int usage(const char* message) {
  std::fprintf(stderr,
               "proxy_load: %s\n"
               "usage: proxy_load --url https://HOST:PORT/PATH --cacert CA.pem [--proxy IP:PORT]\n"
               "                  [--connections N] [--duration SECONDS] [--threads N]\n"
               "                  [--expect-bytes N] [--timeout SECONDS]\n",
               message);
  return 2;
}

template <class T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A number above zero into `out`; false (and `out` untouched) for anything else.
template <class T>
bool parse_positive(std::string_view text, T& out) {
  const std::optional<T> n = parse_number<T>(text);
  if (!n || !(*n > 0)) return false;
  out = *n;
  return true;
}

int run(int argc, char** argv) {
  Options o;
  std::string url_text;
  std::string proxy_text;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help") return usage("an HTTPS keep-alive load client, direct or via a proxy");
    if (i + 1 >= argc) return usage(("missing value after " + std::string(arg)).c_str());
    const std::string_view value = argv[++i];
    bool ok = true;
    if (arg == "--url") {
      url_text = value;
    } else if (arg == "--proxy") {
      proxy_text = value;
    } else if (arg == "--cacert") {
      o.cacert = value;
    } else if (arg == "--connections") {
      ok = parse_positive(value, o.connections);
    } else if (arg == "--threads") {
      ok = parse_positive(value, o.threads);
    } else if (arg == "--duration") {
      ok = parse_positive(value, o.duration_seconds);
    } else if (arg == "--timeout") {
      double seconds = 0;
      ok = parse_positive(value, seconds);
      o.timeout = milliseconds(static_cast<std::int64_t>(seconds * 1000));
    } else if (arg == "--expect-bytes") {
      const auto n = parse_number<std::uint64_t>(value);
      ok = n.has_value();
      o.expect_bytes = n;
    } else {
      return usage(("unknown option " + std::string(arg)).c_str());
    }
    if (!ok) return usage(("bad value for " + std::string(arg)).c_str());
  }
  if (url_text.empty() || o.cacert.empty()) return usage("--url and --cacert are required");
  auto url = http::parse_url(url_text);
  if (!url || !url->tls()) return usage("--url must be an https URL");
  o.url = std::move(url).value();
  if (!proxy_text.empty()) {
    auto proxy = net::parse_listen_address(proxy_text);
    if (!proxy) return usage("--proxy must be IP:PORT");
    o.proxy = *proxy;
  }
  o.threads = std::min(o.threads, o.connections);

  auto anchors = crypto::load_certificates_file(o.cacert);
  if (!anchors) {
    std::fprintf(stderr, "proxy_load: %s: %s\n", o.cacert.c_str(),
                 anchors.error().detail().c_str());
    return 1;
  }
  auto trust = crypto::TrustStore::from_certificates(*anchors);
  if (!trust) {
    std::fprintf(stderr, "proxy_load: %s\n", trust.error().detail().c_str());
    return 1;
  }
  auto config = std::make_shared<tls::ClientConfig>();
  config->trust = std::move(trust).value();

  Shared shared;
  shared.options = o;
  shared.tls = config;
  http::RequestSpec spec;
  spec.user_agent = "bulwark-proxy-load";
  // HTTP/1.1 keeps the connection open unless told otherwise (RFC 9112 §9.3).
  spec.headers.push_back({"Connection", std::nullopt});
  shared.request = http::serialize_request(o.url, spec);

  std::printf("proxy_load: %u connection(s) %s to %s, %u thread(s), %g s\n", o.connections,
              o.proxy ? ("via proxy " + net::format_endpoint(*o.proxy)).c_str() : "direct",
              o.url.text().c_str(), o.threads, o.duration_seconds);
  std::fflush(stdout);

  std::atomic<unsigned> failed_setups{0};
  double cpu_at_start = 0;
  const auto duration = std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::duration<double>(o.duration_seconds));
  // Runs once every thread has opened its connections: the measured phase starts now.
  auto start_measuring = [&]() noexcept {
    shared.start = SteadyClock::now();
    shared.deadline = shared.start + duration;
    cpu_at_start = cpu_seconds();
  };
  std::barrier ready(static_cast<std::ptrdiff_t>(o.threads), start_measuring);
  std::vector<Tally> tallies(o.threads);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < o.threads; ++t) {
    const unsigned share = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    threads.emplace_back(
        [&, t, share] { run_thread(shared, tallies[t], share, ready, failed_setups); });
  }
  for (std::thread& t : threads)
    t.join();
  const double client_cpu = cpu_seconds() - cpu_at_start;

  if (failed_setups.load() != 0) {
    std::fprintf(stderr, "proxy_load: %u of %u connections could not be set up: %s\n",
                 failed_setups.load(), o.connections, shared.first_error.c_str());
    return 1;
  }
  std::vector<std::int64_t> latencies;
  std::uint64_t errors = 0;
  std::uint64_t reconnects = 0;
  for (Tally& t : tallies) {
    latencies.insert(latencies.end(), t.latencies_ns.begin(), t.latencies_ns.end());
    errors += t.errors;
    reconnects += t.reconnects;
  }
  std::sort(latencies.begin(), latencies.end());
  const double seconds = o.duration_seconds;
  const double rate = static_cast<double>(latencies.size()) / seconds;
  if (errors != 0)
    std::fprintf(stderr, "proxy_load: %llu error(s), the first: %s\n",
                 static_cast<unsigned long long>(errors), shared.first_error.c_str());
  // The same figures for people, then for scripts.
  const auto print_figures = [&](const char* format) {
    std::printf(format, latencies.size(), seconds, rate, percentile_ms(latencies, 0.50),
                percentile_ms(latencies, 0.90), percentile_ms(latencies, 0.99),
                static_cast<unsigned long long>(errors),
                static_cast<unsigned long long>(reconnects), 100 * client_cpu / seconds);
  };
  print_figures(
      "requests %zu in %.1f s: %.1f requests/s; latency p50 %.3f ms, p90 %.3f ms, "
      "p99 %.3f ms; errors %llu, reconnects %llu; client CPU %.0f %%\n");
  print_figures(
      "result requests=%zu seconds=%.3f requests_per_second=%.1f p50_ms=%.4f "
      "p90_ms=%.4f p99_ms=%.4f errors=%llu reconnects=%llu client_cpu_percent=%.0f\n");
  return latencies.empty() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run(argc, argv);
}
