#include "bulwark/crypto/trust_store.hpp"

#include <openssl/x509_vfy.h>

#include <cstdlib>
#include <ctime>

#include "bulwark/crypto/hostname.hpp"
#include "crypto/ossl.hpp"

namespace bulwark::crypto {

namespace {

// sk_X509_free is a macro, so it cannot be a Deleter<> argument. The stack does not own the
// certificates (their Certificate objects do): free the stack only.
struct UntrustedStackFree {
  void operator()(STACK_OF(X509) * stack) const noexcept { sk_X509_free(stack); }
};
using UntrustedStackPtr = std::unique_ptr<STACK_OF(X509), UntrustedStackFree>;

constexpr const char* kDebianBundle = "/etc/ssl/certs/ca-certificates.crt";
constexpr const char* kDebianDirectory = "/etc/ssl/certs";
// Far beyond any real chain; bounds the work a hostile peer's chain can cause.
constexpr int kMaxVerifyDepth = 32;

std::shared_ptr<X509_STORE> new_store() {
  return std::shared_ptr<X509_STORE>(X509_STORE_new(), X509_STORE_free);
}

// "2024-01-01T00:00:00Z".
std::string iso8601(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  struct tm tm {};
  if (gmtime_r(&seconds, &tm) == nullptr) return "?";
  char text[32] = {};
  if (std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) return "?";
  return text;
}

// An environment variable that a set-user-ID program does not trust (as libcrypto does).
const char* trusted_getenv(const char* name) {
  const char* value = secure_getenv(name);
  return (value != nullptr && *value != '\0') ? value : nullptr;
}

Status add_directory_lookup(X509_STORE* store, const std::string& directories) {
  X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());
  if (lookup == nullptr ||
      X509_LOOKUP_add_dir(lookup, directories.c_str(), X509_FILETYPE_PEM) != 1) {
    return ossl::failure(Errc::crypto_failure, "cannot add a certificate directory lookup");
  }
  return {};
}

Errc classify(int verify_error) {
  switch (verify_error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return Errc::cert_expired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return Errc::cert_not_yet_valid;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
      return Errc::cert_unknown_ca;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
      return Errc::cert_bad_signature;
    case X509_V_ERR_INVALID_PURPOSE:
      return Errc::cert_wrong_purpose;
    case X509_V_ERR_OUT_OF_MEM:
      return Errc::crypto_failure;
    default:
      // Basic constraints, path length, key usage, unknown critical extensions, chain length...
      return Errc::cert_invalid;
  }
}

// "certificate has expired (depth 0, CN=example.com, notAfter 2024-01-01T00:00:00Z, checked at
// 2025-01-01T00:00:00Z)".
std::string describe_failure(X509_STORE_CTX* ctx, int verify_error,
                             std::chrono::system_clock::time_point checked_at) {
  const int depth = X509_STORE_CTX_get_error_depth(ctx);
  X509* failed = X509_STORE_CTX_get_current_cert(ctx);
  if (failed == nullptr) {
    STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx);
    if (chain != nullptr && depth >= 0 && depth < sk_X509_num(chain)) {
      failed = sk_X509_value(chain, depth);
    }
  }
  std::string detail = X509_verify_cert_error_string(verify_error);
  detail += " (depth " + std::to_string(depth);
  if (failed != nullptr) {
    auto cert = Certificate::from_native(failed);
    if (cert) {
      const std::string subject = cert->subject();
      detail += ", " + (subject.empty() ? std::string("empty subject") : subject);
      switch (verify_error) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
          detail += ", notAfter " + iso8601(cert->not_after());
          detail += ", checked at " + iso8601(checked_at);
          break;
        case X509_V_ERR_CERT_NOT_YET_VALID:
          detail += ", notBefore " + iso8601(cert->not_before());
          detail += ", checked at " + iso8601(checked_at);
          break;
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
          detail += ", issuer " + cert->issuer();
          break;
        default:
          break;
      }
    }
  }
  detail += ")";
  return detail;
}

}  // namespace

TrustStore::TrustStore() : store_(new_store()) {}

Result<TrustStore> TrustStore::system() {
  static const Result<TrustStore> loaded = []() -> Result<TrustStore> {
    const char* file = trusted_getenv("SSL_CERT_FILE");
    auto from_bundle = from_file(file != nullptr ? file : kDebianBundle);
    if (from_bundle) return from_bundle;

    const char* directories = trusted_getenv("SSL_CERT_DIR");
    const std::string dir = directories != nullptr ? directories : kDebianDirectory;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec) && directories == nullptr) {
      return Error(Errc::io_error, "no system trust anchors: " + from_bundle.error().detail() +
                                       ", and " + dir + " is not a directory");
    }
    TrustStore store;
    if (!store.store_) return ossl::failure(Errc::crypto_failure, "X509_STORE_new failed");
    BW_TRY(add_directory_lookup(store.store_.get(), dir));
    return store;
  }();
  return loaded;
}

