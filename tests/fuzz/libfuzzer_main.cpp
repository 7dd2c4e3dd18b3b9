// The libFuzzer entry of one fuzzer executable: PARLEY_FUZZ_ENTRY names
// its target function (tests/fuzz/CMakeLists.txt sets it per executable).
#include "tests/fuzz/targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  return parley::fuzz::PARLEY_FUZZ_ENTRY(data, size);
}
