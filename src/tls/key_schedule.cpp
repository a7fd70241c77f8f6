#include "bulwark/tls/key_schedule.hpp"

#include <algorithm>
#include <array>

#include "bulwark/crypto/hkdf.hpp"
#include "bulwark/crypto/hmac.hpp"

namespace bulwark::tls {

using crypto::Secret;

namespace {

// Values of the schedule that depend on the hash alone, computed once per process: they are
// public (no secret input), so keeping them costs no secrecy.
struct HashConstants {
  bool valid = false;
  crypto::Digest empty_hash;  // Transcript-Hash(""), for "derived" and the binder key
  // Without a PSK: Early Secret = HKDF-Extract(0, 0) and Derive-Secret(., "derived", ""),
  // the salt of the Handshake Secret (RFC 8446 §7.1).
  crypto::Digest early_without_psk;
  crypto::Digest derived_without_psk;

  explicit HashConstants(crypto::HashAlg alg) {
    const std::array<std::uint8_t, crypto::max_digest_length> zeros{};
    const std::size_t n = crypto::digest_length(alg);
    auto e = crypto::hash(alg, {});
    if (!e) return;
    empty_hash = *e;
    auto early = crypto::hkdf_extract(alg, {}, std::span<const std::uint8_t>(zeros.data(), n));
    if (!early) return;
    auto derived = crypto::derive_secret(alg, early->span(), "derived", empty_hash.span());
    if (!derived) return;
    early_without_psk = digest_of(*early);
    derived_without_psk = digest_of(*derived);
    valid = true;
  }

