// HMAC built directly on EVP_MD contexts rather than EVP_MAC: the HMAC provider in OpenSSL 3.0
// fetches its digest by name for every new EVP_MAC_CTX, while here the digest is fetched once
// per process and the keyed inner/outer states are kept and copied (see bench_symmetric for
// the comparison that decided this).
#include "bulwark/crypto/hmac.hpp"

#include <algorithm>
#include <array>

#include "crypto/ossl.hpp"

namespace bulwark::crypto {

namespace {

constexpr std::size_t max_block_length = 128;

// RFC 2104 §2: K is hashed if longer than the block, then zero-padded to the block length.
// `scratch` hashes a long key. False on a libcrypto failure.
bool pad_key(const EVP_MD* md, std::size_t block, std::span<const std::uint8_t> key,
             EVP_MD_CTX* scratch, std::array<std::uint8_t, max_block_length>& padded) {
  // Only the first `block` bytes are used (and wiped afterwards).
  std::fill_n(padded.begin(), block, std::uint8_t{0});
  if (key.size() > block) {
    return EVP_DigestInit_ex2(scratch, md, nullptr) == 1 && detail::digest_update(scratch, key) &&
           EVP_DigestFinal_ex(scratch, padded.data(), nullptr) == 1;
  }
  std::copy(key.begin(), key.end(), padded.begin());
  return true;
}

// One-shot HMACs (every HKDF step and Finished MAC of a handshake, about fifty) run on two
// contexts per thread and hash kept for the thread's life: a fresh Hmac allocates three
// contexts and their provider states and frees them again, about a third of its cost.
// Between calls both contexts hold the hash's initial state (`ready`): the initialisation
// that wipes the keyed state after one MAC is also the start of the next one.
struct OneShotContexts {
  detail::MdCtxHandle inner;
  detail::MdCtxHandle outer;
  bool ready = false;
};

OneShotContexts* one_shot_contexts(HashAlg alg) noexcept {
  thread_local std::array<OneShotContexts, 4> per_alg;  // indexed by HashAlg
  const auto index = static_cast<std::size_t>(alg);
  if (index >= per_alg.size()) return nullptr;
  OneShotContexts& c = per_alg[index];
  if (!c.inner) c.inner.reset(EVP_MD_CTX_new());
  if (!c.outer) c.outer.reset(EVP_MD_CTX_new());
  return c.inner && c.outer ? &c : nullptr;
}

}  // namespace

Result<Hmac> Hmac::create(HashAlg alg, std::span<const std::uint8_t> key) {
  const std::size_t block = block_length(alg);
  if (block == 0) return Error(Errc::invalid_argument, "unknown hash algorithm");
  const EVP_MD* md = detail::fetched_md(alg);
  if (md == nullptr) return ossl::failure(Errc::unsupported, "hash algorithm not available");

  detail::MdCtxHandle inner(EVP_MD_CTX_new());
  detail::MdCtxHandle outer(EVP_MD_CTX_new());
  detail::MdCtxHandle work(EVP_MD_CTX_new());
  if (!inner || !outer || !work)
    return ossl::failure(Errc::crypto_failure, "EVP_MD_CTX_new failed");

  std::array<std::uint8_t, max_block_length> padded;
  bool good = pad_key(md, block, key, work.get(), padded);

  const std::span<std::uint8_t> pad(padded.data(), block);
  for (auto& b : pad)
    b ^= 0x36;  // ipad
  good = good && EVP_DigestInit_ex2(inner.get(), md, nullptr) == 1 &&
         detail::digest_update(inner.get(), pad);
  for (auto& b : pad)
    b ^= 0x36 ^ 0x5c;  // ipad -> opad
  good = good && EVP_DigestInit_ex2(outer.get(), md, nullptr) == 1 &&
         detail::digest_update(outer.get(), pad);
  good = good && EVP_MD_CTX_copy_ex(work.get(), inner.get()) == 1;
  wipe(padded);
  if (!good) return ossl::failure(Errc::crypto_failure, "HMAC key setup failed");
  return Hmac(alg, std::move(inner), std::move(outer), std::move(work));
}

Status Hmac::update(std::span<const std::uint8_t> data) noexcept {
  if (!work_ || finished_) return Errc::invalid_argument;
  if (!detail::digest_update(work_.get(), data))
    return Error(Errc::crypto_failure, "EVP_DigestUpdate failed");
  return {};
}

Result<Digest> Hmac::final() noexcept {
  if (!work_ || finished_) return Errc::invalid_argument;
  finished_ = true;
  Digest out;
  std::array<std::uint8_t, max_digest_length> inner_hash;
  // HMAC = H((K ^ opad) || H((K ^ ipad) || text))
  const bool good = EVP_DigestFinal_ex(work_.get(), inner_hash.data(), nullptr) == 1 &&
                    EVP_MD_CTX_copy_ex(work_.get(), outer_.get()) == 1 &&
                    EVP_DigestUpdate(work_.get(), inner_hash.data(), size()) == 1 &&
                    EVP_DigestFinal_ex(work_.get(), out.bytes.data(), nullptr) == 1;
  wipe(inner_hash);
  if (!good) return Error(Errc::crypto_failure, "HMAC final failed");
  out.size = size();
  return out;
}

Status Hmac::reset() noexcept {
  if (!work_) return Errc::invalid_argument;
  if (EVP_MD_CTX_copy_ex(work_.get(), inner_.get()) != 1) {
    return Error(Errc::crypto_failure, "EVP_MD_CTX_copy_ex failed");
  }
  finished_ = false;
  return {};
}

Result<Digest> hmac(HashAlg alg, std::span<const std::uint8_t> key,
                    std::span<const std::uint8_t> data) {
  const std::size_t block = block_length(alg);
  if (block == 0) return Error(Errc::invalid_argument, "unknown hash algorithm");
  const EVP_MD* md = detail::fetched_md(alg);
  if (md == nullptr) return ossl::failure(Errc::unsupported, "hash algorithm not available");
  OneShotContexts* contexts = one_shot_contexts(alg);
  if (contexts == nullptr) return ossl::failure(Errc::crypto_failure, "EVP_MD_CTX_new failed");
  EVP_MD_CTX* inner = contexts->inner.get();
  EVP_MD_CTX* outer = contexts->outer.get();

  // HMAC = H((K ^ opad) || H((K ^ ipad) || text)). Initialising a context that already holds
  // this hash reuses its provider state instead of allocating one.
  std::array<std::uint8_t, max_block_length> padded;
  if (key.size() > block) contexts->ready = false;  // pad_key hashes a long key on `inner`
  bool good = pad_key(md, block, key, inner, padded);
  if (good && !contexts->ready) {
    good =
        EVP_DigestInit_ex2(inner, md, nullptr) == 1 && EVP_DigestInit_ex2(outer, md, nullptr) == 1;
  }
  contexts->ready = false;
  const std::span<std::uint8_t> pad(padded.data(), block);
  for (auto& b : pad)
    b ^= 0x36;  // ipad
  std::array<std::uint8_t, max_digest_length> inner_hash;
  good = good && detail::digest_update(inner, pad) && detail::digest_update(inner, data) &&
         EVP_DigestFinal_ex(inner, inner_hash.data(), nullptr) == 1;
  for (auto& b : pad)
    b ^= 0x36 ^ 0x5c;  // ipad -> opad
  Digest out;
  out.size = digest_length(alg);
  good = good && detail::digest_update(outer, pad) &&
         EVP_DigestUpdate(outer, inner_hash.data(), out.size) == 1 &&
         EVP_DigestFinal_ex(outer, out.bytes.data(), nullptr) == 1;
  wipe(pad);
  wipe(inner_hash);
  // The kept contexts must not hold keyed state between calls: initialising them again puts
  // the hash's initial value over it, ready for the next MAC.
  const bool cleared =
      EVP_DigestInit_ex2(inner, md, nullptr) == 1 && EVP_DigestInit_ex2(outer, md, nullptr) == 1;
  contexts->ready = cleared;
  if (!good || !cleared) return ossl::failure(Errc::crypto_failure, "HMAC failed");
  return out;
}

}  // namespace bulwark::crypto
