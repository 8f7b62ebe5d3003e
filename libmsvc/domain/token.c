/* token.c - issuing and verifying HS256 JWTs with libjwt 1.10.
 *
 * libjwt checks the signature but neither pins the algorithm nor looks at
 * "exp", and with a NULL key it skips the signature altogether; so a token
 * is accepted here only when: it is at most MSVC_TOKEN_MAX_BYTES of
 * base64url in three non-empty parts, jwt_decode with the (never NULL)
 * secret succeeds, jwt_get_alg() says HS256, and the claims have the
 * expected JSON types, with an "exp" later than now.  A token with an "id"
 * is a user token (id, name, email strings; a "svc" claim is refused); one
 * without is a service token ("svc" string).  Verification copies the token
 * into a stack buffer and reads the claims through libjwt's getters, so
 * the common path allocates nothing beyond what jwt_decode itself does.
 */
#include <errno.h>
#include <jwt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "domain/token.h"

static int config_ok(const msvc_token_config_t *cfg) {
  return cfg != NULL && cfg->secret != NULL && cfg->secret_len >= 1 &&
         cfg->secret_len <= INT_MAX && cfg->ttl > 0;
}

/* ---- issuing ------------------------------------------------------------ */

/* A fresh HS256 token object carrying "iat" and "exp"; libjwt adds the
 * header {"alg":"HS256","typ":"JWT"} when encoding. */
static int token_start(const msvc_token_config_t *cfg, int64_t now_s,
                       jwt_t **out) {
  jwt_t *jwt = NULL;
  /* libjwt stores numbers as long. */
  if (now_s < 0 || cfg->ttl > LONG_MAX - now_s)
    return MSVC_EINVAL;
  if (jwt_new(&jwt) != 0)
    return MSVC_ENOMEM;
  if (jwt_set_alg(jwt, JWT_ALG_HS256, cfg->secret, (int)cfg->secret_len) ||
      jwt_add_grant_int(jwt, "iat", (long)now_s) ||
      jwt_add_grant_int(jwt, "exp", (long)(now_s + cfg->ttl))) {
    jwt_free(jwt);
    return MSVC_ENOMEM;
  }
  *out = jwt;
  return 0;
}

/* Encodes and frees jwt; *out is malloc'd by libjwt, so msvc_free works. */
static int token_finish(jwt_t *jwt, char **out) {
  *out = jwt_encode_str(jwt);
  jwt_free(jwt);
  return *out != NULL ? 0 : MSVC_ENOMEM;
}

/* Only claims that our own verifier would accept are ever signed. */
static int user_claims_ok(const msvc_user_t *user) {
  msvc__token_claims_t *c = NULL;
  return user != NULL && msvc_id_valid(user->id, strlen(user->id)) &&
         user->name != NULL && strlen(user->name) < sizeof(c->name) &&
         user->email != NULL && strlen(user->email) < sizeof(c->email);
}

int msvc__token_issue_user(const msvc_token_config_t *cfg,
                           const msvc_user_t *user, int64_t now_s, char **out) {
  jwt_t *jwt;
  int rc;
  if (out == NULL)
    return MSVC_EINVAL;
  *out = NULL;
  if (!config_ok(cfg) || !user_claims_ok(user))
    return MSVC_EINVAL;
  rc = token_start(cfg, now_s, &jwt);
  if (rc != 0)
    return rc;
  /* jansson refuses strings that are not valid UTF-8: that is EINVAL. */
  if (jwt_add_grant(jwt, "id", user->id) != 0 ||
      jwt_add_grant(jwt, "name", user->name) != 0 ||
      jwt_add_grant(jwt, "email", user->email) != 0) {
    jwt_free(jwt);
    return MSVC_EINVAL;
  }
  return token_finish(jwt, out);
}

int msvc__token_issue_service(const msvc_token_config_t *cfg,
                              const char *service, int64_t now_s, char **out) {
  msvc__token_claims_t *c = NULL;
  size_t len;
  jwt_t *jwt;
  int rc;
  if (out == NULL)
    return MSVC_EINVAL;
  *out = NULL;
  len = service != NULL ? strlen(service) : 0;
  if (!config_ok(cfg) || len == 0 || len >= sizeof(c->service))
    return MSVC_EINVAL;
  rc = token_start(cfg, now_s, &jwt);
  if (rc != 0)
    return rc;
  if (jwt_add_grant(jwt, "svc", service) != 0) {
    jwt_free(jwt);
    return MSVC_EINVAL;
  }
  return token_finish(jwt, out);
}

/* ---- verifying ---------------------------------------------------------- */

