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

#include <pthread.h>
#include <stdint.h>

#include "config.h"
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
  const char *secret_source; /* static text for the startup log */

  pthread_mutex_t token_lock;  /* guards the two fields below */
  char *service_token;         /* owned; msvc-post's credential */
  int64_t service_token_renew; /* seconds since the epoch */
} msvc_app_t;

/* Builds the app for `roles` from cfg: the JWT secret (JWT_SECRET, else
 * DATA_DIR/jwt-secret, created once), the resolver, the library handle and
 * the pools.  Logs what it chose to stderr.  0, or an MSVC_E* code with a
 * readable reason in errbuf. */
int msvc_app_open(const msvc_config_t *cfg, const char *name, unsigned roles,
                  msvc_app_t **out, char *errbuf, size_t errlen);

/* Stops both pools after running every job they hold (each job's done()
 * still runs, so the loops that will receive them must still exist).
 * Idempotent. */
void msvc_app_stop_pools(msvc_app_t *app);

/* Stops the pools if still running, closes the handle and the resolver.
 * NULL is allowed. */
void msvc_app_close(msvc_app_t *app);

/* The secret's file: DATA_DIR/jwt-secret.  Exposed for the tests' sake. */
#define MSVC_APP_SECRET_FILE "jwt-secret"

#endif
