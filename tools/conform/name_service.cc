#include "name_service.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "child_process.h"
#include "netutil/errno_name.h"
#include "target.h"  // RegisterGroup, UnregisterGroup

namespace netutil::conform {
namespace {

using Clock = std::chrono::steady_clock;

// The failures a DNS answer gives glibc's getaddrinfo (name_service.h).
bool DnsGives(int gai_err) { return gai_err == EAI_NONAME || gai_err == EAI_AGAIN; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A name the files and dnsmasq's command line can carry: letters, digits,
// '-', '_' and dots between labels of 1..63 bytes, 253 bytes at most. Shown
// quoted and cut, since it may hold anything (a newline, a NUL).
std::optional<std::string> HostNameProblem(const std::string& name) {
  const std::string shown = "\"" + (name.size() > 40 ? name.substr(0, 40) + "...\" (" +
                                                           std::to_string(name.size()) + " bytes)"
                                                     : name + "\"");
  std::string printable;
  for (char c : shown) printable += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  if (name.empty()) return std::string("an empty host name");
  if (name.size() > kMaxHostNameBytes) {
    return "host name " + printable + " is longer than " + std::to_string(kMaxHostNameBytes) +
           " bytes";
  }
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return "host name " + printable + " has an empty label";
      label = 0;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return "host name " + printable +
             " has a character a host name cannot have (letters, digits, '-', '_', '.')";
    }
    if (++label > kMaxHostLabelBytes) {
      return "host name " + printable + " has a label longer than " +
             std::to_string(kMaxHostLabelBytes) + " bytes";
    }
  }
  if (label == 0) return "host name " + printable + " ends with a dot";
  return std::nullopt;
}

// An address as glibc's precedence table sees it: IPv4 as ::ffff:a.b.c.d.
std::string PrecedenceKey(const SockAddr& a) {
  return a.family() == AF_INET ? "::ffff:" + a.host() : a.host();
}

// The distinct addresses of each name, in the table's order; an error when a
// name's order needs an address twice apart (no sort on addresses gives
// A, B, A).
std::optional<std::string> DistinctRuns(const fakes::ResolverTable& table,
                                        std::vector<std::vector<std::string>>* runs) {
  for (const auto& [host, entry] : table.hosts()) {
    std::vector<std::string> run;
    std::set<std::string> seen;
    std::string last;  // the address before, as the case wrote it
    for (const SockAddr& a : entry.addrs) {
      const std::string key = PrecedenceKey(a);
      if (!run.empty() && run.back() == key) continue;
      if (!seen.insert(key).second) {
        return host + ": " + a.host() + " comes again after " + last +
               ": glibc's RFC 6724 sort keeps equal addresses together, so no name service "
               "gives this order";
      }
      run.push_back(key);
      last = a.host();
    }
    runs->push_back(std::move(run));
  }
  return std::nullopt;
}

// One order of all addresses that keeps every name's (Kahn's, the first seen
// first), or an error when the names order two addresses both ways.
std::optional<std::string> GlobalOrder(const std::vector<std::vector<std::string>>& runs,
                                       std::vector<std::string>* order) {
  std::map<std::string, std::set<std::string>> after;  // a -> addresses that must follow it
  std::map<std::string, int> before_count;
  std::vector<std::string> first_seen;
  for (const auto& run : runs) {
    for (size_t i = 0; i < run.size(); ++i) {
      if (before_count.emplace(run[i], 0).second) first_seen.push_back(run[i]);
      if (i > 0 && after[run[i - 1]].insert(run[i]).second) ++before_count[run[i]];
    }
  }
  std::set<std::string> done;
  while (order->size() < first_seen.size()) {
    auto next = std::find_if(first_seen.begin(), first_seen.end(), [&](const std::string& a) {
      return done.count(a) == 0 && before_count[a] == 0;
    });
    if (next == first_seen.end()) {
      return std::string(
          "the names order the same addresses both ways: glibc sorts by address, one order for "
          "all names");
    }
    order->push_back(*next);
    done.insert(*next);
    for (const std::string& b : after[*next]) --before_count[b];
  }
  return std::nullopt;
}

// Whether some name has two distinct addresses, so their order needs steering.
bool NeedsGaiConf(const fakes::ResolverTable& table) {
  for (const auto& [host, entry] : table.hosts()) {
    for (const SockAddr& a : entry.addrs) {
      if (PrecedenceKey(a) != PrecedenceKey(entry.addrs.front())) return true;
    }
  }
  return false;
}

// glibc's built-in precedence table (RFC 3484), which a gai.conf with any
// precedence line replaces.
constexpr const char* kGlibcDefaultPrecedence =
    "precedence ::1/128 50\n"
    "precedence ::/0 40\n"
    "precedence 2002::/16 30\n"
    "precedence ::/96 20\n"
    "precedence ::ffff:0:0/96 10\n";

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line.substr(0, line.find('#')));
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// A machine file's text (empty when it does not exist); an error when it is
// larger than kMaxMachineFileBytes or cannot be read.
std::optional<std::string> ReadMachineFile(const char* path, std::string* text) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    return std::string("open ") + path + ": " + ErrnoName(errno);
  }
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return std::string("read ") + path + ": " + ErrnoName(err);
    }
    if (n == 0) break;
    text->append(buf, static_cast<size_t>(n));
    if (text->size() > kMaxMachineFileBytes) {
      ::close(fd);
      return std::string(path) + " is larger than " + std::to_string(kMaxMachineFileBytes) +
             " bytes";
    }
  }
  ::close(fd);
  return std::nullopt;
}

