/* app.h - the application context of one msvc executable.
 *
 * An app is what the HTTP layer serves: the libmsvc handle opened from the
 * executable's configuration, the user resolver its role needs (the local
 * one, or the HTTP resolver of msvc-post), the two worker pools, and the
 * facts the startup log reports.  It knows nothing of h2o; the routes read
 * it, never change it, so it is shared by every loop and worker thread
 * without locking (the service-token cache has its own lock).
 */
#ifndef MSVC_SERVER_APP_H
#define MSVC_SERVER_APP_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include "config.h"
#include "keys.h"
#include "msvc/service.h"
#include "pool.h"

typedef struct msvc_app {
  const msvc_config_t *cfg;  /* borrowed; outlives the app */
  const char *name;          /* "msvc-server", "msvc-auth", "msvc-post" */
  unsigned roles;            /* MSVC_ROLE_* */
  msvc_t *svc;               /* owned */
  msvc_resolver_t *resolver; /* owned HTTP resolver, or NULL for local */
  int store_local;           /* the store's reads may run on a loop */
  /* CPU-bound jobs (password hashing) and waiting jobs (store writes,
   * remote reads, upstream calls) queue separately, so that a login storm
   * cannot hold up a post being written and the other way round. */
  msvc_pool_t *hash_pool; /* NULL in msvc-post, which never hashes */
  msvc_pool_t *io_pool;
  /* Where the JWT secret came from, with the real path of its file, for
   * the startup log. */
  char secret_source[PATH_MAX + 160];
  /* msvc-post under ES256/RS256: keeps the auth services' public keys;
   * NULL otherwise. */
  msvc_jwks_fetcher_t *jwks;

  pthread_mutex_t token_lock;  /* guards the two fields below */
  char *service_token;         /* owned; msvc-post's credential */
  int64_t service_token_renew; /* seconds since the epoch */
} msvc_app_t;

/* Builds the app for `roles` from cfg: the signing keys (keys.h), the JWT
 * secret when HS256 or the service tokens need it (JWT_SECRET, else
 * DATA_DIR/jwt-secret, created once), the resolver, the library handle,
 * the pools and msvc-post's key fetcher.  Logs what it chose to stderr.  0, or
 * an MSVC_E* code with a readable reason in errbuf. */
int msvc_app_open(const msvc_config_t *cfg, const char *name, unsigned roles,
                  msvc_app_t **out, char *errbuf, size_t errlen);

/* Stops both pools after running every job they hold (each job's done()
 * still runs, so the loops that will receive them must still exist).
 * Idempotent. */
void msvc_app_stop_pools(msvc_app_t *app);

/* For msvc-post after MSVC_EKEY: fetches the auth services' keys again
 * (rate-limited, blocking: workers only).  Nothing when there is no
 * fetcher. */
void msvc_app_refresh_keys(msvc_app_t *app);

/* Stops the pools if still running, closes the handle and the resolver.
 * NULL is allowed. */
void msvc_app_close(msvc_app_t *app);

/* The secret's file: DATA_DIR/jwt-secret.  Exposed for the tests' sake. */
#define MSVC_APP_SECRET_FILE "jwt-secret"

/* The shortest HS256 secret taken without a warning (RFC 7518, 3.2: a key
 * of at least the hash's size, 256 bits); --require-strong-secret refuses
 * shorter ones. */
#define MSVC_APP_SECRET_MIN_BYTES 32

#endif
