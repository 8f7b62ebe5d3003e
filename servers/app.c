/* app.c - building the application context from the configuration.
 *
 * Invariants: the JWT secret never reaches a log line and is wiped from
 * this file's buffers once the library has its own copy; a generated
 * secret is created at most once per data directory, atomically (written
 * to a private temporary file, then link()ed into place, so two processes
 * starting together agree on one secret instead of the last writer
 * winning); the service token handed to the HTTP resolver is renewed well
 * before the expiry it carries; the signing keys, and whether a JWT secret
 * is needed at all, come from keys.c (ES256/RS256 with a SERVICE_SECRET
 * need none); msvc-post under ES256/RS256 owns a key fetcher, stopped
 * before the handle it feeds is closed.  Process-wide state is the host's
 * business, not the library's: with a MongoDB store this file registers
 * the backend and installs the driver's log handler (warnings and errors
 * only, in the servers' "<name>: ..." format).
 */
#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "log.h"
#include "msvc/http_resolver.h"

#ifdef MSVC_HAVE_MONGO
#include <mongoc/mongoc.h>

#include "msvc/mongo.h"
#endif

#define SECRET_RANDOM_BYTES 32
#define SECRET_MAX_BYTES 4096
#define SERVICE_NAME "post"

typedef struct secret {
  char bytes[SECRET_MAX_BYTES + 1];
  size_t len;
} secret_t;

static void set_err(char *errbuf, size_t errlen, const char *fmt,
                    const char *arg, int err) {
  char msg[512];
  snprintf(msg, sizeof(msg), fmt, arg);
  if (err != 0)
    snprintf(errbuf, errlen, "%s: %s", msg, strerror(err));
  else
    snprintf(errbuf, errlen, "%s", msg);
}

/* mkdir -p with mode 0700 for the parts it creates.  The length bound
 * keeps DATA_DIR/jwt-secret inside load_secret's buffer. */
static int make_dirs(const char *dir, char *errbuf, size_t errlen) {
  char failed[4096];
  size_t len = strlen(dir);
  if (len == 0 || len >= sizeof(failed)) {
    set_err(errbuf, errlen, "data directory \"%s\" is not usable", dir, 0);
    return MSVC_ECONFIG;
  }
  if (msvc__mkdir_p(dir, 0700, failed, sizeof(failed)) != 0) {
    set_err(errbuf, errlen, "cannot create directory %s", failed, errno);
    return MSVC_EIO;
  }
  return 0;
}

/* Reads a secret file; trailing white space (an editor's newline) is not
 * part of the secret.  MSVC_ENOTFOUND when the file does not exist. */
static int read_secret(const char *path, secret_t *s, char *errbuf,
                       size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n;
  struct stat st;
  if (fd < 0) {
    if (errno == ENOENT)
      return MSVC_ENOTFOUND;
    set_err(errbuf, errlen, "cannot open %s", path, errno);
    return MSVC_EIO;
  }
  if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
    char real[PATH_MAX];
    msvc_log(MSVC_LOG_WARN, "warning: %s is readable by other users",
             realpath(path, real) != NULL ? real : path);
  }
  n = read(fd, s->bytes, SECRET_MAX_BYTES);
  close(fd);
  if (n < 0) {
    set_err(errbuf, errlen, "cannot read %s", path, errno);
    return MSVC_EIO;
  }
  while (n > 0 && strchr(" \t\r\n", s->bytes[n - 1]) != NULL)
    n--;
  s->len = (size_t)n;
  s->bytes[n] = '\0';
  if (s->len == 0) {
    set_err(errbuf, errlen, "%s is empty", path, 0);
    return MSVC_ECONFIG;
  }
  return 0;
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

/* Creates `path` holding a fresh secret unless someone else created it
 * first; either way s ends up holding what the file holds. */
