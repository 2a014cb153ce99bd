// The effects evaluator (tools/conform/trace_effects.h) and the fault-reach
// record (fault_reach.h): each constraint holds for the designs that meet the
// rule and fails for the one that does not, whatever the call order.
#include "trace_effects.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "fault_reach.h"

namespace netutil::conform {
namespace {

using nlohmann::json;

// A trace as TakeTrace() gives it, from its entries.
// A vector, not a json: a braced list of one json is that json itself under
// clang (the copy constructor wins), not an array of one.
json Trace(const std::vector<json>& list) {
  json entries = json::array();
  for (const json& e : list) entries.push_back(e);
  json calls = json::object();
  for (const json& e : entries) {
    const std::string c = e["call"].get<std::string>();
    calls[c] = calls.value(c, 0) + 1;
  }
  const size_t total = entries.size();
  return {{"calls", calls}, {"total", total}, {"entries", std::move(entries)}, {"dropped", 0}};
}

json Socket(int fd, const char* family, const char* type) {
  return {{"call", "socket"}, {"family", family}, {"type", type}, {"protocol", 0}, {"result", fd}};
}
json Opt(int fd, const char* opt, int value, const char* err = nullptr) {
  json e = {{"call", "setsockopt"}, {"fd", fd}, {"opt", opt}, {"value", value}};
  if (err != nullptr) {
    e["err"] = err;
  } else {
    e["result"] = 0;
  }
  return e;
}
json Bind(int fd, const char* family, const char* addr, const char* err = nullptr) {
  json e = {{"call", "bind"}, {"fd", fd}, {"family", family}, {"addr", addr}, {"port", 0}};
  if (err != nullptr) {
    e["err"] = err;
  } else {
    e["result"] = 0;
  }
  return e;
}
json Listen(int fd, int backlog) {
  return {{"call", "listen"}, {"fd", fd}, {"backlog", backlog}, {"result", 0}};
}
json Fcntl(int fd, const char* cmd, int arg) {
  return {{"call", "fcntl"}, {"fd", fd}, {"cmd", cmd}, {"arg", arg}, {"result", 0}};
}
json Close(int fd) { return {{"call", "close"}, {"fd", fd}, {"result", 0}}; }

constexpr const char* kAtomic = "SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC";

// The reference's way: flags at socket(), options, bind, listen.
json ReferenceTrace() {
  return Trace({Socket(5, "inet", kAtomic), Opt(5, "SO_REUSEADDR", 1), Bind(5, "inet", "0.0.0.0"),
                Listen(5, 128), Socket(6, "inet6", kAtomic), Opt(6, "SO_REUSEADDR", 1),
                Opt(6, "IPV6_V6ONLY", 1), Bind(6, "inet6", "::"), Listen(6, 128)});
}

TEST(TraceEffects, BIND_028_CloexecAtSocketHoldsForTheReference) {
  EXPECT_FALSE(
      CheckEffects({{"cloexec", "at-socket"}, {"nonblock", "at-socket"}}, ReferenceTrace()));
}

TEST(TraceEffects, BIND_028_CloexecSetAfterSocketFails) {
  // Twisted: socket() without SOCK_CLOEXEC, then fcntl(F_SETFD, FD_CLOEXEC).
  const json t = Trace({Socket(5, "inet", "SOCK_STREAM"), Fcntl(5, "F_SETFD", 1),
                        Opt(5, "SO_REUSEADDR", 1), Bind(5, "inet", "0.0.0.0"), Listen(5, 50)});
  const auto f = CheckEffects({{"cloexec", "at-socket"}}, t);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->where, "effects/cloexec");
  EXPECT_NE(f->actual.find("socket() without SOCK_CLOEXEC"), std::string::npos) << f->actual;
  // ... which still has it by bind and listen (BIND-009's purpose alone).
  EXPECT_FALSE(CheckEffects({{"cloexec", "before-bind"}}, t));
  EXPECT_FALSE(CheckEffects({{"cloexec", "before-listen"}}, t));
}

TEST(TraceEffects, BIND_028_FlagSetAgainAfterSocketFails) {
  // Tornado: SOCK_NONBLOCK at socket(), then setblocking(False) again.
  const json t = Trace({Socket(5, "inet", kAtomic), Fcntl(5, "F_SETFL", 04002),
                        Bind(5, "inet", "127.0.0.1"), Listen(5, 128)});
  const auto f = CheckEffects({{"nonblock", "at-socket"}}, t);
  ASSERT_TRUE(f);
  EXPECT_NE(f->actual.find("set again"), std::string::npos) << f->actual;
}

TEST(TraceEffects, BIND_014_NonblockAfterBindFails) {
  // Rust std: a blocking socket made non-blocking after bind (ioctl FIONBIO).
  const json t =
      Trace({Socket(5, "inet", "SOCK_STREAM|SOCK_CLOEXEC"),
             Bind(5, "inet", "127.0.0.1"),
             Listen(5, 128),
             {{"call", "ioctl"}, {"fd", 5}, {"request", "FIONBIO"}, {"value", 1}, {"result", 0}}});
  EXPECT_TRUE(CheckEffects({{"nonblock", "before-bind"}}, t));
  EXPECT_TRUE(CheckEffects({{"nonblock", "before-listen"}}, t));
}

TEST(TraceEffects, BIND_012_V6onlyBeforeBindOnEveryInet6Socket) {
  EXPECT_FALSE(
      CheckEffects({{"before-bind", {{"IPV6_V6ONLY", 1}, {"SO_REUSEADDR", 1}}}}, ReferenceTrace()));
  // Set after bind: too late, in whatever order the rest comes.
  const json late = Trace({Socket(6, "inet6", kAtomic), Opt(6, "SO_REUSEADDR", 1),
                           Bind(6, "inet6", "::"), Opt(6, "IPV6_V6ONLY", 1), Listen(6, 128)});
  const auto f = CheckEffects({{"before-bind", {{"IPV6_V6ONLY", 1}}}}, late);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->where, "effects/before-bind/IPV6_V6ONLY");
  // A failed setsockopt is no value.
  const json failed = Trace({Socket(6, "inet6", kAtomic), Opt(6, "IPV6_V6ONLY", 1, "EINTR"),
                             Bind(6, "inet6", "::"), Listen(6, 128)});
  EXPECT_TRUE(CheckEffects({{"before-bind", {{"IPV6_V6ONLY", 1}}}}, failed));
  // IPV6_V6ONLY is about AF_INET6 sockets only.
  const json v4 = Trace({Socket(5, "inet", kAtomic), Bind(5, "inet", "0.0.0.0"), Listen(5, 1)});
  EXPECT_FALSE(CheckEffects({{"before-bind", {{"IPV6_V6ONLY", 1}}}}, v4));
}

