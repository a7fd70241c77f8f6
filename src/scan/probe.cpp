// Blocking sockets with poll() deadlines: each probe is one short, bounded exchange, so a thread
// per in-flight probe (at most --concurrency of them) is simpler than an event loop.
#include "bulwark/scan/probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "bulwark/tls/config.hpp"

namespace bulwark::scan {

namespace {

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

// Waits for `events` on fd until the deadline: true when ready.
Result<bool> wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(Errc::io_error, std::string("poll: ") + std::strerror(errno));
    return n > 0;
  }
}

std::string format_address(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof buf);
  else
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, buf, sizeof buf);
  return buf;
}

}  // namespace

Result<Endpoint> Endpoint::resolve(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  std::string name = host;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']')
    name = name.substr(1, name.size() - 2);
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(name.c_str(), service.c_str(), &hints, &list); rc != 0)
    return Error(Errc::io_error, "cannot resolve " + host + ": " + ::gai_strerror(rc));
  Endpoint e;
  e.host = host;
  e.port = port;
  for (addrinfo* a = list; a != nullptr; a = a->ai_next) {
    sockaddr_storage ss{};
    std::memcpy(&ss, a->ai_addr, a->ai_addrlen);
    e.addresses.push_back(ss);
    e.lengths.push_back(a->ai_addrlen);
  }
  ::freeaddrinfo(list);
  if (e.addresses.empty()) return Error(Errc::io_error, "no address for " + host);
  e.address_text = format_address(e.addresses.front());
  return e;
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

Result<Socket> Socket::connect(const Endpoint& endpoint, Clock::time_point deadline) {
  std::string last = "no address";
  for (std::size_t i = 0; i < endpoint.addresses.size(); ++i) {
    const auto& ss = endpoint.addresses[i];
    Socket s(::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!s.open()) return Error(Errc::io_error, std::string("socket: ") + std::strerror(errno));
    const int one = 1;
    ::setsockopt(s.fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(s.fd_, reinterpret_cast<const sockaddr*>(&ss), endpoint.lengths[i]) == 0)
      return s;
    if (errno != EINPROGRESS) {
      last = std::strerror(errno);
      continue;
    }
    BW_ASSIGN(bool ready, wait_for(s.fd_, POLLOUT, deadline));
    if (!ready)
      return Error(Errc::timed_out, "cannot connect to " + endpoint.host + ":" +
                                        std::to_string(endpoint.port) + ": timed out");
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s.fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0) return s;
    last = std::strerror(err);
  }
  return Error(Errc::io_error, "cannot connect to " + endpoint.host + ":" +
                                   std::to_string(endpoint.port) + ": " + last);
}

Status Socket::send_all(wire::Bytes data, Clock::time_point deadline) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data = data.subspan(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      BW_ASSIGN(bool ready, wait_for(fd_, POLLOUT, deadline));
      if (!ready) return Error(Errc::timed_out, "send timed out");
      continue;
    }
    return Error(Errc::io_error, std::string("send: ") + std::strerror(errno));
  }
  return {};
}

Result<std::size_t> Socket::receive(std::span<std::uint8_t> out, Clock::time_point deadline) {
  for (;;) {
    const ssize_t n = ::recv(fd_, out.data(), out.size(), 0);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      BW_ASSIGN(bool ready, wait_for(fd_, POLLIN, deadline));
      if (!ready) return Error(Errc::timed_out, "no reply in time");
      continue;
    }
    // A reset is the server's way of refusing too; report it as a close.
    if (errno == ECONNRESET) return std::size_t{0};
    return Error(Errc::io_error, std::string("recv: ") + std::strerror(errno));
  }
}

Result<ProbeResult> run_probe(const Endpoint& endpoint, wire::Bytes hello,
                              std::chrono::milliseconds timeout, bool sslv2) {
  const auto deadline = Clock::now() + timeout;
  BW_ASSIGN(Socket s, Socket::connect(endpoint, deadline));
  ProbeResult out;
  out.connected = true;
  if (auto sent = s.send_all(hello, deadline); !sent) {
    // A server that resets while we send refused the hello.
    out.closed_early = true;
    out.detail = sent.error().message();
    return out;
  }
  ReplyParser parser(256 * 1024, sslv2);
  std::uint8_t buf[16 * 1024];
  while (!parser.done()) {
    auto n = s.receive(buf, deadline);
    if (!n) {
      out.timed_out = n.error() == Errc::timed_out;
      out.closed_early = !out.timed_out;
      out.detail = n.error().message();
      break;
    }
    if (*n == 0) {
      out.closed_early = true;
      break;
    }
    if (auto fed = parser.feed(wire::Bytes(buf, *n)); !fed) {
      out.malformed = true;
      out.detail = fed.error().message();
      break;
    }
  }
  out.reply = parser.reply();
  if (parser.done()) out.socket = std::move(s);
  return out;
}

