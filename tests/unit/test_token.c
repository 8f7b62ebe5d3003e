/* test_token.c - HS256 tokens (domain/token.c over an HS256 keyring;
 * ES256/RS256 are in test_keys.c).
 *
 * The tokens in the seed's vector file were signed by jsonwebtoken 9: each
 * must be accepted or rejected as its "expect" says.  Tokens we issue are
 * taken apart here (base64url, then json-c) to check that they carry
 * exactly the claims jsonwebtoken produces, and a header that adds only
 * "kid" (the first 16 hex digits of SHA-256(secret)).  Hostile tokens with
 * a valid signature but ill-typed claims are signed in the test with
 * libjwt directly.
 */
#include <json-c/json.h>
#include <jwt.h>
#include <limits.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/token.h"
#include "testutil.h"

#define NOW INT64_C(1800000000) /* 2027, before the far-future exp */
#define VALID_ID "65b3a1f2c9e77a0012345678"

static const char test_secret[] = "unit-test-secret";

/* An HS256 ring over secret[0..len), which also signs service tokens (the
 * library's default); msvc__keyring_free(cfg.keys) when done. */
static msvc_token_config_t config_for(const char *secret, size_t len) {
  msvc_token_config_t cfg = {NULL, (const unsigned char *)secret, len, 3600};
  if (msvc__keyring_new(MSVC__ALG_HS256, &cfg.keys) != 0 ||
      msvc__keyring_set_secret(cfg.keys, cfg.service_secret, len) != 0)
    abort();
  return cfg;
}

/* The ring of test_secret, made once in main. */
static msvc__keyring_t *test_ring;

static msvc_token_config_t test_config(void) {
  msvc_token_config_t cfg = {test_ring, (const unsigned char *)test_secret,
                             sizeof(test_secret) - 1, 3600};
  return cfg;
}

/* The kid of an HS256 secret: the first 16 hex digits of its SHA-256. */
static void kid_of(const char *secret, size_t len, char kid[17]) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)secret, len, md);
  for (int i = 0; i < 8; i++)
    sprintf(kid + 2 * i, "%02x", md[i]);
}

/* The text of a JSON string; NULL for any other value, and for a string
 * with a NUL inside, which no C string can carry. */
static const char *string_value(json_object *v) {
  const char *s;
  if (!json_object_is_type(v, json_type_string))
    return NULL;
  s = json_object_get_string(v);
  return strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

/* Member `key` of an object (NULL when absent or obj is not an object). */
static json_object *member(json_object *obj, const char *key) {
  json_object *v = NULL;
  if (!json_object_is_type(obj, json_type_object) ||
      !json_object_object_get_ex(obj, key, &v))
    return NULL;
  return v;
}

static const char *member_string(json_object *obj, const char *key) {
  return string_value(member(obj, key));
}

/* The value in text[0..len), or NULL when it is not exactly one JSON
 * value (json-c in strict mode, nothing after the value). */
static json_object *parse_exact(const char *text, size_t len) {
  json_tokener *tok;
  json_object *v;
  if (len > INT_MAX || (tok = json_tokener_new()) == NULL)
    return NULL;
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
  v = json_tokener_parse_ex(tok, text, (int)len);
  if (v != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
                    json_tokener_get_parse_end(tok) != len)) {
    json_object_put(v);
    v = NULL;
  }
  json_tokener_free(tok);
  return v;
}

/* Decodes one base64url part of a token into a json-c value (NULL on any
 * failure). */
static json_object *decode_part(const char *part, size_t len) {
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  char *out = malloc(len + 1);
  size_t n = 0;
  unsigned acc = 0;
  int bits = 0;
  json_object *obj = NULL;
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < len; i++) {
    const char *pos = memchr(alphabet, part[i], 64);
    if (pos == NULL)
      goto out;
    acc = (acc << 6) | (unsigned)(pos - alphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (char)((acc >> bits) & 0xff);
    }
  }
  out[n] = '\0';
  obj = parse_exact(out, n);
out:
  free(out);
  return obj;
}

/* Splits a compact token into its decoded header and payload. */
static int split_token(const char *token, json_object **header,
                       json_object **payload) {
  const char *dot1 = strchr(token, '.');
  const char *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
  *header = *payload = NULL;
  if (dot2 == NULL)
    return -1;
  *header = decode_part(token, (size_t)(dot1 - token));
  *payload = decode_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
  return *header != NULL && *payload != NULL ? 0 : -1;
}

static int64_t member_int(json_object *obj, const char *key) {
  json_object *v = member(obj, key);
  return json_object_is_type(v, json_type_int) ? json_object_get_int64(v)
                                               : -999;
}

