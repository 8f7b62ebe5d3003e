/* test_user.c - the user validation rules and the user records' lifetimes.
 *
 * Boundaries are built byte by byte (ASCII and multibyte) so that each
 * limit is tested on both sides; every check looks at both the return code
 * and the reason recorded in errs.  The validators judge a value as it
 * would be stored (trimmed, emails lower-cased) but never write to the
 * caller's string: every check also confirms the string is untouched, and
 * the normalised form is checked through msvc__normalize_name/email, which
 * is what the service stores.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/validate.h"
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

static msvc_errors_t *new_errors(void) {
  msvc_errors_t *errs = NULL;
  if (msvc_errors_new(&errs) != 0 || errs == NULL)
    abort();
  return errs;
}

/* The reason recorded for field, copied into a static buffer (errs may be
 * freed right after), or NULL. */
static const char *saved_reason(const msvc_errors_t *errs, const char *field) {
  static char buf[256];
  const char *r = msvc_errors_get(errs, field);
  if (r == NULL)
    return NULL;
  snprintf(buf, sizeof(buf), "%s", r);
  return buf;
}

typedef int (*validator_fn)(const char *, msvc_errors_t *);
typedef char *(*normalizer_fn)(const char *);
typedef int (*checker_fn)(const char *, msvc_errors_t *);

/* Validates a heap copy of s (so that ASan sees any write or overread),
 * checks the copy is unchanged and that the verdict is the one given to the
 * normalised form, and returns the recorded reason or NULL when valid.
 * *out (if given) receives the normalised copy, to be freed by the
 * caller. */
static const char *judge(const char *s, const char *field,
                         validator_fn validate, normalizer_fn normalize,
                         checker_fn check, char **out) {
  msvc_errors_t *errs = new_errors();
  char *copy = msvc__strdup(s), *norm = NULL;
  const char *reason;
  int rc;
  rc = validate(copy, errs);
  CHECK_EQ_INT(rc, msvc_errors_count(errs) ? MSVC_EVALIDATION : 0);
  if (s != NULL) {
    CHECK_EQ_STR(copy, s); /* the caller's string is untouched */
    norm = normalize(s);
    CHECK(norm != NULL);
  }
  /* The same verdict on the stored form, and without an errors list. */
  CHECK_EQ_INT(check(norm, NULL), rc);
  CHECK_EQ_INT(validate(copy, NULL), rc);
  reason = saved_reason(errs, field);
  if (out != NULL)
    *out = norm;
  else
    free(norm);
  free(copy);
  msvc_errors_free(errs);
  return reason;
}

static const char *name_reason(const char *s, char **out) {
  return judge(s, "name", msvc_validate_name, msvc__normalize_name,
               msvc__check_name, out);
}

static const char *email_reason(const char *s, char **out) {
  return judge(s, "email", msvc_validate_email, msvc__normalize_email,
               msvc__check_email, out);
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
  CHECK_EQ_INT(strlen(s), 106); /* the caller's copy keeps its spaces */
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
  msvc_errors_t *errs = new_errors();
  char *s;
  CHECK_EQ_INT(msvc_validate_password("password", NULL, errs),
               MSVC_EVALIDATION);
  CHECK_EQ_STR(msvc_errors_get(errs, "password"), "is required");

  s = repeat("", "p", 7, "");
  msvc_errors_clear(errs);
  CHECK_EQ_INT(msvc_validate_password("password", s, errs), MSVC_EVALIDATION);
  CHECK_EQ_STR(msvc_errors_get(errs, "password"), "must be at least 8 bytes");
  free(s);

  s = repeat("", "p", 8, "");
  msvc_errors_clear(errs);
  CHECK_EQ_INT(msvc_validate_password("password", s, errs), 0);
  CHECK_EQ_INT(msvc_errors_count(errs), 0);
  free(s);

  s = repeat("", "p", 72, "");
  CHECK_EQ_INT(msvc_validate_password("password", s, errs), 0);
  free(s);

  s = repeat("", "p", 73, "");
  CHECK_EQ_INT(msvc_validate_password("current_password", s, errs),
               MSVC_EVALIDATION);
  CHECK_EQ_STR(msvc_errors_get(errs, "current_password"),
               "must be at most 72 bytes");
  CHECK(msvc_errors_get(errs, "password") == NULL);
  free(s);

  /* Bytes, not characters: 4 four-byte characters are 16 bytes; 2 are 8;
   * 19 (76 bytes) are too many. */
  s = repeat("", "\xf0\x9f\x98\x80", 2, "");
  msvc_errors_clear(errs);
  CHECK_EQ_INT(msvc_validate_password("password", s, errs), 0);
  free(s);
  s = repeat("", "\xf0\x9f\x98\x80", 19, "");
  CHECK_EQ_INT(msvc_validate_password("password", s, errs), MSVC_EVALIDATION);
  free(s);
  /* Spaces are part of a password, never trimmed. */
  msvc_errors_clear(errs);
  CHECK_EQ_INT(msvc_validate_password("password", "       x", errs), 0);
  /* A NULL field name stands for "password". */
  CHECK_EQ_INT(msvc_validate_password(NULL, "short", errs), MSVC_EVALIDATION);
  CHECK_EQ_STR(msvc_errors_get(errs, "password"), "must be at least 8 bytes");
  msvc_errors_free(errs);
}

