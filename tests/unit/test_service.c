/* test_service.c - the msvc_t API in-process on a real SQLite file: users,
 * login and throttling, profile updates, lookups, posts with owner checks,
 * listing with cursors, and an injected store fault through a wrapping
 * backend. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ctype.h>

#include "msvc.h"
#include "testutil.h"

static char dir[] = "/tmp/msvc-test-service-XXXXXX";
static char url[256];
static const unsigned char secret[] = "unit-test-secret";

static msvc_t *open_service(msvc_options_t *opts) {
  msvc_t *svc = NULL;
  char err[256] = "";
  int rc = msvc_open(opts, &svc, err, sizeof(err));
  if (rc != 0)
    fprintf(stderr, "msvc_open: %s: %s\n", msvc_strerror(rc), err);
  CHECK_EQ_INT(rc, 0);
  return svc;
}

static void default_options(msvc_options_t *opts) {
  msvc_options_init(opts);
  opts->database_url = url;
  opts->jwt_secret = secret;
  opts->jwt_secret_len = sizeof(secret) - 1;
  opts->password.cost = 4; /* fast tests; the default is 10 */
  opts->login_max_failures = 3;
}

static void input(msvc_user_input_t *in, const char *name, const char *email,
                  const char *password) {
  memset(in, 0, sizeof(*in));
  in->name = name ? strdup(name) : NULL;
  in->email = email ? strdup(email) : NULL;
  in->password = password ? strdup(password) : NULL;
}

static int register_user(msvc_t *svc, const char *name, const char *email,
                         const char *password, msvc_user_t *out) {
  msvc_user_input_t in;
  msvc_errors_t errs;
  int rc;
  msvc_errors_init(&errs);
  input(&in, name, email, password);
  rc = msvc_register(svc, &in, out, &errs);
  msvc_user_input_clear(&in);
  return rc;
}

static int login(msvc_t *svc, const char *email, const char *password,
                 msvc_login_result_t *res) {
  msvc_user_input_t in;
  msvc_errors_t errs;
  int rc;
  msvc_errors_init(&errs);
  input(&in, NULL, email, password);
  rc = msvc_login(svc, &in, res, &errs);
  msvc_user_input_clear(&in);
  return rc;
}

static void test_register_and_login(msvc_t *svc) {
  msvc_user_t u, dup;
  msvc_login_result_t res;
  msvc_claims_t claims;
  msvc_errors_t errs;
  msvc_user_input_t in;

  CHECK_EQ_INT(register_user(svc, "  Ada Lovelace ", "Ada@Example.COM",
                             "correct horse", &u), 0);
  CHECK_EQ_STR(u.name, "Ada Lovelace");
  CHECK_EQ_STR(u.email, "ada@example.com");
  CHECK(msvc_id_valid(u.id, strlen(u.id)));
  CHECK(u.created_at > 0 && u.created_at == u.updated_at);

  CHECK_EQ_INT(register_user(svc, "Other", "ADA@example.com", "password1",
                             &dup), MSVC_EEXIST);

  /* every field wrong at once: all reported */
  msvc_errors_init(&errs);
  input(&in, "", "not-an-email", "short");
  CHECK_EQ_INT(msvc_register(svc, &in, &dup, &errs), MSVC_EVALIDATION);
  CHECK_EQ_INT(errs.count, 3);
  CHECK(msvc_errors_has(&errs, "name") && msvc_errors_has(&errs, "email") &&
        msvc_errors_has(&errs, "password"));
  msvc_user_input_clear(&in);

  CHECK_EQ_INT(login(svc, " ADA@example.com ", "correct horse", &res), 0);
  CHECK(res.token != NULL && res.expires_in == MSVC_TOKEN_DEFAULT_TTL);
  CHECK_EQ_STR(res.user.id, u.id);
  CHECK_EQ_INT(msvc_authenticate(svc, res.token, strlen(res.token), &claims),
               0);
  CHECK_EQ_STR(claims.id, u.id);
  CHECK_EQ_STR(claims.email, "ada@example.com");
  CHECK_EQ_INT(claims.kind, MSVC_CALLER_USER);
  msvc_login_result_clear(&res);

  CHECK_EQ_INT(login(svc, "ada@example.com", "wrong password", &res),
               MSVC_EAUTH);
  CHECK_EQ_INT(login(svc, "nobody@example.com", "wrong password", &res),
               MSVC_EAUTH);
  msvc_user_clear(&u);
}

