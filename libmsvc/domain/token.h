/* token.h - JSON Web Tokens for users and services (internal).
 *
 * User tokens carry {"id","name","email","iat","exp"}, exactly what the
 * seed's jsonwebtoken-based service signs (plus "sid" and "jti" for a
 * session's tokens), under the keyring's algorithm with the header
 * {"alg","typ":"JWT","kid"}; under HS256 they pass both ways with the
 * seed's tokens (a token without kid is accepted).  Service tokens carry
 * {"svc","iat","exp"} and no "id", always HS256 with the service secret;
 * they let one of our services call another and are never accepted where
 * a user is required.  Verification pins the algorithm, checks the
 * signature and requires an "exp" in the future (libjwt 1.10 checks
 * neither algorithm nor expiry by itself; token.c uses it only to parse).
 * The handle's msvc_authenticate/msvc_service_token are the public face of
 * this module.
 */
#ifndef MSVC_DOMAIN_TOKEN_H
#define MSVC_DOMAIN_TOKEN_H

#include "domain/keys.h"
#include "internal.h"

#define MSVC_TOKEN_MAX_BYTES 4096
#define MSVC_TOKEN_DEFAULT_TTL 3600 /* seconds; the seed used 365 days */

typedef struct msvc_token_config {
  msvc__keyring_t *keys;               /* user tokens; borrowed */
  const unsigned char *service_secret; /* HS256 key of service tokens */
  size_t service_secret_len;           /* at least 1 */
  int64_t ttl;                         /* seconds, > 0 */
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
  char sid[MSVC_ID_SIZE]; /* user tokens of a session; "" */
  char jti[64];           /* "" when absent */
} msvc__token_claims_t;

/* Signs a user token valid from now_s (seconds) for cfg->ttl seconds with
 * the ring's newest key (header kid), carrying "sid" and "jti" when given
 * (NULL: left out, as the seed's tokens).  *out is the compact JWT,
 * freed with free(). */
int msvc__token_issue_user(const msvc_token_config_t *cfg,
                           const msvc_user_t *user, const char *sid,
                           const char *jti, int64_t now_s, char **out);

/* Signs a service token naming `service` (1..63 bytes), HS256 with the
 * service secret. */
int msvc__token_issue_service(const msvc_token_config_t *cfg,
                              const char *service, int64_t now_s, char **out);

/* Verifies a compact JWT of len bytes at now_s.  0 and *out filled;
 * MSVC_EKEY for a well-formed token whose kid the ring does not know;
 * MSVC_ETOKEN for anything else wrong with it (malformed, another
 * algorithm than the ring's for user tokens or HS256 for service tokens,
 * bad signature, expired, missing or ill-typed claims). */
int msvc__token_verify(const msvc_token_config_t *cfg, const char *token,
                       size_t len, int64_t now_s, msvc__token_claims_t *out);

#endif
