/* token_cache.h - verified access tokens, remembered until they expire
 * (internal; see token_cache.c). */
#ifndef MSVC_DOMAIN_TOKEN_CACHE_H
#define MSVC_DOMAIN_TOKEN_CACHE_H

#include "domain/token.h"

typedef struct msvc__token_cache msvc__token_cache_t;

/* The longest token the cache keeps; longer ones are verified each time. */
#define MSVC__TOKEN_CACHE_MAX_BYTES 1024

/* A cache of about `entries` tokens; 0, MSVC_ENOMEM or MSVC_EIO (no
 * random key). */
int msvc__token_cache_new(size_t entries, msvc__token_cache_t **out);
void msvc__token_cache_free(msvc__token_cache_t *c);
/* 1 and *out filled when exactly these bytes were verified before and
 * have not expired at now_s; else 0. */
int msvc__token_cache_get(msvc__token_cache_t *c, const char *token, size_t len,
                          int64_t now_s, msvc__token_claims_t *out);
void msvc__token_cache_put(msvc__token_cache_t *c, const char *token,
                           size_t len, const msvc__token_claims_t *claims);
/* Forgets every token (the verification keys changed). */
void msvc__token_cache_clear(msvc__token_cache_t *c);

#endif
