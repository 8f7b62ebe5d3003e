/* store.c - the store registry, opening stores, and the msvc_store_*()
 * wrappers every caller goes through.
 *
 * Invariants:
 *  - a backend is only ever called through a wrapper here, which has
 *    checked the arguments (no NULL pointer reaches a method; ids of
 *    records being written, and every id a session method receives, are
 *    24 hex digits; token hashes are 64 lower-case hex digits; listing
 *    limits are in range), so backends may trust them;
 *  - a method is called only when the table's version has it and the entry
 *    is not NULL; otherwise the answer is MSVC_EUNSUPPORTED, never a jump
 *    to address 0 (SQLite's iVersion rule: methods are only appended);
 *  - `out` records are reset (strings freed, fields zeroed, allocations
 *    kept) before a method fills them and again when it fails, so a
 *    backend always starts from a zeroed record and a failed call leaves
 *    nothing behind for the caller to free;
 *  - an msvc_store_t is the table and its context, nothing else: the
 *    configuration is copied to the backend at open and not kept;
 *  - the registry maps lower-case schemes to borrowed tables under one
 *    mutex; "sqlite", "file" and scheme-less paths are built in and go to
 *    SQLite; an unknown scheme is refused before any backend runs, so
 *    nothing is created on disk for it.
 *
 * Lookups by a malformed id (find, delete) answer MSVC_ENOTFOUND rather
 * than MSVC_EINVAL: no record can have such an id, and callers pass ids
 * straight from request paths (a 404, not a 400, in the servers).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/sqlite.h"

#define SCHEME_MAX 31 /* bytes, as store.h documents */

struct msvc_store {
  const msvc_store_methods_t *methods;
  void *ctx;
};

/* ---- tables ------------------------------------------------------------- */

/* Bytes of the table a given version has: every method of that version and
 * the ones before it.  A new version appends its last member here. */
static size_t table_size(int version) {
  if (version >= 5) /* caller_find, post_list_authors */
    return offsetof(msvc_store_methods_t, post_list_authors) +
           sizeof(((msvc_store_methods_t *)0)->post_list_authors);
  if (version >= 4) /* events: .. event_delete */
    return offsetof(msvc_store_methods_t, event_delete) +
           sizeof(((msvc_store_methods_t *)0)->event_delete);
  if (version >= 3) /* sessions: .. sessions_list */
    return offsetof(msvc_store_methods_t, sessions_list) +
           sizeof(((msvc_store_methods_t *)0)->sessions_list);
  if (version >= 2) /* MSVC_STORE_MIN_VERSION: open .. post_list */
    return offsetof(msvc_store_methods_t, post_list) +
           sizeof(((msvc_store_methods_t *)0)->post_list);
  return 0;
}

/* 0 when the library can use the table, else MSVC_EINVAL with a reason. */
static int check_table(const msvc_store_methods_t *m, char *errbuf,
                       size_t errlen) {
  if (m == NULL) {
    msvc__set_error(errbuf, errlen, "no store method table given");
    return MSVC_EINVAL;
  }
  if (m->version < MSVC_STORE_MIN_VERSION || m->version > MSVC_STORE_VERSION) {
    msvc__set_error(errbuf, errlen,
                    "store method table \"%s\" has version %d; this library "
                    "accepts %d to %d",
                    m->name != NULL ? m->name : "?", m->version,
                    MSVC_STORE_MIN_VERSION, MSVC_STORE_VERSION);
    return MSVC_EINVAL;
  }
  if (m->open == NULL || m->close == NULL) {
    msvc__set_error(errbuf, errlen,
                    "store method table \"%s\" lacks open or close",
                    m->name != NULL ? m->name : "?");
    return MSVC_EINVAL;
  }
  return 0;
}

/* The method `field` of s's table, or NULL when its version predates it
 * or the table leaves it out. */
#define METHOD(s, field)                                                       \
  (offsetof(msvc_store_methods_t, field) < table_size((s)->methods->version)   \
       ? (s)->methods->field                                                   \
       : NULL)

/* ---- the registry ------------------------------------------------------- */

