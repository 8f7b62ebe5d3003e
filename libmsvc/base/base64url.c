/* base64url.c - RFC 4648 section 5 encoding without padding: the alphabet
 * of tokens, cursors and JWK fields, safe in URLs and headers as is. */
#include "internal.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t msvc__base64url_encode(const void *in, size_t n, char *out) {
  const unsigned char *p = in;
  size_t o = 0, i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    for (int k = 0; k < 4; k++)
      out[o++] = alphabet[(v >> (18 - 6 * k)) & 63];
  }
  if (n - i == 1) {
    out[o++] = alphabet[p[i] >> 2];
    out[o++] = alphabet[(p[i] & 3) << 4];
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)p[i] << 8 | p[i + 1];
    out[o++] = alphabet[v >> 10];
    out[o++] = alphabet[(v >> 4) & 63];
    out[o++] = alphabet[(v & 15) << 2];
  }
  out[o] = '\0';
  return o;
}

int msvc__base64url_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}
