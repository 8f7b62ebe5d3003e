/* http.c - routing, request checks, answers and the access log on h2o.
 *
 * Invariants:
 *  - every answer is a JSON object with Content-Type application/json, an
 *    explicit Content-Length and the request's X-Request-Id, h2o's own
 *    error pages included (a filter on the fallback path rewrites them);
 *    the one exception is the 204 to a preflight (any OPTIONS), which has
 *    no body; every answer carries the CORS headers of cors.h;
 *  - a msvc_request_t is freed exactly once, by whichever comes last: the
 *    h2o request's disposal (a callback on its memory pool) or the return
 *    of its pool job.  While a job is out, disposal only detaches it
 *    (c->req = NULL), and the returning job then frees it unanswered;
 *  - everything a worker reads from a request was copied off h2o's on the
 *    loop thread; workers never touch h2o memory, and a request's h2o
 *    pointer, counters and log buffer are only used on its loop thread;
 *  - loop->inflight counts requests not yet disposed and loop->jobs the
 *    jobs still out, which is what graceful shutdown waits for;
 *  - a request has at most one job out: the token check on a worker, when
 *    the loop could not do it, and later the route's own work.
 */
#include "http.h"
#include "cors.h"
#include "framing.h"
#include "log.h"
#include "proxies.h"
#include "ratelimit.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One write(2) of at most PIPE_BUF bytes is atomic on a pipe, so batches
 * from several loops never interleave inside a line. */
#define LOG_LINE_MAX 1536 /* a bound on one line, see log_access */
#define LOG_FLUSH_MS 100
#define LOG_PATH_MAX 256  /* bytes of the path logged (escaped: x3) */
#define LOG_METHOD_MAX 16 /* bytes of the method logged */
#define QUERY_MAX_BYTES 4096
#define MAX_HEADER_BYTES 16384
#define JSON_TYPE "application/json; charset=utf-8"
/* Longer tokens are refused without asking the library, which refuses
 * them too (its own limit is 4 KiB). */
#define TOKEN_MAX_BYTES 4096

struct msvc_http {
  h2o_globalconf_t conf;
  msvc_app_t *app;
  const msvc_route_t **routes;
  size_t nroutes, cap;
  char id_prefix[9];       /* random per process, for generated request ids */
  msvc_cors_t *cors;       /* from CORS_ORIGINS */
  msvc_proxies_t *proxies; /* from TRUSTED_PROXIES; NULL: none */
  msvc_ratelimit_t *ratelimit; /* --rate-limit; NULL: off */
  /* Metrics: one shard per loop index, made by the loop's init once every
   * route is added, freed with the msvc_http_t (a scrape on another loop
   * may still read a shard after its loop is gone). */
  msvc_metrics_shard_t **shards;
  size_t nshards;
  int64_t start_time_s;
  int metrics_apart;      /* /metrics only on its own listener */
  h2o_globalconf_t mconf; /* that listener's configuration */
};

typedef struct route_handler {
  h2o_handler_t super;
  msvc_http_t *http;
  int metrics_listener; /* serves the MSVC_ROUTE_METRICS route alone */
} route_handler_t;

/* Lives in h2o's request pool; its dispose callback is the request's end. */
typedef struct request_anchor {
  msvc_request_t *rq;
} request_anchor_t;

typedef struct json_error_ostream {
  h2o_ostream_t super;
  h2o_iovec_t body;
} json_error_ostream_t;

static const char FALLBACK_500[] =
    "{\"status\":500,\"message\":\"Internal server error\"}";

/* ---- small helpers --------------------------------------------------- */

static msvc_http_loop_t *loop_of(h2o_req_t *req) {
  return H2O_STRUCT_FROM_MEMBER(msvc_http_loop_t, ctx, req->conn->ctx);
}

static const char *reason_phrase(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 409:
    return "Conflict";
  case 413:
    return "Payload Too Large";
  case 415:
    return "Unsupported Media Type";
  case 422:
    return "Unprocessable Entity";
  case 429:
    return "Too Many Requests";
  case 431:
    return "Request Header Fields Too Large";
  case 503:
    return "Service Unavailable";
  default:
    return status < 500 ? "Error" : "Internal Server Error";
  }
}

/* The message of an error h2o answers on its own. */
static const char *h2o_error_message(int status) {
  switch (status) {
  case 400:
    return "Bad request";
  case 404:
    return "Not found";
  case 413:
    return "Request body too large";
  case 503:
    return "Service unavailable";
  default:
    return status < 500 ? "Bad request" : "Internal server error";
  }
}

/* An X-Request-Id we echo must be 1..64 printable characters. */
static int request_id_ok(const char *s, size_t len) {
  if (len == 0 || len > MSVC_REQUEST_ID_MAX)
    return 0;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
      return 0;
  return 1;
}

/* "<process>-<loop>-<counter in hex>", without printf (every request). */
static void format_request_id(msvc_http_loop_t *loop,
                              char out[MSVC_REQUEST_ID_MAX + 1]) {
  static const char hex[] = "0123456789abcdef";
  char tmp[24];
  size_t n = 0, k = 0;
  uint64_t v = ++loop->next_id;
  unsigned idx = loop->index;
  for (const char *p = loop->http->id_prefix; *p != '\0'; p++)
    out[n++] = *p;
  out[n++] = '-';
  do
    tmp[k++] = (char)('0' + idx % 10);
  while ((idx /= 10) != 0);
  while (k > 0)
    out[n++] = tmp[--k];
  out[n++] = '-';
  do
    tmp[k++] = hex[v & 15];
  while ((v >>= 4) != 0);
  while (k > 0)
    out[n++] = tmp[--k];
  out[n] = '\0';
}

/* Takes the client's request id or makes "<process>-<loop>-<counter>". */
static void assign_request_id(msvc_http_loop_t *loop, h2o_req_t *req,
                              char out[MSVC_REQUEST_ID_MAX + 1]) {
  ssize_t i =
      h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-request-id"), -1);
  if (i != -1) {
    h2o_iovec_t v = req->headers.entries[i].value;
    if (request_id_ok(v.base, v.len)) {
      memcpy(out, v.base, v.len);
      out[v.len] = '\0';
      return;
    }
  }
  format_request_id(loop, out);
}

/* ---- access log -------------------------------------------------------- */

static void log_sanitized(msvc__buf_t *b, const char *s, size_t len,
                          size_t max) {
  size_t n = len < max ? len : max;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch > 0x20 && ch < 0x7f && ch != '%') {
      msvc__buf_append(b, &s[i], 1);
    } else {
      char esc[3] = {'%', "0123456789ABCDEF"[ch >> 4],
                     "0123456789ABCDEF"[ch & 15]};
      msvc__buf_append(b, esc, 3);
    }
  }
  if (n < len)
    msvc__buf_puts(b, "...");
}

void msvc_http_loop_flush_log(msvc_http_loop_t *loop) {
  size_t off = 0;
  while (off < loop->log.len) {
    ssize_t w = write(STDERR_FILENO, loop->log.data + off, loop->log.len - off);
    if (w <= 0)
      break; /* a log we cannot write must not stop the server */
    off += (size_t)w;
  }
  msvc__buf_reset(&loop->log);
}