Result<EngineResult> engine_handshake(const Endpoint& endpoint, const EngineOptions& options) {
  const auto deadline = Clock::now() + options.timeout;
  auto config = std::make_shared<tls::ClientConfig>();
  // The scanner reports on the chain itself; the engine must not stop at a bad one.
  config->insecure_skip_verification = true;
  config->chain_cache = nullptr;
  // Nor at a server without RFC 7627: the scan reports that itself (`ems`) and still wants
  // ALPN, resumption and HSTS from it.
  config->require_extended_master_secret = false;
  config->alpn = options.alpn;
  config->sessions = options.sessions;
  const std::string name =
      options.server_name.empty() ? endpoint.address_text : options.server_name;
  BW_ASSIGN(tls::Connection conn, tls::Connection::client(config, name));
  BW_ASSIGN(Socket s, Socket::connect(endpoint, deadline));
  std::uint8_t buf[16 * 1024];
  while (!conn.handshake_done()) {
    if (conn.wants_write()) {
      const wire::Bytes out = conn.pending_output();
      BW_TRY(s.send_all(out, deadline));
      conn.consume_output(out.size());
    }
    if (conn.failed()) return conn.failure()->error;
    BW_ASSIGN(std::size_t n, s.receive(buf, deadline));
    if (n == 0) {
      (void)conn.transport_eof();
      return conn.failure() ? conn.failure()->error : Error(Errc::truncated_connection);
    }
    if (auto fed = conn.feed(wire::Bytes(buf, n)); !fed) {
      // Hand the alert to the server, then report.
      const wire::Bytes out = conn.pending_output();
      (void)s.send_all(out, deadline);
      return std::move(fed).error();
    }
  }
  EngineResult result;
  // TLS 1.2 keeps its session (if any) when the handshake ends; only TLS 1.3 tickets follow.
  if (options.wait_for_session && options.sessions &&
      conn.info().version == tls::ProtocolVersion::tls13) {
    while (options.sessions->size() == 0 && conn.state() == tls::State::established) {
      if (conn.wants_write()) {
        const wire::Bytes out = conn.pending_output();
        BW_TRY(s.send_all(out, deadline));
        conn.consume_output(out.size());
      }
      auto n = s.receive(buf, deadline);
      if (!n || *n == 0) break;
      if (!conn.feed(wire::Bytes(buf, *n))) break;
      conn.consume(conn.peek().size());  // application data is not what we wait for
    }
  }
  result.info = conn.info();
  if (!options.http_host.empty()) {
    const std::string request = "GET / HTTP/1.1\r\nHost: " + options.http_host +
                                "\r\nUser-Agent: bulwark-scan\r\nConnection: close\r\n\r\n";
    BW_TRY(conn.send(wire::as_bytes(request)));
    // The head only: bounded, and whatever body follows is left unread.
    constexpr std::size_t max_head = 16 * 1024;
    std::string& head = result.http_head;
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < max_head) {
      if (conn.wants_write()) {
        const wire::Bytes out = conn.pending_output();
        BW_TRY(s.send_all(out, deadline));
        conn.consume_output(out.size());
      }
      const wire::Bytes data = conn.peek();
      if (!data.empty()) {
        const std::size_t take = std::min(data.size(), max_head - head.size());
        head.append(reinterpret_cast<const char*>(data.data()), take);
        conn.consume(data.size());
        continue;
      }
      if (conn.state() != tls::State::established) break;
      auto n = s.receive(buf, deadline);
      if (!n || *n == 0) break;
      if (!conn.feed(wire::Bytes(buf, *n))) break;
    }
    if (const auto end = head.find("\r\n\r\n"); end != std::string::npos) head.resize(end + 4);
  }
  (void)conn.close();
  (void)s.send_all(conn.pending_output(), deadline);
  return result;
}

}  // namespace bulwark::scan
