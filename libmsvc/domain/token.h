/* token.h - HS256 JSON Web Tokens through libjwt (internal).
 *
 * User tokens carry {"id","name","email","iat","exp"}, exactly what the
 * seed's jsonwebtoken-based service signs, so tokens pass both ways under
 * one secret.  Service tokens carry {"svc","iat","exp"} and no "id"; they
 * let one of our services call another and are never accepted where a user
 * is required.  Verification pins HS256, checks the signature and requires
 * an "exp" in the future (libjwt 1.10 checks neither algorithm nor expiry by
 * itself).  The handle's msvc_authenticate/msvc_service_token are the public
 * face of this module.
 */
#ifndef MSVC_DOMAIN_TOKEN_H
#define MSVC_DOMAIN_TOKEN_H

#include "internal.h"

#define MSVC_TOKEN_MAX_BYTES 4096
#define MSVC_TOKEN_DEFAULT_TTL 3600 /* seconds; the seed used 365 days */

typedef struct msvc_token_config {
  const unsigned char *secret; /* borrowed; must outlive every use */
  size_t secret_len;           /* at least 1 */
  int64_t ttl;                 /* seconds, > 0 */
} msvc_token_config_t;

/* Verified claims, in fixed buffers so that verifying allocates nothing.
 * Tokens whose name or email do not fit are rejected. */
typedef struct msvc__token_claims {
  msvc_caller_kind_t kind;
  char id[MSVC_ID_SIZE]; /* user tokens */
  char name[512];        /* user tokens */
  char email[256];       /* user tokens */
  char service[64];      /* service tokens */
  int64_t iat;
  int64_t exp;
} msvc__token_claims_t;

/* Signs a user token valid from now_s (seconds) for cfg->ttl seconds.
 * *out is the compact JWT, freed by the caller with msvc_free(). */
int msvc__token_issue_user(const msvc_token_config_t *cfg,
                           const msvc_user_t *user, int64_t now_s, char **out);

/* Signs a service token naming `service` (1..63 bytes). */
int msvc__token_issue_service(const msvc_token_config_t *cfg,
                              const char *service, int64_t now_s, char **out);

/* Verifies a compact JWT of len bytes at now_s.  0 and *out filled, or
 * MSVC_ETOKEN for anything wrong with it (malformed, other algorithm, bad
 * signature, expired, missing or ill-typed claims). */
int msvc__token_verify(const msvc_token_config_t *cfg, const char *token,
                       size_t len, int64_t now_s, msvc__token_claims_t *out);

#endif
