// Decodes arbitrary bytes as an extension block and as each typed extension body. Nothing may
// crash or read outside the input, and whatever decodes must re-encode to exactly the bytes
// it came from (decoded values are views of the input, so a codec that drops or invents a byte
// shows up here). The first byte picks the extension codec; the rest is the data.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "bulwark/tls/extensions.hpp"
#include "bulwark/wire.hpp"

using namespace bulwark;
using namespace bulwark::tls;

namespace {

void check(bool cond) {
  if (!cond) std::abort();
}

template <class Ext>
void round_trip(wire::Bytes body, bool exact = true) {
  auto decoded = Ext::decode(body);
  if (!decoded) return;
  wire::Writer w;
  decoded->encode(w);
  check(w.ok());
  if (exact) check(same_bytes(w.data(), body));
  check(w.size() == body.size());
  auto again = Ext::decode(w.data());
  check(again.ok());
  check(*again == *decoded);
}

void block(wire::Bytes data) {
  wire::Reader r(data);
  auto b = ExtensionBlock::decode(r);
  if (!b) return;
  const wire::Bytes consumed = data.first(r.consumed());
  std::size_t n = 0;
  for (const Extension& e : *b) {
    ++n;
    check(b->find(e.type).has_value());
    (void)allowed_in_tls13(e.type, ExtensionContext::encrypted_extensions);
  }
  check(n == b->size());
  // Every typed view of a present body either decodes or reports an error.
  (void)b->get<ServerName>();
  (void)b->get<KeyShareClientHello>();
  (void)b->get<OfferedPsks>();
  (void)b->get<AlpnProtocols>();
  wire::Writer w;
  b->encode(w);
  check(w.ok());
  check(same_bytes(w.data(), consumed));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const wire::Bytes body(data + 1, size - 1);
  block(body);
  (void)is_valid_sni_host_name(as_string(body));
  switch (data[0] % 27) {
    case 0:
      round_trip<ServerName>(body);
      break;
    case 1:
      round_trip<ServerNameAck>(body);
      break;
    case 2:
      round_trip<SupportedVersionsClientHello>(body);
      break;
    case 3:
      round_trip<SupportedVersionsServerHello>(body);
      break;
    case 4:
      round_trip<SupportedGroups>(body);
      break;
    case 5:
      round_trip<SignatureAlgorithms>(body);
      break;
    case 6:
      round_trip<SignatureAlgorithmsCert>(body);
      break;
    case 7:
      round_trip<KeyShareClientHello>(body);
      break;
    case 8:
      round_trip<KeyShareServerHello>(body);
      break;
    case 9:
      round_trip<KeyShareHelloRetryRequest>(body);
      break;
    case 10:
      round_trip<PskKeyExchangeModes>(body);
      break;
    case 11:
      round_trip<OfferedPsks>(body);
      break;
    case 12:
      round_trip<PreSharedKeyServerHello>(body);
      break;
    case 13:
      round_trip<EarlyDataTicket>(body);
      break;
    case 14:
      round_trip<EarlyDataIndication>(body);
      break;
    case 15:
      round_trip<Cookie>(body);
      break;
    case 16:
      round_trip<AlpnProtocols>(body);
      break;
    case 17:
      round_trip<AlpnSelected>(body);
      break;
    case 18:
      round_trip<RecordSizeLimit>(body);
      break;
    case 19:
      round_trip<EcPointFormats>(body);
      break;
    case 20:
      round_trip<RenegotiationInfo>(body);
      break;
    case 21:
      round_trip<SessionTicketExtension>(body);
      break;
    case 22:
      round_trip<HeartbeatExtension>(body);
      break;
    case 23:
      round_trip<StatusRequest>(body);
      break;
    case 24:
      round_trip<CertificateStatus>(body);
      break;
    case 25:
      round_trip<CertificateAuthorities>(body);
      break;
    case 26:
      round_trip<Padding>(body, /*exact=*/false);
      break;  // re-encodes as zeros
  }
  return 0;
}
