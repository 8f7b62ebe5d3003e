/* login_guard.c - the login throttle over the store's events.
 *
 * Every count is "events of a key newer than the window"; an attempt adds
 * its event first and then looks, so that N concurrent guesses see counts
 * 1..N and at most the limit of them go on to the password check.  A
 * refused attempt takes its events back, so hammering a locked pair does
 * not push its lock further out; a failed one leaves them, so after the
 * limit each failure starts a new lockout.  Keys hold a digest of the
 * email, never the email itself.
 */
#include <stdio.h>
#include <string.h>

#include "domain/digest.h"
#include "domain/login_guard.h"
#include "domain/service_internal.h"

#define KNOWN_MS (30LL * 24 * 3600 * 1000) /* a known address: 30 days */
#define DIGEST_CHARS 32                    /* of the email's SHA-256 */
#define CLIENT_MAX 64

/* The client address as it may appear in a key: printable, no spaces;
 * "-" when unknown. */
static void client_of(const char *ip, char out[CLIENT_MAX + 1]) {
  size_t n = 0;
  for (; ip != NULL && ip[n] != '\0' && n < CLIENT_MAX; n++) {
    unsigned char ch = (unsigned char)ip[n];
    out[n] = ch > 0x20 && ch < 0x7f ? (char)ch : '_';
  }
  if (n == 0)
    out[n++] = '-';
  out[n] = '\0';
}

static void make_keys(const char *email, const char *ip,
                      msvc__login_attempt_t *a) {
  char hex[MSVC_HASH_SIZE], client[CLIENT_MAX + 1];
  msvc__sha256_hex(email, strlen(email), hex);
  hex[DIGEST_CHARS] = '\0';
  client_of(ip, client);
  snprintf(a->pair, sizeof(a->pair), "lf:%s:%s", hex, client);
  snprintf(a->account, sizeof(a->account), "la:%s", hex);
  snprintf(a->client, sizeof(a->client), "lc:%s", client);
  snprintf(a->known, sizeof(a->known), "lk:%s:%s", hex, client);
}

static unsigned seconds_until(int64_t when, int64_t now) {
  int64_t ms = when - now;
  return ms <= 0 ? 1 : (unsigned)((ms + 999) / 1000);
}

/* Adds an event to key and counts the key's recent ones: *count includes
 * it, *latest is the newest other one. */
static int add_and_count(msvc_t *svc, const char *key, char id[MSVC_ID_SIZE],
                         int64_t now, int64_t *count, int64_t *latest) {
  int64_t window = (int64_t)svc->login.window_s * 1000;
  int rc;
  msvc__idgen_next(svc->ids, id);
  rc = msvc_store_event_add(svc->store, key, id, now, now + window);
  if (rc == 0)
    rc = msvc_store_event_stats(svc->store, key, now - window, id, count,
                                latest);
  if (rc != 0)
    id[0] = '\0';
  return rc;
}

/* Takes back whichever of the attempt's events were added. */
static void take_back(msvc_t *svc, msvc__login_attempt_t *a, int64_t now) {
  if (a->pair_id[0] != '\0')
    msvc_store_event_delete(svc->store, a->pair, a->pair_id, now);
  if (a->client_id[0] != '\0')
    msvc_store_event_delete(svc->store, a->client, a->client_id, now);
  if (a->account_id[0] != '\0')
    msvc_store_event_delete(svc->store, a->account, a->account_id, now);
}

/* 1 when the over-limit key (count events, the newest other at latest)
 * still makes the caller wait `hold` ms; *until then. */
static int held(int64_t count, unsigned limit, int64_t latest, int64_t hold,
                int64_t now, int64_t *until) {
  if (limit == 0 || count - 1 < (int64_t)limit || latest == 0)
    return 0;
  *until = latest + hold;
  return now < *until;
}

/* Past the account-wide limit: a wait that doubles with every failure
 * beyond it, at most the window; none for an address the owner used. */