typedef struct scheme_entry {
  char scheme[SCHEME_MAX + 1]; /* lower-case */
  const msvc_store_methods_t *methods;
} scheme_entry_t;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static scheme_entry_t *registry; /* freed when the last entry goes */
static size_t registry_len, registry_cap;

static const char *const builtin_schemes[] = {"sqlite", "file"};

/* ASCII only, whatever the locale. */
static int scheme_char(char c, int first) {
  int letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (first)
    return letter;
  return letter || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

/* Length of the scheme that s starts with (RFC 3986: a letter, then
 * letters, digits, '+', '-', '.', then ':'); 0 when there is none. */
static size_t scheme_len(const char *s) {
  size_t n = 0;
  while (s[n] != '\0' && scheme_char(s[n], n == 0))
    n++;
  return n > 0 && s[n] == ':' ? n : 0;
}

/* 1 when name is a scheme msvc_store_register() accepts. */
static int scheme_valid(const char *name) {
  size_t n = 0;
  while (name[n] != '\0' && n <= SCHEME_MAX && scheme_char(name[n], n == 0))
    n++;
  return n > 0 && n <= SCHEME_MAX && name[n] == '\0';
}

static int is_builtin(const char *scheme, size_t len) {
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(builtin_schemes); i++)
    if (strlen(builtin_schemes[i]) == len &&
        strncasecmp(builtin_schemes[i], scheme, len) == 0)
      return 1;
  return 0;
}

/* Index of scheme[0..len) in the registry, or -1; under registry_lock. */
static long registry_find(const char *scheme, size_t len) {
  for (size_t i = 0; i < registry_len; i++)
    if (strlen(registry[i].scheme) == len &&
        strncasecmp(registry[i].scheme, scheme, len) == 0)
      return (long)i;
  return -1;
}

static int registry_grow(void) {
  size_t cap = registry_cap ? 2 * registry_cap : 8;
  scheme_entry_t *grown = realloc(registry, cap * sizeof(*grown));
  if (grown == NULL)
    return MSVC_ENOMEM;
  registry = grown;
  registry_cap = cap;
  return 0;
}

int msvc_store_register(const char *scheme,
                        const msvc_store_methods_t *methods) {
  int rc;
  if (scheme == NULL || !scheme_valid(scheme) ||
      check_table(methods, NULL, 0) != 0)
    return MSVC_EINVAL;
  pthread_mutex_lock(&registry_lock);
  if (is_builtin(scheme, strlen(scheme)) ||
      registry_find(scheme, strlen(scheme)) >= 0)
    rc = MSVC_EEXIST;
  else
    rc = registry_len == registry_cap ? registry_grow() : 0;
  if (rc == 0) {
    scheme_entry_t *e = &registry[registry_len++];
    msvc__strlcpy(e->scheme, scheme, sizeof(e->scheme));
    msvc__ascii_lower(e->scheme);
    e->methods = methods;
  }
  pthread_mutex_unlock(&registry_lock);
  return rc;
}

int msvc_store_unregister(const char *scheme) {
  long i;
  if (scheme == NULL)
    return MSVC_EINVAL;
  pthread_mutex_lock(&registry_lock);
  i = registry_find(scheme, strlen(scheme));
  if (i >= 0) {
    registry[i] = registry[--registry_len];
    if (registry_len == 0) { /* leave nothing behind for leak checkers */
      free(registry);
      registry = NULL;
      registry_cap = 0;
    }
  }
  pthread_mutex_unlock(&registry_lock);
  return i >= 0 ? 0 : MSVC_ENOTFOUND;
}

/* Appends ", name" (or "name" first) to out[size], truncating. */
static void append_name(char *out, size_t size, const char *name) {
  size_t used = strlen(out);
  snprintf(out + used, size - used, "%s%s", used > 0 ? ", " : "", name);
}

/* The known schemes, comma-separated, for an error message. */
static void known_schemes(char *out, size_t size) {
  out[0] = '\0';
  for (size_t i = 0; i < MSVC__ARRAY_SIZE(builtin_schemes); i++)
    append_name(out, size, builtin_schemes[i]);
  pthread_mutex_lock(&registry_lock);
  for (size_t i = 0; i < registry_len; i++)
    append_name(out, size, registry[i].scheme);
  pthread_mutex_unlock(&registry_lock);
}

