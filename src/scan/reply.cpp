// The probe reply parser: plaintext TLS records (and SSL 2.0 framing) through wire::Reader.
#include "bulwark/scan/reply.hpp"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include <algorithm>
#include <string>
#include <utility>

#include "crypto/ossl.hpp"

#include "bulwark/tls/types.hpp"

namespace bulwark::scan {

namespace {

// RFC 8446 §4.1.3: SHA-256("HelloRetryRequest"), the random of a HelloRetryRequest.
constexpr std::array<std::uint8_t, 32> hello_retry_random = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

// RFC 5246 §6.2.1 allows 2^14 bytes of plaintext; §6.2.3 up to 2^14 + 2048 when protected.
constexpr std::size_t max_record = tls::max_plaintext + 2048;

Result<ServerHelloInfo> parse_server_hello(wire::Bytes body) {
  wire::Reader r(body);
  ServerHelloInfo h;
  BW_ASSIGN(h.legacy_version, r.u16());
  h.version = h.legacy_version;
  BW_ASSIGN(wire::Bytes random, r.bytes(32));
  std::copy(random.begin(), random.end(), h.random.begin());
  // RFC 5246 §7.4.1.3: session_id<0..32> (the Slapper worm's client overflow was a longer one).
  BW_ASSIGN(wire::Bytes sid, r.prefixed_bytes<1>(0, 32));
  h.session_id.assign(sid.begin(), sid.end());
  BW_ASSIGN(h.cipher_suite, r.u16());
  BW_ASSIGN(h.compression_method, r.u8());
  h.hello_retry = h.random == hello_retry_random;
  if (!r.empty()) {
    BW_ASSIGN(wire::Reader exts, r.prefixed<2>());
    while (!exts.empty()) {
      RawExtension e;
      BW_ASSIGN(e.type, exts.u16());
      BW_ASSIGN(wire::Bytes data, exts.prefixed_bytes<2>());
      e.data.assign(data.begin(), data.end());
      // RFC 5246 §7.4.1.4: no more than one extension of each type.
      if (h.has(e.type)) return Error(Errc::illegal_parameter, "duplicate extension");
      h.extensions.push_back(std::move(e));
    }
  }
  BW_TRY(r.expect_end());
  if (const RawExtension* sv =
          h.find(static_cast<std::uint16_t>(tls::ExtensionType::supported_versions))) {
    // RFC 8446 §4.2.1: the server's supported_versions holds the one selected version.
    wire::Reader v(sv->data);
    BW_ASSIGN(h.version, v.u16());
    BW_TRY(v.expect_end());
  }
  return h;
}

Result<std::vector<std::vector<std::uint8_t>>> parse_certificate12(wire::Bytes body) {
  // RFC 5246 §7.4.2: certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>.
  wire::Reader r(body);
  BW_ASSIGN(wire::Reader list, r.prefixed<3>());
  BW_TRY(r.expect_end());
  std::vector<std::vector<std::uint8_t>> certs;
  while (!list.empty()) {
    BW_ASSIGN(wire::Bytes der, list.prefixed_bytes<3>(1, 0xffffff));
    certs.emplace_back(der.begin(), der.end());
  }
  return certs;
}

}  // namespace

const RawExtension* ServerHelloInfo::find(std::uint16_t type) const noexcept {
  for (const RawExtension& e : extensions)
    if (e.type == type) return &e;
  return nullptr;
}

Status ReplyParser::feed(wire::Bytes data) {
  if (error_) return *error_;
  if (done_) return {};
  total_ += data.size();
  if (total_ > max_bytes_) {
    error_ = Error(Errc::limit_exceeded, "server reply exceeds the probe's byte limit");
    return *error_;
  }
  pending_.insert(pending_.end(), data.begin(), data.end());
  Status s = sslv2_ ? parse_sslv2() : parse_records();
  if (!s) error_ = s.error();
  return s;
}

Status ReplyParser::parse_sslv2() {
  if (pending_.empty()) return {};
  // A TLS-framed answer (an alert, or a TLS ServerHello) to an SSLv2 hello: no SSLv2.
  if ((pending_[0] & 0x80) == 0) {
    sslv2_ = false;
    return parse_records();
  }
  wire::Reader r(pending_);
  BW_ASSIGN(std::uint16_t header, r.u16());
  const std::size_t length = header & 0x7fff;
  if (r.remaining() < length) return {};
  BW_ASSIGN(wire::Bytes msg, r.bytes(length));
  wire::Reader m(msg);
  BW_ASSIGN(std::uint8_t type, m.u8());
  if (type == 0) {  // MSG-ERROR
    reply_.alert = std::pair<std::uint8_t, std::uint8_t>{2, 0};
    done_ = true;
    return {};
  }
  if (type != 4) return Error(Errc::unexpected_message, "SSLv2 reply is not a SERVER-HELLO");
  Sslv2ServerHello h;
  BW_TRY(m.skip(2));  // session_id_hit, certificate_type
  BW_ASSIGN(h.version, m.u16());
  BW_ASSIGN(std::uint16_t cert_len, m.u16());
  BW_ASSIGN(std::uint16_t specs_len, m.u16());
  BW_ASSIGN(std::uint16_t conn_id_len, m.u16());
  BW_ASSIGN(wire::Bytes cert, m.bytes(cert_len));
  BW_ASSIGN(wire::Bytes specs, m.bytes(specs_len));
  BW_TRY(m.skip(conn_id_len));
  BW_TRY(m.expect_end());
  if (specs.size() % 3 != 0) return Error(Errc::truncated, "SSLv2 cipher specs");
  wire::Reader sr(specs);
  while (!sr.empty()) {
    BW_ASSIGN(std::uint32_t c, sr.u24());
    h.ciphers.push_back(c);
  }
  h.certificate.assign(cert.begin(), cert.end());
  reply_.record_version = 0x0002;
  reply_.sslv2 = std::move(h);
  done_ = true;
  return {};
}

Status ReplyParser::parse_records() {
  std::size_t used = 0;
  while (!done_) {
    wire::Reader r(wire::Bytes(pending_).subspan(used));
    if (r.remaining() < 5) break;
    BW_ASSIGN(std::uint8_t type, r.u8());
    BW_ASSIGN(std::uint16_t version, r.u16());
    BW_ASSIGN(std::uint16_t length, r.u16());
    // Not TLS framing at all (an HTTP server, an SSH banner, garbage): refuse early.
    if (type < 20 || type > 24 || (version >> 8) != 3)
      return Error(Errc::decode_failed, "the reply is not a TLS record");
    if (length > max_record) return Error(Errc::record_overflow, "record too long");
    if (r.remaining() < length) break;
    BW_ASSIGN(wire::Bytes fragment, r.bytes(length));
    if (reply_.record_version == 0) reply_.record_version = version;
    used += 5 + length;
    switch (static_cast<tls::ContentType>(type)) {
      case tls::ContentType::alert: {
        wire::Reader a(fragment);
        BW_ASSIGN(std::uint8_t level, a.u8());
        BW_ASSIGN(std::uint8_t description, a.u8());
        reply_.alert = std::pair<std::uint8_t, std::uint8_t>{level, description};
        // A warning alert before the ServerHello (e.g. unrecognized_name) is not an answer.
        if (level == static_cast<std::uint8_t>(tls::AlertLevel::fatal) || reply_.hello)
          done_ = true;
        break;
      }
      case tls::ContentType::handshake:
        BW_TRY(on_handshake_bytes(fragment));
        break;
      default:
        // ChangeCipherSpec or protected records: the plaintext flight is over.
        if (!reply_.hello) return Error(Errc::unexpected_message, "record before ServerHello");
        done_ = true;
        break;
    }
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(used));
  return {};
}

Status ReplyParser::on_handshake_bytes(wire::Bytes fragment) {
  handshake_.insert(handshake_.end(), fragment.begin(), fragment.end());
  std::size_t used = 0;
  while (!done_) {
    wire::Reader r(wire::Bytes(handshake_).subspan(used));
    if (r.remaining() < tls::handshake_header_size) break;
    BW_ASSIGN(std::uint8_t type, r.u8());
    BW_ASSIGN(std::uint32_t length, r.u24());
    if (length > tls::max_handshake_message)
      return Error(Errc::length_overflow, "handshake message too long");
    if (r.remaining() < length) break;
    BW_ASSIGN(wire::Bytes body, r.bytes(length));
    used += tls::handshake_header_size + length;
    BW_TRY(on_message(type, body));
  }
  handshake_.erase(handshake_.begin(), handshake_.begin() + static_cast<std::ptrdiff_t>(used));
  return {};
}

Status ReplyParser::on_message(std::uint8_t type, wire::Bytes body) {
  using tls::HandshakeType;
  const auto t = static_cast<HandshakeType>(type);
  if (!reply_.hello) {
    if (t != HandshakeType::server_hello)
      return Error(Errc::unexpected_message, "the first handshake message is not a ServerHello");
    BW_ASSIGN(ServerHelloInfo h, parse_server_hello(body));
    const bool encrypted_after = h.hello_retry || h.version >= 0x0304;
    reply_.hello = std::move(h);
    if (encrypted_after) done_ = true;
    return {};
  }
  switch (t) {
    case HandshakeType::certificate: {
      BW_ASSIGN(reply_.certificates, parse_certificate12(body));
      break;
    }
    case HandshakeType::server_key_exchange:
      reply_.server_key_exchange.assign(body.begin(), body.end());
      break;
    case HandshakeType::certificate_status:
      reply_.certificate_status = true;
      break;
    case HandshakeType::certificate_request:
      reply_.certificate_request = true;
      break;
    case HandshakeType::server_hello_done:
      // RFC 5246 §7.4.5: ServerHelloDone is empty.
      if (!body.empty()) return Error(Errc::decode_failed, "ServerHelloDone with a body");
      reply_.server_hello_done = true;
      done_ = true;
      break;
    default:
      return Error(Errc::unexpected_message, "unexpected handshake message after ServerHello");
  }
  return {};
}

namespace {

// The primes of libcrypto's named DH groups, loaded once per process.
const std::vector<std::pair<std::string_view, std::vector<std::uint8_t>>>& named_dh_primes() {
  static const auto primes = [] {
    std::vector<std::pair<std::string_view, std::vector<std::uint8_t>>> out;
    for (std::string_view name : {"ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192",
                                  "modp_1536", "modp_2048", "modp_3072", "modp_4096", "modp_6144",
                                  "modp_8192", "dh_1024_160", "dh_2048_224", "dh_2048_256"}) {
      crypto::ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr));
      if (!ctx || EVP_PKEY_paramgen_init(ctx.get()) <= 0) continue;
      std::string group(name);
      const OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group.data(), 0),
          OSSL_PARAM_construct_end()};
      EVP_PKEY* raw = nullptr;
      if (EVP_PKEY_CTX_set_params(ctx.get(), params) <= 0 ||
          EVP_PKEY_paramgen(ctx.get(), &raw) <= 0)
        continue;
      crypto::ossl::PkeyPtr key(raw);
      BIGNUM* p = nullptr;
      if (EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_FFC_P, &p) <= 0) continue;
      std::unique_ptr<BIGNUM, crypto::ossl::Deleter<BN_free>> owned(p);
      std::vector<std::uint8_t> bytes(static_cast<std::size_t>(BN_num_bytes(p)));
      BN_bn2bin(p, bytes.data());
      out.emplace_back(name, std::move(bytes));
    }
    ERR_clear_error();
    return out;
  }();
  return primes;
}

}  // namespace

