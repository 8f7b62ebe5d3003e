/* conformance.c - the store contract of msvc/store.h, checked against
 * whatever backend a DATABASE_URL names:
 *
 *   store_conformance DATABASE_URL
 *
 * Only the public store API and the library's id generator are used, so
 * the same program runs unchanged on every backend (a mongodb URL first
 * registers the MongoDB module, which this program links when it is
 * built).  The URL should name fresh, empty storage (a new SQLite file, a
 * new MongoDB database); the checks are written to tolerate data left by an
 * earlier run all the same: emails carry a tag unique to the run, listings
 * of one author use fresh author ids, and a listing of every author only
 * looks at this run's posts within it.  Threads never call CHECK (the
 * harness counters are plain ints): they record what they saw and the main
 * thread checks it after joining.  Loops are bounded by counts, never by
 * time, and no check depends on timing: where threads must overlap, one
 * waits for the others' progress.
 *
 * Sessions (store version 3) are held to the same contract: lookups by
 * id and by the current or retired token hash, the rotation's
 * compare-and-set (also under eight racing threads), revocation counts,
 * the listing's order and filters, and User.tokens_valid_after.
 *
 * Besides the backend, the wrappers and the registry are held to their
 * word here: NULL arguments, tables with NULL methods or of versions the
 * library does not know, and URL schemes nobody registered.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "domain/idgen.h"
#include "msvc.h"
#ifdef MSVC_HAVE_MONGO
#include "msvc/mongo.h"
#endif
#include "testutil.h"

static const char *url;
static msvc_store_t *store;
static msvc__idgen_t *gen;
static char run_tag[MSVC_ID_SIZE]; /* makes this run's emails unique */
static int64_t base_ms;            /* this run's post times start here */

/* A bcrypt hash made by the seed's node bcrypt (DATA.md). */
static const char seed_hash[] =
    "$2b$10$C9XWPSw9uHefbp35dpHrMuIcK8Dcyy.GaJegqQGYGaJ007wCr3z4u";

/* ---- helpers ----------------------------------------------------------- */

static void *xcheck(void *p) {
  if (p == NULL) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return p;
}

static void *xmalloc(size_t n) {
  return xcheck(calloc(1, n ? n : 1));
}

static char *xstrdup(const char *s) {
  return xcheck(strdup(s));
}

static void new_id(char out[MSVC_ID_SIZE]) {
  msvc__idgen_next(gen, out);
}

/* A deterministic shuffle, so a failure reproduces. */
static void shuffle(size_t *v, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++)
    v[i] = i;
  for (size_t i = n; i > 1; i--) {
    size_t j, t;
    seed = seed * 1103515245u + 12345u;
    j = (seed >> 8) % i;
    t = v[i - 1];
    v[i - 1] = v[j];
    v[j] = t;
  }
}

/* An empty record to read into (msvc_user_record_free). */
static msvc_user_record_t *rec_out(void) {
  msvc_user_record_t *rec = NULL;
  if (msvc_user_record_new(&rec) != 0)
    xcheck(NULL);
  return rec;
}

/* A new user record with a fresh id (msvc_user_record_free). */
static msvc_user_record_t *user_new(const char *name, const char *email,
                                    int64_t at) {
  msvc_user_record_t *rec = rec_out();
  char id[MSVC_ID_SIZE];
  new_id(id);
  if (msvc_user_set(rec->user, id, name, email, at, at) != 0)
    xcheck(NULL);
  rec->password_hash = xstrdup(seed_hash);
  return rec;
}

/* Replaces a record's string field. */
static void set_str(char **field, const char *value) {
  free(*field);
  *field = xstrdup(value);
}

static void tagged_email(char *out, size_t size, const char *who, int n) {
  snprintf(out, size, "%s.%d.%s@example.com", who, n, run_tag);
}

static msvc_post_t *post_out(void) {
  msvc_post_t *p = NULL;
  if (msvc_post_new(&p) != 0)
    xcheck(NULL);
  return p;
}

/* A new post with a fresh id (msvc_post_free). */
static msvc_post_t *post_new(const char *user_id, const char *title,
                             const char *content, int64_t at) {
  msvc_post_t *p = post_out();
  new_id(p->id);
  memcpy(p->user_id, user_id, MSVC_ID_SIZE);
  p->title = xstrdup(title);
  p->content = xstrdup(content);
  p->created_at = at;
  p->updated_at = at;
  return p;
}

/* n empty posts (or users) to read into, and their release. */
static msvc_post_t **posts_out(size_t n) {
  msvc_post_t **v = xmalloc(n * sizeof(*v));
  for (size_t i = 0; i < n; i++)
    v[i] = post_out();
  return v;
}

static void posts_free(msvc_post_t **v, size_t n) {
  for (size_t i = 0; i < n; i++)
    msvc_post_free(v[i]);
  free(v);
}

static msvc_user_t **users_out(size_t n) {
  msvc_user_t **v = xmalloc(n * sizeof(*v));
  for (size_t i = 0; i < n; i++)
    if (msvc_user_new(&v[i]) != 0)
      xcheck(NULL);
  return v;
}

static void check_same_user(const msvc_user_t *got, const msvc_user_t *want) {
  CHECK_EQ_STR(got->id, want->id);
  CHECK_EQ_STR(got->name, want->name);
  CHECK_EQ_STR(got->email, want->email);
  CHECK_EQ_INT(got->created_at, want->created_at);
  CHECK_EQ_INT(got->updated_at, want->updated_at);
}

static void check_same_record(const msvc_user_record_t *got,
                              const msvc_user_record_t *want) {
  check_same_user(got->user, want->user);
  CHECK_EQ_STR(got->password_hash, want->password_hash);
}

static int same_post(const msvc_post_t *a, const msvc_post_t *b) {
  return strcmp(a->id, b->id) == 0 && strcmp(a->user_id, b->user_id) == 0 &&
         strcmp(a->title, b->title) == 0 &&
         strcmp(a->content, b->content) == 0 &&
         a->created_at == b->created_at && a->updated_at == b->updated_at;
}

/* The listing order: created_at DESC, then id DESC. */
static int newer_first(const msvc_post_t *a, const msvc_post_t *b) {
  if (a->created_at != b->created_at)
    return a->created_at > b->created_at ? -1 : 1;
  return -strcmp(a->id, b->id);
}

/* qsort over arrays of msvc_post_t *. */
static int newest_first(const void *pa, const void *pb) {
  return newer_first(*(msvc_post_t *const *)pa, *(msvc_post_t *const *)pb);
}

static int strictly_older(const msvc_post_t *prev, const msvc_post_t *cur) {
  return newer_first(prev, cur) < 0;
}

static void upper_id(char out[MSVC_ID_SIZE], const char *id) {
  for (int i = 0; i < MSVC_ID_SIZE; i++)
    out[i] = (id[i] >= 'a' && id[i] <= 'f') ? (char)(id[i] - 32) : id[i];
}

/* Writers' progress, which a paging reader can wait for: page k is only
 * fetched once k posts were written (or every writer has stopped), so the
 * walk and the writes interleave however the threads are scheduled. */
typedef struct pace {
  pthread_mutex_t lock;
  pthread_cond_t wrote;
  int written; /* by all writers */
  int writing; /* writers still running */
} pace_t;

static void pace_note(pace_t *p, int wrote, int finished) {
  pthread_mutex_lock(&p->lock);
  p->written += wrote;
  p->writing -= finished;
  pthread_cond_broadcast(&p->wrote);
  pthread_mutex_unlock(&p->lock);
}

static void pace_wait(pace_t *p, int pages) {
  if (p == NULL)
    return;
  pthread_mutex_lock(&p->lock);
  while (p->written < pages && p->writing > 0)
    pthread_cond_wait(&p->wrote, &p->lock);
  pthread_mutex_unlock(&p->lock);
}

/* Every post of `author` ("" for all), page by page with `limit`, each
 * page starting strictly after the last post of the one before.  The
 * posts are appended to *out (grown as needed; free with posts_free);
 * returns the store's error, if any.  A page that does not move past the
 * cursor ends the walk (and shows as an order violation), so a broken
 * backend cannot loop.  With a pace, each page waits for the writers (see
 * pace_t). */
static int list_all(const char *author, size_t limit, msvc_post_t ***out,
                    size_t *n, pace_t *pace) {
  msvc_post_query_t q;
  size_t cap = 64, got;
  int rc, pages = 0;
  *n = 0;
  *out = xmalloc(cap * sizeof(**out));
  memset(&q, 0, sizeof(q));
  q.limit = limit;
  snprintf(q.user_id, sizeof(q.user_id), "%s", author);
  do {
    msvc_post_t **page = posts_out(limit);
    pace_wait(pace, pages++);
    rc = msvc_store_post_list(store, &q, page, &got);
    if (rc != 0) {
      posts_free(page, limit);
      break;
    }
    if (*n + got > cap) {
      cap = 2 * (*n + got);
      *out = xcheck(realloc(*out, cap * sizeof(**out)));
    }
    memcpy(*out + *n, page, got * sizeof(*page)); /* the page's posts move */
    for (size_t i = got; i < limit; i++)
      msvc_post_free(page[i]);
    free(page);
    *n += got;
    if (got == 0 ||
        (*n > got && !strictly_older((*out)[*n - got - 1], (*out)[*n - got])))
      break;
    q.has_cursor = 1;
    q.cursor.created_at = (*out)[*n - 1]->created_at;
    memcpy(q.cursor.id, (*out)[*n - 1]->id, MSVC_ID_SIZE);
  } while (got == limit);
  return rc;
}

static size_t order_violations(msvc_post_t *const *v, size_t n) {
  size_t bad = 0;
  for (size_t i = 1; i < n; i++)
    if (!strictly_older(v[i - 1], v[i]))
      bad++;
  return bad;
}

/* ---- users ------------------------------------------------------------- */

static void test_ping(void) {
  CHECK_EQ_INT(msvc_store_ping(store), 0);
}

static void test_user_round_trip(void) {
  msvc_user_record_t *rec, *got = rec_out();
  char email[128], upper[MSVC_ID_SIZE], missing[MSVC_ID_SIZE];
  tagged_email(email, sizeof(email), "ada", 0);
  rec = user_new(
      "Ada Lovelace \xe2\x80\x94 Zo\xc3\xab \xe6\x9d\x8e \xf0\x9f\x9a\x80",
      email, 1706258964123);
  rec->user->updated_at = 1706258965456;
  CHECK_EQ_INT(msvc_store_user_insert(store, rec), 0);

  CHECK_EQ_INT(msvc_store_user_find_by_id(store, rec->user->id, got), 0);
  check_same_record(got, rec);

  /* The same record read into again: replaced, nothing leaks. */
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, email, got), 0);
  check_same_record(got, rec);

  /* An id is a value, not a spelling: either case finds the user. */
  upper_id(upper, rec->user->id);
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, upper, got), 0);
  CHECK_EQ_STR(got->user->id, rec->user->id);

  /* A failed lookup leaves the record empty. */
  new_id(missing);
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, missing, got), MSVC_ENOTFOUND);
  CHECK(got->user->name == NULL && got->password_hash == NULL);
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, "not-an-id", got),
               MSVC_ENOTFOUND);
  tagged_email(email, sizeof(email), "nobody", 0);
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, email, got),
               MSVC_ENOTFOUND);
  msvc_user_record_free(rec);
  msvc_user_record_free(got);
}

