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
 * which hashes a dummy password at start-up.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "internal.h"

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
  int secret; /* never echo the value */
  const char *help;
} setting_t;

static const char *const password_schemes[] = {"bcrypt", "yescrypt", NULL};
static const char *const resolver_strategies[] = {"individual", "batch",
                                                  "cached", NULL};

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
     .help = "sqlite:PATH or a plain path selects SQLite; mongodb://... or "
             "mongodb+srv://... selects MongoDB"},
    {.flag = "jwt-secret", .env = "JWT_SECRET", .metavar = "SECRET",
     .type = T_STRING, .offset = FIELD(jwt_secret),
     .def_text = "(generated, kept in DATA_DIR/jwt-secret)", .uses = USE_ANY,
     .secret = 1,
     .help = "HS256 signing secret, the same for every service"},
    {.flag = "data-dir", .env = "DATA_DIR", .metavar = "DIR",
     .type = T_STRING, .offset = FIELD(data_dir), .def_str = "./data",
     .uses = USE_ANY, .help = "directory for the generated JWT secret"},
    {.flag = "token-ttl", .env = "TOKEN_TTL", .metavar = "SECONDS",
     .type = T_LONG, .offset = FIELD(token_ttl), .def_num = 3600, .min = 1,
     .max = 10L * 366 * 86400, .uses = USE_ANY,
     .help = "lifetime of the tokens this process issues"},
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
     .type = T_INT, .offset = FIELD(password_cost), .def_num = 10, .min = 0,
     .max = 31, .uses = USE_ANY,
     .help = "hash cost, 0 for the scheme's default; bcrypt takes 4 to 31, "
             "yescrypt 1 to 11"},
    {.flag = "login-max-failures", .env = "LOGIN_MAX_FAILURES", .metavar = "N",
     .type = T_INT, .offset = FIELD(login_max_failures), .def_num = 5,
     .min = 0, .max = 1000, .uses = USE_ACCOUNTS,
     .help = "failed logins for one email before it is locked, 0 for never"},
    {.flag = "login-lockout", .env = "LOGIN_LOCKOUT", .metavar = "SECONDS",
     .type = T_INT, .offset = FIELD(login_lockout), .def_num = 60, .min = 1,
     .max = 86400, .uses = USE_ACCOUNTS,
     .help = "how long a locked email is refused"},
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
};
/* clang-format on */

_Static_assert(MSVC__ARRAY_SIZE(settings) <= 64,
               "scan_args keeps one bit per setting");

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
    rc = check_password_cost(cfg, errbuf, errlen);
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
