/* cors.c - the CORS headers of answers and preflights (see cors.h).
 *
 * Invariants: the configured origins are checked once, at start-up, and
 * kept lower-cased (browsers serialise scheme and host in lower case, so
 * the comparison ignores case); a request's own header values are only
 * ever echoed when they are bounded and well-formed (an Origin only when
 * it equals a configured one, Access-Control-Request-Headers only as a
 * list of tokens of at most MSVC_CORS_REQUEST_HEADERS_MAX bytes); header
 * values point into static text, the configuration or the request's own
 * headers, all of which outlive the answer.
 */
#include "cors.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct msvc_cors {
  int any;          /* "*": any origin */
  size_t n;         /* listed origins */
  h2o_iovec_t *set; /* lower-cased copies */
};

#define LABEL "--cors-origins (CORS_ORIGINS)"

/* ---- configuration --------------------------------------------------- */

static int is_scheme_char(unsigned char c) {
  return isalnum(c) || c == '+' || c == '-' || c == '.';
}

static int is_host_char(unsigned char c) {
  return isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~';
}

/* NULL when s[0..len) is an origin as a browser serialises it: "null", or
 * scheme "://" host [":" port] with nothing after; else why not. */
static const char *origin_problem(const char *s, size_t len) {
  size_t i = 0, start;
  if (len == 4 && memcmp(s, "null", 4) == 0)
    return NULL;
  if (len == 0 || !isalpha((unsigned char)s[0]))
    return "it does not start with a scheme";
  while (i < len && is_scheme_char((unsigned char)s[i]))
    i++;
  if (len - i < 3 || memcmp(s + i, "://", 3) != 0)
    return "it has no \"://\" after the scheme";
  i += 3;
  start = i;
  if (i < len && s[i] == '[') { /* an IPv6 literal */
    while (i < len && s[i] != ']') {
      if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.' &&
          s[i] != '[')
        return "its IPv6 address is malformed";
      i++;
    }
    if (i == len)
      return "its IPv6 address has no ']'";
    i++;
  } else {
    while (i < len && is_host_char((unsigned char)s[i]))
      i++;
  }
  if (i == start)
    return "it has no host";
  if (i < len && s[i] == ':') {
    size_t digits = 0;
    long port = 0;
    for (i++; i < len && isdigit((unsigned char)s[i]) && digits < 6;
         i++, digits++)
      port = port * 10 + (s[i] - '0');
    if (digits == 0 || port < 1 || port > 65535)
      return "its port is not a number from 1 to 65535";
  }
  if (i == len)
    return NULL;
  switch (s[i]) {
  case '/':
    return "it has a path (an origin has none, not even a trailing '/')";
  case '@':
    return "it has a user name (an origin has none)";
  case '?':
  case '#':
    return "it has a query or fragment (an origin has none)";
  }
  return "it has a character an origin cannot have";
}

static void trim(const char **s, size_t *len) {
  while (*len > 0 && (**s == ' ' || **s == '\t')) {
    (*s)++;
    (*len)--;
  }
  while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
    (*len)--;
}

void msvc_cors_free(msvc_cors_t *cors) {
  if (cors == NULL)
    return;
  for (size_t i = 0; i < cors->n; i++)
    free(cors->set[i].base);
  free(cors->set);
  free(cors);
}

int msvc_cors_new(const char *origins, msvc_cors_t **out, char *errbuf,
                  size_t errlen) {
  msvc_cors_t *cors = calloc(1, sizeof(*cors));
  size_t cap = 1;
  const char *p;
  if (out != NULL)
    *out = NULL;
  if (cors == NULL)
    return MSVC_ENOMEM;
  if (origins == NULL || strcmp(origins, "*") == 0) {
    cors->any = 1;
    goto done;
  }
  for (p = origins; *p != '\0'; p++)
    cap += *p == ',';
  cors->set = calloc(cap, sizeof(*cors->set));
  if (cors->set == NULL) {
    msvc_cors_free(cors);
    return MSVC_ENOMEM;
  }
  for (p = origins;;) {
    const char *comma = strchr(p, ',');
    const char *s = p, *why;
    size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
    trim(&s, &len);
    if (len == 1 && s[0] == '*' && p == origins && comma == NULL) {
      cors->any = 1; /* " * " */
      break;
    }
    if (len == 1 && s[0] == '*') {
      msvc__set_error(errbuf, errlen,
                      "%s: \"*\" allows every origin and cannot be combined "
                      "with a list",
                      LABEL);
      msvc_cors_free(cors);
      return MSVC_ECONFIG;
    }
    if (len == 0) {
      msvc__set_error(errbuf, errlen, "%s: an empty origin in \"%.80s\"", LABEL,
                      origins);
      msvc_cors_free(cors);
      return MSVC_ECONFIG;
    }
    why = origin_problem(s, len);
    if (why != NULL) {
      msvc__set_error(errbuf, errlen,
                      "%s: \"%.*s\" is not an origin (scheme://host[:port], "
                      "e.g. https://app.example.com, or null): %s",
                      LABEL, (int)(len < 80 ? len : 80), s, why);
      msvc_cors_free(cors);
      return MSVC_ECONFIG;
    }
    cors->set[cors->n].base = msvc__strndup(s, len);
    if (cors->set[cors->n].base == NULL) {
      msvc_cors_free(cors);
      return MSVC_ENOMEM;
    }
    msvc__ascii_lower(cors->set[cors->n].base);
    cors->set[cors->n++].len = len;
    if (comma == NULL)
      break;
    p = comma + 1;
  }
done:
  if (out != NULL)
    *out = cors;
  else
    msvc_cors_free(cors);
  return 0;
}

