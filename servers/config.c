/* config.c - settings of the executables from defaults, environment and
 * flags, and the --help text, all read from one constant table.
 *
 * Invariants: every setting is one row of `settings`, so a flag cannot be
 * parsed without also being documented, validated and defaulted; every
 * string in a msvc_config_t is a heap copy owned by it (the JWT secret is
 * wiped before it is freed); a set secret's value never reaches errbuf or
 * the usage text.  Defaults fill every field whatever the role, so the
 * struct is always complete; a role only limits which flags are accepted
 * and listed.  Environment variables a role does not use are ignored
 * rather than refused, because deployments share one environment between
 * services (the seed's .env sets AUTH_MICRO_URL for everybody).  Every role
 * takes the password settings: each service opens the library with them,
 * which hashes a dummy password at start-up.  A *_FILE setting
 * (JWT_SECRET_FILE, SERVICE_SECRET_FILE, DATABASE_URL_FILE) is read while
 * loading into the setting it names, so that no secret has to be in argv
 * or the environment; cfg->origin says where every value came from, for
 * the warnings and the startup log.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "internal.h"
#include "proxies.h"

typedef enum setting_type { T_INT, T_LONG, T_STRING, T_BOOL } setting_type_t;

/* Which executables use a setting: the `uses` column. */
enum {
  USE_SERVER = 1u << 0, /* msvc-server, MSVC_ROLE_ALL */
  USE_AUTH = 1u << 1,   /* msvc-auth */
  USE_POST = 1u << 2,   /* msvc-post on its own */
  USE_ACCOUNTS = USE_SERVER | USE_AUTH,
  USE_ANY = USE_SERVER | USE_AUTH | USE_POST
};

/* Defaults that depend on the machine or the role. */
typedef enum dynamic_default {
  DYN_NONE,
  DYN_PORT,   /* 3001 for msvc-post, else 3000 */
  DYN_CPUS,   /* online CPUs, at most `max` */
  DYN_WORKERS /* online CPUs, at least 2 */
} dynamic_default_t;

typedef struct setting {
  const char *flag; /* without the leading "--" */
  const char *env;
  const char *metavar;
  setting_type_t type;
  size_t offset; /* of the field in msvc_config_t */
  long def_num;
  const char *def_str;
  dynamic_default_t dyn;
  const char *def_text;       /* shown instead of the default, when set */
  long min, max;              /* numbers only */
  const char *const *choices; /* strings only; NULL-terminated */
  unsigned uses;
  int secret; /* SECRET_*: never echo the value */
  const char *help;
  /* A *_FILE setting: the flag of the setting its file's content fills. */
  const char *file_of;
} setting_t;

/* The `secret` column. */
enum {
  SECRET_NONE = 0,
  SECRET_VALUE = 1, /* the value is a secret: wiped, never shown */
  SECRET_IN_URL = 2 /* a URL that may carry a password */
};

/* The largest file a *_FILE setting reads. */
#define SETTING_FILE_MAX 65536

static const char *const log_formats[] = {"text", "json", NULL};
static const char *const password_schemes[] = {"bcrypt", "yescrypt", NULL};
static const char *const resolver_strategies[] = {"individual", "batch",
                                                  "cached", NULL};
static const char *const jwt_algorithms[] = {"HS256", "ES256", "RS256", NULL};
static const char *const sqlite_syncs[] = {"full", "normal", NULL};

#define FIELD(name) offsetof(msvc_config_t, name)

/* Packed by hand: one designated initializer per field would bury the
 * table. */
