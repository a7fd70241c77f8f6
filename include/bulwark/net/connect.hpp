// Name resolution and TCP connection for clients, with time limits and curl's --resolve
// overrides. Errors name the host and port they were about ("cannot connect to example.org:443
// (192.0.2.1:443): Connection refused").
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/result.hpp"

namespace bulwark::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
template <class T>
using Task = asio::awaitable<T>;

// curl's --resolve HOST:PORT:ADDR[,ADDR...]: connections to HOST:PORT go to these addresses and
// the system resolver is not asked. HOST is compared without regard to case; an IPv6 ADDR may
// be written with or without brackets.
struct ResolveOverride {
  std::string host;  // lower case
  std::uint16_t port = 0;
  std::vector<asio::ip::address> addresses;
};
Result<ResolveOverride> parse_resolve_override(std::string_view text);

// "example.org:443", "[2001:db8::1]:443": how errors and -v name a destination.
std::string format_destination(std::string_view host, std::uint16_t port);
// A time limit for messages: "2.5 s", "30 s".
std::string format_seconds(std::chrono::milliseconds limit);
// A rate or other configured number as people write it: "100", "2.5" (not "100.000000").
std::string format_number(double value);

// The addresses to try for host:port, in order: those of the first matching override, the host
// itself when it is an IP literal (brackets allowed), else what the system resolver returns
// within `limit` (zero: no limit of ours). No address, or a failed lookup, is `io_error` naming
// the host; running out of time is `timed_out`.
Task<Result<std::vector<tcp::endpoint>>> resolve(std::string host, std::uint16_t port,
                                                 std::vector<ResolveOverride> overrides,
                                                 std::chrono::milliseconds limit);

// A TCP connection to the first of `endpoints` that accepts, trying each in turn within `limit`
// in total (each address gets an equal share of the time left, so one silent address cannot
// use it all; zero: no limit of ours). `destination` names the target in errors. Every address
// refusing is `io_error` with the last reason; running out of time is `timed_out`.
Task<Result<tcp::socket>> connect(std::vector<tcp::endpoint> endpoints, std::string destination,
                                  std::chrono::milliseconds limit);

}  // namespace bulwark::net
