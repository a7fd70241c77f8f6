// Symmetric primitives against their raw-libcrypto anchors, side by side in one run.
//
//   AEAD seal/open at 1 KiB and 16 KiB: bulwark::crypto::Aead vs a kept EVP_CIPHER_CTX driven
//   directly (EVP_EncryptInit_ex2 with only the IV per record). Aead should be within a few %.
//   HMAC-SHA256 of 64 bytes: our Hmac (EVP_MD ipad/opad states) vs the EVP_MAC ways of doing
//   the same, with a fresh key each time and with a key kept across messages.
//   HKDF-Expand-Label: ours vs libcrypto's TLS13-KDF.
//
// Run: build/<dir>/bench_symmetric --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bulwark/crypto/aead.hpp"
#include "bulwark/crypto/hkdf.hpp"
#include "bulwark/crypto/hmac.hpp"

namespace {

using bulwark::crypto::Aead;
using bulwark::crypto::AeadAlg;

const char* cipher_name(AeadAlg alg) {
  switch (alg) {
    case AeadAlg::aes_128_gcm:
      return "AES-128-GCM";
    case AeadAlg::aes_256_gcm:
      return "AES-256-GCM";
    case AeadAlg::chacha20_poly1305:
      return "ChaCha20-Poly1305";
  }
  return "";
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "bench_symmetric: %s failed\n", what);
  std::abort();
}

// The TLS 1.3 per-record nonce: the static IV with the sequence number XORed in.
void next_nonce(std::array<std::uint8_t, 12>& nonce, std::uint64_t seq) {
  for (int i = 0; i < 8; ++i)
    nonce[11 - i] ^= static_cast<std::uint8_t>(seq >> (8 * i));
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct CipherFree {
  void operator()(EVP_CIPHER* c) const { EVP_CIPHER_free(c); }
};

// The anchor: what a careful direct user of libcrypto does per record.
class RawAead {
 public:
  RawAead(AeadAlg alg, const std::vector<std::uint8_t>& key)
      : cipher_(EVP_CIPHER_fetch(nullptr, cipher_name(alg), nullptr)), ctx_(EVP_CIPHER_CTX_new()) {
    if (!cipher_ || !ctx_) die("raw EVP setup");
    if (EVP_EncryptInit_ex2(ctx_.get(), cipher_.get(), key.data(), nullptr, nullptr) != 1) {
      die("raw EVP key");
    }
  }
  void seal(const std::uint8_t* nonce, const std::uint8_t* aad, std::size_t aad_len,
            std::uint8_t* buf, std::size_t len, std::uint8_t* tag) {
    int n = 0;
    if (EVP_EncryptInit_ex2(ctx_.get(), nullptr, nullptr, nonce, nullptr) != 1 ||
        EVP_EncryptUpdate(ctx_.get(), nullptr, &n, aad, static_cast<int>(aad_len)) != 1 ||
        EVP_EncryptUpdate(ctx_.get(), buf, &n, buf, static_cast<int>(len)) != 1 ||
        EVP_EncryptFinal_ex(ctx_.get(), buf + len, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1) {
      die("raw EVP seal");
    }
  }
  bool open(const std::uint8_t* nonce, const std::uint8_t* aad, std::size_t aad_len,
            std::uint8_t* buf, std::size_t len, const std::uint8_t* tag) {
    int n = 0;
    std::uint8_t final_block[16];
    return EVP_DecryptInit_ex2(ctx_.get(), nullptr, nullptr, nonce, nullptr) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_SET_TAG, 16,
                               const_cast<std::uint8_t*>(tag)) == 1 &&
           EVP_DecryptUpdate(ctx_.get(), nullptr, &n, aad, static_cast<int>(aad_len)) == 1 &&
           EVP_DecryptUpdate(ctx_.get(), buf, &n, buf, static_cast<int>(len)) == 1 &&
           EVP_DecryptFinal_ex(ctx_.get(), final_block, &n) == 1;
  }

 private:
  std::unique_ptr<EVP_CIPHER, CipherFree> cipher_;
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx_;
};

AeadAlg alg_arg(const benchmark::State& state) {
  return static_cast<AeadAlg>(state.range(0));
}

void set_label(benchmark::State& state) {
  state.SetLabel(cipher_name(alg_arg(state)));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(1));
}

void BM_AeadSeal_Ours(benchmark::State& state) {
  const AeadAlg alg = alg_arg(state);
  const std::vector<std::uint8_t> key(bulwark::crypto::aead_key_length(alg), 0x11);
  auto aead = Aead::create(alg, key);
  if (!aead) die("Aead::create");
  std::vector<std::uint8_t> record(static_cast<std::size_t>(state.range(1)) + 16, 0x5a);
  std::array<std::uint8_t, 12> nonce{};
  const std::array<std::uint8_t, 5> header = {0x17, 0x03, 0x03, 0x40, 0x11};
  std::uint64_t seq = 0;
  for (auto _ : state) {
    next_nonce(nonce, seq++);
    if (!aead->seal_appended(nonce, header, record)) die("seal");
    benchmark::DoNotOptimize(record.data());
  }
  set_label(state);
}

