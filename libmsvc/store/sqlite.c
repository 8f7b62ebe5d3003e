/* store/sqlite.c - the embedded SQLite backend of the store interface
 * (SQLite 3.40), part of the core library.
 *
 * DATABASE_URL forms: "sqlite:PATH", "file:PATH" (an optional "//" after the
 * scheme is dropped, so "file:///var/db/msvc.db" and Prisma's
 * "file:./dev.db" work) or a plain PATH, taken as it is.  The "?query" part
 * of the first two may set synchronous=full|normal (below); any other
 * parameter is ignored (Prisma's connection_limit...).  The parent
 * directories are created (0700) and a new database file is created 0600
 * before SQLite opens it, whatever the umask (fchmod after the open): the
 * file holds password hashes, and SQLite gives its -wal and -shm files the
 * database file's mode, also whatever the umask.  An existing file keeps
 * the mode its owner gave it (the servers warn when it is wider).
 * ":memory:" is refused: every pooled connection would see its own empty
 * database.
 *
 * Layout: tables "User" and "Post" with DATA.md's field names, ids as
 * 24-hex TEXT (always lower-case: ids are lower-cased on the way in, as the
 * MongoDB backend does), times as INTEGER milliseconds, the unique index
 * "User_email_key", and the listing indexes on Post (created_at DESC,
 * id DESC), with and without a leading user_id.  User is
 * a WITHOUT ROWID table (small rows; a lookup by id, the hot path, is one
 * B-tree search instead of two, measured ~10-20 % faster); Post keeps its
 * rowid, as contents up to 64 KiB would bloat a clustered key's pages.
 * Since version 2, User.tokens_valid_after (ms) and a "Session" table:
 * one row per signed-in device, keyed by its refresh token's SHA-256
 * (unique), found by the current or the previous hash, listed per user.
 * A rotation is a single conditional UPDATE (the compare-and-set the
 * store contract asks for); rows are only marked revoked, never deleted,
 * so a retired token presented again is still recognised.
 *
 * Schema versions: PRAGMA user_version counts the steps of `migrations`
 * below that a file has had.  The first connection of a store runs the
 * missing steps, each followed by its user_version, in one IMMEDIATE
 * transaction, so a file is at one version or the next, never between, and
 * two processes opening it at once migrate it once.  Steps are only ever
 * appended; step 1 is the original schema, kept byte for byte.  A file at a
 * version newer than this library's is refused (MSVC_ECONFIG), untouched.
 *
 * Rows are read by the column constants next to each SELECT's column list
 * (USER_COLS and its enum...), and every connection checks at prepare time
 * that each statement's result columns have those names, so the text and
 * the constants cannot drift apart unnoticed.
 *
 * Durability: journal_mode=WAL with synchronous=FULL by default: the WAL
 * is fsync()ed at every commit, so a write whose call returned survives a
 * power loss.  "?synchronous=normal" trades that for speed: a commit is
 * then in the WAL (the OS page cache) when the call returns, so killing
 * the process loses nothing, but an OS crash or power loss may lose the
 * last commits (never corrupt the file).
 *
 * Threads: SQLite connections are used by one thread at a time, so a store
 * keeps a pool of them (SQLITE_OPEN_NOMUTEX), opened lazily up to
 * cfg->connections (16 by default).  Each connection prepares every
 * statement once and keeps it; a statement is reset and its bindings
 * cleared before the connection goes back to the pool, so no read
 * transaction outlives a call and WAL checkpoints are never held back.  A
 * caller that finds every connection busy waits for one at most
 * cfg->timeout_ms, then gets MSVC_EUNAVAIL; the same bound is each
 * connection's busy timeout.  Reads do no schema work, so they stay cheap
 * enough for an event-loop thread (MSVC_STORE_LOCAL_READS).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/sqlite.h"

#define DEFAULT_CONNECTIONS 16
#define DEFAULT_TIMEOUT_MS 5000

static const msvc_store_methods_t sqlite_methods;

/* ---- schema migrations --------------------------------------------------- */

/* Version 1: the schema as libmsvc 0.1 created it.  Never edit: files in
 * the field were made by exactly this text (CREATE ... IF NOT EXISTS lets a
 * version-0 file that already has the tables pass). */
static const char schema_v1_sql[] =
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

/* Version 2: sessions (refresh tokens) and the per-user cut-off for
 * access tokens.  No IF NOT EXISTS: a file at version 1 has neither, and a
 * clash means the file is not what its user_version says.  Session keeps
 * its rowid for the same reason as Post (user agents of any length).
 * token_hash is unique: the store, not a read before the write, decides a
 * clash.  A lookup by hash is token_hash OR prev_hash, hence the second
 * index, partial: sessions never rotated all share prev_hash '', and with
 * them in it ANALYZE would find the index useless and the lookup would
 * scan.  Listing is one user's sessions newest first, hence the third. */
static const char schema_v2_sql[] =
    "ALTER TABLE \"User\" ADD COLUMN"
    " tokens_valid_after INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE \"Session\" ("
    " id TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL,"
    " token_hash TEXT NOT NULL, prev_hash TEXT NOT NULL DEFAULT '',"
    " rotated_at INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"
    " last_used_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " revoked INTEGER NOT NULL DEFAULT 0, user_agent TEXT, ip TEXT"
    ") STRICT;"
    "CREATE UNIQUE INDEX \"Session_token_hash_key\""
    " ON \"Session\"(token_hash);"
    "CREATE INDEX \"Session_prev_hash_idx\" ON \"Session\"(prev_hash)"
    " WHERE prev_hash <> '';"
    "CREATE INDEX \"Session_user_id_created_at_idx\""
    " ON \"Session\"(user_id, created_at DESC, id DESC);";

/* Version 3: events (login failures, shared rate limits), inserted and
 * counted, never updated, so that several processes on one file share
 * them.  Counting is one key's events after a time: the (key, at) index;
 * dropping the expired ones: the expires_at index. */
static const char schema_v3_sql[] =
    "CREATE TABLE \"Event\" ("
    " id TEXT PRIMARY KEY NOT NULL, key TEXT NOT NULL,"
    " at INTEGER NOT NULL, expires_at INTEGER NOT NULL"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX \"Event_key_at_idx\" ON \"Event\"(key, at);"
    "CREATE INDEX \"Event_expires_at_idx\" ON \"Event\"(expires_at);";

/* migrations[i] takes a file from user_version i to i + 1.  Append only. */
static const char *const migrations[] = {
    schema_v1_sql,
    schema_v2_sql,
    schema_v3_sql,
};

_Static_assert(MSVC__ARRAY_SIZE(migrations) == MSVC__SQLITE_SCHEMA_VERSION,
               "MSVC__SQLITE_SCHEMA_VERSION must count the migrations");

/* ---- SQL --------------------------------------------------------------- */

/* Each column list comes with the enum of its positions; the names of
 * col_names are checked against what SQLite reports for every SELECT
 * (check_columns), so the three cannot disagree silently. */
#define USER_COLS "id, name, email, created_at, updated_at"
enum {
  USER_ID,
  USER_NAME,
  USER_EMAIL,
  USER_CREATED_AT,
  USER_UPDATED_AT,
  USER_NCOLS
};
/* A user record: the user's columns, then its hash and token cut-off. */
#define RECORD_COLS USER_COLS ", password, tokens_valid_after"
enum { RECORD_PASSWORD = USER_NCOLS, RECORD_TOKENS_VALID_AFTER, RECORD_NCOLS };
static const char *const record_col_names[RECORD_NCOLS] = {
    "id",
    "name",
    "email",
    "created_at",
    "updated_at",
    "password",
    "tokens_valid_after"};

/* A user record and whether the token's session is alive (NULL: no such
 * session, or none asked). */
enum { CALLER_SESSION_OK = RECORD_NCOLS, CALLER_NCOLS };
static const char *const caller_col_names[CALLER_NCOLS] = {"id",
                                                           "name",
                                                           "email",
                                                           "created_at",
                                                           "updated_at",
                                                           "password",
                                                           "tokens_valid_after",
                                                           "session_ok"};

#define POST_COLS "id, user_id, title, content, created_at, updated_at"
enum {
  POST_ID,
  POST_USER_ID,
  POST_TITLE,
  POST_CONTENT,
  POST_CREATED_AT,
  POST_UPDATED_AT,
  POST_NCOLS
};
static const char *const post_col_names[POST_NCOLS] = {
    "id", "user_id", "title", "content", "created_at", "updated_at"};

/* A post with its author's columns (NULL: no such user), for pages read
 * with their authors in one statement. */
#define POST_AUTHOR_COLS                                                       \
  "p.id AS id, p.user_id AS user_id, p.title AS title,"                        \
  " p.content AS content, p.created_at AS created_at,"                         \
  " p.updated_at AS updated_at, u.name AS author_name,"                        \
  " u.email AS author_email, u.created_at AS author_created_at,"               \
  " u.updated_at AS author_updated_at"
