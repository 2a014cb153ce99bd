#!/usr/bin/python3
"""F-asyncio-12 (SPEC UNIX-019, UNIX-003): the stale socket is inspected with
os.stat(path) and removed with os.remove(path): whatever is at the path by the
time of the remove goes, a regular file included.

Threat as in UNIX-019: another user who can write in the directory swaps the
stale socket for a file between the two calls. The window is made
deterministic by doing that swap right after the real os.stat returns.
Expected: a non-socket is never removed (EADDRINUSE, the file kept).
Exits 0 while the weakness shows."""
import os
import socket
import sys
import tempfile

import asyncio
import platform

print("asyncio (CPython %s)" % platform.python_version())
loop = asyncio.new_event_loop()
real_stat = os.stat


def racing_stat(path, *a, **kw):
    st = real_stat(path, *a, **kw)
    if path == target:  # the other user's swap, right after the inspection
        os.rename(path, path + ".old")
        with open(path, "w") as f:
            f.write("keep me\n")
    return st


with tempfile.TemporaryDirectory() as d:
    target = os.path.join(d, "s.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(target)
    stale.close()  # a stale socket file: nobody listens
    os.stat = racing_stat
    try:
        server = loop.run_until_complete(loop.create_unix_server(asyncio.Protocol, target))
        server.close()
        outcome = "no error"
    except OSError as e:
        outcome = "%s: %s" % (type(e).__name__, e.strerror)
    finally:
        os.stat = real_stat
    kept = os.path.isfile(target)
print("the stale socket swapped for a regular file after the stat: %s; the file %s"
      % (outcome, "was kept" if kept else "was removed"))
print("expected: the regular file kept (EADDRINUSE)")
sys.exit(0 if not kept else 1)