static void test_user_duplicates(void) {
  msvc_user_record_t *a, *b, *got = rec_out();
  char ea[128], eb[128];
  tagged_email(ea, sizeof(ea), "dup", 1);
  tagged_email(eb, sizeof(eb), "dup", 2);
  a = user_new("A", ea, 1000);
  b = user_new("B", ea, 2000);
  CHECK_EQ_INT(msvc_store_user_insert(store, a), 0);
  CHECK_EQ_INT(msvc_store_user_insert(store, b), MSVC_EEXIST);
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, ea, got), 0);
  CHECK_EQ_STR(got->user->id, a->user->id);
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, b->user->id, got),
               MSVC_ENOTFOUND);

  /* The same id again, with a free email: still a clash. */
  set_str(&a->user->email, eb);
  CHECK_EQ_INT(msvc_store_user_insert(store, a), MSVC_EEXIST);
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, eb, got), MSVC_ENOTFOUND);

  /* An update onto a taken email fails and changes nothing. */
  set_str(&b->user->email, eb);
  CHECK_EQ_INT(msvc_store_user_insert(store, b), 0);
  set_str(&b->user->email, ea);
  b->user->updated_at = 3000;
  CHECK_EQ_INT(msvc_store_user_update(store, b), MSVC_EEXIST);
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, b->user->id, got), 0);
  CHECK_EQ_STR(got->user->email, eb);
  CHECK_EQ_INT(got->user->updated_at, 2000);
  msvc_user_record_free(got);
  msvc_user_record_free(a);
  msvc_user_record_free(b);
}

static void test_user_update(void) {
  msvc_user_record_t *u, *other, *got = rec_out();
  char e1[128], e2[128];
  int64_t created = 1706258964000;
  tagged_email(e1, sizeof(e1), "upd", 1);
  tagged_email(e2, sizeof(e2), "upd", 2);
  u = user_new("Before", e1, created);
  CHECK_EQ_INT(msvc_store_user_insert(store, u), 0);

  set_str(&u->user->name, "After \xc3\xa9t\xc3\xa9");
  set_str(&u->user->email, e2);
  set_str(&u->password_hash, "$y$j9T$abcdefghijklmnop$0123456789");
  u->user->updated_at = created + 61000;
  u->user->created_at = 42; /* not a field update writes */
  CHECK_EQ_INT(msvc_store_user_update(store, u), 0);

  CHECK_EQ_INT(msvc_store_user_find_by_id(store, u->user->id, got), 0);
  u->user->created_at = created;
  check_same_record(got, u);
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, e1, got), MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, e2, got), 0);
  CHECK_EQ_STR(got->user->id, u->user->id);

  /* Writing the same values again is a success, not "not found". */
  CHECK_EQ_INT(msvc_store_user_update(store, u), 0);

  /* The old email is free again. */
  other = user_new("Other", e1, created);
  CHECK_EQ_INT(msvc_store_user_insert(store, other), 0);

  new_id(other->user->id);
  set_str(&other->user->email, "ghost@example.com");
  CHECK_EQ_INT(msvc_store_user_update(store, other), MSVC_ENOTFOUND);
  msvc_user_record_free(other);
  msvc_user_record_free(u);
  msvc_user_record_free(got);
}

/* The found users are exactly `want[0..nwant)`, each once. */
static void check_found(msvc_user_t *const *found, size_t nfound,
                        msvc_user_record_t *const *want, size_t nwant) {
  char *seen = xmalloc(nwant);
  size_t matched = 0, bad = 0;
  CHECK_EQ_INT(nfound, nwant);
  for (size_t i = 0; i < nfound; i++) {
    for (size_t j = 0; j < nwant; j++) {
      if (strcmp(found[i]->id, want[j]->user->id) != 0)
        continue;
      if (!seen[j]) {
        check_same_user(found[i], want[j]->user);
        matched++;
      }
      seen[j]++;
    }
  }
  CHECK_EQ_INT(matched, nwant);
  for (size_t j = 0; j < nwant; j++)
    bad += seen[j] != 1;
  CHECK_EQ_INT(bad, 0);
  free(seen);
}

static void test_users_find_many(void) {
  enum { KNOWN = 400, ASKED = 1000 };
  msvc_user_record_t **users = xmalloc(KNOWN * sizeof(*users));
  msvc_id_t *ids = xmalloc(ASKED * sizeof(*ids));
  msvc_user_t **out = users_out(ASKED);
  size_t nout = 99, order[ASKED];
  char email[128], name[32];
  int inserted = 0;

  for (int i = 0; i < KNOWN; i++) {
    tagged_email(email, sizeof(email), "many", i);
    snprintf(name, sizeof(name), "many %d", i);
    users[i] = user_new(name, email, 1700000000000 + i);
    inserted += msvc_store_user_insert(store, users[i]) == 0;
  }
  CHECK_EQ_INT(inserted, KNOWN);

  /* 1000 ids in one call: the 400 users mixed among 600 unknown ids. */
  shuffle(order, ASKED, 7);
  for (size_t i = 0; i < ASKED; i++) {
    if (order[i] < KNOWN)
      memcpy(ids[i].hex, users[order[i]]->user->id, MSVC_ID_SIZE);
    else
      new_id(ids[i].hex);
  }
  CHECK_EQ_INT(msvc_store_users_find_many(store, ids, ASKED, out, &nout), 0);
  check_found(out, nout, users, KNOWN);

  /* Five users, each asked twice, among unknown and malformed ids. */
  for (int i = 0; i < 5; i++) {
    memcpy(ids[2 * i].hex, users[i]->user->id, MSVC_ID_SIZE);
    memcpy(ids[2 * i + 1].hex, users[i]->user->id, MSVC_ID_SIZE);
  }
  for (int i = 10; i < 13; i++)
    new_id(ids[i].hex);
  snprintf(ids[13].hex, MSVC_ID_SIZE, "%s", "not-hex-not-hex-not-hex!");
  CHECK_EQ_INT(msvc_store_users_find_many(store, ids, 14, out, &nout), 0);
  check_found(out, nout, users, 5);

  CHECK_EQ_INT(msvc_store_users_find_many(store, ids + 10, 3, out, &nout), 0);
  CHECK_EQ_INT(nout, 0);
  CHECK_EQ_INT(msvc_store_users_find_many(store, ids, 0, out, &nout), 0);
  CHECK_EQ_INT(nout, 0);
  CHECK_EQ_INT(msvc_store_users_find_many(store, NULL, 0, NULL, &nout), 0);

  for (int i = 0; i < KNOWN; i++)
    msvc_user_record_free(users[i]);
  free(users);
  free(ids);
  msvc_users_free(out, ASKED);
}

/* ---- posts ------------------------------------------------------------- */

static void check_same_post(const msvc_post_t *got, const msvc_post_t *want) {
  CHECK_EQ_STR(got->id, want->id);
  CHECK_EQ_STR(got->user_id, want->user_id);
  CHECK_EQ_STR(got->title, want->title);
  CHECK(strcmp(got->content, want->content) == 0);
  CHECK_EQ_INT(got->created_at, want->created_at);
  CHECK_EQ_INT(got->updated_at, want->updated_at);
}

/* The largest content the contract allows, with multi-byte characters. */
static char *big_content(void) {
  static const char piece[] = "Gr\xc3\xbc\xc3\x9f \xe4\xb8\x96\xe7\x95\x8c "
                              "\xf0\x9f\x8c\x8d \"quoted\" \\ line\n";
  size_t plen = sizeof(piece) - 1, n = 0;
  char *s = xmalloc(MSVC_CONTENT_MAX_BYTES + 1);
  while (n + plen <= MSVC_CONTENT_MAX_BYTES) {
    memcpy(s + n, piece, plen);
    n += plen;
  }
  memset(s + n, 'x', MSVC_CONTENT_MAX_BYTES - n);
  s[MSVC_CONTENT_MAX_BYTES] = '\0';
  return s;
}

static void test_post_crud(void) {
  msvc_post_t *p, *missing, *got = post_out();
  char author[MSVC_ID_SIZE], upper[MSVC_ID_SIZE];
  char *content = big_content();
  new_id(author);
  p = post_new(author, "Hello \xe2\x80\x94 \xe4\xb8\x96\xe7\x95\x8c", content,
               1706259100123);
  p->updated_at = 1706259100124;
  CHECK_EQ_INT(msvc_store_post_insert(store, p), 0);
  CHECK_EQ_INT(msvc_store_post_insert(store, p), MSVC_EEXIST);

  CHECK_EQ_INT(msvc_store_post_find(store, p->id, got), 0);
  check_same_post(got, p);
  upper_id(upper, p->id);
  CHECK_EQ_INT(msvc_store_post_find(store, upper, got), 0);
  CHECK_EQ_STR(got->id, p->id);

  /* An update writes title, content and updated_at only. */
  set_str(&p->title, "Edited");
  set_str(&p->content, "");
  p->updated_at = 1706259200000;
  p->created_at = 1;
  new_id(p->user_id);
  CHECK_EQ_INT(msvc_store_post_update(store, p), 0);
  CHECK_EQ_INT(msvc_store_post_find(store, p->id, got), 0);
  p->created_at = 1706259100123;
  memcpy(p->user_id, author, MSVC_ID_SIZE);
  check_same_post(got, p);
  CHECK_EQ_INT(msvc_store_post_update(store, p), 0);

  CHECK_EQ_INT(msvc_store_post_delete(store, p->id), 0);
  CHECK_EQ_INT(msvc_store_post_find(store, p->id, got), MSVC_ENOTFOUND);
  CHECK(got->title == NULL);
  CHECK_EQ_INT(msvc_store_post_delete(store, p->id), MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_post_update(store, p), MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_post_find(store, "not-an-id", got), MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_post_delete(store, "not-an-id"), MSVC_ENOTFOUND);

  missing = post_new(author, "never stored", "x", 5);
  CHECK_EQ_INT(msvc_store_post_find(store, missing->id, got), MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_post_update(store, missing), MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_post_delete(store, missing->id), MSVC_ENOTFOUND);
  msvc_post_free(missing);
  msvc_post_free(p);
  msvc_post_free(got);
  free(content);
}

/* A listing of `author` equals want[0..n) exactly, both in one page and
 * page by page with several limits. */
static void check_author_listing(const char *author, msvc_post_t *const *want,
                                 size_t n) {
  static const size_t limits[] = {MSVC_LIST_MAX_LIMIT + 1, 5, 3, 1};
  for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
    msvc_post_t **got;
    size_t ngot, same = 0;
    CHECK_EQ_INT(list_all(author, limits[l], &got, &ngot, NULL), 0);
    CHECK_EQ_INT(ngot, n);
    for (size_t i = 0; i < ngot && i < n; i++)
      same += same_post(got[i], want[i]);
    CHECK_EQ_INT(same, n);
    posts_free(got, ngot);
  }
}

/* Checks the listing of every author: this run's posts come in the
 * expected order, and the whole listing is strictly ordered. */
static void check_global_listing(msvc_post_t *const *want, size_t n) {
  msvc_post_t **got;
  size_t ngot, next = 0, misplaced = 0;
  CHECK_EQ_INT(list_all("", MSVC_LIST_MAX_LIMIT, &got, &ngot, NULL), 0);
  CHECK_EQ_INT(order_violations(got, ngot), 0);
  for (size_t i = 0; i < ngot; i++) {
    for (size_t j = 0; j < n; j++) {
      if (strcmp(got[i]->id, want[j]->id) != 0)
        continue;
      misplaced += j != next;
      next++;
    }
  }
  CHECK_EQ_INT(next, n);
  CHECK_EQ_INT(misplaced, 0);
  posts_free(got, ngot);
}