// `text` to a new file `path` (beneath the case's dir: O_EXCL, O_NOFOLLOW).
std::optional<std::string> WriteNewFile(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return "create " + path + ": " + ErrnoName(errno);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      return "write " + path + ": " + ErrnoName(err);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return "close " + path + ": " + ErrnoName(errno);
  return std::nullopt;
}

std::optional<std::string> FindDnsmasq() {
  std::vector<std::string> dirs = {"/usr/sbin", "/sbin"};
  if (const char* path = std::getenv("PATH")) {
    std::istringstream in(path);
    for (std::string d; std::getline(in, d, ':');) {
      if (!d.empty()) dirs.push_back(d);
    }
  }
  for (const std::string& d : dirs) {
    const std::string exe = d + "/dnsmasq";
    if (::access(exe.c_str(), X_OK) == 0) return exe;
  }
  return std::nullopt;
}

// A DNS query for an A record of `name` with id `id` (RFC 1035, 4.1).
std::string DnsQuery(uint16_t id, const std::string& name) {
  std::string q;
  q += static_cast<char>(id >> 8);
  q += static_cast<char>(id & 0xff);
  q += std::string("\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);  // RD, one question
  std::istringstream in(name);
  for (std::string label; std::getline(in, label, '.');) {
    q += static_cast<char>(label.size());
    q += label;
  }
  q += std::string("\x00\x00\x01\x00\x01", 5);  // root, type A, class IN
  return q;
}

}  // namespace

std::optional<std::string> NameServiceCannotGive(const fakes::ResolverTable& table) {
  const char* kWhy =
      "real name service cannot give it; it needs an instrument that overrides getaddrinfo";
  if (table.hosts().size() > kMaxNameServiceHosts) {
    return "the resolver has " + std::to_string(table.hosts().size()) + " names, more than " +
           std::to_string(kMaxNameServiceHosts);
  }
  std::map<std::string, std::string> folded;  // lower case -> the name as written
  for (const auto& [host, entry] : table.hosts()) {
    if (auto problem = HostNameProblem(host)) return *problem + ": " + kWhy;
    if (auto [it, fresh] = folded.emplace(Lower(host), host); !fresh) {
      return host + " and " + it->second +
             " differ only in case, and name service takes them as one name: " + kWhy;
    }
    if (entry.gai_err != 0 && !DnsGives(entry.gai_err)) {
      return host + ": " + GaiErrorName(entry.gai_err) +
             " is made inside the C library (no DNS answer gives it): " + kWhy;
    }
    if (entry.addrs.size() > kMaxNameServiceAddrs) {
      return host + ": " + std::to_string(entry.addrs.size()) + " addresses, more than " +
             std::to_string(kMaxNameServiceAddrs);
    }
    for (const SockAddr& a : entry.addrs) {
      if (a.scope_id() != 0) {
        return host + ": " + a.host() +
               " is scoped, and glibc's /etc/hosts reader takes no zone index: " + kWhy;
      }
    }
  }
  std::vector<std::vector<std::string>> runs;
  if (auto e = DistinctRuns(table, &runs)) return *e + "; " + kWhy;
  std::vector<std::string> order;
  if (auto e = GlobalOrder(runs, &order)) return *e + "; " + kWhy;
  return std::nullopt;
}

