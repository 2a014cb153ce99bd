/* F-libuv-16: an EMFILE that the reserve fd does not ease makes uv__server_io spin
 * for ever. On EMFILE (or ENFILE) from accept4, libuv closes its reserve fd, accepts
 * and closes the queued clients, and reopens the reserve fd (uv__emfile_trick). When
 * the fd it frees cannot be reused, as after an admin's `prlimit --nofile=3:` on the
 * running server (a lower soft limit closes nothing, but no fd at or above it opens
 * again), accept4 fails EMFILE again, the reserve fd cannot be reopened, and
 * uv__server_io calls the connection callback with UV_EMFILE and accepts again at
 * once, in a loop that never returns to the event loop: no timer, no other handle
 * runs, a core at 100 %, until the callback closes the server.
 * Rule (netutil SPEC ACCEPT-011, ACCEPT-012): EMFILE/ENFILE pause accepting on that
 * listener for a back-off; the loop never spins; the error is reported once a period.
 * Build and run: cc F-libuv-16-emfile-under-lowered-limit-spins.c $(pkg-config --cflags
 * --libs libuv) && ./a.out (exit 0: reproduced) */
#include <netinet/in.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

enum { CLIENTS = 2 };
static uv_tcp_t server;
static long callbacks, emfile;
static uint64_t started_ns;
static int closed, timer_ran;

static void on_connection(uv_stream_t* s, int status) {
  callbacks++;
  if (status == UV_EMFILE) emfile++;
  /* A bound for this program alone: after 1 s the server is closed, which ends
   * uv__server_io's loop (the listener's fd is -1 then). Nothing else can. */
  if (!closed && uv_hrtime() - started_ns > 1000000000u) {
    closed = 1;
    uv_close((uv_handle_t*)s, NULL);
  }
}

static void on_timer(uv_timer_t* t) {
  timer_ran = !closed; /* a 100 ms timer: runs when the loop gets back to its timers */
  uv_close((uv_handle_t*)t, NULL);
}

int main(void) {
  uv_loop_t* loop = uv_default_loop();
  struct sockaddr_in sa;
  int len = sizeof sa;
  uv_ip4_addr("127.0.0.1", 0, &sa);
  uv_tcp_init(loop, &server); /* opens libuv's reserve fd too */
  uv_tcp_bind(&server, (struct sockaddr*)&sa, 0);
  uv_listen((uv_stream_t*)&server, 128, on_connection);
  uv_tcp_getsockname(&server, (struct sockaddr*)&sa, &len);
  uv_timer_t timer;
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, on_timer, 100, 0);

  int client[CLIENTS];
  for (int i = 0; i < CLIENTS; i++) {
    client[i] = socket(AF_INET, SOCK_STREAM, 0);
    connect(client[i], (struct sockaddr*)&sa, sizeof sa); /* queued: the loop is not running */
  }
  /* prlimit --nofile=3: on the running server: every fd it has stays open. */
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = 3;
  setrlimit(RLIMIT_NOFILE, &rl);
  printf("soft RLIMIT_NOFILE lowered to 3 (the listener and libuv's reserve fd stay open); "
         "%d clients queued\n", CLIENTS);

  started_ns = uv_hrtime();
  uv_run(loop, UV_RUN_DEFAULT);
  double wall = (uv_hrtime() - started_ns) / 1e9;

  int spun = callbacks > 1000;
  printf("in %s: %s connection callbacks, %s of them UV_EMFILE, inside one uv__server_io\n",
         wall >= 1.0 ? "1 s" : "under 1 s", spun ? "more than 1000" : "at most 1000",
         emfile == callbacks ? "all" : "not all");
  printf("the 100 ms timer %s\n",
         timer_ran ? "ran meanwhile" : "did not run until the server was closed");
  printf("expected: accepting paused for a back-off, 1 callback with the error in 1 s, the "
         "loop idle, the timer run\n");
  return spun && !timer_ran ? 0 : 1;
}