enum {
  AUTHOR_NAME = POST_NCOLS,
  AUTHOR_EMAIL,
  AUTHOR_CREATED_AT,
  AUTHOR_UPDATED_AT,
  POST_AUTHOR_NCOLS
};
static const char *const post_author_col_names[POST_AUTHOR_NCOLS] = {
    "id",
    "user_id",
    "title",
    "content",
    "created_at",
    "updated_at",
    "author_name",
    "author_email",
    "author_created_at",
    "author_updated_at"};
#define POST_AUTHOR_FROM                                                       \
  " FROM \"Post\" p LEFT JOIN \"User\" u ON u.id = p.user_id"

#define SESSION_COLS                                                           \
  "id, user_id, token_hash, prev_hash, rotated_at, created_at,"                \
  " last_used_at, expires_at, revoked, user_agent, ip"
enum {
  SESSION_ID,
  SESSION_USER_ID,
  SESSION_TOKEN_HASH,
  SESSION_PREV_HASH,
  SESSION_ROTATED_AT,
  SESSION_CREATED_AT,
  SESSION_LAST_USED_AT,
  SESSION_EXPIRES_AT,
  SESSION_REVOKED,
  SESSION_USER_AGENT,
  SESSION_IP,
  SESSION_NCOLS
};
static const char *const session_col_names[SESSION_NCOLS] = {
    "id",         "user_id",      "token_hash", "prev_hash", "rotated_at",
    "created_at", "last_used_at", "expires_at", "revoked",   "user_agent",
    "ip"};

static const char *const event_stats_col_names[2] = {"count", "latest"};

/* Listing uses a row-value comparison, which SQLite turns into a range on
 * the (created_at DESC, id DESC) index; the first page, without a cursor,
 * has statements of its own, without the comparison.  Inserts
 * list their columns with the SELECTs' macros, so parameter ?N is column
 * N - 1 of that list. */
static const char *const sql_text[MSVC__SQL_COUNT] = {
    [MSVC__SQL_PING] = "SELECT count(*) FROM sqlite_schema",
    [MSVC__SQL_USER_INSERT] = "INSERT INTO \"User\" (" RECORD_COLS
                              ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [MSVC__SQL_USER_BY_ID] =
        "SELECT " RECORD_COLS " FROM \"User\" WHERE id = ?1",
    [MSVC__SQL_USER_BY_EMAIL] =
        "SELECT " RECORD_COLS " FROM \"User\" WHERE email = ?1",
    [MSVC__SQL_USER_UPDATE] =
        "UPDATE \"User\" SET name = ?2, email = ?3, password = ?4,"
        " updated_at = ?5, tokens_valid_after = ?6 WHERE id = ?1",
    [MSVC__SQL_USERS_MANY] = "SELECT " USER_COLS " FROM \"User\""
                             " WHERE id IN (SELECT value FROM json_each(?1))",
    [MSVC__SQL_POST_INSERT] =
        "INSERT INTO \"Post\" (" POST_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [MSVC__SQL_POST_FIND] = "SELECT " POST_COLS " FROM \"Post\" WHERE id = ?1",
    [MSVC__SQL_POST_UPDATE] =
        "UPDATE \"Post\" SET title = ?2, content = ?3, updated_at = ?4"
        " WHERE id = ?1",
    [MSVC__SQL_POST_DELETE] = "DELETE FROM \"Post\" WHERE id = ?1",
    [MSVC__SQL_POST_LIST] =
        "SELECT " POST_COLS " FROM \"Post\" WHERE (created_at, id) < (?1, ?2)"
        " ORDER BY created_at DESC, id DESC LIMIT ?3",
    [MSVC__SQL_POST_LIST_BY_USER] =
        "SELECT " POST_COLS " FROM \"Post\" WHERE user_id = ?4"
        " AND (created_at, id) < (?1, ?2)"
        " ORDER BY created_at DESC, id DESC LIMIT ?3",
    [MSVC__SQL_SESSION_INSERT] =
        "INSERT INTO \"Session\" (" SESSION_COLS ") VALUES (?1, ?2, ?3, ?4,"
        " ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [MSVC__SQL_SESSION_FIND] =
        "SELECT " SESSION_COLS " FROM \"Session\" WHERE id = ?1",
    [MSVC__SQL_SESSION_BY_HASH] = "SELECT " SESSION_COLS " FROM \"Session\""
                                  " WHERE token_hash = ?1 OR (prev_hash = ?1"
                                  " AND prev_hash <> '') LIMIT 1",
    /* The compare-and-set of a rotation: one statement, so two callers
     * holding the same old hash cannot both see it current. */
    [MSVC__SQL_SESSION_ROTATE] =
        "UPDATE \"Session\" SET prev_hash = token_hash, token_hash = ?3,"
        " rotated_at = ?4, last_used_at = ?4, expires_at = ?5"
        " WHERE id = ?1 AND token_hash = ?2 AND revoked = 0",
    /* Revocations count only sessions they actually end. */
    [MSVC__SQL_SESSIONS_REVOKE_ONE] =
        "UPDATE \"Session\" SET revoked = 1"
        " WHERE id = ?2 AND user_id = ?1 AND revoked = 0",
    [MSVC__SQL_SESSIONS_REVOKE_OTHERS] =
        "UPDATE \"Session\" SET revoked = 1"
        " WHERE user_id = ?1 AND id <> ?2 AND revoked = 0",
    [MSVC__SQL_SESSIONS_REVOKE_ALL] = "UPDATE \"Session\" SET revoked = 1"
                                      " WHERE user_id = ?1 AND revoked = 0",
    [MSVC__SQL_SESSIONS_LIST] =
        "SELECT " SESSION_COLS " FROM \"Session\" WHERE user_id = ?1"
        " AND revoked = 0 AND expires_at > ?2"
        " ORDER BY created_at DESC, id DESC LIMIT ?3",
    [MSVC__SQL_EVENT_ADD] = "INSERT INTO \"Event\" (id, key, at, expires_at)"
                            " VALUES (?1, ?2, ?3, ?4)",
    /* ?3 is the excluded id, "" for none (no id is empty). */
    [MSVC__SQL_EVENT_STATS] =
        "SELECT count(*) AS count,"
        " coalesce(max(CASE WHEN id <> ?3 THEN at END), 0) AS latest"
        " FROM \"Event\" WHERE key = ?1 AND at > ?2",
    [MSVC__SQL_EVENT_DELETE_ONE] =
        "DELETE FROM \"Event\" WHERE key = ?1 AND id = ?2",
    [MSVC__SQL_EVENT_DELETE_KEY] = "DELETE FROM \"Event\" WHERE key = ?1",
    /* A bounded batch, so that no caller pays for a long backlog. */
    /* Checking an access token: the user and its session in one read. */
    [MSVC__SQL_CALLER_FIND] =
        "SELECT " RECORD_COLS ", (SELECT revoked = 0 AND user_id = ?1"
        " FROM \"Session\" WHERE id = ?2) AS session_ok"
        " FROM \"User\" WHERE id = ?1",
    /* A page and its authors: the same range of the (created_at DESC, id
     * DESC) index as the plain listing, and one primary-key probe of User
     * a row. */
    [MSVC__SQL_POST_LIST_AUTHORS] =
        "SELECT " POST_AUTHOR_COLS POST_AUTHOR_FROM
        " WHERE (p.created_at, p.id) < (?1, ?2)"
        " ORDER BY p.created_at DESC, p.id DESC LIMIT ?3",
    [MSVC__SQL_POST_LIST_AUTHORS_BY_USER] =
        "SELECT " POST_AUTHOR_COLS POST_AUTHOR_FROM " WHERE p.user_id = ?4"
        " AND (p.created_at, p.id) < (?1, ?2)"
        " ORDER BY p.created_at DESC, p.id DESC LIMIT ?3",
    [MSVC__SQL_EVENT_PRUNE] =
        "DELETE FROM \"Event\" WHERE id IN (SELECT id FROM \"Event\""
        " WHERE expires_at <= ?1 LIMIT 100)",
    /* The first page of each listing, without the position: the same
     * index range from its start, and no row-value test on every row
     * (SQLite re-checks (created_at, id) < (?1, ?2) per row even when it
     * bounds the range with it).  The first page is the one clients read
     * most. */
    [MSVC__SQL_POST_LIST_FIRST] = "SELECT " POST_COLS " FROM \"Post\""
                                  " ORDER BY created_at DESC, id DESC LIMIT ?3",
    [MSVC__SQL_POST_LIST_BY_USER_FIRST] =
        "SELECT " POST_COLS " FROM \"Post\" WHERE user_id = ?4"
        " ORDER BY created_at DESC, id DESC LIMIT ?3",
    [MSVC__SQL_POST_LIST_AUTHORS_FIRST] =
        "SELECT " POST_AUTHOR_COLS POST_AUTHOR_FROM
        " ORDER BY p.created_at DESC, p.id DESC LIMIT ?3",
    [MSVC__SQL_POST_LIST_AUTHORS_BY_USER_FIRST] =
        "SELECT " POST_AUTHOR_COLS POST_AUTHOR_FROM " WHERE p.user_id = ?4"
        " ORDER BY p.created_at DESC, p.id DESC LIMIT ?3",
};

/* The result columns each statement's reader expects (none listed for
 * writes and ping). */
