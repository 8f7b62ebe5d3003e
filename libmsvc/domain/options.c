/* options.c - the opaque settings of msvc_open (msvc/service.h).
 *
 * Options are set one at a time through setters that check ranges and copy
 * what they are given, so settings can be added in later versions without
 * any struct changing size.  Values are checked twice on purpose: ranges
 * here, at the moment of the mistake, and combinations (scheme with cost)
 * at msvc_open, when all of them are known.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/service_internal.h"

int msvc_options_new(msvc_options_t **out) {
  msvc_options_t *o;
  if (out == NULL)
    return MSVC_EINVAL;
  *out = NULL;
  o = calloc(1, sizeof(*o));
  if (o == NULL)
    return MSVC_ENOMEM;
  o->password_scheme = strdup("bcrypt");
  if (o->password_scheme == NULL) {
    free(o);
    return MSVC_ENOMEM;
  }
  o->token_ttl = MSVC_TOKEN_DEFAULT_TTL;
  o->login_max_failures = 5;
  o->login_window_s = 900;
  o->login_lockout_s = 60;
  o->login_account_max = 50;
  o->login_client_max = 100;
  o->login_table_size = 65536;
  o->store_timeout_ms = 5000;
  o->sessions = 1;
  o->check_revocation = 1;
  o->refresh_ttl_s = 30 * 86400;
  o->refresh_grace_s = 10;
  o->alg = MSVC__ALG_HS256;
  *out = o;
  return 0;
}

static void free_secret(msvc_options_t *o) {
  if (o->secret != NULL) {
    explicit_bzero(o->secret, o->secret_len);
    free(o->secret);
  }
  o->secret = NULL;
  o->secret_len = 0;
}

void msvc_options_free(msvc_options_t *opts) {
  if (opts == NULL)
    return;
  free_secret(opts);
  for (size_t i = 0; i < opts->nkeys; i++) {
    free(opts->keys[i].kid);
    explicit_bzero(opts->keys[i].pem, opts->keys[i].len);
    free(opts->keys[i].pem);
  }
  free(opts->keys);
  if (opts->service_secret != NULL)
    explicit_bzero(opts->service_secret, opts->service_secret_len);
  free(opts->service_secret);
  free(opts->database_url);
  free(opts->password_scheme);
  free(opts);
}

/* Stores v in *slot when lo <= v <= hi. */
static int set_in_range(unsigned *slot, int64_t v, int64_t lo, int64_t hi) {
  if (v < lo || v > hi)
    return MSVC_EINVAL;
  *slot = (unsigned)v;
  return 0;
}

/* The session settings (options 9 and up). */
static int set_session_int(msvc_options_t *o, msvc_option_t opt, int64_t v) {
  switch (opt) {
  case MSVC_OPT_SESSIONS:
  case MSVC_OPT_CHECK_REVOCATION:
    if (v != 0 && v != 1)
      return MSVC_EINVAL;
    *(opt == MSVC_OPT_SESSIONS ? &o->sessions : &o->check_revocation) = (int)v;
    return 0;
  case MSVC_OPT_REFRESH_TTL:
    if (v < 60 || v > 31536000)
      return MSVC_EINVAL;
    o->refresh_ttl_s = v;
    return 0;
  case MSVC_OPT_REFRESH_GRACE:
    if (v < 0 || v > 300)
      return MSVC_EINVAL;
    o->refresh_grace_s = v;
    return 0;
  default:
    return MSVC_EINVAL;
  }
}

int msvc_options_set_int(msvc_options_t *o, msvc_option_t opt, int64_t v) {
  unsigned u = 0;
  int rc;
  if (o == NULL)
    return MSVC_EINVAL;
  switch (opt) {
  case MSVC_OPT_TOKEN_TTL:
    if (v < 1 || v > INT64_C(2147483648))
      return MSVC_EINVAL;
    o->token_ttl = v;
    return 0;
  case MSVC_OPT_PASSWORD_COST:
    if (v < 0 || v > 31)
      return MSVC_EINVAL;
    o->password_cost = (unsigned long)v;
    return 0;
  case MSVC_OPT_LOGIN_MAX_FAILURES:
    return set_in_range(&o->login_max_failures, v, 0, 1000);
  case MSVC_OPT_LOGIN_WINDOW:
    return set_in_range(&o->login_window_s, v, 1, 86400);
  case MSVC_OPT_LOGIN_LOCKOUT:
    return set_in_range(&o->login_lockout_s, v, 1, 86400);
  case MSVC_OPT_LOGIN_ACCOUNT_MAX_FAILURES:
    return set_in_range(&o->login_account_max, v, 0, 100000);
  case MSVC_OPT_LOGIN_CLIENT_MAX_FAILURES:
    return set_in_range(&o->login_client_max, v, 0, 100000);
  case MSVC_OPT_LOGIN_TABLE_SIZE:
    return set_in_range(&o->login_table_size, v, 16, 1 << 24);
  case MSVC_OPT_STORE_TIMEOUT_MS:
    rc = set_in_range(&u, v, 1, 600000);
    if (rc == 0)
      o->store_timeout_ms = (int)u;
    return rc;
  case MSVC_OPT_STORE_CONNECTIONS:
    rc = set_in_range(&u, v, 0, 1024);
    if (rc == 0)
      o->store_connections = (int)u;
    return rc;
  default:
    return set_session_int(o, opt, v);
  }
  return MSVC_EINVAL;
}

