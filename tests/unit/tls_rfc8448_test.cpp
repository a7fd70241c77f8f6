// The RFC 8448 traces replayed against our key schedule, record layer and server engine, byte
// for byte: every secret, key and IV the RFC prints; every encrypted record of the traces opened
// with our RecordReader and sealed again by our RecordWriter into the very same bytes.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/crypto/hash.hpp"
#include "bulwark/crypto/hkdf.hpp"
#include "bulwark/crypto/key_share.hpp"
#include "bulwark/crypto/keys.hpp"
#include "bulwark/crypto/random.hpp"
#include "bulwark/crypto/signature.hpp"
#include "bulwark/tls/cipher_suites.hpp"
#include "bulwark/tls/config.hpp"
#include "bulwark/tls/connection.hpp"
#include "bulwark/tls/extensions.hpp"
#include "bulwark/tls/key_schedule.hpp"
#include "bulwark/tls/messages.hpp"
#include "bulwark/tls/record.hpp"
#include "crypto/ossl.hpp"
#include "vectors/rfc8448.hpp"

using namespace bulwark;
using namespace bulwark::tls;

namespace {

namespace rfc8448 = bulwark::test::rfc8448;
namespace s3 = rfc8448::s3;
namespace s4 = rfc8448::s4;
namespace s5 = rfc8448::s5;

using Bytes = std::vector<std::uint8_t>;
using crypto::HashAlg;

Bytes b(const char* hex) {
  return rfc8448::bytes(hex);
}

Bytes to_bytes(std::span<const std::uint8_t> s) {
  return Bytes(s.begin(), s.end());
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Every trace uses TLS_AES_128_GCM_SHA256.
const CipherSuiteInfo& aes128() {
  const CipherSuiteInfo* suite = find_cipher_suite(CipherSuite::tls_aes_128_gcm_sha256);
  EXPECT_NE(suite, nullptr);
  return *suite;
}

// A cleartext record: what the RFC prints as "complete record" for the hellos.
Bytes plaintext_record(std::uint16_t version, const Bytes& handshake_message) {
  Bytes r = {static_cast<std::uint8_t>(ContentType::handshake),
             static_cast<std::uint8_t>(version >> 8), static_cast<std::uint8_t>(version),
             static_cast<std::uint8_t>(handshake_message.size() >> 8),
             static_cast<std::uint8_t>(handshake_message.size())};
  r.insert(r.end(), handshake_message.begin(), handshake_message.end());
  return r;
}

// Transcript-Hash (SHA-256) of whole handshake messages, with our Transcript.
Bytes transcript_hash(std::initializer_list<Bytes> messages) {
  auto t = crypto::Transcript::create(HashAlg::sha256);
  EXPECT_TRUE(t);
  if (!t) return {};
  for (const Bytes& m : messages)
    EXPECT_TRUE(t->update(m));
  auto d = t->current();
  EXPECT_TRUE(d);
  return d ? to_bytes(d->span()) : Bytes{};
}

Bytes sha256(const Bytes& data) {
  auto d = crypto::hash(HashAlg::sha256, data);
  EXPECT_TRUE(d);
  return d ? to_bytes(d->span()) : Bytes{};
}

// Finished / binder value with our KeySchedule (RFC 8446 §4.4.4, §4.2.11.2).
Bytes finished_mac(const Bytes& base_key, const Bytes& th) {
  auto mac = KeySchedule::finished_mac(HashAlg::sha256, base_key, th);
  EXPECT_TRUE(mac) << mac.error().message();
  return mac ? to_bytes(mac->span()) : Bytes{};
}

Bytes finished_message(const Bytes& verify_data) {
  Bytes m = {static_cast<std::uint8_t>(HandshakeType::finished), 0, 0,
             static_cast<std::uint8_t>(verify_data.size())};
  m.insert(m.end(), verify_data.begin(), verify_data.end());
  return m;
}

// The signed content of a CertificateVerify (RFC 8446 §4.4.3), built here independently of
// the engine: 64 spaces, the context string, a zero byte, the transcript hash.
Bytes certificate_verify_input(std::string_view context, const Bytes& th) {
  Bytes in(64, 0x20);
  in.insert(in.end(), context.begin(), context.end());
  in.push_back(0);
  in.insert(in.end(), th.begin(), th.end());
  return in;
}

Bytes secret_bytes(const Result<crypto::Secret>& s) {
  EXPECT_TRUE(s) << s.error().message();
  return s ? to_bytes(s->span()) : Bytes{};
}

struct Keys {
  Bytes key;
  Bytes iv;
};

Keys traffic_keys(const Bytes& traffic_secret) {
  auto k = KeySchedule::traffic_keys(aes128(), traffic_secret);
  EXPECT_TRUE(k) << k.error().message();
  if (!k) return {};
  return {to_bytes(k->key.span()), to_bytes(k->iv.span())};
}

// The messages of a handshake plaintext, each whole (header included).
std::vector<Bytes> split_messages(const Bytes& plaintext) {
  std::vector<Bytes> out;
  wire::Reader r(plaintext);
  while (!r.empty()) {
    auto m = read_handshake(r);
    EXPECT_TRUE(m) << m.error().message();
    if (!m) break;
    out.push_back(to_bytes(m->message));
  }
  return out;
}

wire::Bytes body_of(const Bytes& message) {
  return wire::Bytes(message).subspan(4);
}

// One direction of a trace under one key: records opened by our RecordReader and sealed by
// our RecordWriter, each with its own sequence number, both starting at 0.
class Direction {
 public:
  Direction(const Bytes& key, const Bytes& iv) {
    auto reading = RecordCipher::tls13(aes128(), key, iv);
    auto writing = RecordCipher::tls13(aes128(), key, iv);
    EXPECT_TRUE(reading && writing);
    if (reading) reader_.set_cipher(std::move(*reading));
    if (writing) writer_.set_cipher(std::move(*writing));
  }

  // The plaintext of one whole protected record, which must be of `type`.
  Bytes open(const Bytes& record, ContentType type) {
    EXPECT_TRUE(reader_.feed(record));
    auto r = reader_.next();
    EXPECT_TRUE(r) << r.error().message();
    if (!r || !*r) {
      ADD_FAILURE() << "no record";
      return {};
    }
    EXPECT_TRUE((*r)->protected_record);
    EXPECT_EQ((*r)->type, type);
    EXPECT_EQ(reader_.buffered(), 0u);
    return to_bytes((*r)->fragment);
  }

  // The record that sealing `plaintext` as `type` writes.
  Bytes seal(ContentType type, const Bytes& plaintext) {
    std::vector<std::uint8_t> out;
    auto s = writer_.write(type, plaintext, out);
    EXPECT_TRUE(s) << s.error().message();
    return out;
  }

 private:
  RecordReader reader_;
  RecordWriter writer_;
};

// The server certificate's public key (the same certificate in every trace).
crypto::PublicKey certificate_key() {
  const Bytes message = b(s3::certificate);
  auto cert = decode_body<Certificate13>(body_of(message));
  EXPECT_TRUE(cert);
  if (!cert || cert->certificate_list.empty()) return {};
  auto parsed = crypto::Certificate::from_der(cert->certificate_list.begin()->cert_data);
  EXPECT_TRUE(parsed);
  if (!parsed) return {};
  auto key = parsed->public_key();
  EXPECT_TRUE(key);
  return key ? *key : crypto::PublicKey{};
}

// RFC 8446 §4.4.3: checks the server's CertificateVerify message over transcript hash `th`.
void expect_server_signature(const Bytes& certificate_verify_message, const Bytes& th) {
  auto cv = decode_body<CertificateVerify>(body_of(certificate_verify_message));
  ASSERT_TRUE(cv) << cv.error().message();
  EXPECT_EQ(cv->scheme, SignatureScheme::rsa_pss_rsae_sha256);
  const auto ok = crypto::verify(certificate_key(), crypto::SignatureScheme::rsa_pss_rsae_sha256,
                                 certificate_verify_input("TLS 1.3, server CertificateVerify", th),
                                 cv->signature);
  EXPECT_TRUE(ok) << ok.error().message();
}

// The RFC's RSA key (§2) from its printed components, checked for consistency.
crypto::PrivateKey rfc8448_rsa_key() {
  using BnPtr = std::unique_ptr<BIGNUM, crypto::ossl::Deleter<BN_free>>;
  using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, crypto::ossl::Deleter<OSSL_PARAM_BLD_free>>;
  using ParamsPtr = std::unique_ptr<OSSL_PARAM, crypto::ossl::Deleter<OSSL_PARAM_free>>;
  namespace rsa = rfc8448::rsa;
  const std::pair<const char*, const char*> components[] = {
      {OSSL_PKEY_PARAM_RSA_N, rsa::modulus},
      {OSSL_PKEY_PARAM_RSA_E, rsa::public_exponent},
      {OSSL_PKEY_PARAM_RSA_D, rsa::private_exponent},
      {OSSL_PKEY_PARAM_RSA_FACTOR1, rsa::prime1},
      {OSSL_PKEY_PARAM_RSA_FACTOR2, rsa::prime2},
      {OSSL_PKEY_PARAM_RSA_EXPONENT1, rsa::exponent1},
      {OSSL_PKEY_PARAM_RSA_EXPONENT2, rsa::exponent2},
      {OSSL_PKEY_PARAM_RSA_COEFFICIENT1, rsa::coefficient},
  };
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  std::vector<BnPtr> numbers;  // the builder refers to them until to_param
  for (const auto& [name, hex] : components) {
    const Bytes v = b(hex);
    numbers.emplace_back(BN_bin2bn(v.data(), static_cast<int>(v.size()), nullptr));
    EXPECT_NE(numbers.back(), nullptr);
    EXPECT_EQ(OSSL_PARAM_BLD_push_BN(bld.get(), name, numbers.back().get()), 1) << name;
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  crypto::ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    ADD_FAILURE() << "RSA key from the RFC's components: " << crypto::ossl::drain_errors();
    return {};
  }
  crypto::PrivateKey key(pkey);
  // n = p q, d e = 1 mod lambda(n), and the CRT values agree.
  crypto::ossl::PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.native(), nullptr));
  EXPECT_EQ(EVP_PKEY_check(check.get()), 1) << crypto::ossl::drain_errors();
  return key;
}

}  // namespace

