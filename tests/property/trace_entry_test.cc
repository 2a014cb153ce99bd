// Typed traces (trace_entry.h): a trace keeps each call's arguments and result
// as the Sys method took and gave them; text (FormatTraceLine) and JSON fields
// (TraceFields) are made from them at the edges.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <rapidcheck/gtest.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>
#include <string>
#include <tuple>

#include "netutil/bind_sockets.h"
#include "netutil/fakes/fake_kernel.h"
#include "netutil/fakes/fault_plan.h"
#include "netutil/fakes/trace.h"
#include "netutil/fakes/trace_fields.h"

namespace netutil::property {
namespace {

using fakes::Call;
using nlohmann::json;

fakes::FaultPlan Plan(const char* text) {
  auto parsed = fakes::FaultPlan::Parse(text);
  if (!parsed.ok()) ADD_FAILURE() << parsed.error->ToString();
  return parsed.ok() ? *parsed.plan : fakes::FaultPlan{};
}

// A listener on 127.0.0.1 with one client queued; its fd.
int ListenerWithAClient(fakes::FakeKernel& kernel) {
  const int fd = kernel.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0).value;
  const SockAddr at = *SockAddr::FromIp("127.0.0.1", 8080);
  EXPECT_TRUE(kernel.bind(fd, at).ok());
  EXPECT_TRUE(kernel.listen(fd, 8).ok());
  EXPECT_TRUE(kernel.ConnectTo(at).ok());
  return fd;
}

TEST(TraceEntry, KeepsTheArgumentsAndResultAsTyped) {
  fakes::FakeKernel kernel;
  kernel.SetFaultPlan(Plan("listen = EADDRINUSE"));
  const int fd = kernel.socket(AF_INET6, SOCK_STREAM, 0).value;
  (void)kernel.bind(fd, *SockAddr::FromIp("::1", 8080));
  (void)kernel.listen(fd, 128);
  const auto& entries = kernel.trace().entries();
  ASSERT_EQ(entries.size(), 3u);

  const auto* bind = entries[1].As<Call::kBind>();
  ASSERT_NE(bind, nullptr);
  EXPECT_EQ(entries[1].call(), Call::kBind);
  EXPECT_EQ(entries[1].As<Call::kListen>(), nullptr);
  const auto& [bound_fd, addr] = bind->args;
  EXPECT_EQ(bound_fd, fd);
  EXPECT_EQ(addr, *SockAddr::FromIp("::1", 8080));
  EXPECT_TRUE(bind->result.ok());
  EXPECT_FALSE(entries[1].injected);

  const auto* listen = entries[2].As<Call::kListen>();
  ASSERT_NE(listen, nullptr);
  EXPECT_EQ(std::get<1>(listen->args), 128);
  EXPECT_EQ(entries[2].err(), EADDRINUSE);
  EXPECT_TRUE(entries[2].injected);
}

// accept4's peer and epoll_wait's ready list are what the call wrote; a fault
// that chose the value wrote nothing.
TEST(TraceEntry, KeepsWhatTheOutParametersReceived) {
  fakes::FakeKernel kernel;
  const int fd = ListenerWithAClient(kernel);
  const int ep = kernel.epoll_create1(EPOLL_CLOEXEC).value;
  ASSERT_TRUE(kernel.epoll_ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN).ok());
  EpollEvent events[4];
  ASSERT_EQ(kernel.epoll_wait(ep, events, 4, 0).value, 1);
  SockAddr peer;
  const int conn = kernel.accept4(fd, &peer, SOCK_NONBLOCK | SOCK_CLOEXEC).value;
  kernel.SetFaultPlan(Plan("accept4 = 42"));
  SockAddr untouched;
  (void)kernel.accept4(fd, &untouched, 0);

  const auto& entries = kernel.trace().entries();
  const auto* wait = entries[entries.size() - 3].As<Call::kEpollWait>();
  ASSERT_NE(wait, nullptr);
  ASSERT_EQ(std::get<1>(wait->args).size(), 1u);
  EXPECT_EQ(std::get<1>(wait->args)[0].fd, fd);
  EXPECT_EQ(std::get<1>(wait->args)[0].events, static_cast<uint32_t>(EPOLLIN));
  const auto* accepted = entries[entries.size() - 2].As<Call::kAccept4>();
  ASSERT_NE(accepted, nullptr);
  EXPECT_EQ(accepted->result.value, conn);
  EXPECT_EQ(std::get<1>(accepted->args), peer);
  EXPECT_FALSE(peer.empty());
  const auto* chosen = entries.back().As<Call::kAccept4>();
  ASSERT_NE(chosen, nullptr);
  EXPECT_EQ(chosen->result.value, 42);
  EXPECT_TRUE(std::get<1>(chosen->args).empty());
  EXPECT_EQ(fakes::FormatTraceLine(entries.back()), "accept4(3, ..., 0) = 42 (injected)");
}

