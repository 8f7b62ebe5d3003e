/* routes_service.c - GET /, /healthz and /readyz, served by every process.
 *
 * /readyz asks the store (and, for msvc-post, the auth services) whether
 * they answer now.  That may wait on a network, so unless the store is
 * local and there is no upstream, the check runs on the I/O pool.
 */
#include "routes.h"

static int run_root(msvc_call_t *call, unsigned flags) {
  msvc_buf_t *b = &call->out;
  (void)flags;
  msvc_buf_puts(b, "{\"message\":\"It's working ...\",\"service\":");
  msvc_json_cstring(b, call->app->name);
  msvc_buf_puts(b, ",\"version\":");
  msvc_json_cstring(b, msvc_version_string());
  msvc_buf_puts(b, "}");
  msvc_call_json(call, 200);
  return 0;
}

static int run_healthz(msvc_call_t *call, unsigned flags) {
  (void)flags;
  msvc_buf_puts(&call->out, "{\"status\":\"ok\"}");
  msvc_call_json(call, 200);
  return 0;
}

static int run_readyz(msvc_call_t *call, unsigned flags) {
  msvc_app_t *app = call->app;
  if ((flags & MSVC_NONBLOCK) && (!app->store_local || app->resolver != NULL))
    return MSVC_EWOULDBLOCK;
  if (msvc_ping(app->svc) != 0) {
    msvc_call_error(call, 503, "Storage unavailable", NULL);
    return 0;
  }
  if (app->resolver != NULL && msvc_resolver_ping(app->resolver) != 0) {
    msvc_call_error(call, 503, "No auth service answers", NULL);
    return 0;
  }
  msvc_buf_puts(&call->out, "{\"status\":\"ready\"}");
  msvc_call_json(call, 200);
  return 0;
}

static const msvc_route_t service_routes[] = {
    {MSVC_M_GET, "/", MSVC_AUTH_NONE, MSVC_RUN_LOOP, 0, NULL, run_root, 200},
    {MSVC_M_GET, "/healthz", MSVC_AUTH_NONE, MSVC_RUN_LOOP, 0, NULL,
     run_healthz, 200},
    {MSVC_M_GET, "/readyz", MSVC_AUTH_NONE, MSVC_RUN_TRY, 0, NULL, run_readyz,
     200},
};

int msvc_routes_add_service(msvc_http_t *http) {
  return msvc_http_add_routes(
      http, service_routes, sizeof(service_routes) / sizeof(service_routes[0]));
}
