/* resolver.c - the resolver wrapper and the local resolver.
 *
 * An msvc_resolver_t is a table and a context, like a store.  The wrapper
 * checks arguments and the table's version once, calls optional methods
 * only when present, and hands every resolve() a complete set of zeroed
 * user slots, so resolvers never see a NULL they must guard against.
 *
 * The local resolver answers from a store in one users_find_many call per
 * page, then places each found user in the slot of every id that asked for
 * it, so a page of 100 posts by 3 authors costs one query for 3 users.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

struct msvc_resolver {
  const msvc_resolver_methods_t *methods;
  void *ctx;
};

static int table_ok(const msvc_resolver_methods_t *m) {
  return m != NULL && m->version >= MSVC_RESOLVER_MIN_VERSION &&
         m->version <= MSVC_RESOLVER_VERSION && m->resolve != NULL;
}

int msvc_resolver_new(const msvc_resolver_methods_t *methods, void *ctx,
                      msvc_resolver_t **out) {
  msvc_resolver_t *r;
  if (out == NULL || !table_ok(methods))
    return MSVC_EINVAL;
  *out = NULL;
  r = calloc(1, sizeof(*r));
  if (r == NULL) {
    if (methods->destroy != NULL)
      methods->destroy(ctx);
    return MSVC_ENOMEM;
  }
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
  return r != NULL ? r->methods->name : NULL;
}

int msvc_resolver_resolve(msvc_resolver_t *r, const msvc_call_t *call,
                          const msvc_id_t *ids, size_t n,
                          msvc_user_t *const *out) {
  if (r == NULL || (n > 0 && (ids == NULL || out == NULL)))
    return MSVC_EINVAL;
  if (n == 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (out[i] == NULL)
      return MSVC_EINVAL;
  return r->methods->resolve(r->ctx, call, ids, n, out);
}

int msvc_resolver_ping(msvc_resolver_t *r) {
  if (r == NULL)
    return MSVC_EINVAL;
  return r->methods->ping != NULL ? r->methods->ping(r->ctx)
                                  : MSVC_EUNSUPPORTED;
}

int msvc_resolver_stats(msvc_resolver_t *r, msvc_resolver_stats_t *out) {
  msvc_resolver_stats_t full;
  size_t size;
  if (r == NULL || out == NULL || out->size < sizeof(size_t))
    return MSVC_EINVAL;
  memset(&full, 0, sizeof(full));
  full.size = sizeof(full);
  if (r->methods->stats != NULL)
    r->methods->stats(r->ctx, &full);
  /* Only the fields the caller's header knows. */
  size = out->size < sizeof(full) ? out->size : sizeof(full);
  memcpy((char *)out + sizeof(size_t), (char *)&full + sizeof(size_t),
         size - sizeof(size_t));
  return 0;
}

/* A version-2 table has no endpoint slot: it must not be read. */
int msvc_resolver_endpoint(msvc_resolver_t *r, size_t i,
                           msvc_resolver_endpoint_t *out) {
  msvc_resolver_endpoint_t full;
  size_t size;
  int rc;
  if (r == NULL || out == NULL || out->size < sizeof(size_t))
    return MSVC_EINVAL;
  if (r->methods->version < 3 || r->methods->endpoint == NULL)
    return MSVC_ENOTFOUND;
  memset(&full, 0, sizeof(full));
  full.size = sizeof(full);
  rc = r->methods->endpoint(r->ctx, i, &full);
  if (rc != 0)
    return rc;
  size = out->size < sizeof(full) ? out->size : sizeof(full);
  memcpy((char *)out + sizeof(size_t), (char *)&full + sizeof(size_t),
         size - sizeof(size_t));
  return 0;
}

/* ---- the local resolver ---- */

/* Copies each found user into every slot whose id matches it. */
static int place_users(const msvc_id_t *ids, size_t n,
                       msvc_user_t *const *found, size_t nfound,
                       msvc_user_t *const *out) {
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < nfound; j++) {
      const msvc_user_t *u = found[j];
      if (strcasecmp(ids[i].hex, u->id) != 0)
        continue;
      if (msvc_user_set(out[i], u->id, u->name, u->email, u->created_at,
                        u->updated_at) != 0)
        return MSVC_ENOMEM;
      break;
    }
  }
  return 0;
}

static int local_resolve(void *ctx, const msvc_call_t *call,
                         const msvc_id_t *ids, size_t n,
                         msvc_user_t *const *out) {
  msvc_store_t *store = ctx;
  msvc_user_t **found = NULL;
  size_t nfound = 0;
  int rc;
  if ((msvc__call_flags(call) & MSVC_NOWAIT) &&
      !msvc_store_reads_are_local(store))
    return MSVC_EWOULDBLOCK;
  rc = msvc__users_alloc(n, &found);
  if (rc == 0)
    rc = msvc_store_users_find_many(store, ids, n, found, &nfound);
  if (rc == 0)
    rc = place_users(ids, n, found, nfound, out);
  msvc_users_free(found, n);
  if (rc == 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    msvc__user_reset(out[i]);
  return rc == MSVC_ENOMEM ? rc : MSVC_EUNAVAIL;
}

static int local_ping(void *ctx) {
  return msvc_store_ping(ctx);
}

static const msvc_resolver_methods_t local_methods = {
    .version = MSVC_RESOLVER_VERSION,
    .name = "local",
    .resolve = local_resolve,
    .ping = local_ping,
    .stats = NULL,
    .destroy = NULL,
};

int msvc_resolver_local_new(msvc_store_t *store, msvc_resolver_t **out) {
  if (store == NULL || out == NULL)
    return MSVC_EINVAL;
  return msvc_resolver_new(&local_methods, store, out);
}
