/* clock.c - the two clocks: monotonic for deadlines and throttling (never
 * jumps), wall clock for timestamps that are stored or shown. */
#include <time.h>

#include "internal.h"

static int64_t clock_ms(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t msvc__monotonic_ms(void) {
  return clock_ms(CLOCK_MONOTONIC);
}

int64_t msvc__monotonic_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t msvc__realtime_ms(void) {
  return clock_ms(CLOCK_REALTIME);
}
