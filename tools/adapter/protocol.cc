#include "protocol.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "netutil/accept_handler.h"
#include "netutil/bind_sockets.h"
#include "netutil/bind_unix_socket.h"
#include "netutil/errno_name.h"
#include "netutil/io_loop.h"
#include "netutil/platform.h"
#include "netutil/sock_addr.h"
#include "netutil/tracer/quiet_marker.h"
#include "observing_loop.h"
#include "spec_rules.h"

namespace netutil::adapter {
namespace {

using json = nlohmann::json;

// A request the adapter cannot run as written: bad JSON, unknown op or field,
// a field of the wrong type. Becomes {"kind":"protocol"}.
struct ProtocolError {
  std::string field;
  std::string message;
};

// An argument the implementation's API cannot even represent (a port beyond
// 64 bits, a backlog beyond int). The adapter refuses it as the implementation
// would refuse an out-of-range value: {"kind":"argument"}, like Python's OverflowError.
struct ArgumentError {
  std::string field;
  std::string message;
};

std::string Dump(const json& j) {
  // replace: a unix path or a message may hold bytes that are not UTF-8.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

const char* ErrorCodeName(const Error& e) {
  return e.kind == Error::Kind::kResolve ? GaiErrorName(e.code) : ErrnoName(e.code);
}

json ErrorJson(const Error& e) {
  json err = {{"kind", e.KindName()},
              {"errno", ErrorCodeName(e)},
              {"message", e.message},
              {"step", e.step},
              {"address", e.address}};
  if (e.kind == Error::Kind::kResolve && e.code == EAI_SYSTEM) {
    err["sys_errno"] = ErrnoName(e.sys_errno);
  }
  return err;
}

std::string ErrorReply(const Error& e) { return Dump({{"ok", false}, {"error", ErrorJson(e)}}); }

// `fds_delta`: for a bind op refused before any call, 0 (nothing was opened).
std::string ErrorReply(const char* kind, const std::string& errno_name, const std::string& field,
                       const std::string& message, bool fds_delta = false) {
  json err = {{"kind", kind},
              {"errno", errno_name.empty() ? json(nullptr) : json(errno_name)},
              {"message", message},
              {"step", field},
              {"address", ""}};
  json reply = {{"ok", false}, {"error", std::move(err)}};
  if (fds_delta) reply["fds_delta"] = 0;
  return Dump(reply);
}

std::string ProtocolReply(const std::string& field, const std::string& message,
                          bool fds_delta = false) {
  return ErrorReply("protocol", "", field, message, fds_delta);
}

const char* TypeName(const json& v) { return v.type_name(); }

// A whole number beyond what a 64-bit integer holds, parsed as a double (a
// double of -2^63 comes from a literal below it: -2^63 itself parses as an integer).
bool IsWholeBeyond64Bits(const json& v) {
  if (!v.is_number_float()) return false;
  const double d = v.get<double>();
  return std::isfinite(d) && std::trunc(d) == d && (d >= 0x1p63 || d <= -0x1p63);
}

// Puts the request's "id" first in its reply (protocol 2), so the runner can
// tell a reply from a stray line. `reply` is a dumped JSON object.
std::string WithId(std::string reply, const json* id) {
  if (id == nullptr || reply.size() < 2 || reply.front() != '{') return reply;
  reply.insert(1, "\"id\":" + Dump(*id) + (reply == "{}" ? "" : ","));
  return reply;
}

// The ops whose every reply carries fds_delta (feature fds_delta).
bool IsBindOp(const std::string& op) { return op == "bind_sockets" || op == "bind_unix_socket"; }

// --- what the adapter observes on the kernel directly (not through the Sys) ---

// Under netconform's interposer (libnetfault.so, LD_PRELOAD) or its syscall
// tracer (netutil-trace), the adapter's own observations must neither show in
// the implementation's syscall trace nor meet its injected faults:
// netfault_quiet(1) .. netfault_quiet(0) marks them for the interposer, the
// prctl quiet marker (quiet_marker.h) for the tracer. Without either, nothing.
class Quiet {
 public:
  Quiet() {
    if (fn_ != nullptr) fn_(1);
    if (traced_) tracer::QuietBegin();
  }
  ~Quiet() {
    if (traced_) tracer::QuietEnd();
    if (fn_ != nullptr) fn_(0);
  }
  Quiet(const Quiet&) = delete;
  Quiet& operator=(const Quiet&) = delete;

 private:
  using Fn = void (*)(int);
  static inline const Fn fn_ = reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, "netfault_quiet"));
  static inline const bool traced_ = tracer::UnderTracer();
};

class KernelObserverImpl final : public Observer {
 public:
  std::optional<int> SockOpt(int fd, int level, int name) override {
    const Quiet quiet;
    int v = 0;
    socklen_t len = sizeof v;
    if (::getsockopt(fd, level, name, &v, &len) != 0) return std::nullopt;
    return v;
  }
  std::optional<int> StatusFlags(int fd) override {
    const Quiet quiet;
    const int fl = ::fcntl(fd, F_GETFL);
    return fl < 0 ? std::nullopt : std::optional<int>(fl);
  }
  std::optional<int> FdFlags(int fd) override {
    const Quiet quiet;
    const int fl = ::fcntl(fd, F_GETFD);
    return fl < 0 ? std::nullopt : std::optional<int>(fl);
  }
  std::optional<long long> OpenFds() override;
  mode_t ReadUmask() override {
    const Quiet quiet;
    // Read without changing it for good; the adapter is single-threaded.
    const mode_t mask = ::umask(022);
    ::umask(mask);
    return mask;
  }
};

// Open fds right after the call returned minus right before it (feature
// fds_delta): what the call left open at the moment it returned, before any
// clean-up of the caller's (a garbage collector's, a destructor's) could run.
json FdsDelta(std::optional<long long> before, std::optional<long long> after) {
  return before && after ? json(*after - *before) : json(nullptr);
}

json OptBool(std::optional<int> v) { return v ? json(*v != 0) : json(nullptr); }

// The listener's socket as the kernel sees it, so a case can check BIND-009,
// -010, -011, -012, -014, -016 and UNIX-001, -002 on any implementation.
json SocketProps(Observer& o, int fd, int family) {
  json p;
  std::optional<int> fl = o.StatusFlags(fd);
  std::optional<int> fdfl = o.FdFlags(fd);
  p["nonblock"] = !fl ? json(nullptr) : json((*fl & O_NONBLOCK) != 0);
  p["cloexec"] = !fdfl ? json(nullptr) : json((*fdfl & FD_CLOEXEC) != 0);
  std::optional<int> type = o.SockOpt(fd, SOL_SOCKET, SO_TYPE);
  p["type"] = !type ? json(nullptr) : *type == SOCK_STREAM ? json("stream") : json(*type);
  p["accepting"] = OptBool(o.SockOpt(fd, SOL_SOCKET, SO_ACCEPTCONN));
  p["reuseaddr"] = OptBool(o.SockOpt(fd, SOL_SOCKET, SO_REUSEADDR));
#ifdef SO_REUSEPORT
  p["reuseport"] = OptBool(o.SockOpt(fd, SOL_SOCKET, SO_REUSEPORT));
#endif
  if (family == AF_INET6) p["v6only"] = OptBool(o.SockOpt(fd, IPPROTO_IPV6, IPV6_V6ONLY));
  return p;
}

json ListenerJson(Observer& o, long long id, const Listener& l) {
  const int family = l.addr.family();
  const char* fname = FamilyShortName(family);
  json j = {{"id", id}, {"family", fname ? json(fname) : json(family)}};
  if (family == AF_UNIX) {
    j["path"] = l.addr.unix_path();
  } else {
    j["address"] = l.addr.host();
    j["port"] = l.addr.port();
  }
  j["sockname"] = l.addr.ToString();
  j["props"] = SocketProps(o, l.fd.get(), family);
  return j;
}

// /proc/self/fd, minus the directory's own fd.
std::optional<long long> KernelObserverImpl::OpenFds() {
  const Quiet quiet;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  long long n = 0;
  while (const dirent* e = ::readdir(dir)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") ++n;
  }
  ::closedir(dir);
  return n - 1;
}

double CpuMillis() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto ms = [](const timeval& tv) { return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0; };
  return ms(ru.ru_utime) + ms(ru.ru_stime);
}

