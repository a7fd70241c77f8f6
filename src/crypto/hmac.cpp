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

  // RFC 2104 §2: K is hashed if longer than the block, then zero-padded to the block length.
  std::array<std::uint8_t, max_block_length> padded{};
  bool good = true;
  if (key.size() > block) {
    good = EVP_DigestInit_ex2(work.get(), md, nullptr) == 1 &&
           detail::digest_update(work.get(), key) &&
           EVP_DigestFinal_ex(work.get(), padded.data(), nullptr) == 1;
  } else if (!key.empty()) {
    std::copy(key.begin(), key.end(), padded.begin());
  }

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
  BW_ASSIGN(Hmac mac, Hmac::create(alg, key));
  BW_TRY(mac.update(data));
  return mac.final();
}

}  // namespace bulwark::crypto
