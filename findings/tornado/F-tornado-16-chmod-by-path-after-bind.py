#!/usr/bin/python3
"""F-tornado-16 (SPEC UNIX-010, UNIX-018, UNIX-017): bind_unix_socket creates the
socket file under the process umask and narrows its mode afterwards with
chmod(path): between bind() and chmod() the socket is open to others (0755
under umask 022, 0777 under 000), and chmod follows whatever the path names
by then.

Threat: another user who can write in the socket's directory (a shared run
directory, sticky /tmp) swaps the new socket's name for a symlink to a file of
the caller's. The race window is made deterministic by doing the other user's
rename inside os.chmod, just before the real call: exactly what a process
racing between the two syscalls can do. Expected: the socket never wider than
the requested 0600, and the mode applied to the socket only: the caller's
file keeps 0644. Exits 0 while the weakness shows."""
import os
import stat
import sys
import tempfile

import tornado
import tornado.netutil

print("tornado", tornado.version)
real_chmod = os.chmod
seen = {}


def racing_chmod(path, mode, *a, **kw):
    # The moment between bind() and chmod(): what the socket looks like, then
    # the other user's swap of the name for a symlink.
    seen["mode_before_chmod"] = stat.S_IMODE(os.lstat(path).st_mode)
    os.rename(path, path + ".moved")
    os.symlink(victim, path)
    return real_chmod(path, mode, *a, **kw)


with tempfile.TemporaryDirectory() as d:
    victim = os.path.join(d, "caller-data.txt")
    with open(victim, "w") as f:
        f.write("the caller's file\n")
    real_chmod(victim, 0o644)
    old_umask = os.umask(0o022)
    os.chmod = racing_chmod
    try:
        sock = tornado.netutil.bind_unix_socket(os.path.join(d, "s.sock"), mode=0o600)
        sock.close()
    finally:
        os.chmod = real_chmod
        os.umask(old_umask)
    victim_mode = stat.S_IMODE(os.stat(victim).st_mode)
print("umask 022: the socket's mode between bind() and chmod(): %04o" % seen["mode_before_chmod"])
print("a symlink swapped in before chmod: the caller's file is now %04o (was 0644)" % victim_mode)
print("expected: the socket never wider than 0600; the caller's file keeps 0644")
sys.exit(0 if seen["mode_before_chmod"] != 0o600 or victim_mode != 0o644 else 1)
