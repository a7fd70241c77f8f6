// What `bulwark connect` and `bulwark listen` share: TCP sockets (IPv4 / IPv6 via getaddrinfo),
// the poll() loop that moves bytes between a socket, a tls::Connection and stdin / stdout,
// policy options (suites, groups, versions, ALPN), credentials and trust, the SSLKEYLOGFILE
// writer, the --trace printer, and the one-line descriptions of failures.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "bulwark/crypto/trust_store.hpp"
#include "bulwark/result.hpp"
#include "bulwark/tls/config.hpp"
#include "bulwark/tls/connection.hpp"

namespace bulwark::apps {

// ---- sockets -------------------------------------------------------------------------------

// An owned file descriptor, closed on destruction.
class Fd {
 public:
  Fd() noexcept = default;
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  int release() noexcept;

 private:
  int fd_ = -1;
};

// "host:port", "[v6]:port"; the host may be a name or an IP literal.
struct HostPort {
  std::string host;
  std::string port;
};
Result<HostPort> parse_host_port(std::string_view text);
// "192.0.2.1:443" / "[2001:db8::1]:443" for display.
std::string format_host_port(std::string_view host, std::uint16_t port);

// A connected TCP socket to the first address of `where` that answers within `timeout`.
Result<Fd> tcp_connect(const HostPort& where, std::chrono::milliseconds timeout);

struct Listener {
  Fd fd;
  std::string address;  // the bound address with the real port, e.g. "127.0.0.1:40123"
};
// A listening TCP socket on the first address of `where` that binds (port "0": any free port).
// Non-blocking, with TCP_NODELAY (which accepted sockets inherit).
Result<Listener> tcp_listen(const HostPort& where, int backlog = 128);
// A client's address as accept() gave it; text() formats it ("127.0.0.1:40123") when first
// asked for, so a connection that logs nothing does not pay for the formatting.
class PeerAddress {
 public:
  const std::string& text() const;

 private:
  friend Result<Fd> tcp_accept(const Listener&, int, PeerAddress&);
  sockaddr_storage address_{};
  socklen_t length_ = 0;
  mutable std::string text_;
};
// The next connection (blocking until one arrives or `stop_fd` becomes readable: then
// Errc::closed; also Errc::closed once the listener was shut down). The accepted socket is
// blocking. `peer` receives the client's address.
Result<Fd> tcp_accept(const Listener& listener, int stop_fd, PeerAddress& peer);

// ---- policy, credentials, trust --------------------------------------------------------------

// The command-line policy options both commands share.
struct PolicyOptions {
  std::string ciphers;  // "TLS_AES_128_GCM_SHA256,..."
  std::string groups;   // "x25519,secp256r1,P-384"
  std::string alpn;     // "h2,http/1.1"
  std::string tls_min;  // "1.2" or "1.3"
  std::string tls_max;
  bool legacy = false;  // --legacy: tls::Config::legacy (CBC, RSA key transport, DHE)
};

// Suite names (IANA) and group names; legacy suites and the ffdhe groups are known, and
// apply_policy refuses them without --legacy.
Result<std::vector<tls::CipherSuite>> parse_cipher_suites(std::string_view list);
Result<std::vector<tls::NamedGroup>> parse_groups(std::string_view list);
Result<std::vector<std::string>> parse_alpn(std::string_view list);
Result<tls::ProtocolVersion> parse_version(std::string_view text);
// Applies the non-empty options over the defaults of `config` (an empty range is an error).
Status apply_policy(const PolicyOptions& options, tls::Config& config);
// With --legacy, the one-line warning on stderr that legacy suites are enabled.
void warn_if_legacy(const PolicyOptions& options, std::string_view cmd);
// Registers --ciphers, --groups, --legacy, --tls-min and --tls-max (every TLS command has
// them, with the same meaning); `peer` names the other side in the help ("servers").
void add_policy_options(CLI::App& cmd, PolicyOptions& options, std::string_view peer);

// A PEM file of anchors, or a hashed directory of them.
Result<crypto::TrustStore> load_trust(const std::string& path);

// ---- observers: key log and trace ----------------------------------------------------------

// Appends NSS key log lines ("LABEL <client_random hex> <secret hex>") to a file opened
// O_APPEND with mode 0600. One write() per line, so concurrent connections do not interleave.
class KeyLogWriter {
 public:
  static Result<std::shared_ptr<KeyLogWriter>> open(const std::string& path);
  void write(std::string_view label, wire::Bytes client_random, wire::Bytes secret);

