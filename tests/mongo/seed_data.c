/* seed_data.c - the MongoDB store serves what the seed's Prisma client
 * wrote, and writes what the seed can read (DATA.md).
 *
 * Usage: mongo_seed_data MONGODB_URL (a fresh database; ferretdb.sh run
 * makes one per run).  The test writes users and posts straight through
 * the driver, the way Prisma does (ObjectId _id, BSON dates, user_id as a
 * hex string, the seed's node-made bcrypt hashes, Prisma's index names,
 * plus fields this project does not know), then reads them through the
 * store API; then it reads back with the driver what the store wrote and
 * checks every field's name and BSON type.  Last, an existing non-unique
 * email index, which would let duplicate emails in, must make open fail.
 */
#include <json-c/json.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msvc.h"
#include "msvc/mongo.h"
#include "testutil.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define NUSERS 5
#define NPOSTS 6
/* 2024-01-26T08:49:24.000Z, the date in DATA.md's example. */
#define BASE_MS INT64_C(1706258964000)

typedef struct seed_user {
  char id[MSVC_ID_SIZE];
  char email[64];
  const char *password; /* from the vector file */
  const char *hash;
  int64_t created_at;
} seed_user_t;

static const char *url;
static json_object *vectors;
static seed_user_t users[NUSERS];
static char post_ids[NPOSTS][MSVC_ID_SIZE];
static const char *wrong_password;

static msvc_user_record_t *rec_new(void) {
  msvc_user_record_t *rec = NULL;
  if (msvc_user_record_new(&rec) != 0)
    exit(2);
  return rec;
}

static msvc_post_t *post_new(void) {
  msvc_post_t *p = NULL;
  if (msvc_post_new(&p) != 0)
    exit(2);
  return p;
}

/* A record to write (msvc_user_record_free). */
static msvc_user_record_t *rec_with(const char *id, const char *name,
                                    const char *email, const char *hash,
                                    int64_t at) {
  msvc_user_record_t *rec = rec_new();
  if (msvc_user_set(rec->user, id, name, email, at, at) != 0 ||
      (rec->password_hash = strdup(hash)) == NULL)
    exit(2);
  return rec;
}

