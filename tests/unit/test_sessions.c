/* test_sessions.c - sessions through the msvc_t API on a real SQLite file:
 * login opens a session, refresh rotates it, a retired token within the
 * grace window gets the same successor and after it ends the session,
 * logout scopes, a password change ending the other sessions and the
 * tokens issued before it, the session list, concurrent refreshes, and
 * sessions switched off (the seed's behaviour). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msvc.h"
#include "testutil.h"

static char dir[] = "/tmp/msvc-test-sessions-XXXXXX";
static char url[256];
static const char secret[] = "a unit-test secret of 32 bytes or more";

static msvc_t *open_service(int sessions, int grace_s) {
  msvc_options_t *opts = NULL;
  msvc_t *svc = NULL;
  char err[256] = "";
  CHECK_EQ_INT(msvc_options_new(&opts), 0);
  msvc_options_set_database_url(opts, url);
  msvc_options_set_jwt_secret(opts, secret, strlen(secret));
  msvc_options_set_int(opts, MSVC_OPT_PASSWORD_COST, 4);
  CHECK_EQ_INT(msvc_options_set_int(opts, MSVC_OPT_SESSIONS, sessions), 0);
  CHECK_EQ_INT(msvc_options_set_int(opts, MSVC_OPT_REFRESH_GRACE, grace_s), 0);
  CHECK_EQ_INT(msvc_open(opts, &svc, err, sizeof(err)), 0);
  if (svc == NULL)
    fprintf(stderr, "open: %s\n", err);
  msvc_options_free(opts);
  return svc;
}

static void make_user(msvc_t *svc, const char *email) {
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;
  in.name = "Session User";
  in.email = email;
  in.password = "first password";
  CHECK_EQ_INT(msvc_register(svc, NULL, &in, NULL, NULL), 0);
}

static msvc_login_result_t *login_as(msvc_t *svc, const char *email,
                                     const char *password, const char *ua) {
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;
  msvc_call_t call = MSVC_CALL_INIT;
  msvc_login_result_t *res = NULL;
  in.email = email;
  in.password = password;
  call.user_agent = ua;
  call.client_ip = "192.0.2.7";
  CHECK_EQ_INT(msvc_login(svc, &call, &in, &res, NULL, NULL), 0);
  return res;
}

static msvc_claims_t *claims_of(msvc_t *svc, const char *token) {
  msvc_claims_t *c = NULL;
  CHECK_EQ_INT(msvc_authenticate(svc, NULL, token, strlen(token), &c), 0);
  return c;
}

static int auth_rc(msvc_t *svc, const char *token) {
  msvc_claims_t *c = NULL;
  int rc = msvc_authenticate(svc, NULL, token, strlen(token), &c);
  msvc_claims_free(c);
  return rc;
}

static void test_rotation_and_grace(msvc_t *svc) {
  msvc_login_result_t *a =
      login_as(svc, "rot@example.com", "first password", "phone");
  msvc_login_result_t *b = NULL, *again = NULL, *c = NULL;
  msvc_claims_t *claims;
  if (a == NULL)
    return;
  CHECK(a->refresh_token != NULL && strlen(a->refresh_token) >= 43);
  CHECK_EQ_INT(a->refresh_expires_in, 2592000);
  claims = claims_of(svc, a->token);
  CHECK(claims != NULL && claims->session_id[0] != '\0' &&
        claims->token_id[0] != '\0');
  msvc_claims_free(claims);

  CHECK_EQ_INT(msvc_refresh(svc, NULL, a->refresh_token, &b), 0);
  CHECK(b != NULL && strcmp(b->refresh_token, a->refresh_token) != 0);
  /* within the grace window: the same successor */
  CHECK_EQ_INT(msvc_refresh(svc, NULL, a->refresh_token, &again), 0);
  CHECK(again != NULL && b != NULL &&
        strcmp(again->refresh_token, b->refresh_token) == 0);
  /* the successor moves on; then the first token is stale for good */
  CHECK_EQ_INT(msvc_refresh(svc, NULL, b->refresh_token, &c), 0);
  msvc_login_result_free(again);
  again = NULL;
  CHECK_EQ_INT(msvc_refresh(svc, NULL, a->refresh_token, &again), MSVC_ETOKEN);
  CHECK(strstr(msvc_errmsg(svc), "retired") != NULL);
  /* ...and the reuse ended the whole session: its newest token too */
  CHECK_EQ_INT(msvc_refresh(svc, NULL, c->refresh_token, &again), MSVC_ETOKEN);
  CHECK_EQ_INT(auth_rc(svc, c->token), MSVC_ETOKEN);
  msvc_login_result_free(a);
  msvc_login_result_free(b);
  msvc_login_result_free(c);
}