std::string_view known_dh_group(wire::Bytes prime) {
  while (!prime.empty() && prime.front() == 0)
    prime = prime.subspan(1);
  for (const auto& [name, p] : named_dh_primes())
    if (std::equal(prime.begin(), prime.end(), p.begin(), p.end())) return name;
  return {};
}

std::size_t bit_length(wire::Bytes n) noexcept {
  std::size_t i = 0;
  while (i < n.size() && n[i] == 0)
    ++i;
  if (i == n.size()) return 0;
  std::size_t bits = (n.size() - i - 1) * 8;
  for (std::uint8_t top = n[i]; top != 0; top >>= 1)
    ++bits;
  return bits;
}

Result<KeyExchangeParams> parse_key_exchange(wire::Bytes body, KeyExchangeParams::Kind kind) {
  wire::Reader r(body);
  KeyExchangeParams p;
  p.kind = kind;
  switch (kind) {
    case KeyExchangeParams::Kind::dhe: {
      // RFC 5246 §7.4.3: ServerDHParams dh_p<1..2^16-1>, dh_g<1..2^16-1>, dh_Ys<1..2^16-1>.
      BW_ASSIGN(wire::Bytes prime, r.prefixed_bytes<2>(1, 0xffff));
      BW_TRY(r.prefixed_bytes<2>(1, 0xffff));
      BW_TRY(r.prefixed_bytes<2>(1, 0xffff));
      p.dh_prime.assign(prime.begin(), prime.end());
      p.dh_prime_bits = bit_length(prime);
      break;
    }
    case KeyExchangeParams::Kind::ecdhe: {
      // RFC 8422 §5.4: ECParameters (named_curve only) then ECPoint<1..2^8-1>.
      BW_ASSIGN(std::uint8_t curve_type, r.u8());
      if (curve_type != static_cast<std::uint8_t>(tls::EcCurveType::named_curve))
        return Error(Errc::unsupported, "explicit curve parameters");
      BW_ASSIGN(p.group, r.u16());
      BW_TRY(r.prefixed_bytes<1>(1, 0xff));
      break;
    }
    case KeyExchangeParams::Kind::rsa: {
      // RFC 2246 §7.4.3: ServerRSAParams rsa_modulus<1..2^16-1>, rsa_exponent<1..2^16-1>.
      BW_ASSIGN(wire::Bytes modulus, r.prefixed_bytes<2>(1, 0xffff));
      BW_TRY(r.prefixed_bytes<2>(1, 0xffff));
      p.rsa_modulus_bits = bit_length(modulus);
      break;
    }
    case KeyExchangeParams::Kind::none:
      break;
  }
  return p;
}

}  // namespace bulwark::scan
