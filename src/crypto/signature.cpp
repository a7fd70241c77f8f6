#include "bulwark/crypto/signature.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "bulwark/crypto/hash.hpp"
#include "crypto/ossl.hpp"
#include "crypto/signing_contexts.hpp"

namespace bulwark::crypto {

namespace {

enum class Hash : std::uint8_t { none, sha256, sha384, sha512 };
enum class Padding : std::uint8_t { none, pkcs1, pss };

struct SchemeInfo {
  std::string_view name;
  KeyType key;
  Hash hash;
  Padding padding;
};

std::optional<SchemeInfo> info_of(SignatureScheme scheme) noexcept {
  using S = SignatureScheme;
  switch (scheme) {
    case S::rsa_pkcs1_sha256:
      return SchemeInfo{"rsa_pkcs1_sha256", KeyType::rsa, Hash::sha256, Padding::pkcs1};
    case S::rsa_pkcs1_sha384:
      return SchemeInfo{"rsa_pkcs1_sha384", KeyType::rsa, Hash::sha384, Padding::pkcs1};
    case S::rsa_pkcs1_sha512:
      return SchemeInfo{"rsa_pkcs1_sha512", KeyType::rsa, Hash::sha512, Padding::pkcs1};
    case S::ecdsa_secp256r1_sha256:
      return SchemeInfo{"ecdsa_secp256r1_sha256", KeyType::ec_p256, Hash::sha256, Padding::none};
    case S::ecdsa_secp384r1_sha384:
      return SchemeInfo{"ecdsa_secp384r1_sha384", KeyType::ec_p384, Hash::sha384, Padding::none};
    case S::rsa_pss_rsae_sha256:
      return SchemeInfo{"rsa_pss_rsae_sha256", KeyType::rsa, Hash::sha256, Padding::pss};
    case S::rsa_pss_rsae_sha384:
      return SchemeInfo{"rsa_pss_rsae_sha384", KeyType::rsa, Hash::sha384, Padding::pss};
    case S::rsa_pss_rsae_sha512:
      return SchemeInfo{"rsa_pss_rsae_sha512", KeyType::rsa, Hash::sha512, Padding::pss};
    case S::ed25519:
      return SchemeInfo{"ed25519", KeyType::ed25519, Hash::none, Padding::none};
    case S::rsa_pss_pss_sha256:
      return SchemeInfo{"rsa_pss_pss_sha256", KeyType::rsa_pss, Hash::sha256, Padding::pss};
    case S::rsa_pss_pss_sha384:
      return SchemeInfo{"rsa_pss_pss_sha384", KeyType::rsa_pss, Hash::sha384, Padding::pss};
    case S::rsa_pss_pss_sha512:
      return SchemeInfo{"rsa_pss_pss_sha512", KeyType::rsa_pss, Hash::sha512, Padding::pss};
  }
  return std::nullopt;
}

std::size_t hash_len(Hash h) noexcept {
  switch (h) {
    case Hash::sha256:
      return 32;
    case Hash::sha384:
      return 48;
    case Hash::sha512:
      return 64;
    case Hash::none:
      break;
  }
  return 0;
}

// The digests, fetched once per process (fetching on every signature is measurably slow).
const EVP_MD* digest(Hash h) noexcept {
  struct Digests {
    ossl::MdPtr sha256{EVP_MD_fetch(nullptr, "SHA2-256", nullptr)};
    ossl::MdPtr sha384{EVP_MD_fetch(nullptr, "SHA2-384", nullptr)};
    ossl::MdPtr sha512{EVP_MD_fetch(nullptr, "SHA2-512", nullptr)};
  };
  static const Digests digests;
  switch (h) {
    case Hash::sha256:
      return digests.sha256.get();
    case Hash::sha384:
      return digests.sha384.get();
    case Hash::sha512:
      return digests.sha512.get();
    case Hash::none:
      break;
  }
  return nullptr;
}

// Whether an RSA modulus of `bits` can hold the encoding at all.
bool rsa_size_fits(Padding padding, Hash hash, int bits) noexcept {
  if (bits <= 0) return false;
  const std::size_t h = hash_len(hash);
  if (padding == Padding::pss) {
    // RFC 8017 §9.1.1 step 3: emLen >= hLen + sLen + 2, with sLen = hLen (RFC 8446 §4.2.3),
    // where emLen = ceil((modBits - 1) / 8).
    const std::size_t em_len = (static_cast<std::size_t>(bits) - 1 + 7) / 8;
    return em_len >= 2 * h + 2;
  }
  // RFC 8017 §9.2 step 3: k >= tLen + 11; the SHA-2 DigestInfo prefix is 19 bytes.
  const std::size_t k = (static_cast<std::size_t>(bits) + 7) / 8;
  return k >= 19 + h + 11;
}

// An RSASSA-PSS key may carry restrictions (RFC 4055 §3.1). libcrypto exports each one only
// when it differs from the RFC 4055 default (SHA-1, MGF1 with SHA-1, 20-byte salt), so on a
// restricted key an absent hash or MGF1 hash means SHA-1, which no TLS scheme uses.
bool pss_restrictions_allow(EVP_PKEY* pkey, Hash hash) noexcept {
  const EVP_MD* md = digest(hash);
  if (md == nullptr) return false;
  char hash_name[80];
  char mgf1_name[80];
  int min_salt = 0;
  const bool has_hash = EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_RSA_DIGEST, hash_name,
                                                       sizeof hash_name, nullptr) == 1;
  const bool has_mgf1_hash =
      EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_RSA_MGF1_DIGEST, mgf1_name,
                                     sizeof mgf1_name, nullptr) == 1;
  const bool has_salt =
      EVP_PKEY_get_int_param(pkey, OSSL_PKEY_PARAM_RSA_PSS_SALTLEN, &min_salt) == 1;
  ERR_clear_error();                                          // absent parameters may queue errors
  if (!has_hash && !has_mgf1_hash && !has_salt) return true;  // unrestricted
  // Restricted: an absent hash or MGF1 hash is the SHA-1 default.
  if (!has_hash || !has_mgf1_hash) return false;
  if (EVP_MD_is_a(md, hash_name) != 1 || EVP_MD_is_a(md, mgf1_name) != 1) return false;
  return !has_salt || min_salt <= static_cast<int>(hash_len(hash));
}

