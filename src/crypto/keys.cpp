#include "bulwark/crypto/keys.hpp"

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <fstream>
#include <iterator>
#include <new>
#include <utility>

#include "bulwark/crypto/secret.hpp"
#include "crypto/ossl.hpp"
#include "crypto/signing_contexts.hpp"

namespace bulwark::crypto {

namespace {

using DecoderCtxPtr = std::unique_ptr<OSSL_DECODER_CTX, ossl::Deleter<OSSL_DECODER_CTX_free>>;
using EncoderCtxPtr = std::unique_ptr<OSSL_ENCODER_CTX, ossl::Deleter<OSSL_ENCODER_CTX_free>>;

KeyType type_of(const EVP_PKEY* pkey) noexcept {
  if (pkey == nullptr) return KeyType::other;
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
      return KeyType::rsa;
    case EVP_PKEY_RSA_PSS:
      return KeyType::rsa_pss;
    case EVP_PKEY_ED25519:
      return KeyType::ed25519;
    case EVP_PKEY_EC: {
      char name[64];
      std::size_t len = 0;
      if (EVP_PKEY_get_group_name(pkey, name, sizeof name, &len) != 1) return KeyType::other;
      // libcrypto reports the SEC/X9.62 short name; accept the NIST alias too.
      int nid = OBJ_sn2nid(name);
      if (nid == NID_undef) nid = EC_curve_nist2nid(name);
      if (nid == NID_X9_62_prime256v1) return KeyType::ec_p256;
      if (nid == NID_secp384r1) return KeyType::ec_p384;
      return KeyType::other;
    }
    default:
      return KeyType::other;
  }
}

int bits_of(const EVP_PKEY* pkey) noexcept {
  if (pkey == nullptr) return 0;
  // libcrypto reports 253 for Ed25519 (the group order's size); callers want the key size.
  if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519) return 256;
  return EVP_PKEY_get_bits(pkey);
}

// What the passphrase callback knows and records. libcrypto calls it only for encrypted
// input, so `asked` tells an encrypted key with a wrong or missing passphrase apart from
// input that is not a key at all.
struct PassphraseRequest {
  std::string_view passphrase;
  bool asked = false;
};

// Never prompts: with no passphrase it refuses, so decoding fails instead of blocking on a
// terminal.
int supply_passphrase(char* buf, std::size_t size, std::size_t* len, const OSSL_PARAM[],
                      void* arg) {
  auto* req = static_cast<PassphraseRequest*>(arg);
  req->asked = true;
  if (req->passphrase.empty() || req->passphrase.size() > size) return 0;
  std::memcpy(buf, req->passphrase.data(), req->passphrase.size());
  *len = req->passphrase.size();
  return 1;
}

// Decodes one private key from `input_type` ("PEM" or "DER") data. For PEM, blocks that are
// not private keys (e.g. "EC PARAMETERS" in front of "EC PRIVATE KEY") are skipped.
Result<PrivateKey> decode_private(const char* input_type, std::span<const std::uint8_t> data,
                                  std::string_view passphrase) {
  if (data.empty()) return Error(Errc::decode_failed, "empty private key input");
  if (data.size() > static_cast<std::size_t>(INT_MAX)) {
    return Error(Errc::decode_failed, "private key input too large");
  }
  PassphraseRequest req{passphrase};
  EVP_PKEY* raw = nullptr;
  DecoderCtxPtr dctx(OSSL_DECODER_CTX_new_for_pkey(&raw, input_type, nullptr, nullptr,
                                                   EVP_PKEY_KEYPAIR, nullptr, nullptr));
  if (!dctx) return ossl::failure(Errc::crypto_failure, "OSSL_DECODER_CTX_new_for_pkey");
  if (OSSL_DECODER_CTX_set_passphrase_cb(dctx.get(), supply_passphrase, &req) != 1) {
    return ossl::failure(Errc::crypto_failure, "OSSL_DECODER_CTX_set_passphrase_cb");
  }
  if (OSSL_DECODER_CTX_get_num_decoders(dctx.get()) == 0) {
    return ossl::failure(Errc::crypto_failure, "no private key decoders available");
  }

  // A read-only memory BIO over the caller's bytes: no copy of the key material.
  ossl::BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) return ossl::failure(Errc::crypto_failure, "BIO_new_mem_buf");
  ossl::PkeyPtr pkey;
  const bool pem = std::strcmp(input_type, "PEM") == 0;
  for (;;) {
    const std::size_t before = BIO_pending(bio.get());
    if (OSSL_DECODER_from_bio(dctx.get(), bio.get()) == 1 && raw != nullptr) {
      pkey.reset(raw);
      break;
    }
    if (raw != nullptr) {
      EVP_PKEY_free(raw);
      raw = nullptr;
    }
    // DER holds one object; a PEM block that did not decode was consumed, so try the next.
    const std::size_t after = BIO_pending(bio.get());
    if (!pem || req.asked || after == 0 || after >= before) break;
  }
  if (!pkey) {
    if (req.asked) {
      ERR_clear_error();
      return Error(Errc::bad_passphrase,
                   passphrase.empty() ? "the private key is encrypted: a passphrase is needed"
                                      : "the passphrase does not decrypt the private key");
    }
    return ossl::failure(Errc::decode_failed, "not a private key");
  }
  ERR_clear_error();  // skipped PEM blocks may have queued errors
  return PrivateKey(pkey.release());
}

