#include "bulwark/crypto/hash.hpp"

namespace bulwark::crypto {

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
  if (digest_length(alg) == 0) return Error(Errc::invalid_argument, "unknown hash algorithm");
  return Hash(alg);
}

Status Hash::update(std::span<const std::uint8_t> data) noexcept {
  if (finished_) return Errc::invalid_argument;
  state_.update(data);
  return {};
}

Status Hash::final(std::span<std::uint8_t> out) noexcept {
  if (finished_ || out.size() < size()) return Errc::invalid_argument;
  finished_ = true;
  state_.final(out.data());
  return {};
}

Result<Digest> Hash::final() noexcept {
  Digest d;
  BW_TRY(final(std::span<std::uint8_t>(d.bytes)));
  d.size = size();
  return d;
}

Status Hash::reset() noexcept {
  state_.init(alg_);
  finished_ = false;
  return {};
}

Result<Hash> Hash::copy() const {
  if (finished_) return Errc::invalid_argument;
  Hash dup(alg_);
  dup.state_ = state_;
  return dup;
}

Result<Digest> Hash::peek() const {
  if (finished_) return Errc::invalid_argument;
  detail::ShaState snapshot = state_;
  Digest d;
  snapshot.final(d.bytes.data());
  d.size = size();
  return d;
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
  hash_ = std::make_unique<Hash>(std::move(h));
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

Result<Digest> Transcript::current_with(std::span<const std::uint8_t> next) const {
  if (!hash_) return Error(Errc::invalid_argument, "transcript hash not chosen yet");
  BW_ASSIGN(Hash snapshot, hash_->copy());
  BW_TRY(snapshot.update(next));
  return snapshot.final();
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

}  // namespace bulwark::crypto
