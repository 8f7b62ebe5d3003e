/* test_keys.c - ES256/RS256 keyrings (domain/keys.c) and the tokens they
 * sign (domain/token.c).
 *
 * Keys are generated here with OpenSSL (EVP_PKEY_Q_keygen) and handed to
 * the ring as PEM, as an operator would.  Tokens from outside (algorithm
 * confusion, foreign keys, interop) are made with libjwt directly, and
 * ours are checked by libjwt too, so that the wire format (r||s ES256
 * signatures) is not only self-consistent.  The JWK Set is parsed with
 * json-c and each key rebuilt with EVP_PKEY_fromdata: it must equal the
 * key it was published from.
 */
#include <json-c/json.h>
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/token.h"
#include "testutil.h"

#define NOW INT64_C(1800000000)
#define VALID_ID "65b3a1f2c9e77a0012345678"
#define VALID_SID "65b3a1f2c9e77a00123456ff"

static const char service_secret[] = "service-secret-for-unit-tests";

/* A generated key and its two PEM texts. */
typedef struct test_key {
  EVP_PKEY *pkey;
  char *priv_pem;
  char *pub_pem;
} test_key_t;

static char *bio_text(BIO *bio) {
  char *data = NULL;
  long n = BIO_get_mem_data(bio, &data);
  char *copy = n > 0 ? malloc((size_t)n + 1) : NULL;
  if (copy != NULL) {
    memcpy(copy, data, (size_t)n);
    copy[n] = '\0';
  }
  return copy;
}

static char *pem_private(EVP_PKEY *pkey, const char *passphrase) {
  BIO *bio = BIO_new(BIO_s_mem());
  const EVP_CIPHER *enc = passphrase != NULL ? EVP_aes_128_cbc() : NULL;
  char *text = NULL;
  if (PEM_write_bio_PrivateKey(bio, pkey, enc, (unsigned char *)passphrase,
                               passphrase ? (int)strlen(passphrase) : 0, NULL,
                               NULL) == 1)
    text = bio_text(bio);
  BIO_free(bio);
  return text;
}

static char *pem_public(EVP_PKEY *pkey) {
  BIO *bio = BIO_new(BIO_s_mem());
  char *text = NULL;
  if (PEM_write_bio_PUBKEY(bio, pkey) == 1)
    text = bio_text(bio);
  BIO_free(bio);
  return text;
}

static test_key_t make_key(EVP_PKEY *pkey) {
  test_key_t k = {pkey, NULL, NULL};
  if (pkey == NULL)
    abort();
  k.priv_pem = pem_private(pkey, NULL);
  k.pub_pem = pem_public(pkey);
  if (k.priv_pem == NULL || k.pub_pem == NULL)
    abort();
  return k;
}

static test_key_t ec_key(const char *curve) {
  return make_key(EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve));
}

static test_key_t rsa_key(size_t bits) {
  return make_key(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits));
}

static void key_free(test_key_t *k) {
  EVP_PKEY_free(k->pkey);
  free(k->priv_pem);
  free(k->pub_pem);
}

/* Keys shared by the tests: generating RSA keys takes a while. */
static test_key_t ec_a, ec_b, ec_other, rsa_a, rsa_b;

static msvc__keyring_t *ring_new(msvc__alg_t alg) {
  msvc__keyring_t *kr = NULL;
  if (msvc__keyring_new(alg, &kr) != 0)
    abort();
  return kr;
}

static int add_private(msvc__keyring_t *kr, const char *kid,
                       const test_key_t *k) {
  char err[256] = "";
  int rc = msvc__keyring_add_private(kr, kid, k->priv_pem, strlen(k->priv_pem),
                                     err, sizeof(err));
  if (rc != 0)
    fprintf(stderr, "   add_private %s: %s\n", kid, err);
  return rc;
}

static int add_public(msvc__keyring_t *kr, const char *kid,
                      const test_key_t *k) {
  char err[256] = "";
  return msvc__keyring_add_public(kr, kid, k->pub_pem, strlen(k->pub_pem), err,
                                  sizeof(err));
}

static msvc_token_config_t config_of(msvc__keyring_t *kr) {
  msvc_token_config_t cfg = {kr, (const unsigned char *)service_secret,
                             sizeof(service_secret) - 1, 3600};
  return cfg;
}

