/* msvc/store.h - the pluggable storage interface and its registry.
 *
 * A backend is one `const msvc_store_methods_t` table plus the context its
 * open() returns, in the manner of sqlite3_vfs.  The library never calls a
 * table directly: it goes through the msvc_store_*() wrappers below, which
 * check arguments once and answer MSVC_EUNSUPPORTED for a method a table
 * leaves NULL, so a wrapping backend (a fault injector, a counter) only has
 * to forward to another store.
 *
 * Growing the table (SQLite's iVersion rule): methods are only ever
 * appended, each new one with a higher MSVC_STORE_VERSION.  The library
 * accepts every version from MSVC_STORE_MIN_VERSION to its own, and calls a
 * method only when the table's version has it.
 *
 * Picking a backend: msvc_store_open() reads the URL's scheme and looks it
 * up among the built-in backends ("sqlite:", "file:", a plain path: SQLite)
 * and those registered with msvc_store_register().  An unknown scheme is
 * MSVC_ECONFIG naming it, and nothing is created on disk.  A scheme is what
 * the URL starts with up to the first ':', when that is a letter followed
 * by letters, digits, '+', '-' or '.' (RFC 3986): so a relative SQLite path
 * with a ':' before any '/' ("data:v2.db") must be written "sqlite:data:v2.db"
 * (or "./data:v2.db").  The MongoDB backend lives in libmsvc-mongo
 * (msvc/mongo.h) and is registered by msvc_mongo_register().
 *
 * Contract every backend keeps:
 *  - every method is safe to call from several threads at once;
 *  - ids are 24-hex ObjectId strings produced by the caller;
 *  - emails are unique (case already folded by the caller): a clash on
 *    insert or update is MSVC_EEXIST, decided by the store atomically, not
 *    by a read before the write;
 *  - post_list returns posts strictly older than the cursor in the order
 *    (created_at DESC, id DESC), optionally of one author, using an index so
 *    that cost does not grow with the number of posts;
 *  - a 0 return from a write means it is durable under the backend's
 *    guarantee; an unreachable server is MSVC_EUNAVAIL within the configured
 *    timeout, never a hang; msvc_set_error_detail() may say more;
 *  - `out` records are allocated (zeroed) by the library; the backend fills
 *    them with strings from malloc().  On error the library frees whatever
 *    was filled.
 */
#ifndef MSVC_STORE_H
#define MSVC_STORE_H

#include "common.h"
#include "post.h"
#include "session.h"
#include "user.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MSVC_STORE_MIN_VERSION 2 /* the first layout of libmsvc 0.2 */
#define MSVC_STORE_VERSION 5     /* 3: sessions; 4: events; 5: caller_find */

/* Flags a backend may set in its table. */
enum {
  /* Reads are short local operations (no network round trip), cheap enough
   * to run on an event-loop thread.  Writes never are. */
  MSVC_STORE_LOCAL_READS = 1u << 0
};

/* Settings for opening a store.  Initialise with MSVC_STORE_CONFIG_INIT;
 * fields may be appended (the library reads only those `size` covers and
 * gives backends a complete copy). */
typedef struct msvc_store_config {
  size_t size;     /* sizeof(msvc_store_config_t) */
  int timeout_ms;  /* per operation (busy timeout / socket timeout); 5000 */
  int connections; /* upper bound on pooled connections; 0 = backend's */
} msvc_store_config_t;

#define MSVC_STORE_CONFIG_INIT                                                 \
  { sizeof(msvc_store_config_t), 5000, 0 }

/* A position in the newest-first order: strictly older than
 * (created_at, id). */
typedef struct msvc_cursor {
  int64_t created_at;
  char id[MSVC_ID_SIZE];
} msvc_cursor_t;

/* One page to read, built by the library. */
typedef struct msvc_post_query {
  size_t limit;               /* 1..MSVC_LIST_MAX_LIMIT + 1 */
  int has_cursor;             /* 0: start from the newest */
  msvc_cursor_t cursor;       /* return posts strictly older than this */
  char user_id[MSVC_ID_SIZE]; /* "" for every author */
} msvc_post_query_t;

/* One row of a page read with its authors, as a backend hands it to
 * msvc_page_sink_add.  Strings are borrowed (the sink copies them) and
 * counted in bytes, so they need no NUL; a NULL string reads as "".  Ids
 * other than 24 hex digits read as "".  Initialise with
 * MSVC_PAGE_ROW_INIT; fields may be appended (the sink reads only those
 * `size` covers). */
typedef struct msvc_page_row {
  size_t size; /* sizeof(msvc_page_row_t) */
  const char *id, *user_id;
  const char *title, *content;
  size_t title_len, content_len;
  int64_t created_at, updated_at;
  /* The author; has_author 0 when the store holds no user user_id. */
  int has_author;
  const char *author_name, *author_email;
  size_t author_name_len, author_email_len;
  int64_t author_created_at, author_updated_at;
} msvc_page_row_t;

