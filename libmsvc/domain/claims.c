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
  char strings[]; /* name, email or service, NUL-terminated */
} claims_block_t;

static int claims_from_token(const msvc__token_claims_t *t,
                             msvc_claims_t **out) {
  int is_user = t->kind == MSVC_CALLER_USER;
  size_t name_len = is_user ? strlen(t->name) : 0;
  size_t email_len = is_user ? strlen(t->email) : 0;
  size_t svc_len = is_user ? 0 : strlen(t->service);
  claims_block_t *b =
      calloc(1, sizeof(*b) + name_len + email_len + svc_len + 3);
  if (b == NULL)
    return MSVC_ENOMEM;
  b->claims.kind = t->kind;
  b->claims.iat = t->iat;
  b->claims.exp = t->exp;
  if (is_user) {
    memcpy(b->user.id, t->id, MSVC_ID_SIZE);
    b->user.name = memcpy(b->strings, t->name, name_len + 1);
    b->user.email = memcpy(b->strings + name_len + 1, t->email, email_len + 1);
    b->claims.user = &b->user;
  } else {
    b->claims.service = memcpy(b->strings, t->service, svc_len + 1);
  }
  *out = &b->claims;
  return 0;
}

int msvc_authenticate(msvc_t *svc, const msvc_call_t *call, const char *token,
                      size_t len, msvc_claims_t **out) {
  msvc__token_claims_t t;
  int rc;
  (void)call;
  if (out != NULL)
    *out = NULL;
  if (svc == NULL || token == NULL || out == NULL)
    return MSVC_EINVAL;
  MSVC__BEGIN();
  rc = msvc__token_verify(&svc->token, token, len, msvc__realtime_ms() / 1000,
                          &t);
  if (rc == 0)
    rc = claims_from_token(&t, out);
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
