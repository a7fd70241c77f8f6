// `bulwark serve [DIR]`: an HTTPS static-file server (net::Server + net::serve_http over an
// http::StaticSite). Without --cert/--key it uses the local CA's localhost certificate from
// the data directory (created on first run) and says how to trust it.
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "apps/common.hpp"
#include "apps/data_dir.hpp"
#include "apps/tls_io.hpp"
#include "bulwark/crypto/hostname.hpp"
#include "bulwark/http/static_site.hpp"
#include "bulwark/net/http_service.hpp"
#include "bulwark/net/server.hpp"
#include "bulwark/tls/cipher_suites.hpp"
#include "bulwark/tls/session.hpp"

namespace bulwark::apps {

namespace {

constexpr const char* cmd = "serve";

struct ServeOptions {
  std::string root;
  std::vector<std::string> listen;
  std::vector<std::string> certs;
  std::vector<std::string> keys;
  std::vector<std::string> chains;
  unsigned workers = 0;
  PolicyOptions policy;
  std::string client_ca;
  std::string verify_client;
  std::string access_log;
  bool no_listing = false;
  double handshake_timeout = 10;
  double header_timeout = 10;
  double idle_timeout = 60;
  double shutdown_grace = 10;
  std::size_t max_connections = net::ServerLimits{}.max_connections;
  std::size_t max_handshakes = net::ServerLimits{}.max_handshakes;
  double handshake_rate = net::ServerLimits{}.handshake_rate;
};

std::chrono::milliseconds seconds(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

std::string date(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

// "https://127.0.0.1:8443/", with a wildcard address replaced by its loopback.
std::string url_for(const net::tcp::endpoint& e) {
  net::tcp::endpoint shown = e;
  if (e.address().is_unspecified()) {
    shown.address(e.address().is_v6()
                      ? net::asio::ip::address(net::asio::ip::address_v6::loopback())
                      : net::asio::ip::address(net::asio::ip::address_v4::loopback()));
  }
  return "https://" + net::format_endpoint(shown) + "/";
}

std::string describe_certificate(const tls::CertifiedKey& ck) {
  const crypto::Certificate& leaf = ck.chain.front();
  std::vector<std::string> names = leaf.dns_names();
  for (const std::string& ip : leaf.ip_address_texts())
    names.push_back(ip);
  return fmt::format("{} [{}] {}, expires {}, issued by {}", leaf.common_name(), join(names),
                     crypto::key_type_name(ck.key.type()), date(leaf.not_after()), leaf.issuer());
}

struct Built {
  std::shared_ptr<tls::ServerConfig> config;
  std::optional<LocalCertificate> local;  // the embedded default
};

Result<Built> build_config(const ServeOptions& o) {
  Built out;
  out.config = std::make_shared<tls::ServerConfig>();
  tls::ServerConfig& cfg = *out.config;
  BW_TRY(apply_policy(o.policy, cfg));
  if (o.certs.empty()) {
    BW_ASSIGN(const std::filesystem::path dir, data_directory());
    BW_ASSIGN(LocalCertificate local, ensure_local_certificate(dir));
    BW_ASSIGN(tls::CertifiedKey ck,
              tls::CertifiedKey::load(local.cert_file.string(), local.key_file.string()));
    cfg.certificates.push_back(std::move(ck));
    out.local = std::move(local);
  }
  for (std::size_t i = 0; i < o.certs.size(); ++i) {
    BW_ASSIGN(tls::CertifiedKey ck,
              tls::CertifiedKey::load(o.certs[i], o.keys[i], o.chains.empty() ? "" : o.chains[i]));
    cfg.certificates.push_back(std::move(ck));
  }
  if (!o.client_ca.empty()) {
    BW_ASSIGN(cfg.client_trust, load_trust(o.client_ca));
    cfg.client_auth =
        o.verify_client == "optional" ? tls::ClientAuth::optional : tls::ClientAuth::required;
  }
  // One set of ticket keys and one TLS 1.2 session cache for every worker: any connection can
  // resume a session that any other made.
  BW_ASSIGN(cfg.tickets, tls::TicketKeys::create());
  cfg.session_cache = std::make_shared<tls::ServerSessionCache>();
  BW_TRY(install_key_log_from_environment(cfg, cmd));
  return out;
}

void print_settings(const ServeOptions& o, const Built& built, const net::Server& server,
                    const http::StaticSite& site) {
  const tls::ServerConfig& cfg = *built.config;
  std::vector<std::string> suites;
  for (tls::CipherSuite id : tls::enabled_cipher_suites(cfg)) {
    const tls::CipherSuiteInfo* s = tls::find_cipher_suite(id);
    if (s != nullptr && s->version >= cfg.min_version && s->version <= cfg.max_version)
      suites.emplace_back(s->name);
  }
  std::vector<std::string> groups;
  for (tls::NamedGroup g : tls::enabled_groups(cfg))
    groups.emplace_back(name(g));
  std::vector<std::string> urls;
  for (const auto& e : server.endpoints())
    urls.push_back(url_for(e));
  const auto version = [](tls::ProtocolVersion v) {
    return v == tls::ProtocolVersion::tls13 ? "1.3" : "1.2";
  };
  fmt::print(stderr, "bulwark serve {}\n", BULWARK_VERSION);
  fmt::print(stderr, "  serving       {}\n",
             site.options().root ? site.options().root->string() : "the built-in page");
  fmt::print(stderr, "  listening     {}\n", join(urls, "  "));
  fmt::print(stderr, "  workers       {}\n", server.workers());
  fmt::print(stderr,
             "  TLS           {} to {}; session tickets on (keys rotated hourly), "
             "TLS 1.2 session cache on\n",
             version(cfg.min_version), version(cfg.max_version));
  fmt::print(stderr, "  suites        {}\n", join(suites));
  fmt::print(stderr, "  groups        {}\n", join(groups));
  fmt::print(stderr, "  ALPN          {}\n", cfg.alpn.empty() ? "none" : join(cfg.alpn));
  for (const tls::CertifiedKey& ck : cfg.certificates)
    fmt::print(stderr, "  certificate   {}\n", describe_certificate(ck));
  if (cfg.client_auth != tls::ClientAuth::none) {
    fmt::print(stderr, "  client certs  {}, issued by the CAs in {}\n",
               cfg.client_auth == tls::ClientAuth::required ? "required" : "optional", o.client_ca);
  }
  const std::string rate = o.handshake_rate > 0
                               ? fmt::format("{} new handshakes/s per source", o.handshake_rate)
                               : std::string("no per-source handshake rate limit");
  fmt::print(stderr,
             "  limits        {} connections, {} handshakes at once, {}; timeouts: handshake {} s, "
             "request head {} s, idle {} s\n",
             o.max_connections, o.max_handshakes, rate, o.handshake_timeout, o.header_timeout,
             o.idle_timeout);
  if (!o.access_log.empty()) fmt::print(stderr, "  access log    {}\n", o.access_log);
  if (built.local) {
    const LocalCertificate& local = *built.local;
    if (local.ca.created)
      fmt::print(stderr, "  created the local CA in {}\n",
                 local.ca.cert_file.parent_path().string());
    if (local.issued)
      fmt::print(stderr, "  issued the localhost certificate (valid until {})\n",
                 date(local.not_after));
    fmt::print(stderr, "  local CA      {} (trust it to verify this server)\n",
               local.ca.cert_file.string());
    fmt::print(stderr, "  try           curl --cacert {} {}\n", local.ca.cert_file.string(),
               urls.front());
  }
  for (const auto& e : server.endpoints())
    fmt::print(stderr, "listening on {}\n", net::format_endpoint(e));
  std::fflush(stderr);
}

int run_serve(const ServeOptions& o) {
  ignore_sigpipe();
  if (o.certs.size() != o.keys.size()) {
    fail(cmd, "--cert and --key go in pairs", "give one --key after each --cert, in order");
    return exit_usage;
  }
  if (!o.chains.empty() && o.chains.size() != o.certs.size()) {
    fail(cmd, "--chain must be given once per --cert, or not at all",
         "or put the intermediates in the --cert file after the leaf");
    return exit_usage;
  }
  if (!o.verify_client.empty() && o.client_ca.empty()) {
    fail(cmd, "--verify-client needs --client-ca", "give the CA that issues client certificates");
    return exit_usage;
  }
  std::vector<std::string> listen = o.listen;
  if (listen.empty()) listen = {"127.0.0.1:8443"};
  for (const std::string& l : listen) {
    if (auto e = net::parse_listen_address(l); !e) {
      fail(cmd, e.error().detail(), "give ADDR:PORT, e.g. 127.0.0.1:8443 or [::1]:8443");
      return exit_usage;
    }
  }

  auto built = build_config(o);
  if (built) warn_if_legacy(o.policy, cmd);
  if (!built) {
    const Errc c = built.error().code();
    if (c == Errc::invalid_argument || c == Errc::unsupported) {
      fail(cmd, built.error().detail());
      return exit_usage;
    }
    return fail(cmd, built.error());
  }

  http::SiteOptions site_options;
  if (!o.root.empty()) site_options.root = o.root;
  site_options.directory_listing = !o.no_listing;
  auto site = http::StaticSite::open(site_options);
  if (!site) return fail(cmd, site.error(), "give a directory that exists and can be read");
  auto shared_site = std::make_shared<const http::StaticSite>(std::move(site).value());

  auto http_options = std::make_shared<net::HttpServiceOptions>();
  http_options->idle_timeout = seconds(o.idle_timeout);
  http_options->header_timeout = seconds(o.header_timeout);
  if (!o.access_log.empty()) {
    auto log = net::AccessLog::open(o.access_log);
    if (!log) return fail(cmd, log.error());
    http_options->access_log = std::move(log).value();
  }

  net::ServerOptions server_options;
  server_options.listen = listen;
  server_options.workers = o.workers;
  server_options.handle_signals = true;
  server_options.limits.max_connections = o.max_connections;
  server_options.limits.max_handshakes = o.max_handshakes;
  server_options.limits.handshake_rate = o.handshake_rate;
  server_options.limits.handshake_burst = std::max(2 * o.handshake_rate, 10.0);
  server_options.limits.handshake_timeout = seconds(o.handshake_timeout);
  server_options.limits.shutdown_grace = seconds(o.shutdown_grace);
  auto server = net::Server::create(
      server_options, built->config,
      [shared_site, http_options](net::TlsStream& stream, net::ConnectionContext& context) {
        return net::serve_http(stream, context, *shared_site, *http_options);
      });
  if (!server) {
    return fail(cmd, server.error().detail(),
                "is the port already in use, or the address not local?");
  }
  print_settings(o, *built, **server, *shared_site);
  (*server)->run();
  fmt::print(stderr, "bulwark serve: stopped\n");
  return exit_ok;
}

}  // namespace

void register_serve(CLI::App& app, Action& run) {
  auto o = std::make_shared<ServeOptions>();
  o->policy.alpn = "http/1.1";
  auto* s = app.add_subcommand("serve",
                               "HTTPS static-file server for DIR (without DIR: a built-in page)");
  s->add_option("DIR", o->root, "Directory to serve (index.html, else a listing)");
  s->add_option("--listen", o->listen,
                "Address to listen on, repeatable: 127.0.0.1:8443 (default), [::1]:8443, "
                "0.0.0.0:443, [::]:443")
      ->take_all()
      ->allow_extra_args(false);
  s->add_option("--cert", o->certs,
                "Certificate (PEM, leaf first), repeatable: e.g. an ECDSA and an RSA one, each "
                "followed by its --key; chosen per handshake by SNI and the client's signature "
                "algorithms. Default: the local CA's localhost certificate")
      ->take_all()
      ->allow_extra_args(false);
  s->add_option("--key", o->keys, "Private key of the preceding --cert (PEM)")
      ->take_all()
      ->allow_extra_args(false);
  s->add_option("--chain", o->chains,
                "Intermediates to send after the --cert of the same position (PEM)")
      ->take_all()
      ->allow_extra_args(false);
  s->add_option("--workers", o->workers, "Event loops, one thread each (default: one per core)")
      ->check(CLI::Range(0u, 256u));
  add_policy_options(*s, o->policy, "clients");
  s->add_option("--alpn", o->policy.alpn, "ALPN protocols we accept")->default_val("http/1.1");
  s->add_option("--client-ca", o->client_ca,
                "Ask clients for a certificate issued by these CAs (PEM file or directory)");
  s->add_option("--verify-client", o->verify_client,
                "With --client-ca: require a client certificate, or accept its absence "
                "(default: require)")
      ->check(CLI::IsMember({"optional", "require"}));
  s->add_option("--access-log", o->access_log,
                "Append one line per request (combined log format) to FILE, or stdout for -");
  s->add_flag("--no-listing", o->no_listing, "Answer 404 for a directory without index.html");
  s->add_option("--handshake-timeout", o->handshake_timeout, "Seconds a TLS handshake may take")
      ->check(CLI::Range(0.05, 3600.0))
      ->default_val(o->handshake_timeout);
  s->add_option("--header-timeout", o->header_timeout,
                "Seconds from a request's first byte to the end of its head (slow-loris)")
      ->check(CLI::Range(0.05, 3600.0))
      ->default_val(o->header_timeout);
  s->add_option("--idle-timeout", o->idle_timeout,
                "Seconds a kept-alive connection may wait for its next request")
      ->check(CLI::Range(0.05, 86400.0))
      ->default_val(o->idle_timeout);
  s->add_option("--shutdown-grace", o->shutdown_grace,
                "On SIGINT/SIGTERM: seconds responses in flight may take to finish")
      ->check(CLI::Range(0.0, 3600.0))
      ->default_val(o->shutdown_grace);
  s->add_option("--max-connections", o->max_connections, "Connections open at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}))
      ->default_val(o->max_connections);
  s->add_option("--max-handshakes", o->max_handshakes, "TLS handshakes in progress at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}))
      ->default_val(o->max_handshakes);
  s->add_option("--handshake-rate", o->handshake_rate,
                "New handshakes per second per client address (/32, IPv6 /64); 0: no limit")
      ->check(CLI::Range(0.0, 1e9))
      ->default_val(o->handshake_rate);
  s->callback([o, &run] { run = [o] { return run_serve(*o); }; });
}

}  // namespace bulwark::apps
