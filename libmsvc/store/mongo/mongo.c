/* store/mongo/mongo.c - the MongoDB backend of the store interface
 * (mongo-c-driver 1.23), the module libmsvc-mongo.
 *
 * The layout is the seed's, as its Prisma client writes it (DATA.md):
 * collections "User" and "Post", ObjectId `_id`, BSON dates, and
 * Post.user_id as a hex string.  Sessions (store version 3) add a
 * "Session" collection in the same style (Session.user_id a hex string
 * like Post.user_id, a TTL index on expires_at where the server has them)
 * and User.tokens_valid_after, a date written only once it is not 0, so
 * the seed's documents keep their shape.  Documents written by others may
 * carry fields we do not know (ignored) or lack some we read: a missing string
 * reads as "", a missing date as 0, and a document whose `_id` is not an
 * ObjectId is skipped, since it has no id this API could show.
 *
 * Invariants:
 *  - one mongoc_client_pool_t per open store, shared by all threads; each
 *    operation pops a client and pushes it back before returning;
 *  - every operation is bounded: the server selection, connect and socket
 *    timeouts come from cfg->timeout_ms unless the URI sets them, so an
 *    unreachable server answers MSVC_EUNAVAIL instead of hanging;
 *  - the indexes are made once per store: at open when the server answers,
 *    else by the first later operation (or ping) that reaches it, so a store
 *    opened while the database was down recovers by itself.  Writes to User
 *    wait for them, since the unique email index is what decides duplicates
 *    (session inserts and rotations likewise, for the token_hash index);
 *  - a rotation is a compare-and-set (update_one filtered on the old hash);
 *    on FerretDB 1.x, whose filtered updates are a read then a write, a
 *    lock document keyed by the old hash makes it one (rotate_guarded);
 *  - no process-wide side effects beyond the driver's own initialisation:
 *    mongoc_init() runs once (pthread_once) at the first open, because the
 *    driver requires it before any client exists; mongoc_cleanup() is
 *    never called, because it cannot be undone (the driver may not be
 *    initialised again afterwards) and other code in the process (the
 *    embedder, another module) may still be using the driver.  The driver's
 *    log handler is left alone: logging is the program's choice
 *    (mongoc_log_set_handler), not a library's;
 *  - a server's own message goes with every MSVC_EUNAVAIL or MSVC_ESTORE
 *    through msvc_set_error_detail().
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include "internal.h"
#include "msvc/mongo.h"

#define DEFAULT_DB "msvc"
#define DEFAULT_TIMEOUT_MS 5000
#define USERS "User"
#define POSTS "Post"
#define SESSIONS "Session"
#define EVENTS "Event"
/* Rotation guards on servers without atomic conditional updates. */
#define ROTATION_LOCKS "SessionRotationLock"

typedef struct mongo_store {
  mongoc_uri_t *uri;
  mongoc_client_pool_t *pool;
  char *db;
  /* Index creation: one attempt at a time, under index_lock. */
  pthread_mutex_t index_lock;
  atomic_int indexes_ready;
  atomic_uint index_attempts; /* finished attempts */
  int index_rc;               /* result of the last attempt */
  /* The server applies a filtered update as a read, then a write by _id
   * (FerretDB 1.x), so a rotation needs a guard; set with the indexes. */
  atomic_int updates_not_atomic;
} mongo_store_t;

/* ---- driver setup ------------------------------------------------------ */

static pthread_once_t driver_once = PTHREAD_ONCE_INIT;

static void driver_init(void) {
  mongoc_init();
}

/* Sets an int32 option unless the URI already has it. */
static int default_int32(mongoc_uri_t *uri, const char *key, int32_t value) {
  if (mongoc_uri_has_option(uri, key))
    return 0;
  return mongoc_uri_set_option_as_int32(uri, key, value) ? 0 : -1;
}

/* Write concern majority unless the URI chose a w; retryable writes unless
 * the URI says otherwise; bounded waits everywhere; "msvc" as the name
 * the server logs. */
static int apply_defaults(mongoc_uri_t *uri, const msvc_store_config_t *cfg) {
  int32_t timeout = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
  const mongoc_write_concern_t *wc = mongoc_uri_get_write_concern(uri);
  if (mongoc_write_concern_get_w(wc) == MONGOC_WRITE_CONCERN_W_DEFAULT &&
      mongoc_write_concern_get_wtag(wc) == NULL) {
    mongoc_write_concern_t *copy = mongoc_write_concern_copy(wc);
    mongoc_write_concern_set_w(copy, MONGOC_WRITE_CONCERN_W_MAJORITY);
    mongoc_uri_set_write_concern(uri, copy);
    mongoc_write_concern_destroy(copy);
  }
  if (!mongoc_uri_has_option(uri, MONGOC_URI_RETRYWRITES) &&
      !mongoc_uri_set_option_as_bool(uri, MONGOC_URI_RETRYWRITES, true))
    return -1;
  if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTRYONCE) &&
      !mongoc_uri_set_option_as_bool(uri, MONGOC_URI_SERVERSELECTIONTRYONCE,
                                     false))
    return -1;
  if (default_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, timeout) != 0 ||
      default_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, timeout) != 0 ||
      default_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, timeout) != 0)
    return -1;
  if (!mongoc_uri_has_option(uri, MONGOC_URI_APPNAME) &&
      !mongoc_uri_set_appname(uri, "msvc"))
    return -1;
  if (cfg->connections > 0 &&
      default_int32(uri, MONGOC_URI_MAXPOOLSIZE, cfg->connections) != 0)
    return -1;
  return 0;
}

/* ---- errors ------------------------------------------------------------ */

/* Server error codes that mean "not now" rather than "never": shutdown,
 * elections, network trouble seen by the server, time limits. */
static int transient_server_code(uint32_t code) {
  static const uint32_t codes[] = {
      6, 7, 50, 64, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436};
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(codes); i++)
    if (codes[i] == code)
      return 1;
  return 0;
}

/* MongoDB reports a unique index violation as 11000 (older servers: 11001,
 * 12582).  FerretDB 1.x does so for inserts, but for updates answers
 * InternalError (1) with its SQL engine's message (SQLite or PostgreSQL). */
static int duplicate_key(const bson_error_t *err) {
  if (err->code == 11000 || err->code == 11001 || err->code == 12582)
    return 1;
  return err->code == 1 &&
         (strstr(err->message, "UNIQUE constraint failed") != NULL ||
          strstr(err->message, "duplicate key value") != NULL);
}

static int map_domain(const bson_error_t *err) {
  switch (err->domain) {
  case MONGOC_ERROR_STREAM:
  case MONGOC_ERROR_SERVER_SELECTION:
  case MONGOC_ERROR_PROTOCOL:
    return MSVC_EUNAVAIL;
  case MONGOC_ERROR_CLIENT:
    return err->code == MONGOC_ERROR_CLIENT_AUTHENTICATE ? MSVC_EUNAVAIL
                                                         : MSVC_ESTORE;
  case MONGOC_ERROR_SERVER:
  case MONGOC_ERROR_WRITE_CONCERN:
    if (duplicate_key(err))
      return MSVC_EEXIST;
    return transient_server_code(err->code) ? MSVC_EUNAVAIL : MSVC_ESTORE;
  default:
    return MSVC_ESTORE;
  }
}

/* The MSVC_E* code for a driver error, with the driver's or server's
 * message as the thread's error detail when it is worth showing. */
static int map_error(const bson_error_t *err) {
  int rc = map_domain(err);
  if (rc == MSVC_EUNAVAIL || rc == MSVC_ESTORE)
    msvc_set_error_detail("MongoDB: %s", err->message);
  return rc;
}