static int create_secret(const char *path, secret_t *s, char *errbuf,
                         size_t errlen) {
  char tmp[4300]; /* path is at most 4200 bytes */
  int fd, rc = 0;
  snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
  if (msvc__random_hex(s->bytes, SECRET_RANDOM_BYTES) != 0) {
    set_err(errbuf, errlen, "%s", "no random bytes for a secret", errno);
    return MSVC_EIO;
  }
  s->len = 2 * SECRET_RANDOM_BYTES;
  s->bytes[s->len] = '\n';
  unlink(tmp);
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  /* fchmod: 0600 whatever the umask (0277 would make it unwritable). */
  if (fd < 0 || fchmod(fd, 0600) != 0 ||
      write_all(fd, s->bytes, s->len + 1) != 0 || fsync(fd) != 0) {
    set_err(errbuf, errlen, "cannot write %s", tmp, errno);
    rc = MSVC_EIO;
  }
  if (fd >= 0)
    close(fd);
  if (rc == 0 && link(tmp, path) != 0 && errno != EEXIST) {
    set_err(errbuf, errlen, "cannot create %s", path, errno);
    rc = MSVC_EIO;
  }
  unlink(tmp);
  explicit_bzero(s->bytes, sizeof(s->bytes));
  /* Reading back also picks up the winner's secret after an EEXIST. */
  return rc != 0 ? rc : read_secret(path, s, errbuf, errlen);
}

/* Where the configuration's value of a secret setting came from, for
 * the log: "read from /real/path (JWT_SECRET_FILE)", "from --jwt-secret",
 * "from JWT_SECRET". */
static void describe_origin(const msvc_config_t *cfg, const char *flag,
                            const char *env, const char *file,
                            const char *file_env, char *buf, size_t n) {
  char real[PATH_MAX];
  switch (msvc_config_origin(cfg, flag)) {
  case MSVC_FROM_FILE:
    snprintf(buf, n, "read from %s (%s)",
             realpath(file, real) != NULL ? real : file, file_env);
    break;
  case MSVC_FROM_FLAG:
    snprintf(buf, n, "from --%s", flag);
    break;
  default:
    snprintf(buf, n, "from %s", env);
    break;
  }
}

/* A secret shorter than MSVC_APP_SECRET_MIN_BYTES: a loud warning, or
 * MSVC_ECONFIG under --require-strong-secret.  what names the secret,
 * from says where it came from, file_env is the *_FILE variable that
 * would give a better one. */
static int check_strength(const msvc_app_t *app, const char *what,
                          const char *from, size_t len, const char *file_env,
                          char *errbuf, size_t errlen) {
  if (len >= MSVC_APP_SECRET_MIN_BYTES)
    return 0;
  if (app->cfg->require_strong_secret) {
    snprintf(errbuf, errlen,
             "the %s (%s) is %zu bytes long; --require-strong-secret "
             "(REQUIRE_STRONG_SECRET) asks for at least %d (RFC 7518: 256 "
             "bits for HS256): make one with `openssl rand -hex 32 > FILE` "
             "and name FILE in %s",
             what, from, len, MSVC_APP_SECRET_MIN_BYTES, file_env);
    return MSVC_ECONFIG;
  }
  msvc_log(MSVC_LOG_WARN,
           "WARNING: "
           "**********************************************************\n"
           "WARNING: the %s (%s) is only %zu bytes long.\n"
           "WARNING: HS256 wants %d random bytes or more (RFC 7518, "
           "3.2): a short\n"
           "WARNING: secret can be guessed offline from one token, and "
           "then any\n"
           "WARNING: token forged.  Make one with `openssl rand -hex 32 "
           "> FILE`\n"
           "WARNING: and name FILE in %s.  --require-strong-secret "
           "refuses to\n"
           "WARNING: start with a short secret.\n"
           "WARNING: "
           "**********************************************************",
           what, from, len, MSVC_APP_SECRET_MIN_BYTES, file_env);
  return 0;
}

