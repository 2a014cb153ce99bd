// What the property tests share: option builders (designated initializers
// that leave fields out trip -Wmissing-field-initializers under -Wextra),
// address helpers, and the context a failing case prints: the kernel's
// config, its trace and its fd table.
#pragma once

#include <rapidcheck.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "netutil/bind_sockets.h"
#include "netutil/fakes/fake_kernel.h"

// RC_ASSERT that, when it fails, first logs the kernel's context (config,
// trace, fds). For properties whose traces are long: the context is built
// only for the failing case, where eager RC_LOG would build it for all.
#define NETUTIL_RC_ASSERT_TRACED(kernel, ...)           \
  do {                                                  \
    if (!(__VA_ARGS__)) {                               \
      RC_LOG() << ::netutil::property::Context(kernel); \
      RC_ASSERT(__VA_ARGS__);                           \
    }                                                   \
  } while (0)

namespace netutil::property {

// A literal with a port; aborts on a typo in a test.
SockAddr Addr(const std::string& literal, uint16_t port = 0);

std::set<int> OpenFds(const fakes::FakeKernel& kernel);

// The config, trace and fd table, for RC_LOG: rapidcheck prints what was
// logged only for the failing (shrunk) case.
std::string Context(const fakes::FakeKernel& kernel);
void LogContext(const fakes::FakeKernel& kernel);

// "0.0.0.0:8888, [::]:8888" for a result's listeners.
std::string Describe(const std::vector<Listener>& listeners);

bool IsWildcard(const SockAddr& a);
// First occurrences only, in order: what BIND-006's de-duplication keeps.
std::vector<SockAddr> Distinct(const std::vector<SockAddr>& in);

}  // namespace netutil::property