/* ---- documents --------------------------------------------------------- */

static int oid_from_hex(const char *hex, bson_oid_t *oid) {
  if (hex == NULL || !msvc_id_valid(hex, strlen(hex)))
    return MSVC_EINVAL;
  bson_oid_init_from_string(oid, hex);
  return 0;
}

/* The string at key, copied; "" when absent or not a string.  NULL only
 * when out of memory. */
static char *get_string(const bson_t *doc, const char *key) {
  bson_iter_t it;
  uint32_t len = 0;
  const char *s = "";
  if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it))
    s = bson_iter_utf8(&it, &len);
  return msvc__strndup(s, len);
}

static int64_t get_date(const bson_t *doc, const char *key) {
  bson_iter_t it;
  if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_DATE_TIME(&it))
    return bson_iter_date_time(&it);
  return 0;
}

/* The ObjectId at key as lower-case hex; -1 when it is not an ObjectId. */
static int get_oid_hex(const bson_t *doc, const char *key,
                       char out[MSVC_ID_SIZE]) {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_OID(&it))
    return -1;
  bson_oid_to_string(bson_iter_oid(&it), out);
  return 0;
}

/* Post.user_id: a hex string as the seed writes it; an ObjectId is
 * accepted too.  "" when neither. */
static void get_ref_hex(const bson_t *doc, const char *key,
                        char out[MSVC_ID_SIZE]) {
  bson_iter_t it;
  uint32_t len = 0;
  const char *s;
  out[0] = '\0';
  if (get_oid_hex(doc, key, out) == 0)
    return;
  if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_UTF8(&it))
    return;
  s = bson_iter_utf8(&it, &len);
  if (msvc_id_valid(s, len)) {
    memcpy(out, s, MSVC_ID_LEN + 1);
    msvc__ascii_lower(out);
  }
}

/* Fills a zeroed user; MSVC_ENOTFOUND (nothing filled) for a document
 * without an ObjectId `_id`.  On MSVC_ENOMEM what was filled is left for
 * the library, which frees the records of a failed call. */
static int user_from_doc(const bson_t *doc, msvc_user_t *out) {
  if (get_oid_hex(doc, "_id", out->id) != 0)
    return MSVC_ENOTFOUND;
  out->name = get_string(doc, "name");
  out->email = get_string(doc, "email");
  if (out->name == NULL || out->email == NULL)
    return MSVC_ENOMEM;
  out->created_at = get_date(doc, "created_at");
  out->updated_at = get_date(doc, "updated_at");
  return 0;
}

/* Fills a zeroed record (the library frees it on error). */
static int record_from_doc(const bson_t *doc, msvc_user_record_t *out) {
  int rc = user_from_doc(doc, out->user);
  if (rc != 0)
    return rc;
  out->password_hash = get_string(doc, "password");
  out->tokens_valid_after = get_date(doc, "tokens_valid_after");
  return out->password_hash != NULL ? 0 : MSVC_ENOMEM;
}

/* Fills a zeroed post, as user_from_doc does. */
static int post_from_doc(const bson_t *doc, msvc_post_t *out) {
  if (get_oid_hex(doc, "_id", out->id) != 0)
    return MSVC_ENOTFOUND;
  get_ref_hex(doc, "user_id", out->user_id);
  out->title = get_string(doc, "title");
  out->content = get_string(doc, "content");
  if (out->title == NULL || out->content == NULL)
    return MSVC_ENOMEM;
  out->created_at = get_date(doc, "created_at");
  out->updated_at = get_date(doc, "updated_at");
  return 0;
}

/* {_id: ObjectId(hex)} */
static int id_filter(bson_t *filter, const char *hex) {
  bson_oid_t oid;
  bson_init(filter);
  if (oid_from_hex(hex, &oid) != 0)
    return MSVC_EINVAL;
  BSON_APPEND_OID(filter, "_id", &oid);
  return 0;
}

/* An author reference, stored as the seed does: lower-case hex string. */
static void append_ref(bson_t *b, const char *key, const char *hex) {
  char lower[MSVC_ID_SIZE];
  msvc__strlcpy(lower, hex, sizeof(lower));
  msvc__ascii_lower(lower);
  BSON_APPEND_UTF8(b, key, lower);
}

/* ---- commands ---------------------------------------------------------- */

typedef int (*doc_fn)(const bson_t *doc, void *arg);

/* Runs a find and hands each document to fn until it returns non-zero. */
static int run_find(const mongo_store_t *st, mongoc_client_t *c,
                    const char *coll_name, const bson_t *filter,
                    const bson_t *opts, doc_fn fn, void *arg) {
  mongoc_collection_t *coll =
      mongoc_client_get_collection(c, st->db, coll_name);
  mongoc_cursor_t *cur =
      mongoc_collection_find_with_opts(coll, filter, opts, NULL);
  const bson_t *doc;
  bson_error_t err;
  int rc = 0;
  while (rc == 0 && mongoc_cursor_next(cur, &doc))
    rc = fn(doc, arg);
  if (rc == 0 && mongoc_cursor_error(cur, &err))
    rc = map_error(&err);
  mongoc_cursor_destroy(cur);
  mongoc_collection_destroy(coll);
  return rc;
}

static int copy_first(const bson_t *doc, void *arg) {
  bson_copy_to(doc, arg);
  return 1;
}

/* Copies the first match into *out (which must then be destroyed);
 * MSVC_ENOTFOUND when nothing matched. */
static int find_one(const mongo_store_t *st, mongoc_client_t *c,
                    const char *coll_name, const bson_t *filter, bson_t *out) {
  bson_t opts = BSON_INITIALIZER;
  int rc;
  BSON_APPEND_INT64(&opts, "limit", 1);
  rc = run_find(st, c, coll_name, filter, &opts, copy_first, out);
  bson_destroy(&opts);
  if (rc == 1)
    return 0;
  return rc == 0 ? MSVC_ENOTFOUND : rc;
}

static int insert_doc(const mongo_store_t *st, mongoc_client_t *c,
                      const char *coll_name, const bson_t *doc) {
  mongoc_collection_t *coll =
      mongoc_client_get_collection(c, st->db, coll_name);
  bson_error_t err;
  int rc = 0;
  if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &err))
    rc = map_error(&err);
  mongoc_collection_destroy(coll);
  return rc;
}

static int64_t reply_count(const bson_t *reply, const char *key) {
  bson_iter_t it;
  if (bson_iter_init_find(&it, reply, key) && BSON_ITER_HOLDS_NUMBER(&it))
    return bson_iter_as_int64(&it);
  return 0;
}

/* Applies update to the document with _id = hex; MSVC_ENOTFOUND when
 * there is none. */
static int update_by_id(const mongo_store_t *st, mongoc_client_t *c,
                        const char *coll_name, const char *hex,
                        const bson_t *update) {
  mongoc_collection_t *coll;
  bson_t filter, reply;
  bson_error_t err;
  int rc = id_filter(&filter, hex);
  if (rc != 0)
    return rc;
  coll = mongoc_client_get_collection(c, st->db, coll_name);
  if (!mongoc_collection_update_one(coll, &filter, update, NULL, &reply, &err))
    rc = map_error(&err);
  else if (reply_count(&reply, "matchedCount") == 0)
    rc = MSVC_ENOTFOUND;
  bson_destroy(&reply);
  mongoc_collection_destroy(coll);
  bson_destroy(&filter);
  return rc;
}

/* Deletes the document with _id = hex; MSVC_ENOTFOUND when there is
 * none. */
