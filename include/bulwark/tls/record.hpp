// The TLS record layer (RFC 8446 §5, RFC 5246 §6.2): framing, fragmentation, AEAD protection
// (and, in the legacy policy, TLS 1.2 CBC) with per-direction sequence numbers, TLS 1.3 inner
// content type and padding.
//
// Sans-I/O: received bytes are fed in, whole records come out (opened in place in the receive
// buffer, no per-record allocation); records to send are appended to a caller's buffer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "bulwark/crypto/aead.hpp"
#include "bulwark/crypto/cbc.hpp"
#include "bulwark/crypto/random.hpp"
#include "bulwark/crypto/secret.hpp"
#include "bulwark/result.hpp"
#include "bulwark/tls/cipher_suites.hpp"
#include "bulwark/tls/types.hpp"
#include "bulwark/wire.hpp"

namespace bulwark::tls {

inline constexpr std::size_t record_header_size = 5;
// RFC 8446 §5.2: TLSCiphertext.length MUST NOT exceed 2^14 + 256.
inline constexpr std::size_t max_ciphertext_tls13 = max_plaintext + 256;
// RFC 5246 §6.2.3: TLSCiphertext.length MUST NOT exceed 2^14 + 2048.
inline constexpr std::size_t max_ciphertext_tls12 = max_plaintext + 2048;

// One direction's record protection: AEAD (TLS 1.3, TLS 1.2) or, in the legacy policy, TLS 1.2
// AES-CBC with HMAC; per-direction sequence number and usage limit.
class RecordCipher {
 public:
  // TLS 1.3 (RFC 8446 §5.3): per-record nonce = iv XOR padded sequence number.
  static Result<RecordCipher> tls13(const CipherSuiteInfo& suite, wire::Bytes key, wire::Bytes iv);
  // TLS 1.2 AEAD: AES-GCM with a 4-byte fixed IV and an explicit 8-byte nonce per record
  // (RFC 5288), ChaCha20-Poly1305 with a 12-byte IV XOR sequence (RFC 7905).
  static Result<RecordCipher> tls12(const CipherSuiteInfo& suite, wire::Bytes key, wire::Bytes iv);
  // TLS 1.2 CBC (RFC 5246 §6.2.3.2), legacy suites only: MAC-then-encrypt with the suite's
  // HMAC, and a fresh IV from `iv_source` before every record (which must outlive the cipher).
  // Opening is constant-time in the padding and the MAC (crypto/cbc.hpp).
  static Result<RecordCipher> tls12_cbc(const CipherSuiteInfo& suite, wire::Bytes mac_key,
                                        wire::Bytes enc_key, crypto::Random& iv_source);

  // TLS 1.3 key change (handshake -> application keys, KeyUpdate): `cipher` takes the new
  // key and IV in its existing AEAD context when it is a TLS 1.3 cipher of the same AEAD as
  // `suite`, with the sequence number back at 0 (RFC 8446 §5.3); otherwise (none yet, another
  // AEAD) a new cipher is built. Saves a libcrypto context per key change.
  static Status install13(std::optional<RecordCipher>& cipher, const CipherSuiteInfo& suite,
                          wire::Bytes key, wire::Bytes iv);

  RecordCipher(RecordCipher&&) noexcept = default;
  RecordCipher& operator=(RecordCipher&&) noexcept = default;
  // The static IV is key material (RFC 8446 §7.3): wiped with the cipher (the keys live in
  // libcrypto contexts, which cleanse them when freed).
  ~RecordCipher() { crypto::wipe(iv_); }

  bool tls13_format() const noexcept { return tls13_; }
  bool cbc() const noexcept { return cbc_.has_value(); }
  // Bytes between the header and the plaintext: the GCM explicit nonce (8), the CBC IV (16).
  std::size_t explicit_nonce_size() const noexcept { return explicit_nonce_; }
  // The AEAD tag; for CBC, the MAC (padding comes on top: see sealed_length).
  std::size_t tag_size() const noexcept;
  // The record body (everything after the header) that `plaintext_len` bytes of (inner)
  // plaintext become.
  std::size_t sealed_length(std::size_t plaintext_len) const noexcept;
  std::uint64_t sequence() const noexcept { return seq_; }
  // Records protected with this key so far and the suite's limit (RFC 8446 §5.5).
  bool near_usage_limit() const noexcept { return seq_ >= soft_limit_; }
  bool at_usage_limit() const noexcept { return seq_ >= hard_limit_; }

