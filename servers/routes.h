/* routes.h - the route groups an executable can serve.
 *
 * Each group is a constant table in its own file; main_<x>.c adds the
 * groups of its role.  Every process serves the service group.
 */
#ifndef MSVC_SERVER_ROUTES_H
#define MSVC_SERVER_ROUTES_H

#include "http.h"

/* GET /, /healthz, /readyz. */
int msvc_routes_add_service(msvc_http_t *http);
/* Register, login, the profile, user lookups and their seed aliases. */
int msvc_routes_add_auth(msvc_http_t *http);
/* Posts and their seed aliases. */
int msvc_routes_add_posts(msvc_http_t *http);
/* Refresh, logout and the caller's sessions (auth role). */
int msvc_routes_add_sessions(msvc_http_t *http);
/* GET /metrics (every process, unless --metrics off). */
int msvc_routes_add_metrics(msvc_http_t *http);
/* GET /.well-known/jwks.json (auth role). */
int msvc_routes_add_keys(msvc_http_t *http);
/* GET /openapi.json; added last, since its document lists the routes
 * registered by then (see routes_openapi.c). */
int msvc_routes_add_openapi(msvc_http_t *http);
/* That document (compact JSON, `*len` bytes) and the routes it lacks,
 * "METHOD /path\n" each ("" when none). */
const char *msvc_routes_openapi(size_t *len, const char **undocumented);

/* The token part of the login and refresh answers: {"message", and
 * "access_token", "token_type", "expires_in", plus "refresh_token" and
 * "refresh_expires_in" when the result has a refresh token}. */
void msvc_routes_write_tokens(msvc__buf_t *b, const char *message,
                              const msvc_login_result_t *res);

#endif
