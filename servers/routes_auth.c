/* routes_auth.c - accounts: register, login, profile, lookups, aliases.
 *
 * Input is parsed and validated on the loop (prepare), so malformed or
 * invalid bodies never take a worker; anything that hashes a password
 * runs on the hashing pool, other writes on the I/O pool, and reads try
 * the loop first (MSVC_NOWAIT).  A route that validates keeps one
 * msvc_errors_t for the whole request: what parsing found (a field of the
 * wrong type) stays in it, and the library then neither checks that field
 * again nor loses it.  A wrong current_password on PUT /api/user is 422
 * {"errors":{"current_password":"is incorrect"}}, not 401: the caller is
 * authenticated, one field of the body is wrong.  The lookup paths come
 * from wire/routes.h, which the HTTP resolver calls by the same names.
 * The login answer gains refresh_token and refresh_expires_in when
 * sessions are on (routes_sessions.c writes the token fields for both).
 */
#include <stdlib.h>
#include <string.h>

#include "routes.h"
#include "wire/routes.h"

static const char *body_of(const msvc_request_t *rq) {
  return rq->body != NULL ? rq->body : "";
}

/* The request's errors object, or a 500 answer when there is no memory
 * for one. */
static msvc_errors_t *errors_of(msvc_request_t *rq) {
  msvc_errors_t *errs = msvc_request_errors(rq);
  if (errs == NULL)
    msvc_request_error(rq, 500, "Internal server error", NULL);
  return errs;
}

/* Answers 422 with every field error found so far; 0 when there is
 * none. */
static int refuse_invalid(msvc_request_t *rq) {
  if (msvc_errors_count(rq->errs) == 0)
    return 0;
  msvc_request_fail(rq, MSVC_EVALIDATION, rq->errs, NULL);
  return -1;
}

/* Parses the body as a user input with `fields` (MSVC__FIELD_*) and
 * validates them, the absent ones too when `required`, so that bad input
 * is refused on the loop with every offending field named at once.  0, or
 * non-zero with a 400/422 answer set. */
static int parse_user(msvc_request_t *rq, unsigned fields, int required) {
  const msvc__wire_user_t *in = &rq->user_in;
  msvc_errors_t *errs = errors_of(rq);
  int rc;
  if (errs == NULL)
    return -1;
  rc = msvc__json_parse_user_input(body_of(rq), rq->body_len, fields,
                                   &rq->user_in, errs);
  if (rc != 0) {
    msvc_request_fail(rq, rc, NULL, NULL);
    return -1;
  }
  /* A field of the wrong type is already in errs and is not checked
   * again; an absent one is checked (as "required") only when asked. */
  if ((fields & MSVC__FIELD_NAME) && (required || in->name != NULL))
    msvc_validate_name(in->name, errs);
  if ((fields & MSVC__FIELD_EMAIL) && (required || in->email != NULL))
    msvc_validate_email(in->email, errs);
  if ((fields & MSVC__FIELD_PASSWORD) && (required || in->password != NULL))
    msvc_validate_password("password", in->password, errs);
  return refuse_invalid(rq);
}

/* ---- register ----------------------------------------------------------- */

static int prepare_register(msvc_request_t *rq) {
  return parse_user(
      rq, MSVC__FIELD_NAME | MSVC__FIELD_EMAIL | MSVC__FIELD_PASSWORD, 1);
}

static int run_register(msvc_request_t *rq, unsigned flags) {
  msvc_call_t call = msvc_request_call(rq, flags);
  msvc_user_input_t in = msvc__wire_user_view(&rq->user_in);
  msvc_user_t *user = NULL;
  int rc = msvc_register(rq->app->svc, &call, &in, &user, rq->errs);
  if (rc != 0) {
    msvc_request_fail(rq, rc, rq->errs, NULL);
    return 0;
  }
  msvc__buf_puts(&rq->out,
                 "{\"message\":\"Account created successfully!\",\"user\":");
  msvc__json_user(&rq->out, user);
  msvc__buf_puts(&rq->out, "}");
  msvc_user_free(user);
  msvc_request_json(rq, rq->route->status);
  return 0;
}

/* ---- login -------------------------------------------------------------- */

