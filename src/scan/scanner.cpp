// The scan: which probes run, in which order and how many at once, and how their replies
// become findings. Severity rules and remedies are in docs/DECISIONS.md ("scan").
#include "bulwark/scan/scanner.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/crypto/hostname.hpp"
#include "bulwark/crypto/random.hpp"
#include "bulwark/crypto/trust_store.hpp"
#include "bulwark/scan/hello.hpp"
#include "bulwark/scan/probe.hpp"
#include "bulwark/scan/renegotiation.hpp"
#include "bulwark/scan/suites.hpp"
#include "bulwark/tls/types.hpp"

namespace bulwark::scan {

namespace {

constexpr std::string_view all_checks[] = {
    "protocols", "ciphers", "certificate", "heartbleed", "compression", "renegotiation", "fallback",
    "ems",       "ocsp",    "resumption",  "alpn",       "ccs",         "hsts"};

constexpr std::uint16_t ssl2 = 0x0002, ssl3 = 0x0300, tls10 = 0x0301, tls11 = 0x0302,
                        tls12 = 0x0303, tls13 = 0x0304;
constexpr std::uint16_t probe_versions[] = {ssl2, ssl3, tls10, tls11, tls12, tls13};

constexpr std::uint16_t fallback_scsv = 0x5600;             // RFC 7507
constexpr std::uint16_t empty_renegotiation_scsv = 0x00ff;  // RFC 5746 §3.3
constexpr std::uint8_t alert_inappropriate_fallback = 86;

// Groups offered before TLS 1.3: the elliptic curves only, so that a DHE suite shows the
// finite-field group the server picks by itself (what an old client would get).
constexpr std::uint16_t groups12[] = {0x001d, 0x0017, 0x0018, 0x0019, 0x001e};
constexpr std::uint16_t groups13[] = {0x001d, 0x0017, 0x0018, 0x0019, 0x001e,
                                      0x0100, 0x0101, 0x0102, 0x0103, 0x0104};
// Every signature scheme, SHA-1 and DSA included: a probe must not be refused for its taste.
constexpr std::uint16_t schemes[] = {0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805,
                                     0x0806, 0x0809, 0x080a, 0x080b, 0x0401, 0x0501, 0x0601,
                                     0x0303, 0x0301, 0x0402, 0x0203, 0x0201, 0x0202};

const char* const protocols_remedy =
    "offer TLS 1.2 and 1.3 only: nginx `ssl_protocols TLSv1.2 TLSv1.3;`, Apache `SSLProtocol "
    "-all +TLSv1.2 +TLSv1.3`";
const char* const ciphers_remedy =
    "offer only forward-secret AEAD suites: nginx `ssl_ciphers "
    "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM;`, Apache `SSLCipherSuite "
    "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!eNULL:!EXPORT:!RC4:!3DES:!SSLv2`";

std::string group_name(std::uint16_t g) {
  switch (g) {
    case 0x0017:
      return "P-256";
    case 0x0018:
      return "P-384";
    case 0x0019:
      return "P-521";
    case 0x001d:
      return "x25519";
    case 0x001e:
      return "x448";
    case 0x0100:
      return "ffdhe2048";
    case 0x0101:
      return "ffdhe3072";
    case 0x0102:
      return "ffdhe4096";
    case 0x0103:
      return "ffdhe6144";
    case 0x0104:
      return "ffdhe8192";
    case 0x11ec:
      return "X25519MLKEM768";
  }
  return suite_id_text(g);
}

std::string alert_text(std::uint8_t description) {
  const std::string_view n = tls::name(static_cast<tls::AlertDescription>(description));
  return n == "unknown" ? "alert " + std::to_string(description) : "alert " + std::string(n);
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Runs task(0..n-1) with at most `concurrency` at once.
template <class F>
void run_parallel(std::size_t n, int concurrency, F&& task) {
  const std::size_t threads =
      std::min<std::size_t>(n, static_cast<std::size_t>(std::max(1, concurrency)));
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i)
      task(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (std::size_t i; (i = next.fetch_add(1)) < n;)
        task(i);
    });
  for (auto& th : pool)
    th.join();
}

std::string join(const std::vector<std::string>& items, std::size_t max_items = 4) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max_items; ++i)
    out += (i ? ", " : "") + items[i];
  if (items.size() > max_items) out += " (+" + std::to_string(items.size() - max_items) + " more)";
  return out;
}

struct Scan {
  Scan(const ScanOptions& o, Endpoint e) : options(o), endpoint(std::move(e)) {}

  const ScanOptions& options;
  Endpoint endpoint;
  std::string sni;          // sent in every hello (empty: none)
  std::string verify_name;  // the certificate must name this
  std::set<std::string> checks;

  std::mutex mutex;  // guards everything below
  std::map<std::uint16_t, VersionResult> versions;
  std::map<std::uint16_t, ProbeResult> version_replies;  // first answer per offered version
  std::vector<AcceptedSuite> suites;
  std::vector<Finding> findings;
  std::vector<std::uint32_t> sslv2_ciphers_offered;
  std::vector<std::size_t> dh_bits;  // one per accepted DHE suite
  std::vector<std::string> export_rsa_evidence;
  std::vector<std::string> common_weak_dh;  // well-known groups under 2048 bits
  std::optional<std::string> probe_error;   // a connection that failed mid-scan

  bool wants(std::string_view c) const { return checks.count(std::string(c)) != 0; }

  void add(Finding f) {
    std::lock_guard lock(mutex);
    findings.push_back(std::move(f));
  }

  bool offered(std::uint16_t v) {
    std::lock_guard lock(mutex);
    auto it = versions.find(v);
    return it != versions.end() && it->second.offered;
  }

  // The highest version up to TLS 1.2 that the server offered (0: none).
  std::uint16_t best_legacy() {
    for (std::uint16_t v : {tls12, tls11, tls10, ssl3})
      if (offered(v)) return v;
    return 0;
  }

  HelloBuilder hello_for(std::uint16_t version) const {
    HelloBuilder h;
    if (version >= tls13) {
      h.legacy_version = tls12;
      h.suites = probe_suites(tls13);
      h.supported_versions = {tls13};
      h.groups.assign(std::begin(groups13), std::end(groups13));
      h.signature_schemes.assign(std::begin(schemes), std::end(schemes));
      std::vector<std::uint8_t> share(32);
      (void)crypto::SystemRandom::instance().fill(share);
      h.key_shares.emplace_back(0x001d, std::move(share));
      h.psk_key_exchange_modes = true;
    } else {
      h.record_version = version == ssl3 ? ssl3 : tls10;
      h.legacy_version = version;
      h.suites = probe_suites(version);
      h.groups.assign(std::begin(groups12), std::end(groups12));
      h.ec_point_formats = true;
      if (version == tls12) h.signature_schemes.assign(std::begin(schemes), std::end(schemes));
      h.renegotiation_info = true;
      // As every current client does; some servers (bulwark's) require RFC 7627.
      h.extended_master_secret = version != ssl3;
      if (version == ssl3) {
        // SSL 3.0 has no extensions; RFC 5746 §3.3's signalling suite stands for the extension.
        h.extensions = false;
        h.suites.push_back(empty_renegotiation_scsv);
      }
    }
    h.server_name = sni;
    return h;
  }