static void test_throttle(msvc_t *svc) {
  msvc_user_t u;
  msvc_login_result_t res;
  CHECK_EQ_INT(register_user(svc, "Bob", "bob@example.com", "bob-password",
                             &u), 0);
  for (int i = 0; i < 3; i++)
    CHECK_EQ_INT(login(svc, "bob@example.com", "nope-nope", &res), MSVC_EAUTH);
  /* locked: even the right password is refused, with a wait */
  CHECK_EQ_INT(login(svc, "bob@example.com", "bob-password", &res),
               MSVC_ETHROTTLED);
  CHECK(res.retry_after >= 1 && res.retry_after <= 60);
  /* other accounts are unaffected */
  CHECK_EQ_INT(login(svc, "ada@example.com", "correct horse", &res), 0);
  msvc_login_result_clear(&res);
  msvc_user_clear(&u);
}

static void test_update_profile(msvc_t *svc) {
  msvc_user_t u, updated, other;
  msvc_user_input_t in;
  msvc_errors_t errs;
  msvc_login_result_t res;
  CHECK_EQ_INT(register_user(svc, "Cy", "cy@example.com", "cy-password",
                             &u), 0);
  CHECK_EQ_INT(register_user(svc, "Di", "di@example.com", "di-password",
                             &other), 0);

  /* password change without the current password */
  msvc_errors_init(&errs);
  input(&in, NULL, NULL, "new-password");
  CHECK_EQ_INT(msvc_user_update(svc, u.id, &in, &updated, &errs),
               MSVC_EVALIDATION);
  CHECK(msvc_errors_has(&errs, "current_password"));
  msvc_user_input_clear(&in);

  /* with a wrong current password */
  msvc_errors_init(&errs);
  input(&in, NULL, NULL, "new-password");
  in.current_password = strdup("not-it-at-all");
  CHECK_EQ_INT(msvc_user_update(svc, u.id, &in, &updated, &errs),
               MSVC_EVALIDATION);
  CHECK(msvc_errors_has(&errs, "current_password"));
  msvc_user_input_clear(&in);

  /* a taken email */
  msvc_errors_init(&errs);
  input(&in, NULL, "DI@example.com", NULL);
  CHECK_EQ_INT(msvc_user_update(svc, u.id, &in, &updated, &errs), MSVC_EEXIST);
  msvc_user_input_clear(&in);

  /* name, email and password together */
  msvc_errors_init(&errs);
  input(&in, " Cyrus ", "cyrus@example.com", "new-password");
  in.current_password = strdup("cy-password");
  CHECK_EQ_INT(msvc_user_update(svc, u.id, &in, &updated, &errs), 0);
  CHECK_EQ_STR(updated.name, "Cyrus");
  CHECK_EQ_STR(updated.email, "cyrus@example.com");
  CHECK(updated.updated_at >= u.updated_at);
  CHECK_EQ_INT(updated.created_at, u.created_at);
  msvc_user_input_clear(&in);
  msvc_user_clear(&updated);

  CHECK_EQ_INT(login(svc, "cyrus@example.com", "cy-password", &res),
               MSVC_EAUTH);
  CHECK_EQ_INT(login(svc, "cyrus@example.com", "new-password", &res), 0);
  msvc_login_result_clear(&res);

  CHECK_EQ_INT(msvc_user_get(svc, u.id, MSVC_NONBLOCK, &updated), 0);
  CHECK_EQ_STR(updated.name, "Cyrus");
  msvc_user_clear(&updated);
  CHECK_EQ_INT(msvc_user_get(svc, "65b3a1f2c9e77a0012345678", 0, &updated),
               MSVC_ENOTFOUND);
  msvc_user_clear(&u);
  msvc_user_clear(&other);
}

static void test_lookup(msvc_t *svc) {
  msvc_user_t a, b, out[5];
  msvc_id_t ids[5];
  size_t n = 0;
  CHECK_EQ_INT(register_user(svc, "Ed", "ed@example.com", "ed-password", &a),
               0);
  CHECK_EQ_INT(register_user(svc, "Flo", "flo@example.com", "flo-password",
                             &b), 0);
  memcpy(ids[0].hex, b.id, MSVC_ID_SIZE);
  memcpy(ids[1].hex, "65b3a1f2c9e77a0012345678", MSVC_ID_SIZE);
  memcpy(ids[2].hex, a.id, MSVC_ID_SIZE);
  memcpy(ids[3].hex, b.id, MSVC_ID_SIZE);
  memcpy(ids[4].hex, a.id, MSVC_ID_SIZE);
  for (int i = 0; i < 24; i++) /* upper case must still match */
    ids[4].hex[i] = (char)toupper((unsigned char)ids[4].hex[i]);
  memset(out, 0, sizeof(out));
  CHECK_EQ_INT(msvc_users_lookup(svc, ids, 5, MSVC_NONBLOCK, out, &n), 0);
  CHECK_EQ_INT(n, 2);
  CHECK_EQ_STR(out[0].id, b.id);
  CHECK_EQ_STR(out[1].id, a.id);
  CHECK_EQ_STR(out[1].name, "Ed");
  for (size_t i = 0; i < n; i++)
    msvc_user_clear(&out[i]);
  msvc_user_clear(&a);
  msvc_user_clear(&b);
}

