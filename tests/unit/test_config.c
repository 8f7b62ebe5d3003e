/* test_config.c - settings from defaults, environment and flags, and the
 * usage text, per role.
 *
 * The lists of flags below are written out by hand on purpose: they are
 * the contract the executables document, checked against the servers'
 * own table through its only outputs (loading and usage).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "internal.h"
#include "testutil.h"

#define SECRET "s3cr3t-do-not-print-7f2a"
#define FILE_URL "sqlite:/tmp/from-a-file.db"

/* Files the *_FILE settings read, made by main() in a temporary
 * directory: SECRET and FILE_URL, each followed by a newline. */
static char secret_file[256];
static char url_file[256];

typedef struct flag_case {
  const char *flag;
  const char *env;
  const char *value; /* a valid value other than the default */
  unsigned roles;    /* the executables that take it */
} flag_case_t;

#define ANY (1u << 0 | 1u << 1 | 1u << 2)
#define ACCOUNTS (1u << 0 | 1u << 1) /* msvc-server, msvc-auth */
#define POST_ONLY (1u << 2)          /* msvc-post */

static const flag_case_t flags[] = {
    {"host", "HOST", "0.0.0.0", ANY},
    {"port", "PORT", "8080", ANY},
    {"database-url", "DATABASE_URL", "mongodb://db:27017/x", ANY},
    {"jwt-secret", "JWT_SECRET", SECRET, ANY},
    {"data-dir", "DATA_DIR", "/tmp/msvc-data", ANY},
    {"token-ttl", "TOKEN_TTL", "31536000", ANY},
    {"threads", "THREADS", "3", ANY},
    {"workers", "WORKERS", "5", ANY},
    {"queue-size", "QUEUE_SIZE", "17", ANY},
    {"max-body", "MAX_BODY", "2048", ANY},
    {"password-scheme", "PASSWORD_SCHEME", "yescrypt", ANY},
    {"password-cost", "PASSWORD_COST", "5", ANY},
    {"login-max-failures", "LOGIN_MAX_FAILURES", "0", ACCOUNTS},
    {"login-lockout", "LOGIN_LOCKOUT", "600", ACCOUNTS},
    {"store-timeout-ms", "STORE_TIMEOUT_MS", "250", ANY},
    {"auth-micro-url", "AUTH_MICRO_URL", "http://a:1,http://b:2", POST_ONLY},
    {"user-resolver", "USER_RESOLVER", "batch", POST_ONLY},
    {"cache-size", "CACHE_SIZE", "5", POST_ONLY},
    {"cache-ttl", "CACHE_TTL", "7", POST_ONLY},
    {"upstream-timeout-ms", "UPSTREAM_TIMEOUT_MS", "99", POST_ONLY},
    {"allow-anonymous-lookups", "ALLOW_ANONYMOUS_LOOKUPS", "1", ACCOUNTS},
    {"access-log", "ACCESS_LOG", "0", ANY},
    {"cors-origins", "CORS_ORIGINS", "https://a.example,http://127.0.0.1:8080",
     ANY},
    {"sessions", "SESSIONS", "off", ACCOUNTS},
    {"refresh-ttl", "REFRESH_TTL", "86400", ACCOUNTS},
    {"refresh-grace", "REFRESH_GRACE", "0", ACCOUNTS},
    {"jwt-algorithm", "JWT_ALGORITHM", "ES256", ANY},
    {"jwt-private-key-file", "JWT_PRIVATE_KEY_FILE", "/k/a.pem,/k/b.pem",
     ACCOUNTS},
    {"jwt-public-key-file", "JWT_PUBLIC_KEY_FILE", "/k/old.pem", ACCOUNTS},
    {"service-secret", "SERVICE_SECRET", SECRET, ANY},
    {"service-secret-file", "SERVICE_SECRET_FILE", secret_file, ANY},
    {"jwt-secret-file", "JWT_SECRET_FILE", secret_file, ANY},
    {"database-url-file", "DATABASE_URL_FILE", url_file, ANY},
    {"require-strong-secret", "REQUIRE_STRONG_SECRET", "1", ANY},
    {"jwks-refresh", "JWKS_REFRESH", "60", POST_ONLY},
    {"tls-cert", "TLS_CERT", "/etc/msvc/cert.pem", ANY},
    {"tls-key", "TLS_KEY", "/etc/msvc/key.pem", ANY},
    {"upstream-ca-file", "UPSTREAM_CA_FILE", "/etc/msvc/ca.pem", POST_ONLY},
};

static const unsigned roles[] = {MSVC_ROLE_ALL, MSVC_ROLE_AUTH, MSVC_ROLE_POST};
static const char *const programs[] = {"msvc-server", "msvc-auth", "msvc-post"};

/* Loads with argv = {"prog", args...} and the NULL-terminated env list. */
static int load(msvc_config_t *cfg, unsigned role, const char *const *args,
                const char *const *env, char *err, size_t errlen) {
  char *argv[16];
  int argc = 0;
  argv[argc++] = "prog";
  for (; args != NULL && *args != NULL && argc < 15; args++)
    argv[argc++] = (char *)*args;
  argv[argc] = NULL;
  return msvc_config_load(cfg, role, argc, argv, (char **)env, err, errlen);
}

