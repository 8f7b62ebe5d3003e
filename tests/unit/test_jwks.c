/* test_jwks.c - the JWK Set client of libmsvc-http: msvc_jwks_parse on
 * keys made here with OpenSSL (EC P-256 and RSA 2048) and written out as
 * JWKs by hand, so the parser is checked against an encoding it did not
 * produce itself; every bad input the issue lists (each a clean error or a
 * skipped key, never a crash); and msvc_jwks_fetch against the Python
 * stand-in (tests/resolver/standin.py) over HTTP and HTTPS, with failing,
 * hanging and unreachable endpoints.  The only timing checks are generous
 * upper bounds that prove a deadline held.
 *
 * Built by the unit glob even when libmsvc-http is not; tests.cmake then
 * links nothing more, MSVC_TEST_JWKS stays undefined, and the test reports
 * itself skipped (77).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef MSVC_TEST_JWKS

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "internal.h"
#include "msvc/http_resolver.h"
#include "standin.h"
#include "testutil.h"

static EVP_PKEY *ec_a, *ec_b, *rsa_a, *rsa_small;

/* ---- writing JWKs by hand ---- */

static const char abc[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64url(const unsigned char *in, size_t n, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16;
    size_t left = n - i;
    if (left > 1)
      v |= (unsigned)in[i + 1] << 8;
    if (left > 2)
      v |= in[i + 2];
    out[o++] = abc[(v >> 18) & 63];
    out[o++] = abc[(v >> 12) & 63];
    if (left > 1)
      out[o++] = abc[(v >> 6) & 63];
    if (left > 2)
      out[o++] = abc[v & 63];
  }
  out[o] = '\0';
}

/* The big-endian bytes of a BIGNUM parameter, left-padded to pad bytes
 * (0: its own length); the length. */
static size_t bn_param(EVP_PKEY *k, const char *name, unsigned char *out,
                       int pad) {
  BIGNUM *bn = NULL;
  int n;
  if (EVP_PKEY_get_bn_param(k, name, &bn) != 1)
    return 0;
  n = pad ? BN_bn2binpad(bn, out, pad) : BN_bn2bin(bn, out);
  BN_free(bn);
  return n > 0 ? (size_t)n : 0;
}

/* {"kty":"EC",...} from raw coordinates; `extra` is spliced in as more
 * members (or ""). */
static char *ec_jwk_raw(const char *kid, const unsigned char *x, size_t xlen,
                        const unsigned char *y, size_t ylen,
                        const char *extra) {
  char xs[128], ys[128], *out = NULL;
  b64url(x, xlen, xs);
  b64url(y, ylen, ys);
  if (asprintf(&out,
               "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%s\",\"x\":\"%s\","
               "\"y\":\"%s\"%s}",
               kid, xs, ys, extra) < 0)
    abort();
  return out;
}

static void ec_coords(EVP_PKEY *k, unsigned char x[32], unsigned char y[32]) {
  bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, x, 32);
  bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, y, 32);
}

static char *ec_jwk(EVP_PKEY *k, const char *kid, const char *extra) {
  unsigned char x[32], y[32];
  ec_coords(k, x, y);
  return ec_jwk_raw(kid, x, 32, y, 32, extra);
}

static char *rsa_jwk_raw(const char *kid, const unsigned char *n, size_t nlen,
                         const unsigned char *e, size_t elen,
                         const char *extra) {
  char ns[4096], es[32], *out = NULL;
  b64url(n, nlen, ns);
  b64url(e, elen, es);
  if (asprintf(&out,
               "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"%s}",
               kid, ns, es, extra) < 0)
    abort();
  return out;
}

static char *rsa_jwk(EVP_PKEY *k, const char *kid, const char *extra) {
  unsigned char n[1100], e[16];
  size_t nlen = bn_param(k, OSSL_PKEY_PARAM_RSA_N, n, 0);
  size_t elen = bn_param(k, OSSL_PKEY_PARAM_RSA_E, e, 0);
  return rsa_jwk_raw(kid, n, nlen, e, elen, extra);
}

