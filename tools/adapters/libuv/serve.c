/* serve: the listener's loop runs, one uv_run(UV_RUN_ONCE) at a time, until
 * the run has its readiness events or its time is up. libuv's own I/O
 * callback (uv__server_io) accepts until EAGAIN and calls the connection
 * callback once per connection, or with the error; the callback uv_accepts
 * the connection into a handle, observes it and closes it. What one loop
 * iteration handed to the callback is one readiness event (the listener is
 * alone on its loop). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "adapter.h"

typedef struct serve_run {
  json_int_t max_events;
  json_t* batches;
  int connections; /* handed to the callback in this iteration */
  int failures;    /* errors handed to it in this iteration */
  json_int_t accepted;
  json_t* errors; /* grouped by errno, in order of first report */
  json_t* peers;
  bool nonblock, cloexec;
  bool timed_out;
} serve_run;

static json_int_t cpu_ms(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (json_int_t)ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000 +
         (json_int_t)ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000;
}

static void record_error(serve_run* run, int status, const char* step) {
  const char* name = uv_err_name(status);
  ++run->failures;
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

void serve_on_connection(uv_stream_t* server, int status) {
  listener* l = server->data;
  serve_run* run = l->run;
  if (run == NULL) { /* cannot happen: the loop runs only in a serve */
    note("listener %lld: connection callback outside a serve", l->id);
    return;
  }
  if (status < 0) {
    record_error(run, status, "accept");
    return;
  }
  uv_stream_t* client = malloc(l->is_pipe ? sizeof(uv_pipe_t) : sizeof(uv_tcp_t));
  if (client == NULL) {
    record_error(run, UV_ENOMEM, "accept");
    return;
  }
  if (l->is_pipe) {
    uv_pipe_init(&l->loop, (uv_pipe_t*)client, 0);
  } else {
    uv_tcp_init(&l->loop, (uv_tcp_t*)client);
  }
  int rc = uv_accept(server, client);
  if (rc != 0) {
    record_error(run, rc, "accept");
  } else {
    ++run->connections;
    ++run->accepted;
    observe(run, client);
  }
  uv_close((uv_handle_t*)client, on_client_closed); /* closes the fd now */
}

static void on_deadline(uv_timer_t* t) {
  serve_run* run = t->data;
  run->timed_out = true;
  uv_stop(t->loop);
}

static listener* find_listener(session* s, json_int_t id) {
  for (listener* l = s->listeners; l != NULL; l = l->next) {
    if (l->id == id) return l;
  }
  return NULL;
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

static json_t* serve_reply(serve_run* run, listener* l, uint64_t start_ns, json_int_t cpu0) {
  json_t* r = json_object();
  json_object_set_new(r, "ok", json_true());
  json_object_set_new(r, "events", json_integer((json_int_t)json_array_size(run->batches)));
  json_object_set_new(r, "batches", run->batches);
  json_object_set_new(r, "accepted", json_integer(run->accepted));
  json_object_set_new(r, "errors", run->errors);
  json_object_set_new(r, "timed_out", json_boolean(run->timed_out));
  json_object_set_new(r, "active", json_boolean(uv_is_active(&l->h.handle)));
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

json_t* op_serve(session* s, json_t* req, protocol_error* err) {
  static const char* const fields[] = {"listener", "events",     "timeout_ms",
                                       "batch",    "backoff_ms", NULL};
  if (!allow_fields(req, "serve", fields, err)) return NULL;
  json_int_t id, events, timeout_ms;
  bool has_id;
  if (!int_field(req, "listener", false, &id, &has_id, err)) return NULL;
  if (!has_id) {
    set_protocol_error(err, "listener", "serve needs a \"listener\" id");
    return NULL;
  }
  if (!own_int(req, "events", 1, 1, 1000000, &events, err) ||
      !own_int(req, "timeout_ms", 2000, 0, 600000, &timeout_ms, err) ||
      !ignored_serve_fields(req, err)) {
    return NULL;
  }
  listener* l = find_listener(s, id);
  if (l == NULL) {
    set_protocol_error(err, "listener", "no listener with id %lld", (long long)id);
    return NULL;
  }
  serve_run run = {events, json_array(), 0, 0, 0, json_array(), json_array(), true, true, false};
  uint64_t start = uv_hrtime();
  json_int_t cpu0 = cpu_ms();
  /* The deadline timer stays on the loop, stopped, until the listener closes:
   * closing it now would need one more loop iteration, which could accept. */
  uv_timer_t* timer = &l->deadline;
  if (!l->has_deadline) {
    uv_timer_init(&l->loop, timer);
    l->has_deadline = true;
  }
  timer->data = &run;
  uv_update_time(&l->loop); /* the loop's clock stood still since its last run */
  uv_timer_start(timer, on_deadline, (uint64_t)timeout_ms, 0);
  l->run = &run;
  while ((json_int_t)json_array_size(run.batches) < events && !run.timed_out) {
    run.connections = run.failures = 0;
    uv_run(&l->loop, UV_RUN_ONCE);
    if (run.connections > 0 || run.failures > 0) {
      json_array_append_new(run.batches, json_integer(run.connections));
    }
    if (!uv_is_active(&l->h.handle)) break;
  }
  l->run = NULL;
  uv_timer_stop(timer);
  timer->data = NULL;
  return serve_reply(&run, l, start, cpu0);
}
