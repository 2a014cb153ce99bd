/* F-libuv-08: on a real EMFILE, libuv's reserve-fd trick (uv__emfile_trick)
 * accepts and closes every queued client: they are lost, closed unanswered, and
 * the connection callback hears nothing. A short fd shortage becomes dropped clients.
 * Rule (netutil SPEC ACCEPT-013, ACCEPT-012): no pending connection is lost to an
 * fd shortage; accepting resumes when fds are free; the shortage is reported.
 * Build and run: cc F-libuv-08-emfile-sheds-queued-clients.c $(pkg-config --cflags --libs libuv) &&
 * ./a.out (exit 0: reproduced) */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

enum { CLIENTS = 5 };
static int accepted, failed;

static void on_close(uv_handle_t* h) { free(h); }

static void on_connection(uv_stream_t* server, int status) {
  if (status < 0) {
    failed++;
    return;
  }
  uv_tcp_t* c = malloc(sizeof *c);
  uv_tcp_init(server->loop, c);
  if (uv_accept(server, (uv_stream_t*)c) == 0) {
    accepted++;
    uv_os_fd_t fd;
    uv_fileno((uv_handle_t*)c, &fd);
    (void)!write(fd, "hello\n", 6);
  }
  uv_close((uv_handle_t*)c, on_close);
}

static void run_for(uv_loop_t* loop, uint64_t ms) {
  uint64_t end = uv_now(loop) + ms;
  while (uv_now(loop) < end) {
    uv_run(loop, UV_RUN_NOWAIT);
    usleep(10000);
    uv_update_time(loop);
  }
}

int main(void) {
  struct rlimit rl = {256, 256}; /* a small fd limit, so that using it up is quick */
  setrlimit(RLIMIT_NOFILE, &rl);
  uv_loop_t* loop = uv_default_loop();
  uv_tcp_t server;
  struct sockaddr_in sa;
  int len = sizeof sa;
  uv_ip4_addr("127.0.0.1", 0, &sa);
  uv_tcp_init(loop, &server);
  uv_tcp_bind(&server, (struct sockaddr*)&sa, 0);
  uv_listen((uv_stream_t*)&server, 128, on_connection);
  uv_tcp_getsockname(&server, (struct sockaddr*)&sa, &len);

  int client[CLIENTS], held[256], nheld = 0;
  for (int i = 0; i < CLIENTS; i++) client[i] = socket(AF_INET, SOCK_STREAM, 0);
  /* Use up every fd: a real EMFILE while the clients queue. */
  while (nheld < 256 && (held[nheld] = open("/dev/null", O_RDONLY)) >= 0) nheld++;
  printf("fds used up (%s); %d clients connect\n", errno == EMFILE ? "EMFILE" : "?", CLIENTS);
  for (int i = 0; i < CLIENTS; i++) connect(client[i], (struct sockaddr*)&sa, sizeof sa);
  run_for(loop, 300);
  for (int i = 0; i < nheld; i++) close(held[i]);
  printf("fds freed after 300 ms\n");
  run_for(loop, 300);

  int unanswered = 0, greeted = 0;
  for (int i = 0; i < CLIENTS; i++) {
    char buf[16];
    ssize_t n = recv(client[i], buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0)
      greeted++;
    else if (n == 0 || errno == ECONNRESET)
      unanswered++;
  }
  printf("server: %d connections accepted, %d callbacks with an error\n", accepted, failed);
  printf("clients: %d closed unanswered, %d greeted\n", unanswered, greeted);
  printf("expected: %d connections accepted once fds are free, %d clients greeted\n", CLIENTS,
         CLIENTS);
  return accepted < CLIENTS ? 0 : 1;
}
