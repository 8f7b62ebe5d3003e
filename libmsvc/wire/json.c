/* json.c - the JSON wire format (wire/json.h): strict input through
 * json-c, direct output into a msvc__buf_t.
 *
 * Input.  json-c 0.16 is lenient even with JSON_TOKENER_STRICT (it takes
 * single quotes, NaN, "1.", raw control characters in strings, overlong and
 * surrogate UTF-8), so every JSON the project reads (request bodies in the
 * servers, upstream answers in the HTTP resolver) first goes through the
 * small RFC 8259 validator here (grammar, RFC 3629 UTF-8, nesting at most
 * JSON_MAX_DEPTH, nothing but white space after the value), in
 * msvc__json_parse_strict, the one entry point.  Only then does json-c
 * build the tree, still strict, and only the fields an operation knows are
 * read from it, each checked with json_object_is_type first because
 * json-c's getters coerce.
 *
 * Output.  Writers append to a msvc__buf_t (base/buf.c) with hand-written
 * escaping; dates come from base/timestamp.c: no printf, no json-c, no
 * gmtime (glibc's takes a lock).  A buffer that failed to grow ignores
 * further appends, so a writer checks `failed` once at the end.
 */
#include <json-c/json.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "wire/json.h"

#define JSON_MAX_DEPTH 32

#define BUF_LIT(b, lit) MSVC__BUF_LIT(b, lit)

/* ---- string writers ----------------------------------------------------- */

/* What each byte becomes inside a JSON string: 0 for itself, else the
 * letter of its two-byte escape ('"', '\\', 'b', 'f', 'n', 'r', 't') or
 * 'u' for \u00XX.  Bytes of 0x80 and above (UTF-8) pass through. */
static const unsigned char escape_of[256] = {
    ['\0'] = 'u', [1] = 'u',  [2] = 'u',    [3] = 'u',    [4] = 'u',
    [5] = 'u',    [6] = 'u',  [7] = 'u',    ['\b'] = 'b', ['\t'] = 't',
    ['\n'] = 'n', [11] = 'u', ['\f'] = 'f', ['\r'] = 'r', [14] = 'u',
    [15] = 'u',   [16] = 'u', [17] = 'u',   [18] = 'u',   [19] = 'u',
    [20] = 'u',   [21] = 'u', [22] = 'u',   [23] = 'u',   [24] = 'u',
    [25] = 'u',   [26] = 'u', [27] = 'u',   [28] = 'u',   [29] = 'u',
    [30] = 'u',   [31] = 'u', ['"'] = '"',  ['\\'] = '\\'};

/* Sixteen bytes at a time with SSE2 (every x86-64 has it), else eight
 * (SWAR).  The SSE2 test is exact: a byte of at most 0x1f (unsigned: a
 * saturating subtract leaves 0), a '"' or a '\\'.  The SWAR one can also
 * fire for a word that holds none (a borrow across bytes), which only
 * sends that word to the byte-by-byte check: the table decides. */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
static uint64_t maybe_special(uint64_t w) {
  uint64_t q = w ^ (ONES * '"'), bs = w ^ (ONES * '\\');
  return ((w - ONES * 0x20) | (q - ONES) | (bs - ONES)) & ~w & HIGHS;
}

/* The index of the first byte at or after i that needs escaping, or len. */
#ifdef __SSE2__
/* Bit k set when byte k of the 16 at p needs escaping. */
static unsigned special_mask16(const unsigned char *p) {
  const __m128i ctl = _mm_set1_epi8(0x1f), zero = _mm_setzero_si128();
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
  __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
  __m128i hit = _mm_or_si128(
      _mm_cmpeq_epi8(_mm_subs_epu8(v, ctl), zero),
      _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
  return (unsigned)_mm_movemask_epi8(hit);
}
#endif

static size_t next_special(const unsigned char *p, size_t i, size_t len) {
#ifdef __SSE2__
  unsigned mask;
  while (i + 16 <= len) {
    if ((mask = special_mask16(p + i)) != 0)
      return i + (size_t)__builtin_ctz(mask);
    i += 16;
  }
  /* The tail: the last 16 bytes of the string, which overlap bytes already
   * checked (their bits are dropped), rather than a byte at a time. */
  if (i < len && len >= 16) {
    mask = special_mask16(p + len - 16) >> (16 - (len - i));
    return mask != 0 ? i + (size_t)__builtin_ctz(mask) : len;
  }
#endif
  while (i + 8 <= len) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    if (maybe_special(w))
      break;
    i += 8;
  }
  while (i < len && escape_of[p[i]] == 0)
    i++;
  return i;
}

