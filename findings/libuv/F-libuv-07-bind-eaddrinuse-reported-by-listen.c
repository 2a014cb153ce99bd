/* F-libuv-07: uv_tcp_bind() on a port in use returns 0: libuv keeps bind's
 * EADDRINUSE (tcp->delayed_error) and uv_listen() returns it, so the error comes
 * from, and is reported as, a step that did not fail (node: syscall "listen").
 * Rule (netutil SPEC BIND-025): an error names the step that failed.
 * Build and run: cc F-libuv-07-bind-eaddrinuse-reported-by-listen.c $(pkg-config --cflags --libs
 * libuv) && ./a.out (exit 0: reproduced) */
#include <netinet/in.h>
#include <stdio.h>
#include <uv.h>

int main(void) {
  uv_loop_t* loop = uv_default_loop();
  uv_tcp_t first, second;
  struct sockaddr_in sa;
  int len = sizeof sa;
  uv_ip4_addr("127.0.0.1", 0, &sa);
  uv_tcp_init(loop, &first);
  uv_tcp_bind(&first, (struct sockaddr*)&sa, 0);
  uv_listen((uv_stream_t*)&first, 16, NULL);
  uv_tcp_getsockname(&first, (struct sockaddr*)&sa, &len);

  uv_tcp_init(loop, &second);
  int bind_err = uv_tcp_bind(&second, (struct sockaddr*)&sa, 0);
  int listen_err = uv_listen((uv_stream_t*)&second, 16, NULL);
  printf("a second uv_tcp_bind to 127.0.0.1:<port in use>: %s\n",
         bind_err ? uv_err_name(bind_err) : "0");
  printf("then uv_listen: %s\n", listen_err ? uv_err_name(listen_err) : "0");
  printf("expected: uv_tcp_bind returns UV_EADDRINUSE (the bind(2) that failed)\n");
  uv_close((uv_handle_t*)&first, NULL);
  uv_close((uv_handle_t*)&second, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  return bind_err == 0 && listen_err == UV_EADDRINUSE ? 0 : 1;
}
