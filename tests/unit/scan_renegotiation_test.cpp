// The client-initiated renegotiation probe against bulwark's own TLS 1.2 server in memory
// (which refuses renegotiation with a no_renegotiation warning), across suites, groups, key
// types and a CertificateRequest; servers it cannot test (no ECDHE AEAD suite, TLS 1.3 only,
// garbage, an early close); and the answers of a server that does renegotiate, a fatal alert
// and a close, sealed under the server's real keys (from its key log).
#include "bulwark/scan/renegotiation.hpp"

#include <gtest/gtest.h>

#include "bulwark/scan/suites.hpp"
#include "bulwark/tls/connection.hpp"
#include "support/pki.hpp"
#include "support/tls_pair.hpp"
#include "tls/tls12.hpp"

namespace bulwark::scan {
namespace {

using tls::CipherSuite;
using tls::NamedGroup;

// What the server's key log told: the TLS 1.2 master secret by client random.
struct KeyLog {
  std::vector<std::uint8_t> client_random;
  std::vector<std::uint8_t> master;
};

struct Exchange {
  tls::Connection server;
  RenegotiationProbe probe;
  std::shared_ptr<KeyLog> keys;
  std::array<std::uint8_t, 32> server_random{};
  std::vector<std::uint8_t> server_answer;  // what the server said after our renegotiation hello
};

std::shared_ptr<tls::ServerConfig> tls12_server(const test::Pki& pki) {
  auto cfg = test::server_config(pki);
  cfg->max_version = tls::ProtocolVersion::tls12;
  return cfg;
}

// Starts the probe against a server made from `cfg` and moves bytes both ways until the probe
// is done, or (with `stop_at_renegotiation`) until the renegotiation ClientHello is delivered,
// the server's answer then kept in server_answer instead of being fed to the probe.
Exchange run(std::shared_ptr<tls::ServerConfig> cfg, bool stop_at_renegotiation = false) {
  auto keys = std::make_shared<KeyLog>();
  cfg->key_log = [keys](std::string_view label, wire::Bytes client_random, wire::Bytes secret) {
    if (label == "CLIENT_RANDOM") {
      keys->client_random.assign(client_random.begin(), client_random.end());
      keys->master.assign(secret.begin(), secret.end());
    }
  };
  auto server = tls::Connection::server(cfg);
  EXPECT_TRUE(server) << server.error().message();
  auto probe = RenegotiationProbe::start("leaf.example.com", crypto::SystemRandom::instance());
  EXPECT_TRUE(probe) << probe.error().message();
  Exchange r{std::move(*server), std::move(*probe), keys, {}, {}};
  bool first_server_bytes = true;
  for (int round = 0; round < 32 && !r.probe.done(); ++round) {
    const bool reneg_out = r.probe.renegotiation_sent();
    const wire::Bytes to_server = r.probe.pending_output();
    std::vector<std::uint8_t> bytes(to_server.begin(), to_server.end());
    r.probe.consume_output(bytes.size());
    if (!bytes.empty() && !r.server.failed()) (void)r.server.feed(bytes);
    const wire::Bytes to_probe = r.server.pending_output();
    std::vector<std::uint8_t> back(to_probe.begin(), to_probe.end());
    r.server.consume_output(back.size());
    if (first_server_bytes && back.size() >= 43) {
      // The ServerHello leads the server's first record: header 5, message header 4,
      // version 2, then the random.
      std::copy(back.begin() + 11, back.begin() + 43, r.server_random.begin());
      first_server_bytes = false;
    }
    if (stop_at_renegotiation && reneg_out) {
      r.server_answer = std::move(back);
      break;
    }
    if (back.empty() && bytes.empty()) break;
    r.probe.feed(back);
  }
  return r;
}

// Records sealed under the server's write key, continuing after its Finished (sequence 1).
tls::RecordWriter server_writer(const Exchange& r) {
  const tls::CipherSuiteInfo* suite =
      tls::find_cipher_suite(static_cast<CipherSuite>(r.probe.cipher_suite()));
  EXPECT_NE(suite, nullptr);
  auto ciphers = tls::key_block12(*suite, r.keys->master, r.keys->client_random, r.server_random);
  EXPECT_TRUE(ciphers) << ciphers.error().message();
  tls::RecordWriter w;
  w.set_tls13(false);
  w.set_cipher(std::move(ciphers->server_write));
  // The server's Finished used sequence number 0.
  std::vector<std::uint8_t> spent;
  static constexpr std::uint8_t finished_stand_in[] = {20, 0, 0, 12, 0, 0, 0, 0,
                                                       0,  0, 0, 0,  0, 0, 0, 0};
  EXPECT_TRUE(w.write(tls::ContentType::handshake, finished_stand_in, spent));
  return w;
}

TEST(ScanRenegotiation, ProbeOffersOnlyEcdheAeadSuites) {
  const auto suites = renegotiation_probe_suites();
  ASSERT_FALSE(suites.empty());
  for (std::uint16_t id : suites) {
    const SuiteInfo* info = find_suite(id);
    ASSERT_NE(info, nullptr) << id;
    EXPECT_TRUE(info->ecdhe && info->aead && !info->tls13) << info->name;
  }
  EXPECT_NE(std::find(suites.begin(), suites.end(), 0xc02f), suites.end());  // RSA AES-128-GCM
  EXPECT_NE(std::find(suites.begin(), suites.end(), 0xc02c), suites.end());  // ECDSA AES-256
}

TEST(ScanRenegotiation, BulwarkServerRefusesWithNoRenegotiationWarning) {
  auto pki = test::make_pki();
  Exchange r = run(tls12_server(pki));
  ASSERT_TRUE(r.probe.done());
  EXPECT_EQ(r.probe.answer(), RenegotiationAnswer::refused_warning) << r.probe.detail();
  EXPECT_EQ(r.probe.detail(), "alert no_renegotiation (warning)");
  EXPECT_TRUE(r.probe.secure_renegotiation());
  EXPECT_TRUE(r.probe.extended_master_secret());
  EXPECT_EQ(r.probe.cipher_suite(), 0xc02b);  // the server's first choice for an ECDSA key
  EXPECT_EQ(r.probe.group(), 0x001d);
  // The server saw a complete handshake (our Finished verified) before the renegotiation.
  EXPECT_TRUE(r.server.handshake_done());
  EXPECT_FALSE(r.server.failed());
}

struct Params {
  crypto::KeyType key;
  CipherSuite suite;
  NamedGroup group;
};

TEST(ScanRenegotiation, EverySuiteKindAndGroupCompletesTheFirstHandshake) {
  const Params cases[] = {
      {crypto::KeyType::ec_p256, CipherSuite::tls_ecdhe_ecdsa_with_aes_256_gcm_sha384,
       NamedGroup::secp256r1},
      {crypto::KeyType::rsa, CipherSuite::tls_ecdhe_rsa_with_aes_128_gcm_sha256,
       NamedGroup::secp384r1},
      {crypto::KeyType::rsa, CipherSuite::tls_ecdhe_rsa_with_aes_256_gcm_sha384,
       NamedGroup::x25519},
      {crypto::KeyType::ec_p256, CipherSuite::tls_ecdhe_ecdsa_with_chacha20_poly1305_sha256,
       NamedGroup::x25519},
  };
  for (const Params& p : cases) {
    auto pki = test::make_pki({.leaf = {.key_type = p.key}});
    auto cfg = tls12_server(pki);
    cfg->cipher_suites = {p.suite};
    cfg->groups = {p.group};
    Exchange r = run(cfg);
    EXPECT_EQ(r.probe.answer(), RenegotiationAnswer::refused_warning)
        << suite_name(static_cast<std::uint16_t>(p.suite)) << ": " << r.probe.detail();
    EXPECT_EQ(r.probe.cipher_suite(), static_cast<std::uint16_t>(p.suite));
    EXPECT_EQ(r.probe.group(), static_cast<std::uint16_t>(p.group));
  }
}

TEST(ScanRenegotiation, CertificateRequestIsAnsweredWithAnEmptyCertificate) {
  auto pki = test::make_pki();
  auto cfg = tls12_server(pki);
  cfg->client_auth = tls::ClientAuth::optional;
  cfg->client_trust = pki.trust_store();
  Exchange r = run(cfg);
  EXPECT_EQ(r.probe.answer(), RenegotiationAnswer::refused_warning) << r.probe.detail();
  EXPECT_TRUE(r.server.handshake_done());
}

TEST(ScanRenegotiation, ServerWithoutEcdheAeadSuiteIsNotTested) {
  auto pki = test::make_pki();
  auto cfg = tls12_server(pki);
  cfg->legacy = true;
  cfg->cipher_suites = {CipherSuite::tls_ecdhe_ecdsa_with_aes_128_cbc_sha256};
  Exchange r = run(cfg);
  EXPECT_EQ(r.probe.answer(), RenegotiationAnswer::not_tested);
  EXPECT_FALSE(r.probe.renegotiation_sent());
  EXPECT_NE(r.probe.detail().find("handshake_failure"), std::string::npos) << r.probe.detail();
}

TEST(ScanRenegotiation, Tls13OnlyServerIsNotTested) {
  auto pki = test::make_pki();
  auto cfg = test::server_config(pki);
  cfg->min_version = tls::ProtocolVersion::tls13;
  Exchange r = run(cfg);
  EXPECT_EQ(r.probe.answer(), RenegotiationAnswer::not_tested);
  EXPECT_NE(r.probe.detail().find("protocol_version"), std::string::npos) << r.probe.detail();
}

TEST(ScanRenegotiation, GarbageOrCloseBeforeTheHandshakeIsNotTested) {
  {
    auto p = RenegotiationProbe::start("", crypto::SystemRandom::instance());
    ASSERT_TRUE(p);
    EXPECT_FALSE(p->pending_output().empty());
    static constexpr std::uint8_t http[] = {'H', 'T', 'T', 'P', '/', '1', '.', '1', ' '};
    p->feed(http);
    EXPECT_EQ(p->answer(), RenegotiationAnswer::not_tested);
  }
  {
    auto p = RenegotiationProbe::start("", crypto::SystemRandom::instance());
    ASSERT_TRUE(p);
    p->transport_closed();
    EXPECT_EQ(p->answer(), RenegotiationAnswer::not_tested);
  }
  {
    // A ServerHello choosing a suite we did not offer (TLS_RSA_WITH_AES_128_GCM_SHA256).
    auto p = RenegotiationProbe::start("", crypto::SystemRandom::instance());
    ASSERT_TRUE(p);
    std::vector<std::uint8_t> rec = {22, 3, 3, 0, 42, 2, 0, 0, 38, 3, 3};
    rec.resize(rec.size() + 32, 0x11);
    rec.insert(rec.end(), {0, 0x00, 0x9c, 0});
    p->feed(rec);
    EXPECT_EQ(p->answer(), RenegotiationAnswer::not_tested);
    EXPECT_NE(p->detail().find("not offered"), std::string::npos) << p->detail();
  }
}

TEST(ScanRenegotiation, RenegotiatingServerIsAccepted) {
  auto pki = test::make_pki();
  Exchange r = run(tls12_server(pki), /*stop_at_renegotiation=*/true);
  ASSERT_TRUE(r.probe.renegotiation_sent()) << r.probe.detail();
  ASSERT_FALSE(r.probe.done());
  // The real server refused; the probe is shown a ServerHello instead, as a server that
  // renegotiates would send, sealed under the same keys.
  tls::RecordWriter w = server_writer(r);
  std::vector<std::uint8_t> answer;
  std::vector<std::uint8_t> server_hello = {2, 0, 0, 38, 3, 3};
  server_hello.resize(server_hello.size() + 32, 0x22);
  server_hello.insert(server_hello.end(), {0, 0xc0, 0x2b, 0});
  ASSERT_TRUE(w.write(tls::ContentType::handshake, server_hello, answer));
  r.probe.feed(answer);
  EXPECT_EQ(r.probe.answer(), RenegotiationAnswer::accepted) << r.probe.detail();
}

TEST(ScanRenegotiation, FatalAlertCloseAndNoiseAfterTheRenegotiationHello) {
  auto pki = test::make_pki();
  {
    Exchange r = run(tls12_server(pki), true);
    ASSERT_TRUE(r.probe.renegotiation_sent());
    tls::RecordWriter w = server_writer(r);
    std::vector<std::uint8_t> answer;
    static constexpr std::uint8_t fatal[] = {2, 40};  // handshake_failure
    ASSERT_TRUE(w.write(tls::ContentType::alert, fatal, answer));
    r.probe.feed(answer);
    EXPECT_EQ(r.probe.answer(), RenegotiationAnswer::refused_fatal);
    EXPECT_EQ(r.probe.detail(), "alert handshake_failure (fatal)");
  }
  {
    Exchange r = run(tls12_server(pki), true);
    ASSERT_TRUE(r.probe.renegotiation_sent());
    r.probe.transport_closed();
    EXPECT_EQ(r.probe.answer(), RenegotiationAnswer::closed);
  }
  {
    // Application data is no answer; a record that does not open is not one we can name.
    Exchange r = run(tls12_server(pki), true);
    ASSERT_TRUE(r.probe.renegotiation_sent());
    tls::RecordWriter w = server_writer(r);
    std::vector<std::uint8_t> answer;
    static constexpr std::uint8_t data[] = {'h', 'i'};
    ASSERT_TRUE(w.write(tls::ContentType::application_data, data, answer));
    r.probe.feed(answer);
    EXPECT_FALSE(r.probe.done());
    static constexpr std::uint8_t forged[] = {23, 3,  3,  0,  30, 1,  2,  3,  4,  5,  6,  7,
                                              8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                                              20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30};
    r.probe.feed(forged);
    EXPECT_EQ(r.probe.answer(), RenegotiationAnswer::unexpected);
  }
  {
    // The bulwark server's own refusal, delivered: the warning.
    Exchange r = run(tls12_server(pki), true);
    r.probe.feed(r.server_answer);
    EXPECT_EQ(r.probe.answer(), RenegotiationAnswer::refused_warning);
  }
}

}  // namespace
}  // namespace bulwark::scan
