// Drives wire::Reader with an arbitrary sequence of operations over arbitrary input: no read
// may ever leave the input, a failed read consumes nothing, and consumed + remaining is
// constant. The first bytes choose operations; the rest is the data being parsed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "bulwark/wire.hpp"

using bulwark::wire::Bytes;
using bulwark::wire::Reader;

namespace {

void check(bool cond) {
  if (!cond) std::abort();
}

void drive(Reader& r, Bytes ops, int depth) {
  const std::size_t total = r.consumed() + r.remaining();
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const std::size_t before = r.remaining();
    bool ok = false;
    switch (ops[i] % 10) {
      case 0:
        ok = r.u8().ok();
        break;
      case 1:
        ok = r.u16().ok();
        break;
      case 2:
        ok = r.u24().ok();
        break;
      case 3:
        ok = r.u32().ok();
        break;
      case 4:
        ok = r.u64().ok();
        break;
      case 5: {
        auto b = r.bytes(ops[i] / 10);
        ok = b.ok();
        if (ok) check(b->size() == ops[i] / 10u);
        break;
      }
      case 6:
      case 7:
      case 8: {
        const int width = ops[i] % 10 - 5;  // 1, 2, 3
        auto sub = width == 1 ? r.prefixed<1>() : width == 2 ? r.prefixed<2>() : r.prefixed<3>();
        ok = sub.ok();
        if (ok && depth < 4) drive(*sub, ops.subspan(i + 1), depth + 1);
        break;
      }
      case 9:
        ok = r.expect_end().ok();
        check(ok == r.empty());
        continue;
    }
    if (!ok) check(r.remaining() == before);
    check(r.consumed() + r.remaining() == total);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t nops = data[0] % 32;
  if (size < 1 + nops) return 0;
  Bytes ops(data + 1, nops);
  Reader r(Bytes(data + 1 + nops, size - 1 - nops));
  drive(r, ops, 0);
  return 0;
}
