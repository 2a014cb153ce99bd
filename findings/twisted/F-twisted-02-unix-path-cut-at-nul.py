#!/usr/bin/python3
"""F-twisted-02 (SPEC UNIX-012): listenUNIX with a path holding a NUL byte binds
the path cut at the NUL: "<dir>/a\\0b.sock" creates the socket file "<dir>/a"
(CPython's AF_UNIX bind passes the bytes on, the kernel stops at the NUL);
only the os.chmod() that follows refuses the path (ValueError), leaving the
file "a" behind and the socket open while the error is handled.

Expected: an argument error before any syscall, nothing created.
Exits 0 while the weakness shows."""
import os
import sys
import tempfile

import twisted
from twisted.internet import protocol, reactor

print("Twisted", twisted.__version__)
factory = protocol.Factory.forProtocol(protocol.Protocol)
with tempfile.TemporaryDirectory() as d:
    try:
        reactor.listenUNIX(os.path.join(d, "a\0b.sock"), factory).stopListening()
        outcome = "no error"
    except Exception as e:  # noqa: BLE001
        outcome = "%s: %s" % (type(e).__name__, e)
    created = sorted(os.listdir(d))
print("listenUNIX('<dir>/a\\0b.sock'): %s; the directory now holds %s" % (outcome, created))
print("expected: ValueError before any syscall; the directory empty")
sys.exit(0 if created else 1)
