/* test_service.c - the msvc_t API in-process on a real SQLite file: users,
 * login and throttling, profile updates, lookups, posts with owner checks,
 * listing with cursors, and an injected store fault through a wrapping
 * backend.  Inputs are string literals throughout: the library must never
 * write to what it is given. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msvc.h"
#include "testutil.h"

static char dir[] = "/tmp/msvc-test-service-XXXXXX";
static char url[256];
static const char secret[] = "unit-test-secret";

static msvc_t *open_with(msvc_options_t *opts) {
  msvc_t *svc = NULL;
  char err[256] = "";
  int rc = msvc_open(opts, &svc, err, sizeof(err));
  if (rc != 0)
    fprintf(stderr, "msvc_open: %s: %s\n", msvc_strerror(rc), err);
  CHECK_EQ_INT(rc, 0);
  return svc;
}

static msvc_options_t *default_options(void) {
  msvc_options_t *opts = NULL;
  CHECK_EQ_INT(msvc_options_new(&opts), 0);
  CHECK_EQ_INT(msvc_options_set_database_url(opts, url), 0);
  CHECK_EQ_INT(msvc_options_set_jwt_secret(opts, secret, strlen(secret)), 0);
  /* fast tests; the default is 10 */
  CHECK_EQ_INT(msvc_options_set_int(opts, MSVC_OPT_PASSWORD_COST, 4), 0);
  CHECK_EQ_INT(msvc_options_set_int(opts, MSVC_OPT_LOGIN_MAX_FAILURES, 3), 0);
  return opts;
}

static int register_user(msvc_t *svc, const char *name, const char *email,
                         const char *password, msvc_user_t **out) {
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;
  in.name = name;
  in.email = email;
  in.password = password;
  return msvc_register(svc, NULL, &in, out, NULL);
}

static int login(msvc_t *svc, const char *email, const char *password,
                 msvc_login_result_t **res, unsigned *retry_after) {
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;
  in.email = email;
  in.password = password;
  return msvc_login(svc, NULL, &in, res, retry_after, NULL);
}

static void test_register_and_login(msvc_t *svc) {
  msvc_user_t *u = NULL, *dup = NULL;
  msvc_login_result_t *res = NULL;
  msvc_claims_t *claims = NULL;
  msvc_errors_t *errs = NULL;
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;

  CHECK_EQ_INT(register_user(svc, "  Ada Lovelace ", "Ada@Example.COM",
                             "correct horse", &u),
               0);
  if (u == NULL)
    return;
  CHECK_EQ_STR(u->name, "Ada Lovelace");
  CHECK_EQ_STR(u->email, "ada@example.com");
  CHECK(msvc_id_valid(u->id, strlen(u->id)));
  CHECK(u->created_at > 0 && u->created_at == u->updated_at);

  CHECK_EQ_INT(
      register_user(svc, "Other", "ADA@example.com", "password1", &dup),
      MSVC_EEXIST);
  CHECK(dup == NULL);

  /* every field wrong at once: all reported */
  CHECK_EQ_INT(msvc_errors_new(&errs), 0);
  in.name = "";
  in.email = "not-an-email";
  in.password = "short";
  CHECK_EQ_INT(msvc_register(svc, NULL, &in, &dup, errs), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_errors_count(errs), 3);
  CHECK(msvc_errors_get(errs, "name") && msvc_errors_get(errs, "email") &&
        msvc_errors_get(errs, "password"));
  msvc_errors_free(errs);

  CHECK_EQ_INT(login(svc, " ADA@example.com ", "correct horse", &res, NULL), 0);
  if (res == NULL)
    return;
  CHECK(res->token != NULL && res->expires_in == 3600);
  CHECK_EQ_STR(res->user->id, u->id);
  CHECK_EQ_INT(
      msvc_authenticate(svc, NULL, res->token, strlen(res->token), &claims), 0);
  if (claims != NULL) {
    CHECK_EQ_STR(claims->user->id, u->id);
    CHECK_EQ_STR(claims->user->email, "ada@example.com");
    CHECK_EQ_INT(claims->kind, MSVC_CALLER_USER);
    CHECK(msvc_claims_author(claims) == claims->user);
  }
  msvc_claims_free(claims);
  msvc_login_result_free(res);

  CHECK_EQ_INT(login(svc, "ada@example.com", "wrong password", &res, NULL),
               MSVC_EAUTH);
  CHECK(res == NULL);
  CHECK_EQ_INT(login(svc, "nobody@example.com", "wrong password", &res, NULL),
               MSVC_EAUTH);
  msvc_user_free(u);
}

