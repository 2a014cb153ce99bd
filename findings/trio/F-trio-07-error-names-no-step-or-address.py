#!/usr/bin/python3
"""F-trio-07 (SPEC BIND-025, BIND-026): a failing open_tcp_listeners raises the
bare OSError of the syscall: neither the step (bind, listen,
setsockopt(IPV6_V6ONLY), ...) nor the address is named, so with several
addresses the caller cannot tell which one failed. Here 127.0.0.1:port is
taken for real. Expected: the error names the step and the address.
Exits 0 while the weakness shows."""
import socket
import sys

import trio

print("trio", trio.__version__)
holder = socket.socket()
holder.bind(("127.0.0.1", 0))
holder.listen()
port = holder.getsockname()[1]


async def main():
    try:
        await trio.open_tcp_listeners(port, host="127.0.0.1")
    except OSError as e:
        return "%s: %s" % (type(e).__name__, str(e).replace(str(port), "PORT"))
    return None


text = trio.run(main)
if text is None:
    print("no error (the conflict did not happen)")
    sys.exit(1)
print("raised:", text)
print("names the address: %s; names the step: %s" % ("127.0.0.1" in text, "bind" in text))
print("expected: the error names the step (bind) and the address (127.0.0.1:PORT)")
sys.exit(0 if not ("127.0.0.1" in text and "bind" in text) else 1)
