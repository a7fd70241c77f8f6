#include "bulwark/tls/config.hpp"

namespace bulwark::tls {

Result<CertifiedKey> CertifiedKey::load(const std::string& cert_file, const std::string& key_file,
                                        const std::string& extra_chain,
                                        std::string_view passphrase) {
  CertifiedKey ck;
  BW_ASSIGN(ck.chain, crypto::load_certificates_file(cert_file));
  if (!extra_chain.empty()) {
    BW_ASSIGN(auto more, crypto::load_certificates_file(extra_chain));
    ck.chain.insert(ck.chain.end(), more.begin(), more.end());
  }
  BW_ASSIGN(ck.key, crypto::PrivateKey::load_file(key_file, passphrase));
  BW_TRY(ck.check());
  return ck;
}

Status CertifiedKey::check() const {
  if (chain.empty()) return Error(Errc::invalid_argument, "no certificate in the chain");
  if (!key.valid()) return Error(Errc::invalid_key, "no private key");
  BW_ASSIGN(crypto::PublicKey cert_key, chain.front().public_key());
  BW_ASSIGN(auto a, cert_key.spki_der());
  BW_ASSIGN(auto b, key.public_key().spki_der());
  if (a != b) {
    return Error(Errc::invalid_key,
                 "the private key does not belong to the certificate " + chain.front().subject());
  }
  return {};
}

}  // namespace bulwark::tls
