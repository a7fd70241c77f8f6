#include "bulwark/crypto/prf.hpp"

#include <algorithm>
#include <cstring>

namespace bulwark::crypto {

Status tls12_prf(Hmac& keyed, std::string_view label, std::span<const std::uint8_t> seed,
                 std::span<std::uint8_t> out) {
  // RFC 5246 §5: the PRF uses SHA-256 or a stronger hash.
  if (keyed.alg() == HashAlg::sha1 || digest_length(keyed.alg()) == 0) {
    return Error(Errc::invalid_argument, "the TLS 1.2 PRF uses SHA-256 or stronger");
  }
  const std::span<const std::uint8_t> label_bytes(
      reinterpret_cast<const std::uint8_t*>(label.data()), label.size());
  const std::size_t hash_len = keyed.size();

  // RFC 5246 §5: P_hash(secret, seed) = HMAC_hash(secret, A(1) + seed) +
  //                                     HMAC_hash(secret, A(2) + seed) + ...
  // with A(0) = seed and A(i) = HMAC_hash(secret, A(i-1)); here "seed" is label + seed.
  // One keyed Hmac serves every block.
  Hmac& mac = keyed;
  BW_TRY(mac.reset());
  BW_TRY(mac.update(label_bytes));
  BW_TRY(mac.update(seed));
  BW_ASSIGN(Digest a, mac.final());  // A(1)

  std::size_t done = 0;
  while (done < out.size()) {
    BW_TRY(mac.reset());
    BW_TRY(mac.update(a.span()));
    BW_TRY(mac.update(label_bytes));
    BW_TRY(mac.update(seed));
    BW_ASSIGN(const Digest block, mac.final());
    const std::size_t n = std::min(hash_len, out.size() - done);
    std::memcpy(out.data() + done, block.bytes.data(), n);
    done += n;
    if (done < out.size()) {
      BW_TRY(mac.reset());
      BW_TRY(mac.update(a.span()));
      BW_ASSIGN(a, mac.final());  // A(i+1)
    }
  }
  return {};
}

Result<Secret> tls12_prf(Hmac& keyed, std::string_view label, std::span<const std::uint8_t> seed,
                         std::size_t length) {
  Secret out(length);
  BW_TRY(tls12_prf(keyed, label, seed, std::span<std::uint8_t>(out.data(), length)));
  return out;
}

Result<Secret> tls12_prf(HashAlg alg, std::span<const std::uint8_t> secret, std::string_view label,
                         std::span<const std::uint8_t> seed, std::size_t length) {
  // Refused before keying, as the keyed form would.
  if (alg == HashAlg::sha1 || digest_length(alg) == 0) {
    return Error(Errc::invalid_argument, "the TLS 1.2 PRF uses SHA-256 or stronger");
  }
  BW_ASSIGN(Hmac mac, Hmac::create(alg, secret));
  return tls12_prf(mac, label, seed, length);
}

}  // namespace bulwark::crypto
