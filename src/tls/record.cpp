#include "bulwark/tls/record.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace bulwark::tls {

namespace {

// Above this fraction of a key's record limit the engine should update keys (TLS 1.3) or
// close (TLS 1.2) before the hard limit is reached.
constexpr std::uint64_t soft_limit_for(std::uint64_t hard) {
  return hard - hard / 8;
}

bool known_content_type(ContentType t) {
  switch (t) {
    case ContentType::change_cipher_spec:
    case ContentType::alert:
    case ContentType::handshake:
    case ContentType::application_data:
    case ContentType::heartbeat:
      return true;
  }
  return false;
}

void put_header(std::uint8_t* p, ContentType type, ProtocolVersion version, std::size_t len) {
  p[0] = static_cast<std::uint8_t>(type);
  p[1] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(version) >> 8);
  p[2] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(version));
  p[3] = static_cast<std::uint8_t>(len >> 8);
  p[4] = static_cast<std::uint8_t>(len);
}

void put_seq(std::uint8_t* p, std::uint64_t seq) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<std::uint8_t>(seq >> (56 - 8 * i));
}

}  // namespace

// --- RecordCipher ---------------------------------------------------------------------------

RecordCipher::RecordCipher(std::optional<crypto::Aead> aead, std::optional<crypto::TlsCbcHmac> cbc,
                           wire::Bytes iv, bool tls13, std::uint64_t hard)
    : aead_(std::move(aead)),
      cbc_(std::move(cbc)),
      tls13_(tls13),
      soft_limit_(soft_limit_for(hard)),
      hard_limit_(hard) {
  std::copy(iv.begin(), iv.end(), iv_.begin());
}

Result<RecordCipher> RecordCipher::tls13(const CipherSuiteInfo& suite, wire::Bytes key,
                                         wire::Bytes iv) {
  if (iv.size() != 12) return Error(Errc::invalid_argument, "TLS 1.3 record IV must be 12 bytes");
  BW_ASSIGN(auto aead, crypto::Aead::create(suite.aead, key));
  return RecordCipher(std::move(aead), std::nullopt, iv, true, suite.record_limit);
}

Status RecordCipher::install13(std::optional<RecordCipher>& cipher, const CipherSuiteInfo& suite,
                               wire::Bytes key, wire::Bytes iv) {
  RecordCipher* c = cipher ? &*cipher : nullptr;
  if (c == nullptr || !c->tls13_ || !c->aead_ || c->aead_->alg() != suite.aead) {
    BW_ASSIGN(RecordCipher fresh, tls13(suite, key, iv));
    cipher = std::move(fresh);
    return {};
  }
  if (iv.size() != 12) return Error(Errc::invalid_argument, "TLS 1.3 record IV must be 12 bytes");
  // A failed re-key leaves no usable cipher behind.
  if (auto s = c->aead_->rekey(key); !s) {
    cipher.reset();
    return s;
  }
  std::copy(iv.begin(), iv.end(), c->iv_.begin());
  c->seq_ = 0;
  c->soft_limit_ = soft_limit_for(suite.record_limit);
  c->hard_limit_ = suite.record_limit;
  return {};
}

Result<RecordCipher> RecordCipher::tls12(const CipherSuiteInfo& suite, wire::Bytes key,
                                         wire::Bytes iv) {
  if (suite.protection != RecordProtection::aead) {
    return Error(Errc::invalid_argument, "not an AEAD suite");
  }
  const bool gcm = suite.aead != crypto::AeadAlg::chacha20_poly1305;
  if (iv.size() != (gcm ? 4u : 12u)) {
    return Error(Errc::invalid_argument, "TLS 1.2 record IV has the wrong size for the suite");
  }
  BW_ASSIGN(auto aead, crypto::Aead::create(suite.aead, key));
  RecordCipher c(std::move(aead), std::nullopt, iv, false, suite.record_limit);
  // RFC 5288 §3: GCM nonce = 4-byte salt || 8-byte explicit nonce, which we set to the
  // sequence number; with the rest of iv_ zero that is iv_ XOR the padded sequence number.
  c.explicit_nonce_ = gcm ? 8 : 0;
  return c;
}

