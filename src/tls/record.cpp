#include "bulwark/tls/record.hpp"

#include <algorithm>
#include <cstring>

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
  const std::size_t tag = aead_->tag_length();
  std::array<std::uint8_t, 12> nonce;
  nonce_for(seq_, nonce);
  auto text = record.subspan(record_header_size + explicit_nonce_, plaintext_len);
  auto tag_out = record.subspan(record_header_size + explicit_nonce_ + plaintext_len, tag);
  Status s;
  if (tls13_) {
    // RFC 8446 §5.2: additional_data = the record header.
    s = aead_->seal(nonce, record.first(record_header_size), text, tag_out);
  } else {
    if (explicit_nonce_ != 0) {
      std::copy(nonce.begin() + 4, nonce.end(), record.begin() + record_header_size);
    }
    // RFC 5246 §6.2.3.3: additional_data = seq_num + type + version + length (of plaintext).
    std::array<std::uint8_t, 13> aad;
    put_seq(aad.data(), seq_);
    std::copy(record.begin(), record.begin() + 3, aad.begin() + 8);
    aad[11] = static_cast<std::uint8_t>(plaintext_len >> 8);
    aad[12] = static_cast<std::uint8_t>(plaintext_len);
    s = aead_->seal(nonce, aad, text, tag_out);
  }
  if (!s) return s;
  ++seq_;
  return {};
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
  const std::size_t tag = aead_->tag_length();
  const std::size_t overhead = record_header_size + explicit_nonce_ + tag;
  // Too short to hold a tag: it cannot authenticate (RFC 8446 §5.2 -> bad_record_mac).
  if (record.size() < overhead) return Error(Errc::bad_record_mac, "record shorter than its tag");
  const std::size_t text_len = record.size() - overhead;
  std::array<std::uint8_t, 12> nonce;
  nonce_for(seq_, nonce);
  auto text = record.subspan(record_header_size + explicit_nonce_, text_len);
  auto tag_in = record.subspan(record.size() - tag, tag);
  Status s;
  if (tls13_) {
    s = aead_->open(nonce, record.first(record_header_size), text, tag_in);
  } else {
    if (explicit_nonce_ != 0) {
      std::copy_n(record.begin() + record_header_size, 8, nonce.begin() + 4);
    }
    std::array<std::uint8_t, 13> aad;
    put_seq(aad.data(), seq_);
    std::copy(record.begin(), record.begin() + 3, aad.begin() + 8);
    aad[11] = static_cast<std::uint8_t>(text_len >> 8);
    aad[12] = static_cast<std::uint8_t>(text_len);
    s = aead_->open(nonce, aad, text, tag_in);
  }
  if (!s) return Error(Errc::bad_record_mac, "record authentication failed");
  ++seq_;
  return text;
}

// --- RecordReader ---------------------------------------------------------------------------

Status RecordReader::feed(wire::Bytes bytes) {
  if (bytes.empty()) return {};
  // Views handed out by next() end here: reclaim what has been read, except held bytes.
  const std::size_t keep_from = held_len_ != 0 ? held_at_ : start_;
  if (keep_from == buf_.size()) {
    buf_.clear();
    start_ = 0;
    held_at_ = 0;
  } else if (keep_from > 0 && keep_from >= buf_.size() / 2) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(keep_from));
    start_ -= keep_from;
    if (held_len_ != 0) held_at_ -= keep_from;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
  return {};
}

void RecordReader::shrink_if_idle() {
  if (start_ == buf_.size() && held_len_ == 0) {
    std::vector<std::uint8_t>().swap(buf_);
    start_ = 0;
  }
}

void RecordReader::hold(wire::MutableBytes fragment) noexcept {
  held_at_ = static_cast<std::size_t>(fragment.data() - buf_.data());
  held_len_ = fragment.size();
}

wire::MutableBytes RecordReader::held() noexcept {
  if (held_len_ == 0) return {};
  return {buf_.data() + held_at_, held_len_};
}

void RecordReader::consume_held(std::size_t n) noexcept {
  n = std::min(n, held_len_);
  held_at_ += n;
  held_len_ -= n;
}

Result<std::optional<Record>> RecordReader::next() {
  if (buffered() < record_header_size) return std::optional<Record>{};
  const std::uint8_t* h = buf_.data() + start_;
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
  if (buffered() < record_header_size + length) return std::optional<Record>{};

  wire::MutableBytes whole(buf_.data() + start_, record_header_size + length);
  start_ += whole.size();

  if (!protect) {
    // RFC 5246 §6.2.1, RFC 8446 §5.1: no zero-length handshake, alert or CCS fragments.
    if (length == 0 && type != ContentType::application_data) {
      return Error(Errc::unexpected_message, "empty record of a type that must not be empty");
    }
    return std::optional<Record>(Record{type, version, whole.subspan(record_header_size), false});
  }

  if (tls13_ && type != ContentType::application_data) {
    // RFC 8446 §5.2: protected records always carry the outer type application_data.
    return Error(Errc::unexpected_message, "protected TLS 1.3 record with a cleartext type");
  }
  BW_ASSIGN(wire::MutableBytes text, cipher_->open(whole));
  ContentType inner = type;
  if (tls13_) {
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

Status RecordWriter::write(ContentType type, wire::Bytes data, std::vector<std::uint8_t>& out) {
  if (data.empty()) return write_one(type, data, out, true);
  while (!data.empty()) {
    const std::size_t n = std::min(data.size(), max_fragment_);
    BW_TRY(write_one(type, data.first(n), out, true));
    data = data.subspan(n);
  }
  return {};
}

Status RecordWriter::write_unprotected(ContentType type, wire::Bytes data,
                                       std::vector<std::uint8_t>& out) {
  if (data.size() > max_fragment_) return Error(Errc::invalid_argument, "record too long");
  return write_one(type, data, out, false);
}

Status RecordWriter::write_one(ContentType type, wire::Bytes data, std::vector<std::uint8_t>& out,
                               bool protect) {
  const std::size_t at = out.size();
  if (!cipher_ || !protect) {
    out.resize(at + record_header_size + data.size());
    put_header(out.data() + at, type, version_, data.size());
    if (!data.empty()) std::memcpy(out.data() + at + record_header_size, data.data(), data.size());
    return {};
  }
  RecordCipher& c = *cipher_;
  // TLS 1.3 appends the real content type to the plaintext (RFC 8446 §5.2), no padding.
  const std::size_t text_len = data.size() + (tls13_ ? 1 : 0);
  const std::size_t body = c.sealed_length(text_len);
  const std::size_t end = at + record_header_size + body;
  // Grown geometrically (a reserve of the exact size per record would reallocate each time).
  if (out.capacity() < end) out.reserve(std::max(end, 2 * out.capacity()));
  // The plaintext is appended rather than copied over a zero-filled resize: only the header,
  // the explicit nonce and the tag room (or CBC's MAC and padding) are zero-filled first.
  out.resize(at + record_header_size + c.explicit_nonce_size());
  out.insert(out.end(), data.begin(), data.end());
  if (tls13_) out.push_back(static_cast<std::uint8_t>(type));
  out.resize(end);
  std::uint8_t* p = out.data() + at;
  put_header(p, tls13_ ? ContentType::application_data : type, ProtocolVersion::tls12, body);
  auto s = c.seal(wire::MutableBytes(p, record_header_size + body), text_len);
  if (!s) out.resize(at);
  return s;
}

}  // namespace bulwark::tls
