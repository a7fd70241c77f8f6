// Finite-field Diffie-Hellman for the TLS 1.2 DHE_RSA suites (legacy policy only): the RFC 7919
// groups ffdhe2048/3072/4096 on our side, and whatever group a server sends on a client's side
// as long as its prime has at least 2048 bits (Logjam: no export-grade or 1024-bit groups).
//
// A separate unit from KeyShare (whose fixed 97-byte public value suits elliptic curves):
// public values here are as long as the prime, up to 1024 bytes.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "bulwark/crypto/random.hpp"
#include "bulwark/crypto/secret.hpp"
#include "bulwark/result.hpp"

namespace bulwark::crypto {

// IANA TLS NamedGroup code points of the RFC 7919 groups we implement.
enum class FfdheGroup : std::uint16_t {
  ffdhe2048 = 0x0100,
  ffdhe3072 = 0x0101,
  ffdhe4096 = 0x0102,
};

// "ffdhe2048", ...; "unknown" for anything else.
std::string_view ffdhe_group_name(FfdheGroup group) noexcept;
bool ffdhe_group_supported(FfdheGroup group) noexcept;

// Bounds on a server's prime (bits): below the minimum is `insufficient_security`; above the
// maximum (RFC 7919's largest group) we refuse the work.
inline constexpr int min_dh_prime_bits = 2048;
inline constexpr int max_dh_prime_bits = 8192;

// One side's ephemeral DH key pair. Move-only: the private exponent is never copied.
class DhKeyShare {
 public:
  // A fresh key pair in an RFC 7919 group. The private exponent is drawn from `rng` (at least
  // twice the group's security level in bits, RFC 7919 §5.2), so transcripts replay with a
  // DeterministicRandom. `unsupported` for other groups.
  static Result<DhKeyShare> generate(FfdheGroup group, Random& rng);
  // A fresh key pair in the group a server sent (dh_p, dh_g: big-endian, RFC 5246 §7.4.3).
  // A prime of fewer than 2048 bits is `insufficient_security`; more than 8192 bits is
  // `unsupported`; an even prime or g outside [2, p-2] is `illegal_parameter`. When p and g
  // are an RFC 7919 group's, that group is used (and group() names it).
  static Result<DhKeyShare> generate_for(std::span<const std::uint8_t> p,
                                         std::span<const std::uint8_t> g, Random& rng);

  DhKeyShare(DhKeyShare&&) noexcept;
  DhKeyShare& operator=(DhKeyShare&&) noexcept;
  DhKeyShare(const DhKeyShare&) = delete;
  DhKeyShare& operator=(const DhKeyShare&) = delete;
  ~DhKeyShare();

  // The RFC 7919 group, or nullopt for a server's own prime.
  std::optional<FfdheGroup> group() const noexcept { return group_; }
  int prime_bits() const noexcept { return prime_bits_; }
  // dh_p and dh_g as they go on the wire: big-endian, no leading zeros.
  std::span<const std::uint8_t> prime() const noexcept { return p_; }
  std::span<const std::uint8_t> generator() const noexcept { return g_; }
  // g^x mod p, big-endian, left-padded to the length of p (dh_Ys / dh_Yc).
  std::span<const std::uint8_t> public_value() const noexcept { return public_; }

  // The shared secret with the peer's public value, leading zero bytes stripped (RFC 5246
  // §8.1.2: it is the TLS 1.2 pre-master secret). RFC 7919 §5.1: a peer value outside
  // 1 < Y < p-1, or (for the named groups, whose subgroup order is known) outside the prime-
  // order subgroup, is `invalid_public_value`; so is a shared secret of 1 or p-1.
  Result<Secret> derive(std::span<const std::uint8_t> peer_public) const;

 private:
  struct PkeyFree {
    void operator()(EVP_PKEY* p) const noexcept;
  };
  DhKeyShare() noexcept = default;
  // The key pair for p and g (minimal big-endian), exponent and public value computed here.
  static Result<DhKeyShare> create(std::optional<FfdheGroup> group, std::span<const std::uint8_t> p,
                                   std::span<const std::uint8_t> g, Random& rng);

  std::optional<FfdheGroup> group_;
  int prime_bits_ = 0;
  std::vector<std::uint8_t> p_;
  std::vector<std::uint8_t> g_;
  std::vector<std::uint8_t> public_;
  std::unique_ptr<EVP_PKEY, PkeyFree> key_;  // domain parameters and the private exponent
};

}  // namespace bulwark::crypto
