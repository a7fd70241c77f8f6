// bulwark's data directory and the local CA kept in it: what `bulwark serve` uses when no
// certificate is given (and what `bulwark proxy` will sign its certificates with).
//
//   $XDG_DATA_HOME/bulwark/         (default ~/.local/share/bulwark), mode 0700
//     ca.crt  ca.key                the local CA (ECDSA P-256, 10 years); key mode 0600
//     localhost.crt  localhost.key  localhost, 127.0.0.1 and ::1 (90 days); key mode 0600
#pragma once

#include <chrono>
#include <filesystem>

#include "bulwark/crypto/certificate.hpp"
#include "bulwark/crypto/keys.hpp"
#include "bulwark/result.hpp"

namespace bulwark::apps {

// $XDG_DATA_HOME/bulwark when XDG_DATA_HOME is an absolute path, else
// $HOME/.local/share/bulwark. The directory is not created here.
Result<std::filesystem::path> data_directory();

struct LocalCa {
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  crypto::Certificate cert;
  crypto::PrivateKey key;
  bool created = false;  // made by this call
};

// The CA in `dir`, created on first use (the directory 0700, the key 0600). An existing CA is
// loaded, never replaced: an unreadable one is an error that names the file.
Result<LocalCa> ensure_local_ca(const std::filesystem::path& dir);

struct LocalCertificate {
  LocalCa ca;
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  std::chrono::system_clock::time_point not_after;
  bool issued = false;  // (re)issued by this call
};

// The localhost certificate in `dir`, issued by its local CA: reused while it verifies against
// that CA for localhost, 127.0.0.1 and ::1 and stays valid for more than `renew_before`;
// re-issued otherwise. Holds a lock file while it works, so that two commands started at
// once do not both create a CA.
Result<LocalCertificate> ensure_local_certificate(
    const std::filesystem::path& dir,
    std::chrono::system_clock::duration renew_before = std::chrono::hours(24 * 7));

}  // namespace bulwark::apps
