/* routes_posts.c - posts: list, create, read, update, delete, aliases.
 *
 * Reads try the loop first (MSVC_NOWAIT) and fall back to the I/O pool
 * when the store or the author resolver would wait; writes always run on
 * the I/O pool.  The author of a write is the caller as the verified token
 * names them (msvc_claims_author), so creating never asks the auth
 * service.  A page whose authors could not be resolved says so:
 * "degraded": true in the body and a Warning header.  The query text of
 * `limit` is turned into a number here, so that what the library judges is
 * what the client sent: absent or empty is the default, digits are their
 * value (capped just past the maximum, so a huge one is still refused),
 * anything else 0, which the library refuses with its usual message.
 */
#include <string.h>

#include "routes.h"

static int require_post_id(msvc_request_t *rq) {
  if (rq->path_id[0] != '\0')
    return 0;
  msvc_request_fail(rq, MSVC_ENOTFOUND, NULL, "Post");
  return -1;
}

/* Parses {"title","content"}; validates the fields present, and with
 * `full` requires both. */
static int parse_post(msvc_request_t *rq, int full) {
  const msvc__wire_post_t *in = &rq->post_in;
  msvc_errors_t *errs = msvc_request_errors(rq);
  int rc;
  if (errs == NULL) {
    msvc_request_error(rq, 500, "Internal server error", NULL);
    return -1;
  }
  rc = msvc__json_parse_post_input(rq->body != NULL ? rq->body : "",
                                   rq->body_len, &rq->post_in, errs);
  if (rc != 0) {
    msvc_request_fail(rq, rc, NULL, NULL);
    return -1;
  }
  if (full || in->title != NULL)
    msvc_validate_title(in->title, errs);
  if (full || in->content != NULL)
    msvc_validate_content(in->content, errs);
  if (msvc_errors_count(errs) > 0) {
    msvc_request_fail(rq, MSVC_EVALIDATION, errs, NULL);
    return -1;
  }
  return 0;
}

static void mark_degraded(msvc_request_t *rq, int degraded) {
  if (!degraded)
    return;
  rq->degraded = 1;
  msvc__buf_puts(&rq->out, ",\"degraded\":true");
}

/* ---- list ---------------------------------------------------------------- */

/* The page size the client asked for, as the file comment says. */
static unsigned parse_limit(const char *s) {
  unsigned v = 0;
  if (s == NULL || s[0] == '\0')
    return MSVC_LIST_DEFAULT_LIMIT;
  for (; *s != '\0'; s++) {
    if (*s < '0' || *s > '9')
      return 0;
    v = v * 10 + (unsigned)(*s - '0');
    if (v > MSVC_LIST_MAX_LIMIT)
      v = MSVC_LIST_MAX_LIMIT + 1;
  }
  return v;
}

static void write_page(msvc__buf_t *b, const char *key,
                       const msvc_post_page_t *page) {
  msvc__buf_puts(b, "{\"");
  msvc__buf_puts(b, key);
  msvc__buf_puts(b, "\":[");
  for (size_t i = 0; i < page->count; i++) {
    if (i > 0)
      msvc__buf_puts(b, ",");
    msvc__json_post(b, page->posts[i], page->authors[i]);
  }
  msvc__buf_puts(b, "],\"next_cursor\":");
  if (page->next_cursor != NULL && page->next_cursor[0] != '\0')
    msvc__json_cstring(b, page->next_cursor);
  else
    msvc__buf_puts(b, "null");
}

static int list_posts(msvc_request_t *rq, unsigned flags, const char *key) {
  msvc_call_t call = msvc_request_call(rq, flags);
  msvc_list_request_t req = MSVC_LIST_REQUEST_INIT;
  msvc_post_page_t *page = NULL;
  msvc_errors_t *errs = msvc_request_errors(rq);
  int rc;
  if (errs == NULL)
    return MSVC_ENOMEM;
  req.limit = parse_limit(msvc_request_query(rq, "limit"));
  req.cursor = msvc_request_query(rq, "cursor");
  req.user_id = msvc_request_query(rq, "user_id");
  rc = msvc_post_list(rq->app->svc, &call, &req, &page, errs);
  if (rc == MSVC_EWOULDBLOCK)
    return rc;
  if (rc != 0) {
    msvc_request_fail(rq, rc, errs, NULL);
    return 0;
  }
  write_page(&rq->out, key, page);
  mark_degraded(rq, page->degraded);
  msvc__buf_puts(&rq->out, "}");
  msvc_post_page_free(page);
  msvc_request_json(rq, 200);
  return 0;
}

static int run_list(msvc_request_t *rq, unsigned flags) {
  return list_posts(rq, flags, "posts");
}

static int run_list_alias(msvc_request_t *rq, unsigned flags) {
  return list_posts(rq, flags, "postWithUsers");
}

/* ---- create -------------------------------------------------------------- */

static int prepare_create(msvc_request_t *rq) {
  return parse_post(rq, 1);
}

