/* test_api_safety.c - the public API under ordinary mistakes, as an
 * embedder would make them: NULL where a pointer is required, no errors
 * object, string literals as input, a store table with holes or of an
 * unknown version, an unknown URL scheme.  Each case is a crash or a wrong
 * code in libmsvc 0.1; here each must be a clean, documented return. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msvc.h"
#include "testutil.h"

static char dir[] = "/tmp/msvc-test-safety-XXXXXX";
static char url[256];

static msvc_t *open_on(msvc_store_t *store) {
  static const char secret[] = "a secret long enough for HS256 use";
  msvc_options_t *opts = NULL;
  msvc_t *svc = NULL;
  char err[256] = "";
  CHECK_EQ_INT(msvc_options_new(&opts), 0);
  msvc_options_set_database_url(opts, url);
  msvc_options_set_jwt_secret(opts, secret, strlen(secret));
  msvc_options_set_int(opts, MSVC_OPT_PASSWORD_COST, 4);
  if (store != NULL)
    msvc_options_set_store(opts, store);
  CHECK_EQ_INT(msvc_open(opts, &svc, err, sizeof(err)), 0);
  msvc_options_free(opts);
  return svc;
}

/* Every entry point with NULL where a pointer is required. */
static void test_null_arguments(msvc_t *svc) {
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;
  msvc_post_input_t pin = MSVC_POST_INPUT_INIT;
  msvc_user_t *u = NULL, author;
  msvc_post_t *p = NULL;
  msvc_post_page_t *page = NULL;
  msvc_claims_t *claims = NULL;
  msvc_user_t **users = NULL;
  size_t n = 0;
  char *tok = NULL;
  memset(&author, 0, sizeof(author));
  memcpy(author.id, "65b3a1f2c9e77a0012345678", MSVC_ID_SIZE);

  CHECK_EQ_INT(msvc_open(NULL, NULL, NULL, 0), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_register(NULL, NULL, &in, &u, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_register(svc, NULL, NULL, &u, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_login(svc, NULL, NULL, NULL, NULL, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_authenticate(svc, NULL, NULL, 0, &claims), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_authenticate(svc, NULL, "x", 1, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_service_token(svc, NULL, &tok), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_user_get(svc, NULL, NULL, &u), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_user_get(svc, NULL, author.id, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_user_update(svc, NULL, NULL, &in, &u, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_users_lookup(svc, NULL, NULL, 3, &users, &n), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_post_create(svc, NULL, NULL, &pin, &p, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_post_create(svc, NULL, &author, NULL, &p, NULL),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_post_get(svc, NULL, NULL, &p, NULL, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_post_update(svc, NULL, &author, NULL, &pin, &p, NULL),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_post_delete(svc, NULL, NULL, author.id), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_post_list(svc, NULL, NULL, NULL, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_post_list(NULL, NULL, NULL, &page, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_ping(NULL), MSVC_EINVAL);
  CHECK(msvc_get_store(NULL) == NULL && msvc_get_resolver(NULL) == NULL);
  CHECK_EQ_STR(msvc_errmsg(NULL), "");
  CHECK_EQ_INT(msvc_options_new(NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_options_set_int(NULL, MSVC_OPT_TOKEN_TTL, 1), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_errors_new(NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_errors_add(NULL, "a", "b"), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_resolver_new(NULL, NULL, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_resolver_resolve(NULL, NULL, NULL, 0, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_resolver_ping(NULL), MSVC_EINVAL);
  {
    msvc_resolver_endpoint_t ep = MSVC_RESOLVER_ENDPOINT_INIT;
    msvc_resolver_stats_t st = MSVC_RESOLVER_STATS_INIT;
    CHECK_EQ_INT(msvc_resolver_endpoint(NULL, 0, &ep), MSVC_EINVAL);
    CHECK_EQ_INT(msvc_resolver_stats(NULL, &st), MSVC_EINVAL);
  }
  CHECK_EQ_INT(msvc_store_open(NULL, NULL, NULL, NULL, 0), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_ping(NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_password_hash(NULL, 0, "pw", 2, &tok), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_password_verify(NULL, 0, NULL), MSVC_EINVAL);
  /* and the free functions take NULL */
  msvc_close(NULL);
  msvc_options_free(NULL);
  msvc_errors_free(NULL);
  msvc_user_free(NULL);
  msvc_post_free(NULL);
  msvc_post_page_free(NULL);
  msvc_claims_free(NULL);
  msvc_login_result_free(NULL);
  msvc_users_free(NULL, 3);
  msvc_resolver_free(NULL);
  msvc_store_close(NULL);
  msvc_free(NULL);
}

/* Invalid input with errs == NULL: still MSVC_EVALIDATION, no crash; and
 * the caller's literals are untouched (they are in read-only memory). */
static void test_no_errors_object(msvc_t *svc) {
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;
  msvc_post_input_t pin = MSVC_POST_INPUT_INIT;
  msvc_user_t *u = NULL;
  msvc_post_t *p = NULL;
  in.name = "  Dave  ";
  in.email = "not an email";
  in.password = "x";
  CHECK_EQ_INT(msvc_register(svc, NULL, &in, &u, NULL), MSVC_EVALIDATION);
  CHECK(u == NULL);
  in.email = "  Dave@Example.com ";
  in.password = "long enough password";
  CHECK_EQ_INT(msvc_register(svc, NULL, &in, &u, NULL), 0);
  CHECK(u != NULL && strcmp(u->name, "Dave") == 0 &&
        strcmp(u->email, "dave@example.com") == 0);
  CHECK_EQ_STR(in.name, "  Dave  ");
  pin.title = "   ";
  CHECK_EQ_INT(msvc_post_create(svc, NULL, u, &pin, &p, NULL),
               MSVC_EVALIDATION);
  CHECK(p == NULL);
  msvc_user_free(u);
}

/* A caller's struct whose size says it was never initialised. */
static void test_uninitialised_sizes(msvc_t *svc) {
  msvc_user_input_t in;
  msvc_list_request_t req;
  msvc_post_page_t *page = NULL;
  memset(&in, 0, sizeof(in));
  memset(&req, 0, sizeof(req));
  CHECK_EQ_INT(msvc_register(svc, NULL, &in, NULL, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_post_list(svc, NULL, &req, &page, NULL), MSVC_EINVAL);
}

/* A backend that only opens and closes: every operation is
 * MSVC_EUNSUPPORTED, never a jump to address 0. */
static int open_ok(const char *u, const msvc_store_config_t *cfg, void **ctx,
                   char *errbuf, size_t errlen) {
  (void)u, (void)cfg, (void)errbuf, (void)errlen;
  *ctx = NULL;
  return 0;
}
static void close_ok(void *ctx) {
  (void)ctx;
}

static void test_sparse_table(void) {
  msvc_store_methods_t holes;
  msvc_store_t *store = NULL;
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;
  msvc_post_page_t *page = NULL;
  msvc_t *svc;
  memset(&holes, 0, sizeof(holes));
  holes.version = MSVC_STORE_VERSION;
  holes.name = "holes";
  holes.open = open_ok;
  holes.close = close_ok;
  CHECK_EQ_INT(msvc_store_open_with(&holes, "holes:", NULL, &store, NULL, 0),
               0);
  CHECK_EQ_INT(msvc_store_ping(store), MSVC_EUNSUPPORTED);
  svc = open_on(store);
  in.name = "Eve";
  in.email = "eve@example.com";
  in.password = "long enough password";
  CHECK_EQ_INT(msvc_register(svc, NULL, &in, NULL, NULL), MSVC_EUNSUPPORTED);
  CHECK_EQ_INT(msvc_login(svc, NULL, &in, NULL, NULL, NULL), MSVC_EUNSUPPORTED);
  CHECK_EQ_INT(msvc_post_list(svc, NULL, NULL, &page, NULL), MSVC_EUNSUPPORTED);
  msvc_close(svc);
  msvc_store_close(store);
  /* versions this library does not know, and a table without open */
  for (int v = -1; v <= MSVC_STORE_VERSION + 1; v++) {
    if (v >= MSVC_STORE_MIN_VERSION && v <= MSVC_STORE_VERSION)
      continue;
    holes.version = v;
    CHECK_EQ_INT(msvc_store_open_with(&holes, "holes:", NULL, &store, NULL, 0),
                 MSVC_EINVAL);
  }
  holes.version = MSVC_STORE_VERSION;
  holes.open = NULL;
  CHECK_EQ_INT(msvc_store_open_with(&holes, "holes:", NULL, &store, NULL, 0),
               MSVC_EINVAL);
}

static void test_resolver_versions(void) {
  msvc_resolver_methods_t m;
  msvc_resolver_t *r = NULL;
  memset(&m, 0, sizeof(m));
  m.version = MSVC_RESOLVER_VERSION;
  CHECK_EQ_INT(msvc_resolver_new(&m, NULL, &r), MSVC_EINVAL); /* no resolve */
  CHECK(r == NULL);
}

int main(void) {
  msvc_t *svc;
  if (mkdtemp(dir) == NULL)
    return 1;
  snprintf(url, sizeof(url), "sqlite:%s/msvc.db", dir);
  svc = open_on(NULL);
  if (svc == NULL)
    TEST_MAIN_END();
  RUN_ARG(test_null_arguments, svc);
  RUN_ARG(test_no_errors_object, svc);
  RUN_ARG(test_uninitialised_sizes, svc);
  msvc_close(svc);
  RUN(test_sparse_table);
  RUN(test_resolver_versions);
  TEST_MAIN_END();
}
