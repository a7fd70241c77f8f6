// proxy::peek_client_hello: the SNI of a real ClientHello (our client's), whole, split across
// reads and across records; non-TLS streams; malformed and oversized hellos.
#include "bulwark/proxy/client_hello.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "bulwark/tls/connection.hpp"

namespace bulwark::proxy {
namespace {

std::vector<std::uint8_t> client_hello_for(const std::string& name) {
  auto config = std::make_shared<tls::ClientConfig>();
  auto conn = tls::Connection::client(config, name);
  EXPECT_TRUE(conn);
  const wire::Bytes out = conn->pending_output();
  return std::vector<std::uint8_t>(out.begin(), out.end());
}

// The same handshake message re-framed into records of at most `fragment` bytes.
std::vector<std::uint8_t> refragment(const std::vector<std::uint8_t>& records,
                                     std::size_t fragment) {
  const std::vector<std::uint8_t> message(records.begin() + 5, records.end());
  std::vector<std::uint8_t> out;
  for (std::size_t at = 0; at < message.size(); at += fragment) {
    const std::size_t n = std::min(fragment, message.size() - at);
    out.insert(out.end(), {22, 3, 1, std::uint8_t(n >> 8), std::uint8_t(n)});
    out.insert(out.end(), message.begin() + at, message.begin() + at + n);
  }
  return out;
}

TEST(ProxyClientHello, ReadsTheServerName) {
  const auto hello = client_hello_for("Www.Example.org");
  auto peek = peek_client_hello(hello);
  ASSERT_TRUE(peek) << peek.error().message();
  EXPECT_EQ(peek->outcome, ClientHelloPeek::Outcome::complete);
  EXPECT_EQ(peek->server_name, "www.example.org");
}

TEST(ProxyClientHello, WaitsForEveryByte) {
  const auto hello = client_hello_for("example.org");
  for (std::size_t n = 1; n < hello.size(); n += 37) {
    auto peek = peek_client_hello(wire::Bytes(hello.data(), n));
    ASSERT_TRUE(peek) << n;
    EXPECT_EQ(peek->outcome, ClientHelloPeek::Outcome::need_more) << n;
  }
}

TEST(ProxyClientHello, ReassemblesRecords) {
  // RFC 8446 §5.1: a handshake message may span several records.
  const auto split = refragment(client_hello_for("split.example.org"), 50);
  auto partial = peek_client_hello(wire::Bytes(split.data(), split.size() - 10));
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->outcome, ClientHelloPeek::Outcome::need_more);
  auto peek = peek_client_hello(split);
  ASSERT_TRUE(peek) << peek.error().message();
  EXPECT_EQ(peek->outcome, ClientHelloPeek::Outcome::complete);
  EXPECT_EQ(peek->server_name, "split.example.org");
}

TEST(ProxyClientHello, NoServerNameForAnAddress) {
  // Our client sends no SNI for an IP literal.
  auto peek = peek_client_hello(client_hello_for("192.0.2.1"));
  ASSERT_TRUE(peek);
  EXPECT_EQ(peek->outcome, ClientHelloPeek::Outcome::complete);
  EXPECT_EQ(peek->server_name, "");
}

TEST(ProxyClientHello, RecognisesOtherProtocols) {
  const std::string http = "GET / HTTP/1.1\r\n";
  auto peek = peek_client_hello(wire::as_bytes(http));
  ASSERT_TRUE(peek);
  EXPECT_EQ(peek->outcome, ClientHelloPeek::Outcome::not_tls);
  const std::uint8_t one[] = {'S'};
  auto first_byte = peek_client_hello(one);
  ASSERT_TRUE(first_byte);
  EXPECT_EQ(first_byte->outcome, ClientHelloPeek::Outcome::not_tls);
}

TEST(ProxyClientHello, RefusesMalformedHellos) {
  auto hello = client_hello_for("example.org");
  // The first handshake message must be a ClientHello.
  auto wrong_type = hello;
  wrong_type[5] = 2;
  EXPECT_FALSE(peek_client_hello(wrong_type));
  // RFC 8446 §5.1: a plaintext record is at most 2^14 bytes.
  const std::uint8_t overlong[] = {22, 3, 1, 0x40, 0x01};
  auto r = peek_client_hello(overlong);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::record_overflow);
  // A corrupted length inside the body is a decode error, not a read past the end.
  auto corrupt = hello;
  corrupt[5 + 4 + 2 + 32] = 0xff;  // legacy_session_id length
  EXPECT_FALSE(peek_client_hello(corrupt));
  // A handshake message announced larger than we wait for.
  const std::uint8_t huge[] = {22, 3, 1, 0, 4, 1, 0x10, 0, 0};
  auto big = peek_client_hello(huge);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code(), Errc::limit_exceeded);
}

}  // namespace
}  // namespace bulwark::proxy
