/* keys.c - key files, the generated signing key, the service secret and
 * msvc-post's JWK Set fetcher.
 *
 * Invariants:
 *  - a key's id is its file's name without directory and extension, so
 *    the id a token carries tells an operator which file signed it;
 *  - the last private key listed signs: rotation is "append the new file,
 *    later drop the old one", and the JWK Set lists every key meanwhile;
 *  - a key is generated at most once per data directory and algorithm, as
 *    the JWT secret is (private temporary file, then link(), so two
 *    processes starting together load the same key), with mode 0600, and
 *    its real path is logged; later runs load every DATA_DIR/jwt-<alg>-*.pem
 *    in name order, so a newer generated or copied-in file signs;
 *  - private key bytes never reach a log line and are wiped after the
 *    library has its copy;
 *  - the fetcher never runs on an event loop: its own thread fetches on a
 *    schedule, and msvc_jwks_fetcher_refresh (after an unknown kid) runs on
 *    worker threads, one fetch at a time, at most one every 10 s; a failed
 *    fetch leaves the keys held in place, so msvc-post keeps verifying with
 *    them while the auth services are down.
 */
#include "keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "log.h"
#include "msvc/http_resolver.h"

#define PEM_MAX_BYTES 65536
#define KID_MAX 64
#define REFETCH_MIN_MS 10000 /* unknown kids: one fetch per 10 s at most */
#define RETRY_MS 1000        /* no keys yet: try again this soon */

int msvc_keys_asymmetric(const msvc_config_t *cfg) {
  return cfg->jwt_algorithm != NULL && strcmp(cfg->jwt_algorithm, "HS256");
}

/* ---- files ----------------------------------------------------------------
 */

/* Reads a whole small file into a NUL-terminated heap buffer. */
static int read_file(const char *path, size_t max, char **out, size_t *len,
                     char *errbuf, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  char *buf;
  size_t n = 0;
  *out = NULL;
  if (fd < 0) {
    msvc__set_error(errbuf, errlen, "cannot open %s: %s", path,
                    strerror(errno));
    return MSVC_EIO;
  }
  buf = malloc(max + 1);
  if (buf == NULL) {
    close(fd);
    return MSVC_ENOMEM;
  }
  for (;;) {
    ssize_t r = read(fd, buf + n, max + 1 - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      msvc__set_error(errbuf, errlen, "cannot read %s: %s", path,
                      strerror(errno));
      close(fd);
      free(buf);
      return MSVC_EIO;
    }
    if (r == 0)
      break;
    n += (size_t)r;
    if (n > max) {
      msvc__set_error(errbuf, errlen, "%s is larger than %zu bytes", path, max);
      close(fd);
      explicit_bzero(buf, n);
      free(buf);
      return MSVC_ECONFIG;
    }
  }
  close(fd);
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return 0;
}

/* "dir/name.pem" -> "name": the key id. */
static int kid_of(const char *path, char kid[KID_MAX + 1], char *errbuf,
                  size_t errlen) {
  const char *base = strrchr(path, '/');
  const char *dot;
  size_t n;
  base = base != NULL ? base + 1 : path;
  dot = strrchr(base, '.');
  n = dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base);
  if (n == 0 || n > KID_MAX) {
    msvc__set_error(errbuf, errlen,
                    "key file %s: its name must give a key id of 1 to %d "
                    "bytes",
                    path, KID_MAX);
    return MSVC_ECONFIG;
  }
  memcpy(kid, base, n);
  kid[n] = '\0';
  return 0;
}

typedef int (*add_key_fn)(msvc_options_t *, const char *, const char *, size_t);