static void on_log_timeout(h2o_timeout_entry_t *entry) {
  msvc_http_loop_t *loop =
      H2O_STRUCT_FROM_MEMBER(msvc_http_loop_t, log_entry, entry);
  msvc_http_loop_flush_log(loop);
}

/* Queues b's line for the loop's next write (at most LOG_FLUSH_MS away). */
static void log_queue(msvc_http_loop_t *loop, msvc__buf_t *b) {
  if (b->failed) {
    msvc__buf_free(b);
    msvc__buf_init(b);
  } else if (!h2o_timeout_is_linked(&loop->log_entry)) {
    h2o_timeout_link(loop->ctx.loop, &loop->log_timeout, &loop->log_entry);
  }
}

/* What an access-log line says beside the h2o request. */
typedef struct access_entry {
  int status;
  int64_t started_us;
  const char *request_id;
  const msvc_request_t *c; /* NULL for h2o's own answers */
} access_entry_t;

/* Text: time, method, path (no query), status, milliseconds, id.  With
 * the caps above a line stays under LOG_LINE_MAX bytes. */
static void log_text(msvc__buf_t *b, h2o_req_t *req, const access_entry_t *e,
                     int64_t us, size_t pathlen) {
  char ts[32], ms[32];
  msvc__format_timestamp(msvc__realtime_ms(), ts);
  snprintf(ms, sizeof(ms), " %lld.%03lldms ", (long long)(us / 1000),
           (long long)(us % 1000));
  msvc__buf_puts(b, ts);
  msvc__buf_puts(b, " ");
  log_sanitized(b, req->input.method.base, req->input.method.len,
                LOG_METHOD_MAX);
  msvc__buf_puts(b, " ");
  log_sanitized(b, req->input.path.base, pathlen, LOG_PATH_MAX);
  msvc__buf_puts(b, " ");
  msvc__buf_int(b, e->status);
  msvc__buf_puts(b, ms);
  msvc__buf_puts(b, e->request_id);
  msvc__buf_puts(b, "\n");
}

/* JSON: one object; "route" is the route's template when one took the
 * request, so that lines group by route whatever the ids in the path. */
static void log_json(msvc__buf_t *b, h2o_req_t *req, const access_entry_t *e,
                     int64_t us, size_t pathlen) {
  const msvc_request_t *c = e->c;
  char ms[64];
  msvc__buf_t tmp;
  msvc_log_json_open(b, MSVC_LOG_INFO);
  msvc__buf_puts(b, ",\"msg\":\"request\",\"request_id\":");
  msvc__json_cstring(b, e->request_id);
  msvc__buf_puts(b, ",\"method\":");
  msvc__buf_init(&tmp);
  log_sanitized(&tmp, req->input.method.base, req->input.method.len,
                LOG_METHOD_MAX);
  msvc__json_string(b, tmp.data != NULL ? tmp.data : "", tmp.len);
  msvc__buf_reset(&tmp);
  msvc__buf_puts(b, ",\"path\":");
  log_sanitized(&tmp, req->input.path.base, pathlen, LOG_PATH_MAX);
  msvc__json_string(b, tmp.data != NULL ? tmp.data : "", tmp.len);
  msvc__buf_free(&tmp);
  if (c != NULL && c->route != NULL) {
    msvc__buf_puts(b, ",\"route\":");
    msvc__json_cstring(b, c->route->path);
  }
  msvc__buf_puts(b, ",\"status\":");
  msvc__buf_int(b, e->status);
  snprintf(ms, sizeof(ms), ",\"duration_ms\":%lld.%03lld",
           (long long)(us / 1000), (long long)(us % 1000));
  msvc__buf_puts(b, ms);
  if (c != NULL && c->client_ip[0] != '\0') {
    msvc__buf_puts(b, ",\"client\":");
    msvc__json_cstring(b, c->client_ip);
  }
  if (c != NULL && c->claims != NULL && c->claims->user != NULL) {
    msvc__buf_puts(b, ",\"user_id\":");
    msvc__json_cstring(b, c->claims->user->id);
  }
  msvc__buf_puts(b, "}\n");
}

static void log_access(msvc_http_loop_t *loop, h2o_req_t *req,
                       const access_entry_t *e) {
  msvc__buf_t *b = &loop->log;
  int64_t us = msvc__monotonic_us() - e->started_us;
  size_t pathlen = req->input.query_at != SIZE_MAX ? req->input.query_at
                                                   : req->input.path.len;
  if (!loop->http->app->cfg->access_log)
    return;
  if (b->len > PIPE_BUF - LOG_LINE_MAX)
    msvc_http_loop_flush_log(loop);
  if (msvc_log_is_json())
    log_json(b, req, e, us, pathlen);
  else
    log_text(b, req, e, us, pathlen);
  log_queue(loop, b);
}

/* The access-log line of a request the HTTP layer answers. */
static void log_request(msvc_request_t *c) {
  access_entry_t e = {c->status, c->started_us, c->request_id, c};
  log_access(c->loop, c->req, &e);
}

/* ---- metrics ----------------------------------------------------------- */

/* The events an answer stands for, beside its route and status. */
static msvc_metrics_event_t event_of(const msvc_request_t *c) {
  if (c->route != NULL && (c->route->flags & MSVC_ROUTE_LOGIN)) {
    if (c->status == 200)
      return MSVC_EV_LOGIN_OK;
    if (c->fail_rc == MSVC_EAUTH)
      return MSVC_EV_LOGIN_FAILED;
    if (c->fail_rc == MSVC_ETHROTTLED)
      return MSVC_EV_LOGIN_THROTTLED;
  }
  if (c->token_refused)
    return MSVC_EV_TOKEN_REJECTED;
  if (c->status == 429 && c->route != NULL &&
      (c->route->flags & MSVC_ROUTE_RATE_LIMITED) && c->fail_rc == 0)
    return MSVC_EV_RATE_LIMITED;
  switch (c->fail_rc) {
  case MSVC_ESTORE:
    return MSVC_EV_STORE_ERROR;
  case MSVC_ETIMEDOUT:
    return MSVC_EV_STORE_TIMEOUT;
  case MSVC_EUNAVAIL:
    return MSVC_EV_UNAVAILABLE;
  default:
    return MSVC_EV_COUNT;
  }
}

/* Counts the answer about to be sent (on its loop). */
static void account(const msvc_request_t *c) {
  msvc_metrics_shard_t *m = c->loop->metrics;
  msvc_metrics_event_t ev;
  if (m == NULL)
    return;
  msvc_metrics_count(m, c->slot, c->status,
                     msvc__monotonic_us() - c->started_us);
  ev = event_of(c);
  if (ev != MSVC_EV_COUNT)
    msvc_metrics_event(m, ev);
}

/* ---- answers ----------------------------------------------------------- */

void msvc_request_json(msvc_request_t *rq, int status) {
  rq->status = status;
}

