// http::Client: connection, request, response and redirects over net::TlsStream or plain TCP.
#include "bulwark/http/client.hpp"
#include "http/common.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "bulwark/net/tls_stream.hpp"

namespace bulwark::http {

namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using net::tcp;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr SteadyClock::time_point kNever = SteadyClock::time_point::max();

using detail::iequals;

// RFC 9110 §15.4: the redirections a user agent may follow automatically (300 and 305 are not,
// 304 is not a redirect).
bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Fields that carry credentials: sent to the origin the user named, never to another.
bool carries_credentials(std::string_view name) {
  return iequals(name, "Authorization") || iequals(name, "Cookie") ||
         iequals(name, "Proxy-Authorization");
}

// The byte stream a response is read from: TLS or plain TCP.
class Stream {
 public:
  virtual ~Stream() = default;
  virtual void set_timeout(milliseconds limit) noexcept = 0;
  // Data received and not consumed; empty at a clean end of stream (close_notify for TLS, the
  // TCP end for plain HTTP). A TCP end without close_notify is Errc::truncated_connection.
  virtual Task<Result<wire::Bytes>> read_view() = 0;
  virtual void consume(std::size_t n) noexcept = 0;
  virtual Task<Status> write(wire::Bytes data) = 0;
  virtual Task<Status> shutdown() = 0;
};

class TlsStreamAdapter final : public Stream {
 public:
  explicit TlsStreamAdapter(net::TlsStream& s) noexcept : s_(s) {}
  void set_timeout(milliseconds limit) noexcept override { s_.set_timeout(limit); }
  Task<Result<wire::Bytes>> read_view() override { return s_.read_view(); }
  void consume(std::size_t n) noexcept override { s_.consume(n); }
  Task<Status> write(wire::Bytes data) override { return s_.write(data); }
  Task<Status> shutdown() override { return s_.shutdown(); }

 private:
  net::TlsStream& s_;
};

// Plain TCP for http:// URLs: a receive buffer and per-operation time limits.
class PlainStream final : public Stream {
 public:
  explicit PlainStream(tcp::socket socket)
      : shared_(std::make_shared<Shared>(std::move(socket))), buffer_(64 * 1024) {}
  ~PlainStream() override {
    error_code ignored;
    shared_->socket.close(ignored);
  }
  void set_timeout(milliseconds limit) noexcept override { timeout_ = limit; }

  Task<Result<wire::Bytes>> read_view() override {
    if (begin_ == end_) {
      begin_ = end_ = 0;
      error_code ec;
      arm();
      const std::size_t n =
          co_await shared_->socket.async_read_some(asio::buffer(buffer_.data(), buffer_.size()),
                                                   asio::redirect_error(asio::use_awaitable, ec));
      BW_CO_TRY(disarm(ec));
      end_ = n;
    }
    co_return wire::Bytes(buffer_.data() + begin_, end_ - begin_);
  }
  void consume(std::size_t n) noexcept override { begin_ = std::min(end_, begin_ + n); }

