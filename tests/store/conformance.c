/* conformance.c - the store contract of msvc/store.h, checked against
 * whatever backend a DATABASE_URL names:
 *
 *   store_conformance DATABASE_URL
 *
 * Only the public store API and the id generator are used, so the same
 * program runs unchanged on every backend.  The URL should name fresh,
 * empty storage (a new SQLite file, a new MongoDB database); the checks are
 * written to tolerate data left by an earlier run all the same: emails
 * carry a tag unique to the run, listings of one author use fresh author
 * ids, and a listing of every author only looks at this run's posts within
 * it.  Threads never call CHECK (the harness counters are plain ints):
 * they record what they saw and the main thread checks it after joining.
 * Loops are bounded by counts, never by time, and no check depends on
 * timing: where threads must overlap, one waits for the others' progress.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msvc.h"
#include "testutil.h"

static msvc_store_t *store;
static msvc_idgen_t *gen;
static char run_tag[MSVC_ID_SIZE]; /* makes this run's emails unique */
static int64_t base_ms;            /* this run's post times start here */

/* A bcrypt hash made by the seed's node bcrypt (DATA.md). */
static const char seed_hash[] =
    "$2b$10$C9XWPSw9uHefbp35dpHrMuIcK8Dcyy.GaJegqQGYGaJ007wCr3z4u";

/* ---- helpers ----------------------------------------------------------- */

static void *xmalloc(size_t n) {
  void *p = calloc(1, n ? n : 1);
  if (p == NULL) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return p;
}

static char *xstrdup(const char *s) {
  char *p = xmalloc(strlen(s) + 1);
  memcpy(p, s, strlen(s) + 1);
  return p;
}

