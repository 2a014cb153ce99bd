#include "fidelity_env.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace netutil::fidelity {

std::string Env::Port(uint16_t port) {
  if (port < spec_.port_low || port > spec_.port_high) return std::to_string(port);
  auto [it, fresh] = names_.emplace(port, static_cast<int>(names_.size()) + 1);
  return "E" + std::to_string(it->second);
}

std::string Env::Addr(const SockAddr& a) {
  if (a.family() == AF_INET) return a.host() + ":" + Port(a.port());
  if (a.family() == AF_INET6) return "[" + a.host() + "]:" + Port(a.port());
  if (a.family() == AF_UNIX) return "unix:" + Path(a.host());
  return a.ToString();
}

std::string Env::Path(const std::string& path) const {
  const std::string d = dir();
  if (path.rfind(d, 0) == 0) return "$DIR" + path.substr(d.size());
  return path;
}

fakes::KernelConfig FakeEnv::ConfigFor(const EnvSpec& spec) {
  fakes::KernelConfig c = fakes::KernelConfig::For(Platform::Os::kLinux);
  c.port_low = spec.port_low;
  c.port_high = spec.port_high;
  if (spec.no_loopback_v6) c.ipv6_addrs.clear();
  if (spec.no_ipv6_sockets) c.ipv6_supported = false;
  c.resolver = fakes::ResolverTable();
  // The hosts file, as glibc reads it: each name's addresses in file order.
  if (spec.hosts) {
    std::map<std::string, std::vector<SockAddr>> names;
    std::istringstream in(*spec.hosts);
    for (std::string line; std::getline(in, line);) {
      std::istringstream words(line.substr(0, line.find('#')));
      std::string addr, name;
      if (!(words >> addr)) continue;
      auto a = SockAddr::FromIp(addr, 0);
      if (!a) continue;
      while (words >> name) names[name].push_back(*a);
    }
    for (auto& [name, addrs] : names) c.resolver.Set(name, addrs);
  }
  c.umask = 022;  // RunInFreshNetns sets the same
  return c;
}

FakeEnv::FakeEnv(const EnvSpec& spec) : Env(spec), kernel_(ConfigFor(spec)) {
  kernel_.fs().MakeDirs(dir());
}

void FakeEnv::MakeFile(const std::string& path, mode_t mode) { kernel_.fs().MakeFile(path, mode); }

void FakeEnv::MakeSymlink(const std::string& path, const std::string& target) {
  kernel_.fs().MakeSymlink(path, target);
}

RealEnv::RealEnv(const EnvSpec& spec) : Env(spec) {
  char tmpl[] = "/tmp/netutil-fidelity-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
}

RealEnv::~RealEnv() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void RealEnv::MakeFile(const std::string& path, mode_t mode) {
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot create " + path);
  ::fchmod(fd, mode);
  ::close(fd);
}

void RealEnv::MakeSymlink(const std::string& path, const std::string& target) {
  if (::symlink(target.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot symlink " + path);
  }
}

}  // namespace netutil::fidelity