/* clang-format off */
static const setting_t settings[] = {
    {.flag = "host", .env = "HOST", .metavar = "ADDR", .type = T_STRING,
     .offset = FIELD(host), .def_str = "127.0.0.1", .uses = USE_ANY,
     .help = "address to listen on"},
    {.flag = "port", .env = "PORT", .metavar = "N", .type = T_INT,
     .offset = FIELD(port), .dyn = DYN_PORT, .min = 1, .max = 65535,
     .uses = USE_ANY, .help = "TCP port to listen on"},
    {.flag = "database-url", .env = "DATABASE_URL", .metavar = "URL",
     .type = T_STRING, .offset = FIELD(database_url),
     .def_str = "sqlite:./data/msvc.db", .uses = USE_ANY,
     .secret = SECRET_IN_URL,
     .help = "sqlite:PATH or a plain path selects SQLite; mongodb://... or "
             "mongodb+srv://... selects MongoDB"},
    {.flag = "database-url-file", .env = "DATABASE_URL_FILE",
     .metavar = "FILE", .type = T_STRING, .offset = FIELD(database_url_file),
     .def_text = "(none)", .uses = USE_ANY, .file_of = "database-url",
     .help = "read DATABASE_URL from this file (trailing white space "
             "dropped), so that a password in it shows in no process list "
             "or environment"},
    {.flag = "sqlite-synchronous", .env = "SQLITE_SYNCHRONOUS",
     .metavar = "full|normal", .type = T_STRING,
     .offset = FIELD(sqlite_synchronous), .def_str = "full",
     .choices = sqlite_syncs, .uses = USE_ANY,
     .help = "SQLite only: full fsyncs every commit, so a 2xx on a write "
             "survives power loss; normal does not (faster writes; a crash "
             "of the process still loses nothing, one of the machine may "
             "lose the last writes, never corrupt the file).  Given, it "
             "wins over a ?synchronous= in DATABASE_URL"},
    {.flag = "drain-timeout", .env = "DRAIN_TIMEOUT", .metavar = "SECONDS",
     .type = T_INT, .offset = FIELD(drain_timeout), .def_num = 10, .min = 1,
     .max = 3600, .uses = USE_ANY,
     .help = "on SIGTERM, how long requests in flight may take to finish; "
             "past it the process exits 1 within one more second plus one "
             "password hash, dropping jobs not yet started"},
    {.flag = "jwt-secret", .env = "JWT_SECRET", .metavar = "SECRET",
     .type = T_STRING, .offset = FIELD(jwt_secret),
     .def_text = "(generated, kept in DATA_DIR/jwt-secret)", .uses = USE_ANY,
     .secret = 1,
     .help = "HS256 signing secret, the same for every service; under "
             "ES256/RS256 only the default of SERVICE_SECRET.  On the "
             "command line it is visible to every user (ps): prefer "
             "JWT_SECRET_FILE"},
    {.flag = "jwt-secret-file", .env = "JWT_SECRET_FILE", .metavar = "FILE",
     .type = T_STRING, .offset = FIELD(jwt_secret_file), .def_text = "(none)",
     .uses = USE_ANY, .file_of = "jwt-secret",
     .help = "read JWT_SECRET from this file (trailing white space "
             "dropped), so that it shows in no process list or environment"},
    {.flag = "require-strong-secret", .env = "REQUIRE_STRONG_SECRET",
     .metavar = "[BOOL]", .type = T_BOOL,
     .offset = FIELD(require_strong_secret), .def_num = 0, .uses = USE_ANY,
     .help = "refuse to start with a JWT or service secret shorter than 32 "
             "bytes (RFC 7518 asks for 256 bits with HS256); without it "
             "such a secret only gets a warning"},
    {.flag = "data-dir", .env = "DATA_DIR", .metavar = "DIR",
     .type = T_STRING, .offset = FIELD(data_dir), .def_str = "./data",
     .uses = USE_ANY,
     .help = "directory for the generated JWT secret and signing key"},
    {.flag = "token-ttl", .env = "TOKEN_TTL", .metavar = "SECONDS",
     .type = T_LONG, .offset = FIELD(token_ttl), .def_num = 3600, .min = 1,
     .max = 10L * 366 * 86400, .uses = USE_ANY,
     .help = "lifetime of the access tokens this process issues; also how "
             "long msvc-post accepts a token whose session has ended"},
    {.flag = "threads", .env = "THREADS", .metavar = "N", .type = T_INT,
     .offset = FIELD(threads), .dyn = DYN_CPUS, .min = 1, .max = 64,
     .uses = USE_ANY, .help = "event-loop threads"},
    {.flag = "workers", .env = "WORKERS", .metavar = "N", .type = T_INT,
     .offset = FIELD(workers), .dyn = DYN_WORKERS, .min = 1, .max = 256,
     .uses = USE_ANY,
     .help = "threads for password hashing; twice as many make storage calls"},
    {.flag = "queue-size", .env = "QUEUE_SIZE", .metavar = "N", .type = T_INT,
     .offset = FIELD(queue_size), .def_num = 256, .min = 1, .max = 65536,
     .uses = USE_ANY, .help = "jobs waiting per worker pool before 503"},
    {.flag = "max-body", .env = "MAX_BODY", .metavar = "BYTES",
     .type = T_LONG, .offset = FIELD(max_body), .def_num = 65536,
     .min = 1024, .max = 16L << 20, .uses = USE_ANY,
     .help = "largest request body accepted; larger ones get 413"},
    {.flag = "password-scheme", .env = "PASSWORD_SCHEME", .metavar = "NAME",
     .type = T_STRING, .offset = FIELD(password_scheme), .def_str = "bcrypt",
     .choices = password_schemes, .uses = USE_ANY,
     .help = "hash scheme for new passwords"},
    {.flag = "password-cost", .env = "PASSWORD_COST", .metavar = "N",
     .type = T_INT, .offset = FIELD(password_cost), .def_num = 0, .min = 0,
     .max = 31, .def_text = "0 (the scheme's: bcrypt 10, yescrypt 5)",
     .uses = USE_ANY,
     .help = "hash cost, 0 for the scheme's own default; bcrypt takes 4 to "
             "31, yescrypt 1 to 11 (its cost is no bcrypt cost: each step "
             "doubles the memory a hash takes)"},
    {.flag = "login-max-failures", .env = "LOGIN_MAX_FAILURES", .metavar = "N",
     .type = T_INT, .offset = FIELD(login_max_failures), .def_num = 5,
     .min = 0, .max = 1000, .uses = USE_ACCOUNTS,
     .help = "failed logins on one account from one client address (in "
             "--login-window) before that client waits --login-lockout "
             "before each further try on it; 0 turns the login throttle off"},
    {.flag = "login-lockout", .env = "LOGIN_LOCKOUT", .metavar = "SECONDS",
     .type = T_INT, .offset = FIELD(login_lockout), .def_num = 60, .min = 1,
     .max = 86400, .uses = USE_ACCOUNTS,
     .help = "how long a client over a login limit waits"},
    {.flag = "login-window", .env = "LOGIN_WINDOW", .metavar = "SECONDS",
     .type = T_INT, .offset = FIELD(login_window), .def_num = 900, .min = 1,
     .max = 86400, .uses = USE_ACCOUNTS,
     .help = "how long a failed login counts"},
    {.flag = "login-account-max-failures", .env = "LOGIN_ACCOUNT_MAX_FAILURES",
     .metavar = "N", .type = T_INT, .offset = FIELD(login_account_max),
     .def_num = 50, .min = 0, .max = 100000, .uses = USE_ACCOUNTS,
     .help = "failed logins on one account from all addresses, after which "
             "addresses that never logged in to it wait 1, 2, 4 ... seconds "
             "(at most --login-window) after each failure; addresses that "
             "did are not slowed; 0 for never"},
    {.flag = "login-client-max-failures", .env = "LOGIN_CLIENT_MAX_FAILURES",
     .metavar = "N", .type = T_INT, .offset = FIELD(login_client_max),
     .def_num = 100, .min = 0, .max = 100000, .uses = USE_ACCOUNTS,
     .help = "failed logins from one client address on any accounts "
             "(password spraying) before it waits --login-lockout before "
             "each try; 0 for never"},
    {.flag = "store-timeout-ms", .env = "STORE_TIMEOUT_MS", .metavar = "MS",
     .type = T_INT, .offset = FIELD(store_timeout_ms), .def_num = 5000,
     .min = 1, .max = 600000, .uses = USE_ANY,
     .help = "deadline of each storage operation"},
    {.flag = "auth-micro-url", .env = "AUTH_MICRO_URL", .metavar = "URL[,URL]",
     .type = T_STRING, .offset = FIELD(auth_micro_url),
     .def_str = "http://127.0.0.1:3000", .uses = USE_POST,
     .help = "base URLs of the auth services, comma-separated"},
    {.flag = "user-resolver", .env = "USER_RESOLVER", .metavar = "NAME",
     .type = T_STRING, .offset = FIELD(user_resolver), .def_str = "cached",
     .choices = resolver_strategies, .uses = USE_POST,
     .help = "how post authors are fetched from the auth services"},
    {.flag = "cache-size", .env = "CACHE_SIZE", .metavar = "N", .type = T_INT,
     .offset = FIELD(cache_size), .def_num = 10000, .min = 1,
     .max = 10000000, .uses = USE_POST,
     .help = "users kept by the cached resolver"},
    {.flag = "cache-ttl", .env = "CACHE_TTL", .metavar = "SECONDS",
     .type = T_INT, .offset = FIELD(cache_ttl), .def_num = 60, .min = 1,
     .max = 86400, .uses = USE_POST,
     .help = "how long the cached resolver trusts a user"},
    {.flag = "upstream-timeout-ms", .env = "UPSTREAM_TIMEOUT_MS",
     .metavar = "MS", .type = T_INT, .offset = FIELD(upstream_timeout_ms),
     .def_num = 1000, .min = 1, .max = 600000, .uses = USE_POST,
     .help = "deadline of each author lookup, retry included"},
    {.flag = "allow-anonymous-lookups", .env = "ALLOW_ANONYMOUS_LOOKUPS",
     .metavar = "[BOOL]", .type = T_BOOL,
     .offset = FIELD(allow_anonymous_lookups), .def_num = 0,
     .uses = USE_ACCOUNTS,
     .help = "answer getUser/getUsers without a token (for the seed's post "
             "service)"},
    {.flag = "access-log", .env = "ACCESS_LOG", .metavar = "[BOOL]",
     .type = T_BOOL, .offset = FIELD(access_log), .def_num = 1,
     .uses = USE_ANY, .help = "log one line per request to stderr"},
    {.flag = "cors-origins", .env = "CORS_ORIGINS", .metavar = "ORIGIN[,ORIGIN]",
     .type = T_STRING, .offset = FIELD(cors_origins), .def_str = "*",
     .uses = USE_ANY,
     .help = "origins whose pages may call the API from a browser (CORS): "
             "\"*\" for any, or exact origins such as https://app.example.com "
             "(scheme://host[:port]; \"null\" only when listed)"},
    {.flag = "metrics", .env = "METRICS", .metavar = "off|on|PORT",
     .type = T_STRING, .offset = FIELD(metrics), .def_str = "on",
     .uses = USE_ANY,
     .help = "GET /metrics (Prometheus): on the public listener (on), off, "
             "or only on a plain-HTTP listener of its own on PORT of --host"},
    {.flag = "log-format", .env = "LOG_FORMAT", .metavar = "text|json",
     .type = T_STRING, .offset = FIELD(log_format), .def_str = "text",
     .choices = log_formats, .uses = USE_ANY,
     .help = "log lines as text, or as one JSON object per line (the access "
             "log included)"},
    {.flag = "trusted-proxies", .env = "TRUSTED_PROXIES",
     .metavar = "ADDR[/BITS][,...]", .type = T_STRING,
     .offset = FIELD(trusted_proxies), .def_text = "none", .uses = USE_ANY,
     .help = "proxies whose X-Forwarded-For is believed: the client address "
             "(logs, sessions, login throttling) is then the last address "
             "in it not of a trusted proxy"},
    {.flag = "rate-limit", .env = "RATE_LIMIT", .metavar = "PER_SECOND",
     .type = T_INT, .offset = FIELD(rate_limit), .def_num = 0, .min = 0,
     .max = 100000, .uses = USE_ACCOUNTS,
     .help = "requests a second each client address may make to register, "
             "login and token refresh (a token bucket; 429 with Retry-After "
             "past it); 0 for no limit.  Behind a proxy, set "
             "--trusted-proxies first, or every client is the proxy"},
    {.flag = "rate-limit-burst", .env = "RATE_LIMIT_BURST", .metavar = "N",
     .type = T_INT, .offset = FIELD(rate_limit_burst), .def_num = 20,
     .min = 1, .max = 100000, .uses = USE_ACCOUNTS,
     .help = "requests a client address may make at once under --rate-limit"},
    {.flag = "rate-limit-shared", .env = "RATE_LIMIT_SHARED",
     .metavar = "[BOOL]", .type = T_BOOL, .offset = FIELD(rate_limit_shared),
     .def_num = 0, .uses = USE_ACCOUNTS,
     .help = "count --rate-limit in the store, shared by every instance on "
             "it (a store write per request) instead of per instance"},
    {.flag = "sessions", .env = "SESSIONS", .metavar = "[BOOL]",
     .type = T_BOOL, .offset = FIELD(sessions), .def_num = 1,
     .uses = USE_ACCOUNTS,
     .help = "logins open sessions with refresh tokens, which logout and "
             "password changes end; off gives the seed's answers and claims"},
    {.flag = "refresh-ttl", .env = "REFRESH_TTL", .metavar = "SECONDS",
     .type = T_LONG, .offset = FIELD(refresh_ttl), .def_num = 2592000,
     .min = 60, .max = 31536000, .uses = USE_ACCOUNTS,
     .help = "lifetime of a refresh token (30 days); each refresh starts "
             "it again"},
    {.flag = "refresh-grace", .env = "REFRESH_GRACE", .metavar = "SECONDS",
     .type = T_INT, .offset = FIELD(refresh_grace), .def_num = 10, .min = 0,
     .max = 300, .uses = USE_ACCOUNTS,
     .help = "how long a just-replaced refresh token still gets the same "
             "successor (concurrent clients); later reuse ends the session"},
    {.flag = "jwt-algorithm", .env = "JWT_ALGORITHM", .metavar = "ALG",
     .type = T_STRING, .offset = FIELD(jwt_algorithm), .def_str = "HS256",
     .choices = jwt_algorithms, .uses = USE_ANY,
     .help = "how access tokens are signed; with ES256/RS256 msvc-post "
             "verifies with the auth services' published keys"},
    {.flag = "jwt-private-key-file", .env = "JWT_PRIVATE_KEY_FILE",
     .metavar = "PEM[,PEM]", .type = T_STRING,
     .offset = FIELD(jwt_private_key_file),
     .def_text = "(generated, DATA_DIR/jwt-<alg>-<date>.pem)",
     .uses = USE_ACCOUNTS,
     .help = "ES256/RS256 private keys, comma-separated; the key id is the "
             "file name without directory and extension; the last signs, "
             "all verify and are published"},
    {.flag = "jwt-public-key-file", .env = "JWT_PUBLIC_KEY_FILE",
     .metavar = "PEM[,PEM]", .type = T_STRING,
     .offset = FIELD(jwt_public_key_file), .def_text = "(none)",
     .uses = USE_ACCOUNTS,
     .help = "ES256/RS256 public keys that only verify (and are published), "
             "named like the private ones"},
    {.flag = "service-secret", .env = "SERVICE_SECRET", .metavar = "SECRET",
     .type = T_STRING, .offset = FIELD(service_secret),
     .def_text = "(the JWT secret)", .uses = USE_ANY, .secret = 1,
     .help = "HS256 key of the tokens msvc-post shows msvc-auth, the same "
             "for both; never signs user tokens"},
    {.flag = "service-secret-file", .env = "SERVICE_SECRET_FILE",
     .metavar = "FILE", .type = T_STRING,
     .offset = FIELD(service_secret_file), .def_text = "(none)",
     .uses = USE_ANY, .file_of = "service-secret",
     .help = "read SERVICE_SECRET from this file (trailing white space "
             "dropped)"},
    {.flag = "jwks-refresh", .env = "JWKS_REFRESH", .metavar = "SECONDS",
     .type = T_INT, .offset = FIELD(jwks_refresh), .def_num = 300, .min = 10,
     .max = 86400, .uses = USE_POST,
     .help = "ES256/RS256: how often msvc-post fetches the auth services' "
             "keys again (also on an unknown key id, at most every 10 s)"},
    {.flag = "tls-cert", .env = "TLS_CERT", .metavar = "PEM",
     .type = T_STRING, .offset = FIELD(tls_cert),
     .def_text = "(none: plain HTTP)", .uses = USE_ANY,
     .help = "serve HTTPS (TLS 1.2+, HTTP/2 and HTTP/1.1 by ALPN) with this "
             "certificate chain; read again on SIGHUP"},
    {.flag = "tls-key", .env = "TLS_KEY", .metavar = "PEM",
     .type = T_STRING, .offset = FIELD(tls_key), .def_text = "(none)",
     .uses = USE_ANY,
     .help = "private key of --tls-cert; read again on SIGHUP"},
    {.flag = "upstream-ca-file", .env = "UPSTREAM_CA_FILE", .metavar = "PEM",
     .type = T_STRING, .offset = FIELD(upstream_ca_file),
     .def_text = "(the system's CAs)", .uses = USE_POST,
     .help = "CA certificates that https:// auth services are checked "
             "against"},
};
/* clang-format on */