static int load_secret(msvc_app_t *app, secret_t *s, char *errbuf,
                       size_t errlen) {
  const msvc_config_t *cfg = app->cfg;
  char path[4200], real[PATH_MAX];
  const char *shown;
  int rc, created = 0;
  if (cfg->jwt_secret != NULL && cfg->jwt_secret[0] != '\0') {
    s->len = strlen(cfg->jwt_secret);
    if (s->len > SECRET_MAX_BYTES) {
      set_err(errbuf, errlen, "%s", "the JWT secret is longer than 4096 bytes",
              0);
      return MSVC_ECONFIG;
    }
    memcpy(s->bytes, cfg->jwt_secret, s->len + 1);
    describe_origin(cfg, "jwt-secret", "JWT_SECRET", cfg->jwt_secret_file,
                    "JWT_SECRET_FILE", app->secret_source,
                    sizeof(app->secret_source));
    return check_strength(app, "JWT secret", app->secret_source, s->len,
                          "JWT_SECRET_FILE", errbuf, errlen);
  }
  rc = make_dirs(cfg->data_dir, errbuf, errlen);
  if (rc != 0)
    return rc;
  snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, MSVC_APP_SECRET_FILE);
  rc = read_secret(path, s, errbuf, errlen);
  if (rc == MSVC_ENOTFOUND) {
    rc = create_secret(path, s, errbuf, errlen);
    created = 1;
  }
  if (rc != 0)
    return rc;
  /* The path as the kernel resolves it: "./data" means little in a log
   * read later, or from another working directory. */
  shown = realpath(path, real) != NULL ? real : path;
  if (created)
    snprintf(app->secret_source, sizeof(app->secret_source),
             "generated (%d random bytes) and saved to %s (mode 0600)",
             SECRET_RANDOM_BYTES, shown);
  else
    snprintf(app->secret_source, sizeof(app->secret_source),
             "kept from an earlier run in %s", shown);
  return check_strength(app, "JWT secret", app->secret_source, s->len,
                        "JWT_SECRET_FILE", errbuf, errlen);
}

/* When to replace a fresh service token (seconds since the epoch): once
 * less than a tenth of its life (at least 5 s) is left.  The life is read
 * back from the token, so renewal follows whatever lifetime the library
 * gives it; 0 (renew at once) when it cannot be read. */
static int64_t token_renewal(msvc_t *svc, const char *token) {
  msvc_claims_t *claims = NULL;
  int64_t at = 0;
  if (msvc_authenticate(svc, NULL, token, strlen(token), &claims) == 0) {
    int64_t margin = (claims->exp - claims->iat) / 10;
    at = claims->exp - (margin > 5 ? margin : 5);
  }
  msvc_claims_free(claims);
  return at;
}

/* The HTTP resolver's credential: a service token, cached until its
 * renewal time. */
static char *service_credential(void *arg) {
  msvc_app_t *app = arg;
  int64_t now = msvc__realtime_ms() / 1000;
  char *copy = NULL;
  pthread_mutex_lock(&app->token_lock);
  if (app->service_token == NULL || now >= app->service_token_renew) {
    char *fresh = NULL;
    if (msvc_service_token(app->svc, SERVICE_NAME, &fresh) == 0) {
      msvc_free(app->service_token);
      app->service_token = fresh;
      app->service_token_renew = token_renewal(app->svc, fresh);
    }
  }
  if (app->service_token != NULL)
    copy = msvc__strdup(app->service_token);
  pthread_mutex_unlock(&app->token_lock);
  return copy;
}

static int open_resolver(msvc_app_t *app, char *errbuf, size_t errlen) {
  const msvc_config_t *cfg = app->cfg;
  msvc_http_resolver_config_t rc;
  msvc_http_resolver_config_init(&rc);
  if (cfg->auth_micro_url == NULL || cfg->auth_micro_url[0] == '\0') {
    set_err(errbuf, errlen, "%s",
            "AUTH_MICRO_URL (--auth-micro-url) is required", 0);
    return MSVC_ECONFIG;
  }
  if (msvc_resolver_strategy_parse(cfg->user_resolver, &rc.strategy) != 0) {
    set_err(errbuf, errlen,
            "USER_RESOLVER \"%s\" is not individual, batch or cached",
            cfg->user_resolver ? cfg->user_resolver : "", 0);
    return MSVC_ECONFIG;
  }
  rc.urls = cfg->auth_micro_url;
  rc.timeout_ms = cfg->upstream_timeout_ms;
  rc.cache_size = cfg->cache_size;
  rc.cache_ttl_s = cfg->cache_ttl;
  rc.credential = service_credential;
  rc.credential_arg = app;
  rc.ca_file = cfg->upstream_ca_file; /* NULL: the system's CAs */
  return msvc_resolver_http_new(&rc, &app->resolver, errbuf, errlen);
}

