#include "bad_inputs.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "catalog.h"
#include "expectations.h"
#include "netutil/accept_handler.h"
#include "netutil/bind_sockets.h"
#include "netutil/bind_unix_socket.h"
#include "netutil/fakes/fake_kernel.h"
#include "netutil/fakes/fault_plan.h"
#include "netutil/fakes/manual_loop.h"
#include "protocol.h"

namespace netutil::bench {
namespace {

using fakes::FakeKernel;

std::string Describe(const Error& e) {
  return std::string(e.KindName()) + " " + e.step + ": " + e.message;
}

template <typename T>
BadInputOutcome FromResult(const Result<T>& r, const FakeKernel& k) {
  if (r.ok()) return {"OK (accepted)", static_cast<long>(k.trace().size())};
  return {Describe(r.error()), static_cast<long>(k.trace().size())};
}

// bind_sockets on a fresh dual-stack fake host; `setup` may change the host.
std::function<BadInputOutcome()> Bind(BindOptions o,
                                      std::function<void(FakeKernel&)> setup = nullptr) {
  return [o = std::move(o), setup = std::move(setup)] {
    FakeKernel k;
    if (setup) setup(k);
    k.trace().Clear();
    return FromResult(bind_sockets(k, o), k);
  };
}

std::function<BadInputOutcome()> Unix(UnixOptions o,
                                      std::function<void(FakeKernel&)> setup = nullptr) {
  return [o = std::move(o), setup = std::move(setup)] {
    FakeKernel k;
    if (setup) setup(k);
    k.trace().Clear();
    return FromResult(bind_unix_socket(k, o), k);
  };
}

// add_accept_handler on a listener of the fake; `listen` false leaves the
// socket unlistened. The loop is a ManualLoop, fired once, so a bad listener
// shows what the first readiness event does with it.
std::function<BadInputOutcome()> Accept(AcceptOptions ao, bool valid_fd = true, bool listen = true,
                                        bool with_callback = true) {
  return [=] {
    FakeKernel k;
    fakes::ManualLoop loop;
    Listener l;
    if (valid_fd) {
      BindOptions bo;
      bo.address = "127.0.0.1";
      auto b = bind_sockets(k, bo);
      if (!b.ok()) return BadInputOutcome{"setup failed: " + b.error().message, -1};
      l = std::move(b.value()[0]);
      if (!listen) {
        // A bound socket that never listened: accept4 says EINVAL.
        const SysInt s = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        l.fd = Fd(k, s.value);
      }
    }
    k.trace().Clear();
    std::string reported;
    AcceptCallback cb;
    if (with_callback) cb = [](Fd, const SockAddr&) {};
    auto h =
        add_accept_handler(loop, k, l, cb, ao, [&](const Error& e) { reported = Describe(e); });
    if (!h.ok()) return FromResult(h, k);
    loop.Fire(l.fd.get());
    const long calls = static_cast<long>(k.trace().size());
    if (reported.empty()) return BadInputOutcome{"OK (accepted)", calls};
    return BadInputOutcome{reported + (h.value().active() ? "" : " (handler removed)"), calls};
  };
}

std::function<BadInputOutcome()> Adapter(std::string line) {
  return [line = std::move(line)] {
    FakeKernel k;
    adapter::AdapterSession session(k);
    return BadInputOutcome{session.Handle(line), -1};
  };
}

std::function<BadInputOutcome()> Plan(std::string text) {
  return [text = std::move(text)] {
    const fakes::FaultPlan::Parsed p = fakes::FaultPlan::Parse(text);
    if (p.ok()) return BadInputOutcome{"OK (accepted)", -1};
    return BadInputOutcome{p.error->ToString(), -1};
  };
}

// A scenario file at tests/conformance/cases/<path>, as netconform loads it:
// the first problem, which names the file and line.
std::function<BadInputOutcome()> Scenario(std::string path, std::string text) {
  return [path = std::move(path), text = std::move(text)] {
    std::vector<std::string> problems;
    conform::LoadCatalog({{"cases/" + path, text}}, &problems);
    if (problems.empty()) return BadInputOutcome{"OK (accepted)", -1};
    return BadInputOutcome{problems.front(), -1};
  };
}

// An expected-verdicts file (--expect) over a catalog of one case, bind/a.
std::function<BadInputOutcome()> ExpectFile(std::string text) {
  return [text = std::move(text)] {
    std::vector<std::string> problems;
    const std::vector<conform::Case> cases = conform::LoadCatalog(
        {{"cases/bind/a.json",
          R"({"id": "bind/a", "rules": ["BIND-013"], "title": "t", "steps": [{"sleep_ms": 0}]})"}},
        &problems);
    char path[] = "/tmp/netutil-expect-XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd < 0) return BadInputOutcome{"setup failed: mkstemp", -1};
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    std::string error;
    const bool ok = written && conform::ReadExpectations(path, cases, &error).has_value();
    ::unlink(path);
    if (!written) return BadInputOutcome{"setup failed: write", -1};
    if (ok) return BadInputOutcome{"OK (accepted)", -1};
    // The temp file's name differs each run: show it as "expect.txt".
    return BadInputOutcome{"expect.txt" + error.substr(std::string(path).size()), -1};
  };
}

std::vector<BadInput> MakeTable() {
  std::vector<BadInput> t;
  auto add = [&](std::string area, std::string input, std::string rule, std::string expected,
                 long syscalls, std::function<BadInputOutcome()> run) {
    t.push_back(BadInput{std::move(area), std::move(input), std::move(rule), std::move(expected),
                         syscalls, std::move(run)});
  };

  // ---- bind_sockets --------------------------------------------------------------
  add("bind_sockets", "port 70000", "BIND-019", "argument port: port 70000 is outside 0..65535", 0,
      Bind(BindOptions{.port = 70000}));
  add("bind_sockets", "port 65536", "BIND-019", "argument port: port 65536 is outside 0..65535", 0,
      Bind(BindOptions{.port = 65536}));
  add("bind_sockets", "port -1", "BIND-019", "argument port: port -1 is outside 0..65535", 0,
      Bind(BindOptions{.port = -1}));
  {
    BindOptions o;
    o.address = std::string("127.0.0.1\0.evil", 15);
    add("bind_sockets", "address \"127.0.0.1\\0.evil\" (a NUL byte)", "BIND-020",
        "argument address: address contains a NUL byte at offset 9", 0, Bind(o));
  }
  {
    BindOptions o;
    o.address = std::string(254, 'a');
    add("bind_sockets", "address of 254 bytes", "BIND-020",
        "argument address: address is 254 bytes long; a host name has at most 253", 0, Bind(o));
  }
  {
    BindOptions o;
    o.family = AF_UNIX;
    add("bind_sockets", "family AF_UNIX", "BIND-021",
        "argument family: family 1 is not AF_UNSPEC, AF_INET or AF_INET6", 0, Bind(o));
  }
  {
    BindOptions o;
    o.family = 12345;
    add("bind_sockets", "family 12345", "BIND-021",
        "argument family: family 12345 is not AF_UNSPEC, AF_INET or AF_INET6", 0, Bind(o));
  }
  {
    BindOptions o;
    o.backlog = -1;
    add("bind_sockets", "backlog -1", "BIND-022", "argument backlog: backlog -1 is negative", 0,
        Bind(o));
  }
  {
    BindOptions o;
    o.port_retries = -1;
    add("bind_sockets", "port_retries -1", "BIND-022",
        "argument port_retries: port_retries -1 is negative", 0, Bind(o));
  }
  {
    BindOptions o;
    o.reuse_port = true;
    o.platform = Platform::Windows();
    add("bind_sockets", "reuse_port on Windows (no SO_REUSEPORT)", "BIND-001",
        "argument reuse_port: reuse_port: the platform (windows) has no SO_REUSEPORT", 0, Bind(o));
  }
  {
    BindOptions o;
    o.address = "no-such-host.invalid";
    add("bind_sockets", "address \"no-such-host.invalid\" (unknown name)", "BIND-005",
        "resolve getaddrinfo: getaddrinfo no-such-host.invalid:0: EAI_NONAME (Name or service "
        "not known)",
        1, Bind(o));
  }
  {
    BindOptions o;
    o.address = "localhost";
    o.flags = AI_NUMERICHOST;
    add("bind_sockets", "flags AI_NUMERICHOST with address \"localhost\"", "BIND-004",
        "resolve getaddrinfo: getaddrinfo localhost:0: EAI_NONAME (Name or service not known)", 1,
        Bind(o));
  }
  {
    BindOptions o;
    o.address = "::1";
    o.family = AF_INET;
    add("bind_sockets", "address \"::1\" with family AF_INET", "BIND-005",
        "resolve getaddrinfo: getaddrinfo ::1:0: EAI_ADDRFAMILY (Address family for hostname not "
        "supported)",
        1, Bind(o));
  }
  {
    BindOptions o;
    o.flags = 0x4000000;
    add("bind_sockets", "flags 0x4000000 (no such AI_ flag)", "BIND-005",
        "resolve getaddrinfo: getaddrinfo *:0: EAI_BADFLAGS (Bad value for ai_flags)", 1, Bind(o));
  }
  {
    BindOptions o;
    o.address = "10.1.2.3";
    add("bind_sockets", "address 10.1.2.3 (not an address of this host)", "BIND-015",
        "os bind: bind 10.1.2.3:0: EADDRNOTAVAIL (Cannot assign requested address)", 5, Bind(o));
  }
  {
    BindOptions o;
    o.address = "127.0.0.1";
    o.port = 8888;
    add("bind_sockets", "port 8888, taken by another process", "BIND-025",
        "os bind: bind 127.0.0.1:8888: EADDRINUSE (Address already in use)", 5,
        Bind(o, [](FakeKernel& k) { (void)k.ForeignBind(*SockAddr::FromIp("127.0.0.1", 8888)); }));
  }

  // ---- bind_unix_socket ----------------------------------------------------------
  auto unix_opts = [](std::string path, mode_t mode = 0600, int backlog = kDefaultBacklog) {
    UnixOptions o;
    o.path = std::move(path);
    o.mode = mode;
    o.backlog = backlog;
    return o;
  };
  add("bind_unix_socket", "path \"\"", "UNIX-012", "argument path: path is empty", 0,
      Unix(unix_opts("")));
  add("bind_unix_socket", "path \"/run/a\\0b.sock\" (a NUL byte)", "UNIX-012",
      "argument path: path contains a NUL byte at offset 6", 0,
      Unix(unix_opts(std::string("/run/a\0b.sock", 13))));
  add("bind_unix_socket", "path of 200 bytes", "UNIX-012",
      "argument path: path is 200 bytes long; a unix socket path holds at most 108", 0,
      Unix(unix_opts("/run/" + std::string(195, 'p'))));
  add("bind_unix_socket", "mode 010000", "UNIX-013", "argument mode: mode 4096 is outside 0..07777",
      0, Unix(unix_opts("/run/x.sock", 010000)));
  add("bind_unix_socket", "mode (mode_t)-1", "UNIX-013",
      "argument mode: mode 4294967295 is outside 0..07777", 0,
      Unix(unix_opts("/run/x.sock", static_cast<mode_t>(-1))));
  add("bind_unix_socket", "backlog -5", "UNIX-013", "argument backlog: backlog -5 is negative", 0,
      Unix(unix_opts("/run/x.sock", 0600, -5)));
  add("bind_unix_socket", "path of an existing regular file", "UNIX-004",
      "argument path: /run/data.txt exists and is not a socket; it is left untouched", 9,
      Unix(unix_opts("/run/data.txt"), [](FakeKernel& k) { k.fs().MakeFile("/run/data.txt"); }));
  add("bind_unix_socket", "path of a symbolic link (to a socket)", "UNIX-009",
      "os fstatat: /run/link.sock is a symbolic link; bind_unix_socket neither follows nor removes "
      "it",
      9, Unix(unix_opts("/run/link.sock"), [](FakeKernel& k) {
        (void)k.ForeignBind(*SockAddr::Unix("/run/real.sock"));
        k.fs().MakeSymlink("/run/link.sock", "/run/real.sock");
      }));
  add("bind_unix_socket", "path where another process listens", "UNIX-008",
      "os connect probe: /run/live.sock: another process listens on this socket; it is left in "
      "place",
      12, Unix(unix_opts("/run/live.sock"), [](FakeKernel& k) {
        (void)k.ForeignBind(*SockAddr::Unix("/run/live.sock"));
      }));
  add("bind_unix_socket", "path in a missing directory", "UNIX-011",
      "os openat: openat unix:/nonexistent/x.sock: ENOENT (No such file or directory)", 7,
      Unix(unix_opts("/nonexistent/x.sock")));

  // ---- add_accept_handler ----------------------------------------------------------
  {
    AcceptOptions ao;
    ao.batch = 0;
    add("add_accept_handler", "batch 0", "ACCEPT-015", "argument batch: batch 0 is below 1", 0,
        Accept(ao));
    ao.batch = -1;
    add("add_accept_handler", "batch -1", "ACCEPT-015", "argument batch: batch -1 is below 1", 0,
        Accept(ao));
  }
  {
    AcceptOptions ao;
    ao.backoff = std::chrono::milliseconds(-1);
    add("add_accept_handler", "backoff -1 ms", "ACCEPT-015",
        "argument backoff: backoff -1 ms is negative", 0, Accept(ao));
  }
  add("add_accept_handler", "listener with fd -1", "ACCEPT-015",
      "argument listener: listener has no open fd", 0, Accept({}, /*valid_fd=*/false));
  add("add_accept_handler", "an empty callback", "ACCEPT-015",
      "argument callback: callback is empty", 0, Accept({}, true, true, /*with_callback=*/false));
  add("add_accept_handler", "a socket that is not listening", "ACCEPT-014",
      "os accept4: accept4 127.0.0.1:32768: EINVAL (Invalid argument) (handler removed)", 1,
      Accept({}, true, /*listen=*/false));

  // ---- the adapter protocol (docs/ADAPTER.md) ----------------------------------------
  add("adapter", "not JSON: `hello`", "",
      R"js({"error":{"address":"","errno":null,"kind":"protocol","message":"request is not JSON: [json.exception.parse_error.101] parse error at line 1, column 1: syntax error while parsing value - invalid literal; last read: 'h'","step":""},"ok":false})js",
      -1, Adapter("hello"));
  add("adapter", "`[1,2]` (not an object)", "",
      R"js({"error":{"address":"","errno":null,"kind":"protocol","message":"request must be a JSON object, got array","step":""},"ok":false})js",
      -1, Adapter("[1,2]"));
  add("adapter", "`{\"port\":0}` (no op)", "",
      R"js({"error":{"address":"","errno":null,"kind":"protocol","message":"request has no \"op\"","step":"op"},"ok":false})js",
      -1, Adapter(R"({"port":0})"));
  add("adapter", "`{\"op\":5}`", "",
      R"js({"error":{"address":"","errno":null,"kind":"protocol","message":"op must be a string, got number","step":"op"},"ok":false})js",
      -1, Adapter(R"({"op":5})"));
  add("adapter", "`{\"op\":\"frobnicate\"}`", "",
      R"js({"error":{"address":"","errno":null,"kind":"protocol","message":"unknown op \"frobnicate\"","step":"op"},"ok":false})js",
      -1, Adapter(R"({"op":"frobnicate"})"));
  add("adapter", "`{\"op\":\"bind_sockets\",\"port\":\"80\"}`", "",
      R"js({"error":{"address":"","errno":null,"kind":"protocol","message":"port must be an integer, got string","step":"port"},"fds_delta":0,"ok":false})js",
      -1, Adapter(R"({"op":"bind_sockets","port":"80"})"));
  add("adapter", "`{\"op\":\"bind_sockets\",\"colour\":\"red\"}`", "",
      R"js({"error":{"address":"","errno":null,"kind":"protocol","message":"unknown field \"colour\" for op bind_sockets","step":"colour"},"fds_delta":0,"ok":false})js",
      -1, Adapter(R"({"op":"bind_sockets","colour":"red"})"));
  add("adapter", "`{\"op\":\"bind_sockets\",\"port\":1e400}`", "",
      R"js({"error":{"address":"","errno":null,"kind":"protocol","message":"request is not JSON: [json.exception.out_of_range.406] number overflow parsing '1e400'","step":""},"ok":false})js",
      -1, Adapter(R"({"op":"bind_sockets","port":1e400})"));
  add("adapter", "`{\"op\":\"bind_sockets\",\"family\":\"appletalk\"}`", "",
      R"js({"error":{"address":"","errno":null,"kind":"protocol","message":"family \"appletalk\" is not unspec, inet, inet6, unix or an integer","step":"family"},"fds_delta":0,"ok":false})js",
      -1, Adapter(R"({"op":"bind_sockets","family":"appletalk"})"));
  add("adapter", "`{\"op\":\"bind_sockets\",\"platform\":{\"os\":\"beos\"}}`", "",
      R"js({"error":{"address":"","errno":null,"kind":"protocol","message":"platform os \"beos\" is not linux, darwin or windows","step":"os"},"fds_delta":0,"ok":false})js",
      -1, Adapter(R"({"op":"bind_sockets","platform":{"os":"beos"}})"));
  add("adapter", "`{\"op\":\"bind_sockets\",\"port\":70000}` (passed on)", "BIND-019",
      R"js({"error":{"address":"","errno":"EINVAL","kind":"argument","message":"port 70000 is outside 0..65535","step":"port"},"fds_delta":0,"ok":false})js",
      -1, Adapter(R"({"op":"bind_sockets","port":70000})"));
  add("adapter", "`{\"op\":\"bind_unix_socket\"}` (no path)", "",
      R"js({"error":{"address":"","errno":null,"kind":"protocol","message":"bind_unix_socket needs a \"path\"","step":"path"},"fds_delta":0,"ok":false})js",
      -1, Adapter(R"({"op":"bind_unix_socket"})"));
  add("adapter", "`{\"op\":\"serve\",\"listener\":99}`", "",
      R"js({"error":{"address":"","errno":null,"kind":"protocol","message":"no listener with id 99","step":"listener"},"ok":false})js",
      -1, Adapter(R"({"op":"serve","listener":99})"));
  add("adapter", "a request line of 1 MiB + 1 byte", "",
      R"js({"error":{"address":"","errno":null,"kind":"protocol","message":"request line of 1048577 bytes is longer than 1048576","step":""},"ok":false})js",
      -1, Adapter(std::string(adapter::kMaxLineBytes + 1, ' ')));

  // ---- fault plans (fakes/fault_plan.h) ------------------------------------------
  add("fault plan", "`acept4 = EAGAIN`", "", "line 1, column 1: unknown syscall 'acept4'", -1,
      Plan("acept4 = EAGAIN"));
  add("fault plan", "`accept4 = ENOTANERRNO`", "", "line 1, column 11: unknown errno 'ENOTANERRNO'",
      -1, Plan("accept4 = ENOTANERRNO"));
  add("fault plan", "`bind = EAGAIN` (not an errno bind returns)", "",
      "line 1, column 8: EAGAIN is not an errno bind can return; legal: EACCES EADDRINUSE EBADF "
      "EINVAL ENOTSOCK EADDRNOTAVAIL EFAULT ELOOP ENAMETOOLONG ENOENT ENOMEM ENOTDIR EROFS "
      "EAFNOSUPPORT EINTR",
      -1, Plan("bind = EAGAIN"));
  add("fault plan", "`accept4 #0 = EAGAIN`", "",
      "line 1, column 9: call index '#0' is not a number 1..1000000000", -1,
      Plan("accept4 #0 = EAGAIN"));
  add("fault plan", "`accept4 x0 = EAGAIN`", "",
      "line 1, column 9: repeat 'x0' is not x1..x1000000000 (use 'always' for every call)", -1,
      Plan("accept4 x0 = EAGAIN"));
  add("fault plan", "`accept4 EAGAIN` (no `=`)", "",
      "line 1, column 9: unexpected 'EAGAIN': expected #N, xN, always, key=value or '='", -1,
      Plan("accept4 EAGAIN"));
  add("fault plan", "`socket = EAI_NONAME`", "",
      "line 1, column 10: EAI_NONAME is a getaddrinfo code; socket fails with an errno", -1,
      Plan("socket = EAI_NONAME"));
  add("fault plan", "`getaddrinfo = EAI_NONAME EMFILE`", "",
      "line 1, column 26: unexpected 'EMFILE' after the outcome", -1,
      Plan("getaddrinfo = EAI_NONAME EMFILE"));
  add("fault plan", "`bind family=ipx = EADDRINUSE`", "",
      "line 1, column 13: family 'ipx' is not one of inet, inet6, unix, unspec", -1,
      Plan("bind family=ipx = EADDRINUSE"));
  add("fault plan", "`bind family=inet family=inet6 = EADDRINUSE`", "",
      "line 1, column 18: a second predicate on 'family'", -1,
      Plan("bind family=inet family=inet6 = EADDRINUSE"));
  add("fault plan", "`close colour=red = EBADF`", "",
      "line 1, column 7: unknown argument 'colour'; keys: family port fd host addr path opt "
      "backlog op cmd",
      -1, Plan("close colour=red = EBADF"));
  add("fault plan", "line 2 of `# ok\\nlisten = EAGAIN x2`", "",
      "line 2, column 10: EAGAIN is not an errno listen can return; legal: EADDRINUSE EBADF "
      "ENOTSOCK EOPNOTSUPP EINTR",
      -1, Plan("# ok\nlisten = EAGAIN x2"));

  // ---- scenario files (tests/conformance/cases, docs/CONFORMANCE.md) --------------
  // The rule ID below is split so tools/spec_coverage does not take it for a reference.
  const std::string head = R"({"id": "bind/x", "rules": ["BIND-013"], "title": "t",)"
                           "\n";
  add("scenario file", "`bind/x.json`: `{\"id\": \"bind/x\",` (cut short)", "",
      "cases/bind/x.json:1:17: not JSON: syntax error while parsing object key - unexpected end of "
      "input; expected string literal",
      -1, Scenario("bind/x.json", "{\"id\": \"bind/x\","));
  add("scenario file", "`bind/x.json` with the id `bind/y`", "",
      "cases/bind/x.json:1: [bind/y] id \"bind/y\" does not match the file's path (bind/x)", -1,
      Scenario("bind/x.json", R"({"id": "bind/y", "rules": ["BIND-013"], "title": "t",
 "steps": [{"sleep_ms": 0}]})"));
  add("scenario file", "an id that is not `area/kebab-slug`", "",
      "cases/bind/x.json:1: id \"Bind X\" has no <area>/: it must look like area/kebab-slug", -1,
      Scenario("bind/x.json", R"({"id": "Bind X", "rules": ["BIND-013"], "title": "t",
 "steps": [{"sleep_ms": 0}]})"));
  add("scenario file", "a rule docs/SPEC.md does not have", "",
      "cases/bind/x.json:3: [bind/x] rule \"BIND-"
      "999\" is not in docs/SPEC.md",
      -1,
      Scenario("bind/x.json",
               "{\"id\": \"bind/x\", \"title\": \"t\", \"steps\": [{\"sleep_ms\": 0}],\n"
               " \"rules\": [\"BIND-013\",\n  \"BIND-"
               "999\"]}"));
  add("scenario file", "an unknown top-level key `stpes`", "",
      "cases/bind/x.json:2: unknown key \"stpes\"", -1,
      Scenario("bind/x.json", head + R"( "stpes": []})"));
  add("scenario file", "a step with no verb (`sned`) on line 4", "",
      "cases/bind/x.json:4: [bind/x] step 2: a step needs exactly one of send, connect, hold, "
      "make, check, sleep_ms, exhaust_fds, restore_fds: {\"sned\":1}",
      -1,
      Scenario("bind/x.json",
               head + " \"steps\": [\n  {\"send\": {\"op\": \"hello\"}},\n  {\"sned\": 1}]}"));
  add("scenario file", "an unknown pattern operator `$frobnicate`", "",
      "cases/bind/x.json:2: [bind/x] step 1: expect: unknown operator $frobnicate", -1,
      Scenario("bind/x.json",
               head + R"( "steps": [{"send": {"op": "hello"}, "expect": {"$frobnicate": 1}}]})"));
  add("scenario file", "`faults` rule `bind #0 = EADDRINUSE`", "",
      "cases/bind/x.json:2: [bind/x] env.faults[0]: line 1, column 6: call index '#0' is not a "
      "number 1..1000000000",
      -1,
      Scenario("bind/x.json", head + " \"env\": {\"faults\": [\"bind #0 = EADDRINUSE\"]},\n"
                                     " \"steps\": [{\"sleep_ms\": 0}]}"));
  add("scenario file", "`env.ipv6`: `\"sometimes\"`", "",
      "cases/bind/x.json:2: [bind/x] env.ipv6 must be \"present\", \"absent\" or \"partial\": "
      "\"sometimes\"",
      -1,
      Scenario("bind/x.json",
               head + " \"env\": {\"ipv6\": \"sometimes\"},\n \"steps\": [{\"sleep_ms\": 0}]}"));
  add("scenario file", "`env.port_range`: `[40010, 40000]`", "",
      "cases/bind/x.json:2: [bind/x] env.port_range must be [LO, HI] with 1024 <= LO <= HI <= "
      "65535: [40010,40000]",
      -1,
      Scenario(
          "bind/x.json",
          head + " \"env\": {\"port_range\": [40010, 40000]},\n \"steps\": [{\"sleep_ms\": 0}]}"));
  add("scenario file", "`env.fd_limit`: 2", "",
      "cases/bind/x.json:2: [bind/x] env.fd_limit must be an integer in 4..1048576: 2", -1,
      Scenario("bind/x.json",
               head + " \"env\": {\"fd_limit\": 2},\n \"steps\": [{\"sleep_ms\": 0}]}"));
  add("scenario file", "`env.needs`: `[\"ipv7\"]`", "",
      "cases/bind/x.json:2: [bind/x] env.needs: unknown need \"ipv7\"", -1,
      Scenario("bind/x.json",
               head + " \"env\": {\"needs\": [\"ipv7\"]},\n \"steps\": [{\"sleep_ms\": 0}]}"));
  add("scenario file", "a fault rule in the old object form", "",
      "cases/bind/x.json:2: [bind/x] env.faults[0]: a fault rule is a fault-plan line such as "
      "\"bind #2 = EADDRINUSE\" (the object form {\"call\": ...} is no longer read; "
      "scripts/migrate_cases.py rewrites it), not {\"call\":\"bind\"}",
      -1,
      Scenario(
          "bind/x.json",
          head +
              " \"env\": {\"faults\": [{\"call\": \"bind\"}]},\n \"steps\": [{\"sleep_ms\": 0}]}"));
  add("expected verdicts", "`bind/zz FAILED` (no such case)", "",
      "expect.txt:2: no case \"bind/zz\" in the catalog", -1,
      ExpectFile("# tornado\nbind/zz FAILED\n"));
  add("expected verdicts", "`bind/a MAYBE`", "",
      "expect.txt:1: unknown verdict \"MAYBE\" (FAILED, NON-STRICT, N/A, BLIND or OK)", -1,
      ExpectFile("bind/a MAYBE\n"));
  return t;
}

}  // namespace

const std::vector<BadInput>& BadInputTable() {
  static const std::vector<BadInput> table = MakeTable();
  return table;
}

}  // namespace netutil::bench
