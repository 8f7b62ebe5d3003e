/* test_user.c - the user validation rules and the user structs' lifetimes.
 *
 * Boundaries are built byte by byte (ASCII and multibyte) so that each
 * limit is tested on both sides; every check looks at both the return code
 * and the reason recorded in errs.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

/* A heap string of n copies of unit (which may be a multibyte character),
 * between prefix and suffix. */
static char *repeat(const char *prefix, const char *unit, size_t n,
                    const char *suffix) {
  size_t plen = strlen(prefix), ulen = strlen(unit), slen = strlen(suffix);
  char *s = malloc(plen + ulen * n + slen + 1);
  if (s == NULL)
    abort();
  memcpy(s, prefix, plen);
  for (size_t i = 0; i < n; i++)
    memcpy(s + plen + i * ulen, unit, ulen);
  memcpy(s + plen + ulen * n, suffix, slen + 1);
  return s;
}

static const char *reason_of(const msvc_errors_t *errs, const char *field) {
  for (unsigned i = 0; i < errs->count; i++)
    if (strcmp(errs->items[i].field, field) == 0)
      return errs->items[i].reason;
  return NULL;
}

/* Validates a heap copy of s and returns the recorded reason (a static
 * string), or NULL when valid; *out (if given) receives the normalised
 * copy, to be freed by the caller. */
static const char *name_reason(const char *s, char **out) {
  msvc_errors_t errs;
  char *copy = msvc__strdup(s);
  int rc;
  msvc_errors_init(&errs);
  rc = msvc_validate_name(copy, &errs);
  CHECK_EQ_INT(rc, errs.count ? MSVC_EVALIDATION : 0);
  if (out != NULL)
    *out = copy;
  else
    free(copy);
  return reason_of(&errs, "name");
}

static const char *email_reason(const char *s, char **out) {
  msvc_errors_t errs;
  char *copy = msvc__strdup(s);
  int rc;
  msvc_errors_init(&errs);
  rc = msvc_validate_email(copy, &errs);
  CHECK_EQ_INT(rc, errs.count ? MSVC_EVALIDATION : 0);
  if (out != NULL)
    *out = copy;
  else
    free(copy);
  return reason_of(&errs, "email");
}

static void test_name_rules(void) {
  char *s, *norm = NULL;
  CHECK_EQ_STR(name_reason(NULL, NULL), "is required");
  CHECK_EQ_STR(name_reason("", NULL), "must not be empty");
  CHECK_EQ_STR(name_reason(" \t\r\n\v\f", NULL), "must not be empty");
  CHECK(name_reason("A", NULL) == NULL);
  CHECK(name_reason("  Ada Lovelace \n", &norm) == NULL);
  CHECK_EQ_STR(norm, "Ada Lovelace");
  free(norm);
  CHECK(name_reason("\tinner  spaces stay\t", &norm) == NULL);
  CHECK_EQ_STR(norm, "inner  spaces stay");
  free(norm);

  s = repeat("", "a", 100, "");
  CHECK(name_reason(s, NULL) == NULL);
  free(s);
  s = repeat("", "a", 101, "");
  CHECK_EQ_STR(name_reason(s, NULL), "must be at most 100 characters");
  free(s);
  /* Trimming happens before counting. */
  s = repeat("   ", "a", 100, "   ");
  CHECK(name_reason(s, &norm) == NULL);
  CHECK_EQ_INT(strlen(norm), 100);
  free(norm);
  free(s);
}

