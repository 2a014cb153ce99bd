// What a fidelity scenario runs against: a Sys, a directory for unix paths,
// ways to make files the seam cannot make, and the spelling that makes two
// runs comparable (ephemeral ports as E1, E2, ... by first appearance; the
// directory as $DIR). FakeEnv is the FakeKernel configured from an EnvSpec;
// RealEnv is PosixSys inside the namespace RunInFreshNetns built from it.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>

#include "netns_child.h"
#include "netutil/fakes/fake_kernel.h"
#include "netutil/posix_sys.h"
#include "netutil/sys.h"

namespace netutil::fidelity {

class Env {
 public:
  explicit Env(const EnvSpec& spec) : spec_(spec) {}
  virtual ~Env() = default;

  virtual Sys& sys() = 0;
  // A directory that exists and is empty.
  virtual std::string dir() const = 0;
  virtual void MakeFile(const std::string& path, mode_t mode) = 0;
  virtual void MakeSymlink(const std::string& path, const std::string& target) = 0;

  // "E1" for the first ephemeral port seen, "E2" for the next, ...; a port
  // outside the range as its number.
  std::string Port(uint16_t port);
  // An address with its port spelled by Port(), and the directory as $DIR.
  std::string Addr(const SockAddr& a);
  std::string Path(const std::string& path) const;
  const EnvSpec& spec() const { return spec_; }

 private:
  EnvSpec spec_;
  std::map<uint16_t, int> names_;
};

class FakeEnv final : public Env {
 public:
  explicit FakeEnv(const EnvSpec& spec);
  Sys& sys() override { return kernel_; }
  std::string dir() const override { return "/tmp/fidelity"; }
  void MakeFile(const std::string& path, mode_t mode) override;
  void MakeSymlink(const std::string& path, const std::string& target) override;
  fakes::FakeKernel& kernel() { return kernel_; }

  // The kernel config that matches what RunInFreshNetns builds from `spec`.
  static fakes::KernelConfig ConfigFor(const EnvSpec& spec);

 private:
  fakes::FakeKernel kernel_;
};

class RealEnv final : public Env {
 public:
  explicit RealEnv(const EnvSpec& spec);  // makes a fresh directory under /tmp
  ~RealEnv() override;                    // and removes it
  Sys& sys() override { return sys_; }
  std::string dir() const override { return dir_; }
  void MakeFile(const std::string& path, mode_t mode) override;
  void MakeSymlink(const std::string& path, const std::string& target) override;

 private:
  PosixSys sys_;
  std::string dir_;
};

}  // namespace netutil::fidelity