void msvc_request_error(msvc_request_t *rq, int status, const char *message,
                        const msvc_errors_t *errs) {
  msvc__buf_reset(&rq->out);
  msvc__json_error(&rq->out, status, message, errs);
  rq->status = status;
}

/* A taken email is 409 naming "email", whether or not the library said so
 * in errs (it does when errs was given). */
static void answer_conflict(msvc_request_t *rq, const msvc_errors_t *errs) {
  msvc_errors_t *email = NULL;
  if (msvc_errors_get(errs, "email") == NULL && msvc_errors_new(&email) == 0 &&
      msvc_errors_add(email, "email", "is already registered") == 0)
    errs = email;
  msvc_request_error(rq, 409, "Email already registered", errs);
  msvc_errors_free(email);
}

msvc_call_t msvc_request_call(const msvc_request_t *rq, unsigned flags) {
  msvc_call_t call = MSVC_CALL_INIT;
  call.flags = flags;
  call.request_id = rq->request_id;
  call.user_agent = rq->user_agent;
  call.client_ip = rq->client_ip[0] != '\0' ? rq->client_ip : NULL;
  /* A password change keeps this session and ends the others. */
  if (rq->claims != NULL && rq->claims->session_id != NULL &&
      rq->claims->session_id[0] != '\0')
    call.session_id = rq->claims->session_id;
  return call;
}

msvc_errors_t *msvc_request_errors(msvc_request_t *rq) {
  if (rq->errs == NULL && msvc_errors_new(&rq->errs) != 0)
    rq->errs = NULL;
  return rq->errs;
}

/* The library's own account of a failed call on this thread (the store's
 * message, say), else the code's text. */
static const char *failure_detail(const msvc_request_t *rq, int rc) {
  const char *detail = msvc_errmsg(rq->app->svc);
  return detail != NULL && detail[0] != '\0' ? detail : msvc_strerror(rc);
}

void msvc_request_fail(msvc_request_t *rq, int rc, const msvc_errors_t *errs,
                       const char *what) {
  char msg[64];
  rq->fail_rc = rc;
  switch (rc) {
  case MSVC_EVALIDATION:
    msvc_request_error(rq, 422, "Validation failed", errs);
    return;
  case MSVC_EJSON:
    msvc_request_error(rq, 400, "Malformed JSON", NULL);
    return;
  case MSVC_ENOTOBJECT:
    msvc_request_error(rq, 400, "Request body must be a JSON object", NULL);
    return;
  case MSVC_EAUTH:
    msvc_request_error(rq, 401, "Invalid credentials", NULL);
    return;
  case MSVC_ETOKEN:
    msvc_request_error(rq, 401, "UnAuthorized", NULL);
    return;
  case MSVC_EFORBIDDEN:
    msvc_request_error(rq, 403, "Forbidden", NULL);
    return;
  case MSVC_ENOTFOUND:
    snprintf(msg, sizeof(msg), "%s not found", what ? what : "Resource");
    msvc_request_error(rq, 404, msg, NULL);
    return;
  case MSVC_EEXIST:
    answer_conflict(rq, errs);
    return;
  case MSVC_ETOOBIG:
    msvc_request_error(rq, 413, "Request body too large", NULL);
    return;
  case MSVC_ETHROTTLED:
    msvc_request_error(rq, 429, "Too many failed attempts, try again later",
                       NULL);
    return;
  case MSVC_EUNAVAIL:
  case MSVC_ETIMEDOUT:
    msvc_request_error(rq, 503, "Service unavailable", NULL);
    return;
  default:
    /* Details go to the log, under the request id, never to the client. */
    msvc_log(MSVC_LOG_ERROR, "request %s failed: %s (%s)", rq->request_id,
             msvc_err_name(rc), failure_detail(rq, rc));
    msvc_request_error(rq, 500, "Internal server error", NULL);
  }
}

static const char *allow_value(unsigned allow, h2o_mem_pool_t *pool,
                               size_t *len) {
  static const struct {
    unsigned bit;
    const char *name;
  } names[] = {{MSVC_M_GET, "GET, HEAD"},
               {MSVC_M_POST, "POST"},
               {MSVC_M_PUT, "PUT"},
               {MSVC_M_DELETE, "DELETE"}};
  char *out = h2o_mem_alloc_pool(pool, 32);
  size_t n = 0;
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (!(allow & names[i].bit))
      continue;
    n +=
        (size_t)snprintf(out + n, 32 - n, "%s%s", n ? ", " : "", names[i].name);
  }
  *len = n;
  return out;
}

static void add_headers(msvc_request_t *c, h2o_req_t *req) {
  h2o_headers_t *h = &req->res.headers;
  if (c->content_type != NULL)
    h2o_add_header(&req->pool, h, H2O_TOKEN_CONTENT_TYPE, "Content-Type",
                   c->content_type, strlen(c->content_type));
  else
    h2o_add_header(&req->pool, h, H2O_TOKEN_CONTENT_TYPE, "Content-Type",
                   H2O_STRLIT(JSON_TYPE));
  h2o_add_header_by_str(&req->pool, h, H2O_STRLIT("x-request-id"), 0,
                        "X-Request-Id", c->request_id, strlen(c->request_id));
  if (c->status == 405) {
    size_t len;
    const char *v = allow_value(c->allow, &req->pool, &len);
    h2o_add_header(&req->pool, h, H2O_TOKEN_ALLOW, "Allow", v, len);
  }
  if (c->retry_after > 0) {
    char *v = h2o_mem_alloc_pool(&req->pool, 16);
    int len = snprintf(v, 16, "%u", c->retry_after);
    h2o_add_header(&req->pool, h, H2O_TOKEN_RETRY_AFTER, "Retry-After", v,
                   (size_t)len);
  }
  if (c->cache_control != NULL && c->status == 200)
    h2o_add_header(&req->pool, h, H2O_TOKEN_CACHE_CONTROL, "Cache-Control",
                   c->cache_control, strlen(c->cache_control));
  if (c->degraded)
    h2o_add_header_by_str(&req->pool, h, H2O_STRLIT("warning"), 0, "Warning",
                          H2O_STRLIT("199 - \"user details unavailable\""));
  msvc_cors_answer(c->loop->http->cors, req);
}

/* Sends the call's answer; the body stays owned by the call, which lives
 * until the request is disposed, i.e. after the body has been written.
 * The call must not be touched after this. */
static void respond(msvc_request_t *c) {
  static h2o_generator_t generator = {NULL, NULL};
  h2o_req_t *req = c->req;
  h2o_iovec_t body = h2o_iovec_init(c->out.data, c->out.len);
  int head = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
  if (c->status == 0 || c->out.failed || c->out.len == 0) {
    c->status = 500;
    body = h2o_iovec_init(FALLBACK_500, sizeof(FALLBACK_500) - 1);
  }
  req->res.status = c->status;
  req->res.reason = reason_phrase(c->status);
  add_headers(c, req);
  req->res.content_length = body.len;
  account(c);
  log_request(c);
  /* Last: the request, and with it the call, may be gone once sent. */
  h2o_start_response(req, &generator);
  h2o_send(req, &body, head ? 0 : 1, H2O_SEND_STATE_FINAL);
}

