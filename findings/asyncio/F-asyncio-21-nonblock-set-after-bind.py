#!/usr/bin/python3
"""F-asyncio-21 (BIND-014): create_server binds a blocking socket.

asyncio.base_events.create_server makes each listening socket with socket.socket()
(SOCK_CLOEXEC only), sets its options and binds it; only after the bind loop does it
call sock.setblocking(False) (an ioctl FIONBIO) on every socket. BIND-014 asks for
every socket to be non-blocking before bind().

This script records, at each bind() call, whether the socket is still blocking, then
reads O_NONBLOCK of the listener create_server returns. Exit 0 while the weakness shows.
"""
import asyncio
import fcntl
import os
import socket
import sys

seen = []
_orig_bind = socket.socket.bind


def bind(self, address):
    seen.append((self.family.name, self.getblocking()))
    return _orig_bind(self, address)


socket.socket.bind = bind


async def main():
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    flags = [bool(fcntl.fcntl(s.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK)
             for s in server.sockets]
    server.close()
    await server.wait_closed()
    return flags


after = asyncio.run(main())
print("asyncio (CPython %d.%d.%d)" % sys.version_info[:3])
for family, blocking in seen:
    print("bind() on an %s socket: %s" % (family, "blocking" if blocking else "non-blocking"))
print("listener returned: O_NONBLOCK %s" % ("set" if all(after) else "clear"))
print("expected: O_NONBLOCK set before bind() (BIND-014)")
sys.exit(0 if seen and any(b for _, b in seen) else 1)
