/* The adapter's own observations of the kernel: open fds, a listener's
 * address and props. Each runs inside the syscall tracer's quiet marker, so
 * it is neither faulted nor traced as libuv's call. */
#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "adapter.h"

/* tools/tracer/include/netutil/tracer/quiet_marker.h (a C++ header): under
 * the tracer prctl(0x4E555100, 1/0) brackets a thread's own observations;
 * elsewhere the kernel answers EINVAL and nothing happens. Under the
 * interposer (--mode process) the same bracket is its netfault_quiet(1/0),
 * found with dlsym (absent otherwise). */
#define QUIET_PRCTL 0x4E555100

static void interposer_quiet(int on) {
  static void (*quiet)(int);
  static bool looked;
  if (!looked) {
    *(void**)&quiet = dlsym(RTLD_DEFAULT, "netfault_quiet");
    looked = true;
  }
  if (quiet != NULL) quiet(on);
}

void quiet_begin(void) {
  (void)prctl(QUIET_PRCTL, 1, 0, 0, 0);
  interposer_quiet(1);
}
void quiet_end(void) {
  interposer_quiet(0);
  (void)prctl(QUIET_PRCTL, 0, 0, 0, 0);
}

int count_open_fds(void) {
  quiet_begin();
  int n = -1;
  DIR* d = opendir("/proc/self/fd");
  if (d != NULL) {
    n = 0;
    struct dirent* e;
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
    --n; /* the directory's own fd */
  } else if (errno == EMFILE || errno == ENFILE) {
    /* No fd free to read the directory: each number looked at without
     * opening one, up to the hard limit (fds may sit above a lowered soft
     * one), bounded. */
    struct rlimit rl;
    long top = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
        rl.rlim_max < (rlim_t)top)
      top = (long)rl.rlim_max;
    n = 0;
    for (long fd = 0; fd < top; ++fd) {
      if (fcntl((int)fd, F_GETFD) != -1) ++n;
    }
  }
  quiet_end();
  return n;
}

/* A unix name as the protocol writes it: an abstract name's leading NUL as "@". */
static void unix_text(const char* path, size_t len, char* out, size_t out_len) {
  if (len > 0 && path[0] == '\0') {
    snprintf(out, out_len, "unix:@%.*s", (int)(len - 1), path + 1);
  } else {
    snprintf(out, out_len, "unix:%.*s", (int)len, path);
  }
}

static void inet6_host(const struct sockaddr_in6* a, char* out, size_t out_len) {
  char host[INET6_ADDRSTRLEN] = "";
  inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
  if (a->sin6_scope_id != 0) {
    snprintf(out, out_len, "%s%%%u", host, a->sin6_scope_id);
  } else {
    snprintf(out, out_len, "%s", host);
  }
}

/* The path part of a sockaddr_un of length len (without the trailing NULs of
 * a path; an abstract name keeps its bytes). */
static size_t unix_path_len(const struct sockaddr_un* a, socklen_t len) {
  size_t n = len > offsetof(struct sockaddr_un, sun_path)
                 ? (size_t)len - offsetof(struct sockaddr_un, sun_path)
                 : 0;
  if (n > 0 && a->sun_path[0] != '\0') n = strnlen(a->sun_path, n);
  return n;
}

void sockaddr_text(const struct sockaddr* sa, socklen_t len, char* out, size_t out_len) {
  char host[INET6_ADDRSTRLEN + 16] = "";
  switch (sa->sa_family) {
    case AF_INET: {
      const struct sockaddr_in* a = (const struct sockaddr_in*)sa;
      inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
      snprintf(out, out_len, "%s:%u", host, ntohs(a->sin_port));
      return;
    }
    case AF_INET6: {
      const struct sockaddr_in6* a = (const struct sockaddr_in6*)sa;
      inet6_host(a, host, sizeof host);
      snprintf(out, out_len, "[%s]:%u", host, ntohs(a->sin6_port));
      return;
    }
    case AF_UNIX: {
      const struct sockaddr_un* a = (const struct sockaddr_un*)sa;
      unix_text(a->sun_path, unix_path_len(a, len), out, out_len);
      return;
    }
  }
  snprintf(out, out_len, "family %d", sa->sa_family);
}

static json_t* int_option(int fd, int level, int name) {
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(fd, level, name, &v, &len) != 0) return json_null();
  return json_boolean(v != 0);
}

