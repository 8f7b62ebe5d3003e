/* throttle.h - per-account login failure counting (internal). */
#ifndef MSVC_THROTTLE_H
#define MSVC_THROTTLE_H

#include <stdint.h>

typedef struct msvc__throttle msvc__throttle_t;

/* max_failures 0 disables throttling (every call then allows). */
int msvc__throttle_new(unsigned slots, unsigned max_failures, unsigned window_s,
                       unsigned lockout_s, msvc__throttle_t **out);
void msvc__throttle_free(msvc__throttle_t *t);

/* 0 when `key` may try now, else the seconds to wait (>= 1). */
unsigned msvc__throttle_check(msvc__throttle_t *t, const char *key,
                              int64_t now_ms);
/* Counts one failure; locks the key once it reaches max_failures within
 * the window. */
void msvc__throttle_fail(msvc__throttle_t *t, const char *key, int64_t now_ms);
/* Forgets the key's failures (after a successful login). */
void msvc__throttle_reset(msvc__throttle_t *t, const char *key);

#endif