// Thrown by a serve callback told to throw (throw_at), to check ACCEPT-007.
struct CallbackThrew : std::runtime_error {
  CallbackThrew() : std::runtime_error("netutil-adapter: callback threw as asked (throw_at)") {}
};

}  // namespace

// A parsed request: typed access to its fields, every access checked.
struct AdapterSession::Request {
  const json& j;
  std::string op;

  // Refuses a field this op does not know (a typo must not pass silently).
  void Allow(std::initializer_list<const char*> fields) const {
    for (const auto& [key, value] : j.items()) {
      if (key == "op" || key == "id") continue;
      bool known = false;
      for (const char* f : fields) known = known || key == f;
      if (!known) throw ProtocolError{key, "unknown field \"" + key + "\" for op " + op};
    }
  }

  const json* Get(const char* name) const {
    auto it = j.find(name);
    return it == j.end() ? nullptr : &*it;
  }

  // An integer field; nullopt when absent (or null, if null_ok). Values that
  // do not fit in int64 set *overflow and come back clamped.
  std::optional<long long> Int(const char* name, bool null_ok, bool* overflow) const {
    const json* v = Get(name);
    if (v == nullptr || (null_ok && v->is_null())) return std::nullopt;
    if (IsWholeBeyond64Bits(*v)) {
      // 18446744073709551616 and beyond: JSON writes an integer, the parser
      // can only give it as a double. Out of the API's range, not bad JSON.
      *overflow = true;
      return v->get<double>() > 0 ? LLONG_MAX : LLONG_MIN;
    }
    if (!v->is_number_integer()) {
      throw ProtocolError{name, std::string(name) + " must be an integer" +
                                    (null_ok ? " or null" : "") + ", got " + TypeName(*v)};
    }
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(LLONG_MAX)) {
      *overflow = true;
      return LLONG_MAX;
    }
    *overflow = false;
    return v->get<long long>();
  }

  // An argument of the implementation's API: a value its C++ type cannot hold
  // is an argument error naming the field.
  template <typename T>
  std::optional<T> ApiInt(const char* name, long long lo, long long hi, const char* why,
                          bool null_ok = false) const {
    bool overflow = false;
    std::optional<long long> v = Int(name, null_ok, &overflow);
    if (!v) return std::nullopt;
    if (overflow || *v < lo || *v > hi) {
      throw ArgumentError{name, std::string(name) + " " + Get(name)->dump() + " " + why};
    }
    return static_cast<T>(*v);
  }

  // The adapter's own knobs: out of range is a protocol error.
  long long OwnInt(const char* name, long long dflt, long long lo, long long hi) const {
    bool overflow = false;
    std::optional<long long> v = Int(name, false, &overflow);
    if (!v) return dflt;
    if (overflow || *v < lo || *v > hi) {
      throw ProtocolError{name, std::string(name) + " " + Get(name)->dump() + " is outside " +
                                    std::to_string(lo) + ".." + std::to_string(hi)};
    }
    return *v;
  }

  std::optional<bool> Bool(const char* name) const {
    const json* v = Get(name);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) {
      throw ProtocolError{name, std::string(name) + " must be a boolean, got " + TypeName(*v)};
    }
    return v->get<bool>();
  }

  // A string field (may hold NUL bytes: JSON's \u0000). nullopt when absent or null.
  std::optional<std::string> String(const char* name, bool null_ok) const {
    const json* v = Get(name);
    if (v == nullptr || (null_ok && v->is_null())) return std::nullopt;
    if (!v->is_string()) {
      throw ProtocolError{name, std::string(name) + " must be a string" +
                                    (null_ok ? " or null" : "") + ", got " + TypeName(*v)};
    }
    return v->get<std::string>();
  }
};

