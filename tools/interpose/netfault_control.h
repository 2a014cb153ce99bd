// The control region of libnetfault.so, the LD_PRELOAD interposer: one block
// of shared memory that the runner (netconform, the interposer's tests, the
// overhead benchmark) creates and the traced process maps, both MAP_SHARED, so
// the runner can change the fault plan between requests and read the trace as
// it grows without a second channel to the implementation.
//
// Environment of the traced process (docs/INTERPOSER.md says the same):
//
//   LD_PRELOAD=<dir>/libnetfault.so     loads the interposer
//   NETFAULT_CONTROL_FD=<n>             the control region as an inherited fd:
//                                       a sealed memfd (CreateSealed), what
//                                       netconform passes; wins over the next
//   NETFAULT_CONTROL=<path>             the control region as a file (Create):
//                                       for trusted programs only (the
//                                       benchmark, runs by hand), see below
//   (neither set, or empty: the interposer passes every call through)
//   ASAN_OPTIONS=verify_asan_link_order=0
//                                       only for an ASan-built program: ASan
//                                       refuses to start when a preloaded
//                                       library comes before its runtime
//
// A missing, short or garbled region (bad magic, version, sizes) makes the
// interposer write one line on stderr ("netfault: NETFAULT_CONTROL...: why;
// passing every call through") and pass every call through.
//
// The traced process is untrusted: it can write anywhere in the region. So
//   - netconform's region is a memfd sealed against shrinking and growing
//     (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL): ftruncate fails with EPERM,
//     and no mapping of it can ever fault with SIGBUS. A file (Create) has no
//     such protection: a program that truncates it kills whoever maps it,
//     runner included; hence it is kept only for programs the runner trusts.
//   - Each side keeps the layout it created or validated in private memory
//     and never reads an offset or size from the region again.
//   - The runner reads every value the traced process can write (the trace's
//     write offset, the records, the dropped counts, the fd table) once into
//     private memory and validates it (bounds, alignment, call numbers,
//     monotonic counters, the config generation only it writes) before use:
//     Check(), ReadSince() and OpenSockets() say "what" is corrupted instead.
//
// Layout (host byte order; the region never leaves the machine):
//
//   [0, 4096)            Header: magic "NETFAULT", version, the offset and
//                        size of each area, the generation, the trace's write
//                        offset, per-call dropped counts, the owner pid
//   config area          ConfigHead (flags, plan length, resolver length), the
//                        fault plan text (fakes/fault_plan.h's format, as
//                        FaultPlan::Print() writes it), the resolver text
//                        (PrintResolver() below)
//   trace area           records: TraceRecord head (length, call), the record
//                        text (TraceRecordText below), padded to 8 bytes;
//                        appended by the traced process
//   fd table             one byte per fd (0 closed/unknown, 1 socket, 2 epoll),
//                        kept by the traced process
//
// Config changes use the generation as a sequence lock: the writer makes it
// odd, writes the area, then makes it even again (each write +2 in all); the
// interposer compares it with the generation it last read on every call (one
// atomic load) and re-reads the config when it changed. A re-read restarts
// the fault counts, as FaultInjector::Reset does in-process.
//
// The trace is append-only: a writer reserves space with one fetch_add on the
// write offset, copies the line, then publishes the record by storing its
// length (release); readers stop at the first record whose length is still 0.
// A line that does not fit is not written; its call's dropped count goes up
// instead, so call counts stay exact when the area is full.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netutil/fakes/resolver_table.h"
#include "netutil/fakes/trace_entry.h"

