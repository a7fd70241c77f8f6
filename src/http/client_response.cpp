// ResponseParser: Boost.Beast's basic_parser frames the response; we keep the head, enforce our
// limits, skip 1xx responses, and stream the body to the sink without copying it.
//
// Beast needs a structure it cannot finish (a head, a chunk-size line, the trailer section) to
// be presented again, with more bytes after it. Only such a partial structure is copied into
// `pending`; body bytes are handed to the sink straight from the caller's buffer.
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "bulwark/http/client_message.hpp"
#include "http/common.hpp"

namespace bulwark::http {

namespace {

namespace bhttp = boost::beast::http;
using boost::beast::error_code;
using boost::beast::string_view;

using detail::iequals;

// Bytes appended to `pending` per step: a partial structure usually needs only a few more.
constexpr std::size_t kPendingStep = 1024;

}  // namespace

std::optional<std::string_view> ResponseHead::find(std::string_view name) const noexcept {
  for (const HeaderField& f : fields) {
    if (iequals(f.name, name)) return std::string_view(f.value);
  }
  return std::nullopt;
}

std::string ResponseHead::text() const {
  std::string out = version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(status);
  if (!reason.empty()) out += " " + reason;
  out += "\r\n";
  for (const HeaderField& f : fields)
    out += f.name + ": " + f.value + "\r\n";
  out += "\r\n";
  return out;
}

struct ResponseParser::Impl {
  class Beast;

  Impl(bool head_request, ResponseLimits limits) : head_request(head_request), limits(limits) {}
  void start_message();
  // One put() into Beast: how much it consumed and whether it wants the rest presented again
  // with more bytes after it.
  struct Put {
    std::size_t consumed = 0;
    bool need_more = false;
  };
  Result<Put> put(wire::Bytes bytes);
  Result<std::size_t> feed(wire::Bytes input);
  Error fail(Error e) {
    state = State::failed;
    failure = e;
    return e;
  }

  bool head_request;
  ResponseLimits limits;
  std::unique_ptr<Beast> beast;  // one per message: a 1xx response is followed by a new one
  State state = State::head;
  std::optional<Error> failure;
  ResponseHead head;         // the head being parsed, then the final head
  bool in_trailers = false;  // fields now belong to the trailer section
  bool head_just_done = false;
  std::size_t field_count = 0;
  std::size_t interim = 0;
  BodyFraming framing = BodyFraming::none;
  std::optional<std::uint64_t> length;
  std::uint64_t received = 0;
  std::vector<HeaderField> trailer_fields;
  std::vector<std::uint8_t> pending;    // a partial structure, presented again with more bytes
  std::optional<Error> callback_error;  // why a callback stopped Beast (it only sees a code)
  BodySink sink;
  InterimObserver interim_observer;
};

class ResponseParser::Impl::Beast final : public bhttp::basic_parser<false> {
 public:
  explicit Beast(Impl& impl) : impl_(impl) {
    header_limit(
        static_cast<std::uint32_t>(std::min<std::size_t>(impl.limits.max_head_bytes, UINT32_MAX)));
    // A download is as large as it is; the sink decides. (Not boost::none: Beast 1.74 compares
    // a Content-Length with the optional limit, and every number is greater than none.)
    body_limit(std::numeric_limits<std::uint64_t>::max());
    skip(impl.head_request);
  }
  using basic_parser::eager;
  using basic_parser::put;

 private:
  void stop(Error e, error_code& ec) {
    impl_.callback_error = std::move(e);
    ec = bhttp::error::bad_value;  // stops Beast; callback_error holds the real cause
  }

  void on_request_impl(bhttp::verb, string_view, string_view, int, error_code& ec) override {
    ec = bhttp::error::bad_method;  // never called: this parses responses
  }

  void on_response_impl(int code, string_view reason, int version, error_code& ec) override {
    // Beast accepts HTTP/1.0 and HTTP/1.1 only (and fails any other version before this).
    // RFC 9110 §15: status codes are three digits from 100 to 599.
    if (code < 100 || code > 599) {
      return stop(Error(Errc::decode_failed, "invalid status code " + std::to_string(code)), ec);
    }
    impl_.head.version = version == 10 ? 10 : 11;
    impl_.head.status = code;
    impl_.head.reason.assign(reason.data(), reason.size());
  }