  EngineOptions engine_options() const {
    EngineOptions eo;
    eo.server_name = sni;
    eo.timeout = options.timeout;
    return eo;
  }

  // One probe; a failed connection is remembered (the report says so) and yields nothing.
  std::optional<ProbeResult> probe(const HelloBuilder& hello) {
    std::array<std::uint8_t, 32> random{};
    (void)crypto::SystemRandom::instance().fill(random);
    auto rec = hello.record(random);
    if (!rec) {
      std::lock_guard lock(mutex);
      probe_error = rec.error().message();
      return std::nullopt;
    }
    auto r = run_probe(endpoint, *rec, options.timeout);
    if (!r) {
      std::lock_guard lock(mutex);
      probe_error = r.error().message();
      return std::nullopt;
    }
    return std::move(*r);
  }

  static std::string describe(const ProbeResult& p) {
    if (p.reply.alert) return alert_text(p.reply.alert->second);
    if (p.reply.sslv2) return "SSLv2 SERVER-HELLO";
    if (p.reply.hello) {
      if (p.reply.hello->hello_retry) return "HelloRetryRequest";
      return "ServerHello " + version_name(p.reply.hello->version) + " " +
             suite_name(p.reply.hello->cipher_suite);
    }
    if (p.malformed) return "not TLS: " + p.detail;
    if (p.timed_out) return "no answer in time";
    return "connection closed";
  }

  void probe_version(std::uint16_t version) {
    VersionResult v;
    v.version = version;
    std::optional<ProbeResult> p;
    if (version == ssl2) {
      std::vector<std::uint32_t> ciphers;
      for (const auto& c : sslv2_ciphers())
        ciphers.push_back(c.id);
      std::array<std::uint8_t, 16> challenge{};
      (void)crypto::SystemRandom::instance().fill(challenge);
      auto rec = sslv2_client_hello(ciphers, challenge);
      if (rec) {
        auto r = run_probe(endpoint, *rec, options.timeout, /*sslv2=*/true);
        if (r)
          p = std::move(*r);
        else {
          std::lock_guard lock(mutex);
          probe_error = r.error().message();
        }
      }
    } else {
      p = probe(hello_for(version));
    }
    if (!p) {
      v.detail = "probe failed";
    } else {
      v.detail = describe(*p);
      if (version == ssl2) {
        v.offered = p->reply.sslv2.has_value();
        if (v.offered) {
          std::lock_guard lock(mutex);
          sslv2_ciphers_offered = p->reply.sslv2->ciphers;
        }
      } else if (p->reply.hello) {
        v.offered = p->reply.hello->version == version;
        if (!v.offered && !p->reply.hello->hello_retry)
          v.detail = "answered with " + version_name(p->reply.hello->version);
      }
    }
    // Closed now: a single-threaded server (openssl s_server) serves nobody else while a
    // probe's connection stays open.
    if (p) p->socket = Socket();
    std::lock_guard lock(mutex);
    versions[version] = v;
    if (v.offered && p) version_replies.emplace(version, std::move(*p));
  }

  std::string key_exchange_of(const ProbeResult& p, const SuiteInfo* info) {
    const ServerHelloInfo& h = *p.reply.hello;
    if (h.version >= tls13) {
      if (const RawExtension* ks =
              h.find(static_cast<std::uint16_t>(tls::ExtensionType::key_share));
          ks && ks->data.size() >= 2)
        return "ECDHE/FFDHE " +
               group_name(static_cast<std::uint16_t>(ks->data[0] << 8 | ks->data[1]));
      return "TLS 1.3";
    }
    if (info == nullptr) return "unknown";
    const std::vector<std::uint8_t>& ske = p.reply.server_key_exchange;
    if (info->dhe && !ske.empty()) {
      auto params = parse_key_exchange(ske, KeyExchangeParams::Kind::dhe);
      if (params) {
        std::lock_guard lock(mutex);
        dh_bits.push_back(params->dh_prime_bits);
        const std::string_view group = known_dh_group(params->dh_prime);
        if (!group.empty() && params->dh_prime_bits < 2048) common_weak_dh.emplace_back(group);
        return "DHE " + std::to_string(params->dh_prime_bits) + " bits" +
               (group.empty() ? "" : " (" + std::string(group) + ")");
      }
      return "DHE (unreadable parameters)";
    }
    if (info->ecdhe && !ske.empty()) {
      auto params = parse_key_exchange(ske, KeyExchangeParams::Kind::ecdhe);
      return params ? "ECDHE " + group_name(params->group) : "ECDHE";
    }
    if (info->rsa_export) {
      if (!ske.empty()) {
        auto params = parse_key_exchange(ske, KeyExchangeParams::Kind::rsa);
        if (params) {
          std::lock_guard lock(mutex);
          export_rsa_evidence.push_back(std::string(info->name) + " with a " +
                                        std::to_string(params->rsa_modulus_bits) + "-bit RSA key");
          return "RSA_EXPORT " + std::to_string(params->rsa_modulus_bits) + " bits";
        }
      }
      return "RSA_EXPORT";
    }
    if (info->tls13) return "TLS 1.3";
    return std::string(info->kx);
  }

  // Offers every remaining suite, records the server's choice, removes it, and repeats: the
  // accepted suites in the order the server picks them.
  void enumerate_suites(std::uint16_t version) {
    std::vector<std::uint16_t> remaining = probe_suites(version);
    std::vector<AcceptedSuite> accepted;
    for (int round = 0; round < 128 && !remaining.empty(); ++round) {
      HelloBuilder h = hello_for(version);
      h.suites = remaining;
      if (version == ssl3) h.suites.push_back(empty_renegotiation_scsv);
      auto p = probe(h);
      if (!p || !p->reply.hello || p->reply.hello->version != version) break;
      const std::uint16_t chosen = p->reply.hello->cipher_suite;
      auto it = std::find(remaining.begin(), remaining.end(), chosen);
      // RFC 5246 §7.4.1.3: the server must pick one of the offered suites.
      if (it == remaining.end()) break;
      remaining.erase(it);
      const SuiteInfo* info = find_suite(chosen);
      AcceptedSuite s;
      s.version = version;
      s.id = chosen;
      s.name = suite_name(chosen);
      s.key_exchange = p->reply.hello->hello_retry ? "TLS 1.3 (after HelloRetryRequest)"
                                                   : key_exchange_of(*p, info);
      accepted.push_back(std::move(s));
    }
    // Whose order is it? Offer the first two choices reversed: a server that enforces its own
    // preference picks the same suite again.
    if (accepted.size() >= 2 && wants("ciphers")) {
      HelloBuilder h = hello_for(version);
      h.suites = {static_cast<std::uint16_t>(accepted[1].id),
                  static_cast<std::uint16_t>(accepted[0].id)};
      if (version == ssl3) h.suites.push_back(empty_renegotiation_scsv);
      auto p = probe(h);
      if (p && p->reply.hello && p->reply.hello->version == version) {
        const bool server_order = p->reply.hello->cipher_suite == accepted[0].id;
        add({"cipher_order." + std::string(version == tls13   ? "tls13"
                                           : version == tls12 ? "tls12"
                                           : version == tls11 ? "tls11"
                                           : version == tls10 ? "tls10"
                                                              : "ssl3"),
             "ciphers",
             version_name(version) + (server_order ? ": server's order" : ": client's order"),
             Severity::info,
             server_order
                 ? "the server keeps its own preference"
                 : "the server follows the client's order (the list is the order of our offer)",
             server_order || version == tls13
                 ? ""
                 : "prefer the server's order: nginx `ssl_prefer_server_ciphers on;`, Apache "
                   "`SSLHonorCipherOrder on`"});
      }
    }
    std::lock_guard lock(mutex);
    suites.insert(suites.end(), accepted.begin(), accepted.end());
  }

  // The key-exchange groups the server accepts, one offered at a time (in sequence: this is
  // one task of the enumeration phase). TLS 1.3 with an empty key_share: a server that has the
  // group names it in a HelloRetryRequest (RFC 8446 §4.1.4). Else TLS 1.2 (or older) with
  // ECDHE suites only: the ServerKeyExchange names the curve.
  void enumerate_groups() {
    const bool with13 = offered(tls13);
    const std::uint16_t v = with13 ? tls13 : best_legacy();
    if (v == 0) return;
    const std::span<const std::uint16_t> candidates =
        with13 ? std::span<const std::uint16_t>(groups13)
               : std::span<const std::uint16_t>(groups12);
    std::vector<std::string> accepted;
    for (std::uint16_t g : candidates) {
      HelloBuilder h = hello_for(v);
      h.groups = {g};
      if (with13) {
        h.key_shares.clear();
      } else {
        std::erase_if(h.suites, [](std::uint16_t id) {
          const SuiteInfo* info = find_suite(id);
          return info == nullptr || !info->ecdhe;
        });
        if (h.suites.empty()) return;
      }
      auto p = probe(h);
      if (!p || !p->reply.hello || p->reply.hello->version != v) continue;
      std::uint16_t chosen = 0;
      if (with13) {
        // HelloRetryRequest: selected_group; ServerHello: a KeyShareEntry; the group first.
        const RawExtension* ks =
            p->reply.hello->find(static_cast<std::uint16_t>(tls::ExtensionType::key_share));
        if (ks && ks->data.size() >= 2)
          chosen = static_cast<std::uint16_t>(ks->data[0] << 8 | ks->data[1]);
      } else if (auto params = parse_key_exchange(p->reply.server_key_exchange,
                                                  KeyExchangeParams::Kind::ecdhe)) {
        chosen = params->group;
      }
      if (chosen == g) accepted.push_back(group_name(g));
    }
    add({"groups", "key exchange", "key-exchange groups (" + version_name(v) + ")", Severity::info,
         accepted.empty() ? "none of the groups offered one at a time was accepted"
                          : join(accepted, std::size(groups13)),
         ""});
  }

  void protocol_findings() {
    auto finding = [&](std::uint16_t v, Severity if_offered, const std::string& id,
                       const std::string& why) {
      const bool on = offered(v);
      add({id, "protocols", version_name(v) + (on ? " offered" : " not offered"),
           on ? if_offered : Severity::ok, versions[v].detail + (on ? "; " + why : ""),
           on ? protocols_remedy : ""});
    };
    finding(ssl2, Severity::critical, "protocol.sslv2",
            "SSLv2 is broken (DROWN) and was the Slapper worm's way in; add `:!SSLv2` to "
            "SSLCipherSuite and upgrade an OpenSSL older than 0.9.6e");
    finding(ssl3, Severity::high, "protocol.sslv3", "SSL 3.0 is broken (POODLE, RFC 7568)");
    finding(tls10, Severity::medium, "protocol.tls10", "deprecated by RFC 8996 (BEAST era)");
    finding(tls11, Severity::medium, "protocol.tls11", "deprecated by RFC 8996");
    if (!offered(tls12) && !offered(tls13))
      add({"protocol.modern", "protocols", "no TLS 1.2 or 1.3", Severity::high,
           "neither TLS 1.2 nor TLS 1.3 was accepted", protocols_remedy});
    add({"protocol.tls13", "protocols", offered(tls13) ? "TLS 1.3 offered" : "TLS 1.3 not offered",
         offered(tls13) ? Severity::ok : Severity::low, versions[tls13].detail,
         offered(tls13) ? ""
                        : "enable TLS 1.3 (OpenSSL 1.1.1 or later): nginx `ssl_protocols "
                          "TLSv1.2 TLSv1.3;`"});
  }

