/* common.c - error strings, version, ids, the per-call context and the
 * thread's error detail.
 *
 * The error table is expanded from MSVC_ERRNO_MAP, the same list that
 * defines the enum, so a code can never lack its message.  Error details are
 * kept per thread (a handle is used by many threads at once), tagged with
 * the handle the call was made on, so msvc_errmsg() of one handle never
 * reports another's failure.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

const char *msvc_version_string(void) {
  return MSVC_VERSION_STRING;
}

void msvc_free(void *ptr) {
  free(ptr);
}

int msvc_id_valid(const char *s, size_t len) {
  return s != NULL && len == MSVC_ID_LEN && msvc__hex_digits(s, len);
}

/* ---- error details, per thread ----------------------------------------- */

#define DETAIL_MAX 256

static __thread struct {
  const void *owner; /* the handle of the last finished call */
  int has_detail;    /* a detail was set during the current call */
  char detail[DETAIL_MAX];
  char message[DETAIL_MAX + 64];
} tls_err;

void msvc_set_error_detail(const char *fmt, ...) {
  va_list ap;
  if (fmt == NULL)
    return;
  va_start(ap, fmt);
  vsnprintf(tls_err.detail, sizeof(tls_err.detail), fmt, ap);
  va_end(ap);
  tls_err.has_detail = 1;
}

void msvc__errmsg_clear(void) {
  tls_err.has_detail = 0;
  tls_err.detail[0] = '\0';
}

int msvc__errmsg_finish(const void *svc, int rc) {
  tls_err.owner = svc;
  if (rc == 0)
    tls_err.message[0] = '\0';
  else if (tls_err.has_detail)
    snprintf(tls_err.message, sizeof(tls_err.message), "%s: %s",
             msvc_strerror(rc), tls_err.detail);
  else
    msvc__strlcpy(tls_err.message, msvc_strerror(rc), sizeof(tls_err.message));
  tls_err.has_detail = 0;
  return rc;
}

const char *msvc__errmsg_get(const void *svc) {
  if (svc == NULL || tls_err.owner != svc)
    return "";
  return tls_err.message;
}