/* A preflight (any OPTIONS, on any path, as the seed's cors() answered):
 * 204 with the CORS headers and no body. */
static void respond_preflight(msvc_request_t *c) {
  static h2o_generator_t generator = {NULL, NULL};
  h2o_req_t *req = c->req;
  c->status = 204;
  req->res.status = 204;
  req->res.reason = "No Content";
  h2o_add_header_by_str(&req->pool, &req->res.headers,
                        H2O_STRLIT("x-request-id"), 0, "X-Request-Id",
                        c->request_id, strlen(c->request_id));
  msvc_cors_preflight(c->loop->http->cors, req);
  req->res.content_length = 0;
  account(c);
  log_request(c);
  h2o_start_response(req, &generator);
  h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
}

/* ---- calls ------------------------------------------------------------- */

static void request_free(msvc_request_t *c) {
  msvc__buf_free(&c->out);
  if (c->body != NULL) {
    explicit_bzero(c->body, c->body_len); /* may hold a password */
    free(c->body);
  }
  for (size_t i = 0; i < c->nquery; i++) {
    free(c->query[i].name);
    free(c->query[i].value);
  }
  msvc__wire_user_clear(&c->user_in);
  msvc__wire_post_clear(&c->post_in);
  free(c->ids);
  if (c->text_in != NULL) {
    explicit_bzero(c->text_in, strlen(c->text_in)); /* a refresh token */
    free(c->text_in);
  }
  msvc_errors_free(c->errs);
  msvc_claims_free(c->claims);
  free(c->user_agent);
  if (c->token != NULL) {
    explicit_bzero(c->token, c->token_len);
    free(c->token);
  }
  free(c);
}

static void on_request_disposed(void *p) {
  msvc_request_t *c = ((request_anchor_t *)p)->rq;
  c->loop->inflight--;
  msvc_metrics_inflight(c->loop->metrics, -1);
  if (c->pending)
    c->req = NULL; /* the job's return frees it */
  else
    request_free(c);
}

/* a.b.c.d into buf (at least INET_ADDRSTRLEN bytes): what inet_ntop
 * writes, without the sprintf it makes per byte. */
static void format_ipv4(const struct in_addr *in, char *buf) {
  const unsigned char *a = (const unsigned char *)&in->s_addr;
  char *o = buf;
  for (int i = 0; i < 4; i++) {
    unsigned v = a[i];
    if (v >= 100)
      *o++ = (char)('0' + v / 100);
    if (v >= 10)
      *o++ = (char)('0' + v / 10 % 10);
    *o++ = (char)('0' + v % 10);
    *o++ = i < 3 ? '.' : '\0';
  }
}

/* The peer's numeric address in buf; "" when unknown.  Formatted by hand
 * for IPv4 and by inet_ntop for IPv6, never getnameinfo: this runs for
 * every request. */
static void peer_address(h2o_req_t *req, char *buf, size_t len) {
  struct sockaddr_storage sa;
  const void *addr = NULL;
  buf[0] = '\0';
  if (req->conn->callbacks->get_peername == NULL ||
      req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&sa) ==
          0)
    return;
  if (sa.ss_family == AF_INET && len >= INET_ADDRSTRLEN) {
    format_ipv4(&((struct sockaddr_in *)&sa)->sin_addr, buf);
    return;
  }
  if (sa.ss_family == AF_INET6)
    addr = &((struct sockaddr_in6 *)&sa)->sin6_addr;
  if (addr == NULL ||
      inet_ntop(sa.ss_family, addr, buf, (socklen_t)len) == NULL)
    buf[0] = '\0';
}

/* The client's address: the peer's, or behind a trusted proxy the one
 * its X-Forwarded-For names (proxies.h).  The last such header counts:
 * the nearest proxy's. */
static void client_address(const msvc_http_t *http, h2o_req_t *req, char *out,
                           size_t len) {
  char peer[MSVC_CLIENT_IP_MAX];
  ssize_t i = -1, next;
  peer_address(req, peer, sizeof(peer));
  if (!msvc_proxies_any(http->proxies) || peer[0] == '\0') {
    msvc__strlcpy(out, peer, len);
    return;
  }
  while ((next = h2o_find_header_by_str(
              &req->headers, H2O_STRLIT("x-forwarded-for"), i)) != -1)
    i = next;
  if (i == -1)
    snprintf(out, len, "%s", peer);
  else
    msvc_proxies_client(http->proxies, peer, req->headers.entries[i].value.base,
                        req->headers.entries[i].value.len, out, len);
}

/* What a login records of the client: its User-Agent (printable ASCII
 * only, at most MSVC_USER_AGENT_MAX bytes) and its address. */
static void copy_client(msvc_request_t *c, h2o_req_t *req) {
  ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_USER_AGENT, -1);
  if (i != -1) {
    h2o_iovec_t v = req->headers.entries[i].value;
    size_t n = v.len < MSVC_USER_AGENT_MAX ? v.len : MSVC_USER_AGENT_MAX;
    if (n > 0 && (c->user_agent = malloc(n + 1)) != NULL) {
      for (size_t j = 0; j < n; j++) {
        unsigned char ch = (unsigned char)v.base[j];
        c->user_agent[j] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
      }
      c->user_agent[n] = '\0';
    }
  }
  client_address(c->loop->http, req, c->client_ip, sizeof(c->client_ip));
}

static msvc_request_t *request_new(msvc_http_t *http, msvc_http_loop_t *loop,
                                   h2o_req_t *req) {
  msvc_request_t *c = calloc(1, sizeof(*c));
  request_anchor_t *anchor;
  if (c == NULL)
    return NULL;
  c->app = http->app;
  c->loop = loop;
  c->req = req;
  c->started_us = msvc__monotonic_us();
  msvc__buf_init(&c->out);
  assign_request_id(loop, req, c->request_id);
  copy_client(c, req);
  anchor =
      h2o_mem_alloc_shared(&req->pool, sizeof(*anchor), on_request_disposed);
  anchor->rq = c;
  loop->inflight++;
  msvc_metrics_inflight(loop->metrics, 1);
  return c;
}

const char *msvc_request_query(const msvc_request_t *rq, const char *name) {
  for (size_t i = 0; i < rq->nquery; i++)
    if (strcmp(rq->query[i].name, name) == 0)
      return rq->query[i].value;
  return NULL;
}

/* ---- pools ------------------------------------------------------------- */

static int authenticate_blocking(msvc_request_t *c);

static void answer_rate_limited(msvc_request_t *c, unsigned wait) {
  c->retry_after = wait;
  msvc_request_error(c, 429, "Too many requests, slow down", NULL);
}

/* --rate-limit-shared, on the worker: 1 when answered (429, or 503 when
 * the store could not count: closed, not open). */
static int over_shared_limit(msvc_request_t *c) {
  int err = 0;
  unsigned wait = msvc_ratelimit_take_shared(
      c->loop->http->ratelimit, msvc_get_store(c->app->svc), c->client_ip,
      msvc__realtime_ms(), &err);
  if (err != 0) {
    msvc_request_fail(c, MSVC_EUNAVAIL, NULL, NULL);
    return 1;
  }
  if (wait > 0)
    answer_rate_limited(c, wait);
  return wait > 0;
}

