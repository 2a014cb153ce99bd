/* F-libuv-10: accept4() failing with EPROTO (accept(2): Linux passes pending
 * network errors of the new connection through accept; treat them like EAGAIN)
 * reaches the connection callback as a failure (status UV_EPROTO), while
 * ECONNABORTED, the same kind of per-connection error, is skipped inside libuv;
 * a server written as libuv's docs show treats status < 0 as fatal. EPROTO cannot
 * be provoked on demand, so the program re-runs itself under strace, which makes
 * the first accept4 fail with it (strace(1) needed; last resort).
 * Rule (netutil SPEC ACCEPT-010): EPROTO and the other per-connection errors
 * accept(2) lists are skipped like ECONNABORTED.
 * Build and run: cc F-libuv-10-eproto-reaches-callback.c $(pkg-config --cflags --libs libuv) &&
 * ./a.out (exit 0: reproduced) */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

static int eproto, accepted;

static void on_connection(uv_stream_t* server, int status) {
  printf("connection callback, status %s\n", status ? uv_err_name(status) : "0");
  if (status == UV_EPROTO) eproto++;
  if (status < 0) return;
  uv_tcp_t* c = malloc(sizeof *c);
  uv_tcp_init(server->loop, c);
  if (uv_accept(server, (uv_stream_t*)c) == 0) accepted++;
  uv_close((uv_handle_t*)c, (uv_close_cb)free);
  if (accepted == 2) uv_stop(server->loop);
}

int main(int argc, char** argv) {
  (void)argc;
  if (!getenv("F_LIBUV_10_INSIDE")) {
    setenv("F_LIBUV_10_INSIDE", "1", 1);
    execlp("strace", "strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=accept4", "-e",
           "inject=accept4:error=EPROTO:when=1", argv[0], (char*)NULL);
    perror("cannot run strace");
    return 2;
  }
  uv_loop_t* loop = uv_default_loop();
  uv_tcp_t server;
  struct sockaddr_in sa;
  int len = sizeof sa;
  uv_ip4_addr("127.0.0.1", 0, &sa);
  uv_tcp_init(loop, &server);
  uv_tcp_bind(&server, (struct sockaddr*)&sa, 0);
  uv_listen((uv_stream_t*)&server, 128, on_connection);
  uv_tcp_getsockname(&server, (struct sockaddr*)&sa, &len);
  /* Three clients queue; the first accept4 fails with EPROTO. */
  for (int i = 0; i < 3; i++)
    connect(socket(AF_INET, SOCK_STREAM, 0), (struct sockaddr*)&sa, sizeof sa);
  uv_run(loop, UV_RUN_DEFAULT);
  printf(
      "expected: no callback for the failed connection (skipped as ECONNABORTED is), then the next "
      "ones\n");
  return eproto ? 0 : 1;
}
