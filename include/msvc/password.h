/* msvc/password.h - password hashing through libxcrypt's crypt(3).
 *
 * Hashes are crypt(3) strings.  Verification accepts bcrypt ($2a$, $2b$,
 * $2y$) and yescrypt ($y$) only (a weaker crypt(3) scheme in a store is
 * refused, not checked); new hashes use the scheme and cost given.
 * Functions are reentrant and each call costs one full hash: callers with
 * an event loop run them on a worker thread.
 *
 * Schemes: "bcrypt" (or its prefix "$2b$"), cost 4..31, default 10;
 * "yescrypt" ("$y$"), cost 1..11, default libxcrypt's (5).  Cost 0 means
 * the scheme's default.
 */
#ifndef MSVC_PASSWORD_H
#define MSVC_PASSWORD_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 0 when (scheme, cost) is usable, else MSVC_EINVAL. */
MSVC_EXTERN int msvc_password_scheme_check(const char *scheme,
                                           unsigned long cost);

/* Hashes password (len bytes, no NUL inside) with a fresh random salt.
 * *out is a NUL-terminated crypt string the caller frees with msvc_free().
 * MSVC_EINVAL for a NULL argument, an unknown scheme, a cost out of the
 * scheme's range or a NUL inside the password; MSVC_ECRYPTO when libxcrypt
 * fails; MSVC_ENOMEM. */
MSVC_EXTERN int msvc_password_hash(const char *scheme, unsigned long cost,
                                   const char *password, size_t len,
                                   char **out);

/* 0 when password matches hash, MSVC_EAUTH when it does not (a password
 * with a NUL inside never matches), MSVC_EINVAL when an argument is NULL or
 * hash is not a complete bcrypt or yescrypt string (that answer may come
 * faster than a hash), MSVC_ENOMEM. */
MSVC_EXTERN int msvc_password_verify(const char *password, size_t len,
                                     const char *hash);

/* 1 when hash was made with another scheme or cost than asked for (so it
 * may be re-hashed after a successful login; "$2a$" and "$2y$" differ from
 * "$2b$"), else 0; 0 also for invalid arguments. */
MSVC_EXTERN int msvc_password_needs_rehash(const char *scheme,
                                           unsigned long cost,
                                           const char *hash);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_PASSWORD_H */
