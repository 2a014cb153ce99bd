/* F-libuv-01: uv_pipe_bind() fails with EADDRINUSE on a stale socket file (one
 * whose server is gone), so a libuv server restarted after a crash cannot start.
 * Rule (netutil SPEC UNIX-003): a socket file nobody listens on is replaced.
 * Build and run: cc F-libuv-01-stale-unix-socket-not-replaced.c $(pkg-config --cflags --libs libuv)
 * && ./a.out (exit 0: reproduced) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

int main(void) {
  char dir[] = "/tmp/f-libuv-01-XXXXXX", path[128];
  if (!mkdtemp(dir)) return 2;
  snprintf(path, sizeof path, "%s/s.sock", dir);

  /* A server that crashed: its socket file stays, nobody listens on it. */
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  strcpy(sa.sun_path, path);
  int old = socket(AF_UNIX, SOCK_STREAM, 0);
  if (bind(old, (struct sockaddr*)&sa, sizeof sa) != 0 || listen(old, 1) != 0) return 2;
  close(old);
  printf("a stale socket file is at <dir>/s.sock (its listener closed)\n");

  uv_pipe_t pipe;
  uv_pipe_init(uv_default_loop(), &pipe, 0);
  int err = uv_pipe_bind(&pipe, path);
  if (err == 0) err = uv_listen((uv_stream_t*)&pipe, 16, NULL);
  printf("uv_pipe_bind + uv_listen(\"<dir>/s.sock\"): %s\n",
         err ? uv_err_name(err) : "0 (listening)");
  printf("expected: the stale socket file is replaced and the server listens\n");
  uv_close((uv_handle_t*)&pipe, NULL);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  unlink(path);
  rmdir(dir);
  return err == UV_EADDRINUSE ? 0 : 1;
}
