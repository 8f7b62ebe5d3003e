/* digest.c - SHA-256 and HMAC-SHA-256 for refresh tokens, through OpenSSL's
 * one-shot functions (libcrypto is already in the process through libjwt).
 * Refresh tokens are stored only as their SHA-256: a leaked database gives
 * no token that works. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "domain/digest.h"

void msvc__sha256_hex(const void *data, size_t len, char out[MSVC_HASH_SIZE]) {
  unsigned char md[MSVC__SHA256_LEN];
  unsigned int mdlen = 0;
  if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
      mdlen != sizeof(md)) {
    out[0] = '\0'; /* matches no stored hash */
    return;
  }
  msvc__hex_encode(md, sizeof(md), out);
}

int msvc__sha256(const void *data, size_t len,
                 unsigned char out[MSVC__SHA256_LEN]) {
  unsigned int mdlen = 0;
  if (EVP_Digest(data, len, out, &mdlen, EVP_sha256(), NULL) != 1 ||
      mdlen != MSVC__SHA256_LEN)
    return MSVC_ENOMEM;
  return 0;
}

int msvc__sha256_2(const void *a, size_t alen, const void *b, size_t blen,
                   unsigned char out[MSVC__SHA256_LEN]) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned int mdlen = 0;
  int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
           EVP_DigestUpdate(ctx, a, alen) == 1 &&
           EVP_DigestUpdate(ctx, b, blen) == 1 &&
           EVP_DigestFinal_ex(ctx, out, &mdlen) == 1;
  EVP_MD_CTX_free(ctx);
  return ok ? 0 : MSVC_ENOMEM;
}

int msvc__hmac_sha256(const unsigned char *key, size_t keylen, const void *data,
                      size_t len, unsigned char out[MSVC__SHA256_LEN]) {
  unsigned int outlen = 0;
  if (HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen) == NULL ||
      outlen != MSVC__SHA256_LEN)
    return MSVC_ECRYPTO;
  return 0;
}
