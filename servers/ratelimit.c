/* ratelimit.c - token buckets per client address, in a bounded table or
 * in the store.
 *
 * The table: buckets of WAYS entries keyed by a seeded 64-bit hash of the
 * address, one lock per bucket; a new address takes a free way or the one
 * used least recently.  Refilling is computed from the time since the
 * entry was last touched, so idle entries cost nothing.
 */
#include "ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NBUCKETS 4096
#define WAYS 4
#define KEY_CLIENT_MAX 64

typedef struct entry {
  uint64_t hash; /* 0: free */
  double tokens;
  int64_t last_ms;
} entry_t;

typedef struct bucket {
  pthread_mutex_t lock;
  entry_t ways[WAYS];
} bucket_t;

struct msvc_ratelimit {
  double rate; /* tokens a millisecond */
  double burst;
  uint64_t seed;
  bucket_t buckets[NBUCKETS];
};

msvc_ratelimit_t *msvc_ratelimit_new(double rate, unsigned burst) {
  msvc_ratelimit_t *rl;
  if (!(rate > 0) || burst == 0 || (rl = calloc(1, sizeof(*rl))) == NULL)
    return NULL;
  rl->rate = rate / 1000.0;
  rl->burst = burst;
  if (msvc__random_bytes(&rl->seed, sizeof(rl->seed)) != 0)
    rl->seed = (uint64_t)msvc__monotonic_us();
  for (size_t i = 0; i < NBUCKETS; i++)
    pthread_mutex_init(&rl->buckets[i].lock, NULL);
  return rl;
}

void msvc_ratelimit_free(msvc_ratelimit_t *rl) {
  if (rl == NULL)
    return;
  for (size_t i = 0; i < NBUCKETS; i++)
    pthread_mutex_destroy(&rl->buckets[i].lock);
  free(rl);
}

static uint64_t hash_of(const msvc_ratelimit_t *rl, const char *s) {
  uint64_t h = 1469598103934665603ull ^ rl->seed;
  for (; *s != '\0'; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h != 0 ? h : 1;
}

/* The entry of h in b, or a fresh one (full bucket of tokens) in the
 * free or least recently used way.  b is locked. */
static entry_t *entry_for(bucket_t *b, uint64_t h, double burst, int64_t now) {
  entry_t *victim = &b->ways[0];
  for (int i = 0; i < WAYS; i++) {
    if (b->ways[i].hash == h)
      return &b->ways[i];
    if (b->ways[i].hash == 0 ||
        (victim->hash != 0 && b->ways[i].last_ms < victim->last_ms))
      victim = &b->ways[i];
  }
  victim->hash = h;
  victim->tokens = burst;
  victim->last_ms = now;
  return victim;
}

/* ms, rounded up to whole seconds, at least 1. */
static unsigned seconds_for(double ms) {
  double s = ms / 1000.0;
  unsigned whole = (unsigned)s;
  if ((double)whole < s)
    whole++;
  return whole > 0 ? whole : 1;
}

unsigned msvc_ratelimit_take(msvc_ratelimit_t *rl, const char *client,
                             int64_t now_ms) {
  uint64_t h = hash_of(rl, client != NULL ? client : "");
  bucket_t *b = &rl->buckets[h % NBUCKETS];
  unsigned wait = 0;
  entry_t *e;
  pthread_mutex_lock(&b->lock);
  e = entry_for(b, h, rl->burst, now_ms);
  if (now_ms > e->last_ms)
    e->tokens += (double)(now_ms - e->last_ms) * rl->rate;
  if (e->tokens > rl->burst)
    e->tokens = rl->burst;
  e->last_ms = now_ms > e->last_ms ? now_ms : e->last_ms;
  if (e->tokens >= 1.0)
    e->tokens -= 1.0;
  else
    wait = seconds_for((1.0 - e->tokens) / rl->rate);
  pthread_mutex_unlock(&b->lock);
  return wait;
}

/* "rl:<address>", the address made key-safe. */
static void shared_key(const char *client, char *out, size_t len) {
  size_t n = (size_t)snprintf(out, len, "rl:");
  for (size_t i = 0; client != NULL && client[i] != '\0' && i < KEY_CLIENT_MAX;
       i++) {
    unsigned char ch = (unsigned char)client[i];
    if (n + 1 < len)
      out[n++] = ch > 0x20 && ch < 0x7f ? (char)ch : '_';
  }
  if (n == 3 && n + 1 < len)
    out[n++] = '-';
  out[n] = '\0';
}

unsigned msvc_ratelimit_take_shared(msvc_ratelimit_t *rl, msvc_store_t *store,
                                    const char *client, int64_t now_ms,
                                    int *err) {
  int64_t window = (int64_t)(rl->burst / rl->rate) + 1, count = 0, latest = 0;
  char key[KEY_CLIENT_MAX + 8], id[MSVC_ID_SIZE];
  *err = 0;
  shared_key(client, key, sizeof(key));
  if (msvc__random_hex(id, (MSVC_ID_SIZE - 1) / 2) != 0) {
    *err = MSVC_EIO;
    return 0;
  }
  *err = msvc_store_event_add(store, key, id, now_ms, now_ms + window);
  if (*err == 0)
    *err = msvc_store_event_stats(store, key, now_ms - window, id, &count,
                                  &latest);
  if (*err != 0 || count <= (int64_t)rl->burst)
    return 0;
  /* Over: this request is not counted, and waits for a slot to free. */
  msvc_store_event_delete(store, key, id, now_ms);
  return seconds_for(1.0 / rl->rate);
}
