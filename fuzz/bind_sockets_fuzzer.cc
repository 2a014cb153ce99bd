// bind_sockets on a FuzzedSys: the input picks the options and every syscall's
// answer; the oracle checks the spec's invariants on whatever comes back.
// Input format and body: bind_sockets_input.h (shared with the recorder).
#include "bind_sockets_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  netutil::fuzz::FuzzedSys sys(in);
  const netutil::BindOptions o = netutil::fuzz::DecodeBindOptions(in);
  netutil::fuzz::RunBindSockets(sys, o);
  return 0;
}
