// The syscall tracer's quiet marker, for programs it runs (adapters): a
// program's own observations (reading fd flags or socket options to report
// them, counting its open fds) are not the implementation's calls. A thread
// brackets them with prctl(kQuietPrctl, 1) ... prctl(kQuietPrctl, 0)
// (brackets nest); in between, its calls are neither faulted nor recorded.
// Under the tracer the prctl returns 0 without reaching the kernel, so
// prctl(kQuietPrctl, 2) == 0 tells a program it is traced; elsewhere the
// kernel answers -1 EINVAL and nothing happens. Any language can make the
// call (Python: ctypes' libc.prctl; Go: syscall.Syscall(SYS_PRCTL, ...)).
// docs/TRACER.md, docs/ADAPTER.md.
#pragma once

#include <sys/prctl.h>

namespace netutil::tracer {

inline constexpr unsigned kQuietPrctl = 0x4E555100;  // "NUQ\0"

// Whether this process runs under the syscall tracer.
inline bool UnderTracer() { return ::prctl(kQuietPrctl, 2, 0, 0, 0) == 0; }
inline void QuietBegin() { (void)::prctl(kQuietPrctl, 1, 0, 0, 0); }
inline void QuietEnd() { (void)::prctl(kQuietPrctl, 0, 0, 0, 0); }

}  // namespace netutil::tracer
