// The accept handler on an EpollLoop, both on a FuzzedSys: readiness, every
// accept4 answer (EAGAIN, ECONNABORTED, EMFILE, EINTR, fatal errors), the
// clock, the batch size and removal from the callback come from the input.
// The oracle is the drain model of the spec. Input format and body:
// accept_drain_input.h (shared with the recorder).
#include "accept_drain_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  netutil::fuzz::FuzzedSys fuzzed(in);
  const netutil::fuzz::AcceptDrainInput d = netutil::fuzz::DecodeAcceptDrain(in);
  netutil::fuzz::RunAcceptDrain(fuzzed, d);
  return 0;
}