  void cipher_findings() {
    std::vector<AcceptedSuite> all;
    {
      std::lock_guard lock(mutex);
      all = suites;
    }
    auto names_where = [&](auto pred) {
      std::vector<std::string> out;
      for (const auto& s : all) {
        if (s.version == ssl2) continue;
        const SuiteInfo* info = find_suite(static_cast<std::uint16_t>(s.id));
        if (info && pred(*info, s.version)) {
          std::string n = s.name + (s.version < tls12 ? " (" + version_name(s.version) + ")" : "");
          if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
        }
      }
      return out;
    };
    auto check = [&](const std::string& id, const std::string& section, const std::string& title,
                     Severity sev, const std::vector<std::string>& hits,
                     const std::string& remedy) {
      if (hits.empty())
        add({id, section, "no " + title, Severity::ok, "none accepted", ""});
      else
        add({id, section, title, sev, join(hits), remedy});
    };
    // The grouping at a glance: how many accepted suites (per version counted once
    // each) fall in each kind.
    {
      std::size_t total = 0, aead = 0, cbc = 0, block64 = 0, rc4 = 0, null = 0, anon = 0, exp = 0,
                  fs = 0;
      for (const auto& s : all) {
        const SuiteInfo* i =
            s.version == ssl2 ? nullptr : find_suite(static_cast<std::uint16_t>(s.id));
        if (i == nullptr) continue;
        ++total;
        aead += i->aead;
        cbc += i->cbc;
        block64 += i->block64;
        rc4 += i->rc4;
        null += i->null_cipher;
        anon += i->anonymous;
        exp += i->export_grade;
        fs += i->forward_secret;
      }
      if (total > 0)
        add({"cipher.kinds", "ciphers", "accepted suites by kind", Severity::info,
             std::to_string(total) + " (per version): AEAD " + std::to_string(aead) + ", CBC " +
                 std::to_string(cbc) + ", 64-bit block " + std::to_string(block64) + ", RC4 " +
                 std::to_string(rc4) + ", NULL " + std::to_string(null) + ", anonymous " +
                 std::to_string(anon) + ", EXPORT " + std::to_string(exp) + "; forward secret " +
                 std::to_string(fs),
             ""});
    }
    check("cipher.null", "ciphers", "NULL-encryption suites", Severity::critical,
          names_where([](const SuiteInfo& i, auto) { return i.null_cipher; }), ciphers_remedy);
    check("cipher.anonymous", "ciphers", "anonymous suites", Severity::high,
          names_where([](const SuiteInfo& i, auto) { return i.anonymous; }), ciphers_remedy);
    check("cipher.export", "ciphers", "EXPORT suites", Severity::critical,
          names_where([](const SuiteInfo& i, auto) { return i.export_grade; }), ciphers_remedy);
    check("cipher.rc4", "ciphers", "RC4 suites", Severity::high,
          names_where([](const SuiteInfo& i, auto) { return i.rc4; }), ciphers_remedy);
    check("cipher.des", "ciphers", "single-DES suites", Severity::high,
          names_where([](const SuiteInfo& i, auto) { return i.bits == 56; }), ciphers_remedy);
    check("sweet32", "vulnerabilities", "SWEET32 (64-bit block ciphers)", Severity::medium,
          names_where([](const SuiteInfo& i, auto) { return i.block64 && i.bits > 56; }),
          "drop 3DES, IDEA and RC2: add `:!3DES:!IDEA:!RC2` to the cipher list");
    check("poodle", "vulnerabilities", "POODLE (SSL 3.0 CBC)", Severity::high,
          names_where([](const SuiteInfo& i, std::uint16_t v) { return i.cbc && v == ssl3; }),
          protocols_remedy);
    check("beast", "vulnerabilities", "BEAST (TLS 1.0 CBC)", Severity::low,
          names_where([](const SuiteInfo& i, std::uint16_t v) { return i.cbc && v == tls10; }),
          protocols_remedy);
    check("freak", "vulnerabilities", "FREAK (RSA_EXPORT)", Severity::critical,
          names_where([](const SuiteInfo& i, auto) { return i.rsa_export; }), ciphers_remedy);
    check("cipher.no_forward_secrecy", "ciphers", "suites without forward secrecy", Severity::low,
          names_where([](const SuiteInfo& i, auto) { return !i.forward_secret; }),
          "prefer ECDHE: drop static RSA key transport with `:!kRSA` in the cipher list");
    if (!all.empty() &&
        names_where([](const SuiteInfo& i, auto) { return i.forward_secret; }).empty())
      add({"cipher.forward_secrecy_missing", "ciphers", "no forward-secret suite", Severity::medium,
           "every accepted suite uses static key exchange", ciphers_remedy});
    // SSL 2.0 cipher kinds (already CRITICAL as a protocol; listed for completeness).
    std::vector<std::uint32_t> v2;
    {
      std::lock_guard lock(mutex);
      v2 = sslv2_ciphers_offered;
    }
    if (!v2.empty()) {
      std::vector<std::string> names;
      for (std::uint32_t c : v2) {
        const Sslv2CipherInfo* i = find_sslv2_cipher(c);
        names.push_back(i ? std::string(i->name) : std::to_string(c));
      }
      add({"drown", "vulnerabilities", "DROWN (SSLv2 enabled)", Severity::critical, join(names),
           "disable SSLv2 everywhere this key is used: Apache `SSLCipherSuite ...:!SSLv2`, "
           "`SSLProtocol -all +TLSv1.2 +TLSv1.3`"});
    }
    // LOGJAM: finite-field DH below 2048 bits (RFC 7919 groups are 2048 and up).
    std::vector<std::size_t> bits;
    {
      std::lock_guard lock(mutex);
      bits = dh_bits;
    }
    if (!bits.empty()) {
      const std::size_t smallest = *std::min_element(bits.begin(), bits.end());
      std::vector<std::string> common;
      {
        std::lock_guard lock(mutex);
        common = common_weak_dh;
      }
      // A well-known prime under 2048 bits: one precomputation serves every server using it.
      const Severity sev = smallest < 1024 || !common.empty() ? Severity::high
                           : smallest < 2048                  ? Severity::medium
                                                              : Severity::ok;
      add({"logjam", "key exchange", sev == Severity::ok ? "DH parameters" : "LOGJAM (weak DH)",
           sev,
           "smallest DHE prime: " + std::to_string(smallest) + " bits" +
               (common.empty() ? "" : "; well-known prime " + common.front()),
           sev == Severity::ok ? ""
                               : "use a 2048-bit or larger group (RFC 7919 ffdhe2048): nginx "
                                 "`ssl_dhparam`, Apache `SSLOpenSSLConfCmd DHParameters`"});
    }
  }

  // Heartbeat, EMS, secure renegotiation and OCSP in one probe at the best version <= 1.2;
  // then, if the server took the heartbeat extension, the Heartbleed request.
  void features_probe() {
    const std::uint16_t v = best_legacy();
    if (v == 0) {
      for (std::string_view c : {"heartbleed", "ems", "renegotiation"})
        if (wants(c))
          add({std::string(c), c == "heartbleed" ? "vulnerabilities" : "features",
               std::string(c) + ": not applicable", Severity::ok,
               "no protocol version up to TLS 1.2 accepted", ""});
      return;
    }
    HelloBuilder h = hello_for(v);
    if (v != ssl3) {
      h.heartbeat = true;
      h.extended_master_secret = true;
      h.session_ticket = true;
      h.status_request = true;
    }
    auto p = probe(h);
    if (!p || !p->reply.hello || p->reply.hello->version != v) {
      add({"features", "features", "feature probe failed", Severity::info,
           p ? describe(*p) : "connection failed", ""});
      return;
    }
    const ServerHelloInfo& sh = *p->reply.hello;
    using E = tls::ExtensionType;
    if (wants("ems") && v != ssl3) {
      const bool ems = sh.has(static_cast<std::uint16_t>(E::extended_master_secret));
      add({"ems", "features", ems ? "extended master secret" : "no extended master secret",
           ems ? Severity::ok : Severity::low,
           ems ? "RFC 7627 extension accepted in " + version_name(v)
               : "the server ignored the RFC 7627 extension (triple handshake)",
           ems ? "" : "upgrade the TLS library (OpenSSL 1.1.0 or later supports RFC 7627)"});
    }
    if (wants("renegotiation")) {
      const bool secure = sh.has(static_cast<std::uint16_t>(E::renegotiation_info));
      add({"renegotiation.secure", "features",
           secure ? "secure renegotiation (RFC 5746)" : "no secure renegotiation",
           secure ? Severity::ok : Severity::medium,
           secure ? "renegotiation_info answered" : "no renegotiation_info in the ServerHello",
           secure ? ""
                  : "upgrade the TLS library; RFC 5746 fixes the renegotiation prefix attack"});
    }
    if (wants("ocsp") && v != ssl3) {
      const bool stapled = p->reply.certificate_status;
      add({"ocsp", "features", stapled ? "OCSP stapling" : "no OCSP stapling", Severity::info,
           stapled ? "a CertificateStatus message came with the certificate"
                   : "status_request offered; no stapled response",
           stapled
               ? ""
               : "staple OCSP responses: nginx `ssl_stapling on;`, Apache `SSLUseStapling on`"});
    }
    if (wants("resumption") && v != ssl3) {
      const bool tickets = sh.has(static_cast<std::uint16_t>(E::session_ticket));
      const bool ids = !sh.session_id.empty();
      add({"resumption.offered", "features", "session resumption (" + version_name(v) + ")",
           Severity::info,
           std::string("session IDs: ") + (ids ? "assigned" : "none") +
               "; session tickets (RFC 5077): " + (tickets ? "offered" : "not offered"),
           ""});
    }
    if (wants("heartbleed")) heartbleed(*p, v);
  }