// ---- RFC 8448 §3: Simple 1-RTT Handshake ---------------------------------------------------

TEST(TlsRfc8448, Simple1RttSecretsAndTrafficKeys) {
  auto client = crypto::KeyShare::from_private(crypto::Group::x25519, b(s3::client_private_key));
  auto server = crypto::KeyShare::from_private(crypto::Group::x25519, b(s3::server_private_key));
  ASSERT_TRUE(client && server);
  EXPECT_EQ(to_bytes(client->public_value()), b(s3::client_public_key));
  EXPECT_EQ(to_bytes(server->public_value()), b(s3::server_public_key));
  const Bytes shared = secret_bytes(server->derive(client->public_value()));
  EXPECT_EQ(shared, b(s3::shared_secret));
  EXPECT_EQ(secret_bytes(client->derive(server->public_value())), shared);

  KeySchedule ks(HashAlg::sha256);
  ASSERT_TRUE(ks.start());
  EXPECT_EQ(to_bytes(ks.early_secret().span()), b(s3::early_secret));
  ASSERT_TRUE(ks.derive_handshake_secret(shared));
  EXPECT_EQ(to_bytes(ks.handshake_secret().span()), b(s3::handshake_secret));

  const Bytes hello_hash = transcript_hash({b(s3::client_hello), b(s3::server_hello)});
  EXPECT_EQ(hello_hash, b(s3::hello_hash));
  const Bytes c_hs = secret_bytes(ks.client_handshake_traffic(hello_hash));
  const Bytes s_hs = secret_bytes(ks.server_handshake_traffic(hello_hash));
  EXPECT_EQ(c_hs, b(s3::client_handshake_traffic));
  EXPECT_EQ(s_hs, b(s3::server_handshake_traffic));
  const Keys server_hs = traffic_keys(s_hs);
  EXPECT_EQ(server_hs.key, b(s3::server_handshake_key));
  EXPECT_EQ(server_hs.iv, b(s3::server_handshake_iv));
  const Keys client_hs = traffic_keys(c_hs);
  EXPECT_EQ(client_hs.key, b(s3::client_handshake_key));
  EXPECT_EQ(client_hs.iv, b(s3::client_handshake_iv));

  ASSERT_TRUE(ks.derive_master_secret());
  EXPECT_EQ(to_bytes(ks.master_secret().span()), b(s3::master_secret));
  const Bytes server_finished_hash =
      transcript_hash({b(s3::client_hello), b(s3::server_hello), b(s3::encrypted_extensions),
                       b(s3::certificate), b(s3::certificate_verify), b(s3::server_finished)});
  EXPECT_EQ(server_finished_hash, b(s3::server_finished_hash));
  const Bytes c_ap = secret_bytes(ks.client_application_traffic(server_finished_hash));
  const Bytes s_ap = secret_bytes(ks.server_application_traffic(server_finished_hash));
  EXPECT_EQ(c_ap, b(s3::client_application_traffic));
  EXPECT_EQ(s_ap, b(s3::server_application_traffic));
  EXPECT_EQ(secret_bytes(ks.exporter_master(server_finished_hash)), b(s3::exporter_master));
  const Keys server_ap = traffic_keys(s_ap);
  EXPECT_EQ(server_ap.key, b(s3::server_application_key));
  EXPECT_EQ(server_ap.iv, b(s3::server_application_iv));
  const Keys client_ap = traffic_keys(c_ap);
  EXPECT_EQ(client_ap.key, b(s3::client_application_key));
  EXPECT_EQ(client_ap.iv, b(s3::client_application_iv));

  const Bytes client_finished_hash = transcript_hash(
      {b(s3::client_hello), b(s3::server_hello), b(s3::encrypted_extensions), b(s3::certificate),
       b(s3::certificate_verify), b(s3::server_finished), b(s3::client_finished)});
  EXPECT_EQ(client_finished_hash, b(s3::client_finished_hash));
  const Bytes res_master = secret_bytes(ks.resumption_master(client_finished_hash));
  EXPECT_EQ(res_master, b(s3::resumption_master));
}

