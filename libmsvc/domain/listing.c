/* listing.c - reading posts with their authors: one post, or one page.
 *
 * Authors come from the resolver in one call per page over the page's
 * distinct author ids; when the resolver cannot answer (its source is
 * down), the posts are still returned with NULL authors and `degraded`
 * set, because a page of posts without names beats no page.  Only
 * MSVC_EWOULDBLOCK (asked for by MSVC_NOWAIT) passes through, so that an
 * event loop can retry on a worker thread.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/service_internal.h"

/* Two ids are the same: the last eight digits (an ObjectId's counter,
 * where ids made in one second differ) are compared first, as a word. */
static int same_id(const char *a, const char *b) {
  uint64_t x, y;
  memcpy(&x, a + MSVC_ID_LEN - 8, 8);
  memcpy(&y, b + MSVC_ID_LEN - 8, 8);
  return x == y && strcmp(a, b) == 0;
}

/* The distinct author ids of posts[0..n) into uniq; returns the count. */
static size_t distinct_authors(msvc_post_t *const *posts, size_t n,
                               msvc_id_t *uniq) {
  size_t nuniq = 0;
  for (size_t i = 0; i < n; i++) {
    size_t j = 0;
    while (j < nuniq && !same_id(uniq[j].hex, posts[i]->user_id))
      j++;
    if (j == nuniq)
      memcpy(uniq[nuniq++].hex, posts[i]->user_id, MSVC_ID_SIZE);
  }
  return nuniq;
}

/* Points each post's author at the distinct user that answered for it
 * (the page owns them once). */
static void place_authors(msvc_post_t *const *posts, size_t n,
                          const msvc_id_t *uniq, msvc_user_t *const *users,
                          size_t nuniq, msvc_user_t **authors) {
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < nuniq; j++)
      if (users[j]->id[0] && same_id(uniq[j].hex, posts[i]->user_id)) {
        authors[i] = users[j];
        break;
      }
}

/* The page's authors through the resolver, into the page's user slots
 * (one per distinct author; the resolver's strings are freed with the
 * page). */
static int resolve_authors(msvc_t *svc, const msvc_call_t *call,
                           msvc_post_page_t *page) {
  msvc_id_t uniq[MSVC_LIST_MAX_LIMIT + 1];
  msvc_user_t *const *users = msvc__page_user_slots(page);
  size_t n = page->count, nuniq;
  int rc;
  page->degraded = 0;
  if (users == NULL || n > MSVC_LIST_MAX_LIMIT + 1)
    return MSVC_EINVAL; /* not a page this file made */
  nuniq = distinct_authors(page->posts, n, uniq);
  rc = msvc_resolver_resolve(svc->resolver, call, uniq, nuniq, users);
  if (rc == MSVC_EUNAVAIL || rc == MSVC_ETIMEDOUT) {
    page->degraded = 1;
    rc = 0;
  }
  if (rc == 0)
    place_authors(page->posts, n, uniq, users, nuniq, page->authors);
  return rc;
}

/* The author of one post into *out (NULL when the resolver has none or
 * cannot answer, then *degraded says which). */
static int resolve_one(msvc_t *svc, const msvc_call_t *call,
                       const msvc_post_t *p, msvc_user_t **out, int *degraded) {
  msvc_id_t id;
  msvc_user_t *u = NULL;
  int rc = msvc_user_new(&u);
  *out = NULL;
  *degraded = 0;
  memcpy(id.hex, p->user_id, MSVC_ID_SIZE);
  if (rc == 0)
    rc = msvc_resolver_resolve(svc->resolver, call, &id, 1, &u);
  if (rc == MSVC_EUNAVAIL || rc == MSVC_ETIMEDOUT) {
    *degraded = 1;
    rc = 0;
  }
  if (rc == 0 && u->id[0] != '\0' && !*degraded) {
    *out = u;
    return 0;
  }
  msvc_user_free(u);
  return rc;
}

static int do_get(msvc_t *svc, const msvc_call_t *call, const char *id,
                  msvc_post_t **out, msvc_user_t **author, int *degraded) {
  msvc_post_t *p = NULL;
  msvc_user_t *a = NULL;
  int deg = 0;
  int rc = msvc__store_gate(svc, call);
  if (rc == 0)
    rc = msvc_post_new(&p);
  if (rc == 0)
    rc = msvc_store_post_find(svc->store, id, p);
  if (rc == 0 && author != NULL)
    rc = resolve_one(svc, call, p, &a, &deg);
  if (rc != 0) {
    msvc_post_free(p);
    msvc_user_free(a);
    return rc;
  }
  *out = p;
  if (author != NULL)
    *author = a;
  if (degraded != NULL)
    *degraded = deg;
  return 0;
}

int msvc_post_get(msvc_t *svc, const msvc_call_t *call, const char *id,
                  msvc_post_t **out, msvc_user_t **author, int *degraded) {
  if (out != NULL)
    *out = NULL;
  if (author != NULL)
    *author = NULL;
  if (degraded != NULL)
    *degraded = 0;
  if (svc == NULL || id == NULL || out == NULL)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  return MSVC__END(svc, do_get(svc, call, id, out, author, degraded));
}