/* Members of an object; -1 for anything else. */
static long object_length(json_object *obj) {
  return json_object_is_type(obj, json_type_object)
             ? (long)json_object_object_length(obj)
             : -1;
}

/* Signs arbitrary claims with HS256 (or another algorithm) via libjwt,
 * keyed with `secret`, with a "kid" header given as JSON (NULL: none). */
static char *sign_with(jwt_alg_t alg, const char *secret, const char *kid_json,
                       const char *claims_json) {
  const unsigned char *key = (const unsigned char *)secret;
  int key_len = (int)strlen(secret);
  jwt_t *jwt = NULL;
  char *token = NULL;
  char header[256];
  if (alg == JWT_ALG_NONE) { /* libjwt insists on no key for "none" */
    key = NULL;
    key_len = 0;
  }
  if (jwt_new(&jwt) != 0)
    return NULL;
  if (kid_json != NULL)
    snprintf(header, sizeof(header), "{\"kid\":%s}", kid_json);
  if (jwt_set_alg(jwt, alg, key, key_len) == 0 &&
      (kid_json == NULL || jwt_add_headers_json(jwt, header) == 0) &&
      jwt_add_grants_json(jwt, claims_json) == 0)
    token = jwt_encode_str(jwt);
  jwt_free(jwt);
  return token;
}

static char *sign_raw(jwt_alg_t alg, const char *claims_json) {
  return sign_with(alg, test_secret, NULL, claims_json);
}

/* A user as the library allocates them, with VALID_ID. */
static msvc_user_t *new_user(const char *name, const char *email) {
  msvc_user_t *u = NULL;
  if (msvc_user_new(&u) != 0 ||
      msvc_user_set(u, VALID_ID, name, email, 0, 0) != 0)
    abort();
  return u;
}

static int verify_str(const msvc_token_config_t *cfg, const char *token,
                      int64_t now, msvc__token_claims_t *claims) {
  return msvc__token_verify(cfg, token, strlen(token), now, claims);
}

static void check_vector(json_object *jwtv, const msvc_token_config_t *cfg,
                         const char *name, const char *expect) {
  const char *token = member_string(jwtv, name);
  msvc__token_claims_t claims;
  int rc;
  CHECK(token != NULL);
  if (token == NULL)
    return;
  rc = verify_str(cfg, token, NOW, &claims);
  fprintf(stderr, "   %s: %s -> %s\n", name, expect, msvc_err_name(rc));
  if (strncmp(expect, "accept", 6) != 0) {
    CHECK_EQ_INT(rc, MSVC_ETOKEN);
    CHECK_EQ_STR(claims.id, ""); /* nothing left behind on failure */
    return;
  }
  CHECK_EQ_INT(rc, 0);
  CHECK_EQ_INT(claims.kind, MSVC_CALLER_USER);
  CHECK_EQ_STR(claims.id, VALID_ID);
  CHECK_EQ_STR(claims.name, "Ada Lovelace");
  CHECK_EQ_STR(claims.email, "ada@example.com");
  CHECK_EQ_STR(claims.service, "");
  CHECK_EQ_INT(claims.iat, 1700000000);
  CHECK_EQ_INT(claims.exp, INT64_C(4102444800));
}

static void test_seed_vectors(void) {
  json_object *root = json_object_from_file(MSVC_VECTORS_FILE);
  json_object *jwtv = NULL, *expect = NULL;
  const char *secret;
  msvc_token_config_t cfg;
  int seen = 0;
  CHECK(root != NULL);
  if (root == NULL)
    return;
  jwtv = member(root, "jwt");
  expect = member(jwtv, "expect");
  CHECK(jwtv != NULL);
  secret = member_string(jwtv, "secret");
  CHECK(secret != NULL && json_object_is_type(expect, json_type_object));
  if (secret == NULL || !json_object_is_type(expect, json_type_object))
    goto out;
  cfg = config_for(secret, strlen(secret));
  json_object_object_foreach(expect, name, value) {
    const char *want = string_value(value);
    CHECK(want != NULL);
    if (want != NULL)
      check_vector(jwtv, &cfg, name, want);
    seen++;
  }
  CHECK_EQ_INT(seen, 6);
  /* "expired" is rejected for its exp alone: an hour earlier it passes. */
  {
    msvc__token_claims_t claims;
    const char *expired = member_string(jwtv, "expired");
    CHECK(expired != NULL);
    if (expired != NULL) {
      CHECK_EQ_INT(verify_str(&cfg, expired, 1700003599, &claims), 0);
      CHECK_EQ_INT(verify_str(&cfg, expired, 1700003600, &claims), MSVC_ETOKEN);
    }
  }
  msvc__keyring_free(cfg.keys);
out:
  json_object_put(root);
}

