/* msvc/http_resolver.h - user resolvers that ask auth services over HTTP
 * (module libmsvc-http, built on libcurl).
 *
 * Link with `pkg-config --libs libmsvc-http` (CMake: msvc::http).  The three
 * strategies of the seed, behind the msvc_resolver_t interface:
 *  - individual: one GET /api/getUser/:id per distinct id, concurrently;
 *  - batch: one POST /api/getUsers {"userIds":[...]} per call;
 *  - cached: batch for the ids missing from a bounded in-process cache with
 *    a time-to-live (a profile change shows after at most cache_ttl_s).
 * Calls spread over the healthy endpoints of a comma-separated list of
 * http:// or https:// base URLs (certificates verified, against ca_file
 * when given), skip an endpoint after failures and probe it back later,
 * keep connections alive, carry a bearer token and X-Request-Id, retry an
 * idempotent lookup once on another endpoint, and never wait past the
 * deadline, name lookups included.  resolve() blocks: call it from a worker
 * thread (the cached resolver answers MSVC_NOWAIT calls from its cache
 * alone).  The library never calls curl_global_init(); libcurl 7.84+ makes
 * that safe, and a host that wants it calls it itself first.
 *
 * The module also fetches an auth service's public signing keys (its JWK
 * Set) for services that verify ES256/RS256 tokens: msvc_jwks_fetch().
 */
#ifndef MSVC_HTTP_RESOLVER_H
#define MSVC_HTTP_RESOLVER_H

#include "common.h"
#include "resolver.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum msvc_resolver_strategy {
  MSVC_RESOLVER_INDIVIDUAL = 1,
  MSVC_RESOLVER_BATCH = 2,
  MSVC_RESOLVER_CACHED = 3
} msvc_resolver_strategy_t;

/* "individual", "batch", "cached" -> strategy; 0 or MSVC_EINVAL. */
MSVC_EXTERN int msvc_resolver_strategy_parse(const char *s,
                                             msvc_resolver_strategy_t *out);

/* Supplies the bearer token for outgoing calls; returns a string from
 * malloc() the resolver frees, or NULL for none.  Called from worker
 * threads. */
typedef char *(*msvc_credential_fn)(void *arg);

/* Initialise with msvc_http_resolver_config_init() (or
 * MSVC_HTTP_RESOLVER_CONFIG_INIT); fields may be appended, the library
 * reads those `size` covers.  Strings are copied by msvc_resolver_http_new. */
typedef struct msvc_http_resolver_config {
  size_t size;                       /* sizeof(msvc_http_resolver_config_t) */
  const char *urls;                  /* "http://h:p[,https://h2:p2...]" */
  msvc_resolver_strategy_t strategy; /* cached */
  int timeout_ms;                    /* whole-call deadline; 1000 */
  int cache_size;                    /* entries, cached strategy; 10000 */
  int cache_ttl_s;                   /* seconds, cached strategy; 60 */
  int fail_threshold;    /* failures before an endpoint is skipped; 2 */
  int probe_interval_ms; /* how soon a skipped endpoint is retried; 1000 */
  msvc_credential_fn credential;
  void *credential_arg;
  const char *ca_file; /* PEM CA bundle for https://; NULL: system's */
} msvc_http_resolver_config_t;

#define MSVC_HTTP_RESOLVER_CONFIG_INIT                                         \
  {                                                                            \
    sizeof(msvc_http_resolver_config_t), NULL, MSVC_RESOLVER_CACHED, 1000,     \
        10000, 60, 2, 1000, NULL, NULL, NULL                                   \
  }

MSVC_EXTERN void msvc_http_resolver_config_init(msvc_http_resolver_config_t *c);

