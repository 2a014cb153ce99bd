/* F-libuv-17: when getaddrinfo fails with EAI_SYSTEM, uv_getaddrinfo() returns the
 * errno behind it (uv__getaddrinfo_translate_error: EAI_SYSTEM -> UV__ERR(errno)),
 * here UV_EMFILE: the same code a failed socket() gives, so a libuv program cannot
 * tell that the lookup failed (libuv has UV_EAI_* codes for every other failure).
 * Rule (netutil SPEC BIND-029, BIND-005): a resolver failure with EAI_SYSTEM is
 * still a resolve error, carrying EAI_SYSTEM and the errno behind it.
 * A real EAI_SYSTEM: with no fd free (RLIMIT_NOFILE at the lowest free fd) glibc's
 * name services cannot open /etc/hosts nor a DNS socket: getaddrinfo("name.test")
 * gives EAI_SYSTEM with errno EMFILE (glibc 2.36; once NSS is set up: the lookup
 * before the limit reads nsswitch.conf). As root, the program re-runs itself in a
 * private mount namespace whose /etc/hosts says "127.0.0.1 name.test" and whose
 * nsswitch.conf says "hosts: files dns" (unshare(1), mount(8)); exit 2 without.
 * Build and run: cc F-libuv-17-eai-system-becomes-plain-errno.c $(pkg-config --cflags --libs
 * libuv) && ./a.out (exit 0: reproduced) */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

static const char* kScript =
    "mount --bind \"$1\" /etc/hosts && mount --bind \"$2\" /etc/nsswitch.conf && exec \"$3\"";

static void in_namespace(const char* self) {
  const char* dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : P_tmpdir;
  char hosts[4096], nss[4096];
  snprintf(hosts, sizeof hosts, "%s/f-libuv-17-hosts-XXXXXX", dir);
  snprintf(nss, sizeof nss, "%s/f-libuv-17-nsswitch-XXXXXX", dir);
  int h = mkstemp(hosts), n = mkstemp(nss);
  if (h < 0 || n < 0 || write(h, "127.0.0.1 name.test\n", 20) != 20 ||
      write(n, "hosts: files dns\n", 17) != 17) {
    printf("cannot write the name's files\n");
    exit(2);
  }
  close(h);
  close(n);
  setenv("F_LIBUV_INSIDE", "1", 1);
  pid_t pid = fork();
  if (pid == 0) {
    execlp("unshare", "unshare", "--mount", "--net", "sh", "-c", kScript, "sh", hosts, nss, self,
           (char*)NULL);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  unlink(hosts);
  unlink(nss);
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
    printf("cannot make the name (needs root, unshare, mount)\n");
    exit(2);
  }
  exit(WEXITSTATUS(status));
}

int main(int argc, char** argv) {
  (void)argc;
  if (getenv("F_LIBUV_INSIDE") == NULL) in_namespace(argv[0]);
  uv_loop_t* loop = uv_default_loop();
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_flags = AI_PASSIVE;
  hints.ai_socktype = SOCK_STREAM;
  uv_getaddrinfo_t req;
  int rc = uv_getaddrinfo(loop, &req, NULL, "name.test", "0", &hints); /* fds free */
  if (rc != 0) {
    printf("uv_getaddrinfo(\"name.test\") with fds free: %s\n", uv_err_name(rc));
    return 1;
  }
  uv_freeaddrinfo(req.addrinfo);
  struct rlimit saved, limited;
  getrlimit(RLIMIT_NOFILE, &saved);
  int lowest_free = open("/dev/null", O_RDONLY);
  close(lowest_free);
  limited = saved;
  limited.rlim_cur = (rlim_t)lowest_free;
  setrlimit(RLIMIT_NOFILE, &limited); /* every fd taken */
  struct addrinfo* res = NULL;
  errno = 0;
  int c_rc = getaddrinfo("name.test", "0", &hints, &res);
  int c_errno = errno;
  if (c_rc == 0) freeaddrinfo(res);
  rc = uv_getaddrinfo(loop, &req, NULL, "name.test", "0", &hints);
  setrlimit(RLIMIT_NOFILE, &saved);
  if (rc == 0) {
    uv_freeaddrinfo(req.addrinfo);
    printf("uv_getaddrinfo(\"name.test\") with no fd free: 0\n");
    return 1;
  }
  printf("uv_getaddrinfo(\"name.test\") with no fd free: %s (%s)\n", uv_err_name(rc),
         uv_strerror(rc));
  printf("  the C library's getaddrinfo(\"name.test\") there: %s, errno %s\n",
         c_rc == EAI_SYSTEM ? "EAI_SYSTEM" : gai_strerror(c_rc), strerror(c_errno));
  printf("expected: a resolver error with EAI_SYSTEM and EMFILE (libuv has no UV_EAI_SYSTEM)\n");
  return c_rc == EAI_SYSTEM && rc == UV_EMFILE ? 0 : 1;
}
