/* msvc/common.h - export macro, version, error codes, small shared types.
 *
 * Every public function returns 0 on success or one of the negative
 * MSVC_E* codes below.  The codes come from one X-macro list so that the
 * enum and msvc_strerror() can never drift apart; new codes are only ever
 * appended, with fresh numbers, so that numeric values stay stable across
 * releases.
 */
#ifndef MSVC_COMMON_H
#define MSVC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MSVC_BUILDING) && defined(__GNUC__)
#define MSVC_EXTERN __attribute__((visibility("default")))
#else
#define MSVC_EXTERN /* nothing */
#endif

#define MSVC_VERSION_MAJOR 0
#define MSVC_VERSION_MINOR 1
#define MSVC_VERSION_PATCH 0
#define MSVC_VERSION_STRING "0.1.0"

/* Error codes: XX(NAME, value, message).  Append only. */
#define MSVC_ERRNO_MAP(XX)                                                     \
  XX(EINVAL, -1, "invalid argument")                                           \
  XX(ENOMEM, -2, "out of memory")                                              \
  XX(ENOTFOUND, -3, "not found")                                               \
  XX(EEXIST, -4, "already exists")                                             \
  XX(EVALIDATION, -5, "validation failed")                                     \
  XX(EJSON, -6, "malformed JSON")                                              \
  XX(ENOTOBJECT, -7, "JSON value is not an object")                            \
  XX(EAUTH, -8, "invalid credentials")                                         \
  XX(ETOKEN, -9, "invalid, expired or wrongly signed token")                   \
  XX(EFORBIDDEN, -10, "not allowed for this caller")                           \
  XX(ETHROTTLED, -11, "too many failed attempts, try again later")             \
  XX(EUNAVAIL, -12, "storage or upstream service unavailable")                 \
  XX(ETIMEDOUT, -13, "deadline exceeded")                                      \
  XX(EWOULDBLOCK, -14, "operation would block")                                \
  XX(ETOOBIG, -15, "input too large")                                          \
  XX(ESTORE, -16, "storage error")                                             \
  XX(ECRYPTO, -17, "password hashing failed")                                  \
  XX(ECONFIG, -18, "invalid configuration")                                    \
  XX(EIO, -19, "input/output error")                                           \
  XX(EUNSUPPORTED, -20, "not supported by this backend")

typedef enum msvc_errno {
  MSVC_OK = 0,
#define MSVC__ERRNO_ENUM(name, value, msg) MSVC_##name = (value),
  MSVC_ERRNO_MAP(MSVC__ERRNO_ENUM)
#undef MSVC__ERRNO_ENUM
} msvc_errno_t;

/* A static, human-readable message for a code; never NULL.  Unknown codes
 * give "unknown error". */
MSVC_EXTERN const char *msvc_strerror(int err);
/* The symbolic name of a code, e.g. "MSVC_ENOTFOUND"; never NULL. */
MSVC_EXTERN const char *msvc_err_name(int err);

/* The library version as "x.y.z"; static. */
MSVC_EXTERN const char *msvc_version_string(void);

/* Frees memory the library handed to the caller as a plain buffer
 * (tokens, password hashes, rendered JSON).  NULL is allowed. */
MSVC_EXTERN void msvc_free(void *ptr);

/* Sizes.  IDs are 24 lowercase hex digits (a MongoDB ObjectId). */
#define MSVC_ID_LEN 24
#define MSVC_ID_SIZE 25

typedef struct msvc_id {
  char hex[MSVC_ID_SIZE];
} msvc_id_t;

/* 1 when s[0..len) is exactly 24 hex digits (either case), else 0. */
MSVC_EXTERN int msvc_id_valid(const char *s, size_t len);

/* An ObjectId generator: 4-byte seconds, 5 random bytes chosen when the
 * generator is made, 3-byte counter.  Thread-safe. */
typedef struct msvc_idgen msvc_idgen_t;
MSVC_EXTERN int msvc_idgen_new(msvc_idgen_t **out);
/* Writes 24 lowercase hex digits and a NUL into out. */
MSVC_EXTERN void msvc_idgen_next(msvc_idgen_t *gen, char out[MSVC_ID_SIZE]);
MSVC_EXTERN void msvc_idgen_free(msvc_idgen_t *gen);

/* Milliseconds since the Unix epoch, from the wall clock. */
MSVC_EXTERN int64_t msvc_now_ms(void);

/* Field-level validation errors.  `field` and `reason` point to static
 * strings owned by the library; nothing to free. */
#define MSVC_ERRORS_MAX 8
typedef struct msvc_field_error {
  const char *field;
  const char *reason;
} msvc_field_error_t;

typedef struct msvc_errors {
  unsigned count;
  msvc_field_error_t items[MSVC_ERRORS_MAX];
} msvc_errors_t;

MSVC_EXTERN void msvc_errors_init(msvc_errors_t *errs);
/* Adds (field, reason) unless `field` already has an error or the list is
 * full.  Both strings must be static. */
MSVC_EXTERN void msvc_errors_add(msvc_errors_t *errs, const char *field,
                                 const char *reason);
/* 1 when `field` already has an error. */
MSVC_EXTERN int msvc_errors_has(const msvc_errors_t *errs, const char *field);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_COMMON_H */
