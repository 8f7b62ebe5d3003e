/* http_client.c - the minimal HTTP/1.1 client behind the HTTP resolvers.
 *
 * A run drives one small state machine per request (connect, send,
 * receive) over non-blocking sockets with a single poll() loop, so n
 * requests share one deadline instead of adding up.  Invariants:
 *  - a connection returns to its origin's pool only after a complete,
 *    well-framed response that allowed keep-alive and left no stray bytes;
 *    every other outcome closes it;
 *  - the parser consumes raw bytes as they arrive and moves body bytes out
 *    at once, so the raw buffer never holds more than a header section (or
 *    a chunk-size line) plus one read, and the body never exceeds
 *    MSVC__HTTP_MAX_BODY;
 *  - a stale pooled connection is replaced once, by a fresh one, and only
 *    when no byte of the answer had arrived on it.
 * The pool is the only state shared between threads; it has its own mutex,
 * which is never held across a system call that can wait.
 */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_client.h"
#include "internal.h"

#define IDLE_MAX_MS 30000 /* pooled connections idle longer are dropped */
#define READ_CHUNK 16384
#define LINE_MAX_BYTES 1024 /* a chunk-size or trailer line */

/* ---- origins and their pools ---- */

struct idle_conn {
  int fd;
  int64_t since_ms;
};

struct msvc__http_origin {
  char *host;      /* for getaddrinfo: no brackets */
  char port[8];    /* decimal */
  char *authority; /* host[:port] as written: the Host header */
  pthread_mutex_t lock;
  struct idle_conn idle[MSVC__HTTP_POOL_MAX];
  size_t nidle;
};

static int url_error(char *errbuf, size_t errlen, const char *url, size_t len,
                     const char *why) {
  int shown = len > 200 ? 200 : (int)len;
  msvc__set_error(errbuf, errlen, "bad URL \"%.*s\": %s", shown, url, why);
  return MSVC_ECONFIG;
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

static int is_hostname_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
         c == '.' || c == '-' || c == '_';
}

static int is_ipv6_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
         c == ':' || c == '.';
}

/* Splits "host[:port]" or "[v6][:port]" into its parts; NULL on success or
 * the reason it is unusable. */
static const char *split_authority(const char *a, const char *end,
                                   const char **host, size_t *host_len,
                                   const char **port, size_t *port_len) {
  const char *p = a;
  int (*ok)(char) = is_hostname_char;
  if (p < end && *p == '[') {
    const char *close = memchr(p, ']', (size_t)(end - p));
    if (close == NULL)
      return "unterminated [IPv6] address";
    *host = p + 1;
    *host_len = (size_t)(close - p - 1);
    p = close + 1;
    ok = is_ipv6_char;
  } else {
    *host = p;
    while (p < end && *p != ':')
      p++;
    *host_len = (size_t)(p - *host);
  }
  if (*host_len == 0)
    return "empty host";
  for (size_t i = 0; i < *host_len; i++)
    if (!ok((*host)[i]))
      return "host holds a character that is not allowed";
  *port = NULL;
  *port_len = 0;
  if (p == end)
    return NULL;
  if (*p != ':')
    return "unexpected character after the host";
  *port = p + 1;
  *port_len = (size_t)(end - *port);
  return NULL;
}

/* Checks a decimal port 1..65535 and writes it to out. */
static const char *parse_port(const char *s, size_t len, char out[8]) {
  unsigned long v = 0;
  if (len == 0 || len > 5)
    return "port must be 1 to 65535";
  for (size_t i = 0; i < len; i++) {
    if (!is_digit(s[i]))
      return "port must be a number";
    v = v * 10 + (unsigned long)(s[i] - '0');
  }
  if (v == 0 || v > 65535)
    return "port must be 1 to 65535";
  snprintf(out, 8, "%lu", v);
  return NULL;
}