/* ---- MongoDB: the backend and the driver's process-wide log ------------ */

static int is_mongo_url(const char *url) {
  return url != NULL && (strncasecmp(url, "mongodb:", 8) == 0 ||
                         strncasecmp(url, "mongodb+srv:", 12) == 0);
}

#ifdef MSVC_HAVE_MONGO
/* A pooled client's monitor logs every heartbeat at DEBUG/INFO: keep only
 * what deserves an operator's attention.  data: the executable's name. */
static void mongo_log(mongoc_log_level_t level, const char *domain,
                      const char *message, void *data) {
  (void)data;
  if (level >= MONGOC_LOG_LEVEL_INFO)
    return;
  msvc_log(level <= MONGOC_LOG_LEVEL_CRITICAL  ? MSVC_LOG_ERROR
           : level == MONGOC_LOG_LEVEL_WARNING ? MSVC_LOG_WARN
                                               : MSVC_LOG_INFO,
           "mongoc %s: %s: %s", mongoc_log_level_str(level),
           domain ? domain : "", message ? message : "");
}
#endif

/* Makes a mongodb:// URL openable; nothing to do for other stores. */
static int prepare_store(msvc_app_t *app, char *errbuf, size_t errlen) {
  if (!is_mongo_url(app->cfg->database_url))
    return 0;
#ifdef MSVC_HAVE_MONGO
  /* Before the store opens: connecting already logs. */
  mongoc_log_set_handler(mongo_log, (void *)app->name);
  if (msvc_mongo_register() != 0) {
    set_err(errbuf, errlen, "%s", "cannot register the MongoDB store", 0);
    return MSVC_ECONFIG;
  }
  return 0;
#else
  set_err(errbuf, errlen, "%s",
          "DATABASE_URL names MongoDB, which this build does not include", 0);
  return MSVC_ECONFIG;
#endif
}

/* ---- the library handle ------------------------------------------------ */

/* DATABASE_URL with SQLITE_SYNCHRONOUS appended as the SQLite store's
 * "?synchronous=" (store/sqlite.c reads its URL's query: no new library
 * option), in a new string; only when the setting was given, so that a
 * URL's own parameter stands otherwise.  A plain path becomes
 * "sqlite:PATH" first, unless it has a '?' (which would then start the
 * query): that one is left as it is, with a warning. */
static char *database_url(const msvc_config_t *cfg) {
  const char *url = cfg->database_url, *sync = cfg->sqlite_synchronous;
  int scheme =
      strncasecmp(url, "sqlite:", 7) == 0 || strncasecmp(url, "file:", 5) == 0;
  char *out;
  if (is_mongo_url(url) ||
      msvc_config_origin(cfg, "sqlite-synchronous") == MSVC_FROM_DEFAULT)
    return strdup(url);
  if (!scheme && strchr(url, '?') != NULL) {
    msvc_log(MSVC_LOG_WARN,
             "SQLITE_SYNCHRONOUS not applied: the database path has a '?'; "
             "use sqlite:PATH?synchronous=%s instead",
             sync);
    return strdup(url);
  }
  if (asprintf(&out, "%s%s%csynchronous=%s", scheme ? "" : "sqlite:", url,
               scheme && strchr(url, '?') != NULL ? '&' : '?', sync) < 0)
    return NULL;
  return out;
}

/* The settings of msvc_open from the configuration; 0 or the first
 * setter's error.  secret is NULL when no JWT secret is needed (ES256/RS256
 * with a service secret of its own). */
