/* internal.h - helpers shared by the library's own files, never installed.
 *
 * Internal functions that cross files carry the msvc__ prefix and, like
 * everything not marked MSVC_EXTERN, stay invisible outside libmsvc.so.
 */
#ifndef MSVC_INTERNAL_H
#define MSVC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "msvc.h"

#define MSVC__UNUSED(x) ((void)(x))
#define MSVC__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* strdup/strndup that return NULL for NULL input. */
char *msvc__strdup(const char *s);
char *msvc__strndup(const char *s, size_t n);

/* Copies src into dst[size] with truncation and NUL; returns 0, or -1 when
 * src did not fit. */
int msvc__strlcpy(char *dst, const char *src, size_t size);

/* Lower-cases ASCII letters of s in place. */
void msvc__ascii_lower(char *s);

/* 1 for the ASCII white space the validators trim: space, \t..\r. */
int msvc__is_ascii_space(unsigned char c);

/* Code points in the UTF-8 string s (its bytes that are not continuation
 * bytes; the JSON layer has already rejected invalid UTF-8). */
size_t msvc__utf8_chars(const char *s);

/* A validator's answer for one field: records reason (if any) in errs and
 * returns MSVC_EVALIDATION when the field is now in error, counting an
 * error recorded before the call; else 0. */
int msvc__field_verdict(msvc_errors_t *errs, const char *field,
                        const char *reason);

/* Fills buf with n cryptographically random bytes (getrandom); 0 or
 * MSVC_EIO. */
int msvc__random_bytes(void *buf, size_t n);

/* Writes errbuf (if any) with a printf-style message. */
void msvc__set_error(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Monotonic clock in milliseconds, for deadlines and throttling. */
int64_t msvc__monotonic_ms(void);

#endif