int msvc__http_origin_new(const char *url, size_t len,
                          msvc__http_origin_t **out, char *errbuf,
                          size_t errlen) {
  const char *end = url + len, *auth, *auth_end, *host, *port, *why;
  size_t host_len, port_len;
  char port_buf[8] = "80";
  msvc__http_origin_t *o;
  *out = NULL;
  if (len >= 8 && strncasecmp(url, "https://", 8) == 0)
    return url_error(errbuf, errlen, url, len,
                     "https is not supported; use plain http://");
  if (len < 7 || strncasecmp(url, "http://", 7) != 0)
    return url_error(errbuf, errlen, url, len, "must start with http://");
  auth = url + 7;
  auth_end = memchr(auth, '/', (size_t)(end - auth));
  if (auth_end == NULL)
    auth_end = end;
  else if (auth_end + 1 != end)
    return url_error(errbuf, errlen, url, len,
                     "a base URL takes no path (only a trailing /)");
  why = split_authority(auth, auth_end, &host, &host_len, &port, &port_len);
  if (why == NULL && port != NULL)
    why = parse_port(port, port_len, port_buf);
  if (why != NULL)
    return url_error(errbuf, errlen, url, len, why);
  o = calloc(1, sizeof(*o));
  if (o == NULL)
    return MSVC_ENOMEM;
  o->host = msvc__strndup(host, host_len);
  o->authority = msvc__strndup(auth, (size_t)(auth_end - auth));
  memcpy(o->port, port_buf, sizeof(o->port));
  if (o->host == NULL || o->authority == NULL ||
      pthread_mutex_init(&o->lock, NULL) != 0) {
    free(o->host);
    free(o->authority);
    free(o);
    return MSVC_ENOMEM;
  }
  *out = o;
  return 0;
}

void msvc__http_origin_free(msvc__http_origin_t *o) {
  if (o == NULL)
    return;
  for (size_t i = 0; i < o->nidle; i++)
    close(o->idle[i].fd);
  pthread_mutex_destroy(&o->lock);
  free(o->host);
  free(o->authority);
  free(o);
}

const char *msvc__http_origin_authority(const msvc__http_origin_t *o) {
  return o->authority;
}

size_t msvc__http_origin_idle_count(msvc__http_origin_t *o) {
  size_t n;
  pthread_mutex_lock(&o->lock);
  n = o->nidle;
  pthread_mutex_unlock(&o->lock);
  return n;
}

/* An idle connection is usable when nothing is readable on it: a server
 * that closed it (or wrote to it unasked) makes it readable. */
static int idle_alive(int fd) {
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  return poll(&pfd, 1, 0) == 0;
}

/* The most recently used idle connection that still looks alive, or -1. */
static int pool_take(msvc__http_origin_t *o, int64_t now) {
  for (;;) {
    int fd = -1;
    int64_t since = 0;
    pthread_mutex_lock(&o->lock);
    if (o->nidle > 0) {
      o->nidle--;
      fd = o->idle[o->nidle].fd;
      since = o->idle[o->nidle].since_ms;
    }
    pthread_mutex_unlock(&o->lock);
    if (fd < 0)
      return -1;
    if (now - since <= IDLE_MAX_MS && idle_alive(fd))
      return fd;
    close(fd);
  }
}

static void pool_give(msvc__http_origin_t *o, int fd) {
  int64_t now = msvc__monotonic_ms();
  pthread_mutex_lock(&o->lock);
  if (o->nidle < MSVC__HTTP_POOL_MAX) {
    o->idle[o->nidle].fd = fd;
    o->idle[o->nidle].since_ms = now;
    o->nidle++;
    fd = -1;
  }
  pthread_mutex_unlock(&o->lock);
  if (fd >= 0)
    close(fd);
}

/* ---- byte buffers ---- */

typedef struct bytes {
  char *p;
  size_t len;
  size_t cap;
} bytes_t;

/* Room for extra more bytes plus a NUL. */
static int bytes_reserve(bytes_t *b, size_t extra) {
  size_t need = b->len + extra + 1, cap = b->cap ? b->cap : 256;
  char *p;
  if (need <= b->cap)
    return 0;
  while (cap < need)
    cap *= 2;
  p = realloc(b->p, cap);
  if (p == NULL)
    return MSVC_ENOMEM;
  b->p = p;
  b->cap = cap;
  return 0;
}

