#include "bulwark/crypto/certificate.hpp"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <iterator>

#include "crypto/ossl.hpp"

namespace bulwark::crypto {

struct Certificate::Impl {
  ossl::X509Ptr x509;
  std::vector<std::uint8_t> der;
};

namespace {

using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, ossl::Deleter<GENERAL_NAMES_free>>;
using BasicConstraintsPtr =
    std::unique_ptr<BASIC_CONSTRAINTS, ossl::Deleter<BASIC_CONSTRAINTS_free>>;

// Certificate files are small; a bound keeps a wrong path (a disk image, /dev/zero) from
// being read into memory.
constexpr std::uintmax_t kMaxCertificateFileSize = 64u * 1024 * 1024;

const EVP_MD* sha256_md() noexcept {
  static const ossl::MdPtr md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  return md.get();
}

// Certificates are never encrypted: refuse any PEM passphrase prompt instead of letting
// libcrypto's default callback read from the terminal.
int refuse_passphrase(char*, int, int, void*) {
  return -1;
}

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(len));
}

std::string name_to_string(const X509_NAME* name) {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || name == nullptr) return {};
  // RFC 2253 order and escaping, but UTF-8 is printed as is rather than as \XX escapes.
  const unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
  if (X509_NAME_print_ex(bio.get(), name, 0, flags) < 0) {
    ERR_clear_error();
    return {};
  }
  return bio_to_string(bio.get());
}

std::chrono::system_clock::time_point asn1_time_to_time_point(const ASN1_TIME* t) {
  using namespace std::chrono;
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return system_clock::time_point{};
  }
  const year_month_day ymd{year{tm.tm_year + 1900}, month{static_cast<unsigned>(tm.tm_mon + 1)},
                           day{static_cast<unsigned>(tm.tm_mday)}};
  const sys_seconds secs =
      sys_days{ymd} + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
  // GeneralizedTime reaches year 9999 (RFC 5280 4.1.2.5's "no well-defined expiration"), past
  // what a nanosecond system_clock can hold: clamp rather than overflow.
  const auto max_secs = time_point_cast<seconds>(system_clock::time_point::max());
  const auto min_secs = time_point_cast<seconds>(system_clock::time_point::min());
  if (secs >= max_secs) return system_clock::time_point::max();
  if (secs <= min_secs) return system_clock::time_point::min();
  return time_point_cast<system_clock::duration>(secs);
}

GeneralNamesPtr subject_alt_names(X509* x509) {
  int critical = 0;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x509, NID_subject_alt_name, &critical, nullptr));
  // A missing, duplicated (critical == -2) or malformed extension yields no names: fail closed.
  if (names == nullptr) ERR_clear_error();
  return GeneralNamesPtr(names);
}

Result<std::vector<std::uint8_t>> encode_der(X509* x509) {
  unsigned char* buf = nullptr;
  const int len = i2d_X509(x509, &buf);
  if (len <= 0 || buf == nullptr) return ossl::failure(Errc::crypto_failure, "i2d_X509 failed");
  std::vector<std::uint8_t> der(buf, buf + len);
  OPENSSL_free(buf);
  return der;
}

Result<std::string> read_file(const std::filesystem::path& path) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return Error(Errc::io_error, "cannot read " + path.string() + ": " + ec.message());
  if (size > kMaxCertificateFileSize) {
    return Error(Errc::io_error, "cannot read " + path.string() + ": file too large");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(Errc::io_error, "cannot open " + path.string() + ": " + std::strerror(errno));
  }
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Error(Errc::io_error, "error reading " + path.string());
  return data;
}

}  // namespace

Result<Certificate> Certificate::from_der(std::span<const std::uint8_t> der) {
  if (der.empty()) return Error(Errc::decode_failed, "empty certificate");
  if (der.size() > static_cast<std::size_t>(LONG_MAX)) {
    return Error(Errc::decode_failed, "certificate too large");
  }
  const unsigned char* p = der.data();
  ossl::X509Ptr x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x509) return ossl::failure(Errc::decode_failed, "not a DER certificate");
  if (p != der.data() + der.size()) {
    return Error(Errc::decode_failed, "trailing bytes after the DER certificate");
  }
  auto impl = std::make_shared<Impl>();
  impl->x509 = std::move(x509);
  impl->der.assign(der.begin(), der.end());
  return Certificate(std::move(impl));
}

Result<Certificate> Certificate::from_pem(std::string_view pem) {
  BW_ASSIGN(auto certs, load_certificates_pem(pem));
  if (certs.size() != 1) {
    return Error(Errc::decode_failed, "expected exactly one certificate in the PEM input, found " +
                                          std::to_string(certs.size()));
  }
  return std::move(certs.front());
}

