/* text.c - small string helpers: copies, trimming, case, UTF-8 counts and
 * error-buffer formatting.
 *
 * None of these allocate except the copies, none keep state, and every one
 * accepts NULL where its comment says so.  Case folding is ASCII only, as
 * the contract's email rules are.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

char *msvc__strdup(const char *s) {
  return s ? strdup(s) : NULL;
}

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

char *msvc__strdup_trimmed(const char *s, size_t len) {
  if (s == NULL)
    return NULL;
  while (len > 0 && msvc__is_ascii_space((unsigned char)*s)) {
    s++;
    len--;
  }
  while (len > 0 && msvc__is_ascii_space((unsigned char)s[len - 1]))
    len--;
  return strndup(s, len);
}

size_t msvc__utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    if (((unsigned char)*s & 0xc0) != 0x80)
      n++;
  return n;
}

void msvc__set_error(char *errbuf, size_t errlen, const char *fmt, ...) {
  va_list ap;
  if (errbuf == NULL || errlen == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(errbuf, errlen, fmt, ap);
  va_end(ap);
}
