/* cache.c - the cached HTTP resolver's bounded, expiring map from user id
 * to user.
 *
 * A chained hash table finds entries; a doubly linked list orders them
 * from most to least recently used, and its tail is evicted when a new id
 * arrives at a full cache, so count <= capacity always holds.  The table
 * doubles when the entries outnumber the buckets; if that allocation fails
 * the old table keeps working, only with longer chains.  One mutex guards
 * everything; it is held only for memory operations, never for I/O.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "resolver/http/cache.h"

#define INITIAL_BUCKETS 64

typedef struct entry {
  char id[MSVC_ID_SIZE];
  uint32_t hash;
  int absent; /* remembers that no user has this id */
  char *name;
  char *email;
  int64_t expires_ms;
  struct entry *chain;         /* next in the same bucket */
  struct entry *newer, *older; /* the recency list */
} entry_t;

struct msvc__user_cache {
  pthread_mutex_t lock;
  entry_t **buckets;
  size_t nbuckets; /* a power of two */
  size_t count;
  size_t capacity;
  entry_t *newest, *oldest;
};

static uint32_t hash_id(const char *id) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < MSVC_ID_LEN && id[i]; i++) {
    h ^= (unsigned char)id[i];
    h *= 16777619u;
  }
  return h;
}

int msvc__user_cache_new(size_t capacity, msvc__user_cache_t **out) {
  msvc__user_cache_t *c;
  *out = NULL;
  if (capacity == 0)
    return MSVC_EINVAL;
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return MSVC_ENOMEM;
  c->capacity = capacity;
  c->nbuckets = INITIAL_BUCKETS;
  c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
  if (c->buckets == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
    free(c->buckets);
    free(c);
    return MSVC_ENOMEM;
  }
  *out = c;
  return 0;
}

static void entry_free(entry_t *e) {
  free(e->name);
  free(e->email);
  free(e);
}

void msvc__user_cache_free(msvc__user_cache_t *c) {
  entry_t *e, *next;
  if (c == NULL)
    return;
  for (e = c->newest; e != NULL; e = next) {
    next = e->older;
    entry_free(e);
  }
  pthread_mutex_destroy(&c->lock);
  free(c->buckets);
  free(c);
}

/* ---- the recency list ---- */

static void list_unlink(msvc__user_cache_t *c, entry_t *e) {
  if (e->newer != NULL)
    e->newer->older = e->older;
  else
    c->newest = e->older;
  if (e->older != NULL)
    e->older->newer = e->newer;
  else
    c->oldest = e->newer;
  e->newer = e->older = NULL;
}

static void list_push_newest(msvc__user_cache_t *c, entry_t *e) {
  e->newer = NULL;
  e->older = c->newest;
  if (c->newest != NULL)
    c->newest->newer = e;
  c->newest = e;
  if (c->oldest == NULL)
    c->oldest = e;
}

/* ---- the table ---- */

static entry_t **slot_of(msvc__user_cache_t *c, const char *id, uint32_t h) {
  entry_t **slot = &c->buckets[h & (c->nbuckets - 1)];
  while (*slot != NULL && ((*slot)->hash != h || strcmp((*slot)->id, id) != 0))
    slot = &(*slot)->chain;
  return slot;
}

/* Takes e out of the table and the list and frees it. */
static void remove_entry(msvc__user_cache_t *c, entry_t *e) {
  entry_t **slot = slot_of(c, e->id, e->hash);
  *slot = e->chain;
  list_unlink(c, e);
  c->count--;
  entry_free(e);
}

static void grow(msvc__user_cache_t *c) {
  size_t n = c->nbuckets * 2;
  entry_t **b = calloc(n, sizeof(*b));
  if (b == NULL)
    return;
  for (entry_t *e = c->newest; e != NULL; e = e->older) {
    e->chain = b[e->hash & (n - 1)];
    b[e->hash & (n - 1)] = e;
  }
  free(c->buckets);
  c->buckets = b;
  c->nbuckets = n;
}

int msvc__user_cache_get(msvc__user_cache_t *c, const char *id, int64_t now_ms,
                         msvc_user_t *out) {
  uint32_t h = hash_id(id);
  entry_t *e;
  int rc = MSVC__CACHE_MISS;
  if (strlen(id) != MSVC_ID_LEN)
    return MSVC__CACHE_MISS;
  pthread_mutex_lock(&c->lock);
  e = *slot_of(c, id, h);
  if (e != NULL && e->expires_ms <= now_ms) {
    remove_entry(c, e);
    e = NULL;
  }
  if (e != NULL) {
    list_unlink(c, e);
    list_push_newest(c, e);
    rc = e->absent ? MSVC__CACHE_ABSENT : MSVC__CACHE_FOUND;
  }
  if (rc == MSVC__CACHE_FOUND) {
    out->name = msvc__strdup(e->name);
    out->email = msvc__strdup(e->email);
    memcpy(out->id, e->id, MSVC_ID_SIZE);
    if (out->name == NULL || out->email == NULL) {
      msvc__user_reset(out);
      rc = MSVC_ENOMEM;
    }
  }
  pthread_mutex_unlock(&c->lock);
  return rc;
}

/* Fills a detached entry outside the lock. */
static entry_t *entry_make(const char *id, const msvc_user_t *user,
                           int64_t expires_ms) {
  entry_t *e = calloc(1, sizeof(*e));
  if (e == NULL)
    return NULL;
  msvc__strlcpy(e->id, id, sizeof(e->id));
  e->hash = hash_id(e->id);
  e->expires_ms = expires_ms;
  e->absent = user == NULL;
  if (user != NULL) {
    e->name = msvc__strdup(user->name ? user->name : "");
    e->email = msvc__strdup(user->email ? user->email : "");
    if (e->name == NULL || e->email == NULL) {
      entry_free(e);
      return NULL;
    }
  }
  return e;
}

int msvc__user_cache_put(msvc__user_cache_t *c, const char *id,
                         const msvc_user_t *user, int64_t expires_ms) {
  entry_t *e, *old;
  if (strlen(id) != MSVC_ID_LEN)
    return MSVC_EINVAL;
  e = entry_make(id, user, expires_ms);
  pthread_mutex_lock(&c->lock);
  old = *slot_of(c, id, hash_id(id));
  if (old != NULL)
    remove_entry(c, old);
  if (e != NULL) {
    if (c->count >= c->capacity)
      remove_entry(c, c->oldest);
    if (c->count >= c->nbuckets)
      grow(c);
    e->chain = c->buckets[e->hash & (c->nbuckets - 1)];
    c->buckets[e->hash & (c->nbuckets - 1)] = e;
    list_push_newest(c, e);
    c->count++;
  }
  pthread_mutex_unlock(&c->lock);
  return e != NULL ? 0 : MSVC_ENOMEM;
}

size_t msvc__user_cache_count(msvc__user_cache_t *c) {
  size_t n;
  pthread_mutex_lock(&c->lock);
  n = c->count;
  pthread_mutex_unlock(&c->lock);
  return n;
}
