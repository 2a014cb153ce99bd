// A socket address as a value: IPv4, IPv6 (with scope id) or AF_UNIX (path or
// abstract name). Copyable, comparable and printable, so the seam, the fakes and
// test expectations can pass addresses around without raw sockaddr pointers.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace netutil {

class SockAddr {
 public:
  SockAddr() = default;

  // Copies `len` bytes of a kernel sockaddr (len is clamped to the storage size).
  static SockAddr FromRaw(const void* sa, socklen_t len);

  // Parses a numeric IPv4 ("127.0.0.1") or IPv6 ("::1", "fe80::1%3") literal;
  // nullopt when `ip` is neither.
  static std::optional<SockAddr> FromIp(std::string_view ip, uint16_t port, uint32_t scope_id = 0);

  // AF_UNIX. A leading '\0' makes an abstract name (Linux). nullopt when the
  // path does not fit sun_path.
  static std::optional<SockAddr> Unix(std::string_view path);

  int family() const { return len_ == 0 ? AF_UNSPEC : storage_.ss_family; }
  bool empty() const { return len_ == 0; }

  // Port for AF_INET/AF_INET6, 0 otherwise.
  uint16_t port() const;
  SockAddr WithPort(uint16_t port) const;
  uint32_t scope_id() const;  // AF_INET6 only; 0 otherwise

  // "0.0.0.0", "::", "fe80::1%3" or the unix path ("@name" for abstract names).
  std::string host() const;
  // "0.0.0.0:8888", "[::]:8888", "unix:/run/x.sock", "unix:@name".
  std::string ToString() const;

  // AF_UNIX only: the path bytes (abstract names keep their leading '\0').
  std::string unix_path() const;
  bool is_abstract_unix() const;

  const sockaddr* data() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* mutable_data() { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t len() const { return len_; }
  void set_len(socklen_t len);

  friend bool operator==(const SockAddr& a, const SockAddr& b);
  friend bool operator!=(const SockAddr& a, const SockAddr& b) { return !(a == b); }
  // Strict weak order (family, then bytes), for de-duplication.
  friend bool operator<(const SockAddr& a, const SockAddr& b);

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

std::ostream& operator<<(std::ostream& os, const SockAddr& a);

// The address families by name, from one table: the constant's name
// ("AF_INET", "AF_INET6", "AF_UNIX", "AF_UNSPEC"; "AF_?" for any other) for
// messages and trace lines, and the short name ("inet", "inet6", "unix",
// "unspec"; nullptr / nullopt for any other) of the adapter protocol, the
// fault plans and the trace fields.
const char* FamilyName(int family);
const char* FamilyShortName(int family);
std::optional<int> FamilyFromShortName(std::string_view short_name);

}  // namespace netutil
