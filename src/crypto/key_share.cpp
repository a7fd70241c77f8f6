#include "bulwark/crypto/key_share.hpp"

#include <openssl/bn.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>

#include <array>
#include <utility>

#include "crypto/ossl.hpp"
#include "crypto/provider_table.hpp"

// Design: X25519 goes through its provider (libcrypto has no other public X25519 API; see
// X25519Provider). P-256 and P-384 use EC_GROUP / EC_POINT directly: building an EVP_PKEY from
// a scalar and a peer point, and EVP's peer validation (which repeats a full scalar
// multiplication to check the order), cost more than the ECDH itself, and with cofactor-1
// curves an on-curve check is the complete validation (SP 800-56A partial validation). Both
// curves' groups come from EC_GROUP_new_by_curve_name, which selects libcrypto's constant-time
// implementations.

namespace bulwark::crypto {

namespace {

using BnPtr = std::unique_ptr<BIGNUM, ossl::Deleter<BN_clear_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, ossl::Deleter<BN_CTX_free>>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, ossl::Deleter<EC_GROUP_free>>;
using EcPointPtr = std::unique_ptr<EC_POINT, ossl::Deleter<EC_POINT_clear_free>>;

constexpr std::size_t kX25519Size = 32;

// X25519 through its provider's key-management and key-exchange functions (provider-keymgmt(7),
// provider-keyexch(7)), looked up once per process: what EVP_PKEY_fromdata and EVP_PKEY_derive
// call, without an EVP_PKEY per key (whose creation walks libcrypto's whole name map in 3.0 to
// find a legacy method) or an EVP_PKEY_CTX per derivation. 4 us of the 52 us that a key pair
// and one derivation take. The key data is the provider's own object; it wipes the private key
// when freed.
struct X25519Provider {
  ossl::KeyExchPtr keyexch;  // kept for the life of the process: it holds the provider loaded
  void* provctx = nullptr;
  OSSL_FUNC_keymgmt_new_fn* key_new = nullptr;
  OSSL_FUNC_keymgmt_free_fn* key_free = nullptr;
  OSSL_FUNC_keymgmt_import_fn* key_import = nullptr;
  OSSL_FUNC_keyexch_newctx_fn* newctx = nullptr;
  OSSL_FUNC_keyexch_freectx_fn* freectx = nullptr;
  OSSL_FUNC_keyexch_init_fn* init = nullptr;
  OSSL_FUNC_keyexch_set_peer_fn* set_peer = nullptr;
  OSSL_FUNC_keyexch_derive_fn* derive = nullptr;

