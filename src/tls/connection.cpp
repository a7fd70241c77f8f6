// The connection core: records in and out, handshake message framing, alerts, application
// data, KeyUpdate, closure. Role- and version-specific logic lives in the handshakers.
#include <algorithm>
#include <cstring>
#include <utility>

#include "tls/handshake.hpp"

namespace bulwark::tls {

using crypto::Secret;

// ---- errors to alerts, in one place (DESIGN.md habit 5) ------------------------------------

AlertDescription alert_for(Errc code) noexcept {
  switch (code) {
    case Errc::truncated:
    case Errc::trailing_data:
    case Errc::length_overflow:
      return AlertDescription::decode_error;
    case Errc::bad_record_mac:
      return AlertDescription::bad_record_mac;
    case Errc::invalid_public_value:
    case Errc::invalid_key:
    case Errc::illegal_parameter:
      return AlertDescription::illegal_parameter;
    case Errc::bad_signature:
    case Errc::decrypt_error:
      return AlertDescription::decrypt_error;
    case Errc::decode_failed:
    case Errc::cert_bad_signature:
    case Errc::cert_hostname_mismatch:
    case Errc::cert_invalid:
      return AlertDescription::bad_certificate;
    case Errc::cert_expired:
    case Errc::cert_not_yet_valid:
      return AlertDescription::certificate_expired;
    case Errc::cert_unknown_ca:
      return AlertDescription::unknown_ca;
    case Errc::cert_wrong_purpose:
      return AlertDescription::unsupported_certificate;
    case Errc::unexpected_message:
    case Errc::limit_exceeded:
      return AlertDescription::unexpected_message;
    case Errc::missing_extension:
      return AlertDescription::missing_extension;
    case Errc::unsupported_extension:
      return AlertDescription::unsupported_extension;
    case Errc::unsupported:
    case Errc::handshake_failure:
      return AlertDescription::handshake_failure;
    case Errc::protocol_version:
      return AlertDescription::protocol_version;
    case Errc::insufficient_security:
      return AlertDescription::insufficient_security;
    case Errc::record_overflow:
      return AlertDescription::record_overflow;
    case Errc::certificate_required:
      return AlertDescription::certificate_required;
    case Errc::no_application_protocol:
      return AlertDescription::no_application_protocol;
    case Errc::inappropriate_fallback:
      return AlertDescription::inappropriate_fallback;
    case Errc::capacity_exceeded:
    case Errc::invalid_argument:
    case Errc::io_error:
    case Errc::crypto_failure:
    case Errc::bad_passphrase:
    case Errc::peer_alert:
    case Errc::closed:
    case Errc::truncated_connection:
    case Errc::timed_out:
      return AlertDescription::internal_error;
  }
  return AlertDescription::internal_error;
}

namespace {

bool is_internal(Errc c) {
  return c == Errc::capacity_exceeded || c == Errc::invalid_argument || c == Errc::io_error ||
         c == Errc::crypto_failure || c == Errc::bad_passphrase;
}

// RFC 8446 §4.2.10: a server that refused 0-RTT skips records it cannot open with the
// handshake key, up to a limit.
bool skips_refused_early_data(Connection::Impl& im, const Error& e) {
  if (e.code() != Errc::bad_record_mac || !im.handshaker || !im.handshaker->skipping_early_data()) {
    return false;
  }
  im.early_data_skipped += max_plaintext;
  return im.early_data_skipped <= im.cfg().limits.max_early_data_skipped;
}

// Reads application data into `out`: held bytes first, then further records, each opened
// straight into what is left of `out` when its whole plaintext fits there (no copy out of the
// receive buffer). Stops when `out` is full and data is waiting, when more bytes are needed,
// or at a fatal error, which it records (the connection fails; the bytes read before it are
// still returned, and the error with the next call).
std::size_t read_into(Connection::Impl& im, std::span<std::uint8_t> out) {
  std::size_t total = 0;
  while (!im.failure) {
    const wire::MutableBytes held = im.rx.held();
    if (!held.empty()) {
      if (total == out.size()) break;
      const std::size_t n = std::min(held.size(), out.size() - total);
      std::memcpy(out.data() + total, held.data(), n);
      im.rx.consume_held(n);
      total += n;
      continue;
    }
    if (im.rx.buffered() == 0) break;  // nothing more to open (the common end of a call)
    const wire::MutableBytes dest = out.subspan(total);
    auto next = im.rx.next(dest);
    if (!next) {
      if (skips_refused_early_data(im, next.error())) continue;
      (void)im.fail(std::move(next).error());
      break;
    }
    if (!next->has_value()) break;
    Status handled = im.on_record(**next);
    const std::size_t delivered = im.rx.take_delivered();
    if (handled && delivered != 0) {
      total += delivered;
    } else if (const std::size_t used = im.rx.opened_into_dest(); used != 0) {
      // A handshake message, alert or refused data that was opened into the caller's buffer:
      // handled now, and nothing of it stays there.
      crypto::wipe(dest.first(used));
    }
    if (!handled) (void)im.fail(std::move(handled).error());
  }
  return total;
}

}  // namespace

// ---- Impl ----------------------------------------------------------------------------------

Connection::Impl::Impl(Role r, std::shared_ptr<const Config> c) : role(r), config(std::move(c)) {
  // RFC 8446 §5.1: legacy_record_version 0x0301 in an initial ClientHello is the most
  // compatible choice; everything else says 0x0303.
  tx.set_version(role == Role::client ? ProtocolVersion::tls10 : ProtocolVersion::tls12);
  rx.set_accept_cleartext_alerts(true);
  if (cfg().record_size_limit != 0) {
    // RFC 8449 §4: in TLS 1.3 the limit counts the inner content type too.
    rx.set_max_plaintext(std::min<std::size_t>(cfg().record_size_limit - 1u, max_plaintext));
  }
}

Connection::Impl::~Impl() = default;

Status Connection::Impl::check_failed() const {
  if (failure) return failure->error;
  return {};
}

void Connection::Impl::send_alert(AlertLevel level, AlertDescription d) {
  const std::uint8_t body[2] = {static_cast<std::uint8_t>(level), static_cast<std::uint8_t>(d)};
  // Best effort: a key at its usage limit cannot carry even the alert.
  (void)tx.write(ContentType::alert, body, out);
}

Error Connection::Impl::fail(Error e) {
  if (failure) return failure->error;
  const AlertDescription d = alert_for(e.code());
  Failure f{is_internal(e.code()) ? Failure::Kind::internal : Failure::Kind::sent_alert, d, e};
  if (e.code() == Errc::truncated_connection) {
    f.kind = Failure::Kind::transport;
  } else {
    hs_out.clear();  // an unfinished flight is worthless now; the alert is what matters
    send_alert(AlertLevel::fatal, d);
  }
  failure = std::move(f);
  state = State::failed;
  return e;
}

Error Connection::Impl::fail_received_alert(AlertDescription d) {
  Error e(Errc::peer_alert, std::string("the peer sent alert ") + std::string(name(d)));
  if (!failure) {
    failure = Failure{Failure::Kind::received_alert, d, e};
    state = State::failed;
  }
  return failure->error;
}

void Connection::Impl::trace(TraceEvent::Direction d, HandshakeType t, std::size_t size,
                             std::string detail,
                             std::optional<std::chrono::system_clock::time_point> at) {
  if (!cfg().trace) return;
  TraceEvent e{d, t, size, std::move(detail), at ? *at : cfg().clock()};
  // What a handler sends in answer to a message is reported after that message.
  if (deferring_trace) {
    deferred_trace.push_back(std::move(e));
  } else {
    cfg().trace(e);
  }
}

void Connection::Impl::key_log(std::string_view label, wire::Bytes client_random,
                               wire::Bytes secret) const {
  if (cfg().key_log) cfg().key_log(label, client_random, secret);
}

Status Connection::Impl::send_handshake(wire::Bytes message, std::string detail) {
  // Messages of one flight are coalesced and sealed together at the next flush point (a
  // key change, a CCS, or the end of the call): fewer records, fewer AEAD calls.
  hs_out.insert(hs_out.end(), message.begin(), message.end());
  if (!message.empty()) {
    trace(TraceEvent::Direction::sent, static_cast<HandshakeType>(message[0]), message.size(),
          std::move(detail));
  }
  return {};
}

Status Connection::Impl::flush() {
  if (hs_out.empty()) return {};
  auto s = tx.write(ContentType::handshake, hs_out, out);
  hs_out.clear();
  // RFC 8446 §5.1: only the initial ClientHello may say 0x0301; every later record 0x0303.
  tx.set_version(ProtocolVersion::tls12);
  return s;
}

Status Connection::Impl::send_change_cipher_spec() {
  BW_TRY(flush());
  const std::uint8_t one = 1;
  // RFC 8446 §5: the compatibility change_cipher_spec is never protected.
  return tx.write_unprotected(ContentType::change_cipher_spec, wire::Bytes(&one, 1), out);
}

void Connection::Impl::clear_write_cipher() {
  (void)flush();
  tx.set_cipher(std::nullopt);
  write_secret.clear();
}

Status Connection::Impl::install_read_secret(const CipherSuiteInfo& s, Secret secret) {
  BW_ASSIGN(TrafficKeys k, KeySchedule::traffic_keys(s, secret.span()));
  BW_TRY(rx.set_cipher13(s, k.key.span(), k.iv.span()));
  rx.set_tls13(true);
  suite = &s;
  read_secret = std::move(secret);
  ++read_key_generation;
  return {};
}

Status Connection::Impl::install_write_secret(const CipherSuiteInfo& s, Secret secret) {
  BW_TRY(flush());  // what was queued goes out under the old key
  BW_ASSIGN(TrafficKeys k, KeySchedule::traffic_keys(s, secret.span()));
  BW_TRY(tx.set_cipher13(s, k.key.span(), k.iv.span()));
  tx.set_tls13(true);
  tx.set_version(ProtocolVersion::tls12);
  suite = &s;
  write_secret = std::move(secret);
  return {};
}

void Connection::Impl::established(const PeerAuthenticated& peer,
                                   const FinishedVerified&) noexcept {
  state = State::established;
  rx.set_accept_cleartext_alerts(false);
  info.peer_verified = peer.how() == PeerAuthenticated::How::certificate ||
                       peer.how() == PeerAuthenticated::How::psk;
  handshake_bytes = 0;
}

Status Connection::Impl::process() {
  BW_TRY(check_failed());
  while (rx.held().empty()) {
    auto next = rx.next();
    if (!next) {
      if (skips_refused_early_data(*this, next.error())) continue;
      return fail(std::move(next).error());
    }
    if (!next->has_value()) break;
    Record& rec = **next;
    if (auto s = on_record(rec); !s) return fail(std::move(s).error());
    if (failure) return failure->error;
  }
  return {};
}

Status Connection::Impl::on_record(Record& rec) {
  switch (rec.type) {
    case ContentType::change_cipher_spec:
      if (tls12) {
        // RFC 5246 §7.1: one byte, 1; handshake messages never span it; never renegotiated.
        if (rec.fragment.size() != 1 || rec.fragment[0] != 1) {
          return Error(Errc::truncated, "malformed change_cipher_spec");
        }
        if (!hs_in.empty() || state != State::handshaking) {
          return Error(Errc::unexpected_message, "unexpected change_cipher_spec");
        }
        return handshaker->on_change_cipher_spec();
      }
      // RFC 8446 §5: a single 0x01 byte, unprotected, between the first ClientHello and the
      // peer's Finished, is dropped; anything else is unexpected_message.
      if (!rec.protected_record && rec.fragment.size() == 1 && rec.fragment[0] == 1 &&
          state == State::handshaking && handshaker && handshaker->accepts_change_cipher_spec()) {
        return {};
      }
      return Error(Errc::unexpected_message, "unexpected change_cipher_spec");
    case ContentType::alert:
      return on_alert(rec.fragment);
    case ContentType::handshake:
      return on_handshake_bytes(rec.fragment);
    case ContentType::application_data:
      if (close_notify_received) return {};  // RFC 8446 §6.1: ignored after close_notify
      if (state != State::established) {
        if (!reading_early_data) {
          // RFC 8446 §4.2.10: after a HelloRetryRequest, a server skips the client's 0-RTT
          // records (cleartext type application_data) up to a limit.
          if (handshaker && handshaker->skipping_early_data() && !rec.protected_record) {
            early_data_skipped += rec.fragment.size();
            if (early_data_skipped <= cfg().limits.max_early_data_skipped) return {};
          }
          return Error(Errc::unexpected_message, "application data before the handshake ended");
        }
        // RFC 8446 §4.2.10: more early data than the ticket allowed is unexpected_message.
        if (rec.fragment.size() > early_data_budget) {
          return Error(Errc::unexpected_message, "more early data than allowed");
        }
        early_data_budget -= rec.fragment.size();
        if (!rec.fragment.empty()) rx.hold(rec.fragment);
        return {};
      }
      if (rec.fragment.empty()) {
        if (++empty_records > cfg().limits.max_empty_records) {
          return Error(Errc::limit_exceeded, "too many empty records");
        }
        return {};
      }
      empty_records = 0;
      key_updates_received = 0;
      rx.hold(rec.fragment);
      return {};
    case ContentType::heartbeat:
      if (tls12) return on_heartbeat(rec.fragment);
      // TLS 1.3 has no heartbeat protocol.
      return Error(Errc::unexpected_message, "heartbeat record in TLS 1.3");
  }
  return Error(Errc::unexpected_message, "unknown record type");
}

Status Connection::Impl::on_alert(wire::Bytes fragment) {
  // RFC 8446 §5.1: alerts are never fragmented or coalesced: exactly two bytes.
  if (fragment.size() != 2) return Error(Errc::truncated, "alert record is not two bytes");
  const auto d = static_cast<AlertDescription>(fragment[1]);
  if (d == AlertDescription::close_notify) {
    close_notify_received = true;
    state = close_notify_sent ? State::closed : State::peer_closed;
    return {};
  }
  // RFC 8446 §6.1: user_canceled is followed by close_notify; everything else is an error
  // alert whatever its level (§6).
  if (d == AlertDescription::user_canceled) return {};
  // TLS 1.2 (RFC 5246 §7.2): warnings are not fatal; a stream of them is (a cheap DoS).
  if (tls12 && fragment[0] == static_cast<std::uint8_t>(AlertLevel::warning)) {
    if (++warning_alerts > cfg().limits.max_warning_alerts) {
      return Error(Errc::limit_exceeded, "too many warning alerts");
    }
    return {};
  }
  return fail_received_alert(d);
}

Status Connection::Impl::on_handshake_bytes(wire::Bytes fragment) {
  handshake_bytes += fragment.size();
  if (state == State::handshaking && handshake_bytes > cfg().limits.max_handshake_bytes) {
    return Error(Errc::limit_exceeded, "handshake larger than allowed");
  }
  // Parse straight from the record when nothing is pending; copy only a partial message.
  const bool direct = hs_in.empty();
  if (!direct) hs_in.insert(hs_in.end(), fragment.begin(), fragment.end());
  wire::Reader r(direct ? fragment : wire::Bytes(hs_in));
  std::size_t done = 0;
  while (!r.empty()) {
    auto m = read_handshake(r, cfg().limits.max_handshake_message);
    if (!m) {
      if (m.error() == Errc::truncated) break;  // incomplete: wait for more
      if (m.error() == Errc::limit_exceeded) {
        return Error(Errc::illegal_parameter, "handshake message larger than allowed");
      }
      return std::move(m).error();
    }
    const std::uint64_t generation = read_key_generation;
    std::optional<std::chrono::system_clock::time_point> received_at;
    if (cfg().trace) received_at = cfg().clock();
    deferring_trace = true;
    deferred_trace.clear();
    Status handled =
        state == State::handshaking ? handshaker->on_message(*m) : on_post_handshake(*m);
    // The version is decided: the TLS 1.2 handshaker takes over from here.
    if (handled && next_handshaker) handshaker = std::move(next_handshaker);
    if (handled && state != State::handshaking && handshaker &&
        !handshaker->needed_after_handshake()) {
      handshaker.reset();
    }
    deferring_trace = false;
    trace(TraceEvent::Direction::received, m->type, m->message.size(),
          std::exchange(trace_detail, {}), received_at);
    for (const auto& e : deferred_trace)
      cfg().trace(e);
    deferred_trace.clear();
    BW_TRY(std::move(handled));
    done = r.consumed();
    // RFC 8446 §5.1: handshake messages MUST NOT span key changes.
    if (generation != read_key_generation && !r.empty()) {
      return Error(Errc::unexpected_message, "handshake data after a key change in one record");
    }
  }
  if (direct) {
    hs_in.assign(fragment.begin() + static_cast<std::ptrdiff_t>(done), fragment.end());
  } else {
    hs_in.erase(hs_in.begin(), hs_in.begin() + static_cast<std::ptrdiff_t>(done));
  }
  return {};
}

Error unexpected_post_handshake(const HandshakeMessage& m) {
  return Error(Errc::unexpected_message,
               std::string("unexpected post-handshake message ") + std::string(name(m.type)));
}

Status Connection::Impl::on_post_handshake(const HandshakeMessage& m) {
  if (m.type == HandshakeType::key_update && !tls12) return on_key_update(m);
  if (!handshaker) return unexpected_post_handshake(m);
  return handshaker->on_post_handshake(m);
}

Status Connection::Impl::refuse_renegotiation(const HandshakeMessage& m) {
  // We never renegotiate (the THC handshake flood; RFC 5746's history): the message that asks
  // for it (HelloRequest to a client, ClientHello to a server) gets a no_renegotiation warning
  // (RFC 5246 §7.2.2); repeated attempts end the connection.
  const HandshakeType asks =
      role == Role::client ? HandshakeType::hello_request : HandshakeType::client_hello;
  if (m.type == asks) {
    if (++renegotiation_attempts > cfg().limits.max_renegotiation_attempts) {
      return Error(Errc::limit_exceeded, "the peer keeps asking to renegotiate");
    }
    send_alert(AlertLevel::warning, AlertDescription::no_renegotiation);
    return {};
  }
  return unexpected_post_handshake(m);
}

void Connection::Impl::install_read_cipher12(RecordCipher c) {
  rx.set_tls13(false);
  rx.set_cipher(std::move(c));
  ++read_key_generation;
}

void Connection::Impl::install_write_cipher12(RecordCipher c) {
  (void)flush();
  tx.set_tls13(false);
  tx.set_cipher(std::move(c));
}

Status Connection::Impl::on_heartbeat(wire::Bytes fragment) {
  // RFC 6520 §3: heartbeats during a handshake are discarded.
  if (state != State::established) return {};
  auto hb = HeartbeatMessage::decode(fragment);
  if (!hb) {
    // RFC 6520 §4: a payload_length beyond the message (the Heartbleed request) is
    // discarded silently: never answered, never an over-read.
    if (hb.error() == Errc::length_overflow) return {};
    return std::move(hb).error();
  }
  if (hb->type == HeartbeatMessageType::heartbeat_response) {
    // RFC 6520 §4: a response that does not match our request is discarded silently.
    if (!heartbeat_outstanding.empty() && same_bytes(hb->payload, heartbeat_outstanding)) {
      heartbeat_responses.emplace_back(hb->payload.begin(), hb->payload.end());
      heartbeat_outstanding.clear();
    }
    return {};
  }
  if (hb->type != HeartbeatMessageType::heartbeat_request) return {};
  // RFC 6520 §2: requests from a peer not allowed to send them are unexpected_message.
  if (!heartbeat_peer_may_send) {
    return Error(Errc::unexpected_message, "heartbeat request that was not negotiated");
  }
  const auto now = cfg().clock();
  if (now - heartbeat_window >= std::chrono::minutes(1)) {
    heartbeat_window = now;
    heartbeat_count = 0;
  }
  if (++heartbeat_count > cfg().limits.max_heartbeats_per_minute) return {};  // rate limit
  return send_heartbeat_message(HeartbeatMessageType::heartbeat_response, hb->payload);
}

Status Connection::Impl::send_heartbeat_message(HeartbeatMessageType type, wire::Bytes payload) {
  std::array<std::uint8_t, heartbeat_min_padding> padding;
  BW_TRY(cfg().random->fill(padding));
  HeartbeatMessage msg{type, payload, padding};
  wire::Writer w;
  msg.encode(w);
  BW_TRY(w.status());
  BW_TRY(flush());
  return tx.write(ContentType::heartbeat, w.data(), out);
}

Status Connection::Impl::on_key_update(const HandshakeMessage& m) {
  BW_ASSIGN(KeyUpdate ku, decode_body<KeyUpdate>(m.body));
  if (++key_updates_received > cfg().limits.max_key_updates) {
    return Error(Errc::limit_exceeded, "too many KeyUpdates without application data");
  }
  // RFC 8446 §4.6.3: the sender's next records use the next generation of its secret.
  BW_ASSIGN(Secret next, KeySchedule::next_traffic_secret(suite->hash, read_secret.span()));
  BW_TRY(install_read_secret(*suite, std::move(next)));
  if (ku.request_update == KeyUpdateRequest::update_requested && !close_notify_sent) {
    BW_TRY(send_key_update(false));
  }
  return {};
}

Status Connection::Impl::send_key_update(bool request_peer) {
  std::array<std::uint8_t, 5> msg = {static_cast<std::uint8_t>(HandshakeType::key_update), 0, 0, 1,
                                     static_cast<std::uint8_t>(request_peer ? 1 : 0)};
  BW_TRY(send_handshake(msg));
  BW_ASSIGN(Secret next, KeySchedule::next_traffic_secret(suite->hash, write_secret.span()));
  return install_write_secret(*suite, std::move(next));
}

// ---- Connection ----------------------------------------------------------------------------

Connection::Connection(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

Result<Connection> Connection::client(std::shared_ptr<const ClientConfig> config,
                                      std::string server_name) {
  if (!config) return Error(Errc::invalid_argument, "no client configuration");
  auto impl = std::make_unique<Impl>(Role::client, config);
  impl->info.server_name = server_name;
  impl->handshaker = make_client13(*impl, std::move(config), std::move(server_name));
  Connection c(std::move(impl));
  BW_TRY(c.impl_->handshaker->start());
  BW_TRY(c.impl_->flush());
  return c;
}

Result<Connection> Connection::server(std::shared_ptr<const ServerConfig> config) {
  if (!config) return Error(Errc::invalid_argument, "no server configuration");
  if (config->certificates.empty()) {
    return Error(Errc::invalid_argument, "a server needs at least one certificate");
  }
  auto impl = std::make_unique<Impl>(Role::server, config);
  impl->handshaker = make_server13(*impl, std::move(config));
  Connection c(std::move(impl));
  BW_TRY(c.impl_->handshaker->start());
  return c;
}

Role Connection::role() const noexcept {
  return impl_->role;
}
State Connection::state() const noexcept {
  return impl_->state;
}
bool Connection::handshake_done() const noexcept {
  return impl_->state == State::established || impl_->state == State::peer_closed ||
         impl_->state == State::closed;
}
const Failure* Connection::failure() const noexcept {
  return impl_->failure ? &*impl_->failure : nullptr;
}
const SessionInfo& Connection::info() const noexcept {
  return impl_->info;
}

Status Connection::feed(wire::Bytes received) {
  BW_TRY(impl_->check_failed());
  // Whole AEAD records are opened straight from `received` (no copy of the ciphertext); the
  // loan ends before returning, when what was not processed is copied into the buffer.
  impl_->rx.lend(received);
  Status processed = impl_->process();
  impl_->rx.keep_rest();
  BW_TRY(std::move(processed));
  if (auto s = impl_->flush(); !s) return impl_->fail(std::move(s).error());
  return {};
}

Status Connection::transport_eof() {
  BW_TRY(impl_->check_failed());
  if (impl_->close_notify_received) return {};
  return impl_->fail(
      Error(Errc::truncated_connection, "the peer closed the connection without close_notify"));
}

wire::Bytes Connection::pending_output() const noexcept {
  return wire::Bytes(impl_->out).subspan(impl_->out_pos);
}

void Connection::consume_output(std::size_t n) noexcept {
  impl_->out_pos = std::min(impl_->out.size(), impl_->out_pos + n);
  if (impl_->out_pos == impl_->out.size()) {
    impl_->out.clear();
    impl_->out_pos = 0;
  }
}

void Connection::release_idle_buffers() noexcept {
  Impl& im = *impl_;
  if (im.out_pos == im.out.size()) {
    RecordBuffer().swap(im.out);
    im.out_pos = 0;
  }
  if (im.hs_out.empty()) std::vector<std::uint8_t>().swap(im.hs_out);
  if (im.hs_in.empty()) std::vector<std::uint8_t>().swap(im.hs_in);
  im.rx.shrink_if_idle();
}

std::size_t Connection::buffer_capacity() const noexcept {
  const Impl& im = *impl_;
  return im.out.capacity() + im.hs_out.capacity() + im.hs_in.capacity() + im.rx.capacity();
}

Status Connection::send(wire::Bytes data) {
  if (impl_->failure) return impl_->failure->error;
  if (impl_->state != State::established && impl_->state != State::peer_closed) {
    return Error(Errc::invalid_argument, "send() before the handshake is done");
  }
  if (impl_->close_notify_sent) return Error(Errc::closed, "send() after close()");
  if (!impl_->hs_out.empty()) {
    if (auto s = impl_->flush(); !s) return impl_->fail(std::move(s).error());
  }
  // RFC 8446 §5.5: update keys before the AEAD usage limit is reached.
  if (impl_->tx.cipher() && impl_->tx.cipher()->near_usage_limit()) {
    if (auto s = impl_->send_key_update(false); !s) return impl_->fail(std::move(s).error());
  }
  if (auto s = impl_->tx.write(ContentType::application_data, data, impl_->out); !s) {
    return impl_->fail(std::move(s).error());
  }
  return {};
}

Status Connection::send_early_data(wire::Bytes data) {
  BW_TRY(impl_->check_failed());
  if (impl_->role != Role::client || !impl_->early_data_writable) {
    return Error(Errc::invalid_argument, "0-RTT is not possible on this connection now");
  }
  if (data.size() > impl_->early_data_budget) {
    return Error(Errc::invalid_argument, "more early data than the ticket allows");
  }
  impl_->early_data_budget -= data.size();
  if (auto s = impl_->tx.write(ContentType::application_data, data, impl_->out); !s) {
    return impl_->fail(std::move(s).error());
  }
  return {};
}

wire::Bytes Connection::peek() noexcept {
  if (impl_->rx.held().empty() && !impl_->failure) (void)impl_->process();
  return impl_->rx.held();
}

void Connection::consume(std::size_t n) noexcept {
  impl_->rx.consume_held(n);
  if (impl_->rx.held().empty() && !impl_->failure) (void)impl_->process();
}

std::size_t Connection::read(std::span<std::uint8_t> out) noexcept {
  if (out.empty()) return 0;
  return read_into(*impl_, out);
}

Result<std::size_t> Connection::receive(wire::Bytes received, std::span<std::uint8_t> out) {
  if (impl_->failure) return impl_->failure->error;
  impl_->rx.lend(received);
  const std::size_t n = read_into(*impl_, out);
  // The loan ends here: a record or message not processed yet is copied into the buffer.
  impl_->rx.keep_rest();
  if (!impl_->failure && !impl_->hs_out.empty()) {
    if (auto s = impl_->flush(); !s) (void)impl_->fail(std::move(s).error());
  }
  // Data read before a fatal error is returned; the error comes with the next call.
  if (n == 0 && impl_->failure) return impl_->failure->error;
  return n;
}

Status Connection::close() {
  BW_TRY(impl_->check_failed());
  if (impl_->close_notify_sent) return {};
  (void)impl_->flush();
  impl_->send_alert(AlertLevel::warning, AlertDescription::close_notify);
  impl_->close_notify_sent = true;
  if (impl_->close_notify_received) impl_->state = State::closed;
  return {};
}

Status Connection::send_heartbeat(wire::Bytes payload) {
  BW_TRY(impl_->check_failed());
  if (impl_->state != State::established || !impl_->tls12 || !impl_->heartbeat_we_may_send) {
    return Error(Errc::invalid_argument, "heartbeat was not negotiated with this peer");
  }
  // RFC 6520 §4: the whole message must fit in a record.
  if (payload.empty() || payload.size() > max_plaintext - 3 - heartbeat_min_padding) {
    return Error(Errc::invalid_argument, "heartbeat payload must be 1..16365 bytes");
  }
  impl_->heartbeat_outstanding.assign(payload.begin(), payload.end());
  if (auto s = impl_->send_heartbeat_message(HeartbeatMessageType::heartbeat_request, payload);
      !s) {
    return impl_->fail(std::move(s).error());
  }
  return {};
}

std::optional<std::vector<std::uint8_t>> Connection::take_heartbeat_response() {
  if (impl_->heartbeat_responses.empty()) return std::nullopt;
  auto r = std::move(impl_->heartbeat_responses.front());
  impl_->heartbeat_responses.erase(impl_->heartbeat_responses.begin());
  return r;
}

Status Connection::update_keys(bool request_peer) {
  BW_TRY(impl_->check_failed());
  if (impl_->tls12) return Error(Errc::invalid_argument, "KeyUpdate exists only in TLS 1.3");
  if (impl_->state != State::established) {
    return Error(Errc::invalid_argument, "update_keys() needs an established connection");
  }
  if (auto s = impl_->send_key_update(request_peer); !s) return impl_->fail(std::move(s).error());
  if (auto s = impl_->flush(); !s) return impl_->fail(std::move(s).error());
  return {};
}

}  // namespace bulwark::tls
