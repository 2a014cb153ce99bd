// An owned file descriptor that closes itself through the Sys it came from.
#pragma once

#include <utility>

#include "netutil/sys.h"

namespace netutil {

class Fd {
 public:
  Fd() = default;
  Fd(Sys& sys, int fd) : sys_(&sys), fd_(fd) {}
  ~Fd() { reset(); }

  Fd(Fd&& other) noexcept : sys_(other.sys_), fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      sys_ = other.sys_;
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  Sys* sys() const { return sys_; }

  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }

  // Closes now. close(2) is not retried on EINTR: on Linux the fd is gone
  // whatever close returns, and a retry could close an fd another thread just got.
  void reset() {
    if (fd_ >= 0 && sys_ != nullptr) {
      (void)sys_->close(fd_);
    }
    fd_ = -1;
  }

 private:
  Sys* sys_ = nullptr;
  int fd_ = -1;
};

}  // namespace netutil
