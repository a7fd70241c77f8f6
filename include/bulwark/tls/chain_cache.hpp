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
//
// A client configured with insecure_skip_verification verifies nothing, but still parses the
// chain (its leaf key checks CertificateVerify): the same cache then keeps parsed-only entries,
// keyed by the chain's bytes alone in a hash domain of their own, and served only when every
// certificate's bytes equal the received ones. A parsed-only entry is never returned by find()
// (it carries no trust store), so it cannot stand in for a verification.
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

  // The key of parsing `chain_der` without verifying it (its bytes only, another domain).
  static Result<ChainCacheKey> parsed_key(std::span<const wire::Bytes> chain_der);

  // The parsed chain of a fresh verified entry (counted as a hit), or nullopt (a miss). An
  // entry whose time is over is dropped.
  std::optional<std::vector<crypto::Certificate>> find(const ChainCacheKey& key, TimePoint now);
  // The parsed chain of a fresh parsed-only entry whose certificates are, byte for byte,
  // `chain_der` (a hit), or nullopt (a miss).
  std::optional<std::vector<crypto::Certificate>> find_parsed(
      const ChainCacheKey& key, std::span<const wire::Bytes> chain_der, TimePoint now);

  // Records a chain that verified at `verified_at` against `trust` (only successes belong
  // here). The entry may be reused until min(verified_at + max_age, earliest notAfter).
  void insert(const ChainCacheKey& key, std::vector<crypto::Certificate> chain,
              const crypto::TrustStore& trust, TimePoint verified_at);
  // Records a chain parsed, not verified, at `parsed_at` (under parsed_key), reusable for
  // max_age: skipping verification reads neither the time nor the validity dates.
  void insert_parsed(const ChainCacheKey& key, std::vector<crypto::Certificate> chain,
                     TimePoint parsed_at);

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
    // Keeps the store, hence its address in the key, alive; none in a parsed-only entry.
    std::optional<crypto::TrustStore> trust;
    TimePoint valid_from;   // latest notBefore of the chain
    TimePoint valid_until;  // min(verification + max_age, earliest notAfter)
  };
  struct KeyHash {
    std::size_t operator()(const ChainCacheKey& k) const noexcept;
  };
  using List = std::list<Entry>;  // most recently used first

  // The entry's chain if it is fresh and of the wanted kind; drops a stale one.
  std::optional<std::vector<crypto::Certificate>> lookup(const ChainCacheKey& key, TimePoint now,
                                                         bool verified,
                                                         std::span<const wire::Bytes> expected_der);
  void store(Entry entry);

  const std::size_t capacity_;
  const std::chrono::seconds max_age_;
  mutable std::mutex mutex_;
  List entries_;
  std::unordered_map<ChainCacheKey, List::iterator, KeyHash> index_;
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
};

}  // namespace bulwark::tls