/* MSVC_ECONFIG for an unusable URL list or setting (reason in errbuf, which
 * may be NULL), MSVC_EINVAL for NULL arguments.
 *
 * How the resolvers behave, beyond msvc/resolver.h:
 *  - ids that are not 24 hex digits are answered "no such user" without a
 *    request; case does not matter, and out[i]->id is ids[i] lower-cased;
 *  - when some lookups fail (no endpoint answered in time, or answered
 *    garbage, a 5xx, or a refusal such as 401), resolve() returns
 *    MSVC_EUNAVAIL and leaves the slots it could answer filled;
 *  - a user is placed only under the id its answer carries, and only if
 *    that id was asked for;
 *  - the first attempt gets half of timeout_ms when there is another
 *    endpoint to retry on, the retry the rest;
 *  - the cached strategy also remembers "no such user", for
 *    min(cache_ttl_s, 10 s);
 *  - a credential string that cannot travel in a header (controls, spaces,
 *    more than 8 KiB) makes resolve() fail with MSVC_EUNAVAIL, sending
 *    nothing; an unsafe request id is simply left out;
 *  - stats: misses counts ids fetched, hits ids answered from the cache,
 *    requests and failures count HTTP attempts. */
MSVC_EXTERN int msvc_resolver_http_new(const msvc_http_resolver_config_t *cfg,
                                       msvc_resolver_t **out, char *errbuf,
                                       size_t errlen);

/* ---- JWK Sets: the public keys of an auth service ---- */

/* A set of public keys from a JWK Set: kids[i] names the PEM
 * (SubjectPublicKeyInfo) public key pems[i], ready for
 * msvc_set_verification_keys() (msvc/service.h).  kids are distinct, in
 * the order of the set.  Free with msvc_jwks_free(); fields may be
 * appended. */
typedef struct msvc_jwks {
  size_t count;
  char **kids;
  char **pems;
} msvc_jwks_t;

/* The most keys a set yields; the entries past it are skipped. */
#define MSVC_JWKS_MAX_KEYS 1024

/* NULL is allowed. */
MSVC_EXTERN void msvc_jwks_free(msvc_jwks_t *set);

/* Parses a JWK Set (RFC 7517) strictly: {"keys":[...]}, read through the
 * project's strict JSON path.  Keeps the keys that
 *  - have "use" "sig" or no "use", and an "alg", if any, of RS256 for RSA
 *    and ES256 for EC;
 *  - have a "kid" of 1 to 64 bytes of [A-Za-z0-9._-], not seen before in
 *    the set (the first key with a kid wins: a later one is skipped);
 *  - are "kty" "RSA" with "n" and "e" (an odd modulus of 2048 to 8192
 *    bits, an odd exponent of 65537 up to 64 bits) or "kty" "EC" with
 *    "crv" "P-256" and "x" and "y" of 32 bytes each, a point on the curve,
 *    as OpenSSL's public key check sees them;
 * with every number in unpadded, canonical base64url.  The other keys are
 * skipped and counted in *skipped (which may be NULL).  Malformed JSON, or
 * no "keys" array, is MSVC_EJSON; a set with no key kept is
 * MSVC_ENOTFOUND; *out is set (msvc_jwks_free()) only on success. */
MSVC_EXTERN int msvc_jwks_parse(const char *json, size_t len, msvc_jwks_t **out,
                                size_t *skipped);

/* GETs /.well-known/jwks.json from the first of the comma-separated base
 * URLs (as msvc_http_resolver_config_t.urls) that answers 200 with a set
 * msvc_jwks_parse() takes, trying them in order, all within timeout_ms
 * (name lookups included): an endpoint gets an equal share of the time
 * left over those still untried, so a hanging one cannot starve the rest.
 * https:// peers are verified against ca_file (NULL: the system's store).
 * No credential is sent: the keys are public.  Blocks; thread-safe (no
 * state is kept between calls, so callers cache the result and rate-limit
 * refetches themselves).  MSVC_EUNAVAIL when no endpoint gave a usable set
 * (each endpoint's reason in errbuf, which may be NULL), MSVC_ECONFIG for
 * an unusable URL list, MSVC_EINVAL for NULL arguments or timeout_ms < 1,
 * MSVC_ENOMEM. */
MSVC_EXTERN int msvc_jwks_fetch(const char *urls, const char *ca_file,
                                int timeout_ms, msvc_jwks_t **out, char *errbuf,
                                size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_HTTP_RESOLVER_H */
