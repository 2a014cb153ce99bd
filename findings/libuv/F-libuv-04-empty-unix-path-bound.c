/* F-libuv-04: uv_pipe_bind(handle, "") succeeds: libuv 1.44 binds a sun_path of
 * 108 NUL bytes with the full address length, that is an abstract name (Linux)
 * that no client will look for; a server with an empty path in its configuration
 * listens where nobody can find it, and a second one fails EADDRINUSE.
 * Rule (netutil SPEC UNIX-012): an empty path is refused before any syscall.
 * Build and run: cc F-libuv-04-empty-unix-path-bound.c $(pkg-config --cflags --libs libuv) &&
 * ./a.out (exit 0: reproduced) */
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <uv.h>

int main(void) {
  uv_pipe_t pipe;
  uv_pipe_init(uv_default_loop(), &pipe, 0);
  int err = uv_pipe_bind(&pipe, "");
  printf("uv_pipe_bind(\"\"): %s\n", err ? uv_err_name(err) : "0");
  int abstract = 0;
  if (err == 0) {
    uv_os_fd_t fd;
    uv_fileno((uv_handle_t*)&pipe, &fd);
    struct sockaddr_un sa;
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr*)&sa, &len);
    size_t nuls = 0;
    for (size_t i = 0; i < len - sizeof sa.sun_family; i++) nuls += sa.sun_path[i] == '\0';
    abstract = sa.sun_path[0] == '\0' && len > sizeof sa.sun_family;
    printf("bound to an abstract name (getsockname): %zu bytes, %zu of them NUL\n",
           (size_t)(len - sizeof sa.sun_family), nuls);
  }
  printf("expected: an error (invalid argument: empty path)\n");
  uv_close((uv_handle_t*)&pipe, NULL);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  return abstract ? 0 : 1;
}