/* The escaped form of p[from..len) at o, which has room; returns the end. */
static char *write_escaped(char *o, const unsigned char *p, size_t from,
                           size_t len) {
  static const char hex[] = "0123456789abcdef";
  size_t i, run = 0;
  for (i = from; i < len; i = next_special(p, i + 1, len)) {
    unsigned char e = escape_of[p[i]];
    memcpy(o, p + run, i - run);
    o += i - run;
    *o++ = '\\';
    *o++ = (char)e;
    if (e == 'u') {
      *o++ = '0';
      *o++ = '0';
      *o++ = hex[p[i] >> 4];
      *o++ = hex[p[i] & 15];
    }
    run = i + 1;
  }
  memcpy(o, p + run, len - run);
  return o + (len - run);
}

/* Most strings need no escape at all, so one scan decides: none found,
 * one copy; else a second scan from the first escape sizes the result
 * exactly and a third writes it. */
void msvc__json_string(msvc__buf_t *b, const char *s, size_t len) {
  /* "" for NULL: memcpy from a null pointer is undefined even for 0
   * bytes. */
  const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
  size_t extra = 0, first, i;
  char *o;
  if (s == NULL)
    len = 0;
  first = next_special(p, 0, len);
  for (i = first; i < len; i = next_special(p, i + 1, len))
    extra += escape_of[p[i]] == 'u' ? 5 : 1;
  if (msvc__buf_reserve(b, len + extra + 2) != 0)
    return;
  o = b->data + b->len;
  *o++ = '"';
  if (first == len) {
    memcpy(o, p, len);
    o += len;
  } else {
    o = write_escaped(o, p, first, len);
  }
  *o++ = '"';
  b->len = (size_t)(o - b->data);
  b->data[b->len] = '\0';
}

void msvc__json_cstring(msvc__buf_t *b, const char *s) {
  msvc__json_string(b, s, s != NULL ? strlen(s) : 0);
}

/* ---- dates and records ------------------------------------------------- */

void msvc__json_timestamp(msvc__buf_t *b, int64_t ms) {
  char *o;
  size_t n;
  if (msvc__buf_reserve(b, 34) != 0)
    return;
  /* Formatted in place, after the opening quote. */
  o = b->data + b->len;
  n = msvc__format_timestamp(ms, o + 1);
  if (n == 0) { /* outside JavaScript's Date range */
    BUF_LIT(b, "null");
    return;
  }
  o[0] = '"';
  o[n + 1] = '"';
  b->len += n + 2;
  b->data[b->len] = '\0';
}

/* An id: 24 hex digits need no escaping, so they go in with one copy;
 * anything else (a foreign store's odd value) through the escaper. */
/* 24 hex digits and a NUL: an id that goes in with one copy. */
static int plain_id(const char *id) {
  return id != NULL && strnlen(id, MSVC_ID_SIZE) == MSVC_ID_LEN &&
         msvc__hex_digits(id, MSVC_ID_LEN);
}

static void json_id(msvc__buf_t *b, const char *id) {
  char *o;
  if (!plain_id(id)) {
    msvc__json_cstring(b, id);
    return;
  }
  if (msvc__buf_reserve(b, MSVC_ID_LEN + 2) != 0)
    return;
  o = b->data + b->len;
  o[0] = '"';
  memcpy(o + 1, id, MSVC_ID_LEN);
  o[MSVC_ID_LEN + 1] = '"';
  b->len += MSVC_ID_LEN + 2;
  b->data[b->len] = '\0';
}

void msvc__json_public_user(msvc__buf_t *b, const msvc_user_t *u) {
  if (u == NULL || u->id[0] == '\0') {
    BUF_LIT(b, "null");
    return;
  }
  BUF_LIT(b, "{\"id\":");
  json_id(b, u->id);
  BUF_LIT(b, ",\"name\":");
  msvc__json_cstring(b, u->name);
  BUF_LIT(b, ",\"email\":");
  msvc__json_cstring(b, u->email);
  msvc__buf_putc(b, '}');
}

