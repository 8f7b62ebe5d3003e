/* testutil.h - a tiny assertion harness for the C unit tests.
 *
 * CHECK records a failure and carries on, so one run reports every broken
 * expectation; TEST_MAIN_END prints "N passed, N failed" and makes the exit
 * status non-zero when anything failed, which is what ctest reads.
 */
#ifndef MSVC_TESTUTIL_H
#define MSVC_TESTUTIL_H

#include <stdio.h>
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

#define TEST_MAIN_END()                                                        \
  do {                                                                         \
    printf("%d passed, %d failed\n", tu_passed, tu_failed);                    \
    if (tu_passed + tu_failed == 0)                                            \
      fprintf(stderr, "no check ran: a test that checks nothing fails\n");     \
    return tu_failed || tu_passed == 0 ? 1 : 0;                                \
  } while (0)

#endif
