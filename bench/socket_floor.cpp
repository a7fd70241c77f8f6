// socket_floor: the least server CPU a full TLS 1.3 handshake over loopback TCP can cost on this
// machine, measured beside the real servers by bench/serve_vs_nginx.sh.
//
//   socket_floor server PORT [--no-crypto]    serves until SIGINT / SIGTERM
//   socket_floor client PORT SECONDS          prints "N connections"
//
// The server is no TLS server. It keeps the exchange of `bulwark serve` with `openssl s_time
// -new` as tcpdump shows it (ClientHello 297 bytes in, one write of 1009 bytes out, 64 bytes
// of Finished in, then the client's reset) and the system calls of serve's event loop (epoll,
// accept4, recv, send, close), and between the ClientHello and its one write it makes only
// the public-key work no TLS 1.3 server can skip: an ECDSA P-256 signature of a
// CertificateVerify and an X25519 key generation and derivation, through bulwark's crypto
// layer (section 2 of bench_tls: its faster floor). With --no-crypto it makes none: what the
// transport alone costs. The client stands in for s_time: an X25519 key generation before it
// connects; before its Finished, a derivation with the server's bytes and an ECDSA P-256
// signature check (of its own signature: it does not know the server's key; the cost is the same).
//
// Its client is not s_time, so the floor is an estimate beside the s_time figures, not a ratio
// from the same client; the script says so where it prints it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bulwark/crypto/key_share.hpp"
#include "bulwark/crypto/keys.hpp"
#include "bulwark/crypto/random.hpp"
#include "bulwark/crypto/signature.hpp"
#include "certificate_verify.hpp"
#include "support/pki.hpp"

namespace {

using namespace bulwark;

constexpr std::size_t kClientHello = 297;
constexpr std::size_t kFlight = 1009;
constexpr std::size_t kFinished = 64;
constexpr auto kScheme = crypto::SignatureScheme::ecdsa_secp256r1_sha256;

volatile std::sig_atomic_t stopping = 0;

using test::must;  // throws; main reports it

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what);
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// The server's per-handshake public-key work; its outputs go into the flight, so that none of
// it can be optimised away and the client has a signature to check.
class Work {
 public:
  explicit Work(bool crypto) : crypto_(crypto) {
    if (crypto_) key_.emplace(test::make_key());
  }
  // Fills the flight from the ClientHello's first 32 bytes (the client's X25519 value).
  void flight(std::span<const std::uint8_t> hello, std::array<std::uint8_t, kFlight>& out) {
    out.fill(0x17);
    if (!crypto_) return;
    auto& rng = crypto::SystemRandom::instance();
    auto share = must(crypto::KeyShare::generate(crypto::Group::x25519, rng), "key share");
    auto secret = must(share.derive(hello.first(32)), "derive");
    auto signature = must(crypto::sign(*key_, kScheme, content_), "sign");
    std::memcpy(out.data(), share.public_value().data(), 32);
    out[32] = static_cast<std::uint8_t>(signature.size());
    std::memcpy(out.data() + 33, signature.data(), signature.size());
    out[kFlight - 1] = secret.span()[0];
  }

 private:
  bool crypto_;
  std::optional<crypto::PrivateKey> key_;
  std::vector<std::uint8_t> content_ = bench::certificate_verify_content();
};