bool NeedsDnsServer(const fakes::ResolverTable& table) {
  return std::any_of(table.hosts().begin(), table.hosts().end(),
                     [](const auto& h) { return h.second.gai_err != 0; });
}

std::optional<std::string> NameServiceUnavailable() {
  // Probed on a thread of its own, so the runner's threads stay where they are.
  static const std::optional<std::string> why = [] {
    std::optional<std::string> out;
    std::thread probe([&out] {
      if (::unshare(CLONE_NEWNS) != 0) {
        out = std::string("needs a private mount namespace: unshare(CLONE_NEWNS): ") +
              ErrnoName(errno) + " (run as root)";
      } else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        out = std::string("needs a private mount namespace: mount(MS_PRIVATE): ") +
              ErrnoName(errno) + " (run as root)";
      }
    });
    probe.join();
    return out;
  }();
  return why;
}

std::optional<std::string> DnsServerUnavailable() {
  if (FindDnsmasq()) return std::nullopt;
  return std::string(
      "needs a DNS server for its resolver failures: dnsmasq is not installed (Debian package "
      "dnsmasq-base; make deps installs it)");
}

std::string HostsText(const fakes::ResolverTable& table, std::string_view machine_hosts) {
  std::string out = "# netconform: the case's resolver entries, in its order\n";
  std::set<std::string> listed;
  for (const auto& [host, entry] : table.hosts()) {
    listed.insert(Lower(host));
    for (const SockAddr& a : entry.addrs) out += a.host() + " " + host + "\n";
  }
  out += "# the machine's other names\n";
  for (const std::string& line : Lines(machine_hosts)) {
    std::vector<std::string> words = Words(line);
    if (words.size() < 2) continue;
    std::string kept = words[0];
    for (size_t i = 1; i < words.size(); ++i) {
      // A name with an entry (an address list or a failure) is the case's alone.
      if (listed.count(Lower(words[i])) == 0) kept += " " + words[i];
    }
    if (kept.size() > words[0].size()) out += kept + "\n";
  }
  return out;
}

std::string NsswitchText(std::string_view machine_nsswitch) {
  std::string out;
  for (const std::string& line : Lines(machine_nsswitch)) {
    const std::vector<std::string> words = Words(line);
    if (!words.empty() && words[0] == "hosts:") continue;
    out += line + "\n";
  }
  return out + "hosts: files dns\n";
}

std::string ResolvConfText(bool dns_server, std::string_view machine_resolv) {
  if (!dns_server) return std::string(machine_resolv);
  // One server, asked once: its answers come at once (REFUSED, NXDOMAIN), so a
  // timeout only means it died.
  return "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n";
}

std::string GaiConfText(const fakes::ResolverTable& table, std::string_view machine_gai) {
  std::vector<std::vector<std::string>> runs;
  std::vector<std::string> order;
  if (DistinctRuns(table, &runs) || GlobalOrder(runs, &order)) return std::string(machine_gai);
  // Rule 6 (precedence) comes after rules 1 to 5, which loopback and other
  // usable addresses pass alike; a /128 line is the longest match of its
  // address, so these decide between the case's addresses and nothing else.
  std::string out = "# netconform: the case's addresses, first the highest\n";
  for (size_t i = 0; i < order.size(); ++i) {
    out += "precedence " + order[i] + "/128 " + std::to_string(1000 + order.size() - i) + "\n";
  }
  out += "# the machine's\n";
  bool machine_precedence = false;
  for (const std::string& line : Lines(machine_gai)) {
    const std::vector<std::string> words = Words(line);
    if (!words.empty() && words[0] == "precedence") machine_precedence = true;
    out += line + "\n";
  }
  if (!machine_precedence) out += kGlibcDefaultPrecedence;
  return out;
}