Observer& KernelObserver() {
  static KernelObserverImpl observer;
  return observer;
}

AdapterSession::AdapterSession(Sys& sys, Observer& observer) : sys_(sys), observer_(observer) {
  // Made now, so the epoll fd is there before the first open_fds; a failure is
  // reported by the first serve, which tries again.
  Result<std::unique_ptr<EpollLoop>> loop = EpollLoop::Create(sys_);
  if (loop.ok()) loop_ = std::move(loop).value();
}

AdapterSession::~AdapterSession() = default;

std::string AdapterSession::Handle(std::string_view line) {
  try {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxLineBytes) {
      return ProtocolReply("", "request line of " + std::to_string(line.size()) +
                                   " bytes is longer than " + std::to_string(kMaxLineBytes));
    }
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {
      return ProtocolReply("", std::string("request is not JSON: ") + e.what());
    }
    if (!j.is_object()) {
      return ProtocolReply("", std::string("request must be a JSON object, got ") + TypeName(j));
    }
    auto id_it = j.find("id");
    const json* id = id_it == j.end() ? nullptr : &*id_it;
    auto op = j.find("op");
    if (op == j.end()) return WithId(ProtocolReply("op", "request has no \"op\""), id);
    if (!op->is_string()) {
      return WithId(ProtocolReply("op", std::string("op must be a string, got ") + TypeName(*op)),
                    id);
    }
    Request req{j, op->get<std::string>()};
    const bool bind_op = IsBindOp(req.op);
    try {
      return WithId(Dispatch(req), id);
    } catch (const ProtocolError& e) {
      return WithId(ProtocolReply(e.field, e.message, bind_op), id);
    } catch (const ArgumentError& e) {
      return WithId(ErrorReply("argument", "EINVAL", e.field, e.message, bind_op), id);
    }
  } catch (const std::exception& e) {
    // Never crash on input: whatever escaped is the adapter's bug, reported as such.
    return ErrorReply("protocol", "", "", std::string("internal adapter error: ") + e.what());
  } catch (...) {
    return ErrorReply("protocol", "", "", "internal adapter error");
  }
}