void BM_AeadSeal_RawEvp(benchmark::State& state) {
  const AeadAlg alg = alg_arg(state);
  const std::vector<std::uint8_t> key(bulwark::crypto::aead_key_length(alg), 0x11);
  RawAead raw(alg, key);
  const std::size_t len = static_cast<std::size_t>(state.range(1));
  std::vector<std::uint8_t> record(len + 16, 0x5a);
  std::array<std::uint8_t, 12> nonce{};
  const std::array<std::uint8_t, 5> header = {0x17, 0x03, 0x03, 0x40, 0x11};
  std::uint64_t seq = 0;
  for (auto _ : state) {
    next_nonce(nonce, seq++);
    raw.seal(nonce.data(), header.data(), header.size(), record.data(), len, record.data() + len);
    benchmark::DoNotOptimize(record.data());
  }
  set_label(state);
}

// Open needs a valid record each time; opening the same sealed record under the same nonce
// measures exactly the per-record decrypt + verify cost.
void BM_AeadOpen_Ours(benchmark::State& state) {
  const AeadAlg alg = alg_arg(state);
  const std::vector<std::uint8_t> key(bulwark::crypto::aead_key_length(alg), 0x11);
  auto aead = Aead::create(alg, key);
  if (!aead) die("Aead::create");
  const std::size_t len = static_cast<std::size_t>(state.range(1));
  std::vector<std::uint8_t> sealed(len + 16, 0x5a);
  const std::array<std::uint8_t, 12> nonce{};
  const std::array<std::uint8_t, 5> header = {0x17, 0x03, 0x03, 0x40, 0x11};
  if (!aead->seal_appended(nonce, header, sealed)) die("seal");
  std::vector<std::uint8_t> record(sealed.size());
  for (auto _ : state) {
    std::memcpy(record.data(), sealed.data(), sealed.size());
    if (!aead->open_appended(nonce, header, record)) die("open");
    benchmark::DoNotOptimize(record.data());
  }
  set_label(state);
}

void BM_AeadOpen_RawEvp(benchmark::State& state) {
  const AeadAlg alg = alg_arg(state);
  const std::vector<std::uint8_t> key(bulwark::crypto::aead_key_length(alg), 0x11);
  RawAead raw(alg, key);
  const std::size_t len = static_cast<std::size_t>(state.range(1));
  std::vector<std::uint8_t> sealed(len + 16, 0x5a);
  const std::array<std::uint8_t, 12> nonce{};
  const std::array<std::uint8_t, 5> header = {0x17, 0x03, 0x03, 0x40, 0x11};
  raw.seal(nonce.data(), header.data(), header.size(), sealed.data(), len, sealed.data() + len);
  std::vector<std::uint8_t> record(sealed.size());
  for (auto _ : state) {
    std::memcpy(record.data(), sealed.data(), sealed.size());
    if (!raw.open(nonce.data(), header.data(), header.size(), record.data(), len,
                  record.data() + len)) {
      die("raw open");
    }
    benchmark::DoNotOptimize(record.data());
  }
  set_label(state);
}

void aead_args(benchmark::internal::Benchmark* b) {
  for (int alg = 0; alg < 3; ++alg) {
    for (int size : {1024, 16384})
      b->Args({alg, size});
  }
}

BENCHMARK(BM_AeadSeal_Ours)->Apply(aead_args);
BENCHMARK(BM_AeadSeal_RawEvp)->Apply(aead_args);
BENCHMARK(BM_AeadOpen_Ours)->Apply(aead_args);
BENCHMARK(BM_AeadOpen_RawEvp)->Apply(aead_args);

// --- HMAC-SHA256 of 64 bytes ----------------------------------------------------------------

const std::vector<std::uint8_t> hmac_key(32, 0x0b);
const std::vector<std::uint8_t> hmac_data(64, 0xdd);

struct MacFree {
  void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

EVP_MAC* hmac_algorithm() {
  static const std::unique_ptr<EVP_MAC, MacFree> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  return mac.get();
}

std::unique_ptr<EVP_MAC_CTX, MacCtxFree> keyed_evp_mac() {
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(hmac_algorithm()));
  char digest[] = "SHA2-256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (!ctx || EVP_MAC_init(ctx.get(), hmac_key.data(), hmac_key.size(), params) != 1) {
    die("EVP_MAC_init");
  }
  return ctx;
}

// A new key every time (HKDF-Extract, HKDF-Expand with a fresh PRK, Finished).
void BM_HmacSha256_NewKey_Ours(benchmark::State& state) {
  for (auto _ : state) {
    auto d = bulwark::crypto::hmac(bulwark::crypto::HashAlg::sha256, hmac_key, hmac_data);
    if (!d) die("hmac");
    benchmark::DoNotOptimize(d->bytes.data());
  }
}

