// bind_unix_socket on a FuzzedSys: paths, file kinds, live or stale listeners,
// modes and failures at every step. Input format and body:
// unix_socket_input.h (shared with the recorder).
#include "unix_socket_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  netutil::fuzz::FuzzedSys sys(in);
  const netutil::UnixOptions o = netutil::fuzz::DecodeUnixOptions(in);
  netutil::fuzz::RunUnixSocket(sys, o);
  return 0;
}
