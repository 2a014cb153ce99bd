#!/usr/bin/python3
"""F-tornado-19 (SPEC UNIX-009), minor: a dangling symlink at the path is not
recognised: os.stat() follows it, finds nothing, and bind() then fails with
EADDRINUSE. Nothing is followed or created (the safety half of the rule
holds); the caller is told "address in use" instead of "a symlink is there".

Expected: OSError ELOOP naming the path. Exits 0 while the weakness shows."""
import errno
import os
import sys
import tempfile

import tornado
import tornado.netutil

print("tornado", tornado.version)
with tempfile.TemporaryDirectory() as d:
    os.symlink(d + "/elsewhere.sock", d + "/link.sock")
    try:
        tornado.netutil.bind_unix_socket(d + "/link.sock").close()
        got = "no error"
    except OSError as e:
        got = errno.errorcode.get(e.errno, str(e.errno))
    print("dangling symlink at the path: %s; the symlink kept: %s; its target created: %s" % (
        got, os.path.islink(d + "/link.sock"), os.path.exists(d + "/elsewhere.sock")))
print("expected: ELOOP naming the path")
sys.exit(0 if got != "ELOOP" else 1)