static void new_id(char out[MSVC_ID_SIZE]) {
  msvc_idgen_next(gen, out);
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

/* A user record whose strings the caller owns (msvc_user_record_clear). */
static void user_init(msvc_user_record_t *rec, const char *name,
                      const char *email, int64_t at) {
  memset(rec, 0, sizeof(*rec));
  new_id(rec->user.id);
  rec->user.name = xstrdup(name);
  rec->user.email = xstrdup(email);
  rec->password_hash = xstrdup(seed_hash);
  rec->user.created_at = at;
  rec->user.updated_at = at;
}

static void tagged_email(char *out, size_t size, const char *who, int n) {
  snprintf(out, size, "%s.%d.%s@example.com", who, n, run_tag);
}

static void post_init(msvc_post_t *p, const char *user_id, const char *title,
                      const char *content, int64_t at) {
  memset(p, 0, sizeof(*p));
  new_id(p->id);
  memcpy(p->user_id, user_id, MSVC_ID_SIZE);
  p->title = xstrdup(title);
  p->content = xstrdup(content);
  p->created_at = at;
  p->updated_at = at;
}

static void posts_clear(msvc_post_t *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    msvc_post_clear(&v[i]);
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
  check_same_user(&got->user, &want->user);
  CHECK_EQ_STR(got->password_hash, want->password_hash);
}

static int same_post(const msvc_post_t *a, const msvc_post_t *b) {
  return strcmp(a->id, b->id) == 0 && strcmp(a->user_id, b->user_id) == 0 &&
         strcmp(a->title, b->title) == 0 &&
         strcmp(a->content, b->content) == 0 &&
         a->created_at == b->created_at && a->updated_at == b->updated_at;
}

/* qsort order of a listing: created_at DESC, then id DESC. */
static int newest_first(const void *pa, const void *pb) {
  const msvc_post_t *a = pa, *b = pb;
  if (a->created_at != b->created_at)
    return a->created_at > b->created_at ? -1 : 1;
  return -strcmp(a->id, b->id);
}

static int strictly_older(const msvc_post_t *prev, const msvc_post_t *cur) {
  return newest_first(prev, cur) < 0;
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
 * posts are appended to *out (grown as needed); returns the store's
 * error, if any.  A page that does not move past the cursor ends the walk
 * (and shows as an order violation), so a broken backend cannot loop.
 * With a pace, each page waits for the writers (see pace_t). */
static int list_all(const char *author, size_t limit, msvc_post_t **out,
                    size_t *n, pace_t *pace) {
  msvc_post_query_t q;
  msvc_post_t *page = xmalloc(limit * sizeof(*page));
  size_t cap = 64, got;
  int rc, pages = 0;
  *n = 0;
  *out = xmalloc(cap * sizeof(**out));
  memset(&q, 0, sizeof(q));
  q.limit = limit;
  snprintf(q.user_id, sizeof(q.user_id), "%s", author);
  do {
    pace_wait(pace, pages++);
    rc = msvc_store_post_list(store, &q, page, &got);
    if (rc != 0)
      break;
    if (*n + got > cap) {
      cap = 2 * (*n + got);
      *out = realloc(*out, cap * sizeof(**out));
      if (*out == NULL)
        exit(2);
    }
    memcpy(*out + *n, page, got * sizeof(*page));
    *n += got;
    if (got == 0 ||
        (*n > got && !strictly_older(&(*out)[*n - got - 1], &(*out)[*n - got])))
      break;
    q.has_cursor = 1;
    q.cursor.created_at = page[got - 1].created_at;
    memcpy(q.cursor.id, page[got - 1].id, MSVC_ID_SIZE);
  } while (got == limit);
  free(page);
  return rc;
}

static size_t order_violations(const msvc_post_t *v, size_t n) {
  size_t bad = 0;
  for (size_t i = 1; i < n; i++)
    if (!strictly_older(&v[i - 1], &v[i]))
      bad++;
  return bad;
}

/* ---- users ------------------------------------------------------------- */

static void test_ping(void) {
  CHECK_EQ_INT(msvc_store_ping(store), 0);
}

static void test_user_round_trip(void) {
  msvc_user_record_t rec, got;
  char email[128], upper[MSVC_ID_SIZE], missing[MSVC_ID_SIZE];
  tagged_email(email, sizeof(email), "ada", 0);
  user_init(
      &rec,
      "Ada Lovelace \xe2\x80\x94 Zo\xc3\xab \xe6\x9d\x8e \xf0\x9f\x9a\x80",
      email, 1706258964123);
  rec.user.updated_at = 1706258965456;
  CHECK_EQ_INT(msvc_store_user_insert(store, &rec), 0);

  memset(&got, 0, sizeof(got));
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, rec.user.id, &got), 0);
  check_same_record(&got, &rec);
  msvc_user_record_clear(&got);

  CHECK_EQ_INT(msvc_store_user_find_by_email(store, email, &got), 0);
  check_same_record(&got, &rec);
  msvc_user_record_clear(&got);

  /* An id is a value, not a spelling: either case finds the user. */
  upper_id(upper, rec.user.id);
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, upper, &got), 0);
  CHECK_EQ_STR(got.user.id, rec.user.id);
  msvc_user_record_clear(&got);

  new_id(missing);
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, missing, &got),
               MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, "not-an-id", &got),
               MSVC_ENOTFOUND);
  tagged_email(email, sizeof(email), "nobody", 0);
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, email, &got),
               MSVC_ENOTFOUND);
  msvc_user_record_clear(&rec);
}

