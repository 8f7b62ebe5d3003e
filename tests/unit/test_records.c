/* test_records.c - the small pieces every operation stands on: the field
 * errors list, library-allocated records, the per-call context and the
 * size-prefixed structs behind it, the per-thread error detail that
 * msvc_errmsg() reports, and the base helpers (hex, random hex, mkdir -p,
 * trimmed copies).
 */
#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

/* ---- the errors list ------------------------------------------------------
 */

static void test_errors_basics(void) {
  msvc_errors_t *errs = NULL;
  CHECK_EQ_INT(msvc_errors_new(NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_errors_new(&errs), 0);
  CHECK(errs != NULL);
  if (errs == NULL)
    return;
  CHECK_EQ_INT(msvc_errors_count(errs), 0);
  CHECK(msvc_errors_field(errs, 0) == NULL);
  CHECK(msvc_errors_reason(errs, 0) == NULL);
  CHECK(msvc_errors_get(errs, "name") == NULL);

  CHECK_EQ_INT(msvc_errors_add(errs, "name", "is required"), 0);
  CHECK_EQ_INT(msvc_errors_add(errs, "email", "must be a valid email address"),
               0);
  CHECK_EQ_INT(msvc_errors_add(errs, "password", "must be at least 8 bytes"),
               0);
  CHECK_EQ_INT(msvc_errors_count(errs), 3);
  /* In the order added. */
  CHECK_EQ_STR(msvc_errors_field(errs, 0), "name");
  CHECK_EQ_STR(msvc_errors_field(errs, 1), "email");
  CHECK_EQ_STR(msvc_errors_field(errs, 2), "password");
  CHECK_EQ_STR(msvc_errors_reason(errs, 0), "is required");
  CHECK_EQ_STR(msvc_errors_reason(errs, 2), "must be at least 8 bytes");
  CHECK(msvc_errors_field(errs, 3) == NULL);
  CHECK(msvc_errors_reason(errs, 3) == NULL);
  CHECK(msvc_errors_field(errs, (size_t)-1) == NULL);
  CHECK_EQ_STR(msvc_errors_get(errs, "email"), "must be a valid email address");
  CHECK(msvc_errors_get(errs, "title") == NULL);
  CHECK(msvc_errors_get(errs, "Email") == NULL); /* names are exact */
  CHECK_EQ_INT(msvc__errors_has(errs, "name"), 1);
  CHECK_EQ_INT(msvc__errors_has(errs, "title"), 0);
  msvc_errors_free(errs);
}

/* Regression (issue 8): the list copies what it is given, so a caller's
 * buffer (a parser's scratch space, a stack array) can change or go. */
static void test_errors_copy_strings(void) {
  msvc_errors_t *errs = NULL;
  char field[16], reason[32];
  char *heap_field = msvc__strdup("body"), *heap_reason = msvc__strdup("bad");
  CHECK_EQ_INT(msvc_errors_new(&errs), 0);
  if (errs == NULL)
    return;
  strcpy(field, "title");
  strcpy(reason, "must be a string");
  CHECK_EQ_INT(msvc_errors_add(errs, field, reason), 0);
  CHECK(msvc_errors_field(errs, 0) != field);
  CHECK(msvc_errors_reason(errs, 0) != reason);
  memset(field, 'X', sizeof(field) - 1);
  memset(reason, 'Y', sizeof(reason) - 1);
  field[sizeof(field) - 1] = reason[sizeof(reason) - 1] = '\0';
  CHECK_EQ_STR(msvc_errors_field(errs, 0), "title");
  CHECK_EQ_STR(msvc_errors_reason(errs, 0), "must be a string");
  CHECK_EQ_STR(msvc_errors_get(errs, "title"), "must be a string");

  CHECK_EQ_INT(msvc_errors_add(errs, heap_field, heap_reason), 0);
  free(heap_field); /* ASan would see a later read of these */
  free(heap_reason);
  CHECK_EQ_STR(msvc_errors_get(errs, "body"), "bad");
  CHECK_EQ_STR(msvc_errors_field(errs, 1), "body");
  msvc_errors_free(errs);
}

/* Regression (issue 8): a field keeps the first reason it was given. */
static void test_errors_first_reason_kept(void) {
  msvc_errors_t *errs = NULL;
  CHECK_EQ_INT(msvc_errors_new(&errs), 0);
  if (errs == NULL)
    return;
  CHECK_EQ_INT(msvc_errors_add(errs, "email", "is already registered"), 0);
  CHECK_EQ_INT(msvc_errors_add(errs, "email", "must be a valid email address"),
               0);
  CHECK_EQ_INT(msvc_errors_add(errs, "email", "is required"), 0);
  CHECK_EQ_INT(msvc_errors_count(errs), 1);
  CHECK_EQ_STR(msvc_errors_get(errs, "email"), "is already registered");

  /* A validator's verdict counts an error recorded before it... */
  CHECK_EQ_INT(msvc__field_verdict(errs, "email", NULL), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc__field_verdict(errs, "email", "other"), MSVC_EVALIDATION);
  CHECK_EQ_STR(msvc_errors_get(errs, "email"), "is already registered");
  CHECK_EQ_INT(msvc_errors_count(errs), 1);
  /* ...a valid field without one is fine, an invalid one is recorded... */
  CHECK_EQ_INT(msvc__field_verdict(errs, "name", NULL), 0);
  CHECK_EQ_INT(msvc_errors_count(errs), 1);
  CHECK_EQ_INT(msvc__field_verdict(errs, "name", "is required"),
               MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_errors_count(errs), 2);
  CHECK_EQ_STR(msvc_errors_get(errs, "name"), "is required");
  /* ...and without a list only the answer is given. */
  CHECK_EQ_INT(msvc__field_verdict(NULL, "name", "is required"),
               MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc__field_verdict(NULL, "name", NULL), 0);
  msvc_errors_free(errs);
}

/* Regression (issue 8): NULL never crashes. */
static void test_errors_null(void) {
  msvc_errors_t *errs = NULL;
  CHECK_EQ_INT(msvc_errors_new(&errs), 0);
  if (errs == NULL)
    return;
  CHECK_EQ_INT(msvc_errors_add(NULL, "name", "is required"), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_errors_add(errs, NULL, "is required"), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_errors_add(errs, "name", NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_errors_count(errs), 0);
  CHECK_EQ_INT(msvc_errors_count(NULL), 0);
  CHECK(msvc_errors_field(NULL, 0) == NULL);
  CHECK(msvc_errors_reason(NULL, 0) == NULL);
  CHECK(msvc_errors_get(NULL, "name") == NULL);
  CHECK(msvc_errors_get(errs, NULL) == NULL);
  CHECK_EQ_INT(msvc__errors_has(NULL, "name"), 0);
  msvc_errors_clear(NULL);
  msvc_errors_free(NULL);
  msvc_errors_free(errs);
}

static void test_errors_grow_and_clear(void) {
  msvc_errors_t *errs = NULL;
  char field[32], reason[32];
  CHECK_EQ_INT(msvc_errors_new(&errs), 0);
  if (errs == NULL)
    return;
  for (int i = 0; i < 100; i++) { /* far past the old MSVC_ERRORS_MAX 8 */
    snprintf(field, sizeof(field), "field%d", i);
    snprintf(reason, sizeof(reason), "reason %d", i);
    CHECK_EQ_INT(msvc_errors_add(errs, field, reason), 0);
  }
  CHECK_EQ_INT(msvc_errors_count(errs), 100);
  CHECK_EQ_STR(msvc_errors_field(errs, 0), "field0");
  CHECK_EQ_STR(msvc_errors_field(errs, 99), "field99");
  CHECK_EQ_STR(msvc_errors_get(errs, "field57"), "reason 57");
  msvc_errors_clear(errs);
  CHECK_EQ_INT(msvc_errors_count(errs), 0);
  CHECK(msvc_errors_get(errs, "field57") == NULL);
  msvc_errors_clear(errs); /* twice is harmless */
  /* Reusable after clearing; a field cleared may be added again. */
  CHECK_EQ_INT(msvc_errors_add(errs, "field57", "again"), 0);
  CHECK_EQ_INT(msvc_errors_count(errs), 1);
  CHECK_EQ_STR(msvc_errors_get(errs, "field57"), "again");
  msvc_errors_free(errs);
}

/* ---- records ------------------------------------------------------------- */

#define ID "0123456789abcdef01234567"

static void test_records_zeroed(void) {
  msvc_user_t *u = NULL, **users = NULL;
  msvc_post_t *p = NULL;
  msvc_user_record_t *rec = NULL;

  CHECK_EQ_INT(msvc_user_new(&u), 0);
  CHECK(u != NULL && u->id[0] == '\0' && u->name == NULL && u->email == NULL &&
        u->created_at == 0 && u->updated_at == 0);
  msvc_user_free(u);

  CHECK_EQ_INT(msvc_post_new(&p), 0);
  CHECK(p != NULL && p->id[0] == '\0' && p->user_id[0] == '\0' &&
        p->title == NULL && p->content == NULL);
  msvc_post_free(p);

  CHECK_EQ_INT(msvc_user_record_new(&rec), 0);
  CHECK(rec != NULL && rec->user != NULL && rec->password_hash == NULL);
  if (rec != NULL && rec->user != NULL)
    CHECK(rec->user->name == NULL && rec->user->id[0] == '\0');
  msvc_user_record_free(rec);

  CHECK_EQ_INT(msvc__users_alloc(4, &users), 0);
  CHECK(users != NULL);
  for (size_t i = 0; users != NULL && i < 4; i++)
    CHECK(users[i] != NULL && users[i]->name == NULL);
  msvc_users_free(users, 4);
  users = (msvc_user_t **)&users;
  CHECK_EQ_INT(msvc__users_alloc(0, &users), 0);
  msvc_users_free(users, 0);
}

/* A page's slots: n posts and n users, zeroed, distinct, authors NULL,
 * the cursor "", all freed with the page, strings that a store put into
 * slots past count included (LeakSanitizer checks); the users' out
 * parameter is optional. */
static void test_records_page_block(void) {
  for (int ask = 0; ask <= 1; ask++) {
    msvc_post_page_t *page = msvc__page_new();
    msvc_user_t *const *users = NULL;
    CHECK(page != NULL);
    if (page == NULL)
      return;
    CHECK_EQ_STR(page->next_cursor, "");
    CHECK_EQ_INT(msvc__page_alloc(page, 5, ask ? &users : NULL), 0);
    CHECK(msvc__page_user_slots(page) != NULL);
    CHECK((users != NULL) == (ask == 1));
    for (size_t i = 0; i < 5; i++) {
      CHECK(page->posts[i] != NULL && page->posts[i]->title == NULL);
      CHECK(page->authors[i] == NULL);
      if (i > 0)
        CHECK(page->posts[i] != page->posts[i - 1]);
      if (users != NULL)
        CHECK(users[i] != NULL && users[i]->name == NULL &&
              (void *)users[i] != (void *)page->posts[i]);
    }
    page->posts[4]->title = strdup("past the count");
    if (users != NULL)
      users[3]->name = strdup("an author");
    page->count = 2;
    msvc__page_set_cursor(page, "abc");
    CHECK_EQ_STR(page->next_cursor, "abc");
    msvc_post_page_free(page);
  }
  {
    msvc_post_page_t *page = msvc__page_new();
    CHECK(page != NULL);
    if (page != NULL)
      CHECK_EQ_INT(msvc__page_alloc(page, 0, NULL), MSVC_EINVAL);
    msvc_post_page_free(page);
  }
}

/* msvc_id_valid (eight bytes at a time inside) against isxdigit for
 * every byte value at every position, and for lengths around 24. */
static void test_records_id_valid(void) {
  char id[32];
  int wrong = 0;
  for (int pos = 0; pos < MSVC_ID_LEN; pos++)
    for (int c = 0; c < 256; c++) {
      memset(id, 'a', sizeof(id));
      id[pos] = (char)c;
      if (msvc_id_valid(id, MSVC_ID_LEN) != (isxdigit(c) ? 1 : 0))
        wrong++;
    }
  CHECK_EQ_INT(wrong, 0);
  memcpy(id, "0123456789ABCDEFabcdef01", MSVC_ID_LEN);
  CHECK_EQ_INT(msvc_id_valid(id, MSVC_ID_LEN), 1);
  CHECK_EQ_INT(msvc_id_valid(id, MSVC_ID_LEN - 1), 0);
  CHECK_EQ_INT(msvc_id_valid(id, MSVC_ID_LEN + 1), 0);
  CHECK_EQ_INT(msvc_id_valid(NULL, MSVC_ID_LEN), 0);
  /* msvc__hex_lower: every hex digit at every position, 26 long so the
   * byte-at-a-time tail runs too */
  for (int pos = 0; pos < 26; pos++)
    for (const char *d = "0123456789abcdefABCDEF"; *d; d++) {
      char got[27], want[27];
      memset(got, 'C', 26);
      got[pos] = *d;
      got[26] = '\0';
      for (int i = 0; i < 27; i++)
        want[i] = (char)tolower((unsigned char)got[i]);
      msvc__hex_lower(got, 26);
      if (strcmp(got, want) != 0)
        wrong++;
    }
  CHECK_EQ_INT(wrong, 0);
}

/* A row as a backend hands it: counted strings that are not
 * NUL-terminated (they end inside a longer buffer). */
static msvc_page_row_t sample_row(const char *buf, int has_author) {
  msvc_page_row_t row = MSVC_PAGE_ROW_INIT;
  row.id = "0123456789abcdef01234567trailing";
  row.user_id = "fedcba9876543210fedcba98";
  row.title = buf;
  row.title_len = 5; /* "title" of "title-and-more" */
  row.content = buf + 6;
  row.content_len = 3; /* "and" */
  row.created_at = 10;
  row.updated_at = 20;
  row.has_author = has_author;
  row.author_name = "Ada Lovelace";
  row.author_name_len = 3;
  row.author_email = NULL; /* reads as "" */
  row.author_email_len = 7;
  row.author_created_at = 1;
  row.author_updated_at = 2;
  return row;
}

/* The sink copies rows into a page's arena or into caller slots, checks
 * its arguments, and never writes past its capacity. */
static void test_records_page_sink(void) {
  static const char buf[] = "title-and-more";
  static char big[20000];
  msvc_post_page_t *page = msvc__page_new();
  msvc_page_sink_t sink;
  msvc_page_row_t row = sample_row(buf, 1), odd = sample_row(buf, 0);
  CHECK(page != NULL);
  if (page == NULL)
    return;
  CHECK_EQ_INT(msvc__page_sink_page(&sink, page, 3, 0), 0);
  CHECK_EQ_INT(msvc_page_sink_wants_authors(&sink), 1);
  CHECK_EQ_INT(msvc_page_sink_wants_authors(NULL), 0);
  CHECK_EQ_INT(msvc_page_sink_add(NULL, &row), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_page_sink_add(&sink, NULL), MSVC_EINVAL);
  odd.size = offsetof(msvc_page_row_t, author_updated_at);
  CHECK_EQ_INT(msvc_page_sink_add(&sink, &odd), MSVC_EINVAL);
  CHECK_EQ_INT(sink.count, 0);
  CHECK_EQ_INT(msvc_page_sink_add(&sink, &row), 0);
  CHECK_EQ_STR(page->posts[0]->id, "0123456789abcdef01234567");
  CHECK_EQ_STR(page->posts[0]->user_id, "fedcba9876543210fedcba98");
  CHECK_EQ_STR(page->posts[0]->title, "title");
  CHECK_EQ_STR(page->posts[0]->content, "and");
  CHECK_EQ_INT(page->posts[0]->updated_at, 20);
  CHECK_EQ_STR(sink.authors[0]->id, "fedcba9876543210fedcba98");
  CHECK_EQ_STR(sink.authors[0]->name, "Ada");
  CHECK_EQ_STR(sink.authors[0]->email, "");
  CHECK_EQ_INT(sink.authors[0]->updated_at, 2);
  /* no author, odd ids, no strings, a string bigger than a chunk */
  odd = sample_row(buf, 0);
  odd.id = "0123";
  odd.user_id = "0123456789abcdef0123456g";
  odd.title = NULL;
  memset(big, 'x', sizeof(big) - 1);
  odd.content = big;
  odd.content_len = sizeof(big) - 1;
  CHECK_EQ_INT(msvc_page_sink_add(&sink, &odd), 0);
  CHECK_EQ_STR(page->posts[1]->id, "");
  CHECK_EQ_STR(page->posts[1]->user_id, "");
  CHECK_EQ_STR(page->posts[1]->title, "");
  CHECK(page->posts[1]->content != NULL &&
        strlen(page->posts[1]->content) == sizeof(big) - 1);
  CHECK(sink.authors[1]->id[0] == '\0' && sink.authors[1]->name == NULL);
  CHECK_EQ_INT(msvc_page_sink_add(&sink, &row), 0);
  CHECK_EQ_INT(msvc_page_sink_add(&sink, &row), MSVC_EINVAL); /* full */
  CHECK_EQ_INT(sink.count, 3);
  msvc__page_truncate(page, 2);
  CHECK(page->count == 2 && page->posts[2] == NULL);
  CHECK_EQ_STR(page->posts[0]->title, "title"); /* the arena stays */
  msvc_post_page_free(page);

  /* a page without author slots: an author given anyway is dropped */
  page = msvc__page_new();
  CHECK(page != NULL);
  if (page == NULL)
    return;
  CHECK_EQ_INT(msvc__page_sink_page(&sink, page, 2, 1), 0);
  CHECK_EQ_INT(msvc_page_sink_wants_authors(&sink), 0);
  CHECK(sink.authors == NULL);
  CHECK_EQ_INT(msvc_page_sink_add(&sink, &row), 0);
  CHECK_EQ_STR(page->posts[0]->title, "title");
  CHECK(page->authors[0] == NULL);
  msvc__page_truncate(page, 1);
  msvc_post_page_free(page);

  /* over caller slots: every string its own allocation */
  {
    msvc_post_t *post = NULL;
    msvc_user_t *user = NULL;
    CHECK_EQ_INT(msvc_post_new(&post), 0);
    CHECK_EQ_INT(msvc_user_new(&user), 0);
    if (post == NULL || user == NULL)
      return;
    msvc__page_sink_slots(&sink, &post, &user, 1);
    CHECK_EQ_INT(msvc_page_sink_add(&sink, &row), 0);
    CHECK_EQ_INT(msvc_page_sink_add(&sink, &row), MSVC_EINVAL);
    CHECK_EQ_STR(post->content, "and");
    CHECK_EQ_STR(user->name, "Ada");
    msvc_post_free(post); /* ASan: these strings are malloc'd */
    msvc_user_free(user);
  }
}

static void test_records_set_and_dup(void) {
  msvc_user_t *u = NULL, *copy = NULL;
  CHECK_EQ_INT(msvc_user_new(&u), 0);
  if (u == NULL)
    return;
  CHECK_EQ_INT(msvc_user_set(u, ID, "Ada", "ada@example.com", 10, 20), 0);
  CHECK_EQ_STR(u->id, ID);
  CHECK_EQ_STR(u->name, "Ada");
  CHECK_EQ_STR(u->email, "ada@example.com");
  CHECK_EQ_INT(u->created_at, 10);
  CHECK_EQ_INT(u->updated_at, 20);
  /* Setting again replaces (and frees) the previous strings. */
  CHECK_EQ_INT(msvc_user_set(u, ID, "Bea", "bea@example.com", 11, 21), 0);
  CHECK_EQ_STR(u->name, "Bea");
  CHECK_EQ_INT(msvc_user_dup(u, &copy), 0);
  CHECK(copy != NULL && copy != u);
  if (copy != NULL) {
    CHECK(copy->name != u->name && copy->email != u->email);
    CHECK_EQ_STR(copy->id, ID);
    CHECK_EQ_STR(copy->name, "Bea");
    CHECK_EQ_STR(copy->email, "bea@example.com");
    CHECK_EQ_INT(copy->created_at, 11);
    CHECK_EQ_INT(copy->updated_at, 21);
  }
  msvc_user_free(u);
  CHECK(copy != NULL && strcmp(copy->name, "Bea") == 0);
  msvc_user_free(copy);
}

/* Regression (issue 8): every record function answers MSVC_EINVAL to NULL
 * (freeing functions accept it), and a refused change leaves the record as
 * it was. */
static void test_records_null(void) {
  msvc_user_t *u = NULL, *copy = NULL;
  CHECK_EQ_INT(msvc_user_new(NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_post_new(NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_user_record_new(NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_user_set(NULL, ID, "A", "a@b.co", 0, 0), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_user_dup(NULL, &copy), MSVC_EINVAL);
  CHECK(copy == NULL);
  CHECK_EQ_INT(msvc_user_dup(NULL, NULL), MSVC_EINVAL);
  msvc_user_free(NULL);
  msvc_post_free(NULL);
  msvc_user_record_free(NULL);
  msvc_users_free(NULL, 0);
  msvc_users_free(NULL, 5);
  msvc_post_page_free(NULL);

  CHECK_EQ_INT(msvc_user_new(&u), 0);
  if (u == NULL)
    return;
  CHECK_EQ_INT(msvc_user_set(u, ID, "Ada", "ada@example.com", 1, 2), 0);
  CHECK_EQ_INT(msvc_user_dup(u, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_user_set(u, NULL, "B", "b@b.co", 3, 4), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_user_set(u, "", "B", "b@b.co", 3, 4), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_user_set(u, "not an id", "B", "b@b.co", 3, 4), MSVC_EINVAL);
  CHECK_EQ_STR(u->id, ID);
  CHECK_EQ_STR(u->name, "Ada");
  CHECK_EQ_STR(u->email, "ada@example.com");
  CHECK_EQ_INT(u->created_at, 1);
  /* A zeroed user has no valid id, so it cannot be copied. */
  msvc__user_reset(u);
  copy = u;
  CHECK_EQ_INT(msvc_user_dup(u, &copy), MSVC_EINVAL);
  CHECK(copy == NULL);
  msvc_user_free(u);
}

/* ---- the per-call context ------------------------------------------------ */

static void test_call_context(void) {
  msvc_call_t call = MSVC_CALL_INIT;
  CHECK_EQ_INT(call.size, sizeof(msvc_call_t));
  CHECK_EQ_INT(msvc__call_flags(NULL), 0);
  CHECK(msvc__call_request_id(NULL) == NULL);
  CHECK_EQ_INT(msvc__call_flags(&call), 0);
  CHECK(msvc__call_request_id(&call) == NULL);
  call.flags = MSVC_NOWAIT;
  call.request_id = "req-1";
  CHECK_EQ_INT(msvc__call_flags(&call), MSVC_NOWAIT);
  CHECK_EQ_STR(msvc__call_request_id(&call), "req-1");

  /* An older caller's struct is read only as far as its size says, even
   * when the memory after it holds something. */
  call.size = offsetof(msvc_call_t, request_id);
  CHECK_EQ_INT(msvc__call_flags(&call), MSVC_NOWAIT);
  CHECK(msvc__call_request_id(&call) == NULL);
  call.size = offsetof(msvc_call_t, flags);
  CHECK_EQ_INT(msvc__call_flags(&call), 0);
  CHECK(msvc__call_request_id(&call) == NULL);
  call.size = 0; /* never initialised */
  CHECK_EQ_INT(msvc__call_flags(&call), 0);
  CHECK(msvc__call_request_id(&call) == NULL);
  /* A newer caller's (larger) struct: the fields we know are read. */
  call.size = sizeof(msvc_call_t) + 16;
  CHECK_EQ_INT(msvc__call_flags(&call), MSVC_NOWAIT);
  CHECK_EQ_STR(msvc__call_request_id(&call), "req-1");
}

/* Three versions of one size-prefixed struct, fields only ever appended.
 * Every field is 8 bytes wide so that no version has tail padding. */
typedef struct v1 {
  size_t size;
  int64_t a;
} v1_t;
typedef struct v2 {
  size_t size;
  int64_t a;
  int64_t b;
  const char *c;
} v2_t;
typedef struct v3 {
  size_t size;
  int64_t a;
  int64_t b;
  const char *c;
  int64_t d;
} v3_t;

static const v2_t v2_defaults = {sizeof(v2_t), 1, 2, "default"};

static void test_copy_sized(void) {
  struct {
    v2_t d;
    unsigned char guard[32];
  } box;
  v1_t old = {sizeof(v1_t), 10};
  v3_t newer = {sizeof(v3_t), 10, 20, "newer", 40};
  unsigned char guard[32];
  size_t bad_sizes[] = {0, 1, sizeof(size_t) - 1, 65537, (size_t)-1};
  memset(guard, 0xa5, sizeof(guard));

  /* An older (smaller) caller struct: only the bytes it has are copied,
   * the rest keep their defaults, and the size stays ours. */
  box.d = v2_defaults;
  CHECK_EQ_INT(msvc__copy_sized(&box.d, sizeof(box.d), &old), 0);
  CHECK_EQ_INT(box.d.size, sizeof(v2_t));
  CHECK_EQ_INT(box.d.a, 10);
  CHECK_EQ_INT(box.d.b, 2);
  CHECK_EQ_STR(box.d.c, "default");

  /* A newer (larger) one: only what we know, nothing past our struct. */
  box.d = v2_defaults;
  memcpy(box.guard, guard, sizeof(guard));
  CHECK_EQ_INT(msvc__copy_sized(&box.d, sizeof(box.d), &newer), 0);
  CHECK_EQ_INT(box.d.size, sizeof(v2_t));
  CHECK_EQ_INT(box.d.a, 10);
  CHECK_EQ_INT(box.d.b, 20);
  CHECK_EQ_STR(box.d.c, "newer");
  CHECK(memcmp(box.guard, guard, sizeof(guard)) == 0);

  /* Exactly the size field: every default kept. */
  old.size = sizeof(size_t);
  box.d = v2_defaults;
  CHECK_EQ_INT(msvc__copy_sized(&box.d, sizeof(box.d), &old), 0);
  CHECK_EQ_INT(box.d.a, 1);
  CHECK_EQ_INT(box.d.size, sizeof(v2_t));

  /* No struct at all means defaults. */
  box.d = v2_defaults;
  CHECK_EQ_INT(msvc__copy_sized(&box.d, sizeof(box.d), NULL), 0);
  CHECK(memcmp(&box.d, &v2_defaults, sizeof(v2_t)) == 0);

  /* A size that cannot be one (0: not initialised) is refused and dst is
   * left alone. */
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(bad_sizes); i++) {
    newer.size = bad_sizes[i];
    box.d = v2_defaults;
    CHECK_EQ_INT(msvc__copy_sized(&box.d, sizeof(box.d), &newer), MSVC_EINVAL);
    CHECK(memcmp(&box.d, &v2_defaults, sizeof(v2_t)) == 0);
  }
  /* The largest size accepted. */
  newer.size = 65536;
  box.d = v2_defaults;
  CHECK_EQ_INT(msvc__copy_sized(&box.d, sizeof(box.d), &newer), 0);
  CHECK_EQ_INT(box.d.b, 20);
}

/* The same on a public struct: a caller built against a header that had
 * no current_password yet. */
static void test_copy_sized_public(void) {
  msvc_user_input_t in = MSVC_USER_INPUT_INIT, out = MSVC_USER_INPUT_INIT;
  msvc_list_request_t req = MSVC_LIST_REQUEST_INIT,
                      got = MSVC_LIST_REQUEST_INIT;
  in.name = "Dave";
  in.email = "dave@example.com";
  in.password = "a password";
  in.current_password = "junk the caller never had";
  in.size = offsetof(msvc_user_input_t, current_password);
  CHECK_EQ_INT(msvc__copy_sized(&out, sizeof(out), &in), 0);
  CHECK_EQ_INT(out.size, sizeof(msvc_user_input_t));
  CHECK_EQ_STR(out.name, "Dave");
  CHECK_EQ_STR(out.password, "a password");
  CHECK(out.current_password == NULL);

  CHECK_EQ_INT(got.limit, MSVC_LIST_DEFAULT_LIMIT);
  CHECK(got.cursor == NULL && got.user_id == NULL);
  req.limit = 5;
  req.cursor = "c";
  req.user_id = ID;
  req.size = offsetof(msvc_list_request_t, user_id);
  CHECK_EQ_INT(msvc__copy_sized(&got, sizeof(got), &req), 0);
  CHECK_EQ_INT(got.limit, 5);
  CHECK_EQ_STR(got.cursor, "c");
  CHECK(got.user_id == NULL);
  req.size = 0;
  CHECK_EQ_INT(msvc__copy_sized(&got, sizeof(got), &req), MSVC_EINVAL);
}

/* ---- the thread's error detail (msvc_errmsg) ----------------------------- */

static int handle_a, handle_b; /* stand-ins for two msvc_t handles */

static void *other_thread(void *arg) {
  const char **seen = arg;
  /* Nothing failed on this thread yet. */
  seen[0] = msvc__errmsg_get(&handle_a)[0] == '\0' ? "empty" : "leaked";
  msvc__errmsg_clear();
  msvc_set_error_detail("thread detail");
  msvc__errmsg_finish(&handle_a, MSVC_EAUTH);
  seen[1] = strcmp(msvc__errmsg_get(&handle_a),
                   "invalid credentials: thread detail") == 0
                ? "own"
                : "wrong";
  return NULL;
}

static void test_errmsg(void) {
  char big[400];
  const char *seen[2] = {NULL, NULL};
  pthread_t th;

  CHECK_EQ_STR(msvc__errmsg_get(&handle_a), "");
  CHECK_EQ_STR(msvc__errmsg_get(NULL), "");

  /* A failure without a detail reads as the code's message. */
  msvc__errmsg_clear();
  CHECK_EQ_INT(msvc__errmsg_finish(&handle_a, MSVC_ENOTFOUND), MSVC_ENOTFOUND);
  CHECK_EQ_STR(msvc__errmsg_get(&handle_a), "not found");
  /* Another handle, or none, is told nothing. */
  CHECK_EQ_STR(msvc__errmsg_get(&handle_b), "");
  CHECK_EQ_STR(msvc__errmsg_get(NULL), "");

  /* A detail set during the call follows the message. */
  msvc__errmsg_clear();
  msvc_set_error_detail("SQLite: %s (%d)", "disk I/O error", 10);
  CHECK_EQ_INT(msvc__errmsg_finish(&handle_a, MSVC_ESTORE), MSVC_ESTORE);
  CHECK_EQ_STR(msvc__errmsg_get(&handle_a),
               "storage error: SQLite: disk I/O error (10)");

  /* ...and does not outlive its call. */
  msvc__errmsg_clear();
  msvc__errmsg_finish(&handle_a, MSVC_EUNAVAIL);
  CHECK_EQ_STR(msvc__errmsg_get(&handle_a),
               "storage or upstream service unavailable");
  msvc_set_error_detail("set, but the call succeeded");
  CHECK_EQ_INT(msvc__errmsg_finish(&handle_a, 0), 0);
  CHECK_EQ_STR(msvc__errmsg_get(&handle_a), "");
  msvc__errmsg_finish(&handle_a, MSVC_EIO); /* finish forgot the detail */
  CHECK_EQ_STR(msvc__errmsg_get(&handle_a), "input/output error");
  msvc_set_error_detail("cleared at the start of the next call");
  msvc__errmsg_clear();
  msvc__errmsg_finish(&handle_a, MSVC_EIO);
  CHECK_EQ_STR(msvc__errmsg_get(&handle_a), "input/output error");

  /* The last call on this thread decides: a success on b hides a's. */
  msvc__errmsg_clear();
  msvc__errmsg_finish(&handle_a, MSVC_EAUTH);
  msvc__errmsg_clear();
  msvc__errmsg_finish(&handle_b, 0);
  CHECK_EQ_STR(msvc__errmsg_get(&handle_a), "");
  CHECK_EQ_STR(msvc__errmsg_get(&handle_b), "");

  /* Details are cut at 255 bytes; a NULL format is ignored. */
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  msvc__errmsg_clear();
  msvc_set_error_detail("%s", big);
  msvc__errmsg_finish(&handle_a, MSVC_ESTORE);
  CHECK_EQ_INT(strlen(msvc__errmsg_get(&handle_a)),
               strlen("storage error: ") + 255);
  CHECK(strncmp(msvc__errmsg_get(&handle_a), "storage error: xxx", 18) == 0);
  msvc__errmsg_clear();
  msvc_set_error_detail(NULL);
  msvc__errmsg_finish(&handle_a, MSVC_EIO);
  CHECK_EQ_STR(msvc__errmsg_get(&handle_a), "input/output error");

  /* Per thread: another thread neither sees this one's message nor
   * changes it. */
  CHECK_EQ_INT(pthread_create(&th, NULL, other_thread, seen), 0);
  CHECK_EQ_INT(pthread_join(th, NULL), 0);
  CHECK_EQ_STR(seen[0], "empty");
  CHECK_EQ_STR(seen[1], "own");
  CHECK_EQ_STR(msvc__errmsg_get(&handle_a), "input/output error");
}

/* ---- base helpers -------------------------------------------------------- */

static void test_hex(void) {
  static const unsigned char bytes[] = {0x00, 0x01, 0xab, 0xff, 0x7e};
  unsigned char all[256], back[256];
  char text[513];
  CHECK_EQ_INT(msvc__hex_value('0'), 0);
  CHECK_EQ_INT(msvc__hex_value('9'), 9);
  CHECK_EQ_INT(msvc__hex_value('a'), 10);
  CHECK_EQ_INT(msvc__hex_value('f'), 15);
  CHECK_EQ_INT(msvc__hex_value('A'), 10);
  CHECK_EQ_INT(msvc__hex_value('F'), 15);
  {
    static const char not_hex[] = "gG/:@`\0 x-";
    for (size_t i = 0; i < sizeof(not_hex) - 1; i++)
      CHECK_EQ_INT(msvc__hex_value(not_hex[i]), -1);
    CHECK_EQ_INT(msvc__hex_value((char)0xff), -1);
  }
  msvc__hex_encode(bytes, sizeof(bytes), text);
  CHECK_EQ_STR(text, "0001abff7e");
  memset(text, '#', sizeof(text));
  msvc__hex_encode(bytes, 0, text);
  CHECK_EQ_STR(text, "");

  CHECK_EQ_INT(msvc__hex_decode("0001ABff7E", 5, back), 0);
  CHECK(memcmp(back, bytes, sizeof(bytes)) == 0);
  CHECK_EQ_INT(msvc__hex_decode("0g", 1, back), -1);
  CHECK_EQ_INT(msvc__hex_decode("g0", 1, back), -1);
  CHECK_EQ_INT(msvc__hex_decode("00 1", 2, back), -1);
  /* Only 2n digits are read: a NUL-less buffer is fine. */
  CHECK_EQ_INT(msvc__hex_decode("abcdZZ", 2, back), 0);
  CHECK(back[0] == 0xab && back[1] == 0xcd);

  for (int i = 0; i < 256; i++)
    all[i] = (unsigned char)i;
  msvc__hex_encode(all, 256, text);
  CHECK_EQ_INT(strlen(text), 512);
  CHECK_EQ_INT(strspn(text, "0123456789abcdef"), 512);
  CHECK_EQ_INT(msvc__hex_decode(text, 256, back), 0);
  CHECK(memcmp(all, back, 256) == 0);
}

static void test_random_hex(void) {
  char a[2 * 100 + 1 + 8], b[sizeof(a)];
  CHECK_EQ_INT(msvc__random_bytes(a, 0), 0);
  memset(a, '#', sizeof(a));
  memset(b, '#', sizeof(b));
  CHECK_EQ_INT(msvc__random_hex(a, 12), 0);
  CHECK_EQ_INT(msvc__random_hex(b, 12), 0);
  CHECK_EQ_INT(strlen(a), 24);
  CHECK_EQ_INT(strspn(a, "0123456789abcdef"), 24);
  CHECK(strcmp(a, b) != 0);
  CHECK(a[25] == '#'); /* nothing past out[2n] */
  /* More than one internal chunk. */
  memset(a, '#', sizeof(a));
  CHECK_EQ_INT(msvc__random_hex(a, 100), 0);
  CHECK_EQ_INT(strlen(a), 200);
  CHECK_EQ_INT(strspn(a, "0123456789abcdef"), 200);
  CHECK(a[201] == '#');
  /* No bytes: an empty string (out[2n+1] is out[1]). */
  memset(a, '#', sizeof(a));
  CHECK_EQ_INT(msvc__random_hex(a, 0), 0);
  CHECK(a[0] == '\0');
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_mkdir_p(void) {
  char base[] = "/tmp/msvc-unit-records-XXXXXX";
  char path[256], failed[256];
  struct stat st;
  mode_t mask;
  FILE *f;
  if (mkdtemp(base) == NULL) {
    CHECK(!"mkdtemp");
    return;
  }
  mask = umask(0);
  umask(mask);

  snprintf(path, sizeof(path), "%s/a/b/c", base);
  CHECK_EQ_INT(msvc__mkdir_p(path, 0700, NULL, 0), 0);
  CHECK(is_dir(path));
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == (0700 & ~mask));
  snprintf(path, sizeof(path), "%s/a/b", base);
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == (0700 & ~mask));
  /* Existing directories are fine, whole or in part. */
  CHECK_EQ_INT(msvc__mkdir_p(path, 0700, NULL, 0), 0);
  snprintf(path, sizeof(path), "%s/a/b/d", base);
  CHECK_EQ_INT(msvc__mkdir_p(path, 0755, NULL, 0), 0);
  CHECK(is_dir(path));
  /* Trailing and doubled slashes. */
  snprintf(path, sizeof(path), "%s/x//y/", base);
  CHECK_EQ_INT(msvc__mkdir_p(path, 0700, NULL, 0), 0);
  snprintf(path, sizeof(path), "%s/x/y", base);
  CHECK(is_dir(path));
  CHECK_EQ_INT(msvc__mkdir_p("", 0700, NULL, 0), 0);
  CHECK_EQ_INT(msvc__mkdir_p("/", 0700, NULL, 0), 0);

  /* A file in the way: -1, errno, and the prefix that failed. */
  snprintf(path, sizeof(path), "%s/file", base);
  f = fopen(path, "w");
  CHECK(f != NULL);
  if (f != NULL)
    fclose(f);
  snprintf(path, sizeof(path), "%s/file/sub/more", base);
  failed[0] = '\0';
  errno = 0;
  CHECK_EQ_INT(msvc__mkdir_p(path, 0700, failed, sizeof(failed)), -1);
  CHECK_EQ_INT(errno, ENOTDIR);
  snprintf(path, sizeof(path), "%s/file", base); /* the first non-directory */
  CHECK_EQ_STR(failed, path);
  /* A failed buffer too small is cut, never overrun. */
  memset(failed, '#', sizeof(failed));
  CHECK_EQ_INT(msvc__mkdir_p(path, 0700, failed, 8), -1);
  CHECK_EQ_INT(strlen(failed), 7);
  CHECK(failed[8] == '#');
  /* Like mkdir -p, a path that exists as a file is not a directory made. */
  snprintf(path, sizeof(path), "%s/file", base);
  errno = 0;
  CHECK_EQ_INT(msvc__mkdir_p(path, 0700, NULL, 0), -1);

  nftw(base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  CHECK(!is_dir(base));
}

static void test_strdup_trimmed(void) {
  static const struct {
    const char *in;
    size_t len;
    const char *out;
  } cases[] = {
      {"", 0, ""},
      {"abc", 3, "abc"},
      {"  a b  ", 7, "a b"},
      {" \t\n\v\f\rx\r\f\v\n\t ", 13, "x"},
      {" \t\n\v\f\r", 6, ""},
      {"  abc  ", 4, "ab"},                          /* only len bytes count */
      {"  abc  ", 2, ""},                            /* ... */
      {"abc   ", 3, "abc"},                          /* ... */
      {"\xc2\xa0x\xc2\xa0", 5, "\xc2\xa0x\xc2\xa0"}, /* only ASCII space */
  };
  char *s;
  CHECK(msvc__strdup_trimmed(NULL, 0) == NULL);
  CHECK(msvc__strdup_trimmed(NULL, 5) == NULL);
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(cases); i++) {
    /* From an exact-size heap copy, so that ASan sees any overread. */
    char *in = malloc(cases[i].len ? cases[i].len : 1);
    if (in == NULL)
      abort();
    memcpy(in, cases[i].in, cases[i].len);
    s = msvc__strdup_trimmed(in, cases[i].len);
    CHECK_EQ_STR(s, cases[i].out);
    CHECK(s != in);
    free(s);
    free(in);
  }
  CHECK(msvc__strdup(NULL) == NULL);
  s = msvc__strdup("copy");
  CHECK_EQ_STR(s, "copy");
  free(s);
}

int main(void) {
  RUN(test_errors_basics);
  RUN(test_errors_copy_strings);
  RUN(test_errors_first_reason_kept);
  RUN(test_errors_null);
  RUN(test_errors_grow_and_clear);
  RUN(test_records_zeroed);
  RUN(test_records_page_block);
  RUN(test_records_id_valid);
  RUN(test_records_page_sink);
  RUN(test_records_set_and_dup);
  RUN(test_records_null);
  RUN(test_call_context);
  RUN(test_copy_sized);
  RUN(test_copy_sized_public);
  RUN(test_errmsg);
  RUN(test_hex);
  RUN(test_random_hex);
  RUN(test_mkdir_p);
  RUN(test_strdup_trimmed);
  TEST_MAIN_END();
}