/* Where a cursor that names no stored post starts. */
static void check_cursor_between(const char *author, msvc_post_t *const *want,
                                 size_t n) {
  msvc_post_query_t q;
  msvc_post_t **page = posts_out(2);
  size_t got, k = 4;
  memset(&q, 0, sizeof(q));
  q.limit = 2;
  q.has_cursor = 1;
  memcpy(q.user_id, author, MSVC_ID_SIZE);
  while (k > 0 && want[k - 1]->created_at == want[k]->created_at)
    k--; /* the newest post with want[4]'s time */
  q.cursor.created_at = want[k]->created_at;
  memcpy(q.cursor.id, "ffffffffffffffffffffffff", MSVC_ID_SIZE);
  CHECK_EQ_INT(msvc_store_post_list(store, &q, page, &got), 0);
  CHECK_EQ_INT(got, 2);
  if (got > 0)
    CHECK_EQ_STR(page[0]->id, want[k]->id);

  while (k + 1 < n && want[k + 1]->created_at == want[k]->created_at)
    k++; /* the oldest with that time */
  memcpy(q.cursor.id, "000000000000000000000000", MSVC_ID_SIZE);
  CHECK_EQ_INT(msvc_store_post_list(store, &q, page, &got), 0);
  CHECK_EQ_INT(got, n - k - 1 < 2 ? n - k - 1 : 2);
  if (got > 0 && k + 1 < n)
    CHECK_EQ_STR(page[0]->id, want[k + 1]->id);
  posts_free(page, 2);
}

static void test_listing(void) {
  enum { N = 36, TIMES = 12 };
  msvc_post_t *all[N], *mine[N], *theirs[N], **page;
  size_t order[N], nmine = 0, ntheirs = 0, inserted = 0, got;
  char a[MSVC_ID_SIZE], b[MSVC_ID_SIZE], nobody[MSVC_ID_SIZE];
  char title[32], upper[MSVC_ID_SIZE];
  msvc_post_query_t q;
  new_id(a);
  new_id(b);
  new_id(nobody);
  /* Ids grow with creation; times are shuffled so that three posts share
   * each time and id order does not follow insertion order. */
  shuffle(order, N, 11);
  for (size_t i = 0; i < N; i++) {
    snprintf(title, sizeof(title), "post %zu", i);
    all[i] = post_new(i % 3 == 0 ? b : a, title, "body",
                      base_ms + (int64_t)(order[i] % TIMES) * 1000);
  }
  shuffle(order, N, 13);
  for (size_t i = 0; i < N; i++)
    inserted += msvc_store_post_insert(store, all[order[i]]) == 0;
  CHECK_EQ_INT(inserted, N);

  qsort(all, N, sizeof(all[0]), newest_first);
  for (size_t i = 0; i < N; i++) {
    if (strcmp(all[i]->user_id, a) == 0)
      mine[nmine++] = all[i];
    else
      theirs[ntheirs++] = all[i];
  }
  check_author_listing(a, mine, nmine);
  check_author_listing(b, theirs, ntheirs);
  check_global_listing(all, N);
  check_cursor_between(a, mine, nmine);

  /* An author in upper case is the same author; one without posts has
   * an empty listing. */
  memset(&q, 0, sizeof(q));
  q.limit = MSVC_LIST_MAX_LIMIT;
  upper_id(upper, b);
  memcpy(q.user_id, upper, MSVC_ID_SIZE);
  page = posts_out(q.limit);
  CHECK_EQ_INT(msvc_store_post_list(store, &q, page, &got), 0);
  CHECK_EQ_INT(got, ntheirs);
  memcpy(q.user_id, nobody, MSVC_ID_SIZE);
  CHECK_EQ_INT(msvc_store_post_list(store, &q, page, &got), 0);
  CHECK_EQ_INT(got, 0);
  posts_free(page, q.limit);
  for (size_t i = 0; i < N; i++)
    msvc_post_free(all[i]);
}

/* ---- concurrency ------------------------------------------------------- */

enum { RACERS = 8, RACE_ROUNDS = 5 };

typedef struct racer {
  pthread_barrier_t *start;
  msvc_user_record_t *rec;
  int rc;
} racer_t;

static void *race_register(void *arg) {
  racer_t *r = arg;
  pthread_barrier_wait(r->start);
  r->rc = msvc_store_user_insert(store, r->rec);
  return NULL;
}

/* (a) Eight registrations of one email at once: one wins, seven clash. */
static void test_concurrent_register(void) {
  msvc_user_record_t *got = rec_out();
  for (int round = 0; round < RACE_ROUNDS; round++) {
    pthread_barrier_t start;
    pthread_t th[RACERS];
    racer_t r[RACERS];
    char email[128];
    int wins = 0, clashes = 0, winner = -1;
    tagged_email(email, sizeof(email), "race", round);
    pthread_barrier_init(&start, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
      r[i].start = &start;
      r[i].rec = user_new("racer", email, 1700000000000);
      pthread_create(&th[i], NULL, race_register, &r[i]);
    }
    for (int i = 0; i < RACERS; i++) {
      pthread_join(th[i], NULL);
      if (r[i].rc == 0) {
        wins++;
        winner = i;
      }
      clashes += r[i].rc == MSVC_EEXIST;
    }
    pthread_barrier_destroy(&start);
    CHECK_EQ_INT(wins, 1);
    CHECK_EQ_INT(clashes, RACERS - 1);
    CHECK_EQ_INT(msvc_store_user_find_by_email(store, email, got), 0);
    if (winner >= 0)
      CHECK_EQ_STR(got->user->id, r[winner].rec->user->id);
    for (int i = 0; i < RACERS; i++)
      msvc_user_record_free(r[i].rec);
  }
  msvc_user_record_free(got);
}

enum { PAGED = 2000, PAGE = 7, WRITERS = 2, WRITES_MAX = 300 };

typedef struct writer {
  pace_t *pace;
  atomic_int *stop;
  int64_t first_time;
  int written, failed, first_error;
} writer_t;

/* Inserts posts newer than anything the reader can still reach, until
 * the reader is done (or WRITES_MAX). */
static void *write_newer(void *arg) {
  writer_t *w = arg;
  char author[MSVC_ID_SIZE];
  new_id(author);
  while (!atomic_load(w->stop) && w->written + w->failed < WRITES_MAX) {
    msvc_post_t *p = post_new(author, "newer", "written while paging",
                              w->first_time + w->written);
    int rc = msvc_store_post_insert(store, p);
    if (rc == 0) {
      w->written++;
    } else {
      w->failed++;
      w->first_error = w->first_error ? w->first_error : rc;
    }
    msvc_post_free(p);
    pace_note(w->pace, rc == 0, 0);
  }
  pace_note(w->pace, 0, 1);
  return NULL;
}

/* qsort over arrays of msvc_post_t *, by id. */
static int by_id(const void *pa, const void *pb) {
  return strcmp((*(msvc_post_t *const *)pa)->id,
                (*(msvc_post_t *const *)pb)->id);
}

/* Each of the `n` sorted-by-id posts in want is in got (sorted by id too)
 * exactly once; returns how many are not. */
static size_t missing_or_repeated(msvc_post_t *const *got, size_t ngot,
                                  msvc_post_t *const *want, size_t n) {
  size_t bad = 0, i = 0;
  for (size_t j = 0; j < n; j++) {
    size_t hits = 0;
    while (i < ngot && strcmp(got[i]->id, want[j]->id) < 0)
      i++;
    while (i < ngot && strcmp(got[i]->id, want[j]->id) == 0) {
      hits++;
      i++;
    }
    bad += hits != 1;
  }
  return bad;
}

/* (b) A reader pages through 2,000 posts, 7 at a time, while two writers
 * add newer posts: every post that existed when it started is seen once,
 * in strictly descending order. */
static void test_paging_while_writing(void) {
  msvc_post_t **initial = xmalloc(PAGED * sizeof(*initial)), **seen;
  int64_t t0 = base_ms + 100000;
  char author[MSVC_ID_SIZE];
  pthread_t th[WRITERS];
  writer_t w[WRITERS];
  pace_t pace = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0,
                 WRITERS};
  atomic_int stop;
  size_t nseen, inserted = 0, repeats = 0;
  int written = 0;
  new_id(author);
  for (size_t i = 0; i < PAGED; i++) {
    /* 7919 is prime to 2000: a permutation of times, two posts each. */
    initial[i] = post_new(author, "old", "there at the start",
                          t0 + (int64_t)((i * 7919) % PAGED) / 2);
    inserted += msvc_store_post_insert(store, initial[i]) == 0;
  }
  CHECK_EQ_INT(inserted, PAGED);

  atomic_init(&stop, 0);
  for (int i = 0; i < WRITERS; i++) {
    w[i] = (writer_t){&pace, &stop, t0 + PAGED + 1000 * (i + 1), 0, 0, 0};
    pthread_create(&th[i], NULL, write_newer, &w[i]);
  }
  CHECK_EQ_INT(list_all("", PAGE, &seen, &nseen, &pace), 0);
  atomic_store(&stop, 1);
  for (int i = 0; i < WRITERS; i++) {
    pthread_join(th[i], NULL);
    CHECK_EQ_INT(w[i].failed, 0);
    if (w[i].failed)
      fprintf(stderr, "writer %d: %s\n", i, msvc_err_name(w[i].first_error));
    written += w[i].written;
  }
  /* The walk took over PAGED / PAGE pages, each after one more write. */
  CHECK(written >= PAGED / PAGE);
  CHECK_EQ_INT(order_violations(seen, nseen), 0);
  qsort(seen, nseen, sizeof(*seen), by_id);
  for (size_t i = 1; i < nseen; i++)
    repeats += strcmp(seen[i - 1]->id, seen[i]->id) == 0;
  CHECK_EQ_INT(repeats, 0);
  qsort(initial, PAGED, sizeof(*initial), by_id);
  CHECK_EQ_INT(missing_or_repeated(seen, nseen, initial, PAGED), 0);
  posts_free(seen, nseen);
  posts_free(initial, PAGED);
}

enum { WORKERS = 4, WORK_ROUNDS = 80 };

typedef struct worker {
  int index;
  int ops, failed;
  char first_failure[160];
} worker_t;

static void work_failed(worker_t *w, const char *what, int rc) {
  if (w->failed++ == 0)
    snprintf(w->first_failure, sizeof(w->first_failure), "%s: %s", what,
             msvc_err_name(rc));
}