#define MSVC_PAGE_ROW_INIT                                                     \
  {                                                                            \
    sizeof(msvc_page_row_t), NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL,      \
        NULL, 0, 0, 0, 0                                                       \
  }

/* Where post_list_authors puts its rows; made and owned by the library. */
typedef struct msvc_page_sink msvc_page_sink_t;

/* Copies row into the page being read.  0; MSVC_EINVAL for a NULL sink or
 * row, a row whose size is too small for the fields up to
 * author_updated_at, or a row past q->limit; MSVC_ENOMEM. */
MSVC_EXTERN int msvc_page_sink_add(msvc_page_sink_t *sink,
                                   const msvc_page_row_t *row);
/* 1 when the rows' authors are wanted, 0 when they are not (or sink is
 * NULL). */
MSVC_EXTERN int msvc_page_sink_wants_authors(const msvc_page_sink_t *sink);

typedef struct msvc_store_methods {
  int version;      /* MSVC_STORE_VERSION when the table was written */
  const char *name; /* "sqlite", "mongodb", ... */
  unsigned flags;   /* MSVC_STORE_* */

  /* ---- version 2 ---- */
  /* url as given.  On failure a readable reason in errbuf (never NULL). */
  int (*open)(const char *url, const msvc_store_config_t *cfg, void **ctx,
              char *errbuf, size_t errlen);
  void (*close)(void *ctx);
  /* 0 when the store answers now. */
  int (*ping)(void *ctx);

  int (*user_insert)(void *ctx, const msvc_user_record_t *rec);
  int (*user_find_by_id)(void *ctx, const char *id, msvc_user_record_t *out);
  int (*user_find_by_email)(void *ctx, const char *email,
                            msvc_user_record_t *out);
  /* Replaces name, email, password_hash and updated_at of rec->user->id. */
  int (*user_update)(void *ctx, const msvc_user_record_t *rec);
  /* Fills out[0..*nout) with the users among ids[0..n) that exist, in any
   * order, each once; out has n zeroed users.  One round trip, not n. */
  int (*users_find_many)(void *ctx, const msvc_id_t *ids, size_t n,
                         msvc_user_t *const *out, size_t *nout);

  int (*post_insert)(void *ctx, const msvc_post_t *post);
  int (*post_find)(void *ctx, const char *id, msvc_post_t *out);
  /* Replaces title, content and updated_at of post->id. */
  int (*post_update)(void *ctx, const msvc_post_t *post);
  int (*post_delete)(void *ctx, const char *id);
  /* Fills out[0..*nout), at most q->limit posts; out has q->limit zeroed
   * posts. */
  int (*post_list)(void *ctx, const msvc_post_query_t *q,
                   msvc_post_t *const *out, size_t *nout);

  /* ---- version 3: sessions ----
   * A version-2 table has none: the library then runs with sessions off
   * and MSVC_OPT_CHECK_REVOCATION ignored.  Version 3 backends also keep
   * msvc_user_record_t.tokens_valid_after in user_insert, user_update and
   * the user_find_* methods. */
  int (*session_insert)(void *ctx, const msvc_session_t *s);
  int (*session_find)(void *ctx, const char *id, msvc_session_t *out);
  /* The session whose token_hash or prev_hash is `hash`; MSVC_ENOTFOUND. */
  int (*session_find_by_hash)(void *ctx, const char *hash, msvc_session_t *out);
  /* Atomically, and only if session `id` is not revoked and its
   * token_hash is old_hash: prev_hash = old_hash, token_hash = new_hash,
   * rotated_at = last_used_at = now, expires_at = expires_at.  Otherwise
   * MSVC_ENOTFOUND (gone, or another caller rotated it first). */
  int (*session_rotate)(void *ctx, const char *id, const char *old_hash,
                        const char *new_hash, int64_t now, int64_t expires_at);
  /* Marks revoked: session `id` if it is user_id's (except == 0); every
   * session of user_id but `id` (except == 1); all of user_id's (id ==
   * NULL).  *n (may be NULL): how many changed. */
  int (*sessions_revoke)(void *ctx, const char *user_id, const char *id,
                         int except, size_t *n);
  /* user_id's sessions that are not revoked and end after `now`, newest
   * first, at most max; out has max zeroed sessions. */
  int (*sessions_list)(void *ctx, const char *user_id, int64_t now,
                       msvc_session_t *const *out, size_t max, size_t *nout);
  /* ---- version 4: events ----
   * Timestamped events under a key, shared by every process on the store:
   * the login throttle's failures and the shared rate limit.  Inserts
   * only, counted by a query, so that no backend needs an atomic
   * read-modify-write.  Keys: 1..MSVC_EVENT_KEY_MAX printable ASCII bytes;
   * ids: 24 hex digits made by the caller.  Events past expires_at may be
   * dropped at any time and are never counted.  Without these methods the
   * library keeps its counts per process. */
  int (*event_add)(void *ctx, const char *key, const char *id, int64_t at,
                   int64_t expires_at);
  /* Events of `key` with at > since: how many in
   * *count, and the latest `at` among them other than event `exclude`
   * (NULL: none excluded) in *latest (0 when none). */
  int (*event_stats)(void *ctx, const char *key, int64_t since,
                     const char *exclude, int64_t *count, int64_t *latest);
  /* Deletes event `id` of `key`, or every event of `key` (id NULL); 0
   * whether or not any existed.  Also a chance to drop expired events of
   * any key (those with expires_at <= now). */
  int (*event_delete)(void *ctx, const char *key, const char *id, int64_t now);
  /* ---- version 5 ----
   * What checking an access token needs, in one read: the record of
   * user_id in *out, and whether session session_id is alive for that
   * user (it exists, is user_id's and is not revoked) in *session_ok (0
   * or 1; left 0 when session_id is NULL).  MSVC_ENOTFOUND when there is
   * no such user.  Without it the library reads the session and the user
   * separately. */
  int (*caller_find)(void *ctx, const char *user_id, const char *session_id,
                     msvc_user_record_t *out, int *session_ok);
  /* post_list, each post with its author from this store's users: the
   * page and its authors in one read, which the library uses when its
   * user resolver is the local one over this store.  The backend hands
   * each row, newest first and at most q->limit of them, to
   * msvc_page_sink_add(sink, row), which copies it: row strings are only
   * borrowed for that call, so they can point into a driver's buffers.
   * A failing msvc_page_sink_add's code is the method's to return.  When
   * msvc_page_sink_wants_authors(sink) is 0 (the library's resolver is
   * not this store), rows may come without their authors (has_author 0)
   * and the backend can skip reading users. */
  int (*post_list_authors)(void *ctx, const msvc_post_query_t *q,
                           msvc_page_sink_t *sink);
  /* Methods of later versions are appended here. */
} msvc_store_methods_t;

