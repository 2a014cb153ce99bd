"""The Python peers of netutil-bench-server: Tornado's netutil and asyncio.

    python3 py_server.py --impl tornado|asyncio [--mode accept|emfile]
                         [--backlog N] [--max-seconds S]

--impl tornado: tornado.netutil.bind_sockets + add_accept_handler whose
  callback closes each connection (Tornado 6.2, as Debian packages it).
--impl asyncio: loop.create_server with a protocol that closes each connection
  in connection_made: asyncio's own accept path (batching, transports).

It speaks the control protocol of tools/bench/bench_server.cc on stdin/stdout
(READY <port>; GO / STORM / END / REPORT / DONE in emfile mode), so the driver
measures every server the same way: its process CPU clock around the load.

Errors that reach the event loop (Tornado's accept handler raising EMFILE,
asyncio's "out of system resource") are counted by an exception handler that
then calls the default one, so the logging each does by default is still paid
(stderr is /dev/null under the driver).
"""

import argparse
import asyncio
import os
import resource
import sys


def say(line):
    # os.write: no buffering, and no new fd, which matters while out of fds.
    os.write(1, (line + "\n").encode())


class Control:
    """stdin lines from the driver, read without a new fd or a buffer."""

    def __init__(self):
        self.buf = b""
        self.original_limit = None

    def read_line_blocking(self):
        while b"\n" not in self.buf:
            chunk = os.read(0, 256)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def starve(self):
        # RLIMIT_NOFILE down to the lowest free fd: every new fd is EMFILE.
        self.original_limit = resource.getrlimit(resource.RLIMIT_NOFILE)
        lowest = os.dup(0)
        os.close(lowest)
        resource.setrlimit(resource.RLIMIT_NOFILE, (lowest, self.original_limit[1]))

    def restore(self):
        if self.original_limit is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, self.original_limit)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--impl", choices=["tornado", "asyncio"], required=True)
    p.add_argument("--mode", choices=["accept", "emfile"], default="accept")
    p.add_argument("--backlog", type=int, default=1024)
    p.add_argument("--max-seconds", type=float, default=900)
    args = p.parse_args()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    counts = {"accepted": 0, "errors": 0}

    def on_exception(lp, context):
        counts["errors"] += 1
        lp.default_exception_handler(context)

    loop.set_exception_handler(on_exception)

    if args.impl == "tornado":
        from tornado import netutil

        sock = netutil.bind_sockets(0, "127.0.0.1", backlog=args.backlog)[0]
        port = sock.getsockname()[1]
        if args.mode == "accept":
            # What a Tornado user writes to close each connection.
            netutil.add_accept_handler(sock, lambda conn, addr: conn.close())
        else:

            def on_conn(conn, addr):
                counts["accepted"] += 1
                conn.close()

            netutil.add_accept_handler(sock, on_conn)
    else:
        count = args.mode == "emfile"

        class Close(asyncio.Protocol):
            def connection_made(self, transport):
                if count:
                    counts["accepted"] += 1
                transport.close()

        server = loop.run_until_complete(
            loop.create_server(Close, "127.0.0.1", 0, backlog=args.backlog)
        )
        port = server.sockets[0].getsockname()[1]

    control = Control()
    say("READY %d" % port)
    if args.mode == "emfile":
        if control.read_line_blocking() != "GO":
            return 0
        control.starve()
        say("STORM")

    def on_stdin():
        try:
            chunk = os.read(0, 256)
        except BlockingIOError:
            return
        if not chunk:
            loop.stop()
            return
        control.buf += chunk
        while b"\n" in control.buf:
            line, control.buf = control.buf.split(b"\n", 1)
            line = line.decode()
            if line == "END":
                control.restore()
            elif line == "REPORT":
                say("DONE accepted=%d errors=%d" % (counts["accepted"], counts["errors"]))
            elif line == "QUIT":
                loop.stop()

    loop.add_reader(0, on_stdin)
    loop.call_later(args.max_seconds, loop.stop)
    loop.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
