// bench_tls: bulwark's TLS engine (1.3 and 1.2) against OpenSSL's libssl, side by side in one
// process, on one thread, with the same certificates, keys, version, suite and group (see
// bench/README.md).
//
//   1. full handshakes per CPU-second, server side and client side apart (ECDSA P-256 and
//      RSA-2048 certificates, x25519, TLS_AES_128_GCM_SHA256, no tickets), with the client
//      verifying the chain and host name, and with verification skipped;
//   2. the crypto floor of a server handshake (one signature, one X25519 keygen + derive);
//   3. resumed handshakes (psk_dhe_ke, one single-use ticket per connection);
//   4. bulk client->server throughput at 16 KiB and 1 KiB writes for the three suites, with
//      the raw EVP AEAD speed as the ceiling;
//   5. heap per established idle connection;
//   6. TLS 1.2 full handshakes (ECDHE-ECDSA / ECDHE-RSA with AES-128-GCM, x25519, extended
//      master secret, client verifying; no tickets, no session cache);
//   7. TLS 1.2 resumed handshakes, by session id and by RFC 5077 ticket;
//   8. TLS 1.2 bulk throughput (AES-128-GCM, ChaCha20-Poly1305) against the raw AEAD;
//   9. the full handshakes of 1 (ECDSA, verifying) again, with the thread asleep for a moment
//      before each one, as a server over sockets sleeps until its next client writes: the CPU
//      time a sleep and wake-up adds to each handshake, on each side.
//
// Each side's CPU time is the thread CPU clock summed around that side's own calls only.
// Work is split in rounds that alternate bulwark and libssl, so drifts in machine speed hit
// both alike. libssl is the anchor here and only here: the library never links it.
#include <malloc.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <time.h>
#include <valgrind/callgrind.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "bulwark/crypto/key_share.hpp"
#include "bulwark/crypto/random.hpp"
#include "bulwark/crypto/signature.hpp"
#include "bulwark/tls/connection.hpp"
#include "bulwark/tls/session.hpp"
#include "certificate_verify.hpp"
#include "support/pki.hpp"

// Under AddressSanitizer the heap is ASan's, and glibc's mallinfo2() does not see it.
#if defined(__SANITIZE_ADDRESS__)
#define BENCH_TLS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BENCH_TLS_ASAN 1
#endif
#endif
#ifdef BENCH_TLS_ASAN
// From the sanitizer runtime's allocator interface (GCC ships no header for it).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
constexpr const char* kHeapCounter = "ASan allocator";
#else
constexpr const char* kHeapCounter = "glibc mallinfo2";
#endif

namespace {

using namespace bulwark;
using test::must;

constexpr const char* kHost = "leaf.example.com";

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what);
}

// ---- options -------------------------------------------------------------------------------

struct Options {
  int handshakes = 2500;                    // per implementation, per full-handshake series
  int resumptions = 5000;                   // per implementation (TLS 1.2: 4x, see run())
  std::size_t bulk_bytes_16k = 384u << 20;  // application bytes per implementation, 16 KiB writes
  std::size_t bulk_bytes_1k = 72u << 20;    // and 1 KiB writes
  int connections = 1000;                   // idle connections held for the memory figure
  int rounds = 4;                           // bulwark / libssl alternations per figure
  // --instructions WHAT WHO: one measured case only, for bench/callgrind.sh (see there).
  std::string instructions_what;  // full, resumed, bulk (16 KiB writes) or bulk1k (1 KiB)
  std::string instructions_who;   // bulwark, libssl, or raw (the AEAD ceiling; bulk only)
};

Options quick_options() {
  Options o;
  o.handshakes = 60;
  o.resumptions = 100;
  o.bulk_bytes_16k = 4u << 20;
  o.bulk_bytes_1k = 1u << 20;
  o.connections = 100;
  o.rounds = 2;
  return o;
}

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: bench_tls [--quick] [--handshakes N] [--resumptions N] [--bulk-mib N]\n"
               "                 [--connections N]\n"
               "  --quick          a smoke run (a few seconds): every figure, low precision\n"
               "  --handshakes N   full handshakes per implementation and series (2500)\n"
               "  --resumptions N  resumed handshakes per implementation (5000); 4 N in\n"
               "                   each TLS 1.2 series\n"
               "  --bulk-mib N     MiB sent per implementation at 16 KiB writes (384);\n"
               "                   3/16 of it at 1 KiB writes\n"
               "  --connections N  idle connections held for the memory figure (1000)\n"
               "  --instructions full|resumed|bulk|bulk1k bulwark|libssl|raw\n"
               "                   run one case under callgrind (bench/callgrind.sh): only\n"
               "                   its counted work is collected; --handshakes N handshakes\n"
               "                   (server side) or --bulk-mib N MiB at 16 KiB (bulk) or\n"
               "                   1 KiB (bulk1k) writes; raw: the AEAD ceiling (bulk only)\n");
}

Options parse_options(int argc, char** argv) {
  Options o;
  auto count = [&](int& i) -> long {
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench_tls: %s needs a number (see --help)\n", argv[i]);
      std::exit(2);
    }
    char* end = nullptr;
    const long v = std::strtol(argv[++i], &end, 10);
    if (end == argv[i] || *end != '\0' || v <= 0 || v > 10'000'000) {
      std::fprintf(stderr, "bench_tls: %s wants a positive number, not '%s'\n", argv[i - 1],
                   argv[i]);
      std::exit(2);
    }
    return v;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      o = quick_options();
    } else if (arg == "--handshakes") {
      o.handshakes = static_cast<int>(count(i));
    } else if (arg == "--resumptions") {
      o.resumptions = static_cast<int>(count(i));
    } else if (arg == "--bulk-mib") {
      o.bulk_bytes_16k = static_cast<std::size_t>(count(i)) << 20;
      o.bulk_bytes_1k = o.bulk_bytes_16k * 3 / 16;
    } else if (arg == "--connections") {
      o.connections = static_cast<int>(count(i));
    } else if (arg == "--instructions") {
      if (i + 2 >= argc) {
        std::fprintf(stderr, "bench_tls: --instructions needs WHAT and WHO (see --help)\n");
        std::exit(2);
      }
      o.instructions_what = argv[++i];
      o.instructions_who = argv[++i];
      const std::string& what = o.instructions_what;
      const std::string& who = o.instructions_who;
      const bool bulk = what == "bulk" || what == "bulk1k";
      const bool what_ok = bulk || what == "full" || what == "resumed";
      const bool who_ok = who == "bulwark" || who == "libssl" || (bulk && who == "raw");
      if (!what_ok || !who_ok) {
        std::fprintf(stderr,
                     "bench_tls: --instructions full|resumed|bulk|bulk1k bulwark|libssl, or "
                     "bulk|bulk1k raw\n");
        std::exit(2);
      }
    } else if (arg == "--help" || arg == "-h") {
      usage(stdout);
      std::exit(0);
    } else {
      std::fprintf(stderr, "bench_tls: unknown option '%s' (see --help)\n", argv[i]);
      std::exit(2);
    }
  }
  return o;
}

// ---- measuring -----------------------------------------------------------------------------