_Static_assert(MSVC__ARRAY_SIZE(settings) <= 64,
               "scan_args keeps one bit per setting");
_Static_assert(MSVC__ARRAY_SIZE(settings) <=
                   sizeof(((msvc_config_t *)0)->origin),
               "msvc_config_t keeps one origin per setting");

#undef FIELD

/* ---- roles and defaults -------------------------------------------------- */

static unsigned role_use(unsigned roles) {
  switch (roles) {
  case MSVC_ROLE_ALL:
    return USE_SERVER;
  case MSVC_ROLE_AUTH:
    return USE_AUTH;
  case MSVC_ROLE_POST:
    return USE_POST;
  }
  return 0;
}

static const char *role_program(unsigned roles) {
  switch (roles) {
  case MSVC_ROLE_AUTH:
    return "msvc-auth";
  case MSVC_ROLE_POST:
    return "msvc-post";
  }
  return "msvc-server";
}

static long online_cpus(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? n : 1;
}

static long clamp(long v, long lo, long hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

static long default_number(const setting_t *s, unsigned roles) {
  switch (s->dyn) {
  case DYN_PORT:
    return roles == MSVC_ROLE_POST ? 3001 : 3000;
  case DYN_CPUS:
    return clamp(online_cpus(), s->min, s->max);
  case DYN_WORKERS:
    return clamp(online_cpus(), 2, s->max);
  case DYN_NONE:
    break;
  }
  return s->def_num;
}

static void *field_of(msvc_config_t *cfg, const setting_t *s) {
  return (char *)cfg + s->offset;
}

static void free_string(char **slot, const setting_t *s) {
  if (*slot != NULL && s->secret)
    explicit_bzero(*slot, strlen(*slot));
  free(*slot);
  *slot = NULL;
}

static void store_number(msvc_config_t *cfg, const setting_t *s, long v) {
  if (s->type == T_LONG)
    *(long *)field_of(cfg, s) = v;
  else
    *(int *)field_of(cfg, s) = (int)v;
}

static int store_string(msvc_config_t *cfg, const setting_t *s, const char *v) {
  char **slot = field_of(cfg, s);
  char *copy = msvc__strdup(v);
  if (v != NULL && copy == NULL)
    return MSVC_ENOMEM;
  free_string(slot, s);
  *slot = copy;
  return 0;
}

static int apply_defaults(msvc_config_t *cfg, unsigned roles) {
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(settings); i++) {
    const setting_t *s = &settings[i];
    if (s->type != T_STRING)
      store_number(cfg, s, default_number(s, roles));
    else if (store_string(cfg, s, s->def_str) != 0)
      return MSVC_ENOMEM;
  }
  return 0;
}

