/* The syscall tracer's test program: every call the tracer should see is a
 * raw syscall(SYS_...), so no C library function could be interposed on
 * them; built dynamic and -static. Prints "<call> <return> <errno>" a line,
 * for the test to compare with what the tracer recorded and injected.
 *
 *   raw_syscall_probe net        the socket calls, and a thread's socket
 *   raw_syscall_probe exit       exits 3 at once (makes no traced call)
 *   raw_syscall_probe sleep      sleeps 60 s (for Stop)
 *   raw_syscall_probe fork       a child process makes a socket
 *   raw_syscall_probe loop N     N socket+close pairs (the overhead figure)
 *   raw_syscall_probe threads N  4 threads, N socket+close pairs each
 *   raw_syscall_probe files DIR  the *at calls, stat and statx in DIR
 *   raw_syscall_probe epoll      epoll_create1, epoll_ctl, epoll_pwait
 *   raw_syscall_probe signal     a timer signal interrupts epoll_wait
 *   raw_syscall_probe tree       a child in its own session; both sleep 60 s
 *   raw_syscall_probe badptr     calls with pointers to nowhere (EFAULT)
 *   raw_syscall_probe quiet      a socket inside the quiet marker, one outside
 *   raw_syscall_probe stdin      a socket, a read of stdin, a socket
 *   raw_syscall_probe swaprace DIR  makes DIR/sub; a 400 ms epoll_pwait, during
 *                                which another thread makes a quick one and
 *                                looks at sub; then looks at sub again
 *   raw_syscall_probe fionbio    ioctl(FIONBIO) on a socket, close_range over it
 *   raw_syscall_probe gai        the C library's getaddrinfo("localhost"), then a socket
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long Report(const char* name, long ret) {
  printf("%s %ld %d\n", name, ret, ret < 0 ? errno : 0);
  fflush(stdout);
  return ret;
}

static void* ThreadMain(void* arg) {
  (void)arg;
  long fd = Report("thread_socket", syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0));
  if (fd >= 0) syscall(SYS_close, fd);
  return NULL;
}

static int Net(void) {
  long fd =
      Report("socket", syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int one = 1;
  Report("setsockopt", syscall(SYS_setsockopt, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Report("bind", syscall(SYS_bind, fd, &a, sizeof a));
  Report("listen", syscall(SYS_listen, fd, 16));
  socklen_t len = sizeof a;
  if (Report("getsockname", syscall(SYS_getsockname, fd, &a, &len)) == 0) {
    printf("port %d 0\n", ntohs(a.sin_port));
  }
  struct sockaddr_in peer;
  len = sizeof peer;
  Report("accept4", syscall(SYS_accept4, fd, &peer, &len, SOCK_CLOEXEC));
  pthread_t t;
  if (pthread_create(&t, NULL, ThreadMain, NULL) == 0) pthread_join(t, NULL);
  Report("close", syscall(SYS_close, fd));
  /* EBADF here proves the fd was really closed, whatever close said. */
  Report("fcntl_after_close", syscall(SYS_fcntl, fd, F_GETFD));
  return 0;
}

