#include "bulwark/net/connect.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <memory>

namespace bulwark::net {

namespace {

using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view strip_brackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

std::string endpoint_text(const tcp::endpoint& e) {
  return format_destination(e.address().to_string(), e.port());
}

// An I/O object shared with the handler of the timer that may cancel it: the handler can run
// after the coroutine that armed it has moved on, so it must not refer to its frame.
template <class IoObject>
struct Guarded {
  template <class Executor>
  explicit Guarded(const Executor& ex) : object(ex), timer(ex) {}
  IoObject object;
  asio::steady_timer timer;
  bool done = false;
  bool timed_out = false;
};

// Cancels `g->object` at `deadline` unless the operation finished first.
template <class IoObject, class Cancel>
void arm(const std::shared_ptr<Guarded<IoObject>>& g, SteadyClock::time_point deadline,
         Cancel cancel) {
  g->timer.expires_at(deadline);
  g->timer.async_wait([g, cancel](const error_code& ec) {
    if (ec || g->done) return;
    g->timed_out = true;
    cancel(g->object);
  });
}

template <class IoObject>
void disarm(Guarded<IoObject>& g) {
  g.done = true;
  g.timer.cancel();
}

}  // namespace

std::string format_destination(std::string_view host, std::uint16_t port) {
  const std::string_view bare = strip_brackets(host);
  if (bare.find(':') != std::string_view::npos) {
    return "[" + std::string(bare) + "]:" + std::to_string(port);
  }
  return std::string(bare) + ":" + std::to_string(port);
}

std::string format_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

std::string format_seconds(milliseconds limit) {
  const long long ms = limit.count();
  std::string s = std::to_string(ms / 1000);
  if (ms % 1000 != 0) {
    std::string frac = std::to_string(1000 + ms % 1000).substr(1);
    while (!frac.empty() && frac.back() == '0')
      frac.pop_back();
    s += "." + frac;
  }
  return s + " s";
}

Result<ResolveOverride> parse_resolve_override(std::string_view text) {
  const std::string shape = "'" + std::string(text) + "': write HOST:PORT:ADDR[,ADDR...]";
  ResolveOverride o;
  std::string_view rest = text;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return Error(Errc::invalid_argument, shape);
    o.host = lower(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
  } else {
    const std::size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return Error(Errc::invalid_argument, shape);
    o.host = lower(rest.substr(0, colon));
    rest.remove_prefix(colon);
  }
  if (o.host.empty() || rest.empty() || rest.front() != ':') {
    return Error(Errc::invalid_argument, shape);
  }
  rest.remove_prefix(1);
  const std::size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return Error(Errc::invalid_argument, shape);
  const std::string_view port = rest.substr(0, colon);
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Error(Errc::invalid_argument, shape);
  }
  const unsigned long port_value = std::stoul(std::string(port));
  if (port_value == 0 || port_value > 65535) {
    return Error(Errc::invalid_argument, "'" + std::string(text) + "': the port is not 1..65535");
  }
  o.port = static_cast<std::uint16_t>(port_value);
  std::string_view list = rest.substr(colon + 1);
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view item = strip_brackets(list.substr(0, comma));
    error_code ec;
    const asio::ip::address address = asio::ip::make_address(std::string(item), ec);
    if (ec) {
      return Error(Errc::invalid_argument,
                   "'" + std::string(text) + "': '" + std::string(item) + "' is not an IP address");
    }
    o.addresses.push_back(address);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return o;
}

Task<Result<std::vector<tcp::endpoint>>> resolve(std::string host, std::uint16_t port,
                                                 std::vector<ResolveOverride> overrides,
                                                 milliseconds limit) {
  const std::string bare(strip_brackets(host));
  const std::string key = lower(bare);
  std::vector<tcp::endpoint> endpoints;
  for (const ResolveOverride& o : overrides) {
    if (o.port != port || strip_brackets(o.host) != key) continue;
    for (const asio::ip::address& a : o.addresses)
      endpoints.emplace_back(a, port);
    co_return endpoints;
  }
  error_code ec;
  const asio::ip::address literal = asio::ip::make_address(bare, ec);
  if (!ec) {
    endpoints.emplace_back(literal, port);
    co_return endpoints;
  }

  auto g = std::make_shared<Guarded<tcp::resolver>>(co_await asio::this_coro::executor);
  if (limit.count() > 0) {
    arm(g, SteadyClock::now() + limit, [](tcp::resolver& r) { r.cancel(); });
  }
  const tcp::resolver::results_type results =
      co_await g->object.async_resolve(bare, std::to_string(port), tcp::resolver::numeric_service,
                                       asio::redirect_error(asio::use_awaitable, ec));
  disarm(*g);
  if (g->timed_out) {
    co_return Error(Errc::timed_out, "cannot resolve host '" + bare + "': no answer within " +
                                         format_seconds(limit));
  }
  if (ec) co_return Error(Errc::io_error, "cannot resolve host '" + bare + "': " + ec.message());
  for (const auto& entry : results)
    endpoints.push_back(entry.endpoint());
  if (endpoints.empty()) {
    co_return Error(Errc::io_error, "cannot resolve host '" + bare + "': no address");
  }
  co_return endpoints;
}

Task<Result<tcp::socket>> connect(std::vector<tcp::endpoint> endpoints, std::string destination,
                                  milliseconds limit) {
  if (endpoints.empty()) {
    co_return Error(Errc::invalid_argument, "cannot connect to " + destination + ": no address");
  }
  const auto executor = co_await asio::this_coro::executor;
  const bool timed = limit.count() > 0;
  const SteadyClock::time_point deadline = SteadyClock::now() + limit;
  std::string last_address;
  std::string last_reason;
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    const tcp::endpoint& endpoint = endpoints[i];
    last_address = endpoint_text(endpoint);
    auto g = std::make_shared<Guarded<tcp::socket>>(executor);
    if (timed) {
      const auto left = deadline - SteadyClock::now();
      if (left <= SteadyClock::duration::zero()) break;
      // The addresses still to try share what is left equally.
      const auto share = left / static_cast<long>(endpoints.size() - i);
      arm(g, SteadyClock::now() + share, [](tcp::socket& s) {
        error_code ignored;
        s.close(ignored);
      });
    }
    error_code ec;
    co_await g->object.async_connect(endpoint, asio::redirect_error(asio::use_awaitable, ec));
    disarm(*g);
    if (g->timed_out) {
      last_reason = "no answer within " + format_seconds(limit);
      continue;
    }
    if (ec) {
      last_reason = ec.message();
      continue;
    }
    // Requests and handshake flights are written whole: Nagle would only delay them.
    g->object.set_option(tcp::no_delay(true), ec);
    co_return std::move(g->object);
  }
  // "cannot connect to localhost:8443 (127.0.0.1:8443): Connection refused", or with several
  // addresses "...: Connection refused (2 addresses tried, the last 127.0.0.1:8443)".
  std::string message = "cannot connect to " + destination;
  if (endpoints.size() == 1 && last_address != destination) message += " (" + last_address + ")";
  const bool out_of_time = timed && SteadyClock::now() >= deadline;
  message += ": " + (out_of_time ? "no answer within " + format_seconds(limit) : last_reason);
  if (endpoints.size() > 1) {
    message += " (" + std::to_string(endpoints.size()) + " addresses tried, the last " +
               last_address + ")";
  }
  co_return Error(out_of_time ? Errc::timed_out : Errc::io_error, std::move(message));
}

}  // namespace bulwark::net