static void test_throttle(msvc_t *svc) {
  msvc_login_result_t *res = NULL;
  unsigned wait = 0;
  CHECK_EQ_INT(
      register_user(svc, "Bob", "bob@example.com", "bob-password", NULL), 0);
  for (int i = 0; i < 3; i++)
    CHECK_EQ_INT(login(svc, "bob@example.com", "nope-nope", &res, &wait),
                 MSVC_EAUTH);
  /* locked: even the right password is refused, with a wait */
  CHECK_EQ_INT(login(svc, "bob@example.com", "bob-password", &res, &wait),
               MSVC_ETHROTTLED);
  CHECK(wait >= 1 && wait <= 60);
  CHECK(res == NULL);
  /* other accounts are unaffected */
  CHECK_EQ_INT(login(svc, "ada@example.com", "correct horse", &res, &wait), 0);
  CHECK_EQ_INT(wait, 0);
  msvc_login_result_free(res);
}

static int update(msvc_t *svc, const char *id, const char *name,
                  const char *email, const char *password, const char *current,
                  msvc_user_t **out, msvc_errors_t *errs) {
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;
  in.name = name;
  in.email = email;
  in.password = password;
  in.current_password = current;
  msvc_errors_clear(errs);
  return msvc_user_update(svc, NULL, id, &in, out, errs);
}

static void test_update_profile(msvc_t *svc) {
  msvc_call_t nowait = MSVC_CALL_INIT;
  msvc_user_t *u = NULL, *updated = NULL;
  msvc_errors_t *errs = NULL;
  msvc_login_result_t *res = NULL;
  CHECK_EQ_INT(register_user(svc, "Cy", "cy@example.com", "cy-password", &u),
               0);
  CHECK_EQ_INT(register_user(svc, "Di", "di@example.com", "di-password", NULL),
               0);
  CHECK_EQ_INT(msvc_errors_new(&errs), 0);
  if (u == NULL || errs == NULL)
    return;

  /* password change without the current password */
  CHECK_EQ_INT(
      update(svc, u->id, NULL, NULL, "new-password", NULL, &updated, errs),
      MSVC_EVALIDATION);
  CHECK(msvc_errors_get(errs, "current_password") != NULL);

  /* with a wrong current password: MSVC_EAUTH, as service.h says */
  CHECK_EQ_INT(update(svc, u->id, NULL, NULL, "new-password", "not-it-at-all",
                      &updated, errs),
               MSVC_EAUTH);
  CHECK_EQ_STR(msvc_errors_get(errs, "current_password"), "is incorrect");

  /* a taken email */
  CHECK_EQ_INT(
      update(svc, u->id, NULL, "DI@example.com", NULL, NULL, &updated, errs),
      MSVC_EEXIST);
  CHECK(updated == NULL);

  /* name, email and password together */
  CHECK_EQ_INT(update(svc, u->id, " Cyrus ", "cyrus@example.com",
                      "new-password", "cy-password", &updated, errs),
               0);
  if (updated != NULL) {
    CHECK_EQ_STR(updated->name, "Cyrus");
    CHECK_EQ_STR(updated->email, "cyrus@example.com");
    CHECK(updated->updated_at >= u->updated_at);
    CHECK_EQ_INT(updated->created_at, u->created_at);
  }
  msvc_user_free(updated);

  CHECK_EQ_INT(login(svc, "cyrus@example.com", "cy-password", &res, NULL),
               MSVC_EAUTH);
  CHECK_EQ_INT(login(svc, "cyrus@example.com", "new-password", &res, NULL), 0);
  msvc_login_result_free(res);

  nowait.flags = MSVC_NOWAIT; /* SQLite reads are local: answered inline */
  CHECK_EQ_INT(msvc_user_get(svc, &nowait, u->id, &updated), 0);
  CHECK(updated != NULL && strcmp(updated->name, "Cyrus") == 0);
  msvc_user_free(updated);
  CHECK_EQ_INT(msvc_user_get(svc, NULL, "65b3a1f2c9e77a0012345678", &updated),
               MSVC_ENOTFOUND);
  msvc_errors_free(errs);
  msvc_user_free(u);
}

