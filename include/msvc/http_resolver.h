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

#ifdef __cplusplus
}
#endif
#endif /* MSVC_HTTP_RESOLVER_H */
