// A TLS 1.2 client just complete enough to renegotiate: ECDHE (X25519, P-256, P-384) with an
// AEAD suite, records through the engine's RecordReader/RecordWriter, keys and Finished values
// from the engine's TLS 1.2 helpers. Every field is read through wire::Reader.
#include "bulwark/scan/renegotiation.hpp"

#include <algorithm>

#include "bulwark/crypto/prf.hpp"
#include "bulwark/crypto/secret.hpp"
#include "bulwark/scan/hello.hpp"
#include "bulwark/tls/connection.hpp"
#include "bulwark/tls/types.hpp"
#include "tls/tls12.hpp"

namespace bulwark::scan {

namespace {

using tls::AlertDescription;
using tls::ContentType;
using tls::HandshakeType;

// The most the probe reads from a server: a handshake with a long chain fits many times over.
constexpr std::size_t max_received = 1024 * 1024;
constexpr std::uint8_t alert_level_warning = 1;

constexpr std::uint16_t probe_groups[] = {static_cast<std::uint16_t>(crypto::Group::x25519),
                                          static_cast<std::uint16_t>(crypto::Group::secp256r1),
                                          static_cast<std::uint16_t>(crypto::Group::secp384r1)};
// Schemes a TLS 1.2 server may sign its ServerKeyExchange with (the signature is not checked:
// these only keep the server from refusing us).
constexpr std::uint16_t probe_schemes[] = {0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804,
                                           0x0805, 0x0806, 0x0809, 0x080a, 0x080b, 0x0401,
                                           0x0501, 0x0601, 0x0203, 0x0201};

std::string alert_words(std::uint8_t level, std::uint8_t description) {
  const std::string_view n = tls::name(static_cast<AlertDescription>(description));
  return "alert " + (n == "unknown" ? std::to_string(description) : std::string(n)) +
         (level == alert_level_warning ? " (warning)" : " (fatal)");
}

HelloBuilder probe_hello(const std::string& server_name) {
  HelloBuilder h;
  h.record_version = static_cast<std::uint16_t>(tls::ProtocolVersion::tls10);
  h.legacy_version = static_cast<std::uint16_t>(tls::ProtocolVersion::tls12);
  h.suites = renegotiation_probe_suites();
  h.groups.assign(std::begin(probe_groups), std::end(probe_groups));
  h.ec_point_formats = true;
  h.signature_schemes.assign(std::begin(probe_schemes), std::end(probe_schemes));
  // RFC 5746 §3.4: a client MUST signal secure renegotiation in its first ClientHello.
  h.renegotiation_info = true;
  h.extended_master_secret = true;
  h.server_name = server_name;
  return h;
}

// A handshake message: type, u24 length, body.
std::vector<std::uint8_t> handshake_message(HandshakeType type, wire::Bytes body) {
  wire::Writer w;
  w.u8(static_cast<std::uint8_t>(type));
  w.prefixed_bytes<3>(body);
  return w.take();
}

}  // namespace

std::vector<std::uint16_t> renegotiation_probe_suites() {
  std::vector<std::uint16_t> out;
  for (const tls::CipherSuiteInfo& s : tls::supported_cipher_suites())
    if (s.version == tls::ProtocolVersion::tls12 && s.protection == tls::RecordProtection::aead &&
        (s.kx == tls::KeyExchange::ecdhe_ecdsa || s.kx == tls::KeyExchange::ecdhe_rsa))
      out.push_back(static_cast<std::uint16_t>(s.id));
  return out;
}

Result<RenegotiationProbe> RenegotiationProbe::start(const std::string& server_name,
                                                     crypto::Random& rng) {
  RenegotiationProbe p(rng);
  p.server_name_ = server_name;
  p.reader_.set_tls13(false);
  p.writer_.set_tls13(false);
  BW_TRY(rng.fill(p.client_random_));
  BW_ASSIGN(std::vector<std::uint8_t> hello, probe_hello(server_name).message(p.client_random_));
  // RFC 5246 Appendix E.1: a first ClientHello's record says TLS 1.0 for old servers' sake.
  p.writer_.set_version(tls::ProtocolVersion::tls10);
  BW_TRY(p.send_handshake(hello));
  p.writer_.set_version(tls::ProtocolVersion::tls12);
  return p;
}

std::uint16_t RenegotiationProbe::cipher_suite() const noexcept {
  return suite_ ? static_cast<std::uint16_t>(suite_->id) : 0;
}

void RenegotiationProbe::consume_output(std::size_t n) noexcept {
  out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(std::min(n, out_.size())));
}

void RenegotiationProbe::finish(RenegotiationAnswer answer, std::string detail) {
  if (done()) return;
  answer_ = answer;
  detail_ = std::move(detail);
  stage_ = Stage::finished;
  handshake_.clear();
}