Result<RecordCipher> RecordCipher::tls12_cbc(const CipherSuiteInfo& suite, wire::Bytes mac_key,
                                             wire::Bytes enc_key, crypto::Random& iv_source) {
  if (suite.protection != RecordProtection::cbc_hmac) {
    return Error(Errc::invalid_argument, "not a CBC suite");
  }
  BW_ASSIGN(auto cbc, crypto::TlsCbcHmac::create(suite.cbc, enc_key, suite.mac, mac_key));
  RecordCipher c(std::nullopt, std::move(cbc), {}, false, suite.record_limit);
  // RFC 5246 §6.2.3.2: each record starts with its own IV, one cipher block.
  c.explicit_nonce_ = crypto::cbc_block_size;
  c.iv_source_ = &iv_source;
  return c;
}

std::size_t RecordCipher::tag_size() const noexcept {
  return cbc_ ? cbc_->mac_length() : aead_->tag_length();
}

std::size_t RecordCipher::sealed_length(std::size_t plaintext_len) const noexcept {
  if (cbc_) return cbc_->sealed_length(plaintext_len);
  return explicit_nonce_ + plaintext_len + aead_->tag_length();
}

void RecordCipher::nonce_for(std::uint64_t seq, std::array<std::uint8_t, 12>& out) const noexcept {
  out = iv_;
  // RFC 8446 §5.3: the 64-bit sequence number, big-endian, left-padded to the IV length.
  for (int i = 0; i < 8; ++i)
    out[4 + i] ^= static_cast<std::uint8_t>(seq >> (56 - 8 * i));
}

Status RecordCipher::seal(wire::MutableBytes record, std::size_t plaintext_len) noexcept {
  // RFC 8446 §5.5 / §5.3: never exceed the key's usage limit, never wrap the sequence number.
  if (at_usage_limit()) return Error(Errc::limit_exceeded, "record key usage limit reached");
  if (record.size() != record_header_size + sealed_length(plaintext_len)) {
    return Error(Errc::invalid_argument, "record buffer does not match its plaintext length");
  }
  if (cbc_) {
    // RFC 5246 §6.2.3.2: an unpredictable IV for every record (BEAST exploited predictable
    // ones in TLS 1.0); MAC input: seq_num + type + version, then the length.
    const auto fragment = record.subspan(record_header_size);
    BW_TRY(iv_source_->fill(fragment.first(crypto::cbc_block_size)));
    std::array<std::uint8_t, crypto::tls_mac_prefix_size> prefix;
    put_seq(prefix.data(), seq_);
    std::copy(record.begin(), record.begin() + 3, prefix.begin() + 8);
    BW_TRY(cbc_->seal(prefix, fragment, plaintext_len));
    ++seq_;
    return {};
  }
  const auto text = record.subspan(record_header_size + explicit_nonce_, plaintext_len);
  return seal_aead(record, text, {});
}

Status RecordCipher::seal_from(wire::MutableBytes record, wire::Bytes data,
                               wire::Bytes tail) noexcept {
  if (at_usage_limit()) return Error(Errc::limit_exceeded, "record key usage limit reached");
  if (cbc_ || record.size() != record_header_size + sealed_length(data.size() + tail.size())) {
    return Error(Errc::invalid_argument, "record buffer does not match its plaintext length");
  }
  return seal_aead(record, data, tail);
}

Status RecordCipher::seal_aead(wire::MutableBytes record, wire::Bytes head,
                               wire::Bytes tail) noexcept {
  const std::size_t text_len = head.size() + tail.size();
  std::array<std::uint8_t, 12> nonce;
  nonce_for(seq_, nonce);
  const auto out = record.subspan(record_header_size + explicit_nonce_, text_len);
  const auto tag_out = record.subspan(record_header_size + explicit_nonce_ + text_len);
  Status s;
  if (tls13_) {
    // RFC 8446 §5.2: additional_data = the record header.
    s = aead_->seal_to(nonce, record.first(record_header_size), head, tail, out, tag_out);
  } else {
    if (explicit_nonce_ != 0) {
      std::copy(nonce.begin() + 4, nonce.end(), record.begin() + record_header_size);
    }
    // RFC 5246 §6.2.3.3: additional_data = seq_num + type + version + length (of plaintext).
    std::array<std::uint8_t, 13> aad;
    tls12_aad(record, text_len, aad);
    s = aead_->seal_to(nonce, aad, head, tail, out, tag_out);
  }
  if (!s) return s;
  ++seq_;
  return {};
}

