#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bulwark/crypto/keys.hpp"
#include "crypto/ossl.hpp"

using bulwark::Errc;
using bulwark::crypto::KeyType;
using bulwark::crypto::PrivateKey;
using bulwark::crypto::PublicKey;
namespace ossl = bulwark::crypto::ossl;

namespace {

using Bytes = std::vector<std::uint8_t>;

// RSA generation is slow: each type is generated once for the whole suite.
const PrivateKey& shared_key(KeyType type) {
  static const PrivateKey rsa = PrivateKey::generate(KeyType::rsa).value();
  static const PrivateKey p256 = PrivateKey::generate(KeyType::ec_p256).value();
  static const PrivateKey p384 = PrivateKey::generate(KeyType::ec_p384).value();
  static const PrivateKey ed25519 = PrivateKey::generate(KeyType::ed25519).value();
  switch (type) {
    case KeyType::rsa:
      return rsa;
    case KeyType::ec_p256:
      return p256;
    case KeyType::ec_p384:
      return p384;
    default:
      return ed25519;
  }
}

Bytes spki_of(const PrivateKey& key) {
  return key.public_key().spki_der().value();
}

// The label and DER body of the first PEM block in `pem`.
struct PemBlock {
  std::string label;
  std::string headers;
  Bytes der;
};
PemBlock first_pem_block(const std::string& pem) {
  ossl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  PemBlock out;
  if (PEM_read_bio(bio.get(), &name, &header, &data, &len) == 1) {
    out.label = name;
    out.headers = header;
    out.der.assign(data, data + len);
  }
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  return out;
}

// The key in OpenSSL's "traditional" PEM form ("RSA PRIVATE KEY", "EC PRIVATE KEY"),
// optionally with legacy (RFC 1421 style) encryption.
std::string traditional_pem(const PrivateKey& key, const char* passphrase = nullptr) {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  const EVP_CIPHER* cipher = passphrase != nullptr ? EVP_aes_128_cbc() : nullptr;
  const int klen =
      passphrase != nullptr ? static_cast<int>(std::char_traits<char>::length(passphrase)) : 0;
  EXPECT_EQ(PEM_write_bio_PrivateKey_traditional(bio.get(), key.native(), cipher,
                                                 reinterpret_cast<const unsigned char*>(passphrase),
                                                 klen, nullptr, nullptr),
            1);
  char* p = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &p);
  return std::string(p, static_cast<std::size_t>(n));
}

// An id-RSASSA-PSS key without parameter restrictions (PrivateKey::generate does not make them).
EVP_PKEY* generate_rsa_pss_key(unsigned bits) {
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA-PSS", nullptr));
  EVP_PKEY* pkey = nullptr;
  if (ctx && EVP_PKEY_keygen_init(ctx.get()) == 1 &&
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), static_cast<int>(bits)) == 1) {
    EVP_PKEY_keygen(ctx.get(), &pkey);
  }
  return pkey;
}

