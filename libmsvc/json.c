/* json.c - strict JSON input through json-c, direct JSON output.
 *
 * Input.  json-c 0.16 is lenient even with JSON_TOKENER_STRICT (it takes
 * single quotes, NaN, "1.", raw control characters in strings, overlong and
 * surrogate UTF-8), so every body first goes through a small RFC 8259
 * validator here (grammar, RFC 3629 UTF-8, nesting at most JSON_MAX_DEPTH,
 * nothing but white space after the value).  Only then does json-c build
 * the tree, still strict, and only the fields an operation knows are read
 * from it, each checked with json_object_is_type first because json-c's
 * getters coerce.
 *
 * Output.  Writers append to a msvc_buf_t with hand-written escaping and
 * number and date formatting: no printf, no json-c, no gmtime (glibc's
 * takes a lock).  A buffer that failed to grow ignores further appends, so
 * a writer checks `failed` once at the end.
 */
#include <json-c/json.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define JSON_MAX_DEPTH 32

/* JavaScript's Date range: +-8.64e15 ms around the epoch. */
#define JS_DATE_MAX_MS INT64_C(8640000000000000)
#define MS_PER_DAY INT64_C(86400000)

#define BUF_LIT(b, lit) msvc_buf_append((b), (lit), sizeof(lit) - 1)

/* ---- growable buffer ---------------------------------------------------- */

void msvc_buf_init(msvc_buf_t *b) {
  memset(b, 0, sizeof(*b));
}

void msvc_buf_free(msvc_buf_t *b) {
  free(b->data);
  msvc_buf_init(b);
}

void msvc_buf_reset(msvc_buf_t *b) {
  b->len = 0;
  b->failed = 0;
  if (b->data != NULL)
    b->data[0] = '\0';
}

/* Makes room for `extra` more bytes and a NUL; -1 (and `failed` set) when
 * that is impossible. */
static int buf_reserve(msvc_buf_t *b, size_t extra) {
  size_t need, cap;
  char *p;
  if (b->failed)
    return -1;
  if (extra < SIZE_MAX - 1 - b->len) {
    need = b->len + extra + 1;
    if (need <= b->cap)
      return 0;
    cap = b->cap > 0 ? b->cap : 256;
    while (cap < need)
      cap = cap <= SIZE_MAX / 2 ? cap * 2 : need;
    p = realloc(b->data, cap);
    if (p != NULL) {
      b->data = p;
      b->cap = cap;
      return 0;
    }
  }
  b->failed = 1;
  return -1;
}

void msvc_buf_append(msvc_buf_t *b, const void *p, size_t n) {
  if (n == 0 || buf_reserve(b, n) != 0)
    return;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static void buf_putc(msvc_buf_t *b, char c) {
  if (buf_reserve(b, 1) != 0)
    return;
  b->data[b->len++] = c;
  b->data[b->len] = '\0';
}

void msvc_buf_puts(msvc_buf_t *b, const char *s) {
  if (s != NULL)
    msvc_buf_append(b, s, strlen(s));
}

void msvc_buf_int(msvc_buf_t *b, int64_t v) {
  char tmp[24];
  char *end = tmp + sizeof(tmp), *p = end;
  /* Through unsigned, so that INT64_MIN negates without overflow. */
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (v < 0)
    *--p = '-';
  msvc_buf_append(b, p, (size_t)(end - p));
}

/* ---- string writers ----------------------------------------------------- */

/* Appends the escape sequence for one byte that may not appear raw. */
static void put_escape(msvc_buf_t *b, unsigned char c) {
  static const char hex[] = "0123456789abcdef";
  char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
  switch (c) {
  case '"':
    BUF_LIT(b, "\\\"");
    break;
  case '\\':
    BUF_LIT(b, "\\\\");
    break;
  case '\b':
    BUF_LIT(b, "\\b");
    break;
  case '\f':
    BUF_LIT(b, "\\f");
    break;
  case '\n':
    BUF_LIT(b, "\\n");
    break;
  case '\r':
    BUF_LIT(b, "\\r");
    break;
  case '\t':
    BUF_LIT(b, "\\t");
    break;
  default:
    msvc_buf_append(b, u, sizeof(u));
  }
}

/* Runs of bytes that need no escaping are copied in one go; bytes of 0x80
 * and above (UTF-8) pass through untouched. */
void msvc_json_string(msvc_buf_t *b, const char *s, size_t len) {
  size_t run = 0;
  if (s == NULL)
    len = 0;
  if (buf_reserve(b, len + 2) != 0)
    return;
  buf_putc(b, '"');
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    msvc_buf_append(b, s + run, i - run);
    put_escape(b, c);
    run = i + 1;
  }
  msvc_buf_append(b, s + run, len - run);
  buf_putc(b, '"');
}