void RenegotiationProbe::transport_closed() {
  if (done()) return;
  if (stage_ == Stage::wait_answer)
    finish(RenegotiationAnswer::closed, "the server closed the connection");
  else
    finish(RenegotiationAnswer::not_tested,
           "the server closed the connection during the "
           "first handshake");
}

void RenegotiationProbe::feed(wire::Bytes data) {
  if (done()) return;
  received_ += data.size();
  Status status = received_ > max_received
                      ? Status(Error(Errc::limit_exceeded, "the server sent too much"))
                      : reader_.feed(data);
  while (status && !done()) {
    auto record = reader_.next();
    if (!record) {
      status = std::move(record).error();
      break;
    }
    if (!*record) break;
    status = on_record(**record);
  }
  if (!status && !done()) {
    if (stage_ == Stage::wait_answer)
      // After our renegotiation ClientHello, a broken answer is still a refusal of sorts, but
      // not one we can name: the scanner calls it inconclusive.
      finish(RenegotiationAnswer::unexpected, "unexpected answer: " + status.error().message());
    else
      finish(RenegotiationAnswer::not_tested, "first handshake: " + status.error().message());
  }
}

Status RenegotiationProbe::on_record(const tls::Record& record) {
  switch (record.type) {
    case ContentType::alert: {
      wire::Reader r(record.fragment);
      BW_ASSIGN(std::uint8_t level, r.u8());
      BW_ASSIGN(std::uint8_t description, r.u8());
      const std::string words = alert_words(level, description);
      if (stage_ != Stage::wait_answer) {
        finish(RenegotiationAnswer::not_tested, "first handshake: " + words);
      } else if (description == static_cast<std::uint8_t>(AlertDescription::close_notify)) {
        finish(RenegotiationAnswer::closed, "close_notify");
      } else if (level == alert_level_warning &&
                 description == static_cast<std::uint8_t>(AlertDescription::no_renegotiation)) {
        finish(RenegotiationAnswer::refused_warning, words);
      } else if (level != alert_level_warning) {
        finish(RenegotiationAnswer::refused_fatal, words);
      }
      // Any other warning: the answer is still to come.
      return {};
    }
    case ContentType::change_cipher_spec: {
      // RFC 5246 §7.1: the server's ChangeCipherSpec follows our Finished and is one byte, 1.
      if (stage_ != Stage::wait_ccs || !handshake_.empty())
        return Error(Errc::unexpected_message, "ChangeCipherSpec out of order");
      wire::Reader r(record.fragment);
      BW_ASSIGN(std::uint8_t one, r.u8());
      BW_TRY(r.expect_end());
      if (one != 1) return Error(Errc::decode_failed, "ChangeCipherSpec is not 1");
      reader_.set_cipher(std::move(server_cipher_));
      server_cipher_.reset();
      stage_ = Stage::wait_finished;
      return {};
    }
    case ContentType::handshake: {
      handshake_.insert(handshake_.end(), record.fragment.begin(), record.fragment.end());
      std::size_t used = 0;
      for (;;) {
        wire::Reader r(wire::Bytes(handshake_).subspan(used));
        if (r.remaining() < 4) break;
        const std::uint8_t type = *r.u8();
        const std::uint32_t length = *r.u24();
        if (length > tls::max_handshake_message)
          return Error(Errc::limit_exceeded, "handshake message too long");
        if (r.remaining() < length) break;
        const wire::Bytes message = wire::Bytes(handshake_).subspan(used, 4 + length);
        used += message.size();
        BW_TRY(on_message(type, message));
        if (done()) return {};
      }
      handshake_.erase(handshake_.begin(), handshake_.begin() + static_cast<std::ptrdiff_t>(used));
      return {};
    }
    case ContentType::application_data:
      // Nothing is asked of the server, but whatever it says after the handshake is no answer.
      if (stage_ == Stage::wait_answer) return {};
      return Error(Errc::unexpected_message, "application data during the handshake");
    case ContentType::heartbeat:
      return {};
  }
  return Error(Errc::unexpected_message, "unknown record type");
}

