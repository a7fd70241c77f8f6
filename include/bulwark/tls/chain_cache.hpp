// A client's cache of server certificate chains that verified recently, so that connections
// to the same server skip parsing the chain and X509_verify_cert for identical bytes.
//
// Why reusing a verification is safe: the key is SHA-256 over exactly what decided the
// result, namely the chain's bytes as received, the server name checked, the trust store
// (its identity: each entry holds a reference to the store, so its address cannot be reused
// by another store while the entry lives) and the purpose. Path validation is a function of
// those and of the time, and the time is bounded: an entry is reused only from the latest
// notBefore of the chain up to min(verification + max_age, the earliest notAfter of the
// chain). The anchor's own notAfter is not read here; max_age (10 minutes) bounds how long
// an anchor that expired meanwhile could still be honoured. Revocation (CRL, OCSP) is not
// checked by bulwark today, so no revocation state is skipped; if it ever is, max_age is
// what bounds its staleness. Anchors added to a store later only widen trust. Failures are
// never cached: a chain that failed is verified again on every connection.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/crypto/trust_store.hpp"
#include "bulwark/result.hpp"
#include "bulwark/wire.hpp"

namespace bulwark::tls {

// SHA-256 over the inputs of one verification (see VerifiedChainCache::key).
using ChainCacheKey = std::array<std::uint8_t, 32>;

// Thread-safe, bounded (least recently used entries go first). Share one per ClientConfig.
class VerifiedChainCache {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  static constexpr std::size_t default_capacity = 256;
  static constexpr std::chrono::seconds default_max_age{10 * 60};

  // capacity 0 caches nothing.
  explicit VerifiedChainCache(std::size_t capacity = default_capacity,
                              std::chrono::seconds max_age = default_max_age);

  VerifiedChainCache(const VerifiedChainCache&) = delete;
  VerifiedChainCache& operator=(const VerifiedChainCache&) = delete;

  // The key of verifying `chain_der` (DER certificates as received, leaf first) for
  // `server_name` against `trust` with `purpose`.
  static Result<ChainCacheKey> key(std::span<const wire::Bytes> chain_der,
                                   std::string_view server_name, const crypto::TrustStore& trust,
                                   crypto::Purpose purpose);

  // The parsed chain of a fresh entry (counted as a hit), or nullopt (a miss). An entry whose
  // time is over is dropped.
  std::optional<std::vector<crypto::Certificate>> find(const ChainCacheKey& key, TimePoint now);

  // Records a chain that verified at `verified_at` against `trust` (only successes belong
  // here). The entry may be reused until min(verified_at + max_age, earliest notAfter).
  void insert(const ChainCacheKey& key, std::vector<crypto::Certificate> chain,
              const crypto::TrustStore& trust, TimePoint verified_at);

  void clear();
  std::size_t size() const;
  std::size_t capacity() const noexcept { return capacity_; }
  std::chrono::seconds max_age() const noexcept { return max_age_; }
  std::uint64_t hits() const noexcept { return hits_.load(std::memory_order_relaxed); }
  std::uint64_t misses() const noexcept { return misses_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    ChainCacheKey key;
    std::vector<crypto::Certificate> chain;
    crypto::TrustStore trust;  // keeps the store, hence its address in the key, alive
    TimePoint valid_from;      // latest notBefore of the chain
    TimePoint valid_until;     // min(verification + max_age, earliest notAfter)
  };
  struct KeyHash {
    std::size_t operator()(const ChainCacheKey& k) const noexcept;
  };
  using List = std::list<Entry>;  // most recently used first

  const std::size_t capacity_;
  const std::chrono::seconds max_age_;
  mutable std::mutex mutex_;
  List entries_;
  std::unordered_map<ChainCacheKey, List::iterator, KeyHash> index_;
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
};

}  // namespace bulwark::tls