static int bytes_append(bytes_t *b, const void *s, size_t n) {
  if (bytes_reserve(b, n) != 0)
    return MSVC_ENOMEM;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

static int bytes_puts(bytes_t *b, const char *s) {
  return bytes_append(b, s, strlen(s));
}

static void bytes_free(bytes_t *b) {
  free(b->p);
  memset(b, 0, sizeof(*b));
}

/* ---- the response parser ---- */

enum rstate {
  RS_HEAD,
  RS_LENGTH,
  RS_CHUNK_SIZE,
  RS_CHUNK_DATA,
  RS_CHUNK_END,
  RS_TRAILER,
  RS_EOF, /* body runs to the end of the connection */
  RS_DONE
};

typedef struct parser {
  enum rstate rs;
  bytes_t in; /* raw bytes; in.p[off..len) not parsed yet */
  size_t off;
  bytes_t body;
  uint64_t remaining; /* of the Content-Length or the current chunk */
  size_t trailer_bytes;
  int status;
  int keep_alive;
} parser_t;

/* What the header section says about framing. */
typedef struct head_info {
  int minor; /* HTTP/1.<minor> */
  int has_length;
  uint64_t length;
  int chunked;
  int close;
  int keep_alive;
} head_info_t;

static int is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
         (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int parse_status_line(const char *s, size_t n, parser_t *p,
                             head_info_t *h) {
  if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') ||
      s[8] != ' ' || !is_digit(s[9]) || !is_digit(s[10]) || !is_digit(s[11]) ||
      (n > 12 && s[12] != ' '))
    return MSVC_EIO;
  h->minor = s[7] - '0';
  p->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
  return p->status >= 100 && p->status <= 599 ? 0 : MSVC_EIO;
}

static int name_is(const char *name, size_t len, const char *want) {
  return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

/* Content-Length: digits only; a repeated header must agree. */
static int parse_length(const char *v, size_t len, head_info_t *h) {
  uint64_t n = 0;
  if (len == 0 || len > 18)
    return MSVC_EIO;
  for (size_t i = 0; i < len; i++) {
    if (!is_digit(v[i]))
      return MSVC_EIO;
    n = n * 10 + (uint64_t)(v[i] - '0');
  }
  if (h->has_length && h->length != n)
    return MSVC_EIO;
  h->has_length = 1;
  h->length = n;
  return 0;
}

/* Connection: a comma-separated token list. */
static void parse_connection(const char *v, size_t len, head_info_t *h) {
  size_t i = 0;
  while (i < len) {
    size_t start, end;
    while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
      i++;
    start = i;
    while (i < len && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
      i++;
    end = i;
    if (name_is(v + start, end - start, "close"))
      h->close = 1;
    else if (name_is(v + start, end - start, "keep-alive"))
      h->keep_alive = 1;
  }
}

static int parse_header_line(const char *s, size_t n, head_info_t *h) {
  const char *colon = memchr(s, ':', n), *v, *end = s + n;
  size_t name_len;
  if (colon == NULL || colon == s)
    return MSVC_EIO;
  name_len = (size_t)(colon - s);
  for (size_t i = 0; i < name_len; i++)
    if (!is_tchar(s[i])) /* also refuses obsolete line folding */
      return MSVC_EIO;
  v = colon + 1;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  for (const char *q = v; q < end; q++)
    if ((unsigned char)*q < 0x20 && *q != '\t')
      return MSVC_EIO;
  if (name_is(s, name_len, "content-length"))
    return parse_length(v, (size_t)(end - v), h);
  if (name_is(s, name_len, "transfer-encoding")) {
    /* We never ask for a coding, so only plain chunked makes sense. */
    if (!name_is(v, (size_t)(end - v), "chunked"))
      return MSVC_EIO;
    h->chunked = 1;
  } else if (name_is(s, name_len, "connection")) {
    parse_connection(v, (size_t)(end - v), h);
  }
  return 0;
}

/* Chooses how the body is framed once the header section is read. */
static int start_body(parser_t *p, const head_info_t *h) {
  p->keep_alive = h->minor == 1 ? !h->close : (h->keep_alive && !h->close);
  if (p->status == 101 || (h->chunked && h->has_length))
    return MSVC_EIO;
  if (p->status < 200) { /* interim answer: the real one follows */
    p->rs = RS_HEAD;
    return 0;
  }
  if (p->status == 204 || p->status == 304) {
    p->rs = RS_DONE;
  } else if (h->chunked) {
    p->rs = RS_CHUNK_SIZE;
  } else if (h->has_length) {
    if (h->length > MSVC__HTTP_MAX_BODY)
      return MSVC_ETOOBIG;
    p->remaining = h->length;
    p->rs = h->length > 0 ? RS_LENGTH : RS_DONE;
  } else {
    p->rs = RS_EOF;
    p->keep_alive = 0;
  }
  return 0;
}

/* Returns 1 when the header section was consumed, 0 when more bytes are
 * needed, or an error. */
static int parse_head(parser_t *p) {
  const char *s = p->in.p + p->off, *line, *head_end;
  size_t avail = p->in.len - p->off;
  head_info_t h;
  int rc;
  head_end = memmem(s, avail, "\r\n\r\n", 4);
  if (head_end == NULL)
    return avail > MSVC__HTTP_MAX_HEAD ? MSVC_EIO : 0;
  if ((size_t)(head_end - s) > MSVC__HTTP_MAX_HEAD)
    return MSVC_EIO;
  memset(&h, 0, sizeof(h));
  line = memmem(s, (size_t)(head_end - s) + 2, "\r\n", 2);
  rc = parse_status_line(s, (size_t)(line - s), p, &h);
  while (rc == 0 && line < head_end) {
    const char *start = line + 2;
    line = memmem(start, (size_t)(head_end - start) + 2, "\r\n", 2);
    rc = parse_header_line(start, (size_t)(line - start), &h);
  }
  if (rc == 0)
    rc = start_body(p, &h);
  p->off += (size_t)(head_end - s) + 4;
  return rc < 0 ? rc : 1;
}

/* Moves n raw bytes into the body, within the cap. */
static int take_body(parser_t *p, size_t n) {
  if (p->body.len + n > MSVC__HTTP_MAX_BODY)
    return MSVC_ETOOBIG;
  if (bytes_append(&p->body, p->in.p + p->off, n) != 0)
    return MSVC_ENOMEM;
  p->off += n;
  return 0;
}

/* Finds the next CRLF-terminated line of at most LINE_MAX_BYTES: its
 * length, -1 when more bytes are needed, or MSVC_EIO. */
static long next_line(const parser_t *p) {
  const char *s = p->in.p + p->off, *eol;
  size_t avail = p->in.len - p->off;
  eol = memmem(s, avail < LINE_MAX_BYTES ? avail : LINE_MAX_BYTES, "\r\n", 2);
  if (eol != NULL)
    return (long)(eol - s);
  return avail >= LINE_MAX_BYTES ? MSVC_EIO : -1;
}

static int hex_value(char c) {
  if (is_digit(c))
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* "1a[;ext...]" or "1a [;ext]": at most 8 hex digits. */
static int parse_chunk_size(parser_t *p) {
  long len = next_line(p);
  const char *s = p->in.p + p->off;
  uint64_t size = 0;
  long i = 0;
  if (len < 0)
    return len == -1 ? 0 : (int)len;
  for (; i < len && hex_value(s[i]) >= 0; i++)
    size = size * 16 + (uint64_t)hex_value(s[i]);
  if (i == 0 || i > 8)
    return MSVC_EIO;
  while (i < len && (s[i] == ' ' || s[i] == '\t'))
    i++;
  if (i < len && s[i] != ';')
    return MSVC_EIO;
  p->off += (size_t)len + 2;
  if (size == 0) {
    p->rs = RS_TRAILER;
  } else if (p->body.len + size > MSVC__HTTP_MAX_BODY) {
    return MSVC_ETOOBIG;
  } else {
    p->remaining = size;
    p->rs = RS_CHUNK_DATA;
  }
  return 1;
}

static int parse_trailer(parser_t *p) {
  long len = next_line(p);
  if (len < 0)
    return len == -1 ? 0 : (int)len;
  p->off += (size_t)len + 2;
  p->trailer_bytes += (size_t)len + 2;
  if (len == 0)
    p->rs = RS_DONE;
  return p->trailer_bytes > MSVC__HTTP_MAX_HEAD ? MSVC_EIO : 1;
}

/* One parsing step: 1 progressed, 0 needs more bytes, or an error. */
static int parse_step(parser_t *p) {
  size_t avail = p->in.len - p->off, take;
  int rc;
  switch (p->rs) {
  case RS_HEAD:
    return parse_head(p);
  case RS_LENGTH:
  case RS_CHUNK_DATA:
    take = avail < p->remaining ? avail : (size_t)p->remaining;
    if (take == 0)
      return 0;
    if ((rc = take_body(p, take)) != 0)
      return rc;
    p->remaining -= take;
    if (p->remaining == 0)
      p->rs = p->rs == RS_LENGTH ? RS_DONE : RS_CHUNK_END;
    return 1;
  case RS_CHUNK_SIZE:
    return parse_chunk_size(p);
  case RS_CHUNK_END:
    if (avail < 2)
      return 0;
    if (memcmp(p->in.p + p->off, "\r\n", 2) != 0)
      return MSVC_EIO;
    p->off += 2;
    p->rs = RS_CHUNK_SIZE;
    return 1;
  case RS_TRAILER:
    return parse_trailer(p);
  case RS_EOF:
    return avail == 0 ? 0 : ((rc = take_body(p, avail)) != 0 ? rc : 1);
  case RS_DONE:
    break;
  }
  return 0;
}

/* Parses what has arrived: 1 when the response is complete, 0 when more is
 * needed, or an error.  Unparsed bytes move to the front of the buffer. */
static int parser_run(parser_t *p) {
  int rc = 0;
  while (p->rs != RS_DONE && (rc = parse_step(p)) > 0)
    ;
  if (rc < 0)
    return rc;
  if (p->off > 0) {
    memmove(p->in.p, p->in.p + p->off, p->in.len - p->off);
    p->in.len -= p->off;
    p->off = 0;
  }
  if (p->rs != RS_DONE)
    return 0;
  if (p->in.len > 0) /* bytes beyond the answer: the stream is unusable */
    p->keep_alive = 0;
  return 1;
}

static void parser_reset(parser_t *p) {
  bytes_free(&p->in);
  bytes_free(&p->body);
  memset(p, 0, sizeof(*p));
}

/* ---- one request's state machine ---- */

enum phase { PH_CONNECT, PH_SEND, PH_RECV, PH_DONE };

typedef struct call {
  msvc__http_req_t *req;
  enum phase phase;
  int fd;
  int pooled;      /* this connection came from the pool */
  int retried;     /* the stale-connection retry was spent */
  size_t received; /* bytes read on this connection */
  bytes_t wire;    /* the serialised request */
  size_t sent;
  struct addrinfo *ai_list;
  const struct addrinfo *ai_next;
  parser_t p;
} call_t;

static int target_ok(const char *t) {
  if (t[0] != '/')
    return 0;
  for (; *t; t++)
    if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
      return 0;
  return 1;
}

static int method_ok(const char *m) {
  if (*m == '\0')
    return 0;
  for (; *m; m++)
    if (!is_tchar(*m))
      return 0;
  return 1;
}

static int build_wire(call_t *c) {
  const msvc__http_req_t *r = c->req;
  bytes_t *w = &c->wire;
  char length[48];
  int rc = 0;
  if (r->origin == NULL || r->method == NULL || r->target == NULL ||
      !method_ok(r->method) || !target_ok(r->target) ||
      (r->body == NULL && r->body_len != 0))
    return MSVC_EINVAL;
  rc |= bytes_puts(w, r->method);
  rc |= bytes_puts(w, " ");
  rc |= bytes_puts(w, r->target);
  rc |= bytes_puts(w, " HTTP/1.1\r\nHost: ");
  rc |= bytes_puts(w, r->origin->authority);
  rc |= bytes_puts(w, "\r\nUser-Agent: msvc/" MSVC_VERSION_STRING "\r\n");
  if (r->headers != NULL)
    rc |= bytes_puts(w, r->headers);
  if (r->body != NULL) {
    snprintf(length, sizeof(length), "Content-Length: %zu\r\n", r->body_len);
    rc |= bytes_puts(w, length);
  }
  rc |= bytes_puts(w, "\r\n");
  if (r->body != NULL)
    rc |= bytes_append(w, r->body, r->body_len);
  return rc != 0 ? MSVC_ENOMEM : 0;
}

static void call_close_fd(call_t *c) {
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
}

/* Ends the request: hands the body to the caller and the connection to the
 * pool when it may be reused. */
static void call_finish(call_t *c, int err) {
  msvc__http_req_t *r = c->req;
  if (err == 0 && bytes_reserve(&c->p.body, 0) != 0)
    err = MSVC_ENOMEM;
  if (err == 0)
    c->p.body.p[c->p.body.len] = '\0';
  r->err = err;
  if (err == 0) {
    r->status = c->p.status;
    r->resp = c->p.body.p;
    r->resp_len = c->p.body.len;
    memset(&c->p.body, 0, sizeof(c->p.body));
    if (c->p.keep_alive) {
      pool_give(r->origin, c->fd);
      c->fd = -1;
    }
  }
  call_close_fd(c);
  parser_reset(&c->p);
  bytes_free(&c->wire);
  if (c->ai_list != NULL)
    freeaddrinfo(c->ai_list);
  c->ai_list = NULL;
  c->phase = PH_DONE;
}

/* Tries the remaining addresses until a connect starts or succeeds. */
static void call_connect_next(call_t *c) {
  static const int one = 1;
  while (c->ai_next != NULL) {
    const struct addrinfo *ai = c->ai_next;
    int fd =
        socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
               ai->ai_protocol);
    c->ai_next = ai->ai_next;
    if (fd < 0)
      continue;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
      c->fd = fd;
      c->phase = PH_CONNECT; /* poll reports writable once connected */
      return;
    }
    close(fd);
  }
  call_finish(c, MSVC_EUNAVAIL);
}

static void call_open_fresh(call_t *c) {
  if (c->ai_list == NULL) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(c->req->origin->host, c->req->origin->port, &hints,
                    &c->ai_list) != 0) {
      c->ai_list = NULL;
      call_finish(c, MSVC_EUNAVAIL);
      return;
    }
  }
  c->ai_next = c->ai_list;
  call_connect_next(c);
}

