// The TLS 1.3 server handshake (RFC 8446 §2, §4): ClientHello checks and negotiation,
// HelloRetryRequest (with cookie), PSK resumption from our tickets, our flight, client
// authentication, NewSessionTicket.
#include <algorithm>
#include <variant>

#include "bulwark/crypto/hostname.hpp"
#include "bulwark/tls/session.hpp"
#include "tls/handshake.hpp"
#include "tls/tls12.hpp"

namespace bulwark::tls {

namespace {

using crypto::Secret;

template <class T, class V>
bool has(const V& list, T v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

class Server13 final : public Handshaker {
 public:
  Server13(Connection::Impl& conn, std::shared_ptr<const ServerConfig> cfg)
      : conn_(conn), cfg_(std::move(cfg)) {}

  Status start() override { return {}; }
  Status on_message(const HandshakeMessage& m) override;
  Status on_post_handshake(const HandshakeMessage& m) override {
    return unexpected_post_handshake(m);
  }
  bool needed_after_handshake() const override { return false; }
  bool accepts_change_cipher_spec() const override {
    return !std::holds_alternative<WaitClientHello>(state_) &&
           !std::holds_alternative<Connected>(state_);
  }
  bool skipping_early_data() const override { return skip_early_data_; }

 private:
  struct WaitClientHello {
    static constexpr HandshakeType expected[] = {HandshakeType::client_hello};
  };
  struct WaitSecondClientHello {
    static constexpr HandshakeType expected[] = {HandshakeType::client_hello};
  };
  struct WaitClientCertificate {
    static constexpr HandshakeType expected[] = {HandshakeType::certificate};
  };
  struct WaitClientCertificateVerify {
    static constexpr HandshakeType expected[] = {HandshakeType::certificate_verify};
    std::vector<crypto::Certificate> chain;
  };
  struct WaitClientFinished {
    static constexpr HandshakeType expected[] = {HandshakeType::finished};
    PeerAuthenticated peer;
  };
  // Accepted 0-RTT: early application data, then EndOfEarlyData (RFC 8446 §4.5).
  struct WaitEndOfEarlyData {
    static constexpr HandshakeType expected[] = {HandshakeType::end_of_early_data};
    PeerAuthenticated peer;
  };
  struct Connected {
    static constexpr HandshakeType expected[] = {HandshakeType::key_update};
  };
  using StateVar =
      std::variant<WaitClientHello, WaitSecondClientHello, WaitClientCertificate,
                   WaitClientCertificateVerify, WaitClientFinished, WaitEndOfEarlyData, Connected>;

  // What the ClientHello negotiates.
  struct Choice {
    const CipherSuiteInfo* suite = nullptr;
    NamedGroup group{};
    std::optional<KeyShareEntry> client_share;  // for `group`, when the client sent one
    const CertifiedKey* cert = nullptr;
    SignatureScheme scheme{};
  };

  Status on_client_hello(const HandshakeMessage& m, bool second);
  Result<Choice> negotiate(const ClientHello& ch);
  Result<std::optional<BinderVerified>> check_psk(const ClientHello& ch, const HandshakeMessage& m);
  bool accept_early_data();
  Status send_hello_retry_request(const ClientHello& ch, const HandshakeMessage& m, bool ask_group);
  Status send_server_flight(const ClientHello& ch, const HandshakeMessage& m,
                            std::optional<BinderVerified> binder);
  Status on_client_certificate(const HandshakeMessage& m);
  Status on_client_certificate_verify(WaitClientCertificateVerify& st, const HandshakeMessage& m);
  Status on_client_finished(WaitClientFinished& st, const HandshakeMessage& m);
  bool tickets_wanted() const;
  Status send_tickets();
  Status send_tickets_with_flight(const crypto::Digest& th_server_finished);
  void release_handshake_state();
  Status send_message(const wire::Writer& w, std::string detail = {});
  // Whether someone observes the trace: its details are built only then.
  bool tracing() const { return static_cast<bool>(conn_.cfg().trace); }
  crypto::HashAlg hash() const { return choice_.suite->hash; }

  Connection::Impl& conn_;
  std::shared_ptr<const ServerConfig> cfg_;
  StateVar state_ = WaitClientHello{};
  Choice choice_;
  crypto::Transcript transcript_;
  std::optional<KeySchedule> ks_;
  // The Early Secret of the PSK whose binder verified (check_psk), for ks_.
  std::optional<KeySchedule> psk_schedule_;
  Secret client_hs_;
  Secret client_ap_;
  Secret resumption_master_;
  // The client Finished the tickets sent with our flight were derived from.
  Secret expected_client_finished_;
  HelloRandom client_random_{};
  std::vector<std::uint8_t> session_id_;
  std::vector<std::uint8_t> cookie_;
  std::vector<std::uint8_t> hrr_prefix_;  // message_hash(CH1) || HRR: what CH2's binder covers
  NamedGroup hrr_group_{};
  bool hrr_ = false;
  bool ccs_sent_ = false;
  bool client_psk_dhe_ = false;  // the client can resume with psk_dhe_ke
  bool cert_requested_ = false;
  bool skip_early_data_ = false;
  std::optional<TicketState> psk_state_;
  std::uint16_t selected_identity_ = 0;
  std::uint32_t client_ticket_age_ms_ = 0;  // from the selected identity
  std::vector<std::uint8_t> selected_binder_;
  bool early_accepted_ = false;
  std::uint8_t tickets_sent_ = 0;
  std::string alpn_;
  std::string sni_;
};

Status Server13::send_message(const wire::Writer& w, std::string detail) {
  BW_TRY(w.status());
  BW_TRY(transcript_.update(w.data()));
  return conn_.send_handshake(w.data(), std::move(detail));
}

Status Server13::on_message(const HandshakeMessage& m) {
  const bool allowed =
      std::visit([&](const auto& st) { return expects(st.expected, m.type); }, state_);
  if (!allowed || std::holds_alternative<Connected>(state_)) {
    return Error(Errc::unexpected_message,
                 std::string("unexpected handshake message ") + std::string(name(m.type)));
  }
  // A message under the handshake key proves the client stopped sending 0-RTT data.
  skip_early_data_ = false;
  if (std::holds_alternative<WaitClientHello>(state_)) return on_client_hello(m, false);
  if (std::holds_alternative<WaitSecondClientHello>(state_)) return on_client_hello(m, true);
  if (std::holds_alternative<WaitClientCertificate>(state_)) return on_client_certificate(m);
  if (auto* st = std::get_if<WaitClientCertificateVerify>(&state_)) {
    return on_client_certificate_verify(*st, m);
  }
  if (auto* st = std::get_if<WaitEndOfEarlyData>(&state_)) {
    BW_ASSIGN(EndOfEarlyData eoed, decode_body<EndOfEarlyData>(m.body));
    (void)eoed;
    BW_TRY(transcript_.update(m.message));
    // The client's handshake flight follows under its handshake key.
    conn_.reading_early_data = false;
    BW_TRY(conn_.install_read_secret(*choice_.suite, client_hs_.copy()));
    const PeerAuthenticated peer = st->peer;
    state_ = WaitClientFinished{peer};
    return {};
  }
  return on_client_finished(std::get<WaitClientFinished>(state_), m);
}

Result<Server13::Choice> Server13::negotiate(const ClientHello& ch) {
  Choice c;
  // Cipher suite: our preference among the client's offer.
  for (CipherSuite s : cfg_->cipher_suites) {
    const CipherSuiteInfo* info = find_cipher_suite(s);
    if (info && info->version == ProtocolVersion::tls13 && ch.cipher_suites.contains(s)) {
      c.suite = info;
      break;
    }
  }
  if (!c.suite) return Error(Errc::handshake_failure, "no cipher suite in common");

  // RFC 8446 §9.2: supported_groups and key_share come together; we need (EC)DHE.
  BW_ASSIGN(auto groups, ch.extensions.get<SupportedGroups>());
  BW_ASSIGN(auto shares, ch.extensions.get<KeyShareClientHello>());
  if (!groups || !shares) {
    return Error(Errc::missing_extension, "ClientHello lacks supported_groups or key_share");
  }
  for (const auto& e : shares->client_shares) {
    // RFC 8446 §4.2.8: shares only for groups listed in supported_groups.
    if (!groups->groups.contains(e.group)) {
      return Error(Errc::illegal_parameter, "key share for a group not in supported_groups");
    }
  }
  // Our preferred group among the client's shares (no extra round trip); else our preferred
  // group among those it supports (HelloRetryRequest).
  for (NamedGroup g : cfg_->groups) {
    if (!to_crypto(g)) continue;
    if (auto share = shares->find(g)) {
      c.group = g;
      c.client_share = *share;
      break;
    }
  }
  if (!c.client_share) {
    bool found = false;
    for (NamedGroup g : cfg_->groups) {
      if (to_crypto(g) && groups->groups.contains(g)) {
        c.group = g;
        found = true;
        break;
      }
    }
    if (!found) return Error(Errc::handshake_failure, "no key exchange group in common");
  }

  // RFC 8446 §4.2.3 / §9.2: certificate authentication needs signature_algorithms.
  BW_ASSIGN(auto sa, ch.extensions.get<SignatureAlgorithms>());
  if (!sa) return Error(Errc::missing_extension, "ClientHello lacks signature_algorithms");
  // The certificate: one that names the SNI host and whose key can sign a scheme the client
  // accepts; else any whose key can (the client will judge the name).
  const CertifiedKey* fallback = nullptr;
  SignatureScheme fallback_scheme{};
  for (const auto& ck : cfg_->certificates) {
    auto scheme = choose_signature_scheme(ck.key, cfg_->signature_schemes, sa->schemes);
    if (!scheme) continue;
    // With one certificate there is nothing to choose between (no name check per handshake).
    const bool names_host = sni_.empty() || cfg_->certificates.size() == 1 ||
                            crypto::verify_host(ck.chain.front(), sni_).ok();
    if (names_host) {
      c.cert = &ck;
      c.scheme = *scheme;
      break;
    }
    if (!fallback) {
      fallback = &ck;
      fallback_scheme = *scheme;
    }
  }
  if (!c.cert && fallback) {
    c.cert = fallback;
    c.scheme = fallback_scheme;
  }
  if (!c.cert) {
    return Error(Errc::handshake_failure, "no certificate for the client's signature algorithms");
  }
  return c;
}

Status Server13::on_client_hello(const HandshakeMessage& m, bool second) {
  BW_ASSIGN(ClientHello ch, decode_body<ClientHello>(m.body));
  // RFC 8446 §4.2.1: with supported_versions, only it counts; without, legacy_version.
  BW_ASSIGN(auto sv, ch.extensions.get<SupportedVersionsClientHello>());
  const bool offers13 = ch.has_extensions && sv && sv->versions.contains(ProtocolVersion::tls13);
  const bool offers12 = sv ? sv->versions.contains(ProtocolVersion::tls12)
                           : ch.legacy_version >= ProtocolVersion::tls12;
  if (!offers13 || cfg_->max_version < ProtocolVersion::tls13) {
    if (!second && offers12 && cfg_->min_version <= ProtocolVersion::tls12) {
      auto next = make_server12(conn_, cfg_);
      BW_TRY(next->on_message(m));
      conn_.next_handshaker = std::move(next);
      return {};
    }
    return Error(Errc::protocol_version, "no protocol version in common with the client");
  }
  // RFC 8446 §4.1.2: exactly the null compression method, else illegal_parameter (CRIME).
  if (ch.legacy_compression_methods.size() != 1 || !ch.legacy_compression_methods.contains(0)) {
    return Error(Errc::illegal_parameter, "TLS 1.3 ClientHello must offer only null compression");
  }
  if (second) {
    // RFC 8446 §4.1.2: the second ClientHello repeats the first but for what HRR asked.
    if (!std::equal(ch.random.begin(), ch.random.end(), client_random_.begin()) ||
        !same_bytes(ch.legacy_session_id, session_id_)) {
      return Error(Errc::illegal_parameter, "the second ClientHello differs from the first");
    }
    BW_ASSIGN(auto cookie, ch.extensions.get<Cookie>());
    if (!cookie_.empty() && (!cookie || !same_bytes(cookie->cookie, cookie_))) {
      return Error(Errc::illegal_parameter, "the second ClientHello lacks our cookie");
    }
    if (ch.extensions.contains(ExtensionType::early_data)) {
      return Error(Errc::illegal_parameter, "early_data after HelloRetryRequest");
    }
  } else {
    client_random_ = ch.random;
    session_id_.assign(ch.legacy_session_id.begin(), ch.legacy_session_id.end());
    BW_ASSIGN(auto sn, ch.extensions.get<ServerName>());
    if (sn && !sn->address_literal) sni_ = std::string(sn->host_name);
  }
  BW_ASSIGN(auto modes, ch.extensions.get<PskKeyExchangeModes>());
  client_psk_dhe_ = modes && modes->modes.contains(PskKeyExchangeMode::psk_dhe_ke);

  BW_ASSIGN(Choice c, negotiate(ch));
  if (second) {
    // RFC 8446 §4.1.4 / §4.2.8: the same suite, and one share, for the group we asked for.
    BW_ASSIGN(auto shares, ch.extensions.get<KeyShareClientHello>());
    if (c.suite != choice_.suite || !shares || shares->client_shares.size() != 1 ||
        !c.client_share || c.group != hrr_group_) {
      return Error(Errc::illegal_parameter,
                   "the second ClientHello does not answer the HelloRetryRequest");
    }
  }

  // ALPN (RFC 7301 §3.2): our preference among the client's; none in common is fatal.
  BW_ASSIGN(auto alpn, ch.extensions.get<AlpnProtocols>());
  if (alpn && !cfg_->alpn.empty()) {
    alpn_.clear();
    for (const auto& p : cfg_->alpn) {
      if (alpn->contains(p)) {
        alpn_ = p;
        break;
      }
    }
    if (alpn_.empty()) {
      return Error(Errc::no_application_protocol, "no ALPN protocol in common with the client");
    }
  }
  BW_ASSIGN(auto rsl, ch.extensions.get<RecordSizeLimit>());
  if (rsl) conn_.tx.set_max_plaintext(std::min<std::size_t>(rsl->limit - 1u, max_plaintext));

  choice_ = c;
  if (!second) {
    BW_TRY(transcript_.bind(hash()));
    const bool ask_group = !c.client_share;
    const bool ask_cookie = cfg_->require_cookie;
    if (ask_group || ask_cookie) return send_hello_retry_request(ch, m, ask_group);
  }

  BW_ASSIGN(auto binder, check_psk(ch, m));
  if (!second && ch.extensions.contains(ExtensionType::early_data)) {
    early_accepted_ = binder && accept_early_data();
    // RFC 8446 §4.2.10: refused early data, sealed with keys we will not derive, is skipped.
    skip_early_data_ = !early_accepted_;
    conn_.info.early_data = early_accepted_ ? EarlyData::accepted : EarlyData::rejected;
  }
  return send_server_flight(ch, m, binder);
}

Status Server13::send_hello_retry_request(const ClientHello& ch, const HandshakeMessage& m,
                                          bool ask_group) {
  hrr_ = true;
  hrr_group_ = choice_.group;
  // RFC 8446 §4.2.10: a HelloRetryRequest rejects 0-RTT; the early records are skipped.
  if (ch.extensions.contains(ExtensionType::early_data)) {
    skip_early_data_ = true;
    conn_.info.early_data = EarlyData::rejected;
  }
  if (cfg_->require_cookie) {
    cookie_.resize(32);
    BW_TRY(cfg_->random->fill(cookie_));
  }
  BW_TRY(transcript_.update(m.message));
  BW_TRY(transcript_.replace_with_message_hash());
  BW_ASSIGN(crypto::Digest ch1, crypto::hash(hash(), m.message));

  ServerHello hrr;
  hrr.random = hello_retry_request_random;
  hrr.legacy_session_id_echo = ch.legacy_session_id;
  hrr.cipher_suite = choice_.suite->id;
  wire::Writer w;
  write_handshake(w, HandshakeType::server_hello, [&](wire::Writer& body) {
    hrr.encode(body, [&](ExtensionsWriter& ext) {
      ext.add(SupportedVersionsServerHello{ProtocolVersion::tls13});
      if (ask_group) ext.add(KeyShareHelloRetryRequest{choice_.group});
      if (!cookie_.empty()) ext.add(Cookie{cookie_});
    });
  });
  BW_TRY(send_message(w, std::string("HelloRetryRequest, ") + std::string(name(choice_.group))));
  hrr_prefix_ = {static_cast<std::uint8_t>(HandshakeType::message_hash), 0, 0,
                 static_cast<std::uint8_t>(ch1.size)};
  hrr_prefix_.insert(hrr_prefix_.end(), ch1.span().begin(), ch1.span().end());
  hrr_prefix_.insert(hrr_prefix_.end(), w.data().begin(), w.data().end());
  // RFC 8446 §D.4: the compatibility CCS right after our first handshake message.
  if (!session_id_.empty()) {
    BW_TRY(conn_.send_change_cipher_spec());
    ccs_sent_ = true;
  }
  conn_.info.hello_retry = true;
  state_ = WaitSecondClientHello{};
  return {};
}

bool Server13::accept_early_data() {
  // RFC 8446 §4.2.10: the first PSK, a ticket that allows 0-RTT, the same suite and ALPN.
  const TicketState& st = *psk_state_;
  if (cfg_->max_early_data == 0 || st.max_early_data == 0 || selected_identity_ != 0 ||
      st.cipher_suite != choice_.suite->id || st.alpn != alpn_) {
    return false;
  }
  // RFC 8446 §8.3: the client's view of the ticket age must match ours within the window.
  const auto now = cfg_->clock();
  const auto expected = st.issued + std::chrono::milliseconds(client_ticket_age_ms_);
  const auto skew = now > expected ? now - expected : expected - now;
  if (skew > TicketKeys::freshness_window) return false;
  // RFC 8446 §8.1: each ClientHello's early data is accepted once.
  return cfg_->tickets->first_use(selected_binder_, now);
}

Result<std::optional<BinderVerified>> Server13::check_psk(const ClientHello& ch,
                                                          const HandshakeMessage& m) {
  BW_ASSIGN(auto offered, ch.extensions.get<OfferedPsks>());
  if (!offered) return std::optional<BinderVerified>{};
  // RFC 8446 §4.2.9: pre_shared_key without psk_key_exchange_modes is fatal.
  if (!ch.extensions.contains(ExtensionType::psk_key_exchange_modes)) {
    return Error(Errc::missing_extension, "pre_shared_key without psk_key_exchange_modes");
  }
  // RFC 8446 §4.2.11: one binder per identity.
  if (offered->identities.size() != offered->binders.size()) {
    return Error(Errc::illegal_parameter, "PSK identities and binders do not pair up");
  }
  if (!cfg_->tickets || !client_psk_dhe_) return std::optional<BinderVerified>{};
  const auto now = cfg_->clock();
  std::size_t index = 0;
  auto binder_it = offered->binders.begin();
  for (const auto& id : offered->identities) {
    const wire::Bytes binder = binder_it->data;
    ++binder_it;
    auto st = cfg_->tickets->open(id.identity, now);
    const CipherSuiteInfo* s = st ? find_cipher_suite(st->cipher_suite) : nullptr;
    // A ticket we cannot use (foreign, expired, other hash, other server name): full
    // handshake, as if it were not offered.
    if (!st || !s || s->hash != hash() || st->server_name != sni_) {
      ++index;
      continue;
    }
    // RFC 8446 §4.2.11.2: the binder covers the transcript up to the binders list.
    BW_ASSIGN(std::size_t prefix, truncated_client_hello_length(m.message));
    BW_ASSIGN(auto h, crypto::Hash::create(hash()));
    BW_TRY(h.update(hrr_prefix_));
    BW_TRY(h.update(m.message.first(prefix)));
    BW_ASSIGN(crypto::Digest th, h.final());
    KeySchedule early(hash());
    BW_TRY(early.start(st->psk.span()));
    BW_ASSIGN(Secret binder_key, early.resumption_binder_key());
    BW_ASSIGN(BinderVerified verified, verify_binder(hash(), binder_key.span(), th.span(), binder));
    // The handshake's own schedule starts from this Early Secret (RFC 8446 §7.1).
    psk_schedule_ = std::move(early);
    // RFC 8446 §4.2.11.1: the client's ticket age, in milliseconds.
    client_ticket_age_ms_ = id.obfuscated_ticket_age - st->age_add;
    selected_binder_.assign(binder.begin(), binder.end());
    psk_state_ = std::move(st);
    conn_.info.resumed = true;
    selected_identity_ = static_cast<std::uint16_t>(index);
    return std::optional<BinderVerified>(verified);
  }
  return std::optional<BinderVerified>{};
}

Status Server13::send_server_flight(const ClientHello& ch, const HandshakeMessage& m,
                                    std::optional<BinderVerified> binder) {
  const CipherSuiteInfo& suite = *choice_.suite;
  auto& rng = *cfg_->random;
  BW_TRY(transcript_.update(m.message));

  // Our key share and the (EC)DHE secret; a bad client share is illegal_parameter.
  BW_ASSIGN(crypto::KeyShare share, crypto::KeyShare::generate(*to_crypto(choice_.group), rng));
  auto shared = share.derive(choice_.client_share->key_exchange);
  if (!shared) return Error(Errc::illegal_parameter, "invalid client key share");

  ServerHello sh;
  BW_TRY(rng.fill(sh.random));
  sh.legacy_session_id_echo = ch.legacy_session_id;
  sh.cipher_suite = suite.id;
  wire::Writer w;
  write_handshake(w, HandshakeType::server_hello, [&](wire::Writer& body) {
    sh.encode(body, [&](ExtensionsWriter& ext) {
      // The order RFC 8448's transcripts show, so they can be compared byte for byte.
      ext.add(KeyShareServerHello{KeyShareEntry{choice_.group, share.public_value()}});
      ext.add(SupportedVersionsServerHello{ProtocolVersion::tls13});
      if (binder) ext.add(PreSharedKeyServerHello{selected_identity_});
    });
  });
  BW_TRY(send_message(w, tracing()
                             ? std::string(suite.name) + ", " + std::string(name(choice_.group)) +
                                   (binder ? ", resumed" : "")
                             : std::string()));
  if (!session_id_.empty() && !ccs_sent_) {
    BW_TRY(conn_.send_change_cipher_spec());  // RFC 8446 §D.4
    ccs_sent_ = true;
  }

  if (binder && psk_schedule_) {
    ks_ = std::move(psk_schedule_);  // already holds the PSK's Early Secret
  } else {
    ks_.emplace(hash());
    BW_TRY(binder ? ks_->start(psk_state_->psk.span()) : ks_->start());
  }
  psk_schedule_.reset();
  BW_TRY(ks_->derive_handshake_secret(shared->span()));
  BW_ASSIGN(crypto::Digest th, transcript_.current());
  BW_ASSIGN(client_hs_, ks_->client_handshake_traffic(th.span()));
  BW_ASSIGN(Secret server_hs, ks_->server_handshake_traffic(th.span()));
  conn_.key_log("CLIENT_HANDSHAKE_TRAFFIC_SECRET", client_random_, client_hs_.span());
  conn_.key_log("SERVER_HANDSHAKE_TRAFFIC_SECRET", client_random_, server_hs.span());
  BW_TRY(conn_.install_write_secret(suite, server_hs.copy()));
  if (early_accepted_) {
    // Early data is sealed with client_early_traffic_secret over the ClientHello alone.
    BW_ASSIGN(crypto::Digest th_ch, crypto::hash(hash(), m.message));
    BW_ASSIGN(Secret early, ks_->client_early_traffic(th_ch.span()));
    conn_.key_log("CLIENT_EARLY_TRAFFIC_SECRET", client_random_, early.span());
    BW_TRY(conn_.install_read_secret(suite, std::move(early)));
    conn_.reading_early_data = true;
    conn_.early_data_budget = cfg_->max_early_data;
  } else {
    BW_TRY(conn_.install_read_secret(suite, client_hs_.copy()));
  }

  auto& info = conn_.info;
  info.version = ProtocolVersion::tls13;
  info.cipher_suite = suite.id;
  info.group = choice_.group;
  info.alpn = alpn_;
  info.server_name = sni_;

  // EncryptedExtensions.
  {
    BW_ASSIGN(auto rsl, ch.extensions.get<RecordSizeLimit>());
    wire::Writer ee;
    write_handshake(ee, HandshakeType::encrypted_extensions, [&](wire::Writer& body) {
      EncryptedExtensions{}.encode(body, [&](ExtensionsWriter& ext) {
        if (!sni_.empty()) ext.add(ServerNameAck{});  // RFC 6066 §3
        if (early_accepted_) ext.add(EarlyDataIndication{});
        if (!alpn_.empty()) ext.add(AlpnSelected{alpn_});
        // RFC 8449 §4: our limit, only in answer to the client's.
        if (rsl && cfg_->record_size_limit != 0) ext.add(RecordSizeLimit{cfg_->record_size_limit});
      });
    });
    BW_TRY(send_message(ee, alpn_.empty() ? std::string() : "ALPN " + alpn_));
  }

  if (!binder) {
    cert_requested_ = cfg_->client_auth != ClientAuth::none;
    if (cert_requested_) {
      wire::Writer cr;
      write_handshake(cr, HandshakeType::certificate_request, [&](wire::Writer& body) {
        body.prefixed_bytes<1>({});  // empty certificate_request_context (RFC 8446 §4.3.2)
        ExtensionsWriter ext(body, 2);
        ext.add(SignatureAlgorithms{ValueList<SignatureScheme>(cfg_->signature_schemes)});
      });
      BW_TRY(send_message(cr));
    }
    const CertifiedKey& ck = *choice_.cert;
    wire::Writer cert;
    write_handshake(cert, HandshakeType::certificate,
                    [&](wire::Writer& body) { write_certificate13(body, {}, ck.chain); });
    // The subject is printed (a libcrypto name walk) only for a trace that shows it.
    BW_TRY(send_message(cert, tracing() ? ck.chain.front().subject() : std::string()));
    BW_ASSIGN(crypto::Digest th_cert, transcript_.current());
    BW_ASSIGN(auto sig, crypto::sign(ck.key, to_crypto(choice_.scheme),
                                     certificate_verify_input(Role::server, th_cert.span())));
    wire::Writer cv;
    write_handshake(cv, CertificateVerify{choice_.scheme, sig});
    BW_TRY(send_message(cv, std::string(name(choice_.scheme))));
  }

  BW_ASSIGN(crypto::Digest th_fin, transcript_.current());
  BW_ASSIGN(crypto::Digest mac, KeySchedule::finished_mac(hash(), server_hs.span(), th_fin.span()));
  wire::Writer fin;
  write_handshake(fin, Finished{mac.span()});
  BW_TRY(send_message(fin));

  // Application secrets over ClientHello..server Finished; we may send from now on.
  BW_TRY(ks_->derive_master_secret());
  BW_ASSIGN(crypto::Digest th_app, transcript_.current());
  BW_ASSIGN(Secret client_ap, ks_->client_application_traffic(th_app.span()));
  BW_ASSIGN(Secret server_ap, ks_->server_application_traffic(th_app.span()));
  BW_ASSIGN(Secret exporter, ks_->exporter_master(th_app.span()));
  conn_.key_log("CLIENT_TRAFFIC_SECRET_0", client_random_, client_ap.span());
  conn_.key_log("SERVER_TRAFFIC_SECRET_0", client_random_, server_ap.span());
  conn_.key_log("EXPORTER_SECRET", client_random_, exporter.span());
  BW_TRY(conn_.install_write_secret(suite, std::move(server_ap)));
  client_ap_ = std::move(client_ap);
  BW_TRY(send_tickets_with_flight(th_app));

  if (cert_requested_) {
    state_ = WaitClientCertificate{};
  } else if (binder) {
    state_ = early_accepted_ ? StateVar(WaitEndOfEarlyData{psk_authenticated(*binder)})
                             : StateVar(WaitClientFinished{psk_authenticated(*binder)});
  } else {
    state_ = WaitClientFinished{client_not_authenticated(cfg_->client_auth)};
  }
  return {};
}

Status Server13::on_client_certificate(const HandshakeMessage& m) {
  BW_ASSIGN(Certificate13 cert, decode_body<Certificate13>(m.body));
  // RFC 8446 §4.4.2: the context echoes the CertificateRequest's (empty here).
  if (!cert.certificate_request_context.empty()) {
    return Error(Errc::illegal_parameter, "client Certificate has a foreign request context");
  }
  if (cert.certificate_list.empty()) {
    // RFC 8446 §4.4.2.4: no certificate when one is required is certificate_required.
    if (cfg_->client_auth == ClientAuth::required) {
      return Error(Errc::certificate_required, "the client sent no certificate");
    }
    BW_TRY(transcript_.update(m.message));
    state_ = WaitClientFinished{client_not_authenticated(cfg_->client_auth)};
    return {};
  }
  BW_ASSIGN(auto chain, verified_client_chain(*cfg_, certificate_ders(cert)));
  conn_.info.peer_certificates = chain;
  BW_TRY(transcript_.update(m.message));
  state_ = WaitClientCertificateVerify{std::move(chain)};
  return {};
}

Status Server13::on_client_certificate_verify(WaitClientCertificateVerify& st,
                                              const HandshakeMessage& m) {
  BW_ASSIGN(CertificateVerify cv, decode_body<CertificateVerify>(m.body));
  BW_ASSIGN(crypto::Digest th, transcript_.current());
  BW_ASSIGN(crypto::PublicKey key, st.chain.front().public_key());
  BW_ASSIGN(PeerAuthenticated peer,
            verify_certificate_verify(key, cv.scheme, cv.signature, cfg_->signature_schemes,
                                      Role::client, th.span()));
  conn_.info.peer_signature_scheme = cv.scheme;
  BW_TRY(transcript_.update(m.message));
  state_ = WaitClientFinished{peer};
  return {};
}

Status Server13::on_client_finished(WaitClientFinished& st, const HandshakeMessage& m) {
  BW_ASSIGN(Finished fin, decode_body<Finished>(m.body, crypto::digest_length(hash())));
  // RFC 8446 §4.4.4: the tickets already sent were derived from the Finished we expected;
  // anything else is decrypt_error all the same.
  std::optional<FinishedVerified> verified;
  if (!expected_client_finished_.empty()) {
    BW_ASSIGN(verified, verify_finished(expected_client_finished_.span(), fin.verify_data));
  } else {
    BW_ASSIGN(crypto::Digest th, transcript_.current());
    BW_ASSIGN(verified, verify_finished(hash(), client_hs_.span(), th.span(), fin.verify_data));
  }
  BW_TRY(conn_.install_read_secret(*choice_.suite, std::move(client_ap_)));
  const bool tickets_due = expected_client_finished_.empty();
  if (tickets_due) {
    BW_TRY(transcript_.update(m.message));
    BW_ASSIGN(crypto::Digest th_res, transcript_.current());
    BW_ASSIGN(resumption_master_, ks_->resumption_master(th_res.span()));
  }
  client_hs_.clear();
  const PeerAuthenticated peer = st.peer;
  state_ = Connected{};
  conn_.established(peer, *verified);
  if (tickets_due) BW_TRY(send_tickets());
  release_handshake_state();
  return {};
}

// RFC 8446 §4.6.1: "a server which does not request client authentication MAY compute the
// remainder of the transcript independently and then send a NewSessionTicket immediately upon
// sending its Finished rather than waiting for the client Finished." The tickets then leave
// with the server's flight: one write and one wake-up of the client less per handshake, and
// a client that closes right after its handshake (s_time) has read them. Not with a client
// certificate (its messages are not known in advance) nor with 0-RTT (EndOfEarlyData).
Status Server13::send_tickets_with_flight(const crypto::Digest& th_server_finished) {
  if (!tickets_wanted() || cert_requested_ || early_accepted_) return {};
  BW_ASSIGN(crypto::Digest client_mac,
            KeySchedule::finished_mac(hash(), client_hs_.span(), th_server_finished.span()));
  wire::Writer fin;
  write_handshake(fin, Finished{client_mac.span()});
  BW_TRY(fin.status());
  BW_ASSIGN(crypto::Digest th_res, transcript_.current_with(fin.data()));
  BW_ASSIGN(resumption_master_, ks_->resumption_master(th_res.span()));
  BW_TRY(send_tickets());
  expected_client_finished_ = Secret(client_mac.span());
  return {};
}

// Once the tickets are out, nothing derives from the handshake's secrets or its transcript any
// more (KeyUpdate starts from the traffic secrets the connection holds, and there is no
// post-handshake authentication): they go now rather than with the connection, so that an
// idle connection holds neither that key material nor its memory.
void Server13::release_handshake_state() {
  ks_.reset();
  transcript_ = crypto::Transcript();
  resumption_master_ = Secret();
  expected_client_finished_ = Secret();
  psk_state_.reset();
  std::vector<std::uint8_t>().swap(cookie_);
  std::vector<std::uint8_t>().swap(hrr_prefix_);
  std::vector<std::uint8_t>().swap(selected_binder_);
  std::vector<std::uint8_t>().swap(session_id_);
}

bool Server13::tickets_wanted() const {
  // Tickets only for clients that can use them (psk_dhe_ke, the one mode we accept).
  return cfg_->tickets && client_psk_dhe_ && cfg_->tickets_per_handshake > 0;
}

Status Server13::send_tickets() {
  if (!tickets_wanted()) return {};
  const auto now = cfg_->clock();
  for (std::size_t i = 0; i < cfg_->tickets_per_handshake; ++i) {
    const std::uint8_t nonce[1] = {tickets_sent_++};
    TicketState st;
    st.cipher_suite = choice_.suite->id;
    BW_ASSIGN(st.psk, KeySchedule::resumption_psk(hash(), resumption_master_.span(), nonce));
    std::uint8_t age_add[4];
    BW_TRY(cfg_->random->fill(age_add));
    st.age_add = (std::uint32_t{age_add[0]} << 24) | (std::uint32_t{age_add[1]} << 16) |
                 (std::uint32_t{age_add[2]} << 8) | age_add[3];
    // RFC 8446 §4.6.1: a lifetime of at most seven days.
    st.lifetime = std::min(cfg_->ticket_lifetime, max_ticket_lifetime);
    st.issued = now;
    st.alpn = alpn_;
    st.server_name = sni_;
    st.max_early_data = cfg_->max_early_data;
    BW_ASSIGN(auto ticket, cfg_->tickets->seal(st, now));
    NewSessionTicket13 nst;
    nst.ticket_lifetime = st.lifetime;
    nst.ticket_age_add = st.age_add;
    nst.ticket_nonce = nonce;
    nst.ticket = ticket;
    // RFC 8446 §4.6.1: early_data in a ticket says how much 0-RTT it allows.
    const std::uint8_t max_early[4] = {static_cast<std::uint8_t>(st.max_early_data >> 24),
                                       static_cast<std::uint8_t>(st.max_early_data >> 16),
                                       static_cast<std::uint8_t>(st.max_early_data >> 8),
                                       static_cast<std::uint8_t>(st.max_early_data)};
    const Extension ext[] = {Extension{ExtensionType::early_data, max_early}};
    if (st.max_early_data != 0) nst.extensions = ExtensionBlock(ext);
    wire::Writer w;
    write_handshake(w, nst);
    BW_TRY(w.status());
    BW_TRY(conn_.send_handshake(w.data()));
  }
  return {};
}

}  // namespace

std::unique_ptr<Handshaker> make_server13(Connection::Impl& conn,
                                          std::shared_ptr<const ServerConfig> config) {
  return std::make_unique<Server13>(conn, std::move(config));
}

}  // namespace bulwark::tls
