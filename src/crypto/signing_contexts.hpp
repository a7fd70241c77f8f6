// Internal to the crypto layer: signing contexts kept with a private key between signatures.
#pragma once

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

#include "bulwark/crypto/signature.hpp"
#include "crypto/ossl.hpp"

namespace bulwark::crypto::detail {

// EVP_PKEY_CTXs initialised for signing with one key and one scheme (padding and digest set),
// idle between signatures. Setting one up costs about as much as the hashing and encoding of a
// TLS CertificateVerify; a server signs with the same key on every handshake. A context is
// used by one thread at a time: take() removes it from the pool, give_back() returns it. The
// pool belongs to the key (its copies share it), so the contexts, which hold references to the
// key, go when the key goes.
class SigningContexts {
 public:
  ossl::PkeyCtxPtr take(SignatureScheme scheme) {
    std::lock_guard lock(mutex_);
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (it->first == scheme) {
        ossl::PkeyCtxPtr ctx = std::move(it->second);
        idle_.erase(it);
        return ctx;
      }
    }
    return nullptr;
  }

  void give_back(SignatureScheme scheme, ossl::PkeyCtxPtr ctx) {
    std::lock_guard lock(mutex_);
    // Bounded: as many as threads signed at once, up to a few per core.
    if (idle_.size() < max_idle) idle_.emplace_back(scheme, std::move(ctx));
  }

 private:
  static constexpr std::size_t max_idle = 16;
  std::mutex mutex_;
  std::vector<std::pair<SignatureScheme, ossl::PkeyCtxPtr>> idle_;
};

}  // namespace bulwark::crypto::detail
