/* sessions.c - refresh tokens, rotation, reuse detection, logout and the
 * session list.
 *
 * A refresh token is 32 random bytes in base64url; the store keeps only its
 * SHA-256.  Its successor is not random: it is HMAC-SHA-256(refresh key,
 * token), so a retired token presented again within the grace window (a
 * client that raced itself) yields exactly the successor the first call
 * got, without any plaintext stored and without a second rotation.
 * Concurrent refreshes of one token therefore all converge on one
 * successor: the store's conditional rotate lets one caller move the hash,
 * and the others find the token retired a moment ago.  Presented after the
 * grace window, or when the session has moved on further (its descendants
 * are traced a few generations forward), a retired token means it was
 * copied: the whole session ends.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/digest.h"
#include "domain/service_internal.h"

#define TOKEN_BYTES 32
#define TOKEN_CHARS 43 /* base64url of 32 bytes, unpadded */

/* The successor of refresh token t. */
static int successor(msvc_t *svc, const char *t, char out[TOKEN_CHARS + 1]) {
  unsigned char mac[MSVC__SHA256_LEN];
  int rc = msvc__hmac_sha256(svc->refresh_key, sizeof(svc->refresh_key), t,
                             strlen(t), mac);
  if (rc == 0)
    msvc__base64url_encode(mac, sizeof(mac), out);
  return rc;
}

/* A token of exactly our shape; anything else is refused before hashing. */
static int token_shape_ok(const char *t) {
  size_t n = strnlen(t, TOKEN_CHARS + 1);
  if (n != TOKEN_CHARS)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (msvc__base64url_value(t[i]) < 0)
      return 0;
  return 1;
}

/* The access token of a session's user, into res. */
static int issue_access(msvc_t *svc, const msvc_user_t *user, const char *sid,
                        int64_t now, msvc_login_result_t *res) {
  char jti[33];
  int rc = msvc__random_hex(jti, 16);
  if (rc == 0)
    rc = msvc__token_issue_user(&svc->token, user, sid, jti, now / 1000,
                                &res->token);
  res->expires_in = svc->token.ttl;
  return rc;
}

static int copy_or_null(char **dst, const char *src) {
  if (src == NULL)
    return 0;
  *dst = strdup(src);
  return *dst != NULL ? 0 : MSVC_ENOMEM;
}

int msvc__session_open(msvc_t *svc, const msvc_call_t *call,
                       const msvc_user_t *user, int64_t now,
                       msvc_login_result_t *res) {
  unsigned char raw[TOKEN_BYTES];
  char token[TOKEN_CHARS + 1];
  msvc_session_t *s = NULL;
  int rc = msvc__random_bytes(raw, sizeof(raw));
  if (rc == 0)
    rc = msvc_session_new(&s);
  if (rc == 0) {
    msvc__base64url_encode(raw, sizeof(raw), token);
    msvc__idgen_next(svc->ids, s->id);
    memcpy(s->user_id, user->id, MSVC_ID_SIZE);
    msvc__sha256_hex(token, TOKEN_CHARS, s->token_hash);
    s->created_at = s->last_used_at = now;
    s->expires_at = now + svc->refresh_ttl_s * 1000;
    rc = copy_or_null(&s->user_agent, msvc__call_user_agent(call));
  }
  if (rc == 0)
    rc = copy_or_null(&s->ip, msvc__call_client_ip(call));
  if (rc == 0)
    rc = msvc_store_session_insert(svc->store, s);
  if (rc == 0)
    rc = issue_access(svc, user, s->id, now, res);
  if (rc == 0 && (res->refresh_token = strdup(token)) == NULL)
    rc = MSVC_ENOMEM;
  res->refresh_expires_in = svc->refresh_ttl_s;
  explicit_bzero(raw, sizeof(raw));
  explicit_bzero(token, sizeof(token));
  msvc_session_free(s);
  return rc;
}

/* Ends session s and answers "invalid token": a retired token came back
 * too late, so someone else has a copy. */
