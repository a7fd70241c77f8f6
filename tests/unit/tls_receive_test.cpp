// Connection::receive (feed and read in one call, records opened straight into the caller's
// buffer) and read() of buffered records: the data, its order and every failure are those of
// feed() + read(); non-data records opened into the caller's buffer leave nothing there.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "bulwark/tls/connection.hpp"
#include "support/pki.hpp"
#include "support/tls_pair.hpp"

using namespace bulwark;
using namespace bulwark::tls;
using test::pattern;
using test::pump;
using V = std::vector<std::uint8_t>;

namespace {

const test::Pki& pki() {
  static const test::Pki p = [] {
    test::PkiOptions o;
    o.leaf.key_type = crypto::KeyType::ec_p256;
    return test::make_pki(o);
  }();
  return p;
}

test::Pair established(ProtocolVersion max_version = ProtocolVersion::tls13) {
  auto ccfg = test::client_config(pki());
  ccfg->max_version = max_version;
  auto scfg = test::server_config(pki());
  scfg->tickets_per_handshake = 0;
  test::Pair p = test::connect(ccfg, scfg);
  EXPECT_TRUE(pump(p.client, p.server)) << test::why(p);
  EXPECT_EQ(p.client.state(), State::established);
  EXPECT_EQ(p.server.state(), State::established);
  return p;
}

// What `from` has queued, taken off it.
V take_output(Connection& from) {
  const wire::Bytes out = from.pending_output();
  V bytes(out.begin(), out.end());
  from.consume_output(bytes.size());
  return bytes;
}

}  // namespace

class TlsReceive : public ::testing::TestWithParam<ProtocolVersion> {};

TEST_P(TlsReceive, WholeRecordsLandInTheCallersBuffer) {
  test::Pair p = established(GetParam());
  for (std::size_t size : {std::size_t{1}, std::size_t{1024}, max_plaintext}) {
    SCOPED_TRACE(size);
    const V data = pattern(size);
    ASSERT_TRUE(p.client.send(data));
    const V records = take_output(p.client);
    V sink(size, 0xee);
    auto got = p.server.receive(records, sink);
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(*got, size);
    EXPECT_EQ(sink, data);
    EXPECT_TRUE(p.server.peek().empty());
  }
}

TEST_P(TlsReceive, SeveralRecordsAndASmallBuffer) {
  test::Pair p = established(GetParam());
  const V data = pattern(3 * max_plaintext + 500);  // four records
  ASSERT_TRUE(p.client.send(data));
  const V records = take_output(p.client);
  // A buffer smaller than a record: what fits is read, the rest waits for read().
  V first(1000);
  auto got = p.server.receive(records, first);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(*got, first.size());
  V all(first);
  V rest(data.size());
  const std::size_t n = p.server.read(rest);
  all.insert(all.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(n));
  EXPECT_EQ(all, data);
  // All four at once into a buffer with room for them.
  ASSERT_TRUE(p.client.send(data));
  V sink(data.size() + 10);
  got = p.server.receive(take_output(p.client), sink);
  ASSERT_TRUE(got);
  ASSERT_EQ(*got, data.size());
  EXPECT_TRUE(std::equal(data.begin(), data.end(), sink.begin()));
}

// Records split anywhere across receive() calls come out whole and in order.
TEST_P(TlsReceive, RecordsSplitAcrossCalls) {
  test::Pair p = established(GetParam());
  const V data = pattern(2 * max_plaintext + 77);
  ASSERT_TRUE(p.client.send(data));
  const V records = take_output(p.client);
  V got;
  V sink(max_plaintext);
  for (std::size_t at = 0; at < records.size(); at += 4097) {
    const std::size_t n = std::min<std::size_t>(4097, records.size() - at);
    auto r = p.server.receive(wire::Bytes(records.data() + at, n), sink);
    ASSERT_TRUE(r) << r.error().message();
    got.insert(got.end(), sink.begin(), sink.begin() + static_cast<std::ptrdiff_t>(*r));
  }
  V rest(data.size());
  const std::size_t n = p.server.read(rest);
  got.insert(got.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(n));
  EXPECT_EQ(got, data);
}