void msvc__json_user(msvc__buf_t *b, const msvc_user_t *u) {
  if (u == NULL) {
    BUF_LIT(b, "null");
    return;
  }
  BUF_LIT(b, "{\"id\":");
  msvc__json_cstring(b, u->id);
  BUF_LIT(b, ",\"name\":");
  msvc__json_cstring(b, u->name);
  BUF_LIT(b, ",\"email\":");
  msvc__json_cstring(b, u->email);
  BUF_LIT(b, ",\"created_at\":");
  msvc__json_timestamp(b, u->created_at);
  BUF_LIT(b, ",\"updated_at\":");
  msvc__json_timestamp(b, u->updated_at);
  msvc__buf_putc(b, '}');
}

/* ---- a post in one piece ------------------------------------------------
 *
 * A page writes twenty or a hundred posts, and nearly all of them need no
 * escape, have hex ids and dates in years 0 to 9999.  Such a post is
 * written through one pointer into room reserved once, its size known from
 * the string lengths; any other post goes through the field writers
 * above, which give the same bytes. */

/* A counted string that needs no escape. */
typedef struct plain {
  const char *s;
  size_t n;
} plain_t;

static int plain_of(const char *s, plain_t *out) {
  out->s = s != NULL ? s : "";
  out->n = strlen(out->s);
  return next_special((const unsigned char *)out->s, 0, out->n) == out->n;
}

#define PUT_LIT(o, lit)                                                        \
  (memcpy((o), (lit), sizeof(lit) - 1), (o) + sizeof(lit) - 1)

static char *put_quoted(char *o, const char *s, size_t n) {
  *o++ = '"';
  memcpy(o, s, n);
  o += n;
  *o++ = '"';
  return o;
}

/* A date as "...Z" with its quotes, or NULL when it is not 24 bytes (the
 * field writer then has the last word). */
static char *put_date(char *o, int64_t ms) {
  char tmp[32];
  if (msvc__format_timestamp(ms, tmp) != 24)
    return NULL;
  return put_quoted(o, tmp, 24);
}

/* The public form of an author whose strings need no escape. */
static char *put_author(char *o, const char *id, const plain_t *name,
                        const plain_t *email) {
  o = PUT_LIT(o, "{\"id\":");
  o = put_quoted(o, id, MSVC_ID_LEN);
  o = PUT_LIT(o, ",\"name\":");
  o = put_quoted(o, name->s, name->n);
  o = PUT_LIT(o, ",\"email\":");
  o = put_quoted(o, email->s, email->n);
  *o++ = '}';
  return o;
}

/* The fixed bytes of a post and its author: every key, brace and comma,
 * three quoted ids, two quoted dates and the quotes of four strings (and
 * "null" for no author, which is shorter than the author's keys). */
#define LIT_LEN(lit) (sizeof(lit) - 1)
#define POST_FIXED_BYTES                                                       \
  (LIT_LEN("{\"id\":") + LIT_LEN(",\"user_id\":") + LIT_LEN(",\"title\":") +   \
   LIT_LEN(",\"content\":") + LIT_LEN(",\"created_at\":") +                    \
   LIT_LEN(",\"updated_at\":") + LIT_LEN(",\"user\":") + LIT_LEN("{\"id\":") + \
   LIT_LEN(",\"name\":") + LIT_LEN(",\"email\":") + 2 /* the braces */ +       \
   3 * (MSVC_ID_LEN + 2) + 2 * (24 + 2) + 4 * 2)

/* 0 when the post was written (or the buffer has failed, as the field
 * writers would have found too); -1 when it needs the field writers. */
