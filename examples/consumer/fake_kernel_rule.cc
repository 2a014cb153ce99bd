// BIND-018 (docs/SPEC.md) on the installed fake kernel: when bind_sockets
// fails after opening a socket (the IPv6 bind refused by a fault plan, the
// IPv4 listener already made), every socket it opened is closed again.
#include <netutil/bind_sockets.h>
#include <netutil/fakes/fake_kernel.h>
#include <netutil/fakes/fault_plan.h>

#include <cerrno>
#include <cstdio>

int main() {
  netutil::fakes::FakeKernel kernel;
  auto parsed = netutil::fakes::FaultPlan::Parse("bind family=inet6 = EADDRINUSE\n");
  if (!parsed.ok()) {
    std::fprintf(stderr, "fake_kernel_rule: the fault plan does not parse\n");
    return 1;
  }
  kernel.SetFaultPlan(*parsed.plan);

  netutil::BindOptions options;
  options.port = 8888;  // every interface: an IPv4 and an IPv6 listener
  auto listeners = netutil::bind_sockets(kernel, options);
  if (listeners.ok()) {
    std::fprintf(stderr, "fake_kernel_rule: bind_sockets succeeded despite the fault\n");
    return 1;
  }
  if (listeners.error().code != EADDRINUSE) {
    std::fprintf(stderr, "fake_kernel_rule: expected EADDRINUSE, got %d (%s)\n",
                 listeners.error().code, listeners.error().message.c_str());
    return 1;
  }
  if (kernel.fd_count() != 0) {
    std::fprintf(stderr, "fake_kernel_rule: BIND-018: %zu fds left open\n", kernel.fd_count());
    return 1;
  }
  std::printf("fake_kernel_rule: BIND-018 holds: %s, no fd left open\n",
              listeners.error().message.c_str());
  return 0;
}