static void test_user_round_trip(void) {
  msvc_token_config_t cfg = test_config(), other;
  msvc_user_t *user =
      new_user("Zo\xc3\xab \"Q\" / \\ O'Neil", "zoe@example.com");
  msvc__token_claims_t claims;
  json_object *header = NULL, *payload = NULL;
  char *token = NULL;
  char kid[17];
  kid_of(test_secret, sizeof(test_secret) - 1, kid);
  CHECK_EQ_INT(
      msvc__token_issue_user(&cfg, user, NULL, NULL, 1700000000, &token), 0);
  CHECK(token != NULL);
  if (token == NULL)
    goto out;
  CHECK_EQ_INT(verify_str(&cfg, token, 1700000000, &claims), 0);
  CHECK_EQ_INT(claims.kind, MSVC_CALLER_USER);
  CHECK_EQ_STR(claims.id, VALID_ID);
  CHECK_EQ_STR(claims.name, user->name);
  CHECK_EQ_STR(claims.email, "zoe@example.com");
  CHECK_EQ_INT(claims.iat, 1700000000);
  CHECK_EQ_INT(claims.exp, 1700003600);
  CHECK_EQ_STR(claims.sid, "");
  CHECK_EQ_STR(claims.jti, "");

  /* Exactly what jsonwebtoken signs, and a kid: header and five claims. */
  CHECK_EQ_INT(split_token(token, &header, &payload), 0);
  CHECK_EQ_INT(object_length(header), 3);
  CHECK_EQ_STR(member_string(header, "alg"), "HS256");
  CHECK_EQ_STR(member_string(header, "typ"), "JWT");
  CHECK_EQ_STR(member_string(header, "kid"), kid);
  CHECK_EQ_INT(object_length(payload), 5);
  CHECK_EQ_STR(member_string(payload, "id"), VALID_ID);
  CHECK_EQ_STR(member_string(payload, "name"), user->name);
  CHECK_EQ_STR(member_string(payload, "email"), "zoe@example.com");
  CHECK_EQ_INT(member_int(payload, "iat"), 1700000000);
  CHECK_EQ_INT(member_int(payload, "exp"), 1700003600);
  json_object_put(header);
  json_object_put(payload);

  /* Expiry: valid up to exp - 1, refused from exp on. */
  CHECK_EQ_INT(verify_str(&cfg, token, 1700003599, &claims), 0);
  CHECK_EQ_INT(verify_str(&cfg, token, 1700003600, &claims), MSVC_ETOKEN);
  CHECK_EQ_INT(verify_str(&cfg, token, 1700003601, &claims), MSVC_ETOKEN);

  /* Under another secret, or a shorter prefix of this one, the kid is
   * not the ring's: an unknown key. */
  other = config_for("other-secret", 12);
  CHECK_EQ_INT(verify_str(&other, token, 1700000000, &claims), MSVC_EKEY);
  msvc__keyring_free(other.keys);
  other = config_for(test_secret, sizeof(test_secret) - 2);
  CHECK_EQ_INT(verify_str(&other, token, 1700000000, &claims), MSVC_EKEY);
  msvc__keyring_free(other.keys);
out:
  msvc_free(token);
  msvc_user_free(user);
}

static void test_not_nul_terminated(void) {
  msvc_token_config_t cfg = test_config();
  msvc_user_t *user = new_user("N", "n@example.com");
  msvc__token_claims_t claims;
  char *token = NULL, *padded;
  size_t len;
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, NULL, NULL, NOW, &token), 0);
  msvc_user_free(user);
  if (token == NULL)
    return;
  len = strlen(token);
  padded = malloc(len + 8);
  CHECK(padded != NULL);
  if (padded != NULL) {
    memcpy(padded, token, len);
    memcpy(padded + len, "garbage!", 8); /* no NUL after the token */
    CHECK_EQ_INT(msvc__token_verify(&cfg, padded, len, NOW, &claims), 0);
    CHECK_EQ_INT(msvc__token_verify(&cfg, padded, len + 1, NOW, &claims),
                 MSVC_ETOKEN);
    CHECK_EQ_INT(msvc__token_verify(&cfg, padded, len - 1, NOW, &claims),
                 MSVC_ETOKEN);
    free(padded);
  }
  msvc_free(token);
}

