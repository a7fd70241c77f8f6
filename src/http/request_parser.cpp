// RequestParser: Boost.Beast's basic_parser reads the request head; we keep only the fields
// the server uses, enforce our limits, and turn every refusal into the status to answer.
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <limits>
#include <optional>
#include <string>

#include "bulwark/http/request.hpp"
#include "common.hpp"

namespace bulwark::http {
namespace {

namespace bhttp = boost::beast::http;
using boost::beast::error_code;
using boost::beast::string_view;

std::string_view sv(string_view s) {
  return {s.data(), s.size()};
}

// RFC 9110 §5.3: a repeated field is the comma-separated combination of its lines.
void combine(std::string& into, string_view value) {
  if (!into.empty()) into += ", ";
  into.append(value.data(), value.size());
}

bool is_host_char(char c) {
  // uri-host [ ":" port ] (RFC 3986 §3.2.2): unreserved, pct-encoded, sub-delims, IP-literal.
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~%!$&'()*+,;=:[]").find(c) != std::string_view::npos;
}

bool valid_host(std::string_view host) {
  for (const char c : host)
    if (!is_host_char(c)) return false;
  return true;
}

// What one request head told us beyond the Request itself.
struct HeadState {
  const RequestLimits* limits = nullptr;
  Request request;
  std::size_t field_count = 0;
  int host_count = 0;
  bool transfer_encoding = false;
  bool connection_close = false;
  bool connection_keep_alive = false;
  int error_status = 0;
  std::string error_detail;

  void clear() {
    request.clear();
    field_count = 0;
    host_count = 0;
    transfer_encoding = connection_close = connection_keep_alive = false;
    error_status = 0;
    error_detail.clear();
  }
  // Records the refusal; the callback then stops Beast with a stand-in error code.
  void fail(int status, std::string_view detail, error_code& ec) {
    error_status = status;
    error_detail = detail;
    ec = bhttp::error::bad_value;
  }
};

class HeadParser final : public bhttp::basic_parser<true> {
 public:
  explicit HeadParser(HeadState& state) : state_(state) {
    header_limit(static_cast<std::uint32_t>(state.limits->max_head_bytes));
    // No body limit here: on_header_impl refuses any content with 413 itself, before Beast's
    // own limit would turn a large Content-Length into a generic error. (Not boost::none:
    // Beast 1.74 compares the length with the optional, and any length exceeds none.)
    body_limit(std::numeric_limits<std::uint64_t>::max());
  }

 private:
  void on_request_impl(bhttp::verb method, string_view method_text, string_view target, int version,
                       error_code& ec) override {
    Request& r = state_.request;
    r.method.assign(method_text.data(), method_text.size());
    r.target.assign(target.data(), target.size());
    r.version = version;
    if (target.size() > state_.limits->max_target_bytes)
      return state_.fail(414, "request-target too long", ec);
    if (method == bhttp::verb::get || method == bhttp::verb::head) return;
    // RFC 9110 §9.1: a method the server does not recognise gets 501; a known method the
    // resource does not allow gets 405 (with Allow, added by error_response).
    if (method == bhttp::verb::unknown) return state_.fail(501, "unknown method", ec);
    state_.fail(405, "method not allowed", ec);
  }

  void on_response_impl(int, string_view, int, error_code& ec) override {
    ec = bhttp::error::bad_version;  // never called: this parses requests
  }

  void on_field_impl(bhttp::field name, string_view, string_view value, error_code& ec) override {
    if (++state_.field_count > state_.limits->max_header_count)
      return state_.fail(431, "too many header fields", ec);
    Request& r = state_.request;
    switch (name) {
      case bhttp::field::host:
        if (++state_.host_count == 1) r.host.assign(value.data(), value.size());
        break;
      case bhttp::field::range:
        combine(r.range, value);
        break;
      case bhttp::field::if_range:
        combine(r.if_range, value);
        break;
      case bhttp::field::if_none_match:
        combine(r.if_none_match, value);
        break;
      case bhttp::field::if_modified_since:
        combine(r.if_modified_since, value);
        break;
      case bhttp::field::referer:
        if (r.referer.empty()) r.referer.assign(value.data(), value.size());
        break;
      case bhttp::field::user_agent:
        if (r.user_agent.empty()) r.user_agent.assign(value.data(), value.size());
        break;
      case bhttp::field::transfer_encoding:
        state_.transfer_encoding = true;
        break;
      case bhttp::field::connection:
        note_connection_options(sv(value));
        break;
      default:
        break;
    }
  }

