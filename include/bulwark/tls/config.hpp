// Configuration of a TLS endpoint: policy (versions, suites, groups, signature schemes),
// credentials, trust, and the injected services (randomness, clock, trace, key log).
// A Config is immutable once connections use it; share it with std::shared_ptr<const ...>.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/crypto/keys.hpp"
#include "bulwark/crypto/random.hpp"
#include "bulwark/crypto/trust_store.hpp"
#include "bulwark/tls/chain_cache.hpp"
#include "bulwark/tls/types.hpp"

namespace bulwark::tls {

class TicketKeys;
class SessionCache;
class ServerSessionCache;

using Clock = std::function<std::chrono::system_clock::time_point()>;

// A certificate chain (leaf first) and the private key of its leaf.
struct CertifiedKey {
  std::vector<crypto::Certificate> chain;
  crypto::PrivateKey key;

  // Loads PEM files: the chain (leaf first; `extra_chain` appended) and the key.
  static Result<CertifiedKey> load(const std::string& cert_file, const std::string& key_file,
                                   const std::string& extra_chain = {},
                                   std::string_view passphrase = {});
  // The leaf's key fits its certificate (checked once, at load).
  Status check() const;
};

// Counts and sizes that bound what a peer can make us do (DESIGN.md habit 8).
struct Limits {
  std::size_t max_handshake_message = tls::max_handshake_message;
  std::size_t max_empty_records = 32;              // consecutive empty application-data records
  std::size_t max_warning_alerts = 4;              // TLS 1.2 warning alerts in a row
  std::size_t max_key_updates = 32;                // KeyUpdates received without application data
  std::size_t max_early_data_skipped = 64 * 1024;  // refused 0-RTT bytes a server skips
  std::size_t max_handshake_bytes = 256 * 1024;    // all handshake messages of one handshake
  std::size_t max_renegotiation_attempts = 2;      // TLS 1.2: refused with a warning, then fatal
  std::size_t max_heartbeats_per_minute = 60;      // TLS 1.2 heartbeat requests we answer
};

// What a trace observer is told about each handshake message (`--trace`).
struct TraceEvent {
  enum class Direction : std::uint8_t { sent, received };
  Direction direction;
  HandshakeType type;
  std::size_t size;    // message length, header included
  std::string detail;  // chosen parameters, in words ("TLS_AES_128_GCM_SHA256, x25519")
  std::chrono::system_clock::time_point time;
};

struct Config {
  // TLS 1.2 and 1.3; nothing older is implemented (SSLv2/SSLv3/TLS 1.0/1.1: Slapper, BEAST).
  ProtocolVersion min_version = ProtocolVersion::tls12;
  ProtocolVersion max_version = ProtocolVersion::tls13;
  // Preference order. Defaults: every TLS 1.3 suite (AES-128-GCM first), then the TLS 1.2
  // ECDHE suites with AEAD ciphers only; x25519 then the NIST curves; the signature schemes
  // TLS 1.3 allows, then RSA PKCS#1 v1.5 for TLS 1.2 peers (never SHA-1).
  std::vector<CipherSuite> cipher_suites = {
      CipherSuite::tls_aes_128_gcm_sha256,
      CipherSuite::tls_aes_256_gcm_sha384,
      CipherSuite::tls_chacha20_poly1305_sha256,
      CipherSuite::tls_ecdhe_ecdsa_with_aes_128_gcm_sha256,
      CipherSuite::tls_ecdhe_rsa_with_aes_128_gcm_sha256,
      CipherSuite::tls_ecdhe_ecdsa_with_aes_256_gcm_sha384,
      CipherSuite::tls_ecdhe_rsa_with_aes_256_gcm_sha384,
      CipherSuite::tls_ecdhe_ecdsa_with_chacha20_poly1305_sha256,
      CipherSuite::tls_ecdhe_rsa_with_chacha20_poly1305_sha256};
  std::vector<NamedGroup> groups = {NamedGroup::x25519, NamedGroup::secp256r1,
                                    NamedGroup::secp384r1};
  std::vector<SignatureScheme> signature_schemes = {SignatureScheme::ecdsa_secp256r1_sha256,
                                                    SignatureScheme::ecdsa_secp384r1_sha384,
                                                    SignatureScheme::ed25519,
                                                    SignatureScheme::rsa_pss_rsae_sha256,
                                                    SignatureScheme::rsa_pss_rsae_sha384,
                                                    SignatureScheme::rsa_pss_rsae_sha512,
                                                    SignatureScheme::rsa_pss_pss_sha256,
                                                    SignatureScheme::rsa_pss_pss_sha384,
                                                    SignatureScheme::rsa_pss_pss_sha512};
  // Schemes accepted in certificate signatures (signature_algorithms_cert): the above plus
  // RSA PKCS#1 v1.5, which CAs still use.
  std::vector<SignatureScheme> certificate_signature_schemes = {
      SignatureScheme::ecdsa_secp256r1_sha256,
      SignatureScheme::ecdsa_secp384r1_sha384,
      SignatureScheme::ed25519,
      SignatureScheme::rsa_pss_rsae_sha256,
      SignatureScheme::rsa_pss_rsae_sha384,
      SignatureScheme::rsa_pss_rsae_sha512,
      SignatureScheme::rsa_pss_pss_sha256,
      SignatureScheme::rsa_pss_pss_sha384,
      SignatureScheme::rsa_pss_pss_sha512,
      SignatureScheme::rsa_pkcs1_sha256,
      SignatureScheme::rsa_pkcs1_sha384,
      SignatureScheme::rsa_pkcs1_sha512};
  // ALPN protocol names in preference order; empty: no ALPN.
  std::vector<std::string> alpn;
  // RFC 8449: the largest record plaintext we accept (64..16384); 0: do not send the
  // extension.
  std::uint16_t record_size_limit = 0;
  // TLS 1.2: require the extended master secret (RFC 7627) of every peer.
  bool require_extended_master_secret = true;
  // TLS 1.2 heartbeat (RFC 6520): off unless enabled; then negotiated, length-checked,
  // rate-limited, and answered only after the handshake.
  bool heartbeat = false;
  // The `legacy` policy, for old peers and audits; off by default. When set, TLS 1.2 also
  // accepts the legacy suites (legacy_cipher_suites(): ECDHE with AES-CBC, whose records are
  // opened in constant time; RSA key transport, decrypted with implicit rejection; DHE_RSA with
  // AES-GCM) and the RFC 7919 groups ffdhe2048/3072/4096. Unless `cipher_suites` already names
  // a legacy suite, all of them are offered and chosen after every suite in `cipher_suites`,
  // so a modern suite still wins whenever the peer has one; likewise the ffdhe groups after
  // `groups` unless it names one. When clear, legacy suites and ffdhe groups listed there are
  // ignored: never offered, never selected. The extended master secret stays required.
  bool legacy = false;
  Limits limits;

