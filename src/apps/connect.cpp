// `bulwark connect HOST:PORT`: a TLS client in the manner of `openssl s_client -quiet`. Copies
// stdin to the server and the server's data to stdout; verifies the server by default.
#include <unistd.h>

#include <chrono>
#include <memory>

#include "apps/common.hpp"
#include "apps/tls_io.hpp"
#include "bulwark/crypto/random.hpp"
#include "bulwark/tls/session.hpp"

namespace bulwark::apps {

namespace {

constexpr const char* cmd = "connect";
// --reconnect replays stdin on every connection, so it is held in memory: bounded.
constexpr std::size_t max_replayed_input = 64 * 1024 * 1024;

struct ConnectOptions {
  std::string target;
  std::string sni;
  std::string cacert;
  std::string cert;
  std::string key;
  PolicyOptions policy;
  bool insecure = false;
  bool verbose = false;
  bool trace = false;
  double timeout = 0;
  int reconnect = 0;
  bool early_data = false;
  bool ign_eof = false;
  bool key_update = false;
  bool heartbeat = false;
};

void print_parameters(const tls::Connection& conn, const ConnectOptions& o, int number, int total) {
  const tls::SessionInfo& info = conn.info();
  std::lock_guard lock(output_mutex());
  fmt::print(stderr, "connection: {} of {}\n", number, total);
  fmt::print(stderr, "parameters: {}\n", describe_parameters(info));
  fmt::print(stderr, "hello_retry: {}\n", info.hello_retry ? "yes" : "no");
  if (info.version == tls::ProtocolVersion::tls12) {
    fmt::print(stderr, "extended_master_secret: {}\n", info.extended_master_secret ? "yes" : "no");
  }
  fmt::print(stderr, "alpn: {}\n", info.alpn.empty() ? "none" : info.alpn);
  fmt::print(stderr, "resumed: {}\n", info.resumed ? "yes" : "no");
  if (info.early_data != tls::EarlyData::not_offered) {
    fmt::print(stderr, "early_data: {}\n",
               info.early_data == tls::EarlyData::accepted ? "accepted"
                                                           : "rejected (sent again after the "
                                                             "handshake)");
  }
  if (!info.peer_certificates.empty()) {
    fmt::print(stderr, "server certificate: {}\n", info.peer_certificates.front().subject());
  } else {
    fmt::print(stderr, "server certificate: none (resumed session)\n");
  }
  if (o.insecure) {
    fmt::print(stderr, "verification: DISABLED (--insecure)\n");
  } else if (info.peer_verified) {
    fmt::print(stderr, "verification: OK ({})\n",
               info.resumed ? "by the resumed session" : "chain and host name");
  } else {
    fmt::print(stderr, "verification: NOT VERIFIED\n");
  }
}

// Reads all of stdin, up to `limit` bytes.
Result<std::vector<std::uint8_t>> read_stdin(std::size_t limit) {
  std::vector<std::uint8_t> all;
  std::uint8_t buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(Errc::io_error, "cannot read stdin");
    if (n == 0) return all;
    all.insert(all.end(), buf, buf + n);
    if (all.size() > limit) {
      return Error(
          Errc::limit_exceeded,
          fmt::format("stdin is larger than {} MiB, the most --reconnect replays", limit >> 20));
    }
  }
}

int run_connect(const ConnectOptions& o) {
  ignore_sigpipe();
  auto target = parse_host_port(o.target);
  if (!target) return fail(cmd, target.error().detail(), "give HOST:PORT, e.g. example.com:443");
  if (target->port == "0") return fail(cmd, "port 0 cannot be connected to");

  auto cfg = std::make_shared<tls::ClientConfig>();
  if (auto s = apply_policy(o.policy, *cfg); !s) {
    fail(cmd, s.error().detail());
    return exit_usage;
  }
  warn_if_legacy(o.policy, cmd);
  if (o.insecure && !o.cacert.empty()) {
    fail(cmd, "--insecure and --cacert contradict each other", "drop one of them");
    return exit_usage;
  }
  if (!o.cacert.empty()) {
    auto trust = load_trust(o.cacert);
    if (!trust) return fail(cmd, trust.error(), "give a PEM file or a hashed directory of CAs");
    cfg->trust = std::move(trust).value();
  }
  if (o.insecure) {
    cfg->insecure_skip_verification = true;
    fmt::print(stderr,
               "bulwark connect: WARNING: --insecure: the server's certificate is NOT verified; "
               "anyone on the path can impersonate it\n");
  }
  if (o.cert.empty() != o.key.empty()) {
    fail(cmd, "--cert and --key go together", "give both, or neither");
    return exit_usage;
  }
  if (!o.cert.empty()) {
    auto ck = tls::CertifiedKey::load(o.cert, o.key);
    if (!ck) return fail(cmd, ck.error());
    cfg->certificate = std::move(ck).value();
  }
  // Tickets from one connection are offered on the next (--reconnect).
  cfg->sessions = std::make_shared<tls::SessionCache>();
  cfg->early_data = o.early_data;
  cfg->heartbeat = o.heartbeat;
  if (o.trace) install_trace(*cfg, "");
  if (auto s = install_key_log_from_environment(*cfg, cmd); !s) return fail(cmd, s.error());

  // The name the certificate must hold (and SNI, unless it is an IP address).
  const std::string server_name = o.sni.empty() ? target->host : o.sni;
  const auto timeout = std::chrono::milliseconds(static_cast<long long>(o.timeout * 1000));

  std::vector<std::uint8_t> replay;
  if (o.reconnect > 0) {
    auto all = read_stdin(max_replayed_input);
    if (!all) return fail(cmd, all.error());
    replay = std::move(all).value();
  }

  const int total = o.reconnect + 1;
  std::vector<std::uint8_t> heartbeat_payload;
  for (int number = 1; number <= total; ++number) {
    auto socket = tcp_connect(*target, timeout.count() > 0 ? timeout : std::chrono::seconds(30));
    if (!socket) return fail(cmd, socket.error().detail(), "is the server running?");
    auto conn = tls::Connection::client(cfg, server_name);
    if (!conn) return fail(cmd, conn.error());

    DriveOptions d;
    if (o.reconnect > 0) {
      d.input = &replay;
      // 0-RTT: on a resumed connection the input goes out with the ClientHello; if the server
      // refuses it, it is sent again after the handshake.
      if (o.early_data && number > 1 && !replay.empty()) {
        d.input_sent_as_early_data = conn->send_early_data(replay).ok();
        if (o.verbose && !d.input_sent_as_early_data) {
          fmt::print(stderr, "early_data: not possible (no ticket allowing {} bytes)\n",
                     replay.size());
        }
      }
    } else {
      d.input_fd = STDIN_FILENO;
    }
    d.output_fd = STDOUT_FILENO;
    d.close_at_input_end = !o.ign_eof;
    d.idle_timeout = timeout;
    if (timeout.count() > 0) d.handshake_timeout = timeout;
    d.on_handshake = [&](tls::Connection& c) -> Status {
      if (o.verbose) print_parameters(c, o, number, total);
      if (o.key_update && number == 1) {
        if (c.info().version != tls::ProtocolVersion::tls13) {
          return Error(Errc::unsupported, "--key-update needs TLS 1.3 (this connection is not)");
        }
        BW_TRY(c.update_keys(true));
        if (o.verbose) fmt::print(stderr, "key_update: sent, peer asked to update too\n");
      }
      if (o.heartbeat && number == 1) {
        if (!c.info().heartbeat) {
          fmt::print(stderr, "heartbeat: not negotiated ({})\n",
                     c.info().version == tls::ProtocolVersion::tls13
                         ? "TLS 1.3 has no heartbeat; try --tls-max 1.2"
                         : "the server does not offer it");
        } else {
          heartbeat_payload.resize(16);
          BW_TRY(crypto::SystemRandom::instance().fill(heartbeat_payload));
          BW_TRY(c.send_heartbeat(heartbeat_payload));
          fmt::print(stderr, "heartbeat: request sent ({} bytes of payload)\n",
                     heartbeat_payload.size());
        }
      }
      return {};
    };
    const DriveResult r = drive(socket->get(), *conn, d);
    if (!heartbeat_payload.empty()) {
      // RFC 6520 §4: the answer carries exactly our payload.
      auto reply = conn->take_heartbeat_response();
      if (!reply) return fail(cmd, "heartbeat: no reply from the server");
      fmt::print(stderr, "heartbeat: reply received, payload {}\n",
                 *reply == heartbeat_payload ? "matches" : "DIFFERS");
      heartbeat_payload.clear();
    }
    switch (r.end) {
      case DriveEnd::clean:
      case DriveEnd::stopped:
        if (o.verbose) fmt::print(stderr, "closed: cleanly (close_notify both ways)\n");
        break;
      case DriveEnd::tls_error: {
        const FailureText t = describe_failure(*conn, r.handshake_completed);
        return fail(cmd, t.cause, t.remedy);
      }
      case DriveEnd::timeout:
        return fail(cmd, "timed out: " + r.detail, "raise --timeout, or check the server");
      case DriveEnd::io_error:
        return fail(cmd, r.detail);
    }
  }
  return exit_ok;
}

}  // namespace