static const struct {
  const char *const *names;
  int count;
} sql_result[MSVC__SQL_COUNT] = {
    [MSVC__SQL_USER_BY_ID] = {record_col_names, RECORD_NCOLS},
    [MSVC__SQL_USER_BY_EMAIL] = {record_col_names, RECORD_NCOLS},
    [MSVC__SQL_USERS_MANY] = {record_col_names, USER_NCOLS},
    [MSVC__SQL_POST_FIND] = {post_col_names, POST_NCOLS},
    [MSVC__SQL_POST_LIST] = {post_col_names, POST_NCOLS},
    [MSVC__SQL_POST_LIST_BY_USER] = {post_col_names, POST_NCOLS},
    [MSVC__SQL_SESSION_FIND] = {session_col_names, SESSION_NCOLS},
    [MSVC__SQL_SESSION_BY_HASH] = {session_col_names, SESSION_NCOLS},
    [MSVC__SQL_SESSIONS_LIST] = {session_col_names, SESSION_NCOLS},
    [MSVC__SQL_EVENT_STATS] = {event_stats_col_names, 2},
    [MSVC__SQL_CALLER_FIND] = {caller_col_names, CALLER_NCOLS},
    [MSVC__SQL_POST_LIST_AUTHORS] = {post_author_col_names, POST_AUTHOR_NCOLS},
    [MSVC__SQL_POST_LIST_AUTHORS_BY_USER] = {post_author_col_names,
                                             POST_AUTHOR_NCOLS},
    [MSVC__SQL_POST_LIST_FIRST] = {post_col_names, POST_NCOLS},
    [MSVC__SQL_POST_LIST_BY_USER_FIRST] = {post_col_names, POST_NCOLS},
    [MSVC__SQL_POST_LIST_AUTHORS_FIRST] = {post_author_col_names,
                                           POST_AUTHOR_NCOLS},
    [MSVC__SQL_POST_LIST_AUTHORS_BY_USER_FIRST] = {post_author_col_names,
                                                   POST_AUTHOR_NCOLS},
};

const char *msvc__sqlite_sql(int which) {
  if (which < 0 || which >= MSVC__SQL_COUNT)
    return NULL;
  return sql_text[which];
}

/* ---- the pool ---------------------------------------------------------- */

typedef struct conn {
  sqlite3 *db; /* NULL while the slot is spare */
  sqlite3_stmt *stmt[MSVC__SQL_COUNT];
  struct conn *next;
} conn_t;

typedef struct sqlite_store {
  char *path;
  int sync_normal; /* ?synchronous=normal: no fsync at each commit */
  int timeout_ms;
  pthread_mutex_t lock;
  pthread_cond_t returned; /* a connection went back to the pool */
  conn_t *idle;            /* open, unused */
  conn_t *spare;           /* slots without a connection yet */
  int open_count;          /* connections open, in use or idle */
  int nslots;
  conn_t slots[];
} sqlite_store_t;

/* SQLite result code -> MSVC_E*.  Extended codes are on, so a clash on
 * the email index or the primary key is told apart from other
 * constraints. */
static int map_rc(int rc) {
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    return MSVC_EEXIST;
  switch (rc & 0xff) {
  case SQLITE_OK:
  case SQLITE_ROW:
  case SQLITE_DONE:
    return 0;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
  case SQLITE_CANTOPEN:
    return MSVC_EUNAVAIL;
  case SQLITE_NOMEM:
    return MSVC_ENOMEM;
  default:
    return MSVC_ESTORE;
  }
}

/* map_rc() for a failed call on db, attaching SQLite's own message to an
 * error the caller cannot tell apart otherwise (busy, I/O, corruption). */
static int db_error(sqlite3 *db, int rc) {
  int err = map_rc(rc);
  if (err == MSVC_EUNAVAIL || err == MSVC_ESTORE)
    msvc_set_error_detail("SQLite: %s", sqlite3_errmsg(db));
  return err;
}

/* The open error of db (which may be NULL when SQLite had no memory),
 * with the system's reason when there is one. */
static void open_error(sqlite3 *db, const char *path, char *errbuf,
                       size_t errlen) {
  int sys = db != NULL ? sqlite3_system_errno(db) : 0;
  msvc__set_error(errbuf, errlen, "cannot open SQLite database \"%s\": %s%s%s",
                  path, db != NULL ? sqlite3_errmsg(db) : "out of memory",
                  sys != 0 ? ": " : "", sys != 0 ? strerror(sys) : "");
}

static int exec_sql(sqlite3 *db, const char *sql, const char *what,
                    char *errbuf, size_t errlen) {
  char *msg = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK)
    msvc__set_error(errbuf, errlen, "SQLite database \"%s\": %s failed: %s",
                    sqlite3_db_filename(db, NULL), what,
                    msg != NULL ? msg : sqlite3_errstr(rc));
  sqlite3_free(msg);
  return map_rc(rc);
}

/* Runs a one-row pragma (or query) and copies its first column's text. */
static int query_text(sqlite3 *db, const char *sql, char *out, size_t size) {
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    const unsigned char *t = sqlite3_column_text(s, 0);
    msvc__strlcpy(out, t != NULL ? (const char *)t : "", size);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(s);
  return rc;
}

static int set_wal(sqlite3 *db, char *errbuf, size_t errlen) {
  char mode[16];
  int rc = query_text(db, "PRAGMA journal_mode = WAL", mode, sizeof(mode));
  if (rc != SQLITE_OK) {
    msvc__set_error(errbuf, errlen,
                    "SQLite database \"%s\": cannot switch to WAL: %s",
                    sqlite3_db_filename(db, NULL), sqlite3_errmsg(db));
    return map_rc(rc);
  }
  if (strcmp(mode, "wal") != 0) {
    msvc__set_error(errbuf, errlen,
                    "SQLite database \"%s\": WAL mode refused (journal_mode "
                    "is \"%s\")",
                    sqlite3_db_filename(db, NULL), mode);
    return MSVC_ESTORE;
  }
  return 0;
}

/* Runs step `version` (1-based) and records it in user_version. */
static int migrate_step(sqlite3 *db, int version, char *errbuf, size_t errlen) {
  char what[48], sql[48];
  int rc;
  snprintf(what, sizeof(what), "schema migration to version %d", version);
  rc = exec_sql(db, migrations[version - 1], what, errbuf, errlen);
  if (rc != 0)
    return rc;
  snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
  return exec_sql(db, sql, what, errbuf, errlen);
}

/* Inside the IMMEDIATE transaction: runs the steps the file lacks, refuses
 * a file newer than this library. */