static void job_run(msvc_pool_job_t *job) {
  msvc_request_t *c = H2O_STRUCT_FROM_MEMBER(msvc_request_t, job, job);
  int rc;
  if (c->authing) {
    c->auth_rc = authenticate_blocking(c);
    return;
  }
  msvc__buf_reset(&c->out);
  c->status = 0;
  if (c->rate_check && over_shared_limit(c))
    return;
  rc = c->route->run(c, 0);
  if (c->status == 0)
    msvc_request_fail(c, rc != 0 ? rc : MSVC_EINVAL, NULL, NULL);
}

static void job_done(msvc_pool_job_t *job) {
  msvc_request_t *c = H2O_STRUCT_FROM_MEMBER(msvc_request_t, job, job);
  h2o_multithread_send_message(&c->loop->done, &c->msg);
}

static void after_auth(msvc_request_t *c);

static void on_jobs_done(h2o_multithread_receiver_t *receiver,
                         h2o_linklist_t *messages) {
  msvc_http_loop_t *loop =
      H2O_STRUCT_FROM_MEMBER(msvc_http_loop_t, done, receiver);
  while (!h2o_linklist_is_empty(messages)) {
    h2o_multithread_message_t *m =
        H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
    msvc_request_t *c = H2O_STRUCT_FROM_MEMBER(msvc_request_t, msg, m);
    h2o_linklist_unlink(&m->link);
    loop->jobs--;
    c->pending = 0;
    if (c->req == NULL)
      request_free(c);
    else if (c->authing)
      after_auth(c);
    else
      respond(c);
  }
}

static void submit(msvc_request_t *c) {
  msvc_app_t *app = c->app;
  msvc_pool_t *pool =
      c->mode == MSVC_RUN_HASH && app->hash_pool != NULL && !c->authing
          ? app->hash_pool
          : app->io_pool;
  c->job.run = job_run;
  c->job.done = job_done;
  c->pending = 1;
  c->loop->jobs++;
  if (msvc_pool_submit(pool, &c->job) != 0) {
    msvc_metrics_event(c->loop->metrics, pool == app->hash_pool
                                             ? MSVC_EV_HASH_REJECTED
                                             : MSVC_EV_IO_REJECTED);
    c->pending = 0;
    c->loop->jobs--;
    c->authing = 0;
    msvc_request_error(c, 503, "Server busy", NULL);
    respond(c);
  }
}

/* Runs the route on the loop when its mode allows, else on a pool. */
static void run_call(msvc_request_t *c) {
  int rc;
  if (c->mode == MSVC_RUN_IO || c->mode == MSVC_RUN_HASH) {
    submit(c);
    return;
  }
  rc = c->route->run(c, MSVC_NOWAIT);
  if (rc == MSVC_EWOULDBLOCK) {
    msvc__buf_reset(&c->out);
    msvc_errors_clear(c->errs);
    c->status = 0;
    c->degraded = 0;
    c->mode = MSVC_RUN_IO;
    submit(c);
    return;
  }
  if (c->status == 0)
    msvc_request_fail(c, rc != 0 ? rc : MSVC_EINVAL, NULL, NULL);
  respond(c);
}

/* ---- request checks ---------------------------------------------------- */

static unsigned method_bit(h2o_iovec_t m) {
  if (h2o_memis(m.base, m.len, H2O_STRLIT("GET")) ||
      h2o_memis(m.base, m.len, H2O_STRLIT("HEAD")))
    return MSVC_M_GET;
  if (h2o_memis(m.base, m.len, H2O_STRLIT("POST")))
    return MSVC_M_POST;
  if (h2o_memis(m.base, m.len, H2O_STRLIT("PUT")))
    return MSVC_M_PUT;
  if (h2o_memis(m.base, m.len, H2O_STRLIT("DELETE")))
    return MSVC_M_DELETE;
  return 0;
}

/* 1 when path[0..len) matches pattern; a ":name" segment matches one
 * non-empty segment, reported in *seg / *seglen. */
static int match_path(const char *pat, const char *path, size_t len,
                      const char **seg, size_t *seglen) {
  size_t i = 0;
  while (*pat != '\0') {
    if (*pat == ':') {
      size_t start = i;
      while (i < len && path[i] != '/')
        i++;
      if (i == start)
        return 0;
      *seg = path + start;
      *seglen = i - start;
      while (*pat != '\0' && *pat != '/')
        pat++;
    } else {
      if (i >= len || path[i] != *pat)
        return 0;
      i++;
      pat++;
    }
  }
  return i == len;
}

/* Whether a handler serves route r: the metrics listener only /metrics,
 * the main one everything else, and /metrics unless it has a listener of
 * its own. */
static int serves(const route_handler_t *h, const msvc_route_t *r) {
  int metrics = (r->flags & MSVC_ROUTE_METRICS) != 0;
  return h->metrics_listener ? metrics : !metrics || !h->http->metrics_apart;
}

/* The route for (method, path), or NULL with c->allow set to the methods
 * the path does take (0: unknown path). */
static const msvc_route_t *find_route(const route_handler_t *h,
                                      msvc_request_t *c, h2o_iovec_t path,
                                      unsigned method) {
  msvc_http_t *http = h->http;
  for (size_t i = 0; i < http->nroutes; i++) {
    const msvc_route_t *r = http->routes[i];
    const char *seg = NULL;
    size_t seglen = 0;
    if (!serves(h, r) ||
        !match_path(r->path, path.base, path.len, &seg, &seglen))
      continue;
    c->allow |= r->method;
    if (!(r->method & method))
      continue;
    c->slot = i + 1;
    if (seg != NULL && msvc_id_valid(seg, seglen)) {
      memcpy(c->path_id, seg, MSVC_ID_LEN);
      c->path_id[MSVC_ID_LEN] = '\0';
    }
    return r;
  }
  return NULL;
}

/* "Bearer <token>", the scheme in any case; 0 and the token, or -1. */
static int bearer_token(h2o_iovec_t v, const char **tok, size_t *len) {
  size_t i = 6, end = v.len;
  if (v.len < 8 || !h2o_lcstris(v.base, 6, H2O_STRLIT("bearer")) ||
      (v.base[6] != ' ' && v.base[6] != '\t'))
    return -1;
  while (i < end && (v.base[i] == ' ' || v.base[i] == '\t'))
    i++;
  while (end > i && (v.base[end - 1] == ' ' || v.base[end - 1] == '\t'))
    end--;
  if (i == end || end - i > TOKEN_MAX_BYTES)
    return -1;
  /* no blank inside: two vectorised scans, not a loop over every byte of
   * a token that comes with every request */
  if (memchr(v.base + i, ' ', end - i) != NULL ||
      memchr(v.base + i, '\t', end - i) != NULL)
    return -1;
  *tok = v.base + i;
  *len = end - i;
  return 0;
}

