/* libuv_adapter: libuv's TCP and pipe listeners behind netconform's adapter
 * line protocol (docs/ADAPTER.md, protocol 2): one JSON request per stdin
 * line, one flushed JSON reply per stdout line, each echoing the request's
 * "id". stdin is read with plain blocking reads between requests: libuv's
 * loops run only inside a serve, so no stdin watcher competes with the
 * listeners. See README.md for the mapping. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapter.h"

enum { kProtocolVersion = 3, kMaxLineBytes = 1 << 20 };

static json_t* hello_capabilities(void) {
  /* What libuv 1.44 offers, for netconform's capabilities (docs/ADAPTER.md):
   * the fields honoured, and the values libuv always uses for the others. */
  json_error_t e;
  return json_loads(
      "{\"ops\": [\"hello\", \"bind_sockets\", \"bind_unix_socket\", \"serve\", \"open_fds\","
      " \"umask\", \"close_all\"],"
      " \"fields\": {\"bind_sockets\": [\"port\", \"address\", \"family\", \"backlog\", \"flags\"],"
      "            \"bind_unix_socket\": [\"path\", \"backlog\"],"
      "            \"serve\": [\"listener\", \"listeners\", \"events\", \"timeout_ms\"]},"
      " \"fixed\": {\"bind_sockets.reuse_port\": false,"
      "           \"serve.backoff_ms\": 0},"
      /* What libuv's API cannot be asked (docs/ADAPTER.md "capabilities"):
       * uv_tcp_bind binds one sockaddr, so what is done with a name's
       * several addresses is the caller's loop (the adapter's, bind.c), not
       * libuv's; its strings are C strings; 1.44 has no uv_pipe_bind2. */
      " \"lacks\": {\"listener_per_address\": \"uv_tcp_bind binds one sockaddr: a listener"
      " per call\","
      "           \"name_binding\": \"uv_tcp_bind takes a sockaddr, not a name: the loop over"
      " uv_getaddrinfo's addresses is the caller's (the adapter's), not libuv's\","
      "           \"nul_in_strings\": \"libuv takes C strings: a NUL ends the string before"
      " libuv sees it\","
      "           \"abstract_names\": \"libuv 1.44 has no abstract names (uv_pipe_bind2 came"
      " in 1.46)\"}}",
      0, &e);
}

static json_t* op_hello(json_t* req, protocol_error* err) {
  static const char* const fields[] = {NULL};
  if (!allow_fields(req, "hello", fields, err)) return NULL;
  json_t* r = json_object();
  json_object_set_new(r, "ok", json_true());
  json_object_set_new(r, "impl", json_string("libuv"));
  json_object_set_new(r, "version", json_string(uv_version_string()));
  json_object_set_new(r, "protocol", json_integer(kProtocolVersion));
  json_object_set_new(r, "platform", json_string("linux"));
  json_object_set_new(r, "spec", json_array()); /* libuv was not written to SPEC.md */
  json_t* features = json_array();
  json_array_append_new(features, json_string("listener_props"));
  json_array_append_new(features, json_string("fds_delta"));
  json_array_append_new(features, json_string("umask"));
  json_object_set_new(r, "features", features);
  json_object_set_new(r, "capabilities", hello_capabilities());
  return r;
}

static json_t* op_open_fds(json_t* req, protocol_error* err) {
  static const char* const fields[] = {NULL};
  if (!allow_fields(req, "open_fds", fields, err)) return NULL;
  int n = count_open_fds();
  if (n < 0)
    return error_reply(
        error_object("os", "EIO", "opendir", "/proc/self/fd", "cannot read /proc/self/fd"));
  json_t* r = json_object();
  json_object_set_new(r, "ok", json_true());
  json_object_set_new(r, "open_fds", json_integer(n));
  return r;
}

static json_t* op_umask(json_t* req, protocol_error* err) {
  static const char* const fields[] = {NULL};
  if (!allow_fields(req, "umask", fields, err)) return NULL;
  quiet_begin();
  mode_t mask = umask(022); /* umask() only sets: set it back at once */
  umask(mask);
  quiet_end();
  json_t* r = json_object();
  json_object_set_new(r, "ok", json_true());
  json_object_set_new(r, "umask", json_integer((json_int_t)mask));
  return r;
}

static json_t* op_close_all(session* s, json_t* req, protocol_error* err) {
  static const char* const fields[] = {NULL};
  if (!allow_fields(req, "close_all", fields, err)) return NULL;
  close_all(s);
  json_t* r = json_object();
  json_object_set_new(r, "ok", json_true());
  return r;
}

