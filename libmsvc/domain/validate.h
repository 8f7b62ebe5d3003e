/* validate.h - normalising and checking client input (internal).
 *
 * The public msvc_validate_* functions judge a caller's string without
 * writing to it; the service instead normalises its own copy once and
 * checks that copy, so what is stored is exactly what was checked. */
#ifndef MSVC_DOMAIN_VALIDATE_H
#define MSVC_DOMAIN_VALIDATE_H

#include "internal.h"

/* Copies without surrounding ASCII white space (emails also lower-cased);
 * NULL when out of memory.  The argument must not be NULL. */
char *msvc__normalize_name(const char *name);
char *msvc__normalize_email(const char *email);
/* The rules, on values already normalised (NULL means absent). */
int msvc__check_name(const char *normalized, msvc_errors_t *errs);
int msvc__check_email(const char *normalized, msvc_errors_t *errs);

/* Cursors: the opaque, URL-safe form of a msvc_cursor_t. */
#define MSVC__CURSOR_SIZE 64
/* Writes the opaque form (NUL-terminated) into out; "" when c is not a
 * position (negative created_at, id not 24 hex digits). */
void msvc__cursor_encode(const msvc_cursor_t *c, char out[MSVC__CURSOR_SIZE]);
/* 0, or MSVC_EINVAL when s[0..len) is not a cursor this library made. */
int msvc__cursor_decode(const char *s, size_t len, msvc_cursor_t *out);

#endif