/* The connection broke.  A pooled one that had not answered yet was most
 * likely closed by the server while idle: send again on a fresh one. */
static void call_broken(call_t *c) {
  call_close_fd(c);
  if (!c->pooled || c->retried || c->received > 0) {
    call_finish(c, MSVC_EIO);
    return;
  }
  c->pooled = 0;
  c->retried = 1;
  c->sent = 0;
  parser_reset(&c->p);
  call_open_fresh(c);
}

static void call_start(call_t *c, msvc__http_req_t *r, int64_t now) {
  int rc;
  memset(c, 0, sizeof(*c));
  c->req = r;
  c->fd = -1;
  free(r->resp);
  r->resp = NULL;
  r->resp_len = 0;
  r->status = 0;
  r->err = 0;
  rc = build_wire(c);
  if (rc != 0) {
    call_finish(c, rc);
    return;
  }
  c->fd = pool_take(r->origin, now);
  if (c->fd >= 0) {
    c->pooled = 1;
    c->phase = PH_SEND;
    return;
  }
  call_open_fresh(c);
}

static void call_connected(call_t *c) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
    err = errno;
  if (err == EINPROGRESS || err == EALREADY)
    return;
  if (err != 0) {
    call_close_fd(c);
    call_connect_next(c);
    return;
  }
  c->phase = PH_SEND;
}

