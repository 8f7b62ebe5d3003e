/* service.c - opening and closing the msvc_t handle, tokens, readiness.
 *
 * The handle owns what it creates (store, local resolver, secret copy,
 * throttle table, id generator) and borrows what the caller passed in.
 * Everything it holds is either immutable after msvc_open or internally
 * synchronised, which is what makes every operation callable from many
 * threads at once.
 */
#include <stdlib.h>
#include <string.h>

#include "service_internal.h"

#define DEFAULT_DATABASE_URL "sqlite:./data/msvc.db"

void msvc_options_init(msvc_options_t *opts) {
  memset(opts, 0, sizeof(*opts));
  msvc_store_config_init(&opts->store_config);
  opts->token_ttl = MSVC_TOKEN_DEFAULT_TTL;
  msvc_password_config_init(&opts->password);
  opts->login_max_failures = 5;
  opts->login_window_s = 900;
  opts->login_lockout_s = 60;
  opts->login_table_size = 65536;
}

static int copy_settings(msvc_t *svc, const msvc_options_t *opts,
                         char *errbuf, size_t errlen) {
  if (opts->jwt_secret == NULL || opts->jwt_secret_len == 0) {
    msvc__set_error(errbuf, errlen, "a JWT secret is required");
    return MSVC_ECONFIG;
  }
  if (opts->token_ttl <= 0) {
    msvc__set_error(errbuf, errlen, "token lifetime must be positive");
    return MSVC_ECONFIG;
  }
  svc->secret = malloc(opts->jwt_secret_len);
  svc->password_prefix = msvc__strdup(opts->password.prefix);
  if (svc->secret == NULL || svc->password_prefix == NULL)
    return MSVC_ENOMEM;
  memcpy(svc->secret, opts->jwt_secret, opts->jwt_secret_len);
  svc->token.secret = svc->secret;
  svc->token.secret_len = opts->jwt_secret_len;
  svc->token.ttl = opts->token_ttl;
  svc->password.prefix = svc->password_prefix;
  svc->password.cost = opts->password.cost;
  return 0;
}

/* A hash of random bytes under the configured scheme: logins for unknown
 * emails verify against it so that they cost what a real check costs. */
static int make_dummy_hash(msvc_t *svc, char *errbuf, size_t errlen) {
  unsigned char raw[16];
  char pw[33];
  int rc = msvc__random_bytes(raw, sizeof(raw));
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < sizeof(raw); i++) {
    pw[2 * i] = "0123456789abcdef"[raw[i] >> 4];
    pw[2 * i + 1] = "0123456789abcdef"[raw[i] & 15];
  }
  pw[32] = '\0';
  rc = msvc_password_hash(&svc->password, pw, 32, &svc->dummy_hash);
  if (rc != 0)
    msvc__set_error(errbuf, errlen,
                    "password scheme %s with cost %lu is not usable",
                    svc->password.prefix, svc->password.cost);
  return rc;
}

static int open_store(msvc_t *svc, const msvc_options_t *opts, char *errbuf,
                      size_t errlen) {
  const char *url = opts->database_url ? opts->database_url
                                       : DEFAULT_DATABASE_URL;
  if (opts->store != NULL) {
    svc->store = opts->store;
    return 0;
  }
  svc->owns_store = 1;
  return msvc_store_open(url, &opts->store_config, &svc->store, errbuf,
                         errlen);
}

static int open_resolver(msvc_t *svc, const msvc_options_t *opts) {
  if (opts->resolver != NULL) {
    svc->resolver = opts->resolver;
    return 0;
  }
  svc->owns_resolver = 1;
  return msvc_resolver_local_new(svc->store, &svc->resolver);
}

int msvc_open(const msvc_options_t *opts, msvc_t **out, char *errbuf,
              size_t errlen) {
  msvc_t *svc;
  int rc;
  *out = NULL;
  if (opts == NULL)
    return MSVC_EINVAL;
  svc = calloc(1, sizeof(*svc));
  if (svc == NULL)
    return MSVC_ENOMEM;
  rc = copy_settings(svc, opts, errbuf, errlen);
  if (rc == 0)
    rc = make_dummy_hash(svc, errbuf, errlen);
  if (rc == 0)
    rc = msvc__throttle_new(opts->login_table_size, opts->login_max_failures,
                            opts->login_window_s, opts->login_lockout_s,
                            &svc->throttle);
  if (rc == 0)
    rc = msvc_idgen_new(&svc->ids);
  if (rc == 0)
    rc = open_store(svc, opts, errbuf, errlen);
  if (rc == 0)
    rc = open_resolver(svc, opts);
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
  msvc_idgen_free(svc->ids);
  msvc__throttle_free(svc->throttle);
  free(svc->dummy_hash);
  free(svc->password_prefix);
  if (svc->secret != NULL) {
    explicit_bzero(svc->secret, svc->token.secret_len);
    free(svc->secret);
  }
  free(svc);
}

msvc_store_t *msvc_get_store(msvc_t *svc) { return svc->store; }

msvc_resolver_t *msvc_get_resolver(msvc_t *svc) { return svc->resolver; }

const msvc_token_config_t *msvc_get_token_config(msvc_t *svc) {
  return &svc->token;
}

int msvc_ping(msvc_t *svc) { return msvc_store_ping(svc->store); }

int msvc_authenticate(msvc_t *svc, const char *token, size_t len,
                      msvc_claims_t *out) {
  return msvc_token_verify(&svc->token, token, len, msvc_now_ms() / 1000, out);
}

int msvc_service_token(msvc_t *svc, const char *service, char **out) {
  return msvc_token_issue_service(&svc->token, service, msvc_now_ms() / 1000,
                                  out);
}

int msvc__store_gate(msvc_t *svc, unsigned flags) {
  if ((flags & MSVC_NONBLOCK) && !msvc_store_reads_are_local(svc->store))
    return MSVC_EWOULDBLOCK;
  return 0;
}