static json_t* dispatch(session* s, json_t* req, protocol_error* err) {
  json_t* opv = json_object_get(req, "op");
  if (opv == NULL) {
    set_protocol_error(err, "op", "request has no \"op\"");
    return NULL;
  }
  if (!json_is_string(opv)) {
    set_protocol_error(err, "op", "op must be a string");
    return NULL;
  }
  const char* op = json_string_value(opv);
  if (strcmp(op, "hello") == 0) return op_hello(req, err);
  if (strcmp(op, "bind_sockets") == 0) return op_bind_sockets(s, req, err);
  if (strcmp(op, "bind_unix_socket") == 0) return op_bind_unix_socket(s, req, err);
  if (strcmp(op, "serve") == 0) return op_serve(s, req, err);
  if (strcmp(op, "open_fds") == 0) return op_open_fds(req, err);
  if (strcmp(op, "umask") == 0) return op_umask(req, err);
  if (strcmp(op, "close_all") == 0) return op_close_all(s, req, err);
  /* The op's text may hold a NUL: the message shows it up to there. */
  set_protocol_error(err, "op", "unknown op \"%.200s\"", op);
  return NULL;
}

/* One request line -> its reply, echoing the id whatever the request's fate. */
static json_t* handle_line(session* s, const char* line, size_t len) {
  protocol_error err = {"", ""};
  json_error_t jerr;
  /* JSON_ALLOW_NUL: "\u0000" is a valid string character (abstract names).
   * jansson refuses invalid UTF-8, nests at most 2048 deep, and refuses an
   * integer beyond 64 bits or a number a double cannot hold. */
  json_t* req = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
  if (req == NULL) {
    set_protocol_error(&err, "", "request is not JSON: %s at byte %d", jerr.text, jerr.position);
    return protocol_reply(&err);
  }
  json_t* reply;
  if (!json_is_object(req)) {
    set_protocol_error(&err, "", "request must be a JSON object");
    reply = protocol_reply(&err);
  } else {
    reply = dispatch(s, req, &err);
    if (reply == NULL) reply = protocol_reply(&err); /* err.field may point into req */
    json_t* id = json_object_get(req, "id");
    if (id != NULL) json_object_set(reply, "id", id);
  }
  json_decref(req);
  return reply;
}

static bool write_reply(json_t* reply) {
  char* text = json_dumps(reply, JSON_COMPACT);
  json_decref(reply);
  if (text == NULL)
    text = strdup(
        "{\"ok\": false, \"error\": {\"kind\": \"protocol\", "
        "\"errno\": null, \"step\": \"\", \"address\": \"\", "
        "\"message\": \"internal adapter error: reply not encodable\"}}");
  bool ok =
      text != NULL && fputs(text, stdout) >= 0 && fputc('\n', stdout) != EOF && fflush(stdout) == 0;
  free(text);
  return ok;
}

/* The line loop. A line over 1 MiB is drained, never kept, and refused. */
int main(void) {
  session s = {NULL, 0};
  /* uv_getaddrinfo's loop, made before any request: the adapter's plumbing. */
  quiet_begin();
  (void)uv_default_loop();
  quiet_end();
  prepare_spare_listener();
  char* line = malloc(kMaxLineBytes + 2);
  if (line == NULL) return 1;
  size_t len = 0;   /* bytes kept of the current line */
  size_t total = 0; /* bytes seen of the current line */
  char buf[65536];
  int status = 0;
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    bool eof = n <= 0;
    size_t start = 0;
    for (size_t i = 0; i < (eof ? 1u : (size_t)n); ++i) {
      bool end_of_line = !eof && buf[i] == '\n';
      if (!eof && !end_of_line) continue;
      size_t piece = (eof ? 0 : i) - start;
      if (eof && total == 0) break;
      if (total + piece <= (size_t)kMaxLineBytes + 1)
        memcpy(line + len, buf + start, piece), len += piece;
      total += piece;
      if (len > 0 && line[len - 1] == '\r') --len, --total;
      json_t* reply;
      if (total > (size_t)kMaxLineBytes) {
        protocol_error err = {"", ""};
        set_protocol_error(&err, "", "request line of %zu bytes is longer than %d", total,
                           kMaxLineBytes);
        reply = protocol_reply(&err);
      } else {
        reply = handle_line(&s, line, len);
      }
      if (!write_reply(reply)) {
        status = 1;
        goto out;
      }
      len = total = 0;
      start = i + 1;
    }
    if (eof) break;
    size_t piece = (size_t)n - start;
    if (total + piece <= (size_t)kMaxLineBytes + 1)
      memcpy(line + len, buf + start, piece), len += piece;
    total += piece;
  }
out:
  close_all(&s);
  free(line);
  return status;
}
