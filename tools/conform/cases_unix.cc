// Conformance cases for bind_unix_socket (rules UNIX-xxx of docs/SPEC.md).
// Every path is under the case's own temp dir, ${TMP}.
#include "catalog.h"

namespace netutil::conform {

void AddUnixCases(std::vector<CaseSource>& out) {
  constexpr const char* kFile = "cases_unix.cc";

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/stream-cloexec-nonblocking",
    "rules": ["UNIX-001"],
    "title": "an AF_UNIX stream socket, close-on-exec and non-blocking from socket() on",
    "steps": [
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock"},
       "expect": {"ok": true, "listeners": [{"family": "unix", "path": "${TMP}/s.sock",
                                             "props": {"type": "stream", "cloexec": true,
                                                       "nonblock": true, "accepting": true}}]},
       "trace": {"log": {"$subseq": ["socket(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0) = *"]},
                 "calls": {"fcntl": 0}}},
      {"connect": {"path": "${TMP}/s.sock", "count": 2}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/reuseaddr-einval-ignored",
    "rules": ["UNIX-002"],
    "title": "SO_REUSEADDR is set to 1; EINVAL from that call is ignored",
    "env": {"faults": [{"call": "setsockopt", "opt": "SO_REUSEADDR", "errno": "EINVAL"}]},
    "steps": [
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock"},
       "expect": {"ok": true},
       "trace": {"log": {"$subseq": ["setsockopt(*, SOL_SOCKET, SO_REUSEADDR, 1) = -1 EINVAL (injected)",
                                     "bind(*"]}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/reuseaddr-other-error-fails",
    "rules": ["UNIX-002", "UNIX-011"],
    "title": "another SO_REUSEADDR error is an os error; the socket is closed and no file made",
    "env": {"faults": [{"call": "setsockopt", "opt": "SO_REUSEADDR", "errno": "ENOBUFS"}]},
    "steps": [
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "ENOBUFS",
                                         "step": {"$contains": "SO_REUSEADDR"}}}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}},
      {"check": "${TMP}/s.sock", "expect": {"exists": false}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/stale-socket-replaced",
    "rules": ["UNIX-003"],
    "title": "a socket file nobody listens on (a crashed server's) is removed and bound again",
    "steps": [
      {"make": {"path": "${TMP}/s.sock", "kind": "stale_socket"}},
      {"check": "${TMP}/s.sock", "expect": {"type": "socket", "connectable": false}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock"},
       "expect": {"ok": true, "listeners": [{"path": "${TMP}/s.sock"}]}},
      {"check": "${TMP}/s.sock", "expect": {"type": "socket", "connectable": true}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/regular-file-untouched",
    "rules": ["UNIX-004"],
    "title": "a regular file at the path is an error naming the path, and the file is kept",
    "steps": [
      {"make": {"path": "${TMP}/data", "kind": "regular", "content": "keep me"}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/data"},
       "expect": {"ok": false, "error": {"$any": [{"message": {"$contains": "${TMP}/data"}},
                                                  {"address": {"$contains": "${TMP}/data"}}]}},
       "trace": {"calls": {"unlink": 0, "bind": 0}}},
      {"check": "${TMP}/data", "expect": {"type": "regular", "content": "keep me"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/directory-untouched",
    "rules": ["UNIX-004"],
    "title": "a directory at the path is an error naming the path, and it is kept",
    "steps": [
      {"make": {"path": "${TMP}/dir", "kind": "dir"}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/dir"},
       "expect": {"ok": false, "error": {"$any": [{"message": {"$contains": "${TMP}/dir"}},
                                                  {"address": {"$contains": "${TMP}/dir"}}]}}},
      {"check": "${TMP}/dir", "expect": {"type": "dir"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/default-mode-0600",
    "rules": ["UNIX-005"],
    "title": "with no mode the socket file is exactly 0600",
    "steps": [
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock"}, "expect": {"ok": true}},
      {"check": "${TMP}/s.sock", "expect": {"type": "socket", "mode": 384}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/requested-mode-exact",
    "rules": ["UNIX-005"],
    "title": "the socket file has exactly the requested mode, wider or narrower than the umask allows",
    "steps": [
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/a.sock", "mode": 432},
       "expect": {"ok": true}},
      {"check": "${TMP}/a.sock", "expect": {"mode": 432}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/b.sock", "mode": 511},
       "expect": {"ok": true}},
      {"check": "${TMP}/b.sock", "expect": {"mode": 511}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/c.sock", "mode": 256},
       "expect": {"ok": true}},
      {"check": "${TMP}/c.sock", "expect": {"mode": 256}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/listens-with-backlog",
    "rules": ["UNIX-006"],
    "title": "the socket listens with the given backlog",
    "steps": [
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock", "backlog": 7},
       "expect": {"ok": true, "listeners": [{"props": {"accepting": true}}]},
       "trace": {"log": {"$subseq": ["listen(*, 7) = 0"]}}},
      {"connect": {"path": "${TMP}/s.sock", "count": 3}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/abstract-name-no-file",
    "rules": ["UNIX-007"],
    "title": "an abstract name (leading NUL) is bound as is: no lstat, unlink or chmod",
    "steps": [
      {"send": {"op": "bind_unix_socket", "path": "\u0000netconform-${RUN}"},
       "expect": {"ok": true, "listeners": [{"family": "unix", "path": "\u0000netconform-${RUN}"}]},
       "trace": {"calls": {"lstat": 0, "stat": 0, "unlink": 0, "chmod": 0, "fchmod": 0, "bind": 1}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/live-listener-kept",
    "rules": ["UNIX-008"],
    "title": "a socket file another process listens on is never removed: EADDRINUSE",
    "steps": [
      {"make": {"path": "${TMP}/s.sock", "kind": "live_socket"}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EADDRINUSE"}},
       "trace": {"calls": {"unlink": 0, "bind": 0}}},
      {"check": "${TMP}/s.sock", "expect": {"type": "socket", "connectable": true}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/live-listener-full-backlog-kept",
    "rules": ["UNIX-008"],
    "title": "a live listener whose backlog is full (the probe gets EAGAIN) is alive too",
    "steps": [
      {"make": {"path": "${TMP}/s.sock", "kind": "live_socket"}},
      // Fill its queue: the last connects find it full.
      {"connect": {"path": "${TMP}/s.sock", "count": 40},
       "expect": {"connected": {"$ge": 1}, "failed": {"EAGAIN": {"$ge": 1}}}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EADDRINUSE"}}},
      {"check": "${TMP}/s.sock", "expect": {"type": "socket"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/symlink-to-socket-untouched",
    "rules": ["UNIX-009"],
    "title": "a symlink at the path (to a stale socket) is neither followed nor removed: ELOOP",
    "steps": [
      {"make": {"path": "${TMP}/target.sock", "kind": "stale_socket"}},
      {"make": {"path": "${TMP}/link.sock", "kind": "symlink", "target": "${TMP}/target.sock"}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/link.sock"},
       "expect": {"ok": false, "error": {"errno": "ELOOP",
                                         "$any": [{"message": {"$contains": "${TMP}/link.sock"}},
                                                  {"address": {"$contains": "${TMP}/link.sock"}}]}},
       "trace": {"calls": {"stat": 0, "unlink": 0, "bind": 0}}},
      {"check": "${TMP}/link.sock", "expect": {"type": "symlink", "target": "${TMP}/target.sock"}},
      {"check": "${TMP}/target.sock", "expect": {"type": "socket"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/dangling-symlink-untouched",
    "rules": ["UNIX-009"],
    "title": "a dangling symlink at the path is an error too, never followed to create its target",
    "steps": [
      {"make": {"path": "${TMP}/link.sock", "kind": "symlink", "target": "${TMP}/elsewhere.sock"}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/link.sock"},
       "expect": {"ok": false, "error": {"errno": "ELOOP"}}},
      {"check": "${TMP}/link.sock", "expect": {"type": "symlink"}},
      {"check": "${TMP}/elsewhere.sock", "expect": {"exists": false}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/created-under-requested-umask",
    "rules": ["UNIX-010"],
    "title": "bind() creates the file under a umask leaving only the requested bits, chmod follows",
    "env": {"needs": ["trace"]},
    "steps": [
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock"},
       "expect": {"ok": true},
       "trace": {"log": {"$subseq": ["umask(0177) = *", "bind(*", "umask(*", "chmod(*, 0600) = 0",
                                     "listen(*"]}}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/t.sock", "mode": 416},
       "expect": {"ok": true},
       "trace": {"log": {"$subseq": ["umask(0137) = *", "bind(*", "umask(*", "chmod(*, 0640) = 0"]}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/failure-after-bind-removes-file",
    "rules": ["UNIX-011"],
    "title": "listen() failing after bind: the socket is closed and the file it made removed",
    "env": {"faults": [{"call": "listen", "errno": "ENOBUFS"}]},
    "steps": [
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "ENOBUFS", "step": "listen"}}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}},
      {"check": "${TMP}/s.sock", "expect": {"exists": false}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/chmod-failure-removes-file",
    "rules": ["UNIX-011"],
    "title": "chmod() failing after bind: the socket is closed and the file removed",
    "env": {"faults": [{"call": "chmod", "errno": "EPERM"}]},
    "steps": [
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EPERM", "step": "chmod"}}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}},
      {"check": "${TMP}/s.sock", "expect": {"exists": false}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/bind-failure-closes-socket",
    "rules": ["UNIX-011"],
    "title": "bind() failing: the socket is closed, nothing is left at the path",
    "env": {"faults": [{"call": "bind", "errno": "EACCES"}]},
    "steps": [
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EACCES", "step": "bind"}}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}},
      {"check": "${TMP}/s.sock", "expect": {"exists": false}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/empty-path-refused",
    "rules": ["UNIX-012"],
    "title": "an empty path is an argument error, before any syscall",
    "steps": [
      {"send": {"op": "bind_unix_socket", "path": ""},
       "expect": {"ok": false, "error": {"kind": "argument"}},
       "trace": {"total": 0}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/nul-in-path-refused",
    "rules": ["UNIX-012"],
    "title": "a path with a NUL byte (not an abstract name) is an argument error",
    "steps": [
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/a\u0000b.sock"},
       "expect": {"ok": false, "error": {"kind": "argument"}},
       "trace": {"total": 0}},
      {"check": "${TMP}/a", "expect": {"exists": false}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/path-too-long-refused",
    "rules": ["UNIX-012"],
    "title": "a path longer than sun_path is an argument error (the kernel would truncate it)",
    "steps": [
      {"send": {"op": "bind_unix_socket",
                "path": "${TMP}/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
       "expect": {"ok": false, "error": {"kind": "argument"}},
       "trace": {"total": 0}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/mode-out-of-range-refused",
    "rules": ["UNIX-013"],
    "title": "a mode outside 0..07777 is an argument error, before any syscall",
    "steps": [
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock", "mode": 4096},
       "expect": {"ok": false, "error": {"kind": "argument"}},
       "trace": {"total": 0}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock", "mode": -1},
       "expect": {"ok": false, "error": {"kind": "argument"}},
       "trace": {"total": 0}},
      {"check": "${TMP}/s.sock", "expect": {"exists": false}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/backlog-negative-refused",
    "rules": ["UNIX-013"],
    "title": "a negative backlog is an argument error, before any syscall",
    "steps": [
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock", "backlog": -1},
       "expect": {"ok": false, "error": {"kind": "argument"}},
       "trace": {"total": 0}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/eintr-retried",
    "rules": ["UNIX-014"],
    "title": "socket, setsockopt, lstat, bind, chmod and listen interrupted by EINTR are retried",
    "env": {"faults": [{"call": "socket", "errno": "EINTR"},
                       {"call": "setsockopt", "errno": "EINTR"},
                       {"call": "lstat", "errno": "EINTR"},
                       {"call": "bind", "errno": "EINTR"},
                       {"call": "chmod", "errno": "EINTR"},
                       {"call": "listen", "errno": "EINTR"}]},
    "steps": [
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock"},
       "expect": {"ok": true},
       "trace": {"calls": {"socket": 2, "setsockopt": 2, "lstat": 2, "bind": 2, "chmod": 2,
                           "listen": 2}}},
      {"check": "${TMP}/s.sock", "expect": {"type": "socket", "mode": 384, "connectable": true}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/stale-probe-eintr-retried",
    "rules": ["UNIX-014", "UNIX-003"],
    "title": "the stale-socket probe and unlink interrupted by EINTR are retried",
    "env": {"faults": [{"call": "connect", "errno": "EINTR"},
                       {"call": "unlink", "errno": "EINTR"}]},
    "steps": [
      {"make": {"path": "${TMP}/s.sock", "kind": "stale_socket"}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock"},
       "expect": {"ok": true},
       "trace": {"calls": {"unlink": 2}}},
      {"check": "${TMP}/s.sock", "expect": {"type": "socket", "connectable": true}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "unix/umask-restored",
    "rules": ["UNIX-015"],
    "title": "the process umask after the call equals the one before, on success and on failure",
    "env": {"faults": [{"call": "bind", "nth": 2, "errno": "EACCES"},
                       {"call": "listen", "nth": 2, "errno": "ENOBUFS"}]},
    "steps": [
      {"send": {"op": "umask"}, "save": {"mask": "/umask"}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/ok.sock"}, "expect": {"ok": true}},
      {"send": {"op": "umask"}, "expect": {"umask": "${mask}"}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/bind-fails.sock"},
       "expect": {"ok": false, "error": {"step": "bind"}}},
      {"send": {"op": "umask"}, "expect": {"umask": "${mask}"}},
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/listen-fails.sock"},
       "expect": {"ok": false, "error": {"step": "listen"}}},
      {"send": {"op": "umask"}, "expect": {"umask": "${mask}"}}
    ]
  })json");
}

}  // namespace netutil::conform
