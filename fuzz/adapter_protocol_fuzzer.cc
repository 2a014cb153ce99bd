// The adapter's line protocol on any bytes, on a FuzzedSys: every line gets
// exactly one reply line that is a JSON object with a boolean "ok"; a
// protocol error never leaves the session unable to answer the next line; and
// close_all leaves no fd of the implementation open. Input format and body:
// adapter_protocol_input.h (shared with the recorder).
#include "adapter_protocol_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  netutil::fuzz::FuzzedSys sys(in);
  const netutil::fuzz::AdapterInput a = netutil::fuzz::DecodeAdapterInput(in);
  netutil::fuzz::RunAdapterProtocol(sys, a);
  return 0;
}
