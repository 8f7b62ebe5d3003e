/* msvc/service.h - the service handle: users, authentication and posts.
 *
 * A msvc_t ties a store, a user resolver, the token and password settings
 * and the login throttle together.  Every operation is a plain blocking
 * call, safe to make from several threads at once on one handle.  Calls
 * that hash a password (register, login, a password change) take tens of
 * milliseconds; calls that write wait for the store's durability guarantee;
 * an embedding event loop runs those on worker threads.  Reads accept
 * MSVC_NONBLOCK: they then return MSVC_EWOULDBLOCK instead of waiting on a
 * network, so a loop can answer them inline when the store is local.
 *
 * Results filled into caller-provided structs belong to the caller and are
 * released with the matching *_clear() function.
 */
#ifndef MSVC_SERVICE_H
#define MSVC_SERVICE_H

#include "common.h"
#include "password.h"
#include "post.h"
#include "resolver.h"
#include "store.h"
#include "token.h"
#include "user.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct msvc msvc_t;

enum { MSVC_NONBLOCK = 1u << 0 };

typedef struct msvc_options {
  /* Where data lives, when `store` is NULL.  NULL means
   * "sqlite:./data/msvc.db". */
  const char *database_url;
  msvc_store_config_t store_config;
  /* An already open store to use instead (borrowed: msvc_close leaves it
   * open).  Lets a caller share one store or wrap a backend. */
  msvc_store_t *store;
  /* The author resolver (borrowed); NULL means the local one over the
   * store, owned by the handle. */
  msvc_resolver_t *resolver;

  /* HS256 signing secret (copied by msvc_open); required. */
  const unsigned char *jwt_secret;
  size_t jwt_secret_len;
  int64_t token_ttl; /* seconds; default MSVC_TOKEN_DEFAULT_TTL */

  msvc_password_config_t password;

  /* Login throttle: after `login_max_failures` failures for one email
   * within `login_window_s`, further attempts are refused for
   * `login_lockout_s`, without a hash check.  0 failures disables it. */
  unsigned login_max_failures; /* 5 */
  unsigned login_window_s;     /* 900 */
  unsigned login_lockout_s;    /* 60 */
  unsigned login_table_size;   /* accounts tracked at once; 65536 */
} msvc_options_t;

MSVC_EXTERN void msvc_options_init(msvc_options_t *opts);

/* Opens the store (unless given), creates the schema if needed and prepares
 * the handle.  On failure *out is NULL and errbuf says why. */
MSVC_EXTERN int msvc_open(const msvc_options_t *opts, msvc_t **out,
                          char *errbuf, size_t errlen);
MSVC_EXTERN void msvc_close(msvc_t *svc);

/* Borrowed views; valid until msvc_close. */
MSVC_EXTERN msvc_store_t *msvc_get_store(msvc_t *svc);
MSVC_EXTERN msvc_resolver_t *msvc_get_resolver(msvc_t *svc);
MSVC_EXTERN const msvc_token_config_t *msvc_get_token_config(msvc_t *svc);

/* 0 when the store answers. */
MSVC_EXTERN int msvc_ping(msvc_t *svc);

/* ---- users and authentication ---- */

/* Validates name, email and password (errors in errs, MSVC_EVALIDATION),
 * hashes the password and stores the user.  MSVC_EEXIST for a taken
 * email.  Fields already listed in errs are not checked again.  `in` is
 * normalised in place (trimmed name, lower-cased email). */
MSVC_EXTERN int msvc_register(msvc_t *svc, msvc_user_input_t *in,
                              msvc_user_t *out, msvc_errors_t *errs);

typedef struct msvc_login_result {
  char *token;        /* compact JWT; free with msvc_free() */
  int64_t expires_in; /* seconds */
  unsigned retry_after; /* seconds, set with MSVC_ETHROTTLED */
  msvc_user_t user;   /* the user logged in; msvc_user_clear() */
} msvc_login_result_t;

MSVC_EXTERN void msvc_login_result_clear(msvc_login_result_t *res);

/* MSVC_EAUTH for an unknown email and for a wrong password alike, after
 * the same work (one hash check).  MSVC_ETHROTTLED with retry_after once
 * the account has failed too often.  MSVC_EVALIDATION when email or
 * password is missing or not a string (errs names them). */
MSVC_EXTERN int msvc_login(msvc_t *svc, msvc_user_input_t *in,
                           msvc_login_result_t *out, msvc_errors_t *errs);

/* Verifies a compact token (without "Bearer ").  MSVC_ETOKEN if bad. */
MSVC_EXTERN int msvc_authenticate(msvc_t *svc, const char *token, size_t len,
                                  msvc_claims_t *out);

/* A service token for calling other services under the shared secret;
 * free with msvc_free(). */
MSVC_EXTERN int msvc_service_token(msvc_t *svc, const char *service,
                                   char **out);

MSVC_EXTERN int msvc_user_get(msvc_t *svc, const char *id, unsigned flags,
                              msvc_user_t *out);

/* Applies any of name, email, password (which needs current_password) to
 * user `id`.  MSVC_EVALIDATION with errs, MSVC_EEXIST for a taken email,
 * MSVC_EAUTH for a wrong current_password, MSVC_ENOTFOUND. */
MSVC_EXTERN int msvc_user_update(msvc_t *svc, const char *id,
                                 msvc_user_input_t *in, msvc_user_t *out,
                                 msvc_errors_t *errs);

/* Public users for ids[0..n): out has room for n; found users go to
 * out[0..*nout) in the order of ids, unknown ids are left out, repeated ids
 * answered once. */
MSVC_EXTERN int msvc_users_lookup(msvc_t *svc, const msvc_id_t *ids, size_t n,
                                  unsigned flags, msvc_user_t *out,
                                  size_t *nout);

/* ---- posts ---- */

/* The author is the caller: `author` gives the id, name and email to
 * embed (typically from the token), so creating never asks a resolver. */
MSVC_EXTERN int msvc_post_create(msvc_t *svc, const msvc_user_t *author,
                                 msvc_post_input_t *in, msvc_post_t *out,
                                 msvc_errors_t *errs);

/* The post and its author through the resolver; *degraded is 1 when the
 * resolver was unavailable (author then has id ""). */
MSVC_EXTERN int msvc_post_get(msvc_t *svc, const char *id, unsigned flags,
                              const char *request_id, msvc_post_t *out,
                              msvc_user_t *author, int *degraded);

/* MSVC_ENOTFOUND, MSVC_EFORBIDDEN when caller_id is not the author. */
MSVC_EXTERN int msvc_post_update(msvc_t *svc, const char *caller_id,
                                 const char *post_id, msvc_post_input_t *in,
                                 msvc_post_t *out, msvc_errors_t *errs);
MSVC_EXTERN int msvc_post_delete(msvc_t *svc, const char *caller_id,
                                 const char *post_id);

typedef struct msvc_list_request {
  const char *limit;   /* query text or NULL for the default */
  const char *cursor;  /* NULL or "" for the first page */
  const char *user_id; /* NULL or "" for every author */
} msvc_list_request_t;

/* Validates the request (errs: "limit", "cursor", "user_id"), reads one
 * page newest first and resolves its authors in one resolver call. */
MSVC_EXTERN int msvc_post_list(msvc_t *svc, const msvc_list_request_t *req,
                               unsigned flags, const char *request_id,
                               msvc_post_page_t *out, msvc_errors_t *errs);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_SERVICE_H */
