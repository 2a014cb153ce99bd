// How a plan's rules fire (fakes/fault_injector.h) and how the injecting Sys
// applies them (fakes/injecting_sys.h): the counting the sweep and the
// property tests rely on when they aim a fault at "the 3rd accept4".
#include "netutil/fakes/fault_injector.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "netutil/errno_name.h"
#include "netutil/fakes/fake_kernel.h"
#include "netutil/fakes/injecting_sys.h"

namespace netutil::property {
namespace {

using fakes::Call;
using fakes::FaultInjector;
using fakes::FaultPlan;

FaultPlan Plan(const char* text) {
  auto parsed = FaultPlan::Parse(text);
  if (!parsed.ok()) ADD_FAILURE() << parsed.error->ToString();
  return parsed.ok() ? *parsed.plan : FaultPlan{};
}

// What the injector answers to `n` accept4 calls on fd 3: the errno name or "-".
std::string Answers(FaultInjector& f, int n, int fd = 3) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    auto o = f.Decide(fakes::Accept4Args(fd, nullptr, 0));
    out += o ? ErrnoName(o->code) : "-";
    out += " ";
  }
  return out;
}

TEST(FaultInjector, CountsFromOneAndRepeats) {
  FaultInjector f(Plan("accept4 #3 = ECONNABORTED\naccept4 #5 x2 = EINTR\n"));
  EXPECT_EQ(Answers(f, 8), "- - ECONNABORTED - EINTR EINTR - - ");
}

TEST(FaultInjector, AlwaysFiresFromItsIndexOn) {
  FaultInjector f(Plan("accept4 #2 always = EMFILE"));
  EXPECT_EQ(Answers(f, 4), "- EMFILE EMFILE EMFILE ");
}

// Every rule counts every call it matches, so "#4" of the second rule means
// the 4th accept4 even though the first rule answered some of the earlier ones.
TEST(FaultInjector, EarlierRuleWinsButEveryRuleCounts) {
  FaultInjector f(Plan("accept4 x2 = EAGAIN\naccept4 #2 x3 = EPROTO\n"));
  EXPECT_EQ(Answers(f, 5), "EAGAIN EAGAIN EPROTO EPROTO - ");
}

// Predicates narrow what a rule counts: "#2" is the 2nd call on fd 4.
TEST(FaultInjector, PredicatesSelectWhatIsCounted) {
  FaultInjector f(Plan("accept4 #2 fd=4 = EPERM"));
  EXPECT_EQ(Answers(f, 3, 3), "- - - ");
  EXPECT_EQ(Answers(f, 3, 4), "- EPERM - ");
}

// A rule added while running counts from its addition: the model-based drain
// test scripts "the next accept4" that way.
TEST(FaultInjector, AddedRuleCountsFromItsAddition) {
  FaultInjector f;
  EXPECT_EQ(Answers(f, 2), "- - ");
  f.Add(fakes::FaultRule::Fail(Call::kAccept4, EINTR));
  EXPECT_EQ(Answers(f, 2), "EINTR - ");
}

TEST(FaultInjector, RefusesARuleTheParserWouldRefuse) {
  FaultInjector f;
  EXPECT_THROW(f.Add(fakes::FaultRule::Fail(Call::kBind, EAGAIN)), std::invalid_argument);
  EXPECT_THROW(f.Add(fakes::FaultRule::Fail(Call::kUmask, EINTR)), std::invalid_argument);
}

// close(2) releases the fd whatever it returns: an injected failure on close
// must not leave the fd open in the model, or every sweep case faulting a
// close would report a leak the real kernel never has.
TEST(InjectingSys, InjectedCloseErrorStillReleasesTheFd) {
  fakes::FakeKernel kernel;
  kernel.SetFaultPlan(Plan("close = EINTR\nclose #2 = EBADF\n"));
  const int a = kernel.socket(AF_INET, SOCK_STREAM, 0).value;
  const int b = kernel.socket(AF_INET, SOCK_STREAM, 0).value;
  EXPECT_EQ(kernel.close(a).err, EINTR);
  EXPECT_EQ(kernel.fd_count(), 1u) << "EINTR from close still closes";
  EXPECT_EQ(kernel.close(b).err, EBADF);
  EXPECT_EQ(kernel.fd_count(), 0u) << "EBADF on a held fd: another thread closed it";
}

// A value rule answers without running the call: nothing is created.
TEST(InjectingSys, ChosenValueSkipsTheCall) {
  fakes::FakeKernel kernel;
  kernel.SetFaultPlan(Plan("socket = 42"));
  EXPECT_EQ(kernel.socket(AF_INET, SOCK_STREAM, 0).value, 42);
  EXPECT_EQ(kernel.fd_count(), 0u);
}

