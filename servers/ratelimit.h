/* ratelimit.h - requests per client address on the routes anyone may call
 * to write (register, login, refresh).
 *
 * A token bucket per address: RATE tokens a second up to BURST, one per
 * request; an empty bucket answers 429 with the seconds until the next
 * token in Retry-After.  Per process by default, in a bounded table (an
 * address pushed out by a flood of others starts again with a full
 * bucket, which only favours that address).  With --rate-limit-shared the
 * count lives in the store instead, shared by every process on it: BURST
 * requests per BURST / RATE seconds, a sliding window over the store's
 * events (msvc/store.h), which needs a store write, so it is taken on a
 * worker, never on an event loop.
 */
#ifndef MSVC_SERVER_RATELIMIT_H
#define MSVC_SERVER_RATELIMIT_H

#include <stdint.h>

#include "msvc/store.h"

typedef struct msvc_ratelimit msvc_ratelimit_t;

/* rate: requests a second (> 0); burst: at most this many at once (>= 1).
 * NULL when out of memory. */
msvc_ratelimit_t *msvc_ratelimit_new(double rate, unsigned burst);
void msvc_ratelimit_free(msvc_ratelimit_t *rl);

/* Per process, thread-safe and cheap (a striped lock): 0 when `client`
 * may go on, else the seconds to wait (>= 1). */
unsigned msvc_ratelimit_take(msvc_ratelimit_t *rl, const char *client,
                             int64_t now_ms);

/* Through the store (blocking: workers only): 0, the seconds to wait, or
 * 0 with *err set to an MSVC_E* code when the store could not be asked
 * (the caller refuses the request then: closed, not open). */
unsigned msvc_ratelimit_take_shared(msvc_ratelimit_t *rl, msvc_store_t *store,
                                    const char *client, int64_t now_ms,
                                    int *err);

#endif
