// The record layer's receive path under every suite we implement (TLS 1.3 AEAD, TLS 1.2 AEAD
// and the legacy TLS 1.2 CBC MAC-then-encrypt), with fixed keys.
//
// Input: byte 0 picks the suite, byte 1 the mode and the receive limit (RFC 8449), byte 2 the
// chunk size in which bytes reach the RecordReader; the rest is
//  - raw mode: the received byte stream itself (arbitrary records);
//  - seal mode: plaintexts that a RecordWriter with the same keys seals into records, after
//    which one byte of the sealed stream is flipped (or none, when the xor value is 0).
// Checks: nothing crashes or reads outside the buffer; every record accepted as protected is
// byte for byte what the key holder seals for that plaintext at that sequence number (so no
// forged or altered record is ever accepted); a tampered stream yields no record from the
// flipped byte on; an untampered one yields every plaintext back, in order.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <vector>

#include "bulwark/crypto/random.hpp"
#include "bulwark/tls/cipher_suites.hpp"
#include "bulwark/tls/record.hpp"
#include "common.hpp"

using namespace bulwark;
using namespace bulwark::tls;
using fuzz::check;

namespace {

// Hands out the bytes it was last given: the twin sealer's CBC IV is the received record's.
class NextIv final : public crypto::Random {
 public:
  void set(wire::Bytes iv) noexcept { iv_ = iv; }
  Status fill(std::span<std::uint8_t> out) noexcept override {
    if (iv_.size() != out.size()) return Error(Errc::invalid_argument, "IV size");
    std::copy(iv_.begin(), iv_.end(), out.begin());
    return {};
  }

 private:
  wire::Bytes iv_;
};

// Proves an accepted protected record genuine: seals the same plaintext with the same keys at
// the same sequence number and compares with the record as received.
class Twin {
 public:
  Twin(const CipherSuiteInfo& suite, bool tls13)
      : cipher_(fuzz::record_cipher(suite, iv_)), tls13_(tls13) {}

  void check_genuine(wire::Bytes received, const Record& rec) {
    const std::size_t body = received.size() - record_header_size;
    // TLS 1.3: text || inner type || zero padding, as many zeros as the record carried.
    std::size_t text_len = rec.fragment.size();
    if (tls13_) {
      const std::size_t overhead = cipher_.sealed_length(0);
      check(body >= overhead + text_len + 1);
      text_len = body - overhead;
    }
    check(cipher_.sealed_length(text_len) == body);
    buf_.assign(received.begin(), received.begin() + record_header_size);
    buf_.resize(received.size(), 0);
    const std::size_t at = record_header_size + cipher_.explicit_nonce_size();
    std::copy(rec.fragment.begin(), rec.fragment.end(), buf_.begin() + at);
    if (tls13_) buf_[at + rec.fragment.size()] = static_cast<std::uint8_t>(rec.type);
    if (cipher_.cbc()) iv_.set(received.subspan(record_header_size, cipher_.explicit_nonce_size()));
    check(cipher_.seal(buf_, text_len).ok());
    check(std::equal(buf_.begin(), buf_.end(), received.begin(), received.end()));
  }

 private:
  NextIv iv_;
  RecordCipher cipher_;
  bool tls13_;
  std::vector<std::uint8_t> buf_;
};

struct Sealed {
  ContentType type;
  wire::Bytes plaintext;
  std::size_t end;  // offset in the stream just past this record
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<const CipherSuiteInfo*> suites = [] {
    std::vector<const CipherSuiteInfo*> v;
    for (const auto& s : supported_cipher_suites())
      v.push_back(&s);
    return v;
  }();
  if (size < 3) return 0;
  const CipherSuiteInfo& suite = *suites[data[0] % suites.size()];
  const bool tls13 = suite.version == ProtocolVersion::tls13;
  const bool seal_mode = (data[1] & 1) != 0;
  // RFC 8449 limits from 64 bytes up, or the default 2^14.
  const std::size_t limit = (data[1] >> 1) == 0 ? max_plaintext : 64 + (data[1] >> 1) * 127u;
  const std::size_t chunk = 1 + data[2] * 17u;
  wire::Bytes rest(data + 3, size - 3);

