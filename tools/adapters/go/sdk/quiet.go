package sdk

import (
	"runtime"
	"syscall"
)

// quietPrctl is the syscall tracer's quiet marker (netutil-trace,
// docs/TRACER.md): between prctl(quietPrctl, 1) and prctl(quietPrctl, 0) a
// thread's calls are neither faulted nor traced. The adapter's own
// observations (fd flags, counting /proc/self/fd) are not the
// implementation's calls. Without the tracer the kernel answers EINVAL and
// nothing happens.
const quietPrctl = 0x4E555100

// Quietly runs f as the adapter's own observation. The marker is per OS
// thread, so the goroutine stays on its thread meanwhile.
func Quietly(f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_, _, _ = syscall.Syscall6(syscall.SYS_PRCTL, quietPrctl, 1, 0, 0, 0, 0)
	defer syscall.Syscall6(syscall.SYS_PRCTL, quietPrctl, 0, 0, 0, 0, 0)
	f()
}
