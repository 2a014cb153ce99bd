// FuzzedSys: a Sys whose every answer is read from fuzz input (in the style of
// Bitcoin Core's FuzzedSock). Each call returns a legal result or an errno
// that call can really return, and tracks just enough state for oracles: which
// fds are open, which listen, what is bound, the umask, which unix socket
// files exist.
//
// The errnos come from fakes' syscall table (LegalErrnos), the list the fault
// plans, the FakeKernel and the sweep use, less the ones this model decides
// itself: EBADF/ENOTSOCK (it knows which fds are open sockets, and answers
// EBADF for any other), EFAULT (no pointer crosses the seam), and the
// epoll_ctl/epoll_wait/epoll_create1 errors its single epoll set rules out.
//
// When the input runs out, every call gives the answer that ends loops
// (accept4 -> EAGAIN, epoll_wait -> 0 events, socket -> EMFILE), so no target
// can hang.
//
// Misuse by the code under test (closing an fd it does not own, using a
// closed fd) is recorded as a violation; targets abort on any.
//
// Cheap on purpose: it runs on every syscall of every input, so its state is
// a fixed fd table and per-call counters indexed by fakes::Call, and a call
// allocates nothing beyond its own result (getaddrinfo's list).
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "netutil/fakes/syscall_table.h"
#include "netutil/sys.h"

// Marks harness code a target defines itself (a decorating Sys, say) that
// runs on every syscall: left out of coverage like FuzzedSys (see
// fuzz/CMakeLists.txt). clang >= 13 knows no_sanitize("coverage"); other
// compilers build no libFuzzer target, so nothing is lost there.
#if defined(__clang__) && __clang_major__ >= 13
#define NETUTIL_FUZZ_HARNESS __attribute__((no_sanitize("coverage")))
#else
#define NETUTIL_FUZZ_HARNESS
#endif

namespace netutil::fuzz {

using fakes::Call;

// Recording (fuzz/corpus_recorder.cc): the answers of a run recorded from a
// test, given to FuzzedSys in place of fuzz input. FuzzedSys asks exactly
// what it would read from the input, in the same order, and writes the bytes
// that decode to each answer; so the seed replays that run, and the encoding
// cannot drift from the decoding: both are this class's code.
class AnswerScript {
 public:
  virtual ~AnswerScript() = default;
  // No answers left: the input ends here (every later call gets the
  // end-of-input answer). Once true, it is not asked again.
  virtual bool Spent() = 0;
  // The call's answer: 0 for success, else an errno (an EAI_* code for getaddrinfo).
  virtual int Outcome(Call call) = 0;
  // Details of a success just answered: what getaddrinfo resolved (ports
  // are ignored), the port the kernel picked for a port-0 bind, the type of
  // the file lstat/stat found (S_IFSOCK, ...), whether epoll_wait reports `fd`
  // readable, how long epoll_wait took when something was ready.
  virtual std::vector<SockAddr> Addresses(const std::optional<std::string>& host, int family) = 0;
  virtual uint16_t Port() = 0;
  virtual uint32_t FileType(const std::string& path) = 0;
  virtual bool Ready(int fd) = 0;
  virtual int ElapsedMs(int timeout_ms) = 0;
};

class FdpWriter;

class FuzzedSys final : public Sys {
 public:
  // The process's RLIMIT_NOFILE: fds 0..kFdLimit-1; socket(), accept4() and
  // epoll_create1() fail with EMFILE when all are taken, as the kernel does.
  static constexpr int kFdLimit = 64;

  // Fuzzing and replay: every answer from `in`.
  explicit FuzzedSys(FuzzedDataProvider& in) : in_(&in) {}
  // Recording: every answer from `script`, written to `out` as input bytes.
  FuzzedSys(AnswerScript& script, FdpWriter& out) : script_(&script), out_(&out) {}
  FuzzedSys(const FuzzedSys&) = delete;
  FuzzedSys& operator=(const FuzzedSys&) = delete;

  // While true, every call succeeds without reading input: for a target's own set-up.
  void set_setup(bool on) { setup_ = on; }

