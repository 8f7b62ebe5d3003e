/* test_password.c - password hashing and checking (libmsvc/password.c).
 *
 * The bcrypt hashes in the seed's vector file were made by node's bcrypt
 * and bcryptjs: every one must verify here, or users created by the seed
 * could not log in after a migration.  New hashes use cost 4 (bcrypt) or
 * the smallest yescrypt cost to keep the run short, plus one at the real
 * default.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "msvc/password.h"
#include "testutil.h"

#define VECTOR_HASH                                                            \
  "$2b$10$C9XWPSw9uHefbp35dpHrMuIcK8Dcyy.GaJegqQGYGaJ007wCr3z4u"

static const char *member_string(json_object *obj, const char *key) {
  json_object *v;
  if (!json_object_object_get_ex(obj, key, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

static void test_seed_vectors(void) {
  json_object *root = json_object_from_file(MSVC_VECTORS_FILE);
  json_object *list = NULL;
  const char *first_hash = NULL, *wrong;
  CHECK(root != NULL);
  if (root == NULL)
    return;
  CHECK(json_object_object_get_ex(root, "bcrypt", &list));
  CHECK(json_object_is_type(list, json_type_array));
  CHECK(json_object_array_length(list) >= 5);
  for (size_t i = 0; i < json_object_array_length(list); i++) {
    json_object *v = json_object_array_get_idx(list, i);
    const char *pw = member_string(v, "password");
    const char *hash = member_string(v, "hash");
    CHECK(pw != NULL && hash != NULL);
    if (pw == NULL || hash == NULL)
      continue;
    if (i == 0)
      first_hash = hash;
    fprintf(stderr, "   vector %zu: %s\n", i, member_string(v, "made_by"));
    CHECK_EQ_INT(msvc_password_verify(pw, strlen(pw), hash), 0);
  }
  wrong = member_string(root, "bcrypt_wrong_password_for_first");
  CHECK(wrong != NULL && first_hash != NULL);
  if (wrong != NULL && first_hash != NULL)
    CHECK_EQ_INT(msvc_password_verify(wrong, strlen(wrong), first_hash),
                 MSVC_EAUTH);
  json_object_put(root);
}

static void test_bcrypt_round_trip(void) {
  msvc_password_config_t cfg = {"$2b$", 4};
  const char *pw = "hunter2 hunter2 \xc3\xa9";
  char *h1 = NULL, *h2 = NULL;
  CHECK_EQ_INT(msvc_password_hash(&cfg, pw, strlen(pw), &h1), 0);
  CHECK_EQ_INT(msvc_password_hash(&cfg, pw, strlen(pw), &h2), 0);
  CHECK(h1 != NULL && h2 != NULL);
  if (h1 == NULL || h2 == NULL)
    goto out;
  CHECK(strncmp(h1, "$2b$04$", 7) == 0);
  CHECK_EQ_INT(strlen(h1), 60);
  CHECK(strcmp(h1, h2) != 0); /* a fresh salt each time */
  CHECK_EQ_INT(msvc_password_verify(pw, strlen(pw), h1), 0);
  CHECK_EQ_INT(msvc_password_verify(pw, strlen(pw), h2), 0);
  CHECK_EQ_INT(msvc_password_verify("hunter2", 7, h1), MSVC_EAUTH);
  CHECK_EQ_INT(msvc_password_verify("", 0, h1), MSVC_EAUTH);
out:
  msvc_free(h1);
  msvc_free(h2);
}

static void test_default_cost(void) {
  msvc_password_config_t cfg;
  char *hash = NULL;
  msvc_password_config_init(&cfg);
  CHECK_EQ_STR(cfg.prefix, "$2b$");
  CHECK_EQ_INT(cfg.cost, 10);
  CHECK_EQ_INT(msvc_password_hash(&cfg, "password123", 11, &hash), 0);
  CHECK(hash != NULL && strncmp(hash, "$2b$10$", 7) == 0);
  CHECK_EQ_INT(msvc_password_verify("password123", 11, hash), 0);
  CHECK_EQ_INT(msvc_password_needs_rehash(&cfg, hash), 0);
  msvc_free(hash);
}

