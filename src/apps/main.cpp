// The one `bulwark` command. Each subcommand lives in its own file and registers itself here.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "apps/common.hpp"

int main(int argc, char** argv) {
  using namespace bulwark::apps;
  CLI::App app{
      "bulwark: TLS, HTTPS and secure-channel tools.\n"
      "Implemented so far: a local CA (ca), certificate inspection and verification (cert), the\n"
      "TLS 1.2 / 1.3 client and server (connect, listen), an HTTPS client (get) and static-file\n"
      "server (serve), an intercepting HTTPS proxy (proxy: CONNECT interception; flow logs and\n"
      "rewriting not yet), and a TLS server auditor (scan).\n"
      "Not yet: SSH, IPsec, DKIM, S/MIME."};
  app.set_version_flag("--version", std::string("bulwark ") + BULWARK_VERSION);
  app.require_subcommand(1);
  Action run;
  register_ca(app, run);
  register_cert(app, run);
  register_connect(app, run);
  register_get(app, run);
  register_listen(app, run);
  register_proxy(app, run);
  register_scan(app, run);
  register_serve(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return run ? run() : exit_usage;
}