static int build_query(const msvc_list_request_t *req, msvc_post_query_t *q,
                       msvc_errors_t *errs) {
  memset(q, 0, sizeof(*q));
  if (req->limit < 1 || req->limit > MSVC_LIST_MAX_LIMIT)
    msvc_errors_add(errs, "limit", "must be an integer from 1 to 100");
  q->limit = (size_t)req->limit + 1; /* one extra row: is there more? */
  if (req->cursor != NULL && req->cursor[0] != '\0') {
    if (msvc__cursor_decode(req->cursor, strlen(req->cursor), &q->cursor) != 0)
      msvc_errors_add(errs, "cursor", "is not a cursor from this service");
    else
      q->has_cursor = 1;
  }
  if (req->user_id != NULL && req->user_id[0] != '\0') {
    if (!msvc_id_valid(req->user_id, strlen(req->user_id)))
      msvc_errors_add(errs, "user_id", "must be a 24-hex-digit id");
    else {
      memcpy(q->user_id, req->user_id, MSVC_ID_SIZE);
      msvc__ascii_lower(q->user_id);
    }
  }
  return msvc_errors_count(errs) > 0 ? MSVC_EVALIDATION : 0;
}

/* The opaque position after the page's last post, or "" at the end. */
static void set_next_cursor(msvc_post_page_t *page, size_t nrows,
                            size_t limit) {
  char buf[MSVC__CURSOR_SIZE] = "";
  if (nrows > limit && page->count > 0) {
    msvc_cursor_t c;
    c.created_at = page->posts[page->count - 1]->created_at;
    memcpy(c.id, page->posts[page->count - 1]->id, MSVC_ID_SIZE);
    msvc__cursor_encode(&c, buf);
  }
  msvc__page_set_cursor(page, buf);
}

/* The page's authors as read with its posts (users[i] for posts[i]):
 * entries by one author share the first slot read for them. */
static void share_authors(msvc_post_page_t *page, msvc_user_t *const *users) {
  msvc_user_t *seen[MSVC_LIST_MAX_LIMIT + 1];
  size_t nseen = 0;
  for (size_t i = 0; i < page->count; i++) {
    size_t j = 0;
    if (users[i]->id[0] == '\0')
      continue;
    while (j < nseen && !same_id(seen[j]->id, users[i]->id))
      j++;
    if (j == nseen)
      seen[nseen++] = users[i];
    page->authors[i] = seen[j];
  }
}

/* The rows read are the page, but for the one past its limit that was
 * read only to learn whether there is more. */
static void keep_page(msvc_post_page_t *page, size_t nrows,
                      const msvc_post_query_t *q) {
  msvc__page_truncate(page, nrows < q->limit ? nrows : q->limit - 1);
}

/* The page read into its own memory (the store's page sink), with its
 * authors in the same read when the resolver is the local one over the
 * same store, else through the resolver afterwards. */
static int read_into_page(msvc_t *svc, const msvc_call_t *call,
                          const msvc_post_query_t *q, msvc_post_page_t *page,
                          size_t *nrows) {
  msvc_page_sink_t sink;
  int rc = msvc__page_sink_page(&sink, page, q->limit, !svc->local_authors);
  if (rc == 0)
    rc = msvc__store_post_page(svc->store, q, &sink);
  if (rc != 0)
    return rc;
  *nrows = sink.count;
  keep_page(page, *nrows, q);
  if (!svc->local_authors)
    return resolve_authors(svc, call, page);
  share_authors(page, sink.authors);
  return 0;
}

/* The page through a store's post_list, then its authors through the
 * resolver. */
static int read_then_resolve(msvc_t *svc, const msvc_call_t *call,
                             const msvc_post_query_t *q, msvc_post_page_t *page,
                             size_t *nrows) {
  int rc = msvc__page_alloc(page, q->limit, NULL);
  if (rc == 0)
    rc = msvc_store_post_list(svc->store, q, page->posts, nrows);
  if (rc != 0)
    return rc;
  keep_page(page, *nrows, q);
  return resolve_authors(svc, call, page);
}

static int read_page(msvc_t *svc, const msvc_call_t *call,
                     const msvc_post_query_t *q, msvc_post_page_t *page) {
  size_t nrows = 0;
  int rc = svc->page_sink ? read_into_page(svc, call, q, page, &nrows)
                          : read_then_resolve(svc, call, q, page, &nrows);
  if (rc == 0)
    set_next_cursor(page, nrows, q->limit - 1);
  return rc;
}

static int do_list(msvc_t *svc, const msvc_call_t *call,
                   const msvc_list_request_t *req, msvc_post_page_t **out,
                   msvc_errors_t *errs) {
  msvc_post_query_t q;
  msvc_post_page_t *page;
  int rc = build_query(req, &q, errs);
  if (rc == 0)
    rc = msvc__store_gate(svc, call);
  if (rc != 0)
    return rc;
  page = msvc__page_new();
  if (page == NULL)
    return MSVC_ENOMEM;
  rc = read_page(svc, call, &q, page);
  if (rc != 0) {
    msvc_post_page_free(page);
    return rc;
  }
  *out = page;
  return 0;
}

int msvc_post_list(msvc_t *svc, const msvc_call_t *call,
                   const msvc_list_request_t *req_, msvc_post_page_t **out,
                   msvc_errors_t *errs_) {
  msvc_list_request_t req = MSVC_LIST_REQUEST_INIT;
  msvc_errors_t local, *errs;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (svc == NULL || out == NULL ||
      (req_ != NULL && msvc__copy_sized(&req, sizeof(req), req_) != 0))
    return MSVC_EINVAL;
  MSVC__BEGIN();
  errs = msvc__errors_use(errs_, &local);
  rc = do_list(svc, call, &req, out, errs);
  msvc__errors_done(errs, errs_);
  return MSVC__END(svc, rc);
}