/* Loads expecting MSVC_ECONFIG, and checks the message names `names`. */
static void refused(unsigned role, const char *const *args,
                    const char *const *env, const char *names) {
  msvc_config_t cfg;
  char err[256] = "";
  CHECK_EQ_INT(load(&cfg, role, args, env, err, sizeof(err)), MSVC_ECONFIG);
  if (strstr(err, names) == NULL)
    fprintf(stderr, "message \"%s\" does not name %s\n", err, names);
  CHECK(strstr(err, names) != NULL);
  CHECK(strstr(err, SECRET) == NULL);
  msvc_config_clear(&cfg);
}

static long cpus(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? n : 1;
}

static void test_defaults(void) {
  for (size_t r = 0; r < 3; r++) {
    msvc_config_t cfg;
    char err[256] = "x";
    long want_threads = cpus() < 64 ? cpus() : 64;
    long want_workers = cpus() < 2 ? 2 : cpus() > 256 ? 256 : cpus();
    CHECK_EQ_INT(load(&cfg, roles[r], NULL, NULL, err, sizeof(err)), 0);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_INT(cfg.roles, roles[r]);
    CHECK_EQ_STR(cfg.host, "127.0.0.1");
    CHECK_EQ_INT(cfg.port, roles[r] == MSVC_ROLE_POST ? 3001 : 3000);
    CHECK_EQ_STR(cfg.database_url, "sqlite:./data/msvc.db");
    CHECK(cfg.jwt_secret == NULL);
    CHECK_EQ_STR(cfg.data_dir, "./data");
    CHECK_EQ_INT(cfg.token_ttl, 3600);
    CHECK_EQ_INT(cfg.threads, want_threads);
    CHECK_EQ_INT(cfg.workers, want_workers);
    CHECK_EQ_INT(cfg.queue_size, 256);
    CHECK_EQ_INT(cfg.max_body, 65536);
    CHECK_EQ_STR(cfg.password_scheme, "bcrypt");
    CHECK_EQ_INT(cfg.password_cost, 0); /* each scheme's own default */
    CHECK_EQ_INT(cfg.login_max_failures, 5);
    CHECK_EQ_INT(cfg.login_lockout, 60);
    CHECK_EQ_INT(cfg.store_timeout_ms, 5000);
    CHECK_EQ_STR(cfg.auth_micro_url, "http://127.0.0.1:3000");
    CHECK_EQ_STR(cfg.user_resolver, "cached");
    CHECK_EQ_INT(cfg.cache_size, 10000);
    CHECK_EQ_INT(cfg.cache_ttl, 60);
    CHECK_EQ_INT(cfg.upstream_timeout_ms, 1000);
    CHECK_EQ_INT(cfg.allow_anonymous_lookups, 0);
    CHECK_EQ_INT(cfg.access_log, 1);
    CHECK_EQ_STR(cfg.cors_origins, "*");
    CHECK_EQ_INT(cfg.sessions, 1);
    CHECK_EQ_INT(cfg.refresh_ttl, 2592000);
    CHECK_EQ_INT(cfg.refresh_grace, 10);
    CHECK_EQ_STR(cfg.jwt_algorithm, "HS256");
    CHECK(cfg.jwt_private_key_file == NULL);
    CHECK(cfg.jwt_public_key_file == NULL);
    CHECK(cfg.service_secret == NULL);
    CHECK(cfg.service_secret_file == NULL);
    CHECK_EQ_INT(cfg.jwks_refresh, 300);
    CHECK(cfg.jwt_secret_file == NULL);
    CHECK(cfg.database_url_file == NULL);
    CHECK_EQ_INT(cfg.require_strong_secret, 0);
    CHECK_EQ_INT(msvc_config_origin(&cfg, "jwt-secret"), MSVC_FROM_DEFAULT);
    CHECK_EQ_INT(msvc_config_origin(&cfg, "database-url"), MSVC_FROM_DEFAULT);
    msvc_config_clear(&cfg);
    CHECK(cfg.host == NULL && cfg.port == 0);
    msvc_config_clear(&cfg); /* twice is harmless */
  }
}

/* Every flag of every role is taken in both forms and from the
 * environment; every flag of another role is refused by name. */
static void test_every_flag(void) {
  for (size_t r = 0; r < 3; r++) {
    unsigned exe = 1u << r;
    for (size_t i = 0; i < MSVC__ARRAY_SIZE(flags); i++) {
      const flag_case_t *f = &flags[i];
      char dashed[64], joined[128], env[128], err[256] = "";
      const char *sep[] = {dashed, f->value, NULL};
      const char *eq[] = {joined, NULL};
      const char *envs[] = {env, NULL};
      msvc_config_t cfg;
      snprintf(dashed, sizeof(dashed), "--%s", f->flag);
      snprintf(joined, sizeof(joined), "--%s=%s", f->flag, f->value);
      snprintf(env, sizeof(env), "%s=%s", f->env, f->value);
      if ((f->roles & exe) == 0) {
        refused(roles[r], sep, NULL, dashed);
        refused(roles[r], eq, NULL, dashed);
        /* A variable the role does not use is ignored. */
        CHECK_EQ_INT(load(&cfg, roles[r], NULL, envs, err, sizeof(err)), 0);
        msvc_config_clear(&cfg);
        continue;
      }
      CHECK_EQ_INT(load(&cfg, roles[r], sep, NULL, err, sizeof(err)), 0);
      msvc_config_clear(&cfg);
      CHECK_EQ_INT(load(&cfg, roles[r], eq, NULL, err, sizeof(err)), 0);
      msvc_config_clear(&cfg);
      CHECK_EQ_INT(load(&cfg, roles[r], NULL, envs, err, sizeof(err)), 0);
      if (err[0] != '\0')
        fprintf(stderr, "%s: %s\n", f->flag, err);
      msvc_config_clear(&cfg);
    }
  }
}

