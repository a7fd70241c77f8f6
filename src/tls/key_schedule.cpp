#include "bulwark/tls/key_schedule.hpp"

#include <array>

#include "bulwark/crypto/hkdf.hpp"
#include "bulwark/crypto/hmac.hpp"

namespace bulwark::tls {

using crypto::Secret;

namespace {

// Transcript-Hash("") for Derive-Secret(., "derived", "") and the binder key.
Result<crypto::Digest> empty_hash(crypto::HashAlg alg) {
  return crypto::hash(alg, {});
}

}  // namespace

Result<Secret> KeySchedule::derive(const Secret& from, std::string_view label,
                                   std::span<const std::uint8_t> th) const {
  if (from.empty()) return Error(Errc::invalid_argument, "key schedule used out of order");
  return crypto::derive_secret(alg_, from.span(), label, th);
}

Status KeySchedule::start(std::span<const std::uint8_t> psk) {
  std::array<std::uint8_t, 64> zeros{};
  const auto ikm = psk.empty() ? std::span<const std::uint8_t>(zeros.data(), hash_length()) : psk;
  // RFC 8446 §7.1: Early Secret = HKDF-Extract(salt = 0, IKM = PSK or 0).
  BW_ASSIGN(early_, crypto::hkdf_extract(alg_, {}, ikm));
  handshake_.clear();
  master_.clear();
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
  BW_ASSIGN(auto e, empty_hash(alg_));
  BW_ASSIGN(Secret salt, derive(early_, "derived", e.span()));
  BW_ASSIGN(handshake_, crypto::hkdf_extract(alg_, salt.span(), shared_secret));
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
  BW_ASSIGN(master_,
            crypto::hkdf_extract(alg_, salt.span(),
                                 std::span<const std::uint8_t>(zeros.data(), hash_length())));
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
  // RFC 8446 §7.3.
  TrafficKeys k;
  BW_ASSIGN(k.key, crypto::hkdf_expand_label(suite.hash, secret, "key", {}, suite.key_length));
  BW_ASSIGN(k.iv, crypto::hkdf_expand_label(suite.hash, secret, "iv", {}, suite.iv_length));
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
