// Every PEM / DER entry point for keys and certificates (what `bulwark serve --cert/--key`,
// `bulwark ca`, trust bundles and the proxy's CA read): the first byte picks the parser, the
// rest is the input. Encrypted private keys are tried with a fixed passphrase. Never a crash;
// whatever parses re-encodes and parses back to the same key or certificate.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/crypto/keys.hpp"
#include "bulwark/crypto/trust_store.hpp"
#include "bulwark/tls/config.hpp"
#include "common.hpp"

using namespace bulwark;
using fuzz::check;

namespace {

constexpr std::string_view passphrase = "fuzz passphrase";

void same_public_key(const crypto::PublicKey& a, const crypto::PublicKey& b) {
  auto da = a.spki_der();
  auto db = b.spki_der();
  check(da.ok() && db.ok() && *da == *db);
}

void private_key(const Result<crypto::PrivateKey>& key) {
  if (!key) return;
  check(key->valid());
  (void)key->type();
  (void)key->bits();
  // Unencrypted PKCS#8 only: encrypting costs a PBKDF2 per input.
  auto pem = key->to_pem();
  check(pem.ok());
  auto again = crypto::PrivateKey::from_pem(*pem);
  check(again.ok());
  same_public_key(key->public_key(), again->public_key());
  // A key from the fuzzer fits no fixed certificate, unless it is the fixed leaf's own.
  const auto& pki = fuzz::fixed_pki();
  (void)tls::CertifiedKey{{pki.leaf}, *key}.check();
}

void public_key(const Result<crypto::PublicKey>& key) {
  if (!key) return;
  check(key->valid());
  (void)key->type();
  (void)key->bits();
  auto der = key->spki_der();
  check(der.ok());
  auto again = crypto::PublicKey::from_spki_der(*der);
  check(again.ok());
  same_public_key(*key, *again);
}

void certificate(const Result<crypto::Certificate>& cert) {
  if (!cert) return;
  auto pem = cert->to_pem();
  check(pem.ok());
  auto again = crypto::Certificate::from_pem(*pem);
  check(again.ok() && *again == *cert);
  (void)cert->public_key();
  (void)cert->subject();
  (void)cert->self_signed();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const wire::Bytes der(data + 1, size - 1);
  switch (data[0] % 8) {
    case 0:
      private_key(crypto::PrivateKey::from_pem(text, passphrase));
      break;
    case 1:
      private_key(crypto::PrivateKey::from_pem(text));
      break;
    case 2:
      private_key(crypto::PrivateKey::from_der(der));
      break;
    case 3:
      public_key(crypto::PublicKey::from_pem(text));
      break;
    case 4:
      public_key(crypto::PublicKey::from_spki_der(der));
      break;
    case 5:
      certificate(crypto::Certificate::from_pem(text));
      break;
    case 6:
      certificate(crypto::Certificate::from_der(der));
      break;
    case 7: {
      auto bundle = crypto::load_certificates_pem(text);
      if (!bundle) break;
      check(!bundle->empty());
      for (const auto& c : *bundle)
        certificate(c);
      // A bundle is what trust stores are made of.
      auto store = crypto::TrustStore::from_certificates(*bundle);
      if (store) {
        const crypto::VerifyOptions at_fixed_time{.purpose = crypto::Purpose::any,
                                                  .at = fuzz::fixed_now()};
        (void)store->verify(bundle->front(), *bundle, at_fixed_time);
      }
      break;
    }
  }
  return 0;
}
