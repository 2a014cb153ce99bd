// add_accept_handler (ACCEPT-001..017), on a ManualLoop: each Fire() is one
// readiness event, each Advance() moves the clock, so a batch and a back-off
// are observed call by call.
#include "netutil/accept_handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "netutil/errno_name.h"
#include "netutil/fakes/addr_builders.h"
#include "netutil/fakes/manual_loop.h"
#include "netutil/fakes/mock_sys.h"
#include "netutil/fakes/sys_matchers.h"
#include "test_helpers.h"

namespace netutil {
namespace {

using namespace std::chrono_literals;
using fakes::Ip;
using fakes::IsError;
using fakes::ManualLoop;
using fakes::MockSys;
using ::testing::_;
using ::testing::DoAll;
using ::testing::ElementsAre;
using ::testing::InSequence;
using ::testing::Invoke;
using ::testing::IsEmpty;
using ::testing::NiceMock;
using ::testing::Return;
using ::testing::SetArgPointee;
using unit::kAcceptFlags;

constexpr int kListenFd = 3;
constexpr auto kRead = IoLoop::kRead;

// accept4's success: connection `conn` from `peer`.
auto Accepts(int conn, const SockAddr& peer = Ip("10.0.0.5", 5555)) {
  return DoAll(SetArgPointee<1>(peer), Return(SysOk(conn)));
}

// An accept4 that serves `pending` connections (fds 100, 101, ...), then EAGAIN.
auto Queue(int pending) {
  // Shared: gMock may copy the action, and every copy must drain one queue.
  auto next = std::make_shared<int>(100);
  return Invoke([pending, next](int, SockAddr* peer, int) -> SysInt {
    if (*next - 100 >= pending) return SysErr(EAGAIN);
    if (peer != nullptr) *peer = Ip("10.0.0.5", 5555);
    return SysOk((*next)++);
  });
}

class AcceptHandler : public ::testing::Test {
 protected:
  // Starts accepting on the listener; connections go to `conns`, errors to `errors`.
  Result<AcceptHandle> Add(AcceptOptions options = {}) {
    return add_accept_handler(
        loop, sys, listener, [this](Fd conn, const SockAddr&) { conns.push_back(conn.release()); },
        options, [this](const Error& e) { errors.push_back(e); });
  }