Status RenegotiationProbe::on_message(std::uint8_t type, wire::Bytes message) {
  const wire::Bytes body = message.subspan(4);
  const auto t = static_cast<HandshakeType>(type);
  switch (stage_) {
    case Stage::wait_server_hello:
      if (t != HandshakeType::server_hello)
        return Error(Errc::unexpected_message, "expected a ServerHello");
      BW_TRY(transcript_.update(message));
      return on_server_hello(body);
    case Stage::wait_server_flight:
      switch (t) {
        case HandshakeType::certificate:
        case HandshakeType::certificate_status:
          // Not authenticated: the probe needs the server's key exchange, not its identity.
          return transcript_.update(message);
        case HandshakeType::server_key_exchange:
          BW_TRY(transcript_.update(message));
          return on_server_key_exchange(body);
        case HandshakeType::certificate_request:
          certificate_requested_ = true;
          return transcript_.update(message);
        case HandshakeType::server_hello_done:
          BW_TRY(transcript_.update(message));
          return on_server_hello_done();
        default:
          return Error(Errc::unexpected_message, "unexpected message in the server's flight");
      }
    case Stage::wait_ccs:
      // RFC 5077 §3.3: a NewSessionTicket comes before the server's ChangeCipherSpec and is
      // part of what its Finished covers.
      if (t != HandshakeType::new_session_ticket)
        return Error(Errc::unexpected_message, "expected ChangeCipherSpec");
      return transcript_.update(message);
    case Stage::wait_finished:
      if (t != HandshakeType::finished)
        return Error(Errc::unexpected_message, "expected the server's Finished");
      return on_server_finished(body);
    case Stage::wait_answer:
      // RFC 5246 §7.4.1.1: a HelloRequest may cross our ClientHello; it asks for nothing new.
      if (t == HandshakeType::hello_request) return {};
      if (t == HandshakeType::server_hello) {
        finish(RenegotiationAnswer::accepted, "ServerHello");
        return {};
      }
      return Error(Errc::unexpected_message, "handshake message " + std::to_string(type));
    case Stage::finished:
      return {};
  }
  return {};
}

Status RenegotiationProbe::on_server_hello(wire::Bytes body) {
  wire::Reader r(body);
  BW_ASSIGN(std::uint16_t version, r.u16());
  if (version != static_cast<std::uint16_t>(tls::ProtocolVersion::tls12))
    return Error(Errc::protocol_version,
                 "the server chose " +
                     std::string(tls::name(static_cast<tls::ProtocolVersion>(version))) +
                     ", not TLS 1.2");
  BW_ASSIGN(wire::Bytes random, r.bytes(32));
  std::copy(random.begin(), random.end(), server_random_.begin());
  BW_TRY(r.prefixed_bytes<1>(0, 32));  // session_id
  BW_ASSIGN(std::uint16_t suite, r.u16());
  const auto offered = renegotiation_probe_suites();
  // RFC 5246 §7.4.1.3: the server MUST pick one of the suites the client offered.
  if (std::find(offered.begin(), offered.end(), suite) == offered.end())
    return Error(Errc::illegal_parameter, "the server chose a suite that was not offered");
  suite_ = tls::find_cipher_suite(static_cast<tls::CipherSuite>(suite));
  if (suite_ == nullptr)
    return Error(Errc::unsupported, "the engine has no descriptor for the suite");
  BW_ASSIGN(std::uint8_t compression, r.u8());
  // RFC 5246 §7.4.1.3: the compression method is one the client offered (null only).
  if (compression != 0) return Error(Errc::illegal_parameter, "compression was not offered");
  if (!r.empty()) {
    BW_ASSIGN(wire::Reader extensions, r.prefixed<2>());
    while (!extensions.empty()) {
      BW_ASSIGN(std::uint16_t type, extensions.u16());
      BW_ASSIGN(wire::Bytes data, extensions.prefixed_bytes<2>());
      if (type == static_cast<std::uint16_t>(tls::ExtensionType::renegotiation_info)) {
        wire::Reader ri(data);
        BW_ASSIGN(wire::Bytes renegotiated, ri.prefixed_bytes<1>());
        BW_TRY(ri.expect_end());
        // RFC 5746 §3.4: on a first handshake renegotiated_connection MUST be empty.
        if (!renegotiated.empty())
          return Error(Errc::handshake_failure, "renegotiation_info is not empty");
        secure_ = true;
      } else if (type == static_cast<std::uint16_t>(tls::ExtensionType::extended_master_secret)) {
        ems_ = true;
      }
    }
  }
  BW_TRY(r.expect_end());
  BW_TRY(transcript_.bind(suite_->hash));
  stage_ = Stage::wait_server_flight;
  return {};
}

Status RenegotiationProbe::on_server_key_exchange(wire::Bytes body) {
  wire::Reader r(body);
  // RFC 8422 §5.4: ECParameters (curve_type named_curve = 3, NamedCurve), then ECPoint
  // public<1..2^8-1>; the signature that follows is not checked here.
  BW_ASSIGN(std::uint8_t curve_type, r.u8());
  if (curve_type != 3) return Error(Errc::illegal_parameter, "not a named curve");
  BW_ASSIGN(std::uint16_t group, r.u16());
  // RFC 8422 §5.4: the server MUST use a curve the client offered.
  if (std::find(std::begin(probe_groups), std::end(probe_groups), group) == std::end(probe_groups))
    return Error(Errc::illegal_parameter, "the server chose a group that was not offered");
  BW_ASSIGN(wire::Bytes point, r.prefixed_bytes<1>(1, 255));
  group_ = group;
  server_public_.assign(point.begin(), point.end());
  return {};
}

