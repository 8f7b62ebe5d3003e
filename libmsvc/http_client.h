/* http_client.h - a minimal blocking HTTP/1.1 client for the HTTP resolvers.
 *
 * Plain TCP only (http://).  A call runs one or more requests at once, each
 * on its own connection, over non-blocking sockets and poll(), and never
 * waits past one absolute deadline (connect, send and receive together).
 * Each origin keeps a small, thread-safe pool of idle keep-alive
 * connections.  Responses may be delimited by Content-Length, chunked, or
 * the end of the connection; anything malformed, larger than
 * MSVC__HTTP_MAX_BODY or cut short ends that request with an error and
 * closes its connection.  A pooled connection that turns out to have been
 * closed by the server before any byte of the answer arrived is replaced by
 * a fresh one and the request sent again, once: callers must therefore only
 * send requests that are safe to repeat.
 *
 * Name resolution (getaddrinfo) happens when a new connection is made and is
 * not bounded by the deadline; numeric addresses and names from /etc/hosts
 * never wait on a network.
 */
#ifndef MSVC_HTTP_CLIENT_H
#define MSVC_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define MSVC__HTTP_MAX_BODY (4u << 20)  /* response body cap, bytes */
#define MSVC__HTTP_MAX_HEAD (64u << 10) /* response header section cap */
#define MSVC__HTTP_POOL_MAX 32          /* idle connections kept per origin */

/* One scheme://host:port with its pool of idle connections.  Thread-safe;
 * it must outlive every call that uses it. */
typedef struct msvc__http_origin msvc__http_origin_t;

/* Parses url[0..len) ("http://host[:port][/]", host a name, an IPv4 address
 * or a bracketed IPv6 address; port 80 by default).  MSVC_ECONFIG with the
 * reason in errbuf for anything else, https:// included; MSVC_ENOMEM. */
int msvc__http_origin_new(const char *url, size_t len,
                          msvc__http_origin_t **out, char *errbuf,
                          size_t errlen);
/* Closes the idle connections and frees the origin.  NULL is allowed. */
void msvc__http_origin_free(msvc__http_origin_t *o);
/* "host:port" as written in the URL (the Host header); owned by o. */
const char *msvc__http_origin_authority(const msvc__http_origin_t *o);
/* How many idle connections the pool holds now (for tests). */
size_t msvc__http_origin_idle_count(msvc__http_origin_t *o);

/* One request and, after msvc__http_run, its outcome.  The inputs are
 * borrowed for the duration of the run. */
typedef struct msvc__http_req {
  msvc__http_origin_t *origin;
  const char *method;  /* "GET", "POST" */
  const char *target;  /* origin-form: "/path?query", no spaces or controls */
  const char *headers; /* extra "Name: value\r\n" lines, or NULL */
  const char *body;    /* request body (Content-Length is added), or NULL */
  size_t body_len;
  /* outputs */
  int err;    /* 0 when a whole response arrived, else an MSVC_E* code:
                 EUNAVAIL (no connection), ETIMEDOUT (deadline), EIO
                 (malformed or cut short), ETOOBIG, ENOMEM, EINVAL */
  int status; /* the HTTP status when err is 0 */
  char *resp; /* body, NUL-terminated (owned; msvc__http_req_reset) */
  size_t resp_len;
} msvc__http_req_t;

enum {
  /* Stop as soon as one request has a 2xx answer; the unfinished ones end
   * with MSVC_ETIMEDOUT. */
  MSVC__HTTP_FIRST_OK = 1u << 0
};

/* Runs reqs[0..n) concurrently, each on its own connection, and returns
 * when every one has finished or deadline_ms (msvc__monotonic_ms() clock)
 * has passed.  Outcomes are reported per request.  The outputs must start
 * zeroed (or hold an earlier run's results, which are freed and replaced). */
void msvc__http_run(msvc__http_req_t *reqs, size_t n, int64_t deadline_ms,
                    unsigned flags);

/* Frees the response body and zeroes the outputs; the inputs are kept. */
void msvc__http_req_reset(msvc__http_req_t *r);

#endif