/* The longest event key. */
#define MSVC_EVENT_KEY_MAX 200

/* The SQLite backend's table (static; never NULL). */
MSVC_EXTERN const msvc_store_methods_t *msvc_store_sqlite(void);

/* Makes URLs "SCHEME:..." open with `methods` (borrowed: it must stay valid
 * until unregistered or the process ends).  scheme: letters, digits, '+',
 * '-', '.', starting with a letter, case-insensitive, at most 31 bytes.
 * 0, MSVC_EINVAL (bad scheme or table), MSVC_EEXIST (scheme taken,
 * built-ins included) or MSVC_ENOMEM.  Thread-safe. */
MSVC_EXTERN int msvc_store_register(const char *scheme,
                                    const msvc_store_methods_t *methods);
/* 0 or MSVC_ENOTFOUND.  Stores already open keep working. */
MSVC_EXTERN int msvc_store_unregister(const char *scheme);

/* An open store: a table and its context. */
typedef struct msvc_store msvc_store_t;

/* Opens url with the backend its scheme names (cfg may be NULL for the
 * defaults).  MSVC_ECONFIG for an unknown scheme, with the scheme named in
 * errbuf (errbuf may be NULL). */
MSVC_EXTERN int msvc_store_open(const char *url, const msvc_store_config_t *cfg,
                                msvc_store_t **out, char *errbuf,
                                size_t errlen);
/* Opens url with an explicit table.  MSVC_EINVAL for a table whose version
 * this library does not know or that lacks open or close. */
MSVC_EXTERN int msvc_store_open_with(const msvc_store_methods_t *methods,
                                     const char *url,
                                     const msvc_store_config_t *cfg,
                                     msvc_store_t **out, char *errbuf,
                                     size_t errlen);
/* NULL is allowed. */
MSVC_EXTERN void msvc_store_close(msvc_store_t *store);

/* The backend's name ("sqlite", ...); NULL for NULL. */
MSVC_EXTERN const char *msvc_store_name(const msvc_store_t *store);
/* 1 when reads may run on an event-loop thread. */
MSVC_EXTERN int msvc_store_reads_are_local(const msvc_store_t *store);