static void test_existing_error_kept(void) {
  msvc_errors_t *errs = new_errors();
  char name[] = "  Fine Name  ";
  char email[] = "Fine@Example.com";
  char *norm;
  msvc_errors_add(errs, "name", "is taken");
  msvc_errors_add(errs, "email", "is already registered");
  /* Valid values, but the fields already failed: still an error, and the
   * earlier reasons stay. */
  CHECK_EQ_INT(msvc_validate_name(name, errs), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_validate_email(email, errs), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_validate_password("password", NULL, errs),
               MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_errors_count(errs), 3);
  CHECK_EQ_STR(msvc_errors_get(errs, "name"), "is taken");
  CHECK_EQ_STR(msvc_errors_get(errs, "email"), "is already registered");
  CHECK_EQ_STR(msvc_errors_get(errs, "password"), "is required");
  /* The caller's strings are left as they were; the normalised forms are
   * what the service would store. */
  CHECK_EQ_STR(name, "  Fine Name  ");
  CHECK_EQ_STR(email, "Fine@Example.com");
  norm = msvc__normalize_name(name);
  CHECK_EQ_STR(norm, "Fine Name");
  free(norm);
  norm = msvc__normalize_email(email);
  CHECK_EQ_STR(norm, "fine@example.com");
  free(norm);
  /* An invalid value does not replace the first reason either. */
  CHECK_EQ_INT(msvc_validate_name(NULL, errs), MSVC_EVALIDATION);
  CHECK_EQ_STR(msvc_errors_get(errs, "name"), "is taken");
  CHECK_EQ_INT(msvc_errors_count(errs), 3);
  msvc_errors_free(errs);
}

static void test_all_errors_at_once(void) {
  msvc_errors_t *errs = new_errors();
  char name[] = " ";
  char email[] = "nope";
  msvc_validate_name(name, errs);
  msvc_validate_email(email, errs);
  msvc_validate_password("password", "short", errs);
  CHECK_EQ_INT(msvc_errors_count(errs), 3);
  CHECK_EQ_STR(msvc_errors_field(errs, 0), "name");
  CHECK_EQ_STR(msvc_errors_field(errs, 1), "email");
  CHECK_EQ_STR(msvc_errors_field(errs, 2), "password");
  /* A NULL errs only loses the reasons. */
  CHECK_EQ_INT(msvc_validate_email(email, NULL), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_validate_password("password", "longenough", NULL), 0);
  msvc_errors_free(errs);
}

/* Regression (issue 8): validators take const strings and never write to
 * them, so string literals (read-only memory) work; NULL values and a
 * NULL errs never crash. */
