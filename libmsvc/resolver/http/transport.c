/* transport.c - the HTTP resolvers' requests, run by libcurl.
 *
 * Invariants:
 *  - a multi handle (and so every connection it keeps alive) is used by
 *    one thread at a time: a call takes it out of the pool, runs, and
 *    puts it back.  libcurl's shared connection cache is documented as
 *    unsafe between concurrent threads (known bug "A shared connection
 *    cache is not thread-safe", curl issue #4915), so only the DNS cache
 *    and TLS sessions live in the share handle, each kind under its own
 *    mutex;
 *  - every easy handle is bounded by the call's deadline twice over:
 *    CURLOPT_TIMEOUT_MS (which covers name lookups, run by libcurl's
 *    threaded resolver) and the poll loop here, which gives up on whatever
 *    is still running when the deadline passes.  CURLOPT_QUICK_EXIT lets
 *    libcurl leave a name lookup that is stuck in getaddrinfo() to finish
 *    on its own thread instead of waiting for it;
 *  - a response body never grows past MSVC__HTTP_MAX_BODY: the write
 *    callback refuses the byte that would cross it;
 *  - the library's behaviour is the same whatever the environment says:
 *    no proxy (http_proxy is ignored), no redirects, no signals, only
 *    http and https.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "resolver/http/transport.h"

struct msvc__http {
  CURLSH *share;
  pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
  pthread_mutex_t pool_lock; /* idle[] and nidle */
  CURLM *idle[MSVC__HTTP_POOL_MAX];
  size_t nidle;
  char *ca_file; /* NULL: the system's store */
};

/* ---- base URLs ---- */

static int url_error(char *errbuf, size_t errlen, const char *url, size_t len,
                     const char *why) {
  msvc__set_error(errbuf, errlen, "\"%.*s\": %s", (int)len, url, why);
  return MSVC_ECONFIG;
}

/* 1 when curl_url_get finds no such part (or an empty one). */
static int part_absent(CURLU *u, CURLUPart what) {
  char *v = NULL;
  CURLUcode uc = curl_url_get(u, what, &v, 0);
  int absent = uc != CURLUE_OK || v == NULL || v[0] == '\0';
  curl_free(v);
  return absent;
}

static int host_char_ok(char c, int bracketed) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
      (c >= 'A' && c <= 'F') || c == ':' || c == '.')
    return 1;
  return !bracketed && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        c == '-' || c == '_');
}

/* A DNS name, an IPv4 address or a bracketed IPv6 address. */
static const char *check_host(const char *host) {
  size_t n = strlen(host);
  int bracketed = n > 2 && host[0] == '[' && host[n - 1] == ']';
  if (n == 0)
    return "empty host";
  for (size_t i = bracketed; i < n - (size_t)bracketed; i++)
    if (!host_char_ok(host[i], bracketed))
      return "host holds a character that is not allowed";
  return NULL;
}

static const char *check_port(CURLU *u) {
  char *port = NULL, *end;
  long v;
  if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
    return NULL; /* none given: the scheme's */
  v = strtol(port, &end, 10);
  if (*end != '\0' || v < 1 || v > 65535) {
    curl_free(port);
    return "port must be 1 to 65535";
  }
  curl_free(port);
  return NULL;
}

/* The parts a base URL may not have, and the ones it must. */
static const char *check_parts(CURLU *u, const char *scheme, const char *host,
                               const char *path) {
  if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
    return "must start with http:// or https://";
  if (!part_absent(u, CURLUPART_USER) || !part_absent(u, CURLUPART_PASSWORD) ||
      !part_absent(u, CURLUPART_OPTIONS))
    return "a base URL takes no user name or password";
  if (!part_absent(u, CURLUPART_QUERY) || !part_absent(u, CURLUPART_FRAGMENT))
    return "a base URL takes no query or fragment";
  if (strcmp(path, "/") != 0 && path[0] != '\0')
    return "a base URL takes no path (only a trailing /)";
  return check_host(host);
}

