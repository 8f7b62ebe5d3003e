/* test_store_sqlite.c - what only the SQLite backend promises, beyond the
 * shared contract that tests/store/conformance.c checks: the URL forms,
 * WAL mode and the schema version on disk, query plans that use the
 * indexes, data surviving a reopen and a kill -9 right after a write,
 * readable errors for unusable paths, busy writes turning into
 * MSVC_EUNAVAIL, and the connection pool's bound under 16 threads.  The
 * database files are inspected with a connection of the test's own, next
 * to the store's.
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

#include "store_sqlite.h"
#include "testutil.h"

static char tmpdir[256];
static msvc_idgen_t *gen;

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

static void user_at(msvc_user_record_t *rec, const char *email) {
  memset(rec, 0, sizeof(*rec));
  msvc_idgen_next(gen, rec->user.id);
  rec->user.name = "Grace";
  rec->user.email = (char *)email;
  rec->password_hash =
      "$2b$10$C9XWPSw9uHefbp35dpHrMuIcK8Dcyy.GaJegqQGYGaJ007wCr3z4u";
  rec->user.created_at = rec->user.updated_at = 1706258964000;
}

static void post_by(msvc_post_t *p, const char *author, int64_t at) {
  memset(p, 0, sizeof(*p));
  msvc_idgen_next(gen, p->id);
  memcpy(p->user_id, author, MSVC_ID_SIZE);
  p->title = "t";
  p->content = "c";
  p->created_at = p->updated_at = at;
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
  char path[512], url[600], email[] = "url@example.com";
  msvc_user_record_t rec, got;
  msvc_store_t *s;
  struct stat st;
  path_in_tmp(path, sizeof(path), "deep/er/forms.db");
  snprintf(url, sizeof(url), "sqlite:%s", path);
  s = open_ok(url, NULL);
  if (s == NULL)
    return;
  CHECK_EQ_STR(msvc_store_get_methods(s)->name, "sqlite");
  CHECK(msvc_store_reads_are_local(s));
  user_at(&rec, email);
  CHECK_EQ_INT(msvc_store_user_insert(s, &rec), 0);
  msvc_store_close(s);

  /* The directories were made private: the file holds password hashes. */
  path_in_tmp(path, sizeof(path), "deep");
  CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
  CHECK_EQ_INT(st.st_mode & 0777, 0700);

  /* Every spelling of the same file reaches the same data. */
  const char *forms[] = {"file:%s/deep/er/forms.db?connection_limit=1",
                         "sqlite://%s/deep/er/forms.db",
                         "file://%s/deep/er/forms.db", "%s/deep/er/forms.db"};
  for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
    snprintf(url, sizeof(url), forms[i], tmpdir);
    s = open_ok(url, NULL);
    if (s == NULL)
      continue;
    memset(&got, 0, sizeof(got));
    CHECK_EQ_INT(msvc_store_user_find_by_email(s, email, &got), 0);
    CHECK_EQ_STR(got.user.id, rec.user.id);
    msvc_user_record_clear(&got);
    msvc_store_close(s);
  }
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

static void test_newer_schema_refused(void) {
  char path[512], version[32];
  msvc_store_t *s;
  sqlite3 *db;
  path_in_tmp(path, sizeof(path), "newer.db");
  s = open_ok(path, NULL);
  msvc_store_close(s);
  db = raw_open(path);
  CHECK_EQ_INT(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
               SQLITE_OK);
  sqlite3_close(db);
  open_fails(path, MSVC_ECONFIG, "newer");
  db = raw_open(path);
  raw_text(db, "PRAGMA user_version", version, sizeof(version));
  CHECK_EQ_STR(version, "99");
  sqlite3_close(db);
}

/* ---- what is on disk ---------------------------------------------------- */

