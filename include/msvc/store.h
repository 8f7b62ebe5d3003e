/* msvc/store.h - the pluggable storage interface.
 *
 * A backend is one `const msvc_store_methods_t` table plus a context pointer
 * its open() returns, in the manner of sqlite3_vfs.  The core never calls a
 * table directly: it goes through the msvc_store_*() wrappers below, so a
 * wrapping backend (for example one that injects faults in tests) only has
 * to fill a table that forwards to another.
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
 *    timeout, never a hang.
 *  - records filled into `out` parameters are owned by the caller afterwards
 *    (release with msvc_user_record_clear / msvc_user_clear /
 *    msvc_post_clear); on error nothing needs releasing.
 */
#ifndef MSVC_STORE_H
#define MSVC_STORE_H

#include "common.h"
#include "post.h"
#include "user.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MSVC_STORE_VERSION 1

/* Flags a backend may set in its table. */
enum {
  /* Reads are short local operations (no network round trip), cheap enough
   * to run on an event-loop thread.  Writes never are. */
  MSVC_STORE_LOCAL_READS = 1u << 0
};

typedef struct msvc_store_config {
  int timeout_ms;   /* per operation (busy timeout / socket timeout); 5000 */
  int connections;  /* upper bound on pooled connections; 0 = backend's */
} msvc_store_config_t;

MSVC_EXTERN void msvc_store_config_init(msvc_store_config_t *cfg);

typedef struct msvc_post_query {
  size_t limit;          /* 1..MSVC_LIST_MAX_LIMIT (+1 allowed for peeking) */
  int has_cursor;        /* 0: start from the newest */
  msvc_cursor_t cursor;  /* return posts strictly older than this */
  char user_id[MSVC_ID_SIZE]; /* "" for every author */
} msvc_post_query_t;

typedef struct msvc_store_methods {
  int version;      /* MSVC_STORE_VERSION */
  const char *name; /* "sqlite", "mongodb", ... */
  unsigned flags;   /* MSVC_STORE_* */

  /* url as given in DATABASE_URL.  On failure, a readable reason in errbuf. */
  int (*open)(const char *url, const msvc_store_config_t *cfg, void **ctx,
              char *errbuf, size_t errlen);
  void (*close)(void *ctx);
  /* 0 when the store answers now. */
  int (*ping)(void *ctx);

  int (*user_insert)(void *ctx, const msvc_user_record_t *rec);
  int (*user_find_by_id)(void *ctx, const char *id, msvc_user_record_t *out);
  int (*user_find_by_email)(void *ctx, const char *email,
                            msvc_user_record_t *out);
  /* Replaces name, email, password_hash and updated_at of rec->user.id. */
  int (*user_update)(void *ctx, const msvc_user_record_t *rec);
  /* Fills out[0..*nout) with the users among ids[0..n) that exist, in any
   * order, each once; out has room for n.  One round trip, not n. */
  int (*users_find_many)(void *ctx, const msvc_id_t *ids, size_t n,
                         msvc_user_t *out, size_t *nout);

  int (*post_insert)(void *ctx, const msvc_post_t *post);
  int (*post_find)(void *ctx, const char *id, msvc_post_t *out);
  /* Replaces title, content and updated_at of post->id. */
  int (*post_update)(void *ctx, const msvc_post_t *post);
  int (*post_delete)(void *ctx, const char *id);
  /* Fills out[0..*nout), at most q->limit posts; out has room for limit. */
  int (*post_list)(void *ctx, const msvc_post_query_t *q, msvc_post_t *out,
                   size_t *nout);
} msvc_store_methods_t;

/* The backends this build carries. */
MSVC_EXTERN extern const msvc_store_methods_t msvc_store_sqlite;
MSVC_EXTERN extern const msvc_store_methods_t msvc_store_mongo;

/* An open store: a table and its context. */
typedef struct msvc_store msvc_store_t;

/* Picks the backend from the URL: "mongodb://" or "mongodb+srv://" is
 * MongoDB; "sqlite:PATH", "file:PATH" or a plain path is SQLite. */
MSVC_EXTERN const msvc_store_methods_t *msvc_store_backend_for(const char *url);

/* Opens url with the backend it names (cfg may be NULL for defaults). */
MSVC_EXTERN int msvc_store_open(const char *url, const msvc_store_config_t *cfg,
                                msvc_store_t **out, char *errbuf,
                                size_t errlen);
/* Opens url with an explicit table (a custom or wrapping backend). */
MSVC_EXTERN int msvc_store_open_with(const msvc_store_methods_t *methods,
                                     const char *url,
                                     const msvc_store_config_t *cfg,
                                     msvc_store_t **out, char *errbuf,
                                     size_t errlen);
MSVC_EXTERN void msvc_store_close(msvc_store_t *store);

MSVC_EXTERN const msvc_store_methods_t *msvc_store_get_methods(
    const msvc_store_t *store);
MSVC_EXTERN void *msvc_store_get_context(const msvc_store_t *store);
/* 1 when reads may run on an event-loop thread. */
MSVC_EXTERN int msvc_store_reads_are_local(const msvc_store_t *store);

/* Thin wrappers: argument checks, then the backend's method. */
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
MSVC_EXTERN int msvc_store_users_find_many(msvc_store_t *s, const msvc_id_t *ids,
                                           size_t n, msvc_user_t *out,
                                           size_t *nout);
MSVC_EXTERN int msvc_store_post_insert(msvc_store_t *s, const msvc_post_t *post);
MSVC_EXTERN int msvc_store_post_find(msvc_store_t *s, const char *id,
                                     msvc_post_t *out);
MSVC_EXTERN int msvc_store_post_update(msvc_store_t *s, const msvc_post_t *post);
MSVC_EXTERN int msvc_store_post_delete(msvc_store_t *s, const char *id);
MSVC_EXTERN int msvc_store_post_list(msvc_store_t *s, const msvc_post_query_t *q,
                                     msvc_post_t *out, size_t *nout);

#ifdef __cplusplus
}
#endif
#endif /* MSVC_STORE_H */