/* "scheme://host[:port]" from a parsed URL. */
static int base_of(CURLU *u, const char *scheme, const char *host,
                   char **base) {
  char *port = NULL;
  size_t len;
  curl_url_get(u, CURLUPART_PORT, &port, 0);
  len = strlen(scheme) + strlen(host) + (port ? strlen(port) : 0) + 5;
  *base = malloc(len);
  if (*base != NULL)
    snprintf(*base, len, "%s://%s%s%s", scheme, host, port ? ":" : "",
             port ? port : "");
  curl_free(port);
  return *base != NULL ? 0 : MSVC_ENOMEM;
}

int msvc__http_base_parse(const char *url, size_t len, char **base,
                          char *errbuf, size_t errlen) {
  char *copy = msvc__strndup(url, len), *scheme = NULL, *host = NULL,
       *path = NULL;
  CURLU *u = curl_url();
  const char *why = NULL;
  int rc = MSVC_ENOMEM;
  *base = NULL;
  if (copy != NULL && u != NULL) {
    if (len == 0 || curl_url_set(u, CURLUPART_URL, copy, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
      why = "not a URL of the form http[s]://host[:port]";
    if (why == NULL)
      why = check_parts(u, scheme, host, path);
    if (why == NULL)
      why = check_port(u);
    rc = why != NULL ? url_error(errbuf, errlen, url, len, why)
                     : base_of(u, scheme, host, base);
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(path);
  curl_url_cleanup(u);
  free(copy);
  return rc;
}

/* ---- the transport ---- */

static void share_lock(CURL *easy, curl_lock_data data, curl_lock_access access,
                       void *arg) {
  msvc__http_t *h = arg;
  MSVC__UNUSED(easy);
  MSVC__UNUSED(access);
  if (data >= 0 && data < CURL_LOCK_DATA_LAST)
    pthread_mutex_lock(&h->share_locks[data]);
}

static void share_unlock(CURL *easy, curl_lock_data data, void *arg) {
  msvc__http_t *h = arg;
  MSVC__UNUSED(easy);
  if (data >= 0 && data < CURL_LOCK_DATA_LAST)
    pthread_mutex_unlock(&h->share_locks[data]);
}

/* What the transport needs from the libcurl it runs with (which may be
 * newer than the headers it was built with, never older than 7.84). */
static const char *check_libcurl(void) {
  const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
  if (!(v->features & CURL_VERSION_THREADSAFE))
    return "libcurl lacks thread-safe initialisation (7.84 or later "
           "needed)";
  if (!(v->features & CURL_VERSION_SSL))
    return "libcurl was built without TLS support";
  return NULL;
}

static int share_setup(msvc__http_t *h) {
  CURLSH *s = curl_share_init();
  h->share = s;
  if (s == NULL ||
      curl_share_setopt(s, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
      curl_share_setopt(s, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
      curl_share_setopt(s, CURLSHOPT_USERDATA, h) != CURLSHE_OK ||
      curl_share_setopt(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
      curl_share_setopt(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) !=
          CURLSHE_OK)
    return MSVC_ENOMEM;
  return 0;
}

int msvc__http_base_list_parse(const char *urls,
                               char *bases[MSVC__HTTP_MAX_BASES], size_t *n,
                               char *errbuf, size_t errlen) {
  const char *p = urls;
  *n = 0;
  if (urls == NULL) {
    msvc__set_error(errbuf, errlen, "no auth service URL configured");
    return MSVC_ECONFIG;
  }
  for (;;) {
    const char *end = strchr(p, ',');
    const char *next = end != NULL ? end + 1 : NULL;
    int rc;
    if (end == NULL)
      end = p + strlen(p);
    while (p < end && msvc__is_ascii_space((unsigned char)*p))
      p++;
    while (end > p && msvc__is_ascii_space((unsigned char)end[-1]))
      end--;
    if (p == end) {
      msvc__set_error(errbuf, errlen, "empty entry in the URL list \"%s\"",
                      urls);
      return MSVC_ECONFIG;
    }
    if (*n == MSVC__HTTP_MAX_BASES) {
      msvc__set_error(errbuf, errlen, "more than %d auth service URLs",
                      MSVC__HTTP_MAX_BASES);
      return MSVC_ECONFIG;
    }
    rc =
        msvc__http_base_parse(p, (size_t)(end - p), &bases[*n], errbuf, errlen);
    if (rc != 0)
      return rc;
    (*n)++;
    if (next == NULL)
      return 0;
    p = next;
  }
}

int msvc__http_new(const char *ca_file, msvc__http_t **out, char *errbuf,
                   size_t errlen) {
  const char *why = check_libcurl();
  msvc__http_t *h;
  CURL *first;
  *out = NULL;
  if (why != NULL) {
    msvc__set_error(errbuf, errlen, "%s", why);
    return MSVC_ECONFIG;
  }
  /* The first easy handle runs libcurl's lazy, thread-safe global
   * initialisation before the share handle is made. */
  first = curl_easy_init();
  if (first == NULL)
    return MSVC_ENOMEM;
  curl_easy_cleanup(first);
  h = calloc(1, sizeof(*h));
  if (h == NULL)
    return MSVC_ENOMEM;
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_init(&h->share_locks[i], NULL);
  pthread_mutex_init(&h->pool_lock, NULL);
  if ((ca_file != NULL && (h->ca_file = strdup(ca_file)) == NULL) ||
      share_setup(h) != 0) {
    msvc__http_free(h);
    return MSVC_ENOMEM;
  }
  *out = h;
  return 0;
}

void msvc__http_free(msvc__http_t *h) {
  if (h == NULL)
    return;
  for (size_t i = 0; i < h->nidle; i++)
    curl_multi_cleanup(h->idle[i]);
  curl_share_cleanup(h->share); /* after every easy handle is gone */
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_destroy(&h->share_locks[i]);
  pthread_mutex_destroy(&h->pool_lock);
  free(h->ca_file);
  free(h);
}

size_t msvc__http_pool_count(msvc__http_t *h) {
  size_t n;
  pthread_mutex_lock(&h->pool_lock);
  n = h->nidle;
  pthread_mutex_unlock(&h->pool_lock);
  return n;
}

/* The most recently used idle multi handle (its connections are the
 * likeliest to be alive), or a new one. */
static CURLM *pool_take(msvc__http_t *h) {
  CURLM *m = NULL;
  pthread_mutex_lock(&h->pool_lock);
  if (h->nidle > 0)
    m = h->idle[--h->nidle];
  pthread_mutex_unlock(&h->pool_lock);
  if (m == NULL && (m = curl_multi_init()) != NULL)
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 64L);
  return m;
}

static void pool_give(msvc__http_t *h, CURLM *m) {
  pthread_mutex_lock(&h->pool_lock);
  if (h->nidle < MSVC__HTTP_POOL_MAX) {
    h->idle[h->nidle++] = m;
    m = NULL;
  }
  pthread_mutex_unlock(&h->pool_lock);
  if (m != NULL)
    curl_multi_cleanup(m);
}

/* ---- one request ---- */

/* What one easy handle needs while it runs. */
typedef struct transfer {
  msvc__http_req_t *req;
  CURL *easy;
  struct curl_slist *headers;
  msvc__buf_t body;
  int too_big;
  int done;
  char errbuf[CURL_ERROR_SIZE];
} transfer_t;

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg) {
  transfer_t *t = arg;
  size_t n = size * nmemb;
  if (n > MSVC__HTTP_MAX_BODY - t->body.len) {
    t->too_big = 1;
    return 0; /* libcurl ends the transfer with CURLE_WRITE_ERROR */
  }
  msvc__buf_append(&t->body, p, n);
  return t->body.failed ? 0 : n;
}

/* The request's header list, with "Expect:" so that a POST goes out at
 * once instead of waiting for a 100 Continue. */
static int make_headers(transfer_t *t) {
  const char *const *h = t->req->headers;
  struct curl_slist *l = curl_slist_append(NULL, "Expect:");
  for (; l != NULL && h != NULL && *h != NULL; h++) {
    struct curl_slist *next = curl_slist_append(l, *h);
    if (next == NULL)
      curl_slist_free_all(l);
    l = next;
  }
  t->headers = l;
  return l != NULL ? 0 : MSVC_ENOMEM;
}

/* Options that hold for every request, whatever it is. */
static int set_common(msvc__http_t *h, transfer_t *t, long timeout_ms) {
  CURL *e = t->easy;
  CURLcode c = CURLE_OK;
#define SET(opt, val)                                                          \
  if (c == CURLE_OK)                                                           \
  c = curl_easy_setopt(e, opt, val)
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_QUICK_EXIT, 1L);
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_FOLLOWLOCATION, 0L);
  SET(CURLOPT_PROXY, "");
  SET(CURLOPT_SHARE, h->share);
  SET(CURLOPT_SSL_VERIFYPEER, 1L);
  SET(CURLOPT_SSL_VERIFYHOST, 2L);
  if (h->ca_file != NULL)
    SET(CURLOPT_CAINFO, h->ca_file);
  SET(CURLOPT_TIMEOUT_MS, timeout_ms);
  SET(CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MSVC__HTTP_MAX_BODY);
  SET(CURLOPT_ERRORBUFFER, t->errbuf);
  SET(CURLOPT_WRITEFUNCTION, on_data);
  SET(CURLOPT_WRITEDATA, t);
  SET(CURLOPT_PRIVATE, t);
#undef SET
  return c == CURLE_OK ? 0 : MSVC_EINVAL;
}

static int set_request(transfer_t *t) {
  msvc__http_req_t *r = t->req;
  CURL *e = t->easy;
  CURLcode c = curl_easy_setopt(e, CURLOPT_URL, r->url);
  if (c == CURLE_OK)
    c = curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  if (c == CURLE_OK && strcmp(r->method, "POST") == 0) {
    c = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)r->body_len);
    if (c == CURLE_OK)
      c = curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
  } else if (c == CURLE_OK && strcmp(r->method, "GET") != 0) {
    c = CURLE_UNSUPPORTED_PROTOCOL; /* only GET and POST are needed */
  }
  return c == CURLE_OK ? 0 : MSVC_EINVAL;
}