bool contains(const Bytes& hay, const Bytes& needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

class TempFile {
 public:
  TempFile(const std::string& tag, const Bytes& content) {
    path_ = std::filesystem::temp_directory_path() /
            ("bulwark_keys_test_" + std::to_string(::getpid()) + "_" + tag);
    std::ofstream out(path_, std::ios::binary);
    out.write(reinterpret_cast<const char*>(content.data()),
              static_cast<std::streamsize>(content.size()));
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

Bytes bytes_of(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

struct TypeCase {
  KeyType type;
  int bits;
  const char* name;
};

class KeysRoundTrip : public ::testing::TestWithParam<TypeCase> {};

TEST_P(KeysRoundTrip, GenerateTypeBitsAndPemRoundTrip) {
  const TypeCase c = GetParam();
  const PrivateKey& key = shared_key(c.type);
  ASSERT_TRUE(key.valid());
  EXPECT_EQ(key.type(), c.type);
  EXPECT_EQ(key.bits(), c.bits);
  EXPECT_EQ(bulwark::crypto::key_type_name(key.type()), c.name);
  EXPECT_EQ(key.public_key().type(), c.type);
  EXPECT_EQ(key.public_key().bits(), c.bits);

  auto pem = key.to_pem();
  ASSERT_TRUE(pem.ok()) << pem.error().message();
  EXPECT_EQ(first_pem_block(*pem).label, "PRIVATE KEY");
  auto back = PrivateKey::from_pem(*pem);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->type(), c.type);
  EXPECT_EQ(back->bits(), c.bits);
  EXPECT_EQ(spki_of(*back), spki_of(key));
  EXPECT_EQ(back->to_pem().value(), *pem);  // PKCS#8 encoding is canonical
}

TEST_P(KeysRoundTrip, EncryptedPemRoundTrip) {
  const PrivateKey& key = shared_key(GetParam().type);
  auto pem = key.to_pem("correct horse");
  ASSERT_TRUE(pem.ok()) << pem.error().message();
  const PemBlock block = first_pem_block(*pem);
  EXPECT_EQ(block.label, "ENCRYPTED PRIVATE KEY");
  // PBES2 with PBKDF2 and AES-256-CBC, as the header promises: their OIDs are in the DER.
  EXPECT_TRUE(contains(block.der, {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05,
                                   0x0d}));  // id-PBES2 1.2.840.113549.1.5.13
  EXPECT_TRUE(contains(block.der, {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05,
                                   0x0c}));  // id-PBKDF2 1.2.840.113549.1.5.12
  EXPECT_TRUE(contains(block.der, {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01,
                                   0x2a}));  // aes256-CBC 2.16.840.1.101.3.4.1.42

  auto back = PrivateKey::from_pem(*pem, "correct horse");
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(spki_of(*back), spki_of(key));

  auto wrong = PrivateKey::from_pem(*pem, "battery staple");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), Errc::bad_passphrase) << wrong.error().message();

  auto missing = PrivateKey::from_pem(*pem);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::bad_passphrase) << missing.error().message();
}

TEST_P(KeysRoundTrip, DerPkcs8AndSpkiRoundTrip) {
  const PrivateKey& key = shared_key(GetParam().type);
  const PemBlock block = first_pem_block(key.to_pem().value());
  ASSERT_FALSE(block.der.empty());
  auto from_der = PrivateKey::from_der(block.der);
  ASSERT_TRUE(from_der.ok()) << from_der.error().message();
  EXPECT_EQ(spki_of(*from_der), spki_of(key));

  const Bytes spki = spki_of(key);
  auto pub = PublicKey::from_spki_der(spki);
  ASSERT_TRUE(pub.ok()) << pub.error().message();
  EXPECT_EQ(pub->type(), GetParam().type);
  EXPECT_EQ(pub->bits(), GetParam().bits);
  EXPECT_EQ(pub->spki_der().value(), spki);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, KeysRoundTrip,
                         ::testing::Values(TypeCase{KeyType::rsa, 2048, "rsa"},
                                           TypeCase{KeyType::ec_p256, 256, "ec-p256"},
                                           TypeCase{KeyType::ec_p384, 384, "ec-p384"},
                                           TypeCase{KeyType::ed25519, 256, "ed25519"}),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(Keys, TraditionalPemAndDer) {
  for (KeyType t : {KeyType::rsa, KeyType::ec_p256}) {
    const PrivateKey& key = shared_key(t);
    const std::string pem = traditional_pem(key);
    const PemBlock block = first_pem_block(pem);
    EXPECT_EQ(block.label, t == KeyType::rsa ? "RSA PRIVATE KEY" : "EC PRIVATE KEY");
    auto from_pem = PrivateKey::from_pem(pem);
    ASSERT_TRUE(from_pem.ok()) << from_pem.error().message();
    EXPECT_EQ(spki_of(*from_pem), spki_of(key));
    auto from_der = PrivateKey::from_der(block.der);
    ASSERT_TRUE(from_der.ok()) << from_der.error().message();
    EXPECT_EQ(spki_of(*from_der), spki_of(key));
    EXPECT_EQ(from_der->type(), t);
  }
}

TEST(Keys, LegacyEncryptedPem) {
  const PrivateKey& key = shared_key(KeyType::ec_p256);
  const std::string pem = traditional_pem(key, "legacy pass");
  EXPECT_NE(first_pem_block(pem).headers.find("ENCRYPTED"), std::string::npos);
  auto ok = PrivateKey::from_pem(pem, "legacy pass");
  ASSERT_TRUE(ok.ok()) << ok.error().message();
  EXPECT_EQ(spki_of(*ok), spki_of(key));
  auto wrong = PrivateKey::from_pem(pem, "not it");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), Errc::bad_passphrase) << wrong.error().message();
  auto missing = PrivateKey::from_pem(pem);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::bad_passphrase) << missing.error().message();
}