namespace netutil::netfault {

inline constexpr char kMagic[8] = {'N', 'E', 'T', 'F', 'A', 'U', 'L', 'T'};
inline constexpr uint32_t kVersion = 1;
inline constexpr size_t kHeaderBytes = 4096;
// One dropped counter per fakes::Call, with room for calls added later.
inline constexpr size_t kMaxCalls = 32;

// What the traced process applies (fakes::InjectingSys's switches).
struct Config {
  std::string plan;      // fault-plan text; empty: no rule
  std::string resolver;  // PrintResolver() text; empty: no override
  bool ipv6_missing = false;
  bool trace = true;  // off: no trace lines (faults still apply); for benchmarks
  // On: until the process first reads data from its stdin (an adapter's
  // first request: read, readv, or stdio's fgets, getline, fread, getc and
  // the like on stdin, netfault_stdin.cc), every call passes through
  // untraced and unfaulted, so a shell that execs the adapter, an
  // interpreter's imports and the adapter's own start-up are not the
  // implementation's calls. netconform sets it.
  bool wait_for_stdin = false;
};

// How big the areas of a new file are.
struct Sizes {
  size_t config_bytes = 1 << 20;
  size_t trace_bytes = 16 << 20;
  size_t max_fds = 1 << 16;  // fds at or above are not tracked
};

enum class FdKind : uint8_t { kNone = 0, kSocket = 1, kEpoll = 2 };

// A traced call as a record's text: its line (fakes::FormatTraceLine), a
// newline, and its fields as one JSON object (fakes::TraceFields). The line
// is for people and text patterns, the fields for patterns by field; the
// reader checks both like everything else in the region.
std::string TraceRecordText(const fakes::TraceEntry& entry);

// One trace record and the call it is of (a fakes::Call, as a number).
struct TraceLine {
  uint16_t call = 0;
  std::string text;    // the line
  std::string fields;  // the fields, JSON text as the traced process wrote it
};

// Where a reader starts: the write offset and the dropped counts at that time.
struct TraceMark {
  uint64_t offset = 0;
  std::array<uint64_t, kMaxCalls> dropped{};
};

struct TraceSince {
  std::vector<TraceLine> lines;               // in the order they were published
  std::array<uint64_t, kMaxCalls> unkept{};   // per call: records past ReadSince's max_lines
  std::array<uint64_t, kMaxCalls> dropped{};  // per call, since the mark
  TraceMark end;                              // where the next read starts
  // Non-empty: the region is corrupted (what is wrong, "trace record at
  // offset 64: call 200 is no call"); the rest is what was read before.
  std::string corrupted;
};

// The parts of the region both sides use through std::atomic: lock-free and
// address-free on every platform this builds on, so sharing them between
// processes is defined.
static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<uint8_t>::is_always_lock_free);

class ControlFile {
 public:
  ~ControlFile();
  ControlFile(const ControlFile&) = delete;
  ControlFile& operator=(const ControlFile&) = delete;

  // --- the runner's side ---
  // A new region in a sealed memfd (close-on-exec; hand fd() to the child as
  // NETFAULT_CONTROL_FD, on a descriptor without FD_CLOEXEC) holding `config`.
  static std::unique_ptr<ControlFile> CreateSealed(const Config& config, const Sizes& sizes,
                                                   std::string* error);
  // A new region in the file `path` (which must not exist): for programs the
  // runner trusts only (a truncated file is SIGBUS for every mapping).
  static std::unique_ptr<ControlFile> Create(const std::string& path, const Config& config,
                                             const Sizes& sizes, std::string* error);

  // --- the traced process's side ---
  // Maps an existing region and checks its header; nullptr with `error`
  // saying what is wrong ("no such file", "bad magic", "version 7, not 1", ...).
  static std::unique_ptr<ControlFile> Attach(const std::string& path, std::string* error);
  // The same for an inherited descriptor, which stays open (a program the
  // traced one execs attaches through it again).
  static std::unique_ptr<ControlFile> AttachFd(int fd, std::string* error);

  // The file's path, or "memfd:netfault" for a sealed region.
  const std::string& path() const { return path_; }
  // The memfd of CreateSealed (close-on-exec); -1 otherwise.
  int fd() const { return fd_; }