  // The listener's fd belongs to the test; its close goes to `owner`, so `sys`
  // sees only what the accept handler does.
  NiceMock<MockSys> owner;
  Listener listener{Fd(owner, kListenFd), Ip("127.0.0.1", 8888)};
  NiceMock<MockSys> sys;
  ManualLoop loop;
  std::vector<int> conns;  // accepted connections the callback kept (released)
  std::vector<Error> errors;
};

TEST_F(AcceptHandler, ACCEPT_001_RegistersReadHandlerAndRemoveUnregisters) {
  ASSERT_OK_AND_ASSIGN(auto handle, Add());
  EXPECT_EQ(loop.events(kListenFd), kRead);
  handle.remove();
  EXPECT_FALSE(loop.has_handler(kListenFd));
  EXPECT_FALSE(handle.active());
}

TEST_F(AcceptHandler, ACCEPT_002_DefaultBatchIs128) {
  EXPECT_CALL(sys, accept4).WillRepeatedly(Queue(300));
  ASSERT_OK_AND_ASSIGN(auto handle, Add());
  // Tornado, measured: 300 pending are accepted as 128, 128, 44.
  std::vector<int> batches;
  for (int i = 0; i < 3; ++i) {
    loop.Fire(kListenFd);
    batches.push_back(handle.stats().last_batch);
  }
  EXPECT_THAT(batches, ElementsAre(128, 128, 44));
  EXPECT_EQ(conns.size(), 300u);
}

TEST_F(AcceptHandler, ACCEPT_002_BatchStopsWithConnectionsStillQueued) {
  // The 129th accept4 would succeed; it must wait for the next event.
  EXPECT_CALL(sys, accept4).Times(kDefaultBacklog).WillRepeatedly(Queue(1000));
  ASSERT_OK_AND_ASSIGN(auto handle, Add());
  loop.Fire(kListenFd);
  EXPECT_EQ(conns.size(), static_cast<size_t>(kDefaultBacklog));
  EXPECT_EQ(loop.events(kListenFd), kRead);  // still registered: level-triggered resumes
}

TEST_F(AcceptHandler, ACCEPT_003_CallbackRemovingTheHandleEndsTheBatch) {
  AcceptHandle handle;
  int calls = 0;
  EXPECT_CALL(sys, accept4).Times(2).WillRepeatedly(Queue(10));
  ASSERT_OK_AND_ASSIGN(handle, add_accept_handler(loop, sys, listener, [&](Fd, const SockAddr&) {
                         if (++calls == 2) handle.remove();
                       }));
  loop.Fire(kListenFd);
  // After remove() returns, no further connection reaches the callback.
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(loop.has_handler(kListenFd));
}

TEST_F(AcceptHandler, ACCEPT_004_EagainEndsTheBatchWithoutError) {
  EXPECT_CALL(sys, accept4)
      .WillOnce(Accepts(/*conn=*/7))
      .WillOnce(Return(SysErr(EAGAIN)));  // no further call in this event
  ASSERT_OK_AND_ASSIGN(auto handle, Add());
  loop.Fire(kListenFd);
  EXPECT_THAT(conns, ElementsAre(7));
  EXPECT_THAT(errors, IsEmpty());
  EXPECT_EQ(loop.events(kListenFd), kRead);
}

TEST_F(AcceptHandler, ACCEPT_005_ConnAbortedIsSkippedAndCountsTowardBatch) {
  // batch 3: the aborted attempt uses a slot, so exactly 3 calls.
  EXPECT_CALL(sys, accept4)
      .WillOnce(Accepts(/*conn=*/7))
      .WillOnce(Return(SysErr(ECONNABORTED)))
      .WillOnce(Accepts(/*conn=*/8));
  ASSERT_OK_AND_ASSIGN(auto handle, Add({.batch = 3}));
  loop.Fire(kListenFd);
  EXPECT_THAT(conns, ElementsAre(7, 8));
  EXPECT_THAT(errors, IsEmpty());
  EXPECT_EQ(handle.stats().skipped, 1);
}

TEST_F(AcceptHandler, ACCEPT_006_CallbackGetsConnectionAndPeer) {
  EXPECT_CALL(sys, accept4)
      .WillOnce(Accepts(/*conn=*/7, Ip("192.0.2.1", 40000)))
      .WillOnce(Return(SysErr(EAGAIN)));
  int got_fd = -1;
  SockAddr got_peer;
  ASSERT_OK_AND_ASSIGN(auto handle,
                       add_accept_handler(loop, sys, listener, [&](Fd conn, const SockAddr& peer) {
                         got_fd = conn.release();
                         got_peer = peer;
                       }));
  loop.Fire(kListenFd);
  EXPECT_EQ(got_fd, 7);
  EXPECT_EQ(got_peer, Ip("192.0.2.1", 40000));
}

TEST_F(AcceptHandler, ACCEPT_007_ThrowingCallbackAbandonsBatchAndClosesConnection) {
  EXPECT_CALL(sys, accept4).Times(1).WillOnce(Accepts(/*conn=*/7));  // no second accept
  EXPECT_CALL(sys, close(/*fd=*/7));  // the callback did not take it: nothing leaks
  ASSERT_OK_AND_ASSIGN(auto handle,
                       add_accept_handler(loop, sys, listener, [](Fd, const SockAddr&) {
                         throw std::runtime_error("boom");
                       }));
  // The exception leaves the handler: the loop sees it.
  EXPECT_THROW(loop.Fire(kListenFd), std::runtime_error);
}

TEST_F(AcceptHandler, ACCEPT_007_ConnectionTakenBeforeThrowIsNotClosed) {
  EXPECT_CALL(sys, accept4).WillOnce(Accepts(/*conn=*/7));
  Fd kept;
  ASSERT_OK_AND_ASSIGN(auto handle,
                       add_accept_handler(loop, sys, listener, [&](Fd conn, const SockAddr&) {
                         kept = std::move(conn);
                         throw std::runtime_error("boom");
                       }));
  EXPECT_CALL(sys, close(/*fd=*/7)).Times(0);
  EXPECT_THROW(loop.Fire(kListenFd), std::runtime_error);
  EXPECT_EQ(kept.get(), 7);
  kept.release();
}

TEST_F(AcceptHandler, ACCEPT_008_AcceptsNonBlockingAndCloseOnExec) {
  EXPECT_CALL(sys, accept4(kListenFd, _, kAcceptFlags))
      .WillOnce(Accepts(/*conn=*/7))
      .WillOnce(Return(SysErr(EAGAIN)));
  ASSERT_OK_AND_ASSIGN(auto handle, Add());
  loop.Fire(kListenFd);
  EXPECT_THAT(conns, ElementsAre(7));
}

TEST_F(AcceptHandler, ACCEPT_009_EintrIsRetriedAndDoesNotCountTowardBatch) {
  // batch 2: two EINTR, then two connections; a signal is not a connection.
  EXPECT_CALL(sys, accept4)
      .WillOnce(Return(SysErr(EINTR)))
      .WillOnce(Accepts(/*conn=*/7))
      .WillOnce(Return(SysErr(EINTR)))
      .WillOnce(Accepts(/*conn=*/8));
  ASSERT_OK_AND_ASSIGN(auto handle, Add({.batch = 2}));
  loop.Fire(kListenFd);
  EXPECT_THAT(conns, ElementsAre(7, 8));
  EXPECT_THAT(errors, IsEmpty());
}

TEST_F(AcceptHandler, ACCEPT_018_EintrRetriesAreBounded) {
  // accept4 answering EINTR forever: 1 call and 1000 retries, then the batch
  // ends with no report and the handler stays for the next event.
  EXPECT_CALL(sys, accept4).Times(1001).WillRepeatedly(Return(SysErr(EINTR)));
  ASSERT_OK_AND_ASSIGN(auto handle, Add({.batch = 2}));
  loop.Fire(kListenFd);
  EXPECT_THAT(conns, IsEmpty());
  EXPECT_THAT(errors, IsEmpty());
  EXPECT_TRUE(handle.active());
  EXPECT_FALSE(handle.paused());
  EXPECT_TRUE(loop.has_handler(kListenFd));
}

class AcceptSkipped : public AcceptHandler, public ::testing::WithParamInterface<int> {};

TEST_P(AcceptSkipped, ACCEPT_010_PerConnectionNetworkErrorIsSkipped) {
  // accept(2): Linux passes these through accept; treat them like EAGAIN by
  // retrying. batch 2: the error uses a slot, the next call still happens.
  EXPECT_CALL(sys, accept4).WillOnce(Return(SysErr(GetParam()))).WillOnce(Accepts(/*conn=*/7));
  ASSERT_OK_AND_ASSIGN(auto handle, Add({.batch = 2}));
  loop.Fire(kListenFd);
  EXPECT_THAT(conns, ElementsAre(7));
  EXPECT_THAT(errors, IsEmpty());
  EXPECT_EQ(loop.events(kListenFd), kRead);
}

INSTANTIATE_TEST_SUITE_P(Errnos, AcceptSkipped,
                         ::testing::Values(EPROTO, EPERM, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET,
                                           EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(ErrnoName(info.param));
                         });

class AcceptResource : public AcceptHandler, public ::testing::WithParamInterface<int> {};

TEST_P(AcceptResource, ACCEPT_011_ResourceErrorPausesForTheBackoff) {
  EXPECT_CALL(sys, accept4).Times(1).WillOnce(Return(SysErr(GetParam())));
  ASSERT_OK_AND_ASSIGN(auto handle, Add({.backoff = 250ms}));
  loop.Fire(kListenFd);
  // Events off: the still-readable listener cannot make the loop spin.
  EXPECT_EQ(loop.events(kListenFd), 0u);
  EXPECT_TRUE(handle.paused());
  EXPECT_FALSE(loop.Fire(kListenFd));  // a readiness event no longer reaches accept4
  loop.Advance(249ms);
  EXPECT_EQ(loop.events(kListenFd), 0u);  // not a moment sooner than the back-off
  loop.Advance(1ms);
  EXPECT_EQ(loop.events(kListenFd), kRead);
  EXPECT_FALSE(handle.paused());
}

INSTANTIATE_TEST_SUITE_P(Errnos, AcceptResource, ::testing::Values(EMFILE, ENFILE, ENOBUFS, ENOMEM),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(ErrnoName(info.param));
                         });

TEST_F(AcceptHandler, ACCEPT_011_DefaultBackoffIsOneSecond) {
  EXPECT_CALL(sys, accept4).WillOnce(Return(SysErr(EMFILE)));
  ASSERT_OK_AND_ASSIGN(auto handle, Add());
  loop.Fire(kListenFd);
  EXPECT_EQ(loop.next_timer_in(), std::chrono::nanoseconds(1s));
}

// The top of backoff's range: neither the conversion to the loop's
// nanoseconds nor "now + backoff" may wrap to a timer due at once, which
// would turn the back-off into a busy loop on EMFILE.
TEST_F(AcceptHandler, ACCEPT_011_BackoffAtTheTopOfItsRangeStillPauses) {
  for (const std::chrono::milliseconds backoff :
       {std::chrono::milliseconds::max(),
        std::chrono::milliseconds(std::numeric_limits<long long>::max() / 1000000)}) {
    EXPECT_CALL(sys, accept4).WillOnce(Return(SysErr(EMFILE)));
    loop.Advance(std::chrono::hours(1));  // a clock well past zero, like a monotonic one
    ASSERT_OK_AND_ASSIGN(auto handle, Add({.backoff = backoff}));
    loop.Fire(kListenFd);
    ASSERT_TRUE(loop.next_timer_in().has_value());
    EXPECT_GT(*loop.next_timer_in(), std::chrono::hours(24 * 365)) << backoff.count();
    loop.Advance(std::chrono::hours(24));
    EXPECT_EQ(loop.events(kListenFd), 0u) << "still paused a day later: " << backoff.count();
    EXPECT_TRUE(handle.paused());
    EXPECT_FALSE(loop.Fire(kListenFd));  // no accept4 call: the loop does not spin
    handle.remove();
    ::testing::Mock::VerifyAndClearExpectations(&sys);
  }
}

TEST_F(AcceptHandler, ACCEPT_012_ResourceErrorReportedOncePerBackoff) {
  EXPECT_CALL(sys, accept4).WillRepeatedly(Return(SysErr(EMFILE)));
  ASSERT_OK_AND_ASSIGN(auto handle, Add());
  loop.Fire(kListenFd);
  for (int i = 0; i < 100; ++i) loop.Fire(kListenFd);  // the loop polls on
  ASSERT_EQ(errors.size(), 1u);  // one line per period, not thousands per second
  EXPECT_THAT(errors[0], IsError(Error::Kind::kOs, EMFILE, "accept4"));
  loop.Advance(1s);
  loop.Fire(kListenFd);  // the next period: still out of fds
  EXPECT_EQ(errors.size(), 2u);
}

TEST_F(AcceptHandler, ACCEPT_013_QueuedConnectionsAreAcceptedAfterBackoff) {
  EXPECT_CALL(sys, accept4)
      .WillOnce(Accepts(/*conn=*/7))
      .WillOnce(Return(SysErr(EMFILE)))
      .WillOnce(Accepts(/*conn=*/8))
      .WillOnce(Accepts(/*conn=*/9))
      .WillOnce(Return(SysErr(EAGAIN)));
  // No reserve-fd trick: a pending connection is never accepted just to be closed.
  EXPECT_CALL(sys, close).Times(0);
  ASSERT_OK_AND_ASSIGN(auto handle, Add());
  loop.Fire(kListenFd);
  loop.Advance(1s);
  loop.Fire(kListenFd);
  EXPECT_THAT(conns, ElementsAre(7, 8, 9));
}

class AcceptFatal : public AcceptHandler, public ::testing::WithParamInterface<int> {};

TEST_P(AcceptFatal, ACCEPT_014_OtherErrorIsReportedOnceAndRemovesHandler) {
  EXPECT_CALL(sys, accept4).Times(1).WillOnce(Return(SysErr(GetParam())));
  ASSERT_OK_AND_ASSIGN(auto handle, Add());
  loop.Fire(kListenFd);
  // It would recur on every event; Tornado raises it forever.
  EXPECT_FALSE(loop.has_handler(kListenFd));
  EXPECT_FALSE(handle.active());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], IsError(Error::Kind::kOs, GetParam(), "accept4"));
  EXPECT_FALSE(loop.Fire(kListenFd));
}

