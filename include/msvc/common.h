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
#define MSVC_VERSION_MINOR 2
#define MSVC_VERSION_PATCH 0
#define MSVC_VERSION_STRING "0.2.0"

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
  XX(EUNSUPPORTED, -20, "not supported by this backend")                       \
  XX(EKEY, -21, "token signed with an unknown key")

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

/* The library version as "x.y.z"; static.  Compare with
 * MSVC_VERSION_STRING to detect a header/library mismatch. */
MSVC_EXTERN const char *msvc_version_string(void);

/* Frees memory the library handed to the caller as a plain buffer (tokens,
 * password hashes).  Records have their own *_free functions.  NULL is
 * allowed. */
MSVC_EXTERN void msvc_free(void *ptr);

/* Sizes.  IDs are 24 lowercase hex digits (a MongoDB ObjectId). */
#define MSVC_ID_LEN 24
#define MSVC_ID_SIZE 25

typedef struct msvc_id {
  char hex[MSVC_ID_SIZE];
} msvc_id_t;

/* 1 when s[0..len) is exactly 24 hex digits (either case), else 0 (also
 * for s == NULL). */
MSVC_EXTERN int msvc_id_valid(const char *s, size_t len);

/* ---- per-call context ----
 *
 * Every operation of a msvc_t takes an optional `const msvc_call_t *` (NULL
 * means defaults).  It carries what belongs to one call rather than to the
 * handle.  The struct starts with its own size so that fields can be
 * appended: initialise it with MSVC_CALL_INIT and the library reads only
 * the fields your version of this header knew.  Nothing in it is kept
 * after the call returns. */
enum {
  /* Answer only if no waiting on a network or a hash is needed; otherwise
   * return MSVC_EWOULDBLOCK at once (an event loop then retries the call
   * on a worker thread). */
  MSVC_NOWAIT = 1u << 0
};

typedef struct msvc_call {
  size_t size;            /* sizeof(msvc_call_t): set by MSVC_CALL_INIT */
  unsigned flags;         /* MSVC_NOWAIT */
  const char *request_id; /* sent to upstream services and logged; may be
                             NULL; an id with unsafe bytes is left out */
  const char *user_agent; /* recorded with the session a login opens; NULL */
  const char *client_ip;  /* likewise */
  const char *session_id; /* the caller's session (claims' session_id):
                             kept when a password change ends the others */
} msvc_call_t;

#define MSVC_CALL_INIT                                                         \
  { sizeof(msvc_call_t), 0u, NULL, NULL, NULL, NULL }

/* Lets a store backend or resolver attach a readable detail to the error it
 * is about to return (for example the database's own message).  The detail
 * belongs to the calling thread and is what msvc_errmsg() reports for the
 * failing call.  printf-style; truncated to 255 bytes. */
MSVC_EXTERN void msvc_set_error_detail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif /* MSVC_COMMON_H */