  Task<Status> write(wire::Bytes data) override {
    error_code ec;
    arm();
    co_await asio::async_write(shared_->socket, asio::buffer(data.data(), data.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return disarm(ec);
  }
  Task<Status> shutdown() override {
    error_code ignored;
    shared_->socket.shutdown(tcp::socket::shutdown_send, ignored);
    co_return Status{};
  }

 private:
  // What a timer handler may touch after the stream is gone: held by weak_ptr there.
  struct Shared {
    explicit Shared(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
    tcp::socket socket;
    asio::steady_timer timer;
    std::uint64_t generation = 0;
    bool timed_out = false;
  };

  void arm() {
    Shared& s = *shared_;
    s.timed_out = false;
    const std::uint64_t generation = ++s.generation;
    if (timeout_.count() <= 0) return;
    s.timer.expires_after(timeout_);
    s.timer.async_wait([weak = std::weak_ptr<Shared>(shared_), generation](const error_code& e) {
      auto state = weak.lock();
      if (e || !state || state->generation != generation) return;
      state->timed_out = true;
      error_code ignored;
      state->socket.cancel(ignored);
    });
  }
  Status disarm(const error_code& ec) {
    Shared& s = *shared_;
    ++s.generation;  // a handler already queued must not cancel a later operation
    s.timer.cancel();
    if (s.timed_out) return Error(Errc::timed_out, "no progress within the time limit");
    if (ec == asio::error::eof) return {};
    if (ec) return Error(Errc::io_error, ec.message());
    return {};
  }

  std::shared_ptr<Shared> shared_;
  std::vector<std::uint8_t> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  milliseconds timeout_{0};
};

// What one request/response exchange produced.
struct Exchange {
  ResponseHead head;
  std::uint64_t body_bytes = 0;
  std::optional<std::string> location;  // set when the response is a redirect to follow
};

}  // namespace

struct Client::Impl {
  explicit Impl(ClientOptions o) : options(std::move(o)) {}

  Task<Result<Transfer>> fetch(Url url);
  Task<Result<Exchange>> exchange(const Url& url, const RequestSpec& request);

  // Time left before the nearer of `phase` and the whole fetch's deadline, as a time limit for
  // the next operation: zero means none, and running out is an error that names the limit.
  Result<milliseconds> left(SteadyClock::time_point phase, std::string_view what) const;
  Error timed_out(SteadyClock::time_point phase, std::string_view what) const;

  ClientOptions options;
  Stage stage = Stage::resolve;
  SteadyClock::time_point deadline = kNever;
  std::unique_ptr<net::TlsStream> tls;  // the last TLS attempt, kept for describing failures
  bool handshake_completed = false;
};

Error Client::Impl::timed_out(SteadyClock::time_point phase, std::string_view what) const {
  const bool connect_limit = phase < deadline;
  const milliseconds limit = connect_limit ? options.connect_timeout : options.max_time;
  return Error(Errc::timed_out, std::string(what) + " did not finish within the " +
                                    (connect_limit ? "connect" : "transfer") + " time limit (" +
                                    net::format_seconds(limit) + ")");
}

Result<milliseconds> Client::Impl::left(SteadyClock::time_point phase,
                                        std::string_view what) const {
  const SteadyClock::time_point until = std::min(phase, deadline);
  if (until == kNever) return milliseconds(0);
  const auto remaining = std::chrono::ceil<milliseconds>(until - SteadyClock::now());
  if (remaining.count() <= 0) return timed_out(phase, what);
  return remaining;
}

Task<Result<Exchange>> Client::Impl::exchange(const Url& url, const RequestSpec& request) {
  const std::string destination = net::format_destination(url.host, url.port);
  const SteadyClock::time_point connect_phase =
      options.connect_timeout.count() > 0 ? SteadyClock::now() + options.connect_timeout : kNever;
  handshake_completed = false;
  tls.reset();

  stage = Stage::resolve;
  BW_CO_ASSIGN(milliseconds limit, left(connect_phase, "resolving " + url.host));
  BW_CO_ASSIGN(std::vector<tcp::endpoint> endpoints,
               co_await net::resolve(url.host, url.port, options.resolve, limit));

  stage = Stage::connect;
  BW_CO_ASSIGN(limit, left(connect_phase, "connecting to " + destination));
  BW_CO_ASSIGN(tcp::socket socket, co_await net::connect(std::move(endpoints), destination, limit));
  if (options.on_connected) {
    error_code ignored;
    options.on_connected(url, socket.remote_endpoint(ignored));
  }

  std::unique_ptr<Stream> stream;
  if (url.tls()) {
    stage = Stage::tls_handshake;
    if (!options.tls) co_return Error(Errc::invalid_argument, "no TLS configuration for https");
    BW_CO_ASSIGN(tls::Connection conn, tls::Connection::client(options.tls, url.host));
    tls = std::make_unique<net::TlsStream>(std::move(socket), std::move(conn));
    BW_CO_ASSIGN(limit, left(connect_phase, "the TLS handshake with " + destination));
    tls->set_timeout(limit);
    if (Status hs = co_await tls->handshake(); !hs) {
      if (hs.error() == Errc::timed_out) {
        co_return timed_out(connect_phase, "the TLS handshake with " + destination);
      }
      co_return std::move(hs).error();
    }
    handshake_completed = true;
    // We speak HTTP/1.1 only; a server that picked another protocol would not understand us.
    const std::string& alpn = tls->connection().info().alpn;
    if (!alpn.empty() && alpn != "http/1.1" && alpn != "http/1.0") {
      co_return Error(Errc::no_application_protocol,
                      "the server chose ALPN protocol '" + alpn + "'; bulwark speaks HTTP/1.1");
    }
    if (options.on_handshake) options.on_handshake(url, tls->connection());
    stream = std::make_unique<TlsStreamAdapter>(*tls);
  } else {
    stream = std::make_unique<PlainStream>(std::move(socket));
  }

  stage = Stage::send_request;
  const std::string head = serialize_request(url, request);
  if (options.on_request) options.on_request(url, head);
  BW_CO_ASSIGN(limit, left(kNever, "sending the request"));
  stream->set_timeout(limit);
  if (Status sent = co_await stream->write(wire::as_bytes(head)); !sent) {
    if (sent.error() == Errc::timed_out) co_return timed_out(kNever, "sending the request");
    co_return std::move(sent).error();
  }

  stage = Stage::receive_response;
  ResponseParser parser(request.head, options.limits);
  if (options.on_interim) parser.set_interim_observer(options.on_interim);
  std::optional<Error> delivery_error;  // the sink's failure, told apart from the parser's
  bool head_seen = false;
  std::uint64_t received = 0;  // response bytes, head included
  Exchange out;
  // Runs once the final head is known, before any of its body is read.
  auto on_final_head = [&]() -> Status {
    head_seen = true;
    out.head = parser.head();
    if (options.follow_redirects && is_redirect(out.head.status)) {
      if (auto location = out.head.find("Location")) out.location = std::string(*location);
    }
    if (options.on_head) {
      if (Status st = options.on_head(url, out.head, !out.location); !st) {
        stage = Stage::deliver;
        return st;
      }
    }
    if (!out.location && options.body) {
      parser.set_body_sink([&](wire::Bytes b) -> Status {
        Status st = options.body(b);
        if (!st) delivery_error = st.error();
        return st;
      });
    }
    return {};
  };

  while (parser.state() != ResponseParser::State::complete) {
    BW_CO_ASSIGN(limit, left(kNever, "receiving the response"));
    stream->set_timeout(limit);
    Result<wire::Bytes> view = co_await stream->read_view();
    if (!view) {
      const Error& e = view.error();
      if (e == Errc::timed_out) co_return timed_out(kNever, "receiving the response");
      // A TLS connection that ends without close_notify (a TCP FIN, or a reset, which anyone
      // on the path can forge as easily) before the response was complete: what arrived cannot
      // be told apart from a response cut short on purpose.
      if (e == Errc::truncated_connection || (url.tls() && e == Errc::io_error)) {
        const std::string how = e == Errc::io_error
                                    ? "the connection failed (" + e.detail() + ")"
                                    : "the server closed the connection without close_notify";
        if (received == 0) {
          // Nothing of a response arrived, so nothing can be mistaken for one.
          co_return Error(Errc::truncated_connection, how + " before sending a response");
        }
        std::string detail = how + " ";
        if (!head_seen) {
          detail += "inside the response head";
        } else if (const auto length = parser.content_length()) {
          detail += "after " + std::to_string(parser.body_received()) + " of " +
                    std::to_string(*length) + " body bytes";
        } else if (parser.framing() == BodyFraming::chunked) {
          detail += "after " + std::to_string(parser.body_received()) +
                    " body bytes, before the last chunk";
        } else {
          detail += "after " + std::to_string(parser.body_received()) +
                    " body bytes, and only close_notify could say the body was complete";
        }
        co_return Error(Errc::truncated_connection, detail + ": possible truncation attack");
      }
      co_return std::move(view).error();
    }
    if (view->empty()) {
      // A clean end: it completes a body delimited by the connection's end, nothing else.
      if (Status st = parser.finish(); !st) {
        co_return Error(st.error().code(),
                        "the server closed the connection before the response was complete (" +
                            st.error().detail() + ")");
      }
      if (!head_seen) BW_CO_TRY(on_final_head());
      break;
    }
    wire::Bytes data = *view;
    received += data.size();
    std::size_t used = 0;
    while (used < data.size() && parser.state() != ResponseParser::State::complete) {
      Result<std::size_t> n = parser.feed(data.subspan(used));
      if (!n) {
        if (delivery_error) stage = Stage::deliver;
        co_return std::move(n).error();
      }
      used += *n;
      if (!head_seen && parser.state() != ResponseParser::State::head) {
        BW_CO_TRY(on_final_head());
        if (out.location) break;  // the redirect's body is of no interest
      }
    }
    stream->consume(used);
    if (out.location) break;
  }
  out.body_bytes = parser.body_received();

  // Our close_notify, best effort: the response is complete whatever happens to it.
  stream->set_timeout(milliseconds(1000));
  (void)co_await stream->shutdown();
  co_return out;
}

Task<Result<Transfer>> Client::Impl::fetch(Url url) {
  deadline = options.max_time.count() > 0 ? SteadyClock::now() + options.max_time : kNever;
  RequestSpec request = options.request;
  int redirects = 0;
  for (;;) {
    BW_CO_ASSIGN(Exchange done, co_await exchange(url, request));
    if (!done.location) {
      co_return Transfer{std::move(url), std::move(done.head), done.body_bytes, redirects};
    }
    stage = Stage::redirect;
    if (options.max_redirects >= 0 && redirects >= options.max_redirects) {
      co_return Error(Errc::limit_exceeded,
                      "too many redirects: " + std::to_string(options.max_redirects) +
                          " followed, and " + url.text() + " redirects again");
    }
    Result<Url> next = resolve_reference(url, *done.location);
    if (!next) {
      co_return Error(next.error().code(),
                      "bad redirect from " + url.text() + ": " + next.error().detail());
    }
    if (url.tls() && !next->tls()) {
      co_return Error(Errc::insufficient_security, "refusing the redirect from " + url.text() +
                                                       " to " + next->text() +
                                                       ": it would continue without TLS");
    }
    if (!next->same_origin(url)) {
      std::erase_if(request.headers,
                    [](const HeaderOption& h) { return carries_credentials(h.name); });
    }
    if (options.on_redirect) options.on_redirect(url, *next, done.head.status);
    url = std::move(next).value();
    ++redirects;
  }
}

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

Task<Result<Transfer>> Client::fetch(Url url) {
  return impl_->fetch(std::move(url));
}

Stage Client::stage() const noexcept {
  return impl_->stage;
}

const tls::Connection* Client::connection() const noexcept {
  return impl_->tls ? &impl_->tls->connection() : nullptr;
}

bool Client::handshake_completed() const noexcept {
  return impl_->handshake_completed;
}

}  // namespace bulwark::http
