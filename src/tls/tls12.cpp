// TLS 1.2 key derivation, Finished, and signature-scheme rules (RFC 5246, RFC 7627).
#include "tls/tls12.hpp"

#include <algorithm>
#include <cstring>

#include "bulwark/crypto/prf.hpp"

namespace bulwark::tls {

using crypto::Secret;

Result<Secret> extended_master_secret(const CipherSuiteInfo& suite, wire::Bytes pms,
                                      wire::Bytes session_hash) {
  return crypto::tls12_prf(suite.hash, pms, "extended master secret", session_hash, 48);
}

Result<Secret> master_secret12(const CipherSuiteInfo& suite, wire::Bytes pms,
                               wire::Bytes client_random, wire::Bytes server_random) {
  if (client_random.size() != 32 || server_random.size() != 32)
    return Error(Errc::invalid_argument, "TLS 1.2 randoms are 32 bytes");
  std::array<std::uint8_t, 64> seed;
  std::copy(client_random.begin(), client_random.end(), seed.begin());
  std::copy(server_random.begin(), server_random.end(), seed.begin() + 32);
  return crypto::tls12_prf(suite.hash, pms, "master secret", seed, 48);
}

Result<crypto::Hmac> master_secret_mac12(const CipherSuiteInfo& suite, wire::Bytes master) {
  return crypto::Hmac::create(suite.hash, master);
}

Result<RecordCiphers12> key_block12(const CipherSuiteInfo& suite, crypto::Hmac& master_mac,
                                    wire::Bytes client_random, wire::Bytes server_random,
                                    crypto::Random& iv_source) {
  // RFC 5246 §6.3: seed = server_random + client_random, each 32 bytes.
  if (client_random.size() != 32 || server_random.size() != 32)
    return Error(Errc::invalid_argument, "TLS 1.2 randoms are 32 bytes");
  std::array<std::uint8_t, 64> seed;
  std::copy(server_random.begin(), server_random.end(), seed.begin());
  std::copy(client_random.begin(), client_random.end(), seed.begin() + 32);
  const bool cbc = suite.protection == RecordProtection::cbc_hmac;
  // RFC 5246 §6.3: client and server MAC keys (CBC suites only), keys, then IVs (AEAD only: a
  // TLS 1.2 CBC record carries its own IV).
  const std::size_t m = cbc ? crypto::digest_length(suite.mac) : 0;
  const std::size_t k = suite.key_length;
  const std::size_t iv = suite.iv_length;
  // Held on the stack and wiped. The largest: AES-256-CBC with HMAC-SHA384, 2 x 48 + 2 x 32.
  std::array<std::uint8_t, 2 * 48 + 2 * 32> block_bytes;
  if (2 * m + 2 * k + 2 * iv > block_bytes.size())
    return Error(Errc::invalid_argument, "key block larger than any suite needs");
  const std::span<std::uint8_t> block(block_bytes.data(), 2 * m + 2 * k + 2 * iv);
  auto ciphers = [&]() -> Result<RecordCiphers12> {
    BW_TRY(crypto::tls12_prf(master_mac, "key expansion", seed, block));
    const wire::Bytes b = block;
    if (cbc) {
      BW_ASSIGN(RecordCipher client,
                RecordCipher::tls12_cbc(suite, b.subspan(0, m), b.subspan(2 * m, k), iv_source));
      BW_ASSIGN(RecordCipher server, RecordCipher::tls12_cbc(suite, b.subspan(m, m),
                                                             b.subspan(2 * m + k, k), iv_source));
      return RecordCiphers12{std::move(client), std::move(server)};
    }
    BW_ASSIGN(RecordCipher client,
              RecordCipher::tls12(suite, b.subspan(0, k), b.subspan(2 * k, iv)));
    BW_ASSIGN(RecordCipher server,
              RecordCipher::tls12(suite, b.subspan(k, k), b.subspan(2 * k + iv, iv)));
    return RecordCiphers12{std::move(client), std::move(server)};
  }();
  crypto::wipe(block_bytes);
  return ciphers;
}

Result<RecordCiphers12> key_block12(const CipherSuiteInfo& suite, wire::Bytes master,
                                    wire::Bytes client_random, wire::Bytes server_random,
                                    crypto::Random& iv_source) {
  BW_ASSIGN(crypto::Hmac mac, master_secret_mac12(suite, master));
  return key_block12(suite, mac, client_random, server_random, iv_source);
}

Result<std::array<std::uint8_t, 12>> finished12(crypto::Hmac& master_mac, Role sender,
                                                wire::Bytes handshake_hash) {
  const char* label = sender == Role::client ? "client finished" : "server finished";
  std::array<std::uint8_t, 12> out;
  BW_TRY(crypto::tls12_prf(master_mac, label, handshake_hash, out));
  return out;
}

Result<std::array<std::uint8_t, 12>> finished12(const CipherSuiteInfo& suite, wire::Bytes master,
                                                Role sender, wire::Bytes handshake_hash) {
  BW_ASSIGN(crypto::Hmac mac, master_secret_mac12(suite, master));
  return finished12(mac, sender, handshake_hash);
}

std::vector<std::uint8_t> server_key_exchange_signed_data(wire::Bytes client_random,
                                                          wire::Bytes server_random,
                                                          wire::Bytes params) {
  std::vector<std::uint8_t> d;
  d.reserve(64 + params.size());
  d.insert(d.end(), client_random.begin(), client_random.end());
  d.insert(d.end(), server_random.begin(), server_random.end());
  d.insert(d.end(), params.begin(), params.end());
  return d;
}

bool scheme_allowed_in_tls12(SignatureScheme s) noexcept {
  switch (s) {
    case SignatureScheme::rsa_pkcs1_sha256:
    case SignatureScheme::rsa_pkcs1_sha384:
    case SignatureScheme::rsa_pkcs1_sha512:
      return true;
    default:
      return scheme_allowed_in_tls13(s);
  }
}

bool scheme_fits_kx(SignatureScheme s, KeyExchange kx) noexcept {
  const bool ecdsa = s == SignatureScheme::ecdsa_secp256r1_sha256 ||
                     s == SignatureScheme::ecdsa_secp384r1_sha384 || s == SignatureScheme::ed25519;
  switch (kx) {
    case KeyExchange::ecdhe_ecdsa:
      return ecdsa;
    case KeyExchange::ecdhe_rsa:
    case KeyExchange::dhe_rsa:
      return !ecdsa;
    case KeyExchange::rsa:
      return false;  // RSA key transport signs nothing: the server proves its key by decrypting
    case KeyExchange::any:
      return true;
  }
  return false;
}

std::optional<SignatureScheme> choose_signature_scheme12(const crypto::PrivateKey& key,
                                                         std::span<const SignatureScheme> ours,
                                                         const ValueList<SignatureScheme>& peer) {
  for (SignatureScheme s : ours) {
    if (!scheme_allowed_in_tls12(s) || !peer.contains(s)) continue;
    if (crypto::scheme_fits_key(to_crypto(s), key)) return s;
  }
  return std::nullopt;
}

Result<PeerAuthenticated> verify_signature12(const crypto::PublicKey& key, SignatureScheme scheme,
                                             wire::Bytes signed_data, wire::Bytes signature,
                                             std::span<const SignatureScheme> offered,
                                             KeyExchange kx) {
  if (std::find(offered.begin(), offered.end(), scheme) == offered.end() ||
      !scheme_allowed_in_tls12(scheme) || !scheme_fits_kx(scheme, kx)) {
    return Error(Errc::illegal_parameter, "a handshake signature uses a scheme we did not offer");
  }
  // ECDSA schemes are bound to their curve as in TLS 1.3: stricter than TLS 1.2 requires,
  // and what every current implementation sends anyway.
  if (!crypto::scheme_fits_key(to_crypto(scheme), key)) {
    return Error(Errc::illegal_parameter, "a handshake signature scheme does not fit the key");
  }
  if (!crypto::verify(key, to_crypto(scheme), signed_data, signature)) {
    return Error(Errc::decrypt_error, "a handshake signature does not verify");
  }
  return PeerAuthenticated(PeerAuthenticated::How::certificate);
}

void write_downgrade_sentinel(HelloRandom& random) noexcept {
  std::copy(downgrade_tls12_sentinel.begin(), downgrade_tls12_sentinel.end(), random.end() - 8);
}

}  // namespace bulwark::tls
