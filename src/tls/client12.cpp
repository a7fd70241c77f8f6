// The TLS 1.2 client handshake (RFC 5246 §7.3, RFC 8422, RFC 7627, RFC 5746, RFC 5077): the
// server answered our ClientHello with TLS 1.2. Full ECDHE handshake (under the legacy policy
// also DHE_RSA or RSA key transport) or abbreviated resumption.
#include <algorithm>
#include <variant>

#include "bulwark/crypto/ffdhe.hpp"
#include "bulwark/crypto/key_share.hpp"
#include "bulwark/crypto/key_transport.hpp"
#include "tls/tls12.hpp"

namespace bulwark::tls {

namespace {

using crypto::Secret;

class Client12 final : public Handshaker {
 public:
  Client12(Connection::Impl& conn, std::shared_ptr<const ClientConfig> cfg, std::string name,
           ClientHelloContext ctx)
      : conn_(conn), cfg_(std::move(cfg)), server_name_(std::move(name)), ctx_(std::move(ctx)) {}

  Status start() override { return {}; }
  Status on_message(const HandshakeMessage& m) override;
  Status on_post_handshake(const HandshakeMessage& m) override;
  Status on_change_cipher_spec() override;
  bool accepts_change_cipher_spec() const override { return false; }

 private:
  struct WaitServerHello {
    static constexpr HandshakeType expected[] = {HandshakeType::server_hello};
  };
  struct WaitCertificate {
    static constexpr HandshakeType expected[] = {HandshakeType::certificate};
  };
  struct WaitServerKeyExchange {
    static constexpr HandshakeType expected[] = {HandshakeType::server_key_exchange};
  };
  // The server is authenticated by its ServerKeyExchange signature; with RSA key transport
  // (no signature) only by its Finished, which proves it decrypted our secret.
  struct WaitCertificateRequestOrDone {
    static constexpr HandshakeType expected[] = {HandshakeType::certificate_request,
                                                 HandshakeType::server_hello_done};
    std::optional<PeerAuthenticated> peer;
  };
  struct WaitServerHelloDone {
    static constexpr HandshakeType expected[] = {HandshakeType::server_hello_done};
    std::optional<PeerAuthenticated> peer;
  };
  // After our flight (or the abbreviated ServerHello): a ticket may come, then CCS. The peer
  // is authenticated by its certificate, or (resumption) by the Finished it is about to send.
  struct WaitChangeCipherSpec {
    static constexpr HandshakeType expected[] = {HandshakeType::new_session_ticket};
    std::optional<PeerAuthenticated> peer;
  };
  struct WaitFinished {
    static constexpr HandshakeType expected[] = {HandshakeType::finished};
    std::optional<PeerAuthenticated> peer;
  };
  struct Connected {
    static constexpr HandshakeType expected[] = {HandshakeType::hello_request};
  };
  using StateVar = std::variant<WaitServerHello, WaitCertificate, WaitServerKeyExchange,
                                WaitCertificateRequestOrDone, WaitServerHelloDone,
                                WaitChangeCipherSpec, WaitFinished, Connected>;

  Status on_server_hello(const HandshakeMessage& m);
  Status on_certificate(const HandshakeMessage& m);
  Status on_server_key_exchange(const HandshakeMessage& m);
  Status on_certificate_request(const HandshakeMessage& m);
  Status on_server_hello_done(const std::optional<PeerAuthenticated>& peer);
  Status on_server_key_exchange_dhe(const HandshakeMessage& m);
  Status send_client_key_exchange();
  Status on_new_session_ticket(const HandshakeMessage& m);
  Status on_finished(WaitFinished& st, const HandshakeMessage& m);
  Status send_ccs_and_finished();
  Status record_message(wire::Bytes message);
  Status store_session();
  // Established (and the session stored): what only the handshake needed goes (an idle
  // connection keeps its record ciphers only). Renegotiation is refused, so nothing reads it.
  void release_handshake_state() noexcept;
  bool offered(ExtensionType t) const {
    return std::find(ctx_.offered.begin(), ctx_.offered.end(), t) != ctx_.offered.end();
  }

  Connection::Impl& conn_;
  std::shared_ptr<const ClientConfig> cfg_;
  std::string server_name_;
  ClientHelloContext ctx_;
  StateVar state_ = WaitServerHello{};

