/* hex.c - hexadecimal digits, the one encoder and decoder of the project
 * (ObjectIds, cursors, random secrets and request ids all use them).
 * Encoding is always lowercase; decoding takes either case.
 */
#include <stdint.h>
#include <string.h>

#include "internal.h"

int msvc__hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Eight bytes at a time (SWAR), for the ids every response carries.  For
 * bytes below 0x80, x + (0x80 - lo) has its high bit set exactly when
 * x >= lo, and no byte carries into the next, so a range test is two adds
 * and a mask; OR-ing 0x20 folds 'A'..'F' onto 'a'..'f' (and nothing else
 * onto them). */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
static uint64_t in_range(uint64_t w, unsigned lo, unsigned hi) {
  return (w + ONES * (0x80 - lo)) & ~(w + ONES * (0x7f - hi)) & HIGHS;
}

static int hex_word(uint64_t w) {
  if (w & HIGHS)
    return 0;
  return (in_range(w, '0', '9') | in_range(w | ONES * 0x20, 'a', 'f')) == HIGHS;
}

int msvc__hex_digits(const char *s, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    if (!hex_word(w))
      return 0;
  }
  for (; i < n; i++)
    if (msvc__hex_value(s[i]) < 0)
      return 0;
  return 1;
}

void msvc__hex_encode(const void *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  const unsigned char *p = in;
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  out[2 * n] = '\0';
}

int msvc__hex_decode(const char *in, size_t n, unsigned char *out) {
  for (size_t i = 0; i < n; i++) {
    int hi = msvc__hex_value(in[2 * i]), lo = msvc__hex_value(in[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return -1;
    out[i] = (unsigned char)(hi << 4 | lo);
  }
  return 0;
}