std::string AdapterSession::Dispatch(const Request& req) {
  using Op = std::string (AdapterSession::*)(const Request&);
  static constexpr std::pair<const char*, Op> kOps[] = {
      {"hello", &AdapterSession::Hello},
      {"bind_sockets", &AdapterSession::BindSockets},
      {"bind_unix_socket", &AdapterSession::BindUnixSocket},
      {"serve", &AdapterSession::Serve},
      {"open_fds", &AdapterSession::OpenFds},
      {"umask", &AdapterSession::Umask},
      {"close_all", &AdapterSession::CloseAll},
  };
  for (const auto& [name, fn] : kOps) {
    if (req.op == name) return (this->*fn)(req);
  }
  return ProtocolReply("op", "unknown op \"" + req.op + "\"");
}

std::string AdapterSession::Hello(const Request& req) {
  req.Allow({});
  json rules = json::array();
  for (const spec::Rule& r : spec::kRules) {
    if (!r.withdrawn) rules.push_back(r.id);  // the reference claims every rule
  }
  return Dump(
      {{"ok", true},
       {"impl", "reference"},
       {"version", kAdapterVersion},
       {"protocol", kProtocolVersion},
       {"platform", Platform::Host().name()},
       {"spec", std::move(rules)},
       // Reference-only request fields and reply details (docs/ADAPTER.md).
       {"features",
        {"platform_override", "port_retries", "listener_props", "serve_hooks", "serve_stats",
         "serve_until", "umask", "fds_delta"}},
       // Protocol 3: every op and field offered, nothing fixed.
       {"capabilities",
        {{"ops",
          {"hello", "bind_sockets", "bind_unix_socket", "serve", "open_fds", "umask", "close_all"}},
         {"fields",
          {{"bind_sockets", {"port", "address", "family", "backlog", "flags", "reuse_port"}},
           {"bind_unix_socket", {"path", "mode", "backlog"}},
           {"serve", {"listener", "listeners", "events", "timeout_ms", "batch", "backoff_ms"}}}},
         {"fixed", json::object()}}}});
}

