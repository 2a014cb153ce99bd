#!/usr/bin/python3
"""F-twisted-18 (SPEC LOOP-003): an epoll_wait() error other than EINTR is never
reported to the program: the epoll reactor's mainLoop logs "Unexpected error in
main loop." and runs the next iteration. When the error lasts (the reactor's
epoll fd closed by a stray close(), as a double close elsewhere in the process
does) the reactor spins: one logged EBADF per iteration, at full CPU, while
reactor.run() never returns and no callback hears of it.

Expected: the error ends the loop (reactor.run raises or returns with it), as a
loop that can no longer wait for anything must. Exits 0 while the weakness
shows."""
import os
import sys

import twisted
from twisted.internet import epollreactor

epollreactor.install()
from twisted.internet import reactor  # noqa: E402
from twisted.logger import globalLogBeginner  # noqa: E402

print("Twisted", twisted.__version__)
errors = []
# Only this observer: the errors are counted, not printed (thousands of tracebacks).
globalLogBeginner.beginLoggingTo([errors.append], redirectStandardIO=False)


def close_the_epoll_fd():
    os.close(reactor._poller.fileno())  # what a stray close() of that number does
    reactor.callLater(0.5, reactor.stop)  # timers still run: the loop goes on


reactor.callWhenRunning(close_the_epoll_fd)
reactor.run(installSignalHandlers=False)
def is_ebadf(ev):
    failure = ev.get("log_failure") or ev.get("failure")
    return failure is not None and "Bad file descriptor" in str(failure.value)


logged = sum(1 for ev in errors if ev.get("log_text") == "Unexpected error in main loop.")
ebadf = sum(1 for ev in errors if is_ebadf(ev))
print("epoll fd closed under the reactor; reactor.run() went on until stopped 0.5 s later")
def times(n):
    return "over 100 times (one per iteration: spinning)" if n > 100 else "%d times" % n


print("  'Unexpected error in main loop.' logged %s" % times(logged))
print("  the OSError EBADF of epoll.poll() logged %s" % times(ebadf))
print("expected: the loop ends with the error, reported to the program")
sys.exit(0 if logged > 0 else 1)
