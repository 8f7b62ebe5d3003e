/* main_auth.c - msvc-auth: accounts, tokens and user lookups. */
#include "cli.h"

int main(int argc, char **argv) {
  static const msvc_cli_spec_t spec = {"msvc-auth", MSVC_ROLE_AUTH,
                                       msvc_routes_add_auth};
  return msvc_cli_main(&spec, argc, argv);
}
