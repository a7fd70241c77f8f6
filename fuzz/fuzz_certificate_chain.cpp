// A peer's Certificate message, all the way: the body (TLS 1.3 or TLS 1.2 layout, by the first
// byte) -> the DER certificate list -> X.509 parsing -> every accessor the engine and the tools
// use -> chain verification against the fixed anchor (common.hpp), for a server (with the host
// name, through the verified-chain cache and without it) and for a client certificate.
// Never a crash; a chain that verifies names the host and verifies again from the cache.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "bulwark/crypto/hostname.hpp"
#include "bulwark/tls/chain_cache.hpp"
#include "bulwark/tls/messages.hpp"
#include "common.hpp"
#include "tls/handshake.hpp"

using namespace bulwark;
using fuzz::check;

namespace {

// Reads everything a caller may read from a parsed certificate.
void inspect(const crypto::Certificate& cert, wire::Bytes der) {
  check(cert.valid());
  check(std::equal(cert.der().begin(), cert.der().end(), der.begin(), der.end()));
  (void)cert.subject();
  (void)cert.issuer();
  (void)cert.common_name();
  (void)cert.serial_hex();
  (void)cert.not_before();
  (void)cert.not_after();
  (void)cert.public_key();
  (void)cert.dns_names();
  (void)cert.ip_addresses();
  (void)cert.ip_address_texts();
  (void)cert.is_ca();
  (void)cert.allows_key_encipherment();
  (void)cert.sha256_fingerprint();
  (void)cert.signature_algorithm_name();
  (void)cert.self_signed();
  (void)crypto::verify_host(cert, fuzz::fuzz_host);
  (void)crypto::verify_host(cert, "192.0.2.1");
  // Parsing again from the certificate's own encoding gives the same certificate.
  auto again = crypto::Certificate::from_der(cert.der());
  check(again.ok() && *again == cert);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::ReplayRandom rng("fuzz-chain");
  static const auto client_cfg = fuzz::client_config(rng, false);
  static const auto server_cfg = fuzz::server_config(rng, false);
  if (size < 1) return 0;
  const wire::Bytes body(data + 1, size - 1);

  std::vector<wire::Bytes> ders;
  if (data[0] & 1) {
    auto msg = tls::decode_body<tls::Certificate12>(body);
    if (!msg) return 0;
    ders = tls::certificate_ders(*msg);
  } else {
    auto msg = tls::decode_body<tls::Certificate13>(body);
    if (!msg) return 0;
    ders = tls::certificate_ders(*msg);
  }
  if (ders.empty()) return 0;

  // Each certificate alone, so that one bad entry does not hide the parsing of the others.
  for (const wire::Bytes der : ders) {
    auto cert = crypto::Certificate::from_der(der);
    if (cert) inspect(*cert, der);
  }

  // The engine's own path for a server's chain: without the cache, then twice through a fresh
  // cache (the second answer comes from it and must be the same).
  tls::ClientConfig cfg = *client_cfg;
  auto direct = tls::verified_server_chain(cfg, ders, std::string(fuzz::fuzz_host));
  cfg.chain_cache = std::make_shared<tls::VerifiedChainCache>();
  auto first = tls::verified_server_chain(cfg, ders, std::string(fuzz::fuzz_host));
  auto second = tls::verified_server_chain(cfg, ders, std::string(fuzz::fuzz_host));
  check(direct.ok() == first.ok() && first.ok() == second.ok());
  if (direct) {
    check(direct->size() == ders.size());
    // RFC 6125 / RFC 9525: a chain that verified names the host we asked for.
    check(crypto::verify_host(direct->front(), fuzz::fuzz_host).ok());
    check(second->size() == ders.size() && second->front() == direct->front());
  }
  (void)tls::verified_client_chain(*server_cfg, ders);
  return 0;
}