static msvc_user_t *new_user(void) {
  msvc_user_t *u = NULL;
  if (msvc_user_new(&u) != 0 ||
      msvc_user_set(u, VALID_ID, "Ada", "ada@example.com", 0, 0) != 0)
    abort();
  return u;
}

/* A user token from cfg's ring at NOW (NULL on failure). */
static char *issue(const msvc_token_config_t *cfg) {
  msvc_user_t *u = new_user();
  char *token = NULL;
  if (msvc__token_issue_user(cfg, u, VALID_SID, "jti-1", NOW, &token) != 0)
    token = NULL;
  msvc_user_free(u);
  return token;
}

static int verify(const msvc_token_config_t *cfg, const char *token) {
  msvc__token_claims_t claims;
  if (token == NULL)
    return -12345;
  return msvc__token_verify(cfg, token, strlen(token), NOW, &claims);
}

/* ---- base64url and JSON helpers ----------------------------------------- */

static size_t b64url_decode(const char *s, size_t len, unsigned char *out) {
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned acc = 0;
  size_t n = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    const char *pos = memchr(alphabet, s[i], 64);
    if (pos == NULL)
      return 0;
    acc = (acc << 6) | (unsigned)(pos - alphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (unsigned char)((acc >> bits) & 0xff);
    }
  }
  return n;
}

/* The decoded header of a compact token. */
static json_object *token_header(const char *token) {
  const char *dot = strchr(token, '.');
  unsigned char buf[512];
  size_t n;
  if (dot == NULL || (size_t)(dot - token) > sizeof(buf))
    return NULL;
  n = b64url_decode(token, (size_t)(dot - token), buf);
  buf[n < sizeof(buf) ? n : sizeof(buf) - 1] = '\0';
  return json_tokener_parse((const char *)buf);
}