/* ---- values -------------------------------------------------------------- */

static int parse_long(const char *v, long *out) {
  char *end;
  if (!isdigit((unsigned char)v[0]) && v[0] != '-' && v[0] != '+')
    return -1;
  errno = 0;
  *out = strtol(v, &end, 10);
  return end == v || *end != '\0' || errno == ERANGE ? -1 : 0;
}

static int parse_bool(const char *v, int *out) {
  static const char *const yes[] = {"1", "true", "yes", "on"};
  static const char *const no[] = {"0", "false", "no", "off"};
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(yes); i++) {
    if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
      *out = strcasecmp(v, yes[i]) == 0;
      return 0;
    }
  }
  return -1;
}

static int is_choice(const setting_t *s, const char *v) {
  for (const char *const *c = s->choices; c && *c; c++)
    if (strcmp(*c, v) == 0)
      return 1;
  return s->choices == NULL;
}

/* "a, b, c" from a setting's choices, for messages and the usage. */
static void join_choices(const setting_t *s, char *buf, size_t n) {
  size_t used = 0;
  buf[0] = '\0';
  for (const char *const *c = s->choices; c && *c && used < n; c++) {
    snprintf(buf + used, n - used, "%s%s", c == s->choices ? "" : ", ", *c);
    used = strlen(buf);
  }
}

