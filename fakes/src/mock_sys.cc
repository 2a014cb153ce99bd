#include "netutil/fakes/mock_sys.h"

#include <netdb.h>

#include <cerrno>
#include <chrono>
#include <type_traits>

#include "netutil/fakes/addr_builders.h"

namespace netutil::fakes {
namespace {

// What an un-stubbed call answers, by its result type: ENOSYS (EAI_SYSTEM
// with ENOSYS for getaddrinfo), so it can never read as success.
template <typename R>
R Unstubbed() {
  if constexpr (std::is_same_v<R, GaiResult>) {
    return ResolveFails(EAI_SYSTEM, ENOSYS);
  } else if constexpr (std::is_same_v<R, mode_t>) {
    return 022;  // umask cannot fail: the usual mask
  } else if constexpr (std::is_same_v<R, std::chrono::nanoseconds>) {
    return R(0);
  } else {
    return SysErr<decltype(R::value)>(ENOSYS);
  }
}

}  // namespace

MockSys::MockSys() {
  using ::testing::Return;
#define NETUTIL_SYS_METHOD(Ret, name, Camel, params, args) \
  ON_CALL(*this, name).WillByDefault(Return(Unstubbed<Ret>()));
#include "netutil/sys_calls.def"
  // RAII cleanup needs no stubbing (the later ON_CALL wins).
  ON_CALL(*this, close).WillByDefault(Return(SysOk()));
}

}  // namespace netutil::fakes
