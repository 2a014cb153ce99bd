// What every listener carries, for any option set and platform (BIND-001,
// -009..-012, -014, -016), and what the resolver is asked (BIND-002, -004,
// -005).
#include <gtest/gtest.h>
#include <netdb.h>
#include <rapidcheck/gtest.h>
#include <sys/socket.h>

#include <climits>

#include "generators.h"
#include "netutil/bind_sockets.h"
#include "netutil/fakes/call_args.h"
#include "netutil/fakes/fake_kernel.h"
#include "prop_support.h"

namespace netutil::property {
namespace {

using fakes::Call;
using fakes::FakeKernel;

Platform PlatformOf(Platform::Os os) {
  switch (os) {
    case Platform::Os::kLinux:
      return Platform::Linux();
    case Platform::Os::kDarwin:
      return Platform::Darwin();
    case Platform::Os::kWindows:
      return Platform::Windows();
  }
  return Platform::Linux();
}

RC_GTEST_PROP(
    BindOptions,
    BIND_001_BIND_009_BIND_010_BIND_011_BIND_012_BIND_014_BIND_016_ListenersCarryTheirOptions, ()) {
  const Platform::Os os = DrawOs();
  RC_TAG(Platform{os, true, true}.name());
  FakeKernel kernel(fakes::KernelConfig::For(os));
  BindOptions o{.port = *rc::gen::element(0, 8000),
                .address = *rc::gen::element(std::optional<std::string>(),
                                             std::optional<std::string>("localhost")),
                .platform = PlatformOf(os)};
  o.family = *rc::gen::element(AF_UNSPEC, AF_INET, AF_INET6);
  o.reuse_port = *rc::gen::arbitrary<bool>();
  o.backlog = DrawBacklog();

  auto result = bind_sockets(kernel, o);
  LogContext(kernel);
  if (o.reuse_port && !o.platform.has_reuseport) {
    // BIND-001: refused before any syscall.
    RC_ASSERT(!result.ok());
    RC_ASSERT(result.error().kind == Error::Kind::kArgument);
    RC_ASSERT(kernel.trace().empty());
    return;
  }
  if (!result.ok()) RC_LOG() << "error: " << result.error().ToString();
  RC_ASSERT(result.ok());
  RC_ASSERT(!result.value().empty());
  const int backlog = std::min(o.backlog, kernel.config().traits.somaxconn);
  for (const auto& l : result.value()) {
    const auto info = kernel.socket_info(l.fd.get());
    RC_ASSERT(info.has_value());
    RC_ASSERT(info->cloexec);                                       // BIND-009
    RC_ASSERT(info->nonblock);                                      // BIND-014
    RC_ASSERT(info->reuseaddr == (os != Platform::Os::kWindows));   // BIND-010
    RC_ASSERT(info->reuseport == o.reuse_port);                     // BIND-011
    if (l.family() == AF_INET6) RC_ASSERT(info->v6only);            // BIND-012
    RC_ASSERT(info->state == FakeKernel::SocketState::kListening);  // BIND-016
    RC_ASSERT(info->backlog == backlog);
    if (o.family != AF_UNSPEC) RC_ASSERT(l.family() == o.family);
  }
  // BIND-009, BIND-014: atomically, on socket() itself; BIND-012: V6ONLY
  // before bind (the fake refuses it after with EINVAL, so a listener that
  // has it got it in time).
  for (const auto& e : kernel.trace().entries()) {
    if (const auto* socket = e.As<Call::kSocket>()) {
      const int type = std::get<1>(socket->args);
      RC_ASSERT((type & (SOCK_NONBLOCK | SOCK_CLOEXEC)) == (SOCK_NONBLOCK | SOCK_CLOEXEC));
    }
  }
}

RC_GTEST_PROP(BindOptions, BIND_002_BIND_004_BIND_005_TheResolverGetsTheAskedQueryOnce, ()) {
  FakeKernel kernel;
  const std::optional<std::string> address = *rc::gen::element(
      std::optional<std::string>(), std::optional<std::string>(""),
      std::optional<std::string>("localhost"), std::optional<std::string>("127.0.0.1"));
  const std::optional<int> flags = *rc::gen::element(
      std::optional<int>(), std::optional<int>(0), std::optional<int>(AI_PASSIVE),
      std::optional<int>(AI_NUMERICHOST), std::optional<int>(AI_PASSIVE | AI_ADDRCONFIG));
  BindOptions o{
      .port = *rc::gen::inRange(0, 65536), .address = address, .platform = Platform::Linux()};
  o.flags = flags;
  o.family = *rc::gen::element(AF_UNSPEC, AF_INET, AF_INET6);
  const bool fail = *rc::gen::arbitrary<bool>();
  fakes::FaultOutcome gai;
  if (fail) {
    const std::vector<int> codes(fakes::LegalGaiErrors().begin(), fakes::LegalGaiErrors().end());
    gai = fakes::FaultOutcome::Gai(*rc::gen::elementOf(codes));
    if (gai.code == EAI_SYSTEM) gai.sys_errno = *rc::gen::element(EMFILE, ENOMEM, EIO);
    fakes::FaultRule r;
    r.call = Call::kGetaddrinfo;
    r.outcome = gai;
    kernel.SetFaultPlan(fakes::FaultPlan({r}));
  }
  auto result = bind_sockets(kernel, o);
  LogContext(kernel);

  // BIND-002: "" is NULL; BIND-004: no flags is AI_PASSIVE, flags replace it.
  const std::optional<std::string> node = address && !address->empty() ? address : std::nullopt;
  const AddrInfoHints hints{o.family, SOCK_STREAM, 0, flags.value_or(AI_PASSIVE)};
  const auto& calls = kernel.trace().entries();
  RC_ASSERT(!calls.empty());
  const auto* resolve = calls[0].As<Call::kGetaddrinfo>();
  RC_ASSERT(resolve != nullptr);
  const auto& [asked_node, asked_service, asked] = resolve->args;
  RC_ASSERT(asked_node == node);
  RC_ASSERT(asked_service == std::to_string(o.port));
  RC_ASSERT(asked.family == hints.family && asked.socktype == hints.socktype &&
            asked.protocol == hints.protocol && asked.flags == hints.flags);
  RC_ASSERT(kernel.trace().Count(Call::kGetaddrinfo) == 1u);  // BIND-005: once
  if (fail) {
    // BIND-005: a resolve error with the EAI code (and errno for EAI_SYSTEM),
    // and nothing else was tried.
    RC_ASSERT(!result.ok());
    RC_ASSERT(result.error().kind == Error::Kind::kResolve);
    RC_ASSERT(result.error().code == gai.code);
    RC_ASSERT(result.error().sys_errno == gai.sys_errno);
    RC_ASSERT(calls.size() == 1u);
  }
}

}  // namespace
}  // namespace netutil::property
