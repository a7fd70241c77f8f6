// The TLS 1.2 server handshake (RFC 5246 §7.3, RFC 8422, RFC 7627, RFC 5746, RFC 5077,
// RFC 7507): ECDHE with AEAD suites, session-id and ticket resumption, client authentication;
// under the legacy policy also DHE_RSA (RFC 7919 groups) and RSA key transport.
#include <algorithm>
#include <variant>

#include "bulwark/crypto/ffdhe.hpp"
#include "bulwark/crypto/hostname.hpp"
#include "bulwark/crypto/key_share.hpp"
#include "bulwark/crypto/key_transport.hpp"
#include "tls/tls12.hpp"

namespace bulwark::tls {

namespace {

using crypto::Secret;

class Server12 final : public Handshaker {
 public:
  Server12(Connection::Impl& conn, std::shared_ptr<const ServerConfig> cfg)
      : conn_(conn), cfg_(std::move(cfg)) {}

  Status start() override { return {}; }
  Status on_message(const HandshakeMessage& m) override;
  Status on_post_handshake(const HandshakeMessage& m) override;
  Status on_change_cipher_spec() override;
  bool accepts_change_cipher_spec() const override { return false; }

 private:
  struct WaitClientHello {
    static constexpr HandshakeType expected[] = {HandshakeType::client_hello};
  };
  struct WaitClientCertificate {
    static constexpr HandshakeType expected[] = {HandshakeType::certificate};
  };
  struct WaitClientKeyExchange {
    static constexpr HandshakeType expected[] = {HandshakeType::client_key_exchange};
    std::vector<crypto::Certificate> chain;  // the client's, when it sent one
  };
  struct WaitClientCertificateVerify {
    static constexpr HandshakeType expected[] = {HandshakeType::certificate_verify};
    std::vector<crypto::Certificate> chain;
  };
  struct WaitChangeCipherSpec {
    static constexpr HandshakeType expected[] = {HandshakeType::finished};  // none before CCS
    std::optional<PeerAuthenticated> peer;
  };
  struct WaitFinished {
    static constexpr HandshakeType expected[] = {HandshakeType::finished};
    std::optional<PeerAuthenticated> peer;
  };
  struct Connected {
    static constexpr HandshakeType expected[] = {HandshakeType::client_hello};
  };
  using StateVar =
      std::variant<WaitClientHello, WaitClientCertificate, WaitClientKeyExchange,
                   WaitClientCertificateVerify, WaitChangeCipherSpec, WaitFinished, Connected>;

  Status on_client_hello(const HandshakeMessage& m);
  Status on_client_certificate(const HandshakeMessage& m);
  Status on_client_key_exchange(WaitClientKeyExchange& st, const HandshakeMessage& m);
  Status on_client_certificate_verify(WaitClientCertificateVerify& st, const HandshakeMessage& m);
  Status on_finished(WaitFinished& st, const HandshakeMessage& m);
  Status send(const wire::Writer& w, std::string detail = {});
  Status send_ticket_ccs_finished();
  std::optional<TicketState> find_session(const ClientHello& ch);
  TicketState session_state() const;
  Status choose_suite(const ClientHello& ch);
  Status send_server_key_exchange();
  // Established: what only the handshake needed goes (an idle connection keeps its record
  // ciphers only). Nothing after the handshake reads it: renegotiation is refused.
  void release_handshake_state() noexcept;

  Connection::Impl& conn_;
  std::shared_ptr<const ServerConfig> cfg_;
  StateVar state_ = WaitClientHello{};

