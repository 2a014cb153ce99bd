/* F-libuv-06: uv_listen() with a negative backlog succeeds: -1 goes to listen(2),
 * which Linux takes as its maximum (net.core.somaxconn), the opposite of a small
 * queue; the same for a pipe.
 * Rule (netutil SPEC BIND-022, UNIX-013): a negative backlog is an argument error.
 * Build and run: cc F-libuv-06-negative-backlog-passed-on.c $(pkg-config --cflags --libs libuv) &&
 * ./a.out (exit 0: reproduced; uses ss(8) to read the kernel's backlog) */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

static long somaxconn(void) {
  long v = -1;
  FILE* f = fopen("/proc/sys/net/core/somaxconn", "r");
  if (f && fscanf(f, "%ld", &v) != 1) v = -1;
  if (f) fclose(f);
  return v;
}

/* ss shows a listener's backlog in the Send-Q column. */
static long backlog_of(const char* ss_args) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "ss -lH %s 2>/dev/null", ss_args);
  FILE* p = popen(cmd, "r");
  char netid[32], state[32];
  long recvq = 0, sendq = -1;
  if (!p) return -1;
  if (fscanf(p, "%31s %31s %ld %ld", netid, state, &recvq, &sendq) != 4) {
    /* ss -t prints no Netid column */
    sendq = -1;
  }
  pclose(p);
  return sendq;
}

int main(void) {
  uv_loop_t* loop = uv_default_loop();
  uv_tcp_t tcp;
  uv_tcp_init(loop, &tcp);
  struct sockaddr_in sa;
  uv_ip4_addr("127.0.0.1", 0, &sa);
  uv_tcp_bind(&tcp, (struct sockaddr*)&sa, 0);
  int err = uv_listen((uv_stream_t*)&tcp, -1, NULL);
  int len = sizeof sa;
  uv_tcp_getsockname(&tcp, (struct sockaddr*)&sa, &len);
  char args[128];
  snprintf(args, sizeof args, "-A inet 'sport = :%d'", ntohs(sa.sin_port));
  long tb = backlog_of(args);
  printf("TCP  uv_listen(backlog -1): %s; the kernel's backlog is %s\n",
         err ? uv_err_name(err) : "0",
         tb == somaxconn() ? "net.core.somaxconn, its maximum" : "something else");

  char dir[] = "/tmp/f-libuv-06-XXXXXX", path[64];
  if (!mkdtemp(dir)) return 2;
  snprintf(path, sizeof path, "%s/s.sock", dir);
  uv_pipe_t pipe;
  uv_pipe_init(loop, &pipe, 0);
  uv_pipe_bind(&pipe, path);
  int perr = uv_listen((uv_stream_t*)&pipe, -1, NULL);
  snprintf(args, sizeof args, "-x src %s", path);
  long pb = backlog_of(args);
  printf("pipe uv_listen(backlog -1): %s; the kernel's backlog is %s\n",
         perr ? uv_err_name(perr) : "0",
         pb == somaxconn() ? "net.core.somaxconn, its maximum" : "something else");
  printf("expected: an error (UV_EINVAL), no listener\n");
  uv_close((uv_handle_t*)&tcp, NULL);
  uv_close((uv_handle_t*)&pipe, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  unlink(path);
  rmdir(dir);
  return err == 0 && perr == 0 ? 0 : 1;
}
