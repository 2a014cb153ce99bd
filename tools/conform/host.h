// What netconform itself does on the host for a case, outside the
// implementation under test: open client connections, hold a port, lay out
// files, inspect a path. Loopback and the case's own temp dir only; counts are
// bounded. Each action returns a JSON result that a step can match and save.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "netutil/sock_addr.h"
#include "netutil/sys.h"

namespace netutil::conform::host {

// An fd netconform keeps for the rest of a case (a client, a held port, a
// listening unix socket); closed when the case ends.
class OwnedFd {
 public:
  explicit OwnedFd(int fd = -1) : fd_(fd) {}
  ~OwnedFd();
  OwnedFd(OwnedFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  OwnedFd& operator=(OwnedFd&& o) noexcept;
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

using Keep = std::vector<OwnedFd>;

// What the kernel under test offers for a case's "needs", probed once per run.
struct Probe {
  bool ipv6 = false;       // can listen on [::1]
  bool loopback2 = false;  // can listen on 127.0.0.2
};
// Tries each need through `sys` (socket, bind, listen, close).
Probe ProbeWith(Sys& sys);
// This machine's kernel, for the real-kernel modes. For tests of the skip
// logic only, NETCONFORM_HOST_PROBE="no-ipv6,no-loopback2" (either or both)
// makes the probe report those absent.
Probe ProbeHost();
// The fake kernel of --mode fake (KernelConfig::For(), as every fake case
// starts from): it has ::1 and 127.0.0.2 itself, so no host probe, and no
// NETCONFORM_HOST_PROBE, ever applies to it.
Probe ProbeFakeKernel();
// The probe for a run: the fake kernel's unless the target is the real kernel.
inline Probe ProbeFor(bool real_kernel) { return real_kernel ? ProbeHost() : ProbeFakeKernel(); }

// A spec's string field `key` / integer field in lo..hi (absent: `out` is
// kept); the error names the field and shows the spec.
std::optional<std::string> SpecString(const nlohmann::json& spec, const char* key,
                                      std::string* out);
std::optional<std::string> SpecInt(const nlohmann::json& spec, const char* key, long long lo,
                                   long long hi, long long* out);
// The address of a connect or hold spec: {"path": p} or {"host"/"address":
// ip, "port": n}; loopback only, so a case never reaches out of the machine.
std::optional<std::string> TargetAddress(const nlohmann::json& spec, SockAddr* addr);

// The largest "count" a connect step may ask for.
inline constexpr long long kMaxClients = 1000;

// The most names a check of a directory lists (`entries`); more end in "...".
inline constexpr size_t kMaxDirEntries = 64;

// {"host": "127.0.0.1", "port": P, "count": N} or {"path": "/x.sock", "count": N}:
// N non-blocking connects, then waits (3 s at most) until each is established
// or failed. -> {"connected": n, "failed": {"ECONNREFUSED": k, ...}}
// Established connections are kept in `keep`.
std::optional<std::string> Connect(const nlohmann::json& spec, Keep* keep, nlohmann::json* result);

// Where a case's own actions go. RealHost (below) acts on this machine;
// the fake-kernel target brings a Host acting on its FakeKernel. Each method
// returns the error that stops the step, or fills `result`.
class Host {
 public:
  virtual ~Host() = default;
  virtual std::optional<std::string> Connect(const nlohmann::json& spec,
                                             nlohmann::json* result) = 0;
  virtual std::optional<std::string> Hold(const nlohmann::json& spec, nlohmann::json* result) = 0;
  virtual std::optional<std::string> Make(const nlohmann::json& spec, nlohmann::json* result) = 0;
  virtual nlohmann::json Inspect(const std::string& path) = 0;
  // Lets `ms` pass (the fake kernel moves its clock instead of sleeping).
  virtual void Sleep(long long ms) = 0;
};

// The functions below, keeping what they open until the case ends. `make`
// and `check` act only beneath `root`, the case's temp dir (none without one).
class RealHost final : public Host {
 public:
  explicit RealHost(std::string root = {}) : root_(std::move(root)) {}
  std::optional<std::string> Connect(const nlohmann::json& spec, nlohmann::json* result) override;
  std::optional<std::string> Hold(const nlohmann::json& spec, nlohmann::json* result) override;
  std::optional<std::string> Make(const nlohmann::json& spec, nlohmann::json* result) override;
  nlohmann::json Inspect(const std::string& path) override;
  void Sleep(long long ms) override;

 private:
  std::string root_;
  Keep keep_;
};

// {"address": "127.0.0.1", "port": 0}: a listening TCP socket netconform holds,
// to make a port busy. -> {"port": P, "address": "127.0.0.1"}
std::optional<std::string> Hold(const nlohmann::json& spec, Keep* keep, nlohmann::json* result);

// {"path": p, "kind": "regular" | "dir" | "symlink" | "stale_socket" | "live_socket",
//  "content": "...", "target": "..."}: lays out a path; a live socket is kept
// listening in `keep`. -> {"made": p}. `p` must be beneath `root` (the case's
// temp dir), reached without following a symlink (confined_path.h).
std::optional<std::string> Make(const std::string& root, const nlohmann::json& spec, Keep* keep,
                                nlohmann::json* result);

// A path as lstat sees it: {"exists", "type": socket|regular|symlink|dir|other,
// "mode" (permission bits), "target" (symlink), "content" (regular, first 4 KiB),
// "connectable" (socket: a connect() succeeds or finds the backlog full)}.
// Beneath `root` only, as for Make: any other path, or one through a symlink,
// is {"exists": false, "errno": .., "refused": why}, and is not looked at.
nlohmann::json Inspect(const std::string& root, const std::string& path);

}  // namespace netutil::conform::host
