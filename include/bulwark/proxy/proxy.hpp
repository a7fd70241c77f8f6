// proxy::Proxy: the intercepting HTTPS proxy behind `bulwark proxy`.
//
// An explicit proxy: clients send `CONNECT host:port` (or a plain-HTTP request in absolute
// form). For a CONNECT it
//   1. connects to host:port and runs a verified TLS handshake with it (system store or the
//      configured anchors, host name checked) BEFORE answering, so that a refused upstream is
//      a 502 (504 on a time limit) whose body and log line say why;
//   2. answers 200, reads the client's ClientHello, and takes its SNI (else the CONNECT host);
//      if the SNI names another host, the upstream connection is made again for that name;
//   3. presents a leaf minted by the CertificateMinter for the upstream leaf's names;
//   4. relays HTTP/1.1 exchange by exchange (keep-alive; bodies streamed, Content-Length or
//      chunked; hop-by-hop fields dropped; optional rewriting and a flow log line per request),
//      reconnecting upstream when the server ends a connection the client keeps. Bytes that do
//      not start like an HTTP request, a client silent for timeouts.first_request (a protocol
//      where the server speaks first), and everything after a 101 or a CONNECT inside the
//      tunnel are relayed raw both ways, passing close_notify on, under an idle time limit.
// A client that does not start TLS after the 200 gets a plain tunnel; a passthrough host gets
// a plain tunnel without interception. Absolute-form requests ("GET http://host/ HTTP/1.1")
// get the same HTTP relay over plain TCP, one upstream connection per origin at a time.
//
// N workers, each an io_context on its own thread with its own SO_REUSEPORT acceptor; a
// connection's coroutines all run on its worker's thread, so they share its state without
// locks.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/net/connect.hpp"
#include "bulwark/proxy/flow.hpp"
#include "bulwark/proxy/minter.hpp"
#include "bulwark/result.hpp"
#include "bulwark/tls/config.hpp"

namespace bulwark::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct ProxyTimeouts {
  // The client's request head (the CONNECT line), and its ClientHello after the 200.
  std::chrono::milliseconds request_head{30000};
  // Name resolution and TCP connection to the upstream.
  std::chrono::milliseconds connect{10000};
  // Each TLS handshake (upstream and client side).
  std::chrono::milliseconds handshake{10000};
  // A relayed connection with no byte moving either way for this long is closed (this is also
  // how long the proxy waits for each response head).
  std::chrono::milliseconds idle{120000};
  // An intercepted tunnel whose client sends nothing this long after the handshake is relayed
  // raw from then on: the server may be the one to speak first (SMTP, IMAP, ...).
  std::chrono::milliseconds first_request{2000};
};

struct ProxyOptions {
  std::vector<std::string> listen = {"127.0.0.1:8080"};
  unsigned workers = 1;
  std::shared_ptr<CertificateMinter> minter;  // required
  // The upstream side: trust anchors (empty: the system store) and policy. Verification is on
  // unless its insecure_skip_verification says otherwise.
  std::shared_ptr<const tls::ClientConfig> upstream;  // required
  // Hosts tunnelled without interception: exact names, or "*.example.org" for every name
  // below example.org. Compared without regard to case.
  std::vector<std::string> passthrough;
  // curl's --resolve entries for upstream connections (tests point names at loopback).
  std::vector<net::ResolveOverride> resolve;
  ProxyTimeouts timeouts;
  std::size_t max_connections = 10000;  // client connections open at once
  // New client connections per second from one source (an IPv4 /32, an IPv6 /64), bursts of
  // twice that; 0: no limit. An intercepted CONNECT costs two TLS handshakes (the THC flood's
  // lever, doubled), so a source that opens them flat out is cut off at accept.
  double connection_rate = 100;
  // CONNECT tunnels in their handshake phase (upstream connect + TLS, then the client's TLS)
  // at once; more get a 503 before any handshake starts.
  std::size_t max_handshakes = 1000;
  std::size_t max_request_head = 64 * 1024;
  std::size_t max_response_head = 64 * 1024;
  // --replace rules, applied to the request target, request bodies and response bodies.
  std::vector<ReplaceRule> replace;
  // A body to rewrite is held in memory up to this size; a larger one passes unchanged (and
  // its flow line says so).
  std::size_t max_rewrite_body = 16 * 1024 * 1024;
  // --log-flows: one JSON line per HTTP request relayed (none: no flow log).
  std::shared_ptr<FlowLog> flow_log;
  // SIGINT / SIGTERM call stop().
  bool handle_signals = false;
  // One line per event worth a human's attention (refused upstreams, bad requests); no
  // newline. Default: "bulwark proxy: LINE" on stderr.
  std::function<void(std::string_view)> log;
};

struct ProxyStats {
  std::uint64_t accepted = 0;
  std::uint64_t open = 0;
  std::uint64_t intercepted = 0;           // CONNECT tunnels decrypted
  std::uint64_t tunnelled = 0;             // passthrough and non-TLS CONNECT tunnels
  std::uint64_t plain_http = 0;            // absolute-form requests forwarded
  std::uint64_t bad_gateway = 0;           // 502 answers
  std::uint64_t gateway_timeout = 0;       // 504 answers
  std::uint64_t refused = 0;               // over max_connections or the per-source rate
  std::uint64_t http_requests = 0;         // HTTP exchanges relayed (each a flow line)
  std::uint64_t upstream_connections = 0;  // TCP connections opened upstream
};

// Whether `host` is one of `patterns` (exact, or below a "*." pattern's domain).
bool matches_host_pattern(const std::vector<std::string>& patterns, std::string_view host);

class Proxy {
 public:
  // Binds every listen address for every worker.
  static Result<std::unique_ptr<Proxy>> create(ProxyOptions options);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  // The bound addresses, in the order of ProxyOptions::listen.
  const std::vector<tcp::endpoint>& endpoints() const noexcept { return endpoints_; }
  // Serves until stop(): worker 0 on the calling thread, the others on threads of their own.
  void run();
  // Thread-safe, idempotent: stops accepting and ends every connection.
  void stop();
  ProxyStats stats() const noexcept;

  struct Counters;
  struct Worker;

 private:
  explicit Proxy(ProxyOptions options);

  ProxyOptions options_;
  std::vector<tcp::endpoint> endpoints_;
  std::unique_ptr<Counters> counters_;
  std::atomic<bool> stopping_{false};
  // Last: destroyed first, with the coroutine frames their event loops still hold.
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace bulwark::proxy