  // ALPN through a full handshake with bulwark's engine (the protocol comes in TLS 1.3's
  // encrypted extensions).
  void alpn_check() {
    if (!offered(tls12) && !offered(tls13)) {
      add({"alpn", "features", "ALPN: not applicable", Severity::ok,
           "the engine speaks TLS 1.2 and 1.3 only", ""});
      return;
    }
    EngineOptions eo = engine_options();
    eo.alpn = {"h2", "http/1.1"};
    auto info = engine_handshake(endpoint, eo);
    if (!info) {
      add({"alpn", "features", "ALPN: handshake failed", Severity::info, info.error().message(),
           ""});
      return;
    }
    add({"alpn", "features", "ALPN", Severity::info,
         info->info.alpn.empty() ? "no protocol chosen from h2, http/1.1"
                                 : "chose " + info->info.alpn + " from h2, http/1.1",
         ""});
  }

  void heartbleed(ProbeResult& p, std::uint16_t v) {
    const bool heartbeat =
        p.reply.hello->has(static_cast<std::uint16_t>(tls::ExtensionType::heartbeat));
    if (!heartbeat) {
      add({"heartbleed", "vulnerabilities", "Heartbleed", Severity::ok,
           "heartbeat extension not negotiated", ""});
      return;
    }
    if (!p.reply.server_hello_done || !p.socket.open()) {
      add({"heartbleed", "vulnerabilities", "Heartbleed: inconclusive", Severity::info,
           "heartbeat negotiated but the server's flight did not end", ""});
      return;
    }
    // One payload byte, a claim of 16 KiB (RFC 6520 §4 says the payload_length must match).
    static constexpr std::uint8_t payload[] = {0x42};
    const auto request = heartbeat_request_record(v, 0x4000, payload);
    const auto deadline = Clock::now() + std::min<std::chrono::milliseconds>(
                                             options.timeout, std::chrono::milliseconds(3000));
    if (!p.socket.send_all(request, deadline)) {
      add({"heartbleed", "vulnerabilities", "Heartbleed", Severity::ok,
           "heartbeat negotiated; the over-long request was refused (connection closed)", ""});
      return;
    }
    // Count the bytes of heartbeat records that come back, never keeping them.
    std::size_t leaked = 0;
    std::size_t in_record = 0;  // bytes of the current record body still to come
    bool counting = false;      // the current record is a heartbeat
    std::array<std::uint8_t, 5> header{};
    std::size_t header_len = 0;
    std::uint8_t alert = 0;
    std::uint8_t buf[16 * 1024];
    for (;;) {
      auto n = p.socket.receive(buf, deadline);
      if (!n || *n == 0) break;
      std::size_t i = 0;
      while (i < *n) {
        if (in_record == 0) {
          header[header_len++] = buf[i++];
          if (header_len == header.size()) {
            counting = header[0] == static_cast<std::uint8_t>(tls::ContentType::heartbeat);
            in_record = static_cast<std::size_t>(header[3] << 8 | header[4]);
            header_len = 0;
            if (header[0] == static_cast<std::uint8_t>(tls::ContentType::alert) && in_record >= 2 &&
                i + 1 < *n)
              alert = buf[i + 1];
          }
          continue;
        }
        const std::size_t take = std::min(in_record, *n - i);
        if (counting) leaked += take;
        in_record -= take;
        i += take;
      }
      std::fill(std::begin(buf), std::end(buf), std::uint8_t{0});
      if (leaked > 0 && in_record == 0) break;
      if (alert != 0) break;
    }
    const std::size_t sent = request.size() - 5;
    if (leaked > sent) {
      add({"heartbleed", "vulnerabilities", "Heartbleed (CVE-2014-0160)", Severity::critical,
           "sent a " + std::to_string(sent) + "-byte heartbeat claiming 16384 bytes; got " +
               std::to_string(leaked) + " bytes back (server memory; not kept)",
           "upgrade OpenSSL to 1.0.1g or later and restart every service, then replace the "
           "private key and revoke the certificate"});
    } else {
      add({"heartbleed", "vulnerabilities", "Heartbleed", Severity::ok,
           leaked == 0 ? "heartbeat negotiated; the over-long request got no answer"
                       : "heartbeat answered without extra bytes",
           ""});
    }
  }

  // What the server answers next, ignoring anything but alerts: the alert's description, or
  // nothing when it closed (`closed`) or stayed silent until the deadline.
  static std::optional<std::uint8_t> next_alert(Socket& socket, Clock::time_point deadline,
                                                bool& closed) {
    closed = false;
    std::vector<std::uint8_t> pending;
    std::uint8_t buf[4096];
    std::size_t seen = 0;
    for (;;) {
      auto n = socket.receive(buf, deadline);
      if (!n || *n == 0) {
        closed = n.ok();
        return std::nullopt;
      }
      seen += *n;
      if (seen > 64 * 1024) return std::nullopt;  // a bound on what we read here
      pending.insert(pending.end(), buf, buf + *n);
      wire::Reader r(pending);
      while (r.remaining() >= 5) {
        const std::uint8_t type = *r.u8();
        (void)r.u16();
        const std::uint16_t length = *r.u16();
        if (r.remaining() < length) break;
        auto body = *r.bytes(length);
        if (type == static_cast<std::uint8_t>(tls::ContentType::alert) && body.size() >= 2)
          return body[1];
        pending.erase(pending.begin(), pending.begin() + 5 + length);
        r = wire::Reader(pending);
      }
    }
  }

  // CCS injection (CVE-2014-0224): a ChangeCipherSpec before any key exchange must be refused
  // with unexpected_message (RFC 5246 §7.1: CCS comes after the key exchange). A server that
  // takes it switches to keys an attacker can compute; our next record then fails its MAC.
  void ccs_probe() {
    const std::uint16_t v = best_legacy();
    if (v == 0) {
      add({"ccs_injection", "vulnerabilities", "CCS injection: not applicable", Severity::ok,
           "TLS 1.3 only", ""});
      return;
    }
    auto p = probe(hello_for(v));
    if (!p || !p->reply.server_hello_done || !p->socket.open()) {
      add({"ccs_injection", "vulnerabilities", "CCS injection: inconclusive", Severity::info,
           p ? describe(*p) : "connection failed", ""});
      return;
    }
    const auto deadline = [&] {
      return Clock::now() +
             std::min<std::chrono::milliseconds>(options.timeout, std::chrono::milliseconds(2000));
    };
    static constexpr std::uint8_t ccs[] = {1};
    bool closed = false;
    std::optional<std::uint8_t> alert;
    if (p->socket.send_all(plaintext_record(20, v, ccs), deadline()))
      alert = next_alert(p->socket, deadline(), closed);
    else
      closed = true;
    if (!alert && !closed) {
      // Silence: send a record as if protected under the injected keys.
      std::array<std::uint8_t, 32> junk{};
      (void)crypto::SystemRandom::instance().fill(junk);
      if (p->socket.send_all(plaintext_record(21, v, junk), deadline()))
        alert = next_alert(p->socket, deadline(), closed);
      if (alert && (*alert == 20 || *alert == 21)) {
        add({"ccs_injection", "vulnerabilities", "CCS injection (CVE-2014-0224)", Severity::high,
             "an early ChangeCipherSpec was accepted; the next record got " + alert_text(*alert),
             "upgrade OpenSSL (1.0.1h, 1.0.0m, 0.9.8za or later) and restart the service"});
        return;
      }
    }
    if ((alert && *alert == 10) || closed) {
      add({"ccs_injection", "vulnerabilities", "no CCS injection", Severity::ok,
           alert ? "an early ChangeCipherSpec got alert unexpected_message"
                 : "an early ChangeCipherSpec closed the connection",
           ""});
      return;
    }
    add({"ccs_injection", "vulnerabilities", "CCS injection: inconclusive", Severity::info,
         alert ? "an early ChangeCipherSpec got " + alert_text(*alert) : "no answer in time", ""});
  }