std::int64_t cpu_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Under --instructions, callgrind collects only inside charges to this account (it runs with
// --collect-atstart=no; outside valgrind the toggle is a no-op of a few instructions).
const std::int64_t* collected_account = nullptr;

// Collects callgrind's counts while alive, if `account` is the collected one.
class Collect {
 public:
  explicit Collect(const std::int64_t& account) : on_(&account == collected_account) {
    if (on_) CALLGRIND_TOGGLE_COLLECT;
  }
  ~Collect() {
    if (on_) CALLGRIND_TOGGLE_COLLECT;
  }
  Collect(const Collect&) = delete;
  Collect& operator=(const Collect&) = delete;

 private:
  bool on_;
};

// Runs f() and adds the thread CPU time it took to `account`.
template <class F>
decltype(auto) charge(std::int64_t& account, F&& f) {
  const Collect collect(account);
  const std::int64_t start = cpu_now_ns();
  if constexpr (std::is_void_v<std::invoke_result_t<F>>) {
    f();
    account += cpu_now_ns() - start;
  } else {
    auto result = f();
    account += cpu_now_ns() - start;
    return result;
  }
}

// Every figure printed is also recorded, so that the run can prove it produced all of them.
class Figures {
 public:
  double add(double value) {
    ++count_;
    if (!std::isfinite(value) || value <= 0) ++bad_;
    return value;
  }
  int count() const { return count_; }
  int bad() const { return bad_; }

 private:
  int count_ = 0;
  int bad_ = 0;
};
Figures figures;

double per_second(std::int64_t count, std::int64_t ns) {
  return ns > 0 ? static_cast<double>(count) * 1e9 / static_cast<double>(ns) : 0.0;
}

double mb_per_second(std::size_t bytes, std::int64_t ns) {
  return ns > 0 ? static_cast<double>(bytes) * 1e3 / static_cast<double>(ns) : 0.0;
}

// Bytes the allocator has handed out and not had back (arenas and mmapped chunks).
std::size_t heap_in_use() {
#ifdef BENCH_TLS_ASAN
  return __sanitizer_get_current_allocated_bytes();
#else
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
#endif
}

// ---- what the two implementations are configured with -------------------------------------

// A suite fixes the protocol version too: each series runs one version only, on both sides.
struct Suite {
  tls::CipherSuite bulwark;
  const char* openssl;  // libssl's name for it (SSL_CIPHER_get_name)
  const char* evp;      // the AEAD, as EVP_CIPHER_fetch names it
  std::size_t key_length;
  tls::ProtocolVersion version;
};

constexpr std::array<Suite, 3> kSuites = {{
    {tls::CipherSuite::tls_aes_128_gcm_sha256, "TLS_AES_128_GCM_SHA256", "AES-128-GCM", 16,
     tls::ProtocolVersion::tls13},
    {tls::CipherSuite::tls_aes_256_gcm_sha384, "TLS_AES_256_GCM_SHA384", "AES-256-GCM", 32,
     tls::ProtocolVersion::tls13},
    {tls::CipherSuite::tls_chacha20_poly1305_sha256, "TLS_CHACHA20_POLY1305_SHA256",
     "ChaCha20-Poly1305", 32, tls::ProtocolVersion::tls13},
}};

constexpr Suite kEcdsaAes128Gcm12{tls::CipherSuite::tls_ecdhe_ecdsa_with_aes_128_gcm_sha256,
                                  "ECDHE-ECDSA-AES128-GCM-SHA256", "AES-128-GCM", 16,
                                  tls::ProtocolVersion::tls12};
constexpr Suite kRsaAes128Gcm12{tls::CipherSuite::tls_ecdhe_rsa_with_aes_128_gcm_sha256,
                                "ECDHE-RSA-AES128-GCM-SHA256", "AES-128-GCM", 16,
                                tls::ProtocolVersion::tls12};
constexpr Suite kEcdsaChacha12{tls::CipherSuite::tls_ecdhe_ecdsa_with_chacha20_poly1305_sha256,
                               "ECDHE-ECDSA-CHACHA20-POLY1305", "ChaCha20-Poly1305", 32,
                               tls::ProtocolVersion::tls12};

bool is_tls12(const Suite& suite) {
  return suite.version == tls::ProtocolVersion::tls12;
}

struct Scenario {
  const test::Pki* pki;
  const Suite* suite = &kSuites[0];
  bool verify = true;  // the client checks the chain and the host name
  // The server issues tickets (TLS 1.3: one per handshake; TLS 1.2: RFC 5077); the client
  // keeps them.
  bool tickets = false;
  // TLS 1.2 only: the server keeps a session-id cache, the client keeps the session.
  bool session_ids = false;
  bool release_buffers = false;  // libssl: SSL_MODE_RELEASE_BUFFERS on the server
};

// A P-256 or RSA-2048 chain: root -> intermediate -> leaf for kHost, all of one key type, as
// a public CA's chain is. The server sends leaf + intermediate; the client trusts the root.
test::Pki make_chain(crypto::KeyType type) {
  test::PkiOptions options;
  options.root_key = type;
  options.with_intermediate = true;
  options.intermediate_key = type;
  options.leaf.key_type = type;
  return test::make_pki(options);
}

// ---- bulwark -------------------------------------------------------------------------------

struct BulwarkEndpoints {
  std::shared_ptr<tls::ClientConfig> client;
  std::shared_ptr<tls::ServerConfig> server;
};

BulwarkEndpoints bulwark_endpoints(const Scenario& sc) {
  BulwarkEndpoints ep;
  ep.client = std::make_shared<tls::ClientConfig>();
  ep.client->cipher_suites = {sc.suite->bulwark};
  ep.client->groups = {tls::NamedGroup::x25519};
  ep.client->trust = sc.pki->trust_store();
  ep.client->insecure_skip_verification = !sc.verify;
  ep.server = std::make_shared<tls::ServerConfig>();
  ep.server->cipher_suites = {sc.suite->bulwark};
  ep.server->groups = {tls::NamedGroup::x25519};
  ep.server->certificates.push_back(tls::CertifiedKey{sc.pki->chain(), sc.pki->leaf.key});
  // One version only, as libssl is set up: the client offers nothing of the other one.
  for (tls::Config* side :
       {static_cast<tls::Config*>(ep.client.get()), static_cast<tls::Config*>(ep.server.get())}) {
    side->min_version = sc.suite->version;
    side->max_version = sc.suite->version;
    if (is_tls12(*sc.suite)) side->groups = {tls::NamedGroup::x25519, tls::NamedGroup::secp256r1};
  }
  if (sc.tickets || sc.session_ids) ep.client->sessions = std::make_shared<tls::SessionCache>();
  if (sc.tickets) {
    ep.server->tickets = must(tls::TicketKeys::create(), "ticket keys");
    ep.server->tickets_per_handshake = 1;
  }
  if (sc.session_ids) ep.server->session_cache = std::make_shared<tls::ServerSessionCache>();
  return ep;
}

struct Cost {
  std::int64_t client_ns = 0;
  std::int64_t server_ns = 0;
  std::int64_t handshakes = 0;
};

struct BulwarkPair {
  std::optional<tls::Connection> client;
  std::optional<tls::Connection> server;
};

std::string why(const BulwarkPair& p) {
  std::string s;
  if (const auto* f = p.client->failure()) s += " client: " + f->error.message();
  if (const auto* f = p.server->failure()) s += " server: " + f->error.message();
  return s;
}

// Hands `from`'s pending output to `to`, charging `to`'s processing to `to_ns`. False when
// `from` had nothing to say.
bool deliver(tls::Connection& from, tls::Connection& to, std::int64_t& to_ns) {
  const wire::Bytes out = from.pending_output();
  if (out.empty()) return false;
  const Status fed = charge(to_ns, [&] { return to.feed(out); });
  from.consume_output(out.size());
  if (!fed) fail("bulwark feed: " + fed.error().message());
  return true;
}

// One handshake between fresh connections (ticket, if any, delivered to the client). Each
// side's creation and processing are charged to it.
BulwarkPair bulwark_connect(const BulwarkEndpoints& ep, Cost& cost, bool expect_resumed) {
  BulwarkPair p;
  charge(cost.client_ns,
         [&] { p.client.emplace(must(tls::Connection::client(ep.client, kHost), "client")); });
  charge(cost.server_ns,
         [&] { p.server.emplace(must(tls::Connection::server(ep.server), "server")); });
  for (int flight = 0; flight < 8; ++flight) {
    const bool to_server = deliver(*p.client, *p.server, cost.server_ns);
    const bool to_client = deliver(*p.server, *p.client, cost.client_ns);
    if (!to_server && !to_client) break;
  }
  if (!p.client->handshake_done() || !p.server->handshake_done()) {
    fail("bulwark handshake did not complete:" + why(p));
  }
  if (p.client->info().resumed != expect_resumed || p.server->info().resumed != expect_resumed) {
    fail(expect_resumed ? "bulwark did not resume" : "bulwark resumed unexpectedly");
  }
  ++cost.handshakes;
  return p;
}

void bulwark_handshake(const BulwarkEndpoints& ep, Cost& cost, bool expect_resumed) {
  BulwarkPair p = bulwark_connect(ep, cost, expect_resumed);
  charge(cost.client_ns, [&] { p.client.reset(); });
  charge(cost.server_ns, [&] { p.server.reset(); });
}

// ---- libssl --------------------------------------------------------------------------------

template <auto Fn>
struct Free {
  template <class T>
  void operator()(T* p) const noexcept {
    Fn(p);
  }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, Free<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Free<SSL_free>>;
using SslSessionPtr = std::unique_ptr<SSL_SESSION, Free<SSL_SESSION_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO_free_all>>;
using CipherPtr = std::unique_ptr<EVP_CIPHER, Free<EVP_CIPHER_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Free<EVP_CIPHER_CTX_free>>;

std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += out.empty() ? " (" : "; ";
    out += buf;
  }
  return out.empty() ? out : out + ")";
}

void must_ssl(bool ok, const char* what) {
  if (!ok) fail(std::string("libssl: ") + what + openssl_errors());
}

// libssl gets its own copies (by DER and PEM), so that nothing parsed by one side is shared.
X509Ptr x509_copy(const crypto::Certificate& cert) {
  const auto der = cert.der();
  const unsigned char* p = der.data();
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  must_ssl(x != nullptr, "d2i_X509");
  return x;
}