/* Replaces *slot with a copy of s. */
static int replace_string(char **slot, const char *s) {
  char *copy = strdup(s);
  if (copy == NULL)
    return MSVC_ENOMEM;
  free(*slot);
  *slot = copy;
  return 0;
}

int msvc_options_set_database_url(msvc_options_t *o, const char *url) {
  if (o == NULL || url == NULL || url[0] == '\0')
    return MSVC_EINVAL;
  return replace_string(&o->database_url, url);
}

int msvc_options_set_jwt_secret(msvc_options_t *o, const void *secret,
                                size_t len) {
  unsigned char *copy;
  if (o == NULL || secret == NULL || len == 0 || len > 4096)
    return MSVC_EINVAL;
  copy = malloc(len);
  if (copy == NULL)
    return MSVC_ENOMEM;
  memcpy(copy, secret, len);
  free_secret(o);
  o->secret = copy;
  o->secret_len = len;
  return 0;
}

int msvc_options_set_password_scheme(msvc_options_t *o, const char *scheme) {
  if (o == NULL || scheme == NULL)
    return MSVC_EINVAL;
  if (strcmp(scheme, "bcrypt") != 0 && strcmp(scheme, "yescrypt") != 0)
    return MSVC_EINVAL;
  return replace_string(&o->password_scheme, scheme);
}

int msvc_options_set_store(msvc_options_t *o, msvc_store_t *store) {
  if (o == NULL)
    return MSVC_EINVAL;
  o->store = store;
  return 0;
}

int msvc_options_set_resolver(msvc_options_t *o, msvc_resolver_t *resolver) {
  if (o == NULL)
    return MSVC_EINVAL;
  o->resolver = resolver;
  return 0;
}

int msvc_options_set_jwt_algorithm(msvc_options_t *o, const char *alg) {
  if (o == NULL || alg == NULL)
    return MSVC_EINVAL;
  return msvc__alg_parse(alg, &o->alg);
}

/* A kid we would issue: 1..MSVC__KID_MAX bytes of [A-Za-z0-9._-]. */
static int kid_ok(const char *kid) {
  size_t n = kid != NULL ? strnlen(kid, MSVC__KID_MAX + 1) : 0;
  if (n == 0 || n > MSVC__KID_MAX)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (msvc__base64url_value(kid[i]) < 0 && kid[i] != '.')
      return 0;
  return 1;
}

static int add_key(msvc_options_t *o, const char *kid, const char *pem,
                   size_t len, int is_private) {
  struct msvc__key_option *grown, *k;
  if (o == NULL || !kid_ok(kid) || pem == NULL || len == 0 || len > 65536)
    return MSVC_EINVAL;
  grown = realloc(o->keys, (o->nkeys + 1) * sizeof(*grown));
  if (grown == NULL)
    return MSVC_ENOMEM;
  o->keys = grown;
  k = &o->keys[o->nkeys];
  k->kid = strdup(kid);
  k->pem = malloc(len + 1);
  if (k->kid == NULL || k->pem == NULL) {
    free(k->kid);
    free(k->pem);
    return MSVC_ENOMEM;
  }
  memcpy(k->pem, pem, len);
  k->pem[len] = '\0';
  k->len = len;
  k->is_private = is_private;
  o->nkeys++;
  return 0;
}

int msvc_options_add_signing_key(msvc_options_t *o, const char *kid,
                                 const char *pem, size_t len) {
  return add_key(o, kid, pem, len, 1);
}

int msvc_options_add_verification_key(msvc_options_t *o, const char *kid,
                                      const char *pem, size_t len) {
  return add_key(o, kid, pem, len, 0);
}

int msvc_options_set_service_secret(msvc_options_t *o, const void *secret,
                                    size_t len) {
  unsigned char *copy;
  if (o == NULL || secret == NULL || len == 0 || len > 4096)
    return MSVC_EINVAL;
  copy = malloc(len);
  if (copy == NULL)
    return MSVC_ENOMEM;
  memcpy(copy, secret, len);
  if (o->service_secret != NULL)
    explicit_bzero(o->service_secret, o->service_secret_len);
  free(o->service_secret);
  o->service_secret = copy;
  o->service_secret_len = len;
  return 0;
}
