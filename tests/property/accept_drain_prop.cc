// Draining a listener: for any pending count and batch size each readiness
// event accepts min(remaining, batch), the total is what was queued, in FIFO
// order (ACCEPT-002, ACCEPT-006); a callback that removes the handle ends the
// batch (ACCEPT-001, ACCEPT-003); dropped and thrown-with connections are
// closed (ACCEPT-007, ACCEPT-017) and were accepted non-blocking and
// close-on-exec (ACCEPT-008). On EpollLoop the same drain needs no help:
// level-triggered readiness calls the handler again (LOOP-001).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sys/epoll.h>

#include <stdexcept>

#include "generators.h"
#include "netutil/accept_handler.h"
#include "netutil/epoll_loop.h"
#include "netutil/fakes/fake_kernel.h"
#include "netutil/fakes/manual_loop.h"
#include "prop_support.h"

namespace netutil::property {
namespace {

using fakes::FakeKernel;

struct Drain {
  FakeKernel kernel;
  std::vector<Listener> listeners;
};

// A listener with room for every client, and `n` clients queued on it.
void Prepare(Drain& d, int n) {
  BindOptions o{.port = 0, .address = "127.0.0.1", .platform = Platform::Linux()};
  o.backlog = 4096;
  auto r = bind_sockets(d.kernel, o);
  RC_ASSERT(r.ok());
  d.listeners = std::move(r).value();
  for (int i = 0; i < n; ++i) {
    RC_ASSERT(d.kernel.ConnectTo(d.listeners[0].addr).ok());
  }
}

RC_GTEST_PROP(AcceptDrain, ACCEPT_002_ACCEPT_006_ACCEPT_008_ACCEPT_017_EachEventTakesABatchInOrder,
              ()) {
  const int pending = DrawPendingCount();
  const int batch = *rc::gen::weightedOneOf<int>(
      {{3, rc::gen::inRange(1, 10)}, {2, rc::gen::inRange(10, 300)}, {1, rc::gen::just(128)}});
  Drain d;
  Prepare(d, pending);
  const int fd = d.listeners[0].fd.get();
  fakes::ManualLoop loop;
  std::vector<uint16_t> peer_ports;
  std::vector<int> conn_fds;
  AcceptOptions options;
  options.batch = batch;
  auto h = add_accept_handler(
      loop, d.kernel, d.listeners[0],
      [&](Fd conn, const SockAddr& peer) {
        const auto info = d.kernel.socket_info(conn.get());
        NETUTIL_RC_ASSERT_TRACED(d.kernel, info && info->nonblock && info->cloexec);  // ACCEPT-008
        peer_ports.push_back(peer.port());
        conn_fds.push_back(conn.get());
      },
      options);
  NETUTIL_RC_ASSERT_TRACED(d.kernel, h.ok());
  NETUTIL_RC_ASSERT_TRACED(d.kernel, loop.events(fd) == IoLoop::kRead);  // ACCEPT-001

  size_t remaining = static_cast<size_t>(pending);
  int events = 0;
  while (d.kernel.Readiness(fd) & EPOLLIN) {
    NETUTIL_RC_ASSERT_TRACED(d.kernel, loop.Fire(fd));
    ++events;
    const size_t want = std::min(remaining, static_cast<size_t>(batch));
    NETUTIL_RC_ASSERT_TRACED(
        d.kernel, static_cast<size_t>(h.value().stats().last_batch) == want);  // ACCEPT-002
    remaining -= want;
    NETUTIL_RC_ASSERT_TRACED(d.kernel, d.kernel.socket_info(fd)->queued == remaining);
    NETUTIL_RC_ASSERT_TRACED(d.kernel, events <= pending + 1);
  }
  NETUTIL_RC_ASSERT_TRACED(d.kernel, remaining == 0u);
  NETUTIL_RC_ASSERT_TRACED(d.kernel, peer_ports.size() == static_cast<size_t>(pending));
  // FIFO: the fake numbers remote clients' ports in connect order.
  for (size_t i = 1; i < peer_ports.size(); ++i) {
    NETUTIL_RC_ASSERT_TRACED(d.kernel,
                             static_cast<uint16_t>(peer_ports[i] - peer_ports[i - 1]) == 1);
  }
  // ACCEPT-017: the callback kept nothing, so nothing but the listener is open.
  NETUTIL_RC_ASSERT_TRACED(d.kernel, d.kernel.fd_count() == 1u);
  NETUTIL_RC_ASSERT_TRACED(d.kernel, events == (pending + batch - 1) / batch);
}

RC_GTEST_PROP(AcceptDrain, ACCEPT_001_ACCEPT_003_RemovingInTheCallbackEndsTheBatch, ()) {
  const int pending = *rc::gen::inRange(1, 300);
  const int batch = *rc::gen::inRange(1, 300);
  const int stop_after = *rc::gen::inRange(1, std::min(pending, batch) + 1);
  Drain d;
  Prepare(d, pending);
  const int fd = d.listeners[0].fd.get();
  fakes::ManualLoop loop;
  AcceptHandle handle;
  int calls = 0;
  AcceptOptions options;
  options.batch = batch;
  auto h = add_accept_handler(
      loop, d.kernel, d.listeners[0],
      [&](Fd, const SockAddr&) {
        if (++calls == stop_after) handle.remove();
      },
      options);
  NETUTIL_RC_ASSERT_TRACED(d.kernel, h.ok());
  handle = std::move(h).value();
  NETUTIL_RC_ASSERT_TRACED(d.kernel, loop.Fire(fd));
  // After remove() returns no further connection reaches the callback, and
  // accept4 was not called again.
  NETUTIL_RC_ASSERT_TRACED(d.kernel, calls == stop_after);
  NETUTIL_RC_ASSERT_TRACED(
      d.kernel, d.kernel.trace().Count(fakes::Call::kAccept4) == static_cast<size_t>(stop_after));
  NETUTIL_RC_ASSERT_TRACED(
      d.kernel, d.kernel.socket_info(fd)->queued == static_cast<size_t>(pending - stop_after));
  NETUTIL_RC_ASSERT_TRACED(d.kernel, !loop.has_handler(fd));
  NETUTIL_RC_ASSERT_TRACED(d.kernel, !handle.active());
  NETUTIL_RC_ASSERT_TRACED(d.kernel, !loop.Fire(fd));
}

// A callback that throws abandons the batch; the exception reaches the loop,
// and the connection it was given is closed, not leaked.
RC_GTEST_PROP(AcceptDrain, ACCEPT_007_AThrowingCallbackEndsTheBatchAndLeaksNothing, ()) {
  const int pending = *rc::gen::inRange(1, 200);
  const int throw_at = *rc::gen::inRange(1, pending + 1);
  const int batch = *rc::gen::inRange(throw_at, 400);
  Drain d;
  Prepare(d, pending);
  const int fd = d.listeners[0].fd.get();
  fakes::ManualLoop loop;
  int calls = 0;
  AcceptOptions options;
  options.batch = batch;
  auto h = add_accept_handler(
      loop, d.kernel, d.listeners[0],
      [&](Fd, const SockAddr&) {
        if (++calls == throw_at) throw std::runtime_error("callback fails");
      },
      options);
  NETUTIL_RC_ASSERT_TRACED(d.kernel, h.ok());
  bool threw = false;
  try {
    loop.Fire(fd);
  } catch (const std::runtime_error&) {
    threw = true;
  }
  NETUTIL_RC_ASSERT_TRACED(d.kernel, threw);
  NETUTIL_RC_ASSERT_TRACED(d.kernel, calls == throw_at);
  NETUTIL_RC_ASSERT_TRACED(
      d.kernel, d.kernel.socket_info(fd)->queued == static_cast<size_t>(pending - throw_at));
  NETUTIL_RC_ASSERT_TRACED(d.kernel, d.kernel.fd_count() == 1u);
  NETUTIL_RC_ASSERT_TRACED(d.kernel, h.value().active());  // the handler stays for the next event
}

// LOOP-001 with the real loop over the fake's epoll: each RunOnce is one
// readiness event, and the still-readable listener is reported again.
RC_GTEST_PROP(AcceptDrain, LOOP_001_ACCEPT_002_EpollLoopDrainsBatchByBatch, ()) {
  const int pending = DrawPendingCount();
  const int batch = *rc::gen::inRange(1, 200);
  Drain d;
  Prepare(d, pending);
  auto loop = EpollLoop::Create(d.kernel);
  NETUTIL_RC_ASSERT_TRACED(d.kernel, loop.ok());
  long long accepted = 0;
  AcceptOptions options;
  options.batch = batch;
  auto h = add_accept_handler(
      *loop.value(), d.kernel, d.listeners[0], [&](Fd, const SockAddr&) { ++accepted; }, options);
  NETUTIL_RC_ASSERT_TRACED(d.kernel, h.ok());
  long long remaining = pending;
  int rounds = 0;
  while (remaining > 0) {
    auto calls = loop.value()->RunOnce(std::chrono::nanoseconds(0));
    NETUTIL_RC_ASSERT_TRACED(d.kernel, calls.ok());
    NETUTIL_RC_ASSERT_TRACED(d.kernel, calls.value() == 1);
    remaining -= std::min<long long>(remaining, batch);
    NETUTIL_RC_ASSERT_TRACED(d.kernel, accepted == pending - remaining);
    NETUTIL_RC_ASSERT_TRACED(d.kernel, ++rounds <= pending);
  }
  // Nothing queued: the listener is not reported, and epoll_wait(0) returns.
  auto idle = loop.value()->RunOnce(std::chrono::nanoseconds(0));
  NETUTIL_RC_ASSERT_TRACED(d.kernel, idle.ok());
  NETUTIL_RC_ASSERT_TRACED(d.kernel, idle.value() == 0);
}

}  // namespace
}  // namespace netutil::property