static void test_precedence(void) {
  msvc_config_t cfg;
  char err[256];
  const char *env[] = {"PORT=4000",          "DATABASE_URL=sqlite:/tmp/env.db",
                       "JWT_SECRET=" SECRET, "AUTH_MICRO_URL=http://env:1",
                       "THREADS=2",          "HOST=",
                       "UNRELATED=1",        NULL};
  const char *args[] = {"--port", "5000", "--threads=4", NULL};

  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_POST, NULL, env, err, sizeof(err)), 0);
  CHECK_EQ_INT(cfg.port, 4000);
  CHECK_EQ_STR(cfg.database_url, "sqlite:/tmp/env.db");
  CHECK_EQ_STR(cfg.jwt_secret, SECRET);
  CHECK_EQ_STR(cfg.auth_micro_url, "http://env:1");
  CHECK_EQ_INT(cfg.threads, 2);
  CHECK_EQ_STR(cfg.host, "127.0.0.1"); /* empty counts as unset */
  msvc_config_clear(&cfg);
  CHECK(cfg.jwt_secret == NULL);

  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_POST, args, env, err, sizeof(err)), 0);
  CHECK_EQ_INT(cfg.port, 5000);
  CHECK_EQ_INT(cfg.threads, 4);
  CHECK_EQ_STR(cfg.database_url, "sqlite:/tmp/env.db");
  msvc_config_clear(&cfg);

  /* The last of a repeated flag wins. */
  const char *twice[] = {"--port=1", "--port", "2", NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_AUTH, twice, NULL, err, sizeof(err)), 0);
  CHECK_EQ_INT(cfg.port, 2);
  msvc_config_clear(&cfg);
}

static void test_values_land(void) {
  msvc_config_t cfg;
  char err[256];
  const char *post[] = {"--user-resolver=individual",
                        "--cache-size",
                        "1",
                        "--cache-ttl=86400",
                        "--upstream-timeout-ms",
                        "1",
                        "--max-body=16777216",
                        "--token-ttl",
                        "1",
                        NULL};
  const char *auth[] = {"--password-scheme",
                        "yescrypt",
                        "--password-cost=11",
                        "--login-max-failures",
                        "1000",
                        "--login-lockout=1",
                        "--allow-anonymous-lookups",
                        "--access-log=false",
                        "--max-body",
                        "1024",
                        NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_POST, post, NULL, err, sizeof(err)), 0);
  CHECK_EQ_STR(cfg.user_resolver, "individual");
  CHECK_EQ_INT(cfg.cache_size, 1);
  CHECK_EQ_INT(cfg.cache_ttl, 86400);
  CHECK_EQ_INT(cfg.upstream_timeout_ms, 1);
  CHECK_EQ_INT(cfg.max_body, 16777216);
  CHECK_EQ_INT(cfg.token_ttl, 1);
  msvc_config_clear(&cfg);
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_AUTH, auth, NULL, err, sizeof(err)), 0);
  CHECK_EQ_STR(cfg.password_scheme, "yescrypt");
  CHECK_EQ_INT(cfg.password_cost, 11);
  CHECK_EQ_INT(cfg.login_max_failures, 1000);
  CHECK_EQ_INT(cfg.login_lockout, 1);
  CHECK_EQ_INT(cfg.allow_anonymous_lookups, 1);
  CHECK_EQ_INT(cfg.access_log, 0);
  CHECK_EQ_INT(cfg.max_body, 1024);
  msvc_config_clear(&cfg);
}

/* The session and key settings: values land, bad ones are refused by
 * name, and a service secret is never echoed. */
