/* msvc/service.h - the service handle: users, authentication and posts.
 *
 * A msvc_t ties a store, a user resolver, the token and password settings
 * and the login throttle together.  Every operation is a plain blocking
 * call, safe to make from several threads at once on one handle.  Calls
 * that hash a password (register, login, a password change) take tens of
 * milliseconds; calls that write wait for the store's durability guarantee;
 * an event loop runs those on worker threads.  Reads honour MSVC_NOWAIT in
 * their msvc_call_t: they then return MSVC_EWOULDBLOCK instead of waiting
 * on a network, so a loop can answer them inline when the store is local.
 *
 * Conventions of every function below:
 *  - 0 on success or a negative MSVC_E* code; a NULL where a pointer is
 *    required is MSVC_EINVAL, never a crash;
 *  - `call` and `errs` may be NULL; outputs marked optional may be NULL;
 *  - inputs are read during the call and never written; what the handle
 *    keeps, it copies;
 *  - results come back through `**out`, allocated by the library, owned by
 *    the caller and released with the function named beside them; on error
 *    *out is NULL;
 *  - after an error, msvc_errmsg(svc) tells more on the same thread.
 */
#ifndef MSVC_SERVICE_H
#define MSVC_SERVICE_H

#include "common.h"
#include "errors.h"
#include "post.h"
#include "resolver.h"
#include "session.h"
#include "store.h"
#include "user.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct msvc msvc_t;

/* ---- options ----
 *
 * An opaque bag of settings for msvc_open(), filled with setters so that
 * settings can be added without changing any struct.  Every setter copies
 * what it is given and returns 0, MSVC_EINVAL (NULL handle, unknown option,
 * value out of range) or MSVC_ENOMEM. */
typedef struct msvc_options msvc_options_t;

typedef enum msvc_option {
  MSVC_OPT_TOKEN_TTL = 1,     /* seconds, 1..2^31; 3600 */
  MSVC_OPT_PASSWORD_COST = 2, /* 0 = the scheme's default; checked
                                 against the scheme at msvc_open */
  /* failed logins on one account from one client address in the window
   * before that client waits the lockout; 0..1000, 0 disables the login
   * throttle; 5 */
  MSVC_OPT_LOGIN_MAX_FAILURES = 3,
  MSVC_OPT_LOGIN_WINDOW = 4,  /* seconds failures are counted, 1..86400; 900 */
  MSVC_OPT_LOGIN_LOCKOUT = 5, /* seconds, 1..86400; 60 */
  /* (account, address) pairs tracked at once by a process whose store
   * keeps no events (the counts are then per process), 16..2^24; 65536 */
  MSVC_OPT_LOGIN_TABLE_SIZE = 6,
  MSVC_OPT_STORE_TIMEOUT_MS = 7, /* per store operation, 1..600000; 5000 */
  /* pooled connections, 0..1024; 0 = backend's */
  MSVC_OPT_STORE_CONNECTIONS = 8,
  /* 1 (default): logins open sessions and return refresh tokens; 0: the
   * seed's behaviour, access tokens only */
  MSVC_OPT_SESSIONS = 9,
  /* seconds a refresh token lives unused, 60..31536000; 2592000 (30 d) */
  MSVC_OPT_REFRESH_TTL = 10,
  /* seconds a rotated refresh token still returns its successor, 0..300;
   * 10 */
  MSVC_OPT_REFRESH_GRACE = 11,
  /* 1 (default): msvc_authenticate refuses tokens of ended sessions and
   * tokens older than the user's last password change (store reads); 0
   * for a process that holds no users (it then trusts a token until it
   * expires) */
  MSVC_OPT_CHECK_REVOCATION = 12,
  /* Failed logins on one account from any address, in the window, after
   * which addresses that never logged in to it wait 1, 2, 4 ... seconds
   * (at most the window) after its last failure; 0..100000, 0 disables;
   * 50 */
  MSVC_OPT_LOGIN_ACCOUNT_MAX_FAILURES = 13,
  /* Failed logins from one client address on any account, in the window,
   * after which it waits the lockout before each try; 0..100000, 0
   * disables; 100 */
  MSVC_OPT_LOGIN_CLIENT_MAX_FAILURES = 14
  /* Options are only ever appended. */
} msvc_option_t;

MSVC_EXTERN int msvc_options_new(msvc_options_t **out);
/* NULL is allowed. */
MSVC_EXTERN void msvc_options_free(msvc_options_t *opts);
MSVC_EXTERN int msvc_options_set_int(msvc_options_t *opts, msvc_option_t opt,
                                     int64_t value);
