// Checks and helpers shared by the TLS 1.3 client and server handshakes.
#include <algorithm>
#include <cstring>

#include "bulwark/crypto/hostname.hpp"
#include "bulwark/crypto/secret.hpp"
#include "tls/handshake.hpp"

namespace bulwark::tls {

bool scheme_allowed_in_tls13(SignatureScheme s) noexcept {
  // RFC 8446 §4.2.3: RSASSA-PKCS1-v1_5 and SHA-1 schemes are not for CertificateVerify.
  switch (s) {
    case SignatureScheme::ecdsa_secp256r1_sha256:
    case SignatureScheme::ecdsa_secp384r1_sha384:
    case SignatureScheme::rsa_pss_rsae_sha256:
    case SignatureScheme::rsa_pss_rsae_sha384:
    case SignatureScheme::rsa_pss_rsae_sha512:
    case SignatureScheme::ed25519:
    case SignatureScheme::rsa_pss_pss_sha256:
    case SignatureScheme::rsa_pss_pss_sha384:
    case SignatureScheme::rsa_pss_pss_sha512:
      return true;
    default:
      return false;
  }
}

crypto::SignatureScheme to_crypto(SignatureScheme s) noexcept {
  // Both enums carry the IANA code points.
  return static_cast<crypto::SignatureScheme>(static_cast<std::uint16_t>(s));
}

std::optional<crypto::Group> to_crypto(NamedGroup g) noexcept {
  switch (g) {
    case NamedGroup::x25519:
      return crypto::Group::x25519;
    case NamedGroup::secp256r1:
      return crypto::Group::secp256r1;
    case NamedGroup::secp384r1:
      return crypto::Group::secp384r1;
    default:
      return std::nullopt;
  }
}

std::optional<crypto::FfdheGroup> to_crypto_ffdhe(NamedGroup g) noexcept {
  // Both enums carry the IANA code points.
  const auto group = static_cast<crypto::FfdheGroup>(static_cast<std::uint16_t>(g));
  if (!crypto::ffdhe_group_supported(group)) return std::nullopt;
  return group;
}

std::vector<std::uint8_t> certificate_verify_input(Role signer, wire::Bytes transcript_hash) {
  static constexpr std::string_view server_ctx = "TLS 1.3, server CertificateVerify";
  static constexpr std::string_view client_ctx = "TLS 1.3, client CertificateVerify";
  const std::string_view ctx = signer == Role::server ? server_ctx : client_ctx;
  std::vector<std::uint8_t> in(64 + ctx.size() + 1 + transcript_hash.size(), 0x20);
  std::memcpy(in.data() + 64, ctx.data(), ctx.size());
  in[64 + ctx.size()] = 0;
  if (!transcript_hash.empty()) {
    std::memcpy(in.data() + 64 + ctx.size() + 1, transcript_hash.data(), transcript_hash.size());
  }
  return in;
}

Result<PeerAuthenticated> verify_certificate_verify(const crypto::PublicKey& key,
                                                    SignatureScheme scheme, wire::Bytes signature,
                                                    std::span<const SignatureScheme> offered,
                                                    Role signer, wire::Bytes transcript_hash) {
  // RFC 8446 §4.4.3: the scheme must be one offered in signature_algorithms and fit the key.
  if (std::find(offered.begin(), offered.end(), scheme) == offered.end() ||
      !scheme_allowed_in_tls13(scheme)) {
    return Error(Errc::illegal_parameter, "CertificateVerify uses a scheme that was not offered");
  }
  if (!crypto::scheme_fits_key(to_crypto(scheme), key)) {
    return Error(Errc::illegal_parameter, "CertificateVerify scheme does not fit the key");
  }
  const auto input = certificate_verify_input(signer, transcript_hash);
  // RFC 8446 §4.4.3: a signature that does not verify is decrypt_error.
  if (auto s = crypto::verify(key, to_crypto(scheme), input, signature); !s) {
    return Error(Errc::decrypt_error, "CertificateVerify signature does not verify");
  }
  return PeerAuthenticated(PeerAuthenticated::How::certificate);
}

Result<FinishedVerified> verify_finished(crypto::HashAlg alg, wire::Bytes base_key,
                                         wire::Bytes transcript_hash, wire::Bytes received) {
  BW_ASSIGN(crypto::Digest expect, KeySchedule::finished_mac(alg, base_key, transcript_hash));
  // RFC 8446 §4.4.4: a wrong verify_data is decrypt_error.
  return verify_finished(expect.span(), received);
}

Result<FinishedVerified> verify_finished(wire::Bytes expected, wire::Bytes received) {
  // Compared in constant time.
  if (!crypto::constant_time_equal(expected, received)) {
    return Error(Errc::decrypt_error, "Finished does not verify");
  }
  return FinishedVerified();
}

Result<BinderVerified> verify_binder(crypto::HashAlg alg, wire::Bytes binder_key,
                                     wire::Bytes transcript_hash, wire::Bytes received) {
  BW_ASSIGN(crypto::Digest expect, KeySchedule::finished_mac(alg, binder_key, transcript_hash));
  // RFC 8446 §4.2.11: a binder that does not validate is decrypt_error.
  if (!crypto::constant_time_equal(expect.span(), received)) {
    return Error(Errc::decrypt_error, "PSK binder does not verify");
  }
  return BinderVerified();
}

PeerAuthenticated psk_authenticated(const BinderVerified&) noexcept {
  return PeerAuthenticated(PeerAuthenticated::How::psk);
}

PeerAuthenticated server_psk_authenticated(const FinishedVerified&) noexcept {
  return PeerAuthenticated(PeerAuthenticated::How::psk);
}

PeerAuthenticated server_key_transport_authenticated(const FinishedVerified&) noexcept {
  return PeerAuthenticated(PeerAuthenticated::How::certificate);
}

PeerAuthenticated client_not_authenticated(ClientAuth) noexcept {
  return PeerAuthenticated(PeerAuthenticated::How::none);
}

std::optional<SignatureScheme> choose_signature_scheme(const crypto::PrivateKey& key,
                                                       std::span<const SignatureScheme> ours,
                                                       const ValueList<SignatureScheme>& peer) {
  for (SignatureScheme s : ours) {
    if (!scheme_allowed_in_tls13(s) || !peer.contains(s)) continue;
    if (crypto::scheme_fits_key(to_crypto(s), key)) return s;
  }
  return std::nullopt;
}

void write_certificate13(wire::Writer& w, wire::Bytes context,
                         std::span<const crypto::Certificate> chain) {
  w.prefixed_bytes<1>(context);
  auto list = w.prefixed<3>();
  for (const auto& c : chain) {
    w.prefixed_bytes<3>(c.der(), 1);
    w.u16(0);  // no per-certificate extensions
  }
}

std::vector<wire::Bytes> certificate_ders(const Certificate13& msg) {
  std::vector<wire::Bytes> der;
  der.reserve(msg.certificate_list.size());
  for (const auto& entry : msg.certificate_list)
    der.push_back(entry.cert_data);
  return der;
}

std::vector<wire::Bytes> certificate_ders(const Certificate12& msg) {
  std::vector<wire::Bytes> der;
  der.reserve(msg.certificate_list.size());
  for (const auto& c : msg.certificate_list)
    der.push_back(c.data);
  return der;
}

Result<std::vector<crypto::Certificate>> parse_certificate_chain(
    std::span<const wire::Bytes> chain_der) {
  std::vector<crypto::Certificate> chain;
  chain.reserve(chain_der.size());
  for (const wire::Bytes der : chain_der) {
    auto c = crypto::Certificate::from_der(der);
    if (!c) {
      return Error(Errc::decode_failed, "a certificate does not parse: " + c.error().message());
    }
    chain.push_back(std::move(c).value());
  }
  return chain;
}

Result<std::vector<crypto::Certificate>> verified_client_chain(
    const ServerConfig& cfg, std::span<const wire::Bytes> chain_der) {
  BW_ASSIGN(auto chain, parse_certificate_chain(chain_der));
  if (!cfg.client_trust) {
    return Error(Errc::cert_unknown_ca, "no trust anchors configured for client certificates");
  }
  crypto::VerifyOptions opts;
  opts.purpose = crypto::Purpose::client;
  opts.at = cfg.clock();
  BW_TRY(cfg.client_trust->verify(chain.front(),
                                  std::span<const crypto::Certificate>(chain).subspan(1), opts));
  return chain;
}

namespace {

Result<crypto::TrustStore> client_trust_store(const ClientConfig& cfg) {
  return cfg.trust ? Result<crypto::TrustStore>(*cfg.trust) : crypto::TrustStore::system();
}

Status verify_server_chain_at(const crypto::TrustStore& store,
                              std::span<const crypto::Certificate> chain,
                              const std::string& server_name,
                              std::chrono::system_clock::time_point now) {
  crypto::VerifyOptions opts;
  opts.purpose = crypto::Purpose::server;
  opts.at = now;
  opts.host = server_name;
  return store.verify(chain.front(), chain.subspan(1), opts);
}

}  // namespace

Status verify_server_chain(const ClientConfig& cfg, std::span<const crypto::Certificate> chain,
                           const std::string& server_name) {
  if (cfg.insecure_skip_verification) return {};
  BW_ASSIGN(const crypto::TrustStore store, client_trust_store(cfg));
  return verify_server_chain_at(store, chain, server_name, cfg.clock());
}

Result<std::vector<crypto::Certificate>> verified_server_chain(
    const ClientConfig& cfg, std::span<const wire::Bytes> chain_der,
    const std::string& server_name) {
  if (chain_der.empty()) return Error(Errc::truncated, "the server sent no certificate");
  if (!cfg.chain_cache) {
    BW_ASSIGN(auto chain, parse_certificate_chain(chain_der));
    BW_TRY(verify_server_chain(cfg, chain, server_name));
    return chain;
  }
  if (cfg.insecure_skip_verification) {
    // Nothing is verified, but parsing (and decoding the leaf's key) is most of a client
    // handshake: the same bytes parse to the same chain, so a parsed-only entry serves them.
    const auto now = cfg.clock();
    BW_ASSIGN(const ChainCacheKey key, VerifiedChainCache::parsed_key(chain_der));
    if (auto cached = cfg.chain_cache->find_parsed(key, chain_der, now)) return std::move(*cached);
    BW_ASSIGN(auto chain, parse_certificate_chain(chain_der));
    cfg.chain_cache->insert_parsed(key, chain, now);
    return chain;
  }
  // Identical bytes, name, anchors and purpose verified within the entry's time window give
  // the same result (the argument is in chain_cache.hpp): skip parsing and path validation.
  BW_ASSIGN(const crypto::TrustStore store, client_trust_store(cfg));
  const auto now = cfg.clock();
  BW_ASSIGN(const ChainCacheKey key,
            VerifiedChainCache::key(chain_der, server_name, store, crypto::Purpose::server));
  if (auto cached = cfg.chain_cache->find(key, now)) return std::move(*cached);

  BW_ASSIGN(auto chain, parse_certificate_chain(chain_der));
  BW_TRY(verify_server_chain_at(store, chain, server_name, now));
  // Only a success is recorded: a failure is verified again on every connection.
  cfg.chain_cache->insert(key, chain, store, now);
  return chain;
}

bool sni_applies(std::string_view server_name) noexcept {
  // RFC 6066 §3: literal IPv4 and IPv6 addresses are not permitted in server_name.
  return !server_name.empty() && !crypto::parse_ip_literal(server_name).has_value();
}

}  // namespace bulwark::tls