  // The key exchange EVP_KEYEXCH_fetch chooses, and the same provider's key management (the
  // two must agree on the key data).
  X25519Provider() : keyexch(EVP_KEYEXCH_fetch(nullptr, "X25519", nullptr)) {
    if (!keyexch) return;
    const OSSL_PROVIDER* prov = EVP_KEYEXCH_get0_provider(keyexch.get());
    provctx = OSSL_PROVIDER_get0_provider_ctx(prov);
    const auto is_x25519 = [&](const char* name) {
      return EVP_KEYEXCH_is_a(keyexch.get(), name) == 1;
    };
    ossl::take_functions(prov, OSSL_OP_KEYMGMT, is_x25519, [&](const OSSL_DISPATCH& f) {
      switch (f.function_id) {
        case OSSL_FUNC_KEYMGMT_NEW:
          key_new = OSSL_FUNC_keymgmt_new(&f);
          break;
        case OSSL_FUNC_KEYMGMT_FREE:
          key_free = OSSL_FUNC_keymgmt_free(&f);
          break;
        case OSSL_FUNC_KEYMGMT_IMPORT:
          key_import = OSSL_FUNC_keymgmt_import(&f);
          break;
        default:
          break;
      }
    });
    ossl::take_functions(prov, OSSL_OP_KEYEXCH, is_x25519, [&](const OSSL_DISPATCH& f) {
      switch (f.function_id) {
        case OSSL_FUNC_KEYEXCH_NEWCTX:
          newctx = OSSL_FUNC_keyexch_newctx(&f);
          break;
        case OSSL_FUNC_KEYEXCH_FREECTX:
          freectx = OSSL_FUNC_keyexch_freectx(&f);
          break;
        case OSSL_FUNC_KEYEXCH_INIT:
          init = OSSL_FUNC_keyexch_init(&f);
          break;
        case OSSL_FUNC_KEYEXCH_SET_PEER:
          set_peer = OSSL_FUNC_keyexch_set_peer(&f);
          break;
        case OSSL_FUNC_KEYEXCH_DERIVE:
          derive = OSSL_FUNC_keyexch_derive(&f);
          break;
        default:
          break;
      }
    });
  }
  bool complete() const noexcept {
    return keyexch && provctx != nullptr && key_new != nullptr && key_free != nullptr &&
           key_import != nullptr && newctx != nullptr && freectx != nullptr && init != nullptr &&
           set_peer != nullptr && derive != nullptr;
  }
};

const X25519Provider* x25519_provider() {
  static const X25519Provider p;
  return p.complete() ? &p : nullptr;
}

// The provider's key data for raw X25519 bytes: a public key (`priv` empty), or a key pair
// whose public half the caller supplies (the provider then computes nothing on import).
// Freed with key_free; nullptr on failure.
void* x25519_import(const X25519Provider& x, std::span<const std::uint8_t> priv,
                    std::span<const std::uint8_t> pub) {
  void* key = x.key_new(x.provctx);
  if (key == nullptr) return nullptr;
  // OSSL_PARAM wants mutable pointers; the import only reads (and copies) the bytes.
  OSSL_PARAM params[3];
  std::size_t n = 0;
  if (!priv.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_PKEY_PARAM_PRIV_KEY, const_cast<std::uint8_t*>(priv.data()), priv.size());
  }
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_PKEY_PARAM_PUB_KEY, const_cast<std::uint8_t*>(pub.data()), pub.size());
  params[n] = OSSL_PARAM_construct_end();
  if (x.key_import(key, priv.empty() ? OSSL_KEYMGMT_SELECT_PUBLIC_KEY : OSSL_KEYMGMT_SELECT_KEYPAIR,
                   params) != 1) {
    x.key_free(key);
    return nullptr;
  }
  return key;
}

bool all_zero(std::span<const std::uint8_t> bytes) noexcept {
  unsigned acc = 0;
  for (std::uint8_t b : bytes)
    acc |= b;
  return acc == 0;
}

// RFC 7748 §4.1: the u-coordinate of Curve25519's base point.
constexpr std::array<std::uint8_t, kX25519Size> kX25519Base = {9};

// X25519(k, u) (RFC 7748 §5) of `key`'s private value k and the u-coordinate `peer`, into
// `out` (32 bytes), through the provider's key exchange: its ladder reads only the private
// half of `key`. invalid_public_value for an all-zero result (a low-order `peer`).
Status x25519_ladder(const X25519Provider& x, void* key, std::span<const std::uint8_t> peer,
                     std::span<std::uint8_t> out) {
  const auto free_key = [&x](void* k) { x.key_free(k); };
  const std::unique_ptr<void, decltype(free_key)> peer_key(x25519_import(x, {}, peer), free_key);
  if (!peer_key) return ossl::failure(Errc::crypto_failure, "X25519 peer key");
  std::size_t len = 0;
  const auto free_ctx = [&x](void* c) { x.freectx(c); };
  const std::unique_ptr<void, decltype(free_ctx)> ctx(x.newctx(x.provctx), free_ctx);
  // No peer validation: RFC 7748 accepts every u-coordinate, and the check that matters (the
  // all-zero output below) can only be made on the result.
  if (!ctx || x.init(ctx.get(), key, nullptr) != 1 || x.set_peer(ctx.get(), peer_key.get()) != 1) {
    return ossl::failure(Errc::crypto_failure, "X25519 derive setup");
  }
  // libcrypto itself refuses an all-zero X25519 result; that is the only way this fails once
  // the keys are set up, so the failure is the peer's.
  if (x.derive(ctx.get(), out.data(), &len, out.size()) != 1) {
    return ossl::failure(Errc::invalid_public_value, "X25519 with a low-order peer value");
  }
  // RFC 7748 §6.1 / RFC 8446 §7.4.2: an all-zero shared secret MUST be rejected.
  if (len != kX25519Size || all_zero(out)) {
    return Error(Errc::invalid_public_value, "X25519 shared secret is all zeros");
  }
  return {};
}