static int Fork(void) {
  long pid = syscall(SYS_fork);
  if (pid == 0) {
    long fd = syscall(SYS_socket, AF_INET6, SOCK_STREAM, 0);
    syscall(SYS_exit_group, fd >= 0 ? 0 : 1);
  }
  int status = 0;
  waitpid((pid_t)pid, &status, 0);
  Report("child_exit", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return 0;
}

static long loops;

static void* LoopThread(void* arg) {
  (void)arg;
  for (long i = 0; i < loops; ++i) {
    long fd = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return (void*)1;
    syscall(SYS_close, fd);
  }
  return NULL;
}

static int Threads(long n) {
  pthread_t t[4];
  int bad = 0;
  loops = n;
  for (int i = 0; i < 4; ++i) pthread_create(&t[i], NULL, LoopThread, NULL);
  for (int i = 0; i < 4; ++i) {
    void* r = NULL;
    pthread_join(t[i], &r);
    bad += r != NULL;
  }
  return bad;
}

static int Files(const char* dir) {
  long dfd =
      Report("openat", syscall(SYS_openat, AT_FDCWD, dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  Report("mkdirat", syscall(SYS_mkdirat, dfd, "sub", 0700));
  Report("umask", syscall(SYS_umask, 022));
  long f =
      Report("openat_file", syscall(SYS_openat, dfd, "f", O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  syscall(SYS_close, f);
  Report("fchmodat", syscall(SYS_fchmodat, dfd, "f", 0640));
  /* fchmodat2 (Linux 6.6); ENOSYS on older kernels, traced either way. */
  Report("fchmodat2", syscall(452, dfd, "f", 0640, 0));
  Report("renameat2", syscall(SYS_renameat2, dfd, "f", dfd, "g", 1 /* RENAME_NOREPLACE */));
  struct stat st;
  Report("newfstatat", syscall(SYS_newfstatat, dfd, "g", &st, AT_SYMLINK_NOFOLLOW));
  struct statx sx;
  Report("statx", syscall(SYS_statx, dfd, "g", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
  Report("unlinkat", syscall(SYS_unlinkat, dfd, "g", 0));
  Report("unlinkat_dir", syscall(SYS_unlinkat, dfd, "sub", AT_REMOVEDIR));
  return 0;
}

static int Epoll(void) {
  long ep = Report("epoll_create1", syscall(SYS_epoll_create1, EPOLL_CLOEXEC));
  long fd = Report("socket", syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLOUT;
  ev.data.fd = (int)fd;
  Report("epoll_ctl", syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, fd, &ev));
  struct epoll_event ready[4];
  Report("epoll_pwait", syscall(SYS_epoll_pwait, ep, ready, 4, 0, NULL, 8));
  return 0;
}

static volatile sig_atomic_t alarms;
static void OnAlarm(int sig) {
  (void)sig;
  alarms++;
}

/* The signal must reach the program through the tracer, and epoll_wait
 * (never restarted by the kernel) must say EINTR. */
static int Signal(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnAlarm;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  long ep = syscall(SYS_epoll_create1, 0);
  struct itimerval t = {{0, 0}, {0, 50000}};
  setitimer(ITIMER_REAL, &t, NULL);
  struct epoll_event ev[1];
  Report("epoll_wait", syscall(SYS_epoll_wait, ep, ev, 1, 3000));
  Report("alarms", alarms);
  return 0;
}

/* The tracer reads what it can of odd pointers and never crashes. */
static int BadPointers(void) {
  long fd = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
  Report("bind_bad", syscall(SYS_bind, fd, (void*)8, 16));
  Report("getsockname_bad", syscall(SYS_getsockname, fd, (void*)8, (void*)16));
  Report("unlink_bad", syscall(SYS_unlink, (void*)8));
  return 0;
}

/* A child that left the process group: Stop must kill it all the same. */
static int Tree(void) {
  struct timespec ts = {60, 0};
  long pid = syscall(SYS_fork);
  if (pid == 0) {
    syscall(SYS_setsid);
    syscall(SYS_nanosleep, &ts, NULL);
    syscall(SYS_exit_group, 0);
  }
  Report("child", pid);
  syscall(SYS_nanosleep, &ts, NULL);
  return 0;
}

static int Loop(long n) {
  for (long i = 0; i < n; ++i) {
    long fd = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 1;
    syscall(SYS_close, fd);
  }
  return 0;
}

/* prctl(0x4E555100, on): the tracer's quiet marker (syscall_tracer.h). */
#define QUIET_PRCTL 0x4E555100

static int Quiet(void) {
  Report("query", syscall(SYS_prctl, QUIET_PRCTL, 2, 0, 0, 0));
  Report("begin", syscall(SYS_prctl, QUIET_PRCTL, 1, 0, 0, 0));
  Report("quiet_socket", syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
  Report("end", syscall(SYS_prctl, QUIET_PRCTL, 0, 0, 0, 0));
  Report("socket", syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
  return 0;
}

/* Faults and the trace start with the first data read from stdin. */
static int Stdin(void) {
  char buf[64];
  Report("early_socket", syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
  Report("read", syscall(SYS_read, 0, buf, sizeof buf));
  Report("socket", syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
  return 0;
}

/* The "after" swap belongs to the call that matched its rule: another
 * thread's call returning meanwhile must not make it happen early. */
static long swap_dfd;
static int SubIsFile(void) {
  struct stat st;
  if (syscall(SYS_newfstatat, swap_dfd, "sub", &st, AT_SYMLINK_NOFOLLOW) != 0) return -1;
  return S_ISREG(st.st_mode) ? 1 : 0;
}
static void* QuickWaiter(void* ep) {
  struct timespec pause = {0, 100 * 1000 * 1000};
  nanosleep(&pause, NULL);
  struct epoll_event ready[4];
  Report("epoll_pwait_quick", syscall(SYS_epoll_pwait, (long)ep, ready, 4, 0, NULL, 8));
  Report("file_while_waiting", SubIsFile());
  return NULL;
}
static int SwapRace(const char* dir) {
  swap_dfd = syscall(SYS_openat, AT_FDCWD, dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  Report("mkdirat", syscall(SYS_mkdirat, swap_dfd, "sub", 0700));
  long ep = Report("epoll_create1", syscall(SYS_epoll_create1, EPOLL_CLOEXEC));
  pthread_t t;
  pthread_create(&t, NULL, QuickWaiter, (void*)ep);
  struct epoll_event ready[4];
  Report("epoll_pwait_long", syscall(SYS_epoll_pwait, ep, ready, 4, 400, NULL, 8));
  pthread_join(t, NULL);
  Report("file_after", SubIsFile());
  return 0;
}

/* How CPython and libuv make a socket nonblocking, and how a runtime closes
 * fds in bulk: ioctl(FIONBIO) and close_range. */
static int Fionbio(void) {
  long fd = Report("socket", syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
  int on = 1;
  Report("ioctl", syscall(SYS_ioctl, fd, FIONBIO, &on));
  long fl = syscall(SYS_fcntl, fd, F_GETFL, 0);
  Report("nonblock", fl < 0 ? fl : (fl & O_NONBLOCK) != 0);
  Report("close_range", syscall(SYS_close_range, fd, fd, 0));
  Report("fcntl_after", syscall(SYS_fcntl, fd, F_GETFL, 0));
  return 0;
}

/* The one C library function of the probe: what getaddrinfo does inside.
 * Dynamic only: a static glibc needs its shared NSS modules for it. */
static int Gai(void) {
#ifdef RAW_PROBE_STATIC
  return 2;
#else
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  struct addrinfo* res = NULL;
  const int r = getaddrinfo("localhost", "80", &hints, &res);
  printf("gai %d 0\n", r);
  fflush(stdout);
  if (r == 0) freeaddrinfo(res);
  Report("socket", syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
  return 0;
#endif
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "net";
  if (strcmp(mode, "net") == 0) return Net();
  if (strcmp(mode, "fork") == 0) return Fork();
  if (strcmp(mode, "files") == 0 && argc > 2) return Files(argv[2]);
  if (strcmp(mode, "epoll") == 0) return Epoll();
  if (strcmp(mode, "threads") == 0 && argc > 2) return Threads(atol(argv[2]));
  if (strcmp(mode, "signal") == 0) return Signal();
  if (strcmp(mode, "tree") == 0) return Tree();
  if (strcmp(mode, "badptr") == 0) return BadPointers();
  if (strcmp(mode, "quiet") == 0) return Quiet();
  if (strcmp(mode, "stdin") == 0) return Stdin();
  if (strcmp(mode, "swaprace") == 0 && argc > 2) return SwapRace(argv[2]);
  if (strcmp(mode, "fionbio") == 0) return Fionbio();
  if (strcmp(mode, "gai") == 0) return Gai();
  if (strcmp(mode, "exit") == 0) syscall(SYS_exit_group, 3);
  if (strcmp(mode, "loop") == 0) return Loop(argc > 2 ? atol(argv[2]) : 10000);
  if (strcmp(mode, "sleep") == 0) {
    struct timespec ts = {60, 0};
    syscall(SYS_nanosleep, &ts, NULL);
    return 0;
  }
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}
