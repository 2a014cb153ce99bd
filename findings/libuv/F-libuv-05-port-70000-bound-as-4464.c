/* F-libuv-05: uv_getaddrinfo() with the service "70000" succeeds and gives port
 * 4464 (70000 - 65536): glibc's getaddrinfo takes any number as a port and keeps
 * its low 16 bits, and libuv passes the service on unchecked, so a server asked to
 * listen on 70000 listens on 4464.
 * Rule (netutil SPEC BIND-019): a port outside 0..65535 is refused before any syscall.
 * Build and run: cc F-libuv-05-port-70000-bound-as-4464.c $(pkg-config --cflags --libs libuv) &&
 * ./a.out (exit 0: reproduced) */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

int main(void) {
  uv_loop_t* loop = uv_default_loop();
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  uv_getaddrinfo_t req;
  int err =
      uv_getaddrinfo(loop, &req, NULL, "127.0.0.1", "70000", &hints); /* no callback: synchronous */
  printf("uv_getaddrinfo(\"127.0.0.1\", \"70000\"): %s\n", err ? uv_err_name(err) : "0");
  if (err) return 1;
  uv_tcp_t tcp;
  uv_tcp_init(loop, &tcp);
  err = uv_tcp_bind(&tcp, req.addrinfo->ai_addr, 0);
  if (err == 0) err = uv_listen((uv_stream_t*)&tcp, 16, NULL);
  struct sockaddr_in sa;
  int len = sizeof sa;
  uv_tcp_getsockname(&tcp, (struct sockaddr*)&sa, &len);
  int port = ntohs(sa.sin_port);
  printf("uv_tcp_bind + uv_listen: %s; the listener's port is %d\n", err ? uv_err_name(err) : "0",
         port);
  printf("expected: an error (port out of range), no listener\n");
  uv_freeaddrinfo(req.addrinfo);
  uv_close((uv_handle_t*)&tcp, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  return err == 0 && port == 70000 - 65536 ? 0 : 1;
}