/* {"keys":[a,b]} (b may be NULL); frees a and b. */
static char *set_of(char *a, char *b) {
  char *out = NULL;
  if (asprintf(&out, "{\"keys\":[%s%s%s]}", a, b ? "," : "", b ? b : "") < 0)
    abort();
  free(a);
  free(b);
  return out;
}

/* ---- checking results ---- */

static EVP_PKEY *load_pem(const char *pem) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  EVP_PKEY *k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  return k;
}

/* 1 when pem is the public half of want. */
static int pem_is(const char *pem, EVP_PKEY *want) {
  EVP_PKEY *k = load_pem(pem);
  int same = k != NULL && EVP_PKEY_eq(k, want) == 1;
  EVP_PKEY_free(k);
  return same;
}

static int parse(const char *json, msvc_jwks_t **out, size_t *skipped) {
  return msvc_jwks_parse(json, strlen(json), out, skipped);
}

/* A set of one bad key and a good EC key "good": the bad one is skipped,
 * the good one kept. */
static void expect_skip(char *bad, const char *what) {
  char *json = set_of(bad, ec_jwk(ec_a, "good", ""));
  msvc_jwks_t *set = NULL;
  size_t skipped = 99;
  int rc = parse(json, &set, &skipped);
  if (rc != 0 || skipped != 1)
    fprintf(stderr, "   (the key that should be skipped: %s)\n", what);
  CHECK_EQ_INT(rc, 0);
  CHECK_EQ_INT(skipped, 1);
  if (set != NULL) {
    CHECK_EQ_INT(set->count, 1);
    CHECK_EQ_STR(set->kids[0], "good");
  }
  msvc_jwks_free(set);
  free(json);
}

/* ---- parsing ---- */