PkeyPtr key_copy(const crypto::PrivateKey& key) {
  const std::string pem = must(key.to_pem(), "key to PEM");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  must_ssl(bio != nullptr, "BIO_new_mem_buf");
  PkeyPtr k(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  must_ssl(k != nullptr, "PEM_read_bio_PrivateKey");
  return k;
}

struct LibsslEndpoints {
  SslCtxPtr client;
  SslCtxPtr server;
  bool verify = true;
  bool tls12 = false;
};

void restrict_to(SSL_CTX* ctx, const Suite& suite) {
  const int version = is_tls12(suite) ? TLS1_2_VERSION : TLS1_3_VERSION;
  must_ssl(SSL_CTX_set_min_proto_version(ctx, version) == 1, "min version");
  must_ssl(SSL_CTX_set_max_proto_version(ctx, version) == 1, "max version");
  if (is_tls12(suite)) {
    must_ssl(SSL_CTX_set_cipher_list(ctx, suite.openssl) == 1, "SSL_CTX_set_cipher_list");
  } else {
    must_ssl(SSL_CTX_set_ciphersuites(ctx, suite.openssl) == 1, "SSL_CTX_set_ciphersuites");
  }
  // In TLS 1.2 the client's groups also name the curves of the ECDSA keys it accepts, and a
  // server must respect them (RFC 8422 §4): P-256 is listed after x25519, which is the one
  // negotiated (checked).
  must_ssl(SSL_CTX_set1_groups_list(ctx, is_tls12(suite) ? "X25519:P-256" : "X25519") == 1,
           "SSL_CTX_set1_groups_list");
  // Stateless tickets only, as bulwark: no server-side or internal client session cache
  // (the TLS 1.2 session-id series turns the server's on again).
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
}

LibsslEndpoints libssl_endpoints(const Scenario& sc) {
  LibsslEndpoints ep;
  ep.verify = sc.verify;
  ep.tls12 = is_tls12(*sc.suite);
  ep.server.reset(SSL_CTX_new(TLS_server_method()));
  must_ssl(ep.server != nullptr, "SSL_CTX_new (server)");
  SSL_CTX* s = ep.server.get();
  restrict_to(s, *sc.suite);
  if (ep.tls12) {
    // RFC 5077 tickets are on by default in a TLS 1.2 server; num_tickets is TLS 1.3's knob.
    if (!sc.tickets) SSL_CTX_set_options(s, SSL_OP_NO_TICKET);
    // libssl's default server cache: 20480 sessions (bulwark's ServerSessionCache: 20000).
    if (sc.session_ids) SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_SERVER);
  }
  const X509Ptr leaf = x509_copy(sc.pki->leaf.cert);
  must_ssl(SSL_CTX_use_certificate(s, leaf.get()) == 1, "SSL_CTX_use_certificate");
  for (const crypto::Certificate& c : sc.pki->intermediates()) {
    const X509Ptr extra = x509_copy(c);
    must_ssl(SSL_CTX_add1_chain_cert(s, extra.get()) == 1, "SSL_CTX_add1_chain_cert");
  }
  const PkeyPtr key = key_copy(sc.pki->leaf.key);
  must_ssl(SSL_CTX_use_PrivateKey(s, key.get()) == 1, "SSL_CTX_use_PrivateKey");
  must_ssl(SSL_CTX_check_private_key(s) == 1, "SSL_CTX_check_private_key");
  must_ssl(SSL_CTX_set_num_tickets(s, sc.tickets ? 1 : 0) == 1, "SSL_CTX_set_num_tickets");
  if (sc.release_buffers) SSL_CTX_set_mode(s, SSL_MODE_RELEASE_BUFFERS);

  ep.client.reset(SSL_CTX_new(TLS_client_method()));
  must_ssl(ep.client != nullptr, "SSL_CTX_new (client)");
  SSL_CTX* c = ep.client.get();
  restrict_to(c, *sc.suite);
  if (!sc.tickets) SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
  // With SSL_VERIFY_NONE libssl still builds and checks the chain; it ignores the outcome.
  SSL_CTX_set_verify(c, sc.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  const X509Ptr root = x509_copy(sc.pki->root.cert);
  must_ssl(X509_STORE_add_cert(SSL_CTX_get_cert_store(c), root.get()) == 1, "add root");
  return ep;
}

struct LibsslPair {
  SslPtr client;
  SslPtr server;
};

// Large enough for a whole flight and for a 16 KiB record with its overhead.
constexpr std::size_t kBioPairBuffer = 64 * 1024;

// One SSL_do_handshake step; true once this side is done.
bool handshake_step(SSL* ssl, std::int64_t& ns) {
  const int r = charge(ns, [&] { return SSL_do_handshake(ssl); });
  if (r == 1) return true;
  const int e = SSL_get_error(ssl, r);
  if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
    must_ssl(false, "SSL_do_handshake");
  }
  return false;
}

// One handshake over a BIO pair. With `resume`, offers that session; when `next_session` is
// given, reads the ticket that follows the handshake and keeps the session it makes.
LibsslPair libssl_connect(const LibsslEndpoints& ep, Cost& cost, SSL_SESSION* resume,
                          SslSessionPtr* next_session) {
  LibsslPair p;
  charge(cost.client_ns, [&] {
    p.client.reset(SSL_new(ep.client.get()));
    must_ssl(p.client != nullptr, "SSL_new (client)");
    SSL_set_connect_state(p.client.get());
    must_ssl(SSL_set_tlsext_host_name(p.client.get(), kHost) == 1, "SNI");
    if (ep.verify) must_ssl(SSL_set1_host(p.client.get(), kHost) == 1, "SSL_set1_host");
    if (resume != nullptr) must_ssl(SSL_set_session(p.client.get(), resume) == 1, "set session");
  });
  charge(cost.server_ns, [&] {
    p.server.reset(SSL_new(ep.server.get()));
    must_ssl(p.server != nullptr, "SSL_new (server)");
    SSL_set_accept_state(p.server.get());
  });
  // The transport: not charged to either side.
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  must_ssl(BIO_new_bio_pair(&client_bio, kBioPairBuffer, &server_bio, kBioPairBuffer) == 1,
           "BIO_new_bio_pair");
  SSL_set_bio(p.client.get(), client_bio, client_bio);
  SSL_set_bio(p.server.get(), server_bio, server_bio);

  bool client_done = false;
  bool server_done = false;
  for (int flight = 0; flight < 8 && !(client_done && server_done); ++flight) {
    if (!client_done) client_done = handshake_step(p.client.get(), cost.client_ns);
    if (!server_done) server_done = handshake_step(p.server.get(), cost.server_ns);
  }
  if (!client_done || !server_done) fail("libssl handshake did not complete");
  if (ep.verify && SSL_get_verify_result(p.client.get()) != X509_V_OK) {
    fail("libssl client did not verify the server");
  }
  if ((SSL_session_reused(p.client.get()) == 1) != (resume != nullptr) ||
      (SSL_session_reused(p.server.get()) == 1) != (resume != nullptr)) {
    fail(resume != nullptr ? "libssl did not resume" : "libssl resumed unexpectedly");
  }
  if (next_session != nullptr) {
    charge(cost.client_ns, [&] {
      if (!ep.tls12) {
        // A TLS 1.3 ticket arrives after the handshake; a read processes it (and finds no
        // data). A TLS 1.2 one (or session id) is part of the handshake.
        unsigned char byte = 0;
        const int r = SSL_read(p.client.get(), &byte, 1);
        must_ssl(r <= 0 && SSL_get_error(p.client.get(), r) == SSL_ERROR_WANT_READ, "read ticket");
      }
      next_session->reset(SSL_get1_session(p.client.get()));
    });
    if (!*next_session || SSL_SESSION_is_resumable(next_session->get()) != 1) {
      fail("libssl client got no resumable session");
    }
  }
  ++cost.handshakes;
  return p;
}

