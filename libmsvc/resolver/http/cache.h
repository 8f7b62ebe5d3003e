/* cache.h - the bounded, expiring user cache of the cached HTTP
 * resolver.
 *
 * Keys are ids as 24 lower-case hex digits (the caller normalises them).
 * An entry is either a user or the fact that no user has that id.  The
 * cache never holds more than its capacity: adding to a full cache evicts
 * the least recently used entry.  Expiry times are absolute, on whatever
 * clock the caller passes in `now_ms` (the resolver uses the monotonic
 * one), so tests can drive time by hand.  Thread-safe.
 */
#ifndef MSVC_RESOLVER_HTTP_CACHE_H
#define MSVC_RESOLVER_HTTP_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "msvc/user.h"

typedef struct msvc__user_cache msvc__user_cache_t;

enum {
  MSVC__CACHE_MISS = 0,  /* nothing fresh for this id */
  MSVC__CACHE_FOUND = 1, /* *out holds a copy of the user */
  MSVC__CACHE_ABSENT = 2 /* known not to exist (*out untouched) */
};

/* capacity >= 1.  0 or MSVC_EINVAL / MSVC_ENOMEM. */
int msvc__user_cache_new(size_t capacity, msvc__user_cache_t **out);
void msvc__user_cache_free(msvc__user_cache_t *c); /* NULL is allowed */

/* Looks id up at now_ms; an expired entry is dropped and reported as a
 * miss.  On MSVC__CACHE_FOUND, *out (zeroed by the caller) holds a deep
 * copy the caller releases with msvc__user_reset.  MSVC_ENOMEM when the
 * copy fails. */
int msvc__user_cache_get(msvc__user_cache_t *c, const char *id, int64_t now_ms,
                         msvc_user_t *out);

/* Remembers user under id until expires_ms, replacing any entry for id;
 * user NULL remembers that id has no user.  Only user->name and
 * user->email are kept.  0 or MSVC_ENOMEM (the cache then holds nothing
 * for id), MSVC_EINVAL for an id that is not 24 characters. */
int msvc__user_cache_put(msvc__user_cache_t *c, const char *id,
                         const msvc_user_t *user, int64_t expires_ms);

/* Entries held now, expired ones not yet dropped included. */
size_t msvc__user_cache_count(msvc__user_cache_t *c);

#endif
