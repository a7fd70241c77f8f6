// Feeds arbitrary bytes to scan::ReplyParser (TLS framing, and SSL 2.0 framing when byte 0 says
// so), whole and in pieces of fuzzer-chosen sizes, and checks what must hold whatever the input:
// errors are sticky, the byte limit holds, and whether and what a reply completes does not
// depend on how the bytes were split. ServerKeyExchange bodies go through parse_key_exchange.
//
// Input: byte 0 = flags (bit 0: SSLv2 framing, bits 1-2: key exchange kind), byte 1 =
// piece-size seed, then the reply bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "bulwark/scan/reply.hpp"

using bulwark::scan::KeyExchangeParams;
using bulwark::scan::ReplyParser;
using bulwark::scan::ServerReply;
namespace wire = bulwark::wire;

namespace {

void check(bool cond) {
  if (!cond) std::abort();
}

struct Outcome {
  bool failed = false;
  bool done = false;
  std::optional<ServerReply> reply;
};

constexpr std::size_t limit = 64 * 1024;

Outcome parse(wire::Bytes data, bool sslv2, std::size_t piece_seed) {
  ReplyParser p(limit, sslv2);
  Outcome o;
  std::size_t at = 0;
  std::size_t step = 1 + piece_seed % 97;
  while (at < data.size() && !p.done()) {
    const std::size_t n = piece_seed == 0 ? data.size() - at : std::min(step, data.size() - at);
    auto s = p.feed(data.subspan(at, n));
    at += n;
    if (!s) {
      o.failed = true;
      // Sticky: nothing more is accepted.
      check(!p.feed(data.subspan(at)));
      break;
    }
    step = 1 + (step * 31 + 7) % 97;
  }
  check(p.bytes_seen() <= limit || o.failed);
  o.done = p.done();
  if (o.done) o.reply = p.reply();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const bool sslv2 = (data[0] & 1) != 0;
  const auto kind = static_cast<KeyExchangeParams::Kind>((data[0] >> 1) & 3);
  wire::Bytes input(data + 2, size - 2);
  const Outcome whole = parse(input, sslv2, 0);
  const Outcome split = parse(input, sslv2, data[1] + 1);
  // A reply that completes whole completes the same way in pieces (and vice versa): the
  // parser stops at the same message boundary either way.
  if (!whole.failed && !split.failed) {
    check(whole.done == split.done);
    if (whole.done) {
      const ServerReply& a = *whole.reply;
      const ServerReply& b = *split.reply;
      check(a.hello.has_value() == b.hello.has_value());
      if (a.hello) check(a.hello->cipher_suite == b.hello->cipher_suite);
      check(a.certificates == b.certificates);
      check(a.server_hello_done == b.server_hello_done);
      check(a.alert == b.alert);
      check(a.sslv2.has_value() == b.sslv2.has_value());
    }
  }
  if (whole.done && whole.reply && !whole.reply->server_key_exchange.empty()) {
    auto params = bulwark::scan::parse_key_exchange(whole.reply->server_key_exchange, kind);
    if (params && kind == KeyExchangeParams::Kind::dhe)
      check(params->dh_prime_bits <= params->dh_prime.size() * 8);
  }
  (void)bulwark::scan::parse_key_exchange(input, kind);
  return 0;
}
