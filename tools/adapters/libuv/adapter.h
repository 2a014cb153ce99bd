/* The libuv adapter (README.md): libuv's uv_getaddrinfo, uv_tcp_bind,
 * uv_pipe_bind, uv_listen and uv_accept behind netconform's line protocol
 * (docs/ADAPTER.md, protocol 2). Requests are untrusted: every field is
 * type-checked, and every number range-checked against the C type libuv
 * takes, before a libuv call. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <uv.h>

/* The protocol's defaults (Tornado's), whatever libuv's are. */
enum { kDefaultBacklog = 128, kMaxPeers = 16 };

/* A libuv stream handle: a TCP socket or a pipe (unix socket), seen as
 * either, as a stream or as a handle. */
typedef union stream_handle {
  uv_tcp_t tcp;
  uv_pipe_t pipe;
  uv_stream_t stream;
  uv_handle_t handle;
} stream_handle;

/* One listener: libuv's handle on a loop of its own, so that serving one
 * listener never accepts from another (libuv accepts inside its own I/O
 * callback, before the user's connection callback can decline). */
typedef struct listener {
  long long id;
  uv_loop_t loop;
  stream_handle h;
  bool is_pipe;
  struct sockaddr_storage name; /* the bound address, as libuv gave it */
  socklen_t name_len;
  uv_timer_t deadline; /* a serve's; initialised at the first serve */
  bool has_deadline;
  int backlog;   /* as listened with: a serve over several listeners listens again with it */
  int setup_fds; /* fds the adapter's own loop set-up opened (not libuv's listener calls) */
  int ahead_fds; /* made ahead (prepare_spare_listener): the fds its plumbing holds, open
                    before the op counted; 0 otherwise */
  struct serve_slot* slot; /* its handler in the serve in progress, or NULL */
  struct listener* next;
} listener;

typedef struct session {
  listener* listeners;
  long long next_id;
} session;

/* A request that cannot be run: {"kind": "protocol"}, field at fault. */
typedef struct protocol_error {
  const char* field;
  char message[512];
} protocol_error;

/* Request field access (request.c). Each returns false with *err filled. */
bool allow_fields(json_t* req, const char* op, const char* const* fields, protocol_error* err);
/* An integer field: absent (or null when null_ok) leaves *present false. */
bool int_field(json_t* req, const char* name, bool null_ok, json_int_t* value, bool* present,
               protocol_error* err);
bool bool_field(json_t* req, const char* name, bool def, bool* value, protocol_error* err);
/* A string field, with its length (it may hold NUL bytes). */
bool string_field(json_t* req, const char* name, bool null_ok, const char** value, size_t* len,
                  bool* present, protocol_error* err);
void set_protocol_error(protocol_error* err, const char* field, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Replies (request.c). */
json_t* error_object(const char* kind, const char* errno_name, const char* step,
                     const char* address, const char* message);
json_t* error_reply(json_t* error_obj);
json_t* protocol_reply(const protocol_error* err);
/* A libuv error code as the protocol's error object: UV_EAI_* -> resolve,
 * others -> os, named by uv_err_name. */
json_t* uv_error(int code, const char* step, const char* call, const char* address);
void note(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

/* The tracer's quiet marker around the adapter's own observations (observe.c). */
void quiet_begin(void);
void quiet_end(void);
/* Entries of /proc/self/fd minus the directory's own; with no fd free to read
 * it (a case's exhaust_fds), each fd number probed instead; -1 when unreadable. */
int count_open_fds(void);
/* One TCP listener's plumbing (its loop and handle) made ahead while fds are
 * free, for the next bind_sockets (bind.c): called at start-up and after each
 * bind_sockets; a no-op while one is ready or when it cannot be made. */
void prepare_spare_listener(void);
/* The bound address as a libuv program learns it: uv_tcp_getsockname or
 * uv_pipe_getsockname (the implementation's calls, not quiet), into l->name.
 * 0 or the libuv error. */
int learn_name(listener* l);
/* The listener: family, address, port or path, sockname, and props read
 * from the kernel. */
json_t* describe_listener(const listener* l);
/* An address as the protocol writes it: "127.0.0.1:80", "[::1]:80", "unix:/p". */
void sockaddr_text(const struct sockaddr* sa, socklen_t len, char* out, size_t out_len);

/* The ops (bind.c, serve.c). */
json_t* op_bind_sockets(session* s, json_t* req, protocol_error* err);
json_t* op_bind_unix_socket(session* s, json_t* req, protocol_error* err);
json_t* op_serve(session* s, json_t* req, protocol_error* err);
void close_listener(listener* l);
void close_all(session* s);
