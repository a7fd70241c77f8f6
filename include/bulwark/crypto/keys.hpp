// Public and private keys (RSA, RSA-PSS, ECDSA P-256/P-384, Ed25519): loading, generating,
// encoding. Copies share one underlying libcrypto key (reference counted, immutable).
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/result.hpp"

namespace bulwark::crypto {

enum class KeyType : std::uint8_t {
  rsa,      // rsaEncryption: RSA PKCS#1 v1.5 and RSA-PSS (rsae) signatures
  rsa_pss,  // id-RSASSA-PSS keys: RSA-PSS (pss) signatures only
  ec_p256,
  ec_p384,
  ed25519,
  other,  // parsed, but not usable for signatures here
};

std::string_view key_type_name(KeyType t) noexcept;  // "rsa", "ec-p256", "ed25519", ...

namespace detail {
class SigningContexts;  // src/crypto/signing_contexts.hpp
}

class PublicKey {
 public:
  PublicKey() noexcept = default;
  // Takes ownership of one reference to `pkey`.
  explicit PublicKey(EVP_PKEY* pkey) noexcept;
  PublicKey(const PublicKey& o) noexcept;
  PublicKey& operator=(const PublicKey& o) noexcept;
  PublicKey(PublicKey&& o) noexcept;
  PublicKey& operator=(PublicKey&& o) noexcept;
  ~PublicKey();

  // DER SubjectPublicKeyInfo.
  static Result<PublicKey> from_spki_der(std::span<const std::uint8_t> der);
  // PEM "PUBLIC KEY".
  static Result<PublicKey> from_pem(std::string_view pem);

  bool valid() const noexcept { return pkey_ != nullptr; }
  KeyType type() const noexcept;
  int bits() const noexcept;  // modulus size for RSA, field size for EC, 256 for Ed25519
  Result<std::vector<std::uint8_t>> spki_der() const;
  // The libcrypto handle, for the crypto layer (still owned by this object).
  EVP_PKEY* native() const noexcept { return pkey_; }

 private:
  EVP_PKEY* pkey_ = nullptr;
};

class PrivateKey {
 public:
  PrivateKey() noexcept = default;
  explicit PrivateKey(EVP_PKEY* pkey) noexcept;  // takes ownership of one reference
  PrivateKey(const PrivateKey& o) noexcept;
  PrivateKey& operator=(const PrivateKey& o) noexcept;
  PrivateKey(PrivateKey&& o) noexcept;
  PrivateKey& operator=(PrivateKey&& o) noexcept;
  ~PrivateKey();

  // PEM: "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"
  // (legacy-encrypted too). A wrong or missing passphrase for an encrypted key is
  // `bad_passphrase`; anything unparseable is `decode_failed`.
  static Result<PrivateKey> from_pem(std::string_view pem, std::string_view passphrase = {});
  // DER PKCS#8 (or traditional RSA/EC).
  static Result<PrivateKey> from_der(std::span<const std::uint8_t> der);
  // A PEM or DER file; `io_error` when it cannot be read.
  static Result<PrivateKey> load_file(const std::filesystem::path& path,
                                      std::string_view passphrase = {});
  // A fresh key from libcrypto's CSPRNG. rsa_bits only for KeyType::rsa (2048..8192).
  static Result<PrivateKey> generate(KeyType type, int rsa_bits = 2048);

  bool valid() const noexcept { return pkey_ != nullptr; }
  KeyType type() const noexcept;
  int bits() const noexcept;
  PublicKey public_key() const;
  // PKCS#8 PEM; encrypted with AES-256-CBC (PBKDF2) when a passphrase is given.
  Result<std::string> to_pem(std::string_view passphrase = {}) const;
  EVP_PKEY* native() const noexcept { return pkey_; }
  // Signing contexts kept for this key, shared by its copies (for crypto::sign); nullptr for
  // an empty key or if they could not be allocated (sign then prepares one per call).
  detail::SigningContexts* signing_contexts() const noexcept { return signers_.get(); }

 private:
  EVP_PKEY* pkey_ = nullptr;
  KeyType type_ = KeyType::other;  // looked up once (a parameter query in libcrypto)
  std::shared_ptr<detail::SigningContexts> signers_;
};

}  // namespace bulwark::crypto
