/* config.h - settings of the msvc executables, from flags, environment
 * variables and defaults, in that order of precedence.
 *
 * This is the servers' business, not the library's: it is compiled into
 * the servers' static library and exported from nothing.  Each setting has
 * one row in a table (flag, environment variable, default, help text,
 * which roles use it), so that parsing, validation and --help are derived
 * from the same place and cannot disagree.  The seed's variables keep
 * their meaning: PORT, DATABASE_URL, JWT_SECRET, AUTH_MICRO_URL.
 */
#ifndef MSVC_SERVER_CONFIG_H
#define MSVC_SERVER_CONFIG_H

#include <stdio.h>

#include "msvc/common.h"

/* Which executable is reading the configuration. */
enum {
  MSVC_ROLE_AUTH = 1u << 0,                       /* msvc-auth */
  MSVC_ROLE_POST = 1u << 1,                       /* msvc-post */
  MSVC_ROLE_ALL = MSVC_ROLE_AUTH | MSVC_ROLE_POST /* msvc-server */
};

typedef struct msvc_config {
  unsigned roles;
  char *host;         /* --host HOST (127.0.0.1) */
  int port;           /* --port PORT (3000 server/auth, 3001 post) */
  char *database_url; /* --database-url DATABASE_URL (sqlite:./data/msvc.db) */
  char *jwt_secret;   /* --jwt-secret JWT_SECRET (NULL: generated) */
  char *data_dir;     /* --data-dir DATA_DIR (./data) */
  long token_ttl;     /* --token-ttl TOKEN_TTL (3600) seconds */
  int threads;        /* --threads THREADS (number of cores) */
  int workers;        /* --workers WORKERS (cores, >= 2) */
  int queue_size;     /* --queue-size QUEUE_SIZE (256) jobs before 503 */
  long max_body;      /* --max-body MAX_BODY (65536) bytes */
  char *
      password_scheme; /* --password-scheme PASSWORD_SCHEME (bcrypt|yescrypt) */
  int password_cost;   /* --password-cost PASSWORD_COST (0: the scheme's
                          default, 10 for bcrypt, libxcrypt's for yescrypt) */
  int login_max_failures;      /* --login-max-failures (5) */
  int login_lockout;           /* --login-lockout (60) seconds */
  int login_window;            /* --login-window (900) seconds */
  int login_account_max;       /* --login-account-max-failures (50) */
  int login_client_max;        /* --login-client-max-failures (100) */
  int store_timeout_ms;        /* --store-timeout-ms (5000) */
  char *auth_micro_url;        /* --auth-micro-url AUTH_MICRO_URL (post role) */
  char *user_resolver;         /* --user-resolver USER_RESOLVER (cached) */
  int cache_size;              /* --cache-size CACHE_SIZE (10000) */
  int cache_ttl;               /* --cache-ttl CACHE_TTL (60) seconds */
  int upstream_timeout_ms;     /* --upstream-timeout-ms (1000) */
  int allow_anonymous_lookups; /* --allow-anonymous-lookups
                                  ALLOW_ANONYMOUS_LOOKUPS (0) */
  int access_log;              /* --access-log ACCESS_LOG (1) */
  char *cors_origins;          /* --cors-origins CORS_ORIGINS (*) */
  /* Sessions and signing keys (issue 9). */
  int sessions;               /* --sessions SESSIONS (1) */
  long refresh_ttl;           /* --refresh-ttl REFRESH_TTL (2592000) s */
  int refresh_grace;          /* --refresh-grace REFRESH_GRACE (10) s */
  char *jwt_algorithm;        /* --jwt-algorithm JWT_ALGORITHM (HS256) */
  char *jwt_private_key_file; /* --jwt-private-key-file (generated) */
  char *jwt_public_key_file;  /* --jwt-public-key-file (none) */
  char *service_secret;       /* --service-secret SERVICE_SECRET (JWT's) */
  char *service_secret_file;  /* --service-secret-file SERVICE_SECRET_FILE */
  int jwks_refresh;           /* --jwks-refresh JWKS_REFRESH (300) s, post */
  /* TLS on the listener, and towards the auth services (issue 10). */
  char *tls_cert;         /* --tls-cert TLS_CERT (none: plain HTTP) */
  char *tls_key;          /* --tls-key TLS_KEY */
  char *upstream_ca_file; /* --upstream-ca-file UPSTREAM_CA_FILE, post */
  /* Secrets from files (issue 10): a *_FILE setting fills its plain
   * setting with the file's content (trailing white space dropped). */
  char *jwt_secret_file;     /* --jwt-secret-file JWT_SECRET_FILE */
  char *database_url_file;   /* --database-url-file DATABASE_URL_FILE */
  int require_strong_secret; /* --require-strong-secret (0) */
  /* Operations (issue 10). */
  char *metrics;         /* --metrics METRICS (on): off, on or a PORT */
  int metrics_port;      /* from it: -1 off, 0 on the public listener, or
                            the port of a listener of its own */
  char *log_format;      /* --log-format LOG_FORMAT (text|json) */
  char *trusted_proxies; /* --trusted-proxies TRUSTED_PROXIES (none) */
  int rate_limit;        /* --rate-limit RATE_LIMIT (0: off) per second */
  int rate_limit_burst;  /* --rate-limit-burst RATE_LIMIT_BURST (20) */
  int rate_limit_shared; /* --rate-limit-shared RATE_LIMIT_SHARED (0) */
  /* Durability and shutdown (issue 11). */
  char *sqlite_synchronous; /* --sqlite-synchronous (full|normal) */
  int drain_timeout;        /* --drain-timeout DRAIN_TIMEOUT (10) s */
  /* Where each setting came from (MSVC_FROM_*), one byte per row of
   * config.c's table: read it with msvc_config_origin. */
  unsigned char origin[64];
} msvc_config_t;

