/* posts.c - creating, reading, listing, updating and deleting posts.
 *
 * Invariants: only the author may change or delete a post (checked against
 * the stored user_id, never against anything the client sends); a listing
 * is one keyset query of limit+1 rows (the extra row only tells whether a
 * next page exists) and one resolver call for the page's distinct authors,
 * so its cost depends on the page size, not on how many posts exist.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "service_internal.h"

static int validate_post(msvc_post_input_t *in, int partial,
                         msvc_errors_t *errs) {
  if (partial && in->title == NULL && in->content == NULL) {
    msvc_errors_add(errs, "body", "must contain title or content");
    return MSVC_EVALIDATION;
  }
  if (!partial || in->title != NULL)
    msvc_validate_title(in->title, errs);
  if (!partial || in->content != NULL)
    msvc_validate_content(in->content, errs);
  return errs->count > 0 ? MSVC_EVALIDATION : 0;
}

int msvc_post_create(msvc_t *svc, const msvc_user_t *author,
                     msvc_post_input_t *in, msvc_post_t *out,
                     msvc_errors_t *errs) {
  int rc;
  memset(out, 0, sizeof(*out));
  if (author == NULL || !msvc_id_valid(author->id, strlen(author->id)))
    return MSVC_EINVAL;
  if (validate_post(in, 0, errs) != 0)
    return MSVC_EVALIDATION;
  msvc_idgen_next(svc->ids, out->id);
  memcpy(out->user_id, author->id, MSVC_ID_SIZE);
  msvc__ascii_lower(out->user_id);
  out->title = in->title;
  out->content = in->content;
  in->title = in->content = NULL;
  out->created_at = out->updated_at = msvc_now_ms();
  rc = msvc_store_post_insert(svc->store, out);
  if (rc != 0)
    msvc_post_clear(out);
  return rc;
}

/* Resolves the authors of posts[0..n) into authors[0..n) with one resolver
 * call over the distinct ids.  Sets *degraded when the resolver could not
 * answer; MSVC_EWOULDBLOCK passes through. */
static int resolve_authors(msvc_t *svc, const msvc_post_t *posts, size_t n,
                           unsigned flags, const char *request_id,
                           msvc_user_t *authors, int *degraded) {
  msvc_id_t *uniq = calloc(n ? n : 1, sizeof(*uniq));
  msvc_user_t *users = calloc(n ? n : 1, sizeof(*users));
  size_t nuniq = 0;
  int rc = MSVC_ENOMEM;
  *degraded = 0;
  if (uniq == NULL || users == NULL)
    goto done;
  for (size_t i = 0; i < n; i++) {
    size_t j = 0;
    while (j < nuniq && strcmp(uniq[j].hex, posts[i].user_id) != 0)
      j++;
    if (j == nuniq)
      memcpy(uniq[nuniq++].hex, posts[i].user_id, MSVC_ID_SIZE);
  }
  rc = msvc_resolver_resolve(svc->resolver, uniq, nuniq,
                             (flags & MSVC_NONBLOCK) ? MSVC_RESOLVE_NONBLOCK : 0,
                             request_id, users);
  if (rc == MSVC_EUNAVAIL || rc == MSVC_ETIMEDOUT) {
    *degraded = 1;
    rc = 0;
  }
  for (size_t i = 0; rc == 0 && i < n; i++)
    for (size_t j = 0; j < nuniq; j++)
      if (users[j].id[0] && strcmp(uniq[j].hex, posts[i].user_id) == 0) {
        rc = msvc_user_copy(&authors[i], &users[j]);
        break;
      }
done:
  if (users != NULL)
    msvc_users_free(users, nuniq);
  free(uniq);
  return rc;
}

int msvc_post_get(msvc_t *svc, const char *id, unsigned flags,
                  const char *request_id, msvc_post_t *out,
                  msvc_user_t *author, int *degraded) {
  int rc = msvc__store_gate(svc, flags);
  memset(out, 0, sizeof(*out));
  memset(author, 0, sizeof(*author));
  *degraded = 0;
  if (rc != 0)
    return rc;
  rc = msvc_store_post_find(svc->store, id, out);
  if (rc != 0)
    return rc;
  rc = resolve_authors(svc, out, 1, flags, request_id, author, degraded);
  if (rc != 0) {
    msvc_post_clear(out);
    msvc_user_clear(author);
  }
  return rc;
}

/* Loads post_id and checks that caller_id wrote it. */
static int load_owned(msvc_t *svc, const char *caller_id, const char *post_id,
                      msvc_post_t *post) {
  int rc = msvc_store_post_find(svc->store, post_id, post);
  if (rc != 0)
    return rc;
  if (caller_id == NULL || strcasecmp(post->user_id, caller_id) != 0) {
    msvc_post_clear(post);
    return MSVC_EFORBIDDEN;
  }
  return 0;
}

