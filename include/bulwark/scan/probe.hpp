// The scanner's transport: blocking TCP connections with a deadline on every step, one per
// probe, to an endpoint resolved once per scan.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bulwark/result.hpp"
#include "bulwark/scan/reply.hpp"
#include "bulwark/tls/connection.hpp"
#include "bulwark/tls/session.hpp"
#include "bulwark/wire.hpp"

namespace bulwark::scan {

using Clock = std::chrono::steady_clock;

// The addresses of host:port, resolved once.
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  std::vector<sockaddr_storage> addresses;
  std::vector<socklen_t> lengths;
  std::string address_text;  // the first address, for the report ("127.0.0.1")

  static Result<Endpoint> resolve(const std::string& host, std::uint16_t port);
};

class Socket {
 public:
  Socket() noexcept = default;
  Socket(Socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket();

  // Connects to the first address that accepts before `deadline`.
  static Result<Socket> connect(const Endpoint& endpoint, Clock::time_point deadline);
  Status send_all(wire::Bytes data, Clock::time_point deadline);
  // Reads what is available (at most out.size()); 0 is the end of the stream. Nothing before
  // `deadline` is `timed_out`.
  Result<std::size_t> receive(std::span<std::uint8_t> out, Clock::time_point deadline);
  bool open() const noexcept { return fd_ >= 0; }

 private:
  explicit Socket(int fd) noexcept : fd_(fd) {}
  int fd_ = -1;
};

// How a probe ended.
struct ProbeResult {
  ServerReply reply;
  bool connected = false;
  bool closed_early = false;  // the server closed (or reset) before a complete reply
  bool timed_out = false;     // nothing complete before the deadline
  bool malformed = false;     // the reply was not TLS (or not SSL 2.0) or broke a bound
  std::string detail;         // why, for errors
  Socket socket;              // still open after a complete reply, for a follow-up

  bool answered() const noexcept { return reply.hello.has_value() || reply.sslv2.has_value(); }
};

// Connects, sends `hello`, and reads the reply until the parser is done, the server closes,
// or `timeout` passes. A connection that cannot be made is an error (the scan stops there);
// everything the server does after accepting is in the result.
Result<ProbeResult> run_probe(const Endpoint& endpoint, wire::Bytes hello,
                              std::chrono::milliseconds timeout, bool sslv2 = false);

// A complete handshake with bulwark's own engine (TLS 1.2 / 1.3), for what the plaintext probes
// cannot see: a TLS 1.3 server's certificate chain, the ALPN protocol chosen. The chain is NOT
// verified here (the scanner verifies and reports it itself). `server_name` is sent as SNI
// unless it is an IP literal. Failing to connect is an error; a failed handshake is the
// engine's error.
struct EngineOptions {
  std::string server_name;
  std::vector<std::string> alpn;
  std::chrono::milliseconds timeout{5000};
  // When set, after the handshake: `GET / HTTP/1.1` with this Host, and the response head is
  // read (up to 16 KiB) into EngineResult::http_head.
  std::string http_host;
  // Sessions to offer and to keep (resumption); with `wait_for_session`, after the handshake
  // the connection is read (within the time limit) until the cache holds a session: TLS 1.3
  // tickets come after the handshake.
  std::shared_ptr<tls::SessionCache> sessions = nullptr;
  bool wait_for_session = false;
};
struct EngineResult {
  tls::SessionInfo info;
  std::string http_head;  // through the blank line; empty when none was asked or none came
};
Result<EngineResult> engine_handshake(const Endpoint& endpoint, const EngineOptions& options);

}  // namespace bulwark::scan