Status RenegotiationProbe::on_server_hello_done() {
  if (server_public_.empty())
    return Error(Errc::unexpected_message, "no ServerKeyExchange before ServerHelloDone");
  if (certificate_requested_) {
    // RFC 5246 §7.4.6: a client without a certificate sends an empty Certificate message.
    static constexpr std::uint8_t empty_list[] = {0, 0, 0};
    BW_TRY(send_handshake(handshake_message(HandshakeType::certificate, empty_list)));
  }
  BW_ASSIGN(crypto::KeyShare share,
            crypto::KeyShare::generate(static_cast<crypto::Group>(group_), *rng_));
  BW_ASSIGN(crypto::Secret premaster, share.derive(server_public_));
  {
    // RFC 8422 §5.7: ClientECDiffieHellmanPublic, ecdh_Yc<1..2^8-1>.
    wire::Writer cke;
    cke.prefixed_bytes<1>(share.public_value(), 1, 255);
    BW_TRY(cke.status());
    BW_TRY(send_handshake(handshake_message(HandshakeType::client_key_exchange, cke.data())));
  }
  if (ems_) {
    // RFC 7627 §4: the session hash covers the messages through ClientKeyExchange.
    BW_ASSIGN(crypto::Digest session_hash, transcript_.current());
    BW_ASSIGN(crypto::Secret master,
              tls::extended_master_secret(*suite_, premaster.span(), session_hash.span()));
    master_ = std::move(master);
  } else {
    // RFC 5246 §8.1: master_secret = PRF(pre_master_secret, "master secret", client_random +
    // server_random)[0..47].
    std::array<std::uint8_t, 64> seed;
    std::copy(client_random_.begin(), client_random_.end(), seed.begin());
    std::copy(server_random_.begin(), server_random_.end(), seed.begin() + 32);
    BW_ASSIGN(crypto::Secret master,
              crypto::tls12_prf(suite_->hash, premaster.span(), "master secret", seed, 48));
    master_ = std::move(master);
  }
  BW_ASSIGN(tls::RecordCiphers12 ciphers,
            tls::key_block12(*suite_, master_->span(), client_random_, server_random_));
  static constexpr std::uint8_t ccs[] = {1};
  BW_TRY(writer_.write(ContentType::change_cipher_spec, ccs, out_));
  writer_.set_cipher(std::move(ciphers.client_write));
  server_cipher_ = std::move(ciphers.server_write);
  BW_ASSIGN(crypto::Digest hash, transcript_.current());
  BW_ASSIGN(client_verify_data_,
            tls::finished12(*suite_, master_->span(), tls::Role::client, hash.span()));
  BW_TRY(send_handshake(handshake_message(HandshakeType::finished, client_verify_data_)));
  stage_ = Stage::wait_ccs;
  return {};
}

Status RenegotiationProbe::on_server_finished(wire::Bytes body) {
  BW_ASSIGN(crypto::Digest hash, transcript_.current());
  BW_ASSIGN(auto expected,
            tls::finished12(*suite_, master_->span(), tls::Role::server, hash.span()));
  // RFC 5246 §7.4.9: the recipient MUST verify that the Finished contents are correct.
  if (!crypto::constant_time_equal(expected, body))
    return Error(Errc::decrypt_error, "the server's Finished does not verify");
  // The renegotiation ClientHello, under the new keys, with a fresh random.
  std::array<std::uint8_t, 32> random{};
  BW_TRY(rng_->fill(random));
  HelloBuilder h = probe_hello(server_name_);
  // RFC 5746 §3.5: renegotiating with a server that supports secure renegotiation, the
  // ClientHello MUST carry renegotiation_info with client_verify_data (and no SCSV). A legacy
  // server is asked the old way, without the extension.
  h.renegotiation_info = secure_;
  if (secure_)
    h.renegotiated_connection.assign(client_verify_data_.begin(), client_verify_data_.end());
  BW_ASSIGN(std::vector<std::uint8_t> hello, h.message(random));
  BW_TRY(send_handshake(hello));
  stage_ = Stage::wait_answer;
  return {};
}

Status RenegotiationProbe::send_handshake(wire::Bytes message) {
  // The renegotiation's messages are not part of the first handshake's transcript.
  if (stage_ != Stage::wait_finished) BW_TRY(transcript_.update(message));
  return writer_.write(ContentType::handshake, message, out_);
}

}  // namespace bulwark::scan