  void on_field_impl(bhttp::field name, string_view name_text, string_view value,
                     error_code& ec) override {
    if (++impl_.field_count > impl_.limits.max_fields) {
      return stop(Error(Errc::limit_exceeded,
                        "more than " + std::to_string(impl_.limits.max_fields) + " header fields"),
                  ec);
    }
    HeaderField f{std::string(name_text.data(), name_text.size()),
                  std::string(value.data(), value.size())};
    if (impl_.in_trailers) {
      impl_.trailer_fields.push_back(std::move(f));
      return;
    }
    if (name == bhttp::field::transfer_encoding) {
      if (impl_.head.version == 10) {
        // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing.
        return stop(Error(Errc::decode_failed, "Transfer-Encoding in an HTTP/1.0 response"), ec);
      }
      // We sent no TE field, so chunked is the only coding the server may apply (RFC 9112
      // §7.4); anything else would be saved still encoded.
      std::string_view list(value.data(), value.size());
      while (!list.empty()) {
        const std::size_t comma = list.find(',');
        const std::string_view coding = detail::trim_ows(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        if (coding.empty()) continue;
        if (!iequals(coding, "chunked")) {
          return stop(Error(Errc::unsupported,
                            "transfer coding '" + std::string(coding) + "' is not supported"),
                      ec);
        }
      }
    }
    impl_.head.fields.push_back(std::move(f));
  }

  void on_header_impl(error_code& ec) override {
    Impl& m = impl_;
    if (m.head.status == 101) {
      // RFC 9110 §15.2.2: a server switches protocols only when asked to; we never ask.
      return stop(Error(Errc::unsupported, "101 Switching Protocols without an Upgrade request"),
                  ec);
    }
    if (m.head.status < 200) return;  // interim: no body, the final response follows
    m.in_trailers = true;
    m.head_just_done = true;
    if (is_done()) {
      m.framing = BodyFraming::none;
    } else if (chunked()) {
      m.framing = BodyFraming::chunked;
    } else if (const auto n = content_length()) {
      m.framing = BodyFraming::content_length;
      m.length = *n;
    } else {
      m.framing = BodyFraming::until_close;
    }
  }

  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}

