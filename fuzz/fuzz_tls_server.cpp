// Feeds arbitrary bytes, in arbitrary chunks, to a server Connection with deterministic
// randomness (reset for every input, so a recorded client flight replays to the same
// handshake): no crash, no over-read, no hang; a failed connection stays failed.
// The first byte chooses the chunk size (bits 0-5), so record and message boundaries move
// around, and the policy (bit 7): the default, or the legacy TLS 1.2 policy (CBC suites, RSA
// key transport, DHE). The server holds common.hpp's fixed Ed25519 and RSA certificates.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "bulwark/tls/connection.hpp"
#include "common.hpp"

using namespace bulwark;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::ReplayRandom rng("fuzz-server");
  static const auto modern = fuzz::server_config(rng, false);
  static const auto legacy = fuzz::server_config(rng, true);
  const bool use_legacy = size > 0 && (data[0] & 0x80) != 0;
  rng.reset();
  auto conn = tls::Connection::server(use_legacy ? legacy : modern);
  if (!conn) std::abort();
  fuzz::feed_in_chunks(*conn, data, size);
  return 0;
}