static int delete_by_id(const mongo_store_t *st, mongoc_client_t *c,
                        const char *coll_name, const char *hex) {
  mongoc_collection_t *coll;
  bson_t filter, reply;
  bson_error_t err;
  int rc = id_filter(&filter, hex);
  if (rc != 0)
    return rc;
  coll = mongoc_client_get_collection(c, st->db, coll_name);
  if (!mongoc_collection_delete_one(coll, &filter, NULL, &reply, &err))
    rc = map_error(&err);
  else if (reply_count(&reply, "deletedCount") == 0)
    rc = MSVC_ENOTFOUND;
  bson_destroy(&reply);
  mongoc_collection_destroy(coll);
  bson_destroy(&filter);
  return rc;
}

/* ---- indexes ----------------------------------------------------------- */

/* 1 when coll has a unique index on exactly {field: 1}, whatever its name
 * (Prisma's User email index is "User_email_key"). */
static int index_is_unique(const mongo_store_t *st, mongoc_client_t *c,
                           const char *coll_name, const char *field) {
  mongoc_collection_t *coll =
      mongoc_client_get_collection(c, st->db, coll_name);
  mongoc_cursor_t *cur = mongoc_collection_find_indexes_with_opts(coll, NULL);
  const bson_t *doc;
  int found = 0;
  while (!found && mongoc_cursor_next(cur, &doc)) {
    bson_iter_t it, key;
    if (!bson_iter_init_find(&it, doc, "unique") || !bson_iter_as_bool(&it))
      continue;
    if (!bson_iter_init_find(&it, doc, "key") ||
        !BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &key))
      continue;
    found = bson_iter_next(&key) && strcmp(bson_iter_key(&key), field) == 0 &&
            BSON_ITER_HOLDS_NUMBER(&key) && bson_iter_as_int64(&key) == 1 &&
            !bson_iter_next(&key);
  }
  mongoc_cursor_destroy(cur);
  mongoc_collection_destroy(coll);
  return found;
}

/* One index to make. */
typedef struct index_spec {
  const char *coll;
  const char *name;
  const char *unique_field; /* a unique index on this one field; or NULL */
  int ttl;                  /* expireAfterSeconds; -1 for none */
} index_spec_t;

/* The createIndexes command for one index. */
static void index_command(bson_t *cmd, const index_spec_t *ix,
                          const bson_t *keys) {
  bson_t list, spec;
  BSON_APPEND_UTF8(cmd, "createIndexes", ix->coll);
  BSON_APPEND_ARRAY_BEGIN(cmd, "indexes", &list);
  BSON_APPEND_DOCUMENT_BEGIN(&list, "0", &spec);
  BSON_APPEND_DOCUMENT(&spec, "key", keys);
  BSON_APPEND_UTF8(&spec, "name", ix->name);
  if (ix->unique_field != NULL)
    BSON_APPEND_BOOL(&spec, "unique", true);
  if (ix->ttl >= 0)
    BSON_APPEND_INT32(&spec, "expireAfterSeconds", ix->ttl);
  bson_append_document_end(&list, &spec);
  bson_append_array_end(cmd, &list);
}

/* Whether a failed createIndexes still leaves what the store needs: an
 * equivalent index under another name (code 85) or another index under
 * this name (86), as long as a unique field stays unique; a TTL index the
 * server does not implement (238, FerretDB 1.x), since expiry is only
 * clean-up: every reader compares expires_at with the time itself. */
static int index_error_is_fine(const mongo_store_t *st, mongoc_client_t *c,
                               const index_spec_t *ix,
                               const bson_error_t *err) {
  if (err->domain != MONGOC_ERROR_SERVER)
    return 0;
  if (ix->ttl >= 0 && err->code == 238)
    return 1;
  if (err->code != 85 && err->code != 86)
    return 0;
  return ix->unique_field == NULL ||
         index_is_unique(st, c, ix->coll, ix->unique_field);
}

/* Creates one index. */
static int create_index(const mongo_store_t *st, mongoc_client_t *c,
                        const index_spec_t *ix, const bson_t *keys, char *msg,
                        size_t msglen) {
  mongoc_database_t *db = mongoc_client_get_database(c, st->db);
  bson_t cmd = BSON_INITIALIZER, reply;
  bson_error_t err;
  int rc = 0;
  index_command(&cmd, ix, keys);
  if (!mongoc_database_write_command_with_opts(db, &cmd, NULL, &reply, &err) &&
      !index_error_is_fine(st, c, ix, &err)) {
    rc = map_error(&err);
    if (rc == MSVC_EEXIST)
      rc = MSVC_ESTORE; /* duplicates already stored */
    msvc__set_error(msg, msglen, "creating index %s.%s: %s", ix->coll, ix->name,
                    err.message);
  }
  bson_destroy(&reply);
  bson_destroy(&cmd);
  mongoc_database_destroy(db);
  return rc;
}

/* One key of an index: a field and its direction (1 or -1). */
typedef struct index_key {
  const char *field; /* NULL past the last key */
  int dir;
} index_key_t;

/* Every index of the layout, in order.  The Session ones serve a lookup by
 * the current token's hash (unique: the store decides a clash), by the
 * retired one, a user's sessions newest first, and the server's removal
 * of expired sessions. */
static const struct {
  index_spec_t spec;
  index_key_t keys[3];
} indexes[] = {
    {{USERS, "User_email_key", "email", -1}, {{"email", 1}}},
    {{POSTS, "Post_created_at_id_idx", NULL, -1},
     {{"created_at", -1}, {"_id", -1}}},
    {{POSTS, "Post_user_id_created_at_id_idx", NULL, -1},
     {{"user_id", 1}, {"created_at", -1}, {"_id", -1}}},
    {{SESSIONS, "Session_token_hash_key", "token_hash", -1},
     {{"token_hash", 1}}},
    {{SESSIONS, "Session_prev_hash_idx", NULL, -1}, {{"prev_hash", 1}}},
    {{SESSIONS, "Session_user_id_created_at_idx", NULL, -1},
     {{"user_id", 1}, {"created_at", -1}, {"_id", -1}}},
    {{SESSIONS, "Session_expires_at_ttl", NULL, 0}, {{"expires_at", 1}}},
    {{EVENTS, "Event_key_at_idx", NULL, -1}, {{"key", 1}, {"at", 1}}},
    {{EVENTS, "Event_expires_at_ttl", NULL, 0}, {{"expires_at", 1}}},
};

static void index_keys(bson_t *keys, const index_key_t *k, size_t n) {
  bson_init(keys);
  for (size_t i = 0; i < n && k[i].field != NULL; i++)
    BSON_APPEND_INT32(keys, k[i].field, k[i].dir);
}

/* 1 when the server is FerretDB (its buildInfo adds ferretdbVersion). */
static int server_is_ferretdb(mongoc_client_t *c) {
  bson_t cmd = BSON_INITIALIZER, reply;
  bson_iter_t it;
  int found = 0;
  BSON_APPEND_INT32(&cmd, "buildInfo", 1);
  if (mongoc_client_command_simple(c, "admin", &cmd, NULL, &reply, NULL))
    found = bson_iter_init_find(&it, &reply, "ferretdbVersion");
  bson_destroy(&reply);
  bson_destroy(&cmd);
  return found;
}

static int create_indexes(mongo_store_t *st, mongoc_client_t *c, char *msg,
                          size_t msglen) {
  int rc = 0;
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(indexes) && rc == 0; i++) {
    bson_t keys;
    index_keys(&keys, indexes[i].keys, MSVC__ARRAY_SIZE(indexes[i].keys));
    rc = create_index(st, c, &indexes[i].spec, &keys, msg, msglen);
    bson_destroy(&keys);
  }
  if (rc == 0)
    atomic_store(&st->updates_not_atomic, server_is_ferretdb(c));
  return rc;
}

