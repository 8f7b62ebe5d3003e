/* msvc/user.h - users, and the input a client may send about them.
 *
 * Records (msvc_user_t) are always allocated by the library, which is what
 * lets fields be appended to them in later versions: never declare one on
 * the stack or put them in arrays by value.  Arrays of users are arrays of
 * pointers.  A msvc_user_t never carries a password hash: only the
 * store-facing msvc_user_record_t does, so nothing rendered from a
 * msvc_user_t can leak one.
 *
 * Strings inside a record are owned by the record.  Store backends and
 * resolvers that fill records set them to memory from malloc() (the C
 * library's), or use msvc_user_set(); msvc_user_free() releases them with
 * free().
 */
#ifndef MSVC_USER_H
#define MSVC_USER_H

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits of the contract. */
#define MSVC_NAME_MAX_CHARS 100 /* after trimming, in characters */
#define MSVC_EMAIL_MAX_BYTES 254
#define MSVC_PASSWORD_MIN_BYTES 8
#define MSVC_PASSWORD_MAX_BYTES 72 /* bcrypt reads no more */

typedef struct msvc_user {
  char id[MSVC_ID_SIZE]; /* 24 lowercase hex digits */
  char *name;            /* owned */
  char *email;           /* owned, lower-case */
  int64_t created_at;    /* ms since the epoch, UTC */
  int64_t updated_at;
  /* Fields may be appended here. */
} msvc_user_t;

/* A zeroed user; 0, MSVC_EINVAL or MSVC_ENOMEM.  Free with
 * msvc_user_free(). */
MSVC_EXTERN int msvc_user_new(msvc_user_t **out);
/* Frees the user and its strings; NULL is allowed. */
MSVC_EXTERN void msvc_user_free(msvc_user_t *user);
/* Replaces the contents of u with copies of the arguments (name and email
 * may be NULL for "").  For resolvers and backends filling a record the
 * library allocated.  0, MSVC_EINVAL (u NULL, id not 24 hex digits; u is
 * left as it was) or MSVC_ENOMEM (u is left as it was). */
MSVC_EXTERN int msvc_user_set(msvc_user_t *u, const char *id, const char *name,
                              const char *email, int64_t created_at,
                              int64_t updated_at);
/* A deep copy in *out; 0, MSVC_EINVAL or MSVC_ENOMEM. */
MSVC_EXTERN int msvc_user_dup(const msvc_user_t *src, msvc_user_t **out);
/* Frees users[0..n) (NULL entries allowed) and the array itself. */
MSVC_EXTERN void msvc_users_free(msvc_user_t **users, size_t n);

/* What the store keeps: the public user plus its crypt(3) hash.  The
 * library allocates it (user included) before asking a backend to fill
 * it. */
typedef struct msvc_user_record {
  msvc_user_t *user;   /* owned, never NULL in a record the library made */
  char *password_hash; /* owned */
  int64_t tokens_valid_after; /* ms: access tokens issued before are
                                 refused (set by a password change); 0 */
  /* Fields may be appended here. */
} msvc_user_record_t;

MSVC_EXTERN int msvc_user_record_new(msvc_user_record_t **out);
MSVC_EXTERN void msvc_user_record_free(msvc_user_record_t *rec);

/* What a client may send to register, log in or update a profile.  Each
 * pointer is NULL when the field is absent.  The library reads the strings
 * during the call and copies what it keeps; it never writes to them, so
 * string literals are fine.  Initialise with MSVC_USER_INPUT_INIT: the
 * struct starts with its size so that fields can be appended. */
typedef struct msvc_user_input {
  size_t size; /* sizeof(msvc_user_input_t) */
  const char *name;
  const char *email;
  const char *password;
  const char *current_password;
} msvc_user_input_t;

#define MSVC_USER_INPUT_INIT                                                   \
  { sizeof(msvc_user_input_t), NULL, NULL, NULL, NULL }

/* Validation rules of the contract, usable on their own.  Each returns 0
 * when the value is valid, MSVC_EVALIDATION when it is not or when the
 * field already has an error in errs, and records the reason in errs (which
 * may be NULL).  The value is judged as the library would store it: name
 * trimmed of surrounding ASCII white space, email trimmed and lower-cased.
 * `field` of msvc_validate_password names the error ("password",
 * "current_password"). */
MSVC_EXTERN int msvc_validate_name(const char *name, msvc_errors_t *errs);
MSVC_EXTERN int msvc_validate_email(const char *email, msvc_errors_t *errs);
MSVC_EXTERN int msvc_validate_password(const char *field, const char *password,
                                       msvc_errors_t *errs);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_USER_H */
