// RSA key transport. Both directions use raw RSA (RSA_NO_PADDING) and do the PKCS#1 v1.5
// block here: encryption so that the padding's randomness is the injected source's, and
// decryption so that libcrypto's padding check, which reports a bad block through an error
// value and its error queue (the timing difference the Marvin attack measured), never runs.
// OpenSSL 3.2 added implicit rejection to its own PKCS#1 decryption, but Debian 12 ships 3.0.
#include "bulwark/crypto/key_transport.hpp"

#include <openssl/rsa.h>

#include <algorithm>
#include <array>

#include "crypto/ossl.hpp"

namespace bulwark::crypto {

namespace {

// All ones when x == 0, for byte values.
inline unsigned zero_mask(unsigned x) noexcept {
  unsigned m = (x | (0u - x)) >> (sizeof(unsigned) * 8 - 1);  // 1 when x != 0
  m = m - 1u;                                                 // all ones when x == 0
#if defined(__GNUC__) || defined(__clang__)
  __asm__("" : "+r"(m));
#endif
  return m;
}

Result<ossl::PkeyCtxPtr> raw_rsa_ctx(EVP_PKEY* pkey, bool encrypt) {
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  const int init = !ctx      ? 0
                   : encrypt ? EVP_PKEY_encrypt_init(ctx.get())
                             : EVP_PKEY_decrypt_init(ctx.get());
  if (init != 1 || EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_NO_PADDING) != 1) {
    return ossl::failure(Errc::crypto_failure, "RSA context setup failed");
  }
  return ctx;
}

}  // namespace

Result<std::vector<std::uint8_t>> rsa_pkcs1_encrypt(const PublicKey& key,
                                                    std::span<const std::uint8_t> message,
                                                    Random& rng) {
  if (!key.valid() || key.type() != KeyType::rsa) {
    return Error(Errc::invalid_key, "RSA key transport needs an rsaEncryption key");
  }
  const auto k = static_cast<std::size_t>(EVP_PKEY_get_size(key.native()));
  // RFC 8017 §7.2.1: mLen <= k - 11 (at least 8 octets of padding).
  if (k < 11 || message.size() > k - 11) {
    return Error(Errc::invalid_argument, "message too long for the RSA modulus");
  }
  // EM = 0x00 || 0x02 || PS || 0x00 || M, PS nonzero random octets.
  Secret em(k);
  const std::size_t ps_len = k - message.size() - 3;
  em.data()[0] = 0x00;
  em.data()[1] = 0x02;
  const auto ps = em.span().subspan(2, ps_len);
  BW_TRY(rng.fill(ps));
  for (auto& b : ps) {
    // Redraw zero octets; the count of redraws says nothing about the message.
    for (int tries = 0; b == 0; ++tries) {
      if (tries == 64) return Error(Errc::crypto_failure, "the random source keeps giving zeros");
      BW_TRY(rng.fill(std::span(&b, 1)));
    }
  }
  em.data()[2 + ps_len] = 0x00;
  std::copy(message.begin(), message.end(), em.data() + 3 + ps_len);

  BW_ASSIGN(ossl::PkeyCtxPtr ctx, raw_rsa_ctx(key.native(), true));
  std::vector<std::uint8_t> out(k);
  std::size_t out_len = out.size();
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &out_len, em.data(), em.size()) != 1 ||
      out_len != k) {
    return ossl::failure(Errc::crypto_failure, "RSA encryption failed");
  }
  return out;
}

Result<Secret> rsa_decrypt_premaster_secret(const PrivateKey& key,
                                            std::span<const std::uint8_t> encrypted,
                                            std::uint16_t client_version, Random& rng) {
  if (!key.valid() || key.type() != KeyType::rsa) {
    return Error(Errc::invalid_key, "RSA key transport needs an rsaEncryption key");
  }
  constexpr std::size_t n = tls_premaster_secret_size;
  // RFC 5246 §7.4.7.1 step 1: R, before anything depends on the ciphertext.
  Secret pms(n);
  pms.data()[0] = static_cast<std::uint8_t>(client_version >> 8);
  pms.data()[1] = static_cast<std::uint8_t>(client_version);
  BW_TRY(rng.fill(pms.span().subspan(2)));

  const auto k = static_cast<std::size_t>(EVP_PKEY_get_size(key.native()));
  // Public facts about the ciphertext: its length must be the modulus size (RFC 8017 §7.2.2)
  // and, for a block that can hold 48 bytes and 8 octets of padding, k >= 59.
  if (encrypted.size() != k || k < n + 11) return pms;

  BW_ASSIGN(ossl::PkeyCtxPtr ctx, raw_rsa_ctx(key.native(), false));
  Secret em(k);
  std::size_t em_len = em.size();
  // Raw RSA fails only for a ciphertext not below the modulus, which anyone can check.
  if (EVP_PKEY_decrypt(ctx.get(), em.data(), &em_len, encrypted.data(), encrypted.size()) != 1 ||
      em_len != k) {
    ERR_clear_error();
    return pms;
  }
  // Step 3, in constant time: EM = 0x00 || 0x02 || PS (k - 51 nonzero octets) || 0x00 || M.
  const std::uint8_t* b = em.data();
  unsigned good = zero_mask(b[0]) & zero_mask(b[1] ^ 0x02u) & zero_mask(b[k - n - 1]);
  for (std::size_t i = 2; i < k - n - 1; ++i)
    good &= ~zero_mask(b[i]);
  // client_version || M[2..47] when good, else client_version || R.
  const std::uint8_t* m = b + (k - n);
  std::uint8_t* out = pms.data();
  for (std::size_t i = 2; i < n; ++i) {
    out[i] = static_cast<std::uint8_t>((m[i] & good) | (out[i] & ~good));
  }
  return pms;
}

}  // namespace bulwark::crypto