// The key's size is asked of libcrypto only for RSA: for other keys the query is a
// library-wide method look-up, and a server checks its key against each offered scheme per
// handshake.
bool fits(const SchemeInfo& info, EVP_PKEY* pkey, KeyType type) noexcept {
  if (pkey == nullptr || type != info.key) return false;
  if (type == KeyType::rsa || type == KeyType::rsa_pss) {
    if (!rsa_size_fits(info.padding, info.hash, EVP_PKEY_get_bits(pkey))) return false;
  }
  if (type == KeyType::rsa_pss) return pss_restrictions_allow(pkey, info.hash);
  return true;
}

// Sets the RSA padding on an initialised sign / verify context.
Status configure(EVP_PKEY_CTX* pctx, const SchemeInfo& info, const EVP_MD* md) {
  if (info.padding == Padding::pkcs1) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
      return ossl::failure(Errc::crypto_failure, "setting PKCS#1 v1.5 padding");
    }
  } else if (info.padding == Padding::pss) {
    // RFC 8446 §4.2.3: MGF1 with the signature's hash, salt length equal to the hash length.
    // On verification RSA_PSS_SALTLEN_DIGEST also makes any other salt length fail.
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1) {
      return ossl::failure(Errc::crypto_failure, "setting RSA-PSS parameters");
    }
  }
  return {};
}

