// The client-initiated renegotiation probe (the THC-SSL-DoS flood needs a server that runs a
// new full handshake whenever a client asks): a minimal TLS 1.2 client, sans-I/O, that
// completes one ECDHE + AEAD handshake, then sends a renegotiation ClientHello under the new
// keys and tells how the server answered. bulwark's TLS engine never renegotiates, so this
// small client lives in the scanner. It does not authenticate the server (the ServerKeyExchange
// signature is not checked): the probe only needs the server's keys to talk to it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bulwark/crypto/hash.hpp"
#include "bulwark/crypto/key_share.hpp"
#include "bulwark/crypto/random.hpp"
#include "bulwark/result.hpp"
#include "bulwark/tls/cipher_suites.hpp"
#include "bulwark/tls/record.hpp"
#include "bulwark/wire.hpp"

namespace bulwark::scan {

enum class RenegotiationAnswer : std::uint8_t {
  pending,          // the exchange is still running
  accepted,         // a ServerHello answered the renegotiation ClientHello
  refused_warning,  // a no_renegotiation warning alert (RFC 5246 §7.2.2)
  refused_fatal,    // a fatal alert
  closed,           // the server closed the connection
  unexpected,       // after the renegotiation ClientHello, something that is none of these
  not_tested,       // no complete TLS 1.2 ECDHE AEAD handshake first: nothing to renegotiate
};

// The TLS 1.2 suites the probe offers: every ECDHE suite with an AEAD cipher that the TLS
// engine's record layer implements (AES-128/256-GCM, ChaCha20-Poly1305).
std::vector<std::uint16_t> renegotiation_probe_suites();

class RenegotiationProbe {
 public:
  // The first flight (the ClientHello) is ready in pending_output() afterwards. `server_name`
  // is sent as SNI unless empty; `rng` gives the random and the key share and must outlive
  // the probe.
  static Result<RenegotiationProbe> start(const std::string& server_name, crypto::Random& rng);

  RenegotiationProbe(RenegotiationProbe&&) noexcept = default;
  RenegotiationProbe& operator=(RenegotiationProbe&&) noexcept = default;
  RenegotiationProbe(const RenegotiationProbe&) = delete;
  RenegotiationProbe& operator=(const RenegotiationProbe&) = delete;
  ~RenegotiationProbe() = default;

  // Bytes to send to the server, and how many of them were sent.
  wire::Bytes pending_output() const noexcept { return out_; }
  void consume_output(std::size_t n) noexcept;

  // The server's bytes. Never fails: what the server sends (or breaks) ends the probe with an
  // answer and detail().
  void feed(wire::Bytes data);
  // The server closed the connection (or reset it).
  void transport_closed();

  bool done() const noexcept { return answer_ != RenegotiationAnswer::pending; }
  RenegotiationAnswer answer() const noexcept { return answer_; }
  // What happened, in words ("alert no_renegotiation (warning)", "ServerHello", why the first
  // handshake failed, ...).
  const std::string& detail() const noexcept { return detail_; }
  // The renegotiation ClientHello has been sent (the first handshake completed).
  bool renegotiation_sent() const noexcept { return stage_ == Stage::wait_answer; }
  // The first handshake's parameters (0 until the server chose them).
  std::uint16_t cipher_suite() const noexcept;
  std::uint16_t group() const noexcept { return group_; }
  // The server answered RFC 5746's renegotiation_info, so the renegotiation ClientHello
  // carried client_verify_data (otherwise it was a legacy renegotiation without it).
  bool secure_renegotiation() const noexcept { return secure_; }
  bool extended_master_secret() const noexcept { return ems_; }

 private:
  enum class Stage : std::uint8_t {
    wait_server_hello,
    wait_server_flight,  // Certificate .. ServerHelloDone
    wait_ccs,
    wait_finished,
    wait_answer,  // the renegotiation ClientHello is out
    finished,
  };
  explicit RenegotiationProbe(crypto::Random& rng) noexcept : rng_(&rng) {}

  Status on_record(const tls::Record& record);
  Status on_message(std::uint8_t type, wire::Bytes message);
  Status on_server_hello(wire::Bytes body);
  Status on_server_key_exchange(wire::Bytes body);
  Status on_server_hello_done();
  Status on_server_finished(wire::Bytes body);
  Status send_handshake(wire::Bytes message);
  void finish(RenegotiationAnswer answer, std::string detail);

  crypto::Random* rng_;
  Stage stage_ = Stage::wait_server_hello;
  RenegotiationAnswer answer_ = RenegotiationAnswer::pending;
  std::string detail_;
  std::string server_name_;
  std::array<std::uint8_t, 32> client_random_{};
  std::array<std::uint8_t, 32> server_random_{};
  const tls::CipherSuiteInfo* suite_ = nullptr;
  std::uint16_t group_ = 0;
  std::vector<std::uint8_t> server_public_;  // the ServerKeyExchange's ECDH point
  bool secure_ = false;
  bool ems_ = false;
  bool certificate_requested_ = false;
  crypto::Transcript transcript_;
  std::optional<crypto::Secret> master_;
  std::optional<tls::RecordCipher> server_cipher_;  // installed at the server's CCS
  std::array<std::uint8_t, 12> client_verify_data_{};
  tls::RecordReader reader_;
  tls::RecordWriter writer_;
  std::vector<std::uint8_t> handshake_;  // bytes of incomplete handshake messages
  std::vector<std::uint8_t> out_;
  std::size_t received_ = 0;  // bytes fed, bounded
};

}  // namespace bulwark::scan
