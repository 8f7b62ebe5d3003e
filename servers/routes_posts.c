/* routes_posts.c - posts: list, create, read, update, delete, aliases.
 *
 * Reads try the loop first (MSVC_NONBLOCK) and fall back to the I/O pool
 * when the store or the author resolver would wait; writes always run on
 * the I/O pool.  The author of a new post is the caller as the token
 * names them, so creating never asks the auth service.  A page whose
 * authors could not be resolved says so: "degraded": true in the body and
 * a Warning header.
 */
#include <string.h>

#include "routes.h"

/* An author from the verified token: id, name and email. */
static msvc_user_t author_from_claims(msvc_call_t *call) {
  msvc_user_t u;
  memset(&u, 0, sizeof(u));
  memcpy(u.id, call->claims.id, MSVC_ID_SIZE);
  u.name = call->claims.name;
  u.email = call->claims.email;
  return u;
}

static int require_post_id(msvc_call_t *call) {
  if (call->path_id[0] != '\0')
    return 0;
  msvc_call_fail(call, MSVC_ENOTFOUND, NULL, "Post");
  return -1;
}

/* Parses {"title","content"}; validates the fields present, and with
 * `full` requires both. */
static int parse_post(msvc_call_t *call, int full) {
  msvc_post_input_t *in = &call->post_in;
  msvc_errors_t errs;
  int rc;
  msvc_errors_init(&errs);
  rc = msvc_json_parse_post_input(call->body != NULL ? call->body : "",
                                  call->body_len, in, &errs);
  if (rc != 0) {
    msvc_call_fail(call, rc, NULL, NULL);
    return -1;
  }
  if (full || in->title != NULL)
    msvc_validate_title(in->title, &errs);
  if (full || in->content != NULL)
    msvc_validate_content(in->content, &errs);
  if (errs.count > 0) {
    msvc_call_fail(call, MSVC_EVALIDATION, &errs, NULL);
    return -1;
  }
  return 0;
}

static void mark_degraded(msvc_call_t *call, int degraded) {
  if (!degraded)
    return;
  call->degraded = 1;
  msvc_buf_puts(&call->out, ",\"degraded\":true");
}

/* ---- list ---------------------------------------------------------------- */

static int list_posts(msvc_call_t *call, unsigned flags, const char *key) {
  msvc_list_request_t req;
  msvc_post_page_t page;
  msvc_errors_t errs;
  msvc_buf_t *b = &call->out;
  int rc;
  msvc_errors_init(&errs);
  req.limit = msvc_call_query(call, "limit");
  req.cursor = msvc_call_query(call, "cursor");
  req.user_id = msvc_call_query(call, "user_id");
  rc = msvc_post_list(call->app->svc, &req, flags, call->request_id, &page,
                      &errs);
  if (rc == MSVC_EWOULDBLOCK)
    return rc;
  if (rc != 0) {
    msvc_call_fail(call, rc, &errs, NULL);
    return 0;
  }
  msvc_buf_puts(b, "{\"");
  msvc_buf_puts(b, key);
  msvc_buf_puts(b, "\":[");
  for (size_t i = 0; i < page.count; i++) {
    if (i > 0)
      msvc_buf_puts(b, ",");
    msvc_json_post(b, &page.posts[i], &page.authors[i]);
  }
  msvc_buf_puts(b, "],\"next_cursor\":");
  if (page.next_cursor[0] != '\0')
    msvc_json_cstring(b, page.next_cursor);
  else
    msvc_buf_puts(b, "null");
  mark_degraded(call, page.degraded);
  msvc_buf_puts(b, "}");
  msvc_post_page_clear(&page);
  msvc_call_json(call, 200);
  return 0;
}

static int run_list(msvc_call_t *call, unsigned flags) {
  return list_posts(call, flags, "posts");
}

static int run_list_alias(msvc_call_t *call, unsigned flags) {
  return list_posts(call, flags, "postWithUsers");
}

/* ---- create ----------------------------------------------------------------
 */

static int prepare_create(msvc_call_t *call) {
  return parse_post(call, 1);
}

static int run_create(msvc_call_t *call, unsigned flags) {
  msvc_user_t author = author_from_claims(call);
  msvc_post_t post;
  msvc_errors_t errs;
  int rc;
  (void)flags;
  msvc_errors_init(&errs);
  rc = msvc_post_create(call->app->svc, &author, &call->post_in, &post, &errs);
  if (rc != 0) {
    msvc_call_fail(call, rc, &errs, NULL);
    return 0;
  }
  msvc_buf_puts(&call->out,
                "{\"message\":\"Post created successfully!\",\"post\":");
  msvc_json_post(&call->out, &post, &author);
  msvc_buf_puts(&call->out, "}");
  msvc_post_clear(&post);
  msvc_call_json(call, call->route->status);
  return 0;
}

