/* token_cache.c - verified access tokens, remembered until they expire.
 *
 * Checking an ES256 signature costs about ten times an HS256 one, and
 * clients present the same access token on every request until it
 * expires; so the claims a token was verified to carry are kept, keyed by
 * the token's bytes, and a later presentation of exactly those bytes
 * skips the signature and JSON work.  What stays per request: the expiry
 * check against the clock, and everything after verification (the
 * session and password-change checks read the store every time), so the
 * cache can never serve a revoked session.  It is cleared whenever the
 * verification keys change, so a retired key stops verifying at once.
 *
 * Bounded and lock-light: a fixed table of slots, direct-mapped by a
 * keyed SipHash of the token's signature (random key per cache, so nobody
 * can aim tokens at one slot), split into shards each behind its own mutex; a
 * slot keeps a copy of its token and a match compares all of its bytes,
 * so the hash only picks the slot.  A new token replaces whatever its
 * slot held; that copy is the only allocation after creation.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "domain/token_cache.h"

#define SHARDS 16

typedef struct slot {
  char *token; /* owned copy; NULL: free */
  size_t len;
  msvc__token_claims_t claims;
} slot_t;

typedef struct shard {
  pthread_mutex_t lock;
  slot_t *slots;
} shard_t;

struct msvc__token_cache {
  size_t per_shard;
  uint64_t key[2];
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
  if (msvc__random_bytes(c->key, sizeof(c->key)) != 0) {
    msvc__token_cache_free(c);
    return MSVC_EIO;
  }
  *out = c;
  return 0;
}

static void slot_clear(slot_t *s) {
  free(s->token);
  s->token = NULL;
  s->len = 0;
}

void msvc__token_cache_free(msvc__token_cache_t *c) {
  if (c == NULL)
    return;
  for (int i = 0; i < SHARDS; i++) {
    pthread_mutex_destroy(&c->shards[i].lock);
    for (size_t j = 0; c->shards[i].slots != NULL && j < c->per_shard; j++)
      slot_clear(&c->shards[i].slots[j]);
    free(c->shards[i].slots);
  }
  free(c);
}

/* The slot is picked by the keyed hash of the token's last HASHED_TAIL
 * bytes and its length: the tail is the signature, a MAC or an ECDSA
 * signature over everything before it, so tokens that differ anywhere
 * differ there, and only verified tokens are ever put.  Hashing 32 bytes
 * instead of the whole token (about 200) is most of a hit's cost saved;
 * a match still compares every byte. */
#define HASHED_TAIL 32

static slot_t *slot_of(msvc__token_cache_t *c, const char *token, size_t len,
                       shard_t **shard) {
  size_t n = len < HASHED_TAIL ? len : HASHED_TAIL;
  uint64_t h = msvc__siphash(c->key, token + len - n, n) ^
               (uint64_t)len * UINT64_C(0x9e3779b97f4a7c15);
  *shard = &c->shards[h % SHARDS];
  return &(*shard)->slots[(h / SHARDS) % c->per_shard];
}

int msvc__token_cache_get(msvc__token_cache_t *c, const char *token, size_t len,
                          int64_t now_s, msvc__token_claims_t *out) {
  shard_t *shard;
  slot_t *s;
  int hit = 0;
  if (c == NULL || len == 0 || len > MSVC__TOKEN_CACHE_MAX_BYTES)
    return 0;
  s = slot_of(c, token, len, &shard);
  pthread_mutex_lock(&shard->lock);
  if (s->token != NULL && s->len == len && memcmp(s->token, token, len) == 0) {
    if (s->claims.exp > now_s) {
      *out = s->claims;
      hit = 1;
    } else {
      slot_clear(s); /* expired: gone for good */
    }
  }
  pthread_mutex_unlock(&shard->lock);
  return hit;
}

void msvc__token_cache_put(msvc__token_cache_t *c, const char *token,
                           size_t len, const msvc__token_claims_t *claims) {
  shard_t *shard;
  slot_t *s;
  char *copy;
  if (c == NULL || len == 0 || len > MSVC__TOKEN_CACHE_MAX_BYTES ||
      (copy = malloc(len)) == NULL)
    return;
  memcpy(copy, token, len);
  s = slot_of(c, token, len, &shard);
  pthread_mutex_lock(&shard->lock);
  slot_clear(s);
  s->token = copy;
  s->len = len;
  s->claims = *claims;
  pthread_mutex_unlock(&shard->lock);
}

void msvc__token_cache_clear(msvc__token_cache_t *c) {
  if (c == NULL)
    return;
  for (int i = 0; i < SHARDS; i++) {
    pthread_mutex_lock(&c->shards[i].lock);
    for (size_t j = 0; j < c->per_shard; j++)
      slot_clear(&c->shards[i].slots[j]);
    pthread_mutex_unlock(&c->shards[i].lock);
  }
}
