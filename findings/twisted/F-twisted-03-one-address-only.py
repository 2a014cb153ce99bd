#!/usr/bin/python3
"""F-twisted-03 (SPEC BIND-006, BIND-013, BIND-015, BIND-017, BIND-023, BIND-002):
listenTCP binds exactly one socket and resolves nothing itself: a host name is
handed to CPython's bind(), which binds its first IPv4 address only, and the
default interface "" is 0.0.0.0 only. A server on "localhost" is unreachable
over ::1, one on "" is unreachable over IPv6, and none of the rules about a
resolver's address list (de-duplication and order, one shared port, skipping
::1 without IPv6, no leak when a later address fails) can apply.

Runs itself in new user, network and mount namespaces (`unshare -rnm`,
util-linux) to bind-mount an /etc/hosts with "127.0.0.1 localhost" and
"::1 localhost". Expected: one listener per address of the name (127.0.0.1 and
::1), and 0.0.0.0 and [::] for "". Exits 0 while the weakness shows."""
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

import twisted  # noqa: E402
from twisted.internet import protocol, reactor  # noqa: E402

print("Twisted", twisted.__version__)
factory = protocol.Factory.forProtocol(protocol.Protocol)
weak = False
for interface, want in (("localhost", ["127.0.0.1", "::1"]), ("", ["0.0.0.0", "::"])):
    port = reactor.listenTCP(0, factory, interface=interface)
    got = [port.getHost().host]
    port.stopListening()
    print("listenTCP(0, interface=%r): listeners on %s; expected %s" % (interface, got, want))
    weak = weak or got != want
sys.exit(0 if weak else 1)