static int create_post(msvc_t *svc, const msvc_user_t *author,
                       const char *title, msvc_post_t *out) {
  msvc_post_input_t in = {strdup(title), strdup("some content")};
  msvc_errors_t errs;
  int rc;
  msvc_errors_init(&errs);
  rc = msvc_post_create(svc, author, &in, out, &errs);
  msvc_post_input_clear(&in);
  return rc;
}

static void test_posts(msvc_t *svc) {
  msvc_user_t owner, intruder, author;
  msvc_post_t p, got;
  msvc_post_input_t in;
  msvc_errors_t errs;
  int degraded = 1;
  CHECK_EQ_INT(register_user(svc, "Gil", "gil@example.com", "gil-password",
                             &owner), 0);
  CHECK_EQ_INT(register_user(svc, "Hal", "hal@example.com", "hal-password",
                             &intruder), 0);
  CHECK_EQ_INT(create_post(svc, &owner, "Hello", &p), 0);
  CHECK_EQ_STR(p.user_id, owner.id);
  CHECK_EQ_STR(p.title, "Hello");

  CHECK_EQ_INT(msvc_post_get(svc, p.id, MSVC_NONBLOCK, "req-1", &got, &author,
                             &degraded), 0);
  CHECK_EQ_STR(got.content, "some content");
  CHECK_EQ_STR(author.id, owner.id);
  CHECK_EQ_STR(author.name, "Gil");
  CHECK_EQ_INT(degraded, 0);
  msvc_post_clear(&got);
  msvc_user_clear(&author);

  /* validation: empty title, missing content */
  msvc_errors_init(&errs);
  in.title = strdup("");
  in.content = NULL;
  CHECK_EQ_INT(msvc_post_create(svc, &owner, &in, &got, &errs),
               MSVC_EVALIDATION);
  CHECK(msvc_errors_has(&errs, "title") && msvc_errors_has(&errs, "content"));
  msvc_post_input_clear(&in);

  /* only the owner may change or delete */
  msvc_errors_init(&errs);
  in.title = strdup("Hijacked");
  in.content = NULL;
  CHECK_EQ_INT(msvc_post_update(svc, intruder.id, p.id, &in, &got, &errs),
               MSVC_EFORBIDDEN);
  CHECK_EQ_INT(msvc_post_update(svc, owner.id, p.id, &in, &got, &errs), 0);
  CHECK_EQ_STR(got.title, "Hijacked");
  CHECK_EQ_STR(got.content, "some content");
  msvc_post_clear(&got);
  msvc_post_input_clear(&in);
  CHECK_EQ_INT(msvc_post_delete(svc, intruder.id, p.id), MSVC_EFORBIDDEN);
  CHECK_EQ_INT(msvc_post_delete(svc, owner.id, p.id), 0);
  CHECK_EQ_INT(msvc_post_delete(svc, owner.id, p.id), MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_post_get(svc, p.id, 0, NULL, &got, &author, &degraded),
               MSVC_ENOTFOUND);
  msvc_post_clear(&p);
  msvc_user_clear(&owner);
  msvc_user_clear(&intruder);
}