Result<TrustStore> TrustStore::from_file(const std::filesystem::path& path) {
  BW_ASSIGN(const auto anchors, load_certificates_file(path));
  return from_certificates(anchors);
}

Result<TrustStore> TrustStore::from_directory(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    return Error(Errc::io_error, path.string() + " is not a readable directory");
  }
  TrustStore store;
  if (!store.store_) return ossl::failure(Errc::crypto_failure, "X509_STORE_new failed");
  BW_TRY(add_directory_lookup(store.store_.get(), path.string()));
  return store;
}

Result<TrustStore> TrustStore::from_certificates(std::span<const Certificate> anchors) {
  TrustStore store;
  if (!store.store_) return ossl::failure(Errc::crypto_failure, "X509_STORE_new failed");
  for (const auto& anchor : anchors)
    BW_TRY(store.add(anchor));
  return store;
}

Status TrustStore::add(const Certificate& anchor) {
  if (!anchor.valid()) return Error(Errc::invalid_argument, "empty certificate");
  if (!store_) return Error(Errc::crypto_failure, "no X509_STORE");
  // Adding a certificate that is already present succeeds without a duplicate.
  if (X509_STORE_add_cert(store_.get(), anchor.native()) != 1) {
    return ossl::failure(Errc::crypto_failure, "X509_STORE_add_cert failed");
  }
  return {};
}

std::size_t TrustStore::size() const {
  if (!store_) return 0;
  std::size_t count = 0;
  if (X509_STORE_lock(store_.get()) != 1) return 0;
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store_.get());
  for (int i = 0; objects != nullptr && i < sk_X509_OBJECT_num(objects); ++i) {
    if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objects, i)) == X509_LU_X509) ++count;
  }
  X509_STORE_unlock(store_.get());
  return count;
}

Status TrustStore::verify(const Certificate& leaf, std::span<const Certificate> intermediates,
                          const VerifyOptions& options) const {
  if (!leaf.valid()) return Error(Errc::invalid_argument, "empty leaf certificate");
  if (!store_) return Error(Errc::crypto_failure, "no X509_STORE");
  if (options.max_depth < 0 || options.max_depth > kMaxVerifyDepth) {
    return Error(Errc::invalid_argument,
                 "max_depth must be within 0.." + std::to_string(kMaxVerifyDepth));
  }

  UntrustedStackPtr untrusted(sk_X509_new_reserve(nullptr, static_cast<int>(intermediates.size())));
  if (!untrusted) return ossl::failure(Errc::crypto_failure, "sk_X509_new_reserve failed");
  for (const auto& cert : intermediates) {
    if (!cert.valid()) return Error(Errc::invalid_argument, "empty intermediate certificate");
    if (sk_X509_push(untrusted.get(), cert.native()) <= 0) {
      return ossl::failure(Errc::crypto_failure, "sk_X509_push failed");
    }
  }

  ossl::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store_.get(), leaf.native(), untrusted.get()) != 1) {
    return ossl::failure(Errc::crypto_failure, "X509_STORE_CTX_init failed");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_depth(param, options.max_depth);
  // RFC 5280 6.1.1 (d): a trust anchor is whatever the relying party trusts, self-signed or
  // not, so a chain may end at any certificate of the store.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  const auto checked_at = options.at.value_or(std::chrono::system_clock::now());
  if (options.at)
    X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(*options.at));

  int purpose = 0;
  switch (options.purpose) {
    case Purpose::server:
      purpose = X509_PURPOSE_SSL_SERVER;
      break;
    case Purpose::client:
      purpose = X509_PURPOSE_SSL_CLIENT;
      break;
    case Purpose::any:
      break;
  }
  if (purpose != 0 && X509_STORE_CTX_set_purpose(ctx.get(), purpose) != 1) {
    return ossl::failure(Errc::crypto_failure, "X509_STORE_CTX_set_purpose failed");
  }

  const int verified = X509_verify_cert(ctx.get());
  if (verified != 1) {
    const int verify_error = X509_STORE_CTX_get_error(ctx.get());
    if (verified < 0 || verify_error == X509_V_OK) {
      return ossl::failure(Errc::crypto_failure, "X509_verify_cert failed");
    }
    ERR_clear_error();
    return Error(classify(verify_error), describe_failure(ctx.get(), verify_error, checked_at));
  }

  // The name is checked by our own RFC 6125 matcher, only once the chain is known good.
  if (!options.host.empty()) return verify_host(leaf, options.host);
  return {};
}

}  // namespace bulwark::crypto