static const char *member_string(json_object *obj, const char *key) {
  json_object *v;
  if (!json_object_object_get_ex(obj, key, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

/* Loads the first NUSERS bcrypt vectors made by node's bcrypt/bcryptjs. */
static int load_vectors(void) {
  json_object *list;
  vectors = json_object_from_file(MSVC_VECTORS_FILE);
  if (vectors == NULL || !json_object_object_get_ex(vectors, "bcrypt", &list) ||
      json_object_array_length(list) < NUSERS)
    return -1;
  for (size_t i = 0; i < NUSERS; i++) {
    json_object *v = json_object_array_get_idx(list, i);
    users[i].password = member_string(v, "password");
    users[i].hash = member_string(v, "hash");
    if (users[i].password == NULL || users[i].hash == NULL)
      return -1;
    snprintf(users[i].id, sizeof(users[i].id), "65b3a1f2c9e77a00123456%02zx",
             i + 0x10);
    snprintf(users[i].email, sizeof(users[i].email), "seed%zu@example.com", i);
    users[i].created_at = BASE_MS + (int64_t)i * 1000;
  }
  wrong_password = member_string(vectors, "bcrypt_wrong_password_for_first");
  return wrong_password != NULL ? 0 : -1;
}

static mongoc_database_t *raw_db(mongoc_client_t *client) {
  const char *name = mongoc_uri_get_database(mongoc_client_get_uri(client));
  return mongoc_client_get_database(client, name);
}

static int raw_command(mongoc_client_t *client, const char *json) {
  mongoc_database_t *db = raw_db(client);
  bson_error_t err;
  bson_t *cmd = bson_new_from_json((const uint8_t *)json, -1, &err);
  int ok = cmd != NULL &&
           mongoc_database_write_command_with_opts(db, cmd, NULL, NULL, &err);
  if (!ok)
    fprintf(stderr, "   command %s: %s\n", json, err.message);
  bson_destroy(cmd);
  mongoc_database_destroy(db);
  return ok ? 0 : -1;
}

static int raw_insert(mongoc_client_t *client, const char *coll_name,
                      const bson_t *doc) {
  mongoc_database_t *db = raw_db(client);
  mongoc_collection_t *coll = mongoc_database_get_collection(db, coll_name);
  bson_error_t err;
  int ok = mongoc_collection_insert_one(coll, doc, NULL, NULL, &err);
  if (!ok)
    fprintf(stderr, "   insert into %s: %s\n", coll_name, err.message);
  mongoc_collection_destroy(coll);
  mongoc_database_destroy(db);
  return ok ? 0 : -1;
}

/* What Prisma's `prisma db push` makes for the seed's schema (its unique
 * index name), plus a listing index under a name of its own, so that the
 * store's open meets indexes it did not make. */
static void seed_indexes(mongoc_client_t *client) {
  CHECK_EQ_INT(raw_command(client, "{\"createIndexes\": \"User\", \"indexes\": "
                                   "[{\"key\": {\"email\": 1}, \"name\": "
                                   "\"User_email_key\", \"unique\": true}]}"),
               0);
  CHECK_EQ_INT(raw_command(client, "{\"createIndexes\": \"Post\", \"indexes\": "
                                   "[{\"key\": {\"created_at\": -1, \"_id\": "
                                   "-1}, \"name\": \"seed_newest_first\"}]}"),
               0);
}

/* Users as Prisma writes them; user 0 carries fields we do not know and
 * user 4 lacks its name. */
static void seed_users(mongoc_client_t *client) {
  for (size_t i = 0; i < NUSERS; i++) {
    bson_t doc = BSON_INITIALIZER;
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, users[i].id);
    BSON_APPEND_OID(&doc, "_id", &oid);
    if (i != 4)
      BSON_APPEND_UTF8(&doc, "name", "Seed User");
    BSON_APPEND_UTF8(&doc, "email", users[i].email);
    BSON_APPEND_UTF8(&doc, "password", users[i].hash);
    BSON_APPEND_DATE_TIME(&doc, "created_at", users[i].created_at);
    BSON_APPEND_DATE_TIME(&doc, "updated_at", users[i].created_at + 500);
    if (i == 0) {
      BSON_APPEND_INT32(&doc, "__v", 0);
      BSON_APPEND_UTF8(&doc, "role", "admin");
    }
    CHECK_EQ_INT(raw_insert(client, "User", &doc), 0);
    bson_destroy(&doc);
  }
}

/* Posts by users 0 and 1, one second apart; post 2 has an extra field. */
static void seed_posts(mongoc_client_t *client) {
  for (size_t i = 0; i < NPOSTS; i++) {
    bson_t doc = BSON_INITIALIZER;
    bson_oid_t oid;
    snprintf(post_ids[i], MSVC_ID_SIZE, "65b3a27bc9e77a00123456%02zx",
             i + 0x40);
    bson_oid_init_from_string(&oid, post_ids[i]);
    BSON_APPEND_OID(&doc, "_id", &oid);
    BSON_APPEND_UTF8(&doc, "user_id", users[i % 2].id);
    BSON_APPEND_UTF8(&doc, "title", "Hello");
    BSON_APPEND_UTF8(&doc, "content", "First post");
    BSON_APPEND_DATE_TIME(&doc, "created_at", BASE_MS + (int64_t)i * 1000);
    BSON_APPEND_DATE_TIME(&doc, "updated_at", BASE_MS + (int64_t)i * 1000);
    if (i == 2)
      BSON_APPEND_BOOL(&doc, "published", true);
    CHECK_EQ_INT(raw_insert(client, "Post", &doc), 0);
    bson_destroy(&doc);
  }
}

static void test_seed_users_read(msvc_store_t *store) {
  msvc_user_record_t *rec = rec_new();
  for (size_t i = 0; i < NUSERS; i++) {
    const char *pw = users[i].password;
    CHECK_EQ_INT(msvc_store_user_find_by_email(store, users[i].email, rec), 0);
    CHECK_EQ_STR(rec->user->id, users[i].id);
    CHECK_EQ_STR(rec->user->name, i == 4 ? "" : "Seed User");
    CHECK_EQ_INT(rec->user->created_at, users[i].created_at);
    CHECK_EQ_INT(rec->user->updated_at, users[i].created_at + 500);
    CHECK_EQ_STR(rec->password_hash, users[i].hash);
    if (rec->password_hash != NULL)
      CHECK_EQ_INT(msvc_password_verify(pw, strlen(pw), rec->password_hash), 0);
    CHECK_EQ_INT(msvc_store_user_find_by_id(store, users[i].id, rec), 0);
    CHECK_EQ_STR(rec->user->email, users[i].email);
  }
  msvc_user_record_free(rec);
}

static void test_seed_login_refuses_wrong_password(msvc_store_t *store) {
  msvc_user_record_t *rec = rec_new();
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, users[0].email, rec), 0);
  if (rec->password_hash != NULL)
    CHECK_EQ_INT(msvc_password_verify(wrong_password, strlen(wrong_password),
                                      rec->password_hash),
                 MSVC_EAUTH);
  msvc_user_record_free(rec);
}