std::string AdapterSession::BindSockets(const Request& req) {
  req.Allow(
      {"port", "address", "family", "backlog", "flags", "reuse_port", "port_retries", "platform"});
  BindOptions o;
  bool overflow = false;
  if (std::optional<long long> port = req.Int("port", false, &overflow)) {
    if (overflow) {
      throw ArgumentError{"port", "port " + req.Get("port")->dump() + " is outside 0..65535"};
    }
    o.port = *port;  // 70000 goes through: refusing it is the implementation's job (BIND-019)
  }
  o.address = req.String("address", /*null_ok=*/true);
  if (const json* f = req.Get("family")) {
    if (f->is_string()) {
      std::optional<int> fam = FamilyFromShortName(f->get<std::string>());
      if (!fam) {
        throw ProtocolError{"family", "family \"" + f->get<std::string>() +
                                          "\" is not unspec, inet, inet6, unix or an integer"};
      }
      o.family = *fam;  // "unix" goes through: bind_sockets must refuse it (BIND-021)
    } else {
      o.family = *req.ApiInt<int>("family", INT_MIN, INT_MAX, "does not fit in an int");
    }
  }
  if (auto b = req.ApiInt<int>("backlog", INT_MIN, INT_MAX, "does not fit in an int")) {
    o.backlog = *b;
  }
  o.flags = req.ApiInt<int>("flags", INT_MIN, INT_MAX, "does not fit in an int", true);
  if (auto rp = req.Bool("reuse_port")) o.reuse_port = *rp;
  if (auto pr = req.ApiInt<int>("port_retries", INT_MIN, INT_MAX, "does not fit in an int")) {
    o.port_retries = *pr;
  }
  if (const json* p = req.Get("platform")) {
    if (!p->is_object()) {
      throw ProtocolError{"platform",
                          std::string("platform must be an object, got ") + TypeName(*p)};
    }
    const Request sub{*p, "bind_sockets.platform"};
    sub.Allow({"os", "has_ipv6", "has_reuseport"});
    if (auto os = sub.String("os", false)) {
      if (*os == "linux") {
        o.platform.os = Platform::Os::kLinux;
      } else if (*os == "darwin") {
        o.platform.os = Platform::Os::kDarwin;
      } else if (*os == "windows") {
        o.platform.os = Platform::Os::kWindows;
      } else {
        throw ProtocolError{"os", "platform os \"" + *os + "\" is not linux, darwin or windows"};
      }
    }
    if (auto v = sub.Bool("has_ipv6")) o.platform.has_ipv6 = *v;
    if (auto v = sub.Bool("has_reuseport")) o.platform.has_reuseport = *v;
  }

  const std::optional<long long> before = observer_.OpenFds();
  Result<std::vector<Listener>> r = bind_sockets(sys_, o);
  const json delta = FdsDelta(before, observer_.OpenFds());
  if (!r.ok()) return Dump({{"ok", false}, {"error", ErrorJson(r.error())}, {"fds_delta", delta}});
  json out = json::array();
  for (Listener& l : r.value()) {
    const long long id = next_id_++;
    out.push_back(ListenerJson(observer_, id, l));
    listeners_.emplace(id, std::move(l));
  }
  return Dump({{"ok", true}, {"listeners", std::move(out)}, {"fds_delta", delta}});
}

std::string AdapterSession::BindUnixSocket(const Request& req) {
  req.Allow({"path", "mode", "backlog"});
  UnixOptions o;
  std::optional<std::string> path = req.String("path", false);
  if (!path) throw ProtocolError{"path", "bind_unix_socket needs a \"path\""};
  o.path = std::move(*path);
  if (auto m = req.ApiInt<mode_t>("mode", 0, UINT32_MAX, "is outside 0..07777")) o.mode = *m;
  if (auto b = req.ApiInt<int>("backlog", INT_MIN, INT_MAX, "does not fit in an int")) {
    o.backlog = *b;
  }
  const std::optional<long long> before = observer_.OpenFds();
  Result<Listener> r = bind_unix_socket(sys_, o);
  const json delta = FdsDelta(before, observer_.OpenFds());
  if (!r.ok()) return Dump({{"ok", false}, {"error", ErrorJson(r.error())}, {"fds_delta", delta}});
  const long long id = next_id_++;
  json l = ListenerJson(observer_, id, r.value());
  listeners_.emplace(id, std::move(r).value());
  return Dump({{"ok", true}, {"listeners", json::array({std::move(l)})}, {"fds_delta", delta}});
}

namespace {

// A serve's reply lists at most this many peer addresses and exception
// texts: enough for a case to check, bounded for any number of connections.
constexpr size_t kMaxPeersReported = 16;
constexpr size_t kMaxThrownReported = 4;
// A serve's own bounds: one event and 2 s unless told otherwise
// (docs/ADAPTER.md); a request for more than these is refused.
constexpr long long kMaxServeEvents = 1000000;
constexpr long long kDefaultServeTimeoutMs = 2000;
constexpr long long kMaxServeTimeoutMs = 600000;

// The serve request's own limits (the rest are the API's AcceptOptions).
struct ServeLimits {
  long long max_events = 1;  // readiness events to wait for
  // serve_until: the serve also ends after the event in which this many
  // connections were accepted in all; 0: no such end.
  long long until_accepted = 0;
  long long timeout_ms = 0;  // in all, on the seam's clock
  long long remove_at = 0;   // the callback that removes the handler; 0: none
  long long throw_at = 0;    // the callback that throws; 0: none
  // With remove_at: that callback then adds a new handler for the listener and
  // removes the first handle again (ACCEPT-016: the second remove must not take
  // the new handler); the serve goes on with the new handle.
  bool remove_twice = false;
};

// What a serve saw.
struct ServeRecord {
  std::vector<long long> batches;          // callbacks per readiness event
  std::vector<long long> event_listeners;  // the listener id of each event, parallel
  long long in_event = 0;                  // callbacks so far in the event under way
  long long callbacks = 0;
  long long exceptions = 0;
  bool conn_nonblock = true;  // every connection so far
  bool conn_cloexec = true;
  json peers = json::array();                       // the first kMaxPeersReported
  std::vector<std::pair<Error, long long>> errors;  // by errno, in order of first report
  std::vector<std::string> thrown;                  // the first kMaxThrownReported
  bool timed_out = false;
  double elapsed_ms = 0;
  double cpu_ms = 0;
  // The handle's state when the serve ended.
  bool active = false;
  bool paused = false;
  AcceptStats stats;