TEST(TraceEffects, BIND_010_ReuseaddrMissingFails) {
  const json t = Trace({Socket(5, "inet", kAtomic), Bind(5, "inet", "0.0.0.0"), Listen(5, 1)});
  const auto f = CheckEffects({{"before-bind", {{"SO_REUSEADDR", 1}}}}, t);
  ASSERT_TRUE(f);
  EXPECT_NE(f->actual.find("never set"), std::string::npos) << f->actual;
}

TEST(TraceEffects, BIND_011_UntouchedOption) {
  EXPECT_FALSE(CheckEffects({{"untouched", {"SO_REUSEPORT"}}}, ReferenceTrace()));
  EXPECT_TRUE(CheckEffects({{"untouched", {"SO_REUSEADDR"}}}, ReferenceTrace()));
}

TEST(TraceEffects, BIND_030_BacklogOfEveryListener) {
  EXPECT_FALSE(CheckEffects({{"backlog", 128}}, ReferenceTrace()));
  const auto f = CheckEffects({{"backlog", 5}}, ReferenceTrace());
  ASSERT_TRUE(f);
  EXPECT_NE(f->actual.find("backlog 128"), std::string::npos);
}

TEST(TraceEffects, BIND_018_LeftOpen) {
  // Two sockets, the second's bind fails: both closed, in either order.
  const json closed =
      Trace({Socket(5, "inet", kAtomic), Bind(5, "inet", "127.0.0.1"), Socket(6, "inet", kAtomic),
             Bind(6, "inet", "127.0.0.2", "EACCES"), Close(6), Close(5)});
  EXPECT_FALSE(CheckEffects({{"left-open", "none"}}, closed));
  const json leaked =
      Trace({Socket(5, "inet", kAtomic), Bind(5, "inet", "127.0.0.1"), Listen(5, 128),
             Socket(6, "inet", kAtomic), Bind(6, "inet", "127.0.0.2", "EACCES")});
  const auto f = CheckEffects({{"left-open", "none"}}, leaked);
  ASSERT_TRUE(f);
  EXPECT_NE(f->actual.find("fd 5"), std::string::npos) << f->actual;
  // Only the failed socket is left open: "listeners" still fails on fd 6.
  const auto g = CheckEffects({{"left-open", "listeners"}}, leaked);
  ASSERT_TRUE(g);
  EXPECT_NE(g->actual.find("fd 6"), std::string::npos) << g->actual;
}