/* The table for url's scheme; NULL (and errbuf) when it is unknown. */
static const msvc_store_methods_t *backend_for(const char *url, char *errbuf,
                                               size_t errlen) {
  const msvc_store_methods_t *m = NULL;
  size_t len = scheme_len(url);
  char known[256];
  long i;
  if (len == 0 || is_builtin(url, len))
    return msvc_store_sqlite();
  pthread_mutex_lock(&registry_lock);
  i = registry_find(url, len);
  if (i >= 0)
    m = registry[i].methods;
  pthread_mutex_unlock(&registry_lock);
  if (m != NULL)
    return m;
  known_schemes(known, sizeof(known));
  msvc__set_error(errbuf, errlen,
                  "unknown database URL scheme \"%.*s\" (known: %s; a "
                  "relative SQLite path with ':' needs \"sqlite:\")",
                  (int)(len < 64 ? len : 64), url, known);
  return NULL;
}

/* ---- open and close ------------------------------------------------------ */

int msvc_store_open(const char *url, const msvc_store_config_t *cfg,
                    msvc_store_t **out, char *errbuf, size_t errlen) {
  const msvc_store_methods_t *m;
  if (out != NULL)
    *out = NULL;
  if (url == NULL || out == NULL) {
    msvc__set_error(errbuf, errlen, "no database URL or no output given");
    return MSVC_EINVAL;
  }
  m = backend_for(url, errbuf, errlen);
  if (m == NULL)
    return MSVC_ECONFIG;
  return msvc_store_open_with(m, url, cfg, out, errbuf, errlen);
}

/* Runs the backend's open with a complete config and an error buffer that
 * is never NULL (the contract backends rely on). */
static int backend_open(msvc_store_t *s, const char *url,
                        const msvc_store_config_t *cfg, char *errbuf,
                        size_t errlen) {
  char local[256] = "";
  char *buf = errbuf != NULL && errlen > 0 ? errbuf : local;
  size_t len = errbuf != NULL && errlen > 0 ? errlen : sizeof(local);
  int rc;
  buf[0] = '\0';
  rc = s->methods->open(url, cfg, &s->ctx, buf, len);
  if (rc != 0 && buf[0] == '\0')
    msvc__set_error(buf, len, "%s store: %s",
                    s->methods->name != NULL ? s->methods->name : "?",
                    msvc_strerror(rc));
  return rc;
}

int msvc_store_open_with(const msvc_store_methods_t *methods, const char *url,
                         const msvc_store_config_t *cfg, msvc_store_t **out,
                         char *errbuf, size_t errlen) {
  msvc_store_config_t full = MSVC_STORE_CONFIG_INIT;
  msvc_store_t *s;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (url == NULL || out == NULL) {
    msvc__set_error(errbuf, errlen, "no database URL or no output given");
    return MSVC_EINVAL;
  }
  rc = check_table(methods, errbuf, errlen);
  if (rc != 0)
    return rc;
  if (msvc__copy_sized(&full, sizeof(full), cfg) != 0) {
    msvc__set_error(errbuf, errlen,
                    "store config: size field not set "
                    "(use MSVC_STORE_CONFIG_INIT)");
    return MSVC_EINVAL;
  }
  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return MSVC_ENOMEM;
  s->methods = methods;
  rc = backend_open(s, url, &full, errbuf, errlen);
  if (rc != 0) {
    free(s);
    return rc;
  }
  *out = s;
  return 0;
}

void msvc_store_close(msvc_store_t *store) {
  if (store == NULL)
    return;
  store->methods->close(store->ctx);
  free(store);
}

const char *msvc_store_name(const msvc_store_t *store) {
  return store != NULL ? store->methods->name : NULL;
}

int msvc_store_reads_are_local(const msvc_store_t *store) {
  return store != NULL && (store->methods->flags & MSVC_STORE_LOCAL_READS);
}

