/* standin.h - runs tests/resolver/standin.py, a real HTTP auth stand-in,
 * as a child process on a loopback port (plain or, with a certificate, over
 * TLS), and reads its request log.
 *
 * The test binary gets the interpreter and the script from the compile
 * definitions MSVC_PYTHON and MSVC_STANDIN (tests/resolver/tests.cmake).
 * Each stand-in logs to its own file in a fresh temporary directory; the
 * log is written before the stand-in answers, so once a call has returned
 * its requests are in the log.
 */
#ifndef MSVC_TEST_STANDIN_H
#define MSVC_TEST_STANDIN_H

#include <dlfcn.h>
#include <errno.h>
#include <json-c/json.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline void standin_sleep_ms(int ms);

/* ---- a name that takes long to look up ---- */

#define STANDIN_SLOW_HOST "slow-dns.msvc.test"
#define STANDIN_SLOW_DNS_MS 3000

/* Name lookups of STANDIN_SLOW_HOST take STANDIN_SLOW_DNS_MS and then
 * fail, as with an unreachable DNS server; every other name goes to the C
 * library.  libcurl resolves on its own threads through the executable's
 * getaddrinfo: tests/resolver/tests.cmake links the tests with
 * ENABLE_EXPORTS, and this one symbol is made visible. */
__attribute__((visibility("default"))) int
getaddrinfo(const char *node, const char *service,
            const struct addrinfo *hints, struct addrinfo **res) {
  typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *,
                        struct addrinfo **);
  gai_fn real;
  if (node != NULL && strcmp(node, STANDIN_SLOW_HOST) == 0) {
    standin_sleep_ms(STANDIN_SLOW_DNS_MS);
    return EAI_AGAIN;
  }
  *(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
  return real != NULL ? real(node, service, hints, res) : EAI_FAIL;
}

typedef struct standin {
  pid_t pid;
  int port;
  char dir[64];
  char log[96];
  char url[64]; /* http://127.0.0.1:port (https:// with TLS) */
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
 * s->dir (a fresh directory unless s->dir is already set, for a restart),
 * serving TLS with the PEM files cert and key when they are not NULL, and
 * GET /.well-known/jwks.json from the file jwks (re-read at each request)
 * when it is not NULL. */
static inline int standin_start_jwks(standin_t *s, const char *mode, int port,
                                     const char *cert, const char *key,
                                     const char *jwks) {
#if defined(MSVC_PYTHON) && defined(MSVC_STANDIN)
  int out[2];
  char portarg[16], jwksarg[256];
  const char *argv[9];
  size_t argc = 0;
  if (s->dir[0] == '\0') {
    strcpy(s->dir, "/tmp/msvc-standin-XXXXXX");
    if (mkdtemp(s->dir) == NULL)
      return -1;
    snprintf(s->log, sizeof(s->log), "%s/log.jsonl", s->dir);
  }
  snprintf(portarg, sizeof(portarg), "%d", port);
  snprintf(jwksarg, sizeof(jwksarg), "--jwks=%s", jwks ? jwks : "");
  argv[argc++] = MSVC_PYTHON;
  argv[argc++] = MSVC_STANDIN;
  if (jwks != NULL)
    argv[argc++] = jwksarg;
  argv[argc++] = mode;
  argv[argc++] = s->log;
  argv[argc++] = portarg;
  if (cert != NULL) {
    argv[argc++] = cert;
    argv[argc++] = key;
  }
  argv[argc] = NULL;
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
    execv(MSVC_PYTHON, (char *const *)argv);
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
  snprintf(s->url, sizeof(s->url), "%s://127.0.0.1:%d",
           cert != NULL ? "https" : "http", s->port);
  return 0;
#else
  (void)s;
  (void)mode;
  (void)port;
  (void)cert;
  (void)key;
  (void)jwks;
  return -1;
#endif
}

/* The same without a JWK Set. */
static inline int standin_start_tls(standin_t *s, const char *mode, int port,
                                    const char *cert, const char *key) {
  return standin_start_jwks(s, mode, port, cert, key, NULL);
}

/* The same over plain HTTP. */
static inline int standin_start(standin_t *s, const char *mode, int port) {
  return standin_start_tls(s, mode, port, NULL, NULL);
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

/* ---- a throwaway PKI for the HTTPS cases ---- */

/* Two unrelated CAs with the same name, and a server certificate for
 * 127.0.0.1 and localhost signed by the first, in a fresh directory. */
typedef struct standin_pki {
  char dir[64];
  char ca[96];       /* the CA that signed the server's certificate */
  char other_ca[96]; /* a CA of the same name that did not */
  char cert[96];
  char key[96];
} standin_pki_t;

static inline int standin_pki_available(void) {
#if defined(MSVC_OPENSSL)
  return access(MSVC_OPENSSL, X_OK) == 0;
#else
  return 0;
#endif
}

/* Makes the files with the openssl command; 0 or -1. */
static inline int standin_pki_make(standin_pki_t *p) {
#if defined(MSVC_OPENSSL)
  static const char script[] =
      "exec 2>/dev/null; cd '%s' && O='%s' && "
      "for ca in ca other; do $O req -x509 -newkey ec -pkeyopt "
      "ec_paramgen_curve:prime256v1 -nodes -keyout $ca.key -out $ca.pem "
      "-days 2 -subj /CN=msvc-test-ca -addext "
      "basicConstraints=critical,CA:TRUE -addext "
      "keyUsage=critical,keyCertSign,cRLSign || exit 1; done && "
      "$O req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-keyout srv.key -out srv.csr -subj /CN=localhost && "
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n"
      "basicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > ext && "
      "$O x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
      "-out srv.pem -days 2 -extfile ext >/dev/null";
  char cmd[2048];
  memset(p, 0, sizeof(*p));
  strcpy(p->dir, "/tmp/msvc-pki-XXXXXX");
  if (mkdtemp(p->dir) == NULL)
    return -1;
  snprintf(p->ca, sizeof(p->ca), "%s/ca.pem", p->dir);
  snprintf(p->other_ca, sizeof(p->other_ca), "%s/other.pem", p->dir);
  snprintf(p->cert, sizeof(p->cert), "%s/srv.pem", p->dir);
  snprintf(p->key, sizeof(p->key), "%s/srv.key", p->dir);
  /* openssl talks on stderr even when all is well: silenced. */
  snprintf(cmd, sizeof(cmd), script, p->dir, MSVC_OPENSSL);
  return system(cmd) == 0 && access(p->cert, R_OK) == 0 ? 0 : -1;
#else
  (void)p;
  return -1;
#endif
}

static inline void standin_pki_remove(standin_pki_t *p) {
  char cmd[128];
  if (p->dir[0] == '\0')
    return;
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", p->dir);
  memset(p, 0, sizeof(*p));
}

#endif
