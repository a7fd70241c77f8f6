// The verified-chain cache of TLS clients (why reuse is safe: see chain_cache.hpp).
#include "bulwark/tls/chain_cache.hpp"

#include <algorithm>
#include <cstring>

#include "bulwark/crypto/hash.hpp"

namespace bulwark::tls {

namespace {

// Fixed-width fields keep the encoding unambiguous: no two different inputs hash the same
// byte string.
Status absorb_u64(crypto::Hash& h, std::uint64_t v) {
  std::array<std::uint8_t, 8> b;
  for (std::size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
  return h.update(b);
}

Status absorb_bytes(crypto::Hash& h, wire::Bytes data) {
  BW_TRY(absorb_u64(h, data.size()));
  return h.update(data);
}

Status absorb_text(crypto::Hash& h, std::string_view text) {
  return absorb_bytes(h, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

// The certificates, then the key: the tail both kinds of key share.
Result<ChainCacheKey> absorb_chain_and_finish(crypto::Hash& h,
                                              std::span<const wire::Bytes> chain_der) {
  BW_TRY(absorb_u64(h, chain_der.size()));
  for (const wire::Bytes der : chain_der)
    BW_TRY(absorb_bytes(h, der));
  ChainCacheKey k;
  BW_TRY(h.final(k));
  return k;
}

}  // namespace

VerifiedChainCache::VerifiedChainCache(std::size_t capacity, std::chrono::seconds max_age)
    : capacity_(capacity), max_age_(max_age) {}

Result<ChainCacheKey> VerifiedChainCache::key(std::span<const wire::Bytes> chain_der,
                                              std::string_view server_name,
                                              const crypto::TrustStore& trust,
                                              crypto::Purpose purpose) {
  BW_ASSIGN(crypto::Hash h, crypto::Hash::create(crypto::HashAlg::sha256));
  BW_TRY(absorb_text(h, "bulwark verified chain v1"));
  BW_TRY(absorb_u64(h, static_cast<std::uint64_t>(purpose)));
  BW_TRY(absorb_u64(h, reinterpret_cast<std::uintptr_t>(trust.native())));
  BW_TRY(absorb_text(h, server_name));
  return absorb_chain_and_finish(h, chain_der);
}

std::size_t VerifiedChainCache::KeyHash::operator()(const ChainCacheKey& k) const noexcept {
  // The key is already a uniform digest.
  std::size_t v;
  std::memcpy(&v, k.data(), sizeof v);
  return v;
}

Result<ChainCacheKey> VerifiedChainCache::parsed_key(std::span<const wire::Bytes> chain_der) {
  BW_ASSIGN(crypto::Hash h, crypto::Hash::create(crypto::HashAlg::sha256));
  // Another domain string: a parsed-only key never equals a verification's key.
  BW_TRY(absorb_text(h, "bulwark parsed chain v1"));
  return absorb_chain_and_finish(h, chain_der);
}

std::optional<std::vector<crypto::Certificate>> VerifiedChainCache::lookup(
    const ChainCacheKey& key, TimePoint now, bool verified,
    std::span<const wire::Bytes> expected_der) {
  std::lock_guard lock(mutex_);
  const auto it = index_.find(key);
  if (it == index_.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  const Entry& e = *it->second;
  // A parsed-only entry never answers for a verification (nor the other way round), and its
  // certificates must be exactly the received bytes, not merely hash to the same key.
  bool same = e.trust.has_value() == verified;
  if (same && !verified) {
    same = e.chain.size() == expected_der.size() &&
           std::equal(e.chain.begin(), e.chain.end(), expected_der.begin(),
                      [](const crypto::Certificate& c, wire::Bytes der) {
                        return std::ranges::equal(c.der(), der);
                      });
  }
  if (!same) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  if (now < e.valid_from || now >= e.valid_until) {
    // Outside the window the chain was verified for: verify again (a clock that went back
    // before a notBefore is a miss too, never a reuse).
    entries_.erase(it->second);
    index_.erase(it);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  entries_.splice(entries_.begin(), entries_, it->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return e.chain;
}

std::optional<std::vector<crypto::Certificate>> VerifiedChainCache::find(const ChainCacheKey& key,
                                                                         TimePoint now) {
  return lookup(key, now, true, {});
}

std::optional<std::vector<crypto::Certificate>> VerifiedChainCache::find_parsed(
    const ChainCacheKey& key, std::span<const wire::Bytes> chain_der, TimePoint now) {
  return lookup(key, now, false, chain_der);
}

void VerifiedChainCache::insert(const ChainCacheKey& key, std::vector<crypto::Certificate> chain,
                                const crypto::TrustStore& trust, TimePoint verified_at) {
  if (capacity_ == 0 || chain.empty()) return;
  TimePoint valid_from = TimePoint::min();
  TimePoint valid_until = verified_at + max_age_;
  for (const auto& c : chain) {
    valid_from = std::max(valid_from, c.not_before());
    valid_until = std::min(valid_until, c.not_after());
  }
  if (valid_until <= verified_at) return;  // nothing to reuse
  store(Entry{key, std::move(chain), trust, valid_from, valid_until});
}

void VerifiedChainCache::insert_parsed(const ChainCacheKey& key,
                                       std::vector<crypto::Certificate> chain,
                                       TimePoint parsed_at) {
  if (capacity_ == 0 || chain.empty()) return;
  store(Entry{key, std::move(chain), std::nullopt, TimePoint::min(), parsed_at + max_age_});
}

void VerifiedChainCache::store(Entry entry) {
  std::lock_guard lock(mutex_);
  if (const auto it = index_.find(entry.key); it != index_.end()) {
    entries_.erase(it->second);
    index_.erase(it);
  }
  while (entries_.size() >= capacity_) {
    index_.erase(entries_.back().key);
    entries_.pop_back();
  }
  const ChainCacheKey key = entry.key;
  entries_.push_front(std::move(entry));
  index_.emplace(key, entries_.begin());
}

void VerifiedChainCache::clear() {
  std::lock_guard lock(mutex_);
  index_.clear();
  entries_.clear();
}

std::size_t VerifiedChainCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace bulwark::tls
