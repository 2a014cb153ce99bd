// A child process on pipes: its stdin and stdout are ours, its stderr goes to
// /dev/null, to ours, into a bounded tail we keep, or to a file. Reads and writes hold a
// deadline whatever the child does (a byte at a time, a flood without a
// newline, nothing at all); the child is killed (its process group with
// own_process_group) and reaped at the latest on destruction. Shared by
// netconform (adapter sessions), the benchmark drivers (servers under load)
// and the interposer's tests (programs under LD_PRELOAD).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netutil::tools {

using Clock = std::chrono::steady_clock;

// The last `limit` bytes of a stream, and how many came before them.
class BoundedTail {
 public:
  explicit BoundedTail(size_t limit) : limit_(limit) {}
  void Append(std::string_view data);
  const std::string& kept() const { return kept_; }
  size_t dropped() const { return dropped_; }
  size_t limit() const { return limit_; }

 private:
  size_t limit_;
  std::string kept_;
  size_t dropped_ = 0;
};

struct ChildSpec {
  // What runs: `file`, or argv[0] when `file` is empty; looked up in PATH
  // when it has no '/'.
  std::vector<std::string> argv;
  std::string file;
  // "NAME=value", over this process's environment (a name here wins).
  std::vector<std::string> extra_env;
  // Names of this process's environment the child does not get (unless
  // extra_env sets them).
  std::vector<std::string> unset_env;
  // kFile: written to `stderr_file`, made (0600) or truncated, so it can be
  // read after the child is gone.
  enum class Stderr { kDevNull, kInherit, kTail, kFile };
  Stderr stderr_to = Stderr::kDevNull;
  // With kTail: how much of the end of the child's stderr is kept.
  size_t stderr_tail_bytes = 64 << 10;
  std::string stderr_file;
  // A process group of its own: Kill() then ends the child's children too.
  bool own_process_group = false;
  // SIGKILL when this process dies (PR_SET_PDEATHSIG), so a crashed driver
  // leaves nothing behind. Starts the child with fork + exec; without it,
  // posix_spawn (no fork of a large, threaded parent).
  bool die_with_parent = false;
};

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;

  // Starts the child (killing one this object still holds). Returns "" on
  // success, else why not ("pipe2: EMFILE (...)", "cannot start x: ENOENT").
  std::string Start(const ChildSpec& spec);

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  enum class Io { kDone, kTimeout, kClosed, kTooLong, kFailed };

  // One line of the child's stdout, without its newline, by `deadline`.
  // Linear in its length; never buffers more than max_line + 1 bytes:
  // kTooLong as soon as more than `max_line` bytes stand without a newline.
  // kClosed at end of output; kFailed with error() set.
  Io ReadLine(Clock::time_point deadline, size_t max_line, std::string* line);
  // ReadLine with a timeout and no length limit beyond memory's: the line, or
  // nullopt on timeout, end of output or failure.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout);
  // What was read from stdout but not yet returned as a line.
  const std::string& unread() const { return unread_; }
  // Up to `max` bytes the child wrote to stdout that are there now, without
  // waiting ("" when none); unread() first.
  std::string ReadAvailable(size_t max);

  // All of `data` to the child's stdin by `deadline`; kClosed when its stdin
  // is gone (closed, or the child exited: EPIPE), kFailed with error() set.
  Io WriteAll(std::string_view data, Clock::time_point deadline);
  // `line` and a newline, within `timeout`; false when not all of it went.
  bool WriteLine(const std::string& line,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // End of input: servers and adapters exit on it.
  void CloseStdin();

  // Waits by `deadline` for the child to exit, reading its stdout meanwhile
  // (the first `output_limit` bytes into `output` when not null) and draining
  // its stderr. Does not reap it: until Kill(), its pid, and so its process
  // group ID, cannot be reused, so the group can still be killed safely.
  // The wait status; nullopt when it still runs at the deadline.
  std::optional<int> WaitForExit(Clock::time_point deadline, std::string* output = nullptr,
                                 size_t output_limit = 4096);
  // Closes stdin, waits at most `timeout` for the child to exit, then kills
  // and reaps it. The wait status, or -1 when it had to be killed.
  int Stop(std::chrono::milliseconds timeout);
  // SIGKILL to the child (to its group with own_process_group) and reap;
  // closes our ends of its pipes, after a last drain of its stderr.
  void Kill();

  // The kept tail of stderr (with ChildSpec::Stderr::kTail), drained first.
  const BoundedTail& stderr_tail();
  // Why the last read or write gave kFailed: the call and its errno.
  struct IoError {
    const char* call = "";  // "poll", "read" or "write"
    int err = 0;
  };
  const IoError& error() const { return error_; }
  // SIGKILL to the child (its group with own_process_group) without reaping
  // it: a group ID stays reserved until Kill() reaps, so a caller can take it
  // off its own lists between the two.
  void SendKill();

 private:
  // Polls `fd` for `events` (none when fd < 0) until ready or the deadline,
  // draining stderr meanwhile. 1: ready; 0: the deadline; -1: poll failed.
  int PollDraining(int fd, short events, Clock::time_point deadline);
  Io Fail(const char* call);
  void DrainStderr();
  void CloseFds();
  void MoveFrom(ChildProcess& other);

  pid_t pid_ = -1;
  bool own_group_ = false;
  int stdin_ = -1;   // our write end
  int stdout_ = -1;  // our read end
  int stderr_ = -1;  // our read end (kTail), non-blocking
  std::string unread_;
  BoundedTail stderr_tail_{0};
  IoError error_;
};

}  // namespace netutil::tools
