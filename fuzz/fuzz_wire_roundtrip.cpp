// Builds nested length-prefixed structures with wire::Writer from fuzz input, then parses
// them back with wire::Reader: the bytes read must be exactly the bytes written.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "bulwark/wire.hpp"

using bulwark::wire::Bytes;
using bulwark::wire::Reader;
using bulwark::wire::Writer;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Layout: a sequence of chunks, each written as prefixed<1 + (len % 3)>(chunk).
  Writer w;
  std::size_t chunks = 0;
  {
    auto outer = w.prefixed<3>();
    for (std::size_t i = 0; i < size;) {
      const std::size_t len = data[i] % 64;
      ++i;
      const std::size_t n = len < size - i ? len : size - i;
      const int width = 1 + static_cast<int>(len % 3);
      Bytes chunk(data + i, n);
      if (width == 1) w.prefixed_bytes<1>(chunk);
      if (width == 2) w.prefixed_bytes<2>(chunk);
      if (width == 3) w.prefixed_bytes<3>(chunk);
      i += n;
      ++chunks;
    }
  }
  if (!w.ok()) std::abort();
  const auto bytes = w.take();

  Reader r(bytes);
  auto outer = r.prefixed<3>();
  if (!outer || !r.expect_end()) std::abort();
  std::size_t i = 0;
  for (std::size_t c = 0; c < chunks; ++c) {
    const std::size_t len = data[i] % 64;
    ++i;
    const std::size_t n = len < size - i ? len : size - i;
    const int width = 1 + static_cast<int>(len % 3);
    auto chunk = width == 1   ? outer->prefixed_bytes<1>()
                 : width == 2 ? outer->prefixed_bytes<2>()
                              : outer->prefixed_bytes<3>();
    if (!chunk || chunk->size() != n) std::abort();
    if (n != 0 && std::memcmp(chunk->data(), data + i, n) != 0) std::abort();
    i += n;
  }
  if (!outer->expect_end()) std::abort();
  return 0;
}