std::vector<std::string> DnsmasqArgv(const fakes::ResolverTable& table, const std::string& dir) {
  std::vector<std::string> argv = {
      "dnsmasq",
      "--keep-in-foreground",
      "--conf-file=/dev/null",  // no configuration of the machine's
      "--no-resolv",            // no upstream servers
      "--no-hosts",             // not the machine's /etc/hosts
      "--no-poll",
      "--listen-address=127.0.0.1",
      "--bind-interfaces",
      "--port=53",
      "--cache-size=0",
      "--log-facility=-",  // stderr, whose tail the case keeps
      "--pid-file=" + dir + "/dnsmasq.pid",
      "--address=/#/",  // any other name: NXDOMAIN
  };
  for (const auto& [host, entry] : table.hosts()) {
    if (entry.gai_err == EAI_NONAME) argv.push_back("--address=/" + host + "/");  // NXDOMAIN
    // "#": the standard servers, of which there are none: REFUSED.
    if (entry.gai_err == EAI_AGAIN) argv.push_back("--server=/" + host + "/#");
  }
  return argv;
}

// --- the namespace ---

struct RealNameService::Dns {
  tools::ChildProcess child;
  pid_t pgid = 0;
};

std::unique_ptr<RealNameService> RealNameService::Make(const Environment& env,
                                                       const std::string& scratch_dir,
                                                       std::string* error) {
  const fakes::ResolverTable& table = env.resolver;
  if (auto why = NameServiceCannotGive(table)) {
    *error = *why;
    return nullptr;
  }
  const bool dns = NeedsDnsServer(table);
  if (dns) {
    if (auto why = DnsServerUnavailable()) {
      *error = *why;
      return nullptr;
    }
  }
  // The files, in a directory of the case's own.
  const std::string dir = scratch_dir + "/names";
  if (::mkdir(dir.c_str(), 0755) != 0) {
    *error = "mkdir " + dir + ": " + ErrnoName(errno);
    return nullptr;
  }
  std::string hosts, nsswitch, resolv, gai;
  for (auto [path, text] :
       {std::pair{"/etc/hosts", &hosts}, std::pair{"/etc/nsswitch.conf", &nsswitch},
        std::pair{"/etc/resolv.conf", &resolv}, std::pair{"/etc/gai.conf", &gai}}) {
    if (auto e = ReadMachineFile(path, text)) {
      *error = *e;
      return nullptr;
    }
  }
  const bool steer = NeedsGaiConf(table);
  for (auto [name, text] : {std::pair{"hosts", HostsText(table, hosts)},
                            std::pair{"nsswitch.conf", NsswitchText(nsswitch)},
                            std::pair{"resolv.conf", ResolvConfText(dns, resolv)},
                            std::pair{"gai.conf", GaiConfText(table, gai)}}) {
    if (auto e = WriteNewFile(dir + "/" + name, text)) {
      *error = *e;
      return nullptr;
    }
  }
  std::unique_ptr<RealNameService> scope(new RealNameService());
  if (auto e = scope->EnterNamespace(dir, steer)) {
    *error = *e;
    return nullptr;  // the destructor has put the thread back
  }
  if (dns) {
    if (auto e = scope->StartDns(table, dir)) {
      *error = *e;
      return nullptr;
    }
  }
  return scope;
}

std::optional<std::string> RealNameService::EnterNamespace(const std::string& dir, bool gai) {
  // Which machine files are mounted over: the three always, gai.conf when an
  // order needs steering. Each must exist: netconform never creates a file in
  // the real /etc.
  std::vector<std::string> files = {"hosts", "nsswitch.conf", "resolv.conf"};
  if (gai) files.push_back("gai.conf");
  for (const std::string& f : files) {
    struct stat st {};
    const std::string target = "/etc/" + f;
    if (::stat(target.c_str(), &st) != 0) {
      return target + " cannot be mounted over (" + ErrnoName(errno) +
             "): netconform makes no file in the real /etc";
    }
  }
  original_mnt_ = ::open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (original_mnt_ < 0) return std::string("open /proc/thread-self/ns/mnt: ") + ErrnoName(errno);
  original_cwd_ = ::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (original_cwd_ < 0) {
    const int err = errno;
    ::close(original_mnt_);
    original_mnt_ = -1;
    return std::string("open the working directory: ") + ErrnoName(err);
  }
  // A thread of a threaded process may do this: CLONE_NEWNS implies CLONE_FS,
  // which gives the thread its own copy of cwd, root and umask.
  if (::unshare(CLONE_NEWNS) != 0) {
    const int err = errno;
    ::close(original_mnt_);
    original_mnt_ = -1;
    ::close(original_cwd_);
    original_cwd_ = -1;
    return std::string("unshare(CLONE_NEWNS): ") + ErrnoName(err);
  }
  // Private: nothing mounted here reaches the machine's namespace.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    const int err = errno;
    Leave();
    return std::string("mount(\"/\", MS_REC | MS_PRIVATE): ") + ErrnoName(err);
  }
  for (const std::string& f : files) {
    const std::string source = dir + "/" + f;
    const std::string target = "/etc/" + f;
    if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      const int err = errno;
      Leave();
      return "mount --bind " + source + " " + target + ": " + ErrnoName(err);
    }
  }
  return std::nullopt;
}

