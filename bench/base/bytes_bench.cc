// Throughput of base's constant-time hex and base64 codecs (key and config parsing).
#include <benchmark/benchmark.h>

#include "meshvpn/base/bytes.h"

namespace meshvpn {
namespace {

Bytes Pattern(size_t n) {
  Bytes data(n);
  for (size_t i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  return data;
}

void BM_Base64Encode(benchmark::State& state) {
  const Bytes data = Pattern(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(Base64Encode(data));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Base64Encode)->Arg(32)->Arg(4096);

void BM_Base64Decode(benchmark::State& state) {
  const std::string text = Base64Encode(Pattern(state.range(0)));
  Bytes out(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(Base64DecodeInto(text, out));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Base64Decode)->Arg(32)->Arg(4096);

void BM_HexDecode(benchmark::State& state) {
  const std::string text = HexEncode(Pattern(state.range(0)));
  Bytes out(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(HexDecodeInto(text, out));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_HexDecode)->Arg(32)->Arg(4096);

}  // namespace
}  // namespace meshvpn
