// `bulwark listen ADDR:PORT`: a TLS server for tests and debugging, in the manner of
// `openssl s_server`. Each connection's data goes to stdout, back to the client (--echo), or
// is answered with a canned response (--respond FILE). Connections run on long-lived threads,
// one connection per thread at a time.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "apps/common.hpp"
#include "apps/tls_io.hpp"
#include "bulwark/tls/session.hpp"

namespace bulwark::apps {

namespace {

constexpr const char* cmd = "listen";

struct ListenOptions {
  std::string address;
  std::string cert;
  std::string key;
  std::string chain;
  bool echo = false;
  std::string respond;
  PolicyOptions policy;
  std::string client_ca;
  std::string verify_client;
  bool once = false;
  int max_connections = 64;
  std::uint32_t max_early_data = 0;
  bool heartbeat = false;
  double timeout = 0;
  bool verbose = false;
  bool quiet = false;
  bool trace = false;
};

// Everything a connection thread needs; shared, immutable once the server runs.
struct Server {
  const ListenOptions& options;
  std::shared_ptr<const tls::ServerConfig> config;
  std::vector<std::uint8_t> response;  // --respond
  int stop_fd = -1;
};

// One line per connection once its handshake is done.
void print_connection(const std::string& peer, const tls::Connection& conn) {
  const tls::SessionInfo& info = conn.info();
  const std::string client_cert =
      info.peer_certificates.empty() ? "none" : info.peer_certificates.front().subject();
  std::lock_guard lock(output_mutex());
  const char* early = info.early_data == tls::EarlyData::accepted   ? " early_data=accepted"
                      : info.early_data == tls::EarlyData::rejected ? " early_data=rejected"
                                                                    : "";
  fmt::print(stderr, "bulwark listen: {} {} sni={} alpn={} resumed={} hello_retry={} client={}{}\n",
             peer, describe_parameters(info), info.server_name.empty() ? "none" : info.server_name,
             info.alpn.empty() ? "none" : info.alpn, info.resumed ? "yes" : "no",
             info.hello_retry ? "yes" : "no", client_cert, early);
}

// Serves one accepted connection; true when it ended cleanly.
bool serve(const Server& server, Fd socket, const PeerAddress& peer, std::uint64_t number) {
  const ListenOptions& o = server.options;
  std::shared_ptr<const tls::ServerConfig> config = server.config;
  if (o.trace) {
    // A copy per connection, so that trace lines say which connection they belong to.
    auto traced = std::make_shared<tls::ServerConfig>(*config);
    install_trace(*traced, fmt::format("[#{} {}]", number, peer.text()));
    config = std::move(traced);
  }
  auto conn = tls::Connection::server(config);
  if (!conn) {
    fail(cmd, fmt::format("{}: {}", peer.text(), conn.error().message()));
    return false;
  }
  DriveOptions d;
  d.echo = o.echo;
  d.output_fd = o.echo ? -1 : STDOUT_FILENO;
  d.respond = o.respond.empty() ? nullptr : &server.response;
  d.close_at_input_end = false;
  const auto timeout = std::chrono::milliseconds(static_cast<long long>(o.timeout * 1000));
  d.idle_timeout = timeout;
  if (timeout.count() > 0) d.handshake_timeout = timeout;
  d.stop_fd = server.stop_fd;
  if (!o.quiet) {
    d.on_handshake = [&peer](tls::Connection& c) -> Status {
      print_connection(peer.text(), c);
      return {};
    };
  }
  const DriveResult r = drive(socket.get(), *conn, d);
  std::lock_guard lock(output_mutex());
  switch (r.end) {
    case DriveEnd::clean:
      if (o.verbose) fmt::print(stderr, "bulwark listen: {} closed cleanly\n", peer.text());
      return true;
    case DriveEnd::stopped:
      if (o.verbose) fmt::print(stderr, "bulwark listen: {} closed: stopping\n", peer.text());
      return true;
    case DriveEnd::tls_error: {
      // --quiet: a client that completed the handshake and left without close_notify before
      // any data (a handshake-only client, s_time) endangered nothing: no line for it.
      const tls::Failure* f = conn->failure();
      if (o.quiet && r.handshake_completed && !r.data_received && f != nullptr &&
          f->kind == tls::Failure::Kind::transport) {
        return true;
      }
      const FailureText t = describe_failure(*conn, r.handshake_completed);
      fail(cmd, fmt::format("{}: {}", peer.text(), t.cause), t.remedy);
      return false;
    }
    case DriveEnd::timeout:
      fail(cmd, fmt::format("{}: timed out: {}", peer.text(), r.detail));
      return false;
    case DriveEnd::io_error:
      fail(cmd, fmt::format("{}: {}", peer.text(), r.detail));
      return false;
  }
  return false;
}

Result<std::shared_ptr<tls::ServerConfig>> make_config(const ListenOptions& o) {
  auto cfg = std::make_shared<tls::ServerConfig>();
  BW_TRY(apply_policy(o.policy, *cfg));
  BW_ASSIGN(tls::CertifiedKey ck, tls::CertifiedKey::load(o.cert, o.key, o.chain));
  cfg->certificates.push_back(std::move(ck));
  if (!o.client_ca.empty()) {
    BW_ASSIGN(cfg->client_trust, load_trust(o.client_ca));
    cfg->client_auth =
        o.verify_client == "optional" ? tls::ClientAuth::optional : tls::ClientAuth::required;
  }
  // One set of ticket keys (and one TLS 1.2 session-id cache) for every connection, so that
  // any of them can resume.
  BW_ASSIGN(cfg->tickets, tls::TicketKeys::create());
  cfg->max_early_data = o.max_early_data;
  cfg->heartbeat = o.heartbeat;
  cfg->session_cache = std::make_shared<tls::ServerSessionCache>();
  return cfg;
}

int run_listen(const ListenOptions& o) {
  ignore_sigpipe();
  auto where = parse_host_port(o.address);
  if (!where) {
    fail(cmd, where.error().detail(), "give ADDR:PORT, e.g. 127.0.0.1:4433 or [::1]:0");
    return exit_usage;
  }
  if (!o.verify_client.empty() && o.client_ca.empty()) {
    fail(cmd, "--verify-client needs --client-ca", "give the CA that issues client certificates");
    return exit_usage;
  }
  auto cfg = make_config(o);
  if (!cfg) {
    const Errc c = cfg.error().code();
    if (c == Errc::invalid_argument || c == Errc::unsupported) {
      fail(cmd, cfg.error().detail());
      return exit_usage;
    }
    return fail(cmd, cfg.error());
  }
  warn_if_legacy(o.policy, cmd);
  if (auto s = install_key_log_from_environment(**cfg, cmd); !s) return fail(cmd, s.error());
  Server server{o, *cfg, {}, stop_signal_fd()};
  if (!o.respond.empty()) {
    auto body = read_file(o.respond);
    if (!body) return fail(cmd, body.error());
    server.response.assign(body->begin(), body->end());
  }

  auto listener = tcp_listen(*where);
  if (!listener) return fail(cmd, listener.error().detail(), "is the port already in use?");
  fmt::print(stderr, "listening on {}\n", listener->address);
  std::fflush(stderr);

  if (o.once) {
    PeerAddress peer;
    auto socket = tcp_accept(*listener, server.stop_fd, peer);
    if (!socket) return socket.error() == Errc::closed ? exit_ok : fail(cmd, socket.error());
    listener->fd = Fd();  // nobody else is served: refuse further connections
    return serve(server, std::move(socket).value(), peer, 1) ? exit_ok : exit_failure;
  }

  // Leader/followers: every idle connection thread waits in accept() on the listener itself,
  // so the kernel hands a new connection straight to one of them (no hand-off between threads,
  // which costs two context switches per connection). A thread serves one connection after
  // another, so what libcrypto and the engine keep per thread (random pools, DRBGs, hash
  // contexts) is built once. At most --max-connections threads; more clients wait in the
  // backlog. The listener is made blocking for this (tcp_listen returns it non-blocking).
  const int listen_fd = listener->fd.get();
  if (const int flags = ::fcntl(listen_fd, F_GETFL);
      flags < 0 || ::fcntl(listen_fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return fail(cmd, Error(Errc::io_error, "cannot make the listening socket blocking"));
  }
  const auto max_threads = static_cast<std::size_t>(o.max_connections);
  std::mutex mu;
  std::vector<std::thread> threads;
  bool closing = false;
  std::atomic<std::size_t> accepting{0};  // threads waiting in accept()
  std::atomic<std::uint64_t> number{0};
  std::atomic<bool> accept_failed{false};
  std::function<void()> spawn;
  auto connection_thread = [&] {
    for (;;) {
      PeerAddress peer;
      accepting.fetch_add(1);
      auto socket = tcp_accept(*listener, -1, peer);
      const std::size_t still_accepting = accepting.fetch_sub(1) - 1;
      if (!socket) {
        // Errc::closed: the listener was shut down (we are stopping).
        if (socket.error() != Errc::closed && !accept_failed.exchange(true)) {
          (void)fail(cmd, socket.error());
        }
        return;
      }
      // Keep one thread in accept() while this one serves.
      if (still_accepting == 0) spawn();
      (void)serve(server, std::move(socket).value(), peer, number.fetch_add(1) + 1);
    }
  };
  spawn = [&] {
    std::lock_guard lock(mu);
    if (!closing && threads.size() < max_threads) threads.emplace_back(connection_thread);
  };
  spawn();
  // Until SIGINT / SIGTERM (or a failing accept): then shutting the listener down wakes every
  // thread blocked in accept(); connections in progress send close_notify (they watch stop_fd)
  // and end.
  while (!stop_requested() && !accept_failed.load()) {
    pollfd p{server.stop_fd, POLLIN, 0};
    (void)::poll(&p, 1, 200);
  }
  {
    std::lock_guard lock(mu);
    closing = true;
  }
  ::shutdown(listen_fd, SHUT_RDWR);
  for (auto& t : threads)
    t.join();
  return accept_failed.load() ? exit_failure : exit_ok;
}

}  // namespace

void register_listen(CLI::App& app, Action& run) {
  auto o = std::make_shared<ListenOptions>();
  auto* l = app.add_subcommand(
      "listen", "TLS server: accept connections on ADDR:PORT and print, echo or answer their data");
  l->add_option("ADDR:PORT", o->address,
                "Address to listen on: 127.0.0.1:4433, [::1]:4433, localhost:0 (0: a free port, "
                "printed on stderr)")
      ->required();
  l->add_option("--cert", o->cert, "Server certificate (PEM; more certificates follow the leaf)")
      ->required();
  l->add_option("--key", o->key, "Private key of --cert (PEM)")->required();
  l->add_option("--chain", o->chain, "Intermediate certificates to send after --cert (PEM)");
  auto* echo = l->add_flag("--echo", o->echo, "Send each client's data back to it");
  l->add_option("--respond", o->respond,
                "After a client's first data, send it FILE's bytes and close (e.g. a canned "
                "HTTP response for curl)")
      ->excludes(echo);
  l->add_option("--alpn", o->policy.alpn, "ALPN protocols we accept, in preference order");
  l->add_option("--client-ca", o->client_ca,
                "Ask clients for a certificate issued by these CAs (PEM file or directory)");
  l->add_option("--verify-client", o->verify_client,
                "With --client-ca: require a client certificate, or accept its absence "
                "(default: require)")
      ->check(CLI::IsMember({"optional", "require"}));
  add_policy_options(*l, o->policy, "clients");
  l->add_flag("--once", o->once, "Exit after the first connection ends (status: its outcome)");
  l->add_flag("--heartbeat", o->heartbeat,
              "TLS 1.2: answer heartbeat requests (RFC 6520; length-checked, rate-limited)");
  l->add_option("--max-early-data", o->max_early_data,
                "Accept TLS 1.3 0-RTT data up to N bytes on resumed connections (default 0: "
                "refused; early data can be replayed by an attacker)");
  l->add_option("--max-connections", o->max_connections, "Connections served at the same time")
      ->check(CLI::Range(1, 10000))
      ->default_val(o->max_connections);
  l->add_option("--timeout", o->timeout,
                "Drop a connection after S seconds without progress (default: 30 s for the "
                "handshake, no limit after it)")
      ->check(CLI::Range(0.0, 86400.0));
  auto* verbose = l->add_flag("-v,--verbose", o->verbose, "Also say how each connection ended");
  l->add_flag(
       "-q,--quiet", o->quiet,
       "No line per connection (like s_server -quiet); failures are still reported, but not a "
       "client leaving without close_notify before any data")
      ->excludes(verbose);
  l->add_flag("--trace", o->trace, "Print every handshake message to stderr");
  l->callback([o, &run] { run = [o] { return run_listen(*o); }; });
}

}  // namespace bulwark::apps