static void test_service_round_trip(void) {
  msvc_token_config_t cfg = test_config();
  msvc__token_claims_t claims;
  json_object *header = NULL, *payload = NULL;
  char name63[64];
  char *token = NULL;
  CHECK_EQ_INT(msvc__token_issue_service(&cfg, "post", NOW, &token), 0);
  CHECK(token != NULL);
  if (token == NULL)
    return;
  CHECK_EQ_INT(verify_str(&cfg, token, NOW, &claims), 0);
  CHECK_EQ_INT(claims.kind, MSVC_CALLER_SERVICE);
  CHECK_EQ_STR(claims.service, "post");
  CHECK_EQ_STR(claims.id, "");
  CHECK_EQ_INT(claims.iat, NOW);
  CHECK_EQ_INT(claims.exp, NOW + 3600);
  CHECK_EQ_INT(split_token(token, &header, &payload), 0);
  CHECK_EQ_INT(object_length(header), 3);
  CHECK_EQ_STR(member_string(header, "alg"), "HS256");
  CHECK_EQ_INT(object_length(payload), 3);
  CHECK_EQ_STR(member_string(payload, "svc"), "post");
  CHECK_EQ_INT(member_int(payload, "exp"), NOW + 3600);
  json_object_put(header);
  json_object_put(payload);
  CHECK_EQ_INT(verify_str(&cfg, token, NOW + 3600, &claims), MSVC_ETOKEN);
  msvc_free(token);

  memset(name63, 's', 63);
  name63[63] = '\0';
  token = NULL;
  CHECK_EQ_INT(msvc__token_issue_service(&cfg, name63, NOW, &token), 0);
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == 0);
  CHECK_EQ_STR(claims.service, name63);
  msvc_free(token);
}

static void test_issue_rejects(void) {
  msvc_token_config_t cfg = test_config();
  msvc_user_t *user = new_user("N", "n@example.com");
  msvc_user_t *bad = new_user("N", "n@example.com");
  char name64[65], big_name[513];
  char *token = (char *)"untouched", *saved;

  CHECK_EQ_INT(msvc__token_issue_user(&cfg, NULL, NULL, NULL, NOW, &token),
               MSVC_EINVAL);
  CHECK(token == NULL);
  memcpy(bad->id, "65b3a1f2c9e77a001234567z", MSVC_ID_SIZE);
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, bad, NULL, NULL, NOW, &token),
               MSVC_EINVAL);
  memcpy(bad->id, VALID_ID, MSVC_ID_SIZE);
  bad->id[0] = '\0';
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, bad, NULL, NULL, NOW, &token),
               MSVC_EINVAL);
  memcpy(bad->id, VALID_ID, MSVC_ID_SIZE);
  saved = bad->name;
  bad->name = NULL;
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, bad, NULL, NULL, NOW, &token),
               MSVC_EINVAL);
  bad->name = saved;
  saved = bad->email;
  bad->email = NULL;
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, bad, NULL, NULL, NOW, &token),
               MSVC_EINVAL);
  bad->email = saved;
  CHECK_EQ_INT(
      msvc_user_set(bad, VALID_ID, "bad \xff utf-8", "n@example.com", 0, 0), 0);
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, bad, NULL, NULL, NOW, &token),
               MSVC_EINVAL);
  memset(big_name, 'n', 512);
  big_name[512] = '\0';
  /* would not fit msvc__token_claims_t.name */
  CHECK_EQ_INT(msvc_user_set(bad, VALID_ID, big_name, "n@example.com", 0, 0),
               0);
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, bad, NULL, NULL, NOW, &token),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, NULL, NULL, -1, &token),
               MSVC_EINVAL);
  CHECK(token == NULL);
  /* sid must be an id, jti fit msvc__token_claims_t.jti. */
  memset(name64, 'j', 64);
  name64[64] = '\0';
  CHECK_EQ_INT(
      msvc__token_issue_user(&cfg, user, "not-an-id", NULL, NOW, &token),
      MSVC_EINVAL);
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, NULL, name64, NOW, &token),
               MSVC_EINVAL);
  CHECK_EQ_INT(
      msvc__token_issue_user(&cfg, user, NULL, "bad \xff", NOW, &token),
      MSVC_EINVAL);
  CHECK(token == NULL);

  cfg.ttl = 0;
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, NULL, NULL, NOW, &token),
               MSVC_EINVAL);
  cfg = test_config();
  cfg.service_secret_len = 0;
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, NULL, NULL, NOW, &token),
               MSVC_EINVAL);
  cfg = test_config();
  cfg.service_secret = NULL;
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, NULL, NULL, NOW, &token),
               MSVC_EINVAL);
  cfg = test_config();
  cfg.keys = NULL;
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, NULL, NULL, NOW, &token),
               MSVC_EINVAL);
  cfg = test_config();
  CHECK_EQ_INT(msvc__token_issue_user(NULL, user, NULL, NULL, NOW, &token),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, NULL, NULL, NOW, NULL),
               MSVC_EINVAL);
  /* A ring without its secret cannot sign. */
  CHECK_EQ_INT(msvc__keyring_new(MSVC__ALG_HS256, &cfg.keys), 0);
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, NULL, NULL, NOW, &token),
               MSVC_EINVAL);
  msvc__keyring_free(cfg.keys);

  cfg = test_config();
  memset(name64, 's', 64);
  name64[64] = '\0';
  CHECK_EQ_INT(msvc__token_issue_service(&cfg, "", NOW, &token), MSVC_EINVAL);
  CHECK_EQ_INT(msvc__token_issue_service(&cfg, NULL, NOW, &token), MSVC_EINVAL);
  CHECK_EQ_INT(msvc__token_issue_service(&cfg, name64, NOW, &token),
               MSVC_EINVAL);
  CHECK(token == NULL);
  CHECK_EQ_INT(msvc__token_issue_service(NULL, "post", NOW, &token),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc__token_issue_service(&cfg, "post", NOW, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc__token_issue_service(&cfg, "post", -1, &token),
               MSVC_EINVAL);
  CHECK(token == NULL);
  msvc_user_free(bad);
  msvc_user_free(user);
}

