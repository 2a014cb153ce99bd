// Real name service for a case (tools/conform/name_service.h): the files and
// the DNS server, checked by resolving through the real C library
// (name_service_probe, started on the case's thread, so in its namespaces),
// and what it refuses before anything is written.
#include "name_service.h"

#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "case_test_util.h"
#include "child_process.h"
#include "environment.h"
#include "gtest/gtest.h"
#include "netns.h"
#include "runner.h"

namespace netutil::conform {
namespace {

using nlohmann::json;

Environment Env(const json& resolver) {
  std::string error;
  std::optional<Environment> env = ParseEnvironment({{"resolver", resolver}}, &error);
  EXPECT_TRUE(env) << error;
  return env ? *env : Environment{};
}

json Addrs(const std::string& host, std::vector<std::string> addrs) {
  return {{"host", host}, {"addrs", addrs}};
}
json Error(const std::string& host, const std::string& eai) {
  return {{"host", host}, {"error", eai}};
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/name-service-test.XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    EXPECT_NE(made, nullptr);
    path_ = made != nullptr ? made : "/nonexistent";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// --- what is refused, before anything is written ---

void ExpectRefused(const json& resolver, const std::string& why) {
  const Environment env = Env(resolver);
  const std::optional<std::string> problem = NameServiceCannotGive(env.resolver);
  ASSERT_TRUE(problem) << resolver.dump();
  EXPECT_NE(problem->find(why), std::string::npos) << *problem;
  // Make() refuses it too, and writes nothing into the case's dir.
  TempDir dir;
  std::string error;
  EXPECT_EQ(RealNameService::Make(env, dir.path(), &error), nullptr);
  EXPECT_NE(error.find(why), std::string::npos) << error;
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(NameService, LibcLevelFailuresNeedTheInterposer) {
  ExpectRefused(
      json::array({{{"host", "conform.test"}, {"error", "EAI_SYSTEM"}, {"errno", "EIO"}}}),
      "EAI_SYSTEM is made inside the C library");
  ExpectRefused(json::array({Error("conform.test", "EAI_MEMORY")}), "EAI_MEMORY");
  // glibc 2.36 maps no DNS answer to EAI_FAIL (measured: name_service.h).
  ExpectRefused(json::array({Error("conform.test", "EAI_FAIL")}), "EAI_FAIL");
}

TEST(NameService, OrdersNoSortCanGiveNeedTheInterposer) {
  ExpectRefused(json::array({Addrs("conform.test", {"127.0.0.2", "127.0.0.1", "127.0.0.2"})}),
                "127.0.0.2 comes again after 127.0.0.1");
  ExpectRefused(
      json::array({Addrs("a.test", {"127.0.0.1", "::1"}), Addrs("b.test", {"::1", "127.0.0.1"})}),
      "both ways");
  ExpectRefused(json::array({Addrs("conform.test", {"127.0.0.1", "fe80::1%1"})}),
                "fe80::1%1 is scoped");
}

TEST(NameService, HostileNamesAreRefusedByName) {
  ExpectRefused(json::array({Addrs("bad\nname", {"127.0.0.1"})}), "a character a host name cannot");
  ExpectRefused(json::array({Addrs(std::string("nul\0name", 8), {"127.0.0.1"})}),
                "a character a host name cannot");
  ExpectRefused(json::array({Addrs("has space", {"127.0.0.1"})}), "a character");
  ExpectRefused(json::array({Addrs("a/b", {"127.0.0.1"})}), "a character");  // dnsmasq's separator
  ExpectRefused(json::array({Addrs(std::string(300, 'a'), {"127.0.0.1"})}),
                "(300 bytes) is longer than 253 bytes");
  ExpectRefused(json::array({Addrs(std::string(64, 'a') + ".test", {"127.0.0.1"})}),
                "label longer than 63");
  ExpectRefused(json::array({Addrs("a..test", {"127.0.0.1"})}), "empty label");
  ExpectRefused(json::array({Addrs("", {"127.0.0.1"})}), "empty host name");
  ExpectRefused(
      json::array({Addrs("Conform.test", {"127.0.0.1"}), Error("conform.test", "EAI_NONAME")}),
      "differ only in case");
}

TEST(NameService, ThousandsOfEntriesAreRefusedQuickly) {
  json many = json::array();
  for (int i = 0; i < 5000; ++i)
    many.push_back(Addrs("h" + std::to_string(i) + ".test", {"127.0.0.1"}));
  const auto start = std::chrono::steady_clock::now();
  ExpectRefused(many, "5000 names, more than 64");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  std::vector<std::string> addrs(65, "127.0.0.1");
  ExpectRefused(json::array({Addrs("conform.test", addrs)}), "65 addresses, more than 64");
}

TEST(NameService, WhatItGivesIsAccepted) {
  const Environment env =
      Env(json::array({Addrs("conform.test", {"::1", "::1", "127.0.0.1", "127.0.0.1"}),
                       Addrs("localhost", {"127.0.0.1"}), Error("gone.test", "EAI_NONAME"),
                       Error("flaky.test", "EAI_AGAIN"),
                       Addrs(std::string(63, 'a') + "." + std::string(63, 'a') + "." +
                                 std::string(63, 'a') + "." + std::string(61, 'a'),
                             {"127.0.0.1"})}));
  EXPECT_EQ(NameServiceCannotGive(env.resolver), std::nullopt);
  EXPECT_TRUE(NeedsDnsServer(env.resolver));
  EXPECT_FALSE(NeedsDnsServer(Env(json::array({Addrs("a.test", {"127.0.0.1"})})).resolver));
}

// --- the files ---

TEST(NameService, HostsFileHasTheCaseOrderAndTheMachinesOtherNames) {
  const Environment env =
      Env(json::array({Addrs("conform.test", {"127.0.0.2", "127.0.0.1"}),
                       Addrs("localhost", {"::1"}), Error("gone.test", "EAI_NONAME")}));
  const std::string text =
      HostsText(env.resolver,
                "127.0.0.1 localhost box # comment\n::1 LOCALHOST ip6-localhost\n"
                "10.0.0.1 gone.test\n# only a comment\n");
  EXPECT_EQ(text,
            "# netconform: the case's resolver entries, in its order\n"
            "127.0.0.2 conform.test\n"
            "127.0.0.1 conform.test\n"
            "::1 localhost\n"
            "# the machine's other names\n"
            "127.0.0.1 box\n"
            "::1 ip6-localhost\n");
}

TEST(NameService, NsswitchAsksFilesThenDns) {
  EXPECT_EQ(
      NsswitchText("passwd: files\nhosts:   files mdns4_minimal myhostname\nnetworks: files\n"),
      "passwd: files\nnetworks: files\nhosts: files dns\n");
  EXPECT_EQ(NsswitchText(""), "hosts: files dns\n");
}

TEST(NameService, ResolvConfIsTheServerOrTheMachines) {
  EXPECT_EQ(ResolvConfText(true, "nameserver 10.0.0.53\n"),
            "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n");
  EXPECT_EQ(ResolvConfText(false, "nameserver 10.0.0.53\n"), "nameserver 10.0.0.53\n");
}

TEST(NameService, GaiConfRanksTheCaseAddressesThenGlibcsDefaults) {
  const Environment env = Env(
      json::array({Addrs("a.test", {"127.0.0.1", "::1"}), Addrs("b.test", {"::1", "127.0.0.2"})}));
  EXPECT_EQ(GaiConfText(env.resolver, "# all comments\n"),
            "# netconform: the case's addresses, first the highest\n"
            "precedence ::ffff:127.0.0.1/128 1003\n"
            "precedence ::1/128 1002\n"
            "precedence ::ffff:127.0.0.2/128 1001\n"
            "# the machine's\n"
            "# all comments\n"
            "precedence ::1/128 50\nprecedence ::/0 40\nprecedence 2002::/16 30\n"
            "precedence ::/96 20\nprecedence ::ffff:0:0/96 10\n");
  // The machine's own precedence table stays instead of glibc's.
  const std::string own = GaiConfText(env.resolver, "precedence ::/0 7\n");
  EXPECT_NE(own.find("precedence ::/0 7\n"), std::string::npos);
  EXPECT_EQ(own.find("precedence ::/96 20"), std::string::npos);
}

TEST(NameService, DnsmasqMapsEachFailure) {
  const Environment env =
      Env(json::array({Error("gone.test", "EAI_NONAME"), Error("flaky.test", "EAI_AGAIN")}));
  const std::vector<std::string> argv = DnsmasqArgv(env.resolver, "/case");
  auto has = [&](const std::string& a) {
    return std::find(argv.begin(), argv.end(), a) != argv.end();
  };
  EXPECT_TRUE(has("--address=/gone.test/"));   // NXDOMAIN
  EXPECT_TRUE(has("--server=/flaky.test/#"));  // REFUSED
  EXPECT_TRUE(has("--address=/#/"));           // any other name: NXDOMAIN
  EXPECT_TRUE(has("--no-hosts"));
  EXPECT_TRUE(has("--no-resolv"));
  EXPECT_TRUE(has("--conf-file=/dev/null"));
  EXPECT_TRUE(has("--keep-in-foreground"));
  EXPECT_TRUE(has("--listen-address=127.0.0.1"));
  EXPECT_TRUE(has("--pid-file=/case/dnsmasq.pid"));
}

// --- in the namespaces, through the real C library ---

// What the probe prints for each name, run by the calling thread (so in its
// namespaces).
std::map<std::string, std::string> Resolve(const std::string& family,
                                           const std::vector<std::string>& names) {
  tools::ChildSpec spec;
  spec.file = NAME_SERVICE_PROBE_PATH;
  spec.argv = {"name_service_probe", family};
  spec.argv.insert(spec.argv.end(), names.begin(), names.end());
  spec.stderr_to = tools::ChildSpec::Stderr::kInherit;
  tools::ChildProcess child;
  EXPECT_EQ(child.Start(spec), "");
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < names.size(); ++i) {
    std::optional<std::string> line = child.ReadLine(std::chrono::seconds(20));
    if (!line) {
      ADD_FAILURE() << "no answer from the probe for " << names[i];
      break;
    }
    const size_t space = line->find(' ');
    out[line->substr(0, space)] = space == std::string::npos ? "" : line->substr(space + 1);
  }
  EXPECT_EQ(child.Stop(std::chrono::seconds(5)), 0);
  return out;
}

struct FileId {
  ino_t ino = 0;
  dev_t dev = 0;
  off_t size = 0;
  timespec mtime{};
  std::string text;
  bool operator==(const FileId& o) const {
    return ino == o.ino && dev == o.dev && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec && text == o.text;
  }
};

FileId Identify(const char* path) {
  FileId id;
  struct stat st {};
  if (::stat(path, &st) != 0) return id;
  id.ino = st.st_ino;
  id.dev = st.st_dev;
  id.size = st.st_size;
  id.mtime = st.st_mtim;
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  id.text = s.str();
  return id;
}

constexpr const char* kEtcFiles[] = {"/etc/hosts", "/etc/nsswitch.conf", "/etc/resolv.conf",
                                     "/etc/gai.conf"};

std::string MountNs() {
  struct stat st {};
  return ::stat("/proc/thread-self/ns/mnt", &st) == 0 ? std::to_string(st.st_ino) : "?";
}

// Runs `body` on a thread of its own in the case's namespaces (a network
// namespace of its own, as the runner makes for a case with failures, and
// the name service of `resolver`). Skips where namespaces cannot be made.
void InCase(const json& resolver, const std::function<void(RealNameService&)>& body) {
  if (auto why = netns::Unavailable()) GTEST_SKIP() << *why;
  if (auto why = NameServiceUnavailable()) GTEST_SKIP() << *why;
  if (auto why = DnsServerUnavailable()) GTEST_SKIP() << *why;
  const Environment env = Env(resolver);
  TempDir dir;
  std::vector<FileId> before;
  for (const char* f : kEtcFiles) before.push_back(Identify(f));
  pid_t dns_pid = 0;
  std::thread t([&] {
    netns::Scope ns;
    ASSERT_EQ(ns.Enter({}), std::nullopt);
    const std::string outside = MountNs();
    {
      std::string error;
      std::unique_ptr<RealNameService> names = RealNameService::Make(env, dir.path(), &error);
      ASSERT_NE(names, nullptr) << error;
      EXPECT_NE(MountNs(), outside);
      dns_pid = names->dns_pid();
      body(*names);
    }
    EXPECT_EQ(MountNs(), outside);  // the thread is back
  });
  t.join();
  // The real /etc, as it was: same files (inode, size, time), same text.
  for (size_t i = 0; i < std::size(kEtcFiles); ++i) {
    EXPECT_TRUE(Identify(kEtcFiles[i]) == before[i]) << kEtcFiles[i] << " changed";
  }
  if (dns_pid > 0) {
    // Killed and reaped: no such process, and no child of ours left.
    EXPECT_EQ(::kill(dns_pid, 0), -1);
    EXPECT_EQ(errno, ESRCH);
    EXPECT_EQ(::waitpid(dns_pid, nullptr, WNOHANG), -1);
  }
}

// Whether this kernel has IPv6, so a new network namespace's lo has ::1 (an
// address without a route is sorted last by RFC 6724's rule 1, whatever the
// precedence says).
bool KernelHasIpv6() {
  const int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

TEST(NameServiceLive, GlibcGivesTheCaseOrderForEveryFamily) {
  if (!KernelHasIpv6()) GTEST_SKIP() << "no IPv6 in this kernel: ::1 cannot be in the order";
  // Each the reverse of glibc's own order (::1 first, 127.0.0.1 before
  // 127.0.0.2: measured with the machine's gai.conf).
  InCase(json::array({Addrs("mixed.test", {"127.0.0.1", "::1"}),
                      Addrs("v4.test", {"127.0.0.2", "127.0.0.1"}),
                      Addrs("dup.test", {"127.0.0.2", "127.0.0.2", "127.0.0.1", "::1", "::1"})}),
         [](RealNameService&) {
           const auto any = Resolve("unspec", {"mixed.test", "v4.test", "dup.test"});
           EXPECT_EQ(any.at("mixed.test"), "127.0.0.1 ::1");
           EXPECT_EQ(any.at("v4.test"), "127.0.0.2 127.0.0.1");
           EXPECT_EQ(any.at("dup.test"), "127.0.0.2 127.0.0.2 127.0.0.1 ::1 ::1");
           // AF_INET: glibc's /etc/hosts reader takes a "::1" line as 127.0.0.1
           // for an IPv4 lookup (nss_files/files-hosts.c), in its place; the
           // fake resolver leaves it out (docs/CONFORMANCE.md, "Real name service").
           const auto v4 = Resolve("inet", {"mixed.test", "dup.test", "v4.test"});
           EXPECT_EQ(v4.at("mixed.test"), "127.0.0.1 127.0.0.1");
           EXPECT_EQ(v4.at("dup.test"), "127.0.0.2 127.0.0.2 127.0.0.1 127.0.0.1 127.0.0.1");
           EXPECT_EQ(v4.at("v4.test"), "127.0.0.2 127.0.0.1");
           const auto v6 = Resolve("inet6", {"mixed.test", "dup.test"});
           EXPECT_EQ(v6.at("mixed.test"), "::1");
           EXPECT_EQ(v6.at("dup.test"), "::1 ::1");
         });
  // The other way round, in a case of its own (one order for all names).
  InCase(json::array({Addrs("v6first.test", {"::1", "127.0.0.2", "127.0.0.1"})}),
         [](RealNameService&) {
           EXPECT_EQ(Resolve("unspec", {"v6first.test"}).at("v6first.test"),
                     "::1 127.0.0.2 127.0.0.1");
         });
}

TEST(NameServiceLive, LocalhostIsTheCasesNotTheMachines) {
  InCase(json::array({Addrs("localhost", {"127.0.0.2"})}), [](RealNameService& names) {
    EXPECT_EQ(names.dns_start_seconds(), std::nullopt);  // no failures: no server
    EXPECT_EQ(Resolve("unspec", {"localhost"}).at("localhost"), "127.0.0.2");
  });
}

TEST(NameServiceLive, EachFailureIsTheDnsAnswerGlibcMapsToIt) {
  InCase(
      json::array({Error("gone.test", "EAI_NONAME"), Error("flaky.test", "EAI_AGAIN"),
                   Addrs("conform.test", {"127.0.0.1"})}),
      [](RealNameService& names) {
        ASSERT_TRUE(names.dns_start_seconds());
        EXPECT_GT(*names.dns_start_seconds(), 0);
        EXPECT_LT(*names.dns_start_seconds(), kDnsStartBound.count() / 1000.0);
        EXPECT_GT(names.dns_pid(), 0);
        for (const char* family : {"unspec", "inet", "inet6"}) {
          const auto r = Resolve(family, {"gone.test", "flaky.test", "other.test", "conform.test"});
          EXPECT_EQ(r.at("gone.test"), "EAI_NONAME") << family;   // NXDOMAIN
          EXPECT_EQ(r.at("flaky.test"), "EAI_AGAIN") << family;   // REFUSED
          EXPECT_EQ(r.at("other.test"), "EAI_NONAME") << family;  // no entry: NXDOMAIN
        }
        EXPECT_EQ(Resolve("unspec", {"conform.test"}).at("conform.test"), "127.0.0.1");
        // A name with only IPv4, asked for IPv6: the server says NXDOMAIN,
        // as the fake resolver says EAI_NONAME (resolver_table.cc).
        EXPECT_EQ(Resolve("inet6", {"conform.test"}).at("conform.test"), "EAI_NONAME");
      });
}

TEST(NameServiceLive, OtherThreadsKeepTheMachinesFiles) {
  if (auto why = NameServiceUnavailable()) GTEST_SKIP() << *why;
  const FileId machine = Identify("/etc/hosts");
  const Environment env = Env(json::array({Addrs("conform.test", {"127.0.0.1"})}));
  TempDir dir;
  std::promise<void> inside, done;
  std::thread t([&] {
    std::string error;
    std::unique_ptr<RealNameService> names = RealNameService::Make(env, dir.path(), &error);
    EXPECT_NE(names, nullptr) << error;
    EXPECT_NE(Identify("/etc/hosts").text.find("conform.test"), std::string::npos);
    inside.set_value();
    done.get_future().wait();
  });
  inside.get_future().wait();
  // This thread did not make the name service: it sees the machine's file.
  EXPECT_TRUE(Identify("/etc/hosts") == machine);
  done.set_value();
  t.join();
}

TEST(NameServiceLive, DnsmasqThatCannotListenFailsTheSetupWithTheReason) {
  if (auto why = netns::Unavailable()) GTEST_SKIP() << *why;
  if (auto why = NameServiceUnavailable()) GTEST_SKIP() << *why;
  if (auto why = DnsServerUnavailable()) GTEST_SKIP() << *why;
  TempDir dir;
  const Environment env = Env(json::array({Error("gone.test", "EAI_NONAME")}));
  std::thread t([&] {
    netns::Scope ns;
    ASSERT_EQ(ns.Enter({}), std::nullopt);
    // Port 53 already taken in the namespace: dnsmasq exits at once.
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const std::string outside = MountNs();
    const auto start = std::chrono::steady_clock::now();
    std::string error;
    EXPECT_EQ(RealNameService::Make(env, dir.path(), &error), nullptr);
    EXPECT_LT(std::chrono::steady_clock::now() - start, kDnsStartBound + std::chrono::seconds(1));
    EXPECT_NE(error.find("dnsmasq"), std::string::npos) << error;
    EXPECT_EQ(MountNs(), outside);  // back where it was
    ::close(fd);
  });
  t.join();
}

}  // namespace
}  // namespace netutil::conform

namespace netutil::conform {
namespace {

// The processes this one has started and not reaped (any thread's).
std::vector<pid_t> Children() {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(task.path() / "children");
    for (pid_t pid; in >> pid;) out.push_back(pid);
  }
  return out;
}

class ProcessTargetNames : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = netns::Unavailable()) GTEST_SKIP() << *why;
    if (auto why = NameServiceUnavailable()) GTEST_SKIP() << *why;
    if (auto why = DnsServerUnavailable()) GTEST_SKIP() << *why;
    ASSERT_FALSE(runner_.Prepare());
  }
  CaseResult Run(const std::string& env, const std::string& address, const std::string& expect) {
    return runner_.Run(
        test_util::MakeCase(R"({"id":"t/names","rules":["BIND-005"],"title":"t","env":)" + env +
                            R"(,"steps":[{"send":{"op":"bind_sockets","port":0,"address":")" +
                            address + R"("},"expect":)" + expect + "}]}"));
  }
  std::unique_ptr<Target> target_ = MakeProcessTarget(NETUTIL_ADAPTER_PATH);
  Runner runner_{*target_, {}};
};

