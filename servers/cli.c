/* cli.c - configuration, startup and exit, shared by the executables.
 *
 * Invariants: nothing is started before the configuration is known to be
 * good; signals are blocked before the first thread exists (see
 * msvc_server_prepare_process), so a SIGTERM or SIGINT during start-up
 * stays pending: it is looked for after each step (opening the app, which
 * opens the store and runs the dummy hash, then building the routes) and
 * ends the run there, exit status 0, without serving; "<name>: stopped"
 * is the last line of a run that got as far as serving.  Exit status: 0
 * after a clean stop, 1 when it could not start or when a stop gave up on
 * requests at the drain deadline, 2 for a bad configuration.
 */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cors.h"
#include "log.h"
#include "server.h"

extern char **environ;

#if defined(__SANITIZE_ADDRESS__)
/* LeakSanitizer reads this at start-up.  h2o 2.2.5 keeps freed memory-pool
 * chunks and socket buffers in per-thread caches that it never releases
 * (h2o_mem_alloc_recycle); when a loop thread exits they look leaked.
 * They are h2o's, bounded, and not ours to free. */
const char *__lsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *
__lsan_default_suppressions(void) {
  return "leak:h2o_mem_alloc_recycle\n";
}
#endif

static int load_config(const msvc_cli_spec_t *spec, msvc_config_t *cfg,
                       int argc, char **argv) {
  char err[512] = "";
  int rc =
      msvc_config_load(cfg, spec->roles, argc, argv, environ, err, sizeof(err));
  if (rc == MSVC_CONFIG_HELP) {
    msvc_config_usage(spec->roles, spec->name, stdout);
    return 0;
  }
  if (rc == MSVC_CONFIG_VERSION) {
    printf("%s %s\n", spec->name, msvc_version_string());
    return 0;
  }
  if (rc == 0)
    rc = msvc_cors_new(cfg->cors_origins, NULL, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "%s: %s\n(%s --help lists every setting)\n", spec->name,
            err[0] ? err : msvc_strerror(rc), spec->name);
    return 2;
  }
  return -1; /* go on */
}

/* The configuration's warnings, through the log (so that they are JSON
 * lines under LOG_FORMAT=json). */
static void log_config_warnings(const msvc_config_t *cfg, const char *name) {
  char *text = NULL, *line, *save = NULL;
  size_t len = 0, plen = strlen(name);
  FILE *mem = open_memstream(&text, &len);
  if (mem == NULL)
    return;
  msvc_config_warnings(cfg, name, mem);
  fclose(mem);
  for (line = strtok_r(text, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    if (strncmp(line, name, plen) == 0 && strncmp(line + plen, ": ", 2) == 0)
      line += plen + 2;
    msvc_log(MSVC_LOG_WARN, "%s", line);
  }
  free(text);
}

/* Takes "--print-openapi" out of the arguments; 1 when it was there.
 * Such a run starts as usual up to its routes, prints the OpenAPI
 * document it would serve and exits: 1 when a route is undocumented. */
static int take_print_openapi(int *argc, char **argv) {
  int found = 0, n = 1;
  for (int i = 1; i < *argc; i++) {
    if (strcmp(argv[i], "--print-openapi") == 0)
      found = 1;
    else
      argv[n++] = argv[i];
  }
  *argc = n;
  argv[n] = NULL;
  return found;
}

static int print_openapi(const char *name) {
  const char *undocumented;
  size_t len;
  const char *doc = msvc_routes_openapi(&len, &undocumented);
  fwrite(doc, 1, len, stdout);
  putchar('\n');
  if (undocumented[0] == '\0')
    return 0;
  fprintf(stderr, "%s: routes missing from the OpenAPI document:\n%s", name,
          undocumented);
  return 1;
}

/* 1 (logged) when SIGTERM or SIGINT came during start-up. */
static int stop_requested(const char *step) {
  int sig = msvc_server_stop_pending();
  if (sig == 0)
    return 0;
  msvc_log(MSVC_LOG_INFO, "%s received during start-up (%s): not serving",
           sig == SIGINT ? "SIGINT" : "SIGTERM", step);
  return 1;
}

static int build_http(const msvc_cli_spec_t *spec, msvc_app_t *app,
                      msvc_http_t **http) {
  int rc = msvc_http_new(app, http);
  if (rc == 0)
    rc = msvc_routes_add_service(*http);
  if (rc == 0)
    rc = spec->add_routes(*http);
  if (rc == 0 && app->cfg->metrics_port >= 0)
    rc = msvc_routes_add_metrics(*http);
  if (rc == 0)
    rc = msvc_routes_add_openapi(*http); /* last: it lists the routes */
  return rc;
}

int msvc_cli_main(const msvc_cli_spec_t *spec, int argc, char **argv) {
  msvc_config_t cfg;
  msvc_app_t *app = NULL;
  msvc_http_t *http = NULL;
  char err[512] = "";
  int print = take_print_openapi(&argc, argv);
  int rc = load_config(spec, &cfg, argc, argv);
  if (rc >= 0) {
    msvc_config_clear(&cfg);
    return rc;
  }
  msvc_log_setup(spec->name, strcmp(cfg.log_format, "json") == 0);
  log_config_warnings(&cfg, spec->name);
  msvc_server_prepare_process();
  if (stop_requested("before opening the store")) {
    msvc_config_clear(&cfg);
    return 0;
  }
  rc = msvc_app_open(&cfg, spec->name, spec->roles, &app, err, sizeof(err));
  if (rc != 0) {
    msvc_log(MSVC_LOG_ERROR, "cannot start: %s",
             err[0] ? err : msvc_strerror(rc));
    msvc_config_clear(&cfg);
    return 1;
  }
  if (build_http(spec, app, &http) != 0) {
    msvc_log(MSVC_LOG_ERROR, "cannot start: out of memory");
    rc = 1;
  } else if (!print && stop_requested("after opening the store")) {
    rc = 3; /* nothing served: a clean stop, without "stopped" */
  } else if (print) {
    rc = print_openapi(spec->name);
    msvc_http_free(http);
    msvc_app_close(app);
    msvc_config_clear(&cfg);
    return rc;
  } else {
    rc = msvc_server_run(http, &cfg);
  }
  /* After an unclean stop the loops still point into http: leave it. */
  if (rc != 2)
    msvc_http_free(http);
  msvc_app_close(app);
  if (rc == 0)
    msvc_log(MSVC_LOG_INFO, "stopped");
  else if (rc == 2)
    msvc_log(MSVC_LOG_ERROR, "stopped without finishing every request "
                             "(drain deadline): exit status 1");
  msvc_config_clear(&cfg);
  /* A stop that gave up is a failure for the service manager too. */
  return rc == 1 || rc == 2 ? 1 : 0;
}
