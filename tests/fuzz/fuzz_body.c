/* fuzz_body.c - request bodies of every route that takes one, parsed and
 * validated as the servers do before a worker ever sees them.
 *
 * Each input is offered as the body of every such route, through the wire
 * functions the routes' prepare_* functions call (servers/routes_*.c):
 *  - POST /api/register: name, email, password, all validated and required;
 *  - POST /api/login: email and password, present only;
 *  - PUT /api/user: any of name, email, password, current_password,
 *    validated when present;
 *  - POST /api/posts and PUT /api/posts/:id: title and content (required
 *    for a create, when present for an update);
 *  - POST /api/token/refresh and POST /api/logout, whose small parsing
 *    lives in routes_sessions.c on top of msvc__json_parse_strict: the same
 *    steps are repeated here;
 *  - POST /api/getUsers: msvc__json_parse_id_list (fuzz_id_list.c goes
 *    further).
 * Invariants: a failed parse leaves no field set and is one of the
 * documented codes; every string a body yields survives being written
 * back with the response writer and parsed again (escaping); the error
 * answer the server would send is itself strict JSON.
 */
#include <json-c/json.h>

#include "fuzz.h"
#include "wire/json.h"
#include "wire/routes.h"

/* The answer body must be strict JSON. */
static void check_answer(const msvc__buf_t *b) {
  json_object *doc = NULL;
  FUZZ_CHECK(!b->failed && b->len > 0);
  FUZZ_CHECK(msvc__json_parse_strict(b->data, b->len, &doc) == 0);
  json_object_put(doc);
}

/* {"v":s} written by the response writer reads back as s. */
static void check_roundtrip(const char *s) {
  msvc__buf_t b;
  json_object *doc = NULL, *v = NULL;
  if (s == NULL)
    return;
  msvc__buf_init(&b);
  msvc__buf_puts(&b, "{\"v\":");
  msvc__json_cstring(&b, s);
  msvc__buf_puts(&b, "}");
  FUZZ_CHECK(!b.failed);
  FUZZ_CHECK(msvc__json_parse_strict(b.data, b.len, &doc) == 0);
  FUZZ_CHECK(json_object_object_get_ex(doc, "v", &v));
  FUZZ_CHECK(json_object_is_type(v, json_type_string));
  FUZZ_CHECK((size_t)json_object_get_string_len(v) == strlen(s));
  FUZZ_CHECK(strcmp(json_object_get_string(v), s) == 0);
  json_object_put(doc);
  msvc__buf_free(&b);
}

static void check_parse_rc(int rc) {
  FUZZ_CHECK(rc == 0 || rc == MSVC_EJSON || rc == MSVC_ENOTOBJECT ||
             rc == MSVC_ETOOBIG);
}

/* What the server answers: the parse failure, or 422 with the field
 * errors, or nothing to say (the request goes on to a worker). */
static void answer(int rc, msvc_errors_t *errs) {
  msvc__buf_t b;
  msvc__buf_init(&b);
  if (rc != 0)
    msvc__json_error(&b, 400, msvc_strerror(rc), NULL);
  else if (msvc_errors_count(errs) > 0)
    msvc__json_error(&b, 422, "Validation failed", errs);
  else
    msvc__buf_puts(&b, "{}");
  check_answer(&b);
  msvc__buf_free(&b);
}

enum { REGISTER, LOGIN, UPDATE_USER };

/* routes_auth.c: prepare_register, prepare_login, prepare_update_user. */
static void user_route(const char *body, size_t len, int route) {
  static const unsigned fields[] = {
      [REGISTER] = MSVC__FIELD_NAME | MSVC__FIELD_EMAIL | MSVC__FIELD_PASSWORD,
      [LOGIN] = MSVC__FIELD_EMAIL | MSVC__FIELD_PASSWORD,
      [UPDATE_USER] = MSVC__FIELD_NAME | MSVC__FIELD_EMAIL |
                      MSVC__FIELD_PASSWORD | MSVC__FIELD_CURRENT_PASSWORD};
  msvc__wire_user_t in;
  msvc_errors_t *errs = NULL;
  int required = route == REGISTER, rc;
  FUZZ_CHECK(msvc_errors_new(&errs) == 0);
  memset(&in, 0, sizeof(in));
  rc = msvc__json_parse_user_input(body, len, fields[route], &in, errs);
  check_parse_rc(rc);
  if (rc != 0) {
    FUZZ_CHECK(in.name == NULL && in.email == NULL && in.password == NULL &&
               in.current_password == NULL);
  } else if (route == LOGIN) {
    if (in.email == NULL)
      msvc_errors_add(errs, "email", "is required");
    if (in.password == NULL)
      msvc_errors_add(errs, "password", "is required");
  } else {
    if (required || in.name != NULL)
      msvc_validate_name(in.name, errs);
    if (required || in.email != NULL)
      msvc_validate_email(in.email, errs);
    if (required || in.password != NULL)
      msvc_validate_password("password", in.password, errs);
  }
  if (!(fields[route] & MSVC__FIELD_NAME))
    FUZZ_CHECK(in.name == NULL);
  if (!(fields[route] & MSVC__FIELD_CURRENT_PASSWORD))
    FUZZ_CHECK(in.current_password == NULL);
  check_roundtrip(in.name);
  check_roundtrip(in.email);
  check_roundtrip(in.password);
  check_roundtrip(in.current_password);
  {
    msvc_user_input_t view = msvc__wire_user_view(&in);
    FUZZ_CHECK(view.name == in.name && view.email == in.email);
  }
  answer(rc, errs);
  msvc__wire_user_clear(&in);
  msvc_errors_free(errs);
}

