#include "apps/tls_io.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>

#include "bulwark/tls/cipher_suites.hpp"

namespace bulwark::apps {

namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

Error os_error(std::string what) {
  return Error(Errc::io_error, what + ": " + std::strerror(errno));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits "a,b, c" into trimmed, non-empty items.
std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view item = list.substr(start, end - start);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front())))
      item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back())))
      item.remove_suffix(1);
    if (!item.empty()) items.emplace_back(item);
    start = end + 1;
  }
  return items;
}

std::string numeric_address(const sockaddr* sa, socklen_t len) {
  char host[NI_MAXHOST];
  char serv[NI_MAXSERV];
  if (::getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "?";
  }
  return format_host_port(host, static_cast<std::uint16_t>(std::atoi(serv)));
}

struct AddrInfoDeleter {
  void operator()(addrinfo* a) const noexcept { ::freeaddrinfo(a); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

Result<AddrInfoPtr> resolve(const HostPort& where, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(where.host.empty() ? nullptr : where.host.c_str(),
                               where.port.c_str(), &hints, &found);
  if (rc != 0) {
    return Error(Errc::io_error,
                 fmt::format("cannot resolve {}: {}", where.host, ::gai_strerror(rc)));
  }
  return AddrInfoPtr(found);
}

// Writes everything to a (possibly non-blocking) descriptor such as stdout.
Status write_all(int fd, wire::Bytes data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      (void)::poll(&p, 1, -1);
      continue;
    }
    if (n <= 0) return os_error("cannot write the received data");
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return {};
}

std::string hex(wire::Bytes b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(b.size() * 2);
  for (std::uint8_t v : b) {
    out += digits[v >> 4];
    out += digits[v & 15];
  }
  return out;
}

std::atomic<bool> g_stop{false};
int g_stop_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int) {
  g_stop.store(true);
  const char byte = 1;
  // Never read: the pipe stays readable for every poll() that watches it.
  [[maybe_unused]] const ssize_t n = ::write(g_stop_pipe[1], &byte, 1);
}

}  // namespace

// ---- sockets -------------------------------------------------------------------------------

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

int Fd::release() noexcept {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

Result<HostPort> parse_host_port(std::string_view text) {
  HostPort hp;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Error(Errc::invalid_argument, fmt::format("'{}' has no closing ']'", text));
    }
    hp.host = std::string(text.substr(1, close - 1));
    rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return Error(Errc::invalid_argument, fmt::format("'{}' has no :PORT", text));
    }
    rest.remove_prefix(1);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Error(Errc::invalid_argument, fmt::format("'{}' has no :PORT", text));
    }
    hp.host = std::string(text.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) {
      return Error(Errc::invalid_argument,
                   fmt::format("'{}': write an IPv6 address in brackets, [::1]:PORT", text));
    }
    rest = text.substr(colon + 1);
  }
  if (hp.host.empty()) {
    return Error(Errc::invalid_argument, fmt::format("'{}' has no host", text));
  }
  if (rest.empty() || rest.size() > 5 ||
      !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoul(std::string(rest)) > 65535) {
    return Error(Errc::invalid_argument, fmt::format("'{}': the port is not 0..65535", text));
  }
  hp.port = std::string(rest);
  return hp;
}

std::string format_host_port(std::string_view host, std::uint16_t port) {
  if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Result<Fd> tcp_connect(const HostPort& where, milliseconds timeout) {
  BW_ASSIGN(AddrInfoPtr addrs, resolve(where, false));
  std::string last_error = "no address";
  for (const addrinfo* a = addrs.get(); a != nullptr; a = a->ai_next) {
    Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol));
    if (!fd.valid()) {
      last_error = std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd.get(), a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd.get(), POLLOUT, 0};
      const int timeout_ms = timeout.count() > 0 ? static_cast<int>(timeout.count()) : -1;
      do {
        rc = ::poll(&p, 1, timeout_ms);
      } while (rc < 0 && errno == EINTR);
      if (rc == 0) {
        last_error = fmt::format("no answer within {} s", timeout.count() / 1000.0);
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last_error = std::strerror(err);
        continue;
      }
    } else if (rc != 0) {
      last_error = std::strerror(errno);
      continue;
    }
    // Handshake flights are small and latency-bound.
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
  }
  return Error(
      Errc::io_error,
      fmt::format("cannot connect to {}: {}",
                  format_host_port(where.host, static_cast<std::uint16_t>(std::stoul(where.port))),
                  last_error));
}

