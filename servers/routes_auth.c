/* routes_auth.c - accounts: register, login, profile, lookups, aliases.
 *
 * Input is parsed and validated on the loop (prepare), so malformed or
 * invalid bodies never take a worker; anything that hashes a password
 * runs on the hashing pool, other writes on the I/O pool, and reads try
 * the loop first (MSVC_NONBLOCK).  A wrong current_password on
 * PUT /api/user is 422 {"errors":{"current_password":"is incorrect"}}, not
 * 401: the caller is authenticated, one field of the body is wrong.
 */
#include <stdlib.h>
#include <string.h>

#include "routes.h"

#define MAX_LOOKUP_IDS 1000

static const char *body_of(const msvc_call_t *call) {
  return call->body != NULL ? call->body : "";
}

/* Parses call->body as a user input with `fields` (MSVC_FIELD_*) and
 * validates them, the absent ones too when `required`, so that bad input
 * is refused on the loop with every offending field named at once.  0, or
 * non-zero with a 400/422 answer set. */
static int parse_user(msvc_call_t *call, unsigned fields, int required) {
  msvc_user_input_t *in = &call->user_in;
  msvc_errors_t errs;
  int rc;
  msvc_errors_init(&errs);
  rc = msvc_json_parse_user_input(body_of(call), call->body_len, fields, in,
                                  &errs);
  if (rc != 0) {
    msvc_call_fail(call, rc, NULL, NULL);
    return -1;
  }
  /* A field of the wrong type is already in errs and is not checked
   * again; an absent one is checked (as "required") only when asked. */
  if ((fields & MSVC_FIELD_NAME) && (required || in->name != NULL))
    msvc_validate_name(in->name, &errs);
  if ((fields & MSVC_FIELD_EMAIL) && (required || in->email != NULL))
    msvc_validate_email(in->email, &errs);
  if ((fields & MSVC_FIELD_PASSWORD) && (required || in->password != NULL))
    msvc_validate_password("password", in->password, &errs);
  if (errs.count > 0) {
    msvc_call_fail(call, MSVC_EVALIDATION, &errs, NULL);
    return -1;
  }
  return 0;
}

/* ---- register ----------------------------------------------------------- */

static int prepare_register(msvc_call_t *call) {
  return parse_user(
      call, MSVC_FIELD_NAME | MSVC_FIELD_EMAIL | MSVC_FIELD_PASSWORD, 1);
}

static int run_register(msvc_call_t *call, unsigned flags) {
  msvc_user_t user;
  msvc_errors_t errs;
  int rc;
  (void)flags;
  msvc_errors_init(&errs);
  rc = msvc_register(call->app->svc, &call->user_in, &user, &errs);
  if (rc != 0) {
    msvc_call_fail(call, rc, &errs, NULL);
    return 0;
  }
  msvc_buf_puts(&call->out,
                "{\"message\":\"Account created successfully!\",\"user\":");
  msvc_json_user(&call->out, &user);
  msvc_buf_puts(&call->out, "}");
  msvc_user_clear(&user);
  msvc_call_json(call, call->route->status);
  return 0;
}

/* ---- login -------------------------------------------------------------- */

static int prepare_login(msvc_call_t *call) {
  msvc_user_input_t *in = &call->user_in;
  msvc_errors_t errs;
  int rc;
  msvc_errors_init(&errs);
  rc = msvc_json_parse_user_input(body_of(call), call->body_len,
                                  MSVC_FIELD_EMAIL | MSVC_FIELD_PASSWORD, in,
                                  &errs);
  if (rc != 0) {
    msvc_call_fail(call, rc, NULL, NULL);
    return -1;
  }
  if (in->email == NULL)
    msvc_errors_add(&errs, "email", "is required");
  if (in->password == NULL)
    msvc_errors_add(&errs, "password", "is required");
  if (errs.count > 0) {
    msvc_call_fail(call, MSVC_EVALIDATION, &errs, NULL);
    return -1;
  }
  return 0;
}

static int run_login(msvc_call_t *call, unsigned flags) {
  msvc_login_result_t res;
  msvc_errors_t errs;
  int rc;
  (void)flags;
  msvc_errors_init(&errs);
  rc = msvc_login(call->app->svc, &call->user_in, &res, &errs);
  if (rc == MSVC_ETHROTTLED)
    call->retry_after = res.retry_after > 0 ? res.retry_after : 1;
  if (rc != 0) {
    msvc_call_fail(call, rc, &errs, NULL);
    msvc_login_result_clear(&res);
    return 0;
  }
  msvc_buf_puts(&call->out, "{\"message\":\"Logged in successfully!\","
                            "\"access_token\":\"Bearer ");
  msvc_buf_puts(&call->out, res.token); /* base64url and dots: no escaping */
  msvc_buf_puts(&call->out, "\",\"token_type\":\"Bearer\",\"expires_in\":");
  msvc_buf_int(&call->out, res.expires_in);
  msvc_buf_puts(&call->out, "}");
  msvc_login_result_clear(&res);
  msvc_call_json(call, 200);
  return 0;
}

/* ---- the caller's profile ---------------------------------------------- */

/* Answers {"user": ...} for user `id`, written by `write` (the caller's
 * own view or the public one); 404 "User not found" when there is none. */
static int answer_user(msvc_call_t *call, const char *id, unsigned flags,
                       void (*write)(msvc_buf_t *, const msvc_user_t *)) {
  msvc_user_t user;
  int rc = msvc_user_get(call->app->svc, id, flags, &user);
  if (rc == MSVC_EWOULDBLOCK)
    return rc;
  if (rc != 0) {
    msvc_call_fail(call, rc, NULL, "User");
    return 0;
  }
  msvc_buf_puts(&call->out, "{\"user\":");
  write(&call->out, &user);
  msvc_buf_puts(&call->out, "}");
  msvc_user_clear(&user);
  msvc_call_json(call, 200);
  return 0;
}

