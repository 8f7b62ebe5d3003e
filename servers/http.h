/* http.h - the h2o plumbing shared by the msvc executables.
 *
 * One handler is registered at "/" and routes by itself over a table of
 * routes (h2o picks the first registered prefix, not the longest, so
 * prefix registration would be a trap).  For each request the HTTP layer
 * checks, in order: header size (431 above 16 KiB, as Node does), OPTIONS
 * (a CORS preflight on any path: 204, see cors.h), route (404), method
 * (405 with Allow; HEAD is GET without a body), caller (401),
 * content type of a body (415); h2o itself refuses bodies over MAX_BODY
 * and a filter turns that, and every other answer h2o makes on its own,
 * into the contract's JSON error.  A ":id" segment that is not 24 hex
 * digits leaves call->path_id empty, which the routes answer with 404.
 * Query parameters are percent-decoded; the first of repeated ones wins and
 * unknown ones are ignored.  Then the route's prepare() parses the input
 * on the loop thread and its run() does the work:
 *
 *  - MSVC_RUN_LOOP: run() never waits; it is called on the loop;
 *  - MSVC_RUN_TRY: run() is first called on the loop with MSVC_NOWAIT;
 *    if it returns MSVC_EWOULDBLOCK it runs again, without the flag, on the
 *    I/O pool;
 *  - MSVC_RUN_IO / MSVC_RUN_HASH: run() is called on the I/O pool, or on the
 *    password-hashing pool.  A full queue answers 503 "Server busy".
 *
 * A request (msvc_request_t) carries everything run() may read, copied out
 * of the h2o request, so run() never touches h2o memory and may outlive
 * it: when a client goes away while its job is queued, the request is
 * detached from h2o's and freed when the job comes back.  What the library
 * needs per call (the request id, the no-wait flag, the client's
 * User-Agent and address, the caller's session) travels in the
 * msvc_call_t that msvc_request_call() builds from it.
 *
 * Checking a token is tried on the loop first (MSVC_NOWAIT).  When the
 * library must read the session from a remote store (MSVC_EWOULDBLOCK), or
 * the token names a key msvc-post does not hold yet (MSVC_EKEY: the keys
 * are fetched again, rate-limited), the check runs on the I/O pool and the
 * request continues on its loop afterwards, in the same order of answers
 * (401 before 415 or 413).
 */
#ifndef MSVC_SERVER_HTTP_H
#define MSVC_SERVER_HTTP_H

#include <h2o.h>

#include "app.h"
#include "metrics.h"
#include "wire/json.h"

/* Methods, as bits, so that a 405 can list every allowed one. */
enum {
  MSVC_M_GET = 1u << 0, /* HEAD is answered as GET without a body */
  MSVC_M_POST = 1u << 1,
  MSVC_M_PUT = 1u << 2,
  MSVC_M_DELETE = 1u << 3
};

/* Who may call a route. */
typedef enum msvc_route_auth {
  MSVC_AUTH_NONE = 0,  /* anybody; the Authorization header is ignored */
  MSVC_AUTH_USER = 1,  /* a valid user token */
  MSVC_AUTH_LOOKUP = 2 /* a user or service token; nobody at all with
                          --allow-anonymous-lookups */
} msvc_route_auth_t;

typedef enum msvc_route_mode {
  MSVC_RUN_LOOP = 0,
  MSVC_RUN_TRY = 1,
  MSVC_RUN_IO = 2,
  MSVC_RUN_HASH = 3
} msvc_route_mode_t;

#define MSVC_QUERY_MAX_PARAMS 16
#define MSVC_REQUEST_ID_MAX 64
#define MSVC_USER_AGENT_MAX 256 /* bytes kept of a User-Agent */
#define MSVC_CLIENT_IP_MAX 64

typedef struct msvc_request msvc_request_t;

typedef struct msvc_route {
  unsigned method;  /* one MSVC_M_* bit */
  const char *path; /* exact, or with one ":id" segment */
  msvc_route_auth_t auth;
  msvc_route_mode_t mode;
  int takes_body; /* 1: a JSON body is read (415 on another type) */
  /* On the loop, before run(): parses input into the request.  Returns 0
   * to go on, or non-zero after setting an answer (msvc_request_error...).
   * NULL for none. */
  int (*prepare)(msvc_request_t *rq);
  /* Sets the answer, or returns MSVC_EWOULDBLOCK (only when `flags` has
   * MSVC_NOWAIT) to be run again on a worker.  flags: 0 or MSVC_NOWAIT,
   * meant for msvc_request_call(). */
  int (*run)(msvc_request_t *rq, unsigned flags);
  int status;     /* success status, e.g. 201; run() may use it */
  unsigned flags; /* MSVC_ROUTE_* */
} msvc_route_t;

/* Route flags. */
enum {
  MSVC_ROUTE_LOGIN = 1u << 0,       /* counted as a login attempt (metrics) */
  MSVC_ROUTE_METRICS = 1u << 1,     /* GET /metrics: on the metrics listener
                                       when it has its own port */
  MSVC_ROUTE_RATE_LIMITED = 1u << 2 /* --rate-limit applies (ratelimit.h) */
};

typedef struct msvc_query_param {
  char *name;  /* owned, percent-decoded */
  char *value; /* owned, percent-decoded; "%00" is kept undecoded */
} msvc_query_param_t;

struct msvc_http_loop;

