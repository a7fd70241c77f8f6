// The seeds' attacks (issue #8), each a named test that drives real tls::Connection objects end
// to end: Heartbleed, Slapper, CRIME, BEAST/POODLE, the renegotiation flood, truncation, the
// host-name man in the middle, the OpenSSH-style integrity sweep, and the wiping of secrets.
//
// Where an attacker must speak inside an established TLS 1.2 connection (a heartbeat, a
// renegotiation), the test plays the client: it learns the master secret from the key log and
// seals records with the client's write key (key_block12), as a client with a modified stack
// would.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bulwark/crypto/secret.hpp"
#include "bulwark/tls/cipher_suites.hpp"
#include "bulwark/tls/config.hpp"
#include "bulwark/tls/connection.hpp"
#include "bulwark/tls/key_schedule.hpp"
#include "bulwark/tls/messages.hpp"
#include "bulwark/tls/record.hpp"
#include "support/pki.hpp"
#include "support/tls_pair.hpp"
#include "tls/tls12.hpp"

using namespace bulwark;
using namespace bulwark::tls;
using test::pattern;
using test::pump;
using test::why;
using V = std::vector<std::uint8_t>;

namespace {

const test::Pki& pki() {
  static const test::Pki p = test::make_pki();
  return p;
}

std::shared_ptr<ClientConfig> client_config() {
  return test::client_config(pki());
}

std::shared_ptr<ServerConfig> server_config() {
  return test::server_config(pki());
}

std::shared_ptr<ClientConfig> client12_config() {
  auto c = client_config();
  c->max_version = ProtocolVersion::tls12;
  return c;
}

// Everything `from` has to send, taken out of it.
V take_output(Connection& from) {
  auto out = from.pending_output();
  V bytes(out.begin(), out.end());
  from.consume_output(bytes.size());
  return bytes;
}

// All application data `c` has received so far.
V read_all(Connection& c) {
  V got;
  std::uint8_t buf[4096];
  while (std::size_t n = c.read(buf))
    got.insert(got.end(), buf, buf + n);
  return got;
}

test::Pair connected(std::shared_ptr<ClientConfig> c, std::shared_ptr<ServerConfig> s) {
  auto p = test::connect(std::move(c), std::move(s));
  EXPECT_TRUE(pump(p.client, p.server)) << why(p);
  EXPECT_TRUE(p.client.handshake_done() && p.server.handshake_done()) << why(p);
  return p;
}

// A fresh server's answer to `bytes`: the alert it sent, or nullopt if it did not fail. Checks
// that the alert really is on the wire (a fatal alert record at the end of its output).
std::optional<AlertDescription> server_alert(const V& bytes,
                                             std::shared_ptr<ServerConfig> cfg = server_config()) {
  auto s = Connection::server(std::move(cfg)).value();
  if (s.feed(bytes)) return std::nullopt;
  EXPECT_EQ(s.failure()->kind, Failure::Kind::sent_alert) << s.failure()->error.message();
  const V out = take_output(s);
  EXPECT_GE(out.size(), 7u);
  if (out.size() >= 7) {
    EXPECT_EQ(out[out.size() - 7], static_cast<std::uint8_t>(ContentType::alert));
    EXPECT_EQ(out[out.size() - 2], static_cast<std::uint8_t>(AlertLevel::fatal));
    EXPECT_EQ(out[out.size() - 1], static_cast<std::uint8_t>(s.failure()->alert));
  }
  return s.failure()->alert;
}

// --- editing a real handshake record ----------------------------------------------------------
// `rec` starts with one record holding one handshake message (record header 5, handshake
// header 4). These keep both length fields right when the message grows.

void add_to_length(V& rec, std::size_t at, std::size_t width, std::ptrdiff_t delta) {
  std::ptrdiff_t v = 0;
  for (std::size_t i = 0; i < width; ++i)
    v = (v << 8) | rec[at + i];
  v += delta;
  for (std::size_t i = width; i-- > 0; v >>= 8)
    rec[at + i] = static_cast<std::uint8_t>(v);
}

void insert_into_message(V& rec, std::size_t at, std::size_t n, std::uint8_t fill) {
  rec.insert(rec.begin() + static_cast<std::ptrdiff_t>(at), n, fill);
  add_to_length(rec, 3, 2, static_cast<std::ptrdiff_t>(n));  // TLSPlaintext.length
  add_to_length(rec, 6, 3, static_cast<std::ptrdiff_t>(n));  // Handshake.length
}

// Offsets in a ClientHello record: version at 9, random at 11, session id length at 43.
constexpr std::size_t hello_version_at = 9;
constexpr std::size_t session_id_length_at = 43;

std::size_t compression_length_at(const V& hello) {
  const std::size_t suites_at = session_id_length_at + 1 + hello[session_id_length_at];
  return suites_at + 2 + ((hello[suites_at] << 8) | hello[suites_at + 1]);
}

// The offset of extension `type` in a ClientHello record (its type field) and its body length.
std::optional<std::pair<std::size_t, std::size_t>> find_extension(const V& hello,
                                                                  ExtensionType type) {
  const std::size_t compression_at = compression_length_at(hello);
  std::size_t at = compression_at + 1 + hello[compression_at] + 2;
  while (at + 4 <= hello.size()) {
    const std::size_t length = (hello[at + 2] << 8) | hello[at + 3];
    if (((hello[at] << 8) | hello[at + 1]) == static_cast<int>(type)) return std::pair{at, length};
    at += 4 + length;
  }
  return std::nullopt;
}

V client_hello_of(std::shared_ptr<ClientConfig> cfg) {
  auto c = Connection::client(std::move(cfg), "leaf.example.com").value();
  return take_output(c);
}

// The decoded ClientHello in `rec` (whose bytes it views).
ClientHello decode_hello(const V& rec) {
  wire::Reader r(wire::Bytes(rec).subspan(record_header_size));
  auto m = read_handshake(r);
  EXPECT_TRUE(m);
  if (!m) return {};
  wire::Reader body(m->body);
  auto ch = ClientHello::decode(body);
  EXPECT_TRUE(ch) << ch.error().message();
  return ch ? *ch : ClientHello{};
}

// --- a TLS 1.2 connection whose client keys the test knows ------------------------------------

struct Session12 {
  test::Pair pair;
  V client_random;
  V server_random;
  V master;
  const CipherSuiteInfo* suite = nullptr;
};

// Runs a full TLS 1.2 handshake flight by flight, keeping what a client knows.
Session12 handshake12(std::shared_ptr<ClientConfig> c, std::shared_ptr<ServerConfig> s) {
  auto logged = std::make_shared<std::pair<V, V>>();
  c->key_log = [logged](std::string_view label, wire::Bytes random, wire::Bytes secret) {
    if (label == "CLIENT_RANDOM")
      *logged = {V(random.begin(), random.end()), V(secret.begin(), secret.end())};
  };
  Session12 out{test::connect(c, std::move(s)), {}, {}, {}, nullptr};
  auto& [client, server] = out.pair;
  EXPECT_TRUE(server.feed(take_output(client)));
  const V server_flight = take_output(server);
  // ServerHello: record header 5, handshake header 4, version 2, then the random.
  out.server_random.assign(server_flight.begin() + 11, server_flight.begin() + 43);
  EXPECT_TRUE(client.feed(server_flight));
  EXPECT_TRUE(server.feed(take_output(client))) << why(out.pair);
  EXPECT_TRUE(client.feed(take_output(server))) << why(out.pair);
  EXPECT_TRUE(client.handshake_done() && server.handshake_done()) << why(out.pair);
  EXPECT_EQ(client.info().version, ProtocolVersion::tls12);
  out.client_random = logged->first;
  out.master = logged->second;
  out.suite = find_cipher_suite(client.info().cipher_suite);
  return out;
}

// A side's record writer as it stands after its Finished (sequence number 1), rebuilt from the
// master secret: what a malicious peer sends with it is exactly as protected as what the real
// one would send.
RecordWriter forged_writer(const Session12& s, Role sender) {
  auto ciphers = key_block12(*s.suite, s.master, s.client_random, s.server_random).value();
  RecordWriter w;
  w.set_tls13(false);
  w.set_cipher(std::move(sender == Role::client ? ciphers.client_write : ciphers.server_write));
  V finished_slot;
  EXPECT_TRUE(w.write(ContentType::handshake, V(16, 0), finished_slot));  // sequence 0
  return w;
}

V seal(RecordWriter& w, ContentType type, const V& plaintext) {
  V rec;
  EXPECT_TRUE(w.write(type, plaintext, rec));
  return rec;
}

// The connection still carries data both ways; the client's side is the forged writer.
void expect_data_flows(Session12& s, RecordWriter& client_writer, const char* when) {
  const V up = pattern(300);
  ASSERT_TRUE(s.pair.server.feed(seal(client_writer, ContentType::application_data, up)))
      << when << ": " << why(s.pair);
  EXPECT_EQ(read_all(s.pair.server), up) << when;
  const V down = pattern(500);
  ASSERT_TRUE(s.pair.server.send(down)) << when;
  ASSERT_TRUE(s.pair.client.feed(take_output(s.pair.server))) << when << ": " << why(s.pair);
  EXPECT_EQ(read_all(s.pair.client), down) << when;
}

std::shared_ptr<ServerConfig> heartbeat_server() {
  auto s = server_config();
  s->heartbeat = true;
  return s;
}

std::shared_ptr<ClientConfig> heartbeat_client() {
  auto c = client12_config();
  c->heartbeat = true;
  return c;
}

// A heartbeat_request (RFC 6520 §4) claiming `claimed` payload bytes in a fragment of `size`.
V heartbeat_request(std::uint16_t claimed, std::size_t size) {
  V m(size, 0x2a);
  m[0] = static_cast<std::uint8_t>(HeartbeatMessageType::heartbeat_request);
  m[1] = static_cast<std::uint8_t>(claimed >> 8);
  m[2] = static_cast<std::uint8_t>(claimed);
  return m;
}

}  // namespace

