// Conformance cases for bind_sockets (rules BIND-xxx of docs/SPEC.md).
//
// Each case is one JSON document (see catalog.h and runner.h for the format).
// Addresses used: loopback only. "conform.test" is a name only the injected
// resolver knows; cases that need it are in-process only.
#include "catalog.h"

namespace netutil::conform {

void AddBindCases(std::vector<CaseSource>& out) {
  constexpr const char* kFile = "cases_bind.cc";

  // --- Arguments: refused before any syscall ---

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/port-above-range-refused",
    "rules": ["BIND-019"],
    "title": "port 70000 is an argument error naming the port, before any syscall (Tornado listens on 4464)",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 70000, "address": "127.0.0.1"},
       "expect": {"ok": false, "error": {"kind": "argument", "message": {"$contains": "70000"}}},
       "trace": {"total": 0}},
      {"send": {"op": "bind_sockets", "port": 65536, "address": "127.0.0.1"},
       "expect": {"ok": false, "error": {"kind": "argument", "message": {"$contains": "65536"}}},
       "trace": {"total": 0}},
      // The edge: 65535 is a port. It may be busy, but it is never an argument error.
      {"send": {"op": "bind_sockets", "port": 65535, "address": "127.0.0.1"},
       "expect": {"$any": [{"ok": true}, {"ok": false, "error": {"kind": "os"}}]}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/port-negative-refused",
    "rules": ["BIND-019"],
    "title": "a negative port is an argument error naming the port, before any syscall",
    "steps": [
      {"send": {"op": "bind_sockets", "port": -1, "address": "127.0.0.1"},
       "expect": {"ok": false, "error": {"kind": "argument", "message": {"$contains": "-1"}}},
       "trace": {"total": 0}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/address-with-nul-refused",
    "rules": ["BIND-020"],
    "title": "an address with a NUL byte is an argument error (the resolver would see a shorter name)",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1\u0000.evil.example"},
       "expect": {"ok": false, "error": {"kind": "argument"}},
       "trace": {"total": 0}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/address-254-bytes-refused",
    "rules": ["BIND-020"],
    "title": "an address of 254 bytes (one more than the longest DNS name) is an argument error",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0,
                "address": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
       "expect": {"ok": false, "error": {"kind": "argument"}},
       "trace": {"total": 0}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/address-253-bytes-resolved",
    "rules": ["BIND-020"],
    "title": "an address of exactly 253 bytes is not an argument error: it goes to the resolver",
    "env": {"resolver": [{"host": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                          "addrs": ["127.0.0.1"]}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0,
                "address": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
       "expect": {"ok": true, "listeners": [{"family": "inet", "address": "127.0.0.1"}]}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/family-unix-refused",
    "rules": ["BIND-021"],
    "title": "AF_UNIX is an argument error for bind_sockets, before any syscall",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1", "family": "unix"},
       "expect": {"ok": false, "error": {"kind": "argument"}},
       "trace": {"total": 0}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1", "family": 12345},
       "expect": {"ok": false, "error": {"kind": "argument"}},
       "trace": {"total": 0}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/backlog-negative-refused",
    "rules": ["BIND-022"],
    "title": "a negative backlog is an argument error (Linux would take the system maximum)",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1", "backlog": -1},
       "expect": {"ok": false, "error": {"kind": "argument"}},
       "trace": {"total": 0}},
      // 0 is a backlog, not an error.
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1", "backlog": 0},
       "expect": {"ok": true, "listeners": {"$len": 1}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/reuse-port-without-platform-support",
    "rules": ["BIND-001"],
    "title": "reuse_port on a platform without SO_REUSEPORT is an argument error, before any syscall",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1", "reuse_port": true,
                "platform": {"has_reuseport": false}},
       "expect": {"ok": false, "error": {"kind": "argument"}},
       "trace": {"total": 0}}
    ]
  })json");

  // --- Resolution and order ---

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/empty-address-is-wildcard",
    "rules": ["BIND-002"],
    "title": "address \"\" binds the wildcard, like no address: getaddrinfo gets a NULL node",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": ""},
       "expect": {"ok": true, "listeners": {"$len": {"$ge": 1},
                                            "$each": {"address": {"$any": ["0.0.0.0", "::"]}}}},
       "trace": {"log": {"$subseq": ["getaddrinfo(NULL, *"]}, "calls": {"getaddrinfo": 1}}},
      {"send": {"op": "close_all"}},
      {"send": {"op": "bind_sockets", "port": 0, "address": null},
       "expect": {"ok": true, "listeners": {"$len": {"$ge": 1},
                                            "$each": {"address": {"$any": ["0.0.0.0", "::"]}}}},
       "trace": {"log": {"$subseq": ["getaddrinfo(NULL, *"]}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/no-ipv6-runtime-resolves-inet",
    "rules": ["BIND-003"],
    "title": "without IPv6 in the runtime, AF_UNSPEC becomes AF_INET before resolving",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "platform": {"has_ipv6": false}},
       "expect": {"ok": true, "listeners": [{"family": "inet", "address": "0.0.0.0"}]},
       "trace": {"log": {"$subseq": ["getaddrinfo(NULL, \"0\", AF_INET, *"]}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/no-ipv6-runtime-keeps-explicit-family",
    "rules": ["BIND-003"],
    "title": "without IPv6 in the runtime, an explicit family is kept (only AF_UNSPEC changes)",
    "env": {"needs": ["ipv6"]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "::1", "family": "inet6",
                "platform": {"has_ipv6": false}},
       "expect": {"ok": true, "listeners": [{"family": "inet6", "address": "::1"}]},
       "trace": {"log": {"$subseq": ["getaddrinfo(\"::1\", \"0\", AF_INET6, *"]}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/no-flags-means-passive",
    "rules": ["BIND-004"],
    "title": "flags null means AI_PASSIVE: no address binds the wildcard",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "flags": null},
       "expect": {"ok": true, "listeners": {"$len": {"$ge": 1},
                                            "$each": {"address": {"$any": ["0.0.0.0", "::"]}}}},
       "trace": {"log": {"$subseq": ["getaddrinfo(NULL, \"0\", AF_UNSPEC, SOCK_STREAM, 0, AI_PASSIVE) = *"]}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/explicit-flags-replace-passive",
    "rules": ["BIND-004"],
    "title": "explicit flags replace AI_PASSIVE (not OR-ed): flags 0 with no address binds loopback",
    "env": {"needs": ["ipv6"]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "flags": 0},
       "expect": {"ok": true, "listeners": {"$len": {"$ge": 1},
                                            "$each": {"address": {"$any": ["127.0.0.1", "::1"]}}}},
       "trace": {"log": {"$subseq": ["getaddrinfo(NULL, \"0\", AF_UNSPEC, SOCK_STREAM, 0, 0) = *"]}}},
      {"send": {"op": "close_all"}},
      // AI_NUMERICHOST (4) alone: still no AI_PASSIVE.
      {"send": {"op": "bind_sockets", "port": 0, "flags": 4},
       "expect": {"ok": true, "listeners": {"$len": {"$ge": 1},
                                            "$each": {"address": {"$any": ["127.0.0.1", "::1"]}}}},
       "trace": {"log": {"$subseq": ["getaddrinfo(NULL, \"0\", AF_UNSPEC, SOCK_STREAM, 0, AI_NUMERICHOST) = *"]}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/resolve-failure-is-resolve-error",
    "rules": ["BIND-005"],
    "title": "a getaddrinfo failure is a resolve error carrying the EAI code; nothing is opened",
    "env": {"resolver": [{"host": "conform.invalid", "error": "EAI_NONAME"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.invalid"},
       "expect": {"ok": false, "error": {"kind": "resolve", "errno": "EAI_NONAME",
                                         "step": "getaddrinfo"}},
       "trace": {"calls": {"getaddrinfo": 1, "socket": 0}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/resolve-system-error-carries-errno",
    "rules": ["BIND-005"],
    "title": "EAI_SYSTEM comes with the errno behind it",
    "env": {"resolver": [{"host": "conform.test", "error": "EAI_SYSTEM", "errno": "EIO"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test"},
       "expect": {"ok": false, "error": {"kind": "resolve", "errno": "EAI_SYSTEM",
                                         "sys_errno": "EIO"}},
       "trace": {"calls": {"getaddrinfo": 1, "socket": 0}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/resolve-called-once-with-port-string",
    "rules": ["BIND-005"],
    "title": "getaddrinfo is called once with the port as a string, SOCK_STREAM and protocol 0",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"port": "/listeners/0/port"},
       "expect": {"ok": true},
       "trace": {"calls": {"getaddrinfo": 1},
                 "log": {"$subseq": ["getaddrinfo(\"127.0.0.1\", \"0\", AF_UNSPEC, SOCK_STREAM, 0, AI_PASSIVE) = *"]}}},
      {"send": {"op": "close_all"}},
      {"send": {"op": "bind_sockets", "port": "${port}", "address": "127.0.0.1"},
       "expect": {"ok": true, "listeners": [{"port": "${port}"}]},
       "trace": {"log": {"$subseq": ["getaddrinfo(\"127.0.0.1\", \"${port}\", *"]}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/duplicates-removed-ipv4-first",
    "rules": ["BIND-006"],
    "title": "resolver results are de-duplicated and IPv4 comes before IPv6",
    "env": {"needs": ["ipv6"],
            "resolver": [{"host": "conform.test", "addrs": ["::1", "127.0.0.1", "::1", "127.0.0.1"]}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test"},
       "expect": {"ok": true, "listeners": [{"family": "inet", "address": "127.0.0.1"},
                                            {"family": "inet6", "address": "::1"}]},
       "trace": {"calls": {"socket": 2, "bind": 2}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/order-stable-within-family",
    "rules": ["BIND-006"],
    "title": "within a family the resolver's order is kept",
    "env": {"needs": ["loopback2"],
            "resolver": [{"host": "conform.test", "addrs": ["127.0.0.2", "127.0.0.1", "127.0.0.2"]}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test"},
       "expect": {"ok": true, "listeners": [{"address": "127.0.0.2"}, {"address": "127.0.0.1"}]}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/darwin-localhost-skips-scoped-ipv6",
    "rules": ["BIND-007"],
    "title": "darwin: for localhost, an IPv6 result with a scope id (fe80::1%lo0) is skipped",
    "env": {"resolver": [{"host": "localhost", "addrs": ["127.0.0.1", "fe80::1%1"]}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "localhost",
                "platform": {"os": "darwin"}},
       "expect": {"ok": true, "listeners": [{"family": "inet", "address": "127.0.0.1"}]},
       "trace": {"log": {"$none": "socket(AF_INET6*"}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/darwin-scope-skip-only-for-localhost",
    "rules": ["BIND-007"],
    "title": "darwin: a scoped IPv6 result of another name is not skipped",
    "env": {"resolver": [{"host": "conform.test", "addrs": ["127.0.0.1", "fe80::1%1"]}],
            "faults": [{"call": "bind", "family": "inet6", "errno": "EADDRNOTAVAIL"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test",
                "platform": {"os": "darwin"}},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EADDRNOTAVAIL", "step": "bind"}},
       "trace": {"log": {"$subseq": ["socket(AF_INET6*"]}}}
    ]
  })json");

  // --- Socket set-up ---

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/eafnosupport-skips-address",
    "rules": ["BIND-008"],
    "title": "socket() failing with EAFNOSUPPORT (no IPv6 in the kernel) skips that address",
    "env": {"ipv6_missing": true,
            "resolver": [{"host": "conform.test", "addrs": ["127.0.0.1", "::1"]}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test"},
       "expect": {"ok": true, "listeners": [{"family": "inet", "address": "127.0.0.1"}]},
       "trace": {"calls": {"socket": 2}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/other-socket-error-fails",
    "rules": ["BIND-008", "BIND-018", "BIND-025"],
    "title": "another socket() error is an os error naming the step and address, and the IPv4 socket is closed",
    "env": {"needs": ["ipv6"],
            "resolver": [{"host": "conform.test", "addrs": ["127.0.0.1", "::1"]}],
            "faults": [{"call": "socket", "family": "inet6", "errno": "EACCES"}]},
    "steps": [
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EACCES", "step": "socket",
                                         "address": {"$contains": "::1"}}},
       "trace": {"calls": {"socket": 2, "close": 1}}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/close-on-exec",
    "rules": ["BIND-009"],
    "title": "every listener is close-on-exec, set atomically with SOCK_CLOEXEC",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": true, "listeners": [{"props": {"cloexec": true}}]},
       "trace": {"log": {"$subseq": ["socket(AF_INET, SOCK_STREAM*|SOCK_CLOEXEC, *) = *"]},
                 "calls": {"fcntl": 0}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/non-blocking-before-bind",
    "rules": ["BIND-014"],
    "title": "every listener is non-blocking from socket() on (SOCK_NONBLOCK), so before bind()",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": true, "listeners": [{"props": {"nonblock": true}}]},
       "trace": {"log": {"$subseq": ["socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK*) = *", "bind(*"]},
                 "calls": {"fcntl": 0}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/reuseaddr-set",
    "rules": ["BIND-010"],
    "title": "SO_REUSEADDR is 1 on every listener (not Windows), set before bind()",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": true, "listeners": [{"props": {"reuseaddr": true}}]},
       "trace": {"log": {"$subseq": ["setsockopt(*, SOL_SOCKET, SO_REUSEADDR, 1) = 0", "bind(*"]}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/windows-leaves-reuseaddr",
    "rules": ["BIND-010"],
    "title": "on Windows SO_REUSEADDR is not set (it would allow port hijacking)",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1",
                "platform": {"os": "windows"}},
       "expect": {"ok": true, "listeners": [{"props": {"reuseaddr": false}}]},
       "trace": {"log": {"$none": "setsockopt(*SO_REUSEADDR*"}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/reuse-port-sets-option",
    "rules": ["BIND-011"],
    "title": "reuse_port sets SO_REUSEPORT to 1; two listeners may then share the port",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1", "reuse_port": true},
       "save": {"port": "/listeners/0/port"},
       "expect": {"ok": true, "listeners": [{"props": {"reuseport": true}}]},
       "trace": {"log": {"$subseq": ["setsockopt(*, SOL_SOCKET, SO_REUSEPORT, 1) = 0", "bind(*"]}}},
      {"send": {"op": "bind_sockets", "port": "${port}", "address": "127.0.0.1", "reuse_port": true},
       "expect": {"ok": true, "listeners": [{"port": "${port}"}]}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/reuse-port-off-untouched",
    "rules": ["BIND-011"],
    "title": "without reuse_port, SO_REUSEPORT is not touched",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": true, "listeners": [{"props": {"reuseport": false}}]},
       "trace": {"log": {"$none": "*SO_REUSEPORT*"}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/v6only-before-bind",
    "rules": ["BIND-012"],
    "title": "an AF_INET6 listener has IPV6_V6ONLY = 1, set before bind()",
    "env": {"needs": ["ipv6"]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "::1"},
       "expect": {"ok": true, "listeners": [{"family": "inet6", "props": {"v6only": true}}]},
       "trace": {"log": {"$subseq": ["socket(AF_INET6, *",
                                     "setsockopt(*, IPPROTO_IPV6, IPV6_V6ONLY, 1) = 0",
                                     "bind(*"]}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/v6-and-v4-wildcards-share-port",
    "rules": ["BIND-012"],
    "title": "[::] and 0.0.0.0 on one port both bind, in either order (V6ONLY keeps them apart)",
    "env": {"needs": ["ipv6"]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "0.0.0.0"},
       "save": {"p4": "/listeners/0/port"}, "expect": {"ok": true}},
      {"send": {"op": "bind_sockets", "port": "${p4}", "address": "::"},
       "expect": {"ok": true, "listeners": [{"family": "inet6", "address": "::", "port": "${p4}"}]}},
      {"send": {"op": "close_all"}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "::"},
       "save": {"p6": "/listeners/0/port"}, "expect": {"ok": true}},
      {"send": {"op": "bind_sockets", "port": "${p6}", "address": "0.0.0.0"},
       "expect": {"ok": true, "listeners": [{"family": "inet", "port": "${p6}"}]}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/setsockopt-v6only-failure-names-option",
    "rules": ["BIND-026", "BIND-025", "BIND-018"],
    "title": "a failing setsockopt(IPV6_V6ONLY) is an os error naming the option; nothing is left open",
    "env": {"needs": ["ipv6"],
            "resolver": [{"host": "conform.test", "addrs": ["127.0.0.1", "::1"]}],
            "faults": [{"call": "setsockopt", "opt": "IPV6_V6ONLY", "errno": "ENOPROTOOPT"}]},
    "steps": [
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "ENOPROTOOPT",
                                         "step": {"$contains": "IPV6_V6ONLY"},
                                         "address": {"$contains": "::1"}}}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/setsockopt-reuseaddr-failure-names-option",
    "rules": ["BIND-026"],
    "title": "a failing setsockopt(SO_REUSEADDR) is an os error naming the option",
    "env": {"faults": [{"call": "setsockopt", "opt": "SO_REUSEADDR", "errno": "ENOMEM"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "ENOMEM",
                                         "step": {"$contains": "SO_REUSEADDR"}}},
       "trace": {"calls": {"bind": 0, "close": 1}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/setsockopt-reuseport-failure-names-option",
    "rules": ["BIND-026"],
    "title": "a failing setsockopt(SO_REUSEPORT) is an os error naming the option",
    "env": {"faults": [{"call": "setsockopt", "opt": "SO_REUSEPORT", "errno": "ENOPROTOOPT"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1", "reuse_port": true},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "ENOPROTOOPT",
                                         "step": {"$contains": "SO_REUSEPORT"}}}}
    ]
  })json");

  // --- Bind, port reuse and listen ---

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/port-zero-one-port",
    "rules": ["BIND-013"],
    "title": "port 0 on all interfaces: [::] is bound to the port the 0.0.0.0 bind got",
    "env": {"needs": ["ipv6"]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0},
       "save": {"port": "/listeners/0/port"},
       "expect": {"ok": true, "listeners": [
                    {"family": "inet", "address": "0.0.0.0", "port": {"$gt": 0}},
                    {"family": "inet6", "address": "::", "port": "${port}"}]},
       "trace": {"log": {"$subseq": ["bind(*, 0.0.0.0:0) = 0",
                                     "getsockname(*) = 0.0.0.0:${port}",
                                     "bind(*, \\[::\\]:${port}) = 0"]}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/port-zero-two-ipv4-addresses",
    "rules": ["BIND-013"],
    "title": "port 0 on two IPv4 addresses: the second is bound to the first one's port",
    "env": {"needs": ["loopback2"],
            "resolver": [{"host": "conform.test", "addrs": ["127.0.0.1", "127.0.0.2"]}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test"},
       "save": {"port": "/listeners/0/port"},
       "expect": {"ok": true, "listeners": [{"address": "127.0.0.1", "port": {"$gt": 0}},
                                            {"address": "127.0.0.2", "port": "${port}"}]},
       "trace": {"log": {"$subseq": ["getsockname(*) = 127.0.0.1:${port}",
                                     "bind(*, 127.0.0.2:${port}) = 0"]}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/localhost-ipv6-eaddrnotavail-skipped",
    "rules": ["BIND-015"],
    "title": "localhost: an IPv6 bind failing with EADDRNOTAVAIL (no ::1 in a container) is skipped",
    "env": {"resolver": [{"host": "localhost", "addrs": ["127.0.0.1", "::1"]}],
            "faults": [{"call": "bind", "family": "inet6", "errno": "EADDRNOTAVAIL"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "localhost"},
       "expect": {"ok": true, "listeners": [{"family": "inet", "address": "127.0.0.1"}]}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/eaddrnotavail-other-name-fails",
    "rules": ["BIND-015", "BIND-018"],
    "title": "EADDRNOTAVAIL on IPv6 for a name other than localhost is an os error",
    "env": {"resolver": [{"host": "conform.test", "addrs": ["127.0.0.1", "::1"]}],
            "faults": [{"call": "bind", "family": "inet6", "errno": "EADDRNOTAVAIL"}]},
    "steps": [
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EADDRNOTAVAIL", "step": "bind"}}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/localhost-ipv4-eaddrnotavail-fails",
    "rules": ["BIND-015"],
    "title": "localhost: EADDRNOTAVAIL on the IPv4 address is an os error (only IPv6 is skipped)",
    "env": {"resolver": [{"host": "localhost", "addrs": ["127.0.0.1", "::1"]}],
            "faults": [{"call": "bind", "family": "inet", "errno": "EADDRNOTAVAIL"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "localhost"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EADDRNOTAVAIL", "step": "bind",
                                         "address": {"$contains": "127.0.0.1"}}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/listeners-listen-with-backlog",
    "rules": ["BIND-016"],
    "title": "each bound socket listens with the given backlog and is returned",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1", "backlog": 5},
       "save": {"port": "/listeners/0/port"},
       "expect": {"ok": true, "listeners": [{"props": {"accepting": true}}]},
       "trace": {"log": {"$subseq": ["listen(*, 5) = 0"]}}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 3}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/all-skipped-empty-result",
    "rules": ["BIND-017"],
    "title": "when every address is skipped the result is an empty list, not an error",
    "env": {"ipv6_missing": true,
            "resolver": [{"host": "conform.test", "addrs": ["::1"]}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test"},
       "expect": {"ok": true, "listeners": []}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/localhost-ipv6-only-skipped-empty-result",
    "rules": ["BIND-017", "BIND-015"],
    "title": "localhost resolving to ::1 only, with ::1 missing: an empty list, nothing left open",
    "env": {"resolver": [{"host": "localhost", "addrs": ["::1"]}],
            "faults": [{"call": "bind", "family": "inet6", "errno": "EADDRNOTAVAIL"}]},
    "steps": [
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "localhost"},
       "expect": {"ok": true, "listeners": []}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/listener-carries-bound-address",
    "rules": ["BIND-027"],
    "title": "each listener carries the address getsockname() gave: the real port when 0 was asked",
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"port": "/listeners/0/port"},
       "expect": {"ok": true, "listeners": [{"address": "127.0.0.1", "port": {"$gt": 0},
                                             "sockname": "127.0.0.1:${port}"}]},
       "trace": {"log": {"$subseq": ["getsockname(*) = 127.0.0.1:${port}"]}}},
      // The port is real: a client reaches it.
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 1}}
    ]
  })json");

  // --- Failure handling ---

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/no-leak-when-socket-fails",
    "rules": ["BIND-018", "BIND-025"],
    "title": "socket() failing on the second address: the first socket is closed, the error names socket",
    "env": {"needs": ["loopback2"],
            "resolver": [{"host": "conform.test", "addrs": ["127.0.0.1", "127.0.0.2"]}],
            "faults": [{"call": "socket", "nth": 2, "errno": "EMFILE"}]},
    "steps": [
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EMFILE", "step": "socket",
                                         "address": {"$contains": "127.0.0.2"}}},
       "trace": {"calls": {"socket": 2, "close": 1}}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/no-leak-when-setsockopt-fails",
    "rules": ["BIND-018", "BIND-025"],
    "title": "setsockopt() failing on the second socket: both sockets are closed",
    "env": {"needs": ["loopback2"],
            "resolver": [{"host": "conform.test", "addrs": ["127.0.0.1", "127.0.0.2"]}],
            "faults": [{"call": "setsockopt", "opt": "SO_REUSEADDR", "nth": 2, "errno": "ENOBUFS"}]},
    "steps": [
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "ENOBUFS",
                                         "step": "setsockopt(SO_REUSEADDR)",
                                         "address": {"$contains": "127.0.0.2"}}},
       "trace": {"calls": {"socket": 2, "close": 2}}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/no-leak-when-bind-fails",
    "rules": ["BIND-018", "BIND-025"],
    "title": "bind() failing on the second address: the listening first socket is closed too",
    "env": {"needs": ["loopback2"],
            "resolver": [{"host": "conform.test", "addrs": ["127.0.0.1", "127.0.0.2"]}],
            "faults": [{"call": "bind", "nth": 2, "errno": "EACCES"}]},
    "steps": [
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EACCES", "step": "bind",
                                         "address": {"$glob": "127.0.0.2:*"}}},
       "trace": {"calls": {"socket": 2, "close": 2}}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/no-leak-when-getsockname-fails",
    "rules": ["BIND-018", "BIND-025"],
    "title": "getsockname() failing on the second socket: both sockets are closed",
    "env": {"needs": ["loopback2"],
            "resolver": [{"host": "conform.test", "addrs": ["127.0.0.1", "127.0.0.2"]}],
            "faults": [{"call": "getsockname", "nth": 2, "errno": "ENOBUFS"}]},
    "steps": [
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "ENOBUFS", "step": "getsockname"}},
       "trace": {"calls": {"socket": 2, "close": 2}}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/no-leak-when-listen-fails",
    "rules": ["BIND-018", "BIND-025"],
    "title": "listen() failing on the second socket: both sockets are closed",
    "env": {"needs": ["loopback2"],
            "resolver": [{"host": "conform.test", "addrs": ["127.0.0.1", "127.0.0.2"]}],
            "faults": [{"call": "listen", "nth": 2, "errno": "EADDRINUSE"}]},
    "steps": [
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EADDRINUSE", "step": "listen",
                                         "address": {"$glob": "127.0.0.2:*"}}},
       "trace": {"calls": {"socket": 2, "close": 2}}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/no-leak-on-real-port-conflict",
    "rules": ["BIND-018", "BIND-025"],
    "title": "a real conflict on [::] after 0.0.0.0 bound: EADDRINUSE naming [::]:port, the IPv4 listener closed",
    "env": {"needs": ["ipv6"]},
    "steps": [
      {"hold": {"address": "::1", "port": 0}, "save": {"held": "/port"}},
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_sockets", "port": "${held}"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EADDRINUSE", "step": "bind",
                                         "address": "[::]:${held}"}}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/error-names-step-address-errno",
    "rules": ["BIND-025"],
    "title": "a port in use: the error names bind, the address with its port, and EADDRINUSE",
    "steps": [
      {"hold": {"address": "127.0.0.1", "port": 0}, "save": {"held": "/port"}},
      {"send": {"op": "bind_sockets", "port": "${held}", "address": "127.0.0.1"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EADDRINUSE", "step": "bind",
                                         "address": "127.0.0.1:${held}",
                                         "message": {"$contains": "EADDRINUSE"}}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/port-conflict-retried",
    "rules": ["BIND-023", "BIND-013"],
    "title": "issue 1860: the shared port taken on the second address starts over on a new port",
    "env": {"needs": ["loopback2"],
            "resolver": [{"host": "conform.test", "addrs": ["127.0.0.1", "127.0.0.2"]}],
            "faults": [{"call": "bind", "nth": 2, "errno": "EADDRINUSE"}]},
    "steps": [
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test"},
       "save": {"port": "/listeners/0/port"},
       "expect": {"ok": true, "listeners": [{"address": "127.0.0.1"},
                                            {"address": "127.0.0.2", "port": "${port}"}]},
       "trace": {"calls": {"bind": 4, "close": 2},
                 "log": {"$subseq": ["bind(*, 127.0.0.1:0) = 0",
                                     "bind(*, 127.0.0.2:*) = -1 EADDRINUSE (injected)",
                                     "bind(*, 127.0.0.1:0) = 0",
                                     "bind(*, 127.0.0.2:${port}) = 0"]}}},
      {"send": {"op": "close_all"}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/port-conflict-gives-up",
    "rules": ["BIND-023", "BIND-018"],
    "title": "issue 1860 on every port: EADDRINUSE after 10 restarts, nothing left open",
    "env": {"needs": ["ipv6"],
            "resolver": [{"host": "conform.test", "addrs": ["127.0.0.1", "::1"]}],
            "faults": [{"call": "bind", "family": "inet6", "times": 0, "errno": "EADDRINUSE"}]},
    "steps": [
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EADDRINUSE", "step": "bind"}},
       "trace": {"calls": {"bind": 22}}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/port-retries-bound-the-restarts",
    "rules": ["BIND-023"],
    "title": "port_retries 0 fails on the first conflict (Tornado's behaviour); 3 allows 3 restarts",
    "env": {"needs": ["ipv6"],
            "resolver": [{"host": "conform.test", "addrs": ["127.0.0.1", "::1"]}],
            "faults": [{"call": "bind", "family": "inet6", "times": 0, "errno": "EADDRINUSE"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test", "port_retries": 0},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EADDRINUSE"}},
       "trace": {"calls": {"bind": 2}}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "conform.test", "port_retries": 3},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EADDRINUSE"}},
       "trace": {"calls": {"bind": 8}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/explicit-port-conflict-not-retried",
    "rules": ["BIND-023"],
    "title": "an explicit port in use is not retried on another port: only port 0 restarts",
    "env": {"needs": ["loopback2"],
            "resolver": [{"host": "conform.test", "addrs": ["127.0.0.1", "127.0.0.2"]}]},
    "steps": [
      {"hold": {"address": "127.0.0.2", "port": 0}, "save": {"held": "/port"}},
      {"send": {"op": "bind_sockets", "port": "${held}", "address": "conform.test"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EADDRINUSE",
                                         "address": "127.0.0.2:${held}"}},
       "trace": {"calls": {"bind": 2}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/eintr-retried-socket",
    "rules": ["BIND-024"],
    "title": "socket() interrupted by EINTR is retried",
    "env": {"faults": [{"call": "socket", "errno": "EINTR"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": true, "listeners": {"$len": 1}},
       "trace": {"calls": {"socket": 2}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/eintr-retried-setsockopt",
    "rules": ["BIND-024"],
    "title": "setsockopt() interrupted by EINTR is retried",
    "env": {"faults": [{"call": "setsockopt", "errno": "EINTR"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": true, "listeners": [{"props": {"reuseaddr": true}}]},
       "trace": {"log": {"$subseq": ["setsockopt(*SO_REUSEADDR, 1) = -1 EINTR (injected)",
                                     "setsockopt(*SO_REUSEADDR, 1) = 0"]}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/eintr-retried-bind",
    "rules": ["BIND-024"],
    "title": "bind() interrupted by EINTR is retried",
    "env": {"faults": [{"call": "bind", "errno": "EINTR"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": true, "listeners": {"$len": 1}},
       "trace": {"calls": {"bind": 2, "socket": 1}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/eintr-retried-listen",
    "rules": ["BIND-024"],
    "title": "listen() interrupted by EINTR is retried",
    "env": {"faults": [{"call": "listen", "errno": "EINTR"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": true, "listeners": [{"props": {"accepting": true}}]},
       "trace": {"calls": {"listen": 2}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/eintr-retried-getsockname",
    "rules": ["BIND-024"],
    "title": "getsockname() interrupted by EINTR is retried",
    "env": {"faults": [{"call": "getsockname", "errno": "EINTR"}]},
    "steps": [
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": true, "listeners": [{"port": {"$gt": 0}}]},
       "trace": {"calls": {"getsockname": 2}}}
    ]
  })json");

  AddCase(out, kFile, __LINE__, R"json({
    "id": "bind/close-not-retried",
    "rules": ["BIND-024", "BIND-018"],
    "title": "close() returning EINTR is not retried (the fd is gone on Linux)",
    "env": {"faults": [{"call": "bind", "errno": "EACCES"},
                       {"call": "close", "errno": "EINTR"}]},
    "steps": [
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": false, "error": {"kind": "os", "errno": "EACCES"}},
       "trace": {"calls": {"close": 1}}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": "${fds}"}}
    ]
  })json");
}

}  // namespace netutil::conform