static void test_lookup(msvc_t *svc) {
  msvc_user_t *a = NULL, *b = NULL, **out = NULL;
  msvc_id_t ids[5];
  size_t n = 0;
  CHECK_EQ_INT(register_user(svc, "Ed", "ed@example.com", "ed-password", &a),
               0);
  CHECK_EQ_INT(register_user(svc, "Flo", "flo@example.com", "flo-password", &b),
               0);
  if (a == NULL || b == NULL)
    return;
  memcpy(ids[0].hex, b->id, MSVC_ID_SIZE);
  memcpy(ids[1].hex, "65b3a1f2c9e77a0012345678", MSVC_ID_SIZE);
  memcpy(ids[2].hex, a->id, MSVC_ID_SIZE);
  memcpy(ids[3].hex, b->id, MSVC_ID_SIZE);
  memcpy(ids[4].hex, a->id, MSVC_ID_SIZE);
  for (int i = 0; i < 24; i++) /* upper case must still match */
    ids[4].hex[i] = (char)toupper((unsigned char)ids[4].hex[i]);
  CHECK_EQ_INT(msvc_users_lookup(svc, NULL, ids, 5, &out, &n), 0);
  CHECK_EQ_INT(n, 2);
  if (n == 2) {
    CHECK_EQ_STR(out[0]->id, b->id);
    CHECK_EQ_STR(out[1]->id, a->id);
    CHECK_EQ_STR(out[1]->name, "Ed");
  }
  msvc_users_free(out, n);
  CHECK_EQ_INT(msvc_users_lookup(svc, NULL, ids, 0, &out, &n), 0);
  CHECK(out == NULL && n == 0);
  msvc_user_free(a);
  msvc_user_free(b);
}

static int create_post(msvc_t *svc, const msvc_user_t *author,
                       const char *title, msvc_post_t **out) {
  msvc_post_input_t in = MSVC_POST_INPUT_INIT;
  in.title = title;
  in.content = "some content";
  return msvc_post_create(svc, NULL, author, &in, out, NULL);
}

static void test_post_validation(msvc_t *svc, const msvc_user_t *owner) {
  msvc_post_input_t in = MSVC_POST_INPUT_INIT;
  msvc_post_t *got = NULL;
  msvc_errors_t *errs = NULL;
  CHECK_EQ_INT(msvc_errors_new(&errs), 0);
  in.title = "";
  CHECK_EQ_INT(msvc_post_create(svc, NULL, owner, &in, &got, errs),
               MSVC_EVALIDATION);
  CHECK(msvc_errors_get(errs, "title") && msvc_errors_get(errs, "content"));
  CHECK(got == NULL);
  msvc_errors_free(errs);
}

static void test_posts(msvc_t *svc) {
  msvc_user_t *owner = NULL, *intruder = NULL, *author = NULL;
  msvc_post_t *p = NULL, *got = NULL;
  msvc_post_input_t in = MSVC_POST_INPUT_INIT;
  msvc_call_t call = MSVC_CALL_INIT;
  int degraded = 1;
  CHECK_EQ_INT(
      register_user(svc, "Gil", "gil@example.com", "gil-password", &owner), 0);
  CHECK_EQ_INT(
      register_user(svc, "Hal", "hal@example.com", "hal-password", &intruder),
      0);
  CHECK_EQ_INT(create_post(svc, owner, "Hello", &p), 0);
  if (owner == NULL || intruder == NULL || p == NULL)
    return;
  CHECK_EQ_STR(p->user_id, owner->id);
  CHECK_EQ_STR(p->title, "Hello");

  call.flags = MSVC_NOWAIT;
  call.request_id = "req-1";
  CHECK_EQ_INT(msvc_post_get(svc, &call, p->id, &got, &author, &degraded), 0);
  CHECK(got != NULL && strcmp(got->content, "some content") == 0);
  CHECK(author != NULL && strcmp(author->id, owner->id) == 0 &&
        strcmp(author->name, "Gil") == 0);
  CHECK_EQ_INT(degraded, 0);
  msvc_post_free(got);
  msvc_user_free(author);
  test_post_validation(svc, owner);

  /* only the owner may change or delete */
  in.title = "Hijacked";
  CHECK_EQ_INT(msvc_post_update(svc, NULL, intruder, p->id, &in, &got, NULL),
               MSVC_EFORBIDDEN);
  CHECK_EQ_INT(msvc_post_update(svc, NULL, owner, p->id, &in, &got, NULL), 0);
  CHECK(got != NULL && strcmp(got->title, "Hijacked") == 0 &&
        strcmp(got->content, "some content") == 0);
  msvc_post_free(got);
  CHECK_EQ_INT(msvc_post_delete(svc, NULL, intruder, p->id), MSVC_EFORBIDDEN);
  CHECK_EQ_INT(msvc_post_delete(svc, NULL, owner, p->id), 0);
  CHECK_EQ_INT(msvc_post_delete(svc, NULL, owner, p->id), MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_post_get(svc, NULL, p->id, &got, NULL, NULL),
               MSVC_ENOTFOUND);
  msvc_post_free(p);
  msvc_user_free(owner);
  msvc_user_free(intruder);
}

