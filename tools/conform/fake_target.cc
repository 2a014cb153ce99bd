// The reference in-process on a fakes::FakeKernel (netconform run --mode fake):
// every syscall the implementation makes, and every action of the case's own
// (clients, held ports, files, the clock), goes to one FakeKernel made for the
// case. No real socket is opened, so a case is fast, repeatable and cannot
// collide with another; the same cases on the real kernel keep the fake honest.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <stdexcept>

#include "fd_exhaust.h"
#include "host.h"
#include "json_match.h"
#include "netutil/errno_name.h"
#include "netutil/fakes/fake_kernel.h"
#include "netutil/fakes/kernel_config.h"
#include "protocol.h"
#include "target.h"

namespace netutil::conform {
namespace {

using fakes::FakeKernel;

// What the adapter reads about "its process": the fake kernel's fd table.
class FakeObserver final : public adapter::Observer {
 public:
  explicit FakeObserver(FakeKernel& k) : kernel_(k) {}

  std::optional<int> SockOpt(int fd, int level, int name) override {
    std::optional<FakeKernel::SocketInfo> s = kernel_.socket_info(fd);
    if (!s) return std::nullopt;
    if (level == SOL_SOCKET && name == SO_TYPE) return s->type;
    if (level == SOL_SOCKET && name == SO_ACCEPTCONN) {
      return s->state == FakeKernel::SocketState::kListening ? 1 : 0;
    }
    if (level == SOL_SOCKET && name == SO_REUSEADDR) return s->reuseaddr ? 1 : 0;
    if (level == SOL_SOCKET && name == SO_REUSEPORT) return s->reuseport ? 1 : 0;
    if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY) return s->v6only ? 1 : 0;
    return std::nullopt;
  }
  std::optional<int> StatusFlags(int fd) override {
    std::optional<FakeKernel::SocketInfo> s = kernel_.socket_info(fd);
    if (!s) return std::nullopt;
    return O_RDWR | (s->nonblock ? O_NONBLOCK : 0);
  }
  std::optional<int> FdFlags(int fd) override {
    std::optional<FakeKernel::SocketInfo> s = kernel_.socket_info(fd);
    if (!s) return std::nullopt;
    return s->cloexec ? FD_CLOEXEC : 0;
  }
  std::optional<long long> OpenFds() override { return static_cast<long long>(kernel_.fd_count()); }
  mode_t ReadUmask() override { return kernel_.fs().umask(); }

 private:
  FakeKernel& kernel_;
};

const char* NodeTypeName(fakes::FakeFs::Type t) {
  switch (t) {
    case fakes::FakeFs::Type::kDir:
      return "dir";
    case fakes::FakeFs::Type::kFile:
      return "regular";
    case fakes::FakeFs::Type::kSocket:
      return "socket";
    case fakes::FakeFs::Type::kSymlink:
      return "symlink";
  }
  return "other";
}

// The case's own actions, on the fake kernel: clients and held ports are
// sockets of "another process" (they use no fd of the implementation's).
class FakeHost final : public host::Host {
 public:
  explicit FakeHost(FakeKernel& k) : kernel_(k) {}

  std::optional<std::string> Connect(const json& spec, json* result) override {
    SockAddr addr;
    if (auto e = host::TargetAddress(spec, &addr)) return e;
    long long count = 1;
    if (auto e = host::SpecInt(spec, "count", 1, host::kMaxClients, &count)) return e;
    long long connected = 0;
    std::map<std::string, long long> failed;
    for (long long i = 0; i < count; ++i) {
      SysResult<uint64_t> r = kernel_.ConnectTo(addr);
      if (r.ok()) {
        ++connected;
      } else if (r.err == EAGAIN && addr.family() != AF_UNIX) {
        // TCP drops the SYN of a full queue; the real host's client gives up
        // after its 3 s wait and counts it so.
        ++failed["ETIMEDOUT"];
      } else {
        ++failed[ErrnoName(r.err)];
      }
    }
    *result = {{"connected", connected}, {"failed", failed}};
    return std::nullopt;
  }

