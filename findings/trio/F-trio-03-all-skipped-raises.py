#!/usr/bin/python3
"""F-trio-03 (SPEC BIND-017): when every address is skipped because socket()
fails with EAFNOSUPPORT, open_tcp_listeners raises OSError(EAFNOSUPPORT)
instead of returning an empty list (the caller decides whether zero listeners
is fatal; Tornado issue #1443).

A kernel without the family (ipv6.disable=1, or a seccomp filter) cannot be made
without root, so this uses strace's fault injection, the last resort: every
socket() of the process fails with EAFNOSUPPORT. Expected: [] (no listener,
no error). Exits 0 while the weakness shows."""
import os
import sys

if os.environ.get("FINDING_UNDER_STRACE") != "1":
    os.environ["FINDING_UNDER_STRACE"] = "1"
    os.execvp("strace", ["strace", "-f", "-qq", "-o", os.devnull, "-e", "trace=socket",
                         "-e", "inject=socket:error=EAFNOSUPPORT", sys.executable] + sys.argv)

import errno  # noqa: E402

import trio  # noqa: E402

print("trio", trio.__version__)


async def main():
    try:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    except OSError as e:
        print("every socket() fails EAFNOSUPPORT: OSError %s: %s"
              % (errno.errorcode.get(e.errno), e.strerror))
        return True
    print("every socket() fails EAFNOSUPPORT: %d listeners, no error" % len(listeners))
    return False


weak = trio.run(main)
print("expected: an empty list, no error")
sys.exit(0 if weak else 1)
