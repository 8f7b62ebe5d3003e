/* test_password.c - password hashing and checking (domain/password.c).
 *
 * The bcrypt hashes in the seed's vector file were made by node's bcrypt
 * and bcryptjs: every one must verify here, or users created by the seed
 * could not log in after a migration.  New hashes use cost 4 (bcrypt) or
 * the smallest yescrypt cost to keep the run short, plus one at each
 * scheme's real default.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

#define VECTOR_HASH                                                            \
  "$2b$10$C9XWPSw9uHefbp35dpHrMuIcK8Dcyy.GaJegqQGYGaJ007wCr3z4u"

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

static void test_seed_vectors(void) {
  json_object *root = json_object_from_file(MSVC_VECTORS_FILE);
  json_object *list;
  const char *first_hash = NULL, *wrong;
  size_t n;
  CHECK(root != NULL);
  if (root == NULL)
    return;
  list = member(root, "bcrypt");
  CHECK(json_object_is_type(list, json_type_array));
  if (!json_object_is_type(list, json_type_array))
    goto out;
  n = json_object_array_length(list);
  CHECK(n >= 5);
  for (size_t i = 0; i < n; i++) {
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
out:
  json_object_put(root);
}

static void test_bcrypt_round_trip(void) {
  const char *pw = "hunter2 hunter2 \xc3\xa9";
  char *h1 = NULL, *h2 = NULL;
  CHECK_EQ_INT(msvc_password_hash("$2b$", 4, pw, strlen(pw), &h1), 0);
  CHECK_EQ_INT(msvc_password_hash("$2b$", 4, pw, strlen(pw), &h2), 0);
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
  char *hash = NULL;
  /* Cost 0 is the scheme's default: 10 for bcrypt, by either name. */
  CHECK_EQ_INT(msvc_password_scheme_check("bcrypt", 0), 0);
  CHECK_EQ_INT(msvc_password_scheme_check("$2b$", 10), 0);
  CHECK_EQ_INT(msvc_password_hash("bcrypt", 0, "password123", 11, &hash), 0);
  CHECK(hash != NULL && strncmp(hash, "$2b$10$", 7) == 0);
  CHECK_EQ_INT(msvc_password_verify("password123", 11, hash), 0);
  CHECK_EQ_INT(msvc_password_needs_rehash("bcrypt", 0, hash), 0);
  CHECK_EQ_INT(msvc_password_needs_rehash("$2b$", 10, hash), 0);
  msvc_free(hash);
  hash = NULL;
  CHECK_EQ_INT(msvc_password_hash("$2b$", 0, "password123", 11, &hash), 0);
  CHECK(hash != NULL && strncmp(hash, "$2b$10$", 7) == 0);
  msvc_free(hash);
}

static void test_yescrypt_round_trip(void) {
  char *hash = NULL;
  CHECK_EQ_INT(msvc_password_hash("$y$", 1, "correct horse", 13, &hash), 0);
  CHECK(hash != NULL && strncmp(hash, "$y$j75$", 7) == 0);
  CHECK_EQ_INT(msvc_password_verify("correct horse", 13, hash), 0);
  CHECK_EQ_INT(msvc_password_verify("correct horsf", 13, hash), MSVC_EAUTH);
  CHECK_EQ_INT(msvc_password_needs_rehash("$y$", 1, hash), 0);
  CHECK_EQ_INT(msvc_password_needs_rehash("yescrypt", 1, hash), 0);
  /* libxcrypt's default, 5 */
  CHECK_EQ_INT(msvc_password_needs_rehash("$y$", 0, hash), 1);
  msvc_free(hash);
  /* Cost 0 is yescrypt's own default (5, spelt "j9T"), not bcrypt's 10:
   * by either name of the scheme. */
  hash = NULL;
  CHECK_EQ_INT(msvc_password_hash("$y$", 0, "correct horse", 13, &hash), 0);
  CHECK(hash != NULL && strncmp(hash, "$y$j9T$", 7) == 0);
  CHECK_EQ_INT(msvc_password_verify("correct horse", 13, hash), 0);
  CHECK_EQ_INT(msvc_password_needs_rehash("$y$", 5, hash), 0);
  CHECK_EQ_INT(msvc_password_needs_rehash("yescrypt", 0, hash), 0);
  msvc_free(hash);
  hash = NULL;
  CHECK_EQ_INT(msvc_password_hash("yescrypt", 0, "correct horse", 13, &hash),
               0);
  CHECK(hash != NULL && strncmp(hash, "$y$j9T$", 7) == 0);
  msvc_free(hash);
  CHECK_EQ_INT(msvc_password_scheme_check("yescrypt", 0), 0);
  CHECK_EQ_INT(msvc_password_scheme_check("$y$", 11), 0);
}

