/* serve: the listener's loop runs, one uv_run(UV_RUN_ONCE) at a time, until
 * the run has its readiness events or its time is up. libuv's own I/O
 * callback (uv__server_io) accepts until EAGAIN and calls the connection
 * callback once per connection, or with the error; the callback uv_accepts
 * the connection into a handle, observes it and closes it. What one loop
 * iteration handed to the callback of one listener is one readiness event.
 *
 * With "listeners" (several listeners on ONE loop, docs/ADAPTER.md, as a
 * libuv program that listens on two ports with one loop): each listener
 * lives on a loop of its own (adapter.h), so the serve makes one loop for
 * the run and opens a handle on it for each listener's socket (a dup of its
 * fd, uv_tcp_open or uv_pipe_open, uv_listen with its backlog: the
 * adapter's plumbing, done quietly); libuv then serves them as it serves any
 * two servers of one loop. At the end those handles are closed (their dups;
 * the listeners stay as they were). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "adapter.h"

enum { kMaxServeListeners = 16 };

typedef struct serve_run {
  json_int_t max_events;
  json_int_t timeout_ms; /* the serve's deadline */
  json_t* batches;
  json_t* event_listeners; /* the listener id of each event; NULL for one listener */
  json_int_t accepted;
  json_t* errors; /* grouped by errno, in order of first report */
  json_t* peers;
  bool nonblock, cloexec;
  bool timed_out;
} serve_run;

/* One listener's handler in a serve: the loop its connections are accepted
 * onto, and what the current loop iteration handed it. */
typedef struct serve_slot {
  serve_run* run;
  uv_loop_t* loop;
  bool is_pipe;
  long long id;
  int connections; /* handed to the callback in this iteration */
  int failures;    /* errors handed to it in this iteration */
  int order;       /* its place among the slots handled in this iteration; -1: none yet */
  int* handled;    /* how many slots this iteration handled so far (shared) */
} serve_slot;

static json_int_t cpu_ms(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (json_int_t)ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000 +
         (json_int_t)ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000;
}

static void record_error(serve_run* run, int status, const char* step) {
  const char* name = uv_err_name(status);
  size_t i;
  json_t* e;
  json_array_foreach(run->errors, i, e) {
    if (strcmp(json_string_value(json_object_get(e, "errno")), name) == 0) {
      json_object_set_new(e, "count",
                          json_integer(json_integer_value(json_object_get(e, "count")) + 1));
      return;
    }
  }
  json_t* obj = uv_error(status, step, step, "");
  json_object_set_new(obj, "count", json_integer(1));
  json_array_append_new(run->errors, obj);
}

static void on_client_closed(uv_handle_t* h) { free(h); }

/* The callback's observation of an accepted connection: its fd flags and
 * its peer, as it got it. */
static void observe(serve_run* run, uv_stream_t* client) {
  uv_os_fd_t fd = -1;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  quiet_begin();
  int fl = -1, fdfl = -1;
  bool peer = false;
  if (uv_fileno((uv_handle_t*)client, &fd) == 0) {
    fl = fcntl(fd, F_GETFL);
    fdfl = fcntl(fd, F_GETFD);
    peer = getpeername(fd, (struct sockaddr*)&ss, &len) == 0;
  }
  quiet_end();
  run->nonblock = run->nonblock && fl >= 0 && (fl & O_NONBLOCK);
  run->cloexec = run->cloexec && fdfl >= 0 && (fdfl & FD_CLOEXEC);
  if (json_array_size(run->peers) < kMaxPeers) {
    char text[600] = "unix:";
    if (peer) sockaddr_text((struct sockaddr*)&ss, len, text, sizeof text);
    json_t* t = json_string(text);
    json_array_append_new(run->peers, t ? t : json_string(""));
  }
}

static void slot_connection(serve_slot* slot, uv_stream_t* server, int status) {
  serve_run* run = slot->run;
  if (slot->order < 0) slot->order = (*slot->handled)++;
  if (status < 0) {
    ++slot->failures;
    record_error(run, status, "accept");
    return;
  }
  uv_stream_t* client = malloc(slot->is_pipe ? sizeof(uv_pipe_t) : sizeof(uv_tcp_t));
  if (client == NULL) {
    ++slot->failures;
    record_error(run, UV_ENOMEM, "accept");
    return;
  }
  if (slot->is_pipe) {
    uv_pipe_init(slot->loop, (uv_pipe_t*)client, 0);
  } else {
    uv_tcp_init(slot->loop, (uv_tcp_t*)client);
  }
  int rc = uv_accept(server, client);
  if (rc != 0) {
    ++slot->failures;
    record_error(run, rc, "accept");
  } else {
    ++slot->connections;
    ++run->accepted;
    observe(run, client);
  }
  uv_close((uv_handle_t*)client, on_client_closed); /* closes the fd now */
}

