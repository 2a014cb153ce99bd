#!/usr/bin/python3
"""F-tornado-09 (SPEC BIND-028, UNIX-016): the listening socket is made with
SOCK_CLOEXEC only; O_NONBLOCK is set by a second syscall (setblocking(False),
an ioctl FIONBIO).

Observed with strace (no fault is injected: strace only records the calls).
Expected: socket(..., SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, ...) and no later
fcntl or ioctl setting either flag. Exits 0 while the weakness shows."""
import os
import re
import subprocess
import sys
import tempfile

CHILD = """
import tornado.netutil
tornado.netutil.bind_sockets(0, "127.0.0.1")
tornado.netutil.bind_unix_socket(%r)
"""

with tempfile.TemporaryDirectory() as d:
    log = os.path.join(d, "trace")
    subprocess.run(["strace", "-f", "-qq", "-o", log, "-e", "trace=socket,ioctl,fcntl",
                    sys.executable, "-c", CHILD % os.path.join(d, "s.sock")], check=True)
    lines = open(log).read().splitlines()

import tornado  # noqa: E402  (the version only)

print("tornado", tornado.version)
shown = False
sockets = {}
for line in lines:
    line = re.sub(r"\s+= ", " = ", re.sub(r"^\d+\s+", "", line))  # the pid strace -f puts first
    m = re.match(r"socket\((AF_INET|AF_UNIX), (.*)\) = (\d+)", line)
    if m:
        sockets[m.group(3)] = m.group(1)
        print(re.sub(r"= \d+$", "= FD", line))
        shown = shown or "SOCK_NONBLOCK" not in m.group(2)
        continue
    m = re.match(r"(ioctl|fcntl)\((\d+), (.*)", line)
    if m and m.group(2) in sockets:
        print("%s(FD, %s   <- on the %s socket, after socket()" % (
            m.group(1), m.group(3), sockets[m.group(2)]))
        shown = True
print("expected: socket(..., SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, ...) and no later ioctl/fcntl")
sys.exit(0 if shown else 1)
