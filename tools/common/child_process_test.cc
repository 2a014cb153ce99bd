// ChildProcess: a child on pipes, every read and write within its deadline,
// killed and reaped whatever it does.
#include "child_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace netutil::tools {
namespace {

using namespace std::chrono_literals;

ChildSpec Shell(const std::string& script) {
  ChildSpec spec;
  spec.argv = {"sh", "-c", script};
  return spec;
}

TEST(ChildProcess, ReadsLinesAndReportsTheExitStatus) {
  ChildProcess child;
  ASSERT_EQ(child.Start(Shell("read x; echo \"got $x\"; exit 3")), "");
  ASSERT_TRUE(child.WriteLine("hello"));
  EXPECT_EQ(child.ReadLine(5s), "got hello");
  const std::optional<int> status = child.WaitForExit(Clock::now() + 5s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 3);
  child.Kill();
  EXPECT_FALSE(child.running());
}

TEST(ChildProcess, ReadLineHoldsItsDeadlineAgainstASilentChild) {
  ChildProcess child;
  ASSERT_EQ(child.Start(Shell("sleep 30")), "");
  const auto t0 = Clock::now();
  std::string line;
  EXPECT_EQ(child.ReadLine(t0 + 100ms, 1024, &line), ChildProcess::Io::kTimeout);
  EXPECT_LT(Clock::now() - t0, 5s);
  EXPECT_EQ(child.Stop(50ms), -1);  // killed: it would not exit on end of input in time
  EXPECT_FALSE(child.running());
}

TEST(ChildProcess, ALineWithoutNewlineIsTooLongOnceOverTheLimitAndStaysBounded) {
  ChildProcess child;
  ASSERT_EQ(child.Start(Shell("head -c 1000000 /dev/zero; sleep 30")), "");
  std::string line;
  EXPECT_EQ(child.ReadLine(Clock::now() + 10s, 1000, &line), ChildProcess::Io::kTooLong);
  EXPECT_GT(child.unread().size(), 1000u);
  EXPECT_LE(child.unread().size(), 1001u);
}

TEST(ChildProcess, EndOfOutputIsClosed) {
  ChildProcess child;
  ASSERT_EQ(child.Start(Shell("printf 'no newline'")), "");
  std::string line;
  EXPECT_EQ(child.ReadLine(Clock::now() + 10s, 1024, &line), ChildProcess::Io::kClosed);
  EXPECT_EQ(child.unread(), "no newline");
}

TEST(ChildProcess, KeepsOnlyTheTailOfStderr) {
  ChildSpec spec = Shell("printf abcdefghijklmnopqrstuvwxyz >&2");
  spec.stderr_to = ChildSpec::Stderr::kTail;
  spec.stderr_tail_bytes = 10;
  ChildProcess child;
  ASSERT_EQ(child.Start(spec), "");
  ASSERT_TRUE(child.WaitForExit(Clock::now() + 10s).has_value());
  child.Kill();
  EXPECT_EQ(child.stderr_tail().kept(), "qrstuvwxyz");
  EXPECT_EQ(child.stderr_tail().dropped(), 16u);
}

// The first line `spec` prints, started by fork + exec or by posix_spawn.
std::optional<std::string> FirstLine(ChildSpec spec, bool fork_path) {
  spec.die_with_parent = fork_path;
  ChildProcess child;
  EXPECT_EQ(child.Start(spec), "");
  return child.ReadLine(5s);
}

const char* PathName(bool fork_path) { return fork_path ? "fork + exec" : "posix_spawn"; }

TEST(ChildProcess, TheEnvironmentGetsTheExtraVariables) {
  ChildSpec spec = Shell("echo \"$NETUTIL_CHILD_TEST\"");
  spec.extra_env = {"NETUTIL_CHILD_TEST=set"};
  for (bool fork_path : {false, true}) {
    EXPECT_EQ(FirstLine(spec, fork_path), "set") << PathName(fork_path);
  }
}

TEST(ChildProcess, TheEnvironmentLosesTheUnsetVariables) {
  ::setenv("NETUTIL_CHILD_UNSET", "inherited", 1);
  ChildSpec spec = Shell("echo \"[$NETUTIL_CHILD_UNSET]\"");
  spec.unset_env = {"NETUTIL_CHILD_UNSET"};
  for (bool fork_path : {false, true}) {
    EXPECT_EQ(FirstLine(spec, fork_path), "[]") << PathName(fork_path);
  }
  ::unsetenv("NETUTIL_CHILD_UNSET");
}

TEST(ChildProcess, StderrGoesToAFileThatOutlivesTheChild) {
  char dir[] = "/tmp/netutil-child-test-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/stderr";
  for (bool fork_path : {false, true}) {
    {
      std::FILE* old = std::fopen(path.c_str(), "w");  // truncated by Start
      ASSERT_NE(old, nullptr);
      std::fputs("left over from before\n", old);
      std::fclose(old);
    }
    ChildSpec spec = Shell("printf 'to the file' >&2");
    spec.stderr_to = ChildSpec::Stderr::kFile;
    spec.stderr_file = path;
    spec.die_with_parent = fork_path;
    {
      ChildProcess child;
      ASSERT_EQ(child.Start(spec), "");
      ASSERT_TRUE(child.WaitForExit(Clock::now() + 10s).has_value());
    }
    std::FILE* f = std::fopen(path.c_str(), "r");
    ASSERT_NE(f, nullptr);
    char buf[64] = {};
    const size_t got = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    EXPECT_EQ(std::string(buf, got), "to the file") << PathName(fork_path);
  }
  std::remove(path.c_str());
  ::rmdir(dir);
}

TEST(ChildProcess, AMissingProgramIsAnErrorNamingIt) {
  ChildSpec spec;
  spec.argv = {"/nonexistent/netutil-no-such-program"};
  ChildProcess child;
  const std::string why = child.Start(spec);
  EXPECT_NE(why.find("cannot start /nonexistent/netutil-no-such-program: ENOENT"),
            std::string::npos)
      << why;
  EXPECT_FALSE(child.running());
}

TEST(ChildProcess, KillEndsTheWholeProcessGroup) {
  ChildSpec spec = Shell("sleep 30 & echo $!; wait");
  spec.own_process_group = true;
  ChildProcess child;
  ASSERT_EQ(child.Start(spec), "");
  const std::optional<std::string> grandchild = child.ReadLine(5s);
  ASSERT_TRUE(grandchild.has_value());
  const pid_t pid = static_cast<pid_t>(std::stol(*grandchild));
  child.Kill();
  // The grandchild, reparented, is gone or a zombie soon after.
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = ::kill(pid, 0) != 0;
    if (!gone) {
      std::string state;
      if (FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r")) {
        char buf[256] = {};
        if (std::fgets(buf, sizeof buf, f) != nullptr) state = buf;
        std::fclose(f);
      }
      const size_t paren = state.rfind(')');
      gone = paren != std::string::npos && paren + 2 < state.size() && state[paren + 2] == 'Z';
    }
    if (!gone) ::usleep(10000);
  }
  EXPECT_TRUE(gone) << "grandchild " << pid << " survived the group kill";
}

}  // namespace
}  // namespace netutil::tools
