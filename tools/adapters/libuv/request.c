/* Request fields, typed and checked, and the protocol's error objects. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "adapter.h"

void set_protocol_error(protocol_error* err, const char* field, const char* fmt, ...) {
  va_list ap;
  err->field = field;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
}

void note(const char* fmt, ...) {
  va_list ap;
  fputs("libuv_adapter: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

/* nlohmann::json's type names, so messages read like the reference's. */
static const char* type_name(const json_t* v) {
  switch (json_typeof(v)) {
    case JSON_NULL:
      return "null";
    case JSON_TRUE:
    case JSON_FALSE:
      return "boolean";
    case JSON_INTEGER:
    case JSON_REAL:
      return "number";
    case JSON_STRING:
      return "string";
    case JSON_ARRAY:
      return "array";
    case JSON_OBJECT:
      return "object";
  }
  return "unknown";
}

/* A typo, or a field of a feature this adapter does not offer, must not
 * pass silently: an unknown field is a protocol error naming it. */
bool allow_fields(json_t* req, const char* op, const char* const* fields, protocol_error* err) {
  const char* key;
  json_t* value;
  json_object_foreach(req, key, value) {
    bool known = strcmp(key, "op") == 0 || strcmp(key, "id") == 0;
    for (const char* const* f = fields; *f != NULL && !known; ++f) known = strcmp(key, *f) == 0;
    if (!known) {
      /* The field name points into the request, which outlives the error. */
      set_protocol_error(err, key, "unknown field \"%s\" for op %s", key, op);
      return false;
    }
  }
  return true;
}

bool int_field(json_t* req, const char* name, bool null_ok, json_int_t* value, bool* present,
               protocol_error* err) {
  json_t* v = json_object_get(req, name);
  *present = false;
  if (v == NULL || (null_ok && json_is_null(v))) return true;
  if (!json_is_integer(v)) {
    set_protocol_error(err, name, "%s must be an integer%s, got %s", name,
                       null_ok ? " or null" : "", type_name(v));
    return false;
  }
  *value = json_integer_value(v);
  *present = true;
  return true;
}

bool bool_field(json_t* req, const char* name, bool def, bool* value, protocol_error* err) {
  json_t* v = json_object_get(req, name);
  *value = def;
  if (v == NULL) return true;
  if (!json_is_boolean(v)) {
    set_protocol_error(err, name, "%s must be a boolean, got %s", name, type_name(v));
    return false;
  }
  *value = json_is_true(v);
  return true;
}

bool string_field(json_t* req, const char* name, bool null_ok, const char** value, size_t* len,
                  bool* present, protocol_error* err) {
  json_t* v = json_object_get(req, name);
  *present = false;
  if (v == NULL || (null_ok && json_is_null(v))) return true;
  if (!json_is_string(v)) {
    set_protocol_error(err, name, "%s must be a string%s, got %s", name, null_ok ? " or null" : "",
                       type_name(v));
    return false;
  }
  *value = json_string_value(v);
  *len = json_string_length(v);
  *present = true;
  return true;
}

json_t* error_object(const char* kind, const char* errno_name, const char* step,
                     const char* address, const char* message) {
  json_t* e = json_object();
  json_object_set_new(e, "kind", json_string(kind));
  json_object_set_new(e, "errno", errno_name ? json_string(errno_name) : json_null());
  json_object_set_new(e, "step", json_string(step));
  json_t* addr = json_string(address);
  json_object_set_new(e, "address", addr ? addr : json_string(""));
  json_t* msg = json_string(message);
  json_object_set_new(e, "message", msg ? msg : json_string("(message not UTF-8)"));
  return e;
}

json_t* error_reply(json_t* error_obj) {
  json_t* r = json_object();
  json_object_set_new(r, "ok", json_false());
  json_object_set_new(r, "error", error_obj);
  return r;
}

json_t* protocol_reply(const protocol_error* err) {
  return error_reply(
      error_object("protocol", NULL, err->field ? err->field : "", "", err->message));
}

/* Only what libuv's error code carries: its name (uv_err_name gives the C
 * names, "EADDRINUSE", "EAI_NONAME") and text; the step is the syscall the
 * failing libuv call is named for, the address what it was applied to. */
json_t* uv_error(int code, const char* step, const char* call, const char* address) {
  char message[600];
  const char* name = uv_err_name(code);
  snprintf(message, sizeof message, "%s %s: %s (%s)", call, address, name, uv_strerror(code));
  const char* kind = strncmp(name, "EAI_", 4) == 0 ? "resolve" : "os";
  return error_object(kind, name, step, address, message);
}