static int post_fast(msvc__buf_t *b, const msvc_post_t *p,
                     const msvc_user_t *author) {
  plain_t title, content, name = {"", 0}, email = {"", 0};
  int has_author = author != NULL && author->id[0] != '\0';
  char *o, *start;
  if (!plain_id(p->id) || !plain_id(p->user_id) ||
      !plain_of(p->title, &title) || !plain_of(p->content, &content) ||
      (has_author && (!plain_id(author->id) || !plain_of(author->name, &name) ||
                      !plain_of(author->email, &email))))
    return -1;
  if (msvc__buf_reserve(b, POST_FIXED_BYTES + title.n + content.n + name.n +
                               email.n) != 0)
    return 0;
  start = o = b->data + b->len;
  o = PUT_LIT(o, "{\"id\":");
  o = put_quoted(o, p->id, MSVC_ID_LEN);
  o = PUT_LIT(o, ",\"user_id\":");
  o = put_quoted(o, p->user_id, MSVC_ID_LEN);
  o = PUT_LIT(o, ",\"title\":");
  o = put_quoted(o, title.s, title.n);
  o = PUT_LIT(o, ",\"content\":");
  o = put_quoted(o, content.s, content.n);
  o = PUT_LIT(o, ",\"created_at\":");
  if ((o = put_date(o, p->created_at)) == NULL)
    return -1; /* nothing counted yet: the field writers start over */
  o = PUT_LIT(o, ",\"updated_at\":");
  if ((o = put_date(o, p->updated_at)) == NULL)
    return -1;
  o = PUT_LIT(o, ",\"user\":");
  o = has_author ? put_author(o, author->id, &name, &email)
                 : PUT_LIT(o, "null");
  *o++ = '}';
  b->len += (size_t)(o - start);
  b->data[b->len] = '\0';
  return 0;
}

void msvc__json_post(msvc__buf_t *b, const msvc_post_t *p,
                     const msvc_user_t *author) {
  if (p == NULL) {
    BUF_LIT(b, "null");
    return;
  }
  if (post_fast(b, p, author) == 0)
    return;
  BUF_LIT(b, "{\"id\":");
  json_id(b, p->id);
  BUF_LIT(b, ",\"user_id\":");
  json_id(b, p->user_id);
  BUF_LIT(b, ",\"title\":");
  msvc__json_cstring(b, p->title);
  BUF_LIT(b, ",\"content\":");
  msvc__json_cstring(b, p->content);
  BUF_LIT(b, ",\"created_at\":");
  msvc__json_timestamp(b, p->created_at);
  BUF_LIT(b, ",\"updated_at\":");
  msvc__json_timestamp(b, p->updated_at);
  BUF_LIT(b, ",\"user\":");
  msvc__json_public_user(b, author);
  msvc__buf_putc(b, '}');
}

void msvc__json_error(msvc__buf_t *b, int status, const char *message,
                      const msvc_errors_t *errs) {
  BUF_LIT(b, "{\"status\":");
  msvc__buf_int(b, status);
  BUF_LIT(b, ",\"message\":");
  msvc__json_cstring(b, message);
  if (msvc_errors_count(errs) > 0) {
    BUF_LIT(b, ",\"errors\":{");
    for (size_t i = 0; i < msvc_errors_count(errs); i++) {
      if (i > 0)
        msvc__buf_putc(b, ',');
      msvc__json_cstring(b, msvc_errors_field(errs, i));
      msvc__buf_putc(b, ':');
      msvc__json_cstring(b, msvc_errors_reason(errs, i));
    }
    msvc__buf_putc(b, '}');
  }
  msvc__buf_putc(b, '}');
}

/* ---- strict validation (RFC 8259) --------------------------------------- */

typedef struct scanner {
  const unsigned char *p;
  const unsigned char *end;
  unsigned depth;
} scanner_t;

static int scan_value(scanner_t *sc);

static int is_ws(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(scanner_t *sc) {
  while (sc->p < sc->end && is_ws(*sc->p))
    sc->p++;
}

static int is_digit(const scanner_t *sc) {
  return sc->p < sc->end && *sc->p >= '0' && *sc->p <= '9';
}

/* Length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF) of 2 to 4 bytes at p, or 0. */
static size_t utf8_sequence(const unsigned char *p, const unsigned char *end) {
  unsigned char lo = 0x80, hi = 0xbf;
  size_t n;
  if (p[0] >= 0xc2 && p[0] <= 0xdf) {
    n = 2;
  } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
    n = 3;
    lo = p[0] == 0xe0 ? 0xa0 : lo;
    hi = p[0] == 0xed ? 0x9f : hi;
  } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
    n = 4;
    lo = p[0] == 0xf0 ? 0x90 : lo;
    hi = p[0] == 0xf4 ? 0x8f : hi;
  } else {
    return 0;
  }
  if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  return n;
}

