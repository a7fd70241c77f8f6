// Decodes arbitrary bytes as each handshake message body, as alerts and heartbeats, and as a
// stream of handshake messages. Nothing may crash or read outside the input; whatever decodes
// must re-encode to exactly the bytes it came from. The first byte picks the codec (and, for
// Finished and ClientKeyExchange, the caller-supplied parameter); the rest is the data.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "bulwark/tls/messages.hpp"
#include "bulwark/wire.hpp"

using namespace bulwark;
using namespace bulwark::tls;

namespace {

void check(bool cond) {
  if (!cond) std::abort();
}

template <class M, class... Args>
void round_trip(wire::Bytes body, Args... args) {
  auto decoded = decode_body<M>(body, args...);
  if (!decoded) return;
  wire::Writer w;
  decoded->encode(w);
  check(w.ok());
  check(same_bytes(w.data(), body));
  auto again = decode_body<M>(w.data(), args...);
  check(again.ok());
  check(*again == *decoded);
}

void heartbeat(wire::Bytes fragment) {
  auto hb = HeartbeatMessage::decode(fragment);
  if (!hb) return;
  // What decoded obeys RFC 6520 §4 and lies inside the fragment.
  check(hb->padding.size() >= heartbeat_min_padding);
  check(3 + hb->payload.size() + hb->padding.size() == fragment.size());
  wire::Writer w;
  hb->encode(w);
  check(w.ok());
  check(same_bytes(w.data(), fragment));
}

void stream(wire::Bytes data) {
  wire::Reader r(data);
  while (!r.empty()) {
    const std::size_t before = r.remaining();
    auto m = read_handshake(r, 1024);
    if (!m) {
      check(r.remaining() == before);  // a failed read consumes nothing
      return;
    }
    check(m->message.size() == handshake_header_size + m->body.size());
    check(before - r.remaining() == m->message.size());
    if (m->type == HandshakeType::client_hello) {
      auto prefix = truncated_client_hello_length(m->message);
      if (prefix) check(*prefix < m->message.size());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const wire::Bytes body(data + 1, size - 1);
  stream(body);
  (void)truncated_client_hello_length(body);
  using Form = ClientKeyExchange::Form;
  switch (data[0] % 24) {
    case 0:
      round_trip<ClientHello>(body);
      break;
    case 1:
      round_trip<ServerHello>(body);
      break;
    case 2:
      round_trip<EncryptedExtensions>(body);
      break;
    case 3:
      round_trip<Certificate13>(body);
      break;
    case 4:
      round_trip<CertificateRequest13>(body);
      break;
    case 5:
      round_trip<CertificateVerify>(body);
      break;
    case 6:
      round_trip<Finished>(body, std::size_t{12});
      break;
    case 7:
      round_trip<Finished>(body, std::size_t{32});
      break;
    case 8:
      round_trip<NewSessionTicket13>(body);
      break;
    case 9:
      round_trip<KeyUpdate>(body);
      break;
    case 10:
      round_trip<EndOfEarlyData>(body);
      break;
    case 11:
      round_trip<Certificate12>(body);
      break;
    case 12:
      round_trip<CertificateRequest12>(body);
      break;
    case 13:
      round_trip<NewSessionTicket12>(body);
      break;
    case 14:
      round_trip<ServerKeyExchangeEcdhe>(body);
      break;
    case 15:
      round_trip<ServerKeyExchangeDhe>(body);
      break;
    case 16:
      round_trip<ClientKeyExchange>(body, Form::ecdhe);
      break;
    case 17:
      round_trip<ClientKeyExchange>(body, Form::dhe);
      break;
    case 18:
      round_trip<ClientKeyExchange>(body, Form::rsa);
      break;
    case 19:
      round_trip<ServerHelloDone>(body);
      break;
    case 20:
      round_trip<Alert>(body);
      break;
    case 21:
      heartbeat(body);
      break;
    case 22:
      round_trip<HelloRequest>(body);
      break;
    case 23: {
      wire::Reader r(body);
      auto h = HandshakeHeader::decode(r);
      if (h) check(r.consumed() == handshake_header_size);
      break;
    }
  }
  return 0;
}
