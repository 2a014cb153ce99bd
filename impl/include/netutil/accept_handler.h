// add_accept_handler: drain a listening socket on each readiness event, as
// Tornado's netutil.add_accept_handler does, strict where Tornado is weak
// (EMFILE back-off instead of a busy loop, atomic non-blocking/close-on-exec,
// per-connection errors skipped). Rules ACCEPT-xxx of docs/SPEC.md.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "netutil/bind_sockets.h"
#include "netutil/fd.h"
#include "netutil/io_loop.h"
#include "netutil/listener.h"
#include "netutil/result.h"
#include "netutil/sock_addr.h"
#include "netutil/sys.h"

namespace netutil {

struct AcceptOptions {
  // Most connections accepted per readiness event (ACCEPT-002). >= 1.
  int batch = kDefaultBacklog;
  // How long accepting pauses after EMFILE/ENFILE/ENOBUFS/ENOMEM (ACCEPT-011).
  std::chrono::milliseconds backoff{1000};
};

// How the drain loop treats an accept4() errno (ACCEPT-004, ACCEPT-005, ACCEPT-009,
// ACCEPT-010, ACCEPT-011, ACCEPT-014).
enum class AcceptErrorClass {
  kRetry,     // EINTR: call again, the slot is not used
  kEndBatch,  // EAGAIN/EWOULDBLOCK: the queue is empty
  kSkip,      // ECONNABORTED, EPROTO, ...: that connection is gone, go on
  kBackoff,   // EMFILE, ENFILE, ENOBUFS, ENOMEM: pause accepting for a while
  kFatal,     // anything else: report once and remove the handler
};
AcceptErrorClass ClassifyAcceptError(int err);

// The connection is owned by the callback; dropping the Fd closes it.
using AcceptCallback = std::function<void(Fd conn, const SockAddr& peer)>;
// Called once per back-off period for resource errors, and once for a fatal
// error (after which the handler is removed). Optional.
using AcceptErrorCallback = std::function<void(const Error& error)>;

// What the handler did, for tests, the adapter and benchmarks.
struct AcceptStats {
  long long events = 0;    // readiness events handled
  long long accepted = 0;  // connections handed to the callback
  long long skipped = 0;   // per-connection errors skipped (ECONNABORTED, EPROTO, ...)
  long long backoffs = 0;  // times accepting was paused for a resource error
  long long accept_calls = 0;
  int last_batch = 0;  // connections accepted in the last event
  int largest_batch = 0;
};

class AcceptHandle {
 public:
  AcceptHandle() = default;
  ~AcceptHandle() { remove(); }
  AcceptHandle(AcceptHandle&&) noexcept = default;
  AcceptHandle& operator=(AcceptHandle&& other) noexcept {
    if (this != &other) {
      remove();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  AcceptHandle(const AcceptHandle&) = delete;
  AcceptHandle& operator=(const AcceptHandle&) = delete;

  // Stops accepting: unregisters the handler, cancels a pending back-off, and
  // ends the batch in progress when called from the callback. Idempotent.
  void remove();
  bool active() const;
  // Whether accepting is paused by a resource-error back-off.
  bool paused() const;
  AcceptStats stats() const;

  struct State;  // defined in accept_handler.cc
  explicit AcceptHandle(std::shared_ptr<State> state) : state_(std::move(state)) {}

 private:
  std::shared_ptr<State> state_;
};

// Registers a read handler for `listener` on `loop`. The listener stays owned by
// the caller and must outlive the handle. Dropping the handle removes it.
Result<AcceptHandle> add_accept_handler(IoLoop& loop, Sys& sys, const Listener& listener,
                                        AcceptCallback callback, AcceptOptions options = {},
                                        AcceptErrorCallback on_error = nullptr);

}  // namespace netutil