static void test_yescrypt_round_trip(void) {
  msvc_password_config_t cfg = {"$y$", 1};
  char *hash = NULL;
  CHECK_EQ_INT(msvc_password_hash(&cfg, "correct horse", 13, &hash), 0);
  CHECK(hash != NULL && strncmp(hash, "$y$j75$", 7) == 0);
  CHECK_EQ_INT(msvc_password_verify("correct horse", 13, hash), 0);
  CHECK_EQ_INT(msvc_password_verify("correct horsf", 13, hash), MSVC_EAUTH);
  CHECK_EQ_INT(msvc_password_needs_rehash(&cfg, hash), 0);
  cfg.cost = 0; /* libxcrypt's default, 5 */
  CHECK_EQ_INT(msvc_password_needs_rehash(&cfg, hash), 1);
  msvc_free(hash);
  hash = NULL;
  CHECK_EQ_INT(msvc_password_hash(&cfg, "correct horse", 13, &hash), 0);
  CHECK(hash != NULL && strncmp(hash, "$y$j9T$", 7) == 0);
  CHECK_EQ_INT(msvc_password_verify("correct horse", 13, hash), 0);
  cfg.cost = 5;
  CHECK_EQ_INT(msvc_password_needs_rehash(&cfg, hash), 0);
  msvc_free(hash);
}

static void test_password_bytes(void) {
  msvc_password_config_t cfg = {"$2b$", 4};
  char x72[73];
  char *hash = (char *)"untouched";
  memset(x72, 'x', 72);
  x72[72] = '\0';
  /* Only len bytes count: no NUL terminator is needed. */
  CHECK_EQ_INT(msvc_password_hash(&cfg, "abcdefghXYZ", 8, &hash), 0);
  CHECK_EQ_INT(msvc_password_verify("abcdefgh", 8, hash), 0);
  CHECK_EQ_INT(msvc_password_verify("abcdefghXYZ", 11, hash), MSVC_EAUTH);
  CHECK_EQ_INT(msvc_password_verify("abcdefghXYZ", 8, hash), 0);
  msvc_free(hash);
  /* A NUL inside is refused when hashing and never matches. */
  hash = (char *)"untouched";
  CHECK_EQ_INT(msvc_password_hash(&cfg, "abc\0def", 7, &hash), MSVC_EINVAL);
  CHECK(hash == NULL);
  CHECK_EQ_INT(
      msvc_password_verify("correct horse battery staple\0x", 30, VECTOR_HASH),
      MSVC_EAUTH);
  /* bcrypt reads 72 bytes: why the contract caps passwords there. */
  CHECK_EQ_INT(
      msvc_password_verify(
          x72, 72,
          "$2b$10$/VIA42ilNAxkCEbGE8IxUeudWAirHbfHuvTefTB1HfTsoXfNgoRGC"),
      0);
  CHECK_EQ_INT(
      msvc_password_verify(
          x72, 71,
          "$2b$10$/VIA42ilNAxkCEbGE8IxUeudWAirHbfHuvTefTB1HfTsoXfNgoRGC"),
      MSVC_EAUTH);
}