// glibc's getaddrinfo with no fd free (ResolverTable::WithoutFreeFd, measured
// on glibc 2.36: tools/conform/name_service.h): a name needs the name
// services, which need an fd; before any lookup set them up, nsswitch.conf
// cannot be read (EAI_NONAME), after it the files and dns modules fail
// (EAI_SYSTEM with EMFILE). Literals and argument errors need no fd.
std::string Gai(Sys& sys, const char* host,
                AddrInfoHints hints = {AF_UNSPEC, SOCK_STREAM, 0, AI_PASSIVE}) {
  const GaiResult r = sys.getaddrinfo(std::string(host), "0", hints);
  if (r.ok()) return "ok";
  return std::string(GaiErrorName(r.gai_err)) +
         (r.gai_err == EAI_SYSTEM ? std::string(" ") + ErrnoName(r.sys_err) : std::string());
}

TEST(FakeResolver, BIND_029_NameWithoutFreeFdAsGlibc) {
  fakes::FakeKernel cold;
  cold.resolver().Set("name.test", {*SockAddr::FromIp("127.0.0.1", 0)});
  cold.set_fd_limit(3);  // 0-2 are stdio: no fd free
  EXPECT_EQ(Gai(cold, "name.test"), "EAI_NONAME") << "nsswitch.conf not read yet";
  cold.set_fd_limit(1024);
  EXPECT_EQ(Gai(cold, "name.test"), "ok");
  cold.set_fd_limit(3);
  EXPECT_EQ(Gai(cold, "name.test"), "EAI_SYSTEM EMFILE");
  EXPECT_EQ(Gai(cold, "other.test"), "EAI_SYSTEM EMFILE") << "a name not listed alike";
  EXPECT_EQ(Gai(cold, "127.0.0.1"), "ok") << "a literal needs no name service";
  EXPECT_EQ(Gai(cold, "name.test", {AF_UNSPEC, SOCK_STREAM, 0, AI_NUMERICHOST}), "EAI_NONAME");
  EXPECT_EQ(Gai(cold, "name.test", {AF_UNSPEC, SOCK_STREAM, 0, 0x4000000}), "EAI_BADFLAGS");
  // One fd free: the lookup has it.
  cold.set_fd_limit(1024);
  const int fd = cold.socket(AF_INET, SOCK_STREAM, 0).value;
  cold.set_fd_limit(fd + 1);
  ASSERT_TRUE(cold.close(fd).ok());
  EXPECT_EQ(Gai(cold, "name.test"), "ok");
}

TEST(InjectingSys, BIND_029_ResolverTableAnswersAsGlibcWithoutFreeFd) {
  // The table's names are answered without the C library, but as it would
  // answer them: no fd free, EAI_SYSTEM with the errno (the inner Sys's fd
  // table decides).
  fakes::FakeKernel kernel;
  fakes::InjectingSys sys(kernel);
  fakes::ResolverTable table;
  table.Set("name.test", {*SockAddr::FromIp("127.0.0.1", 0)});
  sys.set_resolver(table);
  EXPECT_EQ(Gai(sys, "name.test"), "ok");
  kernel.set_fd_limit(3);
  EXPECT_EQ(Gai(sys, "name.test"), "EAI_SYSTEM EMFILE");
  EXPECT_EQ(Gai(sys, "127.0.0.1"), "ok");
  EXPECT_EQ(kernel.fd_count(), 0u) << "the probe's fd is closed";
  kernel.set_fd_limit(1024);
  EXPECT_EQ(Gai(sys, "name.test"), "ok");
  EXPECT_EQ(kernel.fd_count(), 0u);
}

// The transcript a failing test prints, packetdrill-style, with injected
// answers marked.
TEST(Trace, PrintsCallsArgumentsResultsAndInjections) {
  fakes::FakeKernel kernel;
  kernel.SetFaultPlan(Plan("listen = EADDRINUSE"));
  const int fd = kernel.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0).value;
  (void)kernel.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  (void)kernel.bind(fd, *SockAddr::FromIp("127.0.0.1", 8080));
  (void)kernel.listen(fd, 128);
  (void)kernel.fcntl(fd, F_GETFL, 0);
  EXPECT_EQ(kernel.trace().ToString(),
            "socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0) = 3\n"
            "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, 1) = 0\n"
            "bind(3, 127.0.0.1:8080) = 0\n"
            "listen(3, 128) = -1 EADDRINUSE (Address already in use)   // injected\n"
            "fcntl(3, F_GETFL, 0) = 2050\n");
  EXPECT_EQ(kernel.trace().Count(Call::kBind), 1u);
}

}  // namespace
}  // namespace netutil::property