/* Makes sure the indexes exist.  A caller that needs them (`wait`) gets the
 * outcome of an attempt; if one ended while it queued for the lock, it gets
 * that outcome rather than starting another, so callers do not each spend
 * a full timeout in turn while the server is down.  Other callers only try
 * when nobody else is, and are stopped only when the server is unreachable
 * (their own operation would fail too). */
static int ensure_indexes(mongo_store_t *st, mongoc_client_t *c, int wait) {
  unsigned seen;
  int rc;
  if (atomic_load(&st->indexes_ready))
    return 0;
  seen = atomic_load(&st->index_attempts);
  if (wait)
    pthread_mutex_lock(&st->index_lock);
  else if (pthread_mutex_trylock(&st->index_lock) != 0)
    return 0;
  if (atomic_load(&st->indexes_ready)) {
    rc = 0;
  } else if (wait && atomic_load(&st->index_attempts) != seen) {
    rc = st->index_rc;
  } else {
    rc = create_indexes(st, c, NULL, 0);
    st->index_rc = rc;
    atomic_fetch_add(&st->index_attempts, 1u);
    if (rc == 0)
      atomic_store(&st->indexes_ready, 1);
  }
  pthread_mutex_unlock(&st->index_lock);
  if (!wait && rc != MSVC_EUNAVAIL)
    return 0;
  return rc;
}

/* Pops a client for one operation, indexes made first (see above). */
static int acquire(mongo_store_t *st, int need_indexes, mongoc_client_t **out) {
  int rc;
  *out = mongoc_client_pool_pop(st->pool);
  if (*out == NULL)
    return MSVC_EUNAVAIL;
  rc = ensure_indexes(st, *out, need_indexes);
  if (rc != 0) {
    mongoc_client_pool_push(st->pool, *out);
    *out = NULL;
  }
  return rc;
}

static void release(mongo_store_t *st, mongoc_client_t *c) {
  mongoc_client_pool_push(st->pool, c);
}

/* ---- open, close, ping ------------------------------------------------- */

static void store_free(mongo_store_t *st) {
  if (st->pool != NULL)
    mongoc_client_pool_destroy(st->pool);
  mongoc_uri_destroy(st->uri);
  pthread_mutex_destroy(&st->index_lock);
  free(st->db);
  free(st);
}

static int store_new(const char *url, const msvc_store_config_t *cfg,
                     mongo_store_t **out, char *errbuf, size_t errlen) {
  mongo_store_t *st = calloc(1, sizeof(*st));
  const char *db;
  bson_error_t err;
  if (st == NULL)
    return MSVC_ENOMEM;
  pthread_mutex_init(&st->index_lock, NULL);
  *out = st;
  st->uri = mongoc_uri_new_with_error(url, &err);
  if (st->uri == NULL) {
    msvc__set_error(errbuf, errlen, "invalid MongoDB URI: %s", err.message);
    return MSVC_ECONFIG;
  }
  if (apply_defaults(st->uri, cfg) != 0) {
    msvc__set_error(errbuf, errlen, "cannot set MongoDB URI options");
    return MSVC_ECONFIG;
  }
  db = mongoc_uri_get_database(st->uri);
  st->db = msvc__strdup(db != NULL && db[0] != '\0' ? db : DEFAULT_DB);
  if (st->db == NULL)
    return MSVC_ENOMEM;
  st->pool = mongoc_client_pool_new_with_error(st->uri, &err);
  if (st->pool == NULL) {
    msvc__set_error(errbuf, errlen, "MongoDB client pool: %s", err.message);
    return MSVC_ECONFIG;
  }
  mongoc_client_pool_set_error_api(st->pool, MONGOC_ERROR_API_VERSION_2);
  return 0;
}

/* {ping: 1}: needs no privileges, so it fails only when the server (or
 * our authentication) does. */
static int server_ping(mongoc_client_t *c, bson_error_t *err) {
  bson_t cmd = BSON_INITIALIZER;
  int ok;
  BSON_APPEND_INT32(&cmd, "ping", 1);
  ok = mongoc_client_command_simple(c, "admin", &cmd, NULL, NULL, err);
  bson_destroy(&cmd);
  return ok ? 0 : map_error(err);
}

/* Open's first contact: indexes when the server answers, nothing when it
 * is unreachable (they follow later), an error for credentials it refuses
 * or indexes it cannot build, which no waiting will mend. */
static int first_contact(mongo_store_t *st, char *errbuf, size_t errlen) {
  mongoc_client_t *c = mongoc_client_pool_pop(st->pool);
  bson_error_t err;
  int rc;
  if (c == NULL)
    return 0;
  rc = server_ping(c, &err);
  if (rc == 0) {
    rc = create_indexes(st, c, errbuf, errlen);
    if (rc == 0)
      atomic_store(&st->indexes_ready, 1);
  } else if (err.domain == MONGOC_ERROR_CLIENT &&
             err.code == MONGOC_ERROR_CLIENT_AUTHENTICATE) {
    msvc__set_error(errbuf, errlen, "MongoDB: %s", err.message);
    rc = MSVC_ECONFIG;
  }
  mongoc_client_pool_push(st->pool, c);
  return rc == MSVC_EUNAVAIL ? 0 : rc;
}

/* Opens the pool and, if the server answers, makes the indexes.  A server
 * that is down is not an error here: the pool connects lazily and the
 * indexes follow on first contact; ping reports the outage meanwhile. */
static int mongo_open(const char *url, const msvc_store_config_t *cfg,
                      void **ctx, char *errbuf, size_t errlen) {
  mongo_store_t *st = NULL;
  int rc;
  *ctx = NULL;
  pthread_once(&driver_once, driver_init);
  rc = store_new(url, cfg, &st, errbuf, errlen);
  if (rc == 0)
    rc = first_contact(st, errbuf, errlen);
  if (rc != 0) {
    if (st != NULL)
      store_free(st);
    return rc;
  }
  msvc__set_error(errbuf, errlen, "%s", "");
  *ctx = st;
  return 0;
}

static void mongo_close(void *ctx) {
  if (ctx != NULL)
    store_free(ctx);
}

/* Also makes the indexes if they are still missing, so that a service
 * whose readiness probe passes can enforce unique emails. */
static int mongo_ping(void *ctx) {
  mongo_store_t *st = ctx;
  mongoc_client_t *c = mongoc_client_pool_pop(st->pool);
  bson_error_t err;
  int rc;
  if (c == NULL)
    return MSVC_EUNAVAIL;
  rc = server_ping(c, &err);
  if (rc == 0)
    rc = ensure_indexes(st, c, 1);
  release(st, c);
  return rc;
}

/* ---- users ------------------------------------------------------------- */

static void append_user_fields(bson_t *b, const msvc_user_record_t *rec) {
  BSON_APPEND_UTF8(b, "name", rec->user->name);
  BSON_APPEND_UTF8(b, "email", rec->user->email);
  BSON_APPEND_UTF8(b, "password", rec->password_hash);
}

