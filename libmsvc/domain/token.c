/* token.c - issuing and verifying JWTs: user tokens under the keyring's
 * algorithm (HS256, ES256 or RS256), service tokens under HS256 with the
 * service secret.
 *
 * libjwt 1.10 does the JSON (jansson: claims in, claims out) and nothing
 * else; signatures are the keyring's (OpenSSL).  The reasons: libjwt
 * reparses a PEM key on every call, cannot tell us which key a header
 * names, and verifies under whatever algorithm the header claims.  So:
 * - Issuing: libjwt serialises the claims (jwt_get_grants_json, the very
 *   text jwt_encode_str would sign); the header {"alg","typ":"JWT","kid"}
 *   is written here (kids need no escaping, see keys.h); the signature
 *   comes from the keyring or, for service tokens, HMAC-SHA-256 with the
 *   service secret.  A token our verifier would refuse is never issued.
 * - Verifying: the token must be at most MSVC_TOKEN_MAX_BYTES of base64url
 *   in three non-empty parts with a canonical signature part; jwt_decode
 *   with a NULL key then only parses it (it checks nothing with a NULL key,
 *   so nothing it says is trusted until our own signature check passes).
 *   A token with an "id" is a user token (id, name, email strings, no
 *   "svc"): its "alg" must be the ring's, its kid the ring's (none is fine
 *   under HS256, as in the seed's tokens) and its signature valid.  One
 *   without is a service token ("svc" string): "alg" must be HS256 and the
 *   MAC the service secret's, whatever the user algorithm, so a token
 *   signed with a public key's bytes or the user secret never passes where
 *   the other is expected.  "iat" and "exp" are numbers, "exp" later than
 *   now.  The claims are checked before the signature, so that MSVC_EKEY
 *   (which makes a post service refetch the JWK Set) only comes back for a
 *   token that would otherwise be accepted.
 * Verification copies the token into a stack buffer and reads the claims
 * through libjwt's getters; beyond jwt_decode's own work it allocates
 * nothing.
 */
#include <errno.h>
#include <jwt.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/digest.h"
#include "domain/token.h"

#define SIG_MAX_BYTES 1024 /* RSA 8192: the largest key a ring takes */
#define KID_HEX 16         /* HS256 kid: hex digits of SHA-256(secret) */

static int config_ok(const msvc_token_config_t *cfg) {
  return cfg != NULL && cfg->keys != NULL && cfg->service_secret != NULL &&
         cfg->service_secret_len >= 1 && cfg->service_secret_len <= INT_MAX &&
         cfg->ttl > 0;
}

/* The kid of the service secret, as the keyring names an HS256 secret. */
static void service_kid(const msvc_token_config_t *cfg, char kid[KID_HEX + 1]) {
  char hex[MSVC_HASH_SIZE];
  msvc__sha256_hex(cfg->service_secret, cfg->service_secret_len, hex);
  memcpy(kid, hex, KID_HEX);
  kid[KID_HEX] = '\0';
}

/* ---- issuing ------------------------------------------------------------ */

/* A fresh claims object carrying "iat" and "exp". */
static int token_start(const msvc_token_config_t *cfg, int64_t now_s,
                       jwt_t **out) {
  jwt_t *jwt = NULL;
  /* libjwt stores numbers as long. */
  if (now_s < 0 || cfg->ttl > LONG_MAX - now_s)
    return MSVC_EINVAL;
  if (jwt_new(&jwt) != 0)
    return MSVC_ENOMEM;
  if (jwt_add_grant_int(jwt, "iat", (long)now_s) ||
      jwt_add_grant_int(jwt, "exp", (long)(now_s + cfg->ttl))) {
    jwt_free(jwt);
    return MSVC_ENOMEM;
  }
  *out = jwt;
  return 0;
}

/* base64url(header) "." base64url(claims of jwt), malloc'd with room for
 * a signature of up to SIG_MAX_BYTES after it. */
static int signing_input(jwt_t *jwt, const char *alg, const char *kid,
                         char **out, size_t *len) {
  char header[64 + MSVC__KID_MAX];
  char *claims = jwt_get_grants_json(jwt, NULL);
  size_t hlen, clen, n;
  char *buf;
  if (claims == NULL)
    return MSVC_ENOMEM;
  hlen = (size_t)snprintf(header, sizeof(header),
                          "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
                          alg, kid);
  clen = strlen(claims);
  buf = malloc((4 * (hlen + clen + SIG_MAX_BYTES) + 2) / 3 + 8);
  if (buf == NULL) {
    free(claims);
    return MSVC_ENOMEM;
  }
  n = msvc__base64url_encode(header, hlen, buf);
  buf[n++] = '.';
  n += msvc__base64url_encode(claims, clen, buf + n);
  free(claims);
  *out = buf;
  *len = n;
  return 0;
}