/* The set_* functions store one setting from text; `label` names where the
 * text came from ("--port" or "PORT") for the message. */
static int set_bool(msvc_config_t *cfg, const setting_t *s, const char *v,
                    const char *label, char *errbuf, size_t errlen) {
  int b;
  if (parse_bool(v, &b) != 0) {
    msvc__set_error(errbuf, errlen,
                    "%s: \"%.40s\" is not a boolean (1/0, true/false, "
                    "yes/no, on/off)",
                    label, v);
    return MSVC_ECONFIG;
  }
  store_number(cfg, s, b);
  return 0;
}

static int set_number(msvc_config_t *cfg, const setting_t *s, const char *v,
                      const char *label, char *errbuf, size_t errlen) {
  long n;
  if (parse_long(v, &n) != 0 || n < s->min || n > s->max) {
    msvc__set_error(errbuf, errlen,
                    "%s: \"%.40s\" is not a number from %ld to %ld", label, v,
                    s->min, s->max);
    return MSVC_ECONFIG;
  }
  store_number(cfg, s, n);
  return 0;
}

/* Only a choice is ever echoed: free-form strings (the secret among them)
 * have no reason to be refused but emptiness. */
static int set_string(msvc_config_t *cfg, const setting_t *s, const char *v,
                      const char *label, char *errbuf, size_t errlen) {
  char choices[96];
  if (v[0] == '\0') {
    msvc__set_error(errbuf, errlen, "%s must not be empty", label);
    return MSVC_ECONFIG;
  }
  if (!is_choice(s, v)) {
    join_choices(s, choices, sizeof(choices));
    msvc__set_error(errbuf, errlen, "%s: \"%.40s\" is not one of %s", label, v,
                    choices);
    return MSVC_ECONFIG;
  }
  if (store_string(cfg, s, v) != 0)
    return MSVC_ENOMEM;
  return 0;
}

static int set_value(msvc_config_t *cfg, const setting_t *s, const char *v,
                     const char *label, char *errbuf, size_t errlen) {
  switch (s->type) {
  case T_BOOL:
    return set_bool(cfg, s, v, label, errbuf, errlen);
  case T_INT:
  case T_LONG:
    return set_number(cfg, s, v, label, errbuf, errlen);
  case T_STRING:
    break;
  }
  return set_string(cfg, s, v, label, errbuf, errlen);
}

/* ---- the environment ----------------------------------------------------- */

static const char *env_lookup(char **envp, const char *name) {
  size_t len = strlen(name);
  for (; envp != NULL && *envp != NULL; envp++)
    if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
      return *envp + len + 1;
  return NULL;
}

/* Reads the variables of the role's settings, except those in `given`
 * (bit i for settings[i]), which flags set. */
static int apply_env(msvc_config_t *cfg, unsigned roles, char **envp,
                     uint64_t given, char *errbuf, size_t errlen) {
  unsigned use = role_use(roles);
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(settings); i++) {
    const setting_t *s = &settings[i];
    const char *v = env_lookup(envp, s->env);
    int rc;
    if ((s->uses & use) == 0 || (given & UINT64_C(1) << i) != 0 || v == NULL ||
        v[0] == '\0')
      continue;
    rc = set_value(cfg, s, v, s->env, errbuf, errlen);
    if (rc != 0)
      return rc;
    cfg->origin[i] = MSVC_FROM_ENV;
  }
  return 0;
}

/* ---- argv ---------------------------------------------------------------- */

typedef enum arg_kind { ARG_SETTING, ARG_HELP, ARG_VERSION } arg_kind_t;

typedef struct arg {
  arg_kind_t kind;
  const setting_t *setting;
  const char *value; /* NULL: a boolean flag given alone */
  char label[48];    /* "--flag" as typed, for messages */
} arg_t;

static const setting_t *find_flag(const char *name, size_t len) {
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(settings); i++)
    if (strlen(settings[i].flag) == len &&
        memcmp(settings[i].flag, name, len) == 0)
      return &settings[i];
  return NULL;
}

/* The flag's value: after '=', else the next argument, which a boolean
 * takes only when it reads as one ("--access-log 0" and "--access-log"
 * both work).  *i moves past what was used. */
static int take_value(int argc, char **argv, int *i, const char *eq, arg_t *a,
                      char *errbuf, size_t errlen) {
  int ignored;
  if (eq != NULL) {
    a->value = eq + 1;
  } else if (a->setting->type != T_BOOL) {
    if (*i >= argc) {
      msvc__set_error(errbuf, errlen, "%s needs a value: %s %s", a->label,
                      a->label, a->setting->metavar);
      return MSVC_ECONFIG;
    }
    a->value = argv[(*i)++];
  } else if (*i < argc && parse_bool(argv[*i], &ignored) == 0) {
    a->value = argv[(*i)++];
  }
  return 0;
}