static int mongo_user_insert(void *ctx, const msvc_user_record_t *rec) {
  mongoc_client_t *c;
  bson_t doc;
  int rc = id_filter(&doc, rec->user->id);
  if (rc == 0)
    rc = acquire(ctx, 1, &c);
  if (rc == 0) {
    append_user_fields(&doc, rec);
    BSON_APPEND_DATE_TIME(&doc, "created_at", rec->user->created_at);
    BSON_APPEND_DATE_TIME(&doc, "updated_at", rec->user->updated_at);
    if (rec->tokens_valid_after != 0) /* else the seed's shape, unchanged */
      BSON_APPEND_DATE_TIME(&doc, "tokens_valid_after",
                            rec->tokens_valid_after);
    rc = insert_doc(ctx, c, USERS, &doc);
    release(ctx, c);
  }
  bson_destroy(&doc);
  return rc;
}

static int find_user(mongo_store_t *st, const bson_t *filter,
                     msvc_user_record_t *out) {
  mongoc_client_t *c;
  bson_t doc = BSON_INITIALIZER;
  int rc = acquire(st, 0, &c);
  if (rc == 0) {
    rc = find_one(st, c, USERS, filter, &doc);
    release(st, c);
  }
  if (rc == 0)
    rc = record_from_doc(&doc, out);
  bson_destroy(&doc);
  return rc;
}

static int mongo_user_find_by_id(void *ctx, const char *id,
                                 msvc_user_record_t *out) {
  bson_t filter;
  int rc = id_filter(&filter, id);
  if (rc == 0)
    rc = find_user(ctx, &filter, out);
  bson_destroy(&filter);
  return rc == MSVC_EINVAL ? MSVC_ENOTFOUND : rc;
}

static int mongo_user_find_by_email(void *ctx, const char *email,
                                    msvc_user_record_t *out) {
  bson_t filter = BSON_INITIALIZER;
  int rc;
  BSON_APPEND_UTF8(&filter, "email", email);
  rc = find_user(ctx, &filter, out);
  bson_destroy(&filter);
  return rc;
}

/* tokens_valid_after 0 is stored as no field at all, as the seed's
 * documents have it. */
static int mongo_user_update(void *ctx, const msvc_user_record_t *rec) {
  mongoc_client_t *c;
  bson_t update = BSON_INITIALIZER, set, unset;
  int rc;
  BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
  append_user_fields(&set, rec);
  BSON_APPEND_DATE_TIME(&set, "updated_at", rec->user->updated_at);
  if (rec->tokens_valid_after != 0)
    BSON_APPEND_DATE_TIME(&set, "tokens_valid_after", rec->tokens_valid_after);
  bson_append_document_end(&update, &set);
  if (rec->tokens_valid_after == 0) {
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$unset", &unset);
    BSON_APPEND_UTF8(&unset, "tokens_valid_after", "");
    bson_append_document_end(&update, &unset);
  }
  rc = acquire(ctx, 1, &c);
  if (rc == 0) {
    rc = update_by_id(ctx, c, USERS, rec->user->id, &update);
    release(ctx, c);
  }
  bson_destroy(&update);
  return rc;
}

typedef struct user_batch {
  msvc_user_t *const *out;
  size_t n, cap;
} user_batch_t;

static int collect_user(const bson_t *doc, void *arg) {
  user_batch_t *b = arg;
  int rc;
  if (b->n == b->cap)
    return 0; /* ids were duplicated and the server repeated a match */
  rc = user_from_doc(doc, b->out[b->n]);
  if (rc == MSVC_ENOTFOUND)
    return 0;
  if (rc == 0)
    b->n++;
  return rc;
}

/* {_id: {$in: [ObjectId...]}} over the valid ids; 0 when there are none. */
static size_t ids_filter(bson_t *filter, const msvc_id_t *ids, size_t n) {
  bson_t in, list;
  size_t count = 0;
  bson_init(filter);
  BSON_APPEND_DOCUMENT_BEGIN(filter, "_id", &in);
  BSON_APPEND_ARRAY_BEGIN(&in, "$in", &list);
  for (size_t i = 0; i < n; i++) {
    char key[16];
    const char *k;
    bson_oid_t oid;
    if (oid_from_hex(ids[i].hex, &oid) != 0)
      continue;
    bson_uint32_to_string((uint32_t)count, &k, key, sizeof(key));
    bson_append_oid(&list, k, -1, &oid);
    count++;
  }
  bson_append_array_end(&in, &list);
  bson_append_document_end(filter, &in);
  return count;
}

static int mongo_users_find_many(void *ctx, const msvc_id_t *ids, size_t n,
                                 msvc_user_t *const *out, size_t *nout) {
  user_batch_t batch = {out, 0, n};
  mongoc_client_t *c;
  bson_t filter;
  int rc = 0;
  *nout = 0;
  if (ids_filter(&filter, ids, n) > 0) {
    rc = acquire(ctx, 0, &c);
    if (rc == 0) {
      rc = run_find(ctx, c, USERS, &filter, NULL, collect_user, &batch);
      release(ctx, c);
    }
  }
  bson_destroy(&filter);
  if (rc == 0)
    *nout = batch.n;
  return rc;
}

/* ---- posts ------------------------------------------------------------- */

static int mongo_post_insert(void *ctx, const msvc_post_t *post) {
  mongoc_client_t *c;
  bson_t doc;
  int rc = id_filter(&doc, post->id);
  if (rc == 0)
    rc = acquire(ctx, 0, &c);
  if (rc == 0) {
    append_ref(&doc, "user_id", post->user_id);
    BSON_APPEND_UTF8(&doc, "title", post->title);
    BSON_APPEND_UTF8(&doc, "content", post->content);
    BSON_APPEND_DATE_TIME(&doc, "created_at", post->created_at);
    BSON_APPEND_DATE_TIME(&doc, "updated_at", post->updated_at);
    rc = insert_doc(ctx, c, POSTS, &doc);
    release(ctx, c);
  }
  bson_destroy(&doc);
  return rc;
}

static int mongo_post_find(void *ctx, const char *id, msvc_post_t *out) {
  mongoc_client_t *c;
  bson_t filter, doc = BSON_INITIALIZER;
  int rc = id_filter(&filter, id);
  if (rc == 0)
    rc = acquire(ctx, 0, &c);
  if (rc == 0) {
    rc = find_one(ctx, c, POSTS, &filter, &doc);
    release(ctx, c);
  }
  if (rc == 0)
    rc = post_from_doc(&doc, out);
  bson_destroy(&doc);
  bson_destroy(&filter);
  return rc == MSVC_EINVAL ? MSVC_ENOTFOUND : rc;
}

static int mongo_post_update(void *ctx, const msvc_post_t *post) {
  mongoc_client_t *c;
  bson_t update = BSON_INITIALIZER, set;
  int rc;
  BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
  BSON_APPEND_UTF8(&set, "title", post->title);
  BSON_APPEND_UTF8(&set, "content", post->content);
  BSON_APPEND_DATE_TIME(&set, "updated_at", post->updated_at);
  bson_append_document_end(&update, &set);
  rc = acquire(ctx, 0, &c);
  if (rc == 0) {
    rc = update_by_id(ctx, c, POSTS, post->id, &update);
    release(ctx, c);
  }
  bson_destroy(&update);
  return rc;
}

static int mongo_post_delete(void *ctx, const char *id) {
  mongoc_client_t *c;
  int rc = acquire(ctx, 0, &c);
  if (rc == 0) {
    rc = delete_by_id(ctx, c, POSTS, id);
    release(ctx, c);
  }
  return rc == MSVC_EINVAL ? MSVC_ENOTFOUND : rc;
}

/* The listing filter: an optional author, and the keyset condition
 * "strictly older than the cursor" in (created_at DESC, _id DESC) order:
 * {$or: [{created_at: {$lt: c}}, {created_at: c, _id: {$lt: id}}]}. */