  // --- the config ---
  // Replaces the config (the runner); false (with `error`) when it does not fit.
  bool WriteConfig(const Config& config, std::string* error);
  // One atomic load; even when no write is in progress.
  uint64_t generation() const;
  // The config and the generation it belongs to (the traced process); nullopt
  // when the area is garbled (lengths past its end) or a write never finished.
  std::optional<Config> ReadConfig(uint64_t* generation, std::string* error) const;

  // --- the trace ---
  // Appends one line (the traced process); false when the area is full (the
  // call's dropped count goes up instead).
  bool Append(uint16_t call, std::string_view line);
  // Whether the area has no room left, so a caller can skip formatting.
  bool TraceFull() const;
  TraceMark Mark() const;
  // The records published since `mark`, each read once and validated; at
  // most `max_lines` kept as text, the rest only counted (`unkept`). Reads at
  // most the trace area's size, whatever the region says.
  TraceSince ReadSince(const TraceMark& mark, size_t max_lines = SIZE_MAX) const;
  uint64_t TraceBytesUsed() const;
  uint64_t DroppedTotal() const;

  // The runner: whether the header is still what it wrote and its counters
  // only went forward since the last Check. False with `error` saying what is
  // corrupted; each value is read from the region once.
  bool Check(std::string* error);

  // --- fds and the owner ---
  // The fd table belongs to one process (its fd numbers mean nothing in
  // another): the first to claim it. True when `pid` is (now) the owner.
  bool ClaimOwner(pid_t pid);
  pid_t owner() const;
  void SetFd(int fd, FdKind kind);
  FdKind GetFd(int fd) const;
  // Marks [first, last] (clamped to the table) as kNone: fds closed together.
  void ClearFds(uint64_t first, uint64_t last);
  // The owner's open socket fds, ascending (epoll fds are not sockets), from
  // one private copy of the table. A byte that is no FdKind sets `error`
  // ("fd table: fd 7 holds 9") and is skipped.
  std::vector<int> OpenSockets(std::string* error = nullptr) const;

 private:
  struct Header;
  // Where the areas are: written by Create, or validated by Attach, once.
  struct Layout {
    uint64_t file_bytes = 0;
    uint64_t config_offset = 0;
    uint64_t config_bytes = 0;
    uint64_t trace_offset = 0;
    uint64_t trace_bytes = 0;
    uint64_t fds_offset = 0;
    uint64_t max_fds = 0;
  };
  ControlFile(std::string path, void* base, const Layout& layout, int fd);
  static std::unique_ptr<ControlFile> CreateOn(int fd, std::string name, const Config& config,
                                               const Sizes& sizes, std::string* error);
  static std::unique_ptr<ControlFile> AttachTo(int fd, std::string name, std::string* error);
  Header* header() const;
  char* at(uint64_t offset) const;

  std::string path_;
  void* base_ = nullptr;
  Layout layout_;
  int fd_ = -1;
  // The runner's own record of what it wrote and read, never the region's.
  uint64_t written_generation_ = 0;
  uint64_t checked_used_ = 0;
  std::array<uint64_t, kMaxCalls> checked_dropped_{};
};

// The resolver text: one host a line, "#" lines and blank lines ignored.
//
//   conform.test = 127.0.0.1 ::1          addresses in order (IP literals, ports
//                                        are the caller's); none after "=" is
//                                        an empty list
//   flaky.test = EAI_AGAIN                a failure
//   broken.test = EAI_SYSTEM EIO          EAI_SYSTEM with its errno
//
// The host is percent-encoded: every byte outside [A-Za-z0-9._:-] becomes %XX,
// and the empty name is a lone "%", so any name fits on one line.
std::string PrintResolver(const fakes::ResolverTable& table);
std::optional<fakes::ResolverTable> ParseResolver(std::string_view text, std::string* error);

}  // namespace netutil::netfault
