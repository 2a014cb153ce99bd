// EpollLoop over the fake kernel's epoll and clock: timers run no sooner than
// their delay, once, in deadline order, and never after a cancel (LOOP-002);
// EINTR from epoll_wait is an empty iteration (LOOP-003); a handler removed
// during an iteration is not called again, even later in it (LOOP-004).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <memory>
#include <set>

#include "generators.h"
#include "netutil/epoll_loop.h"
#include "netutil/fakes/fake_kernel.h"
#include "prop_support.h"

namespace netutil::property {
namespace {

using fakes::FakeKernel;
using std::chrono::nanoseconds;

RC_GTEST_PROP(EventLoop, LOOP_002_TimersRunOnceInDeadlineOrderNoSooner, ()) {
  FakeKernel kernel;
  auto created = EpollLoop::Create(kernel);
  RC_ASSERT(created.ok());
  EpollLoop& loop = *created.value();
  const int n = *rc::gen::inRange(1, 30);
  struct Timer {
    nanoseconds due;
    IoLoop::TimerId id = 0;
    bool cancelled = false;
    int runs = 0;
    nanoseconds ran_at{0};
  };
  std::vector<Timer> timers(static_cast<size_t>(n));
  std::vector<int> order;
  for (int i = 0; i < n; ++i) {
    const nanoseconds delay(*rc::gen::inRange<long long>(0, 50'000'000));
    Timer& t = timers[static_cast<size_t>(i)];
    t.due = loop.Now() + delay;
    t.id = loop.CallLater(delay, [&, i] {
      Timer& me = timers[static_cast<size_t>(i)];
      ++me.runs;
      me.ran_at = loop.Now();
      order.push_back(i);
      // A timer may cancel another: that one must then never run.
      if (i % 3 == 0 && i + 1 < n) {
        loop.CancelTimer(timers[static_cast<size_t>(i + 1)].id);
        if (timers[static_cast<size_t>(i + 1)].runs == 0)
          timers[static_cast<size_t>(i + 1)].cancelled = true;
      }
    });
  }
  for (auto& t : timers) {
    if (*rc::gen::inRange(0, 4) == 0) {
      loop.CancelTimer(t.id);
      t.cancelled = true;
    }
  }
  for (int round = 0; loop.timer_count() > 0; ++round) {
    RC_ASSERT(round < 200);
    RC_ASSERT(loop.RunOnce(nanoseconds(-1)).ok());
  }
  for (const auto& t : timers) {
    RC_ASSERT(t.runs == (t.cancelled ? 0 : 1));
    if (t.runs == 1) RC_ASSERT(t.ran_at >= t.due);
  }
  for (size_t k = 1; k < order.size(); ++k) {
    const Timer& a = timers[static_cast<size_t>(order[k - 1])];
    const Timer& b = timers[static_cast<size_t>(order[k])];
    RC_ASSERT(a.due < b.due || (a.due == b.due && order[k - 1] < order[k]));
  }
}

// A listener with clients waiting stays readable (nobody accepts here).
std::vector<Listener> ReadableListeners(FakeKernel& kernel, int n) {
  std::vector<Listener> out;
  for (int i = 0; i < n; ++i) {
    auto r = bind_sockets(
        kernel, BindOptions{.port = 0, .address = "127.0.0.1", .platform = Platform::Linux()});
    RC_ASSERT(r.ok());
    RC_ASSERT(kernel.ConnectTo(r.value()[0].addr).ok());
    out.push_back(std::move(r.value()[0]));
  }
  return out;
}

RC_GTEST_PROP(EventLoop, LOOP_003_EintrFromEpollWaitIsAnEmptyIteration, ()) {
  FakeKernel kernel;
  auto listeners = ReadableListeners(kernel, 1);
  auto created = EpollLoop::Create(kernel);
  RC_ASSERT(created.ok());
  EpollLoop& loop = *created.value();
  int calls = 0;
  RC_ASSERT(
      loop.AddHandler(listeners[0].fd.get(), IoLoop::kRead, [&](int, uint32_t) { ++calls; }).ok());
  const int eintrs = *rc::gen::inRange(1, 20);
  kernel.SetFaultPlan(
      fakes::FaultPlan({fakes::FaultRule::Fail(fakes::Call::kEpollWait, EINTR).Times(eintrs)}));
  for (int i = 0; i < eintrs; ++i) {
    auto r = loop.RunOnce(nanoseconds(0));
    RC_ASSERT(r.ok());
    RC_ASSERT(r.value() == 0);
    RC_ASSERT(calls == 0);
  }
  auto r = loop.RunOnce(nanoseconds(0));
  RC_ASSERT(r.ok());
  RC_ASSERT(r.value() == 1);
  RC_ASSERT(calls == 1);  // LOOP-001: still readable, still reported
}

RC_GTEST_PROP(EventLoop, LOOP_004_ARemovedHandlerIsNotCalledAgain, ()) {
  FakeKernel kernel;
  const int n = *rc::gen::inRange(2, 8);
  auto listeners = ReadableListeners(kernel, n);
  auto created = EpollLoop::Create(kernel);
  RC_ASSERT(created.ok());
  EpollLoop& loop = *created.value();
  std::vector<int> fds;
  for (const auto& l : listeners) fds.push_back(l.fd.get());
  // Each handler, when called, removes a drawn set of handlers (itself too).
  std::map<int, std::vector<int>> removes;
  for (int fd : fds) {
    for (int other : fds) {
      if (*rc::gen::inRange(0, 4) == 0) removes[fd].push_back(other);
    }
  }
  std::set<int> removed;
  std::vector<int> calls;
  for (int fd : fds) {
    RC_ASSERT(loop.AddHandler(fd, IoLoop::kRead,
                              [&, fd](int got, uint32_t) {
                                RC_ASSERT(got == fd);
                                RC_ASSERT(removed.count(fd) == 0u);  // never after its removal
                                calls.push_back(fd);
                                for (int victim : removes[fd]) {
                                  loop.RemoveHandler(victim);
                                  removed.insert(victim);
                                }
                              })
                  .ok());
  }
  const int rounds = *rc::gen::inRange(1, 4);
  for (int i = 0; i < rounds; ++i) RC_ASSERT(loop.RunOnce(nanoseconds(0)).ok());
  RC_ASSERT(loop.handler_count() == fds.size() - removed.size());
  // Whoever was never removed was called every round (level-triggered).
  for (int fd : fds) {
    if (removed.count(fd) == 0) {
      RC_ASSERT(std::count(calls.begin(), calls.end(), fd) == rounds);
    }
  }
}

}  // namespace
}  // namespace netutil::property