// --- Heartbleed ----------------------------------------------------------------------------------

// The Heartbleed request: payload_length larger than the payload. RFC 6520 §4: "If the
// payload_length of a received HeartbeatMessage is too large, the received HeartbeatMessage
// MUST be discarded silently." Nothing comes back (no memory, no alert), and the connection
// goes on.
TEST(SeedAttacks, HeartbleedOverclaimedLengthIsDiscardedSilently) {
  auto s = handshake12(heartbeat_client(), heartbeat_server());
  ASSERT_TRUE(s.pair.server.info().heartbeat);
  auto w = forged_writer(s, Role::client);
  auto& server = s.pair.server;

  // The original exploit's shape: one byte of payload claiming 16 KiB.
  ASSERT_TRUE(server.feed(seal(w, ContentType::heartbeat, heartbeat_request(0x4000, 3 + 1 + 16))))
      << why(s.pair);
  EXPECT_TRUE(server.pending_output().empty()) << "nothing may be sent back";
  // RFC 6520 §4: the padding (at least 16 bytes) counts against the claim too.
  ASSERT_TRUE(server.feed(seal(w, ContentType::heartbeat, heartbeat_request(5, 3 + 5 + 15))));
  EXPECT_TRUE(server.pending_output().empty());
  // At the record-size limit: a 2^14-byte fragment claiming 0xffff, and one claiming a single
  // byte more than fits.
  ASSERT_TRUE(
      server.feed(seal(w, ContentType::heartbeat, heartbeat_request(0xffff, max_plaintext))));
  EXPECT_TRUE(server.pending_output().empty());
  ASSERT_TRUE(server.feed(seal(
      w, ContentType::heartbeat,
      heartbeat_request(static_cast<std::uint16_t>(max_plaintext - 3 - 16 + 1), max_plaintext))));
  EXPECT_TRUE(server.pending_output().empty());
  EXPECT_EQ(server.state(), State::established);

  // The same request with an honest length is answered (a heartbeat record as long as the
  // request's: 3 + payload + 16 bytes of padding): the discarding above was the length check,
  // not heartbeats switched off.
  const std::uint16_t fits = static_cast<std::uint16_t>(max_plaintext - 3 - 16);
  ASSERT_TRUE(server.feed(seal(w, ContentType::heartbeat, heartbeat_request(fits, max_plaintext))));
  const V answer = take_output(server);
  ASSERT_FALSE(answer.empty());
  EXPECT_EQ(answer[0], static_cast<std::uint8_t>(ContentType::heartbeat));
  EXPECT_EQ(answer.size(), record_header_size + w.cipher()->sealed_length(max_plaintext));
  // The real client never asked: it discards the response (RFC 6520 §4) and stays healthy.
  ASSERT_TRUE(s.pair.client.feed(answer)) << why(s.pair);
  EXPECT_FALSE(s.pair.client.take_heartbeat_response());

  expect_data_flows(s, w, "after the Heartbleed requests");
}