  void note_connection_options(std::string_view list) {
    while (!list.empty()) {
      const std::size_t comma = list.find(',');
      std::string_view option = list.substr(0, comma);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      while (!option.empty() && (option.front() == ' ' || option.front() == '\t'))
        option.remove_prefix(1);
      while (!option.empty() && (option.back() == ' ' || option.back() == '\t'))
        option.remove_suffix(1);
      if (detail::iequals(option, "close")) state_.connection_close = true;
      if (detail::iequals(option, "keep-alive")) state_.connection_keep_alive = true;
    }
  }

  void on_header_impl(error_code& ec) override {
    Request& r = state_.request;
    if (state_.transfer_encoding) {
      // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing.
      if (r.version < 11) return state_.fail(400, "Transfer-Encoding in HTTP/1.0", ec);
      // RFC 9112 §6.3: a request whose final coding is not chunked MUST get 400.
      if (!chunked()) return state_.fail(400, "final transfer coding is not chunked", ec);
      return state_.fail(413, "request has content", ec);
    }
    const auto length = content_length();
    if (length && *length > 0) return state_.fail(413, "request has content", ec);
    // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, with several Host lines, or
    // with an invalid Host value.
    if (state_.host_count > 1) return state_.fail(400, "more than one Host field", ec);
    if (r.version == 11 && state_.host_count == 0) return state_.fail(400, "no Host field", ec);
    if (!valid_host(r.host)) return state_.fail(400, "invalid Host field", ec);
    // RFC 9112 §9.3: persistence is the default in HTTP/1.1; HTTP/1.0 needs keep-alive.
    r.keep_alive = !state_.connection_close && (r.version == 11 || state_.connection_keep_alive);
  }

  // The head ends with the content refused above, so no body callback can run; they fail
  // safe all the same.
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code& ec) override {
    ec = bhttp::error::unexpected_body;
  }
  std::size_t on_body_impl(string_view, error_code& ec) override {
    ec = bhttp::error::unexpected_body;
    return 0;
  }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code& ec) override {
    ec = bhttp::error::unexpected_body;
  }
  std::size_t on_chunk_body_impl(std::uint64_t, string_view, error_code& ec) override {
    ec = bhttp::error::unexpected_body;
    return 0;
  }
  void on_finish_impl(error_code&) override {}

  HeadState& state_;
};

}  // namespace

void Request::clear() noexcept {
  method.clear();
  target.clear();
  version = 0;
  host.clear();
  range.clear();
  if_range.clear();
  if_none_match.clear();
  if_modified_since.clear();
  referer.clear();
  user_agent.clear();
  keep_alive = false;
}

struct RequestParser::Impl {
  RequestLimits limits;
  HeadState head;
  std::optional<HeadParser> parser;
  State state = State::need_more;
  std::string pending;         // received bytes of the head that Beast has not consumed yet
  std::size_t head_bytes = 0;  // bytes of this head consumed so far (empty lines included)
  bool before_request_line = true;

  // `pending` is only used when a head arrives in pieces, and gives its memory back when the
  // head is complete: a kept-alive connection waiting for its next request holds no head
  // buffer (up to max_head_bytes each, for every idle connection of a crowd).
  static constexpr std::size_t kKeptPending = 256;

  explicit Impl(RequestLimits l) : limits(l) {
    head.limits = &limits;
    start();
  }

  void start() {
    head.clear();
    parser.emplace(head);
    state = State::need_more;
    release_pending();
    head_bytes = 0;
    before_request_line = true;
  }

  void release_pending() {
    if (pending.capacity() > kKeptPending) {
      std::string().swap(pending);
    } else {
      pending.clear();
    }
  }

  Progress fail(int status, std::string_view detail, std::size_t consumed) {
    if (head.error_status == 0) {
      head.error_status = status;
      head.error_detail = detail;
    }
    head.request.keep_alive = false;
    state = State::failed;
    return {consumed, state};
  }

  // The head outgrew max_head_bytes; `unparsed` are its bytes Beast has not consumed.
  Progress too_large(std::string_view unparsed, std::size_t consumed) {
    if (head.request.version != 0) return fail(431, "request head too large", consumed);
    // The request line itself was not parsed yet: it starts `unparsed`.
    const std::size_t line_end = unparsed.find('\n');
    const std::string_view line = unparsed.substr(0, line_end);
    const std::size_t target_start = line.find(' ');
    if (target_start == std::string_view::npos)
      return fail(400, "malformed request line", consumed);
    const std::size_t target_end = line.find(' ', target_start + 1);
    const std::size_t target_size =
        (target_end == std::string_view::npos ? line.size() : target_end) - target_start - 1;
    if (line_end == std::string_view::npos || target_size > limits.max_target_bytes)
      return fail(414, "request line too long", consumed);
    return fail(431, "request head too large", consumed);
  }

