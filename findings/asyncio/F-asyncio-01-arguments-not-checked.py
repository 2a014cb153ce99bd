#!/usr/bin/python3
"""F-asyncio-01 (SPEC BIND-019, BIND-020, BIND-021, BIND-022, UNIX-012, UNIX-013):
create_server / create_unix_server check no argument before the syscalls.

Each bad value below is either accepted (a NUL cuts the host, backlog -1 is
taken by listen() as the system maximum) or refused only after a socket was
made (port 70000, a NUL or an over-long unix path) or by the resolver
(family AF_UNIX, a 254-byte name). Expected: an argument error (ValueError)
naming the value, before any socket is made. Exits 0 while the weakness shows."""
import asyncio
import platform
import socket
import sys
import tempfile

print("asyncio (CPython %s)" % platform.python_version())
made = []
real_socket = socket.socket


class Counted(real_socket):  # counts the sockets asyncio makes
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        made.append(1)


socket.socket = Counted
loop = asyncio.new_event_loop()
long_name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61, "x"])  # 254 bytes
d = tempfile.mkdtemp()
calls = [
    ("create_server(port=70000)", dict(host="127.0.0.1", port=70000)),
    ("create_server(port=-1)", dict(host="127.0.0.1", port=-1)),
    ("create_server(host with NUL)", dict(host="127.0.0.1\0.evil.example", port=0)),
    ("create_server(host of 254 bytes)", dict(host=long_name, port=0)),
    ("create_server(family=AF_UNIX)", dict(host="127.0.0.1", port=0, family=socket.AF_UNIX)),
    ("create_server(backlog=-1)", dict(host="127.0.0.1", port=0, backlog=-1)),
    ("create_unix_server(path='')", dict(path="")),
    ("create_unix_server(path with NUL)", dict(path=d + "/a\0b.sock")),
    ("create_unix_server(path of 130 bytes)", dict(path=d + "/" + "x" * (130 - len(d) - 1))),
    ("create_unix_server(backlog=-1)", dict(path=d + "/b.sock", backlog=-1)),
]
weak = 0
for label, kw in calls:
    del made[:]
    make = loop.create_unix_server if "path" in kw else loop.create_server
    try:
        server = loop.run_until_complete(make(asyncio.Protocol, **kw))
        outcome = "no error (%d listener(s))" % len(server.sockets)
        server.close()
    except ValueError as e:
        outcome = "ValueError: %s" % e
    except socket.gaierror:
        outcome = "socket.gaierror (the resolver's error)"
    except Exception as e:  # noqa: BLE001
        outcome = "%s: %s" % (type(e).__name__, e)
    ok = outcome.startswith("ValueError") and not made
    weak += not ok
    print("%s: %s; sockets made: %d" % (label, outcome, len(made)))
print("expected: ValueError before any socket, for each")
sys.exit(0 if weak else 1)
