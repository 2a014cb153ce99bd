/* bind_sockets and bind_unix_socket, as a libuv program writes a server:
 * uv_getaddrinfo(host, "port", AI_PASSIVE), then per address uv_tcp_bind
 * and uv_listen; uv_pipe_bind and uv_listen for a unix path. */
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "adapter.h"

static void on_connection(uv_stream_t* server, int status);

/* A listener's plumbing: a loop of its own and the handle on it. The loop
 * and the handle's initialisation are the adapter's plumbing (epoll, libuv's
 * signal pipe and async eventfd, libuv's reserve fd for EMFILE): done quietly. */
static listener* make_plumbing(bool is_pipe) {
  listener* l = calloc(1, sizeof *l);
  if (l == NULL) return NULL;
  quiet_begin();
  int rc = uv_loop_init(&l->loop);
  if (rc == 0) {
    rc = is_pipe ? uv_pipe_init(&l->loop, &l->h.pipe, 0) : uv_tcp_init(&l->loop, &l->h.tcp);
    if (rc != 0) uv_loop_close(&l->loop);
  }
  quiet_end();
  if (rc != 0) {
    note("loop set-up failed: %s", uv_strerror(rc));
    free(l);
    return NULL;
  }
  l->is_pipe = is_pipe;
  return l;
}

/* A TCP listener's plumbing made ahead, while fds are free: a bind under a
 * real fd shortage (a case's exhaust_fds) then reaches libuv's own calls
 * instead of failing in the adapter's set-up, as a libuv program's one loop
 * made at start-up would. */
static listener* spare_tcp = NULL;

void prepare_spare_listener(void) {
  if (spare_tcp != NULL) return;
  int before = count_open_fds();
  spare_tcp = make_plumbing(false);
  if (spare_tcp != NULL) spare_tcp->ahead_fds = count_open_fds() - before;
}

/* A new listener on a loop of its own (the spare one for TCP when ready), its
 * set-up fds counted so that fds_delta covers only libuv's listener calls. */
static listener* new_listener(session* s, bool is_pipe) {
  listener* l = NULL;
  if (!is_pipe && spare_tcp != NULL) {
    l = spare_tcp; /* its fds were open before the op's count began */
    spare_tcp = NULL;
  } else {
    int before = count_open_fds();
    l = make_plumbing(is_pipe);
    if (l == NULL) return NULL;
    l->setup_fds = count_open_fds() - before;
  }
  l->h.handle.data = l;
  l->id = s->next_id++;
  return l;
}

static void on_closed(uv_handle_t* h) { (void)h; }

/* Closes the handle the way a libuv program does (uv_close, then the loop
 * runs the close callback), then the adapter's loop. */
void close_listener(listener* l) {
  if (!uv_is_closing(&l->h.handle)) uv_close(&l->h.handle, on_closed);
  if (l->has_deadline && !uv_is_closing((uv_handle_t*)&l->deadline)) {
    uv_close((uv_handle_t*)&l->deadline, on_closed);
  }
  uv_run(&l->loop, UV_RUN_DEFAULT);
  quiet_begin();
  if (uv_loop_close(&l->loop) != 0) note("listener %lld: loop still busy at close", l->id);
  quiet_end();
  free(l);
}

void close_all(session* s) {
  while (s->listeners != NULL) {
    listener* l = s->listeners;
    s->listeners = l->next;
    close_listener(l);
  }
}

static void keep(session* s, listener** made, size_t n) {
  /* In id order, at the end of the session's list. */
  listener** tail = &s->listeners;
  while (*tail != NULL) tail = &(*tail)->next;
  for (size_t i = 0; i < n; ++i) {
    *tail = made[i];
    tail = &made[i]->next;
  }
}

static json_t* listeners_reply(listener** made, size_t n, int fds_delta) {
  json_t* list = json_array();
  for (size_t i = 0; i < n; ++i) json_array_append_new(list, describe_listener(made[i]));
  json_t* r = json_object();
  json_object_set_new(r, "ok", json_true());
  json_object_set_new(r, "listeners", list);
  json_object_set_new(r, "fds_delta", json_integer(fds_delta));
  return r;
}

/* A bind op's failure: the error, and fds_delta taken before the reply. */
static json_t* bind_failure(json_t* error_obj, int fds_delta) {
  json_t* r = error_reply(error_obj);
  json_object_set_new(r, "fds_delta", json_integer(fds_delta));
  return r;
}

/* A value libuv's C type cannot hold, refused before any call. */
static json_t* argument_error(const char* field, const char* message) {
  return bind_failure(error_object("argument", "EINVAL", field, "", message), 0);
}

