/* msvc/resolver.h - the pluggable user resolver.
 *
 * A resolver turns the author ids of a page of posts into public users.  Like
 * a store, it is a versioned `const` table of methods plus a context, called
 * through the msvc_resolver_*() wrappers.  The local resolver reads the
 * store directly (one query per page); the HTTP resolvers of libmsvc-http
 * ask auth services.  Write your own to take authors from anywhere else.
 *
 * resolve() fills out[i] for ids[i]: out holds n zeroed users the library
 * allocated; one that does not exist is left with id "".  It returns 0,
 * MSVC_EWOULDBLOCK when the call has MSVC_NOWAIT and the answer needs I/O
 * that could wait (the caller retries from a worker thread), or
 * MSVC_EUNAVAIL when no source answered within its deadline (slots it could
 * answer stay filled).
 *
 * Growing the table follows the store's rule: methods are appended with a
 * higher MSVC_RESOLVER_VERSION; NULL optional methods are allowed (ping and
 * stats answer MSVC_EUNSUPPORTED / zeroes, destroy is skipped).
 */
#ifndef MSVC_RESOLVER_H
#define MSVC_RESOLVER_H

#include "common.h"
#include "store.h"
#include "user.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MSVC_RESOLVER_MIN_VERSION 2
#define MSVC_RESOLVER_VERSION 3

/* Counters; fields may be appended (the library writes only those `size`
 * covers).  Initialise with MSVC_RESOLVER_STATS_INIT. */
typedef struct msvc_resolver_stats {
  size_t size;       /* sizeof(msvc_resolver_stats_t) */
  uint64_t hits;     /* ids answered from a cache */
  uint64_t misses;   /* ids that had to be fetched */
  uint64_t requests; /* upstream requests made */
  uint64_t failures; /* upstream requests that failed */
  /* ---- since 0.2 (resolver version 3) ---- */
  uint64_t cache_entries; /* entries held in a cache now */
} msvc_resolver_stats_t;

#define MSVC_RESOLVER_STATS_INIT                                               \
  { sizeof(msvc_resolver_stats_t), 0, 0, 0, 0, 0 }

/* One upstream endpoint of a resolver that calls other services, for
 * monitoring; fields may be appended (the library writes only those `size`
 * covers).  Initialise with MSVC_RESOLVER_ENDPOINT_INIT. */
typedef struct msvc_resolver_endpoint {
  size_t size;         /* sizeof(msvc_resolver_endpoint_t) */
  const char *url;     /* the base URL; owned by the resolver, valid until
                          it is freed */
  int healthy;         /* 1: in rotation; 0: skipped after failures */
  uint64_t requests;   /* requests sent to it */
  uint64_t failures;   /* of those, the ones that failed */
  uint64_t latency_us; /* time spent on its requests, summed */
} msvc_resolver_endpoint_t;

#define MSVC_RESOLVER_ENDPOINT_INIT                                            \
  { sizeof(msvc_resolver_endpoint_t), NULL, 0, 0, 0, 0 }

typedef struct msvc_resolver_methods {
  int version;      /* MSVC_RESOLVER_VERSION when the table was written */
  const char *name; /* "local", "individual", "batch", "cached", ... */
  /* ---- version 2 ---- */
  int (*resolve)(void *ctx, const msvc_call_t *call, const msvc_id_t *ids,
                 size_t n, msvc_user_t *const *out); /* required */
  /* 0 when at least one source answers now. */
  int (*ping)(void *ctx);
  /* Fills a zeroed, complete msvc_resolver_stats_t. */
  void (*stats)(void *ctx, msvc_resolver_stats_t *out);
  void (*destroy)(void *ctx);
  /* ---- version 3 ---- */
  /* Fills a zeroed, complete msvc_resolver_endpoint_t for upstream i;
   * MSVC_ENOTFOUND past the last.  NULL: no upstreams. */
  int (*endpoint)(void *ctx, size_t i, msvc_resolver_endpoint_t *out);
  /* Methods of later versions are appended here. */
} msvc_resolver_methods_t;

typedef struct msvc_resolver msvc_resolver_t;

/* Wraps a table (borrowed: it must outlive the resolver) and a context
 * (owned from now on: destroy() is called by msvc_resolver_free, also when
 * this call fails with MSVC_ENOMEM).  MSVC_EINVAL for a NULL argument, an
 * unknown version or a NULL resolve. */
MSVC_EXTERN int msvc_resolver_new(const msvc_resolver_methods_t *methods,
                                  void *ctx, msvc_resolver_t **out);
/* NULL is allowed. */
MSVC_EXTERN void msvc_resolver_free(msvc_resolver_t *r);

/* The local resolver: reads users from `store` (borrowed; it must outlive
 * the resolver).  It honours MSVC_NOWAIT when the store's reads are
 * local. */
MSVC_EXTERN int msvc_resolver_local_new(msvc_store_t *store,
                                        msvc_resolver_t **out);

/* NULL for NULL. */
MSVC_EXTERN const char *msvc_resolver_name(const msvc_resolver_t *r);
/* out: n users from msvc_user_new() (or any zeroed msvc_user_t the library
 * made), filled as resolve() above.  call may be NULL. */
MSVC_EXTERN int msvc_resolver_resolve(msvc_resolver_t *r,
                                      const msvc_call_t *call,
                                      const msvc_id_t *ids, size_t n,
                                      msvc_user_t *const *out);
MSVC_EXTERN int msvc_resolver_ping(msvc_resolver_t *r);
/* Fills *out (its size field set by MSVC_RESOLVER_STATS_INIT); zeroes when
 * the resolver keeps none.  0 or MSVC_EINVAL. */
MSVC_EXTERN int msvc_resolver_stats(msvc_resolver_t *r,
                                    msvc_resolver_stats_t *out);
/* Fills *out (its size field set by MSVC_RESOLVER_ENDPOINT_INIT) for the
 * resolver's upstream endpoint i, counting from 0: 0, MSVC_ENOTFOUND past
 * the last one (at once for a resolver without upstreams, such as the
 * local one), MSVC_EINVAL for NULL or a size too small. */
MSVC_EXTERN int msvc_resolver_endpoint(msvc_resolver_t *r, size_t i,
                                       msvc_resolver_endpoint_t *out);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_RESOLVER_H */