/* Sessions' tokens carry sid and jti; tokens from elsewhere may carry
 * neither, but not ill-typed ones. */
static void test_session_claims(void) {
  msvc_token_config_t cfg = test_config();
  msvc_user_t *user = new_user("N", "n@example.com");
  msvc__token_claims_t claims;
  json_object *header = NULL, *payload = NULL;
  char *token = NULL;
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, "65B3A1F2C9E77A00123456FF",
                                      "0123456789abcdef", NOW, &token),
               0);
  msvc_user_free(user);
  CHECK(token != NULL);
  if (token == NULL)
    return;
  CHECK_EQ_INT(verify_str(&cfg, token, NOW, &claims), 0);
  CHECK_EQ_STR(claims.sid, "65b3a1f2c9e77a00123456ff"); /* lower-cased */
  CHECK_EQ_STR(claims.jti, "0123456789abcdef");
  CHECK_EQ_INT(split_token(token, &header, &payload), 0);
  CHECK_EQ_INT(object_length(payload), 7);
  json_object_put(header);
  json_object_put(payload);
  msvc_free(token);

#define CLAIMS_WITH(extra)                                                     \
  "{\"id\":\"" VALID_ID "\",\"name\":\"N\",\"email\":\"e\",\"iat\":1,"         \
  "\"exp\":4102444800" extra "}"
  {
    static const struct {
      const char *claims;
      int rc;
    } cases[] = {
        {CLAIMS_WITH(",\"sid\":\"65b3a1f2c9e77a00123456ff\",\"jti\":\"x\""), 0},
        {CLAIMS_WITH(",\"sid\":7"), MSVC_ETOKEN},
        {CLAIMS_WITH(",\"sid\":\"short\""), MSVC_ETOKEN},
        {CLAIMS_WITH(",\"sid\":null"), MSVC_ETOKEN},
        {CLAIMS_WITH(",\"jti\":[]"), MSVC_ETOKEN},
        {CLAIMS_WITH(",\"jti\":\"0123456789012345678901234567890123456789"
                     "012345678901234567890123\""),
         MSVC_ETOKEN}, /* 64 bytes: does not fit */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
      token = sign_raw(JWT_ALG_HS256, cases[i].claims);
      CHECK(token != NULL);
      if (token != NULL)
        CHECK_EQ_INT(verify_str(&cfg, token, NOW, &claims), cases[i].rc);
      free(token);
    }
  }
}

/* Under HS256 a token names the secret's kid or none; another kid is an
 * unknown key; a kid we would never accept is a bad token. */