  void AddConnection(Observer& observer, int fd, const SockAddr& peer) {
    ++in_event;
    ++callbacks;
    const std::optional<int> fl = observer.StatusFlags(fd);
    const std::optional<int> fdfl = observer.FdFlags(fd);
    conn_nonblock = conn_nonblock && fl && (*fl & O_NONBLOCK) != 0;
    conn_cloexec = conn_cloexec && fdfl && (*fdfl & FD_CLOEXEC) != 0;
    if (peers.size() < kMaxPeersReported) peers.push_back(peer.ToString());
  }

  void AddError(const Error& e) {
    for (auto& [seen, count] : errors) {
      if (seen.kind == e.kind && seen.code == e.code) {
        ++count;
        return;
      }
    }
    errors.emplace_back(e, 1);
  }
};

// Adds up the statistics of several handles (one per listener of a serve).
AcceptStats SumStats(const std::vector<AcceptHandle>& handles) {
  AcceptStats sum;
  for (const AcceptHandle& h : handles) {
    const AcceptStats s = h.stats();
    sum.events += s.events;
    sum.accepted += s.accepted;
    sum.skipped += s.skipped;
    sum.backoffs += s.backoffs;
    sum.accept_calls += s.accept_calls;
    sum.largest_batch = std::max(sum.largest_batch, s.largest_batch);
  }
  return sum;
}

// Whether the serve waits for another readiness event: it has fewer than its
// events, and (serve_until) fewer connections than it waits for.
bool WantsMore(const ServeLimits& limits, const ServeRecord& rec) {
  if (static_cast<long long>(rec.batches.size()) >= limits.max_events) return false;
  return limits.until_accepted == 0 || rec.callbacks < limits.until_accepted;
}

bool AnyActive(const std::vector<AcceptHandle>& handles) {
  for (const AcceptHandle& h : handles) {
    if (h.active()) return true;
  }
  return false;
}

// Runs the loop until `max_events` readiness events (over every handle), the
// removal of every handle, the timeout or a loop error (returned); then
// records the handles' state and removes them.
std::optional<Error> RunServeLoop(EpollLoop& loop, std::vector<AcceptHandle>& handles,
                                  const ServeLimits& limits, ServeRecord* rec) {
  // Time comes from the seam's clock, like the loop's timers: a scripted or
  // fuzzed Sys then decides how fast it passes, and a serve on it cannot hang.
  const auto start = loop.Now();
  const auto deadline = start + std::chrono::milliseconds(limits.timeout_ms);
  const double cpu_start = CpuMillis();
  std::optional<Error> loop_error;
  while (WantsMore(limits, *rec) && AnyActive(handles)) {
    const auto left = deadline - loop.Now();
    if (left <= std::chrono::nanoseconds::zero()) {
      rec->timed_out = true;
      break;
    }
    try {
      Result<int> r = loop.RunOnce(left);
      if (!r.ok()) {
        loop_error = r.error();
        break;
      }
    } catch (const std::exception& e) {  // a callback's exception reaches the loop
      ++rec->exceptions;
      if (rec->thrown.size() < kMaxThrownReported) rec->thrown.emplace_back(e.what());
    }
  }
  rec->elapsed_ms = std::chrono::duration<double, std::milli>(loop.Now() - start).count();
  rec->cpu_ms = CpuMillis() - cpu_start;
  // One handle: its state. Several: active while every one is, paused when any is.
  rec->active = true;
  rec->paused = false;
  for (const AcceptHandle& h : handles) {
    rec->active = rec->active && h.active();
    rec->paused = rec->paused || h.paused();
  }
  rec->stats = SumStats(handles);
  for (AcceptHandle& h : handles) h.remove();
  return loop_error;
}

json ServeReplyJson(const ServeRecord& rec, const EpollLoop& loop) {
  json errs = json::array();
  for (const auto& [e, count] : rec.errors) {
    errs.push_back({{"errno", ErrorCodeName(e)},
                    {"kind", e.KindName()},
                    {"step", e.step},
                    {"count", count},
                    {"message", e.message}});
  }
  const AcceptStats& stats = rec.stats;
  return {{"ok", true},
          {"events", rec.batches.size()},
          {"batches", rec.batches},
          {"event_listeners", rec.event_listeners},
          {"accepted", rec.callbacks},
          {"errors", std::move(errs)},
          {"timed_out", rec.timed_out},
          {"active", rec.active},
          {"paused", rec.paused},
          {"exceptions", rec.exceptions},
          {"thrown", rec.thrown},
          {"peers", rec.peers},
          {"conn", {{"nonblock", rec.conn_nonblock}, {"cloexec", rec.conn_cloexec}}},
          {"stats",
           {{"events", stats.events},
            {"accepted", stats.accepted},
            {"skipped", stats.skipped},
            {"backoffs", stats.backoffs},
            {"accept_calls", stats.accept_calls},
            {"largest_batch", stats.largest_batch}}},
          {"loop", {{"handlers", loop.handler_count()}, {"timers", loop.timer_count()}}},
          {"elapsed_ms", static_cast<long long>(rec.elapsed_ms)},
          {"cpu_ms", static_cast<long long>(rec.cpu_ms)}};
}

}  // namespace

