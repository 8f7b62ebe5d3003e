/* main_auth.c - msvc-auth: accounts, tokens, sessions, the public keys and
 * user lookups. */
#include "cli.h"

static int add_routes(msvc_http_t *http) {
  int rc = msvc_routes_add_auth(http);
  if (rc == 0)
    rc = msvc_routes_add_sessions(http);
  return rc != 0 ? rc : msvc_routes_add_keys(http);
}

int main(int argc, char **argv) {
  static const msvc_cli_spec_t spec = {"msvc-auth", MSVC_ROLE_AUTH, add_routes};
  return msvc_cli_main(&spec, argc, argv);
}