TEST(TraceFields, NameEachArgumentAsTheFaultPlanSpellsIt) {
  fakes::FakeKernel kernel;
  kernel.SetFaultPlan(Plan("bind port=8080 = EADDRINUSE"));
  const int fd = kernel.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0).value;
  (void)kernel.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  (void)kernel.bind(fd, *SockAddr::FromIp("127.0.0.1", 8080));
  const auto& entries = kernel.trace().entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(fakes::TraceFields(entries[0]), json::parse(R"({
      "call": "socket", "family": "inet", "type": "SOCK_STREAM|SOCK_CLOEXEC",
      "protocol": 0, "result": 3, "injected": false})"));
  EXPECT_EQ(fakes::TraceFields(entries[1]), json::parse(R"({
      "call": "setsockopt", "fd": 3, "level": "SOL_SOCKET", "opt": "SO_REUSEADDR",
      "value": 1, "result": 0, "injected": false})"));
  EXPECT_EQ(fakes::TraceFields(entries[2]), json::parse(R"({
      "call": "bind", "fd": 3, "family": "inet", "addr": "127.0.0.1", "port": 8080,
      "err": "EADDRINUSE", "injected": true})"));
}

TEST(TraceFields, ResultsAreValuesNotText) {
  fakes::FakeKernel kernel;
  auto r = bind_sockets(kernel, {.port = 0, .address = "127.0.0.1"});
  ASSERT_TRUE(r.ok());
  const uint16_t port = r.value()[0].addr.port();
  bool saw_resolve = false;
  bool saw_name = false;
  for (const fakes::TraceEntry& e : kernel.trace().entries()) {
    const json fields = fakes::TraceFields(e);
    EXPECT_EQ(fields["call"], fakes::CallName(e.call()));
    if (e.call() == Call::kGetaddrinfo) {
      saw_resolve = true;
      EXPECT_EQ(fields["host"], "127.0.0.1");
      EXPECT_EQ(fields["flags"], "AI_PASSIVE");
      EXPECT_EQ(fields["result"],
                json::parse(R"([{"family":"inet","addr":"127.0.0.1","port":0}])"));
    }
    if (e.call() == Call::kGetsockname) {
      saw_name = true;
      EXPECT_EQ(fields["result"],
                (json{{"family", "inet"}, {"addr", "127.0.0.1"}, {"port", port}}));
    }
  }
  EXPECT_TRUE(saw_resolve);
  EXPECT_TRUE(saw_name);
}

// The keyed values of an entry are those the fault plan selected the call by:
// a rule that matched a call matches its traced entry (ArgsOf).
RC_GTEST_PROP(TraceEntry, ArgsOfAgreesWithTheFaultRuleThatHitTheCall, ()) {
  const auto port = *rc::gen::inRange<int>(1, 65536);
  const bool v6 = *rc::gen::arbitrary<bool>();
  fakes::FakeKernel kernel;
  const std::string rule = "bind family=" + std::string(v6 ? "inet6" : "inet") +
                           " port=" + std::to_string(port) + " = EACCES";
  kernel.SetFaultPlan(Plan(rule.c_str()));
  const int fd = kernel.socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0).value;
  const auto addr = *SockAddr::FromIp(v6 ? "::" : "0.0.0.0", static_cast<uint16_t>(port));
  RC_ASSERT(kernel.bind(fd, addr).err == EACCES);
  const fakes::TraceEntry& e = kernel.trace().entries().back();
  RC_ASSERT(e.injected);
  const fakes::CallArgs args = fakes::ArgsOf(e);
  RC_ASSERT(args.port == std::to_string(port));
  RC_ASSERT(args.family == std::string(v6 ? "inet6" : "inet"));
  RC_ASSERT(args.text == std::to_string(fd) + ", " + addr.ToString());
  RC_ASSERT(fakes::TraceFields(e)["port"] == port);
}

}  // namespace
}  // namespace netutil::property
