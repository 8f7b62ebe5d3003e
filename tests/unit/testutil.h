/* testutil.h - a tiny assertion harness for the C unit tests.
 *
 * CHECK records a failure and carries on, so one run reports every broken
 * expectation; TEST_MAIN_END prints "N passed, N failed" and makes the exit
 * status non-zero when anything failed, which is what ctest reads.
 */
#ifndef MSVC_TESTUTIL_H
#define MSVC_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tu_passed, tu_failed;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (cond) {                                                                \
      tu_passed++;                                                             \
    } else {                                                                   \
      tu_failed++;                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

#define CHECK_EQ_INT(a, b)                                                     \
  do {                                                                         \
    long long tu_a = (long long)(a), tu_b = (long long)(b);                    \
    if (tu_a == tu_b) {                                                        \
      tu_passed++;                                                             \
    } else {                                                                   \
      tu_failed++;                                                             \
      fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,      \
              __LINE__, #a, #b, tu_a, tu_b);                                   \
    }                                                                          \
  } while (0)

#define CHECK_EQ_STR(a, b)                                                     \
  do {                                                                         \
    const char *tu_a = (a), *tu_b = (b);                                       \
    if (tu_a && tu_b && strcmp(tu_a, tu_b) == 0) {                             \
      tu_passed++;                                                             \
    } else {                                                                   \
      tu_failed++;                                                             \
      fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__,  \
              __LINE__, #a, #b, tu_a ? tu_a : "(null)",                        \
              tu_b ? tu_b : "(null)");                                         \
    }                                                                          \
  } while (0)

#define RUN(fn)                                                                \
  do {                                                                         \
    fprintf(stderr, "-- %s\n", #fn);                                           \
    fn();                                                                      \
  } while (0)

#define RUN_ARG(fn, arg)                                                       \
  do {                                                                         \
    fprintf(stderr, "-- %s\n", #fn);                                           \
    fn(arg);                                                                   \
  } while (0)

/* A test, or a part of one, that cannot run here because a tool it needs
 * (python3, openssl) is missing.  TEST_SKIP(why) returns from main: 77,
 * ctest's skip, or 1 under CI=true (which .ci/run exports: CI skips
 * nothing).  TEST_SKIP_PART(why) says so and carries on; under CI=true it
 * counts as a failed check.  A part that does not apply to this build
 * (a module left out on purpose) is not a skip for these. */
static inline int tu_ci(void) {
  const char *ci = getenv("CI");
  return ci != NULL && strcmp(ci, "true") == 0;
}

#define TEST_SKIP(why)                                                         \
  do {                                                                         \
    if (tu_ci()) {                                                             \
      fprintf(stderr, "FAILED: cannot run under CI=true: %s\n", why);         \
      return 1;                                                                \
    }                                                                          \
    printf("skipped: %s\n", why);                                             \
    return 77;                                                                 \
  } while (0)

#define TEST_SKIP_PART(why)                                                    \
  do {                                                                         \
    if (tu_ci()) {                                                             \
      tu_failed++;                                                             \
      fprintf(stderr, "%s:%d: FAILED: skipped under CI=true: %s\n", __FILE__, \
              __LINE__, why);                                                  \
    } else {                                                                   \
      fprintf(stderr, "   skipped: %s\n", why);                               \
    }                                                                          \
  } while (0)

#define TEST_MAIN_END()                                                        \
  do {                                                                         \
    printf("%d passed, %d failed\n", tu_passed, tu_failed);                    \
    if (tu_passed + tu_failed == 0)                                            \
      fprintf(stderr, "no check ran: a test that checks nothing fails\n");     \
    return tu_failed || tu_passed == 0 ? 1 : 0;                                \
  } while (0)

#endif
