#!/usr/bin/python3
"""F-tornado-04 (SPEC BIND-022, UNIX-013): negative backlog and out-of-range mode accepted.

backlog=-1 goes to listen(), which Linux silently takes as its maximum
(net.core.somaxconn); mode=0o10000 goes to os.chmod, and the socket file ends up
with mode 0000. Expected: ValueError for both, before any syscall.
Exits 0 while the weakness shows."""
import os
import stat
import sys
import tempfile

import tornado
import tornado.netutil

print("tornado", tornado.version)
shown = False
for label, call in (
        ("bind_sockets(backlog=-1)",
         lambda d: tornado.netutil.bind_sockets(0, "127.0.0.1", backlog=-1)),
        ("bind_unix_socket(backlog=-1)",
         lambda d: [tornado.netutil.bind_unix_socket(d + "/b.sock", backlog=-1)]),
        ("bind_unix_socket(mode=0o10000)",
         lambda d: [tornado.netutil.bind_unix_socket(d + "/m.sock", mode=0o10000)])):
    with tempfile.TemporaryDirectory() as d:
        try:
            socks = call(d)
        except ValueError as e:
            print("%s: ValueError (as the rule wants): %s" % (label, e))
            continue
        extra = ""
        if os.path.exists(d + "/m.sock"):
            extra = "; the file's mode is %04o" % stat.S_IMODE(os.stat(d + "/m.sock").st_mode)
        print("%s: no error, listening%s" % (label, extra))
        shown = True
        for s in socks:
            s.close()
print("expected: ValueError for each, before any syscall")
sys.exit(0 if shown else 1)
