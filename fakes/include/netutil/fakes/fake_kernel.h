// The fake kernel tests run the reference on: a KernelModel (kernel_model.h,
// what the kernel does) behind an InjectingSys (injecting_sys.h, the fault
// plan and the trace), plus the test-control API. Every Sys call goes through
// the FaultPlan (fault_plan.h) first and is recorded in the Trace (trace.h),
// which a failing test prints.
//
//   FakeKernel kernel;                            // Linux, dual-stack loopback
//   kernel.SetFaultPlan(Plan("bind family=inet6 = EADDRINUSE"));
//   auto r = bind_sockets(kernel, {.port = 0});
//   EXPECT_TRUE(r.ok()) << kernel.trace();
//
// It holds no behaviour of its own: as a Sys it is a ForwardingSys over its
// InjectingSys; the host, other processes, inspection and the clock are the
// model's, reached through model() or the short names below.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "netutil/fakes/fault_plan.h"
#include "netutil/fakes/forwarding_sys.h"
#include "netutil/fakes/injecting_sys.h"
#include "netutil/fakes/kernel_config.h"
#include "netutil/fakes/kernel_model.h"
#include "netutil/fakes/trace.h"

namespace netutil::fakes {

class FakeKernel final : public ForwardingSys {
 public:
  explicit FakeKernel(KernelConfig config = KernelConfig::For());
  FakeKernel(const FakeKernel&) = delete;
  FakeKernel& operator=(const FakeKernel&) = delete;

  // The model behind the faults: its calls are neither faulted nor traced.
  KernelModel& model() { return model_; }
  const KernelModel& model() const { return model_; }

  // --- Faults and trace -----------------------------------------------------
  // Replaces the plan; counts restart.
  void SetFaultPlan(FaultPlan plan) { front_.faults().Reset(std::move(plan)); }
  FaultInjector& faults() { return front_.faults(); }
  // Who does the plan's "after ... swap" rules: by default this kernel's
  // files (FakeFs::Swap); a test may observe or replace it.
  void set_swapper(InjectingSys::Swapper s) { front_.set_swapper(std::move(s)); }
  Trace& trace() { return front_.trace(); }
  const Trace& trace() const { return front_.trace(); }

  // --- The model's test control, by its short names (kernel_model.h) --------
  using SocketState = KernelModel::SocketState;
  using SocketInfo = KernelModel::SocketInfo;
  using ForeignOptions = KernelModel::ForeignOptions;

  const KernelConfig& config() const { return model_.config(); }
  ResolverTable& resolver() { return model_.resolver(); }
  FakeFs& fs() { return model_.fs(); }
  const FakeFs& fs() const { return model_.fs(); }
  void set_fd_limit(int limit) { model_.set_fd_limit(limit); }
  void set_system_fds_in_use(int n) { model_.set_system_fds_in_use(n); }
  void set_ipv6_supported(bool on) { model_.set_ipv6_supported(on); }

  SysResult<uint64_t> ForeignBind(const SockAddr& addr, ForeignOptions options = {}) {
    return model_.ForeignBind(addr, options);
  }
  void ForeignClose(uint64_t id) { model_.ForeignClose(id); }
  SysResult<uint64_t> ConnectTo(const SockAddr& addr) { return model_.ConnectTo(addr); }
  bool AbortConnection(uint64_t connection_id) { return model_.AbortConnection(connection_id); }

  std::optional<SocketInfo> socket_info(int fd) const { return model_.socket_info(fd); }
  std::vector<int> open_fds() const { return model_.open_fds(); }
  size_t fd_count() const { return model_.fd_count(); }
  bool is_epoll(int fd) const { return model_.is_epoll(fd); }
  uint32_t Readiness(int fd) const { return model_.Readiness(fd); }
  const std::vector<uint16_t>& ports_handed_out() const { return model_.ports_handed_out(); }
  bool Listens(const SockAddr& unix_addr) const { return model_.Listens(unix_addr); }
  std::string DescribeFds() const { return model_.DescribeFds(); }

  void Advance(std::chrono::nanoseconds d) { model_.Advance(d); }
  void At(std::chrono::nanoseconds when, std::function<void()> fn) {
    model_.At(when, std::move(fn));
  }

 private:
  KernelModel model_;
  InjectingSys front_;
};

}  // namespace netutil::fakes
