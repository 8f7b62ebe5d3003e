/* msvc/errors.h - field-level validation errors.
 *
 * Operations that validate client input (register, login, profile and post
 * writes, listing) take an optional `msvc_errors_t *errs`.  When it is NULL
 * the library still validates and returns MSVC_EVALIDATION, it just keeps
 * the details to itself.  When it is given, each invalid field gets one
 * (field, reason) pair, e.g. ("email", "must be a valid email address").
 *
 * An errors object is created empty by msvc_errors_new(); operations append
 * to it and never remove anything, so errors you add yourself beforehand
 * (for example "must be a string" found while parsing a request) are kept,
 * count towards MSVC_EVALIDATION, and a field that already has an error is
 * not checked again.  msvc_errors_clear() empties it for reuse.
 *
 * Thread safety: an errors object belongs to one call at a time.
 * Ownership: strings returned by the accessors belong to the object and
 * stay valid until it is cleared or freed.
 */
#ifndef MSVC_ERRORS_H
#define MSVC_ERRORS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct msvc_errors msvc_errors_t;

/* 0, MSVC_EINVAL (out is NULL) or MSVC_ENOMEM.  Free with
 * msvc_errors_free(). */
MSVC_EXTERN int msvc_errors_new(msvc_errors_t **out);
/* NULL is allowed. */
MSVC_EXTERN void msvc_errors_free(msvc_errors_t *errs);
/* Removes every entry; NULL is allowed. */
MSVC_EXTERN void msvc_errors_clear(msvc_errors_t *errs);

/* Records (field, reason), copying both, unless `field` already has an
 * error.  0, MSVC_EINVAL (a NULL argument) or MSVC_ENOMEM. */
MSVC_EXTERN int msvc_errors_add(msvc_errors_t *errs, const char *field,
                                const char *reason);

/* Number of entries; 0 for NULL. */
MSVC_EXTERN size_t msvc_errors_count(const msvc_errors_t *errs);
/* The field and reason of entry i (in the order added); NULL when i is out
 * of range or errs is NULL. */
MSVC_EXTERN const char *msvc_errors_field(const msvc_errors_t *errs, size_t i);
MSVC_EXTERN const char *msvc_errors_reason(const msvc_errors_t *errs, size_t i);
/* The reason recorded for `field`, or NULL when it has none. */
MSVC_EXTERN const char *msvc_errors_get(const msvc_errors_t *errs,
                                        const char *field);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_ERRORS_H */