static void test_seed_users_batch(msvc_store_t *store) {
  msvc_id_t ids[NUSERS + 1];
  msvc_user_t *out[NUSERS + 1];
  size_t n = 0, seen = 0;
  for (size_t i = 0; i < NUSERS + 1; i++)
    CHECK_EQ_INT(msvc_user_new(&out[i]), 0);
  for (size_t i = 0; i < NUSERS; i++)
    memcpy(ids[i].hex, users[i].id, MSVC_ID_SIZE);
  memcpy(ids[NUSERS].hex, post_ids[0], MSVC_ID_SIZE); /* not a user */
  CHECK_EQ_INT(msvc_store_users_find_many(store, ids, NUSERS + 1, out, &n), 0);
  CHECK_EQ_INT(n, NUSERS);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < NUSERS; j++)
      if (strcmp(out[i]->id, users[j].id) == 0) {
        seen |= (size_t)1 << j;
        CHECK_EQ_STR(out[i]->email, users[j].email);
        CHECK_EQ_INT(out[i]->created_at, users[j].created_at);
      }
  }
  for (size_t i = 0; i < NUSERS + 1; i++)
    msvc_user_free(out[i]);
  CHECK_EQ_INT(seen, ((size_t)1 << NUSERS) - 1);
}

static void test_seed_posts_listed(msvc_store_t *store) {
  msvc_post_query_t q = {.limit = NPOSTS + 1};
  msvc_post_t *out[NPOSTS + 1];
  size_t n = 0;
  for (size_t i = 0; i < NPOSTS + 1; i++)
    out[i] = post_new();
  CHECK_EQ_INT(msvc_store_post_list(store, &q, out, &n), 0);
  CHECK_EQ_INT(n, NPOSTS);
  for (size_t i = 0; i < n; i++) {
    size_t k = NPOSTS - 1 - i; /* newest first */
    CHECK_EQ_STR(out[i]->id, post_ids[k]);
    CHECK_EQ_STR(out[i]->user_id, users[k % 2].id);
    CHECK_EQ_STR(out[i]->title, "Hello");
    CHECK_EQ_INT(out[i]->created_at, BASE_MS + (int64_t)k * 1000);
  }
  /* One author's, after a cursor at the newest post. */
  memcpy(q.user_id, users[1].id, MSVC_ID_SIZE);
  q.has_cursor = 1;
  q.cursor.created_at = BASE_MS + (NPOSTS - 1) * 1000;
  memcpy(q.cursor.id, post_ids[NPOSTS - 1], MSVC_ID_SIZE);
  CHECK_EQ_INT(msvc_store_post_list(store, &q, out, &n), 0);
  CHECK_EQ_INT(n, NPOSTS / 2 - 1);
  for (size_t i = 0; i < n; i++)
    CHECK_EQ_STR(out[i]->user_id, users[1].id);
  for (size_t i = 0; i < NPOSTS + 1; i++)
    msvc_post_free(out[i]);
}

static void test_seed_post_found(msvc_store_t *store) {
  msvc_post_t *p = post_new();
  CHECK_EQ_INT(msvc_store_post_find(store, post_ids[2], p), 0);
  CHECK_EQ_STR(p->id, post_ids[2]);
  CHECK_EQ_STR(p->user_id, users[0].id);
  CHECK_EQ_STR(p->content, "First post");
  msvc_post_free(p);
}

static void test_seed_email_taken(msvc_store_t *store) {
  msvc_user_record_t *rec = rec_with("65b3a1f2c9e77a00123456ff", "Copy",
                                     users[2].email, users[2].hash, 0);
  CHECK_EQ_INT(msvc_store_user_insert(store, rec), MSVC_EEXIST);
  msvc_user_record_free(rec);
}

/* Fetches one raw document by id; NULL when absent. */
static bson_t *raw_find(mongoc_client_t *client, const char *coll_name,
                        const char *id) {
  mongoc_database_t *db = raw_db(client);
  mongoc_collection_t *coll = mongoc_database_get_collection(db, coll_name);
  bson_t filter = BSON_INITIALIZER;
  bson_oid_t oid;
  const bson_t *doc;
  bson_t *copy = NULL;
  mongoc_cursor_t *cur;
  bson_oid_init_from_string(&oid, id);
  BSON_APPEND_OID(&filter, "_id", &oid);
  cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
  if (mongoc_cursor_next(cur, &doc))
    copy = bson_copy(doc);
  mongoc_cursor_destroy(cur);
  bson_destroy(&filter);
  mongoc_collection_destroy(coll);
  mongoc_database_destroy(db);
  return copy;
}

