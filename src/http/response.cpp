// Responses: reason phrases, head serialization, error pages.
#include "bulwark/http/response.hpp"

#include <unistd.h>

#include <charconv>

#include "bulwark/http/date.hpp"
#include "common.hpp"

namespace bulwark::http {

std::string_view server_name() noexcept {
  return "bulwark/" BULWARK_VERSION;
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 416:
      return "Range Not Satisfiable";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

FileHandle& FileHandle::operator=(FileHandle&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

FileHandle::~FileHandle() {
  if (fd_ >= 0) ::close(fd_);
}

const std::string* Response::header(std::string_view name) const noexcept {
  for (const auto& h : headers)
    if (detail::iequals(h.name, name)) return &h.value;
  return nullptr;
}

void serialize_head(const Response& response, std::string& out) {
  std::size_t size = 17 + response.reason().size();
  for (const auto& h : response.headers)
    size += h.name.size() + h.value.size() + 4;
  out.reserve(out.size() + size);
  out += "HTTP/1.1 ";
  detail::append_decimal(out, static_cast<std::uint64_t>(response.status));
  out += ' ';
  out += response.reason();
  out += "\r\n";
  for (const auto& h : response.headers) {
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  out += "\r\n";
}

std::string serialize_head(const Response& response) {
  std::string out;
  serialize_head(response, out);
  return out;
}

Response error_response(int status, const Request& request,
                        std::chrono::system_clock::time_point now, bool close) {
  Response response;
  response.status = status;
  response.close = close || !request.keep_alive;
  detail::add_standard_headers(response, now);
  // RFC 9110 §15.5.6: a 405 response MUST carry Allow with the supported methods.
  if (status == 405) response.headers.push_back({"Allow", "GET, HEAD"});
  std::string title = detail::decimal(static_cast<std::uint64_t>(status));
  title += ' ';
  title += reason_phrase(status);
  std::string page;
  page.reserve(160);
  page += "<!DOCTYPE html>\n<html><head><title>";
  page += title;
  page += "</title></head>\n<body><h1>";
  page += title;
  page += "</h1><hr><p>";
  page += server_name();
  page += "</p></body></html>\n";
  detail::set_memory_body(response, request, "text/html; charset=utf-8", std::move(page));
  detail::add_connection_header(response, request);
  return response;
}

namespace detail {

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

void append_html_escaped(std::string& out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
}

void append_decimal(std::string& out, std::uint64_t v) {
  char buf[20];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

std::string decimal(std::uint64_t v) {
  std::string out;
  append_decimal(out, v);
  return out;
}

void add_standard_headers(Response& response, std::chrono::system_clock::time_point now) {
  // The Date text changes once a second; formatting it once per second per thread is enough.
  thread_local std::chrono::sys_seconds cached_second{std::chrono::seconds{-1}};
  thread_local std::string cached_date;
  const auto second = std::chrono::floor<std::chrono::seconds>(now);
  if (second != cached_second || cached_date.empty()) {
    cached_date.clear();
    append_http_date(cached_date, second);
    cached_second = second;
  }
  response.headers.reserve(10);
  response.headers.push_back({"Date", cached_date});
  response.headers.push_back({"Server", std::string(server_name())});
}

void add_connection_header(Response& response, const Request& request) {
  if (!request.keep_alive) response.close = true;
  if (response.close)
    response.headers.push_back({"Connection", "close"});
  else if (request.version == 10)
    response.headers.push_back({"Connection", "keep-alive"});
}

void set_memory_body(Response& response, const Request& request, std::string_view content_type,
                     std::string body) {
  response.headers.push_back({"Content-Type", std::string(content_type)});
  response.headers.push_back({"Content-Length", decimal(body.size())});
  // RFC 9110 §9.3.2: HEAD gets the same fields as GET and no content.
  if (!request.is_head()) response.body = std::move(body);
}

}  // namespace detail
}  // namespace bulwark::http
