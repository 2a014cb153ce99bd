#!/usr/bin/python3
"""F-tornado-14 (SPEC UNIX-012): bind_unix_socket does not check the path before
making the socket.

An empty path reaches bind() with no name, which Linux takes as "autobind":
the socket is bound to a kernel-chosen abstract name, then os.chmod("") fails
with ENOENT. A path with a NUL byte or longer than sun_path (108 bytes) is
refused only after socket() (os.stat / CPython's bind), and that socket stays
open while the exception is handled. Expected: an argument error before any
syscall for all three. Exits 0 while the weakness shows."""
import socket
import sys
import tempfile
import weakref

import tornado
import tornado.netutil

print("tornado", tornado.version)
real_socket = socket.socket
made = []


class Recorded(real_socket):  # records the sockets made (weakly), to show which stay open
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        made.append(weakref.ref(self))  # no reference that would keep it open


tornado.netutil.socket.socket = Recorded
shown = False
with tempfile.TemporaryDirectory() as d:
    for label, path in (("empty path", ""), ("path with NUL", d + "/a\0b.sock"),
                        ("path of 130 bytes", d + "/" + "x" * (130 - len(d) - 1))):
        del made[:]
        try:
            tornado.netutil.bind_unix_socket(path)
            print("%s: no error" % label)
            shown = True
            continue
        except Exception as e:  # noqa: BLE001
            err = "%s: %s" % (type(e).__name__, e)
            still_open = [s() for s in made if s() is not None and s().fileno() >= 0]
            bound = [s.getsockname() for s in still_open]
        autobound = any(isinstance(b, bytes) and b.startswith(b"\0") for b in bound)
        print("%s: %s; sockets made: %d, still open: %d%s" % (
            label, err, len(made), len(still_open),
            ", bound to an autobind abstract name" if autobound else ""))
        shown = shown or bool(made)
print("expected: an argument error (ValueError) before any socket is made")
sys.exit(0 if shown else 1)
