// tls::Connection: a sans-I/O TLS endpoint (client or server).
//
// Bytes received from the transport go in with feed(); bytes to send come out of
// pending_output() (always, even after an error, so that the alert reaches the peer).
// Application data is sent with send() and read with read() / peek() + consume().
// Errors are typed and sticky: after a fatal error the connection stays failed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/result.hpp"
#include "bulwark/tls/config.hpp"
#include "bulwark/tls/types.hpp"
#include "bulwark/wire.hpp"

namespace bulwark::tls {

enum class Role : std::uint8_t { client, server };

enum class State : std::uint8_t {
  handshaking,
  established,  // application data flows both ways
  peer_closed,  // close_notify received: nothing more to read (we may still send)
  closed,       // close_notify sent and received, or sent after the peer's
  failed,       // a fatal error (see error())
};

// Who ended a failed connection and how.
struct Failure {
  enum class Kind : std::uint8_t {
    sent_alert,      // we detected a problem and sent `alert` to the peer
    received_alert,  // the peer sent us fatal `alert`
    transport,       // the transport ended without close_notify (truncation)
    internal,        // a local failure (libcrypto, out of memory); internal_error sent
    misuse,          // the API was used wrongly; nothing sent
  };
  Kind kind;
  AlertDescription alert = AlertDescription::internal_error;
  Error error;
};

enum class EarlyData : std::uint8_t { not_offered, offered, accepted, rejected };

// What was negotiated, once the handshake is done (parts of it earlier).
struct SessionInfo {
  ProtocolVersion version{};
  CipherSuite cipher_suite{};
  std::optional<NamedGroup> group;  // none for PSK-only resumption
  std::optional<SignatureScheme> peer_signature_scheme;
  std::string alpn;         // empty when none was agreed
  std::string server_name;  // SNI (sent by a client, received by a server)
  bool resumed = false;
  bool hello_retry = false;
  bool extended_master_secret = false;  // TLS 1.2 (RFC 7627); implied in TLS 1.3
  bool secure_renegotiation = false;    // TLS 1.2: the peer supports RFC 5746
  bool heartbeat = false;               // TLS 1.2: the peer may send us heartbeat requests
  // TLS 1.3 0-RTT. A client learns at the server's EncryptedExtensions whether its early data
  // was accepted; if rejected, it must send it again after the handshake.
  EarlyData early_data = EarlyData::not_offered;
  bool peer_verified = false;  // chain and host name checked (client) / client cert
  std::vector<crypto::Certificate> peer_certificates;  // leaf first
};

class Connection {
 public:
  // A client for `server_name` (a DNS name, sent as SNI and checked against the certificate;
  // an IP literal is checked but not sent). The ClientHello is ready in pending_output().
  static Result<Connection> client(std::shared_ptr<const ClientConfig> config,
                                   std::string server_name);
  static Result<Connection> server(std::shared_ptr<const ServerConfig> config);

  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  Role role() const noexcept;
  State state() const noexcept;
  bool handshake_done() const noexcept;
  bool failed() const noexcept { return state() == State::failed; }
  // The failure of a failed connection.
  const Failure* failure() const noexcept;
  const SessionInfo& info() const noexcept;

  // Takes bytes received from the transport and processes as much as it can. On a fatal
  // error returns it (the alert to send is in pending_output()); then and afterwards, every
  // call returns the same error.
  Status feed(wire::Bytes received);
  // The transport reached end of stream. Without a close_notify first, this is truncation:
  // the connection fails with Errc::truncated_connection (a distinct error, not a clean EOF).
  Status transport_eof();

  // Bytes to write to the transport, and how many of them were written.
  wire::Bytes pending_output() const noexcept;
  void consume_output(std::size_t n) noexcept;
  bool wants_write() const noexcept { return !pending_output().empty(); }
  // Gives back the memory of the receive and send buffers that hold nothing (they keep their
  // high-water size otherwise: 64 KiB after a 64 KiB write). A transport calls it before it
  // waits for the peer, so that an idle connection keeps only its state, as rustls does;
  // the buffers grow again when used.
  void release_idle_buffers() noexcept;
  // Bytes of memory the connection's receive and send buffers hold, used or not.
  std::size_t buffer_capacity() const noexcept;

  // Queues application data (after the handshake). Fragmented into records as needed.
  Status send(wire::Bytes data);
  // Client, TLS 1.3 resumption with ClientConfig::early_data: sends 0-RTT data right after
  // the ClientHello, up to the ticket's limit. `invalid_argument` when 0-RTT is not on offer
  // (no suitable ticket) or no longer possible (the server's Finished arrived).
  Status send_early_data(wire::Bytes data);
  // Received application data not yet consumed (a view, valid until the next call that
  // takes or consumes bytes), and consuming it. read() copies and consumes in one step;
  // it returns 0 when nothing is available (see state() for end of stream).
  wire::Bytes peek() noexcept;
  void consume(std::size_t n) noexcept;
  std::size_t read(std::span<std::uint8_t> out) noexcept;
  // feed() then read() in one call, for transports that read into their own buffer: takes
  // bytes received from the transport, processes them as feed() does, and reads application
  // data into `out`. A record whose whole plaintext fits in what is left of `out` is opened
  // straight into it (read() alone can do so only for records still buffered; after feed()
  // the first one is already open). Returns the bytes read, possibly 0. On a fatal error
  // returns it, unless data was read first: then the data, and the error with the next call.
  Result<std::size_t> receive(wire::Bytes received, std::span<std::uint8_t> out);

  // Sends close_notify. Further send() calls fail.
  Status close();
  // TLS 1.3 KeyUpdate: renew our sending key; with `request_peer`, ask the peer to renew its.
  Status update_keys(bool request_peer);
  // TLS 1.2 heartbeat (RFC 6520), when negotiated: sends a request with `payload` (1..2^14-19
  // bytes); the peer's answer, once it arrives, is returned by take_heartbeat_response().
  Status send_heartbeat(wire::Bytes payload);
  std::optional<std::vector<std::uint8_t>> take_heartbeat_response();

  class Impl;

 private:
  explicit Connection(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

// The alert RFC 8446 / RFC 5246 name for an error detected locally (one place, DESIGN.md 5).
AlertDescription alert_for(Errc code) noexcept;

}  // namespace bulwark::tls
