#include "bulwark/crypto/issuer.hpp"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include <array>

#include "bulwark/crypto/hostname.hpp"
#include "crypto/ossl.hpp"

namespace bulwark::crypto {

namespace {

using NamePtr = std::unique_ptr<X509_NAME, ossl::Deleter<X509_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, ossl::Deleter<GENERAL_NAMES_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, ossl::Deleter<GENERAL_NAME_free>>;
using BasicConstraintsPtr =
    std::unique_ptr<BASIC_CONSTRAINTS, ossl::Deleter<BASIC_CONSTRAINTS_free>>;
using BitStringPtr = std::unique_ptr<ASN1_BIT_STRING, ossl::Deleter<ASN1_BIT_STRING_free>>;
using OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, ossl::Deleter<ASN1_OCTET_STRING_free>>;
using Ia5StringPtr = std::unique_ptr<ASN1_IA5STRING, ossl::Deleter<ASN1_IA5STRING_free>>;
using ExtKeyUsagePtr = std::unique_ptr<EXTENDED_KEY_USAGE, ossl::Deleter<EXTENDED_KEY_USAGE_free>>;
using AuthorityKeyIdPtr = std::unique_ptr<AUTHORITY_KEYID, ossl::Deleter<AUTHORITY_KEYID_free>>;

constexpr std::size_t kSerialLength = 16;

const EVP_MD* fetched_md(const char* name) noexcept {
  // Fetched once per process (and never freed: they live as long as the process).
  static const ossl::MdPtr sha1(EVP_MD_fetch(nullptr, "SHA1", nullptr));
  static const ossl::MdPtr sha256(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  static const ossl::MdPtr sha384(EVP_MD_fetch(nullptr, "SHA384", nullptr));
  const std::string_view n = name;
  if (n == "SHA1") return sha1.get();
  if (n == "SHA256") return sha256.get();
  if (n == "SHA384") return sha384.get();
  return nullptr;
}

// RFC 5280 4.2.1.2 method (1): the SHA-1 of the subjectPublicKey BIT STRING's value. A key
// identifier, not a security function: SHA-1 is what every CA and verifier expects here.
Result<OctetStringPtr> key_identifier(X509* cert) {
  const ASN1_BIT_STRING* key_bits = X509_get0_pubkey_bitstr(cert);
  const EVP_MD* sha1 = fetched_md("SHA1");
  if (key_bits == nullptr || sha1 == nullptr) {
    return ossl::failure(Errc::crypto_failure, "cannot compute a key identifier");
  }
  std::array<unsigned char, 20> digest{};
  unsigned int digest_len = 0;
  OctetStringPtr id(ASN1_OCTET_STRING_new());
  if (!id ||
      EVP_Digest(ASN1_STRING_get0_data(key_bits),
                 static_cast<std::size_t>(ASN1_STRING_length(key_bits)), digest.data(), &digest_len,
                 sha1, nullptr) != 1 ||
      ASN1_OCTET_STRING_set(id.get(), digest.data(), static_cast<int>(digest_len)) != 1) {
    return ossl::failure(Errc::crypto_failure, "cannot compute a key identifier");
  }
  return id;
}

Status add_extension(X509* cert, int nid, void* value, bool critical) {
  if (X509_add1_ext_i2d(cert, nid, value, critical ? 1 : 0, X509V3_ADD_DEFAULT) != 1) {
    return ossl::failure(Errc::crypto_failure, "cannot add a certificate extension");
  }
  return {};
}

Status check_spec(const CertificateSpec& spec) {
  if (spec.common_name.empty()) return Error(Errc::invalid_argument, "empty common name");
  if (spec.not_after <= spec.not_before) {
    return Error(Errc::invalid_argument, "not_after must be later than not_before");
  }
  if (spec.path_length && (!spec.is_ca || *spec.path_length < 0)) {
    // RFC 5280 4.2.1.9: pathLenConstraint only when cA is asserted, and non-negative.
    return Error(Errc::invalid_argument, "path_length needs is_ca and a value >= 0");
  }
  for (const auto& name : spec.dns_names) {
    // dNSName is an IA5String (RFC 5280 4.2.1.6): printable ASCII, never empty.
    if (name.empty()) return Error(Errc::invalid_argument, "empty DNS name");
    for (const char c : name) {
      const auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u >= 0x7f) {
        return Error(Errc::invalid_argument, "DNS name \"" + name + "\" is not printable ASCII");
      }
    }
  }
  for (const auto& ip : spec.ip_addresses) {
    if (!parse_ip_literal(ip)) {
      return Error(Errc::invalid_argument, "\"" + ip + "\" is not an IP address");
    }
  }
  return {};
}

Status set_serial(X509* cert, Random& random) {
  std::array<std::uint8_t, kSerialLength> serial{};
  BW_TRY(random.fill(serial));
  // RFC 5280 4.1.2.2: a positive integer of at most 20 octets. Clearing the top bit keeps it
  // positive; setting the next keeps all 16 octets significant (126 random bits remain).
  serial[0] = static_cast<std::uint8_t>((serial[0] & 0x7f) | 0x40);
  if (ASN1_STRING_set(X509_get_serialNumber(cert), serial.data(),
                      static_cast<int>(serial.size())) != 1) {
    return ossl::failure(Errc::crypto_failure, "cannot set the serial number");
  }
  return {};
}

Status set_validity(X509* cert, const CertificateSpec& spec) {
  // ASN1_TIME_set picks UTCTime through 2049 and GeneralizedTime after (RFC 5280 4.1.2.5).
  if (ASN1_TIME_set(X509_getm_notBefore(cert),
                    std::chrono::system_clock::to_time_t(spec.not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert),
                    std::chrono::system_clock::to_time_t(spec.not_after)) == nullptr) {
    return ossl::failure(Errc::invalid_argument, "validity period out of range");
  }
  return {};
}

Status set_names(X509* cert, const CertificateSpec& spec, const Certificate* issuer) {
  NamePtr subject(X509_NAME_new());
  if (!subject ||
      X509_NAME_add_entry_by_NID(subject.get(), NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(spec.common_name.data()),
                                 static_cast<int>(spec.common_name.size()), -1, 0) != 1) {
    // ub-common-name is 64 characters (RFC 5280 appendix A.1).
    return ossl::failure(Errc::invalid_argument, "the common name is not a valid commonName");
  }
  const X509_NAME* issuer_name =
      issuer != nullptr ? X509_get_subject_name(issuer->native()) : subject.get();
  if (X509_set_subject_name(cert, subject.get()) != 1 ||
      X509_set_issuer_name(cert, issuer_name) != 1) {
    return ossl::failure(Errc::crypto_failure, "cannot set the names");
  }
  return {};
}

Status add_subject_alt_names(X509* cert, const CertificateSpec& spec) {
  if (spec.dns_names.empty() && spec.ip_addresses.empty()) return {};
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return ossl::failure(Errc::crypto_failure, "GENERAL_NAMES_new failed");
  // Built as structures, never through a textual config, so that no name can smuggle in
  // another entry.
  for (const auto& dns : spec.dns_names) {
    Ia5StringPtr value(ASN1_IA5STRING_new());
    GeneralNamePtr name(GENERAL_NAME_new());
    if (!value || !name ||
        ASN1_STRING_set(value.get(), dns.data(), static_cast<int>(dns.size())) != 1) {
      return ossl::failure(Errc::crypto_failure, "cannot build a dNSName");
    }
    GENERAL_NAME_set0_value(name.get(), GEN_DNS, value.release());
    if (sk_GENERAL_NAME_push(names.get(), name.get()) <= 0) {
      return ossl::failure(Errc::crypto_failure, "cannot build subjectAltName");
    }
    name.release();
  }
  for (const auto& text : spec.ip_addresses) {
    const auto bytes = parse_ip_literal(text);  // checked by check_spec
    OctetStringPtr value(ASN1_OCTET_STRING_new());
    GeneralNamePtr name(GENERAL_NAME_new());
    if (!bytes || !value || !name ||
        ASN1_OCTET_STRING_set(value.get(), bytes->data(), static_cast<int>(bytes->size())) != 1) {
      return ossl::failure(Errc::crypto_failure, "cannot build an iPAddress");
    }
    GENERAL_NAME_set0_value(name.get(), GEN_IPADD, value.release());
    if (sk_GENERAL_NAME_push(names.get(), name.get()) <= 0) {
      return ossl::failure(Errc::crypto_failure, "cannot build subjectAltName");
    }
    name.release();
  }
  return add_extension(cert, NID_subject_alt_name, names.get(), false);
}

Status add_basic_constraints(X509* cert, const CertificateSpec& spec) {
  BasicConstraintsPtr bc(BASIC_CONSTRAINTS_new());
  if (!bc) return ossl::failure(Errc::crypto_failure, "BASIC_CONSTRAINTS_new failed");
  bc->ca = spec.is_ca ? 0xff : 0;
  if (spec.path_length) {
    bc->pathlen = ASN1_INTEGER_new();
    if (bc->pathlen == nullptr || ASN1_INTEGER_set(bc->pathlen, *spec.path_length) != 1) {
      return ossl::failure(Errc::crypto_failure, "cannot set pathLenConstraint");
    }
  }
  // RFC 5280 4.2.1.9: CAs MUST mark basicConstraints critical; we do so for leaves too.
  return add_extension(cert, NID_basic_constraints, bc.get(), true);
}

Status add_key_usage(X509* cert, const CertificateSpec& spec, KeyType subject_key_type) {
  enum Bit { digital_signature = 0, key_encipherment = 2, key_cert_sign = 5, crl_sign = 6 };
  BitStringPtr bits(ASN1_BIT_STRING_new());
  if (!bits) return ossl::failure(Errc::crypto_failure, "ASN1_BIT_STRING_new failed");
  auto set = [&](Bit bit) { return ASN1_BIT_STRING_set_bit(bits.get(), bit, 1) == 1; };
  bool ok = true;
  switch (spec.usage) {
    case CertificateSpec::Usage::ca:
      ok = set(key_cert_sign) && set(crl_sign);
      break;
    case CertificateSpec::Usage::server:
    case CertificateSpec::Usage::server_and_client:
      ok = set(digital_signature);
      // TLS 1.2 RSA key transport encrypts the premaster secret to this key.
      if (ok && subject_key_type == KeyType::rsa) ok = set(key_encipherment);
      break;
    case CertificateSpec::Usage::client:
      ok = set(digital_signature);
      break;
  }
  if (!ok) return ossl::failure(Errc::crypto_failure, "cannot build keyUsage");
  // RFC 5280 4.2.1.3: conforming CAs SHOULD mark keyUsage critical.
  BW_TRY(add_extension(cert, NID_key_usage, bits.get(), true));

  if (spec.usage == CertificateSpec::Usage::ca) return {};
  ExtKeyUsagePtr eku(sk_ASN1_OBJECT_new_null());
  if (!eku) return ossl::failure(Errc::crypto_failure, "cannot build extendedKeyUsage");
  auto push = [&](int nid) { return sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(nid)) > 0; };
  switch (spec.usage) {
    case CertificateSpec::Usage::server:
      ok = push(NID_server_auth);
      break;
    case CertificateSpec::Usage::client:
      ok = push(NID_client_auth);
      break;
    case CertificateSpec::Usage::server_and_client:
      ok = push(NID_server_auth) && push(NID_client_auth);
      break;
    case CertificateSpec::Usage::ca:
      break;
  }
  if (!ok) return ossl::failure(Errc::crypto_failure, "cannot build extendedKeyUsage");
  return add_extension(cert, NID_ext_key_usage, eku.get(), false);
}

Status add_key_identifiers(X509* cert, const Certificate* issuer) {
  BW_ASSIGN(OctetStringPtr subject_id, key_identifier(cert));
  // RFC 5280 4.2.1.2: CA certificates MUST carry subjectKeyIdentifier; leaves SHOULD.
  BW_TRY(add_extension(cert, NID_subject_key_identifier, subject_id.get(), false));

  // RFC 5280 4.2.1.1: the issuer's subjectKeyIdentifier, so that paths can be built.
  OctetStringPtr issuer_id;
  if (issuer == nullptr) {
    issuer_id.reset(ASN1_OCTET_STRING_dup(subject_id.get()));
  } else if (const ASN1_OCTET_STRING* id = X509_get0_subject_key_id(issuer->native())) {
    issuer_id.reset(ASN1_OCTET_STRING_dup(id));
  } else {
    BW_ASSIGN(issuer_id, key_identifier(issuer->native()));
  }
  AuthorityKeyIdPtr akid(AUTHORITY_KEYID_new());
  if (!issuer_id || !akid) return ossl::failure(Errc::crypto_failure, "cannot build the AKID");
  akid->keyid = issuer_id.release();
  return add_extension(cert, NID_authority_key_identifier, akid.get(), false);
}

Result<const EVP_MD*> signature_digest(const PrivateKey& key) {
  switch (key.type()) {
    case KeyType::rsa:
    case KeyType::rsa_pss:
    case KeyType::ec_p256:
      return fetched_md("SHA256");
    case KeyType::ec_p384:
      return fetched_md("SHA384");
    case KeyType::ed25519:
      return static_cast<const EVP_MD*>(nullptr);  // EdDSA hashes internally (RFC 8410 3)
    case KeyType::other:
      break;
  }
  return Error(Errc::unsupported, "cannot sign certificates with a " +
                                      std::string(key_type_name(key.type())) + " key");
}

}  // namespace

