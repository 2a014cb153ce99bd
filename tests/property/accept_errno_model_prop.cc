// A model-based test (rc::state) of the accept drain loop against the spec,
// under any interleaving of connections arriving and being reset, accept4
// answering EAGAIN, ECONNABORTED, EINTR, EPROTO, EMFILE, ENFILE or a fatal
// error (injected through the fault plan, or EMFILE for real from the fake's
// fd limit), readiness events, time passing and removal.
//
// The model is the spec's text, not the reference: ACCEPT-004 (EAGAIN ends
// the batch), -005/-010 (skip, the slot counts), -009 (EINTR retried, no
// slot), -011/-012 (pause, one report, a timer resumes), -013 (nothing queued
// is lost to a pause), -014 (report once, remove), -016 (remove cancels the
// timer), -017 (dropped connections close).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>
#include <sys/epoll.h>

#include <cerrno>
#include <chrono>
#include <deque>
#include <map>

#include "netutil/accept_handler.h"
#include "netutil/errno_name.h"
#include "netutil/fakes/fake_kernel.h"
#include "netutil/fakes/manual_loop.h"
#include "netutil/fakes/spec_invariants.h"
#include "netutil/fakes/syscall_table.h"
#include "prop_support.h"

namespace netutil::property {
namespace {

using fakes::SpecAcceptClass;
using fakes::SpecClassOf;
using std::chrono::milliseconds;

constexpr int kMaxEintr = 1000;  // BIND-024's bound, which ACCEPT-009 shares
// The fake numbers its remote clients' ports from here.
constexpr uint16_t kFirstPeerPort = fakes::KernelModel::kFirstPeerPort;

struct DrainModel {
  std::deque<std::pair<int, bool>> queue;  // connection ordinal, reset while queued
  std::deque<int> faults;                  // errnos scripted for the next accept4 calls
  bool fd_pressure = false;                // the fake's fd limit is reached: EMFILE
  bool paused = false;
  bool removed = false;
  milliseconds paused_for{0};
  std::vector<int> accepted;  // ordinals, in the order the callback saw them
  std::vector<int> reports;   // errnos given to the error callback
  int next = 0;
  int batch = 1;
  milliseconds backoff{1000};
};

struct DrainSut {
  fakes::FakeKernel kernel;
  std::vector<Listener> listeners;
  fakes::ManualLoop loop;
  AcceptHandle handle;
  std::vector<int> accepted;
  std::vector<int> reports;
  std::map<int, uint64_t> connection_ids;  // ordinal -> the fake's connection id
  int fd = -1;
};

using Command = rc::state::Command<DrainModel, DrainSut>;

// What the observable state must be after every command.
void Compare(const DrainModel& m, DrainSut& s) {
  RC_ASSERT(s.accepted == m.accepted);  // ACCEPT-006: every connection, in order
  RC_ASSERT(s.reports == m.reports);    // ACCEPT-012, ACCEPT-014
  RC_ASSERT(s.handle.active() == !m.removed);
  RC_ASSERT(s.loop.has_handler(s.fd) == !m.removed);  // ACCEPT-001, ACCEPT-014
  if (!m.removed) {
    RC_ASSERT(s.handle.paused() == m.paused);
    // ACCEPT-011: paused means no events at all, so the loop cannot spin.
    RC_ASSERT(s.loop.events(s.fd) == (m.paused ? 0u : IoLoop::kRead));
  }
  // ACCEPT-016: a removed handler has no back-off timer left.
  RC_ASSERT(s.loop.pending_timers() == (m.paused && !m.removed ? 1u : 0u));
  RC_ASSERT(s.kernel.socket_info(s.fd)->queued == m.queue.size());  // ACCEPT-013
  RC_ASSERT(s.kernel.fd_count() == 1u);                             // ACCEPT-017
}

struct Connect : Command {
  void checkPreconditions(const DrainModel& m) const override { RC_PRE(m.queue.size() < 300u); }
  void apply(DrainModel& m) const override { m.queue.emplace_back(m.next++, false); }
  void run(const DrainModel& m, DrainSut& s) const override {
    auto id = s.kernel.ConnectTo(s.listeners[0].addr);
    RC_ASSERT(id.ok());
    s.connection_ids[m.next] = id.value;
    Compare(nextState(m), s);
  }
  void show(std::ostream& os) const override { os << "a client connects"; }
};

struct Reset : Command {
  int ordinal = -1;
  explicit Reset(const DrainModel& m) {
    std::vector<int> live;
    for (const auto& [n, aborted] : m.queue) {
      if (!aborted) live.push_back(n);
    }
    if (!live.empty()) ordinal = *rc::gen::elementOf(live);
  }
  void checkPreconditions(const DrainModel& m) const override {
    RC_PRE(std::any_of(m.queue.begin(), m.queue.end(),
                       [&](const auto& q) { return q.first == ordinal && !q.second; }));
  }
  void apply(DrainModel& m) const override {
    for (auto& q : m.queue) {
      if (q.first == ordinal) q.second = true;
    }
  }
  void run(const DrainModel& m, DrainSut& s) const override {
    RC_ASSERT(s.kernel.AbortConnection(s.connection_ids.at(ordinal)));
    Compare(nextState(m), s);
  }
  void show(std::ostream& os) const override {
    os << "client " << ordinal << " resets while queued";
  }
};

struct Inject : Command {
  int err = EAGAIN;
  Inject() {
    // The errnos the issue names, then any other the man page lists.
    const std::vector<int> all(fakes::LegalErrnos(fakes::Call::kAccept4).begin(),
                               fakes::LegalErrnos(fakes::Call::kAccept4).end());
    err = *rc::gen::weightedOneOf<int>(
        {{6, rc::gen::element(EAGAIN, ECONNABORTED, EINTR, EPROTO, EMFILE, ENFILE)},
         {1, rc::gen::element(EBADF, EINVAL, ENOTSOCK)},
         {2, rc::gen::elementOf(all)}});
  }
  void checkPreconditions(const DrainModel& m) const override { RC_PRE(m.faults.size() < 20u); }
  void apply(DrainModel& m) const override { m.faults.push_back(err); }
  void run(const DrainModel& m, DrainSut& s) const override {
    // Counted from its addition: the k-th accept4 from now, behind the
    // faults already waiting.
    s.kernel.faults().Add(fakes::FaultRule::Fail(fakes::Call::kAccept4, err,
                                                 static_cast<long long>(m.faults.size()) + 1));
    Compare(nextState(m), s);
  }
  void show(std::ostream& os) const override {
    os << "a later accept4 fails with " << ErrnoName(err);
  }
};

struct FdPressure : Command {
  bool on = true;
  FdPressure() : on(*rc::gen::arbitrary<bool>()) {}
  void apply(DrainModel& m) const override { m.fd_pressure = on; }
  void run(const DrainModel& m, DrainSut& s) const override {
    // At the limit the lowest free fd is refused: accept4 says EMFILE.
    s.kernel.set_fd_limit(on ? s.kernel.open_fds().back() + 1 : 1024);
    Compare(nextState(m), s);
  }
  void show(std::ostream& os) const override { os << "fd limit " << (on ? "reached" : "lifted"); }
};

struct Fire : Command {
  // The loop reports the listener only while something is queued.
  void checkPreconditions(const DrainModel& m) const override { RC_PRE(!m.queue.empty()); }
  void apply(DrainModel& m) const override {
    if (m.removed || m.paused) return;
    int slots = 0, eintr = 0;
    while (slots < m.batch) {  // ACCEPT-002
      int err = 0, ordinal = -1;
      if (!m.faults.empty()) {
        err = m.faults.front();
        m.faults.pop_front();
      } else if (m.fd_pressure) {
        err = EMFILE;  // Linux takes the fd before it looks at the queue
      } else if (m.queue.empty()) {
        err = EAGAIN;
      } else {
        const auto [n, aborted] = m.queue.front();
        m.queue.pop_front();
        if (aborted) err = ECONNABORTED;
        ordinal = n;
      }
      if (err == 0) {
        m.accepted.push_back(ordinal);
        ++slots;
        eintr = 0;
        continue;
      }
      switch (SpecClassOf(err)) {
        case SpecAcceptClass::kRetry:  // ACCEPT-009: no slot used
          if (++eintr > kMaxEintr) return;
          continue;
        case SpecAcceptClass::kEndBatch:  // ACCEPT-004
          return;
        case SpecAcceptClass::kSkip:  // ACCEPT-005, ACCEPT-010: the slot counts
          ++slots;
          continue;
        case SpecAcceptClass::kBackoff:  // ACCEPT-011, ACCEPT-012
          m.paused = true;
          m.paused_for = milliseconds(0);
          m.reports.push_back(err);
          return;
        case SpecAcceptClass::kFatal:  // ACCEPT-014
          m.reports.push_back(err);
          m.removed = true;
          return;
      }
    }
  }
  void run(const DrainModel& m, DrainSut& s) const override {
    const bool fired = s.loop.Fire(s.fd);
    RC_ASSERT(fired == (!m.removed && !m.paused));
    Compare(nextState(m), s);
  }
  void show(std::ostream& os) const override { os << "the listener is readable"; }
};

struct Wait : Command {
  milliseconds d{0};
  explicit Wait(const DrainModel& m)
      : d(milliseconds(*rc::gen::inRange<long long>(0, 2 * m.backoff.count() + 1))) {}
  void apply(DrainModel& m) const override {
    if (!m.paused || m.removed) return;
    m.paused_for += d;
    if (m.paused_for >= m.backoff) m.paused = false;  // ACCEPT-011: the timer resumes
  }
  void run(const DrainModel& m, DrainSut& s) const override {
    s.loop.Advance(d);
    Compare(nextState(m), s);
  }
  void show(std::ostream& os) const override { os << d.count() << " ms pass"; }
};

struct Remove : Command {
  void apply(DrainModel& m) const override { m.removed = true; }
  void run(const DrainModel& m, DrainSut& s) const override {
    s.handle.remove();  // ACCEPT-016: idempotent, cancels the timer
    Compare(nextState(m), s);
  }
  void show(std::ostream& os) const override { os << "remove()"; }
};

RC_GTEST_PROP(
    AcceptErrnoModel,
    ACCEPT_004_ACCEPT_005_ACCEPT_009_ACCEPT_010_ACCEPT_011_ACCEPT_012_ACCEPT_013_ACCEPT_014_ACCEPT_016_DrainFollowsTheSpec,
    ()) {
  DrainModel model;
  model.batch = *rc::gen::inRange(1, 8);
  model.backoff = milliseconds(*rc::gen::element(0, 1, 50, 1000));
  DrainSut sut;
  BindOptions o{.port = 0, .address = "127.0.0.1", .platform = Platform::Linux()};
  o.backlog = 4096;
  auto r = bind_sockets(sut.kernel, o);
  RC_ASSERT(r.ok());
  sut.listeners = std::move(r).value();
  sut.fd = sut.listeners[0].fd.get();
  AcceptOptions options;
  options.batch = model.batch;
  options.backoff = model.backoff;
  auto h = add_accept_handler(
      sut.loop, sut.kernel, sut.listeners[0],
      [&sut](Fd, const SockAddr& peer) { sut.accepted.push_back(peer.port() - kFirstPeerPort); },
      options, [&sut](const Error& e) { sut.reports.push_back(e.code); });
  RC_ASSERT(h.ok());
  sut.handle = std::move(h).value();

  rc::state::check(
      model, sut,
      rc::state::gen::execOneOfWithArgs<Connect, Connect, Connect, Reset, Inject, Inject,
                                        FdPressure, Fire, Fire, Fire, Wait, Remove>());
  // What the sequences reached, so a run shows it exercised the pauses and
  // removals and not only the happy path.
  RC_TAG(sut.handle.stats().backoffs > 0 ? "paused at least once" : "never paused");
  RC_TAG(sut.handle.active() ? "still active" : "removed");
  RC_TAG(sut.handle.stats().skipped > 0 ? "skipped a connection" : "skipped none");
}

// The reference's classifier against the spec's lists, for every errno
// accept4 may return: the drain model above checks behaviour, this names the
// errno whose class is wrong.
const char* Name(AcceptErrorClass c) {
  switch (c) {
    case AcceptErrorClass::kRetry:
      return "retry";
    case AcceptErrorClass::kEndBatch:
      return "end batch";
    case AcceptErrorClass::kSkip:
      return "skip";
    case AcceptErrorClass::kBackoff:
      return "back off";
    case AcceptErrorClass::kFatal:
      return "fatal";
  }
  return "?";
}

const char* Name(SpecAcceptClass c) {
  switch (c) {
    case SpecAcceptClass::kRetry:
      return "retry";
    case SpecAcceptClass::kEndBatch:
      return "end batch";
    case SpecAcceptClass::kSkip:
      return "skip";
    case SpecAcceptClass::kBackoff:
      return "back off";
    case SpecAcceptClass::kFatal:
      return "fatal";
  }
  return "?";
}

TEST(AcceptErrnoModel,
     ACCEPT_004_ACCEPT_005_ACCEPT_009_ACCEPT_010_ACCEPT_011_ACCEPT_014_ClassesMatchTheSpec) {
  for (int err : fakes::LegalErrnos(fakes::Call::kAccept4)) {
    EXPECT_STREQ(Name(ClassifyAcceptError(err)), Name(SpecClassOf(err))) << ErrnoName(err);
  }
}

}  // namespace
}  // namespace netutil::property
