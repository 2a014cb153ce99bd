#include "tracee_memory.h"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>

namespace netutil::tracer {
namespace {

constexpr uint64_t kPage = 4096;

// Copies one piece that does not cross a page, so an unmapped page ends the
// read there instead of failing all of it.
bool ReadPiece(pid_t tid, uint64_t addr, char* out, size_t len) {
  iovec local{out, len};
  iovec remote{reinterpret_cast<void*>(addr), len};
  return ::process_vm_readv(tid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(len);
}

}  // namespace

std::string TraceeMemory::Bytes(uint64_t addr, size_t len) const {
  std::string out;
  if (addr == 0) return out;
  while (out.size() < len) {
    const uint64_t at = addr + out.size();
    const size_t piece = std::min<uint64_t>(len - out.size(), kPage - at % kPage);
    const size_t old = out.size();
    out.resize(old + piece);
    if (!ReadPiece(tid_, at, out.data() + old, piece)) {
      out.resize(old);
      break;
    }
  }
  return out;
}

bool TraceeMemory::Write(uint64_t addr, const void* data, size_t len) const {
  if (addr == 0) return false;
  iovec local{const_cast<void*>(data), len};
  iovec remote{reinterpret_cast<void*>(addr), len};
  return ::process_vm_writev(tid_, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(len);
}

std::string TraceeMemory::String(uint64_t addr, size_t max) const {
  std::string out;
  if (addr == 0) return out;
  while (out.size() < max) {
    const uint64_t at = addr + out.size();
    const size_t piece = std::min<uint64_t>(max - out.size(), kPage - at % kPage);
    const std::string chunk = Bytes(at, piece);
    const size_t nul = chunk.find('\0');
    out.append(chunk, 0, nul);
    if (nul != std::string::npos || chunk.size() < piece) break;
  }
  return out;
}

}  // namespace netutil::tracer
