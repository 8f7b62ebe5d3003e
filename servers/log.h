/* log.h - the servers' log lines on stderr, as text or as JSON.
 *
 * Text (the default) is "<service>: <message>", every line of a message
 * prefixed, as the servers always wrote.  With LOG_FORMAT=json each
 * message is one JSON object on one line: {"time", "level", "service",
 * "msg"}; the access log (http.c) writes objects of its own with the same
 * first fields.  A line is written with one write(2), so lines from
 * several threads never interleave.  The format is chosen once, before the
 * first thread starts, and only read afterwards.
 */
#ifndef MSVC_SERVER_LOG_H
#define MSVC_SERVER_LOG_H

#include <stdarg.h>

#include "internal.h"

typedef enum msvc_log_level {
  MSVC_LOG_INFO = 0,
  MSVC_LOG_WARN = 1,
  MSVC_LOG_ERROR = 2
} msvc_log_level_t;

/* service: static or outliving every log call; json: 1 for JSON lines. */
void msvc_log_setup(const char *service, int json);
int msvc_log_is_json(void);
const char *msvc_log_service(void);

void msvc_log(msvc_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The opening of a JSON log object, `{"time":"...","level":"...",
 * "service":"..."`, for writers that add fields of their own and close
 * the object themselves. */
void msvc_log_json_open(msvc__buf_t *b, msvc_log_level_t level);

/* Writes b's bytes to stderr with as few write(2) calls as it takes. */
void msvc_log_write(const msvc__buf_t *b);

#endif
