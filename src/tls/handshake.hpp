// Internal to the TLS engine: the connection core shared by client and server, the handshake
// driver interface, and the proofs that authentication checks ran.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bulwark/crypto/ffdhe.hpp"
#include "bulwark/crypto/hash.hpp"
#include "bulwark/crypto/key_share.hpp"
#include "bulwark/crypto/keys.hpp"
#include "bulwark/crypto/secret.hpp"
#include "bulwark/crypto/signature.hpp"
#include "bulwark/tls/cipher_suites.hpp"
#include "bulwark/tls/config.hpp"
#include "bulwark/tls/connection.hpp"
#include "bulwark/tls/key_schedule.hpp"
#include "bulwark/tls/messages.hpp"
#include "bulwark/tls/record.hpp"

namespace bulwark::tls {

// ---- proofs --------------------------------------------------------------------------------
// Reaching the traffic state needs both values; only the functions that run the checks can
// make them (DESIGN.md habit 4: a skipped check does not compile).

class PeerAuthenticated {
 public:
  enum class How : std::uint8_t { certificate, psk, none };
  How how() const noexcept { return how_; }

 private:
  explicit PeerAuthenticated(How how) noexcept : how_(how) {}
  How how_;
  friend Result<PeerAuthenticated> verify_certificate_verify(
      const crypto::PublicKey& key, SignatureScheme scheme, wire::Bytes signature,
      std::span<const SignatureScheme> offered, Role signer, wire::Bytes transcript_hash);
  friend Result<PeerAuthenticated> verify_signature12(
      const crypto::PublicKey& key, SignatureScheme scheme, wire::Bytes signed_data,
      wire::Bytes signature, std::span<const SignatureScheme> offered, KeyExchange kx);
  friend PeerAuthenticated psk_authenticated(const class BinderVerified&) noexcept;
  friend PeerAuthenticated client_not_authenticated(ClientAuth policy) noexcept;
  friend PeerAuthenticated server_psk_authenticated(const class FinishedVerified&) noexcept;
  friend PeerAuthenticated server_key_transport_authenticated(
      const class FinishedVerified&) noexcept;
};

class FinishedVerified {
 private:
  FinishedVerified() noexcept = default;
  friend Result<FinishedVerified> verify_finished(crypto::HashAlg alg, wire::Bytes base_key,
                                                  wire::Bytes transcript_hash,
                                                  wire::Bytes received);
  friend Result<FinishedVerified> verify_finished(wire::Bytes expected, wire::Bytes received);
};

class BinderVerified {
 private:
  BinderVerified() noexcept = default;
  friend Result<BinderVerified> verify_binder(crypto::HashAlg alg, wire::Bytes binder_key,
                                              wire::Bytes transcript_hash, wire::Bytes received);
};

// RFC 8446 §4.4.3: checks a CertificateVerify signature: the scheme must be one we offered,
// allowed in TLS 1.3 (no PKCS#1 v1.5, no SHA-1) and fit the key; else illegal_parameter; a
// signature that does not verify is decrypt_error.
Result<PeerAuthenticated> verify_certificate_verify(const crypto::PublicKey& key,
                                                    SignatureScheme scheme, wire::Bytes signature,
                                                    std::span<const SignatureScheme> offered,
                                                    Role signer, wire::Bytes transcript_hash);
// TLS 1.2 (RFC 5246 §7.4.3 / §7.4.8): a ServerKeyExchange or CertificateVerify signature
// over `signed_data`: the scheme must be one we offered, allowed here, fit the suite's key
// exchange (`any` for CertificateVerify) and the key (illegal_parameter); a signature that
// does not verify is decrypt_error.
Result<PeerAuthenticated> verify_signature12(const crypto::PublicKey& key, SignatureScheme scheme,
                                             wire::Bytes signed_data, wire::Bytes signature,
                                             std::span<const SignatureScheme> offered,
                                             KeyExchange kx);
// The server's chain and name, as the client's configuration says (RFC 5280, RFC 6125);
// skipped only with insecure_skip_verification.
Status verify_server_chain(const ClientConfig& cfg, std::span<const crypto::Certificate> chain,
                           const std::string& server_name);
// Parses the server's certificates (DER, leaf first) and verifies them as
// verify_server_chain does, through cfg.chain_cache: a chain that verified recently with the
// same bytes, name and anchors is reused without parsing or path validation. With
// insecure_skip_verification only parsing is saved: a chain of exactly the same bytes.
Result<std::vector<crypto::Certificate>> verified_server_chain(
    const ClientConfig& cfg, std::span<const wire::Bytes> chain_der,
    const std::string& server_name);
// RFC 8446 §4.4.4: the peer's Finished; a mismatch is decrypt_error.
Result<FinishedVerified> verify_finished(crypto::HashAlg alg, wire::Bytes base_key,
                                         wire::Bytes transcript_hash, wire::Bytes received);
// The peer's Finished against the value computed ahead (RFC 5246 §7.4.9 for TLS 1.2; a TLS 1.3
// server that sent tickets with its flight, RFC 8446 §4.6.1); a mismatch is decrypt_error.
Result<FinishedVerified> verify_finished(wire::Bytes expected, wire::Bytes received);
// RFC 8446 §4.2.11: a PSK binder; a mismatch is decrypt_error.
Result<BinderVerified> verify_binder(crypto::HashAlg alg, wire::Bytes binder_key,
                                     wire::Bytes transcript_hash, wire::Bytes received);
// A resumed session authenticates the peer through the PSK it proved with its binder
// (client side: the server proves it with its Finished over a PSK handshake).
PeerAuthenticated psk_authenticated(const BinderVerified&) noexcept;
PeerAuthenticated server_psk_authenticated(const FinishedVerified&) noexcept;
// TLS 1.2 RSA key transport (legacy): the server signs nothing; a Finished that verifies proves
// it decrypted our pre-master secret with the private key of the certificate we verified.
PeerAuthenticated server_key_transport_authenticated(const FinishedVerified&) noexcept;
// A server that does not require a client certificate accepts a client without one.
PeerAuthenticated client_not_authenticated(ClientAuth policy) noexcept;

// ---- helpers shared by client and server ---------------------------------------------------

// 64 spaces || context string || 0 || transcript hash (RFC 8446 §4.4.3).
std::vector<std::uint8_t> certificate_verify_input(Role signer, wire::Bytes transcript_hash);
// Our CertificateVerify signature scheme for `key`: the first of our preferences that the
// peer offered and that fits the key, in TLS 1.3. nullopt if none.
std::optional<SignatureScheme> choose_signature_scheme(const crypto::PrivateKey& key,
                                                       std::span<const SignatureScheme> ours,
                                                       const ValueList<SignatureScheme>& peer);
bool scheme_allowed_in_tls13(SignatureScheme s) noexcept;
crypto::SignatureScheme to_crypto(SignatureScheme s) noexcept;
std::optional<crypto::Group> to_crypto(NamedGroup g) noexcept;
// The RFC 7919 groups we implement (legacy DHE); nullopt for every other group.
std::optional<crypto::FfdheGroup> to_crypto_ffdhe(NamedGroup g) noexcept;
// Writes a Certificate13 message body for `chain` with the given request context.
void write_certificate13(wire::Writer& w, wire::Bytes context,
                         std::span<const crypto::Certificate> chain);
// Parses the certificate_list of a Certificate13: DER certificates, leaf first.
// The DER certificates of a Certificate message, leaf first (views into the message).
std::vector<wire::Bytes> certificate_ders(const Certificate13& msg);
std::vector<wire::Bytes> certificate_ders(const Certificate12& msg);
// Parses DER certificates; one that does not parse is decode_failed (bad_certificate).
Result<std::vector<crypto::Certificate>> parse_certificate_chain(
    std::span<const wire::Bytes> chain_der);
// A client's chain, verified against the server's client_trust for the clientAuth purpose.
Result<std::vector<crypto::Certificate>> verified_client_chain(
    const ServerConfig& cfg, std::span<const wire::Bytes> chain_der);
// Hostname-or-IP aware SNI: a DNS name goes in server_name; an IP literal does not.
bool sni_applies(std::string_view server_name) noexcept;

// ---- the connection core -------------------------------------------------------------------

class Handshaker;

class Connection::Impl {
 public:
  Impl(Role role, std::shared_ptr<const Config> config);
  ~Impl();

