// The server name a TLS client asks for, read from the start of its byte stream before any TLS
// engine sees it: the intercepting proxy needs it to connect upstream and mint a certificate
// before it can answer the ClientHello.
#pragma once

#include <cstddef>
#include <string>

#include "bulwark/result.hpp"
#include "bulwark/wire.hpp"

namespace bulwark::proxy {

struct ClientHelloPeek {
  enum class Outcome : std::uint8_t {
    need_more,  // the ClientHello is not complete yet: read more and call again
    not_tls,    // the stream does not start with a TLS handshake record
    complete,   // the whole ClientHello was seen
  };
  Outcome outcome = Outcome::need_more;
  // With `complete`: the SNI host name (lower case), empty when the client sent none or an
  // address literal.
  std::string server_name;
};

// The largest ClientHello we wait for (they are a few hundred bytes; post-quantum key shares
// make them a few KiB).
inline constexpr std::size_t max_client_hello_bytes = 64 * 1024;

// Looks at the bytes a client sent so far. The ClientHello may span several handshake records
// (RFC 8446 §5.1). A malformed ClientHello is decode_failed (or what the message codecs say);
// one larger than max_client_hello_bytes is limit_exceeded.
Result<ClientHelloPeek> peek_client_hello(wire::Bytes received);

}  // namespace bulwark::proxy
