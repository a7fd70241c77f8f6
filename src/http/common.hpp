// Internal helpers shared by the HTTP units (server, client, proxy). Not a public header.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "bulwark/http/request.hpp"
#include "bulwark/http/response.hpp"

namespace bulwark::http::detail {

// ASCII case-insensitive equality (field names, tokens, range units).
bool iequals(std::string_view a, std::string_view b) noexcept;

// `s` without leading and trailing optional whitespace (RFC 9110 §5.6.3: spaces and tabs).
std::string_view trim_ows(std::string_view s) noexcept;

// Appends `text` with &, <, >, " and ' replaced by character references.
void append_html_escaped(std::string& out, std::string_view text);

// Appends the decimal digits of `v`.
void append_decimal(std::string& out, std::uint64_t v);
std::string decimal(std::uint64_t v);

// Adds Date and Server, the fields every response starts with.
void add_standard_headers(Response& response, std::chrono::system_clock::time_point now);

// Adds "Connection: close" when the response closes the connection (response.close is set
// from the request's keep-alive decision first), or "Connection: keep-alive" to an HTTP/1.0
// client that asked for it (RFC 9112 §9.3).
void add_connection_header(Response& response, const Request& request);

// An in-memory body: Content-Type and Content-Length fields, and the bytes unless HEAD.
void set_memory_body(Response& response, const Request& request, std::string_view content_type,
                     std::string body);

}  // namespace bulwark::http::detail
