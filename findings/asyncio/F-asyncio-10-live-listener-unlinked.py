#!/usr/bin/python3
"""F-asyncio-10 (SPEC UNIX-008): create_unix_server removes the socket file of a
listener that is still alive and takes its place.

os.stat() says "a socket", so asyncio unlinks it without asking whether anyone
listens there: the running server (here a child process) keeps its socket but
no client can reach it any more; they all reach the new one. Expected:
EADDRINUSE, the live listener's file untouched. Exits 0 while the weakness shows."""
import os
import subprocess
import sys
import tempfile

import asyncio
import platform

SERVER = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
print("listening", flush=True)
sys.stdin.read()
"""

print("asyncio (CPython %s)" % platform.python_version())
loop = asyncio.new_event_loop()
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "s.sock")
    child = subprocess.Popen([sys.executable, "-c", SERVER, path], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    child.stdout.readline()
    before = os.stat(path).st_ino
    try:
        server = loop.run_until_complete(loop.create_unix_server(asyncio.Protocol, path))
        replaced = os.stat(path).st_ino != before
        print("create_unix_server on a live listener's path: no error; its file %s"
              % ("was removed and replaced by the new socket" if replaced else "is unchanged"))
        server.close()
    except OSError as e:
        replaced = False
        print("create_unix_server: %s: %s" % (type(e).__name__, e.strerror))
    child.communicate("")
print("expected: OSError EADDRINUSE, the live listener's file untouched")
sys.exit(0 if replaced else 1)