// --- Slapper -------------------------------------------------------------------------------------

// SSLv2 messages (the protocol whose CLIENT-MASTER-KEY key_arg overflow the Slapper worm used)
// are not TLS records: their first byte, 0x80 | length, is no content type. RFC 5246 §6 / RFC
// 8446 §5: a record of an unexpected type MUST be answered with unexpected_message. Nothing is
// parsed as SSLv2, so the overlong fields cannot overflow anything (this also runs under ASan).
TEST(SeedAttacks, SlapperSslv2MessagesAreRefused) {
  // SSLv2 CLIENT-HELLO: header (2), MSG-CLIENT-HELLO (1), version 0x0002, cipher-specs length 3,
  // session-id length 64 (SSLv2 allows 0 or 16), challenge length 16; then the data.
  V hello = {0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03,
             0x00, 0x40, 0x00, 0x10, 0x07, 0x00, 0xc0};  // SSL_CK_DES_192_EDE3_CBC_WITH_MD5
  hello.resize(hello.size() + 0x40 + 0x10, 0x41);
  hello[1] = static_cast<std::uint8_t>(hello.size() - 2);
  EXPECT_EQ(server_alert(hello), AlertDescription::unexpected_message);

  // SSLv2 CLIENT-MASTER-KEY as Slapper sent it: header (2), MSG-CLIENT-MASTER-KEY (2), cipher
  // kind (3), clear-key length 0, encrypted-key length 0x80, key-arg length 0x70 where the
  // cipher's IV is 8 bytes (the overflow of OpenSSL's 8-byte key_arg buffer, CVE-2002-0656).
  V master_key = {0x80, 0x00, 0x02, 0x07, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x80, 0x00, 0x70};
  master_key.resize(master_key.size() + 0x80 + 0x70, 0x42);
  master_key[1] = static_cast<std::uint8_t>(master_key.size() - 2);
  EXPECT_EQ(server_alert(master_key), AlertDescription::unexpected_message);

  // The same bytes arriving in small pieces: refused as soon as the header is seen.
  auto s = Connection::server(server_config()).value();
  EXPECT_TRUE(s.feed(wire::Bytes(master_key).first(2))) << "two bytes are not yet a record";
  EXPECT_FALSE(s.feed(wire::Bytes(master_key).subspan(2, 40)));
  ASSERT_NE(s.failure(), nullptr);
  EXPECT_EQ(s.failure()->alert, AlertDescription::unexpected_message);
}

// A TLS ClientHello with a session id longer than 32 bytes: RFC 8446 §4.1.2 and RFC 5246
// §7.4.1.2 declare legacy_session_id<0..32>; a field out of its specified range is decode_error
// (RFC 8446 §6.2, RFC 5246 §7.2.2). Built from a real client's hello, TLS 1.3 and TLS 1.2.
TEST(SeedAttacks, SlapperOverlongSessionIdIsDecodeError) {
  for (const auto& cfg : {client_config(), client12_config()}) {
    for (std::size_t length : {33u, 255u}) {
      V hello = client_hello_of(cfg);
      const std::size_t had = hello[session_id_length_at];
      insert_into_message(hello, session_id_length_at + 1 + had, length - had, 0x90);
      hello[session_id_length_at] = static_cast<std::uint8_t>(length);
      EXPECT_EQ(server_alert(hello), AlertDescription::decode_error)
          << "session id of " << length << " bytes, max " << name(cfg->max_version);
    }
  }
}

namespace {

// A TLS 1.2 client's second flight (ClientKeyExchange, ChangeCipherSpec, Finished) before the
// server has seen it, with both connections.
struct SecondFlight {
  test::Pair pair;
  V flight;
};

SecondFlight second_flight() {
  SecondFlight f{test::connect(client12_config(), server_config()), {}};
  EXPECT_TRUE(f.pair.server.feed(take_output(f.pair.client)));
  EXPECT_TRUE(f.pair.client.feed(take_output(f.pair.server)));
  f.flight = take_output(f.pair.client);
  return f;
}

}  // namespace

// The overlong key exchange in TLS 1.2 (Slapper's shape: a key field longer than the buffer
// it is meant for). (A point length claiming more than the message holds is
// Tls12Attacks.OverlongClientKeyExchangeIsDecodeError.)
TEST(SeedAttacks, SlapperOverlongClientKeyExchangeIsRefused) {
  {
    // Bytes after the point: the message is longer than its fields. RFC 5246 §7.2.2 / RFC 8446
    // §6.2: a message that cannot be decoded (wrong length) is decode_error.
    auto f = second_flight();
    ASSERT_EQ(f.flight[5], static_cast<std::uint8_t>(HandshakeType::client_key_exchange));
    const std::size_t cke_end = record_header_size + ((f.flight[3] << 8) | f.flight[4]);
    V flight = f.flight;
    insert_into_message(flight, cke_end, 4000, 0x41);
    ASSERT_FALSE(f.pair.server.feed(flight));
    EXPECT_EQ(f.pair.server.failure()->alert, AlertDescription::decode_error);
  }
  {
    // A well-framed point of 255 bytes where X25519's is 32: a field whose value is out of
    // range for the group chosen, illegal_parameter (RFC 5246 §7.2.2).
    auto f = second_flight();
    ASSERT_EQ(f.flight[9], 32);
    V flight = f.flight;
    insert_into_message(flight, 10 + 32, 255 - 32, 0x41);
    flight[9] = 255;
    ASSERT_FALSE(f.pair.server.feed(flight));
    EXPECT_EQ(f.pair.server.failure()->alert, AlertDescription::illegal_parameter);
  }
}