static void test_bad_hashes(void) {
  static const char *const bad[] = {
      "",
      "*0",
      "$2b$10$",
      "$2b$10$C9XWPSw9uHefbp35dpHrMu", /* setting */
      VECTOR_HASH "XX",                /* padded */
      "$2b$10$C9XWPSw9uHefbp35dpHrMuIcK8Dcyy.GaJegqQGYGaJ007wCr3z4", /* cut */
      "$2b$03$C9XWPSw9uHefbp35dpHrMuIcK8Dcyy.GaJegqQGYGaJ007wCr3z4u",
      "$2b$10$!!XWPSw9uHefbp35dpHrMuIcK8Dcyy.GaJegqQGYGaJ007wCr3z4u",
      "$2x$10$C9XWPSw9uHefbp35dpHrMuIcK8Dcyy.GaJegqQGYGaJ007wCr3z4u",
      "$1$abc$muTq3MW/9xkrrAIHYPD8I1", /* MD5: weaker, refused */
      "abhfCpXqd4GrI",                 /* DES: weaker, refused */
      "$y$",
      "$y$j9T$abc",
      "plain text",
  };
  const char *pw = "correct horse battery staple";
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int rc = msvc_password_verify(pw, strlen(pw), bad[i]);
    if (rc != MSVC_EINVAL)
      fprintf(stderr, "   hash \"%s\" gave %s\n", bad[i], msvc_err_name(rc));
    CHECK_EQ_INT(rc, MSVC_EINVAL);
  }
  CHECK_EQ_INT(msvc_password_verify(pw, strlen(pw), NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_password_verify(pw, strlen(pw), VECTOR_HASH), 0);
}

static void test_needs_rehash(void) {
  msvc_password_config_t cfg;
  msvc_password_config_init(&cfg);
  CHECK_EQ_INT(msvc_password_needs_rehash(&cfg, VECTOR_HASH), 0);
  CHECK_EQ_INT(
      msvc_password_needs_rehash(
          &cfg, "$2a$10$xBsqe9dNsbXd.5ne.HE1s.3RNFKgr1GdbZeYKK/gZ4QHQEOe/1cd."),
      1);
  CHECK_EQ_INT(
      msvc_password_needs_rehash(
          &cfg, "$2b$04$uglDEROd46VzM3wYBkJd1uUO8g8MPyvJx5a/bxhKM7mCdbV35IZFa"),
      1);
  CHECK_EQ_INT(msvc_password_needs_rehash(&cfg, NULL), 1);
  CHECK_EQ_INT(msvc_password_needs_rehash(&cfg, ""), 1);
  cfg.cost = 0; /* the scheme's default: 10 */
  CHECK_EQ_INT(msvc_password_needs_rehash(&cfg, VECTOR_HASH), 0);
  cfg.cost = 12;
  CHECK_EQ_INT(msvc_password_needs_rehash(&cfg, VECTOR_HASH), 1);
  cfg.prefix = "$y$";
  cfg.cost = 5;
  CHECK_EQ_INT(msvc_password_needs_rehash(&cfg, VECTOR_HASH), 1);
  cfg.prefix = "$1$"; /* an invalid config cannot ask for anything */
  CHECK_EQ_INT(msvc_password_needs_rehash(&cfg, VECTOR_HASH), 0);
}

static void test_bad_configs(void) {
  static const msvc_password_config_t bad[] = {
      {"$1$", 10}, {"$2a$", 10}, {"$6$", 10},  {"", 10},    {"bcrypt", 10},
      {"$2b$", 3}, {"$2b$", 1},  {"$2b$", 32}, {"$y$", 12}, {"$y$", 31},
  };
  char *hash;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    hash = (char *)"untouched";
    CHECK_EQ_INT(msvc_password_hash(&bad[i], "password123", 11, &hash),
                 MSVC_EINVAL);
    CHECK(hash == NULL);
  }
  hash = (char *)"untouched";
  CHECK_EQ_INT(msvc_password_hash(NULL, "password123", 11, &hash), MSVC_EINVAL);
  CHECK(hash == NULL);
  CHECK_EQ_INT(msvc_password_hash(&bad[0], NULL, 0, NULL), MSVC_EINVAL);
}

int main(void) {
  RUN(test_seed_vectors);
  RUN(test_bcrypt_round_trip);
  RUN(test_default_cost);
  RUN(test_yescrypt_round_trip);
  RUN(test_password_bytes);
  RUN(test_bad_hashes);
  RUN(test_needs_rehash);
  RUN(test_bad_configs);
  TEST_MAIN_END();
}
