/* routes_metrics.c - GET /metrics: the Prometheus text exposition.
 *
 * Served on the loop that takes the request (a scrape reads counters and
 * /proc, it never waits), on the public listener with --metrics on, or
 * only on a listener of its own with --metrics PORT (the HTTP layer keeps
 * it off the public one then).  No token: like /healthz, it is meant for a
 * scraper inside the deployment; --metrics PORT on an internal address, or
 * off, is how an operator keeps it private.
 */
#include "routes.h"

static int run_metrics(msvc_request_t *rq, unsigned flags) {
  (void)flags;
  msvc_http_write_metrics(rq->loop->http, &rq->out);
  rq->content_type = MSVC_METRICS_CONTENT_TYPE;
  rq->cache_control = "no-store";
  msvc_request_json(rq, 200);
  return 0;
}

static const msvc_route_t metrics_routes[] = {
    {MSVC_M_GET, "/metrics", MSVC_AUTH_NONE, MSVC_RUN_LOOP, 0, NULL,
     run_metrics, 200, MSVC_ROUTE_METRICS},
};

int msvc_routes_add_metrics(msvc_http_t *http) {
  return msvc_http_add_routes(http, metrics_routes,
                              MSVC__ARRAY_SIZE(metrics_routes));
}