TEST(TraceEffects, FdReusedAfterCloseIsANewSocket) {
  const json t = Trace({Socket(5, "inet", "SOCK_STREAM"), Close(5), Socket(5, "inet", kAtomic),
                        Bind(5, "inet", "127.0.0.1"), Listen(5, 1)});
  EXPECT_FALSE(CheckEffects({{"cloexec", "at-socket"}}, t));
  EXPECT_EQ(BuildSocketModel(t).sockets.size(), 2u);
}

TEST(TraceEffects, NothingBoundIsNoPass) {
  const auto f = CheckEffects({{"cloexec", "at-socket"}}, Trace(json::array()));
  ASSERT_TRUE(f);
  EXPECT_NE(f->actual.find("nothing to judge"), std::string::npos);
}

TEST(TraceEffects, VocabularyIsClosed) {
  EXPECT_FALSE(EffectsProblem({{"cloexec", "at-socket"}, {"left-open", "none"}}));
  EXPECT_TRUE(EffectsProblem({{"cloexce", "at-socket"}}));
  EXPECT_TRUE(EffectsProblem({{"cloexec", "sometime"}}));
  EXPECT_TRUE(EffectsProblem({{"before-bind", {{"SO_LINGER", 1}}}}));
  EXPECT_TRUE(EffectsProblem({{"before-bind", {{"SO_REUSEADDR", "1"}}}}));
  EXPECT_TRUE(EffectsProblem({{"untouched", json::array()}}));
  EXPECT_TRUE(EffectsProblem({{"backlog", "128"}}));
  EXPECT_TRUE(EffectsProblem(json::array()));
  EXPECT_TRUE(EffectsProblem(json::object()));
}

fakes::FaultPlan Plan(const char* text) {
  return *fakes::FaultPlan::Parse(text, fakes::ErrnoCheck::kAny).plan;
}

TEST(FaultReach, BIND_024_NeverCalledIsUnmet) {
  FaultReach reach;
  reach.Arm(Plan("getsockname = EINTR\n"));
  reach.See(ReferenceTrace());  // no getsockname: trio's design
  ASSERT_EQ(reach.Unmet().size(), 1u);
  EXPECT_EQ(reach.Unmet()[0], "getsockname = EINTR");
}

TEST(FaultReach, BIND_018_FewerCallsThanTheNthIsUnmet) {
  // bind #2 with one bind made (an implementation that makes one listener per
  // call: Go, Node, Rust): the fault the case puts on the second socket never
  // came, so the situation the case is about never arose.
  FaultReach reach;
  reach.Arm(Plan("bind #2 = EACCES\n"));
  reach.See(Trace({Socket(5, "inet", kAtomic), Bind(5, "inet", "127.0.0.1")}));
  ASSERT_EQ(reach.Unmet().size(), 1u);
  EXPECT_EQ(reach.Unmet()[0], "bind #2 = EACCES");
  EXPECT_TRUE(reach.NoneMet());
  // The second bind, in a later request while the rule is in force: met.
  reach.See(Trace({Socket(6, "inet", kAtomic), Bind(6, "inet", "127.0.0.2", "EACCES")}));
  EXPECT_TRUE(reach.Unmet().empty());
}

TEST(FaultReach, BIND_018_TheNthCallInOneRequestIsMet) {
  FaultReach reach;
  reach.Arm(Plan("bind #2 = EACCES\n"));
  reach.See(Trace({Bind(5, "inet", "127.0.0.1"), Bind(6, "inet", "127.0.0.2", "EACCES")}));
  EXPECT_TRUE(reach.Unmet().empty());
  FaultReach third;
  third.Arm(Plan("bind #3 x2 = EACCES\n"));
  third.See(Trace({Bind(5, "inet", "127.0.0.1"), Bind(6, "inet", "127.0.0.2")}));
  EXPECT_EQ(third.Unmet().size(), 1u);
}

