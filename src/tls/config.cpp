#include "bulwark/tls/config.hpp"

#include <algorithm>

#include "bulwark/tls/cipher_suites.hpp"

namespace bulwark::tls {

std::vector<CipherSuite> enabled_cipher_suites(const Config& config) {
  std::vector<CipherSuite> out;
  out.reserve(config.cipher_suites.size() + legacy_cipher_suites().size());
  bool named_legacy = false;
  for (CipherSuite id : config.cipher_suites) {
    if (!is_legacy_suite(id)) {
      out.push_back(id);
    } else if (config.legacy) {
      out.push_back(id);
      named_legacy = true;
    }
  }
  if (config.legacy && !named_legacy) {
    for (const CipherSuiteInfo& s : legacy_cipher_suites())
      out.push_back(s.id);
  }
  return out;
}

std::vector<NamedGroup> enabled_groups(const Config& config) {
  static constexpr NamedGroup ffdhe[] = {NamedGroup::ffdhe2048, NamedGroup::ffdhe3072,
                                         NamedGroup::ffdhe4096};
  std::vector<NamedGroup> out;
  out.reserve(config.groups.size() + std::size(ffdhe));
  bool named_ffdhe = false;
  for (NamedGroup g : config.groups) {
    if (!is_ffdhe_group(g)) {
      out.push_back(g);
    } else if (config.legacy) {
      out.push_back(g);
      named_ffdhe = true;
    }
  }
  if (config.legacy && !named_ffdhe) out.insert(out.end(), std::begin(ffdhe), std::end(ffdhe));
  return out;
}

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
