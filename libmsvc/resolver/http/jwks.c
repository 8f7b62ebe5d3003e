/* jwks.c - JWK Sets: the public signing keys an auth service publishes at
 * GET /.well-known/jwks.json, parsed into PEM public keys and fetched over
 * the resolvers' HTTP transport (transport.c).
 *
 * What a service that verifies ES256/RS256 tokens without any secret reads
 * (msvc-post): a key taken from here decides which tokens it accepts, so
 * the parser is narrow.  Invariants:
 *  - input goes through the project's one strict JSON path
 *    (msvc__json_parse_strict) and only the members named in
 *    msvc/http_resolver.h are read; a key that does not qualify is skipped
 *    whole, never half-used, and one bad key never costs the good ones;
 *  - every number is decoded from canonical base64url into a buffer of its
 *    exact (or capped) size before OpenSSL sees it, so oversized members
 *    (a 10 KB kid, a 1 MB modulus) are refused before any allocation
 *    grows with them;
 *  - a key is kept only after OpenSSL built it from its parameters and
 *    EVP_PKEY_public_check() accepted it (point on the curve, odd modulus
 *    and exponent), and its PEM is what PEM_write_bio_PUBKEY wrote: the
 *    verifier never parses attacker-chosen PEM;
 *  - kids are unique in a result (the first key with a kid wins), and a
 *    result holds at most MSVC_JWKS_MAX_KEYS keys;
 *  - a fetch keeps no state between calls and never waits past its one
 *    deadline, whatever the number of endpoints: each gets an equal share
 *    of the time still left over those not yet tried.
 */
#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "msvc/http_resolver.h"
#include "resolver/http/transport.h"
#include "wire/json.h"

#define JWKS_PATH "/.well-known/jwks.json"
#define KID_MAX 64        /* bytes; the keyring's MSVC__KID_MAX */
#define RSA_MIN_BITS 2048 /* below: within reach of factoring */
#define RSA_MAX_BITS 8192 /* above: verification too slow to allow */
#define RSA_N_MAX_BYTES (RSA_MAX_BITS / 8 + 1) /* one leading zero allowed */
#define RSA_E_MAX_BYTES 8 /* OpenSSL's public exponent limit, 64 bits */
#define P256_COORD_BYTES 32
#define REASON_MAX 512

enum { KEY_KEPT = 0, KEY_SKIP = 1 }; /* or MSVC_ENOMEM */

/* ---- the result ---- */

void msvc_jwks_free(msvc_jwks_t *set) {
  if (set == NULL)
    return;
  for (size_t i = 0; i < set->count; i++) {
    free(set->kids[i]);
    free(set->pems[i]);
  }
  free(set->kids);
  free(set->pems);
  free(set);
}

static int set_has_kid(const msvc_jwks_t *set, const char *kid, size_t len) {
  for (size_t i = 0; i < set->count; i++)
    if (strlen(set->kids[i]) == len && memcmp(set->kids[i], kid, len) == 0)
      return 1;
  return 0;
}

/* Appends kid and pem (taken over: freed here on failure). */
static int set_add(msvc_jwks_t *set, size_t *cap, const char *kid,
                   size_t kid_len, char *pem) {
  char *k = msvc__strndup(kid, kid_len);
  if (k != NULL && set->count == *cap) {
    size_t ncap = *cap ? *cap * 2 : 4;
    char **kids = realloc(set->kids, ncap * sizeof(*kids));
    char **pems = kids ? realloc(set->pems, ncap * sizeof(*pems)) : NULL;
    if (kids != NULL)
      set->kids = kids;
    if (pems != NULL) {
      set->pems = pems;
      *cap = ncap;
    }
  }
  if (k == NULL || set->count == *cap) {
    free(k);
    free(pem);
    return MSVC_ENOMEM;
  }
  set->kids[set->count] = k;
  set->pems[set->count++] = pem;
  return 0;
}

/* ---- reading members ---- */

/* *s, *len from string member `key`: 1 when present and a string without
 * NUL, 0 when absent, -1 when present but unusable. */
static int member_string(json_object *o, const char *key, const char **s,
                         size_t *len) {
  json_object *v;
  if (!json_object_object_get_ex(o, key, &v))
    return 0;
  if (!json_object_is_type(v, json_type_string))
    return -1;
  *s = json_object_get_string(v);
  *len = (size_t)json_object_get_string_len(v);
  return memchr(*s, '\0', *len) == NULL ? 1 : -1;
}