  // What the oracles look at.
  int open_fd_count() const { return open_count_; }
  bool is_open(int fd) const { return InRange(fd) && fds_[fd].open; }
  bool is_listening(int fd) const { return is_open(fd) && fds_[fd].listening; }
  int calls() const { return calls_; }
  int calls_of(Call call) const { return per_call_[static_cast<size_t>(call)]; }
  mode_t current_umask() const { return umask_; }
  // Whether a bind() created the unix socket file `path` and nothing removed it.
  bool file_exists(std::string_view path) const;
  // The unix socket files bind created that are still there. A file reached
  // through a directory fd is named "/proc/self/fd/N/name" (the *at calls
  // and the bind through /proc agree on it).
  const std::vector<std::string>& files() const { return files_; }
  // How many times unlink() (or unlinkat, by the name above) was called on
  // `path`, whatever it answered.
  int unlink_calls(std::string_view path) const;
  const std::vector<std::string>& violations() const { return violations_; }
  // The mask epoll was last told for `fd` (0 when not registered).
  uint32_t epoll_mask(int fd) const { return is_open(fd) ? fds_[fd].epoll_mask : 0; }
  std::chrono::nanoseconds now() const { return now_; }

  // Recording: why an answer of the script could not be written as input (an
  // errno this model never returns, an address outside its pool, ...); empty
  // when every answer was. A seed with a problem is not kept.
  const std::string& recording_problem() const { return problem_; }
  // Whether getaddrinfo can answer `a` (its port aside): the addresses it
  // resolves to come from a small pool.
  static bool InPool(const SockAddr& a);
  // Whether `call` can fail with `err` here (getaddrinfo: an EAI_* code).
  static bool CanAnswer(Call call, int err);
  // Every answer taken, in order (the outcome of each call that read one, and
  // each detail), appended to `log` when set: the recorder compares the
  // recording's log with the log of the seed's replay.
  void set_answer_log(std::vector<long long>* log) { log_ = log; }

  // netutil::Sys: every method of sys_calls.def.
#define NETUTIL_SYS_METHOD NETUTIL_SYS_OVERRIDE
#include "netutil/sys_calls.def"

 private:
  struct Slot {
    bool open = false;
    bool listening = false;
    bool registered = false;  // in the epoll set
    uint32_t epoll_mask = 0;
    // Only bound sockets have an address; optional so that an unused slot
    // costs no SockAddr (sockaddr_storage) initialisation per input.
    std::optional<SockAddr> local;
  };

  static bool InRange(int fd) { return fd >= 0 && fd < kFdLimit; }
  void Count(Call call) {
    ++calls_;
    ++per_call_[static_cast<size_t>(call)];
  }
  // False (and a violation recorded) when `fd` is not open.
  bool Known(int fd, const char* call);
  // Reads whether the call succeeds; on failure, which legal errno it fails
  // with. `exhausted_err` is the answer once the input is spent (0 = succeed).
  int Outcome(Call call, int exhausted_err);
  // Whether the input is spent (recording: the script).
  bool Spent();
  // A value in [lo, hi] from the input, or when recording, `wanted()` written
  // as input. Every read but Outcome's goes through here.
  template <typename T, typename Wanted>
  T Take(T lo, T hi, Wanted&& wanted);
  void Problem(std::string what);
  int NewFd();                                                     // -1 when every fd is taken
  SysResult<FileStat> StatOf(Call call, const std::string& path);  // lstat and stat
  // "/proc/self/fd/N/name": the name of a file under directory fd N.
  static std::string AtKey(int dirfd, const std::string& path);

  FuzzedDataProvider* in_ = nullptr;  // fuzzing and replay
  AnswerScript* script_ = nullptr;    // recording
  FdpWriter* out_ = nullptr;          // recording
  bool spent_ = false;                // recording: the script said Spent()
  std::string problem_;
  std::vector<long long>* log_ = nullptr;
  bool setup_ = false;
  int calls_ = 0;
  int open_count_ = 0;
  std::array<int, fakes::kAllCalls.size()> per_call_{};
  // Default-initialised, not value-initialised ({}): each Slot runs its own
  // member initialisers, and the 64 unused SockAddr storages stay untouched.
  std::array<Slot, kFdLimit> fds_;
  std::vector<std::string> files_;     // unix socket files created by bind (rarely > 1)
  std::vector<std::string> unlinked_;  // every unlink() path, in order
  std::vector<std::string> violations_;
  mode_t umask_ = 022;
  std::chrono::nanoseconds now_{1'000'000'000};
};

// Aborts with every violation printed when the list is not empty.
void AbortOnViolations(const FuzzedSys& sys, const char* where);

// Aborts with `what` printed: an oracle failed.
[[noreturn]] void FailOracle(std::string_view what);

// Aborts when `ok` is false. The message is a literal, or a callable that
// builds it: the callable only runs on failure, so an oracle that holds costs
// no string formatting (it runs on every input).
inline void Check(bool ok, std::string_view what) {
  if (!ok) FailOracle(what);
}
template <typename Describe>
requires std::is_invocable_r_v<std::string, Describe>
inline void Check(bool ok, Describe&& describe) {
  if (!ok) FailOracle(std::forward<Describe>(describe)());
}

}  // namespace netutil::fuzz