static void test_name_multibyte(void) {
  /* 2-, 3- and 4-byte characters: 100 of them pass, 101 do not. */
  const char *units[] = {"\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x98\x80"};
  for (size_t i = 0; i < 3; i++) {
    char *ok = repeat("", units[i], 100, "");
    char *bad = repeat("", units[i], 101, "");
    CHECK(name_reason(ok, NULL) == NULL);
    CHECK_EQ_STR(name_reason(bad, NULL), "must be at most 100 characters");
    free(ok);
    free(bad);
  }
  /* 99 multibyte + 1 ASCII = 100 characters. */
  char *mixed = repeat("x", "\xe6\x97\xa5", 99, "");
  CHECK(name_reason(mixed, NULL) == NULL);
  free(mixed);
  /* Malformed UTF-8 (which the JSON layer never lets through) is counted,
   * not trusted: stray continuation bytes count as nothing, any other
   * byte as one character. */
  CHECK_EQ_STR(name_reason("\x80\x80\x80", NULL), "must not be empty");
  CHECK(name_reason("\xff", NULL) == NULL);
  char *lead = repeat("", "\xe6", 101, "");
  CHECK_EQ_STR(name_reason(lead, NULL), "must be at most 100 characters");
  free(lead);
}

static void test_email_valid(void) {
  const char *good[] = {
      "a@b.co",
      "user.name+tag@example.com",
      "x_y-z@sub.domain.example.org",
      "o'hara@example.ie",
      "user@xn--bcher-kva.example",
      "user@b\xc3\xbc"
      "cher.example", /* IDN in UTF-8 */
      "1234@123.example.com",
      "a@a-b.c-d.ef",
  };
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(good); i++) {
    const char *r = email_reason(good[i], NULL);
    if (r != NULL)
      fprintf(stderr, "rejected %s: %s\n", good[i], r);
    CHECK(r == NULL);
  }
}

static void test_email_normalised(void) {
  char *norm = NULL;
  CHECK(email_reason("  Ada.Lovelace@Example.COM \t", &norm) == NULL);
  CHECK_EQ_STR(norm, "ada.lovelace@example.com");
  free(norm);
  /* Non-ASCII bytes are left as they are. */
  CHECK(email_reason("X@B\xc3\x9c"
                     "CHER.EXAMPLE",
                     &norm) == NULL);
  CHECK_EQ_STR(norm, "x@b\xc3\x9c"
                     "cher.example");
  free(norm);
}

static void test_email_invalid(void) {
  const char *bad[] = {
      "plainaddress",         "@example.com",         "user@",
      "user@@example.com",    "a@b@example.com",      "user@localhost",
      "user@example",         "user@.example.com",    "user@example..com",
      "user@example.com.",    "user@-example.com",    "user@example-.com",
      "user@exa_mple.com",    "user@exam ple.com",    "us er@example.com",
      "user\t@example.com",   "user@example.com\x01", "\x7fuser@example.com",
      "user@example.c\x7fom", ".user@example.com",    "user.@example.com",
      "us..er@example.com",   "us(er@example.com",    "us<er>@example.com",
      "us,er@example.com",    "\"user\"@example.com", "user@[127.0.0.1]",
      "user@127.0.0.1",       "user@example.com/x",   "user@exa!mple.com",
  };
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(bad); i++) {
    const char *r = email_reason(bad[i], NULL);
    if (r == NULL || strcmp(r, "must be a valid email address") != 0)
      fprintf(stderr, "accepted or misjudged: %s\n", bad[i]);
    CHECK_EQ_STR(r, "must be a valid email address");
  }
  CHECK_EQ_STR(email_reason(NULL, NULL), "is required");
  CHECK_EQ_STR(email_reason("", NULL), "must not be empty");
  CHECK_EQ_STR(email_reason("   ", NULL), "must not be empty");
}