/* A user route needs a user (claims->user is what the routes read). */
static int caller_fits(const msvc_request_t *c) {
  return c->route->auth != MSVC_AUTH_USER ||
         (c->claims->kind == MSVC_CALLER_USER && c->claims->user != NULL);
}

/* On a worker: the check the loop could not finish.  An unknown kid makes
 * msvc-post fetch the auth services' keys (at most once per 10 s) and try
 * once more. */
/* 0 for a caller that may go on, a negative MSVC_E* code to answer with
 * when the check itself could not be made (the store is down: 503, not
 * 401, since the token may well be good), -1 for any other refusal. */
static int auth_verdict(msvc_request_t *c, int rc) {
  if (rc == MSVC_EUNAVAIL || rc == MSVC_ETIMEDOUT || rc == MSVC_ESTORE)
    return rc;
  return rc == 0 && caller_fits(c) ? 0 : -1;
}

static int authenticate_blocking(msvc_request_t *c) {
  msvc_call_t call = msvc_request_call(c, 0);
  msvc_t *svc = c->app->svc;
  int rc = msvc_authenticate(svc, &call, c->token, c->token_len, &c->claims);
  if (rc == MSVC_EKEY && c->app->jwks != NULL) {
    msvc_app_refresh_keys(c->app);
    rc = msvc_authenticate(svc, &call, c->token, c->token_len, &c->claims);
  }
  return auth_verdict(c, rc);
}

/* 0 when the caller may use the route (claims filled when a token came),
 * 1 when the check must finish on a worker (c->token holds a copy of the
 * token then), else what auth_verdict says. */
static int check_caller(msvc_request_t *c, h2o_req_t *req) {
  msvc_route_auth_t auth = c->route->auth;
  msvc_call_t call;
  const char *tok;
  size_t len;
  ssize_t i;
  int rc;
  if (auth == MSVC_AUTH_NONE)
    return 0;
  i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
  if (i == -1)
    return auth == MSVC_AUTH_LOOKUP && c->app->cfg->allow_anonymous_lookups
               ? 0
               : -1;
  if (bearer_token(req->headers.entries[i].value, &tok, &len) != 0)
    return -1;
  call = msvc_request_call(c, MSVC_NOWAIT);
  rc = msvc_authenticate(c->app->svc, &call, tok, len, &c->claims);
  if (rc == MSVC_EWOULDBLOCK || (rc == MSVC_EKEY && c->app->jwks != NULL)) {
    c->token = malloc(len + 1);
    if (c->token == NULL)
      return -1;
    memcpy(c->token, tok, len);
    c->token[len] = '\0';
    c->token_len = len;
    return 1;
  }
  return auth_verdict(c, rc);
}

/* application/json, optionally with parameters, in any case. */
static int is_json_type(h2o_iovec_t v) {
  static const char want[] = "application/json";
  size_t n = sizeof(want) - 1, i = 0;
  while (i < v.len && (v.base[i] == ' ' || v.base[i] == '\t'))
    i++;
  if (v.len - i < n || !h2o_lcstris(v.base + i, n, want, n))
    return 0;
  for (i += n; i < v.len; i++) {
    if (v.base[i] == ';')
      return 1;
    if (v.base[i] != ' ' && v.base[i] != '\t')
      return 0;
  }
  return 1;
}

/* Copies a JSON body into the call: 0, or an answer already set. */
static int read_body(msvc_request_t *c, h2o_req_t *req) {
  ssize_t i;
  if (req->entity.base == NULL || req->entity.len == 0)
    return 0; /* absent: the parser answers 400 */
  if ((long)req->entity.len > c->app->cfg->max_body) {
    msvc_request_error(c, 413, "Request body too large", NULL);
    return -1;
  }
  i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
  if (i == -1 || !is_json_type(req->headers.entries[i].value)) {
    msvc_request_error(c, 415, "Content-Type must be application/json", NULL);
    return -1;
  }
  c->body = malloc(req->entity.len + 1);
  if (c->body == NULL) {
    msvc_request_error(c, 500, "Internal server error", NULL);
    return -1;
  }
  memcpy(c->body, req->entity.base, req->entity.len);
  c->body[req->entity.len] = '\0';
  c->body_len = req->entity.len;
  return 0;
}

/* Percent-decodes s[0..len) into a new string; '+' is a space.  A "%00"
 * stays as written, so no value ever hides a NUL, and a broken escape is
 * kept literally. */
static char *query_decode(const char *s, size_t len) {
  char *out = malloc(len + 1);
  size_t n = 0;
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < len; i++) {
    int hi, lo;
    if (s[i] == '+') {
      out[n++] = ' ';
    } else if (s[i] == '%' && i + 2 < len &&
               (hi = msvc__hex_value(s[i + 1])) >= 0 &&
               (lo = msvc__hex_value(s[i + 2])) >= 0 && (hi | lo) != 0) {
      out[n++] = (char)(hi * 16 + lo);
      i += 2;
    } else {
      out[n++] = s[i];
    }
  }
  out[n] = '\0';
  return out;
}

/* Splits the query string into at most MSVC_QUERY_MAX_PARAMS decoded
 * pairs; anything past QUERY_MAX_BYTES or the last slot is ignored. */
static int parse_query(msvc_request_t *c, h2o_req_t *req) {
  const char *q, *end;
  if (req->query_at == SIZE_MAX)
    return 0;
  q = req->path.base + req->query_at + 1;
  end = req->path.base + req->path.len;
  if (end - q > QUERY_MAX_BYTES)
    end = q + QUERY_MAX_BYTES;
  while (q < end && c->nquery < MSVC_QUERY_MAX_PARAMS) {
    const char *amp = memchr(q, '&', (size_t)(end - q));
    const char *stop = amp ? amp : end;
    const char *eq = memchr(q, '=', (size_t)(stop - q));
    if (stop > q) {
      msvc_query_param_t *p = &c->query[c->nquery];
      const char *name_end = eq ? eq : stop;
      p->name = query_decode(q, (size_t)(name_end - q));
      p->value = eq ? query_decode(eq + 1, (size_t)(stop - eq - 1))
                    : query_decode("", 0);
      c->nquery++;
      if (p->name == NULL || p->value == NULL)
        return -1;
    }
    q = stop + 1;
  }
  return 0;
}

/* ---- the handler ------------------------------------------------------- */

/* Node (the seed) refuses more than 16 KiB of headers with a 431; h2o
 * alone would take about 400 KiB. */
static int headers_too_large(const h2o_req_t *req) {
  size_t total = 0;
  for (size_t i = 0; i < req->headers.size; i++)
    total += req->headers.entries[i].name->len +
             req->headers.entries[i].value.len + 4;
  return total > MAX_HEADER_BYTES;
}

/* --rate-limit: per process, answered here (1); shared, left for the
 * worker, where the store may be written (0). */
