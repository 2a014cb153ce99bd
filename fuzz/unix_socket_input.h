// unix_socket_fuzzer's input and body, shared with the corpus recorder.
//
// Input: the options (DecodeUnixOptions), then FuzzedSys's answers. The
// encoder sits beside the decoder, and the body is the same code for the
// fuzzer and the recorder, so a seed means what it was recorded as.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <string_view>

#include "fdp_writer.h"
#include "fuzzed_sys.h"
#include "netutil/bind_unix_socket.h"

namespace netutil::fuzz {

inline constexpr std::string_view kUnixPath = "/run/app/app.sock";
inline constexpr std::string_view kUnixAbstract{"\0abstract", 9};
inline constexpr size_t kMaxUnixPath = 130;  // past sun_path's 108 bytes

inline UnixOptions DecodeUnixOptions(FuzzedDataProvider& in) {
  UnixOptions o;
  switch (in.ConsumeIntegralInRange(0, 4)) {
    case 0:
      o.path = kUnixPath;
      break;
    case 1:
      o.path = kUnixAbstract;
      break;
    case 2:
      o.path = "";
      break;
    case 3:
      o.path = std::string(in.ConsumeIntegralInRange<size_t>(100, 120), 'p');
      break;
    default:
      o.path = in.ConsumeRandomLengthString(kMaxUnixPath);
      break;
  }
  o.mode = in.ConsumeBool() ? 0600 : in.ConsumeIntegral<uint16_t>();
  o.backlog = in.ConsumeBool() ? kDefaultBacklog : in.ConsumeIntegralInRange(-2, 1024);
  return o;
}

// Writes what DecodeUnixOptions reads back as `o`; false when `o` is outside
// what the decoder can pick.
inline bool EncodeUnixOptions(const UnixOptions& o, FdpWriter& out) {
  const bool all_p = std::all_of(o.path.begin(), o.path.end(), [](char c) { return c == 'p'; });
  if (o.path == kUnixPath) {
    out.IntInRange(0, 0, 4);
  } else if (o.path == kUnixAbstract) {
    out.IntInRange(1, 0, 4);
  } else if (o.path.empty()) {
    out.IntInRange(2, 0, 4);
  } else if (all_p && o.path.size() >= 100 && o.path.size() <= 120) {
    out.IntInRange(3, 0, 4);
    out.IntInRange<size_t>(o.path.size(), 100, 120);
  } else {
    out.IntInRange(4, 0, 4);
    if (!out.String(o.path, kMaxUnixPath)) return false;
  }
  out.Bool(o.mode == 0600);
  if (o.mode != 0600) {
    if (o.mode > 0xffff) return false;
    out.Integral<uint16_t>(static_cast<uint16_t>(o.mode));
  }
  out.Bool(o.backlog == kDefaultBacklog);
  if (o.backlog != kDefaultBacklog) {
    if (o.backlog < -2 || o.backlog > 1024) return false;
    out.IntInRange(o.backlog, -2, 1024);
  }
  return true;
}

// bind_unix_socket on `sys`: paths, file kinds, live or stale listeners,
// modes and failures at every step. Aborts when an oracle fails.
inline void RunUnixSocket(FuzzedSys& sys, const UnixOptions& o) {
  const mode_t umask_before = sys.current_umask();
  const bool abstract = !o.path.empty() && o.path[0] == '\0';
  {
    auto r = bind_unix_socket(sys, o);
    // UNIX-015: the umask comes back, whatever happened.
    Check(sys.current_umask() == umask_before, "umask not restored");
    // UNIX-007: abstract names touch no file.
    if (abstract) {
      Check(sys.calls_of(Call::kLstat) + sys.calls_of(Call::kStat) + sys.calls_of(Call::kUnlink) +
                    sys.calls_of(Call::kChmod) + sys.calls_of(Call::kFstatat) +
                    sys.calls_of(Call::kOpenat) + sys.calls_of(Call::kMkdirat) +
                    sys.calls_of(Call::kRenameat2) + sys.calls_of(Call::kUnlinkat) +
                    sys.calls_of(Call::kFchmodat) ==
                0,
            "abstract name touched the filesystem");
    }
    if (!r.ok()) {
      const Error& e = r.error();
      // UNIX-012/013: argument errors come before any syscall, except UNIX-004's
      // "exists and is not a socket", which needs the fstatat.
      const bool not_a_socket =
          e.kind == Error::Kind::kArgument && e.step == "path" && sys.calls_of(Call::kFstatat) > 0;
      Check(e.kind != Error::Kind::kArgument || not_a_socket || sys.calls() == 0,
            "argument error after syscalls");
      Check(sys.open_fd_count() == 0,
            [&] { return "error left fds open: " + e.message; });  // UNIX-011
      // UNIX-011: a file it created is removed (or at least unlinkat was
      // tried: it may fail itself).
      for (const std::string& f : sys.files()) {
        Check(sys.unlink_calls(f) > 0,
              [&] { return "error left the socket file it created (" + f + "): " + e.message; });
      }
      // UNIX-004/-008/-009, UNIX-019: refusing a path before the private
      // directory exists moves or removes nothing.
      if ((e.step == "fstatat" || e.step == "connect probe" || not_a_socket) &&
          sys.calls_of(Call::kMkdirat) == 0) {
        Check(sys.calls_of(Call::kUnlink) + sys.calls_of(Call::kUnlinkat) +
                      sys.calls_of(Call::kRenameat2) ==
                  0,
              [&] { return "refused path was moved or unlinked: " + e.message; });
      }
    } else {
      Check(sys.is_listening(r.value().fd.get()), "socket does not listen");  // UNIX-006
      Check(sys.open_fd_count() == 1, "probe socket left open");
    }
  }
  Check(sys.open_fd_count() == 0, "listener did not close when dropped");
  AbortOnViolations(sys, "unix_socket_fuzzer");
}

}  // namespace netutil::fuzz
