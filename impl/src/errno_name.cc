#include "netutil/errno_name.h"

#include <netdb.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace netutil {
namespace {

struct Named {
  int code;
  const char* name;
};

// The errnos the socket, file and epoll calls of the seam can return, plus the
// usual suspects. EWOULDBLOCK equals EAGAIN on Linux, so EAGAIN is listed first
// and wins when printing.
// Two to a row, aligned by hand.
// clang-format off
constexpr Named kErrnos[] = {
    {EPERM, "EPERM"},           {ENOENT, "ENOENT"},
    {ESRCH, "ESRCH"},           {EINTR, "EINTR"},
    {EIO, "EIO"},               {ENXIO, "ENXIO"},
    {E2BIG, "E2BIG"},           {EBADF, "EBADF"},
    {ECHILD, "ECHILD"},         {EAGAIN, "EAGAIN"},
    {ENOMEM, "ENOMEM"},         {EACCES, "EACCES"},
    {EFAULT, "EFAULT"},         {EBUSY, "EBUSY"},
    {EEXIST, "EEXIST"},         {EXDEV, "EXDEV"},
    {ENOTEMPTY, "ENOTEMPTY"},   {EDQUOT, "EDQUOT"},  // renameat2, unlinkat, mkdirat (UNIX-019)
    {ENODEV, "ENODEV"},         {ENOTDIR, "ENOTDIR"},
    {EISDIR, "EISDIR"},         {EINVAL, "EINVAL"},
    {ENFILE, "ENFILE"},         {EMFILE, "EMFILE"},
    {ENOTTY, "ENOTTY"},         {EFBIG, "EFBIG"},
    {ENOSPC, "ENOSPC"},         {ESPIPE, "ESPIPE"},
    {EROFS, "EROFS"},           {EMLINK, "EMLINK"},
    {EPIPE, "EPIPE"},           {ERANGE, "ERANGE"},
    {ENAMETOOLONG, "ENAMETOOLONG"}, {ENOSYS, "ENOSYS"},
    {ELOOP, "ELOOP"},           {ENONET, "ENONET"},
    {EPROTO, "EPROTO"},         {EOVERFLOW, "EOVERFLOW"},
    {ENOTSOCK, "ENOTSOCK"},     {EDESTADDRREQ, "EDESTADDRREQ"},
    {EMSGSIZE, "EMSGSIZE"},     {EPROTOTYPE, "EPROTOTYPE"},
    {ENOPROTOOPT, "ENOPROTOOPT"}, {EPROTONOSUPPORT, "EPROTONOSUPPORT"},
    {ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT"}, {EOPNOTSUPP, "EOPNOTSUPP"},
    {EPFNOSUPPORT, "EPFNOSUPPORT"}, {EAFNOSUPPORT, "EAFNOSUPPORT"},
    {EADDRINUSE, "EADDRINUSE"}, {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
    {ENETDOWN, "ENETDOWN"},     {ENETUNREACH, "ENETUNREACH"},
    {ENETRESET, "ENETRESET"},   {ECONNABORTED, "ECONNABORTED"},
    {ECONNRESET, "ECONNRESET"}, {ENOBUFS, "ENOBUFS"},
    {EISCONN, "EISCONN"},       {ENOTCONN, "ENOTCONN"},
    {ESHUTDOWN, "ESHUTDOWN"},   {ETIMEDOUT, "ETIMEDOUT"},
    {ECONNREFUSED, "ECONNREFUSED"}, {EHOSTDOWN, "EHOSTDOWN"},
    {EHOSTUNREACH, "EHOSTUNREACH"}, {EALREADY, "EALREADY"},
    {EINPROGRESS, "EINPROGRESS"}, {ECANCELED, "ECANCELED"},
};
// clang-format on

constexpr Named kGaiErrors[] = {
    {EAI_AGAIN, "EAI_AGAIN"},           {EAI_BADFLAGS, "EAI_BADFLAGS"}, {EAI_FAIL, "EAI_FAIL"},
    {EAI_FAMILY, "EAI_FAMILY"},         {EAI_MEMORY, "EAI_MEMORY"},     {EAI_NONAME, "EAI_NONAME"},
    {EAI_SERVICE, "EAI_SERVICE"},       {EAI_SOCKTYPE, "EAI_SOCKTYPE"}, {EAI_SYSTEM, "EAI_SYSTEM"},
    {EAI_OVERFLOW, "EAI_OVERFLOW"},
#ifdef EAI_NODATA
    {EAI_NODATA, "EAI_NODATA"},
#endif
#ifdef EAI_ADDRFAMILY
    {EAI_ADDRFAMILY, "EAI_ADDRFAMILY"},
#endif
};

// Names of codes outside the tables ("E4000"), made once per code and kept for
// the process's life, so every returned pointer stays valid and distinct codes
// never share a buffer. Node-based map: inserting never moves existing names.
const char* Unknown(const char* prefix, int code) {
  static std::mutex mu;
  static std::map<std::pair<std::string, int>, std::string> names;
  std::lock_guard<std::mutex> lock(mu);
  auto [it, inserted] = names.try_emplace({prefix, code});
  if (inserted) it->second = std::string(prefix) + std::to_string(code);
  return it->second.c_str();
}

}  // namespace

const char* ErrnoName(int err) {
  for (const auto& n : kErrnos) {
    if (n.code == err) return n.name;
  }
  return Unknown("E", err);
}

std::optional<int> ErrnoFromName(std::string_view name) {
  if (name == "EWOULDBLOCK") return EWOULDBLOCK;
  for (const auto& n : kErrnos) {
    if (name == n.name) return n.code;
  }
  return std::nullopt;
}

const char* GaiErrorName(int gai_err) {
  for (const auto& n : kGaiErrors) {
    if (n.code == gai_err) return n.name;
  }
  return Unknown("EAI_", gai_err);
}

std::optional<int> GaiErrorFromName(std::string_view name) {
  for (const auto& n : kGaiErrors) {
    if (name == n.name) return n.code;
  }
  return std::nullopt;
}

}  // namespace netutil