void RecordCipher::tls12_aad(wire::Bytes record, std::size_t text_len,
                             std::array<std::uint8_t, 13>& aad) const noexcept {
  put_seq(aad.data(), seq_);
  std::copy(record.begin(), record.begin() + 3, aad.begin() + 8);
  aad[11] = static_cast<std::uint8_t>(text_len >> 8);
  aad[12] = static_cast<std::uint8_t>(text_len);
}

Result<wire::MutableBytes> RecordCipher::open(wire::MutableBytes record) noexcept {
  if (at_usage_limit()) return Error(Errc::limit_exceeded, "record key usage limit reached");
  if (record.size() < record_header_size) return Errc::invalid_argument;
  if (cbc_) {
    std::array<std::uint8_t, crypto::tls_mac_prefix_size> prefix;
    put_seq(prefix.data(), seq_);
    std::copy(record.begin(), record.begin() + 3, prefix.begin() + 8);
    // RFC 5246 §6.2.3.2: a bad length, bad padding and a bad MAC are all bad_record_mac, and
    // the crypto layer keeps them indistinguishable in time too.
    BW_ASSIGN(const std::size_t len, cbc_->open(prefix, record.subspan(record_header_size)));
    ++seq_;
    return record.subspan(record_header_size + crypto::cbc_block_size, len);
  }
  // In place: the plaintext overwrites the ciphertext (open_aead checks the length first).
  const std::size_t text_at = std::min(record.size(), record_header_size + explicit_nonce_);
  return open_aead(record, record.subspan(text_at), {});
}

std::size_t RecordCipher::opened_length_bound(std::size_t record_len) const noexcept {
  const std::size_t overhead = record_header_size + explicit_nonce_ + (cbc_ ? 0 : tag_size());
  return record_len > overhead ? record_len - overhead : 0;
}

Result<wire::MutableBytes> RecordCipher::open_to(wire::Bytes record, wire::MutableBytes out,
                                                 wire::MutableBytes spill) noexcept {
  if (at_usage_limit()) return Error(Errc::limit_exceeded, "record key usage limit reached");
  if (cbc_ || record.size() < record_header_size ||
      out.size() + spill.size() < opened_length_bound(record.size())) {
    return Error(Errc::invalid_argument, "open_to needs an AEAD record and room for its text");
  }
  return open_aead(record, out, spill);
}

Result<wire::MutableBytes> RecordCipher::open_aead(wire::Bytes record, wire::MutableBytes out,
                                                   wire::MutableBytes spill) noexcept {
  const std::size_t tag = aead_->tag_length();
  const std::size_t overhead = record_header_size + explicit_nonce_ + tag;
  // Too short to hold a tag: it cannot authenticate (RFC 8446 §5.2 -> bad_record_mac).
  if (record.size() < overhead) return Error(Errc::bad_record_mac, "record shorter than its tag");
  const std::size_t text_len = record.size() - overhead;
  std::array<std::uint8_t, 12> nonce;
  nonce_for(seq_, nonce);
  const auto ciphertext = record.subspan(record_header_size + explicit_nonce_, text_len);
  const std::size_t head_len = std::min(text_len, out.size());
  const auto text = out.first(head_len);
  const auto text_tail = spill.first(text_len - head_len);
  const auto tag_in = record.subspan(record.size() - tag, tag);
  Status s;
  if (tls13_) {
    s = aead_->open_to(nonce, record.first(record_header_size), ciphertext, text, text_tail,
                       tag_in);
  } else {
    if (explicit_nonce_ != 0) {
      std::copy_n(record.begin() + record_header_size, 8, nonce.begin() + 4);
    }
    std::array<std::uint8_t, 13> aad;
    tls12_aad(record, text_len, aad);
    s = aead_->open_to(nonce, aad, ciphertext, text, text_tail, tag_in);
  }
  if (!s) return Error(Errc::bad_record_mac, "record authentication failed");
  ++seq_;
  return text;
}

