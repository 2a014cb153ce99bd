// accept_drain_fuzzer's input and body, shared with the corpus recorder.
//
// Input: the drive (DecodeAcceptDrain: batch, back-off, when the callback
// removes the handler, one timeout per loop round), then FuzzedSys's answers
// (readiness, every accept4 answer, the clock). The encoder sits beside the
// decoder, and the body is the same code for the fuzzer and the recorder.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>
#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "fdp_writer.h"
#include "fuzzed_sys.h"
#include "netutil/accept_handler.h"
#include "netutil/epoll_loop.h"
#include "netutil/fakes/forwarding_sys.h"

namespace netutil::fuzz {

struct AcceptDrainInput {
  int batch = 128;
  int backoff_ms = 0;
  int remove_after = -1;               // the callback removes the handler at this call; -1: never
  std::vector<int> round_timeouts_ms;  // one RunOnce per entry (1..40 of them)
};

inline constexpr int kMaxAcceptRounds = 40;

inline AcceptDrainInput DecodeAcceptDrain(FuzzedDataProvider& in) {
  AcceptDrainInput d;
  d.batch = in.ConsumeIntegralInRange(1, 300);
  d.backoff_ms = in.ConsumeIntegralInRange(0, 2000);
  d.remove_after = in.ConsumeIntegralInRange(-1, 400);
  d.round_timeouts_ms.resize(static_cast<size_t>(in.ConsumeIntegralInRange(1, kMaxAcceptRounds)));
  for (int& t : d.round_timeouts_ms) t = in.ConsumeIntegralInRange(0, 3000);
  return d;
}

// Writes what DecodeAcceptDrain reads back as `d`; false when `d` is outside
// what the decoder can pick.
inline bool EncodeAcceptDrain(const AcceptDrainInput& d, FdpWriter& out) {
  const int rounds = static_cast<int>(d.round_timeouts_ms.size());
  if (d.batch < 1 || d.batch > 300 || d.backoff_ms < 0 || d.backoff_ms > 2000 ||
      d.remove_after < -1 || d.remove_after > 400 || rounds < 1 || rounds > kMaxAcceptRounds) {
    return false;
  }
  out.IntInRange(d.batch, 1, 300);
  out.IntInRange(d.backoff_ms, 0, 2000);
  out.IntInRange(d.remove_after, -1, 400);
  out.IntInRange(rounds, 1, kMaxAcceptRounds);
  for (int t : d.round_timeouts_ms) {
    if (t < 0 || t > 3000) return false;
    out.IntInRange(t, 0, 3000);
  }
  return true;
}

namespace accept_drain {

// Watches accept4 from the inside: wraps FuzzedSys so the oracle sees every
// answer the handler got, in order. Harness code on every syscall, so left
// out of coverage (NETUTIL_FUZZ_HARNESS).
class ObservedSys final : public fakes::ForwardingSys {
 public:
  explicit ObservedSys(FuzzedSys& inner) : ForwardingSys(inner), in_(inner) {}
  int accepted_in_round = 0;  // successful accept4 since the last epoll_wait
  int slots_in_round = 0;     // accept4 calls that used a batch slot
  int backoff_errors = 0;     // EMFILE & co returned
  int fatal_errors = 0;       // errors that must remove the handler
  bool fatal_seen = false;
  bool accept_after_fatal = false;
  std::chrono::nanoseconds paused_until{-1};
  bool accept_while_paused = false;
  std::chrono::nanoseconds backoff{0};

  NETUTIL_FUZZ_HARNESS SysInt accept4(int fd, SockAddr* peer, int flags) override {
    Check(flags == (SOCK_NONBLOCK | SOCK_CLOEXEC), "accept4 without NONBLOCK|CLOEXEC");
    if (fatal_seen) accept_after_fatal = true;
    if (in_.now() < paused_until) accept_while_paused = true;
    auto r = ForwardingSys::accept4(fd, peer, flags);
    if (r.ok()) {
      ++accepted_in_round;
      ++slots_in_round;
      return r;
    }
    switch (ClassifyAcceptError(r.err)) {
      case AcceptErrorClass::kRetry:
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
  NETUTIL_FUZZ_HARNESS SysInt epoll_wait(int ep, EpollEvent* ev, int max, int t) override {
    accepted_in_round = 0;
    slots_in_round = 0;
    return ForwardingSys::epoll_wait(ep, ev, max, t);
  }

 private:
  FuzzedSys& in_;  // for its clock (now())
};

}  // namespace accept_drain

// The accept handler on an EpollLoop, both on `fuzzed`; the oracle is the
// drain model of the spec. Aborts when it fails.
inline void RunAcceptDrain(FuzzedSys& fuzzed, const AcceptDrainInput& d) {
  accept_drain::ObservedSys sys(fuzzed);
  AcceptOptions options;
  options.batch = d.batch;
  options.backoff = std::chrono::milliseconds(d.backoff_ms);
  sys.backoff = options.backoff;
  {
    fuzzed.set_setup(true);
    auto loop_or = EpollLoop::Create(sys);
    const int lfd = sys.socket(AF_INET, SOCK_STREAM, 0).value;
    (void)sys.listen(lfd, 128);
    Listener listener{Fd(sys, lfd), *SockAddr::FromIp("0.0.0.0", 80)};
    fuzzed.set_setup(false);
    auto& loop = *loop_or.value();

    int callbacks = 0;
    int reports = 0;
    AcceptHandle* handle_ptr = nullptr;
    auto h = add_accept_handler(
        loop, sys, listener,
        [&](Fd conn, const SockAddr&) {
          Check(conn.valid(), "callback got no fd");
          ++callbacks;
          if (callbacks == d.remove_after && handle_ptr != nullptr) handle_ptr->remove();
        },
        options,
        [&](const Error& e) {
          // A failing epoll_ctl is reported too; count what accept4 said.
          if (e.step == "accept4") ++reports;
        });
    if (!h.ok()) {
      Check(fuzzed.open_fd_count() == 2, "failed registration leaked");
    } else {
      handle_ptr = &h.value();
      for (int timeout_ms : d.round_timeouts_ms) {
        (void)loop.RunOnce(std::chrono::milliseconds(timeout_ms));
        // ACCEPT-002: never more than a batch of connections per event (one
        // event per round here: the listener is the only fd).
        Check(sys.accepted_in_round <= options.batch, "batch over the limit");
        Check(sys.slots_in_round <= options.batch, "more slots than the batch");
        // ACCEPT-017: the callback kept nothing, so only listener and epoll are open.
        Check(fuzzed.open_fd_count() == 2, "accepted connection leaked");
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
  Check(fuzzed.open_fd_count() == 0, "fds open at the end");
  AbortOnViolations(fuzzed, "accept_drain_fuzzer");
}

}  // namespace netutil::fuzz