// The listener ids a serve names: `listener` (one) or `listeners` (1 to
// kMaxServeListeners distinct ids), exactly one of the two, each one known.
std::vector<long long> AdapterSession::ServeListenerIds(const Request& req) const {
  const json* one = req.Get("listener");
  const json* many = req.Get("listeners");
  if ((one == nullptr) == (many == nullptr)) {
    throw ProtocolError{one ? "listeners" : "listener",
                        one ? "serve takes \"listener\" or \"listeners\", not both"
                            : "serve needs a \"listener\" id or a \"listeners\" array"};
  }
  auto known = [&](const json& v, const char* field) {
    if (!v.is_number_integer()) {
      throw ProtocolError{field, std::string(field) + " must hold integer ids, got " + TypeName(v)};
    }
    const bool fits = !v.is_number_unsigned() || v.get<uint64_t>() <= uint64_t{LLONG_MAX};
    if (!fits || listeners_.count(v.get<long long>()) == 0) {
      throw ProtocolError{field, "no listener with id " + v.dump()};
    }
    return v.get<long long>();
  };
  if (one != nullptr) {
    bool overflow = false;
    req.Int("listener", false, &overflow);  // the type check and its message
    if (overflow) throw ProtocolError{"listener", "no listener with id " + one->dump()};
    return {known(*one, "listener")};
  }
  if (!many->is_array() || many->empty() || many->size() > kMaxServeListeners) {
    throw ProtocolError{"listeners", "listeners must be an array of 1 to " +
                                         std::to_string(kMaxServeListeners) +
                                         " listener ids, got " +
                                         (many->is_array() ? std::to_string(many->size()) + " ids"
                                                           : std::string(TypeName(*many)))};
  }
  std::vector<long long> ids;
  for (const json& v : *many) {
    const long long id = known(v, "listeners");
    if (std::find(ids.begin(), ids.end(), id) != ids.end()) {
      throw ProtocolError{"listeners", "listener id " + v.dump() + " named twice"};
    }
    ids.push_back(id);
  }
  return ids;
}

