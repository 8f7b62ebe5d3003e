/* wire/routes.h - the auth service's lookup routes, named once.
 *
 * msvc-auth serves them (servers/routes_auth.c) and the HTTP resolver calls
 * them (libmsvc/resolver/http/), so the two sides cannot drift apart.
 */
#ifndef MSVC_WIRE_ROUTES_H
#define MSVC_WIRE_ROUTES_H

/* GET MSVC__ROUTE_GET_USER "<id>": one public user, {"user": {...}}. */
#define MSVC__ROUTE_GET_USER "/api/getUser/"
/* POST {"userIds": [...]}: {"users": [...]}, at most
 * MSVC__GET_USERS_MAX ids a call. */
#define MSVC__ROUTE_GET_USERS "/api/getUsers"
#define MSVC__GET_USERS_MAX 1000

#endif