// Serialises `pkey` with an OSSL_ENCODER into a secure-heap memory BIO (wiped on free).
Result<std::string> encode_private(EVP_PKEY* pkey, std::string_view passphrase) {
  EncoderCtxPtr ectx(
      OSSL_ENCODER_CTX_new_for_pkey(pkey, EVP_PKEY_KEYPAIR, "PEM", "PrivateKeyInfo", nullptr));
  if (!ectx || OSSL_ENCODER_CTX_get_num_encoders(ectx.get()) == 0) {
    return ossl::failure(Errc::unsupported, "no PKCS#8 PEM encoder for this key");
  }
  if (!passphrase.empty()) {
    // PKCS#5 v2 (PBES2 with PBKDF2) around AES-256-CBC: OpenSSL's default for a cipher name.
    if (OSSL_ENCODER_CTX_set_cipher(ectx.get(), "AES-256-CBC", nullptr) != 1 ||
        OSSL_ENCODER_CTX_set_passphrase(ectx.get(),
                                        reinterpret_cast<const unsigned char*>(passphrase.data()),
                                        passphrase.size()) != 1) {
      return ossl::failure(Errc::crypto_failure, "setting the PKCS#8 encryption");
    }
  }
  ossl::BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio) return ossl::failure(Errc::crypto_failure, "BIO_new");
  if (OSSL_ENCODER_to_bio(ectx.get(), bio.get()) != 1) {
    return ossl::failure(Errc::crypto_failure, "encoding the private key");
  }
  char* out = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &out);
  if (n <= 0 || out == nullptr) return ossl::failure(Errc::crypto_failure, "empty PEM output");
  return std::string(out, static_cast<std::size_t>(n));
}