static int fill_options(const msvc_app_t *app, const secret_t *secret,
                        msvc_options_t *opts) {
  const msvc_config_t *cfg = app->cfg;
  const struct {
    msvc_option_t opt;
    int64_t value;
  } ints[] = {
      {MSVC_OPT_TOKEN_TTL, cfg->token_ttl},
      {MSVC_OPT_PASSWORD_COST, cfg->password_cost},
      {MSVC_OPT_LOGIN_MAX_FAILURES, cfg->login_max_failures},
      {MSVC_OPT_LOGIN_LOCKOUT, cfg->login_lockout},
      {MSVC_OPT_LOGIN_WINDOW, cfg->login_window},
      {MSVC_OPT_LOGIN_ACCOUNT_MAX_FAILURES, cfg->login_account_max},
      {MSVC_OPT_LOGIN_CLIENT_MAX_FAILURES, cfg->login_client_max},
      {MSVC_OPT_STORE_TIMEOUT_MS, cfg->store_timeout_ms},
      /* Every loop and worker thread may hold a connection at once. */
      {MSVC_OPT_STORE_CONNECTIONS, cfg->threads + 3 * cfg->workers},
      /* msvc-post issues no token: these only matter where logins are. */
      {MSVC_OPT_SESSIONS, cfg->sessions},
      {MSVC_OPT_REFRESH_TTL, cfg->refresh_ttl},
      {MSVC_OPT_REFRESH_GRACE, cfg->refresh_grace},
      /* msvc-post has no user store to read sessions from: it accepts a
       * token until it expires (README, "Two services"). */
      {MSVC_OPT_CHECK_REVOCATION, app->roles != MSVC_ROLE_POST},
  };
  char *url = database_url(cfg);
  int rc = url != NULL ? msvc_options_set_database_url(opts, url) : MSVC_ENOMEM;
  free(url);
  if (rc == 0 && secret != NULL)
    rc = msvc_options_set_jwt_secret(opts, secret->bytes, secret->len);
  if (rc == 0)
    rc = msvc_options_set_password_scheme(
        opts, cfg->password_scheme ? cfg->password_scheme : "bcrypt");
  if (rc == 0 && app->resolver != NULL)
    rc = msvc_options_set_resolver(opts, app->resolver);
  for (size_t i = 0; rc == 0 && i < MSVC__ARRAY_SIZE(ints); i++)
    rc = msvc_options_set_int(opts, ints[i].opt, ints[i].value);
  return rc;
}

/* Keys first: whether a JWT secret is needed at all depends on them.  It
 * is under HS256, and as the default service secret. */
static int open_service(msvc_app_t *app, secret_t *secret, char *errbuf,
                        size_t errlen) {
  msvc_options_t *opts = NULL;
  int have_service_secret = 0, need_secret;
  int rc = msvc_options_new(&opts);
  if (rc != 0) {
    set_err(errbuf, errlen, "%s", "out of memory", 0);
    return rc;
  }
  if (app->cfg->service_secret != NULL) {
    char from[PATH_MAX + 64];
    describe_origin(app->cfg, "service-secret", "SERVICE_SECRET",
                    app->cfg->service_secret_file, "SERVICE_SECRET_FILE", from,
                    sizeof(from));
    rc = check_strength(app, "service secret", from,
                        strlen(app->cfg->service_secret), "SERVICE_SECRET_FILE",
                        errbuf, errlen);
  }
  if (rc == 0)
    rc = msvc_keys_configure(app->cfg, app->name, opts, &have_service_secret,
                             errbuf, errlen);
  need_secret = !msvc_keys_asymmetric(app->cfg) || !have_service_secret;
  if (rc == 0 && need_secret)
    rc = load_secret(app, secret, errbuf, errlen);
  else if (rc == 0)
    snprintf(app->secret_source, sizeof(app->secret_source), "%s",
             "not needed (ES256/RS256 with SERVICE_SECRET)");
  if (rc == 0) {
    rc = fill_options(app, need_secret ? secret : NULL, opts);
    if (rc != 0)
      set_err(errbuf, errlen, "the library refused a setting: %s",
              msvc_strerror(rc), 0);
  }
  if (rc == 0)
    rc = msvc_open(opts, &app->svc, errbuf, errlen);
  /* The options hold a copy of the secret: freeing them is the library's
   * business, as is wiping it. */
  msvc_options_free(opts);
  return rc;
}

