// A real fd shortage for a case (docs/CONFORMANCE.md, "Steps"): EMFILE made
// by the kernel from the implementation's own RLIMIT_NOFILE, with clients
// really queued, instead of an injected EMFILE that no kernel would keep
// giving once the implementation frees an fd (libuv and Twisted close a
// reserve fd on EMFILE to accept and shed the queued clients).
//
//   {"exhaust_fds": {"spare": N}}     the implementation's soft RLIMIT_NOFILE
//                                     becomes the number below which exactly N
//                                     fd numbers are free (default 0: its lowest
//                                     free fd), so its next N fds open and the
//                                     one after fails EMFILE; closing any fd
//                                     lets exactly one more in. Result:
//                                     {"limit": L, "spare": N, "open": its open
//                                     fds, "was": the soft limit before the
//                                     case's first exhaust_fds}
//   {"exhaust_fds": {"limit": L}}     the soft RLIMIT_NOFILE becomes L itself,
//                                     as `prlimit --nofile=L:` by an admin on a
//                                     running server: the implementation keeps
//                                     every fd it has (a lower limit closes
//                                     nothing), but no fd number at or above L
//                                     opens, so an fd it frees there (a reserve
//                                     fd) makes no room. "spare" and "limit"
//                                     exclude each other. Result as above, its
//                                     "spare" the free fd numbers below L
//   {"restore_fds": {"after_ms": N}}  that first soft limit again, now (default)
//                                     or N ms later while the next steps run (a
//                                     serve in back-off); a later step of
//                                     either kind cancels one still pending.
//                                     Result: {"limit": L, "after_ms": N}
//
// The hard limit is never changed. Whatever the steps did, the first soft
// limit is put back when the case's steps end, before the implementation is
// asked to exit (and before the in-process worker cleans up).
//
// Whose limit: the implementation's own process (Session::ProcessId, prlimit
// on it), the fake kernel's (its fd table and fd_limit, the restore on its
// clock), or in --mode inprocess the case's worker process, which also holds
// the case's clients: there each connect, hold, make or check step runs with
// the limit lifted and the exhaustion is then made again with the same spare
// (or the same limit), so the implementation still has exactly N fds to open.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace netutil::conform {

class Session;

// The step verbs of this file.
inline constexpr const char* kExhaustFds = "exhaust_fds";
inline constexpr const char* kRestoreFds = "restore_fds";
bool IsFdVerb(const std::string& verb);

// Bounds of the steps' arguments (docs/CONFORMANCE.md, "Limits").
inline constexpr long long kMaxSpareFds = 4096;
inline constexpr long long kMaxFdLimit = 4096;
inline constexpr long long kMaxRestoreAfterMs = 10000;

// What is wrong with an exhaust_fds or restore_fds step's argument, for the
// catalog check: an object with only its own keys (exhaust_fds: "spare" or
// "limit", not both), an integer within bounds.
std::optional<std::string> FdStepProblem(const std::string& verb, const nlohmann::json& arg);

// The soft limit that leaves exactly `spare` fd numbers free below it, given
// the open fds (any order): the (spare+1)-th free number from 0.
long long LimitForSpare(std::vector<int> open, long long spare);

// The free fd numbers below `limit`, given the open fds (any order).
long long FreeBelow(std::vector<int> open, long long limit);

// The fd table and RLIMIT_NOFILE of an implementation.
class FdTable {
 public:
  virtual ~FdTable() = default;
  // Its open fd numbers, ascending.
  virtual std::optional<std::vector<int>> OpenFds(std::string* why) = 0;
  // RLIMIT_NOFILE's soft and hard limits (RLIM_INFINITY as a large number).
  virtual std::optional<std::pair<long long, long long>> Limits(std::string* why) = 0;
  // Sets the soft limit; why it could not.
  virtual std::optional<std::string> SetSoftLimit(long long soft) = 0;
  // Whether the harness's own actions open their fds in this table too.
  virtual bool SharedWithHarness() const { return false; }
  // Runs `fn` after `delay` on the table's own clock (the fake kernel's,
  // which moves only as the implementation waits); false: the table has none
  // and the caller runs it from a thread after real time.
  virtual bool ScheduleOnClock(std::chrono::milliseconds /*delay*/, std::function<void()> /*fn*/) {
    return false;
  }
};

// The table of the process `pid` (/proc/PID/fd and prlimit(2)). `shared`:
// the harness runs in that process too (the in-process worker, pid ==
// getpid()).
std::unique_ptr<FdTable> ProcessFdTable(pid_t pid, bool shared);

// A case's exhaust_fds and restore_fds on one table.
class FdRoom {
 public:
  explicit FdRoom(std::unique_ptr<FdTable> table);
  ~FdRoom();
  FdRoom(const FdRoom&) = delete;
  FdRoom& operator=(const FdRoom&) = delete;

  // The steps, with their argument as CheckStep let it through; why not.
  std::optional<std::string> Exhaust(const nlohmann::json& arg, nlohmann::json* result);
  std::optional<std::string> Restore(const nlohmann::json& arg, nlohmann::json* result);
  // The first soft limit back now, a later restore cancelled: at the case's end.
  void Finish();

  // Around one of the harness's own actions (a connect, hold, make or check):
  // on a table shared with the harness, the limit is lifted for it and the
  // exhaustion made again after. Nothing on any other table, or with none.
  class HarnessAction {
   public:
    explicit HarnessAction(FdRoom* room);
    ~HarnessAction();
    HarnessAction(const HarnessAction&) = delete;
    HarnessAction& operator=(const HarnessAction&) = delete;

   private:
    FdRoom* room_;
  };

 private:
  // What an exhaust_fds asked for: `n` spare fds, or the limit `n` itself.
  struct Shortage {
    bool by_limit = false;
    long long n = 0;
  };
  // Under mu_: the limit the shortage asks for, set; the result.
  std::optional<std::string> ExhaustLocked(Shortage want, nlohmann::json* result);
  std::optional<std::string> RestoreLocked();
  void CancelTimer();

  std::mutex mu_;
  std::unique_ptr<FdTable> table_;
  std::optional<long long> first_soft_;  // before the first exhaust_fds
  std::optional<Shortage> shortage_;     // while exhausted: what was asked for
  bool finished_ = false;
  // A later restore: a thread on the real kernel, or a token the fake
  // kernel's scheduled call checks.
  std::thread timer_;
  std::condition_variable timer_cv_;
  bool timer_cancelled_ = false;
  std::shared_ptr<bool> clock_token_;
};

// The room of a session: the table it offers (Session::fd_table), else its
// process's; nullptr with why when it has neither.
std::unique_ptr<FdRoom> OpenFdRoom(Session& session, std::string* why);

// Whether the case has an exhaust_fds step.
bool ExhaustsFds(const nlohmann::json& steps);

}  // namespace netutil::conform
