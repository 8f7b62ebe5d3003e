/* standin.h - runs tests/resolver/standin.py, a real HTTP auth stand-in,
 * as a child process on a loopback port, and reads its request log.
 *
 * The test binary gets the interpreter and the script from the compile
 * definitions MSVC_PYTHON and MSVC_STANDIN (tests/resolver/tests.cmake).
 * Each stand-in logs to its own file in a fresh temporary directory; the
 * log is written before the stand-in answers, so once a call has returned
 * its requests are in the log.
 */
#ifndef MSVC_TEST_STANDIN_H
#define MSVC_TEST_STANDIN_H

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct standin {
  pid_t pid;
  int port;
  char dir[64];
  char log[96];
  char url[64]; /* http://127.0.0.1:port */
} standin_t;

static inline int standin_available(void) {
#if defined(MSVC_PYTHON) && defined(MSVC_STANDIN)
  return access(MSVC_PYTHON, X_OK) == 0 && access(MSVC_STANDIN, R_OK) == 0;
#else
  return 0;
#endif
}

/* Reads the port line the script prints, waiting at most 10 s. */
static inline int standin_read_port(int fd) {
  char line[32];
  size_t len = 0;
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  while (len < sizeof(line) - 1 && poll(&pfd, 1, 10000) > 0) {
    ssize_t k = read(fd, line + len, 1);
    if (k <= 0)
      break;
    if (line[len] == '\n')
      break;
    len++;
  }
  line[len] = '\0';
  return atoi(line);
}

/* Starts the stand-in in `mode` on `port` (0: any free port), logging into
 * s->dir (a fresh directory unless s->dir is already set, for a restart). */
static inline int standin_start(standin_t *s, const char *mode, int port) {
#if defined(MSVC_PYTHON) && defined(MSVC_STANDIN)
  int out[2];
  char portarg[16];
  if (s->dir[0] == '\0') {
    strcpy(s->dir, "/tmp/msvc-standin-XXXXXX");
    if (mkdtemp(s->dir) == NULL)
      return -1;
    snprintf(s->log, sizeof(s->log), "%s/log.jsonl", s->dir);
  }
  snprintf(portarg, sizeof(portarg), "%d", port);
  if (pipe(out) != 0)
    return -1;
  s->pid = fork();
  if (s->pid < 0) {
    close(out[0]);
    close(out[1]);
    return -1;
  }
  if (s->pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive a killed test */
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    execl(MSVC_PYTHON, MSVC_PYTHON, MSVC_STANDIN, mode, s->log, portarg,
          (char *)NULL);
    _exit(127);
  }
  close(out[1]);
  s->port = standin_read_port(out[0]);
  close(out[0]);
  if (s->port <= 0) {
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
    return -1;
  }
  snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
  return 0;
#else
  (void)s;
  (void)mode;
  (void)port;
  return -1;
#endif
}

/* Stops the process (the log and port stay known for a restart). */
static inline void standin_kill(standin_t *s) {
  if (s->pid > 0) {
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
  }
  s->pid = 0;
}

/* Stops it and removes its files. */
static inline void standin_stop(standin_t *s) {
  standin_kill(s);
  if (s->dir[0] != '\0') {
    unlink(s->log);
    rmdir(s->dir);
  }
  memset(s, 0, sizeof(*s));
}

static inline void standin_clear_log(standin_t *s) {
  FILE *f = fopen(s->log, "w");
  if (f != NULL)
    fclose(f);
}

/* Calls fn for every logged request whose path starts with prefix. */
static inline int standin_each(const standin_t *s, const char *prefix,
                               void (*fn)(json_object *rec, void *arg),
                               void *arg) {
  char line[8192];
  int count = 0;
  FILE *f = fopen(s->log, "r");
  if (f == NULL)
    return 0;
  while (fgets(line, sizeof(line), f) != NULL) {
    json_object *rec = json_tokener_parse(line), *path;
    if (rec != NULL && json_object_object_get_ex(rec, "path", &path) &&
        strncmp(json_object_get_string(path), prefix, strlen(prefix)) == 0) {
      count++;
      if (fn != NULL)
        fn(rec, arg);
    }
    json_object_put(rec);
  }
  fclose(f);
  return count;
}

/* How many logged requests have a path starting with prefix. */
static inline int standin_count(const standin_t *s, const char *prefix) {
  return standin_each(s, prefix, NULL, NULL);
}

typedef struct standin_header_arg {
  const char *name;
  char value[256];
  int missing; /* requests that lacked the header */
} standin_header_arg_t;

static inline void standin_header_fn(json_object *rec, void *arg) {
  standin_header_arg_t *h = arg;
  json_object *headers, *v;
  if (json_object_object_get_ex(rec, "headers", &headers) &&
      json_object_object_get_ex(headers, h->name, &v))
    snprintf(h->value, sizeof(h->value), "%s", json_object_get_string(v));
  else
    h->missing++;
}

/* The value of header `name` (lower-case) on the last request under prefix
 * ("" if none); *missing counts the requests that did not carry it. */
static inline void standin_header(const standin_t *s, const char *prefix,
                                  const char *name, char *out, size_t outlen,
                                  int *missing) {
  standin_header_arg_t h = {.name = name, .value = "", .missing = 0};
  standin_each(s, prefix, standin_header_fn, &h);
  snprintf(out, outlen, "%s", h.value);
  if (missing != NULL)
    *missing = h.missing;
}

typedef struct standin_ints {
  const char *field; /* "conn" or "inflight" */
  int max;
  unsigned char seen[1024];
} standin_ints_t;

static inline void standin_ints_fn(json_object *rec, void *arg) {
  standin_ints_t *acc = arg;
  json_object *v;
  int x;
  if (!json_object_object_get_ex(rec, acc->field, &v))
    return;
  x = json_object_get_int(v);
  if (x > acc->max)
    acc->max = x;
  if (x >= 0 && x < (int)sizeof(acc->seen))
    acc->seen[x] = 1;
}

/* The largest number of requests the stand-in was answering at once. */
static inline int standin_max_inflight(const standin_t *s, const char *prefix) {
  standin_ints_t acc = {.field = "inflight"};
  standin_each(s, prefix, standin_ints_fn, &acc);
  return acc.max;
}

/* How many different connections carried the requests under prefix. */
static inline int standin_connections(const standin_t *s, const char *prefix) {
  standin_ints_t acc = {.field = "conn"};
  int n = 0;
  standin_each(s, prefix, standin_ints_fn, &acc);
  for (size_t i = 0; i < sizeof(acc.seen); i++)
    n += acc.seen[i];
  return n;
}

/* A loopback port with nothing listening: bind to 0, note it, close. */
static inline int standin_dead_port(void) {
  standin_t s;
  int port;
  memset(&s, 0, sizeof(s));
  if (standin_start(&s, "ok", 0) != 0)
    return -1;
  port = s.port;
  standin_stop(&s);
  return port;
}

static inline int64_t standin_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void standin_sleep_ms(int ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

#endif
