/* test_token.c - HS256 tokens (domain/token.c, internal since the token
 * functions left the public API).
 *
 * The tokens in the seed's vector file were signed by jsonwebtoken 9: each
 * must be accepted or rejected as its "expect" says.  Tokens we issue are
 * taken apart here (base64url, then json-c) to check that they carry
 * exactly the header and claims jsonwebtoken produces.  Hostile tokens with
 * a valid signature but ill-typed claims are signed in the test with
 * libjwt directly.
 */
#include <json-c/json.h>
#include <jwt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/token.h"
#include "testutil.h"

#define NOW INT64_C(1800000000) /* 2027, before the far-future exp */
#define VALID_ID "65b3a1f2c9e77a0012345678"

static const char test_secret[] = "unit-test-secret";

static msvc_token_config_t test_config(void) {
  msvc_token_config_t cfg = {(const unsigned char *)test_secret,
                             sizeof(test_secret) - 1, 3600};
  return cfg;
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

/* Signs arbitrary claims with HS256 (or another algorithm) via libjwt. */
static char *sign_raw(jwt_alg_t alg, const char *claims_json) {
  const unsigned char *key = (const unsigned char *)test_secret;
  int key_len = (int)sizeof(test_secret) - 1;
  jwt_t *jwt = NULL;
  char *token = NULL;
  if (alg == JWT_ALG_NONE) { /* libjwt insists on no key for "none" */
    key = NULL;
    key_len = 0;
  }
  if (jwt_new(&jwt) != 0)
    return NULL;
  if (jwt_set_alg(jwt, alg, key, key_len) == 0 &&
      jwt_add_grants_json(jwt, claims_json) == 0)
    token = jwt_encode_str(jwt);
  jwt_free(jwt);
  return token;
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
  cfg.secret = (const unsigned char *)secret;
  cfg.secret_len = strlen(secret);
  cfg.ttl = 3600;
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
out:
  json_object_put(root);
}

static void test_user_round_trip(void) {
  msvc_token_config_t cfg = test_config();
  msvc_user_t *user =
      new_user("Zo\xc3\xab \"Q\" / \\ O'Neil", "zoe@example.com");
  msvc__token_claims_t claims;
  json_object *header = NULL, *payload = NULL;
  char *token = NULL;
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, 1700000000, &token), 0);
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

  /* Exactly what jsonwebtoken signs: header and five claims. */
  CHECK_EQ_INT(split_token(token, &header, &payload), 0);
  CHECK_EQ_INT(object_length(header), 2);
  CHECK_EQ_STR(member_string(header, "alg"), "HS256");
  CHECK_EQ_STR(member_string(header, "typ"), "JWT");
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

  /* Another secret, and a shorter prefix of this one, both fail. */
  cfg.secret = (const unsigned char *)"other-secret";
  cfg.secret_len = 12;
  CHECK_EQ_INT(verify_str(&cfg, token, 1700000000, &claims), MSVC_ETOKEN);
  cfg = test_config();
  cfg.secret_len--;
  CHECK_EQ_INT(verify_str(&cfg, token, 1700000000, &claims), MSVC_ETOKEN);
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
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, NOW, &token), 0);
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
  CHECK_EQ_INT(object_length(header), 2);
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

  CHECK_EQ_INT(msvc__token_issue_user(&cfg, NULL, NOW, &token), MSVC_EINVAL);
  CHECK(token == NULL);
  memcpy(bad->id, "65b3a1f2c9e77a001234567z", MSVC_ID_SIZE);
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, bad, NOW, &token), MSVC_EINVAL);
  memcpy(bad->id, VALID_ID, MSVC_ID_SIZE);
  bad->id[0] = '\0';
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, bad, NOW, &token), MSVC_EINVAL);
  memcpy(bad->id, VALID_ID, MSVC_ID_SIZE);
  saved = bad->name;
  bad->name = NULL;
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, bad, NOW, &token), MSVC_EINVAL);
  bad->name = saved;
  saved = bad->email;
  bad->email = NULL;
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, bad, NOW, &token), MSVC_EINVAL);
  bad->email = saved;
  CHECK_EQ_INT(
      msvc_user_set(bad, VALID_ID, "bad \xff utf-8", "n@example.com", 0, 0), 0);
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, bad, NOW, &token), MSVC_EINVAL);
  memset(big_name, 'n', 512);
  big_name[512] = '\0';
  /* would not fit msvc__token_claims_t.name */
  CHECK_EQ_INT(msvc_user_set(bad, VALID_ID, big_name, "n@example.com", 0, 0),
               0);
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, bad, NOW, &token), MSVC_EINVAL);
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, -1, &token), MSVC_EINVAL);
  CHECK(token == NULL);

  cfg.ttl = 0;
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, NOW, &token), MSVC_EINVAL);
  cfg = test_config();
  cfg.secret_len = 0;
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, NOW, &token), MSVC_EINVAL);
  cfg = test_config();
  cfg.secret = NULL;
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, NOW, &token), MSVC_EINVAL);
  CHECK_EQ_INT(msvc__token_issue_user(NULL, user, NOW, &token), MSVC_EINVAL);
  CHECK_EQ_INT(msvc__token_issue_user(&cfg, user, NOW, NULL), MSVC_EINVAL);

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
  RUN(test_seed_vectors);
  RUN(test_user_round_trip);
  RUN(test_not_nul_terminated);
  RUN(test_service_round_trip);
  RUN(test_issue_rejects);
  RUN(test_claim_types);
  RUN(test_claim_values);
  RUN(test_other_algorithms);
  RUN(test_garbage);
  TEST_MAIN_END();
}
