// Trust anchors and certificate chain verification (RFC 5280 path validation by libcrypto's
// X509_verify_cert, then our own host-name check from hostname.hpp).
#pragma once

#include <openssl/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/result.hpp"

namespace bulwark::crypto {

// What the leaf certificate will be used for: checked against its extendedKeyUsage (and the
// CAs' when they carry one) as libcrypto's SSL server / SSL client purposes do.
enum class Purpose : std::uint8_t {
  server,  // a TLS server certificate (id-kp-serverAuth)
  client,  // a TLS client certificate (id-kp-clientAuth)
  any,     // no purpose check
};

// Every member has a default, so designated initializers may name any subset of them.
struct VerifyOptions {
  Purpose purpose = Purpose::server;
  // The instant at which validity periods are checked; now when unset.
  std::optional<std::chrono::system_clock::time_point> at = std::nullopt;
  // When non-empty, the DNS name or IP literal the leaf must name (see verify_host).
  std::string host = {};
  // Most intermediate certificates allowed between the leaf and the trust anchor.
  int max_depth = 10;
};

// A set of trust anchors. Copies share the same anchors: add() through one copy is seen by
// all. Verification may run concurrently from several threads (libcrypto locks the store).
// Any certificate in the store is an anchor, self-signed or not (RFC 5280 6.1.1 (d)).
class TrustStore {
 public:
  // An empty store (no anchors: every chain is `cert_unknown_ca`).
  TrustStore();

  // The operating system's anchors, loaded once per process: the file named by SSL_CERT_FILE
  // or else /etc/ssl/certs/ca-certificates.crt; if that cannot be read, the hashed directory
  // named by SSL_CERT_DIR or else /etc/ssl/certs.
  static Result<TrustStore> system();
  // Every certificate of a PEM bundle (or one DER certificate).
  static Result<TrustStore> from_file(const std::filesystem::path& path);
  // A directory of certificates named by subject hash ("<hash>.0", as c_rehash makes), read
  // lazily during verification. `io_error` if it is not a directory.
  static Result<TrustStore> from_directory(const std::filesystem::path& path);
  static Result<TrustStore> from_certificates(std::span<const Certificate> anchors);

  Status add(const Certificate& anchor);
  // Anchors held in memory (a directory store's are loaded as lookups need them).
  std::size_t size() const;

  // RFC 5280 path validation from `leaf` through any of `intermediates` (in any order, unused
  // ones ignored) to an anchor of this store, then the host name if options.host is set.
  // Errors name the failed check and the certificate: cert_expired, cert_not_yet_valid,
  // cert_unknown_ca, cert_bad_signature, cert_wrong_purpose, cert_invalid,
  // cert_hostname_mismatch.
  Status verify(const Certificate& leaf, std::span<const Certificate> intermediates,
                const VerifyOptions& options = {}) const;

  // The libcrypto store (still owned by this object).
  X509_STORE* native() const noexcept { return store_.get(); }

 private:
  explicit TrustStore(std::shared_ptr<X509_STORE> store) noexcept : store_(std::move(store)) {}
  std::shared_ptr<X509_STORE> store_;
};

}  // namespace bulwark::crypto
