#!/usr/bin/python3
"""F-asyncio-06 (SPEC BIND-015, BIND-017): create_server("localhost") fails on a
host whose /etc/hosts lists ::1 but whose loopback has no IPv6 address (a
common container set-up): bind([::1]) fails with EADDRNOTAVAIL and the whole
call fails, although 127.0.0.1 works (Tornado skips it since 6.1, #2274).

Runs itself in new user, network and mount namespaces (`unshare -rnm`,
util-linux): /etc/hosts is bind-mounted over with "127.0.0.1 localhost" and
"::1 localhost", IPv6 is disabled on the namespace's loopback. Expected: ::1
skipped, one listener on 127.0.0.1. Exits 0 while the weakness shows."""
import errno
import fcntl
import os
import socket
import struct
import sys
import tempfile

if os.environ.get("FINDING_IN_NETNS") != "1":
    fd, hosts = tempfile.mkstemp()
    os.write(fd, b"127.0.0.1 localhost\n::1 localhost\n")
    os.close(fd)
    os.environ.update(FINDING_IN_NETNS="1", FINDING_HOSTS=hosts)
    os.execvp("unshare", ["unshare", "-rnm", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"',
                          hosts, sys.executable] + sys.argv)
os.unlink(os.environ["FINDING_HOSTS"])  # the mount keeps it
with socket.socket() as s:  # the loopback up (SIOCSIFFLAGS: IFF_UP|IFF_LOOPBACK|IFF_RUNNING)
    fcntl.ioctl(s, 0x8914, struct.pack("16sH", b"lo", 0x1 | 0x8 | 0x40))
with open("/proc/sys/net/ipv6/conf/lo/disable_ipv6", "w") as f:
    f.write("1")

import asyncio  # noqa: E402
import platform  # noqa: E402

print("asyncio (CPython %s)" % platform.python_version())
loop = asyncio.new_event_loop()
try:
    server = loop.run_until_complete(loop.create_server(asyncio.Protocol, "localhost", 0))
    print("create_server('localhost', 0): listeners on %s" % [s.getsockname()[0] for s in server.sockets])
    weak = False
except OSError as e:
    print("create_server('localhost', 0): %s: %s" % (type(e).__name__, errno.errorcode[e.errno]))
    print("  (%s)" % str(e).split(": ")[-1])
    weak = True
print("expected: ::1 skipped (EADDRNOTAVAIL for localhost), a listener on 127.0.0.1")
sys.exit(0 if weak else 1)