static void test_literals_and_nulls(void) {
  msvc_errors_t *errs = new_errors();
  CHECK_EQ_INT(msvc_validate_name("  Dave  ", errs), 0);
  CHECK_EQ_INT(msvc_validate_email("  Dave@Example.COM ", errs), 0);
  CHECK_EQ_INT(msvc_validate_password("password", "a literal pw", errs), 0);
  CHECK_EQ_INT(msvc_errors_count(errs), 0);
  CHECK_EQ_INT(msvc_validate_name("   ", errs), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_validate_email("Dave", errs), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_errors_count(errs), 2);

  CHECK_EQ_INT(msvc_validate_name(NULL, NULL), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_validate_email(NULL, NULL), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_validate_password(NULL, NULL, NULL), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_validate_password("current_password", NULL, NULL),
               MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_validate_name("Dave", NULL), 0);
  CHECK_EQ_INT(msvc__check_name(NULL, NULL), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc__check_email(NULL, NULL), MSVC_EVALIDATION);
  msvc_errors_free(errs);
}

static void test_normalize(void) {
  static const struct {
    const char *in, *name, *email;
  } cases[] = {
      {"", "", ""},
      {" \t\r\n\v\f", "", ""},
      {"A", "A", "a"},
      {"  MiXeD Case  ", "MiXeD Case", "mixed case"},
      {"\xc3\x89Z@X.IO", "\xc3\x89Z@X.IO", "\xc3\x89z@x.io"},
  };
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(cases); i++) {
    char *n = msvc__normalize_name(cases[i].in);
    char *e = msvc__normalize_email(cases[i].in);
    CHECK_EQ_STR(n, cases[i].name);
    CHECK_EQ_STR(e, cases[i].email);
    CHECK(n != cases[i].in && e != cases[i].in); /* copies, always */
    free(n);
    free(e);
  }
}

static msvc_user_t *make_user(void) {
  msvc_user_t *u = NULL;
  CHECK_EQ_INT(msvc_user_new(&u), 0);
  if (u == NULL)
    abort();
  CHECK_EQ_INT(msvc_user_set(u, "0123456789abcdef01234567", "Ada",
                             "ada@example.com", 1700000000123, 1700000000456),
               0);
  return u;
}

static void test_user_lifetimes(void) {
  msvc_user_t *u, *copy = NULL, **arr = NULL;
  msvc_user_record_t *rec = NULL;
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;

  u = make_user();
  CHECK_EQ_INT(msvc_user_dup(u, &copy), 0);
  CHECK(copy != NULL && copy != u);
  if (copy == NULL)
    abort();
  CHECK_EQ_STR(copy->id, u->id);
  CHECK_EQ_STR(copy->name, "Ada");
  CHECK_EQ_STR(copy->email, "ada@example.com");
  CHECK(copy->name != u->name && copy->email != u->email);
  CHECK_EQ_INT(copy->created_at, 1700000000123);
  CHECK_EQ_INT(copy->updated_at, 1700000000456);
  msvc__user_reset(u);
  CHECK(u->name == NULL && u->email == NULL && u->id[0] == '\0');
  msvc__user_reset(u);             /* twice is harmless */
  CHECK_EQ_STR(copy->name, "Ada"); /* the copy owns its own strings */
  msvc_user_free(u);
  msvc_user_free(copy);
  msvc_user_free(NULL);

  /* Copying a user with absent strings keeps them absent. */
  CHECK_EQ_INT(msvc_user_new(&u), 0);
  strcpy(u->id, "aaaaaaaaaaaaaaaaaaaaaaaa");
  copy = NULL;
  CHECK_EQ_INT(msvc_user_dup(u, &copy), 0);
  CHECK(copy != NULL);
  if (copy != NULL) {
    CHECK(copy->name == NULL && copy->email == NULL);
    CHECK_EQ_STR(copy->id, u->id);
  }
  msvc_user_free(copy);
  msvc_user_free(u);

  CHECK_EQ_INT(msvc_user_record_new(&rec), 0);
  CHECK(rec != NULL && rec->user != NULL && rec->password_hash == NULL);
  if (rec != NULL && rec->user != NULL) {
    CHECK_EQ_INT(msvc_user_set(rec->user, "0123456789abcdef01234567", "Ada",
                               "ada@example.com", 1, 2),
                 0);
    rec->password_hash = msvc__strdup("$2b$10$abcdefghijklmnopqrstuv");
  }
  msvc_user_record_free(rec);
  msvc_user_record_free(NULL);

  /* Inputs borrow the caller's strings: literals are fine and there is
   * nothing to free. */
  CHECK_EQ_INT(in.size, sizeof(msvc_user_input_t));
  CHECK(in.name == NULL && in.email == NULL && in.password == NULL &&
        in.current_password == NULL);
  in.name = "n";
  in.password = "secret-password";
  in.current_password = "old-password";
  CHECK_EQ_STR(in.name, "n");

  CHECK_EQ_INT(msvc__users_alloc(3, &arr), 0);
  CHECK(arr != NULL);
  if (arr != NULL) {
    CHECK_EQ_INT(msvc_user_set(arr[0], "0123456789abcdef01234567", "A",
                               "a@example.com", 1, 2),
                 0);
    CHECK_EQ_INT(msvc_user_set(arr[2], "0123456789abcdef01234567", "C",
                               "c@example.com", 1, 2),
                 0);
    msvc_user_free(arr[1]); /* arr[1] becomes an empty slot */
    arr[1] = NULL;
    msvc_users_free(arr, 3);
  }
  msvc_users_free(NULL, 0);
  msvc_users_free(NULL, 3);
}