void register_connect(CLI::App& app, Action& run) {
  auto o = std::make_shared<ConnectOptions>();
  auto* c = app.add_subcommand(
      "connect",
      "TLS client: copy stdin to HOST:PORT and its data to stdout (like openssl s_client -quiet)");
  c->add_option("HOST:PORT", o->target, "Server to connect to ([v6]:port for IPv6)")->required();
  c->add_option("--sni", o->sni,
                "Server name to send and verify the certificate against (default: HOST)");
  c->add_option("--cacert", o->cacert,
                "Trust anchors: PEM file or hashed directory (default: the system store)");
  c->add_option("--cert", o->cert, "Client certificate chain (PEM), sent if the server asks");
  c->add_option("--key", o->key, "Private key of --cert (PEM)");
  c->add_option("--alpn", o->policy.alpn, "ALPN protocols to offer, comma-separated (h2,http/1.1)");
  add_policy_options(*c, o->policy, "servers");
  c->add_flag("--insecure", o->insecure,
              "Do not verify the server's certificate (anyone can impersonate the server)");
  c->add_flag("-v,--verbose", o->verbose, "Print the negotiated parameters to stderr");
  c->add_flag("--trace", o->trace, "Print every handshake message to stderr");
  c->add_option("--timeout", o->timeout,
                "Give up after S seconds without progress (default: 30 s for the handshake, "
                "no limit after it)")
      ->check(CLI::Range(0.0, 86400.0));
  c->add_flag("--early-data", o->early_data,
              "With --reconnect: send the input as TLS 1.3 0-RTT data on resumed connections "
              "(replayable by an attacker: only for requests safe to repeat)");
  c->add_option("--reconnect", o->reconnect,
                "Connect N more times, resuming with the tickets received; stdin is read first "
                "and sent on every connection")
      ->check(CLI::Range(0, 1000));
  c->add_flag("--ign-eof", o->ign_eof,
              "At the end of stdin, do not send close_notify: read until the server closes "
              "(for servers that stop at our close_notify, like openssl s_client -ign_eof)");
  c->add_flag("--heartbeat", o->heartbeat,
              "TLS 1.2: negotiate the heartbeat extension, send one request after the "
              "handshake and report the reply");
  c->add_flag("--key-update", o->key_update,
              "After the handshake, update our keys and ask the server to update its keys "
              "(TLS 1.3)");
  c->callback([o, &run] { run = [o] { return run_connect(*o); }; });
}

}  // namespace bulwark::apps