  // Client-initiated renegotiation (THC-SSL-DoS: each renegotiation costs the server a full
  // handshake, the client next to nothing): a complete TLS 1.2 ECDHE handshake, then a
  // renegotiation ClientHello under its keys (scan/renegotiation.hpp).
  void client_renegotiation_probe() {
    const std::string id = "renegotiation.client";
    const std::string section = "vulnerabilities";
    if (!offered(tls12)) {
      const bool older = offered(ssl3) || offered(tls10) || offered(tls11);
      // RFC 8446 §4.1.2: TLS 1.3 forbids renegotiation. Before
      // TLS 1.2 the probe cannot run, which is not the same as safe.
      add({id, section,
           older ? "client-initiated renegotiation: not tested"
                 : "client-initiated renegotiation: not applicable",
           older ? Severity::info : Severity::ok,
           older ? "the probe renegotiates over TLS 1.2, which the server does not offer"
                 : "TLS 1.3 has no renegotiation; nothing older accepted",
           ""});
      return;
    }
    const auto deadline = Clock::now() + options.timeout;
    auto probe = RenegotiationProbe::start(sni, crypto::SystemRandom::instance());
    auto socket = probe ? Socket::connect(endpoint, deadline) : Result<Socket>(probe.error());
    if (!socket) {
      {
        std::lock_guard lock(mutex);
        probe_error = socket.error().message();
      }
      add({id, section, "client-initiated renegotiation: not tested", Severity::info,
           socket.error().message(), ""});
      return;
    }
    bool timed_out = false;
    std::uint8_t buf[16 * 1024];
    while (!probe->done()) {
      const wire::Bytes out = probe->pending_output();
      if (!out.empty()) {
        if (!socket->send_all(out, deadline)) {
          probe->transport_closed();
          break;
        }
        probe->consume_output(out.size());
      }
      auto n = socket->receive(buf, deadline);
      if (!n) {
        timed_out = n.error() == Errc::timed_out;
        if (!timed_out) probe->transport_closed();
        break;
      }
      if (*n == 0) {
        probe->transport_closed();
        break;
      }
      probe->feed(wire::Bytes(buf, *n));
    }
    const std::string handshake =
        "after a TLS 1.2 " + suite_name(probe->cipher_suite()) + " handshake, a " +
        (probe->secure_renegotiation() ? "renegotiation ClientHello (RFC 5746)"
                                       : "legacy renegotiation ClientHello");
    switch (probe->answer()) {
      case RenegotiationAnswer::accepted:
        add({id, section, "client-initiated renegotiation accepted", Severity::medium,
             handshake + " was answered with a ServerHello: every renegotiation costs the "
                         "server a full handshake (THC-SSL-DoS)",
             "refuse client-initiated renegotiation: OpenSSL 3 refuses it unless "
             "SSL_OP_ALLOW_CLIENT_RENEGOTIATION is set (`-client_renegotiation`, `Options = "
             "ClientRenegotiation`): remove it, or set SSL_OP_NO_RENEGOTIATION "
             "(`-no_renegotiation`); nginx (0.8.23+) and Apache httpd (2.2.15+) refuse it "
             "themselves, so upgrade (Apache's `SSLInsecureRenegotiation` is RFC 5746, not "
             "this)"});
        return;
      case RenegotiationAnswer::refused_warning:
      case RenegotiationAnswer::refused_fatal:
        add({id, section, "client-initiated renegotiation refused", Severity::ok,
             handshake + " got " + probe->detail(), ""});
        return;
      case RenegotiationAnswer::closed:
        add({id, section, "client-initiated renegotiation refused", Severity::ok,
             handshake + " made the server close the connection", ""});
        return;
      case RenegotiationAnswer::unexpected:
      case RenegotiationAnswer::pending:
        add({id, section, "client-initiated renegotiation: inconclusive", Severity::info,
             probe->renegotiation_sent()
                 ? handshake + (timed_out ? " got no answer in time" : ": " + probe->detail())
                 : "the first handshake did not complete in time",
             ""});
        return;
      case RenegotiationAnswer::not_tested:
        break;
    }
    add({id, section, "client-initiated renegotiation: not tested", Severity::info,
         probe->detail() +
             " (the probe needs a TLS 1.2 ECDHE suite with AES-GCM or ChaCha20-Poly1305)",
         ""});
  }

  // Resumption for real: a full handshake with bulwark's engine, then one offering the session
  // (TLS 1.3 ticket, or TLS 1.2 ticket / session id) it left.
  void resumption_check() {
    if (!offered(tls12) && !offered(tls13)) return;
    auto cache = std::make_shared<tls::SessionCache>();
    const auto limit =
        std::min<std::chrono::milliseconds>(options.timeout, std::chrono::milliseconds(2000));
    EngineOptions eo = engine_options();
    eo.timeout = limit;
    eo.sessions = cache;
    eo.wait_for_session = true;
    auto first = engine_handshake(endpoint, eo);
    if (!first) {
      add({"resumption", "features", "resumption: handshake failed", Severity::info,
           first.error().message(), ""});
      return;
    }
    if (first->info.version == tls::ProtocolVersion::tls12 && !first->info.extended_master_secret) {
      add({"resumption", "features", "resumption: not tried", Severity::info,
           "a TLS 1.2 session without the extended master secret is never resumed (RFC 7627 "
           "§5.3)",
           ""});
      return;
    }
    if (cache->size() == 0) {
      add({"resumption", "features", "no session resumption", Severity::info,
           "no ticket or session id to resume after a " +
               version_name(static_cast<std::uint16_t>(first->info.version)) + " handshake",
           ""});
      return;
    }
    auto second = engine_handshake(endpoint, eo);
    const bool resumed = second && second->info.resumed;
    add({"resumption", "features", resumed ? "session resumption works" : "session not resumed",
         Severity::info,
         resumed ? version_name(static_cast<std::uint16_t>(second->info.version)) +
                       " session resumed on a second connection"
                 : (second ? "the server ran a full handshake again" : second.error().message()),
         ""});
  }