// --- RecordReader ---------------------------------------------------------------------------

void RecordReader::make_room(std::size_t more) {
  // Views handed out by next() end here: reclaim what has been read, except held bytes.
  const std::size_t keep_from = held_len_ != 0 ? held_at_ : start_;
  if (keep_from == end_) {
    end_ = 0;
    start_ = 0;
    held_at_ = 0;
  } else if (keep_from > 0 && (keep_from >= end_ / 2 || end_ + more > capacity_)) {
    std::memmove(buf_.get(), buf_.get() + keep_from, end_ - keep_from);
    end_ -= keep_from;
    start_ -= keep_from;
    if (held_len_ != 0) held_at_ -= keep_from;
  }
  if (end_ + more <= capacity_) return;
  // Geometric growth: no allocation per record once the buffer has its working size.
  const std::size_t grown = std::max(end_ + more, 2 * capacity_);
  auto bigger = std::make_unique_for_overwrite<std::uint8_t[]>(grown);
  if (end_ != 0) std::memcpy(bigger.get(), buf_.get(), end_);
  buf_ = std::move(bigger);
  capacity_ = grown;
}

void RecordReader::append(wire::Bytes bytes) {
  make_room(bytes.size());
  std::memcpy(buf_.get() + end_, bytes.data(), bytes.size());
  end_ += bytes.size();
}

Status RecordReader::feed(wire::Bytes bytes) {
  keep_rest();
  if (!bytes.empty()) append(bytes);
  return {};
}

void RecordReader::lend(wire::Bytes bytes) {
  keep_rest();
  if (bytes.empty()) return;
  // Records are read from lent bytes only while nothing is buffered or held, so that they
  // come in order and the receive buffer can take each opened plaintext at its start.
  if (end_ != start_ || held_len_ != 0) {
    append(bytes);
    return;
  }
  lent_ = bytes;
}

void RecordReader::keep_lent() {
  const wire::Bytes rest = std::exchange(lent_, wire::Bytes());
  append(rest);
}

void RecordReader::shrink_if_idle() {
  if (start_ == end_ && held_len_ == 0 && lent_.empty()) {
    buf_.reset();
    capacity_ = 0;
    end_ = 0;
    start_ = 0;
    held_at_ = 0;
  }
}

void RecordReader::hold(wire::MutableBytes fragment) noexcept {
  if (dest_used_ != 0) {
    delivered_ += fragment.size();
    return;
  }
  held_at_ = static_cast<std::size_t>(fragment.data() - buf_.get());
  held_len_ = fragment.size();
}

void RecordReader::consume_held(std::size_t n) noexcept {
  n = std::min(n, held_len_);
  held_at_ += n;
  held_len_ -= n;
}