void msvc_json_cstring(msvc_buf_t *b, const char *s) {
  msvc_json_string(b, s, s != NULL ? strlen(s) : 0);
}

/* ---- dates -------------------------------------------------------------- */

/* Proleptic Gregorian calendar <-> days since 1970-01-01, after Howard
 * Hinnant's public-domain algorithms (eras of 400 years). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  int64_t era, yy;
  unsigned doe, yoe, doy, mp;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = (unsigned)(z - era * 146097);
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  yy = (int64_t)yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  int64_t era;
  unsigned yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (unsigned)(y - era * 400);
  doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

/* Writes v as exactly n digits (leading zeros) at out; returns out + n. */
static char *put_digits(char *out, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; i--) {
    out[i] = (char)('0' + v % 10);
    v /= 10;
  }
  return out + n;
}

/* Writes the Date.toJSON() form of ms (no NUL) and returns its length
 * (24, or 27 for years outside 0..9999), or 0 outside JavaScript's range,
 * where toJSON() has no string either. */
static size_t format_iso(int64_t ms, char *out) {
  int64_t days, rem, year;
  unsigned month, day;
  char *p = out;
  if (ms < -JS_DATE_MAX_MS || ms > JS_DATE_MAX_MS)
    return 0;
  days = ms / MS_PER_DAY;
  rem = ms % MS_PER_DAY;
  if (rem < 0) {
    rem += MS_PER_DAY;
    days--;
  }
  civil_from_days(days, &year, &month, &day);
  if (year >= 0 && year <= 9999) {
    p = put_digits(p, (uint64_t)year, 4);
  } else {
    *p++ = year < 0 ? '-' : '+';
    p = put_digits(p, (uint64_t)(year < 0 ? -year : year), 6);
  }
  *p++ = '-';
  p = put_digits(p, month, 2);
  *p++ = '-';
  p = put_digits(p, day, 2);
  *p++ = 'T';
  p = put_digits(p, (uint64_t)(rem / 3600000), 2);
  *p++ = ':';
  p = put_digits(p, (uint64_t)(rem / 60000 % 60), 2);
  *p++ = ':';
  p = put_digits(p, (uint64_t)(rem / 1000 % 60), 2);
  *p++ = '.';
  p = put_digits(p, (uint64_t)(rem % 1000), 3);
  *p++ = 'Z';
  return (size_t)(p - out);
}

void msvc_format_timestamp(int64_t ms, char out[32]) {
  out[format_iso(ms, out)] = '\0';
}

void msvc_json_timestamp(msvc_buf_t *b, int64_t ms) {
  char tmp[32];
  size_t n = format_iso(ms, tmp + 1);
  if (n == 0) {
    BUF_LIT(b, "null");
    return;
  }
  tmp[0] = '"';
  tmp[n + 1] = '"';
  msvc_buf_append(b, tmp, n + 2);
}

/* Reads exactly n digits at *p into *v and advances *p. */
static int read_digits(const char **p, int n, int64_t *v) {
  int64_t acc = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9')
      return -1;
    acc = acc * 10 + (c - '0');
  }
  *p += n;
  *v = acc;
  return 0;
}

/* Reads "[+-]YYYYYY" or "YYYY". */
static int read_year(const char **p, int64_t *year) {
  char sign = **p;
  if (sign != '+' && sign != '-')
    return read_digits(p, 4, year);
  (*p)++;
  if (read_digits(p, 6, year) != 0 || (sign == '-' && *year == 0))
    return -1;
  if (sign == '-')
    *year = -*year;
  return 0;
}

/* Reads ".d[d...]" (1 to 9 digits, anything past milliseconds dropped)
 * when present. */
static int read_fraction(const char **p, int64_t *ms) {
  int digits = 0;
  *ms = 0;
  if (**p != '.')
    return 0;
  for ((*p)++; **p >= '0' && **p <= '9'; (*p)++, digits++)
    if (digits < 3)
      *ms = *ms * 10 + (**p - '0');
  for (int i = digits; i < 3; i++)
    *ms *= 10;
  return digits >= 1 && digits <= 9 ? 0 : -1;
}

static int expect_char(const char **p, char c) {
  if (**p != c)
    return -1;
  (*p)++;
  return 0;
}

static int days_in_month(int64_t y, int64_t m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return days[m - 1] + (m == 2 && leap);
}

