// Real name service for a case (docs/CONFORMANCE.md, "Real name service"):
// the case's resolver entries (env.resolver) as the files and the DNS server
// every resolver reads, glibc's getaddrinfo, Go's own resolver and c-ares
// alike, instead of an override of getaddrinfo in the implementation's
// process (the interposer's).
//
// The calling thread enters a mount namespace of its own (Linux keeps it per
// thread, like the network namespace of netns.h) in which files written to the
// case's scratch dir are bind-mounted over /etc/hosts, /etc/nsswitch.conf
// ("hosts: files dns"), /etc/resolv.conf and /etc/gai.conf. Processes and
// threads the thread starts afterwards see them; nothing else does, and the
// real /etc is never written.
//
//   entry                    made by                              glibc 2.36 gives
//   {"addrs": [...]}         /etc/hosts lines, in the case's      the addresses in the case's
//                            order, and gai.conf precedence       order (RFC 6724 sort steered
//                            lines that make glibc's sort keep it  by the precedence lines)
//   {"error": "EAI_NONAME"}  dnsmasq: NXDOMAIN (--address=/h/)    EAI_NONAME
//   {"error": "EAI_AGAIN"}   dnsmasq: REFUSED (--server=/h/#,     EAI_AGAIN (glibc's res_send
//                            no upstream servers)                 takes SERVFAIL, NOTIMP and
//                                                                  REFUSED alike: try again)
//   anything else            -                                    (needs the interposer)
//   any entry, looked up     the files above; the process's fds   EAI_SYSTEM, errno EMFILE, with
//   with no fd free          taken (exhaust_fds, fd_exhaust.h)    "hosts: files dns" (the files
//                                                                  module's open of /etc/hosts,
//                                                                  then the dns module's socket()
//                                                                  fail EMFILE; "hosts: dns"
//                                                                  alone: EAI_SYSTEM, errno 0);
//                                                                  only once NSS is set up: the
//                                                                  process's first lookup reads
//                                                                  nsswitch.conf, and with no fd
//                                                                  gives EAI_NONAME (errno
//                                                                  EMFILE). A literal: no NSS, no
//                                                                  fd, no failure
//
// That last row, measured on glibc 2.36 in a mount namespace with these files
// and RLIMIT_NOFILE at the lowest free fd (a name listed in /etc/hosts or
// not, and "localhost" alike; with one fd spare a listed name is found), is
// how bind/resolve-real-system-error makes a real EAI_SYSTEM from an "addrs"
// entry; the fake kernel and the resolver override answer the same
// (fakes::ResolverTable::WithoutFreeFd). An entry cannot ask for EAI_SYSTEM
// with an errno of its choice, nor EAI_MEMORY and the rest: those are made
// inside the C library, and glibc 2.36 maps no DNS answer to EAI_FAIL
// (measured: FORMERR and NXDOMAIN give EAI_NONAME, SERVFAIL, NOTIMP and
// REFUSED EAI_AGAIN, an empty NOERROR EAI_NODATA): a case with such an entry needs an instrument
// that overrides getaddrinfo. So does one whose order no RFC 6724 sort can
// give (an address repeated with another one between, names ordering the same
// two addresses both ways) or with a scoped address (glibc's /etc/hosts reader
// takes no zone index). NameServiceCannotGive() says which and why.
//
// The DNS server, when the table has failures, is dnsmasq (Debian's
// dnsmasq-base) on 127.0.0.1:53 of the thread's network namespace, which must
// be the case's own (netns.h): it answers every name without an entry
// NXDOMAIN and forwards nothing. Its start-up (spawn until it answers a query)
// is bounded by kDnsStartBound and measured.
//
// Needs CAP_SYS_ADMIN (root here); without it NameServiceUnavailable() says
// why, and the runner SKIPs such cases, as it does for netns.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "environment.h"
#include "netutil/fakes/resolver_table.h"

namespace netutil::conform {

// Bounds on a table made into files: checked before anything is written.
inline constexpr size_t kMaxNameServiceHosts = 64;  // as the catalog's env.resolver
inline constexpr size_t kMaxNameServiceAddrs = 64;  // per host
inline constexpr size_t kMaxHostNameBytes = 253;    // RFC 1035's name, without the final dot
inline constexpr size_t kMaxHostLabelBytes = 63;
// How much of a machine file (/etc/hosts, nsswitch.conf, gai.conf,
// resolv.conf) is read to carry its other lines over.
inline constexpr size_t kMaxMachineFileBytes = 1 << 20;
// How long dnsmasq has to answer its first query.
inline constexpr std::chrono::milliseconds kDnsStartBound{5000};

// Why real name service cannot give `table` (nullopt: it can).
std::optional<std::string> NameServiceCannotGive(const fakes::ResolverTable& table);

// Whether `table` has failures, so a DNS server (and a network namespace for
// it) is needed.
bool NeedsDnsServer(const fakes::ResolverTable& table);

// Why this process cannot make mount namespaces (probed once), or nullopt.
std::optional<std::string> NameServiceUnavailable();
// Why the DNS server cannot be started (dnsmasq not installed), or nullopt.
std::optional<std::string> DnsServerUnavailable();

// The files, from the table and the machine's own (whose other lines are kept:
// names the case does not list resolve as on the machine). Pure, for tests.
std::string HostsText(const fakes::ResolverTable& table, std::string_view machine_hosts);
std::string NsswitchText(std::string_view machine_nsswitch);
// With a DNS server: it alone; without: the machine's.
std::string ResolvConfText(bool dns_server, std::string_view machine_resolv);
// Precedence lines that make glibc's RFC 6724 sort give each name's addresses
// in the table's order, then the machine's lines (or glibc's default table).
std::string GaiConfText(const fakes::ResolverTable& table, std::string_view machine_gai);
// dnsmasq's command line; `dir` holds its pid file.
std::vector<std::string> DnsmasqArgv(const fakes::ResolverTable& table, const std::string& dir);

// The files and the DNS server of one case, for the calling thread until the
// object goes. Construct with Make() on the thread that then starts the
// implementation (SpawnAdapter, or a tracer's thread, which inherits it).
class RealNameService {
 public:
  // Writes the files into `scratch_dir`/names, moves the calling thread into
  // a new mount namespace with them mounted, and starts dnsmasq when the table
  // has failures (the thread must be in the case's own network namespace
  // then). nullptr with `*error` set when any step fails: the thread is then
  // back where it was and nothing is left running.
  static std::unique_ptr<RealNameService> Make(const Environment& env,
                                               const std::string& scratch_dir, std::string* error);
  // Stops dnsmasq (killed and reaped) and returns the thread to its mount
  // namespace of before Make.
  ~RealNameService();
  RealNameService(const RealNameService&) = delete;
  RealNameService& operator=(const RealNameService&) = delete;

  // From dnsmasq's spawn until it answered a query; nullopt without one.
  std::optional<double> dns_start_seconds() const { return dns_start_seconds_; }
  // dnsmasq's pid while it runs, for tests; 0 without one.
  pid_t dns_pid() const;

 private:
  RealNameService() = default;
  struct Dns;
  std::optional<std::string> EnterNamespace(const std::string& dir, bool gai);
  std::optional<std::string> StartDns(const fakes::ResolverTable& table, const std::string& dir);
  void Leave();

  int original_mnt_ = -1;
  // The thread's working directory before it entered: setns() back to the
  // original mount namespace moves the thread to its root, and a relative
  // --adapter command (build/bin/x) must still be found by later cases.
  int original_cwd_ = -1;
  std::unique_ptr<Dns> dns_;
  std::optional<double> dns_start_seconds_;
};

}  // namespace netutil::conform