Result<Listener> tcp_listen(const HostPort& where, int backlog) {
  BW_ASSIGN(AddrInfoPtr addrs, resolve(where, true));
  std::string last_error = "no address";
  for (const addrinfo* a = addrs.get(); a != nullptr; a = a->ai_next) {
    // Non-blocking: tcp_accept tries accept4 first and polls only when nothing is queued.
    Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol));
    if (!fd.valid()) {
      last_error = std::strerror(errno);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (a->ai_family == AF_INET6) {
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    // Accepted sockets inherit TCP_NODELAY from the listener on Linux: no setsockopt per
    // connection.
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::bind(fd.get(), a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd.get(), backlog) != 0) {
      last_error = std::strerror(errno);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
      last_error = std::strerror(errno);
      continue;
    }
    Listener l;
    l.fd = std::move(fd);
    l.address = numeric_address(reinterpret_cast<sockaddr*>(&bound), len);
    return l;
  }
  return Error(Errc::io_error,
               fmt::format("cannot listen on {}:{}: {}", where.host, where.port, last_error));
}

const std::string& PeerAddress::text() const {
  if (text_.empty()) text_ = numeric_address(reinterpret_cast<const sockaddr*>(&address_), length_);
  return text_;
}

Result<Fd> tcp_accept(const Listener& listener, int stop_fd, PeerAddress& peer) {
  for (;;) {
    // A connection already queued is taken without a poll first (the listener is
    // non-blocking; the accepted socket is not).
    if (stop_fd >= 0 && stop_requested()) return Error(Errc::closed, "stopping");
    peer = PeerAddress();
    peer.length_ = sizeof peer.address_;
    Fd fd(::accept4(listener.fd.get(), reinterpret_cast<sockaddr*>(&peer.address_), &peer.length_,
                    SOCK_CLOEXEC));
    if (fd.valid()) return fd;
    // A listener shut down (to stop the threads waiting in accept) says EINVAL.
    if (errno == EINVAL) return Error(Errc::closed, "the listener was shut down");
    // Out of descriptors: give the system a moment instead of spinning.
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      (void)::poll(nullptr, 0, 50);
      continue;
    }
    // The client gave up, or nothing is queued: try again (after a poll).
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED &&
        errno != EPROTO) {
      return os_error("accept");
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) continue;
    pollfd p[2] = {{listener.fd.get(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    const int rc = ::poll(p, stop_fd >= 0 ? 2 : 1, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return os_error("poll");
    if (stop_fd >= 0 && (p[1].revents & POLLIN) != 0) return Error(Errc::closed, "stopping");
  }
}

// ---- policy, credentials, trust --------------------------------------------------------------

Result<std::vector<tls::CipherSuite>> parse_cipher_suites(std::string_view list) {
  std::vector<tls::CipherSuite> out;
  for (const std::string& item : split_list(list)) {
    const tls::CipherSuiteInfo* found = nullptr;
    for (const auto& s : tls::supported_cipher_suites()) {
      if (lower(s.name) == lower(item)) found = &s;
    }
    if (found == nullptr) {
      std::string known;
      for (const auto& s : tls::supported_cipher_suites()) {
        known += known.empty() ? "" : ", ";
        known += s.name;
      }
      return Error(Errc::invalid_argument,
                   fmt::format("unknown cipher suite '{}' (known: {})", item, known));
    }
    if (std::find(out.begin(), out.end(), found->id) == out.end()) out.push_back(found->id);
  }
  if (out.empty()) return Error(Errc::invalid_argument, "empty cipher suite list");
  return out;
}

Result<std::vector<tls::NamedGroup>> parse_groups(std::string_view list) {
  std::vector<tls::NamedGroup> out;
  for (const std::string& item : split_list(list)) {
    const std::string g = lower(item);
    tls::NamedGroup group;
    if (g == "x25519") {
      group = tls::NamedGroup::x25519;
    } else if (g == "secp256r1" || g == "p-256" || g == "prime256v1") {
      group = tls::NamedGroup::secp256r1;
    } else if (g == "secp384r1" || g == "p-384") {
      group = tls::NamedGroup::secp384r1;
    } else if (g == "ffdhe2048") {
      group = tls::NamedGroup::ffdhe2048;
    } else if (g == "ffdhe3072") {
      group = tls::NamedGroup::ffdhe3072;
    } else if (g == "ffdhe4096") {
      group = tls::NamedGroup::ffdhe4096;
    } else {
      return Error(Errc::invalid_argument,
                   fmt::format("unknown group '{}' (groups: x25519, secp256r1 (P-256), "
                               "secp384r1 (P-384); with --legacy ffdhe2048, ffdhe3072, ffdhe4096)",
                               item));
    }
    if (std::find(out.begin(), out.end(), group) == out.end()) out.push_back(group);
  }
  if (out.empty()) return Error(Errc::invalid_argument, "empty group list");
  return out;
}

Result<std::vector<std::string>> parse_alpn(std::string_view list) {
  std::vector<std::string> out = split_list(list);
  for (const auto& p : out) {
    // RFC 7301 §3.1: a protocol name is 1..255 bytes.
    if (p.size() > 255) {
      return Error(Errc::invalid_argument, "an ALPN protocol name is longer than 255 bytes");
    }
  }
  if (out.empty()) return Error(Errc::invalid_argument, "empty ALPN list");
  return out;
}

Result<tls::ProtocolVersion> parse_version(std::string_view text) {
  if (text == "1.3") return tls::ProtocolVersion::tls13;
  if (text == "1.2") return tls::ProtocolVersion::tls12;
  if (text == "1.0" || text == "1.1") {
    return Error(Errc::unsupported,
                 fmt::format("TLS {} is obsolete (RFC 8996); bulwark does not speak it", text));
  }
  return Error(Errc::invalid_argument,
               fmt::format("unknown TLS version '{}' (use 1.2 or 1.3)", text));
}

Status apply_policy(const PolicyOptions& o, tls::Config& config) {
  config.legacy = o.legacy;
  // Peers old enough to need the legacy suites often lack RFC 7627 too; such a session is
  // never resumed (see the engine).
  if (o.legacy) config.require_extended_master_secret = false;
  if (!o.ciphers.empty()) {
    BW_ASSIGN(config.cipher_suites, parse_cipher_suites(o.ciphers));
    for (tls::CipherSuite id : config.cipher_suites) {
      if (tls::is_legacy_suite(id) && !o.legacy) {
        return Error(Errc::invalid_argument,
                     fmt::format("{} is a legacy suite: add --legacy to allow it",
                                 tls::find_cipher_suite(id)->name));
      }
    }
  }
  if (!o.groups.empty()) {
    BW_ASSIGN(config.groups, parse_groups(o.groups));
    for (tls::NamedGroup g : config.groups) {
      if (tls::is_ffdhe_group(g) && !o.legacy) {
        return Error(Errc::invalid_argument,
                     fmt::format("unknown group '{}' without --legacy (the ffdhe groups are for "
                                 "the legacy DHE suites)",
                                 name(g)));
      }
    }
  }
  if (!o.alpn.empty()) {
    BW_ASSIGN(config.alpn, parse_alpn(o.alpn));
  }
  if (!o.tls_min.empty()) {
    BW_ASSIGN(config.min_version, parse_version(o.tls_min));
  }
  if (!o.tls_max.empty()) {
    BW_ASSIGN(config.max_version, parse_version(o.tls_max));
  }
  if (config.min_version > config.max_version) {
    return Error(Errc::invalid_argument, "--tls-min is above --tls-max");
  }
  // A version range whose suites were all filtered out would fail every handshake: say so now.
  const std::vector<tls::CipherSuite> enabled = tls::enabled_cipher_suites(config);
  const bool any_usable = std::any_of(enabled.begin(), enabled.end(), [&](tls::CipherSuite id) {
    const tls::CipherSuiteInfo* s = tls::find_cipher_suite(id);
    return s != nullptr && s->version >= config.min_version && s->version <= config.max_version;
  });
  if (!any_usable) {
    return Error(Errc::invalid_argument,
                 "none of the --ciphers suites exists in the --tls-min..--tls-max versions");
  }
  return {};
}

void add_policy_options(CLI::App& cmd, PolicyOptions& o, std::string_view peer) {
  cmd.add_option("--ciphers", o.ciphers,
                 "Cipher suites in preference order, comma-separated (IANA names, TLS 1.3 and "
                 "1.2)");
  cmd.add_option("--groups", o.groups,
                 "Key exchange groups in preference order: x25519,secp256r1,secp384r1 "
                 "(P-256, P-384 accepted)");
  cmd.add_flag("--legacy", o.legacy,
               fmt::format("Also allow the legacy TLS 1.2 suites (AES-CBC, RSA key transport, DHE "
                           "with the RFC 7919 groups), after the modern ones, and peers without "
                           "the extended master secret: only for {} that have nothing better",
                           peer));
  cmd.add_option("--tls-min", o.tls_min, "Lowest TLS version: 1.2 (default) or 1.3");
  cmd.add_option("--tls-max", o.tls_max, "Highest TLS version: 1.2 or 1.3 (default)");
}

void warn_if_legacy(const PolicyOptions& o, std::string_view cmd) {
  if (!o.legacy) return;
  fmt::print(stderr,
             "bulwark {}: WARNING: --legacy: TLS 1.2 CBC, RSA key transport and finite-field DHE "
             "suites are enabled (after the modern ones), and peers without the extended master "
             "secret; use only for peers that need them\n",
             cmd);
}

Result<crypto::TrustStore> load_trust(const std::string& path) {
  if (std::filesystem::is_directory(path)) return crypto::TrustStore::from_directory(path);
  return crypto::TrustStore::from_file(path);
}

// ---- observers -----------------------------------------------------------------------------

Result<std::shared_ptr<KeyLogWriter>> KeyLogWriter::open(const std::string& path) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fd.valid()) return os_error("cannot open the key log " + path);
  return std::shared_ptr<KeyLogWriter>(new KeyLogWriter(std::move(fd)));
}

