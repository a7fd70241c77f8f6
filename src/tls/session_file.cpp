#include "bulwark/tls/session_file.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include "bulwark/crypto/hash.hpp"
#include "bulwark/tls/cipher_suites.hpp"

namespace bulwark::tls {

namespace {

using std::chrono::milliseconds;

// "\r\n" in the magic makes a file mangled by a text-mode transfer fail at once (as in PNG).
constexpr std::array<std::uint8_t, 8> kMagic = {'B', 'W', 'S', 'E', 'S', 'S', '\r', '\n'};
constexpr std::size_t kChecksumSize = 32;
constexpr std::size_t kMaxSessionId = 32;  // RFC 5246 §7.4.1.2: SessionID <0..32>
// RFC 8446 §4.6.1: a ticket lifetime is at most seven days.
constexpr std::uint32_t kMaxLifetime = 7 * 24 * 60 * 60;
// A session "received" further ahead than this came from a clock we cannot reason about.
constexpr milliseconds kClockSkew = std::chrono::minutes(5);

Error bad(const char* what) {
  return Error(Errc::decode_failed, std::string("session file: ") + what);
}

bool printable_name(std::string_view name) {
  return std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// The secret's length the protocol version and suite imply.
Result<std::size_t> secret_length(ProtocolVersion version, CipherSuite suite) {
  const CipherSuiteInfo* info = find_cipher_suite(suite);
  if (info == nullptr) return bad("unknown cipher suite");
  if (version == ProtocolVersion::tls13) {
    if (info->version != ProtocolVersion::tls13) return bad("a TLS 1.2 suite in a TLS 1.3 session");
    return crypto::digest_length(info->hash);  // RFC 8446 §4.6.1: the PSK is Hash.length long
  }
  if (version == ProtocolVersion::tls12) {
    if (info->version != ProtocolVersion::tls12) return bad("a TLS 1.3 suite in a TLS 1.2 session");
    return std::size_t{48};  // RFC 5246 §8.1: the master secret is 48 bytes
  }
  return bad("unknown protocol version");
}

// What both directions check: the fields make a session the client could offer.
Status check_consistent(std::string_view server_name, const StoredSession& s) {
  if (server_name.empty() || server_name.size() > 255 || !printable_name(server_name)) {
    return bad("invalid server name");
  }
  BW_ASSIGN(const std::size_t length, secret_length(s.version, s.cipher_suite));
  if (s.psk.size() != length) return bad("secret of the wrong length");
  if (s.lifetime > kMaxLifetime) return bad("lifetime longer than seven days");
  if (s.session_id.size() > kMaxSessionId) return bad("session id longer than 32 bytes");
  if (s.ticket.size() > 0xffff) return bad("ticket longer than 65535 bytes");
  if (s.alpn.size() > 255) return bad("ALPN protocol longer than 255 bytes");
  if (s.version == ProtocolVersion::tls13) {
    // RFC 8446 §4.6.1: ticket<1..2^16-1>; TLS 1.3 has no session-id resumption.
    if (s.ticket.empty() || !s.session_id.empty()) return bad("a TLS 1.3 session needs a ticket");
  } else if (s.ticket.empty() && s.session_id.empty()) {
    return bad("a TLS 1.2 session needs a ticket or a session id");
  }
  return {};
}

}  // namespace

Result<crypto::Secret> encode_session_file(std::string_view server_name,
                                           const StoredSession& session) {
  if (auto st = check_consistent(server_name, session); !st) {
    return Error(Errc::invalid_argument, st.error().detail());
  }
  const auto received_ms =
      std::chrono::duration_cast<milliseconds>(session.received.time_since_epoch()).count();
  if (received_ms < 0) return Error(Errc::invalid_argument, "session received before 1970");

  const std::size_t body = 1 + server_name.size() + 2 + 2 + 8 + 4 + 4 + 4 + 2 +
                           session.ticket.size() + 1 + session.session_id.size() + 1 +
                           session.psk.size() + 1 + session.alpn.size();
  const std::size_t head = kMagic.size() + 2 + 4;
  // Written in place into a Secret, so the resumption secret is never copied into a buffer
  // that is freed without being wiped.
  crypto::Secret out(head + body + kChecksumSize);
  wire::Writer w(out.span().first(head + body));
  w.bytes(kMagic);
  w.u16(session_file_version);
  {
    auto b = w.prefixed<4>();
    w.prefixed_bytes<1>(wire::as_bytes(server_name), 1, 255);
    w.u16(static_cast<std::uint16_t>(session.version));
    w.u16(static_cast<std::uint16_t>(session.cipher_suite));
    w.u64(static_cast<std::uint64_t>(received_ms));
    w.u32(session.lifetime);
    w.u32(session.age_add);
    w.u32(session.max_early_data);
    w.prefixed_bytes<2>(session.ticket);
    w.prefixed_bytes<1>(session.session_id, 0, kMaxSessionId);
    w.prefixed_bytes<1>(session.psk.span(), 1, 255);
    w.prefixed_bytes<1>(wire::as_bytes(session.alpn));
  }
  BW_TRY(w.status());
  if (w.size() != head + body) return Error(Errc::invalid_argument, "session file size mismatch");
  BW_ASSIGN(const crypto::Digest sum, crypto::hash(crypto::HashAlg::sha256, w.data()));
  std::copy(sum.span().begin(), sum.span().end(), out.data() + head + body);
  return out;
}

Result<std::optional<SavedSession>> decode_session_file(wire::Bytes file, TimePoint now) {
  wire::Reader r(file);
  auto magic = r.bytes(kMagic.size());
  if (!magic || !std::equal(magic->begin(), magic->end(), kMagic.begin())) {
    return bad("not a bulwark session file");
  }
  auto version = r.u16();
  if (!version) return bad("truncated");
  if (*version != session_file_version) {
    return Error(Errc::unsupported, "session file: format version " + std::to_string(*version) +
                                        " is not supported (this bulwark reads version " +
                                        std::to_string(session_file_version) + ")");
  }
  auto body = r.prefixed<4>();
  if (!body) return bad("truncated");
  const wire::Bytes covered = file.first(r.consumed());
  auto checksum = r.bytes(kChecksumSize);
  if (!checksum) return bad("truncated");
  if (!r.expect_end()) return bad("trailing bytes after the checksum");
  BW_ASSIGN(const crypto::Digest sum, crypto::hash(crypto::HashAlg::sha256, covered));
  if (!crypto::constant_time_equal(sum.span(), *checksum)) return bad("checksum mismatch");

  // The checksum held: a failure below is a file written by a different (buggy) encoder.
  auto parse = [&](wire::Reader& b) -> Result<SavedSession> {
    SavedSession saved;
    BW_ASSIGN(const wire::Bytes name, b.prefixed_bytes<1>(1, 255));
    saved.server_name.assign(name.begin(), name.end());
    StoredSession& s = saved.session;
    BW_ASSIGN(const std::uint16_t protocol, b.u16());
    s.version = static_cast<ProtocolVersion>(protocol);
    BW_ASSIGN(const std::uint16_t suite, b.u16());
    s.cipher_suite = static_cast<CipherSuite>(suite);
    BW_ASSIGN(const std::uint64_t received_ms, b.u64());
    // Bounded so that the conversion below cannot overflow (year 2^43 ms ≈ 2248).
    if (received_ms > (std::uint64_t{1} << 43)) return bad("implausible reception time");
    s.received = TimePoint(std::chrono::duration_cast<TimePoint::duration>(
        milliseconds(static_cast<std::int64_t>(received_ms))));
    BW_ASSIGN(s.lifetime, b.u32());
    BW_ASSIGN(s.age_add, b.u32());
    BW_ASSIGN(s.max_early_data, b.u32());
    BW_ASSIGN(const wire::Bytes ticket, b.prefixed_bytes<2>());
    s.ticket.assign(ticket.begin(), ticket.end());
    BW_ASSIGN(const wire::Bytes session_id, b.prefixed_bytes<1>(0, kMaxSessionId));
    s.session_id.assign(session_id.begin(), session_id.end());
    BW_ASSIGN(const wire::Bytes secret, b.prefixed_bytes<1>(1, 255));
    s.psk = crypto::Secret(secret);
    BW_ASSIGN(const wire::Bytes alpn, b.prefixed_bytes<1>());
    s.alpn.assign(alpn.begin(), alpn.end());
    BW_TRY(b.expect_end());
    BW_TRY(check_consistent(saved.server_name, s));
    return saved;
  };
  auto saved = parse(*body);
  if (!saved) {
    if (saved.error().code() == Errc::decode_failed) return std::move(saved).error();
    return bad("malformed body");
  }
  const StoredSession& s = saved->session;
  if (s.received > now + kClockSkew) return std::optional<SavedSession>();
  if (now >= s.received + std::chrono::seconds(s.lifetime)) return std::optional<SavedSession>();
  return std::optional<SavedSession>(std::move(saved).value());
}

}  // namespace bulwark::tls