std::optional<std::string> RealNameService::StartDns(const fakes::ResolverTable& table,
                                                     const std::string& dir) {
  const std::optional<std::string> exe = FindDnsmasq();
  if (!exe) return DnsServerUnavailable();
  tools::ChildSpec spec;
  spec.file = *exe;
  spec.argv = DnsmasqArgv(table, dir);
  spec.stderr_to = tools::ChildSpec::Stderr::kTail;
  spec.stderr_tail_bytes = 4096;
  spec.own_process_group = true;  // so an interrupted netconform kills it (KillAdapterGroups)
  const auto start = Clock::now();
  auto d = std::make_unique<Dns>();
  if (std::string why = d->child.Start(spec); !why.empty()) return "dnsmasq: " + why;
  d->pgid = d->child.pid();
  RegisterGroup(d->pgid);
  dns_ = std::move(d);

  auto failed = [this](const std::string& why) {
    std::string tail = dns_->child.stderr_tail().kept();
    while (!tail.empty() && tail.back() == '\n') tail.pop_back();
    if (tail.size() > 600) tail = "..." + tail.substr(tail.size() - 600);
    return why + (tail.empty() ? "" : "; dnsmasq said: " + tail);
  };
  // Up when it answers a query on 127.0.0.1:53 (any answer: NXDOMAIN).
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket(AF_INET, SOCK_DGRAM): ") + ErrnoName(errno);
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(53);
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const uint16_t id = static_cast<uint16_t>(::getpid() ^ 0x5a5a);
  const std::string query = DnsQuery(id, "netconform-ready.invalid");
  const auto deadline = start + kDnsStartBound;
  bool up = false;
  while (!up && Clock::now() < deadline) {
    if (dns_->child.WaitForExit(Clock::now())) {
      ::close(fd);
      return failed("dnsmasq exited before it answered on 127.0.0.1:53");
    }
    (void)::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&server),
                   sizeof server);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) == 1) {
      char reply[512];
      const ssize_t n = ::recv(fd, reply, sizeof reply, 0);
      up = n >= 2 && static_cast<uint8_t>(reply[0]) == (id >> 8) &&
           static_cast<uint8_t>(reply[1]) == (id & 0xff);
      if (!up && n < 0 && errno == ECONNREFUSED) ::usleep(10000);  // not listening yet
    }
  }
  ::close(fd);
  if (!up) {
    return failed("dnsmasq did not answer on 127.0.0.1:53 within " +
                  std::to_string(kDnsStartBound.count()) + " ms");
  }
  dns_start_seconds_ = std::chrono::duration<double>(Clock::now() - start).count();
  return std::nullopt;
}

pid_t RealNameService::dns_pid() const { return dns_ ? dns_->child.pid() : 0; }

void RealNameService::Leave() {
  if (dns_) {
    dns_->child.SendKill();
    UnregisterGroup(dns_->pgid);
    dns_->child.Kill();  // reaped
    dns_.reset();
  }
  if (original_mnt_ < 0) return;
  if (::setns(original_mnt_, CLONE_NEWNS) != 0) {
    // The thread would run later cases with this case's /etc: nothing sane
    // is left to do.
    std::perror("netconform: setns back to the original mount namespace");
    std::abort();
  }
  ::close(original_mnt_);
  original_mnt_ = -1;
  if (::fchdir(original_cwd_) != 0) {
    std::perror("netconform: back to the working directory after the mount namespace");
    std::abort();
  }
  ::close(original_cwd_);
  original_cwd_ = -1;
}

RealNameService::~RealNameService() { Leave(); }

}  // namespace netutil::conform