void KeyLogWriter::write(std::string_view label, wire::Bytes client_random, wire::Bytes secret) {
  const std::string line = fmt::format("{} {} {}\n", label, hex(client_random), hex(secret));
  // O_APPEND and one write() per line: lines of concurrent connections stay whole.
  [[maybe_unused]] const ssize_t n = ::write(fd_.get(), line.data(), line.size());
}

Status install_key_log_from_environment(tls::Config& config, std::string_view cmd) {
  const char* path = std::getenv("SSLKEYLOGFILE");
  if (path == nullptr || *path == '\0') return {};
  BW_ASSIGN(std::shared_ptr<KeyLogWriter> writer, KeyLogWriter::open(path));
  fmt::print(stderr,
             "bulwark {}: WARNING: writing TLS secrets to {} (SSLKEYLOGFILE): anyone with this "
             "file can decrypt the recorded traffic\n",
             cmd, path);
  config.key_log = [writer](std::string_view label, wire::Bytes client_random, wire::Bytes secret) {
    writer->write(label, client_random, secret);
  };
  return {};
}

void install_trace(tls::Config& config, std::string prefix) {
  config.trace = [prefix = std::move(prefix)](const tls::TraceEvent& e) {
    const bool sent = e.direction == tls::TraceEvent::Direction::sent;
    std::lock_guard lock(output_mutex());
    fmt::print(stderr, "trace{}: {} {} {} bytes{}{}\n", prefix, sent ? "->" : "<-", name(e.type),
               e.size, e.detail.empty() ? "" : ": ", e.detail);
  };
}

