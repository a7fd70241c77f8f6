// Raw probe hellos, written through wire::Writer (whose length scopes enforce every maximum).
#include "bulwark/scan/hello.hpp"

#include <algorithm>

#include "bulwark/tls/types.hpp"

namespace bulwark::scan {

namespace {

using tls::ExtensionType;

void extension(wire::Writer& w, ExtensionType type, wire::Bytes body) {
  w.u16(static_cast<std::uint16_t>(type));
  w.prefixed_bytes<2>(body);
}

}  // namespace

Result<std::vector<std::uint8_t>> HelloBuilder::message(
    const std::array<std::uint8_t, 32>& random) const {
  wire::Writer w;
  w.u8(static_cast<std::uint8_t>(tls::HandshakeType::client_hello));
  {
    auto body = w.prefixed<3>();
    w.u16(legacy_version);
    w.bytes(random);
    w.u8(0);  // empty legacy_session_id
    {
      // RFC 5246 §7.4.1.2: cipher_suites<2..2^16-2>.
      auto list = w.prefixed<2>(2, 0xfffe);
      for (std::uint16_t s : suites)
        w.u16(s);
    }
    {
      // RFC 5246 §7.4.1.2: compression_methods<1..2^8-1>.
      auto list = w.prefixed<1>(1, 0xff);
      for (std::uint8_t c : compression_methods)
        w.u8(c);
    }
    if (extensions) {
      auto all = w.prefixed<2>();
      if (!server_name.empty()) {
        w.u16(static_cast<std::uint16_t>(ExtensionType::server_name));
        auto ext = w.prefixed<2>();
        auto list = w.prefixed<2>(1, 0xffff);
        w.u8(static_cast<std::uint8_t>(tls::NameType::host_name));
        w.prefixed_bytes<2>(wire::as_bytes(server_name), 1, 0xffff);
      }
      if (status_request) {
        // RFC 6066 §8: ocsp, empty responder_id_list and request_extensions.
        static constexpr std::uint8_t body_bytes[] = {1, 0, 0, 0, 0};
        extension(w, ExtensionType::status_request, body_bytes);
      }
      if (!groups.empty()) {
        w.u16(static_cast<std::uint16_t>(ExtensionType::supported_groups));
        auto ext = w.prefixed<2>();
        auto list = w.prefixed<2>(2, 0xffff);
        for (std::uint16_t g : groups)
          w.u16(g);
      }
      if (ec_point_formats) {
        static constexpr std::uint8_t body_bytes[] = {1, 0};  // uncompressed only
        extension(w, ExtensionType::ec_point_formats, body_bytes);
      }
      if (!signature_schemes.empty()) {
        w.u16(static_cast<std::uint16_t>(ExtensionType::signature_algorithms));
        auto ext = w.prefixed<2>();
        auto list = w.prefixed<2>(2, 0xfffe);
        for (std::uint16_t s : signature_schemes)
          w.u16(s);
      }
      if (heartbeat) {
        static constexpr std::uint8_t body_bytes[] = {
            static_cast<std::uint8_t>(tls::HeartbeatMode::peer_allowed_to_send)};
        extension(w, ExtensionType::heartbeat, body_bytes);
      }
      if (!alpn.empty()) {
        w.u16(static_cast<std::uint16_t>(ExtensionType::application_layer_protocol_negotiation));
        auto ext = w.prefixed<2>();
        auto list = w.prefixed<2>(2, 0xffff);
        for (const std::string& p : alpn)
          w.prefixed_bytes<1>(wire::as_bytes(p), 1, 0xff);
      }
      if (extended_master_secret) extension(w, ExtensionType::extended_master_secret, {});
      if (session_ticket) extension(w, ExtensionType::session_ticket, {});
      if (!supported_versions.empty()) {
        w.u16(static_cast<std::uint16_t>(ExtensionType::supported_versions));
        auto ext = w.prefixed<2>();
        auto list = w.prefixed<1>(2, 254);
        for (std::uint16_t v : supported_versions)
          w.u16(v);
      }
      if (psk_key_exchange_modes) {
        static constexpr std::uint8_t body_bytes[] = {
            1, static_cast<std::uint8_t>(tls::PskKeyExchangeMode::psk_dhe_ke)};
        extension(w, ExtensionType::psk_key_exchange_modes, body_bytes);
      }
      // RFC 8446 §9.2: a TLS 1.3 hello with supported_groups carries key_share too, even an
      // empty one (which asks the server to name its group in a HelloRetryRequest).
      const bool tls13 = std::find(supported_versions.begin(), supported_versions.end(),
                                   std::uint16_t{0x0304}) != supported_versions.end();
      if (!key_shares.empty() || tls13) {
        w.u16(static_cast<std::uint16_t>(ExtensionType::key_share));
        auto ext = w.prefixed<2>();
        auto list = w.prefixed<2>();
        for (const auto& [group, key] : key_shares) {
          w.u16(group);
          w.prefixed_bytes<2>(key, 1, 0xffff);
        }
      }
      if (renegotiation_info) {
        // RFC 5746 §3.2: renegotiated_connection<0..255>.
        w.u16(static_cast<std::uint16_t>(ExtensionType::renegotiation_info));
        auto ext = w.prefixed<2>();
        w.prefixed_bytes<1>(renegotiated_connection, 0, 255);
      }
    }
  }
  BW_TRY(w.status());
  return w.take();
}

Result<std::vector<std::uint8_t>> HelloBuilder::record(
    const std::array<std::uint8_t, 32>& random) const {
  BW_ASSIGN(std::vector<std::uint8_t> msg, message(random));
  if (msg.size() > tls::max_plaintext) return Error(Errc::length_overflow, "ClientHello too long");
  return plaintext_record(static_cast<std::uint8_t>(tls::ContentType::handshake), record_version,
                          msg);
}

Result<std::vector<std::uint8_t>> sslv2_client_hello(const std::vector<std::uint32_t>& ciphers,
                                                     wire::Bytes challenge) {
  // SSL 2.0: the challenge is 16 to 32 bytes; cipher specs are 3 bytes each.
  if (challenge.size() < 16 || challenge.size() > 32 || ciphers.empty())
    return Error(Errc::invalid_argument,
                 "SSLv2 CLIENT-HELLO needs ciphers and a 16..32 byte challenge");
  wire::Writer body;
  body.u8(1);        // MSG-CLIENT-HELLO
  body.u16(0x0002);  // SSL 2.0
  body.u16(static_cast<std::uint16_t>(ciphers.size() * 3));
  body.u16(0);  // session id length
  body.u16(static_cast<std::uint16_t>(challenge.size()));
  for (std::uint32_t c : ciphers)
    body.u24(c);
  body.bytes(challenge);
  BW_TRY(body.status());
  // A 2-byte record header: high bit set, 15-bit length.
  if (body.size() > 0x7fff) return Error(Errc::length_overflow, "SSLv2 CLIENT-HELLO too long");
  wire::Writer rec;
  rec.u16(static_cast<std::uint16_t>(0x8000 | body.size()));
  rec.bytes(body.data());
  BW_TRY(rec.status());
  return rec.take();
}

std::vector<std::uint8_t> plaintext_record(std::uint8_t content_type, std::uint16_t version,
                                           wire::Bytes fragment) {
  wire::Writer w;
  w.u8(content_type);
  w.u16(version);
  w.prefixed_bytes<2>(fragment);
  return w.take();
}

std::vector<std::uint8_t> heartbeat_request_record(std::uint16_t version,
                                                   std::uint16_t claimed_length,
                                                   wire::Bytes payload) {
  wire::Writer msg;
  msg.u8(static_cast<std::uint8_t>(tls::HeartbeatMessageType::heartbeat_request));
  msg.u16(claimed_length);  // deliberately more than `payload` holds
  msg.bytes(payload);
  for (std::size_t i = 0; i < tls::heartbeat_min_padding; ++i)
    msg.u8(0);
  return plaintext_record(static_cast<std::uint8_t>(tls::ContentType::heartbeat), version,
                          msg.data());
}

}  // namespace bulwark::scan
