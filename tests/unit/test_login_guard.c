/* test_login_guard.c - the login throttle through msvc_login on a real
 * SQLite file, with client addresses in msvc_call_t:
 *  - one client's failures lock that client out of that account, while
 *    the owner at another address still logs in;
 *  - two handles on one file (two processes' worth) share the counts, and
 *    a handle opened later still sees them (they survive a restart);
 *  - many concurrent wrong guesses: at most the limit reach the password
 *    check;
 *  - a client failing across many accounts (spraying) is stopped, others
 *    are not;
 *  - past the account-wide limit, a new address is slowed while an
 *    address that logged in before is not;
 *  - a success clears that client's failures on that account. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msvc.h"
#include "testutil.h"

#define GOOD "correct horse battery"
#define BAD "wrong password!"

static char dir[] = "/tmp/msvc-test-guard-XXXXXX";
static char url[256];
static const char secret[] = "a unit-test secret of 32 bytes or more";

static msvc_t *open_service(int account_max, int client_max) {
  msvc_options_t *opts = NULL;
  msvc_t *svc = NULL;
  char err[256] = "";
  CHECK_EQ_INT(msvc_options_new(&opts), 0);
  msvc_options_set_database_url(opts, url);
  msvc_options_set_jwt_secret(opts, secret, strlen(secret));
  msvc_options_set_int(opts, MSVC_OPT_PASSWORD_COST, 4);
  CHECK_EQ_INT(msvc_options_set_int(opts, MSVC_OPT_LOGIN_ACCOUNT_MAX_FAILURES,
                                    account_max),
               0);
  CHECK_EQ_INT(msvc_options_set_int(opts, MSVC_OPT_LOGIN_CLIENT_MAX_FAILURES,
                                    client_max),
               0);
  CHECK_EQ_INT(msvc_open(opts, &svc, err, sizeof(err)), 0);
  if (svc == NULL)
    fprintf(stderr, "open: %s\n", err);
  msvc_options_free(opts);
  return svc;
}

static void make_user(msvc_t *svc, const char *email) {
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;
  in.name = "Guarded User";
  in.email = email;
  in.password = GOOD;
  CHECK_EQ_INT(msvc_register(svc, NULL, &in, NULL, NULL), 0);
}

/* msvc_login from `ip`: its code, and the wait in *retry (may be NULL). */
static int login_from(msvc_t *svc, const char *ip, const char *email,
                      const char *password, unsigned *retry) {
  msvc_user_input_t in = MSVC_USER_INPUT_INIT;
  msvc_call_t call = MSVC_CALL_INIT;
  msvc_login_result_t *res = NULL;
  unsigned wait = 0;
  int rc;
  call.client_ip = ip;
  in.email = email;
  in.password = password;
  rc = msvc_login(svc, &call, &in, &res, &wait, NULL);
  msvc_login_result_free(res);
  if (retry != NULL)
    *retry = wait;
  return rc;
}

static void test_pair_lockout_spares_owner(void) {
  msvc_t *svc = open_service(50, 100);
  unsigned wait = 0;
  if (svc == NULL)
    return;
  make_user(svc, "pair@example.com");
  for (int i = 0; i < 5; i++)
    CHECK_EQ_INT(login_from(svc, "10.0.0.1", "pair@example.com", BAD, NULL),
                 MSVC_EAUTH);
  CHECK_EQ_INT(login_from(svc, "10.0.0.1", "pair@example.com", GOOD, &wait),
               MSVC_ETHROTTLED);
  CHECK(wait >= 1 && wait <= 60);
  /* The owner elsewhere, and the attacker on another account. */
  CHECK_EQ_INT(login_from(svc, "10.0.0.2", "pair@example.com", GOOD, NULL), 0);
  msvc_close(svc);
}

static void test_shared_between_handles(void) {
  msvc_t *a = open_service(50, 100), *b = open_service(50, 100), *c;
  if (a == NULL || b == NULL) {
    msvc_close(a);
    msvc_close(b);
    return;
  }
  make_user(a, "shared@example.com");
  for (int i = 0; i < 5; i++)
    CHECK_EQ_INT(
        login_from(i % 2 ? a : b, "10.0.1.1", "shared@example.com", BAD, NULL),
        MSVC_EAUTH);
  CHECK_EQ_INT(login_from(a, "10.0.1.1", "shared@example.com", GOOD, NULL),
               MSVC_ETHROTTLED);
  CHECK_EQ_INT(login_from(b, "10.0.1.1", "shared@example.com", GOOD, NULL),
               MSVC_ETHROTTLED);
  msvc_close(a);
  msvc_close(b);
  c = open_service(50, 100); /* a restart */
  if (c != NULL)
    CHECK_EQ_INT(login_from(c, "10.0.1.1", "shared@example.com", GOOD, NULL),
                 MSVC_ETHROTTLED);
  msvc_close(c);
}

