// What a seccomp stop means in the seam's terms: the syscall's registers
// (x86_64) turned into the CallArgs a FaultInjector decides on, and a way to
// make the typed TraceEntry once the call has returned. Several syscalls map
// onto one call of the seam (accept and accept4 onto accept4, the epoll_wait
// family onto epoll_wait, open onto openat...); what maps onto none, or only
// in part (setsockopt with a value that is not an int), decodes to nullopt
// and runs untraced.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_set>

#include "netutil/fakes/call_args.h"
#include "netutil/fakes/trace_entry.h"
#include "tracee_memory.h"

namespace netutil::tracer {

struct SyscallRegs {
  uint64_t nr = 0;
  uint64_t arg[6] = {};
};

// The fds the seam would own in one process (netfault's rule too): close and
// fcntl are traced only on fds seen opened by socket, accept(4) or
// epoll_create(1), as the seam never closes a program's files or pipes.
using FdSet = std::unordered_set<int>;

struct DecodedCall {
  enum class FdEffect { kNone, kOpens, kCloses, kClosesRange };

  fakes::CallArgs args;
  // The entry for a call that returned `ret` (rax as the program sees it);
  // `outs_written`: the kernel ran it and filled its out-parameters.
  std::function<fakes::TraceEntry(long ret, bool outs_written)> finish;
  // A value fault: writes what the call's out-parameter should hold and
  // returns rax; unset means rax is the value itself.
  std::function<long(int value)> apply_value;
  FdEffect effect = FdEffect::kNone;
  int fd = -1;       // kCloses: the fd closed; kClosesRange: the first
  int last_fd = -1;  // kClosesRange: the last
};

std::optional<DecodedCall> DecodeSyscall(const SyscallRegs& regs, const TraceeMemory& mem,
                                         const FdSet& fds);

}  // namespace netutil::tracer
