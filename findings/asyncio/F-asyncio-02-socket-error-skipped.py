#!/usr/bin/python3
"""F-asyncio-02 (SPEC BIND-008, BIND-018): create_server skips an address on any
socket() error, not only EAFNOSUPPORT: out of file descriptors (EMFILE), it
returns a server with no listening socket and raises nothing.

A real fd shortage: RLIMIT_NOFILE lowered to the fds already open (the loop's
and the resolver thread's). Expected: OSError EMFILE, nothing left open.
Exits 0 while the weakness shows."""
import asyncio
import os
import platform
import resource
import sys

print("asyncio (CPython %s)" % platform.python_version())
loop = asyncio.new_event_loop()
# The resolver's executor thread exists before the limit is lowered.
loop.run_until_complete(loop.getaddrinfo("127.0.0.1", 0))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
lowest_free = os.open(os.devnull, os.O_RDONLY)
os.close(lowest_free)
resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))
try:
    server = loop.run_until_complete(loop.create_server(asyncio.Protocol, "127.0.0.1", 0))
    outcome = "no error; the server has %d listening socket(s)" % len(server.sockets)
    weak = True
except OSError as e:
    outcome = "%s: %s" % (type(e).__name__, e.strerror)
    weak = False
resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
print("create_server('127.0.0.1', 0) with no free fd: %s" % outcome)
print("expected: OSError EMFILE (only EAFNOSUPPORT skips an address)")
sys.exit(0 if weak else 1)
