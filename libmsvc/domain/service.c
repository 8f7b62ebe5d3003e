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

/* Verified tokens remembered (about 1 KiB each): enough for the clients of
 * a busy instance within one token lifetime's working set. */
#define TOKEN_CACHE_ENTRIES 4096

/* The keys: under HS256 the secret; else the PEM keys given.  A ring of
 * ES256/RS256 with no private key only verifies (a post service, whose
 * keys arrive later through msvc_set_verification_keys). */
static int make_keyring(msvc_t *svc, const msvc_options_t *opts, char *errbuf,
                        size_t errlen) {
  int rc = msvc__keyring_new(opts->alg, &svc->keys);
  if (rc == 0 && opts->alg == MSVC__ALG_HS256) {
    if (opts->secret == NULL) {
      msvc__set_error(errbuf, errlen, "a JWT secret is required");
      return MSVC_ECONFIG;
    }
    rc = msvc__keyring_set_secret(svc->keys, opts->secret, opts->secret_len);
  }
  for (size_t i = 0; rc == 0 && i < opts->nkeys; i++) {
    const struct msvc__key_option *k = &opts->keys[i];
    rc = k->is_private ? msvc__keyring_add_private(svc->keys, k->kid, k->pem,
                                                   k->len, errbuf, errlen)
                       : msvc__keyring_add_public(svc->keys, k->kid, k->pem,
                                                  k->len, errbuf, errlen);
  }
  return rc;
}

/* The service-token secret (given, or the JWT secret, or random: then no
 * other process can check this one's service tokens) and the refresh key
 * derived from it. */
static int make_service_secret(msvc_t *svc, const msvc_options_t *opts) {
  static const char label[] = "msvc refresh v1";
  const unsigned char *src =
      opts->service_secret ? opts->service_secret : opts->secret;
  size_t len =
      opts->service_secret ? opts->service_secret_len : opts->secret_len;
  svc->service_secret = malloc(src != NULL ? len : 32);
  if (svc->service_secret == NULL)
    return MSVC_ENOMEM;
  if (src != NULL)
    memcpy(svc->service_secret, src, len);
  else if (msvc__random_bytes(svc->service_secret, len = 32) != 0)
    return MSVC_EIO;
  svc->token.service_secret = svc->service_secret;
  svc->token.service_secret_len = len;
  return msvc__sha256_2(label, sizeof(label) - 1, svc->service_secret, len,
                        svc->refresh_key);
}

/* The settings the handle keeps: copies of the options'. */
static int copy_settings(msvc_t *svc, const msvc_options_t *opts, char *errbuf,
                         size_t errlen) {
  int rc;
  if (msvc_password_scheme_check(opts->password_scheme, opts->password_cost) !=
      0) {
    msvc__set_error(errbuf, errlen, "password cost %lu is out of range for %s",
                    opts->password_cost, opts->password_scheme);
    return MSVC_ECONFIG;
  }
  rc = make_keyring(svc, opts, errbuf, errlen);
  if (rc == 0)
    rc = make_service_secret(svc, opts);
  svc->password_scheme = msvc__strdup(opts->password_scheme);
  if (rc == 0 && svc->password_scheme == NULL)
    rc = MSVC_ENOMEM;
  svc->token.keys = svc->keys;
  svc->token.ttl = opts->token_ttl;
  svc->password_cost = opts->password_cost;
  svc->check_revocation = opts->check_revocation;
  svc->refresh_ttl_s = opts->refresh_ttl_s;
  svc->refresh_grace_s = opts->refresh_grace_s;
  svc->login.max_failures = opts->login_max_failures;
  svc->login.account_max = opts->login_account_max;
  svc->login.client_max = opts->login_client_max;
  svc->login.window_s = opts->login_window_s;
  svc->login.lockout_s = opts->login_lockout_s;
  return rc;
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
  svc->local_authors = svc->page_sink; /* the same store answers both */
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
    rc = msvc__token_cache_new(TOKEN_CACHE_ENTRIES, &svc->verified);
  if (rc == 0)
    rc = open_store(svc, opts, errbuf, errlen);
  if (rc == 0) {
    svc->page_sink = msvc__store_has_post_list_authors(svc->store);
    rc = open_resolver(svc, opts);
  }
  /* Sessions need a store that keeps them (a version 3 table). */
  svc->sessions = opts->sessions && msvc_store_has_sessions(svc->store);
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
  msvc__keyring_free(svc->keys);
  msvc__token_cache_free(svc->verified);
  if (svc->service_secret != NULL) {
    explicit_bzero(svc->service_secret, svc->token.service_secret_len);
    free(svc->service_secret);
  }
  explicit_bzero(svc->refresh_key, sizeof(svc->refresh_key));
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

int msvc_jwks(msvc_t *svc, char **json) {
  if (json != NULL)
    *json = NULL;
  if (svc == NULL || json == NULL)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  return MSVC__END(svc, msvc__keyring_jwks(svc->keys, json));
}

int msvc_set_verification_keys(msvc_t *svc, const char *const *kids,
                               const char *const *pems, size_t n) {
  char err[256] = "";
  int rc;
  if (svc == NULL || (n > 0 && (kids == NULL || pems == NULL)))
    return MSVC_EINVAL;
  MSVC__BEGIN();
  rc = msvc__keyring_replace_public(svc->keys, kids, pems, n, err, sizeof(err));
  if (rc == 0) /* a key that left stops verifying now, cached or not */
    msvc__token_cache_clear(svc->verified);
  if (rc != 0 && err[0] != '\0')
    msvc_set_error_detail("%s", err);
  return MSVC__END(svc, rc);
}