/* Thin wrappers: argument checks (MSVC_EINVAL for a NULL pointer, a
 * record whose own id is not 24 hex digits, a limit out of range),
 * MSVC_EUNSUPPORTED for a method the table lacks, then the backend's
 * method.  A lookup or delete by a malformed id is MSVC_ENOTFOUND (no
 * record can have it) without reaching the backend.  Records in `out` are
 * emptied before the method runs and again if it fails.  `out` arguments are
 * records the caller allocated (msvc_user_record_new, msvc_post_new...),
 * exactly as the methods receive them, so a wrapping backend forwards what
 * it was given. */
MSVC_EXTERN int msvc_store_ping(msvc_store_t *s);
MSVC_EXTERN int msvc_store_user_insert(msvc_store_t *s,
                                       const msvc_user_record_t *rec);
MSVC_EXTERN int msvc_store_user_find_by_id(msvc_store_t *s, const char *id,
                                           msvc_user_record_t *out);
MSVC_EXTERN int msvc_store_user_find_by_email(msvc_store_t *s,
                                              const char *email,
                                              msvc_user_record_t *out);
MSVC_EXTERN int msvc_store_user_update(msvc_store_t *s,
                                       const msvc_user_record_t *rec);
MSVC_EXTERN int msvc_store_users_find_many(msvc_store_t *s,
                                           const msvc_id_t *ids, size_t n,
                                           msvc_user_t *const *out,
                                           size_t *nout);
MSVC_EXTERN int msvc_store_post_insert(msvc_store_t *s,
                                       const msvc_post_t *post);
MSVC_EXTERN int msvc_store_post_find(msvc_store_t *s, const char *id,
                                     msvc_post_t *out);
MSVC_EXTERN int msvc_store_post_update(msvc_store_t *s,
                                       const msvc_post_t *post);
MSVC_EXTERN int msvc_store_post_delete(msvc_store_t *s, const char *id);
MSVC_EXTERN int msvc_store_post_list(msvc_store_t *s,
                                     const msvc_post_query_t *q,
                                     msvc_post_t *const *out, size_t *nout);
/* 1 when the store keeps sessions (a version 3 table with the methods). */
MSVC_EXTERN int msvc_store_has_sessions(const msvc_store_t *s);
MSVC_EXTERN int msvc_store_session_insert(msvc_store_t *s,
                                          const msvc_session_t *session);
MSVC_EXTERN int msvc_store_session_find(msvc_store_t *s, const char *id,
                                        msvc_session_t *out);
MSVC_EXTERN int msvc_store_session_find_by_hash(msvc_store_t *s,
                                                const char *hash,
                                                msvc_session_t *out);
MSVC_EXTERN int msvc_store_session_rotate(msvc_store_t *s, const char *id,
                                          const char *old_hash,
                                          const char *new_hash, int64_t now,
                                          int64_t expires_at);
MSVC_EXTERN int msvc_store_sessions_revoke(msvc_store_t *s, const char *user_id,
                                           const char *id, int except,
                                           size_t *n);
MSVC_EXTERN int msvc_store_sessions_list(msvc_store_t *s, const char *user_id,
                                         int64_t now,
                                         msvc_session_t *const *out, size_t max,
                                         size_t *nout);
/* 1 when the store keeps events (a version 4 table with the methods). */
MSVC_EXTERN int msvc_store_has_events(const msvc_store_t *s);
/* MSVC_EINVAL for a key that is empty, longer than MSVC_EVENT_KEY_MAX or
 * not printable ASCII, an id that is not 24 hex digits, NULL outputs. */
MSVC_EXTERN int msvc_store_event_add(msvc_store_t *s, const char *key,
                                     const char *id, int64_t at,
                                     int64_t expires_at);
MSVC_EXTERN int msvc_store_event_stats(msvc_store_t *s, const char *key,
                                       int64_t since, const char *exclude,
                                       int64_t *count, int64_t *latest);
MSVC_EXTERN int msvc_store_event_delete(msvc_store_t *s, const char *key,
                                        const char *id, int64_t now);
/* Fills out[0..*nout) and authors[0..*nout) (an author left empty, id "",
 * when the store has no such user) with what post_list_authors read;
 * strings in them are malloc'd, like every record's.  MSVC_EUNSUPPORTED
 * for a table without post_list_authors. */
MSVC_EXTERN int msvc_store_post_list_authors(msvc_store_t *s,
                                             const msvc_post_query_t *q,
                                             msvc_post_t *const *out,
                                             msvc_user_t *const *authors,
                                             size_t *nout);
/* caller_find, or session_find and user_find_by_id for a table without
 * it: the same answer either way.  A malformed user id is
 * MSVC_ENOTFOUND, a malformed session id a session that is not alive. */
MSVC_EXTERN int msvc_store_caller_find(msvc_store_t *s, const char *user_id,
                                       const char *session_id,
                                       msvc_user_record_t *out,
                                       int *session_ok);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_STORE_H */