/* Reads argv[*i] and its value into a, moving *i past them whether or not
 * they make sense, so that a caller can skip a bad argument. */
static int read_arg(unsigned roles, int argc, char **argv, int *i, arg_t *a,
                    char *errbuf, size_t errlen) {
  const char *arg = argv[(*i)++];
  const char *name = arg + 2, *eq;
  size_t len;
  memset(a, 0, sizeof(*a));
  a->kind = ARG_SETTING;
  if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
    a->kind = ARG_HELP;
    return 0;
  }
  if (strcmp(arg, "--version") == 0) {
    a->kind = ARG_VERSION;
    return 0;
  }
  if (strncmp(arg, "--", 2) != 0) {
    msvc__set_error(errbuf, errlen, "unexpected argument \"%.40s\"", arg);
    return MSVC_ECONFIG;
  }
  eq = strchr(name, '=');
  len = eq != NULL ? (size_t)(eq - name) : strlen(name);
  snprintf(a->label, sizeof(a->label), "--%.*s", (int)(len < 40 ? len : 40),
           name);
  a->setting = find_flag(name, len);
  if (a->setting == NULL) {
    msvc__set_error(errbuf, errlen, "unknown flag %s", a->label);
    return MSVC_ECONFIG;
  }
  if ((a->setting->uses & role_use(roles)) == 0) {
    msvc__set_error(errbuf, errlen, "%s is not a setting of %s", a->label,
                    role_program(roles));
    return MSVC_ECONFIG;
  }
  return take_value(argc, argv, i, eq, a, errbuf, errlen);
}

/* The first pass over argv: --help and --version win over everything else,
 * bad arguments and a bad environment included, and the settings that
 * flags give are noted so that their variables are not even read. */
static int scan_args(unsigned roles, int argc, char **argv, uint64_t *given) {
  arg_t a;
  *given = 0;
  for (int i = 1; i < argc;) {
    if (read_arg(roles, argc, argv, &i, &a, NULL, 0) != 0)
      continue;
    if (a.kind != ARG_SETTING)
      return a.kind == ARG_HELP ? MSVC_CONFIG_HELP : MSVC_CONFIG_VERSION;
    *given |= UINT64_C(1) << (a.setting - settings);
  }
  return 0;
}

static int apply_args(msvc_config_t *cfg, unsigned roles, int argc, char **argv,
                      char *errbuf, size_t errlen) {
  arg_t a;
  for (int i = 1; i < argc;) {
    int rc = read_arg(roles, argc, argv, &i, &a, errbuf, errlen);
    if (rc == 0 && a.kind == ARG_SETTING)
      rc = set_value(cfg, a.setting, a.value ? a.value : "1", a.label, errbuf,
                     errlen);
    if (rc != 0)
      return rc;
    if (a.kind == ARG_SETTING)
      cfg->origin[a.setting - settings] = MSVC_FROM_FLAG;
  }
  return 0;
}

/* ---- *_FILE settings ---------------------------------------------------- */

/* How a setting was named where its value came from: "--flag" or ENV. */
static void label_of(const setting_t *s, int origin, char *buf, size_t n) {
  if (origin == MSVC_FROM_FLAG)
    snprintf(buf, n, "--%s", s->flag);
  else
    snprintf(buf, n, "%s", s->env);
}

/* Reads a setting's file into a NUL-terminated heap string without its
 * trailing white space (an editor's final newline).  The content is
 * never part of a message. */
static int read_setting_file(const char *path, const char *label, char **out,
                             char *errbuf, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  char *buf;
  size_t n = 0;
  int rc = 0;
  *out = NULL;
  if (fd < 0) {
    msvc__set_error(errbuf, errlen, "%s: cannot open %s: %s", label, path,
                    strerror(errno));
    return MSVC_ECONFIG;
  }
  buf = malloc(SETTING_FILE_MAX + 1);
  if (buf == NULL) {
    close(fd);
    return MSVC_ENOMEM;
  }
  for (;;) {
    ssize_t r = read(fd, buf + n, SETTING_FILE_MAX + 1 - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      msvc__set_error(errbuf, errlen, "%s: cannot read %s: %s", label, path,
                      strerror(errno));
      rc = MSVC_ECONFIG;
      break;
    }
    if (r == 0)
      break;
    n += (size_t)r;
    if (n > SETTING_FILE_MAX) {
      msvc__set_error(errbuf, errlen, "%s: %s is larger than %d bytes", label,
                      path, SETTING_FILE_MAX);
      rc = MSVC_ECONFIG;
      break;
    }
  }
  close(fd);
  while (rc == 0 && n > 0 && isspace((unsigned char)buf[n - 1]))
    n--;
  if (rc == 0 && n == 0) {
    msvc__set_error(errbuf, errlen, "%s: %s is empty", label, path);
    rc = MSVC_ECONFIG;
  } else if (rc == 0 && memchr(buf, '\0', n) != NULL) {
    msvc__set_error(errbuf, errlen, "%s: %s holds a NUL byte", label, path);
    rc = MSVC_ECONFIG;
  }
  if (rc != 0) {
    explicit_bzero(buf, n); /* n <= SETTING_FILE_MAX + 1, its size */
    free(buf);
    return rc;
  }
  buf[n] = '\0';
  *out = buf;
  return 0;
}

/* Fills every setting that a *_FILE setting names from its file.  The
 * pair is one setting with two spellings: the one from the stronger source
 * (a flag over a variable) wins, and both from the same source is an
 * error, since nobody could tell which was meant. */