/* Appends "." and the signature; refuses a token too long to verify. */
static int token_append_sig(char *token, size_t len, const char *sig,
                            char **out) {
  size_t slen = strlen(sig);
  if (len + 1 + slen > MSVC_TOKEN_MAX_BYTES) {
    free(token);
    return MSVC_EINVAL;
  }
  token[len] = '.';
  memcpy(token + len + 1, sig, slen + 1);
  *out = token;
  return 0;
}

/* Signs a user token with the ring's newest key; frees jwt. */
static int finish_user(const msvc_token_config_t *cfg, jwt_t *jwt, char **out) {
  msvc__keyring_t *kr = cfg->keys;
  const char *kid = NULL;
  char *input = NULL, *sig = NULL;
  size_t len = 0;
  int rc = msvc__keyring_signing_kid(kr, &kid);
  if (rc == 0)
    rc = signing_input(jwt, msvc__alg_name(msvc__keyring_alg(kr)), kid, &input,
                       &len);
  jwt_free(jwt);
  if (rc == 0)
    rc = msvc__keyring_sign(kr, kid, input, len, &sig);
  if (rc == 0)
    rc = token_append_sig(input, len, sig, out);
  else
    free(input);
  free(sig);
  return rc;
}

/* Signs a service token, HS256 with the service secret; frees jwt. */
static int finish_service(const msvc_token_config_t *cfg, jwt_t *jwt,
                          char **out) {
  unsigned char mac[MSVC__SHA256_LEN];
  char kid[KID_HEX + 1], sig[64];
  char *input = NULL;
  size_t len = 0;
  int rc;
  service_kid(cfg, kid);
  rc = signing_input(jwt, "HS256", kid, &input, &len);
  jwt_free(jwt);
  if (rc == 0)
    rc = msvc__hmac_sha256(cfg->service_secret, cfg->service_secret_len, input,
                           len, mac);
  if (rc != 0) {
    free(input);
    return rc;
  }
  msvc__base64url_encode(mac, sizeof(mac), sig);
  return token_append_sig(input, len, sig, out);
}

/* Only claims that our own verifier would accept are ever signed. */
static int user_claims_ok(const msvc_user_t *user, const char *sid,
                          const char *jti) {
  msvc__token_claims_t *c = NULL;
  return user != NULL && msvc_id_valid(user->id, strlen(user->id)) &&
         user->name != NULL && strlen(user->name) < sizeof(c->name) &&
         user->email != NULL && strlen(user->email) < sizeof(c->email) &&
         (sid == NULL || sid[0] == '\0' || msvc_id_valid(sid, strlen(sid))) &&
         (jti == NULL || strlen(jti) < sizeof(c->jti));
}

/* Adds a string claim unless value is NULL or ""; jansson refuses strings
 * that are not valid UTF-8, which is MSVC_EINVAL. */
static int add_optional(jwt_t *jwt, const char *name, const char *value) {
  if (value == NULL || value[0] == '\0')
    return 0;
  return jwt_add_grant(jwt, name, value) == 0 ? 0 : MSVC_EINVAL;
}

int msvc__token_issue_user(const msvc_token_config_t *cfg,
                           const msvc_user_t *user, const char *sid,
                           const char *jti, int64_t now_s, char **out) {
  jwt_t *jwt;
  int rc;
  if (out == NULL)
    return MSVC_EINVAL;
  *out = NULL;
  if (!config_ok(cfg) || !user_claims_ok(user, sid, jti))
    return MSVC_EINVAL;
  rc = token_start(cfg, now_s, &jwt);
  if (rc != 0)
    return rc;
  if (jwt_add_grant(jwt, "id", user->id) != 0 ||
      jwt_add_grant(jwt, "name", user->name) != 0 ||
      jwt_add_grant(jwt, "email", user->email) != 0 ||
      add_optional(jwt, "sid", sid) != 0 ||
      add_optional(jwt, "jti", jti) != 0) {
    jwt_free(jwt);
    return MSVC_EINVAL;
  }
  return finish_user(cfg, jwt, out);
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
  return finish_service(cfg, jwt, out);
}

/* ---- the token's text --------------------------------------------------- */

static int is_base64url(unsigned char c) {
  return msvc__base64url_value((char)c) >= 0;
}

/* Three non-empty base64url parts separated by two dots: anything else is
 * refused before libjwt and its base64 decoder see it.  *signed_len is
 * the length of header.payload, what the signature covers. */
static int token_shape_ok(const char *t, size_t len, size_t *signed_len) {
  size_t part = 0;
  int dots = 0;
  for (size_t i = 0; i < len; i++) {
    if (t[i] == '.') {
      if (part == 0 || ++dots > 2)
        return 0;
      part = 0;
      *signed_len = i;
    } else if (is_base64url((unsigned char)t[i])) {
      part++;
    } else {
      return 0;
    }
  }
  return dots == 2 && part > 0;
}

/* Decodes the signature part; -1 unless it is the canonical unpadded
 * base64url of at most SIG_MAX_BYTES (no stray low bits, as jsonwebtoken
 * and libjwt both compare the text). */
