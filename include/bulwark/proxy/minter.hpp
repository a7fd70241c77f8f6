// Certificates minted on the fly by the intercepting proxy: for each upstream server, a leaf
// with the upstream leaf's subject common name and subjectAltNames, signed by the proxy's CA.
//
// Every minted leaf carries the same key (generated once, as mitmproxy does), so minting costs
// one CA signature and no key generation. Minted leaves are kept, as ready server configs, in
// a bounded LRU cache keyed by the name set; an entry is minted again before it expires.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/crypto/keys.hpp"
#include "bulwark/result.hpp"
#include "bulwark/tls/config.hpp"

namespace bulwark::proxy {

// The names a minted leaf is valid for.
struct NameSet {
  std::string common_name;
  std::vector<std::string> dns_names;     // sorted, unique, lower case
  std::vector<std::string> ip_addresses;  // text form, sorted, unique

  // The upstream leaf's CN and SANs, plus `requested` (the SNI or CONNECT host) when they do
  // not already cover it (so that an upstream reached with --upstream-insecure whose
  // certificate names another host still yields a leaf the client accepts for its host).
  static NameSet from_upstream(const crypto::Certificate& upstream_leaf,
                               std::string_view requested);
  // Only `requested` (a DNS name or an IP literal).
  static NameSet for_host(std::string_view requested);
  // The cache key: every name, in a canonical order.
  std::string key() const;
};

struct MinterOptions {
  crypto::Certificate ca_cert;
  crypto::PrivateKey ca_key;
  // Policy for the client-facing handshakes (versions, suites, groups, ALPN); its
  // `certificates` are replaced by the minted leaf.
  tls::ServerConfig base;
  std::size_t capacity = 1000;  // minted leaves kept
  std::chrono::hours lifetime{24 * 30};
  // The shared leaf key; invalid: a fresh ECDSA P-256 key.
  crypto::PrivateKey leaf_key;
};

struct MinterStats {
  std::uint64_t minted = 0;
  std::uint64_t hits = 0;
  std::size_t cached = 0;
};

class CertificateMinter {
 public:
  static Result<std::shared_ptr<CertificateMinter>> create(MinterOptions options);

  // A server config presenting a leaf for `names` (chain: the leaf, then the CA), from the
  // cache or minted now. Thread-safe; the CA signature runs outside the lock.
  Result<std::shared_ptr<const tls::ServerConfig>> config_for(const NameSet& names);

  const crypto::Certificate& ca_certificate() const noexcept { return options_.ca_cert; }
  const crypto::PrivateKey& leaf_key() const noexcept { return options_.leaf_key; }
  MinterStats stats() const;

 private:
  explicit CertificateMinter(MinterOptions options) : options_(std::move(options)) {}
  Result<std::shared_ptr<const tls::ServerConfig>> mint(const NameSet& names);

  struct Entry {
    std::string key;
    std::shared_ptr<const tls::ServerConfig> config;
    std::chrono::system_clock::time_point renew_after;
  };
  MinterOptions options_;
  crypto::PublicKey leaf_public_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  std::uint64_t minted_ = 0;
  std::uint64_t hits_ = 0;
};

}  // namespace bulwark::proxy