/* ---- requests -------------------------------------------------------- */

/* The first value of header `name` (lower case), or {NULL, 0}. */
static h2o_iovec_t header_value(const h2o_req_t *req, const char *name,
                                size_t len) {
  ssize_t i = h2o_find_header_by_str(&req->headers, name, len, -1);
  return i == -1 ? h2o_iovec_init(NULL, 0) : req->headers.entries[i].value;
}

/* The request's Origin when it is a listed one, else {NULL, 0}. */
static h2o_iovec_t listed_origin(const msvc_cors_t *cors, h2o_req_t *req) {
  h2o_iovec_t origin = header_value(req, H2O_STRLIT("origin"));
  if (origin.base != NULL)
    for (size_t i = 0; i < cors->n; i++)
      if (h2o_lcstris(origin.base, origin.len, cors->set[i].base,
                      cors->set[i].len))
        return origin;
  return h2o_iovec_init(NULL, 0);
}

static void add(h2o_req_t *req, const h2o_token_t *token, const char *name,
                const char *value, size_t len) {
  h2o_add_header(&req->pool, &req->res.headers, token, name, value, len);
}

static void add_str(h2o_req_t *req, const char *lc_name, size_t name_len,
                    const char *name, const char *value, size_t len) {
  h2o_add_header_by_str(&req->pool, &req->res.headers, lc_name, name_len, 0,
                        name, value, len);
}

/* Adds Access-Control-Allow-Origin for an allowed request; 0 when the
 * origin is not allowed (nothing added). */
static int allow_origin(const msvc_cors_t *cors, h2o_req_t *req) {
  h2o_iovec_t origin;
  if (cors->any) {
    add(req, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN,
        "Access-Control-Allow-Origin", H2O_STRLIT("*"));
    return 1;
  }
  origin = listed_origin(cors, req);
  if (origin.base == NULL)
    return 0;
  add(req, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, "Access-Control-Allow-Origin",
      origin.base, origin.len);
  return 1;
}

int msvc_cors_is_preflight(const h2o_req_t *req) {
  return h2o_memis(req->method.base, req->method.len, H2O_STRLIT("OPTIONS"));
}

void msvc_cors_answer(const msvc_cors_t *cors, h2o_req_t *req) {
  if (cors == NULL)
    return;
  if (!cors->any) /* the answer depends on the Origin, whatever it is */
    add(req, H2O_TOKEN_VARY, "Vary", H2O_STRLIT("Origin"));
  allow_origin(cors, req);
}

static int is_tchar(unsigned char c) {
  return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* 1 when v is "token *( OWS , OWS token )" within the bound, trimmed into
 * *out. */
static int request_headers_ok(h2o_iovec_t v, h2o_iovec_t *out) {
  const char *s = v.base;
  size_t len = v.len, tokens = 0;
  int in_token = 0;
  if (s == NULL)
    return 0;
  trim(&s, &len);
  if (len == 0 || len > MSVC_CORS_REQUEST_HEADERS_MAX)
    return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (is_tchar(c)) {
      if (!in_token)
        tokens++;
      in_token = 1;
    } else if (c == ',' || c == ' ' || c == '\t') {
      in_token = 0;
    } else {
      return 0;
    }
  }
  if (tokens == 0)
    return 0;
  *out = h2o_iovec_init(s, len);
  return 1;
}

void msvc_cors_preflight(const msvc_cors_t *cors, h2o_req_t *req) {
  h2o_iovec_t asked;
  if (cors == NULL)
    return;
  if (!allow_origin(cors, req)) {
    add(req, H2O_TOKEN_VARY, "Vary", H2O_STRLIT("Origin"));
    return;
  }
  add(req, H2O_TOKEN_VARY, "Vary",
      cors->any ? "Access-Control-Request-Headers"
                : "Origin, Access-Control-Request-Headers",
      cors->any ? sizeof("Access-Control-Request-Headers") - 1
                : sizeof("Origin, Access-Control-Request-Headers") - 1);
  add_str(req, H2O_STRLIT("access-control-allow-methods"),
          "Access-Control-Allow-Methods", H2O_STRLIT(MSVC_CORS_METHODS));
  if (!request_headers_ok(
          header_value(req, H2O_STRLIT("access-control-request-headers")),
          &asked))
    asked = h2o_iovec_init(H2O_STRLIT(MSVC_CORS_DEFAULT_HEADERS));
  add_str(req, H2O_STRLIT("access-control-allow-headers"),
          "Access-Control-Allow-Headers", asked.base, asked.len);
  add_str(req, H2O_STRLIT("access-control-max-age"), "Access-Control-Max-Age",
          H2O_STRLIT(MSVC_CORS_MAX_AGE));
}