static int run_get_user(msvc_call_t *call, unsigned flags) {
  return answer_user(call, call->claims.id, flags, msvc_json_user);
}

static int prepare_update_user(msvc_call_t *call) {
  if (parse_user(call,
                 MSVC_FIELD_NAME | MSVC_FIELD_EMAIL | MSVC_FIELD_PASSWORD |
                     MSVC_FIELD_CURRENT_PASSWORD,
                 0) != 0)
    return -1;
  /* Checking current_password costs a hash; without one it is a write. */
  call->mode = call->user_in.password != NULL ? MSVC_RUN_HASH : MSVC_RUN_IO;
  return 0;
}

static int run_update_user(msvc_call_t *call, unsigned flags) {
  msvc_user_t user;
  msvc_errors_t errs;
  int rc;
  (void)flags;
  msvc_errors_init(&errs);
  rc = msvc_user_update(call->app->svc, call->claims.id, &call->user_in, &user,
                        &errs);
  if (rc != 0) {
    msvc_call_fail(call, rc == MSVC_EAUTH ? MSVC_EVALIDATION : rc, &errs,
                   "User");
    return 0;
  }
  msvc_buf_puts(&call->out, "{\"message\":\"Profile updated\",\"user\":");
  msvc_json_user(&call->out, &user);
  msvc_buf_puts(&call->out, "}");
  msvc_user_clear(&user);
  msvc_call_json(call, 200);
  return 0;
}

/* ---- lookups ------------------------------------------------------------- */

static int run_lookup_one(msvc_call_t *call, unsigned flags) {
  if (call->path_id[0] == '\0') {
    msvc_call_fail(call, MSVC_ENOTFOUND, NULL, "User");
    return 0;
  }
  return answer_user(call, call->path_id, flags, msvc_json_public_user);
}

static int prepare_lookup_many(msvc_call_t *call) {
  msvc_errors_t errs;
  int rc;
  msvc_errors_init(&errs);
  rc = msvc_json_parse_id_list(body_of(call), call->body_len, MAX_LOOKUP_IDS,
                               &call->ids, &call->nids, &errs);
  if (rc == MSVC_ETOOBIG) {
    msvc_call_error(call, 413, "Too many ids (at most 1000 a call)", NULL);
    return -1;
  }
  if (rc == 0 && errs.count > 0)
    rc = MSVC_EVALIDATION;
  if (rc != 0) {
    msvc_call_fail(call, rc, &errs, NULL);
    return -1;
  }
  return 0;
}

static int run_lookup_many(msvc_call_t *call, unsigned flags) {
  msvc_user_t *users = calloc(call->nids ? call->nids : 1, sizeof(*users));
  size_t n = 0;
  int rc = users != NULL ? msvc_users_lookup(call->app->svc, call->ids,
                                             call->nids, flags, users, &n)
                         : MSVC_ENOMEM;
  if (rc == 0) {
    msvc_buf_puts(&call->out, "{\"users\":[");
    for (size_t i = 0; i < n; i++) {
      if (i > 0)
        msvc_buf_puts(&call->out, ",");
      msvc_json_public_user(&call->out, &users[i]);
    }
    msvc_buf_puts(&call->out, "]}");
    msvc_call_json(call, 200);
  } else if (rc != MSVC_EWOULDBLOCK) {
    msvc_call_fail(call, rc, NULL, NULL);
  }
  for (size_t i = 0; i < n; i++)
    msvc_user_clear(&users[i]);
  free(users);
  return rc == MSVC_EWOULDBLOCK ? rc : 0;
}

static const msvc_route_t auth_routes[] = {
    {MSVC_M_POST, "/api/register", MSVC_AUTH_NONE, MSVC_RUN_HASH, 1,
     prepare_register, run_register, 201},
    {MSVC_M_POST, "/api/login", MSVC_AUTH_NONE, MSVC_RUN_HASH, 1, prepare_login,
     run_login, 200},
    {MSVC_M_GET, "/api/user", MSVC_AUTH_USER, MSVC_RUN_TRY, 0, NULL,
     run_get_user, 200},
    {MSVC_M_PUT, "/api/user", MSVC_AUTH_USER, MSVC_RUN_IO, 1,
     prepare_update_user, run_update_user, 200},
    {MSVC_M_GET, "/api/getUser/:id", MSVC_AUTH_LOOKUP, MSVC_RUN_TRY, 0, NULL,
     run_lookup_one, 200},
    {MSVC_M_POST, "/api/getUsers", MSVC_AUTH_LOOKUP, MSVC_RUN_TRY, 1,
     prepare_lookup_many, run_lookup_many, 200},
    /* The seed's paths, with the seed's status codes. */
    {MSVC_M_POST, "/api/auth/register", MSVC_AUTH_NONE, MSVC_RUN_HASH, 1,
     prepare_register, run_register, 200},
    {MSVC_M_POST, "/api/auth/login", MSVC_AUTH_NONE, MSVC_RUN_HASH, 1,
     prepare_login, run_login, 200},
    {MSVC_M_GET, "/api/auth/user", MSVC_AUTH_USER, MSVC_RUN_TRY, 0, NULL,
     run_get_user, 200},
};

int msvc_routes_add_auth(msvc_http_t *http) {
  return msvc_http_add_routes(http, auth_routes,
                              sizeof(auth_routes) / sizeof(auth_routes[0]));
}
