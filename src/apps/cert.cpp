// `bulwark cert show` and `bulwark cert verify`: inspect certificates and check chains the way
// bulwark's TLS clients do (chain to a trust anchor, validity, purpose, host name).
#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <filesystem>

#include "apps/common.hpp"
#include "bulwark/crypto/certificate.hpp"
#include "bulwark/crypto/trust_store.hpp"

namespace bulwark::apps {

namespace fs = std::filesystem;
using namespace bulwark::crypto;
using Clock = std::chrono::system_clock;

namespace {

std::string iso8601(Clock::time_point t) {
  const std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "2030-01-01" or "2030-01-01T12:00:00Z".
std::optional<Clock::time_point> parse_time(const std::string& s) {
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') {
    tm = {};
    end = strptime(s.c_str(), "%Y-%m-%d", &tm);
    if (end == nullptr || *end != '\0') return std::nullopt;
  }
  return Clock::from_time_t(timegm(&tm));
}

std::string hex_colon(std::span<const std::uint8_t> b) {
  std::string out;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i != 0) out += ':';
    out += fmt::format("{:02X}", b[i]);
  }
  return out;
}

nlohmann::json describe(const Certificate& c) {
  nlohmann::json j;
  j["subject"] = c.subject();
  j["issuer"] = c.issuer();
  j["serial"] = c.serial_hex();
  j["not_before"] = iso8601(c.not_before());
  j["not_after"] = iso8601(c.not_after());
  const auto left = std::chrono::duration_cast<std::chrono::hours>(c.not_after() - Clock::now());
  j["days_left"] = left.count() / 24;
  if (auto k = c.public_key()) {
    j["key"] = std::string(key_type_name(k->type()));
    j["key_bits"] = k->bits();
  }
  j["signature_algorithm"] = c.signature_algorithm_name();
  j["dns_names"] = c.dns_names();
  j["ip_addresses"] = c.ip_address_texts();
  j["ca"] = c.is_ca();
  j["self_signed"] = c.self_signed();
  if (auto fp = c.sha256_fingerprint()) j["sha256"] = hex_colon(*fp);
  return j;
}

struct ShowOptions {
  std::string file;
  bool json = false;
};

int run_show(const ShowOptions& o) {
  auto certs = load_certificates_file(o.file);
  if (!certs) return fail("cert show", certs.error());
  nlohmann::json all = nlohmann::json::array();
  for (const auto& c : *certs)
    all.push_back(describe(c));
  if (o.json) {
    fmt::print("{}\n", all.dump(2));
    return exit_ok;
  }
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& j = all[i];
    if (certs->size() > 1) fmt::print("certificate {} of {}\n", i + 1, certs->size());
    fmt::print("  subject      {}\n", j["subject"].get<std::string>());
    fmt::print("  issuer       {}\n", j["issuer"].get<std::string>());
    fmt::print("  valid        {} .. {} ({} days left)\n", j["not_before"].get<std::string>(),
               j["not_after"].get<std::string>(), j["days_left"].get<long>());
    if (j.contains("key")) {
      fmt::print("  key          {} ({} bits)\n", j["key"].get<std::string>(),
                 j["key_bits"].get<int>());
    }
    fmt::print("  signature    {}\n", j["signature_algorithm"].get<std::string>());
    for (const auto& n : j["dns_names"])
      fmt::print("  DNS name     {}\n", n.get<std::string>());
    for (const auto& n : j["ip_addresses"]) {
      fmt::print("  IP address   {}\n", n.get<std::string>());
    }
    fmt::print("  CA           {}\n", j["ca"].get<bool>() ? "yes" : "no");
    fmt::print("  serial       {}\n", j["serial"].get<std::string>());
    if (j.contains("sha256")) fmt::print("  SHA-256      {}\n", j["sha256"].get<std::string>());
  }
  return exit_ok;
}

struct VerifyCmdOptions {
  std::string file;
  std::string cacert;
  std::string name;
  std::string purpose = "server";
  std::string at;
};

int run_verify(const VerifyCmdOptions& o) {
  const char* cmd = "cert verify";
  auto certs = load_certificates_file(o.file);
  if (!certs) return fail(cmd, certs.error());

  Result<TrustStore> store = Errc::invalid_argument;
  if (o.cacert.empty()) {
    store = TrustStore::system();
  } else if (fs::is_directory(o.cacert)) {
    store = TrustStore::from_directory(o.cacert);
  } else {
    store = TrustStore::from_file(o.cacert);
  }
  if (!store) return fail(cmd, store.error());

  VerifyOptions v;
  v.host = o.name;
  v.purpose = o.purpose == "client" ? Purpose::client
              : o.purpose == "any"  ? Purpose::any
                                    : Purpose::server;
  if (!o.at.empty()) {
    auto t = parse_time(o.at);
    if (!t) return fail(cmd, "cannot parse --at " + o.at, "use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
    v.at = *t;
  }
  const Certificate& leaf = certs->front();
  std::span<const Certificate> intermediates(certs->data() + 1, certs->size() - 1);
  if (auto s = store->verify(leaf, intermediates, v); !s) {
    std::string remedy;
    switch (s.error().code()) {
      case Errc::cert_unknown_ca:
        remedy = "pass the issuing CA with --cacert, or include the intermediates in the file";
        break;
      case Errc::cert_hostname_mismatch:
        remedy = "the certificate does not name this host: check --name";
        break;
      case Errc::cert_expired:
      case Errc::cert_not_yet_valid:
        remedy = "renew the certificate (or check the clock)";
        break;
      default:
        break;
    }
    return fail(cmd, s.error(), remedy);
  }
  fmt::print("OK: {} verified{}{}\n", leaf.subject(),
             o.name.empty() ? std::string() : " for " + o.name,
             o.cacert.empty() ? " against the system trust store" : " against " + o.cacert);
  return exit_ok;
}

}  // namespace

void register_cert(CLI::App& app, Action& run) {
  auto* cert = app.add_subcommand("cert", "Inspect certificates and verify chains");
  cert->require_subcommand(1);

  auto show = std::make_shared<ShowOptions>();
  auto* s = cert->add_subcommand("show", "Print the certificates in a PEM or DER file");
  s->add_option("FILE", show->file, "PEM bundle or DER certificate")->required();
  s->add_flag("--json", show->json, "Print JSON (an array, one object per certificate)");
  s->callback([show, &run] { run = [show] { return run_show(*show); }; });

  auto ver = std::make_shared<VerifyCmdOptions>();
  auto* v = cert->add_subcommand(
      "verify", "Verify FILE (leaf first, then intermediates) as a TLS client would");
  v->add_option("FILE", ver->file, "PEM bundle: the leaf, then any intermediates")->required();
  v->add_option("--cacert", ver->cacert,
                "Trust anchors: a PEM file or a hashed directory (default: the system store)");
  v->add_option("--name", ver->name, "Host name or IP address the certificate must be valid for");
  v->add_option("--purpose", ver->purpose, "What the leaf is for")
      ->check(CLI::IsMember({"server", "client", "any"}))
      ->default_val(ver->purpose);
  v->add_option("--at", ver->at, "Check validity at this time instead of now (UTC)");
  v->callback([ver, &run] { run = [ver] { return run_verify(*ver); }; });
}

}  // namespace bulwark::apps
