#include "bulwark/crypto/hkdf.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "bulwark/wire.hpp"

namespace bulwark::crypto {

namespace {

std::span<const std::uint8_t> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

constexpr std::string_view tls13_label_prefix = "tls13 ";
constexpr std::size_t max_label_length = 255 - tls13_label_prefix.size();
constexpr std::size_t max_context_length = 255;
// HkdfLabel: length (2), label<7..255> (1 + 255), context<0..255> (1 + 255).
constexpr std::size_t max_stack_info = 2 + 1 + 255 + 1 + max_context_length;

// RFC 8446 §7.1: struct { uint16 length; opaque label<7..255>; opaque context<0..255>; }
// HkdfLabel, written into `buf`; the bytes written, or `invalid_argument`.
Result<std::span<const std::uint8_t>> hkdf_label(std::span<std::uint8_t, max_stack_info> buf,
                                                 std::string_view label,
                                                 std::span<const std::uint8_t> context,
                                                 std::size_t length) {
  if (label.empty() || label.size() > max_label_length) {
    return Error(Errc::invalid_argument, "HKDF-Expand-Label label must be 1..249 bytes");
  }
  if (context.size() > max_context_length) {
    return Error(Errc::invalid_argument, "HKDF-Expand-Label context longer than 255 bytes");
  }
  if (length > 0xffff) return Error(Errc::invalid_argument, "HKDF-Expand-Label length > 65535");
  wire::Writer w{wire::MutableBytes(buf)};
  w.u16(static_cast<std::uint16_t>(length));
  {
    auto full_label = w.prefixed<1>(7, 255);
    w.bytes(as_bytes(tls13_label_prefix));
    w.bytes(as_bytes(label));
  }
  w.prefixed_bytes<1>(context, 0, max_context_length);
  BW_TRY(w.status());
  return w.data();
}

// RFC 5869 §2.3: PRK is "a pseudorandom key of at least HashLen octets".
Status check_prk(HashAlg alg, std::span<const std::uint8_t> prk) {
  const std::size_t hash_len = digest_length(alg);
  if (hash_len == 0) return Error(Errc::invalid_argument, "unknown hash algorithm");
  if (prk.size() < hash_len) return Error(Errc::invalid_argument, "HKDF PRK shorter than HashLen");
  return {};
}

}  // namespace

Result<Secret> hkdf_extract(HashAlg alg, std::span<const std::uint8_t> salt,
                            std::span<const std::uint8_t> ikm) {
  const std::size_t hash_len = digest_length(alg);
  if (hash_len == 0) return Error(Errc::invalid_argument, "unknown hash algorithm");
  // RFC 5869 §2.2: if the salt is not provided, it is set to a string of HashLen zeros.
  const std::array<std::uint8_t, max_digest_length> zeros{};
  const auto key = salt.empty() ? std::span<const std::uint8_t>(zeros.data(), hash_len) : salt;
  BW_ASSIGN(const Digest prk, hmac(alg, key, ikm));
  return Secret(prk.span());
}

Result<Secret> hkdf_expand(const Hmac& prk, std::span<const std::uint8_t> info,
                           std::size_t length) {
  const std::size_t hash_len = prk.size();
  // RFC 5869 §2.3: L <= 255*HashLen (the block counter is one octet).
  if (length > 255 * hash_len) {
    return Error(Errc::invalid_argument, "HKDF-Expand length exceeds 255 * HashLen");
  }
  // Each block is one MAC under the kept key over T(i-1) | info | i, gathered in a stack
  // buffer: TLS 1.3's HkdfLabel always fits; a longer info gets a heap buffer.
  std::array<std::uint8_t, max_digest_length + max_stack_info + 1> stack_message;
  Secret heap_message;
  std::span<std::uint8_t> message(stack_message);
  if (info.size() > max_stack_info) {
    heap_message = Secret(max_digest_length + info.size() + 1);
    message = std::span<std::uint8_t>(heap_message.data(), heap_message.size());
  }
  Secret okm(length);
  Digest previous;  // T(0) is the empty string
  std::size_t done = 0;
  std::size_t touched = 0;  // how much of the stack buffer held key material
  Status status;
  // T(i) = HMAC-Hash(PRK, T(i-1) | info | i)
  for (std::uint8_t counter = 1; done < length; ++counter) {
    std::size_t used = 0;
    std::memcpy(message.data(), previous.bytes.data(), previous.size);
    used += previous.size;
    if (!info.empty()) std::memcpy(message.data() + used, info.data(), info.size());
    used += info.size();
    message[used++] = counter;
    touched = std::max(touched, used);
    Result<Digest> block = prk.mac(message.first(used));
    if (!block) {
      status = block.error();
      break;
    }
    previous = *block;
    const std::size_t n = std::min(hash_len, length - done);
    std::memcpy(okm.data() + done, previous.bytes.data(), n);
    done += n;
  }
  // T(i-1) is key material; only the bytes written can hold it.
  wipe(message.first(touched));
  BW_TRY(status);
  return okm;
}

Result<Secret> hkdf_expand(HashAlg alg, std::span<const std::uint8_t> prk,
                           std::span<const std::uint8_t> info, std::size_t length) {
  BW_TRY(check_prk(alg, prk));
  return hkdf_expand(Hmac(alg, prk), info, length);
}

Result<Secret> hkdf_expand_label(const Hmac& secret, std::string_view label,
                                 std::span<const std::uint8_t> context, std::size_t length) {
  std::array<std::uint8_t, max_stack_info> buf;
  BW_ASSIGN(const auto info, hkdf_label(buf, label, context, length));
  return hkdf_expand(secret, info, length);
}

Result<Secret> hkdf_expand_label(HashAlg alg, std::span<const std::uint8_t> secret,
                                 std::string_view label, std::span<const std::uint8_t> context,
                                 std::size_t length) {
  std::array<std::uint8_t, max_stack_info> buf;
  BW_ASSIGN(const auto info, hkdf_label(buf, label, context, length));
  BW_TRY(check_prk(alg, secret));
  return hkdf_expand(Hmac(alg, secret), info, length);
}

Result<Secret> derive_secret(const Hmac& secret, std::string_view label,
                             std::span<const std::uint8_t> transcript_hash) {
  if (transcript_hash.size() != secret.size()) {
    return Error(Errc::invalid_argument, "Derive-Secret needs a HashLen transcript hash");
  }
  return hkdf_expand_label(secret, label, transcript_hash, secret.size());
}

Result<Secret> derive_secret(HashAlg alg, std::span<const std::uint8_t> secret,
                             std::string_view label,
                             std::span<const std::uint8_t> transcript_hash) {
  const std::size_t hash_len = digest_length(alg);
  if (hash_len == 0 || transcript_hash.size() != hash_len) {
    return Error(Errc::invalid_argument, "Derive-Secret needs a HashLen transcript hash");
  }
  return hkdf_expand_label(alg, secret, label, transcript_hash, hash_len);
}

}  // namespace bulwark::crypto
