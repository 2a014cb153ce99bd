#!/usr/bin/python3
"""F-pysocket-10 (SPEC BIND-029, BIND-005): socket.create_server raises a plain OSError
when the lookup of its host fails with EAI_SYSTEM: create_server makes the socket, then
socket.bind resolves the name (socketmodule.c setipaddr), and CPython turns EAI_SYSTEM
into the errno behind it (set_gaierror); create_server re-raises it as a bind error. The
caller cannot tell a failed lookup from a failed socket call.

A real EAI_SYSTEM: with no fd free for it (RLIMIT_NOFILE lowered to one above the lowest
free fd: the socket gets that one, the lookup in bind() none), glibc's name services
cannot open /etc/hosts nor a DNS socket, and getaddrinfo("name.test") returns EAI_SYSTEM
with errno EMFILE (glibc 2.36; once NSS is set up: a lookup before the limit reads
nsswitch.conf). Runs itself in new user, network and mount namespaces (`unshare -rnm`,
util-linux): /etc/hosts ("127.0.0.1 name.test") and /etc/nsswitch.conf ("hosts: files
dns") bind-mounted over. Expected: a resolver error (socket.gaierror) with EAI_SYSTEM
and EMFILE. Exits 0 while the weakness shows."""
import ctypes
import errno
import os
import resource
import socket
import sys
import tempfile

if os.environ.get("FINDING_IN_NS") != "1":
    files = []
    for text in (b"127.0.0.1 name.test\n", b"hosts: files dns\n"):
        fd, path = tempfile.mkstemp()
        os.write(fd, text)
        os.close(fd)
        files.append(path)
    os.environ.update(FINDING_IN_NS="1", FINDING_FILES=":".join(files))
    os.execvp("unshare", ["unshare", "-rnm", "sh", "-c",
                          'mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/nsswitch.conf '
                          '&& shift && exec "$@"', files[0], files[1], sys.executable] + sys.argv)
for path in os.environ["FINDING_FILES"].split(":"):
    os.unlink(path)  # the mounts keep them


class AddrInfo(ctypes.Structure):
    pass


AddrInfo._fields_ = [("ai_flags", ctypes.c_int), ("ai_family", ctypes.c_int),
                     ("ai_socktype", ctypes.c_int), ("ai_protocol", ctypes.c_int),
                     ("ai_addrlen", ctypes.c_uint32), ("ai_addr", ctypes.c_void_p),
                     ("ai_canonname", ctypes.c_char_p), ("ai_next", ctypes.POINTER(AddrInfo))]
libc = ctypes.CDLL(None, use_errno=True)


def c_getaddrinfo(host):
    """The C library's own answer, as CPython gets it: (EAI name, errno name)."""
    hints = AddrInfo(ai_flags=socket.AI_PASSIVE, ai_socktype=socket.SOCK_STREAM)
    res = ctypes.POINTER(AddrInfo)()
    ctypes.set_errno(0)
    rc = libc.getaddrinfo(host.encode(), b"0", ctypes.byref(hints), ctypes.byref(res))
    err = ctypes.get_errno()
    if rc == 0:
        libc.freeaddrinfo(res)
        return "0", "-"
    names = {getattr(socket, n): n for n in dir(socket) if n.startswith("EAI_")}
    return names.get(rc, str(rc)), errno.errorcode.get(err, str(err))


def limit_fds(spare):
    """RLIMIT_NOFILE at the number below which exactly `spare` fds are free."""
    taken = [os.open(os.devnull, os.O_RDONLY) for _ in range(spare + 1)]
    for fd in taken:
        os.close(fd)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (taken[-1], hard))
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def gai_when_socket_made():
    """getaddrinfo once a socket took the spare fd, as in the library's call."""
    with socket.socket():
        return c_getaddrinfo("name.test")


def report(call, error, gai):
    if error is None:
        print("%s: listened" % call)
        sys.exit(1)
    print("%s: %s (errno %s: %s)" % (call, type(error).__name__,
                                     errno.errorcode.get(error.errno, error.errno), error.strerror))
    print("  the C library's getaddrinfo('name.test') there: %s, errno %s" % gai)
    print("expected: socket.gaierror with EAI_SYSTEM and EMFILE (a resolve error)")
    sys.exit(0 if gai[0] == "EAI_SYSTEM" and not isinstance(error, socket.gaierror) else 1)


import platform  # noqa: E402

print("socket.create_server (CPython %s)" % platform.python_version())
socket.create_server(("name.test", 0)).close()  # fds free: it listens
restore = limit_fds(1)  # the socket comes first and takes the one spare fd
gai = gai_when_socket_made()
try:
    socket.create_server(("name.test", 0))
    error = None
except OSError as e:
    error = e
finally:
    restore()
report("create_server(('name.test', 0)) with one fd free", error, gai)