static int list_filter(bson_t *filter, const msvc_post_query_t *q) {
  bson_t alts, older, same, lt;
  bson_oid_t oid;
  bson_init(filter);
  if (q->user_id[0] != '\0')
    append_ref(filter, "user_id", q->user_id);
  if (!q->has_cursor)
    return 0;
  if (oid_from_hex(q->cursor.id, &oid) != 0)
    return MSVC_EINVAL;
  BSON_APPEND_ARRAY_BEGIN(filter, "$or", &alts);
  BSON_APPEND_DOCUMENT_BEGIN(&alts, "0", &older);
  BSON_APPEND_DOCUMENT_BEGIN(&older, "created_at", &lt);
  BSON_APPEND_DATE_TIME(&lt, "$lt", q->cursor.created_at);
  bson_append_document_end(&older, &lt);
  bson_append_document_end(&alts, &older);
  BSON_APPEND_DOCUMENT_BEGIN(&alts, "1", &same);
  BSON_APPEND_DATE_TIME(&same, "created_at", q->cursor.created_at);
  BSON_APPEND_DOCUMENT_BEGIN(&same, "_id", &lt);
  BSON_APPEND_OID(&lt, "$lt", &oid);
  bson_append_document_end(&same, &lt);
  bson_append_document_end(&alts, &same);
  bson_append_array_end(filter, &alts);
  return 0;
}

typedef struct post_batch {
  msvc_post_t *const *out;
  size_t n, cap;
} post_batch_t;

static int collect_post(const bson_t *doc, void *arg) {
  post_batch_t *b = arg;
  int rc;
  if (b->n == b->cap)
    return 0;
  rc = post_from_doc(doc, b->out[b->n]);
  if (rc == MSVC_ENOTFOUND)
    return 0;
  if (rc == 0)
    b->n++;
  return rc;
}

static int mongo_post_list(void *ctx, const msvc_post_query_t *q,
                           msvc_post_t *const *out, size_t *nout) {
  post_batch_t batch = {out, 0, q->limit};
  mongoc_client_t *c;
  bson_t filter, opts = BSON_INITIALIZER, sort;
  int rc = list_filter(&filter, q);
  *nout = 0;
  BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
  BSON_APPEND_INT32(&sort, "created_at", -1);
  BSON_APPEND_INT32(&sort, "_id", -1);
  bson_append_document_end(&opts, &sort);
  BSON_APPEND_INT64(&opts, "limit", (int64_t)q->limit);
  if (rc == 0)
    rc = acquire(ctx, 0, &c);
  if (rc == 0) {
    rc = run_find(ctx, c, POSTS, &filter, &opts, collect_post, &batch);
    release(ctx, c);
  }
  bson_destroy(&opts);
  bson_destroy(&filter);
  if (rc == 0)
    *nout = batch.n;
  return rc;
}

/* ---- sessions ---------------------------------------------------------- */

/* A token hash at key; "" unless it is a string of a hash's length. */
static void get_hash(const bson_t *doc, const char *key,
                     char out[MSVC_HASH_SIZE]) {
  bson_iter_t it;
  uint32_t len = 0;
  const char *s;
  out[0] = '\0';
  if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_UTF8(&it))
    return;
  s = bson_iter_utf8(&it, &len);
  if (len == MSVC_HASH_SIZE - 1)
    memcpy(out, s, MSVC_HASH_SIZE);
}

/* The string at key, copied, or NULL when absent (an unknown user agent
 * stays unknown); -1 only when out of memory. */
static int get_opt_string(const bson_t *doc, const char *key, char **out) {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_UTF8(&it))
    return 0;
  *out = get_string(doc, key);
  return *out != NULL ? 0 : -1;
}

static int get_bool(const bson_t *doc, const char *key) {
  bson_iter_t it;
  return bson_iter_init_find(&it, doc, key) && bson_iter_as_bool(&it);
}

/* Fills a zeroed session, as user_from_doc does. */
static int session_from_doc(const bson_t *doc, msvc_session_t *out) {
  if (get_oid_hex(doc, "_id", out->id) != 0)
    return MSVC_ENOTFOUND;
  get_ref_hex(doc, "user_id", out->user_id);
  get_hash(doc, "token_hash", out->token_hash);
  get_hash(doc, "prev_hash", out->prev_hash);
  out->rotated_at = get_date(doc, "rotated_at");
  out->created_at = get_date(doc, "created_at");
  out->last_used_at = get_date(doc, "last_used_at");
  out->expires_at = get_date(doc, "expires_at");
  out->revoked = get_bool(doc, "revoked");
  if (get_opt_string(doc, "user_agent", &out->user_agent) != 0 ||
      get_opt_string(doc, "ip", &out->ip) != 0)
    return MSVC_ENOMEM;
  return 0;
}

/* The fields of a session after its _id.  user_id is a hex string, as
 * Post.user_id is, so that one kind of reference serves both. */
static void append_session_fields(bson_t *b, const msvc_session_t *s) {
  append_ref(b, "user_id", s->user_id);
  BSON_APPEND_UTF8(b, "token_hash", s->token_hash);
  BSON_APPEND_UTF8(b, "prev_hash", s->prev_hash);
  BSON_APPEND_DATE_TIME(b, "rotated_at", s->rotated_at);
  BSON_APPEND_DATE_TIME(b, "created_at", s->created_at);
  BSON_APPEND_DATE_TIME(b, "last_used_at", s->last_used_at);
  BSON_APPEND_DATE_TIME(b, "expires_at", s->expires_at);
  BSON_APPEND_BOOL(b, "revoked", s->revoked != 0);
  if (s->user_agent != NULL)
    BSON_APPEND_UTF8(b, "user_agent", s->user_agent);
  if (s->ip != NULL)
    BSON_APPEND_UTF8(b, "ip", s->ip);
}

/* Needs the indexes: the unique token_hash index decides a clash. */
static int mongo_session_insert(void *ctx, const msvc_session_t *s) {
  mongoc_client_t *c;
  bson_t doc;
  int rc = id_filter(&doc, s->id);
  if (rc == 0)
    rc = acquire(ctx, 1, &c);
  if (rc == 0) {
    append_session_fields(&doc, s);
    rc = insert_doc(ctx, c, SESSIONS, &doc);
    release(ctx, c);
  }
  bson_destroy(&doc);
  return rc;
}

static int find_session(mongo_store_t *st, const bson_t *filter,
                        msvc_session_t *out) {
  mongoc_client_t *c;
  bson_t doc = BSON_INITIALIZER;
  int rc = acquire(st, 0, &c);
  if (rc == 0) {
    rc = find_one(st, c, SESSIONS, filter, &doc);
    release(st, c);
  }
  if (rc == 0)
    rc = session_from_doc(&doc, out);
  bson_destroy(&doc);
  return rc;
}

static int mongo_session_find(void *ctx, const char *id, msvc_session_t *out) {
  bson_t filter;
  int rc = id_filter(&filter, id);
  if (rc == 0)
    rc = find_session(ctx, &filter, out);
  bson_destroy(&filter);
  return rc == MSVC_EINVAL ? MSVC_ENOTFOUND : rc;
}

/* {$or: [{token_hash: h}, {prev_hash: h}]}: each branch has its index. */
static int mongo_session_find_by_hash(void *ctx, const char *hash,
                                      msvc_session_t *out) {
  bson_t filter = BSON_INITIALIZER, alts, alt;
  int rc;
  BSON_APPEND_ARRAY_BEGIN(&filter, "$or", &alts);
  BSON_APPEND_DOCUMENT_BEGIN(&alts, "0", &alt);
  BSON_APPEND_UTF8(&alt, "token_hash", hash);
  bson_append_document_end(&alts, &alt);
  BSON_APPEND_DOCUMENT_BEGIN(&alts, "1", &alt);
  BSON_APPEND_UTF8(&alt, "prev_hash", hash);
  bson_append_document_end(&alts, &alt);
  bson_append_array_end(&filter, &alts);
  rc = find_session(ctx, &filter, out);
  bson_destroy(&filter);
  return rc;
}