/* One request's state.  Fields above the line are for routes. */
struct msvc_request {
  msvc_app_t *app;
  const msvc_route_t *route;
  char request_id[MSVC_REQUEST_ID_MAX + 1];
  char path_id[MSVC_ID_SIZE];         /* the ":id" segment, "" when not an id */
  msvc_claims_t *claims;              /* owned; the verified caller, or NULL */
  char *user_agent;                   /* owned copy (truncated), or NULL */
  char client_ip[MSVC_CLIENT_IP_MAX]; /* the peer's address, "" unknown */
  char *body; /* owned copy, NUL-terminated; NULL if none */
  size_t body_len;
  msvc_query_param_t query[MSVC_QUERY_MAX_PARAMS];
  size_t nquery;

  /* Parsed input, released with the request. */
  msvc__wire_user_t user_in;
  msvc__wire_post_t post_in;
  msvc_id_t *ids;
  size_t nids;
  char *text_in; /* a route's one string input (a refresh token) */
  int scope_in;  /* POST /api/logout's scope (msvc_logout_scope_t) */
  /* Field errors of a route that validates: one object for the whole
   * request, from parsing on the loop to the library call (which keeps
   * what parsing found).  NULL until msvc_request_errors(). */
  msvc_errors_t *errs;
  msvc_route_mode_t mode; /* starts as route->mode; prepare() may change */

  /* The answer. */
  int status;
  msvc__buf_t out;
  unsigned retry_after;      /* > 0: Retry-After header */
  int degraded;              /* 1: Warning header for missing user details */
  const char *cache_control; /* static; a Cache-Control header, or NULL */
  const char *content_type;  /* static; NULL: the JSON type */
  int fail_rc;               /* the MSVC_E* code msvc_request_fail mapped */

  /* ---- private to http.c ---- */
  h2o_req_t *req; /* NULL once the client has gone */
  struct msvc_http_loop *loop;
  msvc_pool_job_t job;
  h2o_multithread_message_t msg;
  int pending;    /* a job is out on a pool */
  unsigned allow; /* methods for a 405 */
  char *token;    /* owned copy while the token is checked on a worker */
  size_t token_len;
  int authing;        /* the job out is the token check */
  int auth_rc;        /* its outcome: 0, -1 (401) or an MSVC_E* code */
  int64_t started_us; /* msvc__monotonic_us() */
  size_t slot;        /* the metrics slot: 0, or 1 + the route's index */
  int token_refused;  /* the 401 is the token check's */
  int rate_check;     /* the shared rate limit is taken on the worker */
};

/* The first value of query parameter `name`, or NULL. */
const char *msvc_request_query(const msvc_request_t *rq, const char *name);

/* The library's per-call context for this request: its id (sent upstream)
 * and `flags` (MSVC_NOWAIT or 0, as run() received them). */
msvc_call_t msvc_request_call(const msvc_request_t *rq, unsigned flags);

/* rq->errs, created on first use; NULL when out of memory. */
msvc_errors_t *msvc_request_errors(msvc_request_t *rq);

/* Answers: status and a body written to rq->out. */
void msvc_request_json(msvc_request_t *rq, int status); /* body in out */
void msvc_request_error(msvc_request_t *rq, int status, const char *message,
                        const msvc_errors_t *errs);
/* Maps a library error code to the contract's answer; `what` names the
 * missing thing for a 404 ("Post", "User"). */
void msvc_request_fail(msvc_request_t *rq, int rc, const msvc_errors_t *errs,
                       const char *what);

/* The HTTP layer of one process. */
typedef struct msvc_http msvc_http_t;

/* Configures h2o (one host, the "/" handler, the body cap, the JSON error
 * filter) for `app`.  The routes are added afterwards. */
int msvc_http_new(msvc_app_t *app, msvc_http_t **out);
void msvc_http_free(msvc_http_t *http);
int msvc_http_add_routes(msvc_http_t *http, const msvc_route_t *routes,
                         size_t n);
/* The registered routes, in registration order: their count, and the
 * array in *routes (valid until the next msvc_http_add_routes). */
size_t msvc_http_routes(msvc_http_t *http, const msvc_route_t *const **routes);
h2o_globalconf_t *msvc_http_globalconf(msvc_http_t *http);
/* The h2o configuration of the separate metrics listener (--metrics PORT),
 * which serves only the MSVC_ROUTE_METRICS route; NULL without one. */
h2o_globalconf_t *msvc_http_metrics_globalconf(msvc_http_t *http);
/* Appends the Prometheus exposition of this process (metrics.h). */
void msvc_http_write_metrics(msvc_http_t *http, msvc__buf_t *b);
msvc_app_t *msvc_http_app(msvc_http_t *http);

/* Per loop thread: an h2o context plus what the HTTP layer keeps there.
 * The server embeds it in its own per-thread state. */
typedef struct msvc_http_loop {
  h2o_context_t ctx;
  msvc_http_t *http;
  unsigned index;
  h2o_multithread_receiver_t done; /* jobs coming back from the pools */
  size_t inflight;                 /* requests not yet disposed */
  size_t jobs;                     /* jobs out on a pool */
  uint64_t next_id;                /* for generated request ids */
  msvc__buf_t log;                 /* access-log lines not yet written */
  h2o_timeout_t log_timeout;
  h2o_timeout_entry_t log_entry;
  msvc_metrics_shard_t *metrics; /* owned by the msvc_http_t; may be NULL */
} msvc_http_loop_t;

void msvc_http_loop_init(msvc_http_loop_t *loop, msvc_http_t *http,
                         h2o_evloop_t *evloop, unsigned index);
/* Receives what the pools still send, writes the log and releases the
 * context.  Only when no job is out (loop->jobs == 0). */
void msvc_http_loop_dispose(msvc_http_loop_t *loop);
/* Writes pending access-log lines. */
void msvc_http_loop_flush_log(msvc_http_loop_t *loop);

#endif
