// The TLS 1.3 key schedule (RFC 8446 §7.1): early, handshake and master secrets, traffic
// secrets, Finished keys, traffic keys, KeyUpdate and resumption secrets.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "bulwark/crypto/hash.hpp"
#include "bulwark/crypto/hmac.hpp"
#include "bulwark/crypto/secret.hpp"
#include "bulwark/result.hpp"
#include "bulwark/tls/cipher_suites.hpp"

namespace bulwark::tls {

struct TrafficKeys {
  crypto::Secret key;
  crypto::Secret iv;
};

class KeySchedule {
 public:
  explicit KeySchedule(crypto::HashAlg alg) noexcept : alg_(alg) {}
  crypto::HashAlg alg() const noexcept { return alg_; }
  std::size_t hash_length() const noexcept { return crypto::digest_length(alg_); }

  // Early Secret = HKDF-Extract(0, PSK); PSK is all zeros (of hash length) without one.
  Status start(std::span<const std::uint8_t> psk = {});
  // binder_key = Derive-Secret(Early Secret, "res binder", "") (resumption PSKs only).
  Result<crypto::Secret> resumption_binder_key() const;
  // client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic", ClientHello).
  Result<crypto::Secret> client_early_traffic(std::span<const std::uint8_t> th) const;
  // Handshake Secret = HKDF-Extract(Derive-Secret(Early, "derived", ""), (EC)DHE).
  Status derive_handshake_secret(std::span<const std::uint8_t> shared_secret);
  // "c hs traffic" / "s hs traffic" over ClientHello..ServerHello.
  Result<crypto::Secret> client_handshake_traffic(std::span<const std::uint8_t> th) const;
  Result<crypto::Secret> server_handshake_traffic(std::span<const std::uint8_t> th) const;
  // Master Secret = HKDF-Extract(Derive-Secret(Handshake, "derived", ""), 0).
  Status derive_master_secret();
  // "c ap traffic" / "s ap traffic" / "exp master" over ClientHello..server Finished.
  Result<crypto::Secret> client_application_traffic(std::span<const std::uint8_t> th) const;
  Result<crypto::Secret> server_application_traffic(std::span<const std::uint8_t> th) const;
  Result<crypto::Secret> exporter_master(std::span<const std::uint8_t> th) const;
  // "res master" over ClientHello..client Finished.
  Result<crypto::Secret> resumption_master(std::span<const std::uint8_t> th) const;

  // Stateless helpers on a given secret.
  // Finished verify_data = HMAC(HKDF-Expand-Label(base, "finished", "", Hash.length), th).
  static Result<crypto::Digest> finished_mac(crypto::HashAlg alg,
                                             std::span<const std::uint8_t> base_key,
                                             std::span<const std::uint8_t> transcript_hash);
  // Binder = finished_mac(binder_key, Transcript-Hash(truncated ClientHello)) (§4.2.11.2).
  static Result<TrafficKeys> traffic_keys(const CipherSuiteInfo& suite,
                                          std::span<const std::uint8_t> traffic_secret);
  // application_traffic_secret_N+1 = HKDF-Expand-Label(N, "traffic upd", "", Hash.length).
  static Result<crypto::Secret> next_traffic_secret(crypto::HashAlg alg,
                                                    std::span<const std::uint8_t> secret);
  // PSK = HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length).
  static Result<crypto::Secret> resumption_psk(crypto::HashAlg alg,
                                               std::span<const std::uint8_t> resumption_master,
                                               std::span<const std::uint8_t> ticket_nonce);

  const crypto::Secret& early_secret() const noexcept { return early_.secret; }
  const crypto::Secret& handshake_secret() const noexcept { return handshake_.secret; }
  const crypto::Secret& master_secret() const noexcept { return master_.secret; }

 private:
  // A secret of the schedule and, once something is derived from it, the secret keyed as an
  // HMAC key: each serves two to four labels, and keying it once halves the cost of the rest.
  struct Stage {
    crypto::Secret secret;
    mutable std::unique_ptr<crypto::Hmac> keyed;  // on the heap: an Hmac is ~700 bytes

    void set(crypto::Secret s) noexcept {
      secret = std::move(s);
      keyed.reset();
    }
  };
  Result<crypto::Secret> derive(const Stage& from, std::string_view label,
                                std::span<const std::uint8_t> th) const;
  crypto::HashAlg alg_;
  Stage early_;
  bool without_psk_ = false;  // start() had no PSK: the early secret is the hash's constant
  Stage handshake_;
  Stage master_;
};

}  // namespace bulwark::tls
