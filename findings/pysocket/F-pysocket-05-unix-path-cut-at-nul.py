#!/usr/bin/python3
"""F-pysocket-05 (SPEC UNIX-012): socket.bind() of an AF_UNIX socket accepts a
path holding a NUL byte and passes all its bytes on; the kernel stops at the
NUL, so "<dir>/a\\0b.sock" binds "<dir>/a": a file the caller never named.
(Every other path taking call of CPython refuses an embedded NUL with ValueError.)

Expected: ValueError before any syscall. Exits 0 while the weakness shows."""
import os
import platform
import socket
import sys
import tempfile

print("socket.bind, AF_UNIX (CPython %s)" % platform.python_version())
with tempfile.TemporaryDirectory() as d:
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(os.path.join(d, "a\0b.sock"))
        outcome = "no error"
    except ValueError as e:
        outcome = "ValueError: %s" % e
    sock.close()
    created = sorted(os.listdir(d))
print("bind('<dir>/a\\0b.sock'): %s; the directory now holds %s" % (outcome, created))
print("expected: ValueError; the directory empty")
sys.exit(0 if created else 1)