void *msvc__store_context(const msvc_store_t *store) {
  return store != NULL ? store->ctx : NULL;
}

/* ---- argument checks ----------------------------------------------------- */

/* A NUL-terminated 24-hex id in a char[MSVC_ID_SIZE] (or a string). */
static int id_ok(const char *id) {
  return id != NULL && msvc_id_valid(id, strnlen(id, MSVC_ID_SIZE));
}

static int record_ok(const msvc_user_record_t *rec) {
  return rec != NULL && rec->user != NULL && id_ok(rec->user->id) &&
         rec->user->name != NULL && rec->user->email != NULL &&
         rec->password_hash != NULL;
}

static int post_ok(const msvc_post_t *p, int need_author) {
  return p != NULL && id_ok(p->id) && (!need_author || id_ok(p->user_id)) &&
         p->title != NULL && p->content != NULL;
}

static void record_reset(msvc_user_record_t *rec) {
  msvc__user_reset(rec->user);
  if (rec->password_hash != NULL) {
    explicit_bzero(rec->password_hash, strlen(rec->password_hash));
    free(rec->password_hash);
    rec->password_hash = NULL;
  }
  rec->tokens_valid_after = 0; /* a v2 backend never sets it */
}

/* Every entry of out[0..n) is a record the library made. */
static int users_present(msvc_user_t *const *out, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (out[i] == NULL)
      return 0;
  return 1;
}

static int posts_present(msvc_post_t *const *out, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (out[i] == NULL)
      return 0;
  return 1;
}

static int sessions_present(msvc_session_t *const *out, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (out[i] == NULL)
      return 0;
  return 1;
}

/* A token hash as the library makes them: 64 lower-case hex digits.
 * Backends compare hashes as strings, so another case would never match. */
static int hash_ok(const char *h) {
  if (h == NULL || strnlen(h, MSVC_HASH_SIZE) != MSVC_HASH_SIZE - 1)
    return 0;
  for (size_t i = 0; i < MSVC_HASH_SIZE - 1; i++)
    if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
      return 0;
  return 1;
}

static int session_ok(const msvc_session_t *s) {
  return s != NULL && id_ok(s->id) && id_ok(s->user_id) &&
         hash_ok(s->token_hash) &&
         (s->prev_hash[0] == '\0' || hash_ok(s->prev_hash));
}

/* ---- wrappers ------------------------------------------------------------ */

int msvc_store_ping(msvc_store_t *s) {
  int (*fn)(void *);
  if (s == NULL)
    return MSVC_EINVAL;
  fn = METHOD(s, ping);
  return fn != NULL ? fn(s->ctx) : MSVC_EUNSUPPORTED;
}

int msvc_store_user_insert(msvc_store_t *s, const msvc_user_record_t *rec) {
  int (*fn)(void *, const msvc_user_record_t *);
  if (s == NULL || !record_ok(rec))
    return MSVC_EINVAL;
  fn = METHOD(s, user_insert);
  return fn != NULL ? fn(s->ctx, rec) : MSVC_EUNSUPPORTED;
}

typedef int (*user_lookup_fn)(void *, const char *, msvc_user_record_t *);

/* Runs a lookup into a reset record, reset again when it fails. */
static int user_lookup(msvc_store_t *s, user_lookup_fn fn, const char *key,
                       msvc_user_record_t *out) {
  int rc;
  if (fn == NULL)
    return MSVC_EUNSUPPORTED;
  record_reset(out);
  rc = fn(s->ctx, key, out);
  if (rc != 0)
    record_reset(out);
  return rc;
}

int msvc_store_user_find_by_id(msvc_store_t *s, const char *id,
                               msvc_user_record_t *out) {
  if (s == NULL || id == NULL || out == NULL || out->user == NULL)
    return MSVC_EINVAL;
  if (METHOD(s, user_find_by_id) == NULL)
    return MSVC_EUNSUPPORTED;
  if (!id_ok(id))
    return MSVC_ENOTFOUND;
  return user_lookup(s, METHOD(s, user_find_by_id), id, out);
}