Result<Certificate> Certificate::from_native(X509* x509) {
  if (x509 == nullptr) return Error(Errc::invalid_argument, "null X509");
  BW_ASSIGN(auto der, encode_der(x509));
  if (X509_up_ref(x509) != 1) return ossl::failure(Errc::crypto_failure, "X509_up_ref failed");
  auto impl = std::make_shared<Impl>();
  impl->x509.reset(x509);
  impl->der = std::move(der);
  return Certificate(std::move(impl));
}

std::span<const std::uint8_t> Certificate::der() const noexcept {
  if (!impl_) return {};
  return impl_->der;
}

X509* Certificate::native() const noexcept {
  return impl_ ? impl_->x509.get() : nullptr;
}

Result<std::string> Certificate::to_pem() const {
  if (!impl_) return Error(Errc::invalid_argument, "empty certificate");
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), impl_->x509.get()) != 1) {
    return ossl::failure(Errc::crypto_failure, "PEM_write_bio_X509 failed");
  }
  return bio_to_string(bio.get());
}

std::string Certificate::subject() const {
  return impl_ ? name_to_string(X509_get_subject_name(impl_->x509.get())) : std::string();
}

std::string Certificate::issuer() const {
  return impl_ ? name_to_string(X509_get_issuer_name(impl_->x509.get())) : std::string();
}

std::string Certificate::common_name() const {
  if (!impl_) return {};
  const X509_NAME* name = X509_get_subject_name(impl_->x509.get());
  int index = -1;
  for (int next = -1; (next = X509_NAME_get_index_by_NID(name, NID_commonName, next)) >= 0;) {
    index = next;
  }
  if (index < 0) return {};
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, value);
  if (len < 0 || utf8 == nullptr) {
    ERR_clear_error();
    return {};
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string Certificate::serial_hex() const {
  if (!impl_) return {};
  const ASN1_INTEGER* serial = X509_get0_serialNumber(impl_->x509.get());
  const unsigned char* bytes = ASN1_STRING_get0_data(serial);
  const int len = ASN1_STRING_length(serial);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER) out += '-';
  int i = 0;
  while (i + 1 < len && bytes[i] == 0)
    ++i;  // no leading zero octets
  for (; i < len; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0x0f];
  }
  if (len <= 0) out += "00";
  return out;
}

std::chrono::system_clock::time_point Certificate::not_before() const {
  return impl_ ? asn1_time_to_time_point(X509_get0_notBefore(impl_->x509.get()))
               : std::chrono::system_clock::time_point{};
}

std::chrono::system_clock::time_point Certificate::not_after() const {
  return impl_ ? asn1_time_to_time_point(X509_get0_notAfter(impl_->x509.get()))
               : std::chrono::system_clock::time_point{};
}

Result<PublicKey> Certificate::public_key() const {
  if (!impl_) return Error(Errc::invalid_argument, "empty certificate");
  EVP_PKEY* pkey = X509_get_pubkey(impl_->x509.get());
  if (pkey == nullptr) {
    return ossl::failure(Errc::invalid_key, "the certificate's public key cannot be decoded");
  }
  return PublicKey(pkey);
}

std::vector<std::string> Certificate::dns_names() const {
  std::vector<std::string> out;
  if (!impl_) return out;
  const GeneralNamesPtr names = subject_alt_names(impl_->x509.get());
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_DNS) continue;
    const ASN1_IA5STRING* s = gn->d.dNSName;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
  }
  return out;
}

std::vector<std::vector<std::uint8_t>> Certificate::ip_addresses() const {
  std::vector<std::vector<std::uint8_t>> out;
  if (!impl_) return out;
  const GeneralNamesPtr names = subject_alt_names(impl_->x509.get());
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_IPADD) continue;
    const ASN1_OCTET_STRING* s = gn->d.iPAddress;
    const int len = ASN1_STRING_length(s);
    // RFC 5280 4.2.1.6: four octets for IPv4, sixteen for IPv6.
    if (len != 4 && len != 16) continue;
    const unsigned char* p = ASN1_STRING_get0_data(s);
    out.emplace_back(p, p + len);
  }
  return out;
}

std::vector<std::string> Certificate::ip_address_texts() const {
  std::vector<std::string> out;
  for (const auto& ip : ip_addresses()) {
    char text[INET6_ADDRSTRLEN] = {};
    const int family = ip.size() == 4 ? AF_INET : AF_INET6;
    if (inet_ntop(family, ip.data(), text, sizeof text) != nullptr) out.emplace_back(text);
  }
  return out;
}

bool Certificate::is_ca() const {
  if (!impl_) return false;
  int critical = 0;
  const BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(impl_->x509.get(), NID_basic_constraints, &critical, nullptr)));
  if (!bc) {
    ERR_clear_error();
    return false;
  }
  return bc->ca != 0;
}