static void test_parse_roundtrip(void) {
  char *json =
      set_of(ec_jwk(ec_a, "ec-1", ",\"use\":\"sig\",\"alg\":\"ES256\""),
             rsa_jwk(rsa_a, "rsa.1",
                     ",\"use\":\"sig\",\"alg\":"
                     "\"RS256\""));
  msvc_jwks_t *set = NULL;
  size_t skipped = 99;
  CHECK_EQ_INT(parse(json, &set, &skipped), 0);
  CHECK_EQ_INT(skipped, 0);
  CHECK(set != NULL && set->count == 2);
  if (set != NULL && set->count == 2) {
    CHECK_EQ_STR(set->kids[0], "ec-1");
    CHECK_EQ_STR(set->kids[1], "rsa.1");
    CHECK(pem_is(set->pems[0], ec_a));
    CHECK(pem_is(set->pems[1], rsa_a));
    CHECK(!pem_is(set->pems[0], ec_b));
    CHECK(strncmp(set->pems[0], "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
  }
  msvc_jwks_free(set);
  free(json);
  /* No "use" and no "alg" (both optional), members in another order,
   * unknown members ignored, a NULL skipped counter. */
  set = NULL;
  json =
      set_of(ec_jwk(ec_b, "B", ",\"x5t\":\"whatever\",\"key_ops\":[]"), NULL);
  CHECK_EQ_INT(parse(json, &set, NULL), 0);
  CHECK(set != NULL && set->count == 1 && pem_is(set->pems[0], ec_b));
  msvc_jwks_free(set);
  free(json);
  msvc_jwks_free(NULL);
}

static void test_bad_sets(void) {
  static const char *const not_sets[] = {
      "",          "not json", "{\"keys\":{}}",    "{\"keys\":null}",
      "[]",        "{}",       "{\"Keys\":[]}",    "{\"keys\":[]} trailing",
      "{\"keys\"", "\"keys\"", "{\"keys\":\"[]\"}"};
  msvc_jwks_t *set = (msvc_jwks_t *)1;
  size_t skipped = 99;
  char *good = set_of(ec_jwk(ec_a, "a", ""), rsa_jwk(rsa_a, "b", ""));
  for (size_t i = 0; i < sizeof(not_sets) / sizeof(not_sets[0]); i++) {
    set = (msvc_jwks_t *)1;
    CHECK_EQ_INT(parse(not_sets[i], &set, &skipped), MSVC_EJSON);
    CHECK(set == NULL);
  }
  /* Truncated anywhere: malformed, never a crash or a partial set. */
  for (size_t cut = 0; cut < strlen(good); cut += 7) {
    set = (msvc_jwks_t *)1;
    CHECK_EQ_INT(msvc_jwks_parse(good, cut, &set, NULL), MSVC_EJSON);
    CHECK(set == NULL);
  }
  /* An empty set, and one of entries that are not keys at all. */
  CHECK_EQ_INT(parse("{\"keys\":[]}", &set, &skipped), MSVC_ENOTFOUND);
  CHECK(set == NULL);
  CHECK_EQ_INT(skipped, 0);
  CHECK_EQ_INT(parse("{\"keys\":[1,\"x\",null,[],{},true]}", &set, &skipped),
               MSVC_ENOTFOUND);
  CHECK_EQ_INT(skipped, 6);
  CHECK_EQ_INT(msvc_jwks_parse(NULL, 0, &set, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_jwks_parse(good, strlen(good), NULL, NULL), MSVC_EINVAL);
  free(good);
}

static void test_bad_keys(void) {
  unsigned char x[32], y[32], n[600], e[8] = {1, 0, 1};
  char kid[10 * 1024 + 1];
  size_t nlen;
  ec_coords(ec_a, x, y);
  nlen = bn_param(rsa_a, OSSL_PKEY_PARAM_RSA_N, n, 0);

  expect_skip(rsa_jwk(rsa_small, "k", ""), "RSA of 512 bits");
  y[31] ^= 1;
  expect_skip(ec_jwk_raw("k", x, 32, y, 32, ""), "EC point not on the curve");
  y[31] ^= 1;
  expect_skip(ec_jwk_raw("k", x + 1, 31, y, 32, ""), "x of 31 bytes");
  expect_skip(ec_jwk_raw("k", x, 32, y + 1, 31, ""), "y of 31 bytes");
  memset(kid, 'k', sizeof(kid) - 1);
  kid[sizeof(kid) - 1] = '\0';
  expect_skip(ec_jwk(ec_b, kid, ""), "kid of 10 KB");
  kid[65] = '\0';
  expect_skip(ec_jwk(ec_b, kid, ""), "kid of 65 bytes");
  expect_skip(ec_jwk(ec_b, "", ""), "empty kid");
  expect_skip(ec_jwk(ec_b, "a/b", ""), "kid with a slash");
  expect_skip(ec_jwk(ec_b, "a\\u0000b", ""), "kid with a NUL");
  expect_skip(ec_jwk(ec_b, "k\\u00e9", ""), "kid that is not ASCII");
  expect_skip(strdup("{\"kty\":\"oct\",\"kid\":\"k\",\"k\":\"c2VjcmV0\"}"),
              "unknown kty (a symmetric key)");
  expect_skip(strdup("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"k\","
                     "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}"),
              "unknown kty (OKP)");
  expect_skip(ec_jwk(ec_b, "k", ",\"use\":\"enc\""), "use enc");
  expect_skip(ec_jwk(ec_b, "k", ",\"use\":1"), "use not a string");
  expect_skip(ec_jwk(ec_b, "k", ",\"alg\":\"RS256\""), "EC key for RS256");
  expect_skip(ec_jwk(ec_b, "k", ",\"alg\":\"none\""), "alg none");
  expect_skip(rsa_jwk(rsa_a, "k", ",\"alg\":\"RS512\""), "RSA for RS512");
  /* "kty", "crv" and "kid" appear twice below: JSON objects keep the
   * last, so these test the values, not the duplication. */
  expect_skip(ec_jwk(ec_b, "k", ",\"crv\":\"P-384\""), "crv P-384");
  expect_skip(ec_jwk(ec_b, "k", ",\"kty\":\"RSA\""), "EC members, kty RSA");
  expect_skip(ec_jwk(ec_b, "k", ",\"kid\":7"), "kid a number");
  expect_skip(rsa_jwk_raw("k", n, nlen, e, 1, ""), "RSA exponent 1");
  expect_skip(rsa_jwk_raw("k", n, nlen, (const unsigned char *)"\x03", 1, ""),
              "RSA exponent 3");
  expect_skip(
      rsa_jwk_raw("k", n, nlen, (const unsigned char *)"\x01\x00\x00", 3, ""),
      "RSA exponent even");
  n[nlen - 1] &= 0xfe;
  expect_skip(rsa_jwk_raw("k", n, nlen, e, 3, ""), "RSA modulus even");
  n[nlen - 1] |= 1;
  memset(n, 0xff, sizeof(n));
  expect_skip(rsa_jwk_raw("k", n, sizeof(n), e, 3, ""),
              "RSA of 4800 bits, a multiple of 3");
  {
    static unsigned char big[1100];
    memset(big, 0xff, sizeof(big));
    expect_skip(rsa_jwk_raw("k", big, sizeof(big), e, 3, ""),
                "RSA of 8800 bits");
  }
  /* Base64url that is not canonical: padding, the standard alphabet, a
   * stray character, a last character with bits past the end. */
  {
    char xs[64], ys[64], *jwk;
    b64url(x, 32, xs);
    b64url(y, 32, ys);
    if (asprintf(
            &jwk,
            "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k\",\"x\":\"%s=\","
            "\"y\":\"%s\"}",
            xs, ys) > 0)
      expect_skip(jwk, "x padded");
    /* 32 bytes take 42 characters and 4 bits of the 43rd; its lowest
     * bit is spare and must be 0. */
    xs[42] = abc[(strchr(abc, xs[42]) - abc) ^ 1];
    if (asprintf(&jwk,
                 "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k\",\"x\":\"%s\","
                 "\"y\":\"%s\"}",
                 xs, ys) > 0)
      expect_skip(jwk, "x with spare bits set");
    xs[5] = '+';
    if (asprintf(&jwk,
                 "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k\",\"x\":\"%s\","
                 "\"y\":\"%s\"}",
                 xs, ys) > 0)
      expect_skip(jwk, "x with a '+'");
  }
  /* A kid of exactly 64 bytes is kept. */
  {
    msvc_jwks_t *set = NULL;
    char *json;
    memset(kid, 'k', 64);
    kid[64] = '\0';
    json = set_of(ec_jwk(ec_b, kid, ""), NULL);
    CHECK_EQ_INT(parse(json, &set, NULL), 0);
    CHECK(set != NULL && strlen(set->kids[0]) == 64);
    msvc_jwks_free(set);
    free(json);
  }
}

/* Two keys under one kid: the first stays, the second is skipped (a kid
 * must name one key, or which one verifies would depend on order).  A
 * skipped key does not claim its kid, so a good key after a bad one with
 * the same kid is kept. */
static void test_duplicate_kids(void) {
  msvc_jwks_t *set = NULL;
  size_t skipped = 0;
  char *json = set_of(ec_jwk(ec_a, "same", ""), ec_jwk(ec_b, "same", ""));
  CHECK_EQ_INT(parse(json, &set, &skipped), 0);
  CHECK_EQ_INT(skipped, 1);
  CHECK(set != NULL && set->count == 1 && pem_is(set->pems[0], ec_a));
  msvc_jwks_free(set);
  free(json);
  set = NULL;
  json = set_of(ec_jwk(ec_a, "same", ",\"use\":\"enc\""),
                rsa_jwk(rsa_a, "same", ""));
  CHECK_EQ_INT(parse(json, &set, &skipped), 0);
  CHECK_EQ_INT(skipped, 1);
  CHECK(set != NULL && set->count == 1 && pem_is(set->pems[0], rsa_a));
  msvc_jwks_free(set);
  free(json);
}

/* A set of n copies of ec_a, kids k0..k(n-1). */
static char *many(size_t n) {
  msvc__buf_t b;
  msvc__buf_init(&b);
  MSVC__BUF_LIT(&b, "{\"keys\":[");
  for (size_t i = 0; i < n; i++) {
    char kid[24], *jwk;
    snprintf(kid, sizeof(kid), "k%zu", i);
    jwk = ec_jwk(ec_a, kid, "");
    if (i > 0)
      msvc__buf_putc(&b, ',');
    msvc__buf_puts(&b, jwk);
    free(jwk);
  }
  MSVC__BUF_LIT(&b, "]}");
  return b.data;
}

static void test_many_keys(void) {
  msvc_jwks_t *set = NULL;
  size_t skipped = 99;
  char *json = many(1000);
  int64_t t0 = standin_now_ms();
  CHECK_EQ_INT(parse(json, &set, &skipped), 0);
  CHECK_EQ_INT(skipped, 0);
  CHECK(set != NULL && set->count == 1000);
  if (set != NULL && set->count == 1000) {
    CHECK_EQ_STR(set->kids[999], "k999");
    CHECK(pem_is(set->pems[999], ec_a));
  }
  msvc_jwks_free(set);
  free(json);
  /* Past the cap: the rest is skipped without being converted. */
  set = NULL;
  json = many(MSVC_JWKS_MAX_KEYS + 100);
  CHECK_EQ_INT(parse(json, &set, &skipped), 0);
  CHECK_EQ_INT(skipped, 100);
  CHECK(set != NULL && set->count == MSVC_JWKS_MAX_KEYS);
  msvc_jwks_free(set);
  free(json);
  CHECK(standin_now_ms() - t0 < 30000);
}

/* ---- fetching ---- */

static char jwks_dir[64], jwks_file[96], bad_file[96];

static void write_file(const char *path, char *json) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f != NULL) {
    fputs(json, f);
    fclose(f);
  }
  free(json);
}

static int fetch(const char *urls, const char *ca, int timeout_ms,
                 msvc_jwks_t **out, char *err, size_t errlen) {
  err[0] = '\0';
  return msvc_jwks_fetch(urls, ca, timeout_ms, out, err, errlen);
}

/* A fetch that must succeed with ec_a as "ec-1" and rsa_a as "rsa-1". */
static void expect_fetched(const char *urls, const char *ca, int timeout_ms) {
  msvc_jwks_t *set = NULL;
  char err[1024];
  int rc = fetch(urls, ca, timeout_ms, &set, err, sizeof(err));
  if (rc != 0)
    fprintf(stderr, "   fetch from %s: %s\n", urls, err);
  CHECK_EQ_INT(rc, 0);
  CHECK(set != NULL && set->count == 2);
  if (set != NULL && set->count == 2) {
    CHECK_EQ_STR(set->kids[0], "ec-1");
    CHECK(pem_is(set->pems[0], ec_a));
    CHECK(pem_is(set->pems[1], rsa_a));
  }
  msvc_jwks_free(set);
}

static void test_fetch_http(void) {
  standin_t s;
  msvc_jwks_t *set = NULL;
  char err[1024], urls[256], accept[256];
  memset(&s, 0, sizeof(s));
  CHECK_EQ_INT(standin_start_jwks(&s, "ok", 0, NULL, NULL, jwks_file), 0);
  expect_fetched(s.url, NULL, 2000);
  CHECK_EQ_INT(standin_count(&s, "/.well-known/jwks.json"), 1);
  standin_header(&s, "/.well-known/", "accept", accept, sizeof(accept), NULL);
  CHECK_EQ_STR(accept, "application/json");
  standin_header(&s, "/.well-known/", "authorization", accept, sizeof(accept),
                 NULL);
  CHECK_EQ_STR(accept, ""); /* public keys: no credential goes out */
  snprintf(urls, sizeof(urls), " %s/ ", s.url);
  expect_fetched(urls, NULL, 2000);
  /* The set is read again at each fetch: a rotated key shows at once. */
  write_file(jwks_file, set_of(ec_jwk(ec_b, "ec-2", ""), NULL));
  CHECK_EQ_INT(fetch(s.url, NULL, 2000, &set, err, sizeof(err)), 0);
  CHECK(set != NULL && set->count == 1 && strcmp(set->kids[0], "ec-2") == 0);
  msvc_jwks_free(set);
  write_file(jwks_file,
             set_of(ec_jwk(ec_a, "ec-1", ""), rsa_jwk(rsa_a, "rsa-1", "")));
  standin_stop(&s);
}

static void test_fetch_https(void) {
  standin_pki_t pki;
  standin_t tls;
  msvc_jwks_t *set = NULL;
  char err[1024];
  if (!standin_pki_available() || standin_pki_make(&pki) != 0) {
    fprintf(stderr, "   skipped: openssl is missing or failed\n");
    return;
  }
  memset(&tls, 0, sizeof(tls));
  CHECK_EQ_INT(standin_start_jwks(&tls, "ok", 0, pki.cert, pki.key, jwks_file),
               0);
  expect_fetched(tls.url, pki.ca, 3000);
  /* A CA of the same name that did not sign: refused, nothing read. */
  CHECK_EQ_INT(fetch(tls.url, pki.other_ca, 3000, &set, err, sizeof(err)),
               MSVC_EUNAVAIL);
  CHECK(set == NULL);
  CHECK(strstr(err, tls.url) != NULL);
  standin_stop(&tls);
  standin_pki_remove(&pki);
}

/* The first endpoint fails in each way it can; the second answers. */
static void test_fetch_failover(void) {
  static const char *const modes[] = {"500", "badjson", "garbage", "close",
                                      "ok"};
  standin_t good, bad;
  char urls[256];
  memset(&good, 0, sizeof(good));
  CHECK_EQ_INT(standin_start_jwks(&good, "ok", 0, NULL, NULL, jwks_file), 0);
  snprintf(urls, sizeof(urls), "http://127.0.0.1:%d,%s", standin_dead_port(),
           good.url);
  expect_fetched(urls, NULL, 2000);
  for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
    memset(&bad, 0, sizeof(bad));
    /* "ok" without a set answers 404; with bad_file, a set of no usable
     * key: both send the fetch on. */
    CHECK_EQ_INT(standin_start_jwks(&bad, modes[i], 0, NULL, NULL,
                                    strcmp(modes[i], "ok") ? NULL : bad_file),
                 0);
    snprintf(urls, sizeof(urls), "%s,%s", bad.url, good.url);
    expect_fetched(urls, NULL, 2000);
    CHECK(standin_count(&bad, "/.well-known/jwks.json") >= 1);
    standin_stop(&bad);
  }
  /* A hanging first endpoint costs its share of the time, not all of it. */
  memset(&bad, 0, sizeof(bad));
  CHECK_EQ_INT(standin_start(&bad, "slow", 0), 0);
  snprintf(urls, sizeof(urls), "%s,%s", bad.url, good.url);
  {
    int64_t t0 = standin_now_ms();
    expect_fetched(urls, NULL, 2000);
    CHECK(standin_now_ms() - t0 >= 900); /* it waited for the first... */
    CHECK(standin_now_ms() - t0 < 2000); /* ...then the second answered */
  }
  standin_stop(&bad);
  standin_stop(&good);
}

