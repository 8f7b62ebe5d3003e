/* openapi.h - the OpenAPI 3.1 document a process serves at /openapi.json.
 *
 * servers/openapi/openapi.json is the one source: every operation of every
 * executable, hand-written.  The build embeds it (cmake/embed.cmake writes
 * msvc_openapi_source into a generated .c file).  At start-up each process
 * keeps only the operations whose (method, path) it registered, a route
 * path's ":id" segment being the document's "{id}", and names the routes
 * it serves that the document lacks: a route without its operation is a
 * bug that --print-openapi and the tests report.
 *
 * This part knows nothing of h2o: it takes the registered routes as a
 * list, so that it can be tested on its own.
 */
#ifndef MSVC_SERVER_OPENAPI_H
#define MSVC_SERVER_OPENAPI_H

#include <stddef.h>

#include "internal.h"

/* The embedded document (NUL-terminated; generated at build time). */
extern const char msvc_openapi_source[];
extern const size_t msvc_openapi_source_len;

/* One registered route: its method as the document names it ("get") and
 * its path as routed ("/api/posts/:id"). */
typedef struct msvc_openapi_route {
  const char *method;
  const char *path;
} msvc_openapi_route_t;

/* Filters the document `src` down to `routes`, sets info.title and
 * info.version, and writes the result (compact JSON) to `out`.  Every
 * route the document lacks is appended to `missing` as "METHOD /path\n".
 * 0, MSVC_EJSON when src is not a JSON object with "paths", or
 * MSVC_ENOMEM. */
int msvc_openapi_filter(const char *src, size_t src_len,
                        const msvc_openapi_route_t *routes, size_t n,
                        const char *title, const char *version,
                        msvc__buf_t *out, msvc__buf_t *missing);

#endif