  Role role;
  std::shared_ptr<const Config> config;
  const Config& cfg() const { return *config; }
  State state = State::handshaking;
  std::optional<Failure> failure;
  SessionInfo info;

  RecordReader rx;
  RecordWriter tx;
  RecordBuffer out;                  // records waiting for the transport
  std::size_t out_pos = 0;           // how much of `out` was consumed
  std::vector<std::uint8_t> hs_in;   // handshake bytes received, not yet whole messages
  std::vector<std::uint8_t> hs_out;  // handshake messages queued for the next flush
  std::size_t handshake_bytes = 0;   // all handshake bytes received in this handshake

  std::unique_ptr<Handshaker> handshaker;

  // Traffic secrets of the established connection (TLS 1.3 KeyUpdate).
  const CipherSuiteInfo* suite = nullptr;
  crypto::Secret read_secret;
  crypto::Secret write_secret;
  bool close_notify_sent = false;
  bool close_notify_received = false;
  std::size_t empty_records = 0;
  std::size_t key_updates_received = 0;
  bool key_update_pending = false;  // peer asked; answered before our next data

  // --- used by handshakers ---
  // Frames and sends one handshake message (header included), to the trace observer too.
  Status send_handshake(wire::Bytes message, std::string detail = {});
  Status send_change_cipher_spec();
  // Seals queued handshake messages into records.
  Status flush();
  // Back to cleartext records (a HelloRetryRequest after 0-RTT).
  void clear_write_cipher();
  // Installs record protection from a TLS 1.3 traffic secret. For the read side, RFC 8446
  // §5.1: a key change must fall on a record boundary: buffered handshake bytes left over
  // are unexpected_message.
  Status install_read_secret(const CipherSuiteInfo& s, crypto::Secret secret);
  Status install_write_secret(const CipherSuiteInfo& s, crypto::Secret secret);
  // `at`: when it happened; default now. A received message is stamped when it arrived, before
  // its handling (and what the handling sends) took time.
  void trace(TraceEvent::Direction d, HandshakeType t, std::size_t size, std::string detail,
             std::optional<std::chrono::system_clock::time_point> at = std::nullopt);
  void key_log(std::string_view label, wire::Bytes client_random, wire::Bytes secret) const;
  // Handshake done: the proofs are the price of admission.
  void established(const PeerAuthenticated&, const FinishedVerified&) noexcept;