static int is_hex(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

/* The escape at sc->p (which is a backslash). */
static int scan_escape(scanner_t *sc) {
  if (sc->end - sc->p < 2)
    return -1;
  if (sc->p[1] != 'u') {
    if (sc->p[1] == '\0' || strchr("\"\\/bfnrt", sc->p[1]) == NULL)
      return -1;
    sc->p += 2;
    return 0;
  }
  if (sc->end - sc->p < 6)
    return -1;
  for (int i = 2; i < 6; i++)
    if (!is_hex(sc->p[i]))
      return -1;
  sc->p += 6;
  return 0;
}

static int scan_string(scanner_t *sc) {
  sc->p++;
  while (sc->p < sc->end) {
    unsigned char c = *sc->p;
    size_t n;
    if (c == '"') {
      sc->p++;
      return 0;
    }
    if (c < 0x20) {
      return -1;
    } else if (c == '\\') {
      if (scan_escape(sc) != 0)
        return -1;
    } else if (c >= 0x80) {
      n = utf8_sequence(sc->p, sc->end);
      if (n == 0)
        return -1;
      sc->p += n;
    } else {
      sc->p++;
    }
  }
  return -1;
}

static int scan_digits(scanner_t *sc) {
  if (!is_digit(sc))
    return -1;
  while (is_digit(sc))
    sc->p++;
  return 0;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(scanner_t *sc) {
  if (*sc->p == '-')
    sc->p++;
  if (sc->p < sc->end && *sc->p == '0')
    sc->p++;
  else if (scan_digits(sc) != 0)
    return -1;
  if (sc->p < sc->end && *sc->p == '.') {
    sc->p++;
    if (scan_digits(sc) != 0)
      return -1;
  }
  if (sc->p < sc->end && (*sc->p == 'e' || *sc->p == 'E')) {
    sc->p++;
    if (sc->p < sc->end && (*sc->p == '+' || *sc->p == '-'))
      sc->p++;
    if (scan_digits(sc) != 0)
      return -1;
  }
  return 0;
}

static int scan_literal(scanner_t *sc, const char *lit) {
  size_t n = strlen(lit);
  if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, lit, n) != 0)
    return -1;
  sc->p += n;
  return 0;
}

/* One member of an object ("key": value) or element of an array. */
static int scan_member(scanner_t *sc, int in_object) {
  skip_ws(sc);
  if (in_object) {
    if (sc->p >= sc->end || *sc->p != '"' || scan_string(sc) != 0)
      return -1;
    skip_ws(sc);
    if (sc->p >= sc->end || *sc->p != ':')
      return -1;
    sc->p++;
    skip_ws(sc);
  }
  if (scan_value(sc) != 0)
    return -1;
  skip_ws(sc);
  return 0;
}

/* An object or an array, at most JSON_MAX_DEPTH deep. */
static int scan_container(scanner_t *sc) {
  int in_object = *sc->p == '{';
  unsigned char close = in_object ? '}' : ']';
  if (++sc->depth > JSON_MAX_DEPTH)
    return -1;
  sc->p++;
  skip_ws(sc);
  if (sc->p < sc->end && *sc->p == close) {
    sc->p++;
    sc->depth--;
    return 0;
  }
  for (;;) {
    if (scan_member(sc, in_object) != 0 || sc->p >= sc->end)
      return -1;
    if (*sc->p == close)
      break;
    if (*sc->p != ',')
      return -1;
    sc->p++;
  }
  sc->p++;
  sc->depth--;
  return 0;
}

static int scan_value(scanner_t *sc) {
  if (sc->p >= sc->end)
    return -1;
  switch (*sc->p) {
  case '{':
  case '[':
    return scan_container(sc);
  case '"':
    return scan_string(sc);
  case 't':
    return scan_literal(sc, "true");
  case 'f':
    return scan_literal(sc, "false");
  case 'n':
    return scan_literal(sc, "null");
  default:
    return scan_number(sc);
  }
}

/* 0 when body[0..len) is exactly one JSON value between optional white
 * space; *first is the value's first byte. */
static int json_validate(const char *body, size_t len, char *first) {
  scanner_t sc = {(const unsigned char *)body,
                  (const unsigned char *)body + len, 0};
  skip_ws(&sc);
  if (sc.p >= sc.end)
    return -1;
  *first = (char)*sc.p;
  if (scan_value(&sc) != 0)
    return -1;
  skip_ws(&sc);
  return sc.p == sc.end ? 0 : -1;
}

/* ---- parsing ------------------------------------------------------------ */

