/* main_server.c - msvc-server: the auth and post routes in one process,
 * with authors resolved straight from the local store. */
#include "cli.h"

static int add_routes(msvc_http_t *http) {
  int rc = msvc_routes_add_auth(http);
  if (rc == 0)
    rc = msvc_routes_add_sessions(http);
  if (rc == 0)
    rc = msvc_routes_add_keys(http);
  return rc != 0 ? rc : msvc_routes_add_posts(http);
}

int main(int argc, char **argv) {
  static const msvc_cli_spec_t spec = {"msvc-server", MSVC_ROLE_ALL,
                                       add_routes};
  return msvc_cli_main(&spec, argc, argv);
}
