// The types of each call of the seam, from sys_calls.def: what it returns and
// its arguments as owned values. The base of typed traces (a trace entry that
// keeps `bind`'s int and SockAddr instead of the text "3, 0.0.0.0:0") and of
// matching calls by field rather than by parsing text back.
//
//   static_assert(std::is_same_v<CallTypes<Call::kBind>::Args, std::tuple<int, SockAddr>>);
//
// Out-parameters (accept4's SockAddr*, epoll_wait's EpollEvent*) stay
// pointers here: what they receive belongs to the result, not the arguments.
#pragma once

#include <tuple>
#include <type_traits>

#include "netutil/fakes/syscall_table.h"
#include "netutil/sys.h"

namespace netutil::fakes {

template <typename Signature>
struct SignatureTypes;

template <typename R, typename... Params>
struct SignatureTypes<R(Params...)> {
  using Result = R;
  using Args = std::tuple<std::remove_cvref_t<Params>...>;
};

template <Call C>
struct CallTypes;

#define NETUTIL_SYS_CALL(Ret, name, Camel, params, args) \
  template <>                                            \
  struct CallTypes<Call::k##Camel> : SignatureTypes<Ret params> {};
#include "netutil/sys_calls.def"

}  // namespace netutil::fakes
