#!/usr/bin/python3
"""F-asyncio-07 (SPEC BIND-028, UNIX-016, ACCEPT-008): listening sockets are made
with SOCK_CLOEXEC only, and O_NONBLOCK is set by a second syscall (ioctl
FIONBIO); accepted connections likewise (accept4(SOCK_CLOEXEC), then
setblocking(False)).

Observed with strace (no fault injected: strace only records the calls).
Expected: socket(..., SOCK_NONBLOCK|SOCK_CLOEXEC) and accept4(...,
SOCK_NONBLOCK|SOCK_CLOEXEC), no later ioctl/fcntl. Exits 0 while the weakness shows."""
import os
import platform
import re
import subprocess
import sys
import tempfile

CHILD = """
import asyncio, socket, sys
loop = asyncio.new_event_loop()
done = loop.create_future()
class P(asyncio.Protocol):
    def connection_made(self, t):
        t.close(); done.set_result(None)
srv = loop.run_until_complete(loop.create_server(P, "127.0.0.1", 0))
c = socket.create_connection(srv.sockets[0].getsockname())
loop.run_until_complete(asyncio.wait_for(done, 5))
loop.run_until_complete(loop.create_unix_server(asyncio.Protocol, sys.argv[1]))
"""

with tempfile.TemporaryDirectory() as d:
    log = os.path.join(d, "trace")
    subprocess.run(["strace", "-f", "-qq", "-o", log, "-e", "trace=socket,accept4,ioctl,fcntl",
                    sys.executable, "-c", CHILD, os.path.join(d, "s.sock")], check=True)
    lines = open(log).read().splitlines()

print("asyncio (CPython %s)" % platform.python_version())
weak = False
fds = {}
for line in lines:
    line = re.sub(r"\s+= ", " = ", re.sub(r"^\d+\s+", "", line))
    m = re.match(r"(socket|accept4)\((.*)\) = (\d+)$", line)
    if m and ("AF_INET" in m.group(2) or "AF_UNIX" in m.group(2) or m.group(1) == "accept4"):
        what = "accepted" if m.group(1) == "accept4" else m.group(2).split(",")[0]
        if m.group(1) == "socket" and "SOCK_STREAM" not in m.group(2):
            continue
        fds[m.group(3)] = what
        shown = re.sub(r"\{.*\}", "{...}", re.sub(r"^accept4\(\d+", "accept4(FD", line))
        print(re.sub(r"= \d+$", "= FD", shown))
        weak = weak or "SOCK_NONBLOCK" not in m.group(2)
        continue
    m = re.match(r"(ioctl|fcntl)\((\d+), (.*)", line)
    if m and m.group(2) in fds and ("FIONBIO" in line or "F_SETFL" in line or "F_SETFD" in line):
        print("%s(FD, %s   <- on the %s socket, after it was made" % (m.group(1), m.group(3), fds[m.group(2)]))
        weak = True
print("expected: SOCK_NONBLOCK|SOCK_CLOEXEC at socket() and accept4(), no later ioctl/fcntl")
sys.exit(0 if weak else 1)
