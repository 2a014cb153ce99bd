#include "netutil/sock_addr.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

namespace netutil {

SockAddr SockAddr::FromRaw(const void* sa, socklen_t len) {
  SockAddr a;
  a.set_len(len);
  std::memcpy(&a.storage_, sa, a.len_);
  return a;
}

std::optional<SockAddr> SockAddr::FromIp(std::string_view ip, uint16_t port, uint32_t scope_id) {
  std::string text(ip);
  if (text.find('\0') != std::string::npos) return std::nullopt;
  // "fe80::1%3" carries its scope id in the literal.
  if (auto pct = text.find('%'); pct != std::string::npos) {
    std::string scope = text.substr(pct + 1);
    text.resize(pct);
    if (scope.empty() || scope.size() > 10 ||
        !std::all_of(scope.begin(), scope.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    scope_id = static_cast<uint32_t>(std::stoul(scope));
    if (text.find(':') == std::string::npos) return std::nullopt;
  }
  sockaddr_in v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    return FromRaw(&v4, sizeof v4);
  }
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    v6.sin6_scope_id = scope_id;
    return FromRaw(&v6, sizeof v6);
  }
  return std::nullopt;
}

std::optional<SockAddr> SockAddr::Unix(std::string_view path) {
  sockaddr_un un{};
  if (path.size() > sizeof un.sun_path) return std::nullopt;
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, path.data(), path.size());
  // A pathname address fits with or without its terminating NUL; the length
  // covers the bytes given (plus the NUL when there is room, as the kernel does).
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  bool abstract = !path.empty() && path[0] == '\0';
  if (!abstract && path.size() < sizeof un.sun_path) len += 1;
  return FromRaw(&un, len);
}

void SockAddr::set_len(socklen_t len) { len_ = std::min<socklen_t>(len, sizeof storage_); }

uint16_t SockAddr::port() const {
  switch (family()) {
    case AF_INET:
      return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    case AF_INET6:
      return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    default:
      return 0;
  }
}

SockAddr SockAddr::WithPort(uint16_t port) const {
  SockAddr a = *this;
  switch (family()) {
    case AF_INET:
      reinterpret_cast<sockaddr_in*>(&a.storage_)->sin_port = htons(port);
      break;
    case AF_INET6:
      reinterpret_cast<sockaddr_in6*>(&a.storage_)->sin6_port = htons(port);
      break;
    default:
      break;
  }
  return a;
}

uint32_t SockAddr::scope_id() const {
  if (family() != AF_INET6) return 0;
  return reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_scope_id;
}

std::string SockAddr::unix_path() const {
  if (family() != AF_UNIX) return {};
  const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
  size_t n = len_ > offsetof(sockaddr_un, sun_path) ? len_ - offsetof(sockaddr_un, sun_path) : 0;
  std::string path(un->sun_path, n);
  if (!path.empty() && path[0] != '\0') {
    // Pathname: stop at the first NUL (the kernel may count the terminator).
    path.resize(std::strlen(path.c_str()));
  }
  return path;
}

bool SockAddr::is_abstract_unix() const {
  // In place: an abstract name is a non-empty path starting with '\0'.
  if (family() != AF_UNIX || len_ <= offsetof(sockaddr_un, sun_path)) return false;
  return reinterpret_cast<const sockaddr_un*>(&storage_)->sun_path[0] == '\0';
}

std::string SockAddr::host() const {
  char buf[INET6_ADDRSTRLEN] = {};
  switch (family()) {
    case AF_INET:
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf,
                sizeof buf);
      return buf;
    case AF_INET6: {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
      inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
      std::string s = buf;
      if (v6->sin6_scope_id != 0) s += "%" + std::to_string(v6->sin6_scope_id);
      return s;
    }
    case AF_UNIX: {
      std::string p = unix_path();
      if (!p.empty() && p[0] == '\0') return "@" + p.substr(1);
      return p;
    }
    default:
      return "";
  }
}

std::string SockAddr::ToString() const {
  // Built in one buffer (error texts, traces and test output print many).
  const auto joined = [](std::string_view open, const std::string& host, std::string_view close,
                         const std::string& tail) {
    std::string out;
    out.reserve(open.size() + host.size() + close.size() + tail.size());
    out.append(open).append(host).append(close).append(tail);
    return out;
  };
  switch (family()) {
    case AF_INET:
      return joined("", host(), ":", std::to_string(port()));
    case AF_INET6:
      return joined("[", host(), "]:", std::to_string(port()));
    case AF_UNIX:
      return joined("unix:", host(), "", {});
    case AF_UNSPEC:
      return "<none>";
    default:
      return "<family " + std::to_string(family()) + ">";
  }
}

bool operator==(const SockAddr& a, const SockAddr& b) {
  return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

bool operator<(const SockAddr& a, const SockAddr& b) {
  if (a.family() != b.family()) return a.family() < b.family();
  if (a.len_ != b.len_) return a.len_ < b.len_;
  return std::memcmp(&a.storage_, &b.storage_, a.len_) < 0;
}

std::ostream& operator<<(std::ostream& os, const SockAddr& a) { return os << a.ToString(); }

namespace {

struct FamilyNames {
  int family;
  const char* name;
  const char* short_name;
};

constexpr FamilyNames kFamilies[] = {
    {AF_UNSPEC, "AF_UNSPEC", "unspec"},
    {AF_INET, "AF_INET", "inet"},
    {AF_INET6, "AF_INET6", "inet6"},
    {AF_UNIX, "AF_UNIX", "unix"},
};

const FamilyNames* FindFamily(int family) {
  for (const FamilyNames& f : kFamilies) {
    if (f.family == family) return &f;
  }
  return nullptr;
}

}  // namespace

const char* FamilyName(int family) {
  const FamilyNames* f = FindFamily(family);
  return f != nullptr ? f->name : "AF_?";
}

const char* FamilyShortName(int family) {
  const FamilyNames* f = FindFamily(family);
  return f != nullptr ? f->short_name : nullptr;
}

std::optional<int> FamilyFromShortName(std::string_view short_name) {
  for (const FamilyNames& f : kFamilies) {
    if (short_name == f.short_name) return f.family;
  }
  return std::nullopt;
}

}  // namespace netutil
