// Finite-field DH through EVP: keys are built with EVP_PKEY_fromdata, from the RFC 7919 group
// name (libcrypto knows p, q and g, so the peer's value is checked against the prime-order
// subgroup) or from a server's p and g. The private exponent comes from the injected Random and
// the public value g^x mod p is computed here, with the constant-time modular exponentiation,
// because EVP key generation would draw from libcrypto's own generator.
#include "bulwark/crypto/ffdhe.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/param_build.h>

#include <string>

#include "crypto/ossl.hpp"

namespace bulwark::crypto {

namespace {

using BnPtr = std::unique_ptr<BIGNUM, ossl::Deleter<BN_clear_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, ossl::Deleter<BN_CTX_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ossl::Deleter<OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, ossl::Deleter<OSSL_PARAM_free>>;

const char* libcrypto_name(FfdheGroup group) noexcept {
  switch (group) {
    case FfdheGroup::ffdhe2048:
      return "ffdhe2048";
    case FfdheGroup::ffdhe3072:
      return "ffdhe3072";
    case FfdheGroup::ffdhe4096:
      return "ffdhe4096";
  }
  return nullptr;
}

constexpr FfdheGroup all_groups[] = {FfdheGroup::ffdhe2048, FfdheGroup::ffdhe3072,
                                     FfdheGroup::ffdhe4096};

std::vector<std::uint8_t> to_bytes(const BIGNUM* bn) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  return out;
}

BnPtr from_bytes(std::span<const std::uint8_t> bytes) {
  return BnPtr(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
}

// A named group's p and g, read once per process from libcrypto's built-in parameters.
struct NamedParams {
  std::vector<std::uint8_t> p;
  std::vector<std::uint8_t> g;
};

const NamedParams* named_params(FfdheGroup group) {
  auto load = [](FfdheGroup grp) -> NamedParams {
    NamedParams out;
    ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr));
    OSSL_PARAM params[2] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                         const_cast<char*>(libcrypto_name(grp)), 0),
        OSSL_PARAM_construct_end()};
    EVP_PKEY* raw = nullptr;
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEY_PARAMETERS, params) != 1) {
      return out;
    }
    ossl::PkeyPtr pkey(raw);
    BIGNUM* p = nullptr;
    BIGNUM* g = nullptr;
    if (EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_FFC_P, &p) == 1 &&
        EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_FFC_G, &g) == 1) {
      out.p = to_bytes(p);
      out.g = to_bytes(g);
    }
    BN_free(p);
    BN_free(g);
    return out;
  };
  // Thread-safe static initialisation, once per group.
  switch (group) {
    case FfdheGroup::ffdhe2048: {
      static const NamedParams params = load(FfdheGroup::ffdhe2048);
      return params.p.empty() ? nullptr : &params;
    }
    case FfdheGroup::ffdhe3072: {
      static const NamedParams params = load(FfdheGroup::ffdhe3072);
      return params.p.empty() ? nullptr : &params;
    }
    case FfdheGroup::ffdhe4096: {
      static const NamedParams params = load(FfdheGroup::ffdhe4096);
      return params.p.empty() ? nullptr : &params;
    }
  }
  return nullptr;
}

// RFC 7919 §5.2: exponents of at least 225 / 275 / 325 / 375 / 400 bits for the 2048- to
// 8192-bit groups; we round up to whole bytes with margin. Unnamed primes of the same size get
// the same.
std::size_t exponent_bytes(int prime_bits) noexcept {
  if (prime_bits < 3072) return 32;
  if (prime_bits < 4096) return 40;
  if (prime_bits < 6144) return 48;
  if (prime_bits < 8192) return 56;
  return 64;
}

// Adds the domain parameters: the group's name when it has one, else p and g.
bool push_domain(OSSL_PARAM_BLD* bld, std::optional<FfdheGroup> group, const BIGNUM* p,
                 const BIGNUM* g) {
  if (group) {
    return OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, libcrypto_name(*group),
                                           0) == 1;
  }
  return OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p) == 1 &&
         OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, g) == 1;
}