/* Regression (issue 8): the record functions answer MSVC_EINVAL to NULL
 * and leave a user as it was when refusing to change it. */
static void test_user_records_bad_input(void) {
  static char sentinel;
  msvc_user_t *u, *copy = (msvc_user_t *)(void *)&sentinel;
  char *old_name;

  CHECK_EQ_INT(msvc_user_new(NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_user_record_new(NULL), MSVC_EINVAL);
  CHECK_EQ_INT(
      msvc_user_set(NULL, "0123456789abcdef01234567", "A", "a@b.co", 0, 0),
      MSVC_EINVAL);
  CHECK_EQ_INT(msvc_user_dup(NULL, &copy), MSVC_EINVAL);
  CHECK(copy == NULL);
  msvc_user_record_free(NULL);

  u = make_user();
  CHECK_EQ_INT(msvc_user_dup(u, NULL), MSVC_EINVAL);
  old_name = u->name;
  CHECK_EQ_INT(msvc_user_set(u, NULL, "B", "b@b.co", 5, 6), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_user_set(u, "0123", "B", "b@b.co", 5, 6), MSVC_EINVAL);
  CHECK_EQ_INT(
      msvc_user_set(u, "0123456789abcdef0123456z", "B", "b@b.co", 5, 6),
      MSVC_EINVAL);
  CHECK_EQ_INT(
      msvc_user_set(u, "0123456789abcdef012345670", "B", "b@b.co", 5, 6),
      MSVC_EINVAL);
  CHECK(u->name == old_name); /* left as it was */
  CHECK_EQ_STR(u->id, "0123456789abcdef01234567");
  CHECK_EQ_STR(u->name, "Ada");
  CHECK_EQ_INT(u->created_at, 1700000000123);

  /* NULL name and email become "", ids are lower-cased, and a user can be
   * re-set from its own fields. */
  CHECK_EQ_INT(msvc_user_set(u, "0123456789ABCDEF01234567", NULL, NULL, 7, 8),
               0);
  CHECK_EQ_STR(u->id, "0123456789abcdef01234567");
  CHECK_EQ_STR(u->name, "");
  CHECK_EQ_STR(u->email, "");
  CHECK_EQ_INT(u->created_at, 7);
  CHECK_EQ_INT(u->updated_at, 8);
  CHECK_EQ_INT(msvc_user_set(u, u->id, "Renamed", u->email, u->created_at, 9),
               0);
  CHECK_EQ_STR(u->id, "0123456789abcdef01234567");
  CHECK_EQ_STR(u->name, "Renamed");
  CHECK_EQ_INT(u->updated_at, 9);
  msvc_user_free(u);
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
  RUN(test_literals_and_nulls);
  RUN(test_normalize);
  RUN(test_user_lifetimes);
  RUN(test_user_records_bad_input);
  TEST_MAIN_END();
}