/* update_one or update_many of Session; the documents matched in
 * *matched. */
static int update_where(const mongo_store_t *st, mongoc_client_t *c,
                        const bson_t *filter, const bson_t *update, int many,
                        int64_t *matched) {
  mongoc_collection_t *coll = mongoc_client_get_collection(c, st->db, SESSIONS);
  bson_t reply;
  bson_error_t err;
  int ok = many ? mongoc_collection_update_many(coll, filter, update, NULL,
                                                &reply, &err)
                : mongoc_collection_update_one(coll, filter, update, NULL,
                                               &reply, &err);
  int rc = ok ? 0 : map_error(&err);
  *matched = rc == 0 ? reply_count(&reply, "matchedCount") : 0;
  bson_destroy(&reply);
  mongoc_collection_destroy(coll);
  return rc;
}

/* The rotation's compare-and-set: only a session that is not revoked and
 * still has old_hash matches, and MongoDB applies the filter and the
 * update to a document atomically. */
static int rotate_where(mongo_store_t *st, mongoc_client_t *c, const char *id,
                        const char *old_hash, const char *new_hash, int64_t now,
                        int64_t expires_at) {
  bson_t filter, update = BSON_INITIALIZER, set;
  int64_t matched = 0;
  int rc = id_filter(&filter, id);
  BSON_APPEND_UTF8(&filter, "token_hash", old_hash);
  BSON_APPEND_BOOL(&filter, "revoked", false);
  BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
  BSON_APPEND_UTF8(&set, "prev_hash", old_hash);
  BSON_APPEND_UTF8(&set, "token_hash", new_hash);
  BSON_APPEND_DATE_TIME(&set, "rotated_at", now);
  BSON_APPEND_DATE_TIME(&set, "last_used_at", now);
  BSON_APPEND_DATE_TIME(&set, "expires_at", expires_at);
  bson_append_document_end(&update, &set);
  if (rc == 0)
    rc = update_where(st, c, &filter, &update, 0, &matched);
  if (rc == 0 && matched == 0)
    rc = MSVC_ENOTFOUND;
  bson_destroy(&update);
  bson_destroy(&filter);
  return rc;
}

/* {_id: old_hash} in the rotation locks: inserted (taken) or deleted. */
static int rotation_lock(const mongo_store_t *st, mongoc_client_t *c,
                         const char *old_hash, int take) {
  mongoc_collection_t *coll =
      mongoc_client_get_collection(c, st->db, ROTATION_LOCKS);
  bson_t doc = BSON_INITIALIZER;
  bson_error_t err;
  int rc = 0;
  BSON_APPEND_UTF8(&doc, "_id", old_hash);
  if (take && !mongoc_collection_insert_one(coll, &doc, NULL, NULL, &err))
    rc = map_error(&err);
  else if (!take && !mongoc_collection_delete_one(coll, &doc, NULL, NULL, &err))
    rc = map_error(&err);
  bson_destroy(&doc);
  mongoc_collection_destroy(coll);
  return rc;
}

/* FerretDB 1.x reads the matching document, then rewrites it by _id, so
 * two rotations from one hash could both match.  There the unique _id of
 * a lock document named after old_hash lets one caller at a time try; a
 * caller that finds it taken has lost (the holder either moves the hash
 * on, or fails on the same filter).  The lock goes once the update is
 * done: a later caller then reads the new hash and finds no match. */
static int rotate_guarded(mongo_store_t *st, mongoc_client_t *c, const char *id,
                          const char *old_hash, const char *new_hash,
                          int64_t now, int64_t expires_at) {
  int rc = rotation_lock(st, c, old_hash, 1);
  if (rc == MSVC_EEXIST)
    return MSVC_ENOTFOUND;
  if (rc != 0)
    return rc;
  rc = rotate_where(st, c, id, old_hash, new_hash, now, expires_at);
  (void)rotation_lock(st, c, old_hash, 0); /* a stale lock only blocks a
                                              hash that was retired */
  return rc;
}

/* Needs the indexes: the unique token_hash index, and the server check
 * made with them. */
static int mongo_session_rotate(void *ctx, const char *id, const char *old_hash,
                                const char *new_hash, int64_t now,
                                int64_t expires_at) {
  mongo_store_t *st = ctx;
  mongoc_client_t *c;
  int rc = acquire(st, 1, &c);
  if (rc != 0)
    return rc;
  if (atomic_load(&st->updates_not_atomic))
    rc = rotate_guarded(st, c, id, old_hash, new_hash, now, expires_at);
  else
    rc = rotate_where(st, c, id, old_hash, new_hash, now, expires_at);
  release(st, c);
  return rc == MSVC_EINVAL ? MSVC_ENOTFOUND : rc;
}

/* {user_id, revoked: false} and, with an id, {_id: id} or {_id: {$ne:
 * id}}: only sessions still open count as changed. */
static int revoke_filter(bson_t *filter, const char *user_id, const char *id,
                         int except) {
  bson_t ne;
  bson_oid_t oid;
  bson_init(filter);
  append_ref(filter, "user_id", user_id);
  BSON_APPEND_BOOL(filter, "revoked", false);
  if (id == NULL)
    return 0;
  if (oid_from_hex(id, &oid) != 0)
    return MSVC_EINVAL;
  if (!except) {
    BSON_APPEND_OID(filter, "_id", &oid);
    return 0;
  }
  BSON_APPEND_DOCUMENT_BEGIN(filter, "_id", &ne);
  BSON_APPEND_OID(&ne, "$ne", &oid);
  bson_append_document_end(filter, &ne);
  return 0;
}

static int mongo_sessions_revoke(void *ctx, const char *user_id, const char *id,
                                 int except, size_t *n) {
  mongoc_client_t *c;
  bson_t filter, update = BSON_INITIALIZER, set;
  int64_t matched = 0;
  int rc = revoke_filter(&filter, user_id, id, except);
  BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
  BSON_APPEND_BOOL(&set, "revoked", true);
  bson_append_document_end(&update, &set);
  if (rc == 0)
    rc = acquire(ctx, 0, &c);
  if (rc == 0) {
    rc = update_where(ctx, c, &filter, &update, 1, &matched);
    release(ctx, c);
  }
  bson_destroy(&update);
  bson_destroy(&filter);
  if (rc == 0 && n != NULL)
    *n = (size_t)matched;
  return rc;
}

typedef struct session_batch {
  msvc_session_t *const *out;
  size_t n, cap;
} session_batch_t;

static int collect_session(const bson_t *doc, void *arg) {
  session_batch_t *b = arg;
  int rc;
  if (b->n == b->cap)
    return 0;
  rc = session_from_doc(doc, b->out[b->n]);
  if (rc == MSVC_ENOTFOUND)
    return 0;
  if (rc == 0)
    b->n++;
  return rc;
}