static void test_fetch_all_down(void) {
  standin_t slow, empty;
  msvc_jwks_t *set = (msvc_jwks_t *)1;
  char urls[512], err[1024], a[64];
  int64_t t0;
  snprintf(a, sizeof(a), "http://127.0.0.1:%d", standin_dead_port());
  memset(&slow, 0, sizeof(slow));
  memset(&empty, 0, sizeof(empty));
  CHECK_EQ_INT(standin_start(&slow, "slow", 0), 0);
  CHECK_EQ_INT(standin_start(&empty, "ok", 0), 0); /* no set: 404 */
  snprintf(urls, sizeof(urls), "%s,%s,%s", a, empty.url, slow.url);
  t0 = standin_now_ms();
  /* 2 s: time enough for the 404 of a stand-in on a busy sanitizer run
   * (with 600 ms it was reported as "no answer within the deadline"). */
  CHECK_EQ_INT(fetch(urls, NULL, 2000, &set, err, sizeof(err)), MSVC_EUNAVAIL);
  CHECK(standin_now_ms() - t0 < 2000 + 1000);
  CHECK(set == NULL);
  /* errbuf names every endpoint and what it did. */
  CHECK(strstr(err, a) != NULL);
  CHECK(strstr(err, "HTTP 404") != NULL);
  CHECK(strstr(err, slow.url) != NULL);
  fprintf(stderr, "   errbuf: %s\n", err);
  /* Hanging only: the deadline holds. */
  snprintf(urls, sizeof(urls), "%s,%s", slow.url, slow.url);
  t0 = standin_now_ms();
  CHECK_EQ_INT(fetch(urls, NULL, 500, &set, err, sizeof(err)), MSVC_EUNAVAIL);
  CHECK(standin_now_ms() - t0 < 500 + 400);
  /* Name lookups too: a name that takes seconds costs no more. */
  snprintf(urls, sizeof(urls), "http://%s:80", STANDIN_SLOW_HOST);
  t0 = standin_now_ms();
  CHECK_EQ_INT(fetch(urls, NULL, 500, &set, err, sizeof(err)), MSVC_EUNAVAIL);
  CHECK(standin_now_ms() - t0 < STANDIN_SLOW_DNS_MS - 1000);
  CHECK_EQ_INT(msvc_jwks_fetch(urls, NULL, 500, &set, NULL, 0),
               MSVC_EUNAVAIL); /* no errbuf */
  standin_stop(&slow);
  standin_stop(&empty);
  standin_sleep_ms(STANDIN_SLOW_DNS_MS); /* let abandoned lookups end */
}