TEST(TlsRfc8448, Simple1RttServerFlightRecord) {
  Direction server_hs(b(s3::server_handshake_key), b(s3::server_handshake_iv));
  const Bytes flight = concat({b(s3::encrypted_extensions), b(s3::certificate),
                               b(s3::certificate_verify), b(s3::server_finished)});
  EXPECT_EQ(server_hs.open(b(s3::server_flight_record), ContentType::handshake), flight);
  EXPECT_EQ(server_hs.seal(ContentType::handshake, flight), b(s3::server_flight_record));

  // The server's signature, with the key of the certificate it sent.
  expect_server_signature(b(s3::certificate_verify),
                          transcript_hash({b(s3::client_hello), b(s3::server_hello),
                                           b(s3::encrypted_extensions), b(s3::certificate)}));
  // The server's Finished is our finished_mac over our transcript hash.
  const Bytes th =
      transcript_hash({b(s3::client_hello), b(s3::server_hello), b(s3::encrypted_extensions),
                       b(s3::certificate), b(s3::certificate_verify)});
  EXPECT_EQ(finished_message(finished_mac(b(s3::server_handshake_traffic), th)),
            b(s3::server_finished));
}

TEST(TlsRfc8448, Simple1RttClientFinishedRecord) {
  Direction client_hs(b(s3::client_handshake_key), b(s3::client_handshake_iv));
  EXPECT_EQ(client_hs.open(b(s3::client_finished_record), ContentType::handshake),
            b(s3::client_finished));
  EXPECT_EQ(client_hs.seal(ContentType::handshake, b(s3::client_finished)),
            b(s3::client_finished_record));
  EXPECT_EQ(
      finished_message(finished_mac(b(s3::client_handshake_traffic), b(s3::server_finished_hash))),
      b(s3::client_finished));
}

