// Feeds arbitrary bytes to what the proxy reads from a client before any TLS: find_head_end,
// parse_proxy_request_head, parse_authority for CONNECT targets and parse_url for absolute
// ones, and peek_client_hello on whatever follows the head. Checks that the head length lies
// inside the input, that parsed heads keep the invariants the proxy relies on (token method,
// a target without whitespace or controls, field values without CR / LF / NUL, a bounded field
// count), and that the ClientHello peek is the same whether the bytes arrive whole or cut.
// The same bytes then go to what the HTTP relay reads inside a tunnel and from upstreams:
// classify_request_start, parse_proxy_response_head, content_length, and ChunkedDecoder fed
// whole and cut at a byte the input chooses (the same outcome and the same data both ways;
// never more consumed than given; body_bytes() equal to the data handed out).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bulwark/http/client_message.hpp"
#include "bulwark/http/proxy_request.hpp"
#include "bulwark/proxy/client_hello.hpp"

using namespace bulwark;

namespace {

void check(bool cond) {
  if (!cond) std::abort();
}

void check_head(const http::ProxyRequestHead& head) {
  check(!head.method.empty() && !head.target.empty());
  check(head.version == 10 || head.version == 11);
  check(head.fields.size() <= 256);
  for (const char c : head.target)
    check(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);
  for (const http::HeaderField& f : head.fields) {
    check(!f.name.empty());
    for (const char c : f.value)
      check(c != '\r' && c != '\n' && c != '\0');
  }
  if (head.is_connect()) {
    auto authority = http::parse_authority(head.target);
    if (authority) check(authority->port != 0 && !authority->host.empty());
  } else {
    (void)http::parse_url(head.target);
  }
}

void check_fields(const std::vector<http::HeaderField>& fields) {
  check(fields.size() <= 256);
  for (const http::HeaderField& f : fields) {
    check(!f.name.empty());
    for (const char c : f.value)
      check(c != '\r' && c != '\n' && c != '\0');
  }
}

// Feeds `input` in pieces split at `cut`: the consumed lengths, the data and the end.
struct Decoded {
  bool ok = true;
  bool done = false;
  std::size_t consumed = 0;
  std::string data;
};
Decoded decode_chunked(std::string_view input, std::size_t cut) {
  http::ChunkedDecoder decoder;
  Decoded out;
  for (std::string_view piece : {input.substr(0, cut), input.substr(cut)}) {
    if (out.done) break;
    auto used = decoder.feed(piece, &out.data);
    if (!used) {
      out.ok = false;
      return out;
    }
    check(*used <= piece.size());
    out.consumed += *used;
    out.done = decoder.done();
    // Unless the body ended inside it, a piece is consumed whole.
    if (!out.done) check(*used == piece.size());
  }
  check(decoder.body_bytes() == out.data.size());
  return out;
}

void check_relay_parsers(std::string_view text, std::size_t cut) {
  (void)http::classify_request_start(text);
  auto end = http::find_head_end(text, 4096);
  if (end && *end) {
    auto response = http::parse_proxy_response_head(text.substr(0, **end));
    if (response) {
      check(response->version == 10 || response->version == 11);
      check(response->status >= 100 && response->status <= 599);
      check_fields(response->fields);
      (void)http::content_length(response->fields);
    }
  }
  const Decoded whole = decode_chunked(text, text.size());
  const Decoded split = decode_chunked(text, cut);
  // Where the body ends and what it holds do not depend on how the bytes arrive.
  check(whole.ok == split.ok);
  if (whole.ok) {
    check(whole.done == split.done);
    if (whole.done) check(whole.consumed == split.consumed);
    check(whole.data == split.data);
  }
  // Data handed out without a sink counts the same.
  http::ChunkedDecoder counting;
  if (auto used = counting.feed(text, nullptr); used && whole.ok) {
    check(counting.body_bytes() == whole.data.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto end = http::find_head_end(text, 4096);
  std::size_t head_size = 0;
  if (end && *end) {
    head_size = **end;
    check(head_size <= size && head_size >= 4);
    auto head = http::parse_proxy_request_head(text.substr(0, head_size));
    if (head) check_head(*head);
  }
  // The bytes after the head (or all of them) as a ClientHello, whole and cut in two.
  const wire::Bytes rest(data + head_size, size - head_size);
  auto whole = proxy::peek_client_hello(rest);
  if (!rest.empty()) {
    const std::size_t cut = data[0] % rest.size();
    auto part = proxy::peek_client_hello(rest.first(cut));
    // A prefix never completes more than the whole does.
    if (part && part->outcome == proxy::ClientHelloPeek::Outcome::complete) {
      check(whole && whole->outcome == proxy::ClientHelloPeek::Outcome::complete);
      check(whole->server_name == part->server_name);
    }
  }
  if (whole && whole->outcome == proxy::ClientHelloPeek::Outcome::complete) {
    for (const char c : whole->server_name)
      check(c < 'A' || c > 'Z');
  }
  check_relay_parsers(text, size == 0 ? 0 : data[size - 1] % (size + 1));
  return 0;
}
