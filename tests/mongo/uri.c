/* uri.c - what the MongoDB store takes from its URI.
 *
 * Usage: mongo_uri MONGODB_URL (a fresh database on a running server).
 *  - the database is the URI's path, "msvc" when there is none;
 *  - options in the URI are the driver's own and win over the store's
 *    defaults (here: a short server selection timeout and w=1);
 *  - a URI the driver cannot parse is MSVC_ECONFIG with a reason.
 */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <string.h>

#include "domain/idgen.h"
#include "internal.h"
#include "msvc.h"
#include "msvc/mongo.h"
#include "testutil.h"

static const char *url;

/* The URL up to and including the host list's closing "/". */
static void server_part(char *out, size_t size) {
  const char *hosts = strstr(url, "://") + 3;
  const char *slash = strchr(hosts, '/');
  size_t n = slash != NULL ? (size_t)(slash - url) + 1 : strlen(url);
  snprintf(out, size, "%.*s%s", (int)n, url, slash != NULL ? "" : "/");
}

static int insert_user(msvc_store_t *store, msvc__idgen_t *ids,
                       const char *email) {
  msvc_user_record_t *rec = NULL;
  char id[MSVC_ID_SIZE];
  int rc = msvc_user_record_new(&rec);
  msvc__idgen_next(ids, id);
  if (rc == 0)
    rc = msvc_user_set(rec->user, id, "Uri", email, 0, 0);
  if (rc == 0 && (rec->password_hash = strdup("x")) == NULL)
    rc = MSVC_ENOMEM;
  if (rc == 0)
    rc = msvc_store_user_insert(store, rec);
  msvc_user_record_free(rec);
  return rc;
}

/* Documents in db.User with this email, counted through the driver. */
static int64_t count_in(const char *db, const char *email) {
  char server[256];
  mongoc_client_t *client;
  mongoc_collection_t *coll;
  bson_t filter = BSON_INITIALIZER;
  bson_error_t err;
  int64_t n;
  server_part(server, sizeof(server));
  client = mongoc_client_new(server);
  if (client == NULL)
    return -1;
  coll = mongoc_client_get_collection(client, db, "User");
  BSON_APPEND_UTF8(&filter, "email", email);
  n = mongoc_collection_count_documents(coll, &filter, NULL, NULL, NULL, &err);
  bson_destroy(&filter);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
  return n;
}

static void test_database_from_path(msvc__idgen_t *ids) {
  msvc_store_t *store = NULL;
  char err[256] = "";
  const char *db = strrchr(url, '/') + 1;
  CHECK_EQ_INT(msvc_store_open(url, NULL, &store, err, sizeof(err)), 0);
  if (store == NULL)
    return;
  CHECK_EQ_INT(insert_user(store, ids, "path@example.com"), 0);
  CHECK_EQ_INT(count_in(db, "path@example.com"), 1);
  CHECK_EQ_INT(count_in("msvc", "path@example.com"), 0);
  msvc_store_close(store);
}

static void test_default_database(msvc__idgen_t *ids) {
  msvc_store_t *store = NULL;
  char server[256], email[64], err[256] = "";
  /* Unique per run: the default database is shared with other runs. */
  snprintf(email, sizeof(email), "default-%lld@example.com",
           (long long)msvc__realtime_ms());
  server_part(server, sizeof(server));
  CHECK_EQ_INT(msvc_store_open(server, NULL, &store, err, sizeof(err)), 0);
  if (store == NULL)
    return;
  CHECK_EQ_INT(insert_user(store, ids, email), 0);
  CHECK_EQ_INT(count_in("msvc", email), 1);
  msvc_store_close(store);
}

/* w=1 and a timeout of the URI's own are taken as given. */
static void test_uri_options_win(msvc__idgen_t *ids) {
  msvc_store_t *store = NULL;
  msvc_store_config_t cfg = MSVC_STORE_CONFIG_INIT;
  char with_opts[512], err[256] = "";
  cfg.timeout_ms = 60000;
  snprintf(with_opts, sizeof(with_opts), "%s_opts?w=1&appname=uri-test", url);
  CHECK_EQ_INT(msvc_store_open(with_opts, &cfg, &store, err, sizeof(err)), 0);
  if (store != NULL)
    CHECK_EQ_INT(insert_user(store, ids, "w1@example.com"), 0);
  msvc_store_close(store);

  /* Nothing listens on port 1: with the URI's 300 ms instead of the
   * configured 60 s, open and ping give up early: within 3 x 300 ms + 2 s
   * (a deadline, generous for busy and sanitizer builds; shown too). */
  store = NULL;
  int64_t t0 = msvc__monotonic_ms();
  CHECK_EQ_INT(msvc_store_open("mongodb://127.0.0.1:1/x"
                               "?serverSelectionTimeoutMS=300",
                               &cfg, &store, err, sizeof(err)),
               0);
  if (store != NULL)
    CHECK_EQ_INT(msvc_store_ping(store), MSVC_EUNAVAIL);
  int64_t took = msvc__monotonic_ms() - t0;
  fprintf(stderr, "   open + ping against a closed port: %lld ms\n",
          (long long)took);
  CHECK(took <= 3 * 300 + 2000);
  msvc_store_close(store);
}

static void test_bad_uri(void) {
  msvc_store_t *store = NULL;
  char err[256] = "";
  CHECK_EQ_INT(msvc_store_open("mongodb://", NULL, &store, err, sizeof(err)),
               MSVC_ECONFIG);
  CHECK(store == NULL);
  CHECK(err[0] != '\0');
  fprintf(stderr, "   refused: %s\n", err);
}

int main(int argc, char **argv) {
  msvc__idgen_t *ids;
  if (argc != 2 || strstr(argv[1], "://") == NULL) {
    fprintf(stderr, "usage: %s MONGODB_URL\n", argv[0]);
    return 2;
  }
  url = argv[1];
  if (msvc__idgen_new(&ids) != 0 || msvc_mongo_register() != 0)
    return 1;
  mongoc_init();
  RUN_ARG(test_database_from_path, ids);
  RUN_ARG(test_default_database, ids);
  RUN_ARG(test_uri_options_win, ids);
  RUN(test_bad_uri);
  msvc__idgen_free(ids);
  mongoc_cleanup(); /* the program's to call, never the library's */
  TEST_MAIN_END();
}
