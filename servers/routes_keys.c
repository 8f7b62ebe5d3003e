/* routes_keys.c - GET /.well-known/jwks.json: the public keys that verify
 * the access tokens this process signs (RFC 7517), for msvc-post and any
 * other verifier.
 *
 * Under HS256 there is nothing to publish (the key is a shared secret), so
 * the route answers 404 as if it did not exist.  The set only changes when
 * the process restarts with other key files, so clients may cache it for a
 * while: five minutes, short enough that a key added for rotation reaches
 * every verifier long before it starts signing tokens that matter (a
 * verifier also refetches on an unknown kid).
 */
#include "routes.h"

#define JWKS_CACHE_CONTROL "public, max-age=300"

static int run_jwks(msvc_request_t *rq, unsigned flags) {
  char *json = NULL;
  int rc = msvc_jwks(rq->app->svc, &json);
  (void)flags;
  if (rc == MSVC_EUNSUPPORTED) {
    msvc_request_error(rq, 404, "Not found", NULL);
    return 0;
  }
  if (rc != 0) {
    msvc_request_fail(rq, rc, NULL, NULL);
    return 0;
  }
  msvc__buf_puts(&rq->out, json);
  msvc_free(json);
  rq->cache_control = JWKS_CACHE_CONTROL;
  msvc_request_json(rq, 200);
  return 0;
}

static const msvc_route_t key_routes[] = {
    {MSVC_M_GET, "/.well-known/jwks.json", MSVC_AUTH_NONE, MSVC_RUN_LOOP, 0,
     NULL, run_jwks, 200, 0},
};

int msvc_routes_add_keys(msvc_http_t *http) {
  return msvc_http_add_routes(http, key_routes, MSVC__ARRAY_SIZE(key_routes));
}