Result<std::optional<Record>> RecordReader::next(wire::MutableBytes dest) {
  dest_used_ = 0;
  // Lent bytes are read in place only while nothing else is buffered or held (see lend()).
  if (!lent_.empty() && (end_ != start_ || held_len_ != 0)) keep_rest();
  const bool lent = !lent_.empty();
  const wire::Bytes avail = lent ? lent_ : wire::Bytes(buf_.get() + start_, end_ - start_);
  if (avail.size() < record_header_size) {
    keep_rest();
    return std::optional<Record>{};
  }
  const std::uint8_t* h = avail.data();
  const auto type = static_cast<ContentType>(h[0]);
  const auto version = static_cast<ProtocolVersion>((h[1] << 8) | h[2]);
  const std::size_t length = static_cast<std::size_t>((h[3] << 8) | h[4]);

  // RFC 8446 §5: an unexpected record type MUST be answered with unexpected_message.
  if (!known_content_type(type)) {
    return Error(Errc::unexpected_message, "unknown record content type");
  }
  // Every TLS/SSLv3 record starts with major version 3; anything else is not TLS.
  if (h[1] != 0x03) return Error(Errc::protocol_version, "record version is not TLS");

  const bool protect = cipher_.has_value() && !(tls13_ && type == ContentType::change_cipher_spec);
  // RFC 8446 §5.1/§5.2, RFC 5246 §6.2.1/§6.2.3: record_overflow beyond the size limits.
  const std::size_t limit = !protect ? max_plaintext
                            : tls13_ ? max_ciphertext_tls13
                                     : max_ciphertext_tls12;
  if (length > limit) return Error(Errc::record_overflow, "record longer than allowed");
  const std::size_t whole_len = record_header_size + length;
  if (avail.size() < whole_len) {
    keep_rest();
    return std::optional<Record>{};
  }
  // RFC 8446 §5.2: protected records always carry the outer type application_data.
  if (protect && tls13_ && type != ContentType::application_data) {
    return Error(Errc::unexpected_message, "protected TLS 1.3 record with a cleartext type");
  }

  wire::MutableBytes text;
  const bool aead = protect && !cipher_->cbc();
  const std::size_t room = aead ? cipher_->opened_length_bound(whole_len) : 0;
  // TLS 1.3: the inner content type byte may go to spill_ instead, so that a reader asking
  // for a whole record's data gets it opened into its buffer. Its data still fits there: it
  // ends before the type, which is either that byte or, if that byte is padding, earlier.
  const std::size_t spillable = tls13_ ? spill_.size() : 0;
  std::size_t spilled = 0;
  if (aead && room != 0 && !dest.empty() && room <= dest.size() + spillable) {
    // Opened straight into the caller's memory, from the lent bytes or from the buffer.
    wire::Bytes whole;
    if (lent) {
      whole = lent_.first(whole_len);
      lent_ = lent_.subspan(whole_len);
    } else {
      whole = wire::Bytes(buf_.get() + start_, whole_len);
      start_ += whole_len;
    }
    const std::size_t head = std::min(room, dest.size());
    spilled = room - head;
    dest_used_ = head;
    BW_ASSIGN(text, cipher_->open_to(whole, dest.first(head), spill_));
  } else if (lent && aead) {
    // Opened straight from the lent bytes into the (empty) receive buffer: no copy of the
    // ciphertext. The plaintext counts as read, as a record opened in place does.
    const wire::Bytes whole = lent_.first(whole_len);
    lent_ = lent_.subspan(whole_len);
    start_ = end_ = 0;
    make_room(room);
    start_ = end_ = room;
    BW_ASSIGN(text, cipher_->open_to(whole, wire::MutableBytes(buf_.get(), room), {}));
  } else {
    keep_rest();
    wire::MutableBytes whole(buf_.get() + start_, whole_len);
    start_ += whole_len;
    if (!protect) {
      // RFC 5246 §6.2.1, RFC 8446 §5.1: no zero-length handshake, alert or CCS fragments.
      if (length == 0 && type != ContentType::application_data) {
        return Error(Errc::unexpected_message, "empty record of a type that must not be empty");
      }
      return std::optional<Record>(Record{type, version, whole.subspan(record_header_size), false});
    }
    BW_ASSIGN(text, cipher_->open(whole));
  }
  ContentType inner = type;
  if (tls13_ && spilled != 0 && spill_[0] != 0) {
    // The last byte, spilled, is the content type: no padding, `text` is all content.
    inner = static_cast<ContentType>(spill_[0]);
    if (!known_content_type(inner) || inner == ContentType::change_cipher_spec) {
      return Error(Errc::unexpected_message, "protected record with an invalid inner type");
    }
  } else if (tls13_) {
    // RFC 8446 §5.4: the content type is the last non-zero byte; none is unexpected_message.
    std::size_t n = text.size();
    while (n > 0 && text[n - 1] == 0)
      --n;
    if (n == 0) return Error(Errc::unexpected_message, "protected record has no content type");
    inner = static_cast<ContentType>(text[n - 1]);
    text = text.first(n - 1);
    if (!known_content_type(inner) || inner == ContentType::change_cipher_spec) {
      return Error(Errc::unexpected_message, "protected record with an invalid inner type");
    }
  }
  // RFC 8446 §5.4 / RFC 8449 §4: plaintext beyond the limit is record_overflow.
  if (text.size() > max_plaintext_) {
    return Error(Errc::record_overflow, "record plaintext longer than allowed");
  }
  if (text.empty() && inner != ContentType::application_data) {
    return Error(Errc::unexpected_message, "empty record of a type that must not be empty");
  }
  return std::optional<Record>(Record{inner, version, text, true});
}