static int revoke_for_reuse(msvc_t *svc, const msvc_session_t *s) {
  (void)msvc_store_sessions_revoke(svc->store, s->user_id, s->id, 0, NULL);
  msvc_set_error_detail("a retired refresh token was used again: the "
                        "session has been ended");
  return MSVC_ETOKEN;
}

/* Moves session s from token t (hash h) to t's successor; on a lost race
 * the caller looks again. */
static int rotate(msvc_t *svc, const msvc_session_t *s, const char *h,
                  const char *next, int64_t now) {
  char next_hash[MSVC_HASH_SIZE];
  msvc__sha256_hex(next, TOKEN_CHARS, next_hash);
  return msvc_store_session_rotate(svc->store, s->id, h, next_hash, now,
                                   now + svc->refresh_ttl_s * 1000);
}

/* Decides what token t (hash h) of session s is worth now: 0 with the
 * successor in next, or MSVC_ETOKEN. */
static int judge(msvc_t *svc, const msvc_session_t *s, const char *t,
                 const char *h, int64_t now, char next[TOKEN_CHARS + 1]) {
  char next_hash[MSVC_HASH_SIZE];
  int rc;
  if (s->revoked || s->expires_at <= now)
    return MSVC_ETOKEN;
  rc = successor(svc, t, next);
  if (rc != 0)
    return rc;
  if (strcmp(s->token_hash, h) == 0) {
    rc = rotate(svc, s, h, next, now);
    /* MSVC_EWOULDBLOCK marks a lost race for redeem() to look again. */
    return rc == MSVC_ENOTFOUND ? MSVC_EWOULDBLOCK : rc;
  }
  /* t was retired: fine only within the grace window, and only while its
   * successor is still the session's current token. */
  msvc__sha256_hex(next, TOKEN_CHARS, next_hash);
  if (now - s->rotated_at <= svc->refresh_grace_s * 1000 &&
      strcmp(s->token_hash, next_hash) == 0)
    return 0;
  return revoke_for_reuse(svc, s);
}

#define ANCESTRY_MAX 8 /* generations a stale token is traced forward */

/* A token the store does not know may be an older ancestor of a live
 * session's token (successors are derived, so its descendants can be
 * computed): if one of the next ANCESTRY_MAX generations is in the store,
 * the token was copied before it was retired, and that session ends. */
static int trace_ancestor(msvc_t *svc, const char *t, msvc_session_t *s) {
  char cur[TOKEN_CHARS + 1], next[TOKEN_CHARS + 1], h[MSVC_HASH_SIZE];
  memcpy(cur, t, sizeof(cur));
  for (int gen = 0; gen < ANCESTRY_MAX; gen++) {
    int rc = successor(svc, cur, next);
    if (rc != 0)
      return rc;
    msvc__sha256_hex(next, TOKEN_CHARS, h);
    rc = msvc_store_session_find_by_hash(svc->store, h, s);
    if (rc == 0)
      return s->revoked ? MSVC_ETOKEN : revoke_for_reuse(svc, s);
    if (rc != MSVC_ENOTFOUND)
      return rc;
    memcpy(cur, next, sizeof(cur));
  }
  return MSVC_ETOKEN;
}

/* Looks the token up and judges it; a lost rotation race is judged once
 * more against what the winner wrote. */
static int redeem(msvc_t *svc, const char *t, int64_t now, msvc_session_t *s,
                  char next[TOKEN_CHARS + 1]) {
  char h[MSVC_HASH_SIZE];
  int rc = MSVC_EWOULDBLOCK;
  msvc__sha256_hex(t, TOKEN_CHARS, h);
  for (int attempt = 0; attempt < 2 && rc == MSVC_EWOULDBLOCK; attempt++) {
    rc = msvc_store_session_find_by_hash(svc->store, h, s);
    if (rc == MSVC_ENOTFOUND)
      return trace_ancestor(svc, t, s);
    if (rc == 0)
      rc = judge(svc, s, t, h, now, next);
  }
  return rc == MSVC_EWOULDBLOCK ? MSVC_ETOKEN : rc;
}

