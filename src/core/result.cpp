#include "bulwark/result.hpp"

namespace bulwark {

std::string_view errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::truncated:
      return "truncated";
    case Errc::trailing_data:
      return "trailing_data";
    case Errc::length_overflow:
      return "length_overflow";
    case Errc::capacity_exceeded:
      return "capacity_exceeded";
    case Errc::invalid_argument:
      return "invalid_argument";
    case Errc::unsupported:
      return "unsupported";
    case Errc::io_error:
      return "io_error";
    case Errc::crypto_failure:
      return "crypto_failure";
    case Errc::bad_record_mac:
      return "bad_record_mac";
    case Errc::invalid_public_value:
      return "invalid_public_value";
    case Errc::invalid_key:
      return "invalid_key";
    case Errc::bad_passphrase:
      return "bad_passphrase";
    case Errc::bad_signature:
      return "bad_signature";
    case Errc::decode_failed:
      return "decode_failed";
    case Errc::cert_expired:
      return "cert_expired";
    case Errc::cert_not_yet_valid:
      return "cert_not_yet_valid";
    case Errc::cert_unknown_ca:
      return "cert_unknown_ca";
    case Errc::cert_bad_signature:
      return "cert_bad_signature";
    case Errc::cert_hostname_mismatch:
      return "cert_hostname_mismatch";
    case Errc::cert_wrong_purpose:
      return "cert_wrong_purpose";
    case Errc::cert_invalid:
      return "cert_invalid";
    case Errc::illegal_parameter:
      return "illegal_parameter";
    case Errc::unexpected_message:
      return "unexpected_message";
    case Errc::missing_extension:
      return "missing_extension";
    case Errc::unsupported_extension:
      return "unsupported_extension";
    case Errc::handshake_failure:
      return "handshake_failure";
    case Errc::protocol_version:
      return "protocol_version";
    case Errc::insufficient_security:
      return "insufficient_security";
    case Errc::decrypt_error:
      return "decrypt_error";
    case Errc::record_overflow:
      return "record_overflow";
    case Errc::limit_exceeded:
      return "limit_exceeded";
    case Errc::peer_alert:
      return "peer_alert";
    case Errc::closed:
      return "closed";
    case Errc::truncated_connection:
      return "truncated_connection";
    case Errc::certificate_required:
      return "certificate_required";
    case Errc::no_application_protocol:
      return "no_application_protocol";
    case Errc::inappropriate_fallback:
      return "inappropriate_fallback";
    case Errc::timed_out:
      return "timed_out";
  }
  return "unknown_error";
}

std::string Error::message() const {
  std::string m(errc_name(code_));
  if (!detail_.empty()) {
    m += ": ";
    m += detail_;
  }
  return m;
}

}  // namespace bulwark
