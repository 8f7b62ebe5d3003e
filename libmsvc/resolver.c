/* resolver.c - the resolver wrapper and the local resolver.
 *
 * An msvc_resolver_t is a table and a context, like a store.  The local
 * resolver answers from a store in one users_find_many call per page, then
 * places each found user in the slot of every id that asked for it, so a
 * page of 100 posts by 3 authors costs one query for 3 users.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct msvc_resolver {
  const msvc_resolver_methods_t *methods;
  void *ctx;
};

int msvc_resolver_new(const msvc_resolver_methods_t *methods, void *ctx,
                      msvc_resolver_t **out) {
  msvc_resolver_t *r;
  *out = NULL;
  if (methods == NULL || methods->version != MSVC_RESOLVER_VERSION ||
      methods->resolve == NULL)
    return MSVC_EINVAL;
  r = calloc(1, sizeof(*r));
  if (r == NULL)
    return MSVC_ENOMEM;
  r->methods = methods;
  r->ctx = ctx;
  *out = r;
  return 0;
}

void msvc_resolver_free(msvc_resolver_t *r) {
  if (r == NULL)
    return;
  if (r->methods->destroy != NULL)
    r->methods->destroy(r->ctx);
  free(r);
}

const char *msvc_resolver_name(const msvc_resolver_t *r) {
  return r->methods->name;
}

int msvc_resolver_resolve(msvc_resolver_t *r, const msvc_id_t *ids, size_t n,
                          unsigned flags, const char *request_id,
                          msvc_user_t *out) {
  if (n == 0)
    return 0;
  if (ids == NULL || out == NULL)
    return MSVC_EINVAL;
  return r->methods->resolve(r->ctx, ids, n, flags, request_id, out);
}

int msvc_resolver_ping(msvc_resolver_t *r) {
  return r->methods->ping != NULL ? r->methods->ping(r->ctx) : 0;
}

void msvc_resolver_stats(msvc_resolver_t *r, msvc_resolver_stats_t *out) {
  memset(out, 0, sizeof(*out));
  if (r->methods->stats != NULL)
    r->methods->stats(r->ctx, out);
}

/* ---- the local resolver ---- */

/* Copies each found user into every slot whose id matches it. */
static int place_users(const msvc_id_t *ids, size_t n, msvc_user_t *found,
                       size_t nfound, msvc_user_t *out) {
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < nfound; j++) {
      if (strcasecmp(ids[i].hex, found[j].id) != 0)
        continue;
      if (msvc_user_copy(&out[i], &found[j]) != 0)
        return MSVC_ENOMEM;
      break;
    }
  }
  return 0;
}

static int local_resolve(void *ctx, const msvc_id_t *ids, size_t n,
                         unsigned flags, const char *request_id,
                         msvc_user_t *out) {
  msvc_store_t *store = ctx;
  msvc_user_t *found;
  size_t nfound = 0;
  int rc;
  MSVC__UNUSED(request_id);
  if ((flags & MSVC_RESOLVE_NONBLOCK) && !msvc_store_reads_are_local(store))
    return MSVC_EWOULDBLOCK;
  found = calloc(n, sizeof(*found));
  if (found == NULL)
    return MSVC_ENOMEM;
  rc = msvc_store_users_find_many(store, ids, n, found, &nfound);
  if (rc == 0)
    rc = place_users(ids, n, found, nfound, out);
  msvc_users_free(found, nfound);
  if (rc == 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    msvc_user_clear(&out[i]);
  return rc == MSVC_ENOMEM ? rc : MSVC_EUNAVAIL;
}

static int local_ping(void *ctx) { return msvc_store_ping(ctx); }

static const msvc_resolver_methods_t local_methods = {
    .version = MSVC_RESOLVER_VERSION,
    .name = "local",
    .resolve = local_resolve,
    .ping = local_ping,
    .stats = NULL,
    .destroy = NULL,
};

int msvc_resolver_local_new(msvc_store_t *store, msvc_resolver_t **out) {
  if (store == NULL)
    return MSVC_EINVAL;
  return msvc_resolver_new(&local_methods, store, out);
}
