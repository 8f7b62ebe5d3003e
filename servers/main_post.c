/* main_post.c - msvc-post: posts, with authors resolved by asking the auth
 * services at AUTH_MICRO_URL; user tokens are checked locally (under
 * ES256/RS256 with the keys those services publish). */
#include "cli.h"

int main(int argc, char **argv) {
  static const msvc_cli_spec_t spec = {"msvc-post", MSVC_ROLE_POST,
                                       msvc_routes_add_posts};
  return msvc_cli_main(&spec, argc, argv);
}
