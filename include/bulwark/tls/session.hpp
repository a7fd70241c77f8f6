// Session resumption state: the client's cache of tickets and the server's rotating ticket
// keys (stateless, encrypted tickets: the server keeps no per-session state).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bulwark/crypto/aead.hpp"
#include "bulwark/crypto/random.hpp"
#include "bulwark/crypto/secret.hpp"
#include "bulwark/result.hpp"
#include "bulwark/tls/types.hpp"

namespace bulwark::tls {

using TimePoint = std::chrono::system_clock::time_point;

// A session as the client keeps it for resumption: a TLS 1.3 ticket (RFC 8446 §4.6.1), or a
// TLS 1.2 session (RFC 5246 session id and/or RFC 5077 ticket, with its master secret).
struct StoredSession {
  ProtocolVersion version = ProtocolVersion::tls13;
  CipherSuite cipher_suite{};
  std::vector<std::uint8_t> ticket;      // may be empty for a TLS 1.2 session-id session
  std::vector<std::uint8_t> session_id;  // TLS 1.2
  crypto::Secret psk;                    // TLS 1.3 PSK, or the TLS 1.2 master secret
  std::uint32_t age_add = 0;
  std::uint32_t lifetime = 0;  // seconds
  TimePoint received;
  std::string alpn;
  std::uint32_t max_early_data = 0;  // TLS 1.3: 0-RTT allowed up to this many bytes
};

// Thread-safe, bounded cache of tickets per server name. Tickets are single-use: take()
// removes the one it returns (RFC 8446 §C.4: reuse lets observers link connections).
class SessionCache {
 public:
  explicit SessionCache(std::size_t max_servers = 256, std::size_t per_server = 4)
      : max_servers_(max_servers), per_server_(per_server) {}
  void put(const std::string& server_name, StoredSession session);
  // The newest unexpired ticket for the server, removed from the cache.
  std::optional<StoredSession> take(const std::string& server_name, TimePoint now);
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  std::size_t max_servers_;
  std::size_t per_server_;
  std::list<std::string> lru_;  // most recently used first
  std::unordered_map<std::string, std::deque<StoredSession>> sessions_;
};

// What a server seals into a ticket (and keeps in its TLS 1.2 session-id cache).
struct TicketState {
  ProtocolVersion version = ProtocolVersion::tls13;
  CipherSuite cipher_suite{};
  crypto::Secret psk;  // TLS 1.3 resumption PSK, or the TLS 1.2 master secret
  std::uint32_t age_add = 0;
  std::uint32_t lifetime = 0;
  TimePoint issued;
  std::string alpn;
  std::string server_name;
  std::uint32_t max_early_data = 0;

  // An explicit copy (the secret is not copied by accident).
  TicketState copy() const;
};

// The TLS 1.2 server's session-id cache (RFC 5246 §7.4.1.2): bounded, entries expire.
// Thread-safe; share one among a server's connections.
class ServerSessionCache {
 public:
  explicit ServerSessionCache(std::size_t capacity = 20000,
                              std::chrono::seconds lifetime = std::chrono::hours(2))
      : capacity_(capacity), lifetime_(lifetime) {}
  void put(const std::vector<std::uint8_t>& session_id, const TicketState& state);
  // The session, if cached and not expired.
  std::optional<TicketState> get(wire::Bytes session_id, TimePoint now);
  std::size_t size() const;
  std::chrono::seconds lifetime() const noexcept { return lifetime_; }

 private:
  struct Entry {
    std::vector<std::uint8_t> id;
    TicketState state;
  };
  mutable std::mutex mu_;
  std::size_t capacity_;
  std::chrono::seconds lifetime_;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

// The server's ticket encryption keys: AES-256-GCM, a new key every `rotation`; tickets
// sealed under the previous key are still accepted, older ones are not (so a stolen key
// decrypts at most two periods of tickets). Thread-safe; share one among a server's threads.
class TicketKeys {
 public:
  static Result<std::shared_ptr<TicketKeys>> create(
      crypto::Random& random = crypto::SystemRandom::instance(),
      std::chrono::seconds rotation = std::chrono::hours(1));

  // key_name(16) || nonce(12) || AES-256-GCM(state) || tag(16).
  Result<std::vector<std::uint8_t>> seal(const TicketState& state, TimePoint now);
  // The state in a ticket we issued, if its key is still current or previous and it decrypts;
  // nullopt for anything else (a foreign, old or tampered ticket is simply not resumable).
  std::optional<TicketState> open(wire::Bytes ticket, TimePoint now);
  // 0-RTT anti-replay (RFC 8446 §8.1): true the first time `binder` is seen within the
  // freshness window, false for a replay (or when the cache is full: refuse, never guess).
  bool first_use(wire::Bytes binder, TimePoint now);
  // RFC 8446 §8.3: how far a ClientHello's ticket age may be from what we expect.
  static constexpr std::chrono::seconds freshness_window{10};

 private:
  struct Key {
    std::array<std::uint8_t, 16> name{};
    crypto::Secret secret;
    TimePoint created;
    // The key set up once at rotation, used under mu_: a cipher context per ticket costs
    // more than sealing the ticket.
    std::optional<crypto::Aead> aead;
  };
  TicketKeys(crypto::Random& random, std::chrono::seconds rotation)
      : random_(random), rotation_(rotation) {}
  Status rotate_locked(TimePoint now);
  // Takes mu_; names the ticket `out` with the current key, draws its nonce, encrypts `body`.
  Status seal_in_place(TimePoint now, std::span<std::uint8_t> out, std::span<std::uint8_t> body);

  std::mutex mu_;
  crypto::Random& random_;
  std::chrono::seconds rotation_;
  std::optional<Key> current_;
  std::optional<Key> previous_;
  // Binders of accepted 0-RTT ClientHellos, oldest first, kept for twice the window.
  std::deque<std::pair<TimePoint, std::string>> seen_order_;
  std::unordered_map<std::string, TimePoint> seen_;
  static constexpr std::size_t max_seen = 100000;
};

}  // namespace bulwark::tls
