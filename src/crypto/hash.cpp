#include "bulwark/crypto/hash.hpp"

#include <algorithm>

#include "crypto/ossl.hpp"

namespace bulwark::crypto {

namespace detail {

void MdCtxFree::operator()(EVP_MD_CTX* ctx) const noexcept {
  EVP_MD_CTX_free(ctx);
}

const EVP_MD* fetched_md(HashAlg alg) noexcept {
  // Fetched once per process (thread-safe static initialisation), never on a hot path.
  switch (alg) {
    case HashAlg::sha256: {
      static const ossl::MdPtr md(EVP_MD_fetch(nullptr, "SHA2-256", nullptr));
      return md.get();
    }
    case HashAlg::sha384: {
      static const ossl::MdPtr md(EVP_MD_fetch(nullptr, "SHA2-384", nullptr));
      return md.get();
    }
    case HashAlg::sha512: {
      static const ossl::MdPtr md(EVP_MD_fetch(nullptr, "SHA2-512", nullptr));
      return md.get();
    }
    case HashAlg::sha1: {
      static const ossl::MdPtr md(EVP_MD_fetch(nullptr, "SHA1", nullptr));
      return md.get();
    }
  }
  return nullptr;
}

}  // namespace detail

namespace {

bool valid(HashAlg alg) noexcept {
  return digest_length(alg) != 0;
}

Result<detail::MdCtxHandle> new_initialised_ctx(HashAlg alg) {
  if (!valid(alg)) return Error(Errc::invalid_argument, "unknown hash algorithm");
  const EVP_MD* md = detail::fetched_md(alg);
  if (md == nullptr) return ossl::failure(Errc::unsupported, "hash algorithm not available");
  detail::MdCtxHandle ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1) {
    return ossl::failure(Errc::crypto_failure, "EVP_DigestInit_ex2 failed");
  }
  return ctx;
}

}  // namespace

std::string_view hash_name(HashAlg alg) noexcept {
  switch (alg) {
    case HashAlg::sha256:
      return "SHA-256";
    case HashAlg::sha384:
      return "SHA-384";
    case HashAlg::sha512:
      return "SHA-512";
    case HashAlg::sha1:
      return "SHA-1";
  }
  return "unknown";
}

Result<Hash> Hash::create(HashAlg alg) {
  BW_ASSIGN(detail::MdCtxHandle ctx, new_initialised_ctx(alg));
  return Hash(alg, std::move(ctx));
}

Status Hash::update(std::span<const std::uint8_t> data) noexcept {
  if (!ctx_ || finished_) return Errc::invalid_argument;
  if (!detail::digest_update(ctx_.get(), data))
    return Error(Errc::crypto_failure, "EVP_DigestUpdate failed");
  return {};
}

Status Hash::final(std::span<std::uint8_t> out) noexcept {
  if (!ctx_ || finished_ || out.size() < size()) return Errc::invalid_argument;
  finished_ = true;
  if (EVP_DigestFinal_ex(ctx_.get(), out.data(), nullptr) != 1) {
    return Error(Errc::crypto_failure, "EVP_DigestFinal_ex failed");
  }
  return {};
}

Result<Digest> Hash::final() noexcept {
  Digest d;
  BW_TRY(final(std::span<std::uint8_t>(d.bytes)));
  d.size = size();
  return d;
}

Status Hash::reset() noexcept {
  if (!ctx_) return Errc::invalid_argument;
  if (EVP_DigestInit_ex2(ctx_.get(), detail::fetched_md(alg_), nullptr) != 1) {
    return Error(Errc::crypto_failure, "EVP_DigestInit_ex2 failed");
  }
  finished_ = false;
  return {};
}

Result<Hash> Hash::copy() const {
  if (!ctx_ || finished_) return Errc::invalid_argument;
  detail::MdCtxHandle dup(EVP_MD_CTX_new());
  if (!dup || EVP_MD_CTX_copy_ex(dup.get(), ctx_.get()) != 1) {
    return ossl::failure(Errc::crypto_failure, "EVP_MD_CTX_copy_ex failed");
  }
  return Hash(alg_, std::move(dup));
}

Result<Digest> Hash::peek() const {
  BW_ASSIGN(Hash snapshot, copy());
  return snapshot.final();
}

Result<Digest> hash(HashAlg alg, std::span<const std::uint8_t> data) {
  BW_ASSIGN(Hash h, Hash::create(alg));
  BW_TRY(h.update(data));
  return h.final();
}

// --- Transcript ---------------------------------------------------------------------------

Result<Transcript> Transcript::create(HashAlg alg) {
  Transcript t;
  BW_TRY(t.bind(alg));
  return t;
}

std::optional<HashAlg> Transcript::alg() const noexcept {
  if (!hash_) return std::nullopt;
  return hash_->alg();
}

Status Transcript::bind(HashAlg alg) {
  if (hash_) return Error(Errc::invalid_argument, "transcript hash already chosen");
  BW_ASSIGN(Hash h, Hash::create(alg));
  BW_TRY(h.update(pending_));
  hash_.emplace(std::move(h));
  // The buffered messages are no longer needed.
  std::vector<std::uint8_t>().swap(pending_);
  return {};
}

Status Transcript::update(std::span<const std::uint8_t> message) {
  if (hash_) return hash_->update(message);
  pending_.insert(pending_.end(), message.begin(), message.end());
  return {};
}

Result<Digest> Transcript::current() const {
  if (!hash_) return Error(Errc::invalid_argument, "transcript hash not chosen yet");
  return hash_->peek();
}

Status Transcript::replace_with_message_hash() {
  if (!hash_) return Error(Errc::invalid_argument, "transcript hash not chosen yet");
  BW_ASSIGN(Digest client_hello1, hash_->final());
  BW_TRY(hash_->reset());
  // RFC 8446 §4.4.1: message_hash handshake type (254), a 24-bit length, then the hash.
  const std::uint8_t header[4] = {254, 0, 0, static_cast<std::uint8_t>(client_hello1.size)};
  BW_TRY(hash_->update(header));
  return hash_->update(client_hello1.span());
}

bool detail::digest_update(EVP_MD_CTX* ctx, std::span<const std::uint8_t> data) noexcept {
  // EVP_DigestUpdate takes size_t, but stay within what every provider handles in one call.
  constexpr std::size_t chunk = std::size_t{1} << 30;
  while (!data.empty()) {
    const std::size_t n = std::min(data.size(), chunk);
    if (EVP_DigestUpdate(ctx, data.data(), n) != 1) return false;
    data = data.subspan(n);
  }
  return true;
}

}  // namespace bulwark::crypto