// ---- describing ----------------------------------------------------------------------------

std::string describe_parameters(const tls::SessionInfo& info) {
  const std::string version = info.version == tls::ProtocolVersion::tls13   ? "TLSv1.3"
                              : info.version == tls::ProtocolVersion::tls12 ? "TLSv1.2"
                                                                            : "?";
  const tls::CipherSuiteInfo* suite = tls::find_cipher_suite(info.cipher_suite);
  // The key exchange: a group; RSA key transport (legacy, no group); or none on resumption.
  std::string kx = "psk_ke";
  if (info.group) {
    kx = std::string(name(*info.group));
  } else if (suite != nullptr && suite->kx == tls::KeyExchange::rsa && !info.resumed) {
    kx = "rsa_key_transport";
  } else if (suite != nullptr && suite->kx == tls::KeyExchange::dhe_rsa && !info.resumed) {
    kx = "dhe";  // a server's own DH group, not an RFC 7919 one
  }
  return fmt::format("{} {} {}", version, suite != nullptr ? suite->name : "?", kx);
}

namespace {

// The certificate check that failed, in words, and what to do about it.
std::optional<FailureText> certificate_check(Errc code, bool client) {
  const std::string whose = client ? "server" : "client";
  switch (code) {
    case Errc::cert_expired:
      return FailureText{whose + " certificate expired", "renew it (or check the clock)"};
    case Errc::cert_not_yet_valid:
      return FailureText{whose + " certificate not yet valid", "check the clock"};
    case Errc::cert_unknown_ca:
      return FailureText{
          whose + " certificate issued by an unknown CA",
          client ? "pass the issuing CA with --cacert (or --insecure to skip verification, unsafe)"
                 : "pass the client's CA with --client-ca"};
    case Errc::cert_hostname_mismatch:
      return FailureText{whose + " certificate does not match the host name",
                         "connect with a name the certificate holds, or set it with --sni"};
    case Errc::cert_bad_signature:
      return FailureText{whose + " certificate has a bad signature",
                         "the certificate was altered or not signed by its issuer: reissue it"};
    case Errc::cert_wrong_purpose:
      return FailureText{
          whose + " certificate is not valid for this purpose",
          client ? "issue it as a server certificate" : "issue it with bulwark ca issue --client"};
    case Errc::cert_invalid:
      return FailureText{whose + " certificate is invalid", ""};
    default:
      return std::nullopt;
  }
}

std::string received_alert_remedy(tls::AlertDescription a, bool client) {
  using A = tls::AlertDescription;
  switch (a) {
    case A::handshake_failure:
    case A::insufficient_security:
      return "no parameters in common: check --ciphers, --groups and the certificate type (a "
             "peer that only has CBC, RSA key transport or DHE suites needs --legacy)";
    case A::protocol_version:
      return "no TLS version in common: check --tls-min / --tls-max";
    case A::certificate_required:
      return client ? "the server requires a client certificate: give --cert and --key" : "";
    case A::unknown_ca:
    case A::bad_certificate:
    case A::certificate_unknown:
    case A::certificate_expired:
    case A::unsupported_certificate:
      return client ? "the server rejected our client certificate"
                    : "the client rejected our certificate: check --cert / --chain and its CA";
    case A::no_application_protocol:
      return "no ALPN protocol in common: check --alpn";
    case A::unrecognized_name:
      return "the server has no certificate for this name: check --sni";
    default:
      return "";
  }
}

}  // namespace

