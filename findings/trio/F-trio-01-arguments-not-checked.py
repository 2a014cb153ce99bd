#!/usr/bin/python3
"""F-trio-01 (SPEC BIND-019, BIND-020, BIND-022): open_tcp_listeners checks no
argument before the resolver and the syscalls.

Port 70000 reaches getaddrinfo as the service "70000", which glibc wraps to
4464: trio listens on a port nobody asked for. A NUL byte cuts the host the
resolver sees ("127.0.0.1\\0.evil.example" binds 127.0.0.1). Backlog -1 goes
to listen(), which Linux takes as its maximum. Port -1 and a 254-byte name
come back as resolver errors. Expected: an argument error (ValueError) naming
the value, before any socket is made. Exits 0 while the weakness shows."""
import socket
import sys

import trio

print("trio", trio.__version__)
long_name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61, "x"])  # 254 bytes
weak = False


async def main():
    global weak
    for label, kw in (("port=70000", dict(port=70000, host="127.0.0.2")),
                      ("port=-1", dict(port=-1, host="127.0.0.1")),
                      ("host with NUL", dict(port=0, host="127.0.0.1\0.evil.example")),
                      ("host of 254 bytes", dict(port=0, host=long_name)),
                      ("backlog=-1", dict(port=0, host="127.0.0.1", backlog=-1))):
        try:
            listeners = await trio.open_tcp_listeners(**kw)
        except ValueError as e:
            print("%s: ValueError: %s" % (label, e))
            continue
        except socket.gaierror:
            print("%s: socket.gaierror (a resolver error)" % label)
            weak = True
            continue
        bound = [l.socket.getsockname()[:2] for l in listeners]
        shown = [(a, p if kw["port"] else "PORT") for a, p in bound]
        print("%s: no error; listening on %s" % (label, shown))
        weak = True
        for l in listeners:
            l.socket.close()


trio.run(main)
print("expected: ValueError naming the value, for each, before any socket")
sys.exit(0 if weak else 1)