static int open_pools(msvc_app_t *app, char *errbuf, size_t errlen) {
  unsigned workers = app->cfg->workers > 0 ? (unsigned)app->cfg->workers : 2;
  unsigned queue =
      app->cfg->queue_size > 0 ? (unsigned)app->cfg->queue_size : 256;
  int rc = 0;
  /* Only the auth routes hash passwords. */
  if (app->roles & MSVC_ROLE_AUTH)
    rc = msvc_pool_new("hash", workers, queue, &app->hash_pool);
  if (rc == 0)
    rc = msvc_pool_new("io", 2 * workers, queue, &app->io_pool);
  if (rc != 0)
    set_err(errbuf, errlen, "%s", "cannot start the worker threads", 0);
  return rc;
}

/* The SQLite file DATABASE_URL names, as store/sqlite.c reads it
 * ("sqlite:" or "file:", an optional "//", no "?query"; else the plain
 * path), in out; 0 when it names none (MongoDB).  The servers link the
 * shared library, which exports no such internal. */
static int sqlite_file(const char *url, char *out, size_t outlen) {
  const char *p = url;
  size_t len;
  if (is_mongo_url(url))
    return 0;
  if (strncasecmp(p, "sqlite:", 7) == 0 || strncasecmp(p, "file:", 5) == 0) {
    p = strchr(p, ':') + 1;
    if (strncmp(p, "//", 2) == 0)
      p += 2;
    len = strcspn(p, "?");
  } else {
    len = strlen(p);
  }
  if (len == 0 || len >= outlen)
    return 0;
  memcpy(out, p, len);
  out[len] = '\0';
  return 1;
}

/* A database file others may read exposes every password hash (and its
 * -wal and -shm files, which SQLite creates with its mode). */
static void warn_wide_database(const msvc_app_t *app) {
  char path[PATH_MAX];
  struct stat sb;
  if (!sqlite_file(app->cfg->database_url, path, sizeof(path)) ||
      stat(path, &sb) != 0 || (sb.st_mode & 077) == 0)
    return;
  msvc_log(MSVC_LOG_WARN,
           "database file %s has mode %04o: other users may read the "
           "password hashes in it and in its -wal and -shm files; "
           "chmod 600 them",
           path, (unsigned)(sb.st_mode & 07777));
}

/* SQLite's synchronous setting in effect: SQLITE_SYNCHRONOUS when given,
 * else the URL's last ?synchronous=, else full (store/sqlite.c). */
static const char *sqlite_sync(const msvc_config_t *cfg) {
  const char *q = strchr(cfg->database_url, '?'), *last = "full";
  if (msvc_config_origin(cfg, "sqlite-synchronous") != MSVC_FROM_DEFAULT)
    return cfg->sqlite_synchronous;
  while (q != NULL && (q = strcasestr(q, "synchronous=")) != NULL) {
    q += 12;
    last = strncasecmp(q, "normal", 6) == 0 ? "normal" : "full";
  }
  return last;
}