INSTANTIATE_TEST_SUITE_P(Errnos, AcceptFatal, ::testing::Values(EBADF, EINVAL, ENOTSOCK, EFAULT),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(ErrnoName(info.param));
                         });

TEST_F(AcceptHandler, ACCEPT_015_BatchIsConfigurable) {
  EXPECT_CALL(sys, accept4).Times(4).WillRepeatedly(Queue(10));
  ASSERT_OK_AND_ASSIGN(auto handle, Add({.batch = 4}));
  loop.Fire(kListenFd);
  EXPECT_EQ(conns.size(), 4u);
}

TEST_F(AcceptHandler, ACCEPT_015_BatchBelowOneIsArgumentError) {
  // A zero batch would leave a readable listener never drained: a busy loop.
  EXPECT_THAT(Add({.batch = 0}), IsError(Error::Kind::kArgument, EINVAL));
  EXPECT_FALSE(loop.has_handler(kListenFd));
}

TEST_F(AcceptHandler, ACCEPT_015_NegativeBackoffIsArgumentError) {
  EXPECT_THAT(Add({.backoff = -1ms}), IsError(Error::Kind::kArgument, EINVAL));
  EXPECT_EQ(loop.handler_count(), 0u);
}

TEST_F(AcceptHandler, ACCEPT_015_ListenerWithoutFdIsArgumentError) {
  Listener closed{Fd(), Ip("127.0.0.1", 8888)};  // fd -1
  EXPECT_THAT(add_accept_handler(loop, sys, closed, [](Fd, const SockAddr&) {}),
              IsError(Error::Kind::kArgument, EINVAL));
  EXPECT_EQ(loop.handler_count(), 0u);
}

