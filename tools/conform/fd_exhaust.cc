#include "fd_exhaust.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>

#include "host.h"
#include "json_match.h"
#include "kernel_view.h"
#include "netutil/errno_name.h"
#include "target.h"

namespace netutil::conform {

using nlohmann::json;

bool IsFdVerb(const std::string& verb) { return verb == kExhaustFds || verb == kRestoreFds; }

namespace {

// The keys each verb takes, and their bounds: exhaust_fds "spare" or
// "limit", restore_fds "after_ms".
long long MaxOf(const std::string& key) {
  if (key == "spare") return kMaxSpareFds;
  if (key == "limit") return kMaxFdLimit;
  return kMaxRestoreAfterMs;
}

// The integer at `key`, 0 when absent; CheckStep has seen it is one in bounds.
long long ArgOf(const json& arg, const char* key) {
  long long v = 0;
  (void)host::SpecInt(arg, key, 0, MaxOf(key), &v);
  return v;
}

long long AsLimit(rlim_t v) {
  return v == RLIM_INFINITY || v > static_cast<rlim_t>(std::numeric_limits<long long>::max())
             ? std::numeric_limits<long long>::max()
             : static_cast<long long>(v);
}

class ProcessTable final : public FdTable {
 public:
  ProcessTable(pid_t pid, bool shared) : pid_(pid), shared_(shared) {}

  std::optional<std::vector<int>> OpenFds(std::string* why) override {
    return OpenFdsOf(pid_, why);
  }
  std::optional<std::pair<long long, long long>> Limits(std::string* why) override {
    rlimit old{};
    if (::prlimit(pid_, RLIMIT_NOFILE, nullptr, &old) != 0) {
      *why = Prlimit() + ErrnoName(errno);
      return std::nullopt;
    }
    return std::make_pair(AsLimit(old.rlim_cur), AsLimit(old.rlim_max));
  }
  std::optional<std::string> SetSoftLimit(long long soft) override {
    rlimit now{};
    if (::prlimit(pid_, RLIMIT_NOFILE, nullptr, &now) != 0) return Prlimit() + ErrnoName(errno);
    now.rlim_cur = static_cast<rlim_t>(soft);  // the hard limit stays
    if (::prlimit(pid_, RLIMIT_NOFILE, &now, nullptr) != 0) return Prlimit() + ErrnoName(errno);
    return std::nullopt;
  }
  bool SharedWithHarness() const override { return shared_; }

 private:
  std::string Prlimit() const { return "prlimit(" + std::to_string(pid_) + ", RLIMIT_NOFILE): "; }
  pid_t pid_;
  bool shared_;
};

}  // namespace

std::optional<std::string> FdStepProblem(const std::string& verb, const json& arg) {
  const std::vector<std::string> keys = verb == kExhaustFds
                                            ? std::vector<std::string>{"spare", "limit"}
                                            : std::vector<std::string>{"after_ms"};
  const std::string usage =
      verb == kExhaustFds ? "{\"spare\": N}, {\"limit\": N} or {}" : "{\"after_ms\": N} or {}";
  const std::string takes =
      verb == kExhaustFds ? "\"spare\" or \"limit\"" : "\"" + keys.front() + "\"";
  if (!arg.is_object()) return verb + " takes an object: " + usage;
  for (const auto& [k, v] : arg.items()) {
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
      return verb + ": unknown key \"" + k + "\" (it takes " + takes + ")";
    }
  }
  if (arg.size() > 1) {
    return verb + ": \"spare\" and \"limit\" exclude each other (N spare fds, or the limit N)";
  }
  for (const std::string& key : keys) {
    if (!arg.contains(key)) continue;
    const json& v = arg[key];
    const long long max = MaxOf(key);
    if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > max) {
      return verb + ": " + key + " takes an integer 0.." + std::to_string(max) + ", got " +
             Brief(v, 80);
    }
  }
  return std::nullopt;
}

long long LimitForSpare(std::vector<int> open, long long spare) {
  std::sort(open.begin(), open.end());
  open.erase(std::unique(open.begin(), open.end()), open.end());
  // Walks the free numbers from 0: the (spare+1)-th is the limit.
  long long candidate = 0;
  long long free_seen = 0;
  for (int fd : open) {
    if (fd < 0) continue;
    // The free numbers candidate..fd-1.
    const long long gap = fd - candidate;
    if (gap > 0) {
      if (free_seen + gap > spare) return candidate + (spare - free_seen);
      free_seen += gap;
    }
    candidate = static_cast<long long>(fd) + 1;
  }
  return candidate + (spare - free_seen);
}

long long FreeBelow(std::vector<int> open, long long limit) {
  std::sort(open.begin(), open.end());
  open.erase(std::unique(open.begin(), open.end()), open.end());
  const long long below =
      std::count_if(open.begin(), open.end(), [limit](int fd) { return fd >= 0 && fd < limit; });
  return limit - below;
}

std::unique_ptr<FdTable> ProcessFdTable(pid_t pid, bool shared) {
  return std::make_unique<ProcessTable>(pid, shared);
}

FdRoom::FdRoom(std::unique_ptr<FdTable> table) : table_(std::move(table)) {}

FdRoom::~FdRoom() {
  if (!finished_) Finish();
}