static int apply_files(msvc_config_t *cfg, unsigned roles, char *errbuf,
                       size_t errlen) {
  unsigned use = role_use(roles);
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(settings); i++) {
    const setting_t *s = &settings[i];
    const setting_t *t;
    const char *path;
    char label[48], tlabel[48], *content = NULL;
    size_t ti;
    int rc;
    if (s->file_of == NULL || (s->uses & use) == 0 ||
        (path = *(char **)field_of(cfg, s)) == NULL)
      continue;
    t = find_flag(s->file_of, strlen(s->file_of));
    ti = (size_t)(t - settings);
    label_of(s, cfg->origin[i], label, sizeof(label));
    if (cfg->origin[ti] == cfg->origin[i]) {
      label_of(t, cfg->origin[ti], tlabel, sizeof(tlabel));
      msvc__set_error(errbuf, errlen, "%s and %s are both %s: give one of them",
                      tlabel, label,
                      cfg->origin[i] == MSVC_FROM_FLAG ? "given" : "set");
      return MSVC_ECONFIG;
    }
    if (cfg->origin[ti] > cfg->origin[i]) {
      /* The plain setting came from a stronger source: the file is not
       * read, and the field no longer claims it was. */
      free_string(field_of(cfg, s), s);
      continue;
    }
    rc = read_setting_file(path, label, &content, errbuf, errlen);
    if (rc != 0)
      return rc;
    free_string(field_of(cfg, t), t);
    *(char **)field_of(cfg, t) = content;
    cfg->origin[ti] = MSVC_FROM_FILE;
  }
  return 0;
}

/* ---- loading ------------------------------------------------------------- */

/* The cost's range depends on the scheme, so it is checked once both are
 * known. */
static int check_password_cost(const msvc_config_t *cfg, char *errbuf,
                               size_t errlen) {
  int yescrypt = strcmp(cfg->password_scheme, "yescrypt") == 0;
  int lo = yescrypt ? 1 : 4, hi = yescrypt ? 11 : 31;
  if (cfg->password_cost == 0 ||
      (cfg->password_cost >= lo && cfg->password_cost <= hi))
    return 0;
  msvc__set_error(errbuf, errlen,
                  "--password-cost (PASSWORD_COST): %d is not a %s cost (%d "
                  "to %d, or 0 for the scheme's default)",
                  cfg->password_cost, cfg->password_scheme, lo, hi);
  return MSVC_ECONFIG;
}

/* "off", "on" or a port other than the public one. */
static int check_metrics(msvc_config_t *cfg, char *errbuf, size_t errlen) {
  char *end;
  long port;
  if (strcmp(cfg->metrics, "off") == 0) {
    cfg->metrics_port = -1;
    return 0;
  }
  if (strcmp(cfg->metrics, "on") == 0) {
    cfg->metrics_port = 0;
    return 0;
  }
  errno = 0;
  port = strtol(cfg->metrics, &end, 10);
  if (errno == 0 && end != cfg->metrics && *end == '\0' && port >= 1 &&
      port <= 65535 && port != cfg->port) {
    cfg->metrics_port = (int)port;
    return 0;
  }
  msvc__set_error(errbuf, errlen,
                  "--metrics (METRICS): \"%s\" is not off, on or a port "
                  "(1 to 65535, other than --port)",
                  cfg->metrics);
  return MSVC_ECONFIG;
}

int msvc_config_load(msvc_config_t *cfg, unsigned roles, int argc, char **argv,
                     char **envp, char *errbuf, size_t errlen) {
  uint64_t given;
  int rc;
  if (cfg == NULL)
    return MSVC_EINVAL;
  memset(cfg, 0, sizeof(*cfg));
  msvc__set_error(errbuf, errlen, "%s", "");
  if (role_use(roles) == 0) {
    msvc__set_error(errbuf, errlen, "unknown role %#x", roles);
    return MSVC_ECONFIG;
  }
  /* main() promises argv[argc] == NULL; trust the array over the count. */
  for (int i = 0; i < argc; i++)
    if (argv == NULL || argv[i] == NULL)
      argc = i;
  cfg->roles = roles;
  rc = scan_args(roles, argc, argv, &given);
  if (rc != 0)
    return rc;
  rc = apply_defaults(cfg, roles);
  if (rc == 0)
    rc = apply_env(cfg, roles, envp, given, errbuf, errlen);
  if (rc == 0)
    rc = apply_args(cfg, roles, argc, argv, errbuf, errlen);
  if (rc == 0)
    rc = apply_files(cfg, roles, errbuf, errlen);
  if (rc == 0)
    rc = check_password_cost(cfg, errbuf, errlen);
  if (rc == 0)
    rc = check_metrics(cfg, errbuf, errlen);
  if (rc == 0)
    rc = msvc_proxies_parse(cfg->trusted_proxies, NULL, errbuf, errlen);
  if (rc == MSVC_ENOMEM)
    msvc__set_error(errbuf, errlen, "%s", "out of memory");
  return rc;
}

void msvc_config_clear(msvc_config_t *cfg) {
  if (cfg == NULL)
    return;
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(settings); i++)
    if (settings[i].type == T_STRING)
      free_string(field_of(cfg, &settings[i]), &settings[i]);
  memset(cfg, 0, sizeof(*cfg));
}

msvc_config_origin_t msvc_config_origin(const msvc_config_t *cfg,
                                        const char *flag) {
  const setting_t *s;
  if (cfg == NULL || flag == NULL ||
      (s = find_flag(flag, strlen(flag))) == NULL)
    return MSVC_FROM_DEFAULT;
  return (msvc_config_origin_t)cfg->origin[s - settings];
}

/* ---- warnings ------------------------------------------------------------ */

/* 1 when a URL's authority carries "user:password@". */
static int url_has_password(const char *url) {
  const char *p = url != NULL ? strstr(url, "://") : NULL;
  size_t len;
  const char *at = NULL;
  if (p == NULL)
    return 0;
  p += 3;
  len = strcspn(p, "/?#");
  for (size_t i = 0; i < len; i++)
    if (p[i] == '@')
      at = p + i;
  return at != NULL && memchr(p, ':', (size_t)(at - p)) != NULL;
}

/* The *_FILE setting that fills s, or NULL. */
static const setting_t *file_setting_of(const setting_t *s) {
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(settings); i++)
    if (settings[i].file_of != NULL &&
        strcmp(settings[i].file_of, s->flag) == 0)
      return &settings[i];
  return NULL;
}