// A NIST prime curve, set up once per process and only read afterwards (EC_POINT_mul and
// friends take the group as const, so sharing it between threads is safe).
struct Curve {
  EcGroupPtr group;
  std::size_t field_len = 0;
  std::array<std::uint8_t, 48> order{};  // big-endian, field_len bytes

  Curve(int nid, std::size_t len) : group(EC_GROUP_new_by_curve_name(nid)), field_len(len) {
    if (group && BN_bn2binpad(EC_GROUP_get0_order(group.get()), order.data(),
                              static_cast<int>(field_len)) != static_cast<int>(field_len)) {
      group.reset();
    }
  }
  std::span<const std::uint8_t> order_bytes() const { return {order.data(), field_len}; }
};

const Curve* curve_for(Group group) {
  switch (group) {
    case Group::secp256r1: {
      static const Curve p256(NID_X9_62_prime256v1, 32);
      return p256.group ? &p256 : nullptr;
    }
    case Group::secp384r1: {
      static const Curve p384(NID_secp384r1, 48);
      return p384.group ? &p384 : nullptr;
    }
    case Group::x25519:
      break;
  }
  return nullptr;
}

// 0 < scalar < order, for equal-length big-endian strings, in time independent of the values
// (the accepted scalar becomes a private key, so its comparison must not leak).
bool scalar_in_range(std::span<const std::uint8_t> scalar,
                     std::span<const std::uint8_t> order) noexcept {
  unsigned borrow = 0;
  unsigned any_bit = 0;
  for (std::size_t i = scalar.size(); i-- > 0;) {
    const unsigned diff = unsigned{scalar[i]} - unsigned{order[i]} - borrow;
    borrow = (diff >> 8) & 1u;
    any_bit |= scalar[i];
  }
  // borrow == 1 exactly when scalar < order.
  const unsigned nonzero = (0u - any_bit) >> (sizeof(unsigned) * 8 - 1);
  return (borrow & nonzero) == 1;
}

BnPtr secret_bignum(std::span<const std::uint8_t> bytes) {
  BnPtr bn(BN_secure_new());
  if (!bn || BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), bn.get()) == nullptr) {
    return nullptr;
  }
  BN_set_flags(bn.get(), BN_FLG_CONSTTIME);
  return bn;
}

}  // namespace

std::string_view group_name(Group group) noexcept {
  switch (group) {
    case Group::secp256r1:
      return "secp256r1";
    case Group::secp384r1:
      return "secp384r1";
    case Group::x25519:
      return "x25519";
  }
  return "unknown";
}

bool group_supported(Group group) noexcept {
  return public_value_size(group) != 0;
}

std::size_t public_value_size(Group group) noexcept {
  switch (group) {
    case Group::secp256r1:
      return 1 + 2 * 32;
    case Group::secp384r1:
      return 1 + 2 * 48;
    case Group::x25519:
      return kX25519Size;
  }
  return 0;
}

std::size_t private_value_size(Group group) noexcept {
  switch (group) {
    case Group::secp256r1:
      return 32;
    case Group::secp384r1:
      return 48;
    case Group::x25519:
      return kX25519Size;
  }
  return 0;
}