TEST(Keys, ParametersBlockBeforeKeyIsSkipped) {
  // `openssl ecparam -genkey` writes "EC PARAMETERS" in front of the key.
  const std::string params =
      "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
  const PrivateKey& key = shared_key(KeyType::ec_p256);
  auto loaded = PrivateKey::from_pem(params + traditional_pem(key));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ(spki_of(*loaded), spki_of(key));
}

TEST(Keys, GarbageIsDecodeFailed) {
  const std::string inputs[] = {
      "",
      "hello, world",
      "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
      "-----BEGIN PRIVATE KEY-----\nnot base64 at all!!\n-----END PRIVATE KEY-----\n",
  };
  for (const auto& in : inputs) {
    auto r = PrivateKey::from_pem(in);
    ASSERT_FALSE(r.ok()) << in;
    EXPECT_EQ(r.error().code(), Errc::decode_failed) << in << ": " << r.error().message();
  }
  // A truncated real key.
  std::string pem = shared_key(KeyType::ec_p256).to_pem().value();
  pem.erase(pem.size() / 2);
  auto truncated = PrivateKey::from_pem(pem);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().code(), Errc::decode_failed);

  const Bytes junk_der = {0x30, 0x03, 0x02, 0x01, 0x00};
  auto der = PrivateKey::from_der(junk_der);
  ASSERT_FALSE(der.ok());
  EXPECT_EQ(der.error().code(), Errc::decode_failed);
  auto empty = PrivateKey::from_der({});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), Errc::decode_failed);
}

TEST(Keys, PublicKeyIsNotAPrivateKey) {
  const PrivateKey& key = shared_key(KeyType::ec_p256);
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio.get(), key.native()), 1);
  char* p = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &p);
  const std::string pub_pem(p, static_cast<std::size_t>(n));

  auto as_private = PrivateKey::from_pem(pub_pem);
  ASSERT_FALSE(as_private.ok());
  EXPECT_EQ(as_private.error().code(), Errc::decode_failed);
  auto as_private_der = PrivateKey::from_der(spki_of(key));
  ASSERT_FALSE(as_private_der.ok());
  EXPECT_EQ(as_private_der.error().code(), Errc::decode_failed);

  auto as_public = PublicKey::from_pem(pub_pem);
  ASSERT_TRUE(as_public.ok()) << as_public.error().message();
  EXPECT_EQ(as_public->spki_der().value(), spki_of(key));
  EXPECT_EQ(as_public->type(), KeyType::ec_p256);
}

TEST(Keys, SpkiRejectsGarbageAndTrailingBytes) {
  Bytes spki = spki_of(shared_key(KeyType::ed25519));
  spki.push_back(0x00);
  auto trailing = PublicKey::from_spki_der(spki);
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.error().code(), Errc::decode_failed);

  spki.resize(spki.size() - 5);
  auto truncated = PublicKey::from_spki_der(spki);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().code(), Errc::decode_failed);

  auto empty = PublicKey::from_spki_der({});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), Errc::decode_failed);

  auto pem = PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
  ASSERT_FALSE(pem.ok());
  EXPECT_EQ(pem.error().code(), Errc::decode_failed);
}