void serve_on_connection(uv_stream_t* server, int status) {
  listener* l = server->data;
  if (l->slot == NULL) { /* cannot happen: the loop runs only in a serve */
    note("listener %lld: connection callback outside a serve", l->id);
    return;
  }
  slot_connection(l->slot, server, status);
}

static void on_deadline(uv_timer_t* t) {
  serve_run* run = t->data;
  run->timed_out = true;
  uv_stop(t->loop);
}

/* batch and backoff_ms: libuv has neither (it accepts until EAGAIN, and on
 * EMFILE sheds the queue through its reserve fd): type-checked, ignored. */
static bool ignored_serve_fields(json_t* req, protocol_error* err) {
  static const char* const names[] = {"batch", "backoff_ms"};
  for (size_t i = 0; i < 2; ++i) {
    json_int_t v;
    bool present;
    if (!int_field(req, names[i], false, &v, &present, err)) return false;
    if (present) note("%s %lld ignored: libuv has no such parameter", names[i], (long long)v);
  }
  return true;
}

static bool own_int(json_t* req, const char* name, json_int_t def, json_int_t lo, json_int_t hi,
                    json_int_t* value, protocol_error* err) {
  bool present;
  if (!int_field(req, name, false, value, &present, err)) return false;
  if (!present) *value = def;
  if (*value < lo || *value > hi) {
    set_protocol_error(err, name, "%s %lld is outside %lld..%lld", name, (long long)*value,
                       (long long)lo, (long long)hi);
    return false;
  }
  return true;
}

/* active: whether every listener served still listens. */
static json_t* serve_reply(serve_run* run, bool active, uint64_t start_ns, json_int_t cpu0) {
  json_t* r = json_object();
  json_object_set_new(r, "ok", json_true());
  json_object_set_new(r, "events", json_integer((json_int_t)json_array_size(run->batches)));
  json_object_set_new(r, "batches", run->batches);
  if (run->event_listeners != NULL) {
    json_object_set_new(r, "event_listeners", run->event_listeners);
  }
  json_object_set_new(r, "accepted", json_integer(run->accepted));
  json_object_set_new(r, "errors", run->errors);
  json_object_set_new(r, "timed_out", json_boolean(run->timed_out));
  json_object_set_new(r, "active", json_boolean(active));
  json_object_set_new(r, "paused", json_false()); /* libuv never pauses a listener */
  json_object_set_new(r, "exceptions", json_integer(0));
  json_object_set_new(r, "thrown", json_array());
  json_object_set_new(r, "peers", run->peers);
  json_t* conn = json_object();
  json_object_set_new(conn, "nonblock", json_boolean(run->nonblock));
  json_object_set_new(conn, "cloexec", json_boolean(run->cloexec));
  json_object_set_new(r, "conn", conn);
  json_object_set_new(r, "elapsed_ms",
                      json_integer((json_int_t)((uv_hrtime() - start_ns) / 1000000)));
  json_object_set_new(r, "cpu_ms", json_integer(cpu_ms() - cpu0));
  return r;
}

/* The slots one iteration handled, in the order handled: a batch (and its
 * listener, with several) each. Resets them for the next iteration. */
