// Feeds arbitrary bytes to http::ResponseParser, whole and in pieces of fuzzer-chosen sizes, and
// checks what must hold whatever the input: feed() never consumes more than it is given, errors
// are sticky, a complete response delivered exactly its body, a Content-Length body is exactly
// that long, and whether and what a response completes does not depend on how the bytes were
// split (unless a limit of ours was hit, which only a split input can reach for trailers and
// chunk-size lines).
//
// Input: byte 0 = flags (bit 0: HEAD request, bit 1: small limits), byte 1 = piece-size seed,
// then the response bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "bulwark/http/client_message.hpp"

using bulwark::Errc;
using bulwark::Status;
using bulwark::http::BodyFraming;
using bulwark::http::ResponseLimits;
using bulwark::http::ResponseParser;
namespace wire = bulwark::wire;

namespace {

void check(bool cond) {
  if (!cond) std::abort();
}

struct Outcome {
  ResponseParser::State state = ResponseParser::State::head;
  std::optional<Errc> error;
  std::string body;
  int status = 0;
  std::size_t trailers = 0;
};

Outcome parse(wire::Bytes data, bool head_request, const ResponseLimits& limits,
              std::size_t piece_seed) {
  ResponseParser parser(head_request, limits);
  Outcome out;
  parser.set_body_sink([&](wire::Bytes b) {
    check(parser.state() == ResponseParser::State::body);
    out.body.append(b.begin(), b.end());
    return Status{};
  });
  std::size_t at = 0;
  std::size_t piece = piece_seed == 0 ? data.size() : piece_seed;
  while (at < data.size() && !out.error) {
    const wire::Bytes chunk = data.subspan(at, std::min(piece, data.size() - at));
    const auto before = parser.state();
    auto n = parser.feed(chunk);
    if (!n) {
      out.error = n.error().code();
      check(parser.state() == ResponseParser::State::failed);
      check(!parser.feed(chunk));  // sticky
      break;
    }
    check(*n <= chunk.size());
    if (parser.state() == ResponseParser::State::complete) break;
    // No progress is only allowed where feed() stops on purpose (the head just completed).
    if (*n == 0) check(parser.state() != before);
    at += *n;
    if (piece_seed != 0) piece = piece % 61 + 1;  // vary the sizes: 1..61
  }
  if (!out.error && parser.state() != ResponseParser::State::complete) {
    if (auto st = parser.finish(); !st) {
      out.error = st.error().code();
    } else {
      check(parser.state() == ResponseParser::State::complete);
    }
  }
  out.state = parser.state();
  if (out.state == ResponseParser::State::complete) {
    out.status = parser.head().status;
    out.trailers = parser.trailers().size();
    check(parser.body_received() == out.body.size());
    check(out.status >= 200 && out.status <= 599);
    if (parser.framing() == BodyFraming::content_length) {
      check(parser.content_length() && *parser.content_length() == out.body.size());
    }
    if (parser.framing() == BodyFraming::none || head_request) check(out.body.empty());
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const bool head_request = (data[0] & 1) != 0;
  ResponseLimits limits;
  if ((data[0] & 2) != 0) {
    limits.max_head_bytes = 512;
    limits.max_fields = 16;
    limits.max_interim = 4;
  }
  const std::size_t piece_seed = data[1] % 64;
  const wire::Bytes input(data + 2, size - 2);

  const Outcome whole = parse(input, head_request, limits, 0);
  const Outcome split = parse(input, head_request, limits, piece_seed == 0 ? 1 : piece_seed);
  const bool limited = whole.error == Errc::limit_exceeded || split.error == Errc::limit_exceeded;
  if (!limited) {
    // Errors may differ (Beast finds some malformed heads only once it has all of them, so a
    // split input can end "truncated" where the whole one was "malformed"), success may not.
    const bool whole_complete = whole.state == ResponseParser::State::complete;
    check(whole_complete == (split.state == ResponseParser::State::complete));
    if (whole_complete) {
      check(whole.body == split.body);
      check(whole.status == split.status);
      check(whole.trailers == split.trailers);
    }
  }
  return 0;
}