static int prepare_login(msvc_request_t *rq) {
  msvc_errors_t *errs = errors_of(rq);
  int rc;
  if (errs == NULL)
    return -1;
  rc = msvc__json_parse_user_input(body_of(rq), rq->body_len,
                                   MSVC__FIELD_EMAIL | MSVC__FIELD_PASSWORD,
                                   &rq->user_in, errs);
  if (rc != 0) {
    msvc_request_fail(rq, rc, NULL, NULL);
    return -1;
  }
  /* Only presence: judging the values would tell which emails exist. */
  if (rq->user_in.email == NULL)
    msvc_errors_add(errs, "email", "is required");
  if (rq->user_in.password == NULL)
    msvc_errors_add(errs, "password", "is required");
  return refuse_invalid(rq);
}

static int run_login(msvc_request_t *rq, unsigned flags) {
  msvc_call_t call = msvc_request_call(rq, flags);
  msvc_user_input_t in = msvc__wire_user_view(&rq->user_in);
  msvc_login_result_t *res = NULL;
  unsigned retry_after = 0;
  int rc = msvc_login(rq->app->svc, &call, &in, &res, &retry_after, rq->errs);
  if (rc == MSVC_ETHROTTLED)
    rq->retry_after = retry_after > 0 ? retry_after : 1;
  if (rc != 0) {
    msvc_request_fail(rq, rc, rq->errs, NULL);
    return 0;
  }
  msvc_routes_write_tokens(&rq->out, "Logged in successfully!", res);
  msvc_login_result_free(res);
  msvc_request_json(rq, 200);
  return 0;
}

/* ---- the caller's profile ---------------------------------------------- */

/* Answers {"user": ...} for user `id`, written by `write` (the caller's
 * own view or the public one); 404 "User not found" when there is none. */
static int answer_user(msvc_request_t *rq, const char *id, unsigned flags,
                       void (*write)(msvc__buf_t *, const msvc_user_t *)) {
  msvc_call_t call = msvc_request_call(rq, flags);
  msvc_user_t *user = NULL;
  int rc = msvc_user_get(rq->app->svc, &call, id, &user);
  if (rc == MSVC_EWOULDBLOCK)
    return rc;
  if (rc != 0) {
    msvc_request_fail(rq, rc, NULL, "User");
    return 0;
  }
  msvc__buf_puts(&rq->out, "{\"user\":");
  write(&rq->out, user);
  msvc__buf_puts(&rq->out, "}");
  msvc_user_free(user);
  msvc_request_json(rq, 200);
  return 0;
}

/* The revocation check read the caller's record already (claims carry it
 * when it did): answered from it, without a second read. */
static int run_get_user(msvc_request_t *rq, unsigned flags) {
  if (rq->claims->user_from_store) {
    msvc__buf_puts(&rq->out, "{\"user\":");
    msvc__json_user(&rq->out, rq->claims->user);
    msvc__buf_puts(&rq->out, "}");
    msvc_request_json(rq, 200);
    return 0;
  }
  return answer_user(rq, rq->claims->user->id, flags, msvc__json_user);
}

static int prepare_update_user(msvc_request_t *rq) {
  if (parse_user(rq,
                 MSVC__FIELD_NAME | MSVC__FIELD_EMAIL | MSVC__FIELD_PASSWORD |
                     MSVC__FIELD_CURRENT_PASSWORD,
                 0) != 0)
    return -1;
  /* Checking current_password costs a hash; without one it is a write. */
  rq->mode = rq->user_in.password != NULL ? MSVC_RUN_HASH : MSVC_RUN_IO;
  return 0;
}

static int run_update_user(msvc_request_t *rq, unsigned flags) {
  msvc_call_t call = msvc_request_call(rq, flags);
  msvc_user_input_t in = msvc__wire_user_view(&rq->user_in);
  msvc_user_t *user = NULL;
  int rc = msvc_user_update(rq->app->svc, &call, rq->claims->user->id, &in,
                            &user, rq->errs);
  if (rc == MSVC_EAUTH) {
    /* The library names the field; this keeps the answer whatever it
     * says (an existing entry wins). */
    msvc_errors_add(rq->errs, "current_password", "is incorrect");
    rc = MSVC_EVALIDATION;
  }
  if (rc != 0) {
    msvc_request_fail(rq, rc, rq->errs, "User");
    return 0;
  }
  msvc__buf_puts(&rq->out, "{\"message\":\"Profile updated\",\"user\":");
  msvc__json_user(&rq->out, user);
  msvc__buf_puts(&rq->out, "}");
  msvc_user_free(user);
  msvc_request_json(rq, 200);
  return 0;
}