static void call_send(call_t *c) {
  while (c->sent < c->wire.len) {
    ssize_t k =
        send(c->fd, c->wire.p + c->sent, c->wire.len - c->sent, MSG_NOSIGNAL);
    if (k > 0) {
      c->sent += (size_t)k;
    } else if (k < 0 && errno == EINTR) {
      continue;
    } else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    } else {
      call_broken(c);
      return;
    }
  }
  c->phase = PH_RECV;
}

static void call_eof(call_t *c) {
  if (c->p.rs == RS_EOF) {
    c->p.rs = RS_DONE;
    c->p.keep_alive = 0;
    call_finish(c, 0);
    return;
  }
  call_broken(c);
}

static void call_recv(call_t *c) {
  for (;;) {
    parser_t *p = &c->p;
    ssize_t k;
    int rc;
    if (bytes_reserve(&p->in, READ_CHUNK) != 0) {
      call_finish(c, MSVC_ENOMEM);
      return;
    }
    k = recv(c->fd, p->in.p + p->in.len, p->in.cap - p->in.len - 1, 0);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    if (k < 0) {
      call_broken(c);
      return;
    }
    if (k == 0) {
      call_eof(c);
      return;
    }
    c->received += (size_t)k;
    p->in.len += (size_t)k;
    rc = parser_run(p);
    if (rc != 0) {
      call_finish(c, rc < 0 ? rc : 0);
      return;
    }
  }
}

