// The baseline for fuzz speed: a target that does nothing, built with the same
// flags as the others. Each target's exec/s is reported as a ratio to this one,
// measured in the same run.
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }
