// Access-log lines in the combined log format (as Apache and nginx write them):
//   ADDR - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 2326 "referer" "user-agent"
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "bulwark/http/request.hpp"

namespace bulwark::http {

// Appends one line, with its '\n', to `out`. Times are in UTC. Bytes from the client (target,
// referer, user agent) are escaped: '"', '\\' and bytes outside 0x20..0x7e become \xHH, so a
// request can never forge a log line. Missing fields print as "-".
void append_access_log(std::string& out, std::string_view client_address, const Request& request,
                       int status, std::uint64_t body_bytes,
                       std::chrono::system_clock::time_point now);
std::string format_access_log(std::string_view client_address, const Request& request, int status,
                              std::uint64_t body_bytes, std::chrono::system_clock::time_point now);

}  // namespace bulwark::http
