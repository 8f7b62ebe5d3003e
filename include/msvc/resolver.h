/* msvc/resolver.h - the pluggable user resolver.
 *
 * A resolver turns the author ids of a page of posts into public users.  Like
 * a store, it is a versioned `const` table of methods plus a context.  The
 * local resolver reads the store directly (one query per page); the HTTP
 * resolvers ask auth services (one request per author, one batch per page,
 * or a batch behind a bounded TTL cache).
 *
 * resolve() fills out[i] for ids[i] (out has room for n and is zeroed by the
 * caller); a user that does not exist leaves out[i].id == "".  It returns 0,
 * MSVC_EWOULDBLOCK when MSVC_RESOLVE_NONBLOCK was asked and the answer needs
 * I/O that could wait (the caller then retries from a worker thread), or
 * MSVC_EUNAVAIL when no source answered within its deadline.  Filled users
 * belong to the caller (msvc_user_clear).
 */
#ifndef MSVC_RESOLVER_H
#define MSVC_RESOLVER_H

#include "common.h"
#include "store.h"
#include "user.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MSVC_RESOLVER_VERSION 1

enum {
  MSVC_RESOLVE_NONBLOCK = 1u << 0 /* answer only if no waiting is needed */
};

typedef struct msvc_resolver_stats {
  uint64_t hits;     /* ids answered from a cache */
  uint64_t misses;   /* ids that had to be fetched */
  uint64_t requests; /* upstream requests made */
  uint64_t failures; /* upstream requests that failed */
} msvc_resolver_stats_t;

typedef struct msvc_resolver_methods {
  int version;      /* MSVC_RESOLVER_VERSION */
  const char *name; /* "local", "individual", "batch", "cached" */
  int (*resolve)(void *ctx, const msvc_id_t *ids, size_t n, unsigned flags,
                 const char *request_id, msvc_user_t *out);
  /* 0 when at least one source answers now. */
  int (*ping)(void *ctx);
  void (*stats)(void *ctx, msvc_resolver_stats_t *out); /* may be NULL */
  void (*destroy)(void *ctx);
} msvc_resolver_methods_t;

typedef struct msvc_resolver msvc_resolver_t;

/* Wraps a table and a context; destroy() is called by msvc_resolver_free. */
MSVC_EXTERN int msvc_resolver_new(const msvc_resolver_methods_t *methods,
                                  void *ctx, msvc_resolver_t **out);
MSVC_EXTERN void msvc_resolver_free(msvc_resolver_t *r);

/* The local resolver: reads users from `store` (borrowed; must outlive
 * the resolver).  It never waits on a network when the store's reads are
 * local, so it honours MSVC_RESOLVE_NONBLOCK then. */
MSVC_EXTERN int msvc_resolver_local_new(msvc_store_t *store,
                                        msvc_resolver_t **out);

MSVC_EXTERN const char *msvc_resolver_name(const msvc_resolver_t *r);
MSVC_EXTERN int msvc_resolver_resolve(msvc_resolver_t *r, const msvc_id_t *ids,
                                      size_t n, unsigned flags,
                                      const char *request_id, msvc_user_t *out);
MSVC_EXTERN int msvc_resolver_ping(msvc_resolver_t *r);
MSVC_EXTERN void msvc_resolver_stats(msvc_resolver_t *r,
                                     msvc_resolver_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_RESOLVER_H */
