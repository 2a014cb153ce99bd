#!/usr/bin/python3
"""F-trio-04 (SPEC BIND-006): open_tcp_listeners binds getaddrinfo's results as
they come: duplicates are each bound (two listeners for 127.0.0.1, on two
ports with port 0; EADDRINUSE with a fixed port), and IPv6 may come first.

glibc returns an address once per /etc/hosts line that names the host; a
hosts file with "127.0.0.1 localhost" and "127.0.0.1 localhost.localdomain
localhost" (common) gives 127.0.0.1 twice. Runs itself in new user, network and
mount namespaces (`unshare -rnm`, util-linux) to bind-mount such a hosts file.
Expected: duplicates removed, IPv4 first: 127.0.0.1 then ::1.
Exits 0 while the weakness shows."""
import fcntl
import os
import socket
import struct
import sys
import tempfile

if os.environ.get("FINDING_IN_NETNS") != "1":
    fd, hosts = tempfile.mkstemp()
    os.write(fd, b"::1 localhost\n127.0.0.1 localhost\n127.0.0.1 localhost.localdomain localhost\n")
    os.close(fd)
    os.environ.update(FINDING_IN_NETNS="1", FINDING_HOSTS=hosts)
    os.execvp("unshare", ["unshare", "-rnm", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"',
                          hosts, sys.executable] + sys.argv)
os.unlink(os.environ["FINDING_HOSTS"])  # the mount keeps it
with socket.socket() as s:  # the loopback up (SIOCSIFFLAGS: IFF_UP|IFF_LOOPBACK|IFF_RUNNING)
    fcntl.ioctl(s, 0x8914, struct.pack("16sH", b"lo", 0x1 | 0x8 | 0x40))

import trio  # noqa: E402

print("trio", trio.__version__)


async def main():
    listeners = await trio.open_tcp_listeners(0, host="localhost")
    return [l.socket.getsockname()[0] for l in listeners]


addresses = trio.run(main)
print("open_tcp_listeners(0, host='localhost'): listeners on %s" % addresses)
print("expected: ['127.0.0.1', '::1']")
sys.exit(0 if addresses != ["127.0.0.1", "::1"] else 1)
