/* test_store_sqlite.c - what only the SQLite backend promises, beyond the
 * shared contract that tests/store/conformance.c checks: the URL forms,
 * WAL mode and the schema version on disk, migration of a version-1 file
 * written as libmsvc 0.1 wrote it (to version 2: sessions and the users'
 * token cut-off), a version-2 file with a session reopening, refusal of a
 * newer one, private file modes, query plans that use the indexes (the
 * session statements' too), data surviving a reopen and a
 * kill -9 right after a write, readable errors for unusable paths, busy
 * writes turning into MSVC_EUNAVAIL, and the connection pool's bound under
 * 16 threads.  The database files are inspected with a connection of the
 * test's own, next to the store's.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "domain/idgen.h"
#include "store/sqlite.h"
#include "testutil.h"

static char tmpdir[256];
static msvc__idgen_t *gen;

/* ---- helpers ----------------------------------------------------------- */

static void path_in_tmp(char *out, size_t size, const char *name) {
  snprintf(out, size, "%s/%s", tmpdir, name);
}

static msvc_store_t *open_ok(const char *url, const msvc_store_config_t *cfg) {
  msvc_store_t *s = NULL;
  char err[256] = "";
  int rc = msvc_store_open(url, cfg, &s, err, sizeof(err));
  if (rc != 0)
    fprintf(stderr, "open %s: %s: %s\n", url, msvc_err_name(rc), err);
  CHECK_EQ_INT(rc, 0);
  return s;
}

/* Opening url fails with `want`, and the reason mentions `needle`. */
static void open_fails(const char *url, int want, const char *needle) {
  msvc_store_t *s = NULL;
  char err[512] = "";
  int rc = msvc_store_open(url, NULL, &s, err, sizeof(err));
  CHECK_EQ_INT(rc, want);
  CHECK(s == NULL);
  if (strstr(err, needle) == NULL)
    fprintf(stderr, "open %s: \"%s\" lacks \"%s\"\n", url, err, needle);
  CHECK(strstr(err, needle) != NULL);
  msvc_store_close(s);
}

static const char grace_hash[] =
    "$2b$10$C9XWPSw9uHefbp35dpHrMuIcK8Dcyy.GaJegqQGYGaJ007wCr3z4u";

static void *xcheck(void *p) {
  if (p == NULL) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return p;
}

/* A new record (free with msvc_user_record_free) for a user "Grace". */
static msvc_user_record_t *user_at(const char *email) {
  msvc_user_record_t *rec = NULL;
  char id[MSVC_ID_SIZE];
  if (msvc_user_record_new(&rec) != 0)
    xcheck(NULL);
  msvc__idgen_next(gen, id);
  if (msvc_user_set(rec->user, id, "Grace", email, 1706258964000,
                    1706258964000) != 0)
    xcheck(NULL);
  rec->password_hash = xcheck(strdup(grace_hash));
  return rec;
}

/* An empty record to read into. */
static msvc_user_record_t *user_out(void) {
  msvc_user_record_t *rec = NULL;
  if (msvc_user_record_new(&rec) != 0)
    xcheck(NULL);
  return rec;
}

/* A new post (free with msvc_post_free). */
static msvc_post_t *post_by(const char *author, int64_t at) {
  msvc_post_t *p = NULL;
  if (msvc_post_new(&p) != 0)
    xcheck(NULL);
  msvc__idgen_next(gen, p->id);
  memcpy(p->user_id, author, MSVC_ID_SIZE);
  p->title = xcheck(strdup("t"));
  p->content = xcheck(strdup("c"));
  p->created_at = p->updated_at = at;
  return p;
}

static int insert_user(msvc_store_t *s, const char *email, char *id_out) {
  msvc_user_record_t *rec = user_at(email);
  int rc = msvc_store_user_insert(s, rec);
  if (id_out != NULL)
    memcpy(id_out, rec->user->id, MSVC_ID_SIZE);
  msvc_user_record_free(rec);
  return rc;
}

static int insert_post(msvc_store_t *s, const char *author, int64_t at) {
  msvc_post_t *p = post_by(author, at);
  int rc = msvc_store_post_insert(s, p);
  msvc_post_free(p);
  return rc;
}

/* A session of user_id (free with msvc_session_free) with a random
 * token hash. */
static msvc_session_t *session_of(const char *user_id, int64_t at) {
  msvc_session_t *s = NULL;
  if (msvc_session_new(&s) != 0 ||
      msvc__random_hex(s->token_hash, (MSVC_HASH_SIZE - 1) / 2) != 0)
    xcheck(NULL);
  msvc__idgen_next(gen, s->id);
  memcpy(s->user_id, user_id, MSVC_ID_SIZE);
  s->created_at = s->last_used_at = at;
  s->expires_at = at + 86400000;
  s->user_agent = xcheck(strdup("curl/7.88.1"));
  return s;
}

static sqlite3 *raw_open(const char *path) {
  sqlite3 *db = NULL;
  CHECK_EQ_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
               SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  return db;
}