  // HTTP Strict Transport Security (RFC 6797) on `GET /` over a full handshake.
  void hsts_check() {
    if (!offered(tls12) && !offered(tls13)) {
      add({"hsts", "features", "HSTS: not checked", Severity::info,
           "the engine speaks TLS 1.2 and 1.3 only", ""});
      return;
    }
    EngineOptions eo = engine_options();
    eo.alpn = {"http/1.1"};
    eo.http_host = sni.empty() ? endpoint.address_text : sni;
    auto r = engine_handshake(endpoint, eo);
    if (!r) {
      add({"hsts", "features", "HSTS: not checked", Severity::info, r.error().message(), ""});
      return;
    }
    if (r->http_head.rfind("HTTP/", 0) != 0) {
      add({"hsts", "features", "HSTS: not an HTTP server", Severity::info,
           "no HTTP response to GET /", ""});
      return;
    }
    std::string lower = r->http_head;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    constexpr std::string_view field = "\r\nstrict-transport-security:";
    const auto at = lower.find(field);
    const char* const remedy =
        "send HSTS: nginx `add_header Strict-Transport-Security \"max-age=63072000\" always;`, "
        "Apache `Header always set Strict-Transport-Security \"max-age=63072000\"`";
    if (at == std::string::npos) {
      add({"hsts", "features", "no HSTS", Severity::low,
           "no Strict-Transport-Security header on GET /", remedy});
      return;
    }
    auto value_start = at + field.size();
    while (value_start < lower.size() && lower[value_start] == ' ')
      ++value_start;
    const std::string value =
        r->http_head.substr(value_start, lower.find("\r\n", value_start) - value_start);
    long max_age = -1;
    if (const auto m = lower.find("max-age=", value_start);
        m != std::string::npos && m < lower.find("\r\n", value_start))
      max_age = std::strtol(lower.c_str() + m + 8, nullptr, 10);
    // RFC 6797 §6.1.1: max-age is required; half a year is the common floor (preload lists).
    const bool strong = max_age >= 15552000;
    add({"hsts", "features", strong ? "HSTS" : "weak HSTS", strong ? Severity::ok : Severity::low,
         "Strict-Transport-Security: " + value, strong ? "" : remedy});
  }

  void compression_probe() {
    const std::uint16_t v = best_legacy();
    if (v == 0) {
      add({"crime", "vulnerabilities", "CRIME (TLS compression)", Severity::ok,
           "TLS 1.3 forbids compression; nothing older accepted", ""});
      return;
    }
    HelloBuilder h = hello_for(v);
    h.compression_methods = {1, 0};  // DEFLATE (RFC 3749) first
    auto p = probe(h);
    if (!p || !p->reply.hello) {
      add({"crime", "vulnerabilities", "CRIME: inconclusive", Severity::info,
           p ? describe(*p) : "connection failed", ""});
      return;
    }
    const bool deflate = p->reply.hello->compression_method != 0;
    add({"crime", "vulnerabilities", deflate ? "CRIME (TLS compression)" : "no TLS compression",
         deflate ? Severity::high : Severity::ok,
         deflate ? "the server chose DEFLATE in " + version_name(v)
                 : "null compression chosen when DEFLATE was offered",
         deflate ? "disable TLS compression: nginx (OpenSSL >= 1.1.0 has none), Apache "
                   "`SSLCompression off`"
                 : ""});
  }

  void fallback_probe() {
    std::vector<std::uint16_t> on;
    for (std::uint16_t v : {ssl3, tls10, tls11, tls12, tls13})
      if (offered(v)) on.push_back(v);
    if (on.size() < 2) {
      add({"fallback_scsv", "features", "TLS_FALLBACK_SCSV: not applicable", Severity::ok,
           "only one protocol version offered: nothing to downgrade to", ""});
      return;
    }
    const std::uint16_t lower = on[on.size() - 2];
    HelloBuilder h = hello_for(lower);
    h.suites.push_back(fallback_scsv);
    auto p = probe(h);
    if (!p) return;
    if (p->reply.alert && p->reply.alert->second == alert_inappropriate_fallback) {
      add({"fallback_scsv", "features", "TLS_FALLBACK_SCSV honoured", Severity::ok,
           "a " + version_name(lower) + " fallback hello got inappropriate_fallback", ""});
      return;
    }
    if (p->reply.hello) {
      const bool old = offered(ssl3) || offered(tls10) || offered(tls11);
      add({"fallback_scsv", "features", "no downgrade protection (RFC 7507)",
           old ? Severity::medium : Severity::low,
           "a " + version_name(lower) + " hello with TLS_FALLBACK_SCSV was accepted",
           "upgrade the TLS library (OpenSSL 1.0.1j or later honours TLS_FALLBACK_SCSV)"});
      return;
    }
    add({"fallback_scsv", "features", "TLS_FALLBACK_SCSV: inconclusive", Severity::info,
         describe(*p), ""});
  }

