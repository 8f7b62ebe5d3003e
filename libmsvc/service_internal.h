/* service_internal.h - the msvc_t handle shared by service.c, accounts.c
 * and posts.c (internal). */
#ifndef MSVC_SERVICE_INTERNAL_H
#define MSVC_SERVICE_INTERNAL_H

#include "internal.h"
#include "throttle.h"

struct msvc {
  msvc_store_t *store;
  int owns_store;
  msvc_resolver_t *resolver;
  int owns_resolver;
  unsigned char *secret; /* owned copy */
  msvc_token_config_t token;
  msvc_password_config_t password;
  char *password_prefix; /* owned copy of password.prefix */
  char *dummy_hash;      /* checked for unknown emails, same cost */
  msvc__throttle_t *throttle;
  msvc_idgen_t *ids;
};

/* MSVC_EWOULDBLOCK when flags ask for no waiting and the store's reads are
 * not local; else 0. */
int msvc__store_gate(msvc_t *svc, unsigned flags);

#endif