/* Runs `call`, expecting `want`, and counts it. */
#define EXPECT(w, call, want)                                                  \
  do {                                                                         \
    int expect_rc_ = (call);                                                   \
    (w)->ops++;                                                                \
    if (expect_rc_ != (want))                                                  \
      work_failed((w), #call, expect_rc_);                                     \
  } while (0)

/* A worker's records to read into, reused round after round. */
typedef struct work_out {
  msvc_user_record_t *got;
  msvc_user_t **users;
  msvc_post_t *found;
  msvc_post_t **page;
} work_out_t;

/* One round of a worker: a user and a post through their whole life. */
static void work_round(worker_t *w, int round, msvc_id_t *mine, size_t *nmine,
                       work_out_t *o) {
  msvc_user_record_t *rec;
  msvc_post_t *post;
  msvc_post_query_t q;
  size_t n = 0, want;
  char email[128], who[32];
  snprintf(who, sizeof(who), "worker%d", w->index);
  tagged_email(email, sizeof(email), who, round);
  rec = user_new(who, email, base_ms + round);
  EXPECT(w, msvc_store_user_insert(store, rec), 0);
  EXPECT(w, msvc_store_user_find_by_id(store, rec->user->id, o->got), 0);
  EXPECT(w, msvc_store_user_find_by_email(store, email, o->got), 0);
  rec->user->updated_at++;
  EXPECT(w, msvc_store_user_update(store, rec), 0);
  memcpy(mine[*nmine % 10].hex, rec->user->id, MSVC_ID_SIZE);
  (*nmine)++;
  want = *nmine < 10 ? *nmine : 10;
  EXPECT(w, msvc_store_users_find_many(store, mine, want, o->users, &n), 0);
  if (n != want)
    work_failed(w, "users_find_many count", (int)n);

  post = post_new(rec->user->id, "busy", "post", base_ms + round);
  EXPECT(w, msvc_store_post_insert(store, post), 0);
  EXPECT(w, msvc_store_post_find(store, post->id, o->found), 0);
  post->updated_at++;
  EXPECT(w, msvc_store_post_update(store, post), 0);
  memset(&q, 0, sizeof(q));
  q.limit = 10;
  memcpy(q.user_id, rec->user->id, MSVC_ID_SIZE);
  EXPECT(w, msvc_store_post_list(store, &q, o->page, &n), 0);
  if (n != 1)
    work_failed(w, "post_list count", (int)n);
  if (round % 3 == 0)
    EXPECT(w, msvc_store_post_delete(store, post->id), 0);
  msvc_post_free(post);
  msvc_user_record_free(rec);
}

static void *work(void *arg) {
  worker_t *w = arg;
  work_out_t o = {rec_out(), users_out(10), post_out(), posts_out(10)};
  msvc_id_t mine[10];
  size_t nmine = 0;
  for (int round = 0; round < WORK_ROUNDS; round++)
    work_round(w, round, mine, &nmine, &o);
  msvc_user_record_free(o.got);
  msvc_users_free(o.users, 10);
  msvc_post_free(o.found);
  posts_free(o.page, 10);
  return NULL;
}

/* (c) Readers and writers of every kind at once: no errors. */
static void test_mixed_load(void) {
  pthread_t th[WORKERS];
  worker_t w[WORKERS];
  for (int i = 0; i < WORKERS; i++) {
    memset(&w[i], 0, sizeof(w[i]));
    w[i].index = i;
    pthread_create(&th[i], NULL, work, &w[i]);
  }
  for (int i = 0; i < WORKERS; i++) {
    pthread_join(th[i], NULL);
    CHECK_EQ_INT(w[i].failed, 0);
    CHECK(w[i].ops >= WORK_ROUNDS * 9);
    if (w[i].failed)
      fprintf(stderr, "worker %d: %d failures, first %s\n", i, w[i].failed,
              w[i].first_failure);
  }
}

/* ---- sessions (store version 3) ------------------------------------------ */

/* A fresh random token hash: 64 lower-case hex digits. */
static void new_hash(char out[MSVC_HASH_SIZE]) {
  if (msvc__random_hex(out, (MSVC_HASH_SIZE - 1) / 2) != 0)
    xcheck(NULL);
}

static msvc_session_t *session_out(void) {
  msvc_session_t *s = NULL;
  if (msvc_session_new(&s) != 0)
    xcheck(NULL);
  return s;
}

/* A new session of user_id (msvc_session_free), created at `at` and
 * ending at `ends`, with a user agent and an address. */
static msvc_session_t *session_make(const char *user_id, int64_t at,
                                    int64_t ends) {
  msvc_session_t *s = session_out();
  new_id(s->id);
  memcpy(s->user_id, user_id, MSVC_ID_SIZE);
  new_hash(s->token_hash);
  s->created_at = s->last_used_at = at;
  s->expires_at = ends;
  s->user_agent = xstrdup("Mozilla/5.0 (X11; Linux x86_64) conformance");
  s->ip = xstrdup("2001:db8::7");
  return s;
}

static msvc_session_t **sessions_out(size_t n) {
  msvc_session_t **v = xmalloc(n * sizeof(*v));
  for (size_t i = 0; i < n; i++)
    v[i] = session_out();
  return v;
}

static void sessions_free(msvc_session_t **v, size_t n) {
  for (size_t i = 0; i < n; i++)
    msvc_session_free(v[i]);
  free(v);
}

/* Both NULL, or the same string. */
static int same_opt(const char *a, const char *b) {
  return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static void check_same_session(const msvc_session_t *got,
                               const msvc_session_t *want) {
  CHECK_EQ_STR(got->id, want->id);
  CHECK_EQ_STR(got->user_id, want->user_id);
  CHECK_EQ_STR(got->token_hash, want->token_hash);
  CHECK_EQ_STR(got->prev_hash, want->prev_hash);
  CHECK_EQ_INT(got->rotated_at, want->rotated_at);
  CHECK_EQ_INT(got->created_at, want->created_at);
  CHECK_EQ_INT(got->last_used_at, want->last_used_at);
  CHECK_EQ_INT(got->expires_at, want->expires_at);
  CHECK_EQ_INT(got->revoked, want->revoked);
  CHECK(same_opt(got->user_agent, want->user_agent));
  CHECK(same_opt(got->ip, want->ip));
}

/* Inserts s, which must succeed. */
static void session_put(const msvc_session_t *s) {
  CHECK_EQ_INT(msvc_store_session_insert(store, s), 0);
}

/* Whether session id is revoked now (-1 when it cannot be read). */
static int revoked_now(const char *id) {
  msvc_session_t *got = session_out();
  int rc = msvc_store_session_find(store, id, got);
  int revoked = rc == 0 ? got->revoked : -1;
  msvc_session_free(got);
  return revoked;
}

static void test_has_sessions(void) {
  CHECK_EQ_INT(msvc_store_has_sessions(store), 1);
  CHECK_EQ_INT(msvc_store_has_sessions(NULL), 0);
}

/* Insert, then find by id, by the token's hash; unknown and malformed
 * keys; a session without user agent or address. */
static void test_session_round_trip(void) {
  char user[MSVC_ID_SIZE], hash[MSVC_HASH_SIZE], upper[MSVC_ID_SIZE];
  msvc_session_t *s, *bare, *got = session_out();
  new_id(user);
  s = session_make(user, base_ms, base_ms + 3600000);
  session_put(s);
  CHECK_EQ_INT(msvc_store_session_find(store, s->id, got), 0);
  check_same_session(got, s);
  CHECK_EQ_INT(msvc_store_session_find_by_hash(store, s->token_hash, got), 0);
  check_same_session(got, s);
  upper_id(upper, s->id);
  CHECK_EQ_INT(msvc_store_session_find(store, upper, got), 0);
  CHECK_EQ_STR(got->id, s->id);

  new_hash(hash);
  CHECK_EQ_INT(msvc_store_session_find_by_hash(store, hash, got),
               MSVC_ENOTFOUND);
  CHECK(got->user_agent == NULL && got->id[0] == '\0');
  CHECK_EQ_INT(msvc_store_session_find(store, user, got), MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_session_find(store, "not-an-id", got),
               MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_session_find_by_hash(store, "abc", got),
               MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_session_find_by_hash(store, "", got), MSVC_ENOTFOUND);

  bare = session_make(user, base_ms + 1, base_ms + 3600000);
  free(bare->user_agent);
  free(bare->ip);
  bare->user_agent = bare->ip = NULL;
  session_put(bare);
  CHECK_EQ_INT(msvc_store_session_find(store, bare->id, got), 0);
  check_same_session(got, bare);
  msvc_session_free(bare);
  msvc_session_free(s);
  msvc_session_free(got);
}

/* The token hash is unique, and so is the id: the store decides. */
static void test_session_duplicates(void) {
  char user[MSVC_ID_SIZE];
  msvc_session_t *a, *b, *got = session_out();
  new_id(user);
  a = session_make(user, base_ms, base_ms + 3600000);
  b = session_make(user, base_ms, base_ms + 3600000);
  session_put(a);
  memcpy(b->token_hash, a->token_hash, MSVC_HASH_SIZE);
  CHECK_EQ_INT(msvc_store_session_insert(store, b), MSVC_EEXIST);
  CHECK_EQ_INT(msvc_store_session_find(store, b->id, got), MSVC_ENOTFOUND);
  new_hash(b->token_hash);
  memcpy(b->id, a->id, MSVC_ID_SIZE);
  CHECK_EQ_INT(msvc_store_session_insert(store, b), MSVC_EEXIST);
  CHECK_EQ_INT(msvc_store_session_find(store, a->id, got), 0);
  check_same_session(got, a);
  msvc_session_free(a);
  msvc_session_free(b);
  msvc_session_free(got);
}

/* A rotation moves the hash on and keeps the old one findable; a stale
 * old hash (a lost race), another id, or a revoked session change
 * nothing. */
static void test_session_rotate(void) {
  char user[MSVC_ID_SIZE], h1[MSVC_HASH_SIZE], h2[MSVC_HASH_SIZE],
      h3[MSVC_HASH_SIZE], other[MSVC_ID_SIZE];
  msvc_session_t *s, *got = session_out();
  int64_t now = base_ms + 60000, ends = base_ms + 7200000;
  new_id(user);
  new_id(other);
  s = session_make(user, base_ms, base_ms + 3600000);
  session_put(s);
  new_hash(h1);
  new_hash(h2);
  new_hash(h3);
  CHECK_EQ_INT(
      msvc_store_session_rotate(store, s->id, s->token_hash, h1, now, ends), 0);
  memcpy(s->prev_hash, s->token_hash, MSVC_HASH_SIZE);
  memcpy(s->token_hash, h1, MSVC_HASH_SIZE);
  s->rotated_at = s->last_used_at = now;
  s->expires_at = ends;
  CHECK_EQ_INT(msvc_store_session_find(store, s->id, got), 0);
  check_same_session(got, s);
  CHECK_EQ_INT(msvc_store_session_find_by_hash(store, s->prev_hash, got), 0);
  check_same_session(got, s);
  CHECK_EQ_INT(msvc_store_session_find_by_hash(store, h1, got), 0);
  check_same_session(got, s);

  /* The retired hash again: another caller already rotated. */
  CHECK_EQ_INT(
      msvc_store_session_rotate(store, s->id, s->prev_hash, h2, now + 1, ends),
      MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_session_rotate(store, other, h1, h2, now + 1, ends),
               MSVC_ENOTFOUND);
  CHECK_EQ_INT(
      msvc_store_session_rotate(store, "not-an-id", h1, h2, now + 1, ends),
      MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_session_find(store, s->id, got), 0);
  check_same_session(got, s);

  /* Revoked: the current hash no longer rotates. */
  CHECK_EQ_INT(msvc_store_sessions_revoke(store, user, s->id, 0, NULL), 0);
  CHECK_EQ_INT(msvc_store_session_rotate(store, s->id, h1, h3, now + 2, ends),
               MSVC_ENOTFOUND);
  s->revoked = 1;
  CHECK_EQ_INT(msvc_store_session_find_by_hash(store, h1, got), 0);
  check_same_session(got, s);
  msvc_session_free(s);
  msvc_session_free(got);
}

enum { REVOKE_MINE = 5 };

/* One session; one of another user's (nothing changes); all but one; all:
 * each counts only the sessions it ends. */
static void test_sessions_revoke(void) {
  char user[MSVC_ID_SIZE], other[MSVC_ID_SIZE], bad[MSVC_ID_SIZE];
  msvc_session_t *mine[REVOKE_MINE], *theirs;
  size_t n = 99;
  new_id(user);
  new_id(other);
  for (int i = 0; i < REVOKE_MINE; i++) {
    mine[i] = session_make(user, base_ms + i, base_ms + 3600000);
    session_put(mine[i]);
  }
  theirs = session_make(other, base_ms, base_ms + 3600000);
  session_put(theirs);

  CHECK_EQ_INT(msvc_store_sessions_revoke(store, user, mine[0]->id, 0, &n), 0);
  CHECK_EQ_INT(n, 1);
  CHECK_EQ_INT(revoked_now(mine[0]->id), 1);
  CHECK_EQ_INT(revoked_now(mine[1]->id), 0);
  n = 99;
  CHECK_EQ_INT(msvc_store_sessions_revoke(store, user, mine[0]->id, 0, &n), 0);
  CHECK_EQ_INT(n, 0); /* already ended */

  n = 99;
  CHECK_EQ_INT(msvc_store_sessions_revoke(store, user, theirs->id, 0, &n), 0);
  CHECK_EQ_INT(n, 0);
  CHECK_EQ_INT(revoked_now(theirs->id), 0);
  n = 99;
  CHECK_EQ_INT(msvc_store_sessions_revoke(store, user, "nope", 0, &n), 0);
  CHECK_EQ_INT(n, 0);
  new_id(bad);
  CHECK_EQ_INT(msvc_store_sessions_revoke(store, bad, NULL, 0, &n), 0);
  CHECK_EQ_INT(n, 0);

  /* All but mine[1]: mine[2..4] end, mine[0] was already ended. */
  CHECK_EQ_INT(msvc_store_sessions_revoke(store, user, mine[1]->id, 1, &n), 0);
  CHECK_EQ_INT(n, REVOKE_MINE - 2);
  CHECK_EQ_INT(revoked_now(mine[1]->id), 0);
  for (int i = 2; i < REVOKE_MINE; i++)
    CHECK_EQ_INT(revoked_now(mine[i]->id), 1);
  CHECK_EQ_INT(revoked_now(theirs->id), 0);

  CHECK_EQ_INT(msvc_store_sessions_revoke(store, user, NULL, 0, &n), 0);
  CHECK_EQ_INT(n, 1);
  CHECK_EQ_INT(revoked_now(mine[1]->id), 1);
  CHECK_EQ_INT(revoked_now(theirs->id), 0);
  CHECK_EQ_INT(msvc_store_sessions_revoke(store, other, NULL, 0, NULL), 0);
  CHECK_EQ_INT(revoked_now(theirs->id), 1);
  for (int i = 0; i < REVOKE_MINE; i++)
    msvc_session_free(mine[i]);
  msvc_session_free(theirs);
}

enum { LISTED = 6, LIST_MAX = 10 };

/* Newest first; revoked and expired sessions left out; another user's
 * never shown; max honoured. */
static void test_sessions_list(void) {
  char user[MSVC_ID_SIZE], other[MSVC_ID_SIZE];
  msvc_session_t *s[LISTED], *theirs, **out = sessions_out(LIST_MAX);
  int64_t now = base_ms + 1000000;
  size_t n = 99;
  new_id(user);
  new_id(other);
  /* s[i] created at base + i; s[1] revoked, s[3] expired, s[4] ends at
   * exactly `now` (not after it: out). */
  for (int i = 0; i < LISTED; i++) {
    int64_t ends = i == 3 ? now - 1 : i == 4 ? now : now + 3600000;
    s[i] = session_make(user, base_ms + i * 1000, ends);
    session_put(s[i]);
  }
  theirs = session_make(other, base_ms + 99000, now + 3600000);
  session_put(theirs);
  CHECK_EQ_INT(msvc_store_sessions_revoke(store, user, s[1]->id, 0, NULL), 0);
  s[1]->revoked = 1;

  CHECK_EQ_INT(msvc_store_sessions_list(store, user, now, out, LIST_MAX, &n),
               0);
  CHECK_EQ_INT(n, 3);
  if (n == 3) {
    check_same_session(out[0], s[5]);
    check_same_session(out[1], s[2]);
    check_same_session(out[2], s[0]);
  }
  CHECK(out[3]->id[0] == '\0');
  CHECK_EQ_INT(msvc_store_sessions_list(store, user, now, out, 2, &n), 0);
  CHECK_EQ_INT(n, 2);
  CHECK_EQ_STR(out[0]->id, s[5]->id);
  CHECK_EQ_STR(out[1]->id, s[2]->id);
  /* Before s[3] expired it is listed. */
  CHECK_EQ_INT(
      msvc_store_sessions_list(store, user, now - 2, out, LIST_MAX, &n), 0);
  CHECK_EQ_INT(n, 5);
  CHECK_EQ_INT(msvc_store_sessions_list(store, other, now, out, LIST_MAX, &n),
               0);
  CHECK_EQ_INT(n, 1);
  CHECK_EQ_STR(out[0]->id, theirs->id);
  new_id(other);
  CHECK_EQ_INT(msvc_store_sessions_list(store, other, now, out, LIST_MAX, &n),
               0);
  CHECK_EQ_INT(n, 0);
  CHECK_EQ_INT(
      msvc_store_sessions_list(store, "not-an-id", now, out, LIST_MAX, &n), 0);
  CHECK_EQ_INT(n, 0);
  for (int i = 0; i < LISTED; i++)
    msvc_session_free(s[i]);
  msvc_session_free(theirs);
  sessions_free(out, LIST_MAX);
}

/* User.tokens_valid_after is written by insert and update and read back
 * by both lookups; 0 stays 0. */
static void test_tokens_valid_after(void) {
  char email[128];
  msvc_user_record_t *rec, *got = rec_out();
  tagged_email(email, sizeof(email), "tva", 0);
  rec = user_new("Tva", email, 1706258964000);
  CHECK_EQ_INT(msvc_store_user_insert(store, rec), 0);
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, rec->user->id, got), 0);
  CHECK_EQ_INT(got->tokens_valid_after, 0);
  rec->tokens_valid_after = 1706259999123;
  CHECK_EQ_INT(msvc_store_user_update(store, rec), 0);
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, rec->user->id, got), 0);
  CHECK_EQ_INT(got->tokens_valid_after, 1706259999123);
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, email, got), 0);
  CHECK_EQ_INT(got->tokens_valid_after, 1706259999123);
  check_same_record(got, rec);
  rec->tokens_valid_after = 0;
  CHECK_EQ_INT(msvc_store_user_update(store, rec), 0);
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, email, got), 0);
  CHECK_EQ_INT(got->tokens_valid_after, 0);
  msvc_user_record_free(rec);

  tagged_email(email, sizeof(email), "tva", 1);
  rec = user_new("Tva", email, 1706258964000);
  rec->tokens_valid_after = 1706258964555;
  CHECK_EQ_INT(msvc_store_user_insert(store, rec), 0);
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, rec->user->id, got), 0);
  CHECK_EQ_INT(got->tokens_valid_after, 1706258964555);
  msvc_user_record_free(rec);
  msvc_user_record_free(got);
}