static void req_fail(msvc__http_req_t *r, int err, const char *detail) {
  r->err = err;
  msvc__strlcpy(r->detail, detail, sizeof(r->detail));
}

/* Prepares t for r; on failure r holds the error and t needs no run. */
static int transfer_init(msvc__http_t *h, transfer_t *t, msvc__http_req_t *r,
                         long timeout_ms) {
  int rc;
  memset(t, 0, sizeof(*t));
  t->req = r;
  msvc__buf_init(&t->body);
  if (r->url == NULL || r->method == NULL) {
    req_fail(r, MSVC_EINVAL, "no URL or method");
    return MSVC_EINVAL;
  }
  t->easy = curl_easy_init();
  rc = t->easy != NULL ? make_headers(t) : MSVC_ENOMEM;
  if (rc == 0)
    rc = set_common(h, t, timeout_ms);
  if (rc == 0)
    rc = set_request(t);
  if (rc != 0)
    req_fail(r, rc,
             rc == MSVC_ENOMEM ? "out of memory"
                               : "request refused by libcurl");
  return rc;
}

static void transfer_cleanup(CURLM *m, transfer_t *t) {
  if (t->easy != NULL) {
    curl_multi_remove_handle(m, t->easy);
    curl_easy_cleanup(t->easy);
  }
  curl_slist_free_all(t->headers);
  msvc__buf_free(&t->body);
  t->easy = NULL;
  t->headers = NULL;
}