  static crypto::Digest digest_of(const Secret& s) {
    crypto::Digest d;
    std::copy(s.span().begin(), s.span().end(), d.bytes.begin());
    d.size = s.size();
    return d;
  }
};

// nullptr for a hash TLS 1.3 does not use, or if computing them failed (then each handshake
// computes them and meets the failure itself).
const HashConstants* constants_for(crypto::HashAlg alg) {
  switch (alg) {
    case crypto::HashAlg::sha256: {
      static const HashConstants c(alg);
      return c.valid ? &c : nullptr;
    }
    case crypto::HashAlg::sha384: {
      static const HashConstants c(alg);
      return c.valid ? &c : nullptr;
    }
    default:
      return nullptr;
  }
}

Result<crypto::Digest> empty_hash(crypto::HashAlg alg) {
  if (const HashConstants* c = constants_for(alg)) return c->empty_hash;
  return crypto::hash(alg, {});
}

}  // namespace

Result<Secret> KeySchedule::derive(const Stage& from, std::string_view label,
                                   std::span<const std::uint8_t> th) const {
  if (from.secret.empty()) return Error(Errc::invalid_argument, "key schedule used out of order");
  if (!from.keyed) from.keyed = std::make_unique<crypto::Hmac>(alg_, from.secret.span());
  return crypto::derive_secret(*from.keyed, label, th);
}

Status KeySchedule::start(std::span<const std::uint8_t> psk) {
  handshake_.set({});
  master_.set({});
  without_psk_ = psk.empty();
  if (const HashConstants* c = constants_for(alg_); c && without_psk_) {
    early_.set(Secret(c->early_without_psk.span()));
    return {};
  }
  std::array<std::uint8_t, 64> zeros{};
  const auto ikm = psk.empty() ? std::span<const std::uint8_t>(zeros.data(), hash_length()) : psk;
  // RFC 8446 §7.1: Early Secret = HKDF-Extract(salt = 0, IKM = PSK or 0).
  BW_ASSIGN(Secret early, crypto::hkdf_extract(alg_, {}, ikm));
  early_.set(std::move(early));
  return {};
}

Result<Secret> KeySchedule::resumption_binder_key() const {
  BW_ASSIGN(auto e, empty_hash(alg_));
  return derive(early_, "res binder", e.span());
}

Result<Secret> KeySchedule::client_early_traffic(std::span<const std::uint8_t> th) const {
  return derive(early_, "c e traffic", th);
}

Status KeySchedule::derive_handshake_secret(std::span<const std::uint8_t> shared_secret) {
  if (early_.secret.empty()) {
    return Error(Errc::invalid_argument, "key schedule used out of order");
  }
  if (const HashConstants* c = constants_for(alg_); c && without_psk_) {
    BW_ASSIGN(Secret handshake,
              crypto::hkdf_extract(alg_, c->derived_without_psk.span(), shared_secret));
    handshake_.set(std::move(handshake));
    return {};
  }
  BW_ASSIGN(auto e, empty_hash(alg_));
  BW_ASSIGN(Secret salt, derive(early_, "derived", e.span()));
  BW_ASSIGN(Secret handshake, crypto::hkdf_extract(alg_, salt.span(), shared_secret));
  handshake_.set(std::move(handshake));
  return {};
}

Result<Secret> KeySchedule::client_handshake_traffic(std::span<const std::uint8_t> th) const {
  return derive(handshake_, "c hs traffic", th);
}

Result<Secret> KeySchedule::server_handshake_traffic(std::span<const std::uint8_t> th) const {
  return derive(handshake_, "s hs traffic", th);
}

Status KeySchedule::derive_master_secret() {
  BW_ASSIGN(auto e, empty_hash(alg_));
  BW_ASSIGN(Secret salt, derive(handshake_, "derived", e.span()));
  std::array<std::uint8_t, 64> zeros{};
  BW_ASSIGN(Secret master,
            crypto::hkdf_extract(alg_, salt.span(),
                                 std::span<const std::uint8_t>(zeros.data(), hash_length())));
  master_.set(std::move(master));
  return {};
}

Result<Secret> KeySchedule::client_application_traffic(std::span<const std::uint8_t> th) const {
  return derive(master_, "c ap traffic", th);
}

Result<Secret> KeySchedule::server_application_traffic(std::span<const std::uint8_t> th) const {
  return derive(master_, "s ap traffic", th);
}

Result<Secret> KeySchedule::exporter_master(std::span<const std::uint8_t> th) const {
  return derive(master_, "exp master", th);
}

Result<Secret> KeySchedule::resumption_master(std::span<const std::uint8_t> th) const {
  return derive(master_, "res master", th);
}

Result<crypto::Digest> KeySchedule::finished_mac(crypto::HashAlg alg,
                                                 std::span<const std::uint8_t> base_key,
                                                 std::span<const std::uint8_t> th) {
  // RFC 8446 §4.4.4: finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length).
  BW_ASSIGN(Secret finished_key,
            crypto::hkdf_expand_label(alg, base_key, "finished", {}, crypto::digest_length(alg)));
  return crypto::hmac(alg, finished_key.span(), th);
}

Result<TrafficKeys> KeySchedule::traffic_keys(const CipherSuiteInfo& suite,
                                              std::span<const std::uint8_t> secret) {
  // RFC 8446 §7.3. The secret is keyed once for both labels.
  if (secret.size() < crypto::digest_length(suite.hash)) {
    return Error(Errc::invalid_argument, "traffic secret shorter than HashLen");
  }
  const crypto::Hmac keyed(suite.hash, secret);
  TrafficKeys k;
  BW_ASSIGN(k.key, crypto::hkdf_expand_label(keyed, "key", {}, suite.key_length));
  BW_ASSIGN(k.iv, crypto::hkdf_expand_label(keyed, "iv", {}, suite.iv_length));
  return k;
}

Result<Secret> KeySchedule::next_traffic_secret(crypto::HashAlg alg,
                                                std::span<const std::uint8_t> secret) {
  // RFC 8446 §7.2.
  return crypto::hkdf_expand_label(alg, secret, "traffic upd", {}, crypto::digest_length(alg));
}

Result<Secret> KeySchedule::resumption_psk(crypto::HashAlg alg,
                                           std::span<const std::uint8_t> resumption_master,
                                           std::span<const std::uint8_t> ticket_nonce) {
  // RFC 8446 §4.6.1.
  return crypto::hkdf_expand_label(alg, resumption_master, "resumption", ticket_nonce,
                                   crypto::digest_length(alg));
}

}  // namespace bulwark::tls