std::optional<std::string> FdRoom::ExhaustLocked(Shortage want, json* result) {
  std::string why;
  const auto limits = table_->Limits(&why);
  if (!limits) return why;
  if (!first_soft_) first_soft_ = limits->first;
  // The harness's own listing opens an fd in a shared table: it needs room.
  if (table_->SharedWithHarness() && shortage_) {
    if (auto e = table_->SetSoftLimit(*first_soft_)) return e;
  }
  const std::optional<std::vector<int>> open = table_->OpenFds(&why);
  if (!open) return why;
  const long long limit = want.by_limit ? want.n : LimitForSpare(*open, want.n);
  const long long spare = want.by_limit ? FreeBelow(*open, limit) : want.n;
  if (limit > limits->second) {
    const std::string asked = want.by_limit
                                  ? "the limit " + std::to_string(limit) + " is"
                                  : "the limit for " + std::to_string(spare) +
                                        " spare fds would be " + std::to_string(limit) + ",";
    return asked + " above the hard limit " + std::to_string(limits->second);
  }
  if (auto e = table_->SetSoftLimit(limit)) return e;
  shortage_ = want;
  if (result != nullptr) {
    *result = {{"limit", limit},
               {"spare", spare},
               {"open", static_cast<long long>(open->size())},
               {"was", *first_soft_}};
  }
  return std::nullopt;
}

std::optional<std::string> FdRoom::RestoreLocked() {
  shortage_.reset();
  if (!first_soft_) return std::nullopt;
  return table_->SetSoftLimit(*first_soft_);
}

std::optional<std::string> FdRoom::Exhaust(const json& arg, json* result) {
  CancelTimer();
  std::lock_guard<std::mutex> lock(mu_);
  Shortage want;
  want.by_limit = arg.contains("limit");
  want.n = ArgOf(arg, want.by_limit ? "limit" : "spare");
  if (auto e = ExhaustLocked(want, result)) {
    return std::string(kExhaustFds) + ": " + *e;
  }
  return std::nullopt;
}

std::optional<std::string> FdRoom::Restore(const json& arg, json* result) {
  CancelTimer();
  const long long after_ms = ArgOf(arg, "after_ms");
  std::lock_guard<std::mutex> lock(mu_);
  if (!first_soft_) return std::string(kRestoreFds) + ": no exhaust_fds came before it";
  *result = {{"limit", *first_soft_}, {"after_ms", after_ms}};
  if (after_ms == 0) {
    if (auto e = RestoreLocked()) return std::string(kRestoreFds) + ": " + *e;
    return std::nullopt;
  }
  const auto delay = std::chrono::milliseconds(after_ms);
  clock_token_ = std::make_shared<bool>(true);
  std::weak_ptr<bool> alive = clock_token_;
  if (table_->ScheduleOnClock(delay, [this, alive] {
        // The room is gone, or the restore was cancelled: nothing to do.
        if (!alive.lock()) return;
        std::lock_guard<std::mutex> l(mu_);
        (void)RestoreLocked();
      })) {
    return std::nullopt;
  }
  clock_token_.reset();
  timer_cancelled_ = false;
  timer_ = std::thread([this, delay] {
    std::unique_lock<std::mutex> l(mu_);
    if (!timer_cv_.wait_for(l, delay, [this] { return timer_cancelled_; })) (void)RestoreLocked();
  });
  return std::nullopt;
}

void FdRoom::CancelTimer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    timer_cancelled_ = true;
    clock_token_.reset();
  }
  timer_cv_.notify_all();
  if (timer_.joinable()) timer_.join();
}

void FdRoom::Finish() {
  CancelTimer();
  std::lock_guard<std::mutex> lock(mu_);
  finished_ = true;
  (void)RestoreLocked();  // the process may be gone already: nothing left to limit
  first_soft_.reset();
}

FdRoom::HarnessAction::HarnessAction(FdRoom* room) : room_(nullptr) {
  if (room == nullptr || !room->table_->SharedWithHarness()) return;
  std::lock_guard<std::mutex> lock(room->mu_);
  if (!room->shortage_ || !room->first_soft_) return;
  (void)room->table_->SetSoftLimit(*room->first_soft_);
  room_ = room;
}

FdRoom::HarnessAction::~HarnessAction() {
  if (room_ == nullptr) return;
  std::lock_guard<std::mutex> lock(room_->mu_);
  // shortage_ is still set: a pending restore has not run meanwhile.
  if (room_->shortage_) (void)room_->ExhaustLocked(*room_->shortage_, nullptr);
}

std::unique_ptr<FdRoom> OpenFdRoom(Session& session, std::string* why) {
  std::unique_ptr<FdTable> table = session.fd_table();
  if (!table) {
    if (const std::optional<pid_t> pid = session.ProcessId()) table = ProcessFdTable(*pid, false);
  }
  if (!table) {
    *why = "the implementation has no fd table netconform can limit (no process of its own)";
    return nullptr;
  }
  return std::make_unique<FdRoom>(std::move(table));
}

bool ExhaustsFds(const json& steps) {
  if (!steps.is_array()) return false;
  return std::any_of(steps.begin(), steps.end(),
                     [](const json& s) { return s.is_object() && s.contains(kExhaustFds); });
}

}  // namespace netutil::conform
