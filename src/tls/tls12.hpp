// Internal to the TLS engine: TLS 1.2 pieces shared by the client and server handshakes.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bulwark/crypto/hmac.hpp"
#include "bulwark/crypto/secret.hpp"
#include "bulwark/tls/session.hpp"
#include "tls/handshake.hpp"

namespace bulwark::tls {

// RFC 7627 §4: master_secret = PRF(pre_master_secret, "extended master secret", session_hash).
Result<crypto::Secret> extended_master_secret(const CipherSuiteInfo& suite, wire::Bytes pms,
                                              wire::Bytes session_hash);

// RFC 5246 §8.1: master_secret = PRF(pre_master_secret, "master secret", ClientHello.random +
// ServerHello.random), for peers without the extended master secret (a policy that allows them).
Result<crypto::Secret> master_secret12(const CipherSuiteInfo& suite, wire::Bytes pms,
                                       wire::Bytes client_random, wire::Bytes server_random);

struct RecordCiphers12 {
  RecordCipher client_write;
  RecordCipher server_write;
};
// RFC 5246 §6.3 key_block: for AEAD suites client/server write keys and IVs; for (legacy) CBC
// suites MAC keys and write keys, and `iv_source` supplies each record's IV.
Result<RecordCiphers12> key_block12(const CipherSuiteInfo& suite, wire::Bytes master,
                                    wire::Bytes client_random, wire::Bytes server_random,
                                    crypto::Random& iv_source = crypto::SystemRandom::instance());

// RFC 5246 §7.4.9: verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))
// truncated to 12 bytes.
Result<std::array<std::uint8_t, 12>> finished12(const CipherSuiteInfo& suite, wire::Bytes master,
                                                Role sender, wire::Bytes handshake_hash);

// The HMAC keyed with a master secret under the suite's PRF hash. A handshake that keeps one
// gives it to key_block12 and both finished12 calls, which then key the secret once instead of
// three times; the overloads taking `master` key it themselves.
Result<crypto::Hmac> master_secret_mac12(const CipherSuiteInfo& suite, wire::Bytes master);
Result<RecordCiphers12> key_block12(const CipherSuiteInfo& suite, crypto::Hmac& master_mac,
                                    wire::Bytes client_random, wire::Bytes server_random,
                                    crypto::Random& iv_source);
Result<std::array<std::uint8_t, 12>> finished12(crypto::Hmac& master_mac, Role sender,
                                                wire::Bytes handshake_hash);

// The bytes a ServerKeyExchange signature covers: client_random + server_random + params.
std::vector<std::uint8_t> server_key_exchange_signed_data(wire::Bytes client_random,
                                                          wire::Bytes server_random,
                                                          wire::Bytes params);

// Schemes allowed for TLS 1.2 handshake signatures here: no SHA-1, no DSA.
bool scheme_allowed_in_tls12(SignatureScheme s) noexcept;
// Whether a signature scheme authenticates the suite's key exchange (ECDSA or RSA).
bool scheme_fits_kx(SignatureScheme s, KeyExchange kx) noexcept;
// Our ServerKeyExchange / CertificateVerify scheme for `key` in TLS 1.2.
std::optional<SignatureScheme> choose_signature_scheme12(const crypto::PrivateKey& key,
                                                         std::span<const SignatureScheme> ours,
                                                         const ValueList<SignatureScheme>& peer);

// RFC 8446 §4.1.3: the last 8 bytes of a TLS 1.3-capable server's random in a TLS 1.2
// ServerHello.
void write_downgrade_sentinel(HelloRandom& random) noexcept;

// What the TLS 1.3 client handshake knows when the server answers with TLS 1.2.
struct ClientHelloContext {
  std::vector<std::uint8_t> client_hello;  // the message, for the transcript
  HelloRandom random{};
  std::vector<std::uint8_t> session_id;  // what we sent
  std::vector<ExtensionType> offered;    // extensions we sent
  std::optional<StoredSession> session;  // a TLS 1.2 session we offered to resume
};

std::unique_ptr<Handshaker> make_client12(Connection::Impl& conn,
                                          std::shared_ptr<const ClientConfig> config,
                                          std::string server_name, ClientHelloContext ctx);
std::unique_ptr<Handshaker> make_server12(Connection::Impl& conn,
                                          std::shared_ptr<const ServerConfig> config);

}  // namespace bulwark::tls