  const CipherSuiteInfo* suite_ = nullptr;
  HelloRandom server_random_{};
  std::vector<std::uint8_t> server_session_id_;
  crypto::Transcript transcript_;
  std::vector<std::uint8_t> messages_;  // the raw handshake, for a client CertificateVerify
  std::vector<crypto::Certificate> chain_;
  std::optional<crypto::KeyShare> share_;
  std::optional<crypto::DhKeyShare> dh_share_;
  std::vector<CipherSuite> suites_ = enabled_cipher_suites(*cfg_);
  std::vector<NamedGroup> groups_ = enabled_groups(*cfg_);
  Secret pre_master_;
  Secret master_;
  std::unique_ptr<crypto::Hmac> master_mac_;  // keyed with master_, once (~700 bytes)
  std::optional<RecordCiphers12> ciphers_;
  bool abbreviated_ = false;
  bool ticket_expected_ = false;
  std::vector<std::uint8_t> new_ticket_;
  std::uint32_t ticket_lifetime_ = 0;
  bool cert_requested_ = false;
  std::vector<SignatureScheme> server_schemes_;
  bool sent_finished_ = false;
};

Status Client12::record_message(wire::Bytes message) {
  BW_TRY(transcript_.update(message));
  messages_.insert(messages_.end(), message.begin(), message.end());
  return {};
}

Status Client12::on_message(const HandshakeMessage& m) {
  // RFC 5246 §7.4.1.1: a HelloRequest during a handshake is ignored (and not hashed).
  if (m.type == HandshakeType::hello_request) return {};
  const bool allowed =
      std::visit([&](const auto& st) { return expects(st.expected, m.type); }, state_);
  if (!allowed || std::holds_alternative<Connected>(state_)) {
    return Error(Errc::unexpected_message,
                 std::string("unexpected handshake message ") + std::string(name(m.type)));
  }
  if (std::holds_alternative<WaitServerHello>(state_)) return on_server_hello(m);
  if (std::holds_alternative<WaitCertificate>(state_)) return on_certificate(m);
  if (std::holds_alternative<WaitServerKeyExchange>(state_)) return on_server_key_exchange(m);
  if (auto* st = std::get_if<WaitCertificateRequestOrDone>(&state_)) {
    if (m.type == HandshakeType::certificate_request) return on_certificate_request(m);
    BW_ASSIGN(ServerHelloDone done, decode_body<ServerHelloDone>(m.body));
    (void)done;
    BW_TRY(record_message(m.message));
    return on_server_hello_done(st->peer);
  }
  if (auto* st = std::get_if<WaitServerHelloDone>(&state_)) {
    BW_ASSIGN(ServerHelloDone done, decode_body<ServerHelloDone>(m.body));
    (void)done;
    BW_TRY(record_message(m.message));
    return on_server_hello_done(st->peer);
  }
  if (std::holds_alternative<WaitChangeCipherSpec>(state_)) return on_new_session_ticket(m);
  return on_finished(std::get<WaitFinished>(state_), m);
}

Status Client12::on_server_hello(const HandshakeMessage& m) {
  BW_ASSIGN(ServerHello sh, decode_body<ServerHello>(m.body));
  // RFC 5246 §7.4.1.3: a suite we offered, for TLS 1.2; null compression.
  const CipherSuiteInfo* suite = find_cipher_suite(sh.cipher_suite);
  if (!suite || suite->version != ProtocolVersion::tls12 ||
      std::find(suites_.begin(), suites_.end(), sh.cipher_suite) == suites_.end()) {
    return Error(Errc::illegal_parameter, "the server selected a cipher suite we did not offer");
  }
  if (sh.legacy_compression_method != 0) {
    return Error(Errc::illegal_parameter, "ServerHello selected compression");  // CRIME
  }
  for (const auto& e : sh.extensions) {
    // RFC 5246 §7.4.1.4: an extension the client did not offer is unsupported_extension.
    if (!offered(e.type)) {
      return Error(Errc::unsupported_extension, std::string("the server sent extension ") +
                                                    std::string(name(e.type)) +
                                                    " which was not offered");
    }
  }
  // RFC 5746 §3.4: a server without renegotiation_info is a legacy server; we refuse it, as
  // OpenSSL does by default. On an initial handshake the extension must be empty.
  BW_ASSIGN(auto reneg, sh.extensions.get<RenegotiationInfo>());
  if (!reneg) {
    return Error(Errc::handshake_failure, "the server does not support secure renegotiation");
  }
  if (!reneg->renegotiated_connection.empty()) {
    return Error(Errc::handshake_failure, "renegotiation_info is not empty on a new connection");
  }
  conn_.info.secure_renegotiation = true;
  // RFC 7627 §5.3: without the extended master secret, the session is open to triple
  // handshake attacks; we require it by default.
  const bool ems = sh.extensions.contains(ExtensionType::extended_master_secret);
  if (!ems && cfg_->require_extended_master_secret) {
    return Error(Errc::handshake_failure, "the server does not use the extended master secret");
  }
  BW_ASSIGN(auto formats, sh.extensions.get<EcPointFormats>());
  (void)formats;  // the decoder insists on the uncompressed format (RFC 8422 §5.1.2)
  BW_ASSIGN(auto alpn, sh.extensions.get<AlpnSelected>());
  if (alpn) {
    if (std::find(cfg_->alpn.begin(), cfg_->alpn.end(), alpn->protocol) == cfg_->alpn.end()) {
      return Error(Errc::illegal_parameter, "the server selected an ALPN protocol not offered");
    }
    conn_.info.alpn = std::string(alpn->protocol);
  }
  BW_ASSIGN(auto hb, sh.extensions.get<HeartbeatExtension>());
  if (hb && cfg_->heartbeat) {
    conn_.info.heartbeat = true;
    conn_.heartbeat_peer_may_send = true;  // we said peer_allowed_to_send
    conn_.heartbeat_we_may_send = hb->mode == HeartbeatMode::peer_allowed_to_send;
  }
  ticket_expected_ = sh.extensions.contains(ExtensionType::session_ticket);

  suite_ = suite;
  std::copy(sh.random.begin(), sh.random.end(), server_random_.begin());
  server_session_id_.assign(sh.legacy_session_id_echo.begin(), sh.legacy_session_id_echo.end());
  conn_.tls12 = true;
  conn_.tx.set_version(ProtocolVersion::tls12);
  conn_.info.version = ProtocolVersion::tls12;
  conn_.info.cipher_suite = suite->id;
  conn_.info.extended_master_secret = ems;
  BW_TRY(transcript_.bind(suite->hash));
  BW_TRY(record_message(ctx_.client_hello));
  BW_TRY(record_message(m.message));

  // Abbreviated handshake: the server echoed the session id of the session we offered.
  const auto& offered_session = ctx_.session;
  if (offered_session && !server_session_id_.empty() &&
      std::equal(server_session_id_.begin(), server_session_id_.end(), ctx_.session_id.begin(),
                 ctx_.session_id.end())) {
    // RFC 5246 §7.4.1.3: the resumed session's suite; RFC 7627 §5.3: and its EMS status.
    if (offered_session->cipher_suite != suite->id || !ems) {
      return Error(Errc::illegal_parameter, "the resumed session does not match the offer");
    }
    abbreviated_ = true;
    master_ = offered_session->psk.copy();
    conn_.info.resumed = true;
    conn_.trace_detail = std::string(suite->name) + ", resumed";
    BW_ASSIGN(crypto::Hmac master_mac, master_secret_mac12(*suite, master_.span()));
    master_mac_ = std::make_unique<crypto::Hmac>(std::move(master_mac));
    BW_ASSIGN(ciphers_,
              key_block12(*suite, *master_mac_, ctx_.random, server_random_, *cfg_->random));
    // The server proves the session by its Finished.
    state_ = WaitChangeCipherSpec{};
    return {};
  }
  conn_.trace_detail = std::string(suite->name);
  state_ = WaitCertificate{};
  return {};
}

Status Client12::on_certificate(const HandshakeMessage& m) {
  BW_ASSIGN(Certificate12 cert, decode_body<Certificate12>(m.body));
  if (cert.certificate_list.empty())
    return Error(Errc::truncated, "the server sent no certificate");
  BW_ASSIGN(chain_, verified_server_chain(*cfg_, certificate_ders(cert), server_name_));
  conn_.info.peer_certificates = chain_;
  BW_TRY(record_message(m.message));
  if (suite_->kx == KeyExchange::rsa) {
    // RFC 5246 §7.4.2: RSA key transport encrypts to the leaf's key, which must be
    // rsaEncryption with keyEncipherment allowed; no ServerKeyExchange follows (§7.4.3).
    BW_ASSIGN(crypto::PublicKey key, chain_.front().public_key());
    if (key.type() != crypto::KeyType::rsa || !chain_.front().allows_key_encipherment()) {
      return Error(Errc::cert_wrong_purpose,
                   "the server certificate's key cannot be used for RSA key transport");
    }
    state_ = WaitCertificateRequestOrDone{std::nullopt};
    return {};
  }
  state_ = WaitServerKeyExchange{};
  return {};
}

Status Client12::on_server_key_exchange(const HandshakeMessage& m) {
  if (suite_->kx == KeyExchange::dhe_rsa) return on_server_key_exchange_dhe(m);
  BW_ASSIGN(ServerKeyExchangeEcdhe ske, decode_body<ServerKeyExchangeEcdhe>(m.body));
  // RFC 8422 §5.4: a group we offered.
  const auto group = to_crypto(ske.group);
  if (!group || std::find(groups_.begin(), groups_.end(), ske.group) == groups_.end()) {
    return Error(Errc::illegal_parameter, "the server chose a group we did not offer");
  }
  // RFC 5246 §7.4.3: the signature over both randoms and the parameters, made with the
  // certificate's key, authenticates the server.
  BW_ASSIGN(crypto::PublicKey key, chain_.front().public_key());
  const auto signed_data = server_key_exchange_signed_data(ctx_.random, server_random_, ske.params);
  BW_ASSIGN(PeerAuthenticated peer, verify_signature12(key, ske.scheme, signed_data, ske.signature,
                                                       cfg_->signature_schemes, suite_->kx));
  conn_.info.peer_signature_scheme = ske.scheme;
  conn_.info.group = ske.group;
  BW_ASSIGN(share_, crypto::KeyShare::generate(*group, *cfg_->random));
  auto shared = share_->derive(ske.public_point);
  if (!shared) return Error(Errc::illegal_parameter, "invalid server ECDHE public value");
  pre_master_ = std::move(shared).value();
  BW_TRY(record_message(m.message));
  conn_.trace_detail = std::string(name(ske.group)) + ", " + std::string(name(ske.scheme));
  state_ = WaitCertificateRequestOrDone{peer};
  return {};
}

Status Client12::on_server_key_exchange_dhe(const HandshakeMessage& m) {
  BW_ASSIGN(ServerKeyExchangeDhe ske, decode_body<ServerKeyExchangeDhe>(m.body));
  // RFC 5246 §7.4.3: the signature authenticates the parameters before we use them.
  BW_ASSIGN(crypto::PublicKey key, chain_.front().public_key());
  const auto signed_data = server_key_exchange_signed_data(ctx_.random, server_random_, ske.params);
  BW_ASSIGN(PeerAuthenticated peer, verify_signature12(key, ske.scheme, signed_data, ske.signature,
                                                       cfg_->signature_schemes, suite_->kx));
  conn_.info.peer_signature_scheme = ske.scheme;
  // Logjam: a prime under 2048 bits is insufficient_security; any other prime up to 8192
  // bits is accepted (docs/DECISIONS.md), an RFC 7919 group recognised as such.
  BW_ASSIGN(dh_share_, crypto::DhKeyShare::generate_for(ske.dh_p, ske.dh_g, *cfg_->random));
  auto shared = dh_share_->derive(ske.dh_ys);
  // RFC 7919 §5.1: the server's value must lie in 1 < Ys < p-1 (and its subgroup, if known).
  if (!shared) return Error(Errc::illegal_parameter, "invalid server DHE public value");
  pre_master_ = std::move(shared).value();
  if (dh_share_->group()) conn_.info.group = static_cast<NamedGroup>(*dh_share_->group());
  BW_TRY(record_message(m.message));
  conn_.trace_detail =
      (dh_share_->group() ? std::string(crypto::ffdhe_group_name(*dh_share_->group()))
                          : std::to_string(dh_share_->prime_bits()) + "-bit DH") +
      ", " + std::string(name(ske.scheme));
  state_ = WaitCertificateRequestOrDone{peer};
  return {};
}

Status Client12::on_certificate_request(const HandshakeMessage& m) {
  BW_ASSIGN(CertificateRequest12 cr, decode_body<CertificateRequest12>(m.body));
  server_schemes_.assign(cr.supported_signature_algorithms.begin(),
                         cr.supported_signature_algorithms.end());
  cert_requested_ = true;
  BW_TRY(record_message(m.message));
  auto peer = std::get<WaitCertificateRequestOrDone>(state_).peer;
  state_ = WaitServerHelloDone{peer};
  return {};
}

Status Client12::on_server_hello_done(const std::optional<PeerAuthenticated>& peer) {
  // Our flight: [Certificate] ClientKeyExchange [CertificateVerify] ChangeCipherSpec Finished.
  const CertifiedKey* ck = nullptr;
  std::optional<SignatureScheme> scheme;
  if (cert_requested_) {
    if (cfg_->certificate) {
      scheme = choose_signature_scheme12(cfg_->certificate->key, cfg_->signature_schemes,
                                         ValueList<SignatureScheme>(server_schemes_));
      if (scheme) ck = &*cfg_->certificate;
    }
    // RFC 5246 §7.4.6: without a suitable certificate, an empty Certificate message.
    std::vector<Asn1Cert> certs;
    if (ck) {
      for (const auto& c : ck->chain)
        certs.push_back(Asn1Cert{c.der()});
    }
    wire::Writer w;
    write_handshake(w, Certificate12{EntryList<Asn1Cert>(certs)});
    BW_TRY(w.status());
    BW_TRY(record_message(w.data()));
    BW_TRY(conn_.send_handshake(w.data(), ck ? "client certificate" : "no client certificate"));
  }
  BW_TRY(send_client_key_exchange());
  // RFC 7627 §3: session_hash covers the handshake up to and including ClientKeyExchange.
  BW_ASSIGN(crypto::Digest session_hash, transcript_.current());
  BW_ASSIGN(master_,
            conn_.info.extended_master_secret
                ? extended_master_secret(*suite_, pre_master_.span(), session_hash.span())
                : master_secret12(*suite_, pre_master_.span(), ctx_.random, server_random_));
  pre_master_.clear();
  conn_.key_log("CLIENT_RANDOM", ctx_.random, master_.span());
  BW_ASSIGN(crypto::Hmac master_mac, master_secret_mac12(*suite_, master_.span()));
  master_mac_ = std::make_unique<crypto::Hmac>(std::move(master_mac));
  BW_ASSIGN(ciphers_,
            key_block12(*suite_, *master_mac_, ctx_.random, server_random_, *cfg_->random));
  if (ck) {
    // RFC 5246 §7.4.8: the signature covers every handshake message so far.
    BW_ASSIGN(auto sig, crypto::sign(ck->key, to_crypto(*scheme), messages_));
    wire::Writer w;
    write_handshake(w, CertificateVerify{*scheme, sig});
    BW_TRY(w.status());
    BW_TRY(record_message(w.data()));
    BW_TRY(conn_.send_handshake(w.data(), std::string(name(*scheme))));
  }
  BW_TRY(send_ccs_and_finished());
  state_ = WaitChangeCipherSpec{peer};
  return {};
}

Status Client12::send_client_key_exchange() {
  wire::Writer w;
  switch (suite_->kx) {
    case KeyExchange::rsa: {
      // RFC 5246 §7.4.7.1: client_version (as in our ClientHello) || 46 random bytes,
      // RSAES-PKCS1-v1_5-encrypted to the server certificate's key.
      pre_master_.resize(crypto::tls_premaster_secret_size);
      pre_master_.data()[0] = 0x03;
      pre_master_.data()[1] = 0x03;
      BW_TRY(cfg_->random->fill(pre_master_.span().subspan(2)));
      BW_ASSIGN(crypto::PublicKey key, chain_.front().public_key());
      BW_ASSIGN(auto encrypted, crypto::rsa_pkcs1_encrypt(key, pre_master_, *cfg_->random));
      write_handshake(w, ClientKeyExchange{ClientKeyExchange::Form::rsa, encrypted});
      break;
    }
    case KeyExchange::dhe_rsa:
      write_handshake(w,
                      ClientKeyExchange{ClientKeyExchange::Form::dhe, dh_share_->public_value()});
      break;
    default:
      write_handshake(w, ClientKeyExchange{ClientKeyExchange::Form::ecdhe, share_->public_value()});
      break;
  }
  BW_TRY(w.status());
  BW_TRY(record_message(w.data()));
  return conn_.send_handshake(w.data());
}

Status Client12::send_ccs_and_finished() {
  BW_TRY(conn_.send_change_cipher_spec());
  conn_.install_write_cipher12(std::move(ciphers_->client_write));
  BW_ASSIGN(crypto::Digest th, transcript_.current());
  BW_ASSIGN(auto verify_data, finished12(*master_mac_, Role::client, th.span()));
  wire::Writer w;
  write_handshake(w, Finished{verify_data});
  BW_TRY(w.status());
  BW_TRY(record_message(w.data()));
  BW_TRY(conn_.send_handshake(w.data()));
  BW_TRY(conn_.flush());
  sent_finished_ = true;
  return {};
}

Status Client12::on_new_session_ticket(const HandshakeMessage& m) {
  // RFC 5077 §3.3: only when the server said so in its ServerHello.
  if (!ticket_expected_) {
    return Error(Errc::unexpected_message, "NewSessionTicket without session_ticket");
  }
  BW_ASSIGN(NewSessionTicket12 nst, decode_body<NewSessionTicket12>(m.body));
  new_ticket_.assign(nst.ticket.begin(), nst.ticket.end());
  ticket_lifetime_ = nst.ticket_lifetime_hint;
  BW_TRY(record_message(m.message));
  ticket_expected_ = false;  // one ticket per handshake
  return {};
}

Status Client12::on_change_cipher_spec() {
  auto* st = std::get_if<WaitChangeCipherSpec>(&state_);
  // RFC 5246 §7.1: CCS comes after the server's (ticket and) flight, once per handshake; a
  // server that promised a ticket must send it first (RFC 5077 §3.3).
  if (!st || ticket_expected_) {
    return Error(Errc::unexpected_message, "unexpected change_cipher_spec");
  }
  conn_.install_read_cipher12(std::move(ciphers_->server_write));
  state_ = WaitFinished{st->peer};
  return {};
}

Status Client12::on_finished(WaitFinished& st, const HandshakeMessage& m) {
  BW_ASSIGN(Finished fin, decode_body<Finished>(m.body, 12));
  BW_ASSIGN(crypto::Digest th, transcript_.current());
  BW_ASSIGN(auto expect, finished12(*master_mac_, Role::server, th.span()));
  BW_ASSIGN(FinishedVerified verified, verify_finished(expect, fin.verify_data));
  BW_TRY(record_message(m.message));
  if (abbreviated_) {
    // RFC 5246 §7.3: in the abbreviated handshake the client finishes second.
    BW_TRY(send_ccs_and_finished());
  }
  // Without a signature the Finished authenticates: the session's (resumption) or the one only
  // the holder of the certificate's key could compute (RSA key transport).
  const PeerAuthenticated peer = st.peer        ? *st.peer
                                 : abbreviated_ ? server_psk_authenticated(verified)
                                                : server_key_transport_authenticated(verified);
  state_ = Connected{};
  conn_.established(peer, verified);
  if (cfg_->insecure_skip_verification) conn_.info.peer_verified = false;
  const Status stored = store_session();
  release_handshake_state();
  return stored;
}

void Client12::release_handshake_state() noexcept {
  ctx_ = ClientHelloContext();
  std::vector<std::uint8_t>().swap(server_session_id_);
  transcript_ = crypto::Transcript();
  std::vector<std::uint8_t>().swap(messages_);
  std::vector<crypto::Certificate>().swap(chain_);  // info.peer_certificates keeps the chain
  share_.reset();
  dh_share_.reset();
  std::vector<CipherSuite>().swap(suites_);
  std::vector<NamedGroup>().swap(groups_);
  pre_master_ = Secret();  // wiped
  master_ = Secret();
  master_mac_.reset();
  ciphers_.reset();
  std::vector<std::uint8_t>().swap(new_ticket_);
  std::vector<SignatureScheme>().swap(server_schemes_);
}

Status Client12::store_session() {
  // RFC 7627 §5.3: a session without the extended master secret is not offered again.
  if (!cfg_->sessions || !conn_.info.extended_master_secret) return {};
  // Something to resume with: a ticket (new, or the one that just worked) or a session id.
  std::vector<std::uint8_t> ticket = new_ticket_;
  if (ticket.empty() && abbreviated_ && ctx_.session) ticket = ctx_.session->ticket;
  if (ticket.empty() && server_session_id_.empty()) return {};
  StoredSession s;
  s.version = ProtocolVersion::tls12;
  s.cipher_suite = suite_->id;
  s.ticket = std::move(ticket);
  s.session_id = server_session_id_;
  s.psk = master_.copy();
  s.lifetime = ticket_lifetime_ != 0 ? std::min<std::uint32_t>(ticket_lifetime_, 86400) : 7200;
  s.received = cfg_->clock();
  s.alpn = conn_.info.alpn;
  cfg_->sessions->put(server_name_, std::move(s));
  return {};
}

Status Client12::on_post_handshake(const HandshakeMessage& m) {
  return conn_.refuse_renegotiation(m);
}

}  // namespace

std::unique_ptr<Handshaker> make_client12(Connection::Impl& conn,
                                          std::shared_ptr<const ClientConfig> config,
                                          std::string server_name, ClientHelloContext ctx) {
  return std::make_unique<Client12>(conn, std::move(config), std::move(server_name),
                                    std::move(ctx));
}

}  // namespace bulwark::tls