/* What the kernel has: fcntl flags and socket options, null when unreadable. */
static json_t* listener_props(int fd, int family) {
  json_t* p = json_object();
  int fl = fcntl(fd, F_GETFL);
  int fdfl = fcntl(fd, F_GETFD);
  json_object_set_new(p, "nonblock", fl < 0 ? json_null() : json_boolean(fl & O_NONBLOCK));
  json_object_set_new(p, "cloexec", fdfl < 0 ? json_null() : json_boolean(fdfl & FD_CLOEXEC));
  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
    json_object_set_new(p, "type", json_null());
  } else {
    json_object_set_new(p, "type",
                        json_string(type == SOCK_STREAM  ? "stream"
                                    : type == SOCK_DGRAM ? "dgram"
                                                         : "other"));
  }
  json_object_set_new(p, "accepting", int_option(fd, SOL_SOCKET, SO_ACCEPTCONN));
  json_object_set_new(p, "reuseaddr", int_option(fd, SOL_SOCKET, SO_REUSEADDR));
  json_object_set_new(p, "reuseport", int_option(fd, SOL_SOCKET, SO_REUSEPORT));
  if (family == AF_INET6)
    json_object_set_new(p, "v6only", int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY));
  return p;
}

static void set_string(json_t* obj, const char* key, const char* s, size_t len) {
  json_t* v = json_stringn(s, len); /* NULL when not UTF-8 */
  json_object_set_new(obj, key, v ? v : json_string(""));
}

/* uv_pipe_getsockname gives a name (NUL-free unless abstract), turned back
 * into a sockaddr_un here. */
int learn_name(listener* l) {
  memset(&l->name, 0, sizeof l->name);
  if (!l->is_pipe) {
    int n = (int)sizeof l->name;
    int rc = uv_tcp_getsockname(&l->h.tcp, (struct sockaddr*)&l->name, &n);
    l->name_len = (socklen_t)n;
    return rc;
  }
  struct sockaddr_un* a = (struct sockaddr_un*)&l->name;
  char name[sizeof a->sun_path + 8]; /* libuv wants room for a NUL after a full name */
  size_t size = sizeof name;
  int rc = uv_pipe_getsockname(&l->h.pipe, name, &size);
  if (rc != 0) return rc;
  if (size > sizeof a->sun_path) size = sizeof a->sun_path;
  memcpy(a->sun_path, name, size);
  a->sun_family = AF_UNIX;
  l->name_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + size);
  return 0;
}

json_t* describe_listener(const listener* l) {
  json_t* d = json_object();
  json_object_set_new(d, "id", json_integer(l->id));
  uv_os_fd_t fd = -1;
  const struct sockaddr_storage ss = l->name;
  const socklen_t len = l->name_len;
  bool named = len > 0 && uv_fileno(&l->h.handle, &fd) == 0;
  quiet_begin();
  json_t* props = named ? listener_props(fd, ss.ss_family) : NULL;
  quiet_end();
  if (!named) {
    json_object_set_new(d, "family", json_string("unknown"));
    json_object_set_new(d, "sockname", json_string(""));
    return d;
  }
  char text[600];
  char host[INET6_ADDRSTRLEN + 16] = "";
  sockaddr_text((struct sockaddr*)&ss, len, text, sizeof text);
  if (ss.ss_family == AF_INET) {
    const struct sockaddr_in* a = (const struct sockaddr_in*)&ss;
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    json_object_set_new(d, "family", json_string("inet"));
    json_object_set_new(d, "address", json_string(host));
    json_object_set_new(d, "port", json_integer(ntohs(a->sin_port)));
  } else if (ss.ss_family == AF_INET6) {
    const struct sockaddr_in6* a = (const struct sockaddr_in6*)&ss;
    inet6_host(a, host, sizeof host);
    json_object_set_new(d, "family", json_string("inet6"));
    json_object_set_new(d, "address", json_string(host));
    json_object_set_new(d, "port", json_integer(ntohs(a->sin6_port)));
  } else if (ss.ss_family == AF_UNIX) {
    const struct sockaddr_un* a = (const struct sockaddr_un*)&ss;
    json_object_set_new(d, "family", json_string("unix"));
    set_string(d, "path", a->sun_path, unix_path_len(a, len));
  } else {
    json_object_set_new(d, "family", json_string("other"));
  }
  set_string(d, "sockname", text, strlen(text));
  json_object_set_new(d, "props", props);
  return d;
}
