// A client session saved to a file between runs (`bulwark get --session FILE`), so that the next
// run can resume it.
//
// The encoding is binary, versioned and parsed only through wire::Reader:
//
//   magic "BWSESS\r\n" (8) | format version u16 = 1 | body<u32> | SHA-256(everything before) (32)
//   body = server_name<1..255> | protocol version u16 | cipher suite u16 | received u64 (ms since
//          the Unix epoch) | lifetime u32 (s) | age_add u32 | max_early_data u32 |
//          ticket<0..2^16-1> | session_id<0..32> | secret<1..255> | alpn<0..255>
//
// The checksum catches a damaged or truncated file, not a forger: whoever can write the file can
// read the resumption secret in it anyway, which is why it must be written with mode 0600.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bulwark/crypto/secret.hpp"
#include "bulwark/result.hpp"
#include "bulwark/tls/session.hpp"
#include "bulwark/wire.hpp"

namespace bulwark::tls {

inline constexpr std::uint16_t session_file_version = 1;

// A session and the server name it belongs to (the SessionCache key).
struct SavedSession {
  std::string server_name;
  StoredSession session;
};

// The file contents for `session` (they hold the resumption secret, hence a Secret).
Result<crypto::Secret> encode_session_file(std::string_view server_name,
                                           const StoredSession& session);

// The session in `file`: a damaged, truncated or inconsistent file, or an unknown format version,
// is an error (`decode_failed` / `unsupported`); an expired session, or one received in the
// future, is nullopt (not an error: it is simply not worth offering).
Result<std::optional<SavedSession>> decode_session_file(wire::Bytes file, TimePoint now);

}  // namespace bulwark::tls
