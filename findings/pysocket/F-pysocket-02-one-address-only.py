#!/usr/bin/python3
"""F-pysocket-02 (SPEC BIND-006, BIND-013, BIND-015, BIND-017, BIND-023):
socket.create_server((host, port)) makes one socket of one family and leaves
the name to bind(), which takes its first address: a server on "localhost"
is unreachable over ::1 (and over 127.0.0.1 with family=AF_INET6), and none of
the rules on a resolver's address list (de-duplication and order, one shared
port, skipping ::1 without IPv6, no leak when a later address fails) applies.

Runs itself in new user, network and mount namespaces (`unshare -rnm`,
util-linux) to bind-mount an /etc/hosts with "127.0.0.1 localhost" and
"::1 localhost". Expected: listeners on 127.0.0.1 and ::1.
Exits 0 while the weakness shows."""
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

import platform  # noqa: E402

print("socket.create_server (CPython %s)" % platform.python_version())
weak = False
for family in (socket.AF_INET, socket.AF_INET6):
    sock = socket.create_server(("localhost", 0), family=family)
    got = [sock.getsockname()[0]]
    sock.close()
    print("create_server(('localhost', 0), family=%s): listeners on %s" % (family.name, got))
    weak = weak or got != ["127.0.0.1", "::1"]
print("expected: ['127.0.0.1', '::1']")
sys.exit(0 if weak else 1)
