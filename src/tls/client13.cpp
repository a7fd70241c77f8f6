// The TLS 1.3 client handshake (RFC 8446 §2, §4): ClientHello, HelloRetryRequest, the
// server's flight, certificate and host-name verification, our flight, tickets.
#include <algorithm>
#include <variant>

#include "bulwark/crypto/hkdf.hpp"
#include "bulwark/tls/session.hpp"
#include "tls/handshake.hpp"
#include "tls/tls12.hpp"

namespace bulwark::tls {

namespace {

using crypto::Secret;

constexpr std::uint8_t null_compression[] = {0};

std::string suite_name(CipherSuite s) {
  const CipherSuiteInfo* info = find_cipher_suite(s);
  return info ? std::string(info->name) : std::string(name(s));
}

class Client13 final : public Handshaker {
 public:
  Client13(Connection::Impl& conn, std::shared_ptr<const ClientConfig> cfg, std::string name)
      : conn_(conn), cfg_(std::move(cfg)), server_name_(std::move(name)) {}

  Status start() override;
  Status on_message(const HandshakeMessage& m) override;
  Status on_post_handshake(const HandshakeMessage& m) override;
  bool accepts_change_cipher_spec() const override {
    return !std::holds_alternative<Connected>(state_);
  }

 private:
  // ---- states: each declares the messages it accepts (checked before any parsing) ----
  struct WaitServerHello {
    static constexpr HandshakeType expected[] = {HandshakeType::server_hello};
  };
  struct WaitEncryptedExtensions {
    static constexpr HandshakeType expected[] = {HandshakeType::encrypted_extensions};
  };
  struct WaitCertificateOrRequest {
    static constexpr HandshakeType expected[] = {HandshakeType::certificate,
                                                 HandshakeType::certificate_request};
  };
  struct WaitCertificate {
    static constexpr HandshakeType expected[] = {HandshakeType::certificate};
  };
  struct WaitCertificateVerify {
    static constexpr HandshakeType expected[] = {HandshakeType::certificate_verify};
    std::vector<crypto::Certificate> chain;
  };
  struct WaitFinished {
    static constexpr HandshakeType expected[] = {HandshakeType::finished};
    std::optional<PeerAuthenticated> peer;  // empty for PSK: the Finished proves the PSK
  };
  struct Connected {
    static constexpr HandshakeType expected[] = {HandshakeType::new_session_ticket};
  };
  using StateVar = std::variant<WaitServerHello, WaitEncryptedExtensions, WaitCertificateOrRequest,
                                WaitCertificate, WaitCertificateVerify, WaitFinished, Connected>;

  Status on_server_hello(const HandshakeMessage& m);
  Status on_hello_retry_request(const ServerHello& hrr, const HandshakeMessage& m);
  Status on_encrypted_extensions(const HandshakeMessage& m);
  Status on_certificate_request(const HandshakeMessage& m);
  Status on_certificate(const HandshakeMessage& m);
  Status on_certificate_verify(WaitCertificateVerify& st, const HandshakeMessage& m);
  Status on_finished(WaitFinished& st, const HandshakeMessage& m);
  Status send_client_hello();
  Status send_second_flight();
  void release_handshake_state();
  Status check_extensions(const ExtensionBlock& block, ExtensionContext where) const;
  bool offered(ExtensionType t) const {
    return std::find(offered_.begin(), offered_.end(), t) != offered_.end();
  }
  crypto::HashAlg hash() const { return suite_->hash; }

  Status hand_over_to_tls12(const ServerHello& sh, const HandshakeMessage& m);

  Connection::Impl& conn_;
  std::shared_ptr<const ClientConfig> cfg_;
  std::string server_name_;
  StateVar state_ = WaitServerHello{};
  bool offer13_ = true;
  bool offer12_ = false;
  bool early_ = false;           // we offer 0-RTT
  bool early_accepted_ = false;  // the server accepted it

  HelloRandom random_{};
  std::vector<std::uint8_t> session_id_;
  std::optional<crypto::KeyShare> share_;
  std::vector<ExtensionType> offered_;
  std::vector<std::uint8_t> cookie_;
  std::vector<std::uint8_t> client_hello1_;  // kept for HelloRetryRequest
  std::vector<std::uint8_t> hrr_prefix_;     // message_hash(CH1) || HRR, for a second binder
  bool hrr_ = false;
  bool ccs_sent_ = false;
  std::optional<StoredSession> session_;  // offered for resumption
  bool psk_accepted_ = false;

  const CipherSuiteInfo* suite_ = nullptr;
  crypto::Transcript transcript_;
  std::optional<KeySchedule> ks_;
  // The Early Secret of the PSK we offer (computed for its binder), for ks_ if accepted.
  std::optional<KeySchedule> psk_schedule_;
  Secret client_hs_;
  Secret server_hs_;
  Secret resumption_master_;