/* The first column of the first row as text, into out. */
static void raw_text(sqlite3 *db, const char *sql, char *out, size_t size) {
  sqlite3_stmt *s = NULL;
  out[0] = '\0';
  CHECK_EQ_INT(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
    snprintf(out, size, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
}

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* ---- URLs and files ---------------------------------------------------- */

static void test_url_forms(void) {
  char path[512], url[600], email[] = "url@example.com", id[MSVC_ID_SIZE];
  msvc_user_record_t *got = user_out();
  msvc_store_t *s;
  struct stat st;
  path_in_tmp(path, sizeof(path), "deep/er/forms.db");
  snprintf(url, sizeof(url), "sqlite:%s", path);
  s = open_ok(url, NULL);
  if (s == NULL)
    return;
  CHECK_EQ_STR(msvc_store_name(s), "sqlite");
  CHECK(msvc_store_reads_are_local(s));
  CHECK_EQ_INT(insert_user(s, email, id), 0);
  msvc_store_close(s);

  /* The directories were made private: the file holds password hashes. */
  path_in_tmp(path, sizeof(path), "deep");
  CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
  CHECK_EQ_INT(st.st_mode & 0777, 0700);

  /* Every spelling of the same file reaches the same data. */
  /* Schemes are case-insensitive, as RFC 3986 has them. */
  const char *forms[] = {"file:%s/deep/er/forms.db?connection_limit=1",
                         "sqlite://%s/deep/er/forms.db",
                         "SQLite:%s/deep/er/forms.db",
                         "file://%s/deep/er/forms.db", "%s/deep/er/forms.db"};
  for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
    snprintf(url, sizeof(url), forms[i], tmpdir);
    s = open_ok(url, NULL);
    if (s == NULL)
      continue;
    CHECK_EQ_INT(msvc_store_user_find_by_email(s, email, got), 0);
    CHECK_EQ_STR(got->user->id, id);
    msvc_store_close(s);
  }
  msvc_user_record_free(got);
  path_in_tmp(path, sizeof(path), "deep/er/forms.db?connection_limit=1");
  CHECK(!file_exists(path));

  open_fails(":memory:", MSVC_EUNSUPPORTED, "memory");
  open_fails("sqlite::memory:", MSVC_EUNSUPPORTED, "memory");
  open_fails("file::memory:?cache=shared", MSVC_EUNSUPPORTED, "memory");
  open_fails("sqlite:", MSVC_ECONFIG, "no file path");
  open_fails("", MSVC_ECONFIG, "no file path");
}

static void test_unusable_paths(void) {
  char file[512], url[600], dir[512];
  FILE *f;
  path_in_tmp(file, sizeof(file), "plain-file");
  f = fopen(file, "w");
  CHECK(f != NULL);
  if (f == NULL)
    return;
  fputs("this is not a database, and it is long enough to have a header "
        "that SQLite reads and rejects\n",
        f);
  fclose(f);

  /* Below a regular file: neither the file nor a directory can be made. */
  snprintf(url, sizeof(url), "%s/x.db", file);
  open_fails(url, MSVC_EUNAVAIL, "Not a directory");
  open_fails(url, MSVC_EUNAVAIL, file);
  snprintf(url, sizeof(url), "%s/sub/x.db", file);
  open_fails(url, MSVC_EUNAVAIL, "cannot create directory");
  open_fails(url, MSVC_EUNAVAIL, "Not a directory");

  /* A directory, and a file that is not a database. */
  path_in_tmp(dir, sizeof(dir), "deep");
  open_fails(dir, MSVC_EUNAVAIL, "cannot open SQLite database");
  open_fails(file, MSVC_ESTORE, "file is not a database");
}

/* A file from a later library (one version ahead, or many) is refused
 * and left exactly as it was. */
static void test_newer_schema_refused(void) {
  const int versions[] = {MSVC__SQLITE_SCHEMA_VERSION + 1, 99};
  char path[512], version[32], want[32], sql[64];
  msvc_store_t *s;
  sqlite3 *db;
  path_in_tmp(path, sizeof(path), "newer.db");
  s = open_ok(path, NULL);
  if (s != NULL)
    CHECK_EQ_INT(insert_user(s, "kept@example.com", NULL), 0);
  msvc_store_close(s);
  for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
    db = raw_open(path);
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", versions[i]);
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    open_fails(path, MSVC_ECONFIG, "newer than this library");
    db = raw_open(path);
    raw_text(db, "PRAGMA user_version", version, sizeof(version));
    snprintf(want, sizeof(want), "%d", versions[i]);
    CHECK_EQ_STR(version, want);
    raw_text(db, "SELECT count(*) FROM \"User\"", version, sizeof(version));
    CHECK_EQ_STR(version, "1");
    sqlite3_close(db);
  }
}

/* The schema of libmsvc 0.1, exactly as it created files (user_version 1):
 * the test keeps its own copy so that a change to the library's step 1
 * cannot go unnoticed. */
static const char v1_schema[] =
    "CREATE TABLE IF NOT EXISTS \"User\" ("
    " id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL,"
    " email TEXT NOT NULL, password TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL"
    ") WITHOUT ROWID, STRICT;"
    "CREATE UNIQUE INDEX IF NOT EXISTS \"User_email_key\" ON \"User\"(email);"
    "CREATE TABLE IF NOT EXISTS \"Post\" ("
    " id TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL,"
    " title TEXT NOT NULL, content TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX IF NOT EXISTS \"Post_created_at_id_idx\""
    " ON \"Post\"(created_at DESC, id DESC);"
    "CREATE INDEX IF NOT EXISTS \"Post_user_id_created_at_id_idx\""
    " ON \"Post\"(user_id, created_at DESC, id DESC);";

enum { V1_USERS = 7, V1_POSTS = 23 };

/* Writes a version-1 file the way libmsvc 0.1 did: WAL, the schema and
 * user_version in one IMMEDIATE transaction, rows with its INSERTs. */
