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
  int password_cost;   /* --password-cost PASSWORD_COST (10; 0 = scheme default)
                        */
  int login_max_failures;      /* --login-max-failures (5) */
  int login_lockout;           /* --login-lockout (60) seconds */
  int store_timeout_ms;        /* --store-timeout-ms (5000) */
  char *auth_micro_url;        /* --auth-micro-url AUTH_MICRO_URL (post role) */
  char *user_resolver;         /* --user-resolver USER_RESOLVER (cached) */
  int cache_size;              /* --cache-size CACHE_SIZE (10000) */
  int cache_ttl;               /* --cache-ttl CACHE_TTL (60) seconds */
  int upstream_timeout_ms;     /* --upstream-timeout-ms (1000) */
  int allow_anonymous_lookups; /* --allow-anonymous-lookups
                                  ALLOW_ANONYMOUS_LOOKUPS (0) */
  int access_log;              /* --access-log ACCESS_LOG (1) */
} msvc_config_t;

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

/* Writes the usage text for `roles` (every flag, its variable and its
 * default) to out. */
void msvc_config_usage(unsigned roles, const char *program, FILE *out);

#endif /* MSVC_SERVER_CONFIG_H */