// --- CRIME ---------------------------------------------------------------------------------------

// Compression is never negotiated. Our client offers only the null method whatever its policy,
// and a server refuses a hello without it.
TEST(SeedAttacks, CrimeCompressionIsNeverNegotiated) {
  auto legacy = client12_config();
  legacy->legacy = true;
  for (const auto& cfg : {client_config(), client12_config(), legacy}) {
    const V hello = client_hello_of(cfg);
    const ClientHello ch = decode_hello(hello);
    ASSERT_EQ(ch.legacy_compression_methods.size(), 1u);
    EXPECT_EQ(*ch.legacy_compression_methods.begin(), 0) << "only null is offered";
  }

  // RFC 8446 §4.1.2: a TLS 1.3 ClientHello whose compression methods are anything but the one
  // null byte MUST be answered with illegal_parameter.
  V deflate13 = client_hello_of(client_config());
  deflate13[compression_length_at(deflate13) + 1] = 1;  // DEFLATE (RFC 3749)
  EXPECT_EQ(server_alert(deflate13), AlertDescription::illegal_parameter);

  // RFC 5246 §7.4.1.2: the list MUST contain null. It names no alert for a list without it;
  // we send illegal_parameter (a field holding a forbidden value, §7.2.2), as for TLS 1.3.
  V deflate12 = client_hello_of(client12_config());
  deflate12[compression_length_at(deflate12) + 1] = 1;
  EXPECT_EQ(server_alert(deflate12), AlertDescription::illegal_parameter);

  // A TLS 1.2 client offering DEFLATE and null gets null (RFC 5246 §7.4.1.3: the server picks).
  V both = client_hello_of(client12_config());
  const std::size_t at = compression_length_at(both);
  insert_into_message(both, at + 1, 1, 1);  // DEFLATE before null
  both[at] = 2;
  auto server = Connection::server(server_config()).value();
  ASSERT_TRUE(server.feed(both)) << server.failure()->error.message();
  const V reply = take_output(server);
  wire::Reader r(wire::Bytes(reply).subspan(record_header_size));
  auto m = read_handshake(r);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->type, HandshakeType::server_hello);
  wire::Reader body(m->body);
  auto sh = ServerHello::decode(body);
  ASSERT_TRUE(sh);
  EXPECT_EQ(sh->legacy_compression_method, 0);
}

// --- BEAST / POODLE ------------------------------------------------------------------------------

// The default configuration offers and accepts only TLS 1.2 and 1.3 and only AEAD suites: no
// CBC (BEAST, Lucky 13, POODLE's padding) and no SSLv3 / TLS 1.0 / TLS 1.1.
TEST(SeedAttacks, BeastPoodleNoCbcAndNothingBelowTls12ByDefault) {
  for (const auto& cfg : {client_config(), client12_config()}) {
    const V hello = client_hello_of(cfg);
    const ClientHello ch = decode_hello(hello);
    EXPECT_EQ(ch.legacy_version, ProtocolVersion::tls12);
    for (CipherSuite suite : ch.cipher_suites) {
      if (suite == CipherSuite::tls_empty_renegotiation_info_scsv) continue;
      const CipherSuiteInfo* info = find_cipher_suite(suite);
      ASSERT_NE(info, nullptr) << "offered an unknown suite " << name(suite);
      EXPECT_EQ(info->protection, RecordProtection::aead) << name(suite);
      EXPECT_FALSE(info->legacy) << name(suite);
    }
    auto versions = ch.extensions.get<SupportedVersionsClientHello>();
    ASSERT_TRUE(versions);
    if (*versions) {
      for (ProtocolVersion v : (*versions)->versions)
        EXPECT_TRUE(v == ProtocolVersion::tls13 || v == ProtocolVersion::tls12) << name(v);
    }
  }
  const ServerConfig defaults;
  for (CipherSuite suite : enabled_cipher_suites(defaults))
    EXPECT_EQ(find_cipher_suite(suite)->protection, RecordProtection::aead) << name(suite);

  // A client offering only CBC suites finds none in common: RFC 5246 §7.4.1.3, handshake_failure.
  auto cbc_only = client12_config();
  cbc_only->legacy = true;
  cbc_only->cipher_suites = {CipherSuite::tls_ecdhe_ecdsa_with_aes_128_cbc_sha,
                             CipherSuite::tls_ecdhe_ecdsa_with_aes_256_cbc_sha};
  EXPECT_EQ(server_alert(client_hello_of(cbc_only)), AlertDescription::handshake_failure);

  // TLS 1.0 and SSLv3 hellos, made from a real TLS 1.2 hello.
  const V hello12 = client_hello_of(client12_config());
  const auto versions_at = find_extension(hello12, ExtensionType::supported_versions);
  ASSERT_TRUE(versions_at);
  ASSERT_EQ(versions_at->second, 3u) << "TLS 1.2 alone: length 2, then 0x0303";
  for (std::uint8_t minor : {std::uint8_t{1}, std::uint8_t{0}}) {  // TLS 1.0 (0x0301), SSLv3
    // An old client: no supported_versions; the old version in the record and the hello. RFC
    // 8446 §D.2: without supported_versions, a server that only supports versions above
    // legacy_version MUST abort the handshake with protocol_version.
    V old = hello12;
    old.erase(old.begin() + static_cast<std::ptrdiff_t>(versions_at->first),
              old.begin() + static_cast<std::ptrdiff_t>(versions_at->first + 4 + 3));
    add_to_length(old, 3, 2, -7);                               // the record
    add_to_length(old, 6, 3, -7);                               // the handshake message
    add_to_length(old, compression_length_at(old) + 2, 2, -7);  // the extensions block
    old[2] = minor;                                             // the record's version
    old[hello_version_at + 1] = minor;                          // ClientHello.legacy_version
    ASSERT_FALSE(decode_hello(old).extensions.contains(ExtensionType::supported_versions));
    EXPECT_EQ(server_alert(old), AlertDescription::protocol_version) << "3." << int(minor);

    // A client that lists only that version in supported_versions: RFC 8446 §4.2.1, no
    // common version, protocol_version.
    V listed = hello12;
    listed[versions_at->first + 4 + 2] = minor;
    EXPECT_EQ(server_alert(listed), AlertDescription::protocol_version) << "3." << int(minor);
  }
}

