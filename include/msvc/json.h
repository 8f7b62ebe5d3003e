/* msvc/json.h - strict JSON input and fast JSON output.
 *
 * Input: bodies are parsed strictly (RFC 8259 grammar, well-formed UTF-8,
 * at most 32 levels of nesting, the whole input consumed), must be objects,
 * and only the fields an operation knows are read; everything else is
 * ignored and so can never reach a store.  A known field of the wrong JSON
 * type (null included) becomes the field error "must be a string" rather
 * than being coerced; a string holding a NUL becomes "must not contain NUL
 * characters".  Field errors are added to `errs`, which is not reset.
 *
 * Output: records are written straight into a growable byte buffer, with
 * no intermediate tree: the response path never touches printf or json-c.
 * Strings are escaped per RFC 8259 ('/' is not escaped); timestamps come
 * out as JavaScript's Date.toJSON() writes them.
 */
#ifndef MSVC_JSON_H
#define MSVC_JSON_H

#include "common.h"
#include "post.h"
#include "user.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A growable buffer.  On allocation failure `failed` is set and further
 * appends do nothing, so a writer checks once at the end. */
typedef struct msvc_buf {
  char *data; /* owned; NUL-terminated when len > 0 */
  size_t len;
  size_t cap;
  int failed;
} msvc_buf_t;

MSVC_EXTERN void msvc_buf_init(msvc_buf_t *b);
MSVC_EXTERN void msvc_buf_free(msvc_buf_t *b);
MSVC_EXTERN void msvc_buf_reset(msvc_buf_t *b); /* len = 0, keeps memory */
MSVC_EXTERN void msvc_buf_append(msvc_buf_t *b, const void *p, size_t n);
MSVC_EXTERN void msvc_buf_puts(msvc_buf_t *b, const char *s);
MSVC_EXTERN void msvc_buf_int(msvc_buf_t *b, int64_t v);

/* Which fields a body may carry, for msvc_json_parse_user_input. */
enum {
  MSVC_FIELD_NAME = 1u << 0,
  MSVC_FIELD_EMAIL = 1u << 1,
  MSVC_FIELD_PASSWORD = 1u << 2,
  MSVC_FIELD_CURRENT_PASSWORD = 1u << 3
};

/* Parses body[0..len) into `out` (zeroed by the caller; released with
 * msvc_user_input_clear), reading only the fields in `fields`.
 * Returns MSVC_EJSON (malformed), MSVC_ENOTOBJECT, or 0; wrong types are
 * reported in errs with a 0 return. */
MSVC_EXTERN int msvc_json_parse_user_input(const char *body, size_t len,
                                           unsigned fields,
                                           msvc_user_input_t *out,
                                           msvc_errors_t *errs);
/* The same for {"title","content"}. */
MSVC_EXTERN int msvc_json_parse_post_input(const char *body, size_t len,
                                           msvc_post_input_t *out,
                                           msvc_errors_t *errs);
/* Parses {"userIds":[...]} or a bare array of id strings.  *ids is an
 * array of *n ids the caller frees with msvc_free() (NULL when *n is 0).
 * MSVC_EJSON, MSVC_ENOTOBJECT (neither object nor array), MSVC_ETOOBIG
 * (more than max ids), or 0 with errs naming "userIds" when an element is
 * not a valid id. */
MSVC_EXTERN int msvc_json_parse_id_list(const char *body, size_t len,
                                        size_t max, msvc_id_t **ids, size_t *n,
                                        msvc_errors_t *errs);

/* Writers.  A NULL string renders as "" and a NULL record as null. */
MSVC_EXTERN void msvc_json_string(msvc_buf_t *b, const char *s, size_t len);
MSVC_EXTERN void msvc_json_cstring(msvc_buf_t *b, const char *s);
/* "2026-11-24T04:03:56.419Z" with the quotes; years outside 0..9999 as
 * "+YYYYYY"/"-YYYYYY" and null outside JavaScript's Date range (+-8.64e15
 * ms), as Date.toJSON() does. */
MSVC_EXTERN void msvc_json_timestamp(msvc_buf_t *b, int64_t ms);
/* USER: {"id","name","email","created_at","updated_at"}. */
MSVC_EXTERN void msvc_json_user(msvc_buf_t *b, const msvc_user_t *u);
/* PUBLIC_USER: {"id","name","email"}, or null when u is NULL or its id is
 * "". */
MSVC_EXTERN void msvc_json_public_user(msvc_buf_t *b, const msvc_user_t *u);
/* POST with "user" set from author (null when unknown). */
MSVC_EXTERN void msvc_json_post(msvc_buf_t *b, const msvc_post_t *p,
                                const msvc_user_t *author);
/* {"status":N,"message":"...","errors":{...}} (errors only when any). */
MSVC_EXTERN void msvc_json_error(msvc_buf_t *b, int status, const char *message,
                                 const msvc_errors_t *errs);

/* Writes ISO 8601 with milliseconds (24 bytes + NUL, 27 for extended
 * years) into out; "" outside JavaScript's Date range. */
MSVC_EXTERN void msvc_format_timestamp(int64_t ms, char out[32]);
/* Parses the form above (also without milliseconds or with 1 to 9
 * fraction digits, and "+00:00" for "Z"); 0 or MSVC_EINVAL. */
MSVC_EXTERN int msvc_parse_timestamp(const char *s, int64_t *ms);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_JSON_H */