  // Seals `record` in place: it is header(5) || [explicit nonce / IV] || plaintext || room,
  // sealed_length(plaintext_len) bytes after the header, whose length field must already say
  // so. `plaintext_len` is the length of the (inner) plaintext.
  Status seal(wire::MutableBytes record, std::size_t plaintext_len) noexcept;
  // AEAD only, out of place: seals `data` || `tail` (TLS 1.3: tail is the inner content type)
  // from the caller's memory into `record` = header(5) || sealed_length(data + tail) bytes,
  // whose header must already be written. One copy less than filling the record and sealing
  // it in place. CBC, or a record of the wrong size: `invalid_argument`.
  Status seal_from(wire::MutableBytes record, wire::Bytes data, wire::Bytes tail) noexcept;
  // Opens a whole record in place; returns the plaintext (a view into `record`).
  Result<wire::MutableBytes> open(wire::MutableBytes record) noexcept;
  // AEAD only, out of place: opens `record` (header included, left untouched) into `out`,
  // which needs opened_length_bound(record.size()) bytes; returns the plaintext, a view into
  // `out` (TLS 1.3: still with its content type and padding). On bad_record_mac `out` is
  // wiped. CBC or too small an `out`: `invalid_argument`.
  // When `out` is short of the plaintext, its last bytes go to `spill` (which must have room
  // for them) and the view returned is the part in `out`.
  Result<wire::MutableBytes> open_to(wire::Bytes record, wire::MutableBytes out,
                                     wire::MutableBytes spill) noexcept;
  // The most plaintext a whole record of `record_len` bytes (header included) can open to.
  std::size_t opened_length_bound(std::size_t record_len) const noexcept;

 private:
  RecordCipher(std::optional<crypto::Aead> aead, std::optional<crypto::TlsCbcHmac> cbc,
               wire::Bytes iv, bool tls13, std::uint64_t hard_limit);
  void nonce_for(std::uint64_t seq, std::array<std::uint8_t, 12>& out) const noexcept;
  // RFC 5246 §6.2.3.3: seq_num + type + version (from the header) + plaintext length.
  void tls12_aad(wire::Bytes record, std::size_t text_len,
                 std::array<std::uint8_t, 13>& aad) const noexcept;
  Status seal_aead(wire::MutableBytes record, wire::Bytes head, wire::Bytes tail) noexcept;
  Result<wire::MutableBytes> open_aead(wire::Bytes record, wire::MutableBytes out,
                                       wire::MutableBytes spill) noexcept;

  std::optional<crypto::Aead> aead_;
  std::optional<crypto::TlsCbcHmac> cbc_;
  crypto::Random* iv_source_ = nullptr;  // CBC: where each record's IV comes from
  std::array<std::uint8_t, 12> iv_{};
  std::size_t explicit_nonce_ = 0;
  bool tls13_ = true;
  std::uint64_t seq_ = 0;
  std::uint64_t soft_limit_;
  std::uint64_t hard_limit_;
};

// A record as received: its content type and its plaintext fragment (a view into the receive
// buffer, valid until the next call on the RecordReader).
struct Record {
  ContentType type;
  ProtocolVersion version;  // legacy_record_version as received
  wire::MutableBytes fragment;
  bool protected_record;  // it was opened with a RecordCipher
};

// Receives records. Owns the receive buffer.
class RecordReader {
 public:
  RecordReader() = default;
  RecordReader(RecordReader&&) noexcept = default;
  RecordReader& operator=(RecordReader&&) noexcept = default;

  // Appends received transport bytes. Invalidates the views of records returned before.
  // The caller bounds how much it feeds before draining records.
  Status feed(wire::Bytes bytes);
  // feed() without the copy, for the span of one call: next() reads whole records straight
  // from `bytes` (which must stay valid until keep_rest()) and opens AEAD records out of place
  // into the receive buffer, so a record's ciphertext is never copied. Anything else (a
  // partial record, a cleartext or CBC record, bytes lent while others are buffered or held)
  // is copied as feed() would. keep_rest() ends the loan: what next() has not taken is
  // copied into the buffer. Invalidates the views of records returned before.
  void lend(wire::Bytes bytes);
  void keep_rest() {
    if (!lent_.empty()) keep_lent();
  }
  // The next complete record, or nullopt when more bytes are needed. Checks every record-level
  // rule of RFC 8446 §5 / RFC 5246 §6 that does not depend on the handshake state.
  // With a `dest` that can take the whole plaintext of an AEAD record (opened_length_bound),
  // the record is opened straight into `dest` (no copy out of the receive buffer later):
  // opened_into_dest() then says so and the fragment views `dest`; whatever the record turns
  // out to be, the caller owns those bytes (and wipes them if they are not application data).
  Result<std::optional<Record>> next(wire::MutableBytes dest = {});
  // How many bytes of `dest` the last next() wrote (0 when it used its own buffer).
  std::size_t opened_into_dest() const noexcept { return dest_used_; }