static void test_bad_tokens(msvc_t *svc) {
  static const char *bad[] = {"", "x", "not a token at all",
                              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*"};
  msvc_login_result_t *r = NULL;
  char big[4096];
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    CHECK_EQ_INT(msvc_refresh(svc, NULL, bad[i], &r), MSVC_ETOKEN);
  memset(big, 'A', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  CHECK_EQ_INT(msvc_refresh(svc, NULL, big, &r), MSVC_ETOKEN);
  CHECK(r == NULL);
  CHECK_EQ_INT(msvc_refresh(svc, NULL, NULL, &r), MSVC_EINVAL);
}

static int count_sessions(msvc_t *svc, const char *token) {
  msvc_session_list_t *list = NULL;
  msvc_claims_t *c = claims_of(svc, token);
  int n = -1;
  if (c != NULL && msvc_sessions_list(svc, NULL, c, &list) == 0)
    n = (int)list->count;
  msvc_session_list_free(list);
  msvc_claims_free(c);
  return n;
}

static void test_logout_scopes(msvc_t *svc) {
  const char *email = "scopes@example.com";
  msvc_login_result_t *s[4];
  msvc_claims_t *c;
  for (int i = 0; i < 4; i++)
    s[i] = login_as(svc, email, "first password", "laptop");
  if (s[0] == NULL || s[3] == NULL)
    return;
  CHECK_EQ_INT(count_sessions(svc, s[0]->token), 4);
  c = claims_of(svc, s[0]->token);
  CHECK_EQ_INT(msvc_logout(svc, NULL, c, MSVC_LOGOUT_LOCAL), 0);
  msvc_claims_free(c);
  CHECK_EQ_INT(auth_rc(svc, s[0]->token), MSVC_ETOKEN);
  CHECK_EQ_INT(count_sessions(svc, s[1]->token), 3);
  c = claims_of(svc, s[1]->token);
  CHECK_EQ_INT(msvc_logout(svc, NULL, c, MSVC_LOGOUT_OTHERS), 0);
  msvc_claims_free(c);
  CHECK_EQ_INT(auth_rc(svc, s[2]->token), MSVC_ETOKEN);
  CHECK_EQ_INT(auth_rc(svc, s[1]->token), 0);
  CHECK_EQ_INT(count_sessions(svc, s[1]->token), 1);
  c = claims_of(svc, s[1]->token);
  CHECK_EQ_INT(msvc_logout(svc, NULL, c, MSVC_LOGOUT_GLOBAL), 0);
  msvc_claims_free(c);
  CHECK_EQ_INT(auth_rc(svc, s[1]->token), MSVC_ETOKEN);
  for (int i = 0; i < 4; i++)
    msvc_login_result_free(s[i]);
}

static void test_list_and_end(msvc_t *svc) {
  msvc_login_result_t *mine =
      login_as(svc, "list@example.com", "first password", "curl/8");
  msvc_login_result_t *other =
      login_as(svc, "rot2@example.com", "first password", "wget");
  msvc_session_list_t *list = NULL;
  msvc_claims_t *c, *oc;
  if (mine == NULL || other == NULL)
    return;
  c = claims_of(svc, mine->token);
  oc = claims_of(svc, other->token);
  CHECK_EQ_INT(msvc_sessions_list(svc, NULL, c, &list), 0);
  CHECK(list != NULL && list->count == 1);
  if (list != NULL && list->count == 1) {
    CHECK_EQ_STR(list->items[0]->user_agent, "curl/8");
    CHECK_EQ_STR(list->items[0]->ip, "192.0.2.7");
    CHECK_EQ_INT(list->items[0]->current, 1);
    CHECK(list->items[0]->expires_at > list->items[0]->created_at);
  }
  msvc_session_list_free(list);
  /* another user's session is "not found", and stays alive */
  CHECK_EQ_INT(msvc_session_end(svc, NULL, c, oc->session_id), MSVC_ENOTFOUND);
  CHECK_EQ_INT(auth_rc(svc, other->token), 0);
  CHECK_EQ_INT(msvc_session_end(svc, NULL, c, "65b3a1f2c9e77a0012345678"),
               MSVC_ENOTFOUND);
  CHECK_EQ_INT(msvc_session_end(svc, NULL, c, c->session_id), 0);
  CHECK_EQ_INT(auth_rc(svc, mine->token), MSVC_ETOKEN);
  msvc_claims_free(c);
  msvc_claims_free(oc);
  msvc_login_result_free(mine);
  msvc_login_result_free(other);
}

static void test_password_change(msvc_t *svc) {
  const char *email = "pw@example.com";
  msvc_login_result_t *keep = login_as(svc, email, "first password", "a");
  msvc_login_result_t *lose = login_as(svc, email, "first password", "b");
  msvc_login_result_t *fresh = NULL;
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;
  msvc_call_t call = MSVC_CALL_INIT;
  msvc_claims_t *c;
  if (keep == NULL || lose == NULL)
    return;
  c = claims_of(svc, keep->token);
  sleep(1); /* tokens carry seconds: let "before the change" be clear */
  in.password = "second password";
  in.current_password = "first password";
  call.session_id = c->session_id;
  CHECK_EQ_INT(msvc_user_update(svc, &call, c->user->id, &in, NULL, NULL), 0);
  /* every access token issued before the change is refused */
  CHECK_EQ_INT(auth_rc(svc, keep->token), MSVC_ETOKEN);
  CHECK_EQ_INT(auth_rc(svc, lose->token), MSVC_ETOKEN);
  /* the other session is gone; the caller's refreshes */
  CHECK_EQ_INT(msvc_refresh(svc, NULL, lose->refresh_token, &fresh),
               MSVC_ETOKEN);
  CHECK_EQ_INT(msvc_refresh(svc, NULL, keep->refresh_token, &fresh), 0);
  CHECK(fresh != NULL && auth_rc(svc, fresh->token) == 0);
  msvc_login_result_free(fresh);
  msvc_claims_free(c);
  msvc_login_result_free(keep);
  msvc_login_result_free(lose);
}

typedef struct race {
  msvc_t *svc;
  const char *token;
  char successor[64];
  int rc;
} race_t;

static void *refresh_thread(void *arg) {
  race_t *r = arg;
  msvc_login_result_t *res = NULL;
  r->rc = msvc_refresh(r->svc, NULL, r->token, &res);
  if (res != NULL)
    snprintf(r->successor, sizeof(r->successor), "%s", res->refresh_token);
  msvc_login_result_free(res);
  return NULL;
}

static void test_concurrent_refresh(msvc_t *svc) {
  msvc_login_result_t *a =
      login_as(svc, "race@example.com", "first password", "x");
  pthread_t t[8];
  race_t r[8];
  const char *winner = NULL;
  int ok = 0;
  if (a == NULL)
    return;
  for (int i = 0; i < 8; i++) {
    memset(&r[i], 0, sizeof(r[i]));
    r[i].svc = svc;
    r[i].token = a->refresh_token;
    pthread_create(&t[i], NULL, refresh_thread, &r[i]);
  }
  for (int i = 0; i < 8; i++)
    pthread_join(t[i], NULL);
  for (int i = 0; i < 8; i++) {
    if (r[i].rc != 0)
      continue;
    ok++;
    if (winner == NULL)
      winner = r[i].successor;
    CHECK_EQ_STR(r[i].successor, winner); /* one family, one successor */
  }
  CHECK(ok >= 1);
  CHECK_EQ_INT(count_sessions(svc, a->token), 1);
  msvc_login_result_free(a);
}

static void test_sessions_off(void) {
  msvc_t *svc = open_service(0, 10);
  msvc_login_result_t *a, *r = NULL;
  msvc_claims_t *c;
  if (svc == NULL)
    return;
  a = login_as(svc, "rot@example.com", "first password", "x");
  if (a == NULL) {
    msvc_close(svc);
    return;
  }
  CHECK(a->refresh_token == NULL && a->refresh_expires_in == 0);
  c = claims_of(svc, a->token);
  CHECK(c != NULL && c->session_id[0] == '\0');
  CHECK_EQ_INT(msvc_refresh(svc, NULL, "AAAA", &r), MSVC_EUNSUPPORTED);
  CHECK_EQ_INT(msvc_logout(svc, NULL, c, MSVC_LOGOUT_LOCAL), 0);
  CHECK_EQ_INT(auth_rc(svc, a->token), 0); /* nothing to end: it expires */
  msvc_claims_free(c);
  msvc_login_result_free(a);
  msvc_close(svc);
}

int main(void) {
  msvc_t *svc;
  if (mkdtemp(dir) == NULL)
    return 1;
  snprintf(url, sizeof(url), "sqlite:%s/msvc.db", dir);
  svc = open_service(1, 10);
  if (svc == NULL)
    TEST_MAIN_END();
  make_user(svc, "rot@example.com");
  make_user(svc, "rot2@example.com");
  make_user(svc, "scopes@example.com");
  make_user(svc, "list@example.com");
  make_user(svc, "pw@example.com");
  make_user(svc, "race@example.com");
  RUN_ARG(test_rotation_and_grace, svc);
  RUN_ARG(test_bad_tokens, svc);
  RUN_ARG(test_logout_scopes, svc);
  RUN_ARG(test_list_and_end, svc);
  RUN_ARG(test_password_change, svc);
  RUN_ARG(test_concurrent_refresh, svc);
  msvc_close(svc);
  RUN(test_sessions_off);
  TEST_MAIN_END();
}
