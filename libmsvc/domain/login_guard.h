/* login_guard.h - who may try a password now (internal).
 *
 * The policy, in the store so that every process sharing it applies the
 * same counts (a store without events falls back to the in-process table
 * of throttle.h, per process):
 *  - per (account, client address): after max_failures failed logins in
 *    the window, that client waits lockout seconds before each further try
 *    on that account; the owner elsewhere is not affected;
 *  - per account, whatever the address: past account_max failures in the
 *    window, clients that never logged in to the account before are slowed
 *    (each waits 1, 2, 4 ... seconds, at most the window, after the
 *    account's last failure), while an address that has logged in to it
 *    successfully in the last 30 days is not;
 *  - per client address, across accounts (password spraying): past
 *    client_max failures in the window, that address waits lockout seconds
 *    before each further try on any account.
 * An attempt is counted before the password is checked and taken back if
 * it succeeds, so concurrent guesses cannot all slip in before the first
 * failure is recorded.  When the store cannot be asked, logins are refused
 * (MSVC_EUNAVAIL): the check is never skipped.
 */
#ifndef MSVC_DOMAIN_LOGIN_GUARD_H
#define MSVC_DOMAIN_LOGIN_GUARD_H

#include "internal.h"

#define MSVC__GUARD_KEY_MAX 112

typedef struct msvc__login_attempt {
  char pair[MSVC__GUARD_KEY_MAX];    /* account + client */
  char account[MSVC__GUARD_KEY_MAX]; /* account */
  char client[MSVC__GUARD_KEY_MAX];  /* client address */
  char known[MSVC__GUARD_KEY_MAX];   /* account + client, after a success */
  char pair_id[MSVC_ID_SIZE], account_id[MSVC_ID_SIZE], client_id[MSVC_ID_SIZE];
  int in_store; /* 0: the in-process table keeps the count */
} msvc__login_attempt_t;

/* Before the password check.  0: go on (then call msvc__login_guard_end);
 * MSVC_ETHROTTLED with *retry_after seconds (>= 1); MSVC_EUNAVAIL when the
 * store could not be asked.  client_ip may be NULL or "". */
int msvc__login_guard_begin(msvc_t *svc, const char *email,
                            const char *client_ip, int64_t now,
                            msvc__login_attempt_t *a, unsigned *retry_after);

typedef enum msvc__guard_outcome {
  MSVC__GUARD_SUCCESS,
  MSVC__GUARD_FAILURE,
  MSVC__GUARD_UNDECIDED /* the check could not be made (store down) */
} msvc__guard_outcome_t;

/* After it: a success clears the pair's failures, takes the attempt back
 * from the account and client counts and remembers the address as one
 * the owner uses; a failure leaves the attempt counted; an undecided
 * attempt is taken back. */
void msvc__login_guard_end(msvc_t *svc, msvc__login_attempt_t *a,
                           msvc__guard_outcome_t outcome, int64_t now);

#endif
