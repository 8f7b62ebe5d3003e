/* msvc/user.h - user records and the input a client may send about them.
 *
 * A msvc_user_t never carries a password hash: only the store-facing
 * msvc_user_record_t does, so anything rendered from a msvc_user_t cannot
 * leak one.  All strings in these structs are owned by the struct and
 * released by the matching *_clear() function, which also zeroes it, so
 * clearing twice is harmless.
 */
#ifndef MSVC_USER_H
#define MSVC_USER_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits of the contract. */
#define MSVC_NAME_MAX_CHARS 100      /* after trimming, in characters */
#define MSVC_EMAIL_MAX_BYTES 254
#define MSVC_PASSWORD_MIN_BYTES 8
#define MSVC_PASSWORD_MAX_BYTES 72   /* bcrypt reads no more */

typedef struct msvc_user {
  char id[MSVC_ID_SIZE]; /* "" when the slot holds no user */
  char *name;            /* owned */
  char *email;           /* owned, lower-case */
  int64_t created_at;    /* ms since the epoch, UTC */
  int64_t updated_at;
} msvc_user_t;

/* Frees the strings and zeroes the struct. */
MSVC_EXTERN void msvc_user_clear(msvc_user_t *user);
/* Deep copy; dst must be cleared (or zeroed) first.  MSVC_ENOMEM on failure
 * (dst is left zeroed). */
MSVC_EXTERN int msvc_user_copy(msvc_user_t *dst, const msvc_user_t *src);
/* Frees an array of n users made by the library, and the array itself. */
MSVC_EXTERN void msvc_users_free(msvc_user_t *users, size_t n);

/* What the store keeps: the public user plus its crypt(3) hash. */
typedef struct msvc_user_record {
  msvc_user_t user;
  char *password_hash; /* owned */
} msvc_user_record_t;

MSVC_EXTERN void msvc_user_record_clear(msvc_user_record_t *rec);

/* Fields a client may send to register, log in or update a profile.  Each
 * pointer is NULL when the field was absent; present strings are owned by
 * the struct, NUL-terminated and contain no embedded NUL. */
typedef struct msvc_user_input {
  char *name;
  char *email;
  char *password;
  char *current_password;
} msvc_user_input_t;

MSVC_EXTERN void msvc_user_input_clear(msvc_user_input_t *in);

/* Validation rules of the contract, usable on their own.  Each adds a field
 * error to errs (without replacing one the field already has) and returns 0
 * when valid, MSVC_EVALIDATION when not (also when the field already had
 * an error).  errs may be NULL.
 *
 * msvc_validate_name trims surrounding ASCII white space in place.
 * msvc_validate_email trims and lower-cases (ASCII) in place.
 * msvc_validate_password's field is the error's field name, a static
 * string ("password", "current_password"). */
MSVC_EXTERN int msvc_validate_name(char *name, msvc_errors_t *errs);
MSVC_EXTERN int msvc_validate_email(char *email, msvc_errors_t *errs);
MSVC_EXTERN int msvc_validate_password(const char *field, const char *password,
                                       msvc_errors_t *errs);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_USER_H */
