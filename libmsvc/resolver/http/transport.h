/* transport.h - HTTP requests for the HTTP resolvers, on libcurl.
 *
 * A transport (msvc__http_t) is what one resolver shares between all the
 * threads that call it: libcurl's DNS cache and TLS sessions in a share
 * handle, and a pool of multi handles, each with its own cache of
 * keep-alive connections.  A call (msvc__http_run) borrows one multi
 * handle for itself, runs its requests concurrently in it and gives it
 * back, so connections are reused from call to call without ever being
 * touched by two threads at once.  Every request is bounded by one
 * absolute deadline, name lookups included; http:// and https:// only,
 * certificates verified, no redirects, no proxies, responses capped at
 * MSVC__HTTP_MAX_BODY.  libcurl repeats a request once by itself when a
 * reused connection turns out to be closed, so callers must only send
 * requests that are safe to repeat.
 *
 * The transport never calls curl_global_init(): libcurl 7.84 and later
 * initialise themselves lazily and thread-safely (msvc__http_new refuses a
 * libcurl without that feature), and never touch signals (CURLOPT_NOSIGNAL).
 */
#ifndef MSVC_RESOLVER_HTTP_TRANSPORT_H
#define MSVC_RESOLVER_HTTP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#define MSVC__HTTP_MAX_BODY (8u << 20) /* response body cap, bytes */
#define MSVC__HTTP_POOL_MAX 32         /* idle multi handles kept */
#define MSVC__HTTP_DETAIL_MAX 256

typedef struct msvc__http msvc__http_t;

/* Checks url[0..len) as a base URL: "http[s]://host[:port][/]", host a
 * name, an IPv4 address or a bracketed IPv6 address, nothing else (no
 * user, path, query or fragment).  On success *base is a malloc()ed copy
 * without the trailing '/', to which request paths are appended.
 * MSVC_ECONFIG with the reason in errbuf, or MSVC_ENOMEM. */
int msvc__http_base_parse(const char *url, size_t len, char **base,
                          char *errbuf, size_t errlen);

/* Auth service URLs a list may name at most. */
#define MSVC__HTTP_MAX_BASES 64

/* "url[, url...]": each entry trimmed of white space, none empty, at most
 * MSVC__HTTP_MAX_BASES, each a base URL (msvc__http_base_parse) stored in
 * bases[0..*n) (malloc()ed; free them on success and failure alike).
 * MSVC_ECONFIG with the reason in errbuf, or MSVC_ENOMEM. */
int msvc__http_base_list_parse(const char *urls,
                               char *bases[MSVC__HTTP_MAX_BASES], size_t *n,
                               char *errbuf, size_t errlen);

/* A transport verifying https:// peers against ca_file (a PEM bundle,
 * copied; NULL for the system's store).  0, MSVC_ENOMEM, or MSVC_ECONFIG
 * (reason in errbuf) when the libcurl in use lacks thread-safe
 * initialisation or https. */
int msvc__http_new(const char *ca_file, msvc__http_t **out, char *errbuf,
                   size_t errlen);
/* Closes the pooled connections; no call may be running.  NULL is
 * allowed. */
void msvc__http_free(msvc__http_t *h);
/* Idle multi handles in the pool now (for tests). */
size_t msvc__http_pool_count(msvc__http_t *h);

/* One request and, after msvc__http_run, its outcome.  The inputs are
 * borrowed for the duration of the run. */
typedef struct msvc__http_req {
  const char *url;            /* absolute: base + path */
  const char *method;         /* "GET" or "POST" */
  const char *const *headers; /* "Name: value" strings, NULL-terminated;
                                 or NULL */
  const char *body;           /* POST body, or NULL */
  size_t body_len;
  /* outputs */
  int err;    /* 0 when a whole response arrived, else an MSVC_E* code:
                 EUNAVAIL (no connection: refused, name unknown, TLS
                 refused), ETIMEDOUT (deadline), EIO (malformed or cut
                 short), ETOOBIG, ENOMEM, EINVAL */
  int status; /* the HTTP status when err is 0 */
  int64_t elapsed_us; /* from the start of the transfer to its end */
  char *resp; /* body, NUL-terminated (owned; msvc__http_req_reset) */
  size_t resp_len;
  char detail[MSVC__HTTP_DETAIL_MAX]; /* why err is not 0, e.g. "Failed to
                                         connect ...: Connection refused" */
} msvc__http_req_t;

enum {
  /* Stop as soon as one request has a 2xx answer; the unfinished ones end
   * with MSVC_ETIMEDOUT. */
  MSVC__HTTP_FIRST_OK = 1u << 0
};

/* Runs reqs[0..n) concurrently and returns when every one has finished
 * or deadline_ms (msvc__monotonic_ms() clock) has passed.  Outcomes are
 * reported per request.  The outputs must start zeroed (or hold an
 * earlier run's results, which are freed and replaced).  Thread-safe. */
void msvc__http_run(msvc__http_t *h, msvc__http_req_t *reqs, size_t n,
                    int64_t deadline_ms, unsigned flags);

/* Frees the response body and zeroes the outputs; the inputs are kept. */
void msvc__http_req_reset(msvc__http_req_t *r);

#endif