// --- renegotiation flood ---------------------------------------------------------------------

// The THC renegotiation flood: a client asks for a new handshake again and again. Each request
// is refused with a no_renegotiation warning (RFC 5246 §7.2.2), costing us no handshake; data
// keeps flowing between attempts; past the limit the connection is cut off.
TEST(SeedAttacks, RenegotiationFloodIsRefusedAndTheConnectionStaysHealthy) {
  auto s = handshake12(client12_config(), server_config());
  auto w = forged_writer(s, Role::client);
  auto& server = s.pair.server;
  const V renegotiate = client_hello_of(client12_config());
  // The ClientHello message, without its record header, sent inside the protected channel.
  const V hello_message(renegotiate.begin() + record_header_size, renegotiate.end());
  const std::size_t limit = server_config()->limits.max_renegotiation_attempts;
  ASSERT_GE(limit, 1u);
  for (std::size_t i = 0; i < limit; ++i) {
    ASSERT_TRUE(server.feed(seal(w, ContentType::handshake, hello_message))) << i << why(s.pair);
    const V answer = take_output(server);
    // One protected record holding a two-byte alert: no ServerHello, no handshake.
    EXPECT_EQ(answer.size(), record_header_size + w.cipher()->sealed_length(2)) << i;
    // The real client opens it: a warning, so it stays established.
    ASSERT_TRUE(s.pair.client.feed(answer)) << i << why(s.pair);
    EXPECT_EQ(s.pair.client.state(), State::established);
    EXPECT_EQ(server.state(), State::established);
    expect_data_flows(s, w, "between refused renegotiations");
  }
  EXPECT_FALSE(server.feed(seal(w, ContentType::handshake, hello_message)));
  ASSERT_NE(server.failure(), nullptr);
  EXPECT_EQ(server.failure()->error, Errc::limit_exceeded);
  EXPECT_EQ(server.failure()->kind, Failure::Kind::sent_alert);
  // The client learns why.
  EXPECT_FALSE(s.pair.client.feed(take_output(server)));
  ASSERT_NE(s.pair.client.failure(), nullptr);
  EXPECT_EQ(s.pair.client.failure()->kind, Failure::Kind::received_alert);
  EXPECT_EQ(s.pair.client.failure()->alert, server.failure()->alert);
}

// The same from a server: HelloRequests (RFC 5246 §7.4.1.1) get a no_renegotiation warning
// from our client, which keeps reading data, until it has had enough.
TEST(SeedAttacks, HelloRequestFloodIsRefusedByTheClient) {
  auto s = handshake12(client12_config(), server_config());
  auto w = forged_writer(s, Role::server);
  auto& client = s.pair.client;
  const V hello_request = {static_cast<std::uint8_t>(HandshakeType::hello_request), 0, 0, 0};
  const std::size_t limit = client_config()->limits.max_renegotiation_attempts;
  for (std::size_t i = 0; i < limit; ++i) {
    ASSERT_TRUE(client.feed(seal(w, ContentType::handshake, hello_request))) << i << why(s.pair);
    const V answer = take_output(client);
    // One protected two-byte alert record (the warning), no ClientHello.
    EXPECT_EQ(answer.size(), record_header_size + w.cipher()->sealed_length(2)) << i;
    ASSERT_TRUE(client.feed(seal(w, ContentType::application_data, pattern(700))));
    EXPECT_EQ(read_all(client), pattern(700)) << i;
    EXPECT_EQ(client.state(), State::established);
  }
  EXPECT_FALSE(client.feed(seal(w, ContentType::handshake, hello_request)));
  ASSERT_NE(client.failure(), nullptr);
  EXPECT_EQ(client.failure()->error, Errc::limit_exceeded);
}

// RFC 8446 §4.1.2: TLS 1.3 forbids renegotiation; a server that negotiated TLS 1.3 and receives a
// ClientHello at any other time MUST terminate the connection with unexpected_message. The
// ClientHello comes properly protected under the client's application traffic key.
TEST(SeedAttacks, RenegotiationInTls13IsUnexpectedMessage) {
  auto c = client_config();
  auto traffic_secret = std::make_shared<V>();
  c->key_log = [traffic_secret](std::string_view label, wire::Bytes, wire::Bytes secret) {
    if (label == "CLIENT_TRAFFIC_SECRET_0") traffic_secret->assign(secret.begin(), secret.end());
  };
  auto p = connected(c, server_config());
  ASSERT_EQ(p.client.info().version, ProtocolVersion::tls13);
  const CipherSuiteInfo& suite = *find_cipher_suite(p.client.info().cipher_suite);
  auto keys = KeySchedule::traffic_keys(suite, *traffic_secret).value();
  RecordWriter w;
  w.set_cipher(RecordCipher::tls13(suite, keys.key.span(), keys.iv.span()).value());
  const V hello = client_hello_of(client_config());
  const V hello_message(hello.begin() + record_header_size, hello.end());
  EXPECT_FALSE(p.server.feed(seal(w, ContentType::handshake, hello_message)));
  ASSERT_NE(p.server.failure(), nullptr);
  EXPECT_EQ(p.server.failure()->alert, AlertDescription::unexpected_message);
}