void BM_HmacSha256_NewKey_EvpMacCtx(benchmark::State& state) {
  std::array<std::uint8_t, 32> out;
  for (auto _ : state) {
    auto ctx = keyed_evp_mac();
    std::size_t n = 0;
    if (EVP_MAC_update(ctx.get(), hmac_data.data(), hmac_data.size()) != 1 ||
        EVP_MAC_final(ctx.get(), out.data(), &n, out.size()) != 1) {
      die("EVP_MAC");
    }
    benchmark::DoNotOptimize(out.data());
  }
}

void BM_HmacSha256_NewKey_EvpQMac(benchmark::State& state) {
  std::array<std::uint8_t, 32> out;
  for (auto _ : state) {
    std::size_t n = 0;
    if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA2-256", nullptr, hmac_key.data(), hmac_key.size(),
                  hmac_data.data(), hmac_data.size(), out.data(), out.size(), &n) == nullptr) {
      die("EVP_Q_mac");
    }
    benchmark::DoNotOptimize(out.data());
  }
}

// One key, many messages (TLS 1.2 PRF, HKDF-Expand blocks).
void BM_HmacSha256_KeptKey_Ours(benchmark::State& state) {
  auto mac = bulwark::crypto::Hmac::create(bulwark::crypto::HashAlg::sha256, hmac_key);
  if (!mac) die("Hmac::create");
  for (auto _ : state) {
    if (!mac->reset() || !mac->update(hmac_data)) die("Hmac");
    auto d = mac->final();
    if (!d) die("Hmac::final");
    benchmark::DoNotOptimize(d->bytes.data());
  }
}

void BM_HmacSha256_KeptKey_EvpMacReinit(benchmark::State& state) {
  auto ctx = keyed_evp_mac();
  std::array<std::uint8_t, 32> out;
  for (auto _ : state) {
    std::size_t n = 0;
    if (EVP_MAC_init(ctx.get(), nullptr, 0, nullptr) != 1 ||
        EVP_MAC_update(ctx.get(), hmac_data.data(), hmac_data.size()) != 1 ||
        EVP_MAC_final(ctx.get(), out.data(), &n, out.size()) != 1) {
      die("EVP_MAC");
    }
    benchmark::DoNotOptimize(out.data());
  }
}

void BM_HmacSha256_KeptKey_EvpMacDup(benchmark::State& state) {
  auto keyed = keyed_evp_mac();
  std::array<std::uint8_t, 32> out;
  for (auto _ : state) {
    std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_dup(keyed.get()));
    std::size_t n = 0;
    if (!ctx || EVP_MAC_update(ctx.get(), hmac_data.data(), hmac_data.size()) != 1 ||
        EVP_MAC_final(ctx.get(), out.data(), &n, out.size()) != 1) {
      die("EVP_MAC dup");
    }
    benchmark::DoNotOptimize(out.data());
  }
}

BENCHMARK(BM_HmacSha256_NewKey_Ours);
BENCHMARK(BM_HmacSha256_NewKey_EvpMacCtx);
BENCHMARK(BM_HmacSha256_NewKey_EvpQMac);
BENCHMARK(BM_HmacSha256_KeptKey_Ours);
BENCHMARK(BM_HmacSha256_KeptKey_EvpMacReinit);
BENCHMARK(BM_HmacSha256_KeptKey_EvpMacDup);

// --- HKDF-Expand-Label ("key", 16 bytes, SHA-256) -------------------------------------------

const std::vector<std::uint8_t> traffic_secret(32, 0x42);

void BM_HkdfExpandLabel_Ours(benchmark::State& state) {
  for (auto _ : state) {
    auto key = bulwark::crypto::hkdf_expand_label(bulwark::crypto::HashAlg::sha256, traffic_secret,
                                                  "key", {}, 16);
    if (!key) die("hkdf_expand_label");
    benchmark::DoNotOptimize(key->data());
  }
}

struct KdfFree {
  void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

void BM_HkdfExpandLabel_EvpTls13Kdf(benchmark::State& state) {
  static const std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "TLS13-KDF", nullptr));
  if (!kdf) die("EVP_KDF_fetch");
  std::array<std::uint8_t, 16> out;
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  char digest[] = "SHA2-256";
  std::string prefix = "tls13 ";
  std::string label = "key";
  std::vector<std::uint8_t> secret = traffic_secret;
  for (auto _ : state) {
    std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(EVP_KDF_CTX_new(kdf.get()));
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, secret.data(), secret.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, prefix.data(), prefix.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, label.data(), label.size()),
        // No OSSL_KDF_PARAM_DATA: an empty context.
        OSSL_PARAM_construct_end()};
    if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
      die("TLS13-KDF");
    }
    benchmark::DoNotOptimize(out.data());
  }
}

BENCHMARK(BM_HkdfExpandLabel_Ours);
BENCHMARK(BM_HkdfExpandLabel_EvpTls13Kdf);

}  // namespace

BENCHMARK_MAIN();
