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

void msvc__hex_lower(char *s, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    /* in a hex digit, 0x40 marks a letter, and 0x20 its lower case */
    w |= (w & MSVC__ONES * 0x40) >> 1;
    memcpy(s + i, &w, 8);
  }
  for (; i < n; i++)
    if (s[i] >= 'A' && s[i] <= 'F')
      s[i] = (char)(s[i] - 'A' + 'a');
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