static void test_listing(msvc_t *svc) {
  msvc_user_t a, b;
  msvc_post_t p;
  msvc_post_page_t page;
  msvc_errors_t errs;
  msvc_list_request_t req = {"3", NULL, NULL};
  char cursor[MSVC_CURSOR_SIZE];
  int seen = 0, pages = 0;
  int64_t last = INT64_MAX;
  CHECK_EQ_INT(register_user(svc, "Ivy", "ivy@example.com", "ivy-password",
                             &a), 0);
  CHECK_EQ_INT(register_user(svc, "Jo", "jo@example.com", "jo-password", &b),
               0);
  for (int i = 0; i < 10; i++) {
    CHECK_EQ_INT(create_post(svc, i % 2 ? &a : &b, "post", &p), 0);
    msvc_post_clear(&p);
  }
  do {
    msvc_errors_init(&errs);
    CHECK_EQ_INT(msvc_post_list(svc, &req, MSVC_NONBLOCK, NULL, &page, &errs),
                 0);
    for (size_t i = 0; i < page.count; i++) {
      CHECK(page.posts[i].created_at <= last);
      last = page.posts[i].created_at;
      CHECK_EQ_STR(page.authors[i].id, page.posts[i].user_id);
      seen++;
    }
    pages++;
    memcpy(cursor, page.next_cursor, sizeof(cursor));
    req.cursor = cursor;
    msvc_post_page_clear(&page);
  } while (cursor[0] != '\0' && pages < 100);
  CHECK_EQ_INT(seen, 10);
  CHECK_EQ_INT(pages, 4);

  /* one author only */
  req.cursor = NULL;
  req.limit = NULL;
  req.user_id = a.id;
  msvc_errors_init(&errs);
  CHECK_EQ_INT(msvc_post_list(svc, &req, 0, NULL, &page, &errs), 0);
  CHECK_EQ_INT(page.count, 5);
  CHECK_EQ_STR(page.next_cursor, "");
  msvc_post_page_clear(&page);

  /* bad query values, all reported */
  req.limit = "101";
  req.cursor = "garbage";
  req.user_id = "xyz";
  msvc_errors_init(&errs);
  CHECK_EQ_INT(msvc_post_list(svc, &req, 0, NULL, &page, &errs),
               MSVC_EVALIDATION);
  CHECK_EQ_INT(errs.count, 3);
  msvc_user_clear(&a);
  msvc_user_clear(&b);
}

/* ---- a wrapping backend that fails every write, as sqlite's test_vfs.c
 * wraps a VFS ---- */
static msvc_store_methods_t faulty;
static void *inner_ctx;

static int faulty_open(const char *u, const msvc_store_config_t *cfg,
                       void **ctx, char *errbuf, size_t errlen) {
  int rc = msvc_store_sqlite.open(u, cfg, &inner_ctx, errbuf, errlen);
  *ctx = inner_ctx;
  return rc;
}

static int failing_insert(void *ctx, const msvc_post_t *post) {
  (void)ctx;
  (void)post;
  return MSVC_EUNAVAIL;
}

static void test_store_fault(void) {
  msvc_store_t *store = NULL;
  msvc_options_t opts;
  msvc_user_t author;
  msvc_post_t p;
  msvc_post_page_t page;
  msvc_errors_t errs;
  msvc_list_request_t req = {NULL, NULL, NULL};
  char err[256];
  msvc_t *svc;
  faulty = msvc_store_sqlite;
  faulty.open = faulty_open;
  faulty.post_insert = failing_insert;
  CHECK_EQ_INT(msvc_store_open_with(&faulty, url, NULL, &store, err,
                                    sizeof(err)), 0);
  default_options(&opts);
  opts.store = store;
  svc = open_service(&opts);
  CHECK_EQ_INT(register_user(svc, "Kim", "kim@example.com", "kim-password",
                             &author), 0);
  CHECK_EQ_INT(create_post(svc, &author, "lost", &p), MSVC_EUNAVAIL);
  CHECK(p.title == NULL); /* nothing handed back on failure */
  msvc_errors_init(&errs);
  CHECK_EQ_INT(msvc_post_list(svc, &req, 0, NULL, &page, &errs), 0);
  for (size_t i = 0; i < page.count; i++)
    CHECK(strcmp(page.posts[i].title, "lost") != 0);
  msvc_post_page_clear(&page);
  msvc_user_clear(&author);
  msvc_close(svc);
  msvc_store_close(store); /* borrowed: still ours to close */
}

static void test_bad_options(void) {
  msvc_options_t opts;
  msvc_t *svc = (msvc_t *)1;
  char err[256] = "";
  msvc_options_init(&opts);
  opts.database_url = url;
  CHECK_EQ_INT(msvc_open(&opts, &svc, err, sizeof(err)), MSVC_ECONFIG);
  CHECK(svc == NULL);
  CHECK(strstr(err, "secret") != NULL);
}

int main(void) {
  msvc_options_t opts;
  msvc_t *svc;
  if (mkdtemp(dir) == NULL)
    return 1;
  snprintf(url, sizeof(url), "sqlite:%s/msvc.db", dir);
  default_options(&opts);
  svc = open_service(&opts);
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