  std::optional<std::string> Hold(const json& spec, json* result) override {
    SockAddr addr;
    if (auto e = host::TargetAddress(spec, &addr)) return e;
    FakeKernel::ForeignOptions o;
    if (addr.family() == AF_INET6) o.v6only = true;  // as the real host holds it
    o.backlog = 16;
    const size_t handed = kernel_.ports_handed_out().size();
    SysResult<uint64_t> r = kernel_.ForeignBind(addr, o);
    if (!r.ok()) return "bind " + addr.ToString() + ": " + ErrnoName(r.err);
    const uint16_t port = addr.port() != 0 || kernel_.ports_handed_out().size() == handed
                              ? addr.port()
                              : kernel_.ports_handed_out().back();
    *result = {{"port", port}, {"address", addr.host()}};
    return std::nullopt;
  }

  std::optional<std::string> Make(const json& spec, json* result) override {
    std::string path;
    std::string kind;
    if (auto e = host::SpecString(spec, "path", &path)) return e;
    if (auto e = host::SpecString(spec, "kind", &kind)) return e;
    try {
      if (kind == "regular") {
        std::string content;
        if (spec.contains("content")) {
          if (auto e = host::SpecString(spec, "content", &content)) return e;
        }
        if (kernel_.fs().Find(path) != nullptr) return "open " + path + ": EEXIST";
        kernel_.fs().MakeFile(path);
        contents_[kernel_.fs().Find(path)->ino] = content;
      } else if (kind == "dir") {
        if (kernel_.fs().Find(path) != nullptr) return "mkdir " + path + ": EEXIST";
        kernel_.fs().MakeDirs(path);
      } else if (kind == "symlink") {
        std::string target;
        if (auto e = host::SpecString(spec, "target", &target)) return e;
        if (kernel_.fs().Find(path) != nullptr) return "symlink " + path + ": EEXIST";
        kernel_.fs().MakeSymlink(path, target);
      } else if (kind == "stale_socket") {
        // Bound by a process that is gone: the file stays, nothing listens.
        if (int err = kernel_.fs().MakeSocket(path, 0777 & ~kernel_.fs().umask(), 0); err != 0) {
          return "bind " + path + ": " + ErrnoName(err);
        }
      } else if (kind == "live_socket") {
        std::optional<SockAddr> addr = SockAddr::Unix(path);
        if (!addr) return "unix path too long: " + path;
        FakeKernel::ForeignOptions o;
        o.backlog = 16;
        SysResult<uint64_t> r = kernel_.ForeignBind(*addr, o);
        if (!r.ok()) return "bind " + path + ": " + ErrnoName(r.err);
      } else {
        return "unknown kind \"" + kind + "\" (regular, dir, symlink, stale_socket, live_socket)";
      }
    } catch (const std::invalid_argument& e) {
      return "make " + path + ": " + e.what();
    }
    *result = {{"made", path}};
    return std::nullopt;
  }

  json Inspect(const std::string& path) override {
    SysResult<FileStat> st = kernel_.fs().Lstat(path);
    const fakes::FakeFs::Node* node = kernel_.fs().Find(path);
    if (!st.ok() || node == nullptr) {
      return {{"exists", false}, {"errno", ErrnoName(st.ok() ? ENOENT : st.err)}};
    }
    json out = {{"exists", true},
                {"type", NodeTypeName(node->type)},
                {"mode", static_cast<unsigned>(node->perm & 07777)}};
    if (node->type == fakes::FakeFs::Type::kSymlink) {
      out["target"] = node->target;
    } else if (node->type == fakes::FakeFs::Type::kFile) {
      // By inode, as on a real filesystem: a file renamed keeps its content
      // (a swap's rename), one made anew in its place has none. The fake
      // filesystem never reuses an inode number.
      auto it = contents_.find(node->ino);
      out["content"] = it != contents_.end() ? it->second : std::string();
    } else if (node->type == fakes::FakeFs::Type::kSocket) {
      std::optional<SockAddr> addr = SockAddr::Unix(path);
      out["connectable"] = addr && kernel_.Listens(*addr);
    } else if (node->type == fakes::FakeFs::Type::kDir) {
      out["entries"] = Entries(path);
    }
    return out;
  }

  void Sleep(long long ms) override { kernel_.Advance(std::chrono::milliseconds(ms)); }

 private:
  // As host.cc's DirEntries: the names right under `dir`, sorted (the node
  // map is), at most kMaxDirEntries and "..." after.
  json Entries(const std::string& dir) const {
    const std::optional<std::string> canonical = fakes::FakeFs::Normalize(dir);
    json out = json::array();
    if (!canonical) return out;
    const std::string prefix = *canonical == "/" ? "/" : *canonical + "/";
    for (const auto& [p, node] : kernel_.fs().nodes()) {
      if (p.size() <= prefix.size() || p.compare(0, prefix.size(), prefix) != 0) continue;
      if (p.find('/', prefix.size()) != std::string::npos) continue;
      if (out.size() == host::kMaxDirEntries) {
        out.push_back("...");
        break;
      }
      out.push_back(p.substr(prefix.size()));
    }
    return out;
  }