/* Walks every page of `req`; returns the number of posts seen. */
static int walk_pages(msvc_t *svc, msvc_list_request_t *req, int *pages) {
  msvc_call_t nowait = MSVC_CALL_INIT;
  msvc_post_page_t *page = NULL;
  char cursor[128] = "";
  int64_t last = INT64_MAX;
  int seen = 0;
  *pages = 0;
  nowait.flags = MSVC_NOWAIT;
  do {
    req->cursor = cursor;
    CHECK_EQ_INT(msvc_post_list(svc, &nowait, req, &page, NULL), 0);
    if (page == NULL)
      break;
    for (size_t i = 0; i < page->count; i++) {
      CHECK(page->posts[i]->created_at <= last);
      last = page->posts[i]->created_at;
      CHECK(page->authors[i] != NULL &&
            strcmp(page->authors[i]->id, page->posts[i]->user_id) == 0);
      seen++;
    }
    (*pages)++;
    snprintf(cursor, sizeof(cursor), "%s", page->next_cursor);
    msvc_post_page_free(page);
  } while (cursor[0] != '\0' && *pages < 100);
  return seen;
}

static void test_listing(msvc_t *svc) {
  msvc_user_t *a = NULL, *b = NULL;
  msvc_post_page_t *page = NULL;
  msvc_errors_t *errs = NULL;
  msvc_list_request_t req = MSVC_LIST_REQUEST_INIT;
  int pages = 0;
  CHECK_EQ_INT(register_user(svc, "Ivy", "ivy@example.com", "ivy-password", &a),
               0);
  CHECK_EQ_INT(register_user(svc, "Jo", "jo@example.com", "jo-password", &b),
               0);
  if (a == NULL || b == NULL)
    return;
  for (int i = 0; i < 10; i++)
    CHECK_EQ_INT(create_post(svc, i % 2 ? a : b, "post", NULL), 0);
  req.limit = 3;
  CHECK_EQ_INT(walk_pages(svc, &req, &pages), 10);
  CHECK_EQ_INT(pages, 4);

  /* one author only, default limit */
  CHECK_EQ_INT(msvc_post_list(svc, NULL, NULL, &page, NULL), 0);
  msvc_post_page_free(page);
  req.limit = MSVC_LIST_DEFAULT_LIMIT;
  req.cursor = NULL;
  req.user_id = a->id;
  CHECK_EQ_INT(msvc_post_list(svc, NULL, &req, &page, NULL), 0);
  CHECK(page != NULL && page->count == 5 && page->next_cursor[0] == '\0');
  msvc_post_page_free(page);

  /* bad query values, all reported */
  CHECK_EQ_INT(msvc_errors_new(&errs), 0);
  req.limit = 101;
  req.cursor = "garbage";
  req.user_id = "xyz";
  CHECK_EQ_INT(msvc_post_list(svc, NULL, &req, &page, errs), MSVC_EVALIDATION);
  CHECK_EQ_INT(msvc_errors_count(errs), 3);
  CHECK(page == NULL);
  msvc_errors_clear(errs);
  req.limit = 0;
  req.cursor = req.user_id = NULL;
  CHECK_EQ_INT(msvc_post_list(svc, NULL, &req, &page, errs), MSVC_EVALIDATION);
  CHECK_EQ_STR(msvc_errors_get(errs, "limit"),
               "must be an integer from 1 to 100");
  msvc_errors_free(errs);
  msvc_user_free(a);
  msvc_user_free(b);
}

/* ---- a wrapping backend that fails every post insert, as sqlite's
 * test_vfs.c wraps a VFS ---- */
static int faulty_open(const char *u, const msvc_store_config_t *cfg,
                       void **ctx, char *errbuf, size_t errlen) {
  return msvc_store_sqlite()->open(u, cfg, ctx, errbuf, errlen);
}

static int failing_insert(void *ctx, const msvc_post_t *post) {
  (void)ctx;
  (void)post;
  msvc_set_error_detail("disk on fire");
  return MSVC_EUNAVAIL;
}