// --- truncation --------------------------------------------------------------------------------

// A transport that ends without close_notify is truncation (RFC 8446 §6.1, RFC 5246 §7.2.1),
// reported as such, never as a clean end of data; with close_notify first it is a clean end.
TEST(SeedAttacks, TruncationWithoutCloseNotifyIsReported) {
  for (const auto& cfg : {client_config(), client12_config()}) {
    const std::string version(name(cfg->max_version));
    {
      auto p = connected(cfg, server_config());
      EXPECT_EQ(test::transfer(p.server, p.client, pattern(1000)), pattern(1000)) << version;
      auto eof = p.client.transport_eof();
      ASSERT_FALSE(eof) << version;
      EXPECT_EQ(eof.error(), Errc::truncated_connection) << version;
      ASSERT_NE(p.client.failure(), nullptr);
      EXPECT_EQ(p.client.failure()->kind, Failure::Kind::transport) << version;
      EXPECT_FALSE(p.client.send(pattern(10))) << "a truncated connection is failed";
    }
    {
      // Cut inside a record: the bytes of half a record, then the end.
      auto p = connected(cfg, server_config());
      ASSERT_TRUE(p.server.send(pattern(1000)));
      const V out = take_output(p.server);
      ASSERT_TRUE(p.client.feed(wire::Bytes(out).first(out.size() / 2)));
      EXPECT_TRUE(read_all(p.client).empty()) << "half a record is no data";
      auto eof = p.client.transport_eof();
      ASSERT_FALSE(eof) << version;
      EXPECT_EQ(eof.error(), Errc::truncated_connection) << version;
    }
    {
      auto p = connected(cfg, server_config());
      ASSERT_TRUE(p.server.send(pattern(1000)));
      ASSERT_TRUE(p.server.close());
      ASSERT_TRUE(p.client.feed(take_output(p.server)));
      EXPECT_EQ(read_all(p.client), pattern(1000));
      EXPECT_TRUE(p.client.transport_eof()) << "close_notify, then the end: a clean close";
      EXPECT_EQ(p.client.state(), State::peer_closed) << version;
    }
  }
}

// --- host-name man in the middle -----------------------------------------------------------------

// The seeds' experiment: www.facebook.com resolved to a server holding a valid certificate for
// www.example.org (from a CA the client trusts). The client refuses and says which names did
// not match. RFC 6125 §6.6 says to abort; no RFC names the alert for a name mismatch: we send
// bad_certificate (alert_for(cert_hostname_mismatch)), as the issue asks.
TEST(SeedAttacks, HostNameMitmIsRejectedWithBothNames) {
  test::PkiOptions o;
  o.leaf.common_name = "www.example.org";
  o.leaf.dns_names = {"www.example.org"};
  static const test::Pki impostor = test::make_pki(o);
  for (ProtocolVersion max : {ProtocolVersion::tls13, ProtocolVersion::tls12}) {
    auto c = test::client_config(impostor);
    c->max_version = max;
    auto p = test::connect(c, test::server_config(impostor), "www.facebook.com");
    EXPECT_FALSE(pump(p.client, p.server));
    ASSERT_NE(p.client.failure(), nullptr) << name(max);
    EXPECT_EQ(p.client.failure()->kind, Failure::Kind::sent_alert);
    EXPECT_EQ(p.client.failure()->alert, AlertDescription::bad_certificate) << name(max);
    EXPECT_EQ(p.client.failure()->error, Errc::cert_hostname_mismatch);
    const std::string message = p.client.failure()->error.message();
    EXPECT_NE(message.find("www.facebook.com"), std::string::npos) << message;
    EXPECT_NE(message.find("www.example.org"), std::string::npos) << message;
    EXPECT_FALSE(p.client.handshake_done());
    // The impostor hears the refusal.
    ASSERT_NE(p.server.failure(), nullptr);
    EXPECT_EQ(p.server.failure()->kind, Failure::Kind::received_alert);
    EXPECT_EQ(p.server.failure()->alert, AlertDescription::bad_certificate);

    // The same certificate under its own name is accepted: it was the name that failed.
    auto q = test::connect(c, test::server_config(impostor), "www.example.org");
    EXPECT_TRUE(pump(q.client, q.server)) << why(q);
    EXPECT_TRUE(q.client.handshake_done());
  }
}

// --- integrity (OpenSSH's test) ------------------------------------------------------------------

