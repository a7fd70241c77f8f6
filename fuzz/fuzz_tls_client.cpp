// Feeds arbitrary bytes to a TLS 1.3 client Connection (as if from a server) with
// deterministic randomness: no crash, no over-read, no hang; errors are sticky.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "bulwark/crypto/issuer.hpp"
#include "bulwark/tls/connection.hpp"
#include "bulwark/tls/session.hpp"

using namespace bulwark;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static crypto::DeterministicRandom rng(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>("fuzz-client"), 11));
  static const auto cfg = [] {
    auto c = std::make_shared<tls::ClientConfig>();
    c->random = &rng;
    c->trust = crypto::TrustStore();
    c->sessions = std::make_shared<tls::SessionCache>();
    c->alpn = {"h2", "http/1.1"};
    return c;
  }();
  auto conn = tls::Connection::client(cfg, "fuzz.example");
  if (!conn) std::abort();
  conn->consume_output(conn->pending_output().size());
  const std::size_t chunk = size == 0 ? 1 : 1 + data[0] % 64;
  std::size_t i = size == 0 ? 0 : 1;
  bool failed = false;
  while (i < size) {
    const std::size_t n = std::min(chunk, size - i);
    auto s = conn->feed(wire::Bytes(data + i, n));
    if (failed && s) std::abort();
    if (!s) failed = true;
    conn->consume_output(conn->pending_output().size());
    i += n;
  }
  (void)conn->transport_eof();
  return 0;
}