/* Checks that doc has exactly the keys given, each with its type. */
static void check_shape(const bson_t *doc, const char *const *keys,
                        const bson_type_t *types, size_t n) {
  bson_iter_t it;
  CHECK(doc != NULL);
  if (doc == NULL)
    return;
  CHECK_EQ_INT(bson_count_keys(doc), n);
  for (size_t i = 0; i < n; i++) {
    int found = bson_iter_init_find(&it, doc, keys[i]);
    if (!found)
      fprintf(stderr, "   missing field %s\n", keys[i]);
    CHECK(found);
    if (found)
      CHECK_EQ_INT(bson_iter_type(&it), types[i]);
  }
}

static const char *str_field(const bson_t *doc, const char *key) {
  bson_iter_t it;
  if (doc != NULL && bson_iter_init_find(&it, doc, key) &&
      BSON_ITER_HOLDS_UTF8(&it))
    return bson_iter_utf8(&it, NULL);
  return NULL;
}

static int64_t date_field(const bson_t *doc, const char *key) {
  bson_iter_t it;
  if (doc != NULL && bson_iter_init_find(&it, doc, key) &&
      BSON_ITER_HOLDS_DATE_TIME(&it))
    return bson_iter_date_time(&it);
  return -1;
}

static void test_written_in_seed_shape(msvc_store_t *store,
                                       mongoc_client_t *client) {
  static const char *const user_keys[] = {
      "_id", "name", "email", "password", "created_at", "updated_at"};
  static const bson_type_t user_types[] = {
      BSON_TYPE_OID,  BSON_TYPE_UTF8,      BSON_TYPE_UTF8,
      BSON_TYPE_UTF8, BSON_TYPE_DATE_TIME, BSON_TYPE_DATE_TIME};
  static const char *const post_keys[] = {
      "_id", "user_id", "title", "content", "created_at", "updated_at"};
  static const bson_type_t post_types[] = {
      BSON_TYPE_OID,  BSON_TYPE_UTF8,      BSON_TYPE_UTF8,
      BSON_TYPE_UTF8, BSON_TYPE_DATE_TIME, BSON_TYPE_DATE_TIME};
  msvc_user_record_t *rec =
      rec_with("6600000000000000000000aa", "Grace Hopper", "grace@example.com",
               users[0].hash, BASE_MS + 3600000);
  msvc_post_t *post = post_new();
  bson_t *doc;

  CHECK_EQ_INT(msvc_store_user_insert(store, rec), 0);
  free(rec->user->name);
  rec->user->name = strdup("Grace B. Hopper");
  rec->user->updated_at = BASE_MS + 7200000;
  CHECK_EQ_INT(msvc_store_user_update(store, rec), 0);

  doc = raw_find(client, "User", rec->user->id);
  check_shape(doc, user_keys, user_types, COUNT(user_keys));
  CHECK_EQ_STR(str_field(doc, "name"), "Grace B. Hopper");
  CHECK_EQ_STR(str_field(doc, "email"), "grace@example.com");
  CHECK_EQ_STR(str_field(doc, "password"), users[0].hash);
  CHECK_EQ_INT(date_field(doc, "created_at"), BASE_MS + 3600000);
  CHECK_EQ_INT(date_field(doc, "updated_at"), BASE_MS + 7200000);
  bson_destroy(doc);

  memcpy(post->id, "6600000000000000000000bb", MSVC_ID_SIZE);
  memcpy(post->user_id, rec->user->id, MSVC_ID_SIZE);
  post->title = strdup("Compilers");
  post->content = strdup("A-0");
  post->created_at = post->updated_at = BASE_MS + 3600000;
  CHECK_EQ_INT(msvc_store_post_insert(store, post), 0);
  doc = raw_find(client, "Post", post->id);
  check_shape(doc, post_keys, post_types, COUNT(post_keys));
  CHECK_EQ_STR(str_field(doc, "user_id"), rec->user->id);
  CHECK_EQ_STR(str_field(doc, "title"), "Compilers");
  CHECK_EQ_INT(date_field(doc, "created_at"), BASE_MS + 3600000);
  bson_destroy(doc);
  msvc_post_free(post);
  msvc_user_record_free(rec);
}