FailureText describe_failure(const tls::Connection& conn, bool handshake_completed) {
  const tls::Failure* f = conn.failure();
  const bool client = conn.role() == tls::Role::client;
  const std::string peer = client ? "server" : "client";
  const std::string stage = handshake_completed ? "connection failed" : "handshake failed";
  if (f == nullptr) return {"the connection ended unexpectedly", ""};
  switch (f->kind) {
    case tls::Failure::Kind::sent_alert:
      if (auto check = certificate_check(f->error.code(), client)) {
        return {fmt::format("{}: {} ({}); sent alert {}", stage, check->cause, f->error.message(),
                            name(f->alert)),
                check->remedy};
      }
      return {fmt::format("{}: {}; sent alert {}", stage, f->error.message(), name(f->alert)), ""};
    case tls::Failure::Kind::received_alert:
      // After the handshake, parameters are settled: a remedy about them would mislead (a
      // refused renegotiation ends in handshake_failure, for instance).
      return {fmt::format("{}: the {} sent alert {}", stage, peer, name(f->alert)),
              handshake_completed && f->alert == tls::AlertDescription::handshake_failure
                  ? std::string()
                  : received_alert_remedy(f->alert, client)};
    case tls::Failure::Kind::transport:
      if (!handshake_completed) {
        return {fmt::format("handshake failed: the {} closed the connection during the handshake",
                            peer),
                ""};
      }
      return {fmt::format("truncated: the {} closed the connection without close_notify (the "
                          "data may be incomplete)",
                          peer),
              ""};
    case tls::Failure::Kind::internal:
      return {fmt::format("{}: internal error: {}", stage, f->error.message()), ""};
    case tls::Failure::Kind::misuse:
      return {fmt::format("{}: {}", stage, f->error.message()), ""};
  }
  return {f->error.message(), ""};
}

// ---- driving -------------------------------------------------------------------------------

std::mutex& output_mutex() {
  static std::mutex mu;
  return mu;
}

