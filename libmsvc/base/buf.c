/* buf.c - a growable byte buffer for writers that check once at the end.
 *
 * Invariants: data is NUL-terminated whenever len > 0; after an allocation
 * fails, `failed` stays set and every append is ignored, so a writer never
 * has to check each call, only the flag before it uses the bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void msvc__buf_init(msvc__buf_t *b) {
  memset(b, 0, sizeof(*b));
}

void msvc__buf_free(msvc__buf_t *b) {
  free(b->data);
  msvc__buf_init(b);
}

void msvc__buf_reset(msvc__buf_t *b) {
  b->len = 0;
  b->failed = 0;
  if (b->data != NULL)
    b->data[0] = '\0';
}

/* The slow half of msvc__buf_reserve (internal.h): the room is not there
 * yet, so grow by doubling; -1 (and `failed` set) when that is
 * impossible. */
int msvc__buf_grow(msvc__buf_t *b, size_t extra) {
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

void msvc__buf_putc(msvc__buf_t *b, char c) {
  if (msvc__buf_reserve(b, 1) != 0)
    return;
  b->data[b->len++] = c;
  b->data[b->len] = '\0';
}

void msvc__buf_puts(msvc__buf_t *b, const char *s) {
  if (s != NULL)
    msvc__buf_append(b, s, strlen(s));
}

void msvc__buf_int(msvc__buf_t *b, int64_t v) {
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
  msvc__buf_append(b, p, (size_t)(end - p));
}
