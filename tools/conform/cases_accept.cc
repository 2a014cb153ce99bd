// Conformance cases for add_accept_handler and the loop it runs on (rules
// ACCEPT-xxx and LOOP-xxx of docs/SPEC.md). Each case binds a loopback
// listener, connects a bounded number of clients from netconform, then asks
// the implementation to serve a number of readiness events.
#include "catalog.h"

namespace netutil::conform {

void AddAcceptCases(std::vector<CaseSource>& out) {
  constexpr const char* kFile = "cases_accept.cc";

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/handler-registered-and-removed",
    "rules": ["ACCEPT-001"],
    "title": "a read handler is registered for the listener, and removing the handle unregisters it",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 2}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1},
       "expect": {"ok": true, "events": 1, "accepted": 2, "loop": {"handlers": 0}},
       "trace": {"log": {"$subseq": ["epoll_ctl(*, EPOLL_CTL_ADD, *, 0x1) = 0", "accept4(*",
                                     "epoll_ctl(*, EPOLL_CTL_DEL, *"]}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/unix-listener-served",
    "rules": ["ACCEPT-001", "ACCEPT-006"],
    "title": "a unix listener is served like a TCP one",
    "steps": [
      {"send": {"op": "bind_unix_socket", "path": "${TMP}/s.sock"},
       "save": {"lid": "/listeners/0/id"}, "expect": {"ok": true}},
      {"connect": {"path": "${TMP}/s.sock", "count": 3}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1},
       "expect": {"ok": true, "batches": [3], "accepted": 3, "errors": []}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/batch-limit-128",
    "rules": ["ACCEPT-002"],
    "title": "300 pending connections are accepted as batches of 128, 128, 44",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1", "backlog": 1024},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 300}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 3, "batch": 128},
       "expect": {"ok": true, "batches": [128, 128, 44], "accepted": 300, "errors": []}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/batch-default-128",
    "rules": ["ACCEPT-002"],
    "title": "with no batch given, an event accepts at most 128 connections",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1", "backlog": 1024},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 130}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 2},
       "expect": {"ok": true, "batches": [128, 2]}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/batch-configurable",
    "rules": ["ACCEPT-015", "ACCEPT-002"],
    "title": "the batch limit is configurable: 10 pending with batch 4 are accepted as 4, 4, 2",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 10}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 3, "batch": 4},
       "expect": {"ok": true, "batches": [4, 4, 2], "accepted": 10}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/bad-options-refused",
    "rules": ["ACCEPT-015"],
    "title": "a batch below 1 or a negative back-off is an argument error and nothing is registered",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"send": {"op": "serve", "listener": "${lid}", "batch": 0},
       "expect": {"ok": false, "error": {"kind": "argument"}},
       "trace": {"calls": {"epoll_ctl": 0, "accept4": 0}}},
      {"send": {"op": "serve", "listener": "${lid}", "batch": -5},
       "expect": {"ok": false, "error": {"kind": "argument"}}},
      {"send": {"op": "serve", "listener": "${lid}", "backoff_ms": -1},
       "expect": {"ok": false, "error": {"kind": "argument"}},
       "trace": {"calls": {"epoll_ctl": 0, "accept4": 0}}},
      // Nothing was left registered: a good serve still works.
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 1}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1},
       "expect": {"ok": true, "accepted": 1}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/remove-in-callback-ends-batch",
    "rules": ["ACCEPT-003", "LOOP-004"],
    "title": "a callback that removes the handle ends the batch, from inside the loop's call; the rest stay queued",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 5}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 5, "remove_at": 2},
       "expect": {"ok": true, "batches": [2], "accepted": 2, "active": false,
                  "loop": {"handlers": 0}},
       "trace": {"calls": {"accept4": 2}}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1},
       "expect": {"ok": true, "batches": [3], "accepted": 3}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/eagain-ends-batch",
    "rules": ["ACCEPT-004"],
    "title": "EAGAIN ends the batch without error once the queue is empty",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 3}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1},
       "expect": {"ok": true, "batches": [3], "errors": [], "active": true,
                  "stats": {"accept_calls": 4}},
       "trace": {"log": {"$subseq": ["accept4(*) = -1 EAGAIN"]}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/injected-eagain-ends-batch",
    "rules": ["ACCEPT-004"],
    "title": "EAGAIN ends the batch even with connections queued; the next event takes them",
    "env": {"faults": [{"call": "accept4", "errno": "EAGAIN"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 2}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 2},
       "expect": {"ok": true, "batches": [0, 2], "errors": []}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/econnaborted-skipped",
    "rules": ["ACCEPT-005"],
    "title": "ECONNABORTED is skipped and the batch goes on; the attempt counts toward the batch",
    "env": {"faults": [{"call": "accept4", "errno": "ECONNABORTED"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 3}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1, "batch": 3},
       "expect": {"ok": true, "batches": [2], "errors": [], "stats": {"skipped": 1}}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1, "batch": 3},
       "expect": {"ok": true, "batches": [1]}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/eproto-skipped",
    "rules": ["ACCEPT-010"],
    "title": "EPROTO is skipped like ECONNABORTED (Tornado raises and loses the batch)",
    "env": {"faults": [{"call": "accept4", "errno": "EPROTO"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 2}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1},
       "expect": {"ok": true, "batches": [2], "errors": [], "active": true}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/network-errors-skipped",
    "rules": ["ACCEPT-010"],
    "title": "EPERM, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH are skipped",
    "env": {"faults": [{"call": "accept4", "nth": 1, "errno": "EPERM"},
                       {"call": "accept4", "nth": 2, "errno": "ENETDOWN"},
                       {"call": "accept4", "nth": 3, "errno": "ENOPROTOOPT"},
                       {"call": "accept4", "nth": 4, "errno": "EHOSTDOWN"},
                       {"call": "accept4", "nth": 5, "errno": "ENONET"},
                       {"call": "accept4", "nth": 6, "errno": "EHOSTUNREACH"},
                       {"call": "accept4", "nth": 7, "errno": "EOPNOTSUPP"},
                       {"call": "accept4", "nth": 8, "errno": "ENETUNREACH"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 2}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1, "batch": 20},
       "expect": {"ok": true, "batches": [2], "errors": [], "active": true,
                  "stats": {"skipped": 8}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/peer-address-given",
    "rules": ["ACCEPT-006"],
    "title": "each connection reaches the callback with the peer's address",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 3}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1},
       "expect": {"ok": true, "accepted": 3,
                  "peers": {"$len": 3, "$each": {"$glob": "127.0.0.1:[1-9]*"}}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/callback-throw-abandons-batch",
    "rules": ["ACCEPT-007"],
    "title": "a callback that throws ends the batch, the loop sees the exception, its connection is closed",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 5}},
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1, "throw_at": 2},
       "expect": {"ok": true, "batches": [2], "accepted": 2, "exceptions": 1}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1},
       "expect": {"ok": true, "batches": [3]}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/accept4-nonblocking-cloexec",
    "rules": ["ACCEPT-008"],
    "title": "connections are accepted non-blocking and close-on-exec, atomically with accept4 flags",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 2}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1},
       "expect": {"ok": true, "accepted": 2, "conn": {"nonblock": true, "cloexec": true}},
       "trace": {"log": {"$subseq": ["accept4(*, SOCK_NONBLOCK|SOCK_CLOEXEC) = *"]},
                 "calls": {"fcntl": 0}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/eintr-retried-not-counted",
    "rules": ["ACCEPT-009"],
    "title": "EINTR from accept4 is retried and does not count toward the batch",
    "env": {"faults": [{"call": "accept4", "errno": "EINTR"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 3}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1, "batch": 3},
       "expect": {"ok": true, "batches": [3], "errors": [], "stats": {"accept_calls": 4}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/emfile-pauses-no-busy-loop",
    "rules": ["ACCEPT-011", "ACCEPT-012"],
    "title": "EMFILE pauses accepting for the back-off: one event and one report in 500 ms, no spinning",
    "env": {"faults": [{"call": "accept4", "times": 0, "errno": "EMFILE"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 2}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1000, "timeout_ms": 500,
                "backoff_ms": 1000},
       "expect": {"ok": true, "events": 1, "accepted": 0, "timed_out": true, "paused": true,
                  "errors": [{"errno": "EMFILE", "count": 1}], "cpu_ms": {"$le": 250}},
       "trace": {"calls": {"accept4": 1},
                 "log": {"$subseq": ["accept4(*) = -1 EMFILE (injected)",
                                     "epoll_ctl(*, EPOLL_CTL_MOD, *, 0x0) = 0"]}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/enfile-pauses",
    "rules": ["ACCEPT-011"],
    "title": "ENFILE pauses accepting for the back-off",
    "env": {"faults": [{"call": "accept4", "times": 0, "errno": "ENFILE"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 1}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1000, "timeout_ms": 300,
                "backoff_ms": 1000},
       "expect": {"ok": true, "events": 1, "paused": true,
                  "errors": [{"errno": "ENFILE", "count": 1}]}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/enobufs-enomem-pause",
    "rules": ["ACCEPT-011"],
    "title": "ENOBUFS and ENOMEM pause accepting for the back-off",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 1}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1000, "timeout_ms": 300,
                "backoff_ms": 1000},
       "inject": [{"call": "accept4", "times": 0, "errno": "ENOBUFS"}],
       "expect": {"ok": true, "events": 1, "paused": true,
                  "errors": [{"errno": "ENOBUFS", "count": 1}]}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1000, "timeout_ms": 300,
                "backoff_ms": 1000},
       "inject": [{"call": "accept4", "times": 0, "errno": "ENOMEM"}],
       "expect": {"ok": true, "events": 1, "paused": true,
                  "errors": [{"errno": "ENOMEM", "count": 1}]}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/resource-error-once-per-backoff",
    "rules": ["ACCEPT-012", "ACCEPT-011"],
    "title": "a lasting EMFILE is reported once per back-off period (100 ms over 550 ms)",
    "env": {"faults": [{"call": "accept4", "times": 0, "errno": "EMFILE"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 2}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1000, "timeout_ms": 550,
                "backoff_ms": 100},
       "save": {"events": "/events"},
       "expect": {"ok": true, "events": {"$ge": 3, "$le": 7}, "accepted": 0,
                  "errors": [{"errno": "EMFILE", "count": "${events}"}]}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/no-connection-lost-to-backoff",
    "rules": ["ACCEPT-013", "LOOP-002"],
    "title": "after a back-off every connection still queued is accepted, no sooner than the delay",
    "env": {"faults": [{"call": "accept4", "errno": "EMFILE"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 5}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 2, "timeout_ms": 3000,
                "backoff_ms": 200},
       "expect": {"ok": true, "batches": [0, 5], "accepted": 5, "timed_out": false,
                  "errors": [{"errno": "EMFILE", "count": 1}], "elapsed_ms": {"$ge": 200}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/fatal-error-removes-handler",
    "rules": ["ACCEPT-014"],
    "title": "EINVAL or EBADF from accept4 is reported once and the handler is removed",
    "env": {"faults": [{"call": "accept4", "times": 0, "errno": "EINVAL"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 1}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 5, "timeout_ms": 500},
       "expect": {"ok": true, "events": 1, "active": false, "timed_out": false,
                  "errors": [{"errno": "EINVAL", "count": 1}], "loop": {"handlers": 0}}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 5, "timeout_ms": 500},
       "inject": [{"call": "accept4", "times": 0, "errno": "EBADF"}],
       "expect": {"ok": true, "events": 1, "active": false,
                  "errors": [{"errno": "EBADF", "count": 1}]}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/remove-cancels-backoff-timer",
    "rules": ["ACCEPT-016"],
    "title": "removing a paused handler cancels its back-off timer: nothing is left on the loop",
    "env": {"faults": [{"call": "accept4", "errno": "EMFILE"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 2}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1, "backoff_ms": 60000},
       "expect": {"ok": true, "events": 1, "paused": true, "loop": {"handlers": 0, "timers": 0}}},
      // A new handler on the same listener starts unpaused and takes both clients.
      {"send": {"op": "serve", "listener": "${lid}", "events": 1},
       "expect": {"ok": true, "batches": [2]}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "accept/connections-closed-after-callback",
    "rules": ["ACCEPT-017"],
    "title": "a connection the callback does not keep is closed when it returns: no fd is left",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 20}},
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1},
       "expect": {"ok": true, "accepted": 20}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "loop/level-triggered",
    "rules": ["LOOP-001"],
    "title": "a listener still readable after its batch is reported again on the next iteration",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 3}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 3, "batch": 1},
       "expect": {"ok": true, "batches": [1, 1, 1], "accepted": 3}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "loop/epoll-wait-eintr-not-error",
    "rules": ["LOOP-003"],
    "title": "EINTR from epoll_wait is not an error: the loop goes on",
    "env": {"faults": [{"call": "epoll_wait", "errno": "EINTR"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id", "port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 2}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1},
       "expect": {"ok": true, "batches": [2]},
       "trace": {"calls": {"epoll_wait": {"$ge": 2}}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "loop/epoll-wait-error-reported",
    "rules": ["LOOP-003"],
    "title": "another epoll_wait error is an os error (only EINTR is not)",
    "env": {"faults": [{"call": "epoll_wait", "errno": "EBADF"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"lid": "/listeners/0/id"}, "expect": {"ok": true}},
      {"send": {"op": "serve", "listener": "${lid}", "events": 1, "timeout_ms": 200},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EBADF", "step": "epoll_wait"}}}
    ]
  })json");
}

}  // namespace netutil::conform