static void test_user_duplicates(void) {
  msvc_user_record_t a, b, got;
  char ea[128], eb[128];
  tagged_email(ea, sizeof(ea), "dup", 1);
  tagged_email(eb, sizeof(eb), "dup", 2);
  user_init(&a, "A", ea, 1000);
  user_init(&b, "B", ea, 2000);
  CHECK_EQ_INT(msvc_store_user_insert(store, &a), 0);
  CHECK_EQ_INT(msvc_store_user_insert(store, &b), MSVC_EEXIST);
  memset(&got, 0, sizeof(got));
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, ea, &got), 0);
  CHECK_EQ_STR(got.user.id, a.user.id);
  msvc_user_record_clear(&got);
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, b.user.id, &got),
               MSVC_ENOTFOUND);

  /* The same id again, with a free email: still a clash. */
  free(a.user.email);
  a.user.email = xstrdup(eb);
  CHECK_EQ_INT(msvc_store_user_insert(store, &a), MSVC_EEXIST);
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, eb, &got), MSVC_ENOTFOUND);

  /* An update onto a taken email fails and changes nothing. */
  free(b.user.email);
  b.user.email = xstrdup(eb);
  CHECK_EQ_INT(msvc_store_user_insert(store, &b), 0);
  free(b.user.email);
  b.user.email = xstrdup(ea);
  b.user.updated_at = 3000;
  CHECK_EQ_INT(msvc_store_user_update(store, &b), MSVC_EEXIST);
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, b.user.id, &got), 0);
  CHECK_EQ_STR(got.user.email, eb);
  CHECK_EQ_INT(got.user.updated_at, 2000);
  msvc_user_record_clear(&got);
  msvc_user_record_clear(&a);
  msvc_user_record_clear(&b);
}

static void test_user_update(void) {
  msvc_user_record_t u, got, other;
  char e1[128], e2[128];
  int64_t created = 1706258964000;
  tagged_email(e1, sizeof(e1), "upd", 1);
  tagged_email(e2, sizeof(e2), "upd", 2);
  user_init(&u, "Before", e1, created);
  CHECK_EQ_INT(msvc_store_user_insert(store, &u), 0);

  free(u.user.name);
  u.user.name = xstrdup("After \xc3\xa9t\xc3\xa9");
  free(u.user.email);
  u.user.email = xstrdup(e2);
  free(u.password_hash);
  u.password_hash = xstrdup("$y$j9T$abcdefghijklmnop$0123456789");
  u.user.updated_at = created + 61000;
  u.user.created_at = 42; /* not a field update writes */
  CHECK_EQ_INT(msvc_store_user_update(store, &u), 0);

  memset(&got, 0, sizeof(got));
  CHECK_EQ_INT(msvc_store_user_find_by_id(store, u.user.id, &got), 0);
  u.user.created_at = created;
  check_same_record(&got, &u);
  msvc_user_record_clear(&got);
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, e1, &got), MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_user_find_by_email(store, e2, &got), 0);
  CHECK_EQ_STR(got.user.id, u.user.id);
  msvc_user_record_clear(&got);

  /* Writing the same values again is a success, not "not found". */
  CHECK_EQ_INT(msvc_store_user_update(store, &u), 0);

  /* The old email is free again. */
  user_init(&other, "Other", e1, created);
  CHECK_EQ_INT(msvc_store_user_insert(store, &other), 0);

  new_id(other.user.id);
  free(other.user.email);
  other.user.email = xstrdup("ghost@example.com");
  CHECK_EQ_INT(msvc_store_user_update(store, &other), MSVC_ENOTFOUND);
  msvc_user_record_clear(&other);
  msvc_user_record_clear(&u);
}