static int run_create(msvc_request_t *rq, unsigned flags) {
  msvc_call_t call = msvc_request_call(rq, flags);
  msvc_post_input_t in = msvc__wire_post_view(&rq->post_in);
  const msvc_user_t *author = msvc_claims_author(rq->claims);
  msvc_post_t *post = NULL;
  int rc = msvc_post_create(rq->app->svc, &call, author, &in, &post, rq->errs);
  if (rc != 0) {
    msvc_request_fail(rq, rc, rq->errs, NULL);
    return 0;
  }
  msvc__buf_puts(&rq->out,
                 "{\"message\":\"Post created successfully!\",\"post\":");
  msvc__json_post(&rq->out, post, author);
  msvc__buf_puts(&rq->out, "}");
  msvc_post_free(post);
  msvc_request_json(rq, rq->route->status);
  return 0;
}

/* ---- one post ------------------------------------------------------------ */

static int prepare_one(msvc_request_t *rq) {
  return require_post_id(rq);
}

static int run_get(msvc_request_t *rq, unsigned flags) {
  msvc_call_t call = msvc_request_call(rq, flags);
  msvc_post_t *post = NULL;
  msvc_user_t *author = NULL;
  int degraded = 0;
  int rc = msvc_post_get(rq->app->svc, &call, rq->path_id, &post, &author,
                         &degraded);
  if (rc == MSVC_EWOULDBLOCK)
    return rc;
  if (rc != 0) {
    msvc_request_fail(rq, rc, NULL, "Post");
    return 0;
  }
  msvc__buf_puts(&rq->out, "{\"post\":");
  msvc__json_post(&rq->out, post, author);
  mark_degraded(rq, degraded);
  msvc__buf_puts(&rq->out, "}");
  msvc_post_free(post);
  msvc_user_free(author);
  msvc_request_json(rq, 200);
  return 0;
}

static int prepare_update(msvc_request_t *rq) {
  if (require_post_id(rq) != 0)
    return -1;
  return parse_post(rq, 0);
}

/* The owner's current public details; the token's when the resolver
 * cannot say (the owner is the caller, so those are never wrong about
 * who it is).  NULL only when out of memory. */
static msvc_user_t *resolve_owner(msvc_request_t *rq, const msvc_call_t *call,
                                  const msvc_user_t *author) {
  msvc_user_t *owner = NULL;
  msvc_id_t id;
  memcpy(id.hex, author->id, MSVC_ID_SIZE);
  if (msvc_user_new(&owner) == 0 &&
      msvc_resolver_resolve(msvc_get_resolver(rq->app->svc), call, &id, 1,
                            &owner) == 0 &&
      owner->id[0] != '\0')
    return owner;
  msvc_user_free(owner);
  owner = NULL;
  msvc_user_dup(author, &owner);
  return owner;
}

static int run_update(msvc_request_t *rq, unsigned flags) {
  msvc_call_t call = msvc_request_call(rq, flags);
  msvc_post_input_t in = msvc__wire_post_view(&rq->post_in);
  const msvc_user_t *author = msvc_claims_author(rq->claims);
  msvc_post_t *post = NULL;
  msvc_user_t *owner;
  int rc = msvc_post_update(rq->app->svc, &call, author, rq->path_id, &in,
                            &post, rq->errs);
  if (rc != 0) {
    msvc_request_fail(rq, rc, rq->errs, "Post");
    return 0;
  }
  owner = resolve_owner(rq, &call, author);
  msvc__buf_puts(&rq->out, "{\"message\":\"Post updated\",\"post\":");
  msvc__json_post(&rq->out, post, owner);
  msvc__buf_puts(&rq->out, "}");
  msvc_post_free(post);
  msvc_user_free(owner);
  msvc_request_json(rq, 200);
  return 0;
}

static int run_delete(msvc_request_t *rq, unsigned flags) {
  msvc_call_t call = msvc_request_call(rq, flags);
  int rc = msvc_post_delete(rq->app->svc, &call, msvc_claims_author(rq->claims),
                            rq->path_id);
  if (rc != 0) {
    msvc_request_fail(rq, rc, NULL, "Post");
    return 0;
  }
  msvc__buf_puts(&rq->out, "{\"message\":\"Post deleted\"}");
  msvc_request_json(rq, 200);
  return 0;
}

static const msvc_route_t post_routes[] = {
    {MSVC_M_GET, "/api/posts", MSVC_AUTH_NONE, MSVC_RUN_TRY, 0, NULL, run_list,
     200, 0},
    {MSVC_M_POST, "/api/posts", MSVC_AUTH_USER, MSVC_RUN_IO, 1, prepare_create,
     run_create, 201, 0},
    {MSVC_M_GET, "/api/posts/:id", MSVC_AUTH_NONE, MSVC_RUN_TRY, 0, prepare_one,
     run_get, 200, 0},
    {MSVC_M_PUT, "/api/posts/:id", MSVC_AUTH_USER, MSVC_RUN_IO, 1,
     prepare_update, run_update, 200, 0},
    {MSVC_M_DELETE, "/api/posts/:id", MSVC_AUTH_USER, MSVC_RUN_IO, 0,
     prepare_one, run_delete, 200, 0},
    /* The seed's paths, with the seed's status codes and list key. */
    {MSVC_M_GET, "/api/post", MSVC_AUTH_NONE, MSVC_RUN_TRY, 0, NULL,
     run_list_alias, 200, 0},
    {MSVC_M_POST, "/api/post", MSVC_AUTH_USER, MSVC_RUN_IO, 1, prepare_create,
     run_create, 200, 0},
};

int msvc_routes_add_posts(msvc_http_t *http) {
  return msvc_http_add_routes(http, post_routes, MSVC__ARRAY_SIZE(post_routes));
}
