// `bulwark ca init` and `bulwark ca issue`: a small local certificate authority.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <map>

#include "apps/common.hpp"
#include "bulwark/crypto/certificate.hpp"
#include "bulwark/crypto/hostname.hpp"
#include "bulwark/crypto/issuer.hpp"
#include "bulwark/crypto/keys.hpp"

namespace bulwark::apps {

namespace fs = std::filesystem;
using namespace bulwark::crypto;

namespace {

constexpr auto key_mode = fs::perms::owner_read | fs::perms::owner_write;  // 0600

struct KeyChoice {
  KeyType type;
  int rsa_bits;
};

const std::map<std::string, KeyChoice>& key_choices() {
  static const std::map<std::string, KeyChoice> m = {
      {"ecdsa-p256", {KeyType::ec_p256, 0}}, {"ecdsa-p384", {KeyType::ec_p384, 0}},
      {"rsa-2048", {KeyType::rsa, 2048}},    {"rsa-3072", {KeyType::rsa, 3072}},
      {"ed25519", {KeyType::ed25519, 0}},
  };
  return m;
}

CLI::Option* add_key_option(CLI::App* cmd, std::string& key) {
  std::vector<std::string> names;
  for (const auto& [name, _] : key_choices())
    names.push_back(name);
  return cmd->add_option("--key", key, "Key type")->check(CLI::IsMember(names))->default_val(key);
}

Result<PrivateKey> generate_key(const std::string& choice) {
  const KeyChoice& k = key_choices().at(choice);
  return PrivateKey::generate(k.type, k.rsa_bits == 0 ? 2048 : k.rsa_bits);
}

struct InitOptions {
  std::string dir;
  std::string name = "bulwark local CA";
  std::string key = "ecdsa-p256";
  int days = 3650;
};

int run_init(const InitOptions& o) {
  const char* cmd = "ca init";
  const fs::path dir(o.dir);
  const fs::path key_path = dir / "ca.key";
  const fs::path crt_path = dir / "ca.crt";
  std::error_code ec;
  if (fs::exists(key_path, ec)) {
    return fail(cmd, key_path.string() + " already exists",
                "keep using it, or remove the directory to start a new CA");
  }
  fs::create_directories(dir, ec);
  if (ec) return fail(cmd, "cannot create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);

  auto key = generate_key(o.key);
  if (!key) return fail(cmd, key.error());
  CertificateSpec spec = ca_spec(o.name, std::chrono::hours(24) * o.days);
  auto cert = issue_certificate(spec, key->public_key(), *key, nullptr);
  if (!cert) return fail(cmd, cert.error());
  auto key_pem = key->to_pem();
  auto crt_pem = cert->to_pem();
  if (!key_pem) return fail(cmd, key_pem.error());
  if (!crt_pem) return fail(cmd, crt_pem.error());
  if (auto s = write_file(key_path, *key_pem, key_mode); !s) return fail(cmd, s.error());
  if (auto s = write_file(crt_path, *crt_pem); !s) return fail(cmd, s.error());

  fmt::print("created CA \"{}\" ({}, valid {} days)\n", o.name, o.key, o.days);
  fmt::print("  certificate  {}\n  private key  {} (mode 0600: keep it secret)\n",
             crt_path.string(), key_path.string());
  fmt::print("trust it:\n");
  fmt::print("  curl          curl --cacert {} https://...\n", crt_path.string());
  fmt::print(
      "  system store  cp {} /usr/local/share/ca-certificates/bulwark-ca.crt && "
      "update-ca-certificates\n",
      crt_path.string());
  fmt::print(
      "  Firefox       Settings > Privacy & Security > Certificates > View "
      "Certificates > Authorities > Import {}\n",
      crt_path.string());
  return exit_ok;
}

struct IssueOptions {
  std::string dir;
  std::vector<std::string> names;
  std::vector<std::string> ips;
  std::string key = "ecdsa-p256";
  int days = 90;
  bool client = false;
  std::string out;
};

int run_issue(const IssueOptions& o) {
  const char* cmd = "ca issue";
  if (o.names.empty() && o.ips.empty()) {
    return fail(cmd, "no name to certify", "give --name HOST and/or --ip ADDR");
  }
  for (const auto& n : o.names) {
    if (parse_ip_literal(n)) return fail(cmd, n + " is an IP address", "give it with --ip");
  }
  for (const auto& ip : o.ips) {
    if (!parse_ip_literal(ip)) return fail(cmd, ip + " is not an IPv4 or IPv6 address");
  }
  const fs::path dir(o.dir);
  auto ca_key = PrivateKey::load_file(dir / "ca.key");
  if (!ca_key) {
    return fail(cmd, ca_key.error(), "create the CA first with: bulwark ca init " + o.dir);
  }
  auto ca_cert = load_certificate_file(dir / "ca.crt");
  if (!ca_cert) return fail(cmd, ca_cert.error());

  auto key = generate_key(o.key);
  if (!key) return fail(cmd, key.error());
  CertificateSpec spec;
  spec.common_name = o.names.empty() ? o.ips.front() : o.names.front();
  spec.dns_names = o.names;
  spec.ip_addresses = o.ips;
  spec.not_before = std::chrono::system_clock::now() - std::chrono::hours(1);
  spec.not_after = std::chrono::system_clock::now() + std::chrono::hours(24) * o.days;
  spec.usage = o.client ? CertificateSpec::Usage::client : CertificateSpec::Usage::server;
  auto cert = issue_certificate(spec, key->public_key(), *ca_key, &*ca_cert);
  if (!cert) return fail(cmd, cert.error());

  auto key_pem = key->to_pem();
  auto crt_pem = cert->to_pem();
  if (!key_pem) return fail(cmd, key_pem.error());
  if (!crt_pem) return fail(cmd, crt_pem.error());
  const fs::path key_path = o.out + ".key";
  const fs::path crt_path = o.out + ".crt";
  if (auto s = write_file(key_path, *key_pem, key_mode); !s) return fail(cmd, s.error());
  if (auto s = write_file(crt_path, *crt_pem); !s) return fail(cmd, s.error());
  fmt::print("issued {} certificate for {} (valid {} days, signed by \"{}\")\n",
             o.client ? "client" : "server", spec.common_name, o.days, ca_cert->common_name());
  fmt::print("  certificate  {}\n  private key  {}\n", crt_path.string(), key_path.string());
  return exit_ok;
}

}  // namespace

void register_ca(CLI::App& app, Action& run) {
  auto* ca =
      app.add_subcommand("ca", "A local certificate authority: create it, issue certificates");
  ca->require_subcommand(1);

  auto init = std::make_shared<InitOptions>();
  auto* i = ca->add_subcommand("init", "Create a CA (key and self-signed certificate) in DIR");
  i->add_option("DIR", init->dir, "Directory for ca.key and ca.crt")->required();
  i->add_option("--name", init->name, "Common name of the CA")->default_val(init->name);
  add_key_option(i, init->key);
  i->add_option("--days", init->days, "Validity in days")
      ->check(CLI::Range(1, 36500))
      ->default_val(init->days);
  i->callback([init, &run] { run = [init] { return run_init(*init); }; });

  auto issue = std::make_shared<IssueOptions>();
  auto* s =
      ca->add_subcommand("issue", "Issue a server (or client) certificate from the CA in DIR");
  s->add_option("DIR", issue->dir, "The CA directory (from `bulwark ca init`)")->required();
  s->add_option("--name", issue->names, "DNS name to certify (repeatable)");
  s->add_option("--ip", issue->ips, "IP address to certify (repeatable)");
  add_key_option(s, issue->key);
  s->add_option("--days", issue->days, "Validity in days")
      ->check(CLI::Range(1, 3650))
      ->default_val(issue->days);
  s->add_flag("--client", issue->client, "Issue a client certificate (clientAuth)");
  s->add_option("--out", issue->out, "Write PREFIX.crt and PREFIX.key")->required();
  s->callback([issue, &run] { run = [issue] { return run_issue(*issue); }; });
}

}  // namespace bulwark::apps
