/* claims.c - verified token claims as the public msvc_claims_t, and
 * service tokens.
 *
 * Verification runs on the hottest routes, so a msvc_claims_t is one
 * allocation: the struct, its user and the user's strings share a block
 * that msvc_claims_free() releases at once.  Nothing in it may be freed on
 * its own, which is why the public struct hands out const pointers.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/service_internal.h"

typedef struct claims_block {
  msvc_claims_t claims;
  msvc_user_t user;
  char sid[MSVC_ID_SIZE];
  char jti[64];
  char strings[]; /* name, email or service, NUL-terminated */
} claims_block_t;

/* The claims of t; with rec (the stored record the revocation check
 * read), the user is that record rather than what the token says. */
static int claims_from_token(const msvc__token_claims_t *t,
                             const msvc_user_record_t *rec,
                             msvc_claims_t **out) {
  int is_user = t->kind == MSVC_CALLER_USER;
  const msvc_user_t *u = is_user && rec != NULL ? rec->user : NULL;
  const char *name = u != NULL ? u->name : t->name;
  const char *email = u != NULL ? u->email : t->email;
  size_t name_len = is_user && name != NULL ? strlen(name) : 0;
  size_t email_len = is_user && email != NULL ? strlen(email) : 0;
  size_t svc_len = is_user ? 0 : strlen(t->service);
  claims_block_t *b =
      calloc(1, sizeof(*b) + name_len + email_len + svc_len + 3);
  if (b == NULL)
    return MSVC_ENOMEM;
  b->claims.kind = t->kind;
  b->claims.iat = t->iat;
  b->claims.exp = t->exp;
  memcpy(b->sid, t->sid, sizeof(b->sid));
  memcpy(b->jti, t->jti, sizeof(b->jti));
  b->claims.session_id = b->sid;
  b->claims.token_id = b->jti;
  if (is_user) {
    memcpy(b->user.id, t->id, MSVC_ID_SIZE);
    b->user.name = memcpy(b->strings, name != NULL ? name : "", name_len + 1);
    b->user.email = memcpy(b->strings + name_len + 1,
                           email != NULL ? email : "", email_len + 1);
    if (u != NULL) {
      b->user.created_at = u->created_at;
      b->user.updated_at = u->updated_at;
      b->claims.user_from_store = 1;
    }
    b->claims.user = &b->user;
  } else {
    b->claims.service = memcpy(b->strings, t->service, svc_len + 1);
  }
  *out = &b->claims;
  return 0;
}

/* The signature and claims of token, from the cache of verified tokens
 * when these exact bytes were verified before and have not expired. */
static int verify_cached(msvc_t *svc, const char *token, size_t len,
                         msvc__token_claims_t *t) {
  int64_t now_s = msvc__realtime_ms() / 1000;
  int rc;
  if (len > MSVC_TOKEN_MAX_BYTES)
    return MSVC_ETOKEN;
  if (msvc__token_cache_get(svc->verified, token, len, now_s, t))
    return 0;
  rc = msvc__token_verify(&svc->token, token, len, now_s, t);
  if (rc == 0)
    msvc__token_cache_put(svc->verified, token, len, t);
  return rc;
}

int msvc_authenticate(msvc_t *svc, const msvc_call_t *call, const char *token,
                      size_t len, msvc_claims_t **out) {
  msvc__token_claims_t t;
  msvc_user_record_t *rec = NULL;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (svc == NULL || token == NULL || out == NULL)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  rc = verify_cached(svc, token, len, &t);
  /* The revocation check reads the store: not on a loop that cannot
   * wait for it. */
  if (rc == 0 && svc->check_revocation && t.kind == MSVC_CALLER_USER)
    rc = msvc__store_gate(svc, call);
  if (rc == 0)
    rc = msvc__check_revocation(svc, &t, &rec);
  if (rc == 0)
    rc = claims_from_token(&t, rec, out);
  msvc_user_record_free(rec);
  return MSVC__END(svc, rc);
}

void msvc_claims_free(msvc_claims_t *claims) {
  /* claims is the first member of its block. */
  free(claims);
}

const msvc_user_t *msvc_claims_author(const msvc_claims_t *claims) {
  return claims != NULL ? claims->user : NULL;
}

int msvc_service_token(msvc_t *svc, const char *service, char **out) {
  if (out != NULL)
    *out = NULL;
  if (svc == NULL || service == NULL || out == NULL)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  return MSVC__END(svc,
                   msvc__token_issue_service(&svc->token, service,
                                             msvc__realtime_ms() / 1000, out));
}