static void log_startup(const msvc_app_t *app) {
  const msvc_config_t *cfg = app->cfg;
  msvc_store_t *store = msvc_get_store(app->svc);
  int workers = cfg->workers > 0 ? cfg->workers : 2;
  char path[PATH_MAX];
  msvc_log(MSVC_LOG_INFO, "store %s (%s reads)", msvc_store_name(store),
           app->store_local ? "local" : "remote");
  if (sqlite_file(cfg->database_url, path, sizeof(path))) {
    int full = strcmp(sqlite_sync(cfg), "full") == 0;
    msvc_log(MSVC_LOG_INFO, "SQLite synchronous=%s: %s",
             full ? "FULL" : "NORMAL",
             full ? "every commit is fsync()ed before its 2xx"
                  : "commits are not fsync()ed; a power loss may lose the "
                    "last writes");
  }
  msvc_log(MSVC_LOG_INFO, "user resolver %s%s%s",
           msvc_resolver_name(msvc_get_resolver(app->svc)),
           app->resolver ? " over " : "",
           app->resolver ? cfg->auth_micro_url : "");
  msvc_log(MSVC_LOG_INFO, "JWT secret %s", app->secret_source);
  if (app->roles & MSVC_ROLE_AUTH) {
    if (cfg->password_cost == 0)
      msvc_log(MSVC_LOG_INFO, "new password hashes: %s at its default cost",
               cfg->password_scheme);
    else
      msvc_log(MSVC_LOG_INFO, "new password hashes: %s cost %d",
               cfg->password_scheme, cfg->password_cost);
  }
  if (app->roles & MSVC_ROLE_AUTH)
    msvc_log(MSVC_LOG_INFO, "sessions %s",
             cfg->sessions ? "on (refresh tokens, logout, revocation)"
                           : "off (the seed's tokens only)");
  if (app->hash_pool != NULL)
    msvc_log(MSVC_LOG_INFO, "%d workers for password hashing", workers);
  msvc_log(MSVC_LOG_INFO, "%d workers for I/O; at most %d jobs queued per pool",
           2 * workers, cfg->queue_size > 0 ? cfg->queue_size : 256);
}

int msvc_app_open(const msvc_config_t *cfg, const char *name, unsigned roles,
                  msvc_app_t **out, char *errbuf, size_t errlen) {
  msvc_app_t *app = calloc(1, sizeof(*app));
  secret_t *secret = calloc(1, sizeof(*secret));
  int rc = 0;
  *out = NULL;
  if (app == NULL || secret == NULL) {
    free(app);
    free(secret);
    set_err(errbuf, errlen, "%s", "out of memory", 0);
    return MSVC_ENOMEM;
  }
  app->cfg = cfg;
  app->name = name;
  app->roles = roles;
  pthread_mutex_init(&app->token_lock, NULL);
  rc = prepare_store(app, errbuf, errlen);
  /* msvc-server resolves authors from its own store; only the post
   * service on its own asks the auth services. */
  if (rc == 0 && roles == MSVC_ROLE_POST)
    rc = open_resolver(app, errbuf, errlen);
  if (rc == 0)
    rc = open_service(app, secret, errbuf, errlen);
  explicit_bzero(secret, sizeof(*secret));
  free(secret);
  if (rc == 0)
    rc = open_pools(app, errbuf, errlen);
  /* msvc-post under ES256/RS256 starts without keys when the auth services
   * are down: the fetcher keeps trying, and serving starts anyway. */
  if (rc == 0 && roles == MSVC_ROLE_POST && msvc_keys_asymmetric(cfg) &&
      msvc_jwks_fetcher_start(cfg, name, app->svc, &app->jwks) != 0) {
    set_err(errbuf, errlen, "%s", "cannot start the key fetcher", 0);
    rc = MSVC_ENOMEM;
  }
  if (rc != 0) {
    msvc_app_close(app);
    return rc;
  }
  app->store_local = msvc_store_reads_are_local(msvc_get_store(app->svc));
  log_startup(app);
  warn_wide_database(app);
  *out = app;
  return 0;
}

void msvc_app_stop_pools(msvc_app_t *app) {
  msvc_pool_free(app->hash_pool);
  msvc_pool_free(app->io_pool);
  app->hash_pool = app->io_pool = NULL;
}

void msvc_app_refresh_keys(msvc_app_t *app) {
  msvc_jwks_fetcher_refresh(app->jwks);
}

void msvc_app_close(msvc_app_t *app) {
  if (app == NULL)
    return;
  msvc_app_stop_pools(app);
  msvc_jwks_fetcher_stop(app->jwks); /* it uses the handle */
  app->jwks = NULL;
  msvc_close(app->svc);
  msvc_resolver_free(app->resolver);
  msvc_free(app->service_token);
  pthread_mutex_destroy(&app->token_lock);
  free(app);
}
