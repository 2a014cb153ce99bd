// bind_unix_socket on a FuzzedSys: paths, file kinds, live or stale listeners,
// modes and failures at every step.
#include <sys/stat.h>

#include <algorithm>
#include <string>

#include "fuzzed_sys.h"
#include "netutil/bind_unix_socket.h"

using netutil::Error;
using netutil::UnixOptions;
using netutil::fuzz::Check;
using netutil::fuzz::FuzzedSys;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  FuzzedSys sys(in);
  UnixOptions o;
  switch (in.ConsumeIntegralInRange(0, 4)) {
    case 0: o.path = "/run/app/app.sock"; break;
    case 1: o.path = std::string("\0abstract", 9); break;
    case 2: o.path = ""; break;
    case 3: o.path = std::string(in.ConsumeIntegralInRange<size_t>(100, 120), 'p'); break;
    default: o.path = in.ConsumeRandomLengthString(130); break;
  }
  o.mode = in.ConsumeBool() ? 0600 : in.ConsumeIntegral<uint16_t>();
  o.backlog = in.ConsumeBool() ? 128 : in.ConsumeIntegralInRange(-2, 1024);
  const mode_t umask_before = sys.current_umask();
  const bool abstract = !o.path.empty() && o.path[0] == '\0';
  {
    auto r = netutil::bind_unix_socket(sys, o);
    // UNIX-015: the umask comes back, whatever happened.
    Check(sys.current_umask() == umask_before, "umask not restored");
    // UNIX-007: abstract names touch no file.
    if (abstract) {
      Check(sys.calls_of("lstat") + sys.calls_of("unlink") + sys.calls_of("chmod") == 0,
            "abstract name touched the filesystem");
    }
    if (!r.ok()) {
      const Error& e = r.error();
      // UNIX-012/013: argument errors come before any syscall, except UNIX-004's
      // "exists and is not a socket", which needs the lstat.
      const bool not_a_socket =
          e.kind == Error::Kind::kArgument && e.step == "path" && sys.calls_of("lstat") > 0;
      Check(e.kind != Error::Kind::kArgument || not_a_socket || sys.calls() == 0,
            "argument error after syscalls");
      Check(sys.open_fds().empty(), "error left fds open: " + e.message);  // UNIX-011
      // UNIX-011: a file it created is removed (or at least unlink was tried:
      // unlink itself may fail).
      Check(sys.files().count(o.path) == 0 || abstract ||
                std::count(sys.unlinked().begin(), sys.unlinked().end(), o.path) > 0,
            "error left the socket file it created: " + e.message);
      // UNIX-004/-008/-009: refusing a path never removes it.
      if (e.step == "lstat" || e.step == "connect probe" || not_a_socket) {
        Check(std::count(sys.unlinked().begin(), sys.unlinked().end(), o.path) == 0,
              "refused path was unlinked: " + e.message);
      }
    } else {
      Check(sys.is_listening(r.value().fd.get()), "socket does not listen");  // UNIX-006
      Check(sys.open_fds().size() == 1, "probe socket left open");
    }
  }
  Check(sys.open_fds().empty(), "listener did not close when dropped");
  netutil::fuzz::AbortOnViolations(sys, "unix_socket_fuzzer");
  return 0;
}
