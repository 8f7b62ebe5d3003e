/* token_cache.c - verified access tokens, remembered until they expire.
 *
 * Checking an ES256 signature costs about ten times an HS256 one, and
 * clients present the same access token on every request until it
 * expires; so the claims a token was verified to carry are kept, keyed by
 * the SHA-256 of the token's bytes, and a later presentation of exactly
 * those bytes skips the signature and JSON work.  What stays per request:
 * the expiry check against the clock, and everything after verification
 * (the session and password-change checks read the store every time), so
 * the cache can never serve a revoked session.  It is cleared whenever the
 * verification keys change, so a retired key stops verifying at once.
 *
 * Bounded and lock-light: a fixed table of slots, direct-mapped by the
 * digest, split into shards each behind its own mutex; a new token simply
 * replaces whatever its slot held.  Nothing is allocated after creation.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "domain/token_cache.h"

#define SHARDS 16

typedef struct slot {
  unsigned char digest[MSVC__SHA256_LEN];
  int used;
  msvc__token_claims_t claims;
} slot_t;

typedef struct shard {
  pthread_mutex_t lock;
  slot_t *slots;
} shard_t;

struct msvc__token_cache {
  size_t per_shard;
  shard_t shards[SHARDS];
};

int msvc__token_cache_new(size_t entries, msvc__token_cache_t **out) {
  msvc__token_cache_t *c = calloc(1, sizeof(*c));
  *out = NULL;
  if (c == NULL)
    return MSVC_ENOMEM;
  c->per_shard = entries / SHARDS > 0 ? entries / SHARDS : 1;
  for (int i = 0; i < SHARDS; i++) {
    pthread_mutex_init(&c->shards[i].lock, NULL);
    c->shards[i].slots = calloc(c->per_shard, sizeof(slot_t));
    if (c->shards[i].slots == NULL) {
      msvc__token_cache_free(c);
      return MSVC_ENOMEM;
    }
  }
  *out = c;
  return 0;
}

void msvc__token_cache_free(msvc__token_cache_t *c) {
  if (c == NULL)
    return;
  for (int i = 0; i < SHARDS; i++) {
    pthread_mutex_destroy(&c->shards[i].lock);
    free(c->shards[i].slots);
  }
  free(c);
}

/* The shard and slot of a digest: its first bytes are uniform. */
static slot_t *slot_of(msvc__token_cache_t *c, const unsigned char *d,
                       shard_t **shard) {
  size_t h = (size_t)d[0] | (size_t)d[1] << 8 | (size_t)d[2] << 16 |
             (size_t)d[3] << 24;
  *shard = &c->shards[h % SHARDS];
  return &(*shard)->slots[(h / SHARDS) % c->per_shard];
}

int msvc__token_cache_get(msvc__token_cache_t *c,
                          const unsigned char digest[MSVC__SHA256_LEN],
                          int64_t now_s, msvc__token_claims_t *out) {
  shard_t *shard;
  slot_t *s;
  int hit = 0;
  if (c == NULL)
    return 0;
  s = slot_of(c, digest, &shard);
  pthread_mutex_lock(&shard->lock);
  if (s->used && memcmp(s->digest, digest, MSVC__SHA256_LEN) == 0) {
    if (s->claims.exp > now_s) {
      *out = s->claims;
      hit = 1;
    } else {
      s->used = 0; /* expired: gone for good */
    }
  }
  pthread_mutex_unlock(&shard->lock);
  return hit;
}

void msvc__token_cache_put(msvc__token_cache_t *c,
                           const unsigned char digest[MSVC__SHA256_LEN],
                           const msvc__token_claims_t *claims) {
  shard_t *shard;
  slot_t *s;
  if (c == NULL)
    return;
  s = slot_of(c, digest, &shard);
  pthread_mutex_lock(&shard->lock);
  memcpy(s->digest, digest, MSVC__SHA256_LEN);
  s->claims = *claims;
  s->used = 1;
  pthread_mutex_unlock(&shard->lock);
}

void msvc__token_cache_clear(msvc__token_cache_t *c) {
  if (c == NULL)
    return;
  for (int i = 0; i < SHARDS; i++) {
    pthread_mutex_lock(&c->shards[i].lock);
    for (size_t j = 0; j < c->per_shard; j++)
      c->shards[i].slots[j].used = 0;
    pthread_mutex_unlock(&c->shards[i].lock);
  }
}
