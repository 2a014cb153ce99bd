// The seccomp-bpf program the command runs under: SECCOMP_RET_TRACE for the
// syscalls the decoder knows (so only those stop the command), ALLOW for the
// rest, and ALLOW for any other ABI than x86_64's (their numbers differ).
#pragma once

#include <linux/filter.h>

#include <vector>

namespace netutil::tracer {

// fchmodat2 (Linux 6.6), newer than some C libraries' headers; glibc 2.39
// makes fchmodat(AT_SYMLINK_NOFOLLOW) with it.
inline constexpr int kSysFchmodat2 = 452;

// prctl's option for the quiet marker (syscall_tracer.h kQuietPrctl).
inline constexpr unsigned kQuietPrctlOption = 0x4E555100;

// The syscall numbers (x86_64) that stop at the tracer.
const std::vector<int>& TracedSyscalls();
// What else stops, by its first argument: prctl(kQuietPrctlOption, ...)
// always (the quiet marker), read(0, ...) and readv(0, ...) when
// `stdin_reads` (a request arriving arms the plan: Options::arm_at_stdin_read).
struct FilterExtras {
  bool stdin_reads = false;
};
// The filter; empty where the tracer does not run (not x86_64).
std::vector<sock_filter> BuildSeccompFilter(FilterExtras extras = {});

}  // namespace netutil::tracer
