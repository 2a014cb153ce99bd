#include "netfault_control.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "netutil/errno_name.h"
#include "netutil/fakes/syscall_table.h"
#include "netutil/fakes/trace.h"
#include "netutil/fakes/trace_fields.h"
#include "netutil/sock_addr.h"

namespace netutil::netfault {

// The part of the header written once, by Create, before the traced process
// starts; read by either side once (as a whole, into private memory).
struct PlainHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;
  uint64_t file_bytes;
  uint64_t config_offset;
  uint64_t config_bytes;
  uint64_t trace_offset;
  uint64_t trace_bytes;
  uint64_t fds_offset;
  uint64_t max_fds;
};

// Only the atomics change after Create.
struct ControlFile::Header {
  PlainHeader plain;
  std::atomic<uint64_t> generation;
  std::atomic<uint64_t> trace_used;  // bytes reserved; may run past trace_bytes
  std::atomic<int32_t> owner_pid;
  uint32_t reserved;
  std::atomic<uint64_t> dropped[kMaxCalls];
};

namespace {

constexpr uint32_t kFlagIpv6Missing = 1;
constexpr uint32_t kFlagTrace = 2;
constexpr uint32_t kFlagWaitForStdin = 4;

// What Attach maps at most: the largest region a runner makes (a 2 GiB trace
// for the benchmark) with room to spare, so a garbled size maps nothing absurd.
constexpr uint64_t kMaxFileBytes = uint64_t{8} << 30;

struct ConfigHead {
  uint32_t flags;
  uint32_t plan_bytes;
  uint32_t resolver_bytes;
  uint32_t reserved;
};

struct RecordHead {
  std::atomic<uint32_t> length;  // of the line; 0 until published
  uint16_t call;
  uint16_t reserved;
};
static_assert(sizeof(RecordHead) == 8);

constexpr uint64_t RoundUp(uint64_t n, uint64_t to) { return (n + to - 1) / to * to; }
constexpr uint64_t RecordBytes(uint64_t line) { return sizeof(RecordHead) + RoundUp(line, 8); }

std::string Errno(const char* what) { return std::string(what) + ": " + ErrnoName(errno); }

bool Fail(std::string* error, std::string why) {
  if (error != nullptr) *error = std::move(why);
  return false;
}

// The decimal text of a size, offset or count (of the unsigned header fields).
std::string Decimal(uint64_t n) { return std::to_string(n); }

// A trace line as text any JSON writer takes: valid UTF-8 kept, any other
// byte as \xNN (a unix socket's path may hold anything; a scribbled record
// must not make the report unwritable).
std::string Utf8Safe(const char* p, size_t n) {
  std::string out;
  out.reserve(n);
  size_t i = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(p[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len != 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(p[i + k]) >> 6) == 2;
    if (ok && len > 1) {
      // No overlong forms, surrogates or code points past U+10FFFF.
      uint32_t cp = c & (0x7f >> len);
      for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(p[i + k]) & 63);
      static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[len] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
    }
    if (ok) {
      out.append(p + i, len);
      i += len;
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      ++i;
    }
  }
  return out;
}

}  // namespace

ControlFile::ControlFile(std::string path, void* base, const Layout& layout, int fd)
    : path_(std::move(path)), base_(base), layout_(layout), fd_(fd) {}

ControlFile::~ControlFile() {
  if (base_ != nullptr) ::munmap(base_, layout_.file_bytes);
  if (fd_ >= 0) ::close(fd_);
}

ControlFile::Header* ControlFile::header() const { return static_cast<Header*>(base_); }
char* ControlFile::at(uint64_t offset) const { return static_cast<char*>(base_) + offset; }

// --- creating (the runner) ---