static int only_ws(const char *p, const char *end) {
  for (; p < end; p++)
    if (!is_ws((unsigned char)*p))
      return 0;
  return 1;
}

/* json-c's parse of a body the validator accepted.  A scalar at the very
 * end of the input could still continue as far as json-c knows, so the
 * input is then closed with one more byte of white space. */
static json_object *tokenize(const char *body, size_t len) {
  /* json-c counts the outermost value as one level more than we do. */
  json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH + 1);
  json_object *root;
  int ok;
  if (tok == NULL)
    return NULL;
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  root = json_tokener_parse_ex(tok, body, (int)len);
  if (root == NULL && json_tokener_get_error(tok) == json_tokener_continue) {
    root = json_tokener_parse_ex(tok, " ", 1); /* all of body was read */
    ok = json_tokener_get_error(tok) == json_tokener_success;
  } else {
    ok = json_tokener_get_error(tok) == json_tokener_success &&
         only_ws(body + json_tokener_get_parse_end(tok), body + len);
  }
  json_tokener_free(tok);
  if (!ok) {
    json_object_put(root);
    return NULL;
  }
  return root;
}

int msvc__json_parse_strict(const char *body, size_t len, json_object **out) {
  char first;
  if (out == NULL)
    return MSVC_EINVAL;
  *out = NULL;
  if (body == NULL)
    return MSVC_EJSON;
  if (len > INT_MAX)
    return MSVC_ETOOBIG;
  if (json_validate(body, len, &first) != 0)
    return MSVC_EJSON;
  *out = tokenize(body, len);
  /* JSON null is the one value json-c represents as NULL. */
  if (*out == NULL && first != 'n')
    return MSVC_EJSON;
  return 0;
}

/* Parses a body that must be an object. */
static int parse_object(const char *body, size_t len, json_object **out) {
  int rc = msvc__json_parse_strict(body, len, out);
  if (rc == 0 && !json_object_is_type(*out, json_type_object)) {
    json_object_put(*out);
    *out = NULL;
    rc = MSVC_ENOTOBJECT;
  }
  return rc;
}

/* Copies the string member `key` into *slot when present.  A present
 * member that is not a string without NUL becomes a field error (errs may
 * be NULL: the value is then only left out). */
static int read_string_field(json_object *root, const char *key, char **slot,
                             msvc_errors_t *errs) {
  json_object *v;
  const char *s;
  size_t n;
  if (!json_object_object_get_ex(root, key, &v))
    return 0;
  /* JSON null comes back as v == NULL, which is not a string either. */
  if (!json_object_is_type(v, json_type_string)) {
    return errs != NULL ? msvc_errors_add(errs, key, "must be a string") : 0;
  }
  s = json_object_get_string(v);
  n = (size_t)json_object_get_string_len(v);
  if (memchr(s, '\0', n) != NULL)
    return errs != NULL
               ? msvc_errors_add(errs, key, "must not contain NUL characters")
               : 0;
  *slot = msvc__strndup(s, n);
  return *slot != NULL ? 0 : MSVC_ENOMEM;
}

void msvc__wire_user_clear(msvc__wire_user_t *in) {
  if (in == NULL)
    return;
  free(in->name);
  free(in->email);
  free(in->password);
  free(in->current_password);
  memset(in, 0, sizeof(*in));
}

void msvc__wire_post_clear(msvc__wire_post_t *in) {
  if (in == NULL)
    return;
  free(in->title);
  free(in->content);
  memset(in, 0, sizeof(*in));
}

msvc_user_input_t msvc__wire_user_view(const msvc__wire_user_t *in) {
  msvc_user_input_t v = MSVC_USER_INPUT_INIT;
  v.name = in->name;
  v.email = in->email;
  v.password = in->password;
  v.current_password = in->current_password;
  return v;
}

msvc_post_input_t msvc__wire_post_view(const msvc__wire_post_t *in) {
  msvc_post_input_t v = MSVC_POST_INPUT_INIT;
  v.title = in->title;
  v.content = in->content;
  return v;
}

