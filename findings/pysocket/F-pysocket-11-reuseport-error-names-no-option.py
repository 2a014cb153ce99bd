#!/usr/bin/python3
"""F-pysocket-11 (SPEC BIND-026): where the kernel has no SO_REUSEPORT (Linux
before 3.9 answers setsockopt(SOL_SOCKET, SO_REUSEPORT) with ENOPROTOOPT),
socket.create_server(reuse_port=True) raises the bare OSError of setsockopt:
"[Errno 92] Protocol not available", naming neither the option nor the
address, so the caller cannot tell which of its requests the kernel refused.

The kernel's answer is made with a seccomp filter that gives exactly that
errno for exactly that option (this machine's kernel has SO_REUSEPORT).
Expected: an os error carrying ENOPROTOOPT and naming SO_REUSEPORT.
Exits 0 while the weakness shows; 2 where seccomp cannot be installed."""
import ctypes
import errno
import os
import platform
import socket
import sys


def refuse_so_reuseport():
    """setsockopt(SOL_SOCKET, SO_REUSEPORT) -> ENOPROTOOPT, as Linux before 3.9
    answers (it has no such option); every other call runs. x86_64 only."""
    insns = [
        (0x20, 0, 0, 4),            # ld seccomp_data.arch
        (0x15, 1, 0, 0xC000003E),   # AUDIT_ARCH_X86_64?
        (0x06, 0, 0, 0x7FFF0000),   #   no: allow
        (0x20, 0, 0, 0),            # ld seccomp_data.nr
        (0x15, 0, 5, 54),           # setsockopt? no: allow
        (0x20, 0, 0, 24),           # ld args[1] (level)
        (0x15, 0, 3, socket.SOL_SOCKET),
        (0x20, 0, 0, 32),           # ld args[2] (optname)
        (0x15, 0, 1, socket.SO_REUSEPORT),
        (0x06, 0, 0, 0x00050000 | errno.ENOPROTOOPT),
        (0x06, 0, 0, 0x7FFF0000),
    ]
    filt = (SockFilter * len(insns))(*[SockFilter(*i) for i in insns])
    prog = SockFprog(len(insns), filt)
    libc = ctypes.CDLL(None, use_errno=True)
    if platform.machine() != "x86_64" or libc.prctl(38, 1, 0, 0, 0) != 0 or \
            libc.syscall(317, 1, 0, ctypes.byref(prog)) != 0:  # PR_SET_NO_NEW_PRIVS; seccomp()
        print("cannot install the seccomp filter here:", os.strerror(ctypes.get_errno()))
        sys.exit(2)


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(SockFilter))]


print("socket.create_server (CPython %s)" % platform.python_version())
refuse_so_reuseport()
try:
    socket.create_server(("127.0.0.1", 0), reuse_port=True).close()
    error = None
except Exception as e:  # what the caller gets
    error = e
print("create_server(reuse_port=True) where SO_REUSEPORT is ENOPROTOOPT:",
      "%s(%r), errno %s" % (type(error).__name__, str(error), getattr(error, "errno", None)))
print("expected: an os error with errno ENOPROTOOPT naming SO_REUSEPORT")
sys.exit(0 if error is None or "SO_REUSEPORT" not in str(error) else 1)