std::unique_ptr<ControlFile> ControlFile::CreateOn(int fd, std::string name, const Config& config,
                                                   const Sizes& sizes, std::string* error) {
  static_assert(sizeof(Header) <= kHeaderBytes);
  Layout l;
  l.config_bytes = RoundUp(std::max<size_t>(sizes.config_bytes, 4096), 4096);
  l.trace_bytes = RoundUp(std::max<size_t>(sizes.trace_bytes, 4096), 4096);
  l.max_fds = RoundUp(std::max<size_t>(sizes.max_fds, 4096), 4096);
  l.config_offset = kHeaderBytes;
  l.trace_offset = l.config_offset + l.config_bytes;
  l.fds_offset = l.trace_offset + l.trace_bytes;
  l.file_bytes = l.fds_offset + l.max_fds;
  // The region stays sparse: only the pages written ever take memory or disk.
  if (::ftruncate(fd, static_cast<off_t>(l.file_bytes)) != 0) {
    Fail(error, Errno("ftruncate"));
    return nullptr;
  }
  void* base = ::mmap(nullptr, l.file_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    Fail(error, Errno("mmap"));
    return nullptr;
  }
  auto* h = new (base) Header{};
  h->plain.version = kVersion;
  h->plain.header_bytes = kHeaderBytes;
  h->plain.file_bytes = l.file_bytes;
  h->plain.config_offset = l.config_offset;
  h->plain.config_bytes = l.config_bytes;
  h->plain.trace_offset = l.trace_offset;
  h->plain.trace_bytes = l.trace_bytes;
  h->plain.fds_offset = l.fds_offset;
  h->plain.max_fds = l.max_fds;
  std::unique_ptr<ControlFile> file(new ControlFile(std::move(name), base, l, -1));
  if (!file->WriteConfig(config, error)) return nullptr;
  // The magic last: a reader that sees it sees a complete header.
  std::atomic_thread_fence(std::memory_order_release);
  std::memcpy(h->plain.magic, kMagic, sizeof kMagic);
  return file;
}

std::unique_ptr<ControlFile> ControlFile::CreateSealed(const Config& config, const Sizes& sizes,
                                                       std::string* error) {
  const int fd = ::memfd_create("netfault", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    Fail(error, Errno("memfd_create"));
    return nullptr;
  }
  std::unique_ptr<ControlFile> file = CreateOn(fd, "memfd:netfault", config, sizes, error);
  // Sealed once its size is set: from here no one can shrink it (so no
  // mapping of it can SIGBUS), grow it, or lift the seals.
  if (file && ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    Fail(error, Errno("fcntl(F_ADD_SEALS)"));
    file.reset();
  }
  if (!file) {
    ::close(fd);
    return nullptr;
  }
  file->fd_ = fd;
  return file;
}

std::unique_ptr<ControlFile> ControlFile::Create(const std::string& path, const Config& config,
                                                 const Sizes& sizes, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    Fail(error, Errno(("open " + path).c_str()));
    return nullptr;
  }
  std::unique_ptr<ControlFile> file = CreateOn(fd, path, config, sizes, error);
  ::close(fd);  // the mapping keeps the file
  return file;
}

// --- attaching (the traced process) ---

std::unique_ptr<ControlFile> ControlFile::AttachTo(int fd, std::string name, std::string* error) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Fail(error, Errno("fstat"));
    return nullptr;
  }
  if (!S_ISREG(st.st_mode)) {
    Fail(error, "not a regular file or memfd");
    return nullptr;
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < kHeaderBytes || size > kMaxFileBytes) {
    Fail(error, "the file is " + Decimal(size) + " bytes, not between a header (" +
                    Decimal(kHeaderBytes) + ") and " + Decimal(kMaxFileBytes));
    return nullptr;
  }
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    Fail(error, Errno("mmap"));
    return nullptr;
  }
  // One private copy of the header, validated; the region's is never read again.
  PlainHeader h;
  std::memcpy(&h, base, sizeof h);
  auto area_ok = [&](uint64_t offset, uint64_t bytes) {
    return offset >= kHeaderBytes && offset % 8 == 0 && bytes % 8 == 0 && offset <= size &&
           bytes <= size - offset;
  };
  std::string why;
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) {
    why = "bad magic (not a netfault control file)";
  } else if (h.version != kVersion) {
    why = "version " + Decimal(h.version) + ", this library reads " + Decimal(kVersion);
  } else if (h.header_bytes != kHeaderBytes || h.file_bytes != size) {
    why = "the header's sizes do not match the file (" + Decimal(h.file_bytes) + " bytes said, " +
          Decimal(size) + " found)";
  } else if (!area_ok(h.config_offset, h.config_bytes) || h.config_bytes < sizeof(ConfigHead) ||
             !area_ok(h.trace_offset, h.trace_bytes) || !area_ok(h.fds_offset, h.max_fds)) {
    why = "an area lies outside the file";
  }
  if (!why.empty()) {
    ::munmap(base, size);
    Fail(error, why);
    return nullptr;
  }
  Layout l;
  l.file_bytes = size;
  l.config_offset = h.config_offset;
  l.config_bytes = h.config_bytes;
  l.trace_offset = h.trace_offset;
  l.trace_bytes = h.trace_bytes;
  l.fds_offset = h.fds_offset;
  l.max_fds = h.max_fds;
  return std::unique_ptr<ControlFile>(new ControlFile(std::move(name), base, l, -1));
}