// The plain adapter target has no getaddrinfo override: the resolver entries
// reach the adapter (glibc's getaddrinfo in its own process) as real name
// service, and the case runs instead of being BLIND.
TEST_F(ProcessTargetNames, AddressesReachTheAdapterInTheCaseOrder) {
  const CaseResult r =
      Run(R"({"resolver":[{"host":"conform.test","addrs":["127.0.0.1"]}]})", "conform.test",
          R"({"ok":true,"listeners":[{"family":"inet","address":"127.0.0.1"}]})");
  EXPECT_EQ(r.verdict, Verdict::kOk) << test_util::Details(r);
  EXPECT_EQ(r.dns_start_seconds, std::nullopt);  // no failures: no server
  // localhost is the case's: only 127.0.0.1, whatever the machine lists.
  const CaseResult local =
      Run(R"({"resolver":[{"host":"localhost","addrs":["127.0.0.1"]}]})", "localhost",
          R"({"ok":true,"listeners":[{"family":"inet","address":"127.0.0.1"}]})");
  EXPECT_EQ(local.verdict, Verdict::kOk) << test_util::Details(local);
}

TEST_F(ProcessTargetNames, FailuresComeFromTheCasesDnsServerWhichGoesWithIt) {
  for (const char* eai : {"EAI_NONAME", "EAI_AGAIN"}) {
    const CaseResult r =
        Run(std::string(R"({"resolver":[{"host":"conform.invalid","error":")") + eai + R"("}]})",
            "conform.invalid",
            std::string(R"({"ok":false,"error":{"kind":"resolve","errno":")") + eai + R"("}})");
    EXPECT_EQ(r.verdict, Verdict::kOk) << eai << ": " << test_util::Details(r);
    ASSERT_TRUE(r.dns_start_seconds) << eai;
    EXPECT_GT(*r.dns_start_seconds, 0);
    EXPECT_LT(*r.dns_start_seconds, kDnsStartBound.count() / 1000.0);
    EXPECT_EQ(Children(), std::vector<pid_t>{}) << "dnsmasq or the adapter left running";
  }
}

// EAI_SYSTEM with an errno is made inside the C library: no name service
// gives it, so the case needs an instrument, and says so.
TEST_F(ProcessTargetNames, LibcLevelFailureIsBlindWithTheReason) {
  const CaseResult r =
      Run(R"({"resolver":[{"host":"conform.test","error":"EAI_SYSTEM","errno":"EIO"}]})",
          "conform.test", R"({"ok":false})");
  EXPECT_EQ(r.verdict, Verdict::kBlind);
  EXPECT_EQ(r.reason.rfind("harness blind: needs resolver injection: conform.test: EAI_SYSTEM", 0),
            0u)
      << r.reason;
}

}  // namespace
}  // namespace netutil::conform
