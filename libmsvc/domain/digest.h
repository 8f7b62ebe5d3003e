/* digest.h - SHA-256 and HMAC-SHA-256 through OpenSSL (internal). */
#ifndef MSVC_DOMAIN_DIGEST_H
#define MSVC_DOMAIN_DIGEST_H

#include "internal.h"

#define MSVC__SHA256_LEN 32

/* hex of SHA-256(data) into out[MSVC_HASH_SIZE]. */
void msvc__sha256_hex(const void *data, size_t len, char out[MSVC_HASH_SIZE]);
/* SHA-256(data) into out[32]; 0 or MSVC_ENOMEM. */
int msvc__sha256(const void *data, size_t len,
                 unsigned char out[MSVC__SHA256_LEN]);
/* SHA-256(a || b) into out[32]; 0 or MSVC_ENOMEM. */
int msvc__sha256_2(const void *a, size_t alen, const void *b, size_t blen,
                   unsigned char out[MSVC__SHA256_LEN]);
/* HMAC-SHA-256(key, data) into out[32]; 0 or MSVC_ECRYPTO. */
int msvc__hmac_sha256(const unsigned char *key, size_t keylen, const void *data,
                      size_t len, unsigned char out[MSVC__SHA256_LEN]);

#endif
