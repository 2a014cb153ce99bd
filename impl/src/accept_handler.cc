#include "netutil/accept_handler.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>

#include "retry.h"

namespace netutil {
namespace {

// ACCEPT-011: the back-off as the loop's nanoseconds, saturated: a value near
// the top of milliseconds' range would overflow the conversion and come out
// negative, a timer due at once, and the paused listener would spin.
std::chrono::nanoseconds BackoffNanos(std::chrono::milliseconds backoff) {
  constexpr auto kMax =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds::max());
  return backoff >= kMax ? std::chrono::nanoseconds::max() : std::chrono::nanoseconds(backoff);
}

}  // namespace

AcceptErrorClass ClassifyAcceptError(int err) {
  switch (err) {
    case EINTR:
      return AcceptErrorClass::kRetry;
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
      return AcceptErrorClass::kEndBatch;
    // ACCEPT-005, ACCEPT-010: errors of one connection; accept(2) lists the
    // network errors Linux passes through accept as "treat like EAGAIN, retry".
    case ECONNABORTED:
    case EPROTO:
    case EPERM:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
      return AcceptErrorClass::kSkip;
    // ACCEPT-011: out of a resource that comes back by itself.
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      return AcceptErrorClass::kBackoff;
    default:
      return AcceptErrorClass::kFatal;
  }
}

struct AcceptHandle::State : std::enable_shared_from_this<AcceptHandle::State> {
  IoLoop* loop = nullptr;
  Sys* sys = nullptr;
  int fd = -1;
  SockAddr addr;  // the listener's, for error texts (formatted only then)
  AcceptCallback callback;
  AcceptErrorCallback on_error;
  AcceptOptions options;

  bool removed = false;
  bool paused = false;
  std::optional<IoLoop::TimerId> resume_timer;
  AcceptStats stats;

  void OnReadable() {
    // The callback may drop the last handle; keep ourselves alive until we return.
    auto self = shared_from_this();
    if (removed || paused) return;
    ++stats.events;
    stats.last_batch = 0;
    int eintr_in_row = 0;
    for (int slot = 0; slot < options.batch; ++slot) {
      if (removed) return;  // ACCEPT-003
      SockAddr peer;
      ++stats.accept_calls;
      // ACCEPT-008: non-blocking and close-on-exec from the first instant.
      SysInt c = sys->accept4(fd, &peer, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c.ok()) {
        eintr_in_row = 0;
        ++stats.accepted;
        ++stats.last_batch;
        stats.largest_batch = std::max(stats.largest_batch, stats.last_batch);
        // ACCEPT-006, ACCEPT-017: the callback owns the connection; if it
        // throws, the batch ends there (ACCEPT-007) and the Fd still closes.
        callback(Fd(*sys, c.value), peer);
        continue;
      }
      switch (ClassifyAcceptError(c.err)) {
        case AcceptErrorClass::kRetry:  // ACCEPT-009, ACCEPT-018: bounded
          if (++eintr_in_row <= internal::kMaxEintrRetries) {
            --slot;
            continue;
          }
          return;
        case AcceptErrorClass::kEndBatch:  // ACCEPT-004
          return;
        case AcceptErrorClass::kSkip:  // ACCEPT-005, ACCEPT-010
          ++stats.skipped;
          continue;
        case AcceptErrorClass::kBackoff:  // ACCEPT-011, ACCEPT-012, ACCEPT-013
          BackOff(c.err);
          return;
        case AcceptErrorClass::kFatal:  // ACCEPT-014
          Report(Error::Os(c.err, "accept4", addr.ToString()));
          Remove();
          return;
      }
    }
  }

  // Pending connections stay queued in the kernel; only our interest in them
  // pauses, so the level-triggered loop cannot spin on the readable listener.
  void BackOff(int err) {
    paused = true;
    ++stats.backoffs;
    Status s = loop->UpdateHandler(fd, 0);
    Report(Error::Os(err, "accept4", addr.ToString()));  // ACCEPT-012: once per back-off
    if (!s.ok()) {                                       // cannot pause: stop rather than spin
      Report(s.error());
      Remove();
      return;
    }
    std::weak_ptr<State> weak = weak_from_this();
    resume_timer = loop->CallLater(BackoffNanos(options.backoff), [weak] {
      if (auto st = weak.lock()) st->Resume();
    });
  }

  void Resume() {
    resume_timer.reset();
    paused = false;
    if (removed) return;
    Status s = loop->UpdateHandler(fd, IoLoop::kRead);
    if (!s.ok()) {
      Report(s.error());
      Remove();
    }
  }

  void Report(const Error& e) {
    if (on_error) on_error(e);
  }

  void Remove() {  // ACCEPT-016
    if (removed) return;
    removed = true;
    loop->RemoveHandler(fd);
    if (resume_timer) {
      loop->CancelTimer(*resume_timer);
      resume_timer.reset();
    }
  }
};

void AcceptHandle::remove() {
  if (state_) state_->Remove();
}

bool AcceptHandle::active() const { return state_ && !state_->removed; }

bool AcceptHandle::paused() const { return state_ && state_->paused; }

AcceptStats AcceptHandle::stats() const { return state_ ? state_->stats : AcceptStats{}; }

Result<AcceptHandle> add_accept_handler(IoLoop& loop, Sys& sys, const Listener& listener,
                                        AcceptCallback callback, AcceptOptions options,
                                        AcceptErrorCallback on_error) {
  // ACCEPT-015
  if (options.batch < 1) {
    return Error::Argument("batch", "batch " + std::to_string(options.batch) + " is below 1");
  }
  if (options.backoff.count() < 0) {
    return Error::Argument(
        "backoff", "backoff " + std::to_string(options.backoff.count()) + " ms is negative");
  }
  if (listener.fd.get() < 0) {
    return Error::Argument("listener", "listener has no open fd");
  }
  if (!callback) return Error::Argument("callback", "callback is empty");

  auto state = std::make_shared<AcceptHandle::State>();
  state->loop = &loop;
  state->sys = &sys;
  state->fd = listener.fd.get();
  state->addr = listener.addr;
  state->callback = std::move(callback);
  state->on_error = std::move(on_error);
  state->options = options;

  // ACCEPT-001
  Status s =
      loop.AddHandler(state->fd, IoLoop::kRead, [state](int, uint32_t) { state->OnReadable(); });
  if (!s.ok()) return s.error();
  return AcceptHandle(std::move(state));
}

}  // namespace netutil