static bool fits_int(json_int_t v) { return v >= INT_MIN && v <= INT_MAX; }

/* family -> the hints' ai_family. An integer is passed on as given. */
static bool family_of(json_t* req, int* family, bool* too_big, protocol_error* err) {
  json_t* v = json_object_get(req, "family");
  *family = AF_UNSPEC;
  *too_big = false;
  if (v == NULL) return true;
  if (json_is_string(v)) {
    const char* name = json_string_value(v);
    if (strcmp(name, "unspec") == 0) return true;
    if (strcmp(name, "inet") == 0) return *family = AF_INET, true;
    if (strcmp(name, "inet6") == 0) return *family = AF_INET6, true;
    if (strcmp(name, "unix") == 0) return *family = AF_UNIX, true;
    set_protocol_error(err, "family",
                       "family \"%.100s\" is not unspec, inet, inet6, unix or an "
                       "integer",
                       name);
    return false;
  }
  if (!json_is_integer(v)) {
    set_protocol_error(err, "family", "family must be a string or an integer");
    return false;
  }
  json_int_t n = json_integer_value(v);
  if (!fits_int(n))
    *too_big = true;
  else
    *family = (int)n;
  return true;
}

/* Fields libuv has no parameter for: checked for type, ignored with a note. */
static bool ignored_mode(json_t* req, protocol_error* err) {
  json_int_t mode;
  bool present;
  if (!int_field(req, "mode", false, &mode, &present, err)) return false;
  if (present)
    note(
        "mode %lld ignored: libuv 1.44 has no mode for a pipe (uv_pipe_chmod only "
        "sets read/write for everyone)",
        (long long)mode);
  return true;
}

json_t* op_bind_sockets(session* s, json_t* req, protocol_error* err) {
  static const char* const fields[] = {"port",  "address",    "family", "backlog",
                                       "flags", "reuse_port", NULL};
  if (!allow_fields(req, "bind_sockets", fields, err)) return NULL;
  json_int_t port = 0, backlog = kDefaultBacklog, flags = AI_PASSIVE;
  bool has_port, has_backlog, has_flags, has_address, reuse_port, family_too_big;
  const char* address = NULL;
  size_t address_len = 0;
  int family;
  if (!int_field(req, "port", false, &port, &has_port, err) ||
      !string_field(req, "address", true, &address, &address_len, &has_address, err) ||
      !family_of(req, &family, &family_too_big, err) ||
      !int_field(req, "backlog", false, &backlog, &has_backlog, err) ||
      !int_field(req, "flags", true, &flags, &has_flags, err) ||
      !bool_field(req, "reuse_port", false, &reuse_port, err)) {
    return NULL;
  }
  if (!has_port) port = 0;
  if (!has_backlog) backlog = kDefaultBacklog;
  if (!has_flags) flags = AI_PASSIVE; /* a libuv server's usual hints */
  if (reuse_port) note("reuse_port ignored: libuv 1.44 has no SO_REUSEPORT option");
  /* A libuv program holds these in ints (the service string is printed from
   * one): a value an int cannot hold is refused before any call. */
  if (!fits_int(port)) return argument_error("port", "port does not fit in an int");
  if (!fits_int(backlog)) return argument_error("backlog", "backlog does not fit in an int");
  if (!fits_int(flags)) return argument_error("flags", "flags do not fit in an int");
  if (family_too_big) return argument_error("family", "family does not fit in an int");

  char service[32];
  snprintf(service, sizeof service, "%d", (int)port);
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = (int)flags;
  /* The host is a C string: it ends at its first NUL, as in any C program. */
  const char* host = has_address ? address : NULL;
  char addr_text[600];
  snprintf(addr_text, sizeof addr_text, "%.300s:%d", host ? host : "", (int)port);

  uv_loop_t* loop = uv_default_loop(); /* made at start-up (main.c), quietly */
  int before = count_open_fds();
  uv_getaddrinfo_t gai; /* a NULL callback: uv_getaddrinfo runs synchronously */
  int rc = uv_getaddrinfo(loop, &gai, NULL, host, service, &hints);
  if (rc != 0) {
    return bind_failure(uv_error(rc, "getaddrinfo", "uv_getaddrinfo", addr_text),
                        count_open_fds() - before);
  }
  size_t count = 0;
  for (struct addrinfo* ai = gai.addrinfo; ai != NULL; ai = ai->ai_next) ++count;
  listener** made = calloc(count ? count : 1, sizeof *made);
  size_t n = 0;
  int setup = 0;
  json_t* failure = NULL;
  for (struct addrinfo* ai = gai.addrinfo; ai != NULL && made != NULL; ai = ai->ai_next) {
    sockaddr_text(ai->ai_addr, ai->ai_addrlen, addr_text, sizeof addr_text);
    listener* l = new_listener(s, false);
    if (l == NULL) {
      failure = error_object("os", "ENOMEM", "uv_loop_init", addr_text, "adapter set-up failed");
      break;
    }
    made[n++] = l;
    setup += l->setup_fds;
    /* IPv6 sockets v6-only, so that [::] and 0.0.0.0 from one lookup can
     * share the port: libuv sets IPV6_V6ONLY to this flag before bind. */
    unsigned bind_flags = ai->ai_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
    rc = uv_tcp_bind(&l->h.tcp, ai->ai_addr, bind_flags);
    if (rc != 0) {
      failure = uv_error(rc, "bind", "uv_tcp_bind", addr_text);
      break;
    }
    rc = uv_listen(&l->h.stream, (int)backlog, on_connection);
    if (rc != 0) {
      failure = uv_error(rc, "listen", "uv_listen", addr_text);
      break;
    }
    l->backlog = (int)backlog;
    /* The port the kernel chose: a program that cannot learn it fails. */
    rc = learn_name(l);
    if (rc != 0) {
      failure = uv_error(rc, "getsockname", "uv_tcp_getsockname", addr_text);
      break;
    }
  }
  uv_freeaddrinfo(gai.addrinfo);
  if (made == NULL) failure = error_object("os", "ENOMEM", "calloc", "", "out of memory");
  if (failure != NULL) {
    /* A libuv program closes what it made before reporting the failure. The
     * spare's plumbing was open before the count began: closed, it is not the
     * implementation's fd going. */
    int ahead = 0;
    for (size_t i = 0; i < n; ++i) {
      ahead += made[i]->ahead_fds;
      close_listener(made[i]);
    }
    free(made);
    json_t* reply = bind_failure(failure, count_open_fds() - before + ahead);
    prepare_spare_listener();
    return reply;
  }
  int fds_delta = count_open_fds() - before - setup;
  json_t* reply = listeners_reply(made, n, fds_delta);
  keep(s, made, n);
  free(made);
  prepare_spare_listener();
  return reply;
}

