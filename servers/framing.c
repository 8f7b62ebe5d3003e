/* framing.c - refuses HTTP/1 requests whose body framing is ambiguous.
 *
 * Rules (RFC 9112 §6.1-6.3), each answered 400 with the connection closed:
 *  - Content-Length and Transfer-Encoding together;
 *  - Content-Length more than once, even with equal values (§6.3 allows a
 *    recipient to merge equal ones; refusing every repeat is simpler and
 *    no client we serve sends one);
 *  - Transfer-Encoding on an HTTP/1.0 request;
 *  - any transfer coding but one single "chunked" (h2o already refuses a
 *    single header with another value; two headers it would merge wrongly);
 *  - an obs-fold continuation line on either header (h2o would drop it,
 *    another parser would append it to the value).
 *
 * h2o 2.2.5 keeps neither header in req->headers, so the check reads the
 * header block where h2o parsed it: the connection's input buffer, which
 * starts at the current request until its answer has been sent (h2o
 * consumes it only then), its header bytes intact (a chunked body is
 * decoded in place, after them).  The buffer must start with the request's
 * method, else the check does nothing rather than guess.
 */
#include "framing.h"

#include <string.h>

typedef struct framing_scan {
  int content_length;    /* Content-Length headers seen */
  int transfer_encoding; /* Transfer-Encoding headers seen */
  int te_not_chunked;    /* one of them was not exactly "chunked" */
  int folded;            /* an obs-fold line continued one of them */
} framing_scan_t;

static int name_is(const char *s, size_t len, const char *want) {
  return len == strlen(want) && h2o_lcstris(s, len, want, len);
}

/* The value between ':' and the end of the line, without OWS. */
static h2o_iovec_t header_value(const char *colon, const char *end) {
  const char *v = colon + 1;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  return h2o_iovec_init(v, (size_t)(end - v));
}

/* Notes one header line [s, end) (no line terminator); `last_framing`
 * tells whether the previous line was a framing header, for obs-fold. */
static void scan_line(framing_scan_t *f, const char *s, const char *end,
                      int *last_framing) {
  const char *colon;
  h2o_iovec_t v;
  if (*s == ' ' || *s == '\t') {
    f->folded |= *last_framing;
    return;
  }
  *last_framing = 0;
  colon = memchr(s, ':', (size_t)(end - s));
  if (colon == NULL)
    return;
  if (name_is(s, (size_t)(colon - s), "content-length")) {
    f->content_length++;
    *last_framing = 1;
  } else if (name_is(s, (size_t)(colon - s), "transfer-encoding")) {
    f->transfer_encoding++;
    v = header_value(colon, end);
    if (!h2o_lcstris(v.base, v.len, H2O_STRLIT("chunked")))
      f->te_not_chunked = 1;
    *last_framing = 1;
  }
}

/* Scans the header lines from p (just past the request line) to the
 * blank line that ends them, or to `end`. */
static void scan_headers(framing_scan_t *f, const char *p, const char *end) {
  int last_framing = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *eol = nl != NULL ? nl : end;
    if (eol > p && eol[-1] == '\r')
      eol--;
    if (eol == p)
      return; /* the blank line */
    scan_line(f, p, eol, &last_framing);
    if (nl == NULL)
      return;
    p = nl + 1;
  }
}

/* The start of the request line in buf (picohttpparser skips empty lines
 * before it), or NULL when it does not start with req's method. */
static const char *request_line(const h2o_req_t *req, const char *p,
                                const char *end) {
  h2o_iovec_t m = req->input.method;
  while (p < end && (*p == '\r' || *p == '\n'))
    p++;
  if ((size_t)(end - p) <= m.len || memcmp(p, m.base, m.len) != 0 ||
      p[m.len] != ' ')
    return NULL;
  return p;
}

static const char *verdict(const framing_scan_t *f, int version) {
  if (f->content_length > 0 && f->transfer_encoding > 0)
    return "Both Content-Length and Transfer-Encoding";
  if (f->content_length > 1)
    return "Repeated Content-Length";
  if (f->transfer_encoding > 0 && version < 0x101)
    return "Transfer-Encoding on HTTP/1.0";
  if (f->transfer_encoding > 1 || f->te_not_chunked)
    return "Unsupported Transfer-Encoding";
  if (f->folded)
    return "Folded framing header";
  return NULL;
}

const char *msvc_framing_check(h2o_req_t *req) {
  framing_scan_t f = {0, 0, 0, 0};
  h2o_socket_t *sock;
  const char *p, *end, *nl;
  if (req->version >= 0x200 || req->conn->callbacks->get_socket == NULL)
    return NULL;
  sock = req->conn->callbacks->get_socket(req->conn);
  if (sock == NULL || sock->input == NULL)
    return NULL;
  end = sock->input->bytes + sock->input->size;
  p = request_line(req, sock->input->bytes, end);
  if (p == NULL || (nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
    return NULL;
  scan_headers(&f, nl + 1, end);
  return verdict(&f, req->version);
}