void KeyShare::X25519KeyFree::operator()(void* key) const noexcept {
  // Only a provider that was found made the key.
  if (const X25519Provider* x = x25519_provider()) x->key_free(key);
}

KeyShare::KeyShare(KeyShare&&) noexcept = default;
KeyShare& KeyShare::operator=(KeyShare&&) noexcept = default;
KeyShare::~KeyShare() = default;

Result<KeyShare> KeyShare::generate(Group group, Random& rng) {
  if (!group_supported(group)) return Error(Errc::unsupported, "unsupported key share group");
  Secret priv(private_value_size(group));
  if (group == Group::x25519) {
    BW_TRY(rng.fill(priv.span()));
    return from_private(group, priv);
  }
  const Curve* curve = curve_for(group);
  if (curve == nullptr) return ossl::failure(Errc::crypto_failure, "EC group setup");
  // Rejection sampling keeps the scalar uniform in [1, n-1]. For P-256 / P-384 a draw is
  // rejected with probability < 2^-32, so the bound is only reached by a broken source.
  for (int attempt = 0; attempt < 64; ++attempt) {
    BW_TRY(rng.fill(priv.span()));
    if (scalar_in_range(priv.span(), curve->order_bytes())) return from_private(group, priv);
  }
  return Error(Errc::crypto_failure, "the random source never produced a scalar in range");
}

Result<KeyShare> KeyShare::from_private(Group group, std::span<const std::uint8_t> private_bytes) {
  if (!group_supported(group)) return Error(Errc::unsupported, "unsupported key share group");
  if (private_bytes.size() != private_value_size(group)) {
    return Error(Errc::invalid_argument, "private key share has the wrong size");
  }
  KeyShare share(group);

  if (group == Group::x25519) {
    const X25519Provider* x = x25519_provider();
    if (x == nullptr) return ossl::failure(Errc::unsupported, "X25519 not available");
    // The public value is X25519(k, 9) on the key exchange's ladder (RFC 7748 §6.1), not the
    // key manager's fixed-base computation on import: fewer instructions and, on the machines
    // we measure, less time (DECISIONS.md). The base point stands in as the key's public half
    // at import, so that the import computes nothing; that half is never read (the ladder
    // uses the private value only) and the real value is kept in `public_`.
    share.x25519_.reset(x25519_import(*x, private_bytes, kX25519Base));
    if (!share.x25519_) return ossl::failure(Errc::crypto_failure, "X25519 private key");
    BW_TRY(x25519_ladder(*x, share.x25519_.get(), kX25519Base,
                         std::span<std::uint8_t>(share.public_.data(), kX25519Size)));
    share.public_len_ = static_cast<std::uint8_t>(kX25519Size);
    return share;
  }

  const Curve* curve = curve_for(group);
  if (curve == nullptr) return ossl::failure(Errc::crypto_failure, "EC group setup");
  if (!scalar_in_range(private_bytes, curve->order_bytes())) {
    return Error(Errc::invalid_key, "EC private scalar is not in [1, n-1]");
  }
  BnPtr scalar = secret_bignum(private_bytes);
  BnCtxPtr ctx(BN_CTX_secure_new());
  EcPointPtr point(EC_POINT_new(curve->group.get()));
  if (!scalar || !ctx || !point ||
      EC_POINT_mul(curve->group.get(), point.get(), scalar.get(), nullptr, nullptr, ctx.get()) !=
          1) {
    return ossl::failure(Errc::crypto_failure, "EC public key computation");
  }
  const std::size_t want = public_value_size(group);
  if (EC_POINT_point2oct(curve->group.get(), point.get(), POINT_CONVERSION_UNCOMPRESSED,
                         share.public_.data(), share.public_.size(), ctx.get()) != want) {
    return ossl::failure(Errc::crypto_failure, "EC public key encoding");
  }
  share.public_len_ = static_cast<std::uint8_t>(want);
  share.ec_scalar_ = Secret(private_bytes);
  return share;
}

