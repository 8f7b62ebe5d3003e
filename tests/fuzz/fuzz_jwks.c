/* fuzz_jwks.c - JWK Sets as an auth service could answer them, through
 * msvc_jwks_parse (module libmsvc-http), which a post service runs on
 * what GET /.well-known/jwks.json returned.
 *
 * Invariants on a set that parses: at least one key, at most
 * MSVC_JWKS_MAX_KEYS; every kid 1 to 64 bytes of [A-Za-z0-9._-] and
 * distinct; every key a PEM public key that OpenSSL reads back.  A refused
 * set is MSVC_EJSON or MSVC_ENOTFOUND (or MSVC_ENOMEM) and leaves *out
 * NULL.  The seeds include the sets msvc_jwks() publishes for the keys of
 * fuzz_token.c.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fuzz.h"
#include "internal.h"
#include "msvc/http_resolver.h"

static int kid_ok(const char *kid) {
  size_t n = strlen(kid);
  if (n < 1 || n > 64)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = kid[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

static void check_pem(const char *pem) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  EVP_PKEY *key;
  FUZZ_CHECK(bio != NULL);
  key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
  FUZZ_CHECK(key != NULL);
  EVP_PKEY_free(key);
  BIO_free(bio);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  msvc_jwks_t *set = (msvc_jwks_t *)&set; /* must come back NULL */
  size_t skipped = (size_t)-1;
  int rc = msvc_jwks_parse((const char *)data, size, &set, &skipped);
  if (rc != 0) {
    FUZZ_CHECK(rc == MSVC_EJSON || rc == MSVC_ENOTFOUND || rc == MSVC_ENOMEM);
    FUZZ_CHECK(set == NULL);
    return 0;
  }
  FUZZ_CHECK(set != NULL && set->count >= 1);
  FUZZ_CHECK(set->count <= MSVC_JWKS_MAX_KEYS);
  FUZZ_CHECK(skipped != (size_t)-1);
  for (size_t i = 0; i < set->count; i++) {
    FUZZ_CHECK(set->kids[i] != NULL && kid_ok(set->kids[i]));
    for (size_t j = 0; j < i; j++)
      FUZZ_CHECK(strcmp(set->kids[i], set->kids[j]) != 0);
    FUZZ_CHECK(set->pems[i] != NULL);
    check_pem(set->pems[i]);
  }
  msvc_jwks_free(set);
  return 0;
}