int stop_signal_fd() {
  static const int fd = [] {
    if (::pipe2(g_stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    return g_stop_pipe[0];
  }();
  return fd;
}

bool stop_requested() noexcept {
  return g_stop.load();
}

void ignore_sigpipe() {
  std::signal(SIGPIPE, SIG_IGN);
}

namespace {

constexpr std::size_t read_chunk = 64 * 1024;
// Stop taking input (or echoing) while this much ciphertext waits for the socket.
constexpr std::size_t output_high_water = 512 * 1024;

// One read buffer per thread (a connection runs on one thread at a time, and its bytes are fed
// to the engine before the next read): no 64 KiB allocation per connection.
std::span<std::uint8_t> read_buffer() {
  thread_local std::array<std::uint8_t, read_chunk> buffer;
  return buffer;
}

// The socket stays blocking: every recv / send passes MSG_DONTWAIT (no fcntl per connection),
// and each is tried before polling, since the data is often there already (a ClientHello
// arrives with the connection, a flight leaves at once): poll() only after EAGAIN.
class Driver {
 public:
  Driver(int fd, tls::Connection& conn, const DriveOptions& o)
      : fd_(fd), conn_(conn), o_(o), buf_(read_buffer()) {}

  DriveResult run() {
    input_open_ = o_.input_fd >= 0 || o_.input != nullptr;
    const auto handshake_bound =
        o_.handshake_timeout.count() > 0 ? o_.handshake_timeout : std::chrono::hours(24 * 365);
    deadline_ = SteadyClock::now() + handshake_bound;
    for (;;) {
      if (auto r = step()) return finish(*r);
    }
  }

 private:
  // One turn of the loop; a value when the connection has ended.
  std::optional<DriveResult> step() {
    if (auto r = deliver()) return r;
    if (!handshake_reported_ && conn_.handshake_done()) {
      handshake_reported_ = true;
      progress();
      if (o_.on_handshake) {
        if (auto s = o_.on_handshake(conn_); !s) {
          if (conn_.failed()) return DriveResult{DriveEnd::tls_error, {}};
          return DriveResult{DriveEnd::io_error, s.error().message()};
        }
      }
      // Early data the server took needs no second sending; rejected early data does.
      if (o_.input_sent_as_early_data && o_.input != nullptr &&
          conn_.info().early_data == tls::EarlyData::accepted) {
        input_pos_ = o_.input->size();
      }
    }
    if (conn_.failed()) return DriveResult{DriveEnd::tls_error, {}};
    // The peer closed: answer with our close_notify (RFC 8446 §6.1) and finish.
    if (conn_.state() == tls::State::peer_closed) (void)conn_.close();
    const bool output_empty = conn_.pending_output().empty();
    if (conn_.state() == tls::State::closed && output_empty)
      return DriveResult{DriveEnd::clean, {}};
    if (stopping_ && output_empty) return DriveResult{DriveEnd::stopped, {}};
    if (socket_eof_) {
      // Without the peer's close_notify, this is truncation (the engine says so).
      if (!conn_.transport_eof()) return DriveResult{DriveEnd::tls_error, {}};
      if (conn_.state() != tls::State::closed) (void)conn_.close();
      return DriveResult{DriveEnd::clean, {}};
    }
    return wait_and_move();
  }

  // Hands received plaintext to the output, the echo, or nowhere.
  std::optional<DriveResult> deliver() {
    for (;;) {
      if (o_.echo && conn_.pending_output().size() >= output_high_water) return std::nullopt;
      wire::Bytes data = conn_.peek();
      if (data.empty()) return std::nullopt;
      progress();
      data_received_ = true;
      if (o_.echo) {
        if (conn_.state() == tls::State::established && !closed_by_us_) {
          if (!conn_.send(data)) return DriveResult{DriveEnd::tls_error, {}};
        }
      } else if (o_.output_fd >= 0) {
        std::unique_lock lock(output_mutex(), std::defer_lock);
        if (o_.output_fd == STDOUT_FILENO) lock.lock();
        if (auto s = write_all(o_.output_fd, data); !s) {
          return DriveResult{DriveEnd::io_error, s.error().message()};
        }
      }
      const std::size_t n = data.size();
      conn_.consume(n);
      if (o_.respond != nullptr && !responded_ && !closed_by_us_) {
        responded_ = true;
        if (!conn_.send(*o_.respond) || !conn_.close()) {
          return DriveResult{DriveEnd::tls_error, {}};
        }
        closed_by_us_ = true;
        input_open_ = false;
      }
    }
  }

  std::optional<DriveResult> wait_and_move() {
    const bool want_write = !conn_.pending_output().empty();
    const bool can_take_input = input_open_ && !closed_by_us_ && conn_.handshake_done() &&
                                conn_.state() == tls::State::established &&
                                conn_.pending_output().size() < output_high_water;
    // Memory input needs no poll: take the next piece now.
    if (can_take_input && o_.input != nullptr) {
      if (auto r = take_memory_input()) return r;
      return std::nullopt;
    }
    const bool want_read =
        conn_.peek().empty() && !(o_.echo && conn_.pending_output().size() >= output_high_water);
    if (o_.stop_fd >= 0 && !stopping_ && stop_requested()) return stop();
    if (want_write && !write_blocked_) {
      if (auto r = write_socket()) return r;
      if (!write_blocked_) return std::nullopt;  // all sent, or the peer is gone
    }
    if (want_read && !read_blocked_) {
      if (auto r = read_socket()) return r;
      if (!read_blocked_) return std::nullopt;
    }
    // About to wait: buffers that hold nothing go back (an idle connection keeps its state only).
    if (want_read && !want_write) conn_.release_idle_buffers();
    std::array<pollfd, 3> p{};
    nfds_t n = 0;
    p[n++] =
        pollfd{fd_, static_cast<short>((want_read ? POLLIN : 0) | (want_write ? POLLOUT : 0)), 0};
    int input_slot = -1;
    if (can_take_input && o_.input_fd >= 0) {
      input_slot = static_cast<int>(n);
      p[n++] = pollfd{o_.input_fd, POLLIN, 0};
    }
    int stop_slot = -1;
    if (o_.stop_fd >= 0 && !stopping_) {
      stop_slot = static_cast<int>(n);
      p[n++] = pollfd{o_.stop_fd, POLLIN, 0};
    }
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline_ - SteadyClock::now()).count();
    if (left <= 0) return timed_out();
    const int rc = ::poll(p.data(), n, static_cast<int>(std::min<long long>(left, 1000 * 60)));
    if (rc < 0 && errno == EINTR) return std::nullopt;
    if (rc < 0)
      return DriveResult{DriveEnd::io_error, std::string("poll: ") + std::strerror(errno)};
    if (rc == 0) return std::nullopt;  // the deadline is checked on the next turn

    if (stop_slot >= 0 && (p[stop_slot].revents & POLLIN) != 0) {
      if (auto r = stop()) return r;
    }
    const short sock = p[0].revents;
    if ((sock & POLLOUT) != 0 || (want_write && (sock & (POLLERR | POLLHUP)) != 0)) {
      write_blocked_ = false;
      if (auto r = write_socket()) return r;
    }
    if ((sock & (POLLIN | POLLHUP | POLLERR)) != 0 && want_read) {
      read_blocked_ = false;
      if (auto r = read_socket()) return r;
    }
    if (input_slot >= 0 && (p[input_slot].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      if (auto r = read_input()) return r;
    }
    return std::nullopt;
  }

  // SIGINT / SIGTERM: close_notify after a handshake, then a short while for it to leave.
  std::optional<DriveResult> stop() {
    stopping_ = true;
    if (!conn_.handshake_done() || conn_.failed()) return DriveResult{DriveEnd::stopped, {}};
    (void)conn_.close();
    closed_by_us_ = true;
    // Give the close_notify a moment to leave, not the peer a chance to hold us up.
    deadline_ = SteadyClock::now() + std::chrono::seconds(2);
    return std::nullopt;
  }

  std::optional<DriveResult> write_socket() {
    wire::Bytes out = conn_.pending_output();
    while (!out.empty()) {
      const ssize_t n = ::send(fd_, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        write_blocked_ = true;
        break;
      }
      if (n < 0) {
        // The peer reset the connection: whatever it last sent may explain why.
        const std::string why = std::strerror(errno);
        if (errno == EPIPE || errno == ECONNRESET) {
          socket_eof_ = true;
          peer_reset_ = true;
          conn_.consume_output(out.size());
          return std::nullopt;
        }
        return DriveResult{DriveEnd::io_error, "cannot send: " + why};
      }
      conn_.consume_output(static_cast<std::size_t>(n));
      out = conn_.pending_output();
      progress();
      // The peer answers what we just sent: poll before the next recv instead of a recv that
      // would say EAGAIN (poll reports data that is already there).
      read_blocked_ = true;
    }
    return std::nullopt;
  }

  std::optional<DriveResult> read_socket() {
    const ssize_t n = ::recv(fd_, buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      read_blocked_ = true;
      return std::nullopt;
    }
    if (n < 0 && errno == EINTR) return std::nullopt;
    if (n < 0 && errno != ECONNRESET) {
      return DriveResult{DriveEnd::io_error,
                         std::string("cannot receive: ") + std::strerror(errno)};
    }
    if (n <= 0) {
      socket_eof_ = true;
      peer_reset_ = n < 0;
      return std::nullopt;
    }
    progress();
    if (!conn_.feed(wire::Bytes(buf_.data(), static_cast<std::size_t>(n)))) {
      return DriveResult{DriveEnd::tls_error, {}};
    }
    return std::nullopt;
  }

  std::optional<DriveResult> read_input() {
    const ssize_t n = ::read(o_.input_fd, buf_.data(), buf_.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return std::nullopt;
    if (n < 0) {
      return DriveResult{DriveEnd::io_error,
                         std::string("cannot read input: ") + std::strerror(errno)};
    }
    progress();
    if (n == 0) return input_ended();
    if (!conn_.send(wire::Bytes(buf_.data(), static_cast<std::size_t>(n)))) {
      return DriveResult{DriveEnd::tls_error, {}};
    }
    return std::nullopt;
  }

  std::optional<DriveResult> take_memory_input() {
    const std::vector<std::uint8_t>& in = *o_.input;
    if (input_pos_ >= in.size()) return input_ended();
    const std::size_t n = std::min(read_chunk, in.size() - input_pos_);
    if (!conn_.send(wire::Bytes(in.data() + input_pos_, n))) {
      return DriveResult{DriveEnd::tls_error, {}};
    }
    input_pos_ += n;
    progress();
    return std::nullopt;
  }

  std::optional<DriveResult> input_ended() {
    input_open_ = false;
    if (o_.close_at_input_end && !closed_by_us_) {
      if (!conn_.close()) return DriveResult{DriveEnd::tls_error, {}};
      closed_by_us_ = true;
    }
    return std::nullopt;
  }

  std::optional<DriveResult> timed_out() {
    if (stopping_) return DriveResult{DriveEnd::stopped, {}};
    if (!conn_.handshake_done()) {
      return DriveResult{DriveEnd::timeout, fmt::format("no handshake within {} s",
                                                        o_.handshake_timeout.count() / 1000.0)};
    }
    return DriveResult{DriveEnd::timeout,
                       fmt::format("nothing happened for {} s", o_.idle_timeout.count() / 1000.0)};
  }

  void progress() {
    if (stopping_) return;
    if (conn_.handshake_done()) {
      deadline_ = o_.idle_timeout.count() > 0 ? SteadyClock::now() + o_.idle_timeout
                                              : SteadyClock::time_point::max();
    }
  }

  // Sends what is still pending (an alert, our close_notify) for a short while, then closes
  // our side and reads until the peer closes: closing with unread data would make the kernel
  // reset the connection and could destroy the alert before the peer reads it.
  DriveResult finish(DriveResult r) {
    r.handshake_completed = handshake_reported_;
    r.data_received = data_received_;
    const auto until = SteadyClock::now() + std::chrono::seconds(1);
    while (!conn_.pending_output().empty() && SteadyClock::now() < until) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const wire::Bytes out = conn_.pending_output();
      const ssize_t n = ::send(fd_, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n <= 0 && errno != EAGAIN && errno != EINTR) break;
      if (n > 0) conn_.consume_output(static_cast<std::size_t>(n));
    }
    // A reset connection has nothing left to drain.
    if (r.end != DriveEnd::clean && !peer_reset_) {
      ::shutdown(fd_, SHUT_WR);
      const auto drain_until = SteadyClock::now() + milliseconds(500);
      while (SteadyClock::now() < drain_until) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        if (::recv(fd_, buf_.data(), buf_.size(), MSG_DONTWAIT) <= 0) break;
      }
    }
    return r;
  }

  int fd_;
  tls::Connection& conn_;
  const DriveOptions& o_;
  std::span<std::uint8_t> buf_;
  SteadyClock::time_point deadline_;
  std::size_t input_pos_ = 0;
  bool input_open_ = false;
  bool socket_eof_ = false;
  bool peer_reset_ = false;     // ECONNRESET / EPIPE: nothing more goes either way
  bool read_blocked_ = false;   // poll before the next recv (EAGAIN seen, or we just sent)
  bool write_blocked_ = false;  // the last send said EAGAIN
  bool closed_by_us_ = false;
  bool stopping_ = false;
  bool responded_ = false;
  bool handshake_reported_ = false;
  bool data_received_ = false;
};

}  // namespace

DriveResult drive(int socket_fd, tls::Connection& conn, const DriveOptions& options) {
  return Driver(socket_fd, conn, options).run();
}

}  // namespace bulwark::apps