static void test_password_bytes(void) {
  char x72[73];
  char *hash = (char *)"untouched";
  memset(x72, 'x', 72);
  x72[72] = '\0';
  /* Only len bytes count: no NUL terminator is needed. */
  CHECK_EQ_INT(msvc_password_hash("$2b$", 4, "abcdefghXYZ", 8, &hash), 0);
  CHECK_EQ_INT(msvc_password_verify("abcdefgh", 8, hash), 0);
  CHECK_EQ_INT(msvc_password_verify("abcdefghXYZ", 11, hash), MSVC_EAUTH);
  CHECK_EQ_INT(msvc_password_verify("abcdefghXYZ", 8, hash), 0);
  msvc_free(hash);
  /* A NUL inside is refused when hashing and never matches. */
  hash = (char *)"untouched";
  CHECK_EQ_INT(msvc_password_hash("$2b$", 4, "abc\0def", 7, &hash),
               MSVC_EINVAL);
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
  CHECK_EQ_INT(msvc_password_verify(NULL, 0, VECTOR_HASH), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_password_verify(pw, strlen(pw), VECTOR_HASH), 0);
}

static void test_needs_rehash(void) {
  /* Asked for: bcrypt at its default cost (10). */
  CHECK_EQ_INT(msvc_password_needs_rehash("$2b$", 10, VECTOR_HASH), 0);
  CHECK_EQ_INT(
      msvc_password_needs_rehash(
          "$2b$", 10,
          "$2a$10$xBsqe9dNsbXd.5ne.HE1s.3RNFKgr1GdbZeYKK/gZ4QHQEOe/1cd."),
      1);
  CHECK_EQ_INT(
      msvc_password_needs_rehash(
          "$2b$", 10,
          "$2b$04$uglDEROd46VzM3wYBkJd1uUO8g8MPyvJx5a/bxhKM7mCdbV35IZFa"),
      1);
  CHECK_EQ_INT(msvc_password_needs_rehash("$2b$", 10, ""), 1);
  /* A NULL hash is an invalid argument: 0, as msvc/password.h says (the
   * old API answered 1). */
  CHECK_EQ_INT(msvc_password_needs_rehash("$2b$", 10, NULL), 0);
  /* the scheme's default: 10 */
  CHECK_EQ_INT(msvc_password_needs_rehash("$2b$", 0, VECTOR_HASH), 0);
  CHECK_EQ_INT(msvc_password_needs_rehash("bcrypt", 0, VECTOR_HASH), 0);
  CHECK_EQ_INT(msvc_password_needs_rehash("$2b$", 12, VECTOR_HASH), 1);
  CHECK_EQ_INT(msvc_password_needs_rehash("$y$", 5, VECTOR_HASH), 1);
  /* an invalid request cannot ask for anything */
  CHECK_EQ_INT(msvc_password_needs_rehash("$1$", 5, VECTOR_HASH), 0);
  CHECK_EQ_INT(msvc_password_needs_rehash(NULL, 10, VECTOR_HASH), 0);
  CHECK_EQ_INT(msvc_password_needs_rehash("$2b$", 3, VECTOR_HASH), 0);
}

static void test_bad_schemes(void) {
  static const struct {
    const char *scheme;
    unsigned long cost;
  } bad[] = {
      {"$1$", 10},      {"$2a$", 10}, {"$6$", 10},     {"", 10},
      {"BCRYPT", 10},   {"$2b$", 3},  {"$2b$", 1},     {"$2b$", 32},
      {"$y$", 12},      {"$y$", 31},  {"bcrypt", 3},   {"bcrypt", 32},
      {"yescrypt", 12}, {"$2b", 10},  {"bcrypt ", 10}, {"$y$", 1000000},
  };
  char *hash;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    hash = (char *)"untouched";
    CHECK_EQ_INT(msvc_password_scheme_check(bad[i].scheme, bad[i].cost),
                 MSVC_EINVAL);
    CHECK_EQ_INT(msvc_password_hash(bad[i].scheme, bad[i].cost, "password123",
                                    11, &hash),
                 MSVC_EINVAL);
    CHECK(hash == NULL);
  }
  /* The edges that are allowed. */
  CHECK_EQ_INT(msvc_password_scheme_check("$2b$", 4), 0);
  CHECK_EQ_INT(msvc_password_scheme_check("bcrypt", 31), 0);
  CHECK_EQ_INT(msvc_password_scheme_check("$y$", 1), 0);
  CHECK_EQ_INT(msvc_password_scheme_check("yescrypt", 11), 0);
  /* NULL anywhere is MSVC_EINVAL, never a crash. */
  hash = (char *)"untouched";
  CHECK_EQ_INT(msvc_password_hash(NULL, 4, "password123", 11, &hash),
               MSVC_EINVAL);
  CHECK(hash == NULL);
  hash = (char *)"untouched";
  CHECK_EQ_INT(msvc_password_hash("$2b$", 4, NULL, 0, &hash), MSVC_EINVAL);
  CHECK(hash == NULL);
  CHECK_EQ_INT(msvc_password_hash("$2b$", 4, "password123", 11, NULL),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_password_hash("$1$", 10, NULL, 0, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_password_scheme_check(NULL, 0), MSVC_EINVAL);
}

int main(void) {
  RUN(test_seed_vectors);
  RUN(test_bcrypt_round_trip);
  RUN(test_default_cost);
  RUN(test_yescrypt_round_trip);
  RUN(test_password_bytes);
  RUN(test_bad_hashes);
  RUN(test_needs_rehash);
  RUN(test_bad_schemes);
  TEST_MAIN_END();
}