  // --- driving ---
  Status process();  // handles buffered records until data waits or more bytes are needed
  Status on_record(Record& rec);
  Status on_handshake_bytes(wire::Bytes fragment);
  Status on_alert(wire::Bytes fragment);
  Status on_post_handshake(const HandshakeMessage& m);
  Status on_key_update(const HandshakeMessage& m);
  Status send_key_update(bool request_peer);
  // Records a fatal error, queues the alert it calls for, and returns the error.
  Error fail(Error e);
  Error fail_received_alert(AlertDescription d);
  Status check_failed() const;
  void send_alert(AlertLevel level, AlertDescription d);
  std::uint64_t read_key_generation = 0;  // bumped by install_read_secret
  // TLS 1.3 0-RTT.
  bool reading_early_data = false;    // server: application data now is early data
  bool early_data_writable = false;   // client: send_early_data() may write now
  std::size_t early_data_budget = 0;  // bytes of early data still allowed
  // TLS 1.2.
  bool tls12 = false;
  std::unique_ptr<Handshaker> next_handshaker;  // replaces `handshaker` after this message
  std::size_t renegotiation_attempts = 0;
  std::size_t warning_alerts = 0;
  bool heartbeat_peer_may_send = false;
  bool heartbeat_we_may_send = false;
  std::vector<std::uint8_t> heartbeat_outstanding;  // payload of our unanswered request
  std::vector<std::vector<std::uint8_t>> heartbeat_responses;
  std::chrono::system_clock::time_point heartbeat_window;
  std::size_t heartbeat_count = 0;
  void install_read_cipher12(RecordCipher c);
  void install_write_cipher12(RecordCipher c);
  Status on_heartbeat(wire::Bytes fragment);
  // TLS 1.2 after the handshake: refuses renegotiation, rejects anything else.
  Status refuse_renegotiation(const HandshakeMessage& m);
  Status send_heartbeat_message(HeartbeatMessageType type, wire::Bytes payload);
  std::string trace_detail;  // set by a handshaker for the message being traced
  bool deferring_trace = false;
  std::vector<TraceEvent> deferred_trace;
  std::size_t early_data_skipped = 0;
};

// Whether a handshake state's list of legal next messages contains `t` (DESIGN.md habit 4:
// checked before a message body is parsed).
template <std::size_t N>
bool expects(const HandshakeType (&list)[N], HandshakeType t) {
  return std::find(std::begin(list), std::end(list), t) != std::end(list);
}

// The error for a post-handshake message nobody expects (RFC 8446 §4.6, RFC 5246 §7.4).
Error unexpected_post_handshake(const HandshakeMessage& m);

// The role- and version-specific handshake logic.
class Handshaker {
 public:
  virtual ~Handshaker() = default;
  // Whether the connection still needs this handshaker once established: a TLS 1.3 server's
  // does not (it has sent its tickets; KeyUpdate is the connection's), and goes, so that an
  // idle connection does not keep the handshake's state.
  virtual bool needed_after_handshake() const { return true; }
  // Starts the handshake (the client sends its ClientHello).
  virtual Status start() = 0;
  // A whole handshake message, during the handshake.
  virtual Status on_message(const HandshakeMessage& m) = 0;
  // A post-handshake message other than KeyUpdate (NewSessionTicket on a client).
  virtual Status on_post_handshake(const HandshakeMessage& m) = 0;
  // RFC 8446 §5 / §D.4: whether a cleartext change_cipher_spec may arrive now.
  virtual bool accepts_change_cipher_spec() const = 0;
  // Server only: whether refused 0-RTT records may be skipped now (RFC 8446 §4.2.10).
  virtual bool skipping_early_data() const { return false; }
  // TLS 1.2: a ChangeCipherSpec message arrived (no handshake bytes pending).
  virtual Status on_change_cipher_spec() {
    return Error(Errc::unexpected_message, "unexpected change_cipher_spec");
  }
};

std::unique_ptr<Handshaker> make_client13(Connection::Impl& conn,
                                          std::shared_ptr<const ClientConfig> config,
                                          std::string server_name);
std::unique_ptr<Handshaker> make_server13(Connection::Impl& conn,
                                          std::shared_ptr<const ServerConfig> config);

}  // namespace bulwark::tls