int serve(int port, bool crypto) {
  Work work(crypto);
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(listener, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const sockaddr_in at = loopback(port);
  if (listener < 0 || ::bind(listener, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0 ||
      ::listen(listener, 1024) != 0) {
    fail("cannot listen on port " + std::to_string(port) + ": " + std::strerror(errno));
  }
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event lev{};
  lev.events = EPOLLIN;
  lev.data.fd = listener;
  if (ep < 0 || ::epoll_ctl(ep, EPOLL_CTL_ADD, listener, &lev) != 0) fail("epoll");
  std::signal(SIGINT, [](int) { stopping = 1; });
  std::signal(SIGTERM, [](int) { stopping = 1; });

  std::unordered_map<int, bool> answered;  // per connection: has its flight gone out
  std::array<std::uint8_t, 65536> in{};
  std::array<std::uint8_t, kFlight> out{};
  const auto drop = [&](int fd) {
    answered.erase(fd);
    ::close(fd);
  };
  // Reads what `fd` has; answers a first ClientHello; closes at the client's end. After a short
  // read it waits for the next event, unless this one also reported the end (edge-triggered:
  // no later event would), as serve's TlsStream does.
  const auto readable = [&](int fd, bool ended) {
    for (;;) {
      const ssize_t n = ::recv(fd, in.data(), in.size(), MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      if (n <= 0) return drop(fd);
      bool& sent = answered[fd];
      if (!sent && static_cast<std::size_t>(n) >= 32) {
        work.flight(std::span(in.data(), static_cast<std::size_t>(n)), out);
        if (::send(fd, out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL) !=
            static_cast<ssize_t>(out.size())) {
          return drop(fd);
        }
        sent = true;
      }
      if (static_cast<std::size_t>(n) < in.size() && !ended) return;
    }
  };
  std::fprintf(stderr, "socket_floor: listening on 127.0.0.1:%d%s\n", port,
               crypto ? "" : " (no crypto)");
  while (stopping == 0) {
    std::array<epoll_event, 64> events;
    const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 200);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd != listener) {
        readable(events[i].data.fd, (events[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
        continue;
      }
      for (;;) {
        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        epoll_event cev{};
        cev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
        cev.data.fd = fd;
        if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) != 0) {
          ::close(fd);
          continue;
        }
        answered[fd] = false;
        readable(fd, false);  // the ClientHello is usually there already, as serve finds it
      }
    }
  }
  for (const auto& [fd, sent] : answered)
    ::close(fd);
  ::close(ep);
  ::close(listener);
  return 0;
}

// Reads exactly `len` bytes; false at an early end or error.
bool read_exactly(int fd, std::uint8_t* to, std::size_t len) {
  for (std::size_t got = 0; got < len;) {
    const ssize_t n = ::recv(fd, to + got, len - got, 0);
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

int client(int port, double seconds) {
  // The signature checked after each flight: the client's own, of the content the server signs.
  const crypto::PrivateKey key = test::make_key();
  const crypto::PublicKey public_key = key.public_key();
  const std::vector<std::uint8_t> content = bench::certificate_verify_content();
  const std::vector<std::uint8_t> reference = must(crypto::sign(key, kScheme, content), "sign");
  auto& rng = crypto::SystemRandom::instance();
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  const sockaddr_in at = loopback(port);
  long connections = 0;
  std::array<std::uint8_t, kClientHello> hello{};
  std::array<std::uint8_t, kFlight> flight{};
  const std::array<std::uint8_t, kFinished> finished{};
  while (std::chrono::steady_clock::now() < end) {
    auto share = must(crypto::KeyShare::generate(crypto::Group::x25519, rng), "key share");
    std::memcpy(hello.data(), share.public_value().data(), 32);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0) {
      fail("cannot connect to port " + std::to_string(port) + ": " + std::strerror(errno));
    }
    if (::send(fd, hello.data(), hello.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(kClientHello) ||
        !read_exactly(fd, flight.data(), flight.size())) {
      fail("the server broke off a connection");
    }
    // With --no-crypto the flight holds no key share; the client's work stays the same.
    const auto secret = share.derive(std::span(flight.data(), 32));
    must(crypto::verify(public_key, kScheme, content, reference), "signature check");
    (void)secret;
    ::send(fd, finished.data(), finished.size(), MSG_NOSIGNAL);
    // s_time closes without reading what is left (the server's tickets): a reset.
    const linger reset{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    ::close(fd);
    ++connections;
  }
  std::printf("%ld connections\n", connections);
  return 0;
}

void usage() {
  std::fprintf(stderr,
               "usage: socket_floor server PORT [--no-crypto]\n"
               "       socket_floor client PORT SECONDS\n");
}

int run(int argc, char** argv) {
  const std::string_view role = argc > 1 ? argv[1] : "";
  const int port = argc > 2 ? std::atoi(argv[2]) : 0;
  if (port <= 0 || port > 65535) {
    usage();
    return 2;
  }
  if (role == "server" &&
      (argc == 3 || (argc == 4 && std::string_view(argv[3]) == "--no-crypto"))) {
    return serve(port, argc == 3);
  }
  if (role == "client" && argc == 4) {
    const double seconds = std::atof(argv[3]);
    if (seconds > 0 && seconds <= 3600) return client(port, seconds);
  }
  usage();
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "socket_floor: %s\n", e.what());
    return 1;
  }
}