static const char *member_string(json_object *obj, const char *key) {
  json_object *v = NULL;
  if (!json_object_object_get_ex(obj, key, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

/* ---- tokens made outside the library ------------------------------------ */

#define USER_CLAIMS                                                            \
  "{\"id\":\"" VALID_ID "\",\"name\":\"Ada\",\"email\":\"a@example.com\","     \
  "\"iat\":1700000000,\"exp\":4102444800}"

/* A libjwt token: alg with key (NULL for none), optional kid header. */
static char *libjwt_token(jwt_alg_t alg, const char *key, size_t key_len,
                          const char *kid, const char *claims) {
  jwt_t *jwt = NULL;
  char *token = NULL;
  if (jwt_new(&jwt) != 0)
    return NULL;
  if (jwt_set_alg(jwt, alg, (const unsigned char *)key, (int)key_len) == 0 &&
      (kid == NULL || jwt_add_header(jwt, "kid", kid) == 0) &&
      jwt_add_grants_json(jwt, claims) == 0)
    token = jwt_encode_str(jwt);
  jwt_free(jwt);
  return token;
}

/* ---- tests -------------------------------------------------------------- */

static void round_trip(msvc__alg_t alg, const test_key_t *key,
                       const char *alg_name) {
  msvc__keyring_t *kr = ring_new(alg);
  msvc__keyring_t *verifier = ring_new(alg);
  msvc_token_config_t cfg = config_of(kr), vcfg = config_of(verifier);
  msvc__token_claims_t claims;
  json_object *header;
  char *token, *tampered;
  jwt_t *jwt = NULL;
  CHECK_EQ_INT(msvc__keyring_can_sign(kr), 0);
  CHECK_EQ_INT(add_private(kr, "key-A", key), 0);
  CHECK_EQ_INT(msvc__keyring_can_sign(kr), 1);
  token = issue(&cfg);
  CHECK(token != NULL);
  if (token == NULL)
    goto out;
  CHECK_EQ_INT(msvc__token_verify(&cfg, token, strlen(token), NOW, &claims), 0);
  CHECK_EQ_STR(claims.id, VALID_ID);
  CHECK_EQ_STR(claims.sid, VALID_SID);
  CHECK_EQ_STR(claims.jti, "jti-1");
  CHECK_EQ_INT(claims.exp, NOW + 3600);
  header = token_header(token);
  CHECK_EQ_STR(member_string(header, "alg"), alg_name);
  CHECK_EQ_STR(member_string(header, "typ"), "JWT");
  CHECK_EQ_STR(member_string(header, "kid"), "key-A");
  CHECK_EQ_INT(json_object_object_length(header), 3);
  json_object_put(header);

  /* A ring holding only the public key verifies, and cannot sign. */
  CHECK_EQ_INT(add_public(verifier, "key-A", key), 0);
  CHECK_EQ_INT(msvc__keyring_can_sign(verifier), 0);
  CHECK_EQ_INT(verify(&vcfg, token), 0);
  CHECK(issue(&vcfg) == NULL);

  /* libjwt agrees with our signature format both ways. */
  CHECK_EQ_INT(jwt_decode(&jwt, token, (const unsigned char *)key->pub_pem,
                          (int)strlen(key->pub_pem)),
               0);
  jwt_free(jwt);
  {
    char *theirs = libjwt_token(
        alg == MSVC__ALG_ES256 ? JWT_ALG_ES256 : JWT_ALG_RS256, key->priv_pem,
        strlen(key->priv_pem), "key-A", USER_CLAIMS);
    CHECK_EQ_INT(verify(&vcfg, theirs), 0);
    free(theirs);
  }

  /* One changed signature character, or expiry, refuses it. */
  tampered = strdup(token);
  tampered[strlen(tampered) - 3] ^= 1;
  CHECK_EQ_INT(verify(&vcfg, tampered), MSVC_ETOKEN);
  free(tampered);
  CHECK_EQ_INT(
      msvc__token_verify(&vcfg, token, strlen(token), NOW + 3600, &claims),
      MSVC_ETOKEN);
  msvc_free(token);
out:
  msvc__keyring_free(kr);
  msvc__keyring_free(verifier);
}

static void test_es256_round_trip(void) {
  round_trip(MSVC__ALG_ES256, &ec_a, "ES256");
}

static void test_rs256_round_trip(void) {
  round_trip(MSVC__ALG_RS256, &rsa_a, "RS256");
}

/* A signs; B is added and signs, A's tokens still verify; a ring without
 * A refuses them as signed by an unknown key. */
static void test_rotation(void) {
  msvc__keyring_t *r1 = ring_new(MSVC__ALG_ES256);
  msvc__keyring_t *r2 = ring_new(MSVC__ALG_ES256);
  msvc__keyring_t *r3 = ring_new(MSVC__ALG_ES256);
  msvc_token_config_t c1 = config_of(r1), c2 = config_of(r2),
                      c3 = config_of(r3);
  char *ta, *tb;
  json_object *h;
  CHECK_EQ_INT(add_private(r1, "A", &ec_a), 0);
  CHECK_EQ_INT(add_private(r2, "A", &ec_a), 0);
  CHECK_EQ_INT(add_private(r2, "B", &ec_b), 0);
  CHECK_EQ_INT(add_private(r3, "B", &ec_b), 0);
  ta = issue(&c1);
  tb = issue(&c2);
  CHECK(ta != NULL && tb != NULL);
  h = tb != NULL ? token_header(tb) : NULL;
  CHECK_EQ_STR(member_string(h, "kid"), "B"); /* the newest signs */
  json_object_put(h);
  CHECK_EQ_INT(verify(&c2, ta), 0);
  CHECK_EQ_INT(verify(&c2, tb), 0);
  CHECK_EQ_INT(verify(&c1, tb), MSVC_EKEY);
  CHECK_EQ_INT(verify(&c3, ta), MSVC_EKEY);
  CHECK_EQ_INT(verify(&c3, tb), 0);
  msvc_free(ta);
  msvc_free(tb);
  msvc__keyring_free(r1);
  msvc__keyring_free(r2);
  msvc__keyring_free(r3);
}

/* The same on a verify-only ring whose set is replaced at run time, as a
 * post service does after fetching the JWK Set. */
static void test_replace_public(void) {
  msvc__keyring_t *signer = ring_new(MSVC__ALG_ES256);
  msvc__keyring_t *kr = ring_new(MSVC__ALG_ES256);
  msvc_token_config_t sc = config_of(signer), cfg = config_of(kr);
  const char *kids_ab[] = {"A", "B"}, *kids_b[] = {"B"}, *dup[] = {"B", "B"};
  const char *pems_ab[] = {ec_a.pub_pem, ec_b.pub_pem};
  const char *pems_b[] = {ec_b.pub_pem},
             *pems_bb[] = {ec_b.pub_pem, ec_b.pub_pem};
  const char *bad[] = {ec_a.pub_pem, "not a key"};
  char err[256] = "";
  char *ta;
  CHECK_EQ_INT(add_private(signer, "A", &ec_a), 0);
  ta = issue(&sc);
  CHECK_EQ_INT(verify(&cfg, ta), MSVC_EKEY);
  CHECK_EQ_INT(
      msvc__keyring_replace_public(kr, kids_ab, pems_ab, 2, err, sizeof(err)),
      0);
  CHECK_EQ_INT(verify(&cfg, ta), 0);
  /* A broken set changes nothing and says which key is wrong. */
  CHECK_EQ_INT(
      msvc__keyring_replace_public(kr, kids_ab, bad, 2, err, sizeof(err)),
      MSVC_ECONFIG);
  CHECK(strstr(err, "B") != NULL);
  CHECK_EQ_INT(
      msvc__keyring_replace_public(kr, dup, pems_bb, 2, err, sizeof(err)),
      MSVC_ECONFIG);
  CHECK_EQ_INT(
      msvc__keyring_replace_public(kr, NULL, NULL, 0, err, sizeof(err)),
      MSVC_ECONFIG); /* would leave nothing to verify with */
  CHECK_EQ_INT(verify(&cfg, ta), 0);
  CHECK_EQ_INT(
      msvc__keyring_replace_public(kr, kids_b, pems_b, 1, err, sizeof(err)), 0);
  CHECK_EQ_INT(verify(&cfg, ta), MSVC_EKEY);
  msvc_free(ta);
  msvc__keyring_free(signer);
  msvc__keyring_free(kr);
}

static void test_algorithm_confusion(void) {
  msvc__keyring_t *kr = ring_new(MSVC__ALG_ES256);
  msvc_token_config_t cfg = config_of(kr);
  char *t;
  CHECK_EQ_INT(add_private(kr, "A", &ec_a), 0);

  /* HS256 keyed with the public key's PEM bytes (with and without kid). */
  t = libjwt_token(JWT_ALG_HS256, ec_a.pub_pem, strlen(ec_a.pub_pem), "A",
                   USER_CLAIMS);
  CHECK_EQ_INT(verify(&cfg, t), MSVC_ETOKEN);
  free(t);
  t = libjwt_token(JWT_ALG_HS256, ec_a.pub_pem, strlen(ec_a.pub_pem), NULL,
                   USER_CLAIMS);
  CHECK_EQ_INT(verify(&cfg, t), MSVC_ETOKEN);
  free(t);
  /* ... or as a service token: those take the service secret only. */
  t = libjwt_token(JWT_ALG_HS256, ec_a.pub_pem, strlen(ec_a.pub_pem), "A",
                   "{\"svc\":\"post\",\"iat\":1,\"exp\":4102444800}");
  CHECK_EQ_INT(verify(&cfg, t), MSVC_ETOKEN);
  free(t);
  /* A user token signed with the service secret is no user token. */
  t = libjwt_token(JWT_ALG_HS256, service_secret, sizeof(service_secret) - 1,
                   NULL, USER_CLAIMS);
  CHECK_EQ_INT(verify(&cfg, t), MSVC_ETOKEN);
  free(t);

  /* "none", as libjwt makes it and with a signature part stuck on. */
  t = libjwt_token(JWT_ALG_NONE, NULL, 0, "A", USER_CLAIMS);
  CHECK(t != NULL);
  if (t != NULL) {
    char *withsig = malloc(strlen(t) + 5);
    CHECK_EQ_INT(verify(&cfg, t), MSVC_ETOKEN);
    sprintf(withsig, "%sAAAA", t);
    CHECK_EQ_INT(verify(&cfg, withsig), MSVC_ETOKEN);
    free(withsig);
  }
  free(t);

  /* RS256 under the kid of our EC key; ES256 by a stranger under it. */
  t = libjwt_token(JWT_ALG_RS256, rsa_a.priv_pem, strlen(rsa_a.priv_pem), "A",
                   USER_CLAIMS);
  CHECK_EQ_INT(verify(&cfg, t), MSVC_ETOKEN);
  free(t);
  t = libjwt_token(JWT_ALG_ES256, ec_other.priv_pem, strlen(ec_other.priv_pem),
                   "A", USER_CLAIMS);
  CHECK_EQ_INT(verify(&cfg, t), MSVC_ETOKEN);
  free(t);
  /* ES384 is another algorithm even with our key. */
  t = libjwt_token(JWT_ALG_ES384, ec_a.priv_pem, strlen(ec_a.priv_pem), "A",
                   USER_CLAIMS);
  CHECK_EQ_INT(verify(&cfg, t), MSVC_ETOKEN);
  free(t);
  /* No kid at all: our asymmetric tokens always name their key. */
  t = libjwt_token(JWT_ALG_ES256, ec_a.priv_pem, strlen(ec_a.priv_pem), NULL,
                   USER_CLAIMS);
  CHECK_EQ_INT(verify(&cfg, t), MSVC_ETOKEN);
  free(t);
  /* An unknown kid is MSVC_EKEY, unless the token is bad anyway. */
  t = libjwt_token(JWT_ALG_ES256, ec_other.priv_pem, strlen(ec_other.priv_pem),
                   "Z", USER_CLAIMS);
  CHECK_EQ_INT(verify(&cfg, t), MSVC_EKEY);
  free(t);
  t = libjwt_token(JWT_ALG_ES256, ec_other.priv_pem, strlen(ec_other.priv_pem),
                   "Z",
                   "{\"id\":\"" VALID_ID "\",\"name\":\"Ada\",\"email\":\"a\","
                   "\"iat\":1,\"exp\":2}");
  CHECK_EQ_INT(verify(&cfg, t), MSVC_ETOKEN);
  free(t);
  msvc__keyring_free(kr);
}

static void test_kid_limits(void) {
  msvc__keyring_t *kr = ring_new(MSVC__ALG_ES256);
  msvc_token_config_t cfg = config_of(kr);
  char *big = malloc(10 * 1024 + 1);
  char kid65[MSVC__KID_MAX + 2], kid64[MSVC__KID_MAX + 1];
  char err[256];
  char *t;
  memset(big, 'k', 10 * 1024);
  big[10 * 1024] = '\0';
  memset(kid65, 'k', sizeof(kid65) - 1);
  kid65[sizeof(kid65) - 1] = '\0';
  memcpy(kid64, kid65, MSVC__KID_MAX);
  kid64[MSVC__KID_MAX] = '\0';
  CHECK_EQ_INT(msvc__keyring_add_private(kr, big, ec_a.priv_pem,
                                         strlen(ec_a.priv_pem), err,
                                         sizeof(err)),
               MSVC_ECONFIG);
  CHECK_EQ_INT(add_private(kr, kid65, &ec_a), MSVC_ECONFIG);
  CHECK_EQ_INT(add_private(kr, "", &ec_a), MSVC_ECONFIG);
  CHECK_EQ_INT(add_private(kr, "with space", &ec_a), MSVC_ECONFIG);
  CHECK_EQ_INT(add_private(kr, "quo\"te", &ec_a), MSVC_ECONFIG);
  CHECK_EQ_INT(add_private(kr, kid64, &ec_a), 0);
  CHECK_EQ_INT(add_private(kr, kid64, &ec_b), MSVC_ECONFIG); /* twice */
  t = issue(&cfg);
  CHECK_EQ_INT(verify(&cfg, t), 0);
  msvc_free(t);

  /* A 10 KB kid makes a token longer than any we read; 65 bytes is
   * refused as such; 64 unknown bytes are an unknown key. */
  t = libjwt_token(JWT_ALG_ES256, ec_a.priv_pem, strlen(ec_a.priv_pem), big,
                   USER_CLAIMS);
  CHECK_EQ_INT(verify(&cfg, t), MSVC_ETOKEN);
  free(t);
  t = libjwt_token(JWT_ALG_ES256, ec_a.priv_pem, strlen(ec_a.priv_pem), kid65,
                   USER_CLAIMS);
  CHECK_EQ_INT(verify(&cfg, t), MSVC_ETOKEN);
  free(t);
  kid64[0] = 'j';
  t = libjwt_token(JWT_ALG_ES256, ec_a.priv_pem, strlen(ec_a.priv_pem), kid64,
                   USER_CLAIMS);
  CHECK_EQ_INT(verify(&cfg, t), MSVC_EKEY);
  free(t);
  CHECK_EQ_INT(
      msvc__keyring_verify(kr, big, "a", 1, (const unsigned char *)"", 0),
      MSVC_ETOKEN);
  free(big);
  msvc__keyring_free(kr);
}

static void test_load_refusals(void) {
  msvc__keyring_t *es = ring_new(MSVC__ALG_ES256);
  msvc__keyring_t *rs = ring_new(MSVC__ALG_RS256);
  msvc__keyring_t *hs = ring_new(MSVC__ALG_HS256);
  test_key_t small = rsa_key(1024), p384 = ec_key("P-384");
  char *encrypted = pem_private(ec_a.pkey, "passphrase");
  char err[256] = "";
  CHECK_EQ_INT(msvc__keyring_add_private(rs, "small-rsa", small.priv_pem,
                                         strlen(small.priv_pem), err,
                                         sizeof(err)),
               MSVC_ECONFIG);
  fprintf(stderr, "   RSA 1024: %s\n", err);
  CHECK(strstr(err, "small-rsa") != NULL && strstr(err, "1024") != NULL);
  err[0] = '\0';
  CHECK_EQ_INT(msvc__keyring_add_public(rs, "small-pub", small.pub_pem,
                                        strlen(small.pub_pem), err,
                                        sizeof(err)),
               MSVC_ECONFIG);
  CHECK(strstr(err, "small-pub") != NULL);
  CHECK_EQ_INT(add_private(rs, "ec", &ec_a), MSVC_ECONFIG);
  CHECK_EQ_INT(add_private(es, "rsa", &rsa_a), MSVC_ECONFIG);
  CHECK_EQ_INT(add_private(es, "p384", &p384), MSVC_ECONFIG);
  CHECK_EQ_INT(add_private(hs, "ec", &ec_a), MSVC_ECONFIG);
  /* A public PEM is no private key, and a private PEM no public one. */
  CHECK_EQ_INT(msvc__keyring_add_private(es, "pub", ec_a.pub_pem,
                                         strlen(ec_a.pub_pem), err,
                                         sizeof(err)),
               MSVC_ECONFIG);
  CHECK_EQ_INT(msvc__keyring_add_public(es, "priv", ec_a.priv_pem,
                                        strlen(ec_a.priv_pem), err,
                                        sizeof(err)),
               MSVC_ECONFIG);
  /* An encrypted key fails without asking for a passphrase. */
  CHECK(encrypted != NULL);
  CHECK_EQ_INT(msvc__keyring_add_private(es, "enc", encrypted,
                                         strlen(encrypted), err, sizeof(err)),
               MSVC_ECONFIG);
  CHECK_EQ_INT(
      msvc__keyring_add_private(es, "junk", "-----BEGIN", 10, err, sizeof(err)),
      MSVC_ECONFIG);
  CHECK_EQ_INT(msvc__keyring_add_private(es, "half", ec_a.priv_pem,
                                         strlen(ec_a.priv_pem) / 2, err,
                                         sizeof(err)),
               MSVC_ECONFIG);
  CHECK_EQ_INT(msvc__keyring_add_private(es, "empty", "", 0, err, sizeof(err)),
               MSVC_ECONFIG);
  CHECK_EQ_INT(msvc__keyring_can_sign(es), 0);
  /* A secret is for HS256 only. */
  CHECK_EQ_INT(msvc__keyring_set_secret(es, (const unsigned char *)"secret", 6),
               MSVC_EINVAL);
  free(encrypted);
  key_free(&small);
  key_free(&p384);
  msvc__keyring_free(es);
  msvc__keyring_free(rs);
  msvc__keyring_free(hs);
}

static int b64_field(json_object *jwk, const char *name, unsigned char *out,
                     size_t max) {
  const char *s = member_string(jwk, name);
  size_t len = s != NULL ? strlen(s) : 0;
  if (s == NULL || len * 3 / 4 > max || strchr(s, '=') != NULL)
    return -1;
  return (int)b64url_decode(s, len, out);
}

/* The public key a JWK describes, rebuilt with EVP_PKEY_fromdata. */
static EVP_PKEY *jwk_to_pkey(json_object *jwk) {
  unsigned char a[1024], b[1024], point[65] = {0x04}; /* uncompressed */
  const char *kty = member_string(jwk, "kty");
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *ctx = NULL;
  EVP_PKEY *pkey = NULL;
  BIGNUM *n = NULL, *e = NULL;
  int la, lb;
  if (kty != NULL && strcmp(kty, "EC") == 0) {
    CHECK_EQ_STR(member_string(jwk, "crv"), "P-256");
    la = b64_field(jwk, "x", a, sizeof(a));
    lb = b64_field(jwk, "y", b, sizeof(b));
    CHECK(la == 32 && lb == 32);
    if (la != 32 || lb != 32)
      goto out;
    memcpy(point + 1, a, 32);
    memcpy(point + 33, b, 32);
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                    "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                     sizeof(point));
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  } else {
    CHECK_EQ_STR(kty, "RSA");
    la = b64_field(jwk, "n", a, sizeof(a));
    lb = b64_field(jwk, "e", b, sizeof(b));
    CHECK(la > 0 && a[0] != 0 && lb > 0 && b[0] != 0); /* minimal */
    if (la <= 0 || lb <= 0)
      goto out;
    n = BN_bin2bn(a, la, NULL);
    e = BN_bin2bn(b, lb, NULL);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
  }
  params = OSSL_PARAM_BLD_to_param(bld);
  if (ctx == NULL || params == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    pkey = NULL;
out:
  BN_free(n);
  BN_free(e);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  EVP_PKEY_CTX_free(ctx);
  return pkey;
}

/* Each published key, rebuilt, equals its original; kids and fields as
 * RFC 7517 wants. */
static void check_jwks(msvc__keyring_t *kr, const char *alg,
                       const char *const *kids, const test_key_t *const *keys,
                       size_t n) {
  json_object *root = NULL, *arr = NULL;
  char *json = NULL;
  CHECK_EQ_INT(msvc__keyring_jwks(kr, &json), 0);
  CHECK(json != NULL);
  if (json == NULL)
    return;
  root = json_tokener_parse(json);
  CHECK(json_object_object_get_ex(root, "keys", &arr) &&
        json_object_is_type(arr, json_type_array));
  CHECK_EQ_INT(json_object_array_length(arr), n);
  for (size_t i = 0; i < n && i < json_object_array_length(arr); i++) {
    json_object *jwk = json_object_array_get_idx(arr, i);
    EVP_PKEY *rebuilt = jwk_to_pkey(jwk);
    CHECK_EQ_STR(member_string(jwk, "kid"), kids[i]);
    CHECK_EQ_STR(member_string(jwk, "use"), "sig");
    CHECK_EQ_STR(member_string(jwk, "alg"), alg);
    CHECK(rebuilt != NULL && EVP_PKEY_eq(rebuilt, keys[i]->pkey) == 1);
    CHECK(rebuilt == NULL || EVP_PKEY_eq(rebuilt, ec_other.pkey) != 1);
    EVP_PKEY_free(rebuilt);
  }
  json_object_put(root);
  free(json);
}

static void test_jwks(void) {
  msvc__keyring_t *es = ring_new(MSVC__ALG_ES256);
  msvc__keyring_t *rs = ring_new(MSVC__ALG_RS256);
  msvc__keyring_t *hs = ring_new(MSVC__ALG_HS256);
  const char *es_kids[] = {"A", "B"}, *rs_kids[] = {"r1", "r2"};
  const test_key_t *es_keys[] = {&ec_a, &ec_b}, *rs_keys[] = {&rsa_a, &rsa_b};
  char *json = (char *)"untouched";
  CHECK_EQ_INT(add_private(es, "A", &ec_a), 0);
  CHECK_EQ_INT(add_public(es, "B", &ec_b), 0);
  check_jwks(es, "ES256", es_kids, es_keys, 2);
  CHECK_EQ_INT(add_public(rs, "r2", &rsa_b), 0);
  CHECK_EQ_INT(add_private(rs, "r1", &rsa_a), 0);
  check_jwks(rs, "RS256", rs_kids, rs_keys, 2); /* signing keys first */
  CHECK_EQ_INT(msvc__keyring_set_secret(hs, (const unsigned char *)"secret", 6),
               0);
  CHECK_EQ_INT(msvc__keyring_jwks(hs, &json), MSVC_EUNSUPPORTED);
  CHECK(json == NULL);
  msvc__keyring_free(es);
  msvc__keyring_free(rs);
  msvc__keyring_free(hs);
}

/* Service tokens stay HS256 with the service secret on an ES256 ring. */
static void test_service_tokens(void) {
  msvc__keyring_t *kr = ring_new(MSVC__ALG_ES256);
  msvc_token_config_t cfg = config_of(kr), other = config_of(kr);
  msvc__token_claims_t claims;
  json_object *h;
  char *t = NULL;
  CHECK_EQ_INT(add_private(kr, "A", &ec_a), 0);
  CHECK_EQ_INT(msvc__token_issue_service(&cfg, "post", NOW, &t), 0);
  CHECK(t != NULL);
  if (t == NULL)
    goto out;
  h = token_header(t);
  CHECK_EQ_STR(member_string(h, "alg"), "HS256");
  json_object_put(h);
  CHECK_EQ_INT(msvc__token_verify(&cfg, t, strlen(t), NOW, &claims), 0);
  CHECK_EQ_INT(claims.kind, MSVC_CALLER_SERVICE);
  CHECK_EQ_STR(claims.service, "post");
  other.service_secret = (const unsigned char *)"another-service-secret";
  other.service_secret_len = 22;
  CHECK_EQ_INT(verify(&other, t), MSVC_ETOKEN);
  msvc_free(t);
out:
  msvc__keyring_free(kr);
}

/* Verifiers on several threads while the verify-only set is replaced: A
 * is in every set, so every check passes (and ASan sees no freed key). */
typedef struct race {
  msvc_token_config_t cfg;
  const char *token;
  int failures;
} race_t;

static void *race_verify(void *arg) {
  race_t *r = arg;
  for (int i = 0; i < 400; i++)
    if (verify(&r->cfg, r->token) != 0)
      r->failures++;
  return NULL;
}

static void test_concurrent_replace(void) {
  msvc__keyring_t *signer = ring_new(MSVC__ALG_ES256);
  msvc__keyring_t *kr = ring_new(MSVC__ALG_ES256);
  msvc_token_config_t sc = config_of(signer);
  const char *kids_a[] = {"A"}, *kids_ab[] = {"A", "B"};
  const char *pems_a[] = {ec_a.pub_pem},
             *pems_ab[] = {ec_a.pub_pem, ec_b.pub_pem};
  race_t races[3];
  pthread_t threads[3];
  char err[128];
  char *t;
  CHECK_EQ_INT(add_private(signer, "A", &ec_a), 0);
  t = issue(&sc);
  CHECK_EQ_INT(
      msvc__keyring_replace_public(kr, kids_a, pems_a, 1, err, sizeof(err)), 0);
  for (int i = 0; i < 3; i++) {
    races[i].cfg = config_of(kr);
    races[i].token = t;
    races[i].failures = 0;
    CHECK_EQ_INT(pthread_create(&threads[i], NULL, race_verify, &races[i]), 0);
  }
  for (int i = 0; i < 100; i++)
    CHECK_EQ_INT(i % 2 ? msvc__keyring_replace_public(kr, kids_a, pems_a, 1,
                                                      err, sizeof(err))
                       : msvc__keyring_replace_public(kr, kids_ab, pems_ab, 2,
                                                      err, sizeof(err)),
                 0);
  for (int i = 0; i < 3; i++) {
    pthread_join(threads[i], NULL);
    CHECK_EQ_INT(races[i].failures, 0);
  }
  msvc_free(t);
  msvc__keyring_free(signer);
  msvc__keyring_free(kr);
}

int main(void) {
  ec_a = ec_key("P-256");
  ec_b = ec_key("P-256");
  ec_other = ec_key("P-256");
  rsa_a = rsa_key(2048);
  rsa_b = rsa_key(2048);
  RUN(test_es256_round_trip);
  RUN(test_rs256_round_trip);
  RUN(test_rotation);
  RUN(test_replace_public);
  RUN(test_algorithm_confusion);
  RUN(test_kid_limits);
  RUN(test_load_refusals);
  RUN(test_jwks);
  RUN(test_service_tokens);
  RUN(test_concurrent_replace);
  key_free(&ec_a);
  key_free(&ec_b);
  key_free(&ec_other);
  key_free(&rsa_a);
  key_free(&rsa_b);
  TEST_MAIN_END();
}