static int do_refresh(msvc_t *svc, const char *t, msvc_login_result_t **out) {
  char next[TOKEN_CHARS + 1];
  msvc_session_t *s = NULL;
  msvc_user_record_t *rec = NULL;
  msvc_login_result_t *res = calloc(1, sizeof(*res));
  int64_t now = msvc__realtime_ms();
  int rc = res != NULL ? msvc_session_new(&s) : MSVC_ENOMEM;
  if (rc == 0)
    rc = redeem(svc, t, now, s, next);
  if (rc == 0)
    rc = msvc__load_user_record(svc, s->user_id, &rec);
  if (rc == MSVC_ENOTFOUND)
    rc = MSVC_ETOKEN; /* the user is gone */
  if (rc == 0)
    rc = issue_access(svc, rec->user, s->id, now, res);
  if (rc == 0 && (res->refresh_token = strdup(next)) == NULL)
    rc = MSVC_ENOMEM;
  if (rc == 0) {
    res->refresh_expires_in = svc->refresh_ttl_s;
    msvc__hand_out_user(rec, &res->user);
    rec = NULL;
    *out = res;
    res = NULL;
  }
  explicit_bzero(next, sizeof(next));
  msvc_user_record_free(rec);
  msvc_session_free(s);
  msvc_login_result_free(res);
  return rc;
}

int msvc_refresh(msvc_t *svc, const msvc_call_t *call,
                 const char *refresh_token, msvc_login_result_t **out) {
  int rc;
  (void)call;
  if (out != NULL)
    *out = NULL;
  if (svc == NULL || refresh_token == NULL || out == NULL)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  if (!svc->sessions)
    rc = MSVC_EUNSUPPORTED;
  else if (!token_shape_ok(refresh_token))
    rc = MSVC_ETOKEN;
  else
    rc = do_refresh(svc, refresh_token, out);
  return MSVC__END(svc, rc);
}

/* The user and session of claims, checked; 0 or MSVC_EINVAL. */
static int claims_user(const msvc_claims_t *c) {
  return c != NULL && c->kind == MSVC_CALLER_USER && c->user != NULL;
}

static const char *claims_sid(const msvc_claims_t *c) {
  return c->session_id != NULL && c->session_id[0] != '\0' ? c->session_id
                                                           : NULL;
}

int msvc_logout(msvc_t *svc, const msvc_call_t *call,
                const msvc_claims_t *claims, msvc_logout_scope_t scope) {
  const char *sid;
  int rc = 0;
  (void)call;
  if (svc == NULL || !claims_user(claims) || scope < MSVC_LOGOUT_LOCAL ||
      scope > MSVC_LOGOUT_GLOBAL)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  sid = claims_sid(claims);
  if (!svc->sessions)
    rc = 0; /* nothing to end: tokens simply expire */
  else if (scope == MSVC_LOGOUT_GLOBAL)
    rc =
        msvc_store_sessions_revoke(svc->store, claims->user->id, NULL, 0, NULL);
  else if (sid != NULL)
    rc = msvc_store_sessions_revoke(svc->store, claims->user->id, sid,
                                    scope == MSVC_LOGOUT_OTHERS, NULL);
  else if (scope == MSVC_LOGOUT_OTHERS) /* a token of no session: "others" */
    rc =
        msvc_store_sessions_revoke(svc->store, claims->user->id, NULL, 0, NULL);
  return MSVC__END(svc, rc);
}

int msvc_session_end(msvc_t *svc, const msvc_call_t *call,
                     const msvc_claims_t *claims, const char *session_id) {
  size_t n = 0;
  int rc;
  (void)call;
  if (svc == NULL || !claims_user(claims) || session_id == NULL)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  if (!svc->sessions)
    rc = MSVC_ENOTFOUND;
  else
    rc = msvc_store_sessions_revoke(svc->store, claims->user->id, session_id, 0,
                                    &n);
  if (rc == 0 && n == 0)
    rc = MSVC_ENOTFOUND;
  return MSVC__END(svc, rc);
}