static void test_hs256_kid(void) {
  msvc_token_config_t cfg = test_config();
  msvc__token_claims_t claims;
  char kid[17], json[128], big[200];
  char *token;
  kid_of(test_secret, sizeof(test_secret) - 1, kid);
  snprintf(json, sizeof(json), "\"%s\"", kid);
  token = sign_with(JWT_ALG_HS256, test_secret, json, CLAIMS_WITH(""));
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == 0);
  free(token);
  token = sign_with(JWT_ALG_HS256, test_secret, "\"0000000000000000\"",
                    CLAIMS_WITH(""));
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == MSVC_EKEY);
  free(token);
  /* An expired token is refused as such whatever its kid. */
  token = sign_with(JWT_ALG_HS256, test_secret, "\"0000000000000000\"",
                    "{\"id\":\"" VALID_ID "\",\"name\":\"N\",\"email\":\"e\","
                    "\"iat\":1,\"exp\":2}");
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == MSVC_ETOKEN);
  free(token);
  /* Our kid, another secret: a bad signature. */
  token = sign_with(JWT_ALG_HS256, "other-secret", json, CLAIMS_WITH(""));
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == MSVC_ETOKEN);
  free(token);
  token = sign_with(JWT_ALG_HS256, test_secret, "17", CLAIMS_WITH(""));
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == MSVC_ETOKEN);
  free(token);
  memset(big, 'k', sizeof(big));
  snprintf(json, sizeof(json), "\"%.65s\"", big); /* one byte too long */
  token = sign_with(JWT_ALG_HS256, test_secret, json, CLAIMS_WITH(""));
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == MSVC_ETOKEN);
  free(token);
}

/* A service secret apart from the JWT secret: each verifies only its own
 * kind of token. */
static void test_separate_service_secret(void) {
  msvc_token_config_t cfg = test_config();
  msvc__token_claims_t claims;
  char *token = NULL;
  cfg.service_secret = (const unsigned char *)"svc-secret";
  cfg.service_secret_len = 10;
  CHECK_EQ_INT(msvc__token_issue_service(&cfg, "post", NOW, &token), 0);
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == 0);
  CHECK_EQ_INT(claims.kind, MSVC_CALLER_SERVICE);
  msvc_free(token);
  /* Service claims under the JWT secret, user claims under the service
   * secret: both refused. */
  token = sign_with(JWT_ALG_HS256, test_secret, NULL,
                    "{\"svc\":\"post\",\"iat\":1,\"exp\":4102444800}");
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == MSVC_ETOKEN);
  free(token);
  token = sign_with(JWT_ALG_HS256, "svc-secret", NULL, CLAIMS_WITH(""));
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == MSVC_ETOKEN);
  free(token);
  /* A service token naming another kid is refused, not an unknown key: the
   * service secret is not in any JWK Set. */
  token = sign_with(JWT_ALG_HS256, "svc-secret", "\"0000000000000000\"",
                    "{\"svc\":\"post\",\"iat\":1,\"exp\":4102444800}");
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == MSVC_ETOKEN);
  free(token);
  /* HS512 service tokens are refused like HS512 user tokens. */
  token = sign_with(JWT_ALG_HS512, "svc-secret", NULL,
                    "{\"svc\":\"post\",\"iat\":1,\"exp\":4102444800}");
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == MSVC_ETOKEN);
  free(token);
}