static void test_session_and_key_settings(void) {
  msvc_config_t cfg;
  char err[256];
  const char *auth[] = {"--sessions=off",
                        "--refresh-ttl",
                        "60",
                        "--refresh-grace=300",
                        "--jwt-algorithm",
                        "RS256",
                        "--jwt-private-key-file=/k/a.pem,/k/b.pem",
                        "--service-secret",
                        SECRET,
                        NULL};
  const char *post[] = {"--jwt-algorithm=ES256", "--jwks-refresh", "10", NULL};
  const char *env[] = {"SESSIONS=0", "REFRESH_GRACE=3", NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_AUTH, auth, NULL, err, sizeof(err)), 0);
  CHECK_EQ_INT(cfg.sessions, 0);
  CHECK_EQ_INT(cfg.refresh_ttl, 60);
  CHECK_EQ_INT(cfg.refresh_grace, 300);
  CHECK_EQ_STR(cfg.jwt_algorithm, "RS256");
  CHECK_EQ_STR(cfg.jwt_private_key_file, "/k/a.pem,/k/b.pem");
  CHECK_EQ_STR(cfg.service_secret, SECRET);
  msvc_config_clear(&cfg);
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_POST, post, NULL, err, sizeof(err)), 0);
  CHECK_EQ_STR(cfg.jwt_algorithm, "ES256");
  CHECK_EQ_INT(cfg.jwks_refresh, 10);
  msvc_config_clear(&cfg);
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_ALL, NULL, env, err, sizeof(err)), 0);
  CHECK_EQ_INT(cfg.sessions, 0);
  CHECK_EQ_INT(cfg.refresh_grace, 3);
  msvc_config_clear(&cfg);
  {
    const char *a[] = {"--jwt-algorithm", "none", NULL};
    const char *b[] = {"--jwt-algorithm=HS512", NULL};
    const char *c[] = {"--refresh-ttl=59", NULL};
    const char *d[] = {"--refresh-grace", "301", NULL};
    const char *e[] = {"--sessions=maybe", NULL};
    const char *f[] = {"--jwks-refresh=5", NULL};
    const char *g[] = {"--sessions", NULL};
    refused(MSVC_ROLE_AUTH, a, NULL, "--jwt-algorithm");
    refused(MSVC_ROLE_ALL, b, NULL, "HS256, ES256, RS256");
    refused(MSVC_ROLE_AUTH, c, NULL, "--refresh-ttl");
    refused(MSVC_ROLE_ALL, d, NULL, "--refresh-grace");
    refused(MSVC_ROLE_ALL, e, NULL, "--sessions");
    refused(MSVC_ROLE_POST, f, NULL, "--jwks-refresh");
    refused(MSVC_ROLE_POST, g, NULL, "--sessions");
  }
}

static void test_booleans(void) {
  static const struct {
    const char *args[4];
    int anon, log, port;
  } cases[] = {
      {{"--allow-anonymous-lookups", NULL}, 1, 1, 3000},
      {{"--allow-anonymous-lookups=1", NULL}, 1, 1, 3000},
      {{"--allow-anonymous-lookups=TRUE", NULL}, 1, 1, 3000},
      {{"--allow-anonymous-lookups=0", NULL}, 0, 1, 3000},
      {{"--access-log=0", NULL}, 0, 0, 3000},
      {{"--access-log", "0", NULL}, 0, 0, 3000},
      {{"--access-log", "off", NULL}, 0, 0, 3000},
      {{"--access-log", "yes", NULL}, 0, 1, 3000},
      /* Alone before another flag: on, and the next flag still counts. */
      {{"--allow-anonymous-lookups", "--port", "9", NULL}, 1, 1, 9},
  };
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(cases); i++) {
    msvc_config_t cfg;
    char err[256] = "";
    CHECK_EQ_INT(
        load(&cfg, MSVC_ROLE_AUTH, cases[i].args, NULL, err, sizeof(err)), 0);
    CHECK_EQ_INT(cfg.allow_anonymous_lookups, cases[i].anon);
    CHECK_EQ_INT(cfg.access_log, cases[i].log);
    CHECK_EQ_INT(cfg.port, cases[i].port);
    msvc_config_clear(&cfg);
  }
  const char *env_on[] = {"ALLOW_ANONYMOUS_LOOKUPS=1", "ACCESS_LOG=false",
                          NULL};
  msvc_config_t cfg;
  char err[256];
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_ALL, NULL, env_on, err, sizeof(err)), 0);
  CHECK_EQ_INT(cfg.allow_anonymous_lookups, 1);
  CHECK_EQ_INT(cfg.access_log, 0);
  msvc_config_clear(&cfg);

  const char *bad[] = {"--access-log=maybe", NULL};
  refused(MSVC_ROLE_AUTH, bad, NULL, "--access-log");
  const char *empty[] = {"--access-log=", NULL};
  refused(MSVC_ROLE_AUTH, empty, NULL, "--access-log");
  /* A word that is no boolean is not swallowed: it is an extra argument. */
  const char *stray[] = {"--access-log", "maybe", NULL};
  refused(MSVC_ROLE_AUTH, stray, NULL, "maybe");
  const char *env_bad[] = {"ACCESS_LOG=2", NULL};
  refused(MSVC_ROLE_AUTH, NULL, env_bad, "ACCESS_LOG");
}

static void test_bad_numbers(void) {
  static const char *const cases[][2] = {
      {"--port", "0"},
      {"--port", "65536"},
      {"--port", "-1"},
      {"--port", "80x"},
      {"--port", "x80"},
      {"--port", " 80"},
      {"--port", "0x50"},
      {"--port", ""},
      {"--port", "99999999999999999999999"},
      {"--threads", "0"},
      {"--threads", "65"},
      {"--workers", "0"},
      {"--workers", "257"},
      {"--max-body", "1023"},
      {"--max-body", "16777217"},
      {"--queue-size", "0"},
      {"--token-ttl", "0"},
      {"--store-timeout-ms", "-5"},
      {"--password-cost", "32"},
      {"--login-lockout", "0"},
      {"--login-max-failures", "1.5"},
  };
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(cases); i++) {
    const char *args[] = {cases[i][0], cases[i][1], NULL};
    refused(MSVC_ROLE_ALL, args, NULL, cases[i][0]);
  }
  const char *post[] = {"--cache-size", "0", NULL};
  refused(MSVC_ROLE_POST, post, NULL, "--cache-size");
  const char *post2[] = {"--upstream-timeout-ms=0", NULL};
  refused(MSVC_ROLE_POST, post2, NULL, "--upstream-timeout-ms");
  /* The same rules for variables, named as such. */
  const char *env_port[] = {"PORT=http", NULL};
  refused(MSVC_ROLE_POST, NULL, env_port, "PORT");
  const char *env_threads[] = {"THREADS=1000", NULL};
  refused(MSVC_ROLE_ALL, NULL, env_threads, "THREADS");
  /* A flag overrides a bad variable: the variable is not even read. */
  msvc_config_t cfg;
  char err[256];
  const char *fix[] = {"--port", "80", NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_ALL, fix, env_port, err, sizeof(err)), 0);
  CHECK_EQ_INT(cfg.port, 80);
  msvc_config_clear(&cfg);
}