/* libcurl's verdict on a finished transfer, as an MSVC_E* code. */
static int map_code(const transfer_t *t, CURLcode c) {
  switch (c) {
  case CURLE_OK:
    return 0;
  case CURLE_OPERATION_TIMEDOUT:
    return MSVC_ETIMEDOUT;
  case CURLE_FILESIZE_EXCEEDED:
    return MSVC_ETOOBIG;
  case CURLE_WRITE_ERROR:
    return t->too_big ? MSVC_ETOOBIG : MSVC_ENOMEM;
  case CURLE_OUT_OF_MEMORY:
    return MSVC_ENOMEM;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
    return MSVC_EUNAVAIL;
  case CURLE_URL_MALFORMAT:
    return MSVC_EINVAL;
  default:
    return MSVC_EIO; /* garbage (HTTP/0.9 included), cut short, reset */
  }
}

/* Moves the outcome of a finished transfer into its request. */
static void transfer_finish(transfer_t *t, CURLcode c) {
  msvc__http_req_t *r = t->req;
  long status = 0;
  curl_off_t us = 0;
  t->done = 1;
  if (curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
    r->elapsed_us = (int64_t)us;
  r->err = map_code(t, c);
  if (r->err != 0) {
    req_fail(r, r->err, t->errbuf[0] ? t->errbuf : curl_easy_strerror(c));
    return;
  }
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  if (t->body.failed) {
    req_fail(r, MSVC_ENOMEM, "out of memory");
    return;
  }
  r->status = (int)status;
  r->resp_len = t->body.len;
  r->resp = t->body.data != NULL ? t->body.data : strdup("");
  memset(&t->body, 0, sizeof(t->body)); /* now owned by r */
  if (r->resp == NULL)
    req_fail(r, MSVC_ENOMEM, "out of memory");
}

/* ---- running a batch ---- */

/* Collects finished transfers; 1 when FIRST_OK says to stop now. */
static int collect(CURLM *m, unsigned flags) {
  CURLMsg *msg;
  int left, stop = 0;
  while ((msg = curl_multi_info_read(m, &left)) != NULL) {
    transfer_t *t = NULL;
    if (msg->msg != CURLMSG_DONE)
      continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
    if (t == NULL)
      continue;
    transfer_finish(t, msg->data.result);
    if ((flags & MSVC__HTTP_FIRST_OK) && t->req->err == 0 &&
        t->req->status >= 200 && t->req->status < 300)
      stop = 1;
  }
  return stop;
}

/* Drives the multi handle until nothing runs, FIRST_OK is met or the
 * deadline passes. */
static void drive(CURLM *m, int64_t deadline_ms, unsigned flags) {
  int running = 1;
  while (running > 0) {
    int64_t left = deadline_ms - msvc__monotonic_ms();
    if (left <= 0)
      break;
    if (curl_multi_perform(m, &running) != CURLM_OK || collect(m, flags))
      break;
    if (running > 0)
      curl_multi_poll(m, NULL, 0, left < 1000 ? (int)left : 1000, NULL);
  }
  collect(m, flags);
}

void msvc__http_req_reset(msvc__http_req_t *r) {
  free(r->resp);
  r->resp = NULL;
  r->resp_len = 0;
  r->err = 0;
  r->status = 0;
  r->detail[0] = '\0';
}

/* Adds every request that could be prepared to m. */
static size_t start_all(msvc__http_t *h, CURLM *m, transfer_t *ts,
                        msvc__http_req_t *reqs, size_t n, long timeout_ms) {
  size_t started = 0;
  for (size_t i = 0; i < n; i++) {
    msvc__http_req_reset(&reqs[i]);
    if (transfer_init(h, &ts[i], &reqs[i], timeout_ms) == 0 &&
        curl_multi_add_handle(m, ts[i].easy) != CURLM_OK)
      req_fail(&reqs[i], MSVC_ENOMEM, "out of memory");
    if (reqs[i].err != 0)
      transfer_cleanup(m, &ts[i]); /* never started */
    else
      started++;
  }
  return started;
}

static void fail_all(msvc__http_req_t *reqs, size_t n, int err,
                     const char *detail) {
  for (size_t i = 0; i < n; i++) {
    msvc__http_req_reset(&reqs[i]);
    req_fail(&reqs[i], err, detail);
  }
}

void msvc__http_run(msvc__http_t *h, msvc__http_req_t *reqs, size_t n,
                    int64_t deadline_ms, unsigned flags) {
  int64_t left = deadline_ms - msvc__monotonic_ms();
  transfer_t *ts;
  CURLM *m;
  if (n == 0)
    return;
  if (left <= 0) {
    fail_all(reqs, n, MSVC_ETIMEDOUT, "deadline passed before sending");
    return;
  }
  ts = calloc(n, sizeof(*ts));
  m = ts != NULL ? pool_take(h) : NULL;
  if (m == NULL) {
    free(ts);
    fail_all(reqs, n, MSVC_ENOMEM, "out of memory");
    return;
  }
  if (start_all(h, m, ts, reqs, n, (long)left) > 0)
    drive(m, deadline_ms, flags);
  for (size_t i = 0; i < n; i++) {
    if (ts[i].easy != NULL && !ts[i].done)
      req_fail(&reqs[i], MSVC_ETIMEDOUT, "no answer within the deadline");
    transfer_cleanup(m, &ts[i]);
  }
  pool_give(h, m);
  free(ts);
}
