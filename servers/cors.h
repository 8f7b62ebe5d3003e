/* cors.h - CORS for browsers (API.md, "Browsers"), as the seed's Express
 * cors() middleware answered, plus an optional list of allowed origins.
 *
 * CORS_ORIGINS (--cors-origins) is "*" (the default: any origin) or a
 * comma-separated list of exact origins ("https://app.example.com",
 * "http://127.0.0.1:8080", "null").
 *
 *  - "*": every answer carries "Access-Control-Allow-Origin: *", whether
 *    or not the request has an Origin (cors() does the same);
 *  - a list: every answer carries "Vary: Origin", and only a listed
 *    Origin gets "Access-Control-Allow-Origin: <that origin>"; any other
 *    Origin ("null" included, unless listed) gets no CORS header at all,
 *    so the browser keeps the answer from the page;
 *  - every OPTIONS request, on any path, is a preflight: 204, no body,
 *    and (for an allowed origin) Access-Control-Allow-Methods with cors()'s
 *    list (GET,HEAD,PUT,PATCH,POST,DELETE; an unknown requested method is
 *    simply not in it), Access-Control-Allow-Headers echoing the request's
 *    Access-Control-Request-Headers when that is a well-formed list of at
 *    most MSVC_CORS_REQUEST_HEADERS_MAX bytes (otherwise, and when absent,
 *    "Authorization, Content-Type"), Access-Control-Max-Age (600 s) and
 *    "Vary: Access-Control-Request-Headers".
 *
 * Nothing here allocates per request beyond the h2o request's pool, and
 * nothing here can fail a request.
 */
#ifndef MSVC_SERVER_CORS_H
#define MSVC_SERVER_CORS_H

#include <h2o.h>
#include <stddef.h>

#define MSVC_CORS_METHODS "GET,HEAD,PUT,PATCH,POST,DELETE"
#define MSVC_CORS_DEFAULT_HEADERS "Authorization, Content-Type"
#define MSVC_CORS_MAX_AGE "600"
#define MSVC_CORS_REQUEST_HEADERS_MAX 1024

typedef struct msvc_cors msvc_cors_t;

/* Parses a CORS_ORIGINS value (NULL or "*": any origin).  0 with *out set
 * (out may be NULL to only check), MSVC_ECONFIG with a readable reason in
 * errbuf, or MSVC_ENOMEM. */
int msvc_cors_new(const char *origins, msvc_cors_t **out, char *errbuf,
                  size_t errlen);
void msvc_cors_free(msvc_cors_t *cors);

/* 1 when req is to be answered as a preflight (its method is OPTIONS). */
int msvc_cors_is_preflight(const h2o_req_t *req);

/* Adds the CORS headers of an ordinary answer (any status) to req->res. */
void msvc_cors_answer(const msvc_cors_t *cors, h2o_req_t *req);

/* Adds the CORS headers of the 204 answer to a preflight to req->res. */
void msvc_cors_preflight(const msvc_cors_t *cors, h2o_req_t *req);

#endif