static void test_bad_strings(void) {
  const char *scheme[] = {"--password-scheme", "md5", NULL};
  refused(MSVC_ROLE_AUTH, scheme, NULL, "--password-scheme");
  refused(MSVC_ROLE_AUTH, scheme, NULL, "yescrypt"); /* says what is good */
  const char *resolver[] = {"--user-resolver=magic", NULL};
  refused(MSVC_ROLE_POST, resolver, NULL, "--user-resolver");
  const char *env_resolver[] = {"USER_RESOLVER=Batch", NULL};
  refused(MSVC_ROLE_POST, NULL, env_resolver, "USER_RESOLVER");
  const char *empty[] = {"--host=", NULL};
  refused(MSVC_ROLE_POST, empty, NULL, "--host");
  const char *empty_secret[] = {"--jwt-secret", "", NULL};
  refused(MSVC_ROLE_POST, empty_secret, NULL, "--jwt-secret");
  /* The cost's range follows the scheme. */
  const char *cost_yes[] = {"--password-scheme=yescrypt", "--password-cost",
                            "12", NULL};
  refused(MSVC_ROLE_AUTH, cost_yes, NULL, "--password-cost");
  const char *cost_bcrypt[] = {"--password-cost=3", NULL};
  refused(MSVC_ROLE_AUTH, cost_bcrypt, NULL, "--password-cost");
  const char *cost_env[] = {"PASSWORD_COST=3", NULL};
  refused(MSVC_ROLE_ALL, NULL, cost_env, "PASSWORD_COST");
  msvc_config_t cfg;
  char err[256];
  const char *cost_ok[] = {"--password-cost=4", NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_AUTH, cost_ok, NULL, err, sizeof(err)), 0);
  msvc_config_clear(&cfg);
  const char *cost_default[] = {"--password-scheme=yescrypt",
                                "--password-cost=0", NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_AUTH, cost_default, NULL, err, sizeof(err)),
               0);
  CHECK_EQ_INT(cfg.password_cost, 0);
  msvc_config_clear(&cfg);
}

static void write_file(const char *path, const char *data, size_t len,
                       mode_t mode) {
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0 ||
      chmod(path, mode) != 0) {
    perror(path);
    abort();
  }
}

static char *warnings_of(const msvc_config_t *cfg) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (f == NULL)
    abort();
  msvc_config_warnings(cfg, "prog", f);
  fclose(f);
  return text;
}

/* JWT_SECRET_FILE, SERVICE_SECRET_FILE, DATABASE_URL_FILE: the file's
 * content without its final newline fills the plain setting; a flag wins
 * over a variable, two of one kind are refused; a bad file is named, its
 * content never shown. */
