#!/usr/bin/python3
"""F-twisted-01 (SPEC BIND-019, BIND-020, BIND-022, UNIX-012, UNIX-013):
listenTCP / listenUNIX check no argument before making the socket.

Port 70000, a host with a NUL or of 254 bytes, and a unix path longer than
sun_path are refused only by CPython's bind(), after socket(), and the socket
stays open while the error is handled (port 70000 even escapes as a bare
OverflowError, not CannotListenError). Backlog -1 is taken by listen() as the
system maximum. An empty unix path binds an autobind abstract name, then
os.chmod("") raises FileNotFoundError. mode=0o10000 gives the file mode 0000.
Expected: an argument error before any socket, for each.
Exits 0 while the weakness shows."""
import os
import stat
import sys
import tempfile

import twisted
from twisted.internet import protocol, reactor

print("Twisted", twisted.__version__)
factory = protocol.Factory.forProtocol(protocol.Protocol)
long_name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61, "x"])  # 254 bytes
d = tempfile.mkdtemp()
calls = [
    ("listenTCP(70000)", lambda: reactor.listenTCP(70000, factory, interface="127.0.0.1")),
    ("listenTCP(interface with NUL)", lambda: reactor.listenTCP(0, factory, interface="127.0.0.1\0x")),
    ("listenTCP(interface of 254 bytes)", lambda: reactor.listenTCP(0, factory, interface=long_name)),
    ("listenTCP(backlog=-1)", lambda: reactor.listenTCP(0, factory, interface="127.0.0.1", backlog=-1)),
    ("listenUNIX('')", lambda: reactor.listenUNIX("", factory)),
    ("listenUNIX(path of 130 bytes)", lambda: reactor.listenUNIX(d + "/" + "x" * (130 - len(d) - 1), factory)),
    ("listenUNIX(backlog=-1)", lambda: reactor.listenUNIX(d + "/b.sock", factory, backlog=-1)),
    ("listenUNIX(mode=0o10000)", lambda: reactor.listenUNIX(d + "/m.sock", factory, mode=0o10000)),
]
# The first listen opens Twisted's reserved EMFILE-recovery fd: done here, so it is not counted below.
reactor.listenTCP(0, factory, interface="127.0.0.1").stopListening()
weak = False
for label, call in calls:
    before = len(os.listdir("/proc/self/fd"))
    try:
        port = call()
        extra = ""
        if os.path.exists(d + "/m.sock") and "mode" in label:
            extra = ", the file's mode is %04o" % stat.S_IMODE(os.stat(d + "/m.sock").st_mode)
        print("%s: no error%s" % (label, extra))
        port.stopListening()
        weak = True
    except Exception as e:  # noqa: BLE001 - what it raises is the finding
        left = len(os.listdir("/proc/self/fd")) - before
        kind = type(e).__name__
        print("%s: %s; sockets open while it is handled: %d" % (label, kind, left))
        weak = weak or left > 0 or kind not in ("ValueError",)
print("expected: ValueError before any socket, for each")
sys.exit(0 if weak else 1)