/* 1 when member `key` is the string `want`. */
static int member_is(json_object *o, const char *key, const char *want) {
  const char *s;
  size_t len;
  return member_string(o, key, &s, &len) == 1 && len == strlen(want) &&
         memcmp(s, want, len) == 0;
}

/* 1 when member `key` is absent or the string `want`. */
static int member_absent_or(json_object *o, const char *key, const char *want) {
  return !json_object_object_get_ex(o, key, NULL) || member_is(o, key, want);
}

/* The same characters as the kids the keyring issues and accepts: safe in
 * a token header, a log line and a file name. */
static int kid_ok(const char *kid, size_t len) {
  if (len < 1 || len > KID_MAX)
    return 0;
  for (size_t i = 0; i < len; i++) {
    char c = kid[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

/* Decodes unpadded base64url s[0..len) into out[0..max); the length in
 * *n.  Canonical only (the bits past the last byte are zero), so each
 * value has one spelling.  -1 for anything else, or more than max bytes. */
static int b64url_decode(const char *s, size_t len, unsigned char *out,
                         size_t max, size_t *n) {
  uint32_t acc = 0;
  int bits = 0;
  *n = 0;
  if (len % 4 == 1 || len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > max)
    return -1;
  for (size_t i = 0; i < len; i++) {
    int v = msvc__base64url_value(s[i]);
    if (v < 0)
      return -1;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[(*n)++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  return acc == 0 ? 0 : -1; /* leftover bits must be zero */
}

/* Member `key` decoded into out[0..max); -1 when absent or unusable. */
static int member_bytes(json_object *o, const char *key, unsigned char *out,
                        size_t max, size_t *n) {
  const char *s;
  size_t len;
  if (member_string(o, key, &s, &len) != 1 || len == 0)
    return -1;
  return b64url_decode(s, len, out, max, n);
}

/* ---- building keys ---- */

/* A public key from OSSL_PARAMs, accepted by EVP_PKEY_public_check(). */
static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM *params) {
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
  EVP_PKEY *pkey = NULL;
  EVP_PKEY_CTX *check;
  if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    pkey = NULL;
  EVP_PKEY_CTX_free(ctx);
  if (pkey == NULL)
    return NULL;
  check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
  if (check == NULL || EVP_PKEY_public_check(check) != 1) {
    EVP_PKEY_free(pkey);
    pkey = NULL;
  }
  EVP_PKEY_CTX_free(check);
  return pkey;
}

/* The bounds OpenSSL's own public check leaves to the caller: the modulus
 * size (it accepts 512 bits) and a small exponent that fits the PEM
 * writer's and verifiers' limits. */
static int rsa_numbers_ok(const BIGNUM *n, const BIGNUM *e) {
  int nbits = BN_num_bits(n);
  return nbits >= RSA_MIN_BITS && nbits <= RSA_MAX_BITS && BN_is_odd(e) &&
         BN_num_bits(e) > 16 && BN_num_bits(e) <= 64;
}

static EVP_PKEY *rsa_key(json_object *jwk) {
  unsigned char nb[RSA_N_MAX_BYTES], eb[RSA_E_MAX_BYTES];
  size_t nlen, elen;
  BIGNUM *n = NULL, *e = NULL;
  OSSL_PARAM_BLD *bld = NULL;
  OSSL_PARAM *params = NULL;
  EVP_PKEY *pkey = NULL;
  if (member_bytes(jwk, "n", nb, sizeof(nb), &nlen) != 0 ||
      member_bytes(jwk, "e", eb, sizeof(eb), &elen) != 0)
    return NULL;
  n = BN_bin2bn(nb, (int)nlen, NULL);
  e = BN_bin2bn(eb, (int)elen, NULL);
  if (n != NULL && e != NULL && rsa_numbers_ok(n, e) &&
      (bld = OSSL_PARAM_BLD_new()) != NULL &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1 &&
      (params = OSSL_PARAM_BLD_to_param(bld)) != NULL)
    pkey = pkey_from_params("RSA", params);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(n);
  BN_free(e);
  return pkey;
}

static EVP_PKEY *ec_key(json_object *jwk) {
  unsigned char point[1 + 2 * P256_COORD_BYTES];
  char group[] = "prime256v1";
  size_t xlen, ylen;
  OSSL_PARAM params[3];
  if (!member_is(jwk, "crv", "P-256") ||
      member_bytes(jwk, "x", point + 1, P256_COORD_BYTES, &xlen) != 0 ||
      member_bytes(jwk, "y", point + 1 + P256_COORD_BYTES, P256_COORD_BYTES,
                   &ylen) != 0 ||
      xlen != P256_COORD_BYTES || ylen != P256_COORD_BYTES)
    return NULL;
  point[0] = 0x04; /* SEC 1 uncompressed: 04 || X || Y */
  params[0] =
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
  params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point,
                                                sizeof(point));
  params[2] = OSSL_PARAM_construct_end();
  return pkey_from_params("EC", params);
}

/* The key's SubjectPublicKeyInfo PEM, NUL-terminated, from malloc(). */
static char *pem_of(EVP_PKEY *pkey) {
  BIO *bio = BIO_new(BIO_s_mem());
  char *data = NULL, *pem = NULL;
  long len;
  if (bio != NULL && PEM_write_bio_PUBKEY(bio, pkey) == 1 &&
      (len = BIO_get_mem_data(bio, &data)) > 0)
    pem = msvc__strndup(data, (size_t)len);
  BIO_free(bio);
  return pem;
}

/* Whether one entry of "keys" is a signing key this library can verify
 * with and whose kid `set` does not hold yet, and its kid and PEM when it
 * is: KEY_KEPT (*pem owned by the caller), KEY_SKIP or MSVC_ENOMEM. */
static int jwk_read(const msvc_jwks_t *set, json_object *jwk, const char **kid,
                    size_t *kid_len, char **pem) {
  EVP_PKEY *pkey = NULL;
  *pem = NULL;
  /* A kid names one key: a second key under it would make the verifier
   * depend on which one wins, so the first stays and the rest go (checked
   * before the costly part, so repeats cost little). */
  if (!json_object_is_type(jwk, json_type_object) ||
      member_string(jwk, "kid", kid, kid_len) != 1 || !kid_ok(*kid, *kid_len) ||
      set_has_kid(set, *kid, *kid_len) || !member_absent_or(jwk, "use", "sig"))
    return KEY_SKIP;
  /* "alg" pins a key to one algorithm (RFC 7517 4.4): a key published
   * for another one is not ours to use for ES256/RS256. */
  if (member_is(jwk, "kty", "RSA") && member_absent_or(jwk, "alg", "RS256"))
    pkey = rsa_key(jwk);
  else if (member_is(jwk, "kty", "EC") && member_absent_or(jwk, "alg", "ES256"))
    pkey = ec_key(jwk);
  if (pkey == NULL)
    return KEY_SKIP;
  *pem = pem_of(pkey);
  EVP_PKEY_free(pkey);
  return *pem != NULL ? KEY_KEPT : MSVC_ENOMEM;
}

/* ---- parsing a set ---- */

/* Adds the qualifying entries of `keys` to set; counts the others. */
static int read_keys(json_object *keys, msvc_jwks_t *set, size_t *skipped) {
  size_t total = json_object_array_length(keys), cap = 0;
  for (size_t i = 0; i < total; i++) {
    const char *kid = NULL;
    size_t kid_len = 0;
    char *pem = NULL;
    int rc = set->count < MSVC_JWKS_MAX_KEYS
                 ? jwk_read(set, json_object_array_get_idx(keys, i), &kid,
                            &kid_len, &pem)
                 : KEY_SKIP;
    if (rc == KEY_KEPT)
      rc = set_add(set, &cap, kid, kid_len, pem);
    if (rc == MSVC_ENOMEM)
      return rc;
    *skipped += rc == KEY_SKIP;
  }
  return 0;
}

int msvc_jwks_parse(const char *json, size_t len, msvc_jwks_t **out,
                    size_t *skipped) {
  json_object *doc = NULL, *keys = NULL;
  msvc_jwks_t *set;
  size_t skip = 0;
  int rc;
  if (skipped != NULL)
    *skipped = 0;
  if (out == NULL || json == NULL)
    return MSVC_EINVAL;
  *out = NULL;
  rc = msvc__json_parse_strict(json, len, &doc);
  if (rc != 0 && rc != MSVC_ENOMEM)
    rc = MSVC_EJSON;
  if (rc == 0 && (!json_object_is_type(doc, json_type_object) ||
                  !json_object_object_get_ex(doc, "keys", &keys) ||
                  !json_object_is_type(keys, json_type_array)))
    rc = MSVC_EJSON;
  set = rc == 0 ? calloc(1, sizeof(*set)) : NULL;
  if (rc == 0 && set == NULL)
    rc = MSVC_ENOMEM;
  if (rc == 0)
    rc = read_keys(keys, set, &skip);
  json_object_put(doc);
  if (rc == 0 && set->count == 0)
    rc = MSVC_ENOTFOUND;
  if (skipped != NULL)
    *skipped = skip;
  if (rc != 0) {
    msvc_jwks_free(set);
    return rc;
  }
  *out = set;
  return 0;
}

/* ---- fetching ---- */

typedef struct endpoints {
  char *base[MSVC__HTTP_MAX_BASES]; /* "scheme://host[:port]", owned */
  size_t n;
} endpoints_t;

static void endpoints_free(endpoints_t *eps) {
  for (size_t i = 0; i < eps->n; i++)
    free(eps->base[i]);
  eps->n = 0;
}

static int endpoints_parse(const char *urls, endpoints_t *eps, char *errbuf,
                           size_t errlen) {
  return msvc__http_base_list_parse(urls, eps->base, &eps->n, errbuf, errlen);
}

/* GETs base's JWK Set before deadline_ms: 0 with *out, MSVC_EUNAVAIL with
 * the reason in why when this endpoint gave nothing usable. */
static int fetch_one(msvc__http_t *h, const char *base, int64_t deadline_ms,
                     msvc_jwks_t **out, char *why, size_t whylen) {
  static const char *const headers[] = {"Accept: application/json", NULL};
  char url[MSVC__HTTP_DETAIL_MAX + sizeof(JWKS_PATH)];
  msvc__http_req_t req;
  int rc = MSVC_EUNAVAIL;
  snprintf(url, sizeof(url), "%s%s", base, JWKS_PATH);
  memset(&req, 0, sizeof(req));
  req.url = url;
  req.method = "GET";
  req.headers = headers;
  msvc__http_run(h, &req, 1, deadline_ms, 0);
  if (req.err == MSVC_ETIMEDOUT)
    snprintf(why, whylen, "no answer within the deadline");
  else if (req.err != 0)
    snprintf(why, whylen, "%s",
             req.detail[0] ? req.detail : msvc_strerror(req.err));
  else if (req.status != 200)
    snprintf(why, whylen, "answered HTTP %d", req.status);
  else if ((rc = msvc_jwks_parse(req.resp, req.resp_len, out, NULL)) != 0) {
    snprintf(why, whylen, "answered no usable JWK Set (%s)", msvc_strerror(rc));
    rc = MSVC_EUNAVAIL;
  }
  msvc__http_req_reset(&req);
  return rc;
}

static int fetch_in_order(msvc__http_t *h, const endpoints_t *eps,
                          int64_t deadline_ms, msvc_jwks_t **out,
                          msvc__buf_t *reasons) {
  int rc = MSVC_EUNAVAIL;
  for (size_t i = 0; i < eps->n; i++) {
    char why[REASON_MAX];
    int64_t now = msvc__monotonic_ms(), left = deadline_ms - now;
    int64_t share = left / (int64_t)(eps->n - i);
    /* An endpoint that fails fast leaves its share to the next ones. */
    rc = fetch_one(h, eps->base[i], now + (share > 0 ? share : left), out, why,
                   sizeof(why));
    if (rc != MSVC_EUNAVAIL)
      return rc;
    if (reasons->len > 0)
      MSVC__BUF_LIT(reasons, "; ");
    msvc__buf_puts(reasons, eps->base[i]);
    MSVC__BUF_LIT(reasons, ": ");
    msvc__buf_puts(reasons, why);
  }
  return rc;
}

int msvc_jwks_fetch(const char *urls, const char *ca_file, int timeout_ms,
                    msvc_jwks_t **out, char *errbuf, size_t errlen) {
  int64_t deadline_ms = msvc__monotonic_ms() + timeout_ms;
  endpoints_t eps;
  msvc__http_t *h = NULL;
  msvc__buf_t reasons;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (urls == NULL || out == NULL || timeout_ms < 1) {
    msvc__set_error(errbuf, errlen, "%s",
                    timeout_ms < 1 ? "timeout_ms must be at least 1"
                                   : "no URL list or no place for the result");
    return MSVC_EINVAL;
  }
  rc = endpoints_parse(urls, &eps, errbuf, errlen);
  if (rc == 0)
    rc = msvc__http_new(ca_file, &h, errbuf, errlen);
  msvc__buf_init(&reasons);
  if (rc == 0)
    rc = fetch_in_order(h, &eps, deadline_ms, out, &reasons);
  if (rc == MSVC_EUNAVAIL)
    msvc__set_error(errbuf, errlen, "no auth service gave a usable JWK Set: %s",
                    reasons.failed ? "out of memory" : reasons.data);
  msvc__buf_free(&reasons);
  msvc__http_free(h);
  endpoints_free(&eps);
  return rc;
}