TEST(TlsRfc8448, Simple1RttTicketApplicationDataAndAlerts) {
  const Bytes close_notify = {1, 0};  // warning(1), close_notify(0)
  // Server to client under the server's application key: the ticket, data, close_notify.
  Direction server_ap(b(s3::server_application_key), b(s3::server_application_iv));
  EXPECT_EQ(server_ap.open(b(s3::new_session_ticket_record), ContentType::handshake),
            b(s3::new_session_ticket));
  EXPECT_EQ(server_ap.seal(ContentType::handshake, b(s3::new_session_ticket)),
            b(s3::new_session_ticket_record));
  EXPECT_EQ(server_ap.open(b(s3::server_application_data_record), ContentType::application_data),
            b(s3::application_data));
  EXPECT_EQ(server_ap.seal(ContentType::application_data, b(s3::application_data)),
            b(s3::server_application_data_record));
  EXPECT_EQ(server_ap.open(b(s3::server_close_notify_record), ContentType::alert), close_notify);
  EXPECT_EQ(server_ap.seal(ContentType::alert, close_notify), b(s3::server_close_notify_record));

  // Client to server under the client's application key: data, close_notify.
  Direction client_ap(b(s3::client_application_key), b(s3::client_application_iv));
  EXPECT_EQ(client_ap.open(b(s3::client_application_data_record), ContentType::application_data),
            b(s3::application_data));
  EXPECT_EQ(client_ap.seal(ContentType::application_data, b(s3::application_data)),
            b(s3::client_application_data_record));
  EXPECT_EQ(client_ap.open(b(s3::client_close_notify_record), ContentType::alert), close_notify);
  EXPECT_EQ(client_ap.seal(ContentType::alert, close_notify), b(s3::client_close_notify_record));

  // The PSK for the ticket (RFC 8446 §4.6.1), from the nonce the ticket carries.
  const Bytes ticket_message = b(s3::new_session_ticket);
  auto nst = decode_body<NewSessionTicket13>(body_of(ticket_message));
  ASSERT_TRUE(nst) << nst.error().message();
  EXPECT_EQ(to_bytes(nst->ticket_nonce), (Bytes{0, 0}));
  EXPECT_EQ(secret_bytes(KeySchedule::resumption_psk(HashAlg::sha256, b(s3::resumption_master),
                                                     nst->ticket_nonce)),
            b(s3::resumption_psk));
}

