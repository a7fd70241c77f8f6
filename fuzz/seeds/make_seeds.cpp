// Writes the seed corpora of the TLS fuzz targets from real messages: in-memory handshakes
// between our client and server (common.hpp's fixed PKI and replayable randomness, set up
// exactly as the targets set theirs up, so that recorded flights replay), records sealed with
// fuzz_tls_record's fixed keys, and the fixed certificates and keys as PEM and DER.
//
// Usage: make_fuzz_seeds DIR   (DIR is fuzz/corpus; one subdirectory per target)
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "bulwark/tls/messages.hpp"
#include "common.hpp"
#include "tls/handshake.hpp"

using namespace bulwark;
using namespace bulwark::tls;
using bytes = std::vector<std::uint8_t>;
using fuzz::check;
using fuzz::must;

namespace {

// Why a handshake that had to complete did not.
void must_complete(const fuzz::Exchange& ex, const Connection& client, const Connection& server,
                   const char* name) {
  if (ex.done) return;
  std::fprintf(stderr, "make_fuzz_seeds: %s: handshake incomplete (client state %d, server %d)\n",
               name, static_cast<int>(client.state()), static_cast<int>(server.state()));
  for (const Connection* c : {&client, &server}) {
    if (const Failure* f = c->failure()) {
      std::fprintf(stderr, "make_fuzz_seeds: %s: %s: %s\n", name,
                   c == &client ? "client" : "server", f->error.message().c_str());
    }
  }
  std::abort();
}

std::filesystem::path out_dir;
int written = 0;

void write_seed(const std::string& target, const std::string& name, std::uint8_t first,
                wire::Bytes rest) {
  const auto dir = out_dir / target;
  std::filesystem::create_directories(dir);
  std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
  f.put(static_cast<char>(first));
  f.write(reinterpret_cast<const char*>(rest.data()), static_cast<std::streamsize>(rest.size()));
  check(f.good());
  ++written;
}

wire::Bytes text_bytes(const std::string& s) {
  return fuzz::bytes_of(s);
}

// --- handshakes --------------------------------------------------------------------------

enum class Variant {
  tls13,
  tls13_client_auth,
  tls13_hrr,
  tls12_gcm,
  legacy_cbc,
  legacy_rsa,
  legacy_dhe
};

struct Named {
  Variant variant;
  const char* name;
  bool legacy;
};
constexpr Named variants[] = {
    {Variant::tls13, "tls13", false},
    {Variant::tls13_client_auth, "tls13_client_auth", false},
    {Variant::tls13_hrr, "tls13_hello_retry", false},
    {Variant::tls12_gcm, "tls12_ecdhe_gcm", false},
    {Variant::legacy_cbc, "legacy_ecdhe_cbc", true},
    {Variant::legacy_rsa, "legacy_rsa_key_transport", true},
    {Variant::legacy_dhe, "legacy_dhe_rsa", true},
};

// Restricts a client (for the server's corpus) or a server (for the client's) to one variant.
void shape(Config& cfg, Variant v) {
  switch (v) {
    case Variant::tls13:
    case Variant::tls13_client_auth:
      break;
    case Variant::tls13_hrr:
      cfg.groups = {NamedGroup::secp384r1};
      break;
    case Variant::tls12_gcm:
      cfg.max_version = ProtocolVersion::tls12;
      break;
    case Variant::legacy_cbc:
      cfg.max_version = ProtocolVersion::tls12;
      cfg.cipher_suites = {CipherSuite::tls_ecdhe_ecdsa_with_aes_128_cbc_sha256};
      break;
    case Variant::legacy_rsa:
      cfg.max_version = ProtocolVersion::tls12;
      cfg.cipher_suites = {CipherSuite::tls_rsa_with_aes_128_gcm_sha256};
      break;
    case Variant::legacy_dhe:
      cfg.max_version = ProtocolVersion::tls12;
      cfg.cipher_suites = {CipherSuite::tls_dhe_rsa_with_aes_128_gcm_sha256};
      break;
  }
}

// The first byte of fuzz_tls_server / fuzz_tls_client inputs: chunks of 64, and the policy.
std::uint8_t selector(bool legacy) {
  return legacy ? 0xbf : 0x3f;
}

// Plaintext handshake messages in a byte stream of records (up to the first protected one).
std::vector<HandshakeMessage> plaintext_messages(const bytes& stream, bytes& holder) {
  holder.clear();
  for (std::size_t at = 0; at + record_header_size <= stream.size();) {
    const std::size_t len = (stream[at + 3] << 8) | stream[at + 4];
    if (stream[at] != static_cast<std::uint8_t>(ContentType::handshake)) break;
    holder.insert(holder.end(), stream.begin() + static_cast<std::ptrdiff_t>(at + 5),
                  stream.begin() + static_cast<std::ptrdiff_t>(at + 5 + len));
    at += record_header_size + len;
  }
  std::vector<HandshakeMessage> out;
  wire::Reader r(holder);
  while (!r.empty()) {
    auto m = read_handshake(r);
    if (!m) break;
    out.push_back(*m);
  }
  return out;
}

// fuzz_tls_messages' selector for a message body, or -1.
int message_selector(HandshakeType t, ProtocolVersion v, KeyExchange kx) {
  const bool tls13 = v == ProtocolVersion::tls13;
  switch (t) {
    case HandshakeType::client_hello:
      return 0;
    case HandshakeType::server_hello:
      return 1;
    case HandshakeType::certificate:
      return tls13 ? 3 : 11;
    case HandshakeType::certificate_request:
      return tls13 ? 4 : 12;
    case HandshakeType::server_key_exchange:
      return kx == KeyExchange::dhe_rsa ? 15 : 14;
    case HandshakeType::client_key_exchange:
      return kx == KeyExchange::dhe_rsa ? 17 : kx == KeyExchange::rsa ? 18 : 16;
    case HandshakeType::server_hello_done:
      return 19;
    case HandshakeType::new_session_ticket:
      return tls13 ? 8 : 13;
    default:
      return -1;
  }
}

void handshake_seeds() {
  // Exactly as fuzz_tls_server and fuzz_tls_client build theirs (same seeds, same order).
  fuzz::ReplayRandom server_rng("fuzz-server");
  const auto server_modern = fuzz::server_config(server_rng, false);
  const auto server_legacy = fuzz::server_config(server_rng, true);
  fuzz::ReplayRandom client_rng("fuzz-client");
  const auto client_modern = fuzz::client_config(client_rng, false);
  const auto client_legacy = fuzz::client_config(client_rng, true);
  const auto& pki = fuzz::fixed_pki();

  for (const Named& n : variants) {
    // fuzz_tls_server: a shaped client against the target's own server.
    {
      fuzz::ReplayRandom peer_rng(std::string("seed-client-") + n.name);
      auto ccfg = fuzz::client_config(peer_rng, n.legacy);
      shape(*ccfg, n.variant);
      if (n.variant == Variant::tls13_client_auth) {
        ccfg->certificate = CertifiedKey{{pki.leaf, pki.intermediate}, pki.leaf_key};
      }
      auto client = must(Connection::client(ccfg, std::string(fuzz::fuzz_host)));
      server_rng.reset();
      auto server = must(Connection::server(n.legacy ? server_legacy : server_modern));
      const auto ex = fuzz::run_handshake(client, server);
      must_complete(ex, client, server, n.name);
      // Our server prefers a group the client shared over a HelloRetryRequest.
      const std::string name = n.variant == Variant::tls13_hrr && !server.info().hello_retry
                                   ? std::string("tls13_p384")
                                   : std::string(n.name);
      write_seed("tls_server", name, selector(n.legacy), fuzz::concat(ex.to_server));

      // The plaintext messages, for fuzz_tls_messages.
      const auto* suite = find_cipher_suite(client.info().cipher_suite);
      check(suite != nullptr);
      for (bool from_client : {true, false}) {
        bytes holder;
        const bytes stream = fuzz::concat(from_client ? ex.to_server : ex.to_client);
        int i = 0;
        for (const auto& m : plaintext_messages(stream, holder)) {
          const int sel = message_selector(m.type, client.info().version, suite->kx);
          if (sel < 0) continue;
          write_seed("tls_messages", name + (from_client ? "_c" : "_s") + std::to_string(i++),
                     static_cast<std::uint8_t>(sel), m.body);
        }
      }
    }
    // fuzz_tls_client: the target's own client against a shaped server.
    {
      fuzz::ReplayRandom peer_rng(std::string("seed-server-") + n.name);
      auto scfg = fuzz::server_config(peer_rng, n.legacy);
      shape(*scfg, n.variant);
      if (n.variant == Variant::tls13_client_auth) scfg->client_auth = ClientAuth::required;
      client_rng.reset();
      auto client = must(Connection::client(n.legacy ? client_legacy : client_modern,
                                            std::string(fuzz::fuzz_host)));
      auto server = must(Connection::server(scfg));
      const auto ex = fuzz::run_handshake(client, server);
      // A required client certificate the client does not have ends in an alert: the
      // server's flights up to there are still a good seed.
      if (n.variant != Variant::tls13_client_auth) must_complete(ex, client, server, n.name);
      write_seed("tls_client", n.name, selector(n.legacy), fuzz::concat(ex.to_client));
    }
  }
}

// --- records, alerts, heartbeats ----------------------------------------------------------

void record_seeds() {
  const auto suites = supported_cipher_suites();
  for (std::size_t i = 0; i < suites.size(); ++i) {
    const auto& suite = suites[i];
    const std::string name(suite.name);
    // Seal mode, nothing flipped: three records (application data, handshake, alert).
    bytes seal = {0x01, 0x03, 0xff, 0xff, 0x00};
    for (const bytes& rec : {bytes{0x00, 0x02}, bytes{0x01, 0x01}, bytes{0x02, 0x00}}) {
      seal.insert(seal.end(), rec.begin(), rec.end());
      const std::size_t n = rec[1] * 8u + rec[0] / 4;
      for (std::size_t k = 0; k < n; ++k)
        seal.push_back(static_cast<std::uint8_t>('a' + k % 26));
    }
    write_seed("tls_record", name + "_seal", static_cast<std::uint8_t>(i), seal);
    // Raw mode: the same kind of records as the key holder sealed them.
    crypto::DeterministicRandom iv(fuzz::bytes_of("seed-record-iv"));
    RecordWriter writer;
    writer.set_tls13(suite.version == ProtocolVersion::tls13);
    writer.set_cipher(fuzz::record_cipher(suite, iv));
    bytes raw = {0x00, 0x00};
    check(writer.write(ContentType::application_data, text_bytes("GET / HTTP/1.1\r\n\r\n"), raw)
              .ok());
    check(writer.write(ContentType::alert, bytes{0x01, 0x00}, raw).ok());
    write_seed("tls_record", name + "_raw", static_cast<std::uint8_t>(i), raw);
  }

  struct Alert {
    const char* name;
    std::uint8_t mode;
    bytes fragment;
  };
  const bytes hb_padding(16, 0);
  bytes hb_request = {0x01, 0x00, 0x04, 'p', 'i', 'n', 'g'};
  hb_request.insert(hb_request.end(), hb_padding.begin(), hb_padding.end());
  bytes hb_bleed = {0x01, 0x40, 0x00, 'x'};
  hb_bleed.insert(hb_bleed.end(), hb_padding.begin(), hb_padding.end());
  bytes hb_response = hb_request;
  hb_response[0] = 0x02;
  const Alert alerts[] = {
      {"close_notify", 0, {0x01, 0x00}},
      {"fatal_handshake_failure", 0, {0x02, 0x28}},
      {"user_canceled", 0, {0x01, 0x5a}},
      {"warning_no_renegotiation", 0, {0x01, 0x64}},
      {"three_bytes", 0, {0x02, 0x14, 0x00}},
      {"heartbeat_request", 1, hb_request},
      {"heartbeat_bleed", 1, hb_bleed},
      {"heartbeat_response", 1, hb_response},
      {"raw_record", 2, {0x17, 0x03, 0x03, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'}},
      {"raw_alert", 2, {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28}},
  };
  const char* handshakes[] = {"tls13", "tls12_gcm", "legacy_cbc"};
  for (std::uint8_t h = 0; h < 3; ++h) {
    for (const Alert& a : alerts) {
      bytes rest = {a.mode};
      rest.insert(rest.end(), a.fragment.begin(), a.fragment.end());
      write_seed("tls_alerts", std::string(handshakes[h]) + "_" + a.name, h, rest);
    }
  }
}

// --- certificates and keys ----------------------------------------------------------------

std::string base64(wire::Bytes in) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const std::uint32_t n = (in[i] << 16) | (i + 1 < in.size() ? in[i + 1] << 8 : 0) |
                            (i + 2 < in.size() ? in[i + 2] : 0);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? alphabet[n & 63] : '=';
    if ((i / 3 + 1) % 16 == 0) out += '\n';
  }
  if (out.empty() || out.back() != '\n') out += '\n';
  return out;
}

void certificate_seeds() {
  const auto& pki = fuzz::fixed_pki();
  auto chain13 = [](std::initializer_list<crypto::Certificate> certs) {
    const std::vector<crypto::Certificate> v(certs);
    wire::Writer w;
    write_certificate13(w, {}, v);
    check(w.ok());
    return bytes(w.data().begin(), w.data().end());
  };
  auto chain12 = [](std::initializer_list<crypto::Certificate> certs) {
    std::vector<Asn1Cert> entries;
    for (const auto& c : certs)
      entries.push_back(Asn1Cert{c.der()});
    wire::Writer w;
    Certificate12{entries}.encode(w);
    check(w.ok());
    return bytes(w.data().begin(), w.data().end());
  };
  write_seed("certificate_chain", "tls13_leaf_intermediate", 0,
             chain13({pki.leaf, pki.intermediate}));
  write_seed("certificate_chain", "tls12_leaf_intermediate", 1,
             chain12({pki.leaf, pki.intermediate}));
  write_seed("certificate_chain", "tls13_rsa_leaf", 0, chain13({pki.rsa_leaf, pki.intermediate}));
  write_seed("certificate_chain", "tls12_root_only", 1, chain12({pki.root}));
  write_seed("certificate_chain", "tls13_wrong_order", 0, chain13({pki.intermediate, pki.leaf}));
  write_seed("certificate_chain", "tls12_full", 1, chain12({pki.leaf, pki.intermediate, pki.root}));

  const std::string key_pem = must(pki.leaf_key.to_pem());
  const std::string encrypted_pem = must(pki.leaf_key.to_pem("fuzz passphrase"));
  const std::string rsa_pem = must(pki.rsa_leaf_key.to_pem());
  const bytes spki = must(pki.leaf_key.public_key().spki_der());
  const std::string public_pem =
      "-----BEGIN PUBLIC KEY-----\n" + base64(spki) + "-----END PUBLIC KEY-----\n";
  const std::string leaf_pem = must(pki.leaf.to_pem());
  const std::string bundle = leaf_pem + must(pki.intermediate.to_pem()) + must(pki.root.to_pem());
  // The fixed Ed25519 key's PKCS#8 DER: the PEM body decoded is what from_der reads.
  const crypto::Digest d =
      must(crypto::hash(crypto::HashAlg::sha256, fuzz::bytes_of("bulwark fuzz leaf")));
  bytes key_der = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                   0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
  key_der.insert(key_der.end(), d.span().begin(), d.span().end());
  write_seed("pem", "encrypted_private_key", 0, text_bytes(encrypted_pem));
  write_seed("pem", "private_key", 1, text_bytes(key_pem));
  write_seed("pem", "rsa_private_key", 1, text_bytes(rsa_pem));
  write_seed("pem", "private_key_der", 2, key_der);
  write_seed("pem", "public_key", 3, text_bytes(public_pem));
  write_seed("pem", "public_key_der", 4, spki);
  write_seed("pem", "certificate", 5, text_bytes(leaf_pem));
  write_seed("pem", "certificate_der", 6, pki.leaf.der());
  write_seed("pem", "bundle", 7, text_bytes(bundle));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR (fuzz/corpus)\n", argv[0]);
    return 2;
  }
  out_dir = argv[1];
  handshake_seeds();
  record_seeds();
  certificate_seeds();
  std::printf("make_fuzz_seeds: %d seeds written under %s\n", written, out_dir.c_str());
  return 0;
}
