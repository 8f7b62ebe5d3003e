/* service.c - opening and closing the msvc_t handle, tokens, readiness.
 *
 * The handle owns what it creates (store, local resolver, secret copy,
 * throttle table, id generator) and borrows what the caller passed in.
 * Everything it holds is either immutable after msvc_open or internally
 * synchronised, which is what makes every operation callable from many
 * threads at once.  Every public entry point checks its pointers first
 * (MSVC_EINVAL, never a crash) and records its outcome for msvc_errmsg().
 */
#include <stdlib.h>
#include <string.h>

#include "domain/service_internal.h"

/* The settings the handle keeps: copies of the options'. */
static int copy_settings(msvc_t *svc, const msvc_options_t *opts, char *errbuf,
                         size_t errlen) {
  if (opts->secret == NULL) {
    msvc__set_error(errbuf, errlen, "a JWT secret is required");
    return MSVC_ECONFIG;
  }
  if (msvc_password_scheme_check(opts->password_scheme, opts->password_cost) !=
      0) {
    msvc__set_error(errbuf, errlen, "password cost %lu is out of range for %s",
                    opts->password_cost, opts->password_scheme);
    return MSVC_ECONFIG;
  }
  svc->secret = malloc(opts->secret_len);
  svc->password_scheme = msvc__strdup(opts->password_scheme);
  if (svc->secret == NULL || svc->password_scheme == NULL)
    return MSVC_ENOMEM;
  memcpy(svc->secret, opts->secret, opts->secret_len);
  svc->token.secret = svc->secret;
  svc->token.secret_len = opts->secret_len;
  svc->token.ttl = opts->token_ttl;
  svc->password_cost = opts->password_cost;
  return 0;
}

int msvc__hash_password(msvc_t *svc, const char *password, char **out) {
  return msvc_password_hash(svc->password_scheme, svc->password_cost, password,
                            strlen(password), out);
}

/* A hash of random bytes under the configured scheme: logins for unknown
 * emails verify against it so that they cost what a real check costs. */
static int make_dummy_hash(msvc_t *svc, char *errbuf, size_t errlen) {
  char pw[33];
  int rc = msvc__random_hex(pw, 16);
  if (rc == 0)
    rc = msvc__hash_password(svc, pw, &svc->dummy_hash);
  if (rc != 0)
    msvc__set_error(errbuf, errlen,
                    "password scheme %s with cost %lu is not usable",
                    svc->password_scheme, svc->password_cost);
  return rc;
}

static int open_store(msvc_t *svc, const msvc_options_t *opts, char *errbuf,
                      size_t errlen) {
  msvc_store_config_t cfg = MSVC_STORE_CONFIG_INIT;
  const char *url =
      opts->database_url ? opts->database_url : MSVC__DEFAULT_DATABASE_URL;
  if (opts->store != NULL) {
    svc->store = opts->store;
    return 0;
  }
  cfg.timeout_ms = opts->store_timeout_ms;
  cfg.connections = opts->store_connections;
  svc->owns_store = 1;
  return msvc_store_open(url, &cfg, &svc->store, errbuf, errlen);
}

static int open_resolver(msvc_t *svc, const msvc_options_t *opts) {
  if (opts->resolver != NULL) {
    svc->resolver = opts->resolver;
    return 0;
  }
  svc->owns_resolver = 1;
  return msvc_resolver_local_new(svc->store, &svc->resolver);
}

static int open_parts(msvc_t *svc, const msvc_options_t *opts, char *errbuf,
                      size_t errlen) {
  int rc = copy_settings(svc, opts, errbuf, errlen);
  if (rc == 0)
    rc = make_dummy_hash(svc, errbuf, errlen);
  if (rc == 0)
    rc = msvc__throttle_new(opts->login_table_size, opts->login_max_failures,
                            opts->login_window_s, opts->login_lockout_s,
                            &svc->throttle);
  if (rc == 0)
    rc = msvc__idgen_new(&svc->ids);
  if (rc == 0)
    rc = open_store(svc, opts, errbuf, errlen);
  if (rc == 0)
    rc = open_resolver(svc, opts);
  return rc;
}

int msvc_open(const msvc_options_t *opts, msvc_t **out, char *errbuf,
              size_t errlen) {
  msvc_t *svc;
  int rc;
  if (errbuf != NULL && errlen > 0)
    errbuf[0] = '\0';
  if (out == NULL || opts == NULL) {
    msvc__set_error(errbuf, errlen, "options and out are required");
    return MSVC_EINVAL;
  }
  *out = NULL;
  svc = calloc(1, sizeof(*svc));
  if (svc == NULL)
    return MSVC_ENOMEM;
  rc = open_parts(svc, opts, errbuf, errlen);
  if (rc != 0) {
    if (rc == MSVC_ENOMEM)
      msvc__set_error(errbuf, errlen, "out of memory");
    msvc_close(svc);
    return rc;
  }
  *out = svc;
  return 0;
}

void msvc_close(msvc_t *svc) {
  if (svc == NULL)
    return;
  if (svc->owns_resolver)
    msvc_resolver_free(svc->resolver);
  if (svc->owns_store)
    msvc_store_close(svc->store);
  msvc__idgen_free(svc->ids);
  msvc__throttle_free(svc->throttle);
  free(svc->dummy_hash);
  free(svc->password_scheme);
  if (svc->secret != NULL) {
    explicit_bzero(svc->secret, svc->token.secret_len);
    free(svc->secret);
  }
  free(svc);
}

const char *msvc_errmsg(const msvc_t *svc) {
  return msvc__errmsg_get(svc);
}

msvc_store_t *msvc_get_store(msvc_t *svc) {
  return svc != NULL ? svc->store : NULL;
}

msvc_resolver_t *msvc_get_resolver(msvc_t *svc) {
  return svc != NULL ? svc->resolver : NULL;
}

int msvc_ping(msvc_t *svc) {
  if (svc == NULL)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  return MSVC__END(svc, msvc_store_ping(svc->store));
}

int msvc__store_gate(msvc_t *svc, const msvc_call_t *call) {
  if ((msvc__call_flags(call) & MSVC_NOWAIT) &&
      !msvc_store_reads_are_local(svc->store))
    return MSVC_EWOULDBLOCK;
  return 0;
}

msvc_errors_t *msvc__errors_use(msvc_errors_t *caller, msvc_errors_t *local) {
  memset(local, 0, sizeof(*local));
  return caller != NULL ? caller : local;
}

void msvc__errors_done(msvc_errors_t *used, msvc_errors_t *caller) {
  if (used != caller) {
    msvc_errors_clear(used);
    free(used->items);
  }
}
