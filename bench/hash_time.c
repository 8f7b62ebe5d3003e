/* hash_time.c - times one password hash and one verification through
 * libmsvc, for the login goal of the benchmark.
 *
 * Usage: hash_time [COST [ROUNDS]] (defaults: bcrypt cost 10, 5 rounds).
 * Prints one line of JSON: the median and minimum milliseconds of
 * msvc_password_hash and of msvc_password_verify (which is what a login
 * pays).  The median is what the benchmark uses: on a shared machine the
 * minimum is optimistic and the mean is dragged by outliers.  Runs on one
 * thread; ROUNDS is bounded so the program always ends within seconds.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msvc/common.h>
#include <msvc/password.h>

#define MAX_ROUNDS 50

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(*v), cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Fills hash_ms[0..rounds) and verify_ms[0..rounds); 0 or an MSVC_E code. */
static int time_rounds(unsigned long cost, int rounds, double *hash_ms,
                       double *verify_ms) {
  static const char pw[] = "bench-password-1";
  for (int i = 0; i < rounds; i++) {
    char *hash = NULL;
    double t0 = now_ms();
    int rc = msvc_password_hash("bcrypt", cost, pw, strlen(pw), &hash);
    double t1 = now_ms();
    if (rc != 0)
      return rc;
    rc = msvc_password_verify(pw, strlen(pw), hash);
    double t2 = now_ms();
    msvc_free(hash);
    if (rc != 0)
      return rc;
    hash_ms[i] = t1 - t0;
    verify_ms[i] = t2 - t1;
  }
  return 0;
}

int main(int argc, char **argv) {
  unsigned long cost = 10;
  double hash_ms[MAX_ROUNDS], verify_ms[MAX_ROUNDS];
  int rounds = argc > 2 ? atoi(argv[2]) : 5;

  if (argc > 1)
    cost = strtoul(argv[1], NULL, 10);
  if (rounds < 1 || rounds > MAX_ROUNDS) {
    fprintf(stderr, "hash_time: ROUNDS must be 1..%d\n", MAX_ROUNDS);
    return 2;
  }
  int rc = time_rounds(cost, rounds, hash_ms, verify_ms);
  if (rc != 0) {
    fprintf(stderr, "hash_time: %s\n", msvc_strerror(rc));
    return 1;
  }
  double hash_min = hash_ms[0], verify_min = verify_ms[0];
  for (int i = 1; i < rounds; i++) {
    hash_min = hash_ms[i] < hash_min ? hash_ms[i] : hash_min;
    verify_min = verify_ms[i] < verify_min ? verify_ms[i] : verify_min;
  }
  printf("{\"prefix\":\"%s\",\"cost\":%lu,\"rounds\":%d,"
         "\"hash_ms\":%.2f,\"hash_min_ms\":%.2f,"
         "\"verify_ms\":%.2f,\"verify_min_ms\":%.2f}\n",
         "$2b$", cost, rounds, median(hash_ms, rounds), hash_min,
         median(verify_ms, rounds), verify_min);
  return 0;
}