Result<ossl::PkeyPtr> dh_key(std::optional<FfdheGroup> group, const BIGNUM* p, const BIGNUM* g,
                             const BIGNUM* pub, const BIGNUM* priv) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || !push_domain(bld.get(), group, p, g) ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub) != 1 ||
      (priv != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1)) {
    return ossl::failure(Errc::crypto_failure, "DH parameter building failed");
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, priv != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1) {
    return ossl::failure(Errc::crypto_failure, "DH key import failed");
  }
  return ossl::PkeyPtr(raw);
}

}  // namespace

std::string_view ffdhe_group_name(FfdheGroup group) noexcept {
  const char* n = libcrypto_name(group);
  return n != nullptr ? std::string_view(n) : std::string_view("unknown");
}

bool ffdhe_group_supported(FfdheGroup group) noexcept {
  return libcrypto_name(group) != nullptr;
}

void DhKeyShare::PkeyFree::operator()(EVP_PKEY* p) const noexcept {
  EVP_PKEY_free(p);
}

DhKeyShare::DhKeyShare(DhKeyShare&&) noexcept = default;
DhKeyShare& DhKeyShare::operator=(DhKeyShare&&) noexcept = default;
DhKeyShare::~DhKeyShare() = default;

Result<DhKeyShare> DhKeyShare::generate(FfdheGroup group, Random& rng) {
  if (!ffdhe_group_supported(group)) return Error(Errc::unsupported, "unsupported FFDHE group");
  const NamedParams* named = named_params(group);
  if (named == nullptr) return ossl::failure(Errc::crypto_failure, "FFDHE group setup");
  return create(group, named->p, named->g, rng);
}

Result<DhKeyShare> DhKeyShare::generate_for(std::span<const std::uint8_t> p_bytes,
                                            std::span<const std::uint8_t> g_bytes, Random& rng) {
  BnPtr p = from_bytes(p_bytes);
  BnPtr g = from_bytes(g_bytes);
  if (!p || !g) return ossl::failure(Errc::crypto_failure, "BIGNUM conversion");
  const int bits = BN_num_bits(p.get());
  // Logjam (Adrian et al. 2015): no export-grade or 1024-bit groups.
  if (bits < min_dh_prime_bits) {
    return Error(Errc::insufficient_security,
                 "the server's DH prime has " + std::to_string(bits) + " bits (2048 required)");
  }
  if (bits > max_dh_prime_bits) {
    return Error(Errc::unsupported, "the server's DH prime is larger than 8192 bits");
  }
  BnPtr p_minus_1(BN_dup(p.get()));
  if (!p_minus_1 || BN_sub_word(p_minus_1.get(), 1) != 1) {
    return ossl::failure(Errc::crypto_failure, "BIGNUM arithmetic");
  }
  if (!BN_is_odd(p.get()) || BN_cmp(g.get(), BN_value_one()) <= 0 ||
      BN_cmp(g.get(), p_minus_1.get()) >= 0) {
    return Error(Errc::illegal_parameter, "the server's DH parameters are malformed");
  }
  // A server that sends an RFC 7919 group's parameters gets treated as using that group, which
  // adds the subgroup check on its public value (q is then known).
  const std::vector<std::uint8_t> p_min = to_bytes(p.get());
  const std::vector<std::uint8_t> g_min = to_bytes(g.get());
  for (FfdheGroup group : all_groups) {
    const NamedParams* named = named_params(group);
    if (named != nullptr && named->p == p_min && named->g == g_min) {
      return create(group, named->p, named->g, rng);
    }
  }
  return create(std::nullopt, p_min, g_min, rng);
}

