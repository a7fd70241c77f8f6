// Issuing X.509 v3 certificates: for tests, `bulwark ca` and the intercepting proxy.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/crypto/keys.hpp"
#include "bulwark/crypto/random.hpp"
#include "bulwark/result.hpp"

namespace bulwark::crypto {

// Every member has a default, so designated initializers may name any subset of them.
struct CertificateSpec {
  // keyUsage and extendedKeyUsage sets.
  enum class Usage : std::uint8_t {
    server,             // digitalSignature (+ keyEncipherment for RSA keys); serverAuth
    client,             // digitalSignature; clientAuth
    server_and_client,  // digitalSignature (+ keyEncipherment for RSA keys); both
    ca,                 // keyCertSign, cRLSign; no extendedKeyUsage
  };

  // The subject is CN=common_name (UTF-8), required.
  std::string common_name = {};
  // subjectAltName dNSName entries, as given (A-labels; "*.example.com" for a wildcard).
  std::vector<std::string> dns_names = {};
  // subjectAltName iPAddress entries, as text ("192.0.2.1", "2001:db8::1").
  std::vector<std::string> ip_addresses = {};
  std::chrono::system_clock::time_point not_before = {};
  std::chrono::system_clock::time_point not_after = {};
  // basicConstraints cA. Taken literally, with `usage`, so that tests can also build the
  // malformed certificates a verifier must refuse (say, keyCertSign without cA).
  bool is_ca = false;
  // basicConstraints pathLenConstraint; only with is_ca.
  std::optional<int> path_length = std::nullopt;
  Usage usage = Usage::server;
};

// A convenient spec: `common_name` also as the only dNSName (or iPAddress, for an IP literal),
// valid from one hour ago (tolerating clock skew) for `lifetime`.
CertificateSpec server_spec(std::string common_name,
                            std::chrono::seconds lifetime = std::chrono::hours(24 * 90));
CertificateSpec ca_spec(std::string common_name,
                        std::chrono::seconds lifetime = std::chrono::hours(24 * 365 * 10));

// Builds and signs an X.509 v3 certificate for `subject_key`: a random positive 16-byte serial
// number, the spec's subject name, validity and subjectAltName, critical basicConstraints and
// keyUsage, extendedKeyUsage (leaves), subjectKeyIdentifier and authorityKeyIdentifier.
// `issuer` is the issuing CA's certificate and `issuer_key` its private key; with no issuer
// the certificate is self-signed and `issuer_key` must be the subject key's private half.
// Signature: SHA-256 for RSA (PKCS#1 v1.5; PSS for RSA-PSS keys) and P-256, SHA-384 for P-384,
// Ed25519 as is. `invalid_argument` for an inconsistent spec or a key that does not match.
Result<Certificate> issue_certificate(const CertificateSpec& spec, const PublicKey& subject_key,
                                      const PrivateKey& issuer_key, const Certificate* issuer,
                                      Random& random = SystemRandom::instance());

}  // namespace bulwark::crypto