/* Correctly signed HS256 tokens whose claims are wrong in one way each. */
static void test_claim_types(void) {
  static const struct {
    const char *claims;
    int rc;
  } cases[] = {
      {"{\"id\":\"" VALID_ID "\",\"name\":\"N\",\"email\":\"e\","
       "\"iat\":1,\"exp\":4102444800}",
       0},
      {"{\"id\":\"" VALID_ID "\",\"name\":\"N\",\"email\":\"e\","
       "\"iat\":1,\"exp\":\"4102444800\"}",
       MSVC_ETOKEN},
      {"{\"id\":\"" VALID_ID "\",\"name\":\"N\",\"email\":\"e\","
       "\"iat\":1,\"exp\":true}",
       MSVC_ETOKEN},
      {"{\"id\":\"" VALID_ID "\",\"name\":\"N\",\"email\":\"e\","
       "\"iat\":1,\"exp\":null}",
       MSVC_ETOKEN},
      {"{\"id\":\"" VALID_ID "\",\"name\":\"N\",\"email\":\"e\","
       "\"iat\":1,\"exp\":[4102444800]}",
       MSVC_ETOKEN},
      {"{\"id\":\"" VALID_ID "\",\"name\":\"N\",\"email\":\"e\",\"iat\":1}",
       MSVC_ETOKEN},
      {"{\"id\":\"" VALID_ID "\",\"name\":\"N\",\"email\":\"e\","
       "\"exp\":4102444800}",
       MSVC_ETOKEN},
      {"{\"id\":\"" VALID_ID "\",\"name\":\"N\",\"email\":\"e\","
       "\"iat\":\"1\",\"exp\":4102444800}",
       MSVC_ETOKEN},
      {"{\"id\":\"" VALID_ID "\",\"name\":\"N\",\"email\":\"e\","
       "\"iat\":0,\"exp\":4102444800}",
       0},
      {"{\"id\":\"" VALID_ID "\",\"name\":\"N\",\"email\":\"e\","
       "\"iat\":0.5,\"exp\":4102444800.5}",
       0},
      {"{\"id\":\"" VALID_ID "\",\"name\":\"N\",\"email\":\"e\","
       "\"iat\":1,\"exp\":0}",
       MSVC_ETOKEN},
      {"{\"id\":12345,\"name\":\"N\",\"email\":\"e\","
       "\"iat\":1,\"exp\":4102444800}",
       MSVC_ETOKEN},
      {"{\"id\":\"65b3a1f2c9e77a001234567\",\"name\":\"N\",\"email\":\"e\","
       "\"iat\":1,\"exp\":4102444800}",
       MSVC_ETOKEN},
      {"{\"id\":\"65b3a1f2c9e77a001234567g\",\"name\":\"N\",\"email\":\"e\","
       "\"iat\":1,\"exp\":4102444800}",
       MSVC_ETOKEN},
      {"{\"id\":\"" VALID_ID "\",\"email\":\"e\","
       "\"iat\":1,\"exp\":4102444800}",
       MSVC_ETOKEN},
      {"{\"id\":\"" VALID_ID "\",\"name\":\"N\",\"email\":7,"
       "\"iat\":1,\"exp\":4102444800}",
       MSVC_ETOKEN},
      {"{\"id\":\"" VALID_ID "\",\"name\":\"N\",\"email\":\"e\",\"svc\":\"x\","
       "\"iat\":1,\"exp\":4102444800}",
       MSVC_ETOKEN},
      {"{\"svc\":\"post\",\"iat\":1,\"exp\":4102444800}", 0},
      {"{\"svc\":\"\",\"iat\":1,\"exp\":4102444800}", MSVC_ETOKEN},
      {"{\"svc\":1,\"iat\":1,\"exp\":4102444800}", MSVC_ETOKEN},
      {"{\"id\":null,\"svc\":\"post\",\"iat\":1,\"exp\":4102444800}",
       MSVC_ETOKEN},
      {"{\"iat\":1,\"exp\":4102444800}", MSVC_ETOKEN},
      {"{}", MSVC_ETOKEN},
  };
  msvc_token_config_t cfg = test_config();
  msvc__token_claims_t claims;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *token = sign_raw(JWT_ALG_HS256, cases[i].claims);
    int rc;
    CHECK(token != NULL);
    if (token == NULL)
      continue;
    rc = verify_str(&cfg, token, NOW, &claims);
    if (rc != cases[i].rc)
      fprintf(stderr, "   claims %s gave %s\n", cases[i].claims,
              msvc_err_name(rc));
    CHECK_EQ_INT(rc, cases[i].rc);
    free(token);
  }
}

static void test_claim_values(void) {
  msvc_token_config_t cfg = test_config();
  msvc__token_claims_t claims;
  char json[2048], fill[600];
  char *token;

  /* A fractional exp counts down to the whole second. */
  token = sign_raw(JWT_ALG_HS256, "{\"id\":\"" VALID_ID "\",\"name\":\"N\","
                                  "\"email\":\"e\",\"iat\":1,"
                                  "\"exp\":4102444800.5}");
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == 0);
  CHECK_EQ_INT(claims.exp, INT64_C(4102444800));
  free(token);

  /* Upper-case hex ids are accepted and handed on lower-cased. */
  token = sign_raw(JWT_ALG_HS256, "{\"id\":\"65B3A1F2C9E77A0012345678\","
                                  "\"name\":\"N\",\"email\":\"e\",\"iat\":1,"
                                  "\"exp\":4102444800}");
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == 0);
  CHECK_EQ_STR(claims.id, VALID_ID);
  free(token);

  /* name fits in 511 bytes, not 512; email in 255, not 256. */
  memset(fill, 'a', sizeof(fill));
  snprintf(json, sizeof(json),
           "{\"id\":\"%s\",\"name\":\"%.511s\",\"email\":\"e\",\"iat\":1,"
           "\"exp\":4102444800}",
           VALID_ID, fill);
  token = sign_raw(JWT_ALG_HS256, json);
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == 0);
  CHECK_EQ_INT(strlen(claims.name), 511);
  free(token);
  snprintf(json, sizeof(json),
           "{\"id\":\"%s\",\"name\":\"%.512s\",\"email\":\"e\",\"iat\":1,"
           "\"exp\":4102444800}",
           VALID_ID, fill);
  token = sign_raw(JWT_ALG_HS256, json);
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == MSVC_ETOKEN);
  free(token);
  snprintf(json, sizeof(json),
           "{\"id\":\"%s\",\"name\":\"N\",\"email\":\"%.256s\",\"iat\":1,"
           "\"exp\":4102444800}",
           VALID_ID, fill);
  token = sign_raw(JWT_ALG_HS256, json);
  CHECK(token != NULL && verify_str(&cfg, token, NOW, &claims) == MSVC_ETOKEN);
  free(token);
}