void msvc_config_warnings(const msvc_config_t *cfg, const char *program,
                          FILE *out) {
  msvc_config_t *c = (msvc_config_t *)cfg; /* field_of is not const */
  unsigned use;
  if (cfg == NULL || out == NULL)
    return;
  use = role_use(cfg->roles);
  if (program == NULL)
    program = role_program(cfg->roles);
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(settings); i++) {
    const setting_t *s = &settings[i];
    const setting_t *f = file_setting_of(s);
    if ((s->uses & use) == 0)
      continue;
    if (cfg->origin[i] == MSVC_FROM_FLAG &&
        (s->secret == SECRET_VALUE ||
         (s->secret == SECRET_IN_URL &&
          url_has_password(*(char **)field_of(c, s)))))
      fprintf(out,
              "%s: warning: the value of --%s on the command line is "
              "visible to every user of this machine (ps, "
              "/proc/<pid>/cmdline)%s%s%s\n",
              program, s->flag, f ? "; name a file with " : "", f ? f->env : "",
              f ? " instead" : "");
    if (s->file_of != NULL && *(char **)field_of(c, s) != NULL) {
      const char *path = *(char **)field_of(c, s);
      char real[PATH_MAX];
      struct stat st;
      if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
        fprintf(out,
                "%s: warning: %s (%s) is readable by other users (mode "
                "%03o); chmod 600 it\n",
                program, realpath(path, real) != NULL ? real : path, s->env,
                (unsigned)(st.st_mode & 0777));
    }
  }
}

/* ---- usage -------------------------------------------------------------- */

static void default_text(const setting_t *s, unsigned roles, char *buf,
                         size_t n) {
  long v = default_number(s, roles);
  if (s->def_text != NULL)
    snprintf(buf, n, "%s", s->def_text);
  else if (s->type == T_STRING)
    snprintf(buf, n, "%s", s->def_str ? s->def_str : "(none)");
  else if (s->type == T_BOOL)
    snprintf(buf, n, "%s", v ? "on" : "off");
  else if (s->dyn == DYN_CPUS)
    snprintf(buf, n, "%ld (online CPUs)", v);
  else if (s->dyn == DYN_WORKERS)
    snprintf(buf, n, "%ld (online CPUs, at least 2)", v);
  else
    snprintf(buf, n, "%ld", v);
}

/* The accepted values, from the same columns the parser checks. */
static void accepted_text(const setting_t *s, char *buf, size_t n) {
  char choices[96];
  buf[0] = '\0';
  if (s->type == T_INT || s->type == T_LONG) {
    snprintf(buf, n, " (%ld to %ld)", s->min, s->max);
  } else if (s->choices != NULL) {
    join_choices(s, choices, sizeof(choices));
    snprintf(buf, n, " (%s)", choices);
  }
}

static void flag_text(const setting_t *s, char *buf, size_t n) {
  snprintf(buf, n, "--%s %s", s->flag, s->metavar);
}

static void usage_widths(unsigned use, int *flag_w, int *env_w) {
  char buf[96];
  *flag_w = (int)strlen("-h, --help");
  *env_w = (int)strlen("VARIABLE");
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(settings); i++) {
    if ((settings[i].uses & use) == 0)
      continue;
    flag_text(&settings[i], buf, sizeof(buf));
    if ((int)strlen(buf) > *flag_w)
      *flag_w = (int)strlen(buf);
    if ((int)strlen(settings[i].env) > *env_w)
      *env_w = (int)strlen(settings[i].env);
  }
}

/* Prints text after `indent` spaces, broken at spaces before column 80 (a
 * word longer than the line stays whole). */
static void print_wrapped(FILE *out, int indent, const char *text) {
  const size_t width = 79 - (size_t)indent;
  while (*text != '\0') {
    size_t len = strlen(text);
    if (len > width) {
      len = width;
      while (len > 0 && text[len] != ' ')
        len--;
      if (len == 0)
        len = width + strcspn(text + width, " ");
    }
    fprintf(out, "%*s%.*s\n", indent, "", (int)len, text);
    text += len;
    while (*text == ' ')
      text++;
  }
}

static void usage_setting(const setting_t *s, unsigned roles, int flag_w,
                          int env_w, FILE *out) {
  char flag[96], def[96], accepted[128], help[384];
  flag_text(s, flag, sizeof(flag));
  default_text(s, roles, def, sizeof(def));
  accepted_text(s, accepted, sizeof(accepted));
  snprintf(help, sizeof(help), "%s%s", s->help, accepted);
  fprintf(out, "  %-*s  %-*s  %s\n", flag_w, flag, env_w, s->env, def);
  print_wrapped(out, 6, help);
}

void msvc_config_usage(unsigned roles, const char *program, FILE *out) {
  unsigned use;
  int flag_w, env_w;
  if (out == NULL)
    return;
  if (role_use(roles) == 0)
    roles = MSVC_ROLE_ALL;
  use = role_use(roles);
  if (program == NULL)
    program = role_program(roles);
  usage_widths(use, &flag_w, &env_w);
  fprintf(out,
          "Usage: %s [--FLAG VALUE | --FLAG=VALUE]...\n"
          "       %s --help | --version\n\n"
          "Each setting is a flag or an environment variable: flags win over "
          "the\nenvironment, the environment over the defaults, and an empty "
          "variable\ncounts as unset.  A boolean flag alone means on; it also "
          "takes 1/0,\ntrue/false, yes/no or on/off.\n\n",
          program, program);
  fprintf(out, "  %-*s  %-*s  %s\n", flag_w, "FLAG", env_w, "VARIABLE",
          "DEFAULT");
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(settings); i++)
    if (settings[i].uses & use)
      usage_setting(&settings[i], roles, flag_w, env_w, out);
  fprintf(out, "  %-*s  print this text and exit\n", flag_w, "-h, --help");
  fprintf(out, "  %-*s  print the version and exit\n", flag_w, "--version");
}
