/* F-libuv-09: accept4() failing with ENOBUFS (or ENOMEM: socket memory short) goes
 * to the connection callback and uv__server_io accepts again at once, inside the
 * same callback of the loop: no pause, no other handle runs; an ENOBUFS that lasts
 * never lets uv_run return. The shortage cannot be provoked on demand, so the
 * program re-runs itself under strace, which makes the first 1000 accept4 calls
 * fail with it (strace(1) needed; last resort for a fault a test cannot cause).
 * Rule (netutil SPEC ACCEPT-011, ACCEPT-012): ENOBUFS/ENOMEM pause accepting for a
 * back-off (default 1 s); one report per back-off period.
 * Build and run: cc F-libuv-09-enobufs-busy-loop.c $(pkg-config --cflags --libs libuv) && ./a.out
 * (exit 0: reproduced) */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

enum { FAULTS = 1000 };
static int errors, accepted, iterations, errors_in_one_iteration, iteration_of_first_error = -1;

static void on_check(uv_check_t* h) {
  (void)h;
  iterations++;
}

static void on_connection(uv_stream_t* server, int status) {
  if (status < 0) {
    if (errors++ == 0) {
      printf("first callback status: %s\n", uv_err_name(status));
      iteration_of_first_error = iterations;
    }
    if (iterations == iteration_of_first_error) errors_in_one_iteration++;
    return;
  }
  uv_tcp_t* c = malloc(sizeof *c);
  uv_tcp_init(server->loop, c);
  if (uv_accept(server, (uv_stream_t*)c) == 0) accepted++;
  uv_close((uv_handle_t*)c, (uv_close_cb)free);
  uv_stop(server->loop);
}

int main(int argc, char** argv) {
  (void)argc;
  if (!getenv("F_LIBUV_09_INSIDE")) {
    setenv("F_LIBUV_09_INSIDE", "1", 1);
    char inject[64];
    snprintf(inject, sizeof inject, "inject=accept4:error=ENOBUFS:when=1..%d", FAULTS);
    execlp("strace", "strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=accept4", "-e", inject,
           argv[0], (char*)NULL);
    perror("cannot run strace");
    return 2;
  }
  uv_loop_t* loop = uv_default_loop();
  uv_tcp_t server;
  uv_check_t check;
  struct sockaddr_in sa;
  int len = sizeof sa;
  uv_ip4_addr("127.0.0.1", 0, &sa);
  uv_tcp_init(loop, &server);
  uv_tcp_bind(&server, (struct sockaddr*)&sa, 0);
  uv_listen((uv_stream_t*)&server, 128, on_connection);
  uv_tcp_getsockname(&server, (struct sockaddr*)&sa, &len);
  uv_check_init(loop, &check);
  uv_check_start(&check, on_check);
  int client = socket(AF_INET, SOCK_STREAM, 0);
  connect(client, (struct sockaddr*)&sa, sizeof sa);
  uv_run(loop, UV_RUN_DEFAULT);
  printf(
      "%d callbacks with an error, %d of them in one iteration of the loop (no other handle ran)\n",
      errors, errors_in_one_iteration);
  printf("then accepted: %d\n", accepted);
  printf("expected: one report, then a pause of the back-off before the next accept4\n");
  return errors_in_one_iteration == FAULTS ? 0 : 1;
}