  // Installs (or removes, with nullopt) the cipher for records read from now on.
  void set_cipher(std::optional<RecordCipher> cipher) noexcept { cipher_ = std::move(cipher); }
  // TLS 1.3 keys for records read from now on (RecordCipher::install13).
  Status set_cipher13(const CipherSuiteInfo& suite, wire::Bytes key, wire::Bytes iv) {
    return RecordCipher::install13(cipher_, suite, key, iv);
  }
  const std::optional<RecordCipher>& cipher() const noexcept { return cipher_; }
  // TLS 1.3: protected records carry an inner content type and padding.
  void set_tls13(bool v) noexcept { tls13_ = v; }
  // During a TLS 1.3 handshake, a peer that failed before it could derive keys sends its
  // alert in the clear; accepting it lets us report why the handshake failed.
  void set_accept_cleartext_alerts(bool v) noexcept { cleartext_alerts_ = v; }
  // RFC 8449: the largest plaintext we told the peer we accept.
  void set_max_plaintext(std::size_t n) noexcept { max_plaintext_ = n; }
  std::size_t buffered() const noexcept { return end_ - start_ + lent_.size(); }
  // Bytes of memory the receive buffer holds (used or not).
  std::size_t capacity() const noexcept { return capacity_; }
  // Releases buffer memory while nothing is buffered or held (idle connections).
  void shrink_if_idle();

  // Keeps part of the last record returned by next() (application data the user has not
  // read yet) valid across feed(): compaction will not discard it; held() finds it again
  // wherever the buffer moved. consume_held(n) releases the first n bytes. A fragment that
  // was opened into next()'s `dest` is already with the caller: it is counted as delivered
  // instead (take_delivered() returns and resets the count).
  void hold(wire::MutableBytes fragment) noexcept;
  std::size_t take_delivered() noexcept { return std::exchange(delivered_, 0); }
  wire::MutableBytes held() noexcept {
    if (held_len_ == 0) return {};
    return {buf_.get() + held_at_, held_len_};
  }
  void consume_held(std::size_t n) noexcept;

 private:
  // Reclaims what has been read (held bytes stay) and makes room for `more` bytes at end_.
  void make_room(std::size_t more);
  void append(wire::Bytes bytes);
  void keep_lent();

  // Grown without zero-filling (bytes are always written before they are read), kept at its
  // high-water size until shrink_if_idle().
  std::unique_ptr<std::uint8_t[]> buf_;
  std::size_t capacity_ = 0;
  std::size_t end_ = 0;      // bytes in use in buf_
  std::size_t start_ = 0;    // first unread byte in buf_
  wire::Bytes lent_;         // between lend() and keep_rest(): unread bytes not yet copied
  std::size_t held_at_ = 0;  // offset of held bytes in buf_
  std::size_t held_len_ = 0;
  std::array<std::uint8_t, 1> spill_{};  // TLS 1.3: a content type that did not fit in dest
  std::size_t dest_used_ = 0;            // bytes of next()'s dest the last record was opened into
  std::size_t delivered_ = 0;            // application data opened into dest and accepted (hold())
  std::optional<RecordCipher> cipher_;
  bool tls13_ = true;
  bool cleartext_alerts_ = false;
  std::size_t max_plaintext_ = max_plaintext;
};

// An allocator whose value-initialisation leaves bytes as they are: a vector grown with
// resize() is not zero-filled first. For buffers whose every new byte is written before it is
// read, such as records sealed out of place (a memset of 16 KiB per 16 KiB record otherwise).
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() noexcept = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
// The buffer of records waiting for the transport.
using RecordBuffer = std::vector<std::uint8_t, DefaultInitAllocator<std::uint8_t>>;

// Builds records into an output buffer (a RecordBuffer, or a plain byte vector).
class RecordWriter {
 public:
  void set_cipher(std::optional<RecordCipher> cipher) noexcept { cipher_ = std::move(cipher); }
  // TLS 1.3 keys for records written from now on (RecordCipher::install13).
  Status set_cipher13(const CipherSuiteInfo& suite, wire::Bytes key, wire::Bytes iv) {
    return RecordCipher::install13(cipher_, suite, key, iv);
  }
  const std::optional<RecordCipher>& cipher() const noexcept { return cipher_; }
  void set_tls13(bool v) noexcept { tls13_ = v; }
  // The legacy_record_version written in headers (0x0301 for a first ClientHello, else 0x0303).
  void set_version(ProtocolVersion v) noexcept { version_ = v; }
  // RFC 8449: the largest plaintext the peer accepts (<= 2^14).
  void set_max_plaintext(std::size_t n) noexcept { max_fragment_ = n; }
  std::size_t max_fragment() const noexcept { return max_fragment_; }

  // Appends `data` as one or more records of `type` to `out` (fragmenting at max_fragment),
  // protected when a cipher is installed. Empty data writes one empty record (used only for
  // application data). Fails when the cipher is at its usage limit.
  template <class Buffer>
  Status write(ContentType type, wire::Bytes data, Buffer& out);
  // One cleartext record whatever cipher is installed (the TLS 1.3 compatibility CCS).
  template <class Buffer>
  Status write_unprotected(ContentType type, wire::Bytes data, Buffer& out);

 private:
  template <class Buffer>
  Status write_one(ContentType type, wire::Bytes data, Buffer& out, bool protect);

  std::optional<RecordCipher> cipher_;
  bool tls13_ = true;
  ProtocolVersion version_ = ProtocolVersion::tls12;
  std::size_t max_fragment_ = max_plaintext;
};

}  // namespace bulwark::tls
