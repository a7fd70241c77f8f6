#include "bulwark/proxy/client_hello.hpp"

#include <vector>

#include "bulwark/tls/extensions.hpp"
#include "bulwark/tls/messages.hpp"

namespace bulwark::proxy {
namespace {

constexpr std::uint8_t record_type_handshake = 22;
constexpr std::uint8_t handshake_type_client_hello = 1;
constexpr std::size_t record_header_size = 5;
constexpr std::size_t max_plaintext_record = 16384;

ClientHelloPeek need_more() {
  return ClientHelloPeek{};
}

}  // namespace

Result<ClientHelloPeek> peek_client_hello(wire::Bytes received) {
  wire::Reader records(received);
  std::vector<std::uint8_t> message;  // the handshake message, reassembled from fragments
  bool first = true;
  while (!records.empty()) {
    if (records.remaining() < record_header_size) {
      // Even the first byte tells TLS from anything else.
      if (first && received[0] != record_type_handshake)
        return ClientHelloPeek{ClientHelloPeek::Outcome::not_tls, {}};
      return need_more();
    }
    BW_ASSIGN(const std::uint8_t type, records.u8());
    BW_ASSIGN(const std::uint16_t version, records.u16());
    BW_ASSIGN(const std::uint16_t length, records.u16());
    if (first && (type != record_type_handshake || (version >> 8) != 3))
      return ClientHelloPeek{ClientHelloPeek::Outcome::not_tls, {}};
    // RFC 8446 §5.1: the ClientHello comes in handshake records only, none of them empty.
    if (type != record_type_handshake)
      return Error(Errc::unexpected_message, "a non-handshake record inside the ClientHello");
    // RFC 8446 §5.1: a plaintext record is at most 2^14 bytes.
    if (length == 0 || length > max_plaintext_record)
      return Error(Errc::record_overflow, "bad handshake record length in the ClientHello");
    first = false;
    if (records.remaining() < length) return need_more();
    BW_ASSIGN(const wire::Bytes fragment, records.bytes(length));
    message.insert(message.end(), fragment.begin(), fragment.end());
    if (message.size() > max_client_hello_bytes)
      return Error(Errc::limit_exceeded, "ClientHello larger than 64 KiB");
    if (message.size() < 4) continue;
    if (message[0] != handshake_type_client_hello)
      return Error(Errc::unexpected_message, "the first handshake message is not a ClientHello");
    const std::size_t body_length =
        (std::size_t(message[1]) << 16) | (std::size_t(message[2]) << 8) | message[3];
    if (body_length + 4 > max_client_hello_bytes)
      return Error(Errc::limit_exceeded, "ClientHello larger than 64 KiB");
    if (message.size() < body_length + 4) continue;

    wire::Reader body(wire::Bytes(message.data() + 4, body_length));
    BW_ASSIGN(const tls::ClientHello hello, tls::ClientHello::decode(body));
    ClientHelloPeek out{ClientHelloPeek::Outcome::complete, {}};
    for (const tls::Extension& ext : hello.extensions) {
      if (ext.type != tls::ExtensionType::server_name) continue;
      BW_ASSIGN(const tls::ServerName sni, tls::ServerName::decode(ext.body));
      if (sni.address_literal) break;
      out.server_name.reserve(sni.host_name.size());
      for (const char c : sni.host_name)
        out.server_name.push_back(c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c);
      break;
    }
    return out;
  }
  return need_more();
}

}  // namespace bulwark::proxy