static void call_step(call_t *c) {
  if (c->phase == PH_CONNECT)
    call_connected(c);
  if (c->phase == PH_SEND)
    call_send(c);
  if (c->phase == PH_RECV)
    call_recv(c);
}

/* ---- running a set of requests ---- */

static int any_ok(const call_t *calls, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (calls[i].phase == PH_DONE && calls[i].req->err == 0 &&
        calls[i].req->status / 100 == 2)
      return 1;
  return 0;
}

/* One poll() over the unfinished requests; returns 0 when the run is over
 * (all done, deadline passed, or FIRST_OK satisfied). */
static int poll_once(call_t *calls, size_t n, struct pollfd *pfds, size_t *map,
                     int64_t deadline_ms, unsigned flags) {
  size_t np = 0;
  int64_t left;
  int rc;
  for (size_t i = 0; i < n; i++) {
    if (calls[i].phase == PH_DONE)
      continue;
    pfds[np].fd = calls[i].fd;
    pfds[np].events = calls[i].phase == PH_RECV ? POLLIN : POLLOUT;
    pfds[np].revents = 0;
    map[np++] = i;
  }
  if (np == 0 || ((flags & MSVC__HTTP_FIRST_OK) && any_ok(calls, n)))
    return 0;
  left = deadline_ms - msvc__monotonic_ms();
  if (left <= 0)
    return 0;
  rc = poll(pfds, (nfds_t)np, left > INT_MAX ? INT_MAX : (int)left);
  if (rc < 0)
    return errno == EINTR;
  for (size_t k = 0; k < np; k++)
    if (pfds[k].revents != 0)
      call_step(&calls[map[k]]);
  return 1;
}