  crypto::DeterministicRandom iv_source(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>("fuzz-record"), 11));
  RecordReader reader;
  reader.set_tls13(tls13);
  reader.set_max_plaintext(limit);
  reader.set_cipher(fuzz::record_cipher(suite, iv_source));

  std::vector<std::uint8_t> stream;
  std::vector<Sealed> sealed;
  std::optional<std::size_t> flipped;
  if (!seal_mode) {
    stream.assign(rest.begin(), rest.end());
  } else {
    // Seal-mode input: flip position (2 bytes), xor value, then records as
    // [type selector][length][plaintext].
    if (rest.size() < 3) return 0;
    const std::size_t flip_at = (rest[0] << 8) | rest[1];
    const std::uint8_t flip_xor = rest[2];
    rest = rest.subspan(3);
    RecordWriter writer;
    writer.set_tls13(tls13);
    writer.set_cipher(fuzz::record_cipher(suite, iv_source));
    static constexpr ContentType types[] = {ContentType::application_data, ContentType::handshake,
                                            ContentType::alert, ContentType::heartbeat};
    while (rest.size() >= 2) {
      const ContentType type = types[rest[0] % 4];
      const std::size_t n = std::min<std::size_t>(rest[1] * 8u + rest[0] / 4, rest.size() - 2);
      const wire::Bytes text = rest.subspan(2, n);
      rest = rest.subspan(2 + n);
      if (text.empty() && type != ContentType::application_data) continue;
      const std::size_t before = stream.size();
      check(writer.write(type, text, stream).ok());
      // One record each: plaintexts here stay under 2^14.
      check(stream.size() - before ==
            record_header_size + writer.cipher()->sealed_length(text.size() + (tls13 ? 1 : 0)));
      sealed.push_back(Sealed{type, text, stream.size()});
    }
    if (flip_xor != 0 && flip_at < stream.size()) {
      stream[flip_at] ^= flip_xor;
      flipped = flip_at;
    }
  }

  Twin twin(suite, tls13);
  std::size_t offset = 0;  // start of the next record in `stream`
  std::size_t accepted = 0;
  bool failed = false;
  for (std::size_t i = 0; i < stream.size() && !failed; i += chunk) {
    check(reader.feed(wire::Bytes(stream).subspan(i, std::min(chunk, stream.size() - i))).ok());
    while (true) {
      auto rec = reader.next();
      if (!rec) {
        failed = true;
        break;
      }
      if (!*rec) break;
      const Record& r = **rec;
      const std::size_t length = (stream[offset + 3] << 8) | stream[offset + 4];
      const wire::Bytes whole = wire::Bytes(stream).subspan(offset, record_header_size + length);
      offset += whole.size();
      // The fragment lies inside the record as received (no over-read) ...
      check(r.fragment.size() <= length);
      if (!r.protected_record) {
        // With a cipher installed only TLS 1.3's compatibility CCS (RFC 8446 §5) comes in
        // the clear; it is never application data, never opened.
        check(tls13 && r.type == ContentType::change_cipher_spec && r.fragment.size() == length);
        check(!seal_mode || flipped.has_value());  // our writer sealed every record
        continue;
      }
      // RFC 8446 §5.4 / RFC 8449 §4: never more plaintext than we accept.
      check(r.fragment.size() <= limit);
      twin.check_genuine(whole, r);
      if (seal_mode) {
        check(accepted < sealed.size());
        const Sealed& want = sealed[accepted];
        check(r.type == want.type);
        check(std::equal(r.fragment.begin(), r.fragment.end(), want.plaintext.begin(),
                         want.plaintext.end()));
        // A record holding the flipped byte is never accepted.
        if (flipped) check(want.end <= *flipped);
      }
      ++accepted;
    }
  }
  if (seal_mode && !flipped) {
    // An untouched stream comes back whole unless a record exceeded the receive limit.
    const bool over_limit = std::any_of(
        sealed.begin(), sealed.end(), [&](const Sealed& s) { return s.plaintext.size() > limit; });
    if (!over_limit) check(!failed && accepted == sealed.size());
  }
  return 0;
}
