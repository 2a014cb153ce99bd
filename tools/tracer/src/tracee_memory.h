// Reads a tracee's memory with process_vm_readv, bounded, never trusting its
// pointers: what cannot be read comes back short or empty, never a crash.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace netutil::tracer {

class TraceeMemory {
 public:
  explicit TraceeMemory(pid_t tid) : tid_(tid) {}

  // Up to `len` bytes at `addr`, stopping at the first unreadable page.
  std::string Bytes(uint64_t addr, size_t len) const;
  // A NUL-terminated string of at most `max` bytes (PATH_MAX for paths);
  // what was readable when the NUL is missing.
  std::string String(uint64_t addr, size_t max = 4096) const;

  template <typename T>
  std::optional<T> Read(uint64_t addr) const {
    const std::string b = Bytes(addr, sizeof(T));
    if (b.size() != sizeof(T)) return std::nullopt;
    T value;
    std::memcpy(&value, b.data(), sizeof(T));
    return value;
  }
  // Writes `len` bytes at `addr` (a value fault's out-parameter); false when
  // the tracee's memory is not writable there.
  bool Write(uint64_t addr, const void* data, size_t len) const;

 private:
  pid_t tid_;
};

}  // namespace netutil::tracer
