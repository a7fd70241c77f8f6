// `bulwark scan`: a remote TLS server audit built from raw probes (scan/hello.hpp,
// scan/reply.hpp), a bounded number of connections at a time, each with a time limit.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/result.hpp"
#include "bulwark/scan/report.hpp"

namespace bulwark::scan {

struct ScanOptions {
  std::string host;
  std::uint16_t port = 443;
  // SNI to send and the name the certificate must carry; empty: `host` unless it is an IP
  // literal (then no SNI, and the certificate is checked against the address).
  std::string server_name;
  std::string cacert;                       // PEM bundle of trust anchors; empty: the system store
  std::vector<std::string> checks;          // names from check_names(); empty: all
  std::chrono::milliseconds timeout{5000};  // per connection
  int concurrency = 4;                      // connections at once
};

// The checks `--checks` accepts, in the order they run.
std::span<const std::string_view> check_names() noexcept;

// Runs the scan. Only a target that cannot be reached at all (no address, refused or silent
// TCP connection) is an error; everything the server answers is a finding.
Result<Report> scan(const ScanOptions& options);

}  // namespace bulwark::scan
