// One traced call as typed data: the call's arguments and result as the Sys
// method took and gave them (sys_calls.def), not as text. Text is made at the
// edges (trace.h's FormatTraceLine, trace_fields.h's JSON); checks read the
// fields:
//
//   if (const auto* bind = entry.As<Call::kBind>()) {
//     const auto& [fd, addr] = bind->args;   // int, SockAddr
//     if (addr.port() == 0 && bind->result.ok()) ...
//   }
//
// An out-parameter is kept as what the call wrote there: accept4's peer as a
// SockAddr (empty when nothing was written), epoll_wait's events as the ready
// list. A fault that chose the value wrote nothing, so both stay empty then.
#pragma once

#include <cstddef>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "netutil/fakes/call_types.h"
#include "netutil/fakes/syscall_table.h"

namespace netutil::fakes {

// What a trace keeps of one parameter.
template <typename T>
struct KeptArg {
  using type = T;
};
template <>
struct KeptArg<SockAddr*> {
  using type = SockAddr;
};
template <>
struct KeptArg<EpollEvent*> {
  using type = std::vector<EpollEvent>;
};

template <typename Tuple>
struct KeptArgs;
template <typename... T>
struct KeptArgs<std::tuple<T...>> {
  using type = std::tuple<typename KeptArg<T>::type...>;
};

template <Call C>
struct CallRecord {
  static constexpr Call kCall = C;
  using Args = typename KeptArgs<typename CallTypes<C>::Args>::type;
  using Result = typename CallTypes<C>::Result;

  Args args;
  Result result;
};

namespace detail {
template <size_t... I>
std::variant<CallRecord<static_cast<Call>(I)>...> RecordVariant(std::index_sequence<I...>);
}  // namespace detail

// One alternative per call, in the order of Call (its index is the Call).
using CallValues = decltype(detail::RecordVariant(std::make_index_sequence<kAllCalls.size()>()));

struct TraceEntry {
  CallValues values;
  bool injected = false;  // answered by a fault rule or the resolver table, not the kernel

  Call call() const { return static_cast<Call>(values.index()); }
  // The record when this is a call of C, else null.
  template <Call C>
  const CallRecord<C>* As() const {
    return std::get_if<static_cast<size_t>(C)>(&values);
  }
  // The errno, or getaddrinfo's EAI code; 0 on success.
  int err() const;
  // getaddrinfo's EAI_SYSTEM: its errno; 0 otherwise.
  int sys_err() const;
  bool ok() const { return err() == 0; }

  // One line, strace-style with strerror, without a newline (trace.h).
  std::string ToString() const;
};

}  // namespace netutil::fakes
