// Feeds arbitrary bytes to a client Connection (as if from a server) with deterministic
// randomness, reset for every input so that a recorded server flight replays: no crash, no
// over-read, no hang; errors are sticky. The first byte chooses the chunk size (bits 0-5) and
// the policy (bit 7): the default, or the legacy TLS 1.2 policy (CBC suites, RSA key
// transport, DHE offered too). The client trusts common.hpp's fixed root.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "bulwark/tls/connection.hpp"
#include "common.hpp"

using namespace bulwark;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::ReplayRandom rng("fuzz-client");
  static const auto modern = fuzz::client_config(rng, false);
  static const auto legacy = fuzz::client_config(rng, true);
  const bool use_legacy = size > 0 && (data[0] & 0x80) != 0;
  rng.reset();
  auto conn = tls::Connection::client(use_legacy ? legacy : modern, std::string(fuzz::fuzz_host));
  if (!conn) std::abort();
  fuzz::feed_in_chunks(*conn, data, size);
  return 0;
}