/* Newest first on the (user_id, created_at, _id) index. */
static int mongo_sessions_list(void *ctx, const char *user_id, int64_t now,
                               msvc_session_t *const *out, size_t max,
                               size_t *nout) {
  session_batch_t batch = {out, 0, max};
  mongoc_client_t *c;
  bson_t filter = BSON_INITIALIZER, gt, opts = BSON_INITIALIZER, sort;
  int rc;
  *nout = 0;
  append_ref(&filter, "user_id", user_id);
  BSON_APPEND_BOOL(&filter, "revoked", false);
  BSON_APPEND_DOCUMENT_BEGIN(&filter, "expires_at", &gt);
  BSON_APPEND_DATE_TIME(&gt, "$gt", now);
  bson_append_document_end(&filter, &gt);
  BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
  BSON_APPEND_INT32(&sort, "created_at", -1);
  BSON_APPEND_INT32(&sort, "_id", -1);
  bson_append_document_end(&opts, &sort);
  BSON_APPEND_INT64(&opts, "limit", max > INT64_MAX ? INT64_MAX : (int64_t)max);
  rc = acquire(ctx, 0, &c);
  if (rc == 0) {
    rc = run_find(ctx, c, SESSIONS, &filter, &opts, collect_session, &batch);
    release(ctx, c);
  }
  bson_destroy(&opts);
  bson_destroy(&filter);
  if (rc == 0)
    *nout = batch.n;
  return rc;
}

/* ---- events ------------------------------------------------------------
 * {_id: ObjectId(id), key, at, expires_at}: inserted, counted and deleted,
 * never updated, so FerretDB's read-then-write updates cannot lose one.
 * The TTL index drops expired events on MongoDB; event_delete also drops
 * them now and then, for servers without TTL monitors. */

static int mongo_event_add(void *ctx, const char *key, const char *id,
                           int64_t at, int64_t expires_at) {
  mongoc_client_t *c;
  bson_t doc;
  int rc = id_filter(&doc, id);
  if (rc == 0)
    rc = acquire(ctx, 0, &c);
  if (rc == 0) {
    BSON_APPEND_UTF8(&doc, "key", key);
    BSON_APPEND_DATE_TIME(&doc, "at", at);
    BSON_APPEND_DATE_TIME(&doc, "expires_at", expires_at);
    rc = insert_doc(ctx, c, EVENTS, &doc);
    release(ctx, c);
  }
  bson_destroy(&doc);
  return rc;
}

typedef struct event_tally {
  bson_oid_t exclude;
  int has_exclude;
  int64_t count, latest;
} event_tally_t;

static int tally_event(const bson_t *doc, void *arg) {
  event_tally_t *t = arg;
  bson_iter_t it;
  int64_t at = get_date(doc, "at");
  t->count++;
  if (t->has_exclude && bson_iter_init_find(&it, doc, "_id") &&
      BSON_ITER_HOLDS_OID(&it) &&
      bson_oid_equal(bson_iter_oid(&it), &t->exclude))
    return 0;
  if (at > t->latest)
    t->latest = at;
  return 0;
}

/* One find over the key's recent events (the (key, at) index); a key
 * holds few: the limits that use them stop well before thousands. */
static int mongo_event_stats(void *ctx, const char *key, int64_t since,
                             const char *exclude, int64_t *count,
                             int64_t *latest) {
  mongoc_client_t *c;
  bson_t filter = BSON_INITIALIZER, range, opts = BSON_INITIALIZER, proj;
  event_tally_t t;
  int rc;
  memset(&t, 0, sizeof(t));
  t.has_exclude = exclude != NULL && oid_from_hex(exclude, &t.exclude) == 0;
  BSON_APPEND_UTF8(&filter, "key", key);
  BSON_APPEND_DOCUMENT_BEGIN(&filter, "at", &range);
  BSON_APPEND_DATE_TIME(&range, "$gt", since);
  bson_append_document_end(&filter, &range);
  BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
  BSON_APPEND_INT32(&proj, "at", 1);
  bson_append_document_end(&opts, &proj);
  rc = acquire(ctx, 0, &c);
  if (rc == 0) {
    rc = run_find(ctx, c, EVENTS, &filter, &opts, tally_event, &t);
    release(ctx, c);
  }
  bson_destroy(&opts);
  bson_destroy(&filter);
  if (rc == 0) {
    *count = t.count;
    *latest = t.latest;
  }
  return rc;
}

static int delete_events(const mongo_store_t *st, mongoc_client_t *c,
                         const bson_t *filter) {
  mongoc_collection_t *coll = mongoc_client_get_collection(c, st->db, EVENTS);
  bson_error_t err;
  int rc = 0;
  if (!mongoc_collection_delete_many(coll, filter, NULL, NULL, &err))
    rc = map_error(&err);
  mongoc_collection_destroy(coll);
  return rc;
}

static int mongo_event_delete(void *ctx, const char *key, const char *id,
                              int64_t now) {
  static atomic_uint calls;
  mongoc_client_t *c;
  bson_t filter = BSON_INITIALIZER, expired = BSON_INITIALIZER, le;
  int rc = 0;
  if (id != NULL)
    rc = id_filter(&filter, id);
  BSON_APPEND_UTF8(&filter, "key", key);
  if (rc == 0)
    rc = acquire(ctx, 0, &c);
  if (rc == 0) {
    rc = delete_events(ctx, c, &filter);
    if (rc == 0 && atomic_fetch_add(&calls, 1u) % 64 == 0) {
      BSON_APPEND_DOCUMENT_BEGIN(&expired, "expires_at", &le);
      BSON_APPEND_DATE_TIME(&le, "$lte", now);
      bson_append_document_end(&expired, &le);
      rc = delete_events(ctx, c, &expired);
    }
    release(ctx, c);
  }
  bson_destroy(&expired);
  bson_destroy(&filter);
  return rc;
}

static const msvc_store_methods_t mongo_methods = {
    .version = MSVC_STORE_VERSION,
    .name = "mongodb",
    .flags = 0,
    .open = mongo_open,
    .close = mongo_close,
    .ping = mongo_ping,
    .user_insert = mongo_user_insert,
    .user_find_by_id = mongo_user_find_by_id,
    .user_find_by_email = mongo_user_find_by_email,
    .user_update = mongo_user_update,
    .users_find_many = mongo_users_find_many,
    .post_insert = mongo_post_insert,
    .post_find = mongo_post_find,
    .post_update = mongo_post_update,
    .post_delete = mongo_post_delete,
    .post_list = mongo_post_list,
    .session_insert = mongo_session_insert,
    .session_find = mongo_session_find,
    .session_find_by_hash = mongo_session_find_by_hash,
    .session_rotate = mongo_session_rotate,
    .sessions_revoke = mongo_sessions_revoke,
    .sessions_list = mongo_sessions_list,
    .event_add = mongo_event_add,
    .event_stats = mongo_event_stats,
    .event_delete = mongo_event_delete,
};

const msvc_store_methods_t *msvc_store_mongo(void) {
  return &mongo_methods;
}

/* Whether msvc_mongo_register() put each scheme in the registry.  The
 * registry only answers MSVC_EEXIST, so this is how a second call tells
 * its own earlier registration (success) from a scheme another table
 * holds (still MSVC_EEXIST).  Under register_lock. */
static pthread_mutex_t register_lock = PTHREAD_MUTEX_INITIALIZER;
static int registered_here[2];
static const char *const schemes[2] = {"mongodb", "mongodb+srv"};

int msvc_mongo_register(void) {
  int rc = 0;
  pthread_mutex_lock(&register_lock);
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(schemes) && rc == 0; i++) {
    rc = msvc_store_register(schemes[i], &mongo_methods);
    if (rc == 0)
      registered_here[i] = 1;
    else if (rc == MSVC_EEXIST && registered_here[i])
      rc = 0;
  }
  pthread_mutex_unlock(&register_lock);
  return rc;
}