 private:
  explicit KeyLogWriter(Fd fd) noexcept : fd_(std::move(fd)) {}
  Fd fd_;
};

// When SSLKEYLOGFILE is set, installs a key log writer on `config` (and says so on stderr,
// once: a key log decrypts every recorded connection).
Status install_key_log_from_environment(tls::Config& config, std::string_view cmd);

// Prints each handshake message to stderr: "trace[PREFIX]: -> client_hello 512 bytes: ...".
void install_trace(tls::Config& config, std::string prefix);

// ---- describing what happened --------------------------------------------------------------

// "TLSv1.3 TLS_AES_128_GCM_SHA256 x25519" and friends, for -v output.
std::string describe_parameters(const tls::SessionInfo& info);
// One sentence naming what went wrong and, after " — ", a remedy when there is one.
struct FailureText {
  std::string cause;
  std::string remedy;
};
// For a failed connection: which check failed, which alert went which way, or truncation.
// (A failed connection no longer says whether its handshake had completed: the caller does.)
FailureText describe_failure(const tls::Connection& conn, bool handshake_completed);

// ---- driving a connection ------------------------------------------------------------------

// Serialises writes to stderr / stdout between connection threads.
std::mutex& output_mutex();

struct DriveOptions {
  // Plaintext to send: read from `input_fd` (until EOF), or the bytes of `input` when
  // input_fd is -1. When the input ends, close_notify is sent (if close_at_input_end).
  int input_fd = -1;
  const std::vector<std::uint8_t>* input = nullptr;
  bool close_at_input_end = true;
  // Received plaintext goes to `output_fd` (when >= 0), or back to the peer when `echo`.
  int output_fd = -1;
  bool echo = false;
  // Sent once after the first application data arrives, followed by close_notify.
  const std::vector<std::uint8_t>* respond = nullptr;
  // Give up when nothing moves for this long (0: never); the handshake has its own bound.
  std::chrono::milliseconds idle_timeout{0};
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(30)};
  // Readable when the process is asked to stop: close_notify is sent and the loop ends.
  int stop_fd = -1;
  // Called once when the handshake completes (may call conn.update_keys()).
  std::function<Status(tls::Connection&)> on_handshake;
  // `input` already went out as 0-RTT data that the server accepted: send nothing more of it.
  bool input_sent_as_early_data = false;
};

enum class DriveEnd : std::uint8_t {
  clean,      // close_notify both ways (or after ours, the peer's)
  stopped,    // stop_fd fired; we sent close_notify
  tls_error,  // the connection failed: see Connection::failure()
  timeout,
  io_error,  // the socket or a local file failed
};

struct DriveResult {
  DriveEnd end = DriveEnd::clean;
  std::string detail;  // for timeout / io_error
  bool handshake_completed = false;
  bool data_received = false;  // any application data came in
};

// Runs the connection on a connected socket until it ends. Does not close the socket.
DriveResult drive(int socket_fd, tls::Connection& conn, const DriveOptions& options);

// A self-pipe that SIGINT / SIGTERM make readable (for DriveOptions::stop_fd). Installs the
// handlers on first use. SIGPIPE is ignored (writes report EPIPE instead).
int stop_signal_fd();
bool stop_requested() noexcept;
void ignore_sigpipe();

}  // namespace bulwark::apps