TEST_F(AcceptHandler, ACCEPT_016_RemoveIsIdempotent) {
  ASSERT_OK_AND_ASSIGN(auto handle, Add());
  handle.remove();
  // The fd number is reused by a new listener with its own handler; a second
  // remove() of the old handle must not unregister it.
  ASSERT_THAT(loop.AddHandler(kListenFd, kRead, [](int, uint32_t) {}), fakes::IsOk());
  handle.remove();
  EXPECT_TRUE(loop.has_handler(kListenFd));
  EXPECT_FALSE(handle.active());
}

TEST_F(AcceptHandler, ACCEPT_016_RemoveCancelsPendingBackoff) {
  EXPECT_CALL(sys, accept4).WillOnce(Return(SysErr(EMFILE)));
  ASSERT_OK_AND_ASSIGN(auto handle, Add());
  loop.Fire(kListenFd);
  ASSERT_EQ(loop.pending_timers(), 1u);
  handle.remove();
  EXPECT_EQ(loop.pending_timers(), 0u);
  loop.Advance(10s);
  // A back-off firing now would re-register a dead handler.
  EXPECT_FALSE(loop.has_handler(kListenFd));
}

TEST_F(AcceptHandler, ACCEPT_016_DroppingTheHandleRemovesIt) {
  EXPECT_CALL(sys, accept4).WillOnce(Return(SysErr(EMFILE)));
  {
    ASSERT_OK_AND_ASSIGN(auto handle, Add());
    loop.Fire(kListenFd);
    ASSERT_TRUE(loop.has_handler(kListenFd));
  }
  EXPECT_FALSE(loop.has_handler(kListenFd));
  EXPECT_EQ(loop.pending_timers(), 0u);
}

TEST_F(AcceptHandler, ACCEPT_017_UnkeptConnectionClosedWhenCallbackReturns) {
  {
    InSequence seq;  // closed before the next accept4, not at some later time
    EXPECT_CALL(sys, accept4).WillOnce(Accepts(/*conn=*/7));
    EXPECT_CALL(sys, close(/*fd=*/7));
    EXPECT_CALL(sys, accept4).WillOnce(Return(SysErr(EAGAIN)));
  }
  ASSERT_OK_AND_ASSIGN(auto handle,
                       add_accept_handler(loop, sys, listener, [](Fd, const SockAddr&) {}));
  loop.Fire(kListenFd);
}

}  // namespace
}  // namespace netutil