bool Certificate::allows_key_encipherment() const {
  if (!impl_) return false;
  // X509_get_key_usage answers all bits when there is no keyUsage extension (RFC 5280
  // §4.2.1.3: then any use is allowed). It caches the parsed extensions; a certificate that
  // does not parse its extensions says so through the flags.
  X509* x = impl_->x509.get();
  const std::uint32_t usage = X509_get_key_usage(x);
  if ((X509_get_extension_flags(x) & EXFLAG_INVALID) != 0) return false;
  return (usage & KU_KEY_ENCIPHERMENT) != 0;
}

Result<std::array<std::uint8_t, 32>> Certificate::sha256_fingerprint() const {
  if (!impl_) return Error(Errc::invalid_argument, "empty certificate");
  const EVP_MD* md = sha256_md();
  if (md == nullptr) return ossl::failure(Errc::crypto_failure, "SHA-256 is unavailable");
  std::array<std::uint8_t, 32> out{};
  unsigned int out_len = 0;
  if (EVP_Digest(impl_->der.data(), impl_->der.size(), out.data(), &out_len, md, nullptr) != 1 ||
      out_len != out.size()) {
    return ossl::failure(Errc::crypto_failure, "SHA-256 failed");
  }
  return out;
}

std::string Certificate::signature_algorithm_name() const {
  if (!impl_) return {};
  const int nid = X509_get_signature_nid(impl_->x509.get());
  if (nid != NID_undef) {
    if (const char* name = OBJ_nid2ln(nid)) return name;
  }
  const ASN1_BIT_STRING* signature = nullptr;
  const X509_ALGOR* algorithm = nullptr;
  X509_get0_signature(&signature, &algorithm, impl_->x509.get());
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, algorithm);
  char text[128] = {};
  if (oid == nullptr || OBJ_obj2txt(text, sizeof text, oid, 1) <= 0) return {};
  return text;
}

bool Certificate::self_signed() const {
  if (!impl_) return false;
  const int r = X509_self_signed(impl_->x509.get(), 1);
  ERR_clear_error();  // a signature that does not verify queues errors; the answer is "no"
  return r == 1;
}

bool operator==(const Certificate& a, const Certificate& b) noexcept {
  const auto da = a.der();
  const auto db = b.der();
  return std::equal(da.begin(), da.end(), db.begin(), db.end());
}

Result<std::vector<Certificate>> load_certificates_pem(std::string_view pem) {
  if (pem.size() > static_cast<std::size_t>(INT_MAX)) {
    return Error(Errc::decode_failed, "PEM input too large");
  }
  ossl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return ossl::failure(Errc::crypto_failure, "BIO_new_mem_buf failed");
  std::vector<Certificate> certs;
  for (;;) {
    ERR_set_mark();
    ossl::X509Ptr x509(PEM_read_bio_X509(bio.get(), nullptr, refuse_passphrase, nullptr));
    if (!x509) {
      const unsigned long e = ERR_peek_last_error();
      if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
        ERR_pop_to_mark();  // the end of the input: no further block
        break;
      }
      ERR_clear_last_mark();
      return ossl::failure(Errc::decode_failed, ("certificate " + std::to_string(certs.size() + 1) +
                                                 " of the PEM input does not parse")
                                                    .c_str());
    }
    ERR_clear_last_mark();
    BW_ASSIGN(auto cert, Certificate::from_native(x509.get()));
    certs.push_back(std::move(cert));
  }
  if (certs.empty()) return Error(Errc::decode_failed, "no CERTIFICATE block in the PEM input");
  return certs;
}

Result<std::vector<Certificate>> load_certificates_file(const std::filesystem::path& path) {
  BW_ASSIGN(const std::string data, read_file(path));
  if (data.find("-----BEGIN") != std::string::npos) {
    auto certs = load_certificates_pem(data);
    if (!certs) return Error(Errc::decode_failed, path.string() + ": " + certs.error().detail());
    return certs;
  }
  auto cert =
      Certificate::from_der({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
  if (!cert) {
    return Error(Errc::decode_failed, path.string() + ": neither PEM nor one DER certificate (" +
                                          cert.error().detail() + ")");
  }
  return std::vector<Certificate>{std::move(cert).value()};
}

Result<Certificate> load_certificate_file(const std::filesystem::path& path) {
  BW_ASSIGN(auto certs, load_certificates_file(path));
  if (certs.size() != 1) {
    return Error(Errc::decode_failed, path.string() + ": expected exactly one certificate, found " +
                                          std::to_string(certs.size()));
  }
  return std::move(certs.front());
}

}  // namespace bulwark::crypto