typedef struct guesser {
  msvc_t *svc;
  pthread_barrier_t *start;
  int rc;
} guesser_t;

static void *guess(void *arg) {
  guesser_t *g = arg;
  pthread_barrier_wait(g->start);
  g->rc = login_from(g->svc, "10.0.2.1", "storm@example.com", BAD, NULL);
  return NULL;
}

static void test_concurrent_guesses_bounded(void) {
  enum { N = 16 };
  msvc_t *svc = open_service(50, 100);
  pthread_barrier_t start;
  pthread_t th[N];
  guesser_t g[N];
  int checked = 0, throttled = 0;
  if (svc == NULL)
    return;
  make_user(svc, "storm@example.com");
  pthread_barrier_init(&start, NULL, N);
  for (int i = 0; i < N; i++) {
    g[i].svc = svc;
    g[i].start = &start;
    pthread_create(&th[i], NULL, guess, &g[i]);
  }
  for (int i = 0; i < N; i++) {
    pthread_join(th[i], NULL);
    checked += g[i].rc == MSVC_EAUTH;
    throttled += g[i].rc == MSVC_ETHROTTLED;
  }
  pthread_barrier_destroy(&start);
  CHECK(checked >= 1 && checked <= 5);
  CHECK_EQ_INT(checked + throttled, N);
  msvc_close(svc);
}

static void test_spraying_stopped(void) {
  msvc_t *svc = open_service(50, 10);
  char email[64];
  if (svc == NULL)
    return;
  make_user(svc, "spray-victim@example.com");
  for (int i = 0; i < 10; i++) {
    snprintf(email, sizeof(email), "spray%d@example.com", i);
    CHECK_EQ_INT(login_from(svc, "10.0.3.1", email, BAD, NULL), MSVC_EAUTH);
  }
  CHECK_EQ_INT(
      login_from(svc, "10.0.3.1", "spray-victim@example.com", GOOD, NULL),
      MSVC_ETHROTTLED);
  CHECK_EQ_INT(
      login_from(svc, "10.0.3.2", "spray-victim@example.com", GOOD, NULL), 0);
  msvc_close(svc);
}

static void test_account_wide_slows_strangers(void) {
  msvc_t *svc = open_service(8, 100);
  char ip[32];
  unsigned wait = 0;
  if (svc == NULL)
    return;
  make_user(svc, "wide@example.com");
  CHECK_EQ_INT(login_from(svc, "10.0.4.100", "wide@example.com", GOOD, NULL),
               0); /* the owner's usual address */
  for (int i = 0; i < 8; i++) { /* the account-wide limit, 8 */
    snprintf(ip, sizeof(ip), "10.0.4.%d", i + 1);
    CHECK_EQ_INT(login_from(svc, ip, "wide@example.com", BAD, NULL),
                 MSVC_EAUTH);
  }
  CHECK_EQ_INT(login_from(svc, "10.0.4.50", "wide@example.com", GOOD, &wait),
               MSVC_ETHROTTLED);
  CHECK(wait >= 1 && wait <= 900);
  CHECK_EQ_INT(login_from(svc, "10.0.4.100", "wide@example.com", GOOD, NULL),
               0);
  msvc_close(svc);
}

static void test_success_clears_pair(void) {
  msvc_t *svc = open_service(50, 100);
  if (svc == NULL)
    return;
  make_user(svc, "clear@example.com");
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 4; i++)
      CHECK_EQ_INT(login_from(svc, "10.0.5.1", "clear@example.com", BAD, NULL),
                   MSVC_EAUTH);
    CHECK_EQ_INT(login_from(svc, "10.0.5.1", "clear@example.com", GOOD, NULL),
                 0);
  }
  /* Without an address every caller is one client. */
  CHECK_EQ_INT(login_from(svc, NULL, "clear@example.com", GOOD, NULL), 0);
  msvc_close(svc);
}

int main(void) {
  if (mkdtemp(dir) == NULL)
    return 1;
  snprintf(url, sizeof(url), "sqlite:%s/guard.db", dir);
  RUN(test_pair_lockout_spares_owner);
  RUN(test_shared_between_handles);
  RUN(test_concurrent_guesses_bounded);
  RUN(test_spraying_stopped);
  RUN(test_account_wide_slows_strangers);
  RUN(test_success_clears_pair);
  {
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
      fprintf(stderr, "could not remove %s\n", dir);
  }
  TEST_MAIN_END();
}
