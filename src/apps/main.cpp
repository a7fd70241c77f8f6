#include <fmt/core.h>
#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"bulwark: TLS, HTTPS and secure-channel tools"};
  app.set_version_flag("--version", std::string("bulwark ") + BULWARK_VERSION);
  app.require_subcommand(0, 1);
  CLI11_PARSE(app, argc, argv);
  if (app.get_subcommands().empty()) fmt::print("{}", app.help());
  return 0;
}
