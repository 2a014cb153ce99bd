#include "seccomp_filter.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <cstddef>
#include <cstdint>

namespace netutil::tracer {

#if defined(__x86_64__)

const std::vector<int>& TracedSyscalls() {
  static const std::vector<int> kTraced = {
      SYS_socket,      SYS_setsockopt,   SYS_getsockopt,    SYS_bind,        SYS_listen,
      SYS_getsockname, SYS_accept,       SYS_accept4,       SYS_connect,     SYS_close,
      SYS_fcntl,       SYS_epoll_create, SYS_epoll_create1, SYS_epoll_ctl,   SYS_epoll_wait,
      SYS_epoll_pwait, SYS_epoll_pwait2, SYS_unlink,        SYS_unlinkat,    SYS_chmod,
      SYS_fchmod,      SYS_fchmodat,     SYS_umask,         SYS_open,        SYS_openat,
      SYS_mkdir,       SYS_mkdirat,      SYS_rename,        SYS_renameat,    SYS_renameat2,
      SYS_readlink,    SYS_readlinkat,   SYS_stat,          SYS_lstat,       SYS_newfstatat,
      SYS_statx,       kSysFchmodat2,    SYS_ioctl,         SYS_close_range,
  };
  return kTraced;
}

// Layout: 0 load arch, 1 arch check, 2 load nr, 3 x32 check, then one compare
// for each listed syscall (to TRACE), then one for each syscall traced only
// for one value of its first argument (to its check), ALLOW, TRACE, and the
// checks: load args[0], compare, TRACE, ALLOW (BPF jumps only forward, so
// each has its own returns). A jump's offset counts from the next instruction.
std::vector<sock_filter> BuildSeccompFilter(FilterExtras extras) {
  const std::vector<int>& traced = TracedSyscalls();
  struct ByArg {
    int nr;
    uint32_t arg0;
  };
  std::vector<ByArg> by_arg = {{SYS_prctl, kQuietPrctlOption}};
  if (extras.stdin_reads) {
    by_arg.push_back({SYS_read, 0});
    by_arg.push_back({SYS_readv, 0});
  }
  const size_t n = traced.size();
  const size_t first_by_arg = 4 + n;
  const size_t allow = first_by_arg + by_arg.size();
  const size_t trace = allow + 1;
  auto check_of = [&](size_t i) { return trace + 1 + 4 * i; };
  auto to = [](size_t from, size_t target) { return static_cast<__u8>(target - from - 1); };
  std::vector<sock_filter> f;
  f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, to(1, allow)));
  f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
  // x32 calls carry __X32_SYSCALL_BIT and other layouts: not decoded.
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, to(3, allow), 0));
  for (size_t i = 0; i < n; ++i) {
    const size_t at = 4 + i;
    f.push_back(
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<__u32>(traced[i]), to(at, trace), 0));
  }
  for (size_t i = 0; i < by_arg.size(); ++i) {
    const size_t at = first_by_arg + i;
    f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<__u32>(by_arg[i].nr),
                         to(at, check_of(i)), 0));
  }
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
  for (const ByArg& b : by_arg) {
    // The low 32 bits of the first argument (little-endian): fd 0, or the option.
    f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])));
    f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, b.arg0, 0, 1));
    f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
    f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  }
  return f;
}

#else

const std::vector<int>& TracedSyscalls() {
  static const std::vector<int> kNone;
  return kNone;
}
std::vector<sock_filter> BuildSeccompFilter(FilterExtras) { return {}; }

#endif

}  // namespace netutil::tracer
