// `bulwark proxy`: the intercepting HTTPS proxy (see include/bulwark/proxy/proxy.hpp).
#include <fmt/core.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "apps/common.hpp"
#include "apps/data_dir.hpp"
#include "apps/tls_io.hpp"
#include "bulwark/crypto/certificate.hpp"
#include "bulwark/net/connect.hpp"
#include "bulwark/net/server.hpp"
#include "bulwark/proxy/flow.hpp"
#include "bulwark/proxy/minter.hpp"
#include "bulwark/proxy/proxy.hpp"

namespace bulwark::apps {

namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

struct ProxyCliOptions {
  std::string listen = "127.0.0.1:8080";
  std::string ca_dir;
  std::vector<std::string> upstream_cacerts;
  bool upstream_insecure = false;
  std::vector<std::string> passthrough;
  std::vector<std::string> resolve;
  unsigned workers = 1;
  std::size_t cache = 1000;
  int connect_timeout = 10;
  int handshake_timeout = 10;
  int idle_timeout = 120;
  std::size_t max_connections = 10000;
  std::size_t max_handshakes = proxy::ProxyOptions{}.max_handshakes;
  double connection_rate = proxy::ProxyOptions{}.connection_rate;
  std::string log_flows;
  std::vector<std::string> replace;
  std::size_t max_rewrite_body = 16 * 1024 * 1024;
};

struct LoadedCa {
  fs::path cert_file;
  crypto::Certificate cert;
  crypto::PrivateKey key;
  bool created = false;
};

Result<LoadedCa> load_ca(const std::string& dir_text) {
  if (dir_text.empty()) {
    BW_ASSIGN(const fs::path dir, data_directory());
    BW_ASSIGN(LocalCa ca, ensure_local_ca(dir));
    return LoadedCa{ca.cert_file, std::move(ca.cert), std::move(ca.key), ca.created};
  }
  // A CA made by `bulwark ca init DIR`: loaded, never created here (a typo must not mint a new
  // CA that no client trusts).
  const fs::path dir(dir_text);
  BW_ASSIGN(crypto::Certificate cert, crypto::load_certificate_file(dir / "ca.crt"));
  BW_ASSIGN(crypto::PrivateKey key, crypto::PrivateKey::load_file(dir / "ca.key"));
  if (!cert.is_ca())
    return Error(Errc::cert_invalid, (dir / "ca.crt").string() + " is not a CA certificate");
  return LoadedCa{dir / "ca.crt", std::move(cert), std::move(key), false};
}

int run_proxy(const ProxyCliOptions& o) {
  const char* cmd = "proxy";
  Result<LoadedCa> ca = load_ca(o.ca_dir);
  if (!ca)
    return fail(cmd, ca.error(), "give --ca DIR holding ca.crt and ca.key (bulwark ca init DIR)");

  auto upstream = std::make_shared<tls::ClientConfig>();
  if (o.upstream_insecure) {
    upstream->insecure_skip_verification = true;
  } else if (!o.upstream_cacerts.empty()) {
    std::vector<crypto::Certificate> anchors;
    for (const std::string& file : o.upstream_cacerts) {
      auto certs = crypto::load_certificates_file(file);
      if (!certs) return fail(cmd, certs.error(), "give a PEM file of CA certificates");
      anchors.insert(anchors.end(), certs->begin(), certs->end());
    }
    auto trust = crypto::TrustStore::from_certificates(anchors);
    if (!trust) return fail(cmd, trust.error());
    upstream->trust = std::move(trust).value();
  }

  proxy::MinterOptions minter_options;
  minter_options.ca_cert = ca->cert;
  minter_options.ca_key = ca->key;
  minter_options.capacity = o.cache;
  auto minter = proxy::CertificateMinter::create(std::move(minter_options));
  if (!minter) return fail(cmd, minter.error());

  proxy::ProxyOptions options;
  options.listen = {o.listen};
  options.workers = o.workers;
  options.minter = *minter;
  options.upstream = upstream;
  options.passthrough = o.passthrough;
  for (const std::string& r : o.resolve) {
    auto parsed = net::parse_resolve_override(r);
    if (!parsed) return fail(cmd, parsed.error(), "write --resolve HOST:PORT:ADDR");
    options.resolve.push_back(std::move(parsed).value());
  }
  options.timeouts.connect = seconds(o.connect_timeout);
  options.timeouts.handshake = seconds(o.handshake_timeout);
  options.timeouts.idle = seconds(o.idle_timeout);
  options.max_connections = o.max_connections;
  options.max_handshakes = o.max_handshakes;
  options.connection_rate = o.connection_rate;
  for (const std::string& text : o.replace) {
    auto rule = proxy::parse_replace_rule(text);
    if (!rule)
      return fail(cmd, rule.error(),
                  "write --replace request:FROM:TO or response:FROM:TO (the character after "
                  "the scope is the separator: request|a:b|c)");
    options.replace.push_back(std::move(rule).value());
  }
  options.max_rewrite_body = o.max_rewrite_body;
  if (!o.log_flows.empty()) {
    auto flow_log = proxy::FlowLog::open(o.log_flows);
    if (!flow_log) return fail(cmd, flow_log.error(), "give a writable file to --log-flows");
    options.flow_log = std::move(flow_log).value();
  }
  options.handle_signals = true;
  auto proxy = proxy::Proxy::create(std::move(options));
  if (!proxy)
    return fail(cmd, proxy.error().detail(),
                "is the port already in use, or the address not local?");

  if (ca->created)
    fmt::print(stderr, "bulwark proxy: created a local CA: {}\n", ca->cert_file.string());
  fmt::print(stderr,
             "bulwark proxy: listening on {} (CA {}; clients must trust it: curl --cacert {})\n",
             net::format_endpoint((*proxy)->endpoints().front()), ca->cert_file.string(),
             ca->cert_file.string());
  if (o.upstream_insecure)
    fmt::print(stderr, "bulwark proxy: upstream verification DISABLED (--upstream-insecure)\n");
  std::fflush(stderr);
  (*proxy)->run();
  fmt::print(stderr, "bulwark proxy: stopped\n");
  return exit_ok;
}

}  // namespace