void msvc__http_run(msvc__http_req_t *reqs, size_t n, int64_t deadline_ms,
                    unsigned flags) {
  call_t *calls;
  struct pollfd *pfds;
  size_t *map;
  int64_t now = msvc__monotonic_ms();
  if (n == 0)
    return;
  calls = calloc(n, sizeof(*calls));
  pfds = calloc(n, sizeof(*pfds));
  map = calloc(n, sizeof(*map));
  if (calls == NULL || pfds == NULL || map == NULL) {
    for (size_t i = 0; i < n; i++) {
      msvc__http_req_reset(&reqs[i]);
      reqs[i].err = MSVC_ENOMEM;
    }
  } else {
    for (size_t i = 0; i < n; i++)
      call_start(&calls[i], &reqs[i], now);
    while (poll_once(calls, n, pfds, map, deadline_ms, flags))
      ;
    for (size_t i = 0; i < n; i++)
      if (calls[i].phase != PH_DONE)
        call_finish(&calls[i], MSVC_ETIMEDOUT);
  }
  free(calls);
  free(pfds);
  free(map);
}

void msvc__http_req_reset(msvc__http_req_t *r) {
  free(r->resp);
  r->resp = NULL;
  r->resp_len = 0;
  r->status = 0;
  r->err = 0;
}