  std::size_t deliver(string_view body, error_code& ec) {
    impl_.received += body.size();
    if (impl_.sink && !body.empty()) {
      Status st =
          impl_.sink(wire::Bytes(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
      if (!st) {
        stop(std::move(st).error(), ec);
        return 0;
      }
    }
    return body.size();
  }

  std::size_t on_body_impl(string_view body, error_code& ec) override { return deliver(body, ec); }

  // RFC 9112 §7.1.1: extensions we do not understand are ignored (we understand none).
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override {
    return deliver(body, ec);
  }

  void on_finish_impl(error_code&) override {}

  Impl& impl_;
};

void ResponseParser::Impl::start_message() {
  beast = std::make_unique<Beast>(*this);
  head = ResponseHead{};
  field_count = 0;
  in_trailers = false;
}

Result<ResponseParser::Impl::Put> ResponseParser::Impl::put(wire::Bytes bytes) {
  error_code ec;
  const std::size_t n = beast->put(
      boost::asio::const_buffer(reinterpret_cast<const char*>(bytes.data()), bytes.size()), ec);
  if (ec == bhttp::error::need_more) return Put{n, true};
  if (ec) {
    if (callback_error) return fail(*callback_error);
    if (ec == bhttp::error::header_limit) {
      return fail(
          Error(Errc::limit_exceeded,
                "response head longer than " + std::to_string(limits.max_head_bytes) + " bytes"));
    }
    return fail(Error(Errc::decode_failed, "malformed response: " + ec.message()));
  }
  if (beast->is_done()) {
    if (head.status < 200) {
      // RFC 9110 §15.2: a client parses any number of 1xx responses before the final one.
      if (++interim > limits.max_interim) {
        return fail(Error(Errc::limit_exceeded, "more than " + std::to_string(limits.max_interim) +
                                                    " interim (1xx) responses"));
      }
      if (interim_observer) interim_observer(head);
      start_message();
    } else {
      state = State::complete;
    }
  } else if (beast->is_header_done() && head.status >= 200) {
    state = State::body;
  }
  return Put{n, false};
}

Result<std::size_t> ResponseParser::Impl::feed(wire::Bytes input) {
  if (failure) return *failure;
  std::size_t used = 0;
  head_just_done = false;
  while (used < input.size() && (state == State::head || state == State::body)) {
    if (!pending.empty()) {
      std::size_t take = std::min(input.size() - used, kPendingStep);
      const std::size_t room =
          limits.max_head_bytes - std::min(limits.max_head_bytes, pending.size());
      if (room == 0) {
        return fail(Error(Errc::limit_exceeded,
                          "a response head, chunk-size line or trailer section is longer than " +
                              std::to_string(limits.max_head_bytes) + " bytes"));
      }
      take = std::min(take, room);
      const std::size_t before = pending.size();
      pending.insert(pending.end(), input.begin() + static_cast<std::ptrdiff_t>(used),
                     input.begin() + static_cast<std::ptrdiff_t>(used + take));
      BW_ASSIGN(const Put p, put(pending));
      if (p.consumed >= before) {
        // The partial structure is done; whatever follows is parsed where it lies in `input`.
        used += p.consumed - before;
        pending.clear();
      } else {
        pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(p.consumed));
        used += take;
      }
    } else {
      BW_ASSIGN(const Put p, put(input.subspan(used)));
      used += p.consumed;
      if (p.need_more && used < input.size()) {
        const std::size_t rest = input.size() - used;
        if (rest > limits.max_head_bytes) {
          return fail(Error(Errc::limit_exceeded,
                            "a response head, chunk-size line or trailer section is longer than " +
                                std::to_string(limits.max_head_bytes) + " bytes"));
        }
        pending.assign(input.begin() + static_cast<std::ptrdiff_t>(used), input.end());
        used = input.size();
      }
    }
    if (head_just_done) {
      // After the head, Beast may run through the body in one put().
      beast->eager(true);
      break;
    }
  }
  return used;
}

ResponseParser::ResponseParser(bool head_request, ResponseLimits limits)
    : impl_(std::make_unique<Impl>(head_request, limits)) {
  impl_->start_message();
}
ResponseParser::~ResponseParser() = default;
ResponseParser::ResponseParser(ResponseParser&&) noexcept = default;
ResponseParser& ResponseParser::operator=(ResponseParser&&) noexcept = default;

void ResponseParser::set_body_sink(BodySink sink) {
  impl_->sink = std::move(sink);
}
void ResponseParser::set_interim_observer(InterimObserver observer) {
  impl_->interim_observer = std::move(observer);
}

Result<std::size_t> ResponseParser::feed(wire::Bytes input) {
  return impl_->feed(input);
}

Status ResponseParser::finish() {
  Impl& m = *impl_;
  if (m.failure) return *m.failure;
  if (m.state == State::complete) return {};
  if (m.state == State::head) {
    const bool started = m.beast->got_some() || !m.pending.empty();
    return Error(Errc::truncated, started ? "the connection ended inside the response head"
                                          : "the connection ended before any response");
  }
  if (m.framing == BodyFraming::until_close) {
    error_code ec;
    m.beast->put_eof(ec);
    if (ec) return m.fail(Error(Errc::decode_failed, "malformed response: " + ec.message()));
    m.state = State::complete;
    return {};
  }
  std::string detail = "the connection ended after " + std::to_string(m.received) + " body bytes";
  if (m.length) {
    detail += " of " + std::to_string(*m.length);
  } else {
    detail += ", before the last chunk";
  }
  return Error(Errc::truncated, std::move(detail));
}

ResponseParser::State ResponseParser::state() const noexcept {
  return impl_->state;
}
const ResponseHead& ResponseParser::head() const noexcept {
  return impl_->head;
}
BodyFraming ResponseParser::framing() const noexcept {
  return impl_->framing;
}
std::optional<std::uint64_t> ResponseParser::content_length() const noexcept {
  return impl_->length;
}
std::uint64_t ResponseParser::body_received() const noexcept {
  return impl_->received;
}
std::size_t ResponseParser::interim_responses() const noexcept {
  return impl_->interim;
}
const std::vector<HeaderField>& ResponseParser::trailers() const noexcept {
  return impl_->trailer_fields;
}

}  // namespace bulwark::http
