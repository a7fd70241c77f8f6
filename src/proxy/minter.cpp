#include "bulwark/proxy/minter.hpp"

#include <algorithm>

#include "bulwark/crypto/hostname.hpp"
#include "bulwark/crypto/issuer.hpp"

namespace bulwark::proxy {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

// A dNSName worth copying: letters, digits, '-', '_', '.', and a leading "*." wildcard label.
// Anything else an upstream CA put there is left out rather than signed by our CA.
bool copyable_dns_name(std::string_view name) {
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (name.empty() || name.size() > 253) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

std::string_view without_brackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

void add_requested(NameSet& names, std::string_view requested) {
  requested = without_brackets(requested);
  if (requested.empty()) return;
  if (crypto::parse_ip_literal(requested)) {
    names.ip_addresses.emplace_back(requested);
  } else if (copyable_dns_name(requested)) {
    names.dns_names.push_back(lower(requested));
  }
}

}  // namespace

NameSet NameSet::from_upstream(const crypto::Certificate& upstream_leaf,
                               std::string_view requested) {
  NameSet names;
  for (const std::string& dns : upstream_leaf.dns_names())
    if (copyable_dns_name(dns)) names.dns_names.push_back(lower(dns));
  names.ip_addresses = upstream_leaf.ip_address_texts();
  const std::string cn = upstream_leaf.common_name();
  if (!requested.empty() && !crypto::verify_host(upstream_leaf, without_brackets(requested)))
    add_requested(names, requested);
  sort_unique(names.dns_names);
  sort_unique(names.ip_addresses);
  if (!cn.empty() && cn.size() <= 64) {
    names.common_name = cn;  // RFC 5280 ub-common-name: 64
  } else if (!names.dns_names.empty()) {
    names.common_name = names.dns_names.front();
  } else if (!names.ip_addresses.empty()) {
    names.common_name = names.ip_addresses.front();
  } else {
    names.common_name = std::string(without_brackets(requested));
  }
  return names;
}

NameSet NameSet::for_host(std::string_view requested) {
  NameSet names;
  add_requested(names, requested);
  names.common_name = std::string(without_brackets(requested));
  if (!names.dns_names.empty()) names.common_name = names.dns_names.front();
  return names;
}

std::string NameSet::key() const {
  // NUL cannot occur in any name kept, so it separates them unambiguously.
  std::string k = common_name;
  for (const std::string& n : dns_names)
    k.append(1, '\0').append("d").append(n);
  for (const std::string& n : ip_addresses)
    k.append(1, '\0').append("i").append(n);
  return k;
}

Result<std::shared_ptr<CertificateMinter>> CertificateMinter::create(MinterOptions options) {
  if (!options.ca_cert.valid() || !options.ca_key.valid())
    return Error(Errc::invalid_argument, "the proxy needs a CA certificate and its key");
  if (options.capacity == 0) return Error(Errc::invalid_argument, "mint cache capacity 0");
  if (!options.leaf_key.valid()) {
    BW_ASSIGN(options.leaf_key, crypto::PrivateKey::generate(crypto::KeyType::ec_p256));
  }
  std::shared_ptr<CertificateMinter> minter(new CertificateMinter(std::move(options)));
  minter->leaf_public_ = minter->options_.leaf_key.public_key();
  return minter;
}

Result<std::shared_ptr<const tls::ServerConfig>> CertificateMinter::config_for(
    const NameSet& names) {
  const std::string key = names.key();
  const auto now = std::chrono::system_clock::now();
  {
    std::lock_guard lock(mu_);
    if (auto it = index_.find(key); it != index_.end()) {
      if (it->second->renew_after > now) {
        lru_.splice(lru_.begin(), lru_, it->second);
        ++hits_;
        return it->second->config;
      }
      lru_.erase(it->second);
      index_.erase(it);
    }
  }
  // Two connections for the same new names may both mint; the second result replaces the
  // first, and both are valid. Cheaper than holding the lock over a signature.
  BW_ASSIGN(std::shared_ptr<const tls::ServerConfig> config, mint(names));
  std::lock_guard lock(mu_);
  ++minted_;
  if (auto it = index_.find(key); it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(Entry{key, config, now + options_.lifetime / 2});
  index_.emplace(key, lru_.begin());
  while (lru_.size() > options_.capacity) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
  return config;
}

Result<std::shared_ptr<const tls::ServerConfig>> CertificateMinter::mint(const NameSet& names) {
  const auto now = std::chrono::system_clock::now();
  crypto::CertificateSpec spec;
  spec.common_name = names.common_name;
  spec.dns_names = names.dns_names;
  spec.ip_addresses = names.ip_addresses;
  // An hour back tolerates the client's clock running behind ours.
  spec.not_before = now - std::chrono::hours(1);
  spec.not_after = std::min<std::chrono::system_clock::time_point>(now + options_.lifetime,
                                                                   options_.ca_cert.not_after());
  spec.usage = crypto::CertificateSpec::Usage::server;
  BW_ASSIGN(crypto::Certificate leaf,
            crypto::issue_certificate(spec, leaf_public_, options_.ca_key, &options_.ca_cert));
  auto config = std::make_shared<tls::ServerConfig>(options_.base);
  config->certificates.clear();
  config->certificates.push_back(
      tls::CertifiedKey{{std::move(leaf), options_.ca_cert}, options_.leaf_key});
  return std::shared_ptr<const tls::ServerConfig>(std::move(config));
}

MinterStats CertificateMinter::stats() const {
  std::lock_guard lock(mu_);
  return MinterStats{minted_, hits_, lru_.size()};
}

}  // namespace bulwark::proxy
