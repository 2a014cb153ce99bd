#!/usr/bin/python3
"""F-asyncio-14 (SPEC UNIX-004, UNIX-009), minor: create_unix_server does not
look at what is at the path before bind(): a regular file or a dangling
symlink is reported as bind()'s EADDRINUSE ("Address ... is already in use")
rather than as what it is. Nothing is removed or followed (the safety half of
both rules holds); the caller just cannot tell "taken by a file / a symlink"
from "taken by a socket".

Expected: a regular file -> an argument error naming the path (UNIX-004); a
symlink -> OSError ELOOP naming the path (UNIX-009). Exits 0 while the weakness shows."""
import asyncio
import errno
import os
import platform
import sys
import tempfile

print("asyncio (CPython %s)" % platform.python_version())
loop = asyncio.new_event_loop()
weak = False
with tempfile.TemporaryDirectory() as d:
    with open(d + "/data", "w") as f:
        f.write("keep me\n")
    os.symlink(d + "/elsewhere.sock", d + "/link.sock")
    for label, path, want in (("regular file", d + "/data", "ValueError"),
                              ("dangling symlink", d + "/link.sock", "ELOOP")):
        try:
            loop.run_until_complete(loop.create_unix_server(asyncio.Protocol, path)).close()
            got = "no error"
        except ValueError:
            got = "ValueError"
        except OSError as e:
            got = errno.errorcode.get(e.errno, str(e.errno))
        print("%s at the path: %s (expected %s)" % (label, got, want))
        weak = weak or got != want
    print("the file kept: %s; the symlink kept: %s; its target created: %s" % (
        os.path.isfile(d + "/data"), os.path.islink(d + "/link.sock"), os.path.exists(d + "/elsewhere.sock")))
sys.exit(0 if weak else 1)
