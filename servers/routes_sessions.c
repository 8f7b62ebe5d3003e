/* routes_sessions.c - refresh tokens, logout and the caller's sessions.
 *
 * POST /api/token/refresh trades a refresh token for new tokens; POST
 * /api/logout ends the caller's session, the others, or all; GET
 * /api/sessions lists the live ones and DELETE /api/sessions/:id ends one.
 * The library does the work (rotation, reuse detection, revocation); this
 * file parses, maps outcomes to answers and writes JSON.
 *
 * Answers a client can act on:
 *  - every refusal of a refresh token (unknown, expired, ended, reused,
 *    malformed, absurdly long) is the same 401 "Invalid refresh token",
 *    so a client has one thing to do: log in again; a missing or non-string
 *    one is 422 like any other invalid body;
 *  - with sessions off (SESSIONS=off) there is no refresh token to redeem:
 *    refresh and the session list answer 404 "Sessions are disabled", a
 *    4xx so that clients treat it as "log in again" rather than retrying
 *    as they would a 5xx (501); logout still answers 200, nothing to end;
 *  - another user's session id is 404, exactly like an unknown one, so ids
 *    cannot be probed.
 * Refresh and the writes run on the I/O pool (store writes, no hashing:
 * a refresh costs a store round trip, not a password check); the list is a
 * read and is tried on the loop first.
 */
#include <stdlib.h>
#include <string.h>

#include "routes.h"

/* Our refresh tokens are 43 characters; anything far longer is refused
 * without a store lookup. */
#define REFRESH_TOKEN_MAX 512

void msvc_routes_write_tokens(msvc__buf_t *b, const char *message,
                              const msvc_login_result_t *res) {
  msvc__buf_puts(b, "{\"message\":");
  msvc__json_cstring(b, message);
  msvc__buf_puts(b, ",\"access_token\":\"Bearer ");
  msvc__buf_puts(b, res->token); /* base64url and dots: no escaping */
  msvc__buf_puts(b, "\",\"token_type\":\"Bearer\",\"expires_in\":");
  msvc__buf_int(b, res->expires_in);
  if (res->refresh_token != NULL) {
    msvc__buf_puts(b, ",\"refresh_token\":");
    msvc__json_cstring(b, res->refresh_token);
    msvc__buf_puts(b, ",\"refresh_expires_in\":");
    msvc__buf_int(b, res->refresh_expires_in);
  }
  msvc__buf_puts(b, "}");
}

static void sessions_disabled(msvc_request_t *rq) {
  msvc_request_error(rq, 404, "Sessions are disabled", NULL);
}

/* 422 naming one field. */
static void refuse_field(msvc_request_t *rq, const char *field,
                         const char *why) {
  msvc_errors_t *errs = msvc_request_errors(rq);
  if (errs == NULL || msvc_errors_add(errs, field, why) != 0) {
    msvc_request_error(rq, 500, "Internal server error", NULL);
    return;
  }
  msvc_request_fail(rq, MSVC_EVALIDATION, errs, NULL);
}

/* Parses the body as a JSON object into *obj; 0, or an answer set (400).
 * An absent body is an empty object when `optional`. */
static int parse_object(msvc_request_t *rq, int optional, json_object **obj) {
  int rc;
  *obj = NULL;
  if (rq->body == NULL && optional)
    return 0;
  rc = msvc__json_parse_strict(rq->body != NULL ? rq->body : "", rq->body_len,
                               obj);
  if (rc == 0 && !json_object_is_type(*obj, json_type_object))
    rc = MSVC_ENOTOBJECT;
  if (rc != 0) {
    json_object_put(*obj);
    *obj = NULL;
    msvc_request_fail(rq, rc, NULL, NULL);
    return -1;
  }
  return 0;
}

/* ---- POST /api/token/refresh ----------------------------------------------
 */