/* routes_posts.c: parse_post, full for a create. */
static void post_route(const char *body, size_t len, int full) {
  msvc__wire_post_t in;
  msvc_errors_t *errs = NULL;
  int rc;
  FUZZ_CHECK(msvc_errors_new(&errs) == 0);
  memset(&in, 0, sizeof(in));
  rc = msvc__json_parse_post_input(body, len, &in, errs);
  check_parse_rc(rc);
  if (rc != 0) {
    FUZZ_CHECK(in.title == NULL && in.content == NULL);
  } else {
    if (full || in.title != NULL)
      msvc_validate_title(in.title, errs);
    if (full || in.content != NULL)
      msvc_validate_content(in.content, errs);
  }
  check_roundtrip(in.title);
  check_roundtrip(in.content);
  {
    msvc_post_input_t view = msvc__wire_post_view(&in);
    FUZZ_CHECK(view.title == in.title && view.content == in.content);
  }
  answer(rc, errs);
  msvc__wire_post_clear(&in);
  msvc_errors_free(errs);
}

/* routes_sessions.c: parse_object, then prepare_refresh (refresh_token)
 * or prepare_logout (scope). */
static void session_route(const char *body, size_t len, const char *field) {
  json_object *obj = NULL, *v = NULL;
  msvc_errors_t *errs = NULL;
  int rc = msvc__json_parse_strict(body, len, &obj);
  FUZZ_CHECK(msvc_errors_new(&errs) == 0);
  check_parse_rc(rc);
  if (rc == 0 && !json_object_is_type(obj, json_type_object))
    rc = MSVC_ENOTOBJECT;
  if (rc == 0 && json_object_object_get_ex(obj, field, &v)) {
    if (!json_object_is_type(v, json_type_string)) {
      msvc_errors_add(errs, field, "must be a string");
    } else {
      const char *s = json_object_get_string(v);
      size_t n = (size_t)json_object_get_string_len(v);
      char *copy = memchr(s, '\0', n) == NULL ? msvc__strndup(s, n) : NULL;
      if (copy != NULL)
        FUZZ_CHECK(strlen(copy) == n);
      if (strcmp(field, "scope") == 0 && strcmp(s, "local") != 0 &&
          strcmp(s, "others") != 0 && strcmp(s, "global") != 0)
        msvc_errors_add(errs, field, "must be one of the scopes");
      free(copy);
    }
  }
  answer(rc, errs);
  json_object_put(obj);
  msvc_errors_free(errs);
}

/* routes_auth.c: prepare_lookup_many. */
static void lookup_route(const char *body, size_t len) {
  msvc_id_t *ids = NULL;
  size_t n = 0;
  msvc_errors_t *errs = NULL;
  int rc;
  FUZZ_CHECK(msvc_errors_new(&errs) == 0);
  rc = msvc__json_parse_id_list(body, len, MSVC__GET_USERS_MAX, &ids, &n, errs);
  check_parse_rc(rc);
  FUZZ_CHECK(n <= MSVC__GET_USERS_MAX && (n == 0) == (ids == NULL));
  answer(rc == MSVC_ETOOBIG ? 0 : rc, errs);
  free(ids);
  msvc_errors_free(errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *body = size > 0 ? (const char *)data : "";
  user_route(body, size, REGISTER);
  user_route(body, size, LOGIN);
  user_route(body, size, UPDATE_USER);
  post_route(body, size, 1);
  post_route(body, size, 0);
  session_route(body, size, "refresh_token");
  session_route(body, size, "scope");
  lookup_route(body, size);
  return 0;
}