  // Beast refused the head with `ec`; `unparsed` are the bytes it had not consumed.
  Progress refused(const error_code& ec, std::string_view unparsed, std::size_t consumed) {
    if (head.error_status != 0) return fail(head.error_status, head.error_detail, consumed);
    if (ec == bhttp::error::header_limit) return too_large(unparsed, consumed);
    if (ec == bhttp::error::bad_version) {
      // RFC 9110 §15.6.6: a well-formed HTTP-version we do not implement gets 505.
      std::string_view line = unparsed.substr(0, unparsed.find('\n'));
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const std::size_t space = line.rfind(' ');
      const std::string_view version =
          space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
      const auto digit = [](char c) { return c >= '0' && c <= '9'; };
      if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && digit(version[5]) &&
          version[6] == '.' && digit(version[7]) && unparsed.size() > line.size() + 1 &&
          unparsed[line.size()] == '\r')
        return fail(505, "HTTP version not supported", consumed);
    }
    return fail(400, ec.message(), consumed);
  }

  Progress complete(std::size_t consumed) {
    if (head_bytes > limits.max_head_bytes) return too_large({}, consumed);
    state = State::complete;
    return {consumed, state};
  }

  Progress feed(std::span<const std::uint8_t> bytes) {
    if (state == State::failed) return {0, state};
    if (state == State::complete) start();
    const auto* data = reinterpret_cast<const char*>(bytes.data());
    std::size_t consumed = 0;
    // RFC 9112 §2.2: empty lines before the request line are ignored (counted in the head).
    while (before_request_line && consumed < bytes.size()) {
      if (data[consumed] != '\r' && data[consumed] != '\n') {
        before_request_line = false;
        break;
      }
      ++consumed;
      ++head_bytes;
    }
    if (head_bytes > limits.max_head_bytes) return fail(400, "too many empty lines", consumed);
    if (consumed == bytes.size()) return {consumed, state};
    return pending.empty() ? feed_direct(data + consumed, bytes.size() - consumed, consumed)
                           : feed_pending(data, bytes.size());
  }

  // Fast path: nothing buffered, Beast parses the caller's bytes in place.
  Progress feed_direct(const char* data, std::size_t size, std::size_t consumed) {
    error_code ec;
    const std::size_t used = parser->put(boost::asio::const_buffer(data, size), ec);
    head_bytes += used;
    consumed += used;
    if (!ec) return complete(consumed);
    const std::string_view rest(data + used, size - used);
    if (ec != bhttp::error::need_more) return refused(ec, rest, consumed);
    if (head_bytes + rest.size() >= limits.max_head_bytes) return too_large(rest, consumed);
    pending.assign(rest);
    return {consumed + rest.size(), state};
  }

  // Slow path: a partial head is buffered; append what fits and parse the buffer.
  Progress feed_pending(const char* data, std::size_t size) {
    const std::size_t before = pending.size();
    const std::size_t room =
        limits.max_head_bytes - std::min(limits.max_head_bytes, head_bytes + before);
    const std::size_t take = std::min(size, room);
    pending.append(data, take);
    error_code ec;
    const std::size_t used =
        parser->put(boost::asio::const_buffer(pending.data(), pending.size()), ec);
    head_bytes += used;
    if (!ec) {
      // The head ended inside the new bytes (the buffered ones alone were not a head).
      if (used < before) return fail(400, "inconsistent head", 0);
      release_pending();
      return complete(used - before);
    }
    if (ec != bhttp::error::need_more)
      return refused(ec, std::string_view(pending).substr(used), take);
    pending.erase(0, used);
    if (head_bytes + pending.size() >= limits.max_head_bytes) return too_large(pending, take);
    return {take, state};
  }
};

RequestParser::RequestParser(RequestLimits limits) : impl_(std::make_unique<Impl>(limits)) {}
RequestParser::~RequestParser() = default;
RequestParser::RequestParser(RequestParser&&) noexcept = default;
RequestParser& RequestParser::operator=(RequestParser&&) noexcept = default;

RequestParser::Progress RequestParser::feed(std::span<const std::uint8_t> bytes) {
  return impl_->feed(bytes);
}
RequestParser::State RequestParser::state() const noexcept {
  return impl_->state;
}
const Request& RequestParser::request() const noexcept {
  return impl_->head.request;
}
int RequestParser::error_status() const noexcept {
  return impl_->state == State::failed ? impl_->head.error_status : 0;
}
std::string_view RequestParser::error_detail() const noexcept {
  return impl_->state == State::failed ? std::string_view(impl_->head.error_detail)
                                       : std::string_view();
}
bool RequestParser::started() const noexcept {
  return impl_->head_bytes > 0 || !impl_->pending.empty();
}
void RequestParser::reset() noexcept {
  impl_->start();
}
std::size_t RequestParser::buffer_capacity() const noexcept {
  return impl_->pending.capacity();
}

}  // namespace bulwark::http