namespace {

struct IntegrityCase {
  const char* label;
  ProtocolVersion version;
  CipherSuite suite;
  bool legacy;
};

// What the sender's two application-data records looked like.
struct Flight {
  V bytes;
  std::size_t second_record_at = 0;
  V first_plaintext;
  V second_plaintext;
};

// A fresh connected pair for `c` (a new handshake: the receiving state cannot be copied), and
// the client's first two application-data records.
struct Trial {
  test::Pair pair;
  Flight flight;
};

Trial fresh_trial(const IntegrityCase& c, const std::shared_ptr<ClientConfig>& ccfg,
                  const std::shared_ptr<ServerConfig>& scfg) {
  Trial t{connected(ccfg, scfg), {}};
  EXPECT_EQ(t.pair.client.info().cipher_suite, c.suite) << c.label;
  // Sized so that the two records are 500 to 600 bytes whatever the suite.
  t.flight.first_plaintext = pattern(330);
  t.flight.second_plaintext = V(140, 0x5c);
  EXPECT_TRUE(t.pair.client.send(t.flight.first_plaintext));
  t.flight.second_record_at = t.pair.client.pending_output().size();
  EXPECT_TRUE(t.pair.client.send(t.flight.second_plaintext));
  t.flight.bytes = take_output(t.pair.client);
  return t;
}

// Whether `f` is the answer the RFCs name for a change in byte `field_at` of a record header.
bool header_change_answered(std::size_t field_at, const Failure& f) {
  // Past the end of the bytes sent (a length made longer): truncation at the transport's end.
  if (f.kind == Failure::Kind::transport) return field_at >= 3;
  if (f.kind != Failure::Kind::sent_alert) return false;
  switch (field_at) {
    case 0:
      // RFC 8446 §5 / RFC 5246 §6: an unknown (or, in TLS 1.3, unprotected) content type MUST
      // be answered with unexpected_message; a known type reaches the MAC, whose input it is.
      return f.alert == AlertDescription::unexpected_message ||
             f.alert == AlertDescription::bad_record_mac;
    case 1:
      // The major version is no longer 3: not a TLS record (RFC 5246 Appendix E.1).
      return f.alert == AlertDescription::protocol_version;
    case 2:
      // The minor version is in the AAD (RFC 8446 §5.2, RFC 5246 §6.2.3.3).
      return f.alert == AlertDescription::bad_record_mac;
    default:
      // The length: past the limit, record_overflow (RFC 8446 §5.2, RFC 5246 §6.2.3); otherwise
      // the record is cut elsewhere and fails its MAC, or is too short to hold one.
      return f.alert == AlertDescription::record_overflow ||
             f.alert == AlertDescription::bad_record_mac ||
             f.alert == AlertDescription::decode_error;
  }
}

}  // namespace

class SeedAttacksIntegrity : public ::testing::TestWithParam<IntegrityCase> {};

