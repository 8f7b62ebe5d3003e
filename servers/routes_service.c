/* routes_service.c - GET /, /healthz and /readyz, served by every process.
 *
 * /readyz asks the store (and, for msvc-post, the auth services) whether
 * they answer now.  That may wait on a network, so unless the store is
 * local and there is no upstream, the check runs on the I/O pool.
 */
#include "routes.h"

static int run_root(msvc_request_t *rq, unsigned flags) {
  msvc__buf_t *b = &rq->out;
  (void)flags;
  msvc__buf_puts(b, "{\"message\":\"It's working ...\",\"service\":");
  msvc__json_cstring(b, rq->app->name);
  msvc__buf_puts(b, ",\"version\":");
  msvc__json_cstring(b, msvc_version_string());
  msvc__buf_puts(b, "}");
  msvc_request_json(rq, 200);
  return 0;
}

static int run_healthz(msvc_request_t *rq, unsigned flags) {
  (void)flags;
  msvc__buf_puts(&rq->out, "{\"status\":\"ok\"}");
  msvc_request_json(rq, 200);
  return 0;
}

static int run_readyz(msvc_request_t *rq, unsigned flags) {
  msvc_app_t *app = rq->app;
  if ((flags & MSVC_NOWAIT) && (!app->store_local || app->resolver != NULL))
    return MSVC_EWOULDBLOCK;
  if (msvc_ping(app->svc) != 0) {
    msvc_request_error(rq, 503, "Storage unavailable", NULL);
    return 0;
  }
  if (app->resolver != NULL && msvc_resolver_ping(app->resolver) != 0) {
    msvc_request_error(rq, 503, "No auth service answers", NULL);
    return 0;
  }
  msvc__buf_puts(&rq->out, "{\"status\":\"ready\"}");
  msvc_request_json(rq, 200);
  return 0;
}

static const msvc_route_t service_routes[] = {
    {MSVC_M_GET, "/", MSVC_AUTH_NONE, MSVC_RUN_LOOP, 0, NULL, run_root, 200, 0},
    {MSVC_M_GET, "/healthz", MSVC_AUTH_NONE, MSVC_RUN_LOOP, 0, NULL,
     run_healthz, 200, 0},
    {MSVC_M_GET, "/readyz", MSVC_AUTH_NONE, MSVC_RUN_TRY, 0, NULL, run_readyz,
     200, 0},
};

int msvc_routes_add_service(msvc_http_t *http) {
  return msvc_http_add_routes(http, service_routes,
                              MSVC__ARRAY_SIZE(service_routes));
}