static void test_secret_files(void) {
  msvc_config_t cfg;
  char err[256], e1[320], e2[320], e3[320], dir[256], path[320];
  snprintf(e1, sizeof(e1), "JWT_SECRET_FILE=%s", secret_file);
  snprintf(e2, sizeof(e2), "DATABASE_URL_FILE=%s", url_file);
  snprintf(e3, sizeof(e3), "SERVICE_SECRET_FILE=%s", secret_file);
  const char *env[] = {e1, e2, e3, NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_ALL, NULL, env, err, sizeof(err)), 0);
  CHECK_EQ_STR(cfg.jwt_secret, SECRET);
  CHECK_EQ_STR(cfg.service_secret, SECRET);
  CHECK_EQ_STR(cfg.database_url, FILE_URL);
  CHECK_EQ_STR(cfg.jwt_secret_file, secret_file);
  CHECK_EQ_INT(msvc_config_origin(&cfg, "jwt-secret"), MSVC_FROM_FILE);
  CHECK_EQ_INT(msvc_config_origin(&cfg, "service-secret"), MSVC_FROM_FILE);
  CHECK_EQ_INT(msvc_config_origin(&cfg, "database-url"), MSVC_FROM_FILE);
  CHECK_EQ_INT(msvc_config_origin(&cfg, "jwt-secret-file"), MSVC_FROM_ENV);
  CHECK_EQ_INT(msvc_config_origin(&cfg, "no-such-flag"), MSVC_FROM_DEFAULT);
  msvc_config_clear(&cfg);

  /* The flags, in both forms. */
  const char *flags_[] = {"--jwt-secret-file", secret_file, NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_POST, flags_, NULL, err, sizeof(err)), 0);
  CHECK_EQ_STR(cfg.jwt_secret, SECRET);
  msvc_config_clear(&cfg);

  /* A flag wins over a variable, whichever of the pair each is. */
  const char *jwt_env[] = {"JWT_SECRET=from-the-environment", NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_AUTH, flags_, jwt_env, err, sizeof(err)),
               0);
  CHECK_EQ_STR(cfg.jwt_secret, SECRET);
  msvc_config_clear(&cfg);
  const char *plain_flag[] = {"--jwt-secret=from-the-flag", NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_AUTH, plain_flag, env, err, sizeof(err)),
               0);
  CHECK_EQ_STR(cfg.jwt_secret, "from-the-flag");
  CHECK_EQ_INT(msvc_config_origin(&cfg, "jwt-secret"), MSVC_FROM_FLAG);
  CHECK(cfg.jwt_secret_file == NULL); /* not read, not claimed */
  msvc_config_clear(&cfg);

  /* Both of a pair from one source: refused, naming both. */
  const char *both_env[] = {e1, "JWT_SECRET=" SECRET, NULL};
  refused(MSVC_ROLE_ALL, NULL, both_env, "JWT_SECRET and JWT_SECRET_FILE");
  const char *both_flags[] = {"--database-url=sqlite:x.db",
                              "--database-url-file", url_file, NULL};
  refused(MSVC_ROLE_ALL, both_flags, NULL,
          "--database-url and --database-url-file");
  const char *both_svc[] = {e3, "SERVICE_SECRET=x", NULL};
  refused(MSVC_ROLE_POST, NULL, both_svc, "SERVICE_SECRET_FILE");

  /* Bad files: named with the setting, content never echoed. */
  snprintf(dir, sizeof(dir), "%s", secret_file);
  *strrchr(dir, '/') = '\0';
  const char *missing[] = {"--jwt-secret-file=/nonexistent/msvc/secret", NULL};
  refused(MSVC_ROLE_ALL, missing, NULL, "--jwt-secret-file");
  refused(MSVC_ROLE_ALL, missing, NULL, "/nonexistent/msvc/secret");
  snprintf(path, sizeof(path), "%s/empty", dir);
  write_file(path, " \n\n", 3, 0600);
  const char *empty[] = {"--database-url-file", path, NULL};
  refused(MSVC_ROLE_ALL, empty, NULL, "empty");
  snprintf(path, sizeof(path), "%s/nul", dir);
  write_file(path, SECRET "\0x\n", sizeof(SECRET) + 2, 0600);
  refused(MSVC_ROLE_ALL, empty, NULL, "NUL");
  {
    size_t big = 65537;
    char *data = malloc(big);
    memset(data, 'a', big);
    snprintf(path, sizeof(path), "%s/big", dir);
    write_file(path, data, big, 0600);
    free(data);
    refused(MSVC_ROLE_ALL, empty, NULL, "larger");
  }
  const char *a_dir[] = {"--jwt-secret-file", dir, NULL};
  refused(MSVC_ROLE_ALL, a_dir, NULL, "--jwt-secret-file");
  /* Only white space inside a secret survives: the end is trimmed. */
  snprintf(path, sizeof(path), "%s/spaces", dir);
  write_file(path, " a b\t\r\n", 7, 0600);
  const char *spaces[] = {"--jwt-secret-file", path, NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_ALL, spaces, NULL, err, sizeof(err)), 0);
  CHECK_EQ_STR(cfg.jwt_secret, " a b");
  msvc_config_clear(&cfg);
}

/* msvc_config_warnings: secrets on the command line, a password in a
 * database URL there, a secret file others can read. */
static void test_secret_warnings(void) {
  msvc_config_t cfg;
  char err[256], path[300], *text;
  const char *flag[] = {"--jwt-secret", SECRET, "--service-secret=" SECRET,
                        NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_ALL, flag, NULL, err, sizeof(err)), 0);
  text = warnings_of(&cfg);
  CHECK(strstr(text, "prog: warning: the value of --jwt-secret on the "
                     "command line is visible") != NULL);
  CHECK(strstr(text, "JWT_SECRET_FILE") != NULL);
  CHECK(strstr(text, "--service-secret on the command line") != NULL);
  CHECK(strstr(text, SECRET) == NULL);
  free(text);
  msvc_config_clear(&cfg);
  /* The same secrets from the environment or a private file: nothing. */
  const char *env[] = {"JWT_SECRET=" SECRET, NULL};
  const char *file[] = {"--service-secret-file", secret_file, NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_ALL, file, env, err, sizeof(err)), 0);
  text = warnings_of(&cfg);
  CHECK_EQ_STR(text, "");
  free(text);
  msvc_config_clear(&cfg);
  /* A database URL: only when it carries a password. */
  const char *url_pw[] = {"--database-url=mongodb://u:pw@db:27017/x", NULL};
  const char *url_user[] = {"--database-url=mongodb://u@db:27017/x?a=b@c:d",
                            NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_ALL, url_pw, NULL, err, sizeof(err)), 0);
  text = warnings_of(&cfg);
  CHECK(strstr(text, "--database-url on the command line") != NULL);
  CHECK(strstr(text, "DATABASE_URL_FILE") != NULL);
  CHECK(strstr(text, "pw@") == NULL);
  free(text);
  msvc_config_clear(&cfg);
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_ALL, url_user, NULL, err, sizeof(err)), 0);
  text = warnings_of(&cfg);
  CHECK_EQ_STR(text, "");
  free(text);
  msvc_config_clear(&cfg);
  /* A secret file that others may read. */
  snprintf(path, sizeof(path), "%s.open", secret_file);
  write_file(path, SECRET "\n", sizeof(SECRET), 0644);
  const char *open_file[] = {"--jwt-secret-file", path, NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_AUTH, open_file, NULL, err, sizeof(err)),
               0);
  text = warnings_of(&cfg);
  CHECK(strstr(text, "(JWT_SECRET_FILE) is readable by other users") != NULL);
  CHECK(strstr(text, "644") != NULL);
  free(text);
  msvc_config_clear(&cfg);
  unlink(path);
}