json_t* op_bind_unix_socket(session* s, json_t* req, protocol_error* err) {
  static const char* const fields[] = {"path", "mode", "backlog", NULL};
  if (!allow_fields(req, "bind_unix_socket", fields, err)) return NULL;
  const char* path = NULL;
  size_t path_len = 0;
  bool has_path, has_backlog;
  json_int_t backlog = kDefaultBacklog;
  if (!string_field(req, "path", false, &path, &path_len, &has_path, err)) return NULL;
  if (!has_path) {
    set_protocol_error(err, "path", "bind_unix_socket needs a \"path\"");
    return NULL;
  }
  if (!ignored_mode(req, err) || !int_field(req, "backlog", false, &backlog, &has_backlog, err))
    return NULL;
  if (!has_backlog) backlog = kDefaultBacklog;
  if (!fits_int(backlog)) return argument_error("backlog", "backlog does not fit in an int");

  char addr_text[600];
  /* uv_pipe_bind takes a C string: the path ends at its first NUL (an
   * abstract name's leading NUL leaves ""), as in any C program. */
  snprintf(addr_text, sizeof addr_text, "unix:%.500s", path);
  int before = count_open_fds();
  listener* l = new_listener(s, true);
  if (l == NULL) {
    return bind_failure(
        error_object("os", "ENOMEM", "uv_loop_init", addr_text, "adapter set-up failed"),
        count_open_fds() - before);
  }
  json_t* failure = NULL;
  int rc = uv_pipe_bind(&l->h.pipe, path);
  if (rc != 0) {
    failure = uv_error(rc, "bind", "uv_pipe_bind", addr_text);
  } else {
    rc = uv_listen(&l->h.stream, (int)backlog, on_connection);
    if (rc != 0) failure = uv_error(rc, "listen", "uv_listen", addr_text);
    l->backlog = (int)backlog;
  }
  if (failure == NULL) {
    rc = learn_name(l);
    if (rc != 0) failure = uv_error(rc, "getsockname", "uv_pipe_getsockname", addr_text);
  }
  if (failure != NULL) {
    close_listener(l);
    return bind_failure(failure, count_open_fds() - before);
  }
  json_t* reply = listeners_reply(&l, 1, count_open_fds() - before - l->setup_fds);
  keep(s, &l, 1);
  return reply;
}

/* The connection callback lives in serve.c; libuv needs it at uv_listen. */
void serve_on_connection(uv_stream_t* server, int status);
static void on_connection(uv_stream_t* server, int status) { serve_on_connection(server, status); }