/* ---- lookups ------------------------------------------------------------- */

static int run_lookup_one(msvc_request_t *rq, unsigned flags) {
  if (rq->path_id[0] == '\0') {
    msvc_request_fail(rq, MSVC_ENOTFOUND, NULL, "User");
    return 0;
  }
  return answer_user(rq, rq->path_id, flags, msvc__json_public_user);
}

static int prepare_lookup_many(msvc_request_t *rq) {
  msvc_errors_t *errs = errors_of(rq);
  int rc;
  if (errs == NULL)
    return -1;
  rc = msvc__json_parse_id_list(body_of(rq), rq->body_len, MSVC__GET_USERS_MAX,
                                &rq->ids, &rq->nids, errs);
  if (rc == MSVC_ETOOBIG) {
    msvc_request_error(rq, 413, "Too many ids (at most 1000 a call)", NULL);
    return -1;
  }
  if (rc != 0) {
    msvc_request_fail(rq, rc, NULL, NULL);
    return -1;
  }
  return refuse_invalid(rq);
}

static int run_lookup_many(msvc_request_t *rq, unsigned flags) {
  msvc_call_t call = msvc_request_call(rq, flags);
  msvc_user_t **users = NULL;
  size_t n = 0;
  int rc =
      msvc_users_lookup(rq->app->svc, &call, rq->ids, rq->nids, &users, &n);
  if (rc == MSVC_EWOULDBLOCK)
    return rc;
  if (rc != 0) {
    msvc_request_fail(rq, rc, NULL, NULL);
    return 0;
  }
  msvc__buf_puts(&rq->out, "{\"users\":[");
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      msvc__buf_puts(&rq->out, ",");
    msvc__json_public_user(&rq->out, users[i]);
  }
  msvc__buf_puts(&rq->out, "]}");
  msvc_users_free(users, n);
  msvc_request_json(rq, 200);
  return 0;
}

static const msvc_route_t auth_routes[] = {
    {MSVC_M_POST, "/api/register", MSVC_AUTH_NONE, MSVC_RUN_HASH, 1,
     prepare_register, run_register, 201, MSVC_ROUTE_RATE_LIMITED},
    {MSVC_M_POST, "/api/login", MSVC_AUTH_NONE, MSVC_RUN_HASH, 1, prepare_login,
     run_login, 200, MSVC_ROUTE_LOGIN | MSVC_ROUTE_RATE_LIMITED},
    {MSVC_M_GET, "/api/user", MSVC_AUTH_USER, MSVC_RUN_TRY, 0, NULL,
     run_get_user, 200, 0},
    {MSVC_M_PUT, "/api/user", MSVC_AUTH_USER, MSVC_RUN_IO, 1,
     prepare_update_user, run_update_user, 200, 0},
    {MSVC_M_GET, MSVC__ROUTE_GET_USER ":id", MSVC_AUTH_LOOKUP, MSVC_RUN_TRY, 0,
     NULL, run_lookup_one, 200, 0},
    {MSVC_M_POST, MSVC__ROUTE_GET_USERS, MSVC_AUTH_LOOKUP, MSVC_RUN_TRY, 1,
     prepare_lookup_many, run_lookup_many, 200, 0},
    /* The seed's paths, with the seed's status codes. */
    {MSVC_M_POST, "/api/auth/register", MSVC_AUTH_NONE, MSVC_RUN_HASH, 1,
     prepare_register, run_register, 200, MSVC_ROUTE_RATE_LIMITED},
    {MSVC_M_POST, "/api/auth/login", MSVC_AUTH_NONE, MSVC_RUN_HASH, 1,
     prepare_login, run_login, 200, MSVC_ROUTE_LOGIN | MSVC_ROUTE_RATE_LIMITED},
    {MSVC_M_GET, "/api/auth/user", MSVC_AUTH_USER, MSVC_RUN_TRY, 0, NULL,
     run_get_user, 200, 0},
};

int msvc_routes_add_auth(msvc_http_t *http) {
  return msvc_http_add_routes(http, auth_routes, MSVC__ARRAY_SIZE(auth_routes));
}
