/* libnetutil_quiet_gai.so: netconform --mode traced preloads it into the
 * adapter, so that the C library's getaddrinfo keeps its own system calls
 * (nscd's socket, /etc/hosts and /etc/gai.conf opened and stat'ed, the
 * netlink and UDP sockets of AI_ADDRCONFIG and of the RFC 6724 sort, the DNS
 * queries) out of the implementation's trace and faults. The tracer cannot
 * see getaddrinfo itself (it is no system call); in every other mode it is
 * one call of the seam, so its insides must not count for rules there either
 * (a case counting close() calls counts the implementation's).
 *
 * It brackets getaddrinfo and freeaddrinfo with the syscall tracer's quiet
 * marker, prctl(0x4E555100, 1) ... prctl(0x4E555100, 0), on the calling
 * thread (tools/tracer/include/netutil/tracer/quiet_marker.h). Nothing
 * else: no fault, no override, no state. Without the tracer the prctl fails
 * with EINVAL and changes nothing (errno is kept). docs/TRACER.md. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <sys/prctl.h>

#define QUIET_PRCTL 0x4E555100UL

typedef int (*GetaddrinfoFn)(const char*, const char*, const struct addrinfo*,
                             struct addrinfo**);
typedef void (*FreeaddrinfoFn)(struct addrinfo*);

static void Quiet(unsigned long on) {
  const int saved = errno;
  (void)prctl(QUIET_PRCTL, on, 0UL, 0UL, 0UL);
  errno = saved;
}

int getaddrinfo(const char* node, const char* service, const struct addrinfo* hints,
                struct addrinfo** res) {
  static GetaddrinfoFn real_fn;
  GetaddrinfoFn real = __atomic_load_n(&real_fn, __ATOMIC_ACQUIRE);
  if (real == NULL) {
    real = (GetaddrinfoFn)dlsym(RTLD_NEXT, "getaddrinfo");
    __atomic_store_n(&real_fn, real, __ATOMIC_RELEASE);
  }
  if (real == NULL) return EAI_SYSTEM;
  Quiet(1);
  const int r = real(node, service, hints, res);
  const int saved = errno;  /* EAI_SYSTEM's errno survives the marker */
  Quiet(0);
  errno = saved;
  return r;
}

void freeaddrinfo(struct addrinfo* ai) {
  static FreeaddrinfoFn real_fn;
  FreeaddrinfoFn real = __atomic_load_n(&real_fn, __ATOMIC_ACQUIRE);
  if (real == NULL) {
    real = (FreeaddrinfoFn)dlsym(RTLD_NEXT, "freeaddrinfo");
    __atomic_store_n(&real_fn, real, __ATOMIC_RELEASE);
  }
  if (real == NULL) return;
  Quiet(1);
  real(ai);
  Quiet(0);
}
