// Public-key "crypto floor": the cost of the signatures and key exchanges a TLS handshake
// makes, through bulwark's wrappers and, as anchors, through plain libcrypto EVP calls.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "bulwark/crypto/key_share.hpp"
#include "bulwark/crypto/keys.hpp"
#include "bulwark/crypto/random.hpp"
#include "bulwark/crypto/signature.hpp"
#include "certificate_verify.hpp"

namespace {

using bulwark::crypto::Group;
using bulwark::crypto::KeyShare;
using bulwark::crypto::KeyType;
using bulwark::crypto::PrivateKey;
using bulwark::crypto::PublicKey;
using bulwark::crypto::SignatureScheme;
using bulwark::crypto::SystemRandom;

template <class T>
T must(bulwark::Result<T> r) {
  if (!r) {
    std::fprintf(stderr, "bench setup failed: %s\n", r.error().message().c_str());
    std::abort();
  }
  return std::move(r).value();
}

using bulwark::bench::certificate_verify_content;

void sign_bench(benchmark::State& state, KeyType type, SignatureScheme scheme) {
  const PrivateKey key = must(PrivateKey::generate(type));
  const auto msg = certificate_verify_content();
  for (auto _ : state) {
    auto sig = bulwark::crypto::sign(key, scheme, msg);
    if (!sig) state.SkipWithError("sign failed");
    benchmark::DoNotOptimize(sig);
  }
  state.counters["ops/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void verify_bench(benchmark::State& state, KeyType type, SignatureScheme scheme) {
  const PrivateKey key = must(PrivateKey::generate(type));
  const PublicKey pub = key.public_key();
  const auto msg = certificate_verify_content();
  const auto sig = must(bulwark::crypto::sign(key, scheme, msg));
  for (auto _ : state) {
    auto ok = bulwark::crypto::verify(pub, scheme, msg, sig);
    if (!ok) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(ok);
  }
  state.counters["ops/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_EcdsaP256Sign(benchmark::State& s) {
  sign_bench(s, KeyType::ec_p256, SignatureScheme::ecdsa_secp256r1_sha256);
}
void BM_EcdsaP256Verify(benchmark::State& s) {
  verify_bench(s, KeyType::ec_p256, SignatureScheme::ecdsa_secp256r1_sha256);
}
void BM_Rsa2048PssSign(benchmark::State& s) {
  sign_bench(s, KeyType::rsa, SignatureScheme::rsa_pss_rsae_sha256);
}
void BM_Rsa2048PssVerify(benchmark::State& s) {
  verify_bench(s, KeyType::rsa, SignatureScheme::rsa_pss_rsae_sha256);
}
void BM_Ed25519Sign(benchmark::State& s) {
  sign_bench(s, KeyType::ed25519, SignatureScheme::ed25519);
}
void BM_Ed25519Verify(benchmark::State& s) {
  verify_bench(s, KeyType::ed25519, SignatureScheme::ed25519);
}
BENCHMARK(BM_EcdsaP256Sign);
BENCHMARK(BM_EcdsaP256Verify);
BENCHMARK(BM_Rsa2048PssSign);
BENCHMARK(BM_Rsa2048PssVerify);
BENCHMARK(BM_Ed25519Sign);
BENCHMARK(BM_Ed25519Verify);

// One side of an (EC)DHE exchange: generate our share, derive with the peer's.
void key_share_bench(benchmark::State& state, Group group) {
  const KeyShare peer = must(KeyShare::generate(group, SystemRandom::instance()));
  const std::vector<std::uint8_t> peer_public(peer.public_value().begin(),
                                              peer.public_value().end());
  for (auto _ : state) {
    auto mine = KeyShare::generate(group, SystemRandom::instance());
    if (!mine) state.SkipWithError("generate failed");
    auto secret = mine->derive(peer_public);
    if (!secret) state.SkipWithError("derive failed");
    benchmark::DoNotOptimize(secret);
  }
  state.counters["ops/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_X25519GenerateDerive(benchmark::State& s) {
  key_share_bench(s, Group::x25519);
}
void BM_P256GenerateDerive(benchmark::State& s) {
  key_share_bench(s, Group::secp256r1);
}
void BM_P384GenerateDerive(benchmark::State& s) {
  key_share_bench(s, Group::secp384r1);
}
BENCHMARK(BM_X25519GenerateDerive);
BENCHMARK(BM_P256GenerateDerive);
BENCHMARK(BM_P384GenerateDerive);

// Anchor: the same exchange the way an EVP-only program does it (keygen, peer key from its
// encoded public value, derive with peer validation), as libssl does per handshake.
void evp_exchange_bench(benchmark::State& state, const char* type, const char* curve) {
  auto keygen = [&] {
    return curve != nullptr ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve)
                            : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  };
  EVP_PKEY* peer = keygen();
  unsigned char* encoded = nullptr;
  const std::size_t encoded_len = EVP_PKEY_get1_encoded_public_key(peer, &encoded);
  for (auto _ : state) {
    EVP_PKEY* mine = keygen();
    EVP_PKEY* peer_copy = EVP_PKEY_new();
    bool ok = mine != nullptr && peer_copy != nullptr &&
              EVP_PKEY_copy_parameters(peer_copy, mine) == 1 &&
              EVP_PKEY_set1_encoded_public_key(peer_copy, encoded, encoded_len) == 1;
    EVP_PKEY_CTX* ctx = ok ? EVP_PKEY_CTX_new_from_pkey(nullptr, mine, nullptr) : nullptr;
    unsigned char secret[64];
    std::size_t secret_len = sizeof secret;
    ok = ctx != nullptr && EVP_PKEY_derive_init(ctx) == 1 &&
         EVP_PKEY_derive_set_peer(ctx, peer_copy) == 1 &&
         EVP_PKEY_derive(ctx, secret, &secret_len) == 1;
    if (!ok) state.SkipWithError("EVP exchange failed");
    benchmark::DoNotOptimize(secret);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer_copy);
    EVP_PKEY_free(mine);
  }
  OPENSSL_free(encoded);
  EVP_PKEY_free(peer);
  state.counters["ops/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_Anchor_EvpX25519GenerateDerive(benchmark::State& s) {
  evp_exchange_bench(s, "X25519", nullptr);
}
void BM_Anchor_EvpP256GenerateDerive(benchmark::State& s) {
  evp_exchange_bench(s, "EC", "P-256");
}
void BM_Anchor_EvpP384GenerateDerive(benchmark::State& s) {
  evp_exchange_bench(s, "EC", "P-384");
}
BENCHMARK(BM_Anchor_EvpX25519GenerateDerive);
BENCHMARK(BM_Anchor_EvpP256GenerateDerive);
BENCHMARK(BM_Anchor_EvpP384GenerateDerive);

}  // namespace

BENCHMARK_MAIN();