static void test_other_algorithms(void) {
  static const jwt_alg_t algs[] = {JWT_ALG_HS384, JWT_ALG_HS512, JWT_ALG_NONE};
  msvc_token_config_t cfg = test_config();
  msvc__token_claims_t claims;
  for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
    char *token = sign_raw(algs[i], "{\"id\":\"" VALID_ID "\",\"name\":\"N\","
                                    "\"email\":\"e\",\"iat\":1,"
                                    "\"exp\":4102444800}");
    CHECK(token != NULL);
    if (token == NULL)
      continue;
    CHECK_EQ_INT(verify_str(&cfg, token, NOW, &claims), MSVC_ETOKEN);
    free(token);
  }
}

/* A fixed pseudo-random sequence keeps the garbage test reproducible. */
static unsigned next_random(unsigned *state) {
  *state = *state * 1103515245u + 12345u;
  return *state >> 16;
}

static void test_garbage(void) {
  static const char *const inputs[] = {
      "",
      "a",
      "a.b",
      "a.b.c",
      "..",
      "a..c",
      ".b.c",
      "a.b.",
      "a.b.c.d",
      "eyJ!.eyJ.abc",
      "eyJhbGciOiJIUzI1NiJ9.e30.e30",
      "eyJhbGciOiJIUzI1NiJ9=.e30.abc",
      "e30.e30.e30",
      "bm90IGpzb24.bm90IGpzb24.bm90IGpzb24",
      "Bearer eyJhbGciOiJIUzI1NiJ9.e30.e30",
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.W10.abc",
  };
  msvc_token_config_t cfg = test_config();
  msvc__token_claims_t claims;
  unsigned state = 12345;
  char *big = malloc(5001);
  char noise[200];
  CHECK(big != NULL);
  for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
    CHECK_EQ_INT(verify_str(&cfg, inputs[i], NOW, &claims), MSVC_ETOKEN);
  CHECK_EQ_INT(msvc__token_verify(&cfg, NULL, 0, NOW, &claims), MSVC_ETOKEN);
  CHECK_EQ_INT(msvc__token_verify(&cfg, "a.b\0.c", 6, NOW, &claims),
               MSVC_ETOKEN);
  CHECK_EQ_INT(msvc__token_verify(NULL, "a.b.c", 5, NOW, &claims), MSVC_EINVAL);
  CHECK_EQ_INT(msvc__token_verify(&cfg, "a.b.c", 5, NOW, NULL), MSVC_EINVAL);
  if (big != NULL) {
    memset(big, 'a', 5000);
    big[5000] = '\0';
    CHECK_EQ_INT(verify_str(&cfg, big, NOW, &claims), MSVC_ETOKEN);
    big[1000] = big[3000] = '.'; /* base64url shaped, but too long */
    CHECK_EQ_INT(verify_str(&cfg, big, NOW, &claims), MSVC_ETOKEN);
    big[MSVC_TOKEN_MAX_BYTES] = '\0'; /* within the limit, not a JWT */
    CHECK_EQ_INT(verify_str(&cfg, big, NOW, &claims), MSVC_ETOKEN);
    free(big);
  }
  for (int round = 0; round < 200; round++) {
    size_t len = next_random(&state) % sizeof(noise);
    for (size_t i = 0; i < len; i++)
      noise[i] = (char)(next_random(&state) & 0xff);
    if (len > 10) /* sometimes shaped like a token */
      noise[len / 3] = noise[2 * len / 3] = '.';
    CHECK_EQ_INT(msvc__token_verify(&cfg, noise, len, NOW, &claims),
                 MSVC_ETOKEN);
  }
}

int main(void) {
  test_ring = config_for(test_secret, sizeof(test_secret) - 1).keys;
  RUN(test_seed_vectors);
  RUN(test_user_round_trip);
  RUN(test_not_nul_terminated);
  RUN(test_service_round_trip);
  RUN(test_issue_rejects);
  RUN(test_session_claims);
  RUN(test_hs256_kid);
  RUN(test_separate_service_secret);
  RUN(test_claim_types);
  RUN(test_claim_values);
  RUN(test_other_algorithms);
  RUN(test_garbage);
  msvc__keyring_free(test_ring);
  TEST_MAIN_END();
}