void libssl_handshake(const LibsslEndpoints& ep, Cost& cost, SSL_SESSION* resume,
                      SslSessionPtr* next_session) {
  LibsslPair p = libssl_connect(ep, cost, resume, next_session);
  // Freed as after a clean close: SSL_free of a connection that was not shut down marks its
  // session not resumable (bulwark keeps a ticket whatever the ending, so neither sends
  // close_notify here).
  charge(cost.client_ns, [&] {
    SSL_set_shutdown(p.client.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    p.client.reset();
  });
  charge(cost.server_ns, [&] {
    SSL_set_shutdown(p.server.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    p.server.reset();
  });
}

// ---- printing ------------------------------------------------------------------------------

void heading(const char* text) {
  std::printf("\n%s\n", text);
}

void print_rates(const char* who, const Cost& cost) {
  std::printf("  %-34s %12.1f %12.1f\n", who,
              figures.add(per_second(cost.handshakes, cost.server_ns)),
              figures.add(per_second(cost.handshakes, cost.client_ns)));
}

void print_ratio(const Cost& ours, const Cost& anchor) {
  const double server =
      per_second(ours.handshakes, ours.server_ns) / per_second(anchor.handshakes, anchor.server_ns);
  const double client =
      per_second(ours.handshakes, ours.client_ns) / per_second(anchor.handshakes, anchor.client_ns);
  std::printf("  %-34s %11.2fx %11.2fx\n", "bulwark/libssl", figures.add(server),
              figures.add(client));
}

// ---- 1. full handshakes --------------------------------------------------------------------

struct HandshakeFigures {
  Cost bulwark;
  Cost libssl;
};

// The version, suite, group, signature scheme and verification the series claims, and for
// TLS 1.2 the extended master secret (RFC 7627), on both sides of both implementations.
void check_negotiated(const BulwarkEndpoints& bw, const LibsslEndpoints& ls, const Suite& suite,
                      tls::SignatureScheme scheme, int libssl_sig_type) {
  Cost scratch;
  BulwarkPair b = bulwark_connect(bw, scratch, false);
  for (const tls::Connection* side : {&*b.client, &*b.server}) {
    if (side->info().version != suite.version || side->info().cipher_suite != suite.bulwark ||
        (is_tls12(suite) && !side->info().extended_master_secret)) {
      fail("bulwark negotiated something other than the scenario");
    }
  }
  if (b.client->info().group != tls::NamedGroup::x25519 ||
      b.client->info().peer_signature_scheme != scheme ||
      b.client->info().peer_verified == bw.client->insecure_skip_verification) {
    fail("bulwark negotiated something other than the scenario");
  }
  LibsslPair l = libssl_connect(ls, scratch, nullptr, nullptr);
  for (SSL* side : {l.client.get(), l.server.get()}) {
    if (SSL_version(side) != (is_tls12(suite) ? TLS1_2_VERSION : TLS1_3_VERSION) ||
        std::string_view(SSL_CIPHER_get_name(SSL_get_current_cipher(side))) != suite.openssl ||
        SSL_get_negotiated_group(side) != NID_X25519 ||
        (is_tls12(suite) && SSL_get_extms_support(side) != 1)) {
      fail("libssl negotiated something other than the scenario");
    }
  }
  int sig_type = 0;
  must_ssl(SSL_get_peer_signature_type_nid(l.client.get(), &sig_type) == 1, "signature type");
  if (sig_type != libssl_sig_type) fail("libssl negotiated another signature scheme");
}

// Runs each series per_round times per round; the series take turns, and their order turns
// around from one round to the next, so that none always runs on a warmer cache.
template <class... Series>
void alternate(const Options& o, int total, Series&... series) {
  const int per_round = std::max(1, total / o.rounds);
  std::array<std::function<void()>, sizeof...(Series)> runs{std::function<void()>(series)...};
  for (int round = 0; round < o.rounds; ++round) {
    for (std::size_t turn = 0; turn < runs.size(); ++turn) {
      const std::size_t which = round % 2 == 0 ? turn : runs.size() - 1 - turn;
      for (int i = 0; i < per_round; ++i)
        runs[which]();
    }
  }
}

// ---- 2. crypto floor -----------------------------------------------------------------------

using bench::certificate_verify_content;

// The floors: the public-key work a server cannot avoid per full handshake, done once by
// once() and charged to `cost` (server_ns, handshakes): one CertificateVerify signature and
// one X25519 key generation + derivation. Measured in the rounds of section 1's handshakes
// (full_handshakes), so that a drift in machine speed moves the floor and the handshakes alike.

// Through bulwark's crypto layer (crypto::sign, KeyShare::generate + derive).
class BulwarkFloor {
 public:
  BulwarkFloor(const crypto::PrivateKey& key, crypto::SignatureScheme scheme)
      : key_(key),
        scheme_(scheme),
        peer_(must(
            crypto::KeyShare::generate(crypto::Group::x25519, crypto::SystemRandom::instance()),
            "peer share")) {}
  void once(Cost& cost) {
    charge(cost.server_ns, [&] {
      auto signature = must(crypto::sign(key_, scheme_, content_), "sign");
      auto mine =
          must(crypto::KeyShare::generate(crypto::Group::x25519, crypto::SystemRandom::instance()),
               "key share");
      auto secret = must(mine.derive(peer_.public_value()), "derive");
      if (signature.empty() || secret.span().empty()) fail("empty floor output");
    });
    ++cost.handshakes;
  }

 private:
  const crypto::PrivateKey& key_;
  crypto::SignatureScheme scheme_;
  std::vector<std::uint8_t> content_ = certificate_verify_content();
  crypto::KeyShare peer_;
};

// The same work through plain EVP calls, as `openssl speed` and libssl make them (a digest-sign
// context per signature, EVP_PKEY_keygen and a derive context per exchange): the floor as the
// issue computes it from libcrypto's own figures. bulwark's crypto layer beats it (X25519 and
// the hashes skip EVP's per-call work), so BulwarkFloor is the higher floor.
class EvpFloor {
 public:
  EvpFloor(const crypto::PrivateKey& key, bool pss) : key_(key), pss_(pss) {
    EVP_PKEY_CTX* g = EVP_PKEY_CTX_new_from_name(nullptr, "X25519", nullptr);
    const bool ok = g != nullptr && EVP_PKEY_keygen_init(g) == 1 && EVP_PKEY_keygen(g, &peer_) == 1;
    EVP_PKEY_CTX_free(g);
    if (!ok) fail("EVP X25519 peer");
  }
  ~EvpFloor() { EVP_PKEY_free(peer_); }
  EvpFloor(const EvpFloor&) = delete;
  EvpFloor& operator=(const EvpFloor&) = delete;

  void once(Cost& cost) {
    const bool ok = charge(cost.server_ns, [&] {
      std::array<std::uint8_t, 512> signature;
      std::size_t signature_len = signature.size();
      EVP_MD_CTX* md = EVP_MD_CTX_new();
      EVP_PKEY_CTX* sign_ctx = nullptr;
      bool good =
          md != nullptr &&
          EVP_DigestSignInit_ex(md, &sign_ctx, "SHA256", nullptr, nullptr, key_.native(),
                                nullptr) == 1 &&
          (!pss_ || (EVP_PKEY_CTX_set_rsa_padding(sign_ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                     EVP_PKEY_CTX_set_rsa_pss_saltlen(sign_ctx, RSA_PSS_SALTLEN_DIGEST) == 1)) &&
          EVP_DigestSign(md, signature.data(), &signature_len, content_.data(), content_.size()) ==
              1;
      EVP_MD_CTX_free(md);
      EVP_PKEY* mine = nullptr;
      EVP_PKEY_CTX* gen = EVP_PKEY_CTX_new_from_name(nullptr, "X25519", nullptr);
      good = good && gen != nullptr && EVP_PKEY_keygen_init(gen) == 1 &&
             EVP_PKEY_keygen(gen, &mine) == 1;
      EVP_PKEY_CTX_free(gen);
      std::array<std::uint8_t, 32> secret;
      std::size_t secret_len = secret.size();
      EVP_PKEY_CTX* derive = good ? EVP_PKEY_CTX_new_from_pkey(nullptr, mine, nullptr) : nullptr;
      good = good && derive != nullptr && EVP_PKEY_derive_init(derive) == 1 &&
             EVP_PKEY_derive_set_peer_ex(derive, peer_, 0) == 1 &&
             EVP_PKEY_derive(derive, secret.data(), &secret_len) == 1;
      EVP_PKEY_CTX_free(derive);
      EVP_PKEY_free(mine);
      return good;
    });
    if (!ok) fail("EVP floor");
    ++cost.handshakes;
  }

 private:
  const crypto::PrivateKey& key_;
  bool pss_;
  std::vector<std::uint8_t> content_ = certificate_verify_content();
  EVP_PKEY* peer_ = nullptr;
};

// Section 2's figures for one signature type: each floor's cost, from section 1's rounds.
struct FloorFigures {
  Cost evp;
  Cost bulwark;
};

// With `floors`, the two crypto floors of the server's key are measured in the same rounds.
HandshakeFigures full_handshakes(const Scenario& sc, tls::SignatureScheme scheme,
                                 int libssl_sig_type, const Options& o,
                                 FloorFigures* floors = nullptr) {
  const BulwarkEndpoints bw = bulwark_endpoints(sc);
  const LibsslEndpoints ls = libssl_endpoints(sc);
  check_negotiated(bw, ls, *sc.suite, scheme, libssl_sig_type);
  HandshakeFigures f;
  auto ours = [&] { bulwark_handshake(bw, f.bulwark, false); };
  auto theirs = [&] { libssl_handshake(ls, f.libssl, nullptr, nullptr); };
  if (floors == nullptr) {
    alternate(o, o.handshakes, ours, theirs);
    return f;
  }
  const crypto::PrivateKey& key = sc.pki->leaf.key;
  const auto server_scheme = static_cast<crypto::SignatureScheme>(scheme);
  EvpFloor evp(key, scheme == tls::SignatureScheme::rsa_pss_rsae_sha256);
  BulwarkFloor layer(key, server_scheme);
  auto evp_floor = [&] { evp.once(floors->evp); };
  auto layer_floor = [&] { layer.once(floors->bulwark); };
  alternate(o, o.handshakes, ours, theirs, evp_floor, layer_floor);
  return f;
}

// ---- 9. full handshakes after an idle gap --------------------------------------------------

struct IdleGapFigures {
  HandshakeFigures gap;   // each handshake after a sleep
  HandshakeFigures none;  // the same, back to back
};

// The thread sleeps for `gap` before each handshake of the first two series (not counted: the
// clock is the thread's CPU time), as a server over sockets does until its next client writes;
// the other two series run back to back, in the same rounds.
IdleGapFigures idle_gap_handshakes(const Scenario& sc, const Options& o,
                                   std::chrono::microseconds gap) {
  const BulwarkEndpoints bw = bulwark_endpoints(sc);
  const LibsslEndpoints ls = libssl_endpoints(sc);
  IdleGapFigures f;
  auto ours_after_gap = [&] {
    std::this_thread::sleep_for(gap);
    bulwark_handshake(bw, f.gap.bulwark, false);
  };
  auto theirs_after_gap = [&] {
    std::this_thread::sleep_for(gap);
    libssl_handshake(ls, f.gap.libssl, nullptr, nullptr);
  };
  auto ours = [&] { bulwark_handshake(bw, f.none.bulwark, false); };
  auto theirs = [&] { libssl_handshake(ls, f.none.libssl, nullptr, nullptr); };
  alternate(o, o.handshakes, ours_after_gap, theirs_after_gap, ours, theirs);
  return f;
}

// ---- 3. resumption -------------------------------------------------------------------------

// What a client keeps for its next connection: ticket and session id.
struct KeptSession {
  std::vector<std::uint8_t> ticket;
  std::vector<std::uint8_t> session_id;
};

// bulwark's, looked at without using it up (take() removes it; it is put back).
KeptSession kept_session(const BulwarkEndpoints& bw) {
  std::optional<tls::StoredSession> s = bw.client->sessions->take(kHost, bw.client->clock());
  if (!s) fail("bulwark client kept no session");
  KeptSession kept{s->ticket, s->session_id};
  bw.client->sessions->put(kHost, std::move(*s));
  return kept;
}

KeptSession kept_session(const SSL_SESSION* session) {
  const unsigned char* ticket = nullptr;
  std::size_t ticket_length = 0;
  SSL_SESSION_get0_ticket(session, &ticket, &ticket_length);
  unsigned int id_length = 0;
  const unsigned char* id = SSL_SESSION_get_id(session, &id_length);
  return KeptSession{std::vector<std::uint8_t>(ticket, ticket + ticket_length),
                     std::vector<std::uint8_t>(id, id + id_length)};
}

struct ResumptionFigures {
  HandshakeFigures handshakes;
  bool bulwark_renews_ticket = false;  // a resumed connection gets a new ticket
  bool libssl_renews_ticket = false;
};

// A TLS 1.2 series must resume by the mechanism it names: by session id, the client holds no
// ticket and the server found the session in its cache; by ticket, the client holds one and
// the server has no cache to find it in. `before` and `after` are what the client kept before
// and after one resumed handshake.
void check_tls12_mechanism(const Scenario& sc, const char* who, const KeptSession& before,
                           const KeptSession& after, bool found_in_server_cache) {
  const bool ok = sc.session_ids
                      ? before.ticket.empty() && !before.session_id.empty() &&
                            after.session_id == before.session_id && found_in_server_cache
                      : !before.ticket.empty() && !after.ticket.empty();
  if (!ok) {
    fail(std::string(who) + " did not resume by " +
         (sc.session_ids ? "session id" : "ticket (RFC 5077)"));
  }
}

// Resumed handshakes: each connection resumes the session the previous one left. TLS 1.3: a
// single-use ticket, a new one per connection. TLS 1.2: by session id or by RFC 5077 ticket.
ResumptionFigures resumed_handshakes(const Scenario& sc, int count, const Options& o) {
  const BulwarkEndpoints bw = bulwark_endpoints(sc);
  const LibsslEndpoints ls = libssl_endpoints(sc);
  // A first full handshake on each side leaves a session; then one resumed handshake each,
  // not counted, shows that resumption happens on both sides (bulwark_connect and
  // libssl_connect check that on every connection) and by which mechanism.
  ResumptionFigures r;
  Cost scratch;
  bulwark_handshake(bw, scratch, false);
  SslSessionPtr session;
  libssl_handshake(ls, scratch, nullptr, &session);
  if (bw.client->sessions->size() != 1) fail("bulwark client did not keep exactly one session");
  {
    const std::size_t cached_before =
        bw.server->session_cache ? bw.server->session_cache->size() : 0;
    const KeptSession before = kept_session(bw);
    bulwark_handshake(bw, scratch, true);
    const KeptSession after = kept_session(bw);
    r.bulwark_renews_ticket = !after.ticket.empty() && after.ticket != before.ticket;
    if (is_tls12(*sc.suite)) {
      // Resuming from the cache adds nothing to it.
      const bool from_cache = bw.server->session_cache &&
                              bw.server->session_cache->size() == cached_before &&
                              cached_before == 1;
      check_tls12_mechanism(sc, "bulwark", before, after, from_cache);
    }
  }
  {
    const long hits_before = SSL_CTX_sess_hits(ls.server.get());
    const KeptSession before = kept_session(session.get());
    SslSessionPtr next;
    libssl_handshake(ls, scratch, session.get(), &next);
    const KeptSession after = kept_session(next.get());
    r.libssl_renews_ticket = !after.ticket.empty() && after.ticket != before.ticket;
    if (is_tls12(*sc.suite)) {
      // With its cache off, a libssl server can only resume from a ticket.
      const bool from_cache =
          (SSL_CTX_get_session_cache_mode(ls.server.get()) & SSL_SESS_CACHE_SERVER) != 0 &&
          SSL_CTX_sess_hits(ls.server.get()) == hits_before + 1;
      check_tls12_mechanism(sc, "libssl", before, after, from_cache);
    }
    session = std::move(next);
  }

  HandshakeFigures& f = r.handshakes;
  const int per_round = std::max(1, count / o.rounds);
  for (int round = 0; round < o.rounds; ++round) {
    for (int turn = 0; turn < 2; ++turn) {
      if ((turn == 0) == (round % 2 == 0)) {
        for (int i = 0; i < per_round; ++i)
          bulwark_handshake(bw, f.bulwark, true);
      } else {
        for (int i = 0; i < per_round; ++i) {
          SslSessionPtr next;
          libssl_handshake(ls, f.libssl, session.get(), &next);
          session = std::move(next);
        }
      }
    }
  }
  if (bw.client->sessions->size() != 1) fail("bulwark client did not keep one session at a time");
  return r;
}

// ---- 4. bulk throughput --------------------------------------------------------------------

// The per-record nonce of TLS 1.3 (RFC 8446 §5.3) and of ChaCha20-Poly1305 in TLS 1.2
// (RFC 7905 §2): the static IV with the sequence number XORed into its end.
std::array<std::uint8_t, 12> record_nonce(const std::array<std::uint8_t, 12>& iv,
                                          std::uint64_t seq) {
  std::array<std::uint8_t, 12> nonce = iv;
  for (int i = 0; i < 8; ++i)
    nonce[11 - i] ^= static_cast<std::uint8_t>(seq >> (8 * i));
  return nonce;
}

// AES-GCM in TLS 1.2 (RFC 5288 §3): a 4-byte implicit salt and an 8-byte explicit nonce,
// which is the sequence number here as in both engines.
std::array<std::uint8_t, 12> gcm12_nonce(const std::array<std::uint8_t, 12>& iv,
                                         std::uint64_t seq) {
  std::array<std::uint8_t, 12> nonce = iv;
  for (int i = 0; i < 8; ++i)
    nonce[11 - i] = static_cast<std::uint8_t>(seq >> (8 * i));
  return nonce;
}

const EVP_CIPHER* fetched_cipher(const Suite& suite) {
  // Fetched once per process, as the engine does.
  static constexpr std::array<const char*, 3> kNames = {"AES-128-GCM", "AES-256-GCM",
                                                        "ChaCha20-Poly1305"};
  static const std::array<CipherPtr, 3> ciphers = [] {
    std::array<CipherPtr, 3> out;
    for (std::size_t i = 0; i < kNames.size(); ++i)
      out[i].reset(EVP_CIPHER_fetch(nullptr, kNames[i], nullptr));
    return out;
  }();
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (std::string_view(kNames[i]) == suite.evp) {
      must_ssl(ciphers[i] != nullptr, "EVP_CIPHER_fetch");
      return ciphers[i].get();
    }
  }
  fail(std::string("no cipher fetched for ") + suite.evp);
}

// The ceiling: sealing and opening one record's payload with a kept EVP_CIPHER_CTX, key set
// once, only the IV (and in TLS 1.2 the AAD's sequence number) per record. TLS 1.3 seals the
// inner plaintext (the data and its content type byte) with the 5-byte record header as AAD;
// TLS 1.2 seals the data with seq || type || version || length (13 bytes) as AAD.
class RawAead {
 public:
  RawAead(const Suite& suite, std::size_t write_size)
      : tls12_(is_tls12(suite)),
        gcm12_(tls12_ && std::string_view(suite.evp) != "ChaCha20-Poly1305"),
        seal_ctx_(EVP_CIPHER_CTX_new()),
        open_ctx_(EVP_CIPHER_CTX_new()),
        text_(write_size + (tls12_ ? 0 : 1), 0x5a),
        sealed_(text_.size()),
        opened_(text_.size()) {
    const std::vector<std::uint8_t> key(suite.key_length, 0x42);
    const std::size_t length = tls12_ ? text_.size() : text_.size() + tag_.size();
    aad_length_ = tls12_ ? 13 : 5;
    std::uint8_t* header = aad_.data() + (tls12_ ? 8 : 0);  // TLS 1.2: after the sequence number
    header[0] = 0x17;                                       // application_data
    header[1] = 0x03;
    header[2] = 0x03;
    header[3] = static_cast<std::uint8_t>(length >> 8);
    header[4] = static_cast<std::uint8_t>(length);
    must_ssl(seal_ctx_ && open_ctx_, "EVP_CIPHER_CTX_new");
    must_ssl(EVP_EncryptInit_ex2(seal_ctx_.get(), fetched_cipher(suite), key.data(), nullptr,
                                 nullptr) == 1,
             "EVP_EncryptInit_ex2");
    must_ssl(EVP_DecryptInit_ex2(open_ctx_.get(), fetched_cipher(suite), key.data(), nullptr,
                                 nullptr) == 1,
             "EVP_DecryptInit_ex2");
    std::copy(text_.begin(), text_.end(), sealed_.begin());
    open_nonce_ = nonce(seq_);
    seal(sealed_.data(), tag_.data());
    open_aad_ = aad_;
  }

  void seal_records(int records, std::int64_t& ns) {
    std::array<std::uint8_t, 16> tag{};
    charge(ns, [&] {
      for (int i = 0; i < records; ++i)
        seal(text_.data(), tag.data());
    });
  }

  void open_records(int records, std::int64_t& ns) {
    charge(ns, [&] {
      for (int i = 0; i < records; ++i)
        open();
    });
  }

 private:
  std::array<std::uint8_t, 12> nonce(std::uint64_t seq) const {
    return gcm12_ ? gcm12_nonce(iv_, seq) : record_nonce(iv_, seq);
  }

  void seal(std::uint8_t* buf, std::uint8_t* tag) {
    const std::uint64_t seq = seq_++;
    const std::array<std::uint8_t, 12> iv = nonce(seq);
    if (tls12_) {
      for (int i = 0; i < 8; ++i)
        aad_[7 - i] = static_cast<std::uint8_t>(seq >> (8 * i));
    }
    int n = 0;
    const int len = static_cast<int>(text_.size());
    const int aad_len = static_cast<int>(aad_length_);
    EVP_CIPHER_CTX* ctx = seal_ctx_.get();
    if (EVP_EncryptInit_ex2(ctx, nullptr, nullptr, iv.data(), nullptr) != 1 ||
        EVP_EncryptUpdate(ctx, nullptr, &n, aad_.data(), aad_len) != 1 ||
        EVP_EncryptUpdate(ctx, buf, &n, buf, len) != 1 ||
        EVP_EncryptFinal_ex(ctx, buf + n, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1) {
      must_ssl(false, "raw seal");
    }
  }

  void open() {
    int n = 0;
    const int len = static_cast<int>(sealed_.size());
    const int aad_len = static_cast<int>(aad_length_);
    EVP_CIPHER_CTX* ctx = open_ctx_.get();
    if (EVP_DecryptInit_ex2(ctx, nullptr, nullptr, open_nonce_.data(), nullptr) != 1 ||
        EVP_DecryptUpdate(ctx, nullptr, &n, open_aad_.data(), aad_len) != 1 ||
        EVP_DecryptUpdate(ctx, opened_.data(), &n, sealed_.data(), len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag_.data()) != 1 ||
        EVP_DecryptFinal_ex(ctx, opened_.data() + n, &n) != 1) {
      must_ssl(false, "raw open");
    }
  }

  bool tls12_;
  bool gcm12_;
  CipherCtxPtr seal_ctx_;
  CipherCtxPtr open_ctx_;
  std::array<std::uint8_t, 12> iv_{0x24, 0x24, 0x24, 0x24, 0x24, 0x24,
                                   0x24, 0x24, 0x24, 0x24, 0x24, 0x24};
  std::array<std::uint8_t, 12> open_nonce_{};  // what sealed_ was sealed under
  std::array<std::uint8_t, 13> aad_{};         // TLS 1.3: the record header; 1.2: 13 bytes
  std::array<std::uint8_t, 13> open_aad_{};    // the AAD sealed_ was sealed with
  std::size_t aad_length_ = 5;
  std::uint64_t seq_ = 0;
  std::vector<std::uint8_t> text_;
  std::vector<std::uint8_t> sealed_;
  std::array<std::uint8_t, 16> tag_{};
  std::vector<std::uint8_t> opened_;
};

// `writes` application writes of data.size() bytes client -> server, each read back whole.
// The server takes the records and reads the data into `sink` in one call (receive(): feed()
// and read() without the copy out of the receive buffer), as SSL_read does from its BIO.
void bulwark_transfer(BulwarkPair& bw, const std::vector<std::uint8_t>& data,
                      std::vector<std::uint8_t>& sink, int writes, std::int64_t& ns) {
  tls::Connection& client = *bw.client;
  tls::Connection& server = *bw.server;
  charge(ns, [&] {
    for (int i = 0; i < writes; ++i) {
      if (!client.send(data)) fail("bulwark send");
      const wire::Bytes records = client.pending_output();
      const Result<std::size_t> got = server.receive(records, sink);
      client.consume_output(records.size());
      if (!got || *got != data.size()) fail("bulwark receive");
    }
  });
}

void libssl_transfer(LibsslPair& ls, const std::vector<std::uint8_t>& data,
                     std::vector<std::uint8_t>& sink, int writes, std::int64_t& ns) {
  SSL* client = ls.client.get();
  SSL* server = ls.server.get();
  const int size = static_cast<int>(data.size());
  charge(ns, [&] {
    for (int i = 0; i < writes; ++i) {
      if (SSL_write(client, data.data(), size) != size) must_ssl(false, "SSL_write");
      if (SSL_read(server, sink.data(), size) != size) must_ssl(false, "SSL_read");
    }
  });
}

struct BulkFigures {
  double bulwark_mbps;
  double libssl_mbps;
  double seal_mbps;
  double open_mbps;
  double ceiling_mbps;  // seal then open of each record: one thread doing both ends
};

BulkFigures bulk(const test::Pki& pki, const Suite& suite, std::size_t write_size,
                 std::size_t total_bytes, const Options& o) {
  const Scenario sc{.pki = &pki, .suite = &suite};
  const BulwarkEndpoints bw_ep = bulwark_endpoints(sc);
  const LibsslEndpoints ls_ep = libssl_endpoints(sc);
  Cost scratch;
  BulwarkPair bw = bulwark_connect(bw_ep, scratch, false);
  LibsslPair ls = libssl_connect(ls_ep, scratch, nullptr, nullptr);
  RawAead raw(suite, write_size);

  const std::vector<std::uint8_t> data(write_size, 0x5a);
  std::vector<std::uint8_t> sink(write_size);
  const int writes = static_cast<int>(std::max<std::size_t>(1, total_bytes / write_size));
  const int per_round = std::max(1, writes / o.rounds);
  std::int64_t bw_ns = 0;
  std::int64_t ls_ns = 0;
  std::int64_t seal_ns = 0;
  std::int64_t open_ns = 0;

  auto run_bulwark = [&] { bulwark_transfer(bw, data, sink, per_round, bw_ns); };
  auto run_libssl = [&] { libssl_transfer(ls, data, sink, per_round, ls_ns); };
  for (int round = 0; round < o.rounds; ++round) {
    if (round % 2 == 0) {
      run_bulwark();
      run_libssl();
    } else {
      run_libssl();
      run_bulwark();
    }
    raw.seal_records(per_round, seal_ns);
    raw.open_records(per_round, open_ns);
  }
  const std::size_t moved = static_cast<std::size_t>(per_round) * o.rounds * write_size;
  return BulkFigures{mb_per_second(moved, bw_ns), mb_per_second(moved, ls_ns),
                     mb_per_second(moved, seal_ns), mb_per_second(moved, open_ns),
                     mb_per_second(moved, seal_ns + open_ns)};
}

// ---- 5. memory per idle connection ---------------------------------------------------------

struct MemoryFigures {
  double server_kib;
  double client_kib;
};

// Heap held per established, idle connection: N pairs are made and kept; then the clients
// (and, for libssl, the BIO pairs, which stand for sockets) are freed; what stays is the
// servers'.
MemoryFigures bulwark_memory(const Scenario& sc, int n) {
  const BulwarkEndpoints ep = bulwark_endpoints(sc);
  std::vector<std::optional<tls::Connection>> clients(static_cast<std::size_t>(n));
  std::vector<std::optional<tls::Connection>> servers(static_cast<std::size_t>(n));
  Cost scratch;
  bulwark_handshake(ep, scratch, false);  // lazily made process state, outside the count
  const std::size_t before = heap_in_use();
  for (std::size_t i = 0; i < clients.size(); ++i) {
    BulwarkPair p = bulwark_connect(ep, scratch, false);
    clients[i] = std::move(p.client);
    servers[i] = std::move(p.server);
  }
  const std::size_t with_pairs = heap_in_use();
  for (auto& c : clients)
    c.reset();
  const std::size_t with_servers = heap_in_use();
  const double per = 1024.0 * n;
  return MemoryFigures{(static_cast<double>(with_servers) - static_cast<double>(before)) / per,
                       (static_cast<double>(with_pairs) - static_cast<double>(with_servers)) / per};
}

MemoryFigures libssl_memory(const Scenario& sc, int n) {
  const LibsslEndpoints ep = libssl_endpoints(sc);
  std::vector<SslPtr> clients(static_cast<std::size_t>(n));
  std::vector<SslPtr> servers(static_cast<std::size_t>(n));
  Cost scratch;
  libssl_handshake(ep, scratch, nullptr, nullptr);
  const std::size_t before = heap_in_use();
  for (std::size_t i = 0; i < clients.size(); ++i) {
    LibsslPair p = libssl_connect(ep, scratch, nullptr, nullptr);
    // Drop the transport: a server's socket BIO holds no buffer.
    SSL_set_bio(p.client.get(), nullptr, nullptr);
    SSL_set_bio(p.server.get(), nullptr, nullptr);
    clients[i] = std::move(p.client);
    servers[i] = std::move(p.server);
  }
  const std::size_t with_pairs = heap_in_use();
  for (auto& c : clients)
    c.reset();
  const std::size_t with_servers = heap_in_use();
  const double per = 1024.0 * n;
  return MemoryFigures{(static_cast<double>(with_servers) - static_cast<double>(before)) / per,
                       (static_cast<double>(with_pairs) - static_cast<double>(with_servers)) / per};
}

// ---- the run -------------------------------------------------------------------------------

// ---- --instructions: one case for callgrind ------------------------------------------------

// Runs one case with only its counted work collected (callgrind --collect-atstart=no): after
// an uncounted warm-up (one-time fetches, caches), o.handshakes server sides of full
// (ECDSA P-256, client verifies, no tickets) or resumed (psk_dhe_ke, one ticket per
// connection) TLS 1.3 handshakes, or o.bulk_bytes_16k bytes client -> server in 16 KiB writes
// (both ends, TLS_AES_128_GCM_SHA256). Prints how many units were collected.
int run_instructions(const Options& o) {
  const test::Pki ecdsa = make_chain(crypto::KeyType::ec_p256);
  const bool bulwark = o.instructions_who == "bulwark";
  const std::string& what = o.instructions_what;
  Cost warm;
  Cost counted;
  if (what == "bulk" || what == "bulk1k") {
    const std::size_t write_size = what == "bulk" ? 16384 : 1024;
    const Scenario sc{.pki = &ecdsa};
    const std::vector<std::uint8_t> data(write_size, 0x5a);
    std::vector<std::uint8_t> sink(write_size);
    const int writes = static_cast<int>(std::max<std::size_t>(1, o.bulk_bytes_16k / write_size));
    std::int64_t warm_ns = 0;
    std::int64_t counted_ns = 0;
    collected_account = &counted_ns;
    if (o.instructions_who == "raw") {
      RawAead raw(*sc.suite, write_size);
      raw.seal_records(4, warm_ns);
      raw.open_records(4, warm_ns);
      raw.seal_records(writes, counted_ns);
      raw.open_records(writes, counted_ns);
    } else if (bulwark) {
      const BulwarkEndpoints ep = bulwark_endpoints(sc);
      BulwarkPair pair = bulwark_connect(ep, warm, false);
      bulwark_transfer(pair, data, sink, 4, warm_ns);
      bulwark_transfer(pair, data, sink, writes, counted_ns);
    } else {
      const LibsslEndpoints ep = libssl_endpoints(sc);
      LibsslPair pair = libssl_connect(ep, warm, nullptr, nullptr);
      libssl_transfer(pair, data, sink, 4, warm_ns);
      libssl_transfer(pair, data, sink, writes, counted_ns);
    }
    std::printf("collected: %d writes of %zu bytes (%s, %s)\n", writes, write_size, what.c_str(),
                o.instructions_who.c_str());
    return 0;
  }
  const bool resumed = what == "resumed";
  const Scenario sc{.pki = &ecdsa, .tickets = resumed};
  collected_account = &counted.server_ns;
  if (bulwark) {
    const BulwarkEndpoints ep = bulwark_endpoints(sc);
    bulwark_handshake(ep, warm, false);
    if (resumed) bulwark_handshake(ep, warm, true);
    for (int i = 0; i < o.handshakes; ++i)
      bulwark_handshake(ep, counted, resumed);
  } else {
    const LibsslEndpoints ep = libssl_endpoints(sc);
    SslSessionPtr session;
    libssl_handshake(ep, warm, nullptr, resumed ? &session : nullptr);
    for (int i = 0; i < o.handshakes + (resumed ? 1 : 0); ++i) {
      SslSessionPtr next;
      libssl_handshake(ep, i == 0 && resumed ? warm : counted, session.get(),
                       resumed ? &next : nullptr);
      session = std::move(next);
    }
  }
  std::printf("collected: %lld server handshakes (%s, %s)\n",
              static_cast<long long>(counted.handshakes), what.c_str(), o.instructions_who.c_str());
  return 0;
}

int run(const Options& o) {
  const std::int64_t start = cpu_now_ns();
  std::printf("bench_tls: bulwark TLS 1.3 and 1.2 engine vs %s libssl; one process, one thread\n",
              OpenSSL_version(OPENSSL_VERSION));
  std::printf("(rates are per CPU-second of the side named; %d rounds alternate the two)\n",
              o.rounds);

  const test::Pki ecdsa = make_chain(crypto::KeyType::ec_p256);
  const test::Pki rsa = make_chain(crypto::KeyType::rsa);

  struct FullCase {
    const char* label;
    const test::Pki* pki;
    bool verify;
    tls::SignatureScheme scheme;
    int libssl_sig_type;
  };
  const FullCase cases[] = {
      {"ECDSA P-256, client verifies", &ecdsa, true, tls::SignatureScheme::ecdsa_secp256r1_sha256,
       EVP_PKEY_EC},
      {"ECDSA P-256, verification skipped", &ecdsa, false,
       tls::SignatureScheme::ecdsa_secp256r1_sha256, EVP_PKEY_EC},
      {"RSA-2048, client verifies", &rsa, true, tls::SignatureScheme::rsa_pss_rsae_sha256,
       EVP_PKEY_RSA_PSS},
      {"RSA-2048, verification skipped", &rsa, false, tls::SignatureScheme::rsa_pss_rsae_sha256,
       EVP_PKEY_RSA_PSS},
  };

  std::printf(
      "\n1. Full handshakes per CPU-second: TLS_AES_128_GCM_SHA256, x25519, no tickets;\n"
      "   chain root -> intermediate -> leaf; %d handshakes per implementation each\n",
      std::max(1, o.handshakes / o.rounds) * o.rounds);
  std::printf("  %-34s %12s %12s\n", "", "server/s", "client/s");
  double bulwark_ecdsa_server = 0;
  double bulwark_rsa_server = 0;
  double libssl_ecdsa_server = 0;
  double libssl_rsa_server = 0;
  FloorFigures ecdsa_floors;
  FloorFigures rsa_floors;
  for (const FullCase& c : cases) {
    const Scenario sc{.pki = c.pki, .verify = c.verify};
    FloorFigures* floors = !c.verify ? nullptr : c.pki == &ecdsa ? &ecdsa_floors : &rsa_floors;
    const HandshakeFigures f = full_handshakes(sc, c.scheme, c.libssl_sig_type, o, floors);
    std::printf("%s\n", c.label);
    print_rates("bulwark", f.bulwark);
    print_rates(c.verify ? "libssl" : "libssl (SSL_VERIFY_NONE)", f.libssl);
    print_ratio(f.bulwark, f.libssl);
    if (c.verify) {
      const double b = per_second(f.bulwark.handshakes, f.bulwark.server_ns);
      const double l = per_second(f.libssl.handshakes, f.libssl.server_ns);
      (c.pki == &ecdsa ? bulwark_ecdsa_server : bulwark_rsa_server) = b;
      (c.pki == &ecdsa ? libssl_ecdsa_server : libssl_rsa_server) = l;
    }
  }

  std::printf(
      "  (libssl builds and checks the chain even with SSL_VERIFY_NONE; it ignores the"
      " outcome)\n");

  heading(
      "2. Crypto floor of a server handshake: 1 signature + X25519 keygen + derive,\n"
      "   through plain EVP calls (the issue's floor, as `openssl speed` measures it) and\n"
      "   through bulwark's crypto layer (faster: the higher floor); measured in the rounds of 1");
  std::printf("  %-34s %12s %14s %14s\n", "", "floor hs/s", "bulwark srv %", "libssl srv %");
  const auto floor_row = [&](const char* what, const Cost& floor, double bulwark, double libssl) {
    const double per_s = per_second(floor.handshakes, floor.server_ns);
    std::printf("  %-34s %12.1f %13.1f%% %13.1f%%\n", what, figures.add(per_s),
                figures.add(100.0 * bulwark / per_s), figures.add(100.0 * libssl / per_s));
  };
  floor_row("ECDSA P-256 (sign) + X25519, EVP", ecdsa_floors.evp, bulwark_ecdsa_server,
            libssl_ecdsa_server);
  floor_row("  the same, bulwark's crypto", ecdsa_floors.bulwark, bulwark_ecdsa_server,
            libssl_ecdsa_server);
  floor_row("RSA-2048 PSS (sign) + X25519, EVP", rsa_floors.evp, bulwark_rsa_server,
            libssl_rsa_server);
  floor_row("  the same, bulwark's crypto", rsa_floors.bulwark, bulwark_rsa_server,
            libssl_rsa_server);

  std::printf(
      "\n3. Resumed handshakes per CPU-second: psk_dhe_ke, x25519, ECDSA P-256 server;\n"
      "   one single-use ticket per connection; %d per implementation\n",
      std::max(1, o.resumptions / o.rounds) * o.rounds);
  std::printf("  %-34s %12s %12s\n", "", "server/s", "client/s");
  {
    const Scenario sc{.pki = &ecdsa, .tickets = true};
    const HandshakeFigures f = resumed_handshakes(sc, o.resumptions, o).handshakes;
    print_rates("bulwark", f.bulwark);
    print_rates("libssl", f.libssl);
    print_ratio(f.bulwark, f.libssl);
  }

  heading(
      "4. Bulk client->server, MB/s (10^6 bytes of application data per CPU-second;"
      " both ends on one thread)");
  auto bulk_table = [&](const std::vector<const Suite*>& suites) {
    std::printf("  %-26s %9s %9s %8s %9s %9s %9s %9s\n", "", "bulwark", "libssl", "ratio",
                "raw seal", "raw open", "ceiling", "% ceil");
    for (const std::size_t write_size : {std::size_t{16384}, std::size_t{1024}}) {
      for (const Suite* suite : suites) {
        const std::size_t total = write_size == 16384 ? o.bulk_bytes_16k : o.bulk_bytes_1k;
        const BulkFigures b = bulk(ecdsa, *suite, write_size, total, o);
        char label[64];
        std::snprintf(label, sizeof label, "%s, %zu KiB", suite->evp, write_size / 1024);
        std::printf("  %-26s %9.1f %9.1f %7.2fx %9.1f %9.1f %9.1f %8.1f%%\n", label,
                    figures.add(b.bulwark_mbps), figures.add(b.libssl_mbps),
                    figures.add(b.bulwark_mbps / b.libssl_mbps), figures.add(b.seal_mbps),
                    figures.add(b.open_mbps), figures.add(b.ceiling_mbps),
                    figures.add(100.0 * b.bulwark_mbps / b.ceiling_mbps));
      }
    }
  };
  bulk_table({&kSuites[0], &kSuites[1], &kSuites[2]});

  std::printf(
      "\n5. Heap per established idle connection, KiB (%s, %d connections;\n"
      "   ECDSA P-256, client verifies, no tickets; TLS 1.3, then TLS 1.2 as in 6)\n",
      kHeapCounter, o.connections);
  std::printf("  %-40s %10s %10s %14s\n", "", "server", "client", "server ratio");
  for (const Suite* suite : {&kSuites[0], &kEcdsaAes128Gcm12}) {
    const Scenario sc{.pki = &ecdsa, .suite = suite};
    Scenario released = sc;
    released.release_buffers = true;
    const MemoryFigures b = bulwark_memory(sc, o.connections);
    const MemoryFigures l = libssl_memory(sc, o.connections);
    const MemoryFigures lr = libssl_memory(released, o.connections);
    std::printf("%s\n", is_tls12(*suite) ? "TLS 1.2" : "TLS 1.3");
    std::printf("  %-40s %10.2f %10.2f\n", "bulwark", figures.add(b.server_kib),
                figures.add(b.client_kib));
    std::printf("  %-40s %10.2f %10.2f %13.2fx\n", "libssl (defaults)", figures.add(l.server_kib),
                figures.add(l.client_kib), figures.add(b.server_kib / l.server_kib));
    std::printf("  %-40s %10.2f %10s %13.2fx\n", "libssl (SSL_MODE_RELEASE_BUFFERS, as nginx)",
                figures.add(lr.server_kib), "", figures.add(b.server_kib / lr.server_kib));
  }

  std::printf(
      "\n6. TLS 1.2 full handshakes per CPU-second: ECDHE x25519, extended master secret,\n"
      "   no tickets, no session cache; chain as in 1; %d handshakes per implementation each\n",
      std::max(1, o.handshakes / o.rounds) * o.rounds);
  std::printf("  %-34s %12s %12s\n", "", "server/s", "client/s");
  const FullCase cases12[] = {
      {"ECDHE-ECDSA-AES128-GCM-SHA256, P-256, client verifies", &ecdsa, true,
       tls::SignatureScheme::ecdsa_secp256r1_sha256, EVP_PKEY_EC},
      {"ECDHE-RSA-AES128-GCM-SHA256, RSA-2048, client verifies", &rsa, true,
       tls::SignatureScheme::rsa_pss_rsae_sha256, EVP_PKEY_RSA_PSS},
  };
  for (const FullCase& c : cases12) {
    const Scenario sc{.pki = c.pki,
                      .suite = c.pki == &ecdsa ? &kEcdsaAes128Gcm12 : &kRsaAes128Gcm12,
                      .verify = c.verify};
    const HandshakeFigures f = full_handshakes(sc, c.scheme, c.libssl_sig_type, o);
    std::printf("%s\n", c.label);
    print_rates("bulwark", f.bulwark);
    print_rates("libssl", f.libssl);
    print_ratio(f.bulwark, f.libssl);
  }

  // An abbreviated handshake does no public-key operation: about ten times cheaper than a
  // TLS 1.3 psk_dhe_ke one, so four times as many keep the measured time comparable.
  const int resumptions12 = 4 * o.resumptions;
  std::printf(
      "\n7. TLS 1.2 resumed handshakes per CPU-second: abbreviated handshake,\n"
      "   ECDHE-ECDSA-AES128-GCM-SHA256, P-256 server; each connection resumes the session\n"
      "   the previous one left; %d per implementation each\n",
      std::max(1, resumptions12 / o.rounds) * o.rounds);
  std::printf("  %-34s %12s %12s\n", "", "server/s", "client/s");
  {
    const Scenario by_id{.pki = &ecdsa, .suite = &kEcdsaAes128Gcm12, .session_ids = true};
    const HandshakeFigures f = resumed_handshakes(by_id, resumptions12, o).handshakes;
    std::printf("By session id (server session cache, no tickets)\n");
    print_rates("bulwark", f.bulwark);
    print_rates("libssl", f.libssl);
    print_ratio(f.bulwark, f.libssl);
  }
  {
    const Scenario by_ticket{.pki = &ecdsa, .suite = &kEcdsaAes128Gcm12, .tickets = true};
    const ResumptionFigures r = resumed_handshakes(by_ticket, resumptions12, o);
    std::printf("By ticket (RFC 5077, no server session cache)\n");
    print_rates("bulwark", r.handshakes.bulwark);
    print_rates("libssl", r.handshakes.libssl);
    print_ratio(r.handshakes.bulwark, r.handshakes.libssl);
    std::printf("  (a resumed connection gets a new ticket: bulwark %s, libssl %s)\n",
                r.bulwark_renews_ticket ? "yes" : "no", r.libssl_renews_ticket ? "yes" : "no");
  }

  heading(
      "8. TLS 1.2 bulk client->server, MB/s (ECDHE-ECDSA suites; as in 4, AEAD with the 13-byte"
      " AAD)");
  bulk_table({&kEcdsaAes128Gcm12, &kEcdsaChacha12});

  // Over sockets a server sleeps between the messages of each handshake (two sleeps per
  // handshake with `openssl s_time -new`); after a sleep its caches are cold (in a VM the idle
  // vCPU may also have left its core). The first case of 1 again, each handshake after a sleep,
  // next to the same back to back: what the sleep adds per handshake to each implementation.
  constexpr std::chrono::microseconds kIdleGap{500};
  std::printf(
      "\n9. Full handshakes after an idle gap: the first case of 1, the thread asleep for %lld us\n"
      "   before each handshake (not counted), as a server over sockets waits for its client;\n"
      "   in the same rounds, back to back; %d handshakes per implementation each\n",
      static_cast<long long>(kIdleGap.count()), std::max(1, o.handshakes / o.rounds) * o.rounds);
  std::printf("  %-34s %12s %12s %12s\n", "", "server/s", "client/s", "server us/hs");
  {
    const Scenario sc{.pki = &ecdsa};
    const IdleGapFigures f = idle_gap_handshakes(sc, o, kIdleGap);
    auto server_us = [](const Cost& cost) {
      return static_cast<double>(cost.server_ns) / 1e3 / static_cast<double>(cost.handshakes);
    };
    auto row = [&](const char* who, const Cost& cost) {
      std::printf("  %-34s %12.1f %12.1f %12.1f\n", who,
                  figures.add(per_second(cost.handshakes, cost.server_ns)),
                  figures.add(per_second(cost.handshakes, cost.client_ns)),
                  figures.add(server_us(cost)));
    };
    std::printf("After the gap\n");
    row("bulwark", f.gap.bulwark);
    row("libssl", f.gap.libssl);
    print_ratio(f.gap.bulwark, f.gap.libssl);
    std::printf("Back to back\n");
    row("bulwark", f.none.bulwark);
    row("libssl", f.none.libssl);
    print_ratio(f.none.bulwark, f.none.libssl);
    std::printf("  server CPU the gap adds per handshake: bulwark %.1f us, libssl %.1f us\n",
                server_us(f.gap.bulwark) - server_us(f.none.bulwark),
                server_us(f.gap.libssl) - server_us(f.none.libssl));
  }

  std::printf("\n%d figures produced", figures.count());
  if (figures.bad() != 0) {
    std::printf(", %d of them missing or not positive\n", figures.bad());
    return 1;
  }
  std::printf(", all positive (%.1f CPU-seconds)\n",
              static_cast<double>(cpu_now_ns() - start) / 1e9);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  try {
    return options.instructions_what.empty() ? run(options) : run_instructions(options);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "bench_tls: %s\n", e.what());
    return 1;
  }
}