/* Where data lives: a URL whose scheme picks the store (msvc/store.h).
 * Default "sqlite:./data/msvc.db". */
MSVC_EXTERN int msvc_options_set_database_url(msvc_options_t *opts,
                                              const char *url);
/* The HS256 signing secret, len >= 1 bytes (32 or more recommended);
 * required. */
MSVC_EXTERN int msvc_options_set_jwt_secret(msvc_options_t *opts,
                                            const void *secret, size_t len);
/* "bcrypt" (default) or "yescrypt" for new hashes (msvc/password.h). */
MSVC_EXTERN int msvc_options_set_password_scheme(msvc_options_t *opts,
                                                 const char *scheme);
/* "HS256" (default: the seed's, with the JWT secret), "ES256" or
 * "RS256" (with the keys below). */
MSVC_EXTERN int msvc_options_set_jwt_algorithm(msvc_options_t *opts,
                                               const char *alg);
/* A private key (PEM: P-256 for ES256, RSA of 2048 bits or more for
 * RS256) named `kid` (1..64 bytes of [A-Za-z0-9._-]).  Several may be
 * added: the last one signs, all verify and are published by msvc_jwks(),
 * so a key is retired by removing it after the longest token lifetime.
 * Checked at msvc_open (MSVC_ECONFIG naming the key). */
MSVC_EXTERN int msvc_options_add_signing_key(msvc_options_t *opts,
                                             const char *kid, const char *pem,
                                             size_t len);
/* A public key (PEM) that only verifies, e.g. another instance's. */
MSVC_EXTERN int msvc_options_add_verification_key(msvc_options_t *opts,
                                                  const char *kid,
                                                  const char *pem, size_t len);
/* The HS256 key for service tokens (services calling each other), when it
 * must differ from the user-signing key: with ES256/RS256 a post service
 * holds no private key, only this.  Default: the JWT secret. */
MSVC_EXTERN int msvc_options_set_service_secret(msvc_options_t *opts,
                                                const void *secret, size_t len);
/* An open store to use instead of the database URL; borrowed: it must
 * outlive the handle, and msvc_close() leaves it open.  NULL clears it. */
MSVC_EXTERN int msvc_options_set_store(msvc_options_t *opts,
                                       msvc_store_t *store);
/* The author resolver; borrowed like the store.  Default: the local
 * resolver over the store, owned by the handle. */
MSVC_EXTERN int msvc_options_set_resolver(msvc_options_t *opts,
                                          msvc_resolver_t *resolver);

/* ---- the handle ---- */

/* Opens the store (unless given), creates or migrates its schema and
 * prepares the handle.  The options are copied: free them whenever you
 * like.  On failure *out is NULL and errbuf (optional) says why:
 * MSVC_EINVAL, MSVC_ECONFIG (no secret, unknown URL scheme, unusable
 * password scheme or cost), MSVC_EUNAVAIL or MSVC_ESTORE (the store could
 * not be opened), MSVC_ENOMEM. */
MSVC_EXTERN int msvc_open(const msvc_options_t *opts, msvc_t **out,
                          char *errbuf, size_t errlen);
/* NULL is allowed.  No call may be running on the handle. */
MSVC_EXTERN void msvc_close(msvc_t *svc);

/* The detail of the last failed call this thread made on svc (the store's
 * or upstream's own message when there was one, else the code's text); ""
 * when that call succeeded or there was none.  The string belongs to the
 * thread and stays valid until its next call into the library. */
MSVC_EXTERN const char *msvc_errmsg(const msvc_t *svc);

/* Borrowed views, valid until msvc_close; NULL for NULL. */
MSVC_EXTERN msvc_store_t *msvc_get_store(msvc_t *svc);
MSVC_EXTERN msvc_resolver_t *msvc_get_resolver(msvc_t *svc);

/* 0 when the store answers. */
MSVC_EXTERN int msvc_ping(msvc_t *svc);

/* ---- users and authentication ---- */

/* Validates name, email and password (MSVC_EVALIDATION, details in errs),
 * hashes the password and stores the user with its name trimmed and email
 * lower-cased.  MSVC_EEXIST (and "email" in errs) for a taken email.
 * out (optional): the new user, msvc_user_free(). */
MSVC_EXTERN int msvc_register(msvc_t *svc, const msvc_call_t *call,
                              const msvc_user_input_t *in, msvc_user_t **out,
                              msvc_errors_t *errs);

