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

#endif
