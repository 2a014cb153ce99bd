#!/usr/bin/python3
"""F-asyncio-13 (SPEC UNIX-005): create_unix_server has no mode: the socket file
keeps what bind() gives it under the process umask (0755 under the usual 022),
so every local user may connect to the server.

Expected: mode 0600 by default (only the owner connects), or a mode parameter.
Exits 0 while the weakness shows."""
import asyncio
import os
import platform
import stat
import sys
import tempfile

print("asyncio (CPython %s)" % platform.python_version())
loop = asyncio.new_event_loop()
old = os.umask(0o022)
with tempfile.TemporaryDirectory() as d:
    server = loop.run_until_complete(loop.create_unix_server(asyncio.Protocol, d + "/s.sock"))
    mode = stat.S_IMODE(os.stat(d + "/s.sock").st_mode)
    server.close()
os.umask(old)
print("umask 022: the socket file's mode is %04o" % mode)
print("expected: 0600")
sys.exit(0 if mode != 0o600 else 1)