  FakeKernel& kernel_;
  std::map<uint64_t, std::string> contents_;  // inode -> what `make` wrote
};

// The fake kernel's fd table for exhaust_fds (fd_exhaust.h): its fd_limit is
// the soft limit, and a later restore runs on its clock.
class FakeFdTable final : public FdTable {
 public:
  explicit FakeFdTable(FakeKernel& k) : kernel_(k) {}

  std::optional<std::vector<int>> OpenFds(std::string*) override {
    std::vector<int> fds = {0, 1, 2};  // stdio: the fake kernel never hands them out
    for (int fd : kernel_.open_fds()) fds.push_back(fd);
    return fds;
  }
  std::optional<std::pair<long long, long long>> Limits(std::string*) override {
    return std::make_pair(static_cast<long long>(kernel_.config().fd_limit), kFakeHardLimit);
  }
  std::optional<std::string> SetSoftLimit(long long soft) override {
    kernel_.set_fd_limit(static_cast<int>(std::min(soft, kFakeHardLimit)));
    return std::nullopt;
  }
  bool ScheduleOnClock(std::chrono::milliseconds delay, std::function<void()> fn) override {
    kernel_.At(kernel_.model().monotonic_now() + delay, std::move(fn));
    return true;
  }

 private:
  static constexpr long long kFakeHardLimit = 1 << 20;  // Linux's fs.nr_open
  FakeKernel& kernel_;
};

fakes::KernelConfig ConfigFor(const Environment& env) {
  fakes::KernelConfig c = fakes::KernelConfig::For();
  for (const auto& [host, entry] : env.resolver.hosts()) {
    if (entry.gai_err != 0) {
      c.resolver.Fail(host, entry.gai_err, entry.sys_err);
    } else {
      c.resolver.Set(host, entry.addrs);
    }
  }
  c.ipv6_supported = !env.ipv6_missing;
  if (env.ipv6_partial) c.ipv6_addrs.clear();  // IPv6 on, no ::1
  if (env.fd_limit) c.fd_limit = *env.fd_limit;
  if (env.port_range) {
    c.port_low = static_cast<uint16_t>(env.port_range->first);
    c.port_high = static_cast<uint16_t>(env.port_range->second);
  }
  return c;
}

class FakeSession final : public Session {
 public:
  FakeSession(const std::string& scratch_dir, const Environment& env)
      : kernel_(ConfigFor(env)),
        instrument_(kernel_.faults(), kernel_.trace()),
        observer_(kernel_),
        host_(kernel_),
        session_(kernel_, observer_) {
    kernel_.fs().MakeDirs(scratch_dir);  // ${TMP}: the case's paths live there
    kernel_.faults().Reset(env.faults, fakes::ErrnoCheck::kAny);
  }

  Exchange Send(const json& request, std::chrono::milliseconds) override {
    // Through text, as on the wire: the same parser as every other mode.
    return ReplyOrFailure(
        session_.Handle(request.dump(-1, ' ', false, json::error_handler_t::replace)));
  }
  Instrument* instrument() override { return &instrument_; }
  host::Host* host() override { return &host_; }
  std::unique_ptr<FdTable> fd_table() override { return std::make_unique<FakeFdTable>(kernel_); }

 private:
  FakeKernel kernel_;
  InjectingInstrument instrument_;
  FakeObserver observer_;
  FakeHost host_;
  adapter::AdapterSession session_;
};

class FakeKernelTarget final : public Target {
 public:
  std::string Describe() const override { return "reference (in-process, fake kernel)"; }
  bool CanInject() const override { return true; }
  bool RealKernel() const override { return false; }
  bool InProcess() const override { return true; }
  std::unique_ptr<Session> Open(const std::string& scratch_dir, const Environment& env,
                                std::string*) override {
    return std::make_unique<FakeSession>(scratch_dir, env);
  }
};

}  // namespace

std::unique_ptr<Target> MakeFakeKernelTarget() { return std::make_unique<FakeKernelTarget>(); }

}  // namespace netutil::conform