typedef struct rotator {
  pthread_barrier_t *start;
  const msvc_session_t *s;
  const char *old_hash;
  char new_hash[MSVC_HASH_SIZE];
  int rc;
} rotator_t;

static void *race_rotate(void *arg) {
  rotator_t *r = arg;
  pthread_barrier_wait(r->start);
  r->rc = msvc_store_session_rotate(store, r->s->id, r->old_hash, r->new_hash,
                                    base_ms + 5000, base_ms + 7200000);
  return NULL;
}

/* Eight rotations of one session from one old hash at once, each to a
 * hash of its own: exactly one wins and the store holds its hash; the
 * seven others lost the race.  Several rounds, each from the last
 * winner's hash. */
static void test_concurrent_rotate(void) {
  char user[MSVC_ID_SIZE], current[MSVC_HASH_SIZE];
  msvc_session_t *s, *got = session_out();
  new_id(user);
  s = session_make(user, base_ms, base_ms + 3600000);
  session_put(s);
  memcpy(current, s->token_hash, MSVC_HASH_SIZE);
  for (int round = 0; round < RACE_ROUNDS; round++) {
    pthread_barrier_t start;
    pthread_t th[RACERS];
    rotator_t r[RACERS];
    int wins = 0, lost = 0, winner = -1;
    pthread_barrier_init(&start, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
      r[i].start = &start;
      r[i].s = s;
      r[i].old_hash = current;
      new_hash(r[i].new_hash);
      pthread_create(&th[i], NULL, race_rotate, &r[i]);
    }
    for (int i = 0; i < RACERS; i++) {
      pthread_join(th[i], NULL);
      if (r[i].rc == 0) {
        wins++;
        winner = i;
      }
      lost += r[i].rc == MSVC_ENOTFOUND;
    }
    pthread_barrier_destroy(&start);
    CHECK_EQ_INT(wins, 1);
    CHECK_EQ_INT(lost, RACERS - 1);
    CHECK_EQ_INT(msvc_store_session_find(store, s->id, got), 0);
    if (winner < 0)
      break;
    CHECK_EQ_STR(got->token_hash, r[winner].new_hash);
    CHECK_EQ_STR(got->prev_hash, current);
    memcpy(current, r[winner].new_hash, MSVC_HASH_SIZE);
  }
  msvc_session_free(s);
  msvc_session_free(got);
}