// An RSASSA-PSS key whose restrictions libcrypto enforces but could not be read beforehand
// (e.g. all-default SHA-1 parameters look like no restriction) refuses the PSS settings: that
// is the scheme not fitting the key, not a libcrypto failure.
Error key_refuses(const SchemeInfo& info, Error error) {
  if (info.key != KeyType::rsa_pss) return error;
  return Error(Errc::invalid_key, std::string(info.name) +
                                      " is not allowed by the key's RSASSA-PSS parameters (" +
                                      error.detail() + ")");
}

}  // namespace

std::string_view scheme_name(SignatureScheme scheme) noexcept {
  const auto info = info_of(scheme);
  return info ? info->name : std::string_view("unknown");
}

bool scheme_supported(SignatureScheme scheme) noexcept {
  return info_of(scheme).has_value();
}

bool scheme_fits_key(SignatureScheme scheme, KeyType type, int bits) noexcept {
  const auto info = info_of(scheme);
  if (!info || type != info->key) return false;
  if (type == KeyType::rsa || type == KeyType::rsa_pss) {
    return rsa_size_fits(info->padding, info->hash, bits);
  }
  return true;
}

bool scheme_fits_key(SignatureScheme scheme, const PublicKey& key) noexcept {
  const auto info = info_of(scheme);
  return info && key.valid() && fits(*info, key.native(), key.type());
}

bool scheme_fits_key(SignatureScheme scheme, const PrivateKey& key) noexcept {
  const auto info = info_of(scheme);
  return info && key.valid() && fits(*info, key.native(), key.type());
}

namespace {

struct Prepared {
  SchemeInfo info;
  ossl::MdCtxPtr ctx;
};

// The scheme, checked against the key, and a one-shot digest context set up to sign or verify.
Result<Prepared> prepare(SignatureScheme scheme, EVP_PKEY* pkey, KeyType type, bool signing) {
  const auto info = info_of(scheme);
  if (!info) return Error(Errc::unsupported, "unknown signature scheme");
  // RFC 8446 §4.2.3 / §4.4.3: the scheme must match the key (and, for ECDSA, its curve).
  if (!fits(*info, pkey, type)) {
    return Error(Errc::invalid_key, std::string(info->name) + " does not fit a " +
                                        std::string(key_type_name(type)) + " key");
  }
  const EVP_MD* md = digest(info->hash);
  if (info->hash != Hash::none && md == nullptr) {
    return ossl::failure(Errc::crypto_failure, "digest unavailable");
  }
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  const bool ready =
      ctx && (signing ? EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, pkey)
                      : EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pkey)) == 1;
  if (!ready) {
    return ossl::failure(Errc::crypto_failure, signing ? "signature setup" : "verification setup");
  }
  if (auto st = configure(pctx, *info, md); !st) return key_refuses(*info, std::move(st).error());
  // The context is used once: FINALISE spares libcrypto a copy of it in the final step.
  EVP_MD_CTX_set_flags(ctx.get(), EVP_MD_CTX_FLAG_FINALISE);
  return Prepared{*info, std::move(ctx)};
}

}  // namespace

namespace {

HashAlg hash_alg(Hash h) noexcept {
  switch (h) {
    case Hash::sha384:
      return HashAlg::sha384;
    case Hash::sha512:
      return HashAlg::sha512;
    default:
      return HashAlg::sha256;
  }
}

// A context set up to sign digests with `pkey` under `info`: the same settings prepare()
// makes, on an EVP_PKEY_CTX that can sign again and again.
Result<ossl::PkeyCtxPtr> new_digest_signer(EVP_PKEY* pkey, const SchemeInfo& info,
                                           const EVP_MD* md) {
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1) {
    return ossl::failure(Errc::crypto_failure, "signature setup");
  }
  BW_TRY(configure(ctx.get(), info, md));
  return ctx;
}