Result<Secret> KeyShare::derive(std::span<const std::uint8_t> peer_public) const {
  if (public_len_ == 0) return Error(Errc::invalid_argument, "empty key share");
  if (group_ == Group::x25519) return derive_x25519(peer_public);
  return derive_ec(peer_public);
}

Result<Secret> KeyShare::derive_x25519(std::span<const std::uint8_t> peer_public) const {
  // RFC 8446 §4.2.8.2: an X25519 public value is exactly 32 bytes.
  if (peer_public.size() != kX25519Size) {
    return Error(Errc::invalid_public_value, "X25519 public value must be 32 bytes");
  }
  const X25519Provider* x = x25519_provider();
  if (x == nullptr) return ossl::failure(Errc::unsupported, "X25519 not available");
  Secret shared(kX25519Size);
  BW_TRY(x25519_ladder(*x, x25519_.get(), peer_public, shared.span()));
  return shared;
}

Result<Secret> KeyShare::derive_ec(std::span<const std::uint8_t> peer_public) const {
  const Curve* curve = curve_for(group_);
  if (curve == nullptr) return ossl::failure(Errc::crypto_failure, "EC group setup");
  const EC_GROUP* group = curve->group.get();
  // RFC 8446 §4.2.8.2: only the uncompressed form (0x04 || X || Y) is allowed, at the curve's
  // exact length.
  if (peer_public.size() != public_value_size(group_)) {
    return Error(Errc::invalid_public_value, "EC public value has the wrong length");
  }
  if (peer_public[0] != POINT_CONVERSION_UNCOMPRESSED) {
    return Error(Errc::invalid_public_value, "EC public value is not an uncompressed point");
  }
  BnCtxPtr ctx(BN_CTX_secure_new());
  EcPointPtr peer(EC_POINT_new(group));
  if (!ctx || !peer) return ossl::failure(Errc::crypto_failure, "EC point allocation");
  // RFC 8446 §4.2.8.2: the peer point MUST be validated. oct2point refuses coordinates >= p and
  // points off the curve; the explicit checks below keep that independent of its internals.
  if (EC_POINT_oct2point(group, peer.get(), peer_public.data(), peer_public.size(), ctx.get()) !=
          1 ||
      EC_POINT_is_at_infinity(group, peer.get()) == 1 ||
      EC_POINT_is_on_curve(group, peer.get(), ctx.get()) != 1) {
    ERR_clear_error();
    return Error(Errc::invalid_public_value, "EC public value is not a point on the curve");
  }

  BnPtr scalar = secret_bignum(ec_scalar_.span());
  EcPointPtr product(EC_POINT_new(group));
  BnPtr x(BN_secure_new());
  if (!scalar || !product || !x ||
      EC_POINT_mul(group, product.get(), nullptr, peer.get(), scalar.get(), ctx.get()) != 1) {
    return ossl::failure(Errc::crypto_failure, "ECDH scalar multiplication");
  }
  // Cannot happen for a valid point on a prime-order curve and a scalar in [1, n-1]; checked
  // because an infinite result would have no X coordinate to return.
  if (EC_POINT_is_at_infinity(group, product.get()) == 1) {
    return Error(Errc::invalid_public_value, "ECDH result is the point at infinity");
  }
  if (EC_POINT_get_affine_coordinates(group, product.get(), x.get(), nullptr, ctx.get()) != 1) {
    return ossl::failure(Errc::crypto_failure, "ECDH result coordinates");
  }
  // RFC 8446 §7.4.2: the shared secret is X, left-padded to the field size.
  Secret shared(curve->field_len);
  if (BN_bn2binpad(x.get(), shared.data(), static_cast<int>(shared.size())) !=
      static_cast<int>(shared.size())) {
    return ossl::failure(Errc::crypto_failure, "ECDH result encoding");
  }
  return shared;
}

}  // namespace bulwark::crypto