static int rate_limited(msvc_http_t *http, msvc_request_t *c) {
  unsigned wait;
  if (http->ratelimit == NULL)
    return 0;
  if (http->app->cfg->rate_limit_shared) {
    c->rate_check = 1;
    if (c->mode != MSVC_RUN_HASH)
      c->mode = MSVC_RUN_IO;
    return 0;
  }
  wait =
      msvc_ratelimit_take(http->ratelimit, c->client_ip, msvc__monotonic_ms());
  if (wait > 0)
    answer_rate_limited(c, wait);
  return wait > 0;
}

static void dispatch(const route_handler_t *h, msvc_request_t *c,
                     h2o_req_t *req) {
  const msvc_route_t *r;
  const char *framing = msvc_framing_check(req);
  int rc;
  if (framing != NULL) {
    /* Whatever follows on this connection was framed by a guess: close it
     * after the 400, so that nothing pipelined behind is ever answered. */
    req->http1_is_persistent = 0;
    msvc_request_error(c, 400, framing, NULL);
    respond(c);
    return;
  }
  if (headers_too_large(req)) {
    msvc_request_error(c, 431, "Request headers too large", NULL);
    respond(c);
    return;
  }
  if (msvc_cors_is_preflight(req)) {
    respond_preflight(c);
    return;
  }
  r = find_route(h, c, req->path_normalized, method_bit(req->method));
  if (r == NULL) {
    if (c->allow != 0)
      msvc_request_error(c, 405, "Method not allowed", NULL);
    else
      msvc_request_error(c, 404, "Not found", NULL);
    respond(c);
    return;
  }
  c->route = r;
  c->mode = r->mode;
  if ((r->flags & MSVC_ROUTE_RATE_LIMITED) && rate_limited(h->http, c)) {
    respond(c);
    return;
  }
  rc = check_caller(c, req);
  if (rc == -1) {
    c->token_refused = 1;
    msvc_request_error(c, 401, "UnAuthorized", NULL);
  } else if (rc < 0) {
    msvc_request_fail(c, rc, NULL, NULL);
  } else if (r->takes_body && read_body(c, req) != 0 && rc == 0) {
    /* answered */
  } else if (c->status == 0 && parse_query(c, req) != 0) {
    msvc_request_error(c, 500, "Internal server error", NULL);
  } else if (rc > 0) {
    /* Everything needed from h2o's request is copied: check the token on
     * a worker; after_auth goes on (or answers what failed above). */
    c->authing = 1;
    submit(c);
    return;
  } else if (c->status == 0 && (r->prepare == NULL || r->prepare(c) == 0)) {
    run_call(c);
    return;
  }
  respond(c);
}

/* Back on the loop after the token check on a worker: 401, or the answer
 * the body already earned, or on to the route. */
static void after_auth(msvc_request_t *c) {
  c->authing = 0;
  if (c->token != NULL) {
    explicit_bzero(c->token, c->token_len);
    free(c->token);
    c->token = NULL;
  }
  if (c->auth_rc == -1) {
    c->token_refused = 1;
    msvc_request_error(c, 401, "UnAuthorized", NULL);
  } else if (c->auth_rc < 0) {
    msvc_request_fail(c, c->auth_rc, NULL, NULL);
  } else if (c->status == 0 &&
             (c->route->prepare == NULL || c->route->prepare(c) == 0)) {
    run_call(c);
    return;
  }
  respond(c);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req) {
  const route_handler_t *h = (const route_handler_t *)self;
  msvc_request_t *c = request_new(h->http, loop_of(req), req);
  if (c == NULL) {
    req->res.status = 500;
    req->res.reason = "Internal Server Error";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT(JSON_TYPE));
    req->res.content_length = sizeof(FALLBACK_500) - 1;
    h2o_send_inline(req, FALLBACK_500, sizeof(FALLBACK_500) - 1);
    return 0;
  }
  dispatch(h, c, req);
  return 0;
}

/* ---- h2o's own errors as JSON ------------------------------------------ */

static void json_error_do_send(h2o_ostream_t *self, h2o_req_t *req,
                               h2o_iovec_t *bufs, size_t bufcnt,
                               h2o_send_state_t state) {
  json_error_ostream_t *os = (json_error_ostream_t *)self;
  int head = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
  (void)bufs;
  (void)bufcnt;
  if (h2o_send_state_is_in_progress(state) || head) {
    h2o_ostream_send_next(self, req, NULL, 0, state);
    return;
  }
  h2o_ostream_send_next(self, req, &os->body, 1, state);
}

/* h2o answers some requests itself (body over the cap, malformed HTTP,
 * paths outside "/"): those answers take this fallback path, whose only
 * filter swaps h2o's text for the JSON error of the same status. */
static void on_error_setup_ostream(h2o_filter_t *self, h2o_req_t *req,
                                   h2o_ostream_t **slot) {
  msvc_http_loop_t *loop = loop_of(req);
  char *rid = h2o_mem_alloc_pool(&req->pool, MSVC_REQUEST_ID_MAX + 1);
  msvc__buf_t b;
  json_error_ostream_t *os;
  (void)self;
  msvc__buf_init(&b);
  msvc__json_error(&b, req->res.status, h2o_error_message(req->res.status),
                   NULL);
  os = (json_error_ostream_t *)h2o_add_ostream(req, sizeof(*os), slot);
  os->body = h2o_iovec_init(FALLBACK_500, sizeof(FALLBACK_500) - 1);
  if (!b.failed && b.len > 0)
    os->body = h2o_strdup(&req->pool, b.data, b.len);
  msvc__buf_free(&b);
  os->super.do_send = json_error_do_send;
  req->res.content_length = os->body.len;
  h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
                 H2O_STRLIT(JSON_TYPE), 1);
  assign_request_id(loop, req, rid);
  msvc_cors_answer(loop->http->cors, req);
  h2o_add_header_by_str(&req->pool, &req->res.headers,
                        H2O_STRLIT("x-request-id"), 0, "X-Request-Id", rid,
                        strlen(rid));
  msvc_metrics_count(loop->metrics, 0, req->res.status, 0);
  {
    access_entry_t e = {req->res.status, msvc__monotonic_us(), rid, NULL};
    log_access(loop, req, &e);
  }
  h2o_setup_next_ostream(req, &os->super.next);
}

/* ---- setup --------------------------------------------------------------- */

/* Tells this process's generated request ids from another's; without
 * random bytes the pid and the clock still do. */
static void random_prefix(char out[9]) {
  uint32_t t = (uint32_t)msvc__monotonic_ms() ^ (uint32_t)getpid();
  if (msvc__random_hex(out, 4) != 0)
    msvc__hex_encode(&t, sizeof(t), out);
}

/* One host whose "/" goes to the route handler, and the JSON error filter
 * on its fallback path. */