TEST_P(TlsReceive, TamperedRecordIsBadRecordMac) {
  test::Pair p = established(GetParam());
  const V data = pattern(2000);
  ASSERT_TRUE(p.client.send(data));
  ASSERT_TRUE(p.client.send(data));
  V records = take_output(p.client);
  const std::size_t second = records.size() / 2;
  records[second + 20] ^= 0x01;
  V sink(2 * data.size(), 0xee);
  // The first record's data is returned; the error comes with the next call.
  auto got = p.server.receive(records, sink);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, data.size());
  EXPECT_TRUE(std::all_of(sink.begin() + 2000, sink.end(), [](std::uint8_t b) { return b == 0; }))
      << "unauthenticated plaintext left in the caller's buffer";
  EXPECT_TRUE(p.server.failed());
  ASSERT_NE(p.server.failure(), nullptr);
  EXPECT_EQ(p.server.failure()->alert, AlertDescription::bad_record_mac);
  EXPECT_FALSE(p.server.pending_output().empty()) << "the alert is queued";
  got = p.server.receive({}, sink);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), Errc::bad_record_mac);
}

TEST_P(TlsReceive, CloseNotifyAfterData) {
  test::Pair p = established(GetParam());
  const V data = pattern(500);
  ASSERT_TRUE(p.client.send(data));
  ASSERT_TRUE(p.client.close());
  V sink(4096);
  auto got = p.server.receive(take_output(p.client), sink);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, data.size());
  EXPECT_TRUE(std::equal(data.begin(), data.end(), sink.begin()));
  EXPECT_EQ(p.server.state(), State::peer_closed);
}

// Empty application-data records (allowed, counted against a limit) read as nothing, into a
// buffer or into none; the data after them still arrives.
TEST_P(TlsReceive, EmptyRecordsAndAnEmptyBuffer) {
  test::Pair p = established(GetParam());
  ASSERT_TRUE(p.client.send({}));
  V none;
  auto got = p.server.receive(take_output(p.client), none);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, 0u);
  ASSERT_TRUE(p.client.send({}));
  const V data = pattern(100);
  ASSERT_TRUE(p.client.send(data));
  V sink(100, 0xee);
  got = p.server.receive(take_output(p.client), sink);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, data.size());
  EXPECT_EQ(sink, data);
  // Data that arrives while the caller has no room waits for a later read.
  ASSERT_TRUE(p.client.send(data));
  got = p.server.receive(take_output(p.client), none);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 0u);
  EXPECT_EQ(p.server.peek().size(), data.size());
  EXPECT_EQ(p.server.read(sink), data.size());
  EXPECT_EQ(sink, data);
}

INSTANTIATE_TEST_SUITE_P(Versions, TlsReceive,
                         ::testing::Values(ProtocolVersion::tls13, ProtocolVersion::tls12));

// A KeyUpdate between data records is opened into the caller's buffer, handled (the server
// answers with its own) and wiped there; the data around it is read in order.
TEST(TlsReceive13, KeyUpdateBetweenDataRecords) {
  test::Pair p = established();
  const V a = pattern(300);
  const V b = pattern(700);
  ASSERT_TRUE(p.client.send(a));
  ASSERT_TRUE(p.client.update_keys(true));
  ASSERT_TRUE(p.client.send(b));
  V sink(4096, 0xee);
  auto got = p.server.receive(take_output(p.client), sink);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(*got, a.size() + b.size());
  V expected = a;
  expected.insert(expected.end(), b.begin(), b.end());
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), sink.begin()));
  // The server's own KeyUpdate answers the request and still reaches the client.
  const V answer = take_output(p.server);
  EXPECT_FALSE(answer.empty());
  ASSERT_TRUE(p.client.feed(answer));
  EXPECT_FALSE(p.client.failed());
  // Data keeps flowing both ways under the new keys.
  ASSERT_TRUE(p.server.send(a));
  V back(1000);
  got = p.client.receive(take_output(p.server), back);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, a.size());
  EXPECT_TRUE(std::equal(a.begin(), a.end(), back.begin()));
}

// read() after feed(): the first record is open already, the buffered ones are opened straight
// into the caller's buffer; the data is the same.
TEST(TlsReceive13, ReadOpensBufferedRecords) {
  test::Pair p = established();
  const V data = pattern(3 * max_plaintext);
  ASSERT_TRUE(p.client.send(data));
  ASSERT_TRUE(p.server.feed(take_output(p.client)));
  V sink(data.size() + 1);
  ASSERT_EQ(p.server.read(sink), data.size());
  EXPECT_TRUE(std::equal(data.begin(), data.end(), sink.begin()));
  EXPECT_EQ(p.server.read(sink), 0u);
}