void register_proxy(CLI::App& app, Action& run) {
  auto o = std::make_shared<ProxyCliOptions>();
  CLI::App* s = app.add_subcommand(
      "proxy",
      "Intercepting HTTPS proxy: CONNECT tunnels decrypted with certificates minted by a CA");
  s->add_option("--listen", o->listen, "Address and port to listen on")->default_val(o->listen);
  s->add_option("--ca", o->ca_dir,
                "CA directory (ca.crt, ca.key) from `bulwark ca init`; default: the local CA of "
                "the data directory, created on first run");
  s->add_option(
      "--upstream-cacert", o->upstream_cacerts,
      "Trust these CA certificates (PEM) for upstream servers instead of the system store");
  s->add_flag("--upstream-insecure", o->upstream_insecure,
              "Do not verify upstream certificates (anyone can then impersonate them)");
  s->add_option("--passthrough", o->passthrough,
                "Tunnel HOST without interception (repeatable; *.example.org for a domain)");
  s->add_option("--resolve", o->resolve, "Connect HOST:PORT to ADDR instead of resolving it");
  s->add_option("--workers", o->workers, "Event loops, one thread each")->default_val(o->workers);
  s->add_option("--cert-cache", o->cache, "Minted certificates kept")->default_val(o->cache);
  s->add_option("--connect-timeout", o->connect_timeout, "Seconds to connect upstream")
      ->default_val(o->connect_timeout);
  s->add_option("--handshake-timeout", o->handshake_timeout, "Seconds a TLS handshake may take")
      ->default_val(o->handshake_timeout);
  s->add_option("--idle-timeout", o->idle_timeout, "Seconds a relayed connection may stay idle")
      ->default_val(o->idle_timeout);
  s->add_option("--max-connections", o->max_connections, "Client connections open at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}))
      ->default_val(o->max_connections);
  s->add_option("--max-handshakes", o->max_handshakes,
                "CONNECT tunnels in their TLS handshakes at once (more get a 503)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}))
      ->default_val(o->max_handshakes);
  s->add_option("--connection-rate", o->connection_rate,
                "New client connections per second per client address (/32, IPv6 /64), bursts "
                "of twice that; 0: no limit")
      ->check(CLI::Range(0.0, 1e9))
      ->default_val(o->connection_rate);
  s->add_option("--log-flows", o->log_flows,
                "Append one JSON line per HTTP request relayed to FILE (time, client, method, "
                "URL, status, sizes, upstream TLS, durations)");
  s->add_option("--replace", o->replace,
                "Rewrite: request:FROM:TO (request target and body) or response:FROM:TO "
                "(response body), literal text, repeatable; any punctuation character after "
                "the scope is the separator (request|a:b|c)");
  s->add_option("--max-rewrite-body", o->max_rewrite_body,
                "Bodies larger than this many bytes pass unchanged by --replace")
      ->default_val(o->max_rewrite_body);
  s->callback([o, &run] { run = [o] { return run_proxy(*o); }; });
}

}  // namespace bulwark::apps