static void test_wal_and_schema(void) {
  static const char *objects[] = {"User", "Post", "User_email_key",
                                  "Post_created_at_id_idx",
                                  "Post_user_id_created_at_id_idx"};
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
  };
  char plan[2048];
  for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
    const char *sql = msvc__sqlite_sql(reads[i].which);
    plan_of(db, sql, plan, sizeof(plan));
    if (strstr(plan, reads[i].must_use) == NULL ||
        strstr(plan, "TEMP B-TREE") != NULL ||
        strstr(plan, "SCAN User") != NULL || strstr(plan, "SCAN Post") != NULL)
      fprintf(stderr, "plan of %s:\n  %s\n", sql, plan);
    CHECK(strstr(plan, reads[i].must_use) != NULL);
    CHECK(strstr(plan, "TEMP B-TREE") == NULL);
    CHECK(strstr(plan, "SCAN User") == NULL);
    CHECK(strstr(plan, "SCAN Post") == NULL);
  }
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
    msvc_user_record_t rec;
    msvc_post_t p;
    snprintf(email, sizeof(email), "plan%d@example.com", i);
    user_at(&rec, email);
    CHECK_EQ_INT(msvc_store_user_insert(s, &rec), 0);
    if (i % 30 == 0)
      memcpy(author, rec.user.id, MSVC_ID_SIZE);
    post_by(&p, author, 1700000000000 + i / 3);
    CHECK_EQ_INT(msvc_store_post_insert(s, &p), 0);
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
  msvc_user_record_t rec, got;
  msvc_post_t p, pgot;
  msvc_store_t *s;
  sqlite3 *db;
  path_in_tmp(path, sizeof(path), "reopen.db");
  snprintf(wal, sizeof(wal), "%s-wal", path);
  s = open_ok(path, NULL);
  if (s == NULL)
    return;
  user_at(&rec, "keep@example.com");
  /* Ids are stored lower-case whatever case they came in. */
  for (int i = 0; i < MSVC_ID_SIZE; i++)
    upper[i] =
        (char)(rec.user.id[i] >= 'a' ? rec.user.id[i] - 32 : rec.user.id[i]);
  memcpy(rec.user.id, upper, MSVC_ID_SIZE);
  CHECK_EQ_INT(msvc_store_user_insert(s, &rec), 0);
  post_by(&p, upper, INT64_MAX); /* the newest possible post still lists */
  CHECK_EQ_INT(msvc_store_post_insert(s, &p), 0);
  CHECK(file_exists(wal));
  msvc_store_close(s);
  CHECK(!file_exists(wal)); /* checkpointed and removed by the last close */

  s = open_ok(path, NULL);
  if (s == NULL)
    return;
  memset(&got, 0, sizeof(got));
  CHECK_EQ_INT(msvc_store_user_find_by_email(s, "keep@example.com", &got), 0);
  msvc__ascii_lower(upper);
  CHECK_EQ_STR(got.user.id, upper);
  CHECK_EQ_INT(got.user.created_at, 1706258964000);
  msvc_user_record_clear(&got);
  msvc_post_query_t q = {.limit = 1};
  size_t n = 0;
  CHECK_EQ_INT(msvc_store_post_list(s, &q, &pgot, &n), 0);
  CHECK_EQ_INT(n, 1);
  if (n == 1) {
    CHECK_EQ_STR(pgot.id, p.id);
    CHECK_EQ_STR(pgot.user_id, upper);
    CHECK(pgot.created_at == INT64_MAX);
    msvc_post_clear(&pgot);
  }
  msvc_store_close(s);

  db = raw_open(path);
  snprintf(sql, sizeof(sql), "SELECT user_id FROM \"Post\" WHERE id = '%s'",
           p.id);
  raw_text(db, sql, text, sizeof(text));
  CHECK_EQ_STR(text, upper);
  sqlite3_close(db);
}

/* A write that returned 0 survives the process being killed at once
 * (SIGKILL: no close, no checkpoint; the commit is in the WAL). */
static void test_kill_after_write_loses_nothing(void) {
  char path[512], email[] = "durable@example.com", ack = 0;
  msvc_user_record_t rec, got;
  msvc_store_t *s;
  int fds[2], status = 0;
  pid_t child;
  path_in_tmp(path, sizeof(path), "killed.db");
  user_at(&rec, email);
  CHECK_EQ_INT(pipe(fds), 0);
  child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    char rc = 1;
    if (msvc_store_open(path, NULL, &s, NULL, 0) == 0)
      rc = (char)(msvc_store_user_insert(s, &rec) == 0 ? 0 : 2);
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
  if (s == NULL)
    return;
  memset(&got, 0, sizeof(got));
  CHECK_EQ_INT(msvc_store_user_find_by_email(s, email, &got), 0);
  CHECK_EQ_STR(got.user.id, rec.user.id);
  msvc_user_record_clear(&got);
  msvc_store_close(s);
}