static int account_held(msvc_t *svc, msvc__login_attempt_t *a, int64_t count,
                        int64_t latest, int64_t now, int64_t *until, int *rc) {
  int64_t excess = count - 1 - (int64_t)svc->login.account_max, known = 0,
          newest = 0, delay;
  if (svc->login.account_max == 0 || excess < 0 || latest == 0)
    return 0;
  *rc = msvc_store_event_stats(svc->store, a->known, now - KNOWN_MS, NULL,
                               &known, &newest);
  if (*rc != 0 || known > 0)
    return 0;
  delay = 1000LL << (excess < 20 ? excess : 20);
  if (delay > (int64_t)svc->login.window_s * 1000)
    delay = (int64_t)svc->login.window_s * 1000;
  *until = latest + delay;
  return now < *until;
}

static int begin_in_store(msvc_t *svc, msvc__login_attempt_t *a, int64_t now,
                          unsigned *retry_after) {
  int64_t count, latest, until = 0, lockout = svc->login.lockout_s * 1000LL;
  int rc = add_and_count(svc, a->pair, a->pair_id, now, &count, &latest);
  int refused = 0;
  if (rc == 0)
    refused =
        held(count, svc->login.max_failures, latest, lockout, now, &until);
  if (rc == 0 && !refused)
    rc = add_and_count(svc, a->client, a->client_id, now, &count, &latest);
  if (rc == 0 && !refused)
    refused = held(count, svc->login.client_max, latest, lockout, now, &until);
  if (rc == 0 && !refused)
    rc = add_and_count(svc, a->account, a->account_id, now, &count, &latest);
  if (rc == 0 && !refused)
    refused = account_held(svc, a, count, latest, now, &until, &rc);
  if (rc == 0 && !refused)
    return 0;
  take_back(svc, a, now);
  if (rc != 0) {
    msvc_set_error_detail("the login throttle could not reach the store: %s",
                          msvc_strerror(rc));
    return MSVC_EUNAVAIL; /* closed: no password check without a count */
  }
  if (retry_after != NULL)
    *retry_after = seconds_until(until, now);
  return MSVC_ETHROTTLED;
}

int msvc__login_guard_begin(msvc_t *svc, const char *email,
                            const char *client_ip, int64_t now,
                            msvc__login_attempt_t *a, unsigned *retry_after) {
  unsigned wait;
  memset(a, 0, sizeof(*a));
  make_keys(email, client_ip, a);
  a->in_store = msvc_store_has_events(svc->store);
  if (svc->login.max_failures == 0)
    return 0; /* throttling off */
  if (a->in_store)
    return begin_in_store(svc, a, now, retry_after);
  wait = msvc__throttle_check(svc->throttle, a->pair, now);
  if (wait == 0)
    return 0;
  if (retry_after != NULL)
    *retry_after = wait;
  return MSVC_ETHROTTLED;
}

static void end_in_store(msvc_t *svc, msvc__login_attempt_t *a, int64_t now) {
  int64_t expires = now + KNOWN_MS;
  char id[MSVC_ID_SIZE];
  msvc_store_event_delete(svc->store, a->pair, NULL, now);
  if (a->client_id[0] != '\0')
    msvc_store_event_delete(svc->store, a->client, a->client_id, now);
  if (a->account_id[0] != '\0')
    msvc_store_event_delete(svc->store, a->account, a->account_id, now);
  /* One event per known address: the newest success. */
  msvc_store_event_delete(svc->store, a->known, NULL, now);
  msvc__idgen_next(svc->ids, id);
  msvc_store_event_add(svc->store, a->known, id, now, expires);
}

void msvc__login_guard_end(msvc_t *svc, msvc__login_attempt_t *a,
                           msvc__guard_outcome_t outcome, int64_t now) {
  if (svc->login.max_failures == 0)
    return;
  if (!a->in_store) {
    if (outcome == MSVC__GUARD_SUCCESS)
      msvc__throttle_reset(svc->throttle, a->pair);
    else if (outcome == MSVC__GUARD_FAILURE)
      msvc__throttle_fail(svc->throttle, a->pair, now);
    return;
  }
  if (outcome == MSVC__GUARD_SUCCESS)
    end_in_store(svc, a, now);
  else if (outcome == MSVC__GUARD_UNDECIDED)
    take_back(svc, a, now);
}
