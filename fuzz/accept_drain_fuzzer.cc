// The accept handler on an EpollLoop, both on a FuzzedSys: readiness, every
// accept4 answer (EAGAIN, ECONNABORTED, EMFILE, EINTR, fatal errors), the
// clock, the batch size and removal from the callback come from the input.
// The oracle is the drain model of the spec.
#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <string>

#include "fuzzed_sys.h"
#include "netutil/accept_handler.h"
#include "netutil/epoll_loop.h"
#include "netutil/fakes/forwarding_sys.h"

using namespace std::chrono_literals;
using netutil::AcceptErrorClass;
using netutil::fuzz::Check;
using netutil::fuzz::FuzzedSys;

namespace {

// Watches accept4 from the inside: wraps FuzzedSys so the oracle sees every
// answer the handler got, in order.
class ObservedSys final : public netutil::fakes::ForwardingSys {
 public:
  explicit ObservedSys(FuzzedSys& inner) : ForwardingSys(inner), in_(inner) {}
  int accepted_in_round = 0;      // successful accept4 since the last epoll_wait
  int slots_in_round = 0;         // accept4 calls that used a batch slot
  int backoff_errors = 0;         // EMFILE & co returned
  int fatal_errors = 0;           // errors that must remove the handler
  bool fatal_seen = false;
  bool accept_after_fatal = false;
  std::chrono::nanoseconds paused_until{-1};
  bool accept_while_paused = false;

  netutil::SysInt accept4(int fd, netutil::SockAddr* peer, int flags) override {
    Check(flags == (SOCK_NONBLOCK | SOCK_CLOEXEC), "accept4 without NONBLOCK|CLOEXEC");
    if (fatal_seen) accept_after_fatal = true;
    if (in_.now() < paused_until) accept_while_paused = true;
    auto r = ForwardingSys::accept4(fd, peer, flags);
    if (r.ok()) {
      ++accepted_in_round;
      ++slots_in_round;
      return r;
    }
    switch (netutil::ClassifyAcceptError(r.err)) {
      case AcceptErrorClass::kRetry:
        break;
      case AcceptErrorClass::kEndBatch:
        break;
      case AcceptErrorClass::kSkip:
        ++slots_in_round;
        break;
      case AcceptErrorClass::kBackoff:
        ++backoff_errors;
        paused_until = in_.now() + backoff;
        break;
      case AcceptErrorClass::kFatal:
        ++fatal_errors;
        fatal_seen = true;
        break;
    }
    return r;
  }
  netutil::SysInt epoll_wait(int ep, netutil::EpollEvent* ev, int max, int t) override {
    accepted_in_round = 0;
    slots_in_round = 0;
    return ForwardingSys::epoll_wait(ep, ev, max, t);
  }

  std::chrono::nanoseconds backoff{0};

 private:
  FuzzedSys& in_;  // for its clock (now())
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  FuzzedSys fuzzed(in);
  ObservedSys sys(fuzzed);

  netutil::AcceptOptions options;
  options.batch = in.ConsumeIntegralInRange(1, 300);
  options.backoff = std::chrono::milliseconds(in.ConsumeIntegralInRange(0, 2000));
  sys.backoff = options.backoff;
  const int remove_after = in.ConsumeIntegralInRange(-1, 400);  // -1: never
  const int rounds = in.ConsumeIntegralInRange(1, 40);

  {
    fuzzed.set_setup(true);
    auto loop_or = netutil::EpollLoop::Create(sys);
    const int lfd = sys.socket(AF_INET, SOCK_STREAM, 0).value;
    (void)sys.listen(lfd, 128);
    netutil::Listener listener{netutil::Fd(sys, lfd), *netutil::SockAddr::FromIp("0.0.0.0", 80)};
    fuzzed.set_setup(false);
    auto& loop = *loop_or.value();

    int callbacks = 0;
    int reports = 0;
    netutil::AcceptHandle* handle_ptr = nullptr;
    auto h = netutil::add_accept_handler(
        loop, sys, listener,
        [&](netutil::Fd conn, const netutil::SockAddr&) {
          Check(conn.valid(), "callback got no fd");
          ++callbacks;
          if (callbacks == remove_after && handle_ptr != nullptr) handle_ptr->remove();
        },
        options, [&](const netutil::Error& e) {
          // A failing epoll_ctl is reported too; count what accept4 said.
          if (e.step == "accept4") ++reports;
        });
    if (!h.ok()) {
      Check(fuzzed.open_fds().size() == 2, "failed registration leaked");
    } else {
      handle_ptr = &h.value();
      for (int i = 0; i < rounds; ++i) {
        (void)loop.RunOnce(std::chrono::milliseconds(in.ConsumeIntegralInRange(0, 3000)));
        // ACCEPT-002: never more than a batch of connections per event (one
        // event per round here: the listener is the only fd).
        Check(sys.accepted_in_round <= options.batch, "batch over the limit");
        Check(sys.slots_in_round <= options.batch, "more slots than the batch");
        // ACCEPT-017: the callback kept nothing, so only listener and epoll are open.
        Check(fuzzed.open_fds().size() == 2, "accepted connection leaked");
      }
      // ACCEPT-011: no accept while backing off; ACCEPT-014: none after a fatal error.
      Check(!sys.accept_while_paused, "accept4 during a back-off");
      Check(!sys.accept_after_fatal, "accept4 after a fatal error");
      Check(sys.fatal_errors <= 1, "more than one fatal error");
      if (sys.fatal_errors == 1) Check(!h.value().active(), "fatal error left handler active");
      // ACCEPT-012: each back-off and the fatal error reported exactly once.
      Check(reports == sys.backoff_errors + sys.fatal_errors, "reports != back-offs + fatal");
      Check(h.value().stats().accepted == callbacks, "stats.accepted != callbacks");
      h.value().remove();
      h.value().remove();  // ACCEPT-016: idempotent
      Check(fuzzed.epoll_mask(lfd) == 0 && loop.timer_count() == 0,
            "remove() left the handler or its timer");
    }
  }
  Check(fuzzed.open_fds().empty(), "fds open at the end");
  netutil::fuzz::AbortOnViolations(fuzzed, "accept_drain_fuzzer");
  return 0;
}