static int migrate_in_tx(sqlite3 *db, char *errbuf, size_t errlen) {
  char text[24];
  long version;
  int rc = query_text(db, "PRAGMA user_version", text, sizeof(text));
  if (rc != SQLITE_OK) {
    msvc__set_error(errbuf, errlen,
                    "SQLite database \"%s\": cannot read the schema: %s",
                    sqlite3_db_filename(db, NULL), sqlite3_errmsg(db));
    return map_rc(rc);
  }
  version = strtol(text, NULL, 10);
  if (version < 0) {
    msvc__set_error(errbuf, errlen,
                    "SQLite database \"%s\": schema version %ld is not one "
                    "this library made",
                    sqlite3_db_filename(db, NULL), version);
    return MSVC_ECONFIG;
  }
  if (version > MSVC__SQLITE_SCHEMA_VERSION) {
    msvc__set_error(errbuf, errlen,
                    "SQLite database \"%s\": schema version %ld is newer "
                    "than this library's (%d); upgrade libmsvc to use it",
                    sqlite3_db_filename(db, NULL), version,
                    MSVC__SQLITE_SCHEMA_VERSION);
    return MSVC_ECONFIG;
  }
  for (int v = (int)version + 1; v <= MSVC__SQLITE_SCHEMA_VERSION; v++) {
    rc = migrate_step(db, v, errbuf, errlen);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int migrate(sqlite3 *db, char *errbuf, size_t errlen) {
  int rc =
      exec_sql(db, "BEGIN IMMEDIATE", "schema transaction", errbuf, errlen);
  if (rc != 0)
    return rc;
  rc = migrate_in_tx(db, errbuf, errlen);
  if (rc == 0)
    return exec_sql(db, "COMMIT", "schema commit", errbuf, errlen);
  sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

static void conn_close(conn_t *c) {
  for (int i = 0; i < MSVC__SQL_COUNT; i++) {
    sqlite3_finalize(c->stmt[i]);
    c->stmt[i] = NULL;
  }
  sqlite3_close(c->db);
  c->db = NULL;
}

/* 0 when statement `which` returns the columns its reader expects. */
static int check_columns(sqlite3_stmt *s, int which, char *errbuf,
                         size_t errlen) {
  int n = sql_result[which].count;
  if (sql_result[which].names == NULL)
    return 0; /* a write, or ping, whose result is not read by name */
  if (sqlite3_column_count(s) != n) {
    msvc__set_error(errbuf, errlen,
                    "SQLite statement \"%s\" returns %d "
                    "columns, its reader expects %d",
                    sql_text[which], sqlite3_column_count(s), n);
    return MSVC_ESTORE;
  }
  for (int i = 0; i < n; i++) {
    const char *name = sqlite3_column_name(s, i);
    if (name == NULL || strcmp(name, sql_result[which].names[i]) != 0) {
      msvc__set_error(errbuf, errlen,
                      "SQLite statement \"%s\": column %d "
                      "is \"%s\", its reader expects \"%s\"",
                      sql_text[which], i, name != NULL ? name : "?",
                      sql_result[which].names[i]);
      return MSVC_ESTORE;
    }
  }
  return 0;
}

static int prepare_all(conn_t *c, char *errbuf, size_t errlen) {
  for (int i = 0; i < MSVC__SQL_COUNT; i++) {
    int rc = sqlite3_prepare_v3(c->db, sql_text[i], -1,
                                SQLITE_PREPARE_PERSISTENT, &c->stmt[i], NULL);
    if (rc != SQLITE_OK) {
      msvc__set_error(errbuf, errlen, "SQLite cannot prepare \"%s\": %s",
                      sql_text[i], sqlite3_errmsg(c->db));
      return map_rc(rc);
    }
    rc = check_columns(c->stmt[i], i, errbuf, errlen);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Creates path 0600 if it does not exist, so that SQLite (which would
 * create it 0644 less the umask) finds a private file, and gives its -wal
 * and -shm files the same mode.  Any failure is left for SQLite's open to
 * report with its own reason (a directory, a missing parent...). */
static void create_private(const char *path) {
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    /* A umask such as 0277 would leave the owner without write access. */
    (void)fchmod(fd, 0600);
    close(fd);
  }
}

/* Opens slot c.  Only the store's first connection may create the file
 * and sets up WAL and the schema; later ones find both in place, and a
 * file that vanished meanwhile is an error rather than a new database. */
static int conn_open(const sqlite_store_t *st, conn_t *c, int first,
                     char *errbuf, size_t errlen) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
              (first ? SQLITE_OPEN_CREATE : 0);
  int rc;
  if (first)
    create_private(st->path);
  rc = sqlite3_open_v2(st->path, &c->db, flags, NULL);
  if (rc != SQLITE_OK) {
    open_error(c->db, st->path, errbuf, errlen);
    conn_close(c);
    return map_rc(rc) == MSVC_ENOMEM ? MSVC_ENOMEM : MSVC_EUNAVAIL;
  }
  sqlite3_extended_result_codes(c->db, 1);
  sqlite3_busy_timeout(c->db, st->timeout_ms);
  rc = exec_sql(c->db,
                st->sync_normal
                    ? "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;"
                      " PRAGMA temp_store = MEMORY"
                    : "PRAGMA synchronous = FULL; PRAGMA foreign_keys = OFF;"
                      " PRAGMA temp_store = MEMORY",
                "connection setup", errbuf, errlen);
  if (rc == 0 && first)
    rc = set_wal(c->db, errbuf, errlen);
  if (rc == 0 && first)
    rc = migrate(c->db, errbuf, errlen);
  if (rc == 0)
    rc = prepare_all(c, errbuf, errlen);
  if (rc != 0)
    conn_close(c);
  return rc;
}

/* An absolute time ms from now on the monotonic clock, which the pool's
 * condition variable waits on. */
static struct timespec deadline_after(int ms) {
  int64_t at = msvc__monotonic_ms() + ms;
  struct timespec ts;
  ts.tv_sec = (time_t)(at / 1000);
  ts.tv_nsec = (long)(at % 1000) * 1000000L;
  return ts;
}

/* Opens a connection in slot c, which the caller took from the spare
 * list; on failure the slot goes back there. */
static int open_spare(sqlite_store_t *st, conn_t *c) {
  char err[256] = "";
  int rc = conn_open(st, c, 0, err, sizeof(err));
  if (rc == 0)
    return 0;
  msvc_set_error_detail("%s", err);
  pthread_mutex_lock(&st->lock);
  c->next = st->spare;
  st->spare = c;
  st->open_count--;
  pthread_cond_signal(&st->returned);
  pthread_mutex_unlock(&st->lock);
  return rc;
}

/* Takes an idle connection, or opens one in a spare slot, or waits for one
 * to come back (at most timeout_ms).  The open happens outside the lock:
 * it reads the file. */
static int acquire(sqlite_store_t *st, conn_t **out) {
  struct timespec deadline = deadline_after(st->timeout_ms);
  conn_t *c;
  int wait = 0, rc;
  pthread_mutex_lock(&st->lock);
  while (st->idle == NULL && st->spare == NULL && wait == 0)
    wait = pthread_cond_timedwait(&st->returned, &st->lock, &deadline);
  if ((c = st->idle) != NULL) {
    st->idle = c->next;
    pthread_mutex_unlock(&st->lock);
    *out = c;
    return 0;
  }
  if ((c = st->spare) != NULL) {
    st->spare = c->next;
    st->open_count++;
  }
  pthread_mutex_unlock(&st->lock);
  if (c == NULL) {
    msvc_set_error_detail("every SQLite connection stayed busy for %d ms",
                          st->timeout_ms);
    return MSVC_EUNAVAIL;
  }
  rc = open_spare(st, c);
  if (rc == 0)
    *out = c;
  return rc;
}

static void release(sqlite_store_t *st, conn_t *c) {
  pthread_mutex_lock(&st->lock);
  c->next = st->idle;
  st->idle = c;
  pthread_cond_signal(&st->returned);
  pthread_mutex_unlock(&st->lock);
}

/* ---- open and close ---------------------------------------------------- */

static int has_prefix(const char *s, const char *prefix) {
  return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Reads the URL's query (after '?'): synchronous=full|normal, the last
 * one winning; other parameters are ignored. */
static int parse_query(sqlite_store_t *st, const char *q, const char *url,
                       char *errbuf, size_t errlen) {
  static const char key[] = "synchronous=";
  while (*q != '\0') {
    size_t len = strcspn(q, "&");
    if (len > sizeof(key) - 1 && strncasecmp(q, key, sizeof(key) - 1) == 0) {
      const char *v = q + sizeof(key) - 1;
      size_t vlen = len - (sizeof(key) - 1);
      if (vlen == 4 && strncasecmp(v, "full", 4) == 0) {
        st->sync_normal = 0;
      } else if (vlen == 6 && strncasecmp(v, "normal", 6) == 0) {
        st->sync_normal = 1;
      } else {
        msvc__set_error(errbuf, errlen,
                        "database URL \"%s\": synchronous must be full or "
                        "normal",
                        url);
        return MSVC_ECONFIG;
      }
    }
    q += len + (q[len] == '&');
  }
  return 0;
}

/* The file path the URL names, in a new string (st->path), and the
 * settings of its query.  The registry sent "sqlite:", "file:" (either
 * case) and scheme-less URLs here. */
static int path_from_url(sqlite_store_t *st, const char *url, char *errbuf,
                         size_t errlen) {
  const char *p = url;
  size_t len;
  int rc;
  if (has_prefix(p, "sqlite:") || has_prefix(p, "file:")) {
    p = strchr(p, ':') + 1;
    if (strncmp(p, "//", 2) == 0)
      p += 2;
    len = strcspn(p, "?");
    if (p[len] == '?' &&
        (rc = parse_query(st, p + len + 1, url, errbuf, errlen)) != 0)
      return rc;
  } else {
    len = strlen(p);
  }
  if (len == 0) {
    msvc__set_error(errbuf, errlen, "no file path in database URL \"%s\"", url);
    return MSVC_ECONFIG;
  }
  if (strncmp(p, ":memory:", 8) == 0) {
    msvc__set_error(errbuf, errlen,
                    "in-memory SQLite databases are not supported: each "
                    "pooled connection would see its own; use a file");
    return MSVC_EUNSUPPORTED;
  }
  st->path = msvc__strndup(p, len);
  return st->path != NULL ? 0 : MSVC_ENOMEM;
}

/* mkdir -p of the directory part of path, private (0700).  An existing
 * non-directory on the way is left for the open to report (ENOTDIR). */
static int make_parent_dirs(const char *path, char *errbuf, size_t errlen) {
  const char *slash = strrchr(path, '/');
  char *dir, failed[512];
  int rc = 0;
  if (slash == NULL || slash == path)
    return 0;
  dir = msvc__strndup(path, (size_t)(slash - path));
  if (dir == NULL)
    return MSVC_ENOMEM;
  if (msvc__mkdir_p(dir, 0700, failed, sizeof(failed)) != 0) {
    msvc__set_error(errbuf, errlen, "cannot create directory \"%s\": %s",
                    failed, strerror(errno));
    rc = MSVC_EUNAVAIL;
  }
  free(dir);
  return rc;
}

static sqlite_store_t *store_new(const msvc_store_config_t *cfg) {
  int n = cfg->connections > 0 ? cfg->connections : DEFAULT_CONNECTIONS;
  sqlite_store_t *st;
  pthread_condattr_t attr;
  if ((size_t)n > (SIZE_MAX - sizeof(*st)) / sizeof(conn_t))
    return NULL;
  st = calloc(1, sizeof(*st) + (size_t)n * sizeof(conn_t));
  if (st == NULL)
    return NULL;
  st->nslots = n;
  st->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
  for (int i = n - 1; i >= 0; i--) {
    st->slots[i].next = st->spare;
    st->spare = &st->slots[i];
  }
  if (pthread_condattr_init(&attr) != 0) {
    free(st);
    return NULL;
  }
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  if (pthread_cond_init(&st->returned, &attr) != 0) {
    pthread_condattr_destroy(&attr);
    free(st);
    return NULL;
  }
  pthread_condattr_destroy(&attr);
  if (pthread_mutex_init(&st->lock, NULL) != 0) {
    pthread_cond_destroy(&st->returned);
    free(st);
    return NULL;
  }
  return st;
}

/* Every connection must be back in the pool: closing a store in use is
 * the caller's bug. */
static void sqlite_close(void *ctx) {
  sqlite_store_t *st = ctx;
  if (st == NULL)
    return;
  for (int i = 0; i < st->nslots; i++)
    if (st->slots[i].db != NULL)
      conn_close(&st->slots[i]);
  pthread_mutex_destroy(&st->lock);
  pthread_cond_destroy(&st->returned);
  free(st->path);
  free(st);
}

/* The first connection is opened now, so that a bad path, a file that is
 * not a database or a schema we cannot use fail at open with a reason. */
static int sqlite_open(const char *url, const msvc_store_config_t *cfg,
                       void **ctx, char *errbuf, size_t errlen) {
  sqlite_store_t *st = store_new(cfg);
  conn_t *c;
  int rc;
  *ctx = NULL;
  if (st == NULL)
    return MSVC_ENOMEM;
  rc = path_from_url(st, url, errbuf, errlen);
  if (rc == 0)
    rc = make_parent_dirs(st->path, errbuf, errlen);
  c = st->spare;
  if (rc == 0)
    rc = conn_open(st, c, 1, errbuf, errlen);
  if (rc != 0) {
    sqlite_close(st);
    return rc;
  }
  st->spare = c->next;
  c->next = NULL;
  st->idle = c;
  st->open_count = 1;
  *ctx = st;
  return 0;
}

int msvc__sqlite_open_connections(const msvc_store_t *store) {
  sqlite_store_t *st = msvc__store_context(store);
  int n;
  /* The name pointer is this table's own string: another backend called
   * "sqlite" (a wrapper) does not pass. */
  if (st == NULL || msvc_store_name(store) != sqlite_methods.name)
    return -1;
  pthread_mutex_lock(&st->lock);
  n = st->open_count;
  pthread_mutex_unlock(&st->lock);
  return n;
}

int msvc__sqlite_synchronous_full(const msvc_store_t *store) {
  sqlite_store_t *st = msvc__store_context(store);
  if (st == NULL || msvc_store_name(store) != sqlite_methods.name)
    return -1;
  return !st->sync_normal;
}

/* ---- statements -------------------------------------------------------- */

/* Ends a statement's use: reset (closing its read transaction) and
 * bindings cleared, so no caller data stays referenced. */
static void stmt_done(sqlite3_stmt *s) {
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
}

/* Steps a write to completion; the rows it changed in *changes. */
static int run_write_counted(conn_t *c, sqlite3_stmt *s, int bind_rc,
                             int *changes) {
  int rc = bind_rc != SQLITE_OK ? bind_rc : sqlite3_step(s);
  *changes = sqlite3_changes(c->db);
  if (rc != SQLITE_DONE)
    rc = db_error(c->db, rc == SQLITE_ROW ? SQLITE_MISUSE : rc);
  else
    rc = 0;
  stmt_done(s);
  return rc;
}

/* Steps a write to completion; MSVC_ENOTFOUND when `need_row` and no row
 * changed. */
static int run_write(conn_t *c, sqlite3_stmt *s, int bind_rc, int need_row) {
  int changes = 0;
  int rc = run_write_counted(c, s, bind_rc, &changes);
  return rc == 0 && need_row && changes == 0 ? MSVC_ENOTFOUND : rc;
}

/* ids go in lower-cased, as every stored id is. */
static void lower_id(char out[MSVC_ID_SIZE], const char *id) {
  msvc__strlcpy(out, id, MSVC_ID_SIZE);
  if (strlen(out) == MSVC_ID_LEN && msvc__hex_digits(out, MSVC_ID_LEN))
    msvc__hex_lower(out, MSVC_ID_LEN); /* eight at a time */
  else
    msvc__ascii_lower(out);
}

static int bind_id(sqlite3_stmt *s, int i, const char id[MSVC_ID_SIZE]) {
  return sqlite3_bind_text(s, i, id, -1, SQLITE_STATIC);
}

static int bind_str(sqlite3_stmt *s, int i, const char *text) {
  return sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
}

/* A borrowed column: its text (NULL for SQL NULL) and length, valid until
 * the next step; -1 when SQLite ran out of memory converting it.  The text
 * is fetched before its length, the order SQLite documents as safe (the
 * length then counts the UTF-8 form the pointer shows), and a NULL pointer
 * is told apart from no memory by the error code, as SQLite documents, so
 * a column costs two calls. */
static int col_view(sqlite3_stmt *s, int i, const char **text, size_t *len) {
  *text = (const char *)sqlite3_column_text(s, i);
  *len = 0;
  if (*text == NULL)
    return sqlite3_errcode(sqlite3_db_handle(s)) == SQLITE_NOMEM ? -1 : 0;
  *len = (size_t)sqlite3_column_bytes(s, i);
  return 0;
}

/* Column i as a new string of exactly its bytes; NULL reads as "". */
static int col_str(sqlite3_stmt *s, int i, char **out) {
  const char *t;
  size_t n;
  char *copy;
  if (col_view(s, i, &t, &n) != 0)
    return MSVC_ENOMEM;
  copy = malloc(n + 1);
  if (copy == NULL)
    return MSVC_ENOMEM;
  if (n > 0)
    memcpy(copy, t, n);
  copy[n] = '\0';
  *out = copy;
  return 0;
}

/* Column i as an id; "" unless it is exactly 24 bytes. */
static void col_id(sqlite3_stmt *s, int i, char out[MSVC_ID_SIZE]) {
  const char *t = (const char *)sqlite3_column_text(s, i);
  out[0] = '\0';
  if (t != NULL && sqlite3_column_bytes(s, i) == MSVC_ID_LEN) {
    memcpy(out, t, MSVC_ID_LEN);
    out[MSVC_ID_LEN] = '\0';
  }
}

/* USER_COLS into a zeroed user. */
static int user_from_row(sqlite3_stmt *s, msvc_user_t *u) {
  int rc;
  col_id(s, USER_ID, u->id);
  u->created_at = sqlite3_column_int64(s, USER_CREATED_AT);
  u->updated_at = sqlite3_column_int64(s, USER_UPDATED_AT);
  rc = col_str(s, USER_NAME, &u->name);
  if (rc == 0)
    rc = col_str(s, USER_EMAIL, &u->email);
  if (rc != 0)
    msvc__user_reset(u);
  return rc;
}

/* POST_COLS into a zeroed post. */
static int post_from_row(sqlite3_stmt *s, msvc_post_t *p) {
  int rc;
  col_id(s, POST_ID, p->id);
  col_id(s, POST_USER_ID, p->user_id);
  p->created_at = sqlite3_column_int64(s, POST_CREATED_AT);
  p->updated_at = sqlite3_column_int64(s, POST_UPDATED_AT);
  rc = col_str(s, POST_TITLE, &p->title);
  if (rc == 0)
    rc = col_str(s, POST_CONTENT, &p->content);
  if (rc != 0)
    msvc__post_reset(p);
  return rc;
}

/* ---- methods ----------------------------------------------------------- */

static int sqlite_ping(void *ctx) {
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(ctx, &c);
  if (rc != 0)
    return rc;
  s = c->stmt[MSVC__SQL_PING];
  rc = sqlite3_step(s);
  rc = rc == SQLITE_ROW ? 0 : db_error(c->db, rc);
  stmt_done(s);
  release(ctx, c);
  return rc;
}

/* Binds a user record in RECORD_COLS order (parameter = column + 1). */
static int bind_record(sqlite3_stmt *s, const char id[MSVC_ID_SIZE],
                       const msvc_user_record_t *rec) {
  return bind_id(s, USER_ID + 1, id) |
         bind_str(s, USER_NAME + 1, rec->user->name) |
         bind_str(s, USER_EMAIL + 1, rec->user->email) |
         sqlite3_bind_int64(s, USER_CREATED_AT + 1, rec->user->created_at) |
         sqlite3_bind_int64(s, USER_UPDATED_AT + 1, rec->user->updated_at) |
         bind_str(s, RECORD_PASSWORD + 1, rec->password_hash) |
         sqlite3_bind_int64(s, RECORD_TOKENS_VALID_AFTER + 1,
                            rec->tokens_valid_after);
}

static int sqlite_user_insert(void *ctx, const msvc_user_record_t *rec) {
  char id[MSVC_ID_SIZE];
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(ctx, &c);
  if (rc != 0)
    return rc;
  lower_id(id, rec->user->id);
  s = c->stmt[MSVC__SQL_USER_INSERT];
  rc = run_write(c, s, bind_record(s, id, rec), 0);
  release(ctx, c);
  return rc;
}

/* Runs a user lookup bound to `key` and fills *out from the only row. */
static int find_user(sqlite_store_t *st, int which, const char *key,
                     msvc_user_record_t *out) {
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(st, &c);
  if (rc != 0)
    return rc;
  s = c->stmt[which];
  rc = bind_str(s, 1, key);
  if (rc == SQLITE_OK)
    rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    rc = user_from_row(s, out->user);
    if (rc == 0)
      rc = col_str(s, RECORD_PASSWORD, &out->password_hash);
    out->tokens_valid_after =
        sqlite3_column_int64(s, RECORD_TOKENS_VALID_AFTER);
  } else {
    rc = rc == SQLITE_DONE ? MSVC_ENOTFOUND : db_error(c->db, rc);
  }
  stmt_done(s);
  release(st, c);
  return rc;
}

static int sqlite_user_find_by_id(void *ctx, const char *id,
                                  msvc_user_record_t *out) {
  char key[MSVC_ID_SIZE];
  lower_id(key, id);
  return find_user(ctx, MSVC__SQL_USER_BY_ID, key, out);
}

static int sqlite_user_find_by_email(void *ctx, const char *email,
                                     msvc_user_record_t *out) {
  return find_user(ctx, MSVC__SQL_USER_BY_EMAIL, email, out);
}

static int sqlite_user_update(void *ctx, const msvc_user_record_t *rec) {
  char id[MSVC_ID_SIZE];
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(ctx, &c);
  if (rc != 0)
    return rc;
  lower_id(id, rec->user->id);
  s = c->stmt[MSVC__SQL_USER_UPDATE];
  rc = bind_id(s, 1, id) | bind_str(s, 2, rec->user->name) |
       bind_str(s, 3, rec->user->email) | bind_str(s, 4, rec->password_hash) |
       sqlite3_bind_int64(s, 5, rec->user->updated_at) |
       sqlite3_bind_int64(s, 6, rec->tokens_valid_after);
  rc = run_write(c, s, rc, 1);
  release(ctx, c);
  return rc;
}

/* The valid ids as a JSON array of lower-case strings, for json_each();
 * NULL when out of memory.  Invalid ids are left out: they match nothing. */
static char *ids_json(const msvc_id_t *ids, size_t n) {
  size_t per = MSVC_ID_LEN + 3; /* quotes and comma */
  char *json, *p;
  if (n > (SIZE_MAX - 3) / per)
    return NULL;
  json = malloc(n * per + 3);
  if (json == NULL)
    return NULL;
  p = json;
  *p++ = '[';
  for (size_t i = 0; i < n; i++) {
    if (!msvc_id_valid(ids[i].hex, strnlen(ids[i].hex, MSVC_ID_SIZE)))
      continue;
    if (p != json + 1)
      *p++ = ',';
    *p++ = '"';
    lower_id(p, ids[i].hex);
    p += MSVC_ID_LEN;
    *p++ = '"';
  }
  *p++ = ']';
  *p = '\0';
  return json;
}

static int session_from_row(sqlite3_stmt *s, msvc_session_t *out);

/* Steps s, filling slot i of the array `out` (n slots) for row i through
 * from_row, which knows the array's element type; the number read in
 * *got.  The one loop behind users, posts and sessions. */
static int read_rows(conn_t *c, sqlite3_stmt *s, const void *out, size_t n,
                     int (*from_row)(sqlite3_stmt *, const void *, size_t),
                     size_t *got) {
  int rc = SQLITE_OK;
  *got = 0;
  while (*got < n && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    int err = from_row(s, out, *got);
    if (err != 0)
      return err;
    (*got)++;
  }
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(c->db, rc);
}

static int user_row(sqlite3_stmt *s, const void *out, size_t i) {
  return user_from_row(s, ((msvc_user_t *const *)out)[i]);
}

static int post_row(sqlite3_stmt *s, const void *out, size_t i) {
  return post_from_row(s, ((msvc_post_t *const *)out)[i]);
}

static int session_row(sqlite3_stmt *s, const void *out, size_t i) {
  return session_from_row(s, ((msvc_session_t *const *)out)[i]);
}

/* `IN (SELECT ...)` makes the set distinct, so each user comes once. */
/* One author (a page by one user, a single post): the primary key
 * lookup, a fraction of the cost of parsing a JSON list (json_each),
 * which stays the better way for several. */
static int users_find_one(void *ctx, const msvc_id_t *id,
                          msvc_user_t *const *out, size_t *nout) {
  char low[MSVC_ID_SIZE];
  size_t got = 0;
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(ctx, &c);
  *nout = 0;
  if (rc != 0)
    return rc;
  lower_id(low, id->hex);
  s = c->stmt[MSVC__SQL_USER_BY_ID]; /* its first columns are USER_COLS */
  rc = bind_id(s, 1, low);
  rc = rc == SQLITE_OK ? read_rows(c, s, out, 1, user_row, &got)
                       : db_error(c->db, rc);
  stmt_done(s);
  release(ctx, c);
  if (rc == 0)
    *nout = got;
  return rc;
}

static int users_find_json(void *ctx, const msvc_id_t *ids, size_t n,
                           msvc_user_t *const *out, size_t *nout) {
  char *json = ids_json(ids, n);
  size_t got = 0;
  conn_t *c;
  sqlite3_stmt *s;
  int rc;
  *nout = 0;
  if (json == NULL)
    return MSVC_ENOMEM;
  rc = acquire(ctx, &c);
  if (rc != 0) {
    free(json);
    return rc;
  }
  s = c->stmt[MSVC__SQL_USERS_MANY];
  rc = bind_str(s, 1, json);
  rc = rc == SQLITE_OK ? read_rows(c, s, out, n, user_row, &got)
                       : db_error(c->db, rc);
  stmt_done(s);
  release(ctx, c);
  free(json);
  if (rc == 0)
    *nout = got;
  return rc;
}

static int sqlite_users_find_many(void *ctx, const msvc_id_t *ids, size_t n,
                                  msvc_user_t *const *out, size_t *nout) {
  return n == 1 ? users_find_one(ctx, ids, out, nout)
                : users_find_json(ctx, ids, n, out, nout);
}

/* Binds a post in POST_COLS order (parameter = column + 1). */
static int bind_post(sqlite3_stmt *s, const char id[MSVC_ID_SIZE],
                     const char user_id[MSVC_ID_SIZE], const msvc_post_t *p) {
  return bind_id(s, POST_ID + 1, id) | bind_id(s, POST_USER_ID + 1, user_id) |
         bind_str(s, POST_TITLE + 1, p->title) |
         bind_str(s, POST_CONTENT + 1, p->content) |
         sqlite3_bind_int64(s, POST_CREATED_AT + 1, p->created_at) |
         sqlite3_bind_int64(s, POST_UPDATED_AT + 1, p->updated_at);
}

static int sqlite_post_insert(void *ctx, const msvc_post_t *post) {
  char id[MSVC_ID_SIZE], user_id[MSVC_ID_SIZE];
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(ctx, &c);
  if (rc != 0)
    return rc;
  lower_id(id, post->id);
  lower_id(user_id, post->user_id);
  s = c->stmt[MSVC__SQL_POST_INSERT];
  rc = run_write(c, s, bind_post(s, id, user_id, post), 0);
  release(ctx, c);
  return rc;
}

static int sqlite_post_find(void *ctx, const char *id, msvc_post_t *out) {
  char key[MSVC_ID_SIZE];
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(ctx, &c);
  if (rc != 0)
    return rc;
  lower_id(key, id);
  s = c->stmt[MSVC__SQL_POST_FIND];
  rc = bind_id(s, 1, key);
  if (rc == SQLITE_OK)
    rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    rc = post_from_row(s, out);
  else
    rc = rc == SQLITE_DONE ? MSVC_ENOTFOUND : db_error(c->db, rc);
  stmt_done(s);
  release(ctx, c);
  return rc;
}

static int sqlite_post_update(void *ctx, const msvc_post_t *post) {
  char id[MSVC_ID_SIZE];
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(ctx, &c);
  if (rc != 0)
    return rc;
  lower_id(id, post->id);
  s = c->stmt[MSVC__SQL_POST_UPDATE];
  rc = bind_id(s, 1, id) | bind_str(s, 2, post->title) |
       bind_str(s, 3, post->content) |
       sqlite3_bind_int64(s, 4, post->updated_at);
  rc = run_write(c, s, rc, 1);
  release(ctx, c);
  return rc;
}

static int sqlite_post_delete(void *ctx, const char *id) {
  char key[MSVC_ID_SIZE];
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(ctx, &c);
  if (rc != 0)
    return rc;
  lower_id(key, id);
  s = c->stmt[MSVC__SQL_POST_DELETE];
  rc = run_write(c, s, bind_id(s, 1, key), 1);
  release(ctx, c);
  return rc;
}

/* Binds the keyset position (when there is one: first-page statements
 * have no ?1 and ?2) and limit (and author, when given).  The wrapper has
 * checked the ids. */
static int bind_list(sqlite3_stmt *s, const msvc_post_query_t *q,
                     char cursor_id[MSVC_ID_SIZE], char user_id[MSVC_ID_SIZE]) {
  int rc = sqlite3_bind_int64(s, 3, (sqlite3_int64)q->limit);
  if (q->has_cursor) {
    lower_id(cursor_id, q->cursor.id);
    rc |= sqlite3_bind_int64(s, 1, q->cursor.created_at) |
          bind_id(s, 2, cursor_id);
  }
  if (user_id[0] != '\0')
    rc |= bind_id(s, 4, user_id);
  return rc;
}

/* The four statements of one listing: every author or one, after a
 * position or from the start. */
typedef struct page_sql {
  int all, by_user, first, first_by_user;
} page_sql_t;

static const page_sql_t plain_pages = {
    MSVC__SQL_POST_LIST, MSVC__SQL_POST_LIST_BY_USER, MSVC__SQL_POST_LIST_FIRST,
    MSVC__SQL_POST_LIST_BY_USER_FIRST};
static const page_sql_t author_pages = {
    MSVC__SQL_POST_LIST_AUTHORS, MSVC__SQL_POST_LIST_AUTHORS_BY_USER,
    MSVC__SQL_POST_LIST_AUTHORS_FIRST,
    MSVC__SQL_POST_LIST_AUTHORS_BY_USER_FIRST};

static int page_statement(const page_sql_t *sql, const msvc_post_query_t *q,
                          int by_user) {
  if (q->has_cursor)
    return by_user ? sql->by_user : sql->all;
  return by_user ? sql->first_by_user : sql->first;
}

/* One page of posts: the statement of `sql` for the query, bound to it,
 * rows read by from_row into out. */
static int read_page(void *ctx, const msvc_post_query_t *q,
                     const page_sql_t *sql, const void *out,
                     int (*from_row)(sqlite3_stmt *, const void *, size_t),
                     size_t *nout) {
  char cursor_id[MSVC_ID_SIZE], user_id[MSVC_ID_SIZE];
  size_t got = 0;
  conn_t *c;
  sqlite3_stmt *s;
  int rc;
  *nout = 0;
  lower_id(user_id, q->user_id);
  rc = acquire(ctx, &c);
  if (rc != 0)
    return rc;
  s = c->stmt[page_statement(sql, q, user_id[0] != '\0')];
  rc = bind_list(s, q, cursor_id, user_id);
  rc = rc == SQLITE_OK ? read_rows(c, s, out, q->limit, from_row, &got)
                       : db_error(c->db, rc);
  stmt_done(s);
  release(ctx, c);
  if (rc == 0)
    *nout = got;
  return rc;
}

static int sqlite_post_list(void *ctx, const msvc_post_query_t *q,
                            msvc_post_t *const *out, size_t *nout) {
  return read_page(ctx, q, &plain_pages, out, post_row, nout);
}

/* ---- sessions ---------------------------------------------------------- */

/* NULL binds as SQL NULL: an unknown user agent stays unknown. */
static int bind_opt_str(sqlite3_stmt *s, int i, const char *text) {
  return text != NULL ? bind_str(s, i, text) : sqlite3_bind_null(s, i);
}

/* Column i as a token hash; "" unless it has exactly a hash's length. */
static void col_hash(sqlite3_stmt *s, int i, char out[MSVC_HASH_SIZE]) {
  const char *t = (const char *)sqlite3_column_text(s, i);
  out[0] = '\0';
  if (t != NULL && sqlite3_column_bytes(s, i) == MSVC_HASH_SIZE - 1)
    memcpy(out, t, MSVC_HASH_SIZE);
}

/* Column i as a new string, or NULL when it is SQL NULL. */
static int col_opt_str(sqlite3_stmt *s, int i, char **out) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL)
    return 0;
  return col_str(s, i, out);
}

/* SESSION_COLS into a zeroed session (the library resets it on error). */
static int session_from_row(sqlite3_stmt *s, msvc_session_t *out) {
  int rc;
  col_id(s, SESSION_ID, out->id);
  col_id(s, SESSION_USER_ID, out->user_id);
  col_hash(s, SESSION_TOKEN_HASH, out->token_hash);
  col_hash(s, SESSION_PREV_HASH, out->prev_hash);
  out->rotated_at = sqlite3_column_int64(s, SESSION_ROTATED_AT);
  out->created_at = sqlite3_column_int64(s, SESSION_CREATED_AT);
  out->last_used_at = sqlite3_column_int64(s, SESSION_LAST_USED_AT);
  out->expires_at = sqlite3_column_int64(s, SESSION_EXPIRES_AT);
  out->revoked = sqlite3_column_int64(s, SESSION_REVOKED) != 0;
  rc = col_opt_str(s, SESSION_USER_AGENT, &out->user_agent);
  if (rc == 0)
    rc = col_opt_str(s, SESSION_IP, &out->ip);
  return rc;
}

/* Binds a session in SESSION_COLS order (parameter = column + 1). */
static int bind_session(sqlite3_stmt *s, const char id[MSVC_ID_SIZE],
                        const char user_id[MSVC_ID_SIZE],
                        const msvc_session_t *v) {
  return bind_id(s, SESSION_ID + 1, id) |
         bind_id(s, SESSION_USER_ID + 1, user_id) |
         bind_str(s, SESSION_TOKEN_HASH + 1, v->token_hash) |
         bind_str(s, SESSION_PREV_HASH + 1, v->prev_hash) |
         sqlite3_bind_int64(s, SESSION_ROTATED_AT + 1, v->rotated_at) |
         sqlite3_bind_int64(s, SESSION_CREATED_AT + 1, v->created_at) |
         sqlite3_bind_int64(s, SESSION_LAST_USED_AT + 1, v->last_used_at) |
         sqlite3_bind_int64(s, SESSION_EXPIRES_AT + 1, v->expires_at) |
         sqlite3_bind_int(s, SESSION_REVOKED + 1, v->revoked != 0) |
         bind_opt_str(s, SESSION_USER_AGENT + 1, v->user_agent) |
         bind_opt_str(s, SESSION_IP + 1, v->ip);
}

static int sqlite_session_insert(void *ctx, const msvc_session_t *v) {
  char id[MSVC_ID_SIZE], user_id[MSVC_ID_SIZE];
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(ctx, &c);
  if (rc != 0)
    return rc;
  lower_id(id, v->id);
  lower_id(user_id, v->user_id);
  s = c->stmt[MSVC__SQL_SESSION_INSERT];
  rc = run_write(c, s, bind_session(s, id, user_id, v), 0);
  release(ctx, c);
  return rc;
}

/* Runs a session lookup bound to `key` and fills *out from the first
 * row. */
static int find_session(sqlite_store_t *st, int which, const char *key,
                        msvc_session_t *out) {
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(st, &c);
  if (rc != 0)
    return rc;
  s = c->stmt[which];
  rc = bind_str(s, 1, key);
  if (rc == SQLITE_OK)
    rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    rc = session_from_row(s, out);
  else
    rc = rc == SQLITE_DONE ? MSVC_ENOTFOUND : db_error(c->db, rc);
  stmt_done(s);
  release(st, c);
  return rc;
}

static int sqlite_session_find(void *ctx, const char *id, msvc_session_t *out) {
  char key[MSVC_ID_SIZE];
  lower_id(key, id);
  return find_session(ctx, MSVC__SQL_SESSION_FIND, key, out);
}

static int sqlite_session_find_by_hash(void *ctx, const char *hash,
                                       msvc_session_t *out) {
  return find_session(ctx, MSVC__SQL_SESSION_BY_HASH, hash, out);
}

static int sqlite_session_rotate(void *ctx, const char *id,
                                 const char *old_hash, const char *new_hash,
                                 int64_t now, int64_t expires_at) {
  char key[MSVC_ID_SIZE];
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(ctx, &c);
  if (rc != 0)
    return rc;
  lower_id(key, id);
  s = c->stmt[MSVC__SQL_SESSION_ROTATE];
  rc = bind_id(s, 1, key) | bind_str(s, 2, old_hash) |
       bind_str(s, 3, new_hash) | sqlite3_bind_int64(s, 4, now) |
       sqlite3_bind_int64(s, 5, expires_at);
  rc = run_write(c, s, rc, 1);
  release(ctx, c);
  return rc;
}

static int sqlite_sessions_revoke(void *ctx, const char *user_id,
                                  const char *id, int except, size_t *n) {
  char uid[MSVC_ID_SIZE], sid[MSVC_ID_SIZE] = "";
  int which = id == NULL ? MSVC__SQL_SESSIONS_REVOKE_ALL
              : except   ? MSVC__SQL_SESSIONS_REVOKE_OTHERS
                         : MSVC__SQL_SESSIONS_REVOKE_ONE;
  int changes = 0;
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(ctx, &c);
  if (rc != 0)
    return rc;
  lower_id(uid, user_id);
  if (id != NULL)
    lower_id(sid, id);
  s = c->stmt[which];
  rc = bind_id(s, 1, uid);
  if (id != NULL)
    rc |= bind_id(s, 2, sid);
  rc = run_write_counted(c, s, rc, &changes);
  release(ctx, c);
  if (rc == 0 && n != NULL)
    *n = (size_t)changes;
  return rc;
}

static int sqlite_sessions_list(void *ctx, const char *user_id, int64_t now,
                                msvc_session_t *const *out, size_t max,
                                size_t *nout) {
  char uid[MSVC_ID_SIZE];
  size_t got = 0;
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(ctx, &c);
  *nout = 0;
  if (rc != 0)
    return rc;
  lower_id(uid, user_id);
  s = c->stmt[MSVC__SQL_SESSIONS_LIST];
  rc = bind_id(s, 1, uid) | sqlite3_bind_int64(s, 2, now) |
       sqlite3_bind_int64(s, 3, max > INT64_MAX ? INT64_MAX : (int64_t)max);
  rc = rc == SQLITE_OK ? read_rows(c, s, out, max, session_row, &got)
                       : db_error(c->db, rc);
  stmt_done(s);
  release(ctx, c);
  if (rc == 0)
    *nout = got;
  return rc;
}

/* ---- events ------------------------------------------------------------ */

static int sqlite_event_add(void *ctx, const char *key, const char *id,
                            int64_t at, int64_t expires_at) {
  char eid[MSVC_ID_SIZE];
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(ctx, &c);
  if (rc != 0)
    return rc;
  lower_id(eid, id);
  s = c->stmt[MSVC__SQL_EVENT_ADD];
  rc = bind_id(s, 1, eid) | bind_str(s, 2, key) | sqlite3_bind_int64(s, 3, at) |
       sqlite3_bind_int64(s, 4, expires_at);
  rc = run_write(c, s, rc, 0);
  release(ctx, c);
  return rc;
}

static int sqlite_event_stats(void *ctx, const char *key, int64_t since,
                              const char *exclude, int64_t *count,
                              int64_t *latest) {
  char eid[MSVC_ID_SIZE] = "";
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(ctx, &c);
  if (rc != 0)
    return rc;
  if (exclude != NULL)
    lower_id(eid, exclude);
  s = c->stmt[MSVC__SQL_EVENT_STATS];
  rc = bind_str(s, 1, key) | sqlite3_bind_int64(s, 2, since) |
       bind_str(s, 3, eid);
  rc = rc == SQLITE_OK ? sqlite3_step(s) : rc;
  if (rc == SQLITE_ROW) {
    *count = sqlite3_column_int64(s, 0);
    *latest = sqlite3_column_int64(s, 1);
    rc = 0;
  } else {
    rc = db_error(c->db, rc);
  }
  stmt_done(s);
  release(ctx, c);
  return rc;
}

/* Deletes what was asked, then a bounded batch of expired events. */
static int sqlite_event_delete(void *ctx, const char *key, const char *id,
                               int64_t now) {
  char eid[MSVC_ID_SIZE];
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(ctx, &c);
  if (rc != 0)
    return rc;
  if (id != NULL) {
    lower_id(eid, id);
    s = c->stmt[MSVC__SQL_EVENT_DELETE_ONE];
    rc = run_write(c, s, bind_str(s, 1, key) | bind_id(s, 2, eid), 0);
  } else {
    s = c->stmt[MSVC__SQL_EVENT_DELETE_KEY];
    rc = run_write(c, s, bind_str(s, 1, key), 0);
  }
  if (rc == 0) {
    s = c->stmt[MSVC__SQL_EVENT_PRUNE];
    rc = run_write(c, s, sqlite3_bind_int64(s, 1, now), 0);
  }
  release(ctx, c);
  return rc;
}

/* ---- the caller's state ------------------------------------------------- */

static int sqlite_caller_find(void *ctx, const char *user_id,
                              const char *session_id, msvc_user_record_t *out,
                              int *session_ok) {
  char uid[MSVC_ID_SIZE], sid[MSVC_ID_SIZE];
  conn_t *c;
  sqlite3_stmt *s;
  int rc = acquire(ctx, &c);
  if (rc != 0)
    return rc;
  lower_id(uid, user_id);
  s = c->stmt[MSVC__SQL_CALLER_FIND];
  rc = bind_id(s, 1, uid);
  if (session_id != NULL) {
    lower_id(sid, session_id);
    rc |= bind_id(s, 2, sid);
  } else {
    rc |= sqlite3_bind_null(s, 2);
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    rc = user_from_row(s, out->user);
    if (rc == 0)
      rc = col_str(s, RECORD_PASSWORD, &out->password_hash);
    out->tokens_valid_after =
        sqlite3_column_int64(s, RECORD_TOKENS_VALID_AFTER);
    *session_ok = sqlite3_column_type(s, CALLER_SESSION_OK) != SQLITE_NULL &&
                  sqlite3_column_int(s, CALLER_SESSION_OK) != 0;
  } else {
    rc = rc == SQLITE_DONE ? MSVC_ENOTFOUND : db_error(c->db, rc);
  }
  stmt_done(s);
  release(ctx, c);
  return rc;
}

/* ---- a page with its authors ------------------------------------------ */

/* The post's columns (POST_COLS, also the first of POST_AUTHOR_COLS, in
 * the same places) into row, borrowed from the statement. */
static int post_cols(sqlite3_stmt *s, msvc_page_row_t *row) {
  row->id = (const char *)sqlite3_column_text(s, POST_ID);
  row->user_id = (const char *)sqlite3_column_text(s, POST_USER_ID);
  row->created_at = sqlite3_column_int64(s, POST_CREATED_AT);
  row->updated_at = sqlite3_column_int64(s, POST_UPDATED_AT);
  if (col_view(s, POST_TITLE, &row->title, &row->title_len) != 0 ||
      col_view(s, POST_CONTENT, &row->content, &row->content_len) != 0)
    return MSVC_ENOMEM;
  return 0;
}

/* A row of POST_COLS into the sink, which copies it: no string is
 * allocated here. */
static int post_only_row(sqlite3_stmt *s, const void *out, size_t i) {
  msvc_page_row_t row = MSVC_PAGE_ROW_INIT;
  int rc = post_cols(s, &row);
  (void)i;
  return rc != 0 ? rc : msvc_page_sink_add((msvc_page_sink_t *)out, &row);
}

/* A row of POST_AUTHOR_COLS into the sink. */
static int post_author_row(sqlite3_stmt *s, const void *out, size_t i) {
  msvc_page_row_t row = MSVC_PAGE_ROW_INIT;
  int rc = post_cols(s, &row);
  (void)i;
  if (rc != 0)
    return rc;
  row.has_author = sqlite3_column_type(s, AUTHOR_NAME) != SQLITE_NULL;
  if (row.has_author) {
    row.author_created_at = sqlite3_column_int64(s, AUTHOR_CREATED_AT);
    row.author_updated_at = sqlite3_column_int64(s, AUTHOR_UPDATED_AT);
    if (col_view(s, AUTHOR_NAME, &row.author_name, &row.author_name_len) != 0 ||
        col_view(s, AUTHOR_EMAIL, &row.author_email, &row.author_email_len) !=
            0)
      return MSVC_ENOMEM;
  }
  return msvc_page_sink_add((msvc_page_sink_t *)out, &row);
}

/* With the join when the authors are wanted, else the plain listing (the
 * user lookups are a third of a row's cost). */
static int sqlite_post_list_authors(void *ctx, const msvc_post_query_t *q,
                                    msvc_page_sink_t *sink) {
  size_t got = 0;
  if (!msvc_page_sink_wants_authors(sink))
    return read_page(ctx, q, &plain_pages, sink, post_only_row, &got);
  return read_page(ctx, q, &author_pages, sink, post_author_row, &got);
}

static const msvc_store_methods_t sqlite_methods = {
    .version = MSVC_STORE_VERSION,
    .name = "sqlite",
    .flags = MSVC_STORE_LOCAL_READS,
    .open = sqlite_open,
    .close = sqlite_close,
    .ping = sqlite_ping,
    .user_insert = sqlite_user_insert,
    .user_find_by_id = sqlite_user_find_by_id,
    .user_find_by_email = sqlite_user_find_by_email,
    .user_update = sqlite_user_update,
    .users_find_many = sqlite_users_find_many,
    .post_insert = sqlite_post_insert,
    .post_find = sqlite_post_find,
    .post_update = sqlite_post_update,
    .post_delete = sqlite_post_delete,
    .post_list = sqlite_post_list,
    .session_insert = sqlite_session_insert,
    .session_find = sqlite_session_find,
    .session_find_by_hash = sqlite_session_find_by_hash,
    .session_rotate = sqlite_session_rotate,
    .sessions_revoke = sqlite_sessions_revoke,
    .sessions_list = sqlite_sessions_list,
    .event_add = sqlite_event_add,
    .event_stats = sqlite_event_stats,
    .event_delete = sqlite_event_delete,
    .caller_find = sqlite_caller_find,
    .post_list_authors = sqlite_post_list_authors,
};

const msvc_store_methods_t *msvc_store_sqlite(void) {
  return &sqlite_methods;
}