/* Wrapper rules: records the library must be able to trust. */
static void test_session_arguments(void) {
  char user[MSVC_ID_SIZE], h[MSVC_HASH_SIZE], upper[MSVC_HASH_SIZE];
  msvc_session_t *s, *got = session_out(), **out = sessions_out(2);
  size_t n = 7;
  new_id(user);
  new_hash(h);
  s = session_make(user, base_ms, base_ms + 3600000);
  CHECK_EQ_INT(msvc_store_session_insert(store, NULL), MSVC_EINVAL);
  snprintf(s->token_hash, sizeof(s->token_hash), "%s", "short");
  CHECK_EQ_INT(msvc_store_session_insert(store, s), MSVC_EINVAL);
  memcpy(upper, h, MSVC_HASH_SIZE);
  for (int i = 0; upper[i] != '\0'; i++)
    if (upper[i] >= 'a' && upper[i] <= 'f')
      upper[i] = (char)(upper[i] - 32);
  memcpy(s->token_hash, upper, MSVC_HASH_SIZE);
  if (strcmp(upper, h) != 0) /* it has a letter, as nearly every hash does */
    CHECK_EQ_INT(msvc_store_session_insert(store, s), MSVC_EINVAL);
  memcpy(s->token_hash, h, MSVC_HASH_SIZE);
  snprintf(s->prev_hash, sizeof(s->prev_hash), "%s", "x");
  CHECK_EQ_INT(msvc_store_session_insert(store, s), MSVC_EINVAL);
  s->prev_hash[0] = '\0';
  snprintf(s->user_id, sizeof(s->user_id), "%s", "zz");
  CHECK_EQ_INT(msvc_store_session_insert(store, s), MSVC_EINVAL);
  memcpy(s->user_id, user, MSVC_ID_SIZE);

  CHECK_EQ_INT(msvc_store_session_find(store, NULL, got), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_session_find(store, s->id, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_session_find_by_hash(store, NULL, got), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_session_find_by_hash(store, h, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_session_rotate(store, NULL, h, h, 1, 2), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_session_rotate(store, s->id, NULL, h, 1, 2),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_session_rotate(store, s->id, h, NULL, 1, 2),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_session_rotate(store, s->id, h, "short", 1, 2),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_sessions_revoke(store, NULL, NULL, 0, &n),
               MSVC_EINVAL);
  CHECK_EQ_INT(n, 0);
  n = 7;
  CHECK_EQ_INT(msvc_store_sessions_list(store, NULL, 1, out, 2, &n),
               MSVC_EINVAL);
  CHECK_EQ_INT(n, 0);
  CHECK_EQ_INT(msvc_store_sessions_list(store, user, 1, NULL, 2, &n),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_sessions_list(store, user, 1, out, 2, NULL),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_sessions_list(store, user, 1, out, 0, &n),
               MSVC_EINVAL);
  msvc_session_free(out[1]);
  out[1] = NULL;
  CHECK_EQ_INT(msvc_store_sessions_list(store, user, 1, out, 2, &n),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_sessions_list(store, user, 1, out, 1, &n), 0);
  CHECK_EQ_INT(n, 0);
  msvc_session_free(s);
  msvc_session_free(got);
  sessions_free(out, 2);
}

/* ---- the wrappers -------------------------------------------------------- */

/* A table with open and close only, as an embedder's first draft might be;
 * its open records what it was given. */
static int stub_opens;
static msvc_store_config_t stub_cfg;

static int stub_open(const char *u, const msvc_store_config_t *cfg, void **ctx,
                     char *errbuf, size_t errlen) {
  (void)u;
  (void)errbuf;
  (void)errlen;
  stub_opens++;
  stub_cfg = *cfg;
  *ctx = &stub_opens;
  return 0;
}

static void stub_close(void *ctx) {
  (void)ctx;
}

static const msvc_store_methods_t stub_table = {
    .version = MSVC_STORE_MIN_VERSION,
    .name = "stub",
    .open = stub_open,
    .close = stub_close,
};

/* Arguments valid for every wrapper, to reach the method. */
typedef struct valid_args {
  msvc_user_record_t *rec, *out;
  msvc_post_t *post, *post_out;
  msvc_user_t **users;
  msvc_post_t **page;
  msvc_id_t ids[1];
  msvc_post_query_t q;
  msvc_session_t *session, *session_out;
  msvc_session_t **sessions;
} valid_args_t;

static void valid_args_init(valid_args_t *a) {
  memset(a, 0, sizeof(*a));
  a->rec = user_new("Stub", "stub@example.com", 1);
  a->out = rec_out();
  a->post = post_new(a->rec->user->id, "t", "c", 1);
  a->post_out = post_out();
  a->users = users_out(1);
  a->page = posts_out(2);
  memcpy(a->ids[0].hex, a->rec->user->id, MSVC_ID_SIZE);
  a->q.limit = 2;
  a->session = session_make(a->rec->user->id, 1, 2);
  a->session_out = session_out();
  a->sessions = sessions_out(2);
}

static void valid_args_free(valid_args_t *a) {
  msvc_user_record_free(a->rec);
  msvc_user_record_free(a->out);
  msvc_post_free(a->post);
  msvc_post_free(a->post_out);
  msvc_users_free(a->users, 1);
  posts_free(a->page, 2);
  msvc_session_free(a->session);
  msvc_session_free(a->session_out);
  sessions_free(a->sessions, 2);
}

/* Every session wrapper answers `want` on s with valid arguments. */
static void check_session_wrappers(msvc_store_t *s, const valid_args_t *a,
                                   int want) {
  const msvc_session_t *v = a->session;
  size_t n = 7;
  CHECK_EQ_INT(msvc_store_session_insert(s, v), want);
  CHECK_EQ_INT(msvc_store_session_find(s, v->id, a->session_out), want);
  CHECK_EQ_INT(
      msvc_store_session_find_by_hash(s, v->token_hash, a->session_out), want);
  CHECK_EQ_INT(
      msvc_store_session_rotate(s, v->id, v->token_hash, v->token_hash, 1, 2),
      want);
  CHECK_EQ_INT(msvc_store_sessions_revoke(s, v->user_id, v->id, 0, &n), want);
  CHECK_EQ_INT(n, 0);
  n = 7;
  CHECK_EQ_INT(msvc_store_sessions_list(s, v->user_id, 1, a->sessions, 2, &n),
               want);
  CHECK_EQ_INT(n, 0);
}

/* Every wrapper answers `want` on s with valid arguments. */
static void check_every_wrapper(msvc_store_t *s, const valid_args_t *a,
                                int want) {
  size_t n = 7;
  CHECK_EQ_INT(msvc_store_ping(s), want);
  CHECK_EQ_INT(msvc_store_user_insert(s, a->rec), want);
  CHECK_EQ_INT(msvc_store_user_find_by_id(s, a->rec->user->id, a->out), want);
  CHECK_EQ_INT(msvc_store_user_find_by_email(s, "x@example.com", a->out), want);
  CHECK_EQ_INT(msvc_store_user_update(s, a->rec), want);
  CHECK_EQ_INT(msvc_store_users_find_many(s, a->ids, 1, a->users, &n), want);
  CHECK_EQ_INT(n, 0);
  CHECK_EQ_INT(msvc_store_post_insert(s, a->post), want);
  CHECK_EQ_INT(msvc_store_post_find(s, a->post->id, a->post_out), want);
  CHECK_EQ_INT(msvc_store_post_update(s, a->post), want);
  CHECK_EQ_INT(msvc_store_post_delete(s, a->post->id), want);
  n = 7;
  CHECK_EQ_INT(msvc_store_post_list(s, &a->q, a->page, &n), want);
  CHECK_EQ_INT(n, 0);
  check_session_wrappers(s, a, want);
}

/* A NULL method answers MSVC_EUNSUPPORTED through every wrapper (never a
 * jump to 0), and open gets a complete config with defaults. */
static void test_null_methods(void) {
  msvc_store_config_t old = MSVC_STORE_CONFIG_INIT;
  msvc_store_t *s = NULL;
  valid_args_t a;
  char err[256] = "";
  CHECK_EQ_INT(
      msvc_store_open_with(&stub_table, "stub:", NULL, &s, err, sizeof(err)),
      0);
  if (s == NULL)
    return;
  CHECK_EQ_INT(stub_cfg.size, sizeof(msvc_store_config_t));
  CHECK_EQ_INT(stub_cfg.timeout_ms, 5000);
  CHECK_EQ_STR(msvc_store_name(s), "stub");
  CHECK_EQ_INT(msvc_store_reads_are_local(s), 0);
  valid_args_init(&a);
  check_every_wrapper(s, &a, MSVC_EUNSUPPORTED);
  valid_args_free(&a);
  msvc_store_close(s);

  /* A caller built against an older header, whose config ends before
   * `connections`: the backend sees its timeout and the default pool. */
  old.timeout_ms = 1234;
  old.connections = 7;
  old.size = offsetof(msvc_store_config_t, connections);
  CHECK_EQ_INT(
      msvc_store_open_with(&stub_table, "stub:", &old, &s, err, sizeof(err)),
      0);
  CHECK_EQ_INT(stub_cfg.size, sizeof(msvc_store_config_t));
  CHECK_EQ_INT(stub_cfg.timeout_ms, 1234);
  CHECK_EQ_INT(stub_cfg.connections, 0);
  msvc_store_close(s);
  s = NULL;
  old.size = 0; /* not initialised */
  CHECK_EQ_INT(
      msvc_store_open_with(&stub_table, "stub:", &old, &s, err, sizeof(err)),
      MSVC_EINVAL);
  CHECK(s == NULL);
}

/* Tables of versions this library does not know, or without open or
 * close, are refused with a reason, before their open runs. */
static void test_unusable_tables(void) {
  const int versions[] = {0, 1, MSVC_STORE_MIN_VERSION - 1,
                          MSVC_STORE_VERSION + 1, -1};
  msvc_store_methods_t t;
  msvc_store_t *s;
  char err[256];
  int opens = stub_opens;
  for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
    t = stub_table;
    t.version = versions[i];
    s = (msvc_store_t *)&t; /* must be overwritten with NULL */
    err[0] = '\0';
    CHECK_EQ_INT(msvc_store_open_with(&t, "stub:", NULL, &s, err, sizeof(err)),
                 MSVC_EINVAL);
    CHECK(s == NULL);
    CHECK(strstr(err, "version") != NULL);
    CHECK_EQ_INT(msvc_store_register("badversion", &t), MSVC_EINVAL);
  }
  t = stub_table;
  t.open = NULL;
  CHECK_EQ_INT(msvc_store_open_with(&t, "stub:", NULL, &s, err, sizeof(err)),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_register("noopen", &t), MSVC_EINVAL);
  t = stub_table;
  t.close = NULL;
  CHECK_EQ_INT(msvc_store_open_with(&t, "stub:", NULL, &s, NULL, 0),
               MSVC_EINVAL);
  CHECK_EQ_INT(stub_opens, opens);
  CHECK_EQ_INT(msvc_store_unregister("badversion"), MSVC_ENOTFOUND);
}

/* Session methods that must never run: counted. */
static atomic_int session_calls;

static int counted(void) {
  atomic_fetch_add(&session_calls, 1);
  return 0;
}

static int never_insert(void *ctx, const msvc_session_t *s) {
  (void)ctx;
  (void)s;
  return counted();
}

static int never_find(void *ctx, const char *key, msvc_session_t *out) {
  (void)ctx;
  (void)key;
  (void)out;
  return counted();
}

static int never_rotate(void *ctx, const char *id, const char *old_hash,
                        const char *new_hash, int64_t now, int64_t ends) {
  (void)ctx;
  (void)id;
  (void)old_hash;
  (void)new_hash;
  (void)now;
  (void)ends;
  return counted();
}

static int never_revoke(void *ctx, const char *user_id, const char *id,
                        int except, size_t *n) {
  (void)ctx;
  (void)user_id;
  (void)id;
  (void)except;
  (void)n;
  return counted();
}

static int never_list(void *ctx, const char *user_id, int64_t now,
                      msvc_session_t *const *out, size_t max, size_t *nout) {
  (void)ctx;
  (void)user_id;
  (void)now;
  (void)out;
  (void)max;
  (void)nout;
  return counted();
}

/* A version-2 table has no sessions, whatever lies past its end (here:
 * entries a version-2 table would not have, which must not be called);
 * a version-3 table with NULL session methods has none either. */
static void test_version2_tables(void) {
  msvc_store_methods_t t = stub_table;
  msvc_store_t *s = NULL;
  valid_args_t a;
  CHECK_EQ_INT(stub_table.version, 2);
  t.session_insert = never_insert;
  t.session_find = never_find;
  t.session_find_by_hash = never_find;
  t.session_rotate = never_rotate;
  t.sessions_revoke = never_revoke;
  t.sessions_list = never_list;
  valid_args_init(&a);
  CHECK_EQ_INT(msvc_store_open_with(&t, "stub:", NULL, &s, NULL, 0), 0);
  CHECK_EQ_INT(msvc_store_has_sessions(s), 0);
  check_session_wrappers(s, &a, MSVC_EUNSUPPORTED);
  CHECK_EQ_INT(atomic_load(&session_calls), 0);
  msvc_store_close(s);

  t = stub_table;
  t.version = 3;
  CHECK_EQ_INT(msvc_store_open_with(&t, "stub:", NULL, &s, NULL, 0), 0);
  CHECK_EQ_INT(msvc_store_has_sessions(s), 0);
  check_session_wrappers(s, &a, MSVC_EUNSUPPORTED);
  msvc_store_close(s);

  /* Some but not all session methods: the library keeps no sessions. */
  t.session_insert = never_insert;
  t.session_find = never_find;
  CHECK_EQ_INT(msvc_store_open_with(&t, "stub:", NULL, &s, NULL, 0), 0);
  CHECK_EQ_INT(msvc_store_has_sessions(s), 0);
  msvc_store_close(s);
  valid_args_free(&a);
}

/* NULL where a pointer is required is MSVC_EINVAL from every function. */
static void test_null_arguments(void) {
  msvc_user_record_t bare = {NULL, NULL, 0};
  valid_args_t a;
  msvc_store_t *s = NULL;
  msvc_post_query_t q;
  size_t n;
  valid_args_init(&a);
  check_every_wrapper(NULL, &a, MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_open(NULL, NULL, &s, NULL, 0), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_open(url, NULL, NULL, NULL, 0), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_open_with(NULL, url, NULL, &s, NULL, 0), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_open_with(&stub_table, NULL, NULL, &s, NULL, 0),
               MSVC_EINVAL);
  CHECK(msvc_store_name(NULL) == NULL);
  CHECK_EQ_INT(msvc_store_reads_are_local(NULL), 0);
  msvc_store_close(NULL);

  CHECK_EQ_INT(msvc_store_user_insert(store, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_user_insert(store, &bare), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_user_update(store, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, NULL, a.out), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, a.rec->user->id, NULL),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, a.rec->user->id, &bare),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, NULL, a.out), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, "x@example.com", NULL),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_users_find_many(store, NULL, 1, a.users, &n),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_users_find_many(store, a.ids, 1, NULL, &n),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_users_find_many(store, a.ids, 1, a.users, NULL),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_post_insert(store, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_post_update(store, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_post_find(store, NULL, a.post_out), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_post_find(store, a.post->id, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_post_delete(store, NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_post_list(store, NULL, a.page, &n), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_post_list(store, &a.q, NULL, &n), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_post_list(store, &a.q, a.page, NULL), MSVC_EINVAL);

  /* Records the library never made, and out-of-range queries. */
  msvc_user_free(a.users[0]);
  a.users[0] = NULL;
  CHECK_EQ_INT(msvc_store_users_find_many(store, a.ids, 1, a.users, &n),
               MSVC_EINVAL);
  msvc_post_free(a.page[1]);
  a.page[1] = NULL;
  CHECK_EQ_INT(msvc_store_post_list(store, &a.q, a.page, &n), MSVC_EINVAL);
  q = a.q;
  q.limit = 1;
  CHECK_EQ_INT(msvc_store_post_list(store, &q, a.page, &n), 0);
  q.limit = 0;
  CHECK_EQ_INT(msvc_store_post_list(store, &q, a.page, &n), MSVC_EINVAL);
  q.limit = 1;
  snprintf(q.user_id, sizeof(q.user_id), "%s", "not-an-id");
  CHECK_EQ_INT(msvc_store_post_list(store, &q, a.page, &n), MSVC_EINVAL);
  q.user_id[0] = '\0';
  q.has_cursor = 1;
  CHECK_EQ_INT(msvc_store_post_list(store, &q, a.page, &n), MSVC_EINVAL);

  /* A record whose own id is malformed cannot be written. */
  snprintf(a.rec->user->id, MSVC_ID_SIZE, "%s", "zzzzzzzzzzzzzzzzzzzzzzzz");
  CHECK_EQ_INT(msvc_store_user_insert(store, a.rec), MSVC_EINVAL);
  snprintf(a.post->user_id, MSVC_ID_SIZE, "%s", "short");
  CHECK_EQ_INT(msvc_store_post_insert(store, a.post), MSVC_EINVAL);
  free(a.post->title);
  a.post->title = NULL;
  CHECK_EQ_INT(msvc_store_post_update(store, a.post), MSVC_EINVAL);

  CHECK_EQ_INT(msvc_store_register(NULL, &stub_table), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_register("stub", NULL), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_unregister(NULL), MSVC_EINVAL);
  valid_args_free(&a);
}

/* ---- the registry -------------------------------------------------------- */

/* "fwd:URL" opens URL underneath and forwards ping and lookups by email,
 * counting them; every other method is left NULL. */
typedef struct fwd {
  msvc_store_t *inner;
} fwd_t;

static atomic_int fwd_calls;

static int fwd_open(const char *u, const msvc_store_config_t *cfg, void **ctx,
                    char *errbuf, size_t errlen) {
  fwd_t *f = xmalloc(sizeof(*f));
  int rc = msvc_store_open(strchr(u, ':') + 1, cfg, &f->inner, errbuf, errlen);
  if (rc != 0) {
    free(f);
    return rc;
  }
  *ctx = f;
  return 0;
}

static void fwd_close(void *ctx) {
  fwd_t *f = ctx;
  msvc_store_close(f->inner);
  free(f);
}

static int fwd_ping(void *ctx) {
  fwd_t *f = ctx;
  atomic_fetch_add(&fwd_calls, 1);
  return msvc_store_ping(f->inner);
}

static int fwd_find_by_email(void *ctx, const char *email,
                             msvc_user_record_t *out) {
  fwd_t *f = ctx;
  atomic_fetch_add(&fwd_calls, 1);
  return msvc_store_user_find_by_email(f->inner, email, out);
}

static const msvc_store_methods_t fwd_table = {
    .version = MSVC_STORE_VERSION,
    .name = "fwd",
    .open = fwd_open,
    .close = fwd_close,
    .ping = fwd_ping,
    .user_find_by_email = fwd_find_by_email,
};

static void test_scheme_rules(void) {
  static const char *const bad[] = {
      "",     "1fwd",
      "-fwd", "f wd",
      "fwd:", "f_wd",
      "f/wd", "abcdefghijklmnopqrstuvwxyz012345" /* 32 bytes */};
  const char *longest = "abcdefghijklmnopqrstuvwxyz01234"; /* 31 */
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    CHECK_EQ_INT(msvc_store_register(bad[i], &fwd_table), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_register(longest, &fwd_table), 0);
  CHECK_EQ_INT(msvc_store_unregister(longest), 0);
  CHECK_EQ_INT(msvc_store_register("a+b-c.d", &fwd_table), 0);
  CHECK_EQ_INT(msvc_store_unregister("A+B-C.D"), 0);
  /* The built-ins are taken, in any case, and cannot be removed. */
  CHECK_EQ_INT(msvc_store_register("sqlite", &fwd_table), MSVC_EEXIST);
  CHECK_EQ_INT(msvc_store_register("File", &fwd_table), MSVC_EEXIST);
  CHECK_EQ_INT(msvc_store_unregister("sqlite"), MSVC_ENOTFOUND);
#ifdef MSVC_HAVE_MONGO
  CHECK_EQ_INT(msvc_mongo_register(), 0); /* again: harmless */
  CHECK_EQ_INT(msvc_store_register("MongoDB", &fwd_table), MSVC_EEXIST);
  CHECK_EQ_INT(msvc_store_register("mongodb+srv", &fwd_table), MSVC_EEXIST);
#endif
}

static void test_register_and_open(void) {
  char fwd_url[600], err[512] = "";
  msvc_user_record_t *out = rec_out(), *rec = user_new("F", "f@example.com", 1);
  msvc_store_t *s = NULL, *again = NULL;
  CHECK_EQ_INT(msvc_store_register("fwd", &fwd_table), 0);
  CHECK_EQ_INT(msvc_store_register("FWD", &stub_table), MSVC_EEXIST);
  snprintf(fwd_url, sizeof(fwd_url), "FwD:%s", url);
  CHECK_EQ_INT(msvc_store_open(fwd_url, NULL, &s, err, sizeof(err)), 0);
  if (s == NULL) {
    fprintf(stderr, "   open %s: %s\n", fwd_url, err);
    msvc_store_unregister("fwd");
    return;
  }
  CHECK_EQ_STR(msvc_store_name(s), "fwd");
  CHECK_EQ_INT(msvc_store_ping(s), 0);
  CHECK_EQ_INT(msvc_store_user_find_by_email(s, "nobody@example.com", out),
               MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_user_insert(s, rec), MSVC_EUNSUPPORTED);
  CHECK_EQ_INT(atomic_load(&fwd_calls), 2);

  /* Once unregistered, the scheme is unknown; open stores keep working. */
  CHECK_EQ_INT(msvc_store_unregister("fwd"), 0);
  CHECK_EQ_INT(msvc_store_unregister("fwd"), MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_open(fwd_url, NULL, &again, err, sizeof(err)),
               MSVC_ECONFIG);
  CHECK(again == NULL);
  CHECK_EQ_INT(msvc_store_ping(s), 0);
  msvc_store_close(s);
  msvc_user_record_free(out);
  msvc_user_record_free(rec);
}

static int dir_entries(const char *path) {
  DIR *d = opendir(path);
  struct dirent *e;
  int n = 0;
  if (d == NULL)
    return -1;
  while ((e = readdir(d)) != NULL)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

/* An unknown scheme is MSVC_ECONFIG naming it and the known ones, and
 * nothing appears on disk (it used to become an SQLite path). */
static void test_unknown_scheme(void) {
  static const char *const urls[] = {"postgres://db/app", "postgres:app.db",
                                     "Postgres://db/app"};
  const char *base = getenv("TMPDIR");
  char dir[512], cwd[4096], err[512];
  msvc_store_t *s;
  snprintf(dir, sizeof(dir), "%s/msvc-scheme-XXXXXX",
           base != NULL && *base != '\0' ? base : "/tmp");
  if (mkdtemp(dir) == NULL || getcwd(cwd, sizeof(cwd)) == NULL ||
      chdir(dir) != 0) {
    CHECK(0);
    return;
  }
  for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
    s = NULL;
    err[0] = '\0';
    CHECK_EQ_INT(msvc_store_open(urls[i], NULL, &s, err, sizeof(err)),
                 MSVC_ECONFIG);
    CHECK(s == NULL);
    CHECK(strcasestr(err, "\"postgres\"") != NULL);
    CHECK(strstr(err, "sqlite") != NULL);
    if (i == 0)
      fprintf(stderr, "   %s: %s\n", urls[i], err);
  }
  CHECK_EQ_INT(msvc_store_open(urls[0], NULL, &s, NULL, 0), MSVC_ECONFIG);
  CHECK_EQ_INT(dir_entries("."), 0);
  CHECK_EQ_INT(chdir(cwd), 0);
  CHECK_EQ_INT(dir_entries(dir), 0);
  rmdir(dir);
}

enum { REGISTRARS = 4, REGISTRATIONS = 200 };

/* Registers and unregisters schemes of its own while others do too. */
static void *registrar(void *arg) {
  int *failures = arg, index = *failures;
  *failures = 0;
  for (int i = 0; i < REGISTRATIONS; i++) {
    char scheme[32];
    snprintf(scheme, sizeof(scheme), "t%dn%d", index, i);
    *failures += msvc_store_register(scheme, &stub_table) != 0;
    if (i % 2 == 1) {
      snprintf(scheme, sizeof(scheme), "T%dN%d", index, i - 1);
      *failures += msvc_store_unregister(scheme) != 0;
    }
  }
  for (int i = 1; i < REGISTRATIONS; i += 2) {
    char scheme[32];
    snprintf(scheme, sizeof(scheme), "t%dn%d", index, i);
    *failures += msvc_store_unregister(scheme) != 0;
  }
  return NULL;
}

static void test_registry_threads(void) {
  pthread_t th[REGISTRARS];
  int failures[REGISTRARS], total = 0;
  for (int i = 0; i < REGISTRARS; i++) {
    failures[i] = i;
    pthread_create(&th[i], NULL, registrar, &failures[i]);
  }
  for (int i = 0; i < REGISTRARS; i++) {
    pthread_join(th[i], NULL);
    total += failures[i];
  }
  CHECK_EQ_INT(total, 0);
  CHECK_EQ_INT(msvc_store_unregister("t0n0"), MSVC_ENOTFOUND);
}

/* ---- events (version 4) ---- */

/* Add, count after a time, the newest other than one, delete one and all
 * of a key; keys are independent; expired events are never counted once
 * their time is before `since`. */
static void test_events(void) {
  char key[64], other[64], ids[5][MSVC_ID_SIZE];
  int64_t count = -1, latest = -1, t = base_ms;
  CHECK_EQ_INT(msvc_store_has_events(store), 1);
  CHECK_EQ_INT(msvc_store_has_events(NULL), 0);
  snprintf(key, sizeof(key), "test:%s:a", run_tag);
  snprintf(other, sizeof(other), "test:%s:b", run_tag);
  for (int i = 0; i < 5; i++) {
    new_id(ids[i]);
    CHECK_EQ_INT(msvc_store_event_add(store, i < 4 ? key : other, ids[i],
                                      t + i * 1000, t + 60000),
                 0);
  }
  CHECK_EQ_INT(msvc_store_event_stats(store, key, t - 1, NULL, &count, &latest),
               0);
  CHECK_EQ_INT(count, 4);
  CHECK_EQ_INT(latest, t + 3000);
  CHECK_EQ_INT(
      msvc_store_event_stats(store, key, t - 1, ids[3], &count, &latest), 0);
  CHECK_EQ_INT(count, 4); /* the excluded one still counts */
  CHECK_EQ_INT(latest, t + 2000);
  CHECK_EQ_INT(
      msvc_store_event_stats(store, key, t + 1500, NULL, &count, &latest), 0);
  CHECK_EQ_INT(count, 2);
  CHECK_EQ_INT(
      msvc_store_event_stats(store, other, t - 1, NULL, &count, &latest), 0);
  CHECK_EQ_INT(count, 1);
  CHECK_EQ_INT(msvc_store_event_delete(store, key, ids[3], t), 0);
  CHECK_EQ_INT(msvc_store_event_delete(store, key, ids[3], t), 0); /* gone */
  CHECK_EQ_INT(msvc_store_event_stats(store, key, t - 1, NULL, &count, &latest),
               0);
  CHECK_EQ_INT(count, 3);
  CHECK_EQ_INT(latest, t + 2000);
  CHECK_EQ_INT(msvc_store_event_delete(store, key, NULL, t), 0);
  CHECK_EQ_INT(msvc_store_event_stats(store, key, t - 1, NULL, &count, &latest),
               0);
  CHECK_EQ_INT(count, 0);
  CHECK_EQ_INT(latest, 0);
  CHECK_EQ_INT(
      msvc_store_event_stats(store, other, t - 1, NULL, &count, &latest), 0);
  CHECK_EQ_INT(count, 1);
  /* An id is an event: the same one twice is refused. */
  CHECK_EQ_INT(msvc_store_event_add(store, other, ids[4], t, t + 60000),
               MSVC_EEXIST);
  /* Dropping expired events (a time past their expiry) leaves fresh ones
   * of other keys alone. */
  CHECK_EQ_INT(msvc_store_event_delete(store, key, NULL, t + 59000), 0);
  CHECK_EQ_INT(
      msvc_store_event_stats(store, other, t - 1, NULL, &count, &latest), 0);
  CHECK_EQ_INT(count, 1);
  msvc_store_event_delete(store, other, NULL, t);
}

static void test_event_arguments(void) {
  char id[MSVC_ID_SIZE], long_key[MSVC_EVENT_KEY_MAX + 2];
  int64_t count = 7, latest = 7;
  new_id(id);
  memset(long_key, 'k', sizeof(long_key) - 1);
  long_key[sizeof(long_key) - 1] = '\0';
  CHECK_EQ_INT(msvc_store_event_add(NULL, "k", id, 1, 2), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_event_add(store, NULL, id, 1, 2), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_event_add(store, "", id, 1, 2), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_event_add(store, "a key", id, 1, 2), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_event_add(store, long_key, id, 1, 2), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_event_add(store, "k", "xyz", 1, 2), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_event_stats(store, "k", 0, NULL, NULL, &latest),
               MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_event_stats(store, "k", 0, "nope", &count, &latest),
               MSVC_EINVAL);
  CHECK(count == 0 && latest == 0);
  CHECK_EQ_INT(msvc_store_event_delete(store, "k", "nope", 0), MSVC_EINVAL);
  CHECK_EQ_INT(msvc_store_event_delete(NULL, "k", NULL, 0), MSVC_EINVAL);
}

/* Many threads adding to one key at once: every event counted. */
typedef struct event_adder {
  pthread_barrier_t *start;
  const char *key;
  int64_t at;
  int rc;
} event_adder_t;

static void *add_events(void *arg) {
  event_adder_t *a = arg;
  char id[MSVC_ID_SIZE];
  pthread_barrier_wait(a->start);
  for (int i = 0; i < 10 && a->rc == 0; i++) {
    new_id(id);
    a->rc = msvc_store_event_add(store, a->key, id, a->at, a->at + 60000);
  }
  return NULL;
}

static void test_concurrent_events(void) {
  char key[64];
  pthread_barrier_t start;
  pthread_t th[RACERS];
  event_adder_t a[RACERS];
  int64_t count = 0, latest = 0;
  snprintf(key, sizeof(key), "test:%s:race", run_tag);
  pthread_barrier_init(&start, NULL, RACERS);
  for (int i = 0; i < RACERS; i++) {
    a[i].start = &start;
    a[i].key = key;
    a[i].at = base_ms;
    a[i].rc = 0;
    pthread_create(&th[i], NULL, add_events, &a[i]);
  }
  for (int i = 0; i < RACERS; i++) {
    pthread_join(th[i], NULL);
    CHECK_EQ_INT(a[i].rc, 0);
  }
  pthread_barrier_destroy(&start);
  CHECK_EQ_INT(
      msvc_store_event_stats(store, key, base_ms - 1, NULL, &count, &latest),
      0);
  CHECK_EQ_INT(count, RACERS * 10);
  msvc_store_event_delete(store, key, NULL, base_ms);
}

/* A page with its authors in one read (version 5), where the backend has
 * it: the same posts as post_list, each with its author's stored record,
 * an empty slot for an author the store does not hold. */
static void test_post_list_authors(void) {
  char who[MSVC_ID_SIZE], nobody[MSVC_ID_SIZE], email[96];
  msvc_user_record_t *rec;
  msvc_post_t *p1, *p2, **page = posts_out(3), **plain = posts_out(3);
  msvc_user_t **authors = users_out(3);
  msvc_post_query_t q;
  size_t got = 0, nplain = 0;
  int rc;
  new_id(nobody);
  tagged_email(email, sizeof(email), "author", 1);
  rec = user_new("Page Author", email, base_ms + 500000);
  memcpy(who, rec->user->id, MSVC_ID_SIZE);
  CHECK_EQ_INT(msvc_store_user_insert(store, rec), 0);
  p1 = post_new(who, "by author", "c", base_ms + 900000);
  p2 = post_new(nobody, "by nobody", "c", base_ms + 900001);
  CHECK_EQ_INT(msvc_store_post_insert(store, p1), 0);
  CHECK_EQ_INT(msvc_store_post_insert(store, p2), 0);
  memset(&q, 0, sizeof(q));
  q.limit = 3;
  rc = msvc_store_post_list_authors(store, &q, page, authors, &got);
  if (rc == MSVC_EUNSUPPORTED) {
    fprintf(stderr, "  (%s has no post_list_authors)\n",
            msvc_store_name(store));
  } else {
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(msvc_store_post_list(store, &q, plain, &nplain), 0);
    CHECK_EQ_INT(got, nplain);
    for (size_t i = 0; i < got && i < nplain; i++)
      CHECK_EQ_STR(page[i]->id, plain[i]->id);
    CHECK_EQ_STR(page[0]->id, p2->id); /* newest first */
    CHECK_EQ_STR(authors[0]->id, "");  /* nobody */
    CHECK_EQ_STR(page[1]->id, p1->id);
    check_same_user(authors[1], rec->user);
  }
  CHECK_EQ_INT(msvc_store_post_list_authors(store, &q, page, NULL, &got),
               MSVC_EINVAL);
  msvc_store_post_delete(store, p1->id);
  msvc_store_post_delete(store, p2->id);
  msvc_post_free(p1);
  msvc_post_free(p2);
  msvc_user_record_free(rec);
  posts_free(page, 3);
  posts_free(plain, 3);
  msvc_users_free(authors, 3);
}

int main(int argc, char **argv) {
  char err[512] = "";
  int rc;
  if (argc != 2) {
    fprintf(stderr, "usage: %s DATABASE_URL\n", argv[0]);
    return 2;
  }
  url = argv[1];
  if (strncasecmp(url, "mongodb", 7) == 0) {
#ifdef MSVC_HAVE_MONGO
    rc = msvc_mongo_register();
    if (rc != 0) {
      fprintf(stderr, "msvc_mongo_register: %s\n", msvc_err_name(rc));
      return 1;
    }
#else
    fprintf(stderr, "%s: built without the MongoDB module\n", argv[0]);
    return 2;
#endif
  }
  rc = msvc_store_open(url, NULL, &store, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "cannot open %s: %s: %s\n", url, msvc_err_name(rc), err);
    return 1;
  }
  if (msvc__idgen_new(&gen) != 0) {
    msvc_store_close(store);
    return 2;
  }
  new_id(run_tag);
  /* A day ahead: this run's posts are the newest in the store. */
  base_ms = msvc__realtime_ms() + 86400000;
  fprintf(stderr, "backend %s\n", msvc_store_name(store));

  RUN(test_null_methods);
  RUN(test_unusable_tables);
  RUN(test_version2_tables);
  RUN(test_null_arguments);
  RUN(test_scheme_rules);
  RUN(test_register_and_open);
  RUN(test_unknown_scheme);
  RUN(test_registry_threads);

  RUN(test_ping);
  RUN(test_user_round_trip);
  RUN(test_user_duplicates);
  RUN(test_user_update);
  RUN(test_users_find_many);
  RUN(test_post_crud);
  RUN(test_listing);
  RUN(test_concurrent_register);
  RUN(test_has_sessions);
  RUN(test_session_round_trip);
  RUN(test_session_duplicates);
  RUN(test_session_rotate);
  RUN(test_sessions_revoke);
  RUN(test_sessions_list);
  RUN(test_tokens_valid_after);
  RUN(test_concurrent_rotate);
  RUN(test_session_arguments);
  RUN(test_post_list_authors);
  RUN(test_events);
  RUN(test_event_arguments);
  RUN(test_concurrent_events);
  /* Before the 2,000 posts of the paging test: a server that sorts
   * without its index (FerretDB) would make every listing of it slow. */
  RUN(test_mixed_load);
  RUN(test_paging_while_writing);

  msvc_store_close(store);
  msvc__idgen_free(gen);
  TEST_MAIN_END();
}