static int prepare_refresh(msvc_request_t *rq) {
  json_object *obj, *v = NULL;
  if (parse_object(rq, 0, &obj) != 0)
    return -1;
  if (!json_object_object_get_ex(obj, "refresh_token", &v) || v == NULL) {
    json_object_put(obj);
    refuse_field(rq, "refresh_token", "is required");
    return -1;
  }
  if (!json_object_is_type(v, json_type_string)) {
    json_object_put(obj);
    refuse_field(rq, "refresh_token", "must be a string");
    return -1;
  }
  {
    const char *t = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (n <= REFRESH_TOKEN_MAX && memchr(t, '\0', n) == NULL)
      rq->text_in = msvc__strndup(t, n);
  }
  json_object_put(obj);
  /* An oversized token, or one hiding a NUL, is left NULL: refused in
   * run_refresh, the same way as any other invalid one. */
  return 0;
}

static int run_refresh(msvc_request_t *rq, unsigned flags) {
  msvc_call_t call = msvc_request_call(rq, flags);
  msvc_login_result_t *res = NULL;
  int rc;
  if (!rq->app->cfg->sessions) {
    sessions_disabled(rq);
    return 0;
  }
  if (rq->text_in == NULL || rq->text_in[0] == '\0') {
    msvc_request_error(rq, 401, "Invalid refresh token", NULL);
    return 0;
  }
  rc = msvc_refresh(rq->app->svc, &call, rq->text_in, &res);
  if (rc == MSVC_ETOKEN || rc == MSVC_EINVAL || rc == MSVC_ENOTFOUND) {
    msvc_request_error(rq, 401, "Invalid refresh token", NULL);
    return 0;
  }
  if (rc == MSVC_EUNSUPPORTED) {
    sessions_disabled(rq);
    return 0;
  }
  if (rc != 0) {
    msvc_request_fail(rq, rc, NULL, NULL);
    return 0;
  }
  msvc_routes_write_tokens(&rq->out, "Token refreshed", res);
  msvc_login_result_free(res);
  msvc_request_json(rq, 200);
  return 0;
}

/* ---- POST /api/logout -------------------------------------------------------
 */

static int prepare_logout(msvc_request_t *rq) {
  static const struct {
    const char *name;
    msvc_logout_scope_t scope;
  } scopes[] = {{"local", MSVC_LOGOUT_LOCAL},
                {"others", MSVC_LOGOUT_OTHERS},
                {"global", MSVC_LOGOUT_GLOBAL}};
  json_object *obj, *v = NULL;
  rq->scope_in = MSVC_LOGOUT_LOCAL;
  if (parse_object(rq, 1, &obj) != 0)
    return -1;
  if (obj == NULL || !json_object_object_get_ex(obj, "scope", &v)) {
    json_object_put(obj);
    return 0;
  }
  for (size_t i = 0; v != NULL && json_object_is_type(v, json_type_string) &&
                     i < MSVC__ARRAY_SIZE(scopes);
       i++) {
    if (strcmp(json_object_get_string(v), scopes[i].name) == 0) {
      rq->scope_in = scopes[i].scope;
      json_object_put(obj);
      return 0;
    }
  }
  json_object_put(obj);
  refuse_field(rq, "scope", "must be \"local\", \"others\" or \"global\"");
  return -1;
}

static int run_logout(msvc_request_t *rq, unsigned flags) {
  msvc_call_t call = msvc_request_call(rq, flags);
  int rc = msvc_logout(rq->app->svc, &call, rq->claims,
                       (msvc_logout_scope_t)rq->scope_in);
  if (rc == MSVC_EUNSUPPORTED)
    rc = 0; /* sessions off: nothing to end */
  if (rc != 0) {
    msvc_request_fail(rq, rc, NULL, NULL);
    return 0;
  }
  msvc__buf_puts(&rq->out, "{\"message\":\"Logged out\"}");
  msvc_request_json(rq, 200);
  return 0;
}

/* ---- GET /api/sessions, DELETE /api/sessions/:id ---------------------------
 */

