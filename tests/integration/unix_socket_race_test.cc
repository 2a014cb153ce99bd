// bind_unix_socket against a hostile local process, on the real kernel: a
// swapper thread renames entries in the socket's directory (or swaps the
// directory itself) while the call runs, at a random instant of it. A "hit"
// is anything the call did outside what it owns: a victim file whose mode,
// content or existence changed, or an entry created or removed in a directory
// the call was never asked to touch. The test asserts zero hits (UNIX-017,
// UNIX-018, UNIX-019, UNIX-020).
//
// Tries per attack: NETUTIL_RACE_TRIES (default 100, a few seconds in all;
// `make bench` runs a long count). Every file lives in the test's temp dir.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "integration_util.h"
#include "netutil/bind_unix_socket.h"
#include "netutil/posix_sys.h"

namespace netutil::integration {
namespace {

namespace fs = std::filesystem;

int TriesPerAttack() {
  const char* env = std::getenv("NETUTIL_RACE_TRIES");
  if (env == nullptr || *env == '\0') return 100;
  char* end = nullptr;
  const long n = std::strtol(env, &end, 10);
  if (*end != '\0' || n <= 0 || n > 10'000'000) {
    ADD_FAILURE() << "NETUTIL_RACE_TRIES=" << env << " is not a count in 1..10000000";
    return 1;
  }
  return static_cast<int>(n);
}

// One entry as the attacker's victim sees it: type, identity, mode, content.
struct EntryState {
  mode_t mode = 0;  // type and permission bits
  ino_t ino = 0;
  std::string content;  // regular files; a symlink's target
  friend bool operator==(const EntryState&, const EntryState&) = default;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every entry under `root`, by path relative to it; symlinks are not followed.
std::map<std::string, EntryState> Snapshot(const std::string& root) {
  std::map<std::string, EntryState> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string p = it->path().string();
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) continue;
    EntryState e{st.st_mode, st.st_ino, ""};
    if (S_ISREG(st.st_mode)) e.content = Slurp(p);
    if (S_ISLNK(st.st_mode)) e.content = fs::read_symlink(p, ec).string();
    out[fs::relative(p, root).string()] = e;
  }
  return out;
}

std::string Describe(const std::map<std::string, EntryState>& before,
                     const std::map<std::string, EntryState>& after) {
  std::ostringstream os;
  for (const auto& [name, e] : before) {
    auto it = after.find(name);
    if (it == after.end()) {
      os << " removed:" << name;
    } else if (!(it->second == e)) {
      os << " changed:" << name << std::oct << "(0" << e.mode << "->0" << it->second.mode << ")"
         << std::dec;
    }
  }
  for (const auto& [name, e] : after) {
    if (before.count(name) == 0) os << " created:" << name;
  }
  return os.str();
}

// Whether a regular file with this inode and content is anywhere under `root`.
bool Survives(const std::string& root, ino_t ino, const std::string& content, mode_t perm) {
  for (const auto& [name, e] : Snapshot(root)) {
    if (e.ino == ino && S_ISREG(e.mode)) return e.content == content && (e.mode & 07777) == perm;
  }
  return false;
}

void WriteFile(const std::string& path, const std::string& content, mode_t perm) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
  }
  ASSERT_EQ(::chmod(path.c_str(), perm), 0) << path << ": " << Errno(errno);
}

// A socket file nobody listens on (a crashed server's leftover).
void MakeStaleSocket(const std::string& path) {
  ScopedFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto addr = SockAddr::Unix(path);
  ASSERT_TRUE(s.valid() && addr);
  ASSERT_EQ(::bind(s.get(), addr->data(), addr->len()), 0) << path << ": " << Errno(errno);
}

void RemoveAll(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
}

struct Tally {
  int tries = 0;
  int hits = 0;
  int ok = 0;
  int failed = 0;
  std::string first_hit;

  void Record(bool hit, bool call_ok, const std::string& what) {
    ++tries;
    (call_ok ? ok : failed) += 1;
    if (!hit) return;
    if (hits++ == 0) first_hit = what;
  }
  void Report(const char* attack) const {
    std::cout << "race[" << attack << "]: tries=" << tries << " hits=" << hits
              << " (calls ok=" << ok << ", failed=" << failed << ")"
              << (hits > 0 ? " first hit:" + first_hit : "") << std::endl;
    ::testing::Test::RecordProperty(std::string(attack) + "_hits", hits);
    ::testing::Test::RecordProperty(std::string(attack) + "_tries", tries);
  }
};

// Runs `call` on this thread while another thread repeats `swap` (one
// exchange of two entries) from just before the call until just after it: an
// attacker toggling entries as fast as the kernel lets it, so every step of
// the call may find either entry.
template <typename Call, typename Swap>
bool Race(Call call, Swap swap) {
  std::atomic<bool> started{false}, stop{false};
  std::thread swapper([&] {
    started.store(true, std::memory_order_release);
    while (!stop.load(std::memory_order_acquire)) swap();
  });
  while (!started.load(std::memory_order_acquire)) {
  }
  const bool ok = call();
  stop.store(true, std::memory_order_release);
  swapper.join();
  return ok;
}