static void test_fetch_arguments(void) {
  static const char *const bad_lists[] = {"",
                                          "ftp://127.0.0.1:1",
                                          "http://a,,http://b",
                                          "http://a/path",
                                          "http://u:p@a",
                                          " , "};
  msvc_jwks_t *set = (msvc_jwks_t *)1;
  char err[256];
  for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++) {
    CHECK_EQ_INT(fetch(bad_lists[i], NULL, 500, &set, err, sizeof(err)),
                 MSVC_ECONFIG);
    CHECK(set == NULL);
    CHECK(err[0] != '\0');
  }
  CHECK_EQ_INT(fetch(NULL, NULL, 500, &set, err, sizeof(err)), MSVC_EINVAL);
  CHECK_EQ_INT(fetch("http://127.0.0.1:1", NULL, 0, &set, err, sizeof(err)),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_jwks_fetch("http://127.0.0.1:1", NULL, 500, NULL, NULL, 0),
               MSVC_EINVAL);
}

static int make_keys(void) {
  ec_a = EVP_EC_gen("P-256");
  ec_b = EVP_EC_gen("P-256");
  rsa_a = EVP_RSA_gen(2048);
  rsa_small = EVP_RSA_gen(512);
  return ec_a && ec_b && rsa_a && rsa_small ? 0 : -1;
}