static int sig_decode(const char *s, size_t len, unsigned char *out,
                      size_t *outlen) {
  uint32_t acc = 0;
  size_t n = 0;
  int bits = 0;
  if (len % 4 == 1) /* no whole byte in the last character */
    return -1;
  for (size_t i = 0; i < len; i++) {
    acc = (acc << 6) | (uint32_t)msvc__base64url_value(s[i]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n == SIG_MAX_BYTES)
        return -1;
      out[n++] = (unsigned char)(acc >> bits);
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0)
    return -1;
  *outlen = n;
  return 0;
}

/* ---- claims ------------------------------------------------------------- */

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

/* An optional string claim: "" when absent, -1 when present but not a
 * string or too long. */
static int claim_optional(jwt_t *jwt, const char *name, char *dst,
                          size_t size) {
  dst[0] = '\0';
  if (claim_absent(jwt, name))
    return 0;
  return claim_string(jwt, name, dst, size);
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
      !claim_absent(jwt, "svc") ||
      claim_optional(jwt, "sid", c->sid, sizeof(c->sid)) != 0 ||
      (c->sid[0] != '\0' && !msvc_id_valid(c->sid, strlen(c->sid))) ||
      claim_optional(jwt, "jti", c->jti, sizeof(c->jti)) != 0)
    return -1;
  msvc__ascii_lower(c->id);
  msvc__ascii_lower(c->sid);
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

/* ---- verifying ---------------------------------------------------------- */

/* The header's kid: NULL when absent; -1 when it is not a string or
 * longer than any kid we accept. */
static int header_kid(jwt_t *jwt, const char **kid) {
  errno = 0;
  *kid = jwt_get_header(jwt, "kid");
  if (*kid == NULL)
    return errno == ENOENT ? 0 : -1;
  return strnlen(*kid, MSVC__KID_MAX + 1) <= MSVC__KID_MAX ? 0 : -1;
}

static int verify_service(const msvc_token_config_t *cfg, const char *alg,
                          const char *kid, const char *input, size_t len,
                          const unsigned char *sig, size_t siglen) {
  unsigned char mac[MSVC__SHA256_LEN];
  char want[KID_HEX + 1];
  if (strcmp(alg, "HS256") != 0)
    return MSVC_ETOKEN;
  if (kid != NULL) { /* the service secret is not a ring key: no EKEY */
    service_kid(cfg, want);
    if (strcmp(kid, want) != 0)
      return MSVC_ETOKEN;
  }
  if (msvc__hmac_sha256(cfg->service_secret, cfg->service_secret_len, input,
                        len, mac) != 0 ||
      siglen != sizeof(mac) || CRYPTO_memcmp(mac, sig, siglen) != 0)
    return MSVC_ETOKEN;
  return 0;
}

/* Everything about a parsed token but its shape. */
static int check_token(const msvc_token_config_t *cfg, jwt_t *jwt,
                       const char *input, size_t len, const unsigned char *sig,
                       size_t siglen, int64_t now_s,
                       msvc__token_claims_t *out) {
  const char *alg = jwt_get_header(jwt, "alg");
  const char *kid = NULL;
  if (alg == NULL || header_kid(jwt, &kid) != 0 ||
      read_claims(jwt, now_s, out) != 0)
    return MSVC_ETOKEN;
  if (out->kind == MSVC_CALLER_SERVICE)
    return verify_service(cfg, alg, kid, input, len, sig, siglen);
  /* Pinned: "none", HS256 on an ES256 ring (a MAC keyed with the public
   * key's bytes), another RSA/EC algorithm all stop here. */
  if (strcmp(alg, msvc__alg_name(msvc__keyring_alg(cfg->keys))) != 0)
    return MSVC_ETOKEN;
  return msvc__keyring_verify(cfg->keys, kid, input, len, sig, siglen);
}

int msvc__token_verify(const msvc_token_config_t *cfg, const char *token,
                       size_t len, int64_t now_s, msvc__token_claims_t *out) {
  char copy[MSVC_TOKEN_MAX_BYTES + 1];
  unsigned char sig[SIG_MAX_BYTES];
  size_t signed_len = 0, siglen = 0;
  jwt_t *jwt = NULL;
  int rc;
  if (!config_ok(cfg) || out == NULL)
    return MSVC_EINVAL;
  memset(out, 0, sizeof(*out));
  if (token == NULL || len > MSVC_TOKEN_MAX_BYTES ||
      !token_shape_ok(token, len, &signed_len) ||
      sig_decode(token + signed_len + 1, len - signed_len - 1, sig, &siglen) !=
          0)
    return MSVC_ETOKEN;
  memcpy(copy, token, len);
  copy[len] = '\0';
  /* A NULL key: libjwt only parses; check_token verifies. */
  if (jwt_decode(&jwt, copy, NULL, 0) != 0)
    return MSVC_ETOKEN;
  rc = check_token(cfg, jwt, copy, signed_len, sig, siglen, now_s, out);
  jwt_free(jwt);
  if (rc != 0)
    memset(out, 0, sizeof(*out));
  return rc;
}