// Our server, given the RFC's ClientHello, the RFC's key and certificate and, through
// FixedRandom, the RFC's ephemeral key and ServerHello.random, answers with the RFC's
// ServerHello record, byte for byte, and derives the RFC's handshake keys.
//
// What follows the ServerHello legitimately differs from the RFC:
//  - EncryptedExtensions: the RFC's server (NSS) sends supported_groups, record_size_limit
//    (0x4001) and the server_name acknowledgement; ours sends only the server_name
//    acknowledgement (no record_size_limit unless configured, no supported_groups).
//  - CertificateVerify: RSA-PSS draws a fresh random salt, so the signature differs on every
//    run (it is checked to verify instead).
//  - Finished: it covers the transcript, which differs from the RFC's from EncryptedExtensions
//    on (it is checked against finished_mac with the RFC's server handshake secret).
// The Certificate message is the RFC's exactly.
TEST(TlsRfc8448, ServerEngineAnswersTheRfcClientHelloWithTheRfcServerHello) {
  const Bytes server_hello = b(s3::server_hello);
  // ServerHello: type(1) length(3) legacy_version(2) random(32).
  const Bytes server_random(server_hello.begin() + 6, server_hello.begin() + 38);
  // src/tls/server13.cpp send_server_flight draws the x25519 private key (KeyShare::generate)
  // and then ServerHello.random; nothing else in this handshake draws from Config::random.
  const Bytes draws = concat({b(s3::server_private_key), server_random});
  crypto::FixedRandom random(draws);

  const Bytes certificate_message = b(s3::certificate);
  auto cert_msg = decode_body<Certificate13>(body_of(certificate_message));
  ASSERT_TRUE(cert_msg && !cert_msg->certificate_list.empty());
  auto cert = crypto::Certificate::from_der(cert_msg->certificate_list.begin()->cert_data);
  ASSERT_TRUE(cert) << cert.error().message();
  crypto::PrivateKey key = rfc8448_rsa_key();
  ASSERT_TRUE(key.valid());
  CertifiedKey credentials{{*cert}, key};
  ASSERT_TRUE(credentials.check());

  auto config = std::make_shared<ServerConfig>();
  config->certificates.push_back(credentials);
  config->random = &random;
  auto server = Connection::server(config);
  ASSERT_TRUE(server) << server.error().message();

  // RFC 8448 §3 "{client} send handshake record": legacy_record_version 0x0301.
  const Bytes client_hello = b(s3::client_hello);
  auto fed = server->feed(plaintext_record(0x0301, client_hello));
  ASSERT_TRUE(fed) << fed.error().message();
  const Bytes out = to_bytes(server->pending_output());
  server->consume_output(out.size());

  // RFC 8448 §3 "{server} send handshake record": complete record.
  const Bytes server_hello_record = plaintext_record(0x0303, server_hello);
  ASSERT_GT(out.size(), server_hello_record.size());
  EXPECT_EQ(
      Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(server_hello_record.size())),
      server_hello_record);

  // The rest opens with the RFC's server handshake key and IV: our handshake keys are the RFC's.
  RecordReader reader;
  auto cipher =
      RecordCipher::tls13(aes128(), b(s3::server_handshake_key), b(s3::server_handshake_iv));
  ASSERT_TRUE(cipher);
  reader.set_cipher(std::move(*cipher));
  ASSERT_TRUE(reader.feed(wire::Bytes(out).subspan(server_hello_record.size())));
  Bytes flight;
  for (;;) {
    auto rec = reader.next();
    ASSERT_TRUE(rec) << rec.error().message();
    if (!*rec) break;
    EXPECT_EQ((*rec)->type, ContentType::handshake);
    flight.insert(flight.end(), (*rec)->fragment.begin(), (*rec)->fragment.end());
  }
  EXPECT_EQ(reader.buffered(), 0u);
  const std::vector<Bytes> messages = split_messages(flight);
  ASSERT_EQ(messages.size(), 4u);
  // EncryptedExtensions with only server_name (00 00) and empty extension data (RFC 6066 §3).
  EXPECT_EQ(messages[0], b("08 00 00 06 00 04 00 00 00 00"));
  EXPECT_EQ(messages[1], certificate_message);
  expect_server_signature(messages[2],
                          transcript_hash({client_hello, server_hello, messages[0], messages[1]}));
  const Bytes th_server_finished =
      transcript_hash({client_hello, server_hello, messages[0], messages[1], messages[2]});
  EXPECT_EQ(messages[3],
            finished_message(finished_mac(b(s3::server_handshake_traffic), th_server_finished)));

  // A client Finished made from the RFC's client handshake secret over our transcript, sealed
  // with the RFC's client handshake key, completes the handshake.
  const Bytes th_client_finished = transcript_hash(
      {client_hello, server_hello, messages[0], messages[1], messages[2], messages[3]});
  Direction client_hs(b(s3::client_handshake_key), b(s3::client_handshake_iv));
  const Bytes client_finished =
      finished_message(finished_mac(b(s3::client_handshake_traffic), th_client_finished));
  fed = server->feed(client_hs.seal(ContentType::handshake, client_finished));
  ASSERT_TRUE(fed) << fed.error().message();
  EXPECT_TRUE(server->handshake_done());
  EXPECT_EQ(server->info().cipher_suite, CipherSuite::tls_aes_128_gcm_sha256);
  ASSERT_TRUE(server->info().group.has_value());
  EXPECT_EQ(*server->info().group, NamedGroup::x25519);

  // Application data from the server opens with the key of the RFC's master secret over our
  // transcript.
  const Bytes s_ap = secret_bytes(crypto::derive_secret(HashAlg::sha256, b(s3::master_secret),
                                                        "s ap traffic", th_client_finished));
  const Keys server_ap = traffic_keys(s_ap);
  ASSERT_TRUE(server->send(b(s3::application_data)));
  Direction server_app(server_ap.key, server_ap.iv);
  EXPECT_EQ(server_app.open(to_bytes(server->pending_output()), ContentType::application_data),
            b(s3::application_data));
}

// ---- RFC 8448 §4: Resumed 0-RTT Handshake --------------------------------------------------

TEST(TlsRfc8448, ResumedBinderAndEarlyTrafficSecrets) {
  KeySchedule ks(HashAlg::sha256);
  ASSERT_TRUE(ks.start(b(s3::resumption_psk)));
  EXPECT_EQ(to_bytes(ks.early_secret().span()), b(s4::early_secret));
  const Bytes binder_key = secret_bytes(ks.resumption_binder_key());
  EXPECT_EQ(binder_key, b(s4::binder_key));

  // RFC 8446 §4.2.11.2: the binder covers the ClientHello up to the binders list.
  const Bytes client_hello = b(s4::client_hello);
  auto prefix = truncated_client_hello_length(client_hello);
  ASSERT_TRUE(prefix) << prefix.error().message();
  EXPECT_EQ(*prefix, 477u);
  const Bytes binder_hash =
      transcript_hash({Bytes(client_hello.begin(), client_hello.begin() + 477)});
  EXPECT_EQ(binder_hash, b(s4::binder_hash));
  const Bytes binder = finished_mac(binder_key, binder_hash);
  EXPECT_EQ(binder, b(s4::binder));
  EXPECT_EQ(Bytes(client_hello.end() - 32, client_hello.end()), binder);

  // 0-RTT secrets over the whole ClientHello.
  const Bytes client_hello_hash = transcript_hash({client_hello});
  EXPECT_EQ(client_hello_hash, b(s4::client_hello_hash));
  const Bytes c_e = secret_bytes(
      crypto::derive_secret(HashAlg::sha256, ks.early_secret(), "c e traffic", client_hello_hash));
  EXPECT_EQ(c_e, b(s4::client_early_traffic));
  EXPECT_EQ(secret_bytes(crypto::derive_secret(HashAlg::sha256, ks.early_secret(), "e exp master",
                                               client_hello_hash)),
            b(s4::early_exporter_master));
  const Keys early = traffic_keys(c_e);
  EXPECT_EQ(early.key, b(s4::client_early_key));
  EXPECT_EQ(early.iv, b(s4::client_early_iv));
}

