// TLS 1.2 CBC record protection. How opening stays constant-time (Lucky13):
//
//  - The record's length is public; the padding length byte is not. The padding is checked
//    over every byte that any padding_length value could cover (up to 256), with masks. Bad
//    padding is treated as no padding (RFC 5246 §6.2.3.2's implementation note), so a MAC is
//    still computed and checked.
//  - The MAC sits at a secret offset. It is copied out by scanning the whole region where it
//    can lie, into a buffer rotated by a secret amount, which is then rotated back with masks:
//    no memory address depends on the padding.
//  - libcrypto's hash interfaces only take whole messages to a padded end, so the HMAC cannot be
//    evaluated over the maximum length with a masked end as OpenSSL's internal
//    ssl3_cbc_digest_record does. Instead the number of compression-function calls is made
//    constant: after the HMAC over the real data, a second hash state absorbs exactly as many
//    dummy blocks as the real data was short of the longest possible plaintext. Both run the
//    same block function, so the total work depends only on the record length. (s2n-tls
//    equalises the same way.)
//  - Padding and MAC failures merge into one mask and one error, checked once at the end.
#include "bulwark/crypto/cbc.hpp"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>

#include "bulwark/crypto/secret.hpp"
#include "crypto/ossl.hpp"

namespace bulwark::crypto {

namespace {

// ---- constant-time helpers: all-ones / all-zero masks, no branches -------------------------
using Word = std::size_t;
constexpr int top_bit = sizeof(Word) * 8 - 1;

// Keeps the compiler from turning mask arithmetic back into branches.
inline Word barrier(Word x) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __asm__("" : "+r"(x));
#endif
  return x;
}
// All ones when the top bit of x is set.
inline Word mask_from_msb(Word x) noexcept {
  return barrier(Word{0} - (x >> top_bit));
}
// a < b, for values below 2^(top_bit) (record lengths are below 2^16).
inline Word lt_mask(Word a, Word b) noexcept {
  return mask_from_msb(a - b);
}
inline Word ge_mask(Word a, Word b) noexcept {
  return ~lt_mask(a, b);
}
inline Word nonzero_mask(Word x) noexcept {
  return mask_from_msb(x | (Word{0} - x));
}
inline Word eq_mask(Word a, Word b) noexcept {
  return ~nonzero_mask(a ^ b);
}

// Fetched once per process (thread-safe static initialisation), never per record.
const EVP_CIPHER* fetched_cbc(CbcAlg alg) noexcept {
  switch (alg) {
    case CbcAlg::aes_128_cbc: {
      static const ossl::CipherPtr c(EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr));
      return c.get();
    }
    case CbcAlg::aes_256_cbc: {
      static const ossl::CipherPtr c(EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr));
      return c.get();
    }
  }
  return nullptr;
}

constexpr int encrypt = 1;
constexpr int decrypt = 0;

// Installs a record's IV (the key schedule stays) with PKCS padding off: TLS pads itself.
bool start_record(EVP_CIPHER_CTX* ctx, const std::uint8_t* iv, int direction) noexcept {
  unsigned int no_padding = 0;
  OSSL_PARAM params[2] = {OSSL_PARAM_construct_uint(OSSL_CIPHER_PARAM_PADDING, &no_padding),
                          OSSL_PARAM_construct_end()};
  return EVP_CipherInit_ex2(ctx, nullptr, nullptr, iv, direction, params) == 1;
}

// CBC over whole blocks, in place. Records are at most 2^14 + 2048 bytes, well within int.
bool cbc_blocks(EVP_CIPHER_CTX* ctx, std::span<std::uint8_t> text) noexcept {
  int written = 0;
  return EVP_CipherUpdate(ctx, text.data(), &written, text.data(), static_cast<int>(text.size())) ==
             1 &&
         static_cast<std::size_t>(written) == text.size();
}

// Bytes of the message-length field each hash appends when padding its last block.
constexpr std::size_t length_field_size(HashAlg alg) noexcept {
  return alg == HashAlg::sha384 || alg == HashAlg::sha512 ? 16 : 8;
}

}  // namespace

struct TlsCbcHmac::State {
  State(Hmac keyed, HashAlg alg)
      : enc(EVP_CIPHER_CTX_new()),
        dec(EVP_CIPHER_CTX_new()),
        mac(std::move(keyed)),
        block(block_length(alg)),
        length_field(length_field_size(alg)) {
    while ((std::size_t{1} << block_shift) < block)
      ++block_shift;
    dummy.init(alg);
  }

