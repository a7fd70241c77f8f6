#include "bulwark/tls/session.hpp"

#include <algorithm>

#include "bulwark/wire.hpp"

namespace bulwark::tls {

// ---- SessionCache --------------------------------------------------------------------------

void SessionCache::put(const std::string& server_name, StoredSession session) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(server_name);
  if (it == sessions_.end()) {
    if (sessions_.size() >= max_servers_ && !lru_.empty()) {
      sessions_.erase(lru_.back());
      lru_.pop_back();
    }
    it = sessions_.emplace(server_name, std::deque<StoredSession>{}).first;
  } else {
    lru_.remove(server_name);
  }
  lru_.push_front(server_name);
  it->second.push_back(std::move(session));
  while (it->second.size() > per_server_)
    it->second.pop_front();
}

std::optional<StoredSession> SessionCache::take(const std::string& server_name, TimePoint now) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(server_name);
  if (it == sessions_.end()) return std::nullopt;
  auto& q = it->second;
  while (!q.empty()) {
    StoredSession s = std::move(q.back());
    q.pop_back();
    if (now < s.received + std::chrono::seconds(s.lifetime)) return s;
  }
  return std::nullopt;
}

std::size_t SessionCache::size() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& [_, q] : sessions_)
    n += q.size();
  return n;
}

TicketState TicketState::copy() const {
  TicketState c;
  c.version = version;
  c.cipher_suite = cipher_suite;
  c.psk = psk.copy();
  c.age_add = age_add;
  c.lifetime = lifetime;
  c.issued = issued;
  c.alpn = alpn;
  c.server_name = server_name;
  c.max_early_data = max_early_data;
  return c;
}

// ---- ServerSessionCache --------------------------------------------------------------------

namespace {
std::string id_key(wire::Bytes id) {
  return std::string(id.begin(), id.end());
}
}  // namespace

