// How a server connection in traffic state reacts to an arbitrary alert or heartbeat record.
//
// Once per process, a client and a server (common.hpp's fixed PKI, replayable randomness)
// complete three handshakes in memory: TLS 1.3, TLS 1.2 AES-GCM and legacy TLS 1.2 AES-CBC
// (both with heartbeat). The client's bytes and its key log are kept. For each input a fresh
// server, its randomness reset, is fed the recorded client bytes (it reaches traffic state on
// the same keys), then one record the client could have sent: byte 0 picks the handshake,
// byte 1 the record (an alert with the rest as its fragment, a heartbeat message, or the rest
// fed raw, unprotected); the client's write keys come from its key log.
//
// Checks: the reaction the RFCs prescribe (below); a heartbeat response echoes exactly the
// request's payload (no Heartbleed over-read); raw bytes never yield application data; a
// failure is sticky; a connection that survives still carries application data.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bulwark/tls/key_schedule.hpp"
#include "bulwark/tls/messages.hpp"
#include "common.hpp"
#include "tls/tls12.hpp"

using namespace bulwark;
using namespace bulwark::tls;
using fuzz::check;
using fuzz::must;

namespace {

struct Handshake {
  explicit Handshake(std::string seed) : server_rng(std::move(seed)) {}
  fuzz::ReplayRandom server_rng;
  std::shared_ptr<ServerConfig> cfg;
  std::vector<std::vector<std::uint8_t>> to_server;
  const CipherSuiteInfo* suite = nullptr;
  bool tls13 = true;
  std::vector<std::uint8_t> client_random, server_random, secret;
  // Records each direction protected after its Finished: where our sealers start.
  std::uint64_t client_records = 0, server_records = 0;
};

std::unique_ptr<Handshake> record_handshake(int which) {
  auto h = std::make_unique<Handshake>("fuzz-alerts-server");
  const bool legacy = which == 2;
  h->cfg = fuzz::server_config(h->server_rng, legacy);
  fuzz::ReplayRandom client_rng("fuzz-alerts-client");
  auto ccfg = fuzz::client_config(client_rng, legacy);
  if (which != 0) ccfg->max_version = ProtocolVersion::tls12;
  if (which == 2) ccfg->cipher_suites = {CipherSuite::tls_ecdhe_ecdsa_with_aes_128_cbc_sha256};
  ccfg->key_log = [&h](std::string_view label, wire::Bytes client_random, wire::Bytes secret) {
    if (label == "CLIENT_TRAFFIC_SECRET_0" || label == "CLIENT_RANDOM") {
      h->client_random.assign(client_random.begin(), client_random.end());
      h->secret.assign(secret.begin(), secret.end());
    }
  };
  auto client = must(Connection::client(ccfg, std::string(fuzz::fuzz_host)));
  auto server = must(Connection::server(h->cfg));
  h->server_rng.reset();
  const fuzz::Exchange ex = fuzz::run_handshake(client, server);
  check(ex.done && !h->secret.empty());
  h->to_server = ex.to_server;
  h->suite = find_cipher_suite(client.info().cipher_suite);
  h->tls13 = client.info().version == ProtocolVersion::tls13;
  check(h->suite != nullptr && h->tls13 == (which == 0));
  check(h->tls13 || server.info().heartbeat);  // the client may send heartbeat requests
  // ServerHello.random: record header (5), handshake header (4), legacy_version (2).
  const auto& hello = ex.to_client.front();
  check(hello.size() >= 43);
  h->server_random.assign(hello.begin() + 11, hello.begin() + 43);
  // TLS 1.2: each side's Finished went out under the new keys; the server's TLS 1.3
  // NewSessionTickets do not matter here (we never read the server's TLS 1.3 records).
  if (!h->tls13) h->client_records = h->server_records = 1;
  return h;
}

// The client's (or the server's) write cipher after the handshake.
RecordCipher traffic_cipher(const Handshake& h, bool client_side, crypto::Random& iv_source) {
  if (h.tls13) {
    check(client_side);
    const TrafficKeys keys = must(KeySchedule::traffic_keys(*h.suite, h.secret));
    return must(RecordCipher::tls13(*h.suite, keys.key.span(), keys.iv.span()));
  }
  RecordCiphers12 both =
      must(key_block12(*h.suite, h.secret, h.client_random, h.server_random, iv_source));
  RecordCipher c = client_side ? std::move(both.client_write) : std::move(both.server_write);
  // Bring the sequence number to where the handshake left it.
  const std::uint64_t skip = client_side ? h.client_records : h.server_records;
  std::vector<std::uint8_t> scratch(record_header_size + c.sealed_length(0));
  for (std::uint64_t i = 0; i < skip; ++i)
    check(c.seal(scratch, 0).ok());
  return c;
}

// Feeds `bytes`; returns whether the server accepted them.
bool feed(Connection& server, wire::Bytes bytes) {
  const bool was_failed = server.failed();
  const bool ok = server.feed(bytes).ok();
  if (was_failed) check(!ok);  // errors are sticky
  return ok;
}

// The heartbeat responses in `out` (records under `cipher`): their payloads.
std::vector<std::vector<std::uint8_t>> heartbeat_responses(std::vector<std::uint8_t> out,
                                                           RecordCipher cipher) {
  RecordReader reader;
  reader.set_tls13(false);
  reader.set_cipher(std::move(cipher));
  check(reader.feed(out).ok());
  std::vector<std::vector<std::uint8_t>> payloads;
  while (true) {
    auto rec = reader.next();
    check(rec.ok());
    if (!*rec) break;
    check((*rec)->type == ContentType::heartbeat);
    auto hb = HeartbeatMessage::decode((*rec)->fragment);
    check(hb.ok() && hb->type == HeartbeatMessageType::heartbeat_response);
    payloads.emplace_back(hb->payload.begin(), hb->payload.end());
  }
  check(reader.buffered() == 0);
  return payloads;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::unique_ptr<Handshake>> handshakes = [] {
    std::vector<std::unique_ptr<Handshake>> v;
    for (int i = 0; i < 3; ++i)
      v.push_back(record_handshake(i));
    return v;
  }();
  if (size < 2) return 0;
  Handshake& h = *handshakes[data[0] % handshakes.size()];
  const int mode = data[1] % 3;
  const wire::Bytes fragment(data + 2, size - 2);

  h.server_rng.reset();
  auto server = must(Connection::server(h.cfg));
  for (const auto& flight : h.to_server)
    check(feed(server, flight));
  check(server.handshake_done());
  (void)fuzz::take_output(server);

  crypto::DeterministicRandom iv_source(fuzz::bytes_of("fuzz-alerts-iv"));
  RecordWriter writer;
  writer.set_tls13(h.tls13);
  writer.set_cipher(traffic_cipher(h, true, iv_source));
  std::vector<std::uint8_t> record;

  if (mode == 2) {
    // Unprotected bytes in traffic state: whatever they are, no application data comes out.
    (void)feed(server, fragment);
    std::uint8_t buf[64];
    check(server.read(buf) == 0);
    return 0;
  }

  const ContentType type = mode == 0 ? ContentType::alert : ContentType::heartbeat;
  check(writer.write(type, fragment, record).ok());
  const bool accepted = feed(server, record);
  const auto out = fuzz::take_output(server);

  if (mode == 0) {
    // RFC 8446 §5.1: an alert is exactly two bytes, never fragmented or coalesced.
    if (fragment.size() != 2) check(!accepted && server.failed());
    if (fragment.size() == 2) {
      const auto description = static_cast<AlertDescription>(fragment[1]);
      const bool warning = fragment[0] == static_cast<std::uint8_t>(AlertLevel::warning);
      if (description == AlertDescription::close_notify) {
        check(accepted && server.state() == State::peer_closed);
      } else if (description == AlertDescription::user_canceled || (!h.tls13 && warning)) {
        // RFC 8446 §6.1 (user_canceled), RFC 5246 §7.2 (a TLS 1.2 warning): not fatal.
        check(accepted && server.state() == State::established);
      } else {
        // RFC 8446 §6.2 / RFC 5246 §7.2.2: an error alert ends the connection; nothing is
        // sent back, and no further data is received.
        check(!accepted && server.failed());
        check(server.failure()->kind == Failure::Kind::received_alert);
        check(server.failure()->alert == description);
        check(out.empty());
      }
    }
  } else if (h.tls13) {
    // RFC 8446 §5: TLS 1.3 has no heartbeat content type: unexpected_message.
    check(!accepted && server.failed());
  } else {
    auto hb = HeartbeatMessage::decode(fragment);
    const bool request = hb && hb->type == HeartbeatMessageType::heartbeat_request;
    if (request) {
      // RFC 6520 §4: the response carries a copy of the request's payload, nothing more.
      check(accepted);
      const auto payloads = heartbeat_responses(out, traffic_cipher(h, false, iv_source));
      check(payloads.size() == 1);
      check(std::equal(payloads[0].begin(), payloads[0].end(), hb->payload.begin(),
                       hb->payload.end()));
    } else if (hb || hb.error() == Errc::length_overflow) {
      // RFC 6520 §4: an unexpected response and a payload_length beyond the message (the
      // Heartbleed request) are discarded silently.
      check(accepted && out.empty());
    } else {
      check(!accepted && server.failed());
    }
  }

  // A surviving connection still carries data; a failed or closed one takes none.
  static constexpr std::uint8_t ping[] = {'p', 'i', 'n', 'g'};
  record.clear();
  check(writer.write(ContentType::application_data, ping, record).ok());
  const auto state = server.state();
  const bool took = feed(server, record);
  std::uint8_t buf[16];
  const std::size_t n = server.read(buf);
  if (state == State::established) {
    check(took && n == sizeof ping && std::equal(buf, buf + n, ping));
  } else {
    // RFC 8446 §6.1: data after close_notify is ignored.
    check(n == 0);
  }
  return 0;
}