static void write_session(msvc__buf_t *b, const msvc_session_info_t *s) {
  msvc__buf_puts(b, "{\"id\":");
  msvc__json_cstring(b, s->id);
  msvc__buf_puts(b, ",\"created_at\":");
  msvc__json_timestamp(b, s->created_at);
  msvc__buf_puts(b, ",\"last_used_at\":");
  msvc__json_timestamp(b, s->last_used_at);
  msvc__buf_puts(b, ",\"expires_at\":");
  msvc__json_timestamp(b, s->expires_at);
  msvc__buf_puts(b, ",\"user_agent\":");
  if (s->user_agent != NULL)
    msvc__json_cstring(b, s->user_agent);
  else
    msvc__buf_puts(b, "null");
  msvc__buf_puts(b, ",\"ip\":");
  if (s->ip != NULL)
    msvc__json_cstring(b, s->ip);
  else
    msvc__buf_puts(b, "null");
  msvc__buf_puts(b, s->current ? ",\"current\":true}" : ",\"current\":false}");
}

static int run_sessions_list(msvc_request_t *rq, unsigned flags) {
  msvc_call_t call = msvc_request_call(rq, flags);
  msvc_session_list_t *list = NULL;
  int rc;
  if (!rq->app->cfg->sessions) {
    sessions_disabled(rq);
    return 0;
  }
  rc = msvc_sessions_list(rq->app->svc, &call, rq->claims, &list);
  if (rc == MSVC_EWOULDBLOCK)
    return rc;
  if (rc == MSVC_EUNSUPPORTED) {
    sessions_disabled(rq);
    return 0;
  }
  if (rc != 0) {
    msvc_request_fail(rq, rc, NULL, NULL);
    return 0;
  }
  msvc__buf_puts(&rq->out, "{\"sessions\":[");
  for (size_t i = 0; i < list->count; i++) {
    if (i > 0)
      msvc__buf_puts(&rq->out, ",");
    write_session(&rq->out, list->items[i]);
  }
  msvc__buf_puts(&rq->out, "]}");
  msvc_session_list_free(list);
  msvc_request_json(rq, 200);
  return 0;
}

static int run_session_end(msvc_request_t *rq, unsigned flags) {
  msvc_call_t call = msvc_request_call(rq, flags);
  int rc;
  if (!rq->app->cfg->sessions) {
    sessions_disabled(rq);
    return 0;
  }
  if (rq->path_id[0] == '\0') {
    msvc_request_fail(rq, MSVC_ENOTFOUND, NULL, "Session");
    return 0;
  }
  rc = msvc_session_end(rq->app->svc, &call, rq->claims, rq->path_id);
  if (rc != 0) {
    msvc_request_fail(rq, rc, NULL, "Session");
    return 0;
  }
  msvc__buf_puts(&rq->out, "{\"message\":\"Session ended\"}");
  msvc_request_json(rq, 200);
  return 0;
}

static const msvc_route_t session_routes[] = {
    {MSVC_M_POST, "/api/token/refresh", MSVC_AUTH_NONE, MSVC_RUN_IO, 1,
     prepare_refresh, run_refresh, 200, MSVC_ROUTE_RATE_LIMITED},
    {MSVC_M_POST, "/api/logout", MSVC_AUTH_USER, MSVC_RUN_IO, 1, prepare_logout,
     run_logout, 200, 0},
    {MSVC_M_GET, "/api/sessions", MSVC_AUTH_USER, MSVC_RUN_TRY, 0, NULL,
     run_sessions_list, 200, 0},
    {MSVC_M_DELETE, "/api/sessions/:id", MSVC_AUTH_USER, MSVC_RUN_IO, 0, NULL,
     run_session_end, 200, 0},
};

int msvc_routes_add_sessions(msvc_http_t *http) {
  return msvc_http_add_routes(http, session_routes,
                              MSVC__ARRAY_SIZE(session_routes));
}