static void configure_host(msvc_http_t *http, h2o_globalconf_t *conf,
                           int metrics_listener) {
  h2o_hostconf_t *host = h2o_config_register_host(
      conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
  h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
  route_handler_t *handler =
      (route_handler_t *)h2o_create_handler(path, sizeof(*handler));
  h2o_filter_t *filter;
  handler->super.on_req = on_req;
  handler->http = http;
  handler->metrics_listener = metrics_listener;
  filter = h2o_create_filter(&host->fallback_path, sizeof(*filter));
  filter->on_setup_ostream = on_error_setup_ostream;
}

/* The metrics listener's own configuration: plain HTTP/1.1, small
 * bodies. */
static void configure_metrics_listener(msvc_http_t *http) {
  h2o_config_init(&http->mconf);
  http->mconf.server_name = h2o_iovec_init(H2O_STRLIT("msvc"));
  http->mconf.max_request_entity_size = 1024;
  http->mconf.http1.upgrade_to_http2 = 0;
  configure_host(http, &http->mconf, 1);
  http->metrics_apart = 1;
}

int msvc_http_new(msvc_app_t *app, msvc_http_t **out) {
  msvc_http_t *http = calloc(1, sizeof(*http));
  int nloops = app->cfg->threads > 0 ? app->cfg->threads : 1;
  *out = NULL;
  if (http == NULL)
    return MSVC_ENOMEM;
  http->app = app;
  http->nshards = (size_t)nloops;
  http->shards = calloc(http->nshards, sizeof(*http->shards));
  if (http->shards == NULL) {
    free(http);
    return MSVC_ENOMEM;
  }
  http->start_time_s = msvc__realtime_ms() / 1000;
  /* CORS_ORIGINS was checked with the rest of the configuration. */
  {
    int rc = msvc_cors_new(app->cfg->cors_origins, &http->cors, NULL, 0);
    if (rc != 0) {
      free(http->shards);
      free(http);
      return rc;
    }
  }
  if (msvc_proxies_parse(app->cfg->trusted_proxies, &http->proxies, NULL, 0) !=
      0) {
    msvc_cors_free(http->cors);
    free(http->shards);
    free(http);
    return MSVC_ECONFIG; /* checked with the rest of the configuration */
  }
  if (app->cfg->rate_limit > 0 &&
      (http->ratelimit =
           msvc_ratelimit_new(app->cfg->rate_limit,
                              (unsigned)app->cfg->rate_limit_burst)) == NULL) {
    msvc_proxies_free(http->proxies);
    msvc_cors_free(http->cors);
    free(http->shards);
    free(http);
    return MSVC_ENOMEM;
  }
  random_prefix(http->id_prefix);
  h2o_config_init(&http->conf);
  http->conf.server_name = h2o_iovec_init(H2O_STRLIT("msvc"));
  http->conf.max_request_entity_size =
      app->cfg->max_body > 0 ? (size_t)app->cfg->max_body : 65536;
  http->conf.http1.upgrade_to_http2 = 0; /* no cleartext HTTP/2 */
  configure_host(http, &http->conf, 0);
  if (app->cfg->metrics_port > 0)
    configure_metrics_listener(http);
  *out = http;
  return 0;
}

void msvc_http_free(msvc_http_t *http) {
  if (http == NULL)
    return;
  h2o_config_dispose(&http->conf);
  if (http->metrics_apart)
    h2o_config_dispose(&http->mconf);
  for (size_t i = 0; i < http->nshards; i++)
    msvc_metrics_shard_free(http->shards[i]);
  free(http->shards);
  msvc_cors_free(http->cors);
  msvc_proxies_free(http->proxies);
  msvc_ratelimit_free(http->ratelimit);
  free(http->routes);
  free(http);
}

int msvc_http_add_routes(msvc_http_t *http, const msvc_route_t *routes,
                         size_t n) {
  if (http->nroutes + n > http->cap) {
    size_t cap = (http->nroutes + n) * 2;
    const msvc_route_t **grown = realloc(http->routes, cap * sizeof(*grown));
    if (grown == NULL)
      return MSVC_ENOMEM;
    http->routes = grown;
    http->cap = cap;
  }
  for (size_t i = 0; i < n; i++)
    http->routes[http->nroutes++] = &routes[i];
  return 0;
}

size_t msvc_http_routes(msvc_http_t *http, const msvc_route_t *const **routes) {
  *routes = (const msvc_route_t *const *)http->routes;
  return http->nroutes;
}

h2o_globalconf_t *msvc_http_globalconf(msvc_http_t *http) {
  return &http->conf;
}

msvc_app_t *msvc_http_app(msvc_http_t *http) {
  return http->app;
}

h2o_globalconf_t *msvc_http_metrics_globalconf(msvc_http_t *http) {
  return http->metrics_apart ? &http->mconf : NULL;
}

void msvc_http_write_metrics(msvc_http_t *http, msvc__buf_t *b) {
  msvc_metrics_source_t src;
  src.app = http->app;
  src.routes = http->routes;
  src.nroutes = http->nroutes;
  src.shards = http->shards;
  src.nshards = http->nshards;
  src.start_time_s = http->start_time_s;
  msvc_metrics_write(b, &src);
}

void msvc_http_loop_init(msvc_http_loop_t *loop, msvc_http_t *http,
                         h2o_evloop_t *evloop, unsigned index) {
  h2o_context_init(&loop->ctx, evloop, &http->conf);
  loop->http = http;
  loop->index = index;
  loop->inflight = loop->jobs = 0;
  loop->next_id = 0;
  loop->metrics = NULL;
  /* Every route is added by now: the shard gets a slot for each.  With
   * --metrics off nothing is counted at all (account() sees NULL). */
  if (index < http->nshards && http->app->cfg->metrics_port >= 0) {
    loop->metrics = msvc_metrics_shard_new(http->nroutes + 1);
    __atomic_store_n(&http->shards[index], loop->metrics, __ATOMIC_RELEASE);
  }
  msvc__buf_init(&loop->log);
  h2o_multithread_register_receiver(loop->ctx.queue, &loop->done, on_jobs_done);
  h2o_timeout_init(evloop, &loop->log_timeout, LOG_FLUSH_MS);
  memset(&loop->log_entry, 0, sizeof(loop->log_entry));
  loop->log_entry.cb = on_log_timeout;
}

void msvc_http_loop_dispose(msvc_http_loop_t *loop) {
  h2o_multithread_queue_t *queue;
  msvc_http_loop_flush_log(loop);
  if (h2o_timeout_is_linked(&loop->log_entry))
    h2o_timeout_unlink(&loop->log_entry);
  h2o_timeout_dispose(loop->ctx.loop, &loop->log_timeout);
  h2o_multithread_unregister_receiver(loop->ctx.queue, &loop->done);
  /* h2o_context_request_shutdown arms HTTP/2's GOAWAY re-send timer even
   * with no HTTP/2 connection; h2o_context_dispose asserts it is idle. */
  if (h2o_timeout_is_linked(&loop->ctx.http2._graceful_shutdown_timeout))
    h2o_timeout_unlink(&loop->ctx.http2._graceful_shutdown_timeout);
  queue = loop->ctx.queue;
  h2o_context_dispose(&loop->ctx);
#if H2O_VERSION_MAJOR == 2 && H2O_VERSION_MINOR <= 2 && !H2O_USE_LIBUV
  /* Before 2.3, h2o_multithread_destroy_queue leaves the queue allocated
   * (upstream commit 6b0a76e, "release memory in destroy"). */
  free(queue);
#else
  (void)queue;
#endif
  msvc__buf_free(&loop->log);
}