  ossl::CipherCtxPtr enc;
  ossl::CipherCtxPtr dec;
  Hmac mac;
  detail::ShaState dummy;  // absorbs the dummy blocks; never finalised
  std::size_t block;       // hash block size (a power of two)
  int block_shift = 0;     // log2(block)
  std::size_t length_field;
  std::array<std::uint8_t, 8 * 128> zeros{};  // dummy block input (at most 8 blocks a record)
};

TlsCbcHmac::TlsCbcHmac(HashAlg mac_alg, std::unique_ptr<State> state) noexcept
    : mac_alg_(mac_alg), state_(std::move(state)) {}
TlsCbcHmac::TlsCbcHmac(TlsCbcHmac&&) noexcept = default;
TlsCbcHmac& TlsCbcHmac::operator=(TlsCbcHmac&&) noexcept = default;
TlsCbcHmac::~TlsCbcHmac() = default;

Result<TlsCbcHmac> TlsCbcHmac::create(CbcAlg alg, std::span<const std::uint8_t> enc_key,
                                      HashAlg mac_alg, std::span<const std::uint8_t> mac_key) {
  if (cbc_key_length(alg) == 0 || enc_key.size() != cbc_key_length(alg)) {
    return Error(Errc::invalid_argument, "wrong CBC key length");
  }
  if (digest_length(mac_alg) == 0 || mac_key.size() != digest_length(mac_alg)) {
    return Error(Errc::invalid_argument, "wrong MAC key length");
  }
  const EVP_CIPHER* cipher = fetched_cbc(alg);
  if (cipher == nullptr) return ossl::failure(Errc::unsupported, "CBC cipher not available");
  BW_ASSIGN(Hmac mac, Hmac::create(mac_alg, mac_key));
  auto st = std::make_unique<State>(std::move(mac), mac_alg);
  // The key schedules are computed here, once; records only install their IV.
  if (!st->enc || !st->dec ||
      EVP_CipherInit_ex2(st->enc.get(), cipher, enc_key.data(), nullptr, encrypt, nullptr) != 1 ||
      EVP_CipherInit_ex2(st->dec.get(), cipher, enc_key.data(), nullptr, decrypt, nullptr) != 1) {
    return ossl::failure(Errc::crypto_failure, "CBC record key setup failed");
  }
  return TlsCbcHmac(mac_alg, std::move(st));
}

std::size_t TlsCbcHmac::sealed_length(std::size_t plaintext_len) const noexcept {
  const std::size_t body = plaintext_len + mac_length() + 1;
  return cbc_block_size + (body + cbc_block_size - 1) / cbc_block_size * cbc_block_size;
}

std::size_t TlsCbcHmac::min_sealed_length() const noexcept {
  return sealed_length(0);
}

Status TlsCbcHmac::seal(std::span<const std::uint8_t, tls_mac_prefix_size> mac_prefix,
                        std::span<std::uint8_t> fragment, std::size_t plaintext_len) noexcept {
  if (!state_ || fragment.size() != sealed_length(plaintext_len)) {
    return Error(Errc::invalid_argument, "CBC fragment does not match its plaintext length");
  }
  const std::size_t mac_len = mac_length();
  const auto text = fragment.subspan(cbc_block_size);
  // RFC 5246 §6.2.3.1: MAC(seq_num + type + version + length + fragment).
  std::array<std::uint8_t, tls_mac_prefix_size + 2> header;
  std::copy(mac_prefix.begin(), mac_prefix.end(), header.begin());
  header[11] = static_cast<std::uint8_t>(plaintext_len >> 8);
  header[12] = static_cast<std::uint8_t>(plaintext_len);
  Hmac& mac = state_->mac;
  if (!mac.reset() || !mac.update(header) || !mac.update(text.first(plaintext_len))) {
    return Error(Errc::crypto_failure, "record MAC failed");
  }
  auto tag = mac.final();
  if (!tag) return std::move(tag).error();
  std::copy_n(tag->bytes.begin(), mac_len,
              text.begin() + static_cast<std::ptrdiff_t>(plaintext_len));
  // RFC 5246 §6.2.3.2: padding_length + 1 bytes, each holding padding_length.
  const std::size_t padding_length = text.size() - plaintext_len - mac_len - 1;
  std::fill(text.begin() + static_cast<std::ptrdiff_t>(plaintext_len + mac_len), text.end(),
            static_cast<std::uint8_t>(padding_length));
  if (!start_record(state_->enc.get(), fragment.data(), encrypt) ||
      !cbc_blocks(state_->enc.get(), text)) {
    return ossl::failure(Errc::crypto_failure, "CBC encryption failed");
  }
  return {};
}