void ServerSessionCache::put(const std::vector<std::uint8_t>& session_id,
                             const TicketState& state) {
  if (session_id.empty() || capacity_ == 0) return;
  TicketState copy = state.copy();
  std::lock_guard lock(mu_);
  const std::string key = id_key(session_id);
  if (auto it = index_.find(key); it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(Entry{session_id, std::move(copy)});
  index_[key] = lru_.begin();
  while (lru_.size() > capacity_) {
    index_.erase(id_key(lru_.back().id));
    lru_.pop_back();
  }
}

std::optional<TicketState> ServerSessionCache::get(wire::Bytes session_id, TimePoint now) {
  std::lock_guard lock(mu_);
  auto it = index_.find(id_key(session_id));
  if (it == index_.end()) return std::nullopt;
  const TicketState& st = it->second->state;
  if (now >= st.issued + lifetime_ || now < st.issued) {
    lru_.erase(it->second);
    index_.erase(it);
    return std::nullopt;
  }
  return st.copy();
}

std::size_t ServerSessionCache::size() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

// ---- TicketKeys ----------------------------------------------------------------------------

namespace {

constexpr std::uint16_t ticket_format = 1;

std::uint64_t to_ms(TimePoint t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

}  // namespace

Result<std::shared_ptr<TicketKeys>> TicketKeys::create(crypto::Random& random,
                                                       std::chrono::seconds rotation) {
  std::shared_ptr<TicketKeys> k(new TicketKeys(random, rotation));
  return k;
}

Status TicketKeys::rotate_locked(TimePoint now) {
  if (current_ && now < current_->created + rotation_) return {};
  Key k;
  BW_TRY(random_.fill(k.name));
  k.secret.resize(32);
  BW_TRY(random_.fill(k.secret.span()));
  BW_ASSIGN(crypto::Aead aead, crypto::Aead::create(crypto::AeadAlg::aes_256_gcm, k.secret.span()));
  k.aead.emplace(std::move(aead));
  k.created = now;
  previous_ = std::move(current_);
  current_ = std::move(k);
  return {};
}

Result<std::vector<std::uint8_t>> TicketKeys::seal(const TicketState& st, TimePoint now) {
  // key name (16) | nonce (12) | state, encrypted in place | tag (16), in one buffer with room
  // for the largest state (each variable field has a one-byte length) from the start: a vector
  // that grew would free a copy of the plaintext secret without wiping it.
  constexpr std::size_t header = 16 + 12;
  constexpr std::size_t tag_size = 16;
  std::vector<std::uint8_t> out;
  out.reserve(header + 2 + 2 + 2 + 8 + 4 + 4 + 3 * (1 + 255) + 4 + tag_size);
  out.resize(header);
  wire::Writer plain(out);
  plain.u16(ticket_format);
  plain.u16(static_cast<std::uint16_t>(st.version));
  plain.u16(static_cast<std::uint16_t>(st.cipher_suite));
  plain.u64(to_ms(st.issued));
  plain.u32(st.age_add);
  plain.u32(st.lifetime);
  plain.prefixed_bytes<1>(st.psk.span());
  plain.prefixed_bytes<1>(
      wire::Bytes(reinterpret_cast<const std::uint8_t*>(st.alpn.data()), st.alpn.size()));
  plain.prefixed_bytes<1>(wire::Bytes(reinterpret_cast<const std::uint8_t*>(st.server_name.data()),
                                      st.server_name.size()));
  plain.u32(st.max_early_data);
  if (Status written = plain.status(); !written) {
    crypto::wipe(out);
    return written.error();
  }
  const std::size_t text_size = plain.data().size();
  out.resize(header + text_size + tag_size);  // within the reserved room
  const auto body = std::span(out).subspan(header, text_size);
  Status sealed = seal_in_place(now, out, body);
  if (!sealed) {
    crypto::wipe(body);  // the plaintext state holds the resumption secret
    return sealed.error();
  }
  return out;
}

// Names the ticket `out` with the current key, draws its nonce and encrypts `body` in place.
Status TicketKeys::seal_in_place(TimePoint now, std::span<std::uint8_t> out,
                                 std::span<std::uint8_t> body) {
  std::lock_guard lock(mu_);
  BW_TRY(rotate_locked(now));
  std::copy(current_->name.begin(), current_->name.end(), out.begin());
  const auto nonce = out.subspan(16, 12);
  BW_TRY(random_.fill(nonce));
  // The key name is authenticated too.
  return current_->aead->seal(nonce, out.first(16), body, out.last(16));
}

std::optional<TicketState> TicketKeys::open(wire::Bytes ticket, TimePoint now) {
  if (ticket.size() < 16 + 12 + 16) return std::nullopt;
  std::vector<std::uint8_t> buf(ticket.begin(), ticket.end());
  auto body = std::span(buf).subspan(28, buf.size() - 28 - 16);
  {
    std::lock_guard lock(mu_);
    if (!rotate_locked(now)) return std::nullopt;
    Key* key = nullptr;
    for (auto* k : {&current_, &previous_}) {
      if (*k && std::equal((*k)->name.begin(), (*k)->name.end(), buf.begin())) key = &**k;
    }
    if (key == nullptr) return std::nullopt;
    // A ticket is about a hundred bytes: opening it under the lock is shorter than setting up
    // a key outside it.
    if (!key->aead->open(std::span(buf).subspan(16, 12), std::span(buf).first(16), body,
                         std::span(buf).last(16))) {
      return std::nullopt;
    }
  }
  TicketState st;
  wire::Reader r(body);
  auto format = r.u16();
  auto version = r.u16();
  auto suite = r.u16();
  auto issued = r.u64();
  auto age_add = r.u32();
  auto lifetime = r.u32();
  auto psk = r.prefixed_bytes<1>();
  auto alpn = r.prefixed_bytes<1>();
  auto sni = r.prefixed_bytes<1>();
  auto early = r.u32();
  const bool good = format && *format == ticket_format && version && suite && issued && age_add &&
                    lifetime && psk && alpn && sni && early && r.expect_end().ok();
  if (good) {
    st.version = static_cast<ProtocolVersion>(*version);
    st.cipher_suite = static_cast<CipherSuite>(*suite);
    st.issued = TimePoint(std::chrono::milliseconds(*issued));
    st.age_add = *age_add;
    st.lifetime = *lifetime;
    st.psk = crypto::Secret(*psk);
    st.alpn.assign(alpn->begin(), alpn->end());
    st.server_name.assign(sni->begin(), sni->end());
    st.max_early_data = *early;
  }
  crypto::wipe(buf);
  if (!good) return std::nullopt;
  // Expired tickets are not resumable (RFC 8446 §4.6.1: at most `lifetime` seconds).
  if (now >= st.issued + std::chrono::seconds(st.lifetime) || now < st.issued) {
    return std::nullopt;
  }
  return st;
}

bool TicketKeys::first_use(wire::Bytes binder, TimePoint now) {
  std::string key(binder.begin(), binder.end());
  std::lock_guard lock(mu_);
  while (!seen_order_.empty() && now - seen_order_.front().first > 2 * freshness_window) {
    seen_.erase(seen_order_.front().second);
    seen_order_.pop_front();
  }
  if (seen_.count(key) != 0) return false;
  if (seen_.size() >= max_seen) return false;
  seen_.emplace(key, now);
  seen_order_.emplace_back(now, std::move(key));
  return true;
}

}  // namespace bulwark::tls
