/* wire/json.h - the JSON wire format (internal: the servers and the HTTP
 * resolver link it; it is not part of libmsvc's API).
 *
 * Input: one strict path for every JSON the project reads, request bodies
 * and upstream answers alike: an RFC 8259 validator (grammar, well-formed
 * UTF-8, at most 32 levels of nesting, the whole input consumed) in front
 * of json-c, whose own parser is lenient.  Bodies must be objects, and only
 * the fields an operation knows are read; everything else is ignored and so
 * can never reach a store.  A known field of the wrong JSON type (null
 * included) becomes the field error "must be a string" rather than being
 * coerced; a string holding a NUL becomes "must not contain NUL
 * characters".  Field errors are added to `errs` (which may be NULL).
 *
 * Output: records are written straight into a msvc__buf_t, with no
 * intermediate tree: the response path never touches printf or json-c.
 * Strings are escaped per RFC 8259 ('/' is not escaped); timestamps come
 * out as JavaScript's Date.toJSON() writes them.
 */
#ifndef MSVC_WIRE_JSON_H
#define MSVC_WIRE_JSON_H

#include <json-c/json.h>

#include "internal.h"

/* Which fields a body may carry, for msvc__json_parse_user_input. */
enum {
  MSVC__FIELD_NAME = 1u << 0,
  MSVC__FIELD_EMAIL = 1u << 1,
  MSVC__FIELD_PASSWORD = 1u << 2,
  MSVC__FIELD_CURRENT_PASSWORD = 1u << 3
};

/* Strings read from a body: owned here, NULL when absent or ill-typed.
 * msvc__wire_user_view / msvc__wire_post_view give the library's input
 * struct pointing at them. */
typedef struct msvc__wire_user {
  char *name;
  char *email;
  char *password;
  char *current_password;
} msvc__wire_user_t;

typedef struct msvc__wire_post {
  char *title;
  char *content;
} msvc__wire_post_t;

void msvc__wire_user_clear(msvc__wire_user_t *in);
void msvc__wire_post_clear(msvc__wire_post_t *in);
msvc_user_input_t msvc__wire_user_view(const msvc__wire_user_t *in);
msvc_post_input_t msvc__wire_post_view(const msvc__wire_post_t *in);

/* Validates body[0..len) strictly and builds the json-c tree (*out, release
 * with json_object_put).  MSVC_EJSON when malformed. */
int msvc__json_parse_strict(const char *body, size_t len, json_object **out);

/* Parses body[0..len) into `out` (zeroed by the caller; released with
 * msvc__wire_user_clear), reading only the fields in `fields`.
 * Returns MSVC_EJSON (malformed), MSVC_ENOTOBJECT, or 0; wrong types are
 * reported in errs with a 0 return. */
int msvc__json_parse_user_input(const char *body, size_t len, unsigned fields,
                                msvc__wire_user_t *out, msvc_errors_t *errs);
/* The same for {"title","content"}. */
int msvc__json_parse_post_input(const char *body, size_t len,
                                msvc__wire_post_t *out, msvc_errors_t *errs);
/* Parses {"userIds":[...]} or a bare array of id strings.  *ids is an
 * array of *n ids the caller frees with free() (NULL when *n is 0).
 * MSVC_EJSON, MSVC_ENOTOBJECT (neither object nor array), MSVC_ETOOBIG
 * (more than max ids), or 0 with errs naming "userIds" when an element is
 * not a valid id. */
int msvc__json_parse_id_list(const char *body, size_t len, size_t max,
                             msvc_id_t **ids, size_t *n, msvc_errors_t *errs);

/* Writers.  A NULL string renders as "" and a NULL record as null. */
void msvc__json_string(msvc__buf_t *b, const char *s, size_t len);
void msvc__json_cstring(msvc__buf_t *b, const char *s);
/* "2026-11-24T04:03:56.419Z" with the quotes; null outside JavaScript's
 * Date range. */
void msvc__json_timestamp(msvc__buf_t *b, int64_t ms);
/* USER: {"id","name","email","created_at","updated_at"}. */
void msvc__json_user(msvc__buf_t *b, const msvc_user_t *u);
/* PUBLIC_USER: {"id","name","email"}, or null when u is NULL or its id is
 * "". */
void msvc__json_public_user(msvc__buf_t *b, const msvc_user_t *u);
/* POST with "user" set from author (null when NULL). */
void msvc__json_post(msvc__buf_t *b, const msvc_post_t *p,
                     const msvc_user_t *author);
/* {"status":N,"message":"...","errors":{...}} (errors only when any). */
void msvc__json_error(msvc__buf_t *b, int status, const char *message,
                      const msvc_errors_t *errs);

#endif
