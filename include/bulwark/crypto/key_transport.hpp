// RSA key transport for TLS 1.2 (RFC 5246 §7.4.7.1), legacy policy only: the client encrypts
// the pre-master secret to the server certificate's key with RSAES-PKCS1-v1_5, which has no
// forward secrecy and a history of padding oracles (Bleichenbacher 1998, ROBOT 2017, Marvin
// 2023). The server side therefore never reveals whether the padding was valid: it decrypts
// without libcrypto's padding check and selects, in constant time, between the decrypted secret
// and random bytes drawn before decryption (implicit rejection).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "bulwark/crypto/keys.hpp"
#include "bulwark/crypto/random.hpp"
#include "bulwark/crypto/secret.hpp"
#include "bulwark/result.hpp"

namespace bulwark::crypto {

// RFC 5246 §7.4.7.1: the pre-master secret is client_version (2 bytes) || 46 random bytes.
inline constexpr std::size_t tls_premaster_secret_size = 48;

// RSAES-PKCS1-v1_5 encryption (RFC 8017 §7.2.1) of `message` to an rsaEncryption key; the
// padding's nonzero random octets come from `rng`, so the output is reproducible with a
// deterministic source. `invalid_key` for any other key type (an RSASSA-PSS key cannot
// encrypt), `invalid_argument` for a message longer than the modulus size minus 11.
Result<std::vector<std::uint8_t>> rsa_pkcs1_encrypt(const PublicKey& key,
                                                    std::span<const std::uint8_t> message,
                                                    Random& rng);

// The server's pre-master secret from an EncryptedPreMasterSecret (RFC 5246 §7.4.7.1):
//   R = 46 bytes from `rng`, drawn before decryption;
//   M = RSA decryption of `encrypted`;
//   if M is not a PKCS#1 v1.5 block holding exactly 48 bytes: client_version || R,
//   else: client_version || M[2..47] (a wrong version in M[0..1] thus also fails at Finished).
// The choice is made with masks over the whole decrypted block, so neither the result, the
// error nor the time tells a valid padding from an invalid one. A ciphertext of the wrong
// length or not below the modulus (public facts) also yields client_version || R. Errors only
// for a key that is not rsaEncryption (`invalid_key`) or a libcrypto or `rng` failure.
Result<Secret> rsa_decrypt_premaster_secret(const PrivateKey& key,
                                            std::span<const std::uint8_t> encrypted,
                                            std::uint16_t client_version, Random& rng);

}  // namespace bulwark::crypto