/* How many indexes of coll have exactly the key pattern key_json and the
 * given uniqueness. */
static int has_index_on(mongoc_client_t *client, const char *coll_name,
                        const char *key_json, int want_unique) {
  mongoc_database_t *db = raw_db(client);
  mongoc_collection_t *coll = mongoc_database_get_collection(db, coll_name);
  mongoc_cursor_t *cur = mongoc_collection_find_indexes_with_opts(coll, NULL);
  bson_error_t err;
  bson_t *want = bson_new_from_json((const uint8_t *)key_json, -1, &err);
  const bson_t *doc;
  int count = 0;
  while (want != NULL && mongoc_cursor_next(cur, &doc)) {
    bson_iter_t it;
    bson_t key;
    const uint8_t *data;
    uint32_t len;
    int unique =
        bson_iter_init_find(&it, doc, "unique") && bson_iter_as_bool(&it);
    if (!bson_iter_init_find(&it, doc, "key") || !BSON_ITER_HOLDS_DOCUMENT(&it))
      continue;
    bson_iter_document(&it, &len, &data);
    if (bson_init_static(&key, data, len) && bson_equal(&key, want) &&
        unique == want_unique)
      count++;
  }
  bson_destroy(want);
  mongoc_cursor_destroy(cur);
  mongoc_collection_destroy(coll);
  mongoc_database_destroy(db);
  return count;
}

static void test_indexes(mongoc_client_t *client) {
  CHECK_EQ_INT(has_index_on(client, "User", "{\"email\": 1}", 1), 1);
  CHECK_EQ_INT(
      has_index_on(client, "Post", "{\"created_at\": -1, \"_id\": -1}", 0), 1);
  CHECK_EQ_INT(has_index_on(client, "Post",
                            "{\"user_id\": 1, \"created_at\": -1, \"_id\": -1}",
                            0),
               1);
}

/* A non-unique email index would let duplicates in: open must refuse. */
static void test_non_unique_email_index_refused(void) {
  char bad_url[512], err[256] = "";
  mongoc_client_t *client;
  msvc_store_t *store = NULL;
  snprintf(bad_url, sizeof(bad_url), "%s_bad", url);
  client = mongoc_client_new(bad_url);
  CHECK(client != NULL);
  if (client == NULL)
    return;
  CHECK_EQ_INT(raw_command(client, "{\"createIndexes\": \"User\", \"indexes\": "
                                   "[{\"key\": {\"email\": 1}, \"name\": "
                                   "\"email_1\"}]}"),
               0);
  CHECK_EQ_INT(msvc_store_open(bad_url, NULL, &store, err, sizeof(err)),
               MSVC_ESTORE);
  fprintf(stderr, "   open refused: %s\n", err);
  CHECK(strstr(err, "User_email_key") != NULL);
  msvc_store_close(store);
  mongoc_client_destroy(client);
}

int main(int argc, char **argv) {
  mongoc_client_t *client;
  msvc_store_t *store = NULL;
  char err[256] = "";
  if (argc != 2) {
    fprintf(stderr, "usage: %s MONGODB_URL\n", argv[0]);
    return 2;
  }
  url = argv[1];
  mongoc_init();
  CHECK_EQ_INT(msvc_mongo_register(), 0);
  CHECK_EQ_INT(load_vectors(), 0);
  client = mongoc_client_new(url);
  CHECK(client != NULL);
  if (client == NULL || tu_failed)
    return 1;

  RUN_ARG(seed_indexes, client);
  RUN_ARG(seed_users, client);
  RUN_ARG(seed_posts, client);
  CHECK_EQ_INT(msvc_store_open(url, NULL, &store, err, sizeof(err)), 0);
  if (store == NULL) {
    fprintf(stderr, "open: %s\n", err);
    return 1;
  }
  RUN_ARG(test_seed_users_read, store);
  RUN_ARG(test_seed_login_refuses_wrong_password, store);
  RUN_ARG(test_seed_users_batch, store);
  RUN_ARG(test_seed_posts_listed, store);
  RUN_ARG(test_seed_post_found, store);
  RUN_ARG(test_seed_email_taken, store);
  fprintf(stderr, "-- test_written_in_seed_shape\n");
  test_written_in_seed_shape(store, client);
  RUN_ARG(test_indexes, client);
  RUN(test_non_unique_email_index_refused);

  msvc_store_close(store);
  mongoc_client_destroy(client);
  json_object_put(vectors);
  mongoc_cleanup();
  TEST_MAIN_END();
}