static void test_bad_arguments(void) {
  const char *unknown[] = {"--prot", "80", NULL};
  refused(MSVC_ROLE_ALL, unknown, NULL, "--prot");
  const char *unknown_eq[] = {"--colour=blue", NULL};
  refused(MSVC_ROLE_ALL, unknown_eq, NULL, "--colour");
  const char *single[] = {"-p", "80", NULL};
  refused(MSVC_ROLE_ALL, single, NULL, "-p");
  const char *positional[] = {"serve", NULL};
  refused(MSVC_ROLE_ALL, positional, NULL, "serve");
  const char *dashes[] = {"--", NULL};
  refused(MSVC_ROLE_ALL, dashes, NULL, "--");
  const char *missing[] = {"--port", NULL};
  refused(MSVC_ROLE_ALL, missing, NULL, "--port");
  const char *missing_secret[] = {"--host", "h", "--jwt-secret", NULL};
  refused(MSVC_ROLE_ALL, missing_secret, NULL, "--jwt-secret");
  /* A flag of another role, by name. */
  const char *micro[] = {"--auth-micro-url", "http://x:1", NULL};
  refused(MSVC_ROLE_AUTH, micro, NULL, "--auth-micro-url");
  refused(MSVC_ROLE_ALL, micro, NULL, "--auth-micro-url");
  const char *anon[] = {"--allow-anonymous-lookups", NULL};
  refused(MSVC_ROLE_POST, anon, NULL, "--allow-anonymous-lookups");
  /* A bad role. */
  refused(0, NULL, NULL, "role");
  refused(1u << 5, NULL, NULL, "role");
  /* No secret in any message, whatever failed after it was read. */
  const char *after[] = {"--jwt-secret", SECRET, "--port", "x", NULL};
  refused(MSVC_ROLE_ALL, after, NULL, "--port");
  const char *env_secret[] = {"JWT_SECRET=" SECRET, NULL};
  refused(MSVC_ROLE_ALL, after, env_secret, "--port");
  /* A count larger than the array stops at its NULL. */
  char *short_argv[] = {"prog", "--port", NULL, "--bogus", NULL};
  char err[256];
  msvc_config_t c2;
  CHECK_EQ_INT(msvc_config_load(&c2, MSVC_ROLE_ALL, 4, short_argv, NULL, err,
                                sizeof(err)),
               MSVC_ECONFIG);
  CHECK(strstr(err, "--port needs a value") != NULL);
  msvc_config_clear(&c2);
  CHECK_EQ_INT(
      msvc_config_load(&c2, MSVC_ROLE_ALL, 3, NULL, NULL, err, sizeof(err)), 0);
  msvc_config_clear(&c2);
  /* errbuf may be absent. */
  msvc_config_t cfg;
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_ALL, unknown, NULL, NULL, 0), MSVC_ECONFIG);
  msvc_config_clear(&cfg);
}

static void test_help_and_version(void) {
  msvc_config_t cfg;
  char err[256];
  const char *help[] = {"--help", NULL};
  const char *h[] = {"--port", "80", "-h", NULL};
  const char *late[] = {"--nonsense", "--port", "x", "--help", NULL};
  const char *version[] = {"--version", NULL};
  const char *env_bad[] = {"PORT=bad", NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_ALL, help, NULL, err, sizeof(err)),
               MSVC_CONFIG_HELP);
  msvc_config_clear(&cfg);
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_POST, h, NULL, err, sizeof(err)),
               MSVC_CONFIG_HELP);
  msvc_config_clear(&cfg);
  /* Help wins over bad flags and a bad environment. */
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_AUTH, late, env_bad, err, sizeof(err)),
               MSVC_CONFIG_HELP);
  msvc_config_clear(&cfg);
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_AUTH, version, NULL, err, sizeof(err)),
               MSVC_CONFIG_VERSION);
  msvc_config_clear(&cfg);
  /* "--help" as the value of a flag is a value. */
  const char *value[] = {"--data-dir", "--help", NULL};
  CHECK_EQ_INT(load(&cfg, MSVC_ROLE_AUTH, value, NULL, err, sizeof(err)), 0);
  CHECK_EQ_STR(cfg.data_dir, "--help");
  msvc_config_clear(&cfg);
}

static char *usage_of(unsigned role, const char *program) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (f == NULL)
    abort();
  msvc_config_usage(role, program, f);
  fclose(f);
  return text;
}

static int is_help_line(const char *line) {
  return strncmp(line, "      ", 6) == 0 && line[6] != ' ' && line[6] != '\n';
}

/* Joins wrapped help lines in place: a help line (indented by 6) right
 * after another one is its continuation. */