  // Injected services. The engine touches no randomness, clock or file it was not given.
  crypto::Random* random = &crypto::SystemRandom::instance();
  Clock clock = [] { return std::chrono::system_clock::now(); };
  // Called with each handshake message sent or received.
  std::function<void(const TraceEvent&)> trace;
  // NSS key log (SSLKEYLOGFILE format): label, client_random, secret. The apps write it.
  std::function<void(std::string_view label, wire::Bytes client_random, wire::Bytes secret)>
      key_log;
};

// The suites and groups a handshake offers (client) or chooses from (server) under `config`'s
// policy, in preference order (see Config::legacy).
std::vector<CipherSuite> enabled_cipher_suites(const Config& config);
std::vector<NamedGroup> enabled_groups(const Config& config);

struct ClientConfig : Config {
  // Trust anchors for the server's chain. Empty means the system store (loaded lazily).
  std::optional<crypto::TrustStore> trust;
  // Verifying the server's certificate chain and host name is the default. Setting this
  // accepts any certificate from anyone: a man in the middle included.
  bool insecure_skip_verification = false;
  // Server chains that verified recently (identical bytes, same name and trust store), reused
  // for at most 10 minutes and never past a certificate's notAfter (see chain_cache.hpp).
  // Every connection sharing this config shares the cache; null verifies every chain afresh.
  std::shared_ptr<VerifiedChainCache> chain_cache = std::make_shared<VerifiedChainCache>();
  // A client certificate, sent when the server asks for one.
  std::optional<CertifiedKey> certificate;
  // Middlebox compatibility mode (RFC 8446 §D.4): a fake session id and a CCS.
  bool middlebox_compat = true;
  // Session tickets received are kept here and offered on the next connection to the same
  // server name; null disables resumption.
  std::shared_ptr<SessionCache> sessions;
  // 0-RTT (RFC 8446 §2.3): when resuming with a ticket that allows it, data given to
  // Connection::send_early_data() goes out before the handshake completes. Early data can be
  // replayed by an attacker: use it only for requests that are safe to repeat. Off by default.
  bool early_data = false;
};

enum class ClientAuth : std::uint8_t { none, optional, required };

struct ServerConfig : Config {
  // One or more certificates; the handshake picks by SNI and by the client's signature
  // algorithms (e.g. ECDSA and RSA side by side, as nginx allows).
  std::vector<CertifiedKey> certificates;
  ClientAuth client_auth = ClientAuth::none;
  // Anchors for client certificates (required when client_auth is not none).
  std::optional<crypto::TrustStore> client_trust;
  // Stateless session tickets (TLS 1.3, and RFC 5077 in TLS 1.2); null disables them.
  // Shared by every connection of a server.
  std::shared_ptr<TicketKeys> tickets;
  // TLS 1.2 session-id resumption; null disables it.
  std::shared_ptr<ServerSessionCache> session_cache;
  std::uint32_t ticket_lifetime = 2 * 60 * 60;  // seconds (RFC 8446 §4.6.1: at most 7 days)
  std::size_t tickets_per_handshake = 2;
  // Always answer with a HelloRetryRequest carrying a cookie before accepting a ClientHello
  // (proves the client's address; DoS defence). Off by default.
  bool require_cookie = false;
  // 0-RTT: the most early data accepted per connection; 0 (the default) refuses it. Accepted
  // only on resumption with our own ticket, within 10 s of the expected ticket age, once per
  // ClientHello (a replay cache in TicketKeys), for the same suite and ALPN (RFC 8446 §4.2.10,
  // §8). The application sees it flagged as early data (SessionInfo::early_data).
  std::uint32_t max_early_data = 0;
};

}  // namespace bulwark::tls