TEST(TlsRfc8448, ResumedEarlyDataRecords) {
  // The engine refuses 0-RTT; the record layer still opens and seals it exactly.
  Direction early(b(s4::client_early_key), b(s4::client_early_iv));
  EXPECT_EQ(early.open(b(s4::early_data_record), ContentType::application_data), b(s4::early_data));
  EXPECT_EQ(early.seal(ContentType::application_data, b(s4::early_data)), b(s4::early_data_record));
  // EndOfEarlyData (RFC 8446 §4.5) is the second record under the early key.
  const Bytes end_of_early_data = {static_cast<std::uint8_t>(HandshakeType::end_of_early_data), 0,
                                   0, 0};
  EXPECT_EQ(early.open(b(s4::end_of_early_data_record), ContentType::handshake), end_of_early_data);
  EXPECT_EQ(early.seal(ContentType::handshake, end_of_early_data), b(s4::end_of_early_data_record));
}

TEST(TlsRfc8448, ResumedHandshakeSecretsAndRecords) {
  auto client = crypto::KeyShare::from_private(crypto::Group::x25519, b(s4::client_private_key));
  auto server = crypto::KeyShare::from_private(crypto::Group::x25519, b(s4::server_private_key));
  ASSERT_TRUE(client && server);
  EXPECT_EQ(to_bytes(client->public_value()), b(s4::client_public_key));
  EXPECT_EQ(to_bytes(server->public_value()), b(s4::server_public_key));
  const Bytes shared = secret_bytes(server->derive(client->public_value()));

  KeySchedule ks(HashAlg::sha256);
  ASSERT_TRUE(ks.start(b(s3::resumption_psk)));
  EXPECT_EQ(secret_bytes(
                crypto::derive_secret(HashAlg::sha256, ks.early_secret(), "derived", sha256({}))),
            b(s4::derived_for_handshake));
  ASSERT_TRUE(ks.derive_handshake_secret(shared));
  EXPECT_EQ(to_bytes(ks.handshake_secret().span()), b(s4::handshake_secret));

  const Bytes client_hello = b(s4::client_hello);
  const Bytes server_hello = b(s4::server_hello);
  const Bytes hello_hash = transcript_hash({client_hello, server_hello});
  const Bytes c_hs = secret_bytes(ks.client_handshake_traffic(hello_hash));
  const Bytes s_hs = secret_bytes(ks.server_handshake_traffic(hello_hash));
  EXPECT_EQ(c_hs, b(s4::client_handshake_traffic));
  EXPECT_EQ(s_hs, b(s4::server_handshake_traffic));
  const Keys server_hs = traffic_keys(s_hs);
  EXPECT_EQ(server_hs.key, b(s4::server_handshake_key));
  EXPECT_EQ(server_hs.iv, b(s4::server_handshake_iv));

  // The server's flight: EncryptedExtensions (early_data accepted) and Finished, no
  // certificate (the PSK authenticates).
  Direction server_flight(server_hs.key, server_hs.iv);
  const Bytes flight = concat({b(s4::encrypted_extensions), b(s4::server_finished)});
  EXPECT_EQ(server_flight.open(b(s4::server_flight_record), ContentType::handshake), flight);
  EXPECT_EQ(server_flight.seal(ContentType::handshake, flight), b(s4::server_flight_record));
  EXPECT_EQ(finished_message(finished_mac(
                s_hs, transcript_hash({client_hello, server_hello, b(s4::encrypted_extensions)}))),
            b(s4::server_finished));

  ASSERT_TRUE(ks.derive_master_secret());
  const Bytes server_finished_hash = transcript_hash(
      {client_hello, server_hello, b(s4::encrypted_extensions), b(s4::server_finished)});
  const Bytes c_ap = secret_bytes(ks.client_application_traffic(server_finished_hash));
  const Bytes s_ap = secret_bytes(ks.server_application_traffic(server_finished_hash));
  EXPECT_EQ(c_ap, b(s4::client_application_traffic));
  EXPECT_EQ(s_ap, b(s4::server_application_traffic));
  EXPECT_EQ(secret_bytes(ks.exporter_master(server_finished_hash)), b(s4::exporter_master));
  const Keys server_ap = traffic_keys(s_ap);
  EXPECT_EQ(server_ap.key, b(s4::server_application_key));
  EXPECT_EQ(server_ap.iv, b(s4::server_application_iv));

  // The client's Finished covers EndOfEarlyData too (RFC 8446 §4.4.1).
  const Bytes end_of_early_data = {static_cast<std::uint8_t>(HandshakeType::end_of_early_data), 0,
                                   0, 0};
  const Bytes client_finished = finished_message(
      finished_mac(c_hs, transcript_hash({client_hello, server_hello, b(s4::encrypted_extensions),
                                          b(s4::server_finished), end_of_early_data})));
  const Keys client_hs = traffic_keys(c_hs);
  Direction client_flight(client_hs.key, client_hs.iv);
  EXPECT_EQ(client_flight.open(b(s4::client_finished_record), ContentType::handshake),
            client_finished);
  EXPECT_EQ(client_flight.seal(ContentType::handshake, client_finished),
            b(s4::client_finished_record));

  const Bytes close_notify = {1, 0};
  const Bytes data = b(s3::application_data);  // the same 50 octets as in section 3
  Direction server_app(server_ap.key, server_ap.iv);
  EXPECT_EQ(server_app.open(b(s4::server_application_data_record), ContentType::application_data),
            data);
  EXPECT_EQ(server_app.seal(ContentType::application_data, data),
            b(s4::server_application_data_record));
  EXPECT_EQ(server_app.open(b(s4::server_close_notify_record), ContentType::alert), close_notify);
  EXPECT_EQ(server_app.seal(ContentType::alert, close_notify), b(s4::server_close_notify_record));
  const Keys client_ap = traffic_keys(c_ap);
  Direction client_app(client_ap.key, client_ap.iv);
  EXPECT_EQ(client_app.open(b(s4::client_application_data_record), ContentType::application_data),
            data);
  EXPECT_EQ(client_app.seal(ContentType::application_data, data),
            b(s4::client_application_data_record));
  EXPECT_EQ(client_app.open(b(s4::client_close_notify_record), ContentType::alert), close_notify);
  EXPECT_EQ(client_app.seal(ContentType::alert, close_notify), b(s4::client_close_notify_record));
}