Result<std::size_t> TlsCbcHmac::open(std::span<const std::uint8_t, tls_mac_prefix_size> mac_prefix,
                                     std::span<std::uint8_t> fragment) noexcept {
  if (!state_) return Errc::invalid_argument;
  const std::size_t mac_len = mac_length();
  // RFC 5246 §6.2.3.2: whole blocks, an IV and room for the MAC and the padding length byte;
  // anything else cannot be authentic. The length is public, so this may branch.
  if (fragment.size() % cbc_block_size != 0 || fragment.size() < min_sealed_length()) {
    return Error(Errc::bad_record_mac, "CBC record has an impossible length");
  }
  const auto text = fragment.subspan(cbc_block_size);
  if (!start_record(state_->dec.get(), fragment.data(), decrypt) ||
      !cbc_blocks(state_->dec.get(), text)) {
    wipe(text);
    return ossl::failure(Errc::crypto_failure, "CBC decryption failed");
  }
  const Word n = text.size();
  const Word pad = text[n - 1];

  // The padding must fit beside the MAC, and each of its padding_length + 1 bytes must equal
  // padding_length. Every byte a padding_length could reach is looked at.
  Word good = ge_mask(n, pad + 1 + mac_len);
  const Word to_check = std::min<Word>(256, n);
  for (Word i = 0; i < to_check; ++i) {
    const Word in_padding = lt_mask(i, pad + 1);
    good &= ~(in_padding & nonzero_mask(text[n - 1 - i] ^ pad));
  }
  // Bad padding: MAC the record as if it had none.
  const Word data_len = n - 1 - mac_len - (pad & good);

  // Copy the MAC out of text[data_len, data_len + mac_len) without a secret address. It lies
  // within the last 255 + mac_len bytes before the padding length byte.
  const Word max_data_len = n - 1 - mac_len;
  const Word scan_start = max_data_len - std::min<Word>(255, max_data_len);
  std::array<std::uint8_t, max_digest_length> rotated{};
  Word rotation = 0;
  Word slot = 0;  // (j - scan_start) mod mac_len: public
  for (Word j = scan_start; j < n - 1; ++j) {
    const Word in_mac = ge_mask(j, data_len) & lt_mask(j, data_len + mac_len);
    rotated[slot] |= static_cast<std::uint8_t>(text[j] & in_mac);
    rotation |= slot & eq_mask(j, data_len);
    ++slot;
    slot &= ~eq_mask(slot, mac_len);
  }
  std::array<std::uint8_t, max_digest_length> received{};
  for (Word i = 0; i < mac_len; ++i) {
    Word from = i + rotation;
    from -= mac_len & ge_mask(from, mac_len);
    Word byte = 0;
    for (Word k = 0; k < mac_len; ++k)
      byte |= rotated[k] & eq_mask(k, from);
    received[i] = static_cast<std::uint8_t>(byte);
  }

  // RFC 5246 §6.2.3.1: MAC(seq_num + type + version + length + fragment).
  std::array<std::uint8_t, tls_mac_prefix_size + 2> header;
  std::copy(mac_prefix.begin(), mac_prefix.end(), header.begin());
  header[11] = static_cast<std::uint8_t>(data_len >> 8);
  header[12] = static_cast<std::uint8_t>(data_len);
  Hmac& mac = state_->mac;
  if (!mac.reset() || !mac.update(header) || !mac.update(text.first(data_len))) {
    wipe(text);
    return Error(Errc::crypto_failure, "record MAC failed");
  }
  auto computed = mac.final();
  if (!computed) {
    wipe(text);
    return std::move(computed).error();
  }
  // The inner hash of HMAC covers one key block, the 13-byte header and the data; with the
  // hash's own padding that is ((block + 13 + len + length_field) >> shift) + 1 compression
  // calls. Make up the difference to the longest possible data with dummy blocks.
  const State& st = *state_;
  const auto blocks = [&](Word len) {
    return ((st.block + 13 + len + st.length_field) >> st.block_shift) + 1;
  };
  const Word dummy_bytes = (blocks(max_data_len) - blocks(data_len)) << st.block_shift;
  if (dummy_bytes > state_->zeros.size()) {
    wipe(text);
    return Error(Errc::crypto_failure, "record MAC padding failed");
  }
  state_->dummy.update(std::span<const std::uint8_t>(state_->zeros.data(), dummy_bytes));

  good &= Word{0} - static_cast<Word>(
                        constant_time_equal(computed->span(), std::span(received).first(mac_len)));
  wipe(rotated);
  wipe(received);
  if (good == 0) {
    wipe(text);
    return Error(Errc::bad_record_mac, "record authentication failed");
  }
  return static_cast<std::size_t>(data_len);
}

}  // namespace bulwark::crypto