std::unique_ptr<ControlFile> ControlFile::Attach(const std::string& path, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    Fail(error, Errno("open"));
    return nullptr;
  }
  std::unique_ptr<ControlFile> file = AttachTo(fd, path, error);
  ::close(fd);
  return file;
}

std::unique_ptr<ControlFile> ControlFile::AttachFd(int fd, std::string* error) {
  return AttachTo(fd, "fd " + std::to_string(fd), error);
}

// --- config ---

bool ControlFile::WriteConfig(const Config& config, std::string* error) {
  Header* h = header();
  const uint64_t need = sizeof(ConfigHead) + config.plan.size() + config.resolver.size();
  if (need > layout_.config_bytes) {
    return Fail(error, "the config (" + Decimal(need) + " bytes) does not fit the area (" +
                           Decimal(layout_.config_bytes) + ")");
  }
  // Our own count, not the region's: the traced process may have written
  // anything there, and Check() compares the two.
  const uint64_t g = written_generation_;
  h->generation.store(g + 1, std::memory_order_relaxed);  // odd: being written
  std::atomic_thread_fence(std::memory_order_release);
  ConfigHead head{};
  head.flags = (config.ipv6_missing ? kFlagIpv6Missing : 0) | (config.trace ? kFlagTrace : 0) |
               (config.wait_for_stdin ? kFlagWaitForStdin : 0);
  head.plan_bytes = static_cast<uint32_t>(config.plan.size());
  head.resolver_bytes = static_cast<uint32_t>(config.resolver.size());
  char* area = at(layout_.config_offset);
  std::memcpy(area, &head, sizeof head);
  std::memcpy(area + sizeof head, config.plan.data(), config.plan.size());
  std::memcpy(area + sizeof head + config.plan.size(), config.resolver.data(),
              config.resolver.size());
  written_generation_ = g + 2;
  h->generation.store(written_generation_, std::memory_order_release);
  return true;
}

uint64_t ControlFile::generation() const {
  return header()->generation.load(std::memory_order_acquire);
}

std::optional<Config> ControlFile::ReadConfig(uint64_t* generation, std::string* error) const {
  const Header* h = header();
  // Writes happen between requests, never while the traced process is busy,
  // so a few retries are plenty; an odd generation that stays odd is a
  // writer that died mid-write.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const uint64_t g1 = h->generation.load(std::memory_order_acquire);
    if (g1 & 1) {
      ::sched_yield();
      continue;
    }
    ConfigHead head{};
    const char* area = at(layout_.config_offset);
    std::memcpy(&head, area, sizeof head);  // once: the lengths checked are the lengths used
    Config c;
    const uint64_t body = layout_.config_bytes - sizeof head;
    const bool fits = head.plan_bytes <= body && head.resolver_bytes <= body - head.plan_bytes;
    if (fits) {
      c.plan.assign(area + sizeof head, head.plan_bytes);
      c.resolver.assign(area + sizeof head + head.plan_bytes, head.resolver_bytes);
      c.ipv6_missing = (head.flags & kFlagIpv6Missing) != 0;
      c.trace = (head.flags & kFlagTrace) != 0;
      c.wait_for_stdin = (head.flags & kFlagWaitForStdin) != 0;
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (h->generation.load(std::memory_order_relaxed) != g1) continue;
    if (!fits) {
      Fail(error, "the config's lengths run past its area");
      return std::nullopt;
    }
    if (generation != nullptr) *generation = g1;
    return c;
  }
  Fail(error, "the config is being written and never finished");
  return std::nullopt;
}

// --- trace ---

bool ControlFile::TraceFull() const {
  return header()->trace_used.load(std::memory_order_relaxed) >= layout_.trace_bytes;
}