// ---- RFC 8448 §5: HelloRetryRequest --------------------------------------------------------

TEST(TlsRfc8448, HelloRetryRequestTranscriptUsesMessageHash) {
  const Bytes hrr_message = b(s5::hello_retry_request);
  auto hrr = decode_body<ServerHello>(body_of(hrr_message));
  ASSERT_TRUE(hrr) << hrr.error().message();
  EXPECT_TRUE(hrr->is_hello_retry_request());
  auto asked = hrr->extensions.get<KeyShareHelloRetryRequest>();
  ASSERT_TRUE(asked && *asked);
  EXPECT_EQ((*asked)->selected_group, NamedGroup::secp256r1);
  auto cookie = hrr->extensions.get<Cookie>();
  ASSERT_TRUE(cookie && *cookie);
  // RFC 8446 §4.2.2: the second ClientHello echoes the cookie.
  const Bytes client_hello_2 = b(s5::client_hello_2);
  auto ch2 = decode_body<ClientHello>(body_of(client_hello_2));
  ASSERT_TRUE(ch2) << ch2.error().message();
  auto echoed = ch2->extensions.get<Cookie>();
  ASSERT_TRUE(echoed && *echoed);
  EXPECT_EQ(to_bytes((*echoed)->cookie), to_bytes((*cookie)->cookie));

  // RFC 8446 §4.4.1: ClientHello1 is replaced by message_hash(ClientHello1).
  auto t = crypto::Transcript::create(HashAlg::sha256);
  ASSERT_TRUE(t);
  ASSERT_TRUE(t->update(b(s5::client_hello_1)));
  ASSERT_TRUE(t->replace_with_message_hash());
  ASSERT_TRUE(t->update(hrr_message));
  ASSERT_TRUE(t->update(client_hello_2));
  ASSERT_TRUE(t->update(b(s5::server_hello)));
  auto hello_hash = t->current();
  ASSERT_TRUE(hello_hash);
  EXPECT_EQ(to_bytes(hello_hash->span()), b(s5::hello_hash));
  // The same thing spelled out: 254 || 00 00 20 || SHA-256(ClientHello1).
  Bytes message_hash = {static_cast<std::uint8_t>(HandshakeType::message_hash), 0, 0, 32};
  const Bytes ch1_hash = sha256(b(s5::client_hello_1));
  message_hash.insert(message_hash.end(), ch1_hash.begin(), ch1_hash.end());
  EXPECT_EQ(transcript_hash({message_hash, hrr_message, client_hello_2, b(s5::server_hello)}),
            b(s5::hello_hash));

  // The transcript carries on over the server flight to the RFC's server Finished hash.
  for (const char* m :
       {s5::encrypted_extensions, s3::certificate, s5::certificate_verify, s5::server_finished})
    ASSERT_TRUE(t->update(b(m)));
  auto server_finished_hash = t->current();
  ASSERT_TRUE(server_finished_hash);
  EXPECT_EQ(to_bytes(server_finished_hash->span()), b(s5::server_finished_hash));
}