static void free_keys(void) {
  EVP_PKEY_free(ec_a);
  EVP_PKEY_free(ec_b);
  EVP_PKEY_free(rsa_a);
  EVP_PKEY_free(rsa_small);
}

static void run_fetch_tests(void) {
  strcpy(jwks_dir, "/tmp/msvc-jwks-XXXXXX");
  if (mkdtemp(jwks_dir) == NULL) {
    CHECK(0);
    return;
  }
  snprintf(jwks_file, sizeof(jwks_file), "%s/jwks.json", jwks_dir);
  snprintf(bad_file, sizeof(bad_file), "%s/bad.json", jwks_dir);
  write_file(jwks_file,
             set_of(ec_jwk(ec_a, "ec-1", ""), rsa_jwk(rsa_a, "rsa-1", "")));
  write_file(bad_file, set_of(rsa_jwk(rsa_small, "small", ""),
                              ec_jwk(ec_a, "enc", ",\"use\":\"enc\"")));
  RUN(test_fetch_arguments);
  RUN(test_fetch_http);
  RUN(test_fetch_https);
  RUN(test_fetch_failover);
  RUN(test_fetch_all_down);
  unlink(jwks_file);
  unlink(bad_file);
  rmdir(jwks_dir);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  if (make_keys() != 0) {
    fprintf(stderr, "could not generate test keys\n");
    return 1;
  }
  RUN(test_parse_roundtrip);
  RUN(test_bad_sets);
  RUN(test_bad_keys);
  RUN(test_duplicate_kids);
  RUN(test_many_keys);
  if (standin_available())
    run_fetch_tests();
  else
    TEST_SKIP_PART("the fetch tests: python3 or the stand-in is missing");
  free_keys();
  TEST_MAIN_END();
}

#else /* libmsvc-http is not built */

int main(void) {
  printf("skipped: libmsvc-http is not built\n");
  return 77;
}

#endif
