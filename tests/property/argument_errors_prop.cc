// Arguments the spec refuses are refused before any syscall: the fake's trace
// stays empty and nothing is registered (BIND-001, -019..-022, UNIX-012,
// UNIX-013, ACCEPT-015).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <climits>

#include "generators.h"
#include "netutil/accept_handler.h"
#include "netutil/bind_sockets.h"
#include "netutil/bind_unix_socket.h"
#include "netutil/fakes/fake_kernel.h"
#include "netutil/fakes/manual_loop.h"
#include "prop_support.h"

namespace netutil::property {
namespace {

using fakes::FakeKernel;

RC_GTEST_PROP(ArgumentErrors, BIND_001_BIND_019_BIND_020_BIND_021_BIND_022_RefusedBeforeAnySyscall,
              ()) {
  FakeKernel kernel;
  BindOptions o{
      .port = *rc::gen::inRange(0, 65536), .address = "localhost", .platform = Platform::Linux()};
  const int which = *rc::gen::element(0, 1, 2, 3, 4, 5, 6);
  std::string names;  // what the message must name
  switch (which) {
    case 0:  // BIND-019
      o.port = *rc::gen::oneOf(rc::gen::inRange<long long>(LLONG_MIN / 2, 0),
                               rc::gen::inRange<long long>(65536, LLONG_MAX / 2));
      names = std::to_string(o.port);
      RC_TAG("port out of range");
      break;
    case 1: {  // BIND-020: a NUL anywhere
      std::string a = DrawToken();
      a.insert(static_cast<size_t>(*rc::gen::inRange<int>(0, static_cast<int>(a.size()) + 1)), 1,
               '\0');
      o.address = a;
      RC_TAG("NUL in address");
      break;
    }
    case 2:  // BIND-020: longer than a DNS name
      o.address = std::string(static_cast<size_t>(*rc::gen::inRange(254, 2000)), 'a');
      RC_TAG("address too long");
      break;
    case 3:  // BIND-021
      o.family = *rc::gen::suchThat(rc::gen::arbitrary<int>(), [](int f) {
        return f != AF_UNSPEC && f != AF_INET && f != AF_INET6;
      });
      RC_TAG("bad family");
      break;
    case 4:  // BIND-022
      o.backlog = *rc::gen::inRange(INT_MIN, 0);
      RC_TAG("negative backlog");
      break;
    case 5:  // BIND-022 (BIND-023's port_retries)
      o.port_retries = *rc::gen::inRange(INT_MIN, 0);
      RC_TAG("negative port_retries");
      break;
    default:  // BIND-001
      o.platform = Platform::Windows();
      o.reuse_port = true;
      RC_TAG("reuse_port on Windows");
      break;
  }
  auto result = bind_sockets(kernel, o);
  RC_ASSERT(!result.ok());
  RC_ASSERT(result.error().kind == Error::Kind::kArgument);
  RC_ASSERT(kernel.trace().empty());
  if (!names.empty()) RC_ASSERT(result.error().message.find(names) != std::string::npos);
}

RC_GTEST_PROP(ArgumentErrors, UNIX_012_UNIX_013_RefusedBeforeAnySyscall, ()) {
  FakeKernel kernel;
  UnixOptions o;
  o.path = "/tmp/ok.sock";
  switch (*rc::gen::element(0, 1, 2, 3, 4)) {
    case 0:
      o.path = "";
      RC_TAG("empty path");
      break;
    case 1: {  // a NUL after the first byte of a pathname
      std::string p = "/" + DrawToken();
      p.insert(static_cast<size_t>(*rc::gen::inRange<int>(1, static_cast<int>(p.size()) + 1)), 1,
               '\0');
      o.path = p;
      RC_TAG("NUL in path");
      break;
    }
    case 2:
      o.path = "/" + std::string(sizeof(sockaddr_un::sun_path) +
                                     static_cast<size_t>(*rc::gen::inRange(0, 200)),
                                 'p');
      RC_TAG("path too long");
      break;
    case 3:
      o.mode = static_cast<mode_t>(*rc::gen::inRange(010000, 0777777));
      RC_TAG("mode out of range");
      break;
    default:
      o.backlog = *rc::gen::inRange(INT_MIN, 0);
      RC_TAG("negative backlog");
      break;
  }
  auto result = bind_unix_socket(kernel, o);
  RC_ASSERT(!result.ok());
  RC_ASSERT(result.error().kind == Error::Kind::kArgument);
  RC_ASSERT(kernel.trace().empty());
}

RC_GTEST_PROP(ArgumentErrors, ACCEPT_015_NothingIsRegistered, ()) {
  FakeKernel kernel;
  fakes::ManualLoop loop;
  auto listeners = bind_sockets(
      kernel, BindOptions{.port = 0, .address = "127.0.0.1", .platform = Platform::Linux()});
  RC_ASSERT(listeners.ok());
  kernel.trace().Clear();
  AcceptOptions options;
  Listener none;  // no fd
  const Listener* listener = &listeners.value().front();
  switch (*rc::gen::element(0, 1, 2)) {
    case 0:
      options.batch = *rc::gen::inRange(INT_MIN, 1);
      RC_TAG("batch below 1");
      break;
    case 1:
      options.backoff = std::chrono::milliseconds(*rc::gen::inRange<long long>(LLONG_MIN / 2, 0));
      RC_TAG("negative back-off");
      break;
    default:
      listener = &none;
      RC_TAG("no listener fd");
      break;
  }
  auto h = add_accept_handler(
      loop, kernel, *listener, [](Fd, const SockAddr&) {}, options);
  RC_ASSERT(!h.ok());
  RC_ASSERT(h.error().kind == Error::Kind::kArgument);
  RC_ASSERT(loop.handler_count() == 0u);
  RC_ASSERT(loop.add_calls() == 0);
  RC_ASSERT(kernel.trace().empty());
}

}  // namespace
}  // namespace netutil::property
