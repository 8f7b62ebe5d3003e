/* common.c - error strings, ids, clocks and small string helpers.
 *
 * The error table is expanded from MSVC_ERRNO_MAP, the same list that
 * defines the enum, so a code can never lack its message.  The ObjectId
 * generator keeps its random part and counter inside the generator object:
 * the library has no global mutable state.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "internal.h"

const char *msvc_strerror(int err) {
  switch (err) {
  case MSVC_OK:
    return "success";
#define MSVC__STRERROR_CASE(name, value, msg)                                  \
  case MSVC_##name:                                                            \
    return msg;
    MSVC_ERRNO_MAP(MSVC__STRERROR_CASE)
#undef MSVC__STRERROR_CASE
  }
  return "unknown error";
}

const char *msvc_err_name(int err) {
  switch (err) {
  case MSVC_OK:
    return "MSVC_OK";
#define MSVC__ERRNAME_CASE(name, value, msg)                                   \
  case MSVC_##name:                                                            \
    return "MSVC_" #name;
    MSVC_ERRNO_MAP(MSVC__ERRNAME_CASE)
#undef MSVC__ERRNAME_CASE
  }
  return "MSVC_UNKNOWN";
}

const char *msvc_version_string(void) { return MSVC_VERSION_STRING; }

void msvc_free(void *ptr) { free(ptr); }

int msvc_id_valid(const char *s, size_t len) {
  if (s == NULL || len != MSVC_ID_LEN)
    return 0;
  for (size_t i = 0; i < len; i++)
    if (!isxdigit((unsigned char)s[i]))
      return 0;
  return 1;
}

struct msvc_idgen {
  unsigned char random[5];
  atomic_uint counter;
};

int msvc_idgen_new(msvc_idgen_t **out) {
  msvc_idgen_t *g = calloc(1, sizeof(*g));
  unsigned start;
  if (g == NULL)
    return MSVC_ENOMEM;
  if (msvc__random_bytes(g->random, sizeof(g->random)) != 0 ||
      msvc__random_bytes(&start, sizeof(start)) != 0) {
    free(g);
    return MSVC_EIO;
  }
  atomic_init(&g->counter, start);
  *out = g;
  return 0;
}

void msvc_idgen_next(msvc_idgen_t *gen, char out[MSVC_ID_SIZE]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char raw[12];
  uint32_t secs = (uint32_t)time(NULL);
  uint32_t count = atomic_fetch_add(&gen->counter, 1u) & 0xffffffu;
  raw[0] = (unsigned char)(secs >> 24);
  raw[1] = (unsigned char)(secs >> 16);
  raw[2] = (unsigned char)(secs >> 8);
  raw[3] = (unsigned char)secs;
  memcpy(raw + 4, gen->random, 5);
  raw[9] = (unsigned char)(count >> 16);
  raw[10] = (unsigned char)(count >> 8);
  raw[11] = (unsigned char)count;
  for (int i = 0; i < 12; i++) {
    out[2 * i] = hex[raw[i] >> 4];
    out[2 * i + 1] = hex[raw[i] & 15];
  }
  out[MSVC_ID_LEN] = '\0';
}

void msvc_idgen_free(msvc_idgen_t *gen) { free(gen); }

int64_t msvc_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t msvc__monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void msvc_errors_init(msvc_errors_t *errs) { memset(errs, 0, sizeof(*errs)); }

int msvc_errors_has(const msvc_errors_t *errs, const char *field) {
  for (unsigned i = 0; i < errs->count; i++)
    if (strcmp(errs->items[i].field, field) == 0)
      return 1;
  return 0;
}

void msvc_errors_add(msvc_errors_t *errs, const char *field,
                     const char *reason) {
  if (errs == NULL || errs->count >= MSVC_ERRORS_MAX ||
      msvc_errors_has(errs, field))
    return;
  errs->items[errs->count].field = field;
  errs->items[errs->count].reason = reason;
  errs->count++;
}

char *msvc__strdup(const char *s) { return s ? strdup(s) : NULL; }

char *msvc__strndup(const char *s, size_t n) {
  return s ? strndup(s, n) : NULL;
}

int msvc__strlcpy(char *dst, const char *src, size_t size) {
  size_t n = strlen(src);
  if (size == 0)
    return -1;
  if (n >= size) {
    memcpy(dst, src, size - 1);
    dst[size - 1] = '\0';
    return -1;
  }
  memcpy(dst, src, n + 1);
  return 0;
}

void msvc__ascii_lower(char *s) {
  for (; *s; s++)
    if (*s >= 'A' && *s <= 'Z')
      *s = (char)(*s - 'A' + 'a');
}

int msvc__is_ascii_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

size_t msvc__utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    if (((unsigned char)*s & 0xc0) != 0x80)
      n++;
  return n;
}

int msvc__field_verdict(msvc_errors_t *errs, const char *field,
                        const char *reason) {
  if (reason != NULL)
    msvc_errors_add(errs, field, reason);
  if (reason != NULL || (errs != NULL && msvc_errors_has(errs, field)))
    return MSVC_EVALIDATION;
  return 0;
}

int msvc__random_bytes(void *buf, size_t n) {
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      return MSVC_EIO;
    }
    p += got;
    n -= (size_t)got;
  }
  return 0;
}

void msvc__set_error(char *errbuf, size_t errlen, const char *fmt, ...) {
  va_list ap;
  if (errbuf == NULL || errlen == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(errbuf, errlen, fmt, ap);
  va_end(ap);
}
