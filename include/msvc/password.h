/* msvc/password.h - password hashing through libxcrypt's crypt(3).
 *
 * Hashes are crypt(3) strings.  Verification accepts bcrypt ($2a$, $2b$,
 * $2y$) and yescrypt ($y$) only (a weaker crypt(3) scheme in a store is
 * refused, not checked); new hashes use the configured prefix and cost.
 * Functions are reentrant (crypt_rn with a heap-allocated crypt_data) and
 * each call costs one full hash: callers with an event loop must run them
 * on a worker thread.
 */
#ifndef MSVC_PASSWORD_H
#define MSVC_PASSWORD_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct msvc_password_config {
  const char *prefix; /* "$2b$" (default, bcrypt) or "$y$" (yescrypt) */
  unsigned long cost; /* bcrypt 4..31 (default 10); yescrypt 1..11 (5);
                         0 = the scheme's default.  A NULL prefix is "$2b$". */
} msvc_password_config_t;

/* Fills in the defaults: "$2b$", cost 10. */
MSVC_EXTERN void msvc_password_config_init(msvc_password_config_t *cfg);

/* Hashes password (len bytes, no NUL inside) with a fresh random salt.
 * On success *out is a NUL-terminated crypt string the caller frees with
 * msvc_free().  MSVC_EINVAL for a bad prefix/cost or a NUL inside the
 * password, MSVC_ECRYPTO when libxcrypt fails. */
MSVC_EXTERN int msvc_password_hash(const msvc_password_config_t *cfg,
                                   const char *password, size_t len,
                                   char **out);

/* 0 when password matches hash, MSVC_EAUTH when it does not (a password
 * with a NUL inside never matches), MSVC_EINVAL when hash is not a complete
 * bcrypt or yescrypt string (that answer may come faster than a hash),
 * MSVC_ENOMEM. */
MSVC_EXTERN int msvc_password_verify(const char *password, size_t len,
                                     const char *hash);

/* 1 when hash was made with a different prefix or cost than cfg asks for
 * (so it may be re-hashed after a successful login; "$2a$" and "$2y$"
 * differ from "$2b$"), else 0.  0 when cfg itself is invalid. */
MSVC_EXTERN int msvc_password_needs_rehash(const msvc_password_config_t *cfg,
                                           const char *hash);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_PASSWORD_H */