TEST(FaultReach, BIND_008_OnlyMatchingCallsCount) {
  // bind family=inet6 #2: IPv4 binds are not the rule's calls, however many.
  FaultReach reach;
  reach.Arm(Plan("bind family=inet6 #2 = EADDRNOTAVAIL\n"));
  reach.See(
      Trace({Bind(5, "inet", "127.0.0.1"), Bind(6, "inet6", "::1"), Bind(7, "inet", "127.0.0.2")}));
  EXPECT_EQ(reach.Unmet().size(), 1u);
  reach.See(Trace({Bind(8, "inet6", "::1", "EADDRNOTAVAIL")}));
  EXPECT_TRUE(reach.Unmet().empty());
}

TEST(FaultReach, ArmedAgainCountsFromOne) {
  // A step's inject arms the rule again: the instrument's count restarts, so
  // a bind before it is not one of the two.
  FaultReach reach;
  reach.Arm(Plan("bind #2 = EACCES\n"));
  reach.See(Trace({Bind(5, "inet", "127.0.0.1")}));
  reach.Arm(Plan("bind #2 = EACCES\n"));
  reach.See(Trace({Bind(6, "inet", "127.0.0.1")}));
  EXPECT_EQ(reach.Unmet().size(), 1u);
}

TEST(FaultReach, CutTraceCountsEveryCallOfTheSyscall) {
  // Entries cut: the per-call count bounds the matching calls from above, so
  // two setsockopt calls may have been the rule's #2 (met), one cannot.
  json two = Trace({Opt(5, "SO_RCVBUF", 1), Opt(5, "SO_RCVBUF", 1)});
  two["entries"] = json::array();
  FaultReach reach;
  reach.Arm(Plan("setsockopt opt=SO_REUSEADDR #2 = ENOPROTOOPT\n"));
  reach.See(two);
  EXPECT_TRUE(reach.Unmet().empty());
  json one = Trace({Opt(5, "SO_RCVBUF", 1)});
  one["entries"] = json::array();
  FaultReach once;
  once.Arm(Plan("setsockopt opt=SO_REUSEADDR #2 = ENOPROTOOPT\n"));
  once.See(one);
  EXPECT_EQ(once.Unmet().size(), 1u);
}

TEST(FaultReach, UNIX_002_SelectorsMustMatch) {
  FaultReach reach;
  reach.Arm(Plan("setsockopt opt=SO_REUSEADDR = ENOPROTOOPT\n"));
  reach.See(Trace({Socket(5, "unix", kAtomic), Opt(5, "SO_RCVBUF", 1)}));
  EXPECT_EQ(reach.Unmet().size(), 1u);
  reach.See(Trace({Opt(5, "SO_REUSEADDR", 1, "ENOPROTOOPT")}));
  EXPECT_TRUE(reach.Unmet().empty());
}

TEST(FaultReach, UNIX_014_OneDesignsRulesMetIsMet) {
  // EINTR on the calls of both designs: a by-path design meets lstat's rule
  // and never the *at calls', and is judged.
  FaultReach reach;
  reach.Arm(Plan("lstat = EINTR\nfstatat = EINTR\n"));
  reach.See(Trace({{{"call", "lstat"}, {"path", "/t/s"}, {"err", "EINTR"}}}));
  EXPECT_EQ(reach.Unmet().size(), 1u);
  EXPECT_FALSE(reach.NoneMet());
  FaultReach untouched;
  untouched.Arm(Plan("lstat = EINTR\nfstatat = EINTR\n"));
  untouched.See(ReferenceTrace());
  EXPECT_TRUE(untouched.NoneMet());
  EXPECT_FALSE(FaultReach().NoneMet());  // no plan: nothing never met
}

TEST(FaultReach, CutTraceCountsAsMet) {
  FaultReach reach;
  reach.Arm(Plan("setsockopt opt=SO_REUSEADDR = ENOPROTOOPT\n"));
  json t = Trace({Opt(5, "SO_RCVBUF", 1)});
  t["total"] = 4001;  // the log kept fewer entries than calls
  reach.See(t);
  EXPECT_TRUE(reach.Unmet().empty());
}

TEST(FaultReach, CallsBeforeTheRuleDoNotCount) {
  FaultReach reach;
  reach.See(Trace({Close(5)}));  // before any rule
  reach.Arm(Plan("close = EINTR\n"));
  EXPECT_EQ(reach.Unmet().size(), 1u);
  reach.Arm(fakes::FaultPlan());  // replaced by a step's inject, never met
  reach.See(Trace({Close(5)}));
  EXPECT_EQ(reach.Unmet().size(), 1u);
}

