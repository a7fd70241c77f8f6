// Shared by the benchmark programs: the bytes a TLS 1.3 server signs in CertificateVerify.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace bulwark::bench {

// 64 spaces, the context string, a zero byte and a SHA-256 transcript hash (RFC 8446 §4.4.3).
inline std::vector<std::uint8_t> certificate_verify_content() {
  static constexpr char kContext[] = "TLS 1.3, server CertificateVerify";  // with its 0 byte
  std::vector<std::uint8_t> m(64 + sizeof kContext + 32, 0xab);
  std::memset(m.data(), 0x20, 64);
  std::memcpy(m.data() + 64, kContext, sizeof kContext);
  return m;
}

}  // namespace bulwark::bench