std::span<const std::uint8_t> bytes_of(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

std::string_view key_type_name(KeyType t) noexcept {
  switch (t) {
    case KeyType::rsa:
      return "rsa";
    case KeyType::rsa_pss:
      return "rsa-pss";
    case KeyType::ec_p256:
      return "ec-p256";
    case KeyType::ec_p384:
      return "ec-p384";
    case KeyType::ed25519:
      return "ed25519";
    case KeyType::other:
      return "other";
  }
  return "other";
}

// --- PublicKey --------------------------------------------------------------------------

PublicKey::PublicKey(EVP_PKEY* pkey) noexcept : pkey_(pkey) {}

PublicKey::PublicKey(const PublicKey& o) noexcept : pkey_(o.pkey_) {
  if (pkey_ != nullptr) EVP_PKEY_up_ref(pkey_);
}

PublicKey& PublicKey::operator=(const PublicKey& o) noexcept {
  if (this != &o) {
    if (o.pkey_ != nullptr) EVP_PKEY_up_ref(o.pkey_);
    EVP_PKEY_free(pkey_);
    pkey_ = o.pkey_;
  }
  return *this;
}

PublicKey::PublicKey(PublicKey&& o) noexcept : pkey_(std::exchange(o.pkey_, nullptr)) {}

PublicKey& PublicKey::operator=(PublicKey&& o) noexcept {
  if (this != &o) {
    EVP_PKEY_free(pkey_);
    pkey_ = std::exchange(o.pkey_, nullptr);
  }
  return *this;
}

PublicKey::~PublicKey() {
  EVP_PKEY_free(pkey_);
}

Result<PublicKey> PublicKey::from_spki_der(std::span<const std::uint8_t> der) {
  if (der.empty()) return Error(Errc::decode_failed, "empty SubjectPublicKeyInfo");
  const unsigned char* p = der.data();
  ossl::PkeyPtr pkey(d2i_PUBKEY_ex(nullptr, &p, static_cast<long>(der.size()), nullptr, nullptr));
  if (!pkey) return ossl::failure(Errc::decode_failed, "not a DER SubjectPublicKeyInfo");
  if (p != der.data() + der.size()) {
    return Error(Errc::decode_failed, "bytes after the SubjectPublicKeyInfo");
  }
  return PublicKey(pkey.release());
}

Result<PublicKey> PublicKey::from_pem(std::string_view pem) {
  ossl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return ossl::failure(Errc::crypto_failure, "BIO_new_mem_buf");
  // A public key is never encrypted; the callback only guarantees there is no prompt.
  auto no_passphrase = [](char*, int, int, void*) { return 0; };
  ossl::PkeyPtr pkey(
      PEM_read_bio_PUBKEY_ex(bio.get(), nullptr, no_passphrase, nullptr, nullptr, nullptr));
  if (!pkey) return ossl::failure(Errc::decode_failed, "not a PEM PUBLIC KEY");
  return PublicKey(pkey.release());
}

KeyType PublicKey::type() const noexcept {
  return type_of(pkey_);
}

int PublicKey::bits() const noexcept {
  return bits_of(pkey_);
}

Result<std::vector<std::uint8_t>> PublicKey::spki_der() const {
  if (pkey_ == nullptr) return Error(Errc::invalid_argument, "empty public key");
  const int n = i2d_PUBKEY(pkey_, nullptr);
  if (n <= 0) return ossl::failure(Errc::crypto_failure, "i2d_PUBKEY");
  std::vector<std::uint8_t> der(static_cast<std::size_t>(n));
  unsigned char* p = der.data();
  if (i2d_PUBKEY(pkey_, &p) != n) return ossl::failure(Errc::crypto_failure, "i2d_PUBKEY");
  return der;
}

// --- PrivateKey -------------------------------------------------------------------------

PrivateKey::PrivateKey(EVP_PKEY* pkey) noexcept : pkey_(pkey), type_(type_of(pkey)) {
  if (pkey_ == nullptr) return;
  try {
    signers_ = std::make_shared<detail::SigningContexts>();
  } catch (const std::bad_alloc&) {
    // Without kept contexts, every signature sets its own up.
  }
}

PrivateKey::PrivateKey(const PrivateKey& o) noexcept
    : pkey_(o.pkey_), type_(o.type_), signers_(o.signers_) {
  if (pkey_ != nullptr) EVP_PKEY_up_ref(pkey_);
}

PrivateKey& PrivateKey::operator=(const PrivateKey& o) noexcept {
  if (this != &o) {
    if (o.pkey_ != nullptr) EVP_PKEY_up_ref(o.pkey_);
    signers_.reset();  // its contexts hold the old key
    EVP_PKEY_free(pkey_);
    pkey_ = o.pkey_;
    type_ = o.type_;
    signers_ = o.signers_;
  }
  return *this;
}

PrivateKey::PrivateKey(PrivateKey&& o) noexcept
    : pkey_(std::exchange(o.pkey_, nullptr)),
      type_(std::exchange(o.type_, KeyType::other)),
      signers_(std::move(o.signers_)) {}

PrivateKey& PrivateKey::operator=(PrivateKey&& o) noexcept {
  if (this != &o) {
    signers_.reset();
    EVP_PKEY_free(pkey_);
    pkey_ = std::exchange(o.pkey_, nullptr);
    type_ = std::exchange(o.type_, KeyType::other);
    signers_ = std::move(o.signers_);
  }
  return *this;
}

PrivateKey::~PrivateKey() {
  signers_.reset();  // the kept contexts release their references to the key first
  EVP_PKEY_free(pkey_);
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem, std::string_view passphrase) {
  return decode_private("PEM", bytes_of(pem), passphrase);
}

Result<PrivateKey> PrivateKey::from_der(std::span<const std::uint8_t> der) {
  return decode_private("DER", der, {});
}

Result<PrivateKey> PrivateKey::load_file(const std::filesystem::path& path,
                                         std::string_view passphrase) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Errc::io_error, "cannot open " + path.string());
  // The buffer holds key material: wipe it whatever happens.
  Secret content;
  {
    std::vector<std::uint8_t> buf((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    if (in.bad()) {
      wipe(buf);
      return Error(Errc::io_error, "cannot read " + path.string());
    }
    content = Secret(std::span<const std::uint8_t>(buf));
    wipe(buf);
  }
  // PEM is text with a "-----BEGIN" armour line; anything else is taken as DER.
  static constexpr std::string_view kArmour = "-----BEGIN ";
  const auto bytes = content.span();
  const bool is_pem =
      std::search(bytes.begin(), bytes.end(), kArmour.begin(), kArmour.end()) != bytes.end();
  return decode_private(is_pem ? "PEM" : "DER", bytes, passphrase);
}

Result<PrivateKey> PrivateKey::generate(KeyType type, int rsa_bits) {
  EVP_PKEY* pkey = nullptr;
  switch (type) {
    case KeyType::rsa:
      if (rsa_bits < 2048 || rsa_bits > 8192) {
        return Error(Errc::invalid_argument, "RSA key size must be 2048..8192 bits");
      }
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(rsa_bits));
      break;
    case KeyType::ec_p256:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::ec_p384:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeyType::ed25519:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case KeyType::rsa_pss:
    case KeyType::other:
      return Error(Errc::invalid_argument,
                   std::string("cannot generate keys of type ") + std::string(key_type_name(type)));
  }
  if (pkey == nullptr) return ossl::failure(Errc::crypto_failure, "key generation");
  return PrivateKey(pkey);
}

KeyType PrivateKey::type() const noexcept {
  return type_;
}

int PrivateKey::bits() const noexcept {
  return bits_of(pkey_);
}

PublicKey PrivateKey::public_key() const {
  // Shares the key object: PublicKey only ever uses its public half.
  if (pkey_ != nullptr) EVP_PKEY_up_ref(pkey_);
  return PublicKey(pkey_);
}

Result<std::string> PrivateKey::to_pem(std::string_view passphrase) const {
  if (pkey_ == nullptr) return Error(Errc::invalid_argument, "empty private key");
  return encode_private(pkey_, passphrase);
}

}  // namespace bulwark::crypto
