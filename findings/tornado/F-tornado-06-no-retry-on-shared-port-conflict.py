#!/usr/bin/python3
"""F-tornado-06 (SPEC BIND-023): port 0 over two families fails when the port the
IPv4 bind got is taken on IPv6, without trying another port (Tornado issue #1860).

Runs itself in a new user and network namespace (`unshare -rn`, util-linux) so
the ephemeral range can be narrowed to 40000-40009 without root on the host.
[::]:40000..40008 are held (IPv6 only); 40009 is free on both families.
bind_sockets(0) binds 0.0.0.0 first, on a port the kernel picks, then [::] on
the same port. Expected: when [::] finds the port taken, start over on a new
port, so every call succeeds (on 40009). Exits 0 while the weakness shows."""
import fcntl
import os
import socket
import struct
import sys

if os.environ.get("FINDING_IN_NETNS") != "1":
    os.environ["FINDING_IN_NETNS"] = "1"
    os.execvp("unshare", ["unshare", "-rn", sys.executable] + sys.argv)

import tornado  # noqa: E402
import tornado.netutil  # noqa: E402

# The loopback of the new namespace up (SIOCSIFFLAGS: IFF_UP|IFF_LOOPBACK|IFF_RUNNING).
with socket.socket() as s:
    fcntl.ioctl(s, 0x8914, struct.pack("16sH", b"lo", 0x1 | 0x8 | 0x40))
with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as f:
    f.write("40000 40009")

print("tornado", tornado.version)
held = []
for port in range(40000, 40009):
    h = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    h.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    h.bind(("::", port))
    h.listen()
    held.append(h)
print("held: [::]:40000..40008 (IPv6 only); free on both families: 40009")
failures = 0
for _ in range(20):
    try:
        socks = tornado.netutil.bind_sockets(0)
    except OSError as e:
        failures += 1
        error = "%s: %s" % (type(e).__name__, e.strerror)
        continue
    for s in socks:
        s.close()
if failures:
    print("bind_sockets(0), 20 calls: some failed with %s (no other port tried)" % error)
else:
    print("bind_sockets(0), 20 calls: all succeeded")
print("expected: every call succeeds (a restart on a new port finds 40009)")
sys.exit(0 if failures else 1)