static void test_email_lengths(void) {
  char *s;
  /* Local part: 64 bytes pass, 65 do not. */
  s = repeat("", "l", 64, "@example.com");
  CHECK(email_reason(s, NULL) == NULL);
  free(s);
  s = repeat("", "l", 65, "@example.com");
  CHECK_EQ_STR(email_reason(s, NULL), "must be a valid email address");
  free(s);
  /* A label: 63 bytes pass, 64 do not. */
  s = repeat("a@", "d", 63, ".com");
  CHECK(email_reason(s, NULL) == NULL);
  free(s);
  s = repeat("a@", "d", 64, ".com");
  CHECK_EQ_STR(email_reason(s, NULL), "must be a valid email address");
  free(s);
  /* Whole address: "a@" + 50 * "dddd." + "abcd" is 2 + 250 + 2 = 254. */
  s = repeat("a@", "dddd.", 50, "ab");
  CHECK_EQ_INT(strlen(s), 254);
  CHECK(email_reason(s, NULL) == NULL);
  free(s);
  s = repeat("a@", "dddd.", 50, "abc");
  CHECK_EQ_INT(strlen(s), 255);
  CHECK_EQ_STR(email_reason(s, NULL), "must be at most 254 bytes");
  free(s);
  /* Surrounding spaces do not count. */
  s = repeat("  a@", "dddd.", 50, "ab  ");
  CHECK(email_reason(s, NULL) == NULL);
  free(s);
}

static void test_password_rules(void) {
  msvc_errors_t errs;
  char *s;
  msvc_errors_init(&errs);
  CHECK_EQ_INT(msvc_validate_password("password", NULL, &errs),
               MSVC_EVALIDATION);
  CHECK_EQ_STR(reason_of(&errs, "password"), "is required");

  s = repeat("", "p", 7, "");
  msvc_errors_init(&errs);
  CHECK_EQ_INT(msvc_validate_password("password", s, &errs), MSVC_EVALIDATION);
  CHECK_EQ_STR(reason_of(&errs, "password"), "must be at least 8 bytes");
  free(s);

  s = repeat("", "p", 8, "");
  msvc_errors_init(&errs);
  CHECK_EQ_INT(msvc_validate_password("password", s, &errs), 0);
  CHECK_EQ_INT(errs.count, 0);
  free(s);

  s = repeat("", "p", 72, "");
  CHECK_EQ_INT(msvc_validate_password("password", s, &errs), 0);
  free(s);

  s = repeat("", "p", 73, "");
  CHECK_EQ_INT(msvc_validate_password("current_password", s, &errs),
               MSVC_EVALIDATION);
  CHECK_EQ_STR(reason_of(&errs, "current_password"),
               "must be at most 72 bytes");
  CHECK(reason_of(&errs, "password") == NULL);
  free(s);

  /* Bytes, not characters: 4 four-byte characters are 16 bytes; 2 are 8;
   * 19 (76 bytes) are too many. */
  s = repeat("", "\xf0\x9f\x98\x80", 2, "");
  msvc_errors_init(&errs);
  CHECK_EQ_INT(msvc_validate_password("password", s, &errs), 0);
  free(s);
  s = repeat("", "\xf0\x9f\x98\x80", 19, "");
  CHECK_EQ_INT(msvc_validate_password("password", s, &errs), MSVC_EVALIDATION);
  free(s);
  /* Spaces are part of a password, never trimmed. */
  msvc_errors_init(&errs);
  CHECK_EQ_INT(msvc_validate_password("password", "       x", &errs), 0);
}

static void test_existing_error_kept(void) {
  msvc_errors_t errs;
  char name[] = "  Fine Name  ";
  char email[] = "Fine@Example.com";
  msvc_errors_init(&errs);
  msvc_errors_add(&errs, "name", "is taken");
  msvc_errors_add(&errs, "email", "is already registered");
  /* Valid values, but the fields already failed: still an error, and the
   * earlier reasons stay. */
  CHECK_EQ_INT(msvc_validate_name(name, &errs), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_validate_email(email, &errs), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_validate_password("password", NULL, &errs),
               MSVC_EVALIDATION);
  CHECK_EQ_INT(errs.count, 3);
  CHECK_EQ_STR(reason_of(&errs, "name"), "is taken");
  CHECK_EQ_STR(reason_of(&errs, "email"), "is already registered");
  CHECK_EQ_STR(reason_of(&errs, "password"), "is required");
  /* Normalisation happened all the same. */
  CHECK_EQ_STR(name, "Fine Name");
  CHECK_EQ_STR(email, "fine@example.com");
  /* An invalid value does not replace the first reason either. */
  CHECK_EQ_INT(msvc_validate_name(NULL, &errs), MSVC_EVALIDATION);
  CHECK_EQ_STR(reason_of(&errs, "name"), "is taken");
  CHECK_EQ_INT(errs.count, 3);
}

