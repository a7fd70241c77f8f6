// Test helper: small PKIs (root CA -> optional intermediate CA -> leaf) with chosen names,
// validity periods and key types, issued with crypto::issue_certificate. Header-only.
//
//   auto pki = bulwark::test::make_pki({.with_intermediate = true});
//   auto store = pki.trust_store();
//   EXPECT_TRUE(store.verify(pki.leaf.cert, pki.intermediates(), {.host = "leaf.example.com"}));
//
// Failures throw std::runtime_error, which GoogleTest reports as a failed test with the message.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/crypto/issuer.hpp"
#include "bulwark/crypto/keys.hpp"
#include "bulwark/crypto/trust_store.hpp"
#include "bulwark/result.hpp"

namespace bulwark::test {

template <class T>
T must(Result<T> result, const char* what) {
  if (!result) throw std::runtime_error(std::string(what) + ": " + result.error().message());
  return std::move(result).value();
}

inline void must(Status status, const char* what) {
  if (!status) throw std::runtime_error(std::string(what) + ": " + status.error().message());
}

// A certificate and its private key.
struct Issued {
  crypto::Certificate cert;
  crypto::PrivateKey key;
};

inline crypto::PrivateKey make_key(crypto::KeyType type = crypto::KeyType::ec_p256) {
  return must(crypto::PrivateKey::generate(type), "generate key");
}

// Issues `spec` for a fresh key of `key_type`, signed by `issuer` (self-signed when null).
inline Issued issue(const crypto::CertificateSpec& spec,
                    crypto::KeyType key_type = crypto::KeyType::ec_p256,
                    const Issued* issuer = nullptr) {
  Issued out;
  out.key = make_key(key_type);
  const crypto::PrivateKey& signing_key = issuer != nullptr ? issuer->key : out.key;
  const crypto::Certificate* issuer_cert = issuer != nullptr ? &issuer->cert : nullptr;
  out.cert = must(crypto::issue_certificate(spec, out.key.public_key(), signing_key, issuer_cert),
                  "issue certificate");
  return out;
}

inline crypto::CertificateSpec ca_spec_named(std::string common_name,
                                             std::optional<int> path_length = std::nullopt) {
  crypto::CertificateSpec spec = crypto::ca_spec(std::move(common_name));
  spec.path_length = path_length;
  return spec;
}

inline Issued make_root(std::string common_name = "Bulwark Test Root",
                        crypto::KeyType key_type = crypto::KeyType::ec_p256) {
  return issue(ca_spec_named(std::move(common_name)), key_type);
}

inline Issued make_intermediate(const Issued& root,
                                std::string common_name = "Bulwark Test Intermediate",
                                crypto::KeyType key_type = crypto::KeyType::ec_p256) {
  return issue(ca_spec_named(std::move(common_name), 0), key_type, &root);
}

struct LeafOptions {
  std::string common_name = "leaf.example.com";
  std::vector<std::string> dns_names = {"leaf.example.com"};
  std::vector<std::string> ip_addresses = {};
  crypto::KeyType key_type = crypto::KeyType::ec_p256;
  std::chrono::system_clock::time_point not_before =
      std::chrono::system_clock::now() - std::chrono::hours(1);
  std::chrono::system_clock::time_point not_after =
      std::chrono::system_clock::now() + std::chrono::hours(24 * 30);
  crypto::CertificateSpec::Usage usage = crypto::CertificateSpec::Usage::server;
};

inline crypto::CertificateSpec leaf_spec(const LeafOptions& options) {
  crypto::CertificateSpec spec;
  spec.common_name = options.common_name;
  spec.dns_names = options.dns_names;
  spec.ip_addresses = options.ip_addresses;
  spec.not_before = options.not_before;
  spec.not_after = options.not_after;
  spec.is_ca = false;
  spec.usage = options.usage;
  return spec;
}

inline Issued make_leaf(const Issued& issuer, const LeafOptions& options = {}) {
  return issue(leaf_spec(options), options.key_type, &issuer);
}

struct PkiOptions {
  crypto::KeyType root_key = crypto::KeyType::ec_p256;
  bool with_intermediate = false;
  crypto::KeyType intermediate_key = crypto::KeyType::ec_p256;
  LeafOptions leaf = {};
};

struct Pki {
  Issued root;
  std::optional<Issued> intermediate;
  Issued leaf;

  // What a server sends after its leaf: the intermediate, if any.
  std::vector<crypto::Certificate> intermediates() const {
    std::vector<crypto::Certificate> out;
    if (intermediate) out.push_back(intermediate->cert);
    return out;
  }
  // The leaf first, then the intermediates: a TLS Certificate message's order.
  std::vector<crypto::Certificate> chain() const {
    std::vector<crypto::Certificate> out{leaf.cert};
    if (intermediate) out.push_back(intermediate->cert);
    return out;
  }
  // A store whose only anchor is the root.
  crypto::TrustStore trust_store() const {
    const std::vector<crypto::Certificate> anchors{root.cert};
    return must(crypto::TrustStore::from_certificates(anchors), "trust store");
  }
};

inline Pki make_pki(const PkiOptions& options = {}) {
  Pki pki;
  pki.root = make_root("Bulwark Test Root", options.root_key);
  const Issued* leaf_issuer = &pki.root;
  if (options.with_intermediate) {
    pki.intermediate =
        make_intermediate(pki.root, "Bulwark Test Intermediate", options.intermediate_key);
    leaf_issuer = &*pki.intermediate;
  }
  pki.leaf = make_leaf(*leaf_issuer, options.leaf);
  return pki;
}

}  // namespace bulwark::test