/* ---- one post
 * ---------------------------------------------------------------- */

static int prepare_one(msvc_call_t *call) {
  return require_post_id(call);
}

static int run_get(msvc_call_t *call, unsigned flags) {
  msvc_post_t post;
  msvc_user_t author;
  int degraded = 0;
  int rc = msvc_post_get(call->app->svc, call->path_id, flags, call->request_id,
                         &post, &author, &degraded);
  if (rc == MSVC_EWOULDBLOCK)
    return rc;
  if (rc != 0) {
    msvc_call_fail(call, rc, NULL, "Post");
    return 0;
  }
  msvc_buf_puts(&call->out, "{\"post\":");
  msvc_json_post(&call->out, &post, &author);
  mark_degraded(call, degraded);
  msvc_buf_puts(&call->out, "}");
  msvc_post_clear(&post);
  msvc_user_clear(&author);
  msvc_call_json(call, 200);
  return 0;
}

static int prepare_update(msvc_call_t *call) {
  if (require_post_id(call) != 0)
    return -1;
  return parse_post(call, 0);
}

/* The owner's current public details; the token's when the resolver
 * cannot say (the owner is the caller, so those are never wrong about
 * who it is). */
static void resolve_owner(msvc_call_t *call, msvc_user_t *out) {
  msvc_id_t id;
  memcpy(id.hex, call->claims.id, MSVC_ID_SIZE);
  memset(out, 0, sizeof(*out));
  if (msvc_resolver_resolve(msvc_get_resolver(call->app->svc), &id, 1, 0,
                            call->request_id, out) == 0 &&
      out->id[0] != '\0')
    return;
  msvc_user_clear(out);
  *out = author_from_claims(call);
  out->name = strdup(call->claims.name);
  out->email = strdup(call->claims.email);
}

static int run_update(msvc_call_t *call, unsigned flags) {
  msvc_post_t post;
  msvc_user_t owner;
  msvc_errors_t errs;
  int rc;
  (void)flags;
  msvc_errors_init(&errs);
  rc = msvc_post_update(call->app->svc, call->claims.id, call->path_id,
                        &call->post_in, &post, &errs);
  if (rc != 0) {
    msvc_call_fail(call, rc, &errs, "Post");
    return 0;
  }
  resolve_owner(call, &owner);
  msvc_buf_puts(&call->out, "{\"message\":\"Post updated\",\"post\":");
  msvc_json_post(&call->out, &post, &owner);
  msvc_buf_puts(&call->out, "}");
  msvc_post_clear(&post);
  msvc_user_clear(&owner);
  msvc_call_json(call, 200);
  return 0;
}

static int run_delete(msvc_call_t *call, unsigned flags) {
  int rc;
  (void)flags;
  rc = msvc_post_delete(call->app->svc, call->claims.id, call->path_id);
  if (rc != 0) {
    msvc_call_fail(call, rc, NULL, "Post");
    return 0;
  }
  msvc_buf_puts(&call->out, "{\"message\":\"Post deleted\"}");
  msvc_call_json(call, 200);
  return 0;
}

static const msvc_route_t post_routes[] = {
    {MSVC_M_GET, "/api/posts", MSVC_AUTH_NONE, MSVC_RUN_TRY, 0, NULL, run_list,
     200},
    {MSVC_M_POST, "/api/posts", MSVC_AUTH_USER, MSVC_RUN_IO, 1, prepare_create,
     run_create, 201},
    {MSVC_M_GET, "/api/posts/:id", MSVC_AUTH_NONE, MSVC_RUN_TRY, 0, prepare_one,
     run_get, 200},
    {MSVC_M_PUT, "/api/posts/:id", MSVC_AUTH_USER, MSVC_RUN_IO, 1,
     prepare_update, run_update, 200},
    {MSVC_M_DELETE, "/api/posts/:id", MSVC_AUTH_USER, MSVC_RUN_IO, 0,
     prepare_one, run_delete, 200},
    /* The seed's paths, with the seed's status codes and list key. */
    {MSVC_M_GET, "/api/post", MSVC_AUTH_NONE, MSVC_RUN_TRY, 0, NULL,
     run_list_alias, 200},
    {MSVC_M_POST, "/api/post", MSVC_AUTH_USER, MSVC_RUN_IO, 1, prepare_create,
     run_create, 200},
};

int msvc_routes_add_posts(msvc_http_t *http) {
  return msvc_http_add_routes(http, post_routes,
                              sizeof(post_routes) / sizeof(post_routes[0]));
}
