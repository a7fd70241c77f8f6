// TLS 1.2 CBC record protection (RFC 5246 §6.2.3.2): AES-CBC with an explicit IV per record
// and HMAC, MAC-then-encrypt. Legacy policy only: AEAD suites are the default everywhere.
//
// Opening is constant-time with respect to the padding and the MAC (Lucky13, AlFardan and
// Paterson 2013): the padding is checked over the largest padding the record could hold, the
// MAC is read out of the record without a secret-dependent address, the HMAC is followed by
// dummy compression-function blocks so that every record of one length costs the same number
// of blocks, and every failure is the same `bad_record_mac`.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "bulwark/crypto/hash.hpp"
#include "bulwark/crypto/hmac.hpp"
#include "bulwark/result.hpp"

namespace bulwark::crypto {

enum class CbcAlg : std::uint8_t { aes_128_cbc, aes_256_cbc };

constexpr std::size_t cbc_key_length(CbcAlg alg) noexcept {
  switch (alg) {
    case CbcAlg::aes_128_cbc:
      return 16;
    case CbcAlg::aes_256_cbc:
      return 32;
  }
  return 0;
}
// AES's block, which is also the size of the explicit IV that starts every record.
inline constexpr std::size_t cbc_block_size = 16;
// seq_num (8) || type (1) || version (2): the MAC input before the length (RFC 5246 §6.2.3.1).
inline constexpr std::size_t tls_mac_prefix_size = 11;

// One direction's keys: the cipher key schedule (computed once) and the keyed HMAC. Seal and
// open neither fetch algorithms nor allocate beyond what libcrypto does for a digest copy.
// Move-only; not for concurrent use.
class TlsCbcHmac {
 public:
  // `invalid_argument` unless enc_key.size() == cbc_key_length(alg) and mac_key.size() ==
  // digest_length(mac_alg) (RFC 5246 §6.3: the MAC key is as long as the hash).
  static Result<TlsCbcHmac> create(CbcAlg alg, std::span<const std::uint8_t> enc_key,
                                   HashAlg mac_alg, std::span<const std::uint8_t> mac_key);

  TlsCbcHmac(TlsCbcHmac&&) noexcept;
  TlsCbcHmac& operator=(TlsCbcHmac&&) noexcept;
  TlsCbcHmac(const TlsCbcHmac&) = delete;
  TlsCbcHmac& operator=(const TlsCbcHmac&) = delete;
  ~TlsCbcHmac();

  std::size_t mac_length() const noexcept { return digest_length(mac_alg_); }
  // The fragment `plaintext_len` bytes become: IV || E(plaintext || MAC || padding ||
  // padding_length), with the least padding that fills the last block.
  std::size_t sealed_length(std::size_t plaintext_len) const noexcept;
  // The shortest fragment that can be authentic: an IV and room for a MAC and a length byte.
  std::size_t min_sealed_length() const noexcept;

  // Seals `fragment` in place. It is IV || plaintext || room, exactly
  // sealed_length(plaintext_len) bytes; the caller has written a fresh unpredictable IV into
  // its first cbc_block_size bytes (RFC 5246 §6.2.3.2). `mac_prefix` is seq_num || type ||
  // version. A fragment of the wrong size is `invalid_argument`.
  Status seal(std::span<const std::uint8_t, tls_mac_prefix_size> mac_prefix,
              std::span<std::uint8_t> fragment, std::size_t plaintext_len) noexcept;
  // Opens IV || ciphertext in place and returns the plaintext length; the plaintext starts at
  // fragment[cbc_block_size]. A length that is not a whole number of blocks or too short, bad
  // padding and a bad MAC are all `bad_record_mac` (RFC 5246 §6.2.3.2), told apart neither by
  // the error nor by the time taken; on failure the decrypted bytes are wiped.
  Result<std::size_t> open(std::span<const std::uint8_t, tls_mac_prefix_size> mac_prefix,
                           std::span<std::uint8_t> fragment) noexcept;

 private:
  struct State;
  explicit TlsCbcHmac(HashAlg mac_alg, std::unique_ptr<State> state) noexcept;

  HashAlg mac_alg_;
  std::unique_ptr<State> state_;
};

}  // namespace bulwark::crypto