typedef struct msvc_login_result {
  char *token;                /* compact JWT (no "Bearer "); owned */
  int64_t expires_in;         /* seconds */
  msvc_user_t *user;          /* the user logged in (or refreshed); owned */
  char *refresh_token;        /* owned; NULL when sessions are off */
  int64_t refresh_expires_in; /* seconds; 0 when sessions are off */
  /* Fields may be appended here. */
} msvc_login_result_t;

/* NULL is allowed. */
MSVC_EXTERN void msvc_login_result_free(msvc_login_result_t *res);

/* Checks in->email and in->password.  MSVC_EAUTH for an unknown email and
 * for a wrong password alike, after the same work (one hash check).
 * MSVC_ETHROTTLED once the account has failed too often: *retry_after
 * (optional) is then the seconds to wait.  MSVC_EVALIDATION when email or
 * password is missing.  out (optional): msvc_login_result_free(). */
MSVC_EXTERN int msvc_login(msvc_t *svc, const msvc_call_t *call,
                           const msvc_user_input_t *in,
                           msvc_login_result_t **out, unsigned *retry_after,
                           msvc_errors_t *errs);

typedef enum msvc_caller_kind {
  MSVC_CALLER_USER = 1,
  MSVC_CALLER_SERVICE = 2
} msvc_caller_kind_t;

/* Verified claims of a token. */
typedef struct msvc_claims {
  msvc_caller_kind_t kind;
  const msvc_user_t *user; /* user tokens: id, name, email; else NULL */
  const char *service;     /* service tokens: the service's name; else NULL */
  int64_t iat;             /* seconds since the epoch */
  int64_t exp;
  const char *session_id; /* "sid": the session; "" when none */
  const char *token_id;   /* "jti"; "" when none */
  /* 1 when `user` is the caller's record as the store holds it now (name
   * and email current, created_at and updated_at set), read by the
   * revocation check; 0 when it is what the token says (id, name, email;
   * times 0). */
  int user_from_store;
  /* Fields may be appended here. */
} msvc_claims_t;

/* Verifies a compact token (without "Bearer "): signature, algorithm,
 * key and expiry; with MSVC_OPT_CHECK_REVOCATION, also that its session
 * is alive and that it is newer than the user's last password change
 * (one store read: MSVC_EWOULDBLOCK under MSVC_NOWAIT when the store's
 * reads are not local).  MSVC_ETOKEN for anything wrong with it,
 * MSVC_EKEY for a well-formed token whose kid is not known (a post service
 * then fetches the auth service's keys again).  out: msvc_claims_free();
 * everything it points to belongs to it. */
MSVC_EXTERN int msvc_authenticate(msvc_t *svc, const msvc_call_t *call,
                                  const char *token, size_t len,
                                  msvc_claims_t **out);
/* NULL is allowed. */
MSVC_EXTERN void msvc_claims_free(msvc_claims_t *claims);

/* The user a post write acts for, from verified claims: claims->user for a
 * user token, NULL for a service token or NULL claims.  Borrowed from the
 * claims. */
MSVC_EXTERN const msvc_user_t *msvc_claims_author(const msvc_claims_t *claims);

/* A short-lived service token naming `service` (1..63 bytes) for calling
 * other services under the shared secret; free with msvc_free(). */
MSVC_EXTERN int msvc_service_token(msvc_t *svc, const char *service,
                                   char **out);

/* ---- sessions ---- */

/* Exchanges a refresh token for a new access token and a new refresh token
 * (the old one is retired).  The same retired token presented again within
 * the grace window gets the same successor (concurrent clients); later, it
 * ends the whole session: reuse means it was stolen.  MSVC_ETOKEN for an
 * unknown, expired, ended, reused or malformed token; MSVC_EUNSUPPORTED
 * when sessions are off.  out: msvc_login_result_free(). */
MSVC_EXTERN int msvc_refresh(msvc_t *svc, const msvc_call_t *call,
                             const char *refresh_token,
                             msvc_login_result_t **out);

typedef enum msvc_logout_scope {
  MSVC_LOGOUT_LOCAL = 1,  /* the session of these claims */
  MSVC_LOGOUT_OTHERS = 2, /* every other session of the user */
  MSVC_LOGOUT_GLOBAL = 3  /* all of them */
} msvc_logout_scope_t;

/* Ends sessions of the user the claims name.  0 also when there was
 * nothing to end (a token without a session). */
MSVC_EXTERN int msvc_logout(msvc_t *svc, const msvc_call_t *call,
                            const msvc_claims_t *claims,
                            msvc_logout_scope_t scope);

/* The claims' user's live sessions, newest first.  out:
 * msvc_session_list_free(). */
