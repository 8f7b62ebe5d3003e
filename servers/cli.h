/* cli.h - the common main() of the msvc executables.
 *
 * An executable is a name, a role and the route groups it serves; this
 * turns that into a process: configuration (flags, environment, --help,
 * --version, errors with exit status 2), the app, the HTTP layer, the
 * server, and an orderly exit.
 */
#ifndef MSVC_SERVER_CLI_H
#define MSVC_SERVER_CLI_H

#include "routes.h"

typedef struct msvc_cli_spec {
  const char *name; /* "msvc-server" */
  unsigned roles;   /* MSVC_ROLE_* for msvc_config_load */
  /* Adds the role's route groups (the service group is always added). */
  int (*add_routes)(msvc_http_t *http);
} msvc_cli_spec_t;

/* Runs the executable; returns its exit status: 0 after a clean stop, 1
 * when it could not start, 2 for a configuration error. */
int msvc_cli_main(const msvc_cli_spec_t *spec, int argc, char **argv);

#endif