int msvc_post_update(msvc_t *svc, const char *caller_id, const char *post_id,
                     msvc_post_input_t *in, msvc_post_t *out,
                     msvc_errors_t *errs) {
  int rc;
  memset(out, 0, sizeof(*out));
  if (validate_post(in, 1, errs) != 0)
    return MSVC_EVALIDATION;
  rc = load_owned(svc, caller_id, post_id, out);
  if (rc != 0)
    return rc;
  if (in->title != NULL) {
    free(out->title);
    out->title = in->title;
    in->title = NULL;
  }
  if (in->content != NULL) {
    free(out->content);
    out->content = in->content;
    in->content = NULL;
  }
  out->updated_at = msvc_now_ms();
  rc = msvc_store_post_update(svc->store, out);
  if (rc != 0)
    msvc_post_clear(out);
  return rc;
}

int msvc_post_delete(msvc_t *svc, const char *caller_id, const char *post_id) {
  msvc_post_t post;
  int rc = load_owned(svc, caller_id, post_id, &post);
  if (rc != 0)
    return rc;
  msvc_post_clear(&post);
  return msvc_store_post_delete(svc->store, post_id);
}

/* Digits only, 1..MSVC_LIST_MAX_LIMIT; NULL or "" means the default. */
static int parse_limit(const char *s, size_t *limit, msvc_errors_t *errs) {
  size_t v = 0;
  *limit = MSVC_LIST_DEFAULT_LIMIT;
  if (s == NULL || *s == '\0')
    return 0;
  for (const char *p = s; *p; p++) {
    if (!isdigit((unsigned char)*p) || v > MSVC_LIST_MAX_LIMIT) {
      v = 0;
      break;
    }
    v = v * 10 + (size_t)(*p - '0');
  }
  if (v < 1 || v > MSVC_LIST_MAX_LIMIT) {
    msvc_errors_add(errs, "limit", "must be an integer from 1 to 100");
    return MSVC_EVALIDATION;
  }
  *limit = v;
  return 0;
}

static int build_query(const msvc_list_request_t *req, msvc_post_query_t *q,
                       msvc_errors_t *errs) {
  memset(q, 0, sizeof(*q));
  parse_limit(req->limit, &q->limit, errs);
  if (req->cursor != NULL && req->cursor[0] != '\0') {
    if (msvc_cursor_decode(req->cursor, strlen(req->cursor), &q->cursor) != 0)
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
  q->limit += 1; /* one extra row says whether another page exists */
  return errs->count > 0 ? MSVC_EVALIDATION : 0;
}

static void set_next_cursor(msvc_post_page_t *page, size_t nrows,
                            size_t limit) {
  msvc_cursor_t c;
  page->next_cursor[0] = '\0';
  if (nrows <= limit || page->count == 0)
    return;
  c.created_at = page->posts[page->count - 1].created_at;
  memcpy(c.id, page->posts[page->count - 1].id, MSVC_ID_SIZE);
  msvc_cursor_encode(&c, page->next_cursor);
}

int msvc_post_list(msvc_t *svc, const msvc_list_request_t *req, unsigned flags,
                   const char *request_id, msvc_post_page_t *out,
                   msvc_errors_t *errs) {
  msvc_post_query_t q;
  size_t nrows = 0;
  int rc;
  memset(out, 0, sizeof(*out));
  if (build_query(req, &q, errs) != 0)
    return MSVC_EVALIDATION;
  rc = msvc__store_gate(svc, flags);
  if (rc != 0)
    return rc;
  out->posts = calloc(q.limit, sizeof(*out->posts));
  out->authors = calloc(q.limit, sizeof(*out->authors));
  if (out->posts == NULL || out->authors == NULL) {
    msvc_post_page_clear(out);
    return MSVC_ENOMEM;
  }
  rc = msvc_store_post_list(svc->store, &q, out->posts, &nrows);
  out->count = nrows < q.limit ? nrows : q.limit - 1;
  if (rc == 0)
    rc = resolve_authors(svc, out->posts, out->count, flags, request_id,
                         out->authors, &out->degraded);
  if (rc != 0) {
    out->count = nrows; /* so that every row read is freed */
    msvc_post_page_clear(out);
    return rc;
  }
  set_next_cursor(out, nrows, q.limit - 1);
  for (size_t i = out->count; i < nrows; i++)
    msvc_post_clear(&out->posts[i]); /* the peeked row */
  return 0;
}