std::string AdapterSession::Serve(const Request& req) {
  req.Allow({"listener", "listeners", "events", "timeout_ms", "until_accepted", "batch",
             "backoff_ms", "remove_at", "throw_at", "remove_twice"});
  const std::vector<long long> ids = ServeListenerIds(req);
  ServeLimits limits;
  limits.max_events = req.OwnInt("events", 1, 1, kMaxServeEvents);
  limits.timeout_ms = req.OwnInt("timeout_ms", kDefaultServeTimeoutMs, 0, kMaxServeTimeoutMs);
  limits.until_accepted = req.OwnInt("until_accepted", 0, 1, kMaxServeEvents);
  limits.remove_at = req.OwnInt("remove_at", 0, 0, LLONG_MAX);
  limits.throw_at = req.OwnInt("throw_at", 0, 0, LLONG_MAX);
  limits.remove_twice = req.Bool("remove_twice").value_or(false);
  AcceptOptions opts;
  if (auto b = req.ApiInt<int>("batch", INT_MIN, INT_MAX, "does not fit in an int")) {
    opts.batch = *b;
  }
  if (auto b = req.ApiInt<long long>("backoff_ms", LLONG_MIN / 1000000, LLONG_MAX / 1000000,
                                     "is outside the milliseconds the API can hold")) {
    opts.backoff = std::chrono::milliseconds(*b);
  }

  if (!loop_) {
    Result<std::unique_ptr<EpollLoop>> loop = EpollLoop::Create(sys_);
    if (!loop.ok()) return ErrorReply(loop.error());
    loop_ = std::move(loop).value();
  }

  // Declared before the loop wrapper and the handles, so both (whose handlers
  // point here) go first.
  ServeRecord rec;
  std::vector<AcceptHandle> handles(ids.size());
  std::map<int, long long> id_of_fd;
  for (long long id : ids) id_of_fd[listeners_.at(id).fd.get()] = id;
  // Each readiness event an accept handler gets is a batch: the callbacks
  // made during it, seen apart from the handlers' own statistics. Once the
  // serve has its events, further ones wait (level-triggered, they come back
  // at the next serve): one loop iteration may report several listeners.
  tools::ObservingLoop observed(
      *loop_, [&](int) { rec.in_event = 0; },
      [&](int fd) {
        rec.batches.push_back(rec.in_event);
        auto it = id_of_fd.find(fd);
        rec.event_listeners.push_back(it == id_of_fd.end() ? -1 : it->second);
      },
      [&](int) { return WantsMore(limits, rec); });
  std::vector<AcceptCallback> on_conn(ids.size());
  auto on_error = [&](const Error& e) { rec.AddError(e); };
  // remove_twice: a new handler for the same fd, then the first handle's second remove().
  auto add_again_remove_twice = [&](size_t k) {
    Result<AcceptHandle> again =
        add_accept_handler(observed, sys_, listeners_.at(ids[k]), on_conn[k], opts, on_error);
    if (!again.ok()) return rec.AddError(again.error());
    AcceptHandle first = std::exchange(handles[k], std::move(again).value());
    first.remove();
  };
  for (size_t k = 0; k < ids.size(); ++k) {
    on_conn[k] = [&, k](Fd conn, const SockAddr& peer) {
      rec.AddConnection(observer_, conn.get(), peer);
      if (rec.callbacks == limits.remove_at) {
        handles[k].remove();  // ACCEPT-003
        if (limits.remove_twice) add_again_remove_twice(k);
      }
      // ACCEPT-007; `conn` closes on unwind.
      if (rec.callbacks == limits.throw_at) throw CallbackThrew();
    };  // `conn` closes here: the adapter keeps no connection (ACCEPT-017)
  }
  // Every listener gets its own handler on the one loop, as a server that
  // listens on several ports does; a failure removes those added before it.
  for (size_t k = 0; k < ids.size(); ++k) {
    Result<AcceptHandle> added =
        add_accept_handler(observed, sys_, listeners_.at(ids[k]), on_conn[k], opts, on_error);
    if (!added.ok()) {
      for (AcceptHandle& h : handles) h.remove();
      return ErrorReply(added.error());
    }
    handles[k] = std::move(added).value();
  }
  if (std::optional<Error> loop_error = RunServeLoop(*loop_, handles, limits, &rec)) {
    return ErrorReply(*loop_error);
  }
  return Dump(ServeReplyJson(rec, *loop_));
}

std::string AdapterSession::OpenFds(const Request& req) {
  req.Allow({});
  std::optional<long long> n = observer_.OpenFds();
  if (!n) return ErrorReply(Error::Os(errno, "opendir", "/proc/self/fd"));
  return Dump({{"ok", true}, {"open_fds", *n}});
}

std::string AdapterSession::Umask(const Request& req) {
  req.Allow({});
  return Dump({{"ok", true}, {"umask", observer_.ReadUmask()}});
}

std::string AdapterSession::CloseAll(const Request& req) {
  req.Allow({});
  listeners_.clear();
  return Dump({{"ok", true}});
}

}  // namespace netutil::adapter