TEST(TlsRfc8448, HelloRetryRequestSecretsAndRecords) {
  auto client = crypto::KeyShare::from_private(crypto::Group::secp256r1, b(s5::client_private_key));
  auto server = crypto::KeyShare::from_private(crypto::Group::secp256r1, b(s5::server_private_key));
  ASSERT_TRUE(client && server);
  EXPECT_EQ(to_bytes(client->public_value()), b(s5::client_public_key));
  EXPECT_EQ(to_bytes(server->public_value()), b(s5::server_public_key));
  const Bytes shared = secret_bytes(server->derive(client->public_value()));
  EXPECT_EQ(shared, b(s5::shared_secret));
  EXPECT_EQ(secret_bytes(client->derive(server->public_value())), shared);

  KeySchedule ks(HashAlg::sha256);
  ASSERT_TRUE(ks.start());
  EXPECT_EQ(to_bytes(ks.early_secret().span()), b(s3::early_secret));
  ASSERT_TRUE(ks.derive_handshake_secret(shared));
  EXPECT_EQ(to_bytes(ks.handshake_secret().span()), b(s5::handshake_secret));
  const Bytes hello_hash = b(s5::hello_hash);  // checked in the test above
  const Bytes c_hs = secret_bytes(ks.client_handshake_traffic(hello_hash));
  const Bytes s_hs = secret_bytes(ks.server_handshake_traffic(hello_hash));
  EXPECT_EQ(c_hs, b(s5::client_handshake_traffic));
  EXPECT_EQ(s_hs, b(s5::server_handshake_traffic));
  const Keys server_hs = traffic_keys(s_hs);
  EXPECT_EQ(server_hs.key, b(s5::server_handshake_key));
  EXPECT_EQ(server_hs.iv, b(s5::server_handshake_iv));

  const Bytes flight = concat({b(s5::encrypted_extensions), b(s3::certificate),
                               b(s5::certificate_verify), b(s5::server_finished)});
  Direction server_flight(server_hs.key, server_hs.iv);
  EXPECT_EQ(server_flight.open(b(s5::server_flight_record), ContentType::handshake), flight);
  EXPECT_EQ(server_flight.seal(ContentType::handshake, flight), b(s5::server_flight_record));

  // Transcript hashes continue from message_hash(ClientHello1) || HRR || ClientHello2 || SH.
  auto t = crypto::Transcript::create(HashAlg::sha256);
  ASSERT_TRUE(t);
  ASSERT_TRUE(t->update(b(s5::client_hello_1)));
  ASSERT_TRUE(t->replace_with_message_hash());
  for (const char* m : {s5::hello_retry_request, s5::client_hello_2, s5::server_hello,
                        s5::encrypted_extensions, s3::certificate})
    ASSERT_TRUE(t->update(b(m)));
  auto th_certificate = t->current();
  ASSERT_TRUE(th_certificate);
  expect_server_signature(b(s5::certificate_verify), to_bytes(th_certificate->span()));
  ASSERT_TRUE(t->update(b(s5::certificate_verify)));
  auto th_certificate_verify = t->current();
  ASSERT_TRUE(th_certificate_verify);
  EXPECT_EQ(finished_message(finished_mac(s_hs, to_bytes(th_certificate_verify->span()))),
            b(s5::server_finished));

  ASSERT_TRUE(ks.derive_master_secret());
  EXPECT_EQ(to_bytes(ks.master_secret().span()), b(s5::master_secret));
  const Bytes server_finished_hash = b(s5::server_finished_hash);  // checked in the test above
  const Bytes c_ap = secret_bytes(ks.client_application_traffic(server_finished_hash));
  const Bytes s_ap = secret_bytes(ks.server_application_traffic(server_finished_hash));
  EXPECT_EQ(c_ap, b(s5::client_application_traffic));
  EXPECT_EQ(s_ap, b(s5::server_application_traffic));
  EXPECT_EQ(secret_bytes(ks.exporter_master(server_finished_hash)), b(s5::exporter_master));

  const Bytes client_finished = finished_message(finished_mac(c_hs, server_finished_hash));
  const Keys client_hs = traffic_keys(c_hs);
  Direction client_flight(client_hs.key, client_hs.iv);
  EXPECT_EQ(client_flight.open(b(s5::client_finished_record), ContentType::handshake),
            client_finished);
  EXPECT_EQ(client_flight.seal(ContentType::handshake, client_finished),
            b(s5::client_finished_record));

  // §5 exchanges no data: each side's first application record is its close_notify.
  const Bytes close_notify = {1, 0};
  const Keys server_ap = traffic_keys(s_ap);
  Direction server_app(server_ap.key, server_ap.iv);
  EXPECT_EQ(server_app.open(b(s5::server_close_notify_record), ContentType::alert), close_notify);
  EXPECT_EQ(server_app.seal(ContentType::alert, close_notify), b(s5::server_close_notify_record));
  const Keys client_ap = traffic_keys(c_ap);
  Direction client_app(client_ap.key, client_ap.iv);
  EXPECT_EQ(client_app.open(b(s5::client_close_notify_record), ContentType::alert), close_notify);
  EXPECT_EQ(client_app.seal(ContentType::alert, close_notify), b(s5::client_close_notify_record));
}

// Without a PSK the early secret and the "derived" salt are the hash's constants, kept once
// per process; with one they are computed. One schedule restarted either way gives what HKDF
// computed by hand gives, for both TLS 1.3 hashes.
TEST(TlsRfc8448, KeyScheduleWithAndWithoutPskMatchesHkdf) {
  for (HashAlg alg : {HashAlg::sha256, HashAlg::sha384}) {
    const std::size_t n = crypto::digest_length(alg);
    const Bytes zeros(n, 0);
    const Bytes psk(n, 0x5a);
    const Bytes shared(32, 0x17);
    auto empty = crypto::hash(alg, {});
    ASSERT_TRUE(empty);
    KeySchedule ks(alg);
    for (const Bytes* ikm : {&zeros, &psk, &zeros, &psk}) {
      const bool with_psk = ikm == &psk;
      ASSERT_TRUE(ks.start(with_psk ? std::span<const std::uint8_t>(psk)
                                    : std::span<const std::uint8_t>()));
      const Bytes early = secret_bytes(crypto::hkdf_extract(alg, {}, *ikm));
      EXPECT_EQ(to_bytes(ks.early_secret().span()), early) << with_psk;
      const Bytes salt = secret_bytes(crypto::derive_secret(alg, early, "derived", empty->span()));
      ASSERT_TRUE(ks.derive_handshake_secret(shared));
      EXPECT_EQ(to_bytes(ks.handshake_secret().span()),
                secret_bytes(crypto::hkdf_extract(alg, salt, shared)))
          << with_psk;
    }
  }
}
