/* throttle.c - a bounded table of login failures per account.
 *
 * Keys (normalised emails) are hashed with a per-table random seed into
 * 4-way buckets, each bucket under its own lock, so memory is fixed no
 * matter how many addresses an attacker tries.  When a bucket is full the
 * entry with the oldest activity that is not currently locked out is
 * replaced; a locked entry is only replaced when every way is locked, so
 * flooding other addresses cannot easily lift a lockout.  Entries compare
 * the full 64-bit hash, not the key: two emails would have to collide in
 * 64 bits to share a counter.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "domain/throttle.h"
#include "internal.h"

#define WAYS 4

typedef struct entry {
  uint64_t hash; /* 0 = free */
  unsigned failures;
  int64_t window_start_ms;
  int64_t locked_until_ms;
  int64_t last_ms;
} entry_t;

typedef struct bucket {
  pthread_mutex_t lock;
  entry_t ways[WAYS];
} bucket_t;

struct msvc__throttle {
  bucket_t *buckets;
  size_t nbuckets;
  uint64_t seed;
  unsigned max_failures;
  int64_t window_ms;
  int64_t lockout_ms;
};

int msvc__throttle_new(unsigned slots, unsigned max_failures, unsigned window_s,
                       unsigned lockout_s, msvc__throttle_t **out) {
  msvc__throttle_t *t = calloc(1, sizeof(*t));
  if (t == NULL)
    return MSVC_ENOMEM;
  t->nbuckets = slots / WAYS > 0 ? slots / WAYS : 1;
  t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
  if (t->buckets == NULL) {
    free(t);
    return MSVC_ENOMEM;
  }
  if (msvc__random_bytes(&t->seed, sizeof(t->seed)) != 0) {
    free(t->buckets);
    free(t);
    return MSVC_EIO;
  }
  for (size_t i = 0; i < t->nbuckets; i++)
    pthread_mutex_init(&t->buckets[i].lock, NULL);
  t->max_failures = max_failures;
  t->window_ms = (int64_t)window_s * 1000;
  t->lockout_ms = (int64_t)lockout_s * 1000;
  *out = t;
  return 0;
}

void msvc__throttle_free(msvc__throttle_t *t) {
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->nbuckets; i++)
    pthread_mutex_destroy(&t->buckets[i].lock);
  free(t->buckets);
  free(t);
}

/* FNV-1a over the key, mixed with the seed; never 0 (0 marks free). */
static uint64_t key_hash(const msvc__throttle_t *t, const char *key) {
  uint64_t h = 1469598103934665603ull ^ t->seed;
  for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
    h ^= *p;
    h *= 1099511628211ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h ? h : 1;
}

static entry_t *find_entry(bucket_t *b, uint64_t h) {
  for (int i = 0; i < WAYS; i++)
    if (b->ways[i].hash == h)
      return &b->ways[i];
  return NULL;
}

/* A free way, else the least recently active unlocked one, else the least
 * recently active. */
static entry_t *victim(bucket_t *b, int64_t now_ms) {
  entry_t *best = NULL, *oldest = &b->ways[0];
  for (int i = 0; i < WAYS; i++) {
    entry_t *e = &b->ways[i];
    if (e->hash == 0)
      return e;
    if (e->last_ms < oldest->last_ms)
      oldest = e;
    if (e->locked_until_ms <= now_ms &&
        (best == NULL || e->last_ms < best->last_ms))
      best = e;
  }
  return best ? best : oldest;
}

/* The bucket of key, locked; *h gets the key's hash. */
static bucket_t *lock_bucket(msvc__throttle_t *t, const char *key,
                             uint64_t *h) {
  bucket_t *b;
  *h = key_hash(t, key);
  b = &t->buckets[*h % t->nbuckets];
  pthread_mutex_lock(&b->lock);
  return b;
}

unsigned msvc__throttle_check(msvc__throttle_t *t, const char *key,
                              int64_t now_ms) {
  uint64_t h;
  bucket_t *b;
  entry_t *e;
  unsigned wait = 0;
  if (t == NULL || t->max_failures == 0)
    return 0;
  b = lock_bucket(t, key, &h);
  e = find_entry(b, h);
  if (e != NULL && e->locked_until_ms > now_ms)
    wait = (unsigned)((e->locked_until_ms - now_ms + 999) / 1000);
  pthread_mutex_unlock(&b->lock);
  return wait;
}

void msvc__throttle_fail(msvc__throttle_t *t, const char *key, int64_t now_ms) {
  uint64_t h;
  bucket_t *b;
  entry_t *e;
  if (t == NULL || t->max_failures == 0)
    return;
  b = lock_bucket(t, key, &h);
  e = find_entry(b, h);
  if (e == NULL) {
    e = victim(b, now_ms);
    memset(e, 0, sizeof(*e));
    e->hash = h;
  }
  if (e->failures == 0 || now_ms - e->window_start_ms > t->window_ms) {
    e->failures = 0;
    e->window_start_ms = now_ms;
  }
  e->failures++;
  e->last_ms = now_ms;
  if (e->failures >= t->max_failures) {
    e->locked_until_ms = now_ms + t->lockout_ms;
    e->failures = 0; /* a new window starts after the lockout */
  }
  pthread_mutex_unlock(&b->lock);
}

void msvc__throttle_reset(msvc__throttle_t *t, const char *key) {
  uint64_t h;
  bucket_t *b;
  entry_t *e;
  if (t == NULL || t->max_failures == 0)
    return;
  b = lock_bucket(t, key, &h);
  e = find_entry(b, h);
  if (e != NULL)
    memset(e, 0, sizeof(*e));
  pthread_mutex_unlock(&b->lock);
}
