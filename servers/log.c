/* log.c - text or JSON log lines on stderr.
 *
 * A message is formatted whole into one buffer and written at once; a
 * message longer than LOG_MESSAGE_MAX is cut (a log line is not where
 * megabytes belong).  Control characters in JSON values are escaped by the
 * project's JSON writer, so a message naming a hostile path or header
 * still makes one valid line.
 */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wire/json.h"

#define LOG_MESSAGE_MAX 4096

static const char *log_service = "msvc";
static int log_json;

void msvc_log_setup(const char *service, int json) {
  if (service != NULL)
    log_service = service;
  log_json = json;
}

int msvc_log_is_json(void) {
  return log_json;
}

const char *msvc_log_service(void) {
  return log_service;
}

static const char *level_name(msvc_log_level_t level) {
  return level == MSVC_LOG_ERROR  ? "error"
         : level == MSVC_LOG_WARN ? "warn"
                                  : "info";
}

void msvc_log_json_open(msvc__buf_t *b, msvc_log_level_t level) {
  char ts[32];
  msvc__format_timestamp(msvc__realtime_ms(), ts);
  msvc__buf_puts(b, "{\"time\":\"");
  msvc__buf_puts(b, ts);
  msvc__buf_puts(b, "\",\"level\":\"");
  msvc__buf_puts(b, level_name(level));
  msvc__buf_puts(b, "\",\"service\":");
  msvc__json_cstring(b, log_service);
}

void msvc_log_write(const msvc__buf_t *b) {
  size_t off = 0;
  if (b->failed)
    return;
  while (off < b->len) {
    ssize_t w = write(STDERR_FILENO, b->data + off, b->len - off);
    if (w <= 0)
      return; /* a log we cannot write must not stop the server */
    off += (size_t)w;
  }
}

/* "<service>: " before every line of msg. */
static void text_lines(msvc__buf_t *b, const char *msg) {
  while (*msg != '\0') {
    const char *nl = strchr(msg, '\n');
    size_t len = nl != NULL ? (size_t)(nl - msg) : strlen(msg);
    msvc__buf_puts(b, log_service);
    msvc__buf_puts(b, ": ");
    msvc__buf_append(b, msg, len);
    msvc__buf_putc(b, '\n');
    msg += len + (nl != NULL);
  }
}

void msvc_log(msvc_log_level_t level, const char *fmt, ...) {
  char msg[LOG_MESSAGE_MAX];
  msvc__buf_t b;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  msvc__buf_init(&b);
  if (log_json) {
    msvc_log_json_open(&b, level);
    msvc__buf_puts(&b, ",\"msg\":");
    msvc__json_cstring(&b, msg);
    msvc__buf_puts(&b, "}\n");
  } else {
    text_lines(&b, msg);
  }
  msvc_log_write(&b);
  msvc__buf_free(&b);
}