static int is_base64url(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Three non-empty base64url parts separated by two dots: anything else is
 * refused before libjwt and its base64 decoder see it. */
static int token_shape_ok(const char *t, size_t len) {
  size_t part = 0;
  int dots = 0;
  for (size_t i = 0; i < len; i++) {
    if (t[i] == '.') {
      if (part == 0 || ++dots > 2)
        return 0;
      part = 0;
    } else if (is_base64url((unsigned char)t[i])) {
      part++;
    } else {
      return 0;
    }
  }
  return dots == 2 && part > 0;
}

/* 1 when the claim is absent: jwt_get_grant() sets ENOENT only for a
 * missing claim (a claim that is not a string leaves errno alone). */
static int claim_absent(jwt_t *jwt, const char *name) {
  errno = 0;
  return jwt_get_grant(jwt, name) == NULL && errno == ENOENT;
}

/* Copies a string claim into dst[size]; -1 when it is missing, not a
 * string, or too long. */
static int claim_string(jwt_t *jwt, const char *name, char *dst, size_t size) {
  const char *v = jwt_get_grant(jwt, name);
  if (v == NULL)
    return -1;
  return msvc__strlcpy(dst, v, size);
}

/* The rare case of a numeric claim that jwt_get_grant_int() reads as 0:
 * a real 0, a non-integer number (rounded down), or another JSON type,
 * which is told apart by the claim's own JSON text.  strtod follows
 * LC_NUMERIC: under a locale with a decimal comma a fractional claim is
 * refused, which errs on the safe side. */
static int claim_number_slow(jwt_t *jwt, const char *name, int64_t *out) {
  char *text = jwt_get_grants_json(jwt, name);
  char *end;
  double d;
  int rc = -1;
  if (text == NULL)
    return -1;
  /* jansson writes a number as JSON does: a digit or '-' comes first. */
  if (text[0] == '-' || (text[0] >= '0' && text[0] <= '9')) {
    d = strtod(text, &end);
    /* The range test also refuses NaN and infinities. */
    if (*end == '\0' && d >= -9.2e18 && d <= 9.2e18) {
      *out = (int64_t)d;
      if ((double)*out > d)
        (*out)--;
      rc = 0;
    }
  }
  free(text);
  return rc;
}

/* Reads a numeric claim; -1 when it is missing or not a number. */
static int claim_number(jwt_t *jwt, const char *name, int64_t *out) {
  long v;
  errno = 0; /* jwt_get_grant_int() sets errno on failure, never clears it */
  v = jwt_get_grant_int(jwt, name);
  if (errno != 0)
    return -1;
  if (v != 0) {
    *out = v;
    return 0;
  }
  return claim_number_slow(jwt, name, out);
}

static int read_user_claims(jwt_t *jwt, msvc__token_claims_t *c) {
  if (claim_string(jwt, "id", c->id, sizeof(c->id)) != 0 ||
      !msvc_id_valid(c->id, strlen(c->id)) ||
      claim_string(jwt, "name", c->name, sizeof(c->name)) != 0 ||
      claim_string(jwt, "email", c->email, sizeof(c->email)) != 0 ||
      !claim_absent(jwt, "svc"))
    return -1;
  msvc__ascii_lower(c->id);
  c->kind = MSVC_CALLER_USER;
  return 0;
}

static int read_service_claims(jwt_t *jwt, msvc__token_claims_t *c) {
  if (claim_string(jwt, "svc", c->service, sizeof(c->service)) != 0 ||
      c->service[0] == '\0')
    return -1;
  c->kind = MSVC_CALLER_SERVICE;
  return 0;
}

static int read_claims(jwt_t *jwt, int64_t now_s, msvc__token_claims_t *c) {
  if (claim_number(jwt, "iat", &c->iat) != 0 ||
      claim_number(jwt, "exp", &c->exp) != 0 || now_s >= c->exp)
    return -1;
  return claim_absent(jwt, "id") ? read_service_claims(jwt, c)
                                 : read_user_claims(jwt, c);
}

int msvc__token_verify(const msvc_token_config_t *cfg, const char *token,
                       size_t len, int64_t now_s, msvc__token_claims_t *out) {
  char copy[MSVC_TOKEN_MAX_BYTES + 1];
  jwt_t *jwt = NULL;
  int rc = MSVC_ETOKEN;
  if (!config_ok(cfg) || out == NULL)
    return MSVC_EINVAL;
  memset(out, 0, sizeof(*out));
  if (token == NULL || len > MSVC_TOKEN_MAX_BYTES ||
      !token_shape_ok(token, len))
    return MSVC_ETOKEN;
  memcpy(copy, token, len);
  copy[len] = '\0';
  /* Never a NULL key: libjwt would then skip the signature check. */
  if (jwt_decode(&jwt, copy, cfg->secret, (int)cfg->secret_len) != 0)
    return MSVC_ETOKEN;
  if (jwt_get_alg(jwt) == JWT_ALG_HS256 && read_claims(jwt, now_s, out) == 0)
    rc = 0;
  jwt_free(jwt);
  if (rc != 0)
    memset(out, 0, sizeof(*out));
  return rc;
}