int msvc__json_parse_user_input(const char *body, size_t len, unsigned fields,
                                msvc__wire_user_t *out, msvc_errors_t *errs) {
  static const struct {
    unsigned flag;
    const char *key;
    size_t offset;
  } known[] = {
      {MSVC__FIELD_NAME, "name", offsetof(msvc__wire_user_t, name)},
      {MSVC__FIELD_EMAIL, "email", offsetof(msvc__wire_user_t, email)},
      {MSVC__FIELD_PASSWORD, "password", offsetof(msvc__wire_user_t, password)},
      {MSVC__FIELD_CURRENT_PASSWORD, "current_password",
       offsetof(msvc__wire_user_t, current_password)},
  };
  json_object *root;
  int rc;
  if (out == NULL)
    return MSVC_EINVAL;
  rc = parse_object(body, len, &root);
  for (size_t i = 0; rc == 0 && i < MSVC__ARRAY_SIZE(known); i++)
    if (fields & known[i].flag)
      rc = read_string_field(root, known[i].key,
                             (char **)((char *)out + known[i].offset), errs);
  json_object_put(root);
  if (rc == MSVC_ENOMEM)
    msvc__wire_user_clear(out);
  return rc;
}

int msvc__json_parse_post_input(const char *body, size_t len,
                                msvc__wire_post_t *out, msvc_errors_t *errs) {
  json_object *root;
  int rc;
  if (out == NULL)
    return MSVC_EINVAL;
  rc = parse_object(body, len, &root);
  if (rc == 0)
    rc = read_string_field(root, "title", &out->title, errs);
  if (rc == 0)
    rc = read_string_field(root, "content", &out->content, errs);
  json_object_put(root);
  if (rc == MSVC_ENOMEM)
    msvc__wire_post_clear(out);
  return rc;
}

#define IDS_FIELD "userIds"
#define IDS_REASON "must be an array of 24-hex-digit ids"

/* The id array of a parsed body: the body itself, or its "userIds". */
static json_object *id_array(json_object *root) {
  json_object *arr = root;
  if (json_object_is_type(root, json_type_object) &&
      !json_object_object_get_ex(root, IDS_FIELD, &arr))
    return NULL;
  return json_object_is_type(arr, json_type_array) ? arr : NULL;
}

/* Copies n array elements into ids, lower-cased; -1 at the first element
 * that is not a string of 24 hex digits. */
static int copy_ids(json_object *arr, size_t n, msvc_id_t *ids) {
  for (size_t i = 0; i < n; i++) {
    json_object *el = json_object_array_get_idx(arr, i);
    const char *s;
    if (!json_object_is_type(el, json_type_string))
      return -1;
    s = json_object_get_string(el);
    if (!msvc_id_valid(s, (size_t)json_object_get_string_len(el)))
      return -1;
    memcpy(ids[i].hex, s, MSVC_ID_LEN);
    ids[i].hex[MSVC_ID_LEN] = '\0';
    msvc__ascii_lower(ids[i].hex);
  }
  return 0;
}

/* The field error of a list that is not one of ids. */
static int bad_id_list(msvc_errors_t *errs) {
  return errs != NULL ? msvc_errors_add(errs, IDS_FIELD, IDS_REASON) : 0;
}

/* Fills *ids and *n from arr; the parse's rules are in json.h. */
static int read_id_array(json_object *arr, size_t max, msvc_id_t **ids,
                         size_t *n, msvc_errors_t *errs) {
  size_t count;
  msvc_id_t *list;
  if (arr == NULL)
    return bad_id_list(errs);
  count = json_object_array_length(arr);
  if (count > max)
    return MSVC_ETOOBIG;
  if (count == 0)
    return 0;
  list = calloc(count, sizeof(*list));
  if (list == NULL)
    return MSVC_ENOMEM;
  if (copy_ids(arr, count, list) != 0) {
    free(list);
    return bad_id_list(errs);
  }
  *ids = list;
  *n = count;
  return 0;
}

int msvc__json_parse_id_list(const char *body, size_t len, size_t max,
                             msvc_id_t **ids, size_t *n, msvc_errors_t *errs) {
  json_object *root;
  int rc;
  if (ids == NULL || n == NULL)
    return MSVC_EINVAL;
  *ids = NULL;
  *n = 0;
  rc = msvc__json_parse_strict(body, len, &root);
  if (rc == 0 && !json_object_is_type(root, json_type_object) &&
      !json_object_is_type(root, json_type_array))
    rc = MSVC_ENOTOBJECT;
  if (rc == 0)
    rc = read_id_array(id_array(root), max, ids, n, errs);
  json_object_put(root);
  return rc;
}