  const CipherSuiteInfo* suite_ = nullptr;
  const CertifiedKey* cert_ = nullptr;
  SignatureScheme scheme_{};
  NamedGroup group_{};
  HelloRandom client_random_{};
  std::uint16_t client_version_ = 0x0303;  // ClientHello.client_version (RSA key transport)
  HelloRandom server_random_{};
  std::vector<std::uint8_t> session_id_;
  crypto::Transcript transcript_;
  std::vector<std::uint8_t> messages_;  // raw handshake, for the client's CertificateVerify
  std::optional<crypto::KeyShare> share_;
  std::optional<crypto::DhKeyShare> dh_share_;
  Secret master_;
  std::unique_ptr<crypto::Hmac> master_mac_;  // keyed with master_, once (~700 bytes)
  std::optional<RecordCiphers12> ciphers_;
  std::vector<CipherSuite> suites_;  // enabled_cipher_suites(*cfg_), once per handshake
  bool resumed_ = false;
  bool send_ticket_ = false;
  bool cert_requested_ = false;
  std::string sni_;
  std::string alpn_;
};

Status Server12::send(const wire::Writer& w, std::string detail) {
  BW_TRY(w.status());
  BW_TRY(transcript_.update(w.data()));
  messages_.insert(messages_.end(), w.data().begin(), w.data().end());
  return conn_.send_handshake(w.data(), std::move(detail));
}

Status Server12::on_message(const HandshakeMessage& m) {
  const bool allowed =
      std::visit([&](const auto& st) { return expects(st.expected, m.type); }, state_);
  // Handshake messages never come between the client's ChangeCipherSpec and... before it.
  if (!allowed || std::holds_alternative<Connected>(state_) ||
      std::holds_alternative<WaitChangeCipherSpec>(state_)) {
    return Error(Errc::unexpected_message,
                 std::string("unexpected handshake message ") + std::string(name(m.type)));
  }
  if (std::holds_alternative<WaitClientHello>(state_)) return on_client_hello(m);
  if (std::holds_alternative<WaitClientCertificate>(state_)) return on_client_certificate(m);
  if (auto* st = std::get_if<WaitClientKeyExchange>(&state_)) {
    return on_client_key_exchange(*st, m);
  }
  if (auto* st = std::get_if<WaitClientCertificateVerify>(&state_)) {
    return on_client_certificate_verify(*st, m);
  }
  return on_finished(std::get<WaitFinished>(state_), m);
}

std::optional<TicketState> Server12::find_session(const ClientHello& ch) {
  const auto now = cfg_->clock();
  auto usable = [&](const std::optional<TicketState>& st) {
    return st && st->version == ProtocolVersion::tls12 &&
           ch.cipher_suites.contains(st->cipher_suite) && find_cipher_suite(st->cipher_suite) &&
           std::find(suites_.begin(), suites_.end(), st->cipher_suite) != suites_.end() &&
           st->server_name == sni_;
  };
  auto ticket = ch.extensions.get<SessionTicketExtension>();
  if (ticket && *ticket && !(*ticket)->ticket.empty() && cfg_->tickets) {
    auto st = cfg_->tickets->open((*ticket)->ticket, now);
    if (usable(st)) return st;
  }
  if (!ch.legacy_session_id.empty() && cfg_->session_cache) {
    auto st = cfg_->session_cache->get(ch.legacy_session_id, now);
    if (usable(st)) return st;
  }
  return std::nullopt;
}

TicketState Server12::session_state() const {
  TicketState st;
  st.version = ProtocolVersion::tls12;
  st.cipher_suite = suite_->id;
  st.psk = master_.copy();
  st.lifetime = std::min(cfg_->ticket_lifetime, max_ticket_lifetime);
  st.issued = cfg_->clock();
  st.alpn = alpn_;
  st.server_name = sni_;
  return st;
}

Status Server12::on_client_hello(const HandshakeMessage& m) {
  BW_ASSIGN(ClientHello ch, decode_body<ClientHello>(m.body));
  // RFC 7507 §3: a fallback retry from a client that could do better than TLS 1.2.
  if (ch.cipher_suites.contains(CipherSuite::tls_fallback_scsv) &&
      cfg_->max_version > ProtocolVersion::tls12) {
    return Error(Errc::inappropriate_fallback,
                 "TLS_FALLBACK_SCSV from a client we could serve "
                 "with TLS 1.3");
  }
  // RFC 5246 §7.4.1.2: null compression must be offered; it is the only one we use (CRIME).
  if (!ch.legacy_compression_methods.contains(0)) {
    return Error(Errc::illegal_parameter, "the ClientHello does not offer null compression");
  }
  std::copy(ch.random.begin(), ch.random.end(), client_random_.begin());
  client_version_ = static_cast<std::uint16_t>(ch.legacy_version);
  suites_ = enabled_cipher_suites(*cfg_);
  // RFC 5746 §3.6: secure renegotiation signalled by an empty extension or the SCSV.
  BW_ASSIGN(auto reneg, ch.extensions.get<RenegotiationInfo>());
  if (reneg && !reneg->renegotiated_connection.empty()) {
    return Error(Errc::handshake_failure, "renegotiation_info is not empty on a new connection");
  }
  const bool secure = reneg.has_value() ||
                      ch.cipher_suites.contains(CipherSuite::tls_empty_renegotiation_info_scsv);
  conn_.info.secure_renegotiation = secure;
  // RFC 7627 §5.2: without the extended master secret we refuse (policy, on by default).
  const bool ems = ch.extensions.contains(ExtensionType::extended_master_secret);
  if (!ems && cfg_->require_extended_master_secret) {
    return Error(Errc::handshake_failure, "the client does not offer the extended master secret");
  }
  conn_.info.extended_master_secret = ems;
  BW_ASSIGN(auto sn, ch.extensions.get<ServerName>());
  if (sn && !sn->address_literal) sni_ = std::string(sn->host_name);
  BW_ASSIGN(auto alpn, ch.extensions.get<AlpnProtocols>());
  if (alpn && !cfg_->alpn.empty()) {
    for (const auto& p : cfg_->alpn) {
      if (alpn->contains(p)) {
        alpn_ = p;
        break;
      }
    }
    if (alpn_.empty()) return Error(Errc::no_application_protocol, "no ALPN protocol in common");
  }
  BW_ASSIGN(auto formats, ch.extensions.get<EcPointFormats>());
  BW_ASSIGN(auto hb, ch.extensions.get<HeartbeatExtension>());
  BW_ASSIGN(auto ticket_ext, ch.extensions.get<SessionTicketExtension>());
  // RFC 7627 §5.3: a session without the extended master secret is never resumed, so none is
  // kept (no ticket, no cache entry).
  send_ticket_ = ticket_ext.has_value() && cfg_->tickets != nullptr && ems;

  auto& rng = *cfg_->random;
  BW_TRY(rng.fill(server_random_));
  // RFC 8446 §4.1.3: a TLS 1.3-capable server negotiating TLS 1.2 says so in its random.
  if (cfg_->max_version >= ProtocolVersion::tls13) write_downgrade_sentinel(server_random_);

  // RFC 7627 §5.3: no abbreviated handshake without the extended master secret.
  std::optional<TicketState> resumed = ems ? find_session(ch) : std::nullopt;
  if (resumed) {
    suite_ = find_cipher_suite(resumed->cipher_suite);
    master_ = std::move(resumed->psk);
    // RFC 5077 §3.4 / RFC 5246 §7.4.1.3: echo the client's session id.
    session_id_.assign(ch.legacy_session_id.begin(), ch.legacy_session_id.end());
    resumed_ = true;
    if (session_id_.empty()) {
      // A ticket offered with no session id: nothing to echo; give one so the client can
      // tell the abbreviated handshake.
      session_id_.resize(32);
      BW_TRY(rng.fill(session_id_));
      resumed_ = false;
      suite_ = nullptr;
      master_.clear();
    }
  }
  if (!resumed_) {
    BW_TRY(choose_suite(ch));
    if (cfg_->session_cache && session_id_.empty() && ems) {
      session_id_.resize(32);
      BW_TRY(rng.fill(session_id_));
    }
  }

  conn_.tls12 = true;
  conn_.tx.set_version(ProtocolVersion::tls12);
  auto& info = conn_.info;
  info.version = ProtocolVersion::tls12;
  info.cipher_suite = suite_->id;
  info.resumed = resumed_;
  info.alpn = alpn_;
  info.server_name = sni_;
  if (hb && cfg_->heartbeat) {
    info.heartbeat = true;
    conn_.heartbeat_peer_may_send = true;
    conn_.heartbeat_we_may_send = hb->mode == HeartbeatMode::peer_allowed_to_send;
  }

  BW_TRY(transcript_.bind(suite_->hash));
  BW_TRY(transcript_.update(m.message));
  messages_.assign(m.message.begin(), m.message.end());

  ServerHello sh;
  sh.random = server_random_;
  sh.legacy_session_id_echo = session_id_;
  sh.cipher_suite = suite_->id;
  static constexpr EcPointFormat uncompressed[] = {EcPointFormat::uncompressed};
  wire::Writer w;
  write_handshake(w, HandshakeType::server_hello, [&](wire::Writer& body) {
    sh.encode(body, [&](ExtensionsWriter& ext) {
      if (secure) ext.add(RenegotiationInfo{});
      if (ems) ext.add(ExtendedMasterSecret{});
      if (formats) ext.add(EcPointFormats{ValueList<EcPointFormat>(uncompressed)});
      // RFC 6066 §3: acknowledged on a full handshake only.
      if (!sni_.empty() && !resumed_) ext.add(ServerNameAck{});
      if (!alpn_.empty()) ext.add(AlpnSelected{alpn_});
      if (send_ticket_) ext.add(SessionTicketExtension{});
      if (info.heartbeat) ext.add(HeartbeatExtension{HeartbeatMode::peer_allowed_to_send});
    });
  });
  BW_TRY(send(w, std::string(suite_->name) + (resumed_ ? ", resumed" : "")));

  if (resumed_) {
    BW_ASSIGN(crypto::Hmac master_mac, master_secret_mac12(*suite_, master_.span()));
    master_mac_ = std::make_unique<crypto::Hmac>(std::move(master_mac));
    BW_ASSIGN(ciphers_,
              key_block12(*suite_, *master_mac_, client_random_, server_random_, *cfg_->random));
    BW_TRY(send_ticket_ccs_finished());
    state_ = WaitChangeCipherSpec{};
    return {};
  }

  // Certificate, ServerKeyExchange, [CertificateRequest], ServerHelloDone.
  {
    std::vector<Asn1Cert> certs;
    for (const auto& c : cert_->chain)
      certs.push_back(Asn1Cert{c.der()});
    wire::Writer cw;
    write_handshake(cw, Certificate12{EntryList<Asn1Cert>(certs)});
    BW_TRY(send(cw, cert_->chain.front().subject()));
  }
  BW_TRY(send_server_key_exchange());
  cert_requested_ = cfg_->client_auth != ClientAuth::none;
  if (cert_requested_) {
    static constexpr ClientCertificateType types[] = {ClientCertificateType::ecdsa_sign,
                                                      ClientCertificateType::rsa_sign};
    std::vector<SignatureScheme> schemes;
    for (SignatureScheme s : cfg_->signature_schemes) {
      if (scheme_allowed_in_tls12(s)) schemes.push_back(s);
    }
    CertificateRequest12 cr;
    cr.certificate_types = ValueList<ClientCertificateType>(types);
    cr.supported_signature_algorithms = ValueList<SignatureScheme>(schemes);
    wire::Writer rw;
    write_handshake(rw, cr);
    BW_TRY(send(rw));
  }
  wire::Writer dw;
  write_handshake(dw, ServerHelloDone{});
  BW_TRY(send(dw));
  if (cert_requested_) {
    state_ = WaitClientCertificate{};
  } else {
    state_ = WaitClientKeyExchange{};
  }
  return {};
}

Status Server12::choose_suite(const ClientHello& ch) {
  // Full handshake: a suite by our preference whose key exchange we can do with the client,
  // and a certificate of ours that suits it (by SNI where possible).
  BW_ASSIGN(auto groups, ch.extensions.get<SupportedGroups>());
  BW_ASSIGN(auto sa, ch.extensions.get<SignatureAlgorithms>());
  if ((!groups || !sa) && !cfg_->legacy) {
    // RFC 5246 §7.4.1.4.1 would default to SHA-1 and RFC 8422 to curves we do not offer.
    return Error(Errc::handshake_failure,
                 "the ClientHello lacks supported_groups or signature_algorithms");
  }
  // Without them (old clients, legacy policy only): no ECDHE, and nothing signed (we make no
  // SHA-1 signatures), which leaves RSA key transport, and DHE only if a signature is possible.
  const std::vector<NamedGroup> ours = enabled_groups(*cfg_);
  std::optional<NamedGroup> ec_group;
  if (groups) {
    for (NamedGroup g : ours) {
      if (to_crypto(g) && groups->groups.contains(g)) {
        ec_group = g;
        break;
      }
    }
  }
  std::optional<NamedGroup> dh_group;
  if (cfg_->legacy) {
    const bool client_names_ffdhe =
        groups && std::any_of(groups->groups.begin(), groups->groups.end(), is_ffdhe_group);
    for (NamedGroup g : ours) {
      if (!to_crypto_ffdhe(g)) continue;
      // RFC 7919 §4: a client that names FFDHE groups gets one of them or no FFDHE suite; a
      // client that names none may be given any group: our first.
      if (!client_names_ffdhe || groups->groups.contains(g)) {
        dh_group = g;
        break;
      }
    }
  }
  for (CipherSuite id : suites_) {
    const CipherSuiteInfo* info = find_cipher_suite(id);
    if (!info || info->version != ProtocolVersion::tls12 || !ch.cipher_suites.contains(id)) {
      continue;
    }
    const bool ecdhe = info->kx == KeyExchange::ecdhe_ecdsa || info->kx == KeyExchange::ecdhe_rsa;
    if ((ecdhe && !ec_group) || (info->kx == KeyExchange::dhe_rsa && !dh_group) ||
        (info->kx != KeyExchange::rsa && !sa)) {
      continue;
    }
    const CertifiedKey* fallback = nullptr;
    SignatureScheme fallback_scheme{};
    for (const auto& ck : cfg_->certificates) {
      SignatureScheme scheme{};
      if (info->kx == KeyExchange::rsa) {
        // RFC 5246 §7.4.2: RSA key transport needs an rsaEncryption key whose certificate
        // allows keyEncipherment.
        if (ck.key.type() != crypto::KeyType::rsa || !ck.chain.front().allows_key_encipherment()) {
          continue;
        }
      } else {
        std::vector<SignatureScheme> fitting;
        for (SignatureScheme s : cfg_->signature_schemes) {
          if (scheme_fits_kx(s, info->kx)) fitting.push_back(s);
        }
        auto chosen = choose_signature_scheme12(ck.key, fitting, sa->schemes);
        if (!chosen) continue;
        scheme = *chosen;
        // RFC 8422 §4: in TLS 1.2 the client's supported_groups also bounds the curve of an
        // ECDSA certificate's key.
        const crypto::KeyType kt = ck.key.type();
        const bool p256 = kt == crypto::KeyType::ec_p256;
        if ((p256 || kt == crypto::KeyType::ec_p384) &&
            (!groups ||
             !groups->groups.contains(p256 ? NamedGroup::secp256r1 : NamedGroup::secp384r1))) {
          continue;
        }
      }
      if (sni_.empty() || cfg_->certificates.size() == 1 ||
          crypto::verify_host(ck.chain.front(), sni_).ok()) {
        cert_ = &ck;
        scheme_ = scheme;
        break;
      }
      if (!fallback) {
        fallback = &ck;
        fallback_scheme = scheme;
      }
    }
    if (!cert_ && fallback) {
      cert_ = fallback;
      scheme_ = fallback_scheme;
    }
    if (cert_) {
      suite_ = info;
      if (ecdhe) group_ = *ec_group;
      if (info->kx == KeyExchange::dhe_rsa) group_ = *dh_group;
      return {};
    }
  }
  if (!ec_group && !cfg_->legacy) {
    return Error(Errc::handshake_failure, "no key exchange group in common");
  }
  return Error(Errc::handshake_failure, "no TLS 1.2 cipher suite in common");
}

Status Server12::send_server_key_exchange() {
  // RFC 5246 §7.4.3: none for RSA key transport.
  if (suite_->kx == KeyExchange::rsa) return {};
  auto& rng = *cfg_->random;
  wire::Writer params;
  if (suite_->kx == KeyExchange::dhe_rsa) {
    BW_ASSIGN(dh_share_, crypto::DhKeyShare::generate(*to_crypto_ffdhe(group_), rng));
    ServerKeyExchangeDhe::write_params(params, dh_share_->prime(), dh_share_->generator(),
                                       dh_share_->public_value());
  } else {
    BW_ASSIGN(share_, crypto::KeyShare::generate(*to_crypto(group_), rng));
    ServerKeyExchangeEcdhe::write_params(params, group_, share_->public_value());
  }
  BW_TRY(params.status());
  // The signature covers both randoms and the parameters as sent.
  const auto signed_data =
      server_key_exchange_signed_data(client_random_, server_random_, params.data());
  BW_ASSIGN(auto sig, crypto::sign(cert_->key, to_crypto(scheme_), signed_data));
  wire::Writer sw;
  if (dh_share_) {
    ServerKeyExchangeDhe ske;
    ske.dh_p = dh_share_->prime();
    ske.dh_g = dh_share_->generator();
    ske.dh_ys = dh_share_->public_value();
    ske.scheme = scheme_;
    ske.signature = sig;
    write_handshake(sw, ske);
  } else {
    ServerKeyExchangeEcdhe ske;
    ske.group = group_;
    ske.public_point = share_->public_value();
    ske.scheme = scheme_;
    ske.signature = sig;
    write_handshake(sw, ske);
  }
  BW_TRY(send(sw, std::string(name(group_)) + ", " + std::string(name(scheme_))));
  conn_.info.group = group_;
  return {};
}

Status Server12::on_client_certificate(const HandshakeMessage& m) {
  BW_ASSIGN(Certificate12 cert, decode_body<Certificate12>(m.body));
  BW_TRY(transcript_.update(m.message));
  messages_.insert(messages_.end(), m.message.begin(), m.message.end());
  if (cert.certificate_list.empty()) {
    // RFC 5246 §7.4.6: a server requiring a certificate answers handshake_failure.
    if (cfg_->client_auth == ClientAuth::required) {
      return Error(Errc::handshake_failure, "the client sent no certificate");
    }
    state_ = WaitClientKeyExchange{};
    return {};
  }
  BW_ASSIGN(auto chain, verified_client_chain(*cfg_, certificate_ders(cert)));
  conn_.info.peer_certificates = chain;
  state_ = WaitClientKeyExchange{std::move(chain)};
  return {};
}

Status Server12::on_client_key_exchange(WaitClientKeyExchange& st, const HandshakeMessage& m) {
  Secret pms;
  switch (suite_->kx) {
    case KeyExchange::rsa: {
      BW_ASSIGN(ClientKeyExchange cke,
                decode_body<ClientKeyExchange>(m.body, ClientKeyExchange::Form::rsa));
      // RFC 5246 §7.4.7.1: whatever the EncryptedPreMasterSecret holds, no alert here; a bad
      // one yields a secret the client does not have, and the handshake fails at Finished.
      BW_ASSIGN(pms, crypto::rsa_decrypt_premaster_secret(cert_->key, cke.exchange_keys,
                                                          client_version_, *cfg_->random));
      break;
    }
    case KeyExchange::dhe_rsa: {
      BW_ASSIGN(ClientKeyExchange cke,
                decode_body<ClientKeyExchange>(m.body, ClientKeyExchange::Form::dhe));
      auto shared = dh_share_->derive(cke.exchange_keys);
      // RFC 7919 §5.1: a public value outside 1 < Y < p-1 (or its subgroup) is refused.
      if (!shared) return Error(Errc::illegal_parameter, "invalid client DHE public value");
      pms = std::move(shared).value();
      break;
    }
    default: {
      BW_ASSIGN(ClientKeyExchange cke,
                decode_body<ClientKeyExchange>(m.body, ClientKeyExchange::Form::ecdhe));
      auto shared = share_->derive(cke.exchange_keys);
      if (!shared) return Error(Errc::illegal_parameter, "invalid client ECDHE public value");
      pms = std::move(shared).value();
      break;
    }
  }
  BW_TRY(transcript_.update(m.message));
  messages_.insert(messages_.end(), m.message.begin(), m.message.end());
  // RFC 7627 §3: session_hash through ClientKeyExchange.
  BW_ASSIGN(crypto::Digest session_hash, transcript_.current());
  BW_ASSIGN(master_, conn_.info.extended_master_secret
                         ? extended_master_secret(*suite_, pms.span(), session_hash.span())
                         : master_secret12(*suite_, pms.span(), client_random_, server_random_));
  conn_.key_log("CLIENT_RANDOM", client_random_, master_.span());
  BW_ASSIGN(crypto::Hmac master_mac, master_secret_mac12(*suite_, master_.span()));
  master_mac_ = std::make_unique<crypto::Hmac>(std::move(master_mac));
  BW_ASSIGN(ciphers_,
            key_block12(*suite_, *master_mac_, client_random_, server_random_, *cfg_->random));
  if (!st.chain.empty()) {
    state_ = WaitClientCertificateVerify{std::move(st.chain)};
  } else {
    state_ = WaitChangeCipherSpec{client_not_authenticated(cfg_->client_auth)};
  }
  return {};
}

Status Server12::on_client_certificate_verify(WaitClientCertificateVerify& st,
                                              const HandshakeMessage& m) {
  BW_ASSIGN(CertificateVerify cv, decode_body<CertificateVerify>(m.body));
  BW_ASSIGN(crypto::PublicKey key, st.chain.front().public_key());
  // RFC 5246 §7.4.8: over all handshake messages up to (not including) this one.
  BW_ASSIGN(PeerAuthenticated peer, verify_signature12(key, cv.scheme, messages_, cv.signature,
                                                       cfg_->signature_schemes, KeyExchange::any));
  conn_.info.peer_signature_scheme = cv.scheme;
  BW_TRY(transcript_.update(m.message));
  messages_.insert(messages_.end(), m.message.begin(), m.message.end());
  state_ = WaitChangeCipherSpec{peer};
  return {};
}

Status Server12::on_change_cipher_spec() {
  auto* st = std::get_if<WaitChangeCipherSpec>(&state_);
  if (!st) return Error(Errc::unexpected_message, "unexpected change_cipher_spec");
  conn_.install_read_cipher12(std::move(ciphers_->client_write));
  state_ = WaitFinished{st->peer};
  return {};
}

Status Server12::send_ticket_ccs_finished() {
  if (send_ticket_) {
    const TicketState st = session_state();
    BW_ASSIGN(auto ticket, cfg_->tickets->seal(st, cfg_->clock()));
    wire::Writer tw;
    write_handshake(tw, NewSessionTicket12{st.lifetime, ticket});
    BW_TRY(send(tw));
  }
  BW_TRY(conn_.send_change_cipher_spec());
  conn_.install_write_cipher12(std::move(ciphers_->server_write));
  BW_ASSIGN(crypto::Digest th, transcript_.current());
  BW_ASSIGN(auto verify_data, finished12(*master_mac_, Role::server, th.span()));
  wire::Writer fw;
  write_handshake(fw, Finished{verify_data});
  return send(fw);
}

Status Server12::on_finished(WaitFinished& st, const HandshakeMessage& m) {
  BW_ASSIGN(Finished fin, decode_body<Finished>(m.body, 12));
  BW_ASSIGN(crypto::Digest th, transcript_.current());
  BW_ASSIGN(auto expect, finished12(*master_mac_, Role::client, th.span()));
  BW_ASSIGN(FinishedVerified verified, verify_finished(expect, fin.verify_data));
  BW_TRY(transcript_.update(m.message));
  if (!resumed_) {
    BW_TRY(send_ticket_ccs_finished());
    if (cfg_->session_cache && !session_id_.empty()) {
      cfg_->session_cache->put(session_id_, session_state());
    }
  }
  // A resumed client proved the session's master secret with its Finished.
  const PeerAuthenticated peer = st.peer ? *st.peer : client_not_authenticated(cfg_->client_auth);
  state_ = Connected{};
  conn_.established(peer, verified);
  release_handshake_state();
  return {};
}

void Server12::release_handshake_state() noexcept {
  std::vector<std::uint8_t>().swap(messages_);
  std::vector<std::uint8_t>().swap(session_id_);
  std::vector<CipherSuite>().swap(suites_);
  transcript_ = crypto::Transcript();
  share_.reset();
  dh_share_.reset();
  master_ = Secret();  // wiped
  master_mac_.reset();
  ciphers_.reset();
  std::string().swap(sni_);
  std::string().swap(alpn_);
}

Status Server12::on_post_handshake(const HandshakeMessage& m) {
  return conn_.refuse_renegotiation(m);
}

}  // namespace

std::unique_ptr<Handshaker> make_server12(Connection::Impl& conn,
                                          std::shared_ptr<const ServerConfig> config) {
  return std::make_unique<Server12>(conn, std::move(config));
}

}  // namespace bulwark::tls