TEST(FaultReach, NullHostMatchesTheRulesSpelling) {
  const fakes::FaultRule rule = Plan("getaddrinfo host=(null) = EAI_NONAME\n").rules()[0];
  EXPECT_TRUE(FaultReach::Matches(rule, {{"call", "getaddrinfo"}, {"host", nullptr}}));
  EXPECT_FALSE(FaultReach::Matches(rule, {{"call", "getaddrinfo"}, {"host", "x"}}));
}

// env.fault_situation: the injected call must match the case's pattern.
json Injected(json e) {
  e["injected"] = true;
  return e;
}
json BindAt(int fd, const char* addr, int port, const char* err = nullptr) {
  json e = Bind(fd, "inet", addr, err);
  e["port"] = port;
  return e;
}
const json kSharedPort = json::parse(R"({"call": "bind", "port": {"$gt": 0}})");

TEST(FaultReach, BIND_023_SituationMissedWhenEveryInjectedCallIsOutsideIt) {
  // asyncio, trio: each address bound to port 0, so "bind #2 = EADDRINUSE"
  // meets a port-0 bind, not the port the first address got.
  FaultReach reach;
  reach.Arm(Plan("bind #2 = EADDRINUSE\n"));
  reach.SetSituation(kSharedPort);
  json resolver = {{"call", "getaddrinfo"}, {"host", "conform.test"}, {"result", json::array()}};
  reach.See(Trace({Injected(resolver), Socket(5, "inet", kAtomic), BindAt(5, "127.0.0.1", 0),
                   Socket(6, "inet", kAtomic), Injected(BindAt(6, "127.0.0.2", 0, "EADDRINUSE")),
                   Close(6), Close(5)}));
  EXPECT_TRUE(reach.Unmet().empty()) << "the rule met its call: not a case of NeverMet";
  const std::optional<std::string> why = reach.SituationMissed();
  ASSERT_TRUE(why);
  EXPECT_NE(why->find(R"({"call":"bind","port":{"$gt":0}})"), std::string::npos) << *why;
  EXPECT_NE(why->find("another bind call"), std::string::npos) << *why;
  EXPECT_NE(why->find(R"("addr":"127.0.0.2")"), std::string::npos) << *why;
  EXPECT_EQ(why->find("getaddrinfo"), std::string::npos) << "a resolver override is no fault";
}

TEST(FaultReach, BIND_023_SituationMetOnceAnInjectedCallMatches) {
  // Tornado: the second bind is on the port the first got.
  FaultReach reach;
  reach.Arm(Plan("bind #2 = EADDRINUSE\n"));
  reach.SetSituation(kSharedPort);
  reach.See(Trace({BindAt(5, "127.0.0.1", 0), Injected(BindAt(6, "127.0.0.2", 0, "EADDRINUSE"))}));
  EXPECT_TRUE(reach.SituationMissed());
  reach.See(Trace({Injected(BindAt(7, "127.0.0.2", 40001, "EADDRINUSE"))}));
  EXPECT_FALSE(reach.SituationMissed()) << "met in a later request: met";
}

TEST(FaultReach, SituationUndecidedWithoutInjectedEntriesOrWithACutTrace) {
  FaultReach none;
  none.Arm(Plan("bind #2 = EADDRINUSE\n"));
  none.SetSituation(kSharedPort);
  none.See(Trace({BindAt(5, "127.0.0.1", 0)}));
  EXPECT_FALSE(none.SituationMissed()) << "no injected call: nothing to judge by";
  none.See(json::object());  // no trace at all
  EXPECT_FALSE(none.SituationMissed());

  FaultReach cut;
  cut.Arm(Plan("bind #2 = EADDRINUSE\n"));
  cut.SetSituation(kSharedPort);
  json t = Trace({Injected(BindAt(6, "127.0.0.2", 0, "EADDRINUSE"))});
  t["total"] = 4001;  // entries left out may hold a matching one
  cut.See(t);
  EXPECT_FALSE(cut.SituationMissed());

  FaultReach unset;
  unset.Arm(Plan("bind #2 = EADDRINUSE\n"));
  unset.See(Trace({Injected(BindAt(6, "127.0.0.2", 0, "EADDRINUSE"))}));
  EXPECT_FALSE(unset.SituationMissed()) << "no situation given";
}

}  // namespace
}  // namespace netutil::conform