/* ---- locking and the pool ----------------------------------------------- */

/* While another connection holds the write lock, writes give up after the
 * busy timeout with MSVC_EUNAVAIL, and reads go on (WAL). */
static void test_busy_write_is_unavailable(void) {
  char path[512];
  msvc_store_config_t cfg;
  msvc_user_record_t a, b, got;
  msvc_store_t *s;
  sqlite3 *db;
  path_in_tmp(path, sizeof(path), "busy.db");
  msvc_store_config_init(&cfg);
  cfg.timeout_ms = 200;
  s = open_ok(path, &cfg);
  if (s == NULL)
    return;
  user_at(&a, "a@example.com");
  user_at(&b, "b@example.com");
  CHECK_EQ_INT(msvc_store_user_insert(s, &a), 0);
  db = raw_open(path);
  CHECK_EQ_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
               SQLITE_OK);
  CHECK_EQ_INT(msvc_store_user_insert(s, &b), MSVC_EUNAVAIL);
  memset(&got, 0, sizeof(got));
  CHECK_EQ_INT(msvc_store_user_find_by_id(s, a.user.id, &got), 0);
  msvc_user_record_clear(&got);
  CHECK_EQ_INT(msvc_store_ping(s), 0);
  CHECK_EQ_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  CHECK_EQ_INT(msvc_store_user_insert(s, &b), 0);
  sqlite3_close(db);
  msvc_store_close(s);
}

enum { THREADS = 16, READS = 300, WRITES = 20 };

typedef struct pool_job {
  msvc_store_t *store;
  const char *user_id;
  int index, failures, max_seen;
} pool_job_t;

static void *pool_worker(void *arg) {
  pool_job_t *job = arg;
  void *ctx = msvc_store_get_context(job->store);
  for (int i = 0; i < READS + WRITES; i++) {
    int rc, open_now;
    if (i % (READS / WRITES) == 0) {
      msvc_post_t p;
      post_by(&p, job->user_id, 1700000000000 + job->index * 1000 + i);
      rc = msvc_store_post_insert(job->store, &p);
    } else {
      msvc_user_record_t got;
      memset(&got, 0, sizeof(got));
      rc = msvc_store_user_find_by_id(job->store, job->user_id, &got);
      msvc_user_record_clear(&got);
    }
    job->failures += rc != 0;
    open_now = msvc__sqlite_open_connections(ctx);
    if (open_now > job->max_seen)
      job->max_seen = open_now;
  }
  return NULL;
}

/* 16 threads on a pool of `bound` connections: all calls succeed (they
 * wait their turn) and the pool never holds more than its bound. */
static void run_pool(const char *name, int bound) {
  char path[512];
  msvc_store_config_t cfg;
  msvc_user_record_t rec;
  pthread_t th[THREADS];
  pool_job_t job[THREADS];
  msvc_store_t *s;
  int failures = 0, max_seen = 0;
  path_in_tmp(path, sizeof(path), name);
  msvc_store_config_init(&cfg);
  cfg.connections = bound;
  cfg.timeout_ms = 30000;
  s = open_ok(path, &cfg);
  if (s == NULL)
    return;
  user_at(&rec, "pool@example.com");
  CHECK_EQ_INT(msvc_store_user_insert(s, &rec), 0);
  for (int i = 0; i < THREADS; i++) {
    job[i] = (pool_job_t){s, rec.user.id, i, 0, 0};
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
  CHECK(msvc__sqlite_open_connections(msvc_store_get_context(s)) <=
        (bound > 0 ? bound : 16));
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
  if (mkdtemp(tmpdir) == NULL || msvc_idgen_new(&gen) != 0) {
    fprintf(stderr, "setup failed: %s\n", strerror(errno));
    return 1;
  }
  RUN(test_url_forms);
  RUN(test_unusable_paths);
  RUN(test_newer_schema_refused);
  RUN(test_wal_and_schema);
  RUN(test_query_plans);
  RUN(test_reopen_keeps_data);
  RUN(test_kill_after_write_loses_nothing);
  RUN(test_busy_write_is_unavailable);
  RUN(test_pool_small);
  RUN(test_pool_one);
  RUN(test_pool_default);
  msvc_idgen_free(gen);
  remove_tree(tmpdir);
  TEST_MAIN_END();
}