static void test_store_fault(void) {
  msvc_store_methods_t faulty = *msvc_store_sqlite();
  msvc_store_t *store = NULL;
  msvc_options_t *opts = default_options();
  msvc_user_t *author = NULL;
  msvc_post_t *p = (msvc_post_t *)&faulty; /* must come back NULL */
  msvc_post_page_t *page = NULL;
  char err[256];
  msvc_t *svc;
  faulty.open = faulty_open;
  faulty.post_insert = failing_insert;
  CHECK_EQ_INT(
      msvc_store_open_with(&faulty, url, NULL, &store, err, sizeof(err)), 0);
  CHECK_EQ_INT(msvc_options_set_store(opts, store), 0);
  svc = open_with(opts);
  msvc_options_free(opts); /* copied by msvc_open */
  if (svc == NULL)
    return;
  CHECK_EQ_INT(
      register_user(svc, "Kim", "kim@example.com", "kim-password", &author), 0);
  CHECK_EQ_INT(create_post(svc, author, "lost", &p), MSVC_EUNAVAIL);
  CHECK(p == NULL); /* nothing handed back on failure */
  CHECK(strstr(msvc_errmsg(svc), "disk on fire") != NULL);
  CHECK_EQ_INT(msvc_post_list(svc, NULL, NULL, &page, NULL), 0);
  CHECK_EQ_STR(msvc_errmsg(svc), ""); /* the last call succeeded */
  for (size_t i = 0; page != NULL && i < page->count; i++)
    CHECK(strcmp(page->posts[i]->title, "lost") != 0);
  msvc_post_page_free(page);
  msvc_user_free(author);
  msvc_close(svc);
  msvc_store_close(store); /* borrowed: still ours to close */
}

static void test_bad_options(void) {
  msvc_options_t *opts = NULL;
  msvc_t *svc = (msvc_t *)1;
  char err[256] = "";
  CHECK_EQ_INT(msvc_options_new(&opts), 0);
  CHECK_EQ_INT(msvc_options_set_database_url(opts, url), 0);
  CHECK_EQ_INT(msvc_open(opts, &svc, err, sizeof(err)), MSVC_ECONFIG);
  CHECK(svc == NULL);
  CHECK(strstr(err, "secret") != NULL);
  /* yescrypt's range is its own: 12 is too much, bcrypt's 10 is fine */
  CHECK_EQ_INT(msvc_options_set_jwt_secret(opts, secret, strlen(secret)), 0);
  CHECK_EQ_INT(msvc_options_set_password_scheme(opts, "yescrypt"), 0);
  CHECK_EQ_INT(msvc_options_set_int(opts, MSVC_OPT_PASSWORD_COST, 12), 0);
  CHECK_EQ_INT(msvc_open(opts, &svc, err, sizeof(err)), MSVC_ECONFIG);
  CHECK(strstr(err, "yescrypt") != NULL);
  CHECK_EQ_INT(msvc_options_set_password_scheme(opts, "md5"), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_options_set_int(opts, (msvc_option_t)999, 1), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_options_set_int(opts, MSVC_OPT_TOKEN_TTL, 0), MSVC_EINVAL);
  /* an unknown scheme names itself and creates nothing */
  CHECK_EQ_INT(msvc_options_set_int(opts, MSVC_OPT_PASSWORD_COST, 0), 0);
  CHECK_EQ_INT(msvc_options_set_database_url(opts, "postgres://db/app"), 0);
  CHECK_EQ_INT(msvc_open(opts, &svc, err, sizeof(err)), MSVC_ECONFIG);
  CHECK(strstr(err, "postgres") != NULL);
  CHECK(access("postgres:", F_OK) != 0);
  msvc_options_free(opts);
}

int main(void) {
  msvc_options_t *opts;
  msvc_t *svc;
  if (mkdtemp(dir) == NULL)
    return 1;
  snprintf(url, sizeof(url), "sqlite:%s/msvc.db", dir);
  opts = default_options();
  svc = open_with(opts);
  msvc_options_free(opts);
  if (svc == NULL)
    TEST_MAIN_END();
  RUN_ARG(test_register_and_login, svc);
  RUN_ARG(test_throttle, svc);
  RUN_ARG(test_update_profile, svc);
  RUN_ARG(test_lookup, svc);
  RUN_ARG(test_posts, svc);
  RUN_ARG(test_listing, svc);
  msvc_close(svc);
  RUN(test_store_fault);
  RUN(test_bad_options);
  TEST_MAIN_END();
}