int msvc_store_user_find_by_email(msvc_store_t *s, const char *email,
                                  msvc_user_record_t *out) {
  if (s == NULL || email == NULL || out == NULL || out->user == NULL)
    return MSVC_EINVAL;
  return user_lookup(s, METHOD(s, user_find_by_email), email, out);
}

int msvc_store_user_update(msvc_store_t *s, const msvc_user_record_t *rec) {
  int (*fn)(void *, const msvc_user_record_t *);
  if (s == NULL || !record_ok(rec))
    return MSVC_EINVAL;
  fn = METHOD(s, user_update);
  return fn != NULL ? fn(s->ctx, rec) : MSVC_EUNSUPPORTED;
}

int msvc_store_users_find_many(msvc_store_t *s, const msvc_id_t *ids, size_t n,
                               msvc_user_t *const *out, size_t *nout) {
  int (*fn)(void *, const msvc_id_t *, size_t, msvc_user_t *const *, size_t *);
  int rc;
  if (nout != NULL)
    *nout = 0;
  if (s == NULL || nout == NULL ||
      (n > 0 && (ids == NULL || out == NULL || !users_present(out, n))))
    return MSVC_EINVAL;
  fn = METHOD(s, users_find_many);
  if (fn == NULL)
    return MSVC_EUNSUPPORTED;
  if (n == 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    msvc__user_reset(out[i]);
  rc = fn(s->ctx, ids, n, out, nout);
  if (rc == 0 && *nout > n)
    rc = MSVC_ESTORE; /* a backend bug; never hand out more than asked */
  if (rc != 0) {
    for (size_t i = 0; i < n; i++)
      msvc__user_reset(out[i]);
    *nout = 0;
  }
  return rc;
}

int msvc_store_post_insert(msvc_store_t *s, const msvc_post_t *post) {
  int (*fn)(void *, const msvc_post_t *);
  if (s == NULL || !post_ok(post, 1))
    return MSVC_EINVAL;
  fn = METHOD(s, post_insert);
  return fn != NULL ? fn(s->ctx, post) : MSVC_EUNSUPPORTED;
}

int msvc_store_post_find(msvc_store_t *s, const char *id, msvc_post_t *out) {
  int (*fn)(void *, const char *, msvc_post_t *);
  int rc;
  if (s == NULL || id == NULL || out == NULL)
    return MSVC_EINVAL;
  fn = METHOD(s, post_find);
  if (fn == NULL)
    return MSVC_EUNSUPPORTED;
  if (!id_ok(id))
    return MSVC_ENOTFOUND;
  msvc__post_reset(out);
  rc = fn(s->ctx, id, out);
  if (rc != 0)
    msvc__post_reset(out);
  return rc;
}

int msvc_store_post_update(msvc_store_t *s, const msvc_post_t *post) {
  int (*fn)(void *, const msvc_post_t *);
  if (s == NULL || !post_ok(post, 0))
    return MSVC_EINVAL;
  fn = METHOD(s, post_update);
  return fn != NULL ? fn(s->ctx, post) : MSVC_EUNSUPPORTED;
}

int msvc_store_post_delete(msvc_store_t *s, const char *id) {
  int (*fn)(void *, const char *);
  if (s == NULL || id == NULL)
    return MSVC_EINVAL;
  fn = METHOD(s, post_delete);
  if (fn == NULL)
    return MSVC_EUNSUPPORTED;
  return id_ok(id) ? fn(s->ctx, id) : MSVC_ENOTFOUND;
}

static int query_ok(const msvc_post_query_t *q) {
  return q != NULL && q->limit >= 1 && q->limit <= MSVC_LIST_MAX_LIMIT + 1 &&
         (q->user_id[0] == '\0' || id_ok(q->user_id)) &&
         (!q->has_cursor || id_ok(q->cursor.id));
}

int msvc_store_post_list(msvc_store_t *s, const msvc_post_query_t *q,
                         msvc_post_t *const *out, size_t *nout) {
  int (*fn)(void *, const msvc_post_query_t *, msvc_post_t *const *, size_t *);
  int rc;
  if (nout != NULL)
    *nout = 0;
  if (s == NULL || nout == NULL || out == NULL || !query_ok(q) ||
      !posts_present(out, q->limit))
    return MSVC_EINVAL;
  fn = METHOD(s, post_list);
  if (fn == NULL)
    return MSVC_EUNSUPPORTED;
  for (size_t i = 0; i < q->limit; i++)
    msvc__post_reset(out[i]);
  rc = fn(s->ctx, q, out, nout);
  if (rc == 0 && *nout > q->limit)
    rc = MSVC_ESTORE;
  if (rc != 0) {
    for (size_t i = 0; i < q->limit; i++)
      msvc__post_reset(out[i]);
    *nout = 0;
  }
  return rc;
}

/* ---- sessions (version 3) ------------------------------------------------ */

/* All six methods: a table with only some of them cannot keep sessions
 * consistently (a rotate without a revoke would defeat reuse detection). */
int msvc_store_has_sessions(const msvc_store_t *s) {
  return s != NULL && METHOD(s, session_insert) != NULL &&
         METHOD(s, session_find) != NULL &&
         METHOD(s, session_find_by_hash) != NULL &&
         METHOD(s, session_rotate) != NULL &&
         METHOD(s, sessions_revoke) != NULL && METHOD(s, sessions_list) != NULL;
}

int msvc_store_session_insert(msvc_store_t *s, const msvc_session_t *session) {
  int (*fn)(void *, const msvc_session_t *);
  if (s == NULL || !session_ok(session))
    return MSVC_EINVAL;
  fn = METHOD(s, session_insert);
  return fn != NULL ? fn(s->ctx, session) : MSVC_EUNSUPPORTED;
}

typedef int (*session_lookup_fn)(void *, const char *, msvc_session_t *);

/* Runs a lookup into a reset session, reset again when it fails; a key
 * no session can have is MSVC_ENOTFOUND without asking the backend. */
static int session_lookup(msvc_store_t *s, session_lookup_fn fn,
                          const char *key, int key_ok, msvc_session_t *out) {
  int rc;
  if (fn == NULL)
    return MSVC_EUNSUPPORTED;
  if (!key_ok)
    return MSVC_ENOTFOUND;
  msvc__session_reset(out);
  rc = fn(s->ctx, key, out);
  if (rc != 0)
    msvc__session_reset(out);
  return rc;
}

int msvc_store_session_find(msvc_store_t *s, const char *id,
                            msvc_session_t *out) {
  if (s == NULL || id == NULL || out == NULL)
    return MSVC_EINVAL;
  return session_lookup(s, METHOD(s, session_find), id, id_ok(id), out);
}

int msvc_store_session_find_by_hash(msvc_store_t *s, const char *hash,
                                    msvc_session_t *out) {
  if (s == NULL || hash == NULL || out == NULL)
    return MSVC_EINVAL;
  return session_lookup(s, METHOD(s, session_find_by_hash), hash, hash_ok(hash),
                        out);
}

/* The hash being written must be well formed; the id and the old hash
 * only select, so a malformed one simply matches nothing. */
int msvc_store_session_rotate(msvc_store_t *s, const char *id,
                              const char *old_hash, const char *new_hash,
                              int64_t now, int64_t expires_at) {
  int (*fn)(void *, const char *, const char *, const char *, int64_t, int64_t);
  if (s == NULL || id == NULL || old_hash == NULL || !hash_ok(new_hash))
    return MSVC_EINVAL;
  fn = METHOD(s, session_rotate);
  if (fn == NULL)
    return MSVC_EUNSUPPORTED;
  if (!id_ok(id) || !hash_ok(old_hash))
    return MSVC_ENOTFOUND;
  return fn(s->ctx, id, old_hash, new_hash, now, expires_at);
}

/* A malformed user id owns no session: nothing changes.  A malformed
 * session id is no session: "that one" changes nothing, "all but that
 * one" is all of them. */
int msvc_store_sessions_revoke(msvc_store_t *s, const char *user_id,
                               const char *id, int except, size_t *n) {
  int (*fn)(void *, const char *, const char *, int, size_t *);
  size_t changed = 0;
  int rc;
  if (n != NULL)
    *n = 0;
  if (s == NULL || user_id == NULL)
    return MSVC_EINVAL;
  fn = METHOD(s, sessions_revoke);
  if (fn == NULL)
    return MSVC_EUNSUPPORTED;
  if (!id_ok(user_id) || (id != NULL && !id_ok(id) && !except))
    return 0;
  if (id != NULL && !id_ok(id))
    id = NULL;
  rc = fn(s->ctx, user_id, id, id != NULL && except, &changed);
  if (rc == 0 && n != NULL)
    *n = changed;
  return rc;
}

static void sessions_reset(msvc_session_t *const *out, size_t n) {
  for (size_t i = 0; i < n; i++)
    msvc__session_reset(out[i]);
}

int msvc_store_sessions_list(msvc_store_t *s, const char *user_id, int64_t now,
                             msvc_session_t *const *out, size_t max,
                             size_t *nout) {
  int (*fn)(void *, const char *, int64_t, msvc_session_t *const *, size_t,
            size_t *);
  int rc;
  if (nout != NULL)
    *nout = 0;
  if (s == NULL || user_id == NULL || nout == NULL || out == NULL || max == 0 ||
      !sessions_present(out, max))
    return MSVC_EINVAL;
  fn = METHOD(s, sessions_list);
  if (fn == NULL)
    return MSVC_EUNSUPPORTED;
  if (!id_ok(user_id))
    return 0; /* nobody's: no sessions */
  sessions_reset(out, max);
  rc = fn(s->ctx, user_id, now, out, max, nout);
  if (rc == 0 && *nout > max)
    rc = MSVC_ESTORE; /* a backend bug; never hand out more than asked */
  if (rc != 0) {
    sessions_reset(out, max);
    *nout = 0;
  }
  return rc;
}

/* ---- events ---- */

int msvc_store_has_events(const msvc_store_t *s) {
  return s != NULL && METHOD(s, event_add) != NULL &&
         METHOD(s, event_stats) != NULL && METHOD(s, event_delete) != NULL;
}

static int event_key_ok(const char *key) {
  size_t n = 0;
  if (key == NULL)
    return 0;
  for (; key[n] != '\0'; n++)
    if ((unsigned char)key[n] < 0x21 || (unsigned char)key[n] > 0x7e ||
        n >= MSVC_EVENT_KEY_MAX)
      return 0;
  return n > 0;
}

int msvc_store_event_add(msvc_store_t *s, const char *key, const char *id,
                         int64_t at, int64_t expires_at) {
  int (*fn)(void *, const char *, const char *, int64_t, int64_t);
  if (s == NULL || !event_key_ok(key) || !id_ok(id))
    return MSVC_EINVAL;
  fn = METHOD(s, event_add);
  if (fn == NULL)
    return MSVC_EUNSUPPORTED;
  return fn(s->ctx, key, id, at, expires_at);
}

int msvc_store_event_stats(msvc_store_t *s, const char *key, int64_t since,
                           const char *exclude, int64_t *count,
                           int64_t *latest) {
  int (*fn)(void *, const char *, int64_t, const char *, int64_t *, int64_t *);
  int rc;
  if (count != NULL)
    *count = 0;
  if (latest != NULL)
    *latest = 0;
  if (s == NULL || !event_key_ok(key) || count == NULL || latest == NULL ||
      (exclude != NULL && !id_ok(exclude)))
    return MSVC_EINVAL;
  fn = METHOD(s, event_stats);
  if (fn == NULL)
    return MSVC_EUNSUPPORTED;
  rc = fn(s->ctx, key, since, exclude, count, latest);
  if (rc != 0)
    *count = *latest = 0;
  return rc;
}

int msvc_store_event_delete(msvc_store_t *s, const char *key, const char *id,
                            int64_t now) {
  int (*fn)(void *, const char *, const char *, int64_t);
  if (s == NULL || !event_key_ok(key) || (id != NULL && !id_ok(id)))
    return MSVC_EINVAL;
  fn = METHOD(s, event_delete);
  if (fn == NULL)
    return MSVC_EUNSUPPORTED;
  return fn(s->ctx, key, id, now);
}

/* ---- the caller's state ---- */

/* Two reads, for tables without caller_find. */
static int caller_find_apart(msvc_store_t *s, const char *user_id,
                             const char *session_id, msvc_user_record_t *out,
                             int *session_ok) {
  int rc = 0;
  if (session_id != NULL && msvc_store_has_sessions(s)) {
    msvc_session_t *sess = NULL;
    rc = msvc_session_new(&sess);
    if (rc == 0)
      rc = msvc_store_session_find(s, session_id, sess);
    if (rc == 0)
      *session_ok = !sess->revoked && strcmp(sess->user_id, user_id) == 0;
    msvc_session_free(sess);
    if (rc == MSVC_ENOTFOUND)
      rc = 0; /* no session: not alive */
  }
  return rc != 0 ? rc : msvc_store_user_find_by_id(s, user_id, out);
}

int msvc_store_caller_find(msvc_store_t *s, const char *user_id,
                           const char *session_id, msvc_user_record_t *out,
                           int *session_ok) {
  int (*fn)(void *, const char *, const char *, msvc_user_record_t *, int *);
  int rc;
  if (session_ok != NULL)
    *session_ok = 0;
  if (s == NULL || user_id == NULL || out == NULL || session_ok == NULL ||
      out->user == NULL)
    return MSVC_EINVAL;
  record_reset(out);
  if (!id_ok(user_id))
    return MSVC_ENOTFOUND;
  if (session_id != NULL && !id_ok(session_id))
    session_id = NULL; /* no session can have it: asked, not alive */
  fn = METHOD(s, caller_find);
  rc = fn != NULL ? fn(s->ctx, user_id, session_id, out, session_ok)
                  : caller_find_apart(s, user_id, session_id, out, session_ok);
  if (rc != 0) {
    record_reset(out);
    *session_ok = 0;
  }
  return rc;
}

/* ---- a page with its authors ---- */

int msvc__store_has_post_list_authors(const msvc_store_t *s) {
  return s != NULL && METHOD(s, post_list_authors) != NULL;
}

int msvc__store_post_page(msvc_store_t *s, const msvc_post_query_t *q,
                          msvc_page_sink_t *sink) {
  int (*fn)(void *, const msvc_post_query_t *, msvc_page_sink_t *);
  int rc;
  if (s == NULL || sink == NULL || !query_ok(q) || sink->cap < q->limit)
    return MSVC_EINVAL;
  fn = METHOD(s, post_list_authors);
  if (fn == NULL)
    return MSVC_EUNSUPPORTED;
  rc = fn(s->ctx, q, sink);
  /* The sink refuses rows past its room, which may exceed the query's
   * limit: a backend that gave more than asked is broken. */
  return rc == 0 && sink->count > q->limit ? MSVC_ESTORE : rc;
}

int msvc_store_post_list_authors(msvc_store_t *s, const msvc_post_query_t *q,
                                 msvc_post_t *const *out,
                                 msvc_user_t *const *authors, size_t *nout) {
  msvc_page_sink_t sink;
  int rc;
  if (nout != NULL)
    *nout = 0;
  if (s == NULL || nout == NULL || out == NULL || authors == NULL ||
      !query_ok(q) || !posts_present(out, q->limit))
    return MSVC_EINVAL;
  for (size_t i = 0; i < q->limit; i++)
    if (authors[i] == NULL)
      return MSVC_EINVAL;
  for (size_t i = 0; i < q->limit; i++) {
    msvc__post_reset(out[i]);
    msvc__user_reset(authors[i]);
  }
  msvc__page_sink_slots(&sink, out, authors, q->limit);
  rc = msvc__store_post_page(s, q, &sink);
  if (rc != 0) {
    for (size_t i = 0; i < q->limit; i++) {
      msvc__post_reset(out[i]);
      msvc__user_reset(authors[i]);
    }
    return rc;
  }
  *nout = sink.count;
  return 0;
}