static int add_key_file(msvc_options_t *opts, const char *path, add_key_fn add,
                        char *kid_out, char *errbuf, size_t errlen) {
  char kid[KID_MAX + 1];
  char *pem = NULL;
  size_t len = 0;
  struct stat st;
  int rc = kid_of(path, kid, errbuf, errlen);
  if (rc == 0)
    rc = read_file(path, PEM_MAX_BYTES, &pem, &len, errbuf, errlen);
  if (rc != 0)
    return rc;
  if (add == msvc_options_add_signing_key && stat(path, &st) == 0 &&
      (st.st_mode & 077) != 0) {
    char real[PATH_MAX];
    msvc_log(MSVC_LOG_WARN, "warning: %s is readable by other users",
             realpath(path, real) != NULL ? real : path);
  }
  rc = add(opts, kid, pem, len);
  if (rc != 0)
    msvc__set_error(errbuf, errlen, "key %s: %s", path, msvc_strerror(rc));
  else if (kid_out != NULL)
    memcpy(kid_out, kid, strlen(kid) + 1);
  explicit_bzero(pem, len);
  free(pem);
  return rc;
}

/* Adds every file of a comma-separated list; kid_out: the last one's id. */
static int add_key_list(msvc_options_t *opts, const char *list, add_key_fn add,
                        char *kid_out, size_t *count, char *errbuf,
                        size_t errlen) {
  char *copy = msvc__strdup(list), *save = NULL;
  int rc = 0;
  if (copy == NULL)
    return MSVC_ENOMEM;
  for (char *p = strtok_r(copy, ",", &save); p != NULL && rc == 0;
       p = strtok_r(NULL, ",", &save)) {
    while (*p == ' ' || *p == '\t')
      p++;
    for (size_t n = strlen(p); n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t');)
      p[--n] = '\0';
    if (*p == '\0')
      continue;
    rc = add_key_file(opts, p, add, kid_out, errbuf, errlen);
    if (rc == 0 && count != NULL)
      (*count)++;
  }
  free(copy);
  return rc;
}

/* ---- the generated key ----------------------------------------------------
 */

static void lower_alg(const char *alg, char out[8]) {
  snprintf(out, 8, "%s", alg);
  msvc__ascii_lower(out);
}

/* A fresh private key for alg as PEM (PKCS#8), in a heap buffer. */
static int generate_pem(const char *alg, char **pem, size_t *len) {
  EVP_PKEY *key = strcmp(alg, "ES256") == 0
                      ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
                      : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
  BIO *bio = BIO_new(BIO_s_mem());
  char *data = NULL;
  long n;
  int rc = MSVC_EIO;
  *pem = NULL;
  if (key != NULL && bio != NULL &&
      PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1 &&
      (n = BIO_get_mem_data(bio, &data)) > 0 &&
      (*pem = malloc((size_t)n)) != NULL) {
    memcpy(*pem, data, (size_t)n);
    *len = (size_t)n;
    rc = 0;
  }
  if (data != NULL && bio != NULL)
    OPENSSL_cleanse(data, (size_t)BIO_get_mem_data(bio, &data));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return rc;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Creates `path` with a new key unless another process made it first. */
static int create_key_file(const char *path, const char *alg, char *errbuf,
                           size_t errlen) {
  char tmp[4400];
  char *pem = NULL;
  size_t len = 0;
  int fd, rc;
  snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
  rc = generate_pem(alg, &pem, &len);
  if (rc != 0) {
    msvc__set_error(errbuf, errlen, "cannot generate a %s key", alg);
    return rc;
  }
  unlink(tmp);
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  /* fchmod: 0600 whatever the umask (0277 would make it unwritable). */
  if (fd < 0 || fchmod(fd, 0600) != 0 || write_all(fd, pem, len) != 0 ||
      fsync(fd) != 0) {
    msvc__set_error(errbuf, errlen, "cannot write %s: %s", tmp,
                    strerror(errno));
    rc = MSVC_EIO;
  }
  if (fd >= 0)
    close(fd);
  if (rc == 0 && link(tmp, path) != 0 && errno != EEXIST) {
    msvc__set_error(errbuf, errlen, "cannot create %s: %s", path,
                    strerror(errno));
    rc = MSVC_EIO;
  }
  unlink(tmp);
  explicit_bzero(pem, len);
  free(pem);
  return rc;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The comma-separated paths of DATA_DIR/jwt-<alg>-*.pem in name order, or
 * NULL (no such file) in *out. */
static int find_generated(const char *dir, const char *alg, char **out) {
  char prefix[16], lower[8];
  DIR *d = opendir(dir);
  struct dirent *e;
  char **names = NULL;
  size_t n = 0, cap = 0;
  msvc__buf_t b;
  int rc = 0;
  *out = NULL;
  if (d == NULL)
    return 0;
  lower_alg(alg, lower);
  snprintf(prefix, sizeof(prefix), "jwt-%s-", lower);
  while (rc == 0 && (e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || len < 5 ||
        strcmp(e->d_name + len - 4, ".pem") != 0)
      continue;
    if (n == cap) {
      char **grown = realloc(names, (cap = cap ? 2 * cap : 8) * sizeof(*names));
      if (grown == NULL) {
        rc = MSVC_ENOMEM;
        break;
      }
      names = grown;
    }
    if ((names[n] = msvc__strdup(e->d_name)) == NULL)
      rc = MSVC_ENOMEM;
    else
      n++;
  }
  closedir(d);
  if (n > 1)
    qsort(names, n, sizeof(*names), cmp_names);
  msvc__buf_init(&b);
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      msvc__buf_putc(&b, ',');
    msvc__buf_puts(&b, dir);
    msvc__buf_putc(&b, '/');
    msvc__buf_puts(&b, names[i]);
    free(names[i]);
  }
  free(names);
  if (rc == 0 && n > 0) {
    msvc__buf_putc(&b, '\0');
    if (b.failed)
      rc = MSVC_ENOMEM;
    else
      *out = msvc__strdup(b.data);
    if (rc == 0 && *out == NULL)
      rc = MSVC_ENOMEM;
  }
  msvc__buf_free(&b);
  return rc;
}

/* The private keys when no file is named: those generated earlier, else a
 * new one. */
static int load_generated(const msvc_config_t *cfg, const char *name,
                          msvc_options_t *opts, char *kid, char *errbuf,
                          size_t errlen) {
  char failed[4096], path[4300], lower[8], date[16];
  char *list = NULL;
  size_t count = 0;
  time_t now = time(NULL);
  (void)name; /* the log says who is talking (log.h) */
  struct tm tm;
  int rc;
  if (msvc__mkdir_p(cfg->data_dir, 0700, failed, sizeof(failed)) != 0) {
    msvc__set_error(errbuf, errlen, "cannot create directory %s: %s", failed,
                    strerror(errno));
    return MSVC_EIO;
  }
  rc = find_generated(cfg->data_dir, cfg->jwt_algorithm, &list);
  if (rc == 0 && list == NULL) {
    char real[PATH_MAX];
    lower_alg(cfg->jwt_algorithm, lower);
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%Y%m%d", &tm);
    snprintf(path, sizeof(path), "%s/jwt-%s-%s.pem", cfg->data_dir, lower,
             date);
    rc = create_key_file(path, cfg->jwt_algorithm, errbuf, errlen);
    if (rc == 0)
      msvc_log(MSVC_LOG_INFO,
               "generated a %s signing key in %s (mode 0600); keep it, "
               "or name keys with JWT_PRIVATE_KEY_FILE",
               cfg->jwt_algorithm, realpath(path, real) != NULL ? real : path);
    if (rc == 0)
      rc = find_generated(cfg->data_dir, cfg->jwt_algorithm, &list);
  }
  if (rc == 0 && list == NULL) {
    msvc__set_error(errbuf, errlen, "no signing key in %s", cfg->data_dir);
    rc = MSVC_EIO;
  }
  if (rc == 0)
    rc = add_key_list(opts, list, msvc_options_add_signing_key, kid, &count,
                      errbuf, errlen);
  free(list);
  return rc;
}

/* ---- the service secret ----------------------------------------------------
 */

/* SERVICE_SECRET_FILE was read into cfg->service_secret while loading the
 * configuration (config.c), as JWT_SECRET_FILE was. */
static int set_service_secret(const msvc_config_t *cfg, msvc_options_t *opts,
                              int *have) {
  *have = 0;
  if (cfg->service_secret == NULL || cfg->service_secret[0] == '\0')
    return 0;
  *have = 1;
  return msvc_options_set_service_secret(opts, cfg->service_secret,
                                         strlen(cfg->service_secret));
}

int msvc_keys_configure(const msvc_config_t *cfg, const char *name,
                        msvc_options_t *opts, int *have_service_secret,
                        char *errbuf, size_t errlen) {
  char kid[KID_MAX + 1] = "";
  size_t npublic = 0;
  int rc = msvc_options_set_jwt_algorithm(opts, cfg->jwt_algorithm);
  if (rc != 0) {
    msvc__set_error(errbuf, errlen, "JWT_ALGORITHM %s: %s", cfg->jwt_algorithm,
                    msvc_strerror(rc));
    return rc;
  }
  rc = set_service_secret(cfg, opts, have_service_secret);
  if (rc == 0 && !msvc_keys_asymmetric(cfg) &&
      (cfg->jwt_private_key_file != NULL || cfg->jwt_public_key_file != NULL))
    msvc_log(MSVC_LOG_WARN,
             "warning: JWT_ALGORITHM is HS256, so the key files named "
             "are not used");
  if (rc != 0 || !msvc_keys_asymmetric(cfg))
    return rc;
  if (cfg->roles & MSVC_ROLE_AUTH) {
    if (cfg->jwt_private_key_file != NULL)
      rc =
          add_key_list(opts, cfg->jwt_private_key_file,
                       msvc_options_add_signing_key, kid, NULL, errbuf, errlen);
    else
      rc = load_generated(cfg, name, opts, kid, errbuf, errlen);
    if (rc == 0 && cfg->jwt_public_key_file != NULL)
      rc = add_key_list(opts, cfg->jwt_public_key_file,
                        msvc_options_add_verification_key, NULL, &npublic,
                        errbuf, errlen);
    if (rc == 0)
      msvc_log(MSVC_LOG_INFO, "%s tokens signed with key \"%s\"%s",
               cfg->jwt_algorithm, kid,
               npublic > 0 ? " (and verify-only keys)" : "");
  } else {
    msvc_log(MSVC_LOG_INFO,
             "%s tokens verified with the keys published at "
             "AUTH_MICRO_URL/.well-known/jwks.json",
             cfg->jwt_algorithm);
  }
  return rc;
}

/* ---- the JWK Set fetcher --------------------------------------------------
 */

struct msvc_jwks_fetcher {
  const msvc_config_t *cfg;
  const char *name;
  msvc_t *svc;
  pthread_t thread;
  pthread_mutex_t lock; /* guards everything below but `fetching` */
  pthread_cond_t wake;
  int stop;
  int have_keys;
  int64_t last_attempt_ms;  /* monotonic; 0: never */
  int failing;              /* the last attempt failed (log the change only) */
  pthread_mutex_t fetching; /* one fetch at a time */
};

/* One fetch, installed on success.  Called with `fetching` held. */
static void fetch_once(msvc_jwks_fetcher_t *f) {
  msvc_jwks_t *set = NULL;
  char err[256] = "";
  int rc, was_failing;
  pthread_mutex_lock(&f->lock);
  f->last_attempt_ms = msvc__monotonic_ms();
  was_failing = f->failing;
  pthread_mutex_unlock(&f->lock);
  rc = msvc_jwks_fetch(f->cfg->auth_micro_url, f->cfg->upstream_ca_file,
                       f->cfg->upstream_timeout_ms, &set, err, sizeof(err));
  if (rc == 0) {
    rc = msvc_set_verification_keys(f->svc, (const char *const *)set->kids,
                                    (const char *const *)set->pems, set->count);
    if (rc != 0)
      snprintf(err, sizeof(err), "%s", msvc_errmsg(f->svc));
  }
  if (rc == 0 && (was_failing || !f->have_keys))
    msvc_log(MSVC_LOG_INFO, "%zu verification keys from the auth services",
             set->count);
  else if (rc != 0 && !was_failing)
    msvc_log(MSVC_LOG_ERROR,
             "cannot fetch the auth services' keys (%s); keeping the "
             "%s and trying again",
             err[0] ? err : msvc_strerror(rc),
             f->have_keys ? "keys held" : "start");
  msvc_jwks_free(set);
  pthread_mutex_lock(&f->lock);
  f->failing = rc != 0;
  if (rc == 0)
    f->have_keys = 1;
  pthread_mutex_unlock(&f->lock);
}

static void *fetcher_main(void *arg) {
  msvc_jwks_fetcher_t *f = arg;
  pthread_mutex_lock(&f->lock);
  while (!f->stop) {
    int64_t every = f->have_keys && !f->failing
                        ? (int64_t)f->cfg->jwks_refresh * 1000
                        : RETRY_MS;
    int64_t due = f->last_attempt_ms + every;
    int64_t now = msvc__monotonic_ms();
    if (f->last_attempt_ms == 0 || now >= due) {
      pthread_mutex_unlock(&f->lock);
      pthread_mutex_lock(&f->fetching);
      fetch_once(f);
      pthread_mutex_unlock(&f->fetching);
      pthread_mutex_lock(&f->lock);
      continue;
    }
    {
      struct timespec ts;
      int64_t wait = due - now;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      ts.tv_sec += wait / 1000;
      ts.tv_nsec += (wait % 1000) * 1000000L;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&f->wake, &f->lock, &ts);
    }
  }
  pthread_mutex_unlock(&f->lock);
  return NULL;
}

int msvc_jwks_fetcher_start(const msvc_config_t *cfg, const char *name,
                            msvc_t *svc, msvc_jwks_fetcher_t **out) {
  msvc_jwks_fetcher_t *f = calloc(1, sizeof(*f));
  pthread_condattr_t ca;
  *out = NULL;
  if (f == NULL)
    return MSVC_ENOMEM;
  f->cfg = cfg;
  f->name = name;
  f->svc = svc;
  pthread_mutex_init(&f->lock, NULL);
  pthread_mutex_init(&f->fetching, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&f->wake, &ca);
  pthread_condattr_destroy(&ca);
  if (pthread_create(&f->thread, NULL, fetcher_main, f) != 0) {
    pthread_cond_destroy(&f->wake);
    pthread_mutex_destroy(&f->lock);
    pthread_mutex_destroy(&f->fetching);
    free(f);
    return MSVC_ENOMEM;
  }
  *out = f;
  return 0;
}

void msvc_jwks_fetcher_stop(msvc_jwks_fetcher_t *f) {
  if (f == NULL)
    return;
  pthread_mutex_lock(&f->lock);
  f->stop = 1;
  pthread_cond_signal(&f->wake);
  pthread_mutex_unlock(&f->lock);
  pthread_join(f->thread, NULL);
  pthread_cond_destroy(&f->wake);
  pthread_mutex_destroy(&f->lock);
  pthread_mutex_destroy(&f->fetching);
  free(f);
}

void msvc_jwks_fetcher_refresh(msvc_jwks_fetcher_t *f) {
  int64_t last;
  if (f == NULL)
    return;
  /* Waiting here while another thread fetches is what we want: the retry
   * that follows then sees the keys that fetch brought. */
  pthread_mutex_lock(&f->fetching);
  pthread_mutex_lock(&f->lock);
  last = f->last_attempt_ms;
  pthread_mutex_unlock(&f->lock);
  if (last == 0 || msvc__monotonic_ms() - last >= REFETCH_MIN_MS)
    fetch_once(f);
  pthread_mutex_unlock(&f->fetching);
}