std::string TraceRecordText(const fakes::TraceEntry& entry) {
  // Paths may hold any bytes: invalid UTF-8 becomes U+FFFD instead of an
  // exception in the traced process.
  return fakes::FormatTraceLine(entry) + "\n" +
         fakes::TraceFields(entry).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool ControlFile::Append(uint16_t call, std::string_view line) {
  Header* h = header();
  const uint64_t need = RecordBytes(line.size());
  const uint64_t used = h->trace_used.load(std::memory_order_relaxed);
  bool fits = !line.empty() && line.size() < (1u << 31) && used <= layout_.trace_bytes &&
              need <= layout_.trace_bytes - used;
  uint64_t off = 0;
  if (fits) {
    off = h->trace_used.fetch_add(need, std::memory_order_relaxed);
    fits = off <= layout_.trace_bytes && need <= layout_.trace_bytes - off;
  }
  if (!fits) {
    if (call < kMaxCalls) h->dropped[call].fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  char* rec = at(layout_.trace_offset + off);
  std::memcpy(rec + sizeof(RecordHead), line.data(), line.size());
  auto* head = reinterpret_cast<RecordHead*>(rec);
  head->call = call;
  head->length.store(static_cast<uint32_t>(line.size()), std::memory_order_release);
  return true;
}

TraceMark ControlFile::Mark() const {
  const Header* h = header();
  TraceMark m;
  // Rounded down to a record boundary: ReadSince finds a garbled offset.
  m.offset = std::min(h->trace_used.load(std::memory_order_acquire), layout_.trace_bytes) & ~7ull;
  for (size_t i = 0; i < kMaxCalls; ++i)
    m.dropped[i] = h->dropped[i].load(std::memory_order_relaxed);
  return m;
}

TraceSince ControlFile::ReadSince(const TraceMark& mark, size_t max_lines) const {
  const Header* h = header();
  TraceSince out;
  out.end = mark;
  auto corrupted = [&](std::string what) {
    out.corrupted = std::move(what);
    return out;
  };
  // Each shared value is loaded once into a local, checked, then used.
  const uint64_t used = h->trace_used.load(std::memory_order_acquire);
  if (used % 8 != 0)
    return corrupted("the trace's write offset " + Decimal(used) + " is not aligned");
  if (used < mark.offset) {
    return corrupted("the trace's write offset went back from " + Decimal(mark.offset) + " to " +
                     Decimal(used));
  }
  const uint64_t end = std::min(used, layout_.trace_bytes);
  uint64_t off = mark.offset;
  // At most trace_bytes are read, each record head once.
  while (off < end && end - off >= sizeof(RecordHead)) {
    const char* rec = at(layout_.trace_offset + off);
    const uint32_t len =
        reinterpret_cast<const RecordHead*>(rec)->length.load(std::memory_order_acquire);
    // 0: reserved but not yet published (a call still finishing); stop there.
    if (len == 0) break;
    uint16_t call_and_reserved[2];
    std::memcpy(call_and_reserved, rec + sizeof(uint32_t), sizeof call_and_reserved);
    const uint16_t call = call_and_reserved[0];
    const std::string where = "trace record at offset " + Decimal(off) + ": ";
    if (RecordBytes(len) > end - off) {
      return corrupted(where + "its length " + Decimal(len) + " runs past the trace's end (" +
                       Decimal(end) + ")");
    }
    if (call >= fakes::kAllCalls.size())
      return corrupted(where + "call " + Decimal(call) + " is no call");
    if (call_and_reserved[1] != 0) return corrupted(where + "its reserved field is not 0");
    if (out.lines.size() < max_lines) {
      // The line, then the fields (TraceRecordText); a record without a
      // newline has no fields, which the runner reports.
      std::string text = Utf8Safe(rec + sizeof(RecordHead), len);
      const size_t newline = text.find('\n');
      std::string fields = newline == std::string::npos ? std::string() : text.substr(newline + 1);
      if (newline != std::string::npos) text.resize(newline);
      out.lines.push_back({call, std::move(text), std::move(fields)});
    } else {
      ++out.unkept[call];
    }
    off += RecordBytes(len);
  }
  for (size_t i = 0; i < kMaxCalls; ++i) {
    const uint64_t now = h->dropped[i].load(std::memory_order_relaxed);
    if (i >= fakes::kAllCalls.size() && now != 0) {
      return corrupted("dropped count " + Decimal(i) + " (no such call) is " + Decimal(now));
    }
    if (now < mark.dropped[i]) {
      return corrupted(std::string("the dropped count of ") +
                       fakes::CallName(static_cast<fakes::Call>(i)) + " went back from " +
                       Decimal(mark.dropped[i]) + " to " + Decimal(now));
    }
    out.dropped[i] = now - mark.dropped[i];
  }
  out.end.offset = off;
  for (size_t i = 0; i < kMaxCalls; ++i) out.end.dropped[i] = mark.dropped[i] + out.dropped[i];
  return out;
}

uint64_t ControlFile::TraceBytesUsed() const {
  return std::min(header()->trace_used.load(std::memory_order_relaxed), layout_.trace_bytes);
}

uint64_t ControlFile::DroppedTotal() const {
  uint64_t n = 0;
  for (const auto& d : header()->dropped) n += d.load(std::memory_order_relaxed);
  return n;
}

bool ControlFile::Check(std::string* error) {
  const Header* h = header();
  PlainHeader plain;
  std::memcpy(&plain, base_, sizeof plain);
  auto field = [&](const char* name, uint64_t found, uint64_t want) {
    return Fail(error, std::string("the header's ") + name + " is " + Decimal(found) +
                           ", netconform wrote " + Decimal(want));
  };
  if (std::memcmp(plain.magic, kMagic, sizeof kMagic) != 0) {
    return Fail(error, "the header's magic was overwritten");
  }
  if (plain.version != kVersion) return field("version", plain.version, kVersion);
  if (plain.header_bytes != kHeaderBytes)
    return field("header size", plain.header_bytes, kHeaderBytes);
  if (plain.file_bytes != layout_.file_bytes)
    return field("size", plain.file_bytes, layout_.file_bytes);
  if (plain.config_offset != layout_.config_offset || plain.config_bytes != layout_.config_bytes) {
    return field("config offset", plain.config_offset, layout_.config_offset);
  }
  if (plain.trace_offset != layout_.trace_offset || plain.trace_bytes != layout_.trace_bytes) {
    return field("trace offset", plain.trace_offset, layout_.trace_offset);
  }
  if (plain.fds_offset != layout_.fds_offset || plain.max_fds != layout_.max_fds) {
    return field("fd table offset", plain.fds_offset, layout_.fds_offset);
  }
  const uint64_t g = h->generation.load(std::memory_order_acquire);
  if (g != written_generation_) return field("config generation", g, written_generation_);
  const uint64_t used = h->trace_used.load(std::memory_order_acquire);
  if (used % 8 != 0)
    return Fail(error, "the trace's write offset " + Decimal(used) + " is not aligned");
  if (used < checked_used_) {
    return Fail(error, "the trace's write offset went back from " + Decimal(checked_used_) +
                           " to " + Decimal(used));
  }
  std::array<uint64_t, kMaxCalls> dropped{};
  for (size_t i = 0; i < kMaxCalls; ++i) {
    dropped[i] = h->dropped[i].load(std::memory_order_relaxed);
    if (i >= fakes::kAllCalls.size() && dropped[i] != 0) {
      return Fail(error,
                  "dropped count " + Decimal(i) + " (no such call) is " + Decimal(dropped[i]));
    }
    if (dropped[i] < checked_dropped_[i]) {
      return Fail(error, std::string("the dropped count of ") +
                             fakes::CallName(static_cast<fakes::Call>(i)) + " went back from " +
                             Decimal(checked_dropped_[i]) + " to " + Decimal(dropped[i]));
    }
  }
  const int32_t owner = h->owner_pid.load(std::memory_order_relaxed);
  if (owner < 0) return Fail(error, "the owner pid is " + std::to_string(owner));
  checked_used_ = used;
  checked_dropped_ = dropped;
  return true;
}

// --- fds ---

bool ControlFile::ClaimOwner(pid_t pid) {
  int32_t expected = 0;
  std::atomic<int32_t>& owner = header()->owner_pid;
  return owner.compare_exchange_strong(expected, pid, std::memory_order_acq_rel) || expected == pid;
}

pid_t ControlFile::owner() const { return header()->owner_pid.load(std::memory_order_acquire); }

void ControlFile::SetFd(int fd, FdKind kind) {
  if (fd < 0 || static_cast<uint64_t>(fd) >= layout_.max_fds) return;
  reinterpret_cast<std::atomic<uint8_t>*>(at(layout_.fds_offset))[fd].store(
      static_cast<uint8_t>(kind), std::memory_order_relaxed);
}

FdKind ControlFile::GetFd(int fd) const {
  if (fd < 0 || static_cast<uint64_t>(fd) >= layout_.max_fds) return FdKind::kNone;
  return static_cast<FdKind>(
      reinterpret_cast<const std::atomic<uint8_t>*>(at(layout_.fds_offset))[fd].load(
          std::memory_order_relaxed));
}

void ControlFile::ClearFds(uint64_t first, uint64_t last) {
  if (first >= layout_.max_fds || last < first) return;
  last = std::min(last, layout_.max_fds - 1);
  auto* table = reinterpret_cast<std::atomic<uint8_t>*>(at(layout_.fds_offset));
  for (uint64_t fd = first; fd <= last; ++fd) {
    // Most bytes are 0 already: a load is cheaper than a store to a shared page.
    if (table[fd].load(std::memory_order_relaxed) != 0) {
      table[fd].store(0, std::memory_order_relaxed);
    }
  }
}

std::vector<int> ControlFile::OpenSockets(std::string* error) const {
  // One private copy of the table; each byte checked there.
  std::vector<uint8_t> table(layout_.max_fds);
  std::memcpy(table.data(), at(layout_.fds_offset), table.size());
  std::vector<int> out;
  for (size_t fd = 0; fd < table.size(); ++fd) {
    const uint8_t kind = table[fd];
    if (kind == static_cast<uint8_t>(FdKind::kSocket)) {
      out.push_back(static_cast<int>(fd));
    } else if (kind > static_cast<uint8_t>(FdKind::kEpoll) && error != nullptr && error->empty()) {
      *error = "fd table: fd " + Decimal(fd) + " holds " + Decimal(kind) + " (not 0, 1 or 2)";
    }
  }
  return out;
}

// --- the resolver text ---

namespace {

bool PlainHostByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

std::string EncodeHost(const std::string& host) {
  if (host.empty()) return "%";
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : host) {
    if (PlainHostByte(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<std::string> DecodeHost(std::string_view token) {
  if (token == "%") return std::string();
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < token.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(token[i]);
    if (c == '%') {
      if (i + 2 >= token.size()) return std::nullopt;
      const int hi = hex(token[i + 1]);
      const int lo = hex(token[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (PlainHostByte(c)) {
      out += static_cast<char>(c);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::vector<std::string_view> Tokens(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

std::string PrintResolver(const fakes::ResolverTable& table) {
  std::string out;
  for (const auto& [host, entry] : table.hosts()) {
    out += EncodeHost(host) + " =";
    if (entry.gai_err != 0) {
      out += std::string(" ") + GaiErrorName(entry.gai_err);
      if (entry.sys_err != 0) out += std::string(" ") + ErrnoName(entry.sys_err);
    } else {
      for (const SockAddr& a : entry.addrs) out += " " + a.host();
    }
    out += "\n";
  }
  return out;
}

std::optional<fakes::ResolverTable> ParseResolver(std::string_view text, std::string* error) {
  fakes::ResolverTable table;
  int line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    const std::vector<std::string_view> t = Tokens(line);
    if (t.empty() || t[0][0] == '#') continue;
    const std::string where = "resolver line " + std::to_string(line_no) + ": ";
    std::optional<std::string> host = DecodeHost(t[0]);
    if (!host) {
      Fail(error, where + "bad host '" + std::string(t[0]) + "'");
      return std::nullopt;
    }
    if (t.size() < 2 || t[1] != "=") {
      Fail(error, where + "expected '=' after the host");
      return std::nullopt;
    }
    if (t.size() >= 3 && t[2].substr(0, 4) == "EAI_") {
      const std::optional<int> gai = GaiErrorFromName(t[2]);
      std::optional<int> sys = 0;
      if (t.size() == 4) sys = ErrnoFromName(t[3]);
      if (!gai || !sys || t.size() > 4) {
        Fail(error, where + "bad failure '" + std::string(line) + "'");
        return std::nullopt;
      }
      table.Fail(*host, *gai, *sys);
      continue;
    }
    std::vector<SockAddr> addrs;
    for (size_t i = 2; i < t.size(); ++i) {
      std::optional<SockAddr> a = SockAddr::FromIp(t[i], 0);
      if (!a) {
        Fail(error, where + "not an IP literal: '" + std::string(t[i]) + "'");
        return std::nullopt;
      }
      addrs.push_back(*a);
    }
    table.Set(*host, std::move(addrs));
  }
  return table;
}

}  // namespace netutil::netfault