TEST(Keys, LoadFileDetectsPemAndDer) {
  const PrivateKey& key = shared_key(KeyType::ec_p384);
  const std::string pem = key.to_pem().value();
  const std::string enc_pem = key.to_pem("file pass").value();
  const Bytes der = first_pem_block(pem).der;

  TempFile pem_file("pem", bytes_of(pem));
  TempFile enc_file("enc", bytes_of(enc_pem));
  TempFile der_file("der", der);
  TempFile junk_file("junk", {0x01, 0x02, 0x03});

  auto a = PrivateKey::load_file(pem_file.path());
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(spki_of(*a), spki_of(key));
  auto b = PrivateKey::load_file(der_file.path());
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_EQ(spki_of(*b), spki_of(key));
  auto c = PrivateKey::load_file(enc_file.path(), "file pass");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(spki_of(*c), spki_of(key));
  auto d = PrivateKey::load_file(enc_file.path());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), Errc::bad_passphrase);
  auto e = PrivateKey::load_file(junk_file.path());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), Errc::decode_failed);
  auto f = PrivateKey::load_file(std::filesystem::temp_directory_path() /
                                 "bulwark_keys_test_no_such_file.pem");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code(), Errc::io_error);
}

TEST(Keys, GenerateRejectsUnsupportedRequests) {
  for (int bits : {1024, 2047, 8193}) {
    auto r = PrivateKey::generate(KeyType::rsa, bits);
    ASSERT_FALSE(r.ok()) << bits;
    EXPECT_EQ(r.error().code(), Errc::invalid_argument);
  }
  auto pss = PrivateKey::generate(KeyType::rsa_pss);
  ASSERT_FALSE(pss.ok());
  EXPECT_EQ(pss.error().code(), Errc::invalid_argument);
  auto other = PrivateKey::generate(KeyType::other);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code(), Errc::invalid_argument);
}

TEST(Keys, GenerateRsa3072) {
  auto key = PrivateKey::generate(KeyType::rsa, 3072);
  ASSERT_TRUE(key.ok()) << key.error().message();
  EXPECT_EQ(key->type(), KeyType::rsa);
  EXPECT_EQ(key->bits(), 3072);
}

TEST(Keys, TypesOfForeignKeys) {
  PrivateKey pss(generate_rsa_pss_key(2048));
  ASSERT_TRUE(pss.valid());
  EXPECT_EQ(pss.type(), KeyType::rsa_pss);
  EXPECT_EQ(pss.bits(), 2048);
  // A PSS key survives PKCS#8 and keeps its type.
  auto back = PrivateKey::from_pem(pss.to_pem().value());
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->type(), KeyType::rsa_pss);

  PrivateKey x25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  ASSERT_TRUE(x25519.valid());
  EXPECT_EQ(x25519.type(), KeyType::other);
  PrivateKey k256(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1"));
  ASSERT_TRUE(k256.valid());
  EXPECT_EQ(k256.type(), KeyType::other);  // 256 bits, but not P-256

  EXPECT_EQ(PrivateKey().type(), KeyType::other);
  EXPECT_EQ(PrivateKey().bits(), 0);
  EXPECT_FALSE(PrivateKey().to_pem().ok());
  EXPECT_FALSE(PublicKey().spki_der().ok());
}

TEST(Keys, CopiesShareAndMovesTransfer) {
  PrivateKey a = PrivateKey::generate(KeyType::ed25519).value();
  EVP_PKEY* native = a.native();
  PrivateKey b = a;
  EXPECT_EQ(b.native(), native);
  PrivateKey c = std::move(a);
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(c.native(), native);
  a = c;
  EXPECT_EQ(a.native(), native);
  c = PrivateKey();
  EXPECT_FALSE(c.valid());
  EXPECT_EQ(b.native(), native);

  PublicKey p = b.public_key();
  PublicKey q = p;
  EXPECT_EQ(q.native(), p.native());
  PublicKey r = std::move(p);
  EXPECT_FALSE(p.valid());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(r.spki_der().value(), spki_of(b));
  q = r;
  EXPECT_EQ(q.native(), r.native());
}

}  // namespace