int msvc_parse_timestamp(const char *s, int64_t *ms) {
  int64_t y, mo, d, h, mi, sec, frac, total;
  const char *p = s;
  if (s == NULL || ms == NULL)
    return MSVC_EINVAL;
  if (read_year(&p, &y) || expect_char(&p, '-') || read_digits(&p, 2, &mo) ||
      expect_char(&p, '-') || read_digits(&p, 2, &d) || expect_char(&p, 'T') ||
      read_digits(&p, 2, &h) || expect_char(&p, ':') ||
      read_digits(&p, 2, &mi) || expect_char(&p, ':') ||
      read_digits(&p, 2, &sec) || read_fraction(&p, &frac))
    return MSVC_EINVAL;
  if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
    return MSVC_EINVAL;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
      mi > 59 || sec > 59)
    return MSVC_EINVAL;
  total = days_from_civil(y, (unsigned)mo, (unsigned)d) * MS_PER_DAY +
          ((h * 60 + mi) * 60 + sec) * 1000 + frac;
  if (total < -JS_DATE_MAX_MS || total > JS_DATE_MAX_MS)
    return MSVC_EINVAL;
  *ms = total;
  return 0;
}

/* ---- record writers ----------------------------------------------------- */

void msvc_json_public_user(msvc_buf_t *b, const msvc_user_t *u) {
  if (u == NULL || u->id[0] == '\0') {
    BUF_LIT(b, "null");
    return;
  }
  BUF_LIT(b, "{\"id\":");
  msvc_json_cstring(b, u->id);
  BUF_LIT(b, ",\"name\":");
  msvc_json_cstring(b, u->name);
  BUF_LIT(b, ",\"email\":");
  msvc_json_cstring(b, u->email);
  buf_putc(b, '}');
}

void msvc_json_user(msvc_buf_t *b, const msvc_user_t *u) {
  if (u == NULL) {
    BUF_LIT(b, "null");
    return;
  }
  BUF_LIT(b, "{\"id\":");
  msvc_json_cstring(b, u->id);
  BUF_LIT(b, ",\"name\":");
  msvc_json_cstring(b, u->name);
  BUF_LIT(b, ",\"email\":");
  msvc_json_cstring(b, u->email);
  BUF_LIT(b, ",\"created_at\":");
  msvc_json_timestamp(b, u->created_at);
  BUF_LIT(b, ",\"updated_at\":");
  msvc_json_timestamp(b, u->updated_at);
  buf_putc(b, '}');
}

void msvc_json_post(msvc_buf_t *b, const msvc_post_t *p,
                    const msvc_user_t *author) {
  if (p == NULL) {
    BUF_LIT(b, "null");
    return;
  }
  BUF_LIT(b, "{\"id\":");
  msvc_json_cstring(b, p->id);
  BUF_LIT(b, ",\"user_id\":");
  msvc_json_cstring(b, p->user_id);
  BUF_LIT(b, ",\"title\":");
  msvc_json_cstring(b, p->title);
  BUF_LIT(b, ",\"content\":");
  msvc_json_cstring(b, p->content);
  BUF_LIT(b, ",\"created_at\":");
  msvc_json_timestamp(b, p->created_at);
  BUF_LIT(b, ",\"updated_at\":");
  msvc_json_timestamp(b, p->updated_at);
  BUF_LIT(b, ",\"user\":");
  msvc_json_public_user(b, author);
  buf_putc(b, '}');
}