  void certificate_check() {
    std::vector<std::vector<std::uint8_t>> chain_der;
    {
      std::lock_guard lock(mutex);
      for (std::uint16_t v : {tls12, tls11, tls10, ssl3}) {
        auto it = version_replies.find(v);
        if (it != version_replies.end() && !it->second.reply.certificates.empty()) {
          chain_der = it->second.reply.certificates;
          break;
        }
      }
    }
    std::string via = "plaintext handshake";
    if (chain_der.empty() && offered(tls13)) {
      // TLS 1.3 encrypts the Certificate: a full handshake with bulwark's engine shows it.
      auto info = engine_handshake(endpoint, engine_options());
      if (info)
        for (const auto& c : info->info.peer_certificates) {
          auto der = c.der();
          chain_der.emplace_back(der.begin(), der.end());
        }
      via = "TLS 1.3 handshake";
    }
    if (chain_der.empty()) {
      add({"certificate", "certificate", "certificate not examined", Severity::info,
           "no certificate seen (anonymous suites only, or the handshake failed)", ""});
      return;
    }
    std::vector<crypto::Certificate> chain;
    for (const auto& der : chain_der) {
      auto c = crypto::Certificate::from_der(der);
      if (!c) {
        add({"certificate.parse", "certificate", "certificate does not parse", Severity::high,
             c.error().message(), "install a valid certificate chain"});
        return;
      }
      chain.push_back(std::move(*c));
    }
    const crypto::Certificate& leaf = chain.front();
    add({"certificate.subject", "certificate", "subject", Severity::info,
         leaf.subject() + "; issuer " + leaf.issuer(), ""});
    add({"certificate.names", "certificate", "subject alternative names", Severity::info,
         join(leaf.dns_names(), 8) +
             (leaf.ip_address_texts().empty() ? "" : " IP " + join(leaf.ip_address_texts(), 4)),
         ""});
    // Trust: the chain as sent, to the system store or --cacert.
    auto store = options.cacert.empty() ? crypto::TrustStore::system()
                                        : crypto::TrustStore::from_file(options.cacert);
    if (!store) {
      add({"certificate.trust", "certificate", "trust store unavailable", Severity::info,
           store.error().message(), ""});
    } else {
      std::span<const crypto::Certificate> intermediates(chain.data() + 1, chain.size() - 1);
      auto trusted = store->verify(leaf, intermediates, {});
      add({"certificate.trust", "certificate", trusted ? "chain trusted" : "chain not trusted",
           trusted ? Severity::ok : Severity::high,
           trusted ? std::to_string(chain.size()) + " certificate(s) sent (" + via +
                         "), path to an anchor"
                   : trusted.error().message(),
           trusted ? ""
                   : "serve the full chain from a publicly trusted CA (nginx "
                     "`ssl_certificate` with the intermediates appended)"});
    }
    auto named = crypto::verify_host(leaf, verify_name);
    add({"certificate.hostname", "certificate", named ? "host name matches" : "host name mismatch",
         named ? Severity::ok : Severity::high,
         named ? verify_name + " is in the subjectAltName" : named.error().message(),
         named ? "" : "issue a certificate whose subjectAltName names " + verify_name});
    const auto now = std::chrono::system_clock::now();
    const auto days_left =
        std::chrono::duration_cast<std::chrono::hours>(leaf.not_after() - now).count() / 24;
    if (leaf.not_after() < now) {
      add({"certificate.expiry", "certificate", "certificate expired", Severity::critical,
           "expired " + std::to_string(-days_left) + " days ago", "renew the certificate"});
    } else if (leaf.not_before() > now) {
      add({"certificate.expiry", "certificate", "certificate not yet valid", Severity::high,
           "valid only in the future", "check the server clock or the certificate dates"});
    } else {
      add({"certificate.expiry", "certificate", "validity",
           days_left < 30 ? Severity::low : Severity::ok, std::to_string(days_left) + " days left",
           days_left < 30 ? "renew the certificate soon (automate with ACME)" : ""});
    }
    if (auto key = leaf.public_key()) {
      const auto type = key->type();
      const int bits = key->bits();
      const bool rsa = type == crypto::KeyType::rsa || type == crypto::KeyType::rsa_pss;
      const Severity sev = rsa && bits < 1024   ? Severity::critical
                           : rsa && bits < 2048 ? Severity::high
                                                : Severity::ok;
      add({"certificate.key", "certificate", "public key", sev,
           std::string(crypto::key_type_name(type)) + " " + std::to_string(bits) + " bits",
           sev == Severity::ok ? "" : "use an RSA key of 2048 bits or more, or ECDSA P-256"});
    }
    const std::string sig = leaf.signature_algorithm_name();
    std::string lower = sig;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const bool weak =
        lower.find("sha1") != std::string::npos || lower.find("md5") != std::string::npos;
    add({"certificate.signature", "certificate", "signature algorithm",
         weak ? Severity::medium : Severity::ok, sig,
         weak ? "reissue the certificate with SHA-256" : ""});
  }
};

}  // namespace

std::span<const std::string_view> check_names() noexcept {
  return all_checks;
}

Result<Report> scan(const ScanOptions& options) {
  const auto start = Clock::now();
  Report report;
  report.started = utc_now();
  for (const std::string& c : options.checks)
    if (std::find(std::begin(all_checks), std::end(all_checks), c) == std::end(all_checks))
      return Error(Errc::invalid_argument, "unknown check: " + c);
  BW_ASSIGN(Endpoint endpoint, Endpoint::resolve(options.host, options.port));
  // One plain connection first: an unreachable target is an error, not a list of findings.
  { BW_TRY(Socket::connect(endpoint, Clock::now() + options.timeout)); }
  Scan s(options, std::move(endpoint));
  for (std::string_view c : all_checks)
    if (options.checks.empty() ||
        std::find(options.checks.begin(), options.checks.end(), c) != options.checks.end())
      s.checks.insert(std::string(c));
  const bool ip = crypto::parse_ip_literal(options.host).has_value();
  s.sni = !options.server_name.empty() ? options.server_name : (ip ? "" : options.host);
  s.verify_name = !options.server_name.empty() ? options.server_name : options.host;

  // 1. Which versions does the server speak?
  run_parallel(std::size(probe_versions), options.concurrency,
               [&](std::size_t i) { s.probe_version(probe_versions[i]); });
  // 2. Which suites, per version (versions in parallel, rounds within one in sequence)?
  if (s.wants("ciphers")) {
    std::vector<std::uint16_t> offered_versions;
    for (std::uint16_t v : {ssl3, tls10, tls11, tls12, tls13})
      if (s.offered(v)) offered_versions.push_back(v);
    // One task per version, and one for the groups, at most `concurrency` at once.
    std::vector<std::function<void()>> enumerations;
    for (std::uint16_t v : offered_versions)
      enumerations.emplace_back([&s, v] { s.enumerate_suites(v); });
    enumerations.emplace_back([&s] { s.enumerate_groups(); });
    run_parallel(enumerations.size(), options.concurrency,
                 [&](std::size_t i) { enumerations[i](); });
    for (std::uint32_t c : s.sslv2_ciphers_offered) {
      const Sslv2CipherInfo* info = find_sslv2_cipher(c);
      s.suites.push_back({ssl2, c, info ? std::string(info->name) : std::to_string(c), "RSA"});
    }
    std::stable_sort(
        s.suites.begin(), s.suites.end(),
        [](const AcceptedSuite& a, const AcceptedSuite& b) { return a.version < b.version; });
  }
  // 3. The checks that each need a connection of their own.
  std::vector<std::function<void()>> tasks;
  if (s.wants("heartbleed") || s.wants("ems") || s.wants("renegotiation") || s.wants("ocsp") ||
      s.wants("resumption"))
    tasks.emplace_back([&] { s.features_probe(); });
  if (s.wants("compression")) tasks.emplace_back([&] { s.compression_probe(); });
  if (s.wants("fallback")) tasks.emplace_back([&] { s.fallback_probe(); });
  if (s.wants("certificate")) tasks.emplace_back([&] { s.certificate_check(); });
  if (s.wants("alpn")) tasks.emplace_back([&] { s.alpn_check(); });
  if (s.wants("ccs")) tasks.emplace_back([&] { s.ccs_probe(); });
  if (s.wants("hsts")) tasks.emplace_back([&] { s.hsts_check(); });
  if (s.wants("resumption")) tasks.emplace_back([&] { s.resumption_check(); });
  run_parallel(tasks.size(), options.concurrency, [&](std::size_t i) { tasks[i](); });
  // 4. Client-initiated renegotiation last and alone: a single-threaded server (openssl
  // s_server -www) that refused it sleeps a second before it serves anyone else.
  if (s.wants("renegotiation")) s.client_renegotiation_probe();
  if (s.wants("protocols")) s.protocol_findings();
  if (s.wants("ciphers")) s.cipher_findings();
  if (s.probe_error)
    s.findings.push_back(
        {"scan.incomplete", "scan", "some probes failed", Severity::info, *s.probe_error, ""});

  report.host = options.host;
  report.port = options.port;
  report.address = s.endpoint.address_text;
  report.server_name = s.sni;
  for (std::string_view c : all_checks)
    if (s.wants(c)) report.checks.emplace_back(c);
  for (auto& [v, r] : s.versions)
    report.versions.push_back(r);
  report.suites = std::move(s.suites);
  report.findings = std::move(s.findings);
  // Stable order for people and programs: by section as rendered, then by id.
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.id < b.id; });
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

}  // namespace bulwark::scan