static void record_events(serve_run* run, serve_slot* slots, size_t n, int* handled) {
  for (int k = 0; k < *handled; ++k) {
    for (size_t i = 0; i < n; ++i) {
      if (slots[i].order != k) continue;
      json_array_append_new(run->batches, json_integer(slots[i].connections));
      if (run->event_listeners != NULL) {
        json_array_append_new(run->event_listeners, json_integer(slots[i].id));
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    slots[i].connections = slots[i].failures = 0;
    slots[i].order = -1;
  }
  *handled = 0;
}

/* Runs `loop` one iteration at a time until the run has its events or the
 * deadline timer (already started on it) stopped it, or a listener stopped
 * listening. */
static void run_loop(serve_run* run, uv_loop_t* loop, serve_slot* slots, uv_stream_t** servers,
                     size_t n, int* handled) {
  while ((json_int_t)json_array_size(run->batches) < run->max_events && !run->timed_out) {
    uv_run(loop, UV_RUN_ONCE);
    record_events(run, slots, n, handled);
    for (size_t i = 0; i < n; ++i) {
      if (!uv_is_active((uv_handle_t*)servers[i])) return;
    }
  }
}

static json_t* serve_one(listener* l, serve_run* run) {
  uint64_t start = uv_hrtime();
  json_int_t cpu0 = cpu_ms();
  int handled = 0;
  serve_slot slot = {run, &l->loop, l->is_pipe, l->id, 0, 0, -1, &handled};
  /* The deadline timer stays on the loop, stopped, until the listener closes:
   * closing it now would need one more loop iteration, which could accept. */
  uv_timer_t* timer = &l->deadline;
  if (!l->has_deadline) {
    uv_timer_init(&l->loop, timer);
    l->has_deadline = true;
  }
  timer->data = run;
  uv_update_time(&l->loop); /* the loop's clock stood still since its last run */
  uv_timer_start(timer, on_deadline, (uint64_t)run->timeout_ms, 0);
  l->slot = &slot;
  uv_stream_t* server = &l->h.stream;
  run_loop(run, &l->loop, &slot, &server, 1, &handled);
  l->slot = NULL;
  uv_timer_stop(timer);
  timer->data = NULL;
  return serve_reply(run, uv_is_active(&l->h.handle), start, cpu0);
}

/* A handle of the run's loop on one listener's socket. */
typedef struct proxy {
  stream_handle h;
  bool open;
} proxy;

static void on_proxy_connection(uv_stream_t* server, int status) {
  slot_connection(server->data, server, status);
}

static void on_proxy_closed(uv_handle_t* h) { (void)h; }

/* Opens proxies[i] on `loop` for listener ls[i] (quietly: the adapter's
 * plumbing). 0, or the libuv error with *what naming the call. */
static int open_proxy(uv_loop_t* loop, listener* l, proxy* p, serve_slot* slot, const char** what) {
  uv_os_fd_t fd = -1;
  int rc = uv_fileno(&l->h.handle, &fd);
  *what = "uv_fileno";
  if (rc != 0) return rc;
  quiet_begin();
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  rc = copy < 0 ? UV_EMFILE : 0;
  *what = "dup";
  if (rc == 0) {
    *what = "uv_open";
    rc = l->is_pipe ? uv_pipe_init(loop, &p->h.pipe, 0) : uv_tcp_init(loop, &p->h.tcp);
    if (rc == 0) {
      p->open = true;
      p->h.handle.data = slot;
      rc = l->is_pipe ? uv_pipe_open(&p->h.pipe, copy) : uv_tcp_open(&p->h.tcp, copy);
      if (rc == 0) {
        copy = -1; /* the handle's now */
        *what = "uv_listen";
        rc = uv_listen(&p->h.stream, l->backlog, on_proxy_connection);
      }
    }
  }
  if (copy >= 0) close(copy);
  quiet_end();
  return rc;
}

static json_t* serve_many(listener** ls, size_t n, serve_run* run) {
  uint64_t start = uv_hrtime();
  json_int_t cpu0 = cpu_ms();
  int handled = 0;
  serve_slot slots[kMaxServeListeners];
  proxy proxies[kMaxServeListeners];
  uv_stream_t* servers[kMaxServeListeners];
  memset(proxies, 0, sizeof proxies);
  uv_loop_t loop;
  uv_timer_t timer;
  quiet_begin();
  int rc = uv_loop_init(&loop);
  if (rc == 0) rc = uv_timer_init(&loop, &timer);
  quiet_end();
  if (rc != 0) {
    json_decref(run->batches);
    json_decref(run->event_listeners);
    json_decref(run->errors);
    json_decref(run->peers);
    return error_reply(uv_error(rc, "uv_loop_init", "uv_loop_init", ""));
  }
  json_t* failure = NULL;
  for (size_t i = 0; i < n && failure == NULL; ++i) {
    slots[i] = (serve_slot){run, &loop, ls[i]->is_pipe, ls[i]->id, 0, 0, -1, &handled};
    servers[i] = &proxies[i].h.stream;
    const char* what = "";
    rc = open_proxy(&loop, ls[i], &proxies[i], &slots[i], &what);
    if (rc != 0) failure = uv_error(rc, what, what, "");
  }
  if (failure == NULL) {
    timer.data = run;
    uv_update_time(&loop);
    uv_timer_start(&timer, on_deadline, (uint64_t)run->timeout_ms, 0);
    run_loop(run, &loop, slots, servers, n, &handled);
    uv_timer_stop(&timer);
  }
  /* Every handler removed: the proxies (their dups) and the timer closed. */
  quiet_begin();
  for (size_t i = 0; i < n; ++i) {
    if (proxies[i].open) uv_close(&proxies[i].h.handle, on_proxy_closed);
  }
  uv_close((uv_handle_t*)&timer, on_proxy_closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0) note("serve: the run's loop still busy at close");
  quiet_end();
  if (failure != NULL) {
    json_decref(run->batches);
    json_decref(run->event_listeners);
    json_decref(run->errors);
    json_decref(run->peers);
    return error_reply(failure);
  }
  bool active = true;
  for (size_t i = 0; i < n; ++i) active = active && uv_is_active(&ls[i]->h.handle);
  return serve_reply(run, active, start, cpu0);
}

static listener* find_listener(session* s, json_int_t id) {
  for (listener* l = s->listeners; l != NULL; l = l->next) {
    if (l->id == id) return l;
  }
  return NULL;
}

/* "listeners": 1..kMaxServeListeners distinct ids of the session's
 * listeners, into ls[*n]. false with *err filled otherwise. */
static bool listener_list(session* s, json_t* ids, listener** ls, size_t* n, protocol_error* err) {
  if (!json_is_array(ids)) {
    set_protocol_error(err, "listeners", "listeners must be an array of listener ids");
    return false;
  }
  size_t count = json_array_size(ids);
  if (count < 1 || count > kMaxServeListeners) {
    set_protocol_error(err, "listeners", "listeners must hold 1 to %d ids, got %zu",
                       kMaxServeListeners, count);
    return false;
  }
  for (size_t i = 0; i < count; ++i) {
    json_t* v = json_array_get(ids, i);
    if (!json_is_integer(v)) {
      set_protocol_error(err, "listeners", "listeners[%zu] must be an integer id", i);
      return false;
    }
    json_int_t id = json_integer_value(v);
    listener* l = find_listener(s, id);
    if (l == NULL) {
      set_protocol_error(err, "listeners", "no listener with id %lld", (long long)id);
      return false;
    }
    for (size_t j = 0; j < i; ++j) {
      if (ls[j] == l) {
        set_protocol_error(err, "listeners", "listener %lld is listed twice", (long long)id);
        return false;
      }
    }
    ls[i] = l;
  }
  *n = count;
  return true;
}

json_t* op_serve(session* s, json_t* req, protocol_error* err) {
  static const char* const fields[] = {"listener", "listeners",  "events", "timeout_ms",
                                       "batch",    "backoff_ms", NULL};
  if (!allow_fields(req, "serve", fields, err)) return NULL;
  json_int_t id, events, timeout_ms;
  bool has_id;
  if (!int_field(req, "listener", false, &id, &has_id, err)) return NULL;
  json_t* ids = json_object_get(req, "listeners");
  if (has_id == (ids != NULL)) {
    set_protocol_error(err, has_id ? "listeners" : "listener",
                       has_id ? "serve takes \"listener\" or \"listeners\", not both"
                              : "serve needs a \"listener\" id or \"listeners\"");
    return NULL;
  }
  listener* ls[kMaxServeListeners];
  size_t n = 0;
  if (has_id) {
    ls[0] = find_listener(s, id);
    n = 1;
    if (ls[0] == NULL) {
      set_protocol_error(err, "listener", "no listener with id %lld", (long long)id);
      return NULL;
    }
  } else if (!listener_list(s, ids, ls, &n, err)) {
    return NULL;
  }
  if (!own_int(req, "events", 1, 1, 1000000, &events, err) ||
      !own_int(req, "timeout_ms", 2000, 0, 600000, &timeout_ms, err) ||
      !ignored_serve_fields(req, err)) {
    return NULL;
  }
  serve_run run = {events, timeout_ms,   json_array(), has_id ? NULL : json_array(),
                   0,      json_array(), json_array(), true,
                   true,   false};
  return has_id ? serve_one(ls[0], &run) : serve_many(ls, n, &run);
}