// Flip every byte of the first two application-data records, with three patterns, each time
// into a fresh copy of the receiving connection (a new handshake), through Connection::feed:
// every change is detected and no changed record is ever delivered as data.
TEST_P(SeedAttacksIntegrity, EveryFlippedByteIsDetected) {
  const IntegrityCase& c = GetParam();
  auto ccfg = client_config();
  auto scfg = server_config();
  ccfg->max_version = c.version;
  for (auto* cfg : {static_cast<Config*>(ccfg.get()), static_cast<Config*>(scfg.get())}) {
    cfg->legacy = c.legacy;
    cfg->cipher_suites = {c.suite};
  }

  // Unchanged, the flight delivers both plaintexts.
  {
    Trial t = fresh_trial(c, ccfg, scfg);
    ASSERT_TRUE(t.pair.server.feed(t.flight.bytes)) << why(t.pair);
    V expected = t.flight.first_plaintext;
    expected.insert(expected.end(), t.flight.second_plaintext.begin(),
                    t.flight.second_plaintext.end());
    ASSERT_EQ(read_all(t.pair.server), expected);
  }

  const std::size_t positions = fresh_trial(c, ccfg, scfg).flight.bytes.size();
  ASSERT_GE(positions, 500u);
  ASSERT_LE(positions, 600u);
  std::map<std::string, int> outcomes;
  int undetected = 0;
  for (std::size_t at = 0; at < positions; ++at) {
    for (std::uint8_t flip : {std::uint8_t{0x01}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
      Trial t = fresh_trial(c, ccfg, scfg);
      ASSERT_EQ(t.flight.bytes.size(), positions);
      V bytes = t.flight.bytes;
      bytes[at] ^= flip;
      const bool in_second = at >= t.flight.second_record_at;
      const std::size_t record_at = in_second ? t.flight.second_record_at : 0;
      const bool in_header = at < record_at + record_header_size;
      // As an application would: feed, read what there is (reading goes on to the next
      // record), then the transport ends. A length made longer leaves the reader waiting for
      // the rest: the end of the transport then is truncation.
      (void)t.pair.server.feed(bytes);
      const V delivered = read_all(t.pair.server);
      if (!t.pair.server.failed()) (void)t.pair.server.transport_eof();
      // Only the untouched first record is ever delivered.
      const bool delivered_ok = delivered == (in_second ? t.flight.first_plaintext : V{});
      const Failure* f = t.pair.server.failure();
      const bool detected = f != nullptr;
      std::string outcome = !detected                             ? "accepted"
                            : f->kind == Failure::Kind::transport ? "truncated"
                                                                  : std::string(name(f->alert));
      ++outcomes[outcome];
      bool ok = detected && delivered_ok;
      if (ok && !in_header) {
        // RFC 8446 §5.2 / RFC 5246 §6.2.3.3 (AEAD) and §6.2.3.2 (CBC: MAC or padding): a
        // record that does not authenticate MUST be answered with bad_record_mac.
        ok = f->kind == Failure::Kind::sent_alert && f->alert == AlertDescription::bad_record_mac;
      } else if (ok) {
        ok = header_change_answered(at - record_at, *f);
      }
      if (!ok && ++undetected <= 10) {
        ADD_FAILURE() << c.label << ": byte " << at << " ^ 0x" << std::hex << int(flip) << std::dec
                      << " -> " << outcome << ", delivered " << delivered.size() << " bytes";
      }
    }
  }
  EXPECT_EQ(undetected, 0);
  std::string summary;
  for (const auto& [outcome, n] : outcomes)
    summary += " " + outcome + "=" + std::to_string(n);
  std::printf("[ integrity ] %s: %zu positions x 3 patterns:%s\n", c.label, positions,
              summary.c_str());
}

INSTANTIATE_TEST_SUITE_P(
    SeedAttacks, SeedAttacksIntegrity,
    ::testing::Values(IntegrityCase{"tls13_aes_128_gcm", ProtocolVersion::tls13,
                                    CipherSuite::tls_aes_128_gcm_sha256, false},
                      IntegrityCase{"tls12_ecdhe_ecdsa_aes_128_gcm", ProtocolVersion::tls12,
                                    CipherSuite::tls_ecdhe_ecdsa_with_aes_128_gcm_sha256, false},
                      IntegrityCase{"tls12_ecdhe_ecdsa_aes_128_cbc_sha", ProtocolVersion::tls12,
                                    CipherSuite::tls_ecdhe_ecdsa_with_aes_128_cbc_sha, true}),
    [](const auto& info) { return std::string(info.param.label); });

// --- secrets wiped -------------------------------------------------------------------------------

namespace {

struct Release {
  std::size_t size;
  bool all_zero;
};

std::vector<Release>& releases() {
  static std::vector<Release> r;
  return r;
}

void record_release(const std::uint8_t* data, std::size_t size) {
  releases().push_back(
      {size, std::all_of(data, data + size, [](std::uint8_t b) { return b == 0; })});
}

// Installs the observer for one scope.
struct ObserveReleases {
  ObserveReleases() {
    releases().clear();
    crypto::testing::set_secret_release_observer(&record_release);
  }
  ~ObserveReleases() { crypto::testing::set_secret_release_observer(nullptr); }
  ObserveReleases(const ObserveReleases&) = delete;
  ObserveReleases& operator=(const ObserveReleases&) = delete;
};

std::map<std::size_t, int> count_by_size(const std::vector<Release>& rs) {
  std::map<std::size_t, int> n;
  for (const auto& r : rs)
    ++n[r.size];
  return n;
}

std::string describe(const std::map<std::size_t, int>& n) {
  std::string s;
  for (const auto& [size, count] : n)
    s += " " + std::to_string(count) + "x" + std::to_string(size);
  return s;
}

}  // namespace

// The hook itself: every buffer is seen after its wipe and before it is freed; empty and
// moved-from Secrets are not reported.
TEST(SeedAttacks, SecretReleaseHookSeesWipedBuffers) {
  ObserveReleases observe;
  {
    crypto::Secret a(V(24, 0xaa));
    crypto::Secret b(V(40, 0xbb));
    crypto::Secret moved(std::move(b));
    a = std::move(moved);  // releases a's 24 bytes now
    ASSERT_EQ(releases().size(), 1u);
    EXPECT_EQ(releases()[0].size, 24u);
    crypto::Secret empty;
  }
  ASSERT_EQ(releases().size(), 2u);
  EXPECT_EQ(releases()[1].size, 40u);
  for (const auto& r : releases())
    EXPECT_TRUE(r.all_zero);
}

// Traffic and master secrets are wiped before their memory is released: after a TLS 1.3 and a
// TLS 1.2 handshake with data (and, for TLS 1.3, a KeyUpdate), every Secret released during the
// connections' life and at their destruction is all zeros. In TLS 1.3 the traffic secrets are
// all that is left at destruction: the key schedule (early, handshake and master secrets) went
// when the handshake ended. In TLS 1.2 nothing is: each side's master secret went when its
// handshake ended (renegotiation is refused, so nothing needs it later; the record keys live in
// the cipher contexts).
TEST(SeedAttacks, SecretsAreWipedWhenConnectionsAreDestroyed) {
  struct Case {
    const char* label;
    ProtocolVersion version;
    CipherSuite suite;
    std::size_t secret_size;      // the suite's hash length
    int expected_at_destruction;  // Secrets of that size held by the two connections
  };
  const Case cases[] = {
      // Each side: read and write traffic secrets, nothing else.
      {"tls13 sha256", ProtocolVersion::tls13, CipherSuite::tls_aes_128_gcm_sha256, 32, 2 * 2},
      {"tls13 sha384", ProtocolVersion::tls13, CipherSuite::tls_aes_256_gcm_sha384, 48, 2 * 2},
      // Each side's 48-byte master secret went with its handshake.
      {"tls12", ProtocolVersion::tls12, CipherSuite::tls_ecdhe_ecdsa_with_aes_128_gcm_sha256, 48,
       0},
  };
  for (const Case& c : cases) {
    ObserveReleases observe;
    std::vector<Release> during_life;
    {
      auto ccfg = client_config();
      ccfg->max_version = c.version;
      auto scfg = server_config();
      ccfg->cipher_suites = scfg->cipher_suites = {c.suite};
      auto p = connected(ccfg, scfg);
      EXPECT_EQ(test::transfer(p.client, p.server, pattern(2000)), pattern(2000));
      EXPECT_EQ(test::transfer(p.server, p.client, pattern(3000)), pattern(3000));
      if (c.version == ProtocolVersion::tls13) {
        ASSERT_TRUE(p.client.update_keys(true));
        EXPECT_EQ(test::transfer(p.client, p.server, pattern(100)), pattern(100));
        EXPECT_EQ(test::transfer(p.server, p.client, pattern(100)), pattern(100));
      }
      during_life = std::move(releases());
      releases().clear();
    }
    const std::vector<Release> at_destruction = releases();
    const auto life = count_by_size(during_life);
    const auto end = count_by_size(at_destruction);
    std::printf("[ secrets ] %s: released during the connection:%s; at destruction:%s\n", c.label,
                describe(life).c_str(), describe(end).c_str());
    for (const auto& r : during_life)
      EXPECT_TRUE(r.all_zero) << c.label << ": a " << r.size << "-byte secret released unwiped";
    for (const auto& r : at_destruction)
      EXPECT_TRUE(r.all_zero) << c.label << ": a " << r.size << "-byte secret released unwiped";
    const auto held = end.find(c.secret_size);
    EXPECT_EQ(held == end.end() ? 0 : held->second, c.expected_at_destruction)
        << c.label << ": only the traffic secrets (TLS 1.3) outlive the handshake" << describe(end);
    if (c.version == ProtocolVersion::tls12) {
      const auto masters = life.find(c.secret_size);
      EXPECT_GE(masters == life.end() ? 0 : masters->second, 2)
          << c.label << ": each side's master secret is released with its handshake"
          << describe(life);
    }
    if (c.version == ProtocolVersion::tls13) {
      // The KeyUpdate replaced two traffic secrets (one per direction, on each side); the
      // handshake secrets went when the traffic keys came.
      const auto replaced = life.find(c.secret_size);
      EXPECT_GE(replaced == life.end() ? 0 : replaced->second, 4) << c.label << describe(life);
    }
  }
}
