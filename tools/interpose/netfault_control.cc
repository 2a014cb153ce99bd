#include "netfault_control.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "netutil/errno_name.h"
#include "netutil/sock_addr.h"

namespace netutil::netfault {

// Plain fields are written once, by Create, before the traced process starts;
// only the atomics change afterwards.
struct ControlFile::Header {
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

}  // namespace

ControlFile::ControlFile(std::string path, void* base, size_t size)
    : path_(std::move(path)), base_(base), size_(size) {}

ControlFile::~ControlFile() {
  if (base_ != nullptr) ::munmap(base_, size_);
}

ControlFile::Header* ControlFile::header() const { return static_cast<Header*>(base_); }
char* ControlFile::at(uint64_t offset) const { return static_cast<char*>(base_) + offset; }

std::unique_ptr<ControlFile> ControlFile::Create(const std::string& path, const Config& config,
                                                 const Sizes& sizes, std::string* error) {
  static_assert(sizeof(Header) <= kHeaderBytes);
  const uint64_t config_bytes = RoundUp(std::max<size_t>(sizes.config_bytes, 4096), 4096);
  const uint64_t trace_bytes = RoundUp(std::max<size_t>(sizes.trace_bytes, 4096), 4096);
  const uint64_t max_fds = RoundUp(std::max<size_t>(sizes.max_fds, 4096), 4096);
  const uint64_t config_offset = kHeaderBytes;
  const uint64_t trace_offset = config_offset + config_bytes;
  const uint64_t fds_offset = trace_offset + trace_bytes;
  const uint64_t file_bytes = fds_offset + max_fds;

  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    Fail(error, Errno(("open " + path).c_str()));
    return nullptr;
  }
  // The file stays sparse: only the pages written ever take memory or disk.
  if (::ftruncate(fd, static_cast<off_t>(file_bytes)) != 0) {
    Fail(error, Errno("ftruncate"));
    ::close(fd);
    return nullptr;
  }
  void* base = ::mmap(nullptr, file_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);  // the mapping keeps the file
  if (base == MAP_FAILED) {
    Fail(error, Errno("mmap"));
    return nullptr;
  }
  auto* h = new (base) Header{};
  h->version = kVersion;
  h->header_bytes = kHeaderBytes;
  h->file_bytes = file_bytes;
  h->config_offset = config_offset;
  h->config_bytes = config_bytes;
  h->trace_offset = trace_offset;
  h->trace_bytes = trace_bytes;
  h->fds_offset = fds_offset;
  h->max_fds = max_fds;
  std::unique_ptr<ControlFile> file(new ControlFile(path, base, file_bytes));
  if (!file->WriteConfig(config, error)) return nullptr;
  // The magic last: a reader that sees it sees a complete header.
  std::atomic_thread_fence(std::memory_order_release);
  std::memcpy(h->magic, kMagic, sizeof kMagic);
  return file;
}

std::unique_ptr<ControlFile> ControlFile::Attach(const std::string& path, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    Fail(error, Errno("open"));
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Fail(error, Errno("fstat"));
    ::close(fd);
    return nullptr;
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < kHeaderBytes) {
    Fail(error, "the file is " + std::to_string(size) + " bytes, shorter than a header (" +
                    std::to_string(kHeaderBytes) + ")");
    ::close(fd);
    return nullptr;
  }
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED) {
    Fail(error, Errno("mmap"));
    return nullptr;
  }
  std::unique_ptr<ControlFile> file(new ControlFile(path, base, size));
  const Header* h = file->header();
  auto area_ok = [&](uint64_t offset, uint64_t bytes) {
    return offset >= kHeaderBytes && offset % 8 == 0 && bytes % 8 == 0 && offset <= size &&
           bytes <= size - offset;
  };
  std::string why;
  if (std::memcmp(h->magic, kMagic, sizeof kMagic) != 0) {
    why = "bad magic (not a netfault control file)";
  } else if (h->version != kVersion) {
    why = "version " + std::to_string(h->version) + ", this library reads " +
          std::to_string(kVersion);
  } else if (h->header_bytes != kHeaderBytes || h->file_bytes != size) {
    why = "the header's sizes do not match the file (" + std::to_string(h->file_bytes) +
          " bytes said, " + std::to_string(size) + " found)";
  } else if (!area_ok(h->config_offset, h->config_bytes) || h->config_bytes < sizeof(ConfigHead) ||
             !area_ok(h->trace_offset, h->trace_bytes) || !area_ok(h->fds_offset, h->max_fds)) {
    why = "an area lies outside the file";
  }
  if (!why.empty()) {
    Fail(error, why);
    return nullptr;
  }
  return file;
}

// --- config ---

