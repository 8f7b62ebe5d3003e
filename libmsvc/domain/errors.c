/* errors.c - the list of field errors (msvc/errors.h).
 *
 * Invariants: at most one entry per field (the first reason wins); fields
 * and reasons are copies owned by the list; the order is the order of
 * addition, which is the order the validators check fields in, so answers
 * are stable.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int msvc_errors_new(msvc_errors_t **out) {
  if (out == NULL)
    return MSVC_EINVAL;
  *out = calloc(1, sizeof(**out));
  return *out != NULL ? 0 : MSVC_ENOMEM;
}

void msvc_errors_clear(msvc_errors_t *errs) {
  if (errs == NULL)
    return;
  for (size_t i = 0; i < errs->count; i++) {
    free(errs->items[i].field);
    free(errs->items[i].reason);
  }
  errs->count = 0;
}

void msvc_errors_free(msvc_errors_t *errs) {
  if (errs == NULL)
    return;
  msvc_errors_clear(errs);
  free(errs->items);
  free(errs);
}

int msvc__errors_has(const msvc_errors_t *errs, const char *field) {
  return msvc_errors_get(errs, field) != NULL;
}

static int grow(msvc_errors_t *errs) {
  size_t cap = errs->cap ? errs->cap * 2 : 4;
  struct msvc__field_error *items = realloc(errs->items, cap * sizeof(*items));
  if (items == NULL)
    return MSVC_ENOMEM;
  errs->items = items;
  errs->cap = cap;
  return 0;
}

int msvc_errors_add(msvc_errors_t *errs, const char *field,
                    const char *reason) {
  char *f, *r;
  if (errs == NULL || field == NULL || reason == NULL)
    return MSVC_EINVAL;
  if (msvc__errors_has(errs, field))
    return 0;
  if (errs->count == errs->cap && grow(errs) != 0)
    return MSVC_ENOMEM;
  f = strdup(field);
  r = strdup(reason);
  if (f == NULL || r == NULL) {
    free(f);
    free(r);
    return MSVC_ENOMEM;
  }
  errs->items[errs->count].field = f;
  errs->items[errs->count].reason = r;
  errs->count++;
  return 0;
}

size_t msvc_errors_count(const msvc_errors_t *errs) {
  return errs != NULL ? errs->count : 0;
}

const char *msvc_errors_field(const msvc_errors_t *errs, size_t i) {
  return errs != NULL && i < errs->count ? errs->items[i].field : NULL;
}

const char *msvc_errors_reason(const msvc_errors_t *errs, size_t i) {
  return errs != NULL && i < errs->count ? errs->items[i].reason : NULL;
}

const char *msvc_errors_get(const msvc_errors_t *errs, const char *field) {
  if (errs == NULL || field == NULL)
    return NULL;
  for (size_t i = 0; i < errs->count; i++)
    if (strcmp(errs->items[i].field, field) == 0)
      return errs->items[i].reason;
  return NULL;
}

int msvc__field_verdict(msvc_errors_t *errs, const char *field,
                        const char *reason) {
  if (reason != NULL && errs != NULL)
    msvc_errors_add(errs, field, reason);
  if (reason != NULL || msvc__errors_has(errs, field))
    return MSVC_EVALIDATION;
  return 0;
}
