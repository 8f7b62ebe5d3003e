/* keys.h - the signing configuration of an executable: key files, the
 * generated key, the service secret, and msvc-post's JWK Set fetcher.
 *
 * The library signs and verifies; this is the host's side of it: reading
 * PEM files named in the configuration, creating a key once in DATA_DIR
 * when none is named, and (msvc-post under ES256/RS256) keeping the
 * handle's verify-only keys in step with what the auth services publish
 * at /.well-known/jwks.json.
 */
#ifndef MSVC_SERVER_KEYS_H
#define MSVC_SERVER_KEYS_H

#include <stddef.h>

#include "config.h"
#include "msvc/service.h"

/* 1 when cfg asks for ES256 or RS256. */
int msvc_keys_asymmetric(const msvc_config_t *cfg);

/* Adds to opts the algorithm, the private keys (auth roles: the files of
 * JWT_PRIVATE_KEY_FILE, else DATA_DIR/jwt-<alg>-*.pem, generated once when
 * there is none), the verify-only keys of JWT_PUBLIC_KEY_FILE and the
 * service secret (SERVICE_SECRET or SERVICE_SECRET_FILE).  `name` prefixes
 * the lines logged to stderr (which key signs, where a generated key went).
 * *have_service_secret: 1 when a service secret was given, so the JWT
 * secret is not needed for it.  0 or an MSVC_E* code with errbuf set. */
int msvc_keys_configure(const msvc_config_t *cfg, const char *name,
                        msvc_options_t *opts, int *have_service_secret,
                        char *errbuf, size_t errlen);

/* msvc-post's copy of the auth services' public keys. */
typedef struct msvc_jwks_fetcher msvc_jwks_fetcher_t;

/* Starts a thread that fetches the JWK Set from cfg->auth_micro_url into
 * svc's verify-only keys: every second until the first success (the auth
 * services may start later), then every cfg->jwks_refresh seconds.  A
 * failed fetch keeps the keys already held.  svc must outlive the
 * fetcher. */
int msvc_jwks_fetcher_start(const msvc_config_t *cfg, const char *name,
                            msvc_t *svc, msvc_jwks_fetcher_t **out);
/* Stops and joins the thread; NULL is allowed. */
void msvc_jwks_fetcher_stop(msvc_jwks_fetcher_t *f);
/* After MSVC_EKEY: fetches now unless a fetch started less than 10 s ago
 * (so a flood of unknown key ids makes no flood of fetches); blocks, for
 * worker threads only.  Callers then verify once more whatever this
 * returns. */
void msvc_jwks_fetcher_refresh(msvc_jwks_fetcher_t *f);

#endif