bool ControlFile::WriteConfig(const Config& config, std::string* error) {
  Header* h = header();
  const uint64_t need = sizeof(ConfigHead) + config.plan.size() + config.resolver.size();
  if (need > h->config_bytes) {
    return Fail(error, "the config (" + std::to_string(need) + " bytes) does not fit the area (" +
                           std::to_string(h->config_bytes) + ")");
  }
  const uint64_t g = h->generation.load(std::memory_order_relaxed);
  h->generation.store(g | 1, std::memory_order_relaxed);  // odd: being written
  std::atomic_thread_fence(std::memory_order_release);
  ConfigHead head{};
  head.flags = (config.ipv6_missing ? kFlagIpv6Missing : 0) | (config.trace ? kFlagTrace : 0) |
               (config.wait_for_stdin ? kFlagWaitForStdin : 0);
  head.plan_bytes = static_cast<uint32_t>(config.plan.size());
  head.resolver_bytes = static_cast<uint32_t>(config.resolver.size());
  char* area = at(h->config_offset);
  std::memcpy(area, &head, sizeof head);
  std::memcpy(area + sizeof head, config.plan.data(), config.plan.size());
  std::memcpy(area + sizeof head + config.plan.size(), config.resolver.data(),
              config.resolver.size());
  h->generation.store((g | 1) + 1, std::memory_order_release);
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
    const char* area = at(h->config_offset);
    std::memcpy(&head, area, sizeof head);
    Config c;
    const uint64_t body = h->config_bytes - sizeof head;
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
  const Header* h = header();
  return h->trace_used.load(std::memory_order_relaxed) >= h->trace_bytes;
}

bool ControlFile::Append(uint16_t call, std::string_view line) {
  Header* h = header();
  const uint64_t need = RecordBytes(line.size());
  bool fits = !line.empty() && line.size() < (1u << 31) &&
              h->trace_used.load(std::memory_order_relaxed) + need <= h->trace_bytes;
  uint64_t off = 0;
  if (fits) {
    off = h->trace_used.fetch_add(need, std::memory_order_relaxed);
    fits = off + need <= h->trace_bytes;
  }
  if (!fits) {
    if (call < kMaxCalls) h->dropped[call].fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  char* rec = at(h->trace_offset + off);
  std::memcpy(rec + sizeof(RecordHead), line.data(), line.size());
  auto* head = reinterpret_cast<RecordHead*>(rec);
  head->call = call;
  head->length.store(static_cast<uint32_t>(line.size()), std::memory_order_release);
  return true;
}

TraceMark ControlFile::Mark() const {
  const Header* h = header();
  TraceMark m;
  m.offset = std::min(h->trace_used.load(std::memory_order_acquire), h->trace_bytes);
  for (size_t i = 0; i < kMaxCalls; ++i)
    m.dropped[i] = h->dropped[i].load(std::memory_order_relaxed);
  return m;
}

TraceSince ControlFile::ReadSince(const TraceMark& mark) const {
  const Header* h = header();
  TraceSince out;
  const uint64_t end = std::min(h->trace_used.load(std::memory_order_acquire), h->trace_bytes);
  uint64_t off = mark.offset;
  while (off + sizeof(RecordHead) <= end) {
    const auto* head = reinterpret_cast<const RecordHead*>(at(h->trace_offset + off));
    const uint32_t len = head->length.load(std::memory_order_acquire);
    // 0: reserved but not yet published (a call still finishing); stop there.
    if (len == 0 || RecordBytes(len) > end - off) break;
    out.lines.push_back({head->call, std::string(at(h->trace_offset + off + sizeof *head), len)});
    off += RecordBytes(len);
  }
  out.end.offset = off;
  for (size_t i = 0; i < kMaxCalls; ++i) {
    const uint64_t now = h->dropped[i].load(std::memory_order_relaxed);
    out.end.dropped[i] = now;
    out.dropped[i] = now - mark.dropped[i];
  }
  return out;
}

uint64_t ControlFile::TraceBytesUsed() const {
  const Header* h = header();
  return std::min(h->trace_used.load(std::memory_order_relaxed), h->trace_bytes);
}

uint64_t ControlFile::DroppedTotal() const {
  uint64_t n = 0;
  for (const auto& d : header()->dropped) n += d.load(std::memory_order_relaxed);
  return n;
}

// --- fds ---

bool ControlFile::ClaimOwner(pid_t pid) {
  int32_t expected = 0;
  std::atomic<int32_t>& owner = header()->owner_pid;
  return owner.compare_exchange_strong(expected, pid, std::memory_order_acq_rel) || expected == pid;
}

pid_t ControlFile::owner() const { return header()->owner_pid.load(std::memory_order_acquire); }

void ControlFile::SetFd(int fd, FdKind kind) {
  const Header* h = header();
  if (fd < 0 || static_cast<uint64_t>(fd) >= h->max_fds) return;
  reinterpret_cast<std::atomic<uint8_t>*>(at(h->fds_offset))[fd].store(static_cast<uint8_t>(kind),
                                                                       std::memory_order_relaxed);
}

FdKind ControlFile::GetFd(int fd) const {
  const Header* h = header();
  if (fd < 0 || static_cast<uint64_t>(fd) >= h->max_fds) return FdKind::kNone;
  return static_cast<FdKind>(
      reinterpret_cast<const std::atomic<uint8_t>*>(at(h->fds_offset))[fd].load(
          std::memory_order_relaxed));
}

std::vector<int> ControlFile::OpenSockets() const {
  std::vector<int> out;
  const Header* h = header();
  for (uint64_t fd = 0; fd < h->max_fds; ++fd) {
    if (GetFd(static_cast<int>(fd)) == FdKind::kSocket) out.push_back(static_cast<int>(fd));
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
