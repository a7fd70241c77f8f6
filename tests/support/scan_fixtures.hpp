// TEST-ONLY fixtures for the scanner: tiny in-process servers on 127.0.0.1 that answer hellos
// the way old, vulnerable servers did. They are deliberately broken and never belong in the
// product:
//   - LegacyServer{.heartbleed = true}: an OpenSSL 1.0.1f-like TLS 1.0..1.2 server with the
//     heartbeat extension that answers a heartbeat request with as many bytes as it CLAIMS
//     (taken from a fake "memory" buffer of filler, never real memory).
//   - LegacyServer{.sslv2 = true}: an OpenSSL 0.9.6d-like server (the Slapper worm's target)
//     that answers an SSLv2 CLIENT-HELLO with a SERVER-HELLO and speaks SSL 3.0 / TLS 1.0 with
//     RC4, 3DES and EXPORT suites, no extensions.
//   - LegacyServer{.ccs_injection = true}: takes a ChangeCipherSpec before the key exchange
//     (CVE-2014-0224) and then fails the next record's MAC, as vulnerable OpenSSL did.
// Each connection is handled on its own thread; the server stops (and joins) on destruction.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/scan/hello.hpp"
#include "bulwark/wire.hpp"

namespace bulwark::test {

struct LegacyOptions {
  bool heartbleed = false;     // answer over-claimed heartbeats with the claimed length
  bool sslv2 = false;          // 0.9.6d: SSLv2 + SSLv3 + TLS 1.0, old suites, no extensions
  bool ccs_injection = false;  // accept a ChangeCipherSpec before the key exchange
  std::vector<std::uint8_t> certificate_der;
};

class LegacyServer {
 public:
  explicit LegacyServer(LegacyOptions options) : options_(std::move(options)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 16) != 0)
      throw std::runtime_error("fixture: cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  LegacyServer(const LegacyServer&) = delete;
  LegacyServer& operator=(const LegacyServer&) = delete;
  ~LegacyServer() {
    stop_ = true;
    acceptor_.join();
    ::close(listener_);
    std::lock_guard lock(mutex_);
    for (auto& t : workers_)
      t.join();
  }

  std::uint16_t port() const { return port_; }
  int heartbeats_answered() const { return heartbeats_answered_; }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard lock(mutex_);
      workers_.emplace_back([this, fd] {
        serve(fd);
        ::close(fd);
      });
    }
  }

  // Reads exactly n bytes (within 5 s); false at EOF or timeout.
  bool read_exact(int fd, std::uint8_t* out, std::size_t n) {
    while (n > 0) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0 || stop_) return false;
      const ssize_t r = ::recv(fd, out, n, 0);
      if (r <= 0) return false;
      out += r;
      n -= static_cast<std::size_t>(r);
    }
    return true;
  }
  static void send_all(int fd, wire::Bytes b) {
    while (!b.empty()) {
      const ssize_t n = ::send(fd, b.data(), b.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      b = b.subspan(static_cast<std::size_t>(n));
    }
  }
  static void send_alert(int fd, std::uint16_t version, std::uint8_t description) {
    const std::uint8_t body[] = {2, description};
    send_all(fd, scan::plaintext_record(21, version, body));
  }

  struct ClientHelloView {
    std::uint16_t version = 0;
    std::vector<std::uint16_t> suites;
    std::vector<std::uint8_t> compression;
    std::vector<std::uint16_t> extensions;
  };
  static std::optional<ClientHelloView> parse_hello(wire::Bytes msg) {
    wire::Reader r(msg);
    auto type = r.u8();
    auto len = r.u24();
    if (!type || *type != 1 || !len) return std::nullopt;
    ClientHelloView v;
    auto ver = r.u16();
    if (!ver || !r.skip(32)) return std::nullopt;
    v.version = *ver;
    if (!r.prefixed_bytes<1>()) return std::nullopt;
    auto suites = r.prefixed<2>();
    if (!suites) return std::nullopt;
    while (!suites->empty())
      v.suites.push_back(*suites->u16());
    auto comp = r.prefixed_bytes<1>();
    if (!comp) return std::nullopt;
    v.compression.assign(comp->begin(), comp->end());
    if (!r.empty()) {
      auto exts = r.prefixed<2>();
      if (!exts) return std::nullopt;
      while (!exts->empty()) {
        auto t = exts->u16();
        if (!t || !exts->prefixed_bytes<2>()) return std::nullopt;
        v.extensions.push_back(*t);
      }
    }
    return v;
  }

  void serve_sslv2(int fd, std::uint8_t first, std::uint8_t second) {
    const std::size_t len = static_cast<std::size_t>((first & 0x7f) << 8 | second);
    std::vector<std::uint8_t> body(len);
    if (!read_exact(fd, body.data(), len) || body.empty() || body[0] != 1) return;
    // SERVER-HELLO: session_id_hit 0, X.509 certificate (1), version 2, the ciphers of 0.9.6d.
    const std::uint32_t ciphers[] = {0x010080, 0x0700c0, 0x030080, 0x060040, 0x020080, 0x040080};
    wire::Writer m;
    m.u8(4);
    m.u8(0);
    m.u8(1);
    m.u16(0x0002);
    m.u16(static_cast<std::uint16_t>(options_.certificate_der.size()));
    m.u16(static_cast<std::uint16_t>(std::size(ciphers) * 3));
    m.u16(16);
    m.bytes(options_.certificate_der);
    for (std::uint32_t c : ciphers)
      m.u24(c);
    for (int i = 0; i < 16; ++i)
      m.u8(static_cast<std::uint8_t>(i));
    wire::Writer rec;
    rec.u16(static_cast<std::uint16_t>(0x8000 | m.size()));
    rec.bytes(m.data());
    send_all(fd, rec.data());
  }

  void serve(int fd) {
    std::uint8_t header[5];
    if (!read_exact(fd, header, 2)) return;
    if (header[0] & 0x80) {
      if (options_.sslv2) serve_sslv2(fd, header[0], header[1]);
      return;  // a modern server closes on SSLv2
    }
    if (!read_exact(fd, header + 2, 3) || header[0] != 22) return;
    const std::size_t len = static_cast<std::size_t>(header[3] << 8 | header[4]);
    std::vector<std::uint8_t> msg(len);
    if (!read_exact(fd, msg.data(), len)) return;
    auto hello = parse_hello(msg);
    if (!hello) return send_alert(fd, 0x0301, 50);
    // Version negotiation as these servers did it: the client's version, capped at ours.
    const std::uint16_t max_version = options_.sslv2 ? 0x0301 : 0x0303;
    const std::uint16_t min_version = options_.sslv2 ? 0x0300 : 0x0301;
    const std::uint16_t version = std::min(hello->version, max_version);
    if (version < min_version) return send_alert(fd, 0x0301, 70);
    // Both predate RFC 7507: no TLS_FALLBACK_SCSV check.
    const std::vector<std::uint16_t> ours =
        options_.sslv2 ? std::vector<std::uint16_t>{0x0004, 0x000a, 0x0003, 0x0009, 0x0005}
                       : std::vector<std::uint16_t>{0x009c, 0x002f, 0x0035, 0x000a};
    std::uint16_t chosen = 0;
    for (std::uint16_t s : ours)
      if (std::find(hello->suites.begin(), hello->suites.end(), s) != hello->suites.end() &&
          (version == 0x0303 || s != 0x009c)) {
        chosen = s;
        break;
      }
    if (chosen == 0) return send_alert(fd, version, 40);
    auto has_ext = [&](std::uint16_t t) {
      return std::find(hello->extensions.begin(), hello->extensions.end(), t) !=
             hello->extensions.end();
    };
    const bool heartbeat = !options_.sslv2 && has_ext(15);
    wire::Writer hs;
    hs.u8(2);
    {
      auto body = hs.prefixed<3>();
      hs.u16(version);
      for (int i = 0; i < 32; ++i)
        hs.u8(static_cast<std::uint8_t>(0x40 + i));
      hs.prefixed_bytes<1>(std::vector<std::uint8_t>(32, 0x11));
      hs.u16(chosen);
      hs.u8(0);
      if (!options_.sslv2) {
        auto exts = hs.prefixed<2>();
        if (has_ext(0xff01)) {
          hs.u16(0xff01);
          hs.u16(1);
          hs.u8(0);
        }
        if (heartbeat) {
          hs.u16(15);
          hs.u16(1);
          hs.u8(1);
        }
      }
    }
    hs.u8(11);
    {
      auto body = hs.prefixed<3>();
      auto list = hs.prefixed<3>();
      hs.prefixed_bytes<3>(options_.certificate_der);
    }
    hs.u8(14);
    hs.u24(0);
    send_all(fd, scan::plaintext_record(22, version, hs.data()));
    // After ServerHelloDone: answer heartbeats (the whole point) and early ChangeCipherSpecs.
    bool ccs_accepted = false;
    for (;;) {
      if (!read_exact(fd, header, 5)) return;
      const std::size_t n = static_cast<std::size_t>(header[3] << 8 | header[4]);
      std::vector<std::uint8_t> body(n);
      if (!read_exact(fd, body.data(), n)) return;
      if (header[0] == 20) {
        // An early ChangeCipherSpec: the CVE-2014-0224 fix refuses it; the bug took it and
        // then failed the MAC of whatever came next.
        if (!options_.ccs_injection) return send_alert(fd, version, 10);
        ccs_accepted = true;
        continue;
      }
      if (ccs_accepted) return send_alert(fd, version, 20);
      if (header[0] != 24 || !heartbeat || n < 3 || body[0] != 1) continue;
      const std::size_t claimed = static_cast<std::size_t>(body[1] << 8 | body[2]);
      // RFC 6520 §4: a request whose payload_length exceeds the record is silently discarded;
      // the Heartbleed bug skipped exactly this check.
      if (!options_.heartbleed && 3 + claimed + 16 > n) continue;
      std::vector<std::uint8_t> response;
      response.push_back(2);
      response.push_back(static_cast<std::uint8_t>(claimed >> 8));
      response.push_back(static_cast<std::uint8_t>(claimed));
      // The "leak": filler standing in for heap memory past the request.
      for (std::size_t i = 0; i < claimed; ++i)
        response.push_back(i + 3 < n ? body[i + 3] : static_cast<std::uint8_t>('M'));
      response.insert(response.end(), 16, 0);
      ++heartbeats_answered_;
      wire::Writer rec;
      rec.u8(24);
      rec.u16(version);
      rec.u16(static_cast<std::uint16_t>(response.size()));
      rec.bytes(response);
      send_all(fd, rec.data());
    }
  }

  LegacyOptions options_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> heartbeats_answered_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> workers_;
};

}  // namespace bulwark::test