// renameat2(RENAME_EXCHANGE): swaps two existing entries atomically.
void Exchange(const std::string& a, const std::string& b) {
  (void)::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE);
}

class UnixSocketRace : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = tmp_.path();
    tries_ = TriesPerAttack();
    // The threat model: another user can write here (UNIX-017).
    ASSERT_EQ(::chmod(base_.c_str(), 0777), 0) << Errno(errno);
  }

  TempDir tmp_;
  std::string base_;
  int tries_ = 0;
};

// A symlink to a victim file in another directory is exchanged with the
// entry at the socket path, again and again: once the socket is there, a chmod
// by path after bind follows the link and the victim gets the socket's mode.
TEST_F(UnixSocketRace, UNIX_018_ModeNeverAppliedThroughASymlinkSwappedInAfterBind) {
  const std::string dir = base_ + "/d", other = base_ + "/other";
  const std::string path = dir + "/sock", link = dir + "/lnk", victim = other + "/victim";
  Tally tally;
  for (int i = 0; i < tries_; ++i) {
    ASSERT_EQ(::mkdir(dir.c_str(), 0777), 0) << Errno(errno);
    ASSERT_EQ(::mkdir(other.c_str(), 0755), 0) << Errno(errno);
    ASSERT_EQ(::chmod(dir.c_str(), 0777), 0) << Errno(errno);
    WriteFile(victim, "victim A", 0600);
    ASSERT_EQ(::symlink(victim.c_str(), link.c_str()), 0) << Errno(errno);
    const auto before = Snapshot(other);
    const bool ok = Race(
        [&] {
          PosixSys sys;
          return bind_unix_socket(sys, {.path = path, .mode = 0666}).ok();
        },
        [&] { Exchange(link, path); });
    const auto after = Snapshot(other);
    tally.Record(before != after, ok, Describe(before, after));
    RemoveAll(dir);
    RemoveAll(other);
  }
  tally.Report("symlink-after-bind");
  EXPECT_EQ(tally.hits, 0) << "a file outside the socket's directory was changed:"
                           << tally.first_hit;
}

// A stale socket is at the path; a regular file is exchanged with it again
// and again (renamed over it, the socket kept aside). Removing "the stale
// socket" by path then removes the file.
TEST_F(UnixSocketRace, UNIX_019_NonSocketRenamedOverTheStaleSocketIsNeverRemoved) {
  const std::string dir = base_ + "/d";
  const std::string path = dir + "/sock", victim = dir + "/victim";
  Tally tally;
  for (int i = 0; i < tries_; ++i) {
    ASSERT_EQ(::mkdir(dir.c_str(), 0777), 0) << Errno(errno);
    ASSERT_EQ(::chmod(dir.c_str(), 0777), 0) << Errno(errno);
    MakeStaleSocket(path);
    WriteFile(victim, "victim B", 0640);
    struct stat vst {};
    ASSERT_EQ(::lstat(victim.c_str(), &vst), 0);
    const bool ok = Race(
        [&] {
          PosixSys sys;
          return bind_unix_socket(sys, {.path = path}).ok();
        },
        [&] { Exchange(victim, path); });
    const bool survives = Survives(base_, vst.st_ino, "victim B", 0640);
    tally.Record(!survives, ok, "the regular file exchanged with the stale socket is gone");
    RemoveAll(dir);
  }
  tally.Report("file-over-stale-socket");
  EXPECT_EQ(tally.hits, 0) << tally.first_hit;
}

// The socket's directory holds a stale socket; another directory holds a
// victim file of the same name. The socket's directory is exchanged with a
// symlink to the other one, again and again. Steps by path then remove,
// replace or chmod the victim, or create a socket in the other directory.
TEST_F(UnixSocketRace, UNIX_017_ParentSwappedForASymlinkIsNeverFollowed) {
  const std::string dir = base_ + "/d", other = base_ + "/other";
  const std::string link = base_ + "/lnk", path = dir + "/sock";
  Tally tally;
  for (int i = 0; i < tries_; ++i) {
    ASSERT_EQ(::mkdir(dir.c_str(), 0777), 0) << Errno(errno);
    ASSERT_EQ(::mkdir(other.c_str(), 0755), 0) << Errno(errno);
    ASSERT_EQ(::chmod(dir.c_str(), 0777), 0) << Errno(errno);
    MakeStaleSocket(path);
    WriteFile(other + "/sock", "victim C", 0600);
    ASSERT_EQ(::symlink(other.c_str(), link.c_str()), 0) << Errno(errno);
    const auto before = Snapshot(other);
    const bool ok = Race(
        [&] {
          PosixSys sys;
          return bind_unix_socket(sys, {.path = path, .mode = 0666}).ok();
        },
        [&] { Exchange(dir, link); });
    const auto after = Snapshot(other);
    tally.Record(before != after, ok, Describe(before, after));
    for (const auto& p : {dir, other, link}) RemoveAll(p);
  }
  tally.Report("parent-swapped-for-symlink");
  EXPECT_EQ(tally.hits, 0) << "the other directory was changed:" << tally.first_hit;
}

}  // namespace
}  // namespace netutil::integration