static char *unwrap(char *text) {
  char *w = text;
  int prev_help = 0;
  for (const char *line = text; *line != '\0';) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line + 1) : strlen(line);
    int help = is_help_line(line);
    if (help && prev_help) {
      w[-1] = ' '; /* the previous newline */
      line += 6;
      len -= 6;
    }
    memmove(w, line, len);
    w += len;
    line += len;
    prev_help = help;
  }
  *w = '\0';
  return text;
}

/* The column where `word` starts on the line that starts with `start`, or
 * -1. */
static long column_of(const char *text, const char *start, const char *word) {
  for (const char *line = text; line && *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    if (strncmp(line, start, strlen(start)) == 0) {
      const char *w = strstr(line, word);
      return w != NULL && (size_t)(w - line) < len ? (long)(w - line) : -1;
    }
    line = end ? end + 1 : NULL;
  }
  return -1;
}

static void test_usage(void) {
  setenv("JWT_SECRET", SECRET, 1); /* usage must not read it */
  for (size_t r = 0; r < 3; r++) {
    char *text = usage_of(roles[r], programs[r]);
    char synopsis[64];
    long env_col;
    unsigned exe = 1u << r;
    CHECK(text != NULL);
    if (text == NULL)
      continue;
    snprintf(synopsis, sizeof(synopsis), "Usage: %s ", programs[r]);
    CHECK(strncmp(text, synopsis, strlen(synopsis)) == 0);
    CHECK(strstr(text, SECRET) == NULL);
    CHECK(strstr(text, "(generated, kept in DATA_DIR/jwt-secret)") != NULL);
    CHECK(strstr(text, "--help") != NULL);
    CHECK(strstr(text, "--version") != NULL);
    env_col = column_of(text, "  FLAG", "VARIABLE");
    CHECK(env_col > 0);
    for (size_t i = 0; i < MSVC__ARRAY_SIZE(flags); i++) {
      char start[64];
      snprintf(start, sizeof(start), "  --%s ", flags[i].flag);
      if (flags[i].roles & exe) {
        CHECK_EQ_INT(column_of(text, start, flags[i].env), env_col);
      } else {
        CHECK(strstr(text, start + 2) == NULL);
        CHECK(strstr(text, flags[i].env) == NULL);
      }
    }
    free(text);
  }
  unsetenv("JWT_SECRET");
  /* Defaults as the role sees them, and the accepted values (help lines
   * may be wrapped, so phrases are looked for in unwrapped text). */
  char *post = unwrap(usage_of(MSVC_ROLE_POST, NULL));
  char *server = unwrap(usage_of(MSVC_ROLE_ALL, "./msvc-server"));
  CHECK(strncmp(post, "Usage: msvc-post ", 17) == 0);
  CHECK(strstr(post, "3001") != NULL);
  CHECK(strstr(post, "http://127.0.0.1:3000") != NULL);
  CHECK(strstr(post, "individual, batch, cached") != NULL);
  CHECK(strstr(server, "Usage: ./msvc-server ") == server);
  CHECK(strstr(server, "sqlite:./data/msvc.db") != NULL);
  CHECK(strstr(server, "bcrypt, yescrypt") != NULL);
  CHECK(strstr(server, "1 to 65535") != NULL);
  CHECK(strstr(server, "1024 to 16777216") != NULL);
  CHECK(strstr(server, "HS256, ES256, RS256") != NULL);
  CHECK(strstr(server, "2592000") != NULL);
  CHECK(strstr(server, "(generated, DATA_DIR/jwt-<alg>-<date>.pem)") != NULL);
  CHECK(strstr(post, "JWKS_REFRESH") != NULL);
  free(post);
  free(server);
  msvc_config_usage(MSVC_ROLE_ALL, "x", NULL); /* no stream: nothing */
}

/* The files test_every_flag and test_secret_files read. */
static char tmp_dir[64];

static void make_files(void) {
  snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/msvc-test-config-XXXXXX");
  if (mkdtemp(tmp_dir) == NULL) {
    perror("mkdtemp");
    abort();
  }
  snprintf(secret_file, sizeof(secret_file), "%s/secret", tmp_dir);
  snprintf(url_file, sizeof(url_file), "%s/url", tmp_dir);
  write_file(secret_file, SECRET "\n", sizeof(SECRET), 0600);
  write_file(url_file, FILE_URL "\n", sizeof(FILE_URL), 0600);
}

static void remove_files(void) {
  static const char *const names[] = {"secret", "url", "empty",
                                      "nul",    "big", "spaces"};
  char path[128];
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(names); i++) {
    snprintf(path, sizeof(path), "%s/%s", tmp_dir, names[i]);
    unlink(path);
  }
  rmdir(tmp_dir);
}

int main(void) {
  make_files();
  RUN(test_defaults);
  RUN(test_every_flag);
  RUN(test_precedence);
  RUN(test_values_land);
  RUN(test_session_and_key_settings);
  RUN(test_booleans);
  RUN(test_bad_numbers);
  RUN(test_bad_strings);
  RUN(test_secret_files);
  RUN(test_secret_warnings);
  RUN(test_bad_arguments);
  RUN(test_help_and_version);
  RUN(test_usage);
  remove_files();
  TEST_MAIN_END();
}
