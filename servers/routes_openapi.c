/* routes_openapi.c - GET /openapi.json: the OpenAPI 3.1 document of the
 * operations this process serves.
 *
 * The group is added last, after every other group: it registers its own
 * route, then filters the embedded document (openapi.h) down to the
 * routes registered by then and keeps the result.  Invariants: the
 * document is built once, before any loop thread starts, and only read
 * afterwards (so the route runs on the loop and copies it, with no lock);
 * it lives until the process ends; a route the document lacks is named on
 * stderr at start-up and by msvc_routes_openapi().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "openapi.h"
#include "routes.h"

static msvc__buf_t document;     /* the filtered document */
static msvc__buf_t undocumented; /* "METHOD /path\n" lines */

static int run_openapi(msvc_request_t *rq, unsigned flags) {
  (void)flags;
  msvc__buf_append(&rq->out, document.data, document.len);
  msvc_request_json(rq, 200);
  return 0;
}

static const msvc_route_t openapi_routes[] = {
    {MSVC_M_GET, "/openapi.json", MSVC_AUTH_NONE, MSVC_RUN_LOOP, 0, NULL,
     run_openapi, 200, 0},
};

static const char *method_name(unsigned bit) {
  switch (bit) {
  case MSVC_M_GET:
    return "get";
  case MSVC_M_POST:
    return "post";
  case MSVC_M_PUT:
    return "put";
  case MSVC_M_DELETE:
    return "delete";
  default:
    return "?";
  }
}

/* The routes the public listener serves, as openapi.c takes them (GET
 * /metrics is left out when it has a listener of its own); NULL on no
 * memory. */
static msvc_openapi_route_t *served_routes(msvc_http_t *http, size_t *n) {
  const msvc_route_t *const *routes;
  msvc_openapi_route_t *out;
  size_t all = msvc_http_routes(http, &routes);
  int metrics_apart = msvc_http_metrics_globalconf(http) != NULL;
  out = calloc(all > 0 ? all : 1, sizeof(*out));
  *n = 0;
  for (size_t i = 0; out != NULL && i < all; i++) {
    if (metrics_apart && (routes[i]->flags & MSVC_ROUTE_METRICS))
      continue;
    out[*n].method = method_name(routes[i]->method);
    out[*n].path = routes[i]->path;
    (*n)++;
  }
  return out;
}

static void warn_undocumented(void) {
  const char *line = undocumented.data;
  while (undocumented.len > 0 && *line != '\0') {
    const char *end = strchr(line, '\n');
    int len = end != NULL ? (int)(end - line) : (int)strlen(line);
    msvc_log(MSVC_LOG_WARN,
             "warning: route %.*s is not in the OpenAPI document", len, line);
    line += len + (end != NULL);
  }
}

int msvc_routes_add_openapi(msvc_http_t *http) {
  msvc_app_t *app = msvc_http_app(http);
  msvc_openapi_route_t *routes;
  size_t n;
  int rc = msvc_http_add_routes(http, openapi_routes,
                                MSVC__ARRAY_SIZE(openapi_routes));
  if (rc != 0)
    return rc;
  if ((routes = served_routes(http, &n)) == NULL)
    return MSVC_ENOMEM;
  msvc__buf_free(&document);
  msvc__buf_free(&undocumented);
  rc = msvc_openapi_filter(msvc_openapi_source, msvc_openapi_source_len, routes,
                           n, app->name, msvc_version_string(), &document,
                           &undocumented);
  free(routes);
  if (rc == 0)
    warn_undocumented();
  return rc;
}

const char *msvc_routes_openapi(size_t *len, const char **undocumented_out) {
  *len = document.len;
  *undocumented_out = undocumented.len > 0 ? undocumented.data : "";
  return document.data;
}
