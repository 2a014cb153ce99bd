#!/usr/bin/python3
"""F-tornado-10 (SPEC ACCEPT-008): add_accept_handler hands the callback a
blocking connection.

CPython's accept() is accept4(SOCK_CLOEXEC) and leaves O_NONBLOCK off on a
listener without a timeout; the callback gets a socket that would block the
IOLoop until someone calls setblocking(False) (IOStream does, later).
Expected: accept4(SOCK_NONBLOCK|SOCK_CLOEXEC): non-blocking and close-on-exec
from the first instant. Exits 0 while the weakness shows."""
import asyncio
import fcntl
import os
import socket
import sys

import tornado
import tornado.ioloop
import tornado.netutil

print("tornado", tornado.version)
seen = []


def callback(conn, address):
    seen.append((bool(fcntl.fcntl(conn, fcntl.F_GETFL) & os.O_NONBLOCK),
                 bool(fcntl.fcntl(conn, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)))
    conn.close()
    tornado.ioloop.IOLoop.current().stop()


asyncio.set_event_loop(asyncio.new_event_loop())
loop = tornado.ioloop.IOLoop.current()
[listener] = tornado.netutil.bind_sockets(0, "127.0.0.1")
tornado.netutil.add_accept_handler(listener, callback)
client = socket.create_connection(listener.getsockname())
loop.call_later(5, loop.stop)
loop.start()
client.close()
if not seen:
    print("no connection accepted")
    sys.exit(2)
nonblock, cloexec = seen[0]
print("accepted connection: O_NONBLOCK %s, FD_CLOEXEC %s" % (nonblock, cloexec))
print("expected: O_NONBLOCK True, FD_CLOEXEC True")
sys.exit(0 if not (nonblock and cloexec) else 1)