// --- RecordWriter ---------------------------------------------------------------------------

template <class Buffer>
Status RecordWriter::write(ContentType type, wire::Bytes data, Buffer& out) {
  if (data.empty()) return write_one(type, data, out, true);
  while (!data.empty()) {
    const std::size_t n = std::min(data.size(), max_fragment_);
    BW_TRY(write_one(type, data.first(n), out, true));
    data = data.subspan(n);
  }
  return {};
}

template <class Buffer>
Status RecordWriter::write_unprotected(ContentType type, wire::Bytes data, Buffer& out) {
  if (data.size() > max_fragment_) return Error(Errc::invalid_argument, "record too long");
  return write_one(type, data, out, false);
}

template <class Buffer>
Status RecordWriter::write_one(ContentType type, wire::Bytes data, Buffer& out, bool protect) {
  const std::size_t at = out.size();
  if (!cipher_ || !protect) {
    out.resize(at + record_header_size + data.size());
    put_header(out.data() + at, type, version_, data.size());
    if (!data.empty()) std::memcpy(out.data() + at + record_header_size, data.data(), data.size());
    return {};
  }
  RecordCipher& c = *cipher_;
  // TLS 1.3 appends the real content type to the plaintext (RFC 8446 §5.2), no padding.
  const std::uint8_t inner_type = static_cast<std::uint8_t>(type);
  const wire::Bytes tail = tls13_ ? wire::Bytes(&inner_type, 1) : wire::Bytes();
  const std::size_t text_len = data.size() + tail.size();
  const std::size_t body = c.sealed_length(text_len);
  const std::size_t end = at + record_header_size + body;
  // Grown geometrically (a reserve of the exact size per record would reallocate each time).
  if (out.capacity() < end) out.reserve(std::max(end, 2 * out.capacity()));
  Status s;
  if (c.cbc()) {
    // CBC seals in place: the plaintext is appended behind the header and IV room, then the
    // MAC and padding room is added.
    out.resize(at + record_header_size + c.explicit_nonce_size());
    out.insert(out.end(), data.begin(), data.end());
    out.resize(end);
    std::uint8_t* p = out.data() + at;
    put_header(p, type, ProtocolVersion::tls12, body);
    s = c.seal(wire::MutableBytes(p, record_header_size + body), text_len);
  } else {
    // AEAD seals out of place, from the caller's data straight into the output.
    out.resize(end);
    std::uint8_t* p = out.data() + at;
    put_header(p, tls13_ ? ContentType::application_data : type, ProtocolVersion::tls12, body);
    s = c.seal_from(wire::MutableBytes(p, record_header_size + body), data, tail);
  }
  if (!s) out.resize(at);
  return s;
}

// The two output buffers in use: the connection's RecordBuffer, and plain vectors (tests, the
// scanner's probes, the fuzzers).
template Status RecordWriter::write(ContentType, wire::Bytes, RecordBuffer&);
template Status RecordWriter::write(ContentType, wire::Bytes, std::vector<std::uint8_t>&);
template Status RecordWriter::write_unprotected(ContentType, wire::Bytes, RecordBuffer&);
template Status RecordWriter::write_unprotected(ContentType, wire::Bytes,
                                                std::vector<std::uint8_t>&);

}  // namespace bulwark::tls
