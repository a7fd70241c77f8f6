// `bulwark scan HOST:PORT`: audits a TLS server from the outside (versions, suites, known
// weaknesses, certificate) and prints findings with remedies; exit status by the worst one.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <memory>
#include <sstream>

#include "apps/common.hpp"
#include "apps/tls_io.hpp"
#include "bulwark/scan/scanner.hpp"

namespace bulwark::apps {

namespace {

constexpr const char* cmd = "scan";

constexpr const char* kScanExitStatuses =
    "Exit status: 0 nothing HIGH or CRITICAL found, 3 a HIGH finding, 4 a CRITICAL finding,\n"
    "1 the server could not be scanned (no address, connection refused or timed out),\n"
    "2 a bad option value.";

struct ScanCliOptions {
  std::string target;
  std::string sni;
  std::string cacert;
  std::string checks;
  double timeout = 5;
  int concurrency = 4;
  bool json = false;
};

int run_scan(const ScanCliOptions& o) {
  auto where = parse_host_port(o.target);
  if (!where) {
    fail(cmd, where.error(), "give HOST:PORT, e.g. example.org:443");
    return exit_usage;
  }
  scan::ScanOptions options;
  options.host = where->host;
  unsigned port = 0;
  const auto& p = where->port;
  if (auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
      ec != std::errc() || ptr != p.data() + p.size() || port == 0 || port > 65535) {
    fail(cmd, "invalid port: " + p, "give a port from 1 to 65535");
    return exit_usage;
  }
  options.port = static_cast<std::uint16_t>(port);
  options.server_name = o.sni;
  options.cacert = o.cacert;
  options.timeout = std::chrono::milliseconds(static_cast<long>(o.timeout * 1000));
  options.concurrency = o.concurrency;
  if (!o.checks.empty()) {
    std::stringstream list(o.checks);
    for (std::string item; std::getline(list, item, ',');)
      if (!item.empty()) options.checks.push_back(item);
    for (const std::string& c : options.checks) {
      const auto names = scan::check_names();
      if (std::find(names.begin(), names.end(), c) == names.end()) {
        std::string known;
        for (auto n : names)
          known += (known.empty() ? "" : ",") + std::string(n);
        fail(cmd, "unknown check: " + c, "choose from " + known);
        return exit_usage;
      }
    }
  }
  auto report = scan::scan(options);
  if (!report)
    return fail(cmd, report.error(), "check the host, the port and that the server is up");
  const std::string out = o.json ? scan::render_json(*report)
                                 : scan::render_text(*report, ::isatty(STDOUT_FILENO) == 1);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return report->exit_status();
}

}  // namespace

void register_scan(CLI::App& app, Action& run) {
  auto o = std::make_shared<ScanCliOptions>();
  auto* c = app.add_subcommand(
      "scan",
      "Audit a TLS server: protocol versions, cipher suites, known weaknesses "
      "(Heartbleed, SSLv2/DROWN, CRIME, POODLE, ...), certificate; with remedies");
  c->add_option("TARGET", o->target, "HOST:PORT ([v6]:PORT for IPv6)")->required();
  c->add_option("--sni", o->sni,
                "Server name to send and to check the certificate against (default: HOST)");
  c->add_option("--cacert", o->cacert, "Trust anchors, PEM file (default: the system store)");
  std::string names;
  for (auto n : scan::check_names())
    names += (names.empty() ? "" : ",") + std::string(n);
  c->add_option("--checks", o->checks, "Comma-separated subset of checks to run: " + names);
  c->add_option("--timeout", o->timeout, "Seconds allowed for each connection (default 5)")
      ->check(CLI::Range(0.1, 600.0));
  c->add_option("--concurrency", o->concurrency,
                "Connections at once, at most (default 4: a scan must not flood the server)")
      ->check(CLI::Range(1, 32));
  c->add_flag("--json", o->json, "Write one JSON document (docs/scan-schema.json) to stdout");
  c->footer(kScanExitStatuses);
  c->callback([o, &run] { run = [o] { return run_scan(*o); }; });
}

}  // namespace bulwark::apps