void msvc_json_error(msvc_buf_t *b, int status, const char *message,
                     const msvc_errors_t *errs) {
  BUF_LIT(b, "{\"status\":");
  msvc_buf_int(b, status);
  BUF_LIT(b, ",\"message\":");
  msvc_json_cstring(b, message);
  if (errs != NULL && errs->count > 0) {
    BUF_LIT(b, ",\"errors\":{");
    for (unsigned i = 0; i < errs->count && i < MSVC_ERRORS_MAX; i++) {
      if (i > 0)
        buf_putc(b, ',');
      msvc_json_cstring(b, errs->items[i].field);
      buf_putc(b, ':');
      msvc_json_cstring(b, errs->items[i].reason);
    }
    buf_putc(b, '}');
  }
  buf_putc(b, '}');
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

/* Parses a body that must be an object or an array.  *out is a json-c
 * reference the caller puts. */
static int parse_strict(const char *body, size_t len, json_object **out) {
  json_tokener *tok;
  json_object *root;
  char first;
  int ok;
  *out = NULL;
  if (body == NULL)
    return MSVC_EJSON;
  if (len > INT_MAX)
    return MSVC_ETOOBIG;
  if (json_validate(body, len, &first) != 0)
    return MSVC_EJSON;
  if (first != '{' && first != '[')
    return MSVC_ENOTOBJECT;
  /* json-c counts the outermost value as one level more than we do. */
  tok = json_tokener_new_ex(JSON_MAX_DEPTH + 1);
  if (tok == NULL)
    return MSVC_ENOMEM;
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  root = json_tokener_parse_ex(tok, body, (int)len);
  ok = root != NULL && json_tokener_get_error(tok) == json_tokener_success &&
       only_ws(body + json_tokener_get_parse_end(tok), body + len);
  json_tokener_free(tok);
  if (!ok) {
    json_object_put(root);
    return MSVC_EJSON;
  }
  *out = root;
  return 0;
}

/* Parses a body that must be an object. */
static int parse_object(const char *body, size_t len, json_object **out) {
  int rc = parse_strict(body, len, out);
  if (rc == 0 && !json_object_is_type(*out, json_type_object)) {
    json_object_put(*out);
    *out = NULL;
    rc = MSVC_ENOTOBJECT;
  }
  return rc;
}

/* Copies the string member `key` into *slot when present.  A present
 * member that is not a string without NUL becomes a field error. */
static int read_string_field(json_object *root, const char *key, char **slot,
                             msvc_errors_t *errs) {
  json_object *v;
  const char *s;
  size_t n;
  if (!json_object_object_get_ex(root, key, &v))
    return 0;
  /* JSON null comes back as v == NULL, which is not a string either. */
  if (!json_object_is_type(v, json_type_string)) {
    msvc_errors_add(errs, key, "must be a string");
    return 0;
  }
  s = json_object_get_string(v);
  n = (size_t)json_object_get_string_len(v);
  if (memchr(s, '\0', n) != NULL) {
    msvc_errors_add(errs, key, "must not contain NUL characters");
    return 0;
  }
  *slot = msvc__strndup(s, n);
  return *slot != NULL ? 0 : MSVC_ENOMEM;
}

int msvc_json_parse_user_input(const char *body, size_t len, unsigned fields,
                               msvc_user_input_t *out, msvc_errors_t *errs) {
  static const struct {
    unsigned flag;
    const char *key;
    size_t offset;
  } known[] = {
      {MSVC_FIELD_NAME, "name", offsetof(msvc_user_input_t, name)},
      {MSVC_FIELD_EMAIL, "email", offsetof(msvc_user_input_t, email)},
      {MSVC_FIELD_PASSWORD, "password", offsetof(msvc_user_input_t, password)},
      {MSVC_FIELD_CURRENT_PASSWORD, "current_password",
       offsetof(msvc_user_input_t, current_password)},
  };
  json_object *root;
  int rc;
  if (out == NULL || errs == NULL)
    return MSVC_EINVAL;
  rc = parse_object(body, len, &root);
  for (size_t i = 0; rc == 0 && i < MSVC__ARRAY_SIZE(known); i++)
    if (fields & known[i].flag)
      rc = read_string_field(root, known[i].key,
                             (char **)((char *)out + known[i].offset), errs);
  json_object_put(root);
  if (rc == MSVC_ENOMEM)
    msvc_user_input_clear(out);
  return rc;
}

int msvc_json_parse_post_input(const char *body, size_t len,
                               msvc_post_input_t *out, msvc_errors_t *errs) {
  json_object *root;
  int rc;
  if (out == NULL || errs == NULL)
    return MSVC_EINVAL;
  rc = parse_object(body, len, &root);
  if (rc == 0)
    rc = read_string_field(root, "title", &out->title, errs);
  if (rc == 0)
    rc = read_string_field(root, "content", &out->content, errs);
  json_object_put(root);
  if (rc == MSVC_ENOMEM)
    msvc_post_input_clear(out);
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

/* Fills *ids and *n from arr; the parse's rules are in json.h. */
static int read_id_array(json_object *arr, size_t max, msvc_id_t **ids,
                         size_t *n, msvc_errors_t *errs) {
  size_t count;
  msvc_id_t *list;
  if (arr == NULL) {
    msvc_errors_add(errs, IDS_FIELD, IDS_REASON);
    return 0;
  }
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
    msvc_errors_add(errs, IDS_FIELD, IDS_REASON);
    return 0;
  }
  *ids = list;
  *n = count;
  return 0;
}

int msvc_json_parse_id_list(const char *body, size_t len, size_t max,
                            msvc_id_t **ids, size_t *n, msvc_errors_t *errs) {
  json_object *root;
  int rc;
  if (ids == NULL || n == NULL || errs == NULL)
    return MSVC_EINVAL;
  *ids = NULL;
  *n = 0;
  rc = parse_strict(body, len, &root);
  if (rc != 0)
    return rc;
  rc = read_id_array(id_array(root), max, ids, n, errs);
  json_object_put(root);
  return rc;
}
