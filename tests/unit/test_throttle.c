/* test_throttle.c - the login failure table: lockout after the threshold,
 * expiry, reset on success, window restart, bounded memory under floods. */
#include <stdio.h>

#include "domain/throttle.h"
#include "testutil.h"

static void test_lockout_and_expiry(void) {
  msvc__throttle_t *t;
  CHECK_EQ_INT(msvc__throttle_new(64, 3, 900, 60, &t), 0);
  CHECK_EQ_INT(msvc__throttle_check(t, "a@x.io", 1000), 0);
  msvc__throttle_fail(t, "a@x.io", 1000);
  msvc__throttle_fail(t, "a@x.io", 2000);
  CHECK_EQ_INT(msvc__throttle_check(t, "a@x.io", 2000), 0);
  msvc__throttle_fail(t, "a@x.io", 3000);
  CHECK_EQ_INT(msvc__throttle_check(t, "a@x.io", 3000), 60);
  CHECK_EQ_INT(msvc__throttle_check(t, "a@x.io", 3000 + 59500), 1);
  CHECK_EQ_INT(msvc__throttle_check(t, "a@x.io", 3000 + 60000), 0);
  CHECK_EQ_INT(msvc__throttle_check(t, "b@x.io", 3000), 0);
  msvc__throttle_free(t);
}

static void test_reset_and_window(void) {
  msvc__throttle_t *t;
  CHECK_EQ_INT(msvc__throttle_new(64, 2, 10, 60, &t), 0);
  msvc__throttle_fail(t, "a@x.io", 0);
  msvc__throttle_reset(t, "a@x.io");
  msvc__throttle_fail(t, "a@x.io", 100);
  CHECK_EQ_INT(msvc__throttle_check(t, "a@x.io", 100), 0);
  /* the window (10 s) has passed: the count starts again */
  msvc__throttle_fail(t, "a@x.io", 20000);
  CHECK_EQ_INT(msvc__throttle_check(t, "a@x.io", 20000), 0);
  msvc__throttle_fail(t, "a@x.io", 21000);
  CHECK(msvc__throttle_check(t, "a@x.io", 21000) > 0);
  msvc__throttle_free(t);
}

static void test_disabled(void) {
  msvc__throttle_t *t;
  CHECK_EQ_INT(msvc__throttle_new(64, 0, 10, 60, &t), 0);
  for (int i = 0; i < 100; i++)
    msvc__throttle_fail(t, "a@x.io", i);
  CHECK_EQ_INT(msvc__throttle_check(t, "a@x.io", 100), 0);
  msvc__throttle_free(t);
}

/* Flooding other keys through a tiny table must not lift a lockout while
 * unlocked entries can be evicted instead. */
static void test_flood_keeps_lockout(void) {
  msvc__throttle_t *t;
  char key[32];
  CHECK_EQ_INT(msvc__throttle_new(4, 2, 900, 60, &t), 0); /* one bucket */
  msvc__throttle_fail(t, "victim@x.io", 0);
  msvc__throttle_fail(t, "victim@x.io", 0);
  CHECK(msvc__throttle_check(t, "victim@x.io", 0) > 0);
  for (int i = 0; i < 1000; i++) { /* one failure each: never locked */
    snprintf(key, sizeof(key), "k%d@x.io", i);
    msvc__throttle_fail(t, key, 1);
  }
  CHECK(msvc__throttle_check(t, "victim@x.io", 2) > 0);
  msvc__throttle_free(t);
}

/* A NULL table (creation failed, or throttling not configured) allows
 * every attempt and ignores failures; freeing NULL is harmless. */
static void test_null_table(void) {
  CHECK_EQ_INT(msvc__throttle_check(NULL, "a@x.io", 0), 0);
  msvc__throttle_fail(NULL, "a@x.io", 0);
  msvc__throttle_reset(NULL, "a@x.io");
  msvc__throttle_free(NULL);
}

int main(void) {
  RUN(test_lockout_and_expiry);
  RUN(test_reset_and_window);
  RUN(test_disabled);
  RUN(test_flood_keeps_lockout);
  RUN(test_null_table);
  TEST_MAIN_END();
}