/* The found users are exactly `want[0..nwant)`, each once. */
static void check_found(const msvc_user_t *found, size_t nfound,
                        const msvc_user_record_t *want, size_t nwant) {
  char *seen = xmalloc(nwant);
  size_t matched = 0, bad = 0;
  CHECK_EQ_INT(nfound, nwant);
  for (size_t i = 0; i < nfound; i++) {
    for (size_t j = 0; j < nwant; j++) {
      if (strcmp(found[i].id, want[j].user.id) != 0)
        continue;
      if (!seen[j]) {
        check_same_user(&found[i], &want[j].user);
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
  msvc_user_record_t *users = xmalloc(KNOWN * sizeof(*users));
  msvc_id_t *ids = xmalloc(ASKED * sizeof(*ids));
  msvc_user_t *out = xmalloc(ASKED * sizeof(*out));
  size_t nout = 99, order[ASKED];
  char email[128], name[32];
  int inserted = 0;

  for (int i = 0; i < KNOWN; i++) {
    tagged_email(email, sizeof(email), "many", i);
    snprintf(name, sizeof(name), "many %d", i);
    user_init(&users[i], name, email, 1700000000000 + i);
    inserted += msvc_store_user_insert(store, &users[i]) == 0;
  }
  CHECK_EQ_INT(inserted, KNOWN);

  /* 1000 ids in one call: the 400 users mixed among 600 unknown ids. */
  shuffle(order, ASKED, 7);
  for (size_t i = 0; i < ASKED; i++) {
    if (order[i] < KNOWN)
      memcpy(ids[i].hex, users[order[i]].user.id, MSVC_ID_SIZE);
    else
      new_id(ids[i].hex);
  }
  CHECK_EQ_INT(msvc_store_users_find_many(store, ids, ASKED, out, &nout), 0);
  check_found(out, nout, users, KNOWN);
  for (size_t i = 0; i < nout; i++)
    msvc_user_clear(&out[i]);

  /* Five users, each asked twice, among unknown and malformed ids. */
  for (int i = 0; i < 5; i++) {
    memcpy(ids[2 * i].hex, users[i].user.id, MSVC_ID_SIZE);
    memcpy(ids[2 * i + 1].hex, users[i].user.id, MSVC_ID_SIZE);
  }
  for (int i = 10; i < 13; i++)
    new_id(ids[i].hex);
  snprintf(ids[13].hex, MSVC_ID_SIZE, "%s", "not-hex-not-hex-not-hex!");
  CHECK_EQ_INT(msvc_store_users_find_many(store, ids, 14, out, &nout), 0);
  check_found(out, nout, users, 5);
  for (size_t i = 0; i < nout; i++)
    msvc_user_clear(&out[i]);

  CHECK_EQ_INT(msvc_store_users_find_many(store, ids + 10, 3, out, &nout), 0);
  CHECK_EQ_INT(nout, 0);
  CHECK_EQ_INT(msvc_store_users_find_many(store, ids, 0, out, &nout), 0);
  CHECK_EQ_INT(nout, 0);

  for (int i = 0; i < KNOWN; i++)
    msvc_user_record_clear(&users[i]);
  free(users);
  free(ids);
  free(out);
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
  msvc_post_t p, got, missing;
  char author[MSVC_ID_SIZE], upper[MSVC_ID_SIZE];
  char *content = big_content();
  new_id(author);
  post_init(&p, author, "Hello \xe2\x80\x94 \xe4\xb8\x96\xe7\x95\x8c", content,
            1706259100123);
  p.updated_at = 1706259100124;
  CHECK_EQ_INT(msvc_store_post_insert(store, &p), 0);
  CHECK_EQ_INT(msvc_store_post_insert(store, &p), MSVC_EEXIST);

  memset(&got, 0, sizeof(got));
  CHECK_EQ_INT(msvc_store_post_find(store, p.id, &got), 0);
  check_same_post(&got, &p);
  msvc_post_clear(&got);
  upper_id(upper, p.id);
  CHECK_EQ_INT(msvc_store_post_find(store, upper, &got), 0);
  CHECK_EQ_STR(got.id, p.id);
  msvc_post_clear(&got);

  /* An update writes title, content and updated_at only. */
  free(p.title);
  p.title = xstrdup("Edited");
  free(p.content);
  p.content = xstrdup("");
  p.updated_at = 1706259200000;
  p.created_at = 1;
  new_id(p.user_id);
  CHECK_EQ_INT(msvc_store_post_update(store, &p), 0);
  CHECK_EQ_INT(msvc_store_post_find(store, p.id, &got), 0);
  p.created_at = 1706259100123;
  memcpy(p.user_id, author, MSVC_ID_SIZE);
  check_same_post(&got, &p);
  msvc_post_clear(&got);
  CHECK_EQ_INT(msvc_store_post_update(store, &p), 0);

  CHECK_EQ_INT(msvc_store_post_delete(store, p.id), 0);
  CHECK_EQ_INT(msvc_store_post_find(store, p.id, &got), MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_post_delete(store, p.id), MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_post_update(store, &p), MSVC_ENOTFOUND);

  post_init(&missing, author, "never stored", "x", 5);
  CHECK_EQ_INT(msvc_store_post_find(store, missing.id, &got), MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_post_update(store, &missing), MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_store_post_delete(store, missing.id), MSVC_ENOTFOUND);
  msvc_post_clear(&missing);
  msvc_post_clear(&p);
  free(content);
}

/* A listing of `author` equals want[0..n) exactly, both in one page and
 * page by page with several limits. */
static void check_author_listing(const char *author, const msvc_post_t *want,
                                 size_t n) {
  static const size_t limits[] = {MSVC_LIST_MAX_LIMIT + 1, 5, 3, 1};
  for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
    msvc_post_t *got;
    size_t ngot, same = 0;
    CHECK_EQ_INT(list_all(author, limits[l], &got, &ngot, NULL), 0);
    CHECK_EQ_INT(ngot, n);
    for (size_t i = 0; i < ngot && i < n; i++)
      same += same_post(&got[i], &want[i]);
    CHECK_EQ_INT(same, n);
    posts_clear(got, ngot);
    free(got);
  }
}

/* Checks the listing of every author: this run's posts come in the
 * expected order, and the whole listing is strictly ordered. */
static void check_global_listing(const msvc_post_t *want, size_t n) {
  msvc_post_t *got;
  size_t ngot, next = 0, misplaced = 0;
  CHECK_EQ_INT(list_all("", MSVC_LIST_MAX_LIMIT, &got, &ngot, NULL), 0);
  CHECK_EQ_INT(order_violations(got, ngot), 0);
  for (size_t i = 0; i < ngot; i++) {
    for (size_t j = 0; j < n; j++) {
      if (strcmp(got[i].id, want[j].id) != 0)
        continue;
      misplaced += j != next;
      next++;
    }
  }
  CHECK_EQ_INT(next, n);
  CHECK_EQ_INT(misplaced, 0);
  posts_clear(got, ngot);
  free(got);
}

/* Where a cursor that names no stored post starts. */
static void check_cursor_between(const char *author, const msvc_post_t *want,
                                 size_t n) {
  msvc_post_query_t q;
  msvc_post_t page[2];
  size_t got, k = 4;
  memset(&q, 0, sizeof(q));
  q.limit = 2;
  q.has_cursor = 1;
  memcpy(q.user_id, author, MSVC_ID_SIZE);
  while (k > 0 && want[k - 1].created_at == want[k].created_at)
    k--; /* the newest post with want[4]'s time */
  q.cursor.created_at = want[k].created_at;
  memcpy(q.cursor.id, "ffffffffffffffffffffffff", MSVC_ID_SIZE);
  CHECK_EQ_INT(msvc_store_post_list(store, &q, page, &got), 0);
  CHECK_EQ_INT(got, 2);
  if (got > 0)
    CHECK_EQ_STR(page[0].id, want[k].id);
  posts_clear(page, got);

  while (k + 1 < n && want[k + 1].created_at == want[k].created_at)
    k++; /* the oldest with that time */
  memcpy(q.cursor.id, "000000000000000000000000", MSVC_ID_SIZE);
  CHECK_EQ_INT(msvc_store_post_list(store, &q, page, &got), 0);
  CHECK_EQ_INT(got, n - k - 1 < 2 ? n - k - 1 : 2);
  if (got > 0 && k + 1 < n)
    CHECK_EQ_STR(page[0].id, want[k + 1].id);
  posts_clear(page, got);
}

static void test_listing(void) {
  enum { N = 36, TIMES = 12 };
  msvc_post_t all[N], mine[N], theirs[N];
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
    post_init(&all[i], i % 3 == 0 ? b : a, title, "body",
              base_ms + (int64_t)(order[i] % TIMES) * 1000);
  }
  shuffle(order, N, 13);
  for (size_t i = 0; i < N; i++)
    inserted += msvc_store_post_insert(store, &all[order[i]]) == 0;
  CHECK_EQ_INT(inserted, N);

  qsort(all, N, sizeof(all[0]), newest_first);
  for (size_t i = 0; i < N; i++) {
    if (strcmp(all[i].user_id, a) == 0)
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
  msvc_post_t *page = xmalloc(q.limit * sizeof(*page));
  CHECK_EQ_INT(msvc_store_post_list(store, &q, page, &got), 0);
  CHECK_EQ_INT(got, ntheirs);
  posts_clear(page, got);
  memcpy(q.user_id, nobody, MSVC_ID_SIZE);
  CHECK_EQ_INT(msvc_store_post_list(store, &q, page, &got), 0);
  CHECK_EQ_INT(got, 0);
  free(page);
  posts_clear(all, N);
}

/* ---- concurrency ------------------------------------------------------- */

enum { RACERS = 8, RACE_ROUNDS = 5 };

typedef struct racer {
  pthread_barrier_t *start;
  const char *email;
  char id[MSVC_ID_SIZE];
  int rc;
} racer_t;

static void *race_register(void *arg) {
  racer_t *r = arg;
  msvc_user_record_t rec;
  memset(&rec, 0, sizeof(rec));
  memcpy(rec.user.id, r->id, MSVC_ID_SIZE);
  rec.user.name = "racer";
  rec.user.email = (char *)r->email;
  rec.password_hash = (char *)seed_hash;
  rec.user.created_at = rec.user.updated_at = 1700000000000;
  pthread_barrier_wait(r->start);
  r->rc = msvc_store_user_insert(store, &rec);
  return NULL;
}

/* (a) Eight registrations of one email at once: one wins, seven clash. */
static void test_concurrent_register(void) {
  for (int round = 0; round < RACE_ROUNDS; round++) {
    pthread_barrier_t start;
    pthread_t th[RACERS];
    racer_t r[RACERS];
    msvc_user_record_t got;
    char email[128];
    int wins = 0, clashes = 0, winner = -1;
    tagged_email(email, sizeof(email), "race", round);
    pthread_barrier_init(&start, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
      r[i].start = &start;
      r[i].email = email;
      new_id(r[i].id);
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
    memset(&got, 0, sizeof(got));
    CHECK_EQ_INT(msvc_store_user_find_by_email(store, email, &got), 0);
    if (winner >= 0)
      CHECK_EQ_STR(got.user.id, r[winner].id);
    msvc_user_record_clear(&got);
  }
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
    msvc_post_t p;
    int rc;
    post_init(&p, author, "newer", "written while paging",
              w->first_time + w->written);
    rc = msvc_store_post_insert(store, &p);
    if (rc == 0) {
      w->written++;
    } else {
      w->failed++;
      w->first_error = w->first_error ? w->first_error : rc;
    }
    msvc_post_clear(&p);
    pace_note(w->pace, rc == 0, 0);
  }
  pace_note(w->pace, 0, 1);
  return NULL;
}

static int by_id(const void *pa, const void *pb) {
  return strcmp(((const msvc_post_t *)pa)->id, ((const msvc_post_t *)pb)->id);
}

/* Each of the `n` sorted-by-id posts in want is in got (sorted by id too)
 * exactly once; returns how many are not. */
static size_t missing_or_repeated(msvc_post_t *got, size_t ngot,
                                  const msvc_post_t *want, size_t n) {
  size_t bad = 0, i = 0;
  for (size_t j = 0; j < n; j++) {
    size_t hits = 0;
    while (i < ngot && strcmp(got[i].id, want[j].id) < 0)
      i++;
    while (i < ngot && strcmp(got[i].id, want[j].id) == 0) {
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
  msvc_post_t *initial = xmalloc(PAGED * sizeof(*initial)), *seen;
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
    post_init(&initial[i], author, "old", "there at the start",
              t0 + (int64_t)((i * 7919) % PAGED) / 2);
    inserted += msvc_store_post_insert(store, &initial[i]) == 0;
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
    repeats += strcmp(seen[i - 1].id, seen[i].id) == 0;
  CHECK_EQ_INT(repeats, 0);
  qsort(initial, PAGED, sizeof(*initial), by_id);
  CHECK_EQ_INT(missing_or_repeated(seen, nseen, initial, PAGED), 0);
  posts_clear(seen, nseen);
  free(seen);
  posts_clear(initial, PAGED);
  free(initial);
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

/* One round of a worker: a user and a post through their whole life. */
static void work_round(worker_t *w, int round, msvc_id_t *mine, size_t *nmine) {
  msvc_user_record_t rec, got;
  msvc_post_t post, found = {0}, page[10];
  msvc_user_t users[10];
  msvc_post_query_t q;
  size_t n = 0;
  char email[128], who[32];
  snprintf(who, sizeof(who), "worker%d", w->index);
  tagged_email(email, sizeof(email), who, round);
  user_init(&rec, who, email, base_ms + round);
  memset(&got, 0, sizeof(got));
  EXPECT(w, msvc_store_user_insert(store, &rec), 0);
  EXPECT(w, msvc_store_user_find_by_id(store, rec.user.id, &got), 0);
  msvc_user_record_clear(&got);
  EXPECT(w, msvc_store_user_find_by_email(store, email, &got), 0);
  msvc_user_record_clear(&got);
  rec.user.updated_at++;
  EXPECT(w, msvc_store_user_update(store, &rec), 0);
  memcpy(mine[*nmine % 10].hex, rec.user.id, MSVC_ID_SIZE);
  (*nmine)++;
  EXPECT(w,
         msvc_store_users_find_many(store, mine, *nmine < 10 ? *nmine : 10,
                                    users, &n),
         0);
  if (n != (*nmine < 10 ? *nmine : 10))
    work_failed(w, "users_find_many count", (int)n);
  for (size_t i = 0; i < n; i++)
    msvc_user_clear(&users[i]);

  post_init(&post, rec.user.id, "busy", "post", base_ms + round);
  EXPECT(w, msvc_store_post_insert(store, &post), 0);
  EXPECT(w, msvc_store_post_find(store, post.id, &found), 0);
  msvc_post_clear(&found);
  post.updated_at++;
  EXPECT(w, msvc_store_post_update(store, &post), 0);
  memset(&q, 0, sizeof(q));
  q.limit = 10;
  memcpy(q.user_id, rec.user.id, MSVC_ID_SIZE);
  EXPECT(w, msvc_store_post_list(store, &q, page, &n), 0);
  if (n != 1)
    work_failed(w, "post_list count", (int)n);
  posts_clear(page, n);
  if (round % 3 == 0)
    EXPECT(w, msvc_store_post_delete(store, post.id), 0);
  msvc_post_clear(&post);
  msvc_user_record_clear(&rec);
}

static void *work(void *arg) {
  worker_t *w = arg;
  msvc_id_t mine[10];
  size_t nmine = 0;
  for (int round = 0; round < WORK_ROUNDS; round++)
    work_round(w, round, mine, &nmine);
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

int main(int argc, char **argv) {
  char err[512] = "";
  int rc;
  if (argc != 2) {
    fprintf(stderr, "usage: %s DATABASE_URL\n", argv[0]);
    return 2;
  }
  rc = msvc_store_open(argv[1], NULL, &store, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "cannot open %s: %s: %s\n", argv[1], msvc_err_name(rc),
            err);
    return 1;
  }
  if (msvc_idgen_new(&gen) != 0) {
    msvc_store_close(store);
    return 2;
  }
  new_id(run_tag);
  /* A day ahead: this run's posts are the newest in the store. */
  base_ms = msvc_now_ms() + 86400000;
  fprintf(stderr, "backend %s\n", msvc_store_get_methods(store)->name);

  RUN(test_ping);
  RUN(test_user_round_trip);
  RUN(test_user_duplicates);
  RUN(test_user_update);
  RUN(test_users_find_many);
  RUN(test_post_crud);
  RUN(test_listing);
  RUN(test_concurrent_register);
  /* Before the 2,000 posts of the paging test: a server that sorts
   * without its index (FerretDB) would make every listing of it slow. */
  RUN(test_mixed_load);
  RUN(test_paging_while_writing);

  msvc_store_close(store);
  msvc_idgen_free(gen);
  TEST_MAIN_END();
}
