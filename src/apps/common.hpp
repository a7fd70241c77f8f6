// Shared helpers for the bulwark subcommands: one-line errors, files, exit codes.
#pragma once

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/result.hpp"

namespace bulwark::apps {

// Exit statuses shared by every subcommand.
enum Exit : int {
  exit_ok = 0,
  exit_failure = 1,  // the operation was refused or failed (verification, handshake, ...)
  exit_usage = 2,    // bad command line (CLI11 uses 105+ for its own parse errors)
};

// Prints "bulwark CMD: CAUSE" (and " — REMEDY" when given) as one line on stderr.
int fail(std::string_view cmd, std::string_view cause, std::string_view remedy = {});
inline int fail(std::string_view cmd, const Error& e, std::string_view remedy = {}) {
  return fail(cmd, e.message(), remedy);
}

Result<std::string> read_file(const std::filesystem::path& path);
// Writes atomically (temporary file + rename) with the given permission bits.
Status write_file(const std::filesystem::path& path, std::string_view contents,
                  std::filesystem::perms perms = std::filesystem::perms(0644));

// Each subcommand module registers itself on the app and sets `run` to the action to take
// when that subcommand is selected.
using Action = std::function<int()>;
void register_ca(CLI::App& app, Action& run);
void register_cert(CLI::App& app, Action& run);
void register_connect(CLI::App& app, Action& run);
void register_get(CLI::App& app, Action& run);
void register_listen(CLI::App& app, Action& run);
void register_proxy(CLI::App& app, Action& run);
void register_scan(CLI::App& app, Action& run);
void register_serve(CLI::App& app, Action& run);

}  // namespace bulwark::apps
