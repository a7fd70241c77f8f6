// Feeds arbitrary bytes, in arbitrary chunks, to a TLS 1.3 server Connection with
// deterministic randomness: no crash, no over-read, no hang; a failed connection stays failed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "bulwark/crypto/issuer.hpp"
#include "bulwark/tls/connection.hpp"
#include "bulwark/tls/session.hpp"

using namespace bulwark;

namespace {

std::shared_ptr<tls::ServerConfig> make_config() {
  static crypto::DeterministicRandom rng(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>("fuzz-server"), 11));
  auto key = crypto::PrivateKey::generate(crypto::KeyType::ec_p256).value();
  auto spec = crypto::server_spec("fuzz.example");
  auto cert = crypto::issue_certificate(spec, key.public_key(), key, nullptr).value();
  auto cfg = std::make_shared<tls::ServerConfig>();
  cfg->certificates.push_back(tls::CertifiedKey{{cert}, key});
  cfg->random = &rng;
  cfg->tickets = tls::TicketKeys::create(rng).value();
  cfg->client_auth = tls::ClientAuth::optional;
  cfg->client_trust = crypto::TrustStore::from_certificates(std::vector{cert}).value();
  return cfg;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto cfg = make_config();
  auto conn = tls::Connection::server(cfg);
  if (!conn) std::abort();
  // The first byte chooses the chunk size, so record and message boundaries move around.
  const std::size_t chunk = size == 0 ? 1 : 1 + data[0] % 64;
  std::size_t i = size == 0 ? 0 : 1;
  bool failed = false;
  while (i < size) {
    const std::size_t n = std::min(chunk, size - i);
    auto s = conn->feed(wire::Bytes(data + i, n));
    if (failed && s) std::abort();  // errors are sticky
    if (!s) failed = true;
    conn->consume_output(conn->pending_output().size());
    i += n;
  }
  std::uint8_t buf[256];
  (void)conn->read(buf);
  (void)conn->transport_eof();
  return 0;
}
