/* F-libuv-02: the socket file of uv_pipe_bind() gets 0777 & ~umask (0755 under
 * umask 022, 0775 under 002: connectable by the group); uv_pipe_chmod() can only
 * change it after the file exists, and only to readable/writable by all.
 * Rule (netutil SPEC UNIX-005, UNIX-010): the file has the requested mode, default
 * 0600, from the moment it exists.
 * Build and run: cc F-libuv-02-unix-socket-mode-from-umask.c $(pkg-config --cflags --libs libuv) &&
 * ./a.out (exit 0: reproduced) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

int main(void) {
  char dir[] = "/tmp/f-libuv-02-XXXXXX", path[128];
  if (!mkdtemp(dir)) return 2;
  int wider = 0;
  const mode_t masks[] = {022, 002};
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/s%o.sock", dir, (unsigned)masks[i]);
    mode_t old = umask(masks[i]);
    uv_pipe_t pipe;
    uv_pipe_init(uv_default_loop(), &pipe, 0);
    int err = uv_pipe_bind(&pipe, path);
    umask(old);
    struct stat st;
    if (err != 0 || stat(path, &st) != 0) return 2;
    printf("umask %03o: the socket file's mode is %04o\n", (unsigned)masks[i],
           (unsigned)(st.st_mode & 07777));
    wider |= (st.st_mode & 07777) != 0600;
    uv_close((uv_handle_t*)&pipe, NULL);
    uv_run(uv_default_loop(), UV_RUN_DEFAULT);
    unlink(path);
  }
  rmdir(dir);
  printf("expected: 0600 (or a mode the caller asks for) from the moment the file exists\n");
  return wider ? 0 : 1;
}
