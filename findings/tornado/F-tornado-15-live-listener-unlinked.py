#!/usr/bin/python3
"""F-tornado-15 (SPEC UNIX-008): bind_unix_socket removes the socket file of a
listener that is still alive and takes its place.

os.stat() says "a socket", so Tornado unlinks it without asking whether anyone
listens there: the running server (here a child process) keeps its socket but
no client can reach it any more; they all reach the new one. Expected:
EADDRINUSE, the live listener's file untouched. Exits 0 while the weakness shows."""
import os
import subprocess
import sys
import tempfile

import tornado
import tornado.netutil

SERVER = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
print("listening", flush=True)
sys.stdin.read()
"""

print("tornado", tornado.version)
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "s.sock")
    server = subprocess.Popen([sys.executable, "-c", SERVER, path], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    server.stdout.readline()
    before = os.stat(path).st_ino
    try:
        sock = tornado.netutil.bind_unix_socket(path)
        replaced = os.stat(path).st_ino != before
        print("bind_unix_socket on a live listener's path: no error; its file %s"
              % ("was removed and replaced by the new socket" if replaced else "is unchanged"))
        sock.close()
    except OSError as e:
        replaced = False
        print("bind_unix_socket: %s: %s" % (type(e).__name__, e.strerror))
    server.communicate("")
print("expected: OSError EADDRINUSE, the live listener's file untouched")
sys.exit(0 if replaced else 1)