  bool cert_requested_ = false;
  std::vector<std::uint8_t> cert_request_context_;
  std::vector<SignatureScheme> server_schemes_;
};

Status Client13::start() {
  if (!cfg_->insecure_skip_verification && server_name_.empty()) {
    return Error(Errc::invalid_argument,
                 "a server name is needed to verify the server's certificate");
  }
  offer13_ = cfg_->max_version >= ProtocolVersion::tls13;
  offer12_ =
      cfg_->min_version <= ProtocolVersion::tls12 && cfg_->max_version >= ProtocolVersion::tls12;
  if (!offer13_ && !offer12_) {
    return Error(Errc::invalid_argument, "no protocol version enabled (TLS 1.2 and 1.3 exist)");
  }
  auto& rng = *cfg_->random;
  BW_TRY(rng.fill(random_));
  if (cfg_->sessions) session_ = cfg_->sessions->take(server_name_, cfg_->clock());
  if (session_ && (!find_cipher_suite(session_->cipher_suite) ||
                   (session_->version == ProtocolVersion::tls12 ? !offer12_ : !offer13_))) {
    session_.reset();
  }
  if (session_ && session_->version == ProtocolVersion::tls12 && !session_->session_id.empty()) {
    // RFC 5246 §7.4.1.2: resuming a TLS 1.2 session by its id.
    session_id_ = session_->session_id;
  } else if (cfg_->middlebox_compat || (session_ && session_->version == ProtocolVersion::tls12)) {
    // RFC 8446 §D.4: a non-empty legacy_session_id makes middleboxes see a resumption; for a
    // TLS 1.2 ticket it is how we recognise the abbreviated handshake (RFC 5077 §3.4).
    session_id_.resize(32);
    BW_TRY(rng.fill(session_id_));
  }
  // 0-RTT: only on a TLS 1.3 resumption whose ticket allows it (RFC 8446 §4.2.10).
  early_ = cfg_->early_data && session_ && session_->version == ProtocolVersion::tls13 &&
           session_->max_early_data > 0;
  if (offer13_) {
    if (cfg_->groups.empty()) return Error(Errc::invalid_argument, "no key exchange groups");
    auto group = to_crypto(cfg_->groups.front());
    if (!group) return Error(Errc::unsupported, "the first configured group is not supported");
    BW_ASSIGN(share_, crypto::KeyShare::generate(*group, rng));
  }
  return send_client_hello();
}

Status Client13::send_client_hello() {
  const auto& cfg = *cfg_;
  offered_.clear();
  std::vector<KeyShareEntry> shares;
  if (share_) {
    shares.push_back(
        KeyShareEntry{static_cast<NamedGroup>(share_->group()), share_->public_value()});
  }
  std::vector<ProtocolName> alpn;
  for (const auto& p : cfg.alpn)
    alpn.push_back(ProtocolName{as_bytes(p)});
  std::vector<ProtocolVersion> versions;
  std::vector<CipherSuite> suites;
  if (offer13_) versions.push_back(ProtocolVersion::tls13);
  if (offer12_ && !hrr_) versions.push_back(ProtocolVersion::tls12);
  // The policy's suites: under `legacy`, the legacy TLS 1.2 suites after the others.
  for (CipherSuite id : enabled_cipher_suites(cfg)) {
    const CipherSuiteInfo* info = find_cipher_suite(id);
    if (info && ((info->version == ProtocolVersion::tls13 && offer13_) ||
                 (info->version == ProtocolVersion::tls12 && offer12_ && !hrr_))) {
      suites.push_back(id);
    }
  }
  static constexpr PskKeyExchangeMode modes[] = {PskKeyExchangeMode::psk_dhe_ke};
  static constexpr EcPointFormat uncompressed[] = {EcPointFormat::uncompressed};
  const bool session12 = session_ && session_->version == ProtocolVersion::tls12;

  // The PSK identity and a placeholder binder, overwritten once the message is built.
  std::vector<PskIdentity> identities;
  std::vector<PskBinderEntry> binders;
  std::vector<std::uint8_t> zero_binder;
  const CipherSuiteInfo* psk_suite =
      session_ && !session12 ? find_cipher_suite(session_->cipher_suite) : nullptr;
  if (psk_suite) {
    const auto age =
        std::chrono::duration_cast<std::chrono::milliseconds>(cfg.clock() - session_->received);
    // RFC 8446 §4.2.11.1: obfuscated_ticket_age = age in ms + ticket_age_add (mod 2^32).
    identities.push_back(
        PskIdentity{session_->ticket, static_cast<std::uint32_t>(age.count()) + session_->age_add});
    zero_binder.assign(crypto::digest_length(psk_suite->hash), 0);
    binders.push_back(PskBinderEntry{zero_binder});
  }

  ClientHello ch;
  ch.random = random_;
  ch.legacy_session_id = session_id_;
  ch.cipher_suites = ValueList<CipherSuite>(suites);
  ch.legacy_compression_methods = ValueList<std::uint8_t>(null_compression);
  wire::Writer w;
  write_handshake(w, HandshakeType::client_hello, [&](wire::Writer& body) {
    ch.encode(body, [&](ExtensionsWriter& ext) {
      auto add = [&](const auto& e) {
        ext.add(e);
        offered_.push_back(std::remove_cvref_t<decltype(e)>::type);
      };
      if (sni_applies(server_name_)) add(ServerName{server_name_});
      add(SupportedVersionsClientHello{ValueList<ProtocolVersion>(versions)});
      // Under `legacy`, also the RFC 7919 groups, for TLS 1.2 DHE (RFC 7919 §3).
      const std::vector<NamedGroup> groups = enabled_groups(cfg);
      add(SupportedGroups{ValueList<NamedGroup>(groups)});
      if (share_) add(KeyShareClientHello{EntryList<KeyShareEntry>(shares)});
      if (offer12_ && !hrr_) {
        // TLS 1.2: uncompressed points (RFC 8422), the extended master secret (RFC 7627),
        // secure renegotiation signalling (RFC 5746), tickets (RFC 5077), heartbeat.
        add(EcPointFormats{ValueList<EcPointFormat>(uncompressed)});
        add(ExtendedMasterSecret{});
        add(RenegotiationInfo{});
        if (cfg.sessions) {
          add(SessionTicketExtension{session12 ? wire::Bytes(session_->ticket) : wire::Bytes()});
        }
        if (cfg.heartbeat) add(HeartbeatExtension{HeartbeatMode::peer_allowed_to_send});
      }
      add(SignatureAlgorithms{ValueList<SignatureScheme>(cfg.signature_schemes)});
      add(SignatureAlgorithmsCert{ValueList<SignatureScheme>(cfg.certificate_signature_schemes)});
      if (!alpn.empty()) add(AlpnProtocols{EntryList<ProtocolName>(alpn)});
      if (cfg.record_size_limit != 0) add(RecordSizeLimit{cfg.record_size_limit});
      if (!cookie_.empty()) add(Cookie{cookie_});
      if (cfg.sessions && offer13_) {
        add(PskKeyExchangeModes{ValueList<PskKeyExchangeMode>(modes)});
      }
      if (early_ && psk_suite) add(EarlyDataIndication{});
      // RFC 8446 §4.2.11: pre_shared_key MUST be the last extension.
      if (psk_suite)
        add(OfferedPsks{EntryList<PskIdentity>(identities), EntryList<PskBinderEntry>(binders)});
    });
  });
  BW_TRY(w.status());
  std::vector<std::uint8_t> msg = w.take();

  psk_schedule_.reset();  // only this ClientHello's PSK may be used
  if (psk_suite) {
    // RFC 8446 §4.2.11.2: the binder is an HMAC over the transcript up to the binders.
    BW_ASSIGN(std::size_t prefix, truncated_client_hello_length(msg));
    BW_ASSIGN(auto h, crypto::Hash::create(psk_suite->hash));
    BW_TRY(h.update(hrr_prefix_));
    BW_TRY(h.update(wire::Bytes(msg).first(prefix)));
    BW_ASSIGN(crypto::Digest th, h.final());
    KeySchedule early(psk_suite->hash);
    BW_TRY(early.start(session_->psk.span()));
    BW_ASSIGN(Secret binder_key, early.resumption_binder_key());
    BW_ASSIGN(crypto::Digest binder,
              KeySchedule::finished_mac(psk_suite->hash, binder_key.span(), th.span()));
    // The one binder is the last bytes of the message.
    std::copy(binder.span().begin(), binder.span().end(), msg.end() - binder.size);
    // Kept for the early data key and, if the server accepts the PSK, the handshake.
    psk_schedule_ = std::move(early);
  }

  if (!hrr_) client_hello1_ = msg;
  BW_TRY(transcript_.update(msg));
  std::string detail = hrr_ ? "retry, " : "";
  if (share_) detail += std::string(name(static_cast<NamedGroup>(share_->group())));
  if (psk_suite) detail += ", offering resumption";
  if (early_ && psk_suite) detail += " and 0-RTT";
  BW_TRY(conn_.send_handshake(msg, std::move(detail)));
  if (early_ && psk_suite && !hrr_) {
    // RFC 8446 §4.2.10 / §7.1: early data is sealed with client_early_traffic_secret, derived
    // from the PSK over the ClientHello, with the PSK's suite.
    BW_ASSIGN(crypto::Digest th, crypto::hash(psk_suite->hash, msg));
    BW_ASSIGN(Secret early, psk_schedule_->client_early_traffic(th.span()));
    conn_.key_log("CLIENT_EARLY_TRAFFIC_SECRET", random_, early.span());
    // RFC 8446 §D.4: with early data, the compatibility CCS right after the ClientHello.
    if (cfg.middlebox_compat) {
      BW_TRY(conn_.send_change_cipher_spec());
      ccs_sent_ = true;
    }
    BW_TRY(conn_.install_write_secret(*psk_suite, std::move(early)));
    conn_.early_data_writable = true;
    conn_.early_data_budget = session_->max_early_data;
    conn_.info.early_data = EarlyData::offered;
  }
  return {};
}

Status Client13::on_message(const HandshakeMessage& m) {
  const bool allowed =
      std::visit([&](const auto& st) { return expects(st.expected, m.type); }, state_);
  // Handshake states declare their legal next messages (DESIGN.md habit 4).
  if (!allowed || std::holds_alternative<Connected>(state_)) {
    return Error(Errc::unexpected_message,
                 std::string("unexpected handshake message ") + std::string(name(m.type)));
  }
  if (std::holds_alternative<WaitServerHello>(state_)) return on_server_hello(m);
  if (std::holds_alternative<WaitEncryptedExtensions>(state_)) return on_encrypted_extensions(m);
  if (std::holds_alternative<WaitCertificateOrRequest>(state_)) {
    return m.type == HandshakeType::certificate_request ? on_certificate_request(m)
                                                        : on_certificate(m);
  }
  if (std::holds_alternative<WaitCertificate>(state_)) return on_certificate(m);
  if (auto* st = std::get_if<WaitCertificateVerify>(&state_)) {
    return on_certificate_verify(*st, m);
  }
  return on_finished(std::get<WaitFinished>(state_), m);
}

Status Client13::check_extensions(const ExtensionBlock& block, ExtensionContext where) const {
  for (const auto& e : block) {
    // RFC 8446 §4.2: extensions the client did not offer are unsupported_extension ...
    if (!offered(e.type) &&
        !(where == ExtensionContext::hello_retry_request && e.type == ExtensionType::cookie)) {
      return Error(Errc::unsupported_extension, std::string("the server sent extension ") +
                                                    std::string(name(e.type)) +
                                                    " which was not offered");
    }
    // ... and recognised ones in the wrong message are illegal_parameter.
    if (!allowed_in_tls13(e.type, where)) {
      return Error(Errc::illegal_parameter, std::string("extension ") + std::string(name(e.type)) +
                                                " is not allowed in this message");
    }
  }
  return {};
}

Status Client13::on_server_hello(const HandshakeMessage& m) {
  BW_ASSIGN(ServerHello sh, decode_body<ServerHello>(m.body));
  BW_ASSIGN(auto sv, sh.extensions.get<SupportedVersionsServerHello>());
  if (!sv) {
    // No supported_versions: the server negotiated TLS 1.2 or older (RFC 8446 §4.2.1).
    if (sh.legacy_version == ProtocolVersion::tls12 && offer12_ && !hrr_) {
      return hand_over_to_tls12(sh, m);
    }
    return Error(Errc::protocol_version, offer12_ ? "the server speaks neither TLS 1.3 nor TLS 1.2"
                                                  : "the server does not speak TLS 1.3");
  }
  if (!offer13_) {
    return Error(Errc::illegal_parameter, "the server selected TLS 1.3, which we did not offer");
  }
  // RFC 8446 §4.2.1: a version the client did not offer is illegal_parameter.
  if (sv->selected_version != ProtocolVersion::tls13) {
    return Error(Errc::illegal_parameter, "the server selected a version we did not offer");
  }
  // RFC 8446 §4.1.3: legacy_version 0x0303, our session id echoed, null compression.
  if (sh.legacy_version != ProtocolVersion::tls12 || !sh.has_extensions) {
    return Error(Errc::illegal_parameter, "ServerHello legacy_version must be TLS 1.2");
  }
  if (!same_bytes(sh.legacy_session_id_echo, session_id_)) {
    return Error(Errc::illegal_parameter, "ServerHello does not echo our session id");
  }
  if (sh.legacy_compression_method != 0) {
    return Error(Errc::illegal_parameter, "ServerHello selected compression");
  }
  // RFC 8446 §4.1.3: a cipher suite we did not offer is illegal_parameter.
  const CipherSuiteInfo* suite = find_cipher_suite(sh.cipher_suite);
  if (!suite || suite->version != ProtocolVersion::tls13 ||
      std::find(cfg_->cipher_suites.begin(), cfg_->cipher_suites.end(), sh.cipher_suite) ==
          cfg_->cipher_suites.end()) {
    return Error(Errc::illegal_parameter, "the server selected a cipher suite we did not offer");
  }
  if (sh.is_hello_retry_request()) return on_hello_retry_request(sh, m);
  BW_TRY(check_extensions(sh.extensions, ExtensionContext::server_hello));
  // RFC 8446 §4.1.4: the ServerHello's suite must be the one of the HelloRetryRequest.
  if (suite_ && suite_ != suite) {
    return Error(Errc::illegal_parameter, "the cipher suite changed after HelloRetryRequest");
  }
  suite_ = suite;
  if (!transcript_.bound()) BW_TRY(transcript_.bind(hash()));
  BW_TRY(transcript_.update(m.message));

  // Key exchange: this client always uses (EC)DHE, also when resuming.
  BW_ASSIGN(auto ks, sh.extensions.get<KeyShareServerHello>());
  if (!ks) return Error(Errc::missing_extension, "ServerHello has no key_share");
  if (ks->server_share.group != static_cast<NamedGroup>(share_->group())) {
    return Error(Errc::illegal_parameter, "the server's key share is for another group");
  }
  auto shared = share_->derive(ks->server_share.key_exchange);
  if (!shared) return Error(Errc::illegal_parameter, "invalid server key share");

  BW_ASSIGN(auto psk, sh.extensions.get<PreSharedKeyServerHello>());
  if (psk) {
    // RFC 8446 §4.2.11: the selected identity must be one we offered, with a matching hash.
    if (!session_ || psk->selected_identity != 0) {
      return Error(Errc::illegal_parameter, "the server selected a PSK we did not offer");
    }
    const CipherSuiteInfo* ps = find_cipher_suite(session_->cipher_suite);
    if (!ps || ps->hash != suite->hash) {
      return Error(Errc::illegal_parameter, "the PSK's hash does not match the cipher suite");
    }
    psk_accepted_ = true;
  }
  if (psk_accepted_ && psk_schedule_ && psk_schedule_->alg() == hash()) {
    ks_ = std::move(psk_schedule_);  // already holds the PSK's Early Secret
  } else {
    ks_.emplace(hash());
    BW_TRY(psk_accepted_ ? ks_->start(session_->psk.span()) : ks_->start());
  }
  psk_schedule_.reset();
  BW_TRY(ks_->derive_handshake_secret(shared->span()));
  BW_ASSIGN(crypto::Digest th, transcript_.current());
  BW_ASSIGN(client_hs_, ks_->client_handshake_traffic(th.span()));
  BW_ASSIGN(server_hs_, ks_->server_handshake_traffic(th.span()));
  conn_.key_log("CLIENT_HANDSHAKE_TRAFFIC_SECRET", random_, client_hs_.span());
  conn_.key_log("SERVER_HANDSHAKE_TRAFFIC_SECRET", random_, server_hs_.span());
  BW_TRY(conn_.install_read_secret(*suite, server_hs_.copy()));
  // From here on everything we send, alerts included, is under the handshake key; while
  // 0-RTT is on offer, the early key stays until the server says what it did with it.
  if (!early_) BW_TRY(conn_.install_write_secret(*suite, client_hs_.copy()));

  auto& info = conn_.info;
  info.version = ProtocolVersion::tls13;
  info.cipher_suite = suite->id;
  info.group = static_cast<NamedGroup>(share_->group());
  info.resumed = psk_accepted_;
  info.hello_retry = hrr_;
  conn_.trace_detail = suite_name(suite->id) + ", " + std::string(name(*info.group)) +
                       (psk_accepted_ ? ", resumed" : "");
  state_ = WaitEncryptedExtensions{};
  return {};
}

Status Client13::hand_over_to_tls12(const ServerHello& sh, const HandshakeMessage& m) {
  // RFC 8446 §4.1.3: a TLS 1.3 server's random says whether it was pushed down to TLS 1.2;
  // an active attacker's downgrade ends here.
  if (offer13_ && (sh.has_tls12_downgrade_sentinel() || sh.has_tls11_downgrade_sentinel())) {
    return Error(Errc::illegal_parameter, "downgrade to TLS 1.2 detected (RFC 8446 sentinel)");
  }
  ClientHelloContext ctx;
  ctx.client_hello = client_hello1_;
  ctx.random = random_;
  ctx.session_id = session_id_;
  ctx.offered = offered_;
  if (session_ && session_->version == ProtocolVersion::tls12) ctx.session = std::move(session_);
  auto next = make_client12(conn_, cfg_, server_name_, std::move(ctx));
  BW_TRY(next->on_message(m));
  conn_.next_handshaker = std::move(next);
  return {};
}

Status Client13::on_hello_retry_request(const ServerHello& hrr, const HandshakeMessage& m) {
  // RFC 8446 §4.1.4: a second HelloRetryRequest is unexpected_message.
  if (hrr_) return Error(Errc::unexpected_message, "a second HelloRetryRequest");
  BW_TRY(check_extensions(hrr.extensions, ExtensionContext::hello_retry_request));
  BW_ASSIGN(auto ks, hrr.extensions.get<KeyShareHelloRetryRequest>());
  BW_ASSIGN(auto cookie, hrr.extensions.get<Cookie>());
  if (!ks && !cookie) {
    // RFC 8446 §4.1.4: an HRR that would not change the ClientHello is illegal_parameter.
    return Error(Errc::illegal_parameter, "HelloRetryRequest asks for no change");
  }
  if (ks) {
    // RFC 8446 §4.2.8: the group must be one we support and not the one we already sent.
    const NamedGroup g = ks->selected_group;
    if (std::find(cfg_->groups.begin(), cfg_->groups.end(), g) == cfg_->groups.end() ||
        g == static_cast<NamedGroup>(share_->group()) || !to_crypto(g)) {
      return Error(Errc::illegal_parameter, "HelloRetryRequest selects an unusable group");
    }
    BW_ASSIGN(share_, crypto::KeyShare::generate(*to_crypto(g), *cfg_->random));
  }
  if (cookie) cookie_.assign(cookie->cookie.begin(), cookie->cookie.end());
  suite_ = find_cipher_suite(hrr.cipher_suite);
  hrr_ = true;
  if (early_) {
    // RFC 8446 §4.2.10: a HelloRetryRequest rejects early data; ClientHello2 goes in clear.
    early_ = false;
    conn_.early_data_writable = false;
    conn_.info.early_data = EarlyData::rejected;
    conn_.clear_write_cipher();
  }
  conn_.trace_detail = std::string("HelloRetryRequest") +
                       (ks ? ", " + std::string(name(ks->selected_group)) : std::string()) +
                       (cookie ? ", cookie" : "");
  conn_.info.hello_retry = true;

  // RFC 8446 §4.4.1: the transcript restarts with message_hash(ClientHello1), then the HRR.
  BW_TRY(transcript_.bind(hash()));
  BW_TRY(transcript_.replace_with_message_hash());
  BW_TRY(transcript_.update(m.message));
  BW_ASSIGN(crypto::Digest ch1, crypto::hash(hash(), client_hello1_));
  hrr_prefix_ = {static_cast<std::uint8_t>(HandshakeType::message_hash), 0, 0,
                 static_cast<std::uint8_t>(ch1.size)};
  hrr_prefix_.insert(hrr_prefix_.end(), ch1.span().begin(), ch1.span().end());
  hrr_prefix_.insert(hrr_prefix_.end(), m.message.begin(), m.message.end());
  // A PSK for another hash cannot be offered in the second ClientHello.
  if (session_) {
    const CipherSuiteInfo* ps = find_cipher_suite(session_->cipher_suite);
    if (!ps || ps->hash != suite_->hash) session_.reset();
  }
  // RFC 8446 §D.4: the compatibility CCS goes right before the second ClientHello.
  if (cfg_->middlebox_compat && !ccs_sent_) {
    BW_TRY(conn_.send_change_cipher_spec());
    ccs_sent_ = true;
  }
  return send_client_hello();
}

Status Client13::on_encrypted_extensions(const HandshakeMessage& m) {
  BW_ASSIGN(EncryptedExtensions ee, decode_body<EncryptedExtensions>(m.body));
  BW_TRY(check_extensions(ee.extensions, ExtensionContext::encrypted_extensions));
  BW_ASSIGN(auto alpn, ee.extensions.get<AlpnSelected>());
  if (alpn) {
    // RFC 7301 §3.1: the server picks one of the protocols the client offered.
    if (std::find(cfg_->alpn.begin(), cfg_->alpn.end(), alpn->protocol) == cfg_->alpn.end()) {
      return Error(Errc::illegal_parameter, "the server selected an ALPN protocol not offered");
    }
    conn_.info.alpn = std::string(alpn->protocol);
  }
  if (early_) {
    early_accepted_ = ee.extensions.contains(ExtensionType::early_data);
    // RFC 8446 §4.2.10: early data can only be accepted with the first PSK we offered.
    if (early_accepted_ && !psk_accepted_) {
      return Error(Errc::illegal_parameter, "early data accepted without the PSK");
    }
    conn_.info.early_data = early_accepted_ ? EarlyData::accepted : EarlyData::rejected;
    if (!early_accepted_) {
      conn_.early_data_writable = false;
      BW_TRY(conn_.install_write_secret(*suite_, client_hs_.copy()));
    }
  } else if (ee.extensions.contains(ExtensionType::early_data)) {
    return Error(Errc::illegal_parameter, "early data accepted but not offered");
  }
  BW_ASSIGN(auto rsl, ee.extensions.get<RecordSizeLimit>());
  if (rsl) {
    // RFC 8449 §4: in TLS 1.3 the limit includes the content type byte.
    conn_.tx.set_max_plaintext(std::min<std::size_t>(rsl->limit - 1u, max_plaintext));
  }
  BW_TRY(transcript_.update(m.message));
  if (psk_accepted_) {
    state_ = WaitFinished{};
  } else {
    state_ = WaitCertificateOrRequest{};
  }
  return {};
}

Status Client13::on_certificate_request(const HandshakeMessage& m) {
  BW_ASSIGN(CertificateRequest13 cr, decode_body<CertificateRequest13>(m.body));
  // RFC 8446 §4.3.2: the context is empty in the main handshake.
  if (!cr.certificate_request_context.empty()) {
    return Error(Errc::illegal_parameter, "CertificateRequest context must be empty");
  }
  for (const auto& e : cr.extensions) {
    if (!allowed_in_tls13(e.type, ExtensionContext::certificate_request)) {
      return Error(Errc::illegal_parameter, "extension not allowed in CertificateRequest");
    }
  }
  BW_ASSIGN(auto sa, cr.extensions.get<SignatureAlgorithms>());
  if (!sa) return Error(Errc::missing_extension, "CertificateRequest without signature_algorithms");
  server_schemes_.assign(sa->schemes.begin(), sa->schemes.end());
  cert_requested_ = true;
  BW_TRY(transcript_.update(m.message));
  state_ = WaitCertificate{};
  return {};
}

Status Client13::on_certificate(const HandshakeMessage& m) {
  BW_ASSIGN(Certificate13 cert, decode_body<Certificate13>(m.body));
  if (!cert.certificate_request_context.empty()) {
    return Error(Errc::illegal_parameter, "server Certificate context must be empty");
  }
  // RFC 8446 §4.4.2.4: an empty server Certificate is decode_error.
  if (cert.certificate_list.empty()) {
    return Error(Errc::truncated, "the server sent no certificate");
  }
  BW_ASSIGN(auto chain, verified_server_chain(*cfg_, certificate_ders(cert), server_name_));
  conn_.info.peer_certificates = chain;
  BW_TRY(transcript_.update(m.message));
  state_ = WaitCertificateVerify{std::move(chain)};
  return {};
}

Status Client13::on_certificate_verify(WaitCertificateVerify& st, const HandshakeMessage& m) {
  BW_ASSIGN(CertificateVerify cv, decode_body<CertificateVerify>(m.body));
  BW_ASSIGN(crypto::Digest th, transcript_.current());
  BW_ASSIGN(crypto::PublicKey key, st.chain.front().public_key());
  BW_ASSIGN(PeerAuthenticated peer,
            verify_certificate_verify(key, cv.scheme, cv.signature, cfg_->signature_schemes,
                                      Role::server, th.span()));
  conn_.info.peer_signature_scheme = cv.scheme;
  BW_TRY(transcript_.update(m.message));
  state_ = WaitFinished{peer};
  return {};
}

Status Client13::on_finished(WaitFinished& st, const HandshakeMessage& m) {
  BW_ASSIGN(Finished fin, decode_body<Finished>(m.body, crypto::digest_length(hash())));
  BW_ASSIGN(crypto::Digest th, transcript_.current());
  BW_ASSIGN(FinishedVerified verified,
            verify_finished(hash(), server_hs_.span(), th.span(), fin.verify_data));
  // Without a certificate, the server proved the PSK by its Finished.
  const PeerAuthenticated peer = st.peer ? *st.peer : server_psk_authenticated(verified);
  BW_TRY(transcript_.update(m.message));

  BW_TRY(ks_->derive_master_secret());
  BW_ASSIGN(crypto::Digest th_app, transcript_.current());
  BW_ASSIGN(Secret client_ap, ks_->client_application_traffic(th_app.span()));
  BW_ASSIGN(Secret server_ap, ks_->server_application_traffic(th_app.span()));
  BW_ASSIGN(Secret exporter, ks_->exporter_master(th_app.span()));
  conn_.key_log("CLIENT_TRAFFIC_SECRET_0", random_, client_ap.span());
  conn_.key_log("SERVER_TRAFFIC_SECRET_0", random_, server_ap.span());
  conn_.key_log("EXPORTER_SECRET", random_, exporter.span());
  BW_TRY(conn_.install_read_secret(*suite_, std::move(server_ap)));

  BW_TRY(send_second_flight());
  BW_TRY(conn_.install_write_secret(*suite_, std::move(client_ap)));
  BW_ASSIGN(crypto::Digest th_res, transcript_.current());
  // Tickets may still come: their PSKs derive from this (only when we keep sessions).
  if (cfg_->sessions) {
    BW_ASSIGN(resumption_master_, ks_->resumption_master(th_res.span()));
  }
  release_handshake_state();
  state_ = Connected{};
  conn_.established(peer, verified);
  // A chain nobody checked proves nothing about who the server is.
  if (cfg_->insecure_skip_verification) conn_.info.peer_verified = false;
  return {};
}

// After our Finished nothing derives from the handshake's secrets, its transcript or our
// ephemeral key any more (KeyUpdate starts from the traffic secrets the connection holds;
// tickets need only the resumption master secret): they go now rather than with the
// connection, for forward secrecy's sake and for an idle connection's memory.
void Client13::release_handshake_state() {
  client_hs_.clear();
  server_hs_.clear();
  ks_.reset();
  psk_schedule_.reset();
  share_.reset();
  session_.reset();
  transcript_ = crypto::Transcript();
  std::vector<std::uint8_t>().swap(client_hello1_);
  std::vector<std::uint8_t>().swap(hrr_prefix_);
  std::vector<std::uint8_t>().swap(cookie_);
}

Status Client13::send_second_flight() {
  if (early_accepted_) {
    // RFC 8446 §4.5: EndOfEarlyData, under the early key, ends the 0-RTT data.
    conn_.early_data_writable = false;
    const std::uint8_t eoed[4] = {static_cast<std::uint8_t>(HandshakeType::end_of_early_data), 0, 0,
                                  0};
    BW_TRY(transcript_.update(eoed));
    BW_TRY(conn_.send_handshake(eoed));
    BW_TRY(conn_.install_write_secret(*suite_, client_hs_.copy()));
  }
  if (cfg_->middlebox_compat && !ccs_sent_) {
    BW_TRY(conn_.send_change_cipher_spec());
    ccs_sent_ = true;
  }
  if (cert_requested_) {
    // Our certificate, if we have one whose key can sign with a scheme the server accepts;
    // else an empty Certificate (RFC 8446 §4.4.2.3) and the server decides.
    const CertifiedKey* ck = cfg_->certificate ? &*cfg_->certificate : nullptr;
    std::optional<SignatureScheme> scheme;
    if (ck) {
      scheme = choose_signature_scheme(ck->key, cfg_->signature_schemes,
                                       ValueList<SignatureScheme>(server_schemes_));
      if (!scheme) ck = nullptr;
    }
    wire::Writer w;
    write_handshake(w, HandshakeType::certificate, [&](wire::Writer& body) {
      write_certificate13(body, cert_request_context_,
                          ck ? std::span<const crypto::Certificate>(ck->chain)
                             : std::span<const crypto::Certificate>());
    });
    BW_TRY(w.status());
    BW_TRY(transcript_.update(w.data()));
    BW_TRY(conn_.send_handshake(w.data(), ck ? "client certificate" : "no client certificate"));
    if (ck) {
      BW_ASSIGN(crypto::Digest th, transcript_.current());
      BW_ASSIGN(auto sig, crypto::sign(ck->key, to_crypto(*scheme),
                                       certificate_verify_input(Role::client, th.span())));
      CertificateVerify cv{*scheme, sig};
      wire::Writer cw;
      write_handshake(cw, cv);
      BW_TRY(cw.status());
      BW_TRY(transcript_.update(cw.data()));
      BW_TRY(conn_.send_handshake(cw.data(), std::string(name(*scheme))));
    }
  }
  BW_ASSIGN(crypto::Digest th, transcript_.current());
  BW_ASSIGN(crypto::Digest mac, KeySchedule::finished_mac(hash(), client_hs_.span(), th.span()));
  Finished fin{mac.span()};
  wire::Writer w;
  write_handshake(w, fin);
  BW_TRY(w.status());
  BW_TRY(transcript_.update(w.data()));
  return conn_.send_handshake(w.data());
}

Status Client13::on_post_handshake(const HandshakeMessage& m) {
  if (m.type != HandshakeType::new_session_ticket) return unexpected_post_handshake(m);
  BW_ASSIGN(NewSessionTicket13 nst, decode_body<NewSessionTicket13>(m.body));
  if (!cfg_->sessions || nst.ticket_lifetime == 0) return {};
  BW_ASSIGN(Secret psk,
            KeySchedule::resumption_psk(hash(), resumption_master_.span(), nst.ticket_nonce));
  StoredSession s;
  s.cipher_suite = suite_->id;
  s.ticket.assign(nst.ticket.begin(), nst.ticket.end());
  s.psk = std::move(psk);
  s.age_add = nst.ticket_age_add;
  s.lifetime = nst.ticket_lifetime;
  s.received = cfg_->clock();
  s.alpn = conn_.info.alpn;
  BW_ASSIGN(auto early, nst.extensions.get<EarlyDataTicket>());
  if (early) s.max_early_data = early->max_early_data_size;
  cfg_->sessions->put(server_name_, std::move(s));
  return {};
}

}  // namespace

std::unique_ptr<Handshaker> make_client13(Connection::Impl& conn,
                                          std::shared_ptr<const ClientConfig> config,
                                          std::string server_name) {
  return std::make_unique<Client13>(conn, std::move(config), std::move(server_name));
}

}  // namespace bulwark::tls