/* Where a setting's value came from. */
typedef enum msvc_config_origin {
  MSVC_FROM_DEFAULT = 0,
  MSVC_FROM_ENV,  /* its environment variable */
  MSVC_FROM_FLAG, /* the command line */
  MSVC_FROM_FILE  /* the file its *_FILE setting names */
} msvc_config_origin_t;

/* Outcomes of msvc_config_load besides 0 and MSVC_ECONFIG. */
#define MSVC_CONFIG_HELP 1    /* --help was given */
#define MSVC_CONFIG_VERSION 2 /* --version was given */

/* Fills defaults for `roles`, then the environment (envp, NULL-terminated
 * "NAME=value" strings; NULL for none), then argv (flags as "--name value"
 * or "--name=value").  Returns 0, MSVC_CONFIG_HELP, MSVC_CONFIG_VERSION or
 * MSVC_ECONFIG with a readable reason in errbuf.  Release with
 * msvc_config_clear even on failure.
 *
 * argv is main()'s: argv[0], the program name, is skipped.  A boolean flag
 * alone means on, and also takes "=0"/"=1" (or true/false, yes/no, on/off,
 * also as the next argument).  --help and --version win over any error.
 * An empty environment variable counts as unset, and one whose setting a
 * flag gives is not read; variables of settings the role does not use are
 * ignored (deployments share one environment), while such flags are
 * refused.  MSVC_ENOMEM when a copy cannot be made. */
int msvc_config_load(msvc_config_t *cfg, unsigned roles, int argc, char **argv,
                     char **envp, char *errbuf, size_t errlen);
void msvc_config_clear(msvc_config_t *cfg);

/* Where the setting whose flag is `flag` (without "--") got its value;
 * MSVC_FROM_DEFAULT for an unknown flag. */
msvc_config_origin_t msvc_config_origin(const msvc_config_t *cfg,
                                        const char *flag);

/* Writes a "<program>: warning: ..." line to out for every loaded setting
 * that deserves one: a secret given on the command line (visible to every
 * user of the machine in ps and /proc/<pid>/cmdline), a database URL with
 * a password given there, a *_FILE readable by other users. */
void msvc_config_warnings(const msvc_config_t *cfg, const char *program,
                          FILE *out);

/* Writes the usage text for `roles` (every flag, its variable and its
 * default) to out. */
void msvc_config_usage(unsigned roles, const char *program, FILE *out);

#endif /* MSVC_SERVER_CONFIG_H */