Result<DhKeyShare> DhKeyShare::create(std::optional<FfdheGroup> group,
                                      std::span<const std::uint8_t> p_bytes,
                                      std::span<const std::uint8_t> g_bytes, Random& rng) {
  DhKeyShare share;
  share.group_ = group;
  share.p_.assign(p_bytes.begin(), p_bytes.end());
  share.g_.assign(g_bytes.begin(), g_bytes.end());
  BnPtr p = from_bytes(p_bytes);
  BnPtr g = from_bytes(g_bytes);
  BnPtr x(BN_secure_new());
  BnPtr y(BN_new());
  BnCtxPtr ctx(BN_CTX_secure_new());
  if (!p || !g || !x || !y || !ctx) return ossl::failure(Errc::crypto_failure, "BIGNUM setup");
  share.prime_bits_ = BN_num_bits(p.get());

  // x from rng with x >= 2. It is far shorter than p (and than q = (p-1)/2 for the named
  // groups), so no reduction is needed.
  Secret x_bytes(exponent_bytes(share.prime_bits_));
  for (int attempt = 0;; ++attempt) {
    if (attempt == 64) {
      return Error(Errc::crypto_failure, "the random source never produced an exponent >= 2");
    }
    BW_TRY(rng.fill(x_bytes.span()));
    if (BN_bin2bn(x_bytes.data(), static_cast<int>(x_bytes.size()), x.get()) == nullptr) {
      return ossl::failure(Errc::crypto_failure, "BIGNUM conversion");
    }
    if (BN_num_bits(x.get()) > 1) break;
  }
  BN_set_flags(x.get(), BN_FLG_CONSTTIME);
  if (BN_mod_exp_mont_consttime(y.get(), g.get(), x.get(), p.get(), ctx.get(), nullptr) != 1) {
    return ossl::failure(Errc::crypto_failure, "DH public value computation");
  }
  share.public_.assign(share.p_.size(), 0);
  if (BN_bn2binpad(y.get(), share.public_.data(), static_cast<int>(share.public_.size())) < 0) {
    return ossl::failure(Errc::crypto_failure, "DH public value encoding");
  }
  BW_ASSIGN(ossl::PkeyPtr key, dh_key(group, p.get(), g.get(), y.get(), x.get()));
  share.key_.reset(key.release());
  return share;
}

Result<Secret> DhKeyShare::derive(std::span<const std::uint8_t> peer_public) const {
  if (!key_) return Error(Errc::invalid_argument, "empty DH key share");
  if (peer_public.empty() || peer_public.size() > p_.size()) {
    return Error(Errc::invalid_public_value, "DH public value has the wrong length");
  }
  BnPtr p = from_bytes(p_);
  BnPtr g = from_bytes(g_);
  BnPtr y = from_bytes(peer_public);
  BnPtr p_minus_1(p ? BN_dup(p.get()) : nullptr);
  if (!p || !g || !y || !p_minus_1 || BN_sub_word(p_minus_1.get(), 1) != 1) {
    return ossl::failure(Errc::crypto_failure, "BIGNUM conversion");
  }
  // RFC 7919 §5.1: peers MUST check 1 < Y < p-1 (0, 1 and p-1 force the shared secret).
  if (BN_cmp(y.get(), BN_value_one()) <= 0 || BN_cmp(y.get(), p_minus_1.get()) >= 0) {
    return Error(Errc::invalid_public_value, "DH public value is not in 1 < Y < p-1");
  }
  BW_ASSIGN(ossl::PkeyPtr peer, dh_key(group_, p.get(), g.get(), y.get(), nullptr));
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_dh_pad(ctx.get(), 0) != 1) {
    return ossl::failure(Errc::crypto_failure, "DH derive setup");
  }
  // Peer validation: the range again and, for a named group, Y^q == 1 (its subgroup).
  if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), 1) != 1) {
    ERR_clear_error();
    return Error(Errc::invalid_public_value, "DH public value is not in the group");
  }
  std::size_t len = 0;
  if (EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) {
    return ossl::failure(Errc::crypto_failure, "DH derive");
  }
  Secret shared(len);
  // RFC 5246 §8.1.2: leading zero bytes of Z are stripped (no padding: set above).
  if (EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1) {
    return ossl::failure(Errc::crypto_failure, "DH derive");
  }
  Secret z(shared.span().first(len));
  BnPtr zn(BN_secure_new());
  if (!zn || BN_bin2bn(z.data(), static_cast<int>(z.size()), zn.get()) == nullptr) {
    return ossl::failure(Errc::crypto_failure, "BIGNUM conversion");
  }
  // SP 800-56A §5.7.1.1: Z of 1 or p-1 means the peer's value had order 1 or 2.
  if (BN_cmp(zn.get(), BN_value_one()) <= 0 || BN_cmp(zn.get(), p_minus_1.get()) == 0) {
    return Error(Errc::invalid_public_value, "DH shared secret is degenerate");
  }
  return z;
}

}  // namespace bulwark::crypto