// ECDSA and RSA (rsaEncryption) keys sign the hash of the message, computed here, on a context
// kept with the key (detail::SigningContexts): equal to EVP_DigestSign, without setting a
// context up per signature. nullopt when that does not apply (Ed25519 signs the message
// itself; RSASSA-PSS keys keep their parameter checks in prepare(); no pool).
std::optional<Result<std::vector<std::uint8_t>>> sign_with_kept_context(
    const PrivateKey& key, SignatureScheme scheme, std::span<const std::uint8_t> message) {
  detail::SigningContexts* pool = key.signing_contexts();
  const KeyType type = key.type();
  if (pool == nullptr ||
      (type != KeyType::ec_p256 && type != KeyType::ec_p384 && type != KeyType::rsa)) {
    return std::nullopt;
  }
  const auto info = info_of(scheme);
  if (!info || info->hash == Hash::none) return std::nullopt;
  // RFC 8446 §4.2.3 / §4.4.3: the scheme must match the key (and, for ECDSA, its curve).
  if (!fits(*info, key.native(), type)) {
    return Error(Errc::invalid_key, std::string(info->name) + " does not fit a " +
                                        std::string(key_type_name(type)) + " key");
  }
  const EVP_MD* md = digest(info->hash);
  if (md == nullptr) return ossl::failure(Errc::crypto_failure, "digest unavailable");
  auto digest_of_message = crypto::hash(hash_alg(info->hash), message);
  if (!digest_of_message) return digest_of_message.error();

  ossl::PkeyCtxPtr ctx = pool->take(scheme);
  if (!ctx) {
    auto fresh = new_digest_signer(key.native(), *info, md);
    if (!fresh) return fresh.error();
    ctx = std::move(fresh).value();
  }
  const int max_len = EVP_PKEY_get_size(key.native());
  if (max_len <= 0) return ossl::failure(Errc::crypto_failure, "signature size");
  std::vector<std::uint8_t> signature(static_cast<std::size_t>(max_len));
  std::size_t len = signature.size();
  if (EVP_PKEY_sign(ctx.get(), signature.data(), &len, digest_of_message->bytes.data(),
                    digest_of_message->size) != 1) {
    return ossl::failure(Errc::crypto_failure, "signing");
  }
  pool->give_back(scheme, std::move(ctx));  // only a context that just signed goes back
  signature.resize(len);                    // DER ECDSA signatures vary in length
  return signature;
}

}  // namespace

Result<std::vector<std::uint8_t>> sign(const PrivateKey& key, SignatureScheme scheme,
                                       std::span<const std::uint8_t> message) {
  if (auto kept = sign_with_kept_context(key, scheme, message)) return std::move(*kept);
  BW_ASSIGN(Prepared p, prepare(scheme, key.native(), key.type(), true));
  const int max_len = EVP_PKEY_get_size(key.native());
  if (max_len <= 0) return ossl::failure(Errc::crypto_failure, "signature size");
  std::vector<std::uint8_t> signature(static_cast<std::size_t>(max_len));
  std::size_t len = signature.size();
  if (EVP_DigestSign(p.ctx.get(), signature.data(), &len, message.data(), message.size()) != 1) {
    return ossl::failure(Errc::crypto_failure, "signing");
  }
  signature.resize(len);  // DER ECDSA signatures vary in length
  return signature;
}

Status verify(const PublicKey& key, SignatureScheme scheme, std::span<const std::uint8_t> message,
              std::span<const std::uint8_t> signature) {
  BW_ASSIGN(Prepared p, prepare(scheme, key.native(), key.type(), false));
  // 1 is the only success; 0 is a mismatch and < 0 a malformed signature: both are the peer's.
  if (EVP_DigestVerify(p.ctx.get(), signature.data(), signature.size(), message.data(),
                       message.size()) != 1) {
    ERR_clear_error();
    return Error(Errc::bad_signature, std::string(p.info.name) + " signature does not verify");
  }
  return {};
}

}  // namespace bulwark::crypto
