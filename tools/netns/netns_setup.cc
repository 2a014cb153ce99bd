#include "netutil/netns/netns_setup.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "netutil/errno_name.h"

namespace netutil::netns {
namespace {

std::string ErrnoText(int err) {
  return std::string(ErrnoName(err)) + " (" + std::strerror(err) + ")";
}

}  // namespace

std::string WriteProcFile(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return "open " + path + ": " + ErrnoText(errno);
  std::string err;
  ssize_t n = ::write(fd, value.data(), value.size());
  if (n != static_cast<ssize_t>(value.size())) {
    err = "write '" + value + "' to " + path + ": " + (n < 0 ? ErrnoText(errno) : "short write");
  }
  ::close(fd);
  return err;
}

std::string BringLoopbackUp() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return "socket(AF_INET, SOCK_DGRAM): " + ErrnoText(errno);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  std::string err;
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
    err = "ioctl(lo, SIOCGIFFLAGS): " + ErrnoText(errno);
  } else {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) err = "ioctl(lo, SIOCSIFFLAGS): " + ErrnoText(errno);
  }
  ::close(s);
  return err;
}

std::string RemoveLoopbackIpv6() {
  const unsigned lo = ::if_nametoindex("lo");
  if (lo == 0) return "if_nametoindex(lo): " + ErrnoText(errno);
  int s = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0) return "socket(AF_NETLINK): " + ErrnoText(errno);

  struct {
    nlmsghdr nh;
    ifaddrmsg ifa;
    char attrs[64];
  } req{};
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
  req.nh.nlmsg_type = RTM_DELADDR;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.nh.nlmsg_seq = 1;
  req.ifa.ifa_family = AF_INET6;
  req.ifa.ifa_prefixlen = 128;
  req.ifa.ifa_index = lo;
  for (unsigned short type : {IFA_LOCAL, IFA_ADDRESS}) {
    auto* rta =
        reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.nh.nlmsg_len));
    rta->rta_type = type;
    rta->rta_len = RTA_LENGTH(sizeof(in6_addr));
    std::memcpy(RTA_DATA(rta), &in6addr_loopback, sizeof(in6_addr));
    req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
  }

  std::string err;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(s, &req, req.nh.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) <
      0) {
    err = "sendto(RTM_DELADDR): " + ErrnoText(errno);
  } else {
    alignas(nlmsghdr) char reply[1024];
    ssize_t n = ::recv(s, reply, sizeof reply, 0);
    const auto* nh = reinterpret_cast<const nlmsghdr*>(reply);
    if (n < 0) {
      err = "recv(RTM_DELADDR ack): " + ErrnoText(errno);
    } else if (!NLMSG_OK(nh, static_cast<unsigned>(n)) || nh->nlmsg_type != NLMSG_ERROR) {
      err = "RTM_DELADDR: unexpected reply";
    } else {
      const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(nh));
      if (e->error != 0) err = "RTM_DELADDR ::1/128 dev lo: " + ErrnoText(-e->error);
    }
  }
  ::close(s);
  return err;
}

}  // namespace netutil::netns