static void test_all_errors_at_once(void) {
  msvc_errors_t errs;
  char name[] = " ";
  char email[] = "nope";
  msvc_errors_init(&errs);
  msvc_validate_name(name, &errs);
  msvc_validate_email(email, &errs);
  msvc_validate_password("password", "short", &errs);
  CHECK_EQ_INT(errs.count, 3);
  /* A NULL errs only loses the reasons. */
  CHECK_EQ_INT(msvc_validate_email(email, NULL), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_validate_password("password", "longenough", NULL), 0);
}

static void fill_user(msvc_user_t *u) {
  memset(u, 0, sizeof(*u));
  strcpy(u->id, "0123456789abcdef01234567");
  u->name = msvc__strdup("Ada");
  u->email = msvc__strdup("ada@example.com");
  u->created_at = 1700000000123;
  u->updated_at = 1700000000456;
}

static void test_user_lifetimes(void) {
  msvc_user_t u, copy;
  msvc_user_record_t rec;
  msvc_user_input_t in;
  msvc_user_t *arr;

  fill_user(&u);
  memset(&copy, 0, sizeof(copy));
  CHECK_EQ_INT(msvc_user_copy(&copy, &u), 0);
  CHECK_EQ_STR(copy.id, u.id);
  CHECK_EQ_STR(copy.name, "Ada");
  CHECK_EQ_STR(copy.email, "ada@example.com");
  CHECK(copy.name != u.name && copy.email != u.email);
  CHECK_EQ_INT(copy.created_at, 1700000000123);
  CHECK_EQ_INT(copy.updated_at, 1700000000456);
  msvc_user_clear(&u);
  CHECK(u.name == NULL && u.email == NULL && u.id[0] == '\0');
  msvc_user_clear(&u);            /* twice is harmless */
  CHECK_EQ_STR(copy.name, "Ada"); /* the copy owns its own strings */
  msvc_user_clear(&copy);
  msvc_user_clear(NULL);

  /* Copying a user with absent strings keeps them absent. */
  memset(&u, 0, sizeof(u));
  strcpy(u.id, "aaaaaaaaaaaaaaaaaaaaaaaa");
  CHECK_EQ_INT(msvc_user_copy(&copy, &u), 0);
  CHECK(copy.name == NULL && copy.email == NULL);
  CHECK_EQ_STR(copy.id, u.id);
  msvc_user_clear(&copy);

  fill_user(&rec.user);
  rec.password_hash = msvc__strdup("$2b$10$abcdefghijklmnopqrstuv");
  msvc_user_record_clear(&rec);
  CHECK(rec.password_hash == NULL && rec.user.name == NULL);
  msvc_user_record_clear(&rec);
  msvc_user_record_clear(NULL);

  in.name = msvc__strdup("n");
  in.email = NULL;
  in.password = msvc__strdup("secret-password");
  in.current_password = msvc__strdup("old-password");
  msvc_user_input_clear(&in);
  CHECK(in.name == NULL && in.password == NULL && in.current_password == NULL);
  msvc_user_input_clear(&in);
  msvc_user_input_clear(NULL);

  arr = calloc(3, sizeof(*arr));
  CHECK(arr != NULL);
  fill_user(&arr[0]);
  fill_user(&arr[2]); /* arr[1] stays an empty slot */
  msvc_users_free(arr, 3);
  msvc_users_free(NULL, 0);
}

int main(void) {
  RUN(test_name_rules);
  RUN(test_name_multibyte);
  RUN(test_email_valid);
  RUN(test_email_normalised);
  RUN(test_email_invalid);
  RUN(test_email_lengths);
  RUN(test_password_rules);
  RUN(test_existing_error_kept);
  RUN(test_all_errors_at_once);
  RUN(test_user_lifetimes);
  TEST_MAIN_END();
}
