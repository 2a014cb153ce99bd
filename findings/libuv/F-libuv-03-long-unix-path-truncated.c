/* F-libuv-03: a unix socket path longer than sun_path (108 bytes on Linux) is not
 * refused: libuv 1.44 copies what fits (uv__strscpy) and binds that, a shorter
 * path the caller did not name.
 * Rule (netutil SPEC UNIX-012): a path longer than sun_path is refused before any syscall.
 * Build and run: cc F-libuv-03-long-unix-path-truncated.c $(pkg-config --cflags --libs libuv) &&
 * ./a.out (exit 0: reproduced) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

int main(void) {
  char dir[] = "/tmp/f-libuv-03-XXXXXX", path[256];
  if (!mkdtemp(dir)) return 2;
  snprintf(path, sizeof path, "%s/", dir);
  memset(path + strlen(path), 'x', 120);
  path[strlen(dir) + 1 + 120] = '\0';

  uv_pipe_t pipe;
  uv_pipe_init(uv_default_loop(), &pipe, 0);
  int err = uv_pipe_bind(&pipe, path);
  printf("uv_pipe_bind(\"<dir>/\" + 120 x \"x\", %zu bytes): %s\n", strlen(path),
         err ? uv_err_name(err) : "0");
  int cut = 0;
  DIR* d = opendir(dir);
  for (struct dirent* e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    size_t made = strlen(dir) + 1 + strlen(e->d_name);
    cut = made < strlen(path);
    printf("the socket file made is the first %zu bytes of the path asked for\n", made);
    char full[512];
    snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
    unlink(full);
  }
  closedir(d);
  rmdir(dir);
  printf("expected: an error (the path does not fit in sun_path), no socket file\n");
  uv_close((uv_handle_t*)&pipe, NULL);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  return err == 0 && cut ? 0 : 1;
}