static void write_v1_file(const char *path, char ids[][MSVC_ID_SIZE],
                          char posts[][MSVC_ID_SIZE]) {
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  CHECK_EQ_INT(sqlite3_open_v2(
                   path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
               SQLITE_OK);
  CHECK_EQ_INT(sqlite3_exec(db, "PRAGMA journal_mode = WAL; BEGIN IMMEDIATE;",
                            NULL, NULL, NULL),
               SQLITE_OK);
  CHECK_EQ_INT(sqlite3_exec(db, v1_schema, NULL, NULL, NULL), SQLITE_OK);
  CHECK_EQ_INT(
      sqlite3_exec(db, "PRAGMA user_version = 1; COMMIT", NULL, NULL, NULL),
      SQLITE_OK);
  CHECK_EQ_INT(sqlite3_prepare_v2(db,
                                  "INSERT INTO \"User\" (id, name, email, "
                                  "password, created_at, updated_at) VALUES "
                                  "(?1, ?2, ?3, ?4, ?5, ?6)",
                                  -1, &s, NULL),
               SQLITE_OK);
  for (int i = 0; i < V1_USERS; i++) {
    char email[64], name[32];
    msvc__idgen_next(gen, ids[i]);
    snprintf(email, sizeof(email), "v1.%d@example.com", i);
    snprintf(name, sizeof(name), "V1 user %d \xc3\xa9", i);
    sqlite3_bind_text(s, 1, ids[i], -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, email, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, grace_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, 1706258964000 + i);
    sqlite3_bind_int64(s, 6, 1706258965000 + i);
    CHECK_EQ_INT(sqlite3_step(s), SQLITE_DONE);
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  CHECK_EQ_INT(sqlite3_prepare_v2(db,
                                  "INSERT INTO \"Post\" (id, user_id, title, "
                                  "content, created_at, updated_at) VALUES "
                                  "(?1, ?2, ?3, ?4, ?5, ?6)",
                                  -1, &s, NULL),
               SQLITE_OK);
  for (int i = 0; i < V1_POSTS; i++) {
    char title[32];
    msvc__idgen_next(gen, posts[i]);
    snprintf(title, sizeof(title), "v1 post %d", i);
    sqlite3_bind_text(s, 1, posts[i], -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, ids[i % V1_USERS], -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, title, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, "written by 0.1", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, 1706259000000 + i * 1000);
    sqlite3_bind_int64(s, 6, 1706259000000 + i * 1000 + 1);
    CHECK_EQ_INT(sqlite3_step(s), SQLITE_DONE);
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
}

static void check_v1_users(msvc_store_t *s, char ids[][MSVC_ID_SIZE]) {
  msvc_user_record_t *got = user_out();
  for (int i = 0; i < V1_USERS; i++) {
    char email[64], name[32];
    snprintf(email, sizeof(email), "v1.%d@example.com", i);
    snprintf(name, sizeof(name), "V1 user %d \xc3\xa9", i);
    CHECK_EQ_INT(msvc_store_user_find_by_id(s, ids[i], got), 0);
    CHECK_EQ_STR(got->user->email, email);
    CHECK_EQ_STR(got->user->name, name);
    CHECK_EQ_STR(got->password_hash, grace_hash);
    CHECK_EQ_INT(got->user->created_at, 1706258964000 + i);
    CHECK_EQ_INT(got->user->updated_at, 1706258965000 + i);
    CHECK_EQ_INT(got->tokens_valid_after, 0); /* migration 2's default */
    CHECK_EQ_INT(msvc_store_user_find_by_email(s, email, got), 0);
    CHECK_EQ_STR(got->user->id, ids[i]);
    CHECK_EQ_INT(got->tokens_valid_after, 0);
  }
  msvc_user_record_free(got);
}

/* Every post, newest first, with its fields. */
static void check_v1_posts(msvc_store_t *s, char ids[][MSVC_ID_SIZE],
                           char posts[][MSVC_ID_SIZE]) {
  msvc_post_query_t q = {.limit = MSVC_LIST_MAX_LIMIT};
  msvc_post_page_t *block = msvc__page_new();
  msvc_post_t **page = NULL;
  size_t n = 0;
  CHECK(block != NULL);
  if (block == NULL)
    return;
  CHECK_EQ_INT(msvc__page_alloc(block, q.limit, NULL), 0);
  page = block->posts;
  CHECK_EQ_INT(msvc_store_post_list(s, &q, page, &n), 0);
  CHECK_EQ_INT(n, V1_POSTS);
  for (size_t i = 0; i < n && i < V1_POSTS; i++) {
    size_t k = V1_POSTS - 1 - i;
    char title[32];
    snprintf(title, sizeof(title), "v1 post %zu", k);
    CHECK_EQ_STR(page[i]->id, posts[k]);
    CHECK_EQ_STR(page[i]->user_id, ids[k % V1_USERS]);
    CHECK_EQ_STR(page[i]->title, title);
    CHECK_EQ_STR(page[i]->content, "written by 0.1");
    CHECK_EQ_INT(page[i]->created_at, 1706259000000 + (int64_t)k * 1000);
    CHECK_EQ_INT(page[i]->updated_at, 1706259000000 + (int64_t)k * 1000 + 1);
  }
  CHECK_EQ_INT(msvc_store_post_find(s, posts[3], page[0]), 0);
  CHECK_EQ_STR(page[0]->title, "v1 post 3");
  msvc_post_page_free(block);
}

static void check_v1_sessions(msvc_store_t *s, const char *user_id);

/* A version-1 file written by libmsvc 0.1 opens, is migrated to the
 * current version, and every row is found, through two reopens. */
static void test_migrates_v1_file(void) {
  char path[512], ids[V1_USERS][MSVC_ID_SIZE], posts[V1_POSTS][MSVC_ID_SIZE];
  char text[32], want[32];
  msvc_store_t *s;
  sqlite3 *db;
  path_in_tmp(path, sizeof(path), "v1.db");
  write_v1_file(path, ids, posts);
  for (int round = 0; round < 2; round++) {
    s = open_ok(path, NULL);
    if (s == NULL)
      return;
    check_v1_users(s, ids);
    check_v1_posts(s, ids, posts);
    if (round == 0) {
      CHECK_EQ_INT(insert_user(s, "v1.0@example.com", NULL), MSVC_EEXIST);
      check_v1_sessions(s, ids[0]);
    }
    msvc_store_close(s);
  }
  db = raw_open(path);
  raw_text(db, "PRAGMA user_version", text, sizeof(text));
  snprintf(want, sizeof(want), "%d", MSVC__SQLITE_SCHEMA_VERSION);
  CHECK_EQ_STR(text, want);
  CHECK_EQ_STR(text, "3");
  raw_text(db, "SELECT count(*) FROM \"Post\"", text, sizeof(text));
  CHECK_EQ_STR(text, "23");
  raw_text(db, "SELECT count(*) FROM \"User\"", text, sizeof(text));
  CHECK_EQ_STR(text, "7");
  raw_text(db, "SELECT count(*) FROM \"Session\"", text, sizeof(text));
  CHECK_EQ_STR(text, "1");
  sqlite3_close(db);
}

/* A migrated file keeps sessions, and a user's token cut-off, like a new
 * one. */
static void check_v1_sessions(msvc_store_t *s, const char *user_id) {
  msvc_session_t *v = session_of(user_id, 1706259100000), *got = NULL;
  msvc_user_record_t *rec = user_out();
  CHECK_EQ_INT(msvc_session_new(&got), 0);
  CHECK_EQ_INT(msvc_store_session_insert(s, v), 0);
  CHECK_EQ_INT(msvc_store_session_find_by_hash(s, v->token_hash, got), 0);
  CHECK_EQ_STR(got->id, v->id);
  CHECK_EQ_STR(got->user_agent, "curl/7.88.1");
  CHECK(got->ip == NULL);
  CHECK_EQ_INT(msvc_store_user_find_by_id(s, user_id, rec), 0);
  rec->tokens_valid_after = 1706259200000;
  CHECK_EQ_INT(msvc_store_user_update(s, rec), 0);
  CHECK_EQ_INT(msvc_store_user_find_by_id(s, user_id, rec), 0);
  CHECK_EQ_INT(rec->tokens_valid_after, 1706259200000);
  rec->tokens_valid_after = 0;
  CHECK_EQ_INT(msvc_store_user_update(s, rec), 0);
  msvc_user_record_free(rec);
  msvc_session_free(got);
  msvc_session_free(v);
}

/* A file this library made, with a rotated session, reopens as it was (no step
 * runs again), and the session still rotates. */
static void test_reopens_v2_file(void) {
  char path[512], user[MSVC_ID_SIZE], next[MSVC_HASH_SIZE],
      last[MSVC_HASH_SIZE], text[32];
  msvc_session_t *v, *got = NULL;
  msvc_store_t *s;
  sqlite3 *db;
  path_in_tmp(path, sizeof(path), "v2.db");
  s = open_ok(path, NULL);
  if (s == NULL)
    return;
  CHECK_EQ_INT(insert_user(s, "v2@example.com", user), 0);
  v = session_of(user, 1706259300000);
  CHECK_EQ_INT(msvc__random_hex(next, (MSVC_HASH_SIZE - 1) / 2), 0);
  CHECK_EQ_INT(msvc__random_hex(last, (MSVC_HASH_SIZE - 1) / 2), 0);
  CHECK_EQ_INT(msvc_store_session_insert(s, v), 0);
  CHECK_EQ_INT(msvc_store_session_rotate(s, v->id, v->token_hash, next,
                                         1706259301000, 1706345701000),
               0);
  msvc_store_close(s);
  db = raw_open(path);
  raw_text(db, "PRAGMA user_version", text, sizeof(text));
  CHECK_EQ_STR(text, "3");
  sqlite3_close(db);

  s = open_ok(path, NULL);
  CHECK_EQ_INT(msvc_session_new(&got), 0);
  if (s != NULL) {
    CHECK_EQ_INT(msvc_store_session_find(s, v->id, got), 0);
    CHECK_EQ_STR(got->token_hash, next);
    CHECK_EQ_STR(got->prev_hash, v->token_hash);
    CHECK_EQ_INT(got->rotated_at, 1706259301000);
    CHECK_EQ_INT(got->created_at, 1706259300000);
    CHECK_EQ_INT(got->expires_at, 1706345701000);
    CHECK_EQ_STR(got->user_agent, "curl/7.88.1");
    CHECK_EQ_INT(msvc_store_session_find_by_hash(s, v->token_hash, got), 0);
    CHECK_EQ_STR(got->id, v->id);
    CHECK_EQ_INT(msvc_store_session_rotate(s, v->id, next, last, 1706259302000,
                                           1706345702000),
                 0);
    msvc_store_close(s);
  }
  msvc_session_free(got);
  msvc_session_free(v);
}

/* A version-0 file (made by SQLite, no schema) gets the whole schema. */
static void test_migrates_empty_file(void) {
  char path[512], text[32], want[32];
  msvc_store_t *s;
  sqlite3 *db = NULL;
  path_in_tmp(path, sizeof(path), "v0.db");
  CHECK_EQ_INT(sqlite3_open_v2(
                   path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
               SQLITE_OK);
  CHECK_EQ_INT(sqlite3_exec(db, "CREATE TABLE other (x); DROP TABLE other",
                            NULL, NULL, NULL),
               SQLITE_OK);
  sqlite3_close(db);
  s = open_ok(path, NULL);
  if (s != NULL)
    CHECK_EQ_INT(insert_user(s, "v0@example.com", NULL), 0);
  msvc_store_close(s);
  db = raw_open(path);
  raw_text(db, "PRAGMA user_version", text, sizeof(text));
  snprintf(want, sizeof(want), "%d", MSVC__SQLITE_SCHEMA_VERSION);
  CHECK_EQ_STR(text, want);
  sqlite3_close(db);
}

static int mode_of(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

/* With the usual umask (022), the database and its -wal and -shm files
 * are still private: they hold password hashes. */
static void test_files_are_private(void) {
  char path[512], side[600];
  mode_t old = umask(022);
  msvc_store_t *s;
  path_in_tmp(path, sizeof(path), "private/p.db");
  s = open_ok(path, NULL);
  if (s != NULL) {
    CHECK_EQ_INT(insert_user(s, "private@example.com", NULL), 0);
    CHECK_EQ_INT(mode_of(path), 0600);
    snprintf(side, sizeof(side), "%s-wal", path);
    CHECK_EQ_INT(mode_of(side), 0600);
    snprintf(side, sizeof(side), "%s-shm", path);
    CHECK_EQ_INT(mode_of(side), 0600);
    msvc_store_close(s);
  }
  path_in_tmp(path, sizeof(path), "private");
  CHECK_EQ_INT(mode_of(path), 0700);
  umask(old);
}

/* FULL unless the URL's query says normal; the last one wins, other
 * parameters are ignored and a bad value is refused. */
static void test_synchronous_from_url(void) {
  static const struct {
    const char *query;
    int full;
  } cases[] = {{"", 1},
               {"?synchronous=normal", 0},
               {"?connection_limit=1&SYNCHRONOUS=Normal", 0},
               {"?synchronous=normal&synchronous=full", 1},
               {"?synchronous=full", 1}};
  char path[512], url[700];
  path_in_tmp(path, sizeof(path), "sync.db");
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    msvc_store_t *s;
    snprintf(url, sizeof(url), "sqlite:%s%s", path, cases[i].query);
    s = open_ok(url, NULL);
    if (s == NULL)
      continue;
    CHECK_EQ_INT(msvc__sqlite_synchronous_full(s), cases[i].full);
    msvc_store_close(s);
  }
  snprintf(url, sizeof(url), "sqlite:%s?synchronous=off", path);
  open_fails(url, MSVC_ECONFIG, "synchronous must be full or normal");
}

/* ---- what is on disk ---------------------------------------------------- */

static void test_wal_and_schema(void) {
  static const char *objects[] = {"User",
                                  "Post",
                                  "User_email_key",
                                  "Post_created_at_id_idx",
                                  "Post_user_id_created_at_id_idx",
                                  "Session",
                                  "Session_token_hash_key",
                                  "Session_prev_hash_idx",
                                  "Session_user_id_created_at_idx"};
  char path[512], text[64], sql[160], want[16];
  msvc_store_t *s;
  sqlite3 *db;
  path_in_tmp(path, sizeof(path), "schema.db");
  for (int round = 0; round < 2; round++) { /* creation, then a reopen */
    s = open_ok(path, NULL);
    db = raw_open(path);
    raw_text(db, "PRAGMA journal_mode", text, sizeof(text));
    CHECK_EQ_STR(text, "wal");
    raw_text(db, "PRAGMA user_version", text, sizeof(text));
    snprintf(want, sizeof(want), "%d", MSVC__SQLITE_SCHEMA_VERSION);
    CHECK_EQ_STR(text, want);
    for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
      snprintf(sql, sizeof(sql),
               "SELECT count(*) FROM sqlite_schema WHERE name = '%s'",
               objects[i]);
      raw_text(db, sql, text, sizeof(text));
      CHECK_EQ_STR(text, "1");
    }
    raw_text(db,
             "SELECT \"unique\" FROM pragma_index_list('User')"
             " WHERE name = 'User_email_key'",
             text, sizeof(text));
    CHECK_EQ_STR(text, "1");
    raw_text(db,
             "SELECT \"unique\" FROM pragma_index_list('Session')"
             " WHERE name = 'Session_token_hash_key'",
             text, sizeof(text));
    CHECK_EQ_STR(text, "1");
    sqlite3_close(db);
    msvc_store_close(s);
  }
}

/* Every line of the statement's plan, joined by '|'. */
static void plan_of(sqlite3 *db, const char *sql, char *out, size_t size) {
  char explain[1024];
  sqlite3_stmt *s = NULL;
  size_t used = 0;
  out[0] = '\0';
  snprintf(explain, sizeof(explain), "EXPLAIN QUERY PLAN %s", sql);
  CHECK_EQ_INT(sqlite3_prepare_v2(db, explain, -1, &s, NULL), SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW && used < size) {
    const char *detail = (const char *)sqlite3_column_text(s, 3);
    used += (size_t)snprintf(out + used, size - used, "%s|",
                             detail != NULL ? detail : "");
  }
  sqlite3_finalize(s);
}

/* No full scan of a table and no sort outside an index: cost must not
 * grow with the number of rows. */
/* 1 when some step of the plan reads a whole table: a SCAN without an
 * index (an ordered index scan that stops at LIMIT is fine, and so is
 * json_each's list of ids).  Steps are separated by '|'. */
static int full_scan(const char *plan) {
  for (const char *p = strstr(plan, "SCAN "); p != NULL;
       p = strstr(p + 5, "SCAN ")) {
    const char *end = strchr(p, '|');
    size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
    char step[512];
    snprintf(step, sizeof(step), "%.*s", (int)n, p);
    if (strstr(step, " USING INDEX ") == NULL &&
        strstr(step, " USING COVERING INDEX ") == NULL &&
        strstr(step, " USING PRIMARY KEY") == NULL &&
        strstr(step, " VIRTUAL TABLE") == NULL) /* json_each's ids */
      return 1;
  }
  return 0;
}

/* The User join of every page-with-authors statement is a primary-key
 * probe per row. */
static void check_author_joins(sqlite3 *db) {
  static const int joins[] = {MSVC__SQL_POST_LIST_AUTHORS,
                              MSVC__SQL_POST_LIST_AUTHORS_BY_USER,
                              MSVC__SQL_POST_LIST_AUTHORS_FIRST,
                              MSVC__SQL_POST_LIST_AUTHORS_BY_USER_FIRST};
  char plan[2048];
  for (size_t i = 0; i < sizeof(joins) / sizeof(joins[0]); i++) {
    plan_of(db, msvc__sqlite_sql(joins[i]), plan, sizeof(plan));
    CHECK(strstr(plan, "SEARCH u USING PRIMARY KEY (id=?)") != NULL);
  }
}

static void check_plans(sqlite3 *db) {
  static const struct {
    int which;
    const char *must_use;
  } reads[] = {
      {MSVC__SQL_USER_BY_ID, "SEARCH User USING PRIMARY KEY (id=?)"},
      {MSVC__SQL_USER_BY_EMAIL, "USING INDEX User_email_key (email=?)"},
      {MSVC__SQL_USERS_MANY, "SEARCH User USING PRIMARY KEY (id=?)"},
      {MSVC__SQL_USER_UPDATE, "SEARCH User USING PRIMARY KEY (id=?)"},
      {MSVC__SQL_POST_FIND, "(id=?)"},
      {MSVC__SQL_POST_UPDATE, "(id=?)"},
      {MSVC__SQL_POST_DELETE, "(id=?)"},
      {MSVC__SQL_POST_LIST, "SEARCH Post USING INDEX Post_created_at_id_idx "
                            "((created_at,id)<(?,?))"},
      {MSVC__SQL_POST_LIST_BY_USER,
       "SEARCH Post USING INDEX Post_user_id_created_at_id_idx (user_id=? AND "
       "(created_at,id)<(?,?))"},
      {MSVC__SQL_POST_LIST_FIRST,
       "SCAN Post USING INDEX Post_created_at_id_idx"},
      {MSVC__SQL_POST_LIST_BY_USER_FIRST,
       "SEARCH Post USING INDEX Post_user_id_created_at_id_idx (user_id=?)"},
      {MSVC__SQL_POST_LIST_AUTHORS,
       "SEARCH p USING INDEX Post_created_at_id_idx ((created_at,id)<(?,?))"},
      {MSVC__SQL_POST_LIST_AUTHORS_BY_USER,
       "SEARCH p USING INDEX Post_user_id_created_at_id_idx (user_id=? AND "
       "(created_at,id)<(?,?))"},
      {MSVC__SQL_POST_LIST_AUTHORS_FIRST,
       "SCAN p USING INDEX Post_created_at_id_idx"},
      {MSVC__SQL_POST_LIST_AUTHORS_BY_USER_FIRST,
       "SEARCH p USING INDEX Post_user_id_created_at_id_idx (user_id=?)"},
      {MSVC__SQL_SESSION_FIND, "(id=?)"},
      {MSVC__SQL_SESSION_BY_HASH,
       "SEARCH Session USING INDEX Session_token_hash_key (token_hash=?)|"
       "INDEX 2|SEARCH Session USING INDEX Session_prev_hash_idx "
       "(prev_hash=?)"},
      {MSVC__SQL_SESSION_ROTATE, "SEARCH Session USING "},
      {MSVC__SQL_SESSIONS_REVOKE_ONE, "(id=?)"},
      {MSVC__SQL_SESSIONS_REVOKE_OTHERS,
       "SEARCH Session USING INDEX Session_user_id_created_at_idx (user_id=?)"},
      {MSVC__SQL_SESSIONS_REVOKE_ALL,
       "SEARCH Session USING INDEX Session_user_id_created_at_idx (user_id=?)"},
      {MSVC__SQL_SESSIONS_LIST,
       "SEARCH Session USING INDEX Session_user_id_created_at_idx (user_id=?)"},
  };
  char plan[2048];
  for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
    const char *sql = msvc__sqlite_sql(reads[i].which);
    plan_of(db, sql, plan, sizeof(plan));
    int scans = full_scan(plan);
    if (strstr(plan, reads[i].must_use) == NULL ||
        strstr(plan, "TEMP B-TREE") != NULL || scans)
      fprintf(stderr, "plan of %s:\n  %s\n", sql, plan);
    CHECK(strstr(plan, reads[i].must_use) != NULL);
    CHECK(strstr(plan, "TEMP B-TREE") == NULL);
    CHECK(!scans);
  }
  check_author_joins(db);
  CHECK(msvc__sqlite_sql(MSVC__SQL_COUNT) == NULL);
  CHECK(msvc__sqlite_sql(-1) == NULL);
}

/* The plans hold on an empty database, and still after ANALYZE of a
 * populated one (an operator may run it). */
static void test_query_plans(void) {
  char path[512], author[MSVC_ID_SIZE], email[64];
  msvc_store_t *s;
  sqlite3 *db;
  path_in_tmp(path, sizeof(path), "plans.db");
  s = open_ok(path, NULL);
  if (s == NULL)
    return;
  db = raw_open(path);
  check_plans(db);
  for (int i = 0; i < 300; i++) {
    char id[MSVC_ID_SIZE];
    snprintf(email, sizeof(email), "plan%d@example.com", i);
    CHECK_EQ_INT(insert_user(s, email, id), 0);
    if (i % 30 == 0)
      memcpy(author, id, MSVC_ID_SIZE);
    CHECK_EQ_INT(insert_post(s, author, 1700000000000 + i / 3), 0);
    if (i % 3 == 0) { /* sessions too, for ANALYZE to weigh */
      msvc_session_t *v = session_of(author, 1700000000000 + i);
      CHECK_EQ_INT(msvc_store_session_insert(s, v), 0);
      msvc_session_free(v);
    }
  }
  CHECK_EQ_INT(sqlite3_exec(db, "ANALYZE", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  db = raw_open(path); /* plans are made with the statistics loaded */
  check_plans(db);
  sqlite3_close(db);
  msvc_store_close(s);
}

static void test_reopen_keeps_data(void) {
  char path[512], wal[600], upper[MSVC_ID_SIZE], text[64], sql[128];
  msvc_user_record_t *rec = user_at("keep@example.com"), *got = user_out();
  msvc_post_t *p, *pgot = NULL;
  msvc_store_t *s;
  sqlite3 *db;
  path_in_tmp(path, sizeof(path), "reopen.db");
  snprintf(wal, sizeof(wal), "%s-wal", path);
  s = open_ok(path, NULL);
  if (s == NULL)
    return;
  /* Ids are stored lower-case whatever case they came in. */
  for (int i = 0; i < MSVC_ID_SIZE; i++)
    upper[i] = (char)(rec->user->id[i] >= 'a' ? rec->user->id[i] - 32
                                              : rec->user->id[i]);
  memcpy(rec->user->id, upper, MSVC_ID_SIZE);
  CHECK_EQ_INT(msvc_store_user_insert(s, rec), 0);
  p = post_by(upper, INT64_MAX); /* the newest possible post still lists */
  CHECK_EQ_INT(msvc_store_post_insert(s, p), 0);
  CHECK(file_exists(wal));
  msvc_store_close(s);
  CHECK(!file_exists(wal)); /* checkpointed and removed by the last close */

  s = open_ok(path, NULL);
  if (s == NULL)
    return;
  CHECK_EQ_INT(msvc_store_user_find_by_email(s, "keep@example.com", got), 0);
  msvc__ascii_lower(upper);
  CHECK_EQ_STR(got->user->id, upper);
  CHECK_EQ_INT(got->user->created_at, 1706258964000);
  msvc_post_query_t q = {.limit = 1};
  size_t n = 0;
  CHECK_EQ_INT(msvc_post_new(&pgot), 0);
  CHECK_EQ_INT(msvc_store_post_list(s, &q, &pgot, &n), 0);
  CHECK_EQ_INT(n, 1);
  if (n == 1) {
    CHECK_EQ_STR(pgot->id, p->id);
    CHECK_EQ_STR(pgot->user_id, upper);
    CHECK(pgot->created_at == INT64_MAX);
  }
  msvc_post_free(pgot);
  msvc_store_close(s);

  db = raw_open(path);
  snprintf(sql, sizeof(sql), "SELECT user_id FROM \"Post\" WHERE id = '%s'",
           p->id);
  raw_text(db, sql, text, sizeof(text));
  CHECK_EQ_STR(text, upper);
  sqlite3_close(db);
  msvc_post_free(p);
  msvc_user_record_free(rec);
  msvc_user_record_free(got);
}

/* A write that returned 0 survives the process being killed at once
 * (SIGKILL: no close, no checkpoint; the commit is in the WAL). */
static void test_kill_after_write_loses_nothing(void) {
  char path[512], email[] = "durable@example.com", ack = 0;
  msvc_user_record_t *rec = user_at(email), *got = user_out();
  msvc_store_t *s;
  int fds[2], status = 0;
  pid_t child;
  path_in_tmp(path, sizeof(path), "killed.db");
  CHECK_EQ_INT(pipe(fds), 0);
  child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    char rc = 1;
    if (msvc_store_open(path, NULL, &s, NULL, 0) == 0)
      rc = (char)(msvc_store_user_insert(s, rec) == 0 ? 0 : 2);
    if (write(fds[1], &rc, 1) != 1)
      _exit(3);
    for (;;)
      pause();
  }
  close(fds[1]);
  CHECK_EQ_INT(read(fds[0], &ack, 1), 1);
  CHECK_EQ_INT(ack, 0);
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  close(fds[0]);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  s = open_ok(path, NULL);
  if (s != NULL) {
    CHECK_EQ_INT(msvc_store_user_find_by_email(s, email, got), 0);
    CHECK_EQ_STR(got->user->id, rec->user->id);
    msvc_store_close(s);
  }
  msvc_user_record_free(rec);
  msvc_user_record_free(got);
}

/* ---- locking and the pool ----------------------------------------------- */

/* While another connection holds the write lock, writes give up after the
 * busy timeout with MSVC_EUNAVAIL, and reads go on (WAL). */
static void test_busy_write_is_unavailable(void) {
  char path[512];
  msvc_store_config_t cfg = MSVC_STORE_CONFIG_INIT;
  msvc_user_record_t *a = user_at("a@example.com");
  msvc_user_record_t *b = user_at("b@example.com"), *got = user_out();
  msvc_store_t *s;
  sqlite3 *db;
  path_in_tmp(path, sizeof(path), "busy.db");
  cfg.timeout_ms = 200;
  s = open_ok(path, &cfg);
  if (s != NULL) {
    CHECK_EQ_INT(msvc_store_user_insert(s, a), 0);
    db = raw_open(path);
    CHECK_EQ_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(msvc_store_user_insert(s, b), MSVC_EUNAVAIL);
    CHECK_EQ_INT(msvc_store_user_find_by_id(s, a->user->id, got), 0);
    CHECK_EQ_INT(msvc_store_ping(s), 0);
    CHECK_EQ_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(msvc_store_user_insert(s, b), 0);
    sqlite3_close(db);
    msvc_store_close(s);
  }
  msvc_user_record_free(a);
  msvc_user_record_free(b);
  msvc_user_record_free(got);
}

enum { THREADS = 16, READS = 300, WRITES = 20 };

typedef struct pool_job {
  msvc_store_t *store;
  const char *user_id;
  int index, failures, max_seen;
} pool_job_t;

static void *pool_worker(void *arg) {
  pool_job_t *job = arg;
  msvc_user_record_t *got = user_out();
  for (int i = 0; i < READS + WRITES; i++) {
    int rc, open_now;
    if (i % (READS / WRITES) == 0)
      rc = insert_post(job->store, job->user_id,
                       1700000000000 + job->index * 1000 + i);
    else
      rc = msvc_store_user_find_by_id(job->store, job->user_id, got);
    job->failures += rc != 0;
    open_now = msvc__sqlite_open_connections(job->store);
    if (open_now > job->max_seen)
      job->max_seen = open_now;
  }
  msvc_user_record_free(got);
  return NULL;
}

/* 16 threads on a pool of `bound` connections: all calls succeed (they
 * wait their turn) and the pool never holds more than its bound. */
static void run_pool(const char *name, int bound) {
  char path[512], id[MSVC_ID_SIZE];
  msvc_store_config_t cfg = MSVC_STORE_CONFIG_INIT;
  pthread_t th[THREADS];
  pool_job_t job[THREADS];
  msvc_store_t *s;
  int failures = 0, max_seen = 0;
  path_in_tmp(path, sizeof(path), name);
  cfg.connections = bound;
  cfg.timeout_ms = 30000;
  s = open_ok(path, &cfg);
  if (s == NULL)
    return;
  CHECK_EQ_INT(insert_user(s, "pool@example.com", id), 0);
  for (int i = 0; i < THREADS; i++) {
    job[i] = (pool_job_t){s, id, i, 0, 0};
    CHECK_EQ_INT(pthread_create(&th[i], NULL, pool_worker, &job[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    failures += job[i].failures;
    if (job[i].max_seen > max_seen)
      max_seen = job[i].max_seen;
  }
  CHECK_EQ_INT(failures, 0);
  CHECK(max_seen >= 1);
  CHECK(max_seen <= (bound > 0 ? bound : 16));
  CHECK(msvc__sqlite_open_connections(s) <= (bound > 0 ? bound : 16));
  msvc_store_close(s);
}

static void test_pool_small(void) {
  run_pool("pool4.db", 4);
}
static void test_pool_one(void) {
  run_pool("pool1.db", 1);
}
static void test_pool_default(void) {
  run_pool("pool16.db", 0);
}

/* ---- main ---------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int type,
                        struct FTW *ftw) {
  (void)st;
  (void)type;
  (void)ftw;
  return remove(path);
}

static void remove_tree(const char *dir) {
  if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
    fprintf(stderr, "could not remove %s: %s\n", dir, strerror(errno));
}

int main(void) {
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof(tmpdir), "%s/msvc-sqlite-XXXXXX",
           base != NULL && *base != '\0' ? base : "/tmp");
  if (mkdtemp(tmpdir) == NULL || msvc__idgen_new(&gen) != 0) {
    fprintf(stderr, "setup failed: %s\n", strerror(errno));
    return 1;
  }
  RUN(test_url_forms);
  RUN(test_unusable_paths);
  RUN(test_newer_schema_refused);
  RUN(test_migrates_v1_file);
  RUN(test_migrates_empty_file);
  RUN(test_reopens_v2_file);
  RUN(test_files_are_private);
  RUN(test_synchronous_from_url);
  RUN(test_wal_and_schema);
  RUN(test_query_plans);
  RUN(test_reopen_keeps_data);
  RUN(test_kill_after_write_loses_nothing);
  RUN(test_busy_write_is_unavailable);
  RUN(test_pool_small);
  RUN(test_pool_one);
  RUN(test_pool_default);
  msvc__idgen_free(gen);
  remove_tree(tmpdir);
  TEST_MAIN_END();
}
