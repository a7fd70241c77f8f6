#include "apps/data_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "apps/common.hpp"
#include "bulwark/crypto/issuer.hpp"
#include "bulwark/crypto/trust_store.hpp"

namespace bulwark::apps {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

namespace {

constexpr auto key_mode = fs::perms::owner_read | fs::perms::owner_write;  // 0600

Error os_error(const std::string& what) {
  return Error(Errc::io_error, what + ": " + std::strerror(errno));
}

// Creates `dir` (and its parents) and makes it 0700: it holds private keys.
Status make_private_directory(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error(Errc::io_error, "cannot create " + dir.string() + ": " + ec.message());
  if (::chmod(dir.c_str(), 0700) != 0) return os_error("cannot set the mode of " + dir.string());
  return {};
}

// An flock()ed file in the directory, released on destruction.
class DirectoryLock {
 public:
  static Result<DirectoryLock> take(const fs::path& dir) {
    const fs::path path = dir / ".lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return os_error("cannot open " + path.string());
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        ::close(fd);
        return os_error("cannot lock " + path.string());
      }
    }
    return DirectoryLock(fd);
  }
  DirectoryLock(DirectoryLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  DirectoryLock& operator=(DirectoryLock&&) = delete;
  ~DirectoryLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  explicit DirectoryLock(int fd) noexcept : fd_(fd) {}
  int fd_;
};

Status write_pair(const crypto::Certificate& cert, const crypto::PrivateKey& key,
                  const fs::path& cert_file, const fs::path& key_file) {
  BW_ASSIGN(const std::string key_pem, key.to_pem());
  BW_ASSIGN(const std::string cert_pem, cert.to_pem());
  BW_TRY(write_file(key_file, key_pem, key_mode));
  return write_file(cert_file, cert_pem);
}

Result<LocalCa> ensure_ca_locked(const fs::path& dir) {
  LocalCa ca;
  ca.cert_file = dir / "ca.crt";
  ca.key_file = dir / "ca.key";
  std::error_code ec;
  if (fs::exists(ca.key_file, ec) || fs::exists(ca.cert_file, ec)) {
    BW_ASSIGN(ca.key, crypto::PrivateKey::load_file(ca.key_file));
    BW_ASSIGN(ca.cert, crypto::load_certificate_file(ca.cert_file));
    return ca;
  }
  BW_ASSIGN(ca.key, crypto::PrivateKey::generate(crypto::KeyType::ec_p256));
  BW_ASSIGN(ca.cert, crypto::issue_certificate(crypto::ca_spec("bulwark local CA"),
                                               ca.key.public_key(), ca.key, nullptr));
  BW_TRY(write_pair(ca.cert, ca.key, ca.cert_file, ca.key_file));
  ca.created = true;
  return ca;
}

// The existing leaf is still good: it loads with its key, chains to `ca`, names every local
// address, and stays valid for longer than `renew_before`.
bool leaf_is_usable(const LocalCa& ca, const fs::path& cert_file, const fs::path& key_file,
                    Clock::duration renew_before, Clock::time_point& not_after) {
  auto cert = crypto::load_certificate_file(cert_file);
  auto key = crypto::PrivateKey::load_file(key_file);
  if (!cert || !key) return false;
  auto cert_key = cert->public_key();
  auto key_der = key->public_key().spki_der();
  if (!cert_key || !key_der || cert_key->spki_der().value() != *key_der) return false;
  if (cert->not_after() - Clock::now() <= renew_before) return false;
  const std::vector<crypto::Certificate> anchors{ca.cert};
  auto store = crypto::TrustStore::from_certificates(anchors);
  if (!store) return false;
  for (const char* name : {"localhost", "127.0.0.1", "::1"}) {
    if (!store->verify(*cert, {}, {.host = name})) return false;
  }
  not_after = cert->not_after();
  return true;
}

}  // namespace

Result<fs::path> data_directory() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  // XDG Base Directory: a relative path is invalid and must be ignored.
  if (xdg != nullptr && xdg[0] == '/') return fs::path(xdg) / "bulwark";
  const char* home = std::getenv("HOME");
  if (home == nullptr || home[0] != '/') {
    return Error(Errc::invalid_argument,
                 "neither XDG_DATA_HOME nor HOME is set to an absolute path");
  }
  return fs::path(home) / ".local" / "share" / "bulwark";
}

Result<LocalCa> ensure_local_ca(const fs::path& dir) {
  BW_TRY(make_private_directory(dir));
  BW_ASSIGN(DirectoryLock lock, DirectoryLock::take(dir));
  return ensure_ca_locked(dir);
}

Result<LocalCertificate> ensure_local_certificate(const fs::path& dir,
                                                  Clock::duration renew_before) {
  BW_TRY(make_private_directory(dir));
  BW_ASSIGN(DirectoryLock lock, DirectoryLock::take(dir));
  LocalCertificate out;
  BW_ASSIGN(out.ca, ensure_ca_locked(dir));
  out.cert_file = dir / "localhost.crt";
  out.key_file = dir / "localhost.key";
  if (leaf_is_usable(out.ca, out.cert_file, out.key_file, renew_before, out.not_after)) {
    return out;
  }
  crypto::CertificateSpec spec;
  spec.common_name = "localhost";
  spec.dns_names = {"localhost"};
  spec.ip_addresses = {"127.0.0.1", "::1"};
  spec.not_before = Clock::now() - std::chrono::hours(1);
  spec.not_after = Clock::now() + std::chrono::hours(24 * 90);
  spec.usage = crypto::CertificateSpec::Usage::server;
  BW_ASSIGN(crypto::PrivateKey key, crypto::PrivateKey::generate(crypto::KeyType::ec_p256));
  BW_ASSIGN(crypto::Certificate cert,
            crypto::issue_certificate(spec, key.public_key(), out.ca.key, &out.ca.cert));
  BW_TRY(write_pair(cert, key, out.cert_file, out.key_file));
  out.not_after = cert.not_after();
  out.issued = true;
  return out;
}

}  // namespace bulwark::apps
