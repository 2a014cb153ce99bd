#include "netutil/netns/netns_setup.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "netutil/errno_name.h"

namespace netutil::netns {
namespace {

std::string ErrnoText(int err) {
  return std::string(ErrnoName(err)) + " (" + std::strerror(err) + ")";
}

// `what` failed with `err`: the sentence, and the errno for the caller.
std::string Failed(const std::string& what, int err, int* failed_errno) {
  if (failed_errno != nullptr) *failed_errno = err;
  return what + ": " + ErrnoText(err);
}

// A failure that is no call's (an unexpected reply, an unknown CPU).
std::string Failed(const std::string& what, int* failed_errno) {
  if (failed_errno != nullptr) *failed_errno = 0;
  return what;
}

}  // namespace

std::string WriteProcFile(const std::string& path, const std::string& value, int* failed_errno) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Failed("open " + path, errno, failed_errno);
  std::string err;
  ssize_t n = ::write(fd, value.data(), value.size());
  if (n < 0) {
    err = Failed("write '" + value + "' to " + path, errno, failed_errno);
  } else if (n != static_cast<ssize_t>(value.size())) {
    err = Failed("write '" + value + "' to " + path + ": short write", failed_errno);
  }
  ::close(fd);
  return err;
}

std::string BringLoopbackUp(int* failed_errno) {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Failed("socket(AF_INET, SOCK_DGRAM)", errno, failed_errno);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  std::string err;
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
    err = Failed("ioctl(lo, SIOCGIFFLAGS)", errno, failed_errno);
  } else {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
      err = Failed("ioctl(lo, SIOCSIFFLAGS)", errno, failed_errno);
    }
  }
  ::close(s);
  return err;
}

std::string RemoveLoopbackIpv6(int* failed_errno) {
  const unsigned lo = ::if_nametoindex("lo");
  if (lo == 0) return Failed("if_nametoindex(lo)", errno, failed_errno);
  int s = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0) return Failed("socket(AF_NETLINK)", errno, failed_errno);

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
    err = Failed("sendto(RTM_DELADDR)", errno, failed_errno);
  } else {
    alignas(nlmsghdr) char reply[1024];
    ssize_t n = ::recv(s, reply, sizeof reply, 0);
    const auto* nh = reinterpret_cast<const nlmsghdr*>(reply);
    if (n < 0) {
      err = Failed("recv(RTM_DELADDR ack)", errno, failed_errno);
    } else if (!NLMSG_OK(nh, static_cast<unsigned>(n)) || nh->nlmsg_type != NLMSG_ERROR) {
      err = Failed("RTM_DELADDR: unexpected reply", failed_errno);
    } else {
      const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(nh));
      if (e->error != 0) err = Failed("RTM_DELADDR ::1/128 dev lo", -e->error, failed_errno);
    }
  }
  ::close(s);
  return err;
}

std::string MountPrivateHosts(const std::string& content, int* failed_errno) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return Failed("mount(/, MS_REC|MS_PRIVATE)", errno, failed_errno);
  }
  const char* tmpdir = std::getenv("TMPDIR");
  std::string path = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/netutil-hosts-XXXXXX";
  int fd = ::mkstemp(path.data());
  if (fd < 0) return Failed("mkstemp(" + path + ")", errno, failed_errno);
  std::string err;
  const ssize_t n = ::write(fd, content.data(), content.size());
  if (n < 0) {
    err = Failed("write " + path, errno, failed_errno);
  } else if (n != static_cast<ssize_t>(content.size())) {
    err = Failed("write " + path + ": short write", failed_errno);
  } else if (::fchmod(fd, 0644) != 0) {
    err = Failed("fchmod " + path, errno, failed_errno);
  }
  ::close(fd);
  if (err.empty() && ::mount(path.c_str(), "/etc/hosts", nullptr, MS_BIND, nullptr) != 0) {
    err = Failed("mount --bind " + path + " /etc/hosts", errno, failed_errno);
  }
  ::unlink(path.c_str());  // the bind mount keeps the inode alive
  return err;
}

std::string InstallSeccomp(const std::vector<SeccompRule>& rules, int* failed_errno) {
#if defined(__x86_64__)
  constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  constexpr uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
  (void)rules;
  return Failed("no seccomp architecture constant for this CPU", failed_errno);
#endif
#if defined(__x86_64__) || defined(__aarch64__)
  std::vector<sock_filter> f;
  f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0));
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  for (const SeccompRule& r : rules) {
    const uint32_t ret = SECCOMP_RET_ERRNO | (static_cast<uint32_t>(r.err) & SECCOMP_RET_DATA);
    f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
    if (r.arg0) {
      f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(r.nr), 0, 3));
      // Little-endian: the low 32 bits of args[0] are at its offset.
      f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])));
      f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, *r.arg0, 0, 1));
      f.push_back(BPF_STMT(BPF_RET | BPF_K, ret));
    } else {
      f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(r.nr), 0, 1));
      f.push_back(BPF_STMT(BPF_RET | BPF_K, ret));
    }
  }
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  sock_fprog prog{static_cast<unsigned short>(f.size()), f.data()};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return Failed("prctl(PR_SET_NO_NEW_PRIVS)", errno, failed_errno);
  }
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
    return Failed("prctl(PR_SET_SECCOMP)", errno, failed_errno);
  }
  return {};
#endif
}

SeccompRule NoIpv6SocketsRule() { return {__NR_socket, AF_INET6, EAFNOSUPPORT}; }

}  // namespace netutil::netns
