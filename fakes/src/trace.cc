#include "netutil/fakes/trace.h"

#include <netdb.h>
#include <sys/stat.h>

#include <cstring>
#include <type_traits>

#include "netutil/errno_name.h"

namespace netutil::fakes {
namespace {

// The errno (or EAI code, and EAI_SYSTEM's errno) of each kind of result.
int ErrOf(const GaiResult& r) { return r.gai_err; }
int ErrOf(mode_t) { return 0; }  // umask cannot fail
template <typename T>
int ErrOf(const SysResult<T>& r) {
  return r.err;
}
template <typename R>
int SysErrOf(const R&) {
  return 0;
}
int SysErrOf(const GaiResult& r) { return r.sys_err; }

// A parameter as the CallArgs builder takes it. Out-parameters are not
// printed ("accept4(3, ..., 0)"), so they go as null.
template <typename Param, typename Kept>
decltype(auto) AsParam(const Kept& kept) {
  if constexpr (std::is_pointer_v<Param>) {
    return static_cast<Param>(nullptr);
  } else {
    return (kept);
  }
}

template <Call C, typename Builder, size_t... I>
CallArgs Rebuild(const CallRecord<C>& r, Builder&& build, std::index_sequence<I...>) {
  using Params = typename CallTypes<C>::Args;
  return build(AsParam<std::tuple_element_t<I, Params>>(std::get<I>(r.args))...);
}

// The CallArgs of a record, from the builder of its call.
#define NETUTIL_SYS_CALL(Ret, name, Camel, params, args)        \
  CallArgs BuildArgs(const CallRecord<Call::k##Camel>& r) {     \
    using Params = CallTypes<Call::k##Camel>::Args;             \
    return Rebuild(                                             \
        r, [](const auto&... a) { return Camel##Args(a...); },  \
        std::make_index_sequence<std::tuple_size_v<Params>>()); \
  }
#include "netutil/sys_calls.def"

std::string AddrListText(const std::vector<AddrInfo>& addrs) {
  std::string s = "[";
  for (size_t i = 0; i < addrs.size(); ++i) {
    if (i != 0) s += ", ";
    s += addrs[i].addr.ToString();
  }
  return s + "]";
}

// A success as it prints, by the type of the result; accept4 and epoll_wait
// also print what they wrote to their out-parameters.
template <Call C>
std::string SuccessText(const CallRecord<C>& r) {
  using R = typename CallRecord<C>::Result;
  if constexpr (C == Call::kAccept4) {
    const SockAddr& peer = std::get<1>(r.args);
    std::string s = std::to_string(r.result.value);
    return peer.empty() ? s : s + " (peer " + peer.ToString() + ")";
  } else if constexpr (C == Call::kEpollWait) {
    const std::vector<EpollEvent>& ready = std::get<1>(r.args);
    std::string s = std::to_string(r.result.value);
    if (ready.empty()) return s;
    s += " [";
    for (size_t i = 0; i < ready.size(); ++i) {
      if (i != 0) s += ", ";
      s += "{" + std::to_string(ready[i].fd) + ", " + EpollEventsText(ready[i].events) + "}";
    }
    return s + "]";
  } else if constexpr (std::is_same_v<R, SysInt>) {
    return std::to_string(r.result.value);
  } else if constexpr (std::is_same_v<R, GaiResult>) {
    return AddrListText(r.result.addrs);
  } else if constexpr (std::is_same_v<R, mode_t>) {
    return ModeText(r.result);
  } else if constexpr (std::is_same_v<R, SysResult<SockAddr>>) {
    return r.result.value.ToString();
  } else if constexpr (std::is_same_v<R, SysResult<FileStat>>) {
    return FileStatText(r.result.value);
  } else {
    static_assert(std::is_same_v<R, SysResult<std::string>>, "a result type without a text");
    return "\"" + r.result.value + "\"";
  }
}

}  // namespace

int TraceEntry::err() const {
  return std::visit([](const auto& r) { return ErrOf(r.result); }, values);
}

int TraceEntry::sys_err() const {
  return std::visit([](const auto& r) { return SysErrOf(r.result); }, values);
}

CallArgs ArgsOf(const TraceEntry& e) {
  return std::visit([](const auto& r) { return BuildArgs(r); }, e.values);
}

std::string ResultText(const TraceEntry& e) {
  return std::visit([](const auto& r) { return SuccessText(r); }, e.values);
}

const char* FileTypeName(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFSOCK:
      return "S_IFSOCK";
    case S_IFREG:
      return "S_IFREG";
    case S_IFDIR:
      return "S_IFDIR";
    case S_IFLNK:
      return "S_IFLNK";
    default:
      return "S_IF?";
  }
}

std::string FileStatText(const FileStat& st) {
  return "{" + std::string(FileTypeName(st.mode)) + "|" + ModeText(st.mode & 07777) + "}";
}

std::string TraceEntry::ToString() const {
  std::string s = std::string(CallName(call())) + "(" + ArgsOf(*this).text + ") = ";
  const int e = err();
  if (e == 0) {
    s += ResultText(*this);
  } else if (call() == Call::kGetaddrinfo) {
    s += std::string(GaiErrorName(e)) + " (" + gai_strerror(e) + ")";
    if (sys_err() != 0) s += std::string(" ") + ErrnoName(sys_err());
  } else {
    s += std::string("-1 ") + ErrnoName(e) + " (" + std::strerror(e) + ")";
  }
  if (injected) s += "   // injected";
  return s;
}

std::string FormatTraceLine(const TraceEntry& entry) {
  std::string s = std::string(CallName(entry.call())) + "(" + ArgsOf(entry).text + ") = ";
  const int e = entry.err();
  if (e == 0) {
    s += ResultText(entry);
  } else if (entry.call() == Call::kGetaddrinfo) {
    s += GaiErrorName(e);
    if (entry.sys_err() != 0) s += std::string(" ") + ErrnoName(entry.sys_err());
  } else {
    s += std::string("-1 ") + ErrnoName(e);
  }
  return entry.injected ? s + " (injected)" : s;
}

void Trace::Add(TraceEntry entry) {
  ++counts_[static_cast<size_t>(entry.call())];
  if (entries_.size() >= limit_) {
    ++dropped_;
    return;
  }
  entries_.push_back(std::move(entry));
}

void Trace::Clear() {
  entries_.clear();
  dropped_ = 0;
  counts_.assign(kAllCalls.size(), 0);
}

size_t Trace::Count(Call call) const { return counts_[static_cast<size_t>(call)]; }

std::string Trace::ToString() const {
  std::string s;
  for (const auto& e : entries_) s += e.ToString() + "\n";
  if (dropped_ != 0) s += "... and " + std::to_string(dropped_) + " more calls\n";
  return s;
}

std::ostream& operator<<(std::ostream& os, const Trace& trace) { return os << trace.ToString(); }

}  // namespace netutil::fakes