#define LIST_MAX 100 /* sessions listed at most: the newest */

static int info_from(const msvc_session_t *s, const char *current,
                     msvc_session_info_t **out) {
  msvc_session_info_t *i = calloc(1, sizeof(*i));
  if (i == NULL)
    return MSVC_ENOMEM;
  memcpy(i->id, s->id, MSVC_ID_SIZE);
  i->created_at = s->created_at;
  i->last_used_at = s->last_used_at;
  i->expires_at = s->expires_at;
  i->current = current != NULL && strcmp(current, s->id) == 0;
  *out = i;
  if (copy_or_null(&i->user_agent, s->user_agent) != 0 ||
      copy_or_null(&i->ip, s->ip) != 0)
    return MSVC_ENOMEM;
  return 0;
}

static int do_list(msvc_t *svc, const msvc_claims_t *claims,
                   msvc_session_list_t *list) {
  msvc_session_t *slots[LIST_MAX] = {0};
  size_t n = 0;
  int rc = 0;
  for (size_t i = 0; i < LIST_MAX && rc == 0; i++)
    rc = msvc_session_new(&slots[i]);
  if (rc == 0)
    rc = msvc_store_sessions_list(svc->store, claims->user->id,
                                  msvc__realtime_ms(), slots, LIST_MAX, &n);
  if (rc == 0 &&
      (list->items = calloc(n ? n : 1, sizeof(*list->items))) == NULL)
    rc = MSVC_ENOMEM;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    rc = info_from(slots[i], claims_sid(claims), &list->items[i]);
    list->count = i + 1;
  }
  for (size_t i = 0; i < LIST_MAX; i++)
    msvc_session_free(slots[i]);
  return rc;
}

int msvc_sessions_list(msvc_t *svc, const msvc_call_t *call,
                       const msvc_claims_t *claims, msvc_session_list_t **out) {
  msvc_session_list_t *list;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (svc == NULL || !claims_user(claims) || out == NULL)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  rc = msvc__store_gate(svc, call);
  list = rc == 0 ? calloc(1, sizeof(*list)) : NULL;
  if (rc == 0 && list == NULL)
    rc = MSVC_ENOMEM;
  if (rc == 0 && svc->sessions)
    rc = do_list(svc, claims, list);
  if (rc != 0)
    msvc_session_list_free(list);
  else
    *out = list;
  return MSVC__END(svc, rc);
}

int msvc__check_revocation(msvc_t *svc, const msvc__token_claims_t *t,
                           msvc_user_record_t **rec_out) {
  msvc_user_record_t *rec = NULL;
  int rc = 0;
  *rec_out = NULL;
  if (!svc->check_revocation || t->kind != MSVC_CALLER_USER)
    return 0;
  if (svc->sessions) {
    const char *sid = t->sid[0] != '\0' ? t->sid : NULL;
    int alive = 0;
    rc = msvc_user_record_new(&rec);
    if (rc == 0)
      rc = msvc_store_caller_find(svc->store, t->id, sid, rec, &alive);
    if (rc == 0 && sid != NULL && !alive)
      rc = MSVC_ETOKEN; /* ended, someone else's, or never there */
    /* A seed token (no session) of a user this store does not hold: what
     * it is worth is the route's business (a 404, or a lookup). */
    if (rc == MSVC_ENOTFOUND && sid == NULL) {
      msvc_user_record_free(rec);
      rec = NULL;
      rc = 0;
    }
  }
  if (rc == 0 && rec != NULL && rec->tokens_valid_after / 1000 > t->iat)
    rc = MSVC_ETOKEN; /* issued before the last password change */
  if (rc == 0 && rec != NULL && rec->user->id[0] != '\0') {
    *rec_out = rec; /* the claims carry it: the route need not read it */
    return 0;
  }
  msvc_user_record_free(rec);
  return rc == MSVC_ENOTFOUND ? MSVC_ETOKEN : rc;
}