CertificateSpec server_spec(std::string common_name, std::chrono::seconds lifetime) {
  const auto now = std::chrono::system_clock::now();
  CertificateSpec spec;
  if (parse_ip_literal(common_name)) {
    spec.ip_addresses.push_back(common_name);
  } else {
    spec.dns_names.push_back(common_name);
  }
  spec.common_name = std::move(common_name);
  spec.not_before = now - std::chrono::hours(1);
  spec.not_after = now + lifetime;
  spec.usage = CertificateSpec::Usage::server;
  return spec;
}

CertificateSpec ca_spec(std::string common_name, std::chrono::seconds lifetime) {
  const auto now = std::chrono::system_clock::now();
  CertificateSpec spec;
  spec.common_name = std::move(common_name);
  spec.not_before = now - std::chrono::hours(1);
  spec.not_after = now + lifetime;
  spec.is_ca = true;
  spec.usage = CertificateSpec::Usage::ca;
  return spec;
}

Result<Certificate> issue_certificate(const CertificateSpec& spec, const PublicKey& subject_key,
                                      const PrivateKey& issuer_key, const Certificate* issuer,
                                      Random& random) {
  BW_TRY(check_spec(spec));
  if (!subject_key.valid() || !issuer_key.valid()) {
    return Error(Errc::invalid_argument, "missing subject or issuer key");
  }
  if (issuer != nullptr) {
    if (!issuer->valid()) return Error(Errc::invalid_argument, "empty issuer certificate");
    if (X509_check_private_key(issuer->native(), issuer_key.native()) != 1) {
      ERR_clear_error();
      return Error(Errc::invalid_argument, "issuer_key is not the issuer certificate's key");
    }
  } else if (EVP_PKEY_eq(subject_key.native(), issuer_key.native()) != 1) {
    ERR_clear_error();
    return Error(Errc::invalid_argument, "a self-signed certificate needs the subject's own key");
  }
  BW_ASSIGN(const EVP_MD* digest, signature_digest(issuer_key));
  if (digest == nullptr && issuer_key.type() != KeyType::ed25519) {
    return ossl::failure(Errc::crypto_failure, "the signature digest is unavailable");
  }

  ossl::X509Ptr cert(X509_new());
  if (!cert) return ossl::failure(Errc::crypto_failure, "X509_new failed");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_pubkey(cert.get(), subject_key.native()) != 1) {
    return ossl::failure(Errc::crypto_failure, "cannot set the version or public key");
  }
  BW_TRY(set_serial(cert.get(), random));
  BW_TRY(set_validity(cert.get(), spec));
  BW_TRY(set_names(cert.get(), spec, issuer));
  BW_TRY(add_basic_constraints(cert.get(), spec));
  BW_TRY(add_key_usage(cert.get(), spec, subject_key.type()));
  BW_TRY(add_subject_alt_names(cert.get(), spec));
  BW_TRY(add_key_identifiers(cert.get(), issuer));

  if (X509_sign(cert.get(), issuer_key.native(), digest) <= 0) {
    return ossl::failure(Errc::crypto_failure, "signing the certificate failed");
  }
  return Certificate::from_native(cert.get());
}

}  // namespace bulwark::crypto