MSVC_EXTERN int msvc_sessions_list(msvc_t *svc, const msvc_call_t *call,
                                   const msvc_claims_t *claims,
                                   msvc_session_list_t **out);
/* Ends one of the claims' user's sessions; MSVC_ENOTFOUND for an unknown
 * id or another user's. */
MSVC_EXTERN int msvc_session_end(msvc_t *svc, const msvc_call_t *call,
                                 const msvc_claims_t *claims,
                                 const char *session_id);

/* ---- signing keys ---- */

/* The public keys as a JWK Set (RFC 7517), {"keys":[...]}, for
 * GET /.well-known/jwks.json; free with msvc_free().  MSVC_EUNSUPPORTED
 * under HS256 (a secret is never published). */
MSVC_EXTERN int msvc_jwks(msvc_t *svc, char **json);
/* Replaces the keys that only verify with kids[i]/pems[i] (public keys,
 * PEM), at run time and safely while other threads verify: what a post
 * service does with the JWK Set it fetched.  MSVC_ECONFIG when a key is
 * unusable (nothing is replaced then). */
MSVC_EXTERN int msvc_set_verification_keys(msvc_t *svc, const char *const *kids,
                                           const char *const *pems, size_t n);

/* The user with this id.  MSVC_ENOTFOUND.  out: msvc_user_free(). */
MSVC_EXTERN int msvc_user_get(msvc_t *svc, const msvc_call_t *call,
                              const char *id, msvc_user_t **out);

/* Applies any of name, email, password (which needs current_password) to
 * user `id`.  MSVC_EVALIDATION with errs, MSVC_EEXIST for a taken email,
 * MSVC_EAUTH for a wrong current_password ("current_password" in errs),
 * MSVC_ENOTFOUND.  out (optional): the updated user, msvc_user_free(). */
MSVC_EXTERN int msvc_user_update(msvc_t *svc, const msvc_call_t *call,
                                 const char *id, const msvc_user_input_t *in,
                                 msvc_user_t **out, msvc_errors_t *errs);

/* Public users for ids[0..n): *out is an array of *nout users in the order
 * of ids, unknown ids left out, repeated ids answered once; free it with
 * msvc_users_free(*out, *nout).  n == 0 gives *out NULL and *nout 0. */
MSVC_EXTERN int msvc_users_lookup(msvc_t *svc, const msvc_call_t *call,
                                  const msvc_id_t *ids, size_t n,
                                  msvc_user_t ***out, size_t *nout);

/* ---- posts ----
 *
 * Writes act for an author, a user whose id is the post's user_id: take it
 * from verified claims with msvc_claims_author(), or from msvc_user_get()
 * when your program authenticates users itself.  Only the author may change
 * or delete a post (MSVC_EFORBIDDEN otherwise). */

/* out (optional): the new post, msvc_post_free(). */
MSVC_EXTERN int msvc_post_create(msvc_t *svc, const msvc_call_t *call,
                                 const msvc_user_t *author,
                                 const msvc_post_input_t *in, msvc_post_t **out,
                                 msvc_errors_t *errs);

/* The post, and (optional) its author through the resolver: *author is
 * NULL when unknown, and *degraded (optional) 1 when the resolver could not
 * be reached.  MSVC_ENOTFOUND. */
MSVC_EXTERN int msvc_post_get(msvc_t *svc, const msvc_call_t *call,
                              const char *id, msvc_post_t **out,
                              msvc_user_t **author, int *degraded);

/* Applies title and/or content.  MSVC_ENOTFOUND, MSVC_EFORBIDDEN,
 * MSVC_EVALIDATION.  out (optional): the updated post. */
MSVC_EXTERN int msvc_post_update(msvc_t *svc, const msvc_call_t *call,
                                 const msvc_user_t *author, const char *post_id,
                                 const msvc_post_input_t *in, msvc_post_t **out,
                                 msvc_errors_t *errs);
MSVC_EXTERN int msvc_post_delete(msvc_t *svc, const msvc_call_t *call,
                                 const msvc_user_t *author,
                                 const char *post_id);

/* One page newest first (req NULL: the defaults), authors resolved in one
 * resolver call.  MSVC_EVALIDATION (errs: "limit", "cursor", "user_id").
 * out: msvc_post_page_free(). */
MSVC_EXTERN int msvc_post_list(msvc_t *svc, const msvc_call_t *call,
                               const msvc_list_request_t *req,
                               msvc_post_page_t **out, msvc_errors_t *errs);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_SERVICE_H */
