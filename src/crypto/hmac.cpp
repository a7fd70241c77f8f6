// HMAC (RFC 2104) on libcrypto's SHA functions driven directly (see sha_state.cpp): the keyed
// inner and outer states are plain structs, so keeping them and starting each MAC from a
// copy costs nothing, where EVP_MD_CTX_copy_ex allocates and EVP_MAC fetches its digest per
// context. A one-shot MAC is four compression calls; a MAC under a kept key, two.
#include "bulwark/crypto/hmac.hpp"

#include <algorithm>
#include <array>

namespace bulwark::crypto {

namespace {

constexpr std::size_t max_block_length = 128;

// RFC 2104 §2: K is hashed if longer than the block, then zero-padded to the block length;
// the inner state absorbs K ^ ipad, the outer K ^ opad.
void key_states(HashAlg alg, std::span<const std::uint8_t> key, detail::ShaState& inner,
                detail::ShaState& outer) noexcept {
  const std::size_t block = block_length(alg);
  std::array<std::uint8_t, max_block_length> padded{};
  if (key.size() > block) {
    inner.init(alg);
    inner.update(key);
    inner.final(padded.data());
  } else {
    std::copy(key.begin(), key.end(), padded.begin());
  }
  const std::span<std::uint8_t> pad(padded.data(), block);
  for (auto& b : pad)
    b ^= 0x36;  // ipad
  inner.init(alg);
  inner.update(pad);
  for (auto& b : pad)
    b ^= 0x36 ^ 0x5c;  // ipad -> opad
  outer.init(alg);
  outer.update(pad);
  wipe(pad);
}

// HMAC = H((K ^ opad) || H((K ^ ipad) || text)): `work` holds the inner hash over the text;
// `outer` is the keyed outer state, copied. `work` is wiped.
Digest finish(HashAlg alg, detail::ShaState& work, const detail::ShaState& outer) noexcept {
  std::array<std::uint8_t, max_digest_length> inner_hash;
  const std::size_t n = digest_length(alg);
  work.final(inner_hash.data());
  work = outer;
  work.update(std::span<const std::uint8_t>(inner_hash.data(), n));
  Digest out;
  work.final(out.bytes.data());
  out.size = n;
  wipe(std::span<std::uint8_t>(inner_hash.data(), n));
  return out;
}

}  // namespace

Result<Hmac> Hmac::create(HashAlg alg, std::span<const std::uint8_t> key) {
  if (block_length(alg) == 0) return Error(Errc::invalid_argument, "unknown hash algorithm");
  return Hmac(alg, key);
}

Hmac::Hmac(HashAlg alg, std::span<const std::uint8_t> key) noexcept : alg_(alg) {
  if (block_length(alg) == 0) return;
  key_states(alg, key, inner_, outer_);
  work_ = inner_;
  keyed_ = true;
}

Hmac::Hmac(Hmac&& other) noexcept
    : alg_(other.alg_),
      inner_(other.inner_),
      outer_(other.outer_),
      work_(other.work_),
      keyed_(other.keyed_),
      finished_(other.finished_) {
  other.wipe();
}

Hmac& Hmac::operator=(Hmac&& other) noexcept {
  if (this != &other) {
    alg_ = other.alg_;
    inner_ = other.inner_;
    outer_ = other.outer_;
    work_ = other.work_;
    keyed_ = other.keyed_;
    finished_ = other.finished_;
    other.wipe();
  }
  return *this;
}

Hmac::~Hmac() {
  wipe();
}

void Hmac::wipe() noexcept {
  inner_.wipe();
  outer_.wipe();
  work_.wipe();
  keyed_ = false;
}

Status Hmac::update(std::span<const std::uint8_t> data) noexcept {
  if (!keyed_ || finished_) return Errc::invalid_argument;
  work_.update(data);
  return {};
}

Result<Digest> Hmac::final() noexcept {
  if (!keyed_ || finished_) return Errc::invalid_argument;
  finished_ = true;
  return finish(alg_, work_, outer_);
}

Status Hmac::reset() noexcept {
  if (!keyed_) return Errc::invalid_argument;
  work_ = inner_;
  finished_ = false;
  return {};
}

Result<Digest> Hmac::mac(std::span<const std::uint8_t> data) const noexcept {
  if (!keyed_) return Errc::invalid_argument;
  detail::ShaState work = inner_;
  work.update(data);
  return finish(alg_, work, outer_);
}

Result<Digest> hmac(HashAlg alg, std::span<const std::uint8_t> key,
                    std::span<const std::uint8_t> data) {
  if (block_length(alg) == 0) return Error(Errc::invalid_argument, "unknown hash algorithm");
  detail::ShaState inner;
  detail::ShaState outer;
  key_states(alg, key, inner, outer);
  inner.update(data);
  Digest out = finish(alg, inner, outer);
  outer.wipe();
  return out;
}

}  // namespace bulwark::crypto
